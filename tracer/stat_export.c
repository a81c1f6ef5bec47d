// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The exporters of `usdtkit stat` (stat_export.h), on the session's loop.
 *
 * Prometheus: the registry (metrics.h) is refilled from the kernel's
 * cumulative maps by the loop's own thread, never by the HTTP server's:
 * a scrape raises a flag and waits (bounded) while the next loop step, at
 * most POLL_MS later, reads the maps and refills; so a scrape sees every
 * hit counted so far (a PromQL query after the fixture's last fire returns
 * its exact count) and no map or snapshot is touched by two threads. The
 * server's socket lives in its own thread (export_prom.c) so a slow client
 * never delays the loop. Rescans need nothing: each refill walks the
 * probes configured so far.
 *
 * Spans (--latency with --otlp or --perfetto): stat.bpf.c only aggregates,
 * and a histogram has no start and end times. Rather than a second BPF
 * program (or running trace's record path beside stat's), the one
 * latency() of stat.bpf.c also writes each matched pair into a ring buffer
 * when the read-only constant lat_pairs is set: off, the verifier prunes
 * the branch and counting costs what it did. The loop polls that ring
 * instead of sleeping; a full ring drops the pair in the kernel (counted,
 * exported as usdtkit_dropped_total{reason="pairs_ring_full"}).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "commands.h"
#include "export_chrome.h"
#include "export_otlp.h"
#include "export_prom.h"
#include "metrics.h"
#include "stat.skel.h"
#include "stat_ctx.h"
#include "stat_export.h"

#define PAIRS_RING_BYTES (4u << 20)
#define SCRAPE_WAIT_MS 1000 /* a scrape waits this long at most for fresh values */
#define TEXTFILE_DEFAULT_S 1.0 /* without --interval */
#define OTLP_CLOSE_MS 5000
#define LAT_ROWS (HIST_LAT_BUCKETS / HIST_LAT_SUB) /* latency as Prometheus: one bucket per 2^k */

struct stat_export {
	const char *prom_addr, *textfile, *otlp_url, *perfetto;
	struct metrics_registry *reg;
	struct metric_family *hits, *hist, *lat, *dropped;
	struct prom_server *srv;
	struct otlp_exporter *otlp;
	struct chrome_writer *chrome;
	struct ring_buffer *rb;
	char *span_name;
	uint64_t *probe_hits; /* per probe, a refill's scratch */
	size_t probe_hits_cap;
	uint64_t next_textfile;
	uint64_t pairs;
	int err; /* of the pairs callback */
	bool warned_refresh;
};

static struct stat_export *get(struct stat_ctx *c)
{
	if (!c->x)
		c->x = calloc(1, sizeof(*c->x));
	return c->x;
}

int stat_export__parse_opt(struct stat_ctx *c, int opt, const char *arg)
{
	struct stat_export *x;
	char host[256], port[8];

	if (opt < STAT_EXPORT_OPT_PROM || opt > STAT_EXPORT_OPT_PERFETTO)
		return 0;
	x = get(c);
	if (!x)
		return -EXIT_FAIL;
	switch (opt) {
	case STAT_EXPORT_OPT_PROM:
		if (prom_split_addr(arg, host, sizeof(host), port, sizeof(port))) {
			fprintf(stderr,
				"%s: bad --prometheus '%s' (want HOST:PORT, [V6]:PORT or :PORT)\n",
				c->s->who, arg);
			return -EXIT_USAGE;
		}
		x->prom_addr = arg;
		break;
	case STAT_EXPORT_OPT_TEXTFILE:
		x->textfile = arg;
		break;
	case STAT_EXPORT_OPT_OTLP:
		x->otlp_url = arg;
		break;
	default:
		x->perfetto = arg;
		break;
	}
	return 1;
}

int stat_export__check(struct stat_ctx *c)
{
	struct stat_export *x = c->x;
	char host[256], port[8], path[512];
	int err;

	if (!x)
		return 0;
	if ((x->otlp_url || x->perfetto) && c->o.mode != STAT_MODE_LATENCY) {
		fprintf(stderr, "%s: --otlp and --perfetto need --latency (for events: trace)\n",
			c->s->who);
		return EXIT_USAGE;
	}
	if (x->otlp_url) {
		err = otlp_parse_url(x->otlp_url, host, sizeof(host), port, sizeof(port), path,
				     sizeof(path));
		if (err) {
			fprintf(stderr, "%s: bad --otlp '%s'%s\n", c->s->who, x->otlp_url,
				err == -EPROTONOSUPPORT ? " (http:// only)"
							: " (want http://HOST[:PORT][/PATH])");
			return EXIT_USAGE;
		}
	}
	return 0;
}

