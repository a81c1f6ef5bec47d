// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit stat: in-kernel aggregation. Two programs, user space loads one:
 *
 * stat_count: plain counting. A non-sleepable uprobe program that does
 * nothing but add one to a per-CPU slot selected by the BPF cookie (the
 * location index), so a hit costs the uprobe itself plus a few
 * instructions; user space folds locations into probes.
 *
 * stat_args: everything that needs an argument or a timestamp (per-key
 * counts, log2/linear histograms, latency between two probes). Sleepable,
 * because arguments in memory and strings are read with
 * bpf_copy_from_user() through the shared argument engine (fetch.bpf.h).
 * The mode and the histogram shape are read-only constants, so the
 * verifier prunes the paths a run does not use. With --filter, plain
 * counting runs here too (the filter reads arguments): the filter
 * (filter.bpf.h) runs before any count, key, bucket or timestamp.
 *
 * stat_ustack: --by ustack, hits per (location, process, distinct user
 * stack). Non-sleepable: every kernel's verifier refuses the stack map in
 * a sleepable program (ustack.bpf.h); it reads no argument.
 *
 * Per-CPU slots are still updated atomically: a uprobe program can be
 * preempted, and another task on the same CPU may hit the same probe.
 *
 * Counts and histogram buckets are rows of a plain array, one row per
 * possible CPU ([cpu][slot]), not per-CPU arrays: the kernel allocates a
 * per-CPU array element by element (100 000 locations took 0.4 s to create
 * and as long to free), a plain array at once; user space reads the rows
 * through mmap, without a syscall per slot.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hist.h"
#include "stat.h"
#include "fetch.bpf.h"
#define USTACK_WITH_STACKMAP
#include "ustack.bpf.h"
#include "filter.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by user space before load. */
const volatile __u32 mode = STAT_MODE_COUNT;
const volatile __u32 by = 0; /* enum stat_by, STAT_MODE_BY */
const volatile __u32 nbuckets = HIST_LOG2_BUCKETS; /* per probe, HIST/LHIST */
const volatile __s64 lmin = 0; /* LHIST: [lmin, lmax) in steps of lstep */
const volatile __s64 lmax = 0;
const volatile __s64 lstep = 1;
const volatile bool lat_match = false; /* LATENCY: key starts by an argument value */
const volatile __u64 lat_div = 1; /* LATENCY: ns per unit */
const volatile bool lat_pairs = false; /* LATENCY: each pair into "pairs" (exporters) */
const volatile __u32 ncpu_rows = 1; /* rows of counts and hist: possible CPUs */
const volatile __u32 count_row = 1; /* slots per row of counts: locations */
const volatile __u32 hist_row = 1; /* slots per row of hist: probes * nbuckets */

/* Hits per location (cookie). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stat_probe_cfg);
} pcfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1);
	__type(key, struct stat_key);
	__type(value, __u64);
} keys SEC(".maps");

/* HIST/LHIST: probe_id * nbuckets + bucket. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct stat_start_key);
	__type(value, __u64);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HIST_LAT_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} lat_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_LAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} lat_stats SEC(".maps");

/* LATENCY with lat_pairs: one struct stat_pair per match; user space sizes it */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* --by ustack: hits per struct ustack_key (probe_id holds the location index) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct ustack_key);
	__type(value, __u64);
} ustack_counts SEC(".maps");

/*
 * --by ustack: the processes whose stacks are counted. The first stack of a
 * process puts its pid on ustack_new, so user space reads its mappings
 * while it still runs (a short-lived command may be gone before the next
 * poll of ustack_counts); LRU: a pid evicted is announced again, harmlessly.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8);
} ustack_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ustack_new SEC(".maps");
/* Adds one to slot @slot of this CPU's row (of @row slots) in @map; false if out of range. */
static __always_inline bool row_inc(void *map, __u32 row, __u32 slot)
{
	__u32 cpu = bpf_get_smp_processor_id(), k;
	__u64 *c;

	if (cpu >= ncpu_rows)
		cpu = 0;
	if (slot >= row)
		return false;
	k = cpu * row + slot;
	c = bpf_map_lookup_elem(map, &k);
	if (!c)
		return false;
	__sync_fetch_and_add(c, 1);
	return true;
}

