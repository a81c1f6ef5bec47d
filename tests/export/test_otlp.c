// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * OTLP/HTTP JSON exporter against otlp_receiver.py on loopback:
 *  - schema: the receiver parses every body with protobuf's json_format
 *    into classes protoc generated from opentelemetry-proto (unknown or
 *    misnamed fields fail), and the decoded records match what was sent;
 *  - retry: the receiver answers 503 twice, the batch is delivered;
 *  - drop: no receiver, a tiny queue: the producer never waits and every
 *    record is counted as failed or dropped;
 *  - unit: URL parsing and the encoder's JSON mapping.
 * The schema group needs the .proto files (USDTKIT_OTLP_PROTO_DIR, the copy
 * build.sh fetches into build-deps/, or /usr/share/opentelemetry-proto)
 * and skips (77) without them.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "export_otlp.h"
#include "export_test_util.h"

static const char *proto_dir;

struct receiver {
	char dir[256], port_file[300], out[300], log[300];
	int port;
	pid_t pid;
};

static void receiver_start(struct receiver *rc, const char *protos, int fail_first, int reject)
{
	char script[512], ff[16], rj[16];
	const char *src = getenv("USDTKIT_SOURCE_DIR");
	int i;
	FILE *f;

	memset(rc, 0, sizeof(*rc));
	assert_non_null(src);
	snprintf(script, sizeof(script), "%s/tests/export/otlp_receiver.py", src);
	assert_int_equal(make_tmpdir(rc->dir, sizeof(rc->dir)), 0);
	snprintf(rc->port_file, sizeof(rc->port_file), "%s/port", rc->dir);
	snprintf(rc->out, sizeof(rc->out), "%s/records.txt", rc->dir);
	snprintf(rc->log, sizeof(rc->log), "%s/receiver.log", rc->dir);
	snprintf(ff, sizeof(ff), "%d", fail_first);
	snprintf(rj, sizeof(rj), "%d", reject);
	{
		/* Debian's interpreter: python3-protobuf is installed for it */
		char *argv[] = {"/usr/bin/python3",
				script,
				"--port-file",
				rc->port_file,
				"--out",
				rc->out,
				"--fail-first",
				ff,
				"--max-seconds",
				"60",
				"--reject",
				rj,
				protos ? "--proto-dir" : NULL,
				(char *)protos,
				NULL};

		rc->pid = spawn_cmd(argv, rc->log);
	}
	assert_true(rc->pid > 0);
	/* bounded wait for the port (protoc runs first) */
	for (i = 0; i < 300 && !rc->port; i++) {
		f = fopen(rc->port_file, "r");
		if (f) {
			if (fscanf(f, "%d", &rc->port) != 1)
				rc->port = 0;
			fclose(f);
		}
		if (!rc->port)
			usleep(50000);
	}
	if (!rc->port) {
		char *cat[] = {"cat", rc->log, NULL};
		struct xbuf o = {0};

		run_cmd(cat, NULL, &o, 5000);
		print_message("receiver did not start: %s\n", o.p ? o.p : "");
		xbuf_free(&o);
	}
	assert_true(rc->port > 0);
}

/* The receiver's record lines. */
static char *receiver_output(struct receiver *rc)
{
	struct xbuf o = {0};
	char *argv[] = {"cat", rc->out, NULL};

	assert_int_equal(run_cmd(argv, NULL, &o, 5000), 0);
	return o.p ? o.p : strdup("");
}

static void receiver_stop(struct receiver *rc)
{
	stop_cmd(rc->pid);
	remove_tree(rc->dir);
}

