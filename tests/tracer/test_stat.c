// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Integration tests of `usdtkit stat` (issue 7): the real usdtkit binary
 * aggregates the probes of stat_fixtures/stat_fixture, which fires known
 * distributions, and the tests expect exact counts, exact log2 and linear
 * buckets, and latencies within the sleeps the fixture used.
 *
 *   test_stat GROUP     GROUP: counts | hist | latency | targets | usage
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tracer_test_util.h"

static char probe_all[4200], probe_value[4200], probe_size[4200], probe_named[4200],
	probe_other[4200], probe_start[4200], probe_done[4200];

static void init_probes(void)
{
	const char *f = tt_stat_fixture();

	snprintf(probe_all, sizeof(probe_all), "%s:stat:*", f);
	snprintf(probe_value, sizeof(probe_value), "%s:stat:value", f);
	snprintf(probe_size, sizeof(probe_size), "%s:stat:size", f);
	snprintf(probe_named, sizeof(probe_named), "%s:stat:named", f);
	snprintf(probe_other, sizeof(probe_other), "%s:stat:other", f);
	snprintf(probe_start, sizeof(probe_start), "%s:stat:req_start", f);
	snprintf(probe_done, sizeof(probe_done), "%s:stat:req_done", f);
}

/* One JSON record from @out: asserts there is exactly one line and it parses. */
static struct tt_json *one_record(const char *out)
{
	struct tt_json *recs[4];
	size_t n = tt_json_lines(out, recs, 4);

	if (n != 1)
		fprintf(stderr, "expected one JSON record, got %zu in:\n%s\n", n, out);
	assert_int_equal(n, 1);
	assert_string_equal(tt_json_get(recs[0], "type")->str, "stat");
	assert_true(tt_json_get(recs[0], "final")->b);
	return recs[0];
}

/* Count of the "COUNT" table row for @label in text output, -1 if absent. */
static long text_count(const char *out, const char *label)
{
	size_t len = strlen(label);

	for (const char *l = out; *l;) {
		const char *nl = strchrnul(l, '\n');

		if (!strncmp(l, label, len) && l[len] == ' ')
			return strtol(l + len, NULL, 10);
		l = *nl ? nl + 1 : nl;
	}
	return -1;
}

/* --- counts ------------------------------------------------------------- */

static void test_count_text(void **state)
{
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_all, NULL);

	assert_non_null(out);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "PROBE"));
	assert_int_equal(text_count(out, "stat:value"), 31);
	assert_int_equal(text_count(out, "stat:size"), 5);
	assert_int_equal(text_count(out, "stat:named"), 9);
	assert_int_equal(text_count(out, "stat:other"), 10);
	assert_int_equal(text_count(out, "stat:req_start"), 0);
	assert_int_equal(text_count(out, "stat:req_done"), 0);
	free(out);
}

static void test_count_json(void **state)
{
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_value, probe_other, "--json", NULL);
	struct tt_json *rec;

	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	assert_string_equal(tt_json_get(rec, "mode")->str, "count");
	assert_int_equal(tt_json_get(rec, "probes")->n, 2);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "value"), "count"), 31);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "other"), "count"), 10);
	assert_string_equal(tt_json_get(tt_json_probe(rec, "other"), "provider")->str, "stat");
	tt_json_free(rec);
	free(out);
}

/* Count of key @key (an integer) in the "keys" array of @probe; -1 if absent. */
static int64_t key_count_int(const struct tt_json *probe, int64_t key)
{
	const struct tt_json *keys = tt_json_get(probe, "keys");

	assert_non_null(keys);
	for (size_t i = 0; i < keys->n; i++) {
		const struct tt_json *k = tt_json_get(&keys->items[i], "key");

		if (k->type == SJ_NUM && k->is_int && k->i == key)
			return tt_json_int(&keys->items[i], "count");
	}
	return -1;
}

static int64_t key_count_str(const struct tt_json *probe, const char *key)
{
	const struct tt_json *keys = tt_json_get(probe, "keys");

	assert_non_null(keys);
	for (size_t i = 0; i < keys->n; i++) {
		const struct tt_json *k = tt_json_get(&keys->items[i], "key");

		if (k->type == SJ_STR && !strcmp(k->str, key))
			return tt_json_int(&keys->items[i], "count");
	}
	return -1;
}

