/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Argument specs: "[-]SIZE[f]@OPERAND" strings from .note.stapsdt, parsed
 * into struct usdt_arg_spec and printed back.
 *
 * The text comes from ELF files we do not control (and, in the tracer, from
 * the user), so the parser is a hand-written scanner that never looks past
 * @len, checks every number for overflow before it happens and reports
 * where and why it gave up.
 *
 * The printer is the parser's exact inverse: every accepted spec prints
 * back to the same bytes. To make that possible the parser accepts only
 * one spelling of each thing (numbers without leading zeros, lower-case
 * hex, registers in lower case, aarch64 ", " separators) and records the
 * few choices a spelling still leaves open in spec->flags (hex, "40+sym"
 * vs "sym+40", aarch64 '#', an explicit zero, an explicit x86 scale 1, an
 * unsigned 64-bit constant above INT64_MAX).
 * The fuzz harness checks this property on every input it finds.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

/* ------------------------------------------------------------------ */
/* Register tables                                                     */
/* ------------------------------------------------------------------ */

struct x86_reg {
	const char *name;
	enum usdt_reg reg;
	uint8_t size;
	bool high8;
	bool x64_only; /* needs a REX prefix or 64-bit mode */
};

/* Every name once; usdt_reg__name() returns the first match. */
static const struct x86_reg x86_regs[] = {
	{"rax", USDT_REG_X86_AX, 8, false, true},
	{"eax", USDT_REG_X86_AX, 4, false, false},
	{"ax", USDT_REG_X86_AX, 2, false, false},
	{"rbx", USDT_REG_X86_BX, 8, false, true},
	{"ebx", USDT_REG_X86_BX, 4, false, false},
	{"bx", USDT_REG_X86_BX, 2, false, false},
	{"rcx", USDT_REG_X86_CX, 8, false, true},
	{"ecx", USDT_REG_X86_CX, 4, false, false},
	{"cx", USDT_REG_X86_CX, 2, false, false},
	{"rdx", USDT_REG_X86_DX, 8, false, true},
	{"edx", USDT_REG_X86_DX, 4, false, false},
	{"dx", USDT_REG_X86_DX, 2, false, false},
	{"rsi", USDT_REG_X86_SI, 8, false, true},
	{"esi", USDT_REG_X86_SI, 4, false, false},
	{"si", USDT_REG_X86_SI, 2, false, false},
	{"rdi", USDT_REG_X86_DI, 8, false, true},
	{"edi", USDT_REG_X86_DI, 4, false, false},
	{"di", USDT_REG_X86_DI, 2, false, false},
	{"rbp", USDT_REG_X86_BP, 8, false, true},
	{"ebp", USDT_REG_X86_BP, 4, false, false},
	{"bp", USDT_REG_X86_BP, 2, false, false},
	{"rsp", USDT_REG_X86_SP, 8, false, true},
	{"esp", USDT_REG_X86_SP, 4, false, false},
	{"sp", USDT_REG_X86_SP, 2, false, false},
	{"al", USDT_REG_X86_AX, 1, false, false},
	{"bl", USDT_REG_X86_BX, 1, false, false},
	{"cl", USDT_REG_X86_CX, 1, false, false},
	{"dl", USDT_REG_X86_DX, 1, false, false},
	{"sil", USDT_REG_X86_SI, 1, false, true},
	{"dil", USDT_REG_X86_DI, 1, false, true},
	{"bpl", USDT_REG_X86_BP, 1, false, true},
	{"spl", USDT_REG_X86_SP, 1, false, true},
	{"ah", USDT_REG_X86_AX, 1, true, false},
	{"bh", USDT_REG_X86_BX, 1, true, false},
	{"ch", USDT_REG_X86_CX, 1, true, false},
	{"dh", USDT_REG_X86_DX, 1, true, false},
	{"r8", USDT_REG_X86_R8, 8, false, true},
	{"r8d", USDT_REG_X86_R8, 4, false, true},
	{"r8w", USDT_REG_X86_R8, 2, false, true},
	{"r8b", USDT_REG_X86_R8, 1, false, true},
	{"r9", USDT_REG_X86_R9, 8, false, true},
	{"r9d", USDT_REG_X86_R9, 4, false, true},
	{"r9w", USDT_REG_X86_R9, 2, false, true},
	{"r9b", USDT_REG_X86_R9, 1, false, true},
	{"r10", USDT_REG_X86_R10, 8, false, true},
	{"r10d", USDT_REG_X86_R10, 4, false, true},
	{"r10w", USDT_REG_X86_R10, 2, false, true},
	{"r10b", USDT_REG_X86_R10, 1, false, true},
	{"r11", USDT_REG_X86_R11, 8, false, true},
	{"r11d", USDT_REG_X86_R11, 4, false, true},
	{"r11w", USDT_REG_X86_R11, 2, false, true},
	{"r11b", USDT_REG_X86_R11, 1, false, true},
	{"r12", USDT_REG_X86_R12, 8, false, true},
	{"r12d", USDT_REG_X86_R12, 4, false, true},
	{"r12w", USDT_REG_X86_R12, 2, false, true},
	{"r12b", USDT_REG_X86_R12, 1, false, true},
	{"r13", USDT_REG_X86_R13, 8, false, true},
	{"r13d", USDT_REG_X86_R13, 4, false, true},
	{"r13w", USDT_REG_X86_R13, 2, false, true},
	{"r13b", USDT_REG_X86_R13, 1, false, true},
	{"r14", USDT_REG_X86_R14, 8, false, true},
	{"r14d", USDT_REG_X86_R14, 4, false, true},
	{"r14w", USDT_REG_X86_R14, 2, false, true},
	{"r14b", USDT_REG_X86_R14, 1, false, true},
	{"r15", USDT_REG_X86_R15, 8, false, true},
	{"r15d", USDT_REG_X86_R15, 4, false, true},
	{"r15w", USDT_REG_X86_R15, 2, false, true},
	{"r15b", USDT_REG_X86_R15, 1, false, true},
	{"rip", USDT_REG_X86_IP, 8, false, true},
	{"xmm0", USDT_REG_X86_XMM0 + 0, 16, false, false},
	{"xmm1", USDT_REG_X86_XMM0 + 1, 16, false, false},
	{"xmm2", USDT_REG_X86_XMM0 + 2, 16, false, false},
	{"xmm3", USDT_REG_X86_XMM0 + 3, 16, false, false},
	{"xmm4", USDT_REG_X86_XMM0 + 4, 16, false, false},
	{"xmm5", USDT_REG_X86_XMM0 + 5, 16, false, false},
	{"xmm6", USDT_REG_X86_XMM0 + 6, 16, false, false},
	{"xmm7", USDT_REG_X86_XMM0 + 7, 16, false, false},
	{"xmm8", USDT_REG_X86_XMM0 + 8, 16, false, true},
	{"xmm9", USDT_REG_X86_XMM0 + 9, 16, false, true},
	{"xmm10", USDT_REG_X86_XMM0 + 10, 16, false, true},
	{"xmm11", USDT_REG_X86_XMM0 + 11, 16, false, true},
	{"xmm12", USDT_REG_X86_XMM0 + 12, 16, false, true},
	{"xmm13", USDT_REG_X86_XMM0 + 13, 16, false, true},
	{"xmm14", USDT_REG_X86_XMM0 + 14, 16, false, true},
	{"xmm15", USDT_REG_X86_XMM0 + 15, 16, false, true},
};

