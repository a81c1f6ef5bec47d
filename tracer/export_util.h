/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Small pieces the exporters (export_prom, export_otlp, export_chrome)
 * share: a growable byte buffer they render into before one write(2) or
 * send(2), a JSON string escaper into that buffer, and socket helpers with
 * deadlines. The exporters render into memory rather than a FILE so that
 * a request body or a whole event is either written completely or not at
 * all (a killed run never leaves half an event), and so a network peer
 * never blocks the thread that produced the data.
 */
#ifndef USDTKIT_TRACER_EXPORT_UTIL_H
#define USDTKIT_TRACER_EXPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xbuf {
	char *p;
	size_t len;
	size_t cap;
	int err; /* sticky -ENOMEM: checked once after rendering */
};

void xbuf_free(struct xbuf *b);
void xbuf_reset(struct xbuf *b);
int xbuf_reserve(struct xbuf *b, size_t extra);
void xbuf_add(struct xbuf *b, const void *p, size_t len);
void xbuf_str(struct xbuf *b, const char *s);
void xbuf_ch(struct xbuf *b, char c);
void xbuf_u64(struct xbuf *b, uint64_t v);
void xbuf_i64(struct xbuf *b, int64_t v);
void xbuf_printf(struct xbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* @ns as microseconds with three decimals ("12.345"), exact. */
void xbuf_us_from_ns(struct xbuf *b, uint64_t ns);
/* Appends @s as a quoted JSON string; invalid UTF-8 bytes become \u00XX. */
void xbuf_json_str(struct xbuf *b, const char *s, size_t len);
/* The same without the quotes. */
void xbuf_json_chars(struct xbuf *b, const char *s, size_t len);
/* A JSON number that reads back as @v; non-finite values as null. */
void xbuf_json_double(struct xbuf *b, double v);

uint64_t export_now_ns(int clock);

/*
 * Writes all of @len bytes to @fd (blocking or not), retrying on EINTR and
 * short writes and polling a non-blocking socket until @deadline_ns
 * (CLOCK_MONOTONIC, 0: none). 0 or a negative errno (-ETIMEDOUT).
 */
int export_write_all(int fd, const void *p, size_t len, uint64_t deadline_ns);
/* poll(2) @fd for @events until @deadline_ns: 1 ready, -ETIMEDOUT, -errno. */
int export_poll_until(int fd, short events, uint64_t deadline_ns);

#endif
