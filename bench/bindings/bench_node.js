#!/usr/bin/env node
// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Cost of an untraced probe.fire() in Node.js against a call of a function
 * that does nothing, in one run (same process, same arguments). Also, for
 * scale: fire() with the semaphore raised by hand (conversion and the
 * N-API call, no uprobe), and, as root with `usdtkit trace`, really traced.
 *
 *   USDTKIT_LIBRARY=build/lib/libusdtkit.so USDTKIT_NODE_ADDON=build/lib/usdtkit.node \
 *       node bench/bindings/bench_node.js [--cli build/bin/usdtkit]
 *
 * V8 inlines small functions: the "noop" figure is what a do-nothing call
 * really costs in optimized JS, which is close to nothing.
 */
'use strict';

const path = require('path');
const { spawn } = require('child_process');
const { Provider, libraryPath } = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

function noop(p, s) {} // eslint-disable-line no-unused-vars

function perCall(fn, n, repeat = 7) {
  let best = Infinity;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    fn(n);
    const dt = Number(process.hrtime.bigint() - t0) / n;
    if (dt < best) best = dt;
  }
  return best;
}

async function main() {
  const cliIdx = process.argv.indexOf('--cli');
  const cli = cliIdx > 0 ? process.argv[cliIdx + 1] : null;
  const n = 20_000_000;
  const prov = new Provider('benchnode');
  const probe = prov.addProbe('request', 'path:str', 'size:i64');
  prov.load();

  const loops = {
    loop: (k) => { for (let i = 0; i < k; i++); },
    noop: (k) => { for (let i = 0; i < k; i++) noop('/index.html', i); },
    fire: (k) => { for (let i = 0; i < k; i++) probe.fire('/index.html', i); },
    enabled: (k) => { let c = 0; for (let i = 0; i < k; i++) if (probe.enabled) c++; return c; },
  };
  for (const f of Object.values(loops)) f(n / 10); // warm up: let V8 optimize
  const loop = perCall(loops.loop, n);
  const tNoop = perCall(loops.noop, n) - loop;
  const tFire = perCall(loops.fire, n) - loop;
  const tEnabled = perCall(loops.enabled, n) - loop;
  const row = (label, v, extra = '') => console.log(`${label.padEnd(44)} ${v.toFixed(2).padStart(8)} ns/call${extra}`);
  console.log(`node ${process.version}, ${libraryPath()}`);
  row('empty loop iteration (subtracted below)', loop);
  row('noop(path, size)', tNoop);
  // V8 inlines the empty function away (about 0 ns): a ratio to it means
  // nothing then, the difference does.
  const ratio = tNoop >= 0.5 ? `, ${(tFire / tNoop).toFixed(2)}x noop` : '';
  row('probe.fire(path, size), untraced', tFire, `  (+${(tFire - tNoop).toFixed(2)} ns over noop${ratio})`);
  row('probe.enabled', tEnabled);

  probe._sema[0] += 1;
  const tForced = perCall(loops.fire, n / 100, 3) - loop;
  probe._sema[0] -= 1;
  row('fire, semaphore forced (no uprobe)', tForced);

  if (cli && process.getuid() === 0) {
    const tr = spawn(cli, ['trace', '-p', String(process.pid), '-o', '/dev/null', 'benchnode:request'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    tr.stderr.on('data', (d) => { err += d; });
    const deadline = Date.now() + 30000;
    while (!probe.enabled && Date.now() < deadline && tr.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (probe.enabled) row('fire, traced by usdtkit trace', perCall(loops.fire, n / 1000, 3) - loop);
    tr.kill('SIGTERM');
    await new Promise((r) => tr.on('close', r));
    if (err.trim()) console.log(`  usdtkit trace: ${err.trim().split('\n').pop()}`);
  }
  prov.close();
}

main();
