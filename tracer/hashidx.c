// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Hash index (see hashidx.h): linear probing, grown at half full. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashidx.h"

uint64_t hashidx__bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

uint64_t hashidx__str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h ^ 0xff) * 1099511628211ull; /* "ab","c" differs from "a","bc" */
}

static uint64_t nonzero(uint64_t h)
{
	return h ? h : 1;
}

/*
 * The first slot of @h: FNV's low bits mix poorly (a multiply carries only
 * upwards), and linear probing turns clusters of like low bits into long
 * runs; a 64-bit finalizer spreads every input bit over the slot bits.
 */
static size_t slot(uint64_t h, size_t cap)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h & (cap - 1);
}

size_t hashidx__find(const struct hashidx *hi, uint64_t h, hashidx_eq_fn eq, const void *ctx)
{
	size_t mask, s;

	if (!hi->cap)
		return SIZE_MAX;
	h = nonzero(h);
	mask = hi->cap - 1;
	for (s = slot(h, hi->cap); hi->hash[s]; s = (s + 1) & mask)
		if (hi->hash[s] == h && eq(ctx, hi->idx[s]))
			return hi->idx[s];
	return SIZE_MAX;
}

static void put(uint64_t *hash, size_t *idx, size_t cap, uint64_t h, size_t i)
{
	size_t s = slot(h, cap);

	while (hash[s])
		s = (s + 1) & (cap - 1);
	hash[s] = h;
	idx[s] = i;
}

int hashidx__insert(struct hashidx *hi, uint64_t h, size_t idx)
{
	h = nonzero(h);
	if (2 * (hi->count + 1) > hi->cap) {
		size_t cap = hi->cap ? hi->cap * 2 : 64;
		uint64_t *nh = calloc(cap, sizeof(*nh));
		size_t *ni = calloc(cap, sizeof(*ni));

		if (!nh || !ni) {
			free(nh);
			free(ni);
			return -ENOMEM;
		}
		for (size_t s = 0; s < hi->cap; s++)
			if (hi->hash[s])
				put(nh, ni, cap, hi->hash[s], hi->idx[s]);
		free(hi->hash);
		free(hi->idx);
		hi->hash = nh;
		hi->idx = ni;
		hi->cap = cap;
	}
	put(hi->hash, hi->idx, hi->cap, h, idx);
	hi->count++;
	return 0;
}

void hashidx__free(struct hashidx *hi)
{
	free(hi->hash);
	free(hi->idx);
	memset(hi, 0, sizeof(*hi));
}
