// Transactions: bcoin's real transactions round trip with the txids SOURCES.md gives; Core's
// ReadCompactSize and BIP144 rules reject bad encodings with typed failures; merkle mutation (CVE-2012-2459).

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { checkSpentOutputs, decodeTransaction, Transaction, type TxIn } from '../src/primitives/transaction.js';
import { Block, blockMerkleRoot, computeMerkleRoot, decodeBlock } from '../src/primitives/block.js';
import { compareBytes, concatBytes, equalBytes, fromHex, hashToHex, isZero, toHex } from '../src/primitives/bytes.js';
import { hash256 } from '../src/primitives/hash.js';
import { ByteReader, MAX_SIZE } from '../src/primitives/reader.js';
import { ByteWriter, compactSizeLength } from '../src/primitives/writer.js';
import { MAX_MONEY, moneyRange } from '../src/primitives/amount.js';
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

test('CompactSize at every width boundary: written in the shortest form, read back exactly', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [0xfc, 'fc'],
    [0xfd, 'fdfd00'],
    [0xffff, 'fdffff'],
    [0x10000, 'fe00000100'],
    [0xffffffff, 'feffffffff'],
    [0x1_0000_0000, 'ff0000000001000000'],
    [2 ** 53 - 1, 'ffffffffffffff1f00'],
  ];
  for (const [n, hex] of cases) {
    assert.equal(toHex(new ByteWriter().compactSize(n).finish()), hex, `write ${n}`);
    assert.equal(compactSizeLength(n), hex.length / 2, `length of ${n}`);
    // Without the range check (Core's ReadCompactSize(is, false)) any canonical value reads back.
    const r = new ByteReader(fromHex(hex));
    assert.equal(r.compactSize(false), n, `read ${hex}`);
    assert.equal(r.remaining, 0);
  }
});

test('CompactSize range check: MAX_SIZE (0x02000000) itself passes, anything above is size-too-large', () => {
  assert.equal(MAX_SIZE, 0x02000000);
  assert.equal(new ByteReader(fromHex('fe00000002')).compactSize(), 0x02000000);
  for (const hex of ['fe01000002', 'feffffffff', 'ff0000000001000000', 'ffffffffffffff1f00']) {
    assert.throws(() => new ByteReader(fromHex(hex)).compactSize(), { code: 'size-too-large', offset: 0 }, hex);
  }
  // A canonical 9-byte length (2^32) is too large, not non-canonical.
  const r = decodeTransaction(legacyTx({ sigLen: 'ff0000000001000000' }));
  assert.ok(!r.ok);
  assert.equal(r.code, 'size-too-large');
  assert.equal(r.offset, OFF_SIGLEN);
});

test('output amounts are int64: a negative value decodes as negative and re-encodes', () => {
  // -1 and -1 BTC (two's complement, little-endian); refusing them is CheckTransaction's job.
  for (const [hex, value] of [['ffffffffffffffff', -1], ['001f0afaffffffff', -100_000_000]] as const) {
    const bytes = legacyTx().slice();
    bytes.set(fromHex(hex), OFF_NOUT + 1);
    const r = decodeTransaction(bytes);
    assert.ok(r.ok, hex);
    assert.equal(r.tx.outputs[0]!.value, value);
    assert.ok(equalBytes(new Transaction(r.tx.version, r.tx.inputs, r.tx.outputs, r.tx.locktime).toBytes(), bytes), hex);
  }
});

