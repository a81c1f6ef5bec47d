// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit flow, calls, gc, objects, threads: the language-runtime tools.
 *
 * Thin front-ends over the session (session.h) and the trace engine's
 * records (trace_records.h): each tool picks its runtime's probes and
 * argument declarations from the table in lang_model.c, sets what the
 * runtime needs to fire them (lang.h), and consumes decoded events in its
 * own sink. Call depth, durations and aggregates are kept in user space,
 * per thread; -M is matched in user space too, until the engine's filter
 * language can take it into the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "json.h"
#include "lang.h"
#include "kernel_features.h"
#include "session.h"
#include "sinks.h"
#include "trace_records.h"

#define STR_SIZE 128
#define JAVA_STR_SIZE 64
#define RING_MB 32
#define POLL_MS 10
#define NAME_MAX_LEN 512

struct lang_cmd;

struct tool {
	const char *name;
	const char *who;
	unsigned int bit;
	const char *summary;
	int (*event)(struct lang_cmd *c, const struct lang_probe *p, const struct event *e);
	void (*finish)(struct lang_cmd *c);
};

struct lang_cmd {
	const struct tool *tool;
	const struct lang_runtime *rt;
	enum lang_id lang;
	struct session s;
	struct json_writer jw;
	const char *match;
	bool json, latency, hist;
	unsigned int max_depth; /* 0: no limit */
	unsigned int top; /* 0: all */
	struct lang_stacks stacks;
	struct lang_aggs aggs;
	/* gc */
	uint64_t gc_begin[2]; /* per kind: ruby mark/sweep, else [0] */
	uint64_t gc_count, gc_total_ns, gc_max_ns;
	/* top: this interval's counts; threads seen alive */
	double interval;
	uint64_t next_ns, last_ns;
	uint64_t n_calls, n_gc, n_objects;
	int64_t threads;
	bool tty;
	pid_t pid; /* the target, kept after it exits */
	int err;
};

/* --- decoding runtime arguments ---------------------------------------- */

/* String argument @i, cut at @len when the runtime passes one (Java). */
static void arg_str(const struct event *e, unsigned int i, long long len, char *buf, size_t size)
{
	size_t n;

	buf[0] = 0;
	if (i >= e->nargs || e->args[i].kind != EVENT_VAL_STR)
		return;
	n = e->args[i].str.len;
	if (len >= 0 && (size_t)len < n)
		n = len;
	if (n >= size)
		n = size - 1;
	memcpy(buf, e->args[i].str.p, n);
	buf[n] = 0;
}

static long long arg_int(const struct event *e, unsigned int i)
{
	if (i >= e->nargs)
		return -1;
	if (e->args[i].kind == EVENT_VAL_INT)
		return e->args[i].i;
	if (e->args[i].kind == EVENT_VAL_UINT)
		return (long long)e->args[i].u;
	return -1;
}

/* The method's display name, and its file and line where the runtime gives them. */
static void method_of(const struct lang_cmd *c, const struct event *e, char *name, size_t size,
		      char *file, size_t fsize, long long *line)
{
	char a[NAME_MAX_LEN / 2], b[NAME_MAX_LEN / 2];

	*line = -1;
	file[0] = 0;
	switch (c->lang) {
	case LANG_PYTHON:
		arg_str(e, 1, -1, name, size);
		arg_str(e, 0, -1, file, fsize);
		*line = arg_int(e, 2);
		break;
	case LANG_RUBY:
		arg_str(e, 0, -1, a, sizeof(a));
		arg_str(e, 1, -1, b, sizeof(b));
		if (snprintf(name, size, "%s#%s", a, b) >= (int)size)
			name[size - 1] = 0; /* a longer name is cut */
		arg_str(e, 2, -1, file, fsize);
		*line = arg_int(e, 3);
		break;
	case LANG_PHP:
		arg_str(e, 0, -1, b, sizeof(b));
		arg_str(e, 3, -1, a, sizeof(a));
		if (snprintf(name, size, a[0] ? "%s::%s" : "%s%s", a, b) >= (int)size)
			name[size - 1] = 0; /* a longer name is cut */
		arg_str(e, 1, -1, file, fsize);
		*line = arg_int(e, 2);
		break;
	case LANG_JAVA:
		arg_str(e, 1, arg_int(e, 2), a, sizeof(a));
		arg_str(e, 3, arg_int(e, 4), b, sizeof(b));
		for (char *p = a; *p; p++)
			if (*p == '/')
				*p = '.';
		snprintf(name, size, "%s.%s", a, b);
		break;
	default:
		name[0] = 0;
	}
}

static bool matches(const struct lang_cmd *c, const char *name, const char *file)
{
	return !c->match || !fnmatch(c->match, name, 0) || (file[0] && !fnmatch(c->match, file, 0));
}

