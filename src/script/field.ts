// secp256k1's field and group arithmetic on bigints, for public data only (nothing here is
// constant-time): the field mod p with the fold p's shape allows, Jacobian points, inverses by
// Lehmer's extended Euclid, and square roots. Verification (ecmult.ts) and batch verification
// (msm.ts) are built on it. noble's own arithmetic reduces with `%` (~210 ns a product here
// against ~150 ns for the fold) and adds with complete projective formulas (~4–5 µs an addition,
// ~3.5 µs a doubling, against ~1.7 and ~1.1 µs below).

import { ECDH } from 'node:crypto';
import { invert } from '@noble/curves/abstract/modular.js';
import { readBig256, writeBig256 } from '../primitives/bytes.js';

/** The field prime p = 2^256 − 2^32 − 977. */
export const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
/** The group order n. */
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** The generator G. */
export const G: Affine = {
  x: 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
  y: 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
};
const MASK256 = (1n << 256n) - 1n;
/** p = 2^256 − C. */
const C = (1n << 256n) - P;

export interface Affine {
  readonly x: bigint;
  readonly y: bigint;
}

// ---- the field mod p (values kept in [0, p)) -------------------------------------------------

/** x mod p for 0 ≤ x < 2^514, folding the top half with 2^256 ≡ C (much faster than `% P`). */
export function red(x: bigint): bigint {
  let r = (x & MASK256) + (x >> 256n) * C; // < 2^256 + 2^291
  r = (r & MASK256) + (r >> 256n) * C; // < 2^256 + 2^68 < 2p
  return r >= P ? r - P : r;
}

export function sub(a: bigint, b: bigint): bigint {
  const r = a - b;
  return r < 0n ? r + P : r;
}

export function add(a: bigint, b: bigint): bigint {
  const r = a + b;
  return r >= P ? r - P : r;
}

/** a^(2^k) mod p. */
function sqrN(a: bigint, k: number): bigint {
  for (let i = 0; i < k; i++) a = red(a * a);
  return a;
}

/**
 * A square root of a mod p (0 ≤ a < p), or undefined when a is not a square. p ≡ 3 (mod 4), so
 * the root is a^((p+1)/4), here by libsecp256k1's chain of 253 squarings and 13 multiplications
 * (~40 µs; noble's, reducing with `%`, ~65 µs).
 */
export function sqrt(a: bigint): bigint | undefined {
  const x2 = red(sqrN(a, 1) * a);
  const x3 = red(sqrN(x2, 1) * a);
  const x6 = red(sqrN(x3, 3) * x3);
  const x9 = red(sqrN(x6, 3) * x3);
  const x11 = red(sqrN(x9, 2) * x2);
  const x22 = red(sqrN(x11, 11) * x11);
  const x44 = red(sqrN(x22, 22) * x22);
  const x88 = red(sqrN(x44, 44) * x44);
  const x176 = red(sqrN(x88, 88) * x88);
  const x220 = red(sqrN(x176, 44) * x44);
  const x223 = red(sqrN(x220, 3) * x3);
  let t = red(sqrN(x223, 23) * x22);
  t = red(sqrN(t, 6) * x2);
  const root = sqrN(t, 2);
  return red(root * root) === a ? root : undefined;
}

/** x³ + 7: y² for a point with x coordinate x. */
export function curveY2(x: bigint): bigint {
  return add(red(red(x * x) * x), 7n);
}

/** 0x02 || x: a compressed encoding handed to OpenSSL (reused scratch buffer). */
const compressed = new Uint8Array(33);
const compressedView = new DataView(compressed.buffer);

/**
 * node:crypto's point decompression, when this Node's OpenSSL has secp256k1 (most builds do):
 * ~20 µs against ~40 µs for sqrt() above.
 */
