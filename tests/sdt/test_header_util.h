/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Helpers for the compile-time header tests: run a tool and capture its
 * output, read the stapsdt notes the way binutils' readelf prints them,
 * and read the ".note.usdtkit" section straight from the ELF file (readelf
 * only dumps unknown notes as hex). Kept independent of the sdt core
 * library on purpose: these tests judge the header against outside tools,
 * not against usdtkit's own reader.
 */
#ifndef USDTKIT_TEST_HEADER_UTIL_H
#define USDTKIT_TEST_HEADER_UTIL_H

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HDR_SKIP 77
#define HDR_MAX_PROBES 64

struct hdr_probe {
	char provider[64];
	char name[64];
	char args[512];
	uint64_t pc;
	uint64_t base;
	uint64_t sema;
};

struct hdr_meta {
	char provider[64];
	char name[64];
	char args[512];
	uint64_t pc;
};

/*
 * Runs the command @fmt... with sh, stdout and stderr together, into *out
 * (always a string to free, "" when nothing could run). Returns the exit
 * status, or -1 when the command could not run or died of a signal.
 */
static inline int hdr_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int hdr_run(char **out, const char *fmt, ...)
{
	char cmd[4096];
	size_t len = 0, cap = 4096;
	char *buf;
	va_list ap;
	FILE *f;
	int n, st;

	buf = calloc(1, cap);
	*out = buf;
	if (!buf)
		abort();
	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd) - 6, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 6)
		return -1;
	strcat(cmd, " 2>&1");
	f = popen(cmd, "re");
	if (!f)
		return -1;
	for (;;) {
		size_t got;

		if (cap - len < 1024) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				abort();
			buf = nb;
			*out = buf;
			cap *= 2;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		if (!got)
			break;
		len += got;
	}
	buf[len] = '\0';
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* True when @tool is an executable on PATH. */
static inline bool hdr_have(const char *tool)
{
	char *out = NULL;
	int rc = hdr_run(&out, "command -v %s", tool);

	free(out);
	return rc == 0;
}

/* $USDTKIT_BUILD_DIR/tests/fixtures/NAME */
static inline const char *hdr_fixture(const char *name)
{
	static char path[4][1024];
	static int slot;
	const char *dir = getenv("USDTKIT_BUILD_DIR");
	char *p = path[slot++ % 4];

	snprintf(p, sizeof(path[0]), "%s/tests/fixtures/%s", dir ? dir : ".", name);
	return p;
}

static inline void hdr_copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strcspn(src, "\n");

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Parses "readelf -n --wide" output into @probes; returns the count or -1.
 * readelf prints each stapsdt note as Provider/Name/Location/Arguments
 * lines (Provider sometimes on the note's header line).
 */
static inline int hdr_parse_readelf(const char *text, struct hdr_probe *probes, int max)
{
	const char *line = text;
	int n = -1;

	while (line && *line) {
		const char *p;

		if ((p = strstr(line, "Provider: ")) && p < line + strcspn(line, "\n")) {
			if (++n >= max)
				return -1;
			memset(&probes[n], 0, sizeof(probes[n]));
			hdr_copy_field(probes[n].provider, sizeof(probes[n].provider), p + 10);
		} else if (n >= 0 && (p = strstr(line, "Name: ")) &&
			   p == line + strspn(line, " ")) {
			hdr_copy_field(probes[n].name, sizeof(probes[n].name), p + 6);
		} else if (n >= 0 && (p = strstr(line, "Location: ")) &&
			   p == line + strspn(line, " ")) {
			if (sscanf(p,
				   "Location: %" SCNx64 ", Base: %" SCNx64 ", Semaphore: %" SCNx64,
				   &probes[n].pc, &probes[n].base, &probes[n].sema) != 3)
				return -1;
		} else if (n >= 0 && (p = strstr(line, "Arguments:")) &&
			   p == line + strspn(line, " ")) {
			p += 10;
			if (*p == ' ')
				p++;
			hdr_copy_field(probes[n].args, sizeof(probes[n].args), p);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n + 1;
}

/* readelf -n --wide FILE; stores readelf's exit status in *rc. */
static inline int hdr_readelf_probes(const char *path, struct hdr_probe *probes, int max, int *rc)
{
	char *out = NULL;
	int n;

	*rc = hdr_run(&out, "readelf -n --wide '%s'", path);
	n = out ? hdr_parse_readelf(out, probes, max) : -1;
	free(out);
	return n;
}

static inline const struct hdr_probe *hdr_find(const struct hdr_probe *probes, int n,
					       const char *provider, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(probes[i].provider, provider) && !strcmp(probes[i].name, name))
			return &probes[i];
	return NULL;
}

static inline int hdr_count(const struct hdr_probe *probes, int n, const char *provider,
			    const char *name)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += !strcmp(probes[i].provider, provider) && !strcmp(probes[i].name, name);
	return c;
}

/*
 * The size/sign/float prefixes of an args string: "-4@%eax 8f@-8(%rbp)"
 * -> "-4 8f". Returns false when an argument has no '@'.
 */
static inline bool hdr_prefixes(const char *args, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	while (*args) {
		const char *at, *end;

		args += strspn(args, " ");
		if (!*args)
			break;
		end = args + strcspn(args, " ");
		at = memchr(args, '@', (size_t)(end - args));
		if (!at)
			return false;
		if (len + (size_t)(at - args) + 2 > size)
			return false;
		if (len)
			buf[len++] = ' ';
		memcpy(buf + len, args, (size_t)(at - args));
		len += (size_t)(at - args);
		buf[len] = '\0';
		args = end;
	}
	return true;
}

/* Reads a whole file; NULL on error. */
static inline unsigned char *hdr_slurp(const char *path, size_t *size)
{
	struct stat st;
	unsigned char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		buf = malloc((size_t)st.st_size);
		if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)st.st_size;
	}
	close(fd);
	return buf;
}

