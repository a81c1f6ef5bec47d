// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * User-stack benchmark, one run (see CMakeLists.txt): per-fire cost of a
 * probe fired in a loop 20 calls deep (frame pointers, so the kernel walks
 * every frame) when a program attached to it
 *   - records a trace-like ring record without a stack, and with the
 *     16-frame user stack (bpf_get_stack, tracer/ustack.bpf.h);
 *   - counts hits, and counts hits per stack (bpf_get_stackid, 16 frames);
 * then the symbolizer's throughput (tracer/symbolize.c) on the captured
 * stack, cold (first sight of the process) and warm (cached objects and
 * symbols). Each figure is measured REPEAT times: min and max are shown;
 * ratios and added costs are paired within a run (each run measures every
 * variant back to back), which a shared VM's changing load distorts less.
 *
 * Usage: ustack_bench [FIRES [REPEAT [DEPTH]]]   as root (DEPTH <= 16)
 *        ustack_bench loop FIRES          the loop alone, ns/fire on stdout
 *                                         (run_bench.sh runs bpftrace on it)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <usdtkit/sdt.h>
#include <usdtkit/stapsdt.h>

#include "symbolize.h"
#include "ustack_bench.h"
#include "ustack_bench.skel.h"

#define NOINLINE __attribute__((noinline))
#define DEPTH 16
#define CALL_DEPTH 20
#define CHUNK 20000 /* fires between ring drains */

volatile long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

NOINLINE void fire_loop(long n)
{
	for (long i = 0; i < n; i++)
		USDT(ubench, fire, i);
	sink++;
}

NOINLINE void deep(int d, long n)
{
	if (d)
		deep(d - 1, n);
	else
		fire_loop(n);
	sink++;
}

struct ctx {
	struct ring_buffer *rb;
	uint64_t records;
	uint64_t stack[DEPTH];
	size_t nstack;
};

static int on_rec(void *p, void *data, size_t size)
{
	struct ctx *c = p;
	const struct bench_rec *r = data;

	if (!c->records++ && r->stack.nframes > 0 && size >= sizeof(*r) + DEPTH * 8) {
		c->nstack = r->stack.nframes;
		memcpy(c->stack, r->stack.ips, c->nstack * 8);
	}
	return 0;
}

/* ns per fire over @fires, in CHUNKs with the ring drained in between (not timed). */
static double run(long fires, struct ctx *c)
{
	double t = 0, a;

	for (long done = 0; done < fires; done += CHUNK) {
		long n = fires - done < CHUNK ? fires - done : CHUNK;

		a = now();
		deep(CALL_DEPTH, n);
		t += now() - a;
		if (c && c->rb && ring_buffer__consume(c->rb) < 0)
			return -1;
	}
	return t / fires;
}

struct range {
	double min, max, last;
};

static void add(struct range *r, double v, int i)
{
	r->last = v;
	if (!i || v < r->min)
		r->min = v;
	if (!i || v > r->max)
		r->max = v;
}

enum which { W_RECORD, W_COUNT, W_COUNT_STACK };

/* One measurement with program @w, stacks of @depth frames (0: none). */
static int measure(const char *exe, uint64_t off, enum which w, unsigned int depth, long fires,
		   double *ns, struct ctx *c)
{
	struct ustack_bench_bpf *skel = ustack_bench_bpf__open();
	struct bpf_program *prog;
	struct bpf_link *l = NULL;
	int err = -1;

	if (!skel)
		return -1;
	skel->rodata->ustack_depth = depth;
	/* bpf_get_stackid() captures as many frames as a value holds */
	if (bpf_map__set_value_size(skel->maps.ustacks, (depth ? depth : DEPTH) * 8) ||
	    bpf_map__set_max_entries(skel->maps.ustacks, 1024) || ustack_bench_bpf__load(skel))
		goto out;
	prog = w == W_RECORD  ? skel->progs.record
	       : w == W_COUNT ? skel->progs.count
			      : skel->progs.count_stack;
	l = bpf_program__attach_uprobe(prog, false, getpid(), exe, off);
	if (!l)
		goto out;
	memset(c, 0, sizeof(*c));
	if (w == W_RECORD) {
		c->rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_rec, c, NULL);
		if (!c->rb)
			goto out;
	}
	*ns = run(fires, c);
	if (*ns < 0)
		goto out;
	if (w == W_RECORD && (c->records != (uint64_t)fires || skel->bss->lost)) {
		fprintf(stderr, "ustack_bench: %llu records of %ld fires\n",
			(unsigned long long)c->records, fires);
		goto out;
	}
	err = 0;
out:
	ring_buffer__free(c->rb);
	c->rb = NULL;
	bpf_link__destroy(l);
	ustack_bench_bpf__destroy(skel);
	return err;
}

static int probe_offset(const char *exe, uint64_t *off)
{
	struct usdt_notes *notes = usdt_notes__open_path(exe, NULL);
	int err = -ENOENT;

	if (!notes)
		return -errno;
	for (size_t i = 0; i < usdt_notes__count(notes); i++) {
		const struct usdt_note *n = usdt_notes__get(notes, i);

		if (!strcmp(n->provider, "ubench") && !strcmp(n->name, "fire")) {
			*off = n->pc_offset;
			err = 0;
		}
	}
	usdt_notes__free(notes);
	return err;
}

