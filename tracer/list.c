/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * `usdtkit list`: which probes are there, in files, in a process, or in every
 * process of the system.
 *
 * The heavy lifting lives elsewhere: the sdt core reads the notes, the
 * argument parser decodes specs, discover.c finds the objects of a process.
 * This file groups a file's notes by provider:name (a probe with several
 * locations is one probe, as in tplist) and prints them as text or JSON
 * lines. Everything goes through one large stdio buffer and no syscall is
 * made per probe, so a binary with thousands of locations lists in about
 * the time it takes to read its note section.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <usdtkit/stapsdt.h>

#include "commands.h"
#include "discover.h"
#include "json.h"
#include "pattern.h"

#define PROG "usdtkit list"
#define STDOUT_BUF_SIZE (1 << 20)

struct list_ctx {
	bool verbose;
	bool json;
	bool all;
	pid_t pid; /* -p PID, 0 without */
	struct probe_patterns patterns;
	FILE *out;
	struct json_writer jw;
	/* --all: objects already listed, by (dev, ino) */
	struct seen_set {
		uint64_t *keys; /* pairs: dev, ino; (0, 0) is an empty slot */
		size_t cap; /* in pairs, a power of two */
		size_t count;
	} seen;
	size_t skipped_procs;
	size_t skipped_objs;
	size_t exited_procs;
};

/* How an object is shown: its path, and the process it was read through. */
struct object_ref {
	const char *open_path;
	const char *display_path;
	pid_t pid; /* 0: a plain file */
	bool show_pid; /* text output: append "(pid N)" to the path */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: usdtkit list [OPTIONS] PATH... [PATTERN]\n"
		   "       usdtkit list [OPTIONS] -p PID [PATTERN...]\n"
		   "       usdtkit list [OPTIONS] --all [PATTERN...]\n"
		   "\n"
		   "Lists the USDT (SystemTap SDT) probes of ELF files, of every object a\n"
		   "process has mapped (executable, libraries, dlopen'ed objects, memfd-backed\n"
		   "runtime providers, files deleted since they were mapped), or of every\n"
		   "process. Default output: one line per probe, 'PATH PROVIDER:NAME'.\n"
		   "\n"
		   "options:\n"
		   "  -p, --pid PID        list the objects mapped by process PID\n"
		   "  -a, --all            list the objects of every process (each object once)\n"
		   "  -P, --probe PATTERN  only probes matching PATTERN (repeatable)\n"
		   "  -v, --verbose        also print each location: address, file offset,\n"
		   "                       semaphore, and every argument decoded\n"
		   "  -j, --json           one JSON object per probe per line (JSON lines)\n"
		   "  -h, --help           show this help\n"
		   "\n"
		   "PATTERN is PROVIDER:NAME with shell globs on each side ('libc:*',\n"
		   "'*:malloc*'); a pattern without ':' is a provider glob ('python' means\n"
		   "'python:*'). With -p and --all every operand is a pattern. With PATHs,\n"
		   "the last operand is taken as a pattern when it contains ':' and is not an\n"
		   "existing file; use -P to be explicit.\n"
		   "\n"
		   "exit status: 0 success (also when nothing matches), 1 a file, process or\n"
		   "permission problem (one line on stderr each), 2 bad command line.\n"
		   "\n"
		   "examples:\n"
		   "  usdtkit list /usr/bin/python3\n"
		   "  usdtkit list -v ./myapp 'myapp:request_*'\n"
		   "  usdtkit list -p 1234\n"
		   "  usdtkit list -p $(pidof node) --json | jq -r .name\n"
		   "  usdtkit list --all -P 'python:*'\n");
}

