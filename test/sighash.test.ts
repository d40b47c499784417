// Bitcoin Core's sighash.json: 500 legacy SignatureHash cases (sighash_tests.cpp,
// sighash_from_data), one node:test case per row.
//
// Row format: [raw tx hex, scriptCode hex, input index, hashType (signed int32), expected
// hash]. The expected hash is a uint256 in display order: the sha256d digest reversed.
// Core also requires each tx to pass CheckTransaction; we add a serialization round trip.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';

import { readVectorText } from './helpers/vectors.js';
import { checkTransaction } from '../src/consensus/tx-check.js';
import { fromHex, hashToHex, toHex } from '../src/primitives/bytes.js';
import { Transaction, decodeTransaction, type TxOut } from '../src/primitives/transaction.js';
import { ByteWriter } from '../src/primitives/writer.js';
import { PrecomputedTxData, signatureHashLegacy, signatureHashTaproot, signatureHashWitnessV0 } from '../src/script/sighash.js';

const rows = JSON.parse(readVectorText('bitcoin-core', 'sighash.json')) as unknown[][];
const cases = rows
  .map((row, index) => ({ row, index }))
  .filter(({ row }) => row.length !== 1); // the header row

test('sighash.json holds 500 cases', () => {
  assert.equal(cases.length, 500);
});

for (const { row, index } of cases) {
  const [rawTx, scriptHex, nIn, hashType, expected] = row as [string, string, number, number, string];
  test(`#${index} in=${nIn} hashType=${hashType} (0x${(hashType >>> 0).toString(16)}) ${expected}`, () => {
    const raw = fromHex(rawTx);
    const decoded = decodeTransaction(raw);
    if (!decoded.ok) assert.fail(`tx does not decode: ${decoded.code} at ${decoded.offset}: ${decoded.message}`);
    const tx = decoded.tx;
    assert.equal(toHex(tx.toBytes()), rawTx, 'serialization round trip');
    const check = checkTransaction(tx);
    assert.ok(check.ok, `CheckTransaction failed: ${check.ok ? '' : check.reason}`);
    const digest = signatureHashLegacy(fromHex(scriptHex), tx, nIn, hashType);
    assert.equal(hashToHex(digest), expected);
  });
}

// BIP143 and BIP341 preimages begin with 64 bytes that every input of a transaction shares for a
// given hash type, and PrecomputedTxData keeps their SHA-256 midstate. A midstate kept under the
// wrong hash type would sign the wrong message: every hash type on every input, in a scrambled
// order through one shared cache, must give what a fresh cache gives, and (BIP143) what a plain
// concatenation of BIP143's fields hashed with node:crypto gives.

const sha256d = (data: Uint8Array): Uint8Array => createHash('sha256').update(createHash('sha256').update(data).digest()).digest();

/** BIP143's preimage written out field by field, as the BIP states it. */
function referenceBip143(scriptCode: Uint8Array, tx: Transaction, nIn: number, hashType: number, amount: number): Uint8Array {
  const base = hashType & 0x1f;
  const acp = (hashType & 0x80) !== 0;
  const zero = new Uint8Array(32);
  const all = (f: (w: ByteWriter) => void): Uint8Array => {
    const w = new ByteWriter(64);
    f(w);
    return sha256d(w.finish());
  };
  const hashPrevouts = acp ? zero : all((w) => tx.inputs.forEach((i) => w.bytes(i.prevout.hash).u32(i.prevout.index)));
  const hashSequence = acp || base === 2 || base === 3 ? zero : all((w) => tx.inputs.forEach((i) => w.u32(i.sequence)));
  const hashOutputs =
    base !== 2 && base !== 3 ? all((w) => tx.outputs.forEach((o) => w.i64(o.value).varBytes(o.scriptPubKey)))
    : base === 3 && nIn < tx.outputs.length ? all((w) => w.i64(tx.outputs[nIn]!.value).varBytes(tx.outputs[nIn]!.scriptPubKey))
    : zero;
  const input = tx.inputs[nIn]!;
  const w = new ByteWriter(256);
  w.i32(tx.version).bytes(hashPrevouts).bytes(hashSequence).bytes(input.prevout.hash).u32(input.prevout.index);
  w.varBytes(scriptCode).i64(amount).u32(input.sequence).bytes(hashOutputs).u32(tx.locktime).i32(hashType);
  return sha256d(w.finish());
}

