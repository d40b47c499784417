// Tables for keys that sign often (src/script/key-tables.ts): once a key has its table, every
// answer must be noble's secp256k1.verify's, for valid, tampered and high-S signatures and both
// key encodings; keys that are not points never get one; tables are bounded and given up by the
// least recently used key. (Real blocks exercise it too: 928927's 9,984 checks by 16 keys run
// through noble in real-block-inputs.test.ts.)

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { secp256k1 } from '@noble/curves/secp256k1.js';

import { fromHex } from '../src/primitives/bytes.js';
import { sha256 } from '../src/primitives/hash.js';
import { HOT_AFTER, KeyTables, keyTables } from '../src/script/key-tables.js';
import { CURVE_ORDER, nobleBackend } from '../src/script/signature.js';

const N = CURVE_ORDER;
const OPTS = { prehash: false, lowS: false } as const;

function big32(v: bigint): Uint8Array {
  return fromHex(v.toString(16).padStart(64, '0'));
}

function secret(i: number): Uint8Array {
  return sha256(new TextEncoder().encode(`key-tables secret ${i}`));
}

/** A signature by key i over message j: compact r || s, low S. */
function sign(i: number, j: number): { rs64: Uint8Array; msg: Uint8Array } {
  const msg = sha256(new TextEncoder().encode(`key-tables message ${i} ${j}`));
  return { rs64: secp256k1.sign(msg, secret(i), { prehash: false }), msg };
}

test('a hot key answers as secp256k1.verify: valid, high S, a flipped bit of r, s or the message, another key, both encodings', () => {
  const tables = new KeyTables(3, 4);
  const key33 = secp256k1.getPublicKey(secret(1), true);
  const key65 = secp256k1.getPublicKey(secret(1), false);
  const other = secp256k1.getPublicKey(secret(2), true);
  for (const key of [key33, key65]) {
    const { rs64, msg } = sign(1, 0);
    assert.equal(tables.verifyCompact(rs64, msg, key), undefined, 'first signature: no table');
    assert.equal(tables.verifyCompact(rs64, msg, key), undefined, 'second: none yet');
    assert.equal(tables.verifyCompact(rs64, msg, key), true, 'third: the table answers');
  }
  assert.equal(tables.stats.built, 2, 'one table per encoding');
  let answered = 0;
  for (let j = 0; j < 150; j++) {
    const { rs64, msg } = sign(1, j);
    const cases: Array<[Uint8Array, Uint8Array]> = [[rs64, msg]];
    const high = Uint8Array.from(rs64);
    high.set(big32(N - BigInt('0x' + Buffer.from(rs64.subarray(32)).toString('hex'))), 32);
    cases.push([high, msg]);
    const flipped = Uint8Array.from(rs64);
    flipped[j % 64]! ^= 1 << (j % 8);
    cases.push([flipped, msg]);
    const otherMsg = Uint8Array.from(msg);
    otherMsg[j % 32]! ^= 1;
    cases.push([rs64, otherMsg]);
    for (const [sig, m] of cases) {
      for (const key of [key33, key65]) {
        const want = secp256k1.verify(sig, m, key, OPTS);
        const got = tables.verifyCompact(sig, m, key);
        if (got !== undefined) answered++;
        // r or s out of range is left to noble (undefined); everything else has an answer.
        assert.equal(got ?? secp256k1.verify(sig, m, key, OPTS), want, `signature ${j}`);
      }
    }
    assert.equal(secp256k1.verify(rs64, msg, other, OPTS), false);
  }
  assert.ok(answered >= 1150, `${answered} answered by the tables`);
});

test('a key that is not a point never gets a table; disabled tables answer nothing', () => {
  const tables = new KeyTables(2, 4);
  const offCurve = Uint8Array.of(0x02, ...big32(5n)); // x = 5: x^3 + 7 is not a square mod p
  const { rs64, msg } = sign(3, 0);
  for (let i = 0; i < 10; i++) assert.equal(tables.verifyCompact(rs64, msg, offCurve), undefined);
  assert.equal(tables.stats.built, 0);
  const key = secp256k1.getPublicKey(secret(3), true);
  tables.enabled = false;
  for (let i = 0; i < 10; i++) assert.equal(tables.verifyCompact(rs64, msg, key), undefined);
  assert.equal(tables.stats.built, 0);
  tables.enabled = true;
  tables.verifyCompact(rs64, msg, key);
  assert.equal(tables.verifyCompact(rs64, msg, key), true);
});

test('at most maxTables keys hold a table: the least recently used gives its table up and must get hot again', () => {
  const tables = new KeyTables(2, 2);
  const keys = [4, 5, 6].map((i) => secp256k1.getPublicKey(secret(i), true));
  const sigs = [4, 5, 6].map((i) => sign(i, 0));
  const use = (k: number): boolean | undefined => tables.verifyCompact(sigs[k]!.rs64, sigs[k]!.msg, keys[k]!);
  use(0);
  assert.equal(use(0), true);
  use(1);
  assert.equal(use(1), true);
  assert.equal(use(0), true, 'key 0 used last');
  use(2);
  assert.equal(use(2), true, 'key 2 takes key 1\'s table');
  assert.equal(tables.stats.evicted, 1);
  assert.equal(use(0), true, 'key 0 kept its table');
  assert.equal(use(1), undefined, 'key 1 gave its table up');
  assert.equal(use(1), true, 'and got one back after signing again');
  assert.equal(tables.stats.built, 4);
});

test(`nobleBackend builds a key's table on its ${HOT_AFTER}th signature and answers as before`, () => {
  keyTables.clear();
  const key = secp256k1.getPublicKey(secret(7), true);
  const built = keyTables.stats.built;
  for (let j = 0; j < HOT_AFTER + 20; j++) {
    const { rs64, msg } = sign(7, j);
    assert.equal(nobleBackend.verifyEcdsaCompact!(rs64, msg, key), true);
    const bad = Uint8Array.from(rs64);
    bad[40]! ^= 4;
    assert.equal(nobleBackend.verifyEcdsaCompact!(bad, msg, key), secp256k1.verify(bad, msg, key, OPTS));
    const rs = { r: BigInt('0x' + Buffer.from(rs64.subarray(0, 32)).toString('hex')), s: BigInt('0x' + Buffer.from(rs64.subarray(32)).toString('hex')) };
    assert.equal(nobleBackend.verifyEcdsa(rs, msg, key), true);
  }
  assert.equal(keyTables.stats.built, built + 1);
  keyTables.clear();
});