#define A64_ROW(p)                                                                              \
	{                                                                                       \
		p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", p "8", p "9", p "10",   \
			p "11", p "12", p "13", p "14", p "15", p "16", p "17", p "18", p "19", \
			p "20", p "21", p "22", p "23", p "24", p "25", p "26", p "27", p "28", \
			p "29", p "30", p "31"                                                  \
	}

/* Row order = log2 of the width; general registers have 31, SIMD 32. */
static const char a64_gpr_names[2][32][4] = {A64_ROW("w"), A64_ROW("x")};
static const char a64_simd_names[5][32][4] = {A64_ROW("b"), A64_ROW("h"), A64_ROW("s"),
					      A64_ROW("d"), A64_ROW("q")};

static bool arch_is_x86(enum usdt_arch arch)
{
	return arch == USDT_ARCH_X86_64 || arch == USDT_ARCH_X86;
}

static const struct x86_reg *x86_reg_by_name(const char *name, size_t len, enum usdt_arch arch)
{
	for (size_t i = 0; i < sizeof(x86_regs) / sizeof(x86_regs[0]); i++) {
		const struct x86_reg *r = &x86_regs[i];

		if (r->x64_only && arch != USDT_ARCH_X86_64)
			continue;
		if (strlen(r->name) == len && memcmp(r->name, name, len) == 0)
			return r;
	}
	return NULL;
}

static const char *x86_reg_name(enum usdt_reg reg, int size, bool high8, enum usdt_arch arch)
{
	bool xmm = reg >= USDT_REG_X86_XMM0 && reg <= USDT_REG_X86_XMM15;

	for (size_t i = 0; i < sizeof(x86_regs) / sizeof(x86_regs[0]); i++) {
		const struct x86_reg *r = &x86_regs[i];

		if (r->reg != reg || (r->x64_only && arch != USDT_ARCH_X86_64))
			continue;
		/* An xmm register has one name whatever part of it is read. */
		if (xmm && !high8)
			return r->name;
		if (r->size == size && r->high8 == high8)
			return r->name;
	}
	return NULL;
}

static int log2_size(int size)
{
	switch (size) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 2;
	case 8:
		return 3;
	case 16:
		return 4;
	default:
		return -1;
	}
}

