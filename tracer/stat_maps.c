// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * usdtkit stat's BPF object (see stat_ctx.h): sizing and loading it,
 * deciding per probe what the program aggregates, and reading the maps.
 *
 * Plain counting loads a minimal non-sleepable program (a per-CPU
 * increment selected by the BPF cookie) so its per-hit cost stays at the
 * uprobe floor; every other mode loads a sleepable program that evaluates
 * arguments with the shared fetch descriptors (fetch.bpf.h), so it decodes
 * exactly what `usdtkit trace` decodes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hashidx.h"
#include "kernel.h"
#include "stat_ctx.h"
#include "stat_export.h"
#include "stat.skel.h"

#define TARGET_EXTRA_LOCS 4096 /* -p/-c: room for objects mapped later */
#define TARGET_EXTRA_PROBES 64

/* Type of argument @a of probe @probe_id: declared, else from its first location's spec. */
static enum usdt_type arg_type(const struct engine *eng, size_t probe_id,
			       const struct engine_probe *p, int a)
{
	const struct engine_loc *l = engine__loc(eng, engine__first_loc(eng, probe_id));
	struct usdt_fetch none = {.size = 8, .flags = FETCH_SIGNED};

	return engine__arg_type(p, l ? &l->spec.args[a] : &none, a);
}

static bool type_signed(enum usdt_type t)
{
	return t == USDT_TYPE_INT8 || t == USDT_TYPE_INT16 || t == USDT_TYPE_INT32 ||
	       t == USDT_TYPE_INT64;
}

struct label_key {
	const struct engine *eng;
	size_t probe;
};

static uint64_t name_hash(const struct engine_probe *p)
{
	return hashidx__str(hashidx__str(HASHIDX_SEED, p->provider), p->name);
}

static bool same_name(const void *ctx, size_t j)
{
	const struct label_key *k = ctx;
	const struct engine_probe *p = engine__probe(k->eng, k->probe),
				  *q = engine__probe(k->eng, j);

	return !strcmp(p->provider, q->provider) && !strcmp(p->name, q->name);
}

/*
 * Labels are provider:name unless that is ambiguous (the same probe in
 * several objects): then object:provider:name. Hashed: linear in probes.
 */
static int relabel(struct stat_ctx *s)
{
	struct hashidx seen = {0};
	size_t n = s->nprobes;
	bool *dup = calloc(n ? n : 1, sizeof(*dup));
	int err = -ENOMEM;

	if (!dup)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct engine_probe *p = engine__probe(s->eng, i);
		struct label_key k = {s->eng, i};
		size_t j = hashidx__find(&seen, name_hash(p), same_name, &k);

		if (j != SIZE_MAX)
			dup[i] = dup[j] = true;
		else if (hashidx__insert(&seen, name_hash(p), i))
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct engine_probe *p = engine__probe(s->eng, i);
		char *l;

		if ((dup[i] ? asprintf(&l, "%s:%s:%s", p->object, p->provider, p->name)
			    : asprintf(&l, "%s:%s", p->provider, p->name)) < 0)
			goto out;
		free(s->probes[i].label);
		s->probes[i].label = l;
	}
	err = 0;
out:
	hashidx__free(&seen);
	free(dup);
	return err;
}

/*
 * Decides what the BPF program does at the probes found since the last
 * call and stores it in "pcfg". Returns the number of probes that are
 * aggregated (not just counted), or a negative errno.
 */
