// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Layouts, attachment and record decoding for `usdtkit trace` (see
 * trace_records.h).
 *
 * The BPF side does not wake us per event: we poll the ring on a short
 * timer, and the program forces a wakeup only when it is a quarter full,
 * so the per-hit cost stays near the uprobe floor. Lost records are
 * counted in BPF and always reported.
 *
 * Every layout writes into the first layout's ring (each record says
 * which layout it has): a ring is the bulk of the tracer's memory, mapped
 * twice, and one ring the consumer keeps up with is enough.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "kernel.h"
#include "ring.h"
#include "trace.h"
#include "trace_records.h"
#include "trace.skel.h"
#include "ustack_fmt.h"

#define MAX_LAYOUTS 8
#define SPARE_LOCS 4096 /* -p/-c: room in the locs map for objects found later */

struct trace_records;

struct layout {
	struct trace_records *tr;
	struct trace_bpf *skel;
	unsigned int max_args; /* argument slots per record */
	unsigned int nslots; /* string slots per record */
	size_t stack_off; /* --ustack: where the struct ustack_rec starts */
	size_t cap; /* the locs map holds location indices below this */
};

struct trace_records {
	struct session *s;
	struct trace_records_opts o;
	struct sink sink;
	struct layout layouts[MAX_LAYOUTS];
	int nlayouts;
	struct ring_reader *rb;
	uint64_t events;
	bool done;
	int sink_err;
	char names[FETCH_MAX_ARGS][8]; /* "argN" */
	/* --ustack: the symbolizer and one event's frames */
	struct symbolizer *sym;
	uint64_t ips[USTACK_MAX_DEPTH + 1];
	struct sym_frame frames[USTACK_MAX_DEPTH + 1];
};

/*
 * The user stack of record @e: frames symbolized into tr->frames. 0 frames
 * when the capture failed (no user stack) or the record is short.
 */
static void decode_stack(struct trace_records *tr, const struct layout *ly,
			 const struct trace_record *e, size_t size, struct event *ev)
{
	const struct ustack_rec *rec = (const void *)((const char *)e + ly->stack_off);
	size_t n;

	ev->frames = tr->frames;
	if (size < ly->stack_off + USTACK_REC_SIZE(tr->o.ustack_depth))
		return;
	n = ustack__from_rec(rec, tr->o.ustack_depth, tr->ips, USTACK_MAX_DEPTH + 1);
	if (!n || symbolizer__symbolize(tr->sym, e->pid, tr->ips, n, tr->frames) < 0)
		n = 0;
	/* symbolizing took the snapshot: the held command goes on */
	if ((rec->flags & USTACK_F_HELD) && (pid_t)e->pid == tr->s->cmd.pid)
		kill(e->pid, SIGCONT);
	if (!n)
		return;
	ev->ustack = tr->ips;
	ev->nstack = n;
}

/* --- decoding ----------------------------------------------------------- */

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

/* f64, or an f32 in the low 32 bits ("4f@" specs, --args f32). */
static double double_value(uint64_t raw, bool f32)
{
	double d;
	float f;
	uint32_t lo = raw;

	if (f32) {
		memcpy(&f, &lo, sizeof(f));
		return f;
	}
	memcpy(&d, &raw, sizeof(d));
	return d;
}