static void test_by_arg(void **state)
{
	/* the fixture's multiset: value, times (stat_fixture.c VALUES) */
	static const int64_t expect[][2] = {{-5, 2}, {0, 1},   {1, 2},	  {2, 3},	 {3, 4},
					    {5, 5},  {100, 6}, {1000, 7}, {1LL << 40, 1}};
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_value, "--by", "arg0", "-j", NULL);
	const struct tt_json *p;
	struct tt_json *rec;

	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	p = tt_json_probe(rec, "value");
	assert_non_null(p);
	assert_string_equal(tt_json_get(p, "by")->str, "arg0");
	assert_int_equal(tt_json_get(p, "keys")->n, 9);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		assert_int_equal(key_count_int(p, expect[i][0]), expect[i][1]);
	/* sorted by count, most frequent first */
	assert_int_equal(tt_json_int(&tt_json_get(p, "keys")->items[0], "key"), 1000);
	tt_json_free(rec);
	free(out);
}

static void test_by_string(void **state)
{
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_named, "--args",
				   "stat:named=name:str,n:i64", "--by", "name", "-j", NULL);
	const struct tt_json *p;
	struct tt_json *rec;

	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	p = tt_json_probe(rec, "named");
	assert_non_null(p);
	assert_string_equal(tt_json_get(p, "by")->str, "name");
	assert_int_equal(tt_json_get(p, "keys")->n, 3);
	assert_int_equal(key_count_str(p, "alpha"), 3);
	assert_int_equal(key_count_str(p, "beta"), 5);
	assert_int_equal(key_count_str(p, "gamma"), 1);
	tt_json_free(rec);
	free(out);
}

/* A double key prints with the fewest digits that read back as the same value. */
static void test_by_double(void **state)
{
	char dcmd[4200];
	char *argv[] = {(char *)tt_usdtkit(),	      "stat", "-c", dcmd, "dbl:vals", "--args",
			"dbl:vals=a:f64,b:f64,c:f64", "--by", "b",  NULL, NULL};
	struct tt_proc p;
	char *out;

	snprintf(dcmd, sizeof(dcmd), "%s 5", tt_fixture("trace_doubles"));
	assert_int_equal(tt_run(&p, argv, 60000), 0);
	out = tt_read(p.out_path);
	if (!strstr(out, "\n  0.1 "))
		tt_dump(&p, "stat --by double");
	assert_non_null(strstr(out, "dbl:vals by b (5 hits)\n  0.1 "));
	assert_int_equal(strtol(strstr(out, "\n  0.1 ") + 6, NULL, 10), 5);
	free(out);
	tt_cleanup(&p);

	argv[8] = "c";
	argv[9] = "-j";
	assert_int_equal(tt_run(&p, argv, 60000), 0);
	out = tt_read(p.out_path);
	assert_non_null(strstr(out, "\"keys\":[{\"key\":2.115156,\"count\":5}]"));
	free(out);
	tt_cleanup(&p);
}

static void test_by_pid_text(void **state)
{
	int status = -1;
	pid_t fpid = 0;
	char *out = tt_stat_around("dist", &status, &fpid, probe_other, "--by", "pid", NULL);
	char row[64];

	assert_non_null(out);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "stat:other by pid (10 hits)"));
	snprintf(row, sizeof(row), "  %d ", (int)fpid);
	assert_non_null(strstr(out, row));
	free(out);
}

/* --- histograms ---------------------------------------------------------- */

struct bucket {
	bool has_lo;
	int64_t lo;
	bool has_hi;
	uint64_t hi;
	int64_t count;
};

/* Asserts that @probe's "buckets" are exactly @want (non-empty buckets only). */
static void assert_buckets(const struct tt_json *probe, const struct bucket *want, size_t n)
{
	const struct tt_json *b = tt_json_get(probe, "buckets");

	assert_non_null(b);
	assert_int_equal(b->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct tt_json *lo = tt_json_get(&b->items[i], "lo");
		const struct tt_json *hi = tt_json_get(&b->items[i], "hi");

		assert_int_equal(lo->type == SJ_NUM, want[i].has_lo);
		if (want[i].has_lo)
			assert_int_equal(lo->i, want[i].lo);
		assert_int_equal(hi->type == SJ_NUM, want[i].has_hi);
		if (want[i].has_hi)
			assert_int_equal(hi->u, want[i].hi);
		assert_int_equal(tt_json_int(&b->items[i], "count"), want[i].count);
	}
}

