#!/usr/bin/env node
// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A Node.js HTTP server with a USDT probe fired from its request handler:
 * nodehttp:request(client, method, path, status, bytes) for every response.
 *
 *   node server.js [PORT [HOST]]          (PORT 0 picks a free one)
 *
 *   # usdtkit trace -p PID -f '{client} {method} {path} -> {status} ({bytes} bytes)' nodehttp:request
 */
'use strict';

const http = require('http');

// The installed package (npm install in this directory), else the checkout's.
let usdtkit;
try {
  usdtkit = require('usdtkit');
} catch {
  usdtkit = require('../../bindings/node');
}

const provider = new usdtkit.Provider('nodehttp');
const request = provider.addProbe('request', 'client:str', 'method:str', 'path:str', 'status:i32', 'bytes:i64');
provider.load();

function handler(req, res) {
  const url = new URL(req.url, 'http://localhost');
  let status = 200;
  let body;
  if (url.pathname === '/hello') {
    body = `hello, ${url.searchParams.get('name') || 'world'}\n`;
  } else if (url.pathname.startsWith('/bytes/')) {
    const n = Number(url.pathname.slice('/bytes/'.length));
    if (Number.isInteger(n) && n >= 0 && n <= 1 << 20) body = Buffer.alloc(n, 'x');
    else [status, body] = [400, 'bad size\n'];
  } else {
    [status, body] = [404, 'not found\n'];
  }
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': buf.length });
  res.end(buf);
  // Free unless traced: one typed-array load. Arguments are only built when
  // someone listens, for the cost of the check.
  if (request.enabled) {
    request.fire(`${req.socket.remoteAddress}:${req.socket.remotePort}`, req.method, url.pathname, status, buf.length);
  }
}

const port = Number(process.argv[2] || 8080);
const host = process.argv[3] || '127.0.0.1';
const server = http.createServer(handler);
server.listen(port, host, () => {
  const a = server.address();
  console.log(`listening on http://${a.address}:${a.port}/ (pid ${process.pid})`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    provider.close();
    process.exit(0);
  });
}
