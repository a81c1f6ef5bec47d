/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Shared by ring_producer.bpf.c and test_ring.c. */
#ifndef USDTKIT_TEST_RING_PRODUCER_H
#define USDTKIT_TEST_RING_PRODUCER_H

#define RING_PRODUCER_MAX 200 /* largest record, bytes */
#define RING_PRODUCER_BATCH 512 /* most records per run */

struct ring_producer_args {
	__u32 count; /* records to produce */
	__u32 first_seq; /* sequence number of the first one */
	__u32 discard_every; /* discard records whose seq is a multiple of this (0: none) */
};

/* Record sizes vary with the sequence number (8..200 bytes, not multiples of 8). */
static inline __u32 ring_producer__size(__u32 seq)
{
	return 8 + (seq * 37) % (RING_PRODUCER_MAX - 7);
}

#endif