int stat_maps__configure(struct stat_ctx *s)
{
	size_t n = engine__probe_count(s->eng);
	int pcfg_fd = bpf_map__fd(s->skel->maps.pcfg), valid = 0;
	struct probe_info *np;

	if (n <= s->nprobes)
		return 0;
	np = realloc(s->probes, n * sizeof(*np));
	if (!np)
		return -ENOMEM;
	s->probes = np;
	for (size_t i = s->nprobes; i < n; i++) {
		const struct engine_probe *p = engine__probe(s->eng, i);
		struct probe_info *pi = &s->probes[i];
		const char *why = NULL;
		bool not_arg = false;
		char nb[16];
		int a = -1;

		memset(pi, 0, sizeof(*pi));
		pi->type = USDT_TYPE_NONE;
		switch (s->o.mode) {
		case STAT_MODE_COUNT:
			break;
		case STAT_MODE_BY:
			if (s->o.by != STAT_BY_ARG) {
				pi->cfg.valid = 1;
				break;
			}
			/* fallthrough */
		case STAT_MODE_HIST:
		case STAT_MODE_LHIST:
			a = engine__arg_index(p, s->o.arg);
			if (a < 0) {
				why = "does not exist";
				break;
			}
			pi->type = arg_type(s->eng, i, p, a);
			if (s->o.mode != STAT_MODE_BY &&
			    (pi->type == USDT_TYPE_STRING || pi->type == USDT_TYPE_DOUBLE)) {
				why = "is not an integer";
				break;
			}
			pi->cfg.is_str = pi->type == USDT_TYPE_STRING;
			pi->cfg.valid = 1;
			break;
		case STAT_MODE_LATENCY:
			/* the start PROBE is spec 0, the end PROBE spec 1 (engine_setup) */
			if (engine__probe_matched_by(s->eng, i, 0))
				pi->cfg.role |= STAT_ROLE_START;
			if (engine__probe_matched_by(s->eng, i, 1))
				pi->cfg.role |= STAT_ROLE_END;
			if (pi->cfg.role == (STAT_ROLE_START | STAT_ROLE_END)) {
				why = "matches both the start and the end PROBE";
				not_arg = true;
				break;
			}
			if (s->o.arg) {
				a = engine__arg_index(p, s->o.arg);
				if (a < 0) {
					why = "does not exist";
					break;
				}
				pi->type = arg_type(s->eng, i, p, a);
				if (pi->type == USDT_TYPE_STRING || pi->type == USDT_TYPE_DOUBLE) {
					why = "is not an integer";
					break;
				}
			}
			pi->cfg.valid = pi->cfg.role != 0;
			break;
		}
		if (a >= 0 && !why && (engine__unsupported(s->eng, i) & (1u << a)))
			why = "cannot be fetched at some locations (see the warnings above)";
		if (a >= 0) {
			pi->cfg.arg = a;
			pi->cfg.is_signed = type_signed(pi->type);
			snprintf(pi->argname, sizeof(pi->argname), "%s",
				 engine__arg_name(p, a, nb, sizeof(nb)));
		}
		if (why) {
			memset(&pi->cfg, 0, sizeof(pi->cfg));
			fprintf(stderr, "%s: %s:%s: %s%s%s%s: %s\n", s->s->who, p->provider,
				p->name, not_arg ? "" : "argument '", not_arg ? "" : s->o.arg,
				not_arg ? "" : "' ", why,
				s->o.mode == STAT_MODE_LATENCY ? "ignored" : "only counted");
		}
		if (pi->cfg.valid)
			valid++;
		if (s->o.mode != STAT_MODE_COUNT) {
			__u32 key = i;

			if (i >= s->probe_cap) {
				if (pi->cfg.valid)
					fprintf(stderr,
						"%s: %s:%s: too many probes found after "
						"start: only counted\n",
						s->s->who, p->provider, p->name);
				pi->cfg.valid = 0;
			} else if (bpf_map_update_elem(pcfg_fd, &key, &pi->cfg, BPF_ANY)) {
				return -errno;
			}
		}
	}
	s->nprobes = n;
	if (relabel(s))
		return -ENOMEM;
	return valid;
}

static uint64_t pcpu_sum(struct stat_ctx *s, int fd, const void *key)
{
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(fd, key, s->pcpu))
		return 0;
	for (int c = 0; c < s->ncpu; c++)
		sum += s->pcpu[c];
	return sum;
}

uint64_t stat_maps__counter(struct stat_ctx *s, uint32_t which)
{
	return pcpu_sum(s, bpf_map__fd(s->skel->maps.counters), &which);
}

