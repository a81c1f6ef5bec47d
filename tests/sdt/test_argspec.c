/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Argument-spec parser and printer: every operand form of x86-64, i386
 * and aarch64 with every field of the result checked and printed back,
 * the malformed specs with their exact error codes (each also fed as an
 * exactly-sized heap buffer so ASan catches an over-read), whole args
 * strings, and every spec found in the real binaries of a Debian system.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <usdtkit/stapsdt.h>

#define X64 USDT_ARCH_X86_64
#define X86 USDT_ARCH_X86
#define A64 USDT_ARCH_AARCH64

#define CONST USDT_OPERAND_CONST
#define REG USDT_OPERAND_REG
#define MEM USDT_OPERAND_MEM

#define R(x) USDT_REG_X86_##x
#define XMM(n) (USDT_REG_X86_XMM0 + (n))
#define AX(n) (USDT_REG_A64_X0 + (n))
#define AV(n) (USDT_REG_A64_V0 + (n))

#define HEX USDT_SPEC_HEX
#define OFF1 USDT_SPEC_OFF_FIRST
#define HASH USDT_SPEC_A64_HASH
#define ZERO USDT_SPEC_EXPLICIT_ZERO
#define SC1 USDT_SPEC_SCALE1
#define U64 USDT_SPEC_U64

struct good {
	enum usdt_arch arch;
	const char *text;
	struct usdt_arg_spec want;
};

/* Parses @len bytes from an exactly-sized heap copy (no terminator). */
static int parse_exact(struct usdt_arg_spec *spec, const char *text, size_t len,
		       enum usdt_arch arch, struct usdt_parse_error *err)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, text, len);
	ret = usdt_arg_spec__parse(spec, copy, len, arch, err);
	free(copy);
	return ret;
}

static void check_fields(const struct usdt_arg_spec *got, const struct usdt_arg_spec *want,
			 const char *text)
{
	print_message("  %s\n", text);
	assert_int_equal(got->size, want->size);
	assert_int_equal(got->is_signed, want->is_signed);
	assert_int_equal(got->is_float, want->is_float);
	assert_int_equal(got->kind, want->kind);
	assert_int_equal(got->imm, want->imm);
	assert_int_equal(got->base, want->base);
	assert_int_equal(got->base_size, want->base_size);
	assert_int_equal(got->base_high8, want->base_high8);
	assert_int_equal(got->index, want->index);
	assert_int_equal(got->index_size, want->index_size);
	assert_int_equal(got->scale, want->scale);
	assert_int_equal(got->disp, want->disp);
	assert_int_equal(got->reloc, want->reloc);
	assert_int_equal(got->flags, want->flags);
	assert_string_equal(got->symbol, want->symbol);
}

/* Parse (exact buffer), print back to the same text, re-parse the same. */
static void check_round_trip(const char *text, enum usdt_arch arch, struct usdt_arg_spec *out)
{
	struct usdt_arg_spec spec, again;
	struct usdt_parse_error err = {0, NULL};
	char buf[USDT_SPEC_TEXT_MAX];
	int ret, n;

	ret = parse_exact(&spec, text, strlen(text), arch, &err);
	if (ret)
		fail_msg("'%s' (arch %d): error %d at %zu: %s", text, arch, ret, err.pos,
			 err.msg ? err.msg : "?");
	n = usdt_arg_spec__print(&spec, arch, buf, sizeof(buf));
	assert_int_equal(n, strlen(text));
	assert_string_equal(buf, text);
	assert_int_equal(usdt_arg_spec__parse(&again, buf, (size_t)n, arch, NULL), 0);
	assert_memory_equal(&spec, &again, sizeof(spec));
	if (out)
		*out = spec;
}

