// SPDX-License-Identifier: MIT
/*
 * usdtkit trace: attach to USDT probes and stream one decoded line (or JSON
 * record) per hit.
 *
 * The argument engine (engine.c) selects locations and compiles their
 * argument specs; one sleepable BPF program (trace.bpf.c) serves them all
 * and writes fixed-size records into a ring buffer. The BPF side does not
 * wake us per event: we poll the ring on a short timer, and the program
 * forces a wakeup only when the ring is a quarter full, so the per-hit cost
 * stays near the uprobe floor. Lost records are counted in BPF and always
 * reported.
 *
 * Targets: PATH in the PROBE (every process running it, now and later), -p
 * PID (that process; its objects are rescanned for dlopen'ed libraries and
 * runtime providers), -c CMD (attached before its first instruction, and
 * ended if still running when we stop). target.c holds what trace shares
 * with stat: the target options, the -c command, watching the target.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "engine.h"
#include "json.h"
#include "kernel_features.h"
#include "ring.h"
#include "trace.h"
#include "target.h"
#include "trace.skel.h"

#define DEFAULT_STR_SIZE 64
#define MAX_STR_SIZE 4096
#define DEFAULT_RING_MB 32
#define POLL_MS 10

struct trace_opts {
	struct target_opts tg; /* -p -c -w -v --args */
	bool json;
	const char *format;
	const char *outpath;
	uint64_t max_events;
	double duration;
	unsigned int str_size;
	unsigned int ring_mb;
};

#define MAX_LAYOUTS 8

struct trace_ctx;

/*
 * One loaded BPF object with its record geometry. The first is sized
 * exactly for the locations found at start (small records: fewer cache
 * lines per hit, more records per ring); locations found later that need
 * more argument or string slots get a new, roomier object with its own ring.
 */
struct layout {
	struct trace_ctx *t;
	struct trace_bpf *skel;
	unsigned int max_args; /* argument slots per record */
	unsigned int nslots; /* string slots per record */
	size_t cap; /* the locs map holds location indices below this */
	unsigned int ring_mb;
};

struct trace_ctx {
	struct trace_opts o;
	struct engine *eng;
	FILE *out;
	struct json_writer jw;
	uint64_t events;
	int64_t mono_to_real; /* add to bpf_ktime_get_ns() for wall-clock ns */
	struct layout layouts[MAX_LAYOUTS];
	int nlayouts;
	const struct layout *cur; /* layout of the record being printed */
	struct ring_reader *rb;
	bool multi; /* uprobe_multi links */
	time_t time_sec; /* put_time()'s cache */
	char time_buf[32];
	bool done;
	bool out_error;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: usdtkit trace [OPTIONS] PROBE...\n"
		"\n"
		"Attach to USDT probes and print one line per hit with decoded arguments.\n"
		"PROBE is [PATH:]PROVIDER:NAME; PROVIDER and NAME take shell globs.\n"
		"With a PATH, every process running that file is traced (now and later);\n"
		"without one, the probes are searched in the objects of the -p/-c target.\n"
		"\n"
		"targets:\n"
		"  -p, --pid PID          trace that process only (all its mapped objects,\n"
		"                         including libraries and providers loaded later)\n"
		"  -c, --command 'CMD'    start CMD, attach before it runs, exit when it exits;\n"
		"                         if we stop first (-n, -d, Ctrl-C), CMD gets SIGTERM\n"
		"                         (SIGKILL 2 s later) and is reaped\n"
		"  -w, --wait             -p: a PROBE may match nothing yet (a library or\n"
		"                         runtime provider loaded later); implied by -c.\n"
		"                         Still unmatched at exit: exit status 1\n"
		"\n"
		"decoding:\n"
		"      --args 'PROVIDER:NAME=[name:]type,...'\n"
		"                         declare argument names/types (i8..u64 f64 str ptr)\n"
		"                         for probes without usdtkit metadata; globs allowed\n"
		"  -s, --string-size N    bytes captured per string argument (default %d)\n"
		"\n"
		"output:\n"
		"  -j, --json             JSON lines (see docs/usdtkit-trace.md)\n"
		"  -f, --format TEMPLATE  one line per event from TEMPLATE: {ARGNAME}, {0}..{11},\n"
		"                         {pid} {tid} {comm} {probe} {provider} {probe_name}\n"
		"                         {time} {ts_ns}; '{{' is a literal '{'\n"
		"  -o, --output FILE      write events to FILE instead of stdout\n"
		"  -n, --count N          stop after N events\n"
		"  -d, --duration SEC     stop after SEC seconds\n"
		"  -b, --buffer-size MB   ring buffer size in MiB, a power of two (default %d)\n"
		"  -v, --verbose          libbpf and engine diagnostics on stderr\n"
		"  -h, --help             this help\n"
		"\n"
		"examples:\n"
		"  usdtkit trace -p 1234 'myapp:request_*'\n"
		"  usdtkit trace /usr/bin/myapp:myapp:request_start --json\n"
		"  usdtkit trace -c './server --port 8080' 'http:*' -f '{client} GET {path}'\n"
		"  usdtkit trace ./a.out:demo:tick --args 'demo:tick=i:i64,msg:str' -n 10\n"
		"\n"
		"Needs CAP_BPF and CAP_PERFMON (or root). Ctrl-C stops and prints a summary.\n",
		DEFAULT_STR_SIZE, DEFAULT_RING_MB);
}

