// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Symbolizer for user stacks (symbolize.h), on elfutils' libdwfl.
 *
 * Why one Dwfl per object rather than libdwfl's per-process reporting
 * (dwfl_linux_proc_report): a library mapped by a hundred processes is
 * then read once, and we choose how files are opened. libdwfl's own
 * reporter opens the paths /proc/PID/maps names, which the target
 * controls: a FIFO or a blocking device swapped onto a mapped path would
 * hang the tracer, a replaced file would give wrong symbols, and a memfd
 * has no path at all. Here each object is opened by us, through
 * /proc/PID/map_files/START-END (the mapped file itself, deleted or memfd
 * included) or else the path checked against the mapping's (dev, inode),
 * always O_NONBLOCK, and handed to libdwfl only when fstat() says it is a
 * regular file. Separate debug files are looked up by build id under
 * /usr/lib/debug only (no debuglink next to a target-controlled path, no
 * debuginfod network access), with the same checks.
 *
 * Each object is reported at its link-time addresses (bias 0); a process
 * snapshot maps a runtime address to the object's address space through
 * the PT_LOAD segment its mapping covers. The snapshot is taken when a
 * process is first seen and kept (with the objects open) after the
 * process exits, so late symbolization (stat prints at the end) works;
 * an address outside every mapping triggers a re-read of the maps, rate
 * limited, in case an object was loaded since.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "symbolize.h"

#define DEBUG_ROOT "/usr/lib/debug/.build-id/"
#define DEFAULT_REFRESH_MS 20

/* One resolved address of an object (key: the looked-up object address). */
struct sym_entry {
	uint64_t key; /* 0: empty slot (address 0 is never looked up) */
	const char *name; /* in the ELF's string table, NULL: no symbol */
	uint64_t start; /* symbol's start, object address */
	const char *file; /* owned by libdw, NULL: unknown or not asked for */
	int line;
};

struct sym_object {
	dev_t dev;
	ino_t ino;
	unsigned int refs; /* process snapshots mapping it */
	Dwfl *dwfl; /* NULL: could not be opened or read */
	Dwfl_Module *mod;
	GElf_Phdr *loads; /* PT_LOAD headers */
	size_t nloads;
	struct sym_entry *cache;
	size_t cache_cap; /* power of two */
	size_t cache_len;
	struct sym_object *next;
};

struct sym_map {
	uint64_t start, end, pgoff;
	dev_t dev;
	ino_t ino;
	char *path; /* as maps names it */
	struct sym_object *obj; /* NULL: not an object we could read */
	int64_t delta; /* object address = runtime address + delta (when obj) */
	bool moved; /* its path and object went to a newer snapshot */
};

struct sym_proc {
	pid_t pid;
	struct sym_map *maps; /* sorted by start */
	size_t nmaps;
	/*
	 * Mappings gone from a later snapshot (a dlclose'd library, an
	 * unloaded runtime provider): still searched, newest last, so stacks
	 * captured before the unload resolve; and they keep the strings and
	 * objects frames already handed out point into.
	 */
	struct sym_map *retired;
	size_t nretired;
	uint64_t read_ns; /* when maps were last read (0: never succeeded) */
	struct sym_proc *next;
};

