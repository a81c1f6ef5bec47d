// SPDX-License-Identifier: MIT OR GPL-2.0-only
// The JS API against the real libusdtkit, no tracer needed: declaring
// probes, the life cycle, misuse errors and value conversion. The traced
// path is exercised by raising the probe's semaphore by hand, which is
// what a tracer's uprobe does (the kernel increments the same word).
'use strict';

require('../testlib/helpers');
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const usdtkit = require('..');

const { Provider, UsdtError, types } = usdtkit;

function traced(probe, fn) {
  probe._sema[0] += 1;
  try {
    fn();
  } finally {
    probe._sema[0] -= 1;
  }
}

function loadedObject(prov) {
  return fs.readFileSync(`/proc/self/fd/${prov.fd}`);
}

test('the library is the one under test', () => {
  assert.strictEqual(fs.realpathSync(usdtkit.libraryPath()), fs.realpathSync(process.env.USDTKIT_LIBRARY));
});

test('declaration forms', () => {
  const p = new Provider('nodeapi');
  const pr = p.addProbe('all', 'i8', types.UINT8, 'a16:int16', ['b16', 'u16'], { name: 'c32', type: 'i32' },
    { type: 'uint32' }, 'i64', 'u64', 'f:double', 's:str', 'ptr:pointer', 'string');
  assert.deepStrictEqual(pr.args.map((a) => a.type),
    ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f64', 'str', 'ptr', 'str']);
  assert.deepStrictEqual(pr.args.map((a) => a.name),
    [null, null, 'a16', 'b16', 'c32', null, null, null, 'f', 's', 'ptr', null]);
  assert.strictEqual(p.probes.get('all'), pr);
  assert.match(String(pr), /^nodeapi:all\(i8, u8, a16:i16, b16:u16, c32:i32, u32/);
  p.load();
  const obj = loadedObject(p);
  assert.ok(obj.includes('stapsdt'));
  assert.ok(obj.includes('a16:i16') && obj.includes('ptr:ptr') && obj.includes('f:f64'));
  p.close();
});

test('fire checks the argument count even untraced', () => {
  const p = new Provider('nodeapi');
  const pr = p.addProbe('req', 'path:str', 'size:i64');
  p.load();
  assert.throws(() => pr.fire('/'), {
    name: 'TypeError',
    message: 'usdtkit: nodeapi:req.fire(path, size) takes 2 arguments, 1 given',
  });
  assert.throws(() => pr.fire('/', 1, 2), /takes 2 arguments, 3 given/);
  pr.fire({}, 'not checked while untraced');
  assert.strictEqual(pr.enabled, false);
  p.close();
});

test('traced fire converts and checks values', () => {
  const p = new Provider('nodeapi');
  const pr = p.addProbe('req', 'path:str', 'size:u8', 'ratio:f64', 'where:ptr', 'big:u64', 'neg:i64');
  p.load();
  traced(pr, () => {
    assert.strictEqual(pr.enabled, true);
    pr.fire('/ünïcode', 255, 1, null, 2n ** 64n - 1n, -(2n ** 63n));
    pr.fire(Buffer.from('/buf'), 0n, 2.5, 0x1000, 0, -5);
    pr.fire(new Uint8Array([0x41, 0x42]), 7, -1e300, 8n, 2 ** 53, Number.MIN_SAFE_INTEGER);
    pr.fire(null, 1, 0, undefined, 1, 1);
    pr.fire('x'.repeat(10000), 1, 0, 0, 1, 1); // longer than the inline buffer
    const bad = [
      [[3, 1, 1, 0, 0, 0], TypeError, /nodeapi:req\(\) argument 0 'path' \(str\): expected a string, Buffer, Uint8Array or null, got number/],
      [['/', 256, 1, 0, 0, 0], RangeError, /argument 1 'size' \(u8\): 256 is out of range/],
      [['/', -1, 1, 0, 0, 0], RangeError, /-1 is out of range/],
      [['/', 1.5, 1, 0, 0, 0], RangeError, /1.5 is not an integer/],
      [['/', NaN, 1, 0, 0, 0], RangeError, /nan is not an integer/],
      [['/', 256n, 1, 0, 0, 0], RangeError, /u8\): BigInt out of range/],
      [['/', '1', 1, 0, 0, 0], TypeError, /expected a number or BigInt, got string/],
      [['/', 1, '1', 0, 0, 0], TypeError, /argument 2 'ratio' \(f64\): expected a number, got string/],
      [['/', 1, 1n, 0, 0, 0], TypeError, /expected a number, got bigint/],
      [['/', 1, 1, 'x', 0, 0], TypeError, /argument 3 'where' \(ptr\): expected a number or BigInt or null, got string/],
      [['/', 1, 1, -1, 0, 0], RangeError, /out of range/],
      [['/', 1, 1, 0, 2n ** 64n, 0], RangeError, /'big' \(u64\): BigInt out of range/],
      [['/', 1, 1, 0, -1n, 0], RangeError, /BigInt out of range/],
      [['/', 1, 1, 0, 2 ** 64, 0], RangeError, /out of range/],
      [['/', 1, 1, 0, 0, 2n ** 63n], RangeError, /'neg' \(i64\): BigInt out of range/],
      [['/', 1, 1, 0, 0, 2 ** 63], RangeError, /out of range/],
      [[new Uint16Array(2), 1, 1, 0, 0, 0], TypeError, /expected a string, Buffer/],
      [[{}, 1, 1, 0, 0, 0], TypeError, /got object/],
    ];
    for (const [args, type, re] of bad) {
      assert.throws(() => pr.fire(...args), (e) => e instanceof type && re.test(e.message),
        `fire(${args.map(String).join(', ')})`);
    }
  });
  assert.strictEqual(pr.enabled, false);
  p.close();
});

test('integer ranges', () => {
  const cases = {
    i8: [-128n, 127n], u8: [0n, 255n], i16: [-32768n, 32767n], u16: [0n, 65535n],
    i32: [-(2n ** 31n), 2n ** 31n - 1n], u32: [0n, 2n ** 32n - 1n],
    i64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n],
  };
  const p = new Provider('nodeapi');
  const probes = Object.fromEntries(Object.keys(cases).map((t) => [t, p.addProbe(`v_${t}`, t)]));
  p.load();
  for (const [t, [lo, hi]] of Object.entries(cases)) {
    const pr = probes[t];
    traced(pr, () => {
      pr.fire(lo);
      pr.fire(hi);
      if (hi < 2n ** 53n) pr.fire(Number(hi));
      assert.throws(() => pr.fire(lo - 1n), RangeError, `${t} ${lo - 1n}`);
      assert.throws(() => pr.fire(hi + 1n), RangeError, `${t} ${hi + 1n}`);
      if (hi < 2n ** 53n) assert.throws(() => pr.fire(Number(hi) + 1), RangeError);
    });
  }
  p.close();
});

