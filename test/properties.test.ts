// Property tests (fast-check) for the transaction and block encoders: decode(encode(x)) == x
// in both BIP144 forms, and no input, random or mutated, makes a decoder throw.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decodeTransaction, Transaction, type TxIn, type TxOut } from '../src/primitives/transaction.js';
import { Block, BlockHeader, decodeBlock } from '../src/primitives/block.js';
import { equalBytes, toHex } from '../src/primitives/bytes.js';
import { MAX_MONEY } from '../src/primitives/amount.js';
import { loadRealBlock, REAL_BLOCKS } from './helpers/real-blocks.js';
import { readVector } from './helpers/vectors.js';

const SEED = 0x5eed_2459;
const PARSE_CODES = new Set(['truncated', 'non-canonical-compactsize', 'size-too-large', 'superfluous-witness', 'unknown-optional-data', 'trailing-data', 'bad-format']);

const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
// Lengths around the CompactSize boundary 0xfc/0xfd appear now and then.
const script = fc.oneof({ weight: 5, arbitrary: bytes(40) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 250, maxLength: 260 }) });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const txIn = (withWitness: boolean): fc.Arbitrary<TxIn> =>
  fc.record({
    prevout: fc.record({ hash: fc.uint8Array({ minLength: 32, maxLength: 32 }), index: u32 }),
    scriptSig: script,
    sequence: u32,
    witness: withWitness ? fc.array(bytes(80), { maxLength: 4 }) : fc.constant([] as Uint8Array[]),
  });

const txOut: fc.Arbitrary<TxOut> = fc.record({ value: fc.integer({ min: 0, max: MAX_MONEY }), scriptPubKey: script });

/**
 * Transactions with at least one input (an empty input vector is the BIP144 marker, so such a
 * transaction has no unambiguous legacy encoding). The witness form has at least one non-empty
 * stack, else its serialization is the legacy one.
 */
function arbTx(withWitness: boolean): fc.Arbitrary<Transaction> {
  return fc
    .record({
      version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      inputs: fc.array(txIn(withWitness), { minLength: 1, maxLength: 4 }),
      outputs: fc.array(txOut, { maxLength: 4 }),
      locktime: u32,
    })
    .filter((t) => !withWitness || t.inputs.some((i) => i.witness.length > 0))
    .map((t) => new Transaction(t.version, t.inputs, t.outputs, t.locktime));
}

const anyTx = fc.oneof(arbTx(false), arbTx(true));

/** Plain-data view of every field, for deepEqual. */
function txFields(tx: Transaction): unknown {
  return {
    version: tx.version,
    inputs: tx.inputs.map((i) => ({
      hash: toHex(i.prevout.hash),
      index: i.prevout.index,
      scriptSig: toHex(i.scriptSig),
      sequence: i.sequence,
      witness: i.witness.map(toHex),
    })),
    outputs: tx.outputs.map((o) => ({ value: o.value, scriptPubKey: toHex(o.scriptPubKey) })),
    locktime: tx.locktime,
  };
}

function assertTxRoundTrip(tx: Transaction, allowWitness: boolean): void {
  const encoded = tx.toBytes();
  const r = decodeTransaction(encoded, allowWitness);
  assert.ok(r.ok, r.ok ? '' : `${r.code} at ${r.offset}`);
  assert.deepEqual(txFields(r.tx), txFields(tx));
  assert.ok(equalBytes(r.tx.toBytes(), encoded));
  const rebuilt = new Transaction(r.tx.version, r.tx.inputs, r.tx.outputs, r.tx.locktime);
  assert.ok(equalBytes(rebuilt.toBytes(), encoded));
  // ids hashed from the parsed spans equal ids hashed from a fresh serialization
  assert.ok(equalBytes(r.tx.txid(), tx.txid()));
  assert.ok(equalBytes(r.tx.wtxid(), tx.wtxid()));
  assert.equal(r.tx.weight(), tx.weight());
  assert.equal(r.tx.hasWitness(), tx.hasWitness());
}