static const struct good good_specs[] = {
	/* x86-64 registers at every width */
	{X64, "8@%rax", {.size = 8, .kind = REG, .base = R(AX), .base_size = 8}},
	{X64,
	 "-4@%eax",
	 {.size = 4, .is_signed = true, .kind = REG, .base = R(AX), .base_size = 4}},
	{X64, "2@%ax", {.size = 2, .kind = REG, .base = R(AX), .base_size = 2}},
	{X64, "1@%al", {.size = 1, .kind = REG, .base = R(AX), .base_size = 1}},
	{X64, "1@%ah", {.size = 1, .kind = REG, .base = R(AX), .base_size = 1, .base_high8 = true}},
	{X64, "1@%bh", {.size = 1, .kind = REG, .base = R(BX), .base_size = 1, .base_high8 = true}},
	{X64,
	 "-1@%ch",
	 {.size = 1,
	  .is_signed = true,
	  .kind = REG,
	  .base = R(CX),
	  .base_size = 1,
	  .base_high8 = true}},
	{X64, "1@%dh", {.size = 1, .kind = REG, .base = R(DX), .base_size = 1, .base_high8 = true}},
	{X64, "8@%rbx", {.size = 8, .kind = REG, .base = R(BX), .base_size = 8}},
	{X64, "4@%ecx", {.size = 4, .kind = REG, .base = R(CX), .base_size = 4}},
	{X64, "2@%dx", {.size = 2, .kind = REG, .base = R(DX), .base_size = 2}},
	{X64, "8@%rsi", {.size = 8, .kind = REG, .base = R(SI), .base_size = 8}},
	{X64, "4@%edi", {.size = 4, .kind = REG, .base = R(DI), .base_size = 4}},
	{X64, "8@%rbp", {.size = 8, .kind = REG, .base = R(BP), .base_size = 8}},
	{X64, "4@%esp", {.size = 4, .kind = REG, .base = R(SP), .base_size = 4}},
	{X64, "1@%sil", {.size = 1, .kind = REG, .base = R(SI), .base_size = 1}},
	{X64, "1@%dil", {.size = 1, .kind = REG, .base = R(DI), .base_size = 1}},
	{X64, "1@%bpl", {.size = 1, .kind = REG, .base = R(BP), .base_size = 1}},
	{X64, "1@%spl", {.size = 1, .kind = REG, .base = R(SP), .base_size = 1}},
	{X64, "8@%r8", {.size = 8, .kind = REG, .base = R(R8), .base_size = 8}},
	{X64,
	 "-4@%r8d",
	 {.size = 4, .is_signed = true, .kind = REG, .base = R(R8), .base_size = 4}},
	{X64, "2@%r8w", {.size = 2, .kind = REG, .base = R(R8), .base_size = 2}},
	{X64, "1@%r8b", {.size = 1, .kind = REG, .base = R(R8), .base_size = 1}},
	{X64, "8@%r15", {.size = 8, .kind = REG, .base = R(R15), .base_size = 8}},
	{X64,
	 "-1@%r15b",
	 {.size = 1, .is_signed = true, .kind = REG, .base = R(R15), .base_size = 1}},
	{X64, "8@%rip", {.size = 8, .kind = REG, .base = R(IP), .base_size = 8}},
	{X64,
	 "8f@%xmm1",
	 {.size = 8, .is_float = true, .kind = REG, .base = XMM(1), .base_size = 16}},
	{X64,
	 "-4f@%xmm15",
	 {.size = 4,
	  .is_signed = true,
	  .is_float = true,
	  .kind = REG,
	  .base = XMM(15),
	  .base_size = 16}},
	{X64, "8@%xmm0", {.size = 8, .kind = REG, .base = XMM(0), .base_size = 16}},
	/* constants */
	{X64, "-4@$5", {.size = 4, .is_signed = true, .kind = CONST, .imm = 5}},
	{X64, "4@$-1", {.size = 4, .kind = CONST, .imm = -1}},
	{X64, "8@$0", {.size = 8, .kind = CONST, .imm = 0}},
	{X64, "8@$0x10", {.size = 8, .kind = CONST, .imm = 16, .flags = HEX}},
	{X64, "8@$-0x10", {.size = 8, .kind = CONST, .imm = -16, .flags = HEX}},
	{X64,
	 "-8@$9223372036854775807",
	 {.size = 8, .is_signed = true, .kind = CONST, .imm = INT64_MAX}},
	{X64,
	 "-8@$-9223372036854775808",
	 {.size = 8, .is_signed = true, .kind = CONST, .imm = INT64_MIN}},
	{X64, "8@$-0x8000000000000000", {.size = 8, .kind = CONST, .imm = INT64_MIN, .flags = HEX}},
	/* base + displacement */
	{X64, "8@-16(%rbp)", {.size = 8, .kind = MEM, .base = R(BP), .base_size = 8, .disp = -16}},
	{X64, "8@(%rsp)", {.size = 8, .kind = MEM, .base = R(SP), .base_size = 8}},
	{X64,
	 "-4@112(%rsp)",
	 {.size = 4, .is_signed = true, .kind = MEM, .base = R(SP), .base_size = 8, .disp = 112}},
	{X64, "8@0(%rbp)", {.size = 8, .kind = MEM, .base = R(BP), .base_size = 8, .flags = ZERO}},
	{X64,
	 "8@0x18(%r12)",
	 {.size = 8, .kind = MEM, .base = R(R12), .base_size = 8, .disp = 24, .flags = HEX}},
	{X64,
	 "8@-0x18(%r12)",
	 {.size = 8, .kind = MEM, .base = R(R12), .base_size = 8, .disp = -24, .flags = HEX}},
	{X64, "4@8(%eax)", {.size = 4, .kind = MEM, .base = R(AX), .base_size = 4, .disp = 8}},
	/* SIB */
	{X64,
	 "1@-96(%rbp,%rax,8)",
	 {.size = 1,
	  .kind = MEM,
	  .base = R(BP),
	  .base_size = 8,
	  .index = R(AX),
	  .index_size = 8,
	  .scale = 8,
	  .disp = -96}},
	{X64,
	 "8@(%rdx,%rcx)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(DX),
	  .base_size = 8,
	  .index = R(CX),
	  .index_size = 8,
	  .scale = 1}},
	{X64,
	 "8@(%rdx,%rcx,1)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(DX),
	  .base_size = 8,
	  .index = R(CX),
	  .index_size = 8,
	  .scale = 1,
	  .flags = SC1}},
	{X64,
	 "8@(%rdx,%r9,2)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(DX),
	  .base_size = 8,
	  .index = R(R9),
	  .index_size = 8,
	  .scale = 2}},
	{X64, "4@(,%rax,4)", {.size = 4, .kind = MEM, .index = R(AX), .index_size = 8, .scale = 4}},
	{X64,
	 "8@8(,%rdi,2)",
	 {.size = 8, .kind = MEM, .index = R(DI), .index_size = 8, .scale = 2, .disp = 8}},
	{X64, "8@(,%rdi)", {.size = 8, .kind = MEM, .index = R(DI), .index_size = 8, .scale = 1}},
	{X64,
	 "4@(%esp,%ebx,4)",
	 {.size = 4,
	  .kind = MEM,
	  .base = R(SP),
	  .base_size = 4,
	  .index = R(BX),
	  .index_size = 4,
	  .scale = 4}},
	{X64,
	 "8@sym(%rax,%rbx,8)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(AX),
	  .base_size = 8,
	  .index = R(BX),
	  .index_size = 8,
	  .scale = 8,
	  .symbol = "sym"}},
	/* rip-relative */
	{X64,
	 "-4@NBuffers(%rip)",
	 {.size = 4,
	  .is_signed = true,
	  .kind = MEM,
	  .base = R(IP),
	  .base_size = 8,
	  .symbol = "NBuffers"}},
	{X64,
	 "-4@40+CheckpointStats(%rip)",
	 {.size = 4,
	  .is_signed = true,
	  .kind = MEM,
	  .base = R(IP),
	  .base_size = 8,
	  .disp = 40,
	  .flags = OFF1,
	  .symbol = "CheckpointStats"}},
	{X64,
	 "8@-8+sym(%rip)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(IP),
	  .base_size = 8,
	  .disp = -8,
	  .flags = OFF1,
	  .symbol = "sym"}},
	{X64,
	 "8@0+sym(%rip)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(IP),
	  .base_size = 8,
	  .flags = OFF1 | ZERO,
	  .symbol = "sym"}},
	{X64,
	 "8@sym+40(%rip)",
	 {.size = 8, .kind = MEM, .base = R(IP), .base_size = 8, .disp = 40, .symbol = "sym"}},
	{X64,
	 "8@sym-8(%rip)",
	 {.size = 8, .kind = MEM, .base = R(IP), .base_size = 8, .disp = -8, .symbol = "sym"}},
	{X64,
	 "8@sym+0(%rip)",
	 {.size = 8, .kind = MEM, .base = R(IP), .base_size = 8, .flags = ZERO, .symbol = "sym"}},
	{X64,
	 "8@sym+0x28(%rip)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(IP),
	  .base_size = 8,
	  .disp = 40,
	  .flags = HEX,
	  .symbol = "sym"}},
	{X64,
	 "8@.LC0(%rip)",
	 {.size = 8, .kind = MEM, .base = R(IP), .base_size = 8, .symbol = ".LC0"}},
	{X64,
	 "8@_ZN3foo3barE.lto_priv.0(%rip)",
	 {.size = 8,
	  .kind = MEM,
	  .base = R(IP),
	  .base_size = 8,
	  .symbol = "_ZN3foo3barE.lto_priv.0"}},
	{X64, "8@8(%rip)", {.size = 8, .kind = MEM, .base = R(IP), .base_size = 8, .disp = 8}},
	{X64, "8@(%rip)", {.size = 8, .kind = MEM, .base = R(IP), .base_size = 8}},
	/* absolute */
	{X64, "8@0x601040", {.size = 8, .kind = MEM, .disp = 0x601040, .flags = HEX}},
	{X64, "4@6295616", {.size = 4, .kind = MEM, .disp = 6295616}},
	{X64, "8@global_counter", {.size = 8, .kind = MEM, .symbol = "global_counter"}},
	{X64, "8@table+16", {.size = 8, .kind = MEM, .disp = 16, .symbol = "table"}},
	/* i386: same syntax, 32-bit registers */
	{X86,
	 "-4@8(%ebp)",
	 {.size = 4, .is_signed = true, .kind = MEM, .base = R(BP), .base_size = 4, .disp = 8}},
	{X86, "4@%eax", {.size = 4, .kind = REG, .base = R(AX), .base_size = 4}},
	{X86, "1@%ah", {.size = 1, .kind = REG, .base = R(AX), .base_size = 1, .base_high8 = true}},
	{X86, "4@$-1", {.size = 4, .kind = CONST, .imm = -1}},
	{X86,
	 "4@-20(%ebp,%ecx,4)",
	 {.size = 4,
	  .kind = MEM,
	  .base = R(BP),
	  .base_size = 4,
	  .index = R(CX),
	  .index_size = 4,
	  .scale = 4,
	  .disp = -20}},
	{X86,
	 "8f@%xmm7",
	 {.size = 8, .is_float = true, .kind = REG, .base = XMM(7), .base_size = 16}},
	{X86, "4@counter", {.size = 4, .kind = MEM, .symbol = "counter"}},
	/* aarch64 */
	{A64, "8@x0", {.size = 8, .kind = REG, .base = AX(0), .base_size = 8}},
	{A64, "8@x30", {.size = 8, .kind = REG, .base = AX(30), .base_size = 8}},
	{A64, "-4@w1", {.size = 4, .is_signed = true, .kind = REG, .base = AX(1), .base_size = 4}},
	{A64, "8@sp", {.size = 8, .kind = REG, .base = USDT_REG_A64_SP, .base_size = 8}},
	{A64, "4@wsp", {.size = 4, .kind = REG, .base = USDT_REG_A64_SP, .base_size = 4}},
	{A64,
	 "-4@[sp, 12]",
	 {.size = 4,
	  .is_signed = true,
	  .kind = MEM,
	  .base = USDT_REG_A64_SP,
	  .base_size = 8,
	  .disp = 12}},
	{A64,
	 "-4@[sp, #12]",
	 {.size = 4,
	  .is_signed = true,
	  .kind = MEM,
	  .base = USDT_REG_A64_SP,
	  .base_size = 8,
	  .disp = 12,
	  .flags = HASH}},
	{A64, "4@[x21]", {.size = 4, .kind = MEM, .base = AX(21), .base_size = 8}},
	{A64, "8@[x22, 20]", {.size = 8, .kind = MEM, .base = AX(22), .base_size = 8, .disp = 20}},
	{A64, "8@[x22, -8]", {.size = 8, .kind = MEM, .base = AX(22), .base_size = 8, .disp = -8}},
	{A64,
	 "8@[x29, #-16]",
	 {.size = 8, .kind = MEM, .base = AX(29), .base_size = 8, .disp = -16, .flags = HASH}},
	{A64,
	 "8@[x29, 0]",
	 {.size = 8, .kind = MEM, .base = AX(29), .base_size = 8, .flags = ZERO}},
	{A64,
	 "8@[x29, 0x10]",
	 {.size = 8, .kind = MEM, .base = AX(29), .base_size = 8, .disp = 16, .flags = HEX}},
	{A64,
	 "4@[x21, #:lo12:.LANCHOR2]",
	 {.size = 4,
	  .kind = MEM,
	  .base = AX(21),
	  .base_size = 8,
	  .reloc = USDT_RELOC_A64_LO12,
	  .flags = HASH,
	  .symbol = ".LANCHOR2"}},
	{A64,
	 "4@[x21, #:lo12:.LANCHOR2+8]",
	 {.size = 4,
	  .kind = MEM,
	  .base = AX(21),
	  .base_size = 8,
	  .disp = 8,
	  .reloc = USDT_RELOC_A64_LO12,
	  .flags = HASH,
	  .symbol = ".LANCHOR2"}},
	{A64,
	 "8@[x1, :lo12:counter]",
	 {.size = 8,
	  .kind = MEM,
	  .base = AX(1),
	  .base_size = 8,
	  .reloc = USDT_RELOC_A64_LO12,
	  .symbol = "counter"}},
	/* unsigned 8-byte constants above INT64_MAX keep their bit pattern */
	{X64, "8@$18446744073709551615", {.size = 8, .kind = CONST, .imm = -1, .flags = U64}},
	{X64, "8@$9223372036854775808", {.size = 8, .kind = CONST, .imm = INT64_MIN, .flags = U64}},
	{X64, "8@$0xffffffffffffffff", {.size = 8, .kind = CONST, .imm = -1, .flags = U64 | HEX}},
	{X64,
	 "8f@$0x8000000000000000",
	 {.size = 8, .is_float = true, .kind = CONST, .imm = INT64_MIN, .flags = U64 | HEX}},
	{X86, "8@$18446744073709551614", {.size = 8, .kind = CONST, .imm = -2, .flags = U64}},
	{X64, "8@$9223372036854775807", {.size = 8, .kind = CONST, .imm = INT64_MAX}},
	{A64, "8@18446744073709551615", {.size = 8, .kind = CONST, .imm = -1, .flags = U64}},
	{A64,
	 "8@#0xfffffffffffffff0",
	 {.size = 8, .kind = CONST, .imm = -16, .flags = U64 | HEX | HASH}},
	{A64, "4@5", {.size = 4, .kind = CONST, .imm = 5}},
	{A64, "-4@-1", {.size = 4, .is_signed = true, .kind = CONST, .imm = -1}},
	{A64, "4@#7", {.size = 4, .kind = CONST, .imm = 7, .flags = HASH}},
	{A64, "8@0x20", {.size = 8, .kind = CONST, .imm = 32, .flags = HEX}},
	{A64, "8f@d0", {.size = 8, .is_float = true, .kind = REG, .base = AV(0), .base_size = 8}},
	{A64, "4f@s1", {.size = 4, .is_float = true, .kind = REG, .base = AV(1), .base_size = 4}},
	{A64, "2f@h31", {.size = 2, .is_float = true, .kind = REG, .base = AV(31), .base_size = 2}},
	{A64, "1@b2", {.size = 1, .kind = REG, .base = AV(2), .base_size = 1}},
	{A64, "8@q3", {.size = 8, .kind = REG, .base = AV(3), .base_size = 16}},
};

