// Consensus cases of script verification that Core's vectors do not reach, each checked against
// Core (interpreter.cpp, pubkey.cpp, sigcache.cpp, validation.cpp GetBlockScriptFlags): they pin
// what a block must accept, and that the signature cache cannot stand in for a flag's check.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { secp256k1 } from '@noble/curves/secp256k1.js';

import { forEachBackend } from './helpers/backends.js';
import { hash160 } from '../src/primitives/hash.js';
import { Transaction } from '../src/primitives/transaction.js';
import { NETWORK_NAMES, getBlockScriptFlags } from '../src/consensus/script-flags.js';
import { CONSENSUS_SCRIPT_FLAGS } from '../src/script/flags.js';
import * as F from '../src/script/flags.js';
import { PrecomputedTxData, signatureHashWitnessV0 } from '../src/script/sighash.js';
import { SignatureCache } from '../src/script/sig-cache.js';
import { CURVE_ORDER } from '../src/script/signature.js';
import { verifyInput } from '../src/script/verify.js';
import { verifyTransaction } from '../src/script/verify-tx.js';

const AMOUNT = 50_000;
/** GetBlockScriptFlags once every deployment is active. */
const BLOCK = getBlockScriptFlags('main', 900_000);

/** A fixed key (its y is even, so the right hybrid prefix is 06), so that every run checks the same case. */
const sk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const uncompressed = secp256k1.getPublicKey(sk, false);
const even = (uncompressed[64]! & 1) === 0;
/** The hybrid encoding with the right parity byte (06 even y, 07 odd y), and with the wrong one. */
const hybrid = Uint8Array.of(even ? 0x06 : 0x07, ...uncompressed.subarray(1));
const hybridWrongParity = Uint8Array.of(even ? 0x07 : 0x06, ...uncompressed.subarray(1));

function p2wpkh(key: Uint8Array): Uint8Array {
  return Uint8Array.of(0x00, 0x14, ...hash160(key));
}

function spendTx(witness: Uint8Array[]): Transaction {
  return new Transaction(2, [{ prevout: { hash: new Uint8Array(32).fill(3), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness }], [{ value: AMOUNT - 500, scriptPubKey: Uint8Array.of(0x51) }], 0);
}

/** A P2WPKH spend of `key`'s output signed by sk; `der` turns r, s into the signature's encoding. */
function p2wpkhSpend(key: Uint8Array, der: (r: bigint, s: bigint) => Uint8Array): { tx: Transaction; spent: { value: number; scriptPubKey: Uint8Array }[] } {
  const spent = [{ value: AMOUNT, scriptPubKey: p2wpkh(key) }];
  const unsigned = spendTx([]);
  const scriptCode = Uint8Array.of(0x76, 0xa9, 0x14, ...hash160(key), 0x88, 0xac);
  const msg = signatureHashWitnessV0(scriptCode, unsigned, 0, 1, AMOUNT, new PrecomputedTxData(unsigned, spent));
  const sig = secp256k1.Signature.fromBytes(secp256k1.sign(msg, sk, { prehash: false }), 'compact');
  return { tx: spendTx([Uint8Array.of(...der(sig.r, sig.s), 0x01), key]), spent };
}

function derInt(v: bigint, pad = 0): number[] {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  const bytes = [...Buffer.from(hex, 'hex')];
  if (bytes[0]! & 0x80) bytes.unshift(0);
  for (let i = 0; i < pad; i++) bytes.unshift(0);
  return [0x02, bytes.length, ...bytes];
}

const strictDer = (r: bigint, s: bigint): Uint8Array => {
  const body = [...derInt(r), ...derInt(s)];
  return Uint8Array.of(0x30, body.length, ...body);
};
/** BER that OpenSSL (and Core's lax parser) accepted before BIP66: a superfluous zero before S. */
const laxDer = (r: bigint, s: bigint): Uint8Array => {
  const body = [...derInt(r), ...derInt(s, 1)];
  return Uint8Array.of(0x30, body.length, ...body);
};

test('GetBlockScriptFlags sets consensus flags only, on every network at every height of interest', () => {
  for (const net of NETWORK_NAMES) {
    for (const h of [0, 1, 227_931, 363_725, 388_381, 419_328, 481_824, 709_632, 1_000_000]) {
      const flags = getBlockScriptFlags(net, h);
      assert.equal(flags & ~CONSENSUS_SCRIPT_FLAGS, 0, `${net} at ${h}: ${F.formatScriptFlags(flags)}`);
    }
  }
});

forEachBackend((b) => {
  test(`${b.tag} hybrid keys (06/07 with the right parity) are valid in P2WPKH under block flags, as Core's CPubKey / ec_pubkey_parse take them`, () => {
    const good = p2wpkhSpend(hybrid, strictDer);
    assert.deepEqual(verifyInput(good.tx, 0, good.spent, BLOCK, { backend: b.backend }), { ok: true });
    // Parity byte that disagrees with y: secp256k1_ec_pubkey_parse refuses the key, CHECKSIG is false.
    const bad = p2wpkhSpend(hybridWrongParity, strictDer);
    assert.deepEqual(verifyInput(bad.tx, 0, bad.spent, BLOCK, { backend: b.backend }), { ok: false, error: 'EVAL_FALSE' });
    // High S with a hybrid key: LOW_S is policy, Core's Verify normalizes S.
    const high = p2wpkhSpend(hybrid, (r, s) => strictDer(r, s > CURVE_ORDER / 2n ? s : CURVE_ORDER - s));
    assert.deepEqual(verifyInput(high.tx, 0, high.spent, BLOCK, { backend: b.backend }), { ok: true });
  });

  test(`${b.tag} a signature cached under weaker flags still fails a block's DERSIG check (the cache holds signature validity only)`, () => {
    const cache = SignatureCache.create(1 << 16);
    const { tx, spent } = p2wpkhSpend(secp256k1.getPublicKey(sk, true), laxDer);
    // Before BIP66 (P2SH, WITNESS only) the BER signature is valid and is stored.
    assert.deepEqual(verifyTransaction(tx, spent, F.SCRIPT_VERIFY_P2SH | F.SCRIPT_VERIFY_WITNESS, { backend: b.backend, sigCache: cache }), { ok: true });
    assert.equal(cache.stats().stores, 1);
    // A block's flags read the cache, but DERSIG is checked before any signature check.
    assert.deepEqual(verifyInput(tx, 0, spent, BLOCK, { backend: b.backend, sigCache: cache, sigCacheStore: false }), { ok: false, error: 'SIG_DER' });
    // And the cached entry does answer the same check where the flags allow it.
    const hits = cache.hits;
    assert.deepEqual(verifyInput(tx, 0, spent, F.SCRIPT_VERIFY_P2SH | F.SCRIPT_VERIFY_WITNESS, { backend: b.backend, sigCache: cache, sigCacheStore: false }), { ok: true });
    assert.equal(cache.hits, hits + 1);
  });
});
