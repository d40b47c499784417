// The bigint-free ECDSA path: parseDerLaxCompact decides exactly as parseDerLax (Core's
// ecdsa_signature_parse_der_lax) on strict, lax and broken encodings, and every backend's
// verifyEcdsaCompact answers as its verifyEcdsa on the same r, s (high S, zeroes, tampering,
// bad keys), so the interpreter may take either.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { secp256k1 } from '@noble/curves/secp256k1.js';

import { TEST_BACKENDS } from './helpers/backends.js';
import { fromHex } from '../src/primitives/bytes.js';
import { CURVE_ORDER, isHighS, negateS, nobleBackend, parseDerLax, parseDerLaxCompact } from '../src/script/signature.js';

const N = CURVE_ORDER;

function big32(v: bigint): Uint8Array {
  return fromHex(v.toString(16).padStart(64, '0'));
}

function compactOf(r: bigint, s: bigint): Uint8Array {
  return Uint8Array.of(...big32(r), ...big32(s));
}

/** What parseDerLaxCompact must write for `der`, derived from parseDerLax. */
function expected(der: Uint8Array): Uint8Array | undefined {
  const rs = parseDerLax(der);
  return rs === undefined ? undefined : compactOf(rs.r, rs.s);
}

function checkAgrees(der: Uint8Array): void {
  const out = new Uint8Array(64).fill(0xaa);
  const ok = parseDerLaxCompact(der, out);
  const want = expected(der);
  assert.equal(ok, want !== undefined, `parses alike: ${Buffer.from(der).toString('hex')}`);
  if (want !== undefined) assert.deepEqual(out, want);
}

/** A DER integer: `pad` extra leading zero bytes, optionally a long-form length. */
function derInt(v: Uint8Array, pad: number, longForm: boolean): number[] {
  const body = [...new Array<number>(pad).fill(0), ...v];
  return longForm ? [0x02, 0x81, body.length, ...body] : [0x02, body.length, ...body];
}

function derSig(r: Uint8Array, s: Uint8Array, padR = 0, padS = 0, longForm = false): Uint8Array {
  const body = [...derInt(r, padR, longForm), ...derInt(s, padS, longForm)];
  return Uint8Array.from([0x30, body.length, ...body]);
}

test('parseDerLaxCompact: strict and lax encodings of real signatures, overflow and edge values', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const sig = secp256k1.Signature.fromBytes(secp256k1.sign(big32(BigInt(seed)), big32(BigInt(seed) + 99n), { prehash: false }), 'compact');
    const der = sig.toBytes('der');
    checkAgrees(der);
    const r = big32(sig.r);
    const s = big32(sig.s);
    for (const [padR, padS, longForm] of [
      [1, 0, false],
      [0, 3, false],
      [2, 2, true],
      [0, 0, true],
    ] as const) {
      checkAgrees(derSig(r, s, padR, padS, longForm));
    }
  }
  const values = [0n, 1n, N - 1n, N, N + 1n, N / 2n, N / 2n + 1n, (1n << 256n) - 1n];
  for (const r of values) for (const s of values) checkAgrees(derSig(big32(r), big32(s)));
  // 33 significant bytes overflow; truncations and wrong tags do not parse.
  checkAgrees(derSig(Uint8Array.of(1, ...big32(5n)), big32(7n)));
  const good = derSig(big32(5n), big32(7n));
  for (let cut = 0; cut < good.length; cut++) checkAgrees(good.subarray(0, cut));
  for (const at of [0, 2, 4 + 32]) {
    const bad = Uint8Array.from(good);
    bad[at]! ^= 0x01;
    checkAgrees(bad);
  }
});

test('parseDerLaxCompact: random bytes and mutated encodings decide as parseDerLax', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (der) => checkAgrees(der)),
    { numRuns: 3000, seed: 143 },
  );
  const good = derSig(big32(N - 5n), big32(N / 2n + 3n), 1, 0, true);
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.nat(255), (at, v) => {
      const der = Uint8Array.from(good);
      der[at] = v;
      checkAgrees(der);
    }),
    { numRuns: 3000, seed: 144 },
  );
});

