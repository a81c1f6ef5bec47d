/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Fixture for the compile-time header tests: probes of every argument
 * kind, 0 and 12 arguments, typed probes and semaphores, built from C.
 * The tests read its notes with readelf, gdb, tplist and bpftrace and
 * trace it with bpftrace:
 *
 *   fx-hdr-c                    fire every probe once
 *   fx-hdr-c fire INT LONG STR  fire hdr:fire and hdr:tfire with these values
 *   fx-hdr-c sema [SECONDS]     wait until hdr:sema is traced, print
 *                               "active", fire hdr:sema (7, "sema-msg") and
 *                               hdr:tsema; exit 1 if never traced
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nanosleep under strict -std=c99, as the tests build it */
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <usdtkit/sdt.h>

USDT_SEMAPHORE(hdr, sema);
USDT_SEMAPHORE(hdr, tsema);

enum fx_color { FX_RED = -1, FX_BLUE = 2 };

/* Values the optimizer cannot fold, so operands land in registers and memory. */
static volatile long fx_seed = 3;

static void fire_all(void)
{
	long s = fx_seed;
	int8_t i8 = (int8_t)-s;
	uint8_t u8 = (uint8_t)(s + 200);
	int16_t i16 = (int16_t)(-s * 1000);
	uint16_t u16 = (uint16_t)(s + 60000);
	int32_t i32 = (int32_t)(-s * 100000);
	uint32_t u32 = (uint32_t)(s + 4000000000u);
	int64_t i64 = -s * 10000000000;
	uint64_t u64 = (uint64_t)s + 18000000000000000000u;
	char buf[16];
	const char *str = buf;
	void *ptr = &s;
	double d = (double)s / 2;
	float f = (float)s / 4;
	bool b = s > 1;
	enum fx_color c = s > 1 ? FX_RED : FX_BLUE;
	unsigned char uc = (unsigned char)s;
	size_t sz = (size_t)s;

	snprintf(buf, sizeof(buf), "buf-%ld", s);
	USDT(hdr, zero);
	USDT(hdr, ints, i8, u8, i16, u16, i32, u32, i64, u64, ptr, str);
	USDT(hdr, twelve, i8, u8, i16, u16, i32, u32, i64, u64, ptr, str, b, c);
	USDT(hdr, floats, d, f);
	USDT(hdr, misc, b, c, buf, "literal", -1L, uc, sz);
	USDT(hdr, consts, 1, -1, 4000000000u, 'x');
	USDT_TYPED(hdr, tzero);
	USDT_TYPED(hdr, typed, USDT_ARG(i8, a, i8), USDT_ARG(u8, b, u8), USDT_ARG(i16, c, i16),
		   USDT_ARG(u16, d, u16), USDT_ARG(i32, e, i32), USDT_ARG(u32, f, u32),
		   USDT_ARG(i64, g, i64), USDT_ARG(u64, h, u64), USDT_ARG(f64, x, d),
		   USDT_ARG(str, s, str), USDT_ARG(ptr, p, ptr), USDT_ARG(u64, widened, uc));
	printf("%s %d\n", buf, (int)i8);
}

static int fire(int argc, char **argv)
{
	char msg[64];
	int i;
	long l;

	if (argc < 5) {
		fprintf(stderr, "usage: %s fire INT LONG STR\n", argv[0]);
		return 2;
	}
	i = atoi(argv[2]);
	l = strtol(argv[3], NULL, 0);
	/* A copy on the stack: bpftrace cannot read never-touched pages. */
	snprintf(msg, sizeof(msg), "%s", argv[4]);
	USDT(hdr, fire, i, l, msg);
	USDT_TYPED(hdr, tfire, USDT_ARG(i32, count, i), USDT_ARG(i64, bytes, l),
		   USDT_ARG(str, path, msg));
	printf("fired %d %ld %s\n", i, l, msg);
	return 0;
}

static int sema(int argc, char **argv)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int seconds = argc > 2 ? atoi(argv[2]) : 10;
	char msg[16];
	int n;

	snprintf(msg, sizeof(msg), "sema-msg");
	for (n = 0; n < seconds * 100; n++) {
		if (USDT_IS_ACTIVE(hdr, sema) || USDT_IS_ACTIVE(hdr, tsema)) {
			printf("active\n");
			fflush(stdout);
			USDT_WITH_SEMAPHORE(hdr, sema, 7, msg);
			USDT_TYPED_WITH_SEMAPHORE(hdr, tsema, USDT_ARG(u16, n, 9),
						  USDT_ARG(str, text, msg));
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	printf("never active\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "fire"))
		return fire(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "sema"))
		return sema(argc, argv);
	fire_all();
	return 0;
}
