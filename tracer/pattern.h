/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Probe patterns: "PROVIDER:NAME" with shell globs on each side (fnmatch),
 * as the user types them for `list` and `trace`. A pattern without ':' is a
 * provider glob ("libc" means "libc:*"); an empty side means "*". The split
 * is at the first ':' — provider names are C identifiers and hold none.
 */
#ifndef USDTKIT_TRACER_PATTERN_H
#define USDTKIT_TRACER_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct probe_pattern {
	char *provider; /* glob */
	char *name; /* glob */
};

struct probe_patterns {
	struct probe_pattern *items;
	size_t count;
};

/* Parses @text into @pat. Returns 0, -EINVAL for an empty pattern, -ENOMEM. */
int probe_pattern__parse(struct probe_pattern *pat, const char *text);
void probe_pattern__free(struct probe_pattern *pat);
bool probe_pattern__match(const struct probe_pattern *pat, const char *provider, const char *name);

/* A set of patterns: a probe matches when any pattern matches; an empty set matches all. */
int probe_patterns__add(struct probe_patterns *set, const char *text);
bool probe_patterns__match(const struct probe_patterns *set, const char *provider,
			   const char *name);
void probe_patterns__free(struct probe_patterns *set);

#endif
