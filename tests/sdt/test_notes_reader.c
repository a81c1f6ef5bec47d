/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Note reader against independent readers: for every fixture (and a few
 * system objects when present) the probes read by usdt_notes must equal
 * what binutils' readelf prints, field by field and in order; file
 * offsets are recomputed with libelf's view of the program headers and
 * checked to land on the probe's nop; symbols match libelf's symbol table.
 * Synthetic objects cover what the toolchain does not produce here: a
 * prelinked .stapsdt.base, a .dynsym-only object.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/stapsdt.h>

#include "readelf_notes.h"
#include "test_notes_elf.h"

static const char *const fixtures[] = {
	"fx-sdt-basic",	   "fx-pie",	     "fx-semaphore", "fx-multiloc", "libfx-shared.so",
	"fx-asm-operands", "fx-shared-user", "fx-usdt-c",    "fx-usdt-cxx",
};

/* Built by tests/sdt/header.cmake (another part); compared when present. */
static const char *const other_fixtures[] = {
	"fx-hdr-c", "fx-hdr-c-O0", "fx-hdr-twin-typed", "fx-hdr-twin-plain", "fx-hdr-cxx",
};

/* Real-world objects compared too when installed (skipped with a note otherwise). */
static const char *const system_objects[] = {
	"/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
	"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
	"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
};

static char *fixture_path(const char *name)
{
	const char *dir = getenv("USDTKIT_BUILD_DIR");
	char *path;

	assert_non_null(dir);
	assert_true(asprintf(&path, "%s/tests/fixtures/%s", dir, name) > 0);
	return path;
}

static uint8_t *slurp(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, st.st_size, 0), st.st_size);
	close(fd);
	*size = st.st_size;
	return buf;
}

/* libelf's answer: vaddr → file offset through PT_LOAD, or UINT64_MAX. */
static uint64_t libelf_offset(Elf *elf, uint64_t vaddr)
{
	size_t n;

	assert_int_equal(elf_getphdrnum(elf, &n), 0);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		assert_non_null(gelf_getphdr(elf, (int)i, &ph));
		if (ph.p_type == PT_LOAD && vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
			return vaddr - ph.p_vaddr + ph.p_offset;
	}
	return UINT64_MAX;
}

/* libelf's answer: a defined symbol's value from .symtab, then .dynsym. */
static int libelf_symbol(Elf *elf, const char *name, uint64_t *value)
{
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			Elf_Data *data;
			gelf_getshdr(scn, &sh);
			if (sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB))
				continue;
			data = elf_getdata(scn, NULL);
			for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym sym;
				const char *s;
				gelf_getsym(data, (int)i, &sym);
				s = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (s && sym.st_shndx != SHN_UNDEF && !strcmp(s, name)) {
					*value = sym.st_value;
					return 0;
				}
			}
		}
	}
	return -ENOENT;
}

static bool is_nop_at(const uint8_t *img, size_t size, uint64_t off)
{
	static const uint8_t nop5[] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

	if (off >= size)
		return false;
	if (img[off] == 0x90)
		return true;
	return off + 5 <= size && !memcmp(img + off, nop5, 5);
}

/*
 * The whole comparison for one object: readelf's probes == ours, offsets
 * == libelf's, each pc on a nop, each semaphore a real 2-byte symbol.
 * Returns the number of probes.
 */
