// The block index's nodes by hash. Each node's header and hash sit in 64 KiB chunks of 112-byte
// records (header, then hash), and a salted open-addressing table of node numbers finds a node
// from its hash. A Map keyed by hex cost each node a 64-character string and a Map entry, and
// a view of its hash another object: the index is kept for every header of the chain (~900,000
// on mainnet), for as long as the process runs.

import { grown, outpointHash } from '../primitives/outpoint-map.js';

/** Bytes of a node's record: its 80-byte header, then its 32-byte hash. */
export const RECORD_BYTES = 112;
const CHUNK_RECORDS = 585; // 65,520 bytes
const MIN_SLOTS = 1 << 10;

/** What the table needs of a node: where its record is. */
export interface RecordedNode {
  /** The chunk holding the node's record (shared by the nodes recorded next to it). */
  readonly chunk: Uint8Array;
  /** The record's offset in `chunk`: the header at `off`, the hash at `off + 80`. */
  readonly off: number;
}

export class NodeTable<N extends RecordedNode> {
  /** Slot → node number + 1 (0: empty); linear probing, at most half full. */
  private slots = new Int32Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  /** Per node number: its salted hash (for rehashing and to skip most byte comparisons). */
  private hashes = new Uint32Array(MIN_SLOTS / 2);
  /** The nodes in the order they were added. */
  private readonly list: N[] = [];
  private chunk = new Uint8Array(0);
  private used = CHUNK_RECORDS;

  get size(): number {
    return this.list.length;
  }

  /** Every node, in the order added. */
  values(): readonly N[] {
    return this.list;
  }

  /** Room for a new record, with `header` and `hash` copied in: pass it to the node's constructor, then add() the node. */
  record(header: Uint8Array, hash: Uint8Array): { chunk: Uint8Array; off: number } {
    if (this.used === CHUNK_RECORDS) {
      this.chunk = new Uint8Array(CHUNK_RECORDS * RECORD_BYTES);
      this.used = 0;
    }
    const off = this.used++ * RECORD_BYTES;
    this.chunk.set(header.subarray(0, 80), off);
    this.chunk.set(hash.subarray(0, 32), off + 80);
    return { chunk: this.chunk, off };
  }

  /** The node whose hash is the 32 bytes of `hash` from `at`, or undefined. */
  get(hash: Uint8Array, at = 0): N | undefined {
    const h = outpointHash(at === 0 ? hash : hash.subarray(at, at + 8), 0);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.slots[i]!;
      if (s === 0) return undefined;
      if (this.hashes[s - 1] !== h) continue;
      const n = this.list[s - 1]!;
      if (sameHash(n.chunk, n.off + 80, hash, at)) return n;
    }
  }

  /** Add a node whose hash the table does not hold yet (get() said undefined). */
  add(node: N): void {
    const e = this.list.length;
    if ((e + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    if (e >= this.hashes.length) this.hashes = grown(this.hashes, this.hashes.length * 2, e);
    const h = outpointHash(node.chunk.subarray(node.off + 80, node.off + 88), 0);
    this.list.push(node);
    this.hashes[e] = h;
    let i = h & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = e + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let e = 0; e < this.list.length; e++) {
      let i = this.hashes[e]! & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = e + 1;
    }
  }
}

function sameHash(a: Uint8Array, ai: number, b: Uint8Array, bi: number): boolean {
  for (let k = 0; k < 32; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}
