// msm.ts against noble: Σ k_i·P_i on random and adversarial inputs (equal points, opposite points,
// sums that vanish), for every window width, checked against noble's own point arithmetic.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { msm, windowFor, type Affine } from '../src/script/msm.js';

const Point = secp256k1.Point;
const N = Point.Fn.ORDER;
const SEED = 0x3535_0340;

/** c·G as an affine point (c taken mod n; undefined for 0). */
function mulG(c: bigint): Affine | undefined {
  const k = ((c % N) + N) % N;
  return k === 0n ? undefined : Point.BASE.multiply(k).toAffine();
}

/** Σ k_i·(c_i·G) computed as (Σ k_i·c_i)·G, the answer msm must give. */
function expected(cs: readonly bigint[], ks: readonly bigint[]): Affine | undefined {
  let t = 0n;
  for (let i = 0; i < cs.length; i++) t = (t + cs[i]! * ks[i]!) % N;
  return mulG(t);
}

function same(a: Affine | undefined, b: Affine | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.x === b.x && a.y === b.y;
}

function run(cs: readonly bigint[], ks: readonly bigint[], w?: number): void {
  const pts = cs.map((c) => mulG(c)!);
  assert.ok(same(msm(pts, ks, w), expected(cs, ks)), `msm of ${cs.length} points, window ${w ?? windowFor(cs.length)}`);
}

test('empty input is the point at infinity; mismatched lengths and bad scalars throw', () => {
  assert.equal(msm([], []), undefined);
  const g = mulG(1n)!;
  assert.throws(() => msm([g], []), RangeError);
  assert.throws(() => msm([g], [-1n]), RangeError);
  assert.throws(() => msm([g], [1n << 256n]), RangeError);
  assert.throws(() => msm([g], [1n], 1), RangeError);
});

test('edge scalars: 0, 1, 2, n-1, n, 2^256-1', () => {
  for (const k of [0n, 1n, 2n, N - 1n, N, (1n << 256n) - 1n]) {
    for (const w of [2, 3, 5, 8]) run([7n], [k], w);
  }
});

test('sums that vanish: k·P + (n-k)·P, P + (-P), and a whole set summing to zero', () => {
  run([5n, 5n], [123n, N - 123n]);
  run([9n, N - 9n], [1n, 1n]);
  const cs = [3n, 4n, 5n, 6n, 7n];
  const ks = [10n, 20n, 30n, 40n, 0n];
  ks[4] = (N - ((3n * 10n + 4n * 20n + 5n * 30n + 6n * 40n) % N)) * modInverse(7n) % N;
  assert.equal(expected(cs, ks), undefined);
  for (const w of [2, 3, 4, 6]) run(cs, ks, w);
});

test('one point many times (bucket sums double, cancel and re-add)', () => {
  for (const w of [2, 3, 4, 5]) {
    run(Array.from({ length: 40 }, () => 11n), Array.from({ length: 40 }, (_, i) => BigInt(i * 7919) % 64n), w);
    run(Array.from({ length: 33 }, (_, i) => (i % 2 === 0 ? 11n : N - 11n)), Array.from({ length: 33 }, () => 3n), w);
  }
});

test('property: small multiples of G with small scalars (many equal and opposite points) match noble', () => {
  const small = fc.bigInt({ min: -6n, max: 6n }).filter((c) => c !== 0n);
  fc.assert(
    fc.property(fc.array(fc.tuple(small, fc.bigInt({ min: 0n, max: 40n })), { minLength: 1, maxLength: 60 }), fc.integer({ min: 2, max: 7 }), (pairs, w) => {
      run(pairs.map(([c]) => c), pairs.map(([, k]) => k), w);
    }),
    { seed: SEED, numRuns: 150 },
  );
});

test('property: random points and 256-bit scalars match noble', () => {
  const scalar = fc.bigInt({ min: 0n, max: N - 1n });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.bigInt({ min: 1n, max: N - 1n }), scalar), { minLength: 1, maxLength: 40 }), fc.option(fc.integer({ min: 2, max: 9 }), { nil: undefined }), (pairs, w) => {
      run(pairs.map(([c]) => c), pairs.map(([, k]) => k), w);
    }),
    { seed: SEED, numRuns: 40 },
  );
});

test('property: scalars of any one length (windows follow the longest), all-ones ones included, match noble', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 256 }),
      fc.array(fc.tuple(fc.bigInt({ min: 1n, max: N - 1n }), fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.boolean()), { minLength: 1, maxLength: 24 }),
      fc.option(fc.integer({ min: 2, max: 9 }), { nil: undefined }),
      (bits, pairs, w) => {
        const top = (1n << BigInt(bits)) - 1n;
        run(pairs.map(([c]) => c), pairs.map(([, k, ones]) => (ones ? top : k & top)), w);
      },
    ),
    { seed: SEED, numRuns: 60 },
  );
});

test('a large random set (513 points, the size of a 256-signature batch) matches noble', () => {
  const cs = Array.from({ length: 513 }, (_, i) => BigInt(i + 1) * 0x9e3779b97f4a7c15n);
  const ks = Array.from({ length: 513 }, (_, i) => (BigInt(i + 7) * 0xdeadbeefcafebaben ** 3n) % N);
  run(cs, ks);
});

function modInverse(a: bigint): bigint {
  return Point.Fn.inv(((a % N) + N) % N);
}
