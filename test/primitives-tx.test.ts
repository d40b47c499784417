// Transactions: bcoin's real transactions round trip with the txids SOURCES.md gives; Core's
// ReadCompactSize and BIP144 rules reject bad encodings with typed failures; merkle mutation (CVE-2012-2459).

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { decodeTransaction, Transaction } from '../src/primitives/transaction.js';
import { Block, blockMerkleRoot, computeMerkleRoot, decodeBlock } from '../src/primitives/block.js';
import { concatBytes, equalBytes, fromHex, hashToHex, toHex } from '../src/primitives/bytes.js';
import { hash256 } from '../src/primitives/hash.js';
import { MAX_SIZE } from '../src/primitives/reader.js';
import { loadRealBlock, REAL_BLOCKS } from './helpers/real-blocks.js';
import { readVector } from './helpers/vectors.js';

/** bcoin/txs: txid head…tail and input count, as SOURCES.md gives them. */
const BCOIN_TXS = [
  { n: 1, head: 'ff80fe49', tail: 'ef1c', inputs: 1 },
  { n: 2, head: '7ef7cde4', tail: 'e178', inputs: 1, version: 0 },
  { n: 3, head: '2c63aa81', tail: '14d1', inputs: 2 },
  { n: 4, head: 'eddbfbac', tail: 'c6e2', inputs: 1 },
  { n: 6, head: '4d932e00', tail: '2491', inputs: 2 },
  { n: 7, head: '7f2dc9bc', tail: 'd339', inputs: 1 },
  { n: 10, head: '5ceec2d8', tail: '8cec', inputs: 3 },
];

for (const v of BCOIN_TXS) {
  test(`bcoin/txs/tx${v.n}.raw`, () => {
    const bytes = readVector('bcoin', 'txs', `tx${v.n}.raw`);
    const r = decodeTransaction(bytes);
    assert.ok(r.ok);
    const tx = r.tx;
    const txid = hashToHex(tx.txid());
    assert.ok(txid.startsWith(v.head) && txid.endsWith(v.tail), `txid ${txid}`);
    assert.equal(tx.inputs.length, v.inputs);
    if (v.version !== undefined) assert.equal(tx.version, v.version);
    assert.ok(equalBytes(tx.toBytes(), bytes));
    const rebuilt = new Transaction(tx.version, tx.inputs, tx.outputs, tx.locktime);
    assert.ok(equalBytes(rebuilt.toBytes(), bytes), 're-encoding from fields');
    assert.equal(hashToHex(rebuilt.txid()), txid);
    assert.equal(tx.weight(), bytes.length * 4);
    assertTruncationsFail(bytes);
  });
}

/** Every strict prefix is 'truncated', with an offset inside the prefix. */
function assertTruncationsFail(bytes: Uint8Array): void {
  for (let k = 0; k < bytes.length; k++) {
    const r = decodeTransaction(bytes.subarray(0, k));
    assert.ok(!r.ok, `prefix ${k} decoded`);
    assert.equal(r.code, 'truncated', `prefix ${k}`);
    assert.ok(r.offset >= 0 && r.offset <= k, `prefix ${k}: offset ${r.offset}`);
  }
}

test('segwit tx from block482683: round trip, ids, every truncation fails', () => {
  const block = loadRealBlock(REAL_BLOCKS.find((b) => b.file.endsWith('block482683.raw'))!);
  const tx = block.txs.slice(1).find((t) => t.hasWitness())!;
  const bytes = tx.rawBytes()!.slice();
  const r = decodeTransaction(bytes);
  assert.ok(r.ok);
  assert.ok(equalBytes(r.tx.wtxid(), hash256(bytes)));
  assert.ok(!equalBytes(r.tx.txid(), r.tx.wtxid()));
  assert.ok(equalBytes(r.tx.txid(), hash256(r.tx.toBytes(false))));
  assert.ok(r.tx.weight() < bytes.length * 4, 'witness bytes are discounted');
  // Without witness parsing the marker reads as an empty input vector and the rest is garbage.
  assert.equal(decodeTransaction(bytes, false).ok, false);
  assertTruncationsFail(bytes);
});

// A one-input one-output legacy transaction assembled from hex parts, so each length field can be
// encoded non-canonically. Offsets below are computed from the parts.
const VERSION = '01000000';
const PREVOUT = '11'.repeat(32) + '00000000';
const SEQ = 'ffffffff';
const VALUE = '00e1f50500000000';
const LOCKTIME = '00000000';

function legacyTx(opts: { nIn?: string; sigLen?: string; nOut?: string; spkLen?: string } = {}): Uint8Array {
  return fromHex(VERSION + (opts.nIn ?? '01') + PREVOUT + (opts.sigLen ?? '01') + '51' + SEQ + (opts.nOut ?? '01') + VALUE + (opts.spkLen ?? '01') + '51' + LOCKTIME);
}

