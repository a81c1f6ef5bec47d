// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * What `usdtkit stat` prints (see stat_ctx.h): the view of an interval
 * (the current snapshot minus the previous one, unless --cumulative),
 * bpftrace-style histograms and latency summaries in text, and one JSON
 * object per print (docs/usdtkit-stat.md). Names that come from the traced
 * process are escaped in text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "stat_ctx.h"

#define BAR_WIDTH 52

static const char *label_of(struct stat_ctx *s, size_t i)
{
	return s->probes[i].label;
}

/* A probe's label, escaped (it comes from the target), padded to @width. */
static void put_label(FILE *out, struct stat_ctx *s, size_t i, int width)
{
	const char *l = label_of(s, i);

	output__put_cname(out, l);
	for (int n = strlen(l); n < width; n++)
		putc_unlocked(' ', out);
}

/* Probes that are only counted (their argument is missing or not usable). */
static void put_counted(FILE *out, struct stat_ctx *s, size_t i, uint64_t count)
{
	put_label(out, s, i, 0);
	fprintf(out, " (%" PRIu64 " hits, only counted)\n", count);
}

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
	return hist_linear_lo(o->lmin, o->lstep, b);
}

static int64_t lin_hi(const struct stat_opts *o, uint32_t b)
{
	return hist_linear_hi(o->lmin, o->lmax, o->lstep, b);
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
	for (uint32_t b = 0; b < HIST_LAT_BUCKETS; b++) {
		if (!lat[b])
			continue;
		if (cum + lat[b] >= rank) {
			hist_lat_bounds(b, &lo, &hi);
			if (b < HIST_LAT_SUB)
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
	for (uint32_t b = 0; b < HIST_LAT_BUCKETS; b++)
		r->count += lat[b];
	r->max = (double)max_ns / s->o.unit_div;
	r->avg = r->count ? (double)sum / r->count : 0;
	r->p50 = lat_percentile(lat, r->count, 50, r->max);
	r->p90 = lat_percentile(lat, r->count, 90, r->max);
	r->p99 = lat_percentile(lat, r->count, 99, r->max);
}

struct view {
	uint64_t *counts; /* per probe */
	uint64_t *hist; /* per probe * nbuckets */
	struct key_count *keys;
	size_t nkeys;
	uint64_t lat[HIST_LAT_BUCKETS];
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
				n = diff(n, stat_maps__prev_count(p, &c->keys[i].key));
			if (!n)
				continue;
			v->keys[v->nkeys].key = c->keys[i].key;
			v->keys[v->nkeys++].count = n;
		}
		qsort(v->keys, v->nkeys, sizeof(*v->keys), key_count_desc);
	}
	if (s->o.mode == STAT_MODE_LATENCY) {
		for (int b = 0; b < HIST_LAT_BUCKETS; b++)
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

void stat_print__key(const struct stat_ctx *s, const struct stat_key *k, bool label, char *buf,
		     size_t size)
{
	const struct probe_info *pi = &s->probes[k->probe_id];
	double d;

	if (s->o.by != STAT_BY_ARG) {
		snprintf(buf, size, "%" PRIu64, (uint64_t)k->val);
		return;
	}
	switch (pi->type) {
	case USDT_TYPE_STRING:
		snprintf(buf, size, label ? "%.*s" : "\"%.*s\"", STAT_KEY_STR, k->str);
		break;
	case USDT_TYPE_POINTER:
		snprintf(buf, size, "0x%" PRIx64, (uint64_t)k->val);
		break;
	case USDT_TYPE_DOUBLE:
		memcpy(&d, &k->val, sizeof(d));
		if (label)
			snprintf(buf, size, "%.17g", d);
		else
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
		for (size_t i = 0; i < s->nprobes; i++) {
			put_label(out, s, i, w);
			fprintf(out, " %12" PRIu64 "\n", v->counts[i]);
		}
		break;
	}
	case STAT_MODE_BY: {
		size_t k = 0;

		for (size_t i = 0; i < s->nprobes; i++) {
			uint32_t shown = 0;
			char key[STAT_KEY_STR + 8];

			if (!s->probes[i].cfg.valid) {
				put_counted(out, s, i, v->counts[i]);
				continue;
			}
			put_label(out, s, i, 0);
			fprintf(out, " by %s (%" PRIu64 " hits)\n", by_name(s, i), v->counts[i]);
			while (k < v->nkeys && v->keys[k].key.probe_id < i)
				k++;
			for (; k < v->nkeys && v->keys[k].key.probe_id == i; k++) {
				if (s->o.top && shown++ >= s->o.top)
					continue;
				stat_print__key(s, &v->keys[k].key, false, key, sizeof(key));
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
		for (size_t i = 0; i < s->nprobes; i++) {
			const uint64_t *cnt = v->hist + i * s->nbuckets;
			size_t first = 0, last = 0;

			if (!s->probes[i].cfg.valid || i >= s->probe_cap) {
				put_counted(out, s, i, v->counts[i]);
				continue;
			}
			put_label(out, s, i, 0);
			fprintf(out, " %s%s (%" PRIu64 " hits):\n",
				s->o.mode == STAT_MODE_HIST ? "log2 " : "", s->probes[i].argname,
				v->counts[i]);
			if (hist_range(cnt, s->nbuckets, &first, &last))
				draw_rows(out, labels, cnt, first, last);
			fputc('\n', out);
		}
		break;
	case STAT_MODE_LATENCY: {
		uint64_t rows[HIST_LOG2_BUCKETS] = {0};
		struct lat_summary sum;
		size_t first = 0, last = 0;

		labels = calloc(HIST_LOG2_BUCKETS, sizeof(*labels));
		if (!labels)
			break;
		for (uint32_t b = 0; b < HIST_LOG2_BUCKETS; b++)
			log2_label(labels[b], sizeof(labels[b]), b);
		for (uint32_t b = 0; b < HIST_LAT_BUCKETS; b++)
			rows[hist_lat_row(b)] += v->lat[b];
		lat_summarize(s, v->lat, v->lat_sum, v->lat_max, &sum);
		fprintf(out, "latency %s -> %s (by %s), %s:\n", s->o.lat_start, s->o.lat_end,
			lat_key_desc(s), s->o.unit);
		if (hist_range(rows, HIST_LOG2_BUCKETS, &first, &last))
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
	json__kv_uint(w, "ts_ns", cli__now_ns(CLOCK_REALTIME));
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
		for (uint32_t b = 0; b < HIST_LAT_BUCKETS; b++) {
			double lo, hi;

			if (!v->lat[b])
				continue;
			hist_lat_bounds(b, &lo, &hi);
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
}

int stat_print(struct stat_ctx *s, bool final)
{
	uint64_t now = cli__now_ns(CLOCK_MONOTONIC);
	double elapsed = (now - s->last_print_ns) / 1e9;
	struct snapshot tmp;
	struct view v;
	int err;

	if (s->us)
		return stat_ustack__print(s, final);
	err = stat_maps__read(s);
	if (!err)
		err = make_view(s, &v);
	if (err) {
		fprintf(stderr, "%s: reading the maps: %s\n", s->s->who, strerror(-err));
		return err;
	}
	if (s->o.cumulative)
		elapsed = (now - s->s->start_ns) / 1e9;
	if (s->o.json)
		print_json(s, &v, elapsed, final);
	else
		print_text(s, &v, elapsed, final);
	if (v.counters[STAT_CNT_FAULT])
		fprintf(stderr, "%s: %" PRIu64 " hits whose argument could not be read\n",
			s->s->who, v.counters[STAT_CNT_FAULT]);
	if (v.counters[STAT_CNT_KEYS_FULL])
		fprintf(stderr, "%s: %" PRIu64 " hits not keyed: key table full (--max-keys)\n",
			s->s->who, v.counters[STAT_CNT_KEYS_FULL]);
	if (v.counters[STAT_CNT_RANGE])
		fprintf(stderr, "%s: %" PRIu64 " hits of probes found too late\n", s->s->who,
			v.counters[STAT_CNT_RANGE]);
	view_free(&v);
	s->last_print_ns = now;
	if (!s->o.cumulative) {
		/* the current snapshot becomes the base of the next interval */
		tmp = s->prev;
		s->prev = s->cur;
		s->cur = tmp;
	}
	return output__flush(&s->s->out);
}