test('BIP143 and BIP341 sighashes: every hash type on every input through one cache, as a fresh cache and (BIP143) the BIP\'s own concatenation give', () => {
  // sighash.json's transactions with 3 inputs or more; their spent outputs are made up.
  const txs = cases
    .map(({ row }) => decodeTransaction(fromHex(row[0] as string)))
    .flatMap((d) => (d.ok && d.tx.inputs.length >= 3 && d.tx.outputs.length >= 1 ? [d.tx] : []))
    .slice(0, 12);
  assert.ok(txs.length >= 6, `${txs.length} transactions with 3 inputs or more`);
  // A P2WPKH scriptCode (the short path) and a long script (node:crypto over the whole preimage).
  const scriptCodes = [fromHex('76a914' + '11'.repeat(20) + '88ac'), new Uint8Array(130).fill(0x51)];
  const bip143Types = [1, 2, 3, 0x81, 0x82, 0x83, 0x41];
  const taprootTypes = [0, 1, 2, 3, 0x81, 0x82, 0x83];
  let checked = 0;
  for (const [t, tx] of txs.entries()) {
    const spent: TxOut[] = tx.inputs.map((_, i) => ({ value: 1000 * (i + 1) + t, scriptPubKey: fromHex('5120' + toHex(new Uint8Array(32).fill(i + 1))) }));
    const shared = new PrecomputedTxData(tx, spent);
    const calls: Array<[number, number, number]> = [];
    for (let nIn = 0; nIn < tx.inputs.length; nIn++) for (const h of bip143Types) for (let c = 0; c < scriptCodes.length; c++) calls.push([nIn, h, c]);
    // A fixed scramble, so hash types alternate on the shared cache.
    calls.sort((a, b) => ((a[0] * 7 + a[1] * 13 + a[2] * 3) % 11) - ((b[0] * 7 + b[1] * 13 + b[2] * 3) % 11));
    for (const [nIn, h, c] of calls) {
      const amount = 5000 + nIn;
      const got = signatureHashWitnessV0(scriptCodes[c]!, tx, nIn, h, amount, shared);
      assert.equal(toHex(got), toHex(signatureHashWitnessV0(scriptCodes[c]!, tx, nIn, h, amount, new PrecomputedTxData(tx))), `tx ${t} input ${nIn} type ${h}`);
      assert.equal(toHex(got), toHex(referenceBip143(scriptCodes[c]!, tx, nIn, h, amount)), `tx ${t} input ${nIn} type ${h}: BIP143`);
      checked++;
    }
    const leaf = new Uint8Array(32).fill(0xab);
    for (let round = 0; round < 2; round++) {
      for (const h of round === 0 ? taprootTypes : [...taprootTypes].reverse()) {
        for (let nIn = 0; nIn < tx.inputs.length; nIn++) {
          for (const exec of [{}, { tapleafHash: leaf, codeSeparatorPos: nIn }, { annexHash: leaf }]) {
            const got = signatureHashTaproot(tx, nIn, h, shared, exec);
            const want = signatureHashTaproot(tx, nIn, h, new PrecomputedTxData(tx, spent), exec);
            assert.equal(got === undefined ? 'none' : toHex(got), want === undefined ? 'none' : toHex(want), `tx ${t} input ${nIn} type ${h} (taproot)`);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 500, `${checked} sighashes compared`);

  // One cache shared by copies of a transaction that differ in version and lock time (no hash it
  // holds covers them, so sharing it is allowed): a midstate is used only for a preimage that
  // begins with the bytes it was taken from.
  const base = txs[0]!;
  const spent: TxOut[] = base.inputs.map((_, i) => ({ value: 700 + i, scriptPubKey: fromHex('5120' + toHex(new Uint8Array(32).fill(i + 9))) }));
  const copies = [base, new Transaction(base.version + 1, base.inputs, base.outputs, base.locktime), new Transaction(base.version, base.inputs, base.outputs, base.locktime + 1)];
  const shared = new PrecomputedTxData(base, spent);
  for (let round = 0; round < 3; round++) {
    for (const [c, tx] of copies.entries()) {
      for (const h of [1, 0x81]) {
        const got = signatureHashWitnessV0(scriptCodes[0]!, tx, 1, h, 5000, shared);
        assert.equal(toHex(got), toHex(referenceBip143(scriptCodes[0]!, tx, 1, h, 5000)), `copy ${c} type ${h}`);
      }
      for (const h of [0, 1, 3]) {
        const got = signatureHashTaproot(tx, 1, h, shared, {});
        assert.equal(toHex(got!), toHex(signatureHashTaproot(tx, 1, h, new PrecomputedTxData(tx, spent), {})!), `copy ${c} type ${h} (taproot)`);
      }
    }
  }
});
