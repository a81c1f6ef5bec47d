// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Consumer of BPF ring buffers (BPF_MAP_TYPE_RINGBUF) that hands the
 * producer back its space once per batch instead of once per record.
 *
 * Why not libbpf's ring_buffer__consume(): it stores the consumer position
 * after every record. The BPF side reads that position in every
 * bpf_ringbuf_reserve() (to check for space), so while a batch is being
 * consumed the cache line holding it moves between the consumer's CPU and
 * the producer's on every record: measured as the single hottest spot of a
 * traced hit. Here the position is published after each batch, or after a
 * quarter of the ring within a long batch so the producer never waits on a
 * full ring for our bookkeeping alone.
 *
 * Layout (the kernel's ABI, include/uapi/linux/bpf.h): page 0 is the
 * consumer position (read-write), page 1 the producer position, then the
 * data area mapped twice in a row so a record that wraps reads linearly.
 * Each record starts with an 8-byte header: 32-bit length with BUSY and
 * DISCARD flags in its top bits, then a page offset we do not need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring.h"

struct ring {
	ring_record_fn fn;
	void *ctx;
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	const char *data;
	unsigned long mask;
	size_t data_map_len;
	size_t page_size;
};

struct ring_reader {
	struct ring *rings;
	int nrings;
	int epoll_fd;
};

struct ring_reader *ring_reader__new(void)
{
	struct ring_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epoll_fd < 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void ring__unmap(struct ring *ring)
{
	if (ring->consumer_pos)
		munmap(ring->consumer_pos, ring->page_size);
	if (ring->producer_pos)
		munmap(ring->producer_pos, ring->data_map_len);
}

int ring_reader__add(struct ring_reader *r, int map_fd, ring_record_fn fn, void *ctx)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct epoll_event ev = {.events = EPOLLIN};
	struct ring *rings, *ring;
	void *p;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;

	rings = realloc(r->rings, (r->nrings + 1) * sizeof(*rings));
	if (!rings)
		return -ENOMEM;
	r->rings = rings;

	ring = &r->rings[r->nrings];
	memset(ring, 0, sizeof(*ring));
	ring->fn = fn;
	ring->ctx = ctx;
	ring->mask = info.max_entries - 1;
	ring->page_size = sysconf(_SC_PAGESIZE);
	ring->data_map_len = ring->page_size + 2 * (size_t)info.max_entries;

	p = mmap(NULL, ring->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ring->consumer_pos = p;
	p = mmap(NULL, ring->data_map_len, PROT_READ, MAP_SHARED, map_fd, ring->page_size);
	if (p == MAP_FAILED) {
		err = -errno;
		goto err_unmap;
	}
	ring->producer_pos = p;
	ring->data = (const char *)p + ring->page_size;

	ev.data.u32 = r->nrings;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev)) {
		err = -errno;
		goto err_unmap;
	}
	r->nrings++;
	return 0;

err_unmap:
	ring__unmap(ring);
	return err;
}

/*
 * Passes committed records to the callback; returns records seen or the
 * callback's error. One call reads at most one ring's worth, so a producer
 * that never pauses cannot keep the caller from its other duties (a
 * duration, a target that exited).
 */
static long ring__consume(struct ring *ring)
{
	unsigned long cons = *ring->consumer_pos, prod, released = cons, start = cons;
	unsigned long quarter = (ring->mask + 1) / 4;
	long n = 0;
	int err = 0;

	for (;;) {
		prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod || cons - start > ring->mask)
			break;
		while (cons < prod) {
			const __u32 *hdr = (const __u32 *)(ring->data + (cons & ring->mask));
			__u32 len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

			if (len & BPF_RINGBUF_BUSY_BIT)
				goto out;
			cons += (len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ;
			cons = (cons + 7) & ~7ul;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				n++;
				err = ring->fn(ring->ctx, (const char *)hdr + BPF_RINGBUF_HDR_SZ,
					       len & ~BPF_RINGBUF_DISCARD_BIT);
				if (err)
					goto out;
			}
			if (cons - released >= quarter) {
				__atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
				released = cons;
			}
		}
	}
out:
	if (cons != released)
		__atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
	return err < 0 ? err : n;
}

long ring_reader__consume(struct ring_reader *r)
{
	long total = 0, n;

	for (int i = 0; i < r->nrings; i++) {
		n = ring__consume(&r->rings[i]);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

int ring_reader__add_fd(struct ring_reader *r, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Every ring is consumed after a wakeup, so which ones woke us does not matter. */
long ring_reader__poll(struct ring_reader *r, int timeout_ms)
{
	struct epoll_event ev[4];

	if (epoll_wait(r->epoll_fd, ev, 4, timeout_ms) < 0)
		return -errno;
	return ring_reader__consume(r);
}

void ring_reader__free(struct ring_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nrings; i++)
		ring__unmap(&r->rings[i]);
	free(r->rings);
	close(r->epoll_fd);
	free(r);
}