static void test_hist_log2(void **state)
{
	static const struct bucket value[] = {
		{false, 0, true, 0, 2},	    {true, 0, true, 1, 1},
		{true, 1, true, 2, 2},	    {true, 2, true, 4, 7},
		{true, 4, true, 8, 5},	    {true, 64, true, 128, 6},
		{true, 512, true, 1024, 7}, {true, 1LL << 40, true, 1ULL << 41, 1},
	};
	static const struct bucket size[] = {{true, 8, true, 16, 2}, {true, 4096, true, 8192, 3}};
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_value, probe_size, "--hist", "arg0",
				   "--json", NULL);
	struct tt_json *rec;

	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	assert_string_equal(tt_json_get(rec, "mode")->str, "hist");
	assert_string_equal(tt_json_get(tt_json_probe(rec, "value"), "hist")->str, "log2");
	assert_buckets(tt_json_probe(rec, "value"), value, sizeof(value) / sizeof(value[0]));
	assert_buckets(tt_json_probe(rec, "size"), size, sizeof(size) / sizeof(size[0]));
	assert_int_equal(tt_json_int(tt_json_probe(rec, "value"), "count"), 31);
	tt_json_free(rec);
	free(out);
}

/* The count on the text histogram row starting with @label under @header. */
static long text_row(const char *out, const char *header, const char *label)
{
	const char *l = strstr(out, header);
	size_t len = strlen(label);

	if (!l)
		return -1;
	while (*l) {
		const char *nl = strchrnul(l, '\n');

		if (!strncmp(l, label, len) && l[len] == ' ')
			return strtol(l + len, NULL, 10);
		if (nl == l) /* blank line: end of this histogram */
			return -1;
		l = *nl ? nl + 1 : nl;
	}
	return -1;
}

static void test_hist_text(void **state)
{
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_value, "--hist", "arg0", NULL);
	const char *row;

	assert_non_null(out);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "stat:value log2 arg0 (31 hits):"));
	assert_int_equal(text_row(out, "stat:value", "(..., 0)"), 2);
	assert_int_equal(text_row(out, "stat:value", "[0]"), 1);
	assert_int_equal(text_row(out, "stat:value", "[1]"), 2);
	assert_int_equal(text_row(out, "stat:value", "[2, 4)"), 7);
	assert_int_equal(text_row(out, "stat:value", "[8, 16)"), 0);
	assert_int_equal(text_row(out, "stat:value", "[512, 1K)"), 7);
	assert_int_equal(text_row(out, "stat:value", "[1T, 2T)"), 1);
	assert_int_equal(text_row(out, "stat:value", "[2T, 4T)"), -1); /* past the last hit */
	/* the largest bucket gets the full bar */
	row = strstr(out, "[2, 4)");
	assert_non_null(row);
	assert_non_null(strstr(row, "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"));
	free(out);
}

static void test_lhist(void **state)
{
	static const struct bucket value[] = {
		{false, 0, true, 0, 2}, /* -5 x 2 */
		{true, 0, true, 10, 15}, /* 0 1 2 3 5 */
		{true, 100, false, 0, 14}, /* 100 1000 2^40 */
	};
	static const struct bucket size[] = {{true, 10, true, 20, 2}, {true, 100, false, 0, 3}};
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_value, probe_size, "--args",
				   "stat:value=v:i64", "--args", "stat:size=v:u64", "--lhist",
				   "v,0,100,10", "-j", NULL);
	struct tt_json *rec;

	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	assert_string_equal(tt_json_get(rec, "mode")->str, "lhist");
	assert_string_equal(tt_json_get(tt_json_probe(rec, "value"), "arg")->str, "v");
	assert_buckets(tt_json_probe(rec, "value"), value, sizeof(value) / sizeof(value[0]));
	assert_buckets(tt_json_probe(rec, "size"), size, sizeof(size) / sizeof(size[0]));
	tt_json_free(rec);
	free(out);
}

