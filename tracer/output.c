// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* A command's data stream (see output.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

static const char *name_of(const struct output *o)
{
	return o->path ? o->path : "standard output";
}

int output__open(struct output *o, const char *who, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->who = who;
	o->path = path;
	o->f = path ? fopen(path, "we") : stdout;
	if (!o->f) {
		fprintf(stderr, "%s: %s: %s\n", who, path, strerror(errno));
		return -1;
	}
	setvbuf(o->f, NULL, _IOFBF, 1 << 16);
	return 0;
}

static int fail(struct output *o, int err)
{
	if (!o->err) {
		o->err = err;
		if (err != -EPIPE)
			fprintf(stderr, "%s: writing %s: %s\n", o->who, name_of(o), strerror(-err));
	}
	return o->err;
}

int output__flush(struct output *o)
{
	if (o->err)
		return o->err;
	if (!o->f)
		return 0;
	errno = 0;
	if (fflush(o->f) || ferror(o->f))
		return fail(o, errno ? -errno : -EIO);
	o->written += o->pending;
	o->pending = 0;
	return 0;
}

int output__close(struct output *o)
{
	int err = output__flush(o);

	if (o->f && o->f != stdout) {
		if (fclose(o->f) && !err)
			err = fail(o, -errno);
	}
	o->f = NULL;
	return err;
}

void output__put_name(FILE *f, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != 0x7f && c != '\\')
			continue;
		fwrite_unlocked(s + run, 1, i - run, f);
		run = i + 1;
		putc_unlocked('\\', f);
		if (c == '\n') {
			putc_unlocked('n', f);
		} else if (c == '\t') {
			putc_unlocked('t', f);
		} else if (c == '\\') {
			putc_unlocked('\\', f);
		} else {
			putc_unlocked('x', f);
			putc_unlocked(hex[c >> 4], f);
			putc_unlocked(hex[c & 15], f);
		}
	}
	fwrite_unlocked(s + run, 1, len - run, f);
}
