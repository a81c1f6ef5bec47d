/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Types and typed metadata: canonical names and aliases, sizes, the
 * "NAME:TYPE ..." parser with its errors, and the formatter's round trip
 * and snprintf semantics.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <usdtkit/stapsdt.h>

static const struct {
	enum usdt_type type;
	const char *name;
	int size;
} canonical[] = {
	{USDT_TYPE_INT8, "i8", 1},
	{USDT_TYPE_UINT8, "u8", 1},
	{USDT_TYPE_INT16, "i16", 2},
	{USDT_TYPE_UINT16, "u16", 2},
	{USDT_TYPE_INT32, "i32", 4},
	{USDT_TYPE_UINT32, "u32", 4},
	{USDT_TYPE_INT64, "i64", 8},
	{USDT_TYPE_UINT64, "u64", 8},
	{USDT_TYPE_DOUBLE, "f64", 8},
	{USDT_TYPE_STRING, "str", sizeof(char *)},
	{USDT_TYPE_POINTER, "ptr", sizeof(void *)},
};

static void test_type_names(void **state)
{
	assert_int_equal(sizeof(canonical) / sizeof(canonical[0]), USDT_TYPE__MAX - 1);
	for (size_t i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++) {
		enum usdt_type t = USDT_TYPE_NONE;

		assert_string_equal(usdt_type__name(canonical[i].type), canonical[i].name);
		assert_int_equal(usdt_type__parse(canonical[i].name, strlen(canonical[i].name), &t),
				 0);
		assert_int_equal(t, canonical[i].type);
		assert_int_equal(usdt_type__size(canonical[i].type), canonical[i].size);
	}
	errno = 0;
	assert_null(usdt_type__name(USDT_TYPE_NONE));
	assert_int_equal(errno, EINVAL);
	assert_null(usdt_type__name(USDT_TYPE__MAX));
	assert_null(usdt_type__name((enum usdt_type) - 1));
	assert_int_equal(usdt_type__size(USDT_TYPE_NONE), -EINVAL);
	assert_int_equal(usdt_type__size(USDT_TYPE__MAX), -EINVAL);
}

static void test_type_aliases(void **state)
{
	static const struct {
		const char *alias;
		enum usdt_type type;
	} aliases[] = {
		{"int8", USDT_TYPE_INT8},	{"int8_t", USDT_TYPE_INT8},
		{"s8", USDT_TYPE_INT8},		{"char", USDT_TYPE_INT8},
		{"uint8", USDT_TYPE_UINT8},	{"uint8_t", USDT_TYPE_UINT8},
		{"bool", USDT_TYPE_UINT8},	{"int16_t", USDT_TYPE_INT16},
		{"short", USDT_TYPE_INT16},	{"uint16_t", USDT_TYPE_UINT16},
		{"s32", USDT_TYPE_INT32},	{"int32", USDT_TYPE_INT32},
		{"int32_t", USDT_TYPE_INT32},	{"int", USDT_TYPE_INT32},
		{"uint32_t", USDT_TYPE_UINT32}, {"uint", USDT_TYPE_UINT32},
		{"s64", USDT_TYPE_INT64},	{"int64_t", USDT_TYPE_INT64},
		{"long", USDT_TYPE_INT64},	{"ssize_t", USDT_TYPE_INT64},
		{"uint64", USDT_TYPE_UINT64},	{"uint64_t", USDT_TYPE_UINT64},
		{"size_t", USDT_TYPE_UINT64},	{"ulong", USDT_TYPE_UINT64},
		{"double", USDT_TYPE_DOUBLE},	{"float64", USDT_TYPE_DOUBLE},
		{"string", USDT_TYPE_STRING},	{"char*", USDT_TYPE_STRING},
		{"cstring", USDT_TYPE_STRING},	{"pointer", USDT_TYPE_POINTER},
		{"void*", USDT_TYPE_POINTER},	{"uintptr_t", USDT_TYPE_POINTER},
	};
	static const char *const bad[] = {"",	    "i",     "i7",     "I32",  "int32_",
					  "int 32", "float", "char *", "u128", "str "};
	enum usdt_type t;

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		t = USDT_TYPE_NONE;
		assert_int_equal(usdt_type__parse(aliases[i].alias, strlen(aliases[i].alias), &t),
				 0);
		assert_int_equal(t, aliases[i].type);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(usdt_type__parse(bad[i], strlen(bad[i]), &t), -EINVAL);
		assert_int_equal(errno, EINVAL);
	}
	/* Only @len bytes count. */
	assert_int_equal(usdt_type__parse("u64junk", 3, &t), 0);
	assert_int_equal(t, USDT_TYPE_UINT64);
	assert_int_equal(usdt_type__parse("u6", 2, &t), -EINVAL);
	assert_int_equal(usdt_type__parse(NULL, 0, &t), -EINVAL);
	assert_int_equal(usdt_type__parse("i8", 2, NULL), -EINVAL);
}

