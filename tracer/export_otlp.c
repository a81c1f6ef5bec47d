// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * OTLP/HTTP JSON exporter (export_otlp.h).
 *
 * Records are encoded on the producer's thread (it owns the event's
 * memory only during the callback) into one heap block each, following
 * the protobuf JSON mapping of opentelemetry-proto: 64-bit integers and
 * nanosecond timestamps as decimal strings, trace/span ids as hex, enums
 * as numbers, lowerCamelCase field names. The sender thread only wraps
 * blocks into resourceLogs/resourceSpans envelopes, so its work per batch
 * is a few memcpy()s and one HTTP request.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "export_otlp.h"
#include "export_util.h"

#ifndef USDTKIT_VERSION
#define USDTKIT_VERSION "0.1.0"
#endif

enum rec_kind { REC_LOG, REC_SPAN };

struct rec {
	enum rec_kind kind;
	uint32_t pid;
	size_t len;
	char data[];
};

struct exe_cache {
	uint32_t pid;
	char path[256]; /* "" when unknown */
};

#define EXE_CACHE 64

struct otlp_exporter {
	struct otlp_opts o;
	char host[256], port[8], logs_path[540], traces_path[540];
	char hostname[256];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* producer -> sender: records, flush, stop */
	pthread_cond_t idle; /* sender -> flush(): the queue was handled */
	struct rec **q;
	size_t head, n; /* ring of o.queue_records */
	size_t inflight;
	uint64_t enqueued, handled; /* records; flush() waits for handled >= mark */
	bool stopping, flush_req;
	uint64_t close_deadline;
	struct otlp_stats st;
	struct xbuf enc; /* producer's scratch */
	struct xbuf body, resp; /* sender's */
	uint64_t rng;
	struct exe_cache exe[EXE_CACHE];
	unsigned int exe_next;
};

int otlp_parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize, char *path,
		   size_t pathsize)
{
	const char *p, *h, *end, *slash;
	size_t hlen, plen;

	if (!strncmp(url, "https://", 8))
		return -EPROTONOSUPPORT;
	if (strncmp(url, "http://", 7))
		return -EINVAL;
	p = url + 7;
	slash = strchr(p, '/');
	end = slash ? slash : p + strlen(p);
	if (*p == '[') {
		h = p + 1;
		p = memchr(p, ']', (size_t)(end - p));
		if (!p)
			return -EINVAL;
		hlen = (size_t)(p - h);
		p++;
	} else {
		h = p;
		while (p < end && *p != ':')
			p++;
		hlen = (size_t)(p - h);
	}
	if (!hlen || hlen >= hsize || memchr(h, '@', hlen))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (p < end && *p == ':') {
		p++;
		plen = (size_t)(end - p);
		if (!plen || plen >= psize || plen > 5)
			return -EINVAL;
		for (size_t i = 0; i < plen; i++)
			if (p[i] < '0' || p[i] > '9')
				return -EINVAL;
		memcpy(port, p, plen);
		port[plen] = '\0';
		if (atoi(port) < 1 || atoi(port) > 65535)
			return -EINVAL;
	} else if (p == end) {
		if (psize < 3)
			return -EINVAL;
		strcpy(port, "80");
	} else {
		return -EINVAL;
	}
	/* the base path without its trailing slashes; "" for none */
	plen = slash ? strlen(slash) : 0;
	while (plen && slash[plen - 1] == '/')
		plen--;
	if (plen >= pathsize)
		return -EINVAL;
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)slash[i] <= 0x20 || slash[i] == 0x7f || slash[i] == '?' ||
		    slash[i] == '#')
			return -EINVAL;
	if (plen)
		memcpy(path, slash, plen);
	path[plen] = '\0';
	return 0;
}

static void kv_begin(struct xbuf *b, bool *first, const char *key, size_t klen)
{
	if (!*first)
		xbuf_ch(b, ',');
	*first = false;
	xbuf_str(b, "{\"key\":");
	xbuf_json_str(b, key, klen);
	xbuf_str(b, ",\"value\":");
}