static void test_good_specs(void **state)
{
	for (size_t i = 0; i < sizeof(good_specs) / sizeof(good_specs[0]); i++) {
		struct usdt_arg_spec spec;

		check_round_trip(good_specs[i].text, good_specs[i].arch, &spec);
		check_fields(&spec, &good_specs[i].want, good_specs[i].text);
	}
}

static void test_symbol_max(void **state)
{
	char text[USDT_SYMBOL_MAX + 32], sym[USDT_SYMBOL_MAX + 1];
	struct usdt_arg_spec spec;
	struct usdt_parse_error err = {0, NULL};

	/* 255 characters: the longest symbol that fits. */
	memset(sym, 's', USDT_SYMBOL_MAX - 1);
	sym[USDT_SYMBOL_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "8@%s(%%rip)", sym);
	check_round_trip(text, X64, &spec);
	assert_string_equal(spec.symbol, sym);

	/* 256: one too many. */
	memset(sym, 's', USDT_SYMBOL_MAX);
	sym[USDT_SYMBOL_MAX] = '\0';
	snprintf(text, sizeof(text), "8@%s(%%rip)", sym);
	errno = 0;
	assert_int_equal(parse_exact(&spec, text, strlen(text), X64, &err), -ENAMETOOLONG);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(err.pos, 2);
	snprintf(text, sizeof(text), "4@[x1, #:lo12:%s]", sym);
	assert_int_equal(parse_exact(&spec, text, strlen(text), A64, &err), -ENAMETOOLONG);
}

