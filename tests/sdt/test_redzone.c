/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The probe site cannot corrupt a leaf function's red zone, under every
 * site form (sdt.h, USDT_I_SITE), traced and hit many times.
 *
 * fx-redzone (optimizable site) and fx-redzone-classic (USDT_CLASSIC_NOP)
 * run rz_leaf(), which keeps six locals below %rsp without a frame and
 * passes two of them as %rsp-relative probe arguments; it counts locals
 * changed across the probe and the fixture fails when any was.
 *
 *   redzone static     the disassembly really uses the red zone (stores
 *                      below %rsp, no frame, no call), in the 32 bytes an
 *                      optimized uprobe's trampoline pushes into; the
 *                      specs name %r11 (optimizable) or %rsp (classic)
 *   redzone bpftrace   bpftrace count() and exact argument values over
 *                      every hit; the optimizable site gets the uprobe
 *                      trampoline on a kernel that has one (6.18+)
 *   redzone usdtkit    usdtkit stat counts every hit, usdtkit trace reads
 *                      every hit's arguments exactly
 *
 * Each mode skips (77, with the reason) when its tool or root is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/utsname.h>

#include "test_header_util.h"

#define RZ_CALLS 20000

static const char *const forms[] = {"fx-redzone", "fx-redzone-classic"};

static bool skipped;

#define rz_skip()               \
	do {                    \
		skipped = true; \
		skip();         \
	} while (0)

/* Whether this kernel optimizes uprobes on a 5-byte nop (6.18 and later). */
static bool kernel_optimizes(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 18);
}

static bool is_classic(const char *fx)
{
	return strstr(fx, "classic") != NULL;
}

/* Offset N of a "-0xN(%rsp)" store destination in an objdump line, or 0. */
static long redzone_store(const char *line)
{
	const char *p = strstr(line, ",-0x");
	long off;
	char *end;

	if (!p || strncmp(line, "mov", 3))
		return 0;
	off = strtol(p + 4, &end, 16);
	return strncmp(end, "(%rsp)", 6) ? 0 : off;
}

static void check_disassembly(const char *fx)
{
	char *out = NULL, *line;
	int rc, stores = 0, in_push_zone = 0;

	rc = hdr_run(&out, "objdump -d --no-show-raw-insn --disassemble=rz_leaf '%s'",
		     hdr_fixture(fx));
	assert_int_equal(rc, 0);
	for (line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char text[256];
		const char *insn;
		size_t len = strcspn(line, "\n");
		long off;

		snprintf(text, sizeof(text), "%.*s", (int)len, line);
		insn = strchr(text, '\t');
		if (!insn || !strstr(text, ":\t"))
			continue;
		insn++;
		/* a leaf without a frame: no call, no push, %rsp never lowered for locals */
		if (!strncmp(insn, "call", 4) || !strncmp(insn, "push", 4) ||
		    (!strncmp(insn, "sub ", 4) && strstr(insn, ",%rsp"))) {
			print_message(
				"%s: rz_leaf has a frame or a call, not a red-zone leaf:\n%s\n", fx,
				out);
			fail();
		}
		off = redzone_store(insn);
		if (off > 0 && off <= 128) {
			stores++;
			if (off <= 32)
				in_push_zone++;
		}
	}
	if (stores < 6 || !in_push_zone) {
		print_message(
			"%s: rz_leaf keeps %d locals in the red zone (%d in the 32 bytes "
			"below %%rsp); the compiler no longer uses it as this test needs:\n%s\n",
			fx, stores, in_push_zone, out);
		fail();
	}
	free(out);
}

static void test_static(void **state)
{
	struct hdr_probe probes[HDR_MAX_PROBES];
	const struct hdr_probe *p;
	int n, rc;

	(void)state;
	if (!hdr_have("objdump") || !hdr_have("readelf")) {
		print_message("binutils (objdump, readelf) not on PATH, skipping\n");
		rz_skip();
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		check_disassembly(forms[i]);
		n = hdr_readelf_probes(hdr_fixture(forms[i]), probes, HDR_MAX_PROBES, &rc);
		assert_int_equal(rc, 0);
		p = hdr_find(probes, n, "rz", "hit");
		assert_non_null(p);
		/* arg0 in a register, arg1 and arg2 stack operands of the probe's frame */
		if (!strstr(p->args, is_classic(forms[i]) ? "(%rsp) -8@" : "(%r11) -8@") ||
		    strstr(p->args, is_classic(forms[i]) ? "%r11" : "%rsp")) {
			print_message("%s: unexpected specs \"%s\"\n", forms[i], p->args);
			fail();
		}
	}
}

/*
 * The fixture's own verdict line: every call, no local changed, and the
 * trampoline mapped for the optimizable site on a kernel that optimizes,
 * never for the classic one.
 */
static void expect_fixture_ok(const char *fx, const char *out)
{
	const char *tramp = is_classic(fx) ? "0\n" : kernel_optimizes() ? "1\n" : "";
	char want[64];

	snprintf(want, sizeof(want), "calls=%d bad=0 trampoline=%s", RZ_CALLS, tramp);
	if (!strstr(out, want)) {
		print_message("%s: want \"%s\" in:\n%s\n", fx, want, out);
		fail();
	}
}

