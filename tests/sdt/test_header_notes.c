/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The compile-time header judged by binutils: the notes it makes in real
 * C and C++ fixtures (readelf -n), the nop at every probe (objdump -d),
 * semaphores in .probes, the typed ".note.usdtkit" notes, typed and
 * untyped twins with identical stapsdt notes, and the header compiling
 * warning-free (and rejecting bad typed arguments) with every C and C++
 * compiler and standard on this machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_header_util.h"

struct expect {
	const char *name;
	const char *prefixes; /* size/sign of each argument, "" for none */
	bool sema;
	const char *meta; /* typed metadata, NULL for untyped probes */
};

/* fx_hdr_c.c: every probe and the argument types it passes. */
static const struct expect c_expect[] = {
	{"zero", "", false, NULL},
	{"ints", "-1 1 -2 2 -4 4 -8 8 8 8", false, NULL},
	{"twelve", "-1 1 -2 2 -4 4 -8 8 8 8 1 -4", false, NULL},
	{"floats", "8f 4f", false, NULL},
	{"misc", "1 -4 8 8 -8 1 8", false, NULL},
	{"consts", "-4 -4 4 -4", false, NULL},
	{"tzero", "", false, ""},
	{"typed", "-1 1 -2 2 -4 4 -8 8 8f 8 8 8", false,
	 "a:i8 b:u8 c:i16 d:u16 e:i32 f:u32 g:i64 h:u64 x:f64 s:str p:ptr widened:u64"},
	{"fire", "-4 -8 8", false, NULL},
	{"tfire", "-4 -8 8", false, "count:i32 bytes:i64 path:str"},
	{"sema", "-4 8", true, NULL},
	{"tsema", "2 8", true, "n:u16 text:str"},
};

/* fx_hdr_cxx.cpp; "tmpl" is checked separately (one note per instantiation). */
static const struct expect cxx_expect[] = {
	{"zero", "", false, NULL},
	{"ints", "-1 2 -8 8 1 -1 -4 8 8 8", false, NULL},
	{"typed", "8 8 8 1 -1", false, "len:u64 path:str none:ptr on:u8 lvl:i8"},
	{"sema", "8 8", true, NULL},
	{"inl", "-4", false, "v:i32"},
};

static bool need_binutils(void)
{
	if (hdr_have("readelf") && hdr_have("objdump") && hdr_have("nm"))
		return true;
	print_message("readelf/objdump/nm (binutils) not on PATH\n");
	return false;
}

/*
 * The probe site at @pc, as objdump disassembles it: the classic 1-byte nop,
 * or on x86-64 the optimizable site (sdt.h, USDT_I_SITE): the 5-byte nop at
 * the pc, %rsp saved in %r11 and lowered by 128 before it, restored after.
 */
static void assert_site_at(const char *path, uint64_t pc, bool classic)
{
	char *out = NULL;
	char want[4][96];
	size_t i, nwant;
	int rc;

	if (classic) {
		rc = hdr_run(&out,
			     "objdump -d --start-address=0x%" PRIx64 " --stop-address=0x%" PRIx64
			     " '%s'",
			     pc, pc + 1, path);
		snprintf(want[0], sizeof(want[0]), "%" PRIx64 ":\t90 ", pc);
		snprintf(want[1], sizeof(want[1]), "nop");
		nwant = 2;
	} else {
		rc = hdr_run(&out,
			     "objdump -d --start-address=0x%" PRIx64 " --stop-address=0x%" PRIx64
			     " '%s'",
			     pc - 8, pc + 8, path);
		snprintf(want[0], sizeof(want[0]), "%" PRIx64 ":\t49 89 e3 ", pc - 8);
		snprintf(want[1], sizeof(want[1]), "%" PRIx64 ":\t48 8d 64 24 80 ", pc - 5);
		snprintf(want[2], sizeof(want[2]), "%" PRIx64 ":\t0f 1f 44 00 00 ", pc);
		snprintf(want[3], sizeof(want[3]), "%" PRIx64 ":\t4c 89 dc ", pc + 5);
		nwant = 4;
	}
	assert_int_equal(rc, 0);
	for (i = 0; i < nwant; i++) {
		if (!strstr(out, want[i])) {
			print_message("no %s probe site at 0x%" PRIx64 " in %s (want '%s'):\n%s\n",
				      classic ? "classic" : "optimizable", pc, path, want[i], out);
			fail();
		}
	}
	free(out);
}

