/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Command-line helpers every subcommand shares, so that numbers and
 * durations are read one way everywhere, and the clock is read one way.
 */
#ifndef USDTKIT_TRACER_CLI_H
#define USDTKIT_TRACER_CLI_H

#include <stdint.h>
#include <time.h>

/* Decimal unsigned 64-bit integer, the whole string. 0 or -1. */
int cli__parse_u64(const char *s, uint64_t *v);
/* Signed 64-bit integer, decimal or 0x hex, the whole string. 0 or -1. */
int cli__parse_i64(const char *s, int64_t *v);
/*
 * A duration: seconds ("1.5"), or with a unit "250ms", "2s", "5m".
 * Positive and at most 10^9 s. 0 or -1.
 */
int cli__parse_duration(const char *s, double *seconds);

uint64_t cli__now_ns(clockid_t clk);

#endif