static void put_time(const struct lang_cmd *c, const struct event *e)
{
	fprintf(c->s.out.f, "%-7u %10.6f ", e->tid, e->elapsed_ns / 1e9);
	(void)c;
}

static void json_head(struct lang_cmd *c, const char *type, const struct event *e)
{
	json__object_begin(&c->jw);
	json__kv_string(&c->jw, "type", type);
	json__kv_string(&c->jw, "lang", c->rt->name);
	json__kv_uint(&c->jw, "pid", e->pid);
	json__kv_uint(&c->jw, "tid", e->tid);
	json__kv_uint(&c->jw, "elapsed_ns", e->elapsed_ns);
}

static void json_tail(struct lang_cmd *c)
{
	json__object_end(&c->jw);
	json__newline(&c->jw);
	output__record(&c->s.out);
}

/* --- flow ---------------------------------------------------------------- */

static int flow_event(struct lang_cmd *c, const struct lang_probe *p, const struct event *e)
{
	char name[NAME_MAX_LEN], file[NAME_MAX_LEN];
	uint64_t dur = 0;
	long long line;
	int depth;

	if (p->ev != LANG_EV_ENTRY && p->ev != LANG_EV_RETURN)
		return 0;
	method_of(c, e, name, sizeof(name), file, sizeof(file), &line);
	if (!matches(c, name, file))
		return 0;
	if (p->ev == LANG_EV_ENTRY)
		depth = lang_stacks__push(&c->stacks, e->tid, e->mono_ns);
	else
		depth = lang_stacks__pop(&c->stacks, e->tid, e->mono_ns, &dur);
	if (depth == -ENOMEM)
		return depth;
	if (depth < 0)
		depth = 0; /* returned from a frame entered before we started */
	if (c->max_depth && (unsigned int)depth >= c->max_depth)
		return 0;
	if (c->json) {
		json_head(c, p->ev == LANG_EV_ENTRY ? "call" : "return", e);
		json__kv_uint(&c->jw, "depth", depth);
		json__kv_string(&c->jw, "method", name);
		if (file[0])
			json__kv_string(&c->jw, "file", file);
		if (line >= 0)
			json__kv_int(&c->jw, "line", line);
		if (p->ev == LANG_EV_RETURN)
			json__kv_uint(&c->jw, "duration_ns", dur);
		json_tail(c);
		return 0;
	}
	put_time(c, e);
	fprintf(c->s.out.f, "%*s%s %s", depth * 2, "", p->ev == LANG_EV_ENTRY ? "->" : "<-", name);
	if (p->ev == LANG_EV_RETURN)
		fprintf(c->s.out.f, " %.3f us", dur / 1e3);
	else if (file[0])
		fprintf(c->s.out.f, " (%s:%lld)", file, line);
	fputc('\n', c->s.out.f);
	output__record(&c->s.out);
	return 0;
}

/* --- calls --------------------------------------------------------------- */

static int calls_event(struct lang_cmd *c, const struct lang_probe *p, const struct event *e)
{
	char name[NAME_MAX_LEN], file[NAME_MAX_LEN];
	struct lang_agg *g;
	uint64_t dur;
	long long line;

	if (p->ev != LANG_EV_ENTRY && p->ev != LANG_EV_RETURN)
		return 0;
	method_of(c, e, name, sizeof(name), file, sizeof(file), &line);
	if (!matches(c, name, file))
		return 0;
	if (p->ev == LANG_EV_ENTRY) {
		g = lang_aggs__get(&c->aggs, name);
		if (!g)
			return -ENOMEM;
		g->count++;
		return c->latency ? (lang_stacks__push(&c->stacks, e->tid, e->mono_ns) < 0 ? -ENOMEM
											   : 0)
				  : 0;
	}
	if (!c->latency || lang_stacks__pop(&c->stacks, e->tid, e->mono_ns, &dur) < 0)
		return 0;
	g = lang_aggs__get(&c->aggs, name);
	if (!g)
		return -ENOMEM;
	lang_agg__add_time(g, dur);
	return 0;
}

static void print_hist(FILE *f, const struct lang_agg *g)
{
	unsigned int lo = LANG_HIST_BUCKETS, hi = 0;
	uint64_t max = 0;

	for (unsigned int i = 0; i < LANG_HIST_BUCKETS; i++) {
		if (!g->hist[i])
			continue;
		lo = i < lo ? i : lo;
		hi = i;
		max = g->hist[i] > max ? g->hist[i] : max;
	}
	for (unsigned int i = lo; i <= hi && max; i++) {
		int bar = (int)(g->hist[i] * 40 / max);

		fprintf(f, "    [%" PRIu64 ", %" PRIu64 ") ns %10" PRIu64 " |%.*s%*s|\n",
			i ? (uint64_t)1 << i : 0, (uint64_t)1 << (i + 1), g->hist[i], bar,
			"########################################", 40 - bar, "");
	}
}

