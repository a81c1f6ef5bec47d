/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Histogram bucket math of `usdtkit stat`, shared by the BPF program (which
 * buckets each value) and user space (which labels the buckets and turns
 * them into percentiles and Prometheus bounds): one definition, so the two
 * sides cannot disagree. Everything is computed in unsigned 64-bit
 * arithmetic: the full int64 range is a valid --lhist range.
 *
 *  - log2: 0: value < 0, 1: value 0, 2 + k: [2^k, 2^(k+1)).
 *  - linear (MIN, MAX, STEP): 0: below MIN, 1 + i: [MIN + i*STEP, ...),
 *    last: >= MAX.
 *  - latency: HIST_LAT_SUB sub-buckets per power of two (values below
 *    HIST_LAT_SUB are exact), so percentiles estimated from it are within
 *    1/HIST_LAT_SUB of the true value.
 */
#ifndef USDTKIT_TRACER_HIST_H
#define USDTKIT_TRACER_HIST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <stdbool.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define HIST_LOG2_BUCKETS 66
#define HIST_LHIST_MAX_STEPS 1000
#define HIST_LHIST_MAX_BUCKETS (HIST_LHIST_MAX_STEPS + 2) /* + below + above */
#define HIST_LAT_SUB 8
#define HIST_LAT_SUB_SHIFT 3
#define HIST_LAT_BUCKETS (62 * HIST_LAT_SUB) /* values up to 2^64 */

static __always_inline __u32 hist_ilog2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

static __always_inline __u32 hist_log2_bucket(__u64 v, bool is_signed)
{
	if (is_signed && (__s64)v < 0)
		return 0;
	if (!v)
		return 1;
	return 2 + hist_ilog2(v);
}

/* Number of buckets of --lhist MIN,MAX,STEP (with below and above), 0 if over the limit. */
static __always_inline __u32 hist_linear_count(__s64 lmin, __s64 lmax, __s64 lstep)
{
	__u64 range = (__u64)lmax - (__u64)lmin, steps;

	if (lstep <= 0 || lmax <= lmin)
		return 0;
	steps = range / (__u64)lstep + (range % (__u64)lstep != 0);
	return steps > HIST_LHIST_MAX_STEPS ? 0 : (__u32)steps + 2;
}

static __always_inline __u32 hist_linear_bucket(__u64 v, bool is_signed, __s64 lmin, __s64 lmax,
						__s64 lstep, __u32 nbuckets)
{
	__s64 s = (__s64)v;

	if (!is_signed && s < 0)
		return nbuckets - 1; /* above any signed bound */
	if (s < lmin)
		return 0;
	if (s >= lmax)
		return nbuckets - 1;
	return 1 + ((__u64)s - (__u64)lmin) / (__u64)lstep;
}

/* Lower bound of linear bucket @b (1 <= b <= nbuckets - 2). */
static __always_inline __s64 hist_linear_lo(__s64 lmin, __s64 lstep, __u32 b)
{
	return (__s64)((__u64)lmin + (__u64)(b - 1) * (__u64)lstep);
}

/* Upper bound (exclusive) of linear bucket @b: the next one's start, or MAX. */
static __always_inline __s64 hist_linear_hi(__s64 lmin, __s64 lmax, __s64 lstep, __u32 b)
{
	__s64 lo = hist_linear_lo(lmin, lstep, b);

	return (__u64)lmax - (__u64)lo <= (__u64)lstep ? lmax : (__s64)((__u64)lo + (__u64)lstep);
}

static __always_inline __u32 hist_lat_bucket(__u64 d)
{
	__u32 msb;

	if (d < HIST_LAT_SUB)
		return d;
	msb = hist_ilog2(d);
	return (msb - HIST_LAT_SUB_SHIFT + 1) * HIST_LAT_SUB +
	       ((d >> (msb - HIST_LAT_SUB_SHIFT)) & (HIST_LAT_SUB - 1));
}

#ifndef __VMLINUX_H__
/* Bounds [lo, hi) of latency bucket @b, in the unit the values were bucketed in. */
static inline void hist_lat_bounds(__u32 b, double *lo, double *hi)
{
	__u32 msb, sub;
	double scale;

	if (b < HIST_LAT_SUB) {
		*lo = b;
		*hi = b + 1;
		return;
	}
	msb = b / HIST_LAT_SUB + HIST_LAT_SUB_SHIFT - 1;
	sub = b % HIST_LAT_SUB;
	scale = (double)(1ull << (msb - HIST_LAT_SUB_SHIFT));
	*lo = (HIST_LAT_SUB + sub) * scale;
	*hi = (HIST_LAT_SUB + sub + 1) * scale;
}

/* log2 row (numbering above, never the negative row) of latency bucket @b. */
static inline __u32 hist_lat_row(__u32 b)
{
	__u32 r = 0;

	if (b >= HIST_LAT_SUB)
		return 2 + b / HIST_LAT_SUB + HIST_LAT_SUB_SHIFT - 1;
	if (b == 0)
		return 1;
	while (b >> (r + 1))
		r++;
	return 2 + r;
}
#endif

#endif