static void fill_event(struct event *e, uint32_t pid, uint64_t ts)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = ts;
	e->mono_ns = ts / 1000;
	e->pid = pid;
	e->tid = pid + 1;
	e->comm = "worker-1xxxx";
	e->comm_len = 8;
	e->provider = "app";
	e->name = "req";
	e->nargs = 7;
	e->args[0] = (struct event_value){.name = "neg", .kind = EVENT_VAL_INT, .i = -5};
	e->args[1] = (struct event_value){
		.name = "big", .kind = EVENT_VAL_UINT, .u = 9223372036854775809ull};
	e->args[2] = (struct event_value){.name = "d", .kind = EVENT_VAL_DOUBLE, .d = 2.5};
	e->args[3] = (struct event_value){
		.name = "s", .kind = EVENT_VAL_STR, .str = {.p = "h\xc3\xa9\"llo\n\xff", .len = 9}};
	e->args[4] = (struct event_value){.name = "p", .kind = EVENT_VAL_PTR, .u = 0xdead};
	e->args[5] = (struct event_value){.name = "nul", .kind = EVENT_VAL_NULL};
	e->args[6] = (struct event_value){.name = "bad", .kind = EVENT_VAL_FAULT};
}

static void test_schema(void **state)
{
	struct otlp_opts o = {.batch_timeout_ms = 50};
	struct event_value attr = {.name = "status", .kind = EVENT_VAL_INT, .i = 200};
	struct otlp_exporter *x;
	struct otlp_stats st;
	struct receiver rc;
	struct event e;
	struct span s = {.start_ns = 1700000000123456789ull,
			 .end_ns = 1700000000123459789ull,
			 .pid = (uint32_t)getpid(),
			 .tid = 7,
			 .name = "app:entry..app:return",
			 .key = "k1",
			 .nattrs = 1,
			 .attrs = &attr};
	char url[128], pidattr[64], bad[] = "{\"resourceLogs\":[{\"scopeLog\":[]}]}";
	char req[256];
	struct xbuf resp = {0};
	char *out;
	int n;

	(void)state;
	receiver_start(&rc, proto_dir, 0, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/base/", rc.port);
	o.url = url;
	assert_int_equal(otlp_exporter__new(&x, &o), 0);
	fill_event(&e, (uint32_t)getpid(), 1700000000000000001ull);
	assert_int_equal(otlp_event_sink_ops.event(x, &e), 0);
	assert_int_equal(otlp__log(x, &e), 0);
	fill_event(&e, (uint32_t)getppid(), 1700000000000000002ull);
	assert_int_equal(otlp__log(x, &e), 0);
	assert_int_equal(otlp__span(x, &s), 0);
	s.key = NULL;
	assert_int_equal(otlp_span_sink_ops.span(x, &s), 0);
	assert_int_equal(otlp__flush(x, 20000), 0);
	assert_int_equal(otlp_exporter__close(x, &st), 0);
	assert_int_equal(st.logs_sent, 3);
	assert_int_equal(st.spans_sent, 2);
	assert_int_equal(st.logs_failed + st.logs_dropped + st.spans_failed + st.spans_dropped, 0);

	/* the receiver's decoder can fail: a misnamed field is refused */
	n = snprintf(req, sizeof(req),
		     "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     strlen(bad), bad);
	assert_int_equal(http_raw(rc.port, req, (size_t)n, &resp, 10000), 0);
	assert_int_equal(http_status(&resp), 400);
	xbuf_free(&resp);

	out = receiver_output(&rc);
	print_message("%s", out);
	assert_non_null(strstr(out, "request /base/v1/logs 200 records=3\n"));
	assert_non_null(strstr(out, "request /base/v1/traces 200 records=2\n"));
	assert_non_null(strstr(out, "error decode /v1/logs"));
	/* one error line: ours */
	assert_null(strstr(strstr(out, "error decode") + 1, "error"));
	snprintf(pidattr, sizeof(pidattr), "process.pid=int:%d ", getpid());
	assert_non_null(strstr(out, pidattr));
	snprintf(pidattr, sizeof(pidattr), "process.pid=int:%d ", getppid());
	assert_non_null(strstr(out, pidattr));
	assert_non_null(
		strstr(out, "log scope=usdtkit time=1700000000000000001 body=string:app:req"));
	assert_non_null(strstr(out, "usdt.provider=string:app usdt.probe=string:req "
				    "thread.id=int:"));
	assert_non_null(strstr(out, "thread.name=string:worker-1 usdt.arg.neg=int:-5 "
				    "usdt.arg.big=string:9223372036854775809 usdt.arg.d=double:2.5 "
				    "usdt.arg.s=string:h\xc3\xa9\"llo\n\\u00ff"
				    " usdt.arg.p=string:0xdead usdt.arg.nul=empty:\n") ||
			strstr(out, "usdt.arg.neg=int:-5 usdt.arg.big=string:9223372036854775809 "
				    "usdt.arg.d=double:2.5"));
	assert_null(strstr(out, "usdt.arg.bad"));
	assert_non_null(strstr(out, "span name=app:entry..app:return start=1700000000123456789 "
				    "end=1700000000123459789 trace="));
	assert_non_null(strstr(out, "usdt.key=string:k1 thread.id=int:7 usdt.arg.status=int:200"));
	assert_non_null(strstr(out, "host.name=string:"));
	assert_non_null(strstr(out, "kind=SPAN_KIND_INTERNAL"));
	free(out);
	receiver_stop(&rc);
}

static void test_retry(void **state)
{
	struct otlp_opts o = {.batch_timeout_ms = 20, .backoff_ms = 50};
	struct otlp_exporter *x;
	struct otlp_stats st;
	struct receiver rc;
	struct event e;
	char url[128], *out;

	(void)state;
	receiver_start(&rc, NULL, 2, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", rc.port);
	o.url = url;
	assert_int_equal(otlp_exporter__new(&x, &o), 0);
	fill_event(&e, (uint32_t)getpid(), 1);
	assert_int_equal(otlp__log(x, &e), 0);
	assert_int_equal(otlp__flush(x, 20000), 0);
	assert_int_equal(otlp_exporter__close(x, &st), 0);
	assert_int_equal(st.logs_sent, 1);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.requests, 3);
	out = receiver_output(&rc);
	assert_non_null(strstr(out, "request /v1/logs 503\nrequest /v1/logs 503\n"
				    "request /v1/logs 200 records=1\n"));
	free(out);
	receiver_stop(&rc);
}

/* A 200 whose partialSuccess rejects records: they count as failed. */
static void test_partial(void **state)
{
	struct otlp_opts o = {.batch_timeout_ms = 20};
	struct otlp_exporter *x;
	struct otlp_stats st;
	struct receiver rc;
	struct event e;
	char url[128];
	int i;

	(void)state;
	receiver_start(&rc, NULL, 0, 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", rc.port);
	o.url = url;
	assert_int_equal(otlp_exporter__new(&x, &o), 0);
	fill_event(&e, (uint32_t)getpid(), 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(otlp__log(x, &e), 0);
	assert_int_equal(otlp__flush(x, 20000), 0);
	assert_int_equal(otlp_exporter__close(x, &st), -EIO);
	assert_int_equal(st.logs_sent, 3);
	assert_int_equal(st.logs_failed, 2);
	assert_int_equal(st.requests, 1);
	receiver_stop(&rc);
}

static void test_drop(void **state)
{
	struct otlp_opts o = {.queue_records = 4,
			      .batch_timeout_ms = 10,
			      .max_retries = 2,
			      .backoff_ms = 20,
			      .close_timeout_ms = 2000};
	struct otlp_exporter *x;
	struct otlp_stats st;
	struct event e;
	char url[128];
	int i, port = free_port();

	(void)state;
	assert_true(port > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port); /* nobody listens */
	o.url = url;
	assert_int_equal(otlp_exporter__new(&x, &o), 0);
	fill_event(&e, (uint32_t)getpid(), 1);
	for (i = 0; i < 100; i++)
		assert_int_equal(otlp__log(x, &e), 0);
	assert_int_equal(otlp_exporter__close(x, &st), -EIO);
	assert_int_equal(st.logs_sent, 0);
	assert_int_equal(st.logs_failed + st.logs_dropped, 100);
	/* at most one queue plus one batch in flight got a chance */
	assert_true(st.logs_dropped >= 100 - 2 * 4);
	assert_true(st.logs_failed >= 1);
}

static void test_unit(void **state)
{
	char host[64], port[8], path[64];
	struct otlp_opts o = {.url = "https://collector:4318"};
	struct otlp_exporter *x;
	struct xbuf b = {0};
	struct event e;

	(void)state;
	assert_int_equal(otlp_parse_url("http://h:4318/a/b//", host, 64, port, 8, path, 64), 0);
	assert_string_equal(host, "h");
	assert_string_equal(port, "4318");
	assert_string_equal(path, "/a/b");
	assert_int_equal(otlp_parse_url("http://[::1]/", host, 64, port, 8, path, 64), 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "80");
	assert_string_equal(path, "");
	assert_int_equal(otlp_parse_url("https://h", host, 64, port, 8, path, 64),
			 -EPROTONOSUPPORT);
	assert_int_equal(otlp_parse_url("h:4318", host, 64, port, 8, path, 64), -EINVAL);
	assert_int_equal(otlp_parse_url("http://h:99999", host, 64, port, 8, path, 64), -EINVAL);
	assert_int_equal(otlp_parse_url("http://u@h", host, 64, port, 8, path, 64), -EINVAL);
	assert_int_equal(otlp_parse_url("http://h:1/a?b", host, 64, port, 8, path, 64), -EINVAL);
	assert_int_equal(otlp_exporter__new(&x, &o), -EPROTONOSUPPORT);

	fill_event(&e, 42, 5);
	otlp_encode_log(&b, &e, 6);
	assert_non_null(strstr(b.p, "{\"timeUnixNano\":\"5\",\"observedTimeUnixNano\":\"6\","
				    "\"body\":{\"stringValue\":\"app:req\"},\"attributes\":["));
	assert_non_null(strstr(b.p, "{\"key\":\"usdt.arg.neg\",\"value\":{\"intValue\":\"-5\"}}"));
	assert_non_null(strstr(b.p, "{\"key\":\"usdt.arg.s\",\"value\":{\"stringValue\":"
				    "\"h\xc3\xa9\\\"llo\\n\\u00ff\"}}"));
	xbuf_free(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest schema[] = {cmocka_unit_test(test_schema)};
	const struct CMUnitTest other[] = {
		cmocka_unit_test(test_unit),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_drop),
	};
	const char *group = argc > 1 ? argv[1] : "other";
	struct stat sb;
	char probe[1024];
	static char fetched[512];

	signal(SIGPIPE, SIG_IGN);
	if (strcmp(group, "schema"))
		return cmocka_run_group_tests_name("otlp", other, NULL, NULL);
	/* the environment, then what build.sh fetched, then a system copy */
	proto_dir = getenv("USDTKIT_OTLP_PROTO_DIR");
	if (!proto_dir || !*proto_dir) {
		const char *src = getenv("USDTKIT_SOURCE_DIR");

		snprintf(fetched, sizeof(fetched), "%s/build-deps/otlp-proto/package/build/protos",
			 src ? src : ".");
		snprintf(probe, sizeof(probe), "%s/opentelemetry/proto/logs/v1/logs.proto",
			 fetched);
		proto_dir = stat(probe, &sb) ? "/usr/share/opentelemetry-proto" : fetched;
	}
	snprintf(probe, sizeof(probe), "%s/opentelemetry/proto/logs/v1/logs.proto", proto_dir);
	if (stat(probe, &sb)) {
		printf("SKIP: no opentelemetry-proto schema at %s (Debian 12 packages none; "
		       "./build.sh fetches one with npm, or set USDTKIT_OTLP_PROTO_DIR)\n",
		       proto_dir);
		return 77;
	}
	if (!have_program("protoc")) {
		printf("SKIP: protoc (protobuf-compiler) is not installed\n");
		return 77;
	}
	return cmocka_run_group_tests_name("otlp_schema", schema, NULL, NULL);
}
