/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Streaming JSON writer (see json.h). Output goes through the unlocked stdio
 * calls: the CLI is single-threaded and a `list --json` of a large binary
 * writes hundreds of thousands of small pieces.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_writer__init(struct json_writer *w, FILE *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

/* Comma before a value or key when it is not the first in its container. */
static void before_item(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->depth <= JSON_MAX_DEPTH) {
		if (w->has_items[w->depth - 1])
			putc_unlocked(',', w->out);
		w->has_items[w->depth - 1] = true;
	}
}

static void open_container(struct json_writer *w, char c)
{
	before_item(w);
	putc_unlocked(c, w->out);
	w->depth++;
	if (w->depth <= JSON_MAX_DEPTH)
		w->has_items[w->depth - 1] = false;
}

static void close_container(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	w->after_key = false;
	putc_unlocked(c, w->out);
}

void json__object_begin(struct json_writer *w)
{
	open_container(w, '{');
}

void json__object_end(struct json_writer *w)
{
	close_container(w, '}');
}

void json__array_begin(struct json_writer *w)
{
	open_container(w, '[');
}

void json__array_end(struct json_writer *w)
{
	close_container(w, ']');
}

void json__newline(struct json_writer *w)
{
	putc_unlocked('\n', w->out);
	w->after_key = false;
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Bytes written as they are: printable ASCII except '"' (0x22) and '\\' (0x5c). */
static const unsigned char plain[256] = {
	[0x20 ... 0x21] = 1,
	[0x23 ... 0x5b] = 1,
	[0x5d ... 0x7e] = 1,
};

void json_escape(FILE *out, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	putc_unlocked('"', out);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		if (plain[c]) {
			i++;
			run++;
			continue;
		}
		/* flush the run of plain bytes in one write */
		if (run)
			fwrite_unlocked(s + i - run, 1, run, out);
		run = 0;
		if (c >= 0x80) {
			n = utf8_seq_len(s + i, len - i);
			if (n) {
				fwrite_unlocked(s + i, 1, n, out);
				i += n;
				continue;
			}
		}
		putc_unlocked('\\', out);
		switch (c) {
		case '"':
			putc_unlocked('"', out);
			break;
		case '\\':
			putc_unlocked('\\', out);
			break;
		case '\n':
			putc_unlocked('n', out);
			break;
		case '\r':
			putc_unlocked('r', out);
			break;
		case '\t':
			putc_unlocked('t', out);
			break;
		case '\b':
			putc_unlocked('b', out);
			break;
		case '\f':
			putc_unlocked('f', out);
			break;
		default:
			/* control character, or a byte that is not UTF-8 */
			fputs_unlocked("u00", out);
			putc_unlocked(hex[c >> 4], out);
			putc_unlocked(hex[c & 0xf], out);
			break;
		}
		i++;
	}
	if (run)
		fwrite_unlocked(s + i - run, 1, run, out);
	putc_unlocked('"', out);
}

void json__key(struct json_writer *w, const char *key)
{
	before_item(w);
	json_escape(w->out, key, strlen(key));
	putc_unlocked(':', w->out);
	w->after_key = true;
}

void json__string_len(struct json_writer *w, const char *s, size_t len)
{
	before_item(w);
	json_escape(w->out, s, len);
}

void json__string(struct json_writer *w, const char *s)
{
	if (!s) {
		json__null(w);
		return;
	}
	json__string_len(w, s, strlen(s));
}

/* Decimal digits without printf: the hot paths of `list --json` and `trace`. */
void json_put_uint(FILE *out, uint64_t v)
{
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	fwrite_unlocked(buf + i, 1, sizeof(buf) - i, out);
}

void json_put_int(FILE *out, int64_t v)
{
	if (v < 0) {
		putc_unlocked('-', out);
		json_put_uint(out, -(uint64_t)v);
	} else {
		json_put_uint(out, (uint64_t)v);
	}
}

void json__int(struct json_writer *w, int64_t v)
{
	before_item(w);
	json_put_int(w->out, v);
}

void json__uint(struct json_writer *w, uint64_t v)
{
	before_item(w);
	json_put_uint(w->out, v);
}

/*
 * %.17g always round-trips but shows binary noise (0.1 prints as
 * 0.10000000000000001); the fewest digits, from 15 up, that strtod()
 * reads back as the same double print what the value was meant to be.
 */
int json__format_double(char *buf, size_t size, double v)
{
	int n = 0;

	if (!isfinite(v))
		return snprintf(buf, size, "%g", v);
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, v);
		if (n < 0 || (size_t)n >= size || strtod(buf, NULL) == v)
			break;
	}
	return n;
}

void json__double(struct json_writer *w, double v)
{
	char buf[JSON_DOUBLE_MAX];

	if (!isfinite(v)) {
		json__null(w);
		return;
	}
	before_item(w);
	json__format_double(buf, sizeof(buf), v);
	fputs(buf, w->out);
}

void json__bool(struct json_writer *w, bool v)
{
	before_item(w);
	fputs_unlocked(v ? "true" : "false", w->out);
}

void json__null(struct json_writer *w)
{
	before_item(w);
	fputs_unlocked("null", w->out);
}

void json__kv_string(struct json_writer *w, const char *key, const char *s)
{
	json__key(w, key);
	json__string(w, s);
}

void json__kv_int(struct json_writer *w, const char *key, int64_t v)
{
	json__key(w, key);
	json__int(w, v);
}

void json__kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json__key(w, key);
	json__uint(w, v);
}

void json__kv_bool(struct json_writer *w, const char *key, bool v)
{
	json__key(w, key);
	json__bool(w, v);
}
