// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The runtime table and the pure bookkeeping of the language tools (see
 * lang.h): no BPF, no I/O, so it is unit-tested directly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

#define ARR(a) (sizeof(a) / sizeof((a)[0]))
#define METHODS (LANG_TOOL_FLOW | LANG_TOOL_CALLS)

/* CPython 3.11: Include/pydtrace.d */
#define PY_FUNC "=file:str,func:str,line:i32"
static const struct lang_probe python_probes[] = {
	{"python:function__entry", LANG_EV_ENTRY, METHODS, "python:function__entry" PY_FUNC},
	{"python:function__return", LANG_EV_RETURN, METHODS, "python:function__return" PY_FUNC},
	/* sets the semaphore that routes every call through the tracing path */
	{"python:line", LANG_EV_HELPER, METHODS, NULL},
	{"python:gc__start", LANG_EV_GC_BEGIN, LANG_TOOL_GC, "python:gc__start=generation:i32"},
	{"python:gc__done", LANG_EV_GC_END, LANG_TOOL_GC, "python:gc__done=collected:i64"},
};

/* Ruby 3.1: probes.d */
#define RB_METHOD "=class:str,method:str,file:str,line:i32"
static const struct lang_probe ruby_probes[] = {
	{"ruby:method__entry", LANG_EV_ENTRY, METHODS, "ruby:method__entry" RB_METHOD},
	{"ruby:method__return", LANG_EV_RETURN, METHODS, "ruby:method__return" RB_METHOD},
	/* cmethod__entry/return left out: see lang.h */
	{"ruby:gc__mark__begin", LANG_EV_GC_BEGIN, LANG_TOOL_GC, NULL},
	{"ruby:gc__mark__end", LANG_EV_GC_END, LANG_TOOL_GC, NULL},
	{"ruby:gc__sweep__begin", LANG_EV_GC_BEGIN, LANG_TOOL_GC, NULL},
	{"ruby:gc__sweep__end", LANG_EV_GC_END, LANG_TOOL_GC, NULL},
	{"ruby:object__create", LANG_EV_ALLOC, LANG_TOOL_OBJECTS,
	 "ruby:object__create=class:str,file:str,line:i32"},
};

/* PHP 8.2: Zend/zend_dtrace.d */
#define PHP_FUNC "=func:str,file:str,line:i32,class:str,scope:str"
static const struct lang_probe php_probes[] = {
	{"php:function__entry", LANG_EV_ENTRY, METHODS, "php:function__entry" PHP_FUNC},
	{"php:function__return", LANG_EV_RETURN, METHODS, "php:function__return" PHP_FUNC},
};

/* OpenJDK 17: hotspot.d, hotspot_jni.d (strings are pointer + length) */
#define JAVA_METHOD "=tid:i64,class:str,class_len:i64,method:str,method_len:i64,sig:str,sig_len:i64"
#define JAVA_THREAD "=name:str,name_len:i64,java_tid:i64,tid:i64,daemon:i32"
static const struct lang_probe java_probes[] = {
	{"hotspot:method__entry", LANG_EV_ENTRY, METHODS, "hotspot:method__entry" JAVA_METHOD},
	{"hotspot:method__return", LANG_EV_RETURN, METHODS, "hotspot:method__return" JAVA_METHOD},
	{"hotspot:gc__begin", LANG_EV_GC_BEGIN, LANG_TOOL_GC, "hotspot:gc__begin=full:i32"},
	{"hotspot:gc__end", LANG_EV_GC_END, LANG_TOOL_GC, NULL},
	{"hotspot:object__alloc", LANG_EV_ALLOC, LANG_TOOL_OBJECTS,
	 "hotspot:object__alloc=tid:i64,class:str,class_len:i64,size:i64"},
	{"hotspot:thread__start", LANG_EV_THREAD_START, LANG_TOOL_THREADS,
	 "hotspot:thread__start" JAVA_THREAD},
	{"hotspot:thread__stop", LANG_EV_THREAD_STOP, LANG_TOOL_THREADS,
	 "hotspot:thread__stop" JAVA_THREAD},
};

