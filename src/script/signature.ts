// Signature and public-key encodings (Core's interpreter.cpp checks and pubkey.cpp's lax
// DER parser) and the ECDSA / BIP340 verification they lead to, through @noble/curves.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ScriptFailure } from './errors.js';
import { parsePubKey } from './field.js';
import { verifyEcdsaNoble, verifySchnorrNoble } from './noble-verify.js';
import { readBig256, writeBig256 } from '../primitives/bytes.js';
import {
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_LOW_S,
  SCRIPT_VERIFY_STRICTENC,
  SCRIPT_VERIFY_WITNESS_PUBKEYTYPE,
} from './flags.js';
import { SIGHASH_ANYONECANPAY, SIGHASH_ALL, SIGHASH_SINGLE } from './sighash.js';

export const CURVE_ORDER = secp256k1.Point.Fn.ORDER;
const HALF_ORDER = CURVE_ORDER >> 1n;

/** Core's SigVersion: which rules a script runs under. */
export const SigVersion = Object.freeze({ BASE: 0, WITNESS_V0: 1, TAPROOT: 2, TAPSCRIPT: 3 } as const);
export type SigVersion = (typeof SigVersion)[keyof typeof SigVersion];

/** Core's IsValidSignatureEncoding: strict DER (BIP66) plus the trailing hash-type byte. */
export function isValidSignatureEncoding(sig: Uint8Array): boolean {
  const n = sig.length;
  if (n < 9 || n > 73) return false;
  if (sig[0] !== 0x30) return false;
  if (sig[1] !== n - 3) return false;
  const lenR = sig[3]!;
  if (5 + lenR >= n) return false;
  const lenS = sig[5 + lenR]!;
  if (lenR + lenS + 7 !== n) return false;
  if (sig[2] !== 0x02) return false;
  if (lenR === 0) return false;
  if (sig[4]! & 0x80) return false;
  if (lenR > 1 && sig[4] === 0x00 && !(sig[5]! & 0x80)) return false;
  if (sig[lenR + 4] !== 0x02) return false;
  if (lenS === 0) return false;
  if (sig[lenR + 6]! & 0x80) return false;
  if (lenS > 1 && sig[lenR + 6] === 0x00 && !(sig[lenR + 7]! & 0x80)) return false;
  return true;
}

export interface EcdsaRS {
  r: bigint;
  s: bigint;
}

const ZERO_RS: EcdsaRS = Object.freeze({ r: 0n, s: 0n });

/**
 * Core's ecdsa_signature_parse_der_lax (pubkey.cpp): accepts the BER-ish encodings
 * that OpenSSL accepted before BIP66. Returns undefined when it cannot parse, and
 * r = s = 0 (a signature that never verifies) when a value overflows the curve order.
 */
export function parseDerLax(der: Uint8Array): EcdsaRS | undefined {
  if (!readLaxSequence(der)) return undefined;
  const r = laxValue(der, lax[0]!, lax[1]!);
  const s = laxValue(der, lax[2]!, lax[3]!);
  if (r === undefined || s === undefined || r >= CURVE_ORDER || s >= CURVE_ORDER) return ZERO_RS;
  return { r, s };
}

/**
 * Where readLaxSequence found the two integers: r's start and length, then s's. One per thread,
 * read at once by its caller: no objects per signature (three of them were ~160 bytes an input).
 */
const lax = new Int32Array(4);

/** The sequence header and the two integers of a lax DER signature (trailing bytes ignored, as Core does), into `lax`. */
function readLaxSequence(der: Uint8Array): boolean {
  const len = der.length;
  let pos = 0;
  if (pos === len || der[pos] !== 0x30) return false;
  pos++;
  if (pos === len) return false;
  let lenbyte = der[pos++]!;
  if (lenbyte & 0x80) {
    lenbyte -= 0x80;
    if (lenbyte > len - pos) return false;
    pos += lenbyte;
  }
  const rEnd = readLaxInteger(der, pos, 0);
  return rEnd >= 0 && readLaxInteger(der, rEnd, 2) >= 0;
}

