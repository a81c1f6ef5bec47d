# SPDX-License-Identifier: MIT OR GPL-2.0-only
# A call-heavy loop for bench/lang: N calls of a one-line function; prints
# the nanoseconds per call it measured itself (the tracer's start-up is
# outside the timed part).
import sys
import time


def f(i):
    return i


def main(n):
    t = time.perf_counter()
    for i in range(n):
        f(i)
    print("ns_per_call=%.1f" % ((time.perf_counter() - t) * 1e9 / n))


main(int(sys.argv[1]))
