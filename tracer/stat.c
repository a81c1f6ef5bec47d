// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit stat: in-kernel aggregation of USDT probe hits — counts per probe
 * (optionally per pid, tid or argument value), log2 and linear histograms
 * of an argument, and latency between a start and an end probe.
 *
 * A front-end over the session (session.h): the options, then the BPF
 * object (stat_maps.c) and the printing (stat_print.c) over one shared
 * state (stat_ctx.h). Targets are the session's: PATH in the PROBE, -p PID
 * (rescanned for objects it maps later), -c CMD.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "kernel_features.h"
#include "stat_ctx.h"
#include "stat_export.h"

#define WHO "usdtkit stat"
#define POLL_MS 20 /* target exit and new objects are noticed within this */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usdtkit stat [OPTIONS] PROBE...\n"
		"       usdtkit stat [OPTIONS] --latency START_PROBE,END_PROBE\n"
		"\n"
		"Aggregate USDT probe hits in the kernel and print summaries: counts per\n"
		"probe (default), per key, histograms of an argument, latency between two\n"
		"probes. PROBE is [usdt:][PATH:]PROVIDER:NAME with shell globs, as for trace.\n"
		"\n"
		"targets (as trace):\n"
		"  -p, --pid PID          that process only (rescanned for objects loaded later)\n"
		"  -c, --command 'CMD'    start CMD, attach before it runs; print and exit\n"
		"                         when it exits; if we stop first (-d, Ctrl-C), CMD\n"
		"                         gets SIGTERM (SIGKILL 2 s later) and is reaped\n"
		"  -a, --all              every process, now and later (as trace)\n"
		"  -w, --wait             -p: a PROBE may match nothing yet (implied by -c)\n"
		"      --args 'PROVIDER:NAME=[name:]type,...'\n"
		"                         declare argument names/types (i8..u64 f64 str ptr)\n"
		"\n"
		"what to aggregate (ARG is an argument name or argN, N from 0):\n"
		"  (none)                 hits per probe\n"
		"      --by pid|tid|ARG   hits per probe and process, thread or argument\n"
		"                         value (str arguments: by string, first %d bytes)\n"
		"      --by ustack[=DEPTH]\n"
		"                         hits per distinct user stack (up to DEPTH frames,\n"
		"                         default 127), symbolized (docs/stacks.md)\n"
		"      --hist ARG         log2 histogram of an integer argument, per probe\n"
		"      --lhist ARG,MIN,MAX,STEP\n"
		"                         linear histogram: [MIN, MAX) in STEP-wide buckets,\n"
		"                         plus one bucket below MIN and one at/above MAX\n"
		"      --latency START,END\n"
		"                         time from START_PROBE to END_PROBE, per thread:\n"
		"                         log2 histogram with count, avg, p50/p90/p99\n"
		"                         (estimated from finer buckets, within 12.5%%) and\n"
		"                         the exact max\n"
		"      --match ARG        --latency: pair START and END by an argument's\n"
		"                         value (a request id) within a process, not by thread\n"
		"      --unit ns|us|ms    --latency unit (default us)\n"
		"\n"
		"filtering:\n"
		"      --filter '[PROVIDER:NAME:] EXPR'\n"
		"                         count only the hits where EXPR holds (as trace;\n"
		"                         docs/filters.md); --latency: an unscoped filter\n"
		"                         must hold at the start and at the end, a scoped\n"
		"                         one applies to its probe only\n"
		"\n"
		"output:\n"
		"  -i, --interval SEC     print every SEC seconds what happened since the\n"
		"                         previous print (and at exit)\n"
		"      --cumulative       -i: print totals since the start instead\n"
		"      --folded           --by ustack: 'frame;frame;frame COUNT' lines,\n"
		"                         outermost frame first, for flame graph tools\n"
		"  -d, --duration SEC     stop after SEC seconds (or 500ms, 2s, 1m)\n"
		"  -j, --json             one JSON object per print (docs/usdtkit-stat.md)\n"
		"  -o, --output FILE      write the summaries to FILE instead of stdout\n"
		"      --top N            --by: print the N most frequent keys per probe\n"
		"      --max-keys N       --by/--latency: distinct keys kept in the kernel\n"
		"                         (default %d)\n"
		"  -v, --verbose          libbpf and engine diagnostics on stderr\n"
		"  -h, --help             this help\n"
		"\n" STAT_EXPORT_USAGE "\n"
		"Ctrl-C, --duration or the end of the target prints the summary and exits 0;\n"
		"so does a closed output (| head), quietly.\n"
		"\n"
		"examples:\n"
		"  usdtkit stat -p 1234 'myapp:*'\n"
		"  usdtkit stat ./server:http:request --by path -i 1\n"
		"  usdtkit stat -p 1234 myapp:alloc --hist size\n"
		"  usdtkit stat -c ./bench 'app:batch' --lhist n,0,100,10\n"
		"  usdtkit stat -p 1234 --latency app:request__start,app:request__done\n"
		"  usdtkit stat -p 1234 --latency app:req_start,app:req_done --match id --unit ms\n"
		"  usdtkit stat /usr/bin/myapp:myapp:tick --args 'myapp:tick=n:i64' --hist n -j\n"
		"  usdtkit stat -p 1234 http:request --filter 'status >= 500' --by path\n"
		"\n"
		"Needs CAP_BPF and CAP_PERFMON (or root).\n",
		STAT_KEY_STR - 1, STAT_DEFAULT_MAX_KEYS);
}

