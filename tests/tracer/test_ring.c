// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The trace command's ring reader (tracer/ring.c) against real BPF ring
 * buffers filled by a syscall program (ring_producer.bpf.c) through
 * BPF_PROG_TEST_RUN: records of every size come back whole and in order
 * across hundreds of wraps of a one-page ring (so space is handed back),
 * discarded records are skipped, a callback that stops or fails resumes at
 * the next record without a duplicate or a gap, one reader serves several
 * rings, and a map that is not a ring buffer is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "ring.h"
#include "ring_producer.h"
#include "ring_producer.skel.h"
#include "tracer_test_util.h"

struct expect {
	uint32_t next_seq;
	uint32_t discard_every;
	unsigned int records;
	unsigned int stop_after; /* return stop_ret at this record (0: never) */
	int stop_ret;
};

static int check_record(void *ctx, const void *data, size_t size)
{
	struct expect *x = ctx;
	const uint8_t *b = data;
	uint32_t seq, sz;

	while (x->discard_every && x->next_seq % x->discard_every == 0)
		x->next_seq++;
	assert_true(size >= 8);
	memcpy(&seq, b, 4);
	memcpy(&sz, b + 4, 4);
	assert_int_equal(seq, x->next_seq);
	assert_int_equal(sz, ring_producer__size(seq));
	assert_int_equal(size, sz);
	for (size_t i = 8; i < size; i++)
		assert_int_equal(b[i], (uint8_t)i);
	x->next_seq++;
	x->records++;
	if (x->stop_after && x->records == x->stop_after)
		return x->stop_ret;
	return 0;
}

static int produce(struct ring_producer_bpf *skel, uint32_t first, uint32_t count,
		   uint32_t discard_every)
{
	struct ring_producer_args a = {
		.count = count, .first_seq = first, .discard_every = discard_every};
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &a, .ctx_size_in = sizeof(a));

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.produce), &o), 0);
	return (int)o.retval;
}

static int setup(void **state)
{
	struct ring_producer_bpf *skel = ring_producer_bpf__open_and_load();

	if (!skel)
		return -1;
	*state = skel;
	return 0;
}

static int teardown(void **state)
{
	ring_producer_bpf__destroy(*state);
	return 0;
}

static struct ring_reader *reader_for(struct ring_producer_bpf *skel, struct expect *x)
{
	struct ring_reader *r = ring_reader__new();

	assert_non_null(r);
	assert_int_equal(ring_reader__add(r, bpf_map__fd(skel->maps.rb), check_record, x), 0);
	return r;
}

/*
 * 300 rounds of 20 records (8..200 bytes) through a 4 KiB ring: ~150 wraps,
 * records straddling the end read linearly, and every round finds the
 * space the previous one consumed handed back.
 */
static void wraps_in_order(void **state)
{
	struct ring_producer_bpf *skel = *state;
	struct expect x = {0};
	struct ring_reader *r = reader_for(skel, &x);
	uint32_t seq = 0;

	for (int round = 0; round < 300; round++, seq += 20) {
		assert_int_equal(produce(skel, seq, 20, 0), 20);
		assert_int_equal(ring_reader__consume(r), 20);
		assert_int_equal(ring_reader__consume(r), 0);
	}
	assert_int_equal(x.records, 6000);
	assert_int_equal(x.next_seq, 6000);
	/* everything read was released: a whole ring's worth fits again */
	assert_int_equal(produce(skel, seq, 30, 0), 30);
	assert_int_equal(ring_reader__poll(r, 0), 30);
	ring_reader__free(r);
}

static void skips_discarded(void **state)
{
	struct ring_producer_bpf *skel = *state;
	struct expect x = {.next_seq = 1, .discard_every = 3};
	struct ring_reader *r = reader_for(skel, &x);

	assert_int_equal(produce(skel, 1, 30, 3), 20);
	assert_int_equal(ring_reader__consume(r), 20);
	assert_int_equal(x.next_seq, 30); /* 30 was discarded: seen only by the next call */
	ring_reader__free(r);
}

/* A callback that stops (> 0) or fails (< 0): the next call resumes after that record. */
static void resumes_after_stop(void **state)
{
	struct ring_producer_bpf *skel = *state;
	struct expect x = {.stop_after = 5, .stop_ret = 1};
	struct ring_reader *r = reader_for(skel, &x);

	assert_int_equal(produce(skel, 0, 25, 0), 25);
	assert_int_equal(ring_reader__consume(r), 5);
	x.stop_after = 12;
	x.stop_ret = -EIO;
	assert_int_equal(ring_reader__consume(r), -EIO);
	assert_int_equal(x.next_seq, 12);
	assert_int_equal(ring_reader__consume(r), 13);
	assert_int_equal(x.records, 25);
	assert_int_equal(produce(skel, 25, 1, 0), 1);
	/* the producer sees only the new record unreleased: nothing older was held back */
	assert_int_equal(skel->bss->avail_after, (8 + ring_producer__size(25) + 7) & ~7u);
	assert_int_equal(ring_reader__consume(r), 1);
	ring_reader__free(r);
}

static void several_rings(void **state)
{
	struct ring_producer_bpf *a = *state, *b = ring_producer_bpf__open_and_load();
	struct expect xa = {0}, xb = {.next_seq = 100};
	struct ring_reader *r = reader_for(a, &xa);

	assert_non_null(b);
	assert_int_equal(ring_reader__add(r, bpf_map__fd(b->maps.rb), check_record, &xb), 0);
	assert_int_equal(produce(a, 0, 7, 0), 7);
	assert_int_equal(produce(b, 100, 9, 0), 9);
	assert_int_equal(ring_reader__poll(r, 0), 16);
	assert_int_equal(xa.records, 7);
	assert_int_equal(xb.records, 9);
	ring_reader__free(r);
	ring_producer_bpf__destroy(b);
}

static void refuses_other_maps(void **state)
{
	struct ring_reader *r = ring_reader__new();
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL);

	(void)state;
	assert_non_null(r);
	assert_true(fd >= 0);
	assert_int_equal(ring_reader__add(r, fd, check_record, NULL), -EINVAL);
	assert_true(ring_reader__add(r, -1, check_record, NULL) < 0); /* EBADF, EBADFD (6.x) */
	assert_int_equal(ring_reader__poll(r, 0), 0);
	close(fd);
	ring_reader__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(wraps_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(skips_discarded, setup, teardown),
		cmocka_unit_test_setup_teardown(resumes_after_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(several_rings, setup, teardown),
		cmocka_unit_test(refuses_other_maps),
	};
	int rc = tt_bpf_permitted();

	if (rc)
		return rc;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
