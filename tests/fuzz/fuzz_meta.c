/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Fuzzes the typed-metadata parser and formatter. The input, terminated,
 * is a metadata string; whatever parses must format to text that parses
 * to the same items and formats to the same text again. Also feeds the
 * exact bytes to usdt_type__parse(). A difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

static void die(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_meta: %s: '%s'\n", what, text);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usdt_arg_meta meta[USDT_MAX_ARGS], again[USDT_MAX_ARGS];
	struct usdt_parse_error err = {SIZE_MAX, NULL};
	char buf[USDT_MAX_ARGS * (USDT_ARG_NAME_MAX + 16)], buf2[sizeof(buf)], small[6];
	enum usdt_type type;
	char *text;
	int n, len, len2;

	if (usdt_type__parse((const char *)data, size, &type) == 0 &&
	    (type <= USDT_TYPE_NONE || type >= USDT_TYPE__MAX || !usdt_type__name(type)))
		die("type parsed to an invalid value", "");

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	n = usdt_meta__parse(meta, USDT_MAX_ARGS, text, &err);
	if (n < 0) {
		if (!err.msg || err.pos > size)
			die("error without message or position", text);
		goto out;
	}
	len = usdt_meta__format(meta, (size_t)n, buf, sizeof(buf));
	if (len < 0 || (size_t)len >= sizeof(buf) || strlen(buf) != (size_t)len)
		die("format failed on parsed metadata", text);
	if (usdt_meta__parse(again, USDT_MAX_ARGS, buf, NULL) != n)
		die("formatted metadata parses to a different count", buf);
	for (int i = 0; i < n; i++) {
		if (again[i].type != meta[i].type || strcmp(again[i].name, meta[i].name) != 0)
			die("formatted metadata parses differently", buf);
	}
	len2 = usdt_meta__format(again, (size_t)n, buf2, sizeof(buf2));
	if (len2 != len || strcmp(buf, buf2) != 0)
		die("format is not stable", buf);
	if (usdt_meta__format(meta, (size_t)n, small, sizeof(small)) != len ||
	    strncmp(small, buf, sizeof(small) - 1) != 0 || strlen(small) >= sizeof(small))
		die("truncated format is wrong", buf);
out:
	free(text);
	return 0;
}
