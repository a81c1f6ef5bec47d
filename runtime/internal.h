/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Internal interfaces of the runtime provider library: the ELF image
 * builder (image.c), the probe instruction detection (detect.c) and the
 * objects they share with the public API (provider.c).
 */
#ifndef USDTKIT_RUNTIME_INTERNAL_H
#define USDTKIT_RUNTIME_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ffi.h>

#include <usdtkit/provider.h>

/* Every stub: [1-byte nop] probe-nop ret, padded with int3 to this stride. */
#define STUB_STRIDE 16

typedef void (*usdt_stub_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
			     uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

struct usdt_probe {
	/*
	 * ABI (provider.h's inline fast path): first member, never changes,
	 * always readable. Points into the provider's semaphore page.
	 */
	const unsigned short *sema;
	/* The loaded stub, NULL while unloaded; see provider.c on safety. */
	_Atomic(usdt_stub_fn) stub;
	struct usdt_provider *provider;
	unsigned int index; /* position in the provider, = semaphore index */
	int argc;
	enum usdt_type types[USDT_MAX_ARGS];
	char name[USDT_NAME_MAX];
	char arg_names[USDT_MAX_ARGS][USDT_NAME_MAX]; /* "" when unnamed */
	ffi_cif cif;
	ffi_type *ffi_args[USDT_MAX_ARGS];
};

/* What the image builder needs to know about a provider. */
struct image_desc {
	const char *provider;
	struct usdt_probe *const *probes;
	size_t nprobes;
	int nop; /* USDT_NOP_1, _5 or _10 */
};

/* Where things landed in the built object (link-time vaddrs = offsets). */
struct image_layout {
	uint64_t text_vaddr; /* stub i at text_vaddr + i * STUB_STRIDE */
	uint64_t probe_off; /* probe point offset inside a stub */
	uint64_t probes_vaddr; /* semaphore i at probes_vaddr + 2 * i */
	uint64_t probes_offset; /* file offset of .probes, page aligned */
	uint64_t probes_size;
};

/* Writes the ELF object for @desc to @fd (at offset 0). */
int usdt_image__write(int fd, const struct image_desc *desc, struct image_layout *layout);

/* Formats @probe's stapsdt argument specs ("-4@%edi 8@%rsi ..."). */
int usdt_image__arg_specs(const struct usdt_probe *probe, char *buf, size_t size);
/* Formats @probe's metadata args ("path:str size:i64"). */
int usdt_image__meta_args(const struct usdt_probe *probe, char *buf, size_t size);

/* The probe instruction to use when nothing forces one (cached). */
int usdt_detect_probe_nop(void);
/* 1 when a kernel release ("6.18.4-foo") has optimized uprobes, 0 not, -1 unparsable. */
int usdt_detect__release_optimizes(const char *release);
/* Parses USDTKIT_PROBE_NOP; 0 when unset or invalid. */
int usdt_env_probe_nop(void);

#endif /* USDTKIT_RUNTIME_INTERNAL_H */
