/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Helpers of the exporter tests: run a peer program with a time bound,
 * talk raw HTTP to a loopback port, find a free port, make a temp dir.
 */
#ifndef USDTKIT_TESTS_EXPORT_TEST_UTIL_H
#define USDTKIT_TESTS_EXPORT_TEST_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "export_util.h"

/*
 * Runs @argv with @in on its stdin, collecting stdout+stderr into @out,
 * killed after @timeout_ms. Returns the exit status, 128+signal, or -errno.
 */
int run_cmd(char *const argv[], const char *in, struct xbuf *out, unsigned int timeout_ms);
/* Starts @argv in the background, its output to @log (a path). -errno or the pid. */
pid_t spawn_cmd(char *const argv[], const char *log);
/* SIGTERM, then SIGKILL after 5 s; reaps. */
void stop_cmd(pid_t pid);
/* Sends @req raw to 127.0.0.1:@port and reads the reply until close (bounded). */
int http_raw(int port, const char *req, size_t len, struct xbuf *resp, unsigned int timeout_ms);
/* The status code of an HTTP response, -1 if none. */
int http_status(const struct xbuf *resp);
/* The body after the head, or NULL. */
const char *http_body(const struct xbuf *resp);
/* A loopback TCP port that was free a moment ago. */
int free_port(void);
/* mkdtemp under TMPDIR; @buf receives the path. */
int make_tmpdir(char *buf, size_t size);
void remove_tree(const char *path);
/* true if @prog is an executable on PATH */
int have_program(const char *prog);

#endif
