/* SPDX-License-Identifier: MIT */
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

#include "runtime_util.h"

#define FIRES 1000
#define RING_PAGES 8

/* perf_event_x86_regs order (arch/x86/include/uapi/asm/perf_regs.h). */
enum { PR_AX, PR_BX, PR_CX, PR_DX, PR_SI, PR_DI, PR_BP, PR_SP, PR_IP, PR_R8 = 16, PR_R15 = 23 };
#define REGS_MASK (((1ull << (PR_IP + 1)) - 1) | (((1ull << 8) - 1) << PR_R8))

static int perf_index(enum usdt_reg r)
{
	static const int map[] = {
		[USDT_REG_X86_AX] = PR_AX, [USDT_REG_X86_BX] = PR_BX, [USDT_REG_X86_CX] = PR_CX,
		[USDT_REG_X86_DX] = PR_DX, [USDT_REG_X86_SI] = PR_SI, [USDT_REG_X86_DI] = PR_DI,
		[USDT_REG_X86_BP] = PR_BP, [USDT_REG_X86_SP] = PR_SP,
	};

	if (r >= USDT_REG_X86_R8 && r <= USDT_REG_X86_R15)
		return PR_R8 + (int)(r - USDT_REG_X86_R8);
	if (r >= USDT_REG_X86_AX && r <= USDT_REG_X86_SP)
		return map[r];
	return -1;
}

static struct {
	char lib[4096]; /* libusdtkit's path */
	uint64_t pc, sema; /* file offsets of the announce probe */
	int arg0_reg; /* perf index of the register holding the record address */
	int pmu_type;
	int ref_ctr_shift;
} T;

/*
 * Finds the announce probe; returns why the tracer half cannot run on this
 * machine (the test then skips), or NULL.
 */
static const char *setup(void)
{
	const struct usdt_notes *n;
	struct usdt_arg_spec spec[USDT_MAX_ARGS];
	Dl_info info;
	char *s;
	FILE *f;

	if (geteuid() != 0)
		return "needs root (uprobes)";
	f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	if (!f || fscanf(f, "%d", &T.pmu_type) != 1) {
		if (f)
			fclose(f);
		return "no uprobe PMU";
	}
	fclose(f);
	/* "config:32-63": where ref_ctr_offset goes in attr.config. */
	s = rt_run("cat /sys/bus/event_source/devices/uprobe/format/ref_ctr_offset", NULL);
	T.ref_ctr_shift = s && sscanf(s, "config:%d", &T.ref_ctr_shift) == 1 ? T.ref_ctr_shift : -1;
	free(s);
	if (T.ref_ctr_shift < 0)
		return "uprobe PMU without ref_ctr_offset";

	if (!dladdr((void *)usdt_provider__new, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, T.lib))
		return NULL; /* T.pc stays 0: main() fails */
	n = usdt_notes__open_path(T.lib, NULL);
	if (!n)
		return NULL;
	for (size_t i = 0; i < usdt_notes__count(n); i++) {
		const struct usdt_note *e = usdt_notes__get(n, i);

		if (strcmp(e->provider, "usdtkit") || strcmp(e->name, "provider_load"))
			continue;
		T.pc = e->pc_offset;
		T.sema = e->sema_offset;
		/* The record's address: a register, as the compiler placed it. */
		T.arg0_reg = -1;
		if (usdt_arg_specs__parse(spec, USDT_MAX_ARGS, e->args, USDT_ARCH_X86_64, NULL) ==
			    6 &&
		    spec[0].kind == USDT_OPERAND_REG)
			T.arg0_reg = perf_index(spec[0].base);
	}
	usdt_notes__free((struct usdt_notes *)n);
	return NULL;
}

static int uprobe_open(const char *path, uint64_t off, uint64_t ref_ctr, pid_t pid, bool sample)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = (uint32_t)T.pmu_type,
		.config = ref_ctr << T.ref_ctr_shift,
		.config1 = (uint64_t)(uintptr_t)path,
		.config2 = off,
	};

	if (sample) {
		a.sample_period = 1;
		a.wakeup_events = 1;
		a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_REGS_USER;
		a.sample_regs_user = REGS_MASK;
	}
	return (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

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

/* Waits for one announce sample; returns the record's address, 0 on timeout. */
static uint64_t next_announce(int fd, void *ring, int timeout_ms)
{
	struct perf_event_mmap_page *meta = ring;
	char *data = (char *)ring + meta->data_offset;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint64_t head, tail, addr = 0;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	for (tail = meta->data_tail; tail < head && !addr;) {
		struct perf_event_header *h =
			(void *)(data + (tail % meta->data_size)); /* records are 8-aligned */
		uint64_t *regs = (uint64_t *)((char *)(h + 1) + 8 + 8); /* pid/tid, abi */
		int idx = 0;

		if (h->type == PERF_RECORD_SAMPLE) {
			for (int b = 0; b < T.arg0_reg; b++)
				idx += (int)((REGS_MASK >> b) & 1);
			addr = regs[idx];
		}
		tail += h->size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return addr;
}

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
		ann = uprobe_open(T.lib, T.pc, T.sema, pid, true);
		assert_true(ann >= 0);
		ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, ann, 0);
		assert_true(ring != MAP_FAILED);
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	if (mode != NO_WATCH) {
		struct usdt_announce rec;
		struct iovec l = {&rec, sizeof(rec)}, r;
		uint64_t addr = next_announce(ann, ring, 5000);

		assert_true(addr != 0);
		r = (struct iovec){(void *)(uintptr_t)addr, sizeof(rec)};
		assert_int_equal(process_vm_readv(pid, &l, 1, &r, 1, 0), (ssize_t)sizeof(rec));
		assert_int_equal(rec.version, USDT_ANNOUNCE_VERSION);
		assert_int_equal(rec.pid, pid);
		assert_string_equal(rec.provider, "announced");
		assert_true(rec.token > 0);
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
			hit = uprobe_open(rec.path, e->pc_offset, e->sema_offset, pid, false);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acked_no_fire_missed),
		cmocka_unit_test(test_unwatched_no_wait),
		cmocka_unit_test(test_blocks_until_acked),
		cmocka_unit_test(test_never_acked_costs_the_bound),
	};

	const char *why = setup();

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