function segwitTx(flag: string, witness: string): Uint8Array {
  return fromHex(VERSION + '00' + flag + '01' + PREVOUT + '00' + SEQ + '01' + VALUE + '0151' + witness + LOCKTIME);
}

const OFF_NIN = 4;
const OFF_SIGLEN = 4 + 1 + 36;
const OFF_NOUT = OFF_SIGLEN + 1 + 1 + 4;
const OFF_SPKLEN = OFF_NOUT + 1 + 8;

test('canonical legacy tx decodes', () => {
  const r = decodeTransaction(legacyTx());
  assert.ok(r.ok);
  assert.equal(r.tx.inputs.length, 1);
  assert.equal(r.tx.outputs[0]!.value, 100_000_000);
});

const NON_CANONICAL: Array<{ name: string; bytes: Uint8Array; offset: number }> = [
  { name: 'input count 1 as fd0100', bytes: legacyTx({ nIn: 'fd0100' }), offset: OFF_NIN },
  { name: 'input count 1 as fe01000000', bytes: legacyTx({ nIn: 'fe01000000' }), offset: OFF_NIN },
  { name: 'input count 1 as ff0100000000000000', bytes: legacyTx({ nIn: 'ff0100000000000000' }), offset: OFF_NIN },
  { name: 'scriptSig length 1 as fd0100', bytes: legacyTx({ sigLen: 'fd0100' }), offset: OFF_SIGLEN },
  { name: 'output count 1 as fe01000000', bytes: legacyTx({ nOut: 'fe01000000' }), offset: OFF_NOUT },
  { name: 'scriptPubKey length 1 as ff0100000000000000', bytes: legacyTx({ spkLen: 'ff0100000000000000' }), offset: OFF_SPKLEN },
  // Boundaries: the largest value of each width that the shorter width could hold.
  { name: 'scriptSig length 0xfc as fdfc00', bytes: fromHex(VERSION + '01' + PREVOUT + 'fdfc00' + '00'.repeat(0xfc) + SEQ + '00' + LOCKTIME), offset: OFF_SIGLEN },
  { name: 'scriptSig length 0xffff as feffff0000', bytes: fromHex(VERSION + '01' + PREVOUT + 'feffff0000'), offset: OFF_SIGLEN },
  { name: 'scriptSig length 0xffffffff as ffffffffff00000000', bytes: fromHex(VERSION + '01' + PREVOUT + 'ffffffffff00000000'), offset: OFF_SIGLEN },
  // In a witness: one item count of 1 written as fd0100.
  { name: 'witness stack size 1 as fd0100', bytes: segwitTx('01', 'fd0100' + '0151'), offset: 6 + 1 + 36 + 1 + 4 + 1 + 8 + 2 },
];

for (const c of NON_CANONICAL) {
  test(`non-canonical CompactSize: ${c.name}`, () => {
    const r = decodeTransaction(c.bytes);
    assert.ok(!r.ok);
    assert.equal(r.code, 'non-canonical-compactsize');
    assert.equal(r.offset, c.offset);
  });
}

test('canonical CompactSize boundaries decode (0xfd as fdfd00)', () => {
  const bytes = fromHex(VERSION + '01' + PREVOUT + 'fdfd00' + '00'.repeat(0xfd) + SEQ + '00' + LOCKTIME);
  const r = decodeTransaction(bytes);
  assert.ok(r.ok);
  assert.equal(r.tx.inputs[0]!.scriptSig.length, 0xfd);
  assert.ok(equalBytes(r.tx.toBytes(), bytes));
  assert.ok(equalBytes(new Transaction(r.tx.version, r.tx.inputs, r.tx.outputs, r.tx.locktime).toBytes(), bytes));
});

test('CompactSize above MAX_SIZE is size-too-large', () => {
  const len = MAX_SIZE + 1;
  const hex = [len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, len >>> 24].map((b) => b.toString(16).padStart(2, '0')).join('');
  const r = decodeTransaction(legacyTx({ sigLen: 'fe' + hex }));
  assert.ok(!r.ok);
  assert.equal(r.code, 'size-too-large');
  assert.equal(r.offset, OFF_SIGLEN);
});

test('truncated: huge input count is refused before allocating', () => {
  const r = decodeTransaction(fromHex(VERSION + 'feffffff01'));
  assert.ok(!r.ok);
  assert.equal(r.code, 'truncated');
  assert.equal(r.offset, 9);
});