test('an empty input vector: a 0-input legacy tx without witness parsing; the 10-byte form (flag 0) with it', () => {
  // Without witness parsing (Core's TX_NO_WITNESS) the empty input vector is just that.
  const legacy = fromHex(VERSION + '00' + '01' + VALUE + '0151' + LOCKTIME);
  const r = decodeTransaction(legacy, false);
  assert.ok(r.ok);
  assert.equal(r.tx.inputs.length, 0);
  assert.equal(r.tx.outputs.length, 1);
  assert.equal(r.tx.outputs[0]!.value, 100_000_000);
  assert.equal(decodeTransaction(legacy).ok, false, 'with witness parsing the 01 after the marker is the flag');
  // Core's UnserializeTransaction: after the marker a flag byte of 0 means no inputs and no
  // outputs follow; the locktime comes next (the smallest transaction, 10 bytes).
  const tiny = fromHex(VERSION + '00' + '00' + 'ffffffff');
  const t = decodeTransaction(tiny);
  assert.ok(t.ok);
  assert.equal(t.tx.inputs.length, 0);
  assert.equal(t.tx.outputs.length, 0);
  assert.equal(t.tx.locktime, 0xffffffff);
  assert.ok(equalBytes(t.tx.toBytes(), tiny));
  assert.equal(t.tx.weight(), 40);
});

test('counts the bytes left can just hold are read on; one more is refused at the count', () => {
  // Inputs take at least 41 bytes: 15 inputs with empty scriptSigs and one empty output decode.
  const inputs = Array.from({ length: 15 }, () => PREVOUT + '00' + SEQ).join('');
  const many = decodeTransaction(fromHex(VERSION + '0f' + inputs + '01' + '0000000000000000' + '00' + LOCKTIME));
  assert.ok(many.ok);
  assert.equal(many.tx.inputs.length, 15);
  // Two inputs in 82 bytes: read (the failure is where the bytes run out); in 81: refused at once.
  const fits = fromHex(VERSION + '02' + '00'.repeat(82));
  const r1 = decodeTransaction(fits);
  assert.ok(!r1.ok);
  assert.equal(r1.code, 'truncated');
  assert.equal(r1.offset, fits.length);
  const r2 = decodeTransaction(fromHex(VERSION + '02' + '00'.repeat(81)));
  assert.ok(!r2.ok);
  assert.equal(r2.code, 'truncated');
  assert.equal(r2.offset, 5);
  assert.match(r2.message, /^2 inputs cannot fit in 81 bytes/);

  // Outputs take at least 9 bytes: five empty outputs at the end of a transaction decode.
  const head = VERSION + '01' + PREVOUT + '00' + SEQ;
  const five = decodeTransaction(fromHex(head + '05' + '000000000000000000'.repeat(5) + LOCKTIME));
  assert.ok(five.ok);
  assert.equal(five.tx.outputs.length, 5);
  const afterCount = (head.length >> 1) + 1;
  const o1 = fromHex(head + '02' + '00'.repeat(18));
  const r3 = decodeTransaction(o1);
  assert.ok(!r3.ok);
  assert.equal(r3.offset, o1.length, 'two outputs in 18 bytes are read');
  const r4 = decodeTransaction(fromHex(head + '02' + '00'.repeat(17)));
  assert.ok(!r4.ok);
  assert.equal(r4.code, 'truncated');
  assert.equal(r4.offset, afterCount);
  assert.match(r4.message, /^2 outputs cannot fit in 17 bytes/);

  // Witness items take at least 1 byte: 4 items in the 4 bytes left are read (they use up the
  // locktime, so the failure is at the end); 5 are refused at the count.
  const w4 = segwitTx('01', '04');
  const r5 = decodeTransaction(w4);
  assert.ok(!r5.ok);
  assert.equal(r5.code, 'truncated');
  assert.equal(r5.offset, w4.length);
  const w5 = segwitTx('01', '05');
  const r6 = decodeTransaction(w5);
  assert.ok(!r6.ok);
  assert.equal(r6.offset, w5.length - 4);
  assert.match(r6.message, /^5 witness items cannot fit in 4 bytes/);
});