/* Section header of @name in a 64-bit little-endian ELF image, or NULL. */
static inline const Elf64_Shdr *hdr_section(const unsigned char *img, size_t size, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh, *strs;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	strs = &sh[eh->e_shstrndx];
	for (int i = 0; i < eh->e_shnum; i++) {
		uint64_t off = strs->sh_offset + sh[i].sh_name;

		if (off < size && !strncmp((const char *)img + off, name, size - off) &&
		    sh[i].sh_offset + sh[i].sh_size <= size)
			return &sh[i];
	}
	return NULL;
}

/*
 * The ".note.usdtkit" notes of @path. Returns the count, 0 when there is
 * no such section, -1 on malformed data (owner, type, layout).
 */
static inline int hdr_read_meta(const char *path, struct hdr_meta *meta, int max, Elf64_Shdr *shdr)
{
	size_t size = 0, off;
	unsigned char *img = hdr_slurp(path, &size);
	const Elf64_Shdr *sh;
	int n = 0;

	if (!img)
		return -1;
	sh = hdr_section(img, size, ".note.usdtkit");
	if (!sh) {
		free(img);
		return 0;
	}
	if (shdr)
		*shdr = *sh;
	for (off = 0; off + 12 <= sh->sh_size;) {
		const unsigned char *note = img + sh->sh_offset + off;
		uint32_t namesz, descsz, type;
		const char *d, *end;

		memcpy(&namesz, note, 4);
		memcpy(&descsz, note + 4, 4);
		memcpy(&type, note + 8, 4);
		if (namesz != 8 || memcmp(note + 12, "usdtkit", 8) || type != 1 || descsz < 11 ||
		    off + 20 + descsz > sh->sh_size || n >= max)
			goto bad;
		d = (const char *)note + 20;
		end = d + descsz;
		memcpy(&meta[n].pc, d, 8);
		d += 8;
		if (!memchr(d, '\0', (size_t)(end - d)))
			goto bad;
		hdr_copy_field(meta[n].provider, sizeof(meta[n].provider), d);
		d += strlen(d) + 1;
		if (d >= end || !memchr(d, '\0', (size_t)(end - d)))
			goto bad;
		hdr_copy_field(meta[n].name, sizeof(meta[n].name), d);
		d += strlen(d) + 1;
		if (d >= end || !memchr(d, '\0', (size_t)(end - d)))
			goto bad;
		hdr_copy_field(meta[n].args, sizeof(meta[n].args), d);
		d += strlen(d) + 1;
		/* only padding to 4 may follow */
		if ((size_t)(end - d) >= 4)
			goto bad;
		n++;
		off += 20 + ((descsz + 3) & ~3u);
	}
	free(img);
	return n;
bad:
	free(img);
	return -1;
}

/* Address and size of section @name of @path. */
static inline bool hdr_section_addr(const char *path, const char *name, uint64_t *addr,
				    uint64_t *size)
{
	size_t fsize = 0;
	unsigned char *img = hdr_slurp(path, &fsize);
	const Elf64_Shdr *sh = img ? hdr_section(img, fsize, name) : NULL;

	if (sh) {
		*addr = sh->sh_addr;
		*size = sh->sh_size;
	}
	free(img);
	return sh != NULL;
}

#endif /* USDTKIT_TEST_HEADER_UTIL_H */