struct symbolizer {
	struct sym_object *objects;
	struct sym_proc *procs;
	int refresh_ms;
	bool lines;
	struct symbolizer_stats st;
	Dwfl_Callbacks cb;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Opens @path without blocking; only a regular file (of @dev/@ino when @check). */
static int open_regular(const char *path, bool check, dev_t dev, ino_t ino)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (check && (st.st_dev != dev || st.st_ino != ino))) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/*
 * Separate debug file by build id, /usr/lib/debug/.build-id/xx/rest.debug:
 * a root-owned tree, not a path the target chose. libdwfl owns the fd.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const unsigned char *id;
	char path[sizeof(DEBUG_ROOT) + 2 * 64 + 16], *p;
	GElf_Addr vaddr;
	int len, fd;

	(void)userdata, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc;
	len = dwfl_module_build_id(mod, &id, &vaddr);
	if (len < 2 || len > 64)
		return -1;
	p = path + snprintf(path, sizeof(path), "%s%02x/", DEBUG_ROOT, id[0]);
	for (int i = 1; i < len; i++)
		p += snprintf(p, 3, "%02x", id[i]);
	strcpy(p, ".debug");
	fd = open_regular(path, false, 0, 0);
	if (fd < 0)
		return -1;
	*debuginfo_file_name = strdup(path);
	return fd;
}

/* Every object is reported with its fd: libdwfl never has to find one. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	(void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)elfp;
	return -1;
}

static void object_free(struct sym_object *o)
{
	if (o->dwfl)
		dwfl_end(o->dwfl); /* closes the fd it was given */
	free(o->loads);
	free(o->cache);
	free(o);
}

/* Reads @fd's program headers and reports it to a Dwfl of its own. */
static int object_load(struct symbolizer *s, struct sym_object *o, int fd, const char *name)
{
	GElf_Addr bias;
	Elf *elf;
	size_t phnum;
	int err = 0;

	o->dwfl = dwfl_begin(&s->cb);
	if (!o->dwfl) {
		close(fd);
		return -ENOMEM;
	}
	dwfl_report_begin(o->dwfl);
	o->mod = dwfl_report_elf(o->dwfl, name, name, fd, 0, true);
	if (!o->mod) {
		close(fd); /* not consumed on failure */
		err = -ENOEXEC;
		goto fail;
	}
	dwfl_report_end(o->dwfl, NULL, NULL);
	elf = dwfl_module_getelf(o->mod, &bias);
	if (!elf || elf_getphdrnum(elf, &phnum)) {
		err = -ENOEXEC;
		goto fail;
	}
	o->loads = calloc(phnum ? phnum : 1, sizeof(*o->loads));
	if (!o->loads) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD)
			o->loads[o->nloads++] = ph;
	}
	return 0;
fail:
	dwfl_end(o->dwfl);
	o->dwfl = NULL;
	o->mod = NULL;
	free(o->loads);
	o->loads = NULL;
	o->nloads = 0;
	return err;
}

/*
 * The cached object of (dev, ino), or a new one opened from @pid's mapping
 * [start, end) of @path. An object that cannot be opened is cached too (no
 * Dwfl): its frames show the path. NULL only when out of memory.
 */
static struct sym_object *object_get(struct symbolizer *s, pid_t pid, const struct sym_map *m,
				     dev_t dev, ino_t ino)
{
	static const char deleted[] = " (deleted)";
	char mf[96], *root = NULL;
	struct sym_object *o;
	size_t plen;
	int fd;

	for (o = s->objects; o; o = o->next)
		if (o->dev == dev && o->ino == ino)
			return o;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->dev = dev;
	o->ino = ino;
	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	/* map_files is the mapped file itself: no (dev, ino) check needed */
	fd = open_regular(mf, false, 0, 0);
	plen = strlen(m->path);
	if (fd < 0 && !(plen > sizeof(deleted) - 1 &&
			!strcmp(m->path + plen - (sizeof(deleted) - 1), deleted))) {
		fd = open_regular(m->path, true, dev, ino);
		if (fd < 0 && asprintf(&root, "/proc/%d/root%s", (int)pid, m->path) >= 0)
			fd = open_regular(root, true, dev, ino);
	}
	free(root);
	if (fd >= 0 && object_load(s, o, fd, m->path) == -ENOMEM) {
		free(o);
		return NULL;
	}
	o->next = s->objects;
	s->objects = o;
	s->st.objects++;
	return o;
}

static void object_unref(struct symbolizer *s, struct sym_object *o)
{
	struct sym_object **pp;

	if (!o || --o->refs)
		return;
	for (pp = &s->objects; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	}
	s->st.objects--;
	object_free(o);
}