static const char *a64_reg_name(enum usdt_reg reg, int size, bool high8)
{
	int lg = log2_size(size);

	if (high8 || lg < 0)
		return NULL;
	if (reg >= USDT_REG_A64_X0 && reg <= USDT_REG_A64_X30) {
		if (lg != 2 && lg != 3)
			return NULL;
		return a64_gpr_names[lg - 2][reg - USDT_REG_A64_X0];
	}
	if (reg == USDT_REG_A64_SP) {
		if (lg == 3)
			return "sp";
		return lg == 2 ? "wsp" : NULL;
	}
	if (reg >= USDT_REG_A64_V0 && reg <= USDT_REG_A64_V31)
		return a64_simd_names[lg][reg - USDT_REG_A64_V0];
	return NULL;
}

/*
 * "x0".."x30", "w0".."w30", "sp", "wsp", and the SIMD views
 * "b0".."q31". Numbers are written without leading zeros.
 */
static bool a64_reg_by_name(const char *name, size_t len, enum usdt_reg *reg, uint8_t *size)
{
	unsigned int num = 0;
	const char *p;

	if (len == 2 && memcmp(name, "sp", 2) == 0) {
		*reg = USDT_REG_A64_SP;
		*size = 8;
		return true;
	}
	if (len == 3 && memcmp(name, "wsp", 3) == 0) {
		*reg = USDT_REG_A64_SP;
		*size = 4;
		return true;
	}
	if (len < 2 || len > 3)
		return false;
	p = name + 1;
	if (p[0] < '0' || p[0] > '9' || (len == 3 && (p[0] == '0' || p[1] < '0' || p[1] > '9')))
		return false;
	for (size_t i = 1; i < len; i++)
		num = num * 10 + (unsigned int)(name[i] - '0');
	switch (name[0]) {
	case 'x':
	case 'w':
		if (num > 30)
			return false;
		*reg = USDT_REG_A64_X0 + num;
		*size = name[0] == 'x' ? 8 : 4;
		return true;
	case 'b':
	case 'h':
	case 's':
	case 'd':
	case 'q':
		if (num > 31)
			return false;
		*reg = USDT_REG_A64_V0 + num;
		*size = name[0] == 'b'	 ? 1
			: name[0] == 'h' ? 2
			: name[0] == 's' ? 4
			: name[0] == 'd' ? 8
					 : 16;
		return true;
	default:
		return false;
	}
}

USDT_API const char *usdt_reg__name(enum usdt_reg reg, int size, bool high8, enum usdt_arch arch)
{
	const char *name = NULL;

	if (arch_is_x86(arch))
		name = x86_reg_name(reg, size, high8, arch);
	else if (arch == USDT_ARCH_AARCH64)
		name = a64_reg_name(reg, size, high8);
	if (!name)
		errno = EINVAL;
	return name;
}

/* ------------------------------------------------------------------ */
/* Scanner                                                             */
/* ------------------------------------------------------------------ */

struct scan {
	const char *s;
	size_t len;
	size_t pos;
	struct usdt_parse_error *err;
};

static int fail(struct scan *sc, size_t pos, int code, const char *msg)
{
	if (sc->err) {
		sc->err->pos = pos;
		sc->err->msg = msg;
	}
	return code;
}

/* The next byte, or -1 at the end: the text need not be NUL-terminated. */
static int peek(const struct scan *sc)
{
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static int peek_at(const struct scan *sc, size_t ahead)
{
	return ahead < sc->len - sc->pos ? (unsigned char)sc->s[sc->pos + ahead] : -1;
}

static bool accept(struct scan *sc, int ch)
{
	if (peek(sc) != ch)
		return false;
	sc->pos++;
	return true;
}

static bool accept_str(struct scan *sc, const char *str)
{
	size_t n = strlen(str);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, str, n) != 0)
		return false;
	sc->pos += n;
	return true;
}

static bool is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* Register names are scanned as whole words, so "%RAX" is unknown, not malformed. */
static bool is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch);
}

