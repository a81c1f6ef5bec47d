// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The user-stack printers without BPF (tracer/ustack_fmt.c): bpftrace-like
 * text lines, JSON frames, folded lines (outermost first, equal stacks
 * summed, separators in names neutralised), and the entry-frame merge,
 * each against exact expected bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/types.h>

#include "json.h"
#include "ustack.h"
#include "ustack_fmt.h"

static const struct sym_frame frames[] = {
	{.addr = 0x55d0c0de1139, .symbol = "c", .offset = 9, .object = "/opt/app/bin"},
	{.addr = 0x55d0c0de1160, .symbol = "b", .offset = 16, .object = "/opt/app/bin"},
	{.addr = 0x7f0012345678, .object = "/usr/lib/x86_64-linux-gnu/libfoo.so.1"},
	{.addr = 0x7f00deadbeef},
	{.addr = 0x55d0c0de11a0, .symbol = "main", .offset = 48, .object = "/opt/app/bin"},
};
#define NFRAMES (sizeof(frames) / sizeof(frames[0]))

/* Runs @fn on a memory stream and returns what it wrote (free() it). */
static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void text_fn(FILE *f, void *arg)
{
	(void)arg;
	assert_int_equal(ustack__write_text(f, frames, NFRAMES), 0);
}

static void text_lines(void **state)
{
	char *s = capture(text_fn, NULL);

	(void)state;
	assert_string_equal(s, "        c+9 (/opt/app/bin)\n"
			       "        b+16 (/opt/app/bin)\n"
			       "        0x7f0012345678 (/usr/lib/x86_64-linux-gnu/libfoo.so.1)\n"
			       "        0x7f00deadbeef ([unknown])\n"
			       "        main+48 (/opt/app/bin)\n");
	free(s);
}

static void json_fn(FILE *f, void *arg)
{
	struct json_writer w;

	(void)arg;
	json_writer__init(&w, f);
	json__object_begin(&w);
	json__key(&w, "ustack");
	ustack__write_json(&w, frames, NFRAMES);
	json__object_end(&w);
	json__newline(&w);
}

static void json_frames(void **state)
{
	char *s = capture(json_fn, NULL);

	(void)state;
	assert_string_equal(
		s,
		"{\"ustack\":["
		"{\"addr\":\"0x55d0c0de1139\",\"symbol\":\"c\",\"offset\":9,\"object\":\"/opt/app/bin\"},"
		"{\"addr\":\"0x55d0c0de1160\",\"symbol\":\"b\",\"offset\":16,\"object\":\"/opt/app/bin\"},"
		"{\"addr\":\"0x7f0012345678\",\"symbol\":null,\"offset\":null,"
		"\"object\":\"/usr/lib/x86_64-linux-gnu/libfoo.so.1\"},"
		"{\"addr\":\"0x7f00deadbeef\",\"symbol\":null,\"offset\":null,\"object\":null},"
		"{\"addr\":\"0x55d0c0de11a0\",\"symbol\":\"main\",\"offset\":48,\"object\":\"/opt/app/bin\"}"
		"]}\n");
	free(s);
}

static void folded_fn(FILE *f, void *arg)
{
	assert_int_equal(ustack_folded__write(arg, f), 0);
}

/* Equal stacks (two processes: other addresses, same frames) become one line. */
static void folded_sums(void **state)
{
	struct ustack_folded *fo = ustack_folded__new();
	struct sym_frame other[NFRAMES];
	char *s;

	(void)state;
	assert_non_null(fo);
	memcpy(other, frames, sizeof(other));
	for (size_t i = 0; i < NFRAMES; i++)
		other[i].addr += 0x1000;
	assert_int_equal(ustack_folded__add(fo, NULL, frames, NFRAMES, 3), 0);
	assert_int_equal(ustack_folded__add(fo, NULL, other, NFRAMES, 4), 0);
	assert_int_equal(ustack_folded__add(fo, NULL, frames + 1, NFRAMES - 1, 2), 0);
	assert_int_equal(ustack_folded__add(fo, "store:req", frames, 2, 1), 0);
	assert_int_equal(ustack_folded__count(fo), 3);
	s = capture(folded_fn, fo);
	assert_string_equal(s, "main;[unknown];[libfoo.so.1];b 2\n"
			       "main;[unknown];[libfoo.so.1];b;c 7\n"
			       "store:req;b;c 1\n");
	free(s);
	ustack_folded__free(fo);
}

