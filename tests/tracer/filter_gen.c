/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Random filter expressions and their direct evaluation (filter_gen.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_gen.h"

static const struct filter_arg fg_args[FG_NARGS] = {
	[FG_STATUS] = {"status", FILTER_ARG_INT}, [FG_LEN] = {"len", FILTER_ARG_UINT},
	[FG_PATH] = {"path", FILTER_ARG_STR},	  [FG_METHOD] = {"method", FILTER_ARG_STR},
	[FG_ARG4] = {NULL, FILTER_ARG_INT},	  [FG_RATIO] = {"ratio", FILTER_ARG_OTHER},
};

const struct filter_env fg_env = {
	.provider = "store", .name = "request_done", .nargs = FG_NARGS, .args = fg_args};

enum fg_kind { FG_AND, FG_OR, FG_NOT, FG_ICMP, FG_SCMP, FG_TRUTH };

/* Integer operands: a value index (FILTER_VAL_*) or a literal. */
struct fg_operand {
	bool lit;
	unsigned int val;
	int64_t c;
	bool neg; /* literal written negative */
	bool is_signed;
};

struct fg_node {
	enum fg_kind kind;
	const char *op;
	struct fg_node *l, *r;
	struct fg_operand a, b;
	unsigned int sval; /* FG_SCMP: value index of the string */
	char lit[16]; /* FG_SCMP: literal or pattern */
};

uint32_t fg_rand(struct fg_rng *r, uint32_t n)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

static const int64_t fg_ints[] = {0, 1, 2, 3, 5, 500, 501, -1, -2, -5, 0x10, 4096};

static void int_operand(struct fg_rng *r, struct fg_operand *o, char *buf, size_t size)
{
	static const unsigned int vals[] = {FILTER_VAL_ARG0 + FG_STATUS, FILTER_VAL_ARG0 + FG_LEN,
					    FILTER_VAL_ARG0 + FG_ARG4, FILTER_VAL_PID,
					    FILTER_VAL_TID};
	static const char *names[] = {"status", "len", "arg4", "pid", "tid"};
	unsigned int k = fg_rand(r, 5);

	memset(o, 0, sizeof(*o));
	if (fg_rand(r, 3) == 0) {
		o->lit = true;
		o->c = fg_ints[fg_rand(r, sizeof(fg_ints) / sizeof(fg_ints[0]))];
		o->neg = o->is_signed = o->c < 0;
		if (o->c >= 0 && fg_rand(r, 2))
			snprintf(buf, size, "0x%" PRIx64, (uint64_t)o->c);
		else
			snprintf(buf, size, "%" PRId64, o->c);
		return;
	}
	o->val = vals[k];
	o->is_signed = k == 0 || k == 2;
	snprintf(buf, size, "%s", names[k]);
}

static struct fg_node *gen(struct fg_rng *r, int depth, int *nstr, char *buf, size_t size)
{
	static const char *iops[] = {"==", "!=", "<", "<=", ">", ">="};
	static const char *sops[] = {"==", "!=", "=~", "!~"};
	static const char alpha[] = "ab/";
	static const char galpha[] = "ab/*?";
	struct fg_node *n = calloc(1, sizeof(*n));
	char x[64], y[64], *t1, *t2;
	unsigned int k, len;

	if (!n)
		abort();
	k = depth > 0 ? fg_rand(r, 6) : 3 + fg_rand(r, 3);
	if (k == 4 && *nstr >= 3)
		k = 3;
	switch (k) {
	case 0:
	case 1:
		n->kind = k == 0 ? FG_AND : FG_OR;
		t1 = malloc(size);
		t2 = malloc(size);
		if (!t1 || !t2)
			abort();
		n->l = gen(r, depth - 1, nstr, t1, size);
		n->r = gen(r, depth - 1, nstr, t2, size);
		snprintf(buf, size, "(%s %s %s)", t1, k == 0 ? "&&" : "||", t2);
		free(t1);
		free(t2);
		break;
	case 2:
		n->kind = FG_NOT;
		t1 = malloc(size);
		if (!t1)
			abort();
		n->l = gen(r, depth - 1, nstr, t1, size);
		snprintf(buf, size, "!(%s)", t1);
		free(t1);
		break;
	case 3:
		n->kind = FG_ICMP;
		n->op = iops[fg_rand(r, 6)];
		int_operand(r, &n->a, x, sizeof(x));
		int_operand(r, &n->b, y, sizeof(y));
		snprintf(buf, size, "%s %s %s", x, n->op, y);
		break;
	case 4:
		(*nstr)++;
		n->kind = FG_SCMP;
		n->op = sops[fg_rand(r, 4)];
		k = fg_rand(r, 3);
		n->sval = k == 0   ? FILTER_VAL_ARG0 + FG_PATH
			  : k == 1 ? FILTER_VAL_ARG0 + FG_METHOD
				   : FILTER_VAL_COMM;
		len = fg_rand(r, 6);
		for (unsigned int i = 0; i < len; i++)
			n->lit[i] = n->op[1] == '~' ? galpha[fg_rand(r, 5)] : alpha[fg_rand(r, 3)];
		if (n->op[1] == '=' && fg_rand(r, 2))
			snprintf(buf, size, "\"%s\" %s %s", n->lit, n->op,
				 k == 0	  ? "path"
				 : k == 1 ? "method"
					  : "comm");
		else
			snprintf(buf, size, "%s %s \"%s\"",
				 k == 0	  ? "path"
				 : k == 1 ? "method"
					  : "comm",
				 n->op, n->lit);
		break;
	default:
		n->kind = FG_TRUTH;
		do
			int_operand(r, &n->a, x, sizeof(x));
		while (n->a.lit);
		snprintf(buf, size, "%s", x);
		break;
	}
	return n;
}

struct fg_node *fg_expr(struct fg_rng *r, char *buf, size_t size)
{
	int nstr = 0;

	return gen(r, 3, &nstr, buf, size);
}

void fg_free(struct fg_node *n)
{
	if (!n)
		return;
	fg_free(n->l);
	fg_free(n->r);
	free(n);
}

static const char *fg_str(const struct fg_input *x, unsigned int val)
{
	if (val == FILTER_VAL_COMM)
		return x->in.comm;
	return (const char *)(uintptr_t)x->in.vals[val];
}

static void rand_str(struct fg_rng *r, char *s, size_t size)
{
	static const char alpha[] = "ab/";
	unsigned int len =
		fg_rand(r, 8) == 0 ? (unsigned int)size - 1 - fg_rand(r, 150) : fg_rand(r, 7);

	if (len >= size)
		len = (unsigned int)size - 1;
	for (unsigned int i = 0; i < len; i++)
		s[i] = alpha[fg_rand(r, 3)];
	s[len] = 0;
}

void fg_input(struct fg_rng *r, struct fg_input *x)
{
	char comm[FILTER_COMM_LEN];

	memset(x, 0, sizeof(*x));
	x->in.vals[FG_STATUS] = (uint64_t)fg_ints[fg_rand(r, sizeof(fg_ints) / sizeof(fg_ints[0]))];
	x->in.vals[FG_LEN] = fg_rand(r, 4) ? (uint64_t)fg_ints[fg_rand(r, 7)] : UINT64_MAX;
	x->in.vals[FG_ARG4] = (uint64_t)fg_ints[fg_rand(r, sizeof(fg_ints) / sizeof(fg_ints[0]))];
	x->in.vals[FG_RATIO] = 0x3ff0000000000000ull;
	x->in.vals[FILTER_VAL_PID] = fg_rand(r, 6);
	x->in.vals[FILTER_VAL_TID] = fg_rand(r, 6);
	rand_str(r, x->path, sizeof(x->path));
	rand_str(r, x->method, sizeof(x->method));
	x->in.vals[FG_PATH] = (uintptr_t)x->path;
	x->in.vals[FG_METHOD] = (uintptr_t)x->method;
	rand_str(r, comm, sizeof(comm));
	memcpy(x->in.comm, comm, sizeof(comm));
}

static uint64_t operand(const struct fg_operand *o, const struct fg_input *x)
{
	return o->lit ? (uint64_t)o->c : x->in.vals[o->val];
}

/* A string longer than the filter's window: only a pattern ending in `*` can match it. */
static bool long_match(const char *pat, const char *s)
{
	size_t n = strlen(pat);

	return n && pat[n - 1] == '*' && filter_glob_match(pat, n, s, FILTER_STR_MAX - 1);
}

bool fg_eval(const struct fg_node *n, const struct fg_input *x)
{
	uint64_t a, b;
	bool sgn, r;
	const char *s;

	switch (n->kind) {
	case FG_AND:
		return fg_eval(n->l, x) && fg_eval(n->r, x);
	case FG_OR:
		return fg_eval(n->l, x) || fg_eval(n->r, x);
	case FG_NOT:
		return !fg_eval(n->l, x);
	case FG_TRUTH:
		return operand(&n->a, x) != 0;
	case FG_ICMP:
		a = operand(&n->a, x);
		b = operand(&n->b, x);
		sgn = n->a.is_signed || n->b.is_signed;
		if (!strcmp(n->op, "=="))
			return a == b;
		if (!strcmp(n->op, "!="))
			return a != b;
		if (!strcmp(n->op, "<"))
			return sgn ? (int64_t)a < (int64_t)b : a < b;
		if (!strcmp(n->op, "<="))
			return sgn ? (int64_t)a <= (int64_t)b : a <= b;
		if (!strcmp(n->op, ">"))
			return sgn ? (int64_t)a > (int64_t)b : a > b;
		return sgn ? (int64_t)a >= (int64_t)b : a >= b;
	default:
		s = fg_str(x, n->sval);
		if (strlen(s) >= FILTER_STR_MAX - 1)
			r = n->op[1] == '~' && long_match(n->lit, s);
		else if (n->op[1] == '~')
			r = filter_glob_match(n->lit, strlen(n->lit), s, strlen(s));
		else
			r = !strcmp(n->lit, s);
		return n->op[0] == '!' ? !r : r;
	}
}
