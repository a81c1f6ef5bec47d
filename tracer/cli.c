// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Command-line helpers (see cli.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli__parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *s == '+' || *s == ' ' ? -1 : 0;
}

int cli__parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

int cli__parse_duration(const char *s, double *seconds)
{
	double v, scale = 1;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (!strcmp(end, "ms"))
		scale = 1e-3;
	else if (!strcmp(end, "m"))
		scale = 60;
	else if (*end && strcmp(end, "s"))
		return -1;
	v *= scale;
	if (!(v > 0) || v > 1e9)
		return -1;
	*seconds = v;
	return 0;
}

uint64_t cli__now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
