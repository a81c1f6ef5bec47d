/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Argument types shared by every usdtkit library: the sdt core's typed
 * metadata note, the runtime provider API and the tracer all speak of a
 * probe argument's type with this one enum, so the name a runtime records
 * is the name the tracer decodes.
 */
#ifndef USDTKIT_TYPES_H
#define USDTKIT_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef USDT_API
#define USDT_API __attribute__((visibility("default")))
#endif

/* Most arguments a probe may carry; the limit of sys/sdt.h and libbpf. */
#define USDT_MAX_ARGS 12

enum usdt_type {
	USDT_TYPE_NONE = 0, /* unknown: decode from the spec's size/sign */
	USDT_TYPE_INT8,
	USDT_TYPE_UINT8,
	USDT_TYPE_INT16,
	USDT_TYPE_UINT16,
	USDT_TYPE_INT32,
	USDT_TYPE_UINT32,
	USDT_TYPE_INT64,
	USDT_TYPE_UINT64,
	USDT_TYPE_DOUBLE,
	USDT_TYPE_STRING, /* NUL-terminated char * */
	USDT_TYPE_POINTER,
	USDT_TYPE__MAX,
};

#ifdef __cplusplus
}
#endif

#endif /* USDTKIT_TYPES_H */
