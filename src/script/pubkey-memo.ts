// Compressed public keys this thread saw lately, with what they cost to use again: the key's
// HASH160 and, from its second signature on, its 65-byte (uncompressed) encoding. Blocks repeat
// keys (address reuse): on mainnet block 866342, 3,903 of the 5,701 ECDSA checks are by a key
// that signs more than once in the block; testnet3 block 928927's 9,984 checks use 17 keys. A
// compressed key takes a square root to parse (libsecp256k1: ~4 µs of a ~43 µs verify; noble:
// ~50 µs of ~1,100 µs), its uncompressed form only an on-curve check; a P2WPKH or P2PKH input
// hashes its key again (two hashes, ~2 µs) before the signature is checked.
//
// Only what a key itself determines is kept: the answers are those of the work they replace.
// Each entry holds the whole key and is used only for those exact 33 bytes. The table is
// direct-mapped on a salted hash: a key that lands on a taken slot replaces its entry, so the
// memory is fixed and a key chosen to collide costs a miss, never a wrong answer.

import { hash160 } from '../primitives/hash.js';
import { outpointHash } from '../primitives/outpoint-map.js';

const KEY = 33;
const H160 = 20;
const FULL = 65;

/** Slot state bits. */
const USED = 1;
const HASHED = 2;
const DECOMPRESSED = 4;
/** The key does not decompress (x is not on the curve): never tried again. */
const NOT_A_POINT = 8;

/** What decompresses a key: SignatureBackend.decompressPubKey. */
export interface KeyDecompressor {
  decompressPubKey?(key33: Uint8Array): Uint8Array | undefined;
}

export class PubKeyMemo {
  readonly slots: number;
  private readonly keys: Uint8Array;
  private readonly hashes: Uint8Array;
  private readonly full: Uint8Array;
  private readonly state: Uint8Array;
  /** Signature checks by this slot's key that found no uncompressed form yet. */
  private readonly signed: Uint8Array;
  private readonly shift: number;
  /** Counters for tests and diagnostics. */
  readonly stats = { hashHits: 0, keyHits: 0, decompressed: 0 };

  /** `slots`: a power of two (default 8,192: ~1 MB). */
  constructor(slots = 8192) {
    if (!Number.isInteger(Math.log2(slots)) || slots < 2) throw new RangeError(`PubKeyMemo slots must be a power of two, got ${slots}`);
    this.slots = slots;
    this.shift = 32 - Math.log2(slots);
    this.keys = new Uint8Array(slots * KEY);
    this.hashes = new Uint8Array(slots * H160);
    this.full = new Uint8Array(slots * FULL);
    this.state = new Uint8Array(slots);
    this.signed = new Uint8Array(slots);
  }

  /** HASH160 of `data` (a copy the caller owns); 33-byte values are remembered. */
  hash160(data: Uint8Array): Uint8Array {
    if (data.length !== KEY) return hash160(data);
    const s = this.slotOf(data);
    if (this.holds(s, data)) {
      if ((this.state[s]! & HASHED) !== 0) {
        this.stats.hashHits++;
        return this.hashes.slice(s * H160, (s + 1) * H160);
      }
    } else {
      this.install(s, data);
    }
    const h = hash160(data);
    this.hashes.set(h, s * H160);
    this.state[s]! |= HASHED;
    return h;
  }

  /**
   * Whether HASH160(`data`) is `h20`: what hash160 answers, compared where it is kept, so a
   * P2WPKH input that checks its key's hash makes no copy of it.
   */
  hash160Is(data: Uint8Array, h20: Uint8Array): boolean {
    if (h20.length !== H160) return false;
    if (data.length === KEY) {
      const s = this.slotOf(data);
      if (this.holds(s, data) && (this.state[s]! & HASHED) !== 0) {
        this.stats.hashHits++;
        return hash160At(this.hashes, s * H160, h20);
      }
    }
    return hash160At(this.hash160(data), 0, h20);
  }

  /**
   * The encoding of `key` to verify with: its uncompressed form once this key has signed before
   * (decompressed by `backend`, once), else `key` itself. The view is valid until the next call.
   */
  forVerify(key: Uint8Array, backend: KeyDecompressor): Uint8Array {
    if (key.length !== KEY || backend.decompressPubKey === undefined) return key;
    const s = this.slotOf(key);
    if (!this.holds(s, key)) {
      this.install(s, key);
      this.signed[s] = 1;
      return key;
    }
    const st = this.state[s]!;
    if ((st & DECOMPRESSED) !== 0) {
      this.stats.keyHits++;
      return this.full.subarray(s * FULL, (s + 1) * FULL);
    }
    if ((st & NOT_A_POINT) !== 0) return key;
    // The first signature pays nothing extra: most keys sign once.
    if (this.signed[s]! < 1) {
      this.signed[s] = 1;
      return key;
    }
    const full = backend.decompressPubKey(key);
    if (full === undefined || full.length !== FULL || full[0] !== 0x04) {
      this.state[s] = st | NOT_A_POINT;
      return key;
    }
    this.stats.decompressed++;
    this.full.set(full, s * FULL);
    this.state[s] = st | DECOMPRESSED;
    return this.full.subarray(s * FULL, (s + 1) * FULL);
  }

  /** Forget every key. */
  clear(): void {
    this.state.fill(0);
    this.signed.fill(0);
  }

  private slotOf(key: Uint8Array): number {
    // Bytes 0–7 (the prefix and the start of x) and the last byte of x, salted.
    return outpointHash(key, key[KEY - 1]!) >>> this.shift;
  }

  private holds(s: number, key: Uint8Array): boolean {
    if ((this.state[s]! & USED) === 0) return false;
    const keys = this.keys;
    for (let i = 0, at = s * KEY; i < KEY; i++) if (keys[at + i] !== key[i]) return false;
    return true;
  }

  private install(s: number, key: Uint8Array): void {
    this.keys.set(key, s * KEY);
    this.state[s] = USED;
    this.signed[s] = 0;
  }
}

/** Whether the 20 bytes at a[at..] are h20. */
function hash160At(a: Uint8Array, at: number, h20: Uint8Array): boolean {
  for (let i = 0; i < H160; i++) if (a[at + i] !== h20[i]) return false;
  return true;
}

/** This thread's memo (the interpreter and the signature checker share it). */
export const pubKeyMemo = new PubKeyMemo();
