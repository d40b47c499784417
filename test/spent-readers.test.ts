// The three spent-output readers on every spent-output file in the vectors: counts, per-type
// tallies and heights from SOURCES.md, agreement with the block itself, and typed failures on bad data.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  decompressAmount,
  decompressScript,
  readBcoinUndo,
  readBtcdUtxoStore,
  readFlorestaJson,
  readSpentFile,
  readVarInt,
  spentOutputsForBlock,
  type SpentOutput,
  type SpentReadResult,
} from '../src/spent/index.js';
import { ByteReader } from '../src/primitives/reader.js';
import { MAX_MONEY } from '../src/primitives/amount.js';
import { ByteWriter } from '../src/primitives/writer.js';
import { decodeTransaction, serializeTxOut, SEQUENCE_LOCKTIME_DISABLE_FLAG, type Transaction } from '../src/primitives/transaction.js';
import type { Block } from '../src/primitives/block.js';
import { concatBytes, equalBytes, fromHex, toHex } from '../src/primitives/bytes.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { loadRealBlock, REAL_BLOCKS, type RealBlockVector } from './helpers/real-blocks.js';
import { readVector, readVectorText } from './helpers/vectors.js';

type ScriptType = 'P2PKH' | 'P2SH' | 'P2WPKH' | 'P2WSH' | 'P2TR' | 'P2PK' | 'multisig' | 'other';

/** Standard output templates (Core's Solver, reduced to what these files hold). */
function scriptType(s: Uint8Array): ScriptType {
  if (s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac) return 'P2PKH';
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87) return 'P2SH';
  if (s.length === 22 && s[0] === 0x00 && s[1] === 0x14) return 'P2WPKH';
  if (s.length === 34 && s[0] === 0x00 && s[1] === 0x20) return 'P2WSH';
  if (s.length === 34 && s[0] === 0x51 && s[1] === 0x20) return 'P2TR';
  if ((s.length === 35 && s[0] === 0x21) || (s.length === 67 && s[0] === 0x41)) return s[s.length - 1] === 0xac ? 'P2PK' : 'other';
  const last = s[s.length - 1];
  const first = s[0];
  if (last === 0xae && first !== undefined && first >= 0x51 && first <= 0x60) return 'multisig';
  return 'other';
}

