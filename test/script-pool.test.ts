// The worker pool on real threads: a real block verifies as on one thread, one bad signature
// among 1,427 inputs is named, and a worker that throws or dies is an internal error that the
// pool retries, never a verdict on the block.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { decodeBlock, type Block } from '../src/primitives/block.js';
import type { TxOut } from '../src/primitives/transaction.js';
import { readBcoinUndo } from '../src/spent/index.js';
import { spentOutputsByTx } from '../src/consensus/block-scripts.js';
import { getBlockScriptFlags } from '../src/consensus/script-flags.js';
import { runScriptsSerial, type TxScriptWork } from '../src/consensus/connect-block.js';
import { ScriptPool } from '../src/pipeline/script-pool.js';
import { verifyTransaction } from '../src/script/verify-tx.js';
import { prepareBlock, splitTasks, ITEM_FIELDS } from '../src/pipeline/script-task.js';
import { readVector } from './helpers/vectors.js';
import { corruptScriptSigSignature, withInput } from './helpers/alter-block.js';

function load(): { block: Block; work: TxScriptWork[]; flags: number } {
  const decoded = decodeBlock(readVector('bcoin', 'mainnet', 'block300025.raw'));
  const spent = readBcoinUndo(readVector('bcoin', 'mainnet', 'block300025-undo.raw'));
  if (!decoded.ok || !spent.ok) throw new Error('vector does not parse');
  const byTx = spentOutputsByTx(decoded.block, spent.outputs);
  if (byTx === undefined) throw new Error('spent outputs do not match the block');
  const work = decoded.block.txs.slice(1).map((tx, i) => ({ txIndex: i + 1, tx, spent: byTx[i + 1] as TxOut[] }));
  return { block: decoded.block, work, flags: getBlockScriptFlags('main', 300025, decoded.block.hash()) };
}

test('pool: block 300025 on 2 threads is valid, as on one', async () => {
  const { work, flags } = load();
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    assert.deepEqual(await pool.verify(work, flags), { mode: 'valid' });
    assert.equal(pool.stats.inputs, 1427);
    assert.ok(pool.stats.tasks >= 16, `${pool.stats.tasks} tasks`);
  } finally {
    await pool.close();
  }
});

test('pool: one bad signature among 1,427 inputs is named by transaction and input', async () => {
  const { work, flags } = load();
  const target = 400;
  const w = work[target - 1]!;
  const bad = withInput(w.tx, 0, { scriptSig: corruptScriptSigSignature(w.tx.inputs[0]!.scriptSig) });
  const altered = work.map((x) => (x.txIndex === target ? { ...x, tx: bad } : x));
  const serial = runScriptsSerial(altered, flags);
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    const r = await pool.verify(altered, flags);
    assert.equal(r.mode, 'invalid');
    assert.deepEqual(r, serial);
    if (r.mode === 'invalid') {
      assert.equal(r.txIndex, target);
      assert.equal(r.inputIndex, 0);
      assert.match(r.reason, /^block-script-verify-flag-failed \(/);
    }
    // The abort flag stopped the other tasks early.
    assert.ok(pool.stats.inputs < 1427, `${pool.stats.inputs} inputs checked`);
  } finally {
    await pool.close();
  }
});

for (const fault of ['throw', 'exit'] as const) {
  test(`pool: a worker that ${fault === 'throw' ? 'throws' : 'dies'} mid-block is retried, not blamed on the block`, async () => {
    const { work, flags } = load();
    const pool = await ScriptPool.create({ threads: 2, faultInjection: fault });
    try {
      assert.deepEqual(await pool.verify(work.slice(0, 120), flags), { mode: 'valid' });
      assert.equal(pool.stats.retries, 1);
      assert.equal(pool.stats.internalErrors, 0);
    } finally {
      await pool.close();
    }
  });
}

test('pool: a worker failure on every attempt is an internal error', async () => {
  const { work, flags } = load();
  const pool = await ScriptPool.create({ threads: 2, faultInjection: 'throw', attempts: 1 });
  try {
    const r = await pool.verify(work.slice(0, 50), flags);
    assert.equal(r.mode, 'error');
    if (r.mode === 'error') assert.equal(r.reason, 'script-worker-failed');
    assert.equal(pool.stats.internalErrors, 1);
  } finally {
    await pool.close();
  }
});

test('tasks: a transaction larger than a task is split into input ranges', () => {
  const { work, flags } = load();
  const big = work.reduce((a, b) => (b.tx.inputs.length > a.tx.inputs.length ? b : a));
  const prepared = prepareBlock([big]);
  const n = big.tx.inputs.length;
  const tasks = splitTasks(prepared, flags, 4);
  assert.equal(tasks.length, Math.ceil(n / 4));
  let covered = 0;
  for (const t of tasks) for (let k = 0; k < t.items.length; k += ITEM_FIELDS) covered += t.items[k + 6]! - t.items[k + 5]!;
  assert.equal(covered, n);
});

test('pool: signatures verified mempool-style are cache hits when the block connects', async () => {
  const { work, flags } = load();
  const some = work.slice(0, 60);
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    const cache = pool.sigCache!;
    let signatures = 0;
    for (const w of some) {
      assert.deepEqual(verifyTransaction(w.tx, w.spent, flags, { sigCache: cache }), { ok: true });
      signatures += w.tx.inputs.length;
    }
    const before = cache.hits;
    assert.deepEqual(await pool.verify(some, flags), { mode: 'valid' });
    // Every input of this range is P2PKH or bare multisig with one signature check that succeeds.
    assert.ok(cache.hits - before >= signatures, `${cache.hits - before} hits for ${signatures} signatures`);
  } finally {
    await pool.close();
  }
});
