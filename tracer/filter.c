/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The --filter compiler (filter_compile.h) and its reference evaluator.
 *
 * filter_parse() lexes and parses EXPR once into a small tree whose names
 * are not yet resolved: what `status` or `arg2` means depends on the probe.
 * filter_compile() then resolves names and types against one probe's
 * arguments, folds what is constant for that probe (`probe`, literals),
 * and lowers the tree to the decision graph of filter.h: a comparison
 * becomes one instruction, && || ! only choose successors. Every node
 * keeps the column of its token so type errors point at the operator or
 * name that is wrong.
 *
 * filter_prog__eval() runs a compiled program the way filter.bpf.h does
 * in the kernel, so tests can check the compiler against expected
 * verdicts in user space and the kernel against this evaluator.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_compile.h"

#define FILTER_MAX_DEPTH 64 /* nesting of ( and ! */
#define FILTER_MAX_NODES 1024

enum tok_kind {
	TOK_END = 0,
	TOK_IDENT,
	TOK_INT,
	TOK_STR,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_NOT,
	TOK_AND,
	TOK_OR,
	TOK_EQ,
	TOK_NE,
	TOK_LT,
	TOK_LE,
	TOK_GT,
	TOK_GE,
	TOK_MATCH,
	TOK_NMATCH,
	TOK_MINUS,
};

struct token {
	enum tok_kind kind;
	unsigned int col; /* 1-based */
	const char *text; /* in the source */
	size_t len;
	uint64_t ival; /* TOK_INT: magnitude */
	char *str; /* TOK_STR: unescaped, owned by the parser until moved to a node */
	size_t slen;
};

enum node_kind {
	N_OR,
	N_AND,
	N_NOT,
	N_CMP, /* l op r */
	N_TRUTH, /* l used as a condition: l != 0 */
	N_NAME,
	N_INT,
	N_STR,
};

struct node {
	enum node_kind kind;
	enum tok_kind op; /* N_CMP */
	unsigned int col;
	int l, r; /* child node indexes, -1: none */
	char *s; /* N_NAME: name; N_STR: bytes */
	size_t slen;
	int64_t ival; /* N_INT */
	bool neg; /* N_INT: written with a '-' (a signed literal) */
};

struct filter_expr {
	char *scope_provider; /* NULL: unscoped */
	char *scope_name;
	struct node *nodes;
	int nnodes;
	int cap;
	int root;
};

struct parser {
	const char *src;
	size_t pos;
	struct token tok;
	struct filter_expr *e;
	struct filter_error *err;
	int depth;
	int rc; /* first error */
};

