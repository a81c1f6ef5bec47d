// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Prometheus exporter: the exposition rendered from a registry (exact
 * lines, escaping, cumulative buckets), `promtool check metrics` on it,
 * the HTTP server against good, bad and garbage requests, the textfile
 * mode, and (group "prometheus") a real Prometheus server scraping the
 * endpoint with the value read back through PromQL.
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
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "export_prom.h"
#include "export_test_util.h"
#include "metrics.h"

static const char *const hit_labels[] = {"provider", "probe", "key"};

/* A registry like stat's: hits per probe/key, a log2 histogram, lost events. */
static struct metrics_registry *sample_registry(void)
{
	struct metrics_registry *r = metrics_registry__new(100);
	const char *const v1[] = {"app", "req", "a\"b\\c\nd"};
	const char *const v2[] = {"app", "req", "plain"};
	const char *const hv[] = {"app", "req"};
	uint64_t counts[66] = {0};
	double bounds[65];
	struct metric_family *hits, *hist, *lost;
	unsigned int nb;

	assert_non_null(r);
	hits = metrics__counter(r, "usdtkit_probe_hits", "Probe hits.", 3, hit_labels);
	assert_non_null(hits);
	nb = metrics_log2_bounds(bounds, 65);
	assert_int_equal(nb, 65);
	hist = metrics__histogram(r, "usdtkit_arg_value", "Argument values.", 2, hit_labels, nb,
				  bounds);
	assert_non_null(hist);
	lost = metrics__counter(r, "usdtkit_lost_events_total", "Events lost.", 0, NULL);
	assert_non_null(lost);
	metrics__update_begin(r);
	assert_int_equal(metric__set(hits, v1, 3), 0);
	assert_int_equal(metric__set(hits, v2, 12345), 0);
	counts[1] = 2; /* zeros */
	counts[2] = 1; /* [1, 2) */
	counts[4] = 4; /* [4, 8) */
	counts[65] = 1; /* >= 2^63 */
	assert_int_equal(metric__hist_set(hist, hv, counts, 30), 0);
	assert_int_equal(metric__set(lost, NULL, 7), 0);
	metrics__update_end(r);
	return r;
}

static char *render(struct metrics_registry *r, unsigned int flags)
{
	struct xbuf b = {0};

	assert_int_equal(prom_render(r, &b, flags), 0);
	assert_non_null(b.p);
	return b.p;
}

static void test_render_exact(void **state)
{
	struct metrics_registry *r = sample_registry();
	char *out = render(r, 0);

	(void)state;
	assert_non_null(strstr(out, "# HELP usdtkit_probe_hits_total Probe hits.\n"
				    "# TYPE usdtkit_probe_hits_total counter\n"
				    "usdtkit_probe_hits_total{provider=\"app\",probe=\"req\","
				    "key=\"a\\\"b\\\\c\\nd\"} 3\n"
				    "usdtkit_probe_hits_total{provider=\"app\",probe=\"req\","
				    "key=\"plain\"} 12345\n"));
	/* cumulative buckets with integer-exact log2 bounds */
	assert_non_null(strstr(out, "# TYPE usdtkit_arg_value histogram\n"
				    "usdtkit_arg_value_bucket{provider=\"app\",probe=\"req\","
				    "le=\"-1\"} 0\n"
				    "usdtkit_arg_value_bucket{provider=\"app\",probe=\"req\","
				    "le=\"0\"} 2\n"
				    "usdtkit_arg_value_bucket{provider=\"app\",probe=\"req\","
				    "le=\"1\"} 3\n"
				    "usdtkit_arg_value_bucket{provider=\"app\",probe=\"req\","
				    "le=\"3\"} 3\n"
				    "usdtkit_arg_value_bucket{provider=\"app\",probe=\"req\","
				    "le=\"7\"} 7\n"));
	assert_non_null(strstr(out, "usdtkit_arg_value_bucket{provider=\"app\",probe=\"req\","
				    "le=\"+Inf\"} 8\n"
				    "usdtkit_arg_value_sum{provider=\"app\",probe=\"req\"} 30\n"
				    "usdtkit_arg_value_count{provider=\"app\",probe=\"req\"} 8\n"));
	/* already ends in _total: not doubled */
	assert_non_null(strstr(out, "# TYPE usdtkit_lost_events_total counter\n"
				    "usdtkit_lost_events_total 7\n"));
	assert_null(strstr(out, "process_"));
	free(out);
	metrics_registry__free(r);
}

