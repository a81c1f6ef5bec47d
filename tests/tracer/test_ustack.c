// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * User stacks end to end, without the CLI: the kernel captures the stacks
 * (ustack_probe.bpf.c, built from tracer/ustack.bpf.h, attached with
 * libbpf at the fixture's probes) and tracer/symbolize.c names them.
 * ustack_chain fires at the end of known call chains (see the fixture);
 * each test asserts the exact frames in order, their objects, and for the
 * probe frame the exact offset from the notes and the symbol table:
 *   - a PIE executable and a shared library (compile-time probes);
 *   - a runtime provider: the stub in a sealed memfd, probed at its first
 *     instruction, so the caller comes from the entry return address;
 *     symbolized after the process exited (the snapshot keeps the memfd);
 *   - JIT-like code in an anonymous mapping: that frame has an address
 *     and neither object nor symbol, and the frames around it still resolve;
 *   - a frame-pointer chain through code without frame pointers: the
 *     bogus return address is classified as not code and the stack cut;
 *   - sleepable and non-sleepable capture give the same stack;
 *   - counts per distinct stack in a stack map, folded: N fires -> N.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <usdtkit/stapsdt.h>

#include "symbolize.h"
#include "tracer_test_util.h"
#include "ustack_fmt.h"
#include "ustack_probe.h"
#include "ustack_probe.skel.h"

#define DEPTH 16
#define MAX_RECS 64

struct chain {
	pid_t pid;
	int in; /* the fixture's stdin */
	FILE *out; /* its stdout */
	int memfd; /* rt: the provider's fd in the fixture */
	char path[512]; /* the fixture executable */
};

struct rec {
	uint32_t pid, sleepable;
	uint64_t ips[DEPTH + 1];
	size_t n;
};

struct recs {
	struct rec r[MAX_RECS];
	size_t n;
};

static const char *fixture_path(const char *name)
{
	static char buf[512];
	const char *b = getenv("USDTKIT_BUILD_DIR");

	snprintf(buf, sizeof(buf), "%s/tests/tracer/ustack_fixtures/%s", b ? b : ".", name);
	return buf;
}

/* Starts ustack_chain MODE COUNT and reads its "ready" line. */
static void chain_start(struct chain *c, const char *mode, int count)
{
	int in[2], out[2];
	char n[16], line[128];

	memset(c, 0, sizeof(*c));
	c->memfd = -1;
	snprintf(c->path, sizeof(c->path), "%s", fixture_path("ustack_chain"));
	snprintf(n, sizeof(n), "%d", count);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(c->path, c->path, mode, n, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = fdopen(out[0], "r");
	assert_non_null(c->out);
	assert_non_null(fgets(line, sizeof(line), c->out));
	if (sscanf(line, "ready %*d %d", &c->memfd) != 1)
		c->memfd = -1; /* only rt prints the provider's fd */
	assert_int_equal(strncmp(line, "ready ", 6), 0);
}

/* Lets it fire and waits for "done". */
static void chain_fire(struct chain *c)
{
	char line[64];

	assert_int_equal(write(c->in, "go\n", 3), 3);
	assert_non_null(fgets(line, sizeof(line), c->out));
	assert_string_equal(line, "done\n");
}

static void chain_end(struct chain *c)
{
	int status;

	close(c->in);
	fclose(c->out);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* File offset and link-time address of probe @name in @path. */
static void probe_location(const char *path, const char *name, uint64_t *offset, uint64_t *vaddr)
{
	struct usdt_notes *notes = usdt_notes__open_path(path, NULL);
	size_t i;

	assert_non_null(notes);
	for (i = 0; i < usdt_notes__count(notes); i++) {
		const struct usdt_note *n = usdt_notes__get(notes, i);

		if (!strcmp(n->name, name)) {
			*offset = n->pc_offset;
			*vaddr = n->pc_addr;
			break;
		}
	}
	assert_true(i < usdt_notes__count(notes));
	usdt_notes__free(notes);
}

static uint64_t symbol_value(const char *path, const char *sym)
{
	struct usdt_notes *notes = usdt_notes__open_path(path, NULL);
	uint64_t v = 0;

	assert_non_null(notes);
	assert_int_equal(usdt_notes__symbol(notes, sym, &v), 0);
	usdt_notes__free(notes);
	return v;
}

static struct ustack_probe_bpf *load(void)
{
	struct ustack_probe_bpf *skel = ustack_probe_bpf__open();

	assert_non_null(skel);
	skel->rodata->ustack_depth = DEPTH;
	assert_int_equal(bpf_map__set_value_size(skel->maps.ustacks, DEPTH * 8), 0);
	assert_int_equal(bpf_map__set_max_entries(skel->maps.ustacks, 1024), 0);
	assert_int_equal(ustack_probe_bpf__load(skel), 0);
	return skel;
}

static struct bpf_link *attach(struct bpf_program *prog, pid_t pid, const char *path,
			       uint64_t offset, bool at_entry)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = at_entry ? USTACK_PROBE_AT_ENTRY : 0);
	struct bpf_link *l = bpf_program__attach_uprobe_opts(prog, pid, path, offset, &o);

	assert_non_null(l);
	return l;
}

static int on_rec(void *ctx, void *data, size_t size)
{
	struct recs *rs = ctx;
	const struct ustack_probe_rec *pr = data;
	struct rec *r;

	assert_true(size >= sizeof(*pr) + DEPTH * 8);
	assert_true(rs->n < MAX_RECS);
	r = &rs->r[rs->n++];
	r->pid = pr->pid;
	r->sleepable = pr->sleepable;
	assert_true(pr->stack.nframes > 0 && pr->stack.nframes <= DEPTH);
	r->n = ustack__from_rec(&pr->stack, DEPTH, r->ips, DEPTH + 1);
	return 0;
}

static void drain(struct ustack_probe_bpf *skel, struct recs *rs)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_rec, rs, NULL);

	assert_non_null(rb);
	assert_true(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);
	assert_int_equal(skel->bss->lost, 0);
}