/* --- decoding ----------------------------------------------------------- */

struct arg_view {
	const char *name;
	enum usdt_type type;
	bool bad; /* unreadable or unsupported */
	uint64_t raw;
	const char *str; /* USDT_TYPE_STRING with a slot */
	size_t len;
	bool truncated;
};

static void view_arg(const struct trace_ctx *t, const struct trace_record *e,
		     const struct engine_loc *l, const struct engine_probe *p, int i,
		     struct arg_view *v, char *namebuf, size_t namesz)
{
	const struct usdt_fetch *f = &l->spec.args[i];

	memset(v, 0, sizeof(*v));
	v->name = engine__arg_name(p, i, namebuf, namesz);
	v->raw = e->args[i];
	v->type = p->typed && p->meta[i].type != USDT_TYPE_NONE ? p->meta[i].type
								: engine__fetch_type(f);
	v->bad = l->unsupported[i] || (e->err_mask & (1u << i));
	if (v->type == USDT_TYPE_STRING && (f->flags & FETCH_STR) && f->str_slot < t->cur->nslots &&
	    !v->bad) {
		v->str = (const char *)(e->args + t->cur->max_args) +
			 (size_t)f->str_slot * t->o.str_size;
		v->len = strnlen(v->str, t->o.str_size);
		v->truncated = v->len == t->o.str_size;
	} else if (v->type == USDT_TYPE_STRING && !v->bad) {
		v->type = USDT_TYPE_POINTER; /* no room for it: show the pointer */
	}
}

static int64_t signed_value(enum usdt_type type, uint64_t raw)
{
	switch (type) {
	case USDT_TYPE_INT8:
		return (int8_t)raw;
	case USDT_TYPE_INT16:
		return (int16_t)raw;
	case USDT_TYPE_INT32:
		return (int32_t)raw;
	default:
		return (int64_t)raw;
	}
}

static uint64_t unsigned_value(enum usdt_type type, uint64_t raw)
{
	switch (type) {
	case USDT_TYPE_UINT8:
		return (uint8_t)raw;
	case USDT_TYPE_UINT16:
		return (uint16_t)raw;
	case USDT_TYPE_UINT32:
		return (uint32_t)raw;
	default:
		return raw;
	}
}

static double double_value(uint64_t raw)
{
	double d;

	memcpy(&d, &raw, sizeof(d));
	return d;
}

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

