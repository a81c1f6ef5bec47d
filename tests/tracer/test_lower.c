// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Unit tests of lowering (tracer/lower.h): argument specs, parsed by the
 * sdt core from their text, become the fetch descriptors the BPF program
 * evaluates. Both architectures are checked on any machine.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lower.h"

#define PC 0x401000ull

static int symbols(void *ctx, const char *name, uint64_t *vaddr)
{
	if (!strcmp(name, "counter")) {
		*vaddr = 0x404020;
		return 0;
	}
	if (!strcmp(name, ".LANCHOR2")) {
		*vaddr = 0x21abc;
		return 0;
	}
	return -ENOENT;
}

static int lower(enum usdt_arch arch, bool exec, const char *text, struct usdt_fetch *f)
{
	struct lower_site site = {arch, PC, exec, symbols, NULL};
	struct usdt_arg_spec a;

	assert_true(usdt_arg_spec__parse(&a, text, strlen(text), arch, NULL) >= 0);
	return lower__arg(&site, &a, f);
}

static void test_reg_offsets(void **state)
{
	/* the kernel's x86-64 struct pt_regs: r15 first, ss last */
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_R15), 0);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_BP), 32);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_AX), 80);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_DI), 112);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_IP), 128);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_SP), 152);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_X86_XMM0), -ENOTSUP);
	assert_int_equal(lower__reg_offset(USDT_ARCH_X86_64, USDT_REG_A64_X0), -ENOTSUP);
	assert_int_equal(lower__pt_regs_size(USDT_ARCH_X86_64), 168);
	assert_int_equal(lower__pt_regs_size(USDT_ARCH_AARCH64), 272);
	/* arm64: regs[31], sp, pc, pstate */
	assert_int_equal(lower__reg_offset(USDT_ARCH_AARCH64, USDT_REG_A64_X0), 0);
	assert_int_equal(lower__reg_offset(USDT_ARCH_AARCH64, USDT_REG_A64_X0 + 21), 168);
	assert_int_equal(lower__reg_offset(USDT_ARCH_AARCH64, USDT_REG_A64_X30), 240);
	assert_int_equal(lower__reg_offset(USDT_ARCH_AARCH64, USDT_REG_A64_SP), 248);
	assert_int_equal(lower__reg_offset(USDT_ARCH_AARCH64, USDT_REG_A64_V0), -ENOTSUP);
	assert_int_equal(lower__reg_offset(USDT_ARCH_AARCH64, USDT_REG_X86_AX), -ENOTSUP);
}

static void test_x86_64(void **state)
{
	struct usdt_fetch f;

	assert_int_equal(lower(USDT_ARCH_X86_64, false, "-4@$-7", &f), 0);
	assert_int_equal(f.kind, FETCH_CONST);
	assert_int_equal(f.val, -7);
	assert_true(f.flags & FETCH_SIGNED);
	assert_int_equal(f.str_slot, FETCH_NO_SLOT);

	assert_int_equal(lower(USDT_ARCH_X86_64, false, "4@%ecx", &f), 0);
	assert_int_equal(f.kind, FETCH_REG);
	assert_int_equal(f.base_off, 88);
	assert_int_equal(f.base_size, 4);
	assert_int_equal(f.size, 4);
	assert_false(f.flags & FETCH_SIGNED);

	assert_int_equal(lower(USDT_ARCH_X86_64, false, "1@%ah", &f), 0);
	assert_int_equal(f.base_off, 80);
	assert_int_equal(f.base_shift, 8);
	assert_int_equal(f.base_size, 1);

	assert_int_equal(lower(USDT_ARCH_X86_64, false, "8@-16(%rbp)", &f), 0);
	assert_int_equal(f.kind, FETCH_MEM);
	assert_int_equal(f.flags & (FETCH_BASE | FETCH_INDEX | FETCH_BASE_IP), FETCH_BASE);
	assert_int_equal(f.base_off, 32);
	assert_int_equal(f.val, -16);

	assert_int_equal(lower(USDT_ARCH_X86_64, false, "1@-96(%rbp,%rax,8)", &f), 0);
	assert_int_equal(f.flags & (FETCH_BASE | FETCH_INDEX), FETCH_BASE | FETCH_INDEX);
	assert_int_equal(f.index_off, 80);
	assert_int_equal(f.scale_shift, 3);
	assert_int_equal(f.val, -96);

	/* rip-relative: a delta from the probe, valid at any load address */
	assert_int_equal(lower(USDT_ARCH_X86_64, false, "-4@counter(%rip)", &f), 0);
	assert_true(f.flags & FETCH_BASE_IP);
	assert_int_equal(f.val, 0x404020 - PC);
	assert_int_equal(lower(USDT_ARCH_X86_64, false, "-4@40+counter(%rip)", &f), 0);
	assert_int_equal(f.val, 0x404020 + 40 - PC);
	assert_int_equal(lower(USDT_ARCH_X86_64, false, "8@missing(%rip)", &f), -ENOENT);
	/* sym(%reg): only where link-time addresses are run-time addresses */
	assert_int_equal(lower(USDT_ARCH_X86_64, false, "8@counter(%rbx)", &f), -ENOTSUP);
	assert_int_equal(lower(USDT_ARCH_X86_64, true, "8@counter(%rbx)", &f), 0);
	assert_int_equal(f.val, 0x404020);
	assert_int_equal(f.base_off, 40);

	assert_int_equal(lower(USDT_ARCH_X86_64, false, "8f@%xmm1", &f), -ENOTSUP);
	assert_int_equal(lower(USDT_ARCH_X86_64, false, "8f@-8(%rbp)", &f), 0);
	assert_true(f.flags & FETCH_FLOAT);
}

static void test_aarch64(void **state)
{
	struct usdt_fetch f;

	assert_int_equal(lower(USDT_ARCH_AARCH64, false, "8@x3", &f), 0);
	assert_int_equal(f.kind, FETCH_REG);
	assert_int_equal(f.base_off, 24);
	assert_int_equal(lower(USDT_ARCH_AARCH64, false, "-4@w5", &f), 0);
	assert_int_equal(f.base_off, 40);
	assert_int_equal(f.base_size, 4);

	assert_int_equal(lower(USDT_ARCH_AARCH64, false, "-4@[sp, 12]", &f), 0);
	assert_int_equal(f.kind, FETCH_MEM);
	assert_int_equal(f.base_off, 248);
	assert_int_equal(f.val, 12);

	assert_int_equal(lower(USDT_ARCH_AARCH64, false, "4@[x21, #:lo12:.LANCHOR2]", &f), 0);
	assert_int_equal(f.base_off, 168);
	assert_int_equal(f.val, 0xabc);
	/* aarch64 has no instruction-pointer base: x86's %rip rule must not apply */
	assert_false(f.flags & FETCH_BASE_IP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reg_offsets),
		cmocka_unit_test(test_x86_64),
		cmocka_unit_test(test_aarch64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
