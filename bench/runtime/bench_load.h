/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* bench-runtime's load figures (bench_load.c). */
#ifndef USDTKIT_BENCH_LOAD_H
#define USDTKIT_BENCH_LOAD_H

#include <stdbool.h>

void bench_load(bool traced);

#endif
