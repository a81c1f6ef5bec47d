// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Helpers of the exporter tests (export_test_util.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export_test_util.h"

int run_cmd(char *const argv[], const char *in, struct xbuf *out, unsigned int timeout_ms)
{
	int inp[2], outp[2], status = 0;
	uint64_t deadline = export_now_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ull;
	size_t inlen = in ? strlen(in) : 0, inoff = 0;
	char buf[4096];
	pid_t pid;
	ssize_t n;

	if (pipe2(inp, O_CLOEXEC) || pipe2(outp, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(inp[0], 0);
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(inp[0]);
	close(outp[1]);
	fcntl(inp[1], F_SETFL, O_NONBLOCK);
	if (!inlen) {
		close(inp[1]);
		inp[1] = -1;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = outp[0], .events = POLLIN},
				      {.fd = inp[1], .events = POLLOUT}};
		uint64_t now = export_now_ns(CLOCK_MONOTONIC);

		if (now >= deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, inp[1] >= 0 ? 2 : 1, (int)((deadline - now) / 1000000 + 1)) < 0)
			continue;
		if (inp[1] >= 0 && p[1].revents) {
			n = write(inp[1], in + inoff, inlen - inoff);
			if (n > 0)
				inoff += (size_t)n;
			if (n < 0 || inoff == inlen) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
		if (p[0].revents) {
			n = read(outp[0], buf, sizeof(buf));
			if (n <= 0)
				break;
			if (out)
				xbuf_add(out, buf, (size_t)n);
		}
	}
	if (inp[1] >= 0)
		close(inp[1]);
	close(outp[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t spawn_cmd(char *const argv[], const char *log)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

void stop_cmd(pid_t pid)
{
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

int http_raw(int port, const char *req, size_t len, struct xbuf *resp, unsigned int timeout_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	uint64_t deadline = export_now_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ull;
	char buf[4096];
	ssize_t n;
	int fd, err = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	err = export_write_all(fd, req, len, deadline);
	if (err && err != -EPIPE && err != -ECONNRESET)
		goto out;
	err = 0;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			err = export_poll_until(fd, POLLIN, deadline);
			if (err < 0)
				goto out;
			err = 0;
			continue;
		}
		if (n <= 0)
			break;
		xbuf_add(resp, buf, (size_t)n);
	}
out:
	close(fd);
	return err;
}

int http_status(const struct xbuf *resp)
{
	int status;

	if (!resp->p || sscanf(resp->p, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	return status;
}

const char *http_body(const struct xbuf *resp)
{
	const char *p = resp->p ? strstr(resp->p, "\r\n\r\n") : NULL;

	return p ? p + 4 : NULL;
}

int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int make_tmpdir(char *buf, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, size, "%s/usdtkit-export-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(buf) ? 0 : -errno;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void remove_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int have_program(const char *prog)
{
	char *argv[] = {"sh", "-c", "command -v \"$0\" >/dev/null", (char *)prog, NULL};

	return run_cmd(argv, NULL, NULL, 5000) == 0;
}
