/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * BPF side of --filter: the interpreter of the programs filter.c compiles
 * (encoding and design in filter.h).
 *
 * Include after vmlinux.h and <bpf/bpf_helpers.h>. The generic probe
 * program fetches the location's arguments into a struct filter_input on
 * its stack, calls filter__check() with the location's probe id, and only
 * reserves its ring-buffer record (or touches its counters) on
 * FILTER_PASS, so a dropped hit costs the fetches and a few instructions.
 *
 * Verifier notes (6.1 is the strictest): every index into the program,
 * the value array, the patterns and a pattern's byte classes is masked or
 * range-checked against a constant and scaled by a constant, never a
 * register product; the two loops have constant bounds
 * (FILTER_MAX_INSNS, FILTER_STR_MAX); and the string loop's only
 * data-dependent branch is the end of the string, so the states after it
 * are equivalent and pruned. Strings are read into one stack buffer, up
 * to their NUL or FILTER_STR_MAX - 1 bytes.
 *
 * Programs including this must be sleepable (SEC("uprobe.s"), or a
 * SEC("syscall") test program) unless FILTER_NOSLEEP is defined: a string
 * in a page the process never touched is then read with
 * bpf_copy_from_user(), which faults it in, as fetch.bpf.h does.
 */
#ifndef USDTKIT_TRACER_FILTER_BPF_H
#define USDTKIT_TRACER_FILTER_BPF_H

#include "filter.h"

/* Set by user space before load: 0 when no --filter was given. */
const volatile __u32 filter_on = 0;

/*
 * The compiled filter of every probe, indexed by the probe id of
 * struct usdt_loc_spec. User space sizes it to the number of probes before
 * load; a probe no filter applies to holds a program that passes all.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct filter_prog);
} filter_progs SEC(".maps");

/* Hits dropped and faulted (enum filter_counter), for the command's summary. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FILTER_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} filter_counts SEC(".maps");

/*
 * Zero, but not to the verifier (.bss is writable, so its loads are
 * unknown): see filter__opaque_val().
 */
volatile __u64 filter__zero;

/*
 * @v as a value of no known range. The caller stores fetched values with
 * this: each operand form leaves a different range (sign extension of
 * 1, 2, 4 bytes...), and states that differ in them are never equal at
 * the interpreter's loop head, where kernels since 6.7 compare exactly,
 * so 12 arguments of a few forms each would multiply into millions of
 * states. One xor per value makes them all the same unknown scalar.
 */
static __always_inline __u64 filter__opaque_val(__u64 v)
{
	return v ^ filter__zero;
}

/*
 * Reads the string at @addr into @buf (FILTER_STR_MAX bytes): up to its
 * NUL, at most FILTER_STR_MAX - 1 bytes, NUL-terminated when shorter.
 * Returns 0 or a negative error.
 */
static __always_inline long filter__read_str(char *buf, __u64 addr)
{
	long n;
#ifndef FILTER_NOSLEEP
	__u32 chunk;
#endif

	if (!addr)
		return -14; /* -EFAULT: NULL */
	n = bpf_probe_read_user_str(buf, FILTER_STR_MAX, (const void *)addr);
	if (n > 0)
		return 0;
#ifdef FILTER_NOSLEEP
	return n;
#else
	/* a page never touched: fault it in (the window, else up to the page's end) */
	if (!bpf_copy_from_user(buf, FILTER_STR_MAX, (const void *)addr))
		return 0;
	chunk = 4096 - (addr & 4095);
	if (chunk >= FILTER_STR_MAX)
		return -14;
	__builtin_memset(buf, 0, FILTER_STR_MAX);
	return bpf_copy_from_user(buf, chunk, (const void *)addr);
#endif
}

/* The shift-and automaton of filter.h over @buf; 1 when the string matches. */
static __always_inline __u32 filter__glob(const struct filter_pat *pat, const char *buf)
{
	__u64 d = 1, star = pat->star;
	__u32 k, n = pat->n & 63, r;

	for (k = 0; k < FILTER_STR_MAX - 1; k++) {
		__u8 c = buf[k];

		if (!c)
			break;
		d = ((d << 1) & pat->cls[c]) | (d & star);
	}
	r = (d >> n) & 1;
	if (k == FILTER_STR_MAX - 1) /* a long string: only a trailing `*` can match it */
		r &= (star >> n) & 1;
	return r;
}

/*
 * Whether string value @a of @in matches @pat: 1, 0, or -1 when it cannot
 * be read. A global function, so the verifier checks it once, on its own,
 * instead of once per path into every string comparison of the
 * interpreter's loop: the string loop's exits times the read's outcomes
 * times the loop's 32 iterations would exceed its budget.
 */
__noinline int filter_match(const struct filter_pat *pat, const struct filter_input *in, __u32 a)
{
	char buf[FILTER_STR_MAX];

	if (!pat || !in)
		return -1;
	if (a == FILTER_VAL_COMM) {
		__builtin_memcpy(buf, in->comm, FILTER_COMM_LEN);
		buf[FILTER_COMM_LEN - 1] = 0;
	} else if (filter__read_str(buf, in->vals[a & (FILTER_NVALS - 1)])) {
		return -1;
	}
	return filter__glob(pat, buf);
}