static size_t compare_object(const char *path, bool expect_nops)
{
	struct readelf_note *want;
	size_t nwant, size;
	struct usdt_notes *n;
	uint8_t *img;
	Elf *elf;
	int fd, err;

	err = readelf_notes_read(path, &want, &nwant);
	if (err)
		fail_msg("readelf on %s: %s", path, strerror(-err));
	n = usdt_notes__open_path(path, NULL);
	if (!n)
		fail_msg("usdt_notes__open_path(%s): %s", path, strerror(errno));
	img = slurp(path, &size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);

	assert_int_equal(usdt_notes__count(n), nwant);
	for (size_t i = 0; i < nwant; i++) {
		const struct usdt_note *note = usdt_notes__get(n, i);
		const struct readelf_note *w = &want[i];

		assert_non_null(note);
		assert_string_equal(note->provider, w->provider);
		assert_string_equal(note->name, w->name);
		assert_string_equal(note->args, w->args);
		assert_int_equal(note->pc, w->location);
		assert_int_equal(note->base, w->base);
		assert_int_equal(note->semaphore, w->semaphore);
		assert_string_equal(w->section, ".note.stapsdt");

		/* toolchain output is never prelinked: no adjustment */
		assert_int_equal(note->pc_addr, note->pc);
		assert_int_equal(note->sema_addr, note->semaphore);
		assert_int_equal(note->pc_offset, libelf_offset(elf, note->pc_addr));
		assert_true(note->pc_offset != USDT_NO_OFFSET);
		if (expect_nops && !is_nop_at(img, size, note->pc_offset))
			fail_msg("%s: %s:%s pc %#llx (offset %#llx) is not on a nop", path,
				 note->provider, note->name, (unsigned long long)note->pc,
				 (unsigned long long)note->pc_offset);
		if (note->semaphore) {
			char sym[600];
			uint64_t v1 = 0, v2 = 0;

			assert_int_equal(note->sema_offset, libelf_offset(elf, note->sema_addr));
			assert_true(note->sema_offset != USDT_NO_OFFSET);
			/* an unsigned short counter, 0 in the file */
			assert_true(note->sema_offset + 2 <= size);
			assert_int_equal(img[note->sema_offset] | img[note->sema_offset + 1], 0);
			/* sys/sdt.h and usdtkit/sdt.h name it provider_name_semaphore */
			snprintf(sym, sizeof(sym), "%s_%s_semaphore", note->provider, note->name);
			if (libelf_symbol(elf, sym, &v1) == 0) {
				assert_int_equal(usdt_notes__symbol(n, sym, &v2), 0);
				assert_int_equal(v1, v2);
				assert_int_equal(v2, note->sema_addr);
			}
		} else {
			assert_int_equal(note->sema_offset, USDT_NO_OFFSET);
		}
	}

	/* header facts agree with libelf */
	GElf_Ehdr eh;
	assert_non_null(gelf_getehdr(elf, &eh));
	assert_int_equal(usdt_notes__elf_type(n), eh.e_type);
	assert_int_equal(usdt_notes__is_64bit(n), gelf_getclass(elf) == ELFCLASS64);
	assert_int_equal(usdt_notes__is_big_endian(n), eh.e_ident[EI_DATA] == ELFDATA2MSB);
	if (eh.e_machine == EM_X86_64)
		assert_int_equal(usdt_notes__arch(n), USDT_ARCH_X86_64);

	elf_end(elf);
	close(fd);
	free(img);
	free(want);
	usdt_notes__free(n);
	return nwant;
}

static void test_fixtures_match_readelf(void **state)
{
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		char *path = fixture_path(fixtures[i]);
		size_t count;

		if (access(path, R_OK) != 0) {
			/* fx-usdt-* only exist when usdtkit/sdt.h does; the rest always */
			if (!strncmp(fixtures[i], "fx-usdt", 7)) {
				printf("# %s not built, not compared\n", fixtures[i]);
				free(path);
				continue;
			}
			fail_msg("fixture %s missing", path);
		}
		count = compare_object(path, true);
		/* every fixture but the probe-less user program has probes */
		if (strcmp(fixtures[i], "fx-shared-user"))
			assert_true(count > 0);
		printf("# %-16s %3zu probes match readelf\n", fixtures[i], count);
		free(path);
	}
}

static void test_other_fixtures_match_readelf(void **state)
{
	for (size_t i = 0; i < sizeof(other_fixtures) / sizeof(other_fixtures[0]); i++) {
		char *path = fixture_path(other_fixtures[i]);

		if (access(path, R_OK) != 0) {
			printf("# %s not built, not compared\n", other_fixtures[i]);
		} else {
			size_t count = compare_object(path, true);
			assert_true(count > 0);
			printf("# %-16s %3zu probes match readelf\n", other_fixtures[i], count);
		}
		free(path);
	}
}

