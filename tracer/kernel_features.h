/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * What the running kernel can do for trace and stat, probed once per run by
 * trying each capability itself (never by version number: distributions
 * backport, and some checks are lax, e.g. 6.1 loads a program with the
 * uprobe_multi attach type it cannot link).
 */
#ifndef USDTKIT_TRACER_KERNEL_FEATURES_H
#define USDTKIT_TRACER_KERNEL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Set to 1 to attach through perf-event uprobes even where uprobe_multi works. */
#define KERNEL_FEATURES_ENV_NO_MULTI "USDTKIT_NO_UPROBE_MULTI"

enum kernel_feature {
	KF_UPROBE_MULTI, /* BPF_LINK_CREATE of a uprobe_multi link (6.6+) */
	KF_COOKIE, /* bpf_get_attach_cookie() in kprobe/uprobe programs (5.15+) */
	KF_SLEEPABLE, /* sleepable uprobe programs with bpf_copy_from_user() (6.0+) */
	KF_RINGBUF, /* BPF ring buffer maps (5.8+) */
	KF__COUNT,
};

struct kernel_feature_result {
	bool present;
	bool forced_off; /* present but switched off by the environment */
	int err; /* what the probe saw: 0 or a negative errno */
};

struct kernel_features {
	char release[65]; /* uname -r */
	struct kernel_feature_result f[KF__COUNT];
};

/*
 * The running kernel's features, probed on the first call (thread-safe) and
 * cached for the process's lifetime. Never NULL.
 */
const struct kernel_features *kernel_features__get(void);

/* Whether trace and stat should attach through uprobe_multi links. */
bool kernel_features__use_uprobe_multi(const struct kernel_features *kf);

/*
 * The individual probes, run uncached: 0 when the kernel has the feature,
 * else the negative errno that says it has not (or why it could not tell,
 * e.g. -EPERM).
 */
int kernel_features__probe_uprobe_multi(void);
int kernel_features__probe_cookie(void);
int kernel_features__probe_sleepable(void);
int kernel_features__probe_ringbuf(void);

/* The feature's short name, e.g. "uprobe_multi links". */
const char *kernel_features__name(enum kernel_feature which);

/*
 * Renders what was found and chosen, one line per feature, each prefixed
 * with @who ("usdtkit trace"), e.g.
 *   usdtkit trace: kernel 6.1.0: uprobe_multi links: no (EINVAL) -> perf-event uprobes
 * Returns the length snprintf() would have written.
 */
int kernel_features__describe(const struct kernel_features *kf, const char *who, char *buf,
			      size_t size);

/* Features each command cannot run without (bit 1 << enum kernel_feature). */
#define KF_NEEDS_TRACE ((1u << KF_COOKIE) | (1u << KF_SLEEPABLE) | (1u << KF_RINGBUF))
#define KF_NEEDS_STAT ((1u << KF_COOKIE) | (1u << KF_SLEEPABLE))

/*
 * One line saying that @who cannot run on this kernel because a feature of
 * @needs is missing; returns 0 with @buf empty when none is.
 */
int kernel_features__missing(const struct kernel_features *kf, const char *who, unsigned int needs,
			     char *buf, size_t size);

/*
 * For commands: with @verbose, writes kernel_features__describe() to @out;
 * writes the kernel_features__missing() line and returns -EOPNOTSUPP when a
 * feature of @needs is missing, else returns 0.
 */
int kernel_features__report(FILE *out, const char *who, unsigned int needs, bool verbose);

#endif
