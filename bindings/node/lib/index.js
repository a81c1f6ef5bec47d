// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * USDT probes defined by a Node.js program at run time.
 *
 *   const { Provider } = require('usdtkit');
 *   const prov = new Provider('myapp');
 *   const req = prov.addProbe('request', 'path:str', 'size:i64');
 *   prov.load();
 *   req.fire('/index.html', 512);   // nearly free while nobody traces
 *
 *   # usdtkit trace -p PID 'myapp:request'
 *
 * A thin layer over libusdtkit (include/usdtkit/provider.h) through the
 * N-API addon in src/usdtkit.c. Untraced, fire() checks the argument count
 * and reads the probe's semaphore from a Uint16Array on the word the kernel
 * increments when a tracer attaches; only a traced (or strict) fire()
 * crosses into C, which converts and checks every value.
 */
'use strict';

const fs = require('fs');
const path = require('path');

const MAX_ARGS = 12; // USDT_MAX_ARGS
const NAME_MAX = 64; // USDT_NAME_MAX, including the NUL

// enum usdt_type (include/usdtkit/types.h)
const TYPE_CODES = {
  i8: 1, u8: 2, i16: 3, u16: 4, i32: 5, u32: 6, i64: 7, u64: 8, f64: 9, str: 10, ptr: 11,
};
const ALIASES = {
  int8: 'i8', uint8: 'u8', int16: 'i16', uint16: 'u16', int32: 'i32', uint32: 'u32',
  int64: 'i64', uint64: 'u64', double: 'f64', float64: 'f64', number: 'f64',
  string: 'str', pointer: 'ptr', bigint: 'i64',
};
const types = Object.freeze({
  INT8: 'i8', UINT8: 'u8', INT16: 'i16', UINT16: 'u16', INT32: 'i32', UINT32: 'u32',
  INT64: 'i64', UINT64: 'u64', DOUBLE: 'f64', STRING: 'str', POINTER: 'ptr',
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ZERO = new Uint16Array(1); // what a closed provider's probes read

/** An error libusdtkit returned: .code is the errno name, .errno its number. */
class UsdtError extends Error {
  constructor(message, code, errno) {
    super(message);
    this.name = 'UsdtError';
    this.code = code;
    this.errno = errno;
  }
}

let native = null;
let libraryPath = null;

function addonCandidates() {
  if (process.env.USDTKIT_NODE_ADDON) return [process.env.USDTKIT_NODE_ADDON];
  const root = path.join(__dirname, '..');
  return [
    path.join(root, 'build', 'Release', 'usdtkit.node'), // node-gyp (npm install)
    path.join(root, '..', '..', 'build', 'lib', 'usdtkit.node'), // source checkout, CMake
  ];
}

function libraryCandidates(addonPath) {
  if (process.env.USDTKIT_LIBRARY) return [process.env.USDTKIT_LIBRARY];
  const out = [];
  for (const so of ['libusdtkit.so.0', 'libusdtkit.so']) {
    out.push(path.join(path.dirname(addonPath), so));
  }
  out.push('libusdtkit.so.0'); // the system loader: LD_LIBRARY_PATH, ld.so.cache
  const src = path.join(__dirname, '..', '..', '..', 'build', 'lib');
  out.push(path.join(src, 'libusdtkit.so.0'));
  return out;
}

/** Loads the addon and libusdtkit once; throws saying what was tried. */
function load() {
  if (native) return native;
  let addon = null;
  let addonPath = null;
  const tried = [];
  for (const p of addonCandidates()) {
    if (!fs.existsSync(p)) {
      tried.push(`${p} (missing)`);
      continue;
    }
    addon = require(p);
    addonPath = p;
    break;
  }
  if (!addon) {
    throw new Error(`usdtkit: the native addon is not built (run \`npm install\` in ${path.join(__dirname, '..')}, ` +
      `or build the CMake target usdtkit_node, or set USDTKIT_NODE_ADDON). Tried: ${tried.join('; ')}`);
  }
  const libs = libraryCandidates(addonPath);
  const errors = [];
  for (const lib of libs) {
    if (lib.includes('/') && !fs.existsSync(lib) && !process.env.USDTKIT_LIBRARY) continue;
    try {
      addon.open(lib);
      libraryPath = lib;
      native = addon;
      return native;
    } catch (e) {
      errors.push(`${lib}: ${e.message}`);
    }
  }
  throw new Error('usdtkit: cannot load libusdtkit (build it: cmake --build BUILD --target usdtkit, ' +
    `install it, or set USDTKIT_LIBRARY=/path/to/libusdtkit.so). Tried: ${errors.join('; ') || libs.join('; ')}`);
}

function rethrow(e, hints) {
  if (e && typeof e.errno === 'number' && typeof e.code === 'string') {
    const hint = hints && hints[e.code];
    return new UsdtError(hint ? `${e.message} (${hint})` : e.message, e.code, e.errno);
  }
  return e;
}

function checkName(what, name) {
  if (typeof name !== 'string') {
    throw new TypeError(`usdtkit: ${what} name must be a string, got ${typeof name}`);
  }
  if (!IDENT.test(name)) {
    throw new TypeError(`usdtkit: invalid ${what} name '${name}': must be a C identifier ([A-Za-z_][A-Za-z0-9_]*)`);
  }
  if (name.length >= NAME_MAX) {
    throw new RangeError(`usdtkit: ${what} name '${name}' is too long (${name.length} bytes, at most ${NAME_MAX - 1})`);
  }
}

function parseType(t, where) {
  if (typeof t !== 'string') {
    throw new TypeError(`usdtkit: ${where}: the type must be a string such as 'i64' or 'str', got ${typeof t}`);
  }
  const key = t.toLowerCase();
  const short = TYPE_CODES[key] ? key : ALIASES[key];
  if (!short) {
    throw new TypeError(`usdtkit: ${where}: unknown type '${t}' (one of: ${Object.keys(TYPE_CODES).join(' ')})`);
  }
  return short;
}

// 'i64' | 'name:i64' | ['name', 'i64'] | { name, type }
function parseArg(spec, i, where) {
  let name = null;
  let type = spec;
  if (Array.isArray(spec)) {
    if (spec.length !== 2) throw new TypeError(`usdtkit: ${where} argument ${i}: expected [name, type]`);
    [name, type] = spec;
  } else if (spec !== null && typeof spec === 'object') {
    ({ name = null, type } = spec);
  } else if (typeof spec === 'string' && spec.includes(':')) {
    [name, type] = spec.split(':', 2);
  }
  if (name !== null) checkName('argument', name);
  return { name, type: parseType(type, `${where} argument ${i}`) };
}

class Probe {
  /** @private: use Provider.addProbe(). */
  constructor(provider, name, args, handle, sema, strict) {
    this.provider = provider;
    this.name = name;
    this.args = Object.freeze(args.map((a) => Object.freeze({ ...a })));
    this._handle = handle;
    this._sema = new Uint16Array(sema);
    this._argc = args.length;
    this._strict = strict;
  }

  /**
   * Fires the probe with one value per declared argument. Untraced, only the
   * count is checked; traced (or strict), each value is converted: integers
   * from a Number or BigInt (range-checked), f64 from a Number, str from a
   * string (UTF-8), Buffer, Uint8Array or null, ptr from a BigInt, Number
   * or null.
   */
  fire(...values) {
    if (values.length !== this._argc) this._countError(values.length);
    if (this._sema[0] !== 0 || this._strict) native.fire(this._handle, values);
  }

  /** True while a tracer is attached. */
  get enabled() {
    return this._sema[0] !== 0;
  }

  /** Address of the probe instruction (BigInt), null when not loaded. */
  get address() {
    return native.address(this._handle);
  }

  _countError(n) {
    const sig = this.args.map((a, i) => a.name || `arg${i}`).join(', ');
    throw new TypeError(`usdtkit: ${this.provider.name}:${this.name}.fire(${sig}) takes ` +
      `${this._argc} argument${this._argc === 1 ? '' : 's'}, ${n} given`);
  }

  _close() {
    this._sema = ZERO;
    this._strict = false;
  }

  toString() {
    const a = this.args.map((x) => (x.name ? `${x.name}:${x.type}` : x.type)).join(', ');
    return `${this.provider.name}:${this.name}(${a})`;
  }
}

class Provider {
  /**
   * @param {string} name provider name (a C identifier)
   * @param {object} [options]
   * @param {number} [options.probeNop] 1, 5 or 10: force the probe instruction
   * @param {boolean} [options.noMemfd] back the object with a temporary file
   * @param {boolean} [options.strict] check values on every fire(), traced or
   *   not (default: the environment variable USDTKIT_STRICT=1)
   * @param {number} [options.loadWaitMs] longest load() waits for a watching
   *   tracer to attach (docs/runtime-announce.md); <= 0: never wait;
   *   default: USDTKIT_LOAD_WAIT_MS, else 100 ms
   */
  constructor(name, options = {}) {
    checkName('provider', name);
    const { probeNop = 0, noMemfd = false, strict, loadWaitMs } = options;
    if (![0, 1, 5, 10].includes(probeNop)) {
      throw new RangeError(`usdtkit: probeNop must be 1, 5 or 10, got ${probeNop}`);
    }
    if (loadWaitMs !== undefined && !Number.isInteger(loadWaitMs)) {
      throw new TypeError(`usdtkit: loadWaitMs must be an integer, got ${loadWaitMs}`);
    }
    // 0 would mean "the environment" in C: say "never wait" explicitly.
    const wait = loadWaitMs === undefined ? 0 : (loadWaitMs > 0 ? Math.min(loadWaitMs, 60000) : -1);
    const n = load();
    try {
      this._handle = n.providerNew(name, probeNop, Boolean(noMemfd), wait);
    } catch (e) {
      throw rethrow(e);
    }
    this.name = name;
    this.probes = new Map();
    this._closed = false;
    this._strict = strict === undefined
      ? !['', '0', undefined].includes(process.env.USDTKIT_STRICT) : Boolean(strict);
  }

  /**
   * Adds a probe. Each argument is a type ('i8' 'u8' 'i16' 'u16' 'i32' 'u32'
   * 'i64' 'u64' 'f64' 'str' 'ptr', or usdtkit.types.*), optionally named:
   * 'path:str', ['path', 'str'] or { name: 'path', type: 'str' }.
   */
  addProbe(name, ...args) {
    this._live('addProbe');
    checkName('probe', name);
    const where = `${this.name}:${name}`;
    if (args.length > MAX_ARGS) {
      throw new RangeError(`usdtkit: probe ${where} has ${args.length} arguments, at most ${MAX_ARGS}`);
    }
    const parsed = args.map((a, i) => parseArg(a, i, where));
    const seen = new Set();
    for (const a of parsed) {
      if (a.name === null) continue;
      if (seen.has(a.name)) throw new TypeError(`usdtkit: probe ${where}: argument '${a.name}' declared twice`);
      seen.add(a.name);
    }
    if (this.probes.has(name)) {
      throw new UsdtError(`usdtkit: provider '${this.name}' already has a probe '${name}'`, 'EEXIST', 17);
    }
    let res;
    try {
      res = native.addProbe(this._handle, name, parsed.map((a) => TYPE_CODES[a.type]),
        parsed.map((a) => a.name));
    } catch (e) {
      throw rethrow(e, { EBUSY: 'the provider is loaded: unload(), addProbe(), load() again' });
    }
    const probe = new Probe(this, name, parsed, res[0], res[1], this._strict);
    this.probes.set(name, probe);
    return probe;
  }

  /** Makes the probes visible to tracers. Returns this. */
  load() {
    this._live('load');
    try {
      native.load(this._handle);
    } catch (e) {
      throw rethrow(e, { EALREADY: 'already loaded', ENODATA: 'add a probe first' });
    }
    return this;
  }

  /** Removes the probes from the process; fire() becomes a no-op. */
  unload() {
    this._live('unload');
    try {
      native.unload(this._handle);
    } catch (e) {
      throw rethrow(e, { ENOENT: 'not loaded' });
    }
  }

  /** Unloads (if loaded) and releases the provider. Idempotent. */
  close() {
    if (this._closed) return;
    this._closed = true;
    native.close(this._handle);
    for (const p of this.probes.values()) p._close();
    // The C provider is freed once the GC has collected every handle to it.
  }

  [Symbol.dispose || Symbol.for('nodejs.dispose')]() {
    this.close();
  }

  get closed() {
    return this._closed;
  }

  get loaded() {
    return !this._closed && native.info(this._handle).loaded;
  }

  /** The loaded object's file descriptor (/proc/self/fd/N), or null. */
  get fd() {
    return this._closed ? null : native.info(this._handle).fd;
  }

  /** The probe instruction size in use: 1, 5 or 10. */
  get probeNop() {
    this._live('probeNop');
    return native.info(this._handle).probeNop;
  }

  _live(what) {
    if (this._closed) {
      throw new UsdtError(`usdtkit: ${what} on closed provider '${this.name}'`, 'ERR_USDTKIT_CLOSED', 0);
    }
  }

  toString() {
    const state = this._closed ? 'closed' : (this.loaded ? 'loaded' : 'not loaded');
    return `Provider(${this.name}, ${this.probes.size} probes, ${state})`;
  }
}

module.exports = {
  Provider,
  Probe,
  UsdtError,
  types,
  MAX_ARGS,
  /** The path of the libusdtkit in use (loads it if needed). */
  libraryPath() {
    load();
    return libraryPath;
  },
};