static uint64_t pcpu_max(struct stat_ctx *s, int fd, const void *key)
{
	uint64_t max = 0;

	if (bpf_map_lookup_elem(fd, key, s->pcpu))
		return 0;
	for (int c = 0; c < s->ncpu; c++)
		if (s->pcpu[c] > max)
			max = s->pcpu[c];
	return max;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct key_count *)a)->key, &((const struct key_count *)b)->key,
		      sizeof(struct stat_key));
}

static int read_keys(struct stat_ctx *s, struct snapshot *snap)
{
	int fd = bpf_map__fd(s->skel->maps.keys);
	struct stat_key k, next;
	size_t cap = snap->keys_cap;
	bool first = true;

	snap->nkeys = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (snap->nkeys == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			void *nk = realloc(snap->keys, ncap * sizeof(*snap->keys));

			if (!nk)
				return -ENOMEM;
			snap->keys = nk;
			snap->keys_cap = cap = ncap;
		}
		snap->keys[snap->nkeys].key = k;
		snap->keys[snap->nkeys].count = pcpu_sum(s, fd, &k);
		snap->nkeys++;
	}
	if (snap->nkeys) /* keys is NULL until the first key */
		qsort(snap->keys, snap->nkeys, sizeof(*snap->keys), key_cmp);
	return 0;
}

/* Sum over the CPU rows (of @row slots each) of slot @slot. */
static uint64_t rows_sum(const struct stat_ctx *s, const uint64_t *rows, size_t row, size_t slot)
{
	uint64_t sum = 0;

	for (int c = 0; c < s->ncpu; c++)
		sum += __atomic_load_n(&rows[(size_t)c * row + slot], __ATOMIC_RELAXED);
	return sum;
}

int stat_maps__read(struct stat_ctx *s)
{
	struct snapshot *c = &s->cur;
	struct stat_bpf *sk = s->skel;
	size_t nlocs = engine__loc_count(s->eng);

	for (size_t i = 0; i < nlocs && i < s->loc_cap; i++)
		c->counts[i] = rows_sum(s, s->counts_rows, s->loc_cap, i);
	for (__u32 i = 0; i < STAT_CNT__MAX; i++)
		c->counters[i] = stat_maps__counter(s, i);
	switch (s->o.mode) {
	case STAT_MODE_BY:
		return read_keys(s, c);
	case STAT_MODE_HIST:
	case STAT_MODE_LHIST:
		for (size_t p = 0; p < s->nprobes && p < s->probe_cap; p++) {
			if (!s->probes[p].cfg.valid)
				continue;
			for (__u32 b = 0; b < s->nbuckets; b++) {
				size_t key = p * s->nbuckets + b;

				c->hist[key] =
					rows_sum(s, s->hist_rows, s->probe_cap * s->nbuckets, key);
			}
		}
		break;
	case STAT_MODE_LATENCY: {
		__u32 key;

		for (key = 0; key < HIST_LAT_BUCKETS; key++)
			c->lat[key] = pcpu_sum(s, bpf_map__fd(sk->maps.lat_hist), &key);
		key = STAT_LAT_SUM;
		c->lat_sum = pcpu_sum(s, bpf_map__fd(sk->maps.lat_stats), &key);
		key = STAT_LAT_MAX;
		c->lat_max = pcpu_max(s, bpf_map__fd(sk->maps.lat_stats), &key);
		if (!s->o.cumulative && s->o.interval > 0) {
			/* the max of the next interval starts from zero */
			memset(s->pcpu, 0, s->ncpu * sizeof(*s->pcpu));
			bpf_map_update_elem(bpf_map__fd(sk->maps.lat_stats), &key, s->pcpu,
					    BPF_ANY);
		}
		break;
	}
	default:
		break;
	}
	return 0;
}

/* Opens and loads the BPF object sized for the engine's locations. */
uint64_t stat_maps__prev_count(const struct snapshot *prev, const struct stat_key *k)
{
	struct key_count probe, *hit;

	if (!prev->nkeys)
		return 0;
	probe.key = *k;
	hit = bsearch(&probe, prev->keys, prev->nkeys, sizeof(*prev->keys), key_cmp);
	return hit ? hit->count : 0;
}

