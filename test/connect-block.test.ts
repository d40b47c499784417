// connectBlockInputs' coin update on a real block: plain data (a caller may copy, clone or serialize
// it), the coins the block leaves listed in block order, and not listed when the caller says so.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { connectBlockInputs, isUnspendable, type CoinSource, type ConnectContext } from '../src/consensus/connect-block.js';
import { toHex } from '../src/primitives/bytes.js';
import { blockScriptFlags, loadBlockFixture } from './helpers/real-blocks.js';

const F = loadBlockFixture('bcoin/mainnet/block300025.raw');
const ctx: ConnectContext = {
  height: F.height,
  flags: blockScriptFlags('mainnet', F.height),
  lockTimeFlags: 0,
  prevMedianTimePast: Number.POSITIVE_INFINITY,
  enforceBIP30: false,
  subsidyHalvingInterval: 210_000,
};
const source: CoinSource = { fetch: (_txid, _vout, txIndex, inputIndex) => F.perTx[txIndex]![inputIndex] };

/** Every spendable output of the block that no later transaction of it spends, in block order. */
function expectedCreated(): string[] {
  const spentHere = new Set<string>();
  for (const tx of F.block.txs.slice(1)) for (const i of tx.inputs) spentHere.add(`${toHex(i.prevout.hash)}:${i.prevout.index}`);
  const out: string[] = [];
  for (const tx of F.block.txs) {
    tx.outputs.forEach((o, vout) => {
      const key = `${toHex(tx.txid())}:${vout}`;
      if (!isUnspendable(o.scriptPubKey) && !spentHere.has(key)) out.push(key);
    });
  }
  return out;
}

test('the coin update is plain data: copied, cloned or serialized, it keeps every list', () => {
  const r = connectBlockInputs(F.block, ctx, source);
  assert.equal(r.result.mode, 'valid');
  const u = r.update;
  assert.deepEqual(Object.keys(u), ['spent', 'undo', 'created']);
  assert.deepEqual(
    u.created.map((c) => `${toHex(c.txid)}:${c.vout}`),
    expectedCreated(),
  );
  assert.ok(u.created.every((c) => c.coin.height === F.height && c.coin.coinbase === (toHex(c.txid) === toHex(F.block.txs[0]!.txid()))));
  for (const copy of [{ ...u }, structuredClone(u), JSON.parse(JSON.stringify(u)) as typeof u]) {
    assert.equal(copy.created.length, u.created.length);
    assert.equal(copy.spent.length, u.spent.length);
    assert.equal(copy.undo.length, u.undo.length);
  }
});

test('listCreated: false leaves the created coins out and changes nothing else', () => {
  const all = connectBlockInputs(F.block, ctx, source);
  const none = connectBlockInputs(F.block, ctx, source, { listCreated: false });
  assert.deepEqual(none.result, all.result);
  assert.equal(none.update.created.length, 0);
  assert.deepEqual(none.update.spent, all.update.spent);
  assert.deepEqual(none.update.undo, all.update.undo);
  assert.equal(none.fees, all.fees);
  assert.equal(none.sigOpCost, all.sigOpCost);
});

test('listSpent: false leaves the spent coins and undo data out and changes nothing else', () => {
  const all = connectBlockInputs(F.block, ctx, source);
  assert.ok(all.update.spent.length > 0 && all.update.undo.length === all.update.spent.length);
  const none = connectBlockInputs(F.block, ctx, source, { listSpent: false });
  assert.deepEqual(none.result, all.result);
  assert.deepEqual([none.update.spent.length, none.update.undo.length], [0, 0]);
  assert.deepEqual(none.update.created, all.update.created);
  assert.equal(none.fees, all.fees);
  assert.equal(none.sigOpCost, all.sigOpCost);
  assert.equal(none.inputs, all.inputs);
});
