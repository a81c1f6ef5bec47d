# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""USDT probes defined by a Python program at run time.

    import usdtkit

    prov = usdtkit.Provider("myapp")
    req = prov.add_probe("request", path=str, size=usdtkit.INT64)
    prov.load()
    ...
    req.fire("/index.html", 512)      # nearly free while nobody traces

    # usdtkit trace -p PID 'myapp:request'
    # bpftrace -p PID -e 'usdt::myapp:request { printf("%s %d\\n", str(arg0), arg1); }'

This is a thin ctypes layer over libusdtkit (include/usdtkit/provider.h):
loading a provider builds a small ELF object with one probe per add_probe()
and dlopen()s it, so every USDT tracer sees ordinary probes in the process.

Cost when untraced. Each probe's fire() is a function generated for that
probe's signature (like collections.namedtuple generates classes): it reads
the probe's semaphore through a memoryview on the word the kernel increments
when a tracer attaches, and returns when it is zero. Argument count is
checked by Python's own call machinery; types are converted and checked only
when the probe is traced, unless strict mode is on (Provider(strict=True) or
USDTKIT_STRICT=1), which checks every call: use it in tests.

Lifetime. close() (or leaving the `with` block) unloads the provider and
turns its probes' fire() into no-ops. The C provider is freed when the last
Python object that can reach it is gone, so a thread that is inside fire()
while another closes the provider never touches freed memory.
"""

import ctypes
import enum
import errno
import keyword
import os
import re
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Type as _PyType, Union

from . import _lib

__version__ = "0.1.0"

__all__ = [
    "Provider",
    "Probe",
    "Arg",
    "Type",
    "Error",
    "INT8",
    "UINT8",
    "INT16",
    "UINT16",
    "INT32",
    "UINT32",
    "INT64",
    "UINT64",
    "DOUBLE",
    "STRING",
    "POINTER",
    "MAX_ARGS",
    "NAME_MAX",
    "library_path",
    "TypeSpec",
    "ArgSpec",
    "ArgValue",
]

MAX_ARGS = 12  # USDT_MAX_ARGS
NAME_MAX = 64  # USDT_NAME_MAX, including the NUL


class Type(enum.IntEnum):
    """Argument types; values are include/usdtkit/types.h's enum usdt_type."""

    INT8 = 1
    UINT8 = 2
    INT16 = 3
    UINT16 = 4
    INT32 = 5
    UINT32 = 6
    INT64 = 7
    UINT64 = 8
    DOUBLE = 9
    STRING = 10
    POINTER = 11

    @property
    def short(self) -> str:
        """The name usdtkit's metadata note and tracer use ("i64", "str")."""
        return _SHORT[self]


INT8, UINT8, INT16, UINT16 = Type.INT8, Type.UINT8, Type.INT16, Type.UINT16
INT32, UINT32, INT64, UINT64 = Type.INT32, Type.UINT32, Type.INT64, Type.UINT64
DOUBLE, STRING, POINTER = Type.DOUBLE, Type.STRING, Type.POINTER

_SHORT = {
    INT8: "i8",
    UINT8: "u8",
    INT16: "i16",
    UINT16: "u16",
    INT32: "i32",
    UINT32: "u32",
    INT64: "i64",
    UINT64: "u64",
    DOUBLE: "f64",
    STRING: "str",
    POINTER: "ptr",
}
_BY_NAME = {v: k for k, v in _SHORT.items()}
_BY_NAME.update(
    {
        "int8": INT8,
        "uint8": UINT8,
        "int16": INT16,
        "uint16": UINT16,
        "int32": INT32,
        "uint32": UINT32,
        "int64": INT64,
        "uint64": UINT64,
        "double": DOUBLE,
        "float64": DOUBLE,
        "f64": DOUBLE,
        "string": STRING,
        "pointer": POINTER,
    }
)
_BY_PYTYPE = {int: INT64, float: DOUBLE, str: STRING, bytes: STRING, bool: INT64}

