/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * usdtkit compile-time probes: static USDT probes for C and C++, in the
 * SystemTap ".note.stapsdt" format, plus usdtkit's typed metadata note.
 *
 * A probe costs a nop in the instruction stream while nobody traces it:
 * on x86-64 a 5-byte nop that the kernel can turn into a fast trampoline
 * call, inside a site that keeps the red zone safe (USDT_I_SITE below;
 * USDT_CLASSIC_NOP selects the 1-byte nop). Everything a tracer needs
 * (where the nop is, where each argument lives, the semaphore) goes into
 * an unallocated note section, so readelf -n, gdb "info probes", perf,
 * bcc's tplist, bpftrace and the usdtkit CLI all find the probes in the
 * file. The compiler itself writes each argument's location (asm operand
 * constraints); the header only adds the size and signedness that it
 * derives from the argument's type.
 *
 * Header-only: include it, no library to link.
 *
 * ---------------------------------------------------------------------
 * Macros
 * ---------------------------------------------------------------------
 *   USDT(provider, name, args...)
 *	A probe with 0 to 12 arguments: integers (any width, signed or
 *	not, enums, bool), pointers, arrays and string literals (passed as
 *	pointers), float and double (spec "4f@"/"8f@"). Arguments are
 *	evaluated each time the probe point is reached.
 *
 *   USDT_SEMAPHORE(provider, name);
 *	Defines the probe's semaphore, an `unsigned short` named
 *	provider_name_semaphore in section ".probes" (hidden visibility,
 *	kept by the linker). The kernel (uprobe ref_ctr_offset) or a tracer
 *	raises it while the probe is traced. Define it once per program or
 *	shared object, at file scope.
 *   USDT_DECLARE_SEMAPHORE(provider, name);
 *	Declares it in the other translation units that use the probe.
 *   USDT_IS_ACTIVE(provider, name)
 *	True while the probe is traced (semaphore != 0); predicted false.
 *	Use it to skip work that only feeds the probe.
 *   USDT_WITH_SEMAPHORE(provider, name, args...)
 *	A probe whose note names the semaphore; its arguments are evaluated
 *	only while the probe is traced. Needs the semaphore in scope.
 *
 *   USDT_TYPED(provider, name, USDT_ARG(type, argname, value)...)
 *   USDT_TYPED_WITH_SEMAPHORE(provider, name, USDT_ARG(type, argname, value)...)
 *	The same probes, with 0 to 12 typed, named arguments. Besides the
 *	stapsdt note they emit a ".note.usdtkit" note (see stapsdt.h) that
 *	tells usdtkit's tracer each argument's name and type. type is one of
 *	i8 u8 i16 u16 i32 u32 i64 u64 f64 str ptr; argname a C identifier.
 *	The value is converted to the declared type, like a function
 *	argument, and the compiler rejects values that do not fit: an
 *	integer wider than both the declared type and int (a size_t given as
 *	u32 would truncate; int literals and promoted small values are fine),
 *	a pointer for a number, a number for str/ptr, an integer for f64.
 *	(In C++ the conversion is a static_cast: a str takes char pointers.)
 *
 * Example:
 *
 *	#include <usdtkit/sdt.h>
 *
 *	USDT_SEMAPHORE(shop, checkout);
 *
 *	void serve(const char *path, size_t bytes, int status)
 *	{
 *		USDT(shop, request, path, bytes);
 *		USDT_TYPED(shop, done, USDT_ARG(str, path, path),
 *			   USDT_ARG(u64, bytes, bytes), USDT_ARG(i32, status, status));
 *		if (USDT_IS_ACTIVE(shop, checkout))
 *			USDT(shop, checkout_slow, expensive_summary());
 *		USDT_TYPED_WITH_SEMAPHORE(shop, checkout, USDT_ARG(str, cart, cart_text()));
 *	}
 *
 *	$ usdtkit list ./shop
 *	$ bpftrace -e 'usdt:./shop:shop:request { printf("%s %d\n", str(arg0), arg1); }'
 *
 * Notes
 * - provider and name are pasted and stringized after macro expansion:
 *   they must be plain identifiers that are not macros (beware "linux",
 *   "unix" and "i386", which GNU C modes predefine).
 * - USDT_ARG_CONSTRAINT (default "nor": constant, offsettable memory or
 *   register) may be defined to another constraint string before the
 *   include, e.g. "g", if the compiler reports an impossible reload.
 * - Floating-point arguments get the "f" marker ("8f@%rdx"), as sys/sdt.h
 *   writes it; gdb and usdtkit read it, but bcc's parser (used by
 *   bpftrace 0.17) and libbpf 1.1 cannot parse it and give up on that
 *   probe's arguments. Define USDT_FLOAT_MARKER to 0 before the include
 *   for plain "8@" specs that those tools accept.
 * - x86-64 (GCC): a probe is `mov %rsp,%r11; lea -128(%rsp),%rsp; nop5;
 *   mov %r11,%rsp` with the note's pc on the nop5, so kernels with
 *   optimized uprobes (6.18) replace the int3 trap by a trampoline call;
 *   %r11 is clobbered and stack operands are written relative to it. An
 *   unwinder stopped at the probe (gdb "bt" at a probe breakpoint, perf
 *   --call-graph dwarf) sees %rsp 128 bytes low in functions whose CFA is
 *   %rsp-based. Define USDT_CLASSIC_NOP before the include for the 1-byte
 *   nop of sys/sdt.h (see docs/sdt-header.md).
 * - Defining USDTKIT_DISABLE_PROBES before the include compiles every
 *   probe out: no code, no notes, arguments type-checked but never
 *   evaluated, USDT_IS_ACTIVE always false.
 * - Bit-fields need a conversion to their type (`+s.bits` in C).
 * - Probes in C++ inline functions and templates follow their function's
 *   COMDAT group, so duplicates discarded by the linker leave no note.
 * - Names starting with USDT_I_ or usdt_i_ are internal.
 */
