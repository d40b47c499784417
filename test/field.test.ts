// field.ts and ecmult.ts against noble: inverses, square roots, key parsing, the endomorphism's
// scalar split, width-w NAF digits, and a·G + b·Q on random and adversarial inputs (a zero
// scalar, Q = ±G, sums that vanish, additions that meet a doubling), all checked with noble's
// own arithmetic.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { invert } from '@noble/curves/abstract/modular.js';
import { G, N, P, invP, invertModN, lehmerInverse, liftX, parsePubKey, red, sqrt, type Affine } from '../src/script/field.js';
import { LAMBDA, mulAddG, splitScalar, wnaf } from '../src/script/ecmult.js';
import { checkTapTweakNoble } from '../src/script/taproot.js';

const Point = secp256k1.Point;
const SEED = 0x0ec0_0256;

function big32(v: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'));
}

/** The point a Jacobian result stands for, or undefined for infinity. */
function affineOf(j: { X: bigint; Y: bigint; Z: bigint }): Affine | undefined {
  if (j.Z === 0n) return undefined;
  const zi = invP(j.Z);
  const zi2 = red(zi * zi);
  return { x: red(j.X * zi2), y: red(j.Y * red(zi2 * zi)) };
}

/** a·G + b·Q by noble. */
function nobleMulAdd(a: bigint, q: Affine, b: bigint): Affine | undefined {
  const sum = Point.BASE.multiplyUnsafe(a).add(Point.fromAffine(q).multiplyUnsafe(b));
  return sum.is0() ? undefined : sum.toAffine();
}

const scalar = fc.bigInt({ min: 0n, max: N - 1n });
const nonzero = fc.bigInt({ min: 1n, max: N - 1n });

test('lehmerInverse gives noble\'s inverse mod n and mod p: edges, powers of two, Fibonacci-like runs of quotient 1, 20,000 pseudo-random values', () => {
  for (const m of [N, P]) {
    const values: bigint[] = [1n, 2n, 3n, m - 1n, m - 2n, (m + 1n) / 2n, (m - 1n) / 2n, 0xffffffffn, 0x100000000n, 0x100000001n];
    for (let k = 1n; k < 256n; k++) if (1n << k < m) values.push(1n << k, (1n << k) - 1n);
    // Consecutive Fibonacci numbers make every quotient 1: the longest Euclid runs.
    let [f0, f1] = [1n, 1n];
    while (f1 < m) {
      values.push(f1);
      [f0, f1] = [f1, f0 + f1];
    }
    let x = 0x243f6a8885a308d3n;
    for (let i = 0; i < 10_000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % (1n << 256n);
      if (x % m !== 0n) values.push(x % m);
    }
    for (const a of values) {
      const want = invert(a, m);
      assert.equal(lehmerInverse(a, m), want, `a = ${a.toString(16)} mod ${m === N ? 'n' : 'p'}`);
      assert.equal(m === N ? invertModN(a) : invP(a), want);
    }
  }
});

test('sqrt and liftX agree with noble: squares, non-squares, x ≥ p, both parities', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: P - 1n }), fc.boolean(), (x, odd) => {
      const y2 = (x * x * x + 7n) % P;
      let root: bigint | undefined;
      try {
        root = Point.Fp.sqrt(y2);
      } catch {
        root = undefined;
      }
      const mine = sqrt(y2);
      assert.equal(mine === undefined, root === undefined);
      if (mine !== undefined) assert.equal((mine * mine) % P, y2);
      const lifted = liftX(x, odd);
      if (root === undefined) return assert.equal(lifted, undefined);
      assert.ok(lifted !== undefined);
      assert.equal(lifted.x, x);
      assert.equal(lifted.y & 1n, odd ? 1n : 0n);
      assert.equal((lifted.y * lifted.y) % P, y2);
      if (!odd) assert.equal(lifted.y, schnorr.utils.lift_x(x).toAffine().y);
    }),
    { seed: SEED, numRuns: 2000 },
  );
  assert.equal(sqrt(0n), 0n);
  assert.equal(liftX(P, false), undefined);
  assert.equal(liftX(P + G.x, false), undefined, 'x is not reduced mod p');
  assert.deepEqual(liftX(G.x, (G.y & 1n) === 1n), G);
});