/* ';' would split a frame, a newline a line: C++ or odd names stay one frame. */
static void folded_names(void **state)
{
	struct sym_frame f[] = {
		{.addr = 1, .symbol = "ns::f<a;b>(int)", .object = "/x"},
		{.addr = 2, .symbol = "odd\nname", .object = "/x"},
		{.addr = 3, .object = "/memfd:usdtkit-rtp (deleted)"},
	};
	struct ustack_folded *fo = ustack_folded__new();
	char buf[8], *s;

	(void)state;
	assert_non_null(fo);
	assert_int_equal(ustack_folded__add(fo, NULL, f, 3, 5), 0);
	s = capture(folded_fn, fo);
	assert_string_equal(s, "[memfd:usdtkit-rtp (deleted)];odd_name;ns::f<a_b>(int) 5\n");
	free(s);
	/* snprintf semantics: truncated, terminated, full length returned */
	assert_int_equal(ustack__folded_name(&f[0], buf, sizeof(buf)), strlen("ns::f<a;b>(int)"));
	assert_string_equal(buf, "ns::f<a");
	ustack_folded__free(fo);
}

static void trim_fn(FILE *f, void *arg)
{
	const struct sym_frame *fr = arg;
	struct json_writer w;

	assert_int_equal(ustack__write_text(f, fr, 4), 0);
	json_writer__init(&w, f);
	ustack__write_json(&w, fr, 4);
	json__newline(&w);
}

/* A frame that is not code ends the stack: it and what follows are not shown as frames. */
static void trims_not_code(void **state)
{
	const struct sym_frame fr[] = {
		{.addr = 0x1010,
		 .symbol = "c",
		 .offset = 16,
		 .object = "/x",
		 .kind = SYM_FRAME_SYMBOL},
		{.addr = 0x2020, .object = "/x", .kind = SYM_FRAME_OBJECT},
		{.addr = 0x706d6f633379702f, .kind = SYM_FRAME_NOT_CODE},
		{.addr = 0x1080,
		 .symbol = "main",
		 .offset = 8,
		 .object = "/x",
		 .kind = SYM_FRAME_SYMBOL},
	};
	struct ustack_folded *fo = ustack_folded__new();
	char *s;

	(void)state;
	assert_non_null(fo);
	assert_int_equal(ustack__trim(fr, 4), 2);
	assert_int_equal(ustack__trim(fr, 2), 2);
	assert_int_equal(ustack__trim(fr + 2, 2), 2); /* never the probe's own frame */
	s = capture(trim_fn, (void *)fr);
	assert_string_equal(
		s, "        c+16 (/x)\n"
		   "        0x2020 (/x)\n"
		   "        [0x706d6f633379702f is not code: frame pointers missing above]\n"
		   "[{\"addr\":\"0x1010\",\"symbol\":\"c\",\"offset\":16,\"object\":\"/x\"},"
		   "{\"addr\":\"0x2020\",\"symbol\":null,\"offset\":null,\"object\":\"/x\"}]\n");
	free(s);
	assert_int_equal(ustack_folded__add(fo, "p", fr, 4, 2), 0);
	assert_int_equal(ustack_folded__add(fo, "p", fr, 2, 1), 0);
	s = capture(folded_fn, fo);
	assert_string_equal(s, "p;[truncated];[x];c 2\n"
			       "p;[x];c 1\n");
	free(s);
	ustack_folded__free(fo);
}

