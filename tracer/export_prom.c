// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Prometheus text exposition and its HTTP server (export_prom.h).
 *
 * The server is one thread blocked in poll(2) on the listening socket and
 * an eventfd used to stop it. Accepted sockets are non-blocking and every
 * read and write has a deadline, so one client can hold the thread for at
 * most read_timeout + write_timeout. The registry is rendered into memory
 * under its lock and sent after the lock is dropped: a slow client never
 * holds up stat's next refill.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "export_prom.h"

void prom_format_value(struct xbuf *b, double v)
{
	char tmp[32];
	int prec;

	if (isnan(v)) {
		xbuf_str(b, "NaN");
		return;
	}
	if (isinf(v)) {
		xbuf_str(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0) {
		xbuf_i64(b, (int64_t)v);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	xbuf_str(b, tmp);
}

/* HELP text escapes \ and newline; label values also escape ". */
static void escape(struct xbuf *b, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		if (*s != '\\' && *s != '\n' && !(quote && *s == '"'))
			continue;
		xbuf_add(b, run, (size_t)(s - run));
		xbuf_ch(b, '\\');
		xbuf_ch(b, *s == '\n' ? 'n' : *s);
		run = s + 1;
	}
	xbuf_add(b, run, (size_t)(s - run));
}

static void header(struct xbuf *b, const char *name, const char *help, const char *type)
{
	xbuf_str(b, "# HELP ");
	xbuf_str(b, name);
	xbuf_ch(b, ' ');
	escape(b, help, false);
	xbuf_str(b, "\n# TYPE ");
	xbuf_str(b, name);
	xbuf_ch(b, ' ');
	xbuf_str(b, type);
	xbuf_ch(b, '\n');
}

/* {a="x",b="y"[,le="..."]}, nothing for no labels at all */
static void labels(struct xbuf *b, const struct metric_family *f, const struct metric_series *s,
		   const char *le)
{
	unsigned int i;

	if (!f->nlabels && !le)
		return;
	xbuf_ch(b, '{');
	for (i = 0; i < f->nlabels; i++) {
		if (i)
			xbuf_ch(b, ',');
		xbuf_str(b, f->labels[i]);
		xbuf_str(b, "=\"");
		escape(b, s->values[i], true);
		xbuf_ch(b, '"');
	}
	if (le) {
		if (f->nlabels)
			xbuf_ch(b, ',');
		xbuf_str(b, "le=\"");
		xbuf_str(b, le);
		xbuf_ch(b, '"');
	}
	xbuf_ch(b, '}');
}

static void render_histogram(struct xbuf *b, const struct metric_family *f,
			     const struct metric_series *s)
{
	struct xbuf le = {0};
	uint64_t cum = 0;
	unsigned int i;

	for (i = 0; i <= f->nbounds; i++) {
		cum += s->buckets[i];
		xbuf_reset(&le);
		if (i < f->nbounds)
			prom_format_value(&le, f->bounds[i]);
		else
			xbuf_str(&le, "+Inf");
		if (le.err) {
			b->err = le.err;
			break;
		}
		xbuf_str(b, f->name);
		xbuf_str(b, "_bucket");
		labels(b, f, s, le.p);
		xbuf_ch(b, ' ');
		xbuf_u64(b, cum);
		xbuf_ch(b, '\n');
	}
	xbuf_free(&le);
	xbuf_str(b, f->name);
	xbuf_str(b, "_sum");
	labels(b, f, s, NULL);
	xbuf_ch(b, ' ');
	prom_format_value(b, s->sum);
	xbuf_ch(b, '\n');
	xbuf_str(b, f->name);
	xbuf_str(b, "_count");
	labels(b, f, s, NULL);
	xbuf_ch(b, ' ');
	xbuf_u64(b, s->count);
	xbuf_ch(b, '\n');
}

static const char *const type_names[] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_HISTOGRAM] = "histogram",
};

