// The LMDB chain store: record codecs against Core's VARINT and CompressAmount vectors, coin round
// trips, the shared-buffer hazard of getBinaryFast, connect/disconnect digests, reopening, the
// network and schema guards, and crash atomicity under SIGKILL in a child process.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { open as openLmdb } from 'lmdb';
import type { Coin } from '../src/consensus/coins.js';
import { MAX_MONEY } from '../src/primitives/amount.js';
import { toHex } from '../src/primitives/bytes.js';
import {
  BLOCK_FAILED_CHILD,
  BLOCK_FAILED_VALID,
  BLOCK_HAVE_DATA,
  BLOCK_HAVE_UNDO,
  BLOCK_VALID_SCRIPTS,
  ChainStore,
  SCHEMA_VERSION,
  StoreError,
  compressAmount,
  decodeCoin,
  decodeUndo,
  encodeCoin,
  encodeUndo,
  type BlockIndexEntry,
} from '../src/store/index.js';
import { decodeIndexEntry, decodeTip, encodeIndexEntry, writeVarInt, varIntLength } from '../src/store/records.js';
import { decodeFlatFilePos, encodeFlatFilePos, FlatFileSeq } from '../src/store/flat-files.js';
import { ENTRY_TABLE_BYTES } from '../src/store/coin-table.js';
import { flushPageBytes, INDEX_RECORD, PendingWrites, touchedPages, type TreeShape } from '../src/store/write-back.js';
import { outpointKeyHex, referenceDigest, syntheticChain, type SyntheticBlock } from './helpers/store-chain.js';
import { CRASH_CHAIN } from './helpers/store-crash-params.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function txid(n: number): Uint8Array {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(0, n, false);
  b[31] = n & 0xff;
  return b;
}

function script(len: number, seed: number): Uint8Array {
  const s = new Uint8Array(len);
  for (let i = 0; i < len; i++) s[i] = (i * 31 + seed) & 0xff;
  return s;
}

function coin(value: number, scriptLen: number, seed: number, height = 7, coinbase = false): Coin {
  return { value, scriptPubKey: script(scriptLen, seed), height, coinbase };
}

function hashOf(n: number): Uint8Array {
  const h = new Uint8Array(32).fill(n & 0xff);
  h[0] = 0xaa;
  return h;
}

/** Serialize a coin's fields for deepEqual (a Buffer and a Uint8Array of equal bytes differ there). */
function plain(c: Coin | undefined): unknown {
  return c === undefined ? undefined : { value: c.value, height: c.height, coinbase: c.coinbase, script: toHex(c.scriptPubKey) };
}

/** Apply the first `n` synthetic blocks and return the chain. */
async function applyChain(store: ChainStore, seed: number, n: number, spends = 30, creates = 40) {
  const chain = syntheticChain(seed, n, spends, creates);
  for (const b of chain) await store.applyBlock(b.apply);
  return chain;
}

// ---- records ---------------------------------------------------------------------------------

// serialize_tests.cpp, varints_bitpatterns (the values below 2^53).
const VARINT_VECTORS: ReadonlyArray<[number, string]> = [
  [0, '00'],
  [0x7f, '7f'],
  [0x80, '8000'],
  [0x1234, 'a334'],
  [0xffff, '82fe7f'],
  [0x123456, 'c7e756'],
  [0x80123456, '86ffc7e756'],
  [0xffffffff, '8efefefe7f'],
];

for (const [n, hex] of VARINT_VECTORS) {
  test(`VARINT(0x${n.toString(16)}) is ${hex} (serialize_tests varints_bitpatterns)`, () => {
    const out = new Uint8Array(varIntLength(n));
    assert.equal(writeVarInt(out, 0, n), out.length);
    assert.equal(toHex(out), hex);
  });
}

// compress_tests.cpp: CompressAmount pairs.
const COMPRESS_VECTORS: ReadonlyArray<[string, number, number]> = [
  ['0', 0, 0x0],
  ['1', 1, 0x1],
  ['CENT', 1_000_000, 0x7],
  ['COIN', 100_000_000, 0x9],
  ['50*COIN', 5_000_000_000, 0x32],
  ['21000000*COIN', 2_100_000_000_000_000, 0x1406f40],
];

for (const [name, amount, compressed] of COMPRESS_VECTORS) {
  test(`CompressAmount(${name}) = 0x${compressed.toString(16)} (compress_tests)`, () => {
    assert.equal(compressAmount(amount), compressed);
    const c = decodeCoin(encodeCoin({ value: amount, scriptPubKey: new Uint8Array(0), height: 0, coinbase: false }));
    assert.equal(c.value, amount);
  });
}

test('coin records round-trip at the edges: MAX_MONEY, MAX_MONEY-1 (past 2^53 compressed), 10,000-byte script', () => {
  const cases: Coin[] = [
    coin(0, 0, 1, 0, false),
    coin(MAX_MONEY, 25, 2, 0x7fffffff, true),
    coin(MAX_MONEY - 1, 22, 3, 1, false),
    coin(Number.MAX_SAFE_INTEGER, 1, 4),
    coin(123_456_789, 10_000, 5, 840_000, true),
  ];
  assert.equal(typeof compressAmount(MAX_MONEY - 1), 'bigint');
  for (const c of cases) assert.deepEqual(plain(decodeCoin(encodeCoin(c))), plain(c));
  // A P2WPKH coin at height 800,000 with 0.001 BTC: 3 + 1 + 22 bytes.
  assert.equal(encodeCoin(coin(100_000, 22, 6, 800_000)).length, 26);
});

test('coin and undo codecs round-trip (property)', () => {
  const coinArb = fc.record({
    value: fc.oneof(fc.integer({ min: 0, max: MAX_MONEY }), fc.constantFrom(0, 1, MAX_MONEY, MAX_MONEY - 1, Number.MAX_SAFE_INTEGER)),
    scriptPubKey: fc.uint8Array({ maxLength: 300 }),
    height: fc.integer({ min: 0, max: 0x7fffffff }),
    coinbase: fc.boolean(),
  });
  fc.assert(fc.property(coinArb, (c) => assert.deepEqual(plain(decodeCoin(encodeCoin(c))), plain(c))));
  fc.assert(
    fc.property(fc.array(coinArb, { maxLength: 20 }), (cs) => assert.deepEqual(decodeUndo(encodeUndo(cs)).map(plain), cs.map(plain))),
    { numRuns: 200 },
  );
  // Into a reused scratch buffer: the same bytes when it fits (a view of it), a fresh buffer when not.
  const scratch = new Uint8Array(256);
  fc.assert(
    fc.property(fc.array(coinArb, { maxLength: 20 }), (cs) => {
      const fresh = encodeUndo(cs);
      const got = encodeUndo(cs, scratch);
      assert.deepEqual(got, fresh);
      assert.equal(got.buffer === scratch.buffer, fresh.length <= scratch.length);
    }),
    { numRuns: 200 },
  );
});

test('block-index records keep the header, height, status and 256-bit chain work', () => {
  for (const work of [0n, 1n, (1n << 256n) - 1n, 0x1234n << 200n]) {
    const e: BlockIndexEntry = { hash: hashOf(3), header: script(80, 9), height: 0xfffffffe, chainWork: work, status: BLOCK_HAVE_DATA | BLOCK_FAILED_VALID };
    const rec = encodeIndexEntry(e);
    assert.equal(rec.length, 120);
    const d = decodeIndexEntry(e.hash, rec);
    assert.equal(d.chainWork, work);
    assert.equal(d.height, e.height);
    assert.equal(d.status, e.status);
    assert.equal(toHex(d.header), toHex(e.header));
  }
  assert.throws(() => encodeIndexEntry({ hash: hashOf(3), header: new Uint8Array(80), height: 0, chainWork: 1n << 256n, status: 0 }), RangeError);
  // The status is a u32: bits the store does not use (yet) are kept as well.
  const wide: BlockIndexEntry = { hash: hashOf(4), header: script(80, 4), height: 1, chainWork: 1n, status: 0xfedcba98 };
  assert.equal(decodeIndexEntry(wide.hash, encodeIndexEntry(wide)).status, 0xfedcba98);
});

