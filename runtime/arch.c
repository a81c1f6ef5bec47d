/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * One table per architecture for the runtime's stubs and argument specs
 * (see arch.h). Adding an architecture is adding a table here.
 *
 * x86-64: SysV ABI, six argument registers, then the stack just above the
 * return address (8(%rsp) at entry). Three probe instructions: the 1-byte
 * nop traps everywhere, the 5-byte nop is what 6.18+ kernels optimize into
 * a call (detect.c), the 10-byte form sits behind a 1-byte nop.
 *
 * aarch64: AAPCS64, x0..x7, then the stack from [sp] at entry (the return
 * address is in x30, not on the stack). Every argument is passed as a
 * 64-bit value (the stubs are called with uint64_t arguments), so a spec
 * names the x register whatever the size, as GCC's sys/sdt.h specs do; the
 * size prefix tells readers how much of it counts. Only one probe
 * instruction exists: arm64 kernels have no uprobe-to-call rewrite like
 * x86-64's; a uprobe always replaces the instruction with a BRK. What
 * makes the hit cheaper is the instruction under it: since late 2024
 * arch/arm64/kernel/probes/decode-insn.c simulates the exact NOP encoding
 * (d503201f) in the BRK handler instead of single-stepping it out of line
 * (one trap instead of two). Any other nop-like hint would lose that, so
 * every USDT_NOP_* choice gets the same `nop; ret`.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>

#include <usdtkit/provider.h>

#include "arch.h"

const struct usdt_image_arch usdt_image_arch_x86_64 = {
	.name = "x86-64",
	.machine = EM_X86_64,
	.trap = {0xcc},
	.trap_len = 1,
	.forms =
		{
			[USDT_ARCH_FORM_1] = {2, 0, {0x90, 0xc3}},
			[USDT_ARCH_FORM_5] = {6, 0, {0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3}},
			[USDT_ARCH_FORM_10] = {12,
					       1,
					       {0x90, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00,
						0x00, 0x00, 0x00, 0xc3}},
		},
	.reg_prefix = "%",
	.nregs = 6,
	.regs =
		{
			{"dil", "di", "edi", "rdi"},
			{"sil", "si", "esi", "rsi"},
			{"dl", "dx", "edx", "rdx"},
			{"cl", "cx", "ecx", "rcx"},
			{"r8b", "r8w", "r8d", "r8"},
			{"r9b", "r9w", "r9d", "r9"},
		},
	.stack_first = 8,
	.stack_pre = "",
	.stack_post = "(%rsp)",
	.stack_zero = NULL,
};

/* nop = d503201f, ret = d65f03c0, brk #0x3e8 (GCC's __builtin_trap) = d4207d00 */
#define A64_NOP_RET                                            \
	{                                                      \
		0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6 \
	}

const struct usdt_image_arch usdt_image_arch_aarch64 = {
	.name = "aarch64",
	.machine = EM_AARCH64,
	.trap = {0x00, 0x7d, 0x20, 0xd4},
	.trap_len = 4,
	.forms =
		{
			[USDT_ARCH_FORM_1] = {8, 0, A64_NOP_RET},
			[USDT_ARCH_FORM_5] = {8, 0, A64_NOP_RET},
			[USDT_ARCH_FORM_10] = {8, 0, A64_NOP_RET},
		},
	.reg_prefix = "",
	.nregs = 8,
	.regs =
		{
			{"x0", "x0", "x0", "x0"},
			{"x1", "x1", "x1", "x1"},
			{"x2", "x2", "x2", "x2"},
			{"x3", "x3", "x3", "x3"},
			{"x4", "x4", "x4", "x4"},
			{"x5", "x5", "x5", "x5"},
			{"x6", "x6", "x6", "x6"},
			{"x7", "x7", "x7", "x7"},
		},
	.stack_first = 0,
	.stack_pre = "[sp, ",
	.stack_post = "]",
	.stack_zero = "[sp]",
};

const struct usdt_image_arch *usdt_image_arch__native(void)
{
#if defined(__x86_64__)
	return &usdt_image_arch_x86_64;
#elif defined(__aarch64__)
	return &usdt_image_arch_aarch64;
#else
	return NULL;
#endif
}

const struct usdt_stub_form *usdt_image_arch__form(const struct usdt_image_arch *arch, int nop)
{
	switch (nop) {
	case USDT_NOP_5:
		return &arch->forms[USDT_ARCH_FORM_5];
	case USDT_NOP_10:
		return &arch->forms[USDT_ARCH_FORM_10];
	default:
		return &arch->forms[USDT_ARCH_FORM_1];
	}
}

int usdt_image_arch__operand(const struct usdt_image_arch *arch, int i, int size, char *buf,
			     size_t len)
{
	static const int size_idx[9] = {[1] = 0, [2] = 1, [4] = 2, [8] = 3};
	int off, n;

	if (i < 0 || (size != 1 && size != 2 && size != 4 && size != 8))
		return -EINVAL;
	if (i < arch->nregs) {
		n = snprintf(buf, len, "%s%s", arch->reg_prefix, arch->regs[i][size_idx[size]]);
	} else {
		off = arch->stack_first + 8 * (i - arch->nregs);
		if (!off && arch->stack_zero)
			n = snprintf(buf, len, "%s", arch->stack_zero);
		else
			n = snprintf(buf, len, "%s%d%s", arch->stack_pre, off, arch->stack_post);
	}
	return n >= 0 && (size_t)n < len ? n : -ENAMETOOLONG;
}