test('parseDerLax and parseDerLaxCompact: a long-form sequence length is skipped whatever it says, as Core\'s lax parser does', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const sig = secp256k1.Signature.fromBytes(secp256k1.sign(big32(BigInt(seed)), big32(BigInt(seed) + 99n), { prehash: false }), 'compact');
    const body = sig.toBytes('der').subarray(2);
    // 0x80 | k: k length bytes follow, never read; then r and s as usual.
    for (const head of [[0x30, 0x80], [0x30, 0x81, body.length], [0x30, 0x82, 0x00, body.length], [0x30, 0x84, 0xff, 0xff, 0xff, 0xff]]) {
      const der = Uint8Array.from([...head, ...body]);
      const hex = Buffer.from(der).toString('hex');
      assert.deepEqual(parseDerLax(der), { r: sig.r, s: sig.s }, `parseDerLax ${hex}`);
      const out = new Uint8Array(64);
      assert.equal(parseDerLaxCompact(der, out), true, `parseDerLaxCompact ${hex}`);
      assert.deepEqual(out, compactOf(sig.r, sig.s), `parseDerLaxCompact ${hex}`);
    }
  }
});

test('negateS and isHighS: n - s as bytes', () => {
  for (const s of [1n, 2n, N / 2n, N / 2n + 1n, N - 1n, 0x1234567890abcdefn << 100n]) {
    const rs = compactOf(9n, s);
    assert.equal(isHighS(rs), s > N / 2n);
    negateS(rs);
    assert.deepEqual(rs, compactOf(9n, N - s));
  }
});

for (const { tag, backend } of TEST_BACKENDS) {
  test(`${tag} verifyEcdsaCompact answers as verifyEcdsa (high S, zeroes, tampering, bad keys)`, () => {
    assert.equal(typeof backend.verifyEcdsaCompact, 'function');
    const compact = backend.verifyEcdsaCompact!.bind(backend);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 20 }), fc.boolean(), fc.boolean(), fc.nat(7), fc.nat(63), fc.nat(7), (seed, high, compressed, what, at, bit) => {
        const key = big32(BigInt(seed) * 0x9e3779b97f4a7c15n + 7n);
        const msg = big32(BigInt(seed) * 7919n + 1n);
        const sig = secp256k1.Signature.fromBytes(secp256k1.sign(msg, key, { prehash: false }), 'compact');
        let r = sig.r;
        let s = high ? N - sig.s : sig.s;
        const m = Uint8Array.from(msg);
        let pub = Uint8Array.from(secp256k1.getPublicKey(key, compressed));
        if (what === 1) r ^= 1n << BigInt(at * 4 + (bit % 4));
        if (what === 2) s ^= 1n << BigInt(at * 4 + (bit % 4));
        if (what === 3) m[at % 32]! ^= 1 << bit;
        if (what === 4) pub[1 + (at % 32)]! ^= 1 << bit;
        if (what === 5) r = 0n;
        if (what === 6) s = 0n;
        if (what === 7) pub = pub.subarray(1);
        if (r >= N || s >= N) return; // the lax parser zeroes these before any backend sees them
        const rs64 = compactOf(r, s);
        const want = backend.verifyEcdsa({ r, s }, m, pub);
        assert.equal(compact(rs64, m, pub), want);
        assert.deepEqual(rs64, compactOf(r, s), 'the caller buffer is left as it was');
        if (what === 0) assert.equal(want, true);
        if (what >= 5) assert.equal(want, false);
      }),
      { numRuns: 400, seed: 145 },
    );
  });
}

test('noble: verifyEcdsaCompact on all-zero r || s (an overflowed DER) is false, never a throw', () => {
  const zero = new Uint8Array(64);
  assert.equal(nobleBackend.verifyEcdsaCompact!(zero, new Uint8Array(32), secp256k1.getPublicKey(big32(3n))), false);
});

/**
 * A signature whose R has x ≥ n, so r = x − n (Core's verify, libsecp256k1's
 * secp256k1_ecdsa_sig_verify: x(R) mod n = r). No key's signing can be expected to hit one (the
 * chance is ~2^-128), so the key is built from R: Q = u2⁻¹·(R − u1·G) makes u1·G + u2·Q = R.
 */
function signatureWithRAboveN(): { r: bigint; s: bigint; msg: Uint8Array; pub: Uint8Array; x: bigint } {
  const P = secp256k1.Point;
  const Fn = P.Fn;
  // From n + 1: r = 0 never verifies.
  let x = N + 1n;
  let R: InstanceType<typeof P> | undefined;
  while (R === undefined) {
    try {
      R = P.fromBytes(Uint8Array.of(0x02, ...big32(x)));
    } catch {
      x++; // x³ + 7 has no square root: try the next x
    }
  }
  const r = x - N;
  const s = 0x1d2c3b4a5968778695a4b3c2d1e0f1e2d3c4b5a69788796a5b4c3d2e1f0e1d2n;
  const msg = big32(0x00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210n);
  const sInv = Fn.inv(s);
  const u1 = Fn.create(BigInt('0x' + Buffer.from(msg).toString('hex')) * sInv);
  const u2 = Fn.create(r * sInv);
  const Q = R.subtract(P.BASE.multiply(u1)).multiply(Fn.inv(u2));
  return { r, s, msg, pub: Q.toBytes(true), x };
}