static int hex_value(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static bool is_sym_start(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.';
}

static bool is_sym_char(int ch)
{
	return is_sym_start(ch) || is_digit(ch) || ch == '$';
}

/*
 * An unsigned magnitude: "0", "[1-9][0-9]*" or "0x[0-9a-f]+" without
 * leading zeros (so that it prints back the same way).
 */
static int scan_magnitude(struct scan *sc, uint64_t *out, bool *hex)
{
	size_t start = sc->pos;
	unsigned int base = 10;
	uint64_t v = 0;
	int d;

	if (!is_digit(peek(sc)))
		return fail(sc, sc->pos, -EINVAL, "number expected");
	*hex = false;
	if (peek(sc) == '0' && peek_at(sc, 1) == 'x') {
		sc->pos += 2;
		base = 16;
		*hex = true;
		if (hex_value(peek(sc)) < 0)
			return fail(sc, sc->pos, -EINVAL, "hex digits expected after 0x");
	}
	if (peek(sc) == '0' && hex_value(peek_at(sc, 1)) >= 0 &&
	    (base == 16 || is_digit(peek_at(sc, 1))))
		return fail(sc, sc->pos, -EINVAL, "number with a leading zero");
	while ((d = base == 16 ? hex_value(peek(sc))
			       : (is_digit(peek(sc)) ? peek(sc) - '0' : -1)) >= 0) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return fail(sc, start, -ERANGE, "number out of range");
		v = v * base + (uint64_t)d;
		sc->pos++;
	}
	*out = v;
	return 0;
}

/* Applies a sign to a magnitude, refusing what int64_t cannot hold and "-0". */
static int signed_value(struct scan *sc, size_t start, bool neg, uint64_t mag, int64_t *out)
{
	if (neg) {
		if (mag == 0)
			return fail(sc, start, -EINVAL, "negative zero");
		if (mag > (uint64_t)INT64_MAX + 1)
			return fail(sc, start, -ERANGE, "number out of range");
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return fail(sc, start, -ERANGE, "number out of range");
		*out = (int64_t)mag;
	}
	return 0;
}

/* "[-]magnitude" */
static int scan_number(struct scan *sc, int64_t *out, bool *hex)
{
	size_t start = sc->pos;
	bool neg = accept(sc, '-');
	uint64_t mag;
	int ret;

	ret = scan_magnitude(sc, &mag, hex);
	if (ret)
		return ret;
	return signed_value(sc, start, neg, mag, out);
}

static int scan_end(struct scan *sc)
{
	if (sc->pos != sc->len)
		return fail(sc, sc->pos, -EINVAL, "trailing characters after the operand");
	return 0;
}

/*
 * A constant operand's value. Hand-written assembly may give an unsigned
 * 8-byte argument its full unsigned value ("8@$18446744073709551615");
 * the argument's bits are what matter, so imm keeps the bit pattern and
 * USDT_SPEC_U64 lets the printer give the same text back. Everything else
 * must fit int64_t, as before.
 */
static int scan_const(struct scan *sc, struct usdt_arg_spec *spec)
{
	size_t start = sc->pos;
	bool neg = accept(sc, '-');
	uint64_t mag;
	bool hex;
	int ret;

	spec->kind = USDT_OPERAND_CONST;
	ret = scan_magnitude(sc, &mag, &hex);
	if (ret)
		return ret;
	if (!neg && mag > (uint64_t)INT64_MAX && spec->size == 8 && !spec->is_signed) {
		/* two's complement: the int64_t with the same bits */
		spec->imm = -(int64_t)(UINT64_MAX - mag) - 1;
		spec->flags |= USDT_SPEC_U64;
	} else {
		ret = signed_value(sc, start, neg, mag, &spec->imm);
		if (ret)
			return ret;
	}
	if (hex)
		spec->flags |= USDT_SPEC_HEX;
	return scan_end(sc);
}

static int scan_symbol(struct scan *sc, char *sym)
{
	size_t start = sc->pos, n;

	if (!is_sym_start(peek(sc)))
		return fail(sc, sc->pos, -EINVAL, "symbol expected");
	while (is_sym_char(peek(sc)))
		sc->pos++;
	n = sc->pos - start;
	if (n >= USDT_SYMBOL_MAX)
		return fail(sc, start, -ENAMETOOLONG, "symbol name too long");
	memcpy(sym, sc->s + start, n);
	sym[n] = '\0';
	return 0;
}

/* "sym", "sym+N", "sym-N" (N unsigned); the symbol is already scanned. */
static int scan_symbol_offset(struct scan *sc, struct usdt_arg_spec *spec)
{
	size_t start = sc->pos;
	uint64_t mag;
	bool neg, hex;
	int ret;

	if (peek(sc) != '+' && peek(sc) != '-')
		return 0;
	neg = peek(sc) == '-';
	sc->pos++;
	ret = scan_magnitude(sc, &mag, &hex);
	if (ret)
		return ret;
	ret = signed_value(sc, start, neg, mag, &spec->disp);
	if (ret)
		return ret;
	if (hex)
		spec->flags |= USDT_SPEC_HEX;
	if (mag == 0)
		spec->flags |= USDT_SPEC_EXPLICIT_ZERO;
	return 0;
}

/* ------------------------------------------------------------------ */
/* x86 operands                                                        */
/* ------------------------------------------------------------------ */

