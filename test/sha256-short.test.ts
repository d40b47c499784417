// SHA-256 of short inputs in TypeScript against node:crypto (OpenSSL), at every length it takes
// and around its block boundaries, and through hash.ts, which picks it or node:crypto by length.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { FROM_MAX, SHORT_MAX, hash256Of64Into, sha256FromInto, sha256Midstate, sha256ShortInto } from '../src/primitives/sha256-short.js';
import { computeMerkleRoot } from '../src/primitives/block.js';
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

test('a midstate of 0, 64 or 128 bytes, then every rest of 0..FROM_MAX bytes at an offset: as node:crypto over the whole message', () => {
  const next = rng(0x31d5);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => next() & 0xff);
  for (const prefixLen of [0, 64, 128]) {
    const prefix = bytes(prefixLen);
    // Taken in one step, and in steps of one block from the previous midstate: the same state.
    const mid = sha256Midstate(prefix);
    let stepped = sha256Midstate(new Uint8Array(0));
    for (let o = 0; o < prefixLen; o += 64) stepped = sha256Midstate(prefix.subarray(o, o + 64), stepped);
    assert.deepEqual([...stepped.words], [...mid.words]);
    assert.equal(stepped.bytes, prefixLen);
    for (let n = 0; n <= FROM_MAX; n++) {
      const rest = bytes(n + 10);
      const want = createHash('sha256').update(prefix).update(rest.subarray(5, 5 + n)).digest('hex');
      assert.equal(toHex(sha256FromInto(mid, rest, 5, 5 + n, new Uint8Array(32))), want, `prefix ${prefixLen}, rest ${n}`);
    }
  }
  // All-ones rests at the padding's edges (55, 56, 63, 64, 119, 120 bytes) after a 64-byte prefix.
  const ones = new Uint8Array(64).fill(0xff);
  for (const n of [55, 56, 63, 64, 119, 120, FROM_MAX]) {
    const rest = new Uint8Array(n).fill(0xff);
    assert.equal(toHex(sha256FromInto(sha256Midstate(ones), rest, 0, n, new Uint8Array(32))), createHash('sha256').update(ones).update(rest).digest('hex'));
  }
  // The midstate is a copy: hashing something else in between does not change it.
  const mid = sha256Midstate(ones);
  const before = toHex(sha256FromInto(mid, Uint8Array.of(1, 2, 3), 0, 3, new Uint8Array(32)));
  sha256(bytes(50));
  sha256Midstate(bytes(128));
  assert.equal(toHex(sha256FromInto(mid, Uint8Array.of(1, 2, 3), 0, 3, new Uint8Array(32))), before);
});

test('sha256Midstate refuses a partial block; sha256FromInto a rest over FROM_MAX or past the data', () => {
  assert.throws(() => sha256Midstate(new Uint8Array(63)), RangeError);
  assert.throws(() => sha256Midstate(new Uint8Array(65)), RangeError);
  const mid = sha256Midstate(new Uint8Array(64));
  assert.throws(() => sha256FromInto(mid, new Uint8Array(FROM_MAX + 1), 0, FROM_MAX + 1, new Uint8Array(32)), RangeError);
  assert.throws(() => sha256FromInto(mid, new Uint8Array(10), 0, 11, new Uint8Array(32)), RangeError);
  assert.throws(() => sha256FromInto(mid, new Uint8Array(10), 6, 5, new Uint8Array(32)), RangeError);
});

const openssl256d = (data: Uint8Array): Uint8Array => createHash('sha256').update(createHash('sha256').update(data).digest()).digest();

test('hash256Of64Into: double SHA-256 of 64 bytes at any offset, into another buffer or over its own input', () => {
  const next = rng(0xd64);
  const buf = Uint8Array.from({ length: 64 * 50 + 3 }, () => next() & 0xff);
  for (let k = 0; k < 50; k++) {
    const o = 3 + 64 * k;
    const want = toHex(openssl256d(buf.subarray(o, o + 64)));
    const out = new Uint8Array(40);
    hash256Of64Into(buf, o, out, 5);
    assert.equal(toHex(out.subarray(5, 37)), want, `offset ${o}`);
    assert.equal(out[4], 0, 'nothing written before p');
    assert.equal(out[37], 0, 'nothing written after p + 32');
    const inPlace = buf.slice(o, o + 64);
    hash256Of64Into(inPlace, 0, inPlace, 0);
    assert.equal(toHex(inPlace.subarray(0, 32)), want, 'output over the input');
  }
  for (const fill of [0x00, 0xff, 0x80]) assert.equal(toHex((() => { const b = new Uint8Array(64).fill(fill); hash256Of64Into(b, 0, b, 0); return b.subarray(0, 32); })()), toHex(openssl256d(new Uint8Array(64).fill(fill))));
});

/** Core's ComputeMerkleRoot as written there, on node:crypto: the reference for computeMerkleRoot. */
function referenceMerkle(leaves: Uint8Array[]): { root: string; mutated: boolean } {
  if (leaves.length === 0) return { root: toHex(new Uint8Array(32)), mutated: false };
  let level: Buffer[] = leaves.map((l) => Buffer.from(l));
  let mutated = false;
  while (level.length > 1) {
    for (let i = 0; i + 1 < level.length; i += 2) if (level[i]!.equals(level[i + 1]!)) mutated = true;
    if (level.length & 1) level.push(level[level.length - 1]!);
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(Buffer.from(openssl256d(Buffer.concat([level[i]!, level[i + 1]!]))));
    level = next;
  }
  return { root: toHex(level[0]!), mutated };
}

test('computeMerkleRoot agrees with Core\'s algorithm on node:crypto: 0..70 leaves, odd levels, and repeated pairs at every level', () => {
  const next = rng(0x3e61e);
  const leaf = (): Uint8Array => Uint8Array.from({ length: 32 }, () => next() & 0xff);
  for (let n = 0; n <= 70; n++) {
    const leaves = Array.from({ length: n }, leaf);
    const got = computeMerkleRoot(leaves);
    assert.deepEqual({ root: toHex(got.root), mutated: got.mutated }, referenceMerkle(leaves), `${n} leaves`);
    assert.equal(got.mutated, false, `${n} distinct leaves are not mutated`);
  }
  // CVE-2012-2459: a repeated adjacent pair at the leaves, or one level up, flags mutation; an odd
  // level's own duplicated last entry does not.
  const six = Array.from({ length: 6 }, leaf);
  const atLeaves = [...six.slice(0, 4), six[4]!, six[4]!];
  const oneUp = [six[0]!, six[1]!, six[0]!, six[1]!, six[4]!];
  const secondPair = [six[0]!, six[1]!, six[2]!, six[2]!];
  for (const leaves of [atLeaves, oneUp, secondPair]) {
    const got = computeMerkleRoot(leaves);
    assert.deepEqual({ root: toHex(got.root), mutated: got.mutated }, referenceMerkle(leaves));
    assert.equal(got.mutated, true);
  }
  // The leaves passed in are not changed, and the root is a buffer of its own.
  const leaves = Array.from({ length: 9 }, leaf);
  const before = leaves.map(toHex);
  const { root } = computeMerkleRoot(leaves);
  assert.deepEqual(leaves.map(toHex), before);
  assert.equal(root.length, 32);
  assert.equal(root.buffer.byteLength, 32);
});
