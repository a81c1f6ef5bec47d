/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Runtime providers: the public API of libusdtkit (see provider.h).
 *
 * Loading builds the provider's ELF object (image.c) into a sealed memfd
 * and dlopen()s it through /proc/<pid>/fd/<fd>. The pid, not "self", goes
 * into the path on purpose: ld.so records the path in the link map, and
 * gdb, attached from another process, opens exactly that path to read the
 * probes. The fd stays open while loaded, so tracers can also reach the
 * object through /proc/PID/fd or /proc/PID/map_files. Where memfd fails
 * (old kernel, memfd exec forbidden, no /proc), the object goes to a file
 * created O_EXCL in a private 0700 mkdtemp() directory, removed at unload
 * and, for whatever is still loaded, at exit.
 *
 * Firing safely against concurrent unload. A fire reads two things that
 * unload takes away: the semaphore and the stub's code.
 *
 *  - Semaphores. Each provider owns a stable, page-aligned semaphore area
 *    (anonymous memory) for its whole life, and every probe's semaphore
 *    pointer points into it and never changes. Load maps the object's
 *    .probes pages (MAP_PRIVATE, writable) from the object's fd over that
 *    area with MAP_FIXED; the kernel's ref_ctr update then lands there,
 *    because it is the only writable private mapping of those file pages
 *    (the object's own PT_LOAD for .probes is read-only, image.c). Unload
 *    maps fresh anonymous zero pages back with MAP_FIXED. Either mapping
 *    replacement is atomic for other threads, so a reader always reads
 *    mapped memory: the semaphore or zero. That is what makes the
 *    lock-free inline is-enabled check in provider.h safe. (Pointing the
 *    probes at ld.so's own mapping of .probes would not be: dlclose()
 *    unmaps it under a reader's feet. The price: tools that write the
 *    semaphore at its note address via ptrace or /proc/PID/mem, instead
 *    of through the kernel's ref_ctr, write ld.so's read-only copy and do
 *    not enable the probe.)
 *
 *  - Stubs. Only traced fires (semaphore non-zero) call a stub. They
 *    announce themselves in the provider's in-flight counter before they
 *    read the probe's stub pointer (both sequentially consistent). Unload
 *    clears every stub pointer, then waits for the counter to drain before
 *    dlclose(): a fire that saw a non-NULL stub had already incremented
 *    the counter before the pointer was cleared, so unload waits for it;
 *    a later fire sees NULL and returns. Untraced fires never touch the
 *    counter, so they stay one load and a branch.
 *
 * Lifecycle calls of one provider are serialized by its mutex; nothing on
 * the fire path takes it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define PAGE_SIZE_MIN 4096ul
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define SEMA_AREA_SIZE (USDT_PROVIDER_MAX_PROBES * sizeof(unsigned short))

struct usdt_provider {
	char name[USDT_NAME_MAX];
	pthread_mutex_t lock;
	struct usdt_probe **probes;
	size_t nprobes, cap;
	int nop; /* resolved probe instruction */
	bool no_memfd;
	int wait_ms; /* announce wait bound, 0 = none (announce.c) */
	void *image; /* the last image built for this probe set, or NULL */
	size_t image_len;
	struct image_layout image_lay;
	void *sema_area; /* SEMA_AREA_SIZE bytes, page aligned, lives until free */
	atomic_long inflight; /* traced fires currently inside a stub */

	/* Loaded state, under lock. */
	bool loaded;
	void *handle;
	int fd;
	size_t sema_mapped; /* bytes of sema_area mapped from fd */
	unsigned int probe_off;
	char *tmp_path, *tmp_dir; /* fallback file, NULL for memfd */
	struct usdt_provider *tmp_next; /* in tmp_list while tmp_path is set */
};

static void image_forget(struct usdt_provider *prov);

static int fail(int err)
{
	errno = -err;
	return err;
}

static void *fail_ptr(int err)
{
	errno = -err;
	return NULL;
}

static int check_name(const char *s)
{
	size_t len;

	if (!s || !*s)
		return -EINVAL;
	len = strnlen(s, USDT_NAME_MAX);
	if (len >= USDT_NAME_MAX)
		return -ENAMETOOLONG;
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return -EINVAL;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return -EINVAL;
	}
	return 0;
}