static int x86_scan_reg(struct scan *sc, enum usdt_arch arch, const struct x86_reg **reg)
{
	size_t start = sc->pos;

	if (!accept(sc, '%'))
		return fail(sc, sc->pos, -EINVAL, "register expected");
	while (is_alnum(peek(sc)))
		sc->pos++;
	if (sc->pos == start + 1)
		return fail(sc, start, -EINVAL, "register name expected after '%'");
	*reg = x86_reg_by_name(sc->s + start + 1, sc->pos - start - 1, arch);
	if (!*reg)
		return fail(sc, start, -ENOENT, "unknown register");
	return 0;
}

static bool x86_addr_reg_ok(const struct x86_reg *r, enum usdt_arch arch)
{
	if (r->reg >= USDT_REG_X86_XMM0 || r->high8)
		return false;
	return r->size == 4 || (r->size == 8 && arch == USDT_ARCH_X86_64);
}

/* "(%base)", "(%base,%index[,scale])", "(,%index[,scale])" */
static int x86_scan_parens(struct scan *sc, struct usdt_arg_spec *spec, enum usdt_arch arch)
{
	const struct x86_reg *r;
	size_t start = sc->pos, at;
	int ret;

	sc->pos++; /* '(' */
	if (peek(sc) == '%') {
		at = sc->pos;
		ret = x86_scan_reg(sc, arch, &r);
		if (ret)
			return ret;
		if (!x86_addr_reg_ok(r, arch) && r->reg != USDT_REG_X86_IP)
			return fail(sc, at, -EINVAL, "register cannot address memory");
		spec->base = r->reg;
		spec->base_size = r->size;
	} else if (peek(sc) != ',') {
		return fail(sc, sc->pos, -EINVAL, "base register or ',' expected");
	}
	if (accept(sc, ',')) {
		at = sc->pos;
		ret = x86_scan_reg(sc, arch, &r);
		if (ret)
			return ret;
		if (!x86_addr_reg_ok(r, arch) || r->reg == USDT_REG_X86_SP ||
		    r->reg == USDT_REG_X86_IP)
			return fail(sc, at, -EINVAL, "register cannot be an index");
		if (spec->base == USDT_REG_X86_IP)
			return fail(sc, at, -EINVAL, "rip-relative operand with an index");
		if (spec->base != USDT_REG_NONE && spec->base_size != r->size)
			return fail(sc, at, -EINVAL, "base and index differ in width");
		spec->index = r->reg;
		spec->index_size = r->size;
		spec->scale = 1;
		if (accept(sc, ',')) {
			at = sc->pos;
			switch (peek(sc)) {
			case '1':
				spec->flags |= USDT_SPEC_SCALE1;
				/* fall through */
			case '2':
			case '4':
			case '8':
				spec->scale = (uint8_t)(peek(sc) - '0');
				sc->pos++;
				break;
			default:
				return fail(sc, at, -EINVAL, "scale must be 1, 2, 4 or 8");
			}
			if (is_digit(peek(sc)))
				return fail(sc, at, -EINVAL, "scale must be 1, 2, 4 or 8");
		}
	}
	if (!accept(sc, ')'))
		return fail(sc, peek(sc) < 0 ? start : sc->pos, -EINVAL,
			    peek(sc) < 0 ? "unbalanced '('" : "')' expected");
	return 0;
}

/*
 * Memory: DISP(BASE,INDEX,SCALE) with every part optional, DISP one of
 * "N", "sym", "sym+N", "sym-N", "N+sym"; or an absolute DISP alone.
 */
static int x86_scan_mem(struct scan *sc, struct usdt_arg_spec *spec, enum usdt_arch arch)
{
	size_t start = sc->pos;
	bool have_disp = false, hex;
	int ret;

	spec->kind = USDT_OPERAND_MEM;
	if (is_digit(peek(sc)) || peek(sc) == '-') {
		ret = scan_number(sc, &spec->disp, &hex);
		if (ret)
			return ret;
		have_disp = true;
		if (hex)
			spec->flags |= USDT_SPEC_HEX;
		if (spec->disp == 0)
			spec->flags |= USDT_SPEC_EXPLICIT_ZERO;
		if (accept(sc, '+')) {
			spec->flags |= USDT_SPEC_OFF_FIRST;
			ret = scan_symbol(sc, spec->symbol);
			if (ret)
				return ret;
		}
	} else if (is_sym_start(peek(sc))) {
		ret = scan_symbol(sc, spec->symbol);
		if (ret)
			return ret;
		have_disp = true;
		ret = scan_symbol_offset(sc, spec);
		if (ret)
			return ret;
	}
	if (peek(sc) == '(') {
		ret = x86_scan_parens(sc, spec, arch);
		if (ret)
			return ret;
	} else if (!have_disp) {
		return fail(sc, start, -EINVAL, "bad operand");
	}
	return scan_end(sc);
}

