# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""A minimal PEP 517 / PEP 660 build backend for the usdtkit package.

Why not setuptools: pip builds a project in an isolated environment and
installs its build requirements there from an index first. On a machine
without one (Debian CI, air-gapped hosts) `requires = ["setuptools"]` makes
`pip install ./bindings/python` fail unless the user knows about
--no-build-isolation. The package is a few pure-Python files, so writing the
wheel (a zip with three metadata files, see PEP 427) needs only the standard
library, and the plain command works everywhere.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PKG = "usdtkit"


def _project():
    with open(os.path.join(_HERE, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    fields = {}
    for key in ("name", "version", "description", "requires-python"):
        m = re.search(r'^%s\s*=\s*"([^"]*)"' % re.escape(key), text, re.M)
        if not m:
            raise RuntimeError("pyproject.toml: no %s" % key)
        fields[key] = m.group(1)
    return fields


def _metadata(p):
    readme = ""
    path = os.path.join(_HERE, "README.md")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            readme = f.read()
    head = (
        "Metadata-Version: 2.1\n"
        "Name: {name}\n"
        "Version: {version}\n"
        "Summary: {description}\n"
        "License: MIT OR GPL-2.0-only\n"
        "Requires-Python: {requires-python}\n"
        "Description-Content-Type: text/markdown\n"
    ).format(**p)
    return (head + "\n" + readme).encode("utf-8")


def _wheel_file():
    return (
        b"Wheel-Version: 1.0\n"
        b"Generator: usdtkit_backend\n"
        b"Root-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )


def _sources():
    root = os.path.join(_HERE, _PKG)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py") or name == "py.typed":
            yield "%s/%s" % (_PKG, name), os.path.join(root, name)


def _write_wheel(directory, files):
    """files: list of (archive name, bytes). Returns the wheel's basename."""
    p = _project()
    dist = "%s-%s" % (p["name"], p["version"])
    info = dist + ".dist-info"
    files = list(files) + [
        (info + "/METADATA", _metadata(p)),
        (info + "/WHEEL", _wheel_file()),
    ]
    record = []
    basename = dist + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, basename), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            digest = hashlib.sha256(data).digest()
            b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            record.append("%s,sha256=%s,%d" % (name, b64, len(data)))
            z.writestr(name, data)
        record.append(info + "/RECORD,,")
        z.writestr(info + "/RECORD", "\n".join(record) + "\n")
    return basename


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(n, _read(p)) for n, p in _sources()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth line puts this source directory on sys.path (PEP 660).
    pth = (_HERE + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [("__editable__.usdtkit.pth", pth)])


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (p["name"], p["version"])
    name = base + ".tar.gz"
    members = ["pyproject.toml", "README.md", "_backend/usdtkit_backend.py"]
    members += [n for n, _ in _sources()]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for m in members:
            path = os.path.join(_HERE, m)
            if os.path.exists(path):
                t.add(path, arcname=base + "/" + m)
        pkg_info = _metadata(p)
        ti = tarfile.TarInfo(base + "/PKG-INFO")
        ti.size = len(pkg_info)
        t.addfile(ti, io.BytesIO(pkg_info))
    return name