static void test_lhist_text(void **state)
{
	int status = -1;
	char *out = tt_stat_around("dist", &status, NULL, probe_value, "--lhist", "arg0,-10,30,10",
				   NULL);

	assert_non_null(out);
	assert_int_equal(status, 0);
	assert_int_equal(text_row(out, "stat:value", "[-10, 0)"), 2);
	assert_int_equal(text_row(out, "stat:value", "[0, 10)"), 15);
	assert_int_equal(text_row(out, "stat:value", "[10, 20)"), 0);
	assert_int_equal(text_row(out, "stat:value", "[30, ...)"), 14);
	assert_int_equal(text_row(out, "stat:value", "(..., -10)"), -1); /* empty: not drawn */
	free(out);
}

/* --- latency ------------------------------------------------------------- */

#define SHORT_US 2000 /* the fixture's sleeps */
#define LONG_US 20000
#define SHORT_SLACK_US 15000 /* generous: loaded CI machines, sanitizers */
#define LONG_SLACK_US 200000

/*
 * Splits latency buckets into short (a 2 ms sleep), long (20 ms) and
 * impossible ones. A bucket [lo, hi) counts as short when it lies within
 * [2 ms * @res, 2 ms + slack); @res is the histogram's resolution: 1 in ms
 * (the buckets below 8 are exact, and 20 is a bucket boundary), 7/8 in us
 * (8 sub-buckets per power of two).
 */
static void classify(const struct tt_json *lat, int64_t div, double res, int64_t *nshort,
		     int64_t *nlong, int64_t *nbad)
{
	const struct tt_json *b = tt_json_get(lat, "buckets");

	*nshort = *nlong = *nbad = 0;
	assert_non_null(b);
	for (size_t i = 0; i < b->n; i++) {
		double lo = tt_json_int(&b->items[i], "lo") * div;
		double hi = tt_json_int(&b->items[i], "hi") * div;
		int64_t c = tt_json_int(&b->items[i], "count");

		if (lo >= SHORT_US * res && hi <= SHORT_US + SHORT_SLACK_US)
			*nshort += c;
		else if (lo >= LONG_US * res && hi <= LONG_US + LONG_SLACK_US)
			*nlong += c;
		else
			*nbad += c;
	}
}

/* @unit_us: microseconds per unit of the record (1 for us, 1000 for ms). */
static void check_latency(const struct tt_json *rec, int64_t pairs, int64_t unit_us)
{
	const struct tt_json *lat = tt_json_get(rec, "latency");
	double res = unit_us == 1000 ? 1.0 : 7 / 8.0;
	int64_t nshort, nlong, nbad, max_ns;

	assert_non_null(lat);
	assert_string_equal(tt_json_get(lat, "unit")->str, unit_us == 1000 ? "ms" : "us");
	assert_int_equal(tt_json_int(lat, "count"), 2 * pairs);
	assert_int_equal(tt_json_int(lat, "unmatched_ends"), 0);
	classify(lat, unit_us, res, &nshort, &nlong, &nbad);
	assert_int_equal(nshort, pairs);
	assert_int_equal(nlong, pairs);
	assert_int_equal(nbad, 0);
	/* the maximum is exact */
	max_ns = tt_json_int(lat, "max_ns");
	assert_true(max_ns >= LONG_US * 1000LL);
	assert_true(max_ns < (LONG_US + LONG_SLACK_US) * 1000LL);
	/* percentiles are estimates within the bucket resolution */
	assert_true(tt_json_get(lat, "p50")->num * unit_us >= SHORT_US * res);
	assert_true(tt_json_get(lat, "p50")->num * unit_us < SHORT_US + SHORT_SLACK_US);
	assert_true(tt_json_get(lat, "p99")->num * unit_us >= LONG_US * res);
	assert_true(tt_json_get(lat, "p99")->num * unit_us <= max_ns / 1000.0 + 1);
	assert_true(tt_json_get(lat, "percentiles_estimated")->b);
}

