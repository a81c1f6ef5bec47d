# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""The Python API against the real libusdtkit, no tracer needed: declaring
probes, the life cycle, misuse errors, and value conversion. The traced
path is exercised by raising the probe's semaphore by hand, which is what
a tracer's uprobe does (the kernel increments the same word)."""

import ctypes
import errno
import gc
import os
import threading

import pytest

import usdtkit
from usdtkit import Arg, Provider


def semaphore(probe):
    # provider.h ABI: the first member of struct usdt_probe points at it.
    addr = ctypes.c_void_p.from_address(probe._ptr).value
    return ctypes.c_ushort.from_address(addr)


class Traced:
    """Pretends a tracer is attached to PROBE while in the with block."""

    def __init__(self, probe):
        self.sem = semaphore(probe)

    def __enter__(self):
        self.sem.value += 1

    def __exit__(self, *exc):
        self.sem.value -= 1


def loaded_object(prov):
    with open("/proc/self/fd/%d" % prov.fd, "rb") as f:
        return f.read()


def test_library_is_the_one_under_test():
    assert os.path.samefile(usdtkit.library_path(), os.environ["USDTKIT_LIBRARY"])


def test_declaration_forms():
    with Provider("pyapi") as p:
        pr = p.add_probe(
            "all",
            usdtkit.INT8,
            "u8",
            ("a16", "int16"),
            Arg("b16", usdtkit.UINT16),
            "c32:i32",
            ("d32", "uint32"),
            int,
            ("f", float),
            ("s", str),
            ("b", bytes),
            ptr="pointer",
            e="u64",
        )
        assert pr.arg_types == (
            usdtkit.INT8,
            usdtkit.UINT8,
            usdtkit.INT16,
            usdtkit.UINT16,
            usdtkit.INT32,
            usdtkit.UINT32,
            usdtkit.INT64,
            usdtkit.DOUBLE,
            usdtkit.STRING,
            usdtkit.STRING,
            usdtkit.POINTER,
            usdtkit.UINT64,
        )
        assert pr.arg_names == (None, None, "a16", "b16", "c32", "d32", None, "f", "s", "b", "ptr", "e")
        assert pr.argc == 12
        assert p["all"] is pr and p.probes == {"all": pr}
        assert repr(pr).startswith("<usdtkit.Probe pyapi:all(i8, u8, a16:i16, b16:u16, c32:i32")
        p.load()
        # The typed metadata note carries names and types to tracers.
        obj = loaded_object(p)
        assert b"stapsdt" in obj
        assert b"a16:i16" in obj and b"ptr:ptr" in obj and b"e:u64" in obj


def test_fire_signature_uses_argument_names():
    with Provider("pyapi") as p:
        pr = p.add_probe("req", ("path", str), ("size", int), ("class", int), "i32")
        p.load()
        # Keyword names are usable; a Python keyword or an unnamed argument
        # would not be a parameter name, so all fall back to argN.
        with pytest.raises(TypeError, match=r"pyapi\.req\.fire\(\) missing 1 required"):
            pr.fire("/", 1, 2)
        pr.fire("/", 1, 2, 3)
        q = p.probes["req"]
        assert q is pr
    with Provider("pyapi2") as p:
        pr = p.add_probe("req", path=str, size=int)
        p.load()
        pr.fire(size=3, path="/k")
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'size'"):
            pr.fire("/k")
        with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
            pr.fire("/k", 1, 2)


def test_untraced_fire_does_not_convert():
    with Provider("pyapi") as p:
        pr = p.add_probe("req", ("path", str), ("size", "u8"))
        p.load()
        assert not pr.enabled
        pr.fire(object(), "not an int")  # not traced: nothing is looked at