/* Asserts frames [from, from + n) are @names in @object, in order. */
static void expect_frames(const struct sym_frame *f, size_t nf, size_t from,
			  const char *const *names, size_t n, const char *object)
{
	assert_true(nf >= from + n);
	for (size_t i = 0; i < n; i++) {
		if (!f[from + i].symbol || strcmp(f[from + i].symbol, names[i])) {
			fprintf(stderr, "frame %zu: want %s, got:\n", from + i, names[i]);
			ustack__write_text(stderr, f, nf);
		}
		assert_non_null(f[from + i].symbol);
		assert_string_equal(f[from + i].symbol, names[i]);
		if (object)
			assert_string_equal(f[from + i].object, object);
	}
}

/* Captures the stack of one fire of MODE's probe (@name in @obj, @obj_path to attach). */
static void capture_one(const char *mode, struct recs *rs, struct chain *c, uint64_t *probe_vaddr,
			const char *probe, const char *obj)
{
	struct ustack_probe_bpf *skel = load();
	struct bpf_link *ls, *lns;
	uint64_t off;

	chain_start(c, mode, 1);
	probe_location(obj, probe, &off, probe_vaddr);
	ls = attach(skel->progs.record_s, c->pid, obj, off, false);
	lns = attach(skel->progs.record_ns, c->pid, obj, off, false);
	chain_fire(c);
	drain(skel, rs);
	bpf_link__destroy(ls);
	bpf_link__destroy(lns);
	ustack_probe_bpf__destroy(skel);
	assert_int_equal(rs->n, 2);
	/* both contexts see the same stack */
	assert_int_equal(rs->r[0].n, rs->r[1].n);
	assert_memory_equal(rs->r[0].ips, rs->r[1].ips, rs->r[0].n * 8);
	assert_int_equal(rs->r[0].pid, c->pid);
}

/* Line number of the first line of the fixture's source containing @text. */
static unsigned int source_line(const char *text)
{
	const char *src = getenv("USDTKIT_SOURCE_DIR");
	char path[512], buf[512];
	unsigned int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/tracer/ustack_fixtures/ustack_chain.c",
		 src ? src : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (strstr(buf, text))
			break;
	}
	assert_false(feof(f));
	fclose(f);
	return n;
}

static void pie_executable(void **state)
{
	static const char *const want[] = {"c", "b", "a", "main"};
	struct symbolizer_opts o = {.sz = sizeof(o), .lines = true};
	struct symbolizer *s = symbolizer__new(&o);
	struct sym_frame f[DEPTH + 1];
	struct recs rs = {0};
	struct chain c;
	uint64_t vaddr;

	(void)state;
	assert_non_null(s);
	capture_one("exe", &rs, &c, &vaddr, "exe", fixture_path("ustack_chain"));
	assert_true(symbolizer__symbolize(s, c.pid, rs.r[0].ips, rs.r[0].n, f) >= 4);
	expect_frames(f, rs.r[0].n, 0, want, 4, c.path);
	/* the probe frame is exactly the note's address, at its offset in c */
	assert_int_equal(f[0].obj_vaddr, vaddr);
	assert_int_equal(f[0].offset, vaddr - symbol_value(c.path, "c"));
	/* a PIE: the runtime address is not the link-time one */
	assert_int_not_equal(f[0].addr, vaddr);
	/* file:line of the probe, and of the call for a return address */
	assert_non_null(f[0].file);
	assert_string_equal(strrchr(f[0].file, '/') ? strrchr(f[0].file, '/') + 1 : f[0].file,
			    "ustack_chain.c");
	assert_int_equal(f[0].line, source_line("USDT(ustk, exe, i);"));
	assert_non_null(f[1].file);
	assert_int_equal(f[1].line, source_line("\tc(i);"));
	chain_end(&c);
	symbolizer__free(s);
}