test('corrupt coin and undo records throw StoreError corrupt', () => {
  assert.throws(() => decodeCoin(new Uint8Array([0x80])), (e: unknown) => e instanceof StoreError && e.code === 'corrupt');
  assert.throws(() => decodeUndo(new Uint8Array([2, 0, 0, 5, 1])), (e: unknown) => e instanceof StoreError && e.code === 'corrupt');
});

/** Core's WriteVarInt for any bigint (records.ts writes those past 2^53 only for amounts). */
function bigVarInt(n: bigint): number[] {
  const out = [Number(n & 0x7fn)];
  while (n > 0x7fn) {
    n = (n >> 7n) - 1n;
    out.unshift(Number(n & 0x7fn) | 0x80);
  }
  return out;
}

test('corrupt records past what they can hold throw StoreError corrupt, never garbage or a RangeError', () => {
  const isCorrupt = (e: unknown) => e instanceof StoreError && e.code === 'corrupt';
  const varint = (n: number): number[] => {
    const out = new Uint8Array(varIntLength(n));
    writeVarInt(out, 0, n);
    return [...out];
  };
  // A height code of nine VARINT bytes: past 2^53, where a double stops counting in ones.
  assert.throws(() => decodeCoin(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00)), isCorrupt);
  // Compressed amounts that decompress past 2^53: 10^16 sats (a safe VARINT, 1e7·10^9), and one
  // whose VARINT itself is past 2^53 (the BigInt path that MAX_MONEY - 1 takes).
  assert.throws(() => decodeCoin(Uint8Array.of(0x00, ...varint(100_000_000), 0x51)), isCorrupt);
  assert.throws(() => decodeCoin(Uint8Array.of(0x00, ...bigVarInt(1n << 60n), 0x51)), isCorrupt);
  assert.throws(() => decodeUndo(Uint8Array.of(1, 0x00, ...bigVarInt(1n << 60n), 0)), isCorrupt);
  // The same paths still read what they should: MAX_MONEY - 1 compressed is past 2^53.
  const big = compressAmount(MAX_MONEY - 1);
  assert.equal(decodeCoin(Uint8Array.of(0x00, ...bigVarInt(BigInt(big)))).value, MAX_MONEY - 1);
  // An undo count of 2^32 (an array no engine allocates), and an undo record with a byte after its coins.
  assert.throws(() => decodeUndo(Uint8Array.from(varint(2 ** 32))), isCorrupt);
  const one = encodeUndo([coin(5000, 3, 1)]);
  assert.equal(decodeUndo(one).length, 1);
  assert.throws(() => decodeUndo(Uint8Array.of(...one, 0)), isCorrupt);
  // Tip and index records are fixed-size: a longer one is damage, not a record to read part of.
  assert.throws(() => decodeTip(new Uint8Array(37)), isCorrupt);
  assert.throws(() => decodeTip(new Uint8Array(35)), isCorrupt);
  assert.throws(() => decodeIndexEntry(hashOf(1), new Uint8Array(121)), isCorrupt);
  assert.throws(() => decodeIndexEntry(hashOf(1), new Uint8Array(119)), isCorrupt);
});

test('coins outside what the record holds are refused when encoded: a height past 2^31 - 1, a negative value', () => {
  assert.equal(decodeCoin(encodeCoin(coin(1, 1, 1, 0x7fffffff, true))).height, 0x7fffffff);
  for (const bad of [coin(1, 1, 1, 0x80000000), coin(1, 1, 1, -1), coin(-1, 1, 1), coin(0.5, 1, 1), coin(Number.MAX_SAFE_INTEGER + 1, 1, 1)]) {
    assert.throws(() => encodeCoin(bad), RangeError, `height ${bad.height}, value ${bad.value}`);
    assert.throws(() => encodeUndo([coin(1, 1, 1), bad]), RangeError);
  }
});

// ---- the store ---------------------------------------------------------------------------------

test('coins round-trip through LMDB: 10,000-byte script, MAX_MONEY, missing outpoints', async (t) => {
  const dir = tempDir(t);
  const store = ChainStore.open(dir, { network: 'regtest' });
  const big = coin(MAX_MONEY, 10_000, 11, 1, true);
  const small = coin(546, 22, 12, 1);
  const chain = syntheticChain(1, 1, 0, 0);
  const entry = chain[0]!.apply.entry;
  await store.applyBlock({
    entry,
    spent: [],
    created: [
      { txid: txid(1), vout: 0, coin: big },
      { txid: txid(1), vout: 0xffffffff, coin: small },
    ],
    undo: [],
    tip: { hash: entry.hash, height: 0 },
  });
  assert.deepEqual(plain(store.getCoin(txid(1), 0)), plain(big));
  assert.deepEqual(plain(store.getCoin(txid(1), 0xffffffff)), plain(small));
  assert.equal(store.getCoin(txid(1), 1), undefined);
  assert.equal(store.getCoin(txid(2), 0), undefined);
  assert.equal(store.hasCoin(txid(1), 0), true);
  assert.equal(store.hasCoin(txid(1), 2), false);
  assert.equal(store.utxoCount(), 2);
  assert.throws(() => store.getCoin(new Uint8Array(31), 0), TypeError);
  assert.throws(() => store.getCoin(txid(1), -1), RangeError);
  await store.close();
  assert.throws(() => store.getCoin(txid(1), 0), (e: unknown) => e instanceof StoreError && e.code === 'closed');
});

test('getBinaryFast hazard: a coin read first stays intact after later reads', async (t) => {
  const dir = tempDir(t);
  const store = ChainStore.open(dir, { network: 'regtest' });
  const a = coin(1000, 10_000, 21);
  const b = coin(2000, 10_000, 99);
  const entry = syntheticChain(2, 1, 0, 0)[0]!.apply.entry;
  await store.applyBlock({
    entry,
    spent: [],
    created: [
      { txid: txid(5), vout: 0, coin: a },
      { txid: txid(6), vout: 0, coin: b },
    ],
    undo: [],
    tip: { hash: entry.hash, height: 0 },
  });
  const first = store.getCoin(txid(5), 0)!;
  const second = store.getCoin(txid(6), 0)!;
  store.getCoin(txid(5), 0);
  store.getIndex(entry.hash);
  assert.equal(toHex(first.scriptPubKey), toHex(a.scriptPubKey));
  assert.equal(toHex(second.scriptPubKey), toHex(b.scriptPubKey));
  // A copy, not a view of LMDB's 16 MiB scratch buffer.
  assert.equal(first.scriptPubKey.byteLength, 10_000);
  assert.equal(first.scriptPubKey.buffer.byteLength, 10_000);
  await store.close();
});

test('getCoin: small scripts read one after another each stay intact, across several shared buffers', async (t) => {
  const dir = tempDir(t);
  const store = ChainStore.open(dir, { network: 'regtest' });
  // 400 P2PKH-sized scripts: 10,000 bytes, more than one 8 KiB buffer holds.
  const coins = Array.from({ length: 400 }, (_, i) => coin(1000 + i, 25, i));
  const entry = syntheticChain(2, 1, 0, 0)[0]!.apply.entry;
  await store.applyBlock({
    entry,
    spent: [],
    created: coins.map((c, i) => ({ txid: txid(1000 + i), vout: 0, coin: c })),
    undo: [],
    tip: { hash: entry.hash, height: 0 },
  });
  const read = coins.map((_, i) => store.getCoin(txid(1000 + i), 0)!);
  read.forEach((c, i) => assert.deepEqual(plain(c), plain(coins[i]!), `coin ${i}`));
  await store.close();
});

