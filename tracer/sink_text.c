// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Text sinks: the default line and --format templates.
 *
 * The default line is "TIME PID TID COMM PROVIDER:NAME name=value ...".
 * Everything that comes from the traced process (comm, provider, probe
 * and argument names, string values) is escaped, so no byte a target
 * chooses reaches the terminal raw. Integers and the time are written
 * without printf (json_put_*, a cached HH:MM:SS): the consumer keeps up
 * with millions of events a second.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "output.h"
#include "sinks.h"
#include "ustack_fmt.h"

struct text_sink {
	FILE *out;
	struct sink_text_opts o;
	time_t time_sec; /* put_time()'s cache */
	char time_buf[32];
};

static void put_text_str(FILE *out, const char *s, size_t len)
{
	size_t run = 0;

	putc_unlocked('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		fwrite_unlocked(s + run, 1, i - run, out);
		run = i + 1;
		if (c == '\n') {
			fputs_unlocked("\\n", out);
		} else if (c == '\t') {
			fputs_unlocked("\\t", out);
		} else if (c == '"' || c == '\\') {
			putc_unlocked('\\', out);
			putc_unlocked(c, out);
		} else {
			fprintf(out, "\\x%02x", c);
		}
	}
	fwrite_unlocked(s + run, 1, len - run, out);
	putc_unlocked('"', out);
}

/* The value alone, as text; @quote: strings in quotes with escapes (the default line). */
static void put_value(FILE *out, const struct event_value *v, bool quote)
{
	char buf[JSON_DOUBLE_MAX];

	switch (v->kind) {
	case EVENT_VAL_FAULT:
		fputs_unlocked("<fault>", out);
		break;
	case EVENT_VAL_NULL:
		fputs_unlocked("(null)", out);
		break;
	case EVENT_VAL_INT:
		json_put_int(out, v->i);
		break;
	case EVENT_VAL_UINT:
		json_put_uint(out, v->u);
		break;
	case EVENT_VAL_DOUBLE:
		json__format_double(buf, sizeof(buf), v->d);
		fputs_unlocked(buf, out);
		break;
	case EVENT_VAL_PTR:
		fprintf(out, "0x%" PRIx64, v->u);
		break;
	case EVENT_VAL_STR:
		if (quote)
			put_text_str(out, v->str.p, v->str.len);
		else
			output__put_name(out, v->str.p, v->str.len);
		if (v->str.truncated)
			fputs_unlocked("...", out);
		break;
	}
}

static void put_time(struct text_sink *t, const struct event *e)
{
	FILE *out = t->out;
	time_t sec;
	unsigned int us;
	char frac[8];

	if (t->o.relative) {
		/* seconds since the start, as bpftrace's elapsed: "12.345678" */
		json_put_uint(out, e->elapsed_ns / 1000000000ull);
		us = e->elapsed_ns % 1000000000ull / 1000;
	} else {
		sec = e->ts_ns / 1000000000ull;
		us = e->ts_ns % 1000000000ull / 1000;
		/* localtime_r() is slow per event; the HH:MM:SS part changes once a second */
		if (sec != t->time_sec || !t->time_buf[0]) {
			struct tm tm;

			localtime_r(&sec, &tm);
			strftime(t->time_buf, sizeof(t->time_buf), "%H:%M:%S", &tm);
			t->time_sec = sec;
		}
		fputs_unlocked(t->time_buf, out);
	}
	frac[0] = '.';
	for (int i = 6; i > 0; i--, us /= 10)
		frac[i] = '0' + us % 10;
	fwrite_unlocked(frac, 1, 7, out);
}

static void put_probe(FILE *out, const struct event *e)
{
	output__put_cname(out, e->provider);
	putc_unlocked(':', out);
	output__put_cname(out, e->name);
}

static int text_line(void *ctx, const struct event *e)
{
	struct text_sink *t = ctx;
	FILE *out = t->out;

	put_time(t, e);
	putc_unlocked(' ', out);
	json_put_uint(out, e->pid);
	putc_unlocked(' ', out);
	json_put_uint(out, e->tid);
	putc_unlocked(' ', out);
	output__put_name(out, e->comm, e->comm_len);
	putc_unlocked(' ', out);
	put_probe(out, e);
	for (unsigned int i = 0; i < e->nargs; i++) {
		putc_unlocked(' ', out);
		output__put_cname(out, e->args[i].name);
		putc_unlocked('=', out);
		put_value(out, &e->args[i], true);
	}
	putc_unlocked('\n', out);
	if (e->frames) /* write errors are the output's to report (output__flush) */
		ustack__write_text(out, e->frames, e->nstack);
	return 0;
}

/* Argument @key of the event: a name, or a decimal index. */
static int find_arg(const struct event *e, const char *key, size_t len)
{
	for (unsigned int i = 0; i < e->nargs; i++)
		if (strlen(e->args[i].name) == len && !memcmp(e->args[i].name, key, len))
			return i;
	if (len && len < 3 && key[0] >= '0' && key[0] <= '9') {
		int i = key[0] - '0';

		if (len == 2) {
			if (key[1] < '0' || key[1] > '9')
				return -1;
			i = i * 10 + key[1] - '0';
		}
		if (i < (int)e->nargs)
			return i;
	}
	return -1;
}

static bool field_is(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(s, name, len);
}

static int text_format(void *ctx, const struct event *e)
{
	struct text_sink *t = ctx;
	const char *s = t->o.format;
	FILE *out = t->out;

	while (*s) {
		const char *end;
		size_t len;
		int i;

		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			putc_unlocked(*s, out);
			s += 2;
			continue;
		}
		if (*s != '{' || !(end = strchr(s, '}'))) {
			putc_unlocked(*s++, out);
			continue;
		}
		s++;
		len = end - s;
		i = find_arg(e, s, len);
		if (i >= 0)
			put_value(out, &e->args[i], false);
		else if (field_is(s, len, "pid"))
			json_put_uint(out, e->pid);
		else if (field_is(s, len, "tid"))
			json_put_uint(out, e->tid);
		else if (field_is(s, len, "comm"))
			output__put_name(out, e->comm, e->comm_len);
		else if (field_is(s, len, "probe"))
			put_probe(out, e);
		else if (field_is(s, len, "provider"))
			output__put_cname(out, e->provider);
		else if (field_is(s, len, "probe_name"))
			output__put_cname(out, e->name);
		else if (field_is(s, len, "time"))
			put_time(t, e);
		else if (field_is(s, len, "ts_ns"))
			json_put_uint(out, e->ts_ns);
		else if (field_is(s, len, "elapsed"))
			fprintf(out, "%.6f", e->elapsed_ns / 1e9);
		else
			fprintf(out, "{%.*s}", (int)len, s); /* unknown field: kept visible */
		s = end + 1;
	}
	putc_unlocked('\n', out);
	if (e->frames) /* write errors are the output's to report (output__flush) */
		ustack__write_text(out, e->frames, e->nstack);
	return 0;
}

static int text_close(void *ctx)
{
	free(ctx);
	return 0;
}

static const struct event_sink_ops line_ops = {.event = text_line, .close = text_close};
static const struct event_sink_ops format_ops = {.event = text_format, .close = text_close};

int sink_text__new(FILE *out, const struct sink_text_opts *opts, struct sink *s)
{
	struct text_sink *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->out = out;
	t->o = *opts;
	s->ctx = t;
	s->ops = opts->format ? &format_ops : &line_ops;
	return 0;
}