/*
 * Copies a caller's options struct (libbpf style, see provider.h) into
 * @out of @out_sz bytes, of which the library knows the first @known (the
 * end of its last field). A newer caller's struct is accepted only when
 * every byte past @known is zero: an option this library does not
 * implement fails with -EINVAL instead of being ignored.
 */
int usdt_opts__copy(void *out, size_t out_sz, size_t known, const void *opts)
{
	const unsigned char *p = opts;
	size_t sz;

	memset(out, 0, out_sz);
	if (!opts)
		return 0;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return -EINVAL;
	memcpy(out, opts, sz < known ? sz : known);
	((size_t *)out)[0] = out_sz;
	return 0;
}

#define OPTS_COPY(out, opts, last) \
	usdt_opts__copy(out, sizeof(*(out)), offsetofend(__typeof__(*(out)), last), opts)

/* ------------------------------------------------------------------ */
/* Fallback files and their removal at exit                            */
/* ------------------------------------------------------------------ */

static pthread_mutex_t tmp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct usdt_provider *tmp_list;
static pthread_once_t tmp_once = PTHREAD_ONCE_INIT;

static void tmp_cleanup_at_exit(void)
{
	pthread_mutex_lock(&tmp_lock);
	for (struct usdt_provider *p = tmp_list; p; p = p->tmp_next) {
		unlink(p->tmp_path);
		rmdir(p->tmp_dir);
	}
	pthread_mutex_unlock(&tmp_lock);
}

static void tmp_register_atexit(void)
{
	atexit(tmp_cleanup_at_exit);
}

static void tmp_forget(struct usdt_provider *prov)
{
	struct usdt_provider **pp;

	if (!prov->tmp_path)
		return;
	pthread_mutex_lock(&tmp_lock);
	for (pp = &tmp_list; *pp; pp = &(*pp)->tmp_next) {
		if (*pp == prov) {
			*pp = prov->tmp_next;
			break;
		}
	}
	pthread_mutex_unlock(&tmp_lock);
	unlink(prov->tmp_path);
	rmdir(prov->tmp_dir);
	free(prov->tmp_path);
	free(prov->tmp_dir);
	prov->tmp_path = prov->tmp_dir = NULL;
}

static int tmp_create(struct usdt_provider *prov)
{
	const char *tmp = secure_getenv("TMPDIR");
	char *dir = NULL, *path = NULL;
	int fd = -1, err;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	pthread_once(&tmp_once, tmp_register_atexit);
	if (asprintf(&dir, "%s/usdtkit-XXXXXX", tmp) < 0) {
		dir = NULL;
		err = -ENOMEM;
		goto err_free;
	}
	if (!mkdtemp(dir)) { /* mode 0700 */
		err = -errno;
		goto err_free;
	}
	if (asprintf(&path, "%s/%s.so", dir, prov->name) < 0) {
		path = NULL;
		err = -ENOMEM;
		goto err_rmdir;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		goto err_rmdir;
	}
	prov->tmp_dir = dir;
	prov->tmp_path = path;
	pthread_mutex_lock(&tmp_lock);
	prov->tmp_next = tmp_list;
	tmp_list = prov;
	pthread_mutex_unlock(&tmp_lock);
	return fd;

err_rmdir:
	rmdir(dir);
err_free:
	free(dir);
	free(path);
	return err;
}

/* ------------------------------------------------------------------ */
/* Providers                                                           */
/* ------------------------------------------------------------------ */

struct usdt_provider *usdt_provider__new(const char *name, const struct usdt_provider_opts *opts)
{
	struct usdt_provider_opts o;
	struct usdt_provider *prov = NULL;
	int err;

	err = check_name(name);
	if (err)
		goto err;
	err = OPTS_COPY(&o, opts, load_wait_ms);
	if (err)
		goto err;
	if (o.probe_nop != USDT_NOP_AUTO && o.probe_nop != USDT_NOP_1 &&
	    o.probe_nop != USDT_NOP_5 && o.probe_nop != USDT_NOP_10) {
		err = -EINVAL;
		goto err;
	}

