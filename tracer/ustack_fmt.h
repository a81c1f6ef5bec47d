/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * User-space side of user stacks: putting the caller back at a
 * function-entry probe (ustack.h), and the three ways a symbolized stack
 * is printed:
 *  - text, as bpftrace prints ustack: one indented line per frame,
 *    innermost first, "        symbol+offset (object)";
 *  - JSON: an array of {"addr": "0x...", "symbol", "offset", "object"}
 *    (null where unknown), plus "file" and "line" where known;
 *  - folded, for flame graphs (flamegraph.pl, inferno): one line per
 *    distinct stack, frames outermost first joined by ';', then a space
 *    and the count. Equal lines are summed (ustack_folded), since one
 *    stack of two processes has two stack ids but one line.
 */
#ifndef USDTKIT_TRACER_USTACK_FMT_H
#define USDTKIT_TRACER_USTACK_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>

#include "json.h"
#include "symbolize.h"
#include "ustack.h"

/*
 * Puts @entry_ret in as the second frame of @ips (@n frames, room for
 * @cap) when @flags has USTACK_F_ENTRY and the kernel did not already
 * put it there. Drops the outermost frame when full. Returns the count.
 */
size_t ustack__merge_entry(uint64_t *ips, size_t n, size_t cap, uint32_t flags, uint64_t entry_ret);

/*
 * The frames of a ring record's stack (@depth: the ustack_depth it was
 * captured with) into @ips (room for @cap >= depth + 1: the entry frame
 * may add one), entry frame merged. Returns the count; 0 when the capture
 * failed (rec->nframes < 0: no user stack, e.g. -EFAULT).
 */
size_t ustack__from_rec(const struct ustack_rec *rec, unsigned int depth, uint64_t *ips,
			size_t cap);
/*
 * The same for a stack map value (@depth slots, unused ones zero) counted
 * under @key: copies it into @ips (room for @cap >= depth + 1). 0 when
 * the key holds a failed capture (stackid < 0, e.g. -EEXIST: the stack
 * map's bucket held another stack).
 */
size_t ustack__from_map(const uint64_t *value, unsigned int depth, const struct ustack_key *key,
			uint64_t *ips, size_t cap);

/*
 * The frames worth showing: up to, not including, the first frame after
 * the probe's that is not code (SYM_FRAME_NOT_CODE). Such an address is
 * what the kernel's frame-pointer walk returns once it has gone through
 * code built without frame pointers, and every later frame was read
 * through it, so nothing after it can be trusted. All printers below cut
 * there; the text and folded forms say so, JSON callers can compare
 * ustack__trim() with n (e.g. for a "ustack_truncated" field).
 */
size_t ustack__trim(const struct sym_frame *frames, size_t n);

/*
 * Text lines (each ends with '\n'), then, when cut, one line
 * "        [0x... is not code: frame pointers missing above]".
 * Returns 0 or -EIO on a write error.
 */
int ustack__write_text(FILE *out, const struct sym_frame *frames, size_t n);
/* One JSON array value (the caller writes the key, if any). */
void ustack__write_json(struct json_writer *w, const struct sym_frame *frames, size_t n);

/*
 * One frame as a folded-format name: the symbol, else "[object's file
 * name]", else "[unknown]"; ';' and control characters (which would split
 * frames or lines) become '_'. Returns the length it needs (as snprintf).
 */
size_t ustack__folded_name(const struct sym_frame *f, char *buf, size_t size);

/* Distinct folded stacks with summed counts. */
struct ustack_folded;

struct ustack_folded *ustack_folded__new(void);
void ustack_folded__free(struct ustack_folded *f);
/*
 * Adds @count hits of a stack (@frames innermost first). @root, when not
 * NULL, becomes the outermost frame (e.g. the probe or the command name).
 * A cut stack (ustack__trim) gets a "[truncated]" frame in place of what
 * was cut, so its hits stay visibly apart from complete stacks.
 * Returns 0 or -ENOMEM.
 */
int ustack_folded__add(struct ustack_folded *f, const char *root, const struct sym_frame *frames,
		       size_t n, uint64_t count);
/* Lines in byte order of the stack text. Returns 0 or -EIO. */
int ustack_folded__write(struct ustack_folded *f, FILE *out);
size_t ustack_folded__count(const struct ustack_folded *f); /* distinct stacks */

#endif
