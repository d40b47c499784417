// Multiplication tables for public keys that sign often, for noble's ECDSA verification.
//
// ECDSA verification computes u1·G + u2·P. noble keeps a table of multiples for G; for P it walks
// all 256 bits of u2 (Strauss–Shamir with G). With a table of P's multiples (wNAF, window 6:
// 1,408 points, ~14 ms to build here, a few hundred KB), u2·P takes ~43 additions and no
// doublings, and a verification ~450 µs against ~1,190 µs. A table pays for itself after ~20
// signatures, so it is built for a key on its HOT_AFTER-th signature in this thread, and at most
// MAX_TABLES keys hold one (the least recently used gives its table up).
//
// Real blocks repeat keys: testnet3 928927's 9,984 ECDSA checks use 16 keys; exchange and pool
// wallets sign hundreds of inputs a block on mainnet. The answer is noble's verification's: the
// same equation (R = u1·G + u2·P, not infinity, x(R) mod n = r) on the same point, tested
// against secp256k1.verify signature for signature.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { outpointHash } from '../primitives/outpoint-map.js';

const Point = secp256k1.Point;
type Point = InstanceType<typeof Point>;
const Fn = Point.Fn;
const N = Fn.ORDER;
const G = Point.BASE;

/** Signatures by one key, in this thread, before its table is built. */
export const HOT_AFTER = 24;
/** Keys holding a table at once. */
export const MAX_TABLES = 16;
const WINDOW = 6;
/** Slots counting signatures per key (direct-mapped on the key's bytes). */
const SLOTS = 1024;

interface Slot {
  key: Uint8Array;
  /** Signatures since this slot took the key, or since its table was given up. */
  uses: number;
  table?: Point;
  notAPoint?: true;
  lastUsed: number;
}

function toBig(bytes: Uint8Array, at: number): bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, 32);
  return (dv.getBigUint64(0) << 192n) | (dv.getBigUint64(8) << 128n) | (dv.getBigUint64(16) << 64n) | dv.getBigUint64(24);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class KeyTables {
  /** False: verifyCompact always answers undefined (the benchmarks' single-verify references). */
  enabled = true;
  private readonly slots: Array<Slot | undefined> = new Array(SLOTS);
  private readonly withTable: Slot[] = [];
  private clock = 0;
  readonly stats = { built: 0, evicted: 0, hits: 0 };

  constructor(
    private readonly hotAfter = HOT_AFTER,
    private readonly maxTables = MAX_TABLES,
  ) {}

  /**
   * ECDSA verification of r || s (`rs64`, both already known to be in [1, n − 1]) by `key` (33 or
   * 65 bytes) through the key's table, or undefined when the key has none (yet): the caller
   * verifies as usual. A key that is not a point never gets a table.
   */
  verifyCompact(rs64: Uint8Array, msg32: Uint8Array, key: Uint8Array): boolean | undefined {
    if (!this.enabled) return undefined;
    const slot = this.note(key);
    if (slot?.table === undefined) return undefined;
    this.stats.hits++;
    const r = toBig(rs64, 0);
    const s = toBig(rs64, 32);
    if (r === 0n || s === 0n || r >= N || s >= N || msg32.length !== 32) return undefined;
    const is = Fn.inv(s);
    const u1 = Fn.create(toBig(msg32, 0) * is);
    const u2 = Fn.create(r * is);
    const R = G.multiplyUnsafe(u1).add(slot.table.multiplyUnsafe(u2));
    if (R.is0()) return false;
    return Fn.create(R.toAffine().x) === r;
  }

  /** Forget every key and table. */
  clear(): void {
    this.slots.fill(undefined);
    this.withTable.length = 0;
  }

  /** Count a signature by `key`; builds its table on the hotAfter-th. */
  private note(key: Uint8Array): Slot | undefined {
    if (key.length !== 33 && key.length !== 65) return undefined;
    const i = outpointHash(key.subarray(1), key[key.length - 1]!) & (SLOTS - 1);
    let slot = this.slots[i];
    if (slot === undefined || !sameBytes(slot.key, key)) {
      if (slot?.table !== undefined) this.drop(slot);
      slot = { key: key.slice(), uses: 0, lastUsed: 0 };
      this.slots[i] = slot;
    }
    slot.lastUsed = ++this.clock;
    if (slot.table === undefined && slot.notAPoint !== true && ++slot.uses >= this.hotAfter) this.build(slot);
    return slot;
  }

  private build(slot: Slot): void {
    let point: Point;
    try {
      point = Point.fromBytes(slot.key);
    } catch {
      slot.notAPoint = true; // never a table
      return;
    }
    if (this.withTable.length >= this.maxTables) {
      let oldest = this.withTable[0]!;
      for (const s of this.withTable) if (s.lastUsed < oldest.lastUsed) oldest = s;
      this.drop(oldest);
      this.stats.evicted++;
    }
    slot.table = point.precompute(WINDOW, false);
    this.withTable.push(slot);
    this.stats.built++;
  }

  /** Give a slot's table up; its key must sign hotAfter times again to get one back. */
  private drop(slot: Slot): void {
    delete slot.table;
    slot.uses = 0;
    const at = this.withTable.indexOf(slot);
    if (at >= 0) this.withTable.splice(at, 1);
  }
}

/** This thread's tables (nobleBackend's). */
export const keyTables = new KeyTables();
