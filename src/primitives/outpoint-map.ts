// Maps keyed by outpoint (txid, vout): open addressing over typed arrays, no object and no string
// per key. A Map of bucket arrays cost four or five heap objects an outpoint (an entry, a bucket,
// a boxed 48-bit key, the Map's own slots); connectBlockInputs keeps two of these maps for every
// block, and on a 10,000-input block they were ~60% of the 25 MB the main thread allocated.

import { randomFillSync } from 'node:crypto';

/** Deterministic hashing would let a miner grind txids into one probe run; the salt stops that. */
const SALT = randomFillSync(new Uint32Array(2));

/**
 * The salted hash of an outpoint, from its txid's first 8 bytes and the vout (txids are hashes:
 * 8 bytes of one say as much as the whole for picking a slot). Only a txid's first 32 bytes are
 * ever read, so a 36-byte coin key serves as its own txid.
 */
export function outpointHash(txid: Uint8Array, vout: number): number {
  const w0 = (txid[0]! | (txid[1]! << 8) | (txid[2]! << 16) | (txid[3]! << 24)) ^ SALT[0]!;
  const w1 = (txid[4]! | (txid[5]! << 8) | (txid[6]! << 16) | (txid[7]! << 24)) ^ SALT[1]!;
  let h = Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1 ^ vout, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae3d);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Remove the entry at `slot` from a linear-probing table (slot → entry + 1, 0 empty; `hashes` by
 * entry) by backward shift: later members of the probe run move into the hole, so no tombstone is
 * left and probe runs stay as short as the load allows.
 */
export function removeFromProbeRun(slots: Int32Array, mask: number, hashes: Uint32Array, slot: number): void {
  let hole = slot;
  let j = slot;
  for (;;) {
    j = (j + 1) & mask;
    const s = slots[j]!;
    if (s === 0) break;
    const home = hashes[s - 1]! & mask;
    // Move the entry at j into the hole unless its home lies cyclically in (hole, j].
    const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
    if (!inRange) {
      slots[hole] = s;
      hole = j;
    }
  }
  slots[hole] = 0;
}

const MIN_SLOTS = 16;

/** A map keyed by outpoint. Keys are held by reference: a txid must not change while it is a key. */
export class OutpointMap<T> {
  /** Slot → entry index + 1 (0: empty); linear probing, kept at most half full. */
  private slots: Int32Array;
  private mask: number;
  /** Per entry, in insertion order: its key, hash and value (`live` 0 once taken). */
  private txids: Array<Uint8Array | undefined>;
  private vouts: Uint32Array;
  private hashes: Uint32Array;
  private live: Uint8Array;
  private vals: Array<T | undefined>;
  private entries = 0;
  private count = 0;

  /** `expected`: how many keys it will likely hold (room for them is made at once). */
  constructor(expected = 0) {
    let size = MIN_SLOTS;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    this.vouts = new Uint32Array(size / 2);
    this.hashes = new Uint32Array(size / 2);
    this.live = new Uint8Array(size / 2);
    // Made at their full size: grown an entry at a time, they left ~1 MB of discarded copies on
    // block 928927's two maps.
    this.txids = new Array<Uint8Array | undefined>(size / 2);
    this.vals = new Array<T | undefined>(size / 2);
  }

  get size(): number {
    return this.count;
  }

  get(txid: Uint8Array, vout: number): T | undefined {
    const slot = this.slotOf(txid, vout);
    return slot < 0 ? undefined : this.vals[this.slots[slot]! - 1];
  }

  /** Removes and returns the entry. */
  take(txid: Uint8Array, vout: number): T | undefined {
    const slot = this.slotOf(txid, vout);
    if (slot < 0) return undefined;
    const e = this.slots[slot]! - 1;
    const value = this.vals[e];
    this.vals[e] = undefined;
    this.live[e] = 0;
    this.count--;
    removeFromProbeRun(this.slots, this.mask, this.hashes, slot);
    return value;
  }

  set(txid: Uint8Array, vout: number, value: T): void {
    const slot = this.slotOf(txid, vout);
    if (slot >= 0) {
      this.vals[this.slots[slot]! - 1] = value;
      return;
    }
    if (this.entries === this.hashes.length) this.grow();
    const e = this.entries++;
    const h = outpointHash(txid, vout);
    this.txids[e] = txid;
    this.vouts[e] = vout;
    this.hashes[e] = h;
    this.live[e] = 1;
    this.vals[e] = value;
    this.count++;
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = e + 1;
  }

  /** Each live entry's key and value, in insertion order. */
  forEachEntry(fn: (txid: Uint8Array, vout: number, value: T) => void): void {
    for (let e = 0; e < this.entries; e++) if (this.live[e] === 1) fn(this.txids[e]!, this.vouts[e]!, this.vals[e] as T);
  }

  private slotOf(txid: Uint8Array, vout: number): number {
    const mask = this.mask;
    let i = outpointHash(txid, vout) & mask;
    for (;;) {
      const s = this.slots[i]!;
      if (s === 0) return -1;
      const e = s - 1;
      if (this.vouts[e] === vout && equal32(this.txids[e]!, txid)) return i;
      i = (i + 1) & mask;
    }
  }

  /**
   * Room for more entries (the entry arrays are full): taken entries are dropped, order kept, and
   * the table doubles if at least half of it is still live. Slots are never more than half used,
   * since entries never outnumber half the slots.
   */
  private grow(): void {
    let n = 0;
    for (let e = 0; e < this.entries; e++) {
      if (this.live[e] === 0) continue;
      this.txids[n] = this.txids[e]!;
      this.vouts[n] = this.vouts[e]!;
      this.hashes[n] = this.hashes[e]!;
      this.live[n] = 1;
      this.vals[n] = this.vals[e];
      n++;
    }
    // Drop the references the moved entries left behind.
    this.txids.fill(undefined, n, this.entries);
    this.vals.fill(undefined, n, this.entries);
    this.entries = n;
    if (n * 2 >= this.hashes.length) {
      const size = this.slots.length * 2;
      this.vouts = grown(this.vouts, size / 2, n);
      this.hashes = grown(this.hashes, size / 2, n);
      this.live = grown(this.live, size / 2, n);
      this.txids.length = size / 2;
      this.vals.length = size / 2;
      this.slots = new Int32Array(size);
      this.mask = size - 1;
    } else {
      this.slots.fill(0);
    }
    for (let e = 0; e < n; e++) {
      let i = this.hashes[e]! & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = e + 1;
    }
  }
}

/** A typed array of `capacity` elements holding the first `keep` of `a`. */
export function grown<A extends Uint32Array | Int32Array | Uint8Array>(a: A, capacity: number, keep: number): A {
  const out = new (a.constructor as new (n: number) => A)(capacity);
  out.set(a.subarray(0, keep));
  return out;
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}