SEC("uprobe")
int stat_count(struct pt_regs *ctx)
{
	row_inc(&counts, count_row, bpf_get_attach_cookie(ctx));
	return 0;
}

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline __u32 linear_bucket(__u64 v, bool is_signed)
{
	return hist_linear_bucket(v, is_signed, lmin, lmax, lstep, nbuckets);
}

/* Zeroes what follows the string's terminator, so equal strings are equal keys. */
static __always_inline void str_pad(char *s)
{
	bool end = false;

	for (int i = 0; i < STAT_KEY_STR; i++) {
		if (end)
			s[i] = 0;
		else if (!s[i])
			end = true;
	}
	s[STAT_KEY_STR - 1] = 0;
}

static __always_inline void count_key(struct stat_key *k)
{
	__u64 one = 1, *c;
	long err;

	c = bpf_map_lookup_elem(&keys, k);
	if (c) {
		__sync_fetch_and_add(c, 1);
		return;
	}
	err = bpf_map_update_elem(&keys, k, &one, BPF_NOEXIST);
	if (!err)
		return;
	c = bpf_map_lookup_elem(&keys, k); /* inserted meanwhile by another hit */
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		count(STAT_CNT_KEYS_FULL);
}

static __always_inline void record_pair(__u64 start, __u64 end, __u64 id, __u64 val)
{
	struct stat_pair *p = bpf_ringbuf_reserve(&pairs, sizeof(*p), 0);

	if (!p) {
		count(STAT_CNT_PAIRS_LOST);
		return;
	}
	p->start_ns = start;
	p->end_ns = end;
	p->val = val;
	p->pid = id >> 32;
	p->tid = (__u32)id;
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	bpf_ringbuf_submit(p, 0);
}

static __always_inline void latency(const struct stat_probe_cfg *cfg, __u64 id, __u64 v)
{
	struct stat_start_key sk = {};
	__u64 now = bpf_ktime_get_ns(), *ts, d, *s;
	__u32 b;

	if (lat_match) {
		sk.pid = id >> 32;
		sk.val = v;
	} else {
		sk.val = (__u32)id;
	}
	if (cfg->role & STAT_ROLE_START) {
		bpf_map_update_elem(&starts, &sk, &now, BPF_ANY);
		return;
	}
	if (!(cfg->role & STAT_ROLE_END))
		return;
	ts = bpf_map_lookup_elem(&starts, &sk);
	if (!ts) {
		count(STAT_CNT_NO_START);
		return;
	}
	d = now - *ts;
	if (lat_pairs)
		record_pair(*ts, now, id, sk.val);
	bpf_map_delete_elem(&starts, &sk);
	b = STAT_LAT_MAX;
	s = bpf_map_lookup_elem(&lat_stats, &b);
	if (s && d > *s)
		*s = d;
	d /= lat_div;
	b = STAT_LAT_SUM;
	s = bpf_map_lookup_elem(&lat_stats, &b);
	if (s)
		__sync_fetch_and_add(s, d);
	b = hist_lat_bucket(d);
	s = bpf_map_lookup_elem(&lat_hist, &b);
	if (s)
		__sync_fetch_and_add(s, 1);
}

/*
 * The -c command (0: none), set by user space: stopped at its first stack
 * until user space has read its mappings and sent SIGCONT, so a command
 * that exits right after firing still symbolizes. Only our own child is
 * ever stopped.
 */
__u32 ustack_hold_tgid = 0;