static void shared_library(void **state)
{
	static const char *const want[] = {"ustk_lib_c", "ustk_lib_b", "ustk_lib_a"};
	static const char *const main_[] = {"main"};
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_frame f[DEPTH + 1];
	const char *lib = fixture_path("libustack_lib.so");
	char libpath[512];
	struct recs rs = {0};
	struct chain c;
	uint64_t vaddr;

	(void)state;
	assert_non_null(s);
	snprintf(libpath, sizeof(libpath), "%s", lib);
	capture_one("lib", &rs, &c, &vaddr, "lib", libpath);
	assert_true(symbolizer__symbolize(s, c.pid, rs.r[0].ips, rs.r[0].n, f) >= 4);
	expect_frames(f, rs.r[0].n, 0, want, 3, libpath);
	expect_frames(f, rs.r[0].n, 3, main_, 1, c.path);
	assert_int_equal(f[0].obj_vaddr, vaddr);
	assert_int_equal(f[0].offset, vaddr - symbol_value(libpath, "ustk_lib_c"));
	chain_end(&c);
	symbolizer__free(s);
}

static void runtime_provider(void **state)
{
	static const char *const stub[] = {"hit"};
	static const char *const want[] = {"c", "b", "a", "main"};
	struct ustack_probe_bpf *skel = load();
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_frame f[DEPTH + 1];
	struct recs rs = {0};
	struct bpf_link *l;
	struct chain c;
	char memfd[64];
	uint64_t off, vaddr;

	(void)state;
	assert_non_null(s);
	chain_start(&c, "rt", 3);
	assert_true(c.memfd >= 0);
	snprintf(memfd, sizeof(memfd), "/proc/%d/fd/%d", (int)c.pid, c.memfd);
	probe_location(memfd, "hit", &off, &vaddr);
	/* the snapshot now, while the provider is mapped */
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	l = attach(skel->progs.record_s, c.pid, memfd, off, true);
	chain_fire(&c);
	drain(skel, &rs);
	bpf_link__destroy(l);
	ustack_probe_bpf__destroy(skel);
	chain_end(&c); /* gone: the memfd lives on in the symbolizer */
	assert_int_equal(rs.n, 3);
	for (size_t i = 0; i < rs.n; i++) {
		assert_true(symbolizer__symbolize(s, c.pid, rs.r[i].ips, rs.r[i].n, f) >= 5);
		expect_frames(f, rs.r[i].n, 0, stub, 1, NULL);
		assert_non_null(strstr(f[0].object, "/memfd:"));
		assert_int_equal(f[0].offset, 0);
		assert_int_equal(f[0].obj_vaddr, vaddr);
		expect_frames(f, rs.r[i].n, 1, want, 4, c.path);
	}
	symbolizer__free(s);
}

/*
 * The provider is unloaded before its stacks are symbolized, and a later
 * snapshot no longer has its mapping: the retired mapping still resolves.
 */
static void provider_unloaded(void **state)
{
	static const char *const want[] = {"hit", "c", "b", "a", "main"};
	struct ustack_probe_bpf *skel = load();
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_frame f[DEPTH + 1];
	struct recs rs = {0};
	struct bpf_link *l;
	struct chain c;
	char memfd[64], line[64];
	uint64_t off, vaddr;

	(void)state;
	assert_non_null(s);
	chain_start(&c, "rtu", 1);
	snprintf(memfd, sizeof(memfd), "/proc/%d/fd/%d", (int)c.pid, c.memfd);
	probe_location(memfd, "hit", &off, &vaddr);
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	l = attach(skel->progs.record_s, c.pid, memfd, off, true);
	chain_fire(&c);
	drain(skel, &rs);
	bpf_link__destroy(l);
	ustack_probe_bpf__destroy(skel);
	assert_non_null(fgets(line, sizeof(line), c.out));
	assert_string_equal(line, "unloaded\n");
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0); /* a snapshot without it */
	assert_int_equal(rs.n, 1);
	assert_true(symbolizer__symbolize(s, c.pid, rs.r[0].ips, rs.r[0].n, f) >= 5);
	expect_frames(f, rs.r[0].n, 0, want, 5, NULL);
	assert_non_null(strstr(f[0].object, "/memfd:"));
	chain_end(&c);
	symbolizer__free(s);
}

