// The store's write-back layer (Core's CCoinsViewCache with the block-index writes that
// FlushStateToDisk commits beside it): while it is on, connected blocks change memory only, and
// one LMDB transaction later writes everything they changed, so a crash leaves the store at the
// last flush, a whole tip. A coin created and spent between two flushes never reaches LMDB
// (Core's FRESH flag), and many blocks share one commit instead of paying one each.
//
// This module holds the pending state and its rules; ChainStore decides when to flush and
// reads through it (chain-store.ts).

import { hashToHex } from '../primitives/bytes.js';
import { OutpointMap } from '../primitives/outpoint-map.js';
import { compareOps, keyHi, type CoinOp } from './coin-ops.js';

/** A coin change waiting for the flush. */
interface PendingCoin {
  /** The 36-byte outpoint key (its first 32 bytes are the txid the map compares). */
  readonly key: Uint8Array;
  /** The coin record to write; undefined: delete the coin from LMDB. */
  value: Uint8Array | undefined;
  /** The coin is not in LMDB (created since the last flush): spending it just forgets it. */
  fresh: boolean;
}

/** A keyed record waiting for the flush (index entries, block and undo positions). */
interface PendingRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Rough bytes of the objects behind one pending entry (map slot, entry objects, the views of its
 * key and value, a string key for records); the bytes themselves are in the slabs.
 */
const ENTRY_OVERHEAD = 300;

/** Size of the slabs that keys and records are cut from. */
const SLAB_BYTES = 64 * 1024;

/** Map keys for byte strings: one latin1 character per byte (exact, unlike a TextDecoder). */
export function byteKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

export class PendingWrites {
  private readonly coins = new OutpointMap<PendingCoin>();
  readonly index = new Map<string, PendingRecord>();
  readonly blocks = new Map<string, PendingRecord>();
  readonly undo = new Map<string, PendingRecord>();
  tip: Uint8Array | undefined;
  flatFiles: Uint8Array | undefined;
  /** Coins added minus coins removed, relative to LMDB. */
  countDelta = 0;
  /**
   * Memory held, bytes: every slab in full (a slab is freed only by the flush: one live coin
   * keeps its slab, so counting live bytes alone undercounted 4.8-fold) plus the entries' objects.
   */
  bytes = 0;
  /** Blocks connected since the last flush. */
  blocksApplied = 0;
  /** Coin keys and records are cut from shared slabs: one ArrayBuffer each cost ~0.25 µs and ~150 bytes more. */
  private slab = new Uint8Array(0);
  private slabUsed = 0;

  /** `n` bytes cut from the current slab (a new one when it is full). */
  private cut(n: number): Uint8Array {
    if (this.slabUsed + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.slabUsed = 0;
      this.bytes += SLAB_BYTES;
    }
    const out = this.slab.subarray(this.slabUsed, this.slabUsed + n);
    this.slabUsed += n;
    return out;
  }

  /** Bytes copied into a slab (small ones; a large one keeps its own buffer). */
  private keep(value: Uint8Array): Uint8Array {
    if (value.length > SLAB_BYTES / 16) {
      this.bytes += value.length;
      return value;
    }
    const out = this.cut(value.length);
    out.set(value);
    return out;
  }

  private newKey(txid: Uint8Array, vout: number): Uint8Array {
    const key = this.cut(36);
    key.set(txid.length === 32 ? txid : txid.subarray(0, 32));
    key[32] = vout & 0xff;
    key[33] = (vout >>> 8) & 0xff;
    key[34] = (vout >>> 16) & 0xff;
    key[35] = vout >>> 24;
    return key;
  }

  get empty(): boolean {
    return this.coins.size === 0 && this.index.size === 0 && this.blocks.size === 0 && this.undo.size === 0 && this.tip === undefined && this.flatFiles === undefined;
  }

  /**
   * The pending state of a coin: a record (created since the flush), null (spent since the
   * flush), or undefined when LMDB has the answer.
   */
  coin(txid: Uint8Array, vout: number): Uint8Array | null | undefined {
    const p = this.coins.get(txid, vout);
    return p === undefined ? undefined : (p.value ?? null);
  }

  /** Spend a coin that exists (the caller checked, with coin() and then LMDB). */
  spend(txid: Uint8Array, vout: number): void {
    const p = this.coins.get(txid, vout);
    if (p === undefined) {
      // Keyed by its own copy of the outpoint: the caller's txid may view a whole block.
      const key = this.newKey(txid, vout);
      this.coins.set(key, vout, { key, value: undefined, fresh: false });
      this.bytes += ENTRY_OVERHEAD;
    } else if (p.value === undefined) {
      throw new Error(`write-back: coin ${hashToHex(txid)}:${vout} is spent twice`);
    } else if (p.fresh) {
      this.coins.take(txid, vout);
      this.bytes -= ENTRY_OVERHEAD;
    } else {
      p.value = undefined;
    }
    this.countDelta--;
  }

  /**
   * Add a coin. `mayExist` is Core's possible_overwrite (coinbase outputs: BIP30's two duplicate
   * coinbases overwrote their predecessors); `inStore` is then asked whether LMDB holds the key.
   * Any other new coin cannot be in the set already (its txid commits to the coins it spends).
   */
  add(txid: Uint8Array, vout: number, value: Uint8Array, mayExist: boolean, inStore: (txid: Uint8Array, vout: number) => boolean): void {
    const p = this.coins.get(txid, vout);
    if (p !== undefined) {
      if (p.value === undefined) this.countDelta++;
      p.value = this.keep(value);
      return;
    }
    const existed = mayExist && inStore(txid, vout);
    const key = this.newKey(txid, vout);
    this.coins.set(key, vout, { key, value: this.keep(value), fresh: !existed });
    this.bytes += ENTRY_OVERHEAD;
    if (!existed) this.countDelta++;
  }

  /** Set a record (both copied into a slab). */
  setRecord(map: Map<string, PendingRecord>, key: Uint8Array, value: Uint8Array): void {
    const k = byteKey(key);
    const old = map.get(k);
    if (old === undefined) this.bytes += ENTRY_OVERHEAD;
    map.set(k, { key: old?.key ?? this.keep(key), value: this.keep(value) });
  }

  /** The coin writes in key order (LMDB then walks its B-tree one way). */
  coinOps(): CoinOp[] {
    const ops: CoinOp[] = [];
    for (const p of this.coins.values()) ops.push({ key: p.key, value: p.value, hi: keyHi(p.key) });
    return ops.sort(compareOps);
  }
}