/* @ratio: the range of the per-run ratios to the row it is compared with. */
static void row(const char *what, const struct range *r, const struct range *ratio)
{
	printf("  %-44s %8.1f .. %8.1f ns/fire", what, r->min, r->max);
	if (ratio)
		printf("   x%.2f .. x%.2f", ratio->min, ratio->max);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct range untraced, rec0, rec16, cnt, cnt16, cold, warm, r_rec, r_cnt, d_rec, d_cnt;
	long fires = 1000000, loops = 200000;
	struct sym_frame frames[DEPTH];
	struct ctx c = {0};
	char exe[4096], names[256];
	uint64_t off;
	unsigned int depth = DEPTH;
	int repeat = 3;
	ssize_t n;
	double a, ns;

	if (argc > 1 && !strcmp(argv[1], "loop")) {
		fires = argc > 2 ? atol(argv[2]) : fires;
		printf("%.1f\n", run(fires, NULL));
		return 0;
	}
	if (argc > 1)
		fires = atol(argv[1]);
	if (argc > 2)
		repeat = atoi(argv[2]);
	if (argc > 3)
		depth = atoi(argv[3]);
	if (fires <= 0 || repeat <= 0 || !depth || depth > DEPTH) {
		fprintf(stderr, "usage: ustack_bench [FIRES [REPEAT [DEPTH<=16]]] | "
				"ustack_bench loop FIRES\n");
		return 2;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || (exe[n] = '\0', probe_offset(exe, &off))) {
		fprintf(stderr, "ustack_bench: cannot find probe ubench:fire in itself\n");
		return 1;
	}
	for (int i = 0; i < repeat; i++) {
		add(&untraced, run(fires, NULL), i);
		if (measure(exe, off, W_RECORD, 0, fires, &ns, &c))
			goto fail;
		add(&rec0, ns, i);
		if (measure(exe, off, W_RECORD, depth, fires, &ns, &c))
			goto fail;
		add(&rec16, ns, i);
		if (measure(exe, off, W_COUNT, 0, fires, &ns, &c))
			goto fail;
		add(&cnt, ns, i);
		if (measure(exe, off, W_COUNT_STACK, depth, fires, &ns, &c))
			goto fail;
		add(&cnt16, ns, i);
		/* paired within a run: the load of a shared VM changes between runs */
		add(&r_rec, rec16.last / rec0.last, i);
		add(&d_rec, rec16.last - rec0.last, i);
		add(&r_cnt, cnt16.last / cnt.last, i);
		add(&d_cnt, cnt16.last - cnt.last, i);
	}
	/* one stack to symbolize */
	if (measure(exe, off, W_RECORD, DEPTH, 1, &ns, &c) || c.nstack != DEPTH) {
		fprintf(stderr, "ustack_bench: captured %zu frames, want %d\n", c.nstack, DEPTH);
		return 1;
	}
	for (int i = 0; i < repeat; i++) {
		struct symbolizer *s = symbolizer__new(NULL);
		int ok;

		if (!s)
			return 1;
		a = now();
		ok = symbolizer__symbolize(s, getpid(), c.stack, DEPTH, frames);
		add(&cold, (now() - a) / 1e3, i);
		if (ok != DEPTH) {
			fprintf(stderr, "ustack_bench: %d of %d frames resolved\n", ok, DEPTH);
			return 1;
		}
		a = now();
		for (long k = 0; k < loops; k++)
			symbolizer__symbolize(s, getpid(), c.stack, DEPTH, frames);
		add(&warm, loops * DEPTH / ((now() - a) / 1e9) / 1e6, i);
		snprintf(names, sizeof(names), "%s, %s, %s", frames[0].symbol, frames[1].symbol,
			 frames[2].symbol);
		symbolizer__free(s); /* and the frames' strings */
	}

	printf("user-stack benchmark (%u frames captured of a probe %d calls deep), %ld fires, "
	       "%d runs (min .. max)\n",
	       depth, CALL_DEPTH, fires, repeat);
	row("untraced", &untraced, NULL);
	row("trace-like record, no stack (uprobe.s)", &rec0, NULL);
	row("trace-like record + ustack", &rec16, &r_rec);
	row("count (uprobe)", &cnt, NULL);
	row("count per stack id", &cnt16, &r_cnt);
	printf("  the stack, per hit (paired runs): record +%.0f .. +%.0f ns, "
	       "stack id +%.0f .. +%.0f ns\n",
	       d_rec.min, d_rec.max, d_cnt.min, d_cnt.max);
	printf("  symbolize, cold (maps + objects + symbols) %8.0f .. %8.0f us for %d frames\n",
	       cold.min, cold.max, DEPTH);
	printf("  symbolize, warm cache                      %8.2f .. %8.2f M frames/s\n", warm.min,
	       warm.max);
	printf("  innermost frames: %s\n", names);
	return 0;
fail:
	fprintf(stderr, "ustack_bench: a measurement failed (root? %s)\n", strerror(errno));
	return 1;
}
