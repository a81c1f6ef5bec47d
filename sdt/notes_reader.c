/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Note reader: finds every stapsdt probe note (and usdtkit metadata note)
 * of an ELF object and resolves where each probe lives in the file.
 *
 * Why a parser of our own rather than libelf: the reader runs on every
 * object `usdtkit list` and `trace` look at, so it must be cheap (it reads
 * only the ELF header, the section and program headers, the section-name
 * table and the note sections — a few pread()s, not a whole file), and it
 * is fed untrusted files, so it must be small enough to fuzz and reason
 * about. Every read goes through src_read(), which checks the range
 * against the object's size; every multi-byte field is decoded with
 * explicit byte order, so ELF32/ELF64 and both endiannesses share one path.
 *
 * Input comes either from memory (copied piecewise: the caller's buffer
 * need not outlive the call) or from a file descriptor (pread, no mmap: a
 * file truncated under us gives an error, not SIGBUS). Symbol tables are
 * only needed by usdt_notes__symbol(), so for files they are read on first
 * use (under a lock: a collection may be shared between threads); for
 * memory input they are copied at open.
 *
 * Strictness: anything that does not add up — a header, section or note
 * that runs past its container, a bad string-table index, a note string
 * without its NUL — fails the whole open with EBADMSG. A half-read object
 * would let a tracer attach probes at wrong addresses.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <usdtkit/stapsdt.h>

#include "elf_bytes.h"

struct src {
	const uint8_t *mem; /* memory input, or NULL */
	int fd; /* file input when mem is NULL */
	uint64_t size;
};

struct load_seg {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
};

struct sec {
	uint32_t name;
	uint32_t type;
	uint64_t flags;
	uint64_t addr;
	uint64_t offset;
	uint64_t size;
	uint32_t link;
	uint64_t addralign;
	uint64_t entsize;
};

struct symtab {
	bool present;
	uint64_t offset, size; /* the symbols, in the file */
	uint64_t str_offset, str_size; /* the string table, in the file */
	uint8_t *syms; /* loaded copy */
	char *strs;
};

#define SYM_INDEX_AFTER 64

struct sym_slot {
	uint32_t hash; /* high half of the name's hash */
	uint32_t ref; /* 0 empty, else table (0 .symtab, 1 .dynsym) << 31 | (index + 1) */
};

struct meta_ref {
	const char *provider;
	const char *name;
	const char *args;
	uint64_t pc;
};

struct usdt_notes {
	struct usdt_note *notes;
	size_t count, cap;
	struct meta_ref *metas;
	size_t nmeta, meta_cap;
	uint8_t **bufs; /* note section copies the strings point into */
	size_t nbufs;
	struct load_seg *segs;
	size_t nsegs;
	struct symtab symtab, dynsym;
	pthread_mutex_t syms_lock;
	bool syms_loaded;
	/*
	 * Name index over both tables, built on the SYM_INDEX_AFTER-th
	 * lookup: a tracer may look up a symbol per rip-relative argument,
	 * and big objects have 10^5 symbols (scanning node's costs ~0.3 ms,
	 * indexing them ~60 ms). Slots keep 32 bits of the name's hash, so
	 * probing touches a symbol only on a likely match.
	 */
	struct sym_slot *sym_slots;
	size_t sym_mask;
	unsigned int sym_lookups; /* the index pays off after many lookups */
	int fd; /* kept for lazy symbol loading, -1 when not needed */
	uint64_t file_size;
	bool is64, be;
	uint16_t e_type, e_machine;
};

static int opts_check(const struct usdt_notes_opts *opts)
{
	if (!opts)
		return 0;
	if (opts->sz < USDT_NOTES_OPTS_SZ_MIN)
		return -EINVAL;
	for (size_t i = sizeof(*opts); i < opts->sz; i++)
		if (((const uint8_t *)opts)[i])
			return -EINVAL;
	return 0;
}

