// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit trace: attach to USDT probes and stream one decoded line (or JSON
 * record) per hit.
 *
 * A front-end over the session (session.h): the options, the BPF side
 * (trace_records.c: one sleepable program serving every location, records
 * in ring buffers, decoded into struct event) and the sink (sinks.h).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "kernel_features.h"
#include "session.h"
#include "sinks.h"
#include "trace_export.h"
#include "trace_records.h"
#include "ustack.h"

#define WHO "usdtkit trace"
#define DEFAULT_STR_SIZE 64
#define MAX_STR_SIZE 4096
#define DEFAULT_RING_MB 4 /* ~15 MB resident in all: the ring is mapped twice */
#define POLL_MS 10

struct trace_opts {
	struct trace_records_opts rec;
	struct sink_text_opts text;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usdtkit trace [OPTIONS] PROBE...\n"
		"\n"
		"Attach to USDT probes and print one line per hit with decoded arguments.\n"
		"PROBE is [usdt:][PATH:]PROVIDER:NAME (bpftrace's spelling works too);\n"
		"PROVIDER and NAME take shell globs. With a PATH, every process running\n"
		"that file is traced (now and later); without one, the probes are searched\n"
		"in the objects of the -p/-c target, or of every process with --all.\n"
		"\n"
		"targets:\n"
		"  -p, --pid PID          trace that process only (all its mapped objects,\n"
		"                         including libraries and providers loaded later)\n"
		"  -c, --command 'CMD'    start CMD, attach before it runs, exit when it exits;\n"
		"                         if we stop first (-n, -d, Ctrl-C), CMD gets SIGTERM\n"
		"                         (SIGKILL 2 s later) and is reaped\n"
		"  -a, --all              every process, now and later (runtime providers and\n"
		"                         new processes included); events say which fired\n"
		"  -w, --wait             -p: a PROBE may match nothing yet (a library or\n"
		"                         runtime provider loaded later); implied by -c.\n"
		"                         Still unmatched at exit: exit status 1\n"
		"\n"
		"decoding:\n"
		"      --args 'PROVIDER:NAME=[name:]type,...'\n"
		"                         declare argument names/types (i8..u64 f32 f64 str ptr)\n"
		"                         for probes without usdtkit metadata; globs allowed\n"
		"  -s, --string-size N    bytes captured per string argument (default %d)\n"
		"      --ustack[=DEPTH]   the user stack of each hit, up to DEPTH frames\n"
		"                         (default and most %d), symbolized (docs/stacks.md)\n"
		"\n"
		"filtering:\n"
		"      --filter '[PROVIDER:NAME:] EXPR'\n"
		"                         keep the hits where EXPR holds, decided in the\n"
		"                         kernel: argument names, argN, pid tid comm probe;\n"
		"                         == != < <= > >= && || ! ( ), =~ !~ \"glob\"; the\n"
		"                         PROVIDER:NAME: scope limits it to those probes;\n"
		"                         may be repeated (all must hold); docs/filters.md\n"
		"\n"
		"output:\n"
		"  -j, --json             JSON lines (see docs/usdtkit-trace.md)\n"
		"  -f, --format TEMPLATE  one line per event from TEMPLATE: {ARGNAME}, {0}..{11},\n"
		"                         {pid} {tid} {comm} {probe} {provider} {probe_name}\n"
		"                         {time} {elapsed} {ts_ns}; '{{' is a literal '{'\n"
		"  -T, --relative         text: seconds since the start instead of the clock\n"
		"  -o, --output FILE      write events to FILE instead of stdout\n"
		"  -n, --count N          stop after N events\n"
		"  -d, --duration SEC     stop after SEC seconds (or 500ms, 2s, 1m)\n"
		"  -b, --buffer-size MB   ring buffer size in MiB, a power of two (default %d)\n"
		"  -v, --verbose          libbpf and engine diagnostics on stderr\n"
		"  -h, --help             this help\n"
		"\n" TRACE_EXPORT_USAGE "\n"
		"examples:\n"
		"  usdtkit trace -p 1234 'myapp:request_*'\n"
		"  usdtkit trace /usr/bin/myapp:myapp:request_start --json\n"
		"  usdtkit trace 'usdt:/usr/bin/python3.11:python:function__entry' -n 10\n"
		"  usdtkit trace -c './server --port 8080' 'http:*' -f '{client} GET {path}'\n"
		"  usdtkit trace ./a.out:demo:tick --args 'demo:tick=i:i64,msg:str' -n 10\n"
		"  usdtkit trace -p 1234 python:function__entry python:line\n"
		"      --args 'python:function__entry=file:str,func:str,line:i32'\n"
		"      --filter 'python:function__entry: func == \"copyfile\"'\n"
		"      --filter 'python:line: pid == 0'\n"
		"\n"
		"A closed output (| head) ends the trace quietly with status 0.\n"
		"Needs CAP_BPF and CAP_PERFMON (or root). Ctrl-C stops and prints a summary.\n",
		DEFAULT_STR_SIZE, USTACK_DEFAULT_DEPTH, DEFAULT_RING_MB);
}

