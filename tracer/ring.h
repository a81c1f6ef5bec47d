/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Reader of BPF ring buffers that publishes its position once per batch
 * (see ring.c for why). Callbacks return 0 to go on, non-zero to stop the
 * current batch (a negative errno is passed back to the caller).
 */
#ifndef USDTKIT_TRACER_RING_H
#define USDTKIT_TRACER_RING_H

#include <stddef.h>

typedef int (*ring_record_fn)(void *ctx, const void *data, size_t size);

struct ring_reader;

struct ring_reader *ring_reader__new(void);
/* Maps the ring buffer map @map_fd; its records go to @fn(@ctx, ...). */
int ring_reader__add(struct ring_reader *r, int map_fd, ring_record_fn fn, void *ctx);
/*
 * Also wakes ring_reader__poll() when @fd is readable (an epoll fd of
 * other rings, say); nothing is read from it here.
 */
int ring_reader__add_fd(struct ring_reader *r, int fd);
/* Waits up to @timeout_ms for a wakeup, then consumes every ring. Returns records or -errno. */
long ring_reader__poll(struct ring_reader *r, int timeout_ms);
/* Consumes every committed record of every ring. Returns records or -errno. */
long ring_reader__consume(struct ring_reader *r);
void ring_reader__free(struct ring_reader *r);

#endif