test('parsePubKey accepts exactly the keys noble\'s Point.fromBytes accepts, as the same point', () => {
  const parsesLikeNoble = (key: Uint8Array): void => {
    let want: Affine | undefined;
    try {
      want = Point.fromBytes(key).toAffine();
    } catch {
      want = undefined;
    }
    assert.deepEqual(parsePubKey(key), want, Buffer.from(key).toString('hex'));
  };
  fc.assert(
    fc.property(nonzero, fc.integer({ min: 0, max: 9 }), fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), (k, mode, junk) => {
      const point = Point.BASE.multiply(k);
      const full = point.toBytes(false);
      const comp = point.toBytes(true);
      switch (mode) {
        case 0:
          return parsesLikeNoble(comp);
        case 1:
          return parsesLikeNoble(full);
        case 2: // any x, either parity
          return parsesLikeNoble(Uint8Array.of(2 + Number(junk & 1n), ...big32(junk)));
        case 3: // a point's x with y off the curve
          return parsesLikeNoble(Uint8Array.of(4, ...full.subarray(1, 33), ...big32(junk)));
        case 4: // y + p, x + p where they still fit in 32 bytes
          return parsesLikeNoble(Uint8Array.of(4, ...full.subarray(1, 33), ...big32((point.toAffine().y + P) % (1n << 256n))));
        case 5:
          return parsesLikeNoble(Uint8Array.of(2 + Number(junk & 1n), ...big32((point.toAffine().x + P) % (1n << 256n))));
        case 6: // the other prefixes, hybrid ones included (the caller turns those into 04 keys)
          return parsesLikeNoble(Uint8Array.of(Number(junk & 0xffn), ...full.subarray(1)));
        case 7:
          return parsesLikeNoble(Uint8Array.of(Number(junk & 0xffn), ...comp.subarray(1)));
        case 8: // wrong lengths
          return parsesLikeNoble(full.subarray(0, 1 + Number(junk % 64n)));
        default:
          return parsesLikeNoble(Uint8Array.of(...comp, Number(junk & 0xffn)));
      }
    }),
    { seed: SEED, numRuns: 3000 },
  );
  parsesLikeNoble(new Uint8Array(0));
  parsesLikeNoble(new Uint8Array(33));
  parsesLikeNoble(new Uint8Array(65));
});

test('λ and β go together: λ·G = (β·x, y), and both are cube roots of unity', () => {
  const lg = Point.BASE.multiply(LAMBDA).toAffine();
  assert.equal(lg.y, G.y);
  assert.equal((LAMBDA * LAMBDA * LAMBDA) % N, 1n);
  const beta = (lg.x * invert(G.x, P)) % P;
  assert.equal((beta * beta * beta) % P, 1n);
});

test('splitScalar: k ≡ k1 + k2·λ (mod n) with both halves below 2^128, for edges and random k', () => {
  const check = (k: bigint): void => {
    const [k1, k2] = splitScalar(k);
    assert.equal((((k1 + k2 * LAMBDA) % N) + N) % N, k, `k = ${k.toString(16)}`);
    const bound = 1n << 128n;
    assert.ok(k1 < bound && -k1 < bound && k2 < bound && -k2 < bound, `k = ${k.toString(16)}: halves ${k1}, ${k2}`);
  };
  for (const k of [0n, 1n, 2n, N - 1n, N - 2n, LAMBDA, N - LAMBDA, (N - 1n) / 2n, (N + 1n) / 2n, 1n << 128n, (1n << 128n) - 1n, 1n << 255n]) check(k % N);
  fc.assert(fc.property(scalar, (k) => check(k)), { seed: SEED, numRuns: 5000 });
});

test('wnaf: Σ d_i·2^i = k, digits odd and below 2^(w−1) in size, w−1 zeros after each, for w = 2..16', () => {
  const out = new Int16Array(400);
  const check = (k: bigint, w: number): void => {
    out.fill(99);
    const top = wnaf(k, w, out, 7);
    let sum = 0n;
    let lastNonzero = -w;
    for (let i = 0; i < 131; i++) {
      const d = out[7 + i]!;
      if (d === 0) continue;
      assert.equal(Math.abs(d) % 2, 1, `digit ${d} of ${k} (w ${w}) is odd`);
      assert.ok(Math.abs(d) < 1 << (w - 1), `digit ${d} of ${k} (w ${w}) in range`);
      assert.ok(i - lastNonzero >= w, `nonzero digits of ${k} (w ${w}) at ${lastNonzero} and ${i}`);
      lastNonzero = i;
      sum += BigInt(d) << BigInt(i);
    }
    assert.equal(sum, k, `k = ${k}, w ${w}`);
    assert.equal(top, lastNonzero < 0 ? 0 : lastNonzero + 1);
    assert.equal(out[6], 99, 'nothing written before the slot');
    assert.equal(out[7 + 131], 99, 'nothing written after the slot');
  };
  const edges = [0n, 1n, -1n, 2n, (1n << 129n) - 1n, -((1n << 129n) - 1n), 1n << 128n, (1n << 128n) - 1n, 0x155555555555555555555555555555555n, -0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaan];
  for (let w = 2; w <= 16; w++) for (const k of edges) check(k, w);
  fc.assert(
    fc.property(fc.bigInt({ min: -((1n << 129n) - 1n), max: (1n << 129n) - 1n }), fc.integer({ min: 2, max: 16 }), (k, w) => check(k, w)),
    { seed: SEED, numRuns: 5000 },
  );
});

