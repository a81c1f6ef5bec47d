// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * libFuzzer harness for the Prometheus endpoint's HTTP request parser
 * (tracer/export_prom.c): any bytes, fed whole and in a prefix, must parse
 * or be rejected without reading past the input, and a parsed head must
 * lie inside it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export_prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char *buf;
	long n;

	/* an exact-size copy so ASan sees any over-read */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	n = http_parse_request(buf, size, &req);
	if (n > 0) {
		if ((size_t)n > size || req.method < buf || req.target + req.target_len > buf + n)
			abort();
		(void)prom_http_status(&req);
	}
	if (size > 1)
		(void)http_parse_request(buf, size / 2, &req);
	free(buf);
	return 0;
}
