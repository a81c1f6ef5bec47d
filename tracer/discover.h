/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Discovery of the ELF objects a probe search covers: the objects mapped by
 * a process (executable, libraries, dlopen'ed objects, memfd-backed runtime
 * providers, files deleted or replaced since mapping, other mount
 * namespaces), each object once. Shared by `list` and `trace`.
 */
#ifndef USDTKIT_TRACER_DISCOVER_H
#define USDTKIT_TRACER_DISCOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct mapped_object {
	char *open_path; /* a path that opens this object now, e.g. /proc/PID/map_files/A-B */
	char *display_path; /* the path to show: the mapped path as /proc/PID/maps names it */
	dev_t dev;
	ino_t ino;
	uint64_t start; /* lowest mapping address */
	uint64_t pgoff_start; /* file offset mapped at start */
	bool deleted; /* "(deleted)" in maps, or memfd */
	bool memfd; /* backed by a memfd ("/memfd:NAME") */
	pid_t pid; /* the process it was found in */
	uint64_t end; /* end of the mapping at start (map_files names START-END) */
};

struct object_list {
	struct mapped_object *objs;
	size_t count;
	size_t cap;
};

/*
 * Fills @list with every ELF-candidate file mapping of @pid (one entry per
 * (dev, ino)): files with at least one executable mapping. Entries are
 * appended after whatever @list already holds (start from a zeroed list);
 * on error @list keeps what it had. Returns 0, or -ESRCH (no such process /
 * exited), -EACCES / -EPERM (not permitted), other negative errno.
 */
int discover_pid_objects(pid_t pid, struct object_list *list);
void object_list__free(struct object_list *list);

/*
 * Called for each candidate object before its open_path is resolved (open_path
 * is NULL then, everything else is set); return false to leave it out. Lets a
 * caller skip objects it has already read (`list --all`, a trace re-scanning
 * a process for newly loaded objects) without paying for the resolution.
 */
typedef bool (*discover_filter_fn)(const struct mapped_object *obj, void *ctx);
int discover_pid_objects_filtered(pid_t pid, struct object_list *list, discover_filter_fn filter,
				  void *ctx);

/* The entry of @list with this (dev, ino), or NULL. */
const struct mapped_object *object_list__find(const struct object_list *list, dev_t dev, ino_t ino);

#endif