static void test_latency_tid(void **state)
{
	char spec[9000];
	int status = -1;
	char *out;
	struct tt_json *rec;

	snprintf(spec, sizeof(spec), "%s,%s", probe_start, probe_done);
	out = tt_stat_around("latency-tid", &status, NULL, "--latency", spec, "-j", NULL);
	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	assert_string_equal(tt_json_get(tt_json_get(rec, "latency"), "key")->str, "tid");
	check_latency(rec, 10, 1); /* 2 threads x 5 per sleep */
	tt_json_free(rec);
	free(out);
}

static void test_latency_match(void **state)
{
	char spec[9000];
	int status = -1;
	char *out;
	struct tt_json *rec;

	snprintf(spec, sizeof(spec), "%s,%s", probe_start, probe_done);
	out = tt_stat_around("latency-match", &status, NULL, "--latency", spec, "--match", "arg0",
			     "--unit", "ms", "-j", NULL);
	assert_non_null(out);
	assert_int_equal(status, 0);
	rec = one_record(out);
	assert_string_equal(tt_json_get(tt_json_get(rec, "latency"), "key")->str, "arg0");
	check_latency(rec, 5, 1000);
	tt_json_free(rec);
	free(out);
}

static void test_latency_text(void **state)
{
	char spec[9000];
	int status = -1;
	char *out;

	snprintf(spec, sizeof(spec), "%s,%s", probe_start, probe_done);
	out = tt_stat_around("latency-match", &status, NULL, "--latency", spec, "--match", "arg0",
			     "--unit", "ms", NULL);
	assert_non_null(out);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out, "(by arg0), ms:"));
	assert_non_null(strstr(out, "count 10 "));
	assert_non_null(strstr(out, " p50 "));
	assert_non_null(strstr(out, " p99 "));
	assert_non_null(strstr(out, "estimated"));
	/* nothing shorter than the 2 ms sleep: no row below [2, 4) */
	assert_int_equal(text_row(out, "latency", "[0]"), -1);
	assert_int_equal(text_row(out, "latency", "[1]"), -1);
	free(out);
}

/* A probe matching both START and END is refused, leaving no end: usage error. */
static void test_latency_same_probe(void **state)
{
	char spec[9000];
	char *argv[] = {(char *)tt_usdtkit(), "stat", "--latency", spec, NULL};
	struct tt_proc p;
	char *err;

	snprintf(spec, sizeof(spec), "%s:stat:req_*,%s", tt_stat_fixture(), probe_done);
	assert_int_equal(tt_start(&p, argv), 0);
	assert_int_equal(tt_wait(&p, 30000), 2);
	err = tt_read(p.err_path);
	assert_non_null(strstr(err, "matches both the start and the end PROBE"));
	free(err);
	tt_cleanup(&p);
}

/* --- targets, intervals, duration -------------------------------------- */

static void test_command(void **state)
{
	char cmd[4200];
	char *argv[] = {(char *)tt_usdtkit(), "stat",	    "-c", cmd,
			"stat:value",	      "stat:other", "-j", NULL};
	struct tt_proc p;
	struct tt_json *rec;
	char *out;

	snprintf(cmd, sizeof(cmd), "%s dist", tt_stat_fixture());
	assert_int_equal(tt_start(&p, argv), 0);
	if (tt_wait(&p, 60000) != 0)
		tt_dump(&p, "usdtkit stat -c");
	assert_int_equal(p.status, 0); /* the command exited: print and exit 0 */
	out = tt_read(p.out_path);
	rec = one_record(out);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "value"), "count"), 31);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "other"), "count"), 10);
	tt_json_free(rec);
	free(out);
	tt_cleanup(&p);
}

/*
 * PROBEs with a PATH select probes in that file only, also with -c: the
 * command (another copy of the fixture) fires its own stat:value, which
 * must not be counted, and the PROBEs sharing the PATH both match there.
 */