def test_traced_fire_converts_and_checks():
    with Provider("pyapi") as p:
        pr = p.add_probe("req", ("path", str), ("size", "u8"), ("ratio", float), ("where", "ptr"))
        p.load()
        with Traced(pr):
            assert pr.enabled
            pr.fire("/ünïcode", 255, 1, None)
            pr.fire(b"/bytes", 0, 2.5, 0x1000)
            pr.fire(None, True, -1e300, ctypes.c_void_p(8))
            buf = ctypes.create_string_buffer(8)
            pr.fire(bytearray(b"x"), 7, 0.0, buf)
            with pytest.raises(TypeError, match=r"pyapi:req\(\) argument 0 \('path'\): expected str"):
                pr.fire(3, 1, 1.0, None)
            with pytest.raises(ValueError, match=r"argument 1 \('size'\): 256 is out of range for u8"):
                pr.fire("/", 256, 1.0, None)
            with pytest.raises(ValueError, match=r"-1 is out of range for u8"):
                pr.fire("/", -1, 1.0, None)
            with pytest.raises(TypeError, match=r"expected int for u8, got float"):
                pr.fire("/", 1.0, 1.0, None)
            with pytest.raises(TypeError, match=r"argument 2 \('ratio'\): expected float or int"):
                pr.fire("/", 1, "1.0", None)
            with pytest.raises(ValueError, match=r"does not fit a double"):
                pr.fire("/", 1, 10**400, None)
            with pytest.raises(TypeError, match=r"expected int, None or a ctypes pointer"):
                pr.fire("/", 1, 1.0, "x")
            with pytest.raises(ValueError, match=r"out of range for ptr"):
                pr.fire("/", 1, 1.0, -5)
            with pytest.raises(ValueError, match="cannot encode as UTF-8"):
                pr.fire("\ud800", 1, 1.0, None)
        assert not pr.enabled


@pytest.mark.parametrize(
    "ty,lo,hi",
    [
        ("i8", -128, 127),
        ("u8", 0, 255),
        ("i16", -32768, 32767),
        ("u16", 0, 65535),
        ("i32", -(2**31), 2**31 - 1),
        ("u32", 0, 2**32 - 1),
        ("i64", -(2**63), 2**63 - 1),
        ("u64", 0, 2**64 - 1),
    ],
)
def test_integer_ranges(ty, lo, hi):
    with Provider("pyapi") as p:
        pr = p.add_probe("v", ty)
        p.load()
        with Traced(pr):
            pr.fire(lo)
            pr.fire(hi)
            for bad in (lo - 1, hi + 1):
                with pytest.raises(ValueError, match="out of range for %s" % ty):
                    pr.fire(bad)


def test_strict_mode_checks_untraced_calls(monkeypatch):
    with Provider("pyapi", strict=True) as p:
        pr = p.add_probe("req", ("size", "u8"))
        p.load()
        pr.fire(3)
        with pytest.raises(TypeError, match="expected int for u8, got str"):
            pr.fire("3")
    monkeypatch.setenv("USDTKIT_STRICT", "1")
    with Provider("pyapi") as p:
        pr = p.add_probe("req", ("size", "u8"))
        with pytest.raises(ValueError, match="out of range"):
            pr.fire(300)  # strict, even before load


@pytest.mark.parametrize(
    "name,exc,match",
    [
        ("", ValueError, "invalid provider name ''"),
        ("9lives", ValueError, "must be a C identifier"),
        ("has-dash", ValueError, "must be a C identifier"),
        ("x" * 64, ValueError, "too long"),
        (b"bytes", TypeError, "must be str"),
    ],
)
def test_bad_provider_names(name, exc, match):
    with pytest.raises(exc, match=match):
        Provider(name)


def test_bad_probe_declarations():
    with Provider("pyapi") as p:
        with pytest.raises(ValueError, match="invalid probe name 'a b'"):
            p.add_probe("a b")
        with pytest.raises(ValueError, match="too long"):
            p.add_probe("p" * 64)
        with pytest.raises(ValueError, match="has 13 arguments, at most 12"):
            p.add_probe("many", *(["i64"] * 13))
        with pytest.raises(ValueError, match="unknown type 'i128'"):
            p.add_probe("t", "i128")
        with pytest.raises(TypeError, match="is not an argument type"):
            p.add_probe("t", list)
        with pytest.raises(TypeError, match=r"expected \(name, type\), got a 3-tuple"):
            p.add_probe("t", ("a", "i64", 1))
        with pytest.raises(ValueError, match="invalid argument name '1a'"):
            p.add_probe("t", ("1a", "i64"))
        with pytest.raises(ValueError, match="argument 'a' declared twice"):
            p.add_probe("t", ("a", "i64"), a=str)
        p.add_probe("dup")
        with pytest.raises(ValueError, match="already has a probe 'dup'"):
            p.add_probe("dup")
        assert list(p.probes) == ["dup"]


