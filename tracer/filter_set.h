/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The --filter options of a session: the expressions parsed once when the
 * options are read, compiled once per probe the engine finds (at setup and
 * for every probe a rescan adds), and stored in one BPF array map indexed
 * by probe id that every BPF object of the run shares (trace loads several
 * layouts; each reuses the map), with one shared map of drop counters.
 *
 * Why one map made here rather than each object's own: probes found later
 * are compiled once and written once, whatever the number of loaded
 * objects, and the summary reads one set of counters.
 *
 * Without --filter nothing is created: the objects keep their one-entry
 * maps and filter_on = 0, and the verifier removes the filter code.
 */
#ifndef USDTKIT_TRACER_FILTER_SET_H
#define USDTKIT_TRACER_FILTER_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_map;
struct engine;
struct filter_expr;

struct filter_set {
	const char *who; /* "usdtkit trace" */
	const char **texts; /* the --filter arguments (pointers into argv) */
	struct filter_expr **exprs;
	size_t n;
	size_t ncompiled; /* probes 0..ncompiled-1 have their program in the map */
	uint32_t cap; /* entries of the map */
	int map_fd; /* filter_progs; -1 until filter_set__setup */
	int counts_fd; /* filter_counts */
};

void filter_set__init(struct filter_set *fs, const char *who);
void filter_set__free(struct filter_set *fs);
/* Parses one --filter. 0, or an exit status after printing the one-line error. */
int filter_set__add(struct filter_set *fs, const char *text);
static inline bool filter_set__active(const struct filter_set *fs)
{
	return fs->n > 0;
}
/*
 * After the first scan: checks that every scoped filter names a traced
 * probe (unless @wait: it may come later), creates the maps (room for
 * @spare more probes) and compiles the probes found. 0, or an exit status
 * (EXIT_USAGE for a filter that does not compile) after printing why.
 */
int filter_set__setup(struct filter_set *fs, struct engine *eng, bool wait, uint32_t spare);
/*
 * Compiles the probes found since the last call into the map. The first
 * call is filter_set__setup's; later ones (rescans) cannot stop the run on
 * a filter that does not compile for a new probe: they say so and leave
 * its entry zero, which the interpreter reads as "drop every hit".
 */
int filter_set__update(struct filter_set *fs, struct engine *eng);
/*
 * Before loading a BPF object including filter.bpf.h: points its maps at
 * the shared ones. Returns the value for its filter_on constant (0 or 1),
 * or a negative errno.
 */
int filter_set__prepare(const struct filter_set *fs, struct bpf_map *progs, struct bpf_map *counts);
/* Hits dropped (with those dropped because a value could not be read, in *@faults). */
uint64_t filter_set__dropped(const struct filter_set *fs, uint64_t *faults);

#endif
