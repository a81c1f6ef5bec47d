/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * BPF side of the argument engine: evaluates one struct usdt_fetch against
 * a uprobe's registers and the traced process's memory.
 *
 * Include after vmlinux.h and <bpf/bpf_helpers.h>. Programs using it must
 * be sleepable (SEC("uprobe.s")) unless USDT_FETCH_NOSLEEP is defined:
 * memory operands and strings are read with bpf_copy_from_user(), which
 * faults pages in, so a string literal in a page the process never touched
 * still reads correctly (bpf_probe_read_user() returns -EFAULT there).
 */
#ifndef USDTKIT_TRACER_FETCH_BPF_H
#define USDTKIT_TRACER_FETCH_BPF_H

#include "fetch.h"

/*
 * The compiled argument specs of every attached location, indexed by the
 * uprobe's BPF cookie. Every program of the engine has this one map; user
 * space sizes it before load and engine__attach() fills it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct usdt_loc_spec);
} locs SEC(".maps");

#ifdef USDT_FETCH_NOSLEEP
#define usdt__read_user bpf_probe_read_user
#else
#define usdt__read_user bpf_copy_from_user
#endif

/* Keeps the low @size bytes of @v (size 1, 2, 4 or 8), optionally sign-extended. */
static __always_inline __u64 usdt_fetch__extend(__u64 v, __u8 size, bool is_signed)
{
	switch (size) {
	case 1:
		return is_signed ? (__u64)(__s64)(__s8)v : (__u8)v;
	case 2:
		return is_signed ? (__u64)(__s64)(__s16)v : (__u16)v;
	case 4:
		return is_signed ? (__u64)(__s64)(__s32)v : (__u32)v;
	default:
		return v;
	}
}

/*
 * Register at byte offset @off of pt_regs. On x86-64 a switch of direct
 * context loads: the verifier only allows constant context offsets, and a
 * load costs far less than a bpf_probe_read_kernel() call.
 */
static __always_inline __u64 usdt_fetch__regval(struct pt_regs *ctx, __u16 off)
{
	__u64 v = 0;

#if defined(__TARGET_ARCH_x86)
#define USDT__REG(f)                                \
	case __builtin_offsetof(struct pt_regs, f): \
		return ctx->f
	switch (off) {
		USDT__REG(ax);
		USDT__REG(bx);
		USDT__REG(cx);
		USDT__REG(dx);
		USDT__REG(si);
		USDT__REG(di);
		USDT__REG(bp);
		USDT__REG(sp);
		USDT__REG(r8);
		USDT__REG(r9);
		USDT__REG(r10);
		USDT__REG(r11);
		USDT__REG(r12);
		USDT__REG(r13);
		USDT__REG(r14);
		USDT__REG(r15);
		USDT__REG(ip);
	default:
		break;
	}
#undef USDT__REG
#endif
	/* pt_regs offsets are computed in user space; bound them for the verifier */
	if (off > sizeof(struct pt_regs) - sizeof(__u64))
		return 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + off);
	return v;
}

static __always_inline __u64 usdt_fetch__reg(struct pt_regs *ctx, __u16 off, __u8 size, __u8 shift)
{
	__u64 v = usdt_fetch__regval(ctx, off);

	v >>= (shift & 63);
	return usdt_fetch__extend(v, size, false);
}

/*
 * Address of the probe that fired, for rip-relative operands. The kernel
 * points the saved instruction pointer at the probed instruction before
 * running uprobe handlers.
 */
static __always_inline __u64 usdt_fetch__probe_ip(struct pt_regs *ctx)
{
	return PT_REGS_IP(ctx);
}

/*
 * Evaluates @f. Stores the value (for FETCH_STR: the pointer) in *@out.
 * Returns 0 or a negative error of the memory read (*@out is then 0).
 */
static __always_inline long usdt_fetch__arg(struct pt_regs *ctx, const struct usdt_fetch *f,
					    __u64 ip, __u64 *out)
{
	__u64 v = 0, addr;
	__u32 sz;
	long err = 0;

	switch (f->kind) {
	case FETCH_CONST:
		v = f->val;
		break;
	case FETCH_REG:
		v = usdt_fetch__reg(ctx, f->base_off, f->base_size, f->base_shift);
		break;
	case FETCH_MEM:
		addr = f->val;
		if (f->flags & FETCH_BASE_IP)
			addr += ip;
		else if (f->flags & FETCH_BASE)
			addr += usdt_fetch__reg(ctx, f->base_off, f->base_size, 0);
		if (f->flags & FETCH_INDEX)
			addr += usdt_fetch__reg(ctx, f->index_off, f->index_size, 0)
				<< (f->scale_shift & 3);
		sz = f->size;
		if (sz > sizeof(v))
			sz = sizeof(v);
		err = usdt__read_user(&v, sz, (const void *)addr);
		if (err)
			v = 0;
		break;
	default:
		break;
	}
	*out = usdt_fetch__extend(v, f->size, f->flags & FETCH_SIGNED);
	return err;
}

/*
 * Copies the NUL-terminated string at @addr into @dst (@size bytes, a
 * power-of-two constant). Bytes after the terminator are unspecified; user
 * space looks for the NUL and flags the string truncated when there is
 * none. Returns 0, 1 when the string runs into an unmapped page (the part
 * before it is kept, NUL-terminated), or a negative error (-EFAULT: NULL).
 *
 * Fast path: a string shorter than the window in a page already present is
 * copied up to its NUL by bpf_probe_read_user_str(), which never reads past
 * it. A whole-window copy would often run into the unmapped page after
 * .rodata (a short literal near its end) and take a failing page fault,
 * which costs more than the rest of the hit. Otherwise (a page never
 * touched, or a string that fills the window) the whole window is copied
 * with a read that faults pages in; if it cannot be read (the string ends
 * just before an unmapped page), the part up to the end of its page is
 * read instead.
 */
static __always_inline long usdt_fetch__str(char *dst, __u32 size, __u64 addr)
{
	__u32 chunk;
	long err;

	if (!addr)
		return -14; /* -EFAULT: NULL pointer */
	err = bpf_probe_read_user_str(dst, size, (const void *)addr);
	if (err > 0 && err < size)
		return 0;
	err = usdt__read_user(dst, size, (const void *)addr);
	if (!err)
		return 0;
	chunk = 4096 - (addr & 4095);
	if (chunk >= size)
		return err;
	err = usdt__read_user(dst, chunk, (const void *)addr);
	if (err)
		return err;
	dst[chunk] = 0;
	return 1;
}

#endif
