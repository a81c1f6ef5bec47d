# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""ctest driver for the pytest suites: runs pytest on the given files
(relative to this directory, or absolute: the examples use it too) and
maps the outcome to ctest's conventions. No test collected (pytest's exit
5) is a failure, and a run where everything was skipped exits 77 (SKIP),
so a suite never passes without having tested anything. Skip reasons are
printed (-rs)."""

import os
import sys

try:
    import pytest
except ImportError:
    print("SKIP: pytest is not installed for %s (Debian: apt-get install python3-pytest)" % sys.executable)
    sys.exit(77)


class Tally:
    def __init__(self):
        self.passed = self.skipped = self.failed = 0

    def pytest_runtest_logreport(self, report):
        if report.skipped:
            self.skipped += 1
        elif report.failed:
            self.failed += 1
        elif report.when == "call" and report.passed:
            self.passed += 1


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    files = [a if os.path.isabs(a) else os.path.join(here, a) for a in argv]
    tally = Tally()
    rootdir = os.path.dirname(files[0]) if files else here
    rc = pytest.main(["-q", "-rs", "-p", "no:cacheprovider", "--rootdir", rootdir] + files, plugins=[tally])
    if rc == 5:
        print("FAIL: no tests were collected from %s" % " ".join(argv))
        return 1
    if rc == 0 and tally.passed == 0:
        print("SKIP: all %d tests were skipped (reasons above)" % tally.skipped)
        return 77
    return int(rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
