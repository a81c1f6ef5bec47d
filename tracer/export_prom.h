/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Prometheus exporter for `usdtkit stat`: renders a metrics registry
 * (metrics.h) in the text exposition format 0.0.4, serves it on
 * GET /metrics from a tiny HTTP/1.1 server in its own thread, or writes it
 * atomically to a file for node_exporter's textfile collector.
 *
 * The server takes one connection at a time (a scrape is one short
 * request); each is bounded in size and time so a slow or hostile client
 * delays the next scrape at most by the timeouts and never blocks stat.
 */
#ifndef USDTKIT_TRACER_EXPORT_PROM_H
#define USDTKIT_TRACER_EXPORT_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export_util.h"
#include "metrics.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Also render process_* metrics of this process (CPU, memory, start, fds). */
#define PROM_RENDER_PROCESS (1u << 0)

/* Appends the exposition of @r to @b (taking @r's lock). 0 or -ENOMEM. */
int prom_render(struct metrics_registry *r, struct xbuf *b, unsigned int flags);

/* Appends @v as the format writes sample values: 1, 0.5, +Inf, -Inf, NaN. */
void prom_format_value(struct xbuf *b, double v);

/* A parsed HTTP request head; pointers into the caller's buffer. */
struct http_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int minor; /* HTTP/1.minor */
};

/*
 * Parses the request head in @buf (@len bytes received so far): the
 * head's length once "\r\n\r\n" (or "\n\n") arrived, 0 if incomplete,
 * -EINVAL if malformed (a bad request line, header or version).
 */
long http_parse_request(const char *buf, size_t len, struct http_request *req);

/* The status the exporter answers @req with: 200, 404 or 405. */
int prom_http_status(const struct http_request *req);

/*
 * Splits "HOST:PORT", "[V6]:PORT" or ":PORT" into @host ("" for every
 * interface) and @port (decimal, 0..65535). 0 or -EINVAL.
 */
int prom_split_addr(const char *addr, char *host, size_t hsize, char *port, size_t psize);

struct prom_server_opts {
	size_t max_request; /* bytes of request head; default 8192 */
	unsigned int read_timeout_ms; /* to receive the head; default 2000 */
	unsigned int write_timeout_ms; /* to send the response; default 5000 */
	unsigned int render_flags; /* default PROM_RENDER_PROCESS when 0 */
	/*
	 * 0: render the registry as it is. Otherwise a scrape first asks the
	 * owner (prom_server__refresh_wanted) for fresh values and waits up
	 * to this long for prom_server__refreshed(): the owner refills the
	 * registry from its own loop, so no map is read from two threads.
	 */
	unsigned int refresh_wait_ms;
};

struct prom_server_stats {
	uint64_t connections;
	uint64_t scrapes; /* 200 responses */
	uint64_t errors; /* 4xx, timeouts, write errors */
};

struct prom_server;

/*
 * Binds @addr ("HOST:PORT", "[V6]:PORT", ":PORT" for every interface;
 * PORT 0 picks a free one) and serves @r until prom_server__stop(). Bind
 * errors are returned here, synchronously: -EINVAL for a malformed
 * address, -EADDRINUSE, -EACCES, ... @opts may be NULL.
 */
int prom_server__start(struct prom_server **out, const char *addr, struct metrics_registry *r,
		       const struct prom_server_opts *opts);
/* The bound port (useful with port 0). */
int prom_server__port(const struct prom_server *s);
void prom_server__stats(struct prom_server *s, struct prom_server_stats *st);
/* A scrape waits for fresh values (refresh_wait_ms): refill, then call _refreshed. */
bool prom_server__refresh_wanted(struct prom_server *s);
void prom_server__refreshed(struct prom_server *s);
/* Stops the thread (an in-flight request is cut short) and frees @s. */
void prom_server__stop(struct prom_server *s);

/*
 * Writes the exposition of @r to @path atomically: a temporary file in
 * the same directory, renamed over @path, so node_exporter never reads a
 * partial file. 0 or a negative errno.
 */
int prom_textfile_write(const char *path, struct metrics_registry *r, unsigned int flags);

#endif