static void render_family(struct xbuf *b, const struct metric_family *f)
{
	const struct metric_series *s;
	size_t i;

	header(b, f->name, f->help, type_names[f->type]);
	for (i = 0; i < f->nseries; i++) {
		s = &f->series[i];
		if (f->type == METRIC_HISTOGRAM) {
			render_histogram(b, f, s);
			continue;
		}
		xbuf_str(b, f->name);
		labels(b, f, s, NULL);
		xbuf_ch(b, ' ');
		prom_format_value(b, s->value);
		xbuf_ch(b, '\n');
	}
}

static double start_time;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

/* Read once: the server thread and textfile writers may render concurrently. */
static void read_start_time(void)
{
	char buf[1024], *p;
	unsigned long long start = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int i;

	f = fopen("/proc/self/stat", "re");
	if (!f)
		return;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p)
		return;
	/* field 22 (starttime); p is at the end of field 2 (comm) */
	for (i = 2; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return;
	f = fopen("/proc/stat", "re");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	if (!btime || hz <= 0)
		return;
	start_time = (double)btime + (double)start / (double)hz;
}

static double start_time_seconds(void)
{
	pthread_once(&start_once, read_start_time);
	return start_time;
}

static void render_one(struct xbuf *b, const char *name, const char *help, const char *type,
		       double v)
{
	header(b, name, help, type);
	xbuf_str(b, name);
	xbuf_ch(b, ' ');
	prom_format_value(b, v);
	xbuf_ch(b, '\n');
}

static void render_process(struct xbuf *b)
{
	unsigned long long vsz = 0, rss = 0;
	struct rusage ru;
	struct rlimit rl;
	struct dirent *d;
	double fds = 0, start;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f;
	DIR *dir;

	if (!getrusage(RUSAGE_SELF, &ru))
		render_one(b, "process_cpu_seconds_total",
			   "Total user and system CPU time spent in seconds.", "counter",
			   (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%llu %llu", &vsz, &rss) == 2) {
			render_one(b, "process_resident_memory_bytes",
				   "Resident memory size in bytes.", "gauge",
				   (double)rss * (double)page);
			render_one(b, "process_virtual_memory_bytes",
				   "Virtual memory size in bytes.", "gauge",
				   (double)vsz * (double)page);
		}
		fclose(f);
	}
	dir = opendir("/proc/self/fd");
	if (dir) {
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.')
				fds++;
		closedir(dir);
		render_one(b, "process_open_fds", "Number of open file descriptors.", "gauge",
			   fds - 1 /* the directory's own */);
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		render_one(b, "process_max_fds", "Maximum number of open file descriptors.",
			   "gauge", (double)rl.rlim_cur);
	start = start_time_seconds();
	if (start > 0)
		render_one(b, "process_start_time_seconds",
			   "Start time of the process since unix epoch in seconds.", "gauge",
			   start);
}

int prom_render(struct metrics_registry *r, struct xbuf *b, unsigned int flags)
{
	const struct metric_family *f;
	bool overflow_header = false;
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nfamilies; i++)
		render_family(b, r->families[i]);
	for (i = 0; i < r->nfamilies; i++) {
		f = r->families[i];
		if (!f->overflow)
			continue;
		if (!overflow_header)
			header(b, "usdtkit_series_overflow",
			       "Series refused by the cardinality bound in the last update.",
			       "gauge");
		overflow_header = true;
		xbuf_str(b, "usdtkit_series_overflow{metric=\"");
		escape(b, f->name, true);
		xbuf_str(b, "\"} ");
		xbuf_u64(b, f->overflow);
		xbuf_ch(b, '\n');
	}
	pthread_mutex_unlock(&r->lock);
	if (flags & PROM_RENDER_PROCESS)
		render_process(b);
	return b->err;
}

/* RFC 9110 token characters */
static bool tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