#ifndef USDTKIT_SDT_H
#define USDTKIT_SDT_H

#include <stdint.h>
#ifdef __cplusplus
#include <cstddef>
#include <type_traits>
#endif

#ifndef USDT_ARG_CONSTRAINT
#if defined(__aarch64__) && !defined(__clang__)
/*
 * aarch64 GCC: "o" admits a symbol's lo_sum address, which prints as
 * "[x1, #:lo12:.LANCHOR0]", an assembler-local symbol no reader can
 * resolve. "Ump" (a load/store-pair address: base register plus a small
 * immediate, such as "[sp, 88]") never has a symbol part; other memory
 * operands go through a register.
 */
#define USDT_ARG_CONSTRAINT "nUmpr"
#else
#define USDT_ARG_CONSTRAINT "nor"
#endif
#endif
#ifndef USDT_FLOAT_MARKER
#define USDT_FLOAT_MARKER 1
#endif

/* ------------------------------------------------------------------ */
/* Preprocessor helpers                                                */
/* ------------------------------------------------------------------ */

#define USDT_I_CAT(a, b) USDT_I_CAT_(a, b)
#define USDT_I_CAT_(a, b) a##b
#define USDT_I_STR(x) USDT_I_STR_(x)
#define USDT_I_STR_(x) #x
#define USDT_I_COMMA() ,
#define USDT_I_SPACE() " "
#define USDT_I_NOTHING()

/* provider and name out of a "provider, name, args..." list */
#define USDT_I_PROV(...) USDT_I_PROV_(__VA_ARGS__, ~)
#define USDT_I_PROV_(p, ...) p
#define USDT_I_NAME(...) USDT_I_NAME_(__VA_ARGS__, ~)
#define USDT_I_NAME_(p, n, ...) n

/*
 * Number of probe arguments in "provider, name, args...": 0..12. Counting
 * the whole list keeps the variadic part non-empty even for 0 arguments,
 * which strict C99/C++11 require.
 */
#define USDT_I_NARGS(...) USDT_I_NARGS_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, ~, ~)
#define USDT_I_NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, n, ...) n

/*
 * USDT_I_MAP_k(M, S, provider, name, a1..ak) -> M(1, a1) S() M(2, a2) ...
 * The index becomes part of the asm operand names.
 */
#define USDT_I_MAP_0(M, S, p, n)
#define USDT_I_MAP_1(M, S, p, n, a1) M(1, a1)
#define USDT_I_MAP_2(M, S, p, n, a1, a2) M(1, a1) S() M(2, a2)
#define USDT_I_MAP_3(M, S, p, n, a1, a2, a3) USDT_I_MAP_2(M, S, p, n, a1, a2) S() M(3, a3)
#define USDT_I_MAP_4(M, S, p, n, a1, a2, a3, a4) USDT_I_MAP_3(M, S, p, n, a1, a2, a3) S() M(4, a4)
#define USDT_I_MAP_5(M, S, p, n, a1, a2, a3, a4, a5) \
	USDT_I_MAP_4(M, S, p, n, a1, a2, a3, a4) S() M(5, a5)