/** One integer at `pos`: its start and length into lax[slot], lax[slot + 1]; its end, or -1. */
function readLaxInteger(der: Uint8Array, pos: number, slot: 0 | 2): number {
  const len = der.length;
  if (pos === len || der[pos] !== 0x02) return -1;
  pos++;
  if (pos === len) return -1;
  let lenbyte = der[pos++]!;
  let vlen: number;
  if (lenbyte & 0x80) {
    lenbyte -= 0x80;
    if (lenbyte > len - pos) return -1;
    while (lenbyte > 0 && der[pos] === 0) {
      pos++;
      lenbyte--;
    }
    if (lenbyte >= 4) return -1;
    vlen = 0;
    while (lenbyte > 0) {
      vlen = vlen * 256 + der[pos]!;
      pos++;
      lenbyte--;
    }
  } else {
    vlen = lenbyte;
  }
  if (vlen > len - pos) return -1;
  lax[slot] = pos;
  lax[slot + 1] = vlen;
  return pos + vlen;
}

/** The integer's value after skipping leading zeroes; undefined if over 32 bytes (overflow). */
function laxValue(der: Uint8Array, start: number, length: number): bigint | undefined {
  while (length > 0 && der[start] === 0) {
    start++;
    length--;
  }
  if (length > 32) return undefined;
  let v = 0n;
  for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(der[start + i]!);
  return v;
}

/** The curve order n and n / 2 as 32 big-endian bytes. */
const ORDER_BYTES = bigTo32(CURVE_ORDER);
const HALF_ORDER_BYTES = bigTo32(HALF_ORDER);

