// The LMDB chain store: random getCoin lookups (getBinaryFast + decode) on a 500k-coin set, block
// commits of 5k spends + 5k creates durable and with noSync, and raw block writes and reads.
// Runs as a suite of bench/run.ts, or alone: `node dist/bench/store.js [--time=ms]`.

import { execFile } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Coin } from '../src/consensus/coins.js';
import { equalBytes } from '../src/primitives/bytes.js';
import { ChainStore, type ApplyBlockUpdate, type BlockIndexEntry, type OutPointCoin } from '../src/store/index.js';
import {
  check,
  consume,
  machineInfo,
  median,
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
} from './report.js';
import { BLOCK_866342, readVector } from './vectors.js';
import { TARGET_LOOKUPS_PER_SEC, TARGET_BLOCK_WRITES_PER_SEC, TARGET_BLOCK_READS_PER_SEC } from './targets.js';
import { LiveSet, fakeEntry, makeCoin, rng, txidOf } from './store-data.js';
import type { WriteBackJob, WriteBackOutcome } from './write-back-child.js';
import { DEFAULT_IMPORT_CACHE_BYTES } from '../src/chain/importer.js';

const PREFILL = 500_000;
const BLOCK_SPENDS = 5_000;
const BLOCK_CREATES = 5_000;
const COMMIT_ROUNDS = 16;
const BLOCK_WRITE_ROUNDS = 48;
/** Write-back memory runs: blocks of WB_PER spends + WB_PER creates into a PREFILL-coin store. */
const WB_PER = 500;
const WB_BLOCKS = 240;
const WB_CHILD = new URL('./write-back-child.js', import.meta.url);

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

