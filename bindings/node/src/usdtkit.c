// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit Node.js addon: the native half of bindings/node (lib/index.js is
 * the API). It is a thin N-API layer over libusdtkit's provider API.
 *
 * libusdtkit is dlopen()ed at run time (open()), not linked: the JS side
 * searches the same places as the Python bindings (USDTKIT_LIBRARY, the
 * system loader, a source checkout's build tree), and `npm install` can
 * build the addon before or without the library being built.
 *
 * Untraced firing never enters this file. Each probe's semaphore is handed
 * to JS as a 2-byte external ArrayBuffer on the word the kernel increments
 * when a tracer attaches (provider.h: the semaphore stays readable for the
 * probe's whole life), so JS tests it with one typed-array load, and calls
 * fire() here only when it is non-zero.
 *
 * Lifetime. A native provider is reference counted: the JS provider handle,
 * every probe handle and every semaphore buffer hold one reference, dropped
 * by their GC finalizers. close() only unloads; usdt_provider__free() runs
 * when the last reference goes. So no JS object ever points at freed
 * memory, and an external buffer's address cannot be reused by a new
 * provider while V8 still knows the old buffer.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAPI_VERSION 8
#include <node_api.h>

#define USDT_NO_INLINE_FIRE
#include <usdtkit/provider.h>

#define STR_INLINE 256

/* libusdtkit's entry points, resolved by open(). */
static struct {
	pthread_mutex_t lock;
	void *handle;
	struct usdt_provider *(*provider_new)(const char *, const struct usdt_provider_opts *);
	struct usdt_probe *(*add_probe)(struct usdt_provider *, const char *, int,
					const enum usdt_type *, const char *const *);
	int (*load)(struct usdt_provider *);
	int (*unload)(struct usdt_provider *);
	void (*free)(struct usdt_provider *);
	bool (*loaded)(const struct usdt_provider *);
	int (*fd)(const struct usdt_provider *);
	int (*probe_nop)(const struct usdt_provider *);
	const void *(*address)(const struct usdt_probe *);
	int (*fire_values)(struct usdt_probe *, const struct usdt_value *, size_t);
	const char *(*strerror)(int);
} lib = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct nprov {
	struct usdt_provider *prov;
	atomic_int refs;
	atomic_bool closed;
	char name[USDT_NAME_MAX];
};

struct nprobe {
	struct nprov *np;
	struct usdt_probe *probe;
	int argc;
	enum usdt_type types[USDT_MAX_ARGS];
	char label[2 * USDT_NAME_MAX + 1]; /* "provider:probe" */
	char arg_names[USDT_MAX_ARGS][USDT_NAME_MAX];
};

static const char *const type_names[] = {
	[USDT_TYPE_NONE] = "none",  [USDT_TYPE_INT8] = "i8",	[USDT_TYPE_UINT8] = "u8",
	[USDT_TYPE_INT16] = "i16",  [USDT_TYPE_UINT16] = "u16", [USDT_TYPE_INT32] = "i32",
	[USDT_TYPE_UINT32] = "u32", [USDT_TYPE_INT64] = "i64",	[USDT_TYPE_UINT64] = "u64",
	[USDT_TYPE_DOUBLE] = "f64", [USDT_TYPE_STRING] = "str", [USDT_TYPE_POINTER] = "ptr",
};

static void nprov_put(struct nprov *np)
{
	if (atomic_fetch_sub(&np->refs, 1) == 1) {
		lib.free(np->prov);
		free(np);
	}
}

static void nprov_get(struct nprov *np)
{
	atomic_fetch_add(&np->refs, 1);
}

/* --- errors --------------------------------------------------------------- */

/* Throws an Error with .code ("EBUSY") and .errno (positive) set. */
static void throw_errno(napi_env env, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void throw_errno(napi_env env, int err, const char *fmt, ...)
{
	char msg[512];
	size_t len;
	va_list ap;
	napi_value code, text, error, num;
	const char *name;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, ": %s",
		 lib.strerror ? lib.strerror(err) : strerror(err));
	name = strerrorname_np(err);
	if (napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code) !=
		    napi_ok ||
	    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text) != napi_ok ||
	    napi_create_error(env, code, text, &error) != napi_ok ||
	    napi_create_int32(env, err, &num) != napi_ok ||
	    napi_set_named_property(env, error, "errno", num) != napi_ok) {
		napi_throw_error(env, name, msg);
		return;
	}
	napi_throw(env, error);
}