/* Prints the value alone, as text (--format and the default line). */
static void put_text_value(FILE *out, const struct arg_view *v, bool quote)
{
	if (v->bad) {
		fputs("<fault>", out);
		return;
	}
	switch (v->type) {
	case USDT_TYPE_INT8:
	case USDT_TYPE_INT16:
	case USDT_TYPE_INT32:
	case USDT_TYPE_INT64:
		json_put_int(out, signed_value(v->type, v->raw));
		break;
	case USDT_TYPE_DOUBLE: {
		char buf[JSON_DOUBLE_MAX];

		json__format_double(buf, sizeof(buf), double_value(v->raw));
		fputs(buf, out);
		break;
	}
	case USDT_TYPE_POINTER:
		fprintf(out, "0x%" PRIx64, v->raw);
		break;
	case USDT_TYPE_STRING:
		if (quote)
			put_text_str(out, v->str, v->len);
		else
			fwrite(v->str, 1, v->len, out);
		if (v->truncated)
			fputs("...", out);
		break;
	default:
		json_put_uint(out, unsigned_value(v->type, v->raw));
		break;
	}
}

static void put_time(FILE *out, struct trace_ctx *t, uint64_t ts)
{
	uint64_t real = ts + t->mono_to_real;
	time_t sec = real / 1000000000ull;
	unsigned int us = real % 1000000000ull / 1000;
	char frac[8];

	/* localtime_r() is slow per event; the HH:MM:SS part changes once a second */
	if (sec != t->time_sec || !t->time_buf[0]) {
		struct tm tm;

		localtime_r(&sec, &tm);
		strftime(t->time_buf, sizeof(t->time_buf), "%H:%M:%S", &tm);
		t->time_sec = sec;
	}
	fputs_unlocked(t->time_buf, out);
	frac[0] = '.';
	for (int i = 6; i > 0; i--, us /= 10)
		frac[i] = '0' + us % 10;
	fwrite_unlocked(frac, 1, 7, out);
}

/* comm is NUL-padded by the kernel, not always NUL-terminated */
static void put_comm(FILE *out, const struct trace_record *e)
{
	fwrite_unlocked(e->comm, 1, strnlen(e->comm, TRACE_COMM_LEN), out);
}

static void put_probe(FILE *out, const struct engine_probe *p)
{
	fputs_unlocked(p->provider, out);
	putc_unlocked(':', out);
	fputs_unlocked(p->name, out);
}

static void emit_text(struct trace_ctx *t, const struct trace_record *e, const struct engine_loc *l,
		      const struct engine_probe *p)
{
	FILE *out = t->out;
	char nb[16];
	struct arg_view v;

	put_time(out, t, e->ts_ns);
	putc_unlocked(' ', out);
	json_put_uint(out, e->pid);
	putc_unlocked(' ', out);
	json_put_uint(out, e->tid);
	putc_unlocked(' ', out);
	put_comm(out, e);
	putc_unlocked(' ', out);
	put_probe(out, p);
	for (int i = 0; i < e->nargs && i < (int)t->cur->max_args; i++) {
		view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
		putc_unlocked(' ', out);
		fputs_unlocked(v.name, out);
		putc_unlocked('=', out);
		put_text_value(out, &v, true);
	}
	putc_unlocked('\n', out);
}