static void decode_arg(const struct trace_records *tr, const struct layout *ly,
		       const struct trace_record *e, const struct engine_loc *l,
		       const struct engine_probe *p, int i, struct event_value *v)
{
	const struct usdt_fetch *f = &l->spec.args[i];
	enum usdt_type type = engine__arg_type(p, f, i);
	uint64_t raw = e->args[i];
	bool bad = (l->unsupported & (1u << i)) || (e->err_mask & (1u << i));

	v->name = p->meta[i].name[0] ? p->meta[i].name : tr->names[i];
	if (type == USDT_TYPE_STRING && !(l->unsupported & (1u << i)) && !raw) {
		v->kind = EVENT_VAL_NULL;
		return;
	}
	if (bad) {
		v->kind = EVENT_VAL_FAULT;
		return;
	}
	switch (type) {
	case USDT_TYPE_INT8:
	case USDT_TYPE_INT16:
	case USDT_TYPE_INT32:
	case USDT_TYPE_INT64:
		v->kind = EVENT_VAL_INT;
		v->i = signed_value(type, raw);
		break;
	case USDT_TYPE_DOUBLE:
		v->kind = EVENT_VAL_DOUBLE;
		v->d = double_value(
			raw, (p->f32_mask & (1u << i)) ||
				     (!p->typed && (f->flags & FETCH_FLOAT) && f->size == 4));
		break;
	case USDT_TYPE_POINTER:
		v->kind = EVENT_VAL_PTR;
		v->u = raw;
		break;
	case USDT_TYPE_STRING:
		if ((f->flags & FETCH_STR) && f->str_slot < ly->nslots) {
			const char *str = (const char *)(e->args + ly->max_args) +
					  (size_t)f->str_slot * tr->o.str_size;

			v->kind = EVENT_VAL_STR;
			v->str.p = str;
			v->str.len = strnlen(str, tr->o.str_size);
			v->str.truncated =
				v->str.len == tr->o.str_size || (e->trunc_mask & (1u << i));
		} else {
			v->kind = EVENT_VAL_PTR; /* no room for it: show the pointer */
			v->u = raw;
		}
		break;
	default:
		v->kind = EVENT_VAL_UINT;
		v->u = unsigned_value(type, raw);
		break;
	}
}

static int handle_record(void *ctx, const void *data, size_t size)
{
	struct trace_records *tr = ctx;
	const struct trace_record *e = data;
	const struct layout *ly;
	const struct engine_loc *l;
	const struct engine_probe *p;
	struct event ev;
	int err;

	if (tr->done || size < sizeof(*e) || (e->kind >> 8) >= tr->nlayouts)
		return 0;
	ly = &tr->layouts[e->kind >> 8];
	if (size < sizeof(*e) + ly->max_args * sizeof(__u64) +
			    (size_t)ly->nslots * tr->o.str_size ||
	    !(l = engine__loc(tr->s->eng, e->loc)))
		return 0;
	p = engine__probe(tr->s->eng, l->probe_id);
	ev.mono_ns = e->ts_ns;
	ev.ts_ns = e->ts_ns + tr->s->mono_to_real;
	ev.elapsed_ns = e->ts_ns > tr->s->start_ns ? e->ts_ns - tr->s->start_ns : 0;
	ev.pid = e->pid;
	ev.tid = e->tid;
	ev.comm = e->comm;
	ev.comm_len = strnlen(e->comm, TRACE_COMM_LEN); /* NUL-padded, not always terminated */
	ev.provider = p->provider;
	ev.name = p->name;
	ev.object = p->object;
	ev.nargs = e->nargs < ly->max_args ? e->nargs : ly->max_args;
	ev.ustack = NULL;
	ev.nstack = 0;
	ev.frames = NULL;
	if (tr->o.ustack_depth)
		decode_stack(tr, ly, e, size, &ev);
	for (unsigned int i = 0; i < ev.nargs; i++)
		decode_arg(tr, ly, e, l, p, i, &ev.args[i]);
	err = sink__event(&tr->sink, &ev);
	if (err) {
		tr->sink_err = err;
		tr->done = true;
		return err;
	}
	output__record(&tr->s->out);
	tr->events++;
	if (tr->o.max_events && tr->events >= tr->o.max_events) {
		tr->done = true;
		return 1; /* stop consuming */
	}
	return 0;
}

/* --- layouts ------------------------------------------------------------ */