/* Diagnostics must not overtake data already printed. */
static void __attribute__((format(printf, 2, 3))) diag(struct list_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fflush(ctx->out);
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *open_error_reason(int err)
{
	switch (err) {
	case ENOEXEC:
		return "not an ELF file";
	case EBADMSG:
		return "corrupt ELF file or probe notes";
	case ENOTSUP:
		return "unsupported ELF file";
	default:
		return strerror(err);
	}
}

/*
 * Output primitives for the per-location hot path: fprintf's format parsing
 * is most of the cost of `list -v` on a binary with thousands of probes.
 */
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
		put_str(out, pa->meta[i].name);
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
	fputs_unlocked(ref->display_path, ctx->out);
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
	fputs_unlocked(head->provider, out);
	putc_unlocked(':', out);
	fputs_unlocked(head->name, out);
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
static int list_object(struct list_ctx *ctx, const struct object_ref *ref)
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

		if (!probe_patterns__match(&ctx->patterns, head->provider, head->name))
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

/* ------------------------------------------------------------------ */
/* Files, processes, the system                                        */
/* ------------------------------------------------------------------ */

static int list_paths(struct list_ctx *ctx, char **paths, int npaths)
{
	int status = EXIT_OK;

	for (int i = 0; i < npaths; i++) {
		struct object_ref ref = {.open_path = paths[i], .display_path = paths[i]};
		struct stat st;
		int err;

		/* the reader would fail later and less clearly on a directory */
		if (!stat(paths[i], &st) && S_ISDIR(st.st_mode)) {
			diag(ctx, "%s: is a directory", paths[i]);
			status = EXIT_FAIL;
			continue;
		}
		err = list_object(ctx, &ref);
		if (err) {
			diag(ctx, "%s: %s", paths[i], open_error_reason(-err));
			status = EXIT_FAIL;
		}
	}
	return status;
}

static bool process_alive(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	return access(path, F_OK) == 0;
}

/*
 * Lists every object of @objs. In -p mode an object that cannot be read is
 * an error (or the process exited); in --all mode it is counted as skipped.
 */
static int list_objects(struct list_ctx *ctx, pid_t pid, const struct object_list *objs)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < objs->count; i++) {
		const struct mapped_object *obj = &objs->objs[i];
		/*
		 * With --all, name the process when the path alone does not
		 * lead to this object: memfd, deleted, or only reachable
		 * through the process (another mount namespace).
		 */
		bool tied = obj->deleted || strcmp(obj->open_path, obj->display_path);
		struct object_ref ref = {
			.open_path = obj->open_path,
			.display_path = obj->display_path,
			.pid = (!ctx->all || tied) ? pid : 0,
			.show_pid = ctx->all && tied,
		};
		int err = list_object(ctx, &ref);

		if (!err || err == -ENOEXEC)
			continue; /* an executable mapping of something not ELF */
		if (ctx->all) {
			ctx->skipped_objs++;
			continue;
		}
		if (!process_alive(pid)) {
			diag(ctx, "process %d exited while being scanned", (int)pid);
			return EXIT_FAIL;
		}
		diag(ctx, "process %d: %s: %s", (int)pid, obj->display_path,
		     open_error_reason(-err));
		status = EXIT_FAIL;
	}
	return status;
}

static int list_pid(struct list_ctx *ctx, pid_t pid)
{
	struct object_list objs = {0};
	int err, status;

	err = discover_pid_objects(pid, &objs);
	if (err) {
		if (err == -ESRCH)
			diag(ctx, "process %d: no such process", (int)pid);
		else
			diag(ctx, "process %d: %s", (int)pid, strerror(-err));
		return EXIT_FAIL;
	}
	status = list_objects(ctx, pid, &objs);
	object_list__free(&objs);
	return status;
}

/* --all: an open-addressing set of (dev, ino). */
static bool seen_insert(struct seen_set *set, uint64_t dev, uint64_t ino)
{
	size_t mask, slot;

	if (2 * (set->count + 1) > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		uint64_t *keys = calloc(cap, 2 * sizeof(uint64_t));

		if (!keys)
			return true; /* out of memory: list it again rather than fail */
		for (size_t i = 0; i < set->cap; i++) {
			uint64_t d = set->keys[2 * i], n = set->keys[2 * i + 1];

			if (!d && !n)
				continue;
			slot = (d * 0x9e3779b97f4a7c15ULL ^ n) & (cap - 1);
			while (keys[2 * slot] || keys[2 * slot + 1])
				slot = (slot + 1) & (cap - 1);
			keys[2 * slot] = d;
			keys[2 * slot + 1] = n;
		}
		free(set->keys);
		set->keys = keys;
		set->cap = cap;
	}
	mask = set->cap - 1;
	slot = (dev * 0x9e3779b97f4a7c15ULL ^ ino) & mask;
	while (set->keys[2 * slot] || set->keys[2 * slot + 1]) {
		if (set->keys[2 * slot] == dev && set->keys[2 * slot + 1] == ino)
			return false;
		slot = (slot + 1) & mask;
	}
	set->keys[2 * slot] = dev;
	set->keys[2 * slot + 1] = ino;
	set->count++;
	return true;
}