static void emit_json(struct trace_ctx *t, const struct trace_record *e, const struct engine_loc *l,
		      const struct engine_probe *p)
{
	struct json_writer *w = &t->jw;
	char nb[16];
	struct arg_view v;
	bool any_trunc = false;

	json__object_begin(w);
	json__kv_string(w, "type", "event");
	json__kv_uint(w, "ts_ns", e->ts_ns + t->mono_to_real);
	json__kv_uint(w, "pid", e->pid);
	json__kv_uint(w, "tid", e->tid);
	json__key(w, "comm");
	json__string_len(w, e->comm, strnlen(e->comm, TRACE_COMM_LEN));
	json__kv_string(w, "provider", p->provider);
	json__kv_string(w, "name", p->name);
	json__key(w, "args");
	json__object_begin(w);
	for (int i = 0; i < e->nargs && i < (int)t->cur->max_args; i++) {
		view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
		json__key(w, v.name);
		if (v.bad) {
			json__null(w);
			continue;
		}
		switch (v.type) {
		case USDT_TYPE_INT8:
		case USDT_TYPE_INT16:
		case USDT_TYPE_INT32:
		case USDT_TYPE_INT64:
			json__int(w, signed_value(v.type, v.raw));
			break;
		case USDT_TYPE_DOUBLE:
			json__double(w, double_value(v.raw));
			break;
		case USDT_TYPE_POINTER: {
			char hex[24];

			snprintf(hex, sizeof(hex), "0x%" PRIx64, v.raw);
			json__string(w, hex);
			break;
		}
		case USDT_TYPE_STRING:
			json__string_len(w, v.str, v.len);
			any_trunc |= v.truncated;
			break;
		default:
			json__uint(w, unsigned_value(v.type, v.raw));
			break;
		}
	}
	json__object_end(w);
	if (any_trunc) {
		json__key(w, "truncated");
		json__array_begin(w);
		for (int i = 0; i < e->nargs && i < (int)t->cur->max_args; i++) {
			view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
			if (v.truncated)
				json__string(w, v.name);
		}
		json__array_end(w);
	}
	json__object_end(w);
	json__newline(w);
}

/* Finds argument @key of the event: a name, or a decimal index. */
static int find_arg(const struct engine_probe *p, int nargs, const char *key, size_t len)
{
	char nb[16];

	for (int i = 0; i < nargs && i < FETCH_MAX_ARGS; i++) {
		const char *n = engine__arg_name(p, i, nb, sizeof(nb));

		if (strlen(n) == len && !memcmp(n, key, len))
			return i;
	}
	if (len && len < 3 && key[0] >= '0' && key[0] <= '9') {
		int i = atoi(key);

		if ((len == 1 || key[1] >= '0') && i < nargs)
			return i;
	}
	return -1;
}

static void emit_format(struct trace_ctx *t, const struct trace_record *e,
			const struct engine_loc *l, const struct engine_probe *p)
{
	const char *s = t->o.format;
	FILE *out = t->out;
	char nb[16];

	while (*s) {
		const char *end;
		size_t len;
		int i;

		if (s[0] == '{' && s[1] == '{') {
			fputc('{', out);
			s += 2;
			continue;
		}
		if (s[0] == '}' && s[1] == '}') {
			fputc('}', out);
			s += 2;
			continue;
		}
		if (*s != '{' || !(end = strchr(s, '}'))) {
			fputc(*s++, out);
			continue;
		}
		s++;
		len = end - s;
		i = find_arg(p, e->nargs, s, len);
		if (i >= 0) {
			struct arg_view v;

			view_arg(t, e, l, p, i, &v, nb, sizeof(nb));
			put_text_value(out, &v, false);
		} else if (len == 3 && !memcmp(s, "pid", 3)) {
			json_put_uint(out, e->pid);
		} else if (len == 3 && !memcmp(s, "tid", 3)) {
			json_put_uint(out, e->tid);
		} else if (len == 4 && !memcmp(s, "comm", 4)) {
			put_comm(out, e);
		} else if (len == 5 && !memcmp(s, "probe", 5)) {
			put_probe(out, p);
		} else if (len == 8 && !memcmp(s, "provider", 8)) {
			fputs(p->provider, out);
		} else if (len == 10 && !memcmp(s, "probe_name", 10)) {
			fputs(p->name, out);
		} else if (len == 4 && !memcmp(s, "time", 4)) {
			put_time(out, t, e->ts_ns);
		} else if (len == 5 && !memcmp(s, "ts_ns", 5)) {
			json_put_uint(out, e->ts_ns + t->mono_to_real);
		} else {
			fprintf(out, "{%.*s}", (int)len, s); /* unknown field: kept visible */
		}
		s = end + 1;
	}
	fputc('\n', out);
}