static bool want_pairs(const struct stat_ctx *c)
{
	return c->x && (c->x->otlp_url || c->x->perfetto) && c->o.mode == STAT_MODE_LATENCY;
}

void stat_export__before_load(struct stat_ctx *c)
{
	bool on = want_pairs(c);

	c->skel->rodata->lat_pairs = on;
	/* unused, the ring gets the smallest size the kernel takes: a page */
	bpf_map__set_max_entries(c->skel->maps.pairs,
				 on ? PAIRS_RING_BYTES : (unsigned int)sysconf(_SC_PAGESIZE));
}

/* Registry families, by mode. 0 or -errno. */
static int make_families(struct stat_ctx *c, struct stat_export *x)
{
	static const char *const pp[] = {"provider", "probe", NULL};
	static const char *const reason[] = {"reason"};
	static const char *const lat[] = {"start", "end"};
	const char *hl[3] = {"provider", "probe", NULL};
	double bounds[HIST_LHIST_MAX_BUCKETS];
	unsigned int nb = 0;

	if (c->o.mode == STAT_MODE_BY)
		hl[2] = c->o.by == STAT_BY_PID ? "pid" : c->o.by == STAT_BY_TID ? "tid" : "key";
	x->reg = metrics_registry__new(c->o.max_keys + c->probe_cap);
	if (!x->reg)
		return -ENOMEM;
	x->hits = metrics__counter(
		x->reg, "usdtkit_probe_hits", "Hits of a USDT probe (per key with --by)",
		c->o.mode == STAT_MODE_BY ? 3 : 2, c->o.mode == STAT_MODE_BY ? hl : pp);
	x->dropped = metrics__counter(
		x->reg, "usdtkit_dropped",
		"Hits not aggregated, or latency pairs not recorded, by reason", 1, reason);
	if (!x->hits || !x->dropped)
		return -errno;
	if (c->o.mode == STAT_MODE_HIST) {
		nb = metrics_log2_bounds(bounds, HIST_LOG2_BUCKETS - 1);
	} else if (c->o.mode == STAT_MODE_LHIST) {
		/* integers: [lo, hi) is le hi - 1; the last bucket is +Inf */
		bounds[nb++] = (double)c->o.lmin - 1;
		for (uint32_t b = 1; b + 1 < c->nbuckets; b++)
			bounds[nb++] =
				(double)hist_linear_hi(c->o.lmin, c->o.lmax, c->o.lstep, b) - 1;
	}
	if (nb) {
		x->hist = metrics__histogram(x->reg, "usdtkit_probe_argument",
					     "Values of the --hist/--lhist argument (sum unknown: "
					     "the kernel keeps buckets only)",
					     2, pp, nb, bounds);
		if (!x->hist)
			return -errno;
	}
	if (c->o.mode == STAT_MODE_LATENCY) {
		/* one bucket per power of two of the unit; le in seconds (values are below it) */
		for (unsigned int r = 0; r + 1 < LAT_ROWS; r++) {
			double lo, hi;

			hist_lat_bounds(r * HIST_LAT_SUB + HIST_LAT_SUB - 1, &lo, &hi);
			bounds[r] = hi * (double)c->o.unit_div / 1e9;
		}
		x->lat = metrics__histogram(x->reg, "usdtkit_latency_seconds",
					    "Time from the start probe to the end probe", 2, lat,
					    LAT_ROWS - 1, bounds);
		if (!x->lat)
			return -errno;
	}
	return 0;
}

/* The same provider:name in several objects is one series: the first probe of that name. */
static size_t canonical(const struct stat_ctx *c, size_t i)
{
	const struct engine_probe *p = engine__probe(c->eng, i);

	for (size_t j = 0; j < i; j++) {
		const struct engine_probe *q = engine__probe(c->eng, j);

		if (c->probes[j].cfg.valid && !strcmp(p->provider, q->provider) &&
		    !strcmp(p->name, q->name))
			return j;
	}
	return i;
}

