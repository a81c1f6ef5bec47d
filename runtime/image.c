/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * ELF image builder: turns a provider's probes into a small ELF shared
 * object that ld.so can dlopen and every USDT reader understands. What
 * differs by architecture (stub bytes, argument registers, e_machine) is
 * a table in arch.c.
 *
 * The object is laid out by hand (libelf with ELF_F_LAYOUT) so that each
 * piece sits where the rest of the runtime needs it; link-time virtual
 * addresses equal file offsets:
 *
 *   PT_LOAD R    ELF and program headers, .note.gnu.build-id, .hash,
 *                .dynsym, .dynstr, .stapsdt.base
 *   PT_LOAD R X  .text: one STUB_STRIDE-byte stub per probe, the probe nop
 *                then ret, trap padding
 *   PT_LOAD R W  .dynamic
 *   PT_LOAD R    .probes: one unsigned short semaphore per probe, at a
 *                page-aligned file offset. ld.so maps it read-only on
 *                purpose: the runtime maps the same file pages privately
 *                and writably at a stable address of its own (provider.c),
 *                and the kernel's ref_ctr update picks the one writable
 *                private mapping of that file range, i.e. the runtime's.
 *   PT_DYNAMIC, PT_NOTE (the build-id), PT_GNU_STACK (RW, not executable)
 *   .note.stapsdt, .note.usdtkit (not allocated), .shstrtab, section headers
 *
 * No page is both writable and executable; every PT_LOAD starts on its own
 * page. The stubs are exported as dynamic symbols named after the probes,
 * the semaphores as PROVIDER_PROBE_semaphore like sys/sdt.h's, so dlsym()
 * and symbol-based tools work.
 */
#include <errno.h>
#include <stdarg.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <usdtkit/stapsdt.h>

#include "internal.h"

#define PAGE 4096ul

enum {
	SEC_NULL,
	SEC_BUILD_ID,
	SEC_HASH,
	SEC_DYNSYM,
	SEC_DYNSTR,
	SEC_BASE,
	SEC_TEXT,
	SEC_DYNAMIC,
	SEC_PROBES,
	SEC_STAPSDT,
	SEC_META,
	SEC_SHSTRTAB,
	SEC__COUNT,
};

enum {
	PH_LOAD_R,
	PH_LOAD_RX,
	PH_LOAD_RW,
	PH_LOAD_PROBES,
	PH_DYNAMIC,
	PH_NOTE,
	PH_STACK,
	PH__COUNT
};

static const char *const sec_names[SEC__COUNT] = {
	"",	 ".note.gnu.build-id", ".hash",	  ".dynsym",	   ".dynstr",	    ".stapsdt.base",
	".text", ".dynamic",	       ".probes", ".note.stapsdt", ".note.usdtkit", ".shstrtab",
};

static bool type_signed(enum usdt_type t)
{
	return t == USDT_TYPE_INT8 || t == USDT_TYPE_INT16 || t == USDT_TYPE_INT32 ||
	       t == USDT_TYPE_INT64;
}

/* snprintf that accumulates into buf and remembers overflow. */
struct sbuf {
	char *buf;
	size_t size, len;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sb->len < sb->size ? sb->buf + sb->len : NULL,
		      sb->len < sb->size ? sb->size - sb->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->len += (size_t)n;
}

int usdt_image__arg_specs(const struct usdt_image_arch *arch, const struct usdt_probe *probe,
			  char *buf, size_t size)
{
	struct sbuf sb = {buf, size, 0};
	char op[32];

	if (size)
		buf[0] = '\0';
	for (int i = 0; i < probe->argc; i++) {
		/* types were validated by add_probe: 1, 2, 4 or 8 */
		int sz = usdt_type__size(probe->types[i]);
		const char *sign = type_signed(probe->types[i]) ? "-" : "";
		const char *sep = i ? " " : "";

		/* At the stub's entry: where the calling convention put it. */
		if (usdt_image_arch__operand(arch, i, sz, op, sizeof(op)) < 0)
			return -EINVAL;
		sb_printf(&sb, "%s%s%d@%s", sep, sign, sz, op);
	}
	return sb.len < size ? (int)sb.len : -ENAMETOOLONG;
}

_Static_assert(USDT_ARG_NAME_MAX == USDT_NAME_MAX, "argument names must fit the metadata");

