/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Typed metadata: the text of a ".note.usdtkit" note's args field,
 * "NAME:TYPE NAME:TYPE ..." with bare "TYPE" items for unnamed arguments.
 *
 * One canonical short name per type is written ("i32", "str"), so every
 * writer produces the same bytes for the same signature; the parser also
 * takes C-ish aliases ("int32_t", "double", "char*") because people write
 * those in provider definitions. Names are C identifiers so that a tracer
 * can use them as field names in filters and output formats.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

struct type_alias {
	const char *name;
	enum usdt_type type;
};

/* Canonical names first: usdt_type__name() returns the first match. */
static const struct type_alias type_names[] = {
	{"i8", USDT_TYPE_INT8},
	{"u8", USDT_TYPE_UINT8},
	{"i16", USDT_TYPE_INT16},
	{"u16", USDT_TYPE_UINT16},
	{"i32", USDT_TYPE_INT32},
	{"u32", USDT_TYPE_UINT32},
	{"i64", USDT_TYPE_INT64},
	{"u64", USDT_TYPE_UINT64},
	{"f64", USDT_TYPE_DOUBLE},
	{"str", USDT_TYPE_STRING},
	{"ptr", USDT_TYPE_POINTER},
	/* aliases */
	{"s8", USDT_TYPE_INT8},
	{"int8", USDT_TYPE_INT8},
	{"int8_t", USDT_TYPE_INT8},
	{"char", USDT_TYPE_INT8},
	{"uint8", USDT_TYPE_UINT8},
	{"uint8_t", USDT_TYPE_UINT8},
	{"uchar", USDT_TYPE_UINT8},
	{"bool", USDT_TYPE_UINT8},
	{"s16", USDT_TYPE_INT16},
	{"int16", USDT_TYPE_INT16},
	{"int16_t", USDT_TYPE_INT16},
	{"short", USDT_TYPE_INT16},
	{"uint16", USDT_TYPE_UINT16},
	{"uint16_t", USDT_TYPE_UINT16},
	{"ushort", USDT_TYPE_UINT16},
	{"s32", USDT_TYPE_INT32},
	{"int32", USDT_TYPE_INT32},
	{"int32_t", USDT_TYPE_INT32},
	{"int", USDT_TYPE_INT32},
	{"uint32", USDT_TYPE_UINT32},
	{"uint32_t", USDT_TYPE_UINT32},
	{"uint", USDT_TYPE_UINT32},
	{"s64", USDT_TYPE_INT64},
	{"int64", USDT_TYPE_INT64},
	{"int64_t", USDT_TYPE_INT64},
	{"long", USDT_TYPE_INT64},
	{"ssize_t", USDT_TYPE_INT64},
	{"uint64", USDT_TYPE_UINT64},
	{"uint64_t", USDT_TYPE_UINT64},
	{"ulong", USDT_TYPE_UINT64},
	{"size_t", USDT_TYPE_UINT64},
	{"double", USDT_TYPE_DOUBLE},
	{"float64", USDT_TYPE_DOUBLE},
	{"string", USDT_TYPE_STRING},
	{"cstring", USDT_TYPE_STRING},
	{"char*", USDT_TYPE_STRING},
	{"pointer", USDT_TYPE_POINTER},
	{"void*", USDT_TYPE_POINTER},
	{"uintptr_t", USDT_TYPE_POINTER},
};

#define N_TYPE_NAMES (sizeof(type_names) / sizeof(type_names[0]))

USDT_API const char *usdt_type__name(enum usdt_type type)
{
	for (size_t i = 0; i < N_TYPE_NAMES; i++) {
		if (type_names[i].type == type)
			return type_names[i].name;
	}
	errno = EINVAL;
	return NULL;
}

USDT_API int usdt_type__parse(const char *text, size_t len, enum usdt_type *type)
{
	if (!text || !type) {
		errno = EINVAL;
		return -EINVAL;
	}
	for (size_t i = 0; i < N_TYPE_NAMES; i++) {
		const char *name = type_names[i].name;

		if (strlen(name) == len && memcmp(name, text, len) == 0) {
			*type = type_names[i].type;
			return 0;
		}
	}
	errno = EINVAL;
	return -EINVAL;
}