#define USDT_I_MAP_6(M, S, p, n, a1, a2, a3, a4, a5, a6) \
	USDT_I_MAP_5(M, S, p, n, a1, a2, a3, a4, a5) S() M(6, a6)
#define USDT_I_MAP_7(M, S, p, n, a1, a2, a3, a4, a5, a6, a7) \
	USDT_I_MAP_6(M, S, p, n, a1, a2, a3, a4, a5, a6) S() M(7, a7)
#define USDT_I_MAP_8(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8) \
	USDT_I_MAP_7(M, S, p, n, a1, a2, a3, a4, a5, a6, a7) S() M(8, a8)
#define USDT_I_MAP_9(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9) \
	USDT_I_MAP_8(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8) S() M(9, a9)
#define USDT_I_MAP_10(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) \
	USDT_I_MAP_9(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9) S() M(10, a10)
#define USDT_I_MAP_11(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) \
	USDT_I_MAP_10(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10) S() M(11, a11)
#define USDT_I_MAP_12(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12) \
	USDT_I_MAP_11(M, S, p, n, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) S() M(12, a12)

/* ------------------------------------------------------------------ */
/* Argument size, signedness and class                                 */
/* ------------------------------------------------------------------ */

/*
 * Each argument gets one "n" operand, its kind: the size in bytes in the
 * low byte, 0x100 when signed, 0x200 for floating point. The asm template
 * turns it into the spec prefix ("-4@", "8@", "8f@") with assembler
 * conditionals, so no assembler macros are defined or purged.
 */
#define USDT_I_K_SIGNED 0x100
#define USDT_I_K_FLOAT 0x200

#ifdef __cplusplus

template <typename T, bool E = std::is_enum<T>::value> struct usdt_i_arith {
	typedef T type;
};
template <typename T> struct usdt_i_arith<T, true> {
	typedef typename std::underlying_type<T>::type type;
};

template <typename T> struct usdt_i_arg {
	typedef typename std::decay<T>::type D;
	typedef typename usdt_i_arith<D>::type A;
	static const bool is_float = std::is_floating_point<D>::value;
	static const bool is_int = std::is_integral<A>::value;
	static const bool is_ptr =
		std::is_pointer<D>::value || std::is_same<D, std::nullptr_t>::value;
	static const bool is_signed = is_int && std::is_signed<A>::value;
	static const unsigned size = sizeof(D);
};

#define USDT_I_ARG_T(x) usdt_i_arg<decltype(x)>
#define USDT_I_SIZE(x) (USDT_I_ARG_T(x)::size)
#define USDT_I_IS_INT(x) (USDT_I_ARG_T(x)::is_int)
#define USDT_I_IS_PTR(x) (USDT_I_ARG_T(x)::is_ptr)
#define USDT_I_IS_FLOAT(x) (USDT_I_ARG_T(x)::is_float)
#define USDT_I_SIGNED(x) (USDT_I_ARG_T(x)::is_signed)
#define USDT_I_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define USDT_I_CAST(type, x) static_cast<type>(x)

#else /* C */

/*
 * __builtin_classify_type: 1..4 integer, char, enum, bool; 5 pointer
 * (arrays and string literals decay to it); 8 real floating point.
 */
#define USDT_I_CLASS(x) __builtin_classify_type(x)
#define USDT_I_IS_INT(x) ((unsigned)(USDT_I_CLASS(x) - 1) < 4u)
#define USDT_I_IS_PTR(x) (USDT_I_CLASS(x) == 5 || USDT_I_CLASS(x) == 14)
#define USDT_I_IS_FLOAT(x) (USDT_I_CLASS(x) == 8)
#define USDT_I_SIZE(x) (USDT_I_IS_PTR(x) ? sizeof(void *) : sizeof(x))
/*
 * An integer type to test the sign of: x's own when it is an integer.
 * "(T)-1 < (T)1" rather than "< 0" keeps -Wtype-limits quiet.
 */
#define USDT_I_INTTYPE(x) __typeof__(__builtin_choose_expr(USDT_I_IS_INT(x), (x), 0u))
#define USDT_I_SIGNED(x) ((USDT_I_INTTYPE(x))(-1) < (USDT_I_INTTYPE(x))(1))
#define USDT_I_CAST(type, x) ((type)(x))
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define USDT_I_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define USDT_I_STATIC_ASSERT(cond, msg) ((void)sizeof(char[(cond) ? 1 : -1]))
#endif

