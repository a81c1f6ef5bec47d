# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Helpers for tests that drive the usdtkit CLI against live processes."""

import json
import os
import select
import subprocess
import sys

import pytest


def require_root():
    if os.geteuid() != 0:
        pytest.skip("tracing needs root (CAP_BPF and CAP_PERFMON); running as uid %d" % os.geteuid())


def require_command(cli, command, needle):
    """Skips unless `usdtkit COMMAND --help` works and mentions NEEDLE."""
    if not os.access(cli, os.X_OK):
        pytest.skip("%s not built" % cli)
    r = subprocess.run([cli, command, "--help"], capture_output=True, text=True, timeout=30)
    text = r.stdout + r.stderr
    if r.returncode != 0 or needle not in text:
        pytest.skip(
            "`usdtkit %s` is not functional yet (--help exit %d: %s)"
            % (command, r.returncode, text.strip()[:200])
        )


class Child:
    """A process started with a `ready PID` line protocol on stdout."""

    def __init__(self, argv, env=None, cwd=None):
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd, text=True
        )
        line = self.readline(30)
        if line.split()[:1] != ["ready"]:
            self.close()
            raise AssertionError("child did not start: %r" % line)
        self.ready = line.split()
        self.pid = self.proc.pid

    def readline(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise AssertionError("child: no output within %ss" % timeout)
        return self.proc.stdout.readline().strip()

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def python_child(script, *args):
    return Child([sys.executable, "-c", script] + list(args))


def start_trace(cli, argv, timeout=60):
    """Starts `usdtkit trace ARGV` and returns the Popen (stdout, stderr pipes)."""
    return subprocess.Popen(
        [cli, "trace"] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(trace, timeout=60):
    try:
        out, err = trace.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        trace.kill()
        out, err = trace.communicate()
        raise AssertionError("usdtkit trace did not finish: stdout=%r stderr=%r" % (out, err))
    return out, err


def json_events(out):
    evs = []
    for line in out.splitlines():
        rec = json.loads(line)
        if rec.get("type") == "event":
            evs.append(rec)
    return evs
