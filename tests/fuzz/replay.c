/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Replays a libFuzzer corpus without libFuzzer: each argument is a file or
 * a directory of files, each fed once to LLVMFuzzerTestOneInput. Lets the
 * gcc and sanitizer builds run every seed as an ordinary test.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t got = 0;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto out;
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		goto out;
	while (got < st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);
		if (n <= 0)
			goto out;
		got += n;
	}
	LLVMFuzzerTestOneInput(buf, st.st_size);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "replay: cannot read %s\n", path);
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int count = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: not found\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= replay_file(argv[i]);
			count++;
			continue;
		}
		DIR *dir = opendir(argv[i]);
		struct dirent *ent;
		if (!dir)
			return 1;
		while ((ent = readdir(dir))) {
			char path[4096];
			if (ent->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], ent->d_name);
			failed |= replay_file(path);
			count++;
		}
		closedir(dir);
	}
	if (count == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		return 1;
	}
	printf("replayed %d inputs\n", count);
	return failed ? 1 : 0;
}
