/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Fuzzes the --filter compiler (tracer/filter.c): the input, as a
 * NUL-terminated string, is parsed and, when it parses, compiled for two
 * probes whose arguments differ, then the compiled program is run by the
 * reference evaluator.
 *
 * Invariants checked (a violation aborts, so the fuzzer reports it): an
 * error has a message and a column inside the text (or just past it); a
 * program stays within the limits of filter.h that the BPF interpreter
 * relies on: instruction and pattern counts, forward-only successors,
 * pattern sizes, value indexes; its verdict is PASS, DROP or FAULT.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_compile.h"

static const struct filter_arg args_a[] = {
	{"status", FILTER_ARG_INT}, {"len", FILTER_ARG_UINT}, {"path", FILTER_ARG_STR},
	{"method", FILTER_ARG_STR}, {NULL, FILTER_ARG_INT},   {"ratio", FILTER_ARG_OTHER},
};
static const struct filter_arg args_b[] = {
	{"status", FILTER_ARG_STR},
	{"fd", FILTER_ARG_INT},
};
static const struct filter_env envs[] = {
	{"store", "request_done", 6, args_a},
	{"python", "function__entry", 2, args_b},
};

static void die(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_filter: %s: '%s'\n", what, text);
	abort();
}

static void check_error(const struct filter_error *err, const char *text, size_t len)
{
	char line[512];

	if (!err->msg[0] || err->column < 1 || err->column > len + 1)
		die("bad error position or message", text);
	if (filter_error__format(err, "usdtkit trace", line, sizeof(line)) <= 0 ||
	    strchr(line, '\n'))
		die("bad error line", text);
}

static void check_prog(const struct filter_prog *p, const char *text)
{
	if (p->start != FILTER_JMP_PASS && p->start != FILTER_JMP_DROP && p->start >= p->ninsns)
		die("bad start", text);
	if (p->ninsns > FILTER_MAX_INSNS || p->npats > FILTER_MAX_PATS)
		die("program too large", text);
	for (unsigned int i = 0; i < p->ninsns; i++) {
		const struct filter_insn *in = &p->insns[i];
		unsigned int s[2] = {in->jt, in->jf};

		for (int k = 0; k < 2; k++) {
			if (s[k] != FILTER_JMP_PASS && s[k] != FILTER_JMP_DROP &&
			    (s[k] <= i || s[k] >= p->ninsns))
				die("successor not forward", text);
		}
		if (in->op < FILTER_OP_EQ || in->op > FILTER_OP_MATCH)
			die("bad op", text);
		if (in->a >= FILTER_NVALS || in->a == FILTER_VAL_COMM + 1 ||
		    (in->a == FILTER_VAL_COMM && in->op != FILTER_OP_MATCH))
			die("bad value index", text);
		if (in->op == FILTER_OP_MATCH && in->pat >= p->npats)
			die("bad pattern index", text);
		if ((in->flags & FILTER_F_BVAL) && in->bval >= FILTER_VAL_COMM)
			die("bad second value", text);
	}
	for (unsigned int i = 0; i < p->npats; i++) {
		if (p->pats[i].n > FILTER_PAT_MAX)
			die("pattern too long", text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_expr *e = NULL;
	struct filter_error err;
	struct filter_prog prog;
	struct filter_input in = {0};
	char *text;
	int rc, v;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	size = strlen(text);
	rc = filter_parse(text, &e, &err);
	if (rc == -EINVAL)
		check_error(&err, text, size);
	else if (rc)
		die("parse failed without a syntax error", text);
	in.vals[2] = (uintptr_t) "/api/users/42";
	in.vals[3] = (uintptr_t) "GET";
	in.vals[0] = (uintptr_t) "status-string"; /* a string argument on envs[1] */
	memcpy(in.comm, "fuzz", 5);
	for (size_t i = 0; !rc && i < sizeof(envs) / sizeof(envs[0]); i++) {
		int crc = filter_compile(&e, 1, &envs[i], &prog, &err);

		if (crc == -EINVAL) {
			check_error(&err, text, size);
			continue;
		}
		if (crc)
			die("compile failed without an error", text);
		check_prog(&prog, text);
		if (i == 1)
			in.vals[1] = 3;
		v = filter_prog__eval(&prog, &in);
		if (v != FILTER_PASS && v != FILTER_DROP)
			die("bad verdict", text);
	}
	filter_expr__free(e);
	free(text);
	return 0;
}
