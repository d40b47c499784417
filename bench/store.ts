// The LMDB chain store: random getCoin lookups (getBinaryFast + decode) on a 500k-coin set, block
// commits of 5k spends + 5k creates durable and with noSync, and raw block writes and reads.
// Runs as a suite of bench/run.ts, or alone: `node dist/bench/store.js [--time=ms]`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import type { Coin } from '../src/consensus/coins.js';
import { equalBytes } from '../src/primitives/bytes.js';
import { ChainStore, type ApplyBlockUpdate, type BlockIndexEntry, type OutPointCoin } from '../src/store/index.js';
import {
  check,
  consume,
  machineInfo,
  printMachine,
  printReport,
  runTasks,
  target,
  writeReport,
  type Row,
  type Suite,
  type SuiteOptions,
  type SuiteReport,
} from './report.js';
import { BLOCK_866342, readVector } from './vectors.js';
import { TARGET_LOOKUPS_PER_SEC, TARGET_BLOCK_WRITES_PER_SEC, TARGET_BLOCK_READS_PER_SEC } from './targets.js';

const PREFILL = 500_000;
const BLOCK_SPENDS = 5_000;
const BLOCK_CREATES = 5_000;
const COMMIT_ROUNDS = 16;
const BLOCK_WRITE_ROUNDS = 48;

/** xorshift32: deterministic picks, cheap enough not to show in a 2 µs lookup. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * The live outpoints as 36-byte keys in one buffer (swap-remove to spend): the engine never holds
 * the UTXO set in JS objects, and half a million of them would turn every commit into a GC test.
 */
class LiveSet {
  keys: Uint8Array;
  count = 0;
  constructor(capacity: number) {
    this.keys = new Uint8Array(36 * capacity);
  }
  add(txid: Uint8Array, vout: number): void {
    if (36 * (this.count + 1) > this.keys.length) {
      const next = new Uint8Array(this.keys.length * 2);
      next.set(this.keys);
      this.keys = next;
    }
    this.keys.set(txid, 36 * this.count);
    new DataView(this.keys.buffer).setUint32(36 * this.count + 32, vout, true);
    this.count++;
  }
  txid(i: number): Uint8Array {
    return this.keys.slice(36 * i, 36 * i + 32);
  }
  vout(i: number): number {
    return new DataView(this.keys.buffer).getUint32(36 * i + 32, true);
  }
  /** Remove entry i (the last one takes its place). */
  take(i: number): { txid: Uint8Array; vout: number } {
    const out = { txid: this.txid(i), vout: this.vout(i) };
    this.count--;
    this.keys.copyWithin(36 * i, 36 * this.count, 36 * this.count + 36);
    return out;
  }
}

/** A coin shaped like today's set: mostly P2WPKH/P2TR/P2PKH scripts, amounts of every size. */
function makeCoin(r: () => number, height: number): Coin {
  const len = [22, 34, 25, 23][Math.floor(r() * 4)]!;
  const script = new Uint8Array(len);
  for (let i = 0; i < len; i++) script[i] = Math.floor(r() * 256);
  return { value: Math.floor(r() * 2 ** 34), scriptPubKey: script, height, coinbase: r() < 0.01 };
}

function txidOf(n: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`bench-tx-${n}`).digest());
}

function fakeEntry(height: number, prev: Uint8Array): BlockIndexEntry {
  const header = new Uint8Array(80);
  header.set(prev, 4);
  new DataView(header.buffer).setUint32(68, height, true);
  const hash = new Uint8Array(createHash('sha256').update(createHash('sha256').update(header).digest()).digest());
  return { hash, header, height, chainWork: BigInt(height + 1) << 32n, status: 0 };
}

/**
 * A store holding PREFILL coins (written with noSync: the fill is set-up, not what is measured).
 * Returns the live set and 2,000 sampled coins with their positions, to check reads against.
 */