/* Address of symbol @sym from nm, or 0. */
static uint64_t nm_addr(const char *path, const char *sym)
{
	char *out = NULL, *line;
	uint64_t addr = 0;

	if (hdr_run(&out, "nm '%s'", path) == 0) {
		for (line = out; line && *line;
		     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			char name[256];
			uint64_t a;
			char t;

			if (sscanf(line, "%" SCNx64 " %c %255s", &a, &t, name) == 3 &&
			    !strcmp(name, sym))
				addr = a;
		}
	}
	free(out);
	return addr;
}

/*
 * Checks every stapsdt note of @path against @exp: each expected probe
 * present, argument sizes and signs, base, semaphore in .probes, a nop at
 * the pc, and the typed metadata note of each typed probe (same pc).
 */
static void check_fixture(const char *path, const char *provider, const struct expect *exp,
			  size_t nexp, bool classic, int *nprobes_out)
{
	struct hdr_probe probes[HDR_MAX_PROBES];
	struct hdr_meta meta[HDR_MAX_PROBES];
	uint64_t base_addr = 0, base_size = 0, probes_addr = 0, probes_size = 0;
	Elf64_Shdr msh;
	int n, nmeta, rc, typed_locs = 0;

	n = hdr_readelf_probes(path, probes, HDR_MAX_PROBES, &rc);
	assert_int_equal(rc, 0);
	assert_true(n > 0);
	assert_true(hdr_section_addr(path, ".stapsdt.base", &base_addr, &base_size));
	assert_int_equal(base_size, 1);
	assert_true(hdr_section_addr(path, ".probes", &probes_addr, &probes_size));
	nmeta = hdr_read_meta(path, meta, HDR_MAX_PROBES, &msh);
	assert_true(nmeta > 0);
	assert_int_equal(msh.sh_type, SHT_NOTE);
	assert_int_equal(msh.sh_flags & SHF_ALLOC, 0);

	for (size_t e = 0; e < nexp; e++) {
		if (hdr_count(probes, n, provider, exp[e].name) < 1) {
			print_message("%s: probe %s:%s missing\n", path, provider, exp[e].name);
			fail();
		}
	}
	for (int i = 0; i < n; i++) {
		const struct hdr_probe *p = &probes[i];
		const struct expect *x = NULL;
		char pre[256];
		int metas = 0;

		assert_string_equal(p->provider, provider);
		for (size_t e = 0; e < nexp; e++)
			if (!strcmp(exp[e].name, p->name))
				x = &exp[e];
		assert_true(hdr_prefixes(p->args, pre, sizeof(pre)));
		if (x && strcmp(pre, x->prefixes)) {
			print_message("%s %s:%s: args \"%s\", want sizes \"%s\"\n", path, provider,
				      p->name, p->args, x->prefixes);
			fail();
		}
		assert_int_equal(p->base, base_addr);
		assert_true(p->pc != 0);
		assert_site_at(path, p->pc, classic);
		if (x && x->sema) {
			char sym[160];

			assert_true(p->sema >= probes_addr && p->sema < probes_addr + probes_size);
			snprintf(sym, sizeof(sym), "%s_%s_semaphore", provider, p->name);
			assert_int_equal(nm_addr(path, sym), p->sema);
		} else {
			assert_int_equal(p->sema, 0);
		}
		/* the typed metadata of this location */
		for (int m = 0; m < nmeta; m++) {
			if (meta[m].pc != p->pc || strcmp(meta[m].name, p->name))
				continue;
			assert_string_equal(meta[m].provider, provider);
			assert_non_null(x);
			assert_non_null(x->meta);
			assert_string_equal(meta[m].args, x->meta);
			metas++;
		}
		if (x && x->meta) {
			assert_int_equal(metas, 1);
			typed_locs++;
		} else {
			assert_int_equal(metas, 0);
		}
	}
	/* no metadata note without a stapsdt location */
	assert_int_equal(nmeta, typed_locs);
	*nprobes_out = n;
}