static void test_values_and_names(void **state)
{
	struct xbuf b = {0};
	struct metrics_registry *r = metrics_registry__new(4);
	const char *const bad_label[] = {"__reserved"};
	const char *const le_label[] = {"le"};
	const char *const dash[] = {"a-b"};
	double bounds[] = {1, 2};
	double unsorted[] = {2, 1};

	(void)state;
	prom_format_value(&b, 0.5);
	xbuf_ch(&b, ' ');
	prom_format_value(&b, 1.0 / 0.0);
	xbuf_ch(&b, ' ');
	prom_format_value(&b, -1.0 / 0.0);
	xbuf_ch(&b, ' ');
	prom_format_value(&b, 0.0 / 0.0);
	xbuf_ch(&b, ' ');
	prom_format_value(&b, 1e300);
	xbuf_ch(&b, ' ');
	prom_format_value(&b, -42);
	assert_string_equal(b.p, "0.5 +Inf -Inf NaN 1e+300 -42");
	xbuf_free(&b);

	assert_null(metrics__counter(r, "9bad", "", 0, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(metrics__counter(r, "ok", "", 1, bad_label));
	assert_null(metrics__counter(r, "ok", "", 1, dash));
	assert_null(metrics__histogram(r, "h", "", 1, le_label, 2, bounds));
	assert_null(metrics__histogram(r, "h", "", 0, NULL, 2, unsorted));
	assert_non_null(metrics__counter(r, "ns:ok", "", 0, NULL));
	assert_null(metrics__counter(r, "ns:ok_total", "", 0, NULL));
	assert_int_equal(errno, EEXIST);
	metrics_registry__free(r);
}

static void test_cardinality_bound(void **state)
{
	struct metrics_registry *r = metrics_registry__new(2);
	const char *const names[] = {"key"};
	const char *const a[] = {"a"}, *const bb[] = {"b"}, *const c[] = {"c"}, *const d[] = {"d"};
	struct metric_family *f;
	char *out;

	(void)state;
	f = metrics__counter(r, "usdtkit_keys", "Per key.", 1, names);
	assert_non_null(f);
	metrics__update_begin(r);
	assert_int_equal(metric__set(f, a, 1), 0);
	assert_int_equal(metric__set(f, bb, 2), 0);
	assert_int_equal(metric__set(f, c, 3), -E2BIG);
	assert_int_equal(metric__set(f, d, 4), -E2BIG);
	assert_int_equal(metric__add(f, a, 10), 0); /* existing series still update */
	metrics__update_end(r);
	out = render(r, 0);
	assert_non_null(strstr(out, "usdtkit_keys_total{key=\"a\"} 11\n"));
	assert_null(strstr(out, "key=\"c\""));
	assert_non_null(strstr(out, "# TYPE usdtkit_series_overflow gauge\n"
				    "usdtkit_series_overflow{metric=\"usdtkit_keys_total\"} 2\n"));
	free(out);
	/* the overflow is that of the last update */
	metrics__update_begin(r);
	metrics__update_end(r);
	out = render(r, 0);
	assert_null(strstr(out, "usdtkit_series_overflow"));
	free(out);
	metrics_registry__free(r);
}

static void test_process_metrics(void **state)
{
	struct metrics_registry *r = metrics_registry__new(1);
	double start = 0;
	char *out, *p;

	(void)state;
	out = render(r, PROM_RENDER_PROCESS);
	assert_non_null(strstr(out, "# TYPE process_cpu_seconds_total counter\n"));
	assert_non_null(strstr(out, "# TYPE process_resident_memory_bytes gauge\n"));
	p = strstr(out, "\nprocess_start_time_seconds ");
	assert_non_null(p);
	start = strtod(p + strlen("\nprocess_start_time_seconds "), NULL);
	/* started within the last hour, not in the future */
	assert_true(start > (double)time(NULL) - 3600 && start <= (double)time(NULL) + 1);
	free(out);
	metrics_registry__free(r);
}

static void test_http_parser(void **state)
{
	struct http_request req;
	const char *ok = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";

	(void)state;
	assert_int_equal(http_parse_request(ok, strlen(ok), &req), (long)strlen(ok));
	assert_int_equal(req.method_len, 3);
	assert_int_equal(req.target_len, strlen("/metrics?x=1"));
	assert_int_equal(req.minor, 1);
	assert_int_equal(prom_http_status(&req), 200);
	/* incomplete until the empty line */
	assert_int_equal(http_parse_request(ok, 20, &req), 0);
	assert_int_equal(http_parse_request("GET / HTTP/1.0\n\n", 16, &req), 16);
	assert_int_equal(prom_http_status(&req), 404);
	assert_int_equal(http_parse_request("POST /metrics HTTP/1.1\r\n\r\n", 26, &req), 26);
	assert_int_equal(prom_http_status(&req), 405);
	assert_int_equal(http_parse_request("HEAD /metrics HTTP/1.1\r\n\r\n", 26, &req), 26);
	assert_int_equal(prom_http_status(&req), 200);
	assert_int_equal(http_parse_request("GET /metricsx HTTP/1.1\r\n\r\n", 26, &req), 26);
	assert_int_equal(prom_http_status(&req), 404);
	/* malformed */
	assert_int_equal(http_parse_request("GET /metrics HTTP/2.0\r\n\r\n", 25, &req), -EINVAL);
	assert_int_equal(http_parse_request("GET  HTTP/1.1\r\n\r\n", 17, &req), -EINVAL);
	assert_int_equal(http_parse_request("GET /m HTTP/1.1\r\nNoColon\r\n\r\n", 28, &req),
			 -EINVAL);
	assert_int_equal(http_parse_request("\x16\x03\x01\x02", 4, &req), -EINVAL);
	assert_int_equal(http_parse_request("\r\n\r\n", 4, &req), -EINVAL);
}

/* promtool's linter accepts the exposition, and rejects a broken one. */
static void test_promtool(void **state)
{
	char *argv[] = {"promtool", "check", "metrics", NULL};
	struct metrics_registry *r;
	struct xbuf out = {0};
	char *text;
	int rc;

	(void)state;
	if (!have_program("promtool"))
		skip(); /* the prometheus package is missing */
	r = sample_registry();
	text = render(r, PROM_RENDER_PROCESS);
	rc = run_cmd(argv, text, &out, 30000);
	if (rc)
		print_message("promtool: %s\n", out.p ? out.p : "");
	assert_int_equal(rc, 0);
	assert_true(out.len == 0);
	free(text);
	xbuf_free(&out);
	/* the check can fail: a counter without _total, a bad label value */
	rc = run_cmd(argv, "# HELP c x\n# TYPE c counter\nc{a=\"\\q\"} 1\n", &out, 30000);
	assert_int_not_equal(rc, 0);
	xbuf_free(&out);
	metrics_registry__free(r);
}

static void get(int port, const char *req, struct xbuf *resp)
{
	xbuf_reset(resp);
	assert_int_equal(http_raw(port, req, strlen(req), resp, 10000), 0);
}

static void test_server(void **state)
{
	struct metrics_registry *r = sample_registry();
	struct prom_server_opts opts = {.read_timeout_ms = 300, .max_request = 1024};
	struct prom_server_stats st;
	struct prom_server *s;
	struct xbuf resp = {0}, big = {0};
	char *want;
	int port;

	(void)state;
	assert_int_equal(prom_server__start(&s, "127.0.0.1:0", r, &opts), 0);
	port = prom_server__port(s);
	assert_true(port > 0);

	get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &resp);
	assert_int_equal(http_status(&resp), 200);
	assert_non_null(strstr(resp.p, "Content-Type: " PROM_CONTENT_TYPE "\r\n"));
	want = render(r, 0);
	assert_non_null(strstr(http_body(&resp), want));
	assert_non_null(strstr(http_body(&resp), "process_cpu_seconds_total"));
	free(want);

	get(port, "HEAD /metrics HTTP/1.1\r\n\r\n", &resp);
	assert_int_equal(http_status(&resp), 200);
	assert_string_equal(http_body(&resp), "");
	get(port, "GET / HTTP/1.1\r\n\r\n", &resp);
	assert_int_equal(http_status(&resp), 404);
	get(port, "DELETE /metrics HTTP/1.1\r\n\r\n", &resp);
	assert_int_equal(http_status(&resp), 405);
	assert_non_null(strstr(resp.p, "Allow: GET, HEAD\r\n"));
	get(port, "\x16\x03\x01\x00\xa5\x01\x00\x00", &resp); /* a TLS hello */
	assert_int_equal(http_status(&resp), 400);
	/* a head beyond max_request */
	xbuf_str(&big, "GET /metrics HTTP/1.1\r\n");
	while (big.len < 2048)
		xbuf_str(&big, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	get(port, big.p, &resp);
	assert_int_equal(http_status(&resp), 431);
	/* a client that sends half a request and waits: 408 after the read timeout */
	get(port, "GET /metrics HTTP/1.1\r\n", &resp);
	assert_int_equal(http_status(&resp), 408);
	/* still serving */
	get(port, "GET /metrics HTTP/1.0\r\n\r\n", &resp);
	assert_int_equal(http_status(&resp), 200);
	prom_server__stats(s, &st);
	assert_int_equal(st.scrapes, 3);
	assert_int_equal(st.errors, 5);
	prom_server__stop(s);
	xbuf_free(&resp);
	xbuf_free(&big);
	metrics_registry__free(r);
}

/* Bounded random garbage: every reply is a well-formed status, the server survives. */
static void test_server_garbage(void **state)
{
	struct metrics_registry *r = sample_registry();
	struct prom_server_opts opts = {.read_timeout_ms = 100, .max_request = 512};
	static const char *const pieces[] = {"GET",  " ", "/metrics", "HTTP/1.1", "\r\n",
					     "\n",   ":", "\0",	      "\xff",	  "Host",
					     "POST", "%", "?"};
	struct prom_server *s;
	struct xbuf req = {0}, resp = {0};
	unsigned int seed = 12345, i, j, n;
	int port, status;

	(void)state;
	assert_int_equal(prom_server__start(&s, "127.0.0.1:0", r, &opts), 0);
	port = prom_server__port(s);
	for (i = 0; i < 150; i++) {
		xbuf_reset(&req);
		n = (unsigned int)rand_r(&seed) % 24;
		for (j = 0; j < n; j++) {
			const char *p = pieces[(unsigned int)rand_r(&seed) % 13];

			xbuf_add(&req, p, *p ? strlen(p) : 1);
		}
		if (i % 3 == 0)
			xbuf_str(&req, "\r\n\r\n");
		xbuf_reset(&resp);
		assert_int_equal(http_raw(port, req.p ? req.p : "", req.len, &resp, 10000), 0);
		status = http_status(&resp);
		/* nothing sent and the peer left: no reply is fine */
		if (resp.len)
			assert_true(status == 200 || status == 400 || status == 404 ||
				    status == 405 || status == 408 || status == 431);
	}
	get(port, "GET /metrics HTTP/1.1\r\n\r\n", &resp);
	assert_int_equal(http_status(&resp), 200);
	prom_server__stop(s);
	xbuf_free(&req);
	xbuf_free(&resp);
	metrics_registry__free(r);
}

static void test_bind_forms(void **state)
{
	struct metrics_registry *r = metrics_registry__new(1);
	struct prom_server *s;
	int err;

	(void)state;
	assert_int_equal(prom_server__start(&s, ":0", r, NULL), 0);
	assert_true(prom_server__port(s) > 0);
	prom_server__stop(s);
	err = prom_server__start(&s, "[::1]:0", r, NULL);
	if (err != -EADDRNOTAVAIL && err != -EAFNOSUPPORT) {
		assert_int_equal(err, 0);
		prom_server__stop(s);
	}
	assert_int_equal(prom_server__start(&s, "127.0.0.1", r, NULL), -EINVAL);
	assert_int_equal(prom_server__start(&s, "::1:80", r, NULL), -EINVAL);
	assert_int_equal(prom_server__start(&s, "127.0.0.1:99999", r, NULL), -EINVAL);
	assert_int_equal(prom_server__start(&s, "127.0.0.1:8x", r, NULL), -EINVAL);
	assert_int_equal(prom_server__start(&s, "127.0.0.1:009464", r, NULL), -EINVAL);
	metrics_registry__free(r);
}

static void test_textfile(void **state)
{
	struct metrics_registry *r = sample_registry();
	char dir[256], path[300], buf[65536];
	struct dirent *d;
	char *want;
	int entries = 0;
	FILE *f;
	size_t n;
	DIR *dh;

	(void)state;
	assert_int_equal(make_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/usdtkit.prom", dir);
	assert_int_equal(prom_textfile_write(path, r, 0), 0);
	assert_int_equal(prom_textfile_write(path, r, 0), 0); /* replaces */
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	want = render(r, 0);
	assert_string_equal(buf, want);
	free(want);
	dh = opendir(dir);
	assert_non_null(dh);
	while ((d = readdir(dh)))
		if (d->d_name[0] != '.' || (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")))
			entries++;
	closedir(dh);
	assert_int_equal(entries, 1); /* no temporary left behind */
	snprintf(path, sizeof(path), "%s/missing/usdtkit.prom", dir);
	assert_int_equal(prom_textfile_write(path, r, 0), -ENOENT);
	remove_tree(dir);
	metrics_registry__free(r);
}

/*
 * A real Prometheus scrapes the endpoint every second; the PromQL query
 * through its HTTP API must return the exact value the registry holds.
 */
static void test_prometheus_scrape(void **state)
{
	struct metrics_registry *r = sample_registry();
	struct prom_server *s;
	char dir[256], cfg[300], data[300], log[300], listen[64], cfgarg[320], dataarg[320];
	char req[512];
	struct xbuf resp = {0};
	int port, pport, i;
	bool found = false;
	pid_t pid;
	FILE *f;

	(void)state;
	if (!have_program("prometheus"))
		skip(); /* the prometheus package is missing */
	assert_int_equal(prom_server__start(&s, "127.0.0.1:0", r, NULL), 0);
	port = prom_server__port(s);
	pport = free_port();
	assert_true(pport > 0);
	assert_int_equal(make_tmpdir(dir, sizeof(dir)), 0);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", dir);
	f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
		"global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		"scrape_configs:\n  - job_name: usdtkit\n    static_configs:\n"
		"      - targets: ['127.0.0.1:%d']\n",
		port);
	assert_int_equal(fclose(f), 0);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", pport);
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", cfg);
	snprintf(dataarg, sizeof(dataarg), "--storage.tsdb.path=%s", data);
	{
		char *argv[] = {"prometheus", cfgarg, dataarg, listen, NULL};

		pid = spawn_cmd(argv, log);
	}
	assert_true(pid > 0);
	snprintf(req, sizeof(req),
		 "GET /api/v1/query?query=usdtkit_probe_hits_total%%7Bkey%%3D%%22plain%%22%%7D "
		 "HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	/* bounded: 60 tries of 0.5 s */
	for (i = 0; i < 60 && !found; i++) {
		usleep(500000);
		xbuf_reset(&resp);
		if (http_raw(pport, req, strlen(req), &resp, 5000) || http_status(&resp) != 200)
			continue;
		found = strstr(http_body(&resp), ",\"12345\"]") != NULL;
	}
	if (!found)
		print_message("last reply: %s\n", resp.p ? resp.p : "(none)");
	assert_true(found);
	/* and the instance is up, scraped by Prometheus itself */
	snprintf(req, sizeof(req),
		 "GET /api/v1/query?query=up%%7Bjob%%3D%%22usdtkit%%22%%7D HTTP/1.1\r\n"
		 "Host: 127.0.0.1\r\nConnection: close\r\n\r\n");
	xbuf_reset(&resp);
	assert_int_equal(http_raw(pport, req, strlen(req), &resp, 5000), 0);
	assert_non_null(strstr(http_body(&resp), ",\"1\"]"));
	stop_cmd(pid);
	prom_server__stop(s);
	remove_tree(dir);
	xbuf_free(&resp);
	metrics_registry__free(r);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_values_and_names),
		cmocka_unit_test(test_cardinality_bound),
		cmocka_unit_test(test_process_metrics),
		cmocka_unit_test(test_http_parser),
		cmocka_unit_test(test_promtool),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_server_garbage),
		cmocka_unit_test(test_bind_forms),
		cmocka_unit_test(test_textfile),
	};
	const struct CMUnitTest peer[] = {
		cmocka_unit_test(test_prometheus_scrape),
	};

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "prometheus"))
		return cmocka_run_group_tests_name("prometheus", peer, NULL, NULL);
	return cmocka_run_group_tests_name("prom", unit, NULL, NULL);
}
