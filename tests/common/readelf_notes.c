/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Parses the stapsdt part of "readelf -n --wide" output. readelf prints,
 * per note:
 *
 *   Displaying notes found in: .note.stapsdt
 *     Owner   Data size	Description
 *     stapsdt 0x00000033	NT_STAPSDT (SystemTap probe descriptors)	    Provider: p
 *       Name: n
 *       Location: 0x..., Base: 0x..., Semaphore: 0x...
 *       Arguments: 8@%rbx 8@%r15
 *
 * readelf is run with fork/exec (no shell), so any path works.
 */
#include "readelf_notes.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static FILE *run_readelf(const char *path, pid_t *pid)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	*pid = fork();
	if (*pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (*pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		dup2(fds[1], 1);
		if (null >= 0)
			dup2(null, 2);
		setenv("LC_ALL", "C", 1);
		execlp("readelf", "readelf", "-n", "--wide", "--", path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	return fdopen(fds[0], "r");
}

int readelf_notes_available(void)
{
	pid_t pid;
	int status;
	char line[256];
	FILE *f = run_readelf("/proc/self/exe", &pid);

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		;
	fclose(f);
	if (waitpid(pid, &status, 0) < 0)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Copies the rest of @line after @key (without the newline) into @dst. */
static int after(const char *line, const char *key, char *dst, size_t size)
{
	const char *p = strstr(line, key);
	size_t len;

	if (!p)
		return -EBADMSG;
	p += strlen(key);
	len = strcspn(p, "\n");
	if (len >= size)
		return -EBADMSG;
	memcpy(dst, p, len);
	dst[len] = 0;
	return 0;
}

int readelf_notes_read(const char *path, struct readelf_note **out, size_t *count)
{
	struct readelf_note *notes = NULL, *n;
	size_t num = 0, cap = 0;
	char section[64] = "";
	char line[4096];
	int err = 0, status;
	pid_t pid;
	FILE *f;

	*out = NULL;
	*count = 0;
	f = run_readelf(path, &pid);
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Displaying notes found in: ", 27)) {
			if (after(line, "found in: ", section, sizeof(section)))
				err = -EBADMSG;
			continue;
		}
		if (!strstr(line, "NT_STAPSDT"))
			continue;
		if (num == cap) {
			struct readelf_note *a;
			cap = cap ? cap * 2 : 32;
			a = realloc(notes, cap * sizeof(*a));
			if (!a) {
				err = -ENOMEM;
				break;
			}
			notes = a;
		}
		n = &notes[num++];
		memset(n, 0, sizeof(*n));
		strcpy(n->section, section);
		err = after(line, "Provider: ", n->provider, sizeof(n->provider));
		if (!err && fgets(line, sizeof(line), f))
			err = after(line, "Name: ", n->name, sizeof(n->name));
		else if (!err)
			err = -EBADMSG;
		if (!err && fgets(line, sizeof(line), f)) {
			if (sscanf(line,
				   " Location: 0x%" SCNx64 ", Base: 0x%" SCNx64
				   ", Semaphore: 0x%" SCNx64,
				   &n->location, &n->base, &n->semaphore) != 3)
				err = -EBADMSG;
		} else if (!err) {
			err = -EBADMSG;
		}
		if (!err && fgets(line, sizeof(line), f)) {
			/* "Arguments: " then the spec string, which may be empty */
			if (after(line, "Arguments:", n->args, sizeof(n->args)))
				err = -EBADMSG;
			else if (n->args[0] == ' ')
				memmove(n->args, n->args + 1, strlen(n->args));
		} else if (!err) {
			err = -EBADMSG;
		}
		if (err)
			break;
	}
	fclose(f);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		err = err ? err : -EBADMSG;
	else if (WEXITSTATUS(status) == 127)
		err = err ? err : -ENOENT;
	else if (WEXITSTATUS(status) != 0)
		err = err ? err : -EBADMSG;
	if (err) {
		free(notes);
		return err;
	}
	*out = notes;
	*count = num;
	return 0;
}