static void test_c_notes(void **state)
{
	int n;

	(void)state;
	check_fixture(hdr_fixture("fx-hdr-c"), "hdr", c_expect,
		      sizeof(c_expect) / sizeof(c_expect[0]), false, &n);
	assert_true(n >= (int)(sizeof(c_expect) / sizeof(c_expect[0])));
}

/* The same probes with USDT_CLASSIC_NOP: same notes, 1-byte nops. */
static void test_c_notes_classic(void **state)
{
	int n;

	(void)state;
	check_fixture(hdr_fixture("fx-hdr-c-classic"), "hdr", c_expect,
		      sizeof(c_expect) / sizeof(c_expect[0]), true, &n);
	assert_true(n >= (int)(sizeof(c_expect) / sizeof(c_expect[0])));
}

static void test_c_notes_O0(void **state)
{
	int n;

	(void)state;
	check_fixture(hdr_fixture("fx-hdr-c-O0"), "hdr", c_expect,
		      sizeof(c_expect) / sizeof(c_expect[0]), false, &n);
	/* unoptimized: exactly one location per probe */
	assert_int_equal(n, (int)(sizeof(c_expect) / sizeof(c_expect[0])));
}

static void test_c_semaphores_distinct(void **state)
{
	struct hdr_probe probes[HDR_MAX_PROBES];
	const struct hdr_probe *a, *b;
	int n, rc;

	(void)state;
	n = hdr_readelf_probes(hdr_fixture("fx-hdr-c"), probes, HDR_MAX_PROBES, &rc);
	assert_int_equal(rc, 0);
	a = hdr_find(probes, n, "hdr", "sema");
	b = hdr_find(probes, n, "hdr", "tsema");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a->sema != 0 && b->sema != 0 && a->sema != b->sema);
	/* unsigned short counters */
	assert_true(a->sema - b->sema == 2 || b->sema - a->sema == 2);
}

static void test_cxx_notes(void **state)
{
	const char *path = hdr_fixture("fx-hdr-cxx");
	struct hdr_probe probes[HDR_MAX_PROBES];
	bool tmpl_int = false, tmpl_double = false;
	int n, rc;

	(void)state;
	check_fixture(path, "cx", cxx_expect, sizeof(cxx_expect) / sizeof(cxx_expect[0]), false,
		      &n);
	n = hdr_readelf_probes(path, probes, HDR_MAX_PROBES, &rc);
	for (int i = 0; i < n; i++) {
		char pre[64];

		if (strcmp(probes[i].name, "tmpl"))
			continue;
		assert_true(hdr_prefixes(probes[i].args, pre, sizeof(pre)));
		tmpl_int |= !strcmp(pre, "-4");
		tmpl_double |= !strcmp(pre, "8f");
	}
	/* twice<int> and twice<double> each have their own note */
	assert_true(tmpl_int);
	assert_true(tmpl_double);
}