static void kv_str(struct xbuf *b, bool *first, const char *key, const char *v, size_t len)
{
	kv_begin(b, first, key, strlen(key));
	xbuf_str(b, "{\"stringValue\":");
	xbuf_json_str(b, v, len);
	xbuf_str(b, "}}");
}

static void kv_int(struct xbuf *b, bool *first, const char *key, int64_t v)
{
	kv_begin(b, first, key, strlen(key));
	xbuf_str(b, "{\"intValue\":\"");
	xbuf_i64(b, v);
	xbuf_str(b, "\"}}");
}

/* Arguments as usdt.arg.NAME, typed: int64 as intValue, doubles, strings. */
static void kv_value(struct xbuf *b, bool *first, const struct event_value *v)
{
	if (v->kind == EVENT_VAL_FAULT)
		return; /* unreadable: no attribute rather than a made-up value */
	if (!*first)
		xbuf_ch(b, ',');
	*first = false;
	xbuf_str(b, "{\"key\":\"usdt.arg.");
	if (v->name)
		xbuf_json_chars(b, v->name, strlen(v->name));
	xbuf_str(b, "\",\"value\":");
	switch (v->kind) {
	case EVENT_VAL_INT:
		xbuf_str(b, "{\"intValue\":\"");
		xbuf_i64(b, v->i);
		xbuf_str(b, "\"}");
		break;
	case EVENT_VAL_UINT:
		if (v->u <= INT64_MAX) {
			xbuf_str(b, "{\"intValue\":\"");
			xbuf_u64(b, v->u);
			xbuf_str(b, "\"}");
		} else { /* beyond int64: exact as text */
			xbuf_str(b, "{\"stringValue\":\"");
			xbuf_u64(b, v->u);
			xbuf_str(b, "\"}");
		}
		break;
	case EVENT_VAL_DOUBLE:
		xbuf_str(b, "{\"doubleValue\":");
		if (v->d != v->d)
			xbuf_str(b, "\"NaN\"");
		else if (v->d > 1.7976931348623157e308)
			xbuf_str(b, "\"Infinity\"");
		else if (v->d < -1.7976931348623157e308)
			xbuf_str(b, "\"-Infinity\"");
		else
			xbuf_json_double(b, v->d);
		xbuf_ch(b, '}');
		break;
	case EVENT_VAL_STR:
		xbuf_str(b, "{\"stringValue\":");
		xbuf_json_str(b, v->str.p, v->str.len);
		xbuf_ch(b, '}');
		break;
	case EVENT_VAL_PTR:
		xbuf_printf(b, "{\"stringValue\":\"0x%llx\"}", (unsigned long long)v->u);
		break;
	default: /* NULL pointer: an empty AnyValue */
		xbuf_str(b, "{}");
		break;
	}
	xbuf_ch(b, '}');
}

void otlp_encode_log(struct xbuf *b, const struct event *e, uint64_t observed_ns)
{
	bool first = true;
	unsigned int i;

	xbuf_str(b, "{\"timeUnixNano\":\"");
	xbuf_u64(b, e->ts_ns);
	xbuf_str(b, "\",\"observedTimeUnixNano\":\"");
	xbuf_u64(b, observed_ns);
	xbuf_str(b, "\",\"body\":{\"stringValue\":\"");
	if (e->provider)
		xbuf_json_chars(b, e->provider, strlen(e->provider));
	xbuf_ch(b, ':');
	if (e->name)
		xbuf_json_chars(b, e->name, strlen(e->name));
	xbuf_ch(b, '"');
	xbuf_str(b, "},\"attributes\":[");
	kv_str(b, &first, "usdt.provider", e->provider ? e->provider : "",
	       e->provider ? strlen(e->provider) : 0);
	kv_str(b, &first, "usdt.probe", e->name ? e->name : "", e->name ? strlen(e->name) : 0);
	kv_int(b, &first, "thread.id", e->tid);
	if (e->comm)
		kv_str(b, &first, "thread.name", e->comm, e->comm_len);
	for (i = 0; i < e->nargs && i < EVENT_MAX_ARGS; i++)
		kv_value(b, &first, &e->args[i]);
	xbuf_str(b, "]}");
}