#endif /* C */

#define USDT_I_KIND(x)                                                                      \
	(USDT_I_CAST(unsigned, USDT_I_SIZE(x)) | (USDT_I_SIGNED(x) ? USDT_I_K_SIGNED : 0) | \
	 (USDT_FLOAT_MARKER && USDT_I_IS_FLOAT(x) ? USDT_I_K_FLOAT : 0))

#define USDT_I_SIZE_OK(x) \
	(USDT_I_SIZE(x) == 1 || USDT_I_SIZE(x) == 2 || USDT_I_SIZE(x) == 4 || USDT_I_SIZE(x) == 8)

/* ------------------------------------------------------------------ */
/* The probe site (x86-64)                                             */
/* ------------------------------------------------------------------ */

/*
 * USDT_I_SITE is the code of a probe, with local label 770 on the
 * instruction the note's pc names; USDT_I_OPERAND(i) the text of argument
 * i's location as the spec writes it; USDT_I_CLOBBERS the registers the
 * site uses.
 *
 * x86-64 default, the optimizable site (docs/sdt-header.md):
 *
 *	mov  %rsp, %r11
 *	lea  -128(%rsp), %rsp
 * 770:	nopl 0x0(%rax,%rax,1)		0f 1f 44 00 00, the probed instruction
 *	mov  %r11, %rsp
 *
 * Kernels with optimized uprobes (6.18) rewrite a probed 5-byte nop into
 * a call to the [uprobes-trampoline] page, which enters the kernel by the
 * uprobe() syscall instead of an int3 trap: about half the cost per hit.
 * That call and the trampoline push up to 32 bytes below %rsp, where a
 * leaf function may keep live locals (the 128-byte red zone). Here %rsp
 * points 128 bytes lower while the nop runs, so whatever the kernel writes
 * lands below the red zone, which the ABI never lets code keep live (a
 * signal may clobber it at any time). %r11 (caller-saved, declared
 * clobbered, so no argument lives there) keeps the original %rsp: restoring
 * from it is a register move, so the site adds no dependency on %rsp and
 * costs the same as a 1-byte nop when untraced. Every reader probes the
 * note's pc, the nop5, whether or not the kernel optimizes it; with an int3
 * there, nothing is written to the user stack at all.
 *
 * At the nop %rsp is not the function's own, so an argument the compiler
 * placed relative to it ("8(%rsp)", or %rsp itself) is written in the spec
 * relative to %r11 instead ("8(%r11)"): the assembler copies the operand
 * text character by character and renames %rsp, %esp, %sp and %spl to
 * %r11, %r11d, %r11w and %r11b. Every other operand is copied unchanged.
 *
 * USDT_CLASSIC_NOP, defined before the include, selects the classic site:
 * a 1-byte nop, as sys/sdt.h emits, with no clobber and operands as the
 * compiler writes them. Other architectures get it, and so does clang:
 * LLVM's assembler iterates the quotes of an .irpc string and cannot take
 * the operand unquoted (a SIB operand has commas), so the rename above is
 * GNU as only for now.
 */
#if defined(__x86_64__) && !defined(__clang__) && !defined(USDT_CLASSIC_NOP)

#define USDT_I_SITE                                  \
	"\tmov %%rsp, %%r11\n"                       \
	"\tlea -128(%%rsp), %%rsp\n"                 \
	"770:\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" \
	"\tmov %%r11, %%rsp\n"
#define USDT_I_CLOBBERS "r11"

/*
 * The operand text, renamed: .irpc walks its characters. .Lusdt_st holds
 * what was seen after a '%' but not yet copied (1 "%", 2 "%r", 3 "%e",
 * 4 "%s", 5 "%rs", 6 "%es", 7 "%sp"), .Lusdt_o the state before this
 * character, .Lusdt_u whether the state machine consumed it. Only .if,
 * .else and ".ifc literal,char" (the character last, so a ',' compares
 * right), which GNU as and LLVM's assembler read alike.
 */
