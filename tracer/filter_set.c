// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The --filter options of a session (see filter_set.h): parse, compile
 * per probe against the engine's argument names and types, and keep the
 * compiled programs in the BPF maps every object of the run shares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "engine.h"
#include "filter_compile.h"
#include "filter_set.h"

void filter_set__init(struct filter_set *fs, const char *who)
{
	memset(fs, 0, sizeof(*fs));
	fs->who = who;
	fs->map_fd = -1;
	fs->counts_fd = -1;
}

void filter_set__free(struct filter_set *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		filter_expr__free(fs->exprs[i]);
	free(fs->exprs);
	free(fs->texts);
	if (fs->map_fd >= 0)
		close(fs->map_fd);
	if (fs->counts_fd >= 0)
		close(fs->counts_fd);
	filter_set__init(fs, fs->who);
}

static void say(const struct filter_set *fs, const struct filter_error *err)
{
	char line[320];

	filter_error__format(err, fs->who, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
}

int filter_set__add(struct filter_set *fs, const char *text)
{
	struct filter_error err;
	struct filter_expr *e;
	void *np;
	int rc;

	np = realloc(fs->exprs, (fs->n + 1) * sizeof(*fs->exprs));
	if (!np)
		goto oom;
	fs->exprs = np;
	np = realloc(fs->texts, (fs->n + 1) * sizeof(*fs->texts));
	if (!np)
		goto oom;
	fs->texts = np;
	rc = filter_parse(text, &e, &err);
	if (rc == -ENOMEM)
		goto oom;
	if (rc) {
		say(fs, &err);
		return EXIT_USAGE;
	}
	fs->exprs[fs->n] = e;
	fs->texts[fs->n++] = text;
	return EXIT_OK;
oom:
	fprintf(stderr, "%s: out of memory\n", fs->who);
	return EXIT_FAIL;
}

/*
 * The compiler's view of probe @id: names from metadata or --args, types
 * as the engine decodes them (declared, else the size and sign of the
 * first location's argument spec).
 */
static void probe_env(struct engine *eng, size_t id, struct filter_env *env,
		      struct filter_arg *args)
{
	const struct engine_probe *p = engine__probe(eng, id);
	size_t li = engine__first_loc(eng, id);
	const struct engine_loc *l = li != SIZE_MAX ? engine__loc(eng, li) : NULL;
	int n = p->nargs < 0 ? 0 : p->nargs;

	if (n > FILTER_NARGS)
		n = FILTER_NARGS;
	if (!l)
		n = 0;
	for (int i = 0; i < n; i++) {
		args[i].name = p->meta[i].name[0] ? p->meta[i].name : NULL;
		args[i].type = filter_arg_type_of(engine__arg_type(p, &l->spec.args[i], i));
		if (p->f32_mask & (1u << i))
			args[i].type = FILTER_ARG_OTHER;
	}
	env->provider = p->provider;
	env->name = p->name;
	env->nargs = n;
	env->args = args;
}

/* Compiles probe @id into @prog. 0, -EINVAL (said), -ENOMEM. */
static int compile_probe(struct filter_set *fs, struct engine *eng, size_t id,
			 struct filter_prog *prog)
{
	struct filter_arg args[FILTER_NARGS];
	struct filter_error err;
	struct filter_env env;
	int rc;

	probe_env(eng, id, &env, args);
	rc = filter_compile(fs->exprs, fs->n, &env, prog, &err);
	if (rc == -EINVAL)
		say(fs, &err);
	return rc;
}

/* Column of the scope of @text: its first non-blank byte. */
static unsigned int scope_column(const char *text)
{
	unsigned int c = 1;

	while (text[c - 1] == ' ' || text[c - 1] == '\t' || text[c - 1] == '\n')
		c++;
	return c;
}

static int check_scopes(const struct filter_set *fs, struct engine *eng)
{
	size_t np = engine__probe_count(eng);

	for (size_t i = 0; i < fs->n; i++) {
		const char *t = fs->texts[i];
		unsigned int col = scope_column(t);
		size_t p = 0, len;

		if (!filter_expr__scoped(fs->exprs[i]))
			continue;
		while (p < np &&
		       !filter_expr__applies(fs->exprs[i], engine__probe(eng, p)->provider,
					     engine__probe(eng, p)->name))
			p++;
		if (p < np)
			continue;
		/* the scope as written: up to its second ':' */
		len = strcspn(t + col - 1, ":");
		len += 1 + strcspn(t + col - 1 + len + 1, ":");
		fprintf(stderr, "%s: --filter: scope '%.*s' names no traced probe at column %u\n",
			fs->who, (int)len, t + col - 1, col);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int filter_set__setup(struct filter_set *fs, struct engine *eng, bool wait, uint32_t spare)
{
	size_t np = engine__probe_count(eng);
	int ncpu = libbpf_num_possible_cpus(), rc;

	if (!fs->n)
		return EXIT_OK;
	if (!wait && (rc = check_scopes(fs, eng)))
		return rc;
	fs->cap = np + spare ? np + spare : 1;
	fs->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "filter_progs", sizeof(__u32),
				    sizeof(struct filter_prog), fs->cap, NULL);
	if (fs->map_fd < 0 || ncpu <= 0)
		goto fail;
	fs->counts_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "filter_counts", sizeof(__u32),
				       sizeof(__u64), FILTER_CNT__MAX, NULL);
	if (fs->counts_fd < 0)
		goto fail;
	rc = filter_set__update(fs, eng);
	if (rc == -EINVAL)
		return EXIT_USAGE;
	return rc ? EXIT_FAIL : EXIT_OK;
fail:
	rc = -errno;
	if (rc == -EPERM)
		fprintf(stderr,
			"%s: not permitted to create BPF maps: run as root or with CAP_BPF and "
			"CAP_PERFMON\n",
			fs->who);
	else
		fprintf(stderr, "%s: --filter: cannot create its BPF map: %s\n", fs->who,
			strerror(-rc));
	return EXIT_FAIL;
}

int filter_set__update(struct filter_set *fs, struct engine *eng)
{
	size_t np = engine__probe_count(eng);
	bool first = !fs->ncompiled;
	struct filter_prog *prog;
	int rc = 0;

	if (!fs->n || fs->map_fd < 0 || fs->ncompiled >= np)
		return 0;
	prog = malloc(sizeof(*prog));
	if (!prog) {
		fprintf(stderr, "%s: out of memory\n", fs->who);
		return -ENOMEM;
	}
	for (; fs->ncompiled < np; fs->ncompiled++) {
		__u32 id = fs->ncompiled;

		if (id >= fs->cap) {
			const struct engine_probe *p = engine__probe(eng, id);

			fprintf(stderr,
				"%s: --filter: no room for probe %s:%s found later: its hits are "
				"dropped\n",
				fs->who, p->provider, p->name);
			continue;
		}
		rc = compile_probe(fs, eng, id, prog);
		if (rc == -ENOMEM) {
			fprintf(stderr, "%s: out of memory\n", fs->who);
			break;
		}
		if (rc && first)
			break; /* at setup: the run does not start */
		if (rc) {
			/* found later: said; its entry stays zero, which drops every hit */
			rc = 0;
			continue;
		}
		if (bpf_map_update_elem(fs->map_fd, &id, prog, BPF_ANY)) {
			rc = -errno;
			fprintf(stderr, "%s: --filter: storing a filter: %s\n", fs->who,
				strerror(-rc));
			break;
		}
	}
	free(prog);
	return rc;
}

int filter_set__prepare(const struct filter_set *fs, struct bpf_map *progs, struct bpf_map *counts)
{
	int err;

	if (!fs->n)
		return 0;
	err = bpf_map__reuse_fd(progs, fs->map_fd);
	if (!err)
		err = bpf_map__reuse_fd(counts, fs->counts_fd);
	return err ? err : 1;
}

uint64_t filter_set__dropped(const struct filter_set *fs, uint64_t *faults)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum[FILTER_CNT__MAX] = {0};
	__u64 *vals;

	if (faults)
		*faults = 0;
	if (fs->counts_fd < 0 || ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	for (__u32 k = 0; k < FILTER_CNT__MAX; k++)
		if (!bpf_map_lookup_elem(fs->counts_fd, &k, vals))
			for (int i = 0; i < ncpu; i++)
				sum[k] += vals[i];
	free(vals);
	if (faults)
		*faults = sum[FILTER_CNT_FAULT];
	return sum[FILTER_CNT_DROPPED] + sum[FILTER_CNT_FAULT];
}