function tally(outputs: readonly SpentOutput[]): Partial<Record<ScriptType, number>> {
  const t: Partial<Record<ScriptType, number>> = {};
  for (const o of outputs) {
    const k = scriptType(o.scriptPubKey);
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

function spentInputs(block: Block): Array<{ tx: Transaction; txIndex: number; inputIndex: number }> {
  const out: Array<{ tx: Transaction; txIndex: number; inputIndex: number }> = [];
  block.txs.forEach((tx, txIndex) => {
    if (txIndex > 0) tx.inputs.forEach((_, inputIndex) => out.push({ tx, txIndex, inputIndex }));
  });
  return out;
}

/**
 * Records for coins created earlier in the same block equal the block's own outputs; returns how
 * many inputs spend inside the block.
 */
function checkInBlockSpends(block: Block, outputs: readonly SpentOutput[]): number {
  const byTxid = new Map<string, number>();
  block.txs.forEach((tx, i) => byTxid.set(toHex(tx.txid()), i));
  let inBlock = 0;
  spentInputs(block).forEach(({ tx, txIndex, inputIndex }, k) => {
    const prevout = tx.inputs[inputIndex]!.prevout;
    const creator = byTxid.get(toHex(prevout.hash));
    if (creator === undefined) return;
    assert.ok(creator < txIndex, `tx ${txIndex} spends a later tx`);
    const created = block.txs[creator]!.outputs[prevout.index]!;
    const record = outputs[k]!;
    assert.equal(record.value, created.value, `record ${k} value`);
    assert.ok(equalBytes(record.scriptPubKey, created.scriptPubKey), `record ${k} script`);
    inBlock++;
  });
  return inBlock;
}

function mustOk(r: SpentReadResult): SpentOutput[] {
  assert.ok(r.ok, r.ok ? '' : `${r.code} at ${r.offset}: ${r.message}`);
  return r.outputs;
}

function blockOf(name: string): { v: RealBlockVector; block: Block } {
  const v = REAL_BLOCKS.find((b) => b.file.endsWith(name))!;
  return { v, block: loadRealBlock(v) };
}

// ---- bcoin undo files for blocks -------------------------------------------------------------

const BCOIN_BLOCK_UNDO: Array<{ block: string; undo: string; types: Partial<Record<ScriptType, number>>; inBlock?: number }> = [
  { block: 'block300025.raw', undo: 'bcoin/mainnet/block300025-undo.raw', types: { P2PKH: 1424, multisig: 3 }, inBlock: 188 },
  { block: 'block928816.raw', undo: 'bcoin/testnet3/block928816-undo.raw', types: { P2WPKH: 8629, P2PKH: 58, P2SH: 5 } },
  { block: 'block928828.raw', undo: 'bcoin/testnet3/block928828-undo.raw', types: { P2SH: 1897, P2PKH: 75 } },
  { block: 'block928831.raw', undo: 'bcoin/testnet3/block928831-undo.raw', types: { P2WPKH: 9977, P2SH: 5, P2PKH: 2 } },
  { block: 'block928849.raw', undo: 'bcoin/testnet3/block928849-undo.raw', types: { P2WPKH: 8509, P2PKH: 76, P2SH: 9 } },
  { block: 'block928927.raw', undo: 'bcoin/testnet3/block928927-undo.raw', types: { P2WPKH: 9979, P2PKH: 3, P2SH: 1 } },
  { block: 'block1087400.raw', undo: 'bcoin/testnet3/block1087400-undo.raw', types: { P2PKH: 138, P2SH: 67 } },
];

for (const c of BCOIN_BLOCK_UNDO) {
  test(c.undo, () => {
    const { v, block } = blockOf(c.block);
    const bytes = readVector(...c.undo.split('/'));
    const outputs = mustOk(readBcoinUndo(bytes));
    assert.equal(outputs.length, v.inputs, 'one record per non-coinbase input');
    // Parsing ends exactly at EOF: the records re-serialize to the whole file.
    assert.ok(equalBytes(concatBytes(...outputs.map(serializeTxOut)), bytes), 'records cover the file exactly');
    assert.deepEqual(tally(outputs), c.types);
    for (const o of outputs) assert.equal(o.height, undefined);
    const inBlock = checkInBlockSpends(block, outputs);
    if (c.inBlock !== undefined) assert.equal(inBlock, c.inBlock, 'spends of outputs created in this block');
    assert.deepEqual(mustOk(readSpentFile(bytes, 'bcoin-undo')), outputs);
  });
}

// ---- bcoin undo files for single transactions -------------------------------------------------

const BCOIN_TX_UNDO: Array<{ n: number; types: Partial<Record<ScriptType, number>> }> = [
  { n: 1, types: { P2PKH: 1 } },
  { n: 2, types: { P2PKH: 1 } },
  // SOURCES.md says "P2PKH and bare multisig": the second is <sig> OP_DROP 2 <pk> <pk> 2
  // OP_CHECKMULTISIG, a multisig behind a signature push (the FindAndDelete case), so not a template.
  { n: 3, types: { P2PKH: 1, other: 1 } },
  { n: 4, types: { P2SH: 1 } },
  { n: 6, types: { other: 2 } },
  { n: 7, types: { P2PKH: 1 } },
  { n: 10, types: { multisig: 3 } },
];

for (const c of BCOIN_TX_UNDO) {
  test(`bcoin/txs/tx${c.n}-undo.raw`, () => {
    const txr = decodeTransaction(readVector('bcoin', 'txs', `tx${c.n}.raw`));
    assert.ok(txr.ok);
    const bytes = readVector('bcoin', 'txs', `tx${c.n}-undo.raw`);
    const outputs = mustOk(readBcoinUndo(bytes));
    assert.equal(outputs.length, txr.tx.inputs.length, 'one record per input');
    assert.ok(equalBytes(concatBytes(...outputs.map(serializeTxOut)), bytes), 'records cover the file exactly');
    assert.deepEqual(tally(outputs), c.types);
  });
}

// ---- btcd utxostore -------------------------------------------------------------------------

test('btcd/277647.utxostore', () => {
  const { v, block } = blockOf('277647.dat');
  const bytes = readVector('btcd', '277647.utxostore');
  const store = readBtcdUtxoStore(bytes);
  assert.ok(store.ok);
  assert.equal(store.entries.length, 732);
  const heights = store.entries.map((e) => e.output.height!);
  assert.equal(Math.min(...heights), 233954);
  assert.equal(Math.max(...heights), 277647);
  assert.equal(heights.filter((h) => h === v.height).length, 62, 'coins created inside the block');
  for (const e of store.entries) {
    assert.equal(typeof e.output.coinbase, 'boolean');
    if (e.output.height === v.height) assert.equal(e.output.coinbase, false, 'a coinbase cannot be spent in its own block');
    assert.ok(e.output.value > 0);
  }
  // Parsing ends exactly at EOF: the record frames (36-byte outpoint, 4-byte length) tile the file.
  let off = 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < store.entries.length; i++) off += 40 + dv.getUint32(off + 36, true);
  assert.equal(off, bytes.length);

  const ordered = spentOutputsForBlock(block, store.entries);
  const outputs = mustOk(ordered);
  assert.equal(outputs.length, v.inputs);
  assert.deepEqual(tally(outputs), { P2PKH: 732 });
  assert.equal(checkInBlockSpends(block, outputs), 62, 'in-block spends found through the block');
  // Each record sits at its input: its outpoint matches the input's prevout.
  const keyed = new Map(store.entries.map((e) => [`${toHex(e.txid)}:${e.vout}`, e.output]));
  spentInputs(block).forEach(({ tx, inputIndex }, k) => {
    const p = tx.inputs[inputIndex]!.prevout;
    assert.equal(keyed.get(`${toHex(p.hash)}:${p.index}`), outputs[k]);
  });
  assert.deepEqual(mustOk(readSpentFile(bytes, 'btcd-utxostore', block)), outputs);
});

// ---- Floresta JSON ------------------------------------------------------------------------

test('floresta/block_866342.spent_utxos.json', () => {
  const { v, block } = blockOf('block_866342.raw');
  const text = readVectorText('floresta', 'block_866342.spent_utxos.json');
  const outputs = mustOk(readFlorestaJson(text));
  assert.equal(outputs.length, v.inputs);
  assert.deepEqual(tally(outputs), { P2WPKH: 4374, P2TR: 2373, P2PKH: 905, P2SH: 246, P2WSH: 74 });
  for (const o of outputs) {
    assert.equal(o.coinbase, false, 'no coinbase prevouts');
    assert.ok(o.height! <= v.height);
    assert.ok(o.time! > 1_231_006_505, 'creation_time after genesis');
  }
  assert.equal(outputs.filter((o) => o.height === v.height).length, 4036, 'creation_height of in-block spends');
  assert.equal(checkInBlockSpends(block, outputs), 4036, 'in-block spends found through the block');
  // Spend kinds by witness: P2TR key path has one stack item after removing a BIP341 annex;
  // every P2SH here wraps a segwit program.
  let keyPath = 0;
  let scriptPath = 0;
  let wrapped = 0;
  let bip68 = 0;
  spentInputs(block).forEach(({ tx, inputIndex }, k) => {
    const input = tx.inputs[inputIndex]!;
    const type = scriptType(outputs[k]!.scriptPubKey);
    if (type === 'P2TR') {
      const w = input.witness;
      const annex = w.length >= 2 && w[w.length - 1]![0] === 0x50;
      if (w.length - (annex ? 1 : 0) === 1) keyPath++;
      else scriptPath++;
    }
    if (type === 'P2SH' && input.witness.length > 0) wrapped++;
    if (tx.version >= 2 && (input.sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) === 0) bip68++;
  });
  assert.equal(keyPath, 2223, 'P2TR key-path spends');
  assert.equal(scriptPath, 150, 'P2TR script-path spends');
  assert.equal(wrapped, 246, 'P2SH-wrapped segwit');
  assert.equal(bip68, 453, 'BIP68-relevant inputs');
  assert.deepEqual(mustOk(readSpentFile(new TextEncoder().encode(text), 'floresta-json')), outputs);
});

// ---- Core's VARINT and compression ------------------------------------------------------------

test("VARINT: Core's serialize_tests bit patterns", () => {
  const cases: Array<[number, string]> = [
    [0, '00'], [0x7f, '7f'], [0x80, '8000'], [0x1234, 'a334'], [0xffff, '82fe7f'],
    [0x123456, 'c7e756'], [0x80123456, '86ffc7e756'], [0xffffffff, '8efefefe7f'],
  ];
  for (const [n, hex] of cases) {
    const r = new ByteReader(fromHex(hex));
    assert.equal(readVarInt(r), n, hex);
    assert.equal(r.remaining, 0);
  }
  // Past 2^53 (Core would read these into a uint64): refused, not rounded.
  for (const hex of ['fefefefefefefefe7f', '80fefefefefefefefe7f']) {
    assert.throws(() => readVarInt(new ByteReader(fromHex(hex))), { code: 'size-too-large' });
  }
  assert.throws(() => readVarInt(new ByteReader(fromHex('8080'))), { code: 'truncated' });
});

/** Core's CompressAmount, to check DecompressAmount is its inverse. */
function compressAmount(n: number): number {
  if (n === 0) return 0;
  let e = 0;
  while (n % 10 === 0 && e < 9) {
    n /= 10;
    e++;
  }
  if (e < 9) {
    const d = n % 10;
    n = Math.floor(n / 10);
    return 1 + (n * 9 + d - 1) * 10 + e;
  }
  return 1 + (n - 1) * 10 + 9;
}

test("DecompressAmount: Core's compress_tests", () => {
  const COIN = 100_000_000;
  const cases: Array<[number, number]> = [[0, 0x0], [1, 0x1], [COIN / 100, 0x7], [COIN, 0x9], [50 * COIN, 0x32], [21_000_000 * COIN, 0x1406f40]];
  for (const [amount, compressed] of cases) {
    assert.equal(compressAmount(amount), compressed);
    assert.equal(decompressAmount(compressed), amount);
  }
  for (let i = 0; i < 100_000; i++) {
    assert.equal(compressAmount(decompressAmount(i)), i);
    assert.equal(decompressAmount(compressAmount(i)), i);
  }
});

test('DecompressScript: the six special templates', () => {
  const h20 = new Uint8Array(20).fill(0xab);
  assert.equal(toHex(decompressScript(0, h20)!), '76a914' + toHex(h20) + '88ac');
  assert.equal(toHex(decompressScript(1, h20)!), 'a914' + toHex(h20) + '87');
  const g = secp256k1.Point.BASE;
  const x = g.toBytes(true).subarray(1);
  assert.equal(toHex(decompressScript(2, x)!), '2102' + toHex(x) + 'ac');
  assert.equal(toHex(decompressScript(3, x)!), '2103' + toHex(x) + 'ac');
  // G has an even y; 4 gives G, 5 gives -G.
  assert.equal(toHex(decompressScript(4, x)!), '41' + toHex(g.toBytes(false)) + 'ac');
  assert.equal(toHex(decompressScript(5, x)!), '41' + toHex(g.negate().toBytes(false)) + 'ac');
  // x = 5 is not on secp256k1 (y^2 = 132 has no root).
  const off = new Uint8Array(32);
  off[31] = 5;
  assert.equal(decompressScript(4, off), undefined);
});

// ---- malformed input: failures, never exceptions ---------------------------------------------

/** One utxostore record: outpoint, then a length-prefixed entry. */
function storeRecord(entry: Uint8Array, lengthDelta = 0): Uint8Array {
  return new ByteWriter().bytes(new Uint8Array(32).fill(7)).u32(0).u32(entry.length + lengthDelta).bytes(entry).finish();
}

test('malformed bcoin undo: every truncation of tx10-undo.raw fails or stops at a record boundary', () => {
  const bytes = readVector('bcoin', 'txs', 'tx10-undo.raw');
  const full = mustOk(readBcoinUndo(bytes));
  const boundaries = new Set<number>([0]);
  let at = 0;
  for (const o of full) boundaries.add((at += serializeTxOut(o).length));
  for (let k = 0; k < bytes.length; k++) {
    const r = readBcoinUndo(bytes.subarray(0, k));
    if (boundaries.has(k)) {
      assert.ok(r.ok, `cut at boundary ${k}`);
    } else {
      assert.ok(!r.ok, `cut at ${k}`);
      assert.equal(r.code, 'truncated');
      assert.ok(r.offset <= k);
    }
  }
  // Amounts no output can hold: refused as a malformed file, not passed on for the block to fail.
  assert.ok(readBcoinUndo(fromHex('0040075af0750700' + '0151')).ok, 'MAX_MONEY itself');
  for (const value of ['ffffffffffffffff', '0140075af0750700']) {
    const r = readBcoinUndo(fromHex('0100000000000000' + '0151' + value + '0151'));
    assert.ok(!r.ok, value);
    assert.equal(r.code, 'bad-format', value);
    assert.equal(r.offset, 10, value);
  }
  // A non-canonical script length (1 as fd0100).
  const bad = readBcoinUndo(fromHex('0100000000000000fd010051'));
  assert.ok(!bad.ok);
  assert.equal(bad.code, 'non-canonical-compactsize');
  assert.equal(bad.offset, 8);
});

test('malformed btcd utxostore: truncation, entry length mismatch, off-curve key, unknown outpoint', () => {
  const bytes = readVector('btcd', '277647.utxostore');
  for (const k of [1, 31, 36, 39, 40, 41, bytes.length - 1]) {
    const r = readBtcdUtxoStore(bytes.subarray(0, k));
    assert.ok(!r.ok, `cut at ${k}`);
    assert.equal(r.code, 'truncated');
  }
  // P2PKH entry: height 100 not coinbase, amount 1 BTC, nSize 0 + 20 bytes.
  const entry = fromHex('8048' + '09' + '00' + 'cd'.repeat(20));
  const good = readBtcdUtxoStore(storeRecord(entry));
  assert.ok(good.ok);
  assert.equal(good.entries[0]!.output.value, 100_000_000);
  assert.equal(good.entries[0]!.output.height, 100);
  assert.equal(good.entries[0]!.output.coinbase, false);
  const longer = readBtcdUtxoStore(storeRecord(concatBytes(entry, Uint8Array.of(0)), 0));
  assert.ok(!longer.ok);
  assert.equal(longer.code, 'trailing-data');
  assert.equal(longer.offset, 40 + entry.length);
  const shorter = readBtcdUtxoStore(storeRecord(entry.subarray(0, entry.length - 1)));
  assert.ok(!shorter.ok);
  assert.equal(shorter.code, 'truncated');
  const overLength = readBtcdUtxoStore(storeRecord(entry, 1));
  assert.ok(!overLength.ok);
  assert.equal(overLength.code, 'truncated');
  // 21,000,001 BTC (CompressAmount 0xb43e949, VARINT d98ed149): an amount no coin can hold, refused.
  const tooMuch = readBtcdUtxoStore(storeRecord(fromHex('8048' + 'd98ed149' + '00' + 'cd'.repeat(20))));
  assert.ok(!tooMuch.ok);
  assert.equal(tooMuch.code, 'bad-format');
  const offCurve = readBtcdUtxoStore(storeRecord(fromHex('00' + '01' + '04' + '00'.repeat(31) + '05')));
  assert.ok(!offCurve.ok);
  assert.equal(offCurve.code, 'bad-format');
  assert.equal(offCurve.offset, 42);

  const { block } = blockOf('277647.dat');
  const store = readBtcdUtxoStore(bytes);
  assert.ok(store.ok);
  const missing = spentOutputsForBlock(block, store.entries.slice(1));
  assert.ok(!missing.ok);
  assert.equal(missing.code, 'bad-format');
  // The offset of a missing coin is its flat spent-input index: here the block's last input.
  const inputs = spentInputs(block);
  const lastPrevout = inputs.at(-1)!.tx.inputs[inputs.at(-1)!.inputIndex]!.prevout;
  const withoutLast = store.entries.filter((e) => !(equalBytes(e.txid, lastPrevout.hash) && e.vout === lastPrevout.index));
  assert.equal(withoutLast.length, store.entries.length - 1);
  const lastMissing = spentOutputsForBlock(block, withoutLast);
  assert.ok(!lastMissing.ok);
  assert.equal(lastMissing.offset, inputs.length - 1);
  assert.throws(() => readSpentFile(bytes, 'btcd-utxostore'), TypeError);
});

test('malformed Floresta JSON: syntax, shape and encoding errors are bad-format', () => {
  const text = readVectorText('floresta', 'block_866342.spent_utxos.json');
  const el = (over: Record<string, unknown>) =>
    JSON.stringify([{ txout: { value: 1, script_pubkey: '51' }, is_coinbase: false, creation_height: 1, creation_time: 1, ...over }]);
  assert.ok(readFlorestaJson(el({})).ok);
  const cases: Array<[string, string]> = [
    ['truncated file', text.slice(0, text.length >> 1)],
    ['empty', ''],
    ['not an array', '{"txout":1}'],
    ['element not an object', '[1]'],
    ['missing txout', el({ txout: undefined })],
    ['value not integer', el({ txout: { value: 1.5, script_pubkey: '51' } })],
    ['value negative', el({ txout: { value: -1, script_pubkey: '51' } })],
    ['value above MAX_MONEY', el({ txout: { value: 2_100_000_000_000_001, script_pubkey: '51' } })],
    ['value as string', el({ txout: { value: '1', script_pubkey: '51' } })],
    ['script not hex', el({ txout: { value: 1, script_pubkey: 'zz' } })],
    ['script odd length', el({ txout: { value: 1, script_pubkey: '5' } })],
    ['is_coinbase not boolean', el({ is_coinbase: 0 })],
    ['creation_height missing', el({ creation_height: undefined })],
    ['creation_time not a number', el({ creation_time: null })],
  ];
  for (const [name, input] of cases) {
    const r = readFlorestaJson(input);
    assert.ok(!r.ok, name);
    assert.equal(r.code, 'bad-format', name);
    assert.ok(Number.isInteger(r.offset), name);
  }
  const second = readFlorestaJson(`[${el({}).slice(1, -1)},{"txout":{}}]`);
  assert.ok(!second.ok);
  assert.equal(second.offset, 1, 'shape errors name the element index');
  const notUtf8 = readSpentFile(Uint8Array.of(0x5b, 0xff, 0x5d), 'floresta-json');
  assert.ok(!notUtf8.ok);
  assert.equal(notUtf8.code, 'bad-format');
});

/** Core's WriteVarInt (serialize.h, VarIntMode::DEFAULT), to build utxostore entries. */
function varInt(n: number): number[] {
  const out: number[] = [];
  for (let len = 0; ; len++) {
    out.unshift((n % 128) | (len > 0 ? 0x80 : 0));
    if (n <= 0x7f) return out;
    n = Math.floor(n / 128) - 1;
  }
}

test("VARINT: a value that reaches 2^53 - 1 with a continuation bit is refused there, as Core's ReadVarInt", () => {
  // 0x8e, six 0xfe, 0xff: the running value is 2^53 - 1 when the last byte asks for more.
  assert.throws(() => readVarInt(new ByteReader(fromHex('8e' + 'fe'.repeat(6) + 'ff'))), { code: 'size-too-large', offset: 0 });
  assert.equal(readVarInt(new ByteReader(fromHex('8e' + 'fe'.repeat(6) + '7f'))), 2 ** 53 - 1);
});

test('btcd utxostore entries: every compressed script form, raw scripts up to MAX_SCRIPT_SIZE, coinbase heights, MAX_MONEY', () => {
  assert.equal(toHex(Uint8Array.from(varInt(0x1234))), 'a334', 'the VARINT writer matches serialize_tests');
  const entryOf = (code: number, amount: number, script: ArrayLike<number>): Uint8Array => Uint8Array.from([...varInt(code), ...varInt(amount), ...Array.from(script)]);
  const readOne = (entry: Uint8Array): SpentOutput => {
    const r = readBtcdUtxoStore(storeRecord(entry));
    assert.ok(r.ok, r.ok ? '' : `${r.code} at ${r.offset}: ${r.message}`);
    assert.equal(r.entries.length, 1);
    return r.entries[0]!.output;
  };
  const h20 = new Uint8Array(20).fill(0xcd);
  const x = secp256k1.Point.BASE.toBytes(true).subarray(1);
  // Special scripts: 0 P2PKH and 1 P2SH take 20 bytes, 2..5 P2PK take 32.
  assert.equal(toHex(readOne(entryOf(200, 9, [0, ...h20])).scriptPubKey), '76a914' + toHex(h20) + '88ac');
  assert.equal(toHex(readOne(entryOf(200, 9, [1, ...h20])).scriptPubKey), 'a914' + toHex(h20) + '87');
  assert.equal(toHex(readOne(entryOf(200, 9, [3, ...x])).scriptPubKey), '2103' + toHex(x) + 'ac');
  assert.equal(toHex(readOne(entryOf(200, 9, [4, ...x])).scriptPubKey), '41' + toHex(secp256k1.Point.BASE.toBytes(false)) + 'ac');
  // Code = height * 2 + coinbase.
  const cb = readOne(entryOf(201, 9, [0, ...h20]));
  assert.equal(cb.height, 100);
  assert.equal(cb.coinbase, true);
  assert.equal(cb.value, 100_000_000);
  // CompressAmount(MAX_MONEY) = 0x1406f40 (compress_tests): the largest amount a coin can hold.
  assert.equal(readOne(entryOf(2, 0x1406f40, [0, ...h20])).value, MAX_MONEY);
  // Any other script: VARINT(size + 6), then the script as it is.
  for (const len of [0, 1, 5, 33, 10_000]) {
    const s = Uint8Array.from({ length: len }, (_, i) => (i * 7 + 1) & 0xff);
    assert.equal(toHex(readOne(entryOf(200, 9, [...varInt(len + 6), ...s])).scriptPubKey), toHex(s), `${len}-byte script`);
  }
  // Past MAX_SCRIPT_SIZE (10,000): the bytes are skipped and the script is a bare OP_RETURN, as Core.
  for (const len of [10_001, 10_500]) {
    const s = new Uint8Array(len).fill(0x51);
    assert.equal(toHex(readOne(entryOf(200, 9, [...varInt(len + 6), ...s])).scriptPubKey), '6a', `${len}-byte script`);
  }
});

test('Floresta JSON bounds: MAX_MONEY is an amount; heights and times are non-negative integers; a syntax error names its position', () => {
  const el = (over: Record<string, unknown>): string =>
    JSON.stringify([{ txout: { value: 1, script_pubkey: '51' }, is_coinbase: false, creation_height: 1, creation_time: 1, ...over }]);
  const max = mustOk(readFlorestaJson(el({ txout: { value: MAX_MONEY, script_pubkey: '' } })));
  assert.equal(max[0]!.value, MAX_MONEY);
  assert.equal(max[0]!.scriptPubKey.length, 0);
  const zero = mustOk(readFlorestaJson(el({ creation_height: 0, creation_time: 0 })));
  assert.equal(zero[0]!.height, 0);
  assert.equal(zero[0]!.time, 0);
  for (const over of [{ creation_height: -1 }, { creation_time: -1 }, { creation_height: 1.5 }, { creation_time: 0.5 }]) {
    const r = readFlorestaJson(el(over));
    assert.ok(!r.ok, JSON.stringify(over));
    assert.equal(r.code, 'bad-format');
    assert.equal(r.offset, 0, 'the element index');
  }
  // JSON.parse reads these as integers (1e2 as 100, the fraction rounded away): the text is what counts.
  const good = el({});
  for (const [field, written] of [
    ['"value":1', '"value":1e2'],
    ['"value":1', '"value":100.0'],
    ['"value":1', '"value":2099999997690000.1'],
    ['"value":1', '"value":-0'],
    ['"creation_height":1', '"creation_height":1E0'],
    ['"creation_time":1', '"creation_time":1.0'],
  ] as const) {
    const input = good.replace(field, written);
    assert.notEqual(input, good);
    const r = readFlorestaJson(input);
    assert.ok(!r.ok, written);
    assert.equal(r.code, 'bad-format', written);
    assert.equal(r.offset, 0, `${written}: the element index`);
    const second = readFlorestaJson(`[${good.slice(1, -1)},${input.slice(1, -1)}]`);
    assert.ok(!second.ok && second.offset === 1, `${written} in the second element`);
  }
  // Digits, points and exponents inside strings are no numbers.
  const inStrings = mustOk(readFlorestaJson(el({ txout: { value: 7, script_pubkey: '1e2e' }, note: '1.5e3 "-0" \\ [,]' })));
  assert.equal(inStrings[0]!.value, 7);
  const syntax = readFlorestaJson('[1 2]');
  assert.ok(!syntax.ok);
  assert.equal(syntax.code, 'bad-format');
  assert.equal(syntax.offset, 3, 'where the parser stopped');
});