static void test_command_path_probes(void **state)
{
	char cmd[4200];
	char *argv[] = {(char *)tt_usdtkit(), "stat",	   "-c", cmd,
			probe_value,	      probe_other, "-j", NULL};
	const struct tt_json *probes;
	struct tt_proc p;
	struct tt_json *rec;
	char *out;

	snprintf(cmd, sizeof(cmd), "%s dist", tt_stat_fixture_built());
	assert_int_equal(tt_start(&p, argv), 0);
	if (tt_wait(&p, 60000) != 0)
		tt_dump(&p, "usdtkit stat -c with PATH probes");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	rec = one_record(out);
	probes = tt_json_get(rec, "probes");
	assert_int_equal(probes->n, 2);
	for (size_t i = 0; i < probes->n; i++) {
		assert_string_equal(tt_json_get(&probes->items[i], "object")->str,
				    tt_stat_fixture());
		assert_int_equal(tt_json_int(&probes->items[i], "count"), 0);
	}
	tt_json_free(rec);
	free(out);
	tt_cleanup(&p);
}

/*
 * stat -c with --duration: the command, still running at the end, is ended
 * and reaped. The fixture is the command itself (no shell in between), so
 * its probes are found before it runs however slow the machine; its pid is
 * the one stat names when stopping it.
 */
static void test_command_stopped(void **state)
{
	char cmd[4400];
	char *argv[] = {(char *)tt_usdtkit(), "stat",	    "-c", cmd,
			"ops:regs",	      "--duration", "1",  NULL};
	struct tt_proc p;
	pid_t pid = 0;
	char *err, *s;

	/* 400 rounds: ~10 s, still running when the second is up */
	snprintf(cmd, sizeof(cmd), "%s 400", tt_fixture("trace_operands"));
	if (tt_run(&p, argv, 30000) != 0)
		tt_dump(&p, "stat -c --duration");
	assert_int_equal(p.status, 0);
	err = tt_read(p.err_path);
	s = strstr(err, "stopping the command (pid ");
	if (s)
		pid = atoi(s + strlen("stopping the command (pid "));
	assert_true(pid > 0);
	if (!kill(pid, 0) || errno != ESRCH) {
		tt_dump(&p, "command left running");
		kill(pid, SIGKILL);
		fail();
	}
	assert_non_null(strstr(err, "command stopped (signal 15)"));
	free(err);
	tt_cleanup(&p);
}

static void test_output_file_tid(void **state)
{
	char cmd[4200], path[] = "/tmp/usdtkit-st-o-XXXXXX";
	char *argv[] = {(char *)tt_usdtkit(),
			"stat",
			"-c",
			cmd,
			"stat:req_done",
			"--by",
			"tid",
			"-o",
			path,
			"-j",
			NULL};
	const struct tt_json *keys;
	struct tt_proc p;
	struct tt_json *rec;
	int64_t total = 0;
	char *out;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s latency-tid", tt_stat_fixture());
	assert_int_equal(tt_start(&p, argv), 0);
	if (tt_wait(&p, 60000) != 0)
		tt_dump(&p, "usdtkit stat -o");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	assert_string_equal(out, ""); /* everything went to the file */
	free(out);
	out = tt_read(path);
	rec = one_record(out);
	keys = tt_json_get(tt_json_probe(rec, "req_done"), "keys");
	assert_non_null(keys);
	assert_int_equal(keys->n, 2); /* the fixture's two threads, 10 each */
	for (size_t i = 0; i < keys->n; i++) {
		assert_int_equal(tt_json_int(&keys->items[i], "count"), 10);
		assert_true(tt_json_int(&keys->items[i], "key") > 0);
		total += tt_json_int(&keys->items[i], "count");
	}
	assert_int_equal(total, 20);
	tt_json_free(rec);
	free(out);
	unlink(path);
	tt_cleanup(&p);
}

/* A library dlopen()ed after the start is found by the rescan and aggregated. */
static void test_rescan(void **state)
{
	static const struct bucket late[] = {
		{true, 1, true, 2, 1}, {true, 2, true, 4, 5}, {true, 64, true, 128, 1}};
	char cmd[8500], lib[4200];
	char *argv[] = {(char *)tt_usdtkit(),
			"stat",
			"-c",
			cmd,
			"statlib:late",
			"--hist",
			"arg0",
			"-j",
			NULL};
	struct tt_proc p;
	struct tt_json *rec;
	char *out;

	snprintf(lib, sizeof(lib), "%s", tt_stat_fixture_built());
	snprintf(strrchr(lib, '/'), sizeof(lib) - (strrchr(lib, '/') - lib), "/libstatlib.so");
	snprintf(cmd, sizeof(cmd), "%s dlopen %s", tt_stat_fixture(), lib);
	assert_int_equal(tt_start(&p, argv), 0);
	if (tt_wait(&p, 60000) != 0)
		tt_dump(&p, "usdtkit stat -c (dlopen)");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	rec = one_record(out);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "late"), "count"), 7);
	assert_buckets(tt_json_probe(rec, "late"), late, sizeof(late) / sizeof(late[0]));
	tt_json_free(rec);
	free(out);
	tt_cleanup(&p);
}