#define USDT_I_IS(ch) "\t.set .Lusdt_m, 0\n\t.ifc " ch ",\\usdt_c\n\t.set .Lusdt_m, 1\n\t.endif\n"
#define USDT_I_OUT(text) "\t.ascii \"" text "\"\n"
#define USDT_I_EAT "\t.set .Lusdt_u, 1\n"
/* clang-format off */
#define USDT_I_OPERAND(i)                                                          \
	"\t.set .Lusdt_st, 0\n"                                                    \
	"\t.irpc usdt_c, \"%[usdt_a" #i "]\"\n"                                    \
	"\t.set .Lusdt_o, .Lusdt_st\n\t.set .Lusdt_st, 0\n\t.set .Lusdt_u, 0\n"    \
	"\t.if .Lusdt_o == 7\n" USDT_I_IS("l")                                     \
	"\t.if .Lusdt_m\n" USDT_I_OUT("r11b") USDT_I_EAT                           \
	"\t.else\n" USDT_I_OUT("r11w") "\t.endif\n"                                \
	"\t.endif\n"                                                               \
	"\t.if .Lusdt_o == 5 || .Lusdt_o == 6\n" USDT_I_IS("p")                    \
	"\t.if .Lusdt_m\n" USDT_I_OUT("r11") USDT_I_EAT                            \
	"\t.if .Lusdt_o == 6\n" USDT_I_OUT("d") "\t.endif\n"                       \
	"\t.else\n\t.if .Lusdt_o == 5\n" USDT_I_OUT("rs")                          \
	"\t.else\n" USDT_I_OUT("es") "\t.endif\n"                                  \
	"\t.endif\n"                                                               \
	"\t.endif\n"                                                               \
	"\t.if .Lusdt_o == 2 || .Lusdt_o == 3\n" USDT_I_IS("s")                    \
	"\t.if .Lusdt_m\n\t.set .Lusdt_st, .Lusdt_o + 3\n" USDT_I_EAT              \
	"\t.else\n\t.if .Lusdt_o == 2\n" USDT_I_OUT("r")                           \
	"\t.else\n" USDT_I_OUT("e") "\t.endif\n"                                   \
	"\t.endif\n"                                                               \
	"\t.endif\n"                                                               \
	"\t.if .Lusdt_o == 4\n" USDT_I_IS("p")                                     \
	"\t.if .Lusdt_m\n\t.set .Lusdt_st, 7\n" USDT_I_EAT                         \
	"\t.else\n" USDT_I_OUT("s") "\t.endif\n"                                   \
	"\t.endif\n"                                                               \
	"\t.if .Lusdt_o == 1\n"                                                    \
	USDT_I_IS("r") "\t.if .Lusdt_m\n\t.set .Lusdt_st, 2\n" USDT_I_EAT "\t.endif\n" \
	USDT_I_IS("e") "\t.if .Lusdt_m\n\t.set .Lusdt_st, 3\n" USDT_I_EAT "\t.endif\n" \
	USDT_I_IS("s") "\t.if .Lusdt_m\n\t.set .Lusdt_st, 4\n" USDT_I_EAT "\t.endif\n" \
	"\t.endif\n"                                                               \
	"\t.if .Lusdt_u == 0\n" USDT_I_IS("%%")                                    \
	"\t.if .Lusdt_m\n\t.set .Lusdt_st, 1\n\t.endif\n"                          \
	USDT_I_OUT("\\usdt_c")                                                     \
	"\t.endif\n"                                                               \
	"\t.endr\n"                                                                \
	"\t.if .Lusdt_st == 2\n" USDT_I_OUT("r") "\t.endif\n"                      \
	"\t.if .Lusdt_st == 3\n" USDT_I_OUT("e") "\t.endif\n"                      \
	"\t.if .Lusdt_st == 4\n" USDT_I_OUT("s") "\t.endif\n"                      \
	"\t.if .Lusdt_st == 5\n" USDT_I_OUT("rs") "\t.endif\n"                     \
	"\t.if .Lusdt_st == 6\n" USDT_I_OUT("es") "\t.endif\n"                     \
	"\t.if .Lusdt_st == 7\n" USDT_I_OUT("r11w") "\t.endif\n"
/* clang-format on */

#else /* classic site */

#define USDT_I_SITE "770:\tnop\n"
#define USDT_I_CLOBBERS
#define USDT_I_OPERAND(i) "\t.ascii \"%[usdt_a" #i "]\"\n"

#endif /* site */

/* ------------------------------------------------------------------ */
/* The note                                                            */
/* ------------------------------------------------------------------ */

