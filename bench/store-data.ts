// Synthetic store contents shared by bench/store.ts and bench/write-back-child.ts: deterministic
// coins shaped like today's set, their txids, chained index entries, and the live outpoints.

import { createHash } from 'node:crypto';
import type { Coin } from '../src/consensus/coins.js';
import type { BlockIndexEntry } from '../src/store/index.js';

/** xorshift32 picks, shared with the UTXO suite. */
export { rng } from './utxo-shared.js';

/**
 * The live outpoints as 36-byte keys in one buffer (swap-remove to spend): the engine never holds
 * the UTXO set in JS objects, and half a million of them would turn every commit into a GC test.
 */
export class LiveSet {
  keys: Uint8Array;
  count = 0;
  constructor(capacity: number) {
    this.keys = new Uint8Array(36 * capacity);
  }
  add(txid: Uint8Array, vout: number): void {
    if (36 * (this.count + 1) > this.keys.length) {
      const next = new Uint8Array(this.keys.length * 2);
      next.set(this.keys);
      this.keys = next;
    }
    this.keys.set(txid, 36 * this.count);
    new DataView(this.keys.buffer).setUint32(36 * this.count + 32, vout, true);
    this.count++;
  }
  txid(i: number): Uint8Array {
    return this.keys.slice(36 * i, 36 * i + 32);
  }
  vout(i: number): number {
    return new DataView(this.keys.buffer).getUint32(36 * i + 32, true);
  }
  /** Remove entry i (the last one takes its place). */
  take(i: number): { txid: Uint8Array; vout: number } {
    const out = { txid: this.txid(i), vout: this.vout(i) };
    this.count--;
    this.keys.copyWithin(36 * i, 36 * this.count, 36 * this.count + 36);
    return out;
  }
}

/** A coin shaped like today's set: mostly P2WPKH/P2TR/P2PKH scripts, amounts of every size. */
export function makeCoin(r: () => number, height: number): Coin {
  const len = [22, 34, 25, 23][Math.floor(r() * 4)]!;
  const script = new Uint8Array(len);
  for (let i = 0; i < len; i++) script[i] = Math.floor(r() * 256);
  return { value: Math.floor(r() * 2 ** 34), scriptPubKey: script, height, coinbase: r() < 0.01 };
}

export function txidOf(n: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`bench-tx-${n}`).digest());
}

export function fakeEntry(height: number, prev: Uint8Array): BlockIndexEntry {
  const header = new Uint8Array(80);
  header.set(prev, 4);
  new DataView(header.buffer).setUint32(68, height, true);
  const hash = new Uint8Array(createHash('sha256').update(createHash('sha256').update(header).digest()).digest());
  return { hash, header, height, chainWork: BigInt(height + 1) << 32n, status: 0 };
}
