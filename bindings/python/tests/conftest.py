# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Shared set-up: import the package from this source tree and find the
libusdtkit and usdtkit CLI of the build under test (USDTKIT_BUILD_DIR, as
ctest sets it; else ../../../build)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.dirname(HERE)
SRC_DIR = os.environ.get("USDTKIT_SOURCE_DIR") or os.path.dirname(os.path.dirname(PKG_DIR))
BUILD_DIR = os.environ.get("USDTKIT_BUILD_DIR") or os.path.join(SRC_DIR, "build")

if PKG_DIR not in sys.path:
    sys.path.insert(0, PKG_DIR)
if not os.environ.get("USDTKIT_LIBRARY"):
    os.environ["USDTKIT_LIBRARY"] = os.path.join(BUILD_DIR, "lib", "libusdtkit.so")
# Children (traced processes) import the same package and library.
os.environ["PYTHONPATH"] = PKG_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")


@pytest.fixture(scope="session")
def usdtkit_cli():
    return os.path.join(BUILD_DIR, "bin", "usdtkit")
