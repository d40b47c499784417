// The store's write-back layer (Core's CCoinsViewCache with the block-index writes that
// FlushStateToDisk commits beside it): while it is on, connected blocks change memory only, and
// one LMDB transaction later writes everything they changed, so a crash leaves the store at the
// last flush, a whole tip. A coin created and spent between two flushes never reaches LMDB
// (Core's FRESH flag), and many blocks share one commit instead of paying one each.
//
// This module holds the pending state and its rules; ChainStore decides when to flush and
// reads through it (chain-store.ts).

import { hashToHex } from '../primitives/bytes.js';
import { CoinTable, ENTRY_TABLE_BYTES } from './coin-table.js';

/**
 * The records the flush writes beside the coins, by kind. They live in a coin table of their own,
 * keyed (block hash, kind): a Map of objects cost five heap objects a record, and ~3 records a
 * block lived until the flush, so V8 promoted them all (~8 MB over a 10,000-block import).
 */
export const INDEX_RECORD = 0;
export const BLOCK_POS_RECORD = 1;
export const UNDO_POS_RECORD = 2;
export type RecordKind = typeof INDEX_RECORD | typeof BLOCK_POS_RECORD | typeof UNDO_POS_RECORD;

/**
 * The B-trees a flush writes into, in pages (LMDB's statistics): the coins, and the three
 * databases of block records together (keyed by block hash, so as random as the coins).
 */
export interface TreeShape {
  pageSize: number;
  coinLeaves: number;
  coinBranches: number;
  recordLeaves: number;
  recordBranches: number;
}

/**
 * Expected number of distinct pages that `keys` random keys land on among `pages`: pages × (1 −
 * (1 − 1/pages)^keys). At most min(keys, pages); about `keys` while keys ≪ pages.
 */
export function touchedPages(keys: number, pages: number): number {
  if (keys <= 0 || pages <= 0) return 0;
  return pages === 1 ? 1 : -pages * Math.expm1(keys * Math.log1p(-1 / pages));
}

/**
 * Bytes of page copies LMDB will make to commit `coins` coin changes and `records` block records
 * whose puts carry `addedBytes` of keys and values. Without a writable map, LMDB copies every page a
 * transaction changes into memory of its own and keeps those copies for later transactions until
 * the store closes: the largest flush sets that memory for good. Random keys (txids, block hashes)
 * spread over a large tree touch one leaf each, and the branches above them; new entries also
 * fill new pages, about half full after splits. Measured with lmdb-js: one transaction of 90,000
 * new 36-byte keys in a tree of 2,000,000 (55,000 leaves) left ~190 MB of such copies; this
 * estimate says 197 MB.
 */
export function flushPageBytes(coins: number, records: number, addedBytes: number, shape: TreeShape): number {
  const pages =
    touchedPages(coins, shape.coinLeaves) +
    touchedPages(coins, shape.coinBranches) +
    touchedPages(records, shape.recordLeaves) +
    touchedPages(records, shape.recordBranches) +
    (2 * addedBytes) / shape.pageSize;
  return pages * shape.pageSize;
}

export class PendingWrites {
  /** Coins, in typed arrays (see coin-table.ts); kept, memory and all, from one flush to the next. */
  private readonly coins = new CoinTable();
  /** Index entries and block and undo positions, keyed (block hash, RecordKind). */
  private readonly records = new CoinTable();
  tip: Uint8Array | undefined;
  flatFiles: Uint8Array | undefined;
  /** Coins added minus coins removed, relative to LMDB. */
  countDelta = 0;
  /** Blocks connected since the last flush. */
  blocksApplied = 0;

  /** Memory held, bytes: the two tables'. */
  get bytes(): number {
    return this.coins.bytes + this.records.bytes;
  }

  /**
   * What flushing costs in memory, bytes: the tables, and LMDB's copies of the pages it will
   * rewrite in a tree of `shape` (flushPageBytes); with `next`, after a block of that many coin
   * changes and records (and put bytes) is added as well. The write-back limit bounds this sum.
   */
  flushCost(shape: TreeShape, next?: { coins: number; records: number; putBytes: number }): number {
    const coins = this.coins.size + (next?.coins ?? 0);
    const records = this.records.size + (next?.records ?? 0);
    const putBytes = this.coins.putBytes + this.records.putBytes + (next?.putBytes ?? 0);
    // Each new entry costs the tables its key and record and ENTRY_TABLE_BYTES (CoinTable.bytes).
    return this.bytes + (next === undefined ? 0 : next.putBytes + ENTRY_TABLE_BYTES * (next.coins + next.records)) + flushPageBytes(coins, records, putBytes, shape);
  }

  /**
   * Forget everything (after a flush wrote it), keeping the coin table's memory. Records handed
   * out by coin() before are no longer valid: readers copy them.
   */
  reset(): void {
    this.coins.clear();
    this.records.clear();
    this.tip = undefined;
    this.flatFiles = undefined;
    this.countDelta = 0;
    this.blocksApplied = 0;
  }

  get empty(): boolean {
    return this.coins.size === 0 && this.records.size === 0 && this.tip === undefined && this.flatFiles === undefined;
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
   * Add a coin. `inStore`: whether LMDB holds its key, which only a coinbase output can (Core's
   * possible_overwrite: BIP30's two duplicate coinbases overwrote their predecessors); any other
   * new coin cannot be in the set already (its txid commits to the coins it spends). The caller
   * reads it before changing anything here, so a failed read leaves write-back as it was.
   */
  add(txid: Uint8Array, vout: number, value: Uint8Array, inStore: boolean): void {
    const slot = this.coins.slotOf(txid, vout);
    if (slot >= 0) {
      if (this.coins.stateAt(slot) === 'spent') this.countDelta++;
      this.coins.setAt(slot, value);
      return;
    }
    this.coins.insert(txid, vout, value, !inStore);
    if (!inStore) this.countDelta++;
  }

  /** Set a record (copied in). */
  setRecord(kind: RecordKind, hash: Uint8Array, value: Uint8Array): void {
    this.records.set(hash, kind, value, true);
  }

  /** A pending record of the block (a view valid until reset(): decode or copy it at once). */
  record(kind: RecordKind, hash: Uint8Array): Uint8Array | undefined {
    return this.records.get(hash, kind) ?? undefined;
  }

  /**
   * The pending records in (hash, kind) order: `hash` a 32-byte view, both views valid until
   * reset(). With `only`, the records of that kind.
   */
  recordOps(only?: RecordKind): Array<{ kind: RecordKind; hash: Uint8Array; value: Uint8Array }> {
    const out: Array<{ kind: RecordKind; hash: Uint8Array; value: Uint8Array }> = [];
    for (const { key, value } of this.records.sorted()) {
      const kind = key[32] as RecordKind;
      // setRecord never stores a deletion, so every record has a value.
      if (value !== undefined && (only === undefined || kind === only)) out.push({ kind, hash: key.subarray(0, 32), value });
    }
    return out;
  }

  /** The coin writes in key order (LMDB then walks its B-tree one way); views valid until reset(). */
  coinOps(): Array<{ key: Uint8Array; value: Uint8Array | undefined }> {
    return this.coins.sorted();
  }
}
