// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The probe engine (see engine.h): objects, probes and locations.
 *
 * Why our own engine: Debian's libbpf 1.1.2 cannot parse SIB or sym(%rip)
 * argument specs, so bpf_program__attach_usdt() fails on real software.
 * The sdt core parses every spec form, lower.c turns each into a fetch
 * descriptor, and this file keeps the tables that say which location is
 * which probe of which object.
 *
 * Objects are identified by (dev, ino): the same file reached through a
 * path, a /proc/PID/map_files link or a memfd is scanned once. Objects,
 * probes and locations are hashed (hashidx.h), so a binary with 100 000
 * probes is set up in linear time. Files are opened non-blocking and only
 * if regular (the sdt reader checks): a FIFO a target swaps onto a mapped
 * path cannot hang the tracer.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "array.h"
#include "attach.h"
#include "discover.h"
#include "engine.h"
#include "hashidx.h"
#include "lower.h"
#include "probe_spec.h"

struct engine_spec {
	struct probe_spec ps;
	char *resolved_path; /* the PATH as opened */
	char *display_path; /* the PATH as shown: searched on $PATH, not rooted */
	dev_t dev; /* of the PATH, once resolved */
	ino_t ino;
	bool resolved;
	bool scanned;
	size_t matches;
};

struct engine_decl {
	struct probe_spec ps; /* provider/name globs */
	int n;
	uint16_t f32_mask;
	struct usdt_arg_meta meta[FETCH_MAX_ARGS];
};

struct engine_obj {
	dev_t dev;
	ino_t ino;
	char *attach_path;
	bool generic_done; /* PATH-less specs were matched against it */
	bool path_done; /* every PATH spec naming it was matched against it */
};

/* Words of a bitmap with one bit per PROBE spec (at least one). */
#define SPEC_WORDS(n) ((n) / 64 + 1)

struct engine {
	struct engine_opts opts;
	enum engine_attach_mode mode;
	struct attach_set links;
	struct engine_spec *specs;
	size_t nspecs;
	struct engine_decl *decls;
	size_t ndecls;
	char **added; /* engine__add_object paths */
	size_t nadded;
	struct engine_obj *objs;
	size_t nobjs, cap_objs;
	struct hashidx obj_idx;
	struct engine_probe *probes;
	size_t nprobes, cap_probes;
	size_t *probe_obj; /* object of each probe */
	size_t cap_probe_obj;
	uint64_t *probe_specs; /* SPEC_WORDS per probe: the PROBE specs that matched it */
	size_t cap_probe_specs;
	size_t *probe_first_loc;
	size_t cap_probe_first_loc;
	uint16_t *probe_unsupported;
	size_t cap_probe_unsupported;
	struct hashidx probe_idx;
	struct engine_loc *locs;
	size_t nlocs, cap_locs;
	size_t *loc_obj;
	size_t cap_loc_obj;
	struct hashidx loc_idx;
	unsigned int max_strings;
	unsigned int max_args;
	bool scanned; /* engine__scan ran: the spec list is fixed */
};