static int open_and_load(struct trace_records *tr, struct layout *ly)
{
	struct trace_bpf *skel;
	int err;

	ly->skel = skel = trace_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->str_size = tr->o.str_size;
	/* the last string slot's offset: bounds the slot address for 6.1's verifier */
	skel->rodata->str_last = ly->nslots ? (int64_t)(ly->nslots - 1) * tr->o.str_size : -1;
	skel->rodata->max_args = ly->max_args;
	ly->stack_off = (sizeof(struct trace_record) + ly->max_args * sizeof(__u64) +
			 ly->nslots * tr->o.str_size + 7) &
			~7u;
	skel->rodata->event_size = ly->stack_off;
	if (tr->o.ustack_depth) {
		skel->rodata->ustack_depth = tr->o.ustack_depth;
		skel->rodata->stack_off = ly->stack_off;
		skel->rodata->event_size += USTACK_REC_SIZE(tr->o.ustack_depth);
		skel->bss->ustack_hold_tgid = tr->s->cmd.pid > 0 ? tr->s->cmd.pid : 0;
	}
	skel->rodata->wakeup_bytes = (uint64_t)tr->o.ring_mb << 18; /* a quarter of the ring */
	skel->rodata->layout_id = ly - tr->layouts;
	bpf_map__set_max_entries(skel->maps.locs, ly->cap ? ly->cap : 1);
	bpf_map__set_max_entries(skel->maps.events, tr->o.ring_mb << 20);
	/* --filter: every layout shares the session's compiled filters */
	err = filter_set__prepare(&tr->s->filters, skel->maps.filter_progs,
				  skel->maps.filter_counts);
	if (err < 0)
		return err;
	skel->rodata->filter_on = err;
	if (ly != tr->layouts) {
		err = bpf_map__reuse_fd(skel->maps.events,
					bpf_map__fd(tr->layouts[0].skel->maps.events));
		if (err)
			return err;
	}
	if (tr->s->mode == ENGINE_ATTACH_MULTI)
		bpf_program__set_expected_attach_type(skel->progs.usdt_trace,
						      KERNEL_BPF_TRACE_UPROBE_MULTI);
	err = trace_bpf__load(skel);
	return err ? -(errno ? errno : EINVAL) : 0;
}

/*
 * Adds a layout with room for @max_args arguments and @nslots strings per
 * record and for every location index found so far (plus @slack), and
 * polls its ring.
 */
static int add_layout(struct trace_records *tr, unsigned int max_args, unsigned int nslots,
		      size_t slack)
{
	struct layout *ly;
	int err;

	if (tr->nlayouts == MAX_LAYOUTS)
		return -ENOSPC;
	ly = &tr->layouts[tr->nlayouts];
	memset(ly, 0, sizeof(*ly));
	ly->tr = tr;
	ly->max_args = max_args > FETCH_MAX_ARGS ? FETCH_MAX_ARGS : max_args;
	ly->nslots = nslots > FETCH_MAX_ARGS ? FETCH_MAX_ARGS : nslots;
	ly->cap = engine__loc_count(tr->s->eng) + slack;
	err = open_and_load(tr, ly);
	if (!err && !tr->rb) {
		tr->rb = ring_reader__new();
		if (!tr->rb)
			err = -errno;
		/* announcements and execs end the wait too (session.h: wake_fd) */
		else if (session__wake_fd(tr->s) >= 0)
			err = ring_reader__add_fd(tr->rb, session__wake_fd(tr->s));
	}
	if (!err && !tr->nlayouts)
		err = ring_reader__add(tr->rb, bpf_map__fd(ly->skel->maps.events), handle_record,
				       tr);
	if (err) {
		trace_bpf__destroy(ly->skel);
		ly->skel = NULL;
		return err;
	}
	tr->nlayouts++;
	return 0;
}

