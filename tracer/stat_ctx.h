/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The state `usdtkit stat` keeps, shared by its three parts:
 *  - stat.c: the command (options, the session);
 *  - stat_maps.c: the BPF object (load, per-probe configuration, reading
 *    the maps into snapshots);
 *  - stat_print.c: what is printed (per-interval views, labels, text and
 *    JSON).
 * Only summaries cross from the kernel: stat.bpf.c aggregates into per-CPU
 * maps that are never reset; each print shows the difference from the
 * previous snapshot (or, with --cumulative, the totals), so an interval
 * loses no hit to a read/reset race. The one exception is the exact
 * latency maximum, which cannot be differenced and is zeroed per interval.
 */
#ifndef USDTKIT_TRACER_STAT_CTX_H
#define USDTKIT_TRACER_STAT_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "json.h"
#include "session.h"
#include "stat.h"

#define STAT_DEFAULT_MAX_KEYS 10240

struct stat_opts {
	bool json;
	bool cumulative;
	double interval;
	int mode; /* enum stat_mode */
	int by; /* enum stat_by */
	const char *arg; /* --by/--hist/--lhist ARG, --match ARG */
	int64_t lmin, lmax, lstep;
	const char *lat_start, *lat_end;
	const char *match; /* --match ARG */
	const char *unit;
	uint64_t unit_div;
	uint32_t max_keys;
	uint32_t top;
	unsigned int ustack_depth; /* --by ustack[=DEPTH] */
	bool folded; /* --folded: --by ustack as folded stacks */
};

/* What we decided for one probe (mirrors struct stat_probe_cfg). */
struct probe_info {
	struct stat_probe_cfg cfg;
	enum usdt_type type; /* of the selected argument */
	char argname[USDT_ARG_NAME_MAX + 8];
	char *label; /* provider:name, or object:provider:name when ambiguous */
};

struct key_count {
	struct stat_key key;
	uint64_t count;
};

struct snapshot {
	uint64_t *counts; /* per location */
	uint64_t *hist; /* per probe * nbuckets */
	struct key_count *keys;
	size_t nkeys, keys_cap;
	uint64_t lat[HIST_LAT_BUCKETS];
	uint64_t lat_sum, lat_max;
	uint64_t counters[STAT_CNT__MAX];
};

struct stat_bpf;
struct stat_ustack;
struct stat_export;

struct stat_ctx {
	struct stat_opts o;
	struct session *s;
	struct engine *eng; /* s->eng */
	struct stat_bpf *skel;
	int ncpu;
	uint64_t *pcpu; /* one per-CPU value buffer */
	size_t loc_cap, probe_cap;
	uint32_t nbuckets;
	/* the "counts" and "hist" maps mapped: ncpu rows of loc_cap / probe_cap * nbuckets */
	const uint64_t *counts_rows, *hist_rows;
	size_t counts_len, hist_len; /* bytes mapped */
	struct probe_info *probes;
	size_t nprobes; /* configured so far */
	struct snapshot prev, cur;
	struct json_writer jw;
	FILE *out;
	uint64_t last_print_ns;
	struct stat_ustack *us; /* --by ustack (stat_ustack.c) */
	struct stat_export *x; /* --prometheus, --otlp, ... (stat_export.c); NULL: none */
};

/* stat_maps.c */
/*
 * Sizes the maps for the session's locations, loads, and configures the
 * probes found: the number of aggregated probes, or a negative errno.
 */
int stat_maps__load(struct stat_ctx *c);
/* The program that is attached (counting or argument aggregation). */
struct bpf_program *stat_maps__prog(const struct stat_ctx *c);
int stat_maps__locs_fd(const struct stat_ctx *c);
/*
 * Decides what the BPF program does at the probes found since the last
 * call and stores it in "pcfg". Returns the number of probes aggregated
 * (not just counted), or a negative errno.
 */
int stat_maps__configure(struct stat_ctx *c);
/* Reads every map into c->cur. */
int stat_maps__read(struct stat_ctx *c);
/* Counter @which (enum stat_counter) summed over the CPUs; 0 if unreadable. */
uint64_t stat_maps__counter(struct stat_ctx *c, uint32_t which);
/* The count of key @k in an earlier snapshot (0 if absent). */
uint64_t stat_maps__prev_count(const struct snapshot *prev, const struct stat_key *k);
void stat_maps__free(struct stat_ctx *c);

/* stat_ustack.c: --by ustack */
#define USTACK_PIDS 4096 /* processes remembered as announced (stat.bpf.c: ustack_pids) */
#define USTACK_NEW_RING (64 * 1024) /* their announcements: 4 096 pending at 16 bytes each */
/* --by ARG: 1 and sets @o when ARG is ustack[=DEPTH], 0 when not, -1 bad (printed). */
int stat_ustack__parse_by(struct stat_opts *o, const char *arg);
/* --by ustack with options it cannot serve (--filter, an exporter): EXIT_USAGE (printed), else 0. */
struct filter_set;
int stat_ustack__check(const struct stat_ctx *c, const struct filter_set *filters);
/* After the load: sizes nothing, starts the symbolizer (and reads -p's maps). */
int stat_ustack__init(struct stat_ctx *c);
/*
 * Waits up to @timeout_ms for processes with their first stack counted and
 * snapshots each at once (their mappings, while they run); also snapshots
 * any seen in the stack counts since the last call (rate-limited). 0 or a
 * negative errno (printed).
 */
int stat_ustack__wait(struct stat_ctx *c, int timeout_ms);
/* Reads the stack counts and prints them: text, JSON or --folded. 0 or -errno (printed). */
int stat_ustack__print(struct stat_ctx *c, bool final);
void stat_ustack__free(struct stat_ctx *c);

/* stat_print.c */
/*
 * Key @k as text: quoted strings for the summaries, or (@label) the raw
 * string for a Prometheus label value (the exporter escapes it).
 */
void stat_print__key(const struct stat_ctx *c, const struct stat_key *k, bool label, char *buf,
		     size_t size);
/* Reads, prints (text or JSON) and advances the interval base. 0 or -errno (printed). */
int stat_print(struct stat_ctx *c, bool final);

#endif
