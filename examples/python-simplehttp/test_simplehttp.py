# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""End to end: server.py on 127.0.0.1 (ephemeral port), `usdtkit trace
--format` attached to it, two files and a directory listing fetched with
urllib, and exactly three traced lines with the right client, paths and
sizes; the listing is complete while traced (it once came back empty:
the probe asked a BytesIO for its fileno()).

The tracer attaches asynchronously, so a warm-up file is fetched until its
line shows up; only then are the two files fetched."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.environ.get("USDTKIT_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = os.environ.get("USDTKIT_BUILD_DIR") or os.path.join(SRC_DIR, "build")
CLI = os.path.join(BUILD_DIR, "bin", "usdtkit")
FORMAT = "{client} is downloading file {path} ({size} bytes)"

sys.path.insert(0, os.path.join(SRC_DIR, "bindings", "python", "tests"))
from tooling import require_command, require_root  # noqa: E402

# No proxy from the environment for 127.0.0.1.
fetch = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(SRC_DIR, "bindings", "python") + os.pathsep + e.get("PYTHONPATH", "")
    e.setdefault("USDTKIT_LIBRARY", os.path.join(BUILD_DIR, "lib", "libusdtkit.so"))
    e["PYTHONDONTWRITEBYTECODE"] = "1"
    return e


@pytest.fixture
def server(tmp_path):
    (tmp_path / "warmup.txt").write_bytes(b"w")
    (tmp_path / "report.pdf").write_bytes(os.urandom(123457))
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "sub dir" / "notes.txt").write_bytes(b"x" * 4321)
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--directory", str(tmp_path)],
        stdout=subprocess.PIPE,
        env=env(),
        text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/ \(pid (\d+)\)", line)
        assert m, "server did not start: %r" % line
        assert int(m.group(2)) == proc.pid
        yield proc, "http://127.0.0.1:%s" % m.group(1)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_untraced_server_serves_files(server):
    _, url = server
    assert fetch(url + "/sub%20dir/notes.txt").read() == b"x" * 4321
    assert b'href="notes.txt"' in fetch(url + "/sub%20dir/").read()


class Lines:
    """Lines from a pipe with a deadline. Reads the fd itself: select() on a
    buffered file object misses lines already in its buffer."""

    def __init__(self, f):
        self.fd = f.fileno()
        self.buf = b""

    def get(self, deadline):
        import select

        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if r:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    return None
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode() + "\n"


def test_trace_prints_one_line_per_download(server):
    require_root()
    require_command(CLI, "trace", "--format")
    proc, url = server
    trace = subprocess.Popen(
        [CLI, "trace", "-p", str(proc.pid), "--format", FORMAT, "simplehttp:file_transfer"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = Lines(trace.stdout)
    try:
        deadline = time.monotonic() + 60
        lines = []
        while True:
            assert trace.poll() is None, trace.stderr.read()
            assert time.monotonic() < deadline, "the tracer never saw the warm-up download"
            assert fetch(url + "/warmup.txt").read() == b"w"
            line = out.get(time.monotonic() + 0.5)
            if line:
                lines.append(line)
                break
        assert fetch(url + "/report.pdf").read()
        assert fetch(url + "/sub%20dir/notes.txt").read() == b"x" * 4321
        r = fetch(url + "/sub%20dir/")
        listing = r.read()
        assert r.status == 200 and b'href="notes.txt"' in listing, listing
        deadline = time.monotonic() + 30
        while sum("warmup" not in ln for ln in lines) < 3:
            line = out.get(deadline)
            assert line, "missing traced lines; got %r" % lines
            lines.append(line)
    finally:
        trace.send_signal(signal.SIGINT)
        try:
            rest, err = trace.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            trace.kill()
            rest, err = trace.communicate()
    lines += (out.buf.decode() + rest).splitlines(True)
    downloads = [ln.rstrip("\n") for ln in lines if "warmup.txt" not in ln]
    assert len(downloads) == 3, lines
    pat = r"127\.0\.0\.1:\d+ is downloading file %s \(%d bytes\)"
    assert re.fullmatch(pat % (re.escape("/report.pdf"), 123457), downloads[0]), downloads
    assert re.fullmatch(pat % (re.escape("/sub dir/notes.txt"), 4321), downloads[1]), downloads
    assert re.fullmatch(pat % (re.escape("/sub dir/"), len(listing)), downloads[2]), downloads
    for ln in lines:
        if "warmup.txt" in ln:
            assert re.fullmatch(pat % ("/warmup.txt", 1), ln.rstrip("\n")), ln
    assert "0 lost" in err, err