_RANGES = {
    INT8: (-(1 << 7), (1 << 7) - 1),
    UINT8: (0, (1 << 8) - 1),
    INT16: (-(1 << 15), (1 << 15) - 1),
    UINT16: (0, (1 << 16) - 1),
    INT32: (-(1 << 31), (1 << 31) - 1),
    UINT32: (0, (1 << 32) - 1),
    INT64: (-(1 << 63), (1 << 63) - 1),
    UINT64: (0, (1 << 64) - 1),
    POINTER: (0, (1 << 64) - 1),
}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# What add_probe() takes as an argument's type: a Type, its short or long
# name ("i64", "uint32", "str"), or the Python types int, float, str, bytes.
TypeSpec = Union["Type", str, _PyType[Any]]
# One add_probe() argument: a type, or a name and a type.
ArgSpec = Union[TypeSpec, Tuple[str, TypeSpec], "Arg"]
# What fire() takes for one argument: int for the integer types, float (or
# int) for f64, str/bytes/None for str (None arrives as a NULL pointer), and
# int/None/a ctypes pointer for ptr.
ArgValue = Union[int, float, str, bytes, bytearray, memoryview, None, Any]

# The annotation fire() carries for each argument type (inspect.signature,
# IDEs and help() show them).
_PY_ANNOTATION = {}


class Error(OSError):
    """libusdtkit refused an operation; .errno is set, the text says why."""


class Arg(tuple):
    """An argument declaration: Arg("path", usdtkit.STRING) or Arg("path", "str")."""

    __slots__ = ()

    def __new__(cls, name: str, type: TypeSpec) -> "Arg":
        return tuple.__new__(cls, (name, type))

    name = property(lambda self: self[0])
    type = property(lambda self: self[1])

    def __repr__(self):
        return "Arg(%r, %r)" % (self[0], self[1])


def library_path() -> str:
    """The path of the libusdtkit this package loaded (loads it if needed)."""
    return _lib.lib().path


def _check_name(what, name):
    if not isinstance(name, str):
        raise TypeError("usdtkit: %s name must be str, not %s" % (what, type(name).__name__))
    if not _IDENT.match(name):
        raise ValueError(
            "usdtkit: invalid %s name %r: must be a C identifier ([A-Za-z_][A-Za-z0-9_]*)"
            % (what, name)
        )
    if len(name.encode()) >= NAME_MAX:
        raise ValueError(
            "usdtkit: %s name %r is too long (%d bytes, at most %d)"
            % (what, name, len(name), NAME_MAX - 1)
        )


def _parse_type(t, where):
    if isinstance(t, Type):
        return t
    if isinstance(t, str):
        ty = _BY_NAME.get(t.lower())
        if ty is None:
            raise ValueError(
                "usdtkit: %s: unknown type %r (one of: %s, or int, float, str)"
                % (where, t, " ".join(_SHORT.values()))
            )
        return ty
    if isinstance(t, type) and t in _BY_PYTYPE:
        return _BY_PYTYPE[t]
    if isinstance(t, int) and not isinstance(t, bool) and 1 <= t <= 11:
        return Type(t)
    raise TypeError(
        "usdtkit: %s: %r is not an argument type (use usdtkit.INT64 ..., a name such as "
        "'i64' or 'str', or one of int, float, str, bytes)" % (where, t)
    )


def _parse_arg(spec, index, where):
    """Returns (name or None, Type) for one positional add_probe() argument."""
    name = None
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise TypeError(
                "usdtkit: %s: argument %d: expected (name, type), got a %d-tuple"
                % (where, index, len(spec))
            )
        name, t = spec
    elif isinstance(spec, str) and ":" in spec:
        name, t = spec.split(":", 1)
    else:
        t = spec
    if name is not None:
        _check_name("argument", name)
    return name, _parse_type(t, "%s argument %d" % (where, index))


# --- value conversion (traced path) ---------------------------------------


