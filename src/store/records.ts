// Byte layouts of the store's records: coins, undo data, block-index entries and the tip.
// Every encoder is canonical (one byte string per value), so equal UTXO sets hash equal.
//
// coin (coins DB, key = outpointKey(txid, vout), 36 bytes):
//     VARINT(height*2 + coinbase) || VARINT(CompressAmount(value)) || scriptPubKey (the rest)
//   VARINT is Core's serialize.h WriteVarInt (MSB-first base-128, one subtracted per continuation
//   byte, so every number has exactly one encoding); CompressAmount is Core's compressor.cpp (an
//   amount of m·10^e sats becomes about 9m+e: 1 byte for 0.001 BTC, 5 for MAX_MONEY). The script
//   needs no length: it runs to the end of the record. A P2WPKH coin at height 800,000 takes
//   3 + 1..5 + 22 bytes. Core's script compression (P2PKH 25→21, P2SH 23→21, P2PK 35/67→33) is left
//   out: it needs a type byte on every other script, and P2PK needs a point decompression (a
//   square root mod p) on each read of the hot getCoin path.
// undo (a record in blocks/rev?????.dat; the undo DB maps the block hash to its position): the
//   coins the block spent, in input order:
//     VARINT(count) || count × (VARINT(height*2 + coinbase) || VARINT(CompressAmount(value))
//                               || VARINT(script length) || script)
// block index entry (index DB, key = block hash, 120 bytes):
//     header (80) || height u32 LE || status u32 LE || chain work (32, big-endian)
// tip (meta DB, key "tip", 36 bytes): block hash (32, internal order) || height u32 LE

import { decompressAmount } from '../primitives/compress.js';
import type { Coin } from '../consensus/coins.js';
import { StoreError } from './store-error.js';
import type { ByteSlab } from '../primitives/slab.js';

/**
 * Bumped whenever a record layout above changes; a store of another version refuses to open.
 * 2: raw blocks and undo records moved out of LMDB into flat files (flat-files.ts).
 */
export const SCHEMA_VERSION = 2;

/** Status bits of a block-index entry (Core's BlockStatus, reduced to what vigil tracks). */
export const BLOCK_HAVE_DATA = 1;
export const BLOCK_HAVE_UNDO = 2;
/** The block was connected once: its scripts and every other rule passed. */
export const BLOCK_VALID_SCRIPTS = 4;
export const BLOCK_FAILED_VALID = 8;
export const BLOCK_FAILED_CHILD = 16;

export interface BlockIndexEntry {
  /** Block hash, internal byte order. */
  hash: Uint8Array;
  /** The 80-byte header. */
  header: Uint8Array;
  height: number;
  /** Cumulative proof of work up to and including this block; below 2^256. */
  chainWork: bigint;
  status: number;
}

export interface TipRecord {
  hash: Uint8Array;
  height: number;
}

export const INDEX_RECORD_LENGTH = 120;
export const TIP_RECORD_LENGTH = 36;

const TWO_POW_256 = 1n << 256n;
/** Largest n for which n*128 + 127 is still exact in a double. */
const VARINT_SAFE_LIMIT = Math.floor((Number.MAX_SAFE_INTEGER - 127) / 128);

// ---- VARINT and CompressAmount -------------------------------------------------------------

/** Bytes Core's WriteVarInt takes for n (a safe non-negative integer). */
export function varIntLength(n: number): number {
  let len = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128) - 1;
    len++;
  }
  return len;
}

/** Core's WriteVarInt into `out` at `pos`; returns the position after it. */
export function writeVarInt(out: Uint8Array, pos: number, n: number): number {
  const len = varIntLength(n);
  let i = pos + len - 1;
  out[i] = n % 128;
  while (n > 0x7f) {
    n = Math.floor(n / 128) - 1;
    out[--i] = (n % 128) | 0x80;
  }
  return pos + len;
}

