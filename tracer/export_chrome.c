// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Chrome Trace Event writer (export_chrome.h). Processes and threads are
 * named by metadata events the first time they are seen (a small hash
 * set each), so the file never needs a second pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_chrome.h"
#include "export_util.h"

#define CHROME_FLUSH_BYTES (64 * 1024)
#define TRAILER "\n]\n"

static mode_t st_mode(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_mode;
}

struct idset {
	uint64_t *ids; /* id + 1; 0 empty */
	size_t cap, n;
};

struct chrome_writer {
	int fd;
	int err; /* first write error: later writes are skipped */
	bool any; /* an event was written: the next needs a comma */
	bool seekable; /* a regular file: each flush rewrites the trailer */
	off_t off; /* seekable: where the trailer starts */
	struct xbuf buf;
	struct idset pids, tids;
};

/* true if @id was added (not seen before); *err = -ENOMEM on failure */
static bool idset_add(struct idset *s, uint64_t id, int *err)
{
	uint64_t *ids, key = id + 1;
	size_t i, cap, mask;

	if (key == 0)
		key = 1; /* id ~0 aliases 0: harmless for naming tracks */
	if ((s->n + 1) * 2 > s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		ids = calloc(cap, sizeof(*ids));
		if (!ids) {
			*err = -ENOMEM;
			return false;
		}
		for (i = 0; i < s->cap; i++) {
			if (!s->ids[i])
				continue;
			size_t j = (size_t)((s->ids[i] * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);

			while (ids[j])
				j = (j + 1) & (cap - 1);
			ids[j] = s->ids[i];
		}
		free(s->ids);
		s->ids = ids;
		s->cap = cap;
	}
	mask = s->cap - 1;
	for (i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask; s->ids[i];
	     i = (i + 1) & mask)
		if (s->ids[i] == key)
			return false;
	s->ids[i] = key;
	s->n++;
	return true;
}

int chrome_writer__open(struct chrome_writer **out, const char *path, int fd)
{
	struct chrome_writer *w;
	int err;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (fd < 0)
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		free(w);
		return err;
	}
	w->fd = fd;
	/* a regular file can be kept complete; a pipe or tty is streamed */
	w->off = lseek(fd, 0, SEEK_CUR);
	w->seekable = w->off >= 0 && S_ISREG(st_mode(fd));
	xbuf_str(&w->buf, "[\n");
	*out = w;
	return 0;
}

static void begin(struct chrome_writer *w)
{
	if (w->any)
		xbuf_str(&w->buf, ",\n");
	w->any = true;
}

static void name_meta(struct chrome_writer *w, const char *what, uint32_t pid, uint32_t tid,
		      const char *name, size_t len)
{
	begin(w);
	xbuf_str(&w->buf, "{\"name\":\"");
	xbuf_str(&w->buf, what);
	xbuf_str(&w->buf, "\",\"ph\":\"M\",\"pid\":");
	xbuf_u64(&w->buf, pid);
	xbuf_str(&w->buf, ",\"tid\":");
	xbuf_u64(&w->buf, tid);
	xbuf_str(&w->buf, ",\"args\":{\"name\":");
	xbuf_json_str(&w->buf, name, len);
	xbuf_str(&w->buf, "}}");
}

/* Names the process and thread tracks the first time they appear. */
static int tracks(struct chrome_writer *w, uint32_t pid, uint32_t tid, const char *comm,
		  size_t comm_len)
{
	char path[64], pname[64], label[128];
	ssize_t n = -1;
	int fd, err = 0, len;

	if (idset_add(&w->pids, pid, &err)) {
		/* the process is named by its main thread's comm when it can be read */
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0) {
			n = read(fd, pname, sizeof(pname) - 1);
			close(fd);
		}
		if (n > 0 && pname[n - 1] == '\n')
			n--;
		if (n <= 0) {
			n = comm && tid == pid ? (ssize_t)comm_len : 0;
			if (n > (ssize_t)sizeof(pname) - 1)
				n = sizeof(pname) - 1;
			if (n)
				memcpy(pname, comm, (size_t)n);
		}
		pname[n > 0 ? n : 0] = '\0';
		len = snprintf(label, sizeof(label), "%s (%u)", n > 0 ? pname : "pid", pid);
		name_meta(w, "process_name", pid, pid, label,
			  len > 0 && (size_t)len < sizeof(label) ? (size_t)len : 0);
	}
	if (err)
		return err;
	/* a thread track belongs to its process: keyed by both (pids are reused) */
	if (idset_add(&w->tids, (uint64_t)pid << 32 | tid, &err)) {
		len = snprintf(label, sizeof(label), "%.*s (%u)",
			       (int)(comm_len < 64 ? comm_len : 64), comm ? comm : "", tid);
		name_meta(w, "thread_name", pid, tid, label,
			  len > 0 && (size_t)len < sizeof(label) ? (size_t)len : 0);
	}
	return err;
}