test('mulAddG: a·G + b·Q as noble computes it, on random scalars and points', () => {
  fc.assert(
    fc.property(scalar, nonzero, scalar, (a, c, b) => {
      const q = Point.BASE.multiply(c).toAffine();
      assert.deepEqual(affineOf(mulAddG(a, q, b)), nobleMulAdd(a, q, b));
    }),
    { seed: SEED, numRuns: 600 },
  );
});

test('mulAddG: zero scalars, Q = ±G, sums that vanish, and additions that land on a doubling', () => {
  const g = G;
  const negG: Affine = { x: G.x, y: P - G.y };
  const cases: [bigint, Affine, bigint][] = [
    [0n, g, 0n],
    [1n, g, 0n],
    [0n, g, 1n],
    [1n, g, N - 1n], // G − G
    [1n, negG, 1n], // G + (−G)
    [5n, g, N - 5n],
    [N - 1n, g, 1n],
    [1n, g, 1n], // G + G: the first addition meets a doubling
    [3n, g, 3n],
    [N - 1n, negG, N - 1n],
    [(N - 1n) / 2n, g, (N - 1n) / 2n],
    [LAMBDA, g, N - LAMBDA],
    [LAMBDA, g, LAMBDA],
  ];
  // Q = c·G with b = −a/c: a·G + b·Q vanishes; b = a/c: it is 2a·G.
  for (const [a, c] of [
    [7n, 3n],
    [123456789n, LAMBDA],
    [N - 2n, 0xdeadbeefn],
  ] as const) {
    const q = Point.BASE.multiply(c).toAffine();
    const b = (a * invert(c, N)) % N;
    cases.push([a, q, (N - b) % N], [a, q, b]);
  }
  for (const [a, q, b] of cases) assert.deepEqual(affineOf(mulAddG(a, q, b)), nobleMulAdd(a, q, b), `a = ${a}, b = ${b}`);
});

test('checkTapTweakNoble: P + t·G as noble computes it, P itself for t = 0; false when the sum is infinity, the key is no x coordinate or t ≥ n', () => {
  const xOf = (p: { x: bigint }): Uint8Array => big32(p.x);
  const internal = Point.BASE.multiply(0x1234567n).toAffine();
  const even = internal.y % 2n === 0n ? Point.fromAffine(internal) : Point.fromAffine(internal).negate();
  for (const t of [0n, 1n, 2n, 0xdeadbeefn, N - 1n, LAMBDA]) {
    const want = (t === 0n ? even : even.add(Point.BASE.multiply(t))).toAffine();
    const parity = Number(want.y & 1n);
    assert.equal(checkTapTweakNoble(xOf(internal), big32(t), xOf(want), parity), true, `t = ${t}`);
    assert.equal(checkTapTweakNoble(xOf(internal), big32(t), xOf(want), 1 - parity), false, `t = ${t}, the other parity`);
  }
  // P = −t·G (t·G with an odd y, so lift_x of its x is its negation): P + t·G is infinity, which
  // no output key is (an all-zero x is what mistaking infinity for (0, 0) would give).
  let t = 5n;
  while ((Point.BASE.multiply(t).toAffine().y & 1n) === 0n) t++;
  for (const parity of [0, 1]) assert.equal(checkTapTweakNoble(xOf(Point.BASE.multiply(t).toAffine()), big32(t), new Uint8Array(32), parity), false);
  assert.equal(checkTapTweakNoble(big32(5n), big32(1n), xOf(G), 0), false, 'x = 5 is no x coordinate');
  assert.equal(checkTapTweakNoble(xOf(G), big32(N), xOf(G), Number(G.y & 1n)), false, 'a tweak of n (P + n·G would be P)');
});