	prov = calloc(1, sizeof(*prov));
	if (!prov) {
		err = -ENOMEM;
		goto err;
	}
	strcpy(prov->name, name);
	prov->fd = -1;
	prov->no_memfd = o.no_memfd;
	prov->nop = o.probe_nop;
	prov->wait_ms = usdt_announce__wait_ms(o.load_wait_ms);
	if (!prov->nop)
		prov->nop = usdt_env_probe_nop();
	if (!prov->nop)
		prov->nop = usdt_detect_probe_nop();
	atomic_init(&prov->inflight, 0);
	prov->sema_area = mmap(NULL, SEMA_AREA_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (prov->sema_area == MAP_FAILED) {
		err = -ENOMEM;
		goto err_free;
	}
	err = -pthread_mutex_init(&prov->lock, NULL);
	if (err)
		goto err_unmap;
	return prov;

err_unmap:
	munmap(prov->sema_area, SEMA_AREA_SIZE);
err_free:
	free(prov);
err:
	return fail_ptr(err);
}

static bool valid_type(enum usdt_type t)
{
	return t > USDT_TYPE_NONE && t < USDT_TYPE__MAX;
}

struct usdt_probe *usdt_provider__add_probe(struct usdt_provider *prov, const char *name, int argc,
					    const enum usdt_type *types,
					    const char *const *arg_names)
{
	LIBUSDT_OPTS(usdt_probe_opts, o, .argc = argc, .types = types, .arg_names = arg_names);

	return usdt_provider__add_probe_opts(prov, name, &o);
}

struct usdt_probe *usdt_provider__add_probe_opts(struct usdt_provider *prov, const char *name,
						 const struct usdt_probe_opts *opts)
{
	struct usdt_probe *probe = NULL;
	struct usdt_probe_opts o;
	const enum usdt_type *types;
	const char *const *arg_names;
	int argc, err;

	if (!prov)
		return fail_ptr(-EINVAL);
	err = check_name(name);
	if (err)
		return fail_ptr(err);
	err = OPTS_COPY(&o, opts, arg_names);
	if (err)
		return fail_ptr(err);
	argc = o.argc;
	types = o.types;
	arg_names = o.arg_names;
	if (argc < 0 || (argc > 0 && !types))
		return fail_ptr(-EINVAL);
	if (argc > USDT_MAX_ARGS)
		return fail_ptr(-E2BIG);
	for (int i = 0; i < argc; i++) {
		if (!valid_type(types[i]))
			return fail_ptr(-EINVAL);
		if (arg_names && arg_names[i]) {
			err = check_name(arg_names[i]);
			if (err)
				return fail_ptr(err);
		}
	}

	pthread_mutex_lock(&prov->lock);
	if (prov->loaded) {
		err = -EBUSY;
		goto out;
	}
	for (size_t i = 0; i < prov->nprobes; i++) {
		if (!strcmp(prov->probes[i]->name, name)) {
			err = -EEXIST;
			goto out;
		}
	}
	if (prov->nprobes >= USDT_PROVIDER_MAX_PROBES) {
		err = -ENOSPC;
		goto out;
	}
	if (prov->nprobes == prov->cap) {
		size_t cap = prov->cap ? prov->cap * 2 : 16;
		struct usdt_probe **n = realloc(prov->probes, cap * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
			goto out;
		}
		prov->probes = n;
		prov->cap = cap;
	}
	probe = calloc(1, sizeof(*probe));
	if (!probe) {
		err = -ENOMEM;
		goto out;
	}
	probe->index = (unsigned int)prov->nprobes;
	probe->sema = (const unsigned short *)prov->sema_area + probe->index;
	atomic_init(&probe->stub, NULL);
	probe->provider = prov;
	probe->argc = argc;
	strcpy(probe->name, name);
	for (int i = 0; i < argc; i++) {
		probe->types[i] = types[i];
		if (arg_names && arg_names[i])
			strcpy(probe->arg_names[i], arg_names[i]);
		/* Every argument travels as a 64-bit integer (doubles as bits). */
		probe->ffi_args[i] = &ffi_type_uint64;
	}
	if (ffi_prep_cif(&probe->cif, FFI_DEFAULT_ABI, (unsigned int)argc, &ffi_type_void,
			 probe->ffi_args) != FFI_OK) {
		free(probe);
		probe = NULL;
		err = -ENOTSUP;
		goto out;
	}
	prov->probes[prov->nprobes++] = probe;
	image_forget(prov); /* a new probe set, a new image */
	err = 0;
out:
	pthread_mutex_unlock(&prov->lock);
	return err ? fail_ptr(err) : probe;
}

/*
 * Replaces @len bytes of a provider's semaphore area in one mmap(MAP_FIXED):
 * with the object's .probes pages (@fd >= 0) or with zero pages (@fd < 0).
 * Concurrent readers see the old or the new page, never a hole. TSan models
 * mmap as a plain write racing with those (atomic) reads, so its view of
 * this one intended replacement is switched off here.
 */
#if defined(__SANITIZE_THREAD__)
#define USDT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define USDT_TSAN 1
#endif
#endif
#ifdef USDT_TSAN
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
#endif

static int sema_map(void *addr, size_t len, int fd, off_t off)
{
	int flags = MAP_PRIVATE | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0);
	void *m;

#ifdef USDT_TSAN
	AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
	m = mmap(addr, len, PROT_READ | PROT_WRITE, flags, fd, fd < 0 ? 0 : off);
#ifdef USDT_TSAN
	AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
#endif
	return m == MAP_FAILED ? -errno : 0;
}

