// CheckTransaction: one case per Core reject reason, plus Core's own unit cases from
// transaction_tests.cpp (tx_no_inputs, tx_oversized, basic_transaction_tests).

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { checkTransaction } from '../src/consensus/tx-check.js';
import { MAX_BLOCK_WEIGHT, WITNESS_SCALE_FACTOR } from '../src/consensus/consensus.js';
import { MAX_MONEY } from '../src/primitives/amount.js';
import { fromHex } from '../src/primitives/bytes.js';
import { decodeTransaction, Transaction, type TxIn, type TxOut } from '../src/primitives/transaction.js';

const ZERO_HASH = new Uint8Array(32);

function hashOf(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

function input(hash: Uint8Array, index: number, scriptSig: Uint8Array = new Uint8Array(0)): TxIn {
  return { prevout: { hash, index }, scriptSig, sequence: 0xffffffff, witness: [] };
}

function output(value: number, scriptPubKey: Uint8Array = Uint8Array.of(0x51)): TxOut {
  return { value, scriptPubKey };
}

function tx(inputs: TxIn[], outputs: TxOut[]): Transaction {
  return new Transaction(1, inputs, outputs, 0);
}

function reason(t: Transaction): string {
  const r = checkTransaction(t);
  return r.ok ? 'OK' : r.reason;
}

const SPEND = input(hashOf(1), 0);

test('a plain one-input one-output transaction passes', () => {
  assert.equal(reason(tx([SPEND], [output(1)])), 'OK');
});

test('bad-txns-vin-empty', () => {
  assert.equal(reason(tx([], [output(1)])), 'bad-txns-vin-empty');
});

test('bad-txns-vout-empty', () => {
  assert.equal(reason(tx([SPEND], [])), 'bad-txns-vout-empty');
});

test('bad-txns-oversize at exactly one byte over (Core tx_oversized)', () => {
  // Core: one default input, one output `OP_RETURN <payload>`, grow the payload until the
  // no-witness size is MAX_BLOCK_WEIGHT / WITNESS_SCALE_FACTOR, then one byte more.
  const make = (payload: number): Transaction => {
    // OP_RETURN then a PUSHDATA4 push (payloads here are above 0xffff bytes).
    const script = new Uint8Array(1 + 5 + payload);
    script[0] = 0x6a;
    script[1] = 0x4e;
    new DataView(script.buffer).setUint32(2, payload, true);
    return tx([input(ZERO_HASH, 0)], [output(1, script)]);
  };
  const maxSize = MAX_BLOCK_WEIGHT / WITNESS_SCALE_FACTOR;
  const overhead = make(maxSize).baseSize() - maxSize;
  const atLimit = make(maxSize - overhead);
  assert.equal(atLimit.baseSize(), maxSize);
  assert.notEqual(reason(atLimit), 'bad-txns-oversize');
  assert.equal(reason(make(maxSize - overhead + 1)), 'bad-txns-oversize');
});

test('bad-txns-oversize ignores the witness', () => {
  const big = new Uint8Array(MAX_BLOCK_WEIGHT / WITNESS_SCALE_FACTOR);
  const withWitness: TxIn = { ...SPEND, witness: [big] };
  assert.equal(reason(tx([withWitness], [output(1)])), 'OK');
});

test('bad-txns-vout-negative', () => {
  assert.equal(reason(tx([SPEND], [output(1), output(-1)])), 'bad-txns-vout-negative');
});

test('bad-txns-vout-toolarge', () => {
  assert.equal(reason(tx([SPEND], [output(MAX_MONEY)])), 'OK');
  assert.equal(reason(tx([SPEND], [output(MAX_MONEY + 1)])), 'bad-txns-vout-toolarge');
});

test('bad-txns-txouttotal-toolarge', () => {
  assert.equal(reason(tx([SPEND], [output(MAX_MONEY - 1), output(1)])), 'OK');
  assert.equal(reason(tx([SPEND], [output(MAX_MONEY), output(1)])), 'bad-txns-txouttotal-toolarge');
});

test('bad-txns-inputs-duplicate with two inputs (CVE-2018-17144)', () => {
  assert.equal(reason(tx([SPEND, input(hashOf(1), 0)], [output(1)])), 'bad-txns-inputs-duplicate');
  assert.equal(reason(tx([SPEND, input(hashOf(1), 1)], [output(1)])), 'OK');
});

test('bad-txns-inputs-duplicate among many inputs, not adjacent', () => {
  const ins = [input(hashOf(5), 2), input(hashOf(3), 0), input(hashOf(9), 7), input(hashOf(5), 2), input(hashOf(1), 1)];
  assert.equal(reason(tx(ins, [output(1)])), 'bad-txns-inputs-duplicate');
  ins[3] = input(hashOf(5), 3);
  assert.equal(reason(tx(ins, [output(1)])), 'OK');
});

test('bad-txns-inputs-duplicate is reported before bad-txns-prevout-null', () => {
  const nul = input(ZERO_HASH, 0xffffffff);
  assert.equal(reason(tx([nul, nul], [output(1)])), 'bad-txns-inputs-duplicate');
  assert.equal(reason(tx([SPEND, nul, nul], [output(1)])), 'bad-txns-inputs-duplicate');
});

test('duplicate and null prevouts are found at every position, with few inputs (pair by pair) and many (sorted)', () => {
  const nul = input(ZERO_HASH, 0xffffffff);
  for (const n of [3, 4, 15, 16, 17, 18, 40]) {
    const distinct = (): ReturnType<typeof input>[] => Array.from({ length: n }, (_, k) => input(hashOf(k + 1), k % 3));
    assert.equal(reason(tx(distinct(), [output(1)])), 'OK', `${n} distinct inputs`);
    for (let a = 0; a < n; a++) {
      const withNull = distinct();
      withNull[a] = nul;
      assert.equal(reason(tx(withNull, [output(1)])), 'bad-txns-prevout-null', `${n} inputs, null at ${a}`);
      for (let b = a + 1; b < n; b += Math.max(1, Math.floor(n / 5))) {
        const dup = distinct();
        dup[b] = dup[a]!;
        assert.equal(reason(tx(dup, [output(1)])), 'bad-txns-inputs-duplicate', `${n} inputs, ${a} repeated at ${b}`);
        // Same txid, another index: not a duplicate.
        dup[b] = input(hashOf(a + 1), (a % 3) + 1);
        assert.equal(reason(tx(dup, [output(1)])), 'OK', `${n} inputs, ${a}'s txid at ${b} with another index`);
        // A duplicate anywhere is reported before a null prevout anywhere (Core checks them in that order).
        const both = distinct();
        both[b] = both[a]!;
        both[(b + 1) % n === a ? (b + 2) % n : (b + 1) % n] = nul;
        assert.equal(reason(tx(both, [output(1)])), 'bad-txns-inputs-duplicate', `${n} inputs, duplicate and null`);
      }
    }
  }
});

test('bad-cb-length: coinbase scriptSig must be 2..100 bytes', () => {
  const cb = (n: number): Transaction => tx([input(ZERO_HASH, 0xffffffff, new Uint8Array(n))], [output(50)]);
  assert.equal(reason(cb(1)), 'bad-cb-length');
  assert.equal(reason(cb(2)), 'OK');
  assert.equal(reason(cb(100)), 'OK');
  assert.equal(reason(cb(101)), 'bad-cb-length');
  assert.equal(reason(cb(0)), 'bad-cb-length');
});

test('bad-txns-prevout-null with two inputs', () => {
  assert.equal(reason(tx([SPEND, input(ZERO_HASH, 0xffffffff)], [output(1)])), 'bad-txns-prevout-null');
  assert.equal(reason(tx([input(ZERO_HASH, 0xffffffff), SPEND], [output(1)])), 'bad-txns-prevout-null');
});

test('bad-txns-prevout-null with three inputs; a zero hash with another index is not null', () => {
  assert.equal(reason(tx([SPEND, input(hashOf(2), 0), input(ZERO_HASH, 0xffffffff)], [output(1)])), 'bad-txns-prevout-null');
  assert.equal(reason(tx([SPEND, input(ZERO_HASH, 0), input(ZERO_HASH, 1)], [output(1)])), 'OK');
  assert.equal(reason(tx([SPEND, input(ZERO_HASH, 0)], [output(1)])), 'OK');
});

test('a single non-coinbase input with a zero hash is not checked for length (Core)', () => {
  assert.equal(reason(tx([input(ZERO_HASH, 0)], [output(1)])), 'OK');
});

test('Core basic_transaction_tests: a real transaction passes, and fails once an input is repeated', () => {
  // e2769b09e784f32f62ef849763d4f45b98e07ba658647343b915ff832b110436
  const raw = fromHex(
    '01000000016bff7fcd4f8565ef406dd5d63d4ff94f318fe82027fd4dc451b04474019f74b4000000008c493046022100da0dc6aecefe1e06efdf05773757deb168820930e3b0d03f46f5fcf150bf990c022100d25b5c87040076e4f253f8262e763e2dd51e7ff0be157727c4bc42807f17bd39014104e6c26ef67dc610d2cd192484789a6cf9aea9930b944b7e2db5342b9d9e5b9ff79aff9a2ee1978dd7fd01dfc522ee02283d3b06a9d03acf8096968d7dbb0f9178ffffffff028ba7940e000000001976a914badeecfdef0507247fc8f74241d73bc039972d7b88ac4094a802000000001976a914c10932483fec93ed51f5fe95e72559f2cc7043f988ac00000000',
  );
  const decoded = decodeTransaction(raw);
  if (!decoded.ok) throw new Error(decoded.message);
  assert.equal(reason(decoded.tx), 'OK');
  const first = decoded.tx.inputs[0]!;
  const dup = new Transaction(decoded.tx.version, [first, first], decoded.tx.outputs, decoded.tx.locktime);
  assert.equal(reason(dup), 'bad-txns-inputs-duplicate');
});
