/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * User-space symbolization of user stacks: (pid, addresses) -> frames
 * {address, symbol, offset, object}, with elfutils' libdwfl reading the
 * objects' symbol tables (.symtab, .dynsym, .gnu_debugdata) and, for
 * stripped objects, separate debug files found by build id under
 * /usr/lib/debug.
 *
 * A process's mappings are snapshot (from /proc/PID/maps) the first time
 * the process is seen, and each mapped object is opened then and kept
 * open, so stacks of a process that has exited since, or a runtime
 * provider it has unloaded (a memfd), still symbolize. Objects are cached
 * per (dev, inode) across processes, and each object keeps the symbols it
 * has resolved, so a warm lookup is a hash probe.
 */
#ifndef USDTKIT_TRACER_SYMBOLIZE_H
#define USDTKIT_TRACER_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct symbolizer;

/* What an address turned out to be. */
enum sym_frame_kind {
	SYM_FRAME_UNKNOWN = 0, /* no snapshot of the process (gone before it was seen) */
	SYM_FRAME_SYMBOL, /* in an object, with a symbol */
	SYM_FRAME_OBJECT, /* in an object (or [vdso]), no symbol covers it */
	SYM_FRAME_ANON, /* anonymous executable memory: JIT code, a trampoline */
	/*
	 * Outside every executable mapping: not a return address. Past the
	 * first frame this is what a frame-pointer chain through code built
	 * without frame pointers yields; every later frame is derived from it.
	 */
	SYM_FRAME_NOT_CODE,
};

/*
 * One frame. Strings belong to the symbolizer: valid until
 * symbolizer__forget_pid() of that process or symbolizer__free().
 */
struct sym_frame {
	uint64_t addr; /* as captured: the probe address, then return addresses */
	const char *symbol; /* NULL: not resolved */
	uint64_t offset; /* addr - symbol's start (0 when no symbol) */
	const char *object; /* the mapped path as /proc/PID/maps names it; NULL: no mapping */
	uint64_t obj_vaddr; /* addr at the object's link-time addresses (0: object not read) */
	enum sym_frame_kind kind;
	/* source of the instruction (of the call, for return addresses): opts.lines and DWARF */
	const char *file; /* NULL: not asked for, or no line table covers it */
	unsigned int line;
};

struct symbolizer_opts {
	size_t sz; /* sizeof(struct symbolizer_opts) */
	/*
	 * Re-read a process's maps on an address outside every mapping at
	 * most this often (an object loaded since, e.g. a runtime provider).
	 * 0: the default, 20 ms; negative: never.
	 */
	int refresh_ms;
	/*
	 * Also look up file:line in the objects' DWARF line tables (their
	 * own, or the build-id debug file's). Costs loading DWARF once per
	 * object; frames are cached with their line.
	 */
	bool lines;
};

/* NULL and errno set (ENOMEM, EINVAL) on failure. @opts may be NULL. */
struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts);
void symbolizer__free(struct symbolizer *s);

/*
 * Takes (or refreshes) the snapshot of @pid's mappings now, opening every
 * mapped object. Call it when a process is attached, or the first time an
 * event of a process arrives: a process that exits before its first
 * snapshot can only be shown as addresses. Returns 0, -ESRCH (no such
 * process: an older snapshot is kept), -EACCES/-EPERM, -ENOMEM.
 */
int symbolizer__add_pid(struct symbolizer *s, pid_t pid);
/* Drops @pid's snapshot, and the objects no other snapshot uses. */
void symbolizer__forget_pid(struct symbolizer *s, pid_t pid);

/*
 * Symbolizes @n addresses of a stack of @pid, innermost first (frame 0 is
 * the probe address, the others return addresses: those are looked up one
 * byte back, inside the call, so a call that ends a function is not
 * attributed to the next one). Takes the snapshot if there is none yet.
 * Writes @n frames. Returns the number of frames with a symbol, or a
 * negative errno (-ENOMEM); a process that cannot be read (gone before its
 * first snapshot) is not an error: its frames have no object.
 */
int symbolizer__symbolize(struct symbolizer *s, pid_t pid, const uint64_t *addrs, size_t n,
			  struct sym_frame *frames);

struct symbolizer_stats {
	uint64_t lookups; /* addresses symbolized */
	uint64_t cache_hits; /* resolved from an object's cache */
	uint64_t objects; /* objects open now */
	uint64_t maps_reads; /* /proc/PID/maps snapshots taken */
};
void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st);

#endif