static void test_system_objects_match_readelf(void **state)
{
	for (size_t i = 0; i < sizeof(system_objects) / sizeof(system_objects[0]); i++) {
		if (access(system_objects[i], R_OK) != 0) {
			printf("# %s not installed, not compared\n", system_objects[i]);
			continue;
		}
		/* other compilers' probe sites need not be single nops */
		size_t count = compare_object(system_objects[i], false);
		printf("# %s: %zu probes match readelf\n", system_objects[i], count);
	}
}

/* The expected probe set of fx-multiloc: several locations of one name, file order kept. */
static void test_multiple_locations(void **state)
{
	char *path = fixture_path("fx-multiloc");
	struct usdt_notes *n = usdt_notes__open_path(path, NULL);
	size_t steps = 0, edges = 0;
	uint64_t last_pc = 0;

	assert_non_null(n);
	for (size_t i = 0; i < usdt_notes__count(n); i++) {
		const struct usdt_note *note = usdt_notes__get(n, i);
		assert_string_equal(note->provider, "fxmulti");
		if (!strcmp(note->name, "step"))
			steps++;
		else if (!strcmp(note->name, "edge"))
			edges++;
		else
			fail_msg("unexpected probe %s", note->name);
		/* distinct locations */
		assert_true(note->pc != last_pc);
		last_pc = note->pc;
	}
	assert_int_equal(steps, 5);
	assert_int_equal(edges, 2);
	usdt_notes__free(n);
	free(path);
}

/*
 * The hand-written operand fixture: every spec of every note parses with
 * its provider's architecture ("fxa64" carries aarch64 text) and prints
 * back to the bytes readelf showed; the unsigned 64-bit constants keep
 * their bit patterns.
 */
static void test_asm_operand_specs(void **state)
{
	char *path = fixture_path("fx-asm-operands");
	struct usdt_notes *n = usdt_notes__open_path(path, NULL);
	size_t notes = 0, specs = 0, u64 = 0;

	assert_non_null(n);
	for (size_t i = 0; i < usdt_notes__count(n); i++) {
		const struct usdt_note *note = usdt_notes__get(n, i);
		enum usdt_arch arch =
			strcmp(note->provider, "fxa64") ? USDT_ARCH_X86_64 : USDT_ARCH_AARCH64;
		struct usdt_arg_spec parsed[USDT_MAX_ARGS];
		struct usdt_parse_error err = {0, NULL};
		char text[USDT_MAX_ARGS * USDT_SPEC_TEXT_MAX] = "";
		size_t off = 0;
		int count = usdt_arg_specs__parse(parsed, USDT_MAX_ARGS, note->args, arch, &err);

		if (count < 0)
			fail_msg("%s:%s '%s': error %d at %zu: %s", note->provider, note->name,
				 note->args, count, err.pos, err.msg);
		for (int j = 0; j < count; j++) {
			int w = usdt_arg_spec__print(&parsed[j], arch, text + off,
						     sizeof(text) - off);

			assert_true(w > 0 && (size_t)w < sizeof(text) - off - 1);
			off += (size_t)w;
			text[off++] = ' ';
			text[off] = '\0';
			if (parsed[j].flags & USDT_SPEC_U64)
				u64++;
		}
		if (off)
			text[off - 1] = '\0';
		assert_string_equal(text, note->args);
		if (!strcmp(note->name, "const_u64")) {
			assert_int_equal(count, 3);
			assert_int_equal(parsed[0].imm, -1);
			assert_int_equal(parsed[1].imm, -1);
			assert_int_equal((uint64_t)parsed[2].imm, 1ull << 63);
		}
		notes++;
		specs += (size_t)count;
	}
	printf("# fx-asm-operands: %zu notes, %zu specs, %zu unsigned 64-bit constants\n", notes,
	       specs, u64);
	assert_true(notes >= 16);
	assert_int_equal(u64, 3);
	usdt_notes__free(n);
	free(path);
}