static void hex(struct xbuf *b, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	xbuf_ch(b, '"');
	for (i = 0; i < n; i++) {
		xbuf_ch(b, digits[p[i] >> 4]);
		xbuf_ch(b, digits[p[i] & 15]);
	}
	xbuf_ch(b, '"');
}

void otlp_encode_span(struct xbuf *b, const struct span *s, const uint8_t trace_id[16],
		      const uint8_t span_id[8])
{
	bool first = true;
	unsigned int i;

	xbuf_str(b, "{\"traceId\":");
	hex(b, trace_id, 16);
	xbuf_str(b, ",\"spanId\":");
	hex(b, span_id, 8);
	xbuf_str(b, ",\"name\":");
	xbuf_json_str(b, s->name ? s->name : "", s->name ? strlen(s->name) : 0);
	/* SPAN_KIND_INTERNAL */
	xbuf_str(b, ",\"kind\":1,\"startTimeUnixNano\":\"");
	xbuf_u64(b, s->start_ns);
	xbuf_str(b, "\",\"endTimeUnixNano\":\"");
	xbuf_u64(b, s->end_ns);
	xbuf_str(b, "\",\"attributes\":[");
	if (s->key)
		kv_str(b, &first, "usdt.key", s->key, strlen(s->key));
	kv_int(b, &first, "thread.id", s->tid);
	if (s->comm)
		kv_str(b, &first, "thread.name", s->comm, s->comm_len);
	for (i = 0; i < s->nattrs; i++)
		kv_value(b, &first, &s->attrs[i]);
	xbuf_str(b, "]}");
}

static int enqueue(struct otlp_exporter *x, enum rec_kind kind, uint32_t pid)
{
	struct rec *r;
	uint64_t *dropped = kind == REC_LOG ? &x->st.logs_dropped : &x->st.spans_dropped;
	int err = x->enc.err;

	if (err) {
		xbuf_reset(&x->enc);
		return err;
	}
	r = malloc(sizeof(*r) + x->enc.len);
	if (!r)
		return -ENOMEM;
	r->kind = kind;
	r->pid = pid;
	r->len = x->enc.len;
	memcpy(r->data, x->enc.p, x->enc.len);
	xbuf_reset(&x->enc);

	pthread_mutex_lock(&x->lock);
	if (x->n == x->o.queue_records || x->stopping) {
		(*dropped)++;
		pthread_mutex_unlock(&x->lock);
		free(r);
		return 0;
	}
	x->q[(x->head + x->n) % x->o.queue_records] = r;
	x->n++;
	x->enqueued++;
	/* wake the sender to start the batch timer, and when a batch is full */
	if (x->n == 1 || x->n == x->o.batch_records)
		pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

int otlp__log(struct otlp_exporter *x, const struct event *e)
{
	otlp_encode_log(&x->enc, e, export_now_ns(CLOCK_REALTIME));
	return enqueue(x, REC_LOG, e->pid);
}

static uint64_t next_rand(struct otlp_exporter *x)
{
	/* xorshift64*: ids need uniqueness, not secrecy */
	x->rng ^= x->rng >> 12;
	x->rng ^= x->rng << 25;
	x->rng ^= x->rng >> 27;
	return x->rng * 2685821657736338717ull;
}

int otlp__span(struct otlp_exporter *x, const struct span *s)
{
	uint8_t tid[16], sid[8];
	uint64_t a = next_rand(x), b = next_rand(x), c = next_rand(x) | 1; /* nonzero */

	memcpy(tid, &a, 8);
	memcpy(tid + 8, &b, 8);
	memcpy(sid, &c, 8);
	otlp_encode_span(&x->enc, s, tid, sid);
	return enqueue(x, REC_SPAN, s->pid);
}

static int sink_event(void *ctx, const struct event *e)
{
	return otlp__log(ctx, e);
}

const struct event_sink_ops otlp_event_sink_ops = {
	.event = sink_event,
};

static int sink_span(void *ctx, const struct span *s)
{
	return otlp__span(ctx, s);
}

const struct span_sink_ops otlp_span_sink_ops = {
	.span = sink_span,
};

/* process.executable.path of @pid, cached (the sender thread only). */
static const char *exe_of(struct otlp_exporter *x, uint32_t pid)
{
	struct exe_cache *c;
	char link[64];
	ssize_t n;
	unsigned int i;

	for (i = 0; i < EXE_CACHE; i++)
		if (x->exe[i].pid == pid)
			return x->exe[i].path;
	c = &x->exe[x->exe_next++ % EXE_CACHE];
	c->pid = pid;
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, c->path, sizeof(c->path) - 1);
	c->path[n > 0 ? n : 0] = '\0';
	return c->path;
}

