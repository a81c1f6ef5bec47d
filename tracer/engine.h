/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The tracer's argument engine, user side: selects probe locations from
 * PROBE specs, compiles their argument specs and types into fetch
 * descriptors (fetch.h), and attaches one BPF program to every location
 * with the location's index as BPF cookie. `trace` and `stat` share it:
 * each brings its own BPF program and a "locs" array map of
 * struct usdt_loc_spec; the engine fills the map and owns the links.
 *
 * Usage: engine__new, engine__add_probe (one per PROBE), optionally
 * engine__add_args_decl, engine__add_object (-c: objects known in advance),
 * engine__scan (finds and compiles locations), size and load the BPF
 * object (locs map: at least engine__loc_count() entries, plus room for
 * later finds), engine__attach; later engine__scan + engine__attach again
 * to pick up objects a -p/-c target mapped since (dlopen, runtime
 * providers). engine__pending_max() tells whether the new locations fit
 * the loaded program's record layout.
 *
 * Attach method: load the program with expected attach type
 * ENGINE_ATTACH_UPROBE_MULTI and call engine__set_uprobe_multi(eng, true)
 * (kernel 6.6+; fall back to a plain load without it): one link per
 * object, attach in milliseconds and detach in one grace period per
 * object. Otherwise one perf-event uprobe per location, whose detach costs
 * ~0.1 s each (the kernel serializes them).
 */
#ifndef USDTKIT_TRACER_ENGINE_H
#define USDTKIT_TRACER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <usdtkit/stapsdt.h>

#include "fetch.h"

struct bpf_program;
struct bpf_link;

/* One probe: a provider:name pair in one object. */
struct engine_probe {
	char *provider;
	char *name;
	char *object; /* display path of the object */
	int nargs; /* from the first location; -1 before */
	bool typed; /* types from metadata or --args */
	struct usdt_arg_meta meta[FETCH_MAX_ARGS]; /* type NONE: decode by size/sign */
};

/* One attached (or pending) location of a probe. */
struct engine_loc {
	uint32_t probe_id;
	uint64_t pc_offset; /* file offset of the probe instruction */
	uint64_t sema_offset; /* file offset of the semaphore or USDT_NO_OFFSET */
	char *attach_path; /* path the uprobe is created on */
	struct usdt_loc_spec spec; /* what the BPF program evaluates */
	bool unsupported[FETCH_MAX_ARGS]; /* operand the engine cannot fetch */
	struct bpf_link *link; /* perf-event attachment, or NULL */
	bool attempted;
	bool linked; /* attached (either way) */
};

/* BPF_TRACE_UPROBE_MULTI, for bpf_program__set_expected_attach_type(). */
#define ENGINE_ATTACH_UPROBE_MULTI 48

struct engine_opts {
	pid_t pid; /* process filter for uprobes and the -p/-c object scan; -1: none */
	FILE *log; /* warnings (NULL: stderr) */
	bool verbose;
	/*
	 * Attach through uprobe_multi links (kernel 6.6+): the program must
	 * have been loaded with expected attach type ENGINE_ATTACH_UPROBE_MULTI.
	 * Otherwise one perf-event uprobe per location.
	 */
	bool uprobe_multi;
};

struct engine;

int engine__new(const struct engine_opts *opts, struct engine **out);
void engine__free(struct engine *eng);

/*
 * Adds a PROBE "[PATH:]PROVIDER:NAME" (globs in PROVIDER and NAME), spec
 * number engine__spec_count() - 1. -EINVAL: malformed; -EBUSY: after
 * engine__scan (all PROBEs come first).
 */
int engine__add_probe(struct engine *eng, const char *spec);
/* Adds a type declaration "PROVIDER:NAME=[name:]type,..." (globs allowed). */
int engine__add_args_decl(struct engine *eng, const char *decl);
/* Adds an object to search for PATH-less probes (e.g. -c: the command and its libraries). */
int engine__add_object(struct engine *eng, const char *path);

/*
 * Finds new matching locations: in the PATH of each PROBE, in objects added
 * with engine__add_object, and, when @scan_pid, in the objects mapped by
 * opts.pid. Objects already seen are skipped. Returns the number of new
 * locations or a negative errno (-ESRCH: the process is gone).
 */
int engine__scan(struct engine *eng, bool scan_pid);

/*
 * Attaches @prog to every pending location, writing each location's spec
 * into @locs_map_fd at its index first. Returns the number attached, or a
 * negative errno when an attachment failed for a reason that will repeat
 * (-EPERM, -EACCES): the caller stops. Other failures are warned and skipped.
 */
int engine__attach(struct engine *eng, struct bpf_program *prog, int locs_map_fd);
void engine__detach(struct engine *eng);

size_t engine__loc_count(const struct engine *eng);
const struct engine_loc *engine__loc(const struct engine *eng, size_t i);
size_t engine__probe_count(const struct engine *eng);
const struct engine_probe *engine__probe(const struct engine *eng, size_t i);
/* Sets the process filter (e.g. -c: the child, once forked) before attaching. */
void engine__set_pid(struct engine *eng, pid_t pid);
/* Switches the attach method before the first engine__attach (see engine_opts). */
void engine__set_uprobe_multi(struct engine *eng, bool on);
/* Number of PROBE specs and how many locations each matched so far. */
size_t engine__spec_count(const struct engine *eng);
const char *engine__spec(const struct engine *eng, size_t i, size_t *matches);
/* Whether PROBE spec @spec (as numbered by engine__spec) selected probe @probe. */
bool engine__probe_matched_by(const struct engine *eng, size_t probe, size_t spec);
/* Most string arguments any location found so far carries. */
unsigned int engine__max_strings(const struct engine *eng);
/* Most arguments any location found so far has. */
unsigned int engine__max_args(const struct engine *eng);
/* Most arguments and string arguments of the locations not attached yet. */
void engine__pending_max(const struct engine *eng, unsigned int *max_args,
			 unsigned int *max_strings);

/* Type of an argument without declared type: its size and sign. */
enum usdt_type engine__fetch_type(const struct usdt_fetch *f);
/* Argument name to show: metadata/--args name, else "argN". */
const char *engine__arg_name(const struct engine_probe *probe, int i, char *buf, size_t size);

#endif