/* open_path, open_fd and open_mem (unaligned copy) see the same notes. */
static void test_open_variants_agree(void **state)
{
	char *path = fixture_path("fx-semaphore");
	size_t size;
	uint8_t *img = slurp(path, &size);
	uint8_t *odd = malloc(size + 1);
	struct usdt_notes_opts opts = {.sz = sizeof(opts)};
	struct usdt_notes *a, *b, *c;
	int fd;

	assert_non_null(odd);
	memcpy(odd + 1, img, size); /* misaligned, and not NUL-terminated */
	a = usdt_notes__open_path(path, &opts);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	b = usdt_notes__open_fd(fd, NULL);
	close(fd); /* the collection must not depend on our fd */
	c = usdt_notes__open_mem(odd + 1, size, NULL);
	memset(odd, 0, size + 1);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(usdt_notes__count(a), 2);
	assert_int_equal(usdt_notes__count(b), 2);
	assert_int_equal(usdt_notes__count(c), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct usdt_note *x = usdt_notes__get(a, i), *y = usdt_notes__get(b, i),
				       *z = usdt_notes__get(c, i);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->name, z->name);
		assert_string_equal(x->args, z->args);
		assert_int_equal(x->pc_offset, y->pc_offset);
		assert_int_equal(x->pc_offset, z->pc_offset);
		assert_int_equal(x->sema_offset, z->sema_offset);
		assert_true(x->semaphore != 0);
	}
	/* symbols through the lazy (fd) and eager (mem) paths */
	uint64_t v1, v2, v3;
	assert_int_equal(usdt_notes__symbol(a, "fxsema_request_semaphore", &v1), 0);
	assert_int_equal(usdt_notes__symbol(b, "fxsema_request_semaphore", &v2), 0);
	assert_int_equal(usdt_notes__symbol(c, "fxsema_request_semaphore", &v3), 0);
	assert_int_equal(v1, v2);
	assert_int_equal(v1, v3);
	usdt_notes__free(a);
	usdt_notes__free(b);
	usdt_notes__free(c);
	free(odd);
	free(img);
	free(path);
}

static void test_symbols(void **state)
{
	const char *names[] = {"fx-pie", "fx-asm-operands", "libfx-shared.so"};
	const char *syms[][3] = {
		{"fx_pie_function", "fx_pie_data", "main"},
		{"fx_asm_counter", "fx_asm_table", "fx_asm_sema"},
		{"fx_shared_fire", "fx_shared_guarded", "fxlib_call_semaphore"},
	};

	for (int f = 0; f < 3; f++) {
		char *path = fixture_path(names[f]);
		struct usdt_notes *n = usdt_notes__open_path(path, NULL);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
		uint64_t v, want;

		assert_non_null(n);
		assert_non_null(elf);
		/* enough rounds to cover both the scanning and the indexed lookup */
		for (int round = 0; round < 30; round++) {
			for (int s = 0; s < 3; s++) {
				assert_int_equal(libelf_symbol(elf, syms[f][s], &want), 0);
				assert_int_equal(usdt_notes__symbol(n, syms[f][s], &v), 0);
				assert_int_equal(v, want);
				assert_true(v != 0);
			}
		}
		errno = 0;
		assert_int_equal(usdt_notes__symbol(n, "no_such_symbol_here", &v), -ENOENT);
		assert_int_equal(errno, ENOENT);
		/* a prefix of a real name is not a match */
		assert_int_equal(usdt_notes__symbol(n, "fx_", &v), -ENOENT);
		assert_int_equal(usdt_notes__symbol(n, "", &v), -EINVAL);
		assert_int_equal(usdt_notes__symbol(n, NULL, &v), -EINVAL);
		elf_end(elf);
		close(fd);
		usdt_notes__free(n);
		free(path);
	}
}

