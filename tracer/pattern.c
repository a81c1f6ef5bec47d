/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Probe pattern matching (see pattern.h): fnmatch on provider and name. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

int probe_pattern__parse(struct probe_pattern *pat, const char *text)
{
	const char *colon;
	size_t plen;

	pat->provider = NULL;
	pat->name = NULL;
	if (!text || !*text)
		return -EINVAL;
	colon = strchr(text, ':');
	plen = colon ? (size_t)(colon - text) : strlen(text);
	pat->provider = plen ? strndup(text, plen) : strdup("*");
	pat->name = (colon && colon[1]) ? strdup(colon + 1) : strdup("*");
	if (!pat->provider || !pat->name) {
		probe_pattern__free(pat);
		return -ENOMEM;
	}
	return 0;
}

void probe_pattern__free(struct probe_pattern *pat)
{
	free(pat->provider);
	free(pat->name);
	pat->provider = NULL;
	pat->name = NULL;
}

bool probe_pattern__match(const struct probe_pattern *pat, const char *provider, const char *name)
{
	return fnmatch(pat->provider, provider, 0) == 0 && fnmatch(pat->name, name, 0) == 0;
}

int probe_patterns__add(struct probe_patterns *set, const char *text)
{
	struct probe_pattern *items;
	int err;

	items = realloc(set->items, (set->count + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	set->items = items;
	err = probe_pattern__parse(&set->items[set->count], text);
	if (err)
		return err;
	set->count++;
	return 0;
}

bool probe_patterns__match(const struct probe_patterns *set, const char *provider, const char *name)
{
	if (!set->count)
		return true;
	for (size_t i = 0; i < set->count; i++) {
		if (probe_pattern__match(&set->items[i], provider, name))
			return true;
	}
	return false;
}

void probe_patterns__free(struct probe_patterns *set)
{
	for (size_t i = 0; i < set->count; i++)
		probe_pattern__free(&set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}
