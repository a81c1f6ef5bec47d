// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* The PROBE grammar and matcher (see probe_spec.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "probe_spec.h"

static char *glob_dup(const char *s, size_t len)
{
	return len ? strndup(s, len) : strdup("*");
}

/* Last ':' in s[0..len), or NULL. */
static const char *last_colon(const char *s, size_t len)
{
	return memrchr(s, ':', len);
}

int probe_spec__parse(struct probe_spec *spec, const char *text)
{
	const char *c2, *c1, *s = text;
	size_t len;

	memset(spec, 0, sizeof(*spec));
	if (!text)
		return -EINVAL;
	if (!strncmp(s, "usdt:", 5))
		s += 5;
	len = strlen(s);
	if (!len)
		return -EINVAL;
	spec->text = strdup(text);
	if (!spec->text)
		goto nomem;
	c2 = last_colon(s, len);
	if (!c2) {
		spec->provider = glob_dup(s, len);
		spec->name = strdup("*");
	} else {
		spec->name = glob_dup(c2 + 1, len - (c2 + 1 - s));
		c1 = last_colon(s, c2 - s);
		if (c1) {
			spec->provider = glob_dup(c1 + 1, c2 - c1 - 1);
			if (c1 > s)
				spec->path = strndup(s, c1 - s);
			if (c1 > s && !spec->path)
				goto nomem;
		} else if (memchr(s, '/', c2 - s)) {
			spec->path = strndup(s, c2 - s); /* usdt:PATH:NAME */
			spec->provider = strdup("*");
			if (!spec->path)
				goto nomem;
		} else {
			spec->provider = glob_dup(s, c2 - s);
		}
	}
	if (!spec->provider || !spec->name)
		goto nomem;
	return 0;
nomem:
	probe_spec__free(spec);
	return -ENOMEM;
}

void probe_spec__free(struct probe_spec *spec)
{
	free(spec->text);
	free(spec->path);
	free(spec->provider);
	free(spec->name);
	memset(spec, 0, sizeof(*spec));
}

bool probe_spec__match(const struct probe_spec *spec, const char *provider, const char *name)
{
	return !fnmatch(spec->provider, provider, 0) && !fnmatch(spec->name, name, 0);
}

int probe_specs__add(struct probe_specs *set, const char *text)
{
	struct probe_spec *items = realloc(set->items, (set->count + 1) * sizeof(*items));
	int err;

	if (!items)
		return -ENOMEM;
	set->items = items;
	err = probe_spec__parse(&set->items[set->count], text);
	if (err)
		return err;
	set->count++;
	return 0;
}

bool probe_specs__match(const struct probe_specs *set, const char *provider, const char *name)
{
	if (!set->count)
		return true;
	for (size_t i = 0; i < set->count; i++)
		if (probe_spec__match(&set->items[i], provider, name))
			return true;
	return false;
}

void probe_specs__free(struct probe_specs *set)
{
	for (size_t i = 0; i < set->count; i++)
		probe_spec__free(&set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}
