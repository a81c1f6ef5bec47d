/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Internal interfaces of the runtime provider library: the ELF image
 * builder (image.c), the probe instruction detection (detect.c) and the
 * objects they share with the public API (provider.c).
 */
#ifndef USDTKIT_RUNTIME_INTERNAL_H
#define USDTKIT_RUNTIME_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ffi.h>

#include <usdtkit/provider.h>
#include <usdtkit/sdt.h>

#include "arch.h"

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
/* The same for another architecture's table (tests build foreign images). */
int usdt_image__write_arch(int fd, const struct image_desc *desc,
			   const struct usdt_image_arch *arch, struct image_layout *layout);

/* The image's 20-byte build-id: a hash of everything the image is made of. */
void usdt_image__build_id(const struct image_desc *desc, uint8_t id[20]);

/* Formats @probe's stapsdt argument specs ("-4@%edi 8@%rsi ...", "-4@x0 8@x1 ..."). */
int usdt_image__arg_specs(const struct usdt_image_arch *arch, const struct usdt_probe *probe,
			  char *buf, size_t size);
/* Formats @probe's metadata args ("path:str size:i64"). */
int usdt_image__meta_args(const struct usdt_probe *probe, char *buf, size_t size);

/* Options structs: see provider.c. */
int usdt_opts__copy(void *out, size_t out_sz, size_t known, const void *opts);

/*
 * The load announcement (announce.c). usdt_announce__watched() is the
 * one-load check of the announce probe's semaphore that load pays when
 * no tracer watches.
 */
USDT_DECLARE_SEMAPHORE(usdtkit, provider_load);
static inline bool usdt_announce__watched(void)
{
	return __builtin_expect(
		__atomic_load_n(&usdtkit_provider_load_semaphore, __ATOMIC_RELAXED) != 0, 0);
}
/* Fires usdtkit:provider_load and waits, at most @wait_ms, for the ack. */
int usdt_announce__load(const char *provider, int fd, const char *path, uintptr_t base,
			int wait_ms);
/* The wait bound from an opts value (0: environment, then default; < 0: none). */
int usdt_announce__wait_ms(int opt);
/* Parses a USDTKIT_LOAD_WAIT_MS value: ms >= 0, or -1 when invalid. */
int usdt_announce__parse_ms(const char *s);

/* The probe instruction to use when nothing forces one (cached). */
int usdt_detect_probe_nop(void);
/* 1 when a kernel release ("6.18.4-foo") has optimized uprobes, 0 not, -1 unparsable. */
int usdt_detect__release_optimizes(const char *release);
/* Parses USDTKIT_PROBE_NOP; 0 when unset or invalid. */
int usdt_env_probe_nop(void);

#endif /* USDTKIT_RUNTIME_INTERNAL_H */
