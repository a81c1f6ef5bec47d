/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A tiny streaming JSON writer for the CLI's machine-readable output
 * (`list --json`, `trace --json`): JSON lines, one value per line, written
 * straight into a buffered FILE so thousands of records cost no allocation.
 *
 * The writer only tracks where commas go; the caller is responsible for
 * producing a well-nested document (begin/end pairs, a key before every
 * value inside an object). Strings are escaped per RFC 8259; bytes that are
 * not valid UTF-8 are written as \u00XX so every line stays parseable.
 */
#ifndef USDTKIT_TRACER_JSON_H
#define USDTKIT_TRACER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *out;
	int depth;
	bool after_key; /* a key was just written: the next value needs no comma */
	bool has_items[JSON_MAX_DEPTH]; /* per open container: an item was written */
};

void json_writer__init(struct json_writer *w, FILE *out);

void json__object_begin(struct json_writer *w);
void json__object_end(struct json_writer *w);
void json__array_begin(struct json_writer *w);
void json__array_end(struct json_writer *w);
/* Ends a top-level value with a newline (JSON lines). */
void json__newline(struct json_writer *w);

void json__key(struct json_writer *w, const char *key);
void json__string(struct json_writer *w, const char *s); /* NULL writes null */
void json__string_len(struct json_writer *w, const char *s, size_t len);
void json__int(struct json_writer *w, int64_t v);
void json__uint(struct json_writer *w, uint64_t v);
void json__double(struct json_writer *w, double v); /* NaN/inf write null */
/*
 * Writes @v with the fewest significant digits (15 to 17) that read back
 * as the same double: 0.1, not 0.10000000000000001. Non-finite: "nan",
 * "inf". Returns snprintf()'s result. JSON_DOUBLE_MAX bytes always fit.
 */
#define JSON_DOUBLE_MAX 32
int json__format_double(char *buf, size_t size, double v);
void json__bool(struct json_writer *w, bool v);
void json__null(struct json_writer *w);

/* Shorthands for "key": value inside an object. */
void json__kv_string(struct json_writer *w, const char *key, const char *s);
void json__kv_int(struct json_writer *w, const char *key, int64_t v);
void json__kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json__kv_bool(struct json_writer *w, const char *key, bool v);

/* Write @v in decimal to @out without printf (hot paths of `list` and `trace`). */
void json_put_int(FILE *out, int64_t v);
void json_put_uint(FILE *out, uint64_t v);

/* Writes @s (@len bytes) as a quoted, escaped JSON string to @out. */
void json_escape(FILE *out, const char *s, size_t len);

#endif