test('strict mode checks untraced calls', () => {
  const p = new Provider('nodeapi', { strict: true });
  const pr = p.addProbe('req', 'size:u8');
  pr.fire(3); // strict, even before load
  assert.throws(() => pr.fire('3'), /expected a number or BigInt, got string/);
  p.load();
  assert.throws(() => pr.fire(300), RangeError);
  p.close();
  process.env.USDTKIT_STRICT = '1';
  try {
    const q = new Provider('nodeapi').addProbe('req', 'u8');
    assert.throws(() => q.fire(-1), RangeError);
  } finally {
    delete process.env.USDTKIT_STRICT;
  }
});

test('bad provider names', () => {
  assert.throws(() => new Provider(''), { name: 'TypeError', message: /invalid provider name '': must be a C identifier/ });
  assert.throws(() => new Provider('9lives'), TypeError);
  assert.throws(() => new Provider('has-dash'), TypeError);
  assert.throws(() => new Provider('x'.repeat(64)), { name: 'RangeError', message: /too long/ });
  assert.throws(() => new Provider(42), { name: 'TypeError', message: /must be a string/ });
  assert.throws(() => new Provider('ok', { probeNop: 3 }), { name: 'RangeError', message: /probeNop must be 1, 5 or 10/ });
});

test('bad probe declarations', () => {
  const p = new Provider('nodeapi');
  assert.throws(() => p.addProbe('a b'), /invalid probe name 'a b'/);
  assert.throws(() => p.addProbe('p'.repeat(64)), RangeError);
  assert.throws(() => p.addProbe('many', ...Array(13).fill('i64')), { name: 'RangeError', message: /13 arguments, at most 12/ });
  assert.throws(() => p.addProbe('t', 'i128'), { name: 'TypeError', message: /unknown type 'i128'/ });
  assert.throws(() => p.addProbe('t', 7), { name: 'TypeError', message: /the type must be a string/ });
  assert.throws(() => p.addProbe('t', ['a', 'i64', 1]), /expected \[name, type\]/);
  assert.throws(() => p.addProbe('t', '1a:i64'), /invalid argument name '1a'/);
  assert.throws(() => p.addProbe('t', 'a:i64', ['a', 'str']), /argument 'a' declared twice/);
  p.addProbe('dup');
  assert.throws(() => p.addProbe('dup'), (e) => e instanceof UsdtError && e.code === 'EEXIST' &&
    /already has a probe 'dup'/.test(e.message));
  assert.deepStrictEqual([...p.probes.keys()], ['dup']);
  p.close();
});

