// BIP340 Schnorr vectors (bitcoin/bips bip-0340/test-vectors.csv), one node:test case per row and
// signature backend: verification through the backend, and (under noble) signing with the given key
// and aux_rand.
//
// Columns: index, secret key, public key, aux_rand, message, signature, verification result, comment.
// Rows 15-18 sign messages that are not 32 bytes. BIP340 allows any length, but the engine's
// backends only ever see 32-byte sighashes (their interface takes msg32), so under noble those rows
// go to noble's schnorr.verify directly, and libsecp256k1 runs the 15 rows with 32-byte messages.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { schnorr } from '@noble/curves/secp256k1.js';

import { forEachBackend } from './helpers/backends.js';
import { readVectorText } from './helpers/vectors.js';
import { fromHex, toHex } from '../src/primitives/bytes.js';

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
  assert.equal(rows.filter((r) => r.message.length === 64).length, 15);
});

forEachBackend(({ tag, id, backend }) => {
  const noble = id === 'noble';
  for (const row of rows) {
    const label = row.comment !== '' ? row.comment : row.result ? 'valid signature' : 'invalid signature';
    // Only noble verifies messages of other sizes (directly, not through the backend interface).
    if (!noble && row.message.length !== 64) continue;
    test(`${tag} #${row.index} ${label}`, () => {
      const pub = fromHex(row.publicKey);
      const msg = fromHex(row.message);
      const sig = fromHex(row.signature);
      assert.equal(pub.length, 32);
      assert.equal(sig.length, 64);

      if (msg.length === 32) {
        assert.equal(backend.verifySchnorr(sig, msg, pub), row.result, `${backend.name} verifySchnorr`);
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

      // Signing is noble's whatever the backend: check it once.
      if (noble && row.secretKey !== '') {
        const sk = fromHex(row.secretKey);
        assert.equal(toHex(schnorr.getPublicKey(sk)), row.publicKey.toLowerCase(), 'public key of the secret key');
        const signed = schnorr.sign(msg, sk, fromHex(row.auxRand));
        assert.equal(toHex(signed), row.signature.toLowerCase(), 'schnorr.sign with the given aux_rand');
      }
    });
  }
});