static int open_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	/* Kernels before 6.3 do not know MFD_EXEC; it is their default. */
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? -errno : fd;
}

static void close_object(struct usdt_provider *prov)
{
	if (prov->handle)
		dlclose(prov->handle);
	prov->handle = NULL;
	if (prov->fd >= 0)
		close(prov->fd);
	prov->fd = -1;
	tmp_forget(prov);
}

/*
 * dlopen() says why it failed only in dlerror()'s text (glibc restores
 * errno), and that text ends with the failed system call's strerror().
 * Running out of descriptors or of mappings is worth reporting as such
 * (the caller can close something or raise a limit); anything else is the
 * loader rejecting the object. Consuming the text also keeps the library
 * from reporting through dlerror().
 */
static int dlopen_error(void)
{
	static const int errs[] = {EMFILE, ENFILE, ENOMEM};
	const char *msg = dlerror();

	if (!msg)
		return -ENOEXEC;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		const char *d = strerrordesc_np(errs[i]);

		if ((d && strstr(msg, d)) || strstr(msg, strerror(errs[i])))
			return -errs[i];
	}
	if (strstr(msg, "out of memory"))
		return -ENOMEM;
	/*
	 * "failed to map segment" comes without the errno: out of address
	 * space or of mappings, or a noexec memfd (then the file fallback is
	 * the cure). Whether an ordinary mapping still fits tells them apart.
	 */
	if (strstr(msg, "failed to map segment")) {
		void *m = mmap(NULL, 16 * PAGE_SIZE_MIN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (m == MAP_FAILED)
			return -ENOMEM;
		munmap(m, 16 * PAGE_SIZE_MIN);
	}
	return -ENOEXEC;
}

/*
 * The image cache. An object is a pure function of the probe set, which
 * only add_probe (while unloaded) changes: the first load keeps the bytes
 * it built, and later loads write them back in one pwrite() instead of
 * formatting every note again with libelf. That is most of a reload's
 * user-space time. Failing to keep a copy only costs speed.
 */
static void image_forget(struct usdt_provider *prov)
{
	free(prov->image);
	prov->image = NULL;
	prov->image_len = 0;
}

static void image_keep(struct usdt_provider *prov, int fd, const struct image_layout *lay)
{
	struct stat st;
	void *buf;

	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		return;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return;
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return;
	}
	prov->image = buf;
	prov->image_len = (size_t)st.st_size;
	prov->image_lay = *lay;
}