struct bad {
	enum usdt_arch arch;
	const char *text;
	int err;
	size_t pos;
};

static const struct bad bad_specs[] = {
	{X64, "", -EINVAL, 0},
	{X64, "8", -EINVAL, 1},
	{X64, "8@", -EINVAL, 2},
	{X64, "@%rax", -EINVAL, 0},
	{X64, "-@%rax", -EINVAL, 1},
	{X64, "8%rax", -EINVAL, 1},
	{X64, "8 @%rax", -EINVAL, 1},
	{X64, "3@%rax", -EDOM, 0},
	{X64, "0@%rax", -EDOM, 0},
	{X64, "-3@%eax", -EDOM, 1},
	{X64, "16@%xmm0", -EDOM, 0},
	{X64, "04@%eax", -EDOM, 0},
	{X64, "99999999999999999999@%rax", -EDOM, 0},
	{X64, "8F@%xmm0", -EINVAL, 1},
	{X64, "8@%rxx", -ENOENT, 2},
	{X64, "8@%RAX", -ENOENT, 2},
	{X64, "8@%fs", -ENOENT, 2},
	{X64, "8@%xmm16", -ENOENT, 2},
	{X64, "8@%", -EINVAL, 2},
	{X64, "8@-16(%rbq)", -ENOENT, 6},
	{X64, "8@(%rax,%foo,2)", -ENOENT, 8},
	{X64, "8@99999999999999999999(%rbp)", -ERANGE, 2},
	{X64, "8@9223372036854775808(%rbp)", -ERANGE, 2},
	{X64, "8@-9223372036854775809(%rbp)", -ERANGE, 2},
	{X64, "8@sym+9223372036854775808(%rip)", -ERANGE, 5},
	{X64, "8@0x10000000000000000(%rbp)", -ERANGE, 2},
	{X64, "8@$99999999999999999999", -ERANGE, 3},
	{X64, "8@$18446744073709551616", -ERANGE, 3},
	{X64, "8@$0x10000000000000000", -ERANGE, 3},
	{X64, "-8@$9223372036854775808", -ERANGE, 4},
	{X64, "-8@$18446744073709551615", -ERANGE, 4},
	{X64, "4@$9223372036854775808", -ERANGE, 3},
	{X64, "4@$18446744073709551615", -ERANGE, 3},
	{X64, "1@$0x8000000000000000", -ERANGE, 3},
	{X64, "8@18446744073709551615(%rbp)", -ERANGE, 2},
	{X64, "8@$-18446744073709551615", -ERANGE, 3},
	{X64, "8@$-9223372036854775809", -ERANGE, 3},
	{X64, "8@%rax ", -EINVAL, 6},
	{X64, "8@%raxjunk", -ENOENT, 2},
	{X64, "8@$5x", -EINVAL, 4},
	{X64, "8@-16(%rbp)x", -EINVAL, 11},
	{X64, "8@-16(%rbp", -EINVAL, 5},
	{X64, "8@-16(%rbp]", -EINVAL, 10},
	{X64, "8@-16%rbp)", -EINVAL, 5},
	{X64, "8@()", -EINVAL, 3},
	{X64, "8@(%rax,)", -EINVAL, 8},
	{X64, "8@(%rax,%rbx,3)", -EINVAL, 13},
	{X64, "8@(%rax,%rbx,16)", -EINVAL, 13},
	{X64, "8@(%rax,%rbx,)", -EINVAL, 13},
	{X64, "8@(%rax,%rsp,2)", -EINVAL, 8},
	{X64, "8@(%rip,%rax,2)", -EINVAL, 8},
	{X64, "8@(%rax,%ecx)", -EINVAL, 8},
	{X64, "8@(%al)", -EINVAL, 3},
	{X64, "8@(%xmm0)", -EINVAL, 3},
	{X64, "8@$", -EINVAL, 3},
	{X64, "8@$sym", -EINVAL, 3},
	{X64, "8@$-0", -EINVAL, 3},
	{X64, "8@$007", -EINVAL, 3},
	{X64, "8@$0x", -EINVAL, 5},
	{X64, "8@$0x0f", -EINVAL, 5},
	{X64, "8@$0XF", -EINVAL, 4},
	{X64, "8@$0xF", -EINVAL, 5},
	{X64, "8@sym-0(%rip)", -EINVAL, 5},
	{X64, "8@sym+(%rip)", -EINVAL, 6},
	{X64, "8@sym+-8(%rip)", -EINVAL, 6},
	{X64, "8@1+2(%rip)", -EINVAL, 4},
	{X64, "8@+8(%rip)", -EINVAL, 2},
	{X86, "8@%rax", -ENOENT, 2},
	{X86, "4@%r8d", -ENOENT, 2},
	{X86, "1@%sil", -ENOENT, 2},
	{X86, "8@sym(%rip)", -ENOENT, 6},
	{X86, "8f@%xmm8", -ENOENT, 3},
	{X86, "4@(%rax)", -ENOENT, 3},
	{A64, "8@x31", -ENOENT, 2},
	{A64, "8@x01", -ENOENT, 2},
	{A64, "8@X0", -ENOENT, 2},
	{A64, "8@fp", -ENOENT, 2},
	{A64, "8@%x0", -EINVAL, 2},
	{A64, "8@v0", -ENOENT, 2},
	{A64, "8@d32", -ENOENT, 2},
	{A64, "8@[sp, 12", -EINVAL, 2},
	{A64, "8@[sp,12]", -EINVAL, 6},
	{A64, "8@[sp,  12]", -EINVAL, 7},
	{A64, "8@[w1, 4]", -EINVAL, 3},
	{A64, "8@[d1]", -EINVAL, 3},
	{A64, "8@[x1, x2]", -EINVAL, 7},
	{A64, "8@[x1]!", -EINVAL, 6},
	{A64, "8@[x1, 99999999999999999999]", -ERANGE, 7},
	{A64, "8@[x1, #:lo12:]", -EINVAL, 14},
	{A64, "8@[x1, #:lo13:a]", -EINVAL, 8},
	{A64, "8@99999999999999999999", -ERANGE, 2},
	{A64, "8@18446744073709551616", -ERANGE, 2},
	{A64, "-8@18446744073709551615", -ERANGE, 3},
	{A64, "4@#18446744073709551615", -ERANGE, 3},
	{A64, "8@[x1, 18446744073709551615]", -ERANGE, 7},
	{A64, "8@5 ", -EINVAL, 3},
	{A64, "3@x0", -EDOM, 0},
	{A64, "8@", -EINVAL, 2},
	{USDT_ARCH_UNKNOWN, "8@%rax", -ENOTSUP, 0},
	{(enum usdt_arch)99, "8@%rax", -ENOTSUP, 0},
};

