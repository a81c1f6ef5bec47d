#!/usr/bin/env node
// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * `npm install` hook: builds the addon with node-gyp against the headers
 * that come with the running node (e.g. /usr/include/node from the nodejs
 * package), never downloading them. node-gyp's default is to fetch a header
 * tarball from nodejs.org, which fails offline, hence an explicit --nodedir.
 *
 *   node scripts/build.js                  configure + build (build/Release/usdtkit.node)
 *   node scripts/build.js --include-dir    print where <usdtkit/provider.h> is (for binding.gyp)
 *
 * Overrides: npm_config_nodedir (npm --nodedir=DIR), USDTKIT_INCLUDE_DIR.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');

function includeDir() {
  const candidates = [
    process.env.USDTKIT_INCLUDE_DIR,
    // A source checkout (npm links a local folder, so this is the real path).
    path.join(fs.realpathSync(root), '..', '..', 'include'),
    '/usr/local/include',
    '/usr/include',
  ].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'usdtkit', 'provider.h'))) return dir;
  }
  throw new Error(`usdtkit: <usdtkit/provider.h> not found in ${candidates.join(', ')}; set USDTKIT_INCLUDE_DIR`);
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  // The prefix of this node: /usr/bin/node -> /usr, whose include/node has node_api.h.
  const prefix = path.join(path.dirname(fs.realpathSync(process.execPath)), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  throw new Error(`usdtkit: no Node.js headers in ${prefix}/include/node; install them ` +
    '(Debian: libnode-dev, or the nodejs package from NodeSource) or pass npm --nodedir=DIR');
}

function nodeGyp() {
  // npm tells its lifecycle scripts where its own node-gyp is.
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmDir = path.join(path.dirname(fs.realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm');
  const p = path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (fs.existsSync(p)) return p;
  return require.resolve('node-gyp/bin/node-gyp.js');
}

if (process.argv.includes('--include-dir')) {
  process.stdout.write(includeDir());
  process.exit(0);
}

try {
  includeDir();
  const args = [nodeGyp(), 'rebuild', `--nodedir=${nodeDir()}`];
  console.error(`usdtkit: ${process.execPath} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