static int pwrite_all(int fd, const char *p, size_t len, off_t off)
{
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int chrome__flush(struct chrome_writer *w)
{
	size_t len;
	int err;

	if (w->err)
		return w->err;
	if (w->buf.err)
		return w->err = w->buf.err;
	if (!w->seekable) {
		err = export_write_all(w->fd, w->buf.p, w->buf.len, 0);
		xbuf_reset(&w->buf);
		if (err)
			w->err = err;
		return err;
	}
	if (!w->buf.len)
		return 0;
	/*
	 * Events, then the closing bracket, written over the previous
	 * bracket: after every flush the file is a complete JSON array.
	 */
	len = w->buf.len;
	xbuf_str(&w->buf, TRAILER);
	if (w->buf.err)
		return w->err = w->buf.err;
	err = pwrite_all(w->fd, w->buf.p, w->buf.len, w->off);
	xbuf_reset(&w->buf);
	if (err)
		return w->err = err;
	w->off += (off_t)len;
	return 0;
}

static int end_event(struct chrome_writer *w)
{
	if (w->buf.err)
		return w->err = w->buf.err;
	return w->buf.len >= CHROME_FLUSH_BYTES ? chrome__flush(w) : 0;
}

static void arg_value(struct xbuf *b, const struct event_value *v)
{
	switch (v->kind) {
	case EVENT_VAL_INT:
		xbuf_i64(b, v->i);
		break;
	case EVENT_VAL_UINT:
		xbuf_u64(b, v->u);
		break;
	case EVENT_VAL_DOUBLE:
		xbuf_json_double(b, v->d);
		break;
	case EVENT_VAL_STR:
		xbuf_json_str(b, v->str.p, v->str.len);
		break;
	case EVENT_VAL_PTR:
		xbuf_printf(b, "\"0x%llx\"", (unsigned long long)v->u);
		break;
	case EVENT_VAL_NULL:
		xbuf_str(b, "null");
		break;
	default:
		xbuf_str(b, "\"<fault>\"");
		break;
	}
}

static void args(struct xbuf *b, const struct event_value *vals, unsigned int n, bool more)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (i || more)
			xbuf_ch(b, ',');
		xbuf_json_str(b, vals[i].name ? vals[i].name : "",
			      vals[i].name ? strlen(vals[i].name) : 0);
		xbuf_ch(b, ':');
		arg_value(b, &vals[i]);
	}
}

int chrome__event(struct chrome_writer *w, const struct event *e)
{
	struct xbuf *b = &w->buf;
	int err;

	if (w->err)
		return w->err;
	err = tracks(w, e->pid, e->tid, e->comm, e->comm_len);
	if (err)
		return w->err = err;
	begin(w);
	xbuf_str(b, "{\"name\":\"");
	if (e->provider)
		xbuf_json_chars(b, e->provider, strlen(e->provider));
	xbuf_ch(b, ':');
	if (e->name)
		xbuf_json_chars(b, e->name, strlen(e->name));
	xbuf_str(b, "\",\"cat\":");
	xbuf_json_str(b, e->provider ? e->provider : "", e->provider ? strlen(e->provider) : 0);
	xbuf_str(b, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":");
	xbuf_us_from_ns(b, e->mono_ns);
	xbuf_str(b, ",\"pid\":");
	xbuf_u64(b, e->pid);
	xbuf_str(b, ",\"tid\":");
	xbuf_u64(b, e->tid);
	xbuf_str(b, ",\"args\":{");
	args(b, e->args, e->nargs < EVENT_MAX_ARGS ? e->nargs : EVENT_MAX_ARGS, false);
	xbuf_str(b, "}}");
	return end_event(w);
}

int chrome__span(struct chrome_writer *w, const struct span *s)
{
	struct xbuf *b = &w->buf;
	int err;

	if (w->err)
		return w->err;
	err = tracks(w, s->pid, s->tid, s->comm, s->comm_len);
	if (err)
		return w->err = err;
	begin(w);
	xbuf_str(b, "{\"name\":");
	xbuf_json_str(b, s->name ? s->name : "", s->name ? strlen(s->name) : 0);
	xbuf_str(b, ",\"cat\":\"latency\",\"ph\":\"X\",\"ts\":");
	xbuf_us_from_ns(b, s->start_mono_ns);
	xbuf_str(b, ",\"dur\":");
	xbuf_us_from_ns(b, s->end_ns >= s->start_ns ? s->end_ns - s->start_ns : 0);
	xbuf_str(b, ",\"pid\":");
	xbuf_u64(b, s->pid);
	xbuf_str(b, ",\"tid\":");
	xbuf_u64(b, s->tid);
	xbuf_str(b, ",\"args\":{");
	if (s->key) {
		xbuf_str(b, "\"key\":");
		xbuf_json_str(b, s->key, strlen(s->key));
	}
	args(b, s->attrs, s->nattrs, s->key != NULL);
	xbuf_str(b, "}}");
	return end_event(w);
}

int chrome_writer__close(struct chrome_writer *w)
{
	int err;

	if (!w)
		return 0;
	if (!w->err && !w->seekable)
		xbuf_str(&w->buf, TRAILER);
	err = chrome__flush(w);
	if (close(w->fd) && !err)
		err = -errno;
	xbuf_free(&w->buf);
	free(w->pids.ids);
	free(w->tids.ids);
	free(w);
	return err;
}

static int sink_event(void *ctx, const struct event *e)
{
	return chrome__event(ctx, e);
}

static int sink_flush(void *ctx)
{
	return chrome__flush(ctx);
}

const struct event_sink_ops chrome_event_sink_ops = {
	.event = sink_event,
	.flush = sink_flush,
};

static int sink_span(void *ctx, const struct span *s)
{
	return chrome__span(ctx, s);
}

const struct span_sink_ops chrome_span_sink_ops = {
	.span = sink_span,
	.flush = sink_flush,
};