static void resource(struct otlp_exporter *x, struct xbuf *b, uint32_t pid)
{
	const char *exe = exe_of(x, pid), *base = strrchr(exe, '/');
	bool first = true;

	base = base ? base + 1 : exe;
	xbuf_str(b, "{\"resource\":{\"attributes\":[");
	kv_int(b, &first, "process.pid", pid);
	if (*exe) {
		kv_str(b, &first, "process.executable.path", exe, strlen(exe));
		kv_str(b, &first, "process.executable.name", base, strlen(base));
		kv_str(b, &first, "service.name", base, strlen(base));
	}
	kv_str(b, &first, "host.name", x->hostname, strlen(x->hostname));
	xbuf_str(b, "]},");
}

/* Builds the request body of every @kind record of @recs, grouped by pid. */
static size_t build_body(struct otlp_exporter *x, struct rec **recs, size_t n, enum rec_kind kind)
{
	struct xbuf *b = &x->body;
	bool *done = NULL, first_res = true, first;
	size_t i, j, count = 0;

	xbuf_reset(b);
	done = calloc(n ? n : 1, sizeof(*done));
	if (!done) {
		b->err = -ENOMEM;
		return 0;
	}
	xbuf_str(b, kind == REC_LOG ? "{\"resourceLogs\":[" : "{\"resourceSpans\":[");
	for (i = 0; i < n; i++) {
		if (done[i] || recs[i]->kind != kind)
			continue;
		if (!first_res)
			xbuf_ch(b, ',');
		first_res = false;
		resource(x, b, recs[i]->pid);
		xbuf_str(b, kind == REC_LOG ? "\"scopeLogs\":[{" : "\"scopeSpans\":[{");
		xbuf_str(b,
			 "\"scope\":{\"name\":\"usdtkit\",\"version\":\"" USDTKIT_VERSION "\"},");
		xbuf_str(b, kind == REC_LOG ? "\"logRecords\":[" : "\"spans\":[");
		first = true;
		for (j = i; j < n; j++) {
			if (done[j] || recs[j]->kind != kind || recs[j]->pid != recs[i]->pid)
				continue;
			done[j] = true;
			if (!first)
				xbuf_ch(b, ',');
			first = false;
			xbuf_add(b, recs[j]->data, recs[j]->len);
			count++;
		}
		xbuf_str(b, "]}]}");
	}
	xbuf_str(b, "]}");
	free(done);
	return count;
}

/* The value of header @name (lower case) in @head, or NULL. */
static const char *header_value(const char *head, const char *end, const char *name)
{
	size_t n = strlen(name);
	const char *line;

	for (line = strstr(head, "\r\n"); line && line + 2 < end; line = strstr(line + 2, "\r\n")) {
		if (!strncasecmp(line + 2, name, n) && line[2 + n] == ':')
			return line + 3 + n;
	}
	return NULL;
}

static bool response_complete(const char *resp, size_t len)
{
	const char *body = strstr(resp, "\r\n\r\n"), *cl;
	unsigned long long want;

	if (!body)
		return false;
	body += 4;
	cl = header_value(resp, body, "content-length");
	if (!cl || sscanf(cl, " %llu", &want) != 1)
		return false; /* read until the peer closes */
	return (size_t)(resp + len - body) >= want;
}

/*
 * Records a 2xx response still refused: OTLP's partial success,
 * {"partialSuccess":{"rejectedLogRecords":"N"}} (int64: a string or a number).
 */
static uint64_t rejected(const char *resp, enum rec_kind kind)
{
	const char *key = kind == REC_LOG ? "\"rejectedLogRecords\"" : "\"rejectedSpans\"";
	const char *body = strstr(resp, "\r\n\r\n"), *p;

	p = body ? strstr(body, key) : NULL;
	if (!p)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == ':' || *p == '"' || *p == '\t')
		p++;
	return strtoull(p, NULL, 10);
}