static void fill_hits(struct stat_ctx *c, struct stat_export *x)
{
	const struct snapshot *s = &c->cur;
	size_t nlocs = engine__loc_count(c->eng);
	char kbuf[STAT_KEY_STR + 32];

	/* refilled by adding (probes may share labels): zero first, under the lock */
	for (size_t i = 0; i < x->hits->nseries; i++)
		x->hits->series[i].value = 0;
	memset(x->probe_hits, 0, c->nprobes * sizeof(*x->probe_hits));
	for (size_t i = 0; i < nlocs && i < c->loc_cap; i++) {
		const struct engine_loc *l = engine__loc(c->eng, i);

		if (l->probe_id < c->nprobes)
			x->probe_hits[l->probe_id] += s->counts[i];
	}
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct engine_probe *p = engine__probe(c->eng, i);
		const char *v[3] = {p->provider, p->name, ""};

		/* --by: a keyed probe's hits are its keys' (below) */
		if (c->o.mode == STAT_MODE_BY && c->probes[i].cfg.valid)
			continue;
		if (x->probe_hits[i] || c->o.mode != STAT_MODE_BY)
			metric__add(x->hits, v, (double)x->probe_hits[i]);
	}
	if (c->o.mode != STAT_MODE_BY)
		return;
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct stat_key *k = &s->keys[i].key;
		const struct engine_probe *p;
		const char *v[3];

		if (k->probe_id >= c->nprobes)
			continue;
		p = engine__probe(c->eng, k->probe_id);
		stat_print__key(c, k, true, kbuf, sizeof(kbuf));
		v[0] = p->provider;
		v[1] = p->name;
		v[2] = kbuf;
		metric__add(x->hits, v, (double)s->keys[i].count);
	}
}

static int fill_hist(struct stat_ctx *c, struct stat_export *x)
{
	uint64_t *acc = calloc((size_t)c->nprobes * c->nbuckets + 1, sizeof(*acc));

	if (!acc)
		return -ENOMEM;
	for (size_t i = 0; i < c->nprobes && i < c->probe_cap; i++) {
		size_t j;

		if (!c->probes[i].cfg.valid)
			continue;
		j = canonical(c, i);
		for (uint32_t b = 0; b < c->nbuckets; b++)
			acc[j * c->nbuckets + b] += c->cur.hist[i * c->nbuckets + b];
	}
	for (size_t i = 0; i < c->nprobes && i < c->probe_cap; i++) {
		const struct engine_probe *p = engine__probe(c->eng, i);
		const char *v[2] = {p->provider, p->name};

		if (c->probes[i].cfg.valid && canonical(c, i) == i)
			metric__hist_set(x->hist, v, acc + i * c->nbuckets, NAN);
	}
	free(acc);
	return 0;
}

static void fill_latency(struct stat_ctx *c, struct stat_export *x)
{
	const char *v[2] = {c->o.lat_start, c->o.lat_end};
	uint64_t rows[LAT_ROWS] = {0};

	for (unsigned int b = 0; b < HIST_LAT_BUCKETS; b++)
		rows[b / HIST_LAT_SUB] += c->cur.lat[b];
	metric__hist_set(x->lat, v, rows, (double)c->cur.lat_sum * (double)c->o.unit_div / 1e9);
}

static void fill_dropped(struct stat_ctx *c, struct stat_export *x)
{
	static const struct {
		int cnt;
		const char *reason;
	} r[] = {
		{STAT_CNT_FAULT, "fault"},
		{STAT_CNT_KEYS_FULL, "keys_full"},
		{STAT_CNT_NO_START, "no_start"},
		{STAT_CNT_RANGE, "late_probe"},
		{STAT_CNT_PAIRS_LOST, "pairs_ring_full"},
	};
	struct otlp_stats os;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		metric__set(x->dropped, &r[i].reason, (double)c->cur.counters[r[i].cnt]);
	if (x->otlp) {
		const char *q = "otlp_queue_full", *f = "otlp_undelivered";

		otlp__stats(x->otlp, &os);
		metric__set(x->dropped, &q, (double)os.spans_dropped);
		metric__set(x->dropped, &f, (double)os.spans_failed);
	}
}