function bigVarIntLength(n: bigint): number {
  let len = 1;
  while (n > 0x7fn) {
    n = (n >> 7n) - 1n;
    len++;
  }
  return len;
}

function writeBigVarInt(out: Uint8Array, pos: number, n: bigint): number {
  const len = bigVarIntLength(n);
  let i = pos + len - 1;
  out[i] = Number(n & 0x7fn);
  while (n > 0x7fn) {
    n = (n >> 7n) - 1n;
    out[--i] = Number(n & 0x7fn) | 0x80;
  }
  return pos + len;
}

/**
 * Core's CompressAmount. The result of an amount near MAX_MONEY that is not a multiple of 10
 * (about 9·value) passes 2^53, so that rare case is computed with BigInt.
 */
export function compressAmount(value: number): number | bigint {
  if (value === 0) return 0;
  let n = value;
  let e = 0;
  while (n % 10 === 0 && e < 9) {
    n /= 10;
    e++;
  }
  if (e === 9) return 1 + (n - 1) * 10 + 9;
  const d = n % 10;
  n = Math.floor(n / 10);
  const mid = n * 9 + d - 1;
  if (mid <= (Number.MAX_SAFE_INTEGER - 10) / 10) return 1 + mid * 10 + e;
  return 1n + BigInt(mid) * 10n + BigInt(e);
}

function decompressBigAmount(x: bigint): bigint {
  x--;
  const e = x % 10n;
  x /= 10n;
  let n: bigint;
  if (e < 9n) {
    const d = (x % 9n) + 1n;
    x /= 9n;
    n = x * 10n + d;
  } else {
    n = x + 1n;
  }
  return n * 10n ** e;
}

function amountLength(c: number | bigint): number {
  return typeof c === 'number' ? varIntLength(c) : bigVarIntLength(c);
}

function writeAmount(out: Uint8Array, pos: number, c: number | bigint): number {
  return typeof c === 'number' ? writeVarInt(out, pos, c) : writeBigVarInt(out, pos, c);
}

// ---- decoding cursor -----------------------------------------------------------------------

/**
 * A fresh plain Uint8Array holding bytes [start, end) of `view`. Never `view.slice()`: records come
 * from LMDB as Buffers, and Buffer#slice is a view (of the shared read buffer), not a copy.
 */
export function copyBytes(view: Uint8Array, start = 0, end = view.length): Uint8Array {
  return new Uint8Array(view.subarray(start, end));
}

/** Read position of the decoder below: module state, so the hot getCoin path allocates nothing for it. */
let at = 0;

function corrupt(what: string): StoreError {
  return new StoreError('corrupt', `corrupt ${what} record`);
}

function readVarInt(b: Uint8Array, what: string): number {
  let n = 0;
  for (;;) {
    if (at >= b.length) throw corrupt(what);
    const c = b[at++]!;
    if (n > VARINT_SAFE_LIMIT) throw corrupt(what);
    n = n * 128 + (c & 0x7f);
    if ((c & 0x80) === 0) return n;
    n++;
  }
}

/** A VARINT holding a compressed amount, decompressed; leaves the number path only past 2^53. */
function readAmount(b: Uint8Array, what: string): number {
  let n = 0;
  for (;;) {
    if (at >= b.length) throw corrupt(what);
    const c = b[at++]!;
    if (n > VARINT_SAFE_LIMIT) return readBigAmount(b, BigInt(n), c, what);
    n = n * 128 + (c & 0x7f);
    if ((c & 0x80) === 0) {
      const value = decompressAmount(n);
      if (!Number.isSafeInteger(value)) throw corrupt(what);
      return value;
    }
    n++;
  }
}

function readBigAmount(b: Uint8Array, n: bigint, c: number, what: string): number {
  for (;;) {
    n = n * 128n + BigInt(c & 0x7f);
    if ((c & 0x80) === 0) break;
    n++;
    if (at >= b.length || n > 1n << 64n) throw corrupt(what);
    c = b[at++]!;
  }
  const value = decompressBigAmount(n);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(what);
  return Number(value);
}

