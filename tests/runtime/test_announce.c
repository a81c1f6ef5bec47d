/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The load announcement (docs/runtime-announce.md) against a real tracer:
 * this test is the tracer half, in ~150 lines of plain perf_event uprobes
 * (no BPF, no ptrace), and a forked child is the traced program.
 *
 * The tracer attaches a sampling uprobe to usdtkit:provider_load in
 * libusdtkit (with the semaphore's ref_ctr_offset, so the child sees it
 * is watched), with the user registers in each sample. When the child's
 * load fires it, the tracer reads the announce record the first argument
 * points at (process_vm_readv), opens the new object by the record's path,
 * attaches a counting uprobe (with ref_ctr) to the new probe and writes the
 * token into the record's ack (process_vm_writev). The child fires that
 * probe FIRES times right after load returns: every fire must be counted.
 *
 * Also: without a watcher load does not wait; a watcher that acks late
 * holds load until it acks; one that never acks costs the bound, no more.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/provider.h>
#include <usdtkit/stapsdt.h>

#include "announce_tracer.h"
#include "runtime_util.h"

#define FIRES 1000

/* The traced program: loads, fires FIRES times at once, reports. */
struct child_report {
	int err;
	long long load_ns;
};

static void child(int go, int rep, int wait_ms)
{
	const enum usdt_type t[] = {USDT_TYPE_UINT64};
	LIBUSDT_OPTS(usdt_provider_opts, o, .load_wait_ms = wait_ms);
	struct usdt_provider *p = usdt_provider__new("announced", &o);
	struct usdt_probe *hit = p ? usdt_provider__add_probe(p, "hit", 1, t, NULL) : NULL;
	struct child_report r = {0};
	struct timespec a, b;
	char c;

	if (!hit || read(go, &c, 1) != 1)
		_exit(100);
	clock_gettime(CLOCK_MONOTONIC, &a);
	r.err = usdt_provider__load(p);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (uint64_t i = 0; i < FIRES; i++)
		usdt_probe__fire(hit, i);
	r.load_ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	if (write(rep, &r, sizeof(r)) != sizeof(r))
		_exit(101);
	usdt_provider__free(p);
	_exit(0);
}

enum tracer_mode { NO_WATCH, ACK, ACK_LATE, NEVER_ACK };

struct result {
	struct child_report rep;
	long long hits; /* -1: the tracer never attached to the new object */
};

static struct result run(enum tracer_mode mode, int wait_ms)
{
	int go[2], rep[2], ann = -1, hit = -1, st;
	struct result res = {.hits = -1};
	void *ring = MAP_FAILED;
	size_t ring_len = (1 + RING_PAGES) * 4096;
	pid_t pid;

	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(go[0], rep[1], wait_ms);
	if (mode != NO_WATCH) {
		ann = at_uprobe_open(T.lib, T.pc, T.sema, pid, true);
		assert_true(ann >= 0);
		ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, ann, 0);
		assert_true(ring != MAP_FAILED);
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	if (mode != NO_WATCH) {
		struct usdt_announce rec;
		struct iovec l = {&rec, sizeof(rec)}, r;
		uint64_t addr = at_next_announce(ann, ring, 5000);

		assert_true(addr != 0);
		r = (struct iovec){(void *)(uintptr_t)addr, sizeof(rec)};
		/* A load that does not wait may have let the child exit already. */
		if (wait_ms < 0) {
			ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);

			assert_true(got == (ssize_t)sizeof(rec) || (got < 0 && errno == ESRCH));
		} else {
			assert_int_equal(process_vm_readv(pid, &l, 1, &r, 1, 0),
					 (ssize_t)sizeof(rec));
			assert_int_equal(rec.version, USDT_ANNOUNCE_VERSION);
			assert_int_equal(rec.pid, pid);
			assert_string_equal(rec.provider, "announced");
			assert_true(rec.token > 0);
		}
		if (mode != NEVER_ACK) {
			struct usdt_notes *n = usdt_notes__open_path(rec.path, NULL);
			const struct usdt_note *e;

			/*
			 * A real tracer takes milliseconds to attach (BPF
			 * programs, many probes): so does this one, or the
			 * child's fires would just as well wait for us by luck
			 * of the scheduler.
			 */
			if (mode == ACK)
				usleep(20 * 1000);
			assert_non_null(n);
			assert_int_equal(usdt_notes__count(n), 1);
			e = usdt_notes__get(n, 0);
			hit = at_uprobe_open(rec.path, e->pc_offset, e->sema_offset, pid, false);
			assert_true(hit >= 0);
			usdt_notes__free(n);
			if (mode == ACK_LATE)
				usleep(300 * 1000);
			l = (struct iovec){&rec.token, sizeof(rec.token)};
			r = (struct iovec){
				(void *)(uintptr_t)(addr + offsetof(struct usdt_announce, ack)),
				sizeof(rec.token)};
			assert_int_equal(process_vm_writev(pid, &l, 1, &r, 1, 0),
					 (ssize_t)sizeof(rec.token));
		}
	}
	assert_int_equal(read(rep[0], &res.rep, sizeof(res.rep)), (ssize_t)sizeof(res.rep));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (hit >= 0) {
		uint64_t count = 0;

		assert_int_equal(read(hit, &count, sizeof(count)), (ssize_t)sizeof(count));
		res.hits = (long long)count;
		close(hit);
	}
	if (ring != MAP_FAILED)
		munmap(ring, ring_len);
	if (ann >= 0)
		close(ann);
	close(go[0]);
	close(go[1]);
	close(rep[0]);
	close(rep[1]);
	return res;
}

