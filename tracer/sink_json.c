// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* JSON lines sink: one object per event, the schema of docs/usdtkit-trace.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "json.h"
#include "sinks.h"
#include "ustack_fmt.h"

struct json_sink {
	struct json_writer w;
};

static void put_value(struct json_writer *w, const struct event_value *v)
{
	char hex[24];

	switch (v->kind) {
	case EVENT_VAL_FAULT:
	case EVENT_VAL_NULL:
		json__null(w);
		break;
	case EVENT_VAL_INT:
		json__int(w, v->i);
		break;
	case EVENT_VAL_UINT:
		json__uint(w, v->u);
		break;
	case EVENT_VAL_DOUBLE:
		json__double(w, v->d);
		break;
	case EVENT_VAL_PTR:
		snprintf(hex, sizeof(hex), "0x%" PRIx64, v->u);
		json__string(w, hex);
		break;
	case EVENT_VAL_STR:
		json__string_len(w, v->str.p, v->str.len);
		break;
	}
}

static int json_event(void *ctx, const struct event *e)
{
	struct json_writer *w = &((struct json_sink *)ctx)->w;
	bool any_trunc = false;

	json__object_begin(w);
	json__kv_string(w, "type", "event");
	json__kv_uint(w, "ts_ns", e->ts_ns);
	json__kv_uint(w, "elapsed_ns", e->elapsed_ns);
	json__kv_uint(w, "pid", e->pid);
	json__kv_uint(w, "tid", e->tid);
	json__key(w, "comm");
	json__string_len(w, e->comm, e->comm_len);
	json__kv_string(w, "provider", e->provider);
	json__kv_string(w, "name", e->name);
	json__key(w, "args");
	json__object_begin(w);
	for (unsigned int i = 0; i < e->nargs; i++) {
		json__key(w, e->args[i].name);
		put_value(w, &e->args[i]);
		any_trunc |= e->args[i].kind == EVENT_VAL_STR && e->args[i].str.truncated;
	}
	json__object_end(w);
	if (any_trunc) {
		json__key(w, "truncated");
		json__array_begin(w);
		for (unsigned int i = 0; i < e->nargs; i++)
			if (e->args[i].kind == EVENT_VAL_STR && e->args[i].str.truncated)
				json__string(w, e->args[i].name);
		json__array_end(w);
	}
	if (e->frames) {
		json__key(w, "ustack");
		ustack__write_json(w, e->frames, e->nstack);
	}
	json__object_end(w);
	json__newline(w);
	return 0;
}

static int json_close(void *ctx)
{
	free(ctx);
	return 0;
}

static const struct event_sink_ops json_ops = {.event = json_event, .close = json_close};

int sink_json__new(FILE *out, struct sink *s)
{
	struct json_sink *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	json_writer__init(&j->w, out);
	s->ctx = j;
	s->ops = &json_ops;
	return 0;
}
