/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Test helper: builds small synthetic ELF objects in memory (ELF32/ELF64,
 * either byte order) from a list of sections and program headers, so the
 * note reader can be tested on layouts the toolchain would never produce
 * (prelinked .stapsdt.base, big-endian, 32-bit, corrupt headers).
 *
 * Layout: ELF header, program headers, section contents (8-aligned),
 * .shstrtab, section headers. Section 0 is the null section; the caller's
 * sections are 1..n and .shstrtab is n+1.
 */
#ifndef USDTKIT_TEST_NOTES_ELF_H
#define USDTKIT_TEST_NOTES_ELF_H

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct synth_sec {
	const char *name;
	uint32_t type; /* SHT_* */
	uint64_t flags; /* SHF_* */
	uint64_t addr;
	const void *data; /* NULL: zero-filled (or nothing for SHT_NOBITS) */
	size_t size;
	uint32_t link; /* section index, as in the result (caller's index + 1) */
	uint32_t info;
	uint64_t entsize;
	uint64_t offset; /* filled in by synth_elf_build */
};

struct synth_phdr {
	uint32_t type; /* PT_* */
	int sec; /* >= 0: cover caller's section @sec (index into the array) */
	uint64_t vaddr, offset, filesz, memsz; /* used when sec < 0 */
	uint32_t flags;
};

struct synth_elf {
	bool is64;
	bool big_endian;
	uint16_t e_type; /* 0: ET_DYN */
	uint16_t machine; /* 0: EM_X86_64 */
	struct synth_sec *secs;
	int nsec;
	struct synth_phdr *phdrs;
	int nphdr;
	/* filled in */
	uint64_t shoff;
	uint64_t phoff;
};