/*
 * Watched by a tracer that needs 20 ms to attach: load waits for the ack,
 * and not one fire after it is lost.
 */
static void test_acked_no_fire_missed(void **state)
{
	struct result r = run(ACK, 5000);

	assert_int_equal(r.rep.err, 0);
	assert_int_equal(r.hits, FIRES);
	print_message(
		"watched load (tracer attaches in 20 ms, then acks): %.2f ms, %lld/%d fires seen\n",
		(double)r.rep.load_ns / 1e6, r.hits, FIRES);
}

/* Nobody watches: load does not wait, even with a long bound. */
static void test_unwatched_no_wait(void **state)
{
	struct result r = run(NO_WATCH, 5000);

	assert_int_equal(r.rep.err, 0);
	assert_true(r.rep.load_ns < 1000LL * 1000000);
	print_message("unwatched load: %.3f ms\n", (double)r.rep.load_ns / 1e6);
}

/* A tracer that acks after 300 ms holds load that long, not the bound. */
static void test_blocks_until_acked(void **state)
{
	struct result r = run(ACK_LATE, 5000);

	assert_int_equal(r.rep.err, 0);
	assert_true(r.rep.load_ns >= 300LL * 1000000);
	assert_true(r.rep.load_ns < 5000LL * 1000000);
	assert_int_equal(r.hits, FIRES);
	print_message("late ack (300 ms): load %.1f ms\n", (double)r.rep.load_ns / 1e6);
}

/* A watcher that never acks costs the bound (200 ms), plus scheduling. */
static void test_never_acked_costs_the_bound(void **state)
{
	struct result r = run(NEVER_ACK, 200);

	assert_int_equal(r.rep.err, 0);
	assert_true(r.rep.load_ns >= 200LL * 1000000);
	assert_true(r.rep.load_ns < 450LL * 1000000);
	print_message("never acked, bound 200 ms: load %.1f ms\n", (double)r.rep.load_ns / 1e6);
}

/* The bound from USDTKIT_LOAD_WAIT_MS when the opts leave it 0. */
static void test_bound_from_environment(void **state)
{
	struct result r;

	setenv("USDTKIT_LOAD_WAIT_MS", "150", 1);
	r = run(NEVER_ACK, 0);
	unsetenv("USDTKIT_LOAD_WAIT_MS");
	assert_int_equal(r.rep.err, 0);
	assert_true(r.rep.load_ns >= 150LL * 1000000);
	assert_true(r.rep.load_ns < 400LL * 1000000);
	print_message("never acked, USDTKIT_LOAD_WAIT_MS=150: load %.1f ms\n",
		      (double)r.rep.load_ns / 1e6);
}

/* A negative bound: announce (the tracer sees it), but never wait. */
static void test_negative_bound_never_waits(void **state)
{
	struct result r = run(NEVER_ACK, -1);

	assert_int_equal(r.rep.err, 0);
	assert_true(r.rep.load_ns < 100LL * 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acked_no_fire_missed),
		cmocka_unit_test(test_unwatched_no_wait),
		cmocka_unit_test(test_blocks_until_acked),
		cmocka_unit_test(test_never_acked_costs_the_bound),
		cmocka_unit_test(test_bound_from_environment),
		cmocka_unit_test(test_negative_bound_never_waits),
	};

	const char *why = at_setup();

	if (why) {
		printf("skip: %s\n", why);
		return 77;
	}
	if (!T.pc || !T.sema || T.sema == USDT_NO_OFFSET || T.arg0_reg < 0) {
		fprintf(stderr, "no usable usdtkit:provider_load probe in %s\n", T.lib);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
