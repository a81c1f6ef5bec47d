# SPDX-License-Identifier: MIT OR GPL-2.0-only
# The Python program of the --filter tests (test_filter_cli.c): calls a
# function named copyfile exactly 3 times among 150 calls of functions
# whose names are near misses (xcopyfile 50 times). function__entry gives
# the line of the def: copyfile 19, xcopyfile 15; keep them in sync with
# the test.
def copy(n):
    return n


def copyfile2(n):
    return n


def xcopyfile(n):
    return n


def copyfile(n):
    return copy(n) + 1


def main():
    for i in range(50):
        copy(i), copyfile2(i), xcopyfile(i)
    copyfile(1)
    copyfile(2)
    for i in range(3):
        copy(i)
    copyfile(3)


main()