def _conv_int(ty, name):
    lo, hi = _RANGES[ty]

    def conv(v):
        if v.__class__ is int and lo <= v <= hi:
            return v
        if not isinstance(v, int):
            try:
                v = v.__index__()
            except (AttributeError, TypeError):
                raise TypeError(
                    "%s: expected int for %s, got %s" % (name, ty.short, type(v).__name__)
                ) from None
        if v < lo or v > hi:
            raise ValueError("%s: %d is out of range for %s (%d..%d)" % (name, v, ty.short, lo, hi))
        return v

    return conv


def _conv_double(name):
    def conv(v):
        if isinstance(v, (str, bytes, bytearray)) or not hasattr(type(v), "__float__"):
            raise TypeError("%s: expected float or int for f64, got %s" % (name, type(v).__name__))
        try:
            return float(v)
        except OverflowError:
            raise ValueError("%s: %r does not fit a double" % (name, v)) from None

    return conv


def _conv_str(name):
    def conv(v):
        if isinstance(v, str):
            try:
                return v.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError as e:
                raise ValueError("%s: cannot encode as UTF-8: %s" % (name, e)) from None
        if isinstance(v, bytes) or v is None:
            return v
        if isinstance(v, (bytearray, memoryview)):
            return bytes(v)
        raise TypeError("%s: expected str, bytes or None for str, got %s" % (name, type(v).__name__))

    return conv


def _conv_ptr(name):
    as_int = _conv_int(POINTER, name)

    def conv(v):
        if v is None:
            return None
        if isinstance(v, ctypes._SimpleCData) or isinstance(v, (ctypes._Pointer, ctypes.Array)):
            return ctypes.cast(v, ctypes.c_void_p).value
        try:
            return as_int(v)
        except TypeError:
            raise TypeError(
                "%s: expected int, None or a ctypes pointer for ptr, got %s" % (name, type(v).__name__)
            ) from None

    return conv


_PY_ANNOTATION.update(
    {t: int for t in (INT8, UINT8, INT16, UINT16, INT32, UINT32, INT64, UINT64)}
)
_PY_ANNOTATION[DOUBLE] = float
_PY_ANNOTATION[STRING] = Optional[Union[str, bytes]]
_PY_ANNOTATION[POINTER] = Optional[Union[int, ctypes.c_void_p]]

_CTYPE = {
    INT8: ctypes.c_int64,
    INT16: ctypes.c_int64,
    INT32: ctypes.c_int64,
    INT64: ctypes.c_int64,
    UINT8: ctypes.c_uint64,
    UINT16: ctypes.c_uint64,
    UINT32: ctypes.c_uint64,
    UINT64: ctypes.c_uint64,
    DOUBLE: ctypes.c_double,
    STRING: ctypes.c_char_p,
    POINTER: ctypes.c_void_p,
}

# Never non-zero: what a closed provider's probes read as their semaphore.
_ZERO = memoryview(bytes(2)).cast("H")


def _make_fire(probe_id, params, sema, slow, strict, annotations=None):
    """Generates fire() for one probe signature (see the module docstring)."""
    plist = ", ".join(params)
    body = "_usdtkit_slow(%s)" % plist if strict else "if _usdtkit_sema[0]: _usdtkit_slow(%s)" % plist
    src = "def _usdtkit_make(_usdtkit_sema, _usdtkit_slow):\n def fire(%s):\n  %s\n return fire\n" % (
        plist,
        body,
    )
    ns = {}
    exec(compile(src, "<usdtkit probe %s>" % probe_id, "exec"), ns)
    fn = ns["_usdtkit_make"](sema, slow)
    if annotations is not None:
        fn.__annotations__ = dict(zip(params, annotations), **{"return": None})
    fn.__qualname__ = "%s.fire" % probe_id.replace(":", ".")
    fn.__doc__ = "Fires %s(%s); a no-op unless a tracer is attached." % (probe_id, plist)
    return fn


def _param_names(arg_names):
    n = len(arg_names)
    names = ["arg%d" % i for i in range(n)]
    wanted = [
        a if a and not keyword.iskeyword(a) and not a.startswith("_usdtkit_") else names[i]
        for i, a in enumerate(arg_names)
    ]
    if len(set(wanted)) == n:
        return wanted
    return names