/* readelf's stapsdt section block of "readelf -n --wide FILE". */
static char *stapsdt_block(const char *path, int *rc)
{
	char *out = NULL, *start, *end;

	*rc = hdr_run(&out, "readelf -n --wide '%s'", path);
	start = strstr(out, "Displaying notes found in: .note.stapsdt");
	if (!start) {
		free(out);
		return NULL;
	}
	end = strstr(start + 1, "Displaying notes found in:");
	if (end)
		*end = '\0';
	end = start + strlen(start);
	while (end > start && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	memmove(out, start, strlen(start) + 1);
	return out;
}

static void test_typed_untyped_twins(void **state)
{
	const char *typed = hdr_fixture("fx-hdr-twin-typed");
	const char *plain = hdr_fixture("fx-hdr-twin-plain");
	struct hdr_meta meta[HDR_MAX_PROBES];
	char *a, *b, *all = NULL;
	int rca, rcb;

	(void)state;
	a = stapsdt_block(typed, &rca);
	b = stapsdt_block(plain, &rcb);
	assert_int_equal(rca, 0);
	assert_int_equal(rcb, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(strstr(a, "Name: request"));
	/* the extra note section changes nothing readelf says about stapsdt */
	assert_string_equal(a, b);
	free(a);
	free(b);

	/* readelf shows the unknown owner's notes and still succeeds */
	assert_int_equal(hdr_run(&all, "readelf -n --wide '%s'", typed), 0);
	assert_non_null(strstr(all, ".note.usdtkit"));
	assert_non_null(strstr(all, "usdtkit "));
	free(all);

	assert_int_equal(hdr_read_meta(typed, meta, HDR_MAX_PROBES, NULL), 4);
	assert_int_equal(hdr_read_meta(plain, meta, HDR_MAX_PROBES, NULL), 0);
}

/* ---- compiling the header ---- */

static char tmpdir[256];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/usdtkit-hdr-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char *out = NULL;

	(void)state;
	hdr_run(&out, "rm -rf '%s'", tmpdir);
	free(out);
	return 0;
}

/* Compiles @src to an object; returns the exit status, output in *out. */
static int compile(char **out, const char *cc, const char *flags, const char *src)
{
	return hdr_run(out, "%s %s -I'%s' -c -o '%s/x.o' '%s'", cc, flags, HDR_INCLUDE, tmpdir,
		       src);
}

struct compiler {
	const char *cc;
	bool cxx;
};

/* The resolved path of @cc on PATH, to try each real compiler once. */
static bool resolve(const char *cc, char *buf, size_t size)
{
	char *out = NULL;
	bool ok = hdr_run(&out, "readlink -f \"$(command -v %s)\"", cc) == 0 && out[0] == '/';

	if (ok)
		hdr_copy_field(buf, size, out);
	free(out);
	return ok;
}

static void test_compile_matrix(void **state)
{
	/* every standard at -O2, the first one also at -O0 (memory operands) */
	static const char *const c_std[] = {"-std=c99 -pedantic", "-std=gnu99",
					    "-std=c11 -pedantic", "-std=gnu17"};
	static const char *const cxx_std[] = {"-std=c++11 -pedantic -Wold-style-cast", "-std=c++14",
					      "-std=c++17 -pedantic", "-std=gnu++20"};
	const struct compiler compilers[] = {
		{HDR_CC, false}, {"gcc", false}, {"clang", false},
		{HDR_CXX, true}, {"g++", true},	 {"clang++", true},
	};
	char seen[6][512];
	int builds = 0, nseen = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(compilers) / sizeof(compilers[0]); c++) {
		const char *const *stds = compilers[c].cxx ? cxx_std : c_std;
		const char *src = compilers[c].cxx ? HDR_FIXTURES "/fx_hdr_cxx.cpp"
						   : HDR_FIXTURES "/fx_hdr_c.c";
		char real[512];
		bool dup = false;

		if (!resolve(compilers[c].cc, real, sizeof(real) - 4)) {
			print_message("note: %s not installed, not tried\n", compilers[c].cc);
			continue;
		}
		/* clang and clang++ are one binary: the language is part of the key */
		strcat(real, compilers[c].cxx ? " c++" : " c");
		for (int i = 0; i < nseen; i++)
			dup |= !strcmp(seen[i], real);
		if (dup)
			continue;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", real);
		for (size_t s = 0; s < 4; s++) {
			for (int opt = s ? 1 : 0; opt < 2; opt++) {
				char flags[256];
				char *out = NULL;
				int rc;

				snprintf(flags, sizeof(flags),
					 "%s %s -Wall -Wextra -Werror -Wshadow", stds[s],
					 opt ? "-O2" : "-O0");
				rc = compile(&out, compilers[c].cc, flags, src);
				if (rc != 0 || out[0]) {
					print_message("%s %s: rc %d\n%s\n", compilers[c].cc, flags,
						      rc, out);
					fail();
				}
				free(out);
				builds++;
			}
		}
	}
	print_message("header compiled warning-free in %d configurations\n", builds);
	/* at least the project's own C and C++ compilers */
	assert_true(builds >= 10);
}