async function prefill(dir: string, r: () => number): Promise<{ live: LiveSet; sample: Map<number, Coin>; tip: BlockIndexEntry }> {
  const store = ChainStore.open(dir, { network: 'regtest', noSync: true });
  const live = new LiveSet(PREFILL + 2 * COMMIT_ROUNDS * BLOCK_CREATES + BLOCK_CREATES);
  const sample = new Map<number, Coin>();
  let prev: Uint8Array = new Uint8Array(32);
  let entry = fakeEntry(0, prev);
  for (let b = 0; b * 50_000 < PREFILL; b++) {
    entry = fakeEntry(b, prev);
    const created: OutPointCoin[] = [];
    for (let i = 0; i < 50_000; i++) {
      const n = b * 50_000 + i;
      const txid = txidOf(Math.floor(n / 2));
      const c = makeCoin(r, b);
      created.push({ txid, vout: n % 2, coin: c });
      live.add(txid, n % 2);
      if (n % 250 === 0) sample.set(n, c);
    }
    await store.applyBlock({ entry, spent: [], created, undo: [], tip: { hash: entry.hash, height: b } });
    prev = entry.hash;
  }
  await store.close();
  return { live, sample, tip: entry };
}

/**
 * The next block's update: 5k random live coins spent (their undo coins fetched with getCoin, as
 * connectBlock does) and 5k new ones. Untimed set-up.
 */
function nextBlock(store: ChainStore, live: LiveSet, r: () => number, tip: BlockIndexEntry, serial: { n: number }): ApplyBlockUpdate {
  const entry = fakeEntry(tip.height + 1, tip.hash);
  const spent: Array<{ txid: Uint8Array; vout: number }> = [];
  const undo: Coin[] = [];
  for (let i = 0; i < BLOCK_SPENDS; i++) {
    const o = live.take(Math.floor(r() * live.count));
    const c = store.getCoin(o.txid, o.vout);
    check(c !== undefined, 'every live outpoint is in the store');
    spent.push(o);
    undo.push(c);
  }
  const created: OutPointCoin[] = [];
  for (let i = 0; i < BLOCK_CREATES; i++) {
    const c = { txid: txidOf(10_000_000 + serial.n++), vout: 0, coin: makeCoin(r, entry.height) };
    created.push(c);
    live.add(c.txid, c.vout);
  }
  return { entry, spent, created, undo, tip: { hash: entry.hash, height: entry.height } };
}

/** Main-thread busy time of the last timeAsync call, per round (event-loop utilization, ms). */
let lastMainThreadMs = 0;

/**
 * Time an async operation `rounds` times (tinybench tasks here are synchronous) and make a Row of it.
 * Also records how long the main thread was busy meanwhile (lastMainThreadMs): the rest of each
 * round ran on lmdb-js's writer thread, leaving the main thread free for other work.
 */
async function timeAsync(
  name: string,
  unit: string,
  rounds: number,
  prepare: (i: number) => void,
  fn: (i: number) => Promise<void>,
  items?: { count: number; unit: string },
): Promise<Row> {
  const samples: number[] = [];
  let busy = 0;
  for (let i = 0; i < rounds; i++) {
    prepare(i);
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
    busy += performance.eventLoopUtilization(elu0).active;
  }
  lastMainThreadMs = busy / rounds;
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, samples.length - 1));
  const opsPerSec = 1000 / mean;
  return {
    name,
    unit,
    opsPerSec,
    rmePct: ((1.96 * sd) / Math.sqrt(samples.length) / mean) * 100,
    meanMs: mean,
    p50Ms: sorted[Math.floor(sorted.length / 2)]!,
    p99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!,
    samples: samples.length,
    ...(items !== undefined && { items: { ...items, perSec: opsPerSec * items.count } }),
  };
}

