/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Note writer: byte-exact encoding checks, then round trips through
 * synthetic ELF objects read back by the note reader (32/64-bit, both byte
 * orders, metadata joined by pc and by pc 0).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <usdtkit/stapsdt.h>

#include "test_notes_elf.h"

static uint64_t get(const uint8_t *p, int size, bool be)
{
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
	return v;
}

static void check_stapsdt_bytes(bool is32, bool be)
{
	struct usdt_note_desc d = {
		.provider = "prov",
		.name = "probe1",
		.args = "-4@%edi 8@%rsi",
		.pc = 0x401136,
		.base = 0x402004,
		.semaphore = 0x404028,
	};
	struct usdt_encode_opts o = {.sz = sizeof(o), .is_32bit = is32, .big_endian = be};
	const int asz = is32 ? 4 : 8;
	const char strs[] = "prov\0probe1\0-4@%edi 8@%rsi";
	const size_t descsz = 3 * asz + sizeof(strs);
	const size_t total = 12 + 8 + ((descsz + 3) & ~(size_t)3);
	uint8_t buf[256];

	assert_int_equal(usdt_note__encode(&d, &o, NULL, 0), total);
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(usdt_note__encode(&d, &o, buf, sizeof(buf)), total);
	assert_int_equal(get(buf, 4, be), 8);
	assert_int_equal(get(buf + 4, 4, be), descsz);
	assert_int_equal(get(buf + 8, 4, be), 3);
	assert_memory_equal(buf + 12, "stapsdt\0", 8);
	assert_int_equal(get(buf + USDT_NOTE_PC_OFFSET, asz, be), 0x401136);
	assert_int_equal(get(buf + 20 + asz, asz, be), 0x402004);
	assert_int_equal(get(buf + 20 + 2 * asz, asz, be), 0x404028);
	assert_memory_equal(buf + 20 + 3 * asz, strs, sizeof(strs));
	/* padding is zero, and nothing beyond the note is touched */
	for (size_t i = 20 + descsz; i < total; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[total], 0xaa);
}

static void test_stapsdt_bytes(void **state)
{
	check_stapsdt_bytes(false, false);
	check_stapsdt_bytes(false, true);
	check_stapsdt_bytes(true, false);
	check_stapsdt_bytes(true, true);
}

static void test_meta_bytes(void **state)
{
	struct usdt_meta_desc d = {
		.provider = "web",
		.name = "request",
		.args = "client:str size:u64",
		.pc = 0x1234,
	};
	const char strs[] = "web\0request\0client:str size:u64";
	uint8_t buf[128];
	ssize_t n = usdt_meta_note__encode(&d, NULL, buf, sizeof(buf));

	assert_int_equal(n, 12 + 8 + ((8 + sizeof(strs) + 3) & ~3u));
	assert_int_equal(get(buf, 4, false), 8);
	assert_int_equal(get(buf + 4, 4, false), 8 + sizeof(strs));
	assert_int_equal(get(buf + 8, 4, false), USDT_META_NOTE_TYPE);
	assert_memory_equal(buf + 12, "usdtkit\0", 8);
	assert_int_equal(get(buf + 20, 8, false), 0x1234);
	assert_memory_equal(buf + 28, strs, sizeof(strs));
}

static void test_no_args_and_small_buffer(void **state)
{
	struct usdt_note_desc d = {.provider = "p", .name = "n"};
	uint8_t buf[64];
	ssize_t n;

	/* pc, base, sema + "p\0n\0\0" = 24 + 5 → padded to 32 */
	n = usdt_note__encode(&d, NULL, NULL, 0);
	assert_int_equal(n, 12 + 8 + 32);
	/* too small: returns the size and writes nothing */
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(usdt_note__encode(&d, NULL, buf, (size_t)n - 1), n);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x55);
	assert_int_equal(usdt_note__encode(&d, NULL, buf, (size_t)n), n);
	assert_memory_equal(buf + 20 + 24, "p\0n\0\0\0\0\0", 8);
	/* args "" is the same as NULL */
	d.args = "";
	assert_int_equal(usdt_note__encode(&d, NULL, NULL, 0), n);
}

