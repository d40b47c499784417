// A salted signature cache of fixed size in a SharedArrayBuffer, so the main thread and every
// worker read and fill one cache (Core's SignatureCache, script/sigcache.cpp, on a CuckooCache).
//
// Only successful verifications are stored, as Core does: an entry says "this signature, key and
// sighash verified". The entry is SHA-256(salt || kind || sighash || len(pubkey) || pubkey || sig)
// with a random 32-byte salt drawn when the cache is made (kept in the buffer's header, so every
// thread hashes alike). The salt keeps anyone from choosing entries that collide in a slot and
// evict each other, or from predicting what is cached.
//
// Layout of the SharedArrayBuffer (all offsets in bytes):
//   0   magic 'vSC1' (u32)        4   slot count (u32)
//   8   lookups (i64, Atomics)    16  hits (i64, Atomics)    24  stores (i64, Atomics)
//   32  salt (32 bytes)
//   64  stamps: one i32 per slot (Atomics): 0 empty, odd being written, even occupied
//   64 + 4·slots  keys: 32 bytes per slot
// A slot costs 36 bytes; the cache never grows past the bytes it was created with.
//
// Concurrency, without locks. A writer claims a slot by moving its stamp from even to odd with
// compareExchange (if another writer holds it, the add is simply skipped: the cache is a hint),
// writes the 32 key bytes, then stores the next even stamp with Atomics.store, so the occupied
// mark is published after the bytes. A reader loads the stamp with Atomics.load, skips the slot
// unless it is occupied, compares the 32 bytes, and loads the stamp again: a hit needs both loads
// equal. A reader can still race a writer and compare a torn mix of an old and a new key. That can
// only make it miss, never falsely hit: the bytes it compares are always some mix of keys that
// were really stored, and a key is a salted SHA-256 output, so for a mix to equal the key looked up
// without being that key would take a 128-bit partial collision with a hash whose salt nobody
// outside this process knows. The second stamp load turns even that into a miss. A miss only costs
// a verification, so the worst a race can do is make the cache slower, never make it lie.
//
// Eviction: a key may live in any of PROBE_WINDOW consecutive slots from the one its first bytes
// name. An add takes the first empty slot there, or else overwrites the slot its salted bytes pick,
// so old entries are dropped at random within the window and the table stays the same size.

import { createHash, randomBytes, type Hash } from 'node:crypto';

const MAGIC = 0x76534331; // 'vSC1'
const HEADER_BYTES = 64;
const KEY_BYTES = 32;
const SLOT_BYTES = KEY_BYTES + 4;
/** Slots a key may occupy, starting at the one its hash names. */
const PROBE_WINDOW = 8;
/** Index of the counters in the BigInt64Array over the header. */
const LOOKUPS = 1;
const HITS = 2;
const STORES = 3;

const KIND_ECDSA = 0x45; // 'E'
const KIND_SCHNORR = 0x53; // 'S'

export interface SignatureCacheStats {
  readonly slots: number;
  readonly bytes: number;
  readonly lookups: number;
  readonly hits: number;
  readonly misses: number;
  readonly stores: number;
}

export class SignatureCache {
  /** The buffer to send to workers (postMessage shares it, it is not copied). */
  readonly shared: SharedArrayBuffer;
  readonly slots: number;
  private readonly stamps: Int32Array;
  private readonly keys: Uint8Array;
  private readonly counters: BigInt64Array;
  /** SHA-256 already fed the salt; each key hashes a copy of it. */
  private readonly salted: Hash;

  private constructor(sab: SharedArrayBuffer, slots: number) {
    this.shared = sab;
    this.slots = slots;
    this.counters = new BigInt64Array(sab, 0, HEADER_BYTES / 8);
    this.stamps = new Int32Array(sab, HEADER_BYTES, slots);
    this.keys = new Uint8Array(sab, HEADER_BYTES + 4 * slots, KEY_BYTES * slots);
    this.salted = createHash('sha256').update(new Uint8Array(sab, 32, 32));
  }

  /** A new empty cache using at most `maxBytes` bytes, with a fresh random salt. */
  static create(maxBytes: number): SignatureCache {
    const slots = Math.floor((maxBytes - HEADER_BYTES) / SLOT_BYTES);
    if (!Number.isSafeInteger(maxBytes) || slots < PROBE_WINDOW || slots > 0xffffffff) {
      throw new RangeError(`SignatureCache.create: maxBytes must be an integer from ${HEADER_BYTES + PROBE_WINDOW * SLOT_BYTES}, got ${maxBytes}`);
    }
    const sab = new SharedArrayBuffer(HEADER_BYTES + slots * SLOT_BYTES);
    const dv = new DataView(sab);
    dv.setUint32(0, MAGIC, true);
    dv.setUint32(4, slots, true);
    new Uint8Array(sab, 32, 32).set(randomBytes(32));
    return new SignatureCache(sab, slots);
  }

