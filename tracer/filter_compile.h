/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The --filter compiler: EXPR text -> parsed expression (once) -> one
 * struct filter_prog per probe (filter.h), against that probe's arguments.
 * The language is documented in docs/filters.md.
 *
 * Nothing here prints: errors come back as a struct filter_error (message
 * and 1-based column of the offending token) that a command formats with
 * filter_error__format() into its one diagnostic line.
 */
#ifndef USDTKIT_TRACER_FILTER_COMPILE_H
#define USDTKIT_TRACER_FILTER_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <usdtkit/types.h>

#include "filter.h"

struct filter_expr; /* a parsed EXPR */

struct filter_error {
	unsigned int index; /* filter_compile(): which of the expressions */
	unsigned int column; /* 1-based column in that expression's text */
	char msg[160]; /* without the column */
};

enum filter_arg_type {
	FILTER_ARG_INT = 0, /* signed integer */
	FILTER_ARG_UINT, /* unsigned integer (also pointers) */
	FILTER_ARG_STR, /* char *: compared as the string it points to */
	FILTER_ARG_OTHER, /* floating point: cannot be filtered on */
};

struct filter_arg {
	const char *name; /* metadata or --args name; NULL: only argN */
	enum filter_arg_type type;
};

/* The probe a filter is compiled for. */
struct filter_env {
	const char *provider;
	const char *name;
	unsigned int nargs; /* <= FILTER_NARGS */
	const struct filter_arg *args;
};

/*
 * Parses @text. Returns 0 and *@out (free with filter_expr__free()), or
 * -EINVAL with @err filled (syntax), or -ENOMEM.
 */
int filter_parse(const char *text, struct filter_expr **out, struct filter_error *err);
void filter_expr__free(struct filter_expr *e);

/* Whether @e has a `PROVIDER:NAME:` scope. */
bool filter_expr__scoped(const struct filter_expr *e);
/*
 * Whether @e applies to probe @provider:@name: true for an unscoped
 * expression, else whether its `PROVIDER:NAME:` scope (glob) matches.
 */
bool filter_expr__applies(const struct filter_expr *e, const char *provider, const char *name);

/*
 * Compiles the conjunction of those of @exprs (@n of them) that apply to
 * the probe @env into @prog. None applying gives a program that passes
 * every hit. Returns 0, or -EINVAL with @err filled (err->index: which
 * expression) for an unknown name, a type error or a program beyond the
 * limits of filter.h, or -ENOMEM.
 */
int filter_compile(struct filter_expr *const *exprs, size_t n, const struct filter_env *env,
		   struct filter_prog *prog, struct filter_error *err);

/* The filter type of an argument of @type (USDT_TYPE_NONE: unsigned). */
enum filter_arg_type filter_arg_type_of(enum usdt_type type);

/* True if @prog passes every hit without reading anything. */
bool filter_prog__is_pass(const struct filter_prog *prog);

/*
 * "@prefix: --filter: MSG at column N" into @buf (no newline), e.g. prefix
 * "usdtkit trace". Returns what snprintf() returns.
 */
int filter_error__format(const struct filter_error *err, const char *prefix, char *buf,
			 size_t size);

/*
 * The reference evaluator: runs @prog on @in exactly as filter.bpf.h does
 * in the kernel, reading string arguments at their addresses in this
 * process. Returns an enum filter_verdict.
 */
int filter_prog__eval(const struct filter_prog *prog, const struct filter_input *in);

/*
 * Glob match of @s (@len bytes) against @pat, the reference semantics of
 * `=~` written independently of the automaton (tests compare the two).
 */
bool filter_glob_match(const char *pat, size_t patlen, const char *s, size_t len);

#endif
