/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Compiled --filter programs, shared by BPF programs (filter.bpf.h) and
 * user space (filter.c).
 *
 * Design. The tracer attaches one generic program to every probe location,
 * so a filter cannot be generated code: it is data the generic program
 * interprets. User space parses EXPR once and compiles it once per probe
 * (argument names and types differ between probes, and `probe` is a
 * constant there) into a struct filter_prog, stored in an array map
 * indexed by the probe id of the location's struct usdt_loc_spec.
 *
 * A program is a decision graph, as in classic BPF socket filters: every
 * instruction is one comparison with two successors (jt when it holds, jf
 * otherwise), each either a later instruction or a verdict. && || ! and
 * parentheses only shape the graph (short-circuit evaluation, ! swaps the
 * successors), so the interpreter needs no stack, jumps only forward and
 * executes at most one instruction per comparison of the expression.
 *
 * String comparisons (==, !=, =~ glob) all run one algorithm, a bit-parallel
 * glob automaton (shift-and): the pattern's positions are bits of a u64,
 * cls[c] has the positions a byte c may fill and star the positions a `*`
 * may stay at, so one step per byte of the string is
 *     D = ((D << 1) & cls[c]) | (D & star)
 * and the string matches when bit n is set at its end. That is one loop of
 * FILTER_STR_MAX iterations with no data-dependent branching other than the
 * end of the string, which every verifier (6.1 included) accepts and runs in
 * linear time with no backtracking, whatever the pattern.
 */
#ifndef USDTKIT_TRACER_FILTER_H
#define USDTKIT_TRACER_FILTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FILTER_MAX_INSNS 32 /* comparisons per program */
#define FILTER_MAX_PATS 4 /* distinct string literals/patterns per program */
#define FILTER_PAT_MAX 63 /* pattern positions (bytes other than `*`) */
#define FILTER_STR_MAX 128 /* bytes of a string the filter sees, with its NUL */
#define FILTER_COMM_LEN 16 /* TASK_COMM_LEN */
#define FILTER_NARGS 12 /* = FETCH_MAX_ARGS, USDT_MAX_ARGS */

/* Value indexes: what an instruction compares. */
enum filter_val {
	FILTER_VAL_ARG0 = 0, /* .. FILTER_VAL_ARG0 + FILTER_NARGS - 1 */
	FILTER_VAL_PID = FILTER_NARGS, /* process (tgid) */
	FILTER_VAL_TID, /* thread */
	FILTER_VAL_COMM, /* the thread's comm (string ops only) */
	FILTER_NVALS = 16, /* size of the value array (a power of two) */
};

/* Successors that are not instructions. */
#define FILTER_JMP_PASS 0xfe
#define FILTER_JMP_DROP 0xff

enum filter_op {
	FILTER_OP_EQ = 1, /* a == b */
	FILTER_OP_LT, /* (s64)a < (s64)b */
	FILTER_OP_LE, /* (s64)a <= (s64)b */
	FILTER_OP_LTU, /* a < b */
	FILTER_OP_LEU, /* a <= b */
	FILTER_OP_MATCH, /* the string at value a matches pattern pat */
};

enum filter_insn_flags {
	FILTER_F_BVAL = 1 << 0, /* integer ops: b is value index bval, not imm */
};

struct filter_insn {
	__u8 op; /* enum filter_op */
	__u8 a; /* enum filter_val */
	__u8 bval; /* FILTER_F_BVAL: second value */
	__u8 pat; /* FILTER_OP_MATCH: index in pats */
	__u8 flags; /* enum filter_insn_flags */
	__u8 jt; /* successor when the comparison holds */
	__u8 jf; /* successor otherwise */
	__u8 pad;
	__s64 imm; /* integer ops: b */
};

/* A glob pattern compiled to shift-and tables; n positions, bits 1..n. */
struct filter_pat {
	__u64 star; /* bit k: a `*` follows position k (it can absorb bytes there) */
	__u8 n; /* positions; the string matches when bit n is set at its end */
	__u8 pad[7];
	__u64 cls[256]; /* bit k: position k accepts byte c (bit 0 never set) */
};

struct filter_prog {
	__u8 start; /* first instruction, or a verdict for a constant filter */
	__u8 ninsns;
	__u8 npats;
	__u8 pad;
	__u32 need; /* bit i: the program may read value i (fetch only those) */
	struct filter_insn insns[FILTER_MAX_INSNS];
	struct filter_pat pats[FILTER_MAX_PATS];
};

/*
 * What a program is evaluated on. User space fills it the same way for its
 * reference evaluator, so tests can compare the two on identical inputs.
 */
struct filter_input {
	__u64 vals[FILTER_NVALS]; /* by enum filter_val; a string: its user address */
	char comm[FILTER_COMM_LEN]; /* NUL-padded */
	__u32 fault; /* bit i: vals[i] could not be read */
	__u32 pad;
};

/* Counters of filter_counts (filter.bpf.h), per CPU. */
enum filter_counter {
	FILTER_CNT_DROPPED = 0, /* hits the filter dropped */
	FILTER_CNT_FAULT, /* hits dropped because a value could not be read */
	FILTER_CNT__MAX,
};

/* Results of the interpreter and of the reference evaluator. */
enum filter_verdict {
	FILTER_DROP = 0,
	FILTER_PASS = 1,
	FILTER_FAULT = 2, /* a value the filter needs could not be read: dropped */
};

#endif