  /** The cache another thread created, from its `shared` buffer (same salt, same entries). */
  static fromShared(sab: SharedArrayBuffer): SignatureCache {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < HEADER_BYTES) {
      throw new TypeError('SignatureCache.fromShared: expected the SharedArrayBuffer of a SignatureCache');
    }
    const dv = new DataView(sab);
    const slots = dv.getUint32(4, true);
    if (dv.getUint32(0, true) !== MAGIC || slots < PROBE_WINDOW || sab.byteLength !== HEADER_BYTES + slots * SLOT_BYTES) {
      throw new TypeError('SignatureCache.fromShared: not a SignatureCache buffer (bad magic or size)');
    }
    return new SignatureCache(sab, slots);
  }

  /** The cache key of an ECDSA check: `sig` is the DER signature without its hash-type byte. */
  keyEcdsa(sighash: Uint8Array, pubkey: Uint8Array, sig: Uint8Array): Uint8Array {
    return this.key(KIND_ECDSA, sighash, pubkey, sig);
  }

  /** The cache key of a BIP340 check: 32-byte x-only key, 64-byte signature (no hash-type byte). */
  keySchnorr(sighash: Uint8Array, pub32: Uint8Array, sig64: Uint8Array): Uint8Array {
    return this.key(KIND_SCHNORR, sighash, pub32, sig64);
  }

  private key(kind: number, sighash: Uint8Array, pubkey: Uint8Array, sig: Uint8Array): Uint8Array {
    // The key length byte keeps pubkey || sig unambiguous whatever the sizes.
    const h = this.salted.copy();
    h.update(Uint8Array.of(kind, pubkey.length));
    return h.update(sighash).update(pubkey).update(sig).digest();
  }

  /** Whether `key` is cached; counts a lookup, and a hit when it is. */
  has(key: Uint8Array): boolean {
    checkKey(key);
    Atomics.add(this.counters, LOOKUPS, 1n);
    if (this.find(key)) {
      Atomics.add(this.counters, HITS, 1n);
      return true;
    }
    return false;
  }

  /** Record `key` (a verified signature). Does nothing if it is already there or its slot is busy. */
  add(key: Uint8Array): void {
    checkKey(key);
    if (this.find(key)) return;
    const start = this.home(key);
    let slot = -1;
    for (let j = 0; j < PROBE_WINDOW; j++) {
      const s = this.wrap(start + j);
      if (Atomics.load(this.stamps, s) === 0) {
        slot = s;
        break;
      }
    }
    // No empty slot: evict the one the key's (salted, so unpredictable) 5th byte picks.
    if (slot < 0) slot = this.wrap(start + (key[4]! % PROBE_WINDOW));
    const stamp = Atomics.load(this.stamps, slot);
    if ((stamp & 1) !== 0) return; // another thread is writing it
    if (Atomics.compareExchange(this.stamps, slot, stamp, (stamp + 1) | 0) !== stamp) return;
    this.keys.set(key, slot * KEY_BYTES);
    let next = (stamp + 2) | 0;
    if (next === 0) next = 2; // after 2^32 writes to one slot: 0 means empty
    Atomics.store(this.stamps, slot, next);
    Atomics.add(this.counters, STORES, 1n);
  }

  /** True while nothing was ever stored (no lookup can hit). */
  get isEmpty(): boolean {
    return Atomics.load(this.counters, STORES) === 0n;
  }

  /** Lookups and hits by every thread sharing the cache. */
  get lookups(): number {
    return Number(Atomics.load(this.counters, LOOKUPS));
  }

  get hits(): number {
    return Number(Atomics.load(this.counters, HITS));
  }

  get misses(): number {
    return this.lookups - this.hits;
  }

  stats(): SignatureCacheStats {
    const lookups = this.lookups;
    const hits = this.hits;
    return {
      slots: this.slots,
      bytes: this.shared.byteLength,
      lookups,
      hits,
      misses: lookups - hits,
      stores: Number(Atomics.load(this.counters, STORES)),
    };
  }

  private home(key: Uint8Array): number {
    return (((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0) % this.slots;
  }

  private wrap(i: number): number {
    return i >= this.slots ? i - this.slots : i;
  }

  private find(key: Uint8Array): boolean {
    const start = this.home(key);
    const keys = this.keys;
    for (let j = 0; j < PROBE_WINDOW; j++) {
      const slot = this.wrap(start + j);
      const stamp = Atomics.load(this.stamps, slot);
      if (stamp === 0 || (stamp & 1) !== 0) continue;
      const base = slot * KEY_BYTES;
      let k = 0;
      while (k < KEY_BYTES && keys[base + k] === key[k]) k++;
      if (k === KEY_BYTES && Atomics.load(this.stamps, slot) === stamp) return true;
    }
    return false;
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new TypeError(`SignatureCache: a key is ${KEY_BYTES} bytes`);
}
