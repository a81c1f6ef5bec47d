// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Shared buffer, JSON and socket helpers of the exporters (export_util.h). */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "export_util.h"

void xbuf_free(struct xbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void xbuf_reset(struct xbuf *b)
{
	b->len = 0;
	b->err = 0;
}

int xbuf_reserve(struct xbuf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			return b->err = -ENOMEM;
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void xbuf_add(struct xbuf *b, const void *p, size_t len)
{
	if (xbuf_reserve(b, len))
		return;
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void xbuf_str(struct xbuf *b, const char *s)
{
	xbuf_add(b, s, strlen(s));
}

void xbuf_ch(struct xbuf *b, char c)
{
	if (xbuf_reserve(b, 1))
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void xbuf_u64(struct xbuf *b, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	xbuf_add(b, tmp + i, sizeof(tmp) - i);
}

void xbuf_i64(struct xbuf *b, int64_t v)
{
	if (v < 0) {
		xbuf_ch(b, '-');
		xbuf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		xbuf_u64(b, (uint64_t)v);
	}
}

void xbuf_printf(struct xbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || xbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void xbuf_us_from_ns(struct xbuf *b, uint64_t ns)
{
	char frac[4];
	unsigned int r = (unsigned int)(ns % 1000);

	xbuf_u64(b, ns / 1000);
	frac[0] = '.';
	frac[1] = (char)('0' + r / 100);
	frac[2] = (char)('0' + r / 10 % 10);
	frac[3] = (char)('0' + r % 10);
	xbuf_add(b, frac, sizeof(frac));
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return n;
}

void xbuf_json_chars(struct xbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, n;
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};

	/* worst case 6 bytes per input byte: one reservation */
	if (len > (SIZE_MAX - 2) / 6 || xbuf_reserve(b, len * 6 + 2))
		return;
	while (i < len) {
		run = i;
		while (run < len && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' &&
		       u[run] != '\\')
			run++;
		if (run > i) {
			xbuf_add(b, s + i, run - i);
			i = run;
			continue;
		}
		switch (u[i]) {
		case '"':
			xbuf_add(b, "\\\"", 2);
			break;
		case '\\':
			xbuf_add(b, "\\\\", 2);
			break;
		case '\n':
			xbuf_add(b, "\\n", 2);
			break;
		case '\t':
			xbuf_add(b, "\\t", 2);
			break;
		case '\r':
			xbuf_add(b, "\\r", 2);
			break;
		default:
			n = u[i] >= 0x80 ? utf8_len(u + i, len - i) : 0;
			if (n) {
				xbuf_add(b, s + i, n);
				i += n;
				continue;
			}
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 15];
			xbuf_add(b, esc, sizeof(esc));
		}
		i++;
	}
}

void xbuf_json_str(struct xbuf *b, const char *s, size_t len)
{
	xbuf_ch(b, '"');
	xbuf_json_chars(b, s, len);
	xbuf_ch(b, '"');
}

void xbuf_json_double(struct xbuf *b, double v)
{
	char tmp[32];
	int prec;

	if (!isfinite(v)) {
		xbuf_str(b, "null");
		return;
	}
	/* the shortest of 15..17 significant digits that reads back as @v */
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	xbuf_str(b, tmp);
}

uint64_t export_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int export_poll_until(int fd, short events, uint64_t deadline_ns)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	uint64_t now;
	int timeout, n;

	for (;;) {
		timeout = -1;
		if (deadline_ns) {
			now = export_now_ns(CLOCK_MONOTONIC);
			if (now >= deadline_ns)
				return -ETIMEDOUT;
			timeout = (int)((deadline_ns - now + 999999) / 1000000);
		}
		n = poll(&pfd, 1, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 1;
	}
}

int export_write_all(int fd, const void *p, size_t len, uint64_t deadline_ns)
{
	const char *c = p;
	ssize_t n;
	int err;

	while (len) {
		/* a socket whose peer left must not raise SIGPIPE */
		n = send(fd, c, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			err = export_poll_until(fd, POLLOUT, deadline_ns);
			if (err < 0)
				return err;
			continue;
		}
		if (n < 0)
			return -errno;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}
