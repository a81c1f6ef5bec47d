/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Note reader on broken input: truncated files, notes and headers that lie
 * about sizes, strings without their NUL, absurd counts. Each must give
 * NULL with the documented errno, and never read out of bounds (this test
 * also runs in the ASan build, where such a read aborts it).
 */
#include <errno.h>
#include <fcntl.h>
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

#include "test_notes_elf.h"

/* Section indexes in the image built by build_base() (caller index + 1). */
enum { SEC_TEXT = 1, SEC_BASE, SEC_NOTES, SEC_META, SEC_SYMTAB, SEC_STRTAB, SEC_SHSTRTAB };

struct image {
	uint8_t *img;
	size_t size;
	struct synth_elf e;
	struct synth_sec secs[6];
	struct synth_phdr ph[1];
	uint8_t notes[512];
	uint8_t meta[256];
	uint8_t syms[128];
};

/* Raw note bytes with any header values, for notes the encoder refuses to write. */
static size_t raw_note(uint8_t *out, uint32_t namesz, const char *name, size_t name_len,
		       uint32_t type, uint32_t descsz, const void *desc, size_t desc_len)
{
	size_t off = 12;

	synth_put(out, namesz, 4, false);
	synth_put(out + 4, descsz, 4, false);
	synth_put(out + 8, type, 4, false);
	memcpy(out + off, name, name_len);
	off += (name_len + 3) & ~(size_t)3;
	memcpy(out + off, desc, desc_len);
	off += (desc_len + 3) & ~(size_t)3;
	return off;
}

/*
 * A small valid 64-bit LE object: .text, .stapsdt.base, two stapsdt notes
 * (plus @extra raw bytes appended to the note section), one metadata note,
 * .symtab/.strtab. With @is64 false, a 32-bit one.
 */
static void build(struct image *im, bool is64, const void *extra, size_t extra_len)
{
	struct usdt_encode_opts o = {.sz = sizeof(o), .is_32bit = !is64};
	struct usdt_note_desc d1 = {"prov", "one", "-4@%edi", 0x1000, 0x2000, 0};
	struct usdt_note_desc d2 = {"prov", "two", "8@%rsi 8@(%rax)", 0x1008, 0x2000, 0};
	struct usdt_meta_desc m = {"prov", "two", "a:u64 b:ptr", 0};
	static const uint8_t text[16] = {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
					 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90};
	static const char strtab[] = "\0sym";
	size_t nlen = 0, mlen, slen = 0;
	ssize_t r;

	memset(im, 0, sizeof(*im));
	r = usdt_note__encode(&d1, &o, im->notes, sizeof(im->notes));
	assert_true(r > 0);
	nlen += (size_t)r;
	r = usdt_note__encode(&d2, &o, im->notes + nlen, sizeof(im->notes) - nlen);
	assert_true(r > 0);
	nlen += (size_t)r;
	assert_true(nlen + extra_len <= sizeof(im->notes));
	if (extra_len)
		memcpy(im->notes + nlen, extra, extra_len);
	nlen += extra_len;
	r = usdt_meta_note__encode(&m, &o, im->meta, sizeof(im->meta));
	assert_true(r > 0);
	mlen = (size_t)r;
	synth_sym(im->syms, &slen, is64, false, 0, 0, 0, 0, 0);
	synth_sym(im->syms, &slen, is64, false, 1, 0x1004, 4, 0x12, SEC_TEXT);

	struct synth_sec secs[6] = {
		{.name = ".text",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC | SHF_EXECINSTR,
		 .addr = 0x1000,
		 .data = text,
		 .size = sizeof(text)},
		{.name = ".stapsdt.base",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC,
		 .addr = 0x2000,
		 .size = 1},
		{.name = ".note.stapsdt", .type = SHT_NOTE, .data = im->notes, .size = nlen},
		{.name = ".note.usdtkit", .type = SHT_NOTE, .data = im->meta, .size = mlen},
		{.name = ".symtab",
		 .type = SHT_SYMTAB,
		 .data = im->syms,
		 .size = slen,
		 .link = SEC_STRTAB,
		 .entsize = is64 ? 24 : 16},
		{.name = ".strtab", .type = SHT_STRTAB, .data = strtab, .size = sizeof(strtab)},
	};
	memcpy(im->secs, secs, sizeof(secs));
	im->ph[0] = (struct synth_phdr){.type = PT_LOAD, .sec = 0};
	im->e = (struct synth_elf){
		.is64 = is64, .secs = im->secs, .nsec = 6, .phdrs = im->ph, .nphdr = 1};
	im->img = synth_elf_build(&im->e, &im->size);
	assert_non_null(im->img);
}