static int x86_scan_operand(struct scan *sc, struct usdt_arg_spec *spec, enum usdt_arch arch)
{
	const struct x86_reg *r;
	int ret;

	switch (peek(sc)) {
	case '$':
		sc->pos++;
		return scan_const(sc, spec);
	case '%':
		ret = x86_scan_reg(sc, arch, &r);
		if (ret)
			return ret;
		spec->kind = USDT_OPERAND_REG;
		spec->base = r->reg;
		spec->base_size = r->size;
		spec->base_high8 = r->high8;
		return scan_end(sc);
	case -1:
		return fail(sc, sc->pos, -EINVAL, "operand expected after '@'");
	default:
		return x86_scan_mem(sc, spec, arch);
	}
}

/* ------------------------------------------------------------------ */
/* aarch64 operands                                                    */
/* ------------------------------------------------------------------ */

static int a64_scan_reg(struct scan *sc, enum usdt_reg *reg, uint8_t *size)
{
	size_t start = sc->pos;

	while (is_alnum(peek(sc)))
		sc->pos++;
	if (sc->pos == start)
		return fail(sc, start, -EINVAL, "register expected");
	if (!a64_reg_by_name(sc->s + start, sc->pos - start, reg, size))
		return fail(sc, start, -ENOENT, "unknown register");
	return 0;
}

/* "[xN]", "[xN, OFF]", "[xN, #OFF]", "[xN, #:lo12:sym[+-N]]" */
static int a64_scan_mem(struct scan *sc, struct usdt_arg_spec *spec)
{
	size_t start = sc->pos, at;
	uint8_t size;
	bool hex;
	int ret;

	sc->pos++; /* '[' */
	spec->kind = USDT_OPERAND_MEM;
	at = sc->pos;
	ret = a64_scan_reg(sc, &spec->base, &size);
	if (ret)
		return ret;
	if (size != 8 || spec->base >= USDT_REG_A64_V0)
		return fail(sc, at, -EINVAL, "register cannot address memory");
	spec->base_size = size;
	if (accept(sc, ',')) {
		if (!accept(sc, ' '))
			return fail(sc, sc->pos, -EINVAL, "expected ', ' after the base register");
		if (accept(sc, '#'))
			spec->flags |= USDT_SPEC_A64_HASH;
		if (accept_str(sc, ":lo12:")) {
			spec->reloc = USDT_RELOC_A64_LO12;
			ret = scan_symbol(sc, spec->symbol);
			if (ret)
				return ret;
			ret = scan_symbol_offset(sc, spec);
			if (ret)
				return ret;
		} else {
			ret = scan_number(sc, &spec->disp, &hex);
			if (ret)
				return ret;
			if (hex)
				spec->flags |= USDT_SPEC_HEX;
			if (spec->disp == 0)
				spec->flags |= USDT_SPEC_EXPLICIT_ZERO;
		}
	}
	if (!accept(sc, ']'))
		return fail(sc, peek(sc) < 0 ? start : sc->pos, -EINVAL,
			    peek(sc) < 0 ? "unbalanced '['" : "']' expected");
	return scan_end(sc);
}

static int a64_scan_operand(struct scan *sc, struct usdt_arg_spec *spec)
{
	int ret;

	if (peek(sc) == '[')
		return a64_scan_mem(sc, spec);
	if (peek(sc) == '#' || peek(sc) == '-' || is_digit(peek(sc))) {
		if (accept(sc, '#'))
			spec->flags |= USDT_SPEC_A64_HASH;
		return scan_const(sc, spec);
	}
	if (peek(sc) < 0)
		return fail(sc, sc->pos, -EINVAL, "operand expected after '@'");
	ret = a64_scan_reg(sc, &spec->base, &spec->base_size);
	if (ret)
		return ret;
	spec->kind = USDT_OPERAND_REG;
	return scan_end(sc);
}

/* ------------------------------------------------------------------ */
/* Parser entry points                                                 */
/* ------------------------------------------------------------------ */

static int parse_spec(struct usdt_arg_spec *spec, const char *text, size_t len, enum usdt_arch arch,
		      struct usdt_parse_error *err)
{
	struct scan sc = {.s = text, .len = len, .err = err};
	size_t start;

	if (!spec || (!text && len))
		return fail(&sc, 0, -EINVAL, "no spec");
	memset(spec, 0, sizeof(*spec));
	if (!arch_is_x86(arch) && arch != USDT_ARCH_AARCH64)
		return fail(&sc, 0, -ENOTSUP, "unsupported architecture");
	if (len == 0)
		return fail(&sc, 0, -EINVAL, "empty argument spec");