/* Object address of the mapping's start: through the PT_LOAD holding its file offset. */
static bool map_delta(const struct sym_object *o, struct sym_map *m)
{
	long page = sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < o->nloads; i++) {
		const GElf_Phdr *ph = &o->loads[i];
		uint64_t off0 = ph->p_offset & ~(uint64_t)(page - 1);

		if (m->pgoff < off0 || m->pgoff >= ph->p_offset + ph->p_filesz)
			continue;
		/* p_vaddr - p_offset is page-congruent: one delta for the whole segment */
		m->delta = (int64_t)(ph->p_vaddr - ph->p_offset + m->pgoff) - (int64_t)m->start;
		return true;
	}
	return false;
}

static void maps_free(struct symbolizer *s, struct sym_map *maps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		object_unref(s, maps[i].obj);
		free(maps[i].path);
	}
	free(maps);
}

static int read_maps(pid_t pid, char **out)
{
	size_t cap = 16384, len = 0;
	char path[64], *buf, *tmp;
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (cap - len < 4096) {
			tmp = realloc(buf, cap * 2);
			if (!tmp) {
				err = -ENOMEM;
				break;
			}
			buf = tmp;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno == ENOENT ? -ESRCH : -errno;
			break;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	if (!err && !len)
		err = -ESRCH; /* a zombie: no address space any more */
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* The entry of @p's current snapshot that is this very mapping, or NULL. */
static struct sym_map *same_map(struct sym_proc *p, uint64_t start, uint64_t end, uint64_t pgoff,
				dev_t dev, ino_t ino, const char *path)
{
	size_t lo = 0, hi = p->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct sym_map *m = &p->maps[mid];

		if (start < m->start) {
			hi = mid;
		} else if (start > m->start) {
			lo = mid + 1;
		} else {
			if (m->moved || m->end != end || m->pgoff != pgoff || m->dev != dev ||
			    m->ino != ino || !m->path != !*path ||
			    (m->path && strcmp(m->path, path)))
				return NULL;
			return m;
		}
	}
	return NULL;
}

/* Moves what the new snapshot did not take over from @p's current one to retired. */
static int retire(struct sym_proc *p)
{
	size_t keep = 0;
	struct sym_map *r;

	for (size_t i = 0; i < p->nmaps; i++)
		keep += !p->maps[i].moved;
	if (!keep)
		return 0;
	r = realloc(p->retired, (p->nretired + keep) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->retired = r;
	for (size_t i = 0; i < p->nmaps; i++)
		if (!p->maps[i].moved)
			r[p->nretired++] = p->maps[i];
	return 0;
}

/*
 * Builds @p's mapping table from a fresh read of its maps; keeps the old
 * one on error. Mappings unchanged since the last snapshot are taken over
 * as they are (no allocation, their strings stay where they are).
 */
static int proc_refresh(struct symbolizer *s, struct sym_proc *p)
{
	struct sym_map *maps = NULL, *tmp, *old;
	size_t n = 0, cap = 0;
	char *buf = NULL, *line, *next;
	int err;

	err = read_maps(p->pid, &buf);
	p->read_ns = now_ns();
	if (err)
		return err;
	s->st.maps_reads++;
	for (line = buf; *line; line = next) {
		unsigned long long start, end, pgoff, inode;
		unsigned int major, minor;
		char perms[8];
		int pos = 0;
		struct sym_map *m;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &major, &minor, &inode, &pos) < 7 ||
		    !pos || !strchr(perms, 'x'))
			continue; /* return addresses are in executable mappings */
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			tmp = realloc(maps, cap * sizeof(*maps));
			if (!tmp) {
				err = -ENOMEM;
				goto fail;
			}
			maps = tmp;
		}
		m = &maps[n];
		old = same_map(p, start, end, pgoff, makedev(major, minor), inode, line + pos);
		if (old) {
			*m = *old;
			old->moved = true;
			n++;
			continue;
		}
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->pgoff = pgoff;
		m->dev = makedev(major, minor);
		m->ino = inode;
		m->path = line[pos] ? strdup(line + pos) : NULL; /* NULL: anonymous (JIT code) */
		if (line[pos] && !m->path) {
			err = -ENOMEM;
			goto fail;
		}
		n++;
		if (!inode || line[pos] != '/')
			continue; /* [vdso], anonymous: no file to read */
		m->obj = object_get(s, p->pid, m, m->dev, inode);
		if (!m->obj) {
			err = -ENOMEM;
			goto fail;
		}
		m->obj->refs++;
		if (!m->obj->dwfl || !map_delta(m->obj, m)) {
			object_unref(s, m->obj);
			m->obj = NULL;
		}
	}
	free(buf);
	err = retire(p);
	if (err)
		goto undo;
	free(p->maps);
	p->maps = maps;
	p->nmaps = n;
	return 0;
