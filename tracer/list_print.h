/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * What `usdtkit list` prints for one object: its notes grouped by
 * provider:name (a probe with several locations is one probe, as in
 * tplist), as text lines or JSON lines, with -v every location and
 * argument decoded. Shared by list.c's files, -p and --all front-ends.
 */
#ifndef USDTKIT_TRACER_LIST_PRINT_H
#define USDTKIT_TRACER_LIST_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "json.h"
#include "probe_spec.h"

struct list_ctx {
	bool verbose;
	bool json;
	bool all;
	pid_t pid; /* -p PID, 0 without */
	struct probe_specs patterns;
	FILE *out;
	struct json_writer jw;
	/* --all: objects already listed, by (dev, ino) */
	struct seen_set {
		uint64_t *keys; /* pairs: dev, ino; (0, 0) is an empty slot */
		size_t cap; /* in pairs, a power of two */
		size_t count;
	} seen;
	size_t skipped_procs;
	size_t skipped_objs;
	size_t exited_procs;
};

/* How an object is shown: its path, and the process it was read through. */
struct object_ref {
	const char *open_path;
	const char *display_path;
	pid_t pid; /* 0: a plain file */
	bool show_pid; /* text output: append "(pid N)" to the path */
};

/*
 * Lists the probes of one object. Returns 0 or a negative errno from
 * opening it (the caller decides how to report it).
 */
int list_object(struct list_ctx *ctx, const struct object_ref *ref);

#endif
