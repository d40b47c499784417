// ECDSA and BIP340 verification for the default (pure JavaScript) backend: keys parsed and
// points multiplied by field.ts and ecmult.ts, ~3x faster than @noble/curves' verify() here, and
// without its catch-all: noble's verify() answers false for anything thrown inside it, our
// failures included (out of memory, a stack overflow, a bug), which would call a valid signature
// invalid and so a valid block invalid, for good. Here only the data answers false (a key that
// is not a point, an x with no square root, x ≥ p, r or s out of range); anything thrown is our
// own failure, and the caller reports it as one (an internal error), as Core's verification never
// fails but on the data.

import { createHash, type Hash } from 'node:crypto';
import { readBig256 } from '../primitives/bytes.js';
import { mulAddG } from './ecmult.js';
import { Jacobian, N, P, invertModN, liftX, parsePubKey, red } from './field.js';

/** Big-endian bytes of any length as a number (readBig256 reads exactly 32). */
export function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
}

/** SHA256(tag) || SHA256(tag) for "BIP0340/challenge", hashed once; each challenge copies it. */
const challengePrefix: Hash = (() => {
  const tag = createHash('sha256').update('BIP0340/challenge').digest();
  return createHash('sha256').update(tag).update(tag);
})();

/** e = int(hash_BIP0340/challenge(r || P || m)) mod n. */
export function challenge(r32: Uint8Array, p32: Uint8Array, msg: Uint8Array): bigint {
  return readBig256(challengePrefix.copy().update(r32).update(p32).update(msg).digest(), 0) % N;
}

/**
 * ECDSA as Core's CPubKey::Verify checks it once the lax DER parse gave r and s: high S accepted
 * (libsecp256k1 normalises first), r or s outside [1, n-1] never verifies, the key 33 or 65 bytes
 * (hybrid keys already turned into 04 keys), the message 32 bytes, no prehash:
 * u1 = h·s⁻¹, u2 = r·s⁻¹, R = u1·G + u2·Q, valid when R is not infinity and x(R) mod n = r.
 */
export function verifyEcdsaNoble(r: bigint, s: bigint, msg32: Uint8Array, pubkey: Uint8Array): boolean {
  if (r <= 0n || s <= 0n || r >= N || s >= N || msg32.length !== 32) return false;
  const q = parsePubKey(pubkey);
  if (q === undefined) return false;
  const sInv = invertModN(s);
  const R = mulAddG((readBig256(msg32, 0) * sInv) % N, q, (r * sInv) % N);
  return !R.isZero() && xModNIs(R, r);
}

/**
 * Whether x(R) mod n = r for a finite Jacobian R and r in [1, n), without R's affine form:
 * x = X/Z², so x = r exactly when X = r·Z², and x mod n = r when x is r or r + n (only below p,
 * as x is). This saves an inversion (libsecp256k1's secp256k1_gej_eq_x_var does the same).
 */
function xModNIs(R: Jacobian, r: bigint): boolean {
  const zz = red(R.Z * R.Z);
  if (red(r * zz) === R.X) return true;
  return r + N < P && red((r + N) * zz) === R.X;
}

/**
 * BIP340 Verify: P = lift_x(pk); fail if r ≥ p or s ≥ n; e = challenge(r, P, m);
 * R = s·G − e·P; valid when R is not infinity, has an even y, and x(R) = r.
 */
export function verifySchnorrNoble(sig64: Uint8Array, msg: Uint8Array, pub32: Uint8Array): boolean {
  if (sig64.length !== 64 || pub32.length !== 32) return false;
  const pk = liftX(readBig256(pub32, 0), false);
  if (pk === undefined) return false;
  const r = readBig256(sig64, 0);
  if (r >= P) return false;
  const s = readBig256(sig64, 32);
  if (s >= N) return false;
  // lift_x keeps x (below p), so bytes(P) is pub32.
  const e = challenge(sig64.subarray(0, 32), pub32, msg);
  const R = mulAddG(s, pk, e === 0n ? 0n : N - e).toAffine();
  return R !== undefined && (R.y & 1n) === 0n && R.x === r;
}