static void drop(struct image *im)
{
	free(im->img);
	im->img = NULL;
}

/* Overwrites field @field (byte offset, 64-bit layout / 32-bit layout) of section header @idx. */
static void set_sh(struct image *im, int idx, int off64, int off32, int size64, uint64_t value)
{
	bool is64 = im->e.is64;
	uint8_t *sh = im->img + im->e.shoff + (size_t)idx * (is64 ? 64 : 40);

	synth_put(sh + (is64 ? off64 : off32), value, is64 ? size64 : 4, false);
}
#define SH_NAME 0, 0, 4
#define SH_TYPE 4, 4, 4
#define SH_OFFSET 24, 16, 8
#define SH_SIZE 32, 20, 8
#define SH_LINK 40, 24, 4
#define SH_ENTSIZE 56, 36, 8

static void set_eh(struct image *im, int off64, int off32, int size, uint64_t value)
{
	synth_put(im->img + (im->e.is64 ? off64 : off32), value, size, false);
}
#define EH_PHOFF 32, 28
#define EH_SHOFF 40, 32
#define EH_PHENTSIZE 54, 42
#define EH_PHNUM 56, 44
#define EH_SHENTSIZE 58, 46
#define EH_SHNUM 60, 48
#define EH_SHSTRNDX 62, 50

static void expect_error(const struct image *im, size_t size, int want)
{
	struct usdt_notes *n;

	errno = 0;
	n = usdt_notes__open_mem(im->img, size, NULL);
	if (n) {
		usdt_notes__free(n);
		fail_msg("expected error %d (%s), got a collection", want, strerror(want));
	}
	if (errno != want)
		fail_msg("expected errno %d (%s), got %d (%s)", want, strerror(want), errno,
			 strerror(errno));
}

static size_t expect_ok(const struct image *im)
{
	struct usdt_notes *n = usdt_notes__open_mem(im->img, im->size, NULL);
	size_t count;

	if (!n)
		fail_msg("expected success, got %s", strerror(errno));
	count = usdt_notes__count(n);
	usdt_notes__free(n);
	return count;
}

static void test_baseline_is_valid(void **state)
{
	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;
		struct usdt_notes *n;
		uint64_t v;

		build(&im, is64, NULL, 0);
		n = usdt_notes__open_mem(im.img, im.size, NULL);
		assert_non_null(n);
		assert_int_equal(usdt_notes__count(n), 2);
		assert_null(usdt_notes__get(n, 0)->meta);
		assert_string_equal(usdt_notes__get(n, 1)->meta, "a:u64 b:ptr");
		assert_int_equal(usdt_notes__symbol(n, "sym", &v), 0);
		assert_int_equal(v, 0x1004);
		usdt_notes__free(n);
		drop(&im);
	}
}

