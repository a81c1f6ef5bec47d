#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Cost of an untraced probe.fire() in Python against a call of a function
that does nothing, in one run (same interpreter, same arguments).

Also, for scale: fire() with the semaphore raised by hand (conversion and
the C call, no uprobe), and, as root with a working `usdtkit trace`, fire()
really traced (uprobe hit and BPF program included).

    PYTHONPATH=bindings/python USDTKIT_LIBRARY=build/lib/libusdtkit.so \\
        python3 bench/bindings/bench_python.py [--cli build/bin/usdtkit]
"""

import argparse
import ctypes
import os
import platform
import subprocess
import sys
import time
import timeit

import usdtkit


def per_call(stmt, g, number, repeat=7):
    return min(timeit.repeat(stmt, globals=g, number=number, repeat=repeat)) / number * 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", help="usdtkit CLI for the traced figure")
    ap.add_argument("-n", type=int, default=2_000_000, help="calls per timing")
    args = ap.parse_args()

    prov = usdtkit.Provider("benchpy")
    probe = prov.add_probe("request", path=str, size=int)
    prov.load()

    def noop(path, size):
        pass

    g = {"noop": noop, "probe": probe}
    n = args.n
    loop = per_call("pass", g, n)
    t_noop = per_call("noop('/index.html', 512)", g, n)
    t_fire = per_call("probe.fire('/index.html', 512)", g, n)
    t_enabled = per_call("probe.enabled", g, n)

    print("python %s (%s), %s" % (platform.python_version(), sys.executable, usdtkit.library_path()))
    print("%-44s %8.1f ns/call" % ("empty loop iteration (subtracted below)", loop))
    print("%-44s %8.1f ns/call" % ("noop(path, size)", t_noop - loop))
    print(
        "%-44s %8.1f ns/call  (%.2fx noop)"
        % ("probe.fire(path, size), untraced", t_fire - loop, (t_fire - loop) / (t_noop - loop))
    )
    print("%-44s %8.1f ns/call" % ("probe.enabled", t_enabled - loop))

    sem = ctypes.c_ushort.from_address(ctypes.c_void_p.from_address(probe._ptr).value)
    sem.value += 1
    t_forced = per_call("probe.fire('/index.html', 512)", g, n // 20, repeat=5)
    sem.value -= 1
    print(
        "%-44s %8.1f ns/call  (%.1fx noop)"
        % ("fire, semaphore forced (no uprobe)", t_forced - loop, (t_forced - loop) / (t_noop - loop))
    )

    if args.cli and os.geteuid() == 0 and os.access(args.cli, os.X_OK):
        tr = subprocess.Popen(
            [args.cli, "trace", "-p", str(os.getpid()), "-o", "/dev/null", "benchpy:request"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not probe.enabled and time.monotonic() < deadline and tr.poll() is None:
            time.sleep(0.02)
        if probe.enabled:
            t_traced = per_call("probe.fire('/index.html', 512)", g, n // 50, repeat=3)
            print(
                "%-44s %8.1f ns/call  (%.0fx noop)"
                % ("fire, traced by usdtkit trace", t_traced - loop, (t_traced - loop) / (t_noop - loop))
            )
        tr.terminate()
        _, err = tr.communicate(timeout=30)
        if err.strip():
            print("  usdtkit trace: " + err.strip().splitlines()[-1])
    prov.close()


if __name__ == "__main__":
    main()