for (const { tag, backend } of TEST_BACKENDS) {
  test(`${tag} ECDSA with x(R) ≥ n: r = x(R) − n verifies; r = x(R) is out of range; a changed message fails`, () => {
    const { r, s, msg, pub, x } = signatureWithRAboveN();
    assert.ok(x >= N && x < secp256k1.Point.Fp.ORDER && r < N, 'R has x in [n, p)');
    const uncompressed = secp256k1.Point.fromBytes(pub).toBytes(false);
    for (const key of [pub, uncompressed]) {
      assert.equal(backend.verifyEcdsa({ r, s }, msg, key), true);
      assert.equal(backend.verifyEcdsaCompact!(compactOf(r, s), msg, key), true);
      assert.equal(backend.verifyEcdsa({ r, s: N - s }, msg, key), true, 'high S verifies as its low form');
      assert.equal(backend.verifyEcdsa({ r: x, s }, msg, key), false, 'r = x(R) ≥ n');
      const other = Uint8Array.from(msg);
      other[31]! ^= 1;
      assert.equal(backend.verifyEcdsa({ r, s }, other, key), false);
      assert.equal(backend.verifyEcdsa({ r: r + 1n, s }, msg, key), false);
    }
  });

  test(`${tag} ECDSA with r + n ≥ p never verifies through the field's wrap-around: x(R) = r + n − p is not x(R) ≡ r (mod n)`, () => {
    // For r ≥ p − n no x coordinate equals r + n; reduced mod p it would be r − (p − n), a real x.
    const P = secp256k1.Point;
    const Fn = P.Fn;
    const p = P.Fp.ORDER;
    for (const k of [1n, 2n, 3n]) {
      const R = P.BASE.multiply(k * 0x9e3779b97f4a7c15n);
      const msg = big32(77n + k);
      const s = 0x7654321n * k;
      // The key that makes u1·G + u2·Q = R for this r, s and digest: Q = r⁻¹·(s·R − h·G).
      const keyFor = (r: bigint) => R.multiply(s).subtract(P.BASE.multiply(77n + k)).multiply(Fn.inv(r));
      const r = R.x + (p - N);
      assert.ok(r < N && r + N >= p, 'r in [p − n, n)');
      for (const key of [keyFor(r).toBytes(true), keyFor(r).toBytes(false)]) {
        assert.equal(backend.verifyEcdsa({ r, s }, msg, key), false, `r = x(R) + (p − n), k = ${k}`);
        assert.equal(backend.verifyEcdsaCompact!(compactOf(r, s), msg, key), false, `compact: r = x(R) + (p − n), k = ${k}`);
      }
      // The same construction with r = x(R) is a valid signature.
      assert.equal(backend.verifyEcdsa({ r: R.x, s }, msg, keyFor(R.x).toBytes(true)), true, `r = x(R), k = ${k}`);
    }
  });

  test(`${tag} ECDSA whose u1·G + u2·Q is the point at infinity never verifies`, () => {
    // Q = −(u1/u2)·G. Infinity's projective X and Z are both 0, so X = r·Z holds there for any r.
    const P = secp256k1.Point;
    const Fn = P.Fn;
    const msg = big32(0x4242n);
    for (const [r, s] of [[1n, 1n], [7n, 0x1234567n], [N - 1n, N - 2n]] as const) {
      const sInv = Fn.inv(s);
      const u1 = Fn.create(0x4242n * sInv);
      const u2 = Fn.create(r * sInv);
      const Q = P.BASE.multiply(Fn.neg(Fn.create(u1 * Fn.inv(u2))));
      assert.ok(P.BASE.multiply(u1).add(Q.multiply(u2)).is0(), 'the sum is infinity');
      for (const key of [Q.toBytes(true), Q.toBytes(false)]) {
        assert.equal(backend.verifyEcdsa({ r, s }, msg, key), false);
        assert.equal(backend.verifyEcdsaCompact!(compactOf(r, s), msg, key), false);
      }
    }
  });
}