static void test_meta_parse(void **state)
{
	struct usdt_arg_meta m[USDT_MAX_ARGS];
	struct usdt_parse_error err = {0, NULL};

	assert_int_equal(usdt_meta__parse(m, USDT_MAX_ARGS, "client:str path:str size:u64", &err),
			 3);
	assert_string_equal(m[0].name, "client");
	assert_int_equal(m[0].type, USDT_TYPE_STRING);
	assert_string_equal(m[1].name, "path");
	assert_int_equal(m[1].type, USDT_TYPE_STRING);
	assert_string_equal(m[2].name, "size");
	assert_int_equal(m[2].type, USDT_TYPE_UINT64);

	/* bare types, aliases, extra spaces */
	assert_int_equal(usdt_meta__parse(m, USDT_MAX_ARGS, "  i32   fd:int _x9:double ptr ", &err),
			 4);
	assert_string_equal(m[0].name, "");
	assert_int_equal(m[0].type, USDT_TYPE_INT32);
	assert_string_equal(m[1].name, "fd");
	assert_int_equal(m[1].type, USDT_TYPE_INT32);
	assert_string_equal(m[2].name, "_x9");
	assert_int_equal(m[2].type, USDT_TYPE_DOUBLE);
	assert_string_equal(m[3].name, "");
	assert_int_equal(m[3].type, USDT_TYPE_POINTER);

	assert_int_equal(usdt_meta__parse(m, USDT_MAX_ARGS, "", &err), 0);
	assert_int_equal(usdt_meta__parse(m, USDT_MAX_ARGS, "   ", &err), 0);
	assert_int_equal(usdt_meta__parse(NULL, 0, "", &err), 0);
}

static void test_meta_errors(void **state)
{
	static const struct {
		const char *text;
		int err;
		size_t pos;
	} bad[] = {
		{":i32", -EINVAL, 0},
		{"a:", -EINVAL, 2},
		{"a:i32 b:", -EINVAL, 8},
		{"1abc:i32", -EINVAL, 0},
		{"a-b:i32", -EINVAL, 1},
		{"a:b:c", -EINVAL, 2},
		{"x:i32 y:float", -EINVAL, 8},
		{"foo", -EINVAL, 0},
		{"a:i32,b:i32", -EINVAL, 2},
		{"a:i32\tb:i32", -EINVAL, 2},
		{"x:i32 n123456789012345678901234567890123456789012345678901234567890123:u8",
		 -ENAMETOOLONG, 6},
		{"a:i8 b:i8 c:i8 d:i8 e:i8 f:i8 g:i8 h:i8 i:i8 j:i8 k:i8 l:i8 m:i8", -E2BIG, 60},
	};
	struct usdt_arg_meta m[USDT_MAX_ARGS];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct usdt_parse_error err = {SIZE_MAX, NULL};

		print_message("  %s\n", bad[i].text);
		errno = 0;
		assert_int_equal(usdt_meta__parse(m, USDT_MAX_ARGS, bad[i].text, &err), bad[i].err);
		assert_int_equal(errno, -bad[i].err);
		assert_non_null(err.msg);
		assert_int_equal(err.pos, bad[i].pos);
	}
	assert_int_equal(usdt_meta__parse(m, USDT_MAX_ARGS, NULL, NULL), -EINVAL);
	assert_int_equal(usdt_meta__parse(NULL, 1, "i8", NULL), -EINVAL);
	assert_int_equal(usdt_meta__parse(NULL, 0, "i8", NULL), -E2BIG);

	/* 63 characters is the longest name. */
	char text[128];
	memset(text, 'n', USDT_ARG_NAME_MAX - 1);
	strcpy(text + USDT_ARG_NAME_MAX - 1, ":u8");
	assert_int_equal(usdt_meta__parse(m, 1, text, NULL), 1);
	assert_int_equal(strlen(m[0].name), USDT_ARG_NAME_MAX - 1);
}

