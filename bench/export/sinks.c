// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Per-event user-space cost of the exporter sinks, side by side with the
 * JSON-lines writer `trace --json` uses (tracer/json.c), and the scrape
 * latency of /metrics with 10 000 series. One run; figures and ratios.
 *
 *   sinks [EVENTS]
 *
 * OTLP is measured as the producer sees it: encode + enqueue, with a
 * queue large enough that nothing is dropped and the sender thread
 * posting to a port where nothing listens (its retries run on the other
 * core, as they would in production). Chrome writes to /dev/null.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "export_chrome.h"
#include "export_otlp.h"
#include "export_prom.h"
#include "json.h"

/*
 * The producer's own CPU time: on a shared machine wall time mostly
 * measures the neighbours. (The sender thread's work is not included:
 * it runs beside the ring consumer, not in it.)
 */
static uint64_t now(void)
{
	return export_now_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void fill(struct event *e, uint64_t i)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = 1700000000000000000ull + i;
	e->mono_ns = 1000000 + i * 100;
	e->pid = 4242;
	e->tid = 4242 + (uint32_t)(i & 3);
	e->comm = "worker";
	e->comm_len = 6;
	e->provider = "app";
	e->name = "request";
	e->nargs = 3;
	e->args[0] = (struct event_value){.name = "id", .kind = EVENT_VAL_INT, .i = (int64_t)i};
	e->args[1] = (struct event_value){
		.name = "path", .kind = EVENT_VAL_STR, .str = {.p = "/api/v1/items", .len = 13}};
	e->args[2] = (struct event_value){.name = "ms", .kind = EVENT_VAL_DOUBLE, .d = 1.25};
}

/* A JSON line like trace --json writes for an event. */
static void json_line(struct json_writer *w, const struct event *e)
{
	unsigned int i;

	json__object_begin(w);
	json__kv_uint(w, "ts", e->ts_ns);
	json__kv_uint(w, "pid", e->pid);
	json__kv_uint(w, "tid", e->tid);
	json__key(w, "comm");
	json__string_len(w, e->comm, e->comm_len);
	json__kv_string(w, "provider", e->provider);
	json__kv_string(w, "name", e->name);
	json__key(w, "args");
	json__object_begin(w);
	for (i = 0; i < e->nargs; i++) {
		json__key(w, e->args[i].name);
		if (e->args[i].kind == EVENT_VAL_INT)
			json__int(w, e->args[i].i);
		else if (e->args[i].kind == EVENT_VAL_STR)
			json__string_len(w, e->args[i].str.p, e->args[i].str.len);
		else
			json__double(w, e->args[i].d);
	}
	json__object_end(w);
	json__object_end(w);
	json__newline(w);
}