static int image_replay(struct usdt_provider *prov, int fd, struct image_layout *lay)
{
	size_t done = 0;

	while (done < prov->image_len) {
		ssize_t n = pwrite(fd, (const char *)prov->image + done, prov->image_len - done,
				   (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	*lay = prov->image_lay;
	return 0;
}

/* One attempt at building and opening the object; memfd or a file. */
static int open_object(struct usdt_provider *prov, bool memfd, struct image_layout *lay)
{
	struct image_desc desc = {prov->name, prov->probes, prov->nprobes, prov->nop};
	char path[64];
	const char *open_path = path;
	int fd, err;

	fd = memfd ? open_memfd(prov->name) : tmp_create(prov);
	if (fd < 0)
		return fd;
	prov->fd = fd;
	err = prov->image ? image_replay(prov, fd, lay) : usdt_image__write(fd, &desc, lay);
	if (err)
		goto fail;
	if (!prov->image)
		image_keep(prov, fd, lay);
	if (memfd) {
		if (fcntl(fd, F_ADD_SEALS,
			  F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
			err = -errno;
			goto fail;
		}
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), fd);
	} else {
		if (fchmod(fd, 0500) < 0) {
			err = -errno;
			goto fail;
		}
		open_path = prov->tmp_path;
	}
	prov->handle = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
	if (!prov->handle) {
		err = dlopen_error();
		goto fail;
	}
	return 0;
fail:
	close_object(prov);
	return err;
}

static __attribute__((noinline)) void announce_load(struct usdt_provider *prov, uintptr_t base)
{
	char path[USDT_ANNOUNCE_PATH_MAX];

	if (prov->tmp_path)
		snprintf(path, sizeof(path), "%s", prov->tmp_path);
	else
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), prov->fd);
	usdt_announce__load(prov->name, prov->fd, path, base, prov->wait_ms);
}

int usdt_provider__load(struct usdt_provider *prov)
{
	struct image_layout lay;
	struct link_map *lm = NULL;
	size_t map_len;
	int err;

	if (!prov)
		return fail(-EINVAL);
	pthread_mutex_lock(&prov->lock);
	if (prov->loaded) {
		err = -EALREADY;
		goto out;
	}
	if (!prov->nprobes) {
		err = -ENODATA;
		goto out;
	}
	err = prov->no_memfd ? -ENOSYS : open_object(prov, true, &lay);
	/* Out of fds or memory, a file would fail the same way: say so. */
	if (err && err != -EMFILE && err != -ENFILE && err != -ENOMEM)
		err = open_object(prov, false, &lay);
	if (err)
		goto out;
	if (dlinfo(prov->handle, RTLD_DI_LINKMAP, &lm) || !lm) {
		err = -ENOEXEC;
		goto fail;
	}
	map_len = (lay.probes_size + PAGE_SIZE_MIN - 1) & ~(PAGE_SIZE_MIN - 1);
	err = sema_map(prov->sema_area, map_len, prov->fd, (off_t)lay.probes_offset);
	if (err) {
		/* A failed MAP_FIXED may have left a hole: fill it again. */
		sema_map(prov->sema_area, map_len, -1, 0);
		goto fail;
	}
	prov->sema_mapped = map_len;
	prov->probe_off = (unsigned int)lay.probe_off;
	for (size_t i = 0; i < prov->nprobes; i++) {
		uintptr_t stub = lm->l_addr + lay.text_vaddr + i * STUB_STRIDE;

		atomic_store(&prov->probes[i]->stub, (usdt_stub_fn)stub);
	}
	prov->loaded = true;
	err = 0;
	/* Tell a watching tracer (announce.c); free when nobody watches. */
	if (usdt_announce__watched())
		announce_load(prov, lm->l_addr);
	goto out;
fail:
	close_object(prov);
out:
	pthread_mutex_unlock(&prov->lock);
	return err ? fail(err) : 0;
}

static void do_unload(struct usdt_provider *prov)
{
	/*
	 * Zero pages over the semaphores first: untraced fires stop here.
	 * Should the replacement fail, the old private mapping simply stays
	 * (it is still valid memory); traced fires then find no stub below.
	 */
	if (prov->sema_mapped)
		sema_map(prov->sema_area, prov->sema_mapped, -1, 0);
	prov->sema_mapped = 0;
	for (size_t i = 0; i < prov->nprobes; i++)
		atomic_store(&prov->probes[i]->stub, NULL);
	while (atomic_load(&prov->inflight))
		sched_yield();
	close_object(prov);
	prov->loaded = false;
}

int usdt_provider__unload(struct usdt_provider *prov)
{
	int err = 0;

	if (!prov)
		return fail(-EINVAL);
	pthread_mutex_lock(&prov->lock);
	if (prov->loaded)
		do_unload(prov);
	else
		err = -ENOENT;
	pthread_mutex_unlock(&prov->lock);
	return err ? fail(err) : 0;
}