static void calls_finish(struct lang_cmd *c)
{
	FILE *f = c->s.out.f;
	struct lang_agg **v;
	size_t n;

	v = lang_aggs__sorted(&c->aggs, c->latency, &n);
	if (!v) {
		c->err = -ENOMEM;
		return;
	}
	if (c->top && c->top < n)
		n = c->top;
	if (!c->json)
		fprintf(f, c->latency ? "%-48s %10s %14s %12s %12s\n" : "%-48s %10s\n", "METHOD",
			"CALLS", "TOTAL_us", "AVG_us", "MAX_us");
	for (size_t i = 0; i < n; i++) {
		const struct lang_agg *g = v[i];
		double avg = g->timed ? (double)g->total_ns / g->timed : 0;

		if (c->json) {
			json__object_begin(&c->jw);
			json__kv_string(&c->jw, "type", "calls");
			json__kv_string(&c->jw, "lang", c->rt->name);
			json__kv_string(&c->jw, "method", g->name);
			json__kv_uint(&c->jw, "count", g->count);
			if (c->latency) {
				json__kv_uint(&c->jw, "total_ns", g->total_ns);
				json__key(&c->jw, "avg_ns");
				json__double(&c->jw, avg);
				json__kv_uint(&c->jw, "max_ns", g->max_ns);
			}
			json_tail(c);
			continue;
		}
		if (c->latency)
			fprintf(f, "%-48s %10" PRIu64 " %14.3f %12.3f %12.3f\n", g->name, g->count,
				g->total_ns / 1e3, avg / 1e3, g->max_ns / 1e3);
		else
			fprintf(f, "%-48s %10" PRIu64 "\n", g->name, g->count);
		output__record(&c->s.out);
		if (c->latency && c->hist)
			print_hist(f, g);
	}
	free(v);
}

/* --- gc ------------------------------------------------------------------ */

static int gc_event(struct lang_cmd *c, const struct lang_probe *p, const struct event *e)
{
	/* ruby reports mark and sweep phases; the others one collection */
	unsigned int kind = c->lang == LANG_RUBY && strstr(p->probe, "sweep") ? 1 : 0;
	const char *what = c->lang == LANG_RUBY ? (kind ? "sweep" : "mark") : "collection";
	uint64_t dur;

	if (p->ev == LANG_EV_GC_BEGIN) {
		c->gc_begin[kind] = e->mono_ns;
		if (c->lang == LANG_PYTHON || c->lang == LANG_JAVA)
			c->gc_begin[1] = (uint64_t)arg_int(e, 0); /* generation / full */
		return 0;
	}
	if (p->ev != LANG_EV_GC_END || !c->gc_begin[kind])
		return 0; /* an end without its begin: started before we did */
	dur = e->mono_ns - c->gc_begin[kind];
	c->gc_begin[kind] = 0;
	if (!kind) {
		c->gc_count++;
		c->gc_total_ns += dur;
		if (dur > c->gc_max_ns)
			c->gc_max_ns = dur;
	}
	if (c->json) {
		json_head(c, "gc", e);
		json__kv_string(&c->jw, "kind", what);
		if (c->lang == LANG_PYTHON) {
			json__kv_int(&c->jw, "generation", (int64_t)c->gc_begin[1]);
			json__kv_int(&c->jw, "collected", arg_int(e, 0));
		} else if (c->lang == LANG_JAVA) {
			json__kv_bool(&c->jw, "full", c->gc_begin[1] != 0);
		}
		json__kv_uint(&c->jw, "duration_ns", dur);
		json_tail(c);
		return 0;
	}
	put_time(c, e);
	fprintf(c->s.out.f, "%s", what);
	if (c->lang == LANG_PYTHON)
		fprintf(c->s.out.f, " generation=%d collected=%lld", (int)c->gc_begin[1],
			arg_int(e, 0));
	else if (c->lang == LANG_JAVA)
		fprintf(c->s.out.f, " full=%d", c->gc_begin[1] != 0);
	fprintf(c->s.out.f, " %.3f ms\n", dur / 1e6);
	output__record(&c->s.out);
	return 0;
}

static void gc_finish(struct lang_cmd *c)
{
	if (c->json) {
		json__object_begin(&c->jw);
		json__kv_string(&c->jw, "type", "gc_summary");
		json__kv_string(&c->jw, "lang", c->rt->name);
		json__kv_uint(&c->jw, "collections", c->gc_count);
		json__kv_uint(&c->jw, "total_ns", c->gc_total_ns);
		json__kv_uint(&c->jw, "max_ns", c->gc_max_ns);
		json_tail(c);
		return;
	}
	fprintf(c->s.out.f, "%" PRIu64 " collections, total %.3f ms, max %.3f ms\n", c->gc_count,
		c->gc_total_ns / 1e6, c->gc_max_ns / 1e6);
	output__record(&c->s.out);
}

/* --- objects ------------------------------------------------------------- */