	spec->is_signed = accept(&sc, '-');
	start = sc.pos;
	while (is_digit(peek(&sc)))
		sc.pos++;
	if (sc.pos == start)
		return fail(&sc, start, -EINVAL, "argument size expected");
	/* Exactly one digit: "04" or "16" would not print back as written. */
	if (sc.pos - start != 1 || log2_size(text[start] - '0') < 0)
		return fail(&sc, start, -EDOM, "argument size must be 1, 2, 4 or 8");
	spec->size = (uint8_t)(text[start] - '0');
	spec->is_float = accept(&sc, 'f');
	if (!accept(&sc, '@'))
		return fail(&sc, sc.pos, -EINVAL, "'@' expected after the argument size");

	if (arch == USDT_ARCH_AARCH64)
		return a64_scan_operand(&sc, spec);
	return x86_scan_operand(&sc, spec, arch);
}

USDT_API int usdt_arg_spec__parse(struct usdt_arg_spec *spec, const char *text, size_t len,
				  enum usdt_arch arch, struct usdt_parse_error *err)
{
	int ret = parse_spec(spec, text, len, arch, err);

	if (ret < 0)
		errno = -ret;
	return ret;
}

USDT_API int usdt_arg_specs__parse(struct usdt_arg_spec *specs, size_t max, const char *args,
				   enum usdt_arch arch, struct usdt_parse_error *err)
{
	size_t i = 0, count = 0;
	int ret;