static int handle_event(void *ctx, const void *data, size_t size)
{
	const struct layout *ly = ctx;
	struct trace_ctx *t = ly->t;
	const struct trace_record *e = data;
	const struct engine_loc *l;
	const struct engine_probe *p;

	if (t->done)
		return 0;
	t->cur = ly;
	if (size < sizeof(*e) + t->cur->max_args * sizeof(__u64) +
			    (size_t)t->cur->nslots * t->o.str_size ||
	    !(l = engine__loc(t->eng, e->loc)))
		return 0;
	p = engine__probe(t->eng, l->probe_id);
	if (t->o.format)
		emit_format(t, e, l, p);
	else if (t->o.json)
		emit_json(t, e, l, p);
	else
		emit_text(t, e, l, p);
	t->events++;
	if (ferror(t->out)) {
		t->out_error = true;
		t->done = true;
		return -EIO;
	}
	if (t->o.max_events && t->events >= t->o.max_events) {
		t->done = true;
		return 1; /* stop consuming */
	}
	return 0;
}

/* Opens and loads a BPF object for @ly's geometry. */
static int open_and_load(struct trace_ctx *t, struct layout *ly, bool multi)
{
	struct trace_bpf *skel;
	int err;

	ly->skel = skel = trace_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->str_size = t->o.str_size;
	skel->rodata->str_last = ly->nslots ? (int64_t)(ly->nslots - 1) * t->o.str_size : -1;
	skel->rodata->max_args = ly->max_args;
	skel->rodata->event_size = (sizeof(struct trace_record) + ly->max_args * sizeof(__u64) +
				    ly->nslots * t->o.str_size + 7) &
				   ~7u;
	skel->rodata->wakeup_bytes = (uint64_t)ly->ring_mb << 18; /* a quarter of the ring */
	bpf_map__set_max_entries(skel->maps.locs, ly->cap ? ly->cap : 1);
	bpf_map__set_max_entries(skel->maps.events, ly->ring_mb << 20);
	if (multi)
		bpf_program__set_expected_attach_type(skel->progs.usdt_trace,
						      ENGINE_ATTACH_UPROBE_MULTI);
	err = trace_bpf__load(skel);
	if (err && (errno == EPERM || errno == EACCES))
		err = -errno;
	return err;
}

/*
 * Adds a layout with room for @max_args arguments and @nslots strings per
 * record and for every location index found so far (plus @slack), and
 * polls its ring. The first layout decides between uprobe_multi links and
 * perf-event uprobes.
 */
static int add_layout(struct trace_ctx *t, unsigned int max_args, unsigned int nslots, size_t slack,
		      unsigned int ring_mb)
{
	struct layout *ly;
	int err;

	if (t->nlayouts == MAX_LAYOUTS)
		return -ENOSPC;
	ly = &t->layouts[t->nlayouts];
	memset(ly, 0, sizeof(*ly));
	ly->t = t;
	ly->max_args = max_args > FETCH_MAX_ARGS ? FETCH_MAX_ARGS : max_args;
	ly->nslots = nslots > FETCH_MAX_ARGS ? FETCH_MAX_ARGS : nslots;
	ly->cap = engine__loc_count(t->eng) + slack;
	ly->ring_mb = ring_mb;
	/* issue 11: the link kind is the probed kernel feature (kernel_features.h) */
	if (t->nlayouts == 0) {
		t->multi = kernel_features__use_uprobe_multi(kernel_features__get());
		engine__set_uprobe_multi(t->eng, t->multi);
	}
	err = open_and_load(t, ly, t->multi);
	if (!err && !t->rb) {
		t->rb = ring_reader__new();
		if (!t->rb)
			err = -errno;
	}
	if (!err)
		err = ring_reader__add(t->rb, bpf_map__fd(ly->skel->maps.events), handle_event, ly);
	if (err) {
		trace_bpf__destroy(ly->skel);
		ly->skel = NULL;
		return err;
	}
	t->nlayouts++;
	return 0;
}

