/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * usdtkit runtime providers: define USDT probes while the program runs.
 *
 * A language runtime, a plugin host or any C program creates a provider,
 * adds typed probes to it and loads it. Loading builds a small ELF shared
 * object in memory (one stub function per probe, a .note.stapsdt note per
 * probe, a semaphore per probe and usdtkit's typed metadata note), seals it
 * in a memfd and dlopen()s it. From then on every USDT tracer (usdtkit,
 * bpftrace, bcc, gdb, perf) sees ordinary probes in the process:
 *
 *	struct usdt_provider *prov = usdt_provider__new("myapp", NULL);
 *	enum usdt_type t[] = { USDT_TYPE_STRING, USDT_TYPE_INT64 };
 *	const char *n[] = { "path", "size" };
 *	struct usdt_probe *req = usdt_provider__add_probe(prov, "request", 2, t, n);
 *	usdt_provider__load(prov);
 *	...
 *	usdt_probe__fire(req, "/index.html", (int64_t)512);
 *	...
 *	usdt_provider__free(prov);		(unloads first)
 *
 *	# bpftrace -p PID -e 'usdt::myapp:request { printf("%s %d\n", str(arg0), arg1); }'
 *
 * Conventions (libbpf style): functions return 0 on success and a negative
 * errno on failure, and also set errno; constructors return NULL and set
 * errno. The library never prints. usdt_strerror() describes an error.
 *
 * Names. Provider, probe and argument names are C identifiers
 * ([A-Za-z_][A-Za-z0-9_]*) of 1 to USDT_NAME_MAX - 1 bytes: -EINVAL for an
 * empty or non-identifier name, -ENAMETOOLONG for a longer one. Several
 * providers, even of the same name, may live in one process.
 *
 * Life cycle and its errors.
 *   add_probe, add_probe_opts
 *                  -EEXIST  a probe of that name already exists
 *                  -E2BIG   more than USDT_MAX_ARGS arguments
 *                  -EINVAL  unknown type, NULL types with argc > 0, bad name
 *                  -EBUSY   the provider is loaded: probes cannot be added
 *                           to a loaded object (a tracer attached to it would
 *                           silently lose its probes); unload, add, load.
 *                  -ENOSPC  more than USDT_PROVIDER_MAX_PROBES probes
 *   load           -EALREADY  already loaded
 *                  -ENODATA   no probes to load
 *                  -EMFILE, -ENFILE  out of file descriptors
 *                  -ENOMEM    out of memory or of mappings (RLIMIT_AS,
 *                             vm.max_map_count)
 *                  -ENOEXEC   the dynamic loader rejected the object
 *   unload         -ENOENT    not loaded
 *   free           unloads first when loaded; free(NULL) does nothing.
 * Every function returns -EINVAL (or NULL with errno EINVAL) for a NULL
 * provider or probe. Load, unload, add_probe and free of one provider are
 * serialized by the provider's lock, so they may be called from any thread.
 *
 * Firing. usdt_probe__fire() and usdt_probe__fire_values() may be called
 * from any number of threads at any time between add_probe and free,
 * including while another thread loads or unloads the provider: firing a
 * probe that is not loaded or not traced is a no-op. See provider.c for
 * how unload stays safe against concurrent firing.
 *
 * Argument passing. Each declared argument is converted to 64 bits (signed
 * types sign-extended, unsigned zero-extended, doubles as their IEEE bit
 * pattern, strings and pointers as addresses) and passed to the probe's
 * stub like an integer argument: arguments 1-6 in registers, 7-12 on the
 * stack. The stapsdt note describes exactly that: "-4@%edi" for an int32
 * first argument, "8@8(%rsp)" for a 64-bit seventh. The typed metadata
 * note records the declared types and names ("path:str size:i64"), so
 * usdtkit's tracer prints a double as a double.
 *
 * Probe instruction. The stub's probe point is the nop form the running
 * kernel can optimize into a trampoline call instead of an int3 trap (on
 * x86-64 kernels with optimized uprobes: the 5-byte nop), else a 1-byte
 * nop. The form is detected once per process (see detect.c) and can be
 * forced with usdt_provider_opts.probe_nop or the environment variable
 * USDTKIT_PROBE_NOP=1|5|10 (the opts field wins).
 *
 * Enabling. A probe is enabled while its semaphore is non-zero. Tracers
 * that let the kernel maintain it (uprobes with ref_ctr_offset: bpftrace,
 * libbpf, usdtkit) work. Tools that instead write the semaphore into the
 * process themselves (ptrace or /proc/PID/mem: gdb's probe breakpoints,
 * old bcc) do not enable runtime probes: the runtime reads its semaphores
 * through a mapping of its own (provider.c explains why).
 *
 * Build-id. Every object carries an NT_GNU_BUILD_ID note (in a PT_NOTE),
 * a hash of the provider name, the probe instruction and each probe's
 * name, argument types and names: the same probe set has the same id in
 * every process and run. perf buildid-cache/probe take the fallback file
 * directly; for a memfd they cannot (they realpath() /proc/PID/fd/N), but
 * a uprobe_events line on /proc/PID/fd/N works (docs/runtime-perf.md).
 *
 * ABI. Every export is versioned (USDTKIT_0.1, runtime/libusdtkit.map);
 * options structs follow the rules at LIBUSDT_OPTS below, so a field a
 * newer header adds is never silently ignored by an older library.
 *
 * Load announcement. While a tracer watches libusdtkit's own probe
 * usdtkit:provider_load, load announces the new object and waits, at most
 * load_wait_ms, for the tracer to attach (see struct usdt_announce and
 * docs/runtime-announce.md); nobody watching costs one semaphore read.
 *
 * Where to find the object: /proc/PID/maps shows /memfd:PROVIDER (deleted),
 * the link map (and so gdb) /proc/PID/fd/N; with the file fallback, a
 * PROVIDER.so in a private usdtkit-XXXXXX directory under $TMPDIR or /tmp.
 * The objects are x86-64 ELF; the library supports x86-64 Linux only.
 */
#ifndef USDTKIT_PROVIDER_H
#define USDTKIT_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <usdtkit/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest provider, probe or argument name, including the NUL. */
#define USDT_NAME_MAX 64
/* Most probes one provider may hold (its semaphores fill 4 pages). */
#define USDT_PROVIDER_MAX_PROBES 8192

struct usdt_provider;
struct usdt_probe;

/* The instruction at a probe point (usdt_provider_opts.probe_nop). */
enum usdt_probe_nop {
	USDT_NOP_AUTO = 0, /* detect what the running kernel optimizes */
	USDT_NOP_1 = 1, /* 90: int3-trapped uprobe everywhere */
	USDT_NOP_5 = 5, /* 0f 1f 44 00 00: optimized uprobe on x86-64 6.18+ */
	USDT_NOP_10 = 10, /* 90 + 66 2e 0f 1f 84 00 00 00 00 00: newer kernels */
};

/*
 * Options structs (libbpf style). Every options struct starts with
 * size_t sz = sizeof(the struct as the caller's header knows it); a NULL
 * pointer means all defaults. The library accepts a struct from an older
 * header (smaller sz: the missing fields are zero) and one from a newer
 * header only when every byte past the last field it knows is zero: a
 * caller that sets a field this library does not implement gets -EINVAL
 * (errno EINVAL), never a silently ignored option. Declare them with
 * LIBUSDT_OPTS(), which zeroes the whole struct, padding included:
 *
 *	LIBUSDT_OPTS(usdt_probe_opts, o, .argc = 2, .types = t, .arg_names = n);
 *	usdt_provider__add_probe_opts(prov, "request", &o);
 */
#define LIBUSDT_OPTS(TYPE, NAME, ...)                                  \
	struct TYPE NAME = ({                                          \
		memset(&NAME, 0, sizeof(struct TYPE));                 \
		(struct TYPE){.sz = sizeof(struct TYPE), __VA_ARGS__}; \
	})

struct usdt_provider_opts {
	size_t sz; /* sizeof(struct usdt_provider_opts) */
	/* enum usdt_probe_nop; 0 = the environment, else detection */
	int probe_nop;
	/*
	 * Do not use memfd_create(): write the object to a file in a private
	 * 0700 directory under $TMPDIR (or /tmp) instead, removed at unload
	 * and at exit. The library falls back to this by itself where memfd
	 * is unavailable; the flag forces it (tests, or tools that cannot
	 * open /proc/PID/fd paths).
	 */
	bool no_memfd;
	/*
	 * Longest a load waits for a watching tracer to acknowledge the
	 * announcement of the new object (docs/runtime-announce.md), in
	 * milliseconds: 0 = USDTKIT_LOAD_WAIT_MS from the environment, else
	 * USDT_LOAD_WAIT_MS_DEFAULT; negative = do not wait at all. Costs
	 * nothing while no tracer watches.
	 */
	int load_wait_ms;
	size_t : 0; /* end of struct usdt_provider_opts */
};
#define USDT_PROVIDER_OPTS_SZ_MIN sizeof(size_t)
#define USDT_LOAD_WAIT_MS_DEFAULT 100

/*
 * A probe's declaration for usdt_provider__add_probe_opts(): @argc
 * (0..USDT_MAX_ARGS) arguments of @types, optionally named by @arg_names
 * (NULL, or NULL entries, for unnamed ones). Later versions add fields at
 * the end; see the options rules above.
 */
struct usdt_probe_opts {
	size_t sz; /* sizeof(struct usdt_probe_opts) */
	int argc;
	const enum usdt_type *types;
	const char *const *arg_names;
	size_t : 0; /* end of struct usdt_probe_opts */
};

/*
 * One argument value for usdt_probe__fire_values(). @type says which union
 * member is set: i64 for the signed integer types, u64 for the unsigned
 * ones, f64 for USDT_TYPE_DOUBLE, str and ptr. It must equal the probe's
 * declared type, or be USDT_TYPE_NONE to mean "the declared type".
 */
struct usdt_value {
	enum usdt_type type;
	union {
		int64_t i64;
		uint64_t u64;
		double f64;
		const char *str;
		const void *ptr;
	};
};

USDT_API struct usdt_provider *usdt_provider__new(const char *name,
						  const struct usdt_provider_opts *opts);

/*
 * Adds a probe with @argc (0..USDT_MAX_ARGS) arguments of @types. @arg_names
 * may be NULL, and any entry may be NULL, for unnamed arguments. Returns a
 * handle owned by the provider (valid until usdt_provider__free()), or NULL
 * with errno set (see the table above).
 */
USDT_API struct usdt_probe *usdt_provider__add_probe(struct usdt_provider *provider,
						     const char *name, int argc,
						     const enum usdt_type *types,
						     const char *const *arg_names);

/*
 * usdt_provider__add_probe() with its declaration in an options struct
 * (NULL: no arguments). The extensible form: new probe features become
 * new fields, not new functions. Errors as above, and -EINVAL for an
 * options struct this library cannot honour (see the options rules).
 */
USDT_API struct usdt_probe *usdt_provider__add_probe_opts(struct usdt_provider *provider,
							  const char *name,
							  const struct usdt_probe_opts *opts);

USDT_API int usdt_provider__load(struct usdt_provider *provider);
USDT_API int usdt_provider__unload(struct usdt_provider *provider);
USDT_API void usdt_provider__free(struct usdt_provider *provider);

USDT_API const char *usdt_provider__name(const struct usdt_provider *provider);
USDT_API bool usdt_provider__loaded(const struct usdt_provider *provider);
/*
 * The loaded object's fd (a sealed memfd or the fallback file), -ENOENT
 * when not loaded. Tracers see it as /proc/PID/fd/N; tests read it.
 */
USDT_API int usdt_provider__fd(const struct usdt_provider *provider);
/* The probe instruction this provider's stubs use (enum usdt_probe_nop). */
USDT_API int usdt_provider__probe_nop(const struct usdt_provider *provider);

USDT_API const char *usdt_probe__name(const struct usdt_probe *probe);
USDT_API int usdt_probe__argc(const struct usdt_probe *probe);
/* Address of the probe instruction in the loaded stub, NULL when not loaded. */
USDT_API const void *usdt_probe__address(const struct usdt_probe *probe);

/*
 * Fires @probe with its declared arguments, each read as its declared type
 * (int8..int32 and uint8..uint32 as promoted int / unsigned int, int64 and
 * uint64 as 64-bit integers, double, const char *, const void *). A no-op
 * when the probe is not loaded or no tracer is attached.
 */
USDT_API void usdt_probe__fire(struct usdt_probe *probe, ...);

/*
 * Fires @probe with @n typed values (a runtime's path: no C varargs needed).
 * Returns 0 (also when not loaded or not traced: nothing to do), -EINVAL
 * for a NULL probe, n != the probe's argc, or a value type that differs
 * from the declared one.
 */
USDT_API int usdt_probe__fire_values(struct usdt_probe *probe, const struct usdt_value *values,
				     size_t n);

/* True while a tracer is attached to @probe (its semaphore is non-zero). */
USDT_API bool usdt_probe__enabled(const struct usdt_probe *probe);

/*
 * The load announcement, for tracers (docs/runtime-announce.md is the
 * full protocol). libusdtkit itself carries one compile-time probe,
 *
 *	usdtkit:provider_load(ptr announce, str provider, str path, u64 token,
 *			      i32 fd, u64 base)
 *
 * with a semaphore. usdt_provider__load() fires it after the new object is
 * mapped and its semaphores are live, but only while the semaphore is
 * non-zero, i.e. while some tracer has a uprobe on it; then it waits, at
 * most the provider's bound (usdt_provider_opts.load_wait_ms,
 * USDTKIT_LOAD_WAIT_MS, else USDT_LOAD_WAIT_MS_DEFAULT), until a tracer
 * writes @token into the announce record's ack field (process_vm_writev()
 * or /proc/PID/mem at announce + offsetof(struct usdt_announce, ack)).
 * The record is static in libusdtkit: a late ack never lands in freed
 * memory. Announcements of one process are serialized: one record, one
 * outstanding token at a time.
 */
#define USDT_ANNOUNCE_VERSION 1
#define USDT_ANNOUNCE_PATH_MAX 128

struct usdt_announce {
	uint32_t version; /* USDT_ANNOUNCE_VERSION */
	uint32_t size; /* sizeof(struct usdt_announce) */
	uint64_t token; /* this announcement: > 0, increasing per process */
	uint64_t ack; /* a tracer writes token here: "attached, go on" */
	uint64_t base; /* load bias of the new object (its vaddr 0) */
	int32_t pid; /* getpid() of the announcing process */
	int32_t fd; /* the object's fd in that process */
	char provider[USDT_NAME_MAX]; /* the provider's name */
	char path[USDT_ANNOUNCE_PATH_MAX]; /* where to open the object */
};

/* A static description of @err (negative or positive errno); never NULL. */
USDT_API const char *usdt_strerror(int err);

/*
 * Inline fast paths.
 *
 * An is-enabled check must cost about as much as sys/sdt.h's semaphore test:
 * one load and a branch, not a call through the PLT. The probe stays opaque,
 * but its first member is, as part of this ABI, a pointer to the probe's
 * semaphore. That pointer never changes and always points at readable
 * memory for the probe's whole life, loaded or not (provider.c keeps a
 * stable semaphore page per provider), so the inline read is safe without
 * any locking. The real functions above stay exported for FFI callers;
 * write (usdt_probe__enabled)(p) to call one explicitly.
 *
 * usdt_probe__fire() becomes a macro that tests the semaphore first and
 * evaluates its arguments only when a tracer is attached, like a
 * semaphore-guarded sys/sdt.h probe; the probe expression itself is then
 * evaluated a second time, so pass a plain variable. Define
 * USDT_NO_INLINE_FIRE for plain function semantics.
 */
static inline bool usdt_probe__enabled_inline(const struct usdt_probe *probe)
{
	/* A relaxed atomic load: a plain mov on x86-64, and race-free for TSan. */
	return probe &&
	       __atomic_load_n(*(const unsigned short *const *)probe, __ATOMIC_RELAXED) != 0;
}
#define usdt_probe__enabled(probe) usdt_probe__enabled_inline(probe)

#ifndef USDT_NO_INLINE_FIRE
/* The probe argument without a zero-argument variadic macro (ISO pedantic). */
#define USDT__FIRST(...) USDT__FIRST_(__VA_ARGS__, ~)
#define USDT__FIRST_(probe, ...) probe
#define usdt_probe__fire(...)                                                                  \
	__extension__({                                                                        \
		if (__builtin_expect(usdt_probe__enabled_inline(USDT__FIRST(__VA_ARGS__)), 0)) \
			(usdt_probe__fire)(__VA_ARGS__);                                       \
	})
#endif

#ifdef __cplusplus
}
#endif

#endif /* USDTKIT_PROVIDER_H */