static void warn(struct engine *eng, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct engine *eng, const char *fmt, ...)
{
	FILE *out = eng->opts.log ? eng->opts.log : stderr;
	va_list ap;

	fprintf(out, "%s: ", eng->opts.who ? eng->opts.who : "usdtkit");
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

int engine__new(const struct engine_opts *opts, struct engine **out)
{
	struct engine *eng = calloc(1, sizeof(*eng));

	if (!eng)
		return -ENOMEM;
	eng->opts = *opts;
	*out = eng;
	return 0;
}

void engine__detach(struct engine *eng)
{
	attach_set__close(&eng->links);
}

void engine__free(struct engine *eng)
{
	if (!eng)
		return;
	attach_set__free(&eng->links);
	for (size_t i = 0; i < eng->nspecs; i++) {
		probe_spec__free(&eng->specs[i].ps);
		free(eng->specs[i].resolved_path);
		free(eng->specs[i].display_path);
	}
	for (size_t i = 0; i < eng->ndecls; i++)
		probe_spec__free(&eng->decls[i].ps);
	for (size_t i = 0; i < eng->nadded; i++)
		free(eng->added[i]);
	for (size_t i = 0; i < eng->nobjs; i++)
		free(eng->objs[i].attach_path);
	for (size_t i = 0; i < eng->nprobes; i++) {
		free(eng->probes[i].provider);
		free(eng->probes[i].name);
		free(eng->probes[i].object);
		if (eng->probes[i].meta_owned)
			free((void *)eng->probes[i].meta);
	}
	hashidx__free(&eng->obj_idx);
	hashidx__free(&eng->probe_idx);
	hashidx__free(&eng->loc_idx);
	free(eng->specs);
	free(eng->decls);
	free(eng->added);
	free(eng->objs);
	free(eng->probes);
	free(eng->probe_obj);
	free(eng->probe_specs);
	free(eng->probe_first_loc);
	free(eng->probe_unsupported);
	free(eng->locs);
	free(eng->loc_obj);
	free(eng);
}

int engine__add_probe(struct engine *eng, const char *text)
{
	struct engine_spec s = {0};
	void *np;
	int err;

	if (eng->scanned)
		return -EBUSY; /* probes record their specs in bitmaps sized at scan time */
	err = probe_spec__parse(&s.ps, text);
	if (err)
		return err;
	np = realloc(eng->specs, (eng->nspecs + 1) * sizeof(s));
	if (!np) {
		probe_spec__free(&s.ps);
		return -ENOMEM;
	}
	eng->specs = np;
	eng->specs[eng->nspecs++] = s;
	return 0;
}

/*
 * "[name:]type" items separated by commas. f32 is the tracer's own type
 * (no runtime or metadata note carries it): it is read as f64 by the
 * metadata parser and remembered in a mask.
 */
static int parse_decl_items(const char *list, struct engine_decl *d)
{
	struct usdt_parse_error perr = {0};
	size_t len = strlen(list);
	char *copy = strdup(list), *items = malloc(len + 2 * FETCH_MAX_ARGS + 2), *save = NULL;
	int n = 0, err = -EINVAL;

	if (!copy || !items) {
		err = -ENOMEM;
		goto out;
	}
	items[0] = 0;
	for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(it, ':');
		char *type = colon ? colon + 1 : it;

		if (n == FETCH_MAX_ARGS) {
			err = -E2BIG;
			goto out;
		}
		strcat(items, " ");
		if (!strcmp(type, "f32")) {
			d->f32_mask |= 1u << n;
			*type = 0;
			strcat(items, it);
			strcat(items, "f64");
		} else {
			strcat(items, it);
		}
		n++;
	}
	n = usdt_meta__parse(d->meta, FETCH_MAX_ARGS, items, &perr);
	if (n < 0) {
		err = n == -E2BIG ? -E2BIG : -EINVAL;
		goto out;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (d->meta[i].name[0] && !strcmp(d->meta[i].name, d->meta[j].name))
				goto out; /* a name given twice */
	d->n = n;
	err = 0;
out:
	free(copy);
	free(items);
	return err;
}

int engine__add_args_decl(struct engine *eng, const char *text)
{
	const char *eq = strchr(text, '=');
	struct engine_decl d = {0};
	char *sel;
	void *np;
	int err;

	if (eng->nprobes)
		return -EBUSY; /* probes point into eng->decls, which grows here */
	if (!eq || eq == text || !eq[1] || !memchr(text, ':', eq - text))
		return -EINVAL; /* PROVIDER:NAME=... */
	err = parse_decl_items(eq + 1, &d);
	if (err)
		return err;
	sel = strndup(text, eq - text);
	if (!sel)
		return -ENOMEM;
	err = probe_spec__parse(&d.ps, sel);
	free(sel);
	if (err)
		return err;
	np = realloc(eng->decls, (eng->ndecls + 1) * sizeof(d));
	if (d.ps.path || !np) {
		probe_spec__free(&d.ps);
		if (np)
			eng->decls = np;
		return np ? -EINVAL : -ENOMEM;
	}
	eng->decls = np;
	eng->decls[eng->ndecls++] = d;
	return 0;
}

int engine__add_object(struct engine *eng, const char *path)
{
	char *p = strdup(path);
	void *np = realloc(eng->added, (eng->nadded + 1) * sizeof(char *));

	if (np)
		eng->added = np;
	if (!p || !np) {
		free(p);
		return -ENOMEM;
	}
	eng->added[eng->nadded++] = p;
	return 0;
}
char *engine__resolve_path(const char *name)
{
	static const char *const libdirs[] = {"/lib/x86_64-linux-gnu",
					      "/usr/lib/x86_64-linux-gnu",
					      "/lib/aarch64-linux-gnu",
					      "/usr/lib/aarch64-linux-gnu",
					      "/lib64",
					      "/usr/lib64",
					      "/lib",
					      "/usr/lib",
					      "/usr/local/lib"};
	char buf[PATH_MAX];
	const char *env;

	if (strchr(name, '/'))
		return strdup(name);
	env = getenv("PATH");
	while (env && *env) {
		const char *end = strchrnul(env, ':');

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - env), env, name);
		if (end > env && access(buf, X_OK) == 0)
			return strdup(buf);
		env = *end ? end + 1 : end;
	}
	for (size_t i = 0; i < sizeof(libdirs) / sizeof(libdirs[0]); i++) {
		snprintf(buf, sizeof(buf), "%s/%s", libdirs[i], name);
		if (access(buf, R_OK) == 0)
			return strdup(buf);
		snprintf(buf, sizeof(buf), "%s/%s.so", libdirs[i], name);
		if (access(buf, R_OK) == 0)
			return strdup(buf);
	}
	return strdup(name);
}

struct obj_key {
	const struct engine *eng;
	dev_t dev;
	ino_t ino;
};