static void throw_type(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void throw_type(napi_env env, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	napi_throw_type_error(env, NULL, msg);
}

static void throw_range(napi_env env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void throw_range(napi_env env, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	napi_throw_range_error(env, NULL, msg);
}

/* Any failed napi_* call: rethrow what is pending, or say what failed. */
#define CHECK(env, call)                                                                    \
	do {                                                                                \
		if ((call) != napi_ok) {                                                    \
			bool pending_ = false;                                              \
			napi_is_exception_pending((env), &pending_);                        \
			if (!pending_)                                                      \
				napi_throw_error((env), NULL, "usdtkit: internal: " #call); \
			return NULL;                                                        \
		}                                                                           \
	} while (0)

static napi_value args_of(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return NULL;
	if (argc < want) {
		throw_type(env, "usdtkit: internal: %zu arguments expected", want);
		return NULL;
	}
	return argv[0];
}

static napi_value undefined(napi_env env)
{
	napi_value u = NULL;

	napi_get_undefined(env, &u);
	return u;
}

static struct nprov *prov_of(napi_env env, napi_value v)
{
	void *p = NULL;

	if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
		throw_type(env, "usdtkit: internal: not a provider handle");
		return NULL;
	}
	return p;
}

static struct nprobe *probe_of(napi_env env, napi_value v)
{
	void *p = NULL;

	if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
		throw_type(env, "usdtkit: internal: not a probe handle");
		return NULL;
	}
	return p;
}

static bool need_lib(napi_env env)
{
	if (!lib.handle)
		napi_throw_error(env, "ENOENT", "usdtkit: libusdtkit is not loaded");
	return lib.handle != NULL;
}

/* --- open(path) ------------------------------------------------------------ */

#define SYM(field, name)                               \
	do {                                           \
		*(void **)&lib.field = dlsym(h, name); \
		if (!lib.field) {                      \
			missing = name;                \
			goto fail;                     \
		}                                      \
	} while (0)

static napi_value do_open(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char path[4096];
	const char *missing = NULL;
	void *h;

	if (!args_of(env, info, 1, argv))
		return NULL;
	CHECK(env, napi_get_value_string_utf8(env, argv[0], path, sizeof(path), NULL));
	pthread_mutex_lock(&lib.lock);
	if (lib.handle) {
		pthread_mutex_unlock(&lib.lock);
		return undefined(env);
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		pthread_mutex_unlock(&lib.lock);
		napi_throw_error(env, "ENOENT", dlerror());
		return NULL;
	}
	SYM(provider_new, "usdt_provider__new");
	SYM(add_probe, "usdt_provider__add_probe");
	SYM(load, "usdt_provider__load");
	SYM(unload, "usdt_provider__unload");
	SYM(free, "usdt_provider__free");
	SYM(loaded, "usdt_provider__loaded");
	SYM(fd, "usdt_provider__fd");
	SYM(probe_nop, "usdt_provider__probe_nop");
	SYM(address, "usdt_probe__address");
	SYM(fire_values, "usdt_probe__fire_values");
	SYM(strerror, "usdt_strerror");
	lib.handle = h;
	pthread_mutex_unlock(&lib.lock);
	return undefined(env);
fail:
	dlclose(h);
	memset(&lib.provider_new, 0, sizeof(lib) - offsetof(typeof(lib), provider_new));
	pthread_mutex_unlock(&lib.lock);
	{
		char msg[512];

		snprintf(msg, sizeof(msg), "usdtkit: %.400s is not libusdtkit (no %s)", path,
			 missing);
		napi_throw_error(env, "ENOENT", msg);
	}
	return NULL;
}

/* --- providers ------------------------------------------------------------ */

static void prov_finalize(napi_env env, void *data, void *hint)
{
	nprov_put(data);
}

/* providerNew(name, probeNop, noMemfd, loadWaitMs) -> handle */
static napi_value provider_new(napi_env env, napi_callback_info info)
{
	struct usdt_provider_opts opts = {.sz = sizeof(opts)};
	napi_value argv[4], out;
	struct nprov *np;
	int32_t nop, wait_ms;

	if (!args_of(env, info, 4, argv) || !need_lib(env))
		return NULL;
	np = calloc(1, sizeof(*np));
	if (!np) {
		throw_errno(env, ENOMEM, "usdtkit: new provider");
		return NULL;
	}
	if (napi_get_value_string_utf8(env, argv[0], np->name, sizeof(np->name), NULL) != napi_ok ||
	    napi_get_value_int32(env, argv[1], &nop) != napi_ok ||
	    napi_get_value_bool(env, argv[2], &opts.no_memfd) != napi_ok ||
	    napi_get_value_int32(env, argv[3], &wait_ms) != napi_ok) {
		free(np);
		throw_type(env, "usdtkit: internal: bad providerNew arguments");
		return NULL;
	}
	opts.probe_nop = nop;
	opts.load_wait_ms = wait_ms;
	np->prov = lib.provider_new(np->name, &opts);
	if (!np->prov) {
		int err = errno;

		throw_errno(env, err, "usdtkit: new provider '%s'", np->name);
		free(np);
		return NULL;
	}
	atomic_init(&np->refs, 1);
	if (napi_create_external(env, np, prov_finalize, NULL, &out) != napi_ok) {
		nprov_put(np);
		napi_throw_error(env, NULL, "usdtkit: internal: napi_create_external");
		return NULL;
	}
	return out;
}

static void probe_finalize(napi_env env, void *data, void *hint)
{
	struct nprobe *pr = data;

	nprov_put(pr->np);
	free(pr);
}

static void sema_finalize(napi_env env, void *data, void *hint)
{
	nprov_put(hint);
}

/* addProbe(provider, name, types: int[], names: (string|null)[]) -> [probe, semaphore] */
static napi_value add_probe(napi_env env, napi_callback_info info)
{
	napi_value argv[4], v, out, ext, buf;
	const char *names[USDT_MAX_ARGS] = {0};
	char name[USDT_NAME_MAX];
	struct nprobe *pr;
	struct nprov *np;
	uint32_t n, i;

	if (!args_of(env, info, 4, argv) || !(np = prov_of(env, argv[0])))
		return NULL;
	if (atomic_load(&np->closed)) {
		throw_errno(env, EBADF, "usdtkit: add_probe on closed provider '%s'", np->name);
		return NULL;
	}
	CHECK(env, napi_get_value_string_utf8(env, argv[1], name, sizeof(name), NULL));
	CHECK(env, napi_get_array_length(env, argv[2], &n));
	if (n > USDT_MAX_ARGS) {
		throw_range(env, "usdtkit: probe %s: %u arguments, at most %d", name, n,
			    USDT_MAX_ARGS);
		return NULL;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		throw_errno(env, ENOMEM, "usdtkit: add_probe");
		return NULL;
	}
	pr->argc = (int)n;
	snprintf(pr->label, sizeof(pr->label), "%s:%s", np->name, name);
	for (i = 0; i < n; i++) {
		int32_t t;
		napi_valuetype vt;

		if (napi_get_element(env, argv[2], i, &v) != napi_ok ||
		    napi_get_value_int32(env, v, &t) != napi_ok ||
		    napi_get_element(env, argv[3], i, &v) != napi_ok ||
		    napi_typeof(env, v, &vt) != napi_ok)
			goto bad_args;
		pr->types[i] = (enum usdt_type)t;
		if (vt == napi_string) {
			if (napi_get_value_string_utf8(env, v, pr->arg_names[i],
						       sizeof(pr->arg_names[i]), NULL) != napi_ok)
				goto bad_args;
			names[i] = pr->arg_names[i];
		}
	}
	pr->probe = lib.add_probe(np->prov, name, (int)n, pr->types, names);
	if (!pr->probe) {
		int err = errno;

		free(pr);
		throw_errno(env, err, "usdtkit: add_probe %s:%s", np->name, name);
		return NULL;
	}
	pr->np = np;
	nprov_get(np);
	if (napi_create_external(env, pr, probe_finalize, NULL, &ext) != napi_ok) {
		probe_finalize(env, pr, NULL);
		napi_throw_error(env, NULL, "usdtkit: internal: napi_create_external");
		return NULL;
	}
	/* provider.h ABI: the probe's first member points at its semaphore. */
	nprov_get(np);
	if (napi_create_external_arraybuffer(env, *(void **)pr->probe, sizeof(unsigned short),
					     sema_finalize, np, &buf) != napi_ok) {
		nprov_put(np);
		napi_throw_error(env, NULL, "usdtkit: internal: napi_create_external_arraybuffer");
		return NULL;
	}
	CHECK(env, napi_create_array_with_length(env, 2, &out));
	CHECK(env, napi_set_element(env, out, 0, ext));
	CHECK(env, napi_set_element(env, out, 1, buf));
	return out;
bad_args:
	free(pr);
	throw_type(env, "usdtkit: internal: bad addProbe arguments");
	return NULL;
}

/* load(provider) and unload(provider): @op on an open provider, errors thrown. */
static napi_value provider_op(napi_env env, napi_callback_info info,
			      int (*op)(struct usdt_provider *), const char *verb)
{
	napi_value argv[1];
	struct nprov *np;
	int err;

	if (!args_of(env, info, 1, argv) || !(np = prov_of(env, argv[0])))
		return NULL;
	if (atomic_load(&np->closed)) {
		throw_errno(env, EBADF, "usdtkit: %s closed provider '%s'", verb, np->name);
		return NULL;
	}
	err = op(np->prov);
	if (err) {
		throw_errno(env, err, "usdtkit: %s provider '%s'", verb, np->name);
		return NULL;
	}
	return undefined(env);
}

static napi_value load(napi_env env, napi_callback_info info)
{
	return provider_op(env, info, lib.load, "load");
}

static napi_value unload(napi_env env, napi_callback_info info)
{
	return provider_op(env, info, lib.unload, "unload");
}

/* close(provider): unloads; the memory goes with the last reference. */
static napi_value close_provider(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct nprov *np;

	if (!args_of(env, info, 1, argv) || !(np = prov_of(env, argv[0])))
		return NULL;
	if (!atomic_exchange(&np->closed, true) && lib.loaded(np->prov))
		lib.unload(np->prov);
	return undefined(env);
}

/* info(provider) -> { loaded, fd, probeNop } */
static napi_value provider_info(napi_env env, napi_callback_info info)
{
	napi_value argv[1], out, v;
	struct nprov *np;
	int fd;

	if (!args_of(env, info, 1, argv) || !(np = prov_of(env, argv[0])))
		return NULL;
	CHECK(env, napi_create_object(env, &out));
	CHECK(env, napi_get_boolean(env, lib.loaded(np->prov), &v));
	CHECK(env, napi_set_named_property(env, out, "loaded", v));
	fd = lib.fd(np->prov);
	if (fd >= 0)
		CHECK(env, napi_create_int32(env, fd, &v));
	else
		CHECK(env, napi_get_null(env, &v));
	CHECK(env, napi_set_named_property(env, out, "fd", v));
	CHECK(env, napi_create_int32(env, lib.probe_nop(np->prov), &v));
	CHECK(env, napi_set_named_property(env, out, "probeNop", v));
	return out;
}

/* address(probe) -> bigint | null */
static napi_value probe_address(napi_env env, napi_callback_info info)
{
	napi_value argv[1], out;
	struct nprobe *pr;
	const void *a;

	if (!args_of(env, info, 1, argv) || !(pr = probe_of(env, argv[0])))
		return NULL;
	a = atomic_load(&pr->np->closed) ? NULL : lib.address(pr->probe);
	if (a)
		CHECK(env, napi_create_bigint_uint64(env, (uint64_t)(uintptr_t)a, &out));
	else
		CHECK(env, napi_get_null(env, &out));
	return out;
}

/* --- firing ---------------------------------------------------------------- */

struct conv {
	struct nprobe *pr;
	unsigned int i;
	char *heap[USDT_MAX_ARGS]; /* strings too long for the inline buffers */
	char inl[USDT_MAX_ARGS][STR_INLINE];
};

static void describe(const struct conv *c, char *buf, size_t size)
{
	const char *an = c->pr->arg_names[c->i];

	snprintf(buf, size, "usdtkit: %s() argument %u%s%s%s (%s)", c->pr->label, c->i,
		 *an ? " '" : "", an, *an ? "'" : "", type_names[c->pr->types[c->i]]);
}

static const char *typeof_name(napi_valuetype t)
{
	switch (t) {
	case napi_undefined:
		return "undefined";
	case napi_null:
		return "null";
	case napi_boolean:
		return "boolean";
	case napi_number:
		return "number";
	case napi_string:
		return "string";
	case napi_symbol:
		return "symbol";
	case napi_object:
		return "object";
	case napi_function:
		return "function";
	case napi_external:
		return "external";
	case napi_bigint:
		return "bigint";
	}
	return "?";
}

/* Integers: a Number with an integral value or a BigInt, within range. */
static bool conv_int(napi_env env, struct conv *c, napi_value v, napi_valuetype vt,
		     struct usdt_value *out)
{
	static const struct {
		double lo, hi; /* inclusive; i64/u64 hi is exclusive (2^63, 2^64) */
	} r[] = {
		[USDT_TYPE_INT8] = {-128.0, 127.0},
		[USDT_TYPE_UINT8] = {0, 255.0},
		[USDT_TYPE_INT16] = {-32768.0, 32767.0},
		[USDT_TYPE_UINT16] = {0, 65535.0},
		[USDT_TYPE_INT32] = {-2147483648.0, 2147483647.0},
		[USDT_TYPE_UINT32] = {0, 4294967295.0},
		[USDT_TYPE_INT64] = {-9223372036854775808.0, 9223372036854775808.0},
		[USDT_TYPE_UINT64] = {0, 18446744073709551616.0},
		[USDT_TYPE_POINTER] = {0, 18446744073709551616.0},
	};
	enum usdt_type t = c->pr->types[c->i];
	bool is_signed = t == USDT_TYPE_INT8 || t == USDT_TYPE_INT16 || t == USDT_TYPE_INT32 ||
			 t == USDT_TYPE_INT64;
	bool wide = t == USDT_TYPE_INT64 || t == USDT_TYPE_UINT64 || t == USDT_TYPE_POINTER;
	char what[256];

	if (vt == napi_number) {
		double d;

		if (napi_get_value_double(env, v, &d) != napi_ok)
			return false;
		if (!isfinite(d) || trunc(d) != d) {
			describe(c, what, sizeof(what));
			throw_range(env, "%s: %g is not an integer", what, d);
			return false;
		}
		if (d < r[t].lo || (wide ? d >= r[t].hi : d > r[t].hi)) {
			describe(c, what, sizeof(what));
			throw_range(env, "%s: %.17g is out of range", what, d);
			return false;
		}
		if (is_signed)
			out->i64 = (int64_t)d;
		else
			out->u64 = (uint64_t)d;
		return true;
	}
	if (vt == napi_bigint) {
		bool lossless = false;

		if (is_signed) {
			int64_t x;

			if (napi_get_value_bigint_int64(env, v, &x, &lossless) != napi_ok)
				return false;
			if (lossless && !wide && (x < (int64_t)r[t].lo || x > (int64_t)r[t].hi))
				lossless = false;
			out->i64 = x;
		} else {
			uint64_t x;

			if (napi_get_value_bigint_uint64(env, v, &x, &lossless) != napi_ok)
				return false;
			if (lossless && !wide && x > (uint64_t)r[t].hi)
				lossless = false;
			out->u64 = x;
		}
		if (!lossless) {
			describe(c, what, sizeof(what));
			throw_range(env, "%s: BigInt out of range", what);
			return false;
		}
		return true;
	}
	if (t == USDT_TYPE_POINTER && (vt == napi_null || vt == napi_undefined)) {
		out->ptr = NULL;
		return true;
	}
	describe(c, what, sizeof(what));
	throw_type(env, "%s: expected a number or BigInt%s, got %s", what,
		   t == USDT_TYPE_POINTER ? " or null" : "", typeof_name(vt));
	return false;
}

static bool conv_str(napi_env env, struct conv *c, napi_value v, napi_valuetype vt,
		     struct usdt_value *out)
{
	char what[256];
	size_t len;
	char *s;

	if (vt == napi_null || vt == napi_undefined) {
		out->str = NULL;
		return true;
	}
	if (vt == napi_string) {
		if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
			return false;
		s = c->inl[c->i];
		if (len >= STR_INLINE) {
			s = c->heap[c->i] = malloc(len + 1);
			if (!s) {
				throw_errno(env, ENOMEM, "usdtkit: %s() string", c->pr->label);
				return false;
			}
		}
		if (napi_get_value_string_utf8(env, v, s, len + 1, NULL) != napi_ok)
			return false;
		out->str = s;
		return true;
	}
	if (vt == napi_object) {
		/* A Buffer is a Uint8Array: one path for both. */
		napi_typedarray_type tt;
		bool is_ta = false;
		void *data = NULL;

		if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta)
			goto bad;
		if (napi_get_typedarray_info(env, v, &tt, &len, &data, NULL, NULL) != napi_ok)
			return false;
		if (tt != napi_uint8_array && tt != napi_int8_array &&
		    tt != napi_uint8_clamped_array)
			goto bad;
		s = c->inl[c->i];
		if (len >= STR_INLINE) {
			s = c->heap[c->i] = malloc(len + 1);
			if (!s) {
				throw_errno(env, ENOMEM, "usdtkit: %s() string", c->pr->label);
				return false;
			}
		}
		if (len)
			memcpy(s, data, len);
		s[len] = '\0';
		out->str = s;
		return true;
	}
bad:
	describe(c, what, sizeof(what));
	throw_type(env, "%s: expected a string, Buffer, Uint8Array or null, got %s", what,
		   typeof_name(vt));
	return false;
}

