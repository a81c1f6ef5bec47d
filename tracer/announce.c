// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The load announcement's watch (design in announce.h): an engine of its
 * own matching usdtkit:provider_load in the target's copies of libusdtkit,
 * the announce.bpf.c program attached to it, the ring it forwards on, and
 * the ack, written with process_vm_writev() (no ptrace stop, no signal).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <bpf/libbpf.h>
#include <usdtkit/provider.h>

#include "announce.h"
#include "announce.skel.h"
#include "engine.h"
#include "kernel.h"
#include "ring.h"

#define ANNOUNCE_PROBE "usdtkit:provider_load"

struct announce {
	struct announce_bpf *skel;
	struct engine *eng;
	struct ring_reader *ring;
	bool multi; /* uprobe_multi links */
	announce_fn fn;
	void *fn_ctx;
};

int announce__new(pid_t pid, bool multi, const char *who, bool verbose, struct announce **out)
{
	struct engine_opts eo = {.pid = pid, .who = who, .verbose = verbose};
	struct announce *a = calloc(1, sizeof(*a));
	int err = -ENOMEM;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	err = engine__new(&eo, &a->eng);
	if (err)
		goto fail;
	err = engine__add_probe(a->eng, ANNOUNCE_PROBE);
	if (err)
		goto fail;
	a->multi = multi;
	engine__set_attach_mode(a->eng, multi ? ENGINE_ATTACH_MULTI : ENGINE_ATTACH_PERF);
	*out = a;
	return 0;
fail:
	announce__free(a);
	return err;
}

int announce__add_usual_copies(struct announce *a)
{
	char *sys = engine__resolve_path("libusdtkit.so.0");
	const char *env = getenv("USDTKIT_LIBRARY");
	int err = sys ? 0 : -ENOMEM;

	if (sys && strchr(sys, '/'))
		err = engine__add_object(a->eng, sys);
	free(sys);
	if (!err && env && env[0] == '/')
		err = engine__add_object(a->eng, env);
	return err;
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct announce *a = ctx;

	if (size < sizeof(struct announce_msg))
		return 0;
	return a->fn(a->fn_ctx, data);
}

/* The program and its ring, once a copy of libusdtkit is found: most targets have none. */
static int load(struct announce *a)
{
	a->skel = announce_bpf__open();
	if (!a->skel)
		return -errno;
	bpf_map__set_max_entries(a->skel->maps.locs, ANNOUNCE_MAX_LOCS);
	if (a->multi)
		bpf_program__set_expected_attach_type(a->skel->progs.usdt_announce,
						      KERNEL_BPF_TRACE_UPROBE_MULTI);
	if (announce_bpf__load(a->skel))
		return -(errno ? errno : EINVAL);
	a->ring = ring_reader__new();
	if (!a->ring)
		return -ENOMEM;
	return ring_reader__add(a->ring, bpf_map__fd(a->skel->maps.announces), on_record, a);
}

void announce__free(struct announce *a)
{
	if (!a)
		return;
	if (a->eng) {
		engine__detach(a->eng);
		engine__free(a->eng);
	}
	ring_reader__free(a->ring);
	announce_bpf__destroy(a->skel);
	free(a);
}

struct engine *announce__engine(struct announce *a)
{
	return a->eng;
}

int announce__scan(struct announce *a, pid_t pid)
{
	int n, err;

	n = engine__scan(a->eng, false);
	if (n >= 0 && pid > 0) {
		int m = engine__scan_process(a->eng, pid);

		n = m < 0 ? m : n + m;
	}
	if (n <= 0)
		return n;
	if (engine__loc_count(a->eng) > ANNOUNCE_MAX_LOCS)
		return -E2BIG;
	if (!a->skel && (err = load(a)))
		return err;
	return engine__attach(a->eng, a->skel->progs.usdt_announce,
			      bpf_map__fd(a->skel->maps.locs));
}

int announce__ring_fd(const struct announce *a)
{
	return a->skel ? bpf_map__fd(a->skel->maps.announces) : -1;
}

int announce__consume(struct announce *a, announce_fn fn, void *ctx)
{
	long n;

	if (!a->ring)
		return 0;
	a->fn = fn;
	a->fn_ctx = ctx;
	n = ring_reader__consume(a->ring);
	return n < 0 ? (int)n : 0;
}

int announce__ack(const struct announce_msg *m)
{
	uint64_t token = m->token;
	struct iovec local = {&token, sizeof(token)};
	struct iovec remote = {(void *)(uintptr_t)(m->record + offsetof(struct usdt_announce, ack)),
			       sizeof(token)};

	if (process_vm_writev(m->tgid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(token))
		return -errno;
	return 0;
}