int usdt_image__meta_args(const struct usdt_probe *probe, char *buf, size_t size)
{
	struct usdt_arg_meta meta[USDT_MAX_ARGS];
	int n;

	/* The sdt core owns the metadata text form; the tracer parses it back. */
	for (int i = 0; i < probe->argc; i++) {
		meta[i].type = probe->types[i];
		memcpy(meta[i].name, probe->arg_names[i], sizeof(meta[i].name));
	}
	n = usdt_meta__format(meta, (size_t)probe->argc, buf, size);
	if (n < 0)
		return n;
	return (size_t)n < size ? n : -ENAMETOOLONG;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Every buffer the image is assembled from, freed together. */
struct bufs {
	uint8_t *build_id;
	uint32_t *hash;
	Elf64_Sym *dynsym;
	char *dynstr;
	uint8_t *text;
	Elf64_Dyn *dynamic;
	uint8_t *probes;
	uint8_t *stapsdt;
	uint8_t *meta;
	char *shstrtab;
};

static void bufs_free(struct bufs *b)
{
	free(b->build_id);
	free(b->hash);
	free(b->dynsym);
	free(b->dynstr);
	free(b->text);
	free(b->dynamic);
	free(b->probes);
	free(b->stapsdt);
	free(b->meta);
	free(b->shstrtab);
}

/* Writes one stub into @p; returns the probe point's offset in it. */
static unsigned int emit_stub(const struct usdt_image_arch *arch, uint8_t *p, int nop)
{
	const struct usdt_stub_form *f = usdt_image_arch__form(arch, nop);

	for (unsigned int i = 0; i < STUB_STRIDE; i++)
		p[i] = arch->trap[i % arch->trap_len];
	memcpy(p, f->bytes, f->len);
	return f->probe_off;
}

/*
 * The build-id (NT_GNU_BUILD_ID in .note.gnu.build-id, allocated, in a
 * PT_NOTE), so perf, debuginfod clients and crash tools can name the
 * object: perf's buildid-cache refuses an object without one. The image
 * is a pure function of the architecture, the provider's name, its probe
 * instruction and each probe's name, argument types and argument names,
 * so the id hashes exactly those: the same probe set gives the same id in every run and
 * every process, a different set a different id. The hash is FNV-1a
 * (64-bit) run with five seeds and finished with a 64-bit mixer: not
 * cryptographic, which a build-id never is, but well spread.
 */
#define BUILD_ID_SIZE 20
#define BUILD_ID_NOTE_SIZE (12 + 4 + BUILD_ID_SIZE) /* header, "GNU\0", id */

struct id_hash {
	uint64_t h[5];
};

static void id_hash_bytes(struct id_hash *ih, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (int k = 0; k < 5; k++)
		for (size_t i = 0; i < len; i++)
			ih->h[k] = (ih->h[k] ^ p[i]) * 0x100000001b3ull;
}

/* Strings with their NUL, integers as 4 little-endian bytes: unambiguous. */
static void id_hash_str(struct id_hash *ih, const char *s)
{
	id_hash_bytes(ih, s, strlen(s) + 1);
}

static void id_hash_int(struct id_hash *ih, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	id_hash_bytes(ih, b, sizeof(b));
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void usdt_image__build_id(const struct image_desc *desc, uint8_t id[BUILD_ID_SIZE])
{
	struct id_hash ih;
	uint8_t out[5 * 8];

	for (int k = 0; k < 5; k++)
		ih.h[k] = 0xcbf29ce484222325ull ^ mix64((uint64_t)k + 1);
	id_hash_str(&ih, "usdtkit-image-1");
	/* The same probes make other bytes on another architecture. */
#if defined(__aarch64__)
	id_hash_str(&ih, "aarch64");
#else
	id_hash_str(&ih, "x86_64");
#endif
	id_hash_str(&ih, desc->provider);
	id_hash_int(&ih, (uint32_t)desc->nop);
	id_hash_int(&ih, (uint32_t)desc->nprobes);
	for (size_t i = 0; i < desc->nprobes; i++) {
		const struct usdt_probe *p = desc->probes[i];

		id_hash_str(&ih, p->name);
		id_hash_int(&ih, (uint32_t)p->argc);
		for (int a = 0; a < p->argc; a++) {
			id_hash_int(&ih, (uint32_t)p->types[a]);
			id_hash_str(&ih, p->arg_names[a]);
		}
	}
	for (int k = 0; k < 5; k++) {
		uint64_t v = mix64(ih.h[k] + (uint64_t)k);

		for (int j = 0; j < 8; j++)
			out[k * 8 + j] = (uint8_t)(v >> (8 * j));
	}
	memcpy(id, out, BUILD_ID_SIZE);
}

/* Encodes the whole note: namesz, descsz, type, "GNU\0", the id. */
static void build_id_note(const struct image_desc *desc, uint8_t *note)
{
	const uint32_t hdr[3] = {4, BUILD_ID_SIZE, NT_GNU_BUILD_ID};

	memcpy(note, hdr, sizeof(hdr));
	memcpy(note + 12, "GNU", 4);
	usdt_image__build_id(desc, note + 16);
}

struct sec_plan {
	uint32_t type;
	uint64_t flags, offset, size, align, entsize;
	uint32_t link, info;
	void *data;
};

/* The segment covering section @sec: the image is linked at 0, so addresses equal offsets. */
static GElf_Phdr segment_of(Elf64_Word type, Elf64_Word flags, const struct sec_plan *sec,
			    uint64_t align)
{
	return (GElf_Phdr){type,	flags,	   sec->offset, sec->offset,
			   sec->offset, sec->size, sec->size,	align};
}

static int add_section(Elf *elf, const struct sec_plan *pl, size_t name_off)
{
	Elf_Scn *scn = elf_newscn(elf);
	GElf_Shdr sh;
	Elf_Data *d;

	if (!scn || !gelf_getshdr(scn, &sh))
		return -ENOMEM;
	d = elf_newdata(scn);
	if (!d)
		return -ENOMEM;
	d->d_buf = pl->data;
	d->d_size = pl->size;
	d->d_type = ELF_T_BYTE;
	d->d_align = pl->align;
	d->d_off = 0;
	d->d_version = EV_CURRENT;
	sh.sh_name = (Elf64_Word)name_off;
	sh.sh_type = pl->type;
	sh.sh_flags = pl->flags;
	sh.sh_addr = (pl->flags & SHF_ALLOC) ? pl->offset : 0;
	sh.sh_offset = pl->offset;
	sh.sh_size = pl->size;
	sh.sh_link = pl->link;
	sh.sh_info = pl->info;
	sh.sh_addralign = pl->align;
	sh.sh_entsize = pl->entsize;
	if (!gelf_update_shdr(scn, &sh))
		return -EINVAL;
	return 0;
}

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static bool elf_ok;

/* elf_version() sets libelf's global state: once per process. */
static void elf_init(void)
{
	elf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

int usdt_image__write(int fd, const struct image_desc *desc, struct image_layout *layout)
{
	return usdt_image__write_arch(fd, desc, usdt_image_arch__native(), layout);
}

int usdt_image__write_arch(int fd, const struct image_desc *desc,
			   const struct usdt_image_arch *arch, struct image_layout *layout)
{
	size_t n = desc->nprobes, nsyms = 1 + 2 * n;
	struct sec_plan pl[SEC__COUNT] = {0};
	size_t name_off[SEC__COUNT];
	struct bufs b = {0};
	size_t dynstr_len = 1, shstr_len = 1, stapsdt_len = 0, meta_len = 0, names_len = 0;
	size_t soname_off, *sym_name_off = NULL;
	uint64_t off, base_vaddr;
	unsigned int probe_off = 0;
	char specs[USDT_SPEC_TEXT_MAX * 2], meta_args[USDT_MAX_ARGS * (USDT_NAME_MAX + 8)];
	Elf *elf = NULL;
	GElf_Ehdr eh;
	GElf_Phdr ph[PH__COUNT];
	int err = 0;

	pthread_once(&elf_once, elf_init);
	if (!elf_ok || !arch)
		return -ENOTSUP;

	sym_name_off = calloc(nsyms, sizeof(*sym_name_off));
	if (!sym_name_off) {
		err = -ENOMEM;
		goto out;
	}

	/* .dynstr: soname, stub names, semaphore names. */
	for (size_t i = 0; i < n; i++)
		names_len += strlen(desc->provider) + strlen(desc->probes[i]->name) +
			     sizeof("__semaphore");
	dynstr_len += strlen(desc->provider) + sizeof("libusdtkit-.so");
	for (size_t i = 0; i < n; i++)
		dynstr_len += strlen(desc->probes[i]->name) + 1;
	dynstr_len += names_len;
	b.dynstr = calloc(1, dynstr_len);
	if (!b.dynstr) {
		err = -ENOMEM;
		goto out;
	}
	{
		size_t p = 1;

		soname_off = p;
		p += (size_t)sprintf(b.dynstr + p, "libusdtkit-%s.so", desc->provider) + 1;
		for (size_t i = 0; i < n; i++) {
			sym_name_off[1 + i] = p;
			p += (size_t)sprintf(b.dynstr + p, "%s", desc->probes[i]->name) + 1;
		}
		for (size_t i = 0; i < n; i++) {
			sym_name_off[1 + n + i] = p;
			p += (size_t)sprintf(b.dynstr + p, "%s_%s_semaphore", desc->provider,
					     desc->probes[i]->name) +
			     1;
		}
		dynstr_len = p;
	}

	/* Notes: measure, then encode once addresses are known. */
	for (size_t i = 0; i < n; i++) {
		struct usdt_note_desc nd = {desc->provider, desc->probes[i]->name, specs, 0, 0, 0};
		struct usdt_meta_desc md = {desc->provider, desc->probes[i]->name, meta_args, 0};
		ssize_t s;

		if (usdt_image__arg_specs(arch, desc->probes[i], specs, sizeof(specs)) < 0 ||
		    usdt_image__meta_args(desc->probes[i], meta_args, sizeof(meta_args)) < 0) {
			err = -ENAMETOOLONG;
			goto out;
		}
		s = usdt_note__encode(&nd, NULL, NULL, 0);
		if (s < 0) {
			err = (int)s;
			goto out;
		}
		stapsdt_len += (size_t)s;
		s = usdt_meta_note__encode(&md, NULL, NULL, 0);
		if (s < 0) {
			err = (int)s;
			goto out;
		}
		meta_len += (size_t)s;
	}

	for (int i = 1; i < SEC__COUNT; i++) {
		name_off[i] = shstr_len;
		shstr_len += strlen(sec_names[i]) + 1;
	}
	name_off[0] = 0;

	/* Layout. */
	off = sizeof(Elf64_Ehdr) + PH__COUNT * sizeof(Elf64_Phdr);
	pl[SEC_BUILD_ID] = (struct sec_plan){
		SHT_NOTE, SHF_ALLOC, align_up(off, 4), BUILD_ID_NOTE_SIZE, 4, 0, 0, 0, NULL};
	off = pl[SEC_BUILD_ID].offset + pl[SEC_BUILD_ID].size;
	pl[SEC_HASH] = (struct sec_plan){SHT_HASH, SHF_ALLOC, align_up(off, 8), (2 + 2 * nsyms) * 4,
					 8,	   4,	      SEC_DYNSYM,	0,
					 NULL};
	off = pl[SEC_HASH].offset + pl[SEC_HASH].size;
	pl[SEC_DYNSYM] = (struct sec_plan){
		SHT_DYNSYM, SHF_ALLOC,	       align_up(off, 8), nsyms * sizeof(Elf64_Sym),
		8,	    sizeof(Elf64_Sym), SEC_DYNSTR,	 1,
		NULL};
	off = pl[SEC_DYNSYM].offset + pl[SEC_DYNSYM].size;
	pl[SEC_DYNSTR] =
		(struct sec_plan){SHT_STRTAB, SHF_ALLOC, off, dynstr_len, 1, 0, 0, 0, b.dynstr};
	off += dynstr_len;
	pl[SEC_BASE] = (struct sec_plan){SHT_PROGBITS, SHF_ALLOC, off, 1, 1, 0, 0, 0, NULL};
	off += 1;
	pl[SEC_TEXT] = (struct sec_plan){SHT_PROGBITS,
					 SHF_ALLOC | SHF_EXECINSTR,
					 align_up(off, PAGE),
					 n * STUB_STRIDE,
					 STUB_STRIDE,
					 0,
					 0,
					 0,
					 NULL};
	off = pl[SEC_TEXT].offset + pl[SEC_TEXT].size;
	pl[SEC_DYNAMIC] = (struct sec_plan){
		SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, align_up(off, PAGE), 7 * sizeof(Elf64_Dyn),
		8,	     sizeof(Elf64_Dyn),	    SEC_DYNSTR,		 0,
		NULL};
	off = pl[SEC_DYNAMIC].offset + pl[SEC_DYNAMIC].size;
	pl[SEC_PROBES] = (struct sec_plan){
		SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, align_up(off, PAGE), n * 2, 2, 0, 0, 0, NULL};
	off = pl[SEC_PROBES].offset + pl[SEC_PROBES].size;
	pl[SEC_STAPSDT] =
		(struct sec_plan){SHT_NOTE, 0, align_up(off, 4), stapsdt_len, 4, 0, 0, 0, NULL};
	off = pl[SEC_STAPSDT].offset + stapsdt_len;
	pl[SEC_META] = (struct sec_plan){SHT_NOTE, 0, align_up(off, 4), meta_len, 4, 0, 0, 0, NULL};
	off = pl[SEC_META].offset + meta_len;
	pl[SEC_SHSTRTAB] = (struct sec_plan){SHT_STRTAB, 0, off, shstr_len, 1, 0, 0, 0, NULL};
	off = align_up(off + shstr_len, 8); /* section headers */
	base_vaddr = pl[SEC_BASE].offset;

	/* Contents. */
	b.build_id = malloc(BUILD_ID_NOTE_SIZE);
	b.hash = calloc(1, pl[SEC_HASH].size);
	b.dynsym = calloc(nsyms, sizeof(Elf64_Sym));
	b.text = malloc(pl[SEC_TEXT].size);
	b.dynamic = calloc(7, sizeof(Elf64_Dyn));
	b.probes = calloc(1, n * 2);
	b.stapsdt = calloc(1, stapsdt_len);
	b.meta = calloc(1, meta_len);
	b.shstrtab = calloc(1, shstr_len);
	if (!b.build_id || !b.hash || !b.dynsym || !b.text || !b.dynamic || !b.probes ||
	    !b.stapsdt || !b.meta || !b.shstrtab) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 1; i < SEC__COUNT; i++)
		strcpy(b.shstrtab + name_off[i], sec_names[i]);

	for (size_t i = 0; i < n; i++)
		probe_off = emit_stub(arch, b.text + i * STUB_STRIDE, desc->nop);
	build_id_note(desc, b.build_id);

	for (size_t i = 0; i < n; i++) {
		Elf64_Sym *fn = &b.dynsym[1 + i], *sem = &b.dynsym[1 + n + i];

		fn->st_name = (Elf64_Word)sym_name_off[1 + i];
		fn->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
		fn->st_shndx = SEC_TEXT;
		fn->st_value = pl[SEC_TEXT].offset + i * STUB_STRIDE;
		fn->st_size = STUB_STRIDE;
		sem->st_name = (Elf64_Word)sym_name_off[1 + n + i];
		sem->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
		sem->st_shndx = SEC_PROBES;
		sem->st_value = pl[SEC_PROBES].offset + 2 * i;
		sem->st_size = 2;
	}

	/* SysV hash: nbucket = nchain = nsyms, chains through dynsym order. */
	{
		uint32_t *bucket = b.hash + 2, *chain = b.hash + 2 + nsyms;

		b.hash[0] = (uint32_t)nsyms;
		b.hash[1] = (uint32_t)nsyms;
		for (size_t i = 1; i < nsyms; i++) {
			uint32_t h = (uint32_t)(elf_hash(b.dynstr + b.dynsym[i].st_name) % nsyms);

			chain[i] = bucket[h];
			bucket[h] = (uint32_t)i;
		}
	}

	b.dynamic[0] = (Elf64_Dyn){DT_HASH, {pl[SEC_HASH].offset}};
	b.dynamic[1] = (Elf64_Dyn){DT_STRTAB, {pl[SEC_DYNSTR].offset}};
	b.dynamic[2] = (Elf64_Dyn){DT_SYMTAB, {pl[SEC_DYNSYM].offset}};
	b.dynamic[3] = (Elf64_Dyn){DT_STRSZ, {dynstr_len}};
	b.dynamic[4] = (Elf64_Dyn){DT_SYMENT, {sizeof(Elf64_Sym)}};
	b.dynamic[5] = (Elf64_Dyn){DT_SONAME, {soname_off}};
	b.dynamic[6] = (Elf64_Dyn){DT_NULL, {0}};

	{
		size_t so = 0, mo = 0;

		for (size_t i = 0; i < n; i++) {
			const struct usdt_probe *p = desc->probes[i];
			uint64_t pc = pl[SEC_TEXT].offset + i * STUB_STRIDE + probe_off;
			struct usdt_note_desc nd = {
				desc->provider, p->name,
				specs,		pc,
				base_vaddr,	pl[SEC_PROBES].offset + 2 * i,
			};
			struct usdt_meta_desc md = {desc->provider, p->name, meta_args, pc};
			ssize_t s;

			usdt_image__arg_specs(arch, p, specs, sizeof(specs));
			usdt_image__meta_args(p, meta_args, sizeof(meta_args));
			s = usdt_note__encode(&nd, NULL, b.stapsdt + so, stapsdt_len - so);
			if (s < 0 || (size_t)s > stapsdt_len - so) {
				err = s < 0 ? (int)s : -EOVERFLOW;
				goto out;
			}
			so += (size_t)s;
			s = usdt_meta_note__encode(&md, NULL, b.meta + mo, meta_len - mo);
			if (s < 0 || (size_t)s > meta_len - mo) {
				err = s < 0 ? (int)s : -EOVERFLOW;
				goto out;
			}
			mo += (size_t)s;
		}
	}

	pl[SEC_BUILD_ID].data = b.build_id;
	pl[SEC_HASH].data = b.hash;
	pl[SEC_DYNSYM].data = b.dynsym;
	pl[SEC_DYNSTR].data = b.dynstr;
	pl[SEC_BASE].data = b.probes; /* one zero byte */
	pl[SEC_TEXT].data = b.text;
	pl[SEC_DYNAMIC].data = b.dynamic;
	pl[SEC_PROBES].data = b.probes;
	pl[SEC_STAPSDT].data = b.stapsdt;
	pl[SEC_META].data = b.meta;
	pl[SEC_SHSTRTAB].data = b.shstrtab;

	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!elf) {
		err = -EIO;
		goto out;
	}
	elf_flagelf(elf, ELF_C_SET, ELF_F_LAYOUT);
	if (!gelf_newehdr(elf, ELFCLASS64) || !gelf_getehdr(elf, &eh)) {
		err = -ENOMEM;
		goto out;
	}
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_DYN;
	eh.e_machine = arch->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = 0;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_shoff = off;
	eh.e_shstrndx = SEC_SHSTRTAB;
	if (!gelf_update_ehdr(elf, &eh) || !gelf_newphdr(elf, PH__COUNT)) {
		err = -EINVAL;
		goto out;
	}
	for (int i = 1; i < SEC__COUNT; i++) {
		err = add_section(elf, &pl[i], name_off[i]);
		if (err)
			goto out;
	}

	memset(ph, 0, sizeof(ph));
	ph[PH_LOAD_R] = (GElf_Phdr){PT_LOAD, PF_R, 0, 0, 0, 0, 0, PAGE};
	ph[PH_LOAD_R].p_filesz = ph[PH_LOAD_R].p_memsz = pl[SEC_BASE].offset + 1;
	ph[PH_LOAD_RX] = segment_of(PT_LOAD, PF_R | PF_X, &pl[SEC_TEXT], PAGE);
	ph[PH_LOAD_RW] = segment_of(PT_LOAD, PF_R | PF_W, &pl[SEC_DYNAMIC], PAGE);
	ph[PH_LOAD_PROBES] = segment_of(PT_LOAD, PF_R, &pl[SEC_PROBES], PAGE);
	ph[PH_DYNAMIC] = segment_of(PT_DYNAMIC, PF_R | PF_W, &pl[SEC_DYNAMIC], 8);
	ph[PH_NOTE] = segment_of(PT_NOTE, PF_R, &pl[SEC_BUILD_ID], 4);
	ph[PH_STACK] = (GElf_Phdr){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16};
	for (int i = 0; i < PH__COUNT; i++) {
		if (!gelf_update_phdr(elf, i, &ph[i])) {
			err = -EINVAL;
			goto out;
		}
	}
	if (elf_update(elf, ELF_C_WRITE) < 0) {
		err = -EIO;
		goto out;
	}

	layout->text_vaddr = pl[SEC_TEXT].offset;
	layout->probe_off = probe_off;
	layout->probes_vaddr = pl[SEC_PROBES].offset;
	layout->probes_offset = pl[SEC_PROBES].offset;
	layout->probes_size = pl[SEC_PROBES].size;
out:
	if (elf)
		elf_end(elf);
	bufs_free(&b);
	free(sym_name_off);
	return err;
}