def test_life_cycle_errors():
    p = Provider("pyapi")
    with pytest.raises(usdtkit.Error, match="add a probe first") as ei:
        p.load()
    assert ei.value.errno == errno.ENODATA
    with pytest.raises(usdtkit.Error, match="not loaded") as ei:
        p.unload()
    assert ei.value.errno == errno.ENOENT
    pr = p.add_probe("a", "i64")
    assert p.load() is p
    assert p.loaded and pr.address is not None and p.fd is not None
    assert p.probe_nop in (1, 5, 10)
    with pytest.raises(usdtkit.Error, match="already loaded") as ei:
        p.load()
    assert ei.value.errno == errno.EALREADY
    assert isinstance(ei.value, OSError)
    with pytest.raises(usdtkit.Error, match="unload\\(\\), add the probe, load\\(\\) again") as ei:
        p.add_probe("b")
    assert ei.value.errno == errno.EBUSY
    p.unload()
    assert not p.loaded and pr.address is None and p.fd is None
    p.add_probe("b")
    p.load()
    p.close()
    p.close()  # idempotent
    assert p.closed and not p.loaded and "closed" in repr(p)
    for call in (p.load, p.unload, lambda: p.add_probe("c")):
        with pytest.raises(ValueError, match="closed provider 'pyapi'"):
            call()
    # Firing a closed provider's probe is a no-op, as for an unloaded one.
    pr.fire(1)
    assert not pr.enabled and pr.address is None


def test_semaphore_view_survives_unload_and_reload():
    with Provider("pyreload") as p:
        pr = p.add_probe("a", ("n", "u8"))
        bare = p.add_probe("bare")
        p.load()
        with Traced(bare):
            bare.fire()  # no arguments: an empty value array
        p.unload()
        assert not pr.enabled  # unload zeroes the semaphores
        p.load()
        with Traced(pr):
            assert pr.enabled
            with pytest.raises(ValueError, match="out of range for u8"):
                pr.fire(256)  # traced again: converted and checked
            pr.fire(255)


def test_context_manager_unloads_and_frees():
    with Provider("pyctx") as p:
        pr = p.add_probe("a", "i64")
        p.load()
        fd = p.fd
        assert os.path.exists("/proc/self/fd/%d" % fd)
        assert "pyctx" in os.readlink("/proc/self/fd/%d" % fd)
    assert p.closed
    del p, pr
    gc.collect()
    # The provider was freed: its object's fd is closed (or reused by
    # something else, never the provider's memfd).
    try:
        assert "pyctx" not in os.readlink("/proc/self/fd/%d" % fd)
    except FileNotFoundError:
        pass


def test_no_memfd_and_probe_nop_options():
    with Provider("pyopt", no_memfd=True, probe_nop=1) as p:
        p.add_probe("a")
        p.load()
        assert p.probe_nop == 1
        assert "memfd:" not in os.readlink("/proc/self/fd/%d" % p.fd)
    with pytest.raises(ValueError, match="probe_nop must be 1, 5 or 10"):
        Provider("pyopt", probe_nop=3)


def test_fire_races_with_close():
    # Threads fire a traced probe while the main thread closes the
    # provider: no crash, no exception, fire() ends up a no-op.
    for _ in range(20):
        p = Provider("pyrace")
        pr = p.add_probe("a", ("s", str), ("n", int))
        p.load()
        sem = semaphore(pr)
        sem.value += 1
        stop = threading.Event()
        errors = []

        def worker():
            try:
                while not stop.is_set():
                    pr.fire("x", 1)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        ts = [threading.Thread(target=worker) for _ in range(3)]
        for t in ts:
            t.start()
        p.close()
        stop.set()
        for t in ts:
            t.join()
        assert errors == []
        assert not pr.enabled


def test_import_does_not_need_the_library(tmp_path):
    # A missing library is reported when first used, saying what to do.
    import subprocess
    import sys

    env = dict(os.environ, USDTKIT_LIBRARY=str(tmp_path / "nope.so"))
    r = subprocess.run(
        [sys.executable, "-c", "import usdtkit\ntry:\n usdtkit.Provider('x')\nexcept OSError as e:\n print(e)"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "cannot load USDTKIT_LIBRARY=" in r.stdout and "nope.so" in r.stdout


def test_load_wait_ms_option():
    for w in (5, 0, -1, 100000, None):
        with Provider("pywait", load_wait_ms=w) as p:
            p.add_probe("a")
            assert p.load() is p
    with pytest.raises(TypeError, match="load_wait_ms must be an int"):
        Provider("pywait", load_wait_ms=1.5)
    with pytest.raises(TypeError, match="load_wait_ms must be an int"):
        Provider("pywait", load_wait_ms=True)