// ---- coins -----------------------------------------------------------------------------------

function checkCoin(coin: Coin): void {
  if (!Number.isSafeInteger(coin.value) || coin.value < 0) throw new RangeError(`coin value ${coin.value} is not a non-negative safe integer`);
  if (!Number.isInteger(coin.height) || coin.height < 0 || coin.height > 0x7fffffff) throw new RangeError(`coin height ${coin.height} is out of range`);
}

/** The coins-DB record of `coin` (see the layout at the top of this file). */
export function encodeCoin(coin: Coin): Uint8Array {
  return encodeCoins([coin])[0]!;
}

/**
 * Each coin checked, with its height-and-coinbase code and compressed amount, and the bytes both
 * take (the first pass of encodeCoins and encodeUndo, which size their buffer before writing).
 */
function coinHeads(coins: readonly Coin[]): { codes: number[]; amounts: Array<number | bigint>; headBytes: number } {
  const codes = new Array<number>(coins.length);
  const amounts = new Array<number | bigint>(coins.length);
  let headBytes = 0;
  for (let i = 0; i < coins.length; i++) {
    const coin = coins[i]!;
    checkCoin(coin);
    const code = coin.height * 2 + (coin.coinbase ? 1 : 0);
    const amount = compressAmount(coin.value);
    codes[i] = code;
    amounts[i] = amount;
    headBytes += varIntLength(code) + amountLength(amount);
  }
  return { codes, amounts, headBytes };
}

/**
 * The records of several coins, each a view of ONE buffer (a block's created coins: one
 * ArrayBuffer a block instead of one a coin).
 */
export function encodeCoins(coins: readonly Coin[]): Uint8Array[] {
  const { codes, amounts, headBytes } = coinHeads(coins);
  let size = headBytes;
  for (const coin of coins) size += coin.scriptPubKey.length;
  const buf = new Uint8Array(size);
  const out = new Array<Uint8Array>(coins.length);
  let pos = 0;
  for (let i = 0; i < coins.length; i++) {
    const start = pos;
    const script = coins[i]!.scriptPubKey;
    pos = writeVarInt(buf, pos, codes[i]!);
    pos = writeAmount(buf, pos, amounts[i]!);
    buf.set(script, pos);
    pos += script.length;
    out[i] = buf.subarray(start, pos);
  }
  return out;
}

/**
 * Decode a coins-DB record. `record` may be LMDB's shared read buffer: the script is copied (into
 * `slab` when given), so the returned coin stays intact after the next read.
 */
export function decodeCoin(record: Uint8Array, slab?: ByteSlab): Coin {
  at = 0;
  const code = readVarInt(record, 'coin');
  const value = readAmount(record, 'coin');
  const scriptPubKey = slab === undefined ? copyBytes(record, at) : slab.copy(record.subarray(at));
  return { height: Math.floor(code / 2), coinbase: code % 2 === 1, value, scriptPubKey };
}

// ---- undo ------------------------------------------------------------------------------------

/**
 * The undo record of a block: the coins its inputs spent, in input order. With `scratch`, the
 * record is written into it when it fits and the view returned is valid until its next use (the
 * store appends the record to a rev file at once, so each block need not leave a buffer behind).
 */
export function encodeUndo(coins: readonly Coin[], scratch?: Uint8Array): Uint8Array {
  const { codes, amounts, headBytes } = coinHeads(coins);
  let size = varIntLength(coins.length) + headBytes;
  for (const coin of coins) size += varIntLength(coin.scriptPubKey.length) + coin.scriptPubKey.length;
  const out = scratch !== undefined && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  let pos = writeVarInt(out, 0, coins.length);
  for (let i = 0; i < coins.length; i++) {
    const script = coins[i]!.scriptPubKey;
    pos = writeVarInt(out, pos, codes[i]!);
    pos = writeAmount(out, pos, amounts[i]!);
    pos = writeVarInt(out, pos, script.length);
    out.set(script, pos);
    pos += script.length;
  }
  return out;
}

