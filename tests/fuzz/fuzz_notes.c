/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Fuzzes the note reader: any input must give either a collection whose
 * every string and field can be used, or NULL with a documented errno —
 * never a crash or an out-of-bounds read.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usdt_notes *n;
	volatile size_t sink = 0;
	uint64_t v;

	errno = 0;
	n = usdt_notes__open_mem(data, size, NULL);
	if (!n) {
		if (errno != EBADMSG && errno != ENOEXEC && errno != ENOTSUP && errno != ENOMEM)
			abort();
		return 0;
	}
	(void)usdt_notes__arch(n);
	(void)usdt_notes__is_64bit(n);
	(void)usdt_notes__is_big_endian(n);
	(void)usdt_notes__elf_type(n);
	for (size_t i = 0; i < usdt_notes__count(n); i++) {
		const struct usdt_note *t = usdt_notes__get(n, i);
		if (!t)
			abort();
		sink += strlen(t->provider) + strlen(t->name) + strlen(t->args);
		if (t->meta)
			sink += strlen(t->meta);
		if (usdt_notes__vaddr_to_offset(n, t->pc_addr, &v) == 0 && v != t->pc_offset)
			abort();
		if (t->pc_offset != USDT_NO_OFFSET && t->pc_offset >= size)
			abort(); /* an offset must point into the object */
		(void)usdt_notes__vaddr_to_offset(n, t->sema_addr, &v);
		/* names taken from the input itself exercise the matching paths */
		(void)usdt_notes__symbol(n, t->name, &v);
		(void)usdt_notes__symbol(n, t->provider, &v);
	}
	/* enough lookups to make the reader build its symbol index too */
	for (int i = 0; i < 70; i++)
		(void)usdt_notes__symbol(n, i & 1 ? "main" : "sym", &v);
	(void)usdt_notes__symbol(n, "_start", &v);
	(void)usdt_notes__vaddr_to_offset(n, 0, &v);
	(void)usdt_notes__vaddr_to_offset(n, 0x1000, &v);
	usdt_notes__free(n);
	return sink == SIZE_MAX; /* always 0: keeps the strlen() reads */
}
