/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * The built-in sinks of decoded events (event.h): the default text line,
 * a --format template, and JSON lines. Exporters add more.
 */
#ifndef USDTKIT_TRACER_SINKS_H
#define USDTKIT_TRACER_SINKS_H

#include <stdbool.h>
#include <stdio.h>

#include "event.h"

struct sink {
	const struct event_sink_ops *ops;
	void *ctx;
};

struct sink_text_opts {
	const char *format; /* --format template, NULL: the default line */
	bool relative; /* -T: time since the start instead of the wall clock */
};

/* Text on @out (written with the *_unlocked stdio calls: one thread writes). */
int sink_text__new(FILE *out, const struct sink_text_opts *opts, struct sink *s);
/* JSON lines on @out, one object per event (docs/usdtkit-trace.md). */
int sink_json__new(FILE *out, struct sink *s);

static inline int sink__event(const struct sink *s, const struct event *e)
{
	return s->ops->event(s->ctx, e);
}

static inline int sink__close(struct sink *s)
{
	int err = s->ops && s->ops->close ? s->ops->close(s->ctx) : 0;

	s->ops = NULL;
	s->ctx = NULL;
	return err;
}

#endif
