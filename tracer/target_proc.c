// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Watching a traced process (see target_proc.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "target_proc.h"

int target_proc__pidfd(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

bool target_proc__exited(pid_t pid, int pidfd)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	if (pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(pid, 0) && errno == ESRCH;
}

/*
 * Anonymous mappings (malloc's mmap and munmap, thread stacks) change all
 * the time and are left out of the fingerprint, so a busy process does not
 * cause a rescan at every poll. Reading maps costs tens of microseconds,
 * so new providers are found within one poll period.
 */
bool target_proc__maps_changed(pid_t pid, uint64_t *prev)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	char path[64], line[4096 + 256];
	bool changed;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		/* "start-end perms offset dev inode path": skip inode 0 (anonymous) */
		char *p = line;

		for (int field = 0; field < 4 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (!p || (p[0] == '0' && p[1] == ' '))
			continue;
		for (const char *c = line; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
	}
	fclose(f);
	changed = h != *prev;
	*prev = h;
	return changed;
}