static const struct lang_runtime runtimes[LANG__MAX] = {
	[LANG_PYTHON] = {"python", python_probes, ARR(python_probes), NULL, NULL, NULL},
	[LANG_RUBY] = {"ruby", ruby_probes, ARR(ruby_probes), NULL,
		       "an enabled TracePoint for call/return events, e.g. "
		       "TracePoint.new(:call, :return) {}.enable",
		       NULL},
	[LANG_PHP] = {"php", php_probes, ARR(php_probes), "USE_ZEND_DTRACE=1",
		      "USE_ZEND_DTRACE=1 in its environment", NULL},
	[LANG_JAVA] = {"java", java_probes, ARR(java_probes), NULL, "-XX:+ExtendedDTraceProbes",
		       "-XX:+ExtendedDTraceProbes"},
};

const struct lang_runtime *lang__runtime(enum lang_id id)
{
	return id >= 0 && id < LANG__MAX ? &runtimes[id] : NULL;
}

enum lang_id lang__by_name(const char *name)
{
	static const struct {
		const char *name;
		enum lang_id id;
	} names[] = {
		{"python", LANG_PYTHON}, {"python3", LANG_PYTHON}, {"py", LANG_PYTHON},
		{"ruby", LANG_RUBY},	 {"rb", LANG_RUBY},	   {"php", LANG_PHP},
		{"java", LANG_JAVA},	 {"jvm", LANG_JAVA},
	};

	for (size_t i = 0; i < ARR(names); i++)
		if (!strcmp(name, names[i].name))
			return names[i].id;
	return LANG_UNKNOWN;
}

static enum lang_id by_prefix(const char *base, size_t len)
{
	static const struct {
		const char *prefix;
		enum lang_id id;
	} prefixes[] = {
		{"python", LANG_PYTHON}, {"libpython", LANG_PYTHON}, {"ruby", LANG_RUBY},
		{"libruby", LANG_RUBY},	 {"php", LANG_PHP},	     {"libphp", LANG_PHP},
		{"java", LANG_JAVA},	 {"libjvm.so", LANG_JAVA},
	};

	for (size_t i = 0; i < ARR(prefixes); i++) {
		size_t pl = strlen(prefixes[i].prefix);

		if (len >= pl && !strncmp(base, prefixes[i].prefix, pl))
			return prefixes[i].id;
	}
	return LANG_UNKNOWN;
}

enum lang_id lang__detect_command(const char *cmd)
{
	const char *end, *base;

	if (!cmd)
		return LANG_UNKNOWN;
	for (;;) {
		cmd += strspn(cmd, " \t");
		end = cmd + strcspn(cmd, " \t");
		if (end == cmd)
			return LANG_UNKNOWN;
		/* skip NAME=VALUE assignments and 'env' */
		if (memchr(cmd, '=', end - cmd) || (end - cmd == 3 && !strncmp(cmd, "env", 3))) {
			cmd = end;
			continue;
		}
		break;
	}
	base = cmd;
	for (const char *p = cmd; p < end; p++)
		if (*p == '/')
			base = p + 1;
	return by_prefix(base, end - base);
}

enum lang_id lang__detect_maps(const char *maps)
{
	enum lang_id found = LANG_UNKNOWN;

	/* libjvm first: a JVM maps many other libraries; then the rest by path basename */
	for (const char *line = maps; line && *line;) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *path = memchr(line, '/', end - line), *base = path;

		for (const char *p = path; p && p < end; p++)
			if (*p == '/')
				base = p + 1;
		if (base) {
			enum lang_id id = by_prefix(base, end - base);

			if (id == LANG_JAVA)
				return id;
			if (found == LANG_UNKNOWN)
				found = id;
		}
		line = nl ? nl + 1 : NULL;
	}
	return found;
}

unsigned int lang__tools(const struct lang_runtime *rt)
{
	unsigned int t = 0;

	for (size_t i = 0; i < rt->nprobes; i++)
		t |= rt->probes[i].tools;
	return t;
}

/* --- per-thread stacks ------------------------------------------------- */

static struct lang_stack *stack_find(struct lang_stacks *s, uint32_t tid, bool create)
{
	size_t i;

	if (s->cap) {
		for (i = tid & (s->cap - 1); s->v[i].used; i = (i + 1) & (s->cap - 1))
			if (s->v[i].tid == tid)
				return &s->v[i];
	}
	if (!create)
		return NULL;
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct lang_stack *nv = calloc(ncap, sizeof(*nv));

