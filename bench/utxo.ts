// UTXO look-ups on a 500k-coin LMDB store, on 1 and 2 threads: the store's getCoin (getBinaryFast +
// decode), lmdb-js `get` (a copied Buffer) + the same decode, and an in-memory Map of decoded coins
// as the ceiling. bench/store.ts times getCoin hits and misses on one thread beside block commits;
// this suite is about how look-ups scale over threads and what LMDB costs over a hash map.
// Runs as a suite of bench/run.ts, or alone: `node dist/bench/utxo.js [--time=ms]`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { open } from 'lmdb';
import type { Coin } from '../src/consensus/coins.js';
import { ChainStore, type BlockIndexEntry, type OutPointCoin } from '../src/store/index.js';
import { decodeCoin } from '../src/store/records.js';
import {
  check,
  consume,
  formatCount,
  machineInfo,
  printMachine,
  printReport,
  rowFromSamples,
  runTasks,
  target,
  writeReport,
  type Row,
  type Suite,
  type SuiteOptions,
  type SuiteReport,
  type TaskSpec,
} from './report.js';
import { probeCores } from './cores.js';
import { LOOKUP_BATCH, lookupKeys, rng, type UtxoMode, type UtxoWorkerData, type WorkerReply, type WorkerRequest } from './utxo-shared.js';
import { TARGET_LOOKUPS_PER_SEC } from './targets.js';

/** The acceptance bound for 2 threads (issue: UTXO look-ups ≥ 1,000,000/s). */
const BOUND_TWO_THREADS = 1_000_000;

const COINS = 500_000;
const FILL_BATCH = 50_000;
const SEED = 0x7e57;
/** Timed windows per (mode, threads) row, and how long each lasts (scaled by --time). */
const WINDOWS = 6;

const MODES: readonly { mode: UtxoMode; label: string }[] = [
  { mode: 'getCoin', label: 'ChainStore.getCoin (getBinaryFast + decode)' },
  { mode: 'get', label: 'lmdb get (Buffer copy) + decode' },
  { mode: 'map', label: 'in-memory Map<string, Coin> (ceiling)' },
];

function txidOf(n: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`bench-utxo-${n}`).digest());
}

function fakeEntry(height: number, prev: Uint8Array): BlockIndexEntry {
  const header = new Uint8Array(80);
  header.set(prev, 4);
  new DataView(header.buffer).setUint32(68, height, true);
  const hash = new Uint8Array(createHash('sha256').update(createHash('sha256').update(header).digest()).digest());
  return { hash, header, height, chainWork: BigInt(height + 1) << 32n, status: 0 };
}

/** Coins shaped like today's set: P2WPKH/P2TR/P2PKH/P2SH scripts, amounts of every size. */
function makeCoin(r: () => number, height: number): Coin {
  const len = [22, 34, 25, 23][Math.floor(r() * 4)]!;
  const script = new Uint8Array(len);
  for (let i = 0; i < len; i++) script[i] = Math.floor(r() * 256);
  return { value: Math.floor(r() * 2 ** 34), scriptPubKey: script, height, coinbase: r() < 0.01 };
}

/** Write COINS coins (noSync: set-up, not what is measured); their keys and values go to shared buffers. */
async function prefill(dir: string): Promise<{ keys: SharedArrayBuffer; values: SharedArrayBuffer }> {
  const keys = new SharedArrayBuffer(36 * COINS);
  const values = new SharedArrayBuffer(8 * COINS);
  const k8 = new Uint8Array(keys);
  const kv = new DataView(keys);
  const v64 = new Float64Array(values);
  const r = rng(SEED);
  const store = ChainStore.open(dir, { network: 'regtest', noSync: true });
  let prev: Uint8Array = new Uint8Array(32);
  for (let b = 0; b * FILL_BATCH < COINS; b++) {
    const entry = fakeEntry(b, prev);
    const created: OutPointCoin[] = [];
    for (let i = 0; i < FILL_BATCH; i++) {
      const n = b * FILL_BATCH + i;
      const txid = txidOf(n >> 1);
      const coin = makeCoin(r, b);
      created.push({ txid, vout: n & 1, coin });
      k8.set(txid, 36 * n);
      kv.setUint32(36 * n + 32, n & 1, true);
      v64[n] = coin.value;
    }
    await store.applyBlock({ entry, spent: [], created, undo: [], tip: { hash: entry.hash, height: b } });
    prev = entry.hash;
  }
  await store.close();
  return { keys, values };
}