#if __SIZEOF_POINTER__ == 8
#define USDT_I_ADDR ".8byte"
#else
#define USDT_I_ADDR ".4byte"
#endif

#define USDT_I_SEMA_SYM(p, n) p##_##n##_semaphore

/*
 * Local labels: 770 the probed instruction (the note's pc, see
 * USDT_I_SITE), 771..774 the note's name and descriptor bounds. "?" puts
 * the note in the section group of the code around it, so a discarded
 * COMDAT copy takes its note along.
 */
#define USDT_I_NOTE_HEAD(p, n, sema)                    \
	USDT_I_SITE                                     \
	"\t.pushsection .note.stapsdt,\"?\",\"note\"\n" \
	"\t.balign 4\n"                                 \
	"\t.4byte 772f-771f, 774f-773f, 3\n"            \
	"771:\t.asciz \"stapsdt\"\n"                    \
	"772:\t.balign 4\n"                             \
	"773:\t" USDT_I_ADDR " 770b\n"                  \
	"\t" USDT_I_ADDR " _.stapsdt.base\n"            \
	"\t" USDT_I_ADDR " " sema "\n"                  \
	"\t.asciz \"" #p "\"\n"                         \
	"\t.asciz \"" #n "\"\n"

/* One argument spec: [-]SIZE[f]@OPERAND */
#define USDT_I_SPEC(i, x)                            \
	"\t.if (%c[usdt_k" #i "] & 0x100)\n"         \
	"\t.ascii \"-\"\n"                           \
	"\t.endif\n"                                 \
	"\t.byte 0x30 + (%c[usdt_k" #i "] & 0xff)\n" \
	"\t.if (%c[usdt_k" #i "] & 0x200)\n"         \
	"\t.ascii \"f\"\n"                           \
	"\t.endif\n"                                 \
	"\t.ascii \"@\"\n" USDT_I_OPERAND(i)
#define USDT_I_SPEC_SEP() "\t.ascii \" \"\n"

#define USDT_I_NOTE_TAIL    \
	"\t.byte 0\n"       \
	"774:\t.balign 4\n" \
	"\t.popsection\n"

/*
 * The typed metadata note: same pc label as the stapsdt note, so a reader
 * joins the two by (provider, name, pc).
 */
#define USDT_I_META(p, n, args)                         \
	"\t.pushsection .note.usdtkit,\"?\",\"note\"\n" \
	"\t.balign 4\n"                                 \
	"\t.4byte 776f-775f, 778f-777f, 1\n"            \
	"775:\t.asciz \"usdtkit\"\n"                    \
	"776:\t.balign 4\n"                             \
	"777:\t" USDT_I_ADDR " 770b\n"                  \
	"\t.asciz \"" #p "\"\n"                         \
	"\t.asciz \"" #n "\"\n"                         \
	"\t.asciz \"" args "\"\n"                       \
	"778:\t.balign 4\n"                             \
	"\t.popsection\n"

/*
 * One 1-byte section per object, in a COMDAT group so every probe of the
 * object (and every sys/sdt.h probe linked with it) shares it: readers
 * compare its final address with the base recorded in the notes.
 */
#define USDT_I_BASE                                                               \
	"\t.ifndef _.stapsdt.base\n"                                              \
	"\t.pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
	"\t.weak _.stapsdt.base\n"                                                \
	"\t.hidden _.stapsdt.base\n"                                              \
	"_.stapsdt.base:\n"                                                       \
	"\t.space 1\n"                                                            \
	"\t.size _.stapsdt.base, 1\n"                                             \
	"\t.popsection\n"                                                         \
	"\t.endif\n"

/* ------------------------------------------------------------------ */
/* Untyped and typed argument lists                                    */
/* ------------------------------------------------------------------ */

/* Untyped: an argument is its value expression. */
#define USDT_I_U_OP(i, x) [usdt_k##i] "n"(USDT_I_KIND(x)), [usdt_a##i] USDT_ARG_CONSTRAINT(x)
#define USDT_I_U_CHECK(i, x)                                                  \
	USDT_I_STATIC_ASSERT(USDT_I_SIZE_OK(x),                               \
			     "usdtkit: a probe argument must be an integer, " \
			     "pointer or floating value of 1, 2, 4 or 8 bytes");
#define USDT_I_U_META(p, n, k, ...)

/* Typed: an argument is (type, argname, value). */
#define USDT_ARG(type, argname, ...) (type, argname, __VA_ARGS__)

