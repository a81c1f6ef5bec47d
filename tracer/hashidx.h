/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A small open-addressing index from a 64-bit hash to array positions, so
 * that the tables of the engine (objects, probes, locations) are looked up
 * in constant time: a binary with 100 000 probes must not cost 10^10
 * string comparisons. The caller keeps the elements and says which
 * candidate with the same hash is equal.
 */
#ifndef USDTKIT_TRACER_HASHIDX_H
#define USDTKIT_TRACER_HASHIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashidx {
	uint64_t *hash; /* 0: empty slot */
	size_t *idx;
	size_t cap; /* a power of two */
	size_t count;
};

typedef bool (*hashidx_eq_fn)(const void *ctx, size_t idx);

/* Position of the element equal per @eq among those hashed @h, or SIZE_MAX. */
size_t hashidx__find(const struct hashidx *hi, uint64_t h, hashidx_eq_fn eq, const void *ctx);
/* Adds position @idx under hash @h. 0 or -ENOMEM. */
int hashidx__insert(struct hashidx *hi, uint64_t h, size_t idx);
void hashidx__free(struct hashidx *hi);

/* FNV-1a, continued from @h (start with HASHIDX_SEED). */
#define HASHIDX_SEED 1469598103934665603ull
uint64_t hashidx__bytes(uint64_t h, const void *p, size_t len);
uint64_t hashidx__str(uint64_t h, const char *s);

#endif
