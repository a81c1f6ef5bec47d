/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The exporters of `usdtkit trace` (issue 15): --otlp URL sends every
 * event as an OTLP log record, --perfetto FILE writes a Chrome/Perfetto
 * trace. Both are sinks beside the text/JSON one (trace_export.c): the
 * engine decodes a record once and hands it to each.
 */
#ifndef USDTKIT_TRACER_TRACE_EXPORT_H
#define USDTKIT_TRACER_TRACE_EXPORT_H

#include <getopt.h>

#include "sinks.h"

enum {
	TRACE_EXPORT_OPT_OTLP = 0x1510,
	TRACE_EXPORT_OPT_PERFETTO,
};

/* clang-format off */
#define TRACE_EXPORT_LONG_OPTS                                   \
	{"otlp", required_argument, NULL, TRACE_EXPORT_OPT_OTLP}, \
	{"perfetto", required_argument, NULL, TRACE_EXPORT_OPT_PERFETTO}
/* clang-format on */

#define TRACE_EXPORT_USAGE                                                              \
	"export (docs/export.md; beside the output above, which -o /dev/null drops):\n" \
	"      --otlp URL         send each event as an OTLP log record (OTLP/HTTP\n"   \
	"                         JSON to URL/v1/logs, http:// only), batched; never\n" \
	"                         slows tracing: what cannot be queued is counted\n"    \
	"      --perfetto FILE    write a Chrome/Perfetto trace (JSON): a track per\n"  \
	"                         thread, an instant event per hit\n"

struct trace_export;

/* 1 handled, 0 not ours, or an exit status negated (said). */
int trace_export__parse_opt(struct trace_export **x, const char *who, int opt, const char *arg);
/*
 * Opens the exporters and wraps @sink (the text/JSON sink) into one that
 * feeds them too. EXIT_OK or EXIT_FAIL (said). @x NULL: nothing to do.
 */
int trace_export__start(struct trace_export *x, const char *who, struct sink *sink);
/* After each poll of the rings: the Perfetto file made complete. 0 or -errno (said). */
int trace_export__flush(struct trace_export *x);
/* Drains, closes, reports what was not delivered; unwraps @sink. 0 or -errno (said). */
int trace_export__finish(struct trace_export *x, struct sink *sink);
void trace_export__free(struct trace_export *x, struct sink *sink);

#endif