static uint64_t obj_hash(dev_t dev, ino_t ino)
{
	uint64_t k[2] = {dev, ino};

	return hashidx__bytes(HASHIDX_SEED, k, sizeof(k));
}

static bool obj_eq(const void *ctx, size_t i)
{
	const struct obj_key *k = ctx;

	return k->eng->objs[i].dev == k->dev && k->eng->objs[i].ino == k->ino;
}

/* The object (dev, ino), added if new. SIZE_MAX without memory. */
static size_t get_obj(struct engine *eng, dev_t dev, ino_t ino, const char *attach_path)
{
	struct obj_key k = {eng, dev, ino};
	uint64_t h = obj_hash(dev, ino);
	size_t i = hashidx__find(&eng->obj_idx, h, obj_eq, &k);
	struct engine_obj *o;

	if (i != SIZE_MAX)
		return i;
	if (array__grow((void **)&eng->objs, &eng->cap_objs, eng->nobjs + 1, sizeof(*o)))
		return SIZE_MAX;
	o = &eng->objs[eng->nobjs];
	memset(o, 0, sizeof(*o));
	o->dev = dev;
	o->ino = ino;
	o->attach_path = strdup(attach_path);
	if (!o->attach_path || hashidx__insert(&eng->obj_idx, h, eng->nobjs)) {
		free(o->attach_path);
		return SIZE_MAX;
	}
	return eng->nobjs++;
}

struct probe_key {
	const struct engine *eng;
	size_t obj;
	const char *provider, *name;
};

static uint64_t probe_hash(size_t obj, const char *provider, const char *name)
{
	uint64_t h = hashidx__bytes(HASHIDX_SEED, &obj, sizeof(obj));

	return hashidx__str(hashidx__str(h, provider), name);
}

static bool probe_eq(const void *ctx, size_t i)
{
	const struct probe_key *k = ctx;
	const struct engine_probe *p = &k->eng->probes[i];

	return k->eng->probe_obj[i] == k->obj && !strcmp(p->provider, k->provider) &&
	       !strcmp(p->name, k->name);
}

/* --args declarations win over the metadata note. */
static int type_probe(struct engine *eng, struct engine_probe *p, const struct usdt_note *n)
{
	static const struct usdt_arg_meta untyped[FETCH_MAX_ARGS];
	struct usdt_parse_error perr;
	struct usdt_arg_meta *m;

	p->meta = untyped;
	for (size_t i = 0; i < eng->ndecls; i++) {
		struct engine_decl *d = &eng->decls[i];

		if (probe_spec__match(&d->ps, n->provider, n->name)) {
			p->meta = d->meta;
			p->f32_mask = d->f32_mask;
			p->typed = true;
			return 0;
		}
	}
	if (!n->meta)
		return 0;
	m = calloc(FETCH_MAX_ARGS, sizeof(*m));
	if (!m)
		return -ENOMEM;
	if (usdt_meta__parse(m, FETCH_MAX_ARGS, n->meta, &perr) < 0) {
		free(m);
		return 0;
	}
	p->meta = m;
	p->meta_owned = true;
	p->typed = true;
	return 0;
}

static int find_or_add_probe(struct engine *eng, size_t obj, const char *display,
			     const struct usdt_note *n)
{
	struct probe_key k = {eng, obj, n->provider, n->name};
	uint64_t h = probe_hash(obj, n->provider, n->name);
	size_t i = hashidx__find(&eng->probe_idx, h, probe_eq, &k), words = SPEC_WORDS(eng->nspecs);
	struct engine_probe *p;

	if (i != SIZE_MAX)
		return i;
	i = eng->nprobes;
	if (array__grow((void **)&eng->probes, &eng->cap_probes, i + 1, sizeof(*p)) ||
	    array__grow((void **)&eng->probe_obj, &eng->cap_probe_obj, i + 1, sizeof(size_t)) ||
	    array__grow((void **)&eng->probe_first_loc, &eng->cap_probe_first_loc, i + 1,
			sizeof(size_t)) ||
	    array__grow((void **)&eng->probe_unsupported, &eng->cap_probe_unsupported, i + 1,
			sizeof(uint16_t)) ||
	    array__grow((void **)&eng->probe_specs, &eng->cap_probe_specs, (i + 1) * words,
			sizeof(uint64_t)))
		return -ENOMEM;
	p = &eng->probes[i];
	memset(p, 0, sizeof(*p));
	p->nargs = -1;
	p->provider = strdup(n->provider);
	p->name = strdup(n->name);
	p->object = strdup(display);
	if (!p->provider || !p->name || !p->object || hashidx__insert(&eng->probe_idx, h, i)) {
		free(p->provider);
		free(p->name);
		free(p->object);
		return -ENOMEM;
	}
	memset(&eng->probe_specs[i * words], 0, words * sizeof(uint64_t));
	eng->probe_first_loc[i] = SIZE_MAX;
	eng->probe_unsupported[i] = 0;
	eng->probe_obj[i] = obj;
	if (type_probe(eng, p, n)) {
		free(p->provider);
		free(p->name);
		free(p->object);
		return -ENOMEM;
	}
	eng->nprobes++;
	return i;
}

