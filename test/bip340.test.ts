// BIP340 Schnorr vectors (bitcoin/bips bip-0340/test-vectors.csv), one node:test case per row:
// verification through the engine's signature backend, and signing with the given key and aux_rand.
//
// Columns: index, secret key, public key, aux_rand, message, signature, verification result, comment.
// Rows 15-18 sign messages that are not 32 bytes. BIP340 allows any length, but the
// engine's backend only ever sees 32-byte sighashes, so those rows go to noble directly.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { schnorr } from '@noble/curves/secp256k1.js';

import { readVectorText } from './helpers/vectors.js';
import { fromHex, toHex } from '../src/primitives/bytes.js';
import { nobleBackend } from '../src/script/signature.js';

interface Bip340Row {
  index: number;
  secretKey: string;
  publicKey: string;
  auxRand: string;
  message: string;
  signature: string;
  result: boolean;
  comment: string;
}

function parseCsv(text: string): Bip340Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift();
  assert.equal(header, 'index,secret key,public key,aux_rand,message,signature,verification result,comment');
  return lines.map((line) => {
    const f = line.split(',');
    assert.ok(f.length >= 8, `short row: ${line}`);
    const result = f[6];
    assert.ok(result === 'TRUE' || result === 'FALSE', `bad result column: ${line}`);
    return {
      index: Number(f[0]),
      secretKey: f[1]!,
      publicKey: f[2]!,
      auxRand: f[3]!,
      message: f[4]!,
      signature: f[5]!,
      result: result === 'TRUE',
      // A comment may itself hold commas.
      comment: f.slice(7).join(','),
    };
  });
}

const rows = parseCsv(readVectorText('bips', 'bip-0340-test-vectors.csv'));

test('bip-0340 test-vectors.csv holds 19 rows (9 TRUE, 10 FALSE, 8 with a secret key)', () => {
  assert.equal(rows.length, 19);
  assert.deepEqual(
    rows.map((r) => r.index),
    rows.map((_, i) => i),
  );
  assert.equal(rows.filter((r) => r.result).length, 9);
  assert.equal(rows.filter((r) => r.secretKey !== '').length, 8);
});

for (const row of rows) {
  const label = row.comment !== '' ? row.comment : row.result ? 'valid signature' : 'invalid signature';
  test(`#${row.index} ${label}`, () => {
    const pub = fromHex(row.publicKey);
    const msg = fromHex(row.message);
    const sig = fromHex(row.signature);
    assert.equal(pub.length, 32);
    assert.equal(sig.length, 64);

    if (msg.length === 32) {
      assert.equal(nobleBackend.verifySchnorr(sig, msg, pub), row.result, 'nobleBackend.verifySchnorr');
    } else {
      // Only valid signatures have odd-sized messages in this file.
      let ok: boolean;
      try {
        ok = schnorr.verify(sig, msg, pub);
      } catch {
        ok = false;
      }
      assert.equal(ok, row.result, `schnorr.verify (${msg.length}-byte message)`);
    }

    if (row.secretKey !== '') {
      const sk = fromHex(row.secretKey);
      assert.equal(toHex(schnorr.getPublicKey(sk)), row.publicKey.toLowerCase(), 'public key of the secret key');
      const signed = schnorr.sign(msg, sk, fromHex(row.auxRand));
      assert.equal(toHex(signed), row.signature.toLowerCase(), 'schnorr.sign with the given aux_rand');
    }
  });
}
