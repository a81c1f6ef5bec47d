// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Attaching and detaching uprobes (see attach.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "array.h"
#include "attach.h"
#include "kernel.h"

int attach_set__multi(struct attach_set *set, int prog_fd, const char *path,
		      const uint64_t *offsets, const uint64_t *ref_ctr, const uint64_t *cookies,
		      size_t cnt, pid_t pid)
{
	struct kernel_uprobe_multi_attr a;
	int fd;

	if (array__grow((void **)&set->fds, &set->cap_fds, set->nfds + 1, sizeof(int)))
		return -ENOMEM;
	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.attach_type = KERNEL_BPF_TRACE_UPROBE_MULTI;
	a.path = (uintptr_t)path;
	a.offsets = (uintptr_t)offsets;
	a.ref_ctr_offsets = (uintptr_t)ref_ctr;
	a.cookies = (uintptr_t)cookies;
	a.cnt = cnt;
	a.pid = pid > 0 ? pid : 0;
	fd = syscall(__NR_bpf, KERNEL_BPF_LINK_CREATE, &a, sizeof(a));
	if (fd < 0)
		return -errno;
	set->fds[set->nfds++] = fd;
	return 0;
}

int attach_set__perf(struct attach_set *set, struct bpf_program *prog, const char *path,
		     uint64_t offset, uint64_t ref_ctr, uint64_t cookie, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *link;

	if (array__grow((void **)&set->links, &set->cap_links, set->nlinks + 1,
			sizeof(*set->links)))
		return -ENOMEM;
	uo.bpf_cookie = cookie;
	uo.ref_ctr_offset = ref_ctr;
	link = bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1, path, offset, &uo);
	if (!link)
		return -errno;
	set->links[set->nlinks++] = link;
	return 0;
}

struct close_job {
	struct attach_set *set;
	size_t first, stride;
};

static void *close_thread(void *arg)
{
	struct close_job *job = arg;
	struct attach_set *set = job->set;

	for (size_t i = job->first; i < set->nfds + set->nlinks; i += job->stride) {
		if (i < set->nfds)
			close(set->fds[i]);
		else
			bpf_link__destroy(set->links[i - set->nfds]);
	}
	return NULL;
}

void attach_set__close(struct attach_set *set)
{
	enum { MAX_THREADS = 64, PER_THREAD = 4 };
	size_t n = set->nfds + set->nlinks, want, started = 0;
	struct close_job jobs[MAX_THREADS];
	pthread_t tids[MAX_THREADS];

	want = n / PER_THREAD;
	if (want > MAX_THREADS)
		want = MAX_THREADS;
	if (want > 1) {
		for (; started < want; started++) {
			jobs[started] = (struct close_job){set, started, want};
			if (pthread_create(&tids[started], NULL, close_thread, &jobs[started]))
				break;
		}
		for (size_t t = 0; t < started; t++)
			pthread_join(tids[t], NULL);
	}
	if (started != want || want <= 1) {
		/* threads could not be had: close what the started ones did not */
		struct close_job rest = {set, 0, 1};

		if (started) {
			/* the started threads covered residues < started of stride want */
			for (size_t i = 0; i < n; i++)
				if (i % want >= started) {
					rest.first = i;
					rest.stride = n; /* just this one */
					close_thread(&rest);
				}
		} else {
			close_thread(&rest);
		}
	}
	set->nfds = set->nlinks = 0;
}

void attach_set__free(struct attach_set *set)
{
	attach_set__close(set);
	free(set->fds);
	free(set->links);
	memset(set, 0, sizeof(*set));
}
