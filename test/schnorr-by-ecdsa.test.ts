// BIP340 checked through libsecp256k1's native ECDSA verification (src/script/schnorr-by-ecdsa.ts).
// Every BIP340 and taproot vector runs through it as the [libsecp256k1] backend; this file tries
// what the algebra must get right: signatures whose R has an odd y (which a reduction without the
// secret offset would accept), the cases left to the exact check, the offset's renewal, and
// agreement with noble on thousands of random and tampered signatures.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { loadNative } from '../src/script/backends.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';

import { fromHex } from '../src/primitives/bytes.js';
import { taggedHash } from '../src/primitives/hash.js';
import { ROTATE, schnorrByEcdsa, type NativeEcdsaOps } from '../src/script/schnorr-by-ecdsa.js';
import { CURVE_ORDER, nobleBackend } from '../src/script/signature.js';

const N = CURVE_ORDER;
const G = secp256k1.Point.BASE;

function big32(v: bigint): Uint8Array {
  return fromHex(v.toString(16).padStart(64, '0'));
}

function toBig(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b).toString('hex'));
}

/** The native binding as the backend calls it, or undefined where its binary does not load (the suite then fails, below). */
const loaded = loadNative();
const native: NativeEcdsaOps | undefined = typeof loaded === 'string' ? undefined : (loaded as NativeEcdsaOps);

/** A deterministic stand-in for the CSPRNG: t = seed, seed + 1, … */
function counter(seed: bigint): { random: () => Uint8Array; calls: () => number } {
  let next = seed;
  let calls = 0;
  return {
    random: () => {
      calls++;
      return big32(next++);
    },
    calls: () => calls,
  };
}

/** An even-y secret key (BIP340's d) for a seed, and its x-only key. */
function signer(seed: number): { d: bigint; px: Uint8Array } {
  let d = (BigInt(seed) * 0x9e3779b97f4a7c15n + 7n) % N;
  if (G.multiply(d).y % 2n === 1n) d = N - d;
  return { d, px: big32(G.multiply(d).x) };
}

/**
 * A signature with nonce k as the signer chose it: valid under BIP340 only when k·G has an even y.
 * With an odd y, R = s·G − e·P is still k·G, x(R) = r: only the parity is wrong.
 */
function signWithNonce(d: bigint, px: Uint8Array, k: bigint, msg: Uint8Array): Uint8Array {
  const R = G.multiply(k);
  const r = big32(R.x);
  const e = toBig(taggedHash('BIP0340/challenge', r, px, msg)) % N;
  return Uint8Array.of(...r, ...big32((k + e * d) % N));
}

