// BIP340 signatures checked by libsecp256k1's native ECDSA verification.
//
// The native binding (`secp256k1`) has no Schnorr, and tiny-secp256k1's wasm build takes ~210 µs
// a check here against ~35 µs for a native ECDSA verification. This module checks a BIP340
// signature with one native ECDSA verification and one native point addition.
//
// Why it is the same check. BIP340: with e = H(r || P || m) mod n, a signature (r, s) is valid iff
// R = s·G − e·P is not infinity, has an even y, and x(R) = r. An ECDSA verification of (r', s')
// over message z and key P computes u1·G + u2·P with u1 = z/s', u2 = r'/s', and accepts iff the
// point is not infinity and its x ≡ r' (mod n). Choosing s' = −r'/e and z = (s + t)·s' gives
// u1 = s + t and u2 = −e, so the point is R + T with T = t·G. Take R* = lift_x(r), the even-y
// point with x r, and r' = x(R* + T) mod n. ECDSA then accepts iff x(R + T) ≡ x(R* + T) (mod n):
//   - R + T = R* + T, i.e. R = R*: exactly BIP340's condition;
//   - R + T = −(R* + T), i.e. R = −R* − 2T, or x(R + T) = x(R* + T) ± n.
// (R at infinity passes only if R* = −2T.) These are points that depend on T, and t is a secret
// random scalar of this thread, renewed every ROTATE checks: a signer cannot aim at them, as a
// signer cannot aim at the random weights of BIP340 batch verification. Soundness rests on t
// staying secret: the tests build, from a known t, a signature that BIP340 rejects and this
// accepts. Without T nothing secret would be involved: with t = 0, R = −R* (the odd-y point of x
// r) would pass, and a signer who kept an odd-y nonce could make a signature that Core rejects
// and this would accept (test/schnorr-by-ecdsa.test.ts). libsecp256k1's verification is not
// constant-time, so its timing depends a little on u1 = s + t; a new t every 32 checks (~0.7 µs a
// check) leaves a spy on the same machine little to learn before it changes.
//
// The rest is exact: r ≥ p and s ≥ n fail as in BIP340; an r that is no x coordinate cannot be
// x(R); a key that is not an x coordinate fails to parse, as lift_x(P) fails in BIP340. The cases
// the algebra cannot take (R* + T at infinity, r' = 0, e = 0; each has probability ~2^-256 for
// a signer who does not know t) go to the exact check given.

import { equalBytes, readBig256, writeBig256 } from '../primitives/bytes.js';
import { sha256 } from '../primitives/hash.js';
import { invertModN } from './field.js';
import { CURVE_ORDER } from './signature.js';

/**
 * libsecp256k1 refused the data (backends.ts's nativeCalls): status 1, a key it cannot parse; status 2,
 * a tweak not below n or a result at infinity. Anything else thrown by a call is our own failure.
 */
export class NativeRefusal extends Error {
  constructor(
    readonly what: string,
    readonly status: number,
  ) {
    super(`secp256k1 ${what} failed (status ${status})`);
    this.name = 'NativeRefusal';
  }
}

/** Whether `err` is libsecp256k1 answering that the data does not parse or sums to infinity. */
export function isDataRefusal(err: unknown): boolean {
  return err instanceof NativeRefusal && (err.status === 1 || err.status === 2);
}