static void test_bad_specs(void **state)
{
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		const struct bad *b = &bad_specs[i];
		struct usdt_parse_error err = {SIZE_MAX, NULL};
		struct usdt_arg_spec spec;
		int ret;

		print_message("  %s\n", b->text);
		errno = 0;
		ret = parse_exact(&spec, b->text, strlen(b->text), b->arch, &err);
		assert_int_equal(ret, b->err);
		assert_int_equal(errno, -b->err);
		assert_non_null(err.msg);
		assert_int_equal(err.pos, b->pos);
		/* The same bytes as a whole args string fail the same way. */
		if (b->text[0] && !strchr(b->text, ' '))
			assert_int_equal(usdt_arg_specs__parse(&spec, 1, b->text, b->arch, NULL),
					 b->err);
	}
}

/* Every prefix of every good spec, as an exact buffer: no over-read, no crash. */
static void test_truncated_specs(void **state)
{
	for (size_t i = 0; i < sizeof(good_specs) / sizeof(good_specs[0]); i++) {
		const char *text = good_specs[i].text;

		for (size_t len = 0; len <= strlen(text); len++) {
			struct usdt_parse_error err = {SIZE_MAX, NULL};
			struct usdt_arg_spec spec;
			int ret = parse_exact(&spec, text, len, good_specs[i].arch, &err);

			if (ret) {
				assert_true(ret < 0);
				assert_non_null(err.msg);
				assert_true(err.pos <= len);
			}
		}
	}
}