/*
 * Attaches the locations found since the last call, in the newest layout
 * if they fit, else in a new one with room to spare for later finds.
 */
static int attach_pending(struct trace_ctx *t)
{
	const struct layout *ly = NULL;
	unsigned int need_args, need_strs;
	int err;

	if (!t->nlayouts)
		return -EINVAL;
	engine__pending_max(t->eng, &need_args, &need_strs);
	/* the smallest records that fit: layouts only grow in order */
	for (int i = 0; i < t->nlayouts && !ly; i++) {
		const struct layout *c = &t->layouts[i];

		if (need_args <= c->max_args && need_strs <= c->nslots &&
		    engine__loc_count(t->eng) <= c->cap)
			ly = c;
	}
	if (!ly) {
		err = add_layout(t, FETCH_MAX_ARGS, need_strs > 2 ? need_strs : 2, 4096,
				 t->o.ring_mb);
		if (err) {
			fprintf(stderr,
				"usdtkit trace: cannot load a BPF program for new probes: %s\n",
				strerror(-err));
			return err;
		}
		ly = &t->layouts[t->nlayouts - 1];
	}
	return engine__attach(t->eng, ly->skel->progs.usdt_trace, bpf_map__fd(ly->skel->maps.locs));
}

static uint64_t read_counter(struct trace_bpf *skel, __u32 which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	__u64 *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.counters), &which, vals))
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

