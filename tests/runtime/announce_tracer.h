/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The tracer half of the load announcement (docs/runtime-announce.md) in
 * plain perf_event uprobes, shared by test_announce.c and bench-runtime:
 * find usdtkit:provider_load in the libusdtkit this program runs with,
 * attach a sampling uprobe with its semaphore's ref_ctr_offset, take the
 * announce record's address (argument 0) from each sample's registers.
 * x86-64 only, like the runtime.
 */
#ifndef USDTKIT_TESTS_ANNOUNCE_TRACER_H
#define USDTKIT_TESTS_ANNOUNCE_TRACER_H

#include <dlfcn.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <usdtkit/provider.h>
#include <usdtkit/stapsdt.h>

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
static const char *at_setup(void)
{
	const struct usdt_notes *n;
	struct usdt_arg_spec spec[USDT_MAX_ARGS];
	Dl_info info;
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
	f = fopen("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset", "re");
	if (!f || fscanf(f, "config:%d", &T.ref_ctr_shift) != 1)
		T.ref_ctr_shift = -1;
	if (f)
		fclose(f);
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

static int at_uprobe_open(const char *path, uint64_t off, uint64_t ref_ctr, pid_t pid, bool sample)
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

/* Waits for one announce sample; returns the record's address, 0 on timeout. */
static uint64_t at_next_announce(int fd, void *ring, int timeout_ms)
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

#endif
