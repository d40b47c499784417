// Write-back's coins: an open-addressing hash table in typed arrays, keyed by outpoint, with the
// keys and coin records in an arena of byte chunks. A Map of objects cost ~300 bytes and five or
// six heap objects a coin; those objects lived until the flush, so V8 promoted them all to its old
// generation, where they stayed as garbage after each flush until the next full collection
// (measured on the 10,000-block import: 42 MB of the 108 MB that survived young collections).
// Here a coin costs its 36-byte key, its record and ~24 bytes of table, no heap object, and the
// memory is reused from one flush to the next.

import { grown, outpointHash, removeFromProbeRun } from '../primitives/outpoint-map.js';
import { keyHi } from './coin-ops.js';

/** An entry's `len` when the coin is to be deleted from LMDB (spent since the flush). */
const SPENT = -1;
/** An entry's `len` once it has left the table (a fresh coin spent again). */
const GONE = -2;

const MIN_SLOTS = 1 << 12;
/**
 * The arena is a list of 1 MiB chunks, never copied to grow: a doubling arena left every smaller
 * copy (8 MiB of them, below an 8 MiB write-back limit) as garbage that V8 frees only in a full
 * collection. An entry's `off` is chunk << CHUNK_BITS | position; no key and record straddle two
 * chunks, and one bigger than a chunk gets a chunk its size.
 */
const CHUNK_BITS = 20;
const CHUNK = 1 << CHUNK_BITS;
const POS_MASK = CHUNK - 1;

/** Bytes an entry takes in the entry arrays, and the slots (two of 4 bytes: half full) a live one keeps. */
const ENTRY_ARRAY_BYTES = 13;
const LIVE_SLOT_BYTES = 8;
/** Table bytes an entry costs besides its key and record. */
export const ENTRY_TABLE_BYTES = ENTRY_ARRAY_BYTES + LIVE_SLOT_BYTES;

export class CoinTable {
  /** Slot → entry index + 1 (0: empty); linear probing, kept at most half full. */
  private slots = new Int32Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  /** Per entry: where its key sits in the arena (the record follows the key), ... */
  private off = new Uint32Array(MIN_SLOTS / 2);
  /** ... the record's length (SPENT, GONE), ... */
  private len = new Int32Array(MIN_SLOTS / 2);
  /** ... its hash (which gives its home slot), ... */
  private hash = new Uint32Array(MIN_SLOTS / 2);
  /** ... and 1 when the coin is not in LMDB (Core's FRESH: spending it just forgets it). */
  private fresh = new Uint8Array(MIN_SLOTS / 2);
  private entries = 0;
  private readonly chunks: Uint8Array[] = [];
  /** The chunk being filled (-1: none yet since clear()) and the next free position in it. */
  private chunk = -1;
  private pos = 0;
  /** Bytes reserved in the chunks since clear(). */
  private used = 0;
  /** Entries in the table (GONE ones excluded). */
  size = 0;

  /**
   * Bytes in use: keys and records (old copies included until clear()), 13 bytes an entry and
   * two 4-byte slots a live one. What stays allocated is at most about twice the most ever in
   * use for the entry arrays and slots, which grow by doubling, and one chunk more for the keys
   * and records; clear() keeps it all.
   */
  get bytes(): number {
    return this.used + this.entries * ENTRY_ARRAY_BYTES + this.size * LIVE_SLOT_BYTES;
  }

  /** Keys and records a flush would put: the entries that hold a record (deletions and gone ones not). */
  putBytes = 0;

  /** Forget every entry and keep the memory for the next round. */
  clear(): void {
    this.slots.fill(0);
    this.entries = 0;
    this.chunk = -1;
    this.pos = 0;
    this.used = 0;
    this.size = 0;
    this.putBytes = 0;
  }

  /**
   * The coin's pending state: its record (a view into the arena, valid until clear()), null when
   * it is spent (to be deleted from LMDB), undefined when the table does not hold it.
   */
  get(txid: Uint8Array, vout: number): Uint8Array | null | undefined {
    const slot = this.slotOf(txid, vout);
    if (slot < 0) return undefined;
    const e = this.slots[slot]! - 1;
    const n = this.len[e]!;
    if (n === SPENT) return null;
    const o = this.off[e]!;
    const at = (o & POS_MASK) + 36;
    return this.chunks[o >>> CHUNK_BITS]!.subarray(at, at + n);
  }

  /** What the table holds of the coin: nothing, a deletion, or a record (fresh or not). */
  state(txid: Uint8Array, vout: number): 'absent' | 'spent' | 'fresh' | 'held' {
    const slot = this.slotOf(txid, vout);
    return slot < 0 ? 'absent' : this.stateAt(slot);
  }

  /**
   * Set the coin's state: a record to write (copied in), or undefined to delete it from LMDB.
   * `fresh` is kept as it was for a coin already held; given for a new one.
   */
  set(txid: Uint8Array, vout: number, record: Uint8Array | undefined, fresh: boolean): void {
    const slot = this.slotOf(txid, vout);
    if (slot < 0) this.insert(txid, vout, record, fresh);
    else this.setAt(slot, record);
  }

  /** Remove the coin from the table altogether (a fresh coin spent: LMDB never hears of it). */
  remove(txid: Uint8Array, vout: number): void {
    const slot = this.slotOf(txid, vout);
    if (slot >= 0) this.removeAt(slot);
  }

  // One look-up, then the change: write-back's spend and add go through these, so a coin is
  // hashed and probed for once. A slot is valid until the next insert (which may rehash).

