// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Producer for the ring reader's unit test: a syscall program the test runs
 * with BPF_PROG_TEST_RUN to put records of chosen sizes into a ring buffer,
 * some of them discarded, so every case of the reader can be driven from
 * user space without a probe.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "ring_producer.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

__u64 avail_after; /* bytes not yet released by the reader, after producing */

SEC("syscall")
int produce(struct ring_producer_args *a)
{
	__u8 buf[256]; /* a power of two the size is masked to, for the verifier */
	__u32 i, n = a->count, seq = a->first_seq, written = 0;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i;
	for (i = 0; i < RING_PRODUCER_BATCH && i < n; i++, seq++) {
		__u32 size = ring_producer__size(seq);
		__u32 *d;

		if (a->discard_every && seq % a->discard_every == 0) {
			d = bpf_ringbuf_reserve(&rb, 8, 0);
			if (!d)
				break;
			d[0] = seq;
			d[1] = 8;
			bpf_ringbuf_discard(d, 0);
			continue;
		}
		((__u32 *)buf)[0] = seq;
		((__u32 *)buf)[1] = size;
		if (size < 8 || size > RING_PRODUCER_MAX)
			break;
		asm volatile("" : "+r"(size)); /* keep the mask: clang knows size < 256 */
		if (bpf_ringbuf_output(&rb, buf, size & (sizeof(buf) - 1), BPF_RB_NO_WAKEUP))
			break;
		written++;
	}
	avail_after = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	return written;
}