/*
 * Whether hits go through stat_args: every mode but plain counting, and
 * plain counting with --filter (the filter reads arguments).
 */
static bool reads_args(const struct stat_ctx *s)
{
	return s->o.mode != STAT_MODE_COUNT || filter_set__active(&s->s->filters);
}

/* Maps the rows of @map read-only; *@len: bytes mapped. */
static const uint64_t *map_rows(const struct bpf_map *map, size_t *len)
{
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = ((size_t)bpf_map__max_entries(map) * sizeof(uint64_t) + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, bpf_map__fd(map), 0);
	if (p == MAP_FAILED) {
		*len = 0;
		return NULL;
	}
	return p;
}

static int open_and_load(struct stat_ctx *s)
{
	struct bpf_program *prog, *unused;
	size_t hist_row;
	int err;

	s->skel = stat_bpf__open();
	if (!s->skel)
		return -errno;
	err = filter_set__prepare(&s->s->filters, s->skel->maps.filter_progs,
				  s->skel->maps.filter_counts);
	if (err < 0)
		return err;
	s->skel->rodata->filter_on = err;
	s->skel->rodata->mode = s->o.mode;
	s->skel->rodata->by = s->o.by;
	s->skel->rodata->nbuckets = s->nbuckets;
	s->skel->rodata->lmin = s->o.lmin;
	s->skel->rodata->lmax = s->o.lmax;
	s->skel->rodata->lstep = s->o.lstep;
	s->skel->rodata->lat_match = s->o.arg && s->o.mode == STAT_MODE_LATENCY;
	s->skel->rodata->lat_div = s->o.unit_div;
	stat_export__before_load(s);
	bpf_map__set_max_entries(s->skel->maps.locs, reads_args(s) ? s->loc_cap : 1);
	hist_row = s->o.mode == STAT_MODE_HIST || s->o.mode == STAT_MODE_LHIST
			   ? s->probe_cap * s->nbuckets
			   : 1;
	if ((uint64_t)s->ncpu * s->loc_cap > UINT32_MAX ||
	    (uint64_t)s->ncpu * hist_row > UINT32_MAX)
		return -E2BIG;
	s->skel->rodata->ncpu_rows = s->ncpu;
	s->skel->rodata->count_row = s->loc_cap;
	s->skel->rodata->hist_row = hist_row;
	bpf_map__set_max_entries(s->skel->maps.counts, s->ncpu * s->loc_cap);
	bpf_map__set_max_entries(s->skel->maps.hist, s->ncpu * hist_row);
	/* maps a mode does not use get one entry: 100 000 per-CPU slots cost seconds to make */
	bpf_map__set_max_entries(s->skel->maps.pcfg,
				 s->o.mode != STAT_MODE_COUNT ? s->probe_cap : 1);
	bpf_map__set_max_entries(s->skel->maps.keys, s->o.mode == STAT_MODE_BY ? s->o.max_keys : 1);
	bpf_map__set_max_entries(s->skel->maps.starts,
				 s->o.mode == STAT_MODE_LATENCY ? s->o.max_keys : 1);
	if (s->o.by == STAT_BY_USTACK) {
		/* a stack map larger than the keys: fewer bucket collisions (-EEXIST) */
		bpf_map__set_max_entries(s->skel->maps.ustack_counts, s->o.max_keys);
		bpf_map__set_max_entries(s->skel->maps.ustacks, s->o.max_keys * 2);
		bpf_map__set_value_size(s->skel->maps.ustacks, 8 * s->o.ustack_depth);
		bpf_map__set_max_entries(s->skel->maps.ustack_pids, USTACK_PIDS);
		bpf_map__set_max_entries(s->skel->maps.ustack_new, USTACK_NEW_RING);
	}
	/* plain counting needs no argument: the minimal program keeps hits cheap */
	prog = s->skel->progs.stat_count;
	unused = s->skel->progs.stat_args;
	if (reads_args(s)) {
		prog = s->skel->progs.stat_args;
		unused = s->skel->progs.stat_count;
	}
	bpf_program__set_autoload(unused, false);
	if (s->o.by == STAT_BY_USTACK) {
		bpf_program__set_autoload(prog, false);
		prog = s->skel->progs.stat_ustack;
		if (s->s->o.verbose)
			fprintf(stderr,
				"%s: --by ustack: %u frames per stack, counted by the "
				"non-sleepable stat_ustack program (stack map)\n",
				s->s->who, s->o.ustack_depth);
	} else {
		bpf_program__set_autoload(s->skel->progs.stat_ustack, false);
	}
	if (s->s->mode == ENGINE_ATTACH_MULTI)
		bpf_program__set_expected_attach_type(prog, KERNEL_BPF_TRACE_UPROBE_MULTI);
	err = stat_bpf__load(s->skel);
	if (err)
		return -(errno ? errno : EINVAL);
	s->counts_rows = map_rows(s->skel->maps.counts, &s->counts_len);
	s->hist_rows = map_rows(s->skel->maps.hist, &s->hist_len);
	return s->counts_rows && s->hist_rows ? 0 : -errno;
}