static int scrape(int port, char *buf, size_t size, size_t *got)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	ssize_t n;
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, sizeof(req) - 1) != sizeof(req) - 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*got = 0;
	while ((n = read(fd, buf, size)) > 0)
		*got += (size_t)n;
	close(fd);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000, i, t0, t1;
	double json_ns, otlp_ns, enc_ns, chrome_ns, scrape_ms[3], render_ms;
	static char buf[1 << 16];
	const char *const labels[] = {"provider", "probe", "key"};
	struct otlp_opts oo = {.batch_timeout_ms = 1, .max_retries = -1u};
	struct json_writer w;
	struct otlp_exporter *x;
	struct otlp_stats st;
	struct chrome_writer *cw;
	struct metrics_registry *r;
	struct metric_family *f;
	struct prom_server *srv;
	struct xbuf b = {0};
	struct event e;
	char url[64], key[32];
	uint64_t lat[21];
	size_t got = 0;
	FILE *null;
	int port, fd;

	null = fopen("/dev/null", "we");
	if (!null)
		return 1;
	setvbuf(null, NULL, _IOFBF, 1 << 16);
	json_writer__init(&w, null);
	t0 = now();
	for (i = 0; i < n; i++) {
		fill(&e, i);
		json_line(&w, &e);
	}
	fflush(null);
	json_ns = (double)(now() - t0) / (double)n;

	t0 = now();
	for (i = 0; i < n; i++) {
		fill(&e, i);
		xbuf_reset(&b);
		otlp_encode_log(&b, &e, e.ts_ns);
	}
	enc_ns = (double)(now() - t0) / (double)n;

	/* nothing listens on the port: the sender fails batches on the other core */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		getsockname(fd, (struct sockaddr *)&sa, &sl);
		port = ntohs(sa.sin_port);
	}
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	oo.url = url;
	oo.queue_records = (size_t)n;
	if (otlp_exporter__new(&x, &oo))
		return 1;
	t0 = now();
	for (i = 0; i < n; i++) {
		fill(&e, i);
		otlp__log(x, &e);
	}
	otlp_ns = (double)(now() - t0) / (double)n;
	otlp__stats(x, &st);
	otlp_exporter__close(x, &st);

	if (chrome_writer__open(&cw, "/dev/null", -1))
		return 1;
	t0 = now();
	for (i = 0; i < n; i++) {
		fill(&e, i);
		chrome__event(cw, &e);
	}
	chrome__flush(cw);
	chrome_ns = (double)(now() - t0) / (double)n;
	chrome_writer__close(cw);

	/* 10 000 series: 100 probes x 100 keys */
	r = metrics_registry__new(10000);
	f = r ? metrics__counter(r, "usdtkit_probe_hits", "Probe hits.", 3, labels) : NULL;
	if (!f)
		return 1;
	metrics__update_begin(r);
	for (i = 0; i < 10000; i++) {
		char probe[32];
		const char *const v[] = {"app", probe, key};

		snprintf(probe, sizeof(probe), "probe%llu", (unsigned long long)(i / 100));
		snprintf(key, sizeof(key), "key%llu", (unsigned long long)(i % 100));
		metric__set(f, v, (double)i * 7);
	}
	metrics__update_end(r);
	xbuf_reset(&b);
	t0 = now();
	prom_render(r, &b, PROM_RENDER_PROCESS);
	render_ms = (double)(now() - t0) / 1e6;
	if (prom_server__start(&srv, "127.0.0.1:0", r, NULL))
		return 1;
	for (i = 0; i < 21; i++) {
		t0 = export_now_ns(CLOCK_MONOTONIC);
		if (scrape(prom_server__port(srv), buf, sizeof(buf), &got))
			return 1;
		t1 = export_now_ns(CLOCK_MONOTONIC);
		lat[i] = t1 - t0;
	}
	qsort(lat, 21, sizeof(lat[0]), cmp_u64);
	scrape_ms[0] = (double)lat[0] / 1e6;
	scrape_ms[1] = (double)lat[10] / 1e6;
	scrape_ms[2] = (double)lat[20] / 1e6;
	prom_server__stop(srv);
	metrics_registry__free(r);

	printf("exporter sinks, producer CPU time, %llu events (3 args: int, string, double)\n",
	       (unsigned long long)n);
	printf("  %-36s %8.1f ns/event  1.00x\n", "JSON lines (tracer/json.c, /dev/null)", json_ns);
	printf("  %-36s %8.1f ns/event  %.2fx\n", "OTLP log encode only", enc_ns, enc_ns / json_ns);
	printf("  %-36s %8.1f ns/event  %.2fx  (%llu dropped)\n", "OTLP encode + enqueue", otlp_ns,
	       otlp_ns / json_ns, (unsigned long long)st.logs_dropped);
	printf("  %-36s %8.1f ns/event  %.2fx\n", "Chrome trace (/dev/null)", chrome_ns,
	       chrome_ns / json_ns);
	printf("prometheus /metrics, 10000 series, %zu bytes per scrape\n", got);
	printf("  %-36s %8.2f ms CPU\n", "render only", render_ms);
	printf("  %-36s %8.2f / %.2f / %.2f ms (min/median/max of 21)\n", "GET /metrics",
	       scrape_ms[0], scrape_ms[1], scrape_ms[2]);
	xbuf_free(&b);
	fclose(null);
	return 0;
}