/** One write-back-child.js process; resolves to its JSON line (none for a prefill). */
function writeBackChild(job: WriteBackJob): Promise<WriteBackOutcome | undefined> {
  // A 1 MiB young generation: V8's growing one would otherwise add up to ~30 MB that is no store's.
  const args = ['--expose-gc', '--max-semi-space-size=1', fileURLToPath(WB_CHILD), JSON.stringify(job)];
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, args, { maxBuffer: 2 ** 20 }, (err, stdout) => {
      if (err !== null) {
        reject(new Error(`write-back child failed: ${err.message}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve(line === '' ? undefined : (JSON.parse(line) as WriteBackOutcome));
    });
    child.stderr?.pipe(process.stderr);
  });
}

/**
 * Memory that write-back's flushes cost: the prefilled store copied for each limit, then
 * WB_BLOCKS blocks under it, each run in a fresh process (write-back-child.ts).
 */
async function writeBackRows(dir: string, checks: string[], notes: string[]): Promise<Row[]> {
  const base = join(dir, 'write-back-base');
  await writeBackChild({ dir: base, prefill: PREFILL });
  const rows: Row[] = [];
  const runs: Array<[number, string]> = [
    [DEFAULT_IMPORT_CACHE_BYTES, `limit ${DEFAULT_IMPORT_CACHE_BYTES / 2 ** 20} MiB (the import's default)`],
    [2 ** 30, 'limit 1 GiB (everything held to one flush at the end)'],
  ];
  for (const [limitBytes, label] of runs) {
    const runDir = join(dir, `write-back-${limitBytes}`);
    cpSync(base, runDir, { recursive: true });
    const o = (await writeBackChild({ dir: runDir, per: WB_PER, blocks: WB_BLOCKS, limitBytes }))!;
    rmSync(runDir, { recursive: true, force: true });
    check(o.utxoCount === o.expectedCount, `write-back run (${label}) leaves ${o.expectedCount} coins`);
    if (limitBytes === DEFAULT_IMPORT_CACHE_BYTES) check(o.flushes > 0, `write-back run (${label}) flushes before the end`);
    const anon = o.anonBeforeMB === null || o.anonAfterMB === null ? undefined : o.anonAfterMB - o.anonBeforeMB;
    const heap = o.heapAfterMB - o.heapBeforeMB;
    const memory =
      anon === undefined
        ? 'anonymous RSS not readable here'
        : `anonymous RSS +${anon.toFixed(0)} MB (${o.anonBeforeMB!.toFixed(0)} → ${o.anonAfterMB!.toFixed(0)}), of which V8's heap and ArrayBuffers +${heap.toFixed(0)} MB: the rest, +${(anon - heap).toFixed(0)} MB, is LMDB's page copies and the allocator's`;
    rows.push(
      rowFromSamples(`write-back into the ${PREFILL.toLocaleString('en-US')}-coin store: ${WB_BLOCKS} blocks of ${WB_PER} spends + ${WB_PER} creates, ${label}`, 'block', [o.ms / WB_BLOCKS], {
        items: { count: 2 * WB_PER, unit: 'coin write' },
        detail: `${memory}; ${o.flushes} flushes, at most ${o.mostHeld} blocks held; ${(o.ms / 1000).toFixed(1)} s for the ${WB_BLOCKS} blocks, making them included`,
      }),
    );
  }
  checks.push(`write-back runs: ${WB_BLOCKS} blocks each, in fresh processes on copies of a store of ${PREFILL.toLocaleString('en-US')} coins; every spent coin was in it and the count is unchanged after`);
  notes.push(
    'write-back rows: LMDB copies every page a transaction changes and keeps the copies until the store closes, so the largest flush sets that memory; the limit counts them (flushPageBytes), so it bounds them. ' +
      'Each run is a fresh process with a 1 MiB young generation (--max-semi-space-size=1, so that V8\'s growth is not counted as the store\'s); one sample a row: ops/s is blocks over the run\'s wall time',
  );
  return rows;
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
    p50Ms: median(sorted),
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

  // Raw blocks: block 866342 (1.6 MB) under fresh hashes, durable and noSync, then read back.
  const raw = readVector(BLOCK_866342.file);
  const blockRows: Row[] = [];
  const hashes: Uint8Array[] = [];
  for (const mode of ['durable', 'noSync'] as const) {
    const s = ChainStore.open(join(dir, `blocks-${mode}`), { network: 'regtest', noSync: mode === 'noSync' });
    let entry: BlockIndexEntry | undefined;
    const stored: Uint8Array[] = [];
    blockRows.push(
      await timeAsync(
        `putBlock ${BLOCK_866342.txs}-tx block 866342 (${(raw.length / 1e6).toFixed(1)} MB) + index entry, ${mode === 'durable' ? 'durable' : 'noSync'}`,
        'block',
        BLOCK_WRITE_ROUNDS,
        (i) => {
          entry = fakeEntry(i, new Uint8Array(32));
          stored.push(entry.hash);
          if (mode === 'durable') hashes.push(entry.hash);
        },
        async () => s.putBlock(entry!.hash, raw, entry!),
      ),
    );
    // Every block written reads back (the getBlock row times reads of all of the durable ones).
    check(stored.length === BLOCK_WRITE_ROUNDS, `${mode}: ${BLOCK_WRITE_ROUNDS} blocks written`);
    for (const [i, h] of stored.entries()) {
      const got = s.getBlock(h);
      check(got !== undefined && equalBytes(got, raw), `${mode}: stored block ${i} reads back byte for byte`);
    }
    if (mode === 'durable') {
      // The ceiling of a read that copies: the same bytes from a file of their own into one buffer
      // used again and again, so no allocation and no record check.
      const refFile = join(dir, 'block-866342.raw');
      writeFileSync(refFile, raw);
      const fd = openSync(refFile, 'r');
      const into = new Uint8Array(raw.length);
      check(readSync(fd, into, 0, into.length, 0) === raw.length && equalBytes(into, raw), 'the reference read gives the block');
      const ref = `reference: pread of the same ${(raw.length / 1e6).toFixed(1)} MB from a file of its own into one reused buffer`;
      let k = 0;
      try {
        const { rows } = await runTasks(
          'store block reads',
          [
            { name: ref, unit: 'block', fn: () => consume(readSync(fd, into, 0, into.length, 0)) },
            { name: `getBlock block 866342 (${(raw.length / 1e6).toFixed(1)} MB read from the blk flat file with pread)`, unit: 'block', ref, fn: () => consume(s.getBlock(hashes[k++ % hashes.length]!)) },
          ],
          opts,
        );
        blockRows.push(...rows);
      } finally {
        closeSync(fd);
      }
    }
    await s.close();
  }
  checks.push(`block 866342 stored ${BLOCK_WRITE_ROUNDS}× under fresh hashes, durable and noSync: every copy reads back byte for byte`);

  const wbNotes: string[] = [];
  const wbRows = await writeBackRows(dir, checks, wbNotes);

  const rows = [...lookupRows, durableRow, noSyncRow, ...blockRows, ...wbRows];
  const hit = lookupRows[0]!;
  const write = blockRows[0]!;
  const read = blockRows.find((r) => r.name.startsWith('getBlock'))!;
  return {
    suite: storeSuite.name,
    title: storeSuite.title,
    checks,
    rows,
    targets: [
      target('UTXO lookup (getCoin, random hit)', TARGET_LOOKUPS_PER_SEC, hit.opsPerSec, 'lookups/s'),
      target('block storage write (putBlock, durable)', TARGET_BLOCK_WRITES_PER_SEC, write.opsPerSec, 'blocks/s', `a ${(raw.length / 1e6).toFixed(1)} MB mainnet block; the target does not say which size`),
      target('block storage read (getBlock)', TARGET_BLOCK_READS_PER_SEC, read.opsPerSec, 'blocks/s', `each read copies ${(raw.length / 1e6).toFixed(1)} MB out of a blk flat file (pread; LMDB holds only its position)`),
    ],
    notes: [
      `durable commit of 5k spends + 5k creates: ${durableRow.p50Ms.toFixed(1)} ms p50; noSync: ${noSyncRow.p50Ms.toFixed(1)} ms p50 (${(durableRow.p50Ms / noSyncRow.p50Ms).toFixed(1)}× faster); ` +
        'keys are sorted before writing; the puts and deletes run as one lmdb-js batch (one LMDB transaction) on its writer thread',
      `main thread busy per commit (event-loop utilization, includes encoding, sorting, the spent-coin checks and enqueueing): ` +
        `${durableMainMs.toFixed(1)} ms durable, ${noSyncMainMs.toFixed(1)} ms noSync; the rest of each commit runs on lmdb-js's writer thread`,
      `the store file lives in the OS temp directory: durable figures are those of that disk's fsync`,
      'applyBlock rows are timed by a plain loop (one sample per commit, awaited), not by tinybench, whose tasks here are synchronous',
      ...wbNotes,
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
