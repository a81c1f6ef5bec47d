# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""The documented install command works offline, and the installed package
finds libusdtkit in each documented place.

    python3 -m venv --system-site-packages VENV
    VENV/bin/pip install ./bindings/python

PIP_NO_INDEX=1 proves that nothing is downloaded: not the package, not a
build backend (the package's backend is in-tree, requires = [])."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD_DIR, PKG_DIR

CHECK = r"""
import os, sys, usdtkit
assert "site-packages" in usdtkit.__file__, usdtkit.__file__
with usdtkit.Provider("installed") as p:
    pr = p.add_probe("hello", who=str)
    p.load()
    pr.fire("world")
    print(usdtkit.library_path())
    print(os.readlink("/proc/self/fd/%d" % p.fd))
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("venv")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(root)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if r.returncode != 0 or not os.path.exists(root / "bin" / "pip"):
        pytest.skip("cannot create a venv with pip (Debian: apt-get install python3-venv): %s" % r.stderr[-300:])
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    r = subprocess.run(
        [str(root / "bin" / "pip"), "install", PKG_DIR], capture_output=True, text=True, env=env, timeout=240
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Successfully installed usdtkit-" in r.stdout
    return root


def run_installed(venv, tmp_path, **env_changes):
    env = dict(os.environ)
    for k in ("PYTHONPATH", "USDTKIT_LIBRARY", "LD_LIBRARY_PATH"):
        env.pop(k, None)
    env.update(env_changes)
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-c", CHECK], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_install_leaves_source_tree_clean():
    for junk in ("build", "usdtkit.egg-info", "dist"):
        assert not os.path.exists(os.path.join(PKG_DIR, junk)), junk


def test_installed_package_with_env_library(venv, tmp_path):
    lib = os.path.join(BUILD_DIR, "lib", "libusdtkit.so")
    libpath, obj = run_installed(venv, tmp_path, USDTKIT_LIBRARY=lib)
    assert libpath == lib
    assert obj.startswith("/memfd:installed")


def test_installed_package_with_system_loader(venv, tmp_path):
    libpath, _ = run_installed(venv, tmp_path, LD_LIBRARY_PATH=os.path.join(BUILD_DIR, "lib"))
    assert libpath == "libusdtkit.so.0"


def test_installed_package_with_library_next_to_it(venv, tmp_path):
    site = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import usdtkit, os; print(os.path.dirname(usdtkit.__file__))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.strip()
    dest = os.path.join(site, "libusdtkit.so.0")
    shutil.copy(os.path.join(BUILD_DIR, "lib", "libusdtkit.so.0"), dest)
    try:
        libpath, _ = run_installed(venv, tmp_path)
    finally:
        os.unlink(dest)  # the venv is shared: the next test must not find it
    assert libpath == dest


def test_installed_package_without_library_says_what_to_do(venv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "USDTKIT_LIBRARY", "LD_LIBRARY_PATH")}
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import usdtkit; usdtkit.Provider('x'); print(usdtkit.library_path())"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    if r.returncode == 0:
        pytest.skip("a libusdtkit is installed system-wide on this machine: %r" % r.stdout)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("OSError: usdtkit: cannot find the C library libusdtkit.so.0"), r.stderr
    assert "libusdtkit0 package" in last and "LD_LIBRARY_PATH" in last, last


def test_installed_package_is_typed(venv, tmp_path):
    r = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import usdtkit, os, typing; d = os.path.dirname(usdtkit.__file__); "
            "print(os.path.exists(os.path.join(d, 'py.typed'))); "
            "print(typing.get_type_hints(usdtkit.Provider.add_probe)['return'].__name__)",
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        cwd=tmp_path,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "Probe"]
