# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Finding libusdtkit and declaring its C API for ctypes.

The library is looked for, in order:
  1. $USDTKIT_LIBRARY (a path to libusdtkit.so*; an error if it does not load),
  2. next to this package (a copy shipped inside it),
  3. the system loader by soname, libusdtkit.so.0 (LD_LIBRARY_PATH,
     ld.so.cache: an installed libusdtkit), then ctypes.util.find_library(),
  4. a source checkout's build tree (../../../build/lib from this file), for
     running the bindings straight from the repository.
When none loads, the error says what to install or set, in one message.
"""

import ctypes
import ctypes.util
import os
import threading

SONAMES = ("libusdtkit.so.0", "libusdtkit.so")

NOT_FOUND = (
    "usdtkit: cannot find the C library libusdtkit.so.0: install the libusdtkit0 package "
    "(or `cmake --install` a usdtkit build), or run with LD_LIBRARY_PATH=DIR where DIR "
    "holds libusdtkit.so.0 (or USDTKIT_LIBRARY=/path/to/libusdtkit.so.0)."
)


class _Value(ctypes.Structure):
    # struct usdt_value: an enum then a union of 64-bit members.
    class _U(ctypes.Union):
        _fields_ = [
            ("i64", ctypes.c_int64),
            ("u64", ctypes.c_uint64),
            ("f64", ctypes.c_double),
            ("str", ctypes.c_char_p),
            ("ptr", ctypes.c_void_p),
        ]

    _anonymous_ = ("u",)
    _fields_ = [("type", ctypes.c_int), ("u", _U)]


class _Opts(ctypes.Structure):
    # struct usdt_provider_opts; sz first, as the C side validates.
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("probe_nop", ctypes.c_int),
        ("no_memfd", ctypes.c_bool),
        ("load_wait_ms", ctypes.c_int),
    ]


class _Lib:
    """The loaded library: a CDLL for the API and a PyDLL for firing."""

    def __init__(self, path):
        self.path = path
        c = ctypes.CDLL(path, use_errno=True)
        self.cdll = c
        P, VP, I = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int

        def decl(name, restype, *argtypes):
            f = getattr(c, name)
            f.restype = restype
            f.argtypes = argtypes
            return f

        self.provider_new = decl("usdt_provider__new", P, ctypes.c_char_p, ctypes.POINTER(_Opts))
        self.add_probe = decl(
            "usdt_provider__add_probe",
            P,
            P,
            ctypes.c_char_p,
            I,
            ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_char_p),
        )
        self.load = decl("usdt_provider__load", I, P)
        self.unload = decl("usdt_provider__unload", I, P)
        self.free = decl("usdt_provider__free", None, P)
        self.loaded = decl("usdt_provider__loaded", ctypes.c_bool, P)
        self.fd = decl("usdt_provider__fd", I, P)
        self.probe_nop = decl("usdt_provider__probe_nop", I, P)
        self.probe_address = decl("usdt_probe__address", VP, P)
        self.strerror = decl("usdt_strerror", ctypes.c_char_p, I)
        # Firing keeps the GIL: the call is short (a uprobe hit when traced)
        # and releasing and retaking the GIL would cost more than it saves.
        py = ctypes.PyDLL(path)
        self.fire_values = py.usdt_probe__fire_values
        self.fire_values.restype = I
        self.fire_values.argtypes = (P, P, ctypes.c_size_t)

    def error_text(self, err):
        return self.strerror(-abs(err)).decode("utf-8", "replace")


_lock = threading.Lock()
_lib = None


def _candidates():
    env = os.environ.get("USDTKIT_LIBRARY")
    if env:
        return [(env, True)]
    here = os.path.dirname(os.path.abspath(__file__))
    out = [(os.path.join(here, s), False) for s in SONAMES]
    out += [(s, False) for s in SONAMES]
    found = ctypes.util.find_library("usdtkit")
    if found and found not in SONAMES:
        out.append((found, False))
    src = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    out += [(os.path.join(src, "build", "lib", s), False) for s in SONAMES]
    return out


def lib():
    """Loads libusdtkit once; raises OSError saying what was tried."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for path, must in _candidates():
            if os.sep in path and not os.path.exists(path) and not must:
                continue
            try:
                _lib = _Lib(path)
                return _lib
            except OSError as e:
                if must:
                    raise OSError("usdtkit: cannot load USDTKIT_LIBRARY=%s: %s" % (path, e)) from e
                tried.append("%s (%s)" % (path, e))
        raise OSError(NOT_FOUND + " Tried: " + "; ".join(tried or [p for p, _ in _candidates()]))