static void test_object_kinds(void **state)
{
	struct {
		const char *name;
		uint16_t type;
	} k[] = {{"fx-sdt-basic", ET_EXEC}, {"fx-pie", ET_DYN}, {"libfx-shared.so", ET_DYN}};

	for (size_t i = 0; i < 3; i++) {
		char *path = fixture_path(k[i].name);
		struct usdt_notes *n = usdt_notes__open_path(path, NULL);
		uint64_t off;

		assert_non_null(n);
		assert_int_equal(usdt_notes__elf_type(n), k[i].type);
		assert_int_equal(usdt_notes__arch(n), USDT_ARCH_X86_64);
		assert_true(usdt_notes__is_64bit(n));
		assert_false(usdt_notes__is_big_endian(n));
		/* the first probe's address maps, an absurd one does not */
		assert_int_equal(
			usdt_notes__vaddr_to_offset(n, usdt_notes__get(n, 0)->pc_addr, &off), 0);
		assert_int_equal(off, usdt_notes__get(n, 0)->pc_offset);
		assert_int_equal(usdt_notes__vaddr_to_offset(n, 0xffffffff00000000ull, &off),
				 -ENOENT);
		usdt_notes__free(n);
		free(path);
	}
}

/* Typed metadata from usdtkit/sdt.h is joined onto its stapsdt notes. */
static void test_usdt_header_metadata(void **state)
{
	char *path = fixture_path("fx-usdt-c");
	struct usdt_notes *n;
	int seen = 0;

	if (access(path, R_OK) != 0) {
		printf("# fx-usdt-c not built (no usdtkit/sdt.h): metadata join not checked\n");
		free(path);
		return;
	}
	n = usdt_notes__open_path(path, NULL);
	assert_non_null(n);
	for (size_t i = 0; i < usdt_notes__count(n); i++) {
		const struct usdt_note *note = usdt_notes__get(n, i);
		if (!strcmp(note->name, "request")) {
			assert_non_null(note->meta);
			assert_string_equal(note->meta, "path:str size:u64 status:i32");
			seen++;
		} else if (!strcmp(note->name, "typed_zero")) {
			assert_non_null(note->meta);
			assert_string_equal(note->meta, "");
			seen++;
		} else if (!strcmp(note->name, "typed_guarded")) {
			assert_non_null(note->meta);
			assert_string_equal(note->meta, "count:u32");
			assert_true(note->semaphore != 0);
			seen++;
		} else if (!strncmp(note->name, "typed", 5)) {
			assert_non_null(note->meta);
			seen++;
		} else {
			assert_null(note->meta);
		}
	}
	assert_int_equal(seen, 4);
	usdt_notes__free(n);
	free(path);
}

/*
 * A prelinked object: .stapsdt.base now sits 0x10000 above where the notes
 * say it was, so pc and semaphore move by the same amount.
 */
static void check_base_adjust(bool with_base_section, uint64_t note_base)
{
	struct usdt_note_desc d = {"pre", "linked", "8@%rdi", 0x1010, note_base, 0x2000};
	uint8_t note[128], text[0x100], probes[2] = {0};
	ssize_t len = usdt_note__encode(&d, NULL, note, sizeof(note));
	const uint64_t shift = 0x10000;

	assert_true(len > 0);
	memset(text, 0x90, sizeof(text));
	struct synth_sec secs[] = {
		{.name = ".text",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC | SHF_EXECINSTR,
		 .addr = 0x1000 + shift,
		 .data = text,
		 .size = sizeof(text)},
		{.name = ".probes",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC | SHF_WRITE,
		 .addr = 0x2000 + shift,
		 .data = probes,
		 .size = 2},
		{.name = ".note.stapsdt", .type = SHT_NOTE, .data = note, .size = (size_t)len},
		{.name = with_base_section ? ".stapsdt.base" : ".rodata",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC,
		 .addr = 0x3000 + shift,
		 .size = 1},
	};
	struct synth_phdr ph[] = {{.type = PT_LOAD, .sec = 0}, {.type = PT_LOAD, .sec = 1}};
	struct synth_elf e = {.is64 = true, .secs = secs, .nsec = 4, .phdrs = ph, .nphdr = 2};
	size_t size;
	uint8_t *img = synth_elf_build(&e, &size);
	struct usdt_notes *n = usdt_notes__open_mem(img, size, NULL);
	const struct usdt_note *t;

	assert_non_null(n);
	assert_int_equal(usdt_notes__count(n), 1);
	t = usdt_notes__get(n, 0);
	assert_int_equal(t->pc, 0x1010);
	assert_int_equal(t->base, note_base);
	assert_int_equal(t->semaphore, 0x2000);
	if (with_base_section && note_base) {
		assert_int_equal(t->pc_addr, 0x1010 + shift);
		assert_int_equal(t->sema_addr, 0x2000 + shift);
		assert_int_equal(t->pc_offset, secs[0].offset + 0x10);
		assert_int_equal(t->sema_offset, secs[1].offset);
	} else {
		/* nothing to compare with: addresses as stored, which do not map */
		assert_int_equal(t->pc_addr, 0x1010);
		assert_int_equal(t->sema_addr, 0x2000);
		assert_int_equal(t->pc_offset, USDT_NO_OFFSET);
		assert_int_equal(t->sema_offset, USDT_NO_OFFSET);
	}
	usdt_notes__free(n);
	free(img);
}