long http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t i = 0, line, end;

	/* the head ends at the first empty line */
	for (end = 0; end < len; end++) {
		if (u[end] != '\n')
			continue;
		if (end >= 1 && u[end - 1] == '\n')
			break;
		if (end >= 3 && u[end - 1] == '\r' && u[end - 2] == '\n' && u[end - 3] == '\r')
			break;
	}
	if (end == len) {
		/* reject an obviously bad request line without waiting for more */
		for (i = 0; i < len && tchar(u[i]); i++)
			;
		if (i < len && u[i] != ' ')
			return -EINVAL;
		return 0;
	}
	end++;

	memset(req, 0, sizeof(*req));
	for (i = 0; i < end && tchar(u[i]); i++)
		;
	if (i == 0 || u[i] != ' ')
		return -EINVAL;
	req->method = buf;
	req->method_len = i;
	req->target = buf + ++i;
	for (; i < end && u[i] > 0x20 && u[i] < 0x7f; i++)
		;
	req->target_len = (size_t)(buf + i - req->target);
	if (!req->target_len || u[i] != ' ')
		return -EINVAL;
	i++;
	if (end - i < 9 || memcmp(buf + i, "HTTP/1.", 7) || u[i + 7] < '0' || u[i + 7] > '9')
		return -EINVAL;
	req->minor = u[i + 7] - '0';
	i += 8;
	if (u[i] == '\r')
		i++;
	if (u[i] != '\n')
		return -EINVAL;
	i++;
	/* header lines: a token, a colon, any visible text */
	while (i < end) {
		line = i;
		if (u[i] == '\r' || u[i] == '\n')
			break; /* the empty line */
		for (; i < end && tchar(u[i]); i++)
			;
		if (i == line || u[i] != ':')
			return -EINVAL;
		for (; i < end && u[i] != '\n'; i++)
			if (u[i] < 0x20 && u[i] != '\t' && u[i] != '\r')
				return -EINVAL;
		i++;
	}
	return (long)end;
}

int prom_http_status(const struct http_request *req)
{
	size_t n = req->target_len;
	const char *q = memchr(req->target, '?', n);

	if (q)
		n = (size_t)(q - req->target);
	if (n != 8 || memcmp(req->target, "/metrics", 8))
		return 404;
	if ((req->method_len == 3 && !memcmp(req->method, "GET", 3)) ||
	    (req->method_len == 4 && !memcmp(req->method, "HEAD", 4)))
		return 200;
	return 405;
}

struct prom_server {
	int lfd;
	int wakefd;
	int port;
	pthread_t thread;
	struct metrics_registry *reg;
	struct prom_server_opts opts;
	pthread_mutex_t stats_lock;
	struct prom_server_stats stats;
	struct xbuf body;
	char *req;
	/* refresh_wait_ms: a scrape asks the owner's loop for fresh values */
	pthread_cond_t refreshed;
	uint64_t want_gen, done_gen; /* under stats_lock */
};

static void count(struct prom_server *s, uint64_t *field)
{
	pthread_mutex_lock(&s->stats_lock);
	(*field)++;
	pthread_mutex_unlock(&s->stats_lock);
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Internal Server Error";
	}
}

/*
 * Asks the owner for fresh values and waits for them, bounded: an owner
 * busy elsewhere delays a scrape by refresh_wait_ms at most, which then
 * gets the previous values.
 */
static void wait_refresh(struct prom_server *s)
{
	struct timespec ts;
	uint64_t gen;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += s->opts.refresh_wait_ms / 1000;
	ts.tv_nsec += (long)(s->opts.refresh_wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->stats_lock);
	gen = ++s->want_gen;
	while (s->done_gen < gen)
		if (pthread_cond_timedwait(&s->refreshed, &s->stats_lock, &ts))
			break;
	pthread_mutex_unlock(&s->stats_lock);
}

bool prom_server__refresh_wanted(struct prom_server *s)
{
	bool want;

	pthread_mutex_lock(&s->stats_lock);
	want = s->done_gen < s->want_gen;
	pthread_mutex_unlock(&s->stats_lock);
	return want;
}

void prom_server__refreshed(struct prom_server *s)
{
	pthread_mutex_lock(&s->stats_lock);
	s->done_gen = s->want_gen;
	pthread_cond_broadcast(&s->refreshed);
	pthread_mutex_unlock(&s->stats_lock);
}