static void test_pid(void **state)
{
	char *fargv[] = {(char *)tt_stat_fixture(), "--wait-signal", "dist", NULL};
	char pid[16];
	char *argv[] = {(char *)tt_usdtkit(), "stat", "-p", pid, "stat:*", "--json", NULL};
	struct tt_proc fix, p;
	struct tt_json *rec;
	char *out;

	assert_int_equal(tt_start(&fix, fargv), 0);
	assert_true(tt_wait_for(fix.out_path, "ready", 30000));
	snprintf(pid, sizeof(pid), "%d", (int)fix.pid);
	assert_int_equal(tt_start(&p, argv), 0);
	if (!tt_wait_for(p.err_path, "attached", 30000))
		tt_dump(&p, "usdtkit stat -p");
	kill(fix.pid, SIGUSR1);
	assert_int_equal(tt_wait(&fix, 30000), 0);
	if (tt_wait(&p, 30000) != 0) /* the process exited: print and exit 0 */
		tt_dump(&p, "usdtkit stat -p");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	rec = one_record(out);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "value"), "count"), 31);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "size"), "count"), 5);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "named"), "count"), 9);
	assert_int_equal(tt_json_int(tt_json_probe(rec, "other"), "count"), 10);
	tt_json_free(rec);
	free(out);
	tt_cleanup(&p);
	tt_cleanup(&fix);
}

static void run_interval(bool cumulative)
{
	char cmd[4200];
	char *argv[] = {(char *)tt_usdtkit(),
			"stat",
			"-c",
			cmd,
			"stat:value",
			"-i",
			"0.1",
			"-j",
			cumulative ? "--cumulative" : NULL,
			NULL};
	struct tt_json *recs[64];
	struct tt_proc p;
	int64_t sum = 0, last = 0;
	size_t n;
	char *out;

	snprintf(cmd, sizeof(cmd), "%s slow", tt_stat_fixture());
	assert_int_equal(tt_start(&p, argv), 0);
	if (tt_wait(&p, 60000) != 0)
		tt_dump(&p, "usdtkit stat -i");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	n = tt_json_lines(out, recs, 64);
	assert_true(n >= 2); /* the fixture runs ~600 ms */
	for (size_t i = 0; i < n; i++) {
		int64_t c = tt_json_int(tt_json_probe(recs[i], "value"), "count");

		assert_int_equal(tt_json_get(recs[i], "final")->b, i == n - 1);
		assert_int_equal(tt_json_get(recs[i], "cumulative")->b, cumulative);
		if (cumulative)
			assert_true(c >= last);
		sum += c;
		last = c;
		tt_json_free(recs[i]);
	}
	/* per-interval prints add up to every hit; cumulative ones end at the total */
	assert_int_equal(cumulative ? last : sum, 30);
	free(out);
	tt_cleanup(&p);
}

static void test_interval(void **state)
{
	run_interval(false);
}

static void test_interval_cumulative(void **state)
{
	run_interval(true);
}

static void test_duration(void **state)
{
	char *argv[] = {(char *)tt_usdtkit(), "stat", probe_value, "-d", "0.3", NULL};
	struct tt_proc p;
	char *out;

	assert_int_equal(tt_start(&p, argv), 0);
	if (tt_wait(&p, 30000) != 0)
		tt_dump(&p, "usdtkit stat -d");
	assert_int_equal(p.status, 0);
	out = tt_read(p.out_path);
	assert_int_equal(text_count(out, "stat:value"), 0);
	free(out);
	tt_cleanup(&p);
}

/* --- usage (no BPF needed) ------------------------------------------------ */