void usdt_provider__free(struct usdt_provider *prov)
{
	if (!prov)
		return;
	pthread_mutex_lock(&prov->lock);
	if (prov->loaded)
		do_unload(prov);
	pthread_mutex_unlock(&prov->lock);
	image_forget(prov);
	for (size_t i = 0; i < prov->nprobes; i++)
		free(prov->probes[i]);
	free(prov->probes);
	munmap(prov->sema_area, SEMA_AREA_SIZE);
	pthread_mutex_destroy(&prov->lock);
	free(prov);
}

const char *usdt_provider__name(const struct usdt_provider *prov)
{
	if (!prov)
		return fail_ptr(-EINVAL);
	return prov->name;
}

bool usdt_provider__loaded(const struct usdt_provider *prov)
{
	bool loaded;

	if (!prov)
		return false;
	pthread_mutex_lock((pthread_mutex_t *)&prov->lock);
	loaded = prov->loaded;
	pthread_mutex_unlock((pthread_mutex_t *)&prov->lock);
	return loaded;
}

int usdt_provider__fd(const struct usdt_provider *prov)
{
	int fd;

	if (!prov)
		return fail(-EINVAL);
	pthread_mutex_lock((pthread_mutex_t *)&prov->lock);
	fd = prov->loaded ? prov->fd : -ENOENT;
	pthread_mutex_unlock((pthread_mutex_t *)&prov->lock);
	return fd < 0 ? fail(fd) : fd;
}

int usdt_provider__probe_nop(const struct usdt_provider *prov)
{
	if (!prov)
		return fail(-EINVAL);
	return prov->nop;
}

/* ------------------------------------------------------------------ */
/* Probes                                                              */
/* ------------------------------------------------------------------ */

const char *usdt_probe__name(const struct usdt_probe *probe)
{
	if (!probe)
		return fail_ptr(-EINVAL);
	return probe->name;
}

int usdt_probe__argc(const struct usdt_probe *probe)
{
	if (!probe)
		return fail(-EINVAL);
	return probe->argc;
}

const void *usdt_probe__address(const struct usdt_probe *probe)
{
	usdt_stub_fn stub;

	if (!probe)
		return fail_ptr(-EINVAL);
	stub = atomic_load(&((struct usdt_probe *)probe)->stub);
	if (!stub)
		return fail_ptr(-ENOENT);
	return (const char *)stub + probe->provider->probe_off;
}

bool(usdt_probe__enabled)(const struct usdt_probe *probe)
{
	return usdt_probe__enabled_inline(probe);
}

/* The traced path: call the stub unless unload has taken it away. */
static void call_stub(struct usdt_probe *probe, const uint64_t *a, bool use_ffi)
{
	struct usdt_provider *prov = probe->provider;
	usdt_stub_fn fn;

	atomic_fetch_add(&prov->inflight, 1);
	fn = atomic_load(&probe->stub);
	if (fn) {
		if (use_ffi) {
			void *av[USDT_MAX_ARGS];

			for (int i = 0; i < probe->argc; i++)
				av[i] = (void *)&a[i];
			ffi_call(&probe->cif, FFI_FN(fn), NULL, av);
		} else {
			fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
			   a[11]);
		}
	}
	atomic_fetch_sub_explicit(&prov->inflight, 1, memory_order_release);
}

static uint64_t read_arg(va_list *ap, enum usdt_type t)
{
	double d;
	uint64_t v;

	switch (t) {
	case USDT_TYPE_INT8:
		return (uint64_t)(int64_t)(int8_t)va_arg(*ap, int);
	case USDT_TYPE_UINT8:
		return (uint8_t)va_arg(*ap, unsigned int);
	case USDT_TYPE_INT16:
		return (uint64_t)(int64_t)(int16_t)va_arg(*ap, int);
	case USDT_TYPE_UINT16:
		return (uint16_t)va_arg(*ap, unsigned int);
	case USDT_TYPE_INT32:
		return (uint64_t)(int64_t)va_arg(*ap, int);
	case USDT_TYPE_UINT32:
		return va_arg(*ap, unsigned int);
	case USDT_TYPE_INT64:
		return (uint64_t)va_arg(*ap, long long);
	case USDT_TYPE_UINT64:
		return va_arg(*ap, unsigned long long);
	case USDT_TYPE_DOUBLE:
		d = va_arg(*ap, double);
		memcpy(&v, &d, sizeof(v));
		return v;
	default: /* string, pointer */
		return (uintptr_t)va_arg(*ap, const void *);
	}
}

