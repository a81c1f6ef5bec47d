// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Printing symbolized user stacks (ustack_fmt.h): text like bpftrace's
 * ustack, JSON frames, and the folded format of flame graph tools, plus
 * the entry-frame merge that the BPF side leaves to user space (doing it
 * in BPF would mean shifting the whole captured array at every hit).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ustack_fmt.h"

size_t ustack__merge_entry(uint64_t *ips, size_t n, size_t cap, uint32_t flags, uint64_t entry_ret)
{
	if (!(flags & USTACK_F_ENTRY) || !entry_ret || !n || cap < 2)
		return n;
	if (n >= 2 && ips[1] == entry_ret)
		return n; /* the kernel walked it already (6.12+, push %rbp entries) */
	if (n == cap)
		n--;
	memmove(&ips[2], &ips[1], (n - 1) * sizeof(*ips));
	ips[1] = entry_ret;
	return n + 1;
}

size_t ustack__trim(const struct sym_frame *frames, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (frames[i].kind == SYM_FRAME_NOT_CODE)
			return i;
	return n;
}

size_t ustack__from_rec(const struct ustack_rec *rec, unsigned int depth, uint64_t *ips, size_t cap)
{
	size_t n;

	if (rec->nframes <= 0 || !cap)
		return 0;
	n = (size_t)rec->nframes;
	if (n > depth)
		n = depth;
	if (n > cap)
		n = cap;
	memcpy(ips, rec->ips, n * sizeof(*ips));
	return ustack__merge_entry(ips, n, cap, rec->flags, rec->entry_ret);
}

size_t ustack__from_map(const uint64_t *value, unsigned int depth, const struct ustack_key *key,
			uint64_t *ips, size_t cap)
{
	size_t n = 0;

	if (key->stackid < 0)
		return 0;
	while (n < depth && n < cap && value[n])
		n++;
	memcpy(ips, value, n * sizeof(*ips));
	return ustack__merge_entry(ips, n, cap, key->flags, key->entry_ret);
}

/* @s with control bytes as \xNN: names come from the traced process's objects. */
static void put_name(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			putc(c, out);
	}
}

int ustack__write_text(FILE *out, const struct sym_frame *frames, size_t n)
{
	size_t keep = ustack__trim(frames, n);

	for (size_t i = 0; i < keep; i++) {
		const struct sym_frame *f = &frames[i];

		fputs("        ", out);
		if (f->symbol) {
			put_name(out, f->symbol);
			fprintf(out, "+%" PRIu64, f->offset);
		} else {
			fprintf(out, "0x%" PRIx64, f->addr);
		}
		fputs(" (", out);
		put_name(out, f->object ? f->object : "[unknown]");
		fputs(")\n", out);
	}
	if (keep < n)
		fprintf(out, "        [0x%" PRIx64 " is not code: frame pointers missing above]\n",
			frames[keep].addr);
	return ferror(out) ? -EIO : 0;
}

void ustack__write_json(struct json_writer *w, const struct sym_frame *frames, size_t n)
{
	char addr[24];

	n = ustack__trim(frames, n);
	json__array_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct sym_frame *f = &frames[i];

		json__object_begin(w);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, f->addr);
		json__kv_string(w, "addr", addr);
		json__kv_string(w, "symbol", f->symbol);
		json__key(w, "offset");
		if (f->symbol)
			json__uint(w, f->offset);
		else
			json__null(w);
		json__kv_string(w, "object", f->object);
		if (f->file) {
			json__kv_string(w, "file", f->file);
			json__kv_uint(w, "line", f->line);
		}
		json__object_end(w);
	}
	json__array_end(w);
}

/* Copies @s into @buf (snprintf semantics), ';' and control characters as '_'. */
static size_t put_clean(char *buf, size_t size, size_t at, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++, at++) {
		unsigned char c = s[i];

		if (at + 1 < size)
			buf[at] = (c == ';' || c < 0x20 || c == 0x7f) ? '_' : (char)c;
	}
	if (size)
		buf[at < size ? at : size - 1] = '\0';
	return at;
}

size_t ustack__folded_name(const struct sym_frame *f, char *buf, size_t size)
{
	const char *base;
	size_t at;

	if (f->symbol)
		return put_clean(buf, size, 0, f->symbol, strlen(f->symbol));
	if (!f->object)
		return put_clean(buf, size, 0, "[unknown]", 9);
	base = strrchr(f->object, '/');
	base = base ? base + 1 : f->object;
	at = put_clean(buf, size, 0, "[", 1);
	at = put_clean(buf, size, at, base, strlen(base));
	return put_clean(buf, size, at, "]", 1);
}

