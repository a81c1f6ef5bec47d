/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Random --filter expressions with their meaning, for the filter tests:
 * the generator builds an expression tree, prints it as EXPR text and
 * evaluates it directly (C semantics, reference glob), so a test can check
 * the compiler and an evaluator of the compiled program (user space or the
 * kernel's) against an answer that shares no code with them.
 */
#ifndef USDTKIT_TEST_FILTER_GEN_H
#define USDTKIT_TEST_FILTER_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter_compile.h"

/* The probe every generated expression is compiled for. */
extern const struct filter_env fg_env;

/* Argument indexes in fg_env. */
enum { FG_STATUS = 0, FG_LEN, FG_PATH, FG_METHOD, FG_ARG4, FG_RATIO, FG_NARGS };

struct fg_input {
	struct filter_input in; /* what the evaluators get */
	char path[256]; /* the string arguments' bytes (in.vals point here) */
	char method[256];
};

struct fg_rng {
	uint64_t s;
};

uint32_t fg_rand(struct fg_rng *r, uint32_t n); /* 0 .. n-1 */

/* A random expression over fg_env in @buf; returns its tree (free with fg_free). */
struct fg_node *fg_expr(struct fg_rng *r, char *buf, size_t size);
void fg_free(struct fg_node *n);
/* A random input; string values point into @x itself. */
void fg_input(struct fg_rng *r, struct fg_input *x);
/* The expression's truth on @x, by direct evaluation. */
bool fg_eval(const struct fg_node *n, const struct fg_input *x);

#endif