static int parse_opt(struct trace_opts *t, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'j':
		t->json = true;
		return 0;
	case 'f':
		t->text.format = arg;
		return 0;
	case 'T':
		t->text.relative = true;
		return 0;
	case 'n':
		if (cli__parse_u64(arg, &v) || !v)
			break;
		t->rec.max_events = v;
		return 0;
	case 's':
		if (cli__parse_u64(arg, &v) || v < 2 || v > MAX_STR_SIZE) {
			fprintf(stderr, WHO ": string size must be 2..%d\n", MAX_STR_SIZE);
			return EXIT_USAGE;
		}
		t->rec.str_size = v;
		return 0;
	case 'S':
		v = USTACK_DEFAULT_DEPTH;
		if (arg && (cli__parse_u64(arg, &v) || !v || v > USTACK_MAX_DEPTH)) {
			fprintf(stderr, WHO ": --ustack depth must be 1..%d\n", USTACK_MAX_DEPTH);
			return EXIT_USAGE;
		}
		t->rec.ustack_depth = v;
		return 0;
	case 'b':
		if (cli__parse_u64(arg, &v) || !v || v > 1024 || (v & (v - 1))) {
			fprintf(stderr, WHO ": buffer size must be a power of two, 1..1024 MiB\n");
			return EXIT_USAGE;
		}
		t->rec.ring_mb = v;
		return 0;
	case 'h':
		usage(stdout);
		return -1;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
	fprintf(stderr, WHO ": bad count '%s'\n", arg);
	return EXIT_USAGE;
}

struct trace_loop {
	struct trace_records *tr;
	struct trace_export *x;
};

static int step(void *ctx, int timeout_ms)
{
	struct trace_loop *l = ctx;
	int err = trace_records__poll(l->tr, timeout_ms);

	return err ? err : trace_export__flush(l->x);
}

static int attach_new(void *ctx)
{
	return trace_records__attach(((struct trace_loop *)ctx)->tr);
}

static void print_summary(struct session *s, struct trace_records *tr, bool json)
{
	uint64_t lost = trace_records__lost(tr), events = s->out.written;

	if (s->out.err == -EPIPE)
		return; /* the reader went away: quietly */
	if (json && !s->out.err) {
		fprintf(s->out.f,
			"{\"type\":\"summary\",\"events\":%" PRIu64 ",\"lost\":%" PRIu64 "}\n",
			events, lost);
		output__record(&s->out);
		output__flush(&s->out);
	}
	fprintf(stderr, WHO ": %" PRIu64 " events, %" PRIu64 " lost%s\n", events, lost,
		lost ? " (ring buffer full: try a larger --buffer-size)" : "");
}

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		SESSION_LONG_OPTS,
		SESSION_FILTER_LONG_OPT,
		{"json", no_argument, NULL, 'j'},
		{"format", required_argument, NULL, 'f'},
		{"relative", no_argument, NULL, 'T'},
		{"count", required_argument, NULL, 'n'},
		{"string-size", required_argument, NULL, 's'},
		{"buffer-size", required_argument, NULL, 'b'},
		{"ustack", optional_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		TRACE_EXPORT_LONG_OPTS,
		{0},
	};
	struct trace_opts t = {.rec = {.str_size = DEFAULT_STR_SIZE, .ring_mb = DEFAULT_RING_MB}};
	struct trace_records *tr = NULL;
	struct trace_export *x = NULL;
	struct sink sink = {0};
	struct session s;
	int ret, err, c;

	session__init(&s, WHO);
	optind = 1;
	while ((c = getopt_long(argc, argv, SESSION_SHORT_OPTS "jf:Tn:s:b:h", longopts, NULL)) !=
	       -1) {
		ret = session__parse_opt(&s, c, optarg);
		if (!ret)
			ret = trace_export__parse_opt(&x, WHO, c, optarg);
		if (ret < 0) {
			ret = -ret;
			goto out;
		}
		if (!ret && (ret = parse_opt(&t, c, optarg))) {
			ret = ret < 0 ? EXIT_OK : ret;
			goto out;
		}
	}
	ret = EXIT_USAGE;
	if (optind >= argc) {
		fprintf(stderr, WHO ": no PROBE given\n");
		usage(stderr);
		goto out;
	}
	if (t.json && t.text.format) {
		fprintf(stderr, WHO ": --json and --format cannot be combined\n");
		goto out;
	}
	ret = session__setup(&s, argv + optind, argc - optind);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	/* one thread writes: the *_unlocked() calls of the sinks need no lock */
	__fsetlocking(s.out.f, FSETLOCKING_BYCALLER);
	err = t.json ? sink_json__new(s.out.f, &sink) : sink_text__new(s.out.f, &t.text, &sink);
	if (err || trace_export__start(x, WHO, &sink))
		goto out;
	if (session__kernel(&s, KF_NEEDS_TRACE))
		goto out;
	err = trace_records__new(&s, &t.rec, &sink, &tr);
	if (err) {
		session__report_load_error(&s, err);
		goto out;
	}
	if (trace_records__attach(tr) || session__begin(&s))
		goto out;
	/* loading parsed the kernel's BTF (megabytes): give that memory back */
	malloc_trim(0);
	ret = session__run(
		&s, &(struct session_loop){step, attach_new, &(struct trace_loop){tr, x}, POLL_MS});
	session__detach(&s);
	/*
	 * Records still in the rings (Ctrl-C or --duration between two polls)
	 * were fired while traced: print them rather than drop them uncounted.
	 */
	trace_records__drain(tr);
	if (trace_export__finish(x, &sink))
		ret = EXIT_FAIL;
	print_summary(&s, tr, t.json);
out:
	sink__close(&sink);
	trace_export__free(x, &sink);
	trace_records__free(tr);
	return session__finish(&s, ret);
}
