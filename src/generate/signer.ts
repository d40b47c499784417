// Signing for the chain generator: ECDSA (strict DER, low S) and BIP340 Schnorr over
// @noble/curves. The default 'pool' mode draws each nonce from a small seeded pool of
// precomputed R = k·G, which takes signing from ~0.5 ms (ECDSA) / ~1.7 ms (Schnorr, noble
// verifies its own output) to a few microseconds. The signatures are ordinary valid signatures;
// reusing nonces leaks the keys, which are public anyway (they come from the seed).
// 'rfc6979' signs with noble's own deterministic nonces, for chains that must look textbook.

import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { taggedHash } from '../primitives/hash.js';
import { Rng } from './prng.js';

const Point = secp256k1.Point;
const Fn = Point.Fn;
const N = Fn.ORDER;
const HALF_N = N >> 1n;

export type NonceMode = 'pool' | 'rfc6979';

export interface EcdsaKey {
  readonly secret: Uint8Array;
  readonly d: bigint;
  /** SEC1 encoding: 33 bytes compressed, or 65 uncompressed. */
  readonly pubkey: Uint8Array;
}

export interface SchnorrKey {
  /** The secret as drawn (or tweaked); its point may have an odd y. */
  readonly secret: Uint8Array;
  /** The secret whose point has an even y: the one BIP340 signs with. */
  readonly d: bigint;
  /** x-only public key. */
  readonly xonly: Uint8Array;
}

export function bytesToBig(b: Uint8Array): bigint {
  return BigInt('0x' + (Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex') || '0'));
}

export function bigTo32(v: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
}

/** A secret in [1, n-1] from the stream. */
export function drawSecret(rng: Rng): Uint8Array {
  for (;;) {
    const s = rng.bytes(32);
    const v = bytesToBig(s);
    if (v > 0n && v < N) return s;
  }
}

export function ecdsaKey(secret: Uint8Array, compressed = true): EcdsaKey {
  return { secret, d: bytesToBig(secret), pubkey: secp256k1.getPublicKey(secret, compressed) };
}

export function schnorrKey(secret: Uint8Array): SchnorrKey {
  const d0 = bytesToBig(secret);
  const p = Point.BASE.multiply(d0).toAffine();
  return { secret, d: (p.y & 1n) === 0n ? d0 : N - d0, xonly: bigTo32(p.x) };
}

interface Nonce {
  /** k for ECDSA, and its inverse. */
  readonly kinv: bigint;
  /** ECDSA r = R.x mod n. */
  readonly r: bigint;
  /** BIP340: k negated when R.y is odd, and R.x. */
  readonly kEven: bigint;
  readonly rx: Uint8Array;
}

/** Minimal big-endian encoding of a positive integer as a DER INTEGER body. */
function derInt(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length & 1) hex = '0' + hex;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
  return Buffer.from(hex, 'hex');
}

/** Strict DER (BIP66) signature followed by the hash-type byte. */
export function encodeDerSignature(r: bigint, s: bigint, hashType: number): Uint8Array {
  const rb = derInt(r);
  const sb = derInt(s);
  const out = new Uint8Array(6 + rb.length + sb.length + 1);
  out[0] = 0x30;
  out[1] = 4 + rb.length + sb.length;
  out[2] = 0x02;
  out[3] = rb.length;
  out.set(rb, 4);
  out[4 + rb.length] = 0x02;
  out[5 + rb.length] = sb.length;
  out.set(sb, 6 + rb.length);
  out[out.length - 1] = hashType;
  return out;
}

const ZERO32 = new Uint8Array(32);

export class Signer {
  private readonly pool: Nonce[] = [];

  constructor(
    seed: Uint8Array,
    readonly mode: NonceMode = 'pool',
    poolSize = 64,
  ) {
    if (mode !== 'pool' && mode !== 'rfc6979') throw new TypeError(`unknown nonce mode ${String(mode)}`);
    if (mode === 'pool') {
      const rng = new Rng(seed, 'nonces');
      while (this.pool.length < poolSize) {
        const k = bytesToBig(drawSecret(rng));
        const R = Point.BASE.multiply(k).toAffine();
        const r = R.x % N;
        if (r === 0n) continue;
        this.pool.push({ kinv: Fn.inv(k), r, kEven: (R.y & 1n) === 0n ? k : N - k, rx: bigTo32(R.x) });
      }
    }
  }

  private nonceFor(hash: Uint8Array, salt: number): Nonce {
    return this.pool[((hash[0]! | (hash[1]! << 8)) + salt) % this.pool.length]!;
  }

  /** ECDSA over a 32-byte sighash: strict DER, low S, then the hash-type byte. */
  signEcdsa(hash: Uint8Array, key: EcdsaKey, hashType: number): Uint8Array {
    if (this.mode === 'rfc6979') {
      const sig = secp256k1.sign(hash, key.secret, { prehash: false, lowS: true, format: 'der' });
      const out = new Uint8Array(sig.length + 1);
      out.set(sig, 0);
      out[sig.length] = hashType;
      return out;
    }
    const z = bytesToBig(hash) % N;
    for (let salt = 0; ; salt++) {
      const { kinv, r } = this.nonceFor(hash, salt);
      let s = (kinv * ((z + r * key.d) % N)) % N;
      if (s === 0n) continue;
      if (s > HALF_N) s = N - s;
      return encodeDerSignature(r, s, hashType);
    }
  }

  /** BIP340 over a 32-byte sighash; 64 bytes for SIGHASH_DEFAULT (0), else 65 with the type appended. */
  signSchnorr(hash: Uint8Array, key: SchnorrKey, hashType: number): Uint8Array {
    const out = new Uint8Array(hashType === 0 ? 64 : 65);
    if (hashType !== 0) out[64] = hashType;
    if (this.mode === 'rfc6979') {
      out.set(schnorr.sign(hash, key.secret, ZERO32), 0);
      return out;
    }
    const { kEven, rx } = this.nonceFor(hash, 0);
    const e = bytesToBig(taggedHash('BIP0340/challenge', rx, key.xonly, hash)) % N;
    const s = (kEven + e * key.d) % N;
    out.set(rx, 0);
    out.set(bigTo32(s), 32);
    return out;
  }
}