/* Records that the specs in @hits (a SPEC_WORDS bitmap) selected probe @pid. */
static void mark_specs(struct engine *eng, size_t pid, const uint64_t *hits)
{
	size_t words = SPEC_WORDS(eng->nspecs);

	for (size_t w = 0; w < words; w++)
		eng->probe_specs[pid * words + w] |= hits[w];
}

struct loc_key {
	const struct engine *eng;
	size_t obj;
	uint64_t pc;
	uint32_t probe;
};

static uint64_t loc_hash(size_t obj, uint64_t pc, uint32_t probe)
{
	uint64_t k[3] = {obj, pc, probe};

	return hashidx__bytes(HASHIDX_SEED, k, sizeof(k));
}

static bool loc_eq(const void *ctx, size_t i)
{
	const struct loc_key *k = ctx;

	return k->eng->loc_obj[i] == k->obj && k->eng->locs[i].pc_offset == k->pc &&
	       k->eng->locs[i].probe_id == k->probe;
}

static int symbol_of(void *ctx, const char *name, uint64_t *vaddr)
{
	return usdt_notes__symbol(ctx, name, vaddr);
}

/* Lowers every argument of @n into @l; arguments that cannot be fetched are marked. */
static void lower_args(struct engine *eng, const char *display, const struct usdt_notes *notes,
		       const struct usdt_note *n, const struct usdt_arg_spec *specs, int nargs,
		       const struct engine_probe *p, struct engine_loc *l)
{
	struct lower_site site = {
		.arch = usdt_notes__arch(notes),
		.pc_addr = n->pc_addr,
		.exec = usdt_notes__elf_type(notes) == 2 /* ET_EXEC */,
		.symbol = symbol_of,
		.symbol_ctx = (void *)notes,
	};
	unsigned int nstr = 0;

	for (int i = 0; i < nargs; i++) {
		struct usdt_fetch *f = &l->spec.args[i];
		int err = lower__arg(&site, &specs[i], f);

		if (err) {
			char txt[USDT_SPEC_TEXT_MAX];

			usdt_arg_spec__print(&specs[i], site.arch, txt, sizeof(txt));
			warn(eng, "%s: %s:%s: argument %d '%s' cannot be fetched (%s)", display,
			     n->provider, n->name, i, txt, strerror(-err));
			memset(f, 0, sizeof(*f));
			f->str_slot = FETCH_NO_SLOT;
			l->unsupported |= 1u << i;
			continue;
		}
		if (p->typed && p->meta[i].type == USDT_TYPE_STRING && specs[i].size == 8) {
			f->flags |= FETCH_STR;
			f->str_slot = nstr++;
		}
	}
	l->spec.nstr = nstr;
}

/*
 * Whether the probe is at the entry of a function named after it: a
 * runtime provider's stub (libusdtkit names each stub after its probe and
 * puts the probe first, or after one nop byte: x86-64's 10-byte form).
 * There no frame has been pushed, the return address is at the stack
 * pointer, and a user stack would miss the caller (ustack.h).
 */
static bool at_entry(const struct usdt_notes *notes, const struct usdt_note *n)
{
	uint64_t vaddr;

	return !usdt_notes__symbol(notes, n->name, &vaddr) && n->pc_addr >= vaddr &&
	       n->pc_addr - vaddr <= 1;
}

static int add_loc(struct engine *eng, size_t obj, const char *display,
		   const struct usdt_notes *notes, const struct usdt_note *n, const uint64_t *hits)
{
	struct usdt_arg_spec specs[FETCH_MAX_ARGS];
	struct usdt_parse_error perr = {0};
	struct loc_key k = {eng, obj, n->pc_offset, 0};
	struct engine_loc *l;
	struct engine_probe *p;
	uint64_t h;
	int pid, nargs;

	if (n->pc_offset == USDT_NO_OFFSET) {
		warn(eng, "%s: %s:%s at 0x%llx is not in a loaded segment, skipped", display,
		     n->provider, n->name, (unsigned long long)n->pc_addr);
		return 0;
	}
	nargs = usdt_arg_specs__parse(specs, FETCH_MAX_ARGS, n->args, usdt_notes__arch(notes),
				      &perr);
	if (nargs < 0) {
		warn(eng, "%s: %s:%s: cannot parse arguments '%s' at byte %zu (%s), skipped",
		     display, n->provider, n->name, n->args, perr.pos,
		     perr.msg ? perr.msg : strerror(-nargs));
		return 0;
	}
	pid = find_or_add_probe(eng, obj, display, n);
	if (pid < 0)
		return pid;
	mark_specs(eng, pid, hits);
	k.probe = pid;
	h = loc_hash(obj, n->pc_offset, pid);
	if (hashidx__find(&eng->loc_idx, h, loc_eq, &k) != SIZE_MAX)
		return 0; /* seen through another PROBE or scan */
	if (array__grow((void **)&eng->locs, &eng->cap_locs, eng->nlocs + 1, sizeof(*l)) ||
	    array__grow((void **)&eng->loc_obj, &eng->cap_loc_obj, eng->nlocs + 1,
			sizeof(size_t)) ||
	    hashidx__insert(&eng->loc_idx, h, eng->nlocs))
		return -ENOMEM;
	l = &eng->locs[eng->nlocs];
	memset(l, 0, sizeof(*l));
	l->attach_path = eng->objs[obj].attach_path;
	p = &eng->probes[pid];
	if (p->nargs < 0)
		p->nargs = nargs;
	l->probe_id = pid;
	l->pc_offset = n->pc_offset;
	l->sema_offset = n->semaphore ? n->sema_offset : USDT_NO_OFFSET;
	l->spec.probe_id = pid;
	l->spec.nargs = nargs;
	lower_args(eng, display, notes, n, specs, nargs, p, l);
	l->at_entry = at_entry(notes, n);
	eng->probe_unsupported[pid] |= l->unsupported;
	if (eng->probe_first_loc[pid] == SIZE_MAX)
		eng->probe_first_loc[pid] = eng->nlocs;
	if (l->spec.nstr > eng->max_strings)
		eng->max_strings = l->spec.nstr;
	if ((unsigned int)nargs > eng->max_args)
		eng->max_args = nargs;
	eng->loc_obj[eng->nlocs++] = obj;
	return 1;
}

