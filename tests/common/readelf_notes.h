/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Test helper: the stapsdt probes of an ELF file as binutils' readelf sees
 * them ("readelf -n --wide"), so tests can compare usdtkit's view of a
 * binary with an independent reader's.
 */
#ifndef USDTKIT_TEST_READELF_NOTES_H
#define USDTKIT_TEST_READELF_NOTES_H

#include <stddef.h>
#include <stdint.h>

struct readelf_note {
	char section[64]; /* "Displaying notes found in: X" */
	char provider[256];
	char name[256];
	char args[1024]; /* "" when the probe has none */
	uint64_t location; /* the note's pc, as stored */
	uint64_t base;
	uint64_t semaphore;
};

/* True when a usable readelf is on PATH. */
int readelf_notes_available(void);

/*
 * Runs readelf on @path and returns its stapsdt notes in file order in a
 * malloc'ed array (*out, *count; free() it). Returns 0, -ENOENT when
 * readelf cannot be run, -EBADMSG when its output cannot be parsed or it
 * fails, -ENOMEM.
 */
int readelf_notes_read(const char *path, struct readelf_note **out, size_t *count);

#endif /* USDTKIT_TEST_READELF_NOTES_H */
