// a·G + b·Q for signature verification, the way libsecp256k1's ecmult computes it: both scalars
// split in two halves of ~128 bits by secp256k1's endomorphism (GLV), the four halves written in
// width-w non-adjacent form, and one shared run of ~129 doublings (Strauss) adding the odd
// multiples the digits name: of Q from a table of 8 made per call, of G from a table made once per
// thread. Public inputs only: nothing here is constant-time.
//
// Why not noble's multiplication: noble walks Q's two halves bit by bit (~64 additions each) and
// takes G's multiple in constant time (64 additions), all with complete projective formulas;
// sharing the doublings, skipping zero digits and adding affine points takes a verify from ~1 ms
// to ~0.3 ms here (bench/signatures).

import { G, Jacobian, N, P, batchInvert, red, type Affine } from './field.js';

/** β, a cube root of unity mod p: λ·(x, y) = (β·x, y). */
export const BETA = 0x7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501een;
/** λ, the cube root of unity mod n that goes with β. */
export const LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;
// A short basis of the lattice {(x, y) : x + y·λ ≡ 0 (mod n)} (as in the GLV paper and noble).
const A1 = 0x3086d221a7d46bcde86c90e49284eb15n;
const B1 = -0xe4437ed6010e88286f547fa90abfe4c3n;
const A2 = 0x114ca50f7a8e2f3f657c1108d9d44cfd8n;
const B2 = A1;

/** Width of Q's digits: 8 odd multiples a call (widths 4 and 6 cost more here). */
const WINDOW_Q = 5;
/** Width of G's digits: 4,096 odd multiples, made once per thread (~15 ms). */
const WINDOW_G = 14;
/** Digits a half takes: halves are below 2^129, and the carry out of the top window needs one more. */
const DIGITS = 131;

/** round(num / den) for den > 0, halves away from zero. */
function divNearest(num: bigint, den: bigint): bigint {
  return (num + (num >= 0n ? den : -den) / 2n) / den;
}

/**
 * k (0 ≤ k < n) as k1 + k2·λ (mod n) with |k1|, |k2| < 2^129 (the basis gives < 2^128; the
 * bound checked is the one the digits need). Throws when the halves come out long, which would be a
 * bug here, never the data's fault.
 */
export function splitScalar(k: bigint): [bigint, bigint] {
  const c1 = divNearest(B2 * k, N);
  const c2 = divNearest(-B1 * k, N);
  const k1 = k - c1 * A1 - c2 * A2;
  const k2 = -c1 * B1 - c2 * B2;
  const limit = 1n << 129n;
  if (k1 >= limit || -k1 >= limit || k2 >= limit || -k2 >= limit) throw new RangeError('ecmult: scalar split out of range');
  return [k1, k2];
}

const words = new Uint32Array(6);

/**
 * k (|k| < 2^129) in width-w non-adjacent form into out[at..at+DIGITS): odd digits in
 * (−2^(w−1), 2^(w−1)), at least w−1 zeros after each nonzero one, k = Σ out[at+i]·2^i.
 * Returns one past the highest nonzero digit (0 for k = 0).
 */
export function wnaf(k: bigint, w: number, out: Int16Array, at: number): number {
  const negative = k < 0n;
  let m = negative ? -k : k;
  for (let i = 0; i < 6; i++) {
    words[i] = Number(BigInt.asUintN(32, m));
    m >>= 32n;
  }
  out.fill(0, at, at + DIGITS);
  const bitAt = (pos: number): number => (words[pos >>> 5]! >>> (pos & 31)) & 1;
  let carry = 0;
  let top = 0;
  for (let pos = 0; pos < DIGITS; ) {
    if (bitAt(pos) === carry) {
      pos++;
      continue;
    }
    const word = pos >>> 5;
    const off = pos & 31;
    let v = words[word]! >>> off;
    if (off + w > 32) v |= words[word + 1]! << (32 - off);
    v = (v & ((1 << w) - 1)) + carry;
    carry = (v >>> (w - 1)) & 1;
    v -= carry << w;
    out[at + pos] = negative ? -v : v;
    top = pos + 1;
    pos += w;
  }
  return top;
}