/* --lhist ARG,MIN,MAX,STEP */
static int parse_lhist(char *s, struct stat_opts *o)
{
	char *p[4];
	int n = 0;

	for (char *tok = s; n < 4; n++) {
		p[n] = tok;
		tok = strchr(tok, ',');
		if (!tok)
			break;
		*tok++ = 0;
	}
	if (n != 3 || !*p[0] || cli__parse_i64(p[1], &o->lmin) || cli__parse_i64(p[2], &o->lmax) ||
	    cli__parse_i64(p[3], &o->lstep))
		return -1;
	if (o->lstep <= 0 || o->lmax <= o->lmin)
		return -1;
	if (!hist_linear_count(o->lmin, o->lmax, o->lstep))
		return -2;
	o->arg = p[0];
	return 0;
}

static int set_mode(struct stat_opts *o, int mode)
{
	if (o->mode != STAT_MODE_COUNT && o->mode != mode) {
		fprintf(stderr, WHO ": --by, --hist, --lhist and --latency exclude each other\n");
		return -1;
	}
	o->mode = mode;
	return 0;
}

/* Options of stat alone: 0, or an exit status; -1: --help printed. */
static int parse_opt(struct stat_opts *o, char **bufs, int c, const char *arg)
{
	char *comma;
	uint64_t v;
	int err;

	switch (c) {
	case 'B':
		if (set_mode(o, STAT_MODE_BY))
			return EXIT_USAGE;
		err = stat_ustack__parse_by(o, arg);
		if (err)
			return err < 0 ? EXIT_USAGE : 0;
		o->by = !strcmp(arg, "pid")   ? STAT_BY_PID
			: !strcmp(arg, "tid") ? STAT_BY_TID
					      : STAT_BY_ARG;
		o->arg = o->by == STAT_BY_ARG ? arg : NULL;
		return 0;
	case 'H':
		if (set_mode(o, STAT_MODE_HIST))
			return EXIT_USAGE;
		o->arg = arg;
		return 0;
	case 'L':
		if (set_mode(o, STAT_MODE_LHIST))
			return EXIT_USAGE;
		free(bufs[0]);
		bufs[0] = strdup(arg);
		if (!bufs[0])
			return EXIT_FAIL;
		err = parse_lhist(bufs[0], o);
		if (err) {
			fprintf(stderr,
				WHO ": bad --lhist '%s' (want ARG,MIN,MAX,STEP with MIN < MAX, "
				    "STEP > 0%s)\n",
				arg, err == -2 ? " and at most 1000 steps" : "");
			return EXIT_USAGE;
		}
		return 0;
	case 'T':
		if (set_mode(o, STAT_MODE_LATENCY))
			return EXIT_USAGE;
		free(bufs[1]);
		bufs[1] = strdup(arg);
		if (!bufs[1])
			return EXIT_FAIL;
		comma = strchr(bufs[1], ',');
		if (!comma || comma == bufs[1] || !comma[1] || strchr(comma + 1, ',')) {
			fprintf(stderr, WHO ": bad --latency '%s' (want START_PROBE,END_PROBE)\n",
				arg);
			return EXIT_USAGE;
		}
		*comma = 0;
		o->lat_start = bufs[1];
		o->lat_end = comma + 1;
		return 0;
	case 'M':
		o->match = arg;
		return 0;
	case 'U':
		o->unit_div = !strcmp(arg, "ns")   ? 1
			      : !strcmp(arg, "us") ? 1000
			      : !strcmp(arg, "ms") ? 1000000
						   : 0;
		if (!o->unit_div) {
			fprintf(stderr, WHO ": bad --unit '%s' (ns, us or ms)\n", arg);
			return EXIT_USAGE;
		}
		o->unit = arg;
		return 0;
	case 'i':
		if (cli__parse_duration(arg, &o->interval)) {
			fprintf(stderr, WHO ": bad interval '%s' (seconds, or 500ms, 2s, 1m)\n",
				arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'C':
		o->cumulative = true;
		return 0;
	case 'F':
		o->folded = true;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'N':
		if (cli__parse_u64(arg, &v) || !v || v > UINT32_MAX) {
			fprintf(stderr, WHO ": bad --top '%s'\n", arg);
			return EXIT_USAGE;
		}
		o->top = v;
		return 0;
	case 'K':
		if (cli__parse_u64(arg, &v) || !v || v > (1u << 24)) {
			fprintf(stderr, WHO ": --max-keys must be 1..%u\n", 1u << 24);
			return EXIT_USAGE;
		}
		o->max_keys = v;
		return 0;
	case 'h':
		usage(stdout);
		return -1;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
}

/* Combinations, and the PROBE list: START,END for --latency. 0 or EXIT_USAGE. */
static int check_opts(struct stat_opts *o, int argc, char **argv, char ***probes, size_t *n,
		      char **lat_probes)
{
	if (o->match && o->mode != STAT_MODE_LATENCY) {
		fprintf(stderr, WHO ": --match needs --latency\n");
		return EXIT_USAGE;
	}
	if (o->unit_div != 1000 && o->mode != STAT_MODE_LATENCY) {
		fprintf(stderr, WHO ": --unit needs --latency\n");
		return EXIT_USAGE;
	}
	if (o->folded && (o->by != STAT_BY_USTACK || o->json)) {
		fprintf(stderr, WHO ": --folded needs --by ustack, without --json\n");
		return EXIT_USAGE;
	}
	if (o->cumulative && o->interval <= 0) {
		fprintf(stderr, WHO ": --cumulative needs --interval\n");
		return EXIT_USAGE;
	}
	if (o->mode == STAT_MODE_LATENCY) {
		o->arg = o->match;
		if (optind < argc) {
			fprintf(stderr,
				WHO ": --latency takes its probes as START_PROBE,END_PROBE; "
				    "no other PROBE\n");
			return EXIT_USAGE;
		}
		lat_probes[0] = (char *)o->lat_start;
		lat_probes[1] = (char *)o->lat_end;
		*probes = lat_probes;
		*n = 2;
		return 0;
	}
	if (optind >= argc) {
		fprintf(stderr, WHO ": no PROBE given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	*probes = argv + optind;
	*n = argc - optind;
	return 0;
}

/* Probes found at start that cannot serve the mode: a usage error (no target to wait for). */
static int check_probes(struct stat_ctx *c, int valid)
{
	uint8_t roles = 0;

	if (session__has_target(c->s))
		return 0;
	if (c->o.mode == STAT_MODE_LATENCY) {
		for (size_t i = 0; i < c->nprobes; i++)
			if (c->probes[i].cfg.valid)
				roles |= c->probes[i].cfg.role;
		if (roles != (STAT_ROLE_START | STAT_ROLE_END)) {
			fprintf(stderr,
				WHO ": --latency needs a start and a different end probe\n");
			return EXIT_USAGE;
		}
	}
	if (valid == 0 && c->o.mode != STAT_MODE_COUNT && engine__probe_count(c->eng)) {
		fprintf(stderr, WHO ": no selected probe can be aggregated%s\n",
			c->o.mode == STAT_MODE_LATENCY && !c->o.arg ? ""
								    : " (see the warnings above)");
		return EXIT_USAGE;
	}
	return 0;
}

struct loop_ctx {
	struct stat_ctx *c;
	uint64_t next_print;
};

static int step(void *ctx, int timeout_ms)
{
	struct loop_ctx *l = ctx;
	struct timespec ts = {timeout_ms / 1000, timeout_ms % 1000 * 1000000L};
	struct pollfd wake = {.fd = session__wake_fd(l->c->s), .events = POLLIN};
	uint64_t now;
	int err;

	if (l->c->us)
		err = stat_ustack__wait(l->c, timeout_ms); /* exporters are refused with it */
	else if ((err = stat_export__wait(l->c, timeout_ms)) == 0 && wake.fd >= 0)
		poll(&wake, 1, timeout_ms); /* an announcement or an exec ends it early */
	else if (!err)
		nanosleep(&ts, NULL);
	if (err < 0)
		return err;
	now = cli__now_ns(CLOCK_MONOTONIC);
	if (!l->next_print || now < l->next_print)
		return 0;
	while (l->next_print <= now)
		l->next_print += (uint64_t)(l->c->o.interval * 1e9);
	err = stat_print(l->c, false);
	return err == -EPIPE ? 1 : err;
}

static int attach_new(void *ctx)
{
	struct stat_ctx *c = ((struct loop_ctx *)ctx)->c;
	int err = stat_maps__configure(c);

	if (err < 0)
		return err;
	return session__attach(c->s, stat_maps__prog(c), stat_maps__locs_fd(c));
}

int cmd_stat(int argc, char **argv)
{
	static const struct option longopts[] = {
		SESSION_LONG_OPTS,
		SESSION_FILTER_LONG_OPT,
		{"by", required_argument, NULL, 'B'},
		{"hist", required_argument, NULL, 'H'},
		{"lhist", required_argument, NULL, 'L'},
		{"latency", required_argument, NULL, 'T'},
		{"match", required_argument, NULL, 'M'},
		{"unit", required_argument, NULL, 'U'},
		{"interval", required_argument, NULL, 'i'},
		{"cumulative", no_argument, NULL, 'C'},
		{"folded", no_argument, NULL, 'F'},
		{"json", no_argument, NULL, 'j'},
		{"top", required_argument, NULL, 'N'},
		{"max-keys", required_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		STAT_EXPORT_LONG_OPTS,
		{0},
	};
	struct stat_ctx c = {
		.o = {.unit = "us", .unit_div = 1000, .max_keys = STAT_DEFAULT_MAX_KEYS}};
	char *bufs[2] = {NULL, NULL}, *lat_probes[2], **probes = NULL;
	struct loop_ctx lc = {.c = &c};
	struct session s;
	size_t nprobes = 0;
	int ret, err, opt;

	session__init(&s, WHO);
	c.s = &s;
	optind = 1;
	while ((opt = getopt_long(argc, argv, SESSION_SHORT_OPTS "ji:h", longopts, NULL)) != -1) {
		ret = session__parse_opt(&s, opt, optarg);
		if (ret < 0) {
			ret = -ret;
			goto out;
		}
		if (!ret)
			ret = stat_export__parse_opt(&c, opt, optarg);
		if (ret < 0) {
			ret = -ret;
			goto out;
		}
		if (!ret && (ret = parse_opt(&c.o, bufs, opt, optarg))) {
			ret = ret < 0 ? EXIT_OK : ret;
			goto out;
		}
	}
	ret = check_opts(&c.o, argc, argv, &probes, &nprobes, lat_probes);
	if (!ret)
		ret = stat_export__check(&c);
	if (!ret)
		ret = stat_ustack__check(&c, &s.filters);
	if (ret)
		goto out;
	ret = session__setup(&s, probes, nprobes);
	if (ret)
		goto out;
	c.eng = s.eng;
	c.out = s.out.f;
	json_writer__init(&c.jw, c.out);
	ret = EXIT_FAIL;
	if (session__kernel(&s, KF_NEEDS_STAT))
		goto out;
	err = stat_maps__load(&c);
	if (err < 0) {
		session__report_load_error(&s, err);
		goto out;
	}
	ret = check_probes(&c, err);
	if (ret)
		goto out;
	ret = stat_export__start(&c);
	if (ret)
		goto out;
	ret = session__attach(&s, stat_maps__prog(&c), stat_maps__locs_fd(&c));
	if (ret || (ret = session__begin(&s)))
		goto out;
	c.last_print_ns = s.start_ns;
	if (c.o.interval > 0)
		lc.next_print = s.start_ns + (uint64_t)(c.o.interval * 1e9);
	ret = session__run(&s, &(struct session_loop){step, attach_new, &lc, POLL_MS});
	if (!s.out.err && stat_print(&c, true) && output__failed(&s.out))
		ret = EXIT_FAIL;
	if (stat_export__finish(&c))
		ret = EXIT_FAIL;
out:
	stat_export__free(&c);
	ret = session__finish(&s, ret);
	stat_maps__free(&c);
	free(bufs[0]);
	free(bufs[1]);
	return ret;
}
