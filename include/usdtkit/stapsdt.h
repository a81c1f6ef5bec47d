/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * usdtkit sdt core: the one place that reads, writes and understands the
 * SystemTap ".note.stapsdt" format and its argument specs.
 *
 * Both halves of usdtkit stand on this library: the runtime writes notes
 * for the providers it builds, the tracer reads notes and turns argument
 * specs into in-kernel fetches. Keeping the format in one place keeps the
 * two halves exact with each other and with gdb, perf, bpftrace and bcc.
 *
 * Conventions (libbpf style): functions return 0 or a non-negative count on
 * success and a negative errno on failure, and also set errno; constructors
 * return NULL and set errno. The library never prints.
 *
 * ---------------------------------------------------------------------
 * The typed metadata note (".note.usdtkit")
 * ---------------------------------------------------------------------
 * stapsdt notes carry only sizes and locations. usdtkit adds a companion
 * note section that records each probe's argument names and types, so a
 * tracer can show "path=/index.html" instead of "arg1=0x55d0c0a1b2c3".
 *
 *   section   ".note.usdtkit", SHT_NOTE, not SHF_ALLOC (like .note.stapsdt)
 *   namesz    8, name "usdtkit\0"
 *   type      1 (USDT_META_NOTE_TYPE; a new layout gets a new type)
 *   desc      pc        address-sized, in the object's byte order: the same
 *                       value as the matching stapsdt note's pc, or 0 for
 *                       "every location of provider:name"
 *             provider  NUL-terminated
 *             name      NUL-terminated
 *             args      NUL-terminated, space-separated, one item per
 *                       argument in order: "NAME:TYPE" or just "TYPE",
 *                       TYPE one of i8 u8 i16 u16 i32 u32 i64 u64 f64 str
 *                       ptr (see usdt_type__name()), NAME a C identifier.
 *                       Example: "client:str path:str size:u64"
 *   padding   to 4 bytes, as for every ELF note
 *
 * A reader joins a metadata note to the stapsdt notes with the same
 * provider, name and raw pc (or every location when pc is 0). Tools that
 * do not know the section ignore it: it is a separate, unallocated note
 * section with its own owner name.
 */
#ifndef USDTKIT_STAPSDT_H
#define USDTKIT_STAPSDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <usdtkit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define USDT_STAPSDT_SECTION ".note.stapsdt"
#define USDT_STAPSDT_BASE_SECTION ".stapsdt.base"
#define USDT_STAPSDT_OWNER "stapsdt"
#define USDT_STAPSDT_NOTE_TYPE 3

#define USDT_META_SECTION ".note.usdtkit"
#define USDT_META_OWNER "usdtkit"
#define USDT_META_NOTE_TYPE 1

/* ------------------------------------------------------------------ */
/* Argument specs                                                      */
/* ------------------------------------------------------------------ */

enum usdt_arch {
	USDT_ARCH_UNKNOWN = 0,
	USDT_ARCH_X86_64,
	USDT_ARCH_X86, /* i386: same operand syntax as x86-64 */
	USDT_ARCH_AARCH64,
};

/*
 * Registers, by identity; the width a spec names ("%eax" vs "%rax",
 * "w0" vs "x0") is kept next to the register in struct usdt_arg_spec.
 */
enum usdt_reg {
	USDT_REG_NONE = 0,
	/* x86 / x86-64, in pt_regs-independent order */
	USDT_REG_X86_AX,
	USDT_REG_X86_BX,
	USDT_REG_X86_CX,
	USDT_REG_X86_DX,
	USDT_REG_X86_SI,
	USDT_REG_X86_DI,
	USDT_REG_X86_BP,
	USDT_REG_X86_SP,
	USDT_REG_X86_R8,
	USDT_REG_X86_R9,
	USDT_REG_X86_R10,
	USDT_REG_X86_R11,
	USDT_REG_X86_R12,
	USDT_REG_X86_R13,
	USDT_REG_X86_R14,
	USDT_REG_X86_R15,
	USDT_REG_X86_IP,
	USDT_REG_X86_XMM0, /* ... XMM15 follow in order */
	USDT_REG_X86_XMM15 = USDT_REG_X86_XMM0 + 15,
	/* aarch64 */
	USDT_REG_A64_X0, /* ... X30 follow in order */
	USDT_REG_A64_X30 = USDT_REG_A64_X0 + 30,
	USDT_REG_A64_SP,
	USDT_REG_A64_V0, /* ... V31 follow in order (b/h/s/d/q views) */
	USDT_REG_A64_V31 = USDT_REG_A64_V0 + 31,
	USDT_REG__MAX,
};

enum usdt_operand {
	USDT_OPERAND_NONE = 0,
	USDT_OPERAND_CONST, /* x86 "$5", aarch64 "5": the value is imm */
	USDT_OPERAND_REG, /* the value is in register base */
	USDT_OPERAND_MEM, /* the value is in memory, see struct usdt_arg_spec */
};

enum usdt_reloc {
	USDT_RELOC_NONE = 0,
	USDT_RELOC_A64_LO12, /* aarch64 "#:lo12:sym": low 12 bits of sym's address */
};