static int objects_event(struct lang_cmd *c, const struct lang_probe *p, const struct event *e)
{
	char name[NAME_MAX_LEN];
	struct lang_agg *g;

	if (p->ev != LANG_EV_ALLOC)
		return 0;
	if (c->lang == LANG_JAVA) {
		arg_str(e, 1, arg_int(e, 2), name, sizeof(name));
		for (char *q = name; *q; q++)
			if (*q == '/')
				*q = '.';
	} else {
		arg_str(e, 0, -1, name, sizeof(name));
	}
	if (c->match && fnmatch(c->match, name, 0))
		return 0;
	g = lang_aggs__get(&c->aggs, name);
	if (!g)
		return -ENOMEM;
	g->count++;
	if (c->lang == LANG_JAVA && arg_int(e, 3) > 0)
		g->bytes += arg_int(e, 3);
	return 0;
}

static void objects_finish(struct lang_cmd *c)
{
	struct lang_agg **v;
	size_t n;

	v = lang_aggs__sorted(&c->aggs, false, &n);
	if (!v) {
		c->err = -ENOMEM;
		return;
	}
	if (c->top && c->top < n)
		n = c->top;
	if (!c->json)
		fprintf(c->s.out.f, "%-48s %10s %14s\n", "CLASS", "COUNT", "BYTES");
	for (size_t i = 0; i < n; i++) {
		if (c->json) {
			json__object_begin(&c->jw);
			json__kv_string(&c->jw, "type", "objects");
			json__kv_string(&c->jw, "lang", c->rt->name);
			json__kv_string(&c->jw, "class", v[i]->name);
			json__kv_uint(&c->jw, "count", v[i]->count);
			if (c->lang == LANG_JAVA)
				json__kv_uint(&c->jw, "bytes", v[i]->bytes);
			json_tail(c);
			continue;
		}
		if (c->lang == LANG_JAVA)
			fprintf(c->s.out.f, "%-48s %10" PRIu64 " %14" PRIu64 "\n", v[i]->name,
				v[i]->count, v[i]->bytes);
		else
			fprintf(c->s.out.f, "%-48s %10" PRIu64 " %14s\n", v[i]->name, v[i]->count,
				"-");
		output__record(&c->s.out);
	}
	free(v);
}

/* --- threads ------------------------------------------------------------- */

static int threads_event(struct lang_cmd *c, const struct lang_probe *p, const struct event *e)
{
	bool start = p->ev == LANG_EV_THREAD_START;
	char name[NAME_MAX_LEN];

	if (!start && p->ev != LANG_EV_THREAD_STOP)
		return 0;
	arg_str(e, 0, arg_int(e, 1), name, sizeof(name));
	if (c->match && fnmatch(c->match, name, 0))
		return 0;
	if (c->json) {
		json_head(c, start ? "thread_start" : "thread_stop", e);
		json__kv_string(&c->jw, "name", name);
		json__kv_int(&c->jw, "native_tid", arg_int(e, 3));
		json__kv_bool(&c->jw, "daemon", arg_int(e, 4) > 0);
		json_tail(c);
		return 0;
	}
	put_time(c, e);
	fprintf(c->s.out.f, "%s %s native_tid=%lld%s\n", start ? "start" : "stop ", name,
		arg_int(e, 3), arg_int(e, 4) > 0 ? " daemon" : "");
	output__record(&c->s.out);
	return 0;
}

/* --- top ----------------------------------------------------------------- */

static int top_event(struct lang_cmd *c, const struct lang_probe *p, const struct event *e)
{
	(void)e;
	switch (p->ev) {
	case LANG_EV_ENTRY:
		c->n_calls++;
		break;
	case LANG_EV_GC_END:
		/* ruby: a collection is its mark phase */
		if (c->lang != LANG_RUBY || !strstr(p->probe, "sweep"))
			c->n_gc++;
		break;
	case LANG_EV_ALLOC:
		c->n_objects++;
		break;
	case LANG_EV_THREAD_START:
		c->threads++;
		break;
	case LANG_EV_THREAD_STOP:
		c->threads--;
		break;
	default:
		break;
	}
	return 0;
}

