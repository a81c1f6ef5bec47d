/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The exporters of `usdtkit stat` (issue 15): --prometheus ADDR:PORT,
 * --prometheus-textfile PATH, and for --latency --otlp URL and
 * --perfetto FILE. stat.c hands its options and its loop's steps here;
 * everything else lives in stat_export.c, so stat itself stays a
 * front-end over the session.
 */
#ifndef USDTKIT_TRACER_STAT_EXPORT_H
#define USDTKIT_TRACER_STAT_EXPORT_H

#include <getopt.h>
#include <stdbool.h>

/* getopt_long() values of the options (no short letters) */
enum {
	STAT_EXPORT_OPT_PROM = 0x1500,
	STAT_EXPORT_OPT_TEXTFILE,
	STAT_EXPORT_OPT_OTLP,
	STAT_EXPORT_OPT_PERFETTO,
};

/* clang-format off */
#define STAT_EXPORT_LONG_OPTS                                                     \
	{"prometheus", required_argument, NULL, STAT_EXPORT_OPT_PROM},            \
	{"prometheus-textfile", required_argument, NULL, STAT_EXPORT_OPT_TEXTFILE}, \
	{"otlp", required_argument, NULL, STAT_EXPORT_OPT_OTLP},                  \
	{"perfetto", required_argument, NULL, STAT_EXPORT_OPT_PERFETTO}
/* clang-format on */

#define STAT_EXPORT_USAGE                                                              \
	"export (docs/export.md):\n"                                                   \
	"      --prometheus ADDR:PORT\n"                                               \
	"                         serve GET /metrics (Prometheus text format) while\n" \
	"                         running: hits as counters, --hist/--latency as\n"    \
	"                         histograms; ':PORT' listens on every interface\n"    \
	"      --prometheus-textfile PATH\n"                                           \
	"                         write the same metrics to PATH atomically every\n"   \
	"                         --interval (and at exit), for node_exporter\n"       \
	"      --otlp URL         --latency: send each matched pair as an OTLP span\n" \
	"                         (OTLP/HTTP JSON to URL/v1/traces, http:// only)\n"   \
	"      --perfetto FILE    --latency: write each matched pair as a complete\n"  \
	"                         event of a Chrome/Perfetto trace (JSON)\n"

struct stat_ctx;
struct stat_export;

/* Handles an export option: 1 handled, 0 not ours, or an exit status negated (said). */
int stat_export__parse_opt(struct stat_ctx *c, int opt, const char *arg);
/* Option combinations once all are parsed: 0 or EXIT_USAGE (said). */
int stat_export__check(struct stat_ctx *c);
/* Before the BPF object is loaded: sizes the pairs ring (stat_maps.c). */
void stat_export__before_load(struct stat_ctx *c);
/* After loading, before the run: binds, connects, opens. 0 or EXIT_FAIL (said). */
int stat_export__start(struct stat_ctx *c);
/*
 * The loop's wait of up to @timeout_ms: polls the pairs ring when spans are
 * exported, else returns false and the caller sleeps. Also refreshes the
 * metrics a scrape asked for. <0 an error (said), 1 waited, 0 did not.
 */
int stat_export__wait(struct stat_ctx *c, int timeout_ms);
/* Every interval print (and the final one): refresh, the textfile. 0 or -errno (said). */
int stat_export__interval(struct stat_ctx *c);
/* Drains, closes, reports what was not delivered. 0 or -errno (said). */
int stat_export__finish(struct stat_ctx *c);
void stat_export__free(struct stat_ctx *c);

#endif
