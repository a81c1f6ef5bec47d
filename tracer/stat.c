// SPDX-License-Identifier: MIT
/*
 * usdtkit stat: in-kernel aggregation of USDT probe hits — counts per probe
 * (optionally per pid, tid or argument value), log2 and linear histograms
 * of an argument, and latency between a start and an end probe.
 *
 * Only summaries cross to user space. stat.bpf.c aggregates into per-CPU
 * maps; we read them when printing and never reset them: each print shows
 * the difference from the previous snapshot (or, with --cumulative, the
 * totals), so an interval loses no hit to a read/reset race. The one
 * exception is the exact latency maximum, which cannot be differenced and is
 * zeroed after each interval print.
 *
 * Plain counting loads a minimal non-sleepable program (a per-CPU
 * increment selected by the BPF cookie) so its per-hit cost stays at the
 * uprobe floor; every other mode loads a sleepable program that evaluates
 * arguments with the shared argument engine (engine.h, fetch.bpf.h), so it
 * decodes exactly what `usdtkit trace` decodes.
 *
 * Targets are trace's (target.c): PATH in the PROBE, -p PID (rescanned for
 * objects it maps later), -c CMD (attached before the command runs, ended
 * if still running when we stop).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "engine.h"
#include "json.h"
#include "kernel_features.h"
#include "stat.h"
#include "stat.skel.h"
#include "target.h"

#define POLL_MS 20 /* target exit and new objects are noticed within this */
#define DEFAULT_MAX_KEYS 10240
#define TARGET_EXTRA_LOCS 4096 /* -p/-c: room for objects mapped later */
#define TARGET_EXTRA_PROBES 64
#define BAR_WIDTH 52

struct stat_opts {
	struct target_opts tg; /* -p -c -w -v --args */
	bool json;
	bool cumulative;
	double interval;
	double duration;
	int mode; /* enum stat_mode */
	int by; /* enum stat_by */
	const char *arg; /* --by/--hist/--lhist ARG, --match ARG */
	int64_t lmin, lmax, lstep;
	const char *lat_start, *lat_end;
	const char *match; /* --match ARG */
	const char *unit;
	const char *outpath;
	uint64_t unit_div;
	uint32_t max_keys;
	uint32_t top;
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
	uint64_t lat[STAT_LAT_BUCKETS];
	uint64_t lat_sum, lat_max;
	uint64_t counters[STAT_CNT__MAX];
};

struct stat_ctx {
	struct stat_opts o;
	struct engine *eng;
	struct stat_bpf *skel;
	int ncpu;
	uint64_t *pcpu; /* one per-CPU value buffer */
	size_t loc_cap, probe_cap;
	uint32_t nbuckets;
	struct probe_info *probes;
	size_t nprobes; /* configured so far */
	struct snapshot prev, cur;
	struct json_writer jw;
	FILE *out;
	uint64_t start_ns, last_print_ns;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usdtkit stat [OPTIONS] PROBE...\n"
		"       usdtkit stat [OPTIONS] --latency START_PROBE,END_PROBE\n"
		"\n"
		"Aggregate USDT probe hits in the kernel and print summaries: counts per\n"
		"probe (default), per key, histograms of an argument, latency between two\n"
		"probes. PROBE is [PATH:]PROVIDER:NAME with shell globs, as for trace.\n"
		"\n"
		"targets (as trace):\n"
		"  -p, --pid PID          that process only (rescanned for objects loaded later)\n"
		"  -c, --command 'CMD'    start CMD, attach before it runs; print and exit\n"
		"                         when it exits; if we stop first (-d, Ctrl-C), CMD\n"
		"                         gets SIGTERM (SIGKILL 2 s later) and is reaped\n"
		"  -w, --wait             -p: a PROBE may match nothing yet (implied by -c)\n"
		"      --args 'PROVIDER:NAME=[name:]type,...'\n"
		"                         declare argument names/types (i8..u64 f64 str ptr)\n"
		"\n"
		"what to aggregate (ARG is an argument name or argN, N from 0):\n"
		"  (none)                 hits per probe\n"
		"      --by pid|tid|ARG   hits per probe and process, thread or argument\n"
		"                         value (str arguments: by string, first %d bytes)\n"
		"      --hist ARG         log2 histogram of an integer argument, per probe\n"
		"      --lhist ARG,MIN,MAX,STEP\n"
		"                         linear histogram: [MIN, MAX) in STEP-wide buckets,\n"
		"                         plus one bucket below MIN and one at/above MAX\n"
		"      --latency START,END\n"
		"                         time from START_PROBE to END_PROBE, per thread:\n"
		"                         log2 histogram with count, avg, p50/p90/p99\n"
		"                         (estimated from finer buckets, within 12.5%%) and\n"
		"                         the exact max\n"
		"      --match ARG        --latency: pair START and END by an argument's\n"
		"                         value (a request id) within a process, not by thread\n"
		"      --unit ns|us|ms    --latency unit (default us)\n"
		"\n"
		"output:\n"
		"  -i, --interval SEC     print every SEC seconds what happened since the\n"
		"                         previous print (and at exit)\n"
		"      --cumulative       -i: print totals since the start instead\n"
		"  -d, --duration SEC     stop after SEC seconds\n"
		"  -j, --json             one JSON object per print (docs/usdtkit-stat.md)\n"
		"  -o, --output FILE      write the summaries to FILE instead of stdout\n"
		"      --top N            --by: print the N most frequent keys per probe\n"
		"      --max-keys N       --by/--latency: distinct keys kept in the kernel\n"
		"                         (default %d)\n"
		"  -v, --verbose          libbpf and engine diagnostics on stderr\n"
		"  -h, --help             this help\n"
		"\n"
		"Ctrl-C, --duration or the end of the target prints the summary and exits 0.\n"
		"\n"
		"examples:\n"
		"  usdtkit stat -p 1234 'myapp:*'\n"
		"  usdtkit stat ./server:http:request --by path -i 1\n"
		"  usdtkit stat -p 1234 myapp:alloc --hist size\n"
		"  usdtkit stat -c ./bench 'app:batch' --lhist n,0,100,10\n"
		"  usdtkit stat -p 1234 --latency app:request__start,app:request__done\n"
		"  usdtkit stat -p 1234 --latency app:req_start,app:req_done --match id --unit ms\n"
		"  usdtkit stat /usr/bin/myapp:myapp:tick --args 'myapp:tick=n:i64' --hist n -j\n"
		"\n"
		"Needs CAP_BPF and CAP_PERFMON (or root).\n",
		STAT_KEY_STR - 1, DEFAULT_MAX_KEYS);
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

/* --lhist ARG,MIN,MAX,STEP */
static int parse_lhist(char *s, struct stat_opts *o)
{
	uint64_t range;
	char *p[4];
	int n = 0;

	for (char *tok = s; n < 4; n++) {
		p[n] = tok;
		tok = strchr(tok, ',');
		if (!tok)
			break;
		*tok++ = 0;
	}
	if (n != 3 || !*p[0] || parse_i64(p[1], &o->lmin) || parse_i64(p[2], &o->lmax) ||
	    parse_i64(p[3], &o->lstep))
		return -1;
	if (o->lstep <= 0 || o->lmax <= o->lmin)
		return -1;
	/* in uint64_t: lmax - lmin may not fit in int64_t */
	range = (uint64_t)o->lmax - (uint64_t)o->lmin;
	if (range / o->lstep + !!(range % o->lstep) > STAT_LHIST_MAX_BUCKETS - 2)
		return -2;
	o->arg = p[0];
	return 0;
}

static int parse_seconds(const char *s, double *v)
{
	char *end;

	*v = strtod(s, &end);
	return end == s || *end || !(*v > 0) || *v > 1e9 ? -1 : 0;
}

