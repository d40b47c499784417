// A worker thread of the utxo suite (bench/utxo.ts): opens the suite's LMDB store itself, checks its
// look-ups against the expected values, then runs timed look-up loops when the main thread says go.
// No logic beyond the loop: the store and the decoder are src/store's.

import { parentPort, workerData } from 'node:worker_threads';
import { open, type Database } from 'lmdb';
import type { Coin } from '../src/consensus/coins.js';
import { ChainStore } from '../src/store/index.js';
import { decodeCoin } from '../src/store/records.js';
import { lookupKeys, LOOKUP_BATCH, type UtxoMode, type UtxoWorkerData, type WorkerReply, type WorkerRequest } from './utxo-shared.js';

const data = workerData as UtxoWorkerData;
const port = parentPort!;
const store = ChainStore.open(data.dir, { network: 'regtest' });
const root = open({ path: data.dir, noSubdir: false, maxDbs: 8 });
const coinsDb: Database<Uint8Array, Uint8Array> = root.openDB<Uint8Array, Uint8Array>('coins', { encoding: 'binary', keyEncoding: 'binary' });
const keys = new Uint8Array(data.keys);
const values = new Float64Array(data.values);
const control = new Int32Array(data.control);
const picks = lookupKeys(keys, data.count, data.seed);
let map: Map<string, Coin> | undefined;

const latin1 = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');

function lookup(mode: UtxoMode, i: number): Coin | undefined {
  const k = picks.keys[i]!;
  switch (mode) {
    case 'getCoin':
      return store.getCoin(picks.txids[i]!, picks.vouts[i]!);
    case 'get': {
      const v = coinsDb.get(k);
      return v === undefined ? undefined : decodeCoin(v);
    }
    case 'map':
      return map!.get(picks.strings[i]!);
  }
}

function prepare(mode: UtxoMode): string | undefined {
  if (mode === 'map' && map === undefined) {
    map = new Map();
    for (let n = 0; n < data.count; n++) {
      const k = keys.subarray(36 * n, 36 * n + 36);
      const c = store.getCoin(k.subarray(0, 32), new DataView(k.buffer, k.byteOffset + 32, 4).getUint32(0, true));
      if (c === undefined) return `coin ${n} is missing from the store`;
      map.set(latin1(k), c);
    }
    for (let i = 0; i < picks.keys.length; i++) picks.strings[i] = latin1(picks.keys[i]!);
  }
  // Check before timing: the first 2,000 look-ups of the loop return the coins written.
  for (let i = 0; i < 2000; i++) {
    const c = lookup(mode, i);
    if (c === undefined || c.value !== values[picks.index[i]!]) return `${mode}: look-up ${i} (coin ${picks.index[i]}) returned ${c === undefined ? 'nothing' : c.value}`;
  }
  return undefined;
}

function run(mode: UtxoMode, ms: number, generation: number): WorkerReply {
  // Wait for the main thread's go, so the threads start together.
  while (Atomics.load(control, 0) < generation) Atomics.wait(control, 0, Atomics.load(control, 0), 1000);
  const mask = picks.keys.length - 1;
  let i = 0;
  let acc = 0;
  let count = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let j = 0; j < LOOKUP_BATCH; j++) acc += lookup(mode, i++ & mask)!.value;
    count += LOOKUP_BATCH;
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  return { kind: 'done', count, elapsedMs: elapsed, acc };
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.kind === 'prepare') {
    const error = prepare(msg.mode);
    port.postMessage(error === undefined ? ({ kind: 'ready' } satisfies WorkerReply) : ({ kind: 'error', message: error } satisfies WorkerReply));
  } else if (msg.kind === 'run') {
    port.postMessage({ kind: 'armed' } satisfies WorkerReply);
    port.postMessage(run(msg.mode, msg.ms, msg.generation));
  } else {
    map = undefined;
    void Promise.all([store.close(), root.close()]).then(() => port.close());
  }
});
