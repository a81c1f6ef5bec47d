/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Kernel feature probes for trace and stat.
 *
 * Each probe exercises the capability itself with the smallest program or
 * object that needs it, because the obvious shortcuts lie: 6.1 loads a
 * program with expected attach type BPF_TRACE_UPROBE_MULTI without checking
 * it, and only creating the link fails. The uprobe_multi probe therefore
 * creates a link on the path "/": a 6.6+ kernel gets as far as resolving the
 * path and refuses a directory (EBADF), an older one does not know the link
 * type (EINVAL). Nothing is attached either way.
 *
 * The results are computed once per process (pthread_once) and shared by
 * every command, so trace and stat decide alike; USDTKIT_NO_UPROBE_MULTI=1
 * switches uprobe_multi off to exercise the perf-event path on any kernel.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kernel.h"
#include "kernel_features.h"

/* Absent from Debian 12's (6.1) UAPI headers. */
#define KF_FUNC_COPY_FROM_USER 148
#define KF_FUNC_GET_ATTACH_COOKIE 174

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Loads a kprobe-type program (uprobes are kprobe programs); fd or -errno. */
static int load_kprobe(const struct bpf_insn *insns, size_t n, int attach_type, __u32 flags)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = attach_type,
		    .prog_flags = flags);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "usdtkit_probe", "GPL", insns, n, &o);
	return fd < 0 ? -errno : fd;
}

int kernel_features__probe_uprobe_multi(void)
{
	const struct bpf_insn insns[] = {MOV64_IMM(BPF_REG_0, 0), EXIT()};
	struct kernel_uprobe_multi_attr a;
	__u64 offset = 0;
	int prog, fd, err;

	prog = load_kprobe(insns, sizeof(insns) / sizeof(insns[0]), KERNEL_BPF_TRACE_UPROBE_MULTI,
			   0);
	if (prog < 0)
		return prog;
	memset(&a, 0, sizeof(a));
	a.prog_fd = prog;
	a.attach_type = KERNEL_BPF_TRACE_UPROBE_MULTI;
	a.path = (uintptr_t) "/";
	a.offsets = (uintptr_t)&offset;
	a.cnt = 1;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	err = fd < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd); /* cannot happen for a directory; be safe */
	close(prog);
	/* EBADF: the kernel knows the link type and looked at the path */
	return err == -EBADF || !err ? 0 : err;
}

