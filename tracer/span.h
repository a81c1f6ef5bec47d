/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A span: one matched pair of `stat --latency` (entry and return probe of
 * the same key), as the OTLP and Perfetto exporters receive it. Like
 * struct event, everything points into the caller's memory and is valid
 * only during the call: an exporter copies what it keeps.
 */
#ifndef USDTKIT_TRACER_SPAN_H
#define USDTKIT_TRACER_SPAN_H

#include <stdint.h>

#include "event.h"

struct span {
	uint64_t start_ns; /* CLOCK_REALTIME, ns (OTLP) */
	uint64_t end_ns;
	uint64_t start_mono_ns; /* CLOCK_MONOTONIC, ns (Perfetto, same clock as events) */
	uint32_t pid;
	uint32_t tid;
	const char *comm; /* not NUL-terminated; may be NULL */
	size_t comm_len;
	const char *name; /* e.g. "provider:entry..provider:return" */
	const char *key; /* the match key, as text; may be NULL */
	unsigned int nattrs;
	const struct event_value *attrs;
};

/*
 * A span sink, the counterpart of struct event_sink_ops for `stat
 * --latency`: @span is called once per matched pair, from one thread.
 */
struct span_sink_ops {
	int (*span)(void *ctx, const struct span *s);
	int (*flush)(void *ctx); /* may be NULL */
};

#endif