test('tx round trip: legacy form (also with witness parsing off)', () => {
  fc.assert(
    fc.property(arbTx(false), (tx) => {
      assertTxRoundTrip(tx, true);
      assertTxRoundTrip(tx, false);
      assert.ok(equalBytes(tx.toBytes(true), tx.toBytes(false)));
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

test('tx round trip: BIP144 witness form', () => {
  fc.assert(
    fc.property(arbTx(true), (tx) => {
      assertTxRoundTrip(tx, true);
      const stripped = decodeTransaction(tx.toBytes(false));
      assert.ok(stripped.ok);
      assert.ok(equalBytes(stripped.tx.txid(), tx.txid()));
      assert.equal(stripped.tx.hasWitness(), false);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

const arbHeader = fc
  .record({
    version: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    prevBlock: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    merkleRoot: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    time: u32,
    bits: u32,
    nonce: u32,
  })
  .map((h) => new BlockHeader(h.version, h.prevBlock, h.merkleRoot, h.time, h.bits, h.nonce));

test('block round trip', () => {
  fc.assert(
    fc.property(arbHeader, fc.array(anyTx, { minLength: 1, maxLength: 6 }), (header, txs) => {
      const block = new Block(header, txs);
      const encoded = block.toBytes();
      const r = decodeBlock(encoded);
      assert.ok(r.ok, r.ok ? '' : `${r.code} at ${r.offset}`);
      assert.ok(equalBytes(r.block.header.toBytes(), header.toBytes()));
      assert.ok(equalBytes(r.block.hash(), block.hash()));
      assert.deepEqual(r.block.txs.map(txFields), txs.map(txFields));
      assert.ok(equalBytes(new Block(r.block.header, r.block.txs).toBytes(), encoded));
      assert.ok(equalBytes(r.block.toBytes(false), block.toBytes(false)));
    }),
    { seed: SEED, numRuns: 300 },
  );
});

/** A decoder result is {ok:true} or a failure with a known code and an offset inside the input. */
function assertResultShape(r: { ok: true } | { ok: false; code: string; offset: number }, length: number): void {
  if (r.ok) return;
  assert.ok(PARSE_CODES.has(r.code), `code ${r.code}`);
  assert.ok(Number.isInteger(r.offset) && r.offset >= 0 && r.offset <= length, `offset ${r.offset} of ${length}`);
}

/** When a decode succeeds and every amount is exact, re-encoding from the fields gives the input back. */
function assertCanonical(tx: Transaction, input: Uint8Array): void {
  if (!tx.outputs.every((o) => Number.isSafeInteger(o.value))) return;
  assert.ok(equalBytes(new Transaction(tx.version, tx.inputs, tx.outputs, tx.locktime).toBytes(), input));
}

test('random bytes never throw out of decodeTransaction / decodeBlock', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (input) => {
      const t = decodeTransaction(input);
      assertResultShape(t, input.length);
      if (t.ok) assertCanonical(t.tx, input);
      assertResultShape(decodeTransaction(input, false), input.length);
      assertResultShape(decodeBlock(input), input.length);
    }),
    { seed: SEED, numRuns: 5000 },
  );
});

/** A mutation of real bytes: flip, overwrite, insert or delete a few bytes, then maybe truncate. */
const mutation = fc.record({
  edits: fc.array(
    fc.record({ kind: fc.constantFrom('flip', 'set', 'insert', 'delete'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    { minLength: 1, maxLength: 4 },
  ),
  cut: fc.option(fc.nat()),
});

function mutate(src: Uint8Array, m: { edits: Array<{ kind: string; at: number; value: number }>; cut: number | null }): Uint8Array {
  const out = Array.from(src);
  for (const e of m.edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.kind === 'flip') out[at] = (out[at] ?? 0) ^ (1 << (e.value & 7));
    else if (e.kind === 'set') out[at] = e.value;
    else if (e.kind === 'insert') out.splice(at, 0, e.value);
    else out.splice(at, 1);
  }
  const bytesOut = Uint8Array.from(out);
  return m.cut === null ? bytesOut : bytesOut.subarray(0, m.cut % (bytesOut.length + 1));
}

test('mutated and truncated real transactions never throw', () => {
  const block = loadRealBlock(REAL_BLOCKS.find((b) => b.file.endsWith('block482683.raw'))!);
  const sources = [
    readVector('bcoin', 'txs', 'tx3.raw'),
    readVector('bcoin', 'txs', 'tx10.raw'),
    ...block.txs.filter((tx) => tx.hasWitness()).map((tx) => tx.rawBytes()!),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...sources), mutation, (src, m) => {
      const input = mutate(src, m);
      const r = decodeTransaction(input);
      assertResultShape(r, input.length);
      if (r.ok) assertCanonical(r.tx, input);
    }),
    { seed: SEED, numRuns: 5000 },
  );
});

test('mutated and truncated real blocks never throw', () => {
  const src = readVector('bcoin', 'mainnet', 'block482683.raw');
  fc.assert(
    fc.property(mutation, (m) => {
      const input = mutate(src, m);
      assertResultShape(decodeBlock(input), input.length);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
