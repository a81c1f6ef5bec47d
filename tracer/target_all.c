// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * --all's process discovery (design in target_all.h): the start-up walk of
 * /proc, the exec ring with its follow-up rescans, and the periodic sweep.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "array.h"
#include "cli.h"
#include "exec_watch.skel.h"
#include "ring.h"
#include "target_all.h"

struct rescan {
	pid_t pid;
	unsigned int stage; /* index into the delays */
	uint64_t due_ns;
};

struct target_all {
	struct exec_watch_bpf *skel;
	struct ring_reader *ring;
	struct rescan *pend;
	size_t npend, cap;
	uint64_t next_sweep_ns;
	uint64_t lost_seen;
	/* during a poll */
	target_all_fn fn;
	void *ctx;
	int found;
};

static const unsigned int rescan_ms[] = TARGET_ALL_RESCAN_MS;
#define NSTAGES (sizeof(rescan_ms) / sizeof(rescan_ms[0]))

static void queue(struct target_all *t, pid_t pid, unsigned int stage, uint64_t now)
{
	if (stage >= NSTAGES)
		return;
	if (array__grow((void **)&t->pend, &t->cap, t->npend + 1, sizeof(*t->pend)))
		return; /* out of memory: the sweep finds it */
	t->pend[t->npend++] = (struct rescan){pid, stage, now + rescan_ms[stage] * 1000000ull};
}

static void scan(struct target_all *t, pid_t pid, const char *exe)
{
	int n = t->fn(t->ctx, pid, exe);

	if (n > 0)
		t->found += n;
}

static int on_exec(void *ctx, const void *data, size_t size)
{
	struct target_all *t = ctx;
	const struct exec_watch_msg *m = data;

	if (size < sizeof(*m) || (pid_t)m->tgid == getpid())
		return 0;
	/* a relative name was relative to a directory we do not know */
	scan(t, m->tgid, m->path[0] == '/' && memchr(m->path, 0, sizeof(m->path)) ? m->path : NULL);
	queue(t, m->tgid, 0, cli__now_ns(CLOCK_MONOTONIC));
	return 0;
}

int target_all__new(struct target_all **out)
{
	struct target_all *t = calloc(1, sizeof(*t));
	int err = -ENOMEM;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->skel = exec_watch_bpf__open_and_load();
	if (!t->skel) {
		err = -errno;
		goto fail;
	}
	err = exec_watch_bpf__attach(t->skel);
	if (err)
		goto fail;
	t->ring = ring_reader__new();
	if (!t->ring) {
		err = -ENOMEM;
		goto fail;
	}
	err = ring_reader__add(t->ring, bpf_map__fd(t->skel->maps.execs), on_exec, t);
	if (err)
		goto fail;
	t->next_sweep_ns = cli__now_ns(CLOCK_MONOTONIC) + TARGET_ALL_SWEEP_MS * 1000000ull;
	*out = t;
	return 0;
fail:
	target_all__free(t);
	return err;
}

void target_all__free(struct target_all *t)
{
	if (!t)
		return;
	ring_reader__free(t->ring);
	exec_watch_bpf__destroy(t->skel);
	free(t->pend);
	free(t);
}

int target_all__ring_fd(const struct target_all *t)
{
	return bpf_map__fd(t->skel->maps.execs);
}

int target_all__each(target_all_fn fn, void *ctx, size_t *skipped)
{
	pid_t self = getpid();
	struct dirent *de;
	int total = 0;
	DIR *proc;

	*skipped = 0;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		char *end;
		long pid;
		int n;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX || pid == self)
			continue;
		n = fn(ctx, pid, NULL);
		if (n >= 0)
			total += n;
		else if (n != -ESRCH && n != -ENOENT)
			(*skipped)++; /* gone meanwhile is not skipped */
	}
	closedir(proc);
	return total;
}

static int sweep_one(void *ctx, pid_t pid, const char *exe)
{
	scan(ctx, pid, exe);
	return 0;
}

int target_all__poll(struct target_all *t, target_all_fn fn, void *ctx)
{
	uint64_t now = cli__now_ns(CLOCK_MONOTONIC);
	size_t skipped, k = 0;

	t->fn = fn;
	t->ctx = ctx;
	t->found = 0;
	ring_reader__consume(t->ring);
	for (size_t i = 0; i < t->npend; i++) {
		struct rescan r = t->pend[i];

		if (r.due_ns > now) {
			t->pend[k++] = r;
			continue;
		}
		scan(t, r.pid, NULL);
		if (r.stage + 1 < NSTAGES) /* still this slot: the array cannot move */
			t->pend[k++] = (struct rescan){r.pid, r.stage + 1,
						       now + rescan_ms[r.stage + 1] * 1000000ull};
	}
	t->npend = k;
	/* a full ring lost execs: sweep now rather than at the next period */
	if (now >= t->next_sweep_ns || t->skel->bss->lost != t->lost_seen) {
		t->lost_seen = t->skel->bss->lost;
		t->next_sweep_ns = now + TARGET_ALL_SWEEP_MS * 1000000ull;
		target_all__each(sweep_one, t, &skipped);
	}
	return t->found;
}
