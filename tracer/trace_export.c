// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The exporters of `usdtkit trace` (trace_export.h): one sink that hands
 * each decoded event to the command's text/JSON sink and then to the OTLP
 * exporter and the Chrome-trace writer, so trace_records.c keeps a single
 * sink and the ring consumer does not know exporters exist.
 *
 * The ring consumer never waits for the network: otlp__log only encodes
 * into a bounded queue that a sender thread drains (export_otlp.c), and a
 * full queue drops the record, counted and reported at exit. The Perfetto
 * file is flushed after each poll of the rings, so it is a complete JSON
 * array whenever the loop is between polls (export_chrome.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "export_chrome.h"
#include "export_otlp.h"
#include "trace_export.h"

#define OTLP_CLOSE_MS 5000

struct trace_export {
	const char *otlp_url, *perfetto, *who;
	struct otlp_exporter *otlp;
	struct chrome_writer *chrome;
	struct sink inner;
	bool wrapped;
};

int trace_export__parse_opt(struct trace_export **px, const char *who, int opt, const char *arg)
{
	struct trace_export *x = *px;
	char host[256], port[8], path[512];
	int err;

	if (opt != TRACE_EXPORT_OPT_OTLP && opt != TRACE_EXPORT_OPT_PERFETTO)
		return 0;
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x)
			return -EXIT_FAIL;
		x->who = who;
		*px = x;
	}
	if (opt == TRACE_EXPORT_OPT_PERFETTO) {
		x->perfetto = arg;
		return 1;
	}
	err = otlp_parse_url(arg, host, sizeof(host), port, sizeof(port), path, sizeof(path));
	if (err) {
		fprintf(stderr, "%s: bad --otlp '%s'%s\n", who, arg,
			err == -EPROTONOSUPPORT ? " (http:// only)"
						: " (want http://HOST[:PORT][/PATH])");
		return -EXIT_USAGE;
	}
	x->otlp_url = arg;
	return 1;
}

static int fan_event(void *ctx, const struct event *e)
{
	struct trace_export *x = ctx;
	int err = sink__event(&x->inner, e);

	if (err)
		return err;
	if (x->otlp && (err = otlp__log(x->otlp, e)))
		return err;
	if (x->chrome && (err = chrome__event(x->chrome, e))) {
		fprintf(stderr, "%s: writing '%s': %s\n", x->who, x->perfetto, strerror(-err));
		return err;
	}
	return 0;
}

static int fan_flush(void *ctx)
{
	struct trace_export *x = ctx;

	return x->inner.ops->flush ? x->inner.ops->flush(x->inner.ctx) : 0;
}

static int fan_close(void *ctx)
{
	struct trace_export *x = ctx;

	x->wrapped = false;
	return sink__close(&x->inner);
}

static const struct event_sink_ops fan_ops = {
	.event = fan_event,
	.flush = fan_flush,
	.close = fan_close,
};

int trace_export__start(struct trace_export *x, const char *who, struct sink *sink)
{
	int err;

	if (!x)
		return EXIT_OK;
	if (x->otlp_url) {
		struct otlp_opts oo = {.url = x->otlp_url, .close_timeout_ms = OTLP_CLOSE_MS};

		err = otlp_exporter__new(&x->otlp, &oo);
		if (err) {
			fprintf(stderr, "%s: --otlp '%s': %s\n", who, x->otlp_url, strerror(-err));
			return EXIT_FAIL;
		}
	}
	if (x->perfetto) {
		err = chrome_writer__open(&x->chrome, x->perfetto, -1);
		if (err) {
			fprintf(stderr, "%s: cannot create '%s': %s\n", who, x->perfetto,
				strerror(-err));
			return EXIT_FAIL;
		}
	}
	x->inner = *sink;
	sink->ops = &fan_ops;
	sink->ctx = x;
	x->wrapped = true;
	return EXIT_OK;
}

int trace_export__flush(struct trace_export *x)
{
	int err;

	if (!x || !x->chrome)
		return 0;
	err = chrome__flush(x->chrome);
	if (err)
		fprintf(stderr, "%s: writing '%s': %s\n", x->who, x->perfetto, strerror(-err));
	return err;
}

int trace_export__finish(struct trace_export *x, struct sink *sink)
{
	struct otlp_stats os;
	int ret = 0, err;

	(void)sink;
	if (!x)
		return 0;
	if (x->chrome) {
		err = chrome_writer__close(x->chrome);
		x->chrome = NULL;
		if (err) {
			fprintf(stderr, "%s: writing '%s': %s\n", x->who, x->perfetto,
				strerror(-err));
			ret = err;
		}
	}
	if (x->otlp) {
		err = otlp_exporter__close(x->otlp, &os);
		x->otlp = NULL;
		fprintf(stderr,
			"%s: otlp: %" PRIu64 " log records sent, %" PRIu64
			" not delivered, %" PRIu64 " dropped (queue full)\n",
			x->who, os.logs_sent, os.logs_failed, os.logs_dropped);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

void trace_export__free(struct trace_export *x, struct sink *sink)
{
	if (!x)
		return;
	if (x->wrapped)
		sink__close(sink); /* the inner sink too */
	if (x->otlp)
		otlp_exporter__close(x->otlp, NULL);
	if (x->chrome)
		chrome_writer__close(x->chrome);
	free(x);
}