static void jit_frame(void **state)
{
	static const char *const inner[] = {"c", "b"};
	static const char *const outer[] = {"a", "main"};
	struct symbolizer *s = symbolizer__new(NULL);
	struct sym_frame f[DEPTH + 1];
	char text[4096];
	struct recs rs = {0};
	struct chain c;
	uint64_t vaddr;
	FILE *m;

	(void)state;
	assert_non_null(s);
	capture_one("jit", &rs, &c, &vaddr, "exe", fixture_path("ustack_chain"));
	assert_true(symbolizer__symbolize(s, c.pid, rs.r[0].ips, rs.r[0].n, f) >= 4);
	expect_frames(f, rs.r[0].n, 0, inner, 2, c.path);
	/* the thunk: an address, no object, no symbol, but code */
	assert_null(f[2].symbol);
	assert_null(f[2].object);
	assert_int_equal(f[2].kind, SYM_FRAME_ANON);
	assert_int_equal(ustack__trim(f, rs.r[0].n), rs.r[0].n);
	assert_int_equal(f[2].addr, rs.r[0].ips[2]);
	expect_frames(f, rs.r[0].n, 3, outer, 2, c.path);
	m = fmemopen(text, sizeof(text), "w");
	assert_non_null(m);
	assert_int_equal(ustack__write_text(m, f, 3), 0);
	fclose(m);
	snprintf(text + 2048, 2048,
		 "        c+%llu (%s)\n        b+%llu (%s)\n        0x%llx ([unknown])\n",
		 (unsigned long long)f[0].offset, c.path, (unsigned long long)f[1].offset, c.path,
		 (unsigned long long)f[2].addr);
	assert_string_equal(text, text + 2048);
	chain_end(&c);
	symbolizer__free(s);
}

/*
 * A frame-pointer chain through code without frame pointers: the walk
 * returns a "return address" that is not code; the stack is cut there.
 */
static void not_code_frame(void **state)
{
	static const char *const want[] = {"nofp"};
	struct symbolizer_opts o = {.sz = sizeof(o), .refresh_ms = 1};
	struct symbolizer *s = symbolizer__new(&o);
	struct sym_frame f[DEPTH + 1];
	char text[4096], want_text[1024];
	struct recs rs = {0};
	struct chain c;
	uint64_t vaddr;
	FILE *m;

	(void)state;
	assert_non_null(s);
	capture_one("nofp", &rs, &c, &vaddr, "nofp", fixture_path("ustack_chain"));
	assert_int_equal(rs.r[0].n, 2);
	assert_int_equal(rs.r[0].ips[1], 0x414141414140);
	/*
	 * The miss re-reads the maps (refresh_ms 1, the snapshot older): the
	 * first frame's strings, handed out before, must stay valid.
	 */
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	usleep(5000);
	assert_int_equal(symbolizer__symbolize(s, c.pid, rs.r[0].ips, rs.r[0].n, f), 1);
	expect_frames(f, rs.r[0].n, 0, want, 1, c.path);
	assert_int_equal(f[0].kind, SYM_FRAME_SYMBOL);
	assert_int_equal(f[1].kind, SYM_FRAME_NOT_CODE);
	assert_null(f[1].object);
	assert_int_equal(ustack__trim(f, rs.r[0].n), 1);
	m = fmemopen(text, sizeof(text), "w");
	assert_non_null(m);
	assert_int_equal(ustack__write_text(m, f, rs.r[0].n), 0);
	fclose(m);
	snprintf(want_text, sizeof(want_text),
		 "        nofp+%llu (%s)\n"
		 "        [0x414141414140 is not code: frame pointers missing above]\n",
		 (unsigned long long)f[0].offset, c.path);
	assert_string_equal(text, want_text);
	chain_end(&c);
	symbolizer__free(s);
}