static void snapshot_free(struct snapshot *sn)
{
	free(sn->counts);
	free(sn->hist);
	free(sn->keys);
}

static int snapshot_alloc(struct stat_ctx *s, struct snapshot *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->counts = calloc(s->loc_cap, sizeof(*sn->counts));
	sn->hist = calloc(s->probe_cap * s->nbuckets, sizeof(*sn->hist));
	return sn->counts && sn->hist ? 0 : -ENOMEM;
}

int stat_maps__load(struct stat_ctx *s)
{
	bool target = session__has_target(s->s);
	int err;

	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0)
		return -EINVAL;
	s->pcpu = calloc(s->ncpu, sizeof(*s->pcpu));
	s->loc_cap = engine__loc_count(s->eng) + (target ? TARGET_EXTRA_LOCS : 0);
	s->probe_cap = engine__probe_count(s->eng) + (target ? TARGET_EXTRA_PROBES : 0);
	if (!s->loc_cap)
		s->loc_cap = 1;
	if (!s->probe_cap)
		s->probe_cap = 1;
	s->nbuckets = s->o.mode == STAT_MODE_HIST ? HIST_LOG2_BUCKETS
		      : s->o.mode == STAT_MODE_LHIST
			      ? hist_linear_count(s->o.lmin, s->o.lmax, s->o.lstep)
			      : 1;
	if (!s->pcpu || snapshot_alloc(s, &s->prev) || snapshot_alloc(s, &s->cur))
		return -ENOMEM;
	err = open_and_load(s);
	if (!err && s->o.by == STAT_BY_USTACK)
		err = stat_ustack__init(s);
	if (err)
		return err;
	return stat_maps__configure(s);
}

struct bpf_program *stat_maps__prog(const struct stat_ctx *s)
{
	if (s->o.by == STAT_BY_USTACK)
		return s->skel->progs.stat_ustack;
	return reads_args(s) ? s->skel->progs.stat_args : s->skel->progs.stat_count;
}

int stat_maps__locs_fd(const struct stat_ctx *s)
{
	/* counting reads no argument: no spec is stored (engine__attach) */
	if (s->o.by == STAT_BY_USTACK)
		return -1; /* stacks read no argument */
	return reads_args(s) ? bpf_map__fd(s->skel->maps.locs) : -1;
}

void stat_maps__free(struct stat_ctx *s)
{
	stat_ustack__free(s);
	if (s->counts_len)
		munmap((void *)s->counts_rows, s->counts_len);
	if (s->hist_len)
		munmap((void *)s->hist_rows, s->hist_len);
	s->counts_len = s->hist_len = 0;
	stat_bpf__destroy(s->skel);
	s->skel = NULL;
	for (size_t i = 0; i < s->nprobes; i++)
		free(s->probes[i].label);
	free(s->probes);
	snapshot_free(&s->prev);
	snapshot_free(&s->cur);
	free(s->pcpu);
}
