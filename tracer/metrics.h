/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The metrics model `usdtkit stat` hands to its exporters (Prometheus
 * endpoint and textfile): a registry of metric families, each a counter,
 * gauge or histogram with a fixed list of label names, holding series
 * keyed by their label values.
 *
 * stat owns the aggregation (in BPF maps); the registry is only the
 * latest snapshot of it. stat refills it every interval or scrape with
 * absolute values (counters are set, not added: the kernel's counts are
 * already cumulative) between metrics__update_begin() and _end(), and an
 * exporter renders it under the same lock, so a scrape never sees half an
 * update. Series persist until the registry is freed: a counter that
 * disappeared and came back would otherwise look like a reset.
 *
 * Histograms carry explicit upper bounds (Prometheus `le`, inclusive) and
 * non-cumulative per-bucket counts; metrics_log2_bounds() gives the bounds
 * of stat's log2 layout. Each family holds at most max_series series: an
 * update that would create more is refused (-E2BIG) and counted, and the
 * exporter shows the refusals of the last update per family as
 * usdtkit_series_overflow{metric="..."}.
 */
#ifndef USDTKIT_TRACER_METRICS_H
#define USDTKIT_TRACER_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_LABELS 8
#define METRICS_MAX_BUCKETS 128

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metric_series {
	char **values; /* family->nlabels label values */
	uint64_t hash;
	double value; /* counter, gauge */
	uint64_t *buckets; /* histogram: nbounds + 1 counts, the last above every bound */
	double sum;
	uint64_t count;
};

struct metric_family {
	char *name; /* counters: ends in _total */
	char *help;
	enum metric_type type;
	unsigned int nlabels;
	char *labels[METRICS_MAX_LABELS];
	unsigned int nbounds;
	double *bounds; /* histogram: ascending upper bounds */
	struct metric_series *series;
	size_t nseries, cap;
	size_t *slots; /* open-addressing index: series index + 1, 0 empty */
	size_t nslots;
	size_t max_series;
	uint64_t overflow; /* series refused in the last update */
};

struct metrics_registry {
	pthread_mutex_t lock;
	struct metric_family **families;
	size_t nfamilies;
	size_t max_series; /* per family */
};

struct metrics_registry *metrics_registry__new(size_t max_series);
void metrics_registry__free(struct metrics_registry *r);

/*
 * Families are created once, before the first update. Names must match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not
 * start with "__" (reserved); "le" is reserved for histograms. A counter's
 * name gets "_total" appended unless it ends in it. NULL and errno set
 * (EINVAL, EEXIST, ENOMEM) on failure.
 */
struct metric_family *metrics__counter(struct metrics_registry *r, const char *name,
				       const char *help, unsigned int nlabels,
				       const char *const *labels);
struct metric_family *metrics__gauge(struct metrics_registry *r, const char *name, const char *help,
				     unsigned int nlabels, const char *const *labels);
struct metric_family *metrics__histogram(struct metrics_registry *r, const char *name,
					 const char *help, unsigned int nlabels,
					 const char *const *labels, unsigned int nbounds,
					 const double *bounds);

bool metrics_valid_name(const char *s);
bool metrics_valid_label(const char *s);

/* Take the registry's lock around a refill (and the exporter's render). */
void metrics__update_begin(struct metrics_registry *r);
void metrics__update_end(struct metrics_registry *r);

/*
 * Set a series' value, creating the series on first use. @values has the
 * family's nlabels label values (any bytes; escaped when rendered).
 * 0, -E2BIG (cardinality bound reached: counted), -EINVAL, -ENOMEM.
 */
int metric__set(struct metric_family *f, const char *const *values, double v);
int metric__add(struct metric_family *f, const char *const *values, double v);
/* @counts: nbounds + 1 non-cumulative counts; _count is their sum. */
int metric__hist_set(struct metric_family *f, const char *const *values, const uint64_t *counts,
		     double sum);

/*
 * Upper bounds of stat's log2 layout for integer values: bucket 0 holds
 * negatives (le -1), bucket 1 zero (le 0), bucket 2 + k [2^k, 2^(k+1))
 * (le 2^(k+1) - 1, exact for integers). Writes min(n, 65) bounds; the
 * caller's last bucket count goes to +Inf. Returns the number written.
 */
unsigned int metrics_log2_bounds(double *bounds, unsigned int n);

#endif
