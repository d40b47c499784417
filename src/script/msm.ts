// Multi-scalar multiplication Σ k_i·P_i on secp256k1 for batch signature verification: Pippenger's
// bucket method with the bucket sums done in affine coordinates, many additions sharing one field
// inversion (Montgomery's trick), the way fast MSM libraries do it.
//
// Why not noble's pippenger: its additions are complete projective ones (~5 µs each in bigints)
// and its buckets are unsigned. Here a bucket addition costs ~6 field multiplications (~2 µs),
// digits are signed (half the buckets), and zero digits add nothing. Public inputs only: nothing
// here is constant-time. Points are affine {x, y} with 0 ≤ x, y < p on the curve (the caller
// checks); the point at infinity cannot be an input.

import { Jacobian, P, add, batchInvert, red, sub, type Affine } from './field.js';

export type { Affine } from './field.js';

const MASK256 = (1n << 256n) - 1n;

// ---- signed digits ----------------------------------------------------------------------------

/**
 * Window width for L points, from a sweep of widths 3..9 at L = 17..2049 (best of several runs,
 * 2-core EPYC, node 20): the cost per point is flat within one width of the optimum, which moves
 * from 4 at 17-65 points to 5 at 129 (a 64-signature batch), 6 at 257 and 7 at 513 (256 signatures).
 */
export function windowFor(points: number): number {
  if (points < 16) return 3;
  if (points < 96) return 4;
  if (points < 192) return 5;
  if (points < 384) return 6;
  if (points < 1024) return 7;
  return 8;
}

/**
 * k (0 ≤ k < 2^256) as `windows` signed digits of w bits, least significant first:
 * k = Σ d_t·2^(w·t) with -2^(w-1) < d_t ≤ 2^(w-1).
 */
function signedDigits(k: bigint, w: number, windows: number, out: Int32Array, at: number): void {
  const hex = k.toString(16).padStart(64, '0');
  const words = new Uint32Array(9); // one spare word so a window may run past bit 255
  for (let j = 0; j < 8; j++) words[j] = parseInt(hex.slice(56 - 8 * j, 64 - 8 * j), 16);
  const full = 1 << w;
  const half = full >> 1;
  const mask = full - 1;
  let carry = 0;
  for (let t = 0; t < windows; t++) {
    const bit = t * w;
    const word = bit >>> 5;
    const off = bit & 31;
    let v = word < 8 ? words[word]! >>> off : 0;
    if (off + w > 32 && word + 1 < 9) v |= words[word + 1]! << (32 - off);
    let d = (v & mask) + carry;
    if (d > half) {
      d -= full;
      carry = 1;
    } else {
      carry = 0;
    }
    out[at + t] = d;
  }
}

// ---- the bucket method ------------------------------------------------------------------------

/**
 * Σ scalars[i]·points[i], or undefined for the point at infinity. Scalars must be in [0, 2^256)
 * (reduce them mod n first); points must be on the curve. `window` overrides the digit width
 * (tests and tuning).
 */
export function msm(points: readonly Affine[], scalars: readonly bigint[], window?: number): Affine | undefined {
  const L = points.length;
  if (scalars.length !== L) throw new RangeError(`msm: ${L} points but ${scalars.length} scalars`);
  if (L === 0) return undefined;
  const w = window ?? windowFor(L);
  if (!Number.isInteger(w) || w < 2 || w > 16) throw new RangeError(`msm: window ${w} out of range 2..16`);
  // One more window than the longest scalar's bits need, for the carry out of its top signed digit.
  let all = 0n;
  for (const k of scalars) all |= k;
  const windows = Math.floor((all > 0n ? all.toString(2).length : 1) / w) + 1;
  const buckets = 1 << (w - 1);

  // Pool of affine points: the inputs, then their negations, then the sums made below.
  const px: bigint[] = new Array(2 * L);
  const py: bigint[] = new Array(2 * L);
  for (let i = 0; i < L; i++) {
    const { x, y } = points[i]!;
    px[i] = x;
    py[i] = y;
    px[L + i] = x;
    py[L + i] = P - y; // y ≠ 0: secp256k1 has prime order, so no point of order 2
  }

  // Each (window, bucket) list holds pool indices whose sum is that bucket.
  const lists: number[][] = Array.from({ length: windows * buckets }, () => []);
  const digits = new Int32Array(L * windows);
  for (let i = 0; i < L; i++) {
    const k = scalars[i]!;
    if (k < 0n || k > MASK256) throw new RangeError('msm: scalar out of range');
    signedDigits(k, w, windows, digits, i * windows);
    for (let t = 0; t < windows; t++) {
      const d = digits[i * windows + t]!;
      if (d > 0) lists[t * buckets + d - 1]!.push(i);
      else if (d < 0) lists[t * buckets - d - 1]!.push(L + i);
    }
  }

  sumBucketsAffine(lists, px, py);

  // Each window's Σ b·B_b by running sums from the top bucket (run += B_b, acc += run), every
  // window's sums stepped together in affine coordinates so that each step's additions share one
  // inversion; then Horner over the windows.
  let run: (Affine | undefined)[] = new Array(windows).fill(undefined);
  let acc: (Affine | undefined)[] = new Array(windows).fill(undefined);
  const bucket: (Affine | undefined)[] = new Array(windows);
  for (let b = buckets - 1; b >= 0; b--) {
    for (let t = 0; t < windows; t++) {
      const list = lists[t * buckets + b]!;
      bucket[t] = list.length === 1 ? { x: px[list[0]!]!, y: py[list[0]!]! } : undefined;
    }
    run = addAffineBatch(run, bucket);
    acc = addAffineBatch(acc, run);
  }
  const total = Jacobian.zero();
  for (let t = windows - 1; t >= 0; t--) {
    for (let s = 0; s < w; s++) total.double();
    const a = acc[t];
    if (a !== undefined) total.addAffine(a.x, a.y);
  }
  return total.toAffine();
}

