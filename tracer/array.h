/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Growable arrays: the one doubling rule of the tracer's tables. */
#ifndef USDTKIT_TRACER_ARRAY_H
#define USDTKIT_TRACER_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Makes *@p (of *@cap elements of @elem bytes) hold at least @need. 0 or -ENOMEM. */
static inline int array__grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

#endif
