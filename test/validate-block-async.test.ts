// validateBlockAsync starts the scripts once the merkle root matches and runs the other checks
// meanwhile. Its answers must be validateBlock's: valid blocks, a bad signature, a CheckBlock or
// coin-check failure that wins over a script failure in another transaction, a mismatched merkle
// root (no script started), an in-block spend out of order. The early script
// work must be exactly what the coin checks hand over (one runner call, never a second), and a
// block that fails its coin checks must stop the scripts (none at all on a calling-thread pool).

import { describe, it, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { validateBlock, validateBlockAsync, type BlockReport } from '../src/consensus/validate-block.js';
import { sameScriptWork } from '../src/consensus/block-scripts.js';
import type { TxScriptWork } from '../src/consensus/connect-block.js';
import { VALID, type ValidationResult } from '../src/consensus/validation.js';
import { hashToHex } from '../src/primitives/bytes.js';
import { ScriptPool } from '../src/pipeline/script-pool.js';
import { corruptScriptSigSignature, findInBlockSpend, flattenSpent, rebuildBlock, withInput } from './helpers/alter-block.js';
import { loadBlockFixture, type BlockFixture } from './helpers/real-blocks.js';


let A: BlockFixture; // mainnet 300025: 1,427 inputs, legacy scripts
let F: BlockFixture; // mainnet 866342: segwit and taproot, in-block spends
let pool: ScriptPool;
let serialPool: ScriptPool;

before(async () => {
  A = loadBlockFixture('bcoin/mainnet/block300025.raw');
  F = loadBlockFixture('floresta/block_866342.raw');
  pool = await ScriptPool.create({ threads: 2, sigCache: null });
  serialPool = await ScriptPool.create({ threads: 0, sigCache: null });
});

after(async () => {
  await pool.close();
  await serialPool.close();
});

const NOW = 2_000_000_000;

function same(a: BlockReport, b: BlockReport): void {
  assert.deepEqual(a, b);
}

/** A runner that records what it is given and answers valid without checking anything. */
function recorder(): { calls: Array<{ work: readonly TxScriptWork[]; aborted: () => boolean }>; run: (w: readonly TxScriptWork[], f: number, s?: AbortSignal) => Promise<ValidationResult> } {
  const calls: Array<{ work: readonly TxScriptWork[]; aborted: () => boolean }> = [];
  return {
    calls,
    run: async (work, _flags, signal) => {
      calls.push({ work, aborted: () => signal?.aborted === true });
      return VALID;
    },
  };
}

describe('validateBlockAsync answers as validateBlock', () => {
  it('300025 on a 2-thread pool and on the calling thread: valid, with the same report', async () => {
    const want = validateBlock(A.raw, A.spent, { network: 'main', now: NOW });
    assert.equal(want.result.mode, 'valid');
    for (const p of [pool, serialPool]) same(await validateBlockAsync(A.raw, A.spent, { network: 'main', now: NOW, runScripts: (w, f, s) => p.verify(w, f, s) }), want);
  });

  it('the early script work is what the coin checks hand over: one runner call for 300025 and 866342 (in-block spends)', async () => {
    assert.ok(findInBlockSpend(F.block) !== undefined, '866342 spends a coin of its own');
    for (const f of [A, F]) {
      const r = recorder();
      const report = await validateBlockAsync(f.raw, f.spent, { network: 'main', now: NOW, runScripts: r.run });
      assert.equal(report.result.mode, 'valid');
      assert.equal(r.calls.length, 1, 'no second call: the early work matched');
      assert.equal(r.calls[0]!.aborted(), false);
      assert.equal(r.calls[0]!.work.length, f.block.txs.length - 1);
    }
  });

  it('a bad signature: the same invalid result, transaction and input', async () => {
    const t = 400;
    const tx = A.block.txs[t]!;
    const bad = withInput(tx, 0, { scriptSig: corruptScriptSigSignature(tx.inputs[0]!.scriptSig) });
    const block = rebuildBlock(A.block, A.block.txs.map((x, i) => (i === t ? bad : x)));
    const raw = block.toBytes();
    const want = validateBlock(raw, A.spent, { network: 'main', now: NOW, checkPow: false });
    assert.equal(want.result.mode, 'invalid');
    for (const p of [pool, serialPool]) same(await validateBlockAsync(raw, A.spent, { network: 'main', now: NOW, checkPow: false, runScripts: (w, f, s) => p.verify(w, f, s) }), want);
  });

  it('a coin-check failure wins over a script failure, and stops the scripts already running', async () => {
    // Tx 400 has a bad signature; a later one spends a coin from an earlier block now said to be worth 0.
    const t = 400;
    const ids = A.block.txs.map((x) => hashToHex(x.txid()));
    const poor = A.block.txs.findIndex((x, i) => i > t && !ids.includes(hashToHex(x.inputs[0]!.prevout.hash)));
    assert.ok(poor > t);
    const tx = A.block.txs[t]!;
    const bad = withInput(tx, 0, { scriptSig: corruptScriptSigSignature(tx.inputs[0]!.scriptSig) });
    const block = rebuildBlock(A.block, A.block.txs.map((x, i) => (i === t ? bad : x)));
    const raw = block.toBytes();
    const perTx = A.perTx.map((s, i) => (i === poor ? s.map((o, j) => (j === 0 ? { ...o, value: 0 } : o)) : s));
    const spent = flattenSpent(perTx);
    const want = validateBlock(raw, spent, { network: 'main', now: NOW, checkPow: false });
    assert.equal(want.result.mode, 'invalid');
    // Fees fall short by that coin: the coinbase now claims too much (checked after every transaction).
    if (want.result.mode === 'invalid') assert.doesNotMatch(want.result.reason, /^block-script/);
    const inputs0 = pool.stats.inputs;
    same(await validateBlockAsync(raw, spent, { network: 'main', now: NOW, checkPow: false, runScripts: (w, f, s) => pool.verify(w, f, s) }), want);
    assert.ok(pool.stats.inputs - inputs0 < 1427, `stopped early: ${pool.stats.inputs - inputs0} of 1427 inputs checked`);
    // On the calling thread nothing is checked at all: the coin checks fail before its turn.
    const sigs0 = serialPool.stats.ecdsa + serialPool.stats.schnorr;
    same(await validateBlockAsync(raw, spent, { network: 'main', now: NOW, checkPow: false, runScripts: (w, f, s) => serialPool.verify(w, f, s) }), want);
    assert.equal(serialPool.stats.ecdsa + serialPool.stats.schnorr, sigs0, 'no signature verified');
    // The runner sees the withdrawal.
    const r = recorder();
    same(await validateBlockAsync(raw, spent, { network: 'main', now: NOW, checkPow: false, runScripts: r.run }), want);
    assert.equal(r.calls.length, 1);
    assert.equal(r.calls[0]!.aborted(), true);
  });

  it('a CheckBlock failure after the merkle root wins over a script failure, and stops the scripts it started', async () => {
    // Tx 400 has a bad signature; a later transaction spends one outpoint twice (bad-txns-inputs-duplicate,
    // found by CheckBlock's transaction checks, which now run while the scripts do).
    const t = 400;
    const dup = A.block.txs.findIndex((x, i) => i > t && x.inputs.length >= 2);
    assert.ok(dup > t);
    const tx = A.block.txs[t]!;
    const bad = withInput(tx, 0, { scriptSig: corruptScriptSigSignature(tx.inputs[0]!.scriptSig) });
    const twice = withInput(A.block.txs[dup]!, 1, { prevout: A.block.txs[dup]!.inputs[0]!.prevout });
    const raw = rebuildBlock(A.block, A.block.txs.map((x, i) => (i === t ? bad : i === dup ? twice : x))).toBytes();
    const want = validateBlock(raw, A.spent, { network: 'main', now: NOW, checkPow: false });
    assert.equal(want.result.mode === 'invalid' && want.result.reason, 'bad-txns-inputs-duplicate');
    const inputs0 = pool.stats.inputs;
    same(await validateBlockAsync(raw, A.spent, { network: 'main', now: NOW, checkPow: false, runScripts: (w, f, s) => pool.verify(w, f, s) }), want);
    assert.ok(pool.stats.inputs - inputs0 < 1427, `stopped early: ${pool.stats.inputs - inputs0} of 1427 inputs checked`);
    const r = recorder();
    same(await validateBlockAsync(raw, A.spent, { network: 'main', now: NOW, checkPow: false, runScripts: r.run }), want);
    assert.equal(r.calls.length, 1, 'started once the merkle root matched');
    assert.equal(r.calls[0]!.aborted(), true);
  });

  it('a merkle root mismatch: no script is started', async () => {
    const block = rebuildBlock(A.block, A.block.txs);
    const raw = block.toBytes();
    raw[36] = raw[36]! ^ 1; // the header's merkle root
    const want = validateBlock(raw, A.spent, { network: 'main', now: NOW, checkPow: false });
    assert.deepEqual([want.result.mode, want.result.mode === 'mutated' && want.result.reason], ['mutated', 'bad-txnmrklroot']);
    const r = recorder();
    same(await validateBlockAsync(raw, A.spent, { network: 'main', now: NOW, checkPow: false, runScripts: r.run }), want);
    assert.equal(r.calls.length, 0);
  });

  it('an in-block spend moved before its parent: no early start, the same missingorspent result', async () => {
    const spend = findInBlockSpend(A.block)!;
    const { parent, child } = spend;
    const move = <T>(xs: readonly T[]): T[] => [...xs.slice(0, parent), xs[child]!, ...xs.slice(parent, child), ...xs.slice(child + 1)];
    const raw = rebuildBlock(A.block, move(A.block.txs)).toBytes();
    const spent = flattenSpent(move(A.perTx));
    const want = validateBlock(raw, spent, { network: 'main', now: NOW, checkPow: false });
    assert.equal(want.result.mode === 'invalid' && want.result.reason, 'bad-txns-inputs-missingorspent');
    const r = recorder();
    same(await validateBlockAsync(raw, spent, { network: 'main', now: NOW, checkPow: false, runScripts: r.run }), want);
    assert.equal(r.calls.length, 0);
  });

  it('a runner that throws at once is our own failure, as one that rejects is: an error result, and a block failing another check still gets its verdict', async () => {
    const throwsAtOnce = (): Promise<ValidationResult> => {
      throw new Error('runner failed');
    };
    const rejects = async (): Promise<ValidationResult> => {
      throw new Error('runner failed');
    };
    const opts = { network: 'main' as const, now: NOW };
    const asThrown = await validateBlockAsync(A.raw, A.spent, { ...opts, runScripts: throwsAtOnce });
    assert.deepEqual(asThrown, await validateBlockAsync(A.raw, A.spent, { ...opts, runScripts: rejects }));
    assert.deepEqual(asThrown.result, { mode: 'error', reason: 'script-check-failed', debug: 'runner failed' });
    // A coin-check failure (a spent coin worth 0) is the verdict, whatever the runner did.
    const poor = A.perTx.map((s, i) => (i === 1 ? s.map((o, j) => (j === 0 ? { ...o, value: 0 } : o)) : s));
    const spent = flattenSpent(poor);
    const want = validateBlock(A.raw, spent, opts);
    assert.equal(want.result.mode, 'invalid');
    same(await validateBlockAsync(A.raw, spent, { ...opts, runScripts: throwsAtOnce }), want);
  });

  it('sameScriptWork: a changed spent amount or script is a different work list', () => {
    const work: TxScriptWork[] = A.block.txs.slice(1, 4).map((tx, k) => ({ txIndex: k + 1, tx, spent: A.perTx[k + 1]! }));
    assert.equal(sameScriptWork(work, work.map((w) => ({ ...w, spent: w.spent.map((o) => ({ ...o })) }))), true);
    const value = work.map((w, k) => (k === 1 ? { ...w, spent: w.spent.map((o, j) => (j === 0 ? { ...o, value: o.value + 1 } : o)) } : w));
    assert.equal(sameScriptWork(work, value), false);
    const script = work.map((w, k) => (k === 2 ? { ...w, spent: w.spent.map((o, j) => (j === 0 ? { ...o, scriptPubKey: o.scriptPubKey.slice(1) } : o)) } : w));
    assert.equal(sameScriptWork(work, script), false);
    assert.equal(sameScriptWork(work, work.slice(1)), false);
  });
});
