/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The language-runtime tools (flow, calls, gc, objects, threads): what
 * each runtime's probes are and what it needs to fire them, and the pure
 * bookkeeping the tools share (per-thread call stacks, per-name
 * aggregates, runtime detection). No BPF here: lang.c is the front-end
 * over the session, this part is unit-tested on its own.
 *
 * The runtimes disagree on how to be watched, so the table records it:
 *  - CPython 3.11 fires function__entry only on its tracing dispatch path
 *    (ceval.c: DO_TRACING on RESUME), taken when sys.settrace/setprofile
 *    is active or python:line's semaphore is set (OR_DTRACE_LINE in the
 *    DISPATCH macro). The tools therefore also attach python:line.
 *  - Ruby 3.1 fires method probes from its trace instructions, which
 *    exist only while some TracePoint for call/return events is enabled.
 *    Its cmethod__* probes are not used: with them attached, ruby 3.1.2
 *    crashed (SEGV at rubygems/errors.rb:177) in 2 of 4 runs of a script.
 *  - PHP 8.2 calls its probes only with USE_ZEND_DTRACE=1 in the
 *    environment (set for -c).
 *  - OpenJDK 17 fires method and allocation probes only with
 *    -XX:+ExtendedDTraceProbes; its gc and thread probes always.
 */
#ifndef USDTKIT_TRACER_LANG_H
#define USDTKIT_TRACER_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lang_id { LANG_PYTHON, LANG_RUBY, LANG_PHP, LANG_JAVA, LANG__MAX, LANG_UNKNOWN = -1 };

enum lang_tool {
	LANG_TOOL_FLOW = 1 << 0,
	LANG_TOOL_CALLS = 1 << 1,
	LANG_TOOL_GC = 1 << 2,
	LANG_TOOL_OBJECTS = 1 << 3,
	LANG_TOOL_THREADS = 1 << 4,
};

enum lang_ev {
	LANG_EV_HELPER, /* attached only to enable the others; its hits are dropped */
	LANG_EV_ENTRY,
	LANG_EV_RETURN,
	LANG_EV_GC_BEGIN,
	LANG_EV_GC_END,
	LANG_EV_ALLOC,
	LANG_EV_THREAD_START,
	LANG_EV_THREAD_STOP,
};

struct lang_probe {
	const char *probe; /* PROVIDER:NAME */
	enum lang_ev ev;
	unsigned int tools; /* enum lang_tool bits that attach it */
	const char *decl; /* --args declaration, or NULL */
};

struct lang_runtime {
	const char *name; /* -l NAME */
	const struct lang_probe *probes;
	size_t nprobes;
	const char *env; /* NAME=VALUE the runtime needs; set for -c */
	/* what the runtime must be started with for method probes (NULL: nothing) */
	const char *method_needs;
	const char *alloc_needs;
};

const struct lang_runtime *lang__runtime(enum lang_id id);
/* -l NAME (python, ruby, php, java; a few aliases); LANG_UNKNOWN if none. */
enum lang_id lang__by_name(const char *name);
/* From the first word of a -c command (basename: python3.11, ruby, php, java ...). */
enum lang_id lang__detect_command(const char *cmd);
/* From the text of /proc/PID/maps (libpython, libruby, libphp/php, libjvm). */
enum lang_id lang__detect_maps(const char *maps);
/* Tools that runtime has probes for (enum lang_tool bits). */
unsigned int lang__tools(const struct lang_runtime *rt);

/*
 * Per-thread call stacks: entry times, so a return knows its depth and
 * duration. Deeper than LANG_MAX_DEPTH is counted but not timed.
 */
#define LANG_MAX_DEPTH 256

struct lang_stack {
	uint32_t tid;
	bool used;
	unsigned int depth;
	uint64_t ts[LANG_MAX_DEPTH];
};

struct lang_stacks {
	struct lang_stack *v;
	size_t cap, n;
};

/* Depth of the new frame (0: outermost); a negative errno if out of memory. */
int lang_stacks__push(struct lang_stacks *s, uint32_t tid, uint64_t ts);
/*
 * Pops the thread's innermost frame: its depth, and its duration in
 * @dur_ns (0 if not timed). -1 when the thread has no known frame (it was
 * entered before tracing began).
 */
int lang_stacks__pop(struct lang_stacks *s, uint32_t tid, uint64_t ts, uint64_t *dur_ns);
void lang_stacks__free(struct lang_stacks *s);

/* Per-name aggregates (calls, objects, gc kinds). */
#define LANG_HIST_BUCKETS 64

struct lang_agg {
	char *name;
	uint64_t count;
	uint64_t total_ns, max_ns; /* timed entries only */
	uint64_t timed;
	uint64_t bytes;
	uint64_t hist[LANG_HIST_BUCKETS]; /* log2(ns) */
};

struct lang_aggs {
	struct lang_agg *v;
	size_t n, cap; /* cap: a power of two (open addressing) */
};

/* The entry for @name, created on first use; NULL if out of memory. */
struct lang_agg *lang_aggs__get(struct lang_aggs *a, const char *name);
void lang_agg__add_time(struct lang_agg *g, uint64_t ns);
/* Entries sorted by count (or total time with @by_time), descending, then name. */
struct lang_agg **lang_aggs__sorted(const struct lang_aggs *a, bool by_time, size_t *n);
void lang_aggs__free(struct lang_aggs *a);

/* log2 bucket of @v (0 for 0 and 1). */
unsigned int lang__log2(uint64_t v);

/* The subcommands (lang.c), registered in main.c. */
int cmd_flow(int argc, char **argv);
int cmd_calls(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_objects(int argc, char **argv);
int cmd_threads(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