static bool refused(const char *out)
{
	return strstr(out, "Operation not permitted") || strstr(out, "Permission denied");
}

static void test_bpftrace(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *fx = hdr_fixture(forms[i]);
		char *out = NULL, want[64];
		int rc;

		rc = hdr_run(&out,
			     "timeout 120 bpftrace -e 'usdt:%s:rz:hit { @c = count(); "
			     "@bad = sum((arg1 != arg0 * 3) + (arg2 != arg0 * 8 + 5)); }' "
			     "-c '%s %d'",
			     fx, fx, RZ_CALLS);
		if (!strstr(out, "Attaching") && refused(out)) {
			print_message("bpftrace may not load BPF programs here, skipping:\n%s\n",
				      out);
			free(out);
			rz_skip();
		}
		if (rc != 0)
			print_message("bpftrace exited %d:\n%s\n", rc, out);
		assert_int_equal(rc, 0);
		expect_fixture_ok(forms[i], out);
		snprintf(want, sizeof(want), "@c: %d\n", RZ_CALLS);
		if (!strstr(out, want) || !strstr(out, "@bad: 0\n")) {
			print_message("%s: bpftrace saw wrong hits or arguments:\n%s\n", forms[i],
				      out);
			fail();
		}
		free(out);
	}
}

static void test_usdtkit(void **state)
{
	char usdtkit[4096];
	const char *build = getenv("USDTKIT_BUILD_DIR");

	(void)state;
	snprintf(usdtkit, sizeof(usdtkit), "%s/bin/usdtkit", build ? build : ".");
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *fx = hdr_fixture(forms[i]);
		char *out = NULL, want[64];
		long hits = 0, wrong = 0;
		int rc;

		rc = hdr_run(&out, "timeout 120 '%s' stat -c '%s %d' '%s:rz:hit'", usdtkit, fx,
			     RZ_CALLS, fx);
		if (rc != 0 && refused(out)) {
			print_message("usdtkit may not load BPF programs here, skipping:\n%s\n",
				      out);
			free(out);
			rz_skip();
		}
		if (rc != 0)
			print_message("usdtkit stat exited %d:\n%s\n", rc, out);
		assert_int_equal(rc, 0);
		expect_fixture_ok(forms[i], out);
		snprintf(want, sizeof(want), "rz:hit %d", RZ_CALLS);
		if (!strstr(out, "rz:hit") || !strstr(out, want)) {
			/* the count column may be padded: compare the number */
			const char *p = strstr(out, "rz:hit");

			if (!p || strtol(p + 6, NULL, 10) != RZ_CALLS) {
				print_message("%s: usdtkit stat count is not %d:\n%s\n", forms[i],
					      RZ_CALLS, out);
				fail();
			}
		}
		free(out);

		/* every event's arguments: seed, seed * 3, seed * 8 + 5 */
		rc = hdr_run(&out,
			     "t=$(mktemp) && timeout 120 '%s' trace -o \"$t\" -f '{0} {1} {2}' "
			     "-c '%s %d' '%s:rz:hit'; rc=$?; echo '== events'; cat \"$t\"; "
			     "rm -f \"$t\"; exit $rc",
			     usdtkit, fx, RZ_CALLS, fx);
		if (rc != 0)
			print_message("usdtkit trace exited %d:\n%s\n", rc, out);
		assert_int_equal(rc, 0);
		expect_fixture_ok(forms[i], out);
		for (char *line = strstr(out, "== events"); line && *line;
		     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			long a, b, c;

			if (sscanf(line, "%ld %ld %ld", &a, &b, &c) != 3)
				continue;
			hits++;
			if (b != a * 3 || c != a * 8 + 5)
				wrong++;
		}
		if (hits != RZ_CALLS || wrong) {
			print_message("%s: usdtkit trace printed %ld events (%ld wrong), want %d\n",
				      forms[i], hits, wrong, RZ_CALLS);
			fail();
		}
		free(out);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *skip_reason = NULL;
	struct CMUnitTest test;
	int rc;

	if (!strcmp(mode, "static")) {
		test = (struct CMUnitTest)cmocka_unit_test(test_static);
	} else if (!strcmp(mode, "bpftrace")) {
		if (!hdr_have("bpftrace"))
			skip_reason = "bpftrace not installed";
		else if (geteuid() != 0)
			skip_reason = "attaching uprobes with bpftrace needs root";
		test = (struct CMUnitTest)cmocka_unit_test(test_bpftrace);
	} else if (!strcmp(mode, "usdtkit")) {
		if (geteuid() != 0)
			skip_reason = "attaching uprobes with usdtkit needs root";
		test = (struct CMUnitTest)cmocka_unit_test(test_usdtkit);
	} else {
		fprintf(stderr, "usage: %s static|bpftrace|usdtkit\n", argv[0]);
		return 2;
	}
	if (skip_reason) {
		printf("SKIP: %s\n", skip_reason);
		return HDR_SKIP;
	}
	rc = _cmocka_run_group_tests(mode, &test, 1, NULL, NULL);
	return rc == 0 && skipped ? HDR_SKIP : rc;
}