static void respond(struct prom_server *s, int fd, int status, bool head)
{
	char hdr[256];
	const char *body;
	size_t blen;
	uint64_t deadline;
	int n;

	xbuf_reset(&s->body);
	if (status == 200 && s->opts.refresh_wait_ms)
		wait_refresh(s);
	if (status == 200 && prom_render(s->reg, &s->body, s->opts.render_flags))
		status = 500;
	if (status == 200) {
		body = s->body.p ? s->body.p : "";
		blen = s->body.len;
	} else {
		body = reason(status);
		blen = strlen(body);
	}
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n",
		     status, reason(status),
		     status == 200 ? PROM_CONTENT_TYPE : "text/plain; charset=utf-8",
		     blen + (status == 200 ? 0 : 1), status == 405 ? "Allow: GET, HEAD\r\n" : "");
	deadline = export_now_ns(CLOCK_MONOTONIC) + s->opts.write_timeout_ms * 1000000ull;
	if (export_write_all(fd, hdr, (size_t)n, deadline) ||
	    (!head && (export_write_all(fd, body, blen, deadline) ||
		       (status != 200 && export_write_all(fd, "\n", 1, deadline))))) {
		count(s, &s->stats.errors);
		return;
	}
	count(s, status == 200 ? &s->stats.scrapes : &s->stats.errors);
}

/* Returns false when the server is stopping. */
static bool serve_one(struct prom_server *s, int fd)
{
	struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->wakefd, .events = POLLIN}};
	struct http_request req;
	uint64_t deadline, now;
	size_t got = 0;
	ssize_t n;
	long head;
	int status;

	deadline = export_now_ns(CLOCK_MONOTONIC) + s->opts.read_timeout_ms * 1000000ull;
	for (;;) {
		now = export_now_ns(CLOCK_MONOTONIC);
		if (now >= deadline) {
			respond(s, fd, 408, false);
			return true;
		}
		n = poll(pfd, 2, (int)((deadline - now + 999999) / 1000000));
		if (n < 0 && errno != EINTR)
			return true;
		if (pfd[1].revents)
			return false;
		if (n <= 0 || !pfd[0].revents)
			continue;
		n = recv(fd, s->req + got, s->opts.max_request - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			count(s, &s->stats.errors);
			return true;
		}
		got += (size_t)n;
		head = http_parse_request(s->req, got, &req);
		if (head < 0) {
			respond(s, fd, 400, false);
			return true;
		}
		if (head > 0)
			break;
		if (got == s->opts.max_request) {
			respond(s, fd, 431, false);
			return true;
		}
	}
	status = prom_http_status(&req);
	respond(s, fd, status, req.method_len == 4);
	return true;
}

static void *server_thread(void *arg)
{
	struct prom_server *s = arg;
	struct pollfd pfd[2] = {{.fd = s->lfd, .events = POLLIN},
				{.fd = s->wakefd, .events = POLLIN}};
	bool running = true;
	int fd;

	while (running) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (!pfd[0].revents)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* EMFILE and friends: back off instead of spinning */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				poll(&pfd[1], 1, 100);
			continue;
		}
		count(s, &s->stats.connections);
		running = serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