/* --- probe configuration ------------------------------------------------ */

/* Index of argument @want ("name", "argN" or "N") of @p, or -1. */
static int resolve_arg(const struct engine_probe *p, const char *want)
{
	const char *num = want;
	char nb[16], *end;
	long i;

	for (int a = 0; a < p->nargs && a < FETCH_MAX_ARGS; a++)
		if (!strcmp(engine__arg_name(p, a, nb, sizeof(nb)), want))
			return a;
	if (!strncmp(num, "arg", 3))
		num += 3;
	if (*num < '0' || *num > '9')
		return -1;
	i = strtol(num, &end, 10);
	return *end || i >= p->nargs ? -1 : (int)i;
}

static const struct engine_loc *first_loc(const struct engine *eng, size_t probe_id)
{
	for (size_t i = 0; i < engine__loc_count(eng); i++) {
		const struct engine_loc *l = engine__loc(eng, i);

		if (l->probe_id == probe_id)
			return l;
	}
	return NULL;
}

/* Type of argument @a: metadata/--args, else the spec's size and sign. */
static enum usdt_type arg_type(const struct engine *eng, size_t probe_id,
			       const struct engine_probe *p, int a)
{
	const struct engine_loc *l = first_loc(eng, probe_id);

	if (p->typed && p->meta[a].type != USDT_TYPE_NONE)
		return p->meta[a].type;
	return l ? engine__fetch_type(&l->spec.args[a]) : USDT_TYPE_INT64;
}

/* False when the engine could not compile argument @a at a location of the probe. */
static bool fetchable(const struct engine *eng, size_t probe_id, int a)
{
	for (size_t i = 0; i < engine__loc_count(eng); i++) {
		const struct engine_loc *l = engine__loc(eng, i);

		if (l->probe_id == probe_id && l->unsupported[a])
			return false;
	}
	return true;
}

static bool type_signed(enum usdt_type t)
{
	return t == USDT_TYPE_INT8 || t == USDT_TYPE_INT16 || t == USDT_TYPE_INT32 ||
	       t == USDT_TYPE_INT64;
}

static const char *label_of(struct stat_ctx *s, size_t i)
{
	return s->probes[i].label;
}

/* Labels are provider:name unless that is ambiguous (several objects). */
static int relabel(struct stat_ctx *s)
{
	size_t n = s->nprobes;

	for (size_t i = 0; i < n; i++) {
		const struct engine_probe *p = engine__probe(s->eng, i);
		bool dup = false;
		char *l;

		for (size_t j = 0; j < n && !dup; j++) {
			const struct engine_probe *q = engine__probe(s->eng, j);

			dup = j != i && !strcmp(p->provider, q->provider) &&
			      !strcmp(p->name, q->name);
		}
		if ((dup ? asprintf(&l, "%s:%s:%s", p->object, p->provider, p->name)
			 : asprintf(&l, "%s:%s", p->provider, p->name)) < 0)
			return -ENOMEM;
		free(s->probes[i].label);
		s->probes[i].label = l;
	}
	return 0;
}

/*
 * Decides what the BPF program does at the probes found since the last
 * call and stores it in "pcfg". Returns the number of probes that are
 * aggregated (not just counted), or a negative errno.
 */
static int configure_probes(struct stat_ctx *s)
{
	size_t n = engine__probe_count(s->eng);
	int pcfg_fd = bpf_map__fd(s->skel->maps.pcfg), valid = 0;
	struct probe_info *np;

	if (n <= s->nprobes)
		return 0;
	np = realloc(s->probes, n * sizeof(*np));
	if (!np)
		return -ENOMEM;
	s->probes = np;
	for (size_t i = s->nprobes; i < n; i++) {
		const struct engine_probe *p = engine__probe(s->eng, i);
		struct probe_info *pi = &s->probes[i];
		const char *why = NULL;
		bool not_arg = false;
		char nb[16];
		int a = -1;

		memset(pi, 0, sizeof(*pi));
		pi->type = USDT_TYPE_NONE;
		switch (s->o.mode) {
		case STAT_MODE_COUNT:
			break;
		case STAT_MODE_BY:
			if (s->o.by != STAT_BY_ARG) {
				pi->cfg.valid = 1;
				break;
			}
			/* fallthrough */
		case STAT_MODE_HIST:
		case STAT_MODE_LHIST:
			a = resolve_arg(p, s->o.arg);
			if (a < 0) {
				why = "does not exist";
				break;
			}
			pi->type = arg_type(s->eng, i, p, a);
			if (s->o.mode != STAT_MODE_BY &&
			    (pi->type == USDT_TYPE_STRING || pi->type == USDT_TYPE_DOUBLE)) {
				why = "is not an integer";
				break;
			}
			pi->cfg.is_str = pi->type == USDT_TYPE_STRING;
			pi->cfg.valid = 1;
			break;
		case STAT_MODE_LATENCY:
			/* the start PROBE is spec 0, the end PROBE spec 1 (engine_setup) */
			if (engine__probe_matched_by(s->eng, i, 0))
				pi->cfg.role |= STAT_ROLE_START;
			if (engine__probe_matched_by(s->eng, i, 1))
				pi->cfg.role |= STAT_ROLE_END;
			if (pi->cfg.role == (STAT_ROLE_START | STAT_ROLE_END)) {
				why = "matches both the start and the end PROBE";
				not_arg = true;
				break;
			}
			if (s->o.arg) {
				a = resolve_arg(p, s->o.arg);
				if (a < 0) {
					why = "does not exist";
					break;
				}
				pi->type = arg_type(s->eng, i, p, a);
				if (pi->type == USDT_TYPE_STRING || pi->type == USDT_TYPE_DOUBLE) {
					why = "is not an integer";
					break;
				}
			}
			pi->cfg.valid = pi->cfg.role != 0;
			break;
		}
		if (a >= 0 && !why && !fetchable(s->eng, i, a))
			why = "cannot be fetched at some locations (see the warnings above)";
		if (a >= 0) {
			pi->cfg.arg = a;
			pi->cfg.is_signed = type_signed(pi->type);
			snprintf(pi->argname, sizeof(pi->argname), "%s",
				 engine__arg_name(p, a, nb, sizeof(nb)));
		}
		if (why) {
			memset(&pi->cfg, 0, sizeof(pi->cfg));
			fprintf(stderr, "usdtkit stat: %s:%s: %s%s%s%s: %s\n", p->provider, p->name,
				not_arg ? "" : "argument '", not_arg ? "" : s->o.arg,
				not_arg ? "" : "' ", why,
				s->o.mode == STAT_MODE_LATENCY ? "ignored" : "only counted");
		}
		if (pi->cfg.valid)
			valid++;
		if (s->o.mode != STAT_MODE_COUNT) {
			__u32 key = i;

			if (i >= s->probe_cap) {
				if (pi->cfg.valid)
					fprintf(stderr,
						"usdtkit stat: %s:%s: too many probes found after "
						"start: only counted\n",
						p->provider, p->name);
				pi->cfg.valid = 0;
			} else if (bpf_map_update_elem(pcfg_fd, &key, &pi->cfg, BPF_ANY)) {
				return -errno;
			}
		}
	}
	s->nprobes = n;
	if (relabel(s))
		return -ENOMEM;
	return valid;
}

/* --- reading the maps --------------------------------------------------- */

static uint64_t pcpu_sum(struct stat_ctx *s, int fd, const void *key)
{
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(fd, key, s->pcpu))
		return 0;
	for (int c = 0; c < s->ncpu; c++)
		sum += s->pcpu[c];
	return sum;
}