/* fire(probe, values: any[]): converts and fires (the probe is traced or strict). */
static napi_value fire(napi_env env, napi_callback_info info)
{
	struct usdt_value vals[USDT_MAX_ARGS] = {0};
	napi_value argv[2], ret = NULL;
	struct conv *c = NULL;
	struct nprobe *pr;
	uint32_t n, i;
	char what[256];
	int err;

	if (!args_of(env, info, 2, argv) || !(pr = probe_of(env, argv[0])))
		return NULL;
	CHECK(env, napi_get_array_length(env, argv[1], &n));
	if (n != (uint32_t)pr->argc) {
		throw_type(env, "usdtkit: %s() takes %d arguments, %u given", pr->label, pr->argc,
			   n);
		return NULL;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		throw_errno(env, ENOMEM, "usdtkit: fire %s", pr->label);
		return NULL;
	}
	c->pr = pr;
	memset(c->heap, 0, sizeof(c->heap));
	for (i = 0; i < n; i++) {
		napi_valuetype vt;
		napi_value v;
		enum usdt_type t = pr->types[i];
		bool ok;

		c->i = i;
		if (napi_get_element(env, argv[1], i, &v) != napi_ok ||
		    napi_typeof(env, v, &vt) != napi_ok)
			goto out;
		vals[i].type = t;
		if (t == USDT_TYPE_STRING) {
			ok = conv_str(env, c, v, vt, &vals[i]);
		} else if (t == USDT_TYPE_DOUBLE) {
			ok = vt == napi_number &&
			     napi_get_value_double(env, v, &vals[i].f64) == napi_ok;
			if (!ok) {
				describe(c, what, sizeof(what));
				throw_type(env, "%s: expected a number, got %s", what,
					   typeof_name(vt));
			}
		} else {
			ok = conv_int(env, c, v, vt, &vals[i]);
		}
		if (!ok)
			goto out;
	}
	/* A closed provider is unloaded: firing is a no-op, and the checks above still ran. */
	if (!atomic_load(&pr->np->closed)) {
		err = lib.fire_values(pr->probe, vals, n);
		if (err) {
			throw_errno(env, err, "usdtkit: fire %s", pr->label);
			goto out;
		}
	}
	ret = undefined(env);
out:
	for (i = 0; i < USDT_MAX_ARGS; i++)
		free(c->heap[i]);
	free(c);
	return ret;
}

/* --- module ---------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports)
{
	static const struct {
		const char *name;
		napi_callback fn;
	} fns[] = {
		{"open", do_open},	 {"providerNew", provider_new},
		{"addProbe", add_probe}, {"load", load},
		{"unload", unload},	 {"close", close_provider},
		{"info", provider_info}, {"address", probe_address},
		{"fire", fire},
	};
	napi_value f;

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		CHECK(env, napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL,
						&f));
		CHECK(env, napi_set_named_property(env, exports, fns[i].name, f));
	}
	return exports;
}

NAPI_MODULE(usdtkit, init)
