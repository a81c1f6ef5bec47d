// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Lowering of argument specs to fetch descriptors (see lower.h).
 *
 * Symbols: sym(%rip) and a bare symbol both become probe_ip + (sym + disp
 * - probe_vaddr), valid wherever the object is loaded; sym(%reg) only in
 * ET_EXEC objects, where link-time addresses are run-time addresses. The
 * aarch64 `[xN, #:lo12:sym]` form adds the low 12 bits of the symbol to the
 * page address the code computed (adrp): load biases are page-aligned.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lower.h"
#include "regs_arm64.h"

/* x86-64 struct pt_regs: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss */
static const signed char x86_64_slot[] = {
	[USDT_REG_X86_R15] = 0, [USDT_REG_X86_R14] = 1, [USDT_REG_X86_R13] = 2,
	[USDT_REG_X86_R12] = 3, [USDT_REG_X86_BP] = 4,	[USDT_REG_X86_BX] = 5,
	[USDT_REG_X86_R11] = 6, [USDT_REG_X86_R10] = 7, [USDT_REG_X86_R9] = 8,
	[USDT_REG_X86_R8] = 9,	[USDT_REG_X86_AX] = 10, [USDT_REG_X86_CX] = 11,
	[USDT_REG_X86_DX] = 12, [USDT_REG_X86_SI] = 13, [USDT_REG_X86_DI] = 14,
	[USDT_REG_X86_IP] = 16, [USDT_REG_X86_SP] = 19,
};

#define X86_64_PT_REGS_SIZE (21 * 8)

unsigned int lower__pt_regs_size(enum usdt_arch arch)
{
	switch (arch) {
	case USDT_ARCH_X86_64:
		return X86_64_PT_REGS_SIZE;
	case USDT_ARCH_AARCH64:
		return USDT_A64_USER_PT_REGS_SIZE;
	default:
		return 0;
	}
}

int lower__reg_offset(enum usdt_arch arch, enum usdt_reg reg)
{
	switch (arch) {
	case USDT_ARCH_X86_64:
		if (reg < USDT_REG_X86_AX || reg > USDT_REG_X86_IP)
			return -ENOTSUP;
		return x86_64_slot[reg] * 8;
	case USDT_ARCH_AARCH64:
		return usdt_regs_arm64_off(reg); /* regs_arm64.h: checked against <asm/ptrace.h> */
	default:
		return -ENOTSUP;
	}
}

static int scale_shift(unsigned int scale)
{
	switch (scale) {
	case 0:
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 2;
	case 8:
		return 3;
	default:
		return -EINVAL;
	}
}

static bool is_ip(const struct lower_site *site, enum usdt_reg reg)
{
	return site->arch == USDT_ARCH_X86_64 && reg == USDT_REG_X86_IP;
}

static int lower_mem(const struct lower_site *site, const struct usdt_arg_spec *a,
		     struct usdt_fetch *f)
{
	uint64_t sym = 0;
	int off, sh, err;

	f->kind = FETCH_MEM;
	f->val = a->disp;
	if (a->symbol[0]) {
		if (!site->symbol)
			return -ENOENT;
		err = site->symbol(site->symbol_ctx, a->symbol, &sym);
		if (err)
			return err < 0 ? err : -ENOENT;
	}
	if (a->reloc == USDT_RELOC_A64_LO12) {
		f->val = a->disp + (int64_t)(sym & 0xfff);
	} else if (a->reloc != USDT_RELOC_NONE) {
		return -ENOTSUP;
	} else if (is_ip(site, a->base) || (a->base == USDT_REG_NONE && a->symbol[0])) {
		f->flags |= FETCH_BASE_IP;
		/* without a symbol the displacement is taken relative to the probe */
		f->val =
			a->symbol[0] ? (int64_t)(sym + (uint64_t)a->disp - site->pc_addr) : a->disp;
	} else if (a->symbol[0]) {
		if (!site->exec)
			return -ENOTSUP;
		f->val += sym;
	}
	if (a->base != USDT_REG_NONE && !is_ip(site, a->base)) {
		off = lower__reg_offset(site->arch, a->base);
		if (off < 0)
			return off;
		f->flags |= FETCH_BASE;
		f->base_off = off;
		f->base_size = a->base_size ? a->base_size : 8;
	}
	if (a->index != USDT_REG_NONE) {
		off = lower__reg_offset(site->arch, a->index);
		sh = scale_shift(a->scale);
		if (off < 0 || sh < 0)
			return off < 0 ? off : sh;
		f->flags |= FETCH_INDEX;
		f->index_off = off;
		f->index_size = a->index_size ? a->index_size : 8;
		f->scale_shift = sh;
	}
	return 0;
}

int lower__arg(const struct lower_site *site, const struct usdt_arg_spec *a, struct usdt_fetch *f)
{
	int off;

	memset(f, 0, sizeof(*f));
	f->str_slot = FETCH_NO_SLOT;
	if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
		return -EINVAL;
	f->size = a->size;
	if (a->is_signed)
		f->flags |= FETCH_SIGNED;
	if (a->is_float)
		f->flags |= FETCH_FLOAT;
	switch (a->kind) {
	case USDT_OPERAND_CONST:
		f->kind = FETCH_CONST;
		f->val = a->imm;
		return 0;
	case USDT_OPERAND_REG:
		off = lower__reg_offset(site->arch, a->base);
		if (off < 0)
			return off;
		f->kind = FETCH_REG;
		f->base_off = off;
		f->base_size = a->base_size ? a->base_size : 8;
		f->base_shift = a->base_high8 ? 8 : 0;
		return 0;
	case USDT_OPERAND_MEM:
		return lower_mem(site, a, f);
	default:
		return -EINVAL;
	}
}