/**
 * a_i + b_i for every i, affine (undefined is the point at infinity), all the additions sharing
 * one field inversion (Montgomery's trick).
 */
function addAffineBatch(as: readonly (Affine | undefined)[], bs: readonly (Affine | undefined)[]): (Affine | undefined)[] {
  const n = as.length;
  const out: (Affine | undefined)[] = new Array(n);
  // Where either is infinity no inversion is needed (a denominator of 0), and P + (-P) has 0 too.
  const den: bigint[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const a = as[i];
    const b = bs[i];
    out[i] = a === undefined ? b : b === undefined ? a : undefined;
    den[i] = a === undefined || b === undefined ? 0n : sumDenominator(a.x, a.y, b.x, b.y);
  }
  const inv = batchInvert(den);
  for (let i = 0; i < n; i++) {
    const d = inv[i]!;
    if (d !== 0n) out[i] = affineSum(as[i]!.x, as[i]!.y, bs[i]!.x, bs[i]!.y, d);
  }
  return out;
}

/** The denominator of the slope of (x1, y1) + (x2, y2): x2 - x1, 2·y1 for a doubling, 0 for P + (-P). */
function sumDenominator(x1: bigint, y1: bigint, x2: bigint, y2: bigint): bigint {
  if (x1 !== x2) return sub(x2, x1);
  return y1 === y2 ? add(y1, y1) : 0n;
}

/** (x1, y1) + (x2, y2) given the inverse of their sumDenominator (not 0). */
function affineSum(x1: bigint, y1: bigint, x2: bigint, y2: bigint, inv: bigint): Affine {
  const num = x1 !== x2 ? sub(y2, y1) : red(3n * x1 * x1);
  const lambda = red(num * inv);
  const x3 = sub(sub(red(lambda * lambda), x1), x2);
  return { x: x3, y: sub(red(lambda * sub(x1, x3)), y1) };
}

/**
 * Replace every list by at most one pool index holding the sum of its points, adding in rounds:
 * each round pairs up the points of every list (across all lists at once), and all the pairs of
 * a round share one field inversion. A pair that sums to infinity leaves nothing.
 */
function sumBucketsAffine(lists: number[][], px: bigint[], py: bigint[]): void {
  const pairA: number[] = [];
  const pairB: number[] = [];
  const owner: number[] = [];
  for (;;) {
    pairA.length = 0;
    pairB.length = 0;
    owner.length = 0;
    for (let l = 0; l < lists.length; l++) {
      const list = lists[l]!;
      for (let j = 0; j + 1 < list.length; j += 2) {
        pairA.push(list[j]!);
        pairB.push(list[j + 1]!);
        owner.push(l);
      }
    }
    const n = pairA.length;
    if (n === 0) return;

    const den: bigint[] = new Array(n);
    for (let k = 0; k < n; k++) den[k] = sumDenominator(px[pairA[k]!]!, py[pairA[k]!]!, px[pairB[k]!]!, py[pairB[k]!]!);
    const inv = batchInvert(den);

    // Each list keeps its unpaired last element, then gains the sums of its pairs.
    for (let l = 0; l < lists.length; l++) {
      const list = lists[l]!;
      if (list.length >= 2) lists[l] = list.length % 2 === 1 ? [list[list.length - 1]!] : [];
    }
    for (let k = 0; k < n; k++) {
      const d = inv[k]!;
      if (d === 0n) continue; // P + (-P): the pair vanishes
      const a = pairA[k]!;
      const b = pairB[k]!;
      const sum = affineSum(px[a]!, py[a]!, px[b]!, py[b]!, d);
      px.push(sum.x);
      py.push(sum.y);
      lists[owner[k]!]!.push(px.length - 1);
    }
  }
}
