/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The BPF side of `usdtkit trace` seen from user space: the loaded BPF
 * objects ("layouts", each with its record geometry and ring buffer), the
 * attachment of the session's locations to them, and the decoding of each
 * ring-buffer record into a struct event for the sink.
 *
 * The first layout is sized exactly for the locations found at start
 * (small records: fewer cache lines per hit, more records per ring);
 * locations found later that need more argument or string slots get a
 * new, roomier layout with its own ring.
 */
#ifndef USDTKIT_TRACER_TRACE_RECORDS_H
#define USDTKIT_TRACER_TRACE_RECORDS_H

#include <stdint.h>

#include "session.h"
#include "sinks.h"

struct trace_records_opts {
	unsigned int str_size; /* bytes per string slot */
	unsigned int ring_mb; /* ring buffer size, MiB, a power of two */
	uint64_t max_events; /* stop after this many (0: no limit) */
	unsigned int ustack_depth; /* --ustack: user stack frames per record (0: none) */
};

struct trace_records;

/*
 * Loads the first layout(s) for the session's locations and chosen attach
 * method. 0, or a negative errno (the caller reports it as a load error).
 */
int trace_records__new(struct session *s, const struct trace_records_opts *opts,
		       const struct sink *sink, struct trace_records **out);
/* Attaches the session's pending locations, in a layout that fits them. EXIT_OK/EXIT_FAIL. */
int trace_records__attach(struct trace_records *tr);
/*
 * Waits up to @timeout_ms and hands every record to the sink. 0 to go on,
 * 1 when --count is reached, negative errno on failure (reported).
 */
int trace_records__poll(struct trace_records *tr, int timeout_ms);
/* Hands over what is still in the rings (after the stop, before the summary). */
int trace_records__drain(struct trace_records *tr);
/* Events given to the sink; records the kernel could not reserve. */
uint64_t trace_records__events(const struct trace_records *tr);
uint64_t trace_records__lost(const struct trace_records *tr);
void trace_records__free(struct trace_records *tr);

#endif