export function decodeUndo(record: Uint8Array): Coin[] {
  at = 0;
  const count = readVarInt(record, 'undo');
  // Each coin takes at least 3 bytes: a count past that is damage, not a reason to allocate.
  if (count > record.length) throw corrupt('undo');
  const coins = new Array<Coin>(count);
  for (let i = 0; i < count; i++) {
    const code = readVarInt(record, 'undo');
    const value = readAmount(record, 'undo');
    const len = readVarInt(record, 'undo');
    if (at + len > record.length) throw corrupt('undo');
    coins[i] = { height: Math.floor(code / 2), coinbase: code % 2 === 1, value, scriptPubKey: copyBytes(record, at, at + len) };
    at += len;
  }
  if (at !== record.length) throw corrupt('undo');
  return coins;
}

// ---- block index -----------------------------------------------------------------------------

export function checkIndexEntry(entry: BlockIndexEntry): void {
  if (entry.hash.length !== 32) throw new TypeError(`block hash must be 32 bytes, got ${entry.hash.length}`);
  if (entry.header.length !== 80) throw new TypeError(`block header must be 80 bytes, got ${entry.header.length}`);
  if (!Number.isInteger(entry.height) || entry.height < 0 || entry.height > 0xffffffff) throw new RangeError(`block height ${entry.height} is out of range`);
  if (!Number.isInteger(entry.status) || entry.status < 0 || entry.status > 0xffffffff) throw new RangeError(`block status ${entry.status} is out of range`);
  if (typeof entry.chainWork !== 'bigint' || entry.chainWork < 0n || entry.chainWork >= TWO_POW_256) throw new RangeError('chain work must be a bigint in [0, 2^256)');
}

export function encodeIndexEntry(entry: BlockIndexEntry): Uint8Array {
  checkIndexEntry(entry);
  const out = new Uint8Array(INDEX_RECORD_LENGTH);
  const view = new DataView(out.buffer);
  out.set(entry.header, 0);
  view.setUint32(80, entry.height, true);
  view.setUint32(84, entry.status, true);
  let work = entry.chainWork;
  for (let i = 119; i >= 88; i--) {
    out[i] = Number(work & 0xffn);
    work >>= 8n;
  }
  return out;
}

/** Decode an index record; `record` may be LMDB's shared buffer (everything is copied). */
export function decodeIndexEntry(hash: Uint8Array, record: Uint8Array): BlockIndexEntry {
  if (record.length !== INDEX_RECORD_LENGTH) throw corrupt('block index');
  const view = new DataView(record.buffer, record.byteOffset, INDEX_RECORD_LENGTH);
  let work = 0n;
  for (let i = 88; i < 120; i += 8) work = (work << 64n) | view.getBigUint64(i, false);
  return {
    hash: copyBytes(hash),
    header: copyBytes(record, 0, 80),
    height: view.getUint32(80, true),
    status: view.getUint32(84, true),
    chainWork: work,
  };
}

// ---- tip ---------------------------------------------------------------------------------------

export function encodeTip(tip: TipRecord): Uint8Array {
  if (tip.hash.length !== 32) throw new TypeError(`tip hash must be 32 bytes, got ${tip.hash.length}`);
  if (!Number.isInteger(tip.height) || tip.height < 0 || tip.height > 0xffffffff) throw new RangeError(`tip height ${tip.height} is out of range`);
  const out = new Uint8Array(TIP_RECORD_LENGTH);
  out.set(tip.hash, 0);
  new DataView(out.buffer).setUint32(32, tip.height, true);
  return out;
}

export function decodeTip(record: Uint8Array): TipRecord {
  if (record.length !== TIP_RECORD_LENGTH) throw corrupt('tip');
  return { hash: copyBytes(record, 0, 32), height: new DataView(record.buffer, record.byteOffset, 36).getUint32(32, true) };
}