static bool spec_names(const struct engine_spec *sp, dev_t dev, ino_t ino)
{
	return sp->ps.path && sp->resolved && sp->dev == dev && sp->ino == ino;
}

/* The architecture whose objects this tracer can attach to. */
#if defined(__x86_64__)
#define ENGINE_ARCH USDT_ARCH_X86_64
#elif defined(__aarch64__)
#define ENGINE_ARCH USDT_ARCH_AARCH64
#else
#define ENGINE_ARCH USDT_ARCH_UNKNOWN
#endif

/*
 * Matches the notes of one object against the specs that apply: the PROBEs
 * whose PATH is this object, and when @generic the PATH-less PROBEs.
 */
static int scan_object(struct engine *eng, const char *open_path, const char *attach_path,
		       const char *display, dev_t dev, ino_t ino, bool generic)
{
	size_t oi = get_obj(eng, dev, ino, attach_path), words = SPEC_WORDS(eng->nspecs), added = 0;
	bool do_generic, do_path = false;
	struct usdt_notes *notes;
	struct engine_obj *o;
	uint64_t *hits = NULL;
	int err = 0;

	if (oi == SIZE_MAX)
		return -ENOMEM;
	o = &eng->objs[oi];
	do_generic = generic && !o->generic_done;
	if (!o->path_done)
		for (size_t s = 0; s < eng->nspecs && !do_path; s++)
			do_path = spec_names(&eng->specs[s], dev, ino);
	o->path_done = true;
	if (generic)
		o->generic_done = true;
	if (!do_generic && !do_path)
		return 0;
	notes = usdt_notes__open_path(open_path, NULL);
	if (!notes) {
		err = -errno;
		if (!do_path && (err == -ENOEXEC || err == -ENOTSUP))
			return 0;
		if (eng->opts.verbose || do_path)
			warn(eng, "%s: %s", display,
			     err == -ENOEXEC ? "not an ELF file (or not a regular file)"
					     : strerror(-err));
		return do_path ? err : 0;
	}
	if (usdt_notes__count(notes) && usdt_notes__arch(notes) != ENGINE_ARCH) {
		warn(eng, "%s: not an object of this machine's architecture, skipped", display);
		goto out;
	}
	hits = calloc(words, sizeof(*hits));
	if (!hits) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < usdt_notes__count(notes); i++) {
		const struct usdt_note *n = usdt_notes__get(notes, i);
		bool hit = false;

		memset(hits, 0, words * sizeof(*hits));
		for (size_t s = 0; s < eng->nspecs; s++) {
			struct engine_spec *sp = &eng->specs[s];
			bool applies =
				sp->ps.path ? do_path && spec_names(sp, dev, ino) : do_generic;

			if (applies && probe_spec__match(&sp->ps, n->provider, n->name)) {
				sp->matches++;
				hits[s / 64] |= 1ull << (s % 64);
				hit = true;
			}
		}
		if (!hit)
			continue;
		err = add_loc(eng, oi, display, notes, n, hits);
		if (err < 0)
			goto out;
		added += err;
	}
	err = added;
out:
	free(hits);
	usdt_notes__free(notes);
	return err;
}

static int scan_path(struct engine *eng, const char *path, const char *display, bool generic)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	return scan_object(eng, path, path, display, st.st_dev, st.st_ino, generic);
}

/*
 * Every PATH is resolved before any object is scanned: an object is scanned
 * once for all the PATH specs naming it, so PROBEs sharing a PATH must all
 * be known by then. With -p, an absolute PATH names a file in the target's
 * mount namespace, reached through /proc/PID/root.
 */
