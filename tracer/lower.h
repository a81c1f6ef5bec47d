/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Lowering: one parsed argument spec (sdt core) becomes one fetch
 * descriptor (fetch.h) that the generic BPF program evaluates at a hit.
 *
 * Everything the kernel cannot know is decided here: the byte offset of
 * each register in the kernel's struct pt_regs of the traced architecture,
 * and symbol operands turned into a delta from the probe address (which
 * holds at any load address, so no process is needed). The tables are our
 * own, not the host's headers: a spec is lowered for the architecture of
 * the object it comes from, and the tests check both architectures on any
 * machine.
 */
#ifndef USDTKIT_TRACER_LOWER_H
#define USDTKIT_TRACER_LOWER_H

#include <stdbool.h>
#include <stdint.h>

#include <usdtkit/stapsdt.h>

#include "fetch.h"

/* Size of the kernel's struct pt_regs on @arch (0: not traceable here). */
unsigned int lower__pt_regs_size(enum usdt_arch arch);
/* Byte offset of @reg in struct pt_regs of @arch, or -ENOTSUP. */
int lower__reg_offset(enum usdt_arch arch, enum usdt_reg reg);

/* What lowering needs to know about the object and the location. */
struct lower_site {
	enum usdt_arch arch;
	uint64_t pc_addr; /* link-time address of the probe */
	bool exec; /* ET_EXEC: link-time addresses are run-time addresses */
	/* Link-time address of symbol @name: 0, or a negative errno. */
	int (*symbol)(void *ctx, const char *name, uint64_t *vaddr);
	void *symbol_ctx;
};

/*
 * Lowers @a into @f. Returns 0, -ENOTSUP (an operand no uprobe can read,
 * e.g. a vector register, or a relocation we do not know), -ENOENT (the
 * symbol is not in the object) or -EINVAL.
 */
int lower__arg(const struct lower_site *site, const struct usdt_arg_spec *a, struct usdt_fetch *f);

#endif
