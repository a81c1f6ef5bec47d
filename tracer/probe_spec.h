/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The one PROBE grammar of every command (list, trace, stat and the tools
 * built on them), and its matcher:
 *
 *	[usdt:][PATH:]PROVIDER:NAME	bpftrace's spelling is accepted as is
 *	[usdt:]PATH:NAME		a PATH (it has a '/') and any provider
 *	[usdt:]PROVIDER			every probe of the provider
 *
 * PROVIDER and NAME are shell globs; an empty one means "*". Fields are
 * split from the right: provider and probe names are C identifiers, while
 * a PATH may itself hold ':' (everything left of the provider is the path).
 */
#ifndef USDTKIT_TRACER_PROBE_SPEC_H
#define USDTKIT_TRACER_PROBE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

struct probe_spec {
	char *text; /* as given */
	char *path; /* NULL: none */
	char *provider; /* glob */
	char *name; /* glob */
};

/* Parses @text. Returns 0, -EINVAL (empty, or nothing but "usdt:"), -ENOMEM. */
int probe_spec__parse(struct probe_spec *spec, const char *text);
void probe_spec__free(struct probe_spec *spec);
bool probe_spec__match(const struct probe_spec *spec, const char *provider, const char *name);

/* A set of specs: a probe matches when any does; an empty set matches every probe. */
struct probe_specs {
	struct probe_spec *items;
	size_t count;
};

int probe_specs__add(struct probe_specs *set, const char *text);
bool probe_specs__match(const struct probe_specs *set, const char *provider, const char *name);
void probe_specs__free(struct probe_specs *set);

#endif
