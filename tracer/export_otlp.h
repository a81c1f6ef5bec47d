/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * OTLP/HTTP JSON exporter: `trace --otlp URL` sends every event as a log
 * record, `stat --latency --otlp URL` every matched pair as a span, to an
 * OpenTelemetry collector at URL/v1/logs and URL/v1/traces.
 *
 * The producer (the ring consumer) only encodes a record into a small
 * heap block and appends it to a bounded queue; a sender thread batches
 * the queue (by count, bytes and time), groups records by traced process
 * (the OTLP resource: process.pid, process.executable.*, host.name; the
 * scope is usdtkit), POSTs them and retries with exponential backoff on
 * connection errors, 429 and 5xx. When the queue is full the record is
 * dropped and counted: the producer never waits for the network.
 * Plain http:// only (a collector on the host or a sidecar); https:// is
 * refused with -EPROTONOSUPPORT.
 */
#ifndef USDTKIT_TRACER_EXPORT_OTLP_H
#define USDTKIT_TRACER_EXPORT_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "span.h"

struct otlp_opts {
	const char *url; /* http://HOST[:PORT][/BASE]; /v1/logs, /v1/traces appended */
	size_t queue_records; /* default 8192 */
	size_t batch_records; /* default 512 */
	size_t batch_bytes; /* default 1 MiB of encoded records */
	unsigned int batch_timeout_ms; /* default 1000: oldest record waits at most this */
	unsigned int max_retries; /* default 5 (0: use the default; -1u: none) */
	unsigned int backoff_ms; /* first retry delay, doubled each time; default 100 */
	unsigned int backoff_max_ms; /* default 5000 */
	unsigned int request_timeout_ms; /* connect + send + response; default 10000 */
	unsigned int close_timeout_ms; /* how long close drains the queue; default 5000 */
};

struct otlp_stats {
	uint64_t logs_sent, logs_failed, logs_dropped;
	uint64_t spans_sent, spans_failed, spans_dropped;
	uint64_t requests; /* HTTP requests made, retries included */
	uint64_t retries;
};

struct otlp_exporter;

/* -EINVAL (bad URL), -EPROTONOSUPPORT (https), -ENOMEM, -errno of the thread. */
int otlp_exporter__new(struct otlp_exporter **out, const struct otlp_opts *opts);
/*
 * Encode and enqueue (copying everything needed). Never blocks on the
 * network; a full queue drops the record (counted). 0 or -ENOMEM. One
 * producer thread at a time.
 */
int otlp__log(struct otlp_exporter *x, const struct event *e);
int otlp__span(struct otlp_exporter *x, const struct span *s);
/* Waits up to @timeout_ms until everything enqueued so far was handled. */
int otlp__flush(struct otlp_exporter *x, unsigned int timeout_ms);
void otlp__stats(struct otlp_exporter *x, struct otlp_stats *st);
/*
 * Drains the queue (up to close_timeout_ms; what is left is counted as
 * dropped), stops the thread and frees @x. @st (may be NULL) receives the
 * final counts for the summary line. 0, or -EIO if any record was not
 * delivered.
 */
int otlp_exporter__close(struct otlp_exporter *x, struct otlp_stats *st);

/* ctx: a struct otlp_exporter; @close is NULL (the owner closes it). */
extern const struct event_sink_ops otlp_event_sink_ops;
extern const struct span_sink_ops otlp_span_sink_ops;

/* Splits an http:// URL. 0, -EINVAL, -EPROTONOSUPPORT. */
int otlp_parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize, char *path,
		   size_t pathsize);

/* Appends the OTLP JSON of one log record / span (exposed for tests and benchmarks). */
struct xbuf;
void otlp_encode_log(struct xbuf *b, const struct event *e, uint64_t observed_ns);
void otlp_encode_span(struct xbuf *b, const struct span *s, const uint8_t trace_id[16],
		      const uint8_t span_id[8]);

#endif