USDT_API int usdt_type__size(enum usdt_type type)
{
	switch (type) {
	case USDT_TYPE_INT8:
	case USDT_TYPE_UINT8:
		return 1;
	case USDT_TYPE_INT16:
	case USDT_TYPE_UINT16:
		return 2;
	case USDT_TYPE_INT32:
	case USDT_TYPE_UINT32:
		return 4;
	case USDT_TYPE_INT64:
	case USDT_TYPE_UINT64:
	case USDT_TYPE_DOUBLE:
		return 8;
	case USDT_TYPE_STRING:
	case USDT_TYPE_POINTER:
		return (int)sizeof(void *);
	default:
		errno = EINVAL;
		return -EINVAL;
	}
}

static bool is_ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident_char(char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static int meta_fail(struct usdt_parse_error *err, size_t pos, int code, const char *msg)
{
	if (err) {
		err->pos = pos;
		err->msg = msg;
	}
	errno = -code;
	return code;
}

/* One item text[start, end): "NAME:TYPE" or "TYPE". */
static int parse_item(struct usdt_arg_meta *m, const char *text, size_t start, size_t end,
		      struct usdt_parse_error *err)
{
	const char *colon = memchr(text + start, ':', end - start);
	size_t type_at = start;

	memset(m, 0, sizeof(*m));
	if (colon) {
		size_t name_len = (size_t)(colon - text) - start;

		if (name_len == 0)
			return meta_fail(err, start, -EINVAL, "argument name expected before ':'");
		if (!is_ident_start(text[start]))
			return meta_fail(err, start, -EINVAL,
					 "argument name must start with a letter or '_'");
		for (size_t i = start; i < start + name_len; i++) {
			if (!is_ident_char(text[i]))
				return meta_fail(
					err, i, -EINVAL,
					"argument name may only hold letters, digits and '_'");
		}
		if (name_len >= USDT_ARG_NAME_MAX)
			return meta_fail(err, start, -ENAMETOOLONG, "argument name too long");
		memcpy(m->name, text + start, name_len);
		m->name[name_len] = '\0';
		type_at = start + name_len + 1;
		if (type_at == end)
			return meta_fail(err, type_at, -EINVAL, "type expected after ':'");
	}
	if (usdt_type__parse(text + type_at, end - type_at, &m->type))
		return meta_fail(err, type_at, -EINVAL,
				 colon ? "unknown argument type"
				       : "unknown argument type (items are NAME:TYPE or TYPE)");
	return 0;
}

USDT_API int usdt_meta__parse(struct usdt_arg_meta *meta, size_t max, const char *text,
			      struct usdt_parse_error *err)
{
	size_t i = 0, count = 0;
	int ret;

	if (!text || (!meta && max))
		return meta_fail(err, 0, -EINVAL, "no metadata text");
	for (;;) {
		size_t start;

		while (text[i] == ' ')
			i++;
		if (!text[i])
			break;
		start = i;
		while (text[i] && text[i] != ' ')
			i++;
		if (count == max)
			return meta_fail(err, start, -E2BIG, "too many arguments");
		ret = parse_item(&meta[count], text, start, i, err);
		if (ret)
			return ret;
		count++;
	}
	if (count > INT_MAX)
		return meta_fail(err, 0, -E2BIG, "too many arguments");
	return (int)count;
}

USDT_API int usdt_meta__format(const struct usdt_arg_meta *meta, size_t n, char *buf, size_t size)
{
	size_t len = 0;
	int ret;

	if ((!meta && n) || (!buf && size)) {
		ret = -EINVAL;
		goto err;
	}
	for (size_t i = 0; i < n; i++) {
		const char *type = usdt_type__name(meta[i].type);
		size_t name_len = strnlen(meta[i].name, sizeof(meta[i].name));
		int w;

		if (!type || meta[i].type == USDT_TYPE_NONE || name_len == sizeof(meta[i].name) ||
		    (name_len && !is_ident_start(meta[i].name[0]))) {
			ret = -EINVAL;
			goto err;
		}
		for (size_t j = 0; j < name_len; j++) {
			if (!is_ident_char(meta[i].name[j])) {
				ret = -EINVAL;
				goto err;
			}
		}
		if (len < size)
			w = snprintf(buf + len, size - len, "%s%s%s%s", i ? " " : "", meta[i].name,
				     name_len ? ":" : "", type);
		else
			w = snprintf(NULL, 0, "%s%s%s%s", i ? " " : "", meta[i].name,
				     name_len ? ":" : "", type);
		if (w < 0) {
			ret = -EIO;
			goto err;
		}
		len += (size_t)w;
		if (len > INT_MAX) {
			ret = -EOVERFLOW;
			goto err;
		}
	}
	if (size && len == 0)
		buf[0] = '\0';
	return (int)len;
err:
	if (buf && size)
		buf[0] = '\0';
	errno = -ret;
	return ret;
}