/* memfd objects are listed per process; every other object once. */
static bool all_filter(const struct mapped_object *obj, void *data)
{
	struct list_ctx *ctx = data;

	if (obj->memfd)
		return true;
	return seen_insert(&ctx->seen, obj->dev, obj->ino);
}

static int list_all(struct list_ctx *ctx)
{
	pid_t self = getpid();
	struct dirent *de;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc) {
		diag(ctx, "/proc: %s", strerror(errno));
		return EXIT_FAIL;
	}
	while ((de = readdir(proc))) {
		struct object_list objs = {0};
		char *end;
		long pid;
		int err;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX || pid == self)
			continue;
		err = discover_pid_objects_filtered(pid, &objs, all_filter, ctx);
		if (err == -ESRCH) {
			ctx->exited_procs++; /* gone between readdir and open */
			continue;
		}
		if (err) {
			ctx->skipped_procs++;
			continue;
		}
		list_objects(ctx, pid, &objs);
		object_list__free(&objs);
	}
	closedir(proc);
	if (ctx->skipped_procs || ctx->skipped_objs)
		diag(ctx, "skipped %zu process%s and %zu object%s that could not be read",
		     ctx->skipped_procs, ctx->skipped_procs == 1 ? "" : "es", ctx->skipped_objs,
		     ctx->skipped_objs == 1 ? "" : "s");
	if (ctx->exited_procs)
		diag(ctx, "%zu process%s exited during the scan", ctx->exited_procs,
		     ctx->exited_procs == 1 ? "" : "es");
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

static bool looks_like_pattern(const char *arg)
{
	struct stat st;

	return strchr(arg, ':') && stat(arg, &st) != 0;
}

int cmd_list(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"probe", required_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static char stdout_buf[STDOUT_BUF_SIZE];
	struct list_ctx ctx = {.out = stdout};
	int opt, status = EXIT_USAGE, npaths;
	char *end;
	long pid;

	/* one big buffer: the output of a large binary goes out in a few writes */
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:aP:vjh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || pid <= 0 || pid > INT_MAX) {
				fprintf(stderr, PROG ": invalid PID '%s'\n", optarg);
				goto usage_err;
			}
			ctx.pid = pid;
			break;
		case 'a':
			ctx.all = true;
			break;
		case 'P':
			if (probe_patterns__add(&ctx.patterns, optarg)) {
				fprintf(stderr, PROG ": invalid pattern '%s'\n", optarg);
				goto usage_err;
			}
			break;
		case 'v':
			ctx.verbose = true;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			usage(stdout);
			status = EXIT_OK;
			goto out;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs an argument\n", argv[optind - 1]);
			goto usage_err;
		default:
			if (optopt)
				fprintf(stderr, PROG ": unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
			goto usage_err;
		}
	}
	if (ctx.pid && ctx.all) {
		fprintf(stderr, PROG ": -p and --all exclude each other\n");
		goto usage_err;
	}
	json_writer__init(&ctx.jw, ctx.out);

	if (ctx.pid || ctx.all) {
		/* every operand is a pattern */
		for (int i = optind; i < argc; i++) {
			if (probe_patterns__add(&ctx.patterns, argv[i])) {
				fprintf(stderr, PROG ": invalid pattern '%s'\n", argv[i]);
				goto usage_err;
			}
		}
		status = ctx.pid ? list_pid(&ctx, ctx.pid) : list_all(&ctx);
		goto out;
	}

	npaths = argc - optind;
	if (npaths > 1 && looks_like_pattern(argv[argc - 1])) {
		if (probe_patterns__add(&ctx.patterns, argv[argc - 1])) {
			fprintf(stderr, PROG ": invalid pattern '%s'\n", argv[argc - 1]);
			goto usage_err;
		}
		npaths--;
	}
	if (npaths < 1) {
		fprintf(stderr, PROG ": no PATH given (or use -p PID or --all)\n");
		goto usage_err;
	}
	status = list_paths(&ctx, argv + optind, npaths);
	goto out;

usage_err:
	fprintf(stderr, "Try 'usdtkit list --help'.\n");
	status = EXIT_USAGE;
out:
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": writing output: %s\n", strerror(errno));
		if (status == EXIT_OK)
			status = EXIT_FAIL;
	}
	probe_patterns__free(&ctx.patterns);
	free(ctx.seen.keys);
	return status;
}