/** The worker threads, started and prepared for `mode`. */
class Workers {
  private constructor(
    readonly workers: Worker[],
    private readonly control: Int32Array,
    private generation = 0,
  ) {}

  static async start(n: number, data: Omit<UtxoWorkerData, 'seed'>): Promise<Workers> {
    const workers = Array.from({ length: n }, (_, i) => new Worker(new URL('./utxo-worker.js', import.meta.url), { workerData: { ...data, seed: SEED + 1 + i } satisfies UtxoWorkerData }));
    return new Workers(workers, new Int32Array(data.control));
  }

  private static reply(w: Worker, want: WorkerReply['kind']): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: WorkerReply): void => {
        if (m.kind === 'error') {
          cleanup();
          reject(new Error(`benchmark check failed in a worker: ${m.message}`));
        } else if (m.kind === want) {
          cleanup();
          resolve(m);
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const cleanup = (): void => {
        w.off('message', onMessage);
        w.off('error', onError);
      };
      w.on('message', onMessage);
      w.on('error', onError);
    });
  }

  async prepare(mode: UtxoMode): Promise<void> {
    await Promise.all(this.workers.map((w) => {
      const p = Workers.reply(w, 'ready');
      w.postMessage({ kind: 'prepare', mode } satisfies WorkerRequest);
      return p;
    }));
  }

  /** One window of `ms` on every thread at once: total look-ups and the longest thread's time. */
  async window(mode: UtxoMode, ms: number): Promise<{ count: number; elapsedMs: number; cpuMs: number }> {
    const generation = ++this.generation;
    const done = this.workers.map((w) => Workers.reply(w, 'done'));
    const armed = this.workers.map((w) => Workers.reply(w, 'armed'));
    for (const w of this.workers) w.postMessage({ kind: 'run', mode, ms, generation } satisfies WorkerRequest);
    await Promise.all(armed);
    const cpu0 = process.cpuUsage();
    Atomics.store(this.control, 0, generation);
    Atomics.notify(this.control, 0);
    const results = (await Promise.all(done)) as Array<Extract<WorkerReply, { kind: 'done' }>>;
    const cpu = process.cpuUsage(cpu0);
    consume(results.reduce((a, r) => a + r.acc, 0));
    return {
      count: results.reduce((a, r) => a + r.count, 0),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
      // Process-wide (every thread); the main thread only waits meanwhile.
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.postMessage({ kind: 'close' } satisfies WorkerRequest);
    })));
  }
}