static int perr(struct parser *p, unsigned int col, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(struct parser *p, unsigned int col, int rc, const char *fmt, ...)
{
	va_list ap;

	if (p->rc)
		return p->rc;
	p->rc = rc;
	if (p->err && rc == -EINVAL) {
		p->err->column = col;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- lexer ---- */

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Names a token in "unexpected X": its text, quoted, or what it is. */
static void tok_describe(const struct token *t, char *buf, size_t size)
{
	if (t->kind == TOK_END)
		snprintf(buf, size, "end of expression");
	else if (t->kind == TOK_STR)
		snprintf(buf, size, "string");
	else if (t->len > 32)
		snprintf(buf, size, "'%.32s...'", t->text);
	else
		snprintf(buf, size, "'%.*s'", (int)t->len, t->text);
}

static int lex_string(struct parser *p, struct token *t)
{
	const char *s = p->src;
	size_t i = p->pos + 1, n = 0;
	char *out;

	out = malloc(strlen(s + i) + 1);
	if (!out)
		return perr(p, t->col, -ENOMEM, "out of memory");
	for (;;) {
		char c = s[i];
		int h1, h2;

		if (!c) {
			free(out);
			return perr(p, t->col, -EINVAL, "unterminated string");
		}
		if (c == '"') {
			i++;
			break;
		}
		if (c != '\\') {
			out[n++] = c;
			i++;
			continue;
		}
		c = s[i + 1];
		switch (c) {
		case '"':
			out[n++] = c;
			i += 2;
			break;
		case 'n':
			out[n++] = '\n';
			i += 2;
			break;
		case 't':
			out[n++] = '\t';
			i += 2;
			break;
		case '\\':
		case '*':
		case '?':
			/*
			 * Kept escaped: a stored literal is in glob form, where '\'
			 * always quotes the next byte (see pat_compile()).
			 */
			out[n++] = '\\';
			out[n++] = c;
			i += 2;
			break;
		case 'x':
			h1 = hexval(s[i + 2]);
			h2 = h1 < 0 ? -1 : hexval(s[i + 3]);
			if (h2 < 0 || (h1 == 0 && h2 == 0)) {
				free(out);
				return perr(p, (unsigned int)i + 1, -EINVAL,
					    "invalid escape in string");
			}
			out[n++] = (char)(h1 * 16 + h2);
			i += 4;
			break;
		default:
			free(out);
			return perr(p, (unsigned int)i + 1, -EINVAL, "invalid escape in string");
		}
	}
	out[n] = 0;
	t->str = out;
	t->slen = n;
	t->len = i - p->pos;
	p->pos = i;
	return 0;
}

static int lex_number(struct parser *p, struct token *t)
{
	const char *s = p->src + p->pos;
	uint64_t v = 0;
	size_t i = 0;
	int base = 10, d;
	bool overflow = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (hexval(s[i]) < 0) {
			t->len = 2;
			return perr(p, t->col, -EINVAL, "invalid number '%.2s'", s);
		}
	}
	for (;; i++) {
		d = base == 16 ? hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
		if (d < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			overflow = true;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (is_ident(s[i])) {
		size_t j = i;

		while (is_ident(s[j]))
			j++;
		return perr(p, t->col, -EINVAL, "invalid number '%.*s'", (int)(j > 32 ? 32 : j), s);
	}
	if (overflow)
		return perr(p, t->col, -EINVAL, "number out of range");
	t->ival = v;
	t->len = i;
	p->pos += i;
	return 0;
}

static int next(struct parser *p)
{
	const char *s = p->src;
	struct token *t = &p->tok;
	char c, c1;

	free(t->str);
	memset(t, 0, sizeof(*t));
	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n')
		p->pos++;
	t->col = (unsigned int)p->pos + 1;
	t->text = s + p->pos;
	c = s[p->pos];
	c1 = c ? s[p->pos + 1] : 0;
	if (!c) {
		t->kind = TOK_END;
		return 0;
	}
	if (is_ident_start(c)) {
		size_t i = p->pos;

		while (is_ident(s[i]))
			i++;
		t->kind = TOK_IDENT;
		t->len = i - p->pos;
		p->pos = i;
		return 0;
	}
	if (c >= '0' && c <= '9') {
		t->kind = TOK_INT;
		return lex_number(p, t);
	}
	if (c == '"') {
		t->kind = TOK_STR;
		return lex_string(p, t);
	}
	t->len = 1;
	switch (c) {
	case '(':
		t->kind = TOK_LPAREN;
		break;
	case ')':
		t->kind = TOK_RPAREN;
		break;
	case '-':
		t->kind = TOK_MINUS;
		break;
	case '!':
		t->kind = c1 == '=' ? TOK_NE : c1 == '~' ? TOK_NMATCH : TOK_NOT;
		break;
	case '<':
		t->kind = c1 == '=' ? TOK_LE : TOK_LT;
		break;
	case '>':
		t->kind = c1 == '=' ? TOK_GE : TOK_GT;
		break;
	case '=':
		if (c1 != '=' && c1 != '~')
			return perr(p, t->col, -EINVAL, "unexpected '='");
		t->kind = c1 == '=' ? TOK_EQ : TOK_MATCH;
		break;
	case '&':
		if (c1 != '&')
			return perr(p, t->col, -EINVAL, "unexpected '&'");
		t->kind = TOK_AND;
		break;
	case '|':
		if (c1 != '|')
			return perr(p, t->col, -EINVAL, "unexpected '|'");
		t->kind = TOK_OR;
		break;
	default:
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			return perr(p, t->col, -EINVAL, "unexpected byte 0x%02x",
				    (unsigned int)(unsigned char)c);
		return perr(p, t->col, -EINVAL, "unexpected '%c'", c);
	}
	if (t->kind == TOK_NE || t->kind == TOK_NMATCH || t->kind == TOK_LE || t->kind == TOK_GE ||
	    t->kind == TOK_EQ || t->kind == TOK_MATCH || t->kind == TOK_AND || t->kind == TOK_OR)
		t->len = 2;
	p->pos += t->len;
	return 0;
}

/* ---- parser ---- */

static int new_node(struct parser *p, enum node_kind kind, unsigned int col)
{
	struct filter_expr *e = p->e;
	struct node *n;

	if (e->nnodes >= FILTER_MAX_NODES)
		return perr(p, col, -EINVAL, "expression too long");
	if (e->nnodes == e->cap) {
		int cap = e->cap ? e->cap * 2 : 16;

		n = realloc(e->nodes, (size_t)cap * sizeof(*n));
		if (!n)
			return perr(p, col, -ENOMEM, "out of memory");
		e->nodes = n;
		e->cap = cap;
	}
	n = &e->nodes[e->nnodes];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->col = col;
	n->l = n->r = -1;
	return e->nnodes++;
}

static int unexpected(struct parser *p)
{
	char what[48];

	tok_describe(&p->tok, what, sizeof(what));
	return perr(p, p->tok.col, -EINVAL, "unexpected %s", what);
}

static int parse_or(struct parser *p);

static bool is_cmp(enum tok_kind k)
{
	return k == TOK_EQ || k == TOK_NE || k == TOK_LT || k == TOK_LE || k == TOK_GT ||
	       k == TOK_GE || k == TOK_MATCH || k == TOK_NMATCH;
}

/* term := '!' term | '(' or ')' | NAME | INT | '-' INT | STRING */
static int parse_term(struct parser *p)
{
	struct token *t = &p->tok;
	unsigned int col = t->col;
	int n, c;

	if ((t->kind == TOK_NOT || t->kind == TOK_LPAREN) && ++p->depth > FILTER_MAX_DEPTH)
		return perr(p, col, -EINVAL, "expression nested too deeply");
	switch (t->kind) {
	case TOK_NOT:
		if (next(p))
			return p->rc;
		c = parse_term(p);
		if (c < 0)
			return c;
		p->depth--;
		n = new_node(p, N_NOT, col);
		if (n < 0)
			return n;
		p->e->nodes[n].l = c;
		break;
	case TOK_LPAREN:
		if (next(p))
			return p->rc;
		n = parse_or(p);
		if (n < 0)
			return n;
		if (t->kind != TOK_RPAREN)
			return unexpected(p);
		if (next(p))
			return p->rc;
		p->depth--;
		break;
	case TOK_IDENT:
		n = new_node(p, N_NAME, col);
		if (n < 0)
			return n;
		p->e->nodes[n].s = strndup(t->text, t->len);
		if (!p->e->nodes[n].s)
			return perr(p, col, -ENOMEM, "out of memory");
		if (next(p))
			return p->rc;
		break;
	case TOK_MINUS:
	case TOK_INT: {
		bool neg = t->kind == TOK_MINUS;
		uint64_t v;

		if (neg) {
			if (next(p))
				return p->rc;
			if (t->kind != TOK_INT)
				return unexpected(p);
		}
		v = t->ival;
		/* literals are 64-bit; -2^63 .. 2^64-1 */
		if (neg && v > (uint64_t)INT64_MAX + 1)
			return perr(p, col, -EINVAL, "number out of range");
		n = new_node(p, N_INT, col);
		if (n < 0)
			return n;
		p->e->nodes[n].ival = neg ? (int64_t)(0 - v) : (int64_t)v;
		p->e->nodes[n].neg = neg && v;
		if (next(p))
			return p->rc;
		break;
	}
	case TOK_STR:
		n = new_node(p, N_STR, col);
		if (n < 0)
			return n;
		p->e->nodes[n].s = t->str;
		p->e->nodes[n].slen = t->slen;
		t->str = NULL;
		if (next(p))
			return p->rc;
		break;
	default:
		return unexpected(p);
	}
	return n;
}

/* cmp := term (CMPOP term)? */
static int parse_cmp(struct parser *p)
{
	enum tok_kind op;
	unsigned int col;
	int l, r, n;

	l = parse_term(p);
	if (l < 0)
		return l;
	if (!is_cmp(p->tok.kind))
		return l;
	op = p->tok.kind;
	col = p->tok.col;
	if (next(p))
		return p->rc;
	r = parse_term(p);
	if (r < 0)
		return r;
	n = new_node(p, N_CMP, col);
	if (n < 0)
		return n;
	p->e->nodes[n].op = op;
	p->e->nodes[n].l = l;
	p->e->nodes[n].r = r;
	if (is_cmp(p->tok.kind))
		return unexpected(p); /* a < b < c */
	return n;
}

/* A left-associative chain: SUB (TOK SUB)*, each TOK a node of @kind. */
static int parse_chain(struct parser *p, enum tok_kind tok, enum node_kind kind,
		       int (*sub)(struct parser *p))
{
	int l, r, n;
	unsigned int col;

	l = sub(p);
	while (l >= 0 && p->tok.kind == tok) {
		col = p->tok.col;
		if (next(p))
			return p->rc;
		r = sub(p);
		if (r < 0)
			return r;
		n = new_node(p, kind, col);
		if (n < 0)
			return n;
		p->e->nodes[n].l = l;
		p->e->nodes[n].r = r;
		l = n;
	}
	return l;
}

/* and := cmp ('&&' cmp)* */
static int parse_and(struct parser *p)
{
	return parse_chain(p, TOK_AND, N_AND, parse_cmp);
}

/* or := and ('||' and)* */
static int parse_or(struct parser *p)
{
	return parse_chain(p, TOK_OR, N_OR, parse_and);
}

static bool is_scope_char(char c)
{
	return is_ident(c) || c == '*' || c == '?' || c == '[' || c == ']' || c == '.' || c == '-';
}

/*
 * A leading "PROVIDER:NAME:" (globs, no spaces inside) scopes the
 * expression to the probes it matches. ':' has no other use in the
 * language, so the prefix cannot be mistaken for an expression.
 */
static int parse_scope(struct parser *p)
{
	const char *s = p->src;
	size_t i = 0, a, b, c;

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')
		i++;
	a = i;
	while (is_scope_char(s[i]))
		i++;
	if (s[i] != ':' || i == a)
		return 0;
	b = ++i;
	while (is_scope_char(s[i]))
		i++;
	if (s[i] != ':')
		return 0;
	if (i == b)
		return perr(p, (unsigned int)i + 1, -EINVAL, "empty probe name in scope");
	c = i;
	p->e->scope_provider = strndup(s + a, b - 1 - a);
	p->e->scope_name = strndup(s + b, c - b);
	if (!p->e->scope_provider || !p->e->scope_name)
		return perr(p, 1, -ENOMEM, "out of memory");
	p->pos = c + 1;
	return 0;
}

void filter_expr__free(struct filter_expr *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->nnodes; i++)
		free(e->nodes[i].s);
	free(e->nodes);
	free(e->scope_provider);
	free(e->scope_name);
	free(e);
}

int filter_parse(const char *text, struct filter_expr **out, struct filter_error *err)
{
	struct parser p = {.src = text, .err = err};
	int root;

	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	p.e = calloc(1, sizeof(*p.e));
	if (!p.e)
		return -ENOMEM;
	if (parse_scope(&p) || next(&p))
		goto fail;
	if (p.tok.kind == TOK_END) {
		perr(&p, p.tok.col, -EINVAL, "empty expression");
		goto fail;
	}
	root = parse_or(&p);
	if (root < 0)
		goto fail;
	if (p.tok.kind != TOK_END) {
		unexpected(&p);
		goto fail;
	}
	p.e->root = root;
	*out = p.e;
	return 0;
fail:
	free(p.tok.str);
	filter_expr__free(p.e);
	return p.rc ? p.rc : -EINVAL;
}

bool filter_expr__scoped(const struct filter_expr *e)
{
	return e->scope_provider != NULL;
}

bool filter_expr__applies(const struct filter_expr *e, const char *provider, const char *name)
{
	if (!e->scope_provider)
		return true;
	return fnmatch(e->scope_provider, provider, 0) == 0 && fnmatch(e->scope_name, name, 0) == 0;
}

/* ---- glob ---- */

/*
 * The reference glob: `*` any run of bytes, `?` one byte, `\*` `\?` `\\`
 * themselves, everything else itself. Iterative with one backtrack point
 * (the last `*`), which is exact for this subset.
 */
bool filter_glob_match(const char *pat, size_t patlen, const char *s, size_t len)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < len) {
		if (pi < patlen && pat[pi] == '*') {
			star_p = ++pi;
			star_s = si;
			continue;
		}
		if (pi < patlen) {
			bool esc = pat[pi] == '\\' && pi + 1 < patlen;
			char pc = esc ? pat[pi + 1] : pat[pi];

			if ((!esc && pc == '?') || pc == s[si]) {
				pi += esc ? 2 : 1;
				si++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;
		si = ++star_s;
	}
	while (pi < patlen && pat[pi] == '*')
		pi++;
	return pi == patlen;
}

/*
 * Compiles @s (@len bytes) into shift-and tables: a glob (`*`, `?`,
 * escapes) when @glob, else the literal bytes. Returns 0 or -E2BIG when
 * it has more than FILTER_PAT_MAX positions.
 */
static int pat_compile(struct filter_pat *fp, const char *s, size_t len, bool glob)
{
	unsigned int n = 0;

	memset(fp, 0, sizeof(*fp));
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool any = false;

		if (glob && c == '*') {
			fp->star |= 1ull << n;
			continue;
		}
		if (glob && c == '?') {
			any = true;
		} else if (c == '\\' && i + 1 < len) {
			c = s[++i]; /* quoted by the lexer: \\ \* \? */
		}
		if (n == FILTER_PAT_MAX)
			return -E2BIG;
		n++;
		for (unsigned int b = 0; b < 256; b++) {
			if (b && (any || b == (unsigned char)c))
				fp->cls[b] |= 1ull << n;
		}
	}
	fp->n = (__u8)n;
	return 0;
}

/* Shift-and over @s; the semantics filter.bpf.h implements. */
static bool pat_run(const struct filter_pat *fp, const char *s)
{
	uint64_t d = 1;
	size_t k;

	for (k = 0; k < FILTER_STR_MAX - 1; k++) {
		unsigned char c = (unsigned char)s[k];

		if (!c)
			break;
		d = ((d << 1) & fp->cls[c]) | (d & fp->star);
	}
	d = (d >> (fp->n & 63)) & 1;
	if (k == FILTER_STR_MAX - 1) /* a long string: only a trailing `*` can match it */
		d &= (fp->star >> (fp->n & 63)) & 1;
	return d;
}

/* ---- compiler ---- */

enum vtype {
	VT_BOOL,
	VT_INT, /* runtime integer: value index val */
	VT_STR, /* runtime string: value index val */
	VT_CINT, /* constant integer */
	VT_CSTR, /* constant string (a literal, or `probe`) */
};

struct val {
	enum vtype t;
	bool is_signed;
	unsigned int val;
	int64_t c;
	const char *s;
	size_t slen;
	bool lit; /* VT_CSTR: a literal (escapes of * ? still in it) */
	char name[40]; /* for messages */
};

/* The lowered form of a boolean node: a constant or an instruction graph. */
enum { K_FALSE = 0, K_TRUE = 1, K_CODE = 2 };

struct cnode {
	int k;
	enum filter_op op; /* leaf */
	struct val a, b;
	bool negate; /* leaf: successors swapped */
	bool glob; /* FILTER_OP_MATCH: b is a glob (=~ !~), else literal bytes */
	int l, r; /* AND/OR/NOT children in cnodes */
	enum node_kind kind; /* N_AND, N_OR, N_NOT, or N_CMP for a leaf */
	unsigned int col;
	unsigned int size; /* instructions */
};

struct compiler {
	const struct filter_expr *e;
	const struct filter_env *env;
	struct filter_prog *prog;
	struct filter_error *err;
	struct cnode *cn;
	int ncn;
	int cap;
	char probe[256];
};

static int cerr(struct compiler *c, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cerr(struct compiler *c, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	if (c->err) {
		c->err->column = col;
		va_start(ap, fmt);
		vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int new_cnode(struct compiler *c)
{
	if (c->ncn == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct cnode *n = realloc(c->cn, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->cn = n;
		c->cap = cap;
	}
	memset(&c->cn[c->ncn], 0, sizeof(c->cn[0]));
	return c->ncn++;
}

static int resolve_name(struct compiler *c, const struct node *n, struct val *v)
{
	const struct filter_env *env = c->env;
	const char *name = n->s;
	unsigned int idx = UINT_MAX;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	if (!strcmp(name, "pid") || !strcmp(name, "tid")) {
		v->t = VT_INT;
		v->val = name[0] == 'p' ? FILTER_VAL_PID : FILTER_VAL_TID;
		return 0;
	}
	if (!strcmp(name, "comm")) {
		v->t = VT_STR;
		v->val = FILTER_VAL_COMM;
		return 0;
	}
	if (!strcmp(name, "probe")) {
		v->t = VT_CSTR;
		v->s = c->probe;
		v->slen = strlen(c->probe);
		return 0;
	}
	for (unsigned int i = 0; i < env->nargs && i < FILTER_NARGS; i++) {
		if (env->args[i].name && !strcmp(env->args[i].name, name)) {
			idx = i;
			break;
		}
	}
	if (idx == UINT_MAX && !strncmp(name, "arg", 3) && name[3] >= '0' && name[3] <= '9') {
		char *end;
		unsigned long k = strtoul(name + 3, &end, 10);

		if (!*end && (name[3] != '0' || !name[4]) && k < env->nargs && k < FILTER_NARGS)
			idx = (unsigned int)k;
	}
	if (idx == UINT_MAX)
		return cerr(c, n->col, "unknown name '%s' in %s", name, c->probe);
	switch (env->args[idx].type) {
	case FILTER_ARG_INT:
	case FILTER_ARG_UINT:
		v->t = VT_INT;
		v->is_signed = env->args[idx].type == FILTER_ARG_INT;
		break;
	case FILTER_ARG_STR:
		v->t = VT_STR;
		break;
	default:
		return cerr(
			c, n->col,
			"'%s' is a floating-point argument (filters compare integers and strings)",
			name);
	}
	v->val = FILTER_VAL_ARG0 + idx;
	return 0;
}

static int value_of(struct compiler *c, int ni, struct val *v)
{
	const struct node *n = &c->e->nodes[ni];

	memset(v, 0, sizeof(*v));
	switch (n->kind) {
	case N_NAME:
		return resolve_name(c, n, v);
	case N_INT:
		v->t = VT_CINT;
		v->c = n->ival;
		v->is_signed = n->neg;
		snprintf(v->name, sizeof(v->name), "%lld", (long long)n->ival);
		return 0;
	case N_STR:
		v->t = VT_CSTR;
		v->s = n->s;
		v->slen = n->slen;
		v->lit = true;
		return 0;
	default:
		v->t = VT_BOOL;
		return 0;
	}
}

static const char *op_text(enum tok_kind op)
{
	switch (op) {
	case TOK_EQ:
		return "==";
	case TOK_NE:
		return "!=";
	case TOK_LT:
		return "<";
	case TOK_LE:
		return "<=";
	case TOK_GT:
		return ">";
	case TOK_GE:
		return ">=";
	case TOK_MATCH:
		return "=~";
	default:
		return "!~";
	}
}

static const char *type_text(const struct val *v)
{
	switch (v->t) {
	case VT_INT:
	case VT_CINT:
		return "an integer";
	case VT_STR:
	case VT_CSTR:
		return "a string";
	default:
		return "a condition";
	}
}

/* The bytes of a stored literal, without the quoting '\\' the lexer kept. */
static size_t unescape_lit(const char *s, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		out[n++] = s[i];
	}
	return n;
}

/* A comparison of two constants, decided here. */
static int fold_cmp(const struct node *n, const struct val *a, const struct val *b)
{
	bool r;

	if (a->t == VT_CINT) {
		bool sgn = a->is_signed || b->is_signed;
		uint64_t x = (uint64_t)a->c, y = (uint64_t)b->c;

		switch (n->op) {
		case TOK_EQ:
			r = x == y;
			break;
		case TOK_NE:
			r = x != y;
			break;
		case TOK_LT:
			r = sgn ? (int64_t)x < (int64_t)y : x < y;
			break;
		case TOK_LE:
			r = sgn ? (int64_t)x <= (int64_t)y : x <= y;
			break;
		case TOK_GT:
			r = sgn ? (int64_t)x > (int64_t)y : x > y;
			break;
		default:
			r = sgn ? (int64_t)x >= (int64_t)y : x >= y;
			break;
		}
		return r ? K_TRUE : K_FALSE;
	} else {
		char *sa = malloc(a->slen + 1), *sb = malloc(b->slen + 1);
		size_t la, lb;

		if (!sa || !sb) {
			free(sa);
			free(sb);
			return -ENOMEM;
		}
		la = unescape_lit(a->s, a->slen, sa);
		if (n->op == TOK_MATCH || n->op == TOK_NMATCH) {
			r = filter_glob_match(b->s, b->slen, sa, la);
		} else {
			lb = unescape_lit(b->s, b->slen, sb);
			r = la == lb && !memcmp(sa, sb, la);
		}
		free(sa);
		free(sb);
		if (n->op == TOK_NE || n->op == TOK_NMATCH)
			r = !r;
		return r ? K_TRUE : K_FALSE;
	}
}

static int lower(struct compiler *c, int ni);

static int lower_cmp(struct compiler *c, int ni)
{
	const struct node *n = &c->e->nodes[ni];
	struct val a, b, t;
	bool is_str_op = n->op == TOK_MATCH || n->op == TOK_NMATCH;
	enum tok_kind op = n->op;
	int err, k;
	struct cnode *cn;

	if ((err = value_of(c, n->l, &a)) || (err = value_of(c, n->r, &b)))
		return err;
	if (a.t == VT_BOOL || b.t == VT_BOOL)
		return cerr(c, n->col, "cannot compare a condition with '%s'", op_text(op));
	if (is_str_op && (a.t == VT_INT || a.t == VT_CINT))
		return cerr(c, n->col, "'%s' needs a string on the left, not %s", op_text(op),
			    type_text(&a));
	if ((a.t == VT_INT || a.t == VT_CINT) != (b.t == VT_INT || b.t == VT_CINT)) {
		const struct val *s = (a.t == VT_STR || a.t == VT_CSTR) ? &a : &b;
		const struct val *i = s == &a ? &b : &a;

		if (s->t == VT_STR || s->t == VT_CSTR) {
			if (i->t == VT_INT)
				return cerr(c, n->col, "cannot compare integer '%s' with a string",
					    i->name);
			if (s->t == VT_STR)
				return cerr(c, n->col, "cannot compare string '%s' with an integer",
					    s->name);
		}
		return cerr(c, n->col, "cannot compare %s with %s", type_text(&a), type_text(&b));
	}
	if (a.t == VT_STR || a.t == VT_CSTR) {
		if (op != TOK_EQ && op != TOK_NE && !is_str_op)
			return cerr(c, n->col, "'%s' cannot compare strings (use == != =~ !~)",
				    op_text(op));
		if (is_str_op && b.t != VT_CSTR)
			return cerr(c, n->col, "the right side of '%s' must be a string literal",
				    op_text(op));
		if (!is_str_op && a.t == VT_CSTR && b.t == VT_STR) {
			t = a;
			a = b;
			b = t;
		}
		if (a.t == VT_STR && b.t == VT_STR)
			return cerr(c, n->col, "string '%s' can only be compared with a literal",
				    a.name);
	}
	if (a.t == VT_CINT || a.t == VT_CSTR) {
		if (b.t == VT_CINT || b.t == VT_CSTR)
			return fold_cmp(n, &a, &b);
		if (is_str_op)
			return cerr(c, n->col, "the left side of '%s' must not be a literal",
				    op_text(op));
		/* 5 < x is x > 5 */
		t = a;
		a = b;
		b = t;
		op = op == TOK_LT   ? TOK_GT
		     : op == TOK_LE ? TOK_GE
		     : op == TOK_GT ? TOK_LT
		     : op == TOK_GE ? TOK_LE
				    : op;
	}
	k = new_cnode(c);
	if (k < 0)
		return k;
	cn = &c->cn[k];
	cn->k = K_CODE;
	cn->kind = N_CMP;
	cn->col = n->col;
	cn->size = 1;
	cn->a = a;
	cn->b = b;
	if (a.t == VT_STR) {
		cn->op = FILTER_OP_MATCH;
		cn->glob = is_str_op;
		cn->negate = op == TOK_NE || op == TOK_NMATCH;
		return k + K_CODE;
	}
	bool sgn = a.is_signed || b.is_signed;

	switch (op) {
	case TOK_EQ:
	case TOK_NE:
		cn->op = FILTER_OP_EQ;
		cn->negate = op == TOK_NE;
		break;
	case TOK_LT: /* a < b */
	case TOK_GE: /* !(a < b) */
		cn->op = sgn ? FILTER_OP_LT : FILTER_OP_LTU;
		cn->negate = op == TOK_GE;
		break;
	default: /* a <= b, a > b = !(a <= b) */
		cn->op = sgn ? FILTER_OP_LE : FILTER_OP_LEU;
		cn->negate = op == TOK_GT;
		break;
	}
	return k + K_CODE;
}

#define CN(k) ((k)-K_CODE)

static int lower(struct compiler *c, int ni)
{
	const struct node *n = &c->e->nodes[ni];
	struct val v;
	int l, r, k, err;

	switch (n->kind) {
	case N_CMP:
		return lower_cmp(c, ni);
	case N_NOT:
		l = lower(c, n->l);
		if (l < 0 || l == K_TRUE || l == K_FALSE)
			return l < 0 ? l : !l;
		k = new_cnode(c);
		if (k < 0)
			return k;
		c->cn[k].k = K_CODE;
		c->cn[k].kind = N_NOT;
		c->cn[k].l = CN(l);
		c->cn[k].size = c->cn[CN(l)].size;
		return k + K_CODE;
	case N_AND:
	case N_OR:
		l = lower(c, n->l);
		if (l < 0)
			return l;
		r = lower(c, n->r);
		if (r < 0)
			return r;
		if (n->kind == N_AND) {
			if (l == K_FALSE || r == K_FALSE)
				return K_FALSE;
			if (l == K_TRUE)
				return r;
			if (r == K_TRUE)
				return l;
		} else {
			if (l == K_TRUE || r == K_TRUE)
				return K_TRUE;
			if (l == K_FALSE)
				return r;
			if (r == K_FALSE)
				return l;
		}
		k = new_cnode(c);
		if (k < 0)
			return k;
		c->cn[k].k = K_CODE;
		c->cn[k].kind = n->kind;
		c->cn[k].l = CN(l);
		c->cn[k].r = CN(r);
		c->cn[k].col = n->col;
		c->cn[k].size = c->cn[CN(l)].size + c->cn[CN(r)].size;
		if (c->cn[k].size > FILTER_MAX_INSNS)
			return cerr(c, n->col, "too many comparisons (at most %d)",
				    FILTER_MAX_INSNS);
		return k + K_CODE;
	default:
		/* a bare value: an integer is true when non-zero */
		err = value_of(c, ni, &v);
		if (err)
			return err;
		if (v.t == VT_CINT)
			return v.c != 0;
		if (v.t != VT_INT && n->kind == N_NAME)
			return cerr(c, n->col, "'%s' is a string, not a condition", n->s);
		if (v.t != VT_INT)
			return cerr(c, n->col, "a string literal is not a condition");
		k = new_cnode(c);
		if (k < 0)
			return k;
		c->cn[k].k = K_CODE;
		c->cn[k].kind = N_CMP;
		c->cn[k].op = FILTER_OP_EQ;
		c->cn[k].a = v;
		c->cn[k].b.t = VT_CINT;
		c->cn[k].negate = true;
		c->cn[k].col = n->col;
		c->cn[k].size = 1;
		return k + K_CODE;
	}
}

static int add_pat(struct compiler *c, const struct cnode *cn, bool glob)
{
	struct filter_prog *p = c->prog;
	struct filter_pat tmp;
	int i;

	if (pat_compile(&tmp, cn->b.s, cn->b.slen, glob))
		return cerr(c, cn->col, "string longer than %d bytes", FILTER_PAT_MAX);
	for (i = 0; i < p->npats; i++) {
		if (!memcmp(&p->pats[i], &tmp, sizeof(tmp)))
			return i;
	}
	if (p->npats == FILTER_MAX_PATS)
		return cerr(c, cn->col, "too many string comparisons (at most %d different)",
			    FILTER_MAX_PATS);
	p->pats[p->npats] = tmp;
	return p->npats++;
}

/* Emits cnode @k at instruction @base with successors @t (true) and @f. */
static int emit(struct compiler *c, int k, unsigned int base, unsigned int t, unsigned int f)
{
	const struct cnode *cn = &c->cn[k];
	struct filter_insn *in;
	int pat;

	switch (cn->kind) {
	case N_NOT:
		return emit(c, cn->l, base, f, t);
	case N_AND:
		if (emit(c, cn->l, base, base + c->cn[cn->l].size, f))
			return -EINVAL;
		return emit(c, cn->r, base + c->cn[cn->l].size, t, f);
	case N_OR:
		if (emit(c, cn->l, base, t, base + c->cn[cn->l].size))
			return -EINVAL;
		return emit(c, cn->r, base + c->cn[cn->l].size, t, f);
	default:
		break;
	}
	in = &c->prog->insns[base];
	memset(in, 0, sizeof(*in));
	in->op = (__u8)cn->op;
	in->a = (__u8)cn->a.val;
	c->prog->need |= 1u << cn->a.val;
	in->jt = (__u8)(cn->negate ? f : t);
	in->jf = (__u8)(cn->negate ? t : f);
	if (cn->op == FILTER_OP_MATCH) {
		pat = add_pat(c, cn, cn->glob);
		if (pat < 0)
			return pat;
		in->pat = (__u8)pat;
	} else if (cn->b.t == VT_INT) {
		in->flags = FILTER_F_BVAL;
		in->bval = (__u8)cn->b.val;
		c->prog->need |= 1u << cn->b.val;
	} else {
		in->imm = cn->b.c;
	}
	return 0;
}

static void prog_init(struct filter_prog *prog, unsigned int verdict)
{
	memset(prog, 0, sizeof(*prog));
	prog->start = (__u8)verdict;
}

/* Successors in the program are instruction indexes or the two verdicts. */
static unsigned int jmp(unsigned int i, unsigned int n, unsigned int verdict)
{
	return i < n ? i : verdict;
}

int filter_compile(struct filter_expr *const *exprs, size_t n, const struct filter_env *env,
		   struct filter_prog *prog, struct filter_error *err)
{
	struct compiler c = {.env = env, .prog = prog, .err = err};
	int *roots = NULL, rc = 0, k;
	size_t *idx = NULL;
	unsigned int total = 0, base = 0, nroots = 0;
	size_t i;
	bool always_false = false;

	if (err)
		memset(err, 0, sizeof(*err));
	prog_init(prog, FILTER_JMP_PASS);
	snprintf(c.probe, sizeof(c.probe), "%s:%s", env->provider, env->name);
	roots = calloc(n ? n : 1, sizeof(*roots));
	idx = calloc(n ? n : 1, sizeof(*idx));
	if (!roots || !idx) {
		rc = -ENOMEM;
		goto out;
	}
	/* lower each applicable expression: the program is their conjunction */
	for (i = 0; i < n; i++) {
		if (!filter_expr__applies(exprs[i], env->provider, env->name))
			continue;
		if (err)
			err->index = (unsigned int)i;
		c.e = exprs[i];
		k = lower(&c, exprs[i]->root);
		if (k < 0) {
			rc = k;
			goto out;
		}
		if (k == K_FALSE)
			always_false = true;
		if (k < K_CODE)
			continue;
		total += c.cn[CN(k)].size;
		if (total > FILTER_MAX_INSNS) {
			rc = cerr(&c, 1, "too many comparisons (at most %d)", FILTER_MAX_INSNS);
			goto out;
		}
		idx[nroots] = i;
		roots[nroots++] = k;
	}
	if (always_false) {
		prog->start = FILTER_JMP_DROP;
		goto out;
	}
	if (!nroots)
		goto out;
	/* expression j runs when j - 1 passed; each fails to DROP */
	prog->ninsns = (__u8)total;
	for (i = 0; i < nroots; i++) {
		unsigned int size = c.cn[CN(roots[i])].size;

		if (err)
			err->index = (unsigned int)idx[i];
		rc = emit(&c, CN(roots[i]), base, jmp(base + size, total, FILTER_JMP_PASS),
			  FILTER_JMP_DROP);
		if (rc)
			goto out;
		base += size;
	}
	prog->start = 0;
out:
	if (rc)
		prog_init(prog, FILTER_JMP_DROP);
	else if (err)
		memset(err, 0, sizeof(*err));
	free(roots);
	free(idx);
	free(c.cn);
	return rc;
}

enum filter_arg_type filter_arg_type_of(enum usdt_type type)
{
	switch (type) {
	case USDT_TYPE_INT8:
	case USDT_TYPE_INT16:
	case USDT_TYPE_INT32:
	case USDT_TYPE_INT64:
		return FILTER_ARG_INT;
	case USDT_TYPE_STRING:
		return FILTER_ARG_STR;
	case USDT_TYPE_DOUBLE:
		return FILTER_ARG_OTHER;
	default:
		return FILTER_ARG_UINT;
	}
}

bool filter_prog__is_pass(const struct filter_prog *prog)
{
	return prog->start == FILTER_JMP_PASS;
}

int filter_error__format(const struct filter_error *err, const char *prefix, char *buf, size_t size)
{
	return snprintf(buf, size, "%s: --filter: %s at column %u", prefix, err->msg, err->column);
}

/* ---- reference evaluator ---- */

int filter_prog__eval(const struct filter_prog *prog, const struct filter_input *in)
{
	unsigned int pc = prog->start;
	char buf[FILTER_STR_MAX];

	for (unsigned int i = 0; i < FILTER_MAX_INSNS && pc < FILTER_MAX_INSNS; i++) {
		const struct filter_insn *insn = &prog->insns[pc];
		unsigned int a = insn->a & (FILTER_NVALS - 1);
		uint64_t x = in->vals[a], y = (uint64_t)insn->imm;
		bool r;

		if (in->fault & (1u << a))
			return FILTER_FAULT;
		if (insn->flags & FILTER_F_BVAL) {
			unsigned int b = insn->bval & (FILTER_NVALS - 1);

			if (in->fault & (1u << b))
				return FILTER_FAULT;
			y = in->vals[b];
		}
		switch (insn->op) {
		case FILTER_OP_EQ:
			r = x == y;
			break;
		case FILTER_OP_LT:
			r = (int64_t)x < (int64_t)y;
			break;
		case FILTER_OP_LE:
			r = (int64_t)x <= (int64_t)y;
			break;
		case FILTER_OP_LTU:
			r = x < y;
			break;
		case FILTER_OP_LEU:
			r = x <= y;
			break;
		case FILTER_OP_MATCH:
			if (a == FILTER_VAL_COMM) {
				memcpy(buf, in->comm, FILTER_COMM_LEN);
				buf[FILTER_COMM_LEN - 1] = 0;
			} else {
				const char *s = (const char *)(uintptr_t)x;
				size_t len;

				if (!s)
					return FILTER_FAULT;
				len = strnlen(s, FILTER_STR_MAX - 1);
				memcpy(buf, s, len);
				buf[len] = 0;
			}
			r = pat_run(&prog->pats[insn->pat & (FILTER_MAX_PATS - 1)], buf);
			break;
		default:
			return FILTER_DROP;
		}
		pc = r ? insn->jt : insn->jf;
	}
	return pc == FILTER_JMP_PASS ? FILTER_PASS : FILTER_DROP;
}