static void test_stapsdt_base_adjustment(void **state)
{
	check_base_adjust(true, 0x3000);
	check_base_adjust(false, 0x3000);
	check_base_adjust(true, 0);
}

/* The base may also move down (address arithmetic wraps, not saturates). */
static void test_stapsdt_base_moves_down(void **state)
{
	struct usdt_note_desc d = {"pre", "down", "", 0x501010, 0x503000, 0};
	uint8_t note[128], text[0x40] = {0x90};
	ssize_t len = usdt_note__encode(&d, NULL, note, sizeof(note));
	struct synth_sec secs[] = {
		{.name = ".text",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC,
		 .addr = 0x1000,
		 .data = text,
		 .size = sizeof(text)},
		{.name = ".stapsdt.base",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC,
		 .addr = 0x3000,
		 .size = 1},
		{.name = ".note.stapsdt", .type = SHT_NOTE, .data = note, .size = (size_t)len},
	};
	struct synth_phdr ph[] = {{.type = PT_LOAD, .sec = 0}};
	struct synth_elf e = {.is64 = true, .secs = secs, .nsec = 3, .phdrs = ph, .nphdr = 1};
	size_t size;
	uint8_t *img = synth_elf_build(&e, &size);
	struct usdt_notes *n = usdt_notes__open_mem(img, size, NULL);

	assert_non_null(n);
	assert_int_equal(usdt_notes__get(n, 0)->pc_addr, 0x1010);
	assert_int_equal(usdt_notes__get(n, 0)->pc_offset, secs[0].offset + 0x10);
	assert_int_equal(usdt_notes__get(n, 0)->sema_addr, 0);
	usdt_notes__free(n);
	free(img);
}