int kernel_features__probe_cookie(void)
{
	const struct bpf_insn insns[] = {CALL(KF_FUNC_GET_ATTACH_COOKIE), MOV64_IMM(BPF_REG_0, 0),
					 EXIT()};
	int fd = load_kprobe(insns, sizeof(insns) / sizeof(insns[0]), 0, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int kernel_features__probe_sleepable(void)
{
	/* bpf_copy_from_user(fp - 8, 8, NULL): only sleepable programs may call it */
	const struct bpf_insn insns[] = {
		MOV64_REG(BPF_REG_1, BPF_REG_10),
		ADD64_IMM(BPF_REG_1, -8),
		MOV64_IMM(BPF_REG_2, 8),
		MOV64_IMM(BPF_REG_3, 0),
		CALL(KF_FUNC_COPY_FROM_USER),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};
	int fd = load_kprobe(insns, sizeof(insns) / sizeof(insns[0]), 0, BPF_F_SLEEPABLE);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int kernel_features__probe_ringbuf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "usdtkit_probe", 0, 0, 4096, NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static struct kernel_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

static void probe_all(void)
{
	static int (*const probes[KF__COUNT])(void) = {
		[KF_UPROBE_MULTI] = kernel_features__probe_uprobe_multi,
		[KF_COOKIE] = kernel_features__probe_cookie,
		[KF_SLEEPABLE] = kernel_features__probe_sleepable,
		[KF_RINGBUF] = kernel_features__probe_ringbuf,
	};
	const char *no_multi = getenv(KERNEL_FEATURES_ENV_NO_MULTI);
	struct utsname u;

	if (!uname(&u))
		snprintf(features.release, sizeof(features.release), "%s", u.release);
	else
		snprintf(features.release, sizeof(features.release), "unknown");
	for (int i = 0; i < KF__COUNT; i++) {
		features.f[i].err = probes[i]();
		features.f[i].present = features.f[i].err == 0;
	}
	if (no_multi && !strcmp(no_multi, "1") && features.f[KF_UPROBE_MULTI].present) {
		features.f[KF_UPROBE_MULTI].present = false;
		features.f[KF_UPROBE_MULTI].forced_off = true;
	}
}

const struct kernel_features *kernel_features__get(void)
{
	pthread_once(&features_once, probe_all);
	return &features;
}

bool kernel_features__use_uprobe_multi(const struct kernel_features *kf)
{
	return kf->f[KF_UPROBE_MULTI].present;
}

const char *kernel_features__name(enum kernel_feature which)
{
	switch (which) {
	case KF_UPROBE_MULTI:
		return "uprobe_multi links";
	case KF_COOKIE:
		return "BPF cookies";
	case KF_SLEEPABLE:
		return "sleepable uprobes";
	case KF_RINGBUF:
		return "ring buffer";
	default:
		return "?";
	}
}

/* What a command does with the feature present / absent. */
static const char *choice(enum kernel_feature which, bool present)
{
	switch (which) {
	case KF_UPROBE_MULTI:
		return present ? "one uprobe_multi link per object" : "perf-event uprobes";
	case KF_COOKIE:
		return present ? "locations found by cookie" : "cannot run (needs 5.15+)";
	case KF_SLEEPABLE:
		return present ? "memory read with faults allowed" : "cannot run (needs 6.0+)";
	case KF_RINGBUF:
		return present ? "events through a ring buffer" : "trace cannot run (needs 5.8+)";
	default:
		return "?";
	}
}

static const char *err_name(int err)
{
	const char *n = strerrorname_np(-err);

	return n ? n : "unknown error";
}

int kernel_features__describe(const struct kernel_features *kf, const char *who, char *buf,
			      size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = 0;
	for (int i = 0; i < KF__COUNT; i++) {
		const struct kernel_feature_result *r = &kf->f[i];
		char why[64];
		int n;

		if (r->forced_off)
			snprintf(why, sizeof(why), "no (%s=1)", KERNEL_FEATURES_ENV_NO_MULTI);
		else if (r->present)
			snprintf(why, sizeof(why), "yes");
		else
			snprintf(why, sizeof(why), "no (%s)", err_name(r->err));
		n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
			     "%s: kernel %s: %s: %s -> %s\n", who, kf->release,
			     kernel_features__name(i), why, choice(i, r->present));
		if (n < 0)
			return n;
		len += n;
	}
	return len;
}

int kernel_features__missing(const struct kernel_features *kf, const char *who, unsigned int needs,
			     char *buf, size_t size)
{
	if (size)
		buf[0] = 0;
	for (int i = 0; i < KF__COUNT; i++) {
		/* not permitted to tell: the command's own load reports that */
		if (!(needs & (1u << i)) || kf->f[i].present || kf->f[i].err == -EPERM ||
		    kf->f[i].err == -EACCES)
			continue;
		return snprintf(buf, size, "%s: kernel %s has no %s (%s): cannot trace here\n", who,
				kf->release, kernel_features__name(i), err_name(kf->f[i].err));
	}
	return 0;
}

int kernel_features__report(FILE *out, const char *who, unsigned int needs, bool verbose)
{
	const struct kernel_features *kf = kernel_features__get();
	char buf[1024];

	if (verbose && kernel_features__describe(kf, who, buf, sizeof(buf)) > 0)
		fputs(buf, out);
	if (kernel_features__missing(kf, who, needs, buf, sizeof(buf)) > 0) {
		fputs(buf, out);
		return -EOPNOTSUPP;
	}
	return 0;
}
