// SPDX-License-Identifier: MIT OR GPL-2.0-only
// The TypeScript declarations (lib/index.d.ts): package.json points at
// them and ships them; they declare exactly what lib/index.js exports and
// every public member of Provider and Probe; and, where TypeScript can be
// had (TSC=path, a tsc on PATH, or `npm install typescript` from the
// registry into a temporary directory), tsc --strict accepts
// test/types-check.ts and rejects test/types-bad.ts.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const PKG = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
const DTS = fs.readFileSync(path.join(PKG, pkg.types || 'missing'), 'utf8');

function classBody(name) {
  const m = new RegExp(`export class ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(DTS);
  assert.ok(m, `index.d.ts declares class ${name}`);
  return m[1];
}

test('package.json names the declarations and ships them', () => {
  assert.strictEqual(pkg.types, 'lib/index.d.ts');
  assert.ok(pkg.files.some((f) => pkg.types.startsWith(f)), `${pkg.types} is in "files"`);
});

test('the declarations cover exactly the exports', () => {
  const declared = new Set([...DTS.matchAll(/^export (?:class|const|function) (\w+)/gm)].map((m) => m[1]));
  // The module's export names, read from its source: loading it needs the addon.
  const src = fs.readFileSync(path.join(PKG, pkg.main), 'utf8');
  const block = /module\.exports = \{([\s\S]*?)\n\};/.exec(src)[1];
  const exported = new Set([...block.matchAll(/^ {2}(\w+)/gm)].map((m) => m[1]));
  assert.deepStrictEqual([...declared].sort(), [...exported].sort());
});

test('every public member of Provider and Probe is declared', () => {
  const src = fs.readFileSync(path.join(PKG, pkg.main), 'utf8');
  for (const cls of ['Provider', 'Probe']) {
    const body = new RegExp(`class ${cls} \\{([\\s\\S]*?)\\n\\}`).exec(src)[1];
    const members = [...body.matchAll(/^ {2}(?:get |static )?([a-zA-Z]\w*)\(/gm)]
      .map((m) => m[1]).filter((n) => n !== 'constructor');
    // Fields set in the constructor (this.name = ...), public ones only.
    const fields = [...body.matchAll(/this\.([a-zA-Z]\w*) = /g)].map((m) => m[1]);
    const decl = classBody(cls);
    for (const m of new Set([...members, ...fields])) {
      assert.match(decl, new RegExp(`\\b(readonly )?${m}\\b[(:?]`), `${cls}.${m} is declared`);
    }
  }
});

function findTsc() {
  if (process.env.TSC) return { tsc: process.env.TSC };
  const onPath = spawnSync('sh', ['-c', 'command -v tsc'], { encoding: 'utf8' });
  if (onPath.status === 0) return { tsc: onPath.stdout.trim() };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usdtkit-tsc-'));
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, 'typescript@5'],
    { encoding: 'utf8', timeout: 180000 });
  const tsc = path.join(dir, 'node_modules', '.bin', 'tsc');
  if (r.status !== 0 || !fs.existsSync(tsc)) {
    return { why: `typescript not available (npm install typescript: ${(r.stderr || r.error || '').toString().trim().split('\n').pop()})`, dir };
  }
  return { tsc, dir };
}

test('tsc --strict accepts the documented use and rejects misuse', (t) => {
  const found = findTsc();
  try {
    if (!found.tsc) return t.skip(found.why);
    const args = ['--noEmit', '--strict', '--target', 'es2020', '--module', 'commonjs', '--moduleResolution', 'node'];
    const ok = spawnSync(found.tsc, [...args, path.join(__dirname, 'types-check.ts')], { encoding: 'utf8', cwd: PKG });
    assert.strictEqual(ok.status, 0, `tsc on types-check.ts:\n${ok.stdout}${ok.stderr}`);
    const bad = spawnSync(found.tsc, [...args, path.join(__dirname, 'types-bad.ts')], { encoding: 'utf8', cwd: PKG });
    assert.notStrictEqual(bad.status, 0, 'tsc accepted types-bad.ts');
    // Each of the three misuses is reported.
    assert.strictEqual((bad.stdout.match(/error TS/g) || []).length, 3, bad.stdout);
  } finally {
    if (found.dir) fs.rmSync(found.dir, { recursive: true, force: true });
  }
});