class Probe:
    """A probe of a Provider, from Provider.add_probe().

    fire(*values) fires it: one value per declared argument, in order (the
    generated function's parameters are the argument names, annotated with
    the Python types each accepts: see inspect.signature(probe.fire)).
    """

    fire: Callable[..., None]
    name: str
    provider: "Provider"
    arg_names: Tuple[Optional[str], ...]
    arg_types: Tuple["Type", ...]

    __slots__ = (
        "fire",
        "name",
        "provider",
        "arg_names",
        "arg_types",
        "_ptr",
        "_params",
        "_sema",
        "__weakref__",
    )

    def __init__(self, provider, name, ptr, arg_names, arg_types, strict):
        self.provider = provider
        self.name = name
        self.arg_names = tuple(arg_names)
        self.arg_types = tuple(arg_types)
        self._ptr = ptr
        self._params = _param_names(self.arg_names)
        # The first member of struct usdt_probe points at its semaphore, which
        # stays readable for the probe's whole life (provider.h, ABI).
        sema_addr = ctypes.c_void_p.from_address(ptr).value
        self._sema = memoryview((ctypes.c_ushort * 1).from_address(sema_addr)).cast("B").cast("H")
        self.fire = _make_fire(
            "%s:%s" % (provider.name, name),
            self._params,
            self._sema,
            self._slow_fn(),
            strict,
            [_PY_ANNOTATION[t] for t in self.arg_types],
        )

    @property
    def argc(self) -> int:
        return len(self.arg_types)

    @property
    def enabled(self) -> bool:
        """True while a tracer is attached to this probe."""
        return self._sema[0] != 0

    @property
    def address(self) -> Optional[int]:
        """Address of the probe instruction; None when not loaded."""
        h = self.provider._handle
        if h is None or not self._ptr:
            return None
        return h.lib.probe_address(self._ptr)

    def _slow_fn(self):
        lib = _lib.lib()
        handle = self.provider._handle  # keeps the C provider alive
        ptr = self._ptr
        n = len(self.arg_types)
        pid = "%s:%s" % (self.provider.name, self.name)
        convs = []
        for i, (an, ty) in enumerate(zip(self.arg_names, self.arg_types)):
            label = "usdtkit: %s() argument %d%s" % (pid, i, " (%r)" % an if an else "")
            if ty == DOUBLE:
                c = _conv_double(label)
            elif ty == STRING:
                c = _conv_str(label)
            elif ty == POINTER:
                c = _conv_ptr(label)
            else:
                c = _conv_int(ty, label)
            convs.append(c)
        # The values go to C as an array of struct usdt_value ({int type;
        # 64-bit union}, 16 bytes). A structure made for this probe, with
        # each union typed as its argument, is that array in one object:
        # built with one constructor call, no per-element proxies. Type 0
        # (USDT_TYPE_NONE) means "the declared type".
        fields = []
        for i, ty in enumerate(self.arg_types):
            fields += [("t%d" % i, ctypes.c_int), ("v%d" % i, _CTYPE[ty])]
        values_t = type("usdt_values_%d" % n, (ctypes.Structure,), {"_fields_": fields or [("t0", ctypes.c_int)]})
        if n and ctypes.sizeof(values_t) != n * ctypes.sizeof(_lib._Value):
            raise RuntimeError("usdtkit: unexpected struct usdt_value layout")
        params = ["a%d" % i for i in range(n)]
        src = (
            "def slow(%s):\n"
            " s = _values_t(%s)\n"
            " err = _fire_values(_ptr, _byref(s), %d)\n"
            " if err:\n"
            "  raise _error(_handle.lib, err, %r)\n"
        ) % (", ".join(params), ", ".join("0, _c%d(a%d)" % (i, i) for i in range(n)), n, "fire " + pid)
        ns = {"_values_t": values_t, "_fire_values": lib.fire_values, "_ptr": ptr, "_byref": ctypes.byref}
        # _handle: what keeps the C provider alive while a fire() runs.
        ns.update({"_error": _error, "_handle": handle})
        ns.update({"_c%d" % i: c for i, c in enumerate(convs)})
        exec(compile(src, "<usdtkit probe %s>" % pid, "exec"), ns)
        return ns["slow"]

    def _close(self):
        # Called with the provider's lock held, after unload.
        self.fire = _make_fire(
            "%s:%s" % (self.provider.name, self.name),
            self._params,
            _ZERO,
            _noop,
            False,
            [_PY_ANNOTATION[t] for t in self.arg_types],
        )
        self._sema = _ZERO
        self._ptr = None

    def __repr__(self) -> str:
        args = ", ".join(
            ("%s:%s" % (a, t.short)) if a else t.short for a, t in zip(self.arg_names, self.arg_types)
        )
        return "<usdtkit.Probe %s:%s(%s)%s>" % (
            self.provider.name,
            self.name,
            args,
            " enabled" if self.enabled else "",
        )