undo:
	/* free what is new; what was taken over stays with the old snapshot */
	for (size_t i = 0; i < n; i++) {
		bool taken = false;

		for (size_t j = 0; j < p->nmaps && !taken; j++)
			taken = p->maps[j].moved && p->maps[j].start == maps[i].start &&
				p->maps[j].path == maps[i].path && p->maps[j].obj == maps[i].obj;
		if (!taken) {
			object_unref(s, maps[i].obj);
			free(maps[i].path);
		}
	}
	for (size_t j = 0; j < p->nmaps; j++)
		p->maps[j].moved = false;
	free(maps);
	return err;
fail:
	free(buf);
	goto undo;
}

static struct sym_proc *proc_find(struct symbolizer *s, pid_t pid)
{
	for (struct sym_proc *p = s->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static struct sym_proc *proc_get(struct symbolizer *s, pid_t pid, int *err)
{
	struct sym_proc *p = proc_find(s, pid);

	*err = 0;
	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->pid = pid;
	p->next = s->procs;
	s->procs = p;
	*err = proc_refresh(s, p);
	return p;
}

struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts)
{
	struct symbolizer *s;

	if (opts && opts->sz < sizeof(size_t) + sizeof(int)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->refresh_ms = opts && opts->refresh_ms ? opts->refresh_ms : DEFAULT_REFRESH_MS;
	if (opts && opts->sz >= offsetof(struct symbolizer_opts, lines) + sizeof(opts->lines))
		s->lines = opts->lines;
	s->cb.find_elf = find_elf;
	s->cb.find_debuginfo = find_debuginfo;
	s->cb.section_address = dwfl_offline_section_address;
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	while (s->procs)
		symbolizer__forget_pid(s, s->procs->pid);
	while (s->objects) {
		struct sym_object *o = s->objects;

		s->objects = o->next;
		object_free(o);
	}
	free(s);
}

int symbolizer__add_pid(struct symbolizer *s, pid_t pid)
{
	struct sym_proc *p;
	int err;

	if (pid <= 0)
		return -EINVAL;
	p = proc_find(s, pid);
	if (p)
		return proc_refresh(s, p);
	p = proc_get(s, pid, &err);
	return p ? err : -ENOMEM;
}

void symbolizer__forget_pid(struct symbolizer *s, pid_t pid)
{
	struct sym_proc **pp, *p;

	for (pp = &s->procs; *pp; pp = &(*pp)->next) {
		p = *pp;
		if (p->pid != pid)
			continue;
		*pp = p->next;
		maps_free(s, p->maps, p->nmaps);
		maps_free(s, p->retired, p->nretired);
		free(p);
		return;
	}
}

static const struct sym_map *map_find(const struct sym_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nmaps;

	/* /proc/PID/maps lists mappings in address order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	for (size_t i = p->nretired; i-- > 0;)
		if (addr >= p->retired[i].start && addr < p->retired[i].end)
			return &p->retired[i];
	return NULL;
}

static int cache_grow(struct sym_object *o)
{
	size_t cap = o->cache_cap ? 2 * o->cache_cap : 256;
	struct sym_entry *c = calloc(cap, sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < o->cache_cap; i++) {
		struct sym_entry *e = &o->cache[i];
		size_t h;

		if (!e->key)
			continue;
		for (h = (e->key * 0x9e3779b97f4a7c15ull) >> 32;; h++)
			if (!c[h & (cap - 1)].key)
				break;
		c[h & (cap - 1)] = *e;
	}
	free(o->cache);
	o->cache = c;
	o->cache_cap = cap;
	return 0;
}

/* The symbol at object address @key: from the cache, else from libdwfl (then cached). */
static const struct sym_entry *object_lookup(struct symbolizer *s, struct sym_object *o,
					     uint64_t key)
{
	const char *name;
	GElf_Off off = 0;
	GElf_Sym sym;
	struct sym_entry *e;
	size_t h;

	if (!key)
		return NULL;
	if (o->cache_cap) {
		for (h = (key * 0x9e3779b97f4a7c15ull) >> 32;; h++) {
			e = &o->cache[h & (o->cache_cap - 1)];
			if (!e->key)
				break;
			if (e->key == key) {
				s->st.cache_hits++;
				return e;
			}
		}
	}
	if ((o->cache_len + 1) * 4 > o->cache_cap * 3 && cache_grow(o))
		return NULL;
	name = dwfl_module_addrinfo(o->mod, key, &off, &sym, NULL, NULL, NULL);
	for (h = (key * 0x9e3779b97f4a7c15ull) >> 32;; h++) {
		e = &o->cache[h & (o->cache_cap - 1)];
		if (!e->key)
			break;
	}
	e->key = key;
	e->name = name && *name ? name : NULL;
	e->start = key - off;
	if (s->lines) {
		Dwfl_Line *l = dwfl_module_getsrc(o->mod, key);

		if (l)
			e->file = dwfl_lineinfo(l, NULL, &e->line, NULL, NULL, NULL);
	}
	o->cache_len++;
	return e;
}

int symbolizer__symbolize(struct symbolizer *s, pid_t pid, const uint64_t *addrs, size_t n,
			  struct sym_frame *frames)
{
	struct sym_proc *p;
	int err, resolved = 0;

	p = proc_get(s, pid, &err);
	if (!p)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct sym_frame *f = &frames[i];
		const struct sym_map *m = map_find(p, addrs[i]);
		const struct sym_entry *e;
		uint64_t a, back = i ? 1 : 0;

		s->st.lookups++;
		memset(f, 0, sizeof(*f));
		f->addr = addrs[i];
		if (!m && s->refresh_ms > 0 &&
		    now_ns() - p->read_ns >= s->refresh_ms * 1000000ull) {
			/* maybe mapped since the snapshot; a gone process keeps its old one */
			err = proc_refresh(s, p);
			if (err == -ENOMEM)
				return err;
			m = map_find(p, addrs[i]);
		}
		if (!m) {
			f->kind = p->nmaps ? SYM_FRAME_NOT_CODE : SYM_FRAME_UNKNOWN;
			continue;
		}
		f->object = m->path;
		f->kind = m->path ? SYM_FRAME_OBJECT : SYM_FRAME_ANON;
		if (!m->obj)
			continue;
		a = addrs[i] + m->delta;
		f->obj_vaddr = a;
		e = object_lookup(s, m->obj, a - back);
		if (e && e->file && e->line > 0) {
			f->file = e->file;
			f->line = e->line;
		}
		if (!e || !e->name)
			continue;
		f->symbol = e->name;
		f->offset = a - e->start;
		f->kind = SYM_FRAME_SYMBOL;
		resolved++;
	}
	return resolved;
}

void symbolizer__stats(const struct symbolizer *s, struct symbolizer_stats *st)
{
	*st = s->st;
}