/** Odd multiples 1·p, 3·p, …, (2·count − 1)·p, affine: x's and y's. */
function oddMultiples(p: Affine, count: number): { xs: bigint[]; ys: bigint[] } {
  const twice = new Jacobian(p.x, p.y, 1n);
  twice.double();
  const jac: Jacobian[] = [new Jacobian(p.x, p.y, 1n)];
  for (let i = 1; i < count; i++) {
    const prev = jac[i - 1]!;
    const next = new Jacobian(prev.X, prev.Y, prev.Z);
    next.addJacobian(twice);
    jac.push(next);
  }
  // (2i+1)·p is never infinity for 2i+1 < n (the group has prime order n).
  const inv = batchInvert(jac.map((j) => j.Z));
  const xs: bigint[] = new Array(count);
  const ys: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const zi = inv[i]!;
    const zi2 = red(zi * zi);
    xs[i] = red(jac[i]!.X * zi2);
    ys[i] = red(jac[i]!.Y * red(zi2 * zi));
  }
  return { xs, ys };
}

interface GTables {
  xs: bigint[];
  ys: bigint[];
  /** β·x: the x's of λ·(odd multiples of G). */
  lambdaXs: bigint[];
}
let gTables: GTables | undefined;

/** G's table, made on first use (warmEcmult makes it ahead). */
function tablesOfG(): GTables {
  if (gTables === undefined) {
    const { xs, ys } = oddMultiples(G, 1 << (WINDOW_G - 2));
    gTables = { xs, ys, lambdaXs: xs.map((x) => red(x * BETA)) };
  }
  return gTables;
}

/** Make G's table now, so the first verification does not pay for it. */
export function warmEcmult(): void {
  tablesOfG();
}

const digits = new Int16Array(4 * DIGITS);

/**
 * a·G + b·q in Jacobian coordinates (Z = 0 for infinity), for scalars 0 ≤ a, b < n and q a point
 * on the curve.
 */
export function mulAddG(a: bigint, q: Affine, b: bigint): Jacobian {
  const g = tablesOfG();
  const [a1, a2] = splitScalar(a);
  const [b1, b2] = splitScalar(b);
  const topA1 = wnaf(a1, WINDOW_G, digits, 0);
  const topA2 = wnaf(a2, WINDOW_G, digits, DIGITS);
  const topB1 = wnaf(b1, WINDOW_Q, digits, 2 * DIGITS);
  const topB2 = wnaf(b2, WINDOW_Q, digits, 3 * DIGITS);
  const top = Math.max(topA1, topA2, topB1, topB2);
  const qt = top > 0 && (topB1 > 0 || topB2 > 0) ? oddMultiples(q, 1 << (WINDOW_Q - 2)) : undefined;
  const qLambdaXs = qt !== undefined && topB2 > 0 ? qt.xs.map((x) => red(x * BETA)) : undefined;
  // The four digit streams, in the order of `digits`, and the tables their digits index.
  const xsOf = [g.xs, g.lambdaXs, qt?.xs, qLambdaXs];
  const ysOf = [g.ys, g.ys, qt?.ys, qt?.ys];
  const acc = Jacobian.zero();
  for (let i = top - 1; i >= 0; i--) {
    acc.double();
    for (let k = 0; k < 4; k++) {
      const d = digits[k * DIGITS + i]!;
      if (d === 0) continue;
      // A stream with a nonzero digit has its table (qt and qLambdaXs are made when b has digits).
      const j = (d < 0 ? -d : d) >> 1;
      const y = ysOf[k]![j]!;
      acc.addAffine(xsOf[k]![j]!, d > 0 ? y : P - y);
    }
  }
  return acc;
}
