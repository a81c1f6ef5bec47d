// SPDX-License-Identifier: MIT OR GPL-2.0-only
// End to end: server.js on 127.0.0.1 (ephemeral port), `usdtkit trace
// --format` attached, requests made, and one traced line per response with
// the right method, path, status and size. The tracer attaches
// asynchronously, so a warm-up request is repeated until its line shows up.
'use strict';

const path = require('path');
const helpers = require(path.join(__dirname, '..', '..', '..', 'bindings', 'node', 'testlib', 'helpers.js'));
const { CLI, whyNoTrace, startChild } = helpers;
const test = require('node:test');
const assert = require('node:assert');
const http = require('http');
const { spawn } = require('child_process');
const readline = require('readline');

const SERVER = path.join(__dirname, '..', 'server.js');
const FORMAT = '{client} {method} {path} -> {status} ({bytes} bytes)';

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

// Wraps the ready protocol: the server prints "listening on URL (pid N)".
async function startServer() {
  const c = await startChild([process.execPath, '-e', `
    const orig = console.log;
    console.log = (...a) => { orig('ready', ...a); console.log = orig; };
    require(${JSON.stringify(SERVER)});`, '--', '0']);
  const m = /http:\/\/127\.0\.0\.1:(\d+)\/ \(pid (\d+)\)/.exec(c.ready.join(' '));
  assert.ok(m, c.ready.join(' '));
  assert.strictEqual(Number(m[2]), c.pid);
  c.url = `http://127.0.0.1:${m[1]}`;
  return c;
}

test('the untraced server answers', async () => {
  const c = await startServer();
  try {
    const r = await get(`${c.url}/hello?name=usdt`);
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.toString(), 'hello, usdt\n');
  } finally {
    c.stop();
  }
});

test('usdtkit trace prints one line per response', async (t) => {
  const why = whyNoTrace('trace', '--format');
  if (why) return t.skip(why);
  const c = await startServer();
  const trace = spawn(CLI, ['trace', '-p', String(c.pid), '-f', FORMAT, 'nodehttp:request'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  trace.stderr.on('data', (d) => { stderr += d; });
  const lines = [];
  let wake = null;
  readline.createInterface({ input: trace.stdout }).on('line', (l) => {
    lines.push(l);
    if (wake) wake();
  });
  const waitLines = (n, ms) => new Promise((resolve) => {
    const done = () => {
      if (lines.length >= n) {
        clearTimeout(timer);
        wake = null;
        resolve(true);
      }
    };
    const timer = setTimeout(() => { wake = null; resolve(false); }, ms);
    wake = done;
    done();
  });
  try {
    const deadline = Date.now() + 60000;
    for (;;) {
      assert.ok(trace.exitCode === null, `usdtkit trace exited: ${stderr}`);
      assert.ok(Date.now() < deadline, `the tracer never saw the warm-up request: ${stderr}`);
      await get(`${c.url}/hello?name=warmup`);
      if (await waitLines(1, 500)) break;
    }
    const warm = lines.length;
    // Late warm-up lines are possible; the requests below are told apart by path.
    assert.strictEqual((await get(`${c.url}/bytes/12345`)).body.length, 12345);
    assert.strictEqual((await get(`${c.url}/nope`)).status, 404);
    const ok = await waitLines(warm + 2, 30000);
    assert.ok(ok, `missing lines: ${JSON.stringify(lines)} ${stderr}`);
  } finally {
    trace.kill('SIGINT');
    await new Promise((resolve) => trace.on('close', resolve));
    c.stop();
  }
  const re = (p, s, b) => new RegExp(`^127\\.0\\.0\\.1:\\d+ GET ${p} -> ${s} \\(${b} bytes\\)$`);
  const others = lines.filter((l) => !l.includes(' /hello '));
  assert.strictEqual(others.length, 2, JSON.stringify(lines));
  assert.match(others[0], re('/bytes/12345', 200, 12345));
  assert.match(others[1], re('/nope', 404, 10));
  for (const l of lines.filter((x) => x.includes(' /hello '))) assert.match(l, re('/hello', 200, 14));
  assert.match(stderr, / 0 lost/);
});