test('truncated: a huge witness item count is refused before allocating', () => {
  // 2^25 items claimed by 5 bytes: refused by what the bytes left can hold, not by running out.
  const r = decodeTransaction(segwitTx('01', 'fe00000002'));
  assert.ok(!r.ok);
  assert.equal(r.code, 'truncated');
  assert.equal(r.offset, 6 + 1 + 36 + 1 + 4 + 1 + 8 + 2 + 5);
  assert.match(r.message, /^33554432 witness items cannot fit in 4 bytes/);
});

test('superfluous witness (BIP144 flag 1, every stack empty)', () => {
  const bytes = segwitTx('01', '00');
  const r = decodeTransaction(bytes);
  assert.ok(!r.ok);
  assert.equal(r.code, 'superfluous-witness');
  assert.equal(r.offset, 6 + 1 + 36 + 1 + 4 + 1 + 8 + 2, 'offset is the start of the witnesses');
});

test('segwit tx with a witness decodes and round trips', () => {
  const bytes = segwitTx('01', '0201aa00');
  const r = decodeTransaction(bytes);
  assert.ok(r.ok);
  assert.deepEqual(r.tx.inputs[0]!.witness.map(toHex), ['aa', '']);
  assert.ok(equalBytes(new Transaction(r.tx.version, r.tx.inputs, r.tx.outputs, r.tx.locktime).toBytes(), bytes));
});

test('unknown optional data (BIP144 flag 2, and 3 after the witness)', () => {
  for (const [flag, witness] of [['02', ''], ['03', '0101aa']] as const) {
    const r = decodeTransaction(segwitTx(flag, witness));
    assert.ok(!r.ok, `flag ${flag}`);
    assert.equal(r.code, 'unknown-optional-data');
    assert.equal(r.offset, 5, 'offset of the flag byte');
  }
});

test('trailing data after the transaction', () => {
  const tx = legacyTx();
  const r = decodeTransaction(concatBytes(tx, Uint8Array.of(0)));
  assert.ok(!r.ok);
  assert.equal(r.code, 'trailing-data');
  assert.equal(r.offset, tx.length);
});

test('merkle: CVE-2012-2459 duplicate last leaf of an odd list gives the same root, mutated', () => {
  const leaves = [1, 2, 3].map((i) => hash256(Uint8Array.of(i)));
  const plain = computeMerkleRoot(leaves);
  assert.equal(plain.mutated, false);
  const dup = computeMerkleRoot([...leaves, leaves[2]!]);
  assert.equal(toHex(dup.root), toHex(plain.root));
  assert.equal(dup.mutated, true);
  // Two leaves: hash256(a || b); one leaf: itself; none: zero.
  assert.equal(toHex(computeMerkleRoot(leaves.slice(0, 2)).root), toHex(hash256(concatBytes(leaves[0]!, leaves[1]!))));
  assert.equal(toHex(computeMerkleRoot(leaves.slice(0, 1)).root), toHex(leaves[0]!));
  assert.equal(toHex(computeMerkleRoot([]).root), '00'.repeat(32));
  // Duplicate pair at an inner level: six leaves (three level-1 nodes) plus the last two again.
  const six = [1, 2, 3, 4, 5, 6].map((i) => hash256(Uint8Array.of(i)));
  const six8 = computeMerkleRoot([...six, six[4]!, six[5]!]);
  assert.equal(toHex(six8.root), toHex(computeMerkleRoot(six).root));
  assert.equal(six8.mutated, true);
  // Identical distinct-position leaves are also flagged (Core flags any equal sibling pair).
  assert.equal(computeMerkleRoot([leaves[0]!, leaves[0]!]).mutated, true);
});

test('merkle: block300025 with its last tx duplicated keeps the header root, mutated', () => {
  const block = loadRealBlock(REAL_BLOCKS.find((b) => b.file.endsWith('block300025.raw'))!);
  assert.equal(block.txs.length % 2, 1);
  const mutated = new Block(block.header, [...block.txs, block.txs[block.txs.length - 1]!]);
  const r = blockMerkleRoot(mutated);
  assert.equal(toHex(r.root), toHex(block.header.merkleRoot));
  assert.equal(r.mutated, true);
  assert.equal(blockMerkleRoot(block).mutated, false);
});

test('bytes given as anything but a Uint8Array are misuse, said plainly (a hex string, an ArrayBuffer)', () => {
  const hex = '0100000000010000000000';
  assert.throws(() => decodeTransaction(hex as unknown as Uint8Array), { name: 'TypeError', message: /expected bytes as a Uint8Array \(or Buffer\), got \[object String\]/ });
  assert.throws(() => decodeBlock(new ArrayBuffer(80) as unknown as Uint8Array), { name: 'TypeError', message: /got \[object ArrayBuffer\]/ });
  // A Buffer is a Uint8Array.
  assert.equal(decodeTransaction(Buffer.from('00', 'hex')).ok, false);
});
