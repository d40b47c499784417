// PubKeyMemo keeps what a compressed key costs to use again: its HASH160 and, from its second
// signature on, its uncompressed encoding. Whatever it holds, its answers must be those of the
// work it replaces: HASH160 equal to hashing the bytes, the uncompressed form equal to noble's
// for that point (the y parity the prefix says), keys that differ in any byte kept apart, keys
// that are not points left as they are, and signatures verifying (or not) exactly as before.

import { describe, it, before } from 'node:test';
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { PubKeyMemo, pubKeyMemo } from '../src/script/pubkey-memo.js';
import { hash160 } from '../src/primitives/hash.js';
import { loadBackend } from '../src/script/backends.js';
import { nobleBackend, type SignatureBackend } from '../src/script/signature.js';

const keys = Array.from({ length: 24 }, () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true));
const uncompressed = (k: Uint8Array): Uint8Array => secp256k1.Point.fromBytes(k).toBytes(false);
/** Byte-for-byte equality (node:crypto answers Buffers, the memo Uint8Arrays). */
const sameBytes = (a: Uint8Array, b: Uint8Array, msg?: string): void => assert.equal(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'), msg);

/** An x with no point on the curve (x³ + 7 is not a square): 02 || x is not a key. */
function notAPoint(): Uint8Array {
  for (;;) {
    const k = Uint8Array.of(0x02, ...randomBytes(32));
    try {
      secp256k1.Point.fromBytes(k);
    } catch {
      return k;
    }
  }
}

let backends: SignatureBackend[];

before(async () => {
  backends = [nobleBackend, await loadBackend('libsecp256k1'), await loadBackend('libsecp256k1', { native: false })];
  for (const b of backends) assert.ok(b.decompressPubKey !== undefined, `${b.name} decompresses keys`);
});

describe('PubKeyMemo.hash160', () => {
  it('answers HASH160 of the bytes, remembered for 33-byte values only, as copies the caller owns', () => {
    const memo = new PubKeyMemo(64);
    for (let round = 0; round < 3; round++) {
      for (const k of keys) sameBytes(memo.hash160(k), hash160(k));
    }
    assert.equal(memo.stats.hashHits > 0, true);
    const h = memo.hash160(keys[0]!);
    h.fill(0);
    sameBytes(memo.hash160(keys[0]!), hash160(keys[0]!), 'changing an answer changes no later one');
    for (const len of [0, 20, 32, 34, 65]) {
      const v = randomBytes(len);
      sameBytes(memo.hash160(v), hash160(v));
      sameBytes(memo.hash160(v), hash160(v));
    }
  });

  it('keeps values apart that differ in one byte, also where they share a slot', () => {
    const memo = new PubKeyMemo(2);
    const a = keys[1]!;
    for (let i = 0; i < 33; i++) {
      const b = a.slice();
      b[i] = b[i]! ^ 0x80;
      for (let round = 0; round < 2; round++) {
        sameBytes(memo.hash160(a), hash160(a));
        sameBytes(memo.hash160(b), hash160(b));
      }
    }
  });
});

describe('PubKeyMemo.forVerify', () => {
  it('a key that takes over a slot inherits nothing of the key before it: neither its hash nor its uncompressed form', () => {
    // Two slots: of any three keys, two share one. Every ordered pair is tried on a fresh memo.
    const some = keys.slice(0, 4);
    for (const a of some) {
      for (const b of some) {
        if (a === b) continue;
        const memo = new PubKeyMemo(2);
        memo.hash160(a);
        memo.forVerify(a, nobleBackend);
        sameBytes(memo.forVerify(a, nobleBackend), uncompressed(a), 'a: its second signature verifies with its 65-byte form');
        assert.equal(memo.forVerify(b, nobleBackend), b, 'b: its first signature verifies with the key as given');
        sameBytes(memo.hash160(b), hash160(b), "b's hash");
        assert.equal(memo.hash160Is(b, hash160(b)), true);
        sameBytes(memo.forVerify(b, nobleBackend), uncompressed(b), "b's 65-byte form");
      }
    }
  });

  it('gives a key back as it is until it signs a second time, then its uncompressed form, decompressed once', () => {
    for (const backend of backends) {
      let calls = 0;
      const counting = { decompressPubKey: (k: Uint8Array) => (calls++, backend.decompressPubKey!(k)) };
      const memo = new PubKeyMemo(1024);
      for (const k of keys) assert.equal(memo.forVerify(k, counting), k, `${backend.name}: first signature`);
      for (let round = 0; round < 3; round++) {
        for (const k of keys) {
          const got = memo.forVerify(k, counting);
          if (got !== k) assert.deepEqual(got, uncompressed(k), `${backend.name}: the same point`);
        }
      }
      assert.ok(calls <= keys.length, `${backend.name}: at most one decompression a key (${calls})`);
      assert.ok(memo.stats.keyHits > 0, `${backend.name}: later signatures use the uncompressed form`);
    }
  });

  it('02 and 03 with the same x are different keys with different points', () => {
    const memo = new PubKeyMemo(2);
    const even = keys[2]!.slice();
    even[0] = 0x02;
    const odd = keys[2]!.slice();
    odd[0] = 0x03;
    for (let round = 0; round < 4; round++) {
      for (const k of [even, odd]) {
        const got = memo.forVerify(k, nobleBackend);
        if (got !== k) assert.deepEqual(got, uncompressed(k));
      }
    }
    assert.notDeepEqual(uncompressed(even), uncompressed(odd));
  });

  it('a 33-byte value that is no point stays as it is, and is not decompressed again', () => {
    for (const backend of backends) {
      let calls = 0;
      const counting = { decompressPubKey: (k: Uint8Array) => (calls++, backend.decompressPubKey!(k)) };
      const memo = new PubKeyMemo(16);
      const bad = notAPoint();
      for (let i = 0; i < 5; i++) assert.equal(memo.forVerify(bad, counting), bad);
      assert.equal(calls, 1, backend.name);
      assert.equal(backend.decompressPubKey!(bad), undefined, backend.name);
    }
  });

  it('leaves other encodings and backends without decompression alone', () => {
    const memo = new PubKeyMemo(16);
    const full = uncompressed(keys[3]!);
    for (let i = 0; i < 3; i++) assert.equal(memo.forVerify(full, nobleBackend), full);
    for (let i = 0; i < 3; i++) assert.equal(memo.forVerify(keys[3]!, {}), keys[3]!);
    for (const b of backends) {
      assert.equal(b.decompressPubKey!(full), undefined, `${b.name}: only 33-byte keys`);
      assert.equal(b.decompressPubKey!(Uint8Array.of(0x04, ...keys[3]!.subarray(1))), undefined, `${b.name}: prefix 04 with 32 bytes`);
    }
  });

  it('65-byte keys are given back as they are and stored nowhere, whichever slot their bytes name', () => {
    // Only 33-byte keys fit a slot: a longer one written there would spill into the next slot.
    const memo = new PubKeyMemo(2);
    const full = keys.map(uncompressed);
    for (let round = 0; round < 3; round++) {
      for (const k of full) assert.equal(memo.forVerify(k, nobleBackend), k);
      for (const k of keys) {
        const got = memo.forVerify(k, nobleBackend);
        if (got !== k) assert.deepEqual(got, uncompressed(k));
        sameBytes(memo.hash160(k), hash160(k));
      }
    }
  });

  it('a signature verifies, and a wrong one fails, the same through the memo on every backend', () => {
    const sk = secp256k1.utils.randomSecretKey();
    const key = secp256k1.getPublicKey(sk, true);
    const msg = randomBytes(32);
    const sig = secp256k1.sign(msg, sk, { prehash: false });
    const other = randomBytes(32);
    for (const backend of backends) {
      const memo = new PubKeyMemo(16);
      for (let i = 0; i < 4; i++) {
        assert.equal(backend.verifyEcdsaCompact!(sig, msg, memo.forVerify(key, backend)), true, `${backend.name} #${i}`);
        assert.equal(backend.verifyEcdsaCompact!(sig, other, memo.forVerify(key, backend)), false, `${backend.name} #${i}`);
      }
    }
  });

  it('the thread-wide memo is bounded: 8,192 slots', () => {
    assert.equal(pubKeyMemo.slots, 8192);
    assert.throws(() => new PubKeyMemo(1000), RangeError);
  });
});

describe('PubKeyMemo.hash160Is', () => {
  it('answers as comparing hash160 would, before and after the key is remembered, for any key length', () => {
    const memo = new PubKeyMemo(16);
    const key33 = secp256k1.getPublicKey(randomBytes(32), true);
    const key65 = secp256k1.getPublicKey(randomBytes(32), false);
    for (const key of [key33, key65, key33.subarray(0, 20)]) {
      const h = hash160(key);
      // A copy (a Buffer's slice() is a view: flipping it would flip h too).
      const other = Uint8Array.from(h);
      other[19]! ^= 1;
      for (let round = 0; round < 2; round++) {
        assert.equal(memo.hash160Is(key, h), true, `${key.length}-byte key, round ${round}`);
        assert.equal(memo.hash160Is(key, other), false, `${key.length}-byte key, last bit flipped, round ${round}`);
        assert.equal(memo.hash160Is(key, h.subarray(0, 19)), false, 'a 19-byte hash never matches');
      }
    }
    // The second round of the 33-byte key was answered from the memo.
    assert.ok(memo.stats.hashHits >= 2, `${memo.stats.hashHits} hits`);
  });
});