	if (!args || (!specs && max)) {
		ret = -EINVAL;
		if (err) {
			err->pos = 0;
			err->msg = "no argument string";
		}
		goto out;
	}
	if (!arch_is_x86(arch) && arch != USDT_ARCH_AARCH64) {
		ret = -ENOTSUP;
		if (err) {
			err->pos = 0;
			err->msg = "unsupported architecture";
		}
		goto out;
	}
	for (;;) {
		size_t start, depth = 0;

		while (args[i] == ' ' || args[i] == '\t')
			i++;
		if (!args[i])
			break;
		start = i;
		/* aarch64 memory operands contain a space: "[sp, 12]". */
		while (args[i] && ((args[i] != ' ' && args[i] != '\t') || depth)) {
			if (args[i] == '[')
				depth++;
			else if (args[i] == ']' && depth)
				depth--;
			i++;
		}
		if (count == max) {
			ret = -E2BIG;
			if (err) {
				err->pos = start;
				err->msg = "too many arguments";
			}
			goto out;
		}
		ret = parse_spec(&specs[count], args + start, i - start, arch, err);
		if (ret) {
			if (err)
				err->pos += start;
			goto out;
		}
		count++;
	}
	return (int)count;
out:
	errno = -ret;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Printer                                                             */
/* ------------------------------------------------------------------ */

struct out {
	char *buf;
	size_t size;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void out_fmt(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->len < o->size)
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
}

/* A number as scan_number() reads it. */
static void out_num(struct out *o, int64_t v, bool hex)
{
	if (hex)
		out_fmt(o, "%s0x%llx", v < 0 ? "-" : "", (unsigned long long)magnitude(v));
	else
		out_fmt(o, "%lld", (long long)v);
}

/* A constant as scan_const() reads it. */
static int out_const(struct out *o, const struct usdt_arg_spec *spec)
{
	bool hex = spec->flags & USDT_SPEC_HEX;

	if (!(spec->flags & USDT_SPEC_U64)) {
		out_num(o, spec->imm, hex);
		return 0;
	}
	/* Only what scan_const() produces, so that printing round-trips. */
	if (spec->imm >= 0 || spec->size != 8 || spec->is_signed)
		return -EINVAL;
	out_fmt(o, hex ? "0x%llx" : "%llu", (unsigned long long)(uint64_t)spec->imm);
	return 0;
}

/* "sym", "sym+N", "sym-N" as scan_symbol_offset() reads them. */
static void out_sym_offset(struct out *o, const struct usdt_arg_spec *spec)
{
	bool hex = spec->flags & USDT_SPEC_HEX;

	out_fmt(o, "%s", spec->symbol);
	if (spec->disp == 0 && !(spec->flags & USDT_SPEC_EXPLICIT_ZERO))
		return;
	out_fmt(o, "%c", spec->disp < 0 ? '-' : '+');
	if (hex)
		out_fmt(o, "0x%llx", (unsigned long long)magnitude(spec->disp));
	else
		out_fmt(o, "%llu", (unsigned long long)magnitude(spec->disp));
}

static int x86_print_operand(struct out *o, const struct usdt_arg_spec *spec, enum usdt_arch arch)
{
	const char *base = NULL, *index = NULL;
	bool hex = spec->flags & USDT_SPEC_HEX;

	switch (spec->kind) {
	case USDT_OPERAND_CONST:
		out_fmt(o, "$");
		return out_const(o, spec);
	case USDT_OPERAND_REG:
		base = x86_reg_name(spec->base, spec->base_size, spec->base_high8, arch);
		if (!base)
			return -EINVAL;
		out_fmt(o, "%%%s", base);
		return 0;
	case USDT_OPERAND_MEM:
		break;
	default:
		return -EINVAL;
	}
	if (spec->reloc != USDT_RELOC_NONE)
		return -EINVAL;
	if (spec->base != USDT_REG_NONE) {
		base = x86_reg_name(spec->base, spec->base_size, false, arch);
		if (!base)
			return -EINVAL;
	}
	if (spec->index != USDT_REG_NONE) {
		index = x86_reg_name(spec->index, spec->index_size, false, arch);
		if (!index || log2_size(spec->scale) < 0 || spec->scale > 8)
			return -EINVAL;
	}
	if (spec->symbol[0]) {
		if (spec->flags & USDT_SPEC_OFF_FIRST) {
			out_num(o, spec->disp, hex);
			out_fmt(o, "+%s", spec->symbol);
		} else {
			out_sym_offset(o, spec);
		}
	} else if (spec->disp != 0 || (spec->flags & USDT_SPEC_EXPLICIT_ZERO) ||
		   (!base && !index)) {
		out_num(o, spec->disp, hex);
	}
	if (!base && !index)
		return 0;
	out_fmt(o, "(%s%s", base ? "%" : "", base ? base : "");
	if (index) {
		out_fmt(o, ",%%%s", index);
		if (spec->scale != 1 || (spec->flags & USDT_SPEC_SCALE1))
			out_fmt(o, ",%u", (unsigned int)spec->scale);
	}
	out_fmt(o, ")");
	return 0;
}

static int a64_print_operand(struct out *o, const struct usdt_arg_spec *spec)
{
	const char *hash = (spec->flags & USDT_SPEC_A64_HASH) ? "#" : "";
	bool hex = spec->flags & USDT_SPEC_HEX;
	const char *base;

	switch (spec->kind) {
	case USDT_OPERAND_CONST:
		out_fmt(o, "%s", hash);
		return out_const(o, spec);
	case USDT_OPERAND_REG:
		base = a64_reg_name(spec->base, spec->base_size, spec->base_high8);
		if (!base)
			return -EINVAL;
		out_fmt(o, "%s", base);
		return 0;
	case USDT_OPERAND_MEM:
		break;
	default:
		return -EINVAL;
	}
	if (spec->base_size != 8 || spec->base >= USDT_REG_A64_V0 || spec->index != USDT_REG_NONE)
		return -EINVAL;
	base = a64_reg_name(spec->base, spec->base_size, false);
	if (!base)
		return -EINVAL;
	out_fmt(o, "[%s", base);
	if (spec->reloc == USDT_RELOC_A64_LO12) {
		if (!spec->symbol[0])
			return -EINVAL;
		out_fmt(o, ", %s:lo12:", hash);
		out_sym_offset(o, spec);
	} else if (spec->reloc != USDT_RELOC_NONE || spec->symbol[0]) {
		return -EINVAL;
	} else if (spec->disp != 0 || (spec->flags & USDT_SPEC_EXPLICIT_ZERO)) {
		out_fmt(o, ", %s", hash);
		out_num(o, spec->disp, hex);
	}
	out_fmt(o, "]");
	return 0;
}

USDT_API int usdt_arg_spec__print(const struct usdt_arg_spec *spec, enum usdt_arch arch, char *buf,
				  size_t size)
{
	struct out o = {.buf = buf, .size = buf ? size : 0};
	int ret;

	if (!spec || log2_size(spec->size) < 0 || spec->size > 8 ||
	    strnlen(spec->symbol, sizeof(spec->symbol)) == sizeof(spec->symbol) ||
	    ((spec->flags & USDT_SPEC_U64) && spec->kind != USDT_OPERAND_CONST)) {
		ret = -EINVAL;
		goto err;
	}
	if (!arch_is_x86(arch) && arch != USDT_ARCH_AARCH64) {
		ret = -ENOTSUP;
		goto err;
	}
	if (o.size)
		o.buf[0] = '\0';
	out_fmt(&o, "%s%u%s@", spec->is_signed ? "-" : "", (unsigned int)spec->size,
		spec->is_float ? "f" : "");
	if (arch == USDT_ARCH_AARCH64)
		ret = a64_print_operand(&o, spec);
	else
		ret = x86_print_operand(&o, spec, arch);
	if (ret)
		goto err;
	if (o.len > INT_MAX) {
		ret = -EOVERFLOW;
		goto err;
	}
	return (int)o.len;
err:
	if (buf && size)
		buf[0] = '\0';
	errno = -ret;
	return ret;
}
