/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Finds the ELF objects a process has mapped, and a path that opens each.
 *
 * /proc/PID/maps names every file mapping with its (dev, ino); that pair,
 * not the path, identifies an object: the path may have been deleted or
 * replaced since the mapping was made, may name a memfd ("/memfd:NAME
 * (deleted)"), or may resolve to another file because the process lives in
 * another mount namespace. So for each object we try, in order, and keep
 * the first path whose stat() shows the same (dev, ino):
 *   1. the mapped path itself (the common case, and the nicest to show),
 *   2. /proc/PID/root/PATH (containers),
 *   3. /proc/PID/map_files/START-END (deleted files and memfds; root only),
 *   4. /proc/PID/fd/N (a memfd or file the process still holds open).
 * Only files with an executable mapping are candidates: probes live in
 * code, and this skips locale archives, fonts and data files cheaply.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "discover.h"

#define DELETED_SUFFIX " (deleted)"
#define MEMFD_PREFIX "/memfd:"

/* Reads a whole /proc file (its size is not known in advance). */
static int read_proc_file(const char *path, char **out, size_t *out_len)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = NULL, *tmp;
	int fd, err = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			tmp = realloc(buf, cap);
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			buf = tmp;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static bool same_file(const char *path, dev_t dev, ino_t ino, bool *exists)
{
	struct stat st;

	if (stat(path, &st))
		return false;
	if (exists)
		*exists = true;
	return st.st_dev == dev && st.st_ino == ino;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/* /proc/PID/fd/N of an fd that refers to (dev, ino), or NULL. */
static char *find_fd_path(pid_t pid, dev_t dev, ino_t ino)
{
	char dir[64], path[64 + sizeof(((struct dirent *)0)->d_name)];
	struct dirent *de;
	char *found = NULL;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (same_file(path, dev, ino, NULL)) {
			found = strdup(path);
			break;
		}
	}
	closedir(d);
	return found;
}

/* Picks open_path for @obj (see the comment at the top). */
static int resolve_open_path(struct mapped_object *obj)
{
	char map_files[96], *root_path = NULL, *fallback = NULL;
	bool exists = false;
	int err = 0;

	snprintf(map_files, sizeof(map_files), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 (int)obj->pid, obj->start, obj->end);

	if (!obj->deleted) {
		exists = false;
		if (same_file(obj->display_path, obj->dev, obj->ino, &exists)) {
			obj->open_path = strdup(obj->display_path);
			goto out;
		}
		if (exists)
			fallback = obj->display_path;
		if (asprintf(&root_path, "/proc/%d/root%s", (int)obj->pid, obj->display_path) < 0) {
			root_path = NULL;
			err = -ENOMEM;
			goto out;
		}
		exists = false;
		if (same_file(root_path, obj->dev, obj->ino, &exists)) {
			obj->open_path = root_path;
			root_path = NULL;
			goto out;
		}
		if (exists && !fallback)
			fallback = root_path;
	}
	exists = false;
	if (same_file(map_files, obj->dev, obj->ino, &exists)) {
		obj->open_path = strdup(map_files);
		goto out;
	}
	if (exists && !fallback)
		fallback = map_files;
	obj->open_path = find_fd_path(obj->pid, obj->dev, obj->ino);
	if (obj->open_path)
		goto out;
	/*
	 * Nothing shows the same (dev, ino): some file systems (overlayfs)
	 * report other numbers through stat() than through maps. Use a path
	 * that exists, or map_files so that opening it reports the real reason
	 * (EACCES without privilege, ENOENT once the process is gone).
	 */
	obj->open_path = strdup(fallback ? fallback : map_files);
out:
	free(root_path);
	if (!err && !obj->open_path)
		err = -ENOMEM;
	return err;
}

static struct mapped_object *find_obj(struct mapped_object *objs, size_t from, size_t to, dev_t dev,
				      ino_t ino)
{
	/* mappings of one object are adjacent in maps: look from the end */
	for (size_t i = to; i > from; i--) {
		if (objs[i - 1].dev == dev && objs[i - 1].ino == ino)
			return &objs[i - 1];
	}
	return NULL;
}

static int list_grow(struct object_list *list)
{
	struct mapped_object *objs;
	size_t cap;

	if (list->count < list->cap)
		return 0;
	cap = list->cap ? list->cap * 2 : 32;
	objs = realloc(list->objs, cap * sizeof(*objs));
	if (!objs)
		return -ENOMEM;
	list->objs = objs;
	list->cap = cap;
	return 0;
}

static void object_free(struct mapped_object *obj)
{
	free(obj->open_path);
	free(obj->display_path);
	obj->open_path = NULL;
	obj->display_path = NULL;
}

int discover_pid_objects_filtered(pid_t pid, struct object_list *list, discover_filter_fn filter,
				  void *ctx)
{
	size_t first = list->count, len = 0, out;
	/* per new object: does any of its mappings execute? */
	bool *exec = NULL, *tmp;
	size_t exec_cap = 0;
	char path[64], *buf = NULL, *line, *next;
	int err;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	err = read_proc_file(path, &buf, &len);
	if (err) {
		if (err == -ENOENT)
			err = -ESRCH;
		return err;
	}

	for (line = buf; line && *line; line = next) {
		unsigned long long start, end, pgoff, inode;
		unsigned int major, minor;
		char perms[8];
		int pos = 0;
		size_t plen;
		struct mapped_object *obj;
		const char *p;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &major, &minor, &inode, &pos) < 7 ||
		    !pos)
			continue;
		p = line + pos;
		if (inode == 0 || p[0] != '/')
			continue; /* anonymous, [heap], [vdso] … */
		plen = strlen(p);

		obj = find_obj(list->objs, first, list->count, makedev(major, minor), inode);
		if (!obj) {
			err = list_grow(list);
			if (err)
				goto err_out;
			if (exec_cap < list->count - first + 1) {
				exec_cap = exec_cap ? exec_cap * 2 : 32;
				tmp = realloc(exec, exec_cap * sizeof(*exec));
				if (!tmp) {
					err = -ENOMEM;
					goto err_out;
				}
				exec = tmp;
			}
			obj = &list->objs[list->count];
			memset(obj, 0, sizeof(*obj));
			obj->display_path = strndup(p, plen);
			if (!obj->display_path) {
				err = -ENOMEM;
				goto err_out;
			}
			obj->dev = makedev(major, minor);
			obj->ino = inode;
			obj->start = start;
			obj->end = end;
			obj->pgoff_start = pgoff;
			obj->pid = pid;
			obj->memfd = !strncmp(p, MEMFD_PREFIX, strlen(MEMFD_PREFIX));
			obj->deleted = obj->memfd || ends_with(p, plen, DELETED_SUFFIX);
			exec[list->count - first] = false;
			list->count++;
		} else if (start < obj->start) {
			obj->start = start;
			obj->end = end;
			obj->pgoff_start = pgoff;
		}
		if (strchr(perms, 'x'))
			exec[obj - &list->objs[first]] = true;
	}

	/* keep executable objects the caller wants, then find a path for each */
	out = first;
	for (size_t i = first; i < list->count; i++) {
		struct mapped_object *obj = &list->objs[i];

		if (!exec[i - first] || (filter && !filter(obj, ctx))) {
			object_free(obj);
			continue;
		}
		if (out != i)
			list->objs[out] = *obj;
		out++;
	}
	list->count = out;
	for (size_t i = first; i < list->count; i++) {
		err = resolve_open_path(&list->objs[i]);
		if (err)
			goto err_out;
	}
	free(exec);
	free(buf);
	return 0;

err_out:
	for (size_t i = first; i < list->count; i++)
		object_free(&list->objs[i]);
	list->count = first;
	free(exec);
	free(buf);
	return err;
}

int discover_pid_objects(pid_t pid, struct object_list *list)
{
	return discover_pid_objects_filtered(pid, list, NULL, NULL);
}

const struct mapped_object *object_list__find(const struct object_list *list, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < list->count; i++) {
		if (list->objs[i].dev == dev && list->objs[i].ino == ino)
			return &list->objs[i];
	}
	return NULL;
}

void object_list__free(struct object_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		object_free(&list->objs[i]);
	free(list->objs);
	list->objs = NULL;
	list->count = 0;
	list->cap = 0;
}