static inline void synth_put(uint8_t *p, uint64_t v, int size, bool be)
{
	for (int i = 0; i < size; i++) {
		int at = be ? size - 1 - i : i;
		p[at] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t synth_get_le(const uint8_t *p, int size)
{
	uint64_t v = 0;
	for (int i = size - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Returns a malloc'ed image; *size gets its length. */
static inline uint8_t *synth_elf_build(struct synth_elf *e, size_t *size)
{
	const bool is64 = e->is64, be = e->big_endian;
	const int ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32, shentsize = is64 ? 64 : 40,
		  asz = is64 ? 8 : 4;
	size_t strsz = 1 + strlen(".shstrtab") + 1, off, stroff;
	size_t name_off[64];
	uint8_t *img;
	int nsh = e->nsec + 2;

	if (e->nsec > 60)
		return NULL;
	for (int i = 0; i < e->nsec; i++)
		strsz += strlen(e->secs[i].name) + 1;
	off = ehsize + (size_t)e->nphdr * phentsize;
	for (int i = 0; i < e->nsec; i++) {
		off = (off + 7) & ~(size_t)7;
		e->secs[i].offset = off;
		if (e->secs[i].type != SHT_NOBITS)
			off += e->secs[i].size;
	}
	stroff = off;
	off += strsz;
	off = (off + 7) & ~(size_t)7;
	e->shoff = off;
	e->phoff = e->nphdr ? (uint64_t)ehsize : 0;
	*size = off + (size_t)nsh * shentsize;
	img = calloc(1, *size);
	if (!img)
		return NULL;

	/* ELF header */
	memcpy(img, ELFMAG, SELFMAG);
	img[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	img[EI_DATA] = be ? ELFDATA2MSB : ELFDATA2LSB;
	img[EI_VERSION] = EV_CURRENT;
	synth_put(img + 16, e->e_type ? e->e_type : ET_DYN, 2, be);
	synth_put(img + 18, e->machine ? e->machine : EM_X86_64, 2, be);
	synth_put(img + 20, EV_CURRENT, 4, be);
	/* e_entry left 0 */
	synth_put(img + 24 + asz, e->phoff, asz, be);
	synth_put(img + 24 + 2 * asz, e->shoff, asz, be);
	synth_put(img + 28 + 3 * asz, ehsize, 2, be); /* after e_flags */
	synth_put(img + 30 + 3 * asz, phentsize, 2, be);
	synth_put(img + 32 + 3 * asz, e->nphdr, 2, be);
	synth_put(img + 34 + 3 * asz, shentsize, 2, be);
	synth_put(img + 36 + 3 * asz, nsh, 2, be);
	synth_put(img + 38 + 3 * asz, nsh - 1, 2, be);

	/* section contents and names */
	size_t n = 1;
	for (int i = 0; i < e->nsec; i++) {
		struct synth_sec *s = &e->secs[i];
		if (s->data && s->type != SHT_NOBITS)
			memcpy(img + s->offset, s->data, s->size);
		name_off[i] = n;
		memcpy(img + stroff + n, s->name, strlen(s->name) + 1);
		n += strlen(s->name) + 1;
	}
	size_t shstr_name = n;
	memcpy(img + stroff + n, ".shstrtab", sizeof(".shstrtab"));

	/* program headers */
	for (int i = 0; i < e->nphdr; i++) {
		const struct synth_phdr *p = &e->phdrs[i];
		uint8_t *ph = img + ehsize + (size_t)i * phentsize;
		uint64_t vaddr = p->vaddr, poff = p->offset, filesz = p->filesz, memsz = p->memsz;
		if (p->sec >= 0) {
			const struct synth_sec *s = &e->secs[p->sec];
			vaddr = s->addr;
			poff = s->offset;
			filesz = s->type == SHT_NOBITS ? 0 : s->size;
			memsz = s->size;
		}
		synth_put(ph, p->type, 4, be);
		if (is64) {
			synth_put(ph + 4, p->flags, 4, be);
			synth_put(ph + 8, poff, 8, be);
			synth_put(ph + 16, vaddr, 8, be);
			synth_put(ph + 24, vaddr, 8, be);
			synth_put(ph + 32, filesz, 8, be);
			synth_put(ph + 40, memsz, 8, be);
			synth_put(ph + 48, 0x1000, 8, be);
		} else {
			synth_put(ph + 4, poff, 4, be);
			synth_put(ph + 8, vaddr, 4, be);
			synth_put(ph + 12, vaddr, 4, be);
			synth_put(ph + 16, filesz, 4, be);
			synth_put(ph + 20, memsz, 4, be);
			synth_put(ph + 24, p->flags, 4, be);
			synth_put(ph + 28, 0x1000, 4, be);
		}
	}

	/* section headers: null, caller's, .shstrtab */
	for (int i = 0; i <= e->nsec; i++) {
		uint8_t *sh = img + e->shoff + (size_t)(i + 1) * shentsize;
		uint32_t name = i < e->nsec ? (uint32_t)name_off[i] : (uint32_t)shstr_name;
		uint32_t type = i < e->nsec ? e->secs[i].type : SHT_STRTAB;
		uint64_t flags = i < e->nsec ? e->secs[i].flags : 0;
		uint64_t addr = i < e->nsec ? e->secs[i].addr : 0;
		uint64_t soff = i < e->nsec ? e->secs[i].offset : stroff;
		uint64_t ssize = i < e->nsec ? e->secs[i].size : strsz;
		uint32_t link = i < e->nsec ? e->secs[i].link : 0;
		uint32_t info = i < e->nsec ? e->secs[i].info : 0;
		uint64_t entsize = i < e->nsec ? e->secs[i].entsize : 0;
		synth_put(sh, name, 4, be);
		synth_put(sh + 4, type, 4, be);
		if (is64) {
			synth_put(sh + 8, flags, 8, be);
			synth_put(sh + 16, addr, 8, be);
			synth_put(sh + 24, soff, 8, be);
			synth_put(sh + 32, ssize, 8, be);
			synth_put(sh + 40, link, 4, be);
			synth_put(sh + 44, info, 4, be);
			synth_put(sh + 48, 1, 8, be);
			synth_put(sh + 56, entsize, 8, be);
		} else {
			synth_put(sh + 8, flags, 4, be);
			synth_put(sh + 12, addr, 4, be);
			synth_put(sh + 16, soff, 4, be);
			synth_put(sh + 20, ssize, 4, be);
			synth_put(sh + 24, link, 4, be);
			synth_put(sh + 28, info, 4, be);
			synth_put(sh + 32, 1, 4, be);
			synth_put(sh + 36, entsize, 4, be);
		}
	}
	return img;
}

/* Appends a symbol to a .symtab/.dynsym image being built in @buf at @*len. */
static inline void synth_sym(uint8_t *buf, size_t *len, bool is64, bool be, uint32_t name,
			     uint64_t value, uint64_t size, uint8_t info, uint16_t shndx)
{
	uint8_t *s = buf + *len;
	if (is64) {
		memset(s, 0, 24);
		synth_put(s, name, 4, be);
		s[4] = info;
		synth_put(s + 6, shndx, 2, be);
		synth_put(s + 8, value, 8, be);
		synth_put(s + 16, size, 8, be);
		*len += 24;
	} else {
		memset(s, 0, 16);
		synth_put(s, name, 4, be);
		synth_put(s + 4, value, 4, be);
		synth_put(s + 8, size, 4, be);
		s[12] = info;
		synth_put(s + 14, shndx, 2, be);
		*len += 16;
	}
}

#endif /* USDTKIT_TEST_NOTES_ELF_H */
