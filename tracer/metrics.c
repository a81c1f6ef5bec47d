// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The metrics registry (metrics.h). Series are found by a hash of their
 * label values in an open-addressing index, so a refill of 10 000 series
 * costs 10 000 lookups, not a quadratic scan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct metrics_registry *metrics_registry__new(size_t max_series)
{
	struct metrics_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL)) {
		free(r);
		return NULL;
	}
	r->max_series = max_series ? max_series : 1;
	return r;
}

static void family_free(struct metric_family *f)
{
	size_t i;
	unsigned int j;

	for (i = 0; i < f->nseries; i++) {
		for (j = 0; j < f->nlabels; j++)
			free(f->series[i].values[j]);
		free(f->series[i].values);
		free(f->series[i].buckets);
	}
	for (j = 0; j < f->nlabels; j++)
		free(f->labels[j]);
	free(f->series);
	free(f->slots);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_registry__free(struct metrics_registry *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfamilies; i++)
		family_free(r->families[i]);
	free(r->families);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

bool metrics_valid_name(const char *s)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++)
		if (!name_char(s[i], i == 0, true))
			return false;
	return true;
}

bool metrics_valid_label(const char *s)
{
	size_t i;

	if (!s || !*s || (s[0] == '_' && s[1] == '_'))
		return false;
	for (i = 0; s[i]; i++)
		if (!name_char(s[i], i == 0, false))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static struct metric_family *family_new(struct metrics_registry *r, enum metric_type type,
					const char *name, const char *help, unsigned int nlabels,
					const char *const *labels)
{
	struct metric_family *f = NULL, **fams;
	size_t i, n;
	unsigned int j;
	int err = -EINVAL;

	if (!metrics_valid_name(name) || nlabels > METRICS_MAX_LABELS || (nlabels && !labels))
		goto fail;
	for (j = 0; j < nlabels; j++) {
		if (!metrics_valid_label(labels[j]) ||
		    (type == METRIC_HISTOGRAM && !strcmp(labels[j], "le")))
			goto fail;
	}
	err = -ENOMEM;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	f->type = type;
	f->max_series = r->max_series;
	n = strlen(name);
	f->name = malloc(n + sizeof("_total"));
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help)
		goto fail;
	memcpy(f->name, name, n + 1);
	if (type == METRIC_COUNTER && !ends_with(name, "_total"))
		memcpy(f->name + n, "_total", sizeof("_total"));
	for (j = 0; j < nlabels; j++) {
		f->labels[j] = strdup(labels[j]);
		if (!f->labels[j])
			goto fail;
		f->nlabels = j + 1;
	}
	for (i = 0; i < r->nfamilies; i++) {
		if (!strcmp(r->families[i]->name, f->name)) {
			err = -EEXIST;
			goto fail;
		}
	}
	fams = realloc(r->families, (r->nfamilies + 1) * sizeof(*fams));
	if (!fams)
		goto fail;
	r->families = fams;
	r->families[r->nfamilies++] = f;
	/* sized for the bound: the index never needs rehashing */
	f->nslots = 16;
	while (f->nslots < r->max_series * 2)
		f->nslots *= 2;
	f->slots = calloc(f->nslots, sizeof(*f->slots));
	if (!f->slots) {
		r->nfamilies--;
		goto fail;
	}
	return f;
fail:
	if (f)
		family_free(f);
	errno = -err;
	return NULL;
}

struct metric_family *metrics__counter(struct metrics_registry *r, const char *name,
				       const char *help, unsigned int nlabels,
				       const char *const *labels)
{
	return family_new(r, METRIC_COUNTER, name, help, nlabels, labels);
}

struct metric_family *metrics__gauge(struct metrics_registry *r, const char *name, const char *help,
				     unsigned int nlabels, const char *const *labels)
{
	return family_new(r, METRIC_GAUGE, name, help, nlabels, labels);
}

struct metric_family *metrics__histogram(struct metrics_registry *r, const char *name,
					 const char *help, unsigned int nlabels,
					 const char *const *labels, unsigned int nbounds,
					 const double *bounds)
{
	struct metric_family *f;
	unsigned int i;

	if (!nbounds || nbounds > METRICS_MAX_BUCKETS || !bounds) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 1; i < nbounds; i++) {
		if (!(bounds[i] > bounds[i - 1])) {
			errno = EINVAL;
			return NULL;
		}
	}
	f = family_new(r, METRIC_HISTOGRAM, name, help, nlabels, labels);
	if (!f)
		return NULL;
	f->bounds = malloc(nbounds * sizeof(*bounds));
	if (!f->bounds) {
		/* the family is registered: it is freed with the registry */
		errno = ENOMEM;
		return NULL;
	}
	memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
	f->nbounds = nbounds;
	return f;
}

