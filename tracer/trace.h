/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Records shared by trace.bpf.c and trace.c: one ring buffer record per
 * probe hit. Records have a fixed size chosen at load time (a read-only
 * constant the verifier sees): the header, max_args raw argument values
 * (the most any selected probe has), then one string slot of str_size bytes
 * per string argument the selected probes can carry. Small records keep
 * the per-hit cost down: fewer cache lines written and read.
 */
#ifndef USDTKIT_TRACER_TRACE_H
#define USDTKIT_TRACER_TRACE_H

#include "fetch.h"

#define TRACE_COMM_LEN 16

enum trace_event_kind {
	TRACE_EV_HIT = 1,
};

struct trace_record {
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 loc; /* location index (the uprobe's cookie) */
	__u16 nargs;
	__u16 kind; /* enum trace_event_kind | layout index << 8 */
	__u32 err_mask; /* bit i: argument i could not be read */
	__u32 trunc_mask; /* bit i: string i was cut at an unmapped page */
	char comm[TRACE_COMM_LEN];
	__u64 args[]; /* max_args values, then nslots * str_size string bytes */
};

/* Index of the lost-events counter in the per-CPU "counters" array. */
enum trace_counter {
	TRACE_CNT_LOST = 0, /* ring buffer full: record not reserved */
	TRACE_CNT_NOLOC, /* cookie without a location (should not happen) */
	TRACE_CNT__MAX,
};

#endif
