/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The probe engine: PROBE specs (probe_spec.h) are matched against the
 * stapsdt notes of objects (files, the objects of a process), each match
 * becomes a probe (provider:name in one object) and its locations, each
 * location's argument specs are lowered to fetch descriptors (lower.h),
 * and one BPF program is attached to every location (attach.h) with the
 * location's index as BPF cookie. Every command over the session (trace,
 * stat and the tools built on them) uses it; each brings its own BPF
 * program with a "locs" array map of struct usdt_loc_spec, which the
 * engine fills.
 *
 * Order: engine__new, engine__add_probe (every PROBE), engine__add_args_decl,
 * engine__add_object (-c: objects known in advance), engine__scan, load the
 * BPF object (locs map: at least engine__loc_count() entries, plus room
 * for later finds), engine__attach; later engine__scan + engine__attach
 * again for objects a -p/-c target mapped since (dlopen, runtime providers).
 *
 * Tables are hashed: setup is linear in the number of probes and
 * locations. Two probes at one address (identical code folded by the
 * linker) stay two probes with two locations.
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
#include "ustack.h"

struct bpf_program;

/* One probe: a provider:name pair in one object. */
struct engine_probe {
	char *provider;
	char *name;
	char *object; /* display path of the object */
	int nargs; /* from the first location; -1 before */
	bool typed; /* types from metadata or --args */
	/*
	 * FETCH_MAX_ARGS entries, type NONE: decode by size/sign. Shared with
	 * the --args declaration or a zeroed table unless the metadata note
	 * typed it: 100 000 untyped probes need no copies of 800 bytes each.
	 */
	const struct usdt_arg_meta *meta;
	bool meta_owned;
	uint16_t f32_mask; /* --args f32: bit i, argument i is a float (meta says DOUBLE) */
};

/* One attached (or pending) location of a probe. */
struct engine_loc {
	uint32_t probe_id;
	uint64_t pc_offset; /* file offset of the probe instruction */
	uint64_t sema_offset; /* file offset of the semaphore or USDT_NO_OFFSET */
	const char *attach_path; /* path the uprobe is created on (shared per object) */
	struct usdt_loc_spec spec; /* what the BPF program evaluates */
	uint16_t unsupported; /* bit i: argument i cannot be fetched */
	bool at_entry; /* the probe is a function's first instruction (a runtime provider's stub) */
	bool attempted;
	bool linked; /* attached */
};

enum engine_attach_mode {
	ENGINE_ATTACH_PERF = 0, /* one perf-event uprobe per location (every kernel) */
	ENGINE_ATTACH_MULTI, /* uprobe_multi links (kernel 6.6+) */
};

struct engine_opts {
	pid_t pid; /* process filter for uprobes and the -p/-c object scan; -1: none */
	bool pid_root; /* resolve PROBE PATHs in /proc/PID/root (-p: the target's mounts) */
	FILE *log; /* warnings (NULL: stderr) */
	const char *who; /* prefix of warnings, "usdtkit trace" */
	bool verbose;
};

struct engine;

int engine__new(const struct engine_opts *opts, struct engine **out);
void engine__free(struct engine *eng);

/*
 * Adds a PROBE (probe_spec.h grammar), spec number engine__spec_count() - 1.
 * -EINVAL: malformed; -EBUSY: after engine__scan (all PROBEs come first).
 */
int engine__add_probe(struct engine *eng, const char *spec);
/*
 * Adds a type declaration "PROVIDER:NAME=[name:]type,..." (globs allowed).
 * -EINVAL malformed (or a name given twice), -E2BIG more than 12.
 */
int engine__add_args_decl(struct engine *eng, const char *decl);
/*
 * A PATH without a slash resolved: an executable on $PATH or a library in
 * the usual directories (else a copy of @name). NULL: out of memory.
 */
char *engine__resolve_path(const char *name);
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
 * Scans the objects @pid maps now (--all: any process, whatever opts.pid
 * filters). New locations, or a negative errno (-ESRCH: gone).
 */
int engine__scan_process(struct engine *eng, pid_t pid);
/*
 * Scans one object now, once (e.g. a runtime provider its process just
 * announced, as /proc/PID/fd/N), shown as @display. New locations, or a
 * negative errno.
 */
int engine__scan_object(struct engine *eng, const char *path, const char *display);
/*
 * Attaches @prog to every pending location, writing each location's spec
 * into @locs_map_fd at its index first (-1: a program that reads no spec). Returns the number attached, or a
 * negative errno when an attachment failed for a reason that will repeat
 * (-EPERM, -EACCES): the caller stops. Other failures are warned and skipped.
 */
int engine__attach(struct engine *eng, struct bpf_program *prog, int locs_map_fd);
/* Detaches every location (in parallel: see attach.h). */
void engine__detach(struct engine *eng);

size_t engine__loc_count(const struct engine *eng);
const struct engine_loc *engine__loc(const struct engine *eng, size_t i);
size_t engine__probe_count(const struct engine *eng);
const struct engine_probe *engine__probe(const struct engine *eng, size_t i);
/* Index of the first location of probe @probe_id, or SIZE_MAX. */
size_t engine__first_loc(const struct engine *eng, size_t probe_id);
/* Bit i: argument i of probe @probe_id cannot be fetched at some location. */
uint16_t engine__unsupported(const struct engine *eng, size_t probe_id);
/* Sets the process filter (e.g. -c: the child, once forked) before attaching. */
void engine__set_pid(struct engine *eng, pid_t pid);
/* Chooses the attach method before the first engine__attach. */
void engine__set_attach_mode(struct engine *eng, enum engine_attach_mode mode);
/* Number of PROBE specs and how many locations each matched so far. */
size_t engine__spec_count(const struct engine *eng);
const char *engine__spec(const struct engine *eng, size_t i, size_t *matches);
/* Whether PROBE spec @spec (as numbered by engine__spec) selected probe @probe. */
bool engine__probe_matched_by(const struct engine *eng, size_t probe, size_t spec);
/* Whether some PROBE has no PATH (needs a -p/-c target to be searched). */
bool engine__needs_target(const struct engine *eng);
/* Most string arguments any location found so far carries. */
unsigned int engine__max_strings(const struct engine *eng);
/* Most arguments any location found so far has. */
unsigned int engine__max_args(const struct engine *eng);
/* Most arguments and string arguments of the locations not attached yet. */
void engine__pending_max(const struct engine *eng, unsigned int *max_args,
			 unsigned int *max_strings);

/* Type of argument @i of a probe: declared (metadata, --args) or the spec's size and sign. */
enum usdt_type engine__arg_type(const struct engine_probe *probe, const struct usdt_fetch *f,
				int i);
/* Argument name to show: metadata/--args name, else "argN". */
const char *engine__arg_name(const struct engine_probe *probe, int i, char *buf, size_t size);
/*
 * The BPF cookie of location @i: its index, plus ENGINE_COOKIE_AT_ENTRY at
 * a function's entry (user stacks then read the caller's return address).
 */
#define ENGINE_COOKIE_AT_ENTRY USTACK_COOKIE_AT_ENTRY
uint64_t engine__cookie(const struct engine *eng, size_t i);
/* Index of argument @want ("name", "argN" or "N") of @p, or -1. */
int engine__arg_index(const struct engine_probe *p, const char *want);

#endif