void metrics__update_begin(struct metrics_registry *r)
{
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nfamilies; i++)
		r->families[i]->overflow = 0;
}

void metrics__update_end(struct metrics_registry *r)
{
	pthread_mutex_unlock(&r->lock);
}

static uint64_t hash_values(unsigned int n, const char *const *values)
{
	uint64_t h = 1469598103934665603ull;
	const unsigned char *p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		for (p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull; /* separator: ("ab","") != ("a","b") */
	}
	return h;
}

static bool same_values(const struct metric_series *s, unsigned int n, const char *const *values)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]))
			return false;
	return true;
}

/* The series of @values, created if new; NULL with *err set. */
static struct metric_series *series_get(struct metric_family *f, const char *const *values,
					int *err)
{
	struct metric_series *s, *arr;
	uint64_t h;
	size_t slot, mask = f->nslots - 1, cap;
	unsigned int i;

	for (i = 0; i < f->nlabels; i++) {
		if (!values || !values[i]) {
			*err = -EINVAL;
			return NULL;
		}
	}
	h = hash_values(f->nlabels, values);
	for (slot = h & mask; f->slots[slot]; slot = (slot + 1) & mask) {
		s = &f->series[f->slots[slot] - 1];
		if (s->hash == h && same_values(s, f->nlabels, values))
			return s;
	}
	/* the index is sized for twice the bound: it always has a free slot */
	if (f->nseries >= f->max_series) {
		f->overflow++;
		*err = -E2BIG;
		return NULL;
	}
	if (f->nseries == f->cap) {
		cap = f->cap ? f->cap * 2 : 16;
		arr = realloc(f->series, cap * sizeof(*arr));
		if (!arr)
			goto nomem;
		f->series = arr;
		f->cap = cap;
	}
	s = &f->series[f->nseries];
	memset(s, 0, sizeof(*s));
	s->hash = h;
	s->values = calloc(f->nlabels ? f->nlabels : 1, sizeof(char *));
	if (!s->values)
		goto nomem;
	for (i = 0; i < f->nlabels; i++) {
		s->values[i] = strdup(values[i]);
		if (!s->values[i])
			goto nomem_values;
	}
	if (f->type == METRIC_HISTOGRAM) {
		s->buckets = calloc(f->nbounds + 1, sizeof(*s->buckets));
		if (!s->buckets)
			goto nomem_values;
	}
	f->slots[slot] = ++f->nseries;
	return s;
nomem_values:
	for (i = 0; i < f->nlabels; i++)
		free(s->values[i]);
	free(s->values);
nomem:
	*err = -ENOMEM;
	return NULL;
}

int metric__set(struct metric_family *f, const char *const *values, double v)
{
	struct metric_series *s;
	int err = 0;

	if (f->type == METRIC_HISTOGRAM)
		return -EINVAL;
	s = series_get(f, values, &err);
	if (!s)
		return err;
	s->value = v;
	return 0;
}

int metric__add(struct metric_family *f, const char *const *values, double v)
{
	struct metric_series *s;
	int err = 0;

	if (f->type == METRIC_HISTOGRAM)
		return -EINVAL;
	s = series_get(f, values, &err);
	if (!s)
		return err;
	s->value += v;
	return 0;
}

int metric__hist_set(struct metric_family *f, const char *const *values, const uint64_t *counts,
		     double sum)
{
	struct metric_series *s;
	unsigned int i;
	int err = 0;

	if (f->type != METRIC_HISTOGRAM || !counts)
		return -EINVAL;
	s = series_get(f, values, &err);
	if (!s)
		return err;
	s->count = 0;
	for (i = 0; i <= f->nbounds; i++) {
		s->buckets[i] = counts[i];
		s->count += counts[i];
	}
	s->sum = sum;
	return 0;
}

unsigned int metrics_log2_bounds(double *bounds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && i < 65; i++) {
		if (i == 0)
			bounds[i] = -1;
		else if (i == 1)
			bounds[i] = 0;
		else /* 2^(k+1) - 1 with k = i - 2 */
			bounds[i] = (double)(((unsigned __int128)1 << (i - 1)) - 1);
	}
	return i;
}
