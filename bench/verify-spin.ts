// A worker thread of the blocks suite (bench/blocks.ts): verifies fixed signatures with one backend
// for a set time once the main thread says go, so that N of them at once measure what N threads of
// bare signature checks reach on this machine (the reference for the pool's parallel figures).

import { parentPort, workerData } from 'node:worker_threads';
import { loadBackend, type BackendName } from '../src/script/backends.js';
import { checkFixed, fixedSignatures, verifyFor } from './fixed-sigs.js';

const { kind, ms, control, crypto } = workerData as { kind: 'ecdsa' | 'schnorr'; ms: number; control: SharedArrayBuffer; crypto: BackendName };
const backend = await loadBackend(crypto);
const f = fixedSignatures();
checkFixed(f, backend);
const flag = new Int32Array(control);
parentPort!.postMessage({ ready: true });
while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1000);
const { count, elapsedMs, ok } = verifyFor(f, backend, kind, ms);
parentPort!.postMessage({ ready: false, count, elapsedMs, ok });
