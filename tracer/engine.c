// SPDX-License-Identifier: MIT
/*
 * The tracer's argument engine, user side (see engine.h).
 *
 * Why our own engine: Debian's libbpf 1.1.2 cannot parse SIB or sym(%rip)
 * argument specs, so bpf_program__attach_usdt() fails on real software.
 * The sdt core parses every spec form; this file lowers each parsed spec
 * to a struct usdt_fetch the generic BPF program (fetch.bpf.h) evaluates,
 * with everything the kernel cannot know precomputed here: pt_regs offsets,
 * and rip-relative (or absolute-symbol) addresses expressed as a delta from
 * the probe address, which holds for any load address and so needs no PID.
 *
 * Objects are identified by (dev, ino): the same file reached through a
 * path, a /proc/PID/map_files link or a memfd is scanned once. Uprobes are
 * raw (bpf_program__attach_uprobe_opts) with the location index as cookie
 * and the semaphore's file offset as ref_ctr_offset, so the kernel turns
 * semaphores on while attached and off again when the links go.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "discover.h"
#include "engine.h"

struct engine_spec {
	char *text; /* as given */
	char *path; /* NULL: search the target's objects */
	char *provider; /* glob */
	char *name; /* glob */
	dev_t dev; /* of path, once resolved */
	ino_t ino;
	bool resolved;
	bool scanned; /* its object was scanned */
	size_t matches;
};

struct engine_decl {
	char *provider; /* glob */
	char *name; /* glob */
	int n;
	struct usdt_arg_meta meta[FETCH_MAX_ARGS];
};

struct engine_obj {
	dev_t dev;
	ino_t ino;
	bool generic_done; /* PATH-less specs were matched against it */
	bool path_done; /* every PATH spec naming it was matched against it */
};

/* Words of a bitmap with one bit per PROBE spec (at least one). */
#define SPEC_WORDS(n) ((n) / 64 + 1)

struct engine {
	struct engine_opts opts;
	int *link_fds; /* uprobe_multi links, one per object and scan */
	size_t nlink_fds;
	struct engine_spec *specs;
	size_t nspecs;
	struct engine_decl *decls;
	size_t ndecls;
	char **added; /* engine__add_object paths */
	size_t nadded;
	struct engine_obj *objs;
	size_t nobjs;
	struct engine_probe *probes;
	size_t nprobes, cap_probes;
	size_t *probe_obj; /* object index of each probe */
	uint64_t **probe_specs; /* per probe: bitmap of the PROBE specs that matched it */
	size_t cap_probe_specs;
	size_t cap_probe_obj, cap_loc_obj;
	struct engine_loc *locs;
	size_t nlocs, cap_locs;
	size_t *loc_obj;
	unsigned int max_strings;
	unsigned int max_args;
	bool scanned; /* engine__scan ran: the spec list is fixed */
};