/* Out of line so the untraced path stays a check and a return. */
static __attribute__((noinline)) void fire_slow(struct usdt_probe *probe, va_list *ap)
{
	uint64_t a[USDT_MAX_ARGS] = {0};

	for (int i = 0; i < probe->argc; i++)
		a[i] = read_arg(ap, probe->types[i]);
	call_stub(probe, a, false);
}

#if defined(__x86_64__)
/*
 * The exported usdt_probe__fire(), for callers that bypass the header's
 * macro (FFI, function pointers). A C variadic function spills all six
 * argument registers (and eight xmm registers when %al says so) before its
 * first statement, which triples the cost of an untraced fire. This entry
 * tests the semaphore first, exactly like usdt_probe__enabled_inline(),
 * and only when traced tail-jumps to the C variadic function with every
 * register and the stack untouched, so the arguments arrive as passed.
 */
__attribute__((visibility("hidden"))) void usdt__fire_varargs(struct usdt_probe *probe, ...);

__asm__(".text\n"
	".globl usdt_probe__fire\n"
	".type usdt_probe__fire, @function\n"
	".p2align 4\n"
	"usdt_probe__fire:\n"
	"	.cfi_startproc\n"
	"	endbr64\n"
	"	test %rdi, %rdi\n"
	"	je 1f\n"
	"	mov (%rdi), %r11\n" /* probe->sema, the first member */
	"	cmpw $0, (%r11)\n"
	"	jne usdt__fire_varargs\n"
	"1:	ret\n"
	"	.cfi_endproc\n"
	".size usdt_probe__fire, .-usdt_probe__fire\n");

void usdt__fire_varargs(struct usdt_probe *probe, ...)
#else
void(usdt_probe__fire)(struct usdt_probe *probe, ...)
#endif
{
	va_list ap;

	if (!usdt_probe__enabled_inline(probe))
		return;
	va_start(ap, probe);
	fire_slow(probe, &ap);
	va_end(ap);
}

static uint64_t convert_value(const struct usdt_value *v, enum usdt_type t)
{
	uint64_t out;

	switch (t) {
	case USDT_TYPE_INT8:
		return (uint64_t)(int64_t)(int8_t)v->i64;
	case USDT_TYPE_UINT8:
		return (uint8_t)v->u64;
	case USDT_TYPE_INT16:
		return (uint64_t)(int64_t)(int16_t)v->i64;
	case USDT_TYPE_UINT16:
		return (uint16_t)v->u64;
	case USDT_TYPE_INT32:
		return (uint64_t)(int64_t)(int32_t)v->i64;
	case USDT_TYPE_UINT32:
		return (uint32_t)v->u64;
	case USDT_TYPE_DOUBLE:
		memcpy(&out, &v->f64, sizeof(out));
		return out;
	case USDT_TYPE_STRING:
		return (uintptr_t)v->str;
	case USDT_TYPE_POINTER:
		return (uintptr_t)v->ptr;
	default: /* 64-bit integers: same bits either way */
		return v->u64;
	}
}

static __attribute__((noinline)) void fire_values_slow(struct usdt_probe *probe,
						       const struct usdt_value *values, size_t n)
{
	uint64_t a[USDT_MAX_ARGS] = {0};

	for (size_t i = 0; i < n; i++)
		a[i] = convert_value(&values[i], probe->types[i]);
	call_stub(probe, a, true);
}

int usdt_probe__fire_values(struct usdt_probe *probe, const struct usdt_value *values, size_t n)
{
	if (!probe || n != (size_t)probe->argc || (n && !values))
		return fail(-EINVAL);
	/* Checked even when untraced, so a wrong call fails the same way always. */
	for (size_t i = 0; i < n; i++)
		if (values[i].type != USDT_TYPE_NONE && values[i].type != probe->types[i])
			return fail(-EINVAL);
	if (usdt_probe__enabled_inline(probe))
		fire_values_slow(probe, values, n);
	return 0;
}

const char *usdt_strerror(int err)
{
	const char *s;

	if (err == INT_MIN) /* no positive counterpart */
		return "Unknown error";
	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}