/* Symbols: .symtab wins over .dynsym; .dynsym alone is enough; undefined ones skipped. */
static void check_synthetic_symbols(bool is64, bool be)
{
	uint8_t symtab[256], dynsym[256];
	size_t slen = 0, dlen = 0;
	const char strtab[] = "\0both\0only_sym\0undef";
	const char dynstr[] = "\0both\0only_dyn\0undef";
	const uint16_t text_idx = 1;

	synth_sym(symtab, &slen, is64, be, 0, 0, 0, 0, 0);
	synth_sym(symtab, &slen, is64, be, 1, 0x1111, 8, 0x12, text_idx);
	synth_sym(symtab, &slen, is64, be, 6, 0x2222, 8, 0x12, text_idx);
	synth_sym(symtab, &slen, is64, be, 15, 0x9999, 0, 0x12, SHN_UNDEF);
	synth_sym(dynsym, &dlen, is64, be, 0, 0, 0, 0, 0);
	synth_sym(dynsym, &dlen, is64, be, 1, 0x3333, 8, 0x12, text_idx);
	synth_sym(dynsym, &dlen, is64, be, 6, 0x4444, 8, 0x12, text_idx);
	synth_sym(dynsym, &dlen, is64, be, 15, 0x5555, 8, 0x12, text_idx);

	for (int with_symtab = 0; with_symtab < 2; with_symtab++) {
		const size_t symsz = is64 ? 24 : 16;
		struct synth_sec secs[] = {
			{.name = ".text",
			 .type = SHT_PROGBITS,
			 .flags = SHF_ALLOC,
			 .addr = 0x1000,
			 .size = 16},
			{.name = ".dynsym",
			 .type = SHT_DYNSYM,
			 .flags = SHF_ALLOC,
			 .data = dynsym,
			 .size = dlen,
			 .link = 3,
			 .entsize = symsz},
			{.name = ".dynstr",
			 .type = SHT_STRTAB,
			 .flags = SHF_ALLOC,
			 .data = dynstr,
			 .size = sizeof(dynstr)},
			{.name = ".symtab",
			 .type = SHT_SYMTAB,
			 .data = symtab,
			 .size = slen,
			 .link = 5,
			 .entsize = symsz},
			{.name = ".strtab",
			 .type = SHT_STRTAB,
			 .data = strtab,
			 .size = sizeof(strtab)},
		};
		struct synth_elf e = {
			.is64 = is64, .big_endian = be, .secs = secs, .nsec = with_symtab ? 5 : 3};
		size_t size;
		uint8_t *img = synth_elf_build(&e, &size);
		struct usdt_notes *n = usdt_notes__open_mem(img, size, NULL);
		uint64_t v;

		free(img);
		assert_non_null(n);
		assert_int_equal(usdt_notes__count(n), 0);
		/* many rounds: the reader switches from scanning to an index */
		for (int round = 0; round < 40; round++) {
			assert_int_equal(usdt_notes__symbol(n, "both", &v), 0);
			assert_int_equal(v, with_symtab ? 0x1111 : 0x3333);
			assert_int_equal(usdt_notes__symbol(n, "only_dyn", &v), 0);
			assert_int_equal(v, 0x4444);
			assert_int_equal(usdt_notes__symbol(n, "only_sym", &v),
					 with_symtab ? 0 : -ENOENT);
			if (with_symtab)
				assert_int_equal(v, 0x2222);
			/* undefined in .symtab, defined in .dynsym */
			assert_int_equal(usdt_notes__symbol(n, "undef", &v), 0);
			assert_int_equal(v, 0x5555);
			assert_int_equal(usdt_notes__symbol(n, "bot", &v), -ENOENT);
		}
		usdt_notes__free(n);
	}
}

static void test_synthetic_symbols(void **state)
{
	check_synthetic_symbols(true, false);
	check_synthetic_symbols(true, true);
	check_synthetic_symbols(false, false);
	check_synthetic_symbols(false, true);
}

/* Without section headers the notes are found through PT_NOTE. */
static void test_pt_note_fallback(void **state)
{
	struct usdt_note_desc d = {"seg", "only", "-4@%esi", 0x1004, 0, 0};
	uint8_t note[128], text[16] = {0x90};
	ssize_t len = usdt_note__encode(&d, NULL, note, sizeof(note));
	struct synth_sec secs[] = {
		{.name = ".text",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC,
		 .addr = 0x1000,
		 .data = text,
		 .size = sizeof(text)},
		{.name = ".note.stapsdt", .type = SHT_NOTE, .data = note, .size = (size_t)len},
	};
	struct synth_phdr ph[] = {{.type = PT_LOAD, .sec = 0}, {.type = PT_NOTE, .sec = 1}};
	struct synth_elf e = {.is64 = true, .secs = secs, .nsec = 2, .phdrs = ph, .nphdr = 2};
	size_t size;
	uint8_t *img = synth_elf_build(&e, &size);
	struct usdt_notes *n;

	/* drop the section headers: e_shoff = e_shnum = e_shstrndx = 0 */
	memset(img + 40, 0, 8);
	memset(img + 60, 0, 4);
	n = usdt_notes__open_mem(img, size, NULL);
	assert_non_null(n);
	assert_int_equal(usdt_notes__count(n), 1);
	assert_string_equal(usdt_notes__get(n, 0)->name, "only");
	assert_int_equal(usdt_notes__get(n, 0)->pc_offset, secs[0].offset + 4);
	usdt_notes__free(n);
	free(img);
}