test('life cycle errors', () => {
  const p = new Provider('nodeapi');
  assert.throws(() => p.load(), (e) => e instanceof UsdtError && e.code === 'ENODATA' && e.errno === 61 &&
    /load provider 'nodeapi': .*\(add a probe first\)/.test(e.message));
  assert.throws(() => p.unload(), (e) => e.code === 'ENOENT' && /\(not loaded\)/.test(e.message));
  const pr = p.addProbe('a', 'i64');
  assert.strictEqual(p.load(), p);
  assert.ok(p.loaded && typeof pr.address === 'bigint' && p.fd !== null);
  assert.ok([1, 5, 10].includes(p.probeNop));
  assert.throws(() => p.load(), (e) => e.code === 'EALREADY' && /\(already loaded\)/.test(e.message));
  assert.throws(() => p.addProbe('b'), (e) => e.code === 'EBUSY' && e.errno === 16 &&
    /unload\(\), addProbe\(\), load\(\) again/.test(e.message));
  p.unload();
  assert.ok(!p.loaded && pr.address === null && p.fd === null);
  p.addProbe('b');
  p.load();
  p.close();
  p.close(); // idempotent
  assert.ok(p.closed && !p.loaded && /closed/.test(String(p)));
  for (const f of [() => p.load(), () => p.unload(), () => p.addProbe('c'), () => p.probeNop]) {
    assert.throws(f, (e) => e.code === 'ERR_USDTKIT_CLOSED' && /on closed provider 'nodeapi'/.test(e.message));
  }
  pr.fire(1); // a closed provider's probe is a no-op, like an unloaded one
  assert.strictEqual(pr.enabled, false);
  assert.strictEqual(pr.address, null);
});

test('the semaphore view survives unload and reload', () => {
  const p = new Provider('nodereload');
  const pr = p.addProbe('a', 'n:u8');
  const bare = p.addProbe('bare');
  p.load();
  traced(bare, () => bare.fire()); // no arguments: an empty value array
  p.unload();
  assert.strictEqual(pr.enabled, false); // unload zeroes the semaphores
  p.load();
  traced(pr, () => {
    assert.strictEqual(pr.enabled, true);
    assert.throws(() => pr.fire(256), RangeError); // traced again: converted and checked
    pr.fire(255);
  });
  p.close();
});

test('using/dispose closes', () => {
  const p = new Provider('nodedisp');
  p.addProbe('a');
  p.load();
  const fd = p.fd;
  assert.match(fs.readlinkSync(`/proc/self/fd/${fd}`), /nodedisp/);
  p[Symbol.dispose || Symbol.for('nodejs.dispose')]();
  assert.ok(p.closed);
});

test('noMemfd and probeNop options', () => {
  const p = new Provider('nodeopt', { noMemfd: true, probeNop: 1 });
  p.addProbe('a');
  p.load();
  assert.strictEqual(p.probeNop, 1);
  assert.doesNotMatch(fs.readlinkSync(`/proc/self/fd/${p.fd}`), /memfd:/);
  p.close();
});

test('providers are freed once closed and collected', () => {
  // A child with --expose-gc: create, fire and close many providers while
  // holding some probes past close(), then collect. close() released each
  // loaded object (no fd left), the finalizers freed the providers without
  // crashing, and the stale probes stayed harmless no-ops.
  const { spawnSync } = require('child_process');
  const script = `
    const { Provider } = require(${JSON.stringify(require.resolve('..'))});
    const fs = require('fs');
    const fds = () => fs.readdirSync('/proc/self/fd').filter((f) => {
      try { return fs.readlinkSync('/proc/self/fd/' + f).includes('nodegc'); } catch { return false; }
    }).length;
    const stale = [];
    for (let i = 0; i < 200; i++) {
      const p = new Provider('nodegc');
      const pr = p.addProbe('a', 's:str', 'n:i64');
      p.load();
      pr._sema[0] += 1; pr.fire('x', i); pr._sema[0] -= 1;
      p.close();
      if (i % 20 === 0) stale.push(pr);
    }
    const before = fds();
    for (let i = 0; i < 5; i++) global.gc();
    setTimeout(() => {
      global.gc();
      for (const pr of stale) pr.fire('late', 1);
      console.log(JSON.stringify({ before, after: fds() }));
    }, 100);`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env: process.env });
  assert.strictEqual(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout);
  assert.deepStrictEqual([before, after], [0, 0], r.stdout);
});

test('a missing library is reported with what to do', () => {
  const { spawnSync } = require('child_process');
  const r = spawnSync(process.execPath, ['-e', `
    try { new (require(${JSON.stringify(require.resolve('..'))}).Provider)('x'); }
    catch (e) { console.log(e.message); }`], {
    env: { ...process.env, USDTKIT_LIBRARY: '/nonexistent/libusdtkit.so' },
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /cannot load libusdtkit .*USDTKIT_LIBRARY.*\/nonexistent\/libusdtkit\.so/);
});

test('loadWaitMs is passed on and validated', () => {
  for (const w of [5, 0, -1, 100000]) {
    const p = new Provider('nodewait', { loadWaitMs: w });
    p.addProbe('a');
    assert.strictEqual(p.load(), p);
    p.close();
  }
  assert.throws(() => new Provider('nodewait', { loadWaitMs: 1.5 }), /loadWaitMs must be an integer/);
  assert.throws(() => new Provider('nodewait', { loadWaitMs: '5' }), TypeError);
});
