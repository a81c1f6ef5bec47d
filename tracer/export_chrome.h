/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Perfetto / Chrome Trace Event exporter: `trace --perfetto FILE` and
 * `stat --latency --perfetto FILE` write the JSON Array Format of the
 * Trace Event Format, which ui.perfetto.dev and chrome://tracing open:
 * metadata events naming each process and thread (one track per thread),
 * an instant event ("ph":"i", thread scope) per probe hit with its
 * arguments, a complete event ("ph":"X") per latency pair. Timestamps
 * are CLOCK_MONOTONIC in microseconds with three decimals (ns exact).
 *
 * Events are streamed: each is rendered whole into a buffer that is
 * written at event boundaries (at 64 KiB and on every flush of the
 * pipeline), so memory stays flat. Into a regular file every write ends
 * with the closing "]", and the next write starts over it (pwrite at the
 * bracket's offset): after each flush the file is a complete JSON array,
 * so a run that is killed leaves a file every viewer opens, losing only
 * the events not yet flushed. (Perfetto's JSON importer rejects an array
 * without its "]" as incomplete, although the format's own text allows
 * leaving it out.) A pipe or terminal is streamed and gets "]" on close.
 */
#ifndef USDTKIT_TRACER_EXPORT_CHROME_H
#define USDTKIT_TRACER_EXPORT_CHROME_H

#include "event.h"
#include "span.h"

struct chrome_writer;

/* Creates @path (O_TRUNC, 0644) or takes @fd (>= 0, then @path is a label). */
int chrome_writer__open(struct chrome_writer **out, const char *path, int fd);
int chrome__event(struct chrome_writer *w, const struct event *e);
int chrome__span(struct chrome_writer *w, const struct span *s);
/* Writes what is buffered (whole events only). 0 or -errno. */
int chrome__flush(struct chrome_writer *w);
/* Writes "]" and closes (an @fd given to open is closed too). 0 or the first write error. */
int chrome_writer__close(struct chrome_writer *w);

/* ctx: a struct chrome_writer; @close is NULL (the owner closes it). */
extern const struct event_sink_ops chrome_event_sink_ops;
extern const struct span_sink_ops chrome_span_sink_ops;

#endif