static void test_null_args(void **state)
{
	struct usdt_arg_spec spec;

	assert_int_equal(usdt_arg_spec__parse(NULL, "8@%rax", 6, X64, NULL), -EINVAL);
	assert_int_equal(usdt_arg_spec__parse(&spec, NULL, 6, X64, NULL), -EINVAL);
	assert_int_equal(usdt_arg_spec__parse(&spec, NULL, 0, X64, NULL), -EINVAL);
	/* Only @len bytes count, even when the buffer holds more. */
	assert_int_equal(usdt_arg_spec__parse(&spec, "8@%raxZZZ", 6, X64, NULL), 0);
	assert_int_equal(spec.base, R(AX));
	assert_int_equal(usdt_arg_spec__parse(&spec, "4@%eax\0junk", 6, X64, NULL), 0);
	assert_int_equal(usdt_arg_spec__parse(&spec, "4@%eax\0junk", 7, X64, NULL), -EINVAL);
	assert_int_equal(usdt_arg_specs__parse(&spec, 1, NULL, X64, NULL), -EINVAL);
	assert_int_equal(usdt_arg_specs__parse(NULL, 1, "8@%rax", X64, NULL), -EINVAL);
}

static void test_specs_split(void **state)
{
	struct usdt_arg_spec specs[USDT_MAX_ARGS];
	struct usdt_parse_error err = {0, NULL};

	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "", X64, &err), 0);
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "   ", X64, &err), 0);
	assert_int_equal(usdt_arg_specs__parse(NULL, 0, "", X64, &err), 0);

	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS,
					       "-4@%edx 8@-80(%rbx)  8@$5   1@%al", X64, &err),
			 4);
	assert_int_equal(specs[0].base, R(DX));
	assert_int_equal(specs[0].base_size, 4);
	assert_true(specs[0].is_signed);
	assert_int_equal(specs[1].kind, MEM);
	assert_int_equal(specs[1].disp, -80);
	assert_int_equal(specs[2].kind, CONST);
	assert_int_equal(specs[2].imm, 5);
	assert_int_equal(specs[3].base_size, 1);

	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, " 8@%rdi 8@%rsi ", X64, &err),
			 2);
	assert_int_equal(specs[1].base, R(SI));
	/* Tabs separate too, as in every reader of the format. */
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "8@%rdi\t8@%rsi", X64, &err),
			 2);
	assert_int_equal(specs[1].base, R(SI));

	/* aarch64 memory operands hold a space inside the brackets. */
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS,
					       "-4@[sp, 12] 8@x1 4@[x21, #:lo12:.LANCHOR2] 8@[x2]",
					       A64, &err),
			 4);
	assert_int_equal(specs[0].disp, 12);
	assert_int_equal(specs[0].base, USDT_REG_A64_SP);
	assert_int_equal(specs[1].base, AX(1));
	assert_string_equal(specs[2].symbol, ".LANCHOR2");
	assert_int_equal(specs[3].base, AX(2));

	/* The error position counts from the start of the whole string. */
	err.pos = 0;
	errno = 0;
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "8@%rdi  8@%rzz", X64, &err),
			 -ENOENT);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(err.pos, 10);
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "8@%rdi 3@%rsi", X64, &err),
			 -EDOM);
	assert_int_equal(err.pos, 7);
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "8@x0 8@[sp, 8", A64, &err),
			 -EINVAL);
	assert_int_equal(
		usdt_arg_specs__parse(specs, USDT_MAX_ARGS, "8@%rdi", USDT_ARCH_UNKNOWN, &err),
		-ENOTSUP);
}

static void test_specs_max(void **state)
{
	struct usdt_arg_spec specs[USDT_MAX_ARGS + 1];
	struct usdt_parse_error err = {0, NULL};
	char args[512] = "";
	size_t off = 0, pos13 = 0;

	for (int i = 0; i < USDT_MAX_ARGS + 1; i++) {
		if (i == USDT_MAX_ARGS)
			pos13 = off + 1;
		off += (size_t)snprintf(args + off, sizeof(args) - off, "%s-4@%d(%%rbp)",
					i ? " " : "", -8 * (i + 1));
	}
	errno = 0;
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, args, X64, &err), -E2BIG);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(err.pos, pos13);
	/* Room for 13: all parse. */
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS + 1, args, X64, &err),
			 USDT_MAX_ARGS + 1);
	assert_int_equal(specs[12].disp, -104);
	/* Exactly 12 fit in 12. */
	args[pos13 - 1] = '\0';
	assert_int_equal(usdt_arg_specs__parse(specs, USDT_MAX_ARGS, args, X64, &err),
			 USDT_MAX_ARGS);
	assert_int_equal(usdt_arg_specs__parse(specs, 3, "8@x0 8@x1 8@x2 8@x3", A64, &err), -E2BIG);
	assert_int_equal(usdt_arg_specs__parse(NULL, 0, "8@x0", A64, &err), -E2BIG);
}