/* Every prefix of a synthetic object, and of a real fixture, is refused. */
static void test_truncated_everywhere(void **state)
{
	struct image im;

	build(&im, true, NULL, 0);
	for (size_t len = 0; len < im.size; len++)
		expect_error(&im, len, len < 4 ? ENOEXEC : EBADMSG);
	drop(&im);

	const char *dir = getenv("USDTKIT_BUILD_DIR");
	char path[4096];
	struct stat st;
	int fd;

	assert_non_null(dir);
#if defined(__x86_64__)
	const size_t want_notes = 19; /* fx_asm_operands.S */

	snprintf(path, sizeof(path), "%s/tests/fixtures/fx-asm-operands", dir);
#else
	const size_t want_notes = 2; /* fx_semaphore.c; fx-asm-operands is x86-64 code */

	snprintf(path, sizeof(path), "%s/tests/fixtures/fx-semaphore", dir);
#endif
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	im.size = (size_t)st.st_size;
	im.img = malloc(im.size);
	assert_non_null(im.img);
	assert_int_equal(pread(fd, im.img, im.size, 0), (ssize_t)im.size);
	close(fd);
	/* every prefix, each in an exactly-sized heap copy so ASan sees any overread */
	for (size_t len = 0; len < im.size; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct usdt_notes *n;

		assert_non_null(copy);
		memcpy(copy, im.img, len);
		errno = 0;
		n = usdt_notes__open_mem(copy, len, NULL);
		if (n)
			fail_msg("prefix of %zu/%zu bytes accepted", len, im.size);
		if (errno != (len < 4 ? ENOEXEC : EBADMSG))
			fail_msg("prefix of %zu bytes: errno %s", len, strerror(errno));
		free(copy);
	}
	struct usdt_notes *n = usdt_notes__open_mem(im.img, im.size, NULL);
	assert_non_null(n);
	assert_int_equal(usdt_notes__count(n), want_notes);
	usdt_notes__free(n);
	drop(&im);
}

static void test_bad_ident(void **state)
{
	struct image im;

	build(&im, true, NULL, 0);
	im.img[EI_CLASS] = 3;
	expect_error(&im, im.size, ENOTSUP);
	im.img[EI_CLASS] = ELFCLASSNONE;
	expect_error(&im, im.size, ENOTSUP);
	im.img[EI_CLASS] = ELFCLASS64;
	im.img[EI_DATA] = 0;
	expect_error(&im, im.size, ENOTSUP);
	im.img[EI_DATA] = ELFDATA2LSB;
	im.img[1] = 'e';
	expect_error(&im, im.size, ENOEXEC);
	drop(&im);
}

static void test_note_section_lies(void **state)
{
	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;
		uint64_t noff, nsize;

		build(&im, is64, NULL, 0);
		noff = im.secs[SEC_NOTES - 1].offset;
		nsize = im.secs[SEC_NOTES - 1].size;

		/* section ends inside the second note */
		set_sh(&im, SEC_NOTES, SH_SIZE, nsize - 8);
		expect_error(&im, im.size, EBADMSG);
		/* ... or inside the first note's header */
		set_sh(&im, SEC_NOTES, SH_SIZE, 8);
		expect_error(&im, im.size, EBADMSG);
		/* beyond the end of the file */
		set_sh(&im, SEC_NOTES, SH_SIZE, im.size);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_NOTES, SH_SIZE, nsize);
		set_sh(&im, SEC_NOTES, SH_OFFSET, im.size + 16);
		expect_error(&im, im.size, EBADMSG);
		/* offset + size wraps around */
		set_sh(&im, SEC_NOTES, SH_OFFSET, is64 ? UINT64_MAX - 7 : UINT32_MAX - 7);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_NOTES, SH_OFFSET, noff);
		assert_int_equal(expect_ok(&im), 2);

		/* any other section lying about its place is refused too */
		set_sh(&im, SEC_TEXT, SH_SIZE, (uint64_t)1 << 31);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_TEXT, SH_SIZE, 16);
		/* .. but SHT_NOBITS occupies no file space */
		set_sh(&im, SEC_TEXT, SH_TYPE, SHT_NOBITS);
		set_sh(&im, SEC_TEXT, SH_SIZE, (uint64_t)1 << 31);
		assert_int_equal(expect_ok(&im), 2);
		drop(&im);
	}
}

static void test_bad_note_headers(void **state)
{
	uint8_t raw[128], desc[64];
	size_t len, dlen;
	struct image im;

	/* namesz far beyond the section */
	len = raw_note(raw, 0x10000, "stapsdt", 8, 3, 0, "", 0);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);

	/* descsz far beyond the section */
	len = raw_note(raw, 8, "stapsdt", 8, 3, 0xfffffff0u, "", 0);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);

	/* descriptor too short for three addresses plus three strings */
	memset(desc, 0, sizeof(desc));
	for (dlen = 0; dlen < 27; dlen++) {
		len = raw_note(raw, 8, "stapsdt", 8, 3, (uint32_t)dlen, desc, dlen);
		build(&im, true, raw, len);
		expect_error(&im, im.size, EBADMSG);
		drop(&im);
	}
	/* exactly three addresses and three empty strings is well-formed */
	len = raw_note(raw, 8, "stapsdt", 8, 3, 27, desc, 27);
	build(&im, true, raw, len);
	assert_int_equal(expect_ok(&im), 3);
	drop(&im);

	/* metadata descriptor too short */
	len = raw_note(raw, 8, "usdtkit", 8, 1, 10, desc, 10);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);
}

