/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The decoded event: what every sink of `usdtkit trace` consumes (text,
 * JSON lines, --format, and exporters such as OTLP and Perfetto).
 *
 * The engine decodes a ring-buffer record once into this form; a sink
 * never sees BPF records, fetch descriptors or layouts, so adding a sink
 * needs no knowledge of the BPF side. Everything points into memory the
 * engine owns and that is valid only during the sink's callback: a sink
 * that keeps an event (a batching exporter) copies what it needs.
 */
#ifndef USDTKIT_TRACER_EVENT_H
#define USDTKIT_TRACER_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <usdtkit/types.h>

struct sym_frame;

#define EVENT_MAX_ARGS USDT_MAX_ARGS
#define EVENT_MAX_STACK 127

enum event_value_kind {
	EVENT_VAL_FAULT = 0, /* could not be read (or fetched at this location) */
	EVENT_VAL_NULL, /* a NULL string pointer */
	EVENT_VAL_INT, /* .i */
	EVENT_VAL_UINT, /* .u */
	EVENT_VAL_DOUBLE, /* .d (f32 arguments are widened) */
	EVENT_VAL_STR, /* .str */
	EVENT_VAL_PTR, /* .u, shown in hex */
};

struct event_value {
	const char *name; /* metadata/--args name, else "argN" */
	enum event_value_kind kind;
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const char *p; /* not NUL-terminated */
			size_t len;
			bool truncated; /* longer than the capture size, or cut at an unmapped page */
		} str;
	};
};

struct event {
	uint64_t ts_ns; /* CLOCK_REALTIME, ns */
	uint64_t mono_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns), ns */
	uint64_t elapsed_ns; /* since the session started tracing */
	uint32_t pid; /* process (tgid) */
	uint32_t tid; /* thread */
	const char *comm; /* not NUL-terminated */
	size_t comm_len;
	const char *provider;
	const char *name;
	const char *object; /* display path of the object holding the probe */
	unsigned int nargs;
	struct event_value args[EVENT_MAX_ARGS];
	/* user stack, innermost frame first; nstack 0 when not captured */
	const uint64_t *ustack;
	unsigned int nstack;
	/* its nstack frames symbolized (symbolize.h); NULL when --ustack is off */
	const struct sym_frame *frames;
};

/*
 * A sink: @event is called once per event in order, from one thread.
 * A negative errno from @event or @flush ends the session with an error
 * (the sink has already said why, or the engine reports the errno).
 * @close releases everything and reports the final error, if any.
 */
struct event_sink_ops {
	int (*event)(void *ctx, const struct event *e);
	int (*flush)(void *ctx); /* called after each batch of events; may be NULL */
	int (*close)(void *ctx); /* may be NULL */
};

#endif