static void test_print(void **state)
{
	struct usdt_arg_spec spec;
	char buf[64], small[5];

	assert_int_equal(usdt_arg_spec__parse(&spec, "-4@-16(%rbp)", 12, X64, NULL), 0);
	/* snprintf semantics */
	assert_int_equal(usdt_arg_spec__print(&spec, X64, NULL, 0), 12);
	memset(small, 'x', sizeof(small));
	assert_int_equal(usdt_arg_spec__print(&spec, X64, small, sizeof(small)), 12);
	assert_string_equal(small, "-4@-");
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, 13), 12);
	assert_string_equal(buf, "-4@-16(%rbp)");

	/* A structure built by hand prints without the hints. */
	memset(&spec, 0, sizeof(spec));
	spec.size = 8;
	spec.kind = MEM;
	spec.base = R(IP);
	spec.base_size = 8;
	spec.disp = INT64_MIN;
	strcpy(spec.symbol, "s");
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)),
			 strlen("8@s-9223372036854775808(%rip)"));
	assert_string_equal(buf, "8@s-9223372036854775808(%rip)");
	check_round_trip(buf, X64, NULL);

	/* Invalid structures are refused, with errno. */
	spec.size = 3;
	errno = 0;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(buf, "");
	spec.size = 8;
	assert_int_equal(usdt_arg_spec__print(&spec, A64, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(usdt_arg_spec__print(&spec, USDT_ARCH_UNKNOWN, buf, sizeof(buf)),
			 -ENOTSUP);
	assert_int_equal(usdt_arg_spec__print(NULL, X64, buf, sizeof(buf)), -EINVAL);
	spec.base = R(R8);
	assert_int_equal(usdt_arg_spec__print(&spec, X86, buf, sizeof(buf)), -EINVAL);
	spec.base = R(AX);
	spec.index = R(BX);
	spec.index_size = 8;
	spec.scale = 3;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	spec.kind = USDT_OPERAND_NONE;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	memset(&spec, 0, sizeof(spec));
	spec.size = 4;
	spec.kind = REG;
	spec.base = R(AX);
	spec.base_size = 3;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	memset(spec.symbol, 'a', sizeof(spec.symbol));
	spec.base_size = 4;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);

	/* The unsigned-constant hint prints the bit pattern unsigned ... */
	memset(&spec, 0, sizeof(spec));
	spec.size = 8;
	spec.kind = CONST;
	spec.imm = -1;
	spec.flags = U64;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), 23);
	assert_string_equal(buf, "8@$18446744073709551615");
	assert_int_equal(usdt_arg_spec__print(&spec, A64, buf, sizeof(buf)), 22);
	assert_string_equal(buf, "8@18446744073709551615");
	spec.flags = U64 | HEX;
	spec.imm = INT64_MIN;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), 21);
	assert_string_equal(buf, "8@$0x8000000000000000");
	/* ... and without it the same value is the signed -1 it holds. */
	spec.flags = 0;
	spec.imm = -1;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "8@$-1");
	/* The hint only where the parser could have set it. */
	spec.flags = U64;
	spec.imm = 5; /* fits int64_t: parses without the hint */
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	spec.imm = -1;
	spec.is_signed = true;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	spec.is_signed = false;
	spec.size = 4;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
	spec.size = 8;
	spec.kind = REG;
	spec.base = R(AX);
	spec.base_size = 8;
	assert_int_equal(usdt_arg_spec__print(&spec, X64, buf, sizeof(buf)), -EINVAL);
}

static void test_reg_names(void **state)
{
	assert_string_equal(usdt_reg__name(R(AX), 8, false, X64), "rax");
	assert_string_equal(usdt_reg__name(R(AX), 4, false, X64), "eax");
	assert_string_equal(usdt_reg__name(R(AX), 2, false, X64), "ax");
	assert_string_equal(usdt_reg__name(R(AX), 1, false, X64), "al");
	assert_string_equal(usdt_reg__name(R(AX), 1, true, X64), "ah");
	assert_string_equal(usdt_reg__name(R(DI), 1, false, X64), "dil");
	assert_string_equal(usdt_reg__name(R(R13), 4, false, X64), "r13d");
	assert_string_equal(usdt_reg__name(R(R13), 2, false, X64), "r13w");
	assert_string_equal(usdt_reg__name(R(R13), 1, false, X64), "r13b");
	assert_string_equal(usdt_reg__name(R(IP), 8, false, X64), "rip");
	assert_string_equal(usdt_reg__name(XMM(9), 16, false, X64), "xmm9");
	assert_string_equal(usdt_reg__name(XMM(9), 8, false, X64), "xmm9");
	assert_string_equal(usdt_reg__name(R(BP), 4, false, X86), "ebp");
	assert_null(usdt_reg__name(R(BP), 8, false, X86));
	assert_null(usdt_reg__name(R(DI), 1, false, X86));
	assert_null(usdt_reg__name(R(R8), 4, false, X86));
	assert_null(usdt_reg__name(XMM(8), 16, false, X86));
	assert_null(usdt_reg__name(R(SI), 1, true, X64));
	assert_null(usdt_reg__name(R(AX), 3, false, X64));
	assert_null(usdt_reg__name(AX(0), 8, false, X64));
	assert_null(usdt_reg__name(USDT_REG_NONE, 8, false, X64));
	errno = 0;
	assert_null(usdt_reg__name(USDT_REG__MAX, 8, false, X64));
	assert_int_equal(errno, EINVAL);

	assert_string_equal(usdt_reg__name(AX(0), 8, false, A64), "x0");
	assert_string_equal(usdt_reg__name(AX(30), 4, false, A64), "w30");
	assert_string_equal(usdt_reg__name(USDT_REG_A64_SP, 8, false, A64), "sp");
	assert_string_equal(usdt_reg__name(USDT_REG_A64_SP, 4, false, A64), "wsp");
	assert_string_equal(usdt_reg__name(AV(0), 1, false, A64), "b0");
	assert_string_equal(usdt_reg__name(AV(5), 2, false, A64), "h5");
	assert_string_equal(usdt_reg__name(AV(17), 4, false, A64), "s17");
	assert_string_equal(usdt_reg__name(AV(31), 8, false, A64), "d31");
	assert_string_equal(usdt_reg__name(AV(31), 16, false, A64), "q31");
	assert_null(usdt_reg__name(AX(0), 2, false, A64));
	assert_null(usdt_reg__name(AX(0), 8, true, A64));
	assert_null(usdt_reg__name(R(AX), 8, false, A64));
	assert_null(usdt_reg__name(AX(0), 8, false, USDT_ARCH_UNKNOWN));

	/* Every name parses back to the same register. */
	for (int reg = USDT_REG_NONE + 1; reg < USDT_REG__MAX; reg++) {
		static const enum usdt_arch arches[] = {X64, X86, A64};
		static const int sizes[] = {1, 2, 4, 8, 16};

		for (size_t a = 0; a < 3; a++) {
			for (size_t s = 0; s < 5; s++) {
				for (int h = 0; h < 2; h++) {
					const char *name =
						usdt_reg__name(reg, sizes[s], h, arches[a]);
					struct usdt_arg_spec spec;
					char text[32];

					if (!name)
						continue;
					snprintf(text, sizeof(text), "8@%s%s",
						 arches[a] == A64 ? "" : "%", name);
					check_round_trip(text, arches[a], &spec);
					assert_int_equal(spec.base, reg);
					assert_int_equal(spec.base_high8, h);
				}
			}
		}
	}
}

