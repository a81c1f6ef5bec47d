/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Where each aarch64 register that an argument spec can name lives in the
 * kernel's arm64 struct pt_regs, for lowering specs to fetch descriptors.
 *
 * arm64 struct pt_regs begins with the uapi struct user_pt_regs:
 *
 *	u64 regs[31];	x0..x30	  offsets 0..240
 *	u64 sp;			  248
 *	u64 pc;			  256
 *	u64 pstate;		  264
 *
 * The offsets are written out here rather than taken from <asm/ptrace.h>,
 * so the lowering does not depend on the host's headers: an x86-64 build
 * can lower (and test) aarch64 specs. tests/arch/test_regs_arm64.c checks
 * the table against the arm64 <asm/ptrace.h> when compiled for aarch64.
 * The v (SIMD/FP) registers are not in pt_regs: a spec naming one cannot
 * be fetched from a uprobe's context.
 */
#ifndef USDTKIT_TRACER_REGS_ARM64_H
#define USDTKIT_TRACER_REGS_ARM64_H

#include <errno.h>

#include <usdtkit/stapsdt.h>

#define USDT_A64_PT_REGS_X0 0
#define USDT_A64_PT_REGS_SP 248
#define USDT_A64_PT_REGS_PC 256
#define USDT_A64_PT_REGS_PSTATE 264
#define USDT_A64_USER_PT_REGS_SIZE 272

/* Indexed by reg - USDT_REG_A64_X0: x0..x30, then sp (enum order). */
static const short usdt_regs_arm64[USDT_REG_A64_SP - USDT_REG_A64_X0 + 1] = {
	0,   8,	  16,  24,  32,	 40,  48,  56,
	64,  72,  80,  88,  96,	 104, 112, 120,
	128, 136, 144, 152, 160, 168, 176, 184,
	192, 200, 208, 216, 224, 232, 240, USDT_A64_PT_REGS_SP,
};

_Static_assert(USDT_REG_A64_X30 - USDT_REG_A64_X0 == 30 && USDT_REG_A64_SP == USDT_REG_A64_X30 + 1,
	       "usdt_regs_arm64 follows enum usdt_reg's x0..x30, sp order");
_Static_assert(sizeof(usdt_regs_arm64) / sizeof(usdt_regs_arm64[0]) == 32,
	       "31 general registers and sp");

/* Byte offset of @reg in arm64 struct pt_regs; -ENOTSUP when it is not there. */
static inline int usdt_regs_arm64_off(enum usdt_reg reg)
{
	if (reg < USDT_REG_A64_X0 || reg > USDT_REG_A64_SP)
		return -ENOTSUP;
	return usdt_regs_arm64[reg - USDT_REG_A64_X0];
}

#endif /* USDTKIT_TRACER_REGS_ARM64_H */