/* One POST: the HTTP status, or a negative errno for connection failures. */
static int post(struct otlp_exporter *x, const char *path, const struct xbuf *body)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	char hdr[1024];
	uint64_t deadline;
	int fd = -1, err, n, status = -EPROTO, soerr;
	socklen_t sl = sizeof(soerr);
	ssize_t got;

	deadline = export_now_ns(CLOCK_MONOTONIC) + x->o.request_timeout_ms * 1000000ull;
	err = getaddrinfo(x->host, x->port, &hints, &res);
	if (err)
		return err == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	err = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		err = -errno;
		if (errno == EINPROGRESS) {
			err = export_poll_until(fd, POLLOUT, deadline);
			if (err > 0 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl)) {
				if (!soerr)
					break;
				err = -soerr;
			}
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err < 0 ? err : -ECONNREFUSED;
	n = snprintf(hdr, sizeof(hdr),
		     "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: usdtkit/" USDTKIT_VERSION
		     "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     path, strchr(x->host, ':') ? "[" : "", x->host,
		     strchr(x->host, ':') ? "]" : "", x->port, body->len);
	err = export_write_all(fd, hdr, (size_t)n, deadline);
	if (!err)
		err = export_write_all(fd, body->p, body->len, deadline);
	if (err)
		goto out;
	/* the status line is all we need; the rest is read and discarded */
	xbuf_reset(&x->resp);
	for (;;) {
		if (xbuf_reserve(&x->resp, 4096)) {
			err = -ENOMEM;
			goto out;
		}
		got = recv(fd, x->resp.p + x->resp.len, 4096, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN) {
			err = export_poll_until(fd, POLLIN, deadline);
			if (err < 0)
				goto out;
			continue;
		}
		if (got < 0) {
			err = -errno;
			goto out;
		}
		x->resp.len += (size_t)got;
		x->resp.p[x->resp.len] = '\0';
		/* until the peer closes, or the body its Content-Length announced arrived */
		if (got == 0 || x->resp.len > 65536 || response_complete(x->resp.p, x->resp.len))
			break;
	}
	if (sscanf(x->resp.p, "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 999)
		status = -EPROTO;
	err = status;
out:
	close(fd);
	return err;
}

static bool retryable(int status)
{
	return status < 0 || status == 429 || status == 502 || status == 503 || status == 504;
}

/*
 * Sends one body with retries; called without the lock. true if
 * delivered; *@refused gets the records a partial success rejected.
 */
static bool deliver(struct otlp_exporter *x, const char *path, enum rec_kind kind,
		    uint64_t *refused)
{
	unsigned int attempt, delay = x->o.backoff_ms;
	struct timespec ts;
	uint64_t wake;
	int status;

	for (attempt = 0;; attempt++) {
		status = post(x, path, &x->body);
		pthread_mutex_lock(&x->lock);
		x->st.requests++;
		if (status >= 200 && status < 300) {
			pthread_mutex_unlock(&x->lock);
			*refused = rejected(x->resp.p, kind);
			return true;
		}
		if (!retryable(status) || attempt >= x->o.max_retries ||
		    (x->stopping &&
		     export_now_ns(CLOCK_MONOTONIC) + delay * 1000000ull > x->close_deadline)) {
			pthread_mutex_unlock(&x->lock);
			return false;
		}
		x->st.retries++;
		/* sleep on the condition so close() can cut the backoff short */
		wake = export_now_ns(CLOCK_REALTIME) + delay * 1000000ull;
		ts.tv_sec = (time_t)(wake / 1000000000ull);
		ts.tv_nsec = (long)(wake % 1000000000ull);
		while (pthread_cond_timedwait(&x->wake, &x->lock, &ts) != ETIMEDOUT)
			if (x->stopping && export_now_ns(CLOCK_MONOTONIC) > x->close_deadline)
				break;
		pthread_mutex_unlock(&x->lock);
		delay = delay * 2 > x->o.backoff_max_ms ? x->o.backoff_max_ms : delay * 2;
	}
}

static void send_batch(struct otlp_exporter *x, struct rec **recs, size_t n)
{
	static const enum rec_kind kinds[] = {REC_LOG, REC_SPAN};
	uint64_t count, refused, sent;
	size_t k;
	bool ok;

	for (k = 0; k < 2; k++) {
		count = build_body(x, recs, n, kinds[k]);
		if (!count && !x->body.err)
			continue;
		refused = 0;
		ok = !x->body.err && deliver(x, kinds[k] == REC_LOG ? x->logs_path : x->traces_path,
					     kinds[k], &refused);
		sent = ok ? count - (refused < count ? refused : count) : 0;
		pthread_mutex_lock(&x->lock);
		if (kinds[k] == REC_LOG) {
			x->st.logs_sent += sent;
			x->st.logs_failed += count - sent;
		} else {
			x->st.spans_sent += sent;
			x->st.spans_failed += count - sent;
		}
		pthread_mutex_unlock(&x->lock);
	}
}

static void *sender_thread(void *arg)
{
	struct otlp_exporter *x = arg;
	struct rec **batch;
	struct timespec ts;
	uint64_t until;
	size_t n, bytes, i;

	batch = calloc(x->o.batch_records, sizeof(*batch));
	pthread_mutex_lock(&x->lock);
	for (;;) {
		while (!x->n && !x->stopping)
			pthread_cond_wait(&x->wake, &x->lock);
		if (!x->n && x->stopping)
			break;
		/* let the batch fill up, for at most the batch timeout */
		until = export_now_ns(CLOCK_REALTIME) + x->o.batch_timeout_ms * 1000000ull;
		ts.tv_sec = (time_t)(until / 1000000000ull);
		ts.tv_nsec = (long)(until % 1000000000ull);
		while (x->n < x->o.batch_records && !x->stopping && !x->flush_req &&
		       pthread_cond_timedwait(&x->wake, &x->lock, &ts) != ETIMEDOUT)
			;
		if (x->stopping && export_now_ns(CLOCK_MONOTONIC) > x->close_deadline) {
			/* out of time: what is left is dropped */
			for (; x->n; x->n--, x->head = (x->head + 1) % x->o.queue_records) {
				struct rec *r = x->q[x->head];

				(*(r->kind == REC_LOG ? &x->st.logs_dropped
						      : &x->st.spans_dropped))++;
				free(r);
				x->handled++;
			}
			pthread_cond_broadcast(&x->idle);
			break;
		}
		for (n = 0, bytes = 0; x->n && n < x->o.batch_records && batch; n++) {
			if (n && bytes + x->q[x->head]->len > x->o.batch_bytes)
				break;
			batch[n] = x->q[x->head];
			bytes += batch[n]->len;
			x->head = (x->head + 1) % x->o.queue_records;
			x->n--;
		}
		if (!batch) { /* no memory for the batch array: fail one record at a time */
			struct rec *r = x->q[x->head];

			x->head = (x->head + 1) % x->o.queue_records;
			x->n--;
			(*(r->kind == REC_LOG ? &x->st.logs_failed : &x->st.spans_failed))++;
			free(r);
			x->handled++;
			continue;
		}
		if (!x->n)
			x->flush_req = false;
		x->inflight = n;
		pthread_mutex_unlock(&x->lock);
		send_batch(x, batch, n);
		for (i = 0; i < n; i++)
			free(batch[i]);
		pthread_mutex_lock(&x->lock);
		x->inflight = 0;
		x->handled += n;
		pthread_cond_broadcast(&x->idle);
	}
	pthread_cond_broadcast(&x->idle);
	pthread_mutex_unlock(&x->lock);
	free(batch);
	return NULL;
}

int otlp_exporter__new(struct otlp_exporter **out, const struct otlp_opts *opts)
{
	struct otlp_exporter *x;
	char base[512];
	pthread_condattr_t ca;
	int err;

	*out = NULL;
	if (!opts || !opts->url)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->o = *opts;
	err = otlp_parse_url(opts->url, x->host, sizeof(x->host), x->port, sizeof(x->port), base,
			     sizeof(base) - sizeof("/v1/traces"));
	if (err)
		goto fail_free;
	snprintf(x->logs_path, sizeof(x->logs_path), "%s/v1/logs", base);
	snprintf(x->traces_path, sizeof(x->traces_path), "%s/v1/traces", base);
	if (!x->o.queue_records)
		x->o.queue_records = 8192;
	if (!x->o.batch_records)
		x->o.batch_records = 512;
	if (x->o.batch_records > x->o.queue_records)
		x->o.batch_records = x->o.queue_records;
	if (!x->o.batch_bytes)
		x->o.batch_bytes = 1 << 20;
	if (!x->o.batch_timeout_ms)
		x->o.batch_timeout_ms = 1000;
	if (!x->o.max_retries)
		x->o.max_retries = 5;
	else if (x->o.max_retries == -1u)
		x->o.max_retries = 0;
	if (!x->o.backoff_ms)
		x->o.backoff_ms = 100;
	if (!x->o.backoff_max_ms)
		x->o.backoff_max_ms = 5000;
	if (!x->o.request_timeout_ms)
		x->o.request_timeout_ms = 10000;
	if (!x->o.close_timeout_ms)
		x->o.close_timeout_ms = 5000;
	if (gethostname(x->hostname, sizeof(x->hostname) - 1))
		strcpy(x->hostname, "localhost");
	if (getrandom(&x->rng, sizeof(x->rng), 0) != sizeof(x->rng) || !x->rng)
		x->rng = export_now_ns(CLOCK_MONOTONIC) | 1;
	err = -ENOMEM;
	x->q = calloc(x->o.queue_records, sizeof(*x->q));
	if (!x->q)
		goto fail_free;
	/* CLOCK_REALTIME waits: the default of pthread_cond_timedwait */
	pthread_condattr_init(&ca);
	if (pthread_mutex_init(&x->lock, NULL) || pthread_cond_init(&x->wake, &ca) ||
	    pthread_cond_init(&x->idle, &ca)) {
		pthread_condattr_destroy(&ca);
		goto fail_free;
	}
	pthread_condattr_destroy(&ca);
	err = -pthread_create(&x->thread, NULL, sender_thread, x);
	if (err)
		goto fail_sync;
	*out = x;
	return 0;
fail_sync:
	pthread_cond_destroy(&x->wake);
	pthread_cond_destroy(&x->idle);
	pthread_mutex_destroy(&x->lock);
fail_free:
	free(x->q);
	free(x);
	return err;
}

int otlp__flush(struct otlp_exporter *x, unsigned int timeout_ms)
{
	struct timespec ts;
	uint64_t until = export_now_ns(CLOCK_REALTIME) + timeout_ms * 1000000ull, mark;
	int err = 0;

	ts.tv_sec = (time_t)(until / 1000000000ull);
	ts.tv_nsec = (long)(until % 1000000000ull);
	pthread_mutex_lock(&x->lock);
	mark = x->enqueued;
	x->flush_req = true;
	pthread_cond_signal(&x->wake);
	while (x->handled < mark && !err)
		err = pthread_cond_timedwait(&x->idle, &x->lock, &ts);
	pthread_mutex_unlock(&x->lock);
	return x->handled >= mark ? 0 : -ETIMEDOUT;
}

void otlp__stats(struct otlp_exporter *x, struct otlp_stats *st)
{
	pthread_mutex_lock(&x->lock);
	*st = x->st;
	pthread_mutex_unlock(&x->lock);
}

int otlp_exporter__close(struct otlp_exporter *x, struct otlp_stats *st)
{
	struct otlp_stats s;

	if (!x)
		return 0;
	pthread_mutex_lock(&x->lock);
	x->stopping = true;
	x->close_deadline = export_now_ns(CLOCK_MONOTONIC) + x->o.close_timeout_ms * 1000000ull;
	pthread_cond_broadcast(&x->wake);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	s = x->st;
	if (st)
		*st = s;
	pthread_cond_destroy(&x->wake);
	pthread_cond_destroy(&x->idle);
	pthread_mutex_destroy(&x->lock);
	free(x->q);
	xbuf_free(&x->enc);
	xbuf_free(&x->body);
	xbuf_free(&x->resp);
	free(x);
	return s.logs_failed + s.logs_dropped + s.spans_failed + s.spans_dropped ? -EIO : 0;
}
