/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Subject of the aarch64 probe-point check (verify_probe_points.py): fires
 * runtime probes and <usdtkit/sdt.h> probes of 0 to 12 arguments of mixed
 * types while a debugger stops at each probe address and reads every
 * operand the note's spec names. Before each fire it publishes what the
 * probe is about to receive (pp_expect) and calls pp_checkpoint(), where
 * the debugger learns the probe address and spec text, so the comparison
 * needs nothing from this program's own idea of the calling convention.
 *
 *   probe_points IMAGE_OUT   also writes the runtime provider's ELF image
 *                            to IMAGE_OUT for the disassembly check
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <usdtkit/provider.h>
#include <usdtkit/sdt.h>
#include <usdtkit/stapsdt.h>

/* What the next probe receives, canonical 64-bit form; read by the debugger. */
volatile uint64_t pp_expect[USDT_MAX_ARGS];
volatile int pp_count;

/*
 * The debugger's breakpoint: @addr the probe address (NULL for a header
 * probe, found by name in the notes), @specs its spec text, @argc and the
 * header probe's number.
 */
__attribute__((noinline, used)) void pp_checkpoint(const void *addr, const char *specs, int argc)
{
	__asm__ __volatile__("" : : "r"(addr), "r"(specs), "r"(argc) : "memory");
	pp_count++;
}

static const enum usdt_type cycle[USDT_MAX_ARGS] = {
	USDT_TYPE_INT32,  USDT_TYPE_STRING, USDT_TYPE_DOUBLE, USDT_TYPE_INT8,
	USDT_TYPE_UINT16, USDT_TYPE_INT64,  USDT_TYPE_INT16,  USDT_TYPE_UINT8,
	USDT_TYPE_INT32,  USDT_TYPE_UINT64, USDT_TYPE_INT8,   USDT_TYPE_POINTER,
};

/* Argument i of a fire: distinct per position, negative where signed. */
static struct usdt_value value_of(int i, int salt)
{
	static const char *strs[] = {"zero", "one", "two"};
	struct usdt_value v = {.type = cycle[i]};
	int64_t n = (int64_t)(i + 1) * 0x10101 + salt;

	switch (cycle[i]) {
	case USDT_TYPE_INT8:
		v.i64 = -(int8_t)(n & 0x3f) - 1;
		break;
	case USDT_TYPE_UINT8:
		v.u64 = (uint8_t)(0x80 | n);
		break;
	case USDT_TYPE_INT16:
		v.i64 = -(int16_t)(n & 0x3fff) - 1;
		break;
	case USDT_TYPE_UINT16:
		v.u64 = (uint16_t)(0x8000 | n);
		break;
	case USDT_TYPE_INT32:
		v.i64 = -(int32_t)n * 1000;
		break;
	case USDT_TYPE_INT64:
		v.i64 = -n * 0x100000001ll;
		break;
	case USDT_TYPE_UINT64:
		v.u64 = 0xf000000000000000ull | (uint64_t)n;
		break;
	case USDT_TYPE_DOUBLE:
		v.f64 = (double)n + 0.25;
		break;
	case USDT_TYPE_STRING:
		v.str = strs[salt % 3];
		break;
	default:
		v.ptr = (const void *)(uintptr_t)&pp_expect[i];
		break;
	}
	return v;
}

static uint64_t canonical(const struct usdt_value *v)
{
	uint64_t u;

	switch (v->type) {
	case USDT_TYPE_DOUBLE:
		memcpy(&u, &v->f64, sizeof(u));
		return u;
	case USDT_TYPE_STRING:
		return (uintptr_t)v->str;
	case USDT_TYPE_POINTER:
		return (uintptr_t)v->ptr;
	default:
		return v->u64;
	}
}

