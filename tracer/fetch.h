/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Argument fetch descriptors, shared by BPF programs and user space.
 *
 * User space (engine.c) compiles each probe location's argument specs into
 * these small, fixed-size records; a generic BPF program (fetch.bpf.h)
 * interprets them at every hit. One record per location lives in an array
 * map indexed by the uprobe's BPF cookie, so a single program serves every
 * probe and every operand form, including those Debian's libbpf cannot
 * parse (SIB, sym(%rip)). Everything the BPF side needs is precomputed:
 * register offsets in struct pt_regs, rip-relative deltas, string slots.
 */
#ifndef USDTKIT_TRACER_FETCH_H
#define USDTKIT_TRACER_FETCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FETCH_MAX_ARGS 12
#define FETCH_NO_SLOT 0xff

enum fetch_kind {
	FETCH_NONE = 0,
	FETCH_CONST, /* value = val */
	FETCH_REG, /* value = register at base_off */
	FETCH_MEM, /* value = *(base + index << scale_shift + val) */
};

enum fetch_flags {
	FETCH_SIGNED = 1 << 0, /* sign-extend from size bytes */
	FETCH_BASE = 1 << 1, /* MEM: a base register is used */
	FETCH_INDEX = 1 << 2, /* MEM: an index register is used */
	FETCH_BASE_IP = 1 << 3, /* MEM: base is the probe address (rip-relative) */
	FETCH_STR = 1 << 4, /* the value is a char *: copy the string to str_slot */
	FETCH_FLOAT = 1 << 5, /* the spec says floating point ("8f@"): user space decodes it */
};

struct usdt_fetch {
	__s64 val; /* CONST: immediate; MEM: displacement (+ rip delta) */
	__u16 base_off; /* byte offset of the base/value register in pt_regs */
	__u16 index_off; /* byte offset of the index register in pt_regs */
	__u8 kind; /* enum fetch_kind */
	__u8 size; /* value size: 1, 2, 4, 8 */
	__u8 flags; /* enum fetch_flags */
	__u8 base_shift; /* 8 for %ah %bh %ch %dh, else 0 */
	__u8 base_size; /* width of the register named (truncate to it) */
	__u8 index_size;
	__u8 scale_shift; /* log2(scale) */
	__u8 str_slot; /* FETCH_STR: slot in the event's string area */
};

/* One attached probe location: what its cookie selects. */
struct usdt_loc_spec {
	__u32 probe_id; /* index of the probe (provider:name in one object) */
	__u16 nargs;
	__u16 nstr; /* string slots used */
	struct usdt_fetch args[FETCH_MAX_ARGS];
};

#endif