static void warn(struct engine *eng, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct engine *eng, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(eng->opts.log ? eng->opts.log : stderr, fmt, ap);
	va_end(ap);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
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

/*
 * Detaching waits in the kernel: closing a uprobe_multi link or a uprobe
 * perf event waits for RCU grace periods (tens of milliseconds each, more
 * under load), one close after the other when done serially: 300 runtime
 * providers took 20-50 s. The closes are independent, so a pool of threads
 * takes them from one shared list and the waits overlap.
 */
struct detach_pool {
	struct engine *eng;
	size_t next; /* next item: link fds first, then the locations */
};

static void *detach_thread(void *arg)
{
	struct detach_pool *p = arg;
	struct engine *eng = p->eng;
	size_t total = eng->nlink_fds + eng->nlocs, i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < total) {
		if (i < eng->nlink_fds) {
			close(eng->link_fds[i]);
			continue;
		}
		i -= eng->nlink_fds;
		bpf_link__destroy(eng->locs[i].link);
		eng->locs[i].link = NULL;
	}
	return NULL;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Perf-event uprobes cannot be closed in parallel: the kernel tears each
 * one down holding a global mutex (event_mutex) across an RCU grace period,
 * so 300 of them take 20-50 s however many threads close them. Above a
 * handful, the closing is handed to a detached grandchild that holds the
 * only other references: our own closes then just drop references and
 * return at once, the command exits, and the kernel removes the probes in
 * the background (the program stops being called as each one goes). The
 * grandchild starts closing once we have dropped ours (EOF on the returned
 * pipe, closed by the caller), so that its closes are the last ones. It
 * keeps nothing else open (stdio on /dev/null), so no pipe of the caller
 * waits for it. Returns that pipe's write end, or -1 when not handed off.
 */
static int detach_handoff(struct engine *eng, size_t nperf)
{
	enum { HANDOFF_MIN = 8 };
	size_t n = 0;
	int *fds, status, pfd[2];
	pid_t pid;

	if (nperf < HANDOFF_MIN || !(fds = malloc((nperf + 1) * sizeof(*fds))))
		return -1;
	if (pipe2(pfd, O_CLOEXEC)) {
		free(fds);
		return -1;
	}
	for (size_t i = 0; i < eng->nlocs && n < nperf; i++)
		if (eng->locs[i].link && bpf_link__fd(eng->locs[i].link) >= 0)
			fds[n++] = bpf_link__fd(eng->locs[i].link);
	fds[n++] = pfd[0];
	qsort(fds, n, sizeof(*fds), cmp_int);
	pid = fork();
	if (pid == 0) {
		/* only async-signal-safe calls from here: we may have threads */
		char c;

		if (fork() != 0)
			_exit(0);
		setsid();
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		for (int fd = 0; fd < 3; fd++)
			if (null >= 0 && null != fd)
				dup2(null, fd);
		/* everything but stdio, the links and the pipe's read end */
		for (size_t i = 0, from = 3; i <= n; i++) {
			unsigned int to = i < n ? (unsigned int)fds[i] : ~0u;

			if (to > from)
				syscall(SYS_close_range, from, to - 1, 0);
			if (i < n)
				from = fds[i] + 1;
		}
		while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
			;
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		_exit(0);
	}
	free(fds);
	close(pfd[0]);
	if (pid < 0) {
		close(pfd[1]);
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return pfd[1];
}

void engine__detach(struct engine *eng)
{
	enum { MAX_THREADS = 128, PER_THREAD = 2 };
	struct detach_pool pool = {.eng = eng};
	pthread_t tids[MAX_THREADS];
	size_t nthreads = 0, want, items = eng->nlink_fds, nperf = 0;
	int handoff;
	pthread_attr_t attr;
	bool attr_ok;

	for (size_t i = 0; i < eng->nlocs; i++)
		nperf += eng->locs[i].link != NULL;
	/* handed off or not, our own references are closed below */
	handoff = detach_handoff(eng, nperf);
	items += nperf;
	want = items / PER_THREAD;
	want = want > MAX_THREADS ? MAX_THREADS : want;
	/* the threads only wait in close(): a small stack each */
	attr_ok = want > 1 && !pthread_attr_init(&attr);
	if (attr_ok) {
		pthread_attr_setstacksize(&attr, 64 << 10);
		for (; nthreads < want; nthreads++)
			if (pthread_create(&tids[nthreads], &attr, detach_thread, &pool))
				break;
		pthread_attr_destroy(&attr);
	}
	detach_thread(&pool); /* this thread too; alone if no thread could start */
	for (size_t t = 0; t < nthreads; t++)
		pthread_join(tids[t], NULL);
	eng->nlink_fds = 0;
	if (handoff >= 0)
		close(handoff); /* the grandchild's turn */
}

void engine__free(struct engine *eng)
{
	if (!eng)
		return;
	engine__detach(eng);
	for (size_t i = 0; i < eng->nspecs; i++) {
		free(eng->specs[i].text);
		free(eng->specs[i].path);
		free(eng->specs[i].provider);
		free(eng->specs[i].name);
	}
	for (size_t i = 0; i < eng->ndecls; i++) {
		free(eng->decls[i].provider);
		free(eng->decls[i].name);
	}
	for (size_t i = 0; i < eng->nadded; i++)
		free(eng->added[i]);
	for (size_t i = 0; i < eng->nprobes; i++) {
		free(eng->probes[i].provider);
		free(eng->probes[i].name);
		free(eng->probes[i].object);
		free(eng->probe_specs[i]);
	}
	for (size_t i = 0; i < eng->nlocs; i++)
		free(eng->locs[i].attach_path);
	free(eng->link_fds);
	free(eng->specs);
	free(eng->decls);
	free(eng->added);
	free(eng->objs);
	free(eng->probes);
	free(eng->probe_obj);
	free(eng->probe_specs);
	free(eng->locs);
	free(eng->loc_obj);
	free(eng);
}

/* Splits "A:B" at the last colon or "A:B:C" into its parts; globs need no escaping. */
int engine__add_probe(struct engine *eng, const char *text)
{
	struct engine_spec s = {0};
	const char *c1, *c2;
	void *np;

	if (eng->scanned)
		return -EBUSY; /* probes record their specs in bitmaps sized at scan time */
	c2 = strrchr(text, ':');
	if (!c2 || c2 == text || !c2[1])
		return -EINVAL;
	c1 = NULL;
	for (const char *p = c2 - 1; p >= text; p--) {
		if (*p == ':') {
			c1 = p;
			break;
		}
	}
	if (c1 && (c1 == text || c1 + 1 == c2))
		return -EINVAL;
	s.text = strdup(text);
	s.name = strdup(c2 + 1);
	if (c1) {
		s.path = strndup(text, c1 - text);
		s.provider = strndup(c1 + 1, c2 - c1 - 1);
	} else {
		s.provider = strndup(text, c2 - text);
	}
	np = realloc(eng->specs, (eng->nspecs + 1) * sizeof(*eng->specs));
	if (!s.text || !s.name || !s.provider || (c1 && !s.path) || !np) {
		free(s.text);
		free(s.name);
		free(s.path);
		free(s.provider);
		if (np)
			eng->specs = np;
		return -ENOMEM;
	}
	eng->specs = np;
	eng->specs[eng->nspecs++] = s;
	return 0;
}

int engine__add_args_decl(struct engine *eng, const char *text)
{
	struct engine_decl d = {0};
	struct usdt_parse_error perr = {0};
	const char *eq = strchr(text, '='), *colon;
	char *items = NULL;
	int n, err = -EINVAL;
	void *np;

	if (!eq)
		return -EINVAL;
	colon = memrchr(text, ':', eq - text);
	if (!colon || colon == text || colon + 1 == eq)
		return -EINVAL;
	items = strdup(eq + 1);
	if (!items)
		return -ENOMEM;
	for (char *p = items; *p; p++)
		if (*p == ',')
			*p = ' ';
	n = usdt_meta__parse(d.meta, FETCH_MAX_ARGS, items, &perr);
	free(items);
	if (n < 0)
		return n == -E2BIG ? -E2BIG : -EINVAL;
	d.n = n;
	d.provider = strndup(text, colon - text);
	d.name = strndup(colon + 1, eq - colon - 1);
	np = realloc(eng->decls, (eng->ndecls + 1) * sizeof(*eng->decls));
	if (!d.provider || !d.name || !np) {
		err = -ENOMEM;
		if (np)
			eng->decls = np;
		free(d.provider);
		free(d.name);
		return err;
	}
	eng->decls = np;
	eng->decls[eng->ndecls++] = d;
	return 0;
}

int engine__add_object(struct engine *eng, const char *path)
{
	char *p = strdup(path);
	void *np = realloc(eng->added, (eng->nadded + 1) * sizeof(char *));

	if (!p || !np) {
		free(p);
		if (np)
			eng->added = np;
		return -ENOMEM;
	}
	eng->added = np;
	eng->added[eng->nadded++] = p;
	return 0;
}

/* PATH without a slash: an executable on $PATH or a library in the usual directories. */
static char *resolve_path(const char *name)
{
	static const char *const libdirs[] = {"/lib/x86_64-linux-gnu",
					      "/usr/lib/x86_64-linux-gnu",
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

static struct engine_obj *find_obj(struct engine *eng, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < eng->nobjs; i++)
		if (eng->objs[i].dev == dev && eng->objs[i].ino == ino)
			return &eng->objs[i];
	return NULL;
}

/*
 * Byte offset of @reg in the kernel's struct pt_regs, which begins with the
 * user-visible register block (x86-64: user_regs_struct order; arm64:
 * user_pt_regs). Only the host's architecture can be traced.
 */
#if defined(__x86_64__)
#define ENGINE_ARCH USDT_ARCH_X86_64
static int reg_off(enum usdt_reg reg)
{
	switch (reg) {
	case USDT_REG_X86_AX:
		return offsetof(struct user_regs_struct, rax);
	case USDT_REG_X86_BX:
		return offsetof(struct user_regs_struct, rbx);
	case USDT_REG_X86_CX:
		return offsetof(struct user_regs_struct, rcx);
	case USDT_REG_X86_DX:
		return offsetof(struct user_regs_struct, rdx);
	case USDT_REG_X86_SI:
		return offsetof(struct user_regs_struct, rsi);
	case USDT_REG_X86_DI:
		return offsetof(struct user_regs_struct, rdi);
	case USDT_REG_X86_BP:
		return offsetof(struct user_regs_struct, rbp);
	case USDT_REG_X86_SP:
		return offsetof(struct user_regs_struct, rsp);
	case USDT_REG_X86_R8:
		return offsetof(struct user_regs_struct, r8);
	case USDT_REG_X86_R9:
		return offsetof(struct user_regs_struct, r9);
	case USDT_REG_X86_R10:
		return offsetof(struct user_regs_struct, r10);
	case USDT_REG_X86_R11:
		return offsetof(struct user_regs_struct, r11);
	case USDT_REG_X86_R12:
		return offsetof(struct user_regs_struct, r12);
	case USDT_REG_X86_R13:
		return offsetof(struct user_regs_struct, r13);
	case USDT_REG_X86_R14:
		return offsetof(struct user_regs_struct, r14);
	case USDT_REG_X86_R15:
		return offsetof(struct user_regs_struct, r15);
	case USDT_REG_X86_IP:
		return offsetof(struct user_regs_struct, rip);
	default:
		return -ENOTSUP;
	}
}
#elif defined(__aarch64__)
#include <asm/ptrace.h>
#define ENGINE_ARCH USDT_ARCH_AARCH64
static int reg_off(enum usdt_reg reg)
{
	if (reg >= USDT_REG_A64_X0 && reg <= USDT_REG_A64_X30)
		return offsetof(struct user_pt_regs, regs) + (reg - USDT_REG_A64_X0) * 8;
	if (reg == USDT_REG_A64_SP)
		return offsetof(struct user_pt_regs, sp);
	return -ENOTSUP;
}
#else
#define ENGINE_ARCH USDT_ARCH_UNKNOWN
static int reg_off(enum usdt_reg reg)
{
	return -ENOTSUP;
}
#endif

static int scale_shift(unsigned int scale)
{
	switch (scale) {
	case 0:
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 2;
	case 8:
		return 3;
	default:
		return -EINVAL;
	}
}

/*
 * Lowers one parsed spec. Symbols: sym(%rip) and a bare symbol both become
 * probe_ip + (sym + disp - probe_vaddr); sym(%reg) only in ET_EXEC objects,
 * where link-time addresses are run-time addresses.
 */
static int compile_arg(const struct usdt_notes *notes, const struct usdt_note *note,
		       const struct usdt_arg_spec *a, struct usdt_fetch *f)
{
	uint64_t sym = 0;
	int off, sh;

	memset(f, 0, sizeof(*f));
	f->size = a->size;
	f->str_slot = FETCH_NO_SLOT;
	if (a->is_signed)
		f->flags |= FETCH_SIGNED;
	switch (a->kind) {
	case USDT_OPERAND_CONST:
		f->kind = FETCH_CONST;
		f->val = a->imm;
		return 0;
	case USDT_OPERAND_REG:
		off = reg_off(a->base);
		if (off < 0)
			return off;
		f->kind = FETCH_REG;
		f->base_off = off;
		f->base_size = a->base_size ? a->base_size : 8;
		f->base_shift = a->base_high8 ? 8 : 0;
		return 0;
	case USDT_OPERAND_MEM:
		break;
	default:
		return -EINVAL;
	}
	f->kind = FETCH_MEM;
	f->val = a->disp;
	if (a->symbol[0] && usdt_notes__symbol(notes, a->symbol, &sym))
		return -ENOENT;
	if (a->reloc == USDT_RELOC_A64_LO12) {
		/* base holds the symbol's page (adrp); load bias is page-aligned */
		f->val = a->disp + (int64_t)(sym & 0xfff);
	} else if (a->reloc != USDT_RELOC_NONE) {
		return -ENOTSUP;
	} else if (a->base == USDT_REG_X86_IP || (a->base == USDT_REG_NONE && a->symbol[0])) {
		f->flags |= FETCH_BASE_IP;
		/* without a symbol the displacement is taken relative to the probe */
		f->val =
			a->symbol[0] ? (int64_t)(sym + (uint64_t)a->disp - note->pc_addr) : a->disp;
	} else if (a->symbol[0]) {
		if (usdt_notes__elf_type(notes) != 2 /* ET_EXEC */)
			return -ENOTSUP;
		f->val += sym;
	}
	if (a->base != USDT_REG_NONE && a->base != USDT_REG_X86_IP) {
		off = reg_off(a->base);
		if (off < 0)
			return off;
		f->flags |= FETCH_BASE;
		f->base_off = off;
		f->base_size = a->base_size ? a->base_size : 8;
	}
	if (a->index != USDT_REG_NONE) {
		off = reg_off(a->index);
		sh = scale_shift(a->scale);
		if (off < 0 || sh < 0)
			return off < 0 ? off : sh;
		f->flags |= FETCH_INDEX;
		f->index_off = off;
		f->index_size = a->index_size ? a->index_size : 8;
		f->scale_shift = sh;
	}
	return 0;
}

static bool spec_matches(const struct engine_spec *s, const struct usdt_note *n)
{
	return !fnmatch(s->provider, n->provider, 0) && !fnmatch(s->name, n->name, 0);
}

static int find_or_add_probe(struct engine *eng, size_t obj, const char *display,
			     const struct usdt_note *n)
{
	struct engine_probe *p;
	struct usdt_parse_error perr;
	int cnt;

	for (size_t i = 0; i < eng->nprobes; i++)
		if (eng->probe_obj[i] == obj && !strcmp(eng->probes[i].provider, n->provider) &&
		    !strcmp(eng->probes[i].name, n->name))
			return i;
	if (grow((void **)&eng->probes, &eng->cap_probes, eng->nprobes + 1, sizeof(*p)))
		return -ENOMEM;
	if (grow((void **)&eng->probe_obj, &eng->cap_probe_obj, eng->nprobes + 1, sizeof(size_t)))
		return -ENOMEM;
	if (grow((void **)&eng->probe_specs, &eng->cap_probe_specs, eng->nprobes + 1,
		 sizeof(uint64_t *)))
		return -ENOMEM;
	p = &eng->probes[eng->nprobes];
	memset(p, 0, sizeof(*p));
	p->nargs = -1;
	p->provider = strdup(n->provider);
	p->name = strdup(n->name);
	p->object = strdup(display);
	eng->probe_specs[eng->nprobes] = calloc(SPEC_WORDS(eng->nspecs), sizeof(uint64_t));
	if (!p->provider || !p->name || !p->object || !eng->probe_specs[eng->nprobes]) {
		free(p->provider);
		free(p->name);
		free(p->object);
		free(eng->probe_specs[eng->nprobes]);
		return -ENOMEM;
	}
	/* --args declarations win over the metadata note */
	for (size_t i = 0; i < eng->ndecls; i++) {
		struct engine_decl *d = &eng->decls[i];

		if (!fnmatch(d->provider, n->provider, 0) && !fnmatch(d->name, n->name, 0)) {
			memcpy(p->meta, d->meta, sizeof(d->meta[0]) * d->n);
			p->typed = true;
			break;
		}
	}
	if (!p->typed && n->meta) {
		cnt = usdt_meta__parse(p->meta, FETCH_MAX_ARGS, n->meta, &perr);
		if (cnt >= 0)
			p->typed = true;
		else
			memset(p->meta, 0, sizeof(p->meta));
	}
	eng->probe_obj[eng->nprobes] = obj;
	return eng->nprobes++;
}

/* Records that the specs in @hits (a SPEC_WORDS bitmap) selected probe @pid. */
static void mark_specs(struct engine *eng, size_t pid, const uint64_t *hits)
{
	for (size_t w = 0; w < SPEC_WORDS(eng->nspecs); w++)
		eng->probe_specs[pid][w] |= hits[w];
}

static int add_loc(struct engine *eng, size_t obj, const char *attach_path, const char *display,
		   const struct usdt_notes *notes, const struct usdt_note *n, const uint64_t *hits)
{
	struct usdt_arg_spec specs[FETCH_MAX_ARGS];
	struct usdt_parse_error perr = {0};
	struct engine_loc *l;
	struct engine_probe *p;
	unsigned int nstr = 0;
	int pid, nargs, err;

	for (size_t i = 0; i < eng->nlocs; i++) {
		if (eng->loc_obj[i] == obj && eng->locs[i].pc_offset == n->pc_offset) {
			mark_specs(eng, eng->locs[i].probe_id, hits);
			return 0;
		}
	}
	if (n->pc_offset == USDT_NO_OFFSET) {
		warn(eng, "usdtkit: %s: %s:%s at 0x%llx is not in a loaded segment, skipped\n",
		     display, n->provider, n->name, (unsigned long long)n->pc_addr);
		return 0;
	}
	nargs = usdt_arg_specs__parse(specs, FETCH_MAX_ARGS, n->args, usdt_notes__arch(notes),
				      &perr);
	if (nargs < 0) {
		warn(eng,
		     "usdtkit: %s: %s:%s: cannot parse arguments '%s' at byte %zu (%s), skipped\n",
		     display, n->provider, n->name, n->args, perr.pos,
		     perr.msg ? perr.msg : strerror(-nargs));
		return 0;
	}
	pid = find_or_add_probe(eng, obj, display, n);
	if (pid < 0)
		return pid;
	mark_specs(eng, pid, hits);
	if (grow((void **)&eng->locs, &eng->cap_locs, eng->nlocs + 1, sizeof(*l)))
		return -ENOMEM;
	if (grow((void **)&eng->loc_obj, &eng->cap_loc_obj, eng->nlocs + 1, sizeof(size_t)))
		return -ENOMEM;
	l = &eng->locs[eng->nlocs];
	memset(l, 0, sizeof(*l));
	l->attach_path = strdup(attach_path);
	if (!l->attach_path)
		return -ENOMEM;
	p = &eng->probes[pid];
	if (p->nargs < 0)
		p->nargs = nargs;
	l->probe_id = pid;
	l->pc_offset = n->pc_offset;
	l->sema_offset = n->semaphore ? n->sema_offset : USDT_NO_OFFSET;
	l->spec.probe_id = pid;
	l->spec.nargs = nargs;
	for (int i = 0; i < nargs; i++) {
		struct usdt_fetch *f = &l->spec.args[i];

		err = compile_arg(notes, n, &specs[i], f);
		if (err) {
			char txt[USDT_SPEC_TEXT_MAX];

			usdt_arg_spec__print(&specs[i], usdt_notes__arch(notes), txt, sizeof(txt));
			warn(eng, "usdtkit: %s: %s:%s: argument %d '%s' cannot be fetched (%s)\n",
			     display, n->provider, n->name, i, txt, strerror(-err));
			memset(f, 0, sizeof(*f));
			f->str_slot = FETCH_NO_SLOT;
			l->unsupported[i] = true;
			continue;
		}
		if (p->typed && p->meta[i].type == USDT_TYPE_STRING && specs[i].size == 8) {
			f->flags |= FETCH_STR;
			f->str_slot = nstr++;
		}
	}
	l->spec.nstr = nstr;
	if (nstr > eng->max_strings)
		eng->max_strings = nstr;
	if ((unsigned int)nargs > eng->max_args)
		eng->max_args = nargs;
	eng->loc_obj[eng->nlocs++] = obj;
	return 1;
}

/*
 * Matches the notes of one object against the specs that apply: the PROBEs
 * whose PATH is this object, and when @generic the PATH-less PROBEs.
 */
static int scan_object(struct engine *eng, const char *open_path, const char *attach_path,
		       const char *display, dev_t dev, ino_t ino, bool generic)
{
	struct engine_obj *o = find_obj(eng, dev, ino);
	bool do_generic, do_path;
	struct usdt_notes *notes;
	uint64_t *hits = NULL;
	size_t oi, added = 0;
	int err = 0;

	if (!o) {
		void *np = realloc(eng->objs, (eng->nobjs + 1) * sizeof(*o));
		if (!np)
			return -ENOMEM;
		eng->objs = np;
		o = &eng->objs[eng->nobjs++];
		memset(o, 0, sizeof(*o));
		o->dev = dev;
		o->ino = ino;
	}
	oi = o - eng->objs;
	do_generic = generic && !o->generic_done;
	do_path = !o->path_done;
	o->path_done = true;
	if (generic)
		o->generic_done = true;
	if (do_path) {
		do_path = false;
		for (size_t s = 0; s < eng->nspecs; s++)
			if (eng->specs[s].path && eng->specs[s].resolved &&
			    eng->specs[s].dev == dev && eng->specs[s].ino == ino)
				do_path = true;
	}
	if (!do_generic && !do_path)
		return 0;
	notes = usdt_notes__open_path(open_path, NULL);
	if (!notes) {
		err = -errno;
		if (err == -ENOEXEC || err == -ENOTSUP)
			return 0;
		if (eng->opts.verbose || do_path)
			warn(eng, "usdtkit: %s: %s\n", display, strerror(errno));
		return do_path ? err : 0;
	}
	if (usdt_notes__count(notes) && usdt_notes__arch(notes) != ENGINE_ARCH) {
		warn(eng, "usdtkit: %s: not an object of this machine's architecture, skipped\n",
		     display);
		goto out;
	}
	hits = calloc(SPEC_WORDS(eng->nspecs), sizeof(*hits));
	if (!hits) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < usdt_notes__count(notes); i++) {
		const struct usdt_note *n = usdt_notes__get(notes, i);
		bool hit = false;

		memset(hits, 0, SPEC_WORDS(eng->nspecs) * sizeof(*hits));
		for (size_t s = 0; s < eng->nspecs; s++) {
			struct engine_spec *sp = &eng->specs[s];
			bool applies = sp->path ? (do_path && sp->resolved && sp->dev == dev &&
						   sp->ino == ino)
						: do_generic;

			if (applies && spec_matches(sp, n)) {
				sp->matches++;
				hits[s / 64] |= 1ull << (s % 64);
				hit = true;
			}
		}
		if (!hit)
			continue;
		err = add_loc(eng, oi, attach_path, display, notes, n, hits);
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

static int scan_path(struct engine *eng, const char *path, bool generic)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	return scan_object(eng, path, path, path, st.st_dev, st.st_ino, generic);
}

int engine__scan(struct engine *eng, bool scan_pid)
{
	struct object_list list = {0};
	int err, total = 0;

	eng->scanned = true;
	/*
	 * Every PATH is resolved before any object is scanned: an object is
	 * scanned once for all the PATH specs naming it, so PROBEs sharing a
	 * PATH must all be known by then.
	 */
	for (size_t s = 0; s < eng->nspecs; s++) {
		struct engine_spec *sp = &eng->specs[s];
		struct stat st;

		if (!sp->path || sp->resolved)
			continue;
		char *full = resolve_path(sp->path);
		if (!full)
			return -ENOMEM;
		if (stat(full, &st)) {
			err = -errno;
			warn(eng, "usdtkit: %s: %s\n", sp->path, strerror(errno));
			free(full);
			return err;
		}
		free(sp->path);
		sp->path = full;
		sp->dev = st.st_dev;
		sp->ino = st.st_ino;
		sp->resolved = true;
	}
	for (size_t s = 0; s < eng->nspecs; s++) {
		struct engine_spec *sp = &eng->specs[s];

		if (!sp->path || sp->scanned)
			continue;
		sp->scanned = true;
		err = scan_path(eng, sp->path, false);
		if (err < 0)
			return err;
		total += err;
	}
	for (size_t i = 0; i < eng->nadded; i++) {
		err = scan_path(eng, eng->added[i], true);
		if (err < 0 && err != -ENOENT)
			return err;
		if (err > 0)
			total += err;
	}
	if (scan_pid && eng->opts.pid > 0) {
		err = discover_pid_objects(eng->opts.pid, &list);
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
			err = scan_object(eng, mo->open_path, attach, mo->display_path, mo->dev,
					  mo->ino, true);
			if (err < 0)
				break;
			total += err;
		}
		object_list__free(&list);
		if (err < 0)
			return err;
	}
	return total;
}

/* BPF_LINK_CREATE for uprobe_multi (kernel 6.6+), absent from Debian 12's headers. */
struct uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 uflags;
	__u32 pid;
	__u32 pad;
};

static int link_create_multi(int prog_fd, const char *path, const __u64 *offsets,
			     const __u64 *ref_ctr, const __u64 *cookies, size_t cnt, pid_t pid)
{
	struct uprobe_multi_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.attach_type = ENGINE_ATTACH_UPROBE_MULTI;
	a.path = (uintptr_t)path;
	a.offsets = (uintptr_t)offsets;
	a.ref_ctr_offsets = (uintptr_t)ref_ctr;
	a.cookies = (uintptr_t)cookies;
	a.cnt = cnt;
	a.pid = pid > 0 ? pid : 0;
	fd = syscall(__NR_bpf, 28 /* BPF_LINK_CREATE */, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

/*
 * One uprobe_multi link per object: a single syscall attaches all its
 * locations, and detaching costs one RCU grace period per link instead of
 * one per location (perf-event uprobes take ~0.1 s each to close).
 */
static int attach_multi(struct engine *eng, struct bpf_program *prog)
{
	size_t n = 0, done = 0;
	__u64 *offs = NULL, *refs = NULL, *cookies = NULL;
	size_t *idx = NULL;
	int attached = 0, err = 0, fd;

	for (size_t i = 0; i < eng->nlocs; i++)
		n += !eng->locs[i].attempted;
	if (!n)
		return 0;
	offs = calloc(n, sizeof(*offs));
	refs = calloc(n, sizeof(*refs));
	cookies = calloc(n, sizeof(*cookies));
	idx = calloc(n, sizeof(*idx));
	if (!offs || !refs || !cookies || !idx) {
		err = -ENOMEM;
		goto out;
	}
	while (done < n) {
		const char *path = NULL;
		size_t cnt = 0;
		bool any_ref = false;
		void *np;

		for (size_t i = 0; i < eng->nlocs; i++) {
			struct engine_loc *l = &eng->locs[i];

			if (l->attempted)
				continue;
			if (!path)
				path = l->attach_path;
			else if (strcmp(path, l->attach_path))
				continue;
			offs[cnt] = l->pc_offset;
			refs[cnt] = l->sema_offset == USDT_NO_OFFSET ? 0 : l->sema_offset;
			any_ref |= refs[cnt] != 0;
			cookies[cnt] = i;
			idx[cnt++] = i;
		}
		if (!cnt)
			break;
		np = realloc(eng->link_fds, (eng->nlink_fds + 1) * sizeof(int));
		if (!np) {
			err = -ENOMEM;
			goto out;
		}
		eng->link_fds = np;
		fd = link_create_multi(bpf_program__fd(prog), path, offs, any_ref ? refs : NULL,
				       cookies, cnt, eng->opts.pid);
		if (fd == -EPERM || fd == -EACCES) {
			err = fd;
			goto out;
		}
		if (fd < 0 && cnt > 1) {
			/* one bad location fails the whole link: retry them one by one */
			for (size_t k = 0; k < cnt; k++) {
				fd = link_create_multi(bpf_program__fd(prog), path, &offs[k],
						       refs[k] ? &refs[k] : NULL, &cookies[k], 1,
						       eng->opts.pid);
				eng->locs[idx[k]].attempted = true;
				done++;
				if (fd < 0) {
					struct engine_loc *l = &eng->locs[idx[k]];

					warn(eng,
					     "usdtkit: %s: cannot attach %s:%s at offset 0x%llx: %s\n",
					     path, eng->probes[l->probe_id].provider,
					     eng->probes[l->probe_id].name,
					     (unsigned long long)l->pc_offset, strerror(-fd));
					continue;
				}
				np = realloc(eng->link_fds, (eng->nlink_fds + 1) * sizeof(int));
				if (!np) {
					close(fd);
					err = -ENOMEM;
					goto out;
				}
				eng->link_fds = np;
				eng->link_fds[eng->nlink_fds++] = fd;
				eng->locs[idx[k]].linked = true;
				attached++;
			}
			continue;
		}
		for (size_t k = 0; k < cnt; k++) {
			eng->locs[idx[k]].attempted = true;
			eng->locs[idx[k]].linked = fd >= 0;
		}
		done += cnt;
		if (fd < 0) {
			warn(eng, "usdtkit: %s: cannot attach: %s\n", path, strerror(-fd));
			continue;
		}
		eng->link_fds[eng->nlink_fds++] = fd;
		attached += cnt;
	}
	err = attached;
out:
	free(offs);
	free(refs);
	free(cookies);
	free(idx);
	return err;
}

int engine__attach(struct engine *eng, struct bpf_program *prog, int locs_map_fd)
{
	int attached = 0, err;

	if (eng->opts.uprobe_multi) {
		/* specs first: a location may fire as soon as its link exists */
		for (size_t i = 0; i < eng->nlocs; i++) {
			struct engine_loc *l = &eng->locs[i];
			__u32 key = i;

			if (l->attempted)
				continue;
			if (bpf_map_update_elem(locs_map_fd, &key, &l->spec, BPF_ANY)) {
				err = -errno;
				warn(eng, "usdtkit: location %zu: cannot store its spec: %s\n", i,
				     strerror(errno));
				if (err == -EPERM)
					return err;
				l->attempted = true;
			}
		}
		return attach_multi(eng, prog);
	}

	for (size_t i = 0; i < eng->nlocs; i++) {
		struct engine_loc *l = &eng->locs[i];
		LIBBPF_OPTS(bpf_uprobe_opts, uo);
		__u32 key = i;

		if (l->attempted)
			continue;
		l->attempted = true;
		if (bpf_map_update_elem(locs_map_fd, &key, &l->spec, BPF_ANY)) {
			err = -errno;
			warn(eng, "usdtkit: location %zu: cannot store its spec: %s\n", i,
			     strerror(errno));
			if (err == -E2BIG || err == -EPERM)
				return err;
			continue;
		}
		uo.bpf_cookie = i;
		if (l->sema_offset != USDT_NO_OFFSET)
			uo.ref_ctr_offset = l->sema_offset;
		l->link = bpf_program__attach_uprobe_opts(prog, eng->opts.pid, l->attach_path,
							  l->pc_offset, &uo);
		if (!l->link) {
			err = -errno;
			l->link = NULL;
			if (err == -EPERM || err == -EACCES)
				return err;
			warn(eng, "usdtkit: %s: cannot attach %s:%s at offset 0x%llx: %s\n",
			     l->attach_path, eng->probes[l->probe_id].provider,
			     eng->probes[l->probe_id].name, (unsigned long long)l->pc_offset,
			     strerror(-err));
			continue;
		}
		l->linked = true;
		attached++;
	}
	return attached;
}

void engine__set_pid(struct engine *eng, pid_t pid)
{
	eng->opts.pid = pid;
}

void engine__set_uprobe_multi(struct engine *eng, bool on)
{
	eng->opts.uprobe_multi = on;
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

size_t engine__spec_count(const struct engine *eng)
{
	return eng->nspecs;
}

bool engine__probe_matched_by(const struct engine *eng, size_t probe, size_t spec)
{
	if (probe >= eng->nprobes || spec >= eng->nspecs)
		return false;
	return eng->probe_specs[probe][spec / 64] & (1ull << (spec % 64));
}

const char *engine__spec(const struct engine *eng, size_t i, size_t *matches)
{
	if (i >= eng->nspecs)
		return NULL;
	if (matches)
		*matches = eng->specs[i].matches;
	return eng->specs[i].text;
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

enum usdt_type engine__fetch_type(const struct usdt_fetch *f)
{
	bool s = f->flags & FETCH_SIGNED;

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
