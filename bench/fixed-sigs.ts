// Fixed signatures for the signature-rate references of the blocks suite (bench/blocks.ts), shared
// with its spinning worker threads (bench/verify-spin.ts): deterministic keys and messages, checked
// before any timing.

import { createHash } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { readBig256 } from '../src/primitives/bytes.js';
import { parseDerLax, type EcdsaRS, type SignatureBackend } from '../src/script/signature.js';
import { check } from './report.js';

export const SET_SIZE = 16;

function det(label: string, i: number): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(`vigil bench blocks ${label} ${i}`).digest());
}

export interface Fixed {
  readonly schnorr: Array<{ sig: Uint8Array; msg: Uint8Array; xonly: Uint8Array }>;
  /**
   * `pubkey` is the 33-byte key a transaction carries; `rs64` and `pubkey65` are the forms script
   * checking hands a backend once a key has signed before (verifyEcdsaCompact on the key's
   * uncompressed form, from PubKeyMemo), which skips the square root of parsing a compressed key.
   */
  readonly ecdsa: Array<{ rs: EcdsaRS; msg: Uint8Array; pubkey: Uint8Array; rs64: Uint8Array; pubkey65: Uint8Array }>;
}

/** What a reference verifies: BIP340, ECDSA on 33-byte keys, or ECDSA as script checking verifies a key it has seen. */
export type FixedKind = 'schnorr' | 'ecdsa' | 'ecdsa65';

export function fixedSignatures(): Fixed {
  const schnorrSet = Array.from({ length: SET_SIZE }, (_, i) => {
    const sk = det('schnorr key', i);
    const msg = det('schnorr msg', i);
    return { sig: schnorr.sign(msg, sk, new Uint8Array(32)), msg, xonly: schnorr.getPublicKey(sk) };
  });
  const ecdsaSet = Array.from({ length: SET_SIZE }, (_, i) => {
    const sk = det('ecdsa key', i);
    const msg = det('ecdsa msg', i);
    const rs64 = secp256k1.sign(msg, sk, { prehash: false });
    const der = secp256k1.Signature.fromBytes(rs64, 'compact').toBytes('der');
    const rs = parseDerLax(der);
    if (rs === undefined) throw new Error('lax DER parser rejected a DER signature from noble');
    return { rs, msg, pubkey: secp256k1.getPublicKey(sk, true), rs64, pubkey65: secp256k1.getPublicKey(sk, false) };
  });
  return { schnorr: schnorrSet, ecdsa: ecdsaSet };
}

export function checkFixed(f: Fixed, b: SignatureBackend): void {
  for (const [i, c] of f.schnorr.entries()) {
    check(b.verifySchnorr(c.sig, c.msg, c.xonly), `${b.name}: fixed schnorr signature ${i} verifies`);
    const bad = Uint8Array.from(c.msg);
    bad[0]! ^= 1;
    check(!b.verifySchnorr(c.sig, bad, c.xonly), `${b.name}: fixed schnorr signature ${i} fails on another message`);
  }
  for (const [i, c] of f.ecdsa.entries()) {
    check(b.verifyEcdsa(c.rs, c.msg, c.pubkey), `${b.name}: fixed ecdsa signature ${i} verifies`);
    check(!b.verifyEcdsa({ r: c.rs.r, s: c.rs.s ^ 1n }, c.msg, c.pubkey), `${b.name}: fixed ecdsa signature ${i} with a flipped s bit fails`);
    check(verifyEcdsa65(b, c.rs64, c.msg, c.pubkey65), `${b.name}: fixed ecdsa signature ${i} verifies as r‖s on the 65-byte key`);
    const flipped = Uint8Array.from(c.rs64);
    flipped[63]! ^= 1;
    check(!verifyEcdsa65(b, flipped, c.msg, c.pubkey65), `${b.name}: fixed ecdsa signature ${i} as r‖s with a flipped s bit fails on the 65-byte key`);
  }
}

/** ECDSA as script checking calls a backend (verify.ts): the compact form where it has one. */
function verifyEcdsa65(b: SignatureBackend, rs64: Uint8Array, msg: Uint8Array, pubkey65: Uint8Array): boolean {
  return b.verifyEcdsaCompact !== undefined ? b.verifyEcdsaCompact(rs64, msg, pubkey65) : b.verifyEcdsa({ r: readBig256(rs64, 0), s: readBig256(rs64, 32) }, msg, pubkey65);
}

/** One verify of the fixed signature `n` (mod SET_SIZE) of one kind. */
export function verifyFixed(f: Fixed, b: SignatureBackend, kind: FixedKind, n: number): boolean {
  if (kind === 'schnorr') {
    const c = f.schnorr[n & (SET_SIZE - 1)]!;
    return b.verifySchnorr(c.sig, c.msg, c.xonly);
  }
  const c = f.ecdsa[n & (SET_SIZE - 1)]!;
  return kind === 'ecdsa' ? b.verifyEcdsa(c.rs, c.msg, c.pubkey) : verifyEcdsa65(b, c.rs64, c.msg, c.pubkey65);
}

/**
 * Single verifies of the fixed signatures through `b` on this thread, one kind, for `ms`: how many,
 * in how long, and whether every one returned true.
 */
export function verifyFor(f: Fixed, b: SignatureBackend, kind: FixedKind, ms: number): { count: number; elapsedMs: number; ok: boolean } {
  let n = 0;
  let ok = true;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let j = 0; j < 8; j++, n++) ok = verifyFixed(f, b, kind, n) && ok;
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  return { count: n, elapsedMs: elapsed, ok };
}