test('applyBlock then revertBlock restores the exact prior digest, tip, index status and undo', async (t) => {
  const dir = tempDir(t);
  const store = ChainStore.open(dir, { network: 'regtest' });
  const chain = await applyChain(store, 3, 12);
  const last = chain[11]!;
  assert.equal(toHex(store.utxoDigest()), last.digest);
  assert.equal(store.utxoCount(), last.coinCount);
  for (let h = 11; h >= 1; h--) {
    const b = chain[h]!;
    const undo = store.getUndo(b.apply.entry.hash)!;
    assert.deepEqual(undo.map(plain), b.apply.undo.map(plain));
    assert.equal(store.getIndex(b.apply.entry.hash)!.status, BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS | BLOCK_HAVE_UNDO);
    await store.revertBlock(b.revert);
    const prev = chain[h - 1]!;
    assert.equal(toHex(store.utxoDigest()), prev.digest, `digest after reverting block ${h}`);
    assert.equal(store.utxoCount(), prev.coinCount);
    assert.deepEqual(store.getTip(), { hash: prev.apply.entry.hash, height: h - 1 });
    assert.equal(store.getUndo(b.apply.entry.hash), undefined);
    assert.equal(store.getIndex(b.apply.entry.hash)!.status, BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS);
  }
  // And forward again to the same state.
  for (let h = 1; h < 12; h++) await store.applyBlock(chain[h]!.apply);
  assert.equal(toHex(store.utxoDigest()), last.digest);
  await store.close();
});

test('revertBlock clears BLOCK_HAVE_UNDO on the entry it is given, as the index holds it', async (t) => {
  const store = ChainStore.open(tempDir(t), { network: 'regtest' });
  const chain = await applyChain(store, 7, 3, 5, 5);
  const hash = chain[2]!.apply.entry.hash;
  const stored = store.getIndex(hash)!;
  assert.equal(stored.status, BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS | BLOCK_HAVE_UNDO);
  await store.revertBlock({ ...chain[2]!.revert, entry: stored });
  assert.equal(store.getIndex(hash)!.status, BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS);
  assert.equal(store.getUndo(hash), undefined);
  await store.close();
});

test('a write that breaks the chain is refused whole: wrong parent, missing spent coin, not the tip', async (t) => {
  const dir = tempDir(t);
  const store = ChainStore.open(dir, { network: 'regtest' });
  const chain = await applyChain(store, 4, 6);
  const before = toHex(store.utxoDigest());
  const tipBefore = store.getTip();
  const isInconsistent = (e: unknown) => e instanceof StoreError && e.code === 'inconsistent';

  // Block 5 again on top of itself: its parent is not the tip.
  await assert.rejects(store.applyBlock(chain[5]!.apply), isInconsistent);
  // A block 6 whose spent list names a coin that does not exist (after real spends and creates).
  const next = syntheticChain(4, 7, 30, 40)[6]!;
  const bad = { ...next.apply, spent: [...next.apply.spent, { txid: txid(999), vout: 3 }] };
  await assert.rejects(store.applyBlock(bad), (e: unknown) => isInconsistent(e) && /is not in the store/.test((e as Error).message));
  // Block 6 claiming height 7: it names the tip as its parent, but the tip is not at the height below.
  const tall = { ...next.apply, entry: { ...next.apply.entry, height: 7 }, tip: { ...next.apply.tip, height: 7 } };
  await assert.rejects(store.applyBlock(tall), (e: unknown) => isInconsistent(e) && /its parent is/.test((e as Error).message));
  // Reverting a block that is not the tip.
  await assert.rejects(store.revertBlock(chain[3]!.revert), isInconsistent);
  assert.equal(toHex(store.utxoDigest()), before);
  assert.deepEqual(store.getTip(), tipBefore);
  assert.equal(store.getIndex(next.apply.entry.hash), undefined);
  assert.equal(store.getUndo(next.apply.entry.hash), undefined);
  // Misuse is thrown at once: an outpoint both spent and created.
  const o = next.apply.spent[0]!;
  assert.throws(() => store.applyBlock({ ...next.apply, created: [...next.apply.created, { ...o, coin: coin(1, 1, 1) }] }), /listed twice/);
  // An outpoint that is no outpoint, among the spent coins: thrown at once, with write-back on or off.
  for (const spent of [{ txid: new Uint8Array(31), vout: 0 }, { txid: txid(1), vout: -1 }, { txid: txid(1), vout: 2 ** 32 }]) {
    assert.throws(() => store.applyBlock({ ...next.apply, spent: [...next.apply.spent, spent] }), /txid|vout/);
    await store.setWriteBack(1 << 30);
    assert.throws(() => store.applyBlock({ ...next.apply, spent: [...next.apply.spent, spent] }), /txid|vout/);
    await store.setWriteBack(0);
  }
  // And a new tip that is not the block itself.
  assert.throws(() => store.applyBlock({ ...next.apply, tip: { ...next.apply.tip, height: 5 } }), /the new tip must be the block itself/);
  assert.throws(() => store.applyBlock({ ...next.apply, tip: { hash: chain[5]!.apply.entry.hash, height: 6 } }), /the new tip must be the block itself/);
  // The good block 6 still applies.
  await store.applyBlock(next.apply);
  assert.equal(toHex(store.utxoDigest()), next.digest);
  await store.close();
});