/* Puts @pid on ustack_new the first time it has a stack counted. */
static __always_inline void ustack_announce(__u32 pid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&ustack_pids, &pid, &one, BPF_NOEXIST))
		return;
	/* the stop is pending before user space can see the pid and continue it */
	if (pid == ustack_hold_tgid)
		bpf_send_signal(USTACK_SIGSTOP);
	bpf_ringbuf_output(&ustack_new, &pid, sizeof(pid), 0);
}

SEC("uprobe")
int stat_ustack(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), one = 1, *c;
	struct ustack_key key = {};
	__u32 idx = cookie;

	c = bpf_map_lookup_elem(&counts, &idx);
	if (c)
		__sync_fetch_and_add(c, 1);
	key.probe_id = idx;
	/* a failed capture (-EFAULT, -EEXIST: bucket taken) is counted under its errno */
	ustack__key(ctx, &key, cookie & USTACK_COOKIE_AT_ENTRY);
	c = bpf_map_lookup_elem(&ustack_counts, &key);
	if (c) {
		__sync_fetch_and_add(c, 1);
		return 0;
	}
	if (!bpf_map_update_elem(&ustack_counts, &key, &one, BPF_NOEXIST)) {
		ustack_announce(key.pid); /* a new stack: maybe a new process */
		return 0;
	}
	c = bpf_map_lookup_elem(&ustack_counts, &key); /* inserted meanwhile by another hit */
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		count(STAT_CNT_KEYS_FULL);
	return 0;
}

SEC("uprobe.s")
int stat_args(struct pt_regs *ctx)
{
	__u32 idx = bpf_get_attach_cookie(ctx), probe, b;
	const struct usdt_loc_spec *loc;
	const struct stat_probe_cfg *cfg;
	const struct usdt_fetch *f;
	struct stat_key key = {};
	__u64 id, v = 0;

	loc = bpf_map_lookup_elem(&locs, &idx);
	if (!loc) {
		count(STAT_CNT_NOLOC);
		return 0;
	}
	/* --filter: before anything is counted (plain counting with one runs here too) */
	if (filter__hit(ctx, loc) != FILTER_PASS)
		return 0;
	row_inc(&counts, count_row, idx);
	if (mode == STAT_MODE_COUNT)
		return 0;
	probe = loc->probe_id;
	cfg = bpf_map_lookup_elem(&pcfg, &probe);
	if (!cfg) {
		count(STAT_CNT_RANGE);
		return 0;
	}
	if (!cfg->valid)
		return 0;
	id = bpf_get_current_pid_tgid();

	if (mode == STAT_MODE_BY && by == STAT_BY_PID) {
		v = id >> 32;
	} else if (mode == STAT_MODE_BY && by == STAT_BY_TID) {
		v = (__u32)id;
	} else if (mode != STAT_MODE_LATENCY || lat_match) {
		b = cfg->arg;
		if (b >= FETCH_MAX_ARGS)
			return 0;
		f = &loc->args[b];
		if (usdt_fetch__arg(ctx, f, usdt_fetch__probe_ip(ctx), &v)) {
			count(STAT_CNT_FAULT);
			return 0;
		}
	}

	switch (mode) {
	case STAT_MODE_BY:
		key.probe_id = probe;
		if (by == STAT_BY_ARG && cfg->is_str) {
			if (usdt_fetch__str(key.str, STAT_KEY_STR, v) < 0) {
				count(STAT_CNT_FAULT);
				return 0;
			}
			str_pad(key.str);
		} else {
			key.val = v;
		}
		count_key(&key);
		break;
	case STAT_MODE_HIST:
	case STAT_MODE_LHIST:
		b = mode == STAT_MODE_HIST ? hist_log2_bucket(v, cfg->is_signed)
					   : linear_bucket(v, cfg->is_signed);
		if (b >= nbuckets)
			return 0;
		if (!row_inc(&hist, hist_row, probe * nbuckets + b))
			count(STAT_CNT_RANGE);
		break;
	case STAT_MODE_LATENCY:
		latency(cfg, id, v);
		break;
	default:
		break;
	}
	return 0;
}