static void merge_entry(void **state)
{
	uint64_t ips[4] = {0x100, 0x300, 0x400};
	uint64_t full[3] = {0x100, 0x300, 0x400};
	uint64_t done[3] = {0x100, 0x200, 0x300};

	(void)state;
	/* not at an entry: unchanged */
	assert_int_equal(ustack__merge_entry(ips, 3, 4, 0, 0x200), 3);
	assert_int_equal(ips[1], 0x300);
	/* at an entry: the caller goes in second */
	assert_int_equal(ustack__merge_entry(ips, 3, 4, USTACK_F_ENTRY, 0x200), 4);
	assert_int_equal(ips[0], 0x100);
	assert_int_equal(ips[1], 0x200);
	assert_int_equal(ips[2], 0x300);
	assert_int_equal(ips[3], 0x400);
	/* full: the outermost frame makes room */
	assert_int_equal(ustack__merge_entry(full, 3, 3, USTACK_F_ENTRY, 0x200), 3);
	assert_int_equal(full[1], 0x200);
	assert_int_equal(full[2], 0x300);
	/* the kernel already walked it (6.12+): not twice */
	assert_int_equal(ustack__merge_entry(done, 3, 3, USTACK_F_ENTRY, 0x200), 3);
	assert_int_equal(done[1], 0x200);
	assert_int_equal(done[2], 0x300);
	/* the return address could not be read */
	assert_int_equal(ustack__merge_entry(done, 1, 3, USTACK_F_ENTRY, 0), 1);
}

static void json_line_fn(FILE *f, void *arg)
{
	const struct sym_frame fr = {.addr = 0x10,
				     .symbol = "c",
				     .offset = 4,
				     .object = "/x",
				     .file = "/src/c.c",
				     .line = 42};
	struct json_writer w;

	(void)arg;
	json_writer__init(&w, f);
	ustack__write_json(&w, &fr, 1);
	json__newline(&w);
}

/* file and line appear only when the symbolizer found them */
static void json_file_line(void **state)
{
	char *s = capture(json_line_fn, NULL);

	(void)state;
	assert_string_equal(s,
			    "[{\"addr\":\"0x10\",\"symbol\":\"c\",\"offset\":4,\"object\":\"/x\","
			    "\"file\":\"/src/c.c\",\"line\":42}]\n");
	free(s);
}

/* Ring records and stack map values into frames. */
static void from_kernel(void **state)
{
	union {
		struct ustack_rec r;
		uint64_t raw[2 + 4];
	} u = {.r = {.nframes = 3, .flags = USTACK_F_ENTRY, .entry_ret = 0x200}};
	uint64_t value[4] = {0x100, 0x300, 0, 0};
	struct ustack_key key = {.stackid = 5};
	uint64_t ips[5];

	(void)state;
	u.r.ips[0] = 0x100;
	u.r.ips[1] = 0x300;
	u.r.ips[2] = 0x400;
	u.r.ips[3] = 0xdead; /* beyond nframes: not a frame */
	assert_int_equal(ustack__from_rec(&u.r, 4, ips, 5), 4);
	assert_int_equal(ips[1], 0x200);
	assert_int_equal(ips[3], 0x400);
	u.r.nframes = 9; /* more than the depth it was captured with: clamped */
	u.r.flags = 0;
	assert_int_equal(ustack__from_rec(&u.r, 4, ips, 5), 4);
	u.r.nframes = -14; /* -EFAULT */
	assert_int_equal(ustack__from_rec(&u.r, 4, ips, 5), 0);
	/* a stack map value ends at the first zero slot */
	assert_int_equal(ustack__from_map(value, 4, &key, ips, 5), 2);
	key.flags = USTACK_F_ENTRY;
	key.entry_ret = 0x200;
	assert_int_equal(ustack__from_map(value, 4, &key, ips, 5), 3);
	assert_int_equal(ips[1], 0x200);
	assert_int_equal(ips[2], 0x300);
	key.stackid = -17; /* -EEXIST: a hash collision in the stack map */
	assert_int_equal(ustack__from_map(value, 4, &key, ips, 5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_lines),	  cmocka_unit_test(json_frames),
		cmocka_unit_test(folded_sums),	  cmocka_unit_test(folded_names),
		cmocka_unit_test(trims_not_code), cmocka_unit_test(merge_entry),
		cmocka_unit_test(from_kernel),	  cmocka_unit_test(json_file_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
