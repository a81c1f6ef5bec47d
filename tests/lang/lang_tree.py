# SPDX-License-Identifier: MIT OR GPL-2.0-only
# A Python program with a known call tree, forced collections and a known
# number of calls, for tests/lang/test_lang_tools.sh.
#   tree: <module> -> top -> mid(3) -> leaf x3, mid(2) -> leaf x2
#   calls: leaf 5 + 100 * N (N from argv[1], default 0)
#   gc: 3 gc.collect() (generation 2), then prints the collections per
#   generation the interpreter counted (forced or not), and exits at once
import gc
import os
import sys


def leaf(i):
    return i + 1


def mid(n):
    s = 0
    for i in range(n):
        s += leaf(i)
    return s


def top():
    return mid(3) + mid(2)


def burst(n):
    for i in range(n):
        leaf(i)


top()
burst(100 * int(sys.argv[1]) if len(sys.argv) > 1 else 0)
for _ in range(3):
    gc.collect()
st = gc.get_stats()
print("gc_counts=%d,%d,%d" % (st[0]["collections"], st[1]["collections"], st[2]["collections"]))
# no interpreter shutdown: its own collections would not be in the counts
sys.stdout.flush()
os._exit(0)