def _noop(*values):
    pass


def _error(lib, err, what, hint=""):
    err = abs(err)
    text = "usdtkit: %s: %s" % (what, lib.error_text(err))
    if hint:
        text += " (%s)" % hint
    return Error(err, text)


class _Handle:
    """Owns one struct usdt_provider; frees it when no longer referenced."""

    __slots__ = ("lib", "ptr", "__weakref__")

    def __init__(self, lib, ptr):
        self.lib = lib
        self.ptr = ptr

    def __del__(self):
        if self.ptr:
            self.lib.free(self.ptr)
            self.ptr = None


class Provider:
    """A USDT provider: a named set of probes loaded into this process.

    Provider(name, *, probe_nop=None, no_memfd=False, strict=None, load_wait_ms=None)

    probe_nop: 1, 5 or 10 to force the probe instruction (default: detect).
    no_memfd: back the object with a file in a private temporary directory.
    strict: check argument types on every fire(), traced or not (default:
    the environment variable USDTKIT_STRICT=1).
    load_wait_ms: longest load() waits for a watching tracer to attach
    (docs/runtime-announce.md); 0 or negative: never wait; default: the
    environment (USDTKIT_LOAD_WAIT_MS), else 100 ms.
    """

    name: str
    probes: Dict[str, Probe]

    def __init__(
        self,
        name: str,
        *,
        probe_nop: Optional[int] = None,
        no_memfd: bool = False,
        strict: Optional[bool] = None,
        load_wait_ms: Optional[int] = None,
    ) -> None:
        _check_name("provider", name)
        lib = _lib.lib()
        opts = _lib._Opts()
        opts.sz = ctypes.sizeof(_lib._Opts)
        if probe_nop is not None:
            if probe_nop not in (1, 5, 10):
                raise ValueError("usdtkit: probe_nop must be 1, 5 or 10, not %r" % (probe_nop,))
            opts.probe_nop = probe_nop
        opts.no_memfd = bool(no_memfd)
        if load_wait_ms is not None:
            if not isinstance(load_wait_ms, int) or isinstance(load_wait_ms, bool):
                raise TypeError("usdtkit: load_wait_ms must be an int, not %r" % (load_wait_ms,))
            # 0 would mean "the environment" in C: say "never wait" explicitly.
            opts.load_wait_ms = load_wait_ms if load_wait_ms > 0 else -1
        ctypes.set_errno(0)
        ptr = lib.provider_new(name.encode(), ctypes.byref(opts))
        if not ptr:
            raise _error(lib, ctypes.get_errno() or errno.EINVAL, "provider %r" % name)
        self.name = name
        self.probes = {}
        self._handle = _Handle(lib, ptr)
        self._lock = threading.Lock()
        if strict is None:
            strict = os.environ.get("USDTKIT_STRICT", "") not in ("", "0")
        self._strict = bool(strict)

    # -- probes ---------------------------------------------------------

    def add_probe(self, name: str, *args: ArgSpec, **named: TypeSpec) -> Probe:
        """Adds a probe and returns its Probe.

        Each argument is a type, unnamed (usdtkit.INT64, "i64", int), or
        named: ("path", str), Arg("path", "str"), "path:str", or a keyword
        argument path=str (after the positional ones, in order).
        Types: i8 u8 i16 u16 i32 u32 i64 u64 f64 str ptr (and the Type
        constants; int means i64, float f64, str and bytes str).
        """
        _check_name("probe", name)
        where = "%s:%s" % (self.name, name)
        specs = [_parse_arg(a, i, where) for i, a in enumerate(args)]
        for k, t in named.items():
            _check_name("argument", k)
            specs.append((k, _parse_type(t, "%s argument %r" % (where, k))))
        if len(specs) > MAX_ARGS:
            raise ValueError(
                "usdtkit: probe %s has %d arguments, at most %d" % (where, len(specs), MAX_ARGS)
            )
        seen = set()
        for an, _ in specs:
            if an is not None:
                if an in seen:
                    raise ValueError("usdtkit: probe %s: argument %r declared twice" % (where, an))
                seen.add(an)
        n = len(specs)
        types = (ctypes.c_int * max(n, 1))(*[int(t) for _, t in specs])
        names = (ctypes.c_char_p * max(n, 1))(*[a.encode() if a else None for a, _ in specs])
        with self._lock:
            h = self._live("add_probe")
            if name in self.probes:
                raise ValueError("usdtkit: provider %r already has a probe %r" % (self.name, name))
            ctypes.set_errno(0)
            ptr = h.lib.add_probe(h.ptr, name.encode(), n, types, names)
            if not ptr:
                err = ctypes.get_errno() or errno.EINVAL
                hint = ""
                if err == errno.EBUSY:
                    hint = "the provider is loaded; unload(), add the probe, load() again"
                raise _error(h.lib, err, "add_probe %s" % where, hint)
            p = Probe(self, name, ptr, [a for a, _ in specs], [t for _, t in specs], self._strict)
            self.probes[name] = p
            return p

    def __getitem__(self, name: str) -> Probe:
        return self.probes[name]

    # -- life cycle -----------------------------------------------------

    def _live(self, what):
        h = self._handle
        if h is None:
            raise ValueError("usdtkit: %s on closed provider %r" % (what, self.name))
        return h

    def load(self) -> "Provider":
        """Makes the probes visible to tracers. Returns self."""
        with self._lock:
            h = self._live("load")
            err = h.lib.load(h.ptr)
            if err:
                hint = {errno.EALREADY: "already loaded", errno.ENODATA: "add a probe first"}.get(-err, "")
                raise _error(h.lib, err, "load provider %r" % self.name, hint)
        return self

    def unload(self) -> None:
        """Removes the probes from the process; fire() becomes a no-op."""
        with self._lock:
            h = self._live("unload")
            err = h.lib.unload(h.ptr)
            if err:
                hint = "not loaded" if err == -errno.ENOENT else ""
                raise _error(h.lib, err, "unload provider %r" % self.name, hint)

    @property
    def loaded(self) -> bool:
        h = self._handle
        return bool(h is not None and h.lib.loaded(h.ptr))

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def fd(self) -> Optional[int]:
        """The loaded object's file descriptor (/proc/self/fd/N), or None."""
        h = self._handle
        if h is None:
            return None
        fd = h.lib.fd(h.ptr)
        return fd if fd >= 0 else None

    @property
    def probe_nop(self) -> int:
        """The probe instruction size in use (1, 5 or 10)."""
        h = self._live("probe_nop")
        return h.lib.probe_nop(h.ptr)

    def close(self) -> None:
        """Unloads (if loaded) and releases the provider. Idempotent."""
        with self._lock:
            h = self._handle
            if h is None:
                return
            if h.lib.loaded(h.ptr):
                h.lib.unload(h.ptr)
            for p in self.probes.values():
                p._close()
            self._handle = None
        # The C provider is freed with the last reference to h: now, unless
        # another thread is inside one of its probes' fire().

    def __enter__(self) -> "Provider":
        return self

    def __exit__(self, *exc: Any) -> bool:
        self.close()
        return False

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("loaded" if self.loaded else "not loaded")
        return "<usdtkit.Provider %r, %d probes, %s>" % (self.name, len(self.probes), state)
