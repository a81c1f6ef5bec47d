/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The per-architecture part of the runtime's ELF image, as data: the ELF
 * machine, the stub bytes for each probe instruction choice, and where the
 * calling convention puts argument i at the stub's first instruction (the
 * probe point), which is what each argument spec names. image.c builds
 * the same object for every architecture from one of these tables; arch.c
 * holds them all, so an image for another architecture can be built and
 * checked on any host.
 */
#ifndef USDTKIT_RUNTIME_ARCH_H
#define USDTKIT_RUNTIME_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every stub: [pre] probe-instruction ret, padded with a trap to this stride. */
#define STUB_STRIDE 16

/* One stub form: its bytes (probe instruction at probe_off, then ret). */
struct usdt_stub_form {
	uint8_t len, probe_off;
	uint8_t bytes[STUB_STRIDE];
};

struct usdt_image_arch {
	const char *name;
	uint16_t machine; /* e_machine */
	/* Stub padding: a trapping instruction repeated (int3, brk). */
	uint8_t trap[4];
	uint8_t trap_len;
	/* Indexed by enum usdt_arch_form (the USDT_NOP_* choice). */
	struct usdt_stub_form forms[3];
	/* Arguments in registers: names by size (1, 2, 4, 8 bytes). */
	const char *reg_prefix; /* "%" in AT&T syntax */
	int nregs;
	const char *regs[8][4];
	/*
	 * Argument i >= nregs is at sp + stack_first + 8 * (i - nregs) at the
	 * stub's entry, spelled stack_pre OFFSET stack_post ("16(%rsp)",
	 * "[sp, 16]"); stack_zero is the spelling of offset 0, if it differs.
	 */
	int stack_first;
	const char *stack_pre, *stack_post, *stack_zero;
};

enum usdt_arch_form { USDT_ARCH_FORM_1, USDT_ARCH_FORM_5, USDT_ARCH_FORM_10 };

extern const struct usdt_image_arch usdt_image_arch_x86_64;
extern const struct usdt_image_arch usdt_image_arch_aarch64;

/* The table of the architecture this library runs on (NULL: unsupported). */
const struct usdt_image_arch *usdt_image_arch__native(void);
/* The stub form for a USDT_NOP_* value (unknown values: the 1-byte form). */
const struct usdt_stub_form *usdt_image_arch__form(const struct usdt_image_arch *arch, int nop);
/* Writes argument @i's operand ("%rdi", "x3", "16(%rsp)", "[sp]") for @size bytes. */
int usdt_image_arch__operand(const struct usdt_image_arch *arch, int i, int size, char *buf,
			     size_t len);

#endif /* USDTKIT_RUNTIME_ARCH_H */