const openssl: ((c: Uint8Array) => Uint8Array) | undefined = (() => {
  const fn = (c: Uint8Array): Uint8Array => ECDH.convertKey(c, 'secp256k1', undefined, undefined, 'uncompressed') as Buffer;
  try {
    // The generator, as a self-test: the answer must be G's y.
    const c = new Uint8Array(33);
    c[0] = 0x02;
    writeBig256(new DataView(c.buffer), 1, G.x);
    return readBig256(fn(c), 33) === G.y ? fn : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * The point with x coordinate x and y of parity `odd`, or undefined when there is none (x ≥ p,
 * or x³ + 7 is not a square). OpenSSL is asked for y first and y is then checked here (y < p, its
 * parity, y² = x³ + 7), so OpenSSL is a hint, never trusted: when it answers wrongly or not at
 * all, sqrt() decides. (OpenSSL reduces x mod p itself, hence the x < p check first.)
 */
export function liftX(x: bigint, odd: boolean): Affine | undefined {
  if (x >= P) return undefined;
  const y2 = curveY2(x);
  if (openssl !== undefined) {
    compressed[0] = odd ? 0x03 : 0x02;
    writeBig256(compressedView, 1, x);
    let y: bigint | undefined;
    try {
      y = readBig256(openssl(compressed), 33);
    } catch {
      // OpenSSL found no square root: x is not on the curve. sqrt() confirms it below.
    }
    if (y !== undefined && y < P && (y & 1n) === (odd ? 1n : 0n) && red(y * y) === y2) return { x, y };
  }
  const y = sqrt(y2);
  if (y === undefined) return undefined;
  return { x, y: (y & 1n) === (odd ? 1n : 0n) ? y : P - y };
}

/**
 * A public key as libsecp256k1's ec_pubkey_parse reads it, hybrid keys aside (the caller turns
 * them into 04 keys): 33 bytes 02/03 || x, or 65 bytes 04 || x || y on the curve, with x, y < p.
 * Undefined when the bytes are no such key.
 */
export function parsePubKey(key: Uint8Array): Affine | undefined {
  if (key.length === 33 && (key[0] === 0x02 || key[0] === 0x03)) return liftX(readBig256(key, 1), key[0] === 0x03);
  if (key.length !== 65 || key[0] !== 0x04) return undefined;
  const x = readBig256(key, 1);
  const y = readBig256(key, 33);
  if (x >= P || y >= P || red(y * y) !== curveY2(x)) return undefined;
  return { x, y };
}

// ---- inverses -------------------------------------------------------------------------------

/** Bits of the leading digit Lehmer's steps work on: its quotients stay exact in doubles (< 2^53). */
const DIGIT_BITS = 48;
const SMALL = 1n << 32n;

/**
 * a⁻¹ mod m for 0 < a < m, m prime: the extended Euclidean algorithm with Lehmer's steps, ~6 µs
 * here against ~20 µs for noble's invert, which does one BigInt division a step. The quotients
 * come from the leading 48 bits of both numbers, in doubles, as long as they are certain; one
 * 2×2 matrix then moves the BigInts by all of them at once. invP and invertModN check its answer.
 */
export function lehmerInverse(a: bigint, m: bigint): bigint {
  let u = m;
  let v = a;
  let x1 = 0n; // x1·a ≡ u (mod m)
  let x2 = 1n; // x2·a ≡ v (mod m)
  while (v >= SMALL) {
    const bits = Math.floor(Math.log2(Number(u))) + 1;
    const shift = BigInt(bits > DIGIT_BITS ? bits - DIGIT_BITS : 0);
    let uh = Number(u >> shift);
    let vh = Number(v >> shift);
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    for (;;) {
      if (vh + C === 0 || vh + D === 0) break;
      const q = Math.floor((uh + A) / (vh + C));
      if (q !== Math.floor((uh + B) / (vh + D))) break;
      let next = A - q * C;
      A = C;
      C = next;
      next = B - q * D;
      B = D;
      D = next;
      next = uh - q * vh;
      uh = vh;
      vh = next;
    }
    if (B === 0) {
      // No quotient was certain: one plain step.
      const q = u / v;
      [u, v] = [v, u - q * v];
      [x1, x2] = [x2, x1 - q * x2];
    } else {
      const [a1, b1, c1, d1] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [u, v] = [a1 * u + b1 * v, c1 * u + d1 * v];
      [x1, x2] = [a1 * x1 + b1 * x2, c1 * x1 + d1 * x2];
    }
  }
  while (v !== 0n) {
    const q = u / v;
    [u, v] = [v, u - q * v];
    [x1, x2] = [x2, x1 - q * x2];
  }
  const inv = x1 % m;
  return inv < 0n ? inv + m : inv;
}

/** a⁻¹ mod p for 0 < a < p: lehmerInverse, checked (a·x ≡ 1), with noble's invert answering should the check ever fail. */
export function invP(a: bigint): bigint {
  const inv = lehmerInverse(a, P);
  return red(inv * a) === 1n ? inv : invert(a, P);
}

/** a⁻¹ mod n for 0 < a < n, checked as invP is. */
export function invertModN(a: bigint): bigint {
  const inv = lehmerInverse(a, N);
  return (inv * a) % N === 1n ? inv : invert(a, N);
}

/** Inverses mod p of all the values at the cost of one inversion (Montgomery's trick); 0 stays 0. */
export function batchInvert(values: readonly bigint[]): bigint[] {
  const n = values.length;
  const prefix: bigint[] = new Array(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    const v = values[i]!;
    if (v !== 0n) acc = red(acc * v);
  }
  let inv = invP(acc);
  const out: bigint[] = new Array(n);
  for (let i = n - 1; i >= 0; i--) {
    const v = values[i]!;
    if (v === 0n) {
      out[i] = 0n;
      continue;
    }
    out[i] = red(inv * prefix[i]!);
    inv = red(inv * v);
  }
  return out;
}

// ---- Jacobian points: (X, Y, Z) is (X/Z², Y/Z³); Z = 0 is the point at infinity -------------

export class Jacobian {
  constructor(
    public X: bigint,
    public Y: bigint,
    public Z: bigint,
  ) {}

  static zero(): Jacobian {
    return new Jacobian(1n, 1n, 0n);
  }

  isZero(): boolean {
    return this.Z === 0n;
  }

  /** this = 2·this (a = 0: M = 3X², S = 4XY², X' = M² - 2S, Y' = M(S - X') - 8Y⁴, Z' = 2YZ). */
  double(): void {
    if (this.Z === 0n) return;
    const { X, Y, Z } = this;
    const YY = red(Y * Y);
    const S = red(4n * X * YY);
    const M = red(3n * X * X);
    const X3 = sub(red(M * M), add(S, S));
    this.Y = sub(red(M * sub(S, X3)), red(8n * YY * YY));
    this.Z = red(2n * Y * Z);
    this.X = X3;
  }

  /** this += (x, y) affine. */
  addAffine(x: bigint, y: bigint): void {
    if (this.Z === 0n) {
      this.X = x;
      this.Y = y;
      this.Z = 1n;
      return;
    }
    const { X, Y, Z } = this;
    const ZZ = red(Z * Z);
    const H = sub(red(x * ZZ), X);
    const R = sub(red(y * red(ZZ * Z)), Y);
    if (H === 0n) {
      if (R === 0n) this.double();
      else this.Z = 0n;
      return;
    }
    this.finishAdd(X, Y, H, R, red(Z * H));
  }

  /** this += q. */
  addJacobian(q: Jacobian): void {
    if (q.Z === 0n) return;
    if (this.Z === 0n) {
      this.X = q.X;
      this.Y = q.Y;
      this.Z = q.Z;
      return;
    }
    const Z1Z1 = red(this.Z * this.Z);
    const Z2Z2 = red(q.Z * q.Z);
    const U1 = red(this.X * Z2Z2);
    const S1 = red(this.Y * red(Z2Z2 * q.Z));
    const H = sub(red(q.X * Z1Z1), U1);
    const R = sub(red(q.Y * red(Z1Z1 * this.Z)), S1);
    if (H === 0n) {
      if (R === 0n) this.double();
      else this.Z = 0n;
      return;
    }
    this.finishAdd(U1, S1, H, R, red(red(this.Z * q.Z) * H));
  }

  /** X3 = R² - H³ - 2·U1·H², Y3 = R(U1·H² - X3) - S1·H³ (add-1998-cmo-2). */
  private finishAdd(U1: bigint, S1: bigint, H: bigint, R: bigint, Z3: bigint): void {
    const HH = red(H * H);
    const HHH = red(H * HH);
    const V = red(U1 * HH);
    const X3 = sub(sub(red(R * R), HHH), add(V, V));
    this.Y = sub(red(R * sub(V, X3)), red(S1 * HHH));
    this.X = X3;
    this.Z = Z3;
  }

  toAffine(): Affine | undefined {
    if (this.Z === 0n) return undefined;
    const zi = invP(this.Z);
    const zi2 = red(zi * zi);
    return { x: red(this.X * zi2), y: red(this.Y * red(zi2 * zi)) };
  }
}
