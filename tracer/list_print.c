// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `usdtkit list`'s printing of one object (see list_print.h).
 *
 * Everything goes through one large stdio buffer and no syscall is made
 * per probe, so a binary with thousands of locations lists in about the
 * time it takes to read its note section. Names from the object are
 * escaped in text (output.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

#include "list_print.h"
#include "output.h"

static inline void put_str(FILE *out, const char *s)
{
	fputs_unlocked(s, out);
}

static void put_hex(FILE *out, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[20];
	int i = sizeof(buf);

	do {
		buf[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	fwrite_unlocked(buf + i, 1, sizeof(buf) - i, out);
}

/* ------------------------------------------------------------------ */
/* Grouping notes into probes                                          */
/* ------------------------------------------------------------------ */

struct probe_group {
	size_t first; /* index of the first note */
	size_t last; /* index of the last note, to append in O(1) */
};

static uint64_t hash_probe(const char *provider, const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (const char *p = provider; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ ':') * 1099511628211ULL;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/*
 * Groups the notes by provider:name in order of first appearance. On
 * success *groups holds *ngroups entries and next[i] links note i to the
 * next location of its probe (SIZE_MAX ends a chain).
 */
static int group_notes(const struct usdt_notes *notes, struct probe_group **groups_out,
		       size_t *ngroups, size_t **next_out)
{
	size_t n = usdt_notes__count(notes), cap = 16, count = 0;
	struct probe_group *groups = NULL;
	size_t *next = NULL, *table = NULL;
	int err = -ENOMEM;

	while (cap < 2 * n)
		cap *= 2;
	groups = malloc((n ? n : 1) * sizeof(*groups));
	next = malloc((n ? n : 1) * sizeof(*next));
	table = malloc(cap * sizeof(*table));
	if (!groups || !next || !table)
		goto out;
	for (size_t i = 0; i < cap; i++)
		table[i] = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct usdt_note *note = usdt_notes__get(notes, i);
		size_t slot = hash_probe(note->provider, note->name) & (cap - 1);

		next[i] = SIZE_MAX;
		for (;;) {
			size_t g = table[slot];
			const struct usdt_note *head;

			if (g == SIZE_MAX) {
				table[slot] = count;
				groups[count].first = i;
				groups[count].last = i;
				count++;
				break;
			}
			head = usdt_notes__get(notes, groups[g].first);
			if (!strcmp(head->provider, note->provider) &&
			    !strcmp(head->name, note->name)) {
				next[groups[g].last] = i;
				groups[g].last = i;
				break;
			}
			slot = (slot + 1) & (cap - 1);
		}
	}
	*groups_out = groups;
	*ngroups = count;
	*next_out = next;
	groups = NULL;
	next = NULL;
	err = 0;
out:
	free(groups);
	free(next);
	free(table);
	return err;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */
/* ------------------------------------------------------------------ */

struct parsed_args {
	int count; /* arguments split out of note->args */
	struct {
		const char *text; /* raw spec, not NUL-terminated */
		size_t len;
		int err; /* 0, or the negative errno of a spec that did not parse */
		struct usdt_parse_error perr;
	} raw[USDT_MAX_ARGS];
	struct usdt_arg_spec specs[USDT_MAX_ARGS];
	int nmeta; /* < 0 or 0: no usable metadata */
	struct usdt_arg_meta meta[USDT_MAX_ARGS];
};

/*
 * Splits the note's args into specs and parses each on its own, so one
 * spec the parser does not understand does not hide the others. A space
 * inside brackets belongs to the spec (aarch64 "-4@[sp, 12]").
 */
static void parse_args(const struct usdt_note *note, enum usdt_arch arch, struct parsed_args *pa)
{
	const char *p = note->args ? note->args : "";
	struct usdt_parse_error merr;

	pa->count = 0;
	while (*p && pa->count < USDT_MAX_ARGS) {
		const char *start;
		int depth = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		start = p;
		for (; *p && (depth || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '[')
				depth++;
			else if (*p == ']' && depth)
				depth--;
		}
		pa->raw[pa->count].text = start;
		pa->raw[pa->count].len = p - start;
		memset(&pa->raw[pa->count].perr, 0, sizeof(pa->raw[pa->count].perr));
		pa->raw[pa->count].err = usdt_arg_spec__parse(
			&pa->specs[pa->count], start, p - start, arch, &pa->raw[pa->count].perr);
		if (pa->raw[pa->count].err > 0)
			pa->raw[pa->count].err = 0;
		pa->count++;
	}
	pa->nmeta = 0;
	if (note->meta)
		pa->nmeta = usdt_meta__parse(pa->meta, USDT_MAX_ARGS, note->meta, &merr);
}

static const char *parse_error_msg(const struct parsed_args *pa, int i)
{
	return pa->raw[i].perr.msg ? pa->raw[i].perr.msg : strerror(-pa->raw[i].err);
}

/* "i32", "u64", "f64": the value's type as the spec describes it. */
static void spec_type(const struct usdt_arg_spec *s, char *buf, size_t size)
{
	unsigned bits = s->size * 8;
	size_t i = 0;

	if (size < 5)
		return;
	buf[i++] = s->is_float ? 'f' : (s->is_signed ? 'i' : 'u');
	if (bits >= 10)
		buf[i++] = '0' + bits / 10;
	buf[i++] = '0' + bits % 10;
	buf[i] = '\0';
}

static const char *reg_name(enum usdt_reg reg, int size, bool high8, enum usdt_arch arch)
{
	const char *name = usdt_reg__name(reg, size, high8, arch);

	return name ? name : "?";
}

static const char *reg_prefix(enum usdt_arch arch)
{
	return (arch == USDT_ARCH_X86_64 || arch == USDT_ARCH_X86) ? "%" : "";
}

static void print_operand_text(FILE *out, const struct usdt_arg_spec *s, enum usdt_arch arch)
{
	const char *pfx = reg_prefix(arch);

	switch (s->kind) {
	case USDT_OPERAND_CONST:
		put_str(out, "constant ");
		json_put_int(out, s->imm);
		break;
	case USDT_OPERAND_REG:
		put_str(out, "register ");
		put_str(out, pfx);
		put_str(out, reg_name(s->base, s->base_size, s->base_high8, arch));
		break;
	case USDT_OPERAND_MEM:
		put_str(out, "memory");
		if (s->base != USDT_REG_NONE) {
			put_str(out, " base=");
			put_str(out, pfx);
			put_str(out, reg_name(s->base, s->base_size, s->base_high8, arch));
		}
		if (s->index != USDT_REG_NONE) {
			put_str(out, " index=");
			put_str(out, pfx);
			put_str(out, reg_name(s->index, s->index_size, false, arch));
			put_str(out, " scale=");
			json_put_int(out, s->scale);
		}
		if (s->symbol[0]) {
			put_str(out, " symbol=");
			put_str(out, s->symbol);
			if (s->reloc == USDT_RELOC_A64_LO12)
				put_str(out, "(lo12)");
		}
		put_str(out, " disp=");
		json_put_int(out, s->disp);
		break;
	default:
		put_str(out, "none");
		break;
	}
}

static void print_meta_text(FILE *out, const struct parsed_args *pa, int i)
{
	const char *tname;

	if (i >= pa->nmeta)
		return;
	tname = usdt_type__name(pa->meta[i].type);
	if (pa->meta[i].name[0]) {
		put_str(out, "  name=");
		output__put_cname(out, pa->meta[i].name);
	}
	if (tname && pa->meta[i].type != USDT_TYPE_NONE) {
		put_str(out, "  type=");
		put_str(out, tname);
	}
}

/* "    argN: SPEC  TYPE  OPERAND  [name=…  type=…]", fields two spaces apart */
static void print_args_text(struct list_ctx *ctx, const struct usdt_note *note, enum usdt_arch arch)
{
	struct parsed_args pa;
	FILE *out = ctx->out;
	char type[8];

	parse_args(note, arch, &pa);
	for (int i = 0; i < pa.count; i++) {
		const struct usdt_arg_spec *s = &pa.specs[i];

		put_str(out, "    arg");
		json_put_int(out, i + 1);
		put_str(out, ": ");
		fwrite_unlocked(pa.raw[i].text, 1, pa.raw[i].len, out);
		put_str(out, "  ");
		if (pa.raw[i].err) {
			fprintf(out, "?  not understood: %s at byte %zu", parse_error_msg(&pa, i),
				pa.raw[i].perr.pos);
		} else {
			spec_type(s, type, sizeof(type));
			put_str(out, type);
			put_str(out, "  ");
			print_operand_text(out, s, arch);
		}
		print_meta_text(out, &pa, i);
		fputc('\n', out);
	}
}

static void json_reg(struct json_writer *w, const char *key, enum usdt_reg reg, int size,
		     bool high8, enum usdt_arch arch)
{
	json__key(w, key);
	if (reg == USDT_REG_NONE)
		json__null(w);
	else
		json__string(w, reg_name(reg, size, high8, arch));
}

static void print_args_json(struct list_ctx *ctx, const struct usdt_note *note, enum usdt_arch arch)
{
	struct json_writer *w = &ctx->jw;
	struct parsed_args pa;
	char type[8];

	parse_args(note, arch, &pa);
	json__key(w, "args");
	json__array_begin(w);
	for (int i = 0; i < pa.count; i++) {
		const struct usdt_arg_spec *s = &pa.specs[i];

		json__object_begin(w);
		json__key(w, "spec");
		json__string_len(w, pa.raw[i].text, pa.raw[i].len);
		if (pa.raw[i].err) {
			json__key(w, "operand");
			json__object_begin(w);
			json__kv_string(w, "kind", "invalid");
			json__kv_string(w, "error", parse_error_msg(&pa, i));
			json__kv_uint(w, "pos", pa.raw[i].perr.pos);
			json__object_end(w);
			goto meta;
		}
		json__kv_uint(w, "size", s->size);
		json__kv_bool(w, "signed", s->is_signed);
		json__kv_bool(w, "float", s->is_float);
		spec_type(s, type, sizeof(type));
		json__kv_string(w, "value_type", type);
		json__key(w, "operand");
		json__object_begin(w);
		switch (s->kind) {
		case USDT_OPERAND_CONST:
			json__kv_string(w, "kind", "const");
			json__kv_int(w, "imm", s->imm);
			break;
		case USDT_OPERAND_REG:
			json__kv_string(w, "kind", "reg");
			json_reg(w, "reg", s->base, s->base_size, s->base_high8, arch);
			break;
		case USDT_OPERAND_MEM:
			json__kv_string(w, "kind", "mem");
			json_reg(w, "base", s->base, s->base_size, s->base_high8, arch);
			json_reg(w, "index", s->index, s->index_size, false, arch);
			json__kv_uint(w, "scale", s->scale);
			json__kv_int(w, "disp", s->disp);
			json__key(w, "symbol");
			if (s->symbol[0])
				json__string(w, s->symbol);
			else
				json__null(w);
			if (s->reloc == USDT_RELOC_A64_LO12)
				json__kv_string(w, "reloc", "lo12");
			break;
		default:
			json__kv_string(w, "kind", "none");
			break;
		}
		json__object_end(w);
meta:
		json__key(w, "name");
		if (i < pa.nmeta && pa.meta[i].name[0])
			json__string(w, pa.meta[i].name);
		else
			json__null(w);
		json__key(w, "type");
		if (i < pa.nmeta && pa.meta[i].type != USDT_TYPE_NONE)
			json__string(w, usdt_type__name(pa.meta[i].type));
		else
			json__null(w);
		json__object_end(w);
	}
	json__array_end(w);
}

/* ------------------------------------------------------------------ */
/* Probes                                                              */
/* ------------------------------------------------------------------ */

static void print_path_text(struct list_ctx *ctx, const struct object_ref *ref)
{
	output__put_cname(ctx->out, ref->display_path);
	if (ref->show_pid)
		fprintf(ctx->out, " (pid %d)", (int)ref->pid);
}

static void put_file_offset(FILE *out, uint64_t offset)
{
	if (offset == USDT_NO_OFFSET) {
		put_str(out, " (file offset unknown)");
		return;
	}
	put_str(out, " (file offset ");
	put_hex(out, offset);
	putc_unlocked(')', out);
}

static void print_probe_text(struct list_ctx *ctx, const struct object_ref *ref,
			     const struct usdt_notes *notes, size_t first, const size_t *next)
{
	const struct usdt_note *head = usdt_notes__get(notes, first);
	enum usdt_arch arch = usdt_notes__arch(notes);
	FILE *out = ctx->out;

	print_path_text(ctx, ref);
	putc_unlocked(' ', out);
	output__put_cname(out, head->provider);
	putc_unlocked(':', out);
	output__put_cname(out, head->name);
	putc_unlocked('\n', out);
	if (!ctx->verbose)
		return;
	for (size_t i = first; i != SIZE_MAX; i = next[i]) {
		const struct usdt_note *note = usdt_notes__get(notes, i);

		put_str(out, "  location ");
		put_hex(out, note->pc_addr);
		put_file_offset(out, note->pc_offset);
		if (note->sema_addr) {
			put_str(out, ", semaphore ");
			put_hex(out, note->sema_addr);
			put_file_offset(out, note->sema_offset);
		} else {
			put_str(out, ", no semaphore");
		}
		putc_unlocked('\n', out);
		print_args_text(ctx, note, arch);
	}
}

static void print_probe_json(struct list_ctx *ctx, const struct object_ref *ref,
			     const struct usdt_notes *notes, size_t first, const size_t *next)
{
	const struct usdt_note *head = usdt_notes__get(notes, first);
	enum usdt_arch arch = usdt_notes__arch(notes);
	struct json_writer *w = &ctx->jw;

	json__object_begin(w);
	json__kv_string(w, "path", ref->display_path);
	if (ref->pid)
		json__kv_int(w, "pid", ref->pid);
	json__kv_string(w, "provider", head->provider);
	json__kv_string(w, "name", head->name);
	json__key(w, "locations");
	json__array_begin(w);
	for (size_t i = first; i != SIZE_MAX; i = next[i]) {
		const struct usdt_note *note = usdt_notes__get(notes, i);

		json__object_begin(w);
		json__kv_uint(w, "address", note->pc_addr);
		json__key(w, "offset");
		if (note->pc_offset != USDT_NO_OFFSET)
			json__uint(w, note->pc_offset);
		else
			json__null(w);
		json__key(w, "semaphore");
		if (note->sema_addr)
			json__uint(w, note->sema_addr);
		else
			json__null(w);
		json__key(w, "semaphore_offset");
		if (note->sema_addr && note->sema_offset != USDT_NO_OFFSET)
			json__uint(w, note->sema_offset);
		else
			json__null(w);
		print_args_json(ctx, note, arch);
		json__object_end(w);
	}
	json__array_end(w);
	json__object_end(w);
	json__newline(w);
}

/*
 * Lists the probes of one object. Returns 0 or a negative errno from
 * opening it (the caller decides how to report it).
 */
int list_object(struct list_ctx *ctx, const struct object_ref *ref)
{
	struct usdt_notes_opts opts = {.sz = sizeof(opts)};
	struct probe_group *groups = NULL;
	size_t ngroups = 0, *next = NULL;
	struct usdt_notes *notes;
	int err;

	notes = usdt_notes__open_path(ref->open_path, &opts);
	if (!notes)
		return -(errno ? errno : EIO);
	err = group_notes(notes, &groups, &ngroups, &next);
	if (err)
		goto out;
	for (size_t g = 0; g < ngroups; g++) {
		const struct usdt_note *head = usdt_notes__get(notes, groups[g].first);

		if (!probe_specs__match(&ctx->patterns, head->provider, head->name))
			continue;
		if (ctx->json)
			print_probe_json(ctx, ref, notes, groups[g].first, next);
		else
			print_probe_text(ctx, ref, notes, groups[g].first, next);
	}
out:
	free(groups);
	free(next);
	usdt_notes__free(notes);
	return err;
}
