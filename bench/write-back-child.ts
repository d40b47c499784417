// Write-back memory runs, each in a process of its own, for bench/store.ts. With `prefill` set, a
// process writes a store of that many coins and their outpoints (live.bin) and exits. Then each
// run opens a copy of it, so that LMDB holds no page copies yet and the process has freed nothing
// that the run could reuse, and applies `blocks` blocks of `per` spends and `per` creates under a
// write-back limit of `limitBytes`. LMDB keeps the page copies of its largest transaction until
// the store closes, so the anonymous RSS a run adds is what the limit lets a flush cost. Prints
// one JSON line (WriteBackOutcome).
//
//   node dist/bench/write-back-child.js '{"dir":"<dir>","prefill":500000}'
//   cp -r <dir> <copy>
//   node --expose-gc --max-semi-space-size=1 dist/bench/write-back-child.js '{"dir":"<copy>","per":500,"blocks":240,"limitBytes":8388608}'

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainStore, type OutPointCoin } from '../src/store/index.js';
import type { Coin } from '../src/consensus/coins.js';
import { LiveSet, fakeEntry, makeCoin, rng, txidOf } from './store-data.js';

export type WriteBackJob = { dir: string; prefill: number } | { dir: string; per: number; blocks: number; limitBytes: number };

export interface WriteBackOutcome {
  /** RssAnon (MB) after the reopen and after the last flush; null where /proc is not there. */
  anonBeforeMB: number | null;
  anonAfterMB: number | null;
  /** V8's heap and ArrayBuffers of this thread (MB) at the same two points. */
  heapBeforeMB: number;
  heapAfterMB: number;
  /** Flushes during the blocks (the last one, at the end, not counted) and most blocks held. */
  flushes: number;
  mostHeld: number;
  /** The blocks' wall time, making them included (~5% of it), and the last flush. */
  ms: number;
  utxoCount: number;
  expectedCount: number;
}

function rssAnonMB(): number | null {
  try {
    const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? null : Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

function heapMB(): number {
  const m = process.memoryUsage();
  return (m.heapTotal + m.arrayBuffers) / 2 ** 20;
}

/** Write a store of `count` coins in `dir`, and their outpoints to live.bin. */
async function prefill(dir: string, count: number): Promise<void> {
  const r = rng(0x3b1d);
  const live = new LiveSet(count);
  const store = ChainStore.open(dir, { network: 'regtest', noSync: true });
  let prev: Uint8Array = new Uint8Array(32);
  let height = -1;
  for (let n = 0; n < count; ) {
    const entry = fakeEntry(++height, prev);
    const created: OutPointCoin[] = [];
    for (const end = Math.min(count, n + 50_000); n < end; n++) {
      const txid = txidOf(Math.floor(n / 2));
      created.push({ txid, vout: n % 2, coin: makeCoin(r, height) });
      live.add(txid, n % 2);
    }
    await store.applyBlock({ entry, spent: [], created, undo: [], tip: { hash: entry.hash, height } });
    prev = entry.hash;
  }
  await store.close();
  writeFileSync(join(dir, 'live.bin'), live.keys.subarray(0, 36 * live.count));
}

async function run(dir: string, per: number, blocks: number, limitBytes: number): Promise<WriteBackOutcome> {
  const r = rng(0x51ab);
  const keys = new Uint8Array(readFileSync(join(dir, 'live.bin')));
  const live = new LiveSet(keys.length / 36 + per * blocks);
  live.keys.set(keys);
  live.count = keys.length / 36;
  const expectedCount = live.count;
  const store = ChainStore.open(dir, { network: 'regtest', noSync: true });
  const tip = store.getTip();
  if (tip === undefined) throw new Error(`no store in ${dir}`);
  let prev = tip.hash;
  let height = tip.height;
  // Each block is made as it is applied: it is a few hundred KB of short-lived objects, where the
  // blocks made in advance would be a heap that shrinks while the store's memory grows.
  let serial = 0;
  const nextBlock = () => {
    const entry = fakeEntry(++height, prev);
    const spent = [];
    const undo: Coin[] = [];
    for (let i = 0; i < per; i++) {
      spent.push(live.take(Math.floor(r() * live.count)));
      undo.push(makeCoin(r, 1)); // stored as given: applyBlock does not compare undo coins with the spent ones
    }
    const created: OutPointCoin[] = [];
    for (let i = 0; i < per; i++) {
      const c = { txid: txidOf(50_000_000 + serial++), vout: 0, coin: makeCoin(r, height) };
      created.push(c);
      live.add(c.txid, c.vout);
    }
    prev = entry.hash;
    return { entry, spent, created, undo, tip: { hash: entry.hash, height } };
  };
  (globalThis as { gc?: () => void }).gc?.();
  const anonBeforeMB = rssAnonMB();
  const heapBeforeMB = heapMB();
  await store.setWriteBack(limitBytes);
  const t0 = performance.now();
  let flushes = 0;
  let mostHeld = 0;
  for (let b = 0; b < blocks; b++) {
    const held = store.unflushedBlocks;
    await store.applyBlock(nextBlock());
    if (store.unflushedBlocks <= held) flushes++;
    mostHeld = Math.max(mostHeld, store.unflushedBlocks);
  }
  await store.flush();
  const ms = performance.now() - t0;
  (globalThis as { gc?: () => void }).gc?.();
  const outcome: WriteBackOutcome = {
    anonBeforeMB,
    anonAfterMB: rssAnonMB(),
    heapBeforeMB,
    heapAfterMB: heapMB(),
    flushes,
    mostHeld,
    ms,
    utxoCount: store.utxoCount(),
    expectedCount,
  };
  await store.close();
  return outcome;
}

const job = JSON.parse(process.argv[2] ?? '{}') as WriteBackJob;
if ('prefill' in job) await prefill(job.dir, job.prefill);
else console.log(JSON.stringify(await run(job.dir, job.per, job.blocks, job.limitBytes)));
