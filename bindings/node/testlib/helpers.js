// SPDX-License-Identifier: MIT OR GPL-2.0-only
// Shared by the node --test suites: paths of the build under test, skips
// with reasons, child processes with a `ready` line, and `usdtkit trace`.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const readline = require('readline');

const SRC_DIR = process.env.USDTKIT_SOURCE_DIR || path.join(__dirname, '..', '..', '..');
const BUILD_DIR = process.env.USDTKIT_BUILD_DIR || path.join(SRC_DIR, 'build');
const CLI = path.join(BUILD_DIR, 'bin', 'usdtkit');
const PKG_DIR = path.join(__dirname, '..');

if (!process.env.USDTKIT_LIBRARY) process.env.USDTKIT_LIBRARY = path.join(BUILD_DIR, 'lib', 'libusdtkit.so');
if (!process.env.USDTKIT_NODE_ADDON) {
  const built = path.join(BUILD_DIR, 'lib', 'usdtkit.node');
  if (fs.existsSync(built)) process.env.USDTKIT_NODE_ADDON = built;
}

/** Returns a reason to skip tracing tests, or null. */
function whyNoTrace(command, needle) {
  if (process.getuid() !== 0) return `tracing needs root (CAP_BPF, CAP_PERFMON); uid ${process.getuid()}`;
  return whyNoCommand(command, needle);
}

function whyNoCommand(command, needle) {
  if (!fs.existsSync(CLI)) return `${CLI} not built`;
  const r = spawnSync(CLI, [command, '--help'], { encoding: 'utf8', timeout: 30000 });
  const text = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !text.includes(needle)) {
    return `\`usdtkit ${command}\` is not functional yet (--help exit ${r.status}: ${text.trim().slice(0, 200)})`;
  }
  return null;
}

/** Starts `node -e SCRIPT`; resolves once it printed `ready`. */
function startChild(argv, options = {}) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], ...options });
  const lines = readline.createInterface({ input: child.stdout });
  const queue = [];
  const waiters = [];
  lines.on('line', (l) => {
    if (waiters.length) waiters.shift()(l);
    else queue.push(l);
  });
  child.nextLine = (ms = 30000) => new Promise((resolve, reject) => {
    if (queue.length) return resolve(queue.shift());
    const t = setTimeout(() => reject(new Error(`child: no output within ${ms} ms`)), ms);
    waiters.push((l) => {
      clearTimeout(t);
      resolve(l);
    });
  });
  child.stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return child.nextLine().then((line) => {
    if (line.split(' ')[0] !== 'ready') {
      child.stop();
      throw new Error(`child did not start: ${line}`);
    }
    child.ready = line.split(' ').slice(1);
    return child;
  }, (e) => {
    child.stop();
    throw e;
  });
}

/** Runs `usdtkit trace ARGV` to completion; resolves { status, stdout, stderr }. */
function runTrace(argv, timeoutMs = 90000) {
  return new Promise((resolve, reject) => {
    const p = spawn(CLI, ['trace', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`usdtkit trace did not finish: ${stdout} ${stderr}`));
    }, timeoutMs);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

function jsonEvents(out) {
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.type === 'event');
}

module.exports = { SRC_DIR, BUILD_DIR, CLI, PKG_DIR, whyNoTrace, whyNoCommand, startChild, runTrace, jsonEvents };