static void test_bad_input(void **state)
{
	struct usdt_note_desc d = {.provider = "p", .name = "n", .pc = 1};
	struct usdt_meta_desc m = {.provider = "p", .name = "n"};
	struct usdt_encode_opts o = {.sz = sizeof(o)};
	struct {
		struct usdt_encode_opts o;
		uint64_t future;
	} big = {.o = {.sz = sizeof(big)}};
	uint8_t buf[64];

	errno = 0;
	assert_int_equal(usdt_note__encode(NULL, NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(errno, EINVAL);
	d.provider = NULL;
	assert_int_equal(usdt_note__encode(&d, NULL, buf, sizeof(buf)), -EINVAL);
	d.provider = "";
	assert_int_equal(usdt_note__encode(&d, NULL, buf, sizeof(buf)), -EINVAL);
	d.provider = "has space";
	assert_int_equal(usdt_note__encode(&d, NULL, buf, sizeof(buf)), -EINVAL);
	d.provider = "p";
	d.name = NULL;
	assert_int_equal(usdt_note__encode(&d, NULL, buf, sizeof(buf)), -EINVAL);
	d.name = "n";
	m.name = "";
	assert_int_equal(usdt_meta_note__encode(&m, NULL, buf, sizeof(buf)), -EINVAL);
	m.name = "n";

	/* opts: sz too small, unknown non-zero tail rejected, zero tail accepted */
	o.sz = 4;
	assert_int_equal(usdt_note__encode(&d, &o, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(usdt_meta_note__encode(&m, &o, buf, sizeof(buf)), -EINVAL);
	assert_true(usdt_note__encode(&d, &big.o, buf, sizeof(buf)) > 0);
	big.future = 1;
	assert_int_equal(usdt_note__encode(&d, &big.o, buf, sizeof(buf)), -EINVAL);
	/* an older caller's shorter opts: only sz known → defaults (64-bit) */
	o.sz = USDT_ENCODE_OPTS_SZ_MIN;
	o.is_32bit = true; /* beyond sz: must be ignored */
	assert_int_equal(usdt_note__encode(&d, &o, NULL, 0), 12 + 8 + 32);

	/* 32-bit addresses must fit */
	o.sz = sizeof(o);
	o.is_32bit = true;
	d.pc = 0x100000000ull;
	assert_int_equal(usdt_note__encode(&d, &o, buf, sizeof(buf)), -EINVAL);
	m.pc = 0x100000000ull;
	assert_int_equal(usdt_meta_note__encode(&m, &o, buf, sizeof(buf)), -EINVAL);
	d.pc = 0xffffffffull;
	assert_true(usdt_note__encode(&d, &o, buf, sizeof(buf)) > 0);

	/* absurdly long strings */
	size_t len = 2u << 20;
	char *huge = malloc(len + 1);
	assert_non_null(huge);
	memset(huge, 'a', len);
	huge[len] = 0;
	d.args = huge;
	errno = 0;
	assert_int_equal(usdt_note__encode(&d, NULL, NULL, 0), -ENAMETOOLONG);
	assert_int_equal(errno, ENAMETOOLONG);
	free(huge);
}

/* Encodes notes into a .note.stapsdt / .note.usdtkit pair and reads them back. */
static void roundtrip(bool is32, bool be)
{
	struct usdt_encode_opts o = {.sz = sizeof(o), .is_32bit = is32, .big_endian = be};
	const struct usdt_note_desc d[] = {
		{"app", "start", "", 0x1000, 0x3000, 0},
		{"app", "req", "-4@%edi 8@%rsi", 0x1010, 0x3000, 0x4000},
		{"app", "req", "-4@%ebx 8@%r12", 0x1020, 0x3000, 0x4000},
		{"lib", "req", "8@%rax", 0x1030, 0x3000, 0},
	};
	const struct usdt_meta_desc m[] = {
		/* pc 0: every location of app:req ... */
		{"app", "req", "id:i32 path:str", 0},
		/* ... but this exact location gets its own */
		{"app", "req", "code:i32 body:str", 0x1020},
		{"app", "start", "", 0x1000},
		/* matches nothing: wrong pc */
		{"lib", "req", "x:u64", 0x9999},
	};
	uint8_t notes[1024], metas[1024];
	size_t nlen = 0, mlen = 0;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		ssize_t r = usdt_note__encode(&d[i], &o, notes + nlen, sizeof(notes) - nlen);
		assert_true(r > 0 && (size_t)r <= sizeof(notes) - nlen);
		assert_int_equal(r % 4, 0);
		nlen += (size_t)r;
	}
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		ssize_t r = usdt_meta_note__encode(&m[i], &o, metas + mlen, sizeof(metas) - mlen);
		assert_true(r > 0 && (size_t)r <= sizeof(metas) - mlen);
		mlen += (size_t)r;
	}

	uint8_t text[0x40] = {0x90};
	struct synth_sec secs[] = {
		{.name = ".text",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC | SHF_EXECINSTR,
		 .addr = 0x1000,
		 .data = text,
		 .size = sizeof(text)},
		{.name = ".stapsdt.base",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC,
		 .addr = 0x3000,
		 .size = 1},
		{.name = ".probes",
		 .type = SHT_PROGBITS,
		 .flags = SHF_ALLOC | SHF_WRITE,
		 .addr = 0x4000,
		 .size = 2},
		{.name = ".note.stapsdt", .type = SHT_NOTE, .data = notes, .size = nlen},
		{.name = ".note.usdtkit", .type = SHT_NOTE, .data = metas, .size = mlen},
	};
	struct synth_phdr ph[] = {
		{.type = PT_LOAD, .sec = 0},
		{.type = PT_LOAD, .sec = 2},
	};
	struct synth_elf e = {
		.is64 = !is32, .big_endian = be, .secs = secs, .nsec = 5, .phdrs = ph, .nphdr = 2};
	size_t size;
	uint8_t *img = synth_elf_build(&e, &size);
	assert_non_null(img);

	struct usdt_notes *n = usdt_notes__open_mem(img, size, NULL);
	assert_non_null(n);
	/* the reader must not keep pointers into our buffer */
	memset(img, 0xee, size);
	free(img);

	assert_int_equal(usdt_notes__is_64bit(n), !is32);
	assert_int_equal(usdt_notes__is_big_endian(n), be);
	assert_int_equal(usdt_notes__arch(n), USDT_ARCH_X86_64);
	assert_int_equal(usdt_notes__elf_type(n), ET_DYN);
	assert_int_equal(usdt_notes__count(n), 4);
	for (size_t i = 0; i < 4; i++) {
		const struct usdt_note *note = usdt_notes__get(n, i);
		assert_non_null(note);
		assert_string_equal(note->provider, d[i].provider);
		assert_string_equal(note->name, d[i].name);
		assert_string_equal(note->args, d[i].args);
		assert_int_equal(note->pc, d[i].pc);
		assert_int_equal(note->base, d[i].base);
		assert_int_equal(note->semaphore, d[i].semaphore);
		assert_int_equal(note->pc_addr, d[i].pc);
		assert_int_equal(note->pc_offset, secs[0].offset + (d[i].pc - 0x1000));
		if (d[i].semaphore) {
			assert_int_equal(note->sema_addr, 0x4000);
			assert_int_equal(note->sema_offset, secs[2].offset);
		} else {
			assert_int_equal(note->sema_addr, 0);
			assert_int_equal(note->sema_offset, USDT_NO_OFFSET);
		}
	}
	assert_non_null(usdt_notes__get(n, 0)->meta);
	assert_string_equal(usdt_notes__get(n, 0)->meta, "");
	assert_string_equal(usdt_notes__get(n, 1)->meta, "id:i32 path:str");
	assert_string_equal(usdt_notes__get(n, 2)->meta, "code:i32 body:str");
	assert_null(usdt_notes__get(n, 3)->meta);
	assert_null(usdt_notes__get(n, 4));
	usdt_notes__free(n);
}

static void test_roundtrip_64le(void **state)
{
	roundtrip(false, false);
}

static void test_roundtrip_64be(void **state)
{
	roundtrip(false, true);
}

static void test_roundtrip_32le(void **state)
{
	roundtrip(true, false);
}

static void test_roundtrip_32be(void **state)
{
	roundtrip(true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stapsdt_bytes),
		cmocka_unit_test(test_meta_bytes),
		cmocka_unit_test(test_no_args_and_small_buffer),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_roundtrip_64le),
		cmocka_unit_test(test_roundtrip_64be),
		cmocka_unit_test(test_roundtrip_32le),
		cmocka_unit_test(test_roundtrip_32be),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