static void test_missing_nuls(void **state)
{
	uint8_t raw[128], desc[64];
	struct image im;
	size_t len;

	/* strings: "p\0n\0args" with the last NUL missing, then no room for it */
	memset(desc, 0, 24);
	memcpy(desc + 24, "p\0n\0args", 8);
	len = raw_note(raw, 8, "stapsdt", 8, 3, 32, desc, 32);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);

	/* only the provider has a NUL */
	memcpy(desc + 24, "prov\0nam", 8);
	len = raw_note(raw, 8, "stapsdt", 8, 3, 32, desc, 32);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);

	/* no NUL at all */
	memcpy(desc + 24, "provname", 8);
	len = raw_note(raw, 8, "stapsdt", 8, 3, 32, desc, 32);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);

	/* same for a metadata note: pc then "p\0n\0a:u64" without the final NUL */
	memset(desc, 0, 8);
	memcpy(desc + 8, "p\0n\0a:u64", 9);
	len = raw_note(raw, 8, "usdtkit", 8, 1, 17, desc, 17);
	build(&im, true, raw, len);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);
}

/* Notes of other owners and types are skipped, not refused. */
static void test_foreign_notes_skipped(void **state)
{
	uint8_t raw[256], desc[32] = {0};
	struct image im;
	size_t len = 0;

	len += raw_note(raw + len, 4, "GNU", 4, 3, 20, desc, 20);
	len += raw_note(raw + len, 8, "stapsdt", 8, 4, 8, desc, 8); /* other type */
	len += raw_note(raw + len, 7, "stapsd", 7, 3, 4, desc, 4); /* other owner */
	len += raw_note(raw + len, 0, "", 0, 0, 0, desc, 0); /* empty note */
	len += raw_note(raw + len, 8, "usdtkit", 8, 2, 4, desc, 4); /* future meta layout */
	build(&im, true, raw, len);
	assert_int_equal(expect_ok(&im), 2);
	drop(&im);

	/* zero padding at the end of the section is tolerated, other junk is not */
	memset(raw, 0, 8);
	build(&im, true, raw, 8);
	assert_int_equal(expect_ok(&im), 2);
	drop(&im);
	raw[5] = 1;
	build(&im, true, raw, 8);
	expect_error(&im, im.size, EBADMSG);
	drop(&im);
}

static void test_bad_section_table(void **state)
{
	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;
		const int eh = is64 ? 64 : 40;

		build(&im, is64, NULL, 0);
		set_eh(&im, EH_SHNUM, 2, 0xffff);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHNUM, 2, 8);
		assert_int_equal(expect_ok(&im), 2);

		/* one more section than the file holds */
		set_eh(&im, EH_SHNUM, 2, 9);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHNUM, 2, 8);

		set_eh(&im, EH_SHENTSIZE, 2, eh - 1);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHENTSIZE, 2, 0);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHENTSIZE, 2, eh);

		set_eh(&im, EH_SHSTRNDX, 2, 8);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHSTRNDX, 2, 0xffff - 1);
		expect_error(&im, im.size, EBADMSG);
		/* pointing at a section that is not a string table */
		set_eh(&im, EH_SHSTRNDX, 2, SEC_TEXT);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHSTRNDX, 2, SEC_SHSTRTAB);

		set_eh(&im, EH_SHOFF, is64 ? 8 : 4, im.size - 8);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHOFF, is64 ? 8 : 4, 0);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHOFF, is64 ? 8 : 4, is64 ? UINT64_MAX - 16 : UINT32_MAX - 16);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_SHOFF, is64 ? 8 : 4, im.e.shoff);
		assert_int_equal(expect_ok(&im), 2);

		/* a section name outside .shstrtab */
		set_sh(&im, SEC_BASE, SH_NAME, 0x7fffffff);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_BASE, SH_NAME, 100000);
		expect_error(&im, im.size, EBADMSG);
		drop(&im);

		/* a name table whose last string lacks its NUL */
		build(&im, is64, NULL, 0);
		uint8_t *sh = im.img + im.e.shoff + (size_t)SEC_SHSTRTAB * (is64 ? 64 : 40);
		uint64_t str_off = is64 ? synth_get_le(sh + 24, 8) : synth_get_le(sh + 16, 4);
		uint64_t str_size = is64 ? synth_get_le(sh + 32, 8) : synth_get_le(sh + 20, 4);
		assert_int_equal(im.img[str_off + str_size - 1], 0);
		im.img[str_off + str_size - 1] = 'x';
		expect_error(&im, im.size, EBADMSG);
		drop(&im);
	}
}