/* Hints that let usdt_arg_spec__print() reproduce the original text. */
enum usdt_arg_spec_flags {
	USDT_SPEC_HEX = 1 << 0, /* imm or disp was written in hex */
	USDT_SPEC_OFF_FIRST = 1 << 1, /* x86 "40+sym(%rip)" rather than "sym+40(%rip)" */
	USDT_SPEC_A64_HASH = 1 << 2, /* aarch64 offset written as "#12" */
	USDT_SPEC_EXPLICIT_ZERO = 1 << 3, /* zero offset written: "0(%rbp)", "sym+0", "[sp, 0]" */
	USDT_SPEC_SCALE1 = 1 << 4, /* x86 scale 1 written: "(%rax,%rbx,1)" */
	/*
	 * CONST of an unsigned 8-byte argument written as an unsigned value
	 * above INT64_MAX ("8@$18446744073709551615"): imm holds its bit
	 * pattern (here -1) and the printer writes it unsigned.
	 */
	USDT_SPEC_U64 = 1 << 5,
};

#define USDT_SYMBOL_MAX 256
#define USDT_SPEC_TEXT_MAX 512

/*
 * One parsed argument. Value of a MEM operand:
 *   address = [base] + [index] * scale + disp (+ address of symbol)
 *   (reloc LO12: base + (address of symbol & 0xfff) + disp)
 * where base may be USDT_REG_NONE (absolute) or USDT_REG_X86_IP
 * (rip-relative: the symbol's address; resolve it as
 *  probe_ip + (symbol_vaddr - probe_vaddr) — no load address needed).
 */
struct usdt_arg_spec {
	uint8_t size; /* bytes: 1, 2, 4 or 8 */
	bool is_signed; /* leading '-' */
	bool is_float; /* "8f@" */
	enum usdt_operand kind;
	int64_t imm; /* CONST */
	enum usdt_reg base; /* REG: the register; MEM: base or NONE */
	uint8_t base_size; /* width named: %eax → 4, %al → 1, w3 → 4 */
	bool base_high8; /* %ah %bh %ch %dh: bits 8..15 */
	enum usdt_reg index; /* MEM: index register or NONE */
	uint8_t index_size;
	uint8_t scale; /* 1, 2, 4, 8 with an index, else 0 */
	int64_t disp; /* MEM: displacement or symbol offset */
	enum usdt_reloc reloc;
	uint32_t flags; /* enum usdt_arg_spec_flags */
	char symbol[USDT_SYMBOL_MAX]; /* MEM: "" when none */
};

/* Where a parse failed and why, for messages to the user. */
struct usdt_parse_error {
	size_t pos; /* byte offset in the text */
	const char *msg; /* static string */
};

/*
 * Parses one argument spec ("-4@-16(%rbp)") of @len bytes. Errors:
 * -EINVAL malformed (missing '@', bad operand, trailing junk),
 * -EDOM size not 1/2/4/8, -ENOENT unknown register, -ERANGE number out of
 * range (numbers must fit int64_t, except the constant of an unsigned
 * 8-byte argument, which may go up to UINT64_MAX: see USDT_SPEC_U64),
 * -ENAMETOOLONG symbol too long, -ENOTSUP unknown arch.
 * Only one spelling of each number and register is accepted (no leading
 * zeros, lower-case hex), so usdt_arg_spec__print() gives back @text exactly.
 */
USDT_API int usdt_arg_spec__parse(struct usdt_arg_spec *spec, const char *text, size_t len,
				  enum usdt_arch arch, struct usdt_parse_error *err);

/*
 * Parses a note's whole space-separated args string into @specs (room for
 * @max). Returns the number of arguments, -E2BIG for more than @max, or a
 * parse error of the first bad argument.
 */
USDT_API int usdt_arg_specs__parse(struct usdt_arg_spec *specs, size_t max, const char *args,
				   enum usdt_arch arch, struct usdt_parse_error *err);

/* Prints @spec back to text; snprintf semantics (returns the full length). */
USDT_API int usdt_arg_spec__print(const struct usdt_arg_spec *spec, enum usdt_arch arch, char *buf,
				  size_t size);

/* Assembler name of a register at a width ("rax", "eax", "w0"), or NULL. */
USDT_API const char *usdt_reg__name(enum usdt_reg reg, int size, bool high8, enum usdt_arch arch);

/* ------------------------------------------------------------------ */
/* Types and typed metadata                                            */
/* ------------------------------------------------------------------ */

#define USDT_ARG_NAME_MAX 64

struct usdt_arg_meta {
	enum usdt_type type;
	char name[USDT_ARG_NAME_MAX]; /* "" when unnamed */
};

/* Canonical short name: "i8" … "u64", "f64", "str", "ptr"; NULL if invalid. */
USDT_API const char *usdt_type__name(enum usdt_type type);
/* Accepts the short names and C-ish aliases (int32, uint64_t, double, string, pointer …). */
USDT_API int usdt_type__parse(const char *text, size_t len, enum usdt_type *type);
/* Byte size of a value of @type as passed to a probe (8 for str/ptr on 64-bit). */
USDT_API int usdt_type__size(enum usdt_type type);

