// SPDX-License-Identifier: MIT OR GPL-2.0-only
// `npm install` of this package builds the addon offline against the
// headers of the running node (no download of node headers, no registry),
// and the installed package works.
'use strict';

const { SRC_DIR, PKG_DIR } = require('../testlib/helpers');
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

test('npm install --offline builds and the package works', async (t) => {
  if (spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0) return t.skip('npm not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usdtkit-npm-'));
  try {
    // --install-links copies the package (the default links it and builds
    // inside the source tree, where concurrent test runs would collide);
    // a copy finds <usdtkit/provider.h> through USDTKIT_INCLUDE_DIR. No user
    // npmrc: the build must not depend on a nodedir set there.
    const env = {
      ...process.env,
      npm_config_userconfig: '/dev/null',
      npm_config_update_notifier: 'false',
      npm_config_cache: path.join(dir, '.npm'),
      USDTKIT_INCLUDE_DIR: path.join(SRC_DIR, 'include'),
      HOME: dir, // node-gyp would put downloaded headers here: there must be none
    };
    delete env.USDTKIT_NODE_ADDON;
    const r = spawnSync('npm', ['install', '--offline', '--install-links', '--foreground-scripts', PKG_DIR],
      { cwd: dir, env, encoding: 'utf8', timeout: 240000 });
    assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const addon = path.join(dir, 'node_modules', 'usdtkit', 'build', 'Release', 'usdtkit.node');
    assert.ok(fs.existsSync(addon), r.stdout + r.stderr);
    assert.ok(!fs.existsSync(path.join(dir, '.cache', 'node-gyp')), 'node-gyp downloaded headers');
    const script = `
      const u = require('usdtkit');
      const p = new u.Provider('npminstalled');
      const pr = p.addProbe('hello', 'who:str');
      p.load();
      pr.fire('world');
      console.log(require.resolve('usdtkit'));
      console.log(require('fs').readlinkSync('/proc/self/fd/' + p.fd));
      p.close();`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: dir, env, encoding: 'utf8' });
    assert.strictEqual(run.status, 0, run.stderr);
    const [resolved, obj] = run.stdout.trim().split('\n');
    assert.strictEqual(resolved, path.join(fs.realpathSync(dir), 'node_modules', 'usdtkit', 'lib', 'index.js'));
    assert.match(obj, /^\/memfd:npminstalled/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
