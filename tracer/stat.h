/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Records shared by stat.bpf.c and stat.c. All aggregation happens in BPF
 * maps; user space only reads them (and keeps its own previous snapshot to
 * print per-interval deltas, so nothing is ever reset under a running
 * program except the latency maximum).
 *
 * The bucket math is hist.h, shared with user space.
 */
#ifndef USDTKIT_TRACER_STAT_H
#define USDTKIT_TRACER_STAT_H

#include "fetch.h"

#define STAT_KEY_STR 64

enum stat_mode {
	STAT_MODE_COUNT = 0, /* per-probe counts only (also kept by every mode) */
	STAT_MODE_BY, /* per-key counts in a hash */
	STAT_MODE_HIST, /* log2 histogram of an argument */
	STAT_MODE_LHIST, /* linear histogram of an argument */
	STAT_MODE_LATENCY, /* time between a start and an end probe */
};

enum stat_by {
	STAT_BY_PID = 1,
	STAT_BY_TID,
	STAT_BY_ARG, /* integer argument (cfg.arg) */
	STAT_BY_USTACK, /* the user stack (stat_ustack, struct ustack_key) */
};

enum stat_role {
	STAT_ROLE_START = 1 << 0,
	STAT_ROLE_END = 1 << 1,
};

/* Per probe (index probe_id), filled by user space before attaching. */
struct stat_probe_cfg {
	__u8 valid; /* 0: the probe is only counted */
	__u8 arg; /* argument index: value, key or match value */
	__u8 is_signed;
	__u8 is_str; /* STAT_BY_ARG: key on the string the argument points to */
	__u8 role; /* enum stat_role (latency) */
	__u8 pad[3];
};

/* Key of the per-key hash. */
struct stat_key {
	__u32 probe_id;
	__u32 pad;
	__u64 val; /* pid, tid or the argument's value (0 for strings) */
	char str[STAT_KEY_STR]; /* string value, zero-padded */
};

/* Key of the latency start map: a thread, or (process, match value). */
struct stat_start_key {
	__u32 pid; /* tgid in --match mode, else 0 */
	__u32 pad;
	__u64 val; /* tid or match value */
};

/*
 * One matched latency pair, recorded (ring buffer "pairs") only when an
 * exporter wants spans (stat --latency --otlp/--perfetto): the
 * histogram alone cannot give a span its start and end.
 */
struct stat_pair {
	__u64 start_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 end_ns;
	__u64 val; /* the match value (--match), else the thread id */
	__u32 pid; /* of the end probe's thread */
	__u32 tid;
	char comm[16];
};

enum stat_lat_stat {
	STAT_LAT_SUM = 0, /* sum of latencies, in the unit */
	STAT_LAT_MAX, /* exact maximum, ns */
	STAT_LAT__MAX,
};

enum stat_counter {
	STAT_CNT_NOLOC = 0, /* cookie without a location (should not happen) */
	STAT_CNT_FAULT, /* the argument could not be read */
	STAT_CNT_KEYS_FULL, /* per-key hash full: hit not keyed */
	STAT_CNT_NO_START, /* latency end without a recorded start */
	STAT_CNT_RANGE, /* probe id beyond the histogram's capacity */
	STAT_CNT_PAIRS_LOST, /* latency pair not recorded: the pairs ring was full */
	STAT_CNT__MAX,
};

#endif