static void top_print(struct lang_cmd *c, uint64_t now)
{
	double sec = (now - c->last_ns) / 1e9;
	FILE *f = c->s.out.f;

	if (sec <= 0)
		return;
	if (c->json) {
		json__object_begin(&c->jw);
		json__kv_string(&c->jw, "type", "top");
		json__kv_string(&c->jw, "lang", c->rt->name);
		json__kv_int(&c->jw, "pid", c->pid);
		json__key(&c->jw, "elapsed");
		json__double(&c->jw, session__elapsed(&c->s));
		json__key(&c->jw, "calls_per_s");
		json__double(&c->jw, c->n_calls / sec);
		json__key(&c->jw, "gc_per_s");
		json__double(&c->jw, c->n_gc / sec);
		json__key(&c->jw, "objects_per_s");
		json__double(&c->jw, c->n_objects / sec);
		json__kv_int(&c->jw, "threads_started", c->threads);
		json__kv_uint(&c->jw, "calls", c->n_calls);
		json__kv_uint(&c->jw, "gc", c->n_gc);
		json__kv_uint(&c->jw, "objects", c->n_objects);
		json_tail(c);
	} else {
		if (c->tty)
			fputs("\033[H\033[2J", f);
		if (c->tty || !c->s.out.written)
			fprintf(f, "%-10s %-7s %-7s %12s %10s %12s %8s\n", "ELAPSED", "PID", "LANG",
				"CALLS/s", "GC/s", "OBJECTS/s", "THREADS");
		fprintf(f, "%-10.1f %-7d %-7s %12.0f %10.1f %12.0f %8" PRId64 "\n",
			session__elapsed(&c->s), (int)c->pid, c->rt->name, c->n_calls / sec,
			c->n_gc / sec, c->n_objects / sec, c->threads);
		output__record(&c->s.out);
	}
	output__flush(&c->s.out);
	c->n_calls = c->n_gc = c->n_objects = 0;
	c->last_ns = now;
}

/* The last, partial interval: what happened since the previous line. */
static void top_finish(struct lang_cmd *c)
{
	uint64_t now = cli__now_ns(CLOCK_MONOTONIC);

	if (!c->last_ns)
		c->last_ns = now - 1;
	top_print(c, now);
}

static const struct tool tools[] = {
	{"flow", "usdtkit flow", LANG_TOOL_FLOW, "method entry/return per thread, by call depth",
	 flow_event, NULL},
	{"calls", "usdtkit calls", LANG_TOOL_CALLS, "method call counts (and latency with -L)",
	 calls_event, calls_finish},
	{"gc", "usdtkit gc", LANG_TOOL_GC, "each garbage collection with its duration", gc_event,
	 gc_finish},
	{"objects", "usdtkit objects", LANG_TOOL_OBJECTS, "allocations per class", objects_event,
	 objects_finish},
	{"threads", "usdtkit threads", LANG_TOOL_THREADS, "thread start/stop with names",
	 threads_event, NULL},
	{"top", "usdtkit top", 0x1f, "calls/s, gc/s, objects/s and threads, every interval",
	 top_event, top_finish},
};

/* --- the sink ------------------------------------------------------------ */

static int sink_event(void *ctx, const struct event *e)
{
	struct lang_cmd *c = ctx;
	size_t plen = strlen(e->provider);

	for (size_t i = 0; i < c->rt->nprobes; i++) {
		const struct lang_probe *p = &c->rt->probes[i];

		if (!(p->tools & c->tool->bit) || strncmp(p->probe, e->provider, plen) ||
		    p->probe[plen] != ':' || strcmp(p->probe + plen + 1, e->name))
			continue;
		if (p->ev == LANG_EV_HELPER)
			return 0;
		c->err = c->tool->event(c, p, e);
		return c->err;
	}
	return 0;
}

static int sink_flush(void *ctx)
{
	struct lang_cmd *c = ctx;

	return output__flush(&c->s.out);
}

static const struct event_sink_ops lang_sink_ops = {sink_event, sink_flush, NULL};

/* --- the command --------------------------------------------------------- */

static void usage(const struct tool *t, FILE *f)
{
	fprintf(f,
		"usage: %s [OPTIONS] (-p PID | -c 'CMD')\n"
		"\n"
		"%s, for Python 3.11, Ruby 3.1, PHP 8.2 and OpenJDK 17\n"
		"(over their USDT probes).\n"
		"\n"
		"  -l, --lang LANG        python, ruby, php or java (default: from the command\n"
		"                         name, or from the objects the process maps)\n"
		"  -p, --pid PID          trace that process\n"
		"  -c, --command 'CMD'    start CMD, attach before it runs, exit when it exits\n"
		"  -M, --match PATTERN    only methods (or files, classes, thread names) matching\n"
		"                         the shell glob PATTERN; matched in user space for now\n"
		"      --depth N          flow: print calls up to depth N only\n"
		"  -L, --latency          calls: total, average and maximum time per method\n"
		"      --hist             calls -L: a log2 histogram of each method's latency\n"
		"  -t, --top N            calls, objects: the first N only\n"
		"  -i, --interval SEC     top: print every SEC seconds (default 1); a live\n"
		"                         screen on a terminal, one line per interval otherwise\n"
		"  -j, --json             JSON lines\n"
		"  -o, --output FILE      write to FILE instead of stdout\n"
		"  -d, --duration SEC     stop after SEC seconds\n"
		"  -v, --verbose          engine diagnostics on stderr\n"
		"  -h, --help             this help\n"
		"\n"
		"What each runtime must be started with:\n"
		"  python  nothing. CPython 3.11 fires function__entry only on its tracing\n"
		"          path; the tools also attach python:line, which enables it\n"
		"          (the traced program runs slower while traced). No allocation or\n"
		"          thread probes: objects and threads are not available.\n"
		"  ruby    method probes fire only while a TracePoint for call/return is\n"
		"          enabled in the process. -c enables an empty one (RUBYOPT=-r...);\n"
		"          with -p the program must run e.g.\n"
		"          TracePoint.new(:call, :return) {}.enable\n"
		"          gc and object probes need nothing.\n"
		"  php     USE_ZEND_DTRACE=1 in its environment (set by -c; with -p the\n"
		"          process must have been started with it).\n"
		"  java    -XX:+ExtendedDTraceProbes for flow, calls and objects; gc and\n"
		"          threads need nothing.\n"
		"\n"
		"examples:\n"
		"  usdtkit flow -c '/usr/bin/python3.11 app.py' -M '*app.py' --depth 4\n"
		"  usdtkit calls -L -p 1234 -t 20\n"
		"  usdtkit gc -l ruby -p 1234\n"
		"  usdtkit objects -c 'java -XX:+ExtendedDTraceProbes Main'\n"
		"  usdtkit threads -l java -p 1234\n"
		"\n"
		"Needs CAP_BPF and CAP_PERFMON (or root).\n",
		t->who, t->summary);
}