  /** The slot holding the outpoint, or -1. */
  slotOf(txid: Uint8Array, vout: number): number {
    const h = outpointHash(txid, vout);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.slots[i]!;
      if (s === 0) return -1;
      if (this.hash[s - 1] === h && this.matches(s - 1, txid, vout)) return i;
    }
  }

  stateAt(slot: number): 'spent' | 'fresh' | 'held' {
    const e = this.slots[slot]! - 1;
    if (this.len[e] === SPENT) return 'spent';
    return this.fresh[e] === 1 ? 'fresh' : 'held';
  }

  /** A held coin's new record, or undefined: delete it from LMDB. Its fresh flag stays. */
  setAt(slot: number, record: Uint8Array | undefined): void {
    const e = this.slots[slot]! - 1;
    if (this.len[e]! >= 0) this.putBytes -= 36 + this.len[e]!;
    if (record === undefined) {
      this.len[e] = SPENT;
      return;
    }
    // A new copy of key and record (get() reads the record right after its key): a record once
    // handed out never changes. clear() reclaims the old copy's space.
    const old = this.off[e]!;
    const o = this.reserve(36 + record.length);
    const c = this.chunks[o >>> CHUNK_BITS]!;
    const p = o & POS_MASK;
    const from = old & POS_MASK;
    c.set(this.chunks[old >>> CHUNK_BITS]!.subarray(from, from + 36), p);
    c.set(record, p + 36);
    this.off[e] = o;
    this.len[e] = record.length;
    this.putBytes += 36 + record.length;
  }

  removeAt(slot: number): void {
    const e = this.slots[slot]! - 1;
    if (this.len[e]! >= 0) this.putBytes -= 36 + this.len[e]!;
    this.len[e] = GONE;
    this.size--;
    removeFromProbeRun(this.slots, this.mask, this.hash, slot);
  }

  /** Add an outpoint the table does not hold (slotOf said -1). */
  insert(txid: Uint8Array, vout: number, record: Uint8Array | undefined, fresh: boolean): void {
    if (this.entries >= this.off.length) this.growEntries();
    if ((this.size + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    const e = this.entries++;
    const n = record === undefined ? 0 : record.length;
    const o = this.reserve(36 + n);
    const a = this.chunks[o >>> CHUNK_BITS]!;
    const p = o & POS_MASK;
    a.set(txid.length === 32 ? txid : txid.subarray(0, 32), p);
    a[p + 32] = vout & 0xff;
    a[p + 33] = (vout >>> 8) & 0xff;
    a[p + 34] = (vout >>> 16) & 0xff;
    a[p + 35] = vout >>> 24;
    if (record !== undefined) a.set(record, p + 36);
    const h = outpointHash(txid, vout);
    this.off[e] = o;
    this.len[e] = record === undefined ? SPENT : n;
    if (record !== undefined) this.putBytes += 36 + n;
    this.hash[e] = h;
    this.fresh[e] = fresh ? 1 : 0;
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = e + 1;
    this.size++;
  }

  /**
   * Every entry in key order: its 36-byte key and its record (undefined: delete). The views are
   * valid until clear().
   */
  sorted(): Array<{ key: Uint8Array; value: Uint8Array | undefined }> {
    const ids: number[] = [];
    const hi = new Float64Array(this.entries);
    const keys = new Array<Uint8Array>(this.entries);
    for (let e = 0; e < this.entries; e++) {
      if (this.len[e] === GONE) continue;
      ids.push(e);
      const o = this.off[e]!;
      const p = o & POS_MASK;
      const key = this.chunks[o >>> CHUNK_BITS]!.subarray(p, p + 36);
      keys[e] = key;
      hi[e] = keyHi(key);
    }
    ids.sort((x, y) => hi[x]! - hi[y]! || Buffer.compare(keys[x]!, keys[y]!));
    return ids.map((e) => {
      const key = keys[e]!;
      const n = this.len[e]!;
      return { key, value: n === SPENT ? undefined : new Uint8Array(key.buffer, key.byteOffset + 36, n) };
    });
  }

  // ---- internals ---------------------------------------------------------------------------------

  private matches(e: number, txid: Uint8Array, vout: number): boolean {
    const off = this.off[e]!;
    const a = this.chunks[off >>> CHUNK_BITS]!;
    const o = off & POS_MASK;
    for (let i = 0; i < 32; i++) if (a[o + i] !== txid[i]) return false;
    return (a[o + 32]! | (a[o + 33]! << 8) | (a[o + 34]! << 16) | (a[o + 35]! << 24)) >>> 0 === vout;
  }

  /** `n` bytes in the current chunk, or at the start of the next; their `off`. */
  private reserve(n: number): number {
    if (this.chunk < 0 || this.pos + n > CHUNK) {
      this.chunk++;
      const c = this.chunks[this.chunk];
      if (c === undefined || c.length < n) this.chunks[this.chunk] = new Uint8Array(Math.max(CHUNK, n));
      this.pos = 0;
    }
    const off = this.chunk * CHUNK + this.pos;
    this.pos += n;
    this.used += n;
    return off;
  }

  private growEntries(): void {
    const cap = this.off.length * 2;
    this.off = grown(this.off, cap, this.entries);
    this.len = grown(this.len, cap, this.entries);
    this.hash = grown(this.hash, cap, this.entries);
    this.fresh = grown(this.fresh, cap, this.entries);
  }

  private rehash(slotCount: number): void {
    this.slots = new Int32Array(slotCount);
    this.mask = slotCount - 1;
    for (let e = 0; e < this.entries; e++) {
      if (this.len[e] === GONE) continue;
      let i = this.hash[e]! & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = e + 1;
    }
  }
}