if (native === undefined) {
  test('schnorrByEcdsa: the secp256k1 native binding does not load here', () => {
    assert.fail(`the secp256k1 binding did not load (${String(loaded)}): these cases did not run`);
  });
} else {
  test('a signature whose R has an odd y fails, as in BIP340, though its x(R) = r (the offset is what refuses it)', () => {
    const v = schnorrByEcdsa(native, nobleBackend.verifySchnorr);
    let odd = 0;
    for (let seed = 1; odd < 200; seed++) {
      const { d, px } = signer(seed);
      const k = (BigInt(seed) * 0x51ed27n + 3n) % N;
      const msg = big32(BigInt(seed) * 1009n);
      const sig = signWithNonce(d, px, k, msg);
      const oddY = G.multiply(k).y % 2n === 1n;
      // What a reduction without the offset would compare: x(s·G − e·P) against r.
      const e = toBig(taggedHash('BIP0340/challenge', sig.subarray(0, 32), px, msg)) % N;
      const R = G.multiply(toBig(sig.subarray(32))).subtract(G.multiply(d).multiply(e));
      assert.equal(R.x, toBig(sig.subarray(0, 32)), 'x(R) = r either way');
      assert.equal(nobleBackend.verifySchnorr(sig, msg, px), !oddY);
      assert.equal(v.verify(sig, msg, px), !oddY, `seed ${seed}, ${oddY ? 'odd' : 'even'} y`);
      if (oddY) odd++;
    }
    assert.equal(v.fallbacks, 0);
  });

  test('R* + T at infinity goes to the exact check, which gives the answer', () => {
    // With t known (a test's random source), pick r = x(T) for a T with an odd y: lift_x(r) = −T.
    let t = 5n;
    while (G.multiply(t).y % 2n === 0n) t++;
    const { d, px } = signer(9);
    const msg = big32(42n);
    // Nonce n − t: R = −T, even y, x(R) = x(T). A valid signature whose R* + T is infinity.
    const valid = signWithNonce(d, px, N - t, msg);
    assert.equal(toBig(valid.subarray(0, 32)), G.multiply(t).x);
    const bad = Uint8Array.from(valid);
    bad[63]! ^= 1;
    for (const [sig, want] of [
      [valid, true],
      [bad, false],
    ] as const) {
      const rng = counter(t);
      const exact: string[] = [];
      const v = schnorrByEcdsa(native, (s, m, k) => {
        exact.push('called');
        return nobleBackend.verifySchnorr(s, m, k);
      }, rng.random);
      assert.equal(v.verify(sig, msg, px), want);
      assert.equal(v.fallbacks, 1);
      assert.equal(exact.length, 1);
    }
  });

  test('an r that is no x coordinate fails without the exact check; so do r ≥ p and s ≥ n', () => {
    const { d, px } = signer(11);
    const msg = big32(43n);
    let k = 987654321n;
    while (G.multiply(k).y % 2n === 1n) k++;
    const good = signWithNonce(d, px, k, msg);
    const v = schnorrByEcdsa(native, () => assert.fail('the exact check is not needed'));
    let offCurve = 0;
    for (let r = 1n; offCurve < 50; r++) {
      const sig = Uint8Array.of(...big32(r), ...good.subarray(32));
      const isX = (() => {
        try {
          secp256k1.Point.fromBytes(Uint8Array.of(2, ...big32(r)));
          return true;
        } catch {
          return false;
        }
      })();
      if (isX) continue;
      offCurve++;
      assert.equal(v.verify(sig, msg, px), false, `r = ${r}`);
    }
    const P = secp256k1.Point.Fp.ORDER;
    assert.equal(v.verify(Uint8Array.of(...big32(P), ...good.subarray(32)), msg, px), false, 'r = p');
    assert.equal(v.verify(Uint8Array.of(...good.subarray(0, 32), ...big32(N)), msg, px), false, 's = n');
    assert.equal(v.verify(good, msg, px), true);
    assert.equal(v.fallbacks, 0);
  });

  test('soundness rests on t staying secret: knowing t, a signer can make R = −R* − 2T pass though BIP340 rejects it', () => {
    // This is why t comes from a CSPRNG and never leaves the thread.
    const t = 0x1234567n;
    const T = G.multiply(t);
    const { d, px } = signer(12);
    const msg = big32(44n);
    let k = 777n;
    while (G.multiply(k).y % 2n === 1n) k++;
    const Rstar = G.multiply(k); // even y: lift_x(r)
    const r = big32(Rstar.x);
    const e = toBig(taggedHash('BIP0340/challenge', r, px, msg)) % N;
    // s·G − e·P = −R* − 2T  ⇔  s = −k − 2t + e·d
    const s = (((-k - 2n * t + e * d) % N) + N) % N;
    assert.ok(G.multiply(s).subtract(G.multiply(d).multiply(e)).equals(Rstar.negate().subtract(T.add(T))));
    const forged = Uint8Array.of(...r, ...big32(s));
    assert.equal(nobleBackend.verifySchnorr(forged, msg, px), false);
    assert.equal(schnorrByEcdsa(native, nobleBackend.verifySchnorr, counter(t).random).verify(forged, msg, px), true);
    assert.equal(schnorrByEcdsa(native, nobleBackend.verifySchnorr, counter(t + 1n).random).verify(forged, msg, px), false);
    assert.equal(schnorrByEcdsa(native, nobleBackend.verifySchnorr).verify(forged, msg, px), false);
  });

  test(`the offset is drawn on first use and again after every ${ROTATE} checks; draws out of range are redrawn`, () => {
    const { d, px } = signer(4);
    const msg = big32(7n);
    const sig = signWithNonce(d, px, 1234567n, msg);
    const want = nobleBackend.verifySchnorr(sig, msg, px);
    let calls = 0;
    const outOfRange = [0n, N, N + 1n];
    const random = (): Uint8Array => big32(outOfRange[calls++] ?? BigInt(calls) * 0x1f3d5b79n);
    const v = schnorrByEcdsa(native, nobleBackend.verifySchnorr, random);
    assert.equal(calls, 0, 'nothing drawn before the first check');
    assert.equal(v.verify(sig, msg, px), want);
    assert.equal(calls, 4, '0, n and n + 1 are refused, the fourth draw is used');
    for (let i = 1; i < ROTATE; i++) v.verify(sig, msg, px);
    assert.equal(calls, 4);
    assert.equal(v.verify(sig, msg, px), want);
    assert.equal(calls, 5, 'a new offset for the next checks');
  });

  test('agrees with noble on 3,000 signatures: valid, with one bit of r, s, message or key flipped, or with r and s swapped', () => {
    const v = schnorrByEcdsa(native, nobleBackend.verifySchnorr);
    let valid = 0;
    for (let i = 0; i < 3000; i++) {
      const key = big32(BigInt(i) * 0x2545f4914f6cdd1dn % (N - 1n) + 1n);
      const px = schnorr.getPublicKey(key);
      const msg = big32(BigInt(i) * 0x9e3779b9n);
      const parts = Uint8Array.of(...schnorr.sign(msg, key, big32(BigInt(i))), ...msg, ...px);
      const kind = i % 3;
      if (kind === 1) parts[(i * 37) % 128]! ^= 1 << (i % 8);
      if (kind === 2) parts.copyWithin(0, 32, 64).set(schnorr.sign(msg, key, big32(BigInt(i))).subarray(0, 32), 32);
      const [sg, m, k] = [parts.subarray(0, 64), parts.subarray(64, 96), parts.subarray(96)];
      const want = nobleBackend.verifySchnorr(sg, m, k);
      if (want) valid++;
      assert.equal(v.verify(sg, m, k), want, `case ${i}`);
    }
    assert.ok(valid >= 1000, `${valid} valid signatures among them`);
  });
}
