// The script pool's concurrency and lifecycle: one pool verifying several blocks at once (its
// reused buffer, first-failure slot and claim cursor are per block), withdrawals in the middle,
// one transaction of 20,000 inputs cut into chunks of every size, and a pool closed while blocks
// and a look-ahead batch are in flight. Scripts are OP_TRUE / OP_FALSE spends: no signatures,
// so these run in seconds and check the claiming and reporting, not the cryptography.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { setImmediate as tick } from 'node:timers/promises';
import { Transaction } from '../src/primitives/transaction.js';
import { runScriptsSerial, type TxScriptWork } from '../src/consensus/connect-block.js';
import { ScriptPool } from '../src/pipeline/script-pool.js';
import { BlockHasher } from '../src/pipeline/block-hasher.js';
import { chunkRecords, prepareBlock } from '../src/pipeline/script-task.js';
import { readVector } from './helpers/vectors.js';

const OP_TRUE = Uint8Array.of(0x51);
const OP_FALSE = Uint8Array.of(0x00);

/**
 * Script work of transactions with `sizes[t]` inputs each (txIndex t + 1); the inputs named in
 * `bad` ("txIndex:input") spend an OP_FALSE output and fail, every other one passes.
 */
function synthetic(sizes: readonly number[], bad: ReadonlySet<string> = new Set(), tag = 0): TxScriptWork[] {
  return sizes.map((n, t) => {
    const inputs = Array.from({ length: n }, (_, i) => ({ prevout: { hash: new Uint8Array(32).fill((tag * 31 + t) & 0xff), index: i }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] }));
    const tx = new Transaction(2, inputs, [{ value: 1, scriptPubKey: OP_TRUE }], 0);
    const spent = Array.from({ length: n }, (_, i) => ({ value: 1, scriptPubKey: bad.has(`${t + 1}:${i}`) ? OP_FALSE : OP_TRUE }));
    return { txIndex: t + 1, tx, spent };
  });
}

/** A small deterministic generator (mulberry32), so a failure names the same blocks every run. */
function random(seed: number): (n: number) => number {
  let s = seed | 0;
  return (n) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

test('pool: blocks verified at once on one pool each get their own answer, as on the calling thread, withdrawn ones included', { timeout: 120_000 }, async () => {
  const rnd = random(20_240_917);
  const blocks = Array.from({ length: 10 }, (_, b) => {
    // Sizes differ, so the kept buffer is outgrown and reused while other blocks hold their own.
    const sizes = Array.from({ length: 1 + rnd(30) }, () => 1 + rnd(b % 3 === 0 ? 400 : 40));
    const total = sizes.reduce((a, n) => a + n, 0);
    const bad = new Set<string>();
    for (let k = b % 4 === 0 ? 0 : 1 + rnd(3); k > 0; k--) {
      let p = rnd(total);
      let t = 0;
      while (p >= sizes[t]!) p -= sizes[t++]!;
      bad.add(`${t + 1}:${p}`);
    }
    const work = synthetic(sizes, bad, b);
    return { work, serial: runScriptsSerial(work, 0) };
  });
  const pool = await ScriptPool.create({ threads: 2, maxChunk: 3, sigCache: null });
  try {
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        blocks.map(async (b, i) => {
          const withdraw = new AbortController();
          const answer = pool.verify(b.work, 0, withdraw.signal);
          const withdrawn = (i + round) % 3 === 0;
          if (withdrawn) {
            for (let k = rnd(4); k > 0; k--) await tick();
            withdraw.abort();
          }
          return { i, withdrawn, answer: await answer };
        }),
      );
      for (const { i, withdrawn, answer } of answers) {
        if (withdrawn && answer.mode === 'error' && answer.reason === 'script-check-aborted') continue;
        assert.deepEqual(answer, blocks[i]!.serial, `round ${round}, block ${i}${withdrawn ? ' (withdrawn)' : ''}`);
      }
    }
    assert.equal(pool.stats.internalErrors, 0);
  } finally {
    await pool.close();
  }
});

test('pool: one transaction of 20,000 inputs, cut into chunks of 1 to 1,000, is checked whole and its first failure named', { timeout: 120_000 }, async () => {
  const n = 20_000;
  const sizes = [1, n, 2];
  for (const maxChunk of [1, 7, 32, 1_000]) {
    // The last input of chunk 0 and the first of chunk 1: the thread on chunk 1 fails at once,
    // the one on chunk 0 only after checking the rest of its chunk, and must still be the one named.
    const layout = prepareBlock(synthetic(sizes), { threads: 3, maxChunk });
    const last0 = chunkRecords(layout, 0).at(-1)!;
    const first1 = chunkRecords(layout, 1)[0]!;
    const border = new Set([`${last0[0]}:${last0[6]! - 1}`, `${first1[0]}:${first1[5]}`]);
    const cases: Array<ReadonlySet<string>> = [new Set(), border, new Set([`2:${n - 1}`]), new Set(['2:12345', '2:777', '3:0']), new Set(['1:0', '2:4'])];
    const pool = await ScriptPool.create({ threads: 3, maxChunk, sigCache: null });
    try {
      for (const bad of cases) {
        const work = synthetic(sizes, bad, 7);
        const serial = runScriptsSerial(work, 0);
        for (let run = 0; run < (bad === border ? 4 : 1); run++) {
          const before = pool.stats.inputs;
          assert.deepEqual(await pool.verify(work, 0), serial, `maxChunk ${maxChunk}, bad ${[...bad].join(' ')}, run ${run}`);
          if (bad.size === 0) assert.equal(pool.stats.inputs - before, n + 3, 'every input once');
        }
      }
    } finally {
      await pool.close();
    }
  }
});

test('pool: closed while blocks and a look-ahead batch are in flight, every caller gets an answer that is no verdict, and nothing rejects unheard', { timeout: 120_000 }, async () => {
  const raw = readVector('bcoin', 'mainnet', 'block300025.raw');
  const unheard: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unheard.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const delay of [0, 1, 3]) {
      const pool = await ScriptPool.create({ threads: 2, maxChunk: 2, sigCache: null });
      const hasher = BlockHasher.using(pool.hashBlocks);
      const batch = hasher.hash(Array.from({ length: 8 }, () => raw));
      const big = synthetic([3_000, 3_000], new Set(['2:2999']));
      const small = synthetic([500]);
      const answers = [pool.verify(big, 0), pool.verify(small, 0)];
      for (let k = 0; k < delay; k++) await tick();
      await pool.close();
      // An internal error (the usual case), or the block's own answer if it was done in time.
      for (const [i, answer] of (await Promise.all(answers)).entries()) {
        if (answer.mode === 'error') assert.match(answer.reason, /^script-/);
        else assert.deepEqual(answer, runScriptsSerial(i === 0 ? big : small, 0), `closed after ${delay} ticks`);
      }
      // Hashed, or handed back to be hashed here: never an error, never a hang.
      assert.equal((await batch).blocks.length, 8);
      await hasher.close();
      await assert.rejects(pool.verify(big, 0), /ScriptPool is closed/);
      assert.equal(pool.liveThreads, 0);
    }
    await tick();
    assert.deepEqual(unheard, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