/* Reads a data file of the source tree, one item per line, '#' comments. */
static char **read_lines(const char *name, size_t *count)
{
	const char *src = getenv("USDTKIT_SOURCE_DIR");
	char path[4096], line[8192];
	char **lines = NULL;
	FILE *f;

	*count = 0;
	snprintf(path, sizeof(path), "%s/tests/sdt/data/%s", src ? src : SOURCE_DIR, name);
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		lines = realloc(lines, (*count + 1) * sizeof(*lines));
		assert_non_null(lines);
		lines[*count] = strdup(line);
		assert_non_null(lines[*count]);
		(*count)++;
	}
	fclose(f);
	return lines;
}

static void free_lines(char **lines, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(lines[i]);
	free(lines);
}

static void test_real_specs(void **state)
{
	size_t count, kinds[4] = {0}, rip = 0;
	char **lines = read_lines("real_specs_x86_64.txt", &count);

	assert_true(count >= 100);
	for (size_t i = 0; i < count; i++) {
		struct usdt_arg_spec spec;

		check_round_trip(lines[i], X64, &spec);
		assert_true(spec.kind > 0 && spec.kind < 4);
		kinds[spec.kind]++;
		rip += spec.base == R(IP);
	}
	print_message("%zu real specs: %zu const, %zu reg, %zu mem (%zu rip-relative)\n", count,
		      kinds[CONST], kinds[REG], kinds[MEM], rip);
	assert_true(kinds[CONST] && kinds[REG] && kinds[MEM] && rip);
	free_lines(lines, count);
}

static void test_real_args(void **state)
{
	size_t count, total = 0;
	char **lines = read_lines("real_args_x86_64.txt", &count);

	assert_true(count >= 100);
	for (size_t i = 0; i < count; i++) {
		struct usdt_arg_spec specs[USDT_MAX_ARGS];
		struct usdt_parse_error err = {0, NULL};
		char joined[USDT_MAX_ARGS * USDT_SPEC_TEXT_MAX] = "";
		size_t off = 0;
		int n = usdt_arg_specs__parse(specs, USDT_MAX_ARGS, lines[i], X64, &err);

		if (n < 0)
			fail_msg("'%s': error %d at %zu: %s", lines[i], n, err.pos, err.msg);
		assert_true(n >= 1);
		for (int j = 0; j < n; j++) {
			int w = usdt_arg_spec__print(&specs[j], X64, joined + off + (j ? 1 : 0),
						     sizeof(joined) - off - 1);
			assert_true(w > 0);
			if (j)
				joined[off] = ' ';
			off += (size_t)w + (j ? 1 : 0);
		}
		assert_string_equal(joined, lines[i]);
		total += (size_t)n;
	}
	print_message("%zu real args strings, %zu specs\n", count, total);
	free_lines(lines, count);
}

/*
 * The notes of binaries installed here, read with readelf: every spec
 * parses and prints back. libstdc++ carries probes on every Debian system;
 * the others add variety where they are installed.
 */
static void test_installed_binaries(void **state)
{
	static const char *const paths[] = {
		"/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
		"/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
		"/usr/bin/python3",
		"/usr/lib/postgresql/15/bin/postgres",
		"/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
	};
	size_t files = 0, notes = 0, specs = 0;

#if !defined(__x86_64__)
	skip();
#endif
	if (system("readelf --version >/dev/null 2>&1") != 0) {
		print_message("SKIP: readelf not installed\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char cmd[512], line[8192];
		FILE *p;

		if (access(paths[i], R_OK) != 0)
			continue;
		snprintf(cmd, sizeof(cmd), "readelf -n --wide '%s' 2>/dev/null", paths[i]);
		p = popen(cmd, "re");
		assert_non_null(p);
		files++;
		while (fgets(line, sizeof(line), p)) {
			struct usdt_arg_spec parsed[USDT_MAX_ARGS];
			struct usdt_parse_error err = {0, NULL};
			char *args = strstr(line, "Arguments: ");
			int n;

			if (!args)
				continue;
			args += strlen("Arguments: ");
			args[strcspn(args, "\n")] = '\0';
			n = usdt_arg_specs__parse(parsed, USDT_MAX_ARGS, args, X64, &err);
			if (n < 0)
				fail_msg("%s: '%s': error %d at %zu: %s", paths[i], args, n,
					 err.pos, err.msg);
			for (char *tok = strtok(args, " "); tok; tok = strtok(NULL, " "))
				check_round_trip(tok, X64, NULL);
			notes++;
			specs += (size_t)n;
		}
		pclose(p);
	}
	print_message("%zu installed files, %zu notes, %zu specs\n", files, notes, specs);
	if (notes == 0) {
		print_message("SKIP: no installed binary with stapsdt notes\n");
		skip();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_specs), cmocka_unit_test(test_symbol_max),
		cmocka_unit_test(test_bad_specs),  cmocka_unit_test(test_truncated_specs),
		cmocka_unit_test(test_null_args),  cmocka_unit_test(test_specs_split),
		cmocka_unit_test(test_specs_max),  cmocka_unit_test(test_print),
		cmocka_unit_test(test_reg_names),  cmocka_unit_test(test_real_specs),
		cmocka_unit_test(test_real_args),  cmocka_unit_test(test_installed_binaries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
