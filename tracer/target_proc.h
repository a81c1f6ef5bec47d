/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Watching a traced process (-p PID, or the -c child once it runs): its
 * exit, and changes of its file mappings that may be new objects to scan
 * (dlopen, runtime providers).
 */
#ifndef USDTKIT_TRACER_TARGET_PROC_H
#define USDTKIT_TRACER_TARGET_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A pidfd to notice the process's exit (-1 if unavailable). */
int target_proc__pidfd(pid_t pid);
/* True once process @pid (with its @pidfd, or -1) has exited. */
bool target_proc__exited(pid_t pid, int pidfd);
/*
 * True when the file-backed mappings of @pid differ from the last call's
 * fingerprint in *@prev (0 the first time): an object may have been mapped.
 */
bool target_proc__maps_changed(pid_t pid, uint64_t *prev);

#endif
