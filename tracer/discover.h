/* SPDX-License-Identifier: MIT */
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
};

struct object_list {
	struct mapped_object *objs;
	size_t count;
	size_t cap;
};

/*
 * Fills @list with every ELF-candidate file mapping of @pid (one entry per
 * (dev, ino)). Returns 0, or -ESRCH (no such process / exited), -EACCES /
 * -EPERM (not permitted), other negative errno.
 */
int discover_pid_objects(pid_t pid, struct object_list *list);
void object_list__free(struct object_list *list);

#endif
