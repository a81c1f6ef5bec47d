/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Fuzzes the argument-spec parser and printer. The input is one spec (for
 * usdt_arg_spec__parse, given the exact bytes with no terminator so ASan
 * sees any over-read) and, NUL-terminated, a whole args string (for
 * usdt_arg_specs__parse), for each architecture.
 *
 * Whatever parses must print back to exactly the input bytes and re-parse
 * to the same structure; a difference aborts, so the fuzzer reports
 * round-trip bugs as crashes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

static const enum usdt_arch arches[] = {USDT_ARCH_X86_64, USDT_ARCH_X86, USDT_ARCH_AARCH64};

static void die(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "fuzz_argspec: %s: '%.*s'\n", what, (int)len, text);
	abort();
}

static bool same_spec(const struct usdt_arg_spec *a, const struct usdt_arg_spec *b)
{
	return a->size == b->size && a->is_signed == b->is_signed && a->is_float == b->is_float &&
	       a->kind == b->kind && a->imm == b->imm && a->base == b->base &&
	       a->base_size == b->base_size && a->base_high8 == b->base_high8 &&
	       a->index == b->index && a->index_size == b->index_size && a->scale == b->scale &&
	       a->disp == b->disp && a->reloc == b->reloc && a->flags == b->flags &&
	       strcmp(a->symbol, b->symbol) == 0;
}

/* Print @spec, compare with @text when given, re-parse, compare structure. */
static void check_round_trip(const struct usdt_arg_spec *spec, enum usdt_arch arch,
			     const char *text, size_t len)
{
	char buf[USDT_SPEC_TEXT_MAX * 2], small[8];
	struct usdt_arg_spec again;
	int n, m;

	n = usdt_arg_spec__print(spec, arch, buf, sizeof(buf));
	if (n <= 0 || (size_t)n >= sizeof(buf) || strlen(buf) != (size_t)n)
		die("print failed on a parsed spec", text, len);
	if (text && ((size_t)n != len || memcmp(buf, text, len) != 0))
		die("printed text differs from the input", text, len);
	if (usdt_arg_spec__parse(&again, buf, (size_t)n, arch, NULL) != 0)
		die("printed spec does not parse", buf, (size_t)n);
	if (!same_spec(spec, &again))
		die("re-parsed spec differs", buf, (size_t)n);

	/* snprintf semantics: same length, truncated and terminated. */
	m = usdt_arg_spec__print(spec, arch, small, sizeof(small));
	if (m != n || strlen(small) != (n < (int)sizeof(small) ? (size_t)n : sizeof(small) - 1) ||
	    memcmp(small, buf, strlen(small)) != 0)
		die("truncated print is wrong", buf, (size_t)n);
	if (usdt_arg_spec__print(spec, arch, NULL, 0) != n)
		die("measuring print is wrong", buf, (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usdt_arg_spec specs[USDT_MAX_ARGS];
	struct usdt_parse_error err;
	const char *text = (const char *)data;
	char *args;

	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		struct usdt_arg_spec spec;

		err.pos = SIZE_MAX;
		err.msg = NULL;
		if (usdt_arg_spec__parse(&spec, text, size, arches[a], &err) == 0)
			check_round_trip(&spec, arches[a], text, size);
		else if (!err.msg || err.pos > size)
			die("error without message or position", text, size);
	}

	/* Register names for arbitrary (register, width) pairs: tables stay in bounds. */
	if (size >= 3) {
		for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
			const char *name = usdt_reg__name((enum usdt_reg)data[0], (int8_t)data[1],
							  data[2] & 1, arches[a]);

			if (name && (!name[0] || strlen(name) > 8))
				die("odd register name", name, strlen(name));
		}
	}

	args = malloc(size + 1);
	if (!args)
		return 0;
	memcpy(args, data, size);
	args[size] = '\0';
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		int n;

		err.pos = SIZE_MAX;
		err.msg = NULL;
		n = usdt_arg_specs__parse(specs, USDT_MAX_ARGS, args, arches[a], &err);
		if (n < 0 && (!err.msg || err.pos > size))
			die("error without message or position", args, size);
		for (int i = 0; i < n; i++)
			check_round_trip(&specs[i], arches[a], NULL, 0);
	}
	free(args);
	return 0;
}