static uint64_t pcpu_max(struct stat_ctx *s, int fd, const void *key)
{
	uint64_t max = 0;

	if (bpf_map_lookup_elem(fd, key, s->pcpu))
		return 0;
	for (int c = 0; c < s->ncpu; c++)
		if (s->pcpu[c] > max)
			max = s->pcpu[c];
	return max;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct key_count *)a)->key, &((const struct key_count *)b)->key,
		      sizeof(struct stat_key));
}

static int read_keys(struct stat_ctx *s, struct snapshot *snap)
{
	int fd = bpf_map__fd(s->skel->maps.keys);
	struct stat_key k, next;
	size_t cap = snap->keys_cap;
	bool first = true;

	snap->nkeys = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (snap->nkeys == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			void *nk = realloc(snap->keys, ncap * sizeof(*snap->keys));

			if (!nk)
				return -ENOMEM;
			snap->keys = nk;
			snap->keys_cap = cap = ncap;
		}
		snap->keys[snap->nkeys].key = k;
		snap->keys[snap->nkeys].count = pcpu_sum(s, fd, &k);
		snap->nkeys++;
	}
	qsort(snap->keys, snap->nkeys, sizeof(*snap->keys), key_cmp);
	return 0;
}

/* Reads every map into s->cur. */
static int read_snapshot(struct stat_ctx *s)
{
	struct snapshot *c = &s->cur;
	struct stat_bpf *sk = s->skel;
	size_t nlocs = engine__loc_count(s->eng);

	for (__u32 i = 0; i < s->loc_cap && i < nlocs; i++)
		c->counts[i] = pcpu_sum(s, bpf_map__fd(sk->maps.counts), &i);
	for (__u32 i = 0; i < STAT_CNT__MAX; i++)
		c->counters[i] = pcpu_sum(s, bpf_map__fd(sk->maps.counters), &i);
	switch (s->o.mode) {
	case STAT_MODE_BY:
		return read_keys(s, c);
	case STAT_MODE_HIST:
	case STAT_MODE_LHIST:
		for (size_t p = 0; p < s->nprobes && p < s->probe_cap; p++) {
			if (!s->probes[p].cfg.valid)
				continue;
			for (__u32 b = 0; b < s->nbuckets; b++) {
				__u32 key = p * s->nbuckets + b;

				c->hist[key] = pcpu_sum(s, bpf_map__fd(sk->maps.hist), &key);
			}
		}
		break;
	case STAT_MODE_LATENCY: {
		__u32 key;

		for (key = 0; key < STAT_LAT_BUCKETS; key++)
			c->lat[key] = pcpu_sum(s, bpf_map__fd(sk->maps.lat_hist), &key);
		key = STAT_LAT_SUM;
		c->lat_sum = pcpu_sum(s, bpf_map__fd(sk->maps.lat_stats), &key);
		key = STAT_LAT_MAX;
		c->lat_max = pcpu_max(s, bpf_map__fd(sk->maps.lat_stats), &key);
		if (!s->o.cumulative && s->o.interval > 0) {
			/* the max of the next interval starts from zero */
			memset(s->pcpu, 0, s->ncpu * sizeof(*s->pcpu));
			bpf_map_update_elem(bpf_map__fd(sk->maps.lat_stats), &key, s->pcpu,
					    BPF_ANY);
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

static uint64_t prev_key_count(const struct snapshot *prev, const struct stat_key *k)
{
	struct key_count probe, *hit;

	if (!prev->nkeys)
		return 0;
	probe.key = *k;
	hit = bsearch(&probe, prev->keys, prev->nkeys, sizeof(*prev->keys), key_cmp);
	return hit ? hit->count : 0;
}

/* --- formatting --------------------------------------------------------- */

/* 2^e with a binary suffix, like bpftrace: 1, 2, ... 512, 1K, ... 16E. */
static void fmt_pow2(char *buf, size_t size, unsigned int e)
{
	static const char sfx[] = " KMGTPE";

	if (e / 10 == 0)
		snprintf(buf, size, "%u", 1u << e);
	else
		snprintf(buf, size, "%u%c", 1u << (e % 10), sfx[e / 10]);
}

/* Label of log2 bucket @b (numbering in stat.h), bpftrace style. */
static void log2_label(char *buf, size_t size, uint32_t b)
{
	char lo[16], hi[16];

	if (b == 0) {
		snprintf(buf, size, "(..., 0)");
	} else if (b == 1) {
		snprintf(buf, size, "[0]");
	} else if (b == 2) {
		snprintf(buf, size, "[1]");
	} else {
		fmt_pow2(lo, sizeof(lo), b - 2);
		fmt_pow2(hi, sizeof(hi), b - 1);
		snprintf(buf, size, "[%s, %s)", lo, hi);
	}
}

static void log2_bounds(uint32_t b, bool *has_lo, int64_t *lo, bool *has_hi, uint64_t *hi)
{
	*has_lo = b > 0;
	*has_hi = b < 65;
	*lo = b == 0 ? 0 : b == 1 ? 0 : (int64_t)(1ull << (b - 2));
	*hi = b == 0 ? 0 : b == 1 ? 1 : b < 65 ? 1ull << (b - 1) : 0;
	if (b == 65) /* [2^63, 2^64): lo does not fit a signed value */
		*lo = INT64_MIN;
}

static int64_t lin_lo(const struct stat_opts *o, uint32_t b)
{
	return o->lmin + (int64_t)(b - 1) * o->lstep;
}

static int64_t lin_hi(const struct stat_opts *o, uint32_t b)
{
	int64_t lo = lin_lo(o, b);

	return (uint64_t)o->lmax - (uint64_t)lo <= (uint64_t)o->lstep ? o->lmax : lo + o->lstep;
}

static void lin_label(const struct stat_opts *o, uint32_t nb, char *buf, size_t size, uint32_t b)
{
	if (b == 0)
		snprintf(buf, size, "(..., %" PRId64 ")", o->lmin);
	else if (b == nb - 1)
		snprintf(buf, size, "[%" PRId64 ", ...)", o->lmax);
	else
		snprintf(buf, size, "[%" PRId64 ", %" PRId64 ")", lin_lo(o, b), lin_hi(o, b));
}

/* Draws rows @first..@last of a histogram: label, count, bar (bpftrace's layout). */
static void draw_rows(FILE *out, char (*labels)[48], const uint64_t *cnt, size_t first, size_t last)
{
	uint64_t max = 0;
	int width = 0;

	for (size_t b = first; b <= last; b++) {
		int w = strlen(labels[b]);

		if (cnt[b] > max)
			max = cnt[b];
		if (w > width)
			width = w;
	}
	for (size_t b = first; b <= last; b++) {
		int bar = max ? (int)(cnt[b] * BAR_WIDTH / max) : 0;

		fprintf(out, "%-*s %10" PRIu64 " |", width, labels[b], cnt[b]);
		for (int i = 0; i < BAR_WIDTH; i++)
			fputc(i < bar ? '@' : ' ', out);
		fputs("|\n", out);
	}
}

/* Rows between the first and last non-empty buckets; false when all are empty. */
static bool hist_range(const uint64_t *cnt, size_t n, size_t *first, size_t *last)
{
	bool any = false;

	for (size_t b = 0; b < n; b++) {
		if (!cnt[b])
			continue;
		if (!any)
			*first = b;
		*last = b;
		any = true;
	}
	return any;
}

/* Lower/upper bound (in the unit) of latency bucket @b. */
static void lat_bounds(uint32_t b, double *lo, double *hi)
{
	uint32_t msb, sub;
	double scale;

	if (b < STAT_LAT_SUB) {
		*lo = b;
		*hi = b + 1;
		return;
	}
	msb = b / STAT_LAT_SUB + STAT_LAT_SUB_SHIFT - 1;
	sub = b % STAT_LAT_SUB;
	scale = (double)(1ull << (msb - STAT_LAT_SUB_SHIFT));
	*lo = (STAT_LAT_SUB + sub) * scale;
	*hi = (STAT_LAT_SUB + sub + 1) * scale;
}

/* log2 row (stat.h numbering, never the negative row) of latency bucket @b. */
static uint32_t lat_row(uint32_t b)
{
	uint32_t r = 0;

	if (b >= STAT_LAT_SUB)
		return 2 + b / STAT_LAT_SUB + STAT_LAT_SUB_SHIFT - 1;
	if (b == 0)
		return 1;
	while (b >> (r + 1))
		r++;
	return 2 + r;
}

struct lat_summary {
	uint64_t count;
	double avg, p50, p90, p99, max;
};

/* Percentile @pct of @lat: linear interpolation inside the bucket holding that rank. */
static double lat_percentile(const uint64_t *lat, uint64_t count, uint64_t pct, double max)
{
	uint64_t rank = (pct * count + 99) / 100, cum = 0;
	double lo, hi, v;

	if (!count)
		return 0;
	if (rank < 1)
		rank = 1;
	for (uint32_t b = 0; b < STAT_LAT_BUCKETS; b++) {
		if (!lat[b])
			continue;
		if (cum + lat[b] >= rank) {
			lat_bounds(b, &lo, &hi);
			if (b < STAT_LAT_SUB)
				v = lo; /* exact */
			else
				v = lo + (hi - lo) * (double)(rank - cum) / lat[b];
			return v > max ? max : v;
		}
		cum += lat[b];
	}
	return max;
}

static void lat_summarize(const struct stat_ctx *s, const uint64_t *lat, uint64_t sum,
			  uint64_t max_ns, struct lat_summary *r)
{
	r->count = 0;
	for (uint32_t b = 0; b < STAT_LAT_BUCKETS; b++)
		r->count += lat[b];
	r->max = (double)max_ns / s->o.unit_div;
	r->avg = r->count ? (double)sum / r->count : 0;
	r->p50 = lat_percentile(lat, r->count, 50, r->max);
	r->p90 = lat_percentile(lat, r->count, 90, r->max);
	r->p99 = lat_percentile(lat, r->count, 99, r->max);
}

/* --- printing ----------------------------------------------------------- */

struct view {
	uint64_t *counts; /* per probe */
	uint64_t *hist; /* per probe * nbuckets */
	struct key_count *keys;
	size_t nkeys;
	uint64_t lat[STAT_LAT_BUCKETS];
	uint64_t lat_sum, lat_max;
	uint64_t counters[STAT_CNT__MAX];
};

static uint64_t diff(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

static int key_count_desc(const void *a, const void *b)
{
	const struct key_count *x = a, *y = b;

	if (x->key.probe_id != y->key.probe_id)
		return x->key.probe_id < y->key.probe_id ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* What to print: the current snapshot, minus the previous one unless cumulative. */
static int make_view(struct stat_ctx *s, struct view *v)
{
	const struct snapshot *c = &s->cur, *p = &s->prev;
	bool delta = !s->o.cumulative;
	size_t nlocs = engine__loc_count(s->eng);

	memset(v, 0, sizeof(*v));
	v->counts = calloc(s->nprobes ? s->nprobes : 1, sizeof(*v->counts));
	if (!v->counts)
		return -ENOMEM;
	for (size_t i = 0; i < nlocs && i < s->loc_cap; i++) {
		const struct engine_loc *l = engine__loc(s->eng, i);

		if (l->probe_id < s->nprobes)
			v->counts[l->probe_id] +=
				delta ? diff(c->counts[i], p->counts[i]) : c->counts[i];
	}
	for (int i = 0; i < STAT_CNT__MAX; i++)
		v->counters[i] = delta ? diff(c->counters[i], p->counters[i]) : c->counters[i];
	if (s->o.mode == STAT_MODE_HIST || s->o.mode == STAT_MODE_LHIST) {
		size_t n = s->probe_cap * s->nbuckets;

		v->hist = calloc(n, sizeof(*v->hist));
		if (!v->hist)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			v->hist[i] = delta ? diff(c->hist[i], p->hist[i]) : c->hist[i];
	}
	if (s->o.mode == STAT_MODE_BY && c->nkeys) {
		v->keys = calloc(c->nkeys, sizeof(*v->keys));
		if (!v->keys)
			return -ENOMEM;
		for (size_t i = 0; i < c->nkeys; i++) {
			uint64_t n = c->keys[i].count;

			if (delta)
				n = diff(n, prev_key_count(p, &c->keys[i].key));
			if (!n)
				continue;
			v->keys[v->nkeys].key = c->keys[i].key;
			v->keys[v->nkeys++].count = n;
		}
		qsort(v->keys, v->nkeys, sizeof(*v->keys), key_count_desc);
	}
	if (s->o.mode == STAT_MODE_LATENCY) {
		for (int b = 0; b < STAT_LAT_BUCKETS; b++)
			v->lat[b] = delta ? diff(c->lat[b], p->lat[b]) : c->lat[b];
		v->lat_sum = delta ? diff(c->lat_sum, p->lat_sum) : c->lat_sum;
		v->lat_max = c->lat_max;
	}
	return 0;
}

static void view_free(struct view *v)
{
	free(v->counts);
	free(v->hist);
	free(v->keys);
}

static const char *by_name(const struct stat_ctx *s, size_t probe)
{
	if (s->o.by == STAT_BY_PID)
		return "pid";
	if (s->o.by == STAT_BY_TID)
		return "tid";
	return s->probes[probe].argname;
}

static void fmt_key(const struct stat_ctx *s, const struct stat_key *k, char *buf, size_t size)
{
	const struct probe_info *pi = &s->probes[k->probe_id];
	double d;

	if (s->o.by != STAT_BY_ARG) {
		snprintf(buf, size, "%" PRIu64, (uint64_t)k->val);
		return;
	}
	switch (pi->type) {
	case USDT_TYPE_STRING:
		snprintf(buf, size, "\"%.*s\"", STAT_KEY_STR, k->str);
		break;
	case USDT_TYPE_POINTER:
		snprintf(buf, size, "0x%" PRIx64, (uint64_t)k->val);
		break;
	case USDT_TYPE_DOUBLE:
		memcpy(&d, &k->val, sizeof(d));
		json__format_double(buf, size, d);
		break;
	default:
		if (pi->cfg.is_signed)
			snprintf(buf, size, "%" PRId64, (int64_t)k->val);
		else
			snprintf(buf, size, "%" PRIu64, (uint64_t)k->val);
		break;
	}
}

static const char *lat_key_desc(const struct stat_ctx *s)
{
	return s->o.arg ? s->o.arg : "tid";
}

static void print_text(struct stat_ctx *s, const struct view *v, double elapsed, bool final)
{
	FILE *out = s->out;
	char(*labels)[48] = NULL;

	if (s->o.interval > 0) {
		time_t t = time(NULL);
		struct tm tm;
		char buf[32];

		localtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
		fprintf(out, "%s%s (%.3f s%s)\n", final ? "\n" : "", buf, elapsed,
			s->o.cumulative ? ", cumulative" : "");
	}
	switch (s->o.mode) {
	case STAT_MODE_COUNT: {
		int w = 5;

		for (size_t i = 0; i < s->nprobes; i++)
			if ((int)strlen(label_of(s, i)) > w)
				w = strlen(label_of(s, i));
		fprintf(out, "%-*s %12s\n", w, "PROBE", "COUNT");
		for (size_t i = 0; i < s->nprobes; i++)
			fprintf(out, "%-*s %12" PRIu64 "\n", w, label_of(s, i), v->counts[i]);
		break;
	}
	case STAT_MODE_BY: {
		size_t k = 0;

		for (size_t i = 0; i < s->nprobes; i++) {
			uint32_t shown = 0;
			char key[STAT_KEY_STR + 8];

			if (!s->probes[i].cfg.valid)
				continue;
			fprintf(out, "%s by %s (%" PRIu64 " hits)\n", label_of(s, i), by_name(s, i),
				v->counts[i]);
			while (k < v->nkeys && v->keys[k].key.probe_id < i)
				k++;
			for (; k < v->nkeys && v->keys[k].key.probe_id == i; k++) {
				if (s->o.top && shown++ >= s->o.top)
					continue;
				fmt_key(s, &v->keys[k].key, key, sizeof(key));
				fprintf(out, "  %-32s %12" PRIu64 "\n", key, v->keys[k].count);
			}
			if (s->o.top && shown > s->o.top)
				fprintf(out, "  (%u more keys)\n", shown - s->o.top);
		}
		break;
	}
	case STAT_MODE_HIST:
	case STAT_MODE_LHIST:
		labels = calloc(s->nbuckets, sizeof(*labels));
		if (!labels)
			break;
		for (uint32_t b = 0; b < s->nbuckets; b++) {
			if (s->o.mode == STAT_MODE_HIST)
				log2_label(labels[b], sizeof(labels[b]), b);
			else
				lin_label(&s->o, s->nbuckets, labels[b], sizeof(labels[b]), b);
		}
		for (size_t i = 0; i < s->nprobes && i < s->probe_cap; i++) {
			const uint64_t *cnt = v->hist + i * s->nbuckets;
			size_t first = 0, last = 0;

			if (!s->probes[i].cfg.valid)
				continue;
			fprintf(out, "%s %s%s (%" PRIu64 " hits):\n", label_of(s, i),
				s->o.mode == STAT_MODE_HIST ? "log2 " : "", s->probes[i].argname,
				v->counts[i]);
			if (hist_range(cnt, s->nbuckets, &first, &last))
				draw_rows(out, labels, cnt, first, last);
			fputc('\n', out);
		}
		break;
	case STAT_MODE_LATENCY: {
		uint64_t rows[STAT_LOG2_BUCKETS] = {0};
		struct lat_summary sum;
		size_t first = 0, last = 0;

		labels = calloc(STAT_LOG2_BUCKETS, sizeof(*labels));
		if (!labels)
			break;
		for (uint32_t b = 0; b < STAT_LOG2_BUCKETS; b++)
			log2_label(labels[b], sizeof(labels[b]), b);
		for (uint32_t b = 0; b < STAT_LAT_BUCKETS; b++)
			rows[lat_row(b)] += v->lat[b];
		lat_summarize(s, v->lat, v->lat_sum, v->lat_max, &sum);
		fprintf(out, "latency %s -> %s (by %s), %s:\n", s->o.lat_start, s->o.lat_end,
			lat_key_desc(s), s->o.unit);
		if (hist_range(rows, STAT_LOG2_BUCKETS, &first, &last))
			draw_rows(out, labels, rows, first, last);
		fprintf(out,
			"count %" PRIu64 "  avg %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f %s\n",
			sum.count, sum.avg, sum.p50, sum.p90, sum.p99, sum.max, s->o.unit);
		fprintf(out,
			"(p50/p90/p99 estimated from the histogram, within 12.5%%; max exact)\n");
		if (v->counters[STAT_CNT_NO_START])
			fprintf(out, "%" PRIu64 " end hits without a start\n",
				v->counters[STAT_CNT_NO_START]);
		break;
	}
	default:
		break;
	}
	free(labels);
	fflush(out);
}

static void json_bucket(struct json_writer *w, bool has_lo, int64_t lo, bool lo_unsigned,
			bool has_hi, uint64_t hi, bool hi_signed, uint64_t count)
{
	json__object_begin(w);
	json__key(w, "lo");
	if (!has_lo)
		json__null(w);
	else if (lo_unsigned)
		json__uint(w, (uint64_t)lo);
	else
		json__int(w, lo);
	json__key(w, "hi");
	if (!has_hi)
		json__null(w);
	else if (hi_signed)
		json__int(w, (int64_t)hi);
	else
		json__uint(w, hi);
	json__kv_uint(w, "count", count);
	json__object_end(w);
}

static void json_key_value(const struct stat_ctx *s, struct json_writer *w,
			   const struct stat_key *k)
{
	const struct probe_info *pi = &s->probes[k->probe_id];
	char buf[32];
	double d;

	if (s->o.by != STAT_BY_ARG) {
		json__uint(w, (uint64_t)k->val);
		return;
	}
	switch (pi->type) {
	case USDT_TYPE_STRING:
		json__string_len(w, k->str, strnlen(k->str, STAT_KEY_STR));
		break;
	case USDT_TYPE_POINTER:
		snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)k->val);
		json__string(w, buf);
		break;
	case USDT_TYPE_DOUBLE:
		memcpy(&d, &k->val, sizeof(d));
		json__double(w, d);
		break;
	default:
		if (pi->cfg.is_signed)
			json__int(w, (int64_t)k->val);
		else
			json__uint(w, (uint64_t)k->val);
		break;
	}
}

static const char *mode_name(int mode)
{
	static const char *const names[] = {"count", "by", "hist", "lhist", "latency"};

	return names[mode];
}

static void print_json(struct stat_ctx *s, const struct view *v, double elapsed, bool final)
{
	struct json_writer *w = &s->jw;
	size_t k = 0;

	json__object_begin(w);
	json__kv_string(w, "type", "stat");
	json__kv_string(w, "mode", mode_name(s->o.mode));
	json__kv_uint(w, "ts_ns", target__now_ns(CLOCK_REALTIME));
	json__key(w, "elapsed_s");
	json__double(w, elapsed);
	json__kv_bool(w, "cumulative", s->o.cumulative || s->o.interval <= 0);
	json__kv_bool(w, "final", final);
	if (s->o.mode != STAT_MODE_LATENCY) {
		json__key(w, "probes");
		json__array_begin(w);
		for (size_t i = 0; i < s->nprobes; i++) {
			const struct engine_probe *p = engine__probe(s->eng, i);
			const struct probe_info *pi = &s->probes[i];

			json__object_begin(w);
			json__kv_string(w, "provider", p->provider);
			json__kv_string(w, "name", p->name);
			json__kv_string(w, "object", p->object);
			json__kv_uint(w, "count", v->counts[i]);
			if (s->o.mode == STAT_MODE_BY && pi->cfg.valid) {
				uint32_t shown = 0;

				json__kv_string(w, "by", by_name(s, i));
				json__key(w, "keys");
				json__array_begin(w);
				while (k < v->nkeys && v->keys[k].key.probe_id < i)
					k++;
				for (; k < v->nkeys && v->keys[k].key.probe_id == i; k++) {
					if (s->o.top && shown++ >= s->o.top)
						continue;
					json__object_begin(w);
					json__key(w, "key");
					json_key_value(s, w, &v->keys[k].key);
					json__kv_uint(w, "count", v->keys[k].count);
					json__object_end(w);
				}
				json__array_end(w);
			}
			if ((s->o.mode == STAT_MODE_HIST || s->o.mode == STAT_MODE_LHIST) &&
			    pi->cfg.valid && i < s->probe_cap) {
				const uint64_t *cnt = v->hist + i * s->nbuckets;

				json__kv_string(w, "arg", pi->argname);
				json__kv_string(w, "hist",
						s->o.mode == STAT_MODE_HIST ? "log2" : "linear");
				json__key(w, "buckets");
				json__array_begin(w);
				for (uint32_t b = 0; b < s->nbuckets; b++) {
					bool hl, hh;
					int64_t lo;
					uint64_t hi;

					if (!cnt[b])
						continue;
					if (s->o.mode == STAT_MODE_HIST) {
						log2_bounds(b, &hl, &lo, &hh, &hi);
						json_bucket(w, hl, lo, b == 65, hh, hi, false,
							    cnt[b]);
						continue;
					}
					hl = b > 0;
					hh = b < s->nbuckets - 1;
					lo = b == 0		    ? 0
					     : b == s->nbuckets - 1 ? s->o.lmax
								    : lin_lo(&s->o, b);
					hi = b == 0 ? (uint64_t)s->o.lmin
					     : hh   ? (uint64_t)lin_hi(&s->o, b)
						    : 0;
					json_bucket(w, hl, lo, false, hh, hi, true, cnt[b]);
				}
				json__array_end(w);
			}
			json__object_end(w);
		}
		json__array_end(w);
	} else {
		struct lat_summary sum;

		lat_summarize(s, v->lat, v->lat_sum, v->lat_max, &sum);
		json__key(w, "latency");
		json__object_begin(w);
		json__kv_string(w, "start", s->o.lat_start);
		json__kv_string(w, "end", s->o.lat_end);
		json__kv_string(w, "key", lat_key_desc(s));
		json__kv_string(w, "unit", s->o.unit);
		json__kv_uint(w, "count", sum.count);
		json__key(w, "avg");
		json__double(w, sum.avg);
		json__key(w, "p50");
		json__double(w, sum.p50);
		json__key(w, "p90");
		json__double(w, sum.p90);
		json__key(w, "p99");
		json__double(w, sum.p99);
		json__key(w, "max");
		json__double(w, sum.max);
		json__kv_uint(w, "max_ns", v->lat_max);
		json__kv_bool(w, "percentiles_estimated", true);
		json__kv_uint(w, "unmatched_ends", v->counters[STAT_CNT_NO_START]);
		json__key(w, "buckets");
		json__array_begin(w);
		for (uint32_t b = 0; b < STAT_LAT_BUCKETS; b++) {
			double lo, hi;

			if (!v->lat[b])
				continue;
			lat_bounds(b, &lo, &hi);
			json_bucket(w, true, (int64_t)lo, false, hi < 1.8e19, (uint64_t)hi, false,
				    v->lat[b]);
		}
		json__array_end(w);
		json__object_end(w);
		json__key(w, "probes");
		json__array_begin(w);
		for (size_t i = 0; i < s->nprobes; i++) {
			const struct engine_probe *p = engine__probe(s->eng, i);
			uint8_t role = s->probes[i].cfg.role;

			json__object_begin(w);
			json__kv_string(w, "provider", p->provider);
			json__kv_string(w, "name", p->name);
			json__kv_string(w, "object", p->object);
			json__kv_string(w, "role",
					role & STAT_ROLE_START ? "start"
					: role & STAT_ROLE_END ? "end"
							       : "none");
			json__kv_uint(w, "count", v->counts[i]);
			json__object_end(w);
		}
		json__array_end(w);
	}
	json__kv_uint(w, "faults", v->counters[STAT_CNT_FAULT]);
	json__kv_uint(w, "keys_full", v->counters[STAT_CNT_KEYS_FULL]);
	json__object_end(w);
	json__newline(w);
	fflush(s->out);
}

static int print_stats(struct stat_ctx *s, bool final)
{
	uint64_t now = target__now_ns(CLOCK_MONOTONIC);
	double elapsed = (now - s->last_print_ns) / 1e9;
	struct snapshot tmp;
	struct view v;
	int err;

	err = read_snapshot(s);
	if (!err)
		err = make_view(s, &v);
	if (err) {
		fprintf(stderr, "usdtkit stat: reading the maps: %s\n", strerror(-err));
		return err;
	}
	if (s->o.cumulative)
		elapsed = (now - s->start_ns) / 1e9;
	if (s->o.json)
		print_json(s, &v, elapsed, final);
	else
		print_text(s, &v, elapsed, final);
	if (v.counters[STAT_CNT_FAULT])
		fprintf(stderr, "usdtkit stat: %" PRIu64 " hits whose argument could not be read\n",
			v.counters[STAT_CNT_FAULT]);
	if (v.counters[STAT_CNT_KEYS_FULL])
		fprintf(stderr,
			"usdtkit stat: %" PRIu64 " hits not keyed: key table full (--max-keys)\n",
			v.counters[STAT_CNT_KEYS_FULL]);
	if (v.counters[STAT_CNT_RANGE])
		fprintf(stderr, "usdtkit stat: %" PRIu64 " hits of probes found too late\n",
			v.counters[STAT_CNT_RANGE]);
	view_free(&v);
	s->last_print_ns = now;
	if (!s->o.cumulative) {
		/* the current snapshot becomes the base of the next interval */
		tmp = s->prev;
		s->prev = s->cur;
		s->cur = tmp;
	}
	return 0;
}

/* --- the command -------------------------------------------------------- */

/* Opens and loads the BPF object sized for the engine's locations. */
static int open_and_load(struct stat_ctx *s, bool multi)
{
	struct bpf_program *prog, *unused;
	int err;

	s->skel = stat_bpf__open();
	if (!s->skel)
		return -errno;
	s->skel->rodata->mode = s->o.mode;
	s->skel->rodata->by = s->o.by;
	s->skel->rodata->nbuckets = s->nbuckets;
	s->skel->rodata->lmin = s->o.lmin;
	s->skel->rodata->lmax = s->o.lmax;
	s->skel->rodata->lstep = s->o.lstep;
	s->skel->rodata->lat_match = s->o.arg && s->o.mode == STAT_MODE_LATENCY;
	s->skel->rodata->lat_div = s->o.unit_div;
	bpf_map__set_max_entries(s->skel->maps.locs, s->loc_cap);
	bpf_map__set_max_entries(s->skel->maps.counts, s->loc_cap);
	bpf_map__set_max_entries(s->skel->maps.pcfg, s->probe_cap);
	bpf_map__set_max_entries(s->skel->maps.hist, s->probe_cap * s->nbuckets);
	bpf_map__set_max_entries(s->skel->maps.keys, s->o.mode == STAT_MODE_BY ? s->o.max_keys : 1);
	bpf_map__set_max_entries(s->skel->maps.starts,
				 s->o.mode == STAT_MODE_LATENCY ? s->o.max_keys : 1);
	/* plain counting needs no argument: the minimal program keeps hits cheap */
	prog = s->skel->progs.stat_count;
	unused = s->skel->progs.stat_args;
	if (s->o.mode != STAT_MODE_COUNT) {
		prog = s->skel->progs.stat_args;
		unused = s->skel->progs.stat_count;
	}
	bpf_program__set_autoload(unused, false);
	if (multi)
		bpf_program__set_expected_attach_type(prog, ENGINE_ATTACH_UPROBE_MULTI);
	err = stat_bpf__load(s->skel);
	if (err && (errno == EPERM || errno == EACCES))
		err = -errno;
	return err;
}

static int set_mode(struct stat_opts *o, int mode)
{
	if (o->mode != STAT_MODE_COUNT && o->mode != mode) {
		fprintf(stderr,
			"usdtkit stat: --by, --hist, --lhist and --latency exclude each other\n");
		return -1;
	}
	o->mode = mode;
	return 0;
}

static void snapshot_free(struct snapshot *sn)
{
	free(sn->counts);
	free(sn->hist);
	free(sn->keys);
}

static int snapshot_alloc(struct stat_ctx *s, struct snapshot *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->counts = calloc(s->loc_cap, sizeof(*sn->counts));
	sn->hist = calloc(s->probe_cap * s->nbuckets, sizeof(*sn->hist));
	return sn->counts && sn->hist ? 0 : -ENOMEM;
}

#define WHO "usdtkit stat"

/* Adds the PROBEs and declarations to a new engine. */
static int engine_setup(struct stat_ctx *s, const struct engine_opts *eo, char **probes,
			size_t nprobes)
{
	int err = engine__new(eo, &s->eng);

	if (err)
		return EXIT_FAIL;
	for (size_t i = 0; i < nprobes; i++) {
		err = engine__add_probe(s->eng, probes[i]);
		if (err) {
			fprintf(stderr,
				"usdtkit stat: bad PROBE '%s' (want [PATH:]PROVIDER:NAME)\n",
				probes[i]);
			return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
		}
		if (!target_opts__probe_ok(&s->o.tg, WHO, probes[i]))
			return EXIT_USAGE;
	}
	for (size_t i = 0; i < s->o.tg.ndecls; i++) {
		if (engine__add_args_decl(s->eng, s->o.tg.decls[i])) {
			fprintf(stderr,
				"usdtkit stat: bad --args '%s' (want PROVIDER:NAME=[name:]type,...; at "
				"most %d)\n",
				s->o.tg.decls[i], FETCH_MAX_ARGS);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

static int attach_all(struct stat_ctx *s, struct bpf_program *prog)
{
	int err = configure_probes(s);

	if (err < 0)
		return err;
	return engine__attach(s->eng, prog, bpf_map__fd(s->skel->maps.locs));
}

int cmd_stat(int argc, char **argv)
{
	static const struct option longopts[] = {
		TARGET_LONG_OPTS,
		{"by", required_argument, NULL, 'B'},
		{"hist", required_argument, NULL, 'H'},
		{"lhist", required_argument, NULL, 'L'},
		{"latency", required_argument, NULL, 'T'},
		{"match", required_argument, NULL, 'M'},
		{"unit", required_argument, NULL, 'U'},
		{"interval", required_argument, NULL, 'i'},
		{"cumulative", no_argument, NULL, 'C'},
		{"duration", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{"top", required_argument, NULL, 'N'},
		{"max-keys", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct stat_ctx s = {.o = {.unit = "us", .unit_div = 1000, .max_keys = DEFAULT_MAX_KEYS}};
	struct target_opts *tg = &s.o.tg;
	struct engine_opts eo = {.pid = -1};
	struct bpf_program *prog;
	char **probes = NULL, *lat_buf = NULL, *lhist_buf = NULL;
	char *lat_probes[2];
	size_t nprobes = 0;
	struct target_cmd tc;
	bool target, multi;
	int pidfd = -1, ret = EXIT_USAGE, err, c;
	uint64_t v, next_print = 0, deadline = 0, maps_hash = 0;

	target_opts__init(tg);
	target_cmd__init(&tc);
	optind = 1;
	while ((c = getopt_long(argc, argv, TARGET_SHORT_OPTS "ji:d:o:h", longopts, NULL)) != -1) {
		err = target_opts__parse(tg, WHO, c, optarg);
		if (err) {
			if (err < 0) {
				ret = err == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
				goto out;
			}
			continue;
		}
		switch (c) {
		case 'B':
			if (set_mode(&s.o, STAT_MODE_BY))
				goto out;
			if (!strcmp(optarg, "pid")) {
				s.o.by = STAT_BY_PID;
			} else if (!strcmp(optarg, "tid")) {
				s.o.by = STAT_BY_TID;
			} else {
				s.o.by = STAT_BY_ARG;
				s.o.arg = optarg;
			}
			break;
		case 'H':
			if (set_mode(&s.o, STAT_MODE_HIST))
				goto out;
			s.o.arg = optarg;
			break;
		case 'L':
			if (set_mode(&s.o, STAT_MODE_LHIST))
				goto out;
			free(lhist_buf);
			lhist_buf = strdup(optarg);
			if (!lhist_buf) {
				ret = EXIT_FAIL;
				goto out;
			}
			err = parse_lhist(lhist_buf, &s.o);
			if (err) {
				fprintf(stderr,
					"usdtkit stat: bad --lhist '%s' (want ARG,MIN,MAX,STEP with "
					"MIN < MAX, STEP > 0%s)\n",
					optarg, err == -2 ? " and at most 1000 steps" : "");
				goto out;
			}
			break;
		case 'T': {
			char *comma;

			if (set_mode(&s.o, STAT_MODE_LATENCY))
				goto out;
			free(lat_buf);
			lat_buf = strdup(optarg);
			if (!lat_buf) {
				ret = EXIT_FAIL;
				goto out;
			}
			comma = strchr(lat_buf, ',');
			if (!comma || comma == lat_buf || !comma[1] || strchr(comma + 1, ',')) {
				fprintf(stderr,
					"usdtkit stat: bad --latency '%s' (want START_PROBE,END_PROBE)\n",
					optarg);
				goto out;
			}
			*comma = 0;
			s.o.lat_start = lat_buf;
			s.o.lat_end = comma + 1;
			break;
		}
		case 'M':
			s.o.match = optarg;
			break;
		case 'U':
			if (!strcmp(optarg, "ns")) {
				s.o.unit_div = 1;
			} else if (!strcmp(optarg, "us")) {
				s.o.unit_div = 1000;
			} else if (!strcmp(optarg, "ms")) {
				s.o.unit_div = 1000000;
			} else {
				fprintf(stderr, "usdtkit stat: bad --unit '%s' (ns, us or ms)\n",
					optarg);
				goto out;
			}
			s.o.unit = optarg;
			break;
		case 'i':
			if (parse_seconds(optarg, &s.o.interval)) {
				fprintf(stderr, "usdtkit stat: bad interval '%s'\n", optarg);
				goto out;
			}
			break;
		case 'C':
			s.o.cumulative = true;
			break;
		case 'd':
			if (parse_seconds(optarg, &s.o.duration)) {
				fprintf(stderr, "usdtkit stat: bad duration '%s'\n", optarg);
				goto out;
			}
			break;
		case 'j':
			s.o.json = true;
			break;
		case 'o':
			s.o.outpath = optarg;
			break;
		case 'N':
			if (target__parse_u64(optarg, &v) || !v || v > UINT32_MAX) {
				fprintf(stderr, "usdtkit stat: bad --top '%s'\n", optarg);
				goto out;
			}
			s.o.top = v;
			break;
		case 'K':
			if (target__parse_u64(optarg, &v) || !v || v > (1u << 24)) {
				fprintf(stderr, "usdtkit stat: --max-keys must be 1..%u\n",
					1u << 24);
				goto out;
			}
			s.o.max_keys = v;
			break;
		case 'h':
			usage(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (s.o.match && s.o.mode != STAT_MODE_LATENCY) {
		fprintf(stderr, "usdtkit stat: --match needs --latency\n");
		goto out;
	}
	if (s.o.mode == STAT_MODE_LATENCY) {
		s.o.arg = s.o.match;
		if (optind < argc) {
			fprintf(stderr, "usdtkit stat: --latency takes its probes as "
					"START_PROBE,END_PROBE; no other PROBE\n");
			goto out;
		}
		lat_probes[0] = (char *)s.o.lat_start;
		lat_probes[1] = (char *)s.o.lat_end;
		probes = lat_probes;
		nprobes = 2;
	} else {
		if (optind >= argc) {
			fprintf(stderr, "usdtkit stat: no PROBE given\n");
			usage(stderr);
			goto out;
		}
		probes = argv + optind;
		nprobes = argc - optind;
	}
	if (s.o.unit_div != 1000 && s.o.mode != STAT_MODE_LATENCY) {
		fprintf(stderr, "usdtkit stat: --unit needs --latency\n");
		goto out;
	}
	if (target_opts__check(tg, WHO))
		goto out;
	if (s.o.cumulative && s.o.interval <= 0) {
		fprintf(stderr, "usdtkit stat: --cumulative needs --interval\n");
		goto out;
	}
	target = tg->pid > 0 || tg->cmd;
	target__libbpf_print(tg->verbose);
	ret = EXIT_FAIL;

	eo.pid = tg->pid;
	eo.verbose = tg->verbose;
	if (tg->cmd) {
		ret = target_cmd__spawn(&tc, tg->cmd, WHO);
		if (ret)
			goto out;
		eo.pid = tc.pid; /* filters the uprobes; its maps are scanned once it runs */
	}
	ret = engine_setup(&s, &eo, probes, nprobes);
	if (ret != EXIT_OK)
		goto out;
	ret = EXIT_FAIL;
	target_cmd__add_objects(&tc, s.eng);
	if (target__first_scan(s.eng, tg, WHO))
		goto out;

	s.ncpu = libbpf_num_possible_cpus();
	if (s.ncpu <= 0) {
		fprintf(stderr, "usdtkit stat: cannot count CPUs\n");
		goto out;
	}
	s.pcpu = calloc(s.ncpu, sizeof(*s.pcpu));
	s.loc_cap = engine__loc_count(s.eng) + (target ? TARGET_EXTRA_LOCS : 0);
	s.probe_cap = engine__probe_count(s.eng) + (target ? TARGET_EXTRA_PROBES : 0);
	if (!s.loc_cap)
		s.loc_cap = 1;
	if (!s.probe_cap)
		s.probe_cap = 1;
	s.nbuckets = s.o.mode == STAT_MODE_HIST ? STAT_LOG2_BUCKETS
		     : s.o.mode == STAT_MODE_LHIST
			     ? (uint32_t)(((uint64_t)s.o.lmax - (uint64_t)s.o.lmin +
					   (uint64_t)s.o.lstep - 1) /
						  (uint64_t)s.o.lstep +
					  2)
			     : 1;
	if (!s.pcpu || snapshot_alloc(&s, &s.prev) || snapshot_alloc(&s, &s.cur)) {
		fprintf(stderr, "usdtkit stat: out of memory\n");
		goto out;
	}

	/*
	 * issue 11: uprobe_multi links where the kernel has them (a probed
	 * feature, kernel_features.h; USDTKIT_NO_UPROBE_MULTI=1 forces
	 * perf-event uprobes), said with -v.
	 */
	if (kernel_features__report(stderr, WHO, KF_NEEDS_STAT, tg->verbose))
		goto out;
	multi = kernel_features__use_uprobe_multi(kernel_features__get());
	err = open_and_load(&s, multi);
	if (!err)
		engine__set_uprobe_multi(s.eng, multi);
	if (err) {
		target__report_load_error(WHO, err, tg->verbose);
		goto out;
	}
	prog = s.o.mode == STAT_MODE_COUNT ? s.skel->progs.stat_count : s.skel->progs.stat_args;

	err = configure_probes(&s);
	if (err < 0) {
		fprintf(stderr, "usdtkit stat: configuring probes: %s\n", strerror(-err));
		goto out;
	}
	if (s.o.mode == STAT_MODE_LATENCY && !target) {
		uint8_t roles = 0;

		for (size_t i = 0; i < s.nprobes; i++)
			if (s.probes[i].cfg.valid)
				roles |= s.probes[i].cfg.role;
		if (roles != (STAT_ROLE_START | STAT_ROLE_END)) {
			fprintf(stderr, "usdtkit stat: --latency needs a start and a different end "
					"probe\n");
			ret = EXIT_USAGE;
			goto out;
		}
	}
	if (err == 0 && s.o.mode != STAT_MODE_COUNT && engine__probe_count(s.eng) && !target) {
		fprintf(stderr, "usdtkit stat: no selected probe can be aggregated%s\n",
			s.o.mode == STAT_MODE_LATENCY && !s.o.arg ? ""
								  : " (see the warnings above)");
		ret = EXIT_USAGE;
		goto out;
	}
	err = engine__attach(s.eng, prog, bpf_map__fd(s.skel->maps.locs));
	if (target__check_attach(WHO, err, engine__loc_count(s.eng)))
		goto out;
	fprintf(stderr, "usdtkit stat: attached %d locations of %zu probes; Ctrl-C to stop\n", err,
		engine__probe_count(s.eng));
	if (s.o.outpath) {
		s.out = fopen(s.o.outpath, "we");
		if (!s.out) {
			fprintf(stderr, "usdtkit stat: %s: %s\n", s.o.outpath, strerror(errno));
			goto out;
		}
	} else {
		s.out = stdout;
	}
	json_writer__init(&s.jw, s.out);

	target__catch_signals();
	if (tg->pid > 0)
		pidfd = target__pidfd(tg->pid);
	if (target_cmd__release(&tc, WHO))
		goto out;

	s.start_ns = s.last_print_ns = target__now_ns(CLOCK_MONOTONIC);
	if (s.o.interval > 0)
		next_print = s.start_ns + (uint64_t)(s.o.interval * 1e9);
	if (s.o.duration > 0)
		deadline = s.start_ns + (uint64_t)(s.o.duration * 1e9);
	ret = EXIT_OK;
	while (!target__stop_signal()) {
		struct timespec ts = {0, POLL_MS * 1000000L};
		uint64_t now;

		nanosleep(&ts, NULL);
		if (target__stop_signal())
			break;
		if (tc.pid > 0) {
			if (target_cmd__exited(&tc, WHO))
				break;
		} else if (tg->pid > 0 && target__pid_exited(tg->pid, pidfd)) {
			fprintf(stderr, WHO ": process %d exited\n", tg->pid);
			break;
		}
		now = target__now_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline)
			break;
		if (next_print && now >= next_print) {
			if (print_stats(&s, false)) {
				ret = EXIT_FAIL;
				break;
			}
			while (next_print <= now)
				next_print += (uint64_t)(s.o.interval * 1e9);
		}
		if (target && target__maps_changed(tg->pid > 0 ? tg->pid : tc.pid, &maps_hash)) {
			if (engine__scan(s.eng, true) > 0 && attach_all(&s, prog) < 0)
				fprintf(stderr, "usdtkit stat: attaching new locations failed\n");
		}
	}
	if (ret == EXIT_OK && print_stats(&s, true))
		ret = EXIT_FAIL;
	if (target__report_unmatched(s.eng, WHO) && ret == EXIT_OK)
		ret = EXIT_FAIL;
out:
	/* a -c command still running when we stop (--duration, Ctrl-C) is ended */
	target_cmd__finish(&tc, WHO);
	if (pidfd >= 0)
		close(pidfd);
	if (s.eng)
		engine__free(s.eng);
	stat_bpf__destroy(s.skel);
	if (s.out && s.out != stdout && fclose(s.out) && ret == EXIT_OK) {
		fprintf(stderr, "usdtkit stat: %s: %s\n", s.o.outpath, strerror(errno));
		ret = EXIT_FAIL;
	}
	for (size_t i = 0; i < s.nprobes; i++)
		free(s.probes[i].label);
	free(s.probes);
	snapshot_free(&s.prev);
	snapshot_free(&s.cur);
	free(s.pcpu);
	target_opts__free(tg);
	free(lat_buf);
	free(lhist_buf);
	return ret;
}
