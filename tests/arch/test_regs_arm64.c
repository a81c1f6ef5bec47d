/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * tracer/regs_arm64.h against the real layout: compiled for aarch64 (the
 * cross stage, run under qemu-user), every offset is compared with
 * offsetof() in the arm64 uapi struct user_pt_regs of <asm/ptrace.h>; on
 * other hosts, with a mirror of that struct written from the uapi text.
 * Either way the registers that pt_regs lacks (v0..v31) and other
 * architectures' registers are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "regs_arm64.h"

#if defined(__aarch64__)
#include <asm/ptrace.h>
typedef struct user_pt_regs a64_regs;
#define A64_LAYOUT "<asm/ptrace.h>"
#else
typedef struct {
	uint64_t regs[31];
	uint64_t sp;
	uint64_t pc;
	uint64_t pstate;
} a64_regs;
#define A64_LAYOUT "mirror of the arm64 uapi"
#endif

static void test_general_registers(void **state)
{
	(void)state;
	for (int i = 0; i <= 30; i++)
		assert_int_equal(usdt_regs_arm64_off(USDT_REG_A64_X0 + i),
				 offsetof(a64_regs, regs) +
					 (size_t)i * sizeof(((a64_regs *)0)->regs[0]));
	assert_int_equal(usdt_regs_arm64_off(USDT_REG_A64_X30), 240);
}

static void test_sp_pc_pstate(void **state)
{
	(void)state;
	assert_int_equal(usdt_regs_arm64_off(USDT_REG_A64_SP), offsetof(a64_regs, sp));
	assert_int_equal(USDT_A64_PT_REGS_SP, offsetof(a64_regs, sp));
	assert_int_equal(USDT_A64_PT_REGS_PC, offsetof(a64_regs, pc));
	assert_int_equal(USDT_A64_PT_REGS_PSTATE, offsetof(a64_regs, pstate));
	assert_int_equal(USDT_A64_USER_PT_REGS_SIZE, sizeof(a64_regs));
}

static void test_refused(void **state)
{
	(void)state;
	for (int i = 0; i <= 31; i++)
		assert_int_equal(usdt_regs_arm64_off(USDT_REG_A64_V0 + i), -ENOTSUP);
	assert_int_equal(usdt_regs_arm64_off(USDT_REG_NONE), -ENOTSUP);
	assert_int_equal(usdt_regs_arm64_off(USDT_REG_X86_DI), -ENOTSUP);
	assert_int_equal(usdt_regs_arm64_off(USDT_REG_X86_XMM15), -ENOTSUP);
	assert_int_equal(usdt_regs_arm64_off(USDT_REG__MAX), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_general_registers),
		cmocka_unit_test(test_sp_pc_pstate),
		cmocka_unit_test(test_refused),
	};

	print_message("layout checked against the %s\n", A64_LAYOUT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