test('utxoDigest depends on the coin set only, not on insertion order or history', async (t) => {
  const chain = syntheticChain(5, 10, 30, 40);
  const final = chain[9]!;
  // Store A: the ten blocks. Store B: the final set in one block, created in reverse order.
  const a = ChainStore.open(tempDir(t), { network: 'regtest' });
  for (const b of chain) await a.applyBlock(b.apply);
  const b = ChainStore.open(tempDir(t), { network: 'regtest' });
  const live = new Map<string, { txid: Uint8Array; vout: number; coin: Coin }>();
  for (const blk of chain) {
    for (const s of blk.apply.spent) live.delete(outpointKeyHex(s.txid, s.vout));
    for (const c of blk.apply.created) live.set(outpointKeyHex(c.txid, c.vout), c);
  }
  const entry = { ...chain[0]!.apply.entry };
  await b.applyBlock({ entry, spent: [], created: [...live.values()].reverse(), undo: [], tip: { hash: entry.hash, height: 0 } });
  assert.equal(toHex(a.utxoDigest()), final.digest);
  assert.equal(toHex(b.utxoDigest()), final.digest);
  assert.equal(referenceDigest(live.values()), final.digest);
  assert.equal(a.utxoCount(), b.utxoCount());
  // An empty set hashes to SHA-256 of nothing.
  const c = ChainStore.open(tempDir(t), { network: 'regtest' });
  assert.equal(toHex(c.utxoDigest()), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('reopening keeps the tip, coins, block index, blocks, meta and source records', async (t) => {
  const dir = tempDir(t);
  let store = ChainStore.open(dir, { network: 'testnet4' });
  const chain = await applyChain(store, 6, 8);
  const raw = script(1_000_000, 7);
  const extra: BlockIndexEntry = { hash: hashOf(77), header: script(80, 3), height: 8, chainWork: 5n, status: 0 };
  await store.putBlock(extra.hash, raw, extra);
  await store.putIndex({ ...chain[2]!.apply.entry, status: BLOCK_HAVE_DATA | BLOCK_FAILED_VALID });
  // Several entries in one transaction (a failed block's descendants), and none.
  await store.putIndexes([3, 4].map((h) => ({ ...chain[h]!.apply.entry, status: BLOCK_HAVE_DATA | BLOCK_FAILED_CHILD })));
  await store.putIndexes([]);
  await store.putMeta('checkpoint', new Uint8Array([1, 2, 3]));
  await store.putSourceRecord(new Uint8Array([9, 9]), new Uint8Array([4, 5]));
  assert.throws(() => store.putMeta('tip', new Uint8Array(36)), /written by the store/);
  const digest = toHex(store.utxoDigest());
  await store.close();

  assert.equal(ChainStore.readNetwork(dir), 'testnet4');
  store = ChainStore.open(dir, { network: 'testnet4' });
  assert.deepEqual(store.getTip(), { hash: chain[7]!.apply.entry.hash, height: 7 });
  assert.equal(toHex(store.utxoDigest()), digest);
  assert.equal(store.utxoCount(), chain[7]!.coinCount);
  const blk = store.getBlock(extra.hash)!;
  assert.equal(blk.length, raw.length);
  assert.equal(toHex(blk.subarray(0, 64)), toHex(raw.subarray(0, 64)));
  assert.equal(blk.buffer.byteLength, raw.length);
  assert.equal(store.getIndex(extra.hash)!.status, BLOCK_HAVE_DATA);
  assert.equal(store.getIndex(chain[2]!.apply.entry.hash)!.status, BLOCK_HAVE_DATA | BLOCK_FAILED_VALID);
  for (const h of [3, 4]) assert.equal(store.getIndex(chain[h]!.apply.entry.hash)!.status, BLOCK_HAVE_DATA | BLOCK_FAILED_CHILD);
  const all: BlockIndexEntry[] = [];
  store.forEachIndex((e) => all.push(e));
  assert.equal(all.length, 9);
  const byHeight = all.filter((e) => e.hash[0] !== 0xaa).sort((x, y) => x.height - y.height);
  for (const e of byHeight) {
    const want = chain[e.height]!.apply.entry;
    assert.equal(toHex(e.hash), toHex(want.hash));
    assert.equal(toHex(e.header), toHex(want.header));
    assert.equal(e.chainWork, want.chainWork);
  }
  assert.deepEqual([...store.getMeta('checkpoint')!], [1, 2, 3]);
  assert.equal(store.getMeta('nothing'), undefined);
  assert.deepEqual([...store.getSourceRecord(new Uint8Array([9, 9]))!], [4, 5]);
  assert.equal(store.getBlock(hashOf(78)), undefined);
  await store.close();
});

test('updateSourceRecords builds on what is committed and writes all of it or nothing', async (t) => {
  const store = ChainStore.open(tempDir(t), { network: 'regtest' });
  const k = (n: number): Uint8Array => new Uint8Array([n]);
  await store.putSourceRecord(k(1), new Uint8Array([10]));
  await store.putSourceRecord(k(2), new Uint8Array([20]));
  const seen: Array<number | undefined> = [];
  await store.updateSourceRecords([k(1), k(2), k(3)], (i, cur) => {
    seen.push(cur?.[0]);
    return i === 1 ? undefined : new Uint8Array([(cur?.[0] ?? 0) + 1]);
  });
  assert.deepEqual(seen, [10, 20, undefined]);
  assert.deepEqual([store.getSourceRecord(k(1))?.[0], store.getSourceRecord(k(2)), store.getSourceRecord(k(3))?.[0]], [11, undefined, 1]);
  assert.equal(store.sourceRecordCount(), 2);
  // A throw part-way: the record already rewritten in that call is not written either.
  const boom = new Error('boom');
  await assert.rejects(
    store.updateSourceRecords([k(1), k(3)], (i) => {
      if (i === 1) throw boom;
      return new Uint8Array([99]);
    }),
    (err) => err === boom,
  );
  assert.deepEqual([store.getSourceRecord(k(1))?.[0], store.getSourceRecord(k(3))?.[0]], [11, 1]);
  await store.close();
});

test('blocks and undo live in flat files: a crash tail past the committed end is overwritten, positions survive reopening', async (t) => {
  const dir = tempDir(t);
  let store = ChainStore.open(dir, { network: 'regtest' });
  const chain = await applyChain(store, 9, 4);
  const a: BlockIndexEntry = { hash: hashOf(1), header: script(80, 1), height: 9, chainWork: 3n, status: 0 };
  const rawA = script(5000, 1);
  await store.putBlock(a.hash, rawA, a);
  await store.close();
  const blk = join(dir, 'blocks', 'blk00000.dat');
  const committed = statSync(blk).size;
  assert.equal(committed, 8 + rawA.length, 'one record: magic, length, block');
  // A crash after an append and before its commit leaves bytes nothing points to.
  appendFileSync(blk, Buffer.alloc(777, 0x55));

  store = ChainStore.open(dir, { network: 'regtest' });
  const b: BlockIndexEntry = { hash: hashOf(2), header: script(80, 2), height: 9, chainWork: 3n, status: 0 };
  const rawB = script(300, 2);
  await store.putBlock(b.hash, rawB, b);
  assert.equal(toHex(store.getBlock(a.hash)!), toHex(rawA));
  assert.equal(toHex(store.getBlock(b.hash)!), toHex(rawB));
  // B went where the tail was: right after A.
  const bytes = readFileSync(blk);
  assert.equal(toHex(bytes.subarray(committed + 8, committed + 8 + rawB.length)), toHex(rawB));
  for (const blockAt of chain) {
    assert.deepEqual(store.getUndo(blockAt.apply.entry.hash)!.map(plain), blockAt.apply.undo.map(plain));
  }
  await store.close();
});

test('flat files: records rotate to a new file at the size limit and read back from each', (t) => {
  const dir = tempDir(t);
  const magic = Uint8Array.of(1, 2, 3, 4);
  const seq = new FlatFileSeq(dir, 'blk', magic, { file: 0, end: 0 }, 1000);
  const records = [script(400, 1), script(400, 2), script(400, 3), script(1500, 4), script(10, 5)];
  const positions = records.map((r) => seq.append(r));
  assert.deepEqual(
    positions.map((p) => p.file),
    [0, 0, 1, 2, 3],
  );
  records.forEach((r, i) => assert.equal(toHex(seq.read(positions[i]!)), toHex(r)));
  assert.throws(() => seq.read({ ...positions[0]!, length: 399 }), (e: unknown) => e instanceof StoreError && e.code === 'corrupt');
  seq.close();
  // Reopened at the committed end, reads still work and appends continue there.
  const again = new FlatFileSeq(dir, 'blk', magic, seq.end, 1000);
  assert.equal(toHex(again.read(positions[3]!)), toHex(records[3]!));
  assert.deepEqual(again.append(script(20, 6)), { file: 3, offset: positions[4]!.offset + 10 + 8, length: 20 });
  again.close();
  // A file grows to the limit exactly, not past it; a record bigger than the limit goes into the
  // file it starts (no empty file is skipped).
  const exact = new FlatFileSeq(join(dir, 'exact'), 'rev', magic, { file: 0, end: 0 }, 1000);
  assert.deepEqual([exact.append(script(492, 1)), exact.append(script(492, 2)), exact.append(script(1, 3))].map((p) => [p.file, p.offset]), [[0, 8], [0, 508], [1, 8]]);
  exact.close();
  const huge = new FlatFileSeq(join(dir, 'huge'), 'rev', magic, { file: 0, end: 0 }, 1000);
  assert.deepEqual([huge.append(script(5000, 1)), huge.append(script(10, 2))].map((p) => [p.file, p.offset]), [[0, 8], [1, 8]]);
  huge.close();
});

test('flat file ends survive reopening: blocks and undo appended after it never overwrite earlier ones; a connected block has its data and undo', async (t) => {
  // Blocks far smaller than their undo records, so that the two files' ends differ.
  for (const writeBack of [false, true]) {
    const dir = tempDir(t);
    const chain = syntheticChain(52, 9, 10, 10).map((b, h) => ({
      ...b,
      apply: { ...b.apply, entry: { ...b.apply.entry, status: BLOCK_VALID_SCRIPTS }, block: script(20 + h, h) },
    }));
    const open = async (): Promise<ChainStore> => {
      const s = ChainStore.open(dir, { network: 'regtest' });
      if (writeBack) await s.setWriteBack(1 << 30);
      return s;
    };
    let store = await open();
    for (const b of chain.slice(0, 4)) await store.applyBlock(b.apply);
    await store.close();
    store = await open();
    for (const b of chain.slice(4, 7)) await store.applyBlock(b.apply);
    await store.close();
    store = await open();
    for (const b of chain.slice(7)) await store.applyBlock(b.apply);
    for (const [h, b] of chain.entries()) {
      const hash = b.apply.entry.hash;
      assert.equal(toHex(store.getBlock(hash)!), toHex(script(20 + h, h)), `write-back ${writeBack}: block ${h}`);
      assert.deepEqual(store.getUndo(hash)!.map(plain), b.apply.undo.map(plain), `write-back ${writeBack}: undo of block ${h}`);
      // Stored with the block (applyBlock's `block`): BLOCK_HAVE_DATA as putBlock sets it, and the undo.
      assert.equal(store.getIndex(hash)!.status, BLOCK_VALID_SCRIPTS | BLOCK_HAVE_DATA | BLOCK_HAVE_UNDO, `write-back ${writeBack}: status of block ${h}`);
    }
    assert.equal(toHex(store.utxoDigest()), chain[8]!.digest);
    await store.close();
  }
});

test('noSync: the flat files hold a block and its undo when its commit resolves, so a killed process keeps what LMDB points to', async (t) => {
  const dir = tempDir(t);
  const store = ChainStore.open(dir, { network: 'regtest', noSync: true });
  const chain = syntheticChain(53, 3, 5, 5);
  const raws = chain.map((_, h) => script(300 + h, h));
  for (const [h, b] of chain.entries()) {
    await store.applyBlock({ ...b.apply, block: raws[h]! });
    // Read from the files as another process would, not through the store (which writes out before a read).
    const blk = readFileSync(join(dir, 'blocks', 'blk00000.dat'));
    const rev = readFileSync(join(dir, 'blocks', 'rev00000.dat'));
    assert.equal(blk.length, raws.slice(0, h + 1).reduce((n, r) => n + 8 + r.length, 0), `blk file after block ${h}`);
    assert.equal(toHex(blk.subarray(blk.length - raws[h]!.length)), toHex(raws[h]!));
    assert.equal(rev.length, chain.slice(0, h + 1).reduce((n, c) => n + 8 + encodeUndo(c.apply.undo).length, 0), `rev file after block ${h}`);
  }
  await store.close();
});

test('flat files: a record under another magic, or cut short by a truncated file, reads as corrupt', (t) => {
  const dir = tempDir(t);
  const magic = Uint8Array.of(1, 2, 3, 4);
  const isCorrupt = (e: unknown) => e instanceof StoreError && e.code === 'corrupt';
  const seq = new FlatFileSeq(dir, 'blk', magic, { file: 0, end: 0 });
  const a = seq.append(script(100, 1));
  const b = seq.append(script(300, 2));
  seq.close();
  // The same bytes read as another network's files (another magic): not our records.
  const other = new FlatFileSeq(dir, 'blk', Uint8Array.of(1, 2, 3, 5), seq.end);
  assert.throws(() => other.read(a), isCorrupt);
  other.close();
  // The file cut inside the second record's data, then inside its header.
  const file = join(dir, 'blk00000.dat');
  for (const cut of [b.offset + 100, b.offset - 4]) {
    truncateSync(file, cut);
    const again = new FlatFileSeq(dir, 'blk', magic, seq.end);
    assert.equal(toHex(again.read(a)), toHex(script(100, 1)));
    assert.throws(() => again.read(b), isCorrupt, `cut at ${cut}`);
    again.close();
  }
  // A position record is 12 bytes.
  assert.deepEqual(decodeFlatFilePos(encodeFlatFilePos({ file: 3, offset: 0x12345678, length: 9 })), { file: 3, offset: 0x12345678, length: 9 });
  for (const n of [11, 13, 0]) assert.throws(() => decodeFlatFilePos(new Uint8Array(n)), isCorrupt);
});

test('flat files: records past the 1 MiB write buffer go to the file between buffered ones; a reopened sequence reads, then appends', async (t) => {
  const dir = tempDir(t);
  const magic = Uint8Array.of(1, 2, 3, 4);
  const seq = new FlatFileSeq(dir, 'blk', magic, { file: 0, end: 0 });
  // Small, 1.5 MiB (written at once), small, then 1.6 MB of 10 kB records (the buffer fills and is written out).
  const records = [script(1000, 1), script(1_500_000, 2), script(2000, 3), ...Array.from({ length: 160 }, (_, i) => script(10_000, i + 4))];
  const positions = records.map((r) => seq.append(r));
  positions.forEach((p, i) => {
    assert.equal(p.file, 0);
    assert.equal(p.offset, i === 0 ? 8 : positions[i - 1]!.offset + records[i - 1]!.length + 8, `record ${i} right after the one before`);
  });
  const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
  records.forEach((r, i) => assert.ok(same(seq.read(positions[i]!), r), `record ${i}`));
  await seq.sync();
  seq.close();
  assert.equal(statSync(join(dir, 'blk00000.dat')).size, seq.end.end);
  // Reopened: a read first (a descriptor opened for reading), then an append to the same file.
  const again = new FlatFileSeq(dir, 'blk', magic, seq.end);
  records.forEach((r, i) => assert.ok(same(again.read(positions[i]!), r), `record ${i} after reopening`));
  const more = script(500, 99);
  const at = again.append(more);
  await again.sync();
  assert.ok(same(again.read(at), more));
  again.close();
  const third = new FlatFileSeq(dir, 'blk', magic, again.end);
  assert.ok(same(third.read(at), more));
  assert.ok(same(third.read(positions[1]!), records[1]!));
  third.close();
});

test('flat files: the sync after a new file is started syncs the directory that names it, and its parent', async (t) => {
  // node:fs as CommonJS sees it: what is set there reaches ES modules' imports with syncBuiltinESMExports.
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const { openSync, fsyncSync } = fs;
  const opened = new Map<number, string>();
  const synced: string[] = [];
  fs.openSync = function (this: unknown, ...args: Parameters<typeof openSync>) {
    const fd = openSync.apply(this, args);
    opened.set(fd, String(args[0]));
    return fd;
  } as typeof openSync;
  fs.fsyncSync = function (this: unknown, fd: number) {
    synced.push(opened.get(fd) ?? `fd ${fd}`);
    return fsyncSync.call(this, fd);
  } as typeof fsyncSync;
  syncBuiltinESMExports();
  try {
    const root = tempDir(t);
    const dir = join(root, 'blocks');
    const seq = new FlatFileSeq(dir, 'blk', Uint8Array.of(1, 2, 3, 4), { file: 0, end: 0 }, 1000);
    seq.append(script(600, 1));
    await seq.sync();
    assert.deepEqual(synced, [dir, root], 'blk00000.dat is new');
    synced.length = 0;
    seq.append(script(600, 2));
    await seq.sync();
    assert.deepEqual(synced, [dir, root], 'blk00001.dat is new');
    seq.close();
  } finally {
    fs.openSync = openSync;
    fs.fsyncSync = fsyncSync;
    syncBuiltinESMExports();
  }
});

test('opening with the wrong network or another schema version throws StoreError with a clear message', async (t) => {
  const dir = tempDir(t);
  await ChainStore.open(dir, { network: 'testnet3' }).close();
  assert.throws(
    () => ChainStore.open(dir, { network: 'main' }),
    (e: unknown) => e instanceof StoreError && e.code === 'wrong-network' && e.message === `store at ${dir} was created for testnet3, not main`,
  );
  // The refused open left the store usable.
  await ChainStore.open(dir, { network: 'testnet3' }).close();

  // Bump the schema version behind the store's back.
  const env = openLmdb({ path: dir, maxDbs: 8, overlappingSync: false });
  const meta = env.openDB<Uint8Array, Uint8Array>('meta', { encoding: 'binary', keyEncoding: 'binary' });
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, SCHEMA_VERSION + 1, true);
  env.transactionSync(() => {
    meta.put(new TextEncoder().encode('schema'), v);
  });
  await env.close();
  assert.throws(
    () => ChainStore.open(dir, { network: 'testnet3' }),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === 'wrong-schema' &&
      e.message === `store at ${dir} has schema version ${SCHEMA_VERSION + 1}, this build reads version ${SCHEMA_VERSION}`,
  );
});

test('a directory that is not an LMDB store fails to open with StoreError open; readNetwork of an empty dir is undefined', (t) => {
  const dir = tempDir(t);
  assert.equal(ChainStore.readNetwork(dir), undefined);
  writeFileSync(join(dir, 'data.mdb'), Buffer.alloc(64 * 1024, 0x5a));
  assert.throws(() => ChainStore.open(dir, { network: 'main' }), (e: unknown) => e instanceof StoreError && e.code === 'open' && /is not an LMDB data file/.test(e.message));
  assert.throws(() => ChainStore.readNetwork(dir), (e: unknown) => e instanceof StoreError && e.code === 'open');
});

// ---- write-back ------------------------------------------------------------------------------

/** Everything a reader can ask the store about `chain`'s blocks and coins. */
function storeView(store: ChainStore, chain: SyntheticBlock[]) {
  const blocks = chain.map((b) => b.apply.entry.hash);
  const outpoints = chain.flatMap((b) => [...b.apply.spent, ...b.apply.created.map(({ txid, vout }) => ({ txid, vout }))]);
  return {
    digest: toHex(store.utxoDigest()),
    count: store.utxoCount(),
    tip: store.getTip(),
    index: blocks.map((h) => store.getIndex(h)),
    undo: blocks.map((h) => store.getUndo(h)?.map(plain)),
    raw: blocks.map((h) => (store.getBlock(h) === undefined ? undefined : toHex(store.getBlock(h)!))),
    coins: outpoints.map((o) => plain(store.getCoin(o.txid, o.vout))),
    has: outpoints.map((o) => store.hasCoin(o.txid, o.vout)),
    indexEntries: [...store.indexEntries()].map((e) => toHex(e.hash)).sort(),
  };
}

test('write-back: reads see held blocks as a store that commits each block does; flush, limit, revert and close commit them', async (t) => {
  const chain = syntheticChain(31, 24, 30, 40).map((b, h) => ({ ...b, apply: { ...b.apply, block: script(100 + h, h) } }));
  const direct = ChainStore.open(tempDir(t), { network: 'regtest' });
  const dir = tempDir(t);
  let held = ChainStore.open(dir, { network: 'regtest' });
  await held.setWriteBack(1 << 30);
  for (const [h, b] of chain.entries()) {
    await direct.applyBlock(b.apply);
    await held.applyBlock(b.apply);
    assert.equal(held.unflushedBlocks, h + 1);
    if (h % 5 === 0) assert.deepEqual(storeView(held, chain), storeView(direct, chain), `after block ${h}`);
  }
  assert.deepEqual(storeView(held, chain), storeView(direct, chain));
  await held.flush();
  assert.equal(held.unflushedBlocks, 0);
  assert.deepEqual(storeView(held, chain), storeView(direct, chain));

  // Reverting flushes first, then commits directly; both stores agree all the way down.
  for (let h = 23; h >= 12; h--) {
    await direct.revertBlock(chain[h]!.revert);
    await held.revertBlock(chain[h]!.revert);
  }
  assert.deepEqual(storeView(held, chain), storeView(direct, chain));

  // A small limit: a flush whenever the held changes pass it, before the block that would add more.
  await held.setWriteBack(16 * 1024);
  let most = 0;
  for (let h = 12; h < 24; h++) {
    await direct.applyBlock(chain[h]!.apply);
    await held.applyBlock(chain[h]!.apply);
    most = Math.max(most, held.unflushedBlocks);
  }
  assert.ok(most >= 1 && most < 12, `held at most ${most} blocks`);
  assert.deepEqual(storeView(held, chain), storeView(direct, chain));

  // Close commits what is held; the reopened store is the same.
  await held.close();
  held = ChainStore.open(dir, { network: 'regtest' });
  assert.deepEqual(storeView(held, chain), storeView(direct, chain));
  assert.equal(toHex(held.utxoDigest()), chain[23]!.digest);
  await Promise.all([held.close(), direct.close()]);
});

test('write-back: a write called while close() runs is refused, never held unwritten; a second close waits for the first', async (t) => {
  const chain = syntheticChain(37, 3, 10, 10);
  const dir = tempDir(t);
  let store = ChainStore.open(dir, { network: 'regtest' });
  await store.setWriteBack(1 << 30);
  await store.applyBlock(chain[0]!.apply);
  const meta = new Uint8Array([7]);
  const closing = store.close();
  // Called after close(): were it queued behind close's flush, it would land in write-back's
  // memory and resolve, with nothing left to write it.
  let late: string;
  try {
    late = await store.applyBlock(chain[1]!.apply).then(
      () => 'resolved',
      (e: unknown) => `rejected ${(e as StoreError).code}`,
    );
  } catch (e) {
    late = `threw ${(e as StoreError).code}`;
  }
  assert.match(late, /^(threw|rejected) closed$/);
  assert.throws(() => store.putMeta('x', meta), (e: unknown) => e instanceof StoreError && e.code === 'closed');
  const again = store.close();
  await Promise.all([closing, again]);
  await store.close();
  store = ChainStore.open(dir, { network: 'regtest' });
  assert.equal(toHex(store.utxoDigest()), chain[0]!.digest, 'the block before close() is written, the one after is not');
  await store.close();

  // Writes called before close() and not awaited are written, with write-back on or off.
  for (const writeBack of [false, true]) {
    const d = tempDir(t);
    store = ChainStore.open(d, { network: 'regtest' });
    if (writeBack) await store.setWriteBack(1 << 30);
    const applied = store.applyBlock(chain[0]!.apply);
    const put = store.putMeta('x', meta);
    await Promise.all([store.close(), applied, put]);
    store = ChainStore.open(d, { network: 'regtest' });
    assert.equal(toHex(store.utxoDigest()), chain[0]!.digest, `write-back ${writeBack}: the block called before close() is written`);
    await store.close();
  }
});

test('write-back: a refused block changes nothing held; a coinbase output over a held spend is written back', async (t) => {
  const chain = syntheticChain(32, 8, 30, 40);
  const store = ChainStore.open(tempDir(t), { network: 'regtest' });
  await store.setWriteBack(1 << 30);
  for (const b of chain.slice(0, 7)) await store.applyBlock(b.apply);
  const before = storeView(store, chain);
  const isInconsistent = (e: unknown) => e instanceof StoreError && e.code === 'inconsistent';
  const next = chain[7]!;
  await assert.rejects(store.applyBlock({ ...next.apply, spent: [...next.apply.spent, { txid: txid(999), vout: 3 }] }), isInconsistent);
  await assert.rejects(store.applyBlock(chain[6]!.apply), isInconsistent);
  assert.deepEqual(storeView(store, chain), before);
  await store.applyBlock(next.apply);
  assert.equal(toHex(store.utxoDigest()), next.digest);
  assert.equal(store.utxoCount(), next.coinCount);

  // BIP30's duplicate coinbases: a coinbase output may land on an outpoint whose coin was spent
  // while held. The coin must be written over, not forgotten as if it had never reached LMDB.
  await store.flush();
  const [victim] = next.apply.created;
  const extra = syntheticChain(32, 10, 30, 40)[8]!;
  const spendIt = { ...extra.apply, spent: [{ txid: victim!.txid, vout: victim!.vout }], created: [], undo: [victim!.coin] };
  await store.applyBlock(spendIt);
  assert.equal(store.getCoin(victim!.txid, victim!.vout), undefined);
  const again = syntheticChain(32, 10, 30, 40)[9]!;
  const reborn = { ...victim!, coin: { ...victim!.coin, coinbase: true, height: 9 } };
  await store.applyBlock({ ...again.apply, spent: [], created: [reborn], undo: [] });
  await store.flush();
  assert.deepEqual(plain(store.getCoin(victim!.txid, victim!.vout)), plain(reborn.coin));
  assert.equal(store.utxoCount(), next.coinCount);
  // And over a coin LMDB holds: created again (overwriting it) and spent while held, the coin
  // must be deleted from LMDB, not dropped as if it had been new.
  const later = syntheticChain(32, 12, 30, 40);
  const twice = { ...reborn, coin: { ...reborn.coin, height: 10 } };
  await store.applyBlock({ ...later[10]!.apply, spent: [], created: [twice], undo: [] });
  assert.equal(store.utxoCount(), next.coinCount);
  await store.applyBlock({ ...later[11]!.apply, spent: [{ txid: victim!.txid, vout: victim!.vout }], created: [], undo: [twice.coin] });
  await store.flush();
  assert.equal(store.getCoin(victim!.txid, victim!.vout), undefined);
  assert.equal(store.utxoCount(), next.coinCount - 1);
  await store.close();
});

test('write-back: an index entry put while a block is held replaces the held one, in reads and in the flush', async (t) => {
  const chain = syntheticChain(46, 4, 10, 10);
  const dir = tempDir(t);
  let store = ChainStore.open(dir, { network: 'regtest' });
  await store.setWriteBack(1 << 30);
  for (const b of chain) await store.applyBlock(b.apply);
  const entry = chain[2]!.apply.entry;
  const failed = BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS | BLOCK_HAVE_UNDO | BLOCK_FAILED_CHILD;
  await store.putIndex({ ...entry, status: failed });
  assert.equal(store.getIndex(entry.hash)!.status, failed);
  assert.equal([...store.indexEntries()].find((e) => toHex(e.hash) === toHex(entry.hash))!.status, failed);
  await store.flush();
  assert.equal(store.getIndex(entry.hash)!.status, failed);
  await store.close();
  store = ChainStore.open(dir, { network: 'regtest' });
  assert.equal(store.getIndex(entry.hash)!.status, failed);
  assert.equal(toHex(store.utxoDigest()), chain[3]!.digest);
  await store.close();
});

test("write-back's pending writes: a coin created and spent between flushes is never written; one spent twice is refused", () => {
  const key = (id: Uint8Array, vout: number): string => outpointKeyHex(id, vout);
  const ops = (p: PendingWrites) => p.coinOps().map((o) => [toHex(o.key), o.value === undefined ? 'delete' : toHex(o.value)]);
  const p = new PendingWrites();
  const rec = encodeCoin(coin(5000, 5, 5));
  // A new coin (not in LMDB: FRESH), spent before the flush: the flush neither puts nor deletes it.
  p.add(txid(1), 0, rec, false);
  assert.equal(p.countDelta, 1);
  p.spend(txid(1), 0);
  assert.equal(p.coin(txid(1), 0), undefined);
  // A coin LMDB holds, spent: a delete.
  p.spend(txid(2), 0);
  // A coinbase output over a coin LMDB holds (BIP30's duplicates), spent again: still a delete.
  p.add(txid(3), 1, rec, true);
  assert.equal(p.countDelta, -1);
  p.spend(txid(3), 1);
  // A coin added over one spent since the flush: a put.
  p.spend(txid(4), 2);
  p.add(txid(4), 2, rec, true);
  assert.deepEqual(ops(p), [
    [key(txid(2), 0), 'delete'],
    [key(txid(3), 1), 'delete'],
    [key(txid(4), 2), toHex(rec)],
  ]);
  assert.equal(p.countDelta, -2);
  // Spending a coin twice is a caller's bug that would lose count of the set: refused.
  assert.throws(() => p.spend(txid(2), 0), /spent twice/);
  assert.throws(() => p.spend(txid(3), 1), /spent twice/);
  assert.equal(p.countDelta, -2);
  p.reset();
  assert.deepEqual([ops(p), p.countDelta, p.empty], [[], 0, true]);
});

test("write-back's cost: the tables' bytes, the incoming block's entries, and the page copies of the flush", () => {
  const shape: TreeShape = { pageSize: 4096, coinLeaves: 1000, coinBranches: 10, recordLeaves: 100, recordBranches: 1 };
  const none: TreeShape = { pageSize: 4096, coinLeaves: 0, coinBranches: 0, recordLeaves: 0, recordBranches: 0 };
  // New entries fill new pages about half full: twice their bytes. Each tree's pages count, branches too.
  assert.equal(flushPageBytes(0, 0, 8192, none), 2 * 8192);
  assert.equal(flushPageBytes(3, 0, 0, { ...none, coinLeaves: 1 }), 4096);
  assert.equal(flushPageBytes(3, 0, 0, { ...none, coinBranches: 1 }), 4096);
  assert.equal(flushPageBytes(0, 3, 0, { ...none, recordLeaves: 1 }), 4096);
  assert.equal(flushPageBytes(0, 3, 0, { ...none, recordBranches: 1 }), 4096);
  assert.equal(flushPageBytes(3, 3, 0, none), 0);

  const p = new PendingWrites();
  p.add(txid(1), 0, new Uint8Array(30), false);
  p.spend(txid(2), 0);
  p.setRecord(INDEX_RECORD, hashOf(1), new Uint8Array(120));
  // Key and record, and ENTRY_TABLE_BYTES an entry; a deletion is a key only, and puts nothing.
  const coins = 36 + 30 + ENTRY_TABLE_BYTES + 36 + ENTRY_TABLE_BYTES;
  const records = 36 + 120 + ENTRY_TABLE_BYTES;
  assert.equal(p.bytes, coins + records);
  const puts = 36 + 30 + 36 + 120;
  assert.equal(p.flushCost(shape), coins + records + flushPageBytes(2, 1, puts, shape));
  const next = { coins: 5, records: 3, putBytes: 400 };
  assert.equal(p.flushCost(shape, next), coins + records + 400 + ENTRY_TABLE_BYTES * 8 + flushPageBytes(7, 4, puts + 400, shape));
});

test('write-back: a block that would take what is held past the limit is flushed before it, not after', async (t) => {
  const chain = syntheticChain(45, 40, 30, 40);
  const store = ChainStore.open(tempDir(t), { network: 'regtest' });
  const limit = 256 * 1024;
  await store.setWriteBack(limit);
  const inner = store as unknown as { pending: PendingWrites; shape: TreeShape };
  let flushes = 0;
  let most = 0;
  for (const [h, b] of chain.entries()) {
    const before = store.unflushedBlocks;
    await store.applyBlock(b.apply);
    if (store.unflushedBlocks <= before) flushes++;
    most = Math.max(most, store.unflushedBlocks);
    // The estimate made before the block leaves out a few bytes of it (its spends' keys, its three
    // records): a slack of 4 KiB, far less than a block of 70 coin changes costs.
    const cost = inner.pending.flushCost(inner.shape);
    assert.ok(store.unflushedBlocks === 1 || cost < limit + 4096, `block ${h}: ${store.unflushedBlocks} blocks held cost ${cost} bytes, limit ${limit}`);
  }
  assert.ok(flushes >= 3 && most >= 2, `${flushes} flushes, at most ${most} blocks held`);
  await store.close();
});

test('touchedPages: the expected distinct pages under random keys, against a count of thrown keys', () => {
  assert.equal(touchedPages(0, 100), 0);
  assert.equal(touchedPages(10, 0), 0);
  assert.equal(touchedPages(5, 1), 1);
  let x = 0x9e3779b9;
  const next = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296);
  for (const [keys, pages] of [[1, 50], [100, 10_000], [2_000, 2_000], [9_000, 3_000], [40_000, 900]] as const) {
    const hit = new Uint8Array(pages);
    let distinct = 0;
    for (let i = 0; i < keys; i++) {
      const p = Math.floor(next() * pages);
      if (hit[p] === 0) distinct++;
      hit[p] = 1;
    }
    const est = touchedPages(keys, pages);
    assert.ok(est <= Math.min(keys, pages) + 1e-9, `${keys} keys, ${pages} pages: ${est} is more than there can be`);
    assert.ok(Math.abs(est - distinct) <= Math.max(2, 0.03 * distinct), `${keys} keys, ${pages} pages: ${est.toFixed(1)} expected, ${distinct} counted`);
  }
  // More changes or bigger trees never cost less.
  const shape = { pageSize: 4096, coinLeaves: 5_000, coinBranches: 60, recordLeaves: 40, recordBranches: 1 };
  assert.ok(flushPageBytes(2_000, 3, 1e5, shape) > flushPageBytes(1_000, 3, 1e5, shape));
  assert.ok(flushPageBytes(1_000, 3, 1e5, { ...shape, coinLeaves: 50_000 }) > flushPageBytes(1_000, 3, 1e5, shape));
});

test("write-back: the limit counts LMDB's copies of the pages a flush rewrites, so a big tree flushes sooner", async (t) => {
  // 30,000 coins first, then blocks of 20 spends and 20 creates: each holds ~4 KB in write-back's
  // tables but changes ~40 pages (160 KB) of the ~550 leaves, which LMDB copies to commit. Write-back
  // is on from the empty store, so the first block is judged by an empty tree and the rest by
  // the tree its flush leaves.
  const chain = syntheticChain(43, 41, 20, 20, 30_000);
  const direct = ChainStore.open(tempDir(t), { network: 'regtest' });
  const held = ChainStore.open(tempDir(t), { network: 'regtest' });
  await held.setWriteBack(1 << 20);
  await direct.applyBlock(chain[0]!.apply);
  await held.applyBlock(chain[0]!.apply);
  assert.equal(held.unflushedBlocks, 1);
  let most = 0;
  let flushes = 0;
  for (const b of chain.slice(1)) {
    const before = held.unflushedBlocks;
    await direct.applyBlock(b.apply);
    await held.applyBlock(b.apply);
    if (held.unflushedBlocks <= before) flushes++;
    most = Math.max(most, held.unflushedBlocks);
  }
  // The tables alone (~160 KB for all 40 blocks) would never reach 1 MiB after the 30,000 coins'
  // flush; with the page copies (fewer new ones a block as the blocks' changes share pages) it
  // takes 5 to 8 blocks.
  assert.ok(flushes >= 4 && most <= 10, `${flushes} flushes, at most ${most} blocks held`);
  assert.deepEqual(storeView(held, chain), storeView(direct, chain));
  await Promise.all([held.close(), direct.close()]);
});

test("write-back: statistics that are not page counts are refused, and write-back stays off", async (t) => {
  const chain = syntheticChain(44, 2, 5, 5);
  const store = ChainStore.open(tempDir(t), { network: 'regtest' });
  // As if lmdb-js's getStats() lost a field: every estimate would be NaN, and NaN never reaches a limit.
  const coins = (store as unknown as { coins: { getStats: () => unknown } }).coins;
  const real = coins.getStats.bind(coins);
  coins.getStats = () => ({ ...(real() as object), treeLeafPageCount: undefined });
  await assert.rejects(store.setWriteBack(1 << 20), (e: unknown) => e instanceof StoreError && e.code === 'corrupt');
  await store.applyBlock(chain[0]!.apply);
  assert.equal(store.unflushedBlocks, 0, 'the block was committed: write-back is off');
  coins.getStats = real;
  await store.close();
});

// ---- crash atomicity ---------------------------------------------------------------------------

const CHILD = new URL('./helpers/store-crash-child.js', import.meta.url);
const KILLS = 16;

for (const writeBack of [0, 48 * 1024]) {
  const mode = writeBack === 0 ? 'a commit per block' : `write-back flushing every ~${writeBack / 1024} KiB`;
  test(`crash atomicity (${mode}): ${KILLS} SIGKILLs mid-commit leave the old tip or the new one with its exact coin set`, async (t) => {
    const dir = tempDir(t);
    const chain = syntheticChain(CRASH_CHAIN.seed, CRASH_CHAIN.blocks, CRASH_CHAIN.spends, CRASH_CHAIN.creates);
    const heights: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const args = [dir, String(CRASH_CHAIN.seed), String(CRASH_CHAIN.blocks), ...(writeBack === 0 ? [] : [String(writeBack)])];
      const child = fork(CHILD, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
      // Let it commit a few blocks, then kill it at a point that varies from run to run.
      await new Promise<void>((resolve, reject) => {
        let seen = 0;
        child.on('message', (m: { ready?: boolean; commits?: number }) => {
          if (m.commits !== undefined && ++seen === 1 + (i % 3)) {
            setTimeout(() => resolve(), (i * 7) % 23);
          }
        });
        child.on('exit', () => reject(new Error('crash child exited before it was killed')));
      });
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');

      const store = ChainStore.open(dir, { network: 'regtest' });
      const tip = store.getTip();
      assert.notEqual(tip, undefined, `kill ${i}: no tip`);
      const want = chain[tip!.height]!;
      assert.equal(toHex(tip!.hash), toHex(want.apply.entry.hash), `kill ${i}: tip hash at ${tip!.height}`);
      assert.equal(toHex(store.utxoDigest()), want.digest, `kill ${i}: coin set at tip ${tip!.height}`);
      assert.equal(store.utxoCount(), want.coinCount);
      assert.equal(store.getIndex(tip!.hash)!.status & BLOCK_HAVE_UNDO, BLOCK_HAVE_UNDO);
      assert.equal(store.getUndo(tip!.hash)!.length, want.apply.undo.length);
      heights.push(tip!.height);
      await store.close();
    }
    t.diagnostic(`tips after the kills: ${heights.join(",")}`);
    // The kills landed at different points of the chain.
    assert.ok(new Set(heights).size > 3, `tips after the kills: ${heights.join(',')}`);
  });
}