static int resolve_specs(struct engine *eng)
{
	for (size_t s = 0; s < eng->nspecs; s++) {
		struct engine_spec *sp = &eng->specs[s];
		char *full, *rooted = NULL;
		struct stat st;
		int err;

		if (!sp->ps.path || sp->resolved)
			continue;
		full = engine__resolve_path(sp->ps.path);
		if (!full)
			return -ENOMEM;
		sp->display_path = strdup(full);
		if (!sp->display_path) {
			free(full);
			return -ENOMEM;
		}
		if (eng->opts.pid_root && eng->opts.pid > 0 && full[0] == '/') {
			if (asprintf(&rooted, "/proc/%d/root%s", (int)eng->opts.pid, full) < 0) {
				free(full);
				return -ENOMEM;
			}
			free(full);
			full = rooted;
		}
		if (stat(full, &st)) {
			err = -errno;
			warn(eng, "%s: %s", sp->ps.path, strerror(errno));
			free(full);
			return err;
		}
		if (!S_ISREG(st.st_mode)) {
			warn(eng, "%s: %s", sp->ps.path,
			     S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
			free(full);
			return -EINVAL;
		}
		sp->resolved_path = full;
		sp->dev = st.st_dev;
		sp->ino = st.st_ino;
		sp->resolved = true;
	}
	return 0;
}

int engine__scan_process(struct engine *eng, pid_t pid)
{
	struct object_list list = {0};
	int err, total = 0;

	eng->scanned = true;
	err = resolve_specs(eng);
	if (err)
		return err;
	err = discover_pid_objects(pid, &list);
	if (err)
		return err;
	for (size_t i = 0; i < list.count; i++) {
		const struct mapped_object *mo = &list.objs[i];
		const char *attach = mo->open_path;
		struct stat st;

		/* prefer the real path when it still names the mapped file */
		if (!mo->deleted && !mo->memfd && !stat(mo->display_path, &st) &&
		    st.st_dev == mo->dev && st.st_ino == mo->ino)
			attach = mo->display_path;
		err = scan_object(eng, mo->open_path, attach, mo->display_path, mo->dev, mo->ino,
				  true);
		if (err < 0)
			break;
		total += err;
	}
	object_list__free(&list);
	return err < 0 ? err : total;
}

int engine__scan_object(struct engine *eng, const char *path, const char *display)
{
	int err;

	eng->scanned = true;
	err = resolve_specs(eng);
	if (err)
		return err;
	return scan_path(eng, path, display, true);
}

int engine__scan(struct engine *eng, bool scan_pid_objects)
{
	int err, total = 0;

	eng->scanned = true;
	err = resolve_specs(eng);
	if (err)
		return err;
	for (size_t s = 0; s < eng->nspecs; s++) {
		struct engine_spec *sp = &eng->specs[s];

		if (!sp->ps.path || sp->scanned)
			continue;
		sp->scanned = true;
		err = scan_path(eng, sp->resolved_path, sp->display_path, false);
		if (err < 0)
			return err;
		total += err;
	}
	for (size_t i = 0; i < eng->nadded; i++) {
		err = scan_path(eng, eng->added[i], eng->added[i], true);
		if (err < 0 && err != -ENOENT)
			return err;
		if (err > 0)
			total += err;
	}
	if (scan_pid_objects && eng->opts.pid > 0) {
		err = engine__scan_process(eng, eng->opts.pid);
		if (err < 0)
			return err;
		total += err;
	}
	return total;
}

static void warn_attach(struct engine *eng, const struct engine_loc *l, int err)
{
	const struct engine_probe *p = &eng->probes[l->probe_id];

	warn(eng, "%s: cannot attach %s:%s at offset 0x%llx: %s", p->object, p->provider, p->name,
	     (unsigned long long)l->pc_offset, strerror(-err));
}

static uint64_t ref_ctr_of(const struct engine_loc *l)
{
	return l->sema_offset == USDT_NO_OFFSET ? 0 : l->sema_offset;
}

/*
 * One uprobe_multi link per object: a single syscall attaches all its
 * pending locations. A link fails whole when one location is bad: then
 * they are retried one by one, so one bad note does not hide the others.
 */
static int attach_object_multi(struct engine *eng, int prog_fd, size_t obj, const size_t *idx,
			       size_t cnt, uint64_t *offs, uint64_t *refs, uint64_t *cookies)
{
	const char *path = eng->objs[obj].attach_path;
	bool any_ref = false;
	int err, attached = 0;

	for (size_t k = 0; k < cnt; k++) {
		const struct engine_loc *l = &eng->locs[idx[k]];

		offs[k] = l->pc_offset;
		refs[k] = ref_ctr_of(l);
		any_ref |= refs[k] != 0;
		cookies[k] = engine__cookie(eng, idx[k]);
	}
	err = attach_set__multi(&eng->links, prog_fd, path, offs, any_ref ? refs : NULL, cookies,
				cnt, eng->opts.pid);
	if (!err) {
		for (size_t k = 0; k < cnt; k++)
			eng->locs[idx[k]].linked = true;
		return cnt;
	}
	if (err == -EPERM || err == -EACCES || err == -ENOMEM)
		return err;
	if (cnt == 1) {
		warn_attach(eng, &eng->locs[idx[0]], err);
		return 0;
	}
	for (size_t k = 0; k < cnt; k++) {
		err = attach_object_multi(eng, prog_fd, obj, &idx[k], 1, &offs[k], &refs[k],
					  &cookies[k]);
		if (err < 0)
			return err;
		attached += err;
	}
	return attached;
}

static int attach_multi(struct engine *eng, struct bpf_program *prog, size_t *pending, size_t n)
{
	uint64_t *offs = calloc(n, sizeof(*offs)), *refs = calloc(n, sizeof(*refs));
	uint64_t *cookies = calloc(n, sizeof(*cookies));
	size_t *order = calloc(n, sizeof(*order)), *start = NULL;
	int attached = 0, err = 0;

	if (!offs || !refs || !cookies || !order)
		goto nomem;
	/* group the pending locations by object: a counting sort, linear */
	start = calloc(eng->nobjs + 1, sizeof(*start));
	if (!start)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		start[eng->loc_obj[pending[i]] + 1]++;
	for (size_t o = 0; o < eng->nobjs; o++)
		start[o + 1] += start[o];
	for (size_t i = 0; i < n; i++)
		order[start[eng->loc_obj[pending[i]]]++] = pending[i];
	for (size_t i = 0, first = 0; i <= n; i++) {
		if (i < n && (i == first || eng->loc_obj[order[i]] == eng->loc_obj[order[first]]))
			continue;
		if (i > first) {
			err = attach_object_multi(eng, bpf_program__fd(prog),
						  eng->loc_obj[order[first]], order + first,
						  i - first, offs, refs, cookies);
			if (err < 0)
				goto out;
			attached += err;
		}
		first = i;
	}
	err = attached;
	goto out;
nomem:
	err = -ENOMEM;
out:
	free(offs);
	free(refs);
	free(cookies);
	free(order);
	free(start);
	return err;
}

static int attach_perf(struct engine *eng, struct bpf_program *prog, size_t *pending, size_t n)
{
	int attached = 0, err;

	for (size_t i = 0; i < n; i++) {
		struct engine_loc *l = &eng->locs[pending[i]];

		err = attach_set__perf(&eng->links, prog, l->attach_path, l->pc_offset,
				       ref_ctr_of(l), engine__cookie(eng, pending[i]),
				       eng->opts.pid);
		if (err == -EPERM || err == -EACCES || err == -ENOMEM)
			return err;
		if (err) {
			warn_attach(eng, l, err);
			continue;
		}
		l->linked = true;
		attached++;
	}
	return attached;
}

/*
 * Writes the specs of @n pending locations into the locs map: in one
 * batch syscall where the kernel has it (5.6+), 100 000 locations in one
 * call instead of 100 000; one by one otherwise. Returns the number of
 * locations whose spec is stored (compacted at the front of @pending) or a
 * negative errno that will repeat.
 */
static int store_specs(struct engine *eng, int fd, size_t *pending, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	struct usdt_loc_spec *vals = calloc(n ? n : 1, sizeof(*vals));
	__u32 *keys = calloc(n ? n : 1, sizeof(*keys)), count = n;
	size_t kept = 0;
	int err = 0;

	if (fd < 0) {
		/* a program that needs no argument (stat's counting) has no locs map */
		free(vals);
		free(keys);
		return n;
	}
	if (vals && keys) {
		for (size_t i = 0; i < n; i++) {
			keys[i] = pending[i];
			vals[i] = eng->locs[pending[i]].spec;
		}
		if (n && !bpf_map_update_batch(fd, keys, vals, &count, &bo) && count == n)
			kept = n;
	}
	free(vals);
	free(keys);
	if (kept == n)
		return n;
	for (size_t i = 0; i < n; i++) {
		__u32 key = pending[i];

		if (bpf_map_update_elem(fd, &key, &eng->locs[pending[i]].spec, BPF_ANY)) {
			err = -errno;
			if (err == -EPERM || err == -E2BIG)
				return err;
			warn(eng, "location %zu: cannot store its spec: %s", pending[i],
			     strerror(-err));
			continue;
		}
		pending[kept++] = pending[i];
	}
	return kept;
}

/* Specs first: a location may fire as soon as it is attached. */
int engine__attach(struct engine *eng, struct bpf_program *prog, int locs_map_fd)
{
	size_t *pending = calloc(eng->nlocs ? eng->nlocs : 1, sizeof(*pending)), n = 0;
	int err;

	if (!pending)
		return -ENOMEM;
	for (size_t i = 0; i < eng->nlocs; i++) {
		if (eng->locs[i].attempted)
			continue;
		eng->locs[i].attempted = true;
		pending[n++] = i;
	}
	err = store_specs(eng, locs_map_fd, pending, n);
	if (err < 0)
		goto out;
	n = err;
	err = eng->mode == ENGINE_ATTACH_MULTI ? attach_multi(eng, prog, pending, n)
					       : attach_perf(eng, prog, pending, n);
out:
	free(pending);
	return err;
}

void engine__set_pid(struct engine *eng, pid_t pid)
{
	eng->opts.pid = pid;
}

void engine__set_attach_mode(struct engine *eng, enum engine_attach_mode mode)
{
	eng->mode = mode;
}

size_t engine__loc_count(const struct engine *eng)
{
	return eng->nlocs;
}

const struct engine_loc *engine__loc(const struct engine *eng, size_t i)
{
	return i < eng->nlocs ? &eng->locs[i] : NULL;
}

size_t engine__probe_count(const struct engine *eng)
{
	return eng->nprobes;
}

const struct engine_probe *engine__probe(const struct engine *eng, size_t i)
{
	return i < eng->nprobes ? &eng->probes[i] : NULL;
}

size_t engine__first_loc(const struct engine *eng, size_t probe_id)
{
	return probe_id < eng->nprobes ? eng->probe_first_loc[probe_id] : SIZE_MAX;
}

uint16_t engine__unsupported(const struct engine *eng, size_t probe_id)
{
	return probe_id < eng->nprobes ? eng->probe_unsupported[probe_id] : 0;
}

size_t engine__spec_count(const struct engine *eng)
{
	return eng->nspecs;
}

bool engine__probe_matched_by(const struct engine *eng, size_t probe, size_t spec)
{
	if (probe >= eng->nprobes || spec >= eng->nspecs)
		return false;
	return eng->probe_specs[probe * SPEC_WORDS(eng->nspecs) + spec / 64] &
	       (1ull << (spec % 64));
}

const char *engine__spec(const struct engine *eng, size_t i, size_t *matches)
{
	if (i >= eng->nspecs)
		return NULL;
	if (matches)
		*matches = eng->specs[i].matches;
	return eng->specs[i].ps.text;
}

bool engine__needs_target(const struct engine *eng)
{
	for (size_t i = 0; i < eng->nspecs; i++)
		if (!eng->specs[i].ps.path)
			return true;
	return false;
}

unsigned int engine__max_strings(const struct engine *eng)
{
	return eng->max_strings;
}

unsigned int engine__max_args(const struct engine *eng)
{
	return eng->max_args;
}

void engine__pending_max(const struct engine *eng, unsigned int *max_args,
			 unsigned int *max_strings)
{
	*max_args = *max_strings = 0;
	for (size_t i = 0; i < eng->nlocs; i++) {
		const struct engine_loc *l = &eng->locs[i];

		if (l->attempted)
			continue;
		if (l->spec.nargs > *max_args)
			*max_args = l->spec.nargs;
		if (l->spec.nstr > *max_strings)
			*max_strings = l->spec.nstr;
	}
}

uint64_t engine__cookie(const struct engine *eng, size_t i)
{
	return i | (i < eng->nlocs && eng->locs[i].at_entry ? ENGINE_COOKIE_AT_ENTRY : 0);
}

enum usdt_type engine__arg_type(const struct engine_probe *probe, const struct usdt_fetch *f, int i)
{
	bool s = f->flags & FETCH_SIGNED;

	if (probe->typed && i >= 0 && i < FETCH_MAX_ARGS && probe->meta[i].type != USDT_TYPE_NONE)
		return probe->meta[i].type;
	if (f->flags & FETCH_FLOAT)
		return USDT_TYPE_DOUBLE; /* "4f@" is decoded as a float: see decode.c */
	switch (f->size) {
	case 1:
		return s ? USDT_TYPE_INT8 : USDT_TYPE_UINT8;
	case 2:
		return s ? USDT_TYPE_INT16 : USDT_TYPE_UINT16;
	case 4:
		return s ? USDT_TYPE_INT32 : USDT_TYPE_UINT32;
	default:
		return s ? USDT_TYPE_INT64 : USDT_TYPE_UINT64;
	}
}

const char *engine__arg_name(const struct engine_probe *probe, int i, char *buf, size_t size)
{
	if (i >= 0 && i < FETCH_MAX_ARGS && probe->meta[i].name[0])
		return probe->meta[i].name;
	snprintf(buf, size, "arg%d", i);
	return buf;
}

int engine__arg_index(const struct engine_probe *p, const char *want)
{
	const char *num = want;
	char nb[16], *end;
	long i;

	for (int a = 0; a < p->nargs && a < FETCH_MAX_ARGS; a++)
		if (!strcmp(engine__arg_name(p, a, nb, sizeof(nb)), want))
			return a;
	if (!strncmp(num, "arg", 3))
		num += 3;
	if (*num < '0' || *num > '9')
		return -1;
	i = strtol(num, &end, 10);
	return *end || i >= p->nargs ? -1 : (int)i;
}