		if (!nv)
			return NULL;
		for (size_t j = 0; j < s->cap; j++) {
			if (!s->v[j].used)
				continue;
			for (i = s->v[j].tid & (ncap - 1); nv[i].used; i = (i + 1) & (ncap - 1))
				;
			nv[i] = s->v[j];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	for (i = tid & (s->cap - 1); s->v[i].used; i = (i + 1) & (s->cap - 1))
		;
	s->v[i].used = true;
	s->v[i].tid = tid;
	s->v[i].depth = 0;
	s->n++;
	return &s->v[i];
}

int lang_stacks__push(struct lang_stacks *s, uint32_t tid, uint64_t ts)
{
	struct lang_stack *st = stack_find(s, tid, true);

	if (!st)
		return -ENOMEM;
	if (st->depth < LANG_MAX_DEPTH)
		st->ts[st->depth] = ts;
	return st->depth++;
}

int lang_stacks__pop(struct lang_stacks *s, uint32_t tid, uint64_t ts, uint64_t *dur_ns)
{
	struct lang_stack *st = stack_find(s, tid, false);

	*dur_ns = 0;
	if (!st || !st->depth)
		return -1;
	st->depth--;
	if (st->depth < LANG_MAX_DEPTH && ts >= st->ts[st->depth])
		*dur_ns = ts - st->ts[st->depth];
	return st->depth;
}

void lang_stacks__free(struct lang_stacks *s)
{
	free(s->v);
	*s = (struct lang_stacks){0};
}

/* --- aggregates ---------------------------------------------------------- */

static uint64_t hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

static int aggs_grow(struct lang_aggs *a)
{
	size_t ncap = a->cap ? a->cap * 2 : 64;
	struct lang_agg *nv = calloc(ncap, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	for (size_t j = 0; j < a->cap; j++) {
		size_t i;

		if (!a->v[j].name)
			continue;
		for (i = hash_str(a->v[j].name) & (ncap - 1); nv[i].name; i = (i + 1) & (ncap - 1))
			;
		nv[i] = a->v[j];
	}
	free(a->v);
	a->v = nv;
	a->cap = ncap;
	return 0;
}

struct lang_agg *lang_aggs__get(struct lang_aggs *a, const char *name)
{
	size_t i;

	if ((a->n + 1) * 2 > a->cap && aggs_grow(a))
		return NULL;
	for (i = hash_str(name) & (a->cap - 1); a->v[i].name; i = (i + 1) & (a->cap - 1))
		if (!strcmp(a->v[i].name, name))
			return &a->v[i];
	a->v[i].name = strdup(name);
	if (!a->v[i].name)
		return NULL;
	a->n++;
	return &a->v[i];
}

unsigned int lang__log2(uint64_t v)
{
	return v > 1 ? 63 - __builtin_clzll(v) : 0;
}

void lang_agg__add_time(struct lang_agg *g, uint64_t ns)
{
	g->timed++;
	g->total_ns += ns;
	if (ns > g->max_ns)
		g->max_ns = ns;
	g->hist[lang__log2(ns)]++;
}

static bool by_time_order;

static int cmp_agg(const void *pa, const void *pb)
{
	const struct lang_agg *a = *(struct lang_agg *const *)pa,
			      *b = *(struct lang_agg *const *)pb;
	uint64_t ka = by_time_order ? a->total_ns : a->count;
	uint64_t kb = by_time_order ? b->total_ns : b->count;

	if (ka != kb)
		return ka > kb ? -1 : 1;
	return strcmp(a->name, b->name);
}

struct lang_agg **lang_aggs__sorted(const struct lang_aggs *a, bool by_time, size_t *n)
{
	struct lang_agg **v = malloc((a->n ? a->n : 1) * sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < a->cap; i++)
		if (a->v[i].name)
			v[k++] = &a->v[i];
	by_time_order = by_time;
	qsort(v, k, sizeof(*v), cmp_agg);
	*n = k;
	return v;
}

void lang_aggs__free(struct lang_aggs *a)
{
	for (size_t i = 0; i < a->cap; i++)
		free(a->v[i].name);
	free(a->v);
	*a = (struct lang_aggs){0};
}