test("isCoinbase is Core's IsCoinBase: exactly one input, and its prevout null (zero hash, index 0xffffffff)", () => {
  const input = (hash: Uint8Array, index: number): TxIn => ({ prevout: { hash, index }, scriptSig: Uint8Array.of(1, 1), sequence: 0xffffffff, witness: [] });
  const out = [{ value: 0, scriptPubKey: Uint8Array.of(0x51) }];
  const zero = new Uint8Array(32);
  const one = new Uint8Array(32);
  one[31] = 1;
  assert.equal(new Transaction(1, [input(zero, 0xffffffff)], out, 0).isCoinbase(), true);
  assert.equal(new Transaction(1, [input(zero, 0xffffffff), input(one, 0)], out, 0).isCoinbase(), false, 'two inputs');
  assert.equal(new Transaction(1, [input(one, 0xffffffff)], out, 0).isCoinbase(), false, 'hash not null');
  assert.equal(new Transaction(1, [input(zero, 0)], out, 0).isCoinbase(), false, 'index not 0xffffffff');
  assert.equal(new Transaction(1, [], out, 0).isCoinbase(), false, 'no input');
});

test('spent outputs must be an array of { value, scriptPubKey }: anything else is misuse', () => {
  checkSpentOutputs([{ value: 1, scriptPubKey: Uint8Array.of(0x51) }]);
  for (const notArray of [{}, { length: 1 }, 'ab']) {
    assert.throws(() => checkSpentOutputs(notArray as never), { name: 'TypeError', message: /^spentOutputs must be an array/ });
  }
  assert.throws(() => checkSpentOutputs([{ value: 1.5, scriptPubKey: Uint8Array.of(0x51) }]), /spentOutputs\[0\]/);
  assert.throws(() => checkSpentOutputs([{ value: 1, scriptPubKey: '51' } as never]), TypeError);
});

test("moneyRange is Core's MoneyRange: integers 0..MAX_MONEY", () => {
  assert.equal(MAX_MONEY, 2_100_000_000_000_000);
  for (const v of [0, 1, MAX_MONEY]) assert.equal(moneyRange(v), true, String(v));
  for (const v of [-1, MAX_MONEY + 1, 0.5, 1.5, Number.NaN, Infinity]) assert.equal(moneyRange(v), false, String(v));
});

test('byte helpers: hex parsing refuses malformed input; comparison orders by content, then length', () => {
  assert.deepEqual([...fromHex('00Ab7fFF')], [0x00, 0xab, 0x7f, 0xff]);
  for (const bad of ['abc', '1g', 'g1', '0x', ' 1', '+1']) assert.throws(() => fromHex(bad), TypeError, bad);
  assert.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false);
  assert.equal(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2)), false);
  assert.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
  assert.ok(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3)) < 0);
  assert.ok(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 9)) > 0);
  assert.ok(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0)) < 0);
  assert.ok(compareBytes(Uint8Array.of(1, 2, 0), Uint8Array.of(1, 2)) > 0);
  assert.equal(compareBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), 0);
  assert.equal(isZero(new Uint8Array(8)), true);
  assert.equal(isZero(Uint8Array.of(0, 0, 1, 0)), false);
  assert.equal(isZero(new Uint8Array(0)), true);
});

test('ByteWriter.finish returns a copy of exactly what was written', () => {
  const w = new ByteWriter(64).u8(1).u32(2);
  const first = w.finish();
  assert.equal(first.buffer.byteLength, 5);
  first[0] = 0xee;
  assert.equal(toHex(w.u8(3).finish()), '010200000003');
});

test('merkle: only sibling pairs are compared, over all 32 bytes', () => {
  const [a, b] = [1, 2].map((i) => hash256(Uint8Array.of(i)));
  // An odd level's last entry is duplicated, not compared: an all-zero last leaf is no mutation.
  const zero = new Uint8Array(32);
  const odd = computeMerkleRoot([a!, b!, zero]);
  assert.equal(odd.mutated, false);
  const even = computeMerkleRoot([a!, b!, zero, zero]);
  assert.equal(toHex(even.root), toHex(odd.root));
  assert.equal(even.mutated, true);
  // Siblings that differ in their last byte only are different hashes.
  const c = a!.slice();
  c[31]! ^= 1;
  assert.equal(computeMerkleRoot([a!, c]).mutated, false);
  c[0]! ^= 1;
  c[31]! ^= 1;
  assert.equal(computeMerkleRoot([a!, c]).mutated, false);
});
