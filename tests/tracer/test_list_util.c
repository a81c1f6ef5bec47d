/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Helpers of the `usdtkit list` tests (see test_list_util.h). */
#include "test_list_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "readelf_notes.h"

static int read_all(int fd, char **out, size_t *out_len)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *tmp;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			tmp = realloc(buf, cap);
			if (!tmp) {
				free(buf);
				return -ENOMEM;
			}
			buf = tmp;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* stdin from @input (NULL: /dev/null); stderr into a memfd read after exit. */
static int run_cmd_input(char *const argv[], const char *input, struct cmd_result *res)
{
	int out_pipe[2], errfd, infd, wstatus, err;
	size_t err_len;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	errfd = memfd_create("stderr", MFD_CLOEXEC);
	if (input) {
		infd = memfd_create("stdin", MFD_CLOEXEC);
		if (infd >= 0 && (write(infd, input, strlen(input)) != (ssize_t)strlen(input) ||
				  lseek(infd, 0, SEEK_SET) != 0)) {
			close(infd);
			infd = -1;
		}
	} else {
		infd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (errfd < 0 || infd < 0 || pipe2(out_pipe, O_CLOEXEC) < 0) {
		err = -errno;
		goto fail;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(out_pipe[0]);
		close(out_pipe[1]);
		goto fail;
	}
	if (pid == 0) {
		dup2(infd, 0);
		dup2(out_pipe[1], 1);
		dup2(errfd, 2);
		setenv("LC_ALL", "C", 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out_pipe[1]);
	close(infd);
	err = read_all(out_pipe[0], &res->out, &res->out_len);
	close(out_pipe[0]);
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	lseek(errfd, 0, SEEK_SET);
	if (!err)
		err = read_all(errfd, &res->err, &err_len);
	close(errfd);
	return err;
fail:
	if (errfd >= 0)
		close(errfd);
	if (infd >= 0)
		close(infd);
	return err;
}

int run_cmd(char *const argv[], struct cmd_result *res)
{
	return run_cmd_input(argv, NULL, res);
}

void cmd_result_free(struct cmd_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

const char *usdtkit_path(void)
{
	static char path[4096];
	const char *build = getenv("USDTKIT_BUILD_DIR");

	if (!build) {
		printf("USDTKIT_BUILD_DIR is not set\n");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/bin/usdtkit", build);
	if (access(path, X_OK)) {
		printf("%s: %s\n", path, strerror(errno));
		return NULL;
	}
	return path;
}

int strlist_add(struct strlist *l, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **items = realloc(l->items, cap * sizeof(*items));

		if (!items) {
			free(copy);
			return -ENOMEM;
		}
		l->items = items;
		l->cap = cap;
	}
	l->items[l->count++] = copy;
	return 0;
}

int strlist_addf(struct strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, err;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	err = strlist_add(l, s);
	free(s);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort(struct strlist *l)
{
	if (l->count)
		qsort(l->items, l->count, sizeof(*l->items), cmp_str);
}

void strlist_uniq(struct strlist *l)
{
	size_t out = 0;

	for (size_t i = 0; i < l->count; i++) {
		if (out && !strcmp(l->items[out - 1], l->items[i])) {
			free(l->items[i]);
			continue;
		}
		l->items[out++] = l->items[i];
	}
	l->count = out;
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

bool strlist_equal(const struct strlist *a, const struct strlist *b, const char *what)
{
	size_t i = 0, j = 0, shown = 0;

	while ((i < a->count || j < b->count) && shown < 10) {
		int c = i == a->count ? 1 : j == b->count ? -1 : strcmp(a->items[i], b->items[j]);

		if (!c) {
			i++;
			j++;
			continue;
		}
		if (c < 0)
			printf("%s: only in the first:  %s\n", what, a->items[i++]);
		else
			printf("%s: only in the second: %s\n", what, b->items[j++]);
		shown++;
	}
	if (a->count != b->count)
		printf("%s: %zu vs %zu entries\n", what, a->count, b->count);
	return !shown && a->count == b->count;
}

/* Address of section @name from "readelf -S --wide", 0 when absent. */
static int section_addr(const char *path, const char *name, uint64_t *addr)
{
	char *argv[] = {"readelf", "-S", "--wide", "--", (char *)path, NULL};
	struct cmd_result res;
	char *line, *save = NULL;
	int err;

	*addr = 0;
	err = run_cmd(argv, &res);
	if (err)
		return err;
	if (res.status) {
		cmd_result_free(&res);
		return -EBADMSG;
	}
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char sname[256], type[64];
		unsigned long long a;
		char *p = strchr(line, ']');

		if (!p || sscanf(p + 1, "%255s %63s %llx", sname, type, &a) != 3)
			continue;
		if (!strcmp(sname, name)) {
			*addr = a;
			break;
		}
	}
	cmd_result_free(&res);
	return 0;
}

/* Collapses runs of spaces and trims, as readelf prints args verbatim. */
static void normalize_args(const char *in, char *out, size_t size)
{
	size_t o = 0;
	bool space = false;

	for (; *in && o + 1 < size; in++) {
		if (*in == ' ' || *in == '\t') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < size)
			out[o++] = ' ';
		space = false;
		out[o++] = *in;
	}
	out[o] = '\0';
}

int readelf_locations(const char *path, const char *prefix, struct strlist *locs,
		      struct strlist *probes)
{
	struct readelf_note *notes = NULL;
	uint64_t base_addr = 0;
	size_t count = 0;
	char args[1024];
	int err;

	if (!readelf_notes_available())
		return 77;
	err = readelf_notes_read(path, &notes, &count);
	if (err)
		return err;
	err = section_addr(path, ".stapsdt.base", &base_addr);
	for (size_t i = 0; !err && i < count; i++) {
		const struct readelf_note *n = &notes[i];
		uint64_t adj = base_addr ? base_addr - n->base : 0;
		uint64_t sema = n->semaphore ? n->semaphore + adj : 0;

		if (strcmp(n->section, ".note.stapsdt"))
			continue;
		normalize_args(n->args, args, sizeof(args));
		err = strlist_addf(locs, "%s|%s:%s@%" PRIx64 " sema=%" PRIx64 " args=%s", prefix,
				   n->provider, n->name, n->location + adj, sema, args);
		if (!err && probes)
			err = strlist_addf(probes, "%s|%s:%s", prefix, n->provider, n->name);
	}
	free(notes);
	return err;
}

/*
 * `list -v` text: "PATH PROVIDER:NAME" (PATH may hold spaces: the probe is
 * the last word), then "  location 0xA (...), semaphore 0xS (...)" or
 * ", no semaphore", then "    argN: SPEC  TYPE ...".
 */
int text_locations(const char *out, struct strlist *locs, struct strlist *probes)
{
	char *copy = strdup(out), *line, *save = NULL;
	char head[4096] = "", cur[8192] = "", args[2048] = "";
	bool have = false;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != ' ') {
			char *sp = strrchr(line, ' ');

			if (have)
				err = strlist_addf(locs, "%s args=%s", cur, args);
			have = false;
			if (!sp)
				return free(copy), -EBADMSG;
			snprintf(head, sizeof(head), "%.*s|%s", (int)(sp - line), line, sp + 1);
			if (probes)
				err = strlist_add(probes, head);
		} else if (!strncmp(line, "  location ", 11)) {
			unsigned long long addr, sema = 0;
			char *s;

			if (have)
				err = strlist_addf(locs, "%s args=%s", cur, args);
			if (sscanf(line + 11, "0x%llx", &addr) != 1)
				return free(copy), -EBADMSG;
			s = strstr(line, ", semaphore 0x");
			if (s && sscanf(s + 14, "%llx", &sema) != 1)
				return free(copy), -EBADMSG;
			snprintf(cur, sizeof(cur), "%s@%llx sema=%llx", head, addr, sema);
			args[0] = '\0';
			have = true;
		} else if (!strncmp(line, "    arg", 7)) {
			char *colon = strchr(line, ':'), *end;
			size_t len = strlen(args);

			if (!colon || colon[1] != ' ')
				return free(copy), -EBADMSG;
			end = strstr(colon + 2, "  ");
			snprintf(args + len, sizeof(args) - len, "%s%.*s", len ? " " : "",
				 end ? (int)(end - colon - 2) : (int)strlen(colon + 2), colon + 2);
		}
	}
	if (!err && have)
		err = strlist_addf(locs, "%s args=%s", cur, args);
	free(copy);
	return err;
}

/* Validates every JSON line against the documented schema and flattens it. */
static const char json_script[] =
	"import json, sys\n"
	"def fail(n, msg):\n"
	"    sys.stderr.write('line %d: %s\\n' % (n, msg)); sys.exit(1)\n"
	"for n, line in enumerate(sys.stdin, 1):\n"
	"    try:\n"
	"        p = json.loads(line)\n"
	"    except ValueError as e:\n"
	"        fail(n, 'not JSON: %s' % e)\n"
	"    if not isinstance(p, dict): fail(n, 'not an object')\n"
	"    for k in ('path', 'provider', 'name'):\n"
	"        if not isinstance(p.get(k), str): fail(n, 'bad ' + k)\n"
	"    if 'pid' in p and not isinstance(p['pid'], int): fail(n, 'bad pid')\n"
	"    if not isinstance(p.get('locations'), list) or not p['locations']: fail(n, 'bad locations')\n"
	"    print('P %s|%s:%s' % (p['path'], p['provider'], p['name']))\n"
	"    for l in p['locations']:\n"
	"        if not isinstance(l.get('address'), int): fail(n, 'bad address')\n"
	"        for k in ('offset', 'semaphore', 'semaphore_offset'):\n"
	"            if k not in l or not (l[k] is None or isinstance(l[k], int)): fail(n, 'bad ' + k)\n"
	"        if (l['semaphore'] is None) != (l['semaphore_offset'] is None): fail(n, 'semaphore offset')\n"
	"        specs = []\n"
	"        for a in l.get('args', None) or []:\n"
	"            if not isinstance(a.get('spec'), str): fail(n, 'bad spec')\n"
	"            op = a.get('operand')\n"
	"            if not isinstance(op, dict) or op.get('kind') not in ('const', 'reg', 'mem', 'invalid'): fail(n, 'bad operand')\n"
	"            if op['kind'] != 'invalid':\n"
	"                if a.get('size') not in (1, 2, 4, 8): fail(n, 'bad size')\n"
	"                if not isinstance(a.get('signed'), bool) or not isinstance(a.get('float'), bool): fail(n, 'bad sign')\n"
	"                sz = a['spec'].split('@')[0]\n"
	"                if sz.lstrip('-').rstrip('f') != str(a['size']) or sz.startswith('-') != a['signed']: fail(n, 'size/sign differ from spec ' + a['spec'])\n"
	"                if not (a['name'] is None or isinstance(a['name'], str)): fail(n, 'bad name')\n"
	"                if not (a['type'] is None or isinstance(a['type'], str)): fail(n, 'bad type')\n"
	"            if op['kind'] == 'reg' and not isinstance(op.get('reg'), str): fail(n, 'bad reg')\n"
	"            if op['kind'] == 'const' and not isinstance(op.get('imm'), int): fail(n, 'bad imm')\n"
	"            if op['kind'] == 'mem' and not isinstance(op.get('disp'), int): fail(n, 'bad disp')\n"
	"            specs.append(a['spec'])\n"
	"        print('L %s|%s:%s@%x sema=%x args=%s' % (p['path'], p['provider'], p['name'], l['address'], l['semaphore'] or 0, ' '.join(specs)))\n";

int json_locations(const char *out, struct strlist *locs, struct strlist *probes)
{
	char *argv[] = {"python3", "-c", (char *)json_script, NULL};
	struct cmd_result res;
	char *line, *save = NULL;
	int err;

	err = run_cmd_input(argv, out, &res);
	if (err)
		return err;
	if (res.status == 127) {
		printf("python3 not found: cannot check the JSON output\n");
		cmd_result_free(&res);
		return 77;
	}
	if (res.status) {
		printf("JSON check failed: %s", res.err);
		cmd_result_free(&res);
		return -EBADMSG;
	}
	for (line = strtok_r(res.out, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == 'L')
			err = strlist_add(locs, line + 2);
		else if (line[0] == 'P' && probes)
			err = strlist_add(probes, line + 2);
	}
	cmd_result_free(&res);
	return err;
}

struct meta_note {
	uint64_t pc;
	char provider[256], name[256], args[1024];
};

static int parse_meta_hex(const char *hex, struct meta_note *m)
{
	unsigned char buf[2048];
	size_t n = 0, off = 8;
	unsigned v;
	int used;
	const char *fields[3];

	while (n < sizeof(buf) && sscanf(hex, " %2x%n", &v, &used) == 1) {
		buf[n++] = v;
		hex += used;
	}
	if (n < 8)
		return -EBADMSG;
	m->pc = 0;
	for (int i = 7; i >= 0; i--)
		m->pc = m->pc << 8 | buf[i];
	for (int f = 0; f < 3; f++) {
		const unsigned char *z = memchr(buf + off, 0, n - off);

		if (!z)
			return -EBADMSG;
		fields[f] = (const char *)buf + off;
		off = z - buf + 1;
	}
	if (snprintf(m->provider, sizeof(m->provider), "%s", fields[0]) >=
		    (int)sizeof(m->provider) ||
	    snprintf(m->name, sizeof(m->name), "%s", fields[1]) >= (int)sizeof(m->name) ||
	    snprintf(m->args, sizeof(m->args), "%s", fields[2]) >= (int)sizeof(m->args))
		return -ENAMETOOLONG;
	return 0;
}

int readelf_meta_locations(const char *path, const char *prefix, struct strlist *out)
{
	char *argv[] = {"readelf", "-n", "--wide", "--", (char *)path, NULL};
	struct readelf_note *notes = NULL;
	struct meta_note *metas = NULL, *tmp;
	size_t nmeta = 0, count = 0;
	uint64_t base_addr = 0;
	struct cmd_result res;
	char *line, *save = NULL, section[64] = "", args[1024];
	int err;

	if (!readelf_notes_available())
		return 77;
	err = run_cmd(argv, &res);
	if (err)
		return err;
	for (line = strtok_r(res.out, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "found in: ");
		char *d = strstr(line, "description data: ");

		if (p) {
			snprintf(section, sizeof(section), "%s", p + 10);
			continue;
		}
		if (!d || strcmp(section, ".note.usdtkit"))
			continue;
		tmp = realloc(metas, (nmeta + 1) * sizeof(*metas));
		if (!tmp) {
			err = -ENOMEM;
			break;
		}
		metas = tmp;
		err = parse_meta_hex(d + strlen("description data: "), &metas[nmeta]);
		nmeta++;
	}
	cmd_result_free(&res);
	if (!err)
		err = readelf_notes_read(path, &notes, &count);
	if (!err)
		err = section_addr(path, ".stapsdt.base", &base_addr);
	for (size_t i = 0; !err && i < count; i++) {
		const struct readelf_note *n = &notes[i];
		uint64_t adj = base_addr ? base_addr - n->base : 0;

		if (strcmp(n->section, ".note.stapsdt"))
			continue;
		for (size_t j = 0; j < nmeta; j++) {
			const struct meta_note *m = &metas[j];

			if (strcmp(m->provider, n->provider) || strcmp(m->name, n->name) ||
			    (m->pc && m->pc != n->location))
				continue;
			normalize_args(m->args, args, sizeof(args));
			if (!args[0])
				break; /* no arguments: nothing to show */
			err = strlist_addf(out, "%s|%s:%s@%" PRIx64 " meta=%s", prefix, n->provider,
					   n->name, n->location + adj, args);
			break;
		}
	}
	free(notes);
	free(metas);
	return err;
}

static const char json_meta_script[] =
	"import json, sys\n"
	"for line in sys.stdin:\n"
	"    p = json.loads(line)\n"
	"    for l in p['locations']:\n"
	"        items = []\n"
	"        for a in l['args']:\n"
	"            if a.get('type') is None: continue\n"
	"            items.append(a['name'] + ':' + a['type'] if a.get('name') else a['type'])\n"
	"        if items or any(a.get('name') for a in l['args']):\n"
	"            print('%s|%s:%s@%x meta=%s' % (p['path'], p['provider'], p['name'], l['address'], ' '.join(items)))\n";

int json_meta_locations(const char *out, struct strlist *lines)
{
	char *argv[] = {"python3", "-c", (char *)json_meta_script, NULL};
	struct cmd_result res;
	char *line, *save = NULL;
	int err;

	err = run_cmd_input(argv, out, &res);
	if (err)
		return err;
	if (res.status == 127) {
		cmd_result_free(&res);
		return 77;
	}
	if (res.status) {
		printf("JSON metadata extraction failed: %s", res.err);
		cmd_result_free(&res);
		return -EBADMSG;
	}
	for (line = strtok_r(res.out, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save))
		err = strlist_add(lines, line);
	cmd_result_free(&res);
	return err;
}

bool is_elf_exec_or_dyn(const char *path)
{
	unsigned char h[18];
	struct stat st;
	bool ok = false;
	int fd;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, h, sizeof(h)) == sizeof(h) && !memcmp(h, "\177ELF", 4)) {
		/* e_type, in the file's byte order: ET_EXEC 2, ET_DYN 3 */
		unsigned type = h[5] == 2 ? h[17] : h[16];

		ok = type == 2 || type == 3;
	}
	close(fd);
	return ok;
}