static void test_bad_program_headers(void **state)
{
	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;
		uint8_t *ph;

		build(&im, is64, NULL, 0);
		set_eh(&im, EH_PHNUM, 2, 0xfffe);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_PHNUM, 2, 1);
		set_eh(&im, EH_PHENTSIZE, 2, 8);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_PHENTSIZE, 2, is64 ? 56 : 32);
		set_eh(&im, EH_PHOFF, is64 ? 8 : 4, im.size - 4);
		expect_error(&im, im.size, EBADMSG);
		set_eh(&im, EH_PHOFF, is64 ? 8 : 4, im.e.phoff);
		assert_int_equal(expect_ok(&im), 2);

		/* a PT_LOAD whose file range leaves the file */
		ph = im.img + im.e.phoff;
		synth_put(ph + (is64 ? 32 : 16), im.size * 2, is64 ? 8 : 4, false);
		expect_error(&im, im.size, EBADMSG);
		drop(&im);
	}
}

static void test_bad_symbol_tables(void **state)
{
	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;

		build(&im, is64, NULL, 0);
		set_sh(&im, SEC_SYMTAB, SH_ENTSIZE, 0);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_SYMTAB, SH_ENTSIZE, 7);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_SYMTAB, SH_ENTSIZE, is64 ? 24 : 16);
		/* size not a whole number of symbols */
		set_sh(&im, SEC_SYMTAB, SH_SIZE, is64 ? 25 : 17);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_SYMTAB, SH_SIZE, is64 ? 48 : 32);
		/* string table link out of range, to itself, to a non-strtab */
		set_sh(&im, SEC_SYMTAB, SH_LINK, 1000);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_SYMTAB, SH_LINK, SEC_SYMTAB);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_SYMTAB, SH_LINK, 0);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, SEC_SYMTAB, SH_LINK, SEC_STRTAB);
		assert_int_equal(expect_ok(&im), 2);
		drop(&im);
	}
}

/* A symbol whose name runs off its string table is simply not found. */
static void test_symbol_name_out_of_range(void **state)
{
	struct image im;
	struct usdt_notes *n;
	uint64_t v;

	build(&im, true, NULL, 0);
	/* symbol 1's st_name → the last byte of .strtab, then beyond */
	uint8_t *sym = im.img + im.secs[SEC_SYMTAB - 1].offset + 24;
	synth_put(sym, im.secs[SEC_STRTAB - 1].size - 1, 4, false);
	n = usdt_notes__open_mem(im.img, im.size, NULL);
	assert_non_null(n);
	assert_int_equal(usdt_notes__symbol(n, "sym", &v), -ENOENT);
	usdt_notes__free(n);
	/* "sym" as the very last bytes of .strtab, its NUL cut off */
	synth_put(sym, 1, 4, false);
	set_sh(&im, SEC_STRTAB, SH_SIZE, 4);
	n = usdt_notes__open_mem(im.img, im.size, NULL);
	assert_non_null(n);
	for (int round = 0; round < 70; round++) { /* scanned, then indexed */
		assert_int_equal(usdt_notes__symbol(n, "sym", &v), -ENOENT);
		assert_int_equal(usdt_notes__symbol(n, "sy", &v), -ENOENT);
	}
	usdt_notes__free(n);
	set_sh(&im, SEC_STRTAB, SH_SIZE, 5);
	n = usdt_notes__open_mem(im.img, im.size, NULL);
	assert_non_null(n);
	for (int round = 0; round < 70; round++) {
		assert_int_equal(usdt_notes__symbol(n, "sym", &v), 0);
		assert_int_equal(v, 0x1004);
	}
	usdt_notes__free(n);
	synth_put(sym, 0xffffffff, 4, false);
	n = usdt_notes__open_mem(im.img, im.size, NULL);
	assert_non_null(n);
	assert_int_equal(usdt_notes__symbol(n, "sym", &v), -ENOENT);
	usdt_notes__free(n);
	drop(&im);
}

