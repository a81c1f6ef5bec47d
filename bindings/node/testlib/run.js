// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * ctest driver for the `node --test` suites: runs them with the TAP
 * reporter and maps the outcome to ctest's conventions. No test run is a
 * failure; a run where every test was skipped exits 77 (SKIP), so a suite
 * never passes without having tested anything.
 */
'use strict';

const path = require('path');
const { spawnSync } = require('child_process');

const files = process.argv.slice(2).map((f) => path.resolve(__dirname, '..', 'test', f));
const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
process.stdout.write(r.stdout || '');
const count = (what) => {
  const m = new RegExp(`^# ${what} (\\d+)$`, 'm').exec(r.stdout || '');
  return m ? Number(m[1]) : 0;
};
const tests = count('tests');
const pass = count('pass');
const skip = count('skipped');
if (r.status !== 0) process.exit(1);
if (tests === 0) {
  console.log(`FAIL: no tests ran from ${files.join(' ')}`);
  process.exit(1);
}
if (pass === 0 && skip > 0) {
  console.log(`SKIP: all ${skip} tests were skipped (reasons above)`);
  process.exit(77);
}
process.exit(0);
