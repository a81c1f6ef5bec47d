// SPDX-License-Identifier: MIT OR GPL-2.0-only
// Must NOT type-check (types.test.js): proves tsc really reads the
// declarations rather than accepting anything.
import { Provider } from '..';

const prov = new Provider('tsbad');
prov.addProbe('p', 'size:i65');
prov.addProbe(42);
prov.addProbe('q').fire({});