export const utxoSuite: Suite = {
  name: 'utxo',
  title: 'UTXO look-ups on a 500k-coin LMDB store: getCoin, lmdb get, Map; 1 and 2 threads',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-utxo-'));
    try {
      return await runUtxo(dir, opts);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

async function runUtxo(dir: string, opts: SuiteOptions): Promise<SuiteReport> {
  const checks: string[] = [];
  const t0 = performance.now();
  const { keys, values } = await prefill(dir);
  const fillMs = performance.now() - t0;
  const k8 = new Uint8Array(keys);
  const v64 = new Float64Array(values);

  // Main thread: tinybench, LOOKUP_BATCH look-ups per call.
  const store = ChainStore.open(dir, { network: 'regtest' });
  const root = open({ path: dir, noSubdir: false, maxDbs: 8 });
  const coinsDb = root.openDB<Uint8Array, Uint8Array>('coins', { encoding: 'binary', keyEncoding: 'binary' });
  check(store.utxoCount() === COINS, `the store holds ${COINS} coins`);
  const picks = lookupKeys(k8, COINS, SEED);
  const latin1 = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1');
  for (let n = 0; n < COINS; n++) {
    const c = store.getCoin(k8.subarray(36 * n, 36 * n + 32), n & 1);
    check(c !== undefined && c.value === v64[n], `coin ${n} reads back with the value written`);
  }
  const map = new Map<string, Coin>();
  const lookup: Record<UtxoMode, (i: number) => Coin | undefined> = {
    getCoin: (i) => store.getCoin(picks.txids[i]!, picks.vouts[i]!),
    get: (i) => {
      const v = coinsDb.get(picks.keys[i]!);
      return v === undefined ? undefined : decodeCoin(v);
    },
    map: (i) => map.get(picks.strings[i]!),
  };
  const checkMode = (mode: UtxoMode): void => {
    for (let i = 0; i < 4000; i++) {
      const c = lookup[mode](i);
      check(c !== undefined && c.value === v64[picks.index[i]!] && c.scriptPubKey.length >= 22, `${mode}: look-up ${i} returns the coin written`);
    }
  };
  checkMode('getCoin');
  checkMode('get');
  const want = store.getCoin(picks.txids[0]!, picks.vouts[0]!)!;
  const viaGet = lookup.get(0)!;
  check(viaGet.height === want.height && viaGet.coinbase === want.coinbase && Buffer.compare(viaGet.scriptPubKey, want.scriptPubKey) === 0, 'lmdb get + decode gives the same coin as getCoin');

  const mask = picks.keys.length - 1;
  let cursor = 0;
  let acc = 0;
  const spec = ({ mode, label }: (typeof MODES)[number]): TaskSpec => ({
    name: `${label}, main thread (tinybench, ${LOOKUP_BATCH} per call)`,
    unit: 'batch',
    items: { count: LOOKUP_BATCH, unit: 'lookup' },
    ...(mode !== 'getCoin' && { ref: `${MODES[0]!.label}, main thread (tinybench, ${LOOKUP_BATCH} per call)` }),
    fn: () => {
      const f = lookup[mode];
      for (let j = 0; j < LOOKUP_BATCH; j++) acc += f(cursor++ & mask)!.value;
    },
  });
  // The LMDB ways first, then the Map: 500k live coin objects on the heap would slow the LMDB
  // ways' garbage collection, which a real engine holding no such map would not pay.
  const { rows: lmdbRows, bench } = await runTasks('utxo look-ups, main thread', [spec(MODES[0]!), spec(MODES[1]!)], opts);
  const m0 = performance.now();
  for (let n = 0; n < COINS; n++) map.set(latin1(k8.subarray(36 * n, 36 * n + 36)), store.getCoin(k8.subarray(36 * n, 36 * n + 32), n & 1)!);
  for (let i = 0; i < picks.keys.length; i++) picks.strings[i] = latin1(picks.keys[i]!);
  const mapMs = performance.now() - m0;
  checkMode('map');
  const { rows: mapRows } = await runTasks('utxo look-ups, main thread', [{ ...spec(MODES[2]!), ref: undefined }], opts);
  const getCoinRow = lmdbRows[0]!;
  const mainRows: Row[] = [
    ...lmdbRows,
    ...mapRows.map((r) => ({ ...r, vsRef: { ref: getCoinRow.name, meanRatio: r.meanMs / getCoinRow.meanMs, p50Ratio: r.p50Ms / getCoinRow.p50Ms } })),
  ];
  checks.push(
    `${COINS.toLocaleString('en-US')} coins written (${(fillMs / 1000).toFixed(1)} s, noSync); every one read back through getCoin with the value written, and put in the Map (${(mapMs / 1000).toFixed(1)} s)`,
    'in each thread and for each way, the first look-ups of the timed sequence (4,000 here, 2,000 in each worker) return the coin written; lmdb get + decode equals getCoin field by field',
  );
  consume(acc);
  map.clear();
  await store.close();
  await root.close();

  // Worker threads: each opens the store (ChainStore.open and lmdb open, as a second process
  // would) and runs the same look-up loop; windows start together on a shared flag.
  const windowMs = Math.max(100, Math.round((opts.timeMs * 2) / WINDOWS));
  const coresBefore = await probeCores();
  const threadRows: Row[] = [];
  const rate = new Map<string, number>();
  /** Look-ups per second of CPU time this process got: what a thread does on a core of its own. */
  const cpuRate = new Map<string, number>();
  for (const n of [1, 2]) {
    const control = new SharedArrayBuffer(4);
    const ws = await Workers.start(n, { dir, keys, values, count: COINS, control });
    try {
      for (const { mode, label } of MODES) {
        await ws.prepare(mode);
        await ws.window(mode, Math.min(200, windowMs)); // warm-up
        const samples: number[] = [];
        let count = 0;
        let cpuMs = 0;
        let wallMs = 0;
        for (let w = 0; w < WINDOWS; w++) {
          const r = await ws.window(mode, windowMs);
          samples.push(r.elapsedMs / r.count); // ms per look-up, all threads together
          count += r.count;
          cpuMs += r.cpuMs;
          wallMs += r.elapsedMs;
        }
        const perCpuSec = (count / cpuMs) * 1000;
        cpuRate.set(`${mode}/${n}`, perCpuSec);
        const row = rowFromSamples(`${label}, ${n} worker thread${n > 1 ? 's' : ''}`, 'lookup', samples, {
          detail: `${WINDOWS} windows of ${windowMs} ms; ${formatCount(perCpuSec)} look-ups per CPU-second, ${(cpuMs / wallMs).toFixed(2)} cores busy on average`,
        });
        rate.set(`${mode}/${n}`, row.opsPerSec);
        const ref = n === 2 ? `${label}, 1 worker thread` : undefined;
        const one = threadRows.find((x) => x.name === ref);
        threadRows.push(one !== undefined ? { ...row, vsRef: { ref: one.name, meanRatio: row.meanMs / one.meanMs, p50Ratio: row.p50Ms / one.p50Ms } } : row);
      }
    } finally {
      await ws.close();
    }
  }
  checks.push('each worker thread checks its own look-ups before its first timed window');
  const coresAfter = await probeCores();

  const scaling = (mode: UtxoMode): string => `${(rate.get(`${mode}/2`)! / rate.get(`${mode}/1`)!).toFixed(2)}×`;
  const main = mainRows[0]!;
  return {
    suite: utxoSuite.name,
    title: utxoSuite.title,
    checks,
    rows: [...mainRows, ...threadRows],
    targets: [
      target('UTXO lookup, getCoin, main thread', TARGET_LOOKUPS_PER_SEC, main.items!.perSec, 'lookups/s'),
      target('UTXO lookup, getCoin, 1 worker thread', TARGET_LOOKUPS_PER_SEC, rate.get('getCoin/1')!, 'lookups/s'),
      target('acceptance: UTXO lookup, getCoin, 2 worker threads', BOUND_TWO_THREADS, rate.get('getCoin/2')!, 'lookups/s'),
      target('acceptance (raw LMDB): lmdb get + decode, 2 worker threads', BOUND_TWO_THREADS, rate.get('get/2')!, 'lookups/s'),
    ],
    notes: [
      `cores this process could get (2 spinning threads, 0.5 s): ${coresBefore.toFixed(2)} before the worker rows, ${coresAfter.toFixed(2)} after` +
        (Math.min(coresBefore, coresAfter) < 1.8 ? ': another process held a core, so the 2-thread rows understate an idle machine (the per-CPU-second figure below does not depend on it)' : ''),
      `2 threads over 1, aggregate look-ups/s: getCoin ${scaling('getCoin')}, lmdb get ${scaling('get')}, Map ${scaling('map')}`,
      `per CPU-second (process CPU time over the windows, so independent of how many cores other processes left us): getCoin ${formatCount(cpuRate.get('getCoin/1')!)} on 1 thread, ${formatCount(cpuRate.get('getCoin/2')!)} on 2; ` +
        `2 threads with 2 cores of their own would reach about ${formatCount(2 * cpuRate.get('getCoin/2')!)} getCoin look-ups/s`,
      'ops/s of the worker rows = look-ups of all threads ÷ the longest thread\'s time in the window; a sample is that window\'s time per look-up',
      `look-ups are uniformly random hits over all ${COINS.toLocaleString('en-US')} coins (${(1 << 17).toLocaleString('en-US')}-pick sequence per thread, a different seed per thread); the store (~${Math.round((COINS * 75) / 1e6)} MB) sits in the page cache, so these are memory-speed figures: a mainnet UTXO set of ~180M coins would not fit and would add page faults`,
      'lmdb-js read transactions: each thread renews its own; getBinaryFast returns one shared per-thread buffer, so getCoin decodes at once; get copies the value into a fresh Buffer first',
      'the Map holds decoded coins under 36-byte latin1 string keys built before timing: no key encoding or decoding in the loop, so it is the ceiling for any in-memory cache',
      'misses and hasCoin are in bench/store.ts and not repeated here',
    ],
    bench,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const m = /^--time=(\d+)$/.exec(process.argv[2] ?? '');
  const opts: SuiteOptions = { timeMs: m !== null ? Number(m[1]) : 1000, warmupMs: 200 };
  const machine = machineInfo();
  printMachine(machine);
  const report = await utxoSuite.run(opts);
  printReport(report);
  console.log(`   wrote ${writeReport(report, machine)}`);
}