static int run_status(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[] = {(char *)tt_usdtkit(), "stat",	  (char *)a1, (char *)a2,
			(char *)a3,	      (char *)a4, NULL};
	struct tt_proc p;
	int st;

	assert_int_equal(tt_start(&p, argv), 0);
	st = tt_wait(&p, 30000);
	tt_cleanup(&p);
	return st;
}

static void test_usage(void **state)
{
	assert_int_equal(run_status("--help", NULL, NULL, NULL), 0);
	assert_int_equal(run_status(NULL, NULL, NULL, NULL), 2);
	assert_int_equal(run_status(probe_value, "--hist", "arg0", "--by=pid"), 2);
	assert_int_equal(run_status(probe_value, "--lhist", "arg0,10,0,1", NULL), 2);
	assert_int_equal(run_status(probe_value, "--lhist", "arg0,0,10", NULL), 2);
	assert_int_equal(run_status(probe_value, "--lhist", "arg0,0,100000,1", NULL), 2);
	assert_int_equal(run_status(probe_value, "--match", "arg0", NULL), 2);
	assert_int_equal(run_status("--latency", probe_value, NULL, NULL), 2);
	assert_int_equal(run_status(probe_value, "--unit", "ms", NULL), 2);
	assert_int_equal(run_status("stat:value", NULL, NULL, NULL), 2); /* no PATH, no target */
	assert_int_equal(run_status(probe_value, "-i", "0", NULL), 2);
}

static int usage_help_has_examples(void)
{
	char *argv[] = {(char *)tt_usdtkit(), "stat", "--help", NULL};
	struct tt_proc p;
	char *out;
	int ok;

	if (tt_start(&p, argv) || tt_wait(&p, 30000))
		return 0;
	out = tt_read(p.out_path);
	ok = strstr(out, "examples:") && strstr(out, "--latency") && strstr(out, "estimated");
	free(out);
	tt_cleanup(&p);
	return ok;
}

static void test_help(void **state)
{
	assert_true(usage_help_has_examples());
}

int main(int argc, char **argv)
{
	const struct CMUnitTest counts[] = {
		cmocka_unit_test(test_count_text),  cmocka_unit_test(test_count_json),
		cmocka_unit_test(test_by_arg),	    cmocka_unit_test(test_by_string),
		cmocka_unit_test(test_by_pid_text), cmocka_unit_test(test_by_double),
	};
	const struct CMUnitTest hist[] = {
		cmocka_unit_test(test_hist_log2),
		cmocka_unit_test(test_hist_text),
		cmocka_unit_test(test_lhist),
		cmocka_unit_test(test_lhist_text),
	};
	const struct CMUnitTest latency[] = {
		cmocka_unit_test(test_latency_tid),
		cmocka_unit_test(test_latency_match),
		cmocka_unit_test(test_latency_text),
		cmocka_unit_test(test_latency_same_probe),
	};
	const struct CMUnitTest targets[] = {
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_rescan),
		cmocka_unit_test(test_command_path_probes),
		cmocka_unit_test(test_command_stopped),
		cmocka_unit_test(test_output_file_tid),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_interval_cumulative),
		cmocka_unit_test(test_duration),
	};
	const struct CMUnitTest usage[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_help),
	};
	const char *group = argc > 1 ? argv[1] : "";
	int skip;

	if (!tt_stat_ready())
		return 1;
	init_probes();
	if (!strcmp(group, "usage"))
		return cmocka_run_group_tests_name("stat_usage", usage, NULL, NULL);
	skip = tt_bpf_permitted();
	if (skip)
		return skip;
	if (!strcmp(group, "counts"))
		return cmocka_run_group_tests_name("stat_counts", counts, NULL, NULL);
	if (!strcmp(group, "hist"))
		return cmocka_run_group_tests_name("stat_hist", hist, NULL, NULL);
	if (!strcmp(group, "latency"))
		return cmocka_run_group_tests_name("stat_latency", latency, NULL, NULL);
	if (!strcmp(group, "targets"))
		return cmocka_run_group_tests_name("stat_targets", targets, NULL, NULL);
	fprintf(stderr, "usage: %s counts|hist|latency|targets|usage\n", argv[0]);
	return 2;
}