static enum lang_id detect_pid(pid_t pid)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	enum lang_id id = LANG_UNKNOWN;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return LANG_UNKNOWN;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb)
				goto out;
			buf = nb;
			cap += 65536;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += r;
	}
	buf[len] = 0;
	id = lang__detect_maps(buf);
out:
	free(buf);
	close(fd);
	return id;
}

struct loop_ctx {
	struct lang_cmd *c;
	struct trace_records *tr;
};

static int step(void *ctx, int timeout_ms)
{
	struct loop_ctx *l = ctx;
	struct lang_cmd *c = l->c;
	int ret = trace_records__poll(l->tr, timeout_ms);
	uint64_t now;

	if (ret || c->tool->event != top_event)
		return ret;
	now = cli__now_ns(CLOCK_MONOTONIC);
	if (!c->next_ns) {
		c->last_ns = now;
		c->next_ns = now + (uint64_t)(c->interval * 1e9);
	} else if (now >= c->next_ns) {
		top_print(c, now);
		c->next_ns += (uint64_t)(c->interval * 1e9);
		if (c->next_ns < now)
			c->next_ns = now + (uint64_t)(c->interval * 1e9);
	}
	return 0;
}

static int attach_new(void *ctx)
{
	return trace_records__attach(((struct loop_ctx *)ctx)->tr);
}

/*
 * Ruby fires its method probes only from trace instructions, present only
 * while a TracePoint for call/return events is enabled. For -c we have the
 * command require a one-line file that enables an empty one (RUBYOPT -r
 * needs a real *.rb path: a private directory, removed at exit).
 */
static int ruby_enable_tracepoint(struct lang_cmd *c, char *dir, size_t size)
{
	static const char body[] = "TracePoint.new(:call, :return) {}.enable\n";
	const char *tmp = getenv("TMPDIR"), *old = getenv("RUBYOPT");
	char file[PATH_MAX], *opt = NULL;
	int fd, err = 0;

	snprintf(dir, size, "%s/usdtkit-ruby-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		return -errno;
	}
	snprintf(file, sizeof(file), "%s/usdtkit_tracepoint.rb", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, body, sizeof(body) - 1) != (ssize_t)sizeof(body) - 1)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (err)
		return err;
	if (asprintf(&opt, "%s%s-r%s", old ? old : "", old ? " " : "", file) < 0)
		return -ENOMEM;
	if (setenv("RUBYOPT", opt, 1))
		err = -errno;
	free(opt);
	(void)c;
	return err;
}

static void ruby_cleanup(const char *dir)
{
	char file[PATH_MAX];

	if (!dir[0])
		return;
	snprintf(file, sizeof(file), "%s/usdtkit_tracepoint.rb", dir);
	unlink(file);
	rmdir(dir);
}

/*
 * libjvm.so is loaded by the java launcher after exec: found by a rescan,
 * its probes are attached only once a second BPF layout is verified, too
 * late for a short program. Naming the library in the PROBE lets the first
 * scan find it (the engine still limits it to the target): from the maps
 * for -p, from the launcher's installation (bin/java -> lib/server) for -c.
 */
