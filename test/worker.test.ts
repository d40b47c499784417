// The worker entry loads from the compiled tree through Piscina and verifies a real
// block's inputs on real threads; a damaged signature comes back named, as data.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { Piscina } from 'piscina';
import { decodeBlock, type Block } from '../src/primitives/block.js';
import { readBcoinUndo } from '../src/spent/index.js';
import { spentOutputsByTx } from '../src/consensus/block-scripts.js';
import { getBlockScriptFlags } from '../src/consensus/script-flags.js';
import { encodeSpentOutputs, type ScriptJob, type ScriptJobResult } from '../src/pipeline/script-job.js';
import { VERIFY_INPUTS_WORKER } from '../src/pipeline/workers.js';
import type { TxOut } from '../src/primitives/transaction.js';
import { readVector } from './helpers/vectors.js';

function load(): { block: Block; byTx: TxOut[][] } {
  const decoded = decodeBlock(readVector('bcoin', 'testnet3', 'block1087400.raw'));
  const spent = readBcoinUndo(readVector('bcoin', 'testnet3', 'block1087400-undo.raw'));
  if (!decoded.ok || !spent.ok) throw new Error('vector does not parse');
  const byTx = spentOutputsByTx(decoded.block, spent.outputs);
  if (byTx === undefined) throw new Error('spent outputs do not match the block');
  return { block: decoded.block, byTx };
}

function jobs(block: Block, byTx: TxOut[][], flags: number, txBytes: (i: number) => Uint8Array, parts: number): ScriptJob[] {
  const out: ScriptJob[] = [];
  for (let p = 0; p < parts; p++) {
    const idx: number[] = [];
    for (let t = 1 + p; t < block.txs.length; t += parts) idx.push(t);
    out.push({ txs: idx.map(txBytes), spent: idx.map((t) => encodeSpentOutputs(byTx[t]!)), txIndexes: idx, flags });
  }
  return out;
}

test('verify-inputs worker: testnet3 block 1087400 on 2 threads', async () => {
  const { block, byTx } = load();
  const flags = getBlockScriptFlags('testnet3', 1087400, block.hash());
  const pool = new Piscina<ScriptJob, ScriptJobResult>({ filename: VERIFY_INPUTS_WORKER.href, maxThreads: 2, minThreads: 2, idleTimeout: 5_000 });
  try {
    const results = await Promise.all(jobs(block, byTx, flags, (t) => block.txs[t]!.toBytes(), 4).map((j) => pool.run(j)));
    assert.equal(results.reduce((a, r) => a + r.inputs, 0), 205);
    assert.ok(results.every((r) => r.ok));

    // Damage one byte of the first signature of transaction 5 and expect that input named.
    const target = 5;
    const raw = block.txs[target]!.toBytes().slice();
    const sig = block.txs[target]!.inputs[0]!.scriptSig;
    const at = Buffer.from(raw).indexOf(Buffer.from(sig)) + 10; // inside the DER r value
    raw[at] = raw[at]! ^ 0x01;
    const bad = await Promise.all(jobs(block, byTx, flags, (t) => (t === target ? raw : block.txs[t]!.toBytes()), 4).map((j) => pool.run(j)));
    const failures = bad.filter((r): r is Extract<ScriptJobResult, { ok: false }> => !r.ok);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.txIndex, target);
    assert.equal(failures[0]!.inputIndex, 0);
    assert.notEqual(failures[0]!.error, 'internal');
  } finally {
    await pool.destroy();
  }
});