export const storeSuite: Suite = {
  name: 'store',
  title: 'LMDB chain store: UTXO lookups, block commits, raw blocks',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
    try {
      return await runStore(dir, opts);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

async function runStore(dir: string, opts: SuiteOptions): Promise<SuiteReport> {
  const checks: string[] = [];
  const r = rng(0x5eed);
  const t0 = performance.now();
  const { live, sample, tip: prefillTip } = await prefill(join(dir, 'durable'), r);
  const fillMs = performance.now() - t0;

  const store = ChainStore.open(join(dir, 'durable'), { network: 'regtest' });
  check(store.utxoCount() === PREFILL, `the store holds ${PREFILL} coins`);
  // 2,000 sampled coins read back equal.
  for (const [i, want] of sample) {
    const got = store.getCoin(live.txid(i), live.vout(i));
    check(
      got !== undefined && got.value === want.value && got.height === want.height && got.coinbase === want.coinbase && equalBytes(got.scriptPubKey, want.scriptPubKey),
      `coin ${i} reads back as written`,
    );
  }
  checks.push(`${PREFILL.toLocaleString('en-US')} coins written (${(fillMs / 1000).toFixed(1)} s with noSync), 2,000 random ones read back equal field by field`);

  // Lookup keys chosen up front: the timed loop only indexes arrays.
  const PICKS = 1 << 16;
  const pickTx: Uint8Array[] = new Array(PICKS);
  const pickVout: number[] = new Array(PICKS);
  const missTx: Uint8Array[] = new Array(PICKS);
  for (let k = 0; k < PICKS; k++) {
    const i = Math.floor(r() * PREFILL);
    pickTx[k] = live.txid(i);
    pickVout[k] = live.vout(i);
    missTx[k] = txidOf(90_000_000 + k);
  }
  check(store.getCoin(missTx[0]!, 0) === undefined, 'an unknown outpoint reads as undefined');
  let cursor = 0;
  let acc = 0;
  const lookupSpecs = [
    {
      name: `getCoin, random hit in ${PREFILL / 1000}k coins (getBinaryFast + decode + script copy)`,
      unit: 'lookup',
      fn: () => {
        const k = cursor++ & (PICKS - 1);
        acc += store.getCoin(pickTx[k]!, pickVout[k]!)!.value;
      },
    },
    {
      name: `hasCoin, random hit in ${PREFILL / 1000}k coins (getBinaryFast only)`,
      unit: 'lookup',
      ref: `getCoin, random hit in ${PREFILL / 1000}k coins (getBinaryFast + decode + script copy)`,
      fn: () => {
        const k = cursor++ & (PICKS - 1);
        acc += store.hasCoin(pickTx[k]!, pickVout[k]!) ? 1 : 0;
      },
    },
    {
      name: `getCoin, miss in ${PREFILL / 1000}k coins`,
      unit: 'lookup',
      ref: `getCoin, random hit in ${PREFILL / 1000}k coins (getBinaryFast + decode + script copy)`,
      fn: () => {
        acc += store.getCoin(missTx[cursor++ & (PICKS - 1)]!, 0) === undefined ? 1 : 0;
      },
    },
  ];
  const { rows: lookupRows, bench } = await runTasks('store lookups', lookupSpecs, opts);
  consume(acc);

  // Block commits: each round spends 5k live coins and adds 5k.
  const serial = { n: 0 };
  let tip = prefillTip;
  const before = store.utxoDigest();
  const liveBefore = live.count;
  const probe = nextBlock(store, live, r, tip, serial);
  await store.applyBlock(probe);
  check(store.utxoCount() === PREFILL, 'a 5k/5k block keeps the coin count');
  check(store.getCoin(probe.spent[0]!.txid, probe.spent[0]!.vout) === undefined, 'a spent coin is gone');
  check(store.getUndo(probe.entry.hash)!.length === BLOCK_SPENDS, 'the undo record holds 5,000 coins');
  await store.revertBlock({ entry: probe.entry, removed: probe.created, restored: probe.spent.map((s, i) => ({ ...s, coin: probe.undo[i]! })), tip: { hash: tip.hash, height: tip.height } });
  check(equalBytes(store.utxoDigest(), before), 'revertBlock restores the prior UTXO digest');
  checks.push('applyBlock of 5,000 spends + 5,000 creates keeps the count, removes the spent coins, stores 5,000 undo coins; revertBlock restores the exact prior digest');
  // The probe's spends are back in the store and its creates gone: the same for `live`.
  live.count = liveBefore - BLOCK_SPENDS;
  for (const s of probe.spent) live.add(s.txid, s.vout);

  let pending: ApplyBlockUpdate | undefined;
  const commitRow = async (s: ChainStore, label: string): Promise<Row> =>
    timeAsync(
      label,
      'block',
      COMMIT_ROUNDS,
      () => {
        pending = nextBlock(s, live, r, tip, serial);
      },
      async () => {
        await s.applyBlock(pending!);
        tip = pending!.entry;
      },
      { count: BLOCK_SPENDS + BLOCK_CREATES, unit: 'coin write' },
    );
  const durableRow = await commitRow(store, 'applyBlock 5k spends + 5k creates, durable (fsync per commit)');
  const durableMainMs = lastMainThreadMs;
  await store.close();
  const fast = ChainStore.open(join(dir, 'durable'), { network: 'regtest', noSync: true });
  const noSyncRow = await commitRow(fast, 'applyBlock 5k spends + 5k creates, noSync');
  const noSyncMainMs = lastMainThreadMs;
  check(fast.utxoCount() === PREFILL, 'the coin count is unchanged after the timed commits');
  await fast.close();

  // Raw blocks: block 866342 (≈2 MB) under fresh hashes, durable and noSync, then read back.
  const raw = readVector(BLOCK_866342.file);
  const blockRows: Row[] = [];
  const hashes: Uint8Array[] = [];
  for (const mode of ['durable', 'noSync'] as const) {
    const s = ChainStore.open(join(dir, `blocks-${mode}`), { network: 'regtest', noSync: mode === 'noSync' });
    let entry: BlockIndexEntry | undefined;
    blockRows.push(
      await timeAsync(
        `putBlock ${BLOCK_866342.txs}-tx block 866342 (${(raw.length / 1e6).toFixed(1)} MB) + index entry, ${mode === 'durable' ? 'durable' : 'noSync'}`,
        'block',
        BLOCK_WRITE_ROUNDS,
        (i) => {
          entry = fakeEntry(i, new Uint8Array(32));
          if (mode === 'durable') hashes.push(entry.hash);
        },
        async () => s.putBlock(entry!.hash, raw, entry!),
      ),
    );
    if (mode === 'durable') {
      check(equalBytes(s.getBlock(hashes[0]!)!, raw), 'a stored block reads back byte for byte');
      let k = 0;
      const { rows } = await runTasks(
        'store block reads',
        [{ name: `getBlock block 866342 (${(raw.length / 1e6).toFixed(1)} MB copy out of LMDB)`, unit: 'block', fn: () => consume(s.getBlock(hashes[k++ % hashes.length]!)) }],
        opts,
      );
      blockRows.push(...rows);
    }
    await s.close();
  }
  checks.push(`block 866342 stored ${BLOCK_WRITE_ROUNDS}× under fresh hashes reads back byte for byte`);

  const rows = [...lookupRows, durableRow, noSyncRow, ...blockRows];
  const hit = lookupRows[0]!;
  const write = blockRows[0]!;
  const read = blockRows[1]!;
  return {
    suite: storeSuite.name,
    title: storeSuite.title,
    checks,
    rows,
    targets: [
      target('UTXO lookup (getCoin, random hit)', TARGET_LOOKUPS_PER_SEC, hit.opsPerSec, 'lookups/s'),
      target('block storage write (putBlock, durable)', TARGET_BLOCK_WRITES_PER_SEC, write.opsPerSec, 'blocks/s', `a ${(raw.length / 1e6).toFixed(1)} MB mainnet block; the target does not say which size`),
      target('block storage read (getBlock)', TARGET_BLOCK_READS_PER_SEC, read.opsPerSec, 'blocks/s', `each read copies ${(raw.length / 1e6).toFixed(1)} MB out of the map`),
    ],
    notes: [
      `durable commit of 5k spends + 5k creates: ${durableRow.p50Ms.toFixed(1)} ms p50; noSync: ${noSyncRow.p50Ms.toFixed(1)} ms p50 (${(durableRow.p50Ms / noSyncRow.p50Ms).toFixed(1)}× faster); ` +
        'keys are sorted before writing; the puts and deletes run as one lmdb-js batch (one LMDB transaction) on its writer thread',
      `main thread busy per commit (event-loop utilization, includes encoding, sorting, the spent-coin checks and enqueueing): ` +
        `${durableMainMs.toFixed(1)} ms durable, ${noSyncMainMs.toFixed(1)} ms noSync; the rest of each commit runs on lmdb-js's writer thread`,
      `the store file lives in ${tmpdir()}: durable figures are those of that disk's fsync`,
      'applyBlock rows are timed by a plain loop (one sample per commit, awaited), not by tinybench, whose tasks here are synchronous',
    ],
    bench,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const m = /^--time=(\d+)$/.exec(process.argv[2] ?? '');
  const opts: SuiteOptions = { timeMs: m !== null ? Number(m[1]) : 1000, warmupMs: 200 };
  const machine = machineInfo();
  printMachine(machine);
  const report = await storeSuite.run(opts);
  printReport(report);
  console.log(`   wrote ${writeReport(report, machine)}`);
}