int trace_records__new(struct session *s, const struct trace_records_opts *opts,
		       const struct sink *sink, struct trace_records **out)
{
	struct trace_records *tr = calloc(1, sizeof(*tr));
	bool target = session__has_target(s);
	int err;

	if (!tr)
		return -ENOMEM;
	tr->s = s;
	tr->o = *opts;
	tr->sink = *sink;
	for (int i = 0; i < FETCH_MAX_ARGS; i++)
		snprintf(tr->names[i], sizeof(tr->names[i]), "arg%d", i);
	if (opts->ustack_depth) {
		tr->sym = symbolizer__new(NULL);
		if (!tr->sym) {
			err = -errno;
			free(tr);
			return err;
		}
		if (s->o.verbose)
			fprintf(stderr,
				"%s: --ustack: %u frames per hit, captured by the sleepable "
				"trace program (bpf_get_stack), symbolized with libdwfl\n",
				s->who, opts->ustack_depth);
	}
	/* records sized exactly for what was found; -p/-c leave room in the locs map */
	err = add_layout(tr, engine__max_args(s->eng), engine__max_strings(s->eng),
			 target ? SPARE_LOCS : 0);
	/*
	 * -p/-c: a roomy spare loaded now, so that providers found later are
	 * attached without waiting for a program load while they fire.
	 */
	if (!err && target &&
	    (tr->layouts[0].max_args < FETCH_MAX_ARGS || tr->layouts[0].nslots < 2))
		err = add_layout(tr, FETCH_MAX_ARGS, 2, SPARE_LOCS);
	if (err) {
		trace_records__free(tr);
		return err;
	}
	*out = tr;
	return 0;
}

int trace_records__attach(struct trace_records *tr)
{
	const struct layout *ly = NULL;
	unsigned int need_args, need_strs;
	int err;

	engine__pending_max(tr->s->eng, &need_args, &need_strs);
	/* the smallest records that fit: layouts only grow in order */
	for (int i = 0; i < tr->nlayouts && !ly; i++) {
		const struct layout *c = &tr->layouts[i];

		if (need_args <= c->max_args && need_strs <= c->nslots &&
		    engine__loc_count(tr->s->eng) <= c->cap)
			ly = c;
	}
	if (!ly) {
		err = add_layout(tr, FETCH_MAX_ARGS, need_strs > 2 ? need_strs : 2, SPARE_LOCS);
		if (err) {
			fprintf(stderr, "%s: cannot load a BPF program for new probes: %s\n",
				tr->s->who, strerror(-err));
			return EXIT_FAIL;
		}
		ly = &tr->layouts[tr->nlayouts - 1];
	}
	return session__attach(tr->s, ly->skel->progs.usdt_trace, bpf_map__fd(ly->skel->maps.locs));
}

int trace_records__poll(struct trace_records *tr, int timeout_ms)
{
	long err = ring_reader__poll(tr->rb, timeout_ms);

	if (tr->sink_err)
		return tr->sink_err;
	if (err < 0 && err != -EINTR && !tr->done) {
		fprintf(stderr, "%s: reading events: %s\n", tr->s->who, strerror(-err));
		return err;
	}
	if (output__flush(&tr->s->out))
		return 1; /* said once by the output; the session ends */
	return tr->done ? 1 : 0;
}

int trace_records__drain(struct trace_records *tr)
{
	if (!tr->done && !tr->s->out.err)
		ring_reader__consume(tr->rb);
	return output__flush(&tr->s->out);
}

uint64_t trace_records__events(const struct trace_records *tr)
{
	return tr->events;
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

uint64_t trace_records__lost(const struct trace_records *tr)
{
	uint64_t lost = 0;

	for (int i = 0; i < tr->nlayouts; i++)
		lost += read_counter(tr->layouts[i].skel, TRACE_CNT_LOST);
	return lost;
}

void trace_records__free(struct trace_records *tr)
{
	if (!tr)
		return;
	ring_reader__free(tr->rb);
	symbolizer__free(tr->sym);
	for (int i = 0; i < tr->nlayouts; i++)
		trace_bpf__destroy(tr->layouts[i].skel);
	free(tr);
}