static void test_compile_errors(void **state)
{
	static const struct {
		int id;
		const char *msg;
	} cases[] = {
		/* gcc escapes the quotes around the argument name: match the rest */
		{1, "does not convert to u32"}, {2, "does not convert to str"},
		{3, "does not convert to u64"}, {4, "does not convert to f64"},
		{5, "does not convert to i32"}, {6, "u65"},
		{7, "1, 2, 4 or 8 bytes"},
	};
	const char *src = HDR_FIXTURES "/bad_typed.c";

	(void)state;
	for (int lang = 0; lang < 2; lang++) {
		const char *cc = lang ? HDR_CXX : HDR_CC;
		const char *x = lang ? "-x c++ -std=c++11" : "-std=gnu11";
		char flags[256];
		char *out = NULL;

		/* the valid case builds cleanly, so failures below come from the cases */
		snprintf(flags, sizeof(flags), "%s -DCASE=0 -Wall -Wextra -Werror", x);
		if (compile(&out, cc, flags, src) != 0) {
			print_message("%s %s:\n%s\n", cc, flags, out);
			fail();
		}
		free(out);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			snprintf(flags, sizeof(flags), "%s -DCASE=%d", x, cases[i].id);
			if (compile(&out, cc, flags, src) == 0 || !strstr(out, cases[i].msg)) {
				print_message("%s %s: want an error with \"%s\":\n%s\n", cc, flags,
					      cases[i].msg, out);
				fail();
			}
			free(out);
		}
	}
}

/* The section names of the object just compiled. */
static char *sections_of_obj(void)
{
	char *out = NULL;

	assert_int_equal(hdr_run(&out, "readelf -SW '%s/x.o'", tmpdir), 0);
	return out;
}

static void test_disable_and_float_marker(void **state)
{
	struct hdr_probe probes[HDR_MAX_PROBES];
	char *out = NULL, path[300];
	const struct hdr_probe *p;
	int n, rc;

	(void)state;
	/* compiled out: builds warning-free, no notes at all */
	rc = compile(&out, HDR_CC, "-O2 -Wall -Wextra -Werror -DUSDTKIT_DISABLE_PROBES",
		     HDR_FIXTURES "/fx_hdr_c.c");
	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	free(out);
	out = sections_of_obj();
	assert_non_null(strstr(out, ".text"));
	assert_null(strstr(out, ".note.stapsdt"));
	assert_null(strstr(out, ".note.usdtkit"));
	assert_null(strstr(out, ".stapsdt.base"));
	free(out);

	/* USDT_FLOAT_MARKER=0: plain sizes that bcc, bpftrace and libbpf parse */
	rc = compile(&out, HDR_CC, "-O2 -Wall -Wextra -Werror -DUSDT_FLOAT_MARKER=0",
		     HDR_FIXTURES "/fx_hdr_c.c");
	assert_int_equal(rc, 0);
	free(out);
	snprintf(path, sizeof(path), "%s/x.o", tmpdir);
	n = hdr_readelf_probes(path, probes, HDR_MAX_PROBES, &rc);
	assert_int_equal(rc, 0);
	p = hdr_find(probes, n, "hdr", "floats");
	assert_non_null(p);
	{
		char pre[64];

		assert_true(hdr_prefixes(p->args, pre, sizeof(pre)));
		assert_string_equal(pre, "8 4");
	}
}

static void test_evaluated_once(void **state)
{
	(void)state;
	for (int lang = 0; lang < 2; lang++) {
		const char *cc = lang ? HDR_CXX : HDR_CC;
		char *out = NULL;
		int rc;

		rc = hdr_run(&out, "%s %s -O2 -Wall -Wextra -Werror -I'%s' -o '%s/once' '%s'", cc,
			     lang ? "-x c++" : "", HDR_INCLUDE, tmpdir,
			     HDR_FIXTURES "/eval_once.c");
		if (rc != 0) {
			print_message("%s:\n%s\n", cc, out);
			fail();
		}
		free(out);
		rc = hdr_run(&out, "'%s/once'", tmpdir);
		if (rc != 0) {
			print_message("%s build: %s\n", cc, out);
			fail();
		}
		assert_non_null(strstr(out, "increments 2, calls 2"));
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_notes),
		cmocka_unit_test(test_c_notes_O0),
		cmocka_unit_test(test_c_notes_classic),
		cmocka_unit_test(test_c_semaphores_distinct),
		cmocka_unit_test(test_cxx_notes),
		cmocka_unit_test(test_typed_untyped_twins),
		cmocka_unit_test(test_compile_matrix),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_disable_and_float_marker),
		cmocka_unit_test(test_evaluated_once),
	};

	if (!need_binutils())
		return HDR_SKIP;
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