/* The variadic entry, with each argument passed as its C type. */
#define V(i) vals[i].i64
static void fire_varargs(struct usdt_probe *p, int n, const struct usdt_value *vals)
{
#define S(i) vals[i].str
#define D(i) vals[i].f64
#define P(i) vals[i].ptr
#define ARGS12                                                                    \
	(int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5), (int)V(6), \
		(unsigned)vals[7].u64, (int)V(8), vals[9].u64, (int)V(10), P(11)
	switch (n) {
	case 0:
		usdt_probe__fire(p);
		break;
	case 1:
		usdt_probe__fire(p, (int)V(0));
		break;
	case 2:
		usdt_probe__fire(p, (int)V(0), S(1));
		break;
	case 3:
		usdt_probe__fire(p, (int)V(0), S(1), D(2));
		break;
	case 4:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3));
		break;
	case 5:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64);
		break;
	case 6:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5));
		break;
	case 7:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5),
				 (int)V(6));
		break;
	case 8:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5),
				 (int)V(6), (unsigned)vals[7].u64);
		break;
	case 9:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5),
				 (int)V(6), (unsigned)vals[7].u64, (int)V(8));
		break;
	case 10:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5),
				 (int)V(6), (unsigned)vals[7].u64, (int)V(8), vals[9].u64);
		break;
	case 11:
		usdt_probe__fire(p, (int)V(0), S(1), D(2), (int)V(3), (unsigned)vals[4].u64, V(5),
				 (int)V(6), (unsigned)vals[7].u64, (int)V(8), vals[9].u64,
				 (int)V(10));
		break;
	default:
		usdt_probe__fire(p, ARGS12);
		break;
	}
}