#define USDT_I_T_VALUE(t, n, ...) USDT_I_CAST(USDT_I_CTYPE_##t, __VA_ARGS__)
#define USDT_I_T_ITEM(t, n, ...) #n ":" #t

#define USDT_I_CTYPE_i8 int8_t
#define USDT_I_CTYPE_u8 uint8_t
#define USDT_I_CTYPE_i16 int16_t
#define USDT_I_CTYPE_u16 uint16_t
#define USDT_I_CTYPE_i32 int32_t
#define USDT_I_CTYPE_u32 uint32_t
#define USDT_I_CTYPE_i64 int64_t
#define USDT_I_CTYPE_u64 uint64_t
#define USDT_I_CTYPE_f64 double
#define USDT_I_CTYPE_str const char *
#define USDT_I_CTYPE_ptr const void *

/*
 * Whether value x converts to the declared type without loss of kind.
 * Integers may narrow from int (the type of literals and of arithmetic on
 * small types, after promotion) but not from wider types: a size_t given
 * as u32 is the truncation worth a compile error.
 */
#define USDT_I_FITS_INT(x, size) \
	(USDT_I_IS_INT(x) && (sizeof(x) <= (size) || sizeof(x) <= sizeof(int)))
#define USDT_I_FITS_i8(x) USDT_I_FITS_INT(x, 1)
#define USDT_I_FITS_u8(x) USDT_I_FITS_INT(x, 1)
#define USDT_I_FITS_i16(x) USDT_I_FITS_INT(x, 2)
#define USDT_I_FITS_u16(x) USDT_I_FITS_INT(x, 2)
#define USDT_I_FITS_i32(x) USDT_I_FITS_INT(x, 4)
#define USDT_I_FITS_u32(x) USDT_I_FITS_INT(x, 4)
#define USDT_I_FITS_i64(x) USDT_I_FITS_INT(x, 8)
#define USDT_I_FITS_u64(x) USDT_I_FITS_INT(x, 8)
#define USDT_I_FITS_f64(x) (USDT_I_IS_FLOAT(x) && sizeof(x) <= 8)
#define USDT_I_FITS_str(x) USDT_I_IS_PTR(x)
#define USDT_I_FITS_ptr(x) USDT_I_IS_PTR(x)