/* The maps into c->cur, as --cumulative: the read must not restart the interval's latency max. */
static int read_cumulative(struct stat_ctx *c)
{
	bool cumulative = c->o.cumulative;
	int err;

	c->o.cumulative = true;
	err = stat_maps__read(c);
	c->o.cumulative = cumulative;
	return err;
}

/* Reads the maps (cumulative) and refills the registry. 0 or -errno. */
static int refresh(struct stat_ctx *c)
{
	struct stat_export *x = c->x;
	int err;

	if (c->nprobes > x->probe_hits_cap) {
		void *p = realloc(x->probe_hits, c->nprobes * sizeof(*x->probe_hits));

		if (!p)
			return -ENOMEM;
		x->probe_hits = p;
		x->probe_hits_cap = c->nprobes;
	}
	err = read_cumulative(c);
	if (err)
		return err;
	metrics__update_begin(x->reg);
	fill_hits(c, x);
	if (x->hist)
		err = fill_hist(c, x);
	if (x->lat)
		fill_latency(c, x);
	fill_dropped(c, x);
	metrics__update_end(x->reg);
	return err;
}

static void span_key(const struct stat_ctx *c, const struct stat_pair *p, char *buf, size_t size)
{
	bool is_signed = false;

	for (size_t i = 0; i < c->nprobes; i++)
		if (c->probes[i].cfg.valid)
			is_signed = c->probes[i].cfg.is_signed;
	if (c->o.arg && is_signed)
		snprintf(buf, size, "%" PRId64, (int64_t)p->val);
	else
		snprintf(buf, size, "%" PRIu64, (uint64_t)p->val);
}

static int on_pair(void *ctx, void *data, size_t size)
{
	struct stat_ctx *c = ctx;
	struct stat_export *x = c->x;
	const struct stat_pair *p = data;
	char key[32];
	struct span sp;
	int err;

	if (size < sizeof(*p))
		return 0;
	span_key(c, p, key, sizeof(key));
	sp = (struct span){
		.start_ns = p->start_ns + c->s->mono_to_real,
		.end_ns = p->end_ns + c->s->mono_to_real,
		.start_mono_ns = p->start_ns,
		.pid = p->pid,
		.tid = p->tid,
		.comm = p->comm,
		.comm_len = strnlen(p->comm, sizeof(p->comm)),
		.name = x->span_name,
		.key = key,
	};
	x->pairs++;
	if (x->otlp) {
		err = otlp__span(x->otlp, &sp);
		if (err)
			return x->err = err;
	}
	if (x->chrome) {
		err = chrome__span(x->chrome, &sp);
		if (err)
			return x->err = err;
	}
	return 0;
}

static void report_start(struct stat_ctx *c, const char *what, const char *arg, int err)
{
	fprintf(stderr, "%s: %s '%s': %s\n", c->s->who, what, arg, strerror(-err));
}