struct folded_entry {
	char *line; /* frames, outermost first */
	uint64_t count;
};

struct ustack_folded {
	struct folded_entry *tab; /* open addressing, power-of-two capacity */
	size_t cap, len;
};

struct ustack_folded *ustack_folded__new(void)
{
	return calloc(1, sizeof(struct ustack_folded));
}

void ustack_folded__free(struct ustack_folded *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->cap; i++)
		free(f->tab[i].line);
	free(f->tab);
	free(f);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct folded_entry *slot_for(struct folded_entry *tab, size_t cap, const char *line)
{
	for (size_t h = hash_str(line);; h++) {
		struct folded_entry *e = &tab[h & (cap - 1)];

		if (!e->line || !strcmp(e->line, line))
			return e;
	}
}

static int folded_grow(struct ustack_folded *f)
{
	size_t cap = f->cap ? 2 * f->cap : 64;
	struct folded_entry *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < f->cap; i++)
		if (f->tab[i].line)
			*slot_for(tab, cap, f->tab[i].line) = f->tab[i];
	free(f->tab);
	f->tab = tab;
	f->cap = cap;
	return 0;
}

/* Appends @s to the growing line; NULL (line freed) when out of memory. */
static char *append(char *line, size_t *len, size_t *cap, const char *s, size_t n)
{
	char *tmp;

	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 256;

		while (c < *len + n + 1)
			c *= 2;
		tmp = realloc(line, c);
		if (!tmp) {
			free(line);
			return NULL;
		}
		line = tmp;
		*cap = c;
	}
	memcpy(line + *len, s, n);
	*len += n;
	line[*len] = '\0';
	return line;
}

int ustack_folded__add(struct ustack_folded *f, const char *root, const struct sym_frame *frames,
		       size_t n, uint64_t count)
{
	size_t len = 0, cap = 0, need, keep = ustack__trim(frames, n);
	char name[256], *line = NULL, *big;
	struct folded_entry *e;

	line = append(line, &len, &cap, "", 0);
	if (line && root) {
		need = put_clean(name, sizeof(name), 0, root, strlen(root));
		line = append(line, &len, &cap, name,
			      need < sizeof(name) ? need : sizeof(name) - 1);
	}
	if (line && keep < n) {
		if (len)
			line = append(line, &len, &cap, ";", 1);
		if (line)
			line = append(line, &len, &cap, "[truncated]", 11);
	}
	for (size_t i = keep; line && i-- > 0;) {
		if (len)
			line = append(line, &len, &cap, ";", 1);
		if (!line)
			break;
		need = ustack__folded_name(&frames[i], name, sizeof(name));
		if (need < sizeof(name)) {
			line = append(line, &len, &cap, name, need);
			continue;
		}
		big = malloc(need + 1); /* a long C++ name */
		if (!big) {
			free(line);
			return -ENOMEM;
		}
		ustack__folded_name(&frames[i], big, need + 1);
		line = append(line, &len, &cap, big, need);
		free(big);
	}
	if (!line)
		return -ENOMEM;
	if ((f->len + 1) * 4 > f->cap * 3 && folded_grow(f)) {
		free(line);
		return -ENOMEM;
	}
	e = slot_for(f->tab, f->cap, line);
	if (e->line) {
		free(line);
	} else {
		e->line = line;
		f->len++;
	}
	e->count += count;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct folded_entry *x = *(const struct folded_entry *const *)a;
	const struct folded_entry *y = *(const struct folded_entry *const *)b;

	return strcmp(x->line, y->line);
}

int ustack_folded__write(struct ustack_folded *f, FILE *out)
{
	struct folded_entry **v;
	size_t k = 0;

	if (!f->len)
		return ferror(out) ? -EIO : 0;
	v = malloc(f->len * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < f->cap; i++)
		if (f->tab[i].line)
			v[k++] = &f->tab[i];
	qsort(v, k, sizeof(*v), cmp_entry);
	for (size_t i = 0; i < k; i++)
		fprintf(out, "%s %" PRIu64 "\n", v[i]->line, v[i]->count);
	free(v);
	return ferror(out) ? -EIO : 0;
}

size_t ustack_folded__count(const struct ustack_folded *f)
{
	return f->len;
}