function bigTo32(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** Compare the 32 big-endian bytes at a[at..] with b: negative, zero or positive. */
export function compare256(a: Uint8Array, at: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = a[at + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * parseDerLax into `out` as r || s, 32 big-endian bytes each, as libsecp256k1's compact form:
 * the same accept/reject decisions, and all zeroes (never verifies) when a value overflows the
 * curve order. False when it cannot parse. No bigints: on block 928927 building r and s as
 * bigints (and turning them back into bytes for libsecp256k1) was ~2 µs of ~60 µs per input.
 */
export function parseDerLaxCompact(der: Uint8Array, out: Uint8Array): boolean {
  if (!readLaxSequence(der)) return false;
  out.fill(0, 0, 64);
  if (!copyLax(der, lax[0]!, lax[1]!, out, 0) || !copyLax(der, lax[2]!, lax[3]!, out, 32) || compare256(out, 0, ORDER_BYTES) >= 0 || compare256(out, 32, ORDER_BYTES) >= 0) {
    out.fill(0, 0, 64);
  }
  return true;
}

/** Copy the integer right-aligned into out[at..at+32) after its leading zeroes; false if over 32 bytes. */
function copyLax(der: Uint8Array, start: number, length: number, out: Uint8Array, at: number): boolean {
  while (length > 0 && der[start] === 0) {
    start++;
    length--;
  }
  if (length > 32) return false;
  // A loop, not set(subarray()): no view allocated per integer of every signature.
  for (let i = 0, to = at + 32 - length; i < length; i++) out[to + i] = der[start + i]!;
  return true;
}

/** Whether s (bytes 32..64 of a compact signature) is above n / 2. */
export function isHighS(rs64: Uint8Array): boolean {
  return compare256(rs64, 32, HALF_ORDER_BYTES) > 0;
}

/** Whether the 32 bytes at a[at..] are all zero. */
export function isZero256(a: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (a[at + i] !== 0) return false;
  return true;
}

/** s := n - s in place (bytes 32..64), for 0 < s < n. */
export function negateS(rs64: Uint8Array): void {
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    const d = ORDER_BYTES[i]! - rs64[32 + i]! - borrow;
    borrow = d < 0 ? 1 : 0;
    rs64[32 + i] = d & 0xff;
  }
}

/** Core's IsDefinedHashtypeSignature (STRICTENC). */
export function isDefinedHashtypeSignature(sig: Uint8Array): boolean {
  if (sig.length === 0) return false;
  const base = sig[sig.length - 1]! & ~SIGHASH_ANYONECANPAY;
  return base >= SIGHASH_ALL && base <= SIGHASH_SINGLE;
}

const lowSScratch = new Uint8Array(64);

/** Core's CheckSignatureEncoding: throws the script error the flags call for. */
export function checkSignatureEncoding(sig: Uint8Array, flags: number): void {
  // An empty signature is the compact way to fail CHECK(MULTI)SIG on purpose.
  if (sig.length === 0) return;
  if ((flags & (SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_LOW_S | SCRIPT_VERIFY_STRICTENC)) !== 0 && !isValidSignatureEncoding(sig)) {
    throw new ScriptFailure('SIG_DER');
  }
  if ((flags & SCRIPT_VERIFY_LOW_S) !== 0) {
    if (!parseDerLaxCompact(sig.subarray(0, sig.length - 1), lowSScratch) || isHighS(lowSScratch)) throw new ScriptFailure('SIG_HIGH_S');
  }
  if ((flags & SCRIPT_VERIFY_STRICTENC) !== 0 && !isDefinedHashtypeSignature(sig)) {
    throw new ScriptFailure('SIG_HASHTYPE');
  }
}

function isCompressedOrUncompressedPubKey(pk: Uint8Array): boolean {
  if (pk.length < 33) return false;
  if (pk[0] === 0x04) return pk.length === 65;
  if (pk[0] === 0x02 || pk[0] === 0x03) return pk.length === 33;
  return false;
}

/** Core's IsCompressedPubKey: 33 bytes behind an 02 or 03 prefix. */
export function isCompressedPubKey(pk: Uint8Array): boolean {
  return pk.length === 33 && (pk[0] === 0x02 || pk[0] === 0x03);
}

/** Core's CheckPubKeyEncoding. */
export function checkPubKeyEncoding(pubkey: Uint8Array, flags: number, sigversion: SigVersion): void {
  if ((flags & SCRIPT_VERIFY_STRICTENC) !== 0 && !isCompressedOrUncompressedPubKey(pubkey)) {
    throw new ScriptFailure('PUBKEYTYPE');
  }
  if ((flags & SCRIPT_VERIFY_WITNESS_PUBKEYTYPE) !== 0 && sigversion === SigVersion.WITNESS_V0 && !isCompressedPubKey(pubkey)) {
    throw new ScriptFailure('WITNESS_PUBKEYTYPE');
  }
}

/**
 * The key as libsecp256k1's ec_pubkey_parse accepts it, in a form noble parses:
 * 33-byte compressed or 65-byte uncompressed; hybrid keys (06/07, Core's CPubKey
 * accepts them) become 04 when their parity byte matches y. Undefined if invalid.
 */
export function normalizePubKey(pk: Uint8Array): Uint8Array | undefined {
  const h = pk[0];
  if (pk.length === 33 && (h === 0x02 || h === 0x03)) return pk;
  if (pk.length === 65 && h === 0x04) return pk;
  if (pk.length === 65 && (h === 0x06 || h === 0x07)) {
    if ((pk[64]! & 1) !== (h & 1)) return undefined;
    const out = pk.slice();
    out[0] = 0x04;
    return out;
  }
  return undefined;
}

/** The signature primitives a backend provides; noble by default. */
export interface SignatureBackend {
  readonly name: string;
  /** ECDSA over a 32-byte digest, no prehash, high S accepted (Core normalizes S first). */
  verifyEcdsa(rs: EcdsaRS, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  /**
   * Optional: verifyEcdsa from r || s as 64 big-endian bytes (each below n; all zero when the
   * DER overflowed), as parseDerLaxCompact writes them; same answers, no bigints. The caller
   * may reuse the buffer after the call returns.
   */
  verifyEcdsaCompact?(rs64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  /** BIP340 over a 32-byte message with an x-only key. */
  verifySchnorr(sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array): boolean;
  /**
   * Optional: a compressed key (33 bytes, 02 or 03) as its 65-byte uncompressed encoding, or
   * undefined when it is not a point. Verifying with that form skips the key's square root
   * (PubKeyMemo does so for keys that sign more than once).
   */
  decompressPubKey?(key33: Uint8Array): Uint8Array | undefined;
  /**
   * Optional: Core's XOnlyPubKey::CheckTapTweak (secp256k1_xonly_pubkey_tweak_add_check): whether
   * `outputKey` (32 bytes) with y parity `parity` is internalKey + tweak·G. False for an internal
   * key that is not on the curve or a tweak not below n. Without it, taproot.ts computes the
   * tweak with noble.
   */
  checkTapTweak?(internalKey: Uint8Array, tweak: Uint8Array, outputKey: Uint8Array, parity: number): boolean;
  /**
   * True when connecting a block should verify this backend's BIP340 checks in batches (the
   * default backend: ~2.1x faster per signature in batches of 64, ~2.3x in 256, bench/batch-schnorr).
   * libsecp256k1 verifies one in ~70 µs native or ~220 µs wasm, faster than such a batch does
   * per signature (~160 µs at 256).
   */
  readonly batchSchnorr?: boolean;
  /** Where a counting backend counts (countingBackend); SchnorrBatch adds what it verifies in batches. */
  readonly counts?: SignatureCounts;
}

export const nobleBackend: SignatureBackend = {
  name: 'noble',
  batchSchnorr: true,
  // noble-verify.ts: noble's arithmetic, but only its refusals of the data answer false.
  verifyEcdsa(rs, msg32, pubkey) {
    return verifyEcdsaNoble(rs.r, rs.s, msg32, pubkey);
  },
  verifyEcdsaCompact(rs64, msg32, pubkey) {
    if (rs64.length !== 64) return false;
    return verifyEcdsaNoble(readBig256(rs64, 0), readBig256(rs64, 32), msg32, pubkey);
  },
  verifySchnorr: verifySchnorrNoble,
  decompressPubKey(key33) {
    if (!isCompressedPubKey(key33)) return undefined;
    const q = parsePubKey(key33);
    if (q === undefined) return undefined;
    const full = new Uint8Array(65);
    const dv = new DataView(full.buffer);
    full[0] = 0x04;
    writeBig256(dv, 1, q.x);
    writeBig256(dv, 33, q.y);
    return full;
  },
};

/** Signature verifications made through a backend, by kind. */
export interface SignatureCounts {
  ecdsa: number;
  schnorr: number;
}

/** The same backend, counting its verifications into `counts` (for metrics). */
export function countingBackend(inner: SignatureBackend, counts: SignatureCounts): SignatureBackend {
  const compact = inner.verifyEcdsaCompact?.bind(inner);
  return {
    name: inner.name,
    verifyEcdsa(rs, msg32, pubkey) {
      counts.ecdsa++;
      return inner.verifyEcdsa(rs, msg32, pubkey);
    },
    ...(compact !== undefined && {
      verifyEcdsaCompact(rs64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean {
        counts.ecdsa++;
        return compact(rs64, msg32, pubkey);
      },
    }),
    verifySchnorr(sig64, msg32, xonly32) {
      counts.schnorr++;
      return inner.verifySchnorr(sig64, msg32, xonly32);
    },
    ...(inner.checkTapTweak !== undefined && { checkTapTweak: inner.checkTapTweak.bind(inner) }),
    ...(inner.decompressPubKey !== undefined && { decompressPubKey: inner.decompressPubKey.bind(inner) }),
    ...(inner.batchSchnorr !== undefined && { batchSchnorr: inner.batchSchnorr }),
    counts,
  };
}