static void test_meta_format(void **state)
{
	static const char *const texts[] = {
		"client:str path:str size:u64",
		"i8 u8 i16 u16 i32 u32 i64 u64 f64 str ptr",
		"a:i8 b:u8 c:i16 d:u16 e:i32 f:u32 g:i64 h:u64 i:f64 j:str k:ptr l:i32",
		"",
		"x:i32 u64",
	};
	struct usdt_arg_meta m[USDT_MAX_ARGS];
	char buf[1024], small[8];
	int n;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		n = usdt_meta__parse(m, USDT_MAX_ARGS, texts[i], NULL);
		assert_true(n >= 0);
		assert_int_equal(usdt_meta__format(m, (size_t)n, buf, sizeof(buf)),
				 strlen(texts[i]));
		assert_string_equal(buf, texts[i]);
	}

	/* Aliases format as canonical names, and those parse to the same. */
	n = usdt_meta__parse(m, USDT_MAX_ARGS, " fd:int  buf:char* len:size_t  double ", NULL);
	assert_int_equal(n, 4);
	assert_int_equal(usdt_meta__format(m, (size_t)n, buf, sizeof(buf)),
			 strlen("fd:i32 buf:str len:u64 f64"));
	assert_string_equal(buf, "fd:i32 buf:str len:u64 f64");

	/* snprintf semantics */
	assert_int_equal(usdt_meta__format(m, (size_t)n, NULL, 0), strlen(buf));
	memset(small, 'x', sizeof(small));
	assert_int_equal(usdt_meta__format(m, (size_t)n, small, sizeof(small)), strlen(buf));
	assert_string_equal(small, "fd:i32 ");
	assert_int_equal(usdt_meta__format(m, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* invalid items */
	m[1].type = USDT_TYPE_NONE;
	errno = 0;
	assert_int_equal(usdt_meta__format(m, 2, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(buf, "");
	m[1].type = USDT_TYPE__MAX;
	assert_int_equal(usdt_meta__format(m, 2, buf, sizeof(buf)), -EINVAL);
	m[1].type = USDT_TYPE_STRING;
	strcpy(m[1].name, "bad name");
	assert_int_equal(usdt_meta__format(m, 2, buf, sizeof(buf)), -EINVAL);
	strcpy(m[1].name, "9lives");
	assert_int_equal(usdt_meta__format(m, 2, buf, sizeof(buf)), -EINVAL);
	memset(m[1].name, 'a', sizeof(m[1].name));
	assert_int_equal(usdt_meta__format(m, 2, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(usdt_meta__format(NULL, 1, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),  cmocka_unit_test(test_type_aliases),
		cmocka_unit_test(test_meta_parse),  cmocka_unit_test(test_meta_errors),
		cmocka_unit_test(test_meta_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
