// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit stat --by ustack: hits per distinct user stack, counted in the
 * kernel (stat.bpf.c's stat_ustack: a stack map and a hash of counts per
 * location, process and stack id), symbolized and printed here as text,
 * JSON or folded stacks (ustack_fmt.h).
 *
 * Every print shows the totals since the start: a stack is one map entry,
 * and differencing thousands of stacks per interval buys little. A process
 * is snapshot by the symbolizer when its first stack is counted: the BPF
 * side announces its pid on a ring (ustack_new) that the loop waits on, so
 * even a command that lives a few milliseconds is read while it runs and
 * symbolizes after it exited. The stack counts' keys are also polled a few
 * times a second, for announcements lost to a full ring.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "commands.h"
#include "filter_set.h"
#include "ring.h"
#include "stat_ctx.h"
#include "stat.skel.h"
#include "ustack_fmt.h"

#define POLL_NS 200000000ull /* look for new processes every 200 ms */

struct us_entry {
	struct ustack_key key;
	uint64_t count;
};

struct stat_ustack {
	struct symbolizer *sym;
	struct ring_reader *announced; /* ustack_new */
	pid_t hold; /* the -c command, stopped at its first stack until snapshot */
	struct us_entry *ents;
	size_t n, cap;
	pid_t *pids; /* processes snapshot so far, sorted */
	size_t npids, cap_pids;
	uint64_t next_poll_ns;
	uint64_t *value; /* one stack map value: ustack_depth slots */
	uint64_t ips[USTACK_MAX_DEPTH + 1];
	struct sym_frame frames[USTACK_MAX_DEPTH + 1];
};

int stat_ustack__parse_by(struct stat_opts *o, const char *arg)
{
	uint64_t v = USTACK_DEFAULT_DEPTH;

	if (strncmp(arg, "ustack", 6) || (arg[6] && arg[6] != '='))
		return 0;
	if (arg[6] && (cli__parse_u64(arg + 7, &v) || !v || v > USTACK_MAX_DEPTH)) {
		fprintf(stderr, "usdtkit stat: --by ustack=DEPTH: DEPTH must be 1..%d\n",
			USTACK_MAX_DEPTH);
		return -1;
	}
	o->by = STAT_BY_USTACK;
	o->ustack_depth = v;
	o->arg = NULL;
	return 1;
}