static void test_open_errors(void **state)
{
	struct usdt_notes_opts bad = {.sz = 1};
	struct {
		struct usdt_notes_opts o;
		long future;
	} ext = {.o = {.sz = sizeof(ext)}, .future = 1};
	char *src = NULL;
	const char *srcdir = getenv("USDTKIT_SOURCE_DIR");
	static const char not_elf[] = "#!/bin/sh\necho not an ELF file\n";
	struct usdt_notes *n;
	int fd;

	errno = 0;
	assert_null(usdt_notes__open_path("/nonexistent/usdtkit/file", NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(usdt_notes__open_path("/", NULL));
	assert_int_equal(errno, EISDIR);
	assert_null(usdt_notes__open_path(NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(usdt_notes__open_fd(-1, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(usdt_notes__open_mem(NULL, 10, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(usdt_notes__open_mem(not_elf, sizeof(not_elf) - 1, NULL));
	assert_int_equal(errno, ENOEXEC);
	assert_null(usdt_notes__open_mem(not_elf, 0, NULL));
	assert_int_equal(errno, ENOEXEC);

	assert_non_null(srcdir);
	assert_true(asprintf(&src, "%s/tests/sdt/test_notes_reader.c", srcdir) > 0);
	assert_null(usdt_notes__open_path(src, NULL));
	assert_int_equal(errno, ENOEXEC);
	free(src);

	/* a pipe is not a file we can read notes from */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_null(usdt_notes__open_fd(p[0], NULL));
	assert_int_equal(errno, ENOEXEC);
	close(p[0]);
	close(p[1]);

	char *path = fixture_path("fx-pie");
	assert_null(usdt_notes__open_path(path, &bad));
	assert_int_equal(errno, EINVAL);
	assert_null(usdt_notes__open_path(path, &ext.o));
	assert_int_equal(errno, EINVAL);
	ext.future = 0;
	n = usdt_notes__open_path(path, &ext.o);
	assert_non_null(n);
	usdt_notes__free(n);

	/* accessors on NULL do not crash */
	assert_int_equal(usdt_notes__count(NULL), 0);
	assert_null(usdt_notes__get(NULL, 0));
	assert_int_equal(usdt_notes__arch(NULL), USDT_ARCH_UNKNOWN);
	usdt_notes__free(NULL);

	/* the fd passed in stays the caller's, and no fd leaks */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = usdt_notes__open_fd(fd, NULL);
	assert_non_null(n);
	assert_true(fcntl(fd, F_GETFD) >= 0);
	usdt_notes__free(n);
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
	free(path);
}

/* Descriptors the library keeps open (for lazy symbol reads) are close-on-exec. */
static void test_cloexec(void **state)
{
	char *path = fixture_path("fx-pie");
	struct usdt_notes *n = usdt_notes__open_path(path, NULL);
	int cloexec_missing = 0;

	assert_non_null(n);
	for (int fd = 3; fd < 1024; fd++) {
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC)) {
			char link[64], target[512] = "";
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			ssize_t l = readlink(link, target, sizeof(target) - 1);
			if (l > 0 && strstr(target, "fx-pie"))
				cloexec_missing++;
		}
	}
	assert_int_equal(cloexec_missing, 0);
	usdt_notes__free(n);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_match_readelf),
		cmocka_unit_test(test_other_fixtures_match_readelf),
		cmocka_unit_test(test_system_objects_match_readelf),
		cmocka_unit_test(test_multiple_locations),
		cmocka_unit_test(test_asm_operand_specs),
		cmocka_unit_test(test_open_variants_agree),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_object_kinds),
		cmocka_unit_test(test_usdt_header_metadata),
		cmocka_unit_test(test_stapsdt_base_adjustment),
		cmocka_unit_test(test_stapsdt_base_moves_down),
		cmocka_unit_test(test_synthetic_symbols),
		cmocka_unit_test(test_pt_note_fallback),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_cloexec),
	};

	if (!readelf_notes_available()) {
		printf("readelf (binutils) is not available: cannot compare with it\n");
		return 77;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		printf("libelf unusable: %s\n", elf_errmsg(-1));
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