static int run_runtime(const char *image_out)
{
	struct usdt_provider *prov = usdt_provider__new("pp", NULL);
	struct usdt_probe *probes[USDT_MAX_ARGS + 1];
	struct usdt_notes *notes;
	int err = 1;

	if (!prov)
		return 1;
	for (int n = 0; n <= USDT_MAX_ARGS; n++) {
		char name[8];

		snprintf(name, sizeof(name), "n%d", n);
		probes[n] = usdt_provider__add_probe(prov, name, n, cycle, NULL);
		if (!probes[n])
			goto out;
	}
	if (usdt_provider__load(prov))
		goto out;
	notes = usdt_notes__open_fd(usdt_provider__fd(prov), NULL);
	if (!notes)
		goto out;
	for (int n = 0; n <= USDT_MAX_ARGS; n++) {
		const struct usdt_note *note = usdt_notes__get(notes, (size_t)n);
		/* The semaphore is the probe's first member (provider.h's ABI). */
		unsigned short *sema = *(unsigned short **)probes[n];

		*sema = 1; /* traced, as a tracer would mark it */
		for (int how = 0; how < 2; how++) {
			struct usdt_value vals[USDT_MAX_ARGS];

			for (int i = 0; i < n; i++) {
				vals[i] = value_of(i, n + how);
				pp_expect[i] = canonical(&vals[i]);
			}
			pp_checkpoint(usdt_probe__address(probes[n]), note->args, n);
			if (how)
				usdt_probe__fire_values(probes[n], vals, (size_t)n);
			else
				fire_varargs(probes[n], n, vals);
		}
		*sema = 0;
	}
	usdt_notes__free(notes);
	if (image_out) {
		char buf[65536];
		int out = open(image_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ssize_t len = out < 0 ? -1 : pread(usdt_provider__fd(prov), buf, sizeof(buf), 0);

		if (len <= 0 || write(out, buf, (size_t)len) != len || close(out)) {
			fprintf(stderr, "probe_points: cannot write %s\n", image_out);
			goto out;
		}
	}
	err = 0;
out:
	usdt_provider__free(prov);
	return err;
}

/* Header probes: operands in registers or memory, as the compiler chose. */
static volatile int8_t h8 = -5;
static volatile uint16_t hu16 = 0xfedc;
static volatile int32_t h32 = -123456;
static volatile int64_t h64 = -0x123456789ll;
static volatile double hd = -2.5;
static volatile uint64_t hu64 = 0xfedcba9876543210ull;

#define E(i, x) pp_expect[i] = (uint64_t)(x)

/*
 * Globals named directly, with no address already in a register: GCC's
 * "o" constraint would give "[x1, #:lo12:.LANCHOR0]", which no reader
 * can evaluate (the symbol is assembler-local).
 */
static __attribute__((noinline)) void fire_globals(void)
{
	E(0, (int64_t)h8), E(1, (int64_t)h32), E(2, hu64);
	pp_checkpoint(NULL, NULL, 14);
	USDT(pp_hdr, glob, h8, h32, hu64);
}

static void run_header(void)
{
	int8_t a = h8;
	uint16_t b = hu16;
	int32_t c = h32;
	int64_t d = h64;
	double f = hd;
	uint64_t g = hu64, fbits;
	const char *s = "hdr";
	int32_t c2 = c * 3;
	int64_t d2 = d ^ 0x55;
	int8_t a2 = (int8_t)(a - 7);
	uint64_t g2 = g >> 3;

	memcpy(&fbits, &f, sizeof(fbits));
	E(0, (int64_t)a), E(1, b), E(2, (int64_t)c), E(3, d), E(4, fbits), E(5, g);
	E(6, (uintptr_t)s), E(7, (int64_t)c2), E(8, d2), E(9, (int64_t)a2), E(10, g2);
	E(11, (int64_t)-42);
	pp_checkpoint(NULL, NULL, 0);
	USDT(pp_hdr, a0);
	pp_checkpoint(NULL, NULL, 1);
	USDT(pp_hdr, a1, a);
	pp_checkpoint(NULL, NULL, 2);
	USDT(pp_hdr, a2, a, b);
	pp_checkpoint(NULL, NULL, 3);
	USDT(pp_hdr, a3, a, b, c);
	pp_checkpoint(NULL, NULL, 4);
	USDT(pp_hdr, a4, a, b, c, d);
	pp_checkpoint(NULL, NULL, 5);
	USDT(pp_hdr, a5, a, b, c, d, f);
	pp_checkpoint(NULL, NULL, 6);
	USDT(pp_hdr, a6, a, b, c, d, f, g);
	pp_checkpoint(NULL, NULL, 7);
	USDT(pp_hdr, a7, a, b, c, d, f, g, s);
	pp_checkpoint(NULL, NULL, 8);
	USDT(pp_hdr, a8, a, b, c, d, f, g, s, c2);
	pp_checkpoint(NULL, NULL, 9);
	USDT(pp_hdr, a9, a, b, c, d, f, g, s, c2, d2);
	pp_checkpoint(NULL, NULL, 10);
	USDT(pp_hdr, a10, a, b, c, d, f, g, s, c2, d2, a2);
	pp_checkpoint(NULL, NULL, 11);
	USDT(pp_hdr, a11, a, b, c, d, f, g, s, c2, d2, a2, g2);
	pp_checkpoint(NULL, NULL, 12);
	USDT(pp_hdr, a12, a, b, c, d, f, g, s, c2, d2, a2, g2, -42);
	pp_checkpoint(NULL, NULL, 13);
	USDT_TYPED(pp_hdr, typed, USDT_ARG(i8, a, a), USDT_ARG(u16, b, b), USDT_ARG(i32, c, c),
		   USDT_ARG(i64, d, d), USDT_ARG(f64, f, f), USDT_ARG(u64, g, g),
		   USDT_ARG(str, s, s), USDT_ARG(i32, c2, c2), USDT_ARG(i64, d2, d2),
		   USDT_ARG(i8, a2, a2), USDT_ARG(u64, g2, g2), USDT_ARG(i64, k, -42));
	fire_globals();
}

int main(int argc, char **argv)
{
	int err = run_runtime(argc > 1 ? argv[1] : NULL);

	run_header();
	if (err)
		return 1;
	printf("probe_points: %d checkpoints\n", pp_count);
	return 0;
}