/** What this module calls on the `secp256k1` (v5) binding (backends.ts's nativeCalls). */
export interface NativeEcdsaOps {
  /** False also for a signature or key it cannot parse. */
  ecdsaVerify(sig64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  /** seckey·G; throws unless 0 < seckey < n. */
  publicKeyCreate(seckey: Uint8Array, compressed?: boolean): Uint8Array;
  /** The sum of the keys; throws when one does not parse or the sum is infinity. */
  publicKeyCombine(pubkeys: Uint8Array[], compressed?: boolean): Uint8Array;
}

/** secp256k1's field prime. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const N = CURVE_ORDER;
const HALF_N = N >> 1n;
/** Checks made with one offset point before a new one is drawn (a draw costs ~22 µs). */
export const ROTATE = 32;

export interface SchnorrByEcdsa {
  verify(sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array): boolean;
  /** Checks answered by the exact check instead (R* + T at infinity, r' = 0, e = 0). */
  readonly fallbacks: number;
}

/** 32 random bytes from the platform's CSPRNG. */
function randomBytes32(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * A BIP340 verifier on `native`, answering the rare cases the reduction cannot take with `exact`.
 * `random` draws t (tests pass their own to reach those cases); it must be a CSPRNG otherwise.
 */
export function schnorrByEcdsa(
  native: NativeEcdsaOps,
  exact: (sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array) => boolean,
  random: () => Uint8Array = randomBytes32,
): SchnorrByEcdsa {
  let t = 0n;
  let offset: Uint8Array | undefined; // T = t·G, uncompressed: the sum parses it without a square root
  let uses = 0;
  let fallbacks = 0;
  const draw = (): void => {
    for (;;) {
      const bytes = random();
      const k = readBig256(bytes, 0);
      if (k === 0n || k >= N) continue;
      t = k;
      offset = native.publicKeyCreate(bytes, false);
      uses = 0;
      return;
    }
  };
  const r33 = new Uint8Array(33);
  r33[0] = 2;
  const key33 = new Uint8Array(33);
  key33[0] = 2;
  const sig = new Uint8Array(64);
  const sigView = new DataView(sig.buffer);
  const z = new Uint8Array(32);
  // BIP340's challenge, hashed in one call: SHA256(tag) twice, then r, the key and the message.
  const challenge = new Uint8Array(160);
  const tag = sha256(new TextEncoder().encode('BIP0340/challenge'));
  challenge.set(tag, 0);
  challenge.set(tag, 32);
  const zView = new DataView(z.buffer);
  const fallback = (sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array): boolean => {
    fallbacks++;
    return exact(sig64, msg32, xonly32);
  };

  const verify = (sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array): boolean => {
    if (sig64.length !== 64 || msg32.length !== 32 || xonly32.length !== 32) return false;
    const r = readBig256(sig64, 0);
    const s = readBig256(sig64, 32);
    if (r >= P || s >= N) return false;
    if (offset === undefined || uses === ROTATE) draw();
    uses++;
    // r' = x(R* + T) mod n. The sum throws when r is no x coordinate (then no R has x r: invalid)
    // and when R* + T is infinity, which needs R* = −T, so x(T) = r: only then is the exact check
    // asked which it was.
    r33.set(sig64.subarray(0, 32), 1);
    const tPoint = offset!;
    let sum: Uint8Array;
    try {
      sum = native.publicKeyCombine([r33, tPoint], true);
    } catch (err) {
      // Only libsecp256k1's answer about the data decides; any other throw is our own failure.
      if (!isDataRefusal(err)) throw err;
      return equalBytes(r33.subarray(1), tPoint.subarray(1, 33)) ? fallback(sig64, msg32, xonly32) : false;
    }
    const rPrime = readBig256(sum, 1) % N;
    challenge.set(sig64.subarray(0, 32), 64);
    challenge.set(xonly32, 96);
    challenge.set(msg32, 128);
    const e = readBig256(sha256(challenge), 0) % N;
    if (rPrime === 0n || e === 0n) return fallback(sig64, msg32, xonly32);
    const sPrime = N - ((rPrime * invertModN(e)) % N); // −r'/e, never 0
    // z = (s + t)·s'; libsecp256k1 verifies low-S only, and (r', n − s') puts −(R + T) at the same x.
    writeBig256(zView, 0, (((s + t) % N) * sPrime) % N);
    writeBig256(sigView, 0, rPrime);
    writeBig256(sigView, 32, sPrime > HALF_N ? N - sPrime : sPrime);
    key33.set(xonly32, 1);
    // False too when the key is no x coordinate (lift_x(P) fails: the key does not parse).
    return native.ecdsaVerify(sig, z, key33);
  };
  return {
    verify,
    get fallbacks() {
      return fallbacks;
    },
  };
}