int prom_split_addr(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon, *h = addr, *end;
	size_t hlen, i;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - addr);
		if (memchr(addr, ':', hlen))
			return -EINVAL; /* a bare IPv6 address needs brackets */
	}
	if (hlen >= hsize || !colon[1] || strlen(colon + 1) > 5 || strlen(colon + 1) >= psize)
		return -EINVAL;
	for (i = 1; colon[i]; i++)
		if (colon[i] < '0' || colon[i] > '9')
			return -EINVAL;
	if (strtoul(colon + 1, NULL, 10) > 65535)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int listen_on(const char *addr, int *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], pstr[8];
	int fd = -1, err, one = 1, zero = 0, pass;

	err = prom_split_addr(addr, host, sizeof(host), pstr, sizeof(pstr));
	if (err)
		return err;
	if (getaddrinfo(host[0] ? host : NULL, pstr, &hints, &res))
		return -EINVAL;
	err = -EADDRNOTAVAIL;
	/* for ":PORT" prefer the IPv6 wildcard in dual-stack mode */
	for (pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			if (!host[0] && pass == 0 && ai->ai_family != AF_INET6)
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				    ai->ai_protocol);
			if (fd < 0) {
				err = -errno;
				continue;
			}
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (!host[0] && ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 16))
				break;
			err = -errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		err = -errno;
		close(fd);
		return err;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int err;

	if (pthread_condattr_init(&a))
		return -ENOMEM;
	err = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -err;
}

int prom_server__start(struct prom_server **out, const char *addr, struct metrics_registry *r,
		       const struct prom_server_opts *opts)
{
	struct prom_server *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = s->wakefd = -1;
	s->reg = r;
	if (opts)
		s->opts = *opts;
	if (!s->opts.max_request)
		s->opts.max_request = 8192;
	if (!s->opts.read_timeout_ms)
		s->opts.read_timeout_ms = 2000;
	if (!s->opts.write_timeout_ms)
		s->opts.write_timeout_ms = 5000;
	if (!s->opts.render_flags)
		s->opts.render_flags = PROM_RENDER_PROCESS;
	err = -ENOMEM;
	s->req = malloc(s->opts.max_request);
	if (!s->req || pthread_mutex_init(&s->stats_lock, NULL))
		goto fail_free;
	if (cond_init_mono(&s->refreshed)) {
		pthread_mutex_destroy(&s->stats_lock);
		goto fail_free;
	}
	s->lfd = listen_on(addr, &s->port);
	if (s->lfd < 0) {
		err = s->lfd;
		goto fail;
	}
	s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wakefd < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&s->thread, NULL, server_thread, s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	pthread_cond_destroy(&s->refreshed);
	pthread_mutex_destroy(&s->stats_lock);
fail_free:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wakefd >= 0)
		close(s->wakefd);
	free(s->req);
	free(s);
	return err;
}

int prom_server__port(const struct prom_server *s)
{
	return s->port;
}

void prom_server__stats(struct prom_server *s, struct prom_server_stats *st)
{
	pthread_mutex_lock(&s->stats_lock);
	*st = s->stats;
	pthread_mutex_unlock(&s->stats_lock);
}

void prom_server__stop(struct prom_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->wakefd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	else
		pthread_cancel(s->thread), pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->wakefd);
	pthread_cond_destroy(&s->refreshed);
	pthread_mutex_destroy(&s->stats_lock);
	xbuf_free(&s->body);
	free(s->req);
	free(s);
}

int prom_textfile_write(const char *path, struct metrics_registry *r, unsigned int flags)
{
	struct xbuf b = {0}, tmp = {0};
	const char *slash = strrchr(path, '/');
	int fd = -1, err;

	err = prom_render(r, &b, flags);
	if (err)
		goto out;
	/* ".NAME.XXXXXX" beside NAME: node_exporter reads only *.prom */
	if (slash)
		xbuf_add(&tmp, path, (size_t)(slash - path + 1));
	xbuf_ch(&tmp, '.');
	xbuf_str(&tmp, slash ? slash + 1 : path);
	xbuf_str(&tmp, ".XXXXXX");
	err = tmp.err;
	if (err)
		goto out;
	fd = mkostemp(tmp.p, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (fchmod(fd, 0644) || (err = export_write_all(fd, b.p ? b.p : "", b.len, 0))) {
		err = err ? err : -errno;
		goto out_unlink;
	}
	err = close(fd) ? -errno : 0;
	fd = -1;
	if (err)
		goto out_unlink;
	if (rename(tmp.p, path)) {
		err = -errno;
		goto out_unlink;
	}
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp.p);
out:
	xbuf_free(&b);
	xbuf_free(&tmp);
	return err;
}