int stat_ustack__check(const struct stat_ctx *c, const struct filter_set *filters)
{
	if (c->o.by != STAT_BY_USTACK)
		return 0;
	/* the stack program is not sleepable and reads no argument (stat.bpf.c) */
	if (filter_set__active(filters)) {
		fprintf(stderr, "usdtkit stat: --filter does not apply to --by ustack; "
				"filter with trace --ustack instead\n");
		return EXIT_USAGE;
	}
	if (c->x) {
		fprintf(stderr, "usdtkit stat: --by ustack exports no stacks; "
				"use --folded for a flame graph\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* Snapshots @pid the first time it is seen. */
static void see_pid(struct stat_ustack *u, pid_t pid)
{
	size_t lo = 0, hi = u->npids;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (u->pids[mid] == pid)
			return;
		if (u->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (u->npids == u->cap_pids) {
		size_t cap = u->cap_pids ? 2 * u->cap_pids : 16;
		pid_t *np = realloc(u->pids, cap * sizeof(*np));

		if (!np)
			return; /* symbolized at print time instead, if still there */
		u->pids = np;
		u->cap_pids = cap;
	}
	memmove(u->pids + lo + 1, u->pids + lo, (u->npids - lo) * sizeof(*u->pids));
	u->pids[lo] = pid;
	u->npids++;
	symbolizer__add_pid(u->sym, pid); /* a process gone already: addresses only */
}

/* A process's first stack: its mappings now, then the -c command goes on. */
static int on_announce(void *ctx, const void *data, size_t size)
{
	struct stat_ustack *u = ctx;
	pid_t pid;

	if (size < sizeof(uint32_t))
		return 0;
	pid = *(const uint32_t *)data;
	see_pid(u, pid);
	if (pid == u->hold) {
		kill(pid, SIGCONT);
		u->hold = 0;
	}
	return 0;
}

int stat_ustack__init(struct stat_ctx *c)
{
	struct stat_ustack *u = calloc(1, sizeof(*u));
	/*
	 * -p's process only: a -c command has not exec'd yet (this runs before
	 * session__begin), and its maps now would be usdtkit's own image.
	 */
	pid_t pid = c->s->o.pid;
	int err = -ENOMEM;

	if (!u)
		return -ENOMEM;
	c->us = u;
	u->value = calloc(c->o.ustack_depth, sizeof(*u->value));
	u->sym = symbolizer__new(NULL);
	u->announced = ring_reader__new();
	if (!u->value || !u->sym || !u->announced)
		goto fail;
	err = ring_reader__add(u->announced, bpf_map__fd(c->skel->maps.ustack_new), on_announce, u);
	/* announcements and execs end the wait too (session.h: wake_fd) */
	if (!err && session__wake_fd(c->s) >= 0)
		err = ring_reader__add_fd(u->announced, session__wake_fd(c->s));
	if (err)
		goto fail;
	if (pid > 0)
		see_pid(u, pid);
	if (c->s->cmd.pid > 0) {
		u->hold = c->s->cmd.pid;
		c->skel->bss->ustack_hold_tgid = u->hold;
	}
	return 0;
fail:
	stat_ustack__free(c);
	return err;
}

int stat_ustack__wait(struct stat_ctx *c, int timeout_ms)
{
	struct stat_ustack *u = c->us;
	int fd = bpf_map__fd(c->skel->maps.ustack_counts);
	struct ustack_key k, next;
	bool first = true;
	uint64_t now;
	long n;

	n = ring_reader__poll(u->announced, timeout_ms);
	if (n < 0 && n != -EINTR) {
		fprintf(stderr, "%s: reading the new processes' ring: %s\n", c->s->who,
			strerror((int)-n));
		return (int)n;
	}
	now = cli__now_ns(CLOCK_MONOTONIC);
	if (now < u->next_poll_ns)
		return 0;
	u->next_poll_ns = now + POLL_NS;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		see_pid(u, k.pid);
	}
	return 0;
}

/* By probe, then most hits first. */
static int ent_cmp(const void *a, const void *b)
{
	const struct us_entry *x = a, *y = b;

	if (x->key.probe_id != y->key.probe_id)
		return x->key.probe_id < y->key.probe_id ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Reads every (location, process, stack) count, keyed by probe. */
static int read_counts(struct stat_ctx *c)
{
	struct stat_ustack *u = c->us;
	int fd = bpf_map__fd(c->skel->maps.ustack_counts);
	struct ustack_key k, next;
	bool first = true;

	u->n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		const struct engine_loc *l;
		struct us_entry *e;

		first = false;
		k = next;
		if (u->n == u->cap) {
			size_t cap = u->cap ? 2 * u->cap : 256;
			void *ne = realloc(u->ents, cap * sizeof(*u->ents));

			if (!ne)
				return -ENOMEM;
			u->ents = ne;
			u->cap = cap;
		}
		e = &u->ents[u->n];
		e->key = k;
		if (bpf_map_lookup_elem(fd, &k, &e->count))
			continue; /* gone meanwhile (cannot happen: nothing deletes) */
		see_pid(u, k.pid);
		/* the BPF side keys by location: fold locations into their probe */
		l = engine__loc(c->eng, k.probe_id);
		if (!l)
			continue;
		e->key.probe_id = l->probe_id;
		u->n++;
	}
	qsort(u->ents, u->n, sizeof(*u->ents), ent_cmp);
	return 0;
}

/* The symbolized frames of @e (in u->frames): their number, 0 without a stack. */
static size_t frames_of(struct stat_ctx *c, const struct us_entry *e)
{
	struct stat_ustack *u = c->us;
	size_t n;

	if (e->key.stackid < 0 ||
	    bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.ustacks), &e->key.stackid, u->value))
		return 0;
	n = ustack__from_map(u->value, c->o.ustack_depth, &e->key, u->ips, USTACK_MAX_DEPTH + 1);
	if (!n || symbolizer__symbolize(u->sym, e->key.pid, u->ips, n, u->frames) < 0)
		return 0;
	return n;
}

static const char *label(const struct stat_ctx *c, uint32_t probe)
{
	return probe < c->nprobes && c->probes[probe].label ? c->probes[probe].label : "?";
}

static int print_folded(struct stat_ctx *c, uint64_t *failed)
{
	struct ustack_folded *f = ustack_folded__new();
	int err = -ENOMEM;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < c->us->n; i++) {
		const struct us_entry *e = &c->us->ents[i];
		size_t n = frames_of(c, e);

		if (!n)
			*failed += e->count;
		else if (ustack_folded__add(f, NULL, c->us->frames, n, e->count))
			goto out;
	}
	err = ustack_folded__write(f, c->out);
out:
	ustack_folded__free(f);
	return err;
}

