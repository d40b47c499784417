// A block's coin writes, encoded and sorted before its write batch opens, and the argument checks
// and error unwrapping the store's write paths share.

import type { OutPoint, OutPointCoin } from './chain-store.js';
import { encodeCoins } from './records.js';
import { hashToHex } from '../primitives/bytes.js';

export function checkHash(hash: Uint8Array, what: string): void {
  if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new TypeError(`${what} must be a 32-byte Uint8Array`);
}

export function checkVout(vout: number): void {
  if (vout >>> 0 !== vout) throw new RangeError(`vout ${vout} is not a uint32`);
}

/** One coin write of a block: a delete when `value` is undefined. `hi` is the key's first 6 bytes, for sorting. */
export interface CoinOp {
  key: Uint8Array;
  value: Uint8Array | undefined;
  hi: number;
}

/** A key's first 6 bytes (from `at`) as a number: most comparisons end there. */
export function keyHi(key: Uint8Array, at = 0): number {
  return ((((key[at]! * 256 + key[at + 1]!) * 256 + key[at + 2]!) * 256 + key[at + 3]!) * 256 + key[at + 4]!) * 256 + key[at + 5]!;
}

export function compareOps(a: CoinOp, b: CoinOp): number {
  return a.hi - b.hi || Buffer.compare(a.key, b.key);
}

/**
 * The coin writes of a block, encoded before its batch is queued (so queuing cannot throw half-way)
 * and sorted by key: LMDB then walks its B-tree in one direction instead of jumping between pages
 * (measured with 5k deletes + 5k puts on 300k random keys: 92 ms sorted vs 129 ms unsorted durable,
 * 46 vs 53 ms noSync: less than DESIGN.md's 8x, since with random txids nearly every op of a block
 * lands on a leaf page of its own either way).
 * An outpoint listed twice is the caller's bug and throws here, before anything is written.
 */
export function prepareCoinOps(deletes: readonly OutPoint[], puts: readonly OutPointCoin[], what: string): CoinOp[] {
  const n = deletes.length + puts.length;
  const keys = new Uint8Array(36 * n);
  const view = new DataView(keys.buffer);
  const ops = new Array<CoinOp>(n);
  const records = encodeCoins(puts.map((p) => p.coin));
  for (let i = 0; i < n; i++) {
    const item = i < deletes.length ? deletes[i]! : puts[i - deletes.length]!;
    checkHash(item.txid, 'txid');
    checkVout(item.vout);
    const key = keys.subarray(36 * i, 36 * i + 36);
    key.set(item.txid);
    view.setUint32(36 * i + 32, item.vout, true);
    ops[i] = { key, value: i < deletes.length ? undefined : records[i - deletes.length]!, hi: keyHi(key) };
  }
  ops.sort(compareOps);
  for (let i = 1; i < n; i++) {
    if (compareOps(ops[i - 1]!, ops[i]!) === 0) throw new Error(`${what}: outpoint ${describeKey(ops[i]!.key)} is listed twice`);
  }
  return ops;
}

/**
 * The coin records of a block's created coins, in order, for write-back (which needs no sorted
 * batch); every outpoint, spent ones included, is checked as prepareCoinOps checks it.
 */
export function encodeCreated(puts: readonly OutPointCoin[], deletes: readonly OutPoint[]): Uint8Array[] {
  for (const d of deletes) {
    checkHash(d.txid, 'txid');
    checkVout(d.vout);
  }
  for (const p of puts) {
    checkHash(p.txid, 'txid');
    checkVout(p.vout);
  }
  return encodeCoins(puts.map((p) => p.coin));
}

function describeKey(key: Uint8Array): string {
  return `${hashToHex(key.subarray(0, 32))}:${new DataView(key.buffer, key.byteOffset + 32, 4).getUint32(0, true)}`;
}

/** The real LMDB error behind lmdb-js's "Commit failed (see commitError for details)". */
export async function commitCause(err: unknown): Promise<unknown> {
  const ce = (err as { commitError?: PromiseLike<unknown> } | null)?.commitError;
  if (ce === undefined || typeof ce.then !== 'function') return err;
  // lmdb-js rejects commitError in the same callback that rejects the write: it has settled by now.
  let timer: NodeJS.Timeout | undefined;
  const real = await Promise.race([
    Promise.resolve(ce).then(() => err, (e: unknown) => e),
    new Promise<unknown>((resolve) => {
      timer = setTimeout(() => resolve(err), 1000);
    }),
  ]);
  clearTimeout(timer);
  return real;
}
