# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""A Python process's probes as the tracers see them: listed by
`usdtkit list -p`, traced with named, typed arguments by `usdtkit trace`
(JSON and --format), and by bpftrace as an independent reader."""

import json
import shutil
import subprocess

import pytest

from tooling import finish, json_events, python_child, require_command, require_root, start_trace

# Fires every 10 ms; every value derives from the counter i, so the test can
# check each traced event on its own, whenever the tracer happened to attach.
CHILD = r"""
import sys, time, usdtkit
p = usdtkit.Provider("pytest_prov")
ev = p.add_probe("event", ("path", str), ("size", "i64"), ("small", "u8"),
                 ("neg", "i32"), ("ratio", float), ("big", "u64"))
other = p.add_probe("other")
p.load()
print("ready", flush=True)
i = 0
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    ev.fire("/files/f%d-ü.txt" % i, i * 1000, i % 256, -i, i / 4, 2**64 - 1 - i)
    other.fire()
    i += 1
    time.sleep(0.01)
"""


def check_event_args(args):
    i = args["size"] // 1000
    assert args["size"] == i * 1000
    assert args["path"] == "/files/f%d-ü.txt" % i
    assert args["small"] == i % 256
    assert args["neg"] == -i
    assert args["ratio"] == i / 4
    assert args["big"] == 2**64 - 1 - i
    assert isinstance(args["ratio"], float) or args["ratio"] == int(args["ratio"])


def test_list_shows_probes_with_names_and_types(usdtkit_cli):
    require_command(usdtkit_cli, "list", "--json")
    with python_child(CHILD) as c:
        r = subprocess.run(
            [usdtkit_cli, "list", "-p", str(c.pid), "--json", "pytest_prov:*"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        probes = {j["name"]: j for j in map(json.loads, r.stdout.splitlines())}
    assert set(probes) == {"event", "other"}, r.stdout
    ev = probes["event"]
    assert ev["provider"] == "pytest_prov" and ev["pid"] == c.pid
    assert "memfd:pytest_prov" in ev["path"]
    (loc,) = ev["locations"]
    assert loc["semaphore"] is not None
    got = [(a["name"], a["type"]) for a in loc["args"]]
    assert got == [
        ("path", "str"),
        ("size", "i64"),
        ("small", "u8"),
        ("neg", "i32"),
        ("ratio", "f64"),
        ("big", "u64"),
    ]
    assert probes["other"]["locations"][0]["args"] == []


def test_list_text_output(usdtkit_cli):
    require_command(usdtkit_cli, "list", "-p")
    with python_child(CHILD) as c:
        r = subprocess.run(
            [usdtkit_cli, "list", "-p", str(c.pid), "pytest_prov"], capture_output=True, text=True, timeout=60
        )
    assert r.returncode == 0, r.stderr
    names = sorted(line.split()[-1] for line in r.stdout.splitlines())
    assert names == ["pytest_prov:event", "pytest_prov:other"], r.stdout


def test_trace_json_named_typed_arguments(usdtkit_cli):
    require_root()
    require_command(usdtkit_cli, "trace", "--json")
    with python_child(CHILD) as c:
        t = start_trace(usdtkit_cli, ["-p", str(c.pid), "--json", "-n", "5", "pytest_prov:event"])
        out, err = finish(t, timeout=90)
    assert t.returncode == 0, err
    evs = json_events(out)
    assert len(evs) == 5, out
    for e in evs:
        assert e["pid"] == c.pid and e["provider"] == "pytest_prov" and e["name"] == "event"
        assert list(e["args"]) == ["path", "size", "small", "neg", "ratio", "big"]
        check_event_args(e["args"])
    sizes = [e["args"]["size"] for e in evs]
    assert sizes == sorted(sizes) and len(set(sizes)) == 5


def test_trace_format_template(usdtkit_cli):
    require_root()
    require_command(usdtkit_cli, "trace", "--format")
    with python_child(CHILD) as c:
        t = start_trace(
            usdtkit_cli,
            ["-p", str(c.pid), "-n", "3", "-f", "{probe} {path} size={size} r={ratio} n={neg}", "pytest_prov:event"],
        )
        out, err = finish(t, timeout=90)
    assert t.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 3, out
    for line in lines:
        probe, path, size, ratio, neg = line.split(" ")
        i = int(size[len("size=") :]) // 1000
        assert probe == "pytest_prov:event"
        assert path == "/files/f%d-ü.txt" % i
        assert float(ratio[2:]) == i / 4
        assert neg == "n=%d" % -i


def test_bpftrace_reads_the_same_arguments():
    require_root()
    if not shutil.which("bpftrace"):
        pytest.skip("bpftrace not installed")
    with python_child(CHILD) as c:
        prog = (
            'usdt::pytest_prov:event { printf("%s|%d|%d|%d\\n", str(arg0), arg1, arg2, (int32)arg3); '
            "if (++@n >= 3) { exit(); } }"
        )
        r = subprocess.run(
            ["bpftrace", "-p", str(c.pid), "-e", prog], capture_output=True, text=True, timeout=120
        )
    lines = [line for line in r.stdout.splitlines() if line.count("|") == 3]
    assert len(lines) >= 3, (r.returncode, r.stdout, r.stderr)
    for line in lines:
        path, size, small, neg = line.split("|")
        i = int(size) // 1000
        assert path == "/files/f%d-ü.txt" % i
        assert int(small) == i % 256 and int(neg) == -i


NULL_CHILD = r"""
import time, usdtkit
p = usdtkit.Provider("pytest_null")
ev = p.add_probe("maybe", ("s", str), ("n", "i64"))
p.load()
print("ready", flush=True)
deadline = time.monotonic() + 120
i = 0
while time.monotonic() < deadline:
    ev.fire(None if i % 2 == 0 else "set", i)
    i += 1
    time.sleep(0.01)
"""


def test_none_string_arrives_as_null():
    """A None str argument is a NULL pointer in the process, as a tracer
    reads it: even fires pass None, odd ones a real string."""
    require_root()
    if not shutil.which("bpftrace"):
        pytest.skip("bpftrace not installed")
    with python_child(NULL_CHILD) as c:
        prog = (
            'usdt::pytest_null:maybe { printf("%d|%d\\n", arg1, arg0 == 0); '
            "if (++@n >= 6) { exit(); } }"
        )
        r = subprocess.run(
            ["bpftrace", "-p", str(c.pid), "-e", prog], capture_output=True, text=True, timeout=120
        )
    lines = [line.split("|") for line in r.stdout.splitlines() if line.count("|") == 1]
    assert len(lines) >= 6, (r.returncode, r.stdout, r.stderr)
    for i, is_null in lines:
        assert is_null == ("1" if int(i) % 2 == 0 else "0"), lines
