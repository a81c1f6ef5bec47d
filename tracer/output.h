/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * A command's data stream: stdout or -o FILE, fully buffered, with every
 * write error caught and said once, naming the file.
 *
 * A closed pipe (`usdtkit trace | head`) is not an error: the command ends
 * promptly and quietly with status 0, as if it had been asked to stop (we
 * ignore SIGPIPE so that the tracer can still detach and end a -c command).
 * Any other write error (a full disk, /dev/full) is reported and the
 * command exits 1; the records counted as written are those that reached
 * the file before the error.
 */
#ifndef USDTKIT_TRACER_OUTPUT_H
#define USDTKIT_TRACER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct output {
	FILE *f;
	const char *path; /* NULL: standard output */
	const char *who;
	int err; /* first error: -EPIPE (closed), other -errno; 0 */
	uint64_t written; /* records flushed to the file */
	uint64_t pending; /* records buffered since the last flush */
};

/* Opens @path (NULL: stdout). 0, or -1 after printing why. */
int output__open(struct output *o, const char *who, const char *path);
/* Counts one record written to o->f. */
static inline void output__record(struct output *o)
{
	o->pending++;
}
/*
 * Flushes. 0; -EPIPE when the reader went away (nothing printed); other
 * negative errno after printing it once. Sticky: later calls return it.
 */
int output__flush(struct output *o);
/* Flushes and closes (stdout is flushed only). Returns output__flush()'s result. */
int output__close(struct output *o);
/* True when the command should exit 1 because of the output. */
static inline bool output__failed(const struct output *o)
{
	return o->err && o->err != -EPIPE;
}

/*
 * Writes @len bytes of a name that comes from the traced process (comm,
 * provider, probe name, path) for a terminal: control bytes, DEL and
 * backslash are escaped (\n, \t, \\, \xNN) so nothing a target chooses
 * reaches the terminal raw; other bytes (UTF-8 included) as they are.
 */
void output__put_name(FILE *f, const char *s, size_t len);
static inline void output__put_cname(FILE *f, const char *s)
{
	output__put_name(f, s, __builtin_strlen(s));
}

#endif
