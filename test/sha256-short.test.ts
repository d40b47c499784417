// SHA-256 of short inputs in TypeScript against node:crypto (OpenSSL), at every length it takes
// and around its block boundaries, and through hash.ts, which picks it or node:crypto by length.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { SHORT_MAX, sha256ShortInto } from '../src/primitives/sha256-short.js';
import { hash160, hash256, sha256 } from '../src/primitives/hash.js';
import { toHex } from '../src/primitives/bytes.js';
import { ripemd160 } from '@noble/hashes/legacy.js';

/** A seeded byte stream (xorshift32): the same inputs every run. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const openssl = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

test('FIPS 180-4 examples: "abc" and the empty string', () => {
  const out = new Uint8Array(32);
  assert.equal(toHex(sha256ShortInto(new Uint8Array(0), out)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(toHex(sha256ShortInto(new TextEncoder().encode('abc'), out)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // Two blocks (448 bits of message).
  const two = new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
  assert.equal(toHex(sha256ShortInto(two, out)), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('every length 0..SHORT_MAX, random bytes, 40 inputs each: as node:crypto', () => {
  const next = rng(0x5ba256);
  const out = new Uint8Array(32);
  for (let n = 0; n <= SHORT_MAX; n++) {
    for (let k = 0; k < 40; k++) {
      const data = Uint8Array.from({ length: n }, () => next() & 0xff);
      assert.equal(toHex(sha256ShortInto(data, out)), openssl(data), `length ${n}`);
    }
  }
  // All-ones bytes set every bit the padding could collide with.
  for (let n = 0; n <= SHORT_MAX; n++) assert.equal(toHex(sha256ShortInto(new Uint8Array(n).fill(0xff), out)), openssl(new Uint8Array(n).fill(0xff)));
});

test('longer inputs are refused; hash.ts hashes every length 0..300 as node:crypto does', () => {
  assert.throws(() => sha256ShortInto(new Uint8Array(SHORT_MAX + 1), new Uint8Array(32)), RangeError);
  const next = rng(0x2560);
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, () => next() & 0xff);
    assert.equal(toHex(sha256(data)), openssl(data), `sha256, length ${n}`);
    const once = createHash('sha256').update(data).digest();
    assert.equal(toHex(hash256(data)), createHash('sha256').update(once).digest('hex'), `hash256, length ${n}`);
  }
  // Views into a larger buffer hash only their own bytes.
  const big = Uint8Array.from({ length: 400 }, (_, i) => i);
  assert.equal(toHex(hash256(big.subarray(7, 71))), createHash('sha256').update(createHash('sha256').update(big.subarray(7, 71)).digest()).digest('hex'));
  // HASH160 of a compressed key (33 bytes: the short path).
  const key = Uint8Array.from({ length: 33 }, (_, i) => i * 5);
  assert.equal(toHex(hash160(key)), toHex(ripemd160(createHash('sha256').update(key).digest())));
});

test('results are fresh arrays: a later hash does not change an earlier one', () => {
  const a = hash256(Uint8Array.of(1));
  const copy = toHex(a);
  hash256(Uint8Array.of(2));
  sha256(Uint8Array.of(3));
  assert.equal(toHex(a), copy);
});
