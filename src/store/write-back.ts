// The store's write-back layer (Core's CCoinsViewCache with the block-index writes that
// FlushStateToDisk commits beside it): while it is on, connected blocks change memory only, and
// one LMDB transaction later writes everything they changed, so a crash leaves the store at the
// last flush, a whole tip. A coin created and spent between two flushes never reaches LMDB
// (Core's FRESH flag), and many blocks share one commit instead of paying one each.
//
// This module holds the pending state and its rules; ChainStore decides when to flush and
// reads through it (chain-store.ts).

import { hashToHex } from '../primitives/bytes.js';
import { ByteSlab } from '../primitives/slab.js';
import { CoinTable } from './coin-table.js';

/** A keyed record waiting for the flush (index entries, block and undo positions). */
interface PendingRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Rough bytes of the objects behind one pending record (map slot, entry object, the views of its
 * key and value, its string key); the bytes themselves are in the slabs.
 */
const ENTRY_OVERHEAD = 300;

/** Keys and values of records are cut from slabs this size (one ArrayBuffer each cost ~0.25 µs and ~150 bytes more). */
const SLAB_BYTES = 64 * 1024;

/** Map keys for byte strings: one latin1 character per byte (exact, unlike a TextDecoder). */
export function byteKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

export class PendingWrites {
  /** Coins, in typed arrays (see coin-table.ts); kept, memory and all, from one flush to the next. */
  private readonly coins = new CoinTable();
  index = new Map<string, PendingRecord>();
  blocks = new Map<string, PendingRecord>();
  undo = new Map<string, PendingRecord>();
  tip: Uint8Array | undefined;
  flatFiles: Uint8Array | undefined;
  /** Coins added minus coins removed, relative to LMDB. */
  countDelta = 0;
  /** The entries' objects, bytes (ENTRY_OVERHEAD each). */
  private entryBytes = 0;
  /** Blocks connected since the last flush. */
  blocksApplied = 0;
  /** Record keys and values. */
  private readonly slab = new ByteSlab(SLAB_BYTES);

  /**
   * Memory held, bytes: the coin table's, and the records': every slab in full (a slab is freed
   * only by the flush: one live record keeps its slab, so counting live bytes alone undercounted
   * 4.8-fold, measured when coins lived here too) plus the entries' objects.
   */
  get bytes(): number {
    return this.coins.bytes + this.slab.allocated + this.entryBytes;
  }

  /**
   * Forget everything (after a flush wrote it), keeping the coin table's memory. Records handed
   * out by coin() before are no longer valid: readers copy them.
   */
  reset(): void {
    this.coins.clear();
    this.index = new Map();
    this.blocks = new Map();
    this.undo = new Map();
    this.tip = undefined;
    this.flatFiles = undefined;
    this.countDelta = 0;
    this.entryBytes = 0;
    this.blocksApplied = 0;
    this.slab.reset();
  }

  get empty(): boolean {
    return this.coins.size === 0 && this.index.size === 0 && this.blocks.size === 0 && this.undo.size === 0 && this.tip === undefined && this.flatFiles === undefined;
  }

  /**
   * The pending state of a coin: a record (created since the flush; valid until reset(), so copy
   * what is kept), null (spent since the flush), or undefined when LMDB has the answer.
   */
  coin(txid: Uint8Array, vout: number): Uint8Array | null | undefined {
    return this.coins.get(txid, vout);
  }

  /** Spend a coin that exists (the caller checked, with coin() and then LMDB). */
  spend(txid: Uint8Array, vout: number): void {
    const slot = this.coins.slotOf(txid, vout);
    if (slot < 0) {
      this.coins.insert(txid, vout, undefined, false);
    } else {
      const state = this.coins.stateAt(slot);
      if (state === 'spent') throw new Error(`write-back: coin ${hashToHex(txid)}:${vout} is spent twice`);
      // A fresh coin was never written: forgetting it is the whole spend.
      if (state === 'fresh') this.coins.removeAt(slot);
      else this.coins.setAt(slot, undefined);
    }
    this.countDelta--;
  }

  /**
   * Add a coin. `mayExist` is Core's possible_overwrite (coinbase outputs: BIP30's two duplicate
   * coinbases overwrote their predecessors); `inStore` is then asked whether LMDB holds the key.
   * Any other new coin cannot be in the set already (its txid commits to the coins it spends).
   */
  add(txid: Uint8Array, vout: number, value: Uint8Array, mayExist: boolean, inStore: (txid: Uint8Array, vout: number) => boolean): void {
    const slot = this.coins.slotOf(txid, vout);
    if (slot >= 0) {
      if (this.coins.stateAt(slot) === 'spent') this.countDelta++;
      this.coins.setAt(slot, value);
      return;
    }
    const existed = mayExist && inStore(txid, vout);
    this.coins.insert(txid, vout, value, !existed);
    if (!existed) this.countDelta++;
  }

  /** Set a record (both copied into a slab). */
  setRecord(map: Map<string, PendingRecord>, key: Uint8Array, value: Uint8Array): void {
    const k = byteKey(key);
    const old = map.get(k);
    if (old === undefined) this.entryBytes += ENTRY_OVERHEAD;
    map.set(k, { key: old?.key ?? this.slab.copy(key), value: this.slab.copy(value) });
  }

  /** The coin writes in key order (LMDB then walks its B-tree one way); views valid until reset(). */
  coinOps(): Array<{ key: Uint8Array; value: Uint8Array | undefined }> {
    return this.coins.sorted();
  }
}
