// P2WPKH spends run DUP HASH160 <program> EQUALVERIFY CHECKSIG without the interpreter loop
// (interpreter.ts, verifyWitnessProgram). Core runs that script through EvalScript, and a P2WSH
// output whose witness script is those same 25 bytes still does here: it signs the same sighash
// (BIP143's scriptCode is the script either way). So every spend below, good or broken, must give
// the P2WPKH path the same answer as the P2WSH one, and the answer Core gives, error for error.

import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { forEachBackend } from './helpers/backends.js';
import { hash160, sha256 } from '../src/primitives/hash.js';
import { Transaction, type TxOut } from '../src/primitives/transaction.js';
import { parseScriptFlags } from '../src/script/flags.js';
import { PrecomputedTxData, signatureHashWitnessV0 } from '../src/script/sighash.js';
import { verifyInput } from '../src/script/verify.js';
import { CURVE_ORDER } from '../src/script/signature.js';

const AMOUNT = 123_456;
const SIGHASH_ALL = 1;

function p2pkhScript(h: Uint8Array): Uint8Array {
  return Uint8Array.of(0x76, 0xa9, 0x14, ...h, 0x88, 0xac);
}

/** A one-input spend of `scriptPubKey` with `witness` (the outputs do not matter here). */
function spend(witness: readonly Uint8Array[]): Transaction {
  return new Transaction(2, [{ prevout: { hash: new Uint8Array(32).fill(7), index: 1 }, scriptSig: new Uint8Array(0), sequence: 0xfffffffe, witness }], [{ value: AMOUNT - 1000, scriptPubKey: Uint8Array.of(0x51) }], 0);
}

const sk = secp256k1.utils.randomSecretKey();
const other = secp256k1.utils.randomSecretKey();
const compressed = secp256k1.getPublicKey(sk, true);
const uncompressed = secp256k1.getPublicKey(sk, false);

/** A DER signature by `key` over the BIP143 sighash of `scriptCode` in a spend of `template`, hash type appended. */
function sign(key: Uint8Array, scriptCode: Uint8Array, opts: { highS?: boolean; hashType?: number } = {}): Uint8Array {
  const tx = spend([]);
  const hashType = opts.hashType ?? SIGHASH_ALL;
  const msg = signatureHashWitnessV0(scriptCode, tx, 0, hashType, AMOUNT, new PrecomputedTxData(tx, [{ value: AMOUNT, scriptPubKey: new Uint8Array(0) }]));
  let sig = secp256k1.Signature.fromBytes(secp256k1.sign(msg, key, { prehash: false }), 'compact');
  if (opts.highS === true) sig = new secp256k1.Signature(sig.r, CURVE_ORDER - sig.s);
  return Uint8Array.of(...sig.toBytes('der'), hashType);
}

interface Case {
  name: string;
  /** The key the output commits to (its HASH160). */
  committed: Uint8Array;
  witness: (script: Uint8Array) => Uint8Array[];
  flags: string;
  expect: string;
}

const SEGWIT = 'P2SH,WITNESS';
const STRICT = 'P2SH,WITNESS,DERSIG,STRICTENC,LOW_S,NULLFAIL,WITNESS_PUBKEYTYPE';

const cases: Case[] = [
  { name: 'a good signature', committed: compressed, witness: (s) => [sign(sk, s), compressed], flags: STRICT, expect: 'OK' },
  { name: 'a good signature by an uncompressed key, without WITNESS_PUBKEYTYPE', committed: uncompressed, witness: (s) => [sign(sk, s), uncompressed], flags: SEGWIT, expect: 'OK' },
  { name: 'an uncompressed key under WITNESS_PUBKEYTYPE', committed: uncompressed, witness: (s) => [sign(sk, s), uncompressed], flags: STRICT, expect: 'WITNESS_PUBKEYTYPE' },
  { name: 'a key that does not hash to the program', committed: compressed, witness: (s) => [sign(sk, s), secp256k1.getPublicKey(other, true)], flags: STRICT, expect: 'EQUALVERIFY' },
  { name: 'a signature by another key, without NULLFAIL', committed: compressed, witness: (s) => [sign(other, s), compressed], flags: SEGWIT, expect: 'EVAL_FALSE' },
  { name: 'a signature by another key, under NULLFAIL', committed: compressed, witness: (s) => [sign(other, s), compressed], flags: STRICT, expect: 'NULLFAIL' },
  { name: 'an empty signature, under NULLFAIL', committed: compressed, witness: () => [new Uint8Array(0), compressed], flags: STRICT, expect: 'EVAL_FALSE' },
  { name: 'a high-S signature under LOW_S', committed: compressed, witness: (s) => [sign(sk, s, { highS: true }), compressed], flags: STRICT, expect: 'SIG_HIGH_S' },
  { name: 'a high-S signature without LOW_S', committed: compressed, witness: (s) => [sign(sk, s, { highS: true }), compressed], flags: SEGWIT, expect: 'OK' },
  { name: 'a signature that is not DER, under DERSIG', committed: compressed, witness: (s) => [Uint8Array.of(0x30, 0x01, ...sign(sk, s).subarray(2)), compressed], flags: STRICT, expect: 'SIG_DER' },
  { name: 'an undefined hash type under STRICTENC', committed: compressed, witness: (s) => [sign(sk, s, { hashType: 0x21 }), compressed], flags: STRICT, expect: 'SIG_HASHTYPE' },
  { name: 'a key of 521 bytes', committed: new Uint8Array(521).fill(2), witness: (s) => [sign(sk, s), new Uint8Array(521).fill(2)], flags: SEGWIT, expect: 'PUSH_SIZE' },
  { name: 'a signature of 521 bytes', committed: compressed, witness: () => [new Uint8Array(521).fill(0x30), compressed], flags: SEGWIT, expect: 'PUSH_SIZE' },
  { name: 'a key with a bad prefix under STRICTENC', committed: Uint8Array.of(0x05, ...compressed.subarray(1)), witness: (s) => [sign(sk, s), Uint8Array.of(0x05, ...compressed.subarray(1))], flags: STRICT, expect: 'PUBKEYTYPE' },
  { name: 'a key that is not a point', committed: Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff)), witness: (s) => [sign(sk, s), Uint8Array.of(0x02, ...new Uint8Array(32).fill(0xff))], flags: SEGWIT, expect: 'EVAL_FALSE' },
];

function run(scriptPubKey: Uint8Array, witness: Uint8Array[], flags: number, backend: Parameters<typeof verifyInput>[4]): string {
  const spent: TxOut[] = [{ value: AMOUNT, scriptPubKey }];
  const r = verifyInput(spend(witness), 0, spent, flags, backend);
  return r.ok ? 'OK' : r.error;
}

forEachBackend(({ tag, backend }) => {
  describe(`${tag} P2WPKH answers as the same script run as P2WSH`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const script = p2pkhScript(hash160(c.committed));
        const flags = parseScriptFlags(c.flags);
        // Three times each: after the first, the key's HASH160 (and, signing again, its uncompressed form) come from the memo.
        for (let round = 0; round < 3; round++) {
          const witness = c.witness(script);
          const p2wpkh = run(Uint8Array.of(0x00, 0x14, ...hash160(c.committed)), witness, flags, { backend });
          const p2wsh = run(Uint8Array.of(0x00, 0x20, ...sha256(script)), [...witness, script], flags, { backend });
          assert.equal(p2wpkh, p2wsh, `round ${round}: P2WPKH ${p2wpkh}, P2WSH ${p2wsh}`);
          assert.equal(p2wpkh, c.expect, `round ${round}`);
        }
      });
    }
  });
});
