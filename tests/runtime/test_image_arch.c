/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The image builder with each architecture's table (runtime/arch.c), on
 * any host: an x86-64 and an aarch64 object are built side by side and
 * read back with the sdt core. Checked: e_machine, each argument spec
 * (the calling convention at the stub's entry, registers then the stack),
 * the stub bytes at every note's pc for every probe instruction choice,
 * and the trap padding up to the next stub.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/stapsdt.h>

#include "internal.h"

static const enum usdt_type mixed[USDT_MAX_ARGS] = {
	USDT_TYPE_INT32,  USDT_TYPE_STRING, USDT_TYPE_DOUBLE, USDT_TYPE_INT8,
	USDT_TYPE_UINT16, USDT_TYPE_INT64,  USDT_TYPE_INT32,  USDT_TYPE_STRING,
	USDT_TYPE_DOUBLE, USDT_TYPE_INT8,   USDT_TYPE_UINT64, USDT_TYPE_POINTER,
};

struct arch_case {
	const struct usdt_image_arch *arch;
	enum usdt_arch sdt_arch;
	const char *twelve; /* specs of a 12-argument probe of types mixed[] */
	const char *two;
	uint8_t stub[3][12]; /* USDT_NOP_1, _5, _10: bytes from the probe point */
	size_t stub_len[3], pre[3];
	uint8_t trap[4];
	size_t trap_len;
};

static const struct arch_case cases[] = {
	{
		&usdt_image_arch_x86_64,
		USDT_ARCH_X86_64,
		"-4@%edi 8@%rsi 8@%rdx -1@%cl 2@%r8w -8@%r9 -4@8(%rsp) 8@16(%rsp) 8@24(%rsp) "
		"-1@32(%rsp) 8@40(%rsp) 8@48(%rsp)",
		"-4@%edi 8@%rsi",
		{{0x90, 0xc3},
		 {0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3},
		 {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc3}},
		{2, 6, 11},
		{0, 0, 1},
		{0xcc},
		1,
	},
	{
		&usdt_image_arch_aarch64,
		USDT_ARCH_AARCH64,
		"-4@x0 8@x1 8@x2 -1@x3 2@x4 -8@x5 -4@x6 8@x7 8@[sp] -1@[sp, 8] 8@[sp, 16] "
		"8@[sp, 24]",
		"-4@x0 8@x1",
		{{0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6},
		 {0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6},
		 {0x1f, 0x20, 0x03, 0xd5, 0xc0, 0x03, 0x5f, 0xd6}},
		{8, 8, 8},
		{0, 0, 0},
		{0x00, 0x7d, 0x20, 0xd4},
		4,
	},
};

static void build_and_check(const struct arch_case *c, int nop_idx)
{
	static const int nops[3] = {USDT_NOP_1, USDT_NOP_5, USDT_NOP_10};
	struct usdt_probe twelve = {.argc = 12}, two = {.argc = 2}, none = {.argc = 0};
	struct usdt_probe *probes[] = {&twelve, &two, &none};
	struct image_desc desc = {"archtest", probes, 3, nops[nop_idx]};
	struct image_layout lay;
	struct usdt_notes *notes;
	uint8_t text[3 * STUB_STRIDE];
	int fd = memfd_create("archtest", MFD_CLOEXEC);

	assert_true(fd >= 0);
	strcpy(twelve.name, "twelve");
	strcpy(two.name, "two");
	strcpy(none.name, "none");
	memcpy(twelve.types, mixed, sizeof(mixed));
	memcpy(two.types, mixed, 2 * sizeof(mixed[0]));
	assert_int_equal(usdt_image__write_arch(fd, &desc, c->arch, &lay), 0);
	assert_int_equal(lay.probe_off, c->pre[nop_idx]);

	notes = usdt_notes__open_fd(fd, NULL);
	assert_non_null(notes);
	assert_int_equal(usdt_notes__arch(notes), c->sdt_arch);
	assert_int_equal(usdt_notes__count(notes), 3);
	assert_string_equal(usdt_notes__get(notes, 0)->args, c->twelve);
	assert_string_equal(usdt_notes__get(notes, 1)->args, c->two);
	assert_string_equal(usdt_notes__get(notes, 2)->args, "");

	/* Link-time addresses are file offsets: the stubs are at text_vaddr. */
	assert_int_equal(pread(fd, text, sizeof(text), (off_t)lay.text_vaddr), sizeof(text));
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *stub = text + i * STUB_STRIDE;
		size_t end = c->pre[nop_idx] + c->stub_len[nop_idx];

		assert_int_equal(usdt_notes__get(notes, i)->pc_addr,
				 lay.text_vaddr + i * STUB_STRIDE + c->pre[nop_idx]);
		assert_memory_equal(stub + c->pre[nop_idx], c->stub[nop_idx], c->stub_len[nop_idx]);
		for (size_t b = end; b < STUB_STRIDE; b++)
			assert_int_equal(stub[b], c->trap[b % c->trap_len]);
	}
	usdt_notes__free(notes);
	close(fd);
}

static void test_x86_64(void **state)
{
	(void)state;
	for (int n = 0; n < 3; n++)
		build_and_check(&cases[0], n);
}

static void test_aarch64(void **state)
{
	(void)state;
	for (int n = 0; n < 3; n++)
		build_and_check(&cases[1], n);
}

/* The spec of each argument position, as the convention says. */
static void test_operands(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(usdt_image_arch__operand(&usdt_image_arch_aarch64, 7, 4, buf, sizeof(buf)),
			 2);
	assert_string_equal(buf, "x7");
	usdt_image_arch__operand(&usdt_image_arch_aarch64, 8, 8, buf, sizeof(buf));
	assert_string_equal(buf, "[sp]");
	usdt_image_arch__operand(&usdt_image_arch_aarch64, 11, 1, buf, sizeof(buf));
	assert_string_equal(buf, "[sp, 24]");
	usdt_image_arch__operand(&usdt_image_arch_x86_64, 6, 8, buf, sizeof(buf));
	assert_string_equal(buf, "8(%rsp)");
	assert_int_equal(usdt_image_arch__operand(&usdt_image_arch_x86_64, 0, 3, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(usdt_image_arch__operand(&usdt_image_arch_aarch64, 9, 8, buf, 4),
			 -ENAMETOOLONG);
#if defined(__x86_64__)
	assert_ptr_equal(usdt_image_arch__native(), &usdt_image_arch_x86_64);
#elif defined(__aarch64__)
	assert_ptr_equal(usdt_image_arch__native(), &usdt_image_arch_aarch64);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_64),
		cmocka_unit_test(test_aarch64),
		cmocka_unit_test(test_operands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