static bool find_libjvm(const struct lang_cmd *c, char *out, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX], line[PATH_MAX + 128], *slash;
	const char *cmd = c->s.o.cmd, *end;
	bool found = false;
	FILE *f;

	if (!cmd) {
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)c->s.o.pid);
		f = fopen(path, "re");
		if (!f)
			return false;
		while (!found && fgets(line, sizeof(line), f)) {
			char *p = strchr(line, '/');
			size_t n = p ? strcspn(p, "\n") : 0;

			if (n > 10 && !strncmp(p + n - 10, "/libjvm.so", 10)) {
				snprintf(out, size, "%.*s", (int)n, p);
				found = true;
			}
		}
		fclose(f);
		return found;
	}
	cmd += strspn(cmd, " \t");
	end = cmd + strcspn(cmd, " \t");
	if (memchr(cmd, '/', end - cmd)) {
		snprintf(path, sizeof(path), "%.*s", (int)(end - cmd), cmd);
	} else {
		const char *dirs = getenv("PATH");

		for (const char *d = dirs; d && *d && !found;) {
			size_t n = strcspn(d, ":");

			snprintf(path, sizeof(path), "%.*s/%.*s", (int)n, d, (int)(end - cmd), cmd);
			found = !access(path, X_OK);
			d += n + (d[n] == ':');
		}
		if (!found)
			return false;
	}
	if (!realpath(path, real))
		return false;
	for (int up = 0; up < 2; up++) {
		slash = strrchr(real, '/');
		if (!slash)
			return false;
		*slash = 0;
	}
	if (strlen(real) + sizeof("/lib/server/libjvm.so") > size)
		return false;
	strcpy(out, real);
	strcat(out, "/lib/server/libjvm.so");
	return !access(out, R_OK);
}