/* stat --by ustack: per-stack counts in the kernel, folded; N fires -> N. */
static void folded_counts(void **state)
{
	struct ustack_probe_bpf *skel = load();
	struct symbolizer *s = symbolizer__new(NULL);
	struct ustack_folded *fo = ustack_folded__new();
	struct sym_frame f[DEPTH + 1];
	struct ustack_key key, next;
	struct bpf_link *le, *ll;
	uint64_t off, vaddr, count, ips[DEPTH + 1], total = 0;
	char libpath[512], *out = NULL, *line;
	size_t outlen = 0, keys = 0;
	struct chain c, d;
	FILE *m;
	int err;

	(void)state;
	assert_non_null(s);
	assert_non_null(fo);
	snprintf(libpath, sizeof(libpath), "%s", fixture_path("libustack_lib.so"));
	chain_start(&c, "exe", 7);
	chain_start(&d, "lib", 5);
	assert_int_equal(symbolizer__add_pid(s, c.pid), 0);
	assert_int_equal(symbolizer__add_pid(s, d.pid), 0);
	probe_location(c.path, "exe", &off, &vaddr);
	le = attach(skel->progs.count, c.pid, c.path, off, false);
	probe_location(libpath, "lib", &off, &vaddr);
	ll = attach(skel->progs.count, d.pid, libpath, off, false);
	chain_fire(&c);
	chain_fire(&d);
	bpf_link__destroy(le);
	bpf_link__destroy(ll);
	chain_end(&c);
	chain_end(&d); /* printed after the processes exited, as stat does at the end */
	assert_int_equal(skel->bss->hits, 12);
	assert_int_equal(skel->bss->failed, 0);
	err = bpf_map_get_next_key(bpf_map__fd(skel->maps.counts), NULL, &key);
	while (!err) {
		uint64_t value[DEPTH] = {0};
		size_t n;

		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.counts), &key, &count),
				 0);
		assert_true(key.stackid >= 0);
		assert_int_equal(
			bpf_map_lookup_elem(bpf_map__fd(skel->maps.ustacks), &key.stackid, value),
			0);
		n = ustack__from_map(value, DEPTH, &key, ips, DEPTH + 1);
		assert_true(symbolizer__symbolize(s, key.pid, ips, n, f) >= 4);
		assert_int_equal(ustack_folded__add(fo, NULL, f, n, count), 0);
		total += count;
		keys++;
		err = bpf_map_get_next_key(bpf_map__fd(skel->maps.counts), &key, &next);
		key = next;
	}
	assert_int_equal(err, -ENOENT);
	assert_int_equal(keys, 2);
	assert_int_equal(total, 12);
	m = open_memstream(&out, &outlen);
	assert_non_null(m);
	assert_int_equal(ustack_folded__write(fo, m), 0);
	fclose(m);
	/* two lines, whatever the C library's frames above main look like */
	for (line = out, keys = 0; (line = strchr(line, '\n')); line++)
		keys++;
	if (keys != 2 || getenv("USTACK_TEST_SHOW"))
		fprintf(stderr, "folded:\n%s", out);
	assert_int_equal(keys, 2);
	line = strstr(out, "main;a;b;c 7\n");
	assert_non_null(line);
	assert_true(line == out || line[-1] == ';' || line[-1] == '\n');
	line = strstr(out, "main;ustk_lib_a;ustk_lib_b;ustk_lib_c 5\n");
	assert_non_null(line);
	assert_true(line == out || line[-1] == ';' || line[-1] == '\n');
	free(out);
	ustack_folded__free(fo);
	symbolizer__free(s);
	ustack_probe_bpf__destroy(skel);
}

/* A process that never existed: every frame is an address alone. */
static void unknown_process(void **state)
{
	struct symbolizer *s = symbolizer__new(NULL);
	uint64_t ips[2] = {0x401000, 0x7f0000001000};
	struct sym_frame f[2];

	(void)state;
	assert_non_null(s);
	assert_int_equal(symbolizer__add_pid(s, 0x3ffffff0), -ESRCH);
	assert_int_equal(symbolizer__symbolize(s, 0x3ffffff0, ips, 2, f), 0);
	assert_int_equal(f[0].addr, 0x401000);
	assert_null(f[0].symbol);
	assert_null(f[0].object);
	assert_null(f[1].object);
	assert_int_equal(f[1].kind, SYM_FRAME_UNKNOWN);
	symbolizer__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pie_executable),   cmocka_unit_test(shared_library),
		cmocka_unit_test(runtime_provider), cmocka_unit_test(provider_unloaded),
		cmocka_unit_test(jit_frame),	    cmocka_unit_test(not_code_frame),
		cmocka_unit_test(folded_counts),    cmocka_unit_test(unknown_process),
	};
	int rc = tt_bpf_permitted();

	if (rc)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