#define WHO "usdtkit trace"

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		TARGET_LONG_OPTS,
		{"json", no_argument, NULL, 'j'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"count", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{"string-size", required_argument, NULL, 's'},
		{"buffer-size", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct trace_ctx t = {.o = {.str_size = DEFAULT_STR_SIZE, .ring_mb = DEFAULT_RING_MB}};
	struct target_opts *tg = &t.o.tg;
	struct engine_opts eo = {.pid = -1};
	struct target_cmd tc;
	int pidfd = -1, ret = EXIT_FAIL, err, c;
	uint64_t v, start, lost = 0;
	uint64_t maps_hash = 0;

	target_opts__init(tg);
	target_cmd__init(&tc);
	optind = 1;
	while ((c = getopt_long(argc, argv, TARGET_SHORT_OPTS "jf:o:n:d:s:b:h", longopts, NULL)) !=
	       -1) {
		err = target_opts__parse(tg, WHO, c, optarg);
		if (err) {
			if (err < 0) {
				ret = err == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
				goto out;
			}
			continue;
		}
		switch (c) {
		case 'j':
			t.o.json = true;
			break;
		case 'f':
			t.o.format = optarg;
			break;
		case 'o':
			t.o.outpath = optarg;
			break;
		case 'n':
			if (target__parse_u64(optarg, &v) || !v) {
				fprintf(stderr, WHO ": bad count '%s'\n", optarg);
				ret = EXIT_USAGE;
				goto out;
			}
			t.o.max_events = v;
			break;
		case 'd': {
			char *end;

			t.o.duration = strtod(optarg, &end);
			if (end == optarg || *end || !(t.o.duration > 0)) {
				fprintf(stderr, WHO ": bad duration '%s'\n", optarg);
				ret = EXIT_USAGE;
				goto out;
			}
			break;
		}
		case 's':
			if (target__parse_u64(optarg, &v) || v < 2 || v > MAX_STR_SIZE) {
				fprintf(stderr, WHO ": string size must be 2..%d\n", MAX_STR_SIZE);
				ret = EXIT_USAGE;
				goto out;
			}
			t.o.str_size = v;
			break;
		case 'b':
			if (target__parse_u64(optarg, &v) || !v || v > 1024 || (v & (v - 1))) {
				fprintf(stderr,
					WHO ": buffer size must be a power of two, 1..1024 MiB\n");
				ret = EXIT_USAGE;
				goto out;
			}
			t.o.ring_mb = v;
			break;
		case 'h':
			usage(stdout);
			ret = EXIT_OK;
			goto out;
		default:
			usage(stderr);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	ret = EXIT_USAGE;
	if (optind >= argc) {
		fprintf(stderr, WHO ": no PROBE given\n");
		usage(stderr);
		goto out;
	}
	if (target_opts__check(tg, WHO))
		goto out;
	if (t.o.json && t.o.format) {
		fprintf(stderr, WHO ": --json and --format cannot be combined\n");
		goto out;
	}
	target__libbpf_print(tg->verbose);

	ret = EXIT_FAIL;
	eo.pid = tg->pid;
	eo.verbose = tg->verbose;
	if (engine__new(&eo, &t.eng))
		goto out;
	for (int i = optind; i < argc; i++) {
		err = engine__add_probe(t.eng, argv[i]);
		if (err) {
			fprintf(stderr, WHO ": bad PROBE '%s' (want [PATH:]PROVIDER:NAME)\n",
				argv[i]);
			ret = err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
			goto out;
		}
	}
	for (size_t i = 0; i < tg->ndecls; i++) {
		err = engine__add_args_decl(t.eng, tg->decls[i]);
		if (err) {
			fprintf(stderr,
				WHO ": bad --args '%s' (want PROVIDER:NAME=[name:]type,...; "
				    "at most %d)\n",
				tg->decls[i], FETCH_MAX_ARGS);
			ret = EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < engine__spec_count(t.eng); i++) {
		if (!target_opts__probe_ok(tg, WHO, engine__spec(t.eng, i, NULL))) {
			ret = EXIT_USAGE;
			goto out;
		}
	}

	if (tg->cmd) {
		ret = target_cmd__spawn(&tc, tg->cmd, WHO);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
		target_cmd__add_objects(&tc, t.eng);
		/* the child's pid filters the uprobes; its maps are not scanned until it runs */
		engine__set_pid(t.eng, tc.pid);
	}

	if (target__first_scan(t.eng, tg, WHO))
		goto out;

	/* issue 11: what the kernel can do, said with -v; a missing necessity ends here */
	if (kernel_features__report(stderr, WHO, KF_NEEDS_TRACE, tg->verbose))
		goto out;
	/* records sized exactly for what was found; -p/-c leave room in the locs map */
	err = add_layout(&t, engine__max_args(t.eng), engine__max_strings(t.eng),
			 (tg->pid > 0 || tg->cmd) ? 4096 : 0, t.o.ring_mb);
	/*
	 * -p/-c: a roomy spare loaded now, so that providers found later are
	 * attached without waiting for a program load while they fire.
	 */
	if (!err && (tg->pid > 0 || tg->cmd) &&
	    (t.layouts[0].max_args < FETCH_MAX_ARGS || t.layouts[0].nslots < 2))
		err = add_layout(&t, FETCH_MAX_ARGS, 2, 4096,
				 t.o.ring_mb > 2 ? t.o.ring_mb / 2 : t.o.ring_mb);
	if (err) {
		target__report_load_error(WHO, err, tg->verbose);
		goto out;
	}

	start = target__now_ns(CLOCK_MONOTONIC);
	err = attach_pending(&t);
	if (target__check_attach(WHO, err, engine__loc_count(t.eng)))
		goto out;
	if (tg->verbose)
		fprintf(stderr, WHO ": attached %d locations in %.3f ms\n", err,
			(target__now_ns(CLOCK_MONOTONIC) - start) / 1e6);

	if (t.o.outpath) {
		t.out = fopen(t.o.outpath, "we");
		if (!t.out) {
			fprintf(stderr, WHO ": %s: %s\n", t.o.outpath, strerror(errno));
			goto out;
		}
	} else {
		t.out = stdout;
	}
	setvbuf(t.out, NULL, _IOFBF, 1 << 16);
	/* one thread writes: the *_unlocked() calls of the hot path need no lock */
	__fsetlocking(t.out, FSETLOCKING_BYCALLER);
	json_writer__init(&t.jw, t.out);
	t.mono_to_real = target__now_ns(CLOCK_REALTIME) - target__now_ns(CLOCK_MONOTONIC);

	target__catch_signals();
	if (tg->pid > 0)
		pidfd = target__pidfd(tg->pid);
	if (target_cmd__release(&tc, WHO))
		goto out;

	start = target__now_ns(CLOCK_MONOTONIC);
	ret = EXIT_OK;
	while (!t.done && !target__stop_signal()) {
		bool target_gone = false;
		uint64_t now;

		err = ring_reader__poll(t.rb, POLL_MS);
		if (err < 0 && err != -EINTR && !t.done) {
			fprintf(stderr, WHO ": reading events: %s\n", strerror(-err));
			ret = EXIT_FAIL;
			break;
		}
		fflush(t.out);
		if (t.out_error) {
			ret = EXIT_FAIL;
			break;
		}
		if (t.done)
			break;
		if (tc.pid > 0) {
			target_gone = target_cmd__exited(&tc, WHO);
		} else if (tg->pid > 0 && target__pid_exited(tg->pid, pidfd)) {
			target_gone = true;
			fprintf(stderr, WHO ": process %d exited\n", tg->pid);
		}
		if (target_gone) {
			ring_reader__consume(t.rb); /* what it fired before exiting */
			break;
		}
		now = target__now_ns(CLOCK_MONOTONIC);
		if (t.o.duration > 0 && now - start >= t.o.duration * 1e9) {
			ring_reader__consume(t.rb);
			break;
		}
		if ((tg->pid > 0 || tc.pid > 0) &&
		    target__maps_changed(tg->pid > 0 ? tg->pid : tc.pid, &maps_hash)) {
			if (engine__scan(t.eng, true) > 0)
				attach_pending(&t);
		}
	}
	engine__detach(t.eng);
	/*
	 * Records still in the rings (Ctrl-C or --duration between two polls)
	 * were fired while traced: print them rather than drop them uncounted.
	 */
	if (!t.done && !t.out_error)
		ring_reader__consume(t.rb);
	fflush(t.out);
	for (int i = 0; i < t.nlayouts; i++)
		lost += read_counter(t.layouts[i].skel, TRACE_CNT_LOST);
	if (t.o.json && !t.out_error) {
		json__object_begin(&t.jw);
		json__kv_string(&t.jw, "type", "summary");
		json__kv_uint(&t.jw, "events", t.events);
		json__kv_uint(&t.jw, "lost", lost);
		json__object_end(&t.jw);
		json__newline(&t.jw);
		fflush(t.out);
	}
	fprintf(stderr, WHO ": %" PRIu64 " events, %" PRIu64 " lost%s\n", t.events, lost,
		lost ? " (ring buffer full: try a larger --buffer-size)" : "");
	if (target__report_unmatched(t.eng, WHO) && ret == EXIT_OK)
		ret = EXIT_FAIL;
out:
	/* a -c command still running when we stop (-n, -d, Ctrl-C) is ended */
	target_cmd__finish(&tc, WHO);
	if (pidfd >= 0)
		close(pidfd);
	ring_reader__free(t.rb);
	if (t.eng)
		engine__free(t.eng);
	for (int i = 0; i < t.nlayouts; i++)
		trace_bpf__destroy(t.layouts[i].skel);
	if (t.out && t.out != stdout)
		fclose(t.out);
	target_opts__free(tg);
	return ret;
}