int stat_export__start(struct stat_ctx *c)
{
	struct stat_export *x = c->x;
	struct prom_server_opts po = {.refresh_wait_ms = SCRAPE_WAIT_MS};
	int err;

	if (!x)
		return EXIT_OK;
	if (x->prom_addr || x->textfile) {
		err = make_families(c, x);
		if (err) {
			fprintf(stderr, "%s: metrics: %s\n", c->s->who, strerror(-err));
			return EXIT_FAIL;
		}
		refresh(c);
	}
	if (x->prom_addr) {
		err = prom_server__start(&x->srv, x->prom_addr, x->reg, &po);
		if (err) {
			report_start(c, "cannot listen on", x->prom_addr, err);
			return EXIT_FAIL;
		}
		if (c->s->o.verbose)
			fprintf(stderr, "%s: serving /metrics on port %d\n", c->s->who,
				prom_server__port(x->srv));
	}
	if (x->textfile) {
		err = prom_textfile_write(x->textfile, x->reg, PROM_RENDER_PROCESS);
		if (err) {
			report_start(c, "cannot write", x->textfile, err);
			return EXIT_FAIL;
		}
	}
	if (!want_pairs(c))
		return EXIT_OK;
	if (asprintf(&x->span_name, "%s..%s", c->o.lat_start, c->o.lat_end) < 0) {
		x->span_name = NULL;
		return EXIT_FAIL;
	}
	if (x->otlp_url) {
		struct otlp_opts oo = {.url = x->otlp_url, .close_timeout_ms = OTLP_CLOSE_MS};

		err = otlp_exporter__new(&x->otlp, &oo);
		if (err) {
			report_start(c, "--otlp", x->otlp_url, err);
			return EXIT_FAIL;
		}
	}
	if (x->perfetto) {
		err = chrome_writer__open(&x->chrome, x->perfetto, -1);
		if (err) {
			report_start(c, "cannot create", x->perfetto, err);
			return EXIT_FAIL;
		}
	}
	x->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.pairs), on_pair, c, NULL);
	if (!x->rb) {
		fprintf(stderr, "%s: the pairs ring: %s\n", c->s->who, strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int textfile_due(struct stat_ctx *c, struct stat_export *x, bool force)
{
	uint64_t now = cli__now_ns(CLOCK_MONOTONIC);
	double every = c->o.interval > 0 ? c->o.interval : TEXTFILE_DEFAULT_S;
	int err;

	if (!x->textfile || (!force && now < x->next_textfile))
		return 0;
	x->next_textfile = now + (uint64_t)(every * 1e9);
	err = prom_textfile_write(x->textfile, x->reg, PROM_RENDER_PROCESS);
	if (err)
		report_start(c, "cannot write", x->textfile, err);
	return err;
}

int stat_export__wait(struct stat_ctx *c, int timeout_ms)
{
	struct stat_export *x = c->x;
	bool textfile_now;
	int n, err;

	if (!x)
		return 0;
	textfile_now = x->textfile && cli__now_ns(CLOCK_MONOTONIC) >= x->next_textfile;
	if ((x->srv && prom_server__refresh_wanted(x->srv)) || textfile_now) {
		err = refresh(c);
		if (err && !x->warned_refresh) {
			fprintf(stderr, "%s: reading the maps: %s\n", c->s->who, strerror(-err));
			x->warned_refresh = true;
		}
		if (x->srv)
			prom_server__refreshed(x->srv);
		if (textfile_now && (err = textfile_due(c, x, false)))
			return err;
	}
	if (!x->rb)
		return 0;
	n = ring_buffer__poll(x->rb, timeout_ms);
	if (x->err)
		return x->err;
	if (n < 0 && n != -EINTR) {
		fprintf(stderr, "%s: reading the pairs ring: %s\n", c->s->who, strerror(-n));
		return n;
	}
	if (x->chrome && n > 0 && (err = chrome__flush(x->chrome)))
		return err;
	return 1;
}

int stat_export__finish(struct stat_ctx *c)
{
	struct stat_export *x = c->x;
	struct otlp_stats os;
	uint64_t lost;
	int ret = 0, err;

	if (!x)
		return 0;
	if (x->rb) {
		ring_buffer__consume(x->rb);
		if (x->err)
			ret = x->err;
	}
	if (x->reg)
		refresh(c);
	else
		read_cumulative(c);
	if (x->textfile && (err = textfile_due(c, x, true)))
		ret = ret ? ret : err;
	if (x->chrome) {
		err = chrome_writer__close(x->chrome);
		x->chrome = NULL;
		if (err) {
			report_start(c, "writing", x->perfetto, err);
			ret = ret ? ret : err;
		}
	}
	lost = c->cur.counters[STAT_CNT_PAIRS_LOST];
	if (x->otlp) {
		err = otlp_exporter__close(x->otlp, &os);
		x->otlp = NULL;
		fprintf(stderr,
			"%s: otlp: %" PRIu64 " spans sent, %" PRIu64 " not delivered, %" PRIu64
			" dropped (queue full)\n",
			c->s->who, os.spans_sent, os.spans_failed, os.spans_dropped);
		if (err)
			ret = ret ? ret : err;
	}
	if (want_pairs(c) && lost)
		fprintf(stderr, "%s: %" PRIu64 " latency pairs not exported (ring full)\n",
			c->s->who, lost);
	return ret;
}

void stat_export__free(struct stat_ctx *c)
{
	struct stat_export *x = c->x;

	if (!x)
		return;
	prom_server__stop(x->srv);
	ring_buffer__free(x->rb);
	if (x->otlp)
		otlp_exporter__close(x->otlp, NULL);
	if (x->chrome)
		chrome_writer__close(x->chrome);
	metrics_registry__free(x->reg);
	free(x->span_name);
	free(x->probe_hits);
	free(x);
	c->x = NULL;
}
