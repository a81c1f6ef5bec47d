/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Byte-order helpers shared by the note reader and writer. Notes are read
 * from and written to byte buffers of either ELF byte order, at any
 * alignment, so every multi-byte field goes through these functions and
 * never through a cast pointer (which would be unaligned and host-order).
 */
#ifndef USDTKIT_SDT_ELF_BYTES_H
#define USDTKIT_SDT_ELF_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t usdt_get_uint(const void *p, unsigned int size, bool big_endian)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	if (big_endian) {
		for (unsigned int i = 0; i < size; i++)
			v = (v << 8) | b[i];
	} else {
		for (unsigned int i = size; i > 0; i--)
			v = (v << 8) | b[i - 1];
	}
	return v;
}

static inline void usdt_put_uint(void *p, uint64_t v, unsigned int size, bool big_endian)
{
	uint8_t *b = p;

	for (unsigned int i = 0; i < size; i++) {
		unsigned int at = big_endian ? size - 1 - i : i;
		b[at] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static inline uint64_t usdt_align4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

#endif /* USDTKIT_SDT_ELF_BYTES_H */