#define USDT_I_T_OP(i, a) USDT_I_U_OP(i, USDT_I_T_VALUE a)
#define USDT_I_T_CHECK(i, a) USDT_I_T_CHECK_ a
#define USDT_I_T_CHECK_(t, n, ...)                         \
	USDT_I_STATIC_ASSERT(USDT_I_FITS_##t(__VA_ARGS__), \
			     "usdtkit: probe argument '" #n "' does not convert to " #t);
#define USDT_I_T_ITEM_(i, a) USDT_I_T_ITEM a
#define USDT_I_T_META(p, n, k, ...) \
	USDT_I_META(p, n, USDT_I_CAT(USDT_I_MAP_, k)(USDT_I_T_ITEM_, USDT_I_SPACE, __VA_ARGS__))

/* ------------------------------------------------------------------ */
/* Probes                                                              */
/* ------------------------------------------------------------------ */

/*
 * USDT_I_ASM(kind, k, sema, provider, name, args...): kind USDT_I_U or
 * USDT_I_T selects the argument form, k is the argument count, sema the
 * semaphore symbol (or 0) as a string. The static checks come first, then
 * one asm statement: the nop, the stapsdt note, the typed note, the base.
 */
/* clang-format off */
#define USDT_I_ASM(kind, k, sema, ...)                                                             \
	USDT_I_ASM_(kind, k, sema, USDT_I_PROV(__VA_ARGS__), USDT_I_NAME(__VA_ARGS__), __VA_ARGS__)
#define USDT_I_ASM_(kind, k, sema, p, n, ...)                                                      \
	do {                                                                                       \
		USDT_I_CAT(USDT_I_MAP_, k)(kind##_CHECK, USDT_I_NOTHING, __VA_ARGS__)              \
		__asm__ __volatile__(                                                              \
			USDT_I_NOTE_HEAD(p, n, sema)                                               \
			USDT_I_CAT(USDT_I_MAP_, k)(USDT_I_SPEC, USDT_I_SPEC_SEP, __VA_ARGS__)      \
			USDT_I_NOTE_TAIL                                                           \
			kind##_META(p, n, k, __VA_ARGS__)                                          \
			USDT_I_BASE                                                                \
			:                                                                          \
			: USDT_I_CAT(USDT_I_MAP_, k)(kind##_OP, USDT_I_COMMA, __VA_ARGS__)         \
			: USDT_I_CLOBBERS);                                                        \
	} while (0)
/* clang-format on */

#define USDT_I_GUARDED(kind, k, ...) \
	USDT_I_GUARDED_(kind, k, USDT_I_PROV(__VA_ARGS__), USDT_I_NAME(__VA_ARGS__), __VA_ARGS__)
#define USDT_I_GUARDED_(kind, k, p, n, ...)                                                  \
	do {                                                                                 \
		if (USDT_IS_ACTIVE(p, n))                                                    \
			USDT_I_ASM(kind, k, USDT_I_STR(USDT_I_SEMA_SYM(p, n)), __VA_ARGS__); \
	} while (0)

#ifndef USDTKIT_DISABLE_PROBES

#define USDT(...) USDT_I_ASM(USDT_I_U, USDT_I_NARGS(__VA_ARGS__), "0", __VA_ARGS__)
#define USDT_TYPED(...) USDT_I_ASM(USDT_I_T, USDT_I_NARGS(__VA_ARGS__), "0", __VA_ARGS__)
#define USDT_WITH_SEMAPHORE(...) USDT_I_GUARDED(USDT_I_U, USDT_I_NARGS(__VA_ARGS__), __VA_ARGS__)
#define USDT_TYPED_WITH_SEMAPHORE(...) \
	USDT_I_GUARDED(USDT_I_T, USDT_I_NARGS(__VA_ARGS__), __VA_ARGS__)

#define USDT_IS_ACTIVE(provider, name) \
	__builtin_expect(              \
		*USDT_I_CAST(volatile unsigned short *, &USDT_I_SEMA_SYM(provider, name)) != 0, 0)

#else /* USDTKIT_DISABLE_PROBES */

/*
 * No code and no notes; the arguments are still type-checked and count
 * as used (inside sizeof, never evaluated), so compiling probes out does
 * not turn variables that only feed probes into warnings.
 */
/* clang-format off */
#define USDT_I_OFF(kind, k, ...)                                                                   \
	do {                                                                                       \
		USDT_I_CAT(USDT_I_MAP_, k)(kind##_CHECK, USDT_I_NOTHING, __VA_ARGS__)              \
		USDT_I_CAT(USDT_I_MAP_, k)(kind##_OFF, USDT_I_NOTHING, __VA_ARGS__)                \
	} while (0)
/* clang-format on */
#define USDT_I_U_OFF(i, x) (void)sizeof(x);
#define USDT_I_T_OFF(i, a) USDT_I_U_OFF(i, USDT_I_T_VALUE a)

#define USDT(...) USDT_I_OFF(USDT_I_U, USDT_I_NARGS(__VA_ARGS__), __VA_ARGS__)
#define USDT_TYPED(...) USDT_I_OFF(USDT_I_T, USDT_I_NARGS(__VA_ARGS__), __VA_ARGS__)
#define USDT_WITH_SEMAPHORE(...) USDT_I_OFF(USDT_I_U, USDT_I_NARGS(__VA_ARGS__), __VA_ARGS__)
#define USDT_TYPED_WITH_SEMAPHORE(...) USDT_I_OFF(USDT_I_T, USDT_I_NARGS(__VA_ARGS__), __VA_ARGS__)
#define USDT_IS_ACTIVE(provider, name) 0

#endif /* USDTKIT_DISABLE_PROBES */

/*
 * The asm label pins the symbol name, so a C++ definition inside a
 * namespace still matches the name the note refers to.
 */
/* clang-format off */
#define USDT_DECLARE_SEMAPHORE(provider, name)                                                     \
	extern unsigned short USDT_I_SEMA_SYM(provider, name)                                      \
		__asm__(USDT_I_STR(USDT_I_SEMA_SYM(provider, name)))                               \
		__attribute__((visibility("hidden")))
#define USDT_SEMAPHORE(provider, name)                                                             \
	USDT_DECLARE_SEMAPHORE(provider, name);                                                    \
	unsigned short USDT_I_SEMA_SYM(provider, name)                                             \
		__asm__(USDT_I_STR(USDT_I_SEMA_SYM(provider, name)))                               \
		__attribute__((section(".probes"), used, visibility("hidden"))) = 0
/* clang-format on */

#endif /* USDTKIT_SDT_H */