/* Reads @len bytes at @off; -EBADMSG when the range leaves the object. */
static int src_read(const struct src *s, uint64_t off, uint64_t len, void *dst)
{
	if (off > s->size || len > s->size - off)
		return -EBADMSG;
	if (s->mem) {
		memcpy(dst, s->mem + off, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(s->fd, dst, len > (1u << 30) ? (1u << 30) : len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG; /* file shrank under us */
		dst = (uint8_t *)dst + n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Allocates and reads a range; an empty range gives a 1-byte buffer. */
static int src_dup(const struct src *s, uint64_t off, uint64_t len, uint8_t **out)
{
	uint8_t *buf;
	int err;

	*out = NULL;
	if (off > s->size || len > s->size - off)
		return -EBADMSG;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	err = src_read(s, off, len, buf);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static uint64_t rd(const struct usdt_notes *n, const uint8_t *p, unsigned int size)
{
	return usdt_get_uint(p, size, n->be);
}

static int keep_buf(struct usdt_notes *n, uint8_t *buf)
{
	uint8_t **b = realloc(n->bufs, (n->nbufs + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	n->bufs = b;
	n->bufs[n->nbufs++] = buf;
	return 0;
}

/*
 * Splits the three NUL-terminated strings that end a descriptor.
 * -EBADMSG when one lacks its NUL inside the descriptor.
 */
static int split_strings(const uint8_t *p, size_t len, const char **str)
{
	for (int i = 0; i < 3; i++) {
		const uint8_t *nul = memchr(p, 0, len);
		if (!nul)
			return -EBADMSG;
		str[i] = (const char *)p;
		len -= (size_t)(nul - p) + 1;
		p = nul + 1;
	}
	return 0;
}

/* Makes room for one more element in an array that doubles as it grows. */
static int grow_array(void **arr, size_t *cap, size_t count, size_t elem)
{
	size_t new_cap;
	void *a;

	if (count < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 16;
	a = realloc(*arr, new_cap * elem);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = new_cap;
	return 0;
}

static int add_stapsdt(struct usdt_notes *n, const uint8_t *desc, size_t descsz)
{
	const unsigned int asz = n->is64 ? 8 : 4;
	struct usdt_note *note;
	const char *str[3];
	int err;

	if (descsz < 3 * asz + 3)
		return -EBADMSG;
	err = split_strings(desc + 3 * asz, descsz - 3 * asz, str);
	if (err)
		return err;
	err = grow_array((void **)&n->notes, &n->cap, n->count, sizeof(*n->notes));
	if (err)
		return err;
	note = &n->notes[n->count++];
	memset(note, 0, sizeof(*note));
	note->pc = rd(n, desc, asz);
	note->base = rd(n, desc + asz, asz);
	note->semaphore = rd(n, desc + 2 * asz, asz);
	note->provider = str[0];
	note->name = str[1];
	note->args = str[2];
	return 0;
}

static int add_meta(struct usdt_notes *n, const uint8_t *desc, size_t descsz)
{
	const unsigned int asz = n->is64 ? 8 : 4;
	const char *str[3];
	int err;

	if (descsz < asz + 3)
		return -EBADMSG;
	err = split_strings(desc + asz, descsz - asz, str);
	if (err)
		return err;
	err = grow_array((void **)&n->metas, &n->meta_cap, n->nmeta, sizeof(*n->metas));
	if (err)
		return err;
	n->metas[n->nmeta++] = (struct meta_ref){
		.pc = rd(n, desc, asz),
		.provider = str[0],
		.name = str[1],
		.args = str[2],
	};
	return 0;
}

/*
 * Walks the notes of one note section or segment (@buf is owned by @n) and
 * records the stapsdt and usdtkit ones; others are skipped.
 */
static int parse_notes(struct usdt_notes *n, const uint8_t *buf, uint64_t size, uint64_t align)
{
	uint64_t off = 0;
	int err;

	/* gABI notes are 4-aligned; some 64-bit producers use 8. */
	align = align == 8 ? 8 : 4;
	while (off < size) {
		uint64_t left = size - off, namesz, descsz, type, name_pad, desc_pad;
		const uint8_t *p = buf + off;

		if (left < 12) {
			/* tolerate zero padding at the end, nothing else */
			for (uint64_t i = 0; i < left; i++)
				if (p[i])
					return -EBADMSG;
			break;
		}
		namesz = rd(n, p, 4);
		descsz = rd(n, p + 4, 4);
		type = rd(n, p + 8, 4);
		name_pad = (namesz + align - 1) & ~(align - 1);
		desc_pad = (descsz + align - 1) & ~(align - 1);
		if (name_pad > left - 12 || descsz > left - 12 - name_pad)
			return -EBADMSG;
		const uint8_t *name = p + 12, *desc = p + 12 + name_pad;
		if (namesz == sizeof(USDT_STAPSDT_OWNER) && type == USDT_STAPSDT_NOTE_TYPE &&
		    !memcmp(name, USDT_STAPSDT_OWNER, namesz)) {
			err = add_stapsdt(n, desc, descsz);
			if (err)
				return err;
		} else if (namesz == sizeof(USDT_META_OWNER) && type == USDT_META_NOTE_TYPE &&
			   !memcmp(name, USDT_META_OWNER, namesz)) {
			err = add_meta(n, desc, descsz);
			if (err)
				return err;
		}
		/* the last note's descriptor padding may be cut by the section end */
		off += 12 + name_pad + (desc_pad <= left - 12 - name_pad ? desc_pad : descsz);
	}
	return 0;
}

static int read_note_range(struct usdt_notes *n, const struct src *s, uint64_t off, uint64_t size,
			   uint64_t align)
{
	uint8_t *buf;
	int err;

	err = src_dup(s, off, size, &buf);
	if (err)
		return err;
	err = keep_buf(n, buf);
	if (err) {
		free(buf);
		return err;
	}
	return parse_notes(n, buf, size, align);
}

static uint64_t to_offset(const struct usdt_notes *n, uint64_t vaddr)
{
	for (size_t i = 0; i < n->nsegs; i++) {
		const struct load_seg *g = &n->segs[i];
		if (vaddr >= g->vaddr && vaddr - g->vaddr < g->filesz)
			return vaddr - g->vaddr + g->offset;
	}
	return USDT_NO_OFFSET;
}

int usdt_notes__vaddr_to_offset(const struct usdt_notes *n, uint64_t vaddr, uint64_t *offset)
{
	uint64_t off;

	if (!n || !offset) {
		errno = EINVAL;
		return -EINVAL;
	}
	off = to_offset(n, vaddr);
	if (off == USDT_NO_OFFSET) {
		errno = ENOENT;
		return -ENOENT;
	}
	*offset = off;
	return 0;
}

static void decode_sec(const struct usdt_notes *n, const uint8_t *p, struct sec *s)
{
	if (n->is64) {
		s->name = rd(n, p, 4);
		s->type = rd(n, p + 4, 4);
		s->flags = rd(n, p + 8, 8);
		s->addr = rd(n, p + 16, 8);
		s->offset = rd(n, p + 24, 8);
		s->size = rd(n, p + 32, 8);
		s->link = rd(n, p + 40, 4);
		s->addralign = rd(n, p + 48, 8);
		s->entsize = rd(n, p + 56, 8);
	} else {
		s->name = rd(n, p, 4);
		s->type = rd(n, p + 4, 4);
		s->flags = rd(n, p + 8, 4);
		s->addr = rd(n, p + 12, 4);
		s->offset = rd(n, p + 16, 4);
		s->size = rd(n, p + 20, 4);
		s->link = rd(n, p + 24, 4);
		s->addralign = rd(n, p + 32, 4);
		s->entsize = rd(n, p + 36, 4);
	}
}

/* Section name @idx in the section-name table, or NULL when it is not a proper string. */
static const char *sec_name(const char *strs, uint64_t size, uint32_t idx)
{
	if (idx >= size || !memchr(strs + idx, 0, size - idx))
		return NULL;
	return strs + idx;
}

static int note_symtab(const struct usdt_notes *n, const struct sec *secs, uint64_t shnum,
		       const struct sec *s, struct symtab *t)
{
	const uint64_t symsz = n->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	const struct sec *str;

	if (t->present)
		return 0; /* first of its type wins */
	if (s->entsize != symsz || s->size % symsz || s->link == 0 || s->link >= shnum)
		return -EBADMSG;
	str = &secs[s->link];
	if (str->type != SHT_STRTAB || !range_ok(str->offset, str->size, n->file_size))
		return -EBADMSG;
	t->present = true;
	t->offset = s->offset;
	t->size = s->size;
	t->str_offset = str->offset;
	t->str_size = str->size;
	return 0;
}

static int load_symtab(const struct src *s, struct symtab *t)
{
	int err;

	if (!t->present || t->syms)
		return 0;
	err = src_dup(s, t->offset, t->size, &t->syms);
	if (err)
		return err;
	err = src_dup(s, t->str_offset, t->str_size, (uint8_t **)&t->strs);
	if (err) {
		free(t->syms);
		t->syms = NULL; /* all or nothing, so a later call retries cleanly */
	}
	return err;
}

/* The NUL-terminated name at @st_name in @t's string table, or NULL. */
static const char *sym_name(const struct symtab *t, uint64_t st_name)
{
	if (st_name >= t->str_size || !memchr(t->strs + st_name, 0, t->str_size - st_name))
		return NULL;
	return t->strs + st_name;
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static const uint8_t *slot_sym(const struct usdt_notes *n, uint32_t ref, const struct symtab **t)
{
	const size_t symsz = n->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);

	*t = (ref >> 31) ? &n->dynsym : &n->symtab;
	return (*t)->syms + (size_t)((ref & 0x7fffffff) - 1) * symsz;
}

/* Slot of @name (hash @h), or of the empty slot where it would go. */
static size_t sym_probe(const struct usdt_notes *n, const char *name, uint64_t h)
{
	size_t j;

	for (j = h & n->sym_mask; n->sym_slots[j].ref; j = (j + 1) & n->sym_mask) {
		const struct symtab *t;
		const uint8_t *p;

		if (n->sym_slots[j].hash != (uint32_t)(h >> 32))
			continue;
		p = slot_sym(n, n->sym_slots[j].ref, &t);
		if (!strcmp(sym_name(t, rd(n, p, 4)), name))
			break;
	}
	return j;
}

static int build_sym_index(struct usdt_notes *n)
{
	const size_t symsz = n->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	const struct symtab *tabs[2] = {&n->symtab, &n->dynsym};
	uint64_t count = 0;
	size_t cap = 16;

	for (int k = 0; k < 2; k++)
		if (tabs[k]->syms)
			count += tabs[k]->size / symsz;
	if (count == 0 || count > 0x7fffffff / 4)
		return 0; /* nothing to index, or absurd: lookups scan instead */
	while (cap < 2 * count)
		cap *= 2;
	n->sym_slots = calloc(cap, sizeof(*n->sym_slots));
	if (!n->sym_slots)
		return -ENOMEM;
	n->sym_mask = cap - 1;
	for (uint32_t k = 0; k < 2; k++) {
		const struct symtab *t = tabs[k];
		for (uint64_t i = 0; t->syms && i < t->size / symsz; i++) {
			const uint8_t *p = t->syms + i * symsz;
			const char *name;
			uint64_t h;
			size_t j;

			if (rd(n, p + (n->is64 ? 6 : 14), 2) == SHN_UNDEF)
				continue;
			name = sym_name(t, rd(n, p, 4));
			if (!name || !*name)
				continue;
			h = hash_name(name);
			j = sym_probe(n, name, h);
			if (!n->sym_slots[j].ref) /* else: the first definition wins */
				n->sym_slots[j] = (struct sym_slot){
					.hash = (uint32_t)(h >> 32),
					.ref = k << 31 | (uint32_t)(i + 1),
				};
		}
	}
	return 0;
}

static int load_syms(struct usdt_notes *n, const struct src *s)
{
	int err = load_symtab(s, &n->symtab);

	if (!err)
		err = load_symtab(s, &n->dynsym);
	if (!err)
		n->syms_loaded = true;
	return err;
}

/*
 * Section headers: find the note sections, .stapsdt.base and the symbol
 * tables. @base_addr gets .stapsdt.base's address, @has_base whether found.
 */
static int parse_sections(struct usdt_notes *n, const struct src *s, uint64_t shoff, uint64_t shnum,
			  uint64_t shentsize, uint64_t shstrndx, bool *has_base,
			  uint64_t *base_addr)
{
	struct sec *secs = NULL;
	uint8_t *raw = NULL, *names = NULL;
	struct sec *ss;
	int err;

	/* the table must fit in the file: this also bounds shnum */
	if (shentsize < (n->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) ||
	    shnum > s->size / shentsize) {
		err = -EBADMSG;
		goto out;
	}
	err = src_dup(s, shoff, shnum * shentsize, &raw);
	if (err)
		goto out;
	secs = calloc(shnum, sizeof(*secs));
	if (!secs) {
		err = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < shnum; i++) {
		decode_sec(n, raw + i * shentsize, &secs[i]);
		if (i && secs[i].type != SHT_NOBITS && secs[i].type != SHT_NULL &&
		    !range_ok(secs[i].offset, secs[i].size, s->size)) {
			err = -EBADMSG;
			goto out;
		}
	}
	if (shstrndx >= shnum || shstrndx == 0 || secs[shstrndx].type != SHT_STRTAB) {
		err = -EBADMSG;
		goto out;
	}
	ss = &secs[shstrndx];
	err = src_dup(s, ss->offset, ss->size, &names);
	if (err)
		goto out;

	for (uint64_t i = 1; i < shnum; i++) {
		const struct sec *c = &secs[i];
		const char *name = sec_name((const char *)names, ss->size, c->name);

		if (!name) {
			err = -EBADMSG;
			goto out;
		}
		if (c->type == SHT_SYMTAB)
			err = note_symtab(n, secs, shnum, c, &n->symtab);
		else if (c->type == SHT_DYNSYM)
			err = note_symtab(n, secs, shnum, c, &n->dynsym);
		else if (c->type == SHT_NOTE &&
			 (!strcmp(name, USDT_STAPSDT_SECTION) || !strcmp(name, USDT_META_SECTION)))
			err = read_note_range(n, s, c->offset, c->size, c->addralign);
		else if (!*has_base && !strcmp(name, USDT_STAPSDT_BASE_SECTION)) {
			*has_base = true;
			*base_addr = c->addr;
		}
		if (err)
			goto out;
	}
out:
	free(raw);
	free(secs);
	free(names);
	return err;
}

static int parse_phdrs(struct usdt_notes *n, const struct src *s, uint64_t phoff, uint64_t phnum,
		       uint64_t phentsize, bool want_notes)
{
	uint8_t *raw = NULL;
	int err;

	if (!phnum)
		return 0;
	if (phentsize < (n->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) ||
	    phnum > s->size / phentsize)
		return -EBADMSG;
	err = src_dup(s, phoff, phnum * phentsize, &raw);
	if (err)
		return err;
	n->segs = calloc(phnum, sizeof(*n->segs));
	if (!n->segs) {
		err = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *p = raw + i * phentsize;
		uint64_t type = rd(n, p, 4), off, vaddr, filesz, align;

		if (n->is64) {
			off = rd(n, p + 8, 8);
			vaddr = rd(n, p + 16, 8);
			filesz = rd(n, p + 32, 8);
			align = rd(n, p + 48, 8);
		} else {
			off = rd(n, p + 4, 4);
			vaddr = rd(n, p + 8, 4);
			filesz = rd(n, p + 16, 4);
			align = rd(n, p + 28, 4);
		}
		if (type == PT_LOAD) {
			if (!range_ok(off, filesz, s->size)) {
				err = -EBADMSG;
				goto out;
			}
			n->segs[n->nsegs++] = (struct load_seg){vaddr, off, filesz};
		} else if (type == PT_NOTE && want_notes) {
			err = read_note_range(n, s, off, filesz, align);
			if (err)
				goto out;
		}
	}
out:
	free(raw);
	return err;
}

static int cmp_key(const char *prov_a, const char *name_a, const char *prov_b, const char *name_b)
{
	int c = strcmp(prov_a, prov_b);

	return c ? c : strcmp(name_a, name_b);
}

static int cmp_note_ptr(const void *a, const void *b)
{
	const struct usdt_note *x = *(const struct usdt_note *const *)a;
	const struct usdt_note *y = *(const struct usdt_note *const *)b;

	return cmp_key(x->provider, x->name, y->provider, y->name);
}

/*
 * Attaches metadata to notes: pc-0 ("every location") entries first, so
 * exact-pc ones win. Notes are sorted by provider:name once, so each
 * metadata note costs a binary search, not a scan (a typed provider has
 * as many metadata notes as probe notes).
 */
static int join_meta(struct usdt_notes *n)
{
	struct usdt_note **idx;

	if (!n->nmeta || !n->count)
		return 0;
	idx = malloc(n->count * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < n->count; i++)
		idx[i] = &n->notes[i];
	qsort(idx, n->count, sizeof(*idx), cmp_note_ptr);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t m = 0; m < n->nmeta; m++) {
			const struct meta_ref *r = &n->metas[m];
			size_t lo = 0, hi = n->count;

			if ((pass == 0) != (r->pc == 0))
				continue;
			/* first note not less than (provider, name) */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (cmp_key(idx[mid]->provider, idx[mid]->name, r->provider,
					    r->name) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < n->count &&
			       !cmp_key(idx[lo]->provider, idx[lo]->name, r->provider, r->name);
			     lo++)
				if (r->pc == 0 || r->pc == idx[lo]->pc)
					idx[lo]->meta = r->args;
		}
	}
	free(idx);
	return 0;
}

static int parse(struct usdt_notes *n, const struct src *s)
{
	uint8_t eh[64];
	uint64_t phoff, shoff, phnum, shnum, shentsize, phentsize, shstrndx, base_addr = 0;
	bool has_base = false;
	int err;

	n->file_size = s->size;
	if (s->size < SELFMAG)
		return -ENOEXEC;
	err = src_read(s, 0, SELFMAG, eh);
	if (err)
		return err;
	if (memcmp(eh, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (s->size < EI_NIDENT)
		return -EBADMSG;
	err = src_read(s, 0, EI_NIDENT, eh);
	if (err)
		return err;
	if (eh[EI_CLASS] != ELFCLASS32 && eh[EI_CLASS] != ELFCLASS64)
		return -ENOTSUP;
	if (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB)
		return -ENOTSUP;
	n->is64 = eh[EI_CLASS] == ELFCLASS64;
	n->be = eh[EI_DATA] == ELFDATA2MSB;
	err = src_read(s, 0, n->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr), eh);
	if (err)
		return err;
	n->e_type = rd(n, eh + 16, 2);
	n->e_machine = rd(n, eh + 18, 2);
	if (n->is64) {
		phoff = rd(n, eh + 32, 8);
		shoff = rd(n, eh + 40, 8);
	} else {
		phoff = rd(n, eh + 28, 4);
		shoff = rd(n, eh + 32, 4);
	}
	const uint8_t *t = eh + (n->is64 ? 54 : 42);
	phentsize = rd(n, t, 2);
	phnum = rd(n, t + 2, 2);
	shentsize = rd(n, t + 4, 2);
	shnum = rd(n, t + 6, 2);
	shstrndx = rd(n, t + 8, 2);

	/* Extended numbering: the real counts live in section header 0. */
	if (shoff && (shnum == 0 || shstrndx == SHN_XINDEX || phnum == PN_XNUM)) {
		uint8_t raw[sizeof(Elf64_Shdr)];
		struct sec s0;
		uint64_t info;

		if (shentsize < (n->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)))
			return -EBADMSG;
		err = src_read(s, shoff, n->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr), raw);
		if (err)
			return err;
		decode_sec(n, raw, &s0);
		info = rd(n, raw + (n->is64 ? 44 : 28), 4);
		if (shnum == 0)
			shnum = s0.size;
		if (shstrndx == SHN_XINDEX)
			shstrndx = s0.link;
		if (phnum == PN_XNUM)
			phnum = info;
	}
	/* a count without a table, or a table (its entry 0 at least) without a count */
	if (!!shnum != !!shoff)
		return -EBADMSG;

	err = parse_phdrs(n, s, phoff, phnum, phentsize, shnum == 0);
	if (err)
		return err;
	if (shnum) {
		err = parse_sections(n, s, shoff, shnum, shentsize, shstrndx, &has_base,
				     &base_addr);
		if (err)
			return err;
	}

	for (size_t i = 0; i < n->count; i++) {
		struct usdt_note *note = &n->notes[i];
		uint64_t diff = 0;

		/* prelink moved the object: shift by how far .stapsdt.base moved */
		if (has_base && note->base)
			diff = base_addr - note->base;
		note->pc_addr = note->pc + diff;
		note->sema_addr = note->semaphore ? note->semaphore + diff : 0;
		if (!n->is64) {
			note->pc_addr &= UINT32_MAX;
			note->sema_addr &= UINT32_MAX;
		}
		note->pc_offset = to_offset(n, note->pc_addr);
		note->sema_offset =
			note->sema_addr ? to_offset(n, note->sema_addr) : USDT_NO_OFFSET;
	}
	return join_meta(n);
}

void usdt_notes__free(struct usdt_notes *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nbufs; i++)
		free(n->bufs[i]);
	free(n->bufs);
	free(n->notes);
	free(n->metas);
	free(n->segs);
	free(n->symtab.syms);
	free(n->symtab.strs);
	free(n->dynsym.syms);
	free(n->dynsym.strs);
	free(n->sym_slots);
	if (n->fd >= 0)
		close(n->fd);
	pthread_mutex_destroy(&n->syms_lock);
	free(n);
}

static struct usdt_notes *open_src(const struct src *s, const struct usdt_notes_opts *opts)
{
	struct usdt_notes *n;
	int err = opts_check(opts);

	if (err)
		goto fail;
	n = calloc(1, sizeof(*n));
	if (!n) {
		err = -ENOMEM;
		goto fail;
	}
	n->fd = -1;
	pthread_mutex_init(&n->syms_lock, NULL);
	err = parse(n, s);
	if (!err && s->mem)
		err = load_syms(n, s); /* the caller's buffer is gone after we return */
	if (!err && !s->mem && (n->symtab.present || n->dynsym.present)) {
		n->fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
		if (n->fd < 0)
			err = -errno;
	}
	if (err) {
		usdt_notes__free(n);
		goto fail;
	}
	return n;
fail:
	errno = -err;
	return NULL;
}

struct usdt_notes *usdt_notes__open_mem(const void *buf, size_t size,
					const struct usdt_notes_opts *opts)
{
	struct src s = {.mem = buf, .fd = -1, .size = size};

	if (!buf) {
		errno = EINVAL;
		return NULL;
	}
	return open_src(&s, opts);
}

struct usdt_notes *usdt_notes__open_fd(int fd, const struct usdt_notes_opts *opts)
{
	struct src s = {.fd = fd};
	struct stat st;

	if (fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : ENOEXEC;
		return NULL;
	}
	s.size = (uint64_t)st.st_size;
	return open_src(&s, opts);
}

struct usdt_notes *usdt_notes__open_path(const char *path, const struct usdt_notes_opts *opts)
{
	struct usdt_notes *n;
	int fd, saved;

	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	n = usdt_notes__open_fd(fd, opts);
	saved = errno;
	close(fd);
	errno = saved;
	return n;
}

size_t usdt_notes__count(const struct usdt_notes *n)
{
	return n ? n->count : 0;
}

const struct usdt_note *usdt_notes__get(const struct usdt_notes *n, size_t i)
{
	if (!n || i >= n->count) {
		errno = EINVAL;
		return NULL;
	}
	return &n->notes[i];
}

enum usdt_arch usdt_notes__arch(const struct usdt_notes *n)
{
	if (!n)
		return USDT_ARCH_UNKNOWN;
	switch (n->e_machine) {
	case EM_X86_64:
		return USDT_ARCH_X86_64;
	case EM_386:
		return USDT_ARCH_X86;
	case EM_AARCH64:
		return USDT_ARCH_AARCH64;
	default:
		return USDT_ARCH_UNKNOWN;
	}
}

bool usdt_notes__is_64bit(const struct usdt_notes *n)
{
	return n && n->is64;
}

bool usdt_notes__is_big_endian(const struct usdt_notes *n)
{
	return n && n->be;
}

uint16_t usdt_notes__elf_type(const struct usdt_notes *n)
{
	return n ? n->e_type : ET_NONE;
}

/* Finds a defined symbol @name in @t. */
static int find_sym(const struct usdt_notes *n, const struct symtab *t, const char *name,
		    size_t len, uint64_t *vaddr)
{
	const size_t symsz = n->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);

	if (!t->present || !t->syms || !t->strs)
		return -ENOENT;
	for (uint64_t off = 0; off + symsz <= t->size; off += symsz) {
		const uint8_t *p = t->syms + off;
		uint64_t st_name = rd(n, p, 4), shndx, value;

		if (st_name >= t->str_size || t->str_size - st_name < len + 1 ||
		    memcmp(t->strs + st_name, name, len + 1))
			continue;
		shndx = rd(n, p + (n->is64 ? 6 : 14), 2);
		if (shndx == SHN_UNDEF)
			continue;
		value = n->is64 ? rd(n, p + 8, 8) : rd(n, p + 4, 4);
		*vaddr = value;
		return 0;
	}
	return -ENOENT;
}

int usdt_notes__symbol(const struct usdt_notes *cn, const char *name, uint64_t *vaddr)
{
	/* Lazy loading mutates the cache only; the notes themselves do not change. */
	struct usdt_notes *n = (struct usdt_notes *)cn;
	int err = 0;

	if (!n || !name || !*name || !vaddr) {
		err = -EINVAL;
		goto out;
	}
	/* one lock around load, index and lookup: cheap next to any of them */
	pthread_mutex_lock(&n->syms_lock);
	if (!n->syms_loaded) {
		struct src s = {.fd = n->fd, .size = n->file_size};
		err = n->fd >= 0 ? load_syms(n, &s) : -ENOENT;
	}
	if (!err && !n->sym_slots && ++n->sym_lookups == SYM_INDEX_AFTER)
		(void)build_sym_index(n); /* without memory for it, lookups scan */
	if (err) {
		/* nothing loaded */
	} else if (n->sym_slots) {
		size_t j = sym_probe(n, name, hash_name(name));

		err = -ENOENT;
		if (n->sym_slots[j].ref) {
			const struct symtab *t;
			const uint8_t *p = slot_sym(n, n->sym_slots[j].ref, &t);

			*vaddr = n->is64 ? rd(n, p + 8, 8) : rd(n, p + 4, 4);
			err = 0;
		}
	} else {
		size_t len = strlen(name);

		err = find_sym(n, &n->symtab, name, len, vaddr);
		if (err)
			err = find_sym(n, &n->dynsym, name, len, vaddr);
	}
	pthread_mutex_unlock(&n->syms_lock);
out:
	if (err)
		errno = -err;
	return err;
}