static int parse_u32(const struct tool *t, const char *arg, unsigned int *out)
{
	uint64_t v;

	if (cli__parse_u64(arg, &v) || !v || v > 1000000) {
		fprintf(stderr, "%s: bad number '%s'\n", t->who, arg);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

static int run_tool(const struct tool *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		SESSION_LONG_OPTS,
		{"lang", required_argument, NULL, 'l'},
		{"match", required_argument, NULL, 'M'},
		{"json", no_argument, NULL, 'j'},
		{"depth", required_argument, NULL, 'D'},
		{"latency", no_argument, NULL, 'L'},
		{"hist", no_argument, NULL, 'H'},
		{"top", required_argument, NULL, 't'},
		{"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct trace_records_opts ro = {.str_size = STR_SIZE, .ring_mb = RING_MB};
	struct lang_cmd c = {.tool = t, .lang = LANG_UNKNOWN, .interval = 1};
	struct loop_ctx lc = {&c, NULL};
	const char *probes[16];
	char jvm[PATH_MAX], jvm_probes[16][PATH_MAX + 64];
	bool have_jvm = false;
	struct trace_records *tr = NULL;
	struct sink sink = {&lang_sink_ops, &c};
	size_t nprobes = 0;
	char rbdir[PATH_MAX] = "";
	int ret, err, o;

	session__init(&c.s, t->who);
	optind = 1;
	while ((o = getopt_long(argc, argv, SESSION_SHORT_OPTS "l:M:jLt:i:h", longopts, NULL)) !=
	       -1) {
		if (o != 'A') {
			ret = session__parse_opt(&c.s, o, optarg);
			if (ret < 0) {
				ret = -ret;
				goto out;
			}
			if (ret)
				continue;
		}
		ret = EXIT_USAGE;
		switch (o) {
		case 'l':
			c.lang = lang__by_name(optarg);
			if (c.lang == LANG_UNKNOWN) {
				fprintf(stderr,
					"%s: unknown runtime '%s' (python, ruby, php, java)\n",
					t->who, optarg);
				goto out;
			}
			break;
		case 'M':
			c.match = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'D':
			if (parse_u32(t, optarg, &c.max_depth))
				goto out;
			break;
		case 'L':
			c.latency = true;
			break;
		case 'H':
			c.hist = c.latency = true;
			break;
		case 't':
			if (parse_u32(t, optarg, &c.top))
				goto out;
			break;
		case 'i':
			if (cli__parse_duration(optarg, &c.interval) || c.interval < 0.01) {
				fprintf(stderr, "%s: bad interval '%s'\n", t->who, optarg);
				goto out;
			}
			break;
		case 'h':
			usage(t, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			usage(t, stderr);
			goto out;
		}
	}
	ret = EXIT_USAGE;
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", t->who, argv[optind]);
		goto out;
	}
	if (!session__has_target(&c.s) || c.s.o.all) {
		fprintf(stderr, "%s: give a process: -p PID or -c 'CMD'%s\n", t->who,
			c.s.o.all ? " (--all is for trace and stat)" : "");
		goto out;
	}
	if (c.lang == LANG_UNKNOWN)
		c.lang = c.s.o.cmd ? lang__detect_command(c.s.o.cmd) : detect_pid(c.s.o.pid);
	if (c.lang == LANG_UNKNOWN) {
		char proc[32];

		snprintf(proc, sizeof(proc), "/proc/%d", (int)c.s.o.pid);
		if (!c.s.o.cmd && access(proc, F_OK)) {
			fprintf(stderr, "%s: no process %d\n", t->who, (int)c.s.o.pid);
			ret = EXIT_FAIL;
		} else {
			fprintf(stderr, "%s: cannot tell the runtime of the target: give -l LANG\n",
				t->who);
		}
		goto out;
	}
	c.rt = lang__runtime(c.lang);
	/*
	 * libjvm is loaded after the start, so its probes get a layout made
	 * later; with string slots above the default such a layout attached
	 * nothing (engine issue, reported): keep the default there.
	 */
	if (c.lang == LANG_JAVA)
		ro.str_size = JAVA_STR_SIZE;
	if (!(lang__tools(c.rt) & t->bit)) {
		fprintf(stderr, "%s: %s has no probes for this tool\n", t->who, c.rt->name);
		ret = EXIT_FAIL;
		goto out;
	}
	if (c.lang == LANG_JAVA)
		have_jvm = find_libjvm(&c, jvm, sizeof(jvm));
	for (size_t i = 0; i < c.rt->nprobes && nprobes < 16; i++) {
		const struct lang_probe *p = &c.rt->probes[i];

		if (!(p->tools & t->bit))
			continue;
		if (have_jvm) {
			snprintf(jvm_probes[nprobes], sizeof(jvm_probes[0]), "usdt:%s:%s", jvm,
				 p->probe);
			probes[nprobes] = jvm_probes[nprobes];
		} else {
			probes[nprobes] = p->probe;
		}
		nprobes++;
		if (p->decl && (ret = session__parse_opt(&c.s, 'A', p->decl)) < 0) {
			ret = -ret;
			goto out;
		}
	}
	ret = EXIT_FAIL;
	if (c.rt->env && c.s.o.cmd) {
		char buf[64];
		const char *eq = strchr(c.rt->env, '=');

		snprintf(buf, sizeof(buf), "%.*s", (int)(eq - c.rt->env), c.rt->env);
		if (setenv(buf, eq + 1, 1)) {
			fprintf(stderr, "%s: cannot set %s: %s\n", t->who, c.rt->env,
				strerror(errno));
			goto out;
		}
	}
	if (c.lang == LANG_RUBY && c.s.o.cmd && (t->bit & (LANG_TOOL_FLOW | LANG_TOOL_CALLS)) &&
	    (err = ruby_enable_tracepoint(&c, rbdir, sizeof(rbdir)))) {
		fprintf(stderr, "%s: cannot prepare ruby's TracePoint: %s\n", t->who,
			strerror(-err));
		goto out;
	}
	if (c.s.o.pid > 0 && c.rt->method_needs && (t->bit & (LANG_TOOL_FLOW | LANG_TOOL_CALLS)))
		fprintf(stderr, "%s: note: %s method probes need %s\n", t->who, c.rt->name,
			c.rt->method_needs);
	ret = session__setup(&c.s, (char *const *)probes, nprobes);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	__fsetlocking(c.s.out.f, FSETLOCKING_BYCALLER);
	json_writer__init(&c.jw, c.s.out.f);
	if (session__kernel(&c.s, KF_NEEDS_TRACE))
		goto out;
	err = trace_records__new(&c.s, &ro, &sink, &tr);
	if (err) {
		session__report_load_error(&c.s, err);
		goto out;
	}
	lc.tr = tr;
	if (trace_records__attach(tr) || session__begin(&c.s))
		goto out;
	c.tty = isatty(fileno(c.s.out.f));
	c.pid = session__target_pid(&c.s);
	ret = session__run(&c.s, &(struct session_loop){step, attach_new, &lc, POLL_MS});
	session__detach(&c.s);
	trace_records__drain(tr);
	if (c.err == -ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", t->who);
		ret = EXIT_FAIL;
	}
	if (t->finish && c.s.out.err != -EPIPE) {
		t->finish(&c);
		output__flush(&c.s.out);
	}
	if (trace_records__lost(tr))
		fprintf(stderr, "%s: %" PRIu64 " events lost (ring buffer full)\n", t->who,
			trace_records__lost(tr));
out:
	ruby_cleanup(rbdir);
	trace_records__free(tr);
	lang_stacks__free(&c.stacks);
	lang_aggs__free(&c.aggs);
	return session__finish(&c.s, ret);
}

int cmd_flow(int argc, char **argv)
{
	return run_tool(&tools[0], argc, argv);
}

int cmd_calls(int argc, char **argv)
{
	return run_tool(&tools[1], argc, argv);
}

int cmd_gc(int argc, char **argv)
{
	return run_tool(&tools[2], argc, argv);
}

int cmd_objects(int argc, char **argv)
{
	return run_tool(&tools[3], argc, argv);
}

int cmd_threads(int argc, char **argv)
{
	return run_tool(&tools[4], argc, argv);
}

int cmd_top(int argc, char **argv)
{
	return run_tool(&tools[5], argc, argv);
}