/* Parses "NAME:TYPE NAME:TYPE …" (items may be bare TYPE); returns the count. */
USDT_API int usdt_meta__parse(struct usdt_arg_meta *meta, size_t max, const char *text,
			      struct usdt_parse_error *err);
/* Formats metadata into the note's text form; snprintf semantics. */
USDT_API int usdt_meta__format(const struct usdt_arg_meta *meta, size_t n, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Note reader                                                         */
/* ------------------------------------------------------------------ */

#define USDT_NO_OFFSET UINT64_MAX

/* One note = one probe location. Strings live as long as the collection. */
struct usdt_note {
	const char *provider;
	const char *name;
	const char *args; /* raw spec string, "" when the probe has none */
	uint64_t pc; /* as stored in the note */
	uint64_t base; /* as stored */
	uint64_t semaphore; /* as stored, 0 when none */
	uint64_t pc_addr; /* pc adjusted for the actual .stapsdt.base */
	uint64_t sema_addr; /* semaphore adjusted likewise, 0 when none */
	uint64_t pc_offset; /* file offset of pc_addr, or USDT_NO_OFFSET */
	uint64_t sema_offset; /* file offset of the semaphore, or USDT_NO_OFFSET */
	const char *meta; /* typed metadata text, NULL when none */
};

struct usdt_notes;

struct usdt_notes_opts {
	size_t sz; /* sizeof(struct usdt_notes_opts) */
};
#define USDT_NOTES_OPTS_SZ_MIN sizeof(size_t)

/*
 * Reads every stapsdt note (and the usdtkit metadata) of an ELF object.
 * Errors (NULL + errno): ENOENT/EACCES… from open, ENOEXEC not ELF,
 * EBADMSG truncated or corrupt headers or notes, ENOTSUP unsupported ELF,
 * EINVAL bad arguments or opts.
 */
USDT_API struct usdt_notes *usdt_notes__open_path(const char *path,
						  const struct usdt_notes_opts *opts);
USDT_API struct usdt_notes *usdt_notes__open_fd(int fd, const struct usdt_notes_opts *opts);
/* The buffer is copied only as far as needed; it need not outlive the call. */
USDT_API struct usdt_notes *usdt_notes__open_mem(const void *buf, size_t size,
						 const struct usdt_notes_opts *opts);
USDT_API void usdt_notes__free(struct usdt_notes *notes);

USDT_API size_t usdt_notes__count(const struct usdt_notes *notes);
USDT_API const struct usdt_note *usdt_notes__get(const struct usdt_notes *notes, size_t i);

USDT_API enum usdt_arch usdt_notes__arch(const struct usdt_notes *notes);
USDT_API bool usdt_notes__is_64bit(const struct usdt_notes *notes);
USDT_API bool usdt_notes__is_big_endian(const struct usdt_notes *notes);
USDT_API uint16_t usdt_notes__elf_type(const struct usdt_notes *notes); /* ET_EXEC, ET_DYN … */

/*
 * Looks @name up in .symtab, then .dynsym; stores its st_value (a link-time
 * virtual address). Returns 0, -ENOENT when absent.
 */
USDT_API int usdt_notes__symbol(const struct usdt_notes *notes, const char *name, uint64_t *vaddr);

/* Converts a virtual address to a file offset through PT_LOAD headers. */
USDT_API int usdt_notes__vaddr_to_offset(const struct usdt_notes *notes, uint64_t vaddr,
					 uint64_t *offset);

/* ------------------------------------------------------------------ */
/* Note writer                                                         */
/* ------------------------------------------------------------------ */

struct usdt_note_desc {
	const char *provider;
	const char *name;
	const char *args; /* NULL or "" for none */
	uint64_t pc;
	uint64_t base;
	uint64_t semaphore;
};

struct usdt_meta_desc {
	const char *provider;
	const char *name;
	const char *args; /* "NAME:TYPE …" */
	uint64_t pc; /* 0: every location */
};

struct usdt_encode_opts {
	size_t sz; /* sizeof(struct usdt_encode_opts) */
	bool is_32bit; /* default: 64-bit addresses */
	bool big_endian; /* default: little-endian */
};
#define USDT_ENCODE_OPTS_SZ_MIN sizeof(size_t)

/*
 * Encode one complete note (header, owner name, descriptor, padding) into
 * @buf. Returns the encoded size even when @size is too small (pass 0 to
 * measure), or a negative error (-EINVAL bad desc/opts, -ENAMETOOLONG).
 */
USDT_API ssize_t usdt_note__encode(const struct usdt_note_desc *desc,
				   const struct usdt_encode_opts *opts, void *buf, size_t size);
USDT_API ssize_t usdt_meta_note__encode(const struct usdt_meta_desc *desc,
					const struct usdt_encode_opts *opts, void *buf,
					size_t size);

/* Offset of the pc field within an encoded note (for relocation). */
#define USDT_NOTE_PC_OFFSET 20

#ifdef __cplusplus
}
#endif

#endif /* USDTKIT_STAPSDT_H */
