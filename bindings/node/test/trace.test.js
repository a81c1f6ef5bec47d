// SPDX-License-Identifier: MIT OR GPL-2.0-only
// A Node process's probes as the tracers see them: listed by `usdtkit list
// -p`, traced with named, typed arguments by `usdtkit trace` (JSON and
// --format), and by bpftrace as an independent reader.
'use strict';

const { CLI, whyNoTrace, whyNoCommand, startChild, runTrace, jsonEvents } = require('../testlib/helpers');
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');

// Fires every 10 ms; every value derives from the counter i, so each traced
// event can be checked on its own, whenever the tracer happened to attach.
const CHILD = `
  const { Provider } = require(${JSON.stringify(require.resolve('..'))});
  const p = new Provider('nodetest_prov');
  const ev = p.addProbe('event', 'path:str', 'size:i64', 'small:u8', 'neg:i32', 'ratio:f64', 'big:u64');
  const other = p.addProbe('other');
  p.load();
  console.log('ready');
  let i = 0;
  const t = setInterval(() => {
    ev.fire('/files/f' + i + '-ü.txt', i * 1000, i % 256, -i, i / 4, 2n ** 64n - 1n - BigInt(i));
    other.fire();
    i++;
  }, 10);
  setTimeout(() => clearInterval(t), 120000);
`;

function child() {
  return startChild([process.execPath, '-e', CHILD]);
}

function checkArgs(a) {
  const i = a.size / 1000;
  assert.ok(Number.isInteger(i), JSON.stringify(a));
  assert.strictEqual(a.path, `/files/f${i}-ü.txt`);
  assert.strictEqual(a.small, i % 256);
  assert.strictEqual(a.neg, -i);
  assert.strictEqual(a.ratio, i / 4);
  // JSON.parse reads u64 as a double; compare through the text instead.
  return i;
}

test('usdtkit list -p shows the probes with names and types', async (t) => {
  const why = whyNoCommand('list', '--json');
  if (why) return t.skip(why);
  const c = await child();
  try {
    const r = spawnSync(CLI, ['list', '-p', String(c.pid), '--json', 'nodetest_prov:*'], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const probes = Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((j) => [j.name, j]));
    assert.deepStrictEqual(Object.keys(probes).sort(), ['event', 'other']);
    const ev = probes.event;
    assert.strictEqual(ev.pid, c.pid);
    assert.match(ev.path, /memfd:nodetest_prov/);
    assert.strictEqual(ev.locations.length, 1);
    assert.notStrictEqual(ev.locations[0].semaphore, null);
    assert.deepStrictEqual(ev.locations[0].args.map((a) => `${a.name}:${a.type}`),
      ['path:str', 'size:i64', 'small:u8', 'neg:i32', 'ratio:f64', 'big:u64']);
    assert.deepStrictEqual(probes.other.locations[0].args, []);
  } finally {
    c.stop();
  }
});

test('usdtkit trace --json receives named, typed arguments', async (t) => {
  const why = whyNoTrace('trace', '--json');
  if (why) return t.skip(why);
  const c = await child();
  try {
    const r = await runTrace(['-p', String(c.pid), '--json', '-n', '5', 'nodetest_prov:event']);
    assert.strictEqual(r.status, 0, r.stderr);
    const evs = jsonEvents(r.stdout);
    assert.strictEqual(evs.length, 5, r.stdout);
    const seen = [];
    for (const e of evs) {
      assert.strictEqual(e.pid, c.pid);
      assert.strictEqual(`${e.provider}:${e.name}`, 'nodetest_prov:event');
      assert.deepStrictEqual(Object.keys(e.args), ['path', 'size', 'small', 'neg', 'ratio', 'big']);
      seen.push(checkArgs(e.args));
    }
    // u64 exactly, from the raw JSON text
    for (const [k, line] of r.stdout.split('\n').filter((l) => l.includes('"event"')).entries()) {
      assert.match(line, new RegExp(`"big":${2n ** 64n - 1n - BigInt(seen[k])}[,}]`));
    }
    assert.deepStrictEqual([...seen].sort((a, b) => a - b), seen);
  } finally {
    c.stop();
  }
});

test('usdtkit trace --format', async (t) => {
  const why = whyNoTrace('trace', '--format');
  if (why) return t.skip(why);
  const c = await child();
  try {
    const r = await runTrace(['-p', String(c.pid), '-n', '3', '-f', '{probe} {path} size={size} n={neg}',
      'nodetest_prov:event']);
    assert.strictEqual(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.strictEqual(lines.length, 3, r.stdout);
    for (const l of lines) {
      const m = /^nodetest_prov:event (\S+) size=(\d+) n=(-?\d+)$/.exec(l);
      assert.ok(m, l);
      const i = Number(m[2]) / 1000;
      assert.strictEqual(m[1], `/files/f${i}-ü.txt`);
      assert.strictEqual(Number(m[3]), -i);
    }
  } finally {
    c.stop();
  }
});

test('bpftrace reads the same arguments', async (t) => {
  if (process.getuid() !== 0) return t.skip('bpftrace needs root');
  if (spawnSync('sh', ['-c', 'command -v bpftrace']).status !== 0) return t.skip('bpftrace not installed');
  const c = await child();
  try {
    const prog = 'usdt::nodetest_prov:event { printf("%s|%d|%d\\n", str(arg0), arg1, (int32)arg3); ' +
      'if (++@n >= 3) { exit(); } }';
    const r = spawnSync('bpftrace', ['-p', String(c.pid), '-e', prog], { encoding: 'utf8', timeout: 120000 });
    const lines = r.stdout.split('\n').filter((l) => l.split('|').length === 3);
    assert.ok(lines.length >= 3, `${r.status} ${r.stdout} ${r.stderr}`);
    for (const l of lines) {
      const [p, size, neg] = l.split('|');
      const i = Number(size) / 1000;
      assert.strictEqual(p, `/files/f${i}-ü.txt`);
      assert.strictEqual(Number(neg), -i);
    }
  } finally {
    c.stop();
  }
});

// null for a str argument is a NULL pointer in the process, as bpftrace
// reads it: even fires pass null, odd ones a real string.
const NULL_CHILD = `
  const { Provider } = require(${JSON.stringify(require.resolve('..'))});
  const p = new Provider('nodetest_null');
  const ev = p.addProbe('maybe', 's:str', 'n:i64');
  p.load();
  console.log('ready');
  let i = 0;
  const t = setInterval(() => { ev.fire(i % 2 === 0 ? null : 'set', i); i++; }, 10);
  setTimeout(() => clearInterval(t), 120000);
`;

test('a null string argument arrives as a NULL pointer', async (t) => {
  if (process.getuid() !== 0) return t.skip('bpftrace needs root');
  if (spawnSync('sh', ['-c', 'command -v bpftrace']).status !== 0) return t.skip('bpftrace not installed');
  const c = await startChild([process.execPath, '-e', NULL_CHILD]);
  try {
    const prog = 'usdt::nodetest_null:maybe { printf("%d|%d\\n", arg1, arg0 == 0); if (++@n >= 6) { exit(); } }';
    const r = spawnSync('bpftrace', ['-p', String(c.pid), '-e', prog], { encoding: 'utf8', timeout: 120000 });
    const lines = r.stdout.split('\n').filter((l) => l.split('|').length === 2);
    assert.ok(lines.length >= 6, `${r.status} ${r.stdout} ${r.stderr}`);
    for (const l of lines) {
      const [i, isNull] = l.split('|');
      assert.strictEqual(isNull, Number(i) % 2 === 0 ? '1' : '0', lines.join(' '));
    }
  } finally {
    c.stop();
  }
});
