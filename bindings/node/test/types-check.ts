// SPDX-License-Identifier: MIT OR GPL-2.0-only
// Type-checked (tsc --noEmit --strict) by types.test.js against
// lib/index.d.ts through package.json's "types": the documented API compiles.
import { Provider, Probe, UsdtError, types, MAX_ARGS, libraryPath, ArgSpec } from '..';

const prov: Provider = new Provider('tsapp', { probeNop: 5, strict: true });
const specs: ArgSpec[] = ['path:str', ['size', 'i64'], { name: 'ratio', type: types.DOUBLE }, 'u8'];
const req: Probe = prov.addProbe('request', ...specs);
const loaded: Provider = prov.load();
req.fire('/index.html', 512n, 0.5, 7);
req.fire(null, 1, 2, Buffer.from('x'));
const on: boolean = req.enabled;
const addr: bigint | null = req.address;
const fd: number | null = prov.fd;
const n: 1 | 5 | 10 = prov.probeNop;
const names: (string | null)[] = req.args.map((a) => a.name);
const max: number = MAX_ARGS;
const lib: string = libraryPath();
try {
  prov.unload();
} catch (e) {
  if (e instanceof UsdtError) console.log(e.code, e.errno);
}
prov.close();
console.log(loaded, on, addr, fd, n, names, max, lib, prov.probes.get('request'));

declare const Buffer: { from(s: string): Uint8Array };
