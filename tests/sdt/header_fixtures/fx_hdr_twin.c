/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Twin fixtures: built once with FX_TYPED=1 (USDT_TYPED probes) and once
 * with FX_TYPED=0 (the same probes untyped). Each argument already has
 * the declared type, so both builds must produce the same code and the
 * same stapsdt notes; only the typed one has a ".note.usdtkit" section.
 */
#include <stdint.h>
#include <stdio.h>

#include <usdtkit/sdt.h>

USDT_SEMAPHORE(twin, guarded);

#if FX_TYPED
#define FX_PROBE3(p, n, t1, a1, t2, a2, t3, a3) \
	USDT_TYPED(p, n, USDT_ARG(t1, a1, a1), USDT_ARG(t2, a2, a2), USDT_ARG(t3, a3, a3))
#define FX_GUARDED2(p, n, t1, a1, t2, a2) \
	USDT_TYPED_WITH_SEMAPHORE(p, n, USDT_ARG(t1, a1, a1), USDT_ARG(t2, a2, a2))
#define FX_PROBE0(p, n) USDT_TYPED(p, n)
#else
#define FX_PROBE3(p, n, t1, a1, t2, a2, t3, a3) USDT(p, n, a1, a2, a3)
#define FX_GUARDED2(p, n, t1, a1, t2, a2) USDT_WITH_SEMAPHORE(p, n, a1, a2)
#define FX_PROBE0(p, n) USDT(p, n)
#endif

static volatile int64_t fx_seed = 5;

int main(int argc, char **argv)
{
	int64_t bytes = fx_seed * 1000;
	int32_t status = (int32_t)fx_seed + 195;
	const char *path = argv[0];
	uint16_t port = (uint16_t)(fx_seed + 8000);
	double ratio = (double)fx_seed / 3;

	FX_PROBE0(twin, start);
	FX_PROBE3(twin, request, str, path, i64, bytes, i32, status);
	FX_PROBE3(twin, stats, u16, port, f64, ratio, i32, argc);
	FX_GUARDED2(twin, guarded, i64, bytes, str, path);
	printf("%s %d\n", path, (int)status);
	return 0;
}