/*
 * Runs @p on @in (fully initialized: the verifier checks that a global
 * function's memory arguments are). Returns an enum filter_verdict.
 * Global too: checked once whatever the state of its caller (the fetch
 * paths of 12 arguments), and its loop is the one place where 32
 * iterations of every instruction kind are explored.
 */
__noinline int filter_run(const struct filter_prog *p, const struct filter_input *in)
{
	__u32 pc, i;
	int m;

	if (!p || !in)
		return FILTER_FAULT;
	pc = p->start;

	for (i = 0; i < FILTER_MAX_INSNS; i++) {
		const struct filter_insn *insn;
		__u32 a, b, r = 0;
		__u64 x, y;

		if (pc >= FILTER_MAX_INSNS)
			break;
		insn = &p->insns[pc];
		a = insn->a & (FILTER_NVALS - 1);
		if (in->fault & (1u << a))
			return FILTER_FAULT;
		x = in->vals[a];
		y = insn->imm;
		if (insn->flags & FILTER_F_BVAL) {
			b = insn->bval & (FILTER_NVALS - 1);
			if (in->fault & (1u << b))
				return FILTER_FAULT;
			y = in->vals[b];
		}
		switch (insn->op) {
		case FILTER_OP_EQ:
			r = x == y;
			break;
		case FILTER_OP_LT:
			r = (__s64)x < (__s64)y;
			break;
		case FILTER_OP_LE:
			r = (__s64)x <= (__s64)y;
			break;
		case FILTER_OP_LTU:
			r = x < y;
			break;
		case FILTER_OP_LEU:
			r = x <= y;
			break;
		case FILTER_OP_MATCH:
			m = filter_match(&p->pats[insn->pat & (FILTER_MAX_PATS - 1)], in, a);
			if (m < 0)
				return FILTER_FAULT;
			r = m;
			break;
		default:
			return FILTER_DROP;
		}
		pc = r ? insn->jt : insn->jf;
	}
	return pc == FILTER_JMP_PASS ? FILTER_PASS : FILTER_DROP;
}

/* Counts verdict @v in filter_counts unless it is a pass; returns it. */
static __always_inline int filter__count(int v)
{
	__u32 k;
	__u64 *c;

	if (v == FILTER_PASS)
		return v;
	k = v == FILTER_FAULT ? FILTER_CNT_FAULT : FILTER_CNT_DROPPED;
	c = bpf_map_lookup_elem(&filter_counts, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	return v;
}

/*
 * The verdict of probe @probe_id's filter on @in (FILTER_PASS when
 * filtering is off); a drop or a fault is counted in filter_counts.
 */
static __always_inline int filter__check(__u32 probe_id, const struct filter_input *in)
{
	const struct filter_prog *p;

	if (!filter_on)
		return FILTER_PASS;
	p = bpf_map_lookup_elem(&filter_progs, &probe_id);
	return filter__count(p ? filter_run(p, in) : FILTER_FAULT);
}

#ifdef USDTKIT_TRACER_FETCH_BPF_H
/*
 * The verdict of the filter of @loc's probe on this hit, for a probe
 * program (include fetch.bpf.h first): fetches only the values the
 * probe's program reads (its need mask), pid and tid from the task, comm
 * when needed, then runs it. A constant FILTER_PASS when filtering is off,
 * so callers pay nothing then.
 */
static __always_inline int filter__hit(struct pt_regs *ctx, const struct usdt_loc_spec *loc)
{
	const struct filter_prog *fp;
	struct filter_input in;
	struct task_struct *task;
	__u32 probe, i, n;
	__u64 ip, v;

	if (!filter_on)
		return FILTER_PASS;
	probe = loc->probe_id;
	fp = bpf_map_lookup_elem(&filter_progs, &probe);
	if (!fp)
		return filter__count(FILTER_FAULT);
	if (fp->start == FILTER_JMP_PASS)
		return FILTER_PASS; /* no filter applies to this probe */
	__builtin_memset(&in, 0, sizeof(in));
	ip = usdt_fetch__probe_ip(ctx);
	n = loc->nargs;
	for (i = 0; i < FETCH_MAX_ARGS; i++) {
		if (i >= n)
			break;
		if (!(fp->need & (1u << i)))
			continue;
		if (usdt_fetch__arg(ctx, &loc->args[i], ip, &v))
			in.fault |= 1u << i;
		in.vals[i] = filter__opaque_val(v);
	}
	task = bpf_get_current_task_btf();
	in.vals[FILTER_VAL_PID] = task->tgid;
	in.vals[FILTER_VAL_TID] = task->pid;
	if (fp->need & (1u << FILTER_VAL_COMM)) {
		((__u64 *)in.comm)[0] = ((const __u64 *)task->comm)[0];
		((__u64 *)in.comm)[1] = ((const __u64 *)task->comm)[1];
	}
	return filter__count(filter_run(fp, &in));
}
#endif

#endif