/* Walks the stacks to print: --top per probe; those without frames are counted. */
struct us_walk {
	size_t i;
	uint32_t probe, shown;
	uint64_t *failed;
};

/* The next stack to print, its frames in c->us->frames (*@n of them); NULL at the end. */
static const struct us_entry *walk_next(struct stat_ctx *c, struct us_walk *w, size_t *n)
{
	while (w->i < c->us->n) {
		const struct us_entry *e = &c->us->ents[w->i++];

		*n = frames_of(c, e);
		if (e->key.probe_id != w->probe) {
			w->probe = e->key.probe_id;
			w->shown = 0;
		}
		if (!*n) {
			*w->failed += e->count;
			continue;
		}
		if (c->o.top && w->shown++ >= c->o.top)
			continue;
		return e;
	}
	return NULL;
}

static void print_text(struct stat_ctx *c, bool final, uint64_t *failed)
{
	struct us_walk wk = {.probe = UINT32_MAX, .failed = failed};
	const struct us_entry *e;
	size_t n;

	if (c->o.interval > 0 && final)
		fputc('\n', c->out);
	while ((e = walk_next(c, &wk, &n))) {
		fprintf(c->out, "%s pid %" PRIu32 ": %" PRIu64 "\n", label(c, e->key.probe_id),
			e->key.pid, e->count);
		ustack__write_text(c->out, c->us->frames, n);
		fputc('\n', c->out);
	}
}

static void print_json(struct stat_ctx *c, bool final, uint64_t *failed)
{
	struct us_walk wk = {.probe = UINT32_MAX, .failed = failed};
	struct json_writer *w = &c->jw;
	const struct us_entry *e;
	size_t n;

	json__object_begin(w);
	json__kv_string(w, "type", final ? "final" : "interval");
	json__key(w, "ustacks");
	json__array_begin(w);
	while ((e = walk_next(c, &wk, &n))) {
		json__object_begin(w);
		json__kv_string(w, "probe", label(c, e->key.probe_id));
		json__kv_uint(w, "pid", e->key.pid);
		json__kv_uint(w, "count", e->count);
		json__key(w, "ustack");
		ustack__write_json(w, c->us->frames, n);
		json__object_end(w);
	}
	json__array_end(w);
	json__kv_uint(w, "no_stack", *failed);
	json__object_end(w);
	json__newline(w);
}

int stat_ustack__print(struct stat_ctx *c, bool final)
{
	uint64_t failed = 0, full;
	int err;

	ring_reader__consume(c->us->announced); /* a held command goes on before the end */
	err = read_counts(c);
	if (err) {
		fprintf(stderr, "%s: reading the stack counts: %s\n", c->s->who, strerror(-err));
		return err;
	}
	if (c->o.folded)
		err = print_folded(c, &failed);
	else if (c->o.json)
		print_json(c, final, &failed);
	else
		print_text(c, final, &failed);
	if (err == -ENOMEM) {
		fprintf(stderr, "%s: folding the stacks: %s\n", c->s->who, strerror(ENOMEM));
		return err;
	}
	if (failed)
		fprintf(stderr,
			"%s: %" PRIu64 " hits without a user stack (no user context, or a stack "
			"map bucket taken: try a larger --max-keys)\n",
			c->s->who, failed);
	full = stat_maps__counter(c, STAT_CNT_KEYS_FULL);
	if (full)
		fprintf(stderr, "%s: %" PRIu64 " hits not counted: stack table full (--max-keys)\n",
			c->s->who, full);
	return output__flush(&c->s->out);
}

void stat_ustack__free(struct stat_ctx *c)
{
	struct stat_ustack *u = c->us;

	if (!u)
		return;
	ring_reader__free(u->announced);
	symbolizer__free(u->sym);
	free(u->ents);
	free(u->pids);
	free(u->value);
	free(u);
	c->us = NULL;
}
