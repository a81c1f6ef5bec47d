// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * libFuzzer harness for the exporters' address parsers: the Prometheus
 * listen address (prom_split_addr) and the OTLP URL (otlp_parse_url).
 * Whatever they accept must fit the output buffers, be NUL-terminated and
 * be a port in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export_otlp.h"
#include "export_prom.h"

static void check_port(const char *port)
{
	size_t i, n = strlen(port);

	if (!n || n > 5)
		abort();
	for (i = 0; i < n; i++)
		if (port[i] < '0' || port[i] > '9')
			abort();
	if (atoi(port) > 65535)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[64], port[8], path[64];
	char *s;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!prom_split_addr(s, host, sizeof(host), port, sizeof(port))) {
		if (strlen(host) >= sizeof(host))
			abort();
		check_port(port);
	}
	if (!otlp_parse_url(s, host, sizeof(host), port, sizeof(port), path, sizeof(path))) {
		if (!host[0] || strlen(host) >= sizeof(host) || strlen(path) >= sizeof(path))
			abort();
		check_port(port);
		if (path[0] && path[0] != '/')
			abort();
	}
	free(s);
	return 0;
}