/*
 * Extended numbering (gABI): e_shnum 0 and e_shstrndx SHN_XINDEX say the
 * real values live in section header 0's sh_size and sh_link.
 */
static void test_extended_numbering(void **state)
{
	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;

		build(&im, is64, NULL, 0);
		set_eh(&im, EH_SHNUM, 2, 0);
		set_eh(&im, EH_SHSTRNDX, 2, SHN_XINDEX);
		/* header 0 still empty: no sections, no string table */
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, 0, SH_SIZE, 8);
		set_sh(&im, 0, SH_LINK, SEC_SHSTRTAB);
		assert_int_equal(expect_ok(&im), 2);
		/* and they are checked like the ordinary fields */
		set_sh(&im, 0, SH_SIZE, 0x7fffffff);
		expect_error(&im, im.size, EBADMSG);
		set_sh(&im, 0, SH_SIZE, 8);
		set_sh(&im, 0, SH_LINK, 99);
		expect_error(&im, im.size, EBADMSG);
		drop(&im);
	}
}

/*
 * Random byte damage (fixed seed): whatever comes out, it is an object
 * whose strings can all be read, or NULL with one of the documented errors.
 */
static void test_random_damage(void **state)
{
	unsigned int seed = 12345;
	size_t ok = 0, bad = 0;

	for (int is64 = 0; is64 < 2; is64++) {
		struct image im;
		uint8_t *copy;

		build(&im, is64, NULL, 0);
		copy = malloc(im.size);
		assert_non_null(copy);
		for (int round = 0; round < 20000; round++) {
			struct usdt_notes *n;

			memcpy(copy, im.img, im.size);
			for (int k = 1 + rand_r(&seed) % 4; k > 0; k--)
				copy[rand_r(&seed) % im.size] = (uint8_t)rand_r(&seed);
			errno = 0;
			n = usdt_notes__open_mem(copy, im.size, NULL);
			if (!n) {
				assert_true(errno == EBADMSG || errno == ENOEXEC ||
					    errno == ENOTSUP);
				bad++;
				continue;
			}
			ok++;
			for (size_t i = 0; i < usdt_notes__count(n); i++) {
				const struct usdt_note *t = usdt_notes__get(n, i);
				size_t l = strlen(t->provider) + strlen(t->name) + strlen(t->args);
				if (t->meta)
					l += strlen(t->meta);
				assert_true(l < im.size);
			}
			uint64_t v;
			(void)usdt_notes__symbol(n, "sym", &v);
			usdt_notes__free(n);
		}
		free(copy);
		drop(&im);
	}
	printf("# random damage: %zu accepted, %zu refused\n", ok, bad);
	assert_true(ok > 0 && bad > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_is_valid),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bad_ident),
		cmocka_unit_test(test_note_section_lies),
		cmocka_unit_test(test_bad_note_headers),
		cmocka_unit_test(test_missing_nuls),
		cmocka_unit_test(test_foreign_notes_skipped),
		cmocka_unit_test(test_bad_section_table),
		cmocka_unit_test(test_bad_program_headers),
		cmocka_unit_test(test_bad_symbol_tables),
		cmocka_unit_test(test_symbol_name_out_of_range),
		cmocka_unit_test(test_extended_numbering),
		cmocka_unit_test(test_random_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
