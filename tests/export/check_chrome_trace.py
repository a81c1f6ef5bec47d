#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Validates a Chrome Trace Event (JSON Array Format) file for the tests.

Checks the structure (a JSON array of objects; with --truncated, the array
may lack its closing bracket, as the format allows), the required fields
and their types per phase (M, i, X), that every pid/tid with events has a
process_name/thread_name metadata event, and prints a summary the C test
compares with what it wrote: counts per phase and each X event's dur.
"""
import json
import sys

REQUIRED = {
    "M": {"name": str, "ph": str, "pid": int, "tid": int, "args": dict},
    "i": {"name": str, "cat": str, "ph": str, "s": str, "ts": (int, float), "pid": int,
          "tid": int, "args": dict},
    "X": {"name": str, "cat": str, "ph": str, "ts": (int, float), "dur": (int, float),
          "pid": int, "tid": int, "args": dict},
}


def main():
    path, truncated = sys.argv[1], "--truncated" in sys.argv
    text = open(path, encoding="utf-8").read()
    if truncated:
        assert not text.rstrip().endswith("]"), "expected a file without the closing bracket"
        text = text.rstrip().rstrip(",") + "]"
    events = json.loads(text)
    assert isinstance(events, list), "not an array"
    counts, durs, procs, threads, used = {}, [], set(), set(), set()
    for ev in events:
        assert isinstance(ev, dict), "event is not an object"
        ph = ev.get("ph")
        assert ph in REQUIRED, "unknown ph %r" % ph
        for k, t in REQUIRED[ph].items():
            assert k in ev, "%s event without %s: %r" % (ph, k, ev)
            assert isinstance(ev[k], t) and not isinstance(ev[k], bool), \
                "%s.%s has type %s" % (ph, k, type(ev[k]).__name__)
        counts[ph] = counts.get(ph, 0) + 1
        if ph == "M":
            assert ev["name"] in ("process_name", "thread_name"), ev["name"]
            assert isinstance(ev["args"].get("name"), str)
            (procs if ev["name"] == "process_name" else threads).add((ev["pid"], ev["tid"]))
            continue
        if ph == "i":
            assert ev["s"] == "t", "instant scope %r" % ev["s"]
        else:
            assert ev["dur"] >= 0
            durs.append("%.3f" % ev["dur"])
        used.add((ev["pid"], ev["tid"]))
    for pid, tid in used:
        assert (pid, pid) in procs, "pid %d has no process_name" % pid
        assert (pid, tid) in threads, "tid %d has no thread_name" % tid
    print("M=%d i=%d X=%d" % (counts.get("M", 0), counts.get("i", 0), counts.get("X", 0)))
    print("dur " + " ".join(durs))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ValueError) as e:
        print("invalid trace: %s" % e)
        sys.exit(1)
