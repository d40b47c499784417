// bcoin's single-transaction vectors (bcoin/txs/txN.raw with txN-undo.raw, from bcoin's
// test/data and test/tx-test.js): every input verifies under the flags bcoin's tests use,
// and breaks when one byte of any of its signatures is flipped; all of it under each signature backend.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { forEachBackend } from './helpers/backends.js';
import { readVector } from './helpers/vectors.js';
import { hashToHex } from '../src/primitives/bytes.js';
import { Transaction, decodeTransaction, type TxIn, type TxOut } from '../src/primitives/transaction.js';
import { readBcoinUndo } from '../src/spent/index.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_CLEANSTACK,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS,
  SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM,
  SCRIPT_VERIFY_LOW_S,
  SCRIPT_VERIFY_MINIMALDATA,
  SCRIPT_VERIFY_MINIMALIF,
  SCRIPT_VERIFY_NONE,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_NULLFAIL,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_STRICTENC,
  SCRIPT_VERIFY_WITNESS,
  SCRIPT_VERIFY_WITNESS_PUBKEYTYPE,
} from '../src/script/flags.js';
import { ScriptCursor } from '../src/script/script.js';
import { PrecomputedTxData } from '../src/script/sighash.js';
import { isValidSignatureEncoding, type SignatureBackend } from '../src/script/signature.js';
import { verifyInput } from '../src/script/verify.js';

/** bcoin's Script.flags.STANDARD_VERIFY_FLAGS (lib/script/common.js), its default for tx.verify(). */
const BCOIN_STANDARD_VERIFY_FLAGS =
  SCRIPT_VERIFY_P2SH |
  SCRIPT_VERIFY_DERSIG |
  SCRIPT_VERIFY_STRICTENC |
  SCRIPT_VERIFY_MINIMALDATA |
  SCRIPT_VERIFY_NULLDUMMY |
  SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS |
  SCRIPT_VERIFY_CLEANSTACK |
  SCRIPT_VERIFY_MINIMALIF |
  SCRIPT_VERIFY_NULLFAIL |
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY |
  SCRIPT_VERIFY_LOW_S |
  SCRIPT_VERIFY_WITNESS |
  SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM |
  SCRIPT_VERIFY_WITNESS_PUBKEYTYPE;

interface TxVector {
  name: string;
  /** Display-order txid prefix and suffix, as SOURCES.md gives them. */
  txid: [string, string];
  flags: number;
  flagNames: string;
  what: string;
}

const VECTORS: readonly TxVector[] = [
  { name: 'tx1', txid: ['ff80fe49', 'ef1c'], flags: SCRIPT_VERIFY_P2SH, flagNames: 'P2SH', what: 'non-minimal output' },
  { name: 'tx2', txid: ['7ef7cde4', 'e178'], flags: SCRIPT_VERIFY_P2SH, flagNames: 'P2SH', what: 'tx version 0' },
  { name: 'tx3', txid: ['2c63aa81', '14d1'], flags: SCRIPT_VERIFY_P2SH, flagNames: 'P2SH', what: 'SIGHASH_SINGLE bug with FindAndDelete' },
  { name: 'tx4', txid: ['eddbfbac', 'c6e2'], flags: SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_DERSIG, flagNames: 'P2SH|DERSIG', what: 'high-S signature' },
  { name: 'tx6', txid: ['4d932e00', '2491'], flags: SCRIPT_VERIFY_NONE, flagNames: 'NONE', what: 'coolest tx ever sent (non-standard scripts)' },
  { name: 'tx7', txid: ['7f2dc9bc', 'd339'], flags: BCOIN_STANDARD_VERIFY_FLAGS, flagNames: 'bcoin STANDARD_VERIFY_FLAGS', what: 'historical transaction' },
  { name: 'tx10', txid: ['5ceec2d8', '8cec'], flags: SCRIPT_VERIFY_P2SH, flagNames: 'P2SH', what: 'bare multisig inputs' },
];

interface Loaded {
  tx: Transaction;
  spent: TxOut[];
}

function load(name: string): Loaded {
  const decoded = decodeTransaction(readVector('bcoin', 'txs', `${name}.raw`));
  if (!decoded.ok) assert.fail(`${name}.raw does not decode: ${decoded.code} at ${decoded.offset}: ${decoded.message}`);
  const undo = readBcoinUndo(readVector('bcoin', 'txs', `${name}-undo.raw`));
  if (!undo.ok) assert.fail(`${name}-undo.raw does not parse: ${undo.code} at ${undo.offset}: ${undo.message}`);
  assert.equal(undo.outputs.length, decoded.tx.inputs.length, 'one undo record per input');
  return { tx: decoded.tx, spent: undo.outputs };
}

/** Byte offsets (into the scriptSig) of each push that is a strict-DER signature plus hash type. */
function signaturePushes(scriptSig: Uint8Array): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  const c = new ScriptCursor(scriptSig);
  while (c.next()) {
    if (c.dataEnd > c.dataStart && isValidSignatureEncoding(c.data())) out.push({ start: c.dataStart, end: c.dataEnd });
  }
  return out;
}

/** The tx with one byte of input `nIn`'s scriptSig flipped. */
function withFlippedByte(tx: Transaction, nIn: number, offset: number): Transaction {
  const inputs: TxIn[] = [...tx.inputs];
  const input = inputs[nIn]!;
  const scriptSig = input.scriptSig.slice();
  scriptSig[offset]! ^= 0x01;
  inputs[nIn] = { ...input, scriptSig };
  return new Transaction(tx.version, inputs, tx.outputs, tx.locktime);
}

function verifyAll(tx: Transaction, spent: TxOut[], flags: number, backend: SignatureBackend): ReturnType<typeof verifyInput>[] {
  const txdata = new PrecomputedTxData(tx, spent);
  return tx.inputs.map((_, i) => verifyInput(tx, i, spent, flags, { txdata, backend }));
}

forEachBackend(({ tag, backend }) => {
  for (const v of VECTORS) {
    test(`${tag} ${v.name} ${v.txid[0]}…${v.txid[1]}: ${v.what}, every input verifies with ${v.flagNames}`, () => {
      const { tx, spent } = load(v.name);
      const txid = hashToHex(tx.txid());
      assert.ok(txid.startsWith(v.txid[0]) && txid.endsWith(v.txid[1]), `txid ${txid}`);
      verifyAll(tx, spent, v.flags, backend).forEach((res, i) => assert.deepEqual(res, { ok: true }, `input ${i}`));
    });

    test(`${tag} ${v.name}: a flipped byte in any signature makes its input fail with ${v.flagNames}`, () => {
      const { tx, spent } = load(v.name);
      let signatures = 0;
      tx.inputs.forEach((input, i) => {
        const pushes = signaturePushes(input.scriptSig);
        assert.ok(pushes.length > 0, `input ${i} carries a signature`);
        for (const p of pushes) {
          signatures++;
          // Byte 10 lies inside R (R starts at offset 4 and is at least 20 bytes in these
          // signatures), so the encoding stays strict DER and only the value changes.
          const bad = withFlippedByte(tx, i, p.start + 10);
          // The check just returns false (EVAL_FALSE at the end), unless NULLFAIL forbids a
          // failing non-empty signature.
          const expected = (v.flags & SCRIPT_VERIFY_NULLFAIL) !== 0 ? 'NULLFAIL' : 'EVAL_FALSE';
          const res = verifyInput(bad, i, spent, v.flags, { backend });
          assert.deepEqual(res, { ok: false, error: expected }, `input ${i}, signature at scriptSig[${p.start}..${p.end}]`);
        }
      });
      assert.ok(signatures >= tx.inputs.length);
    });
  }

  test(`${tag} tx4: the high-S signature fails with P2SH|DERSIG|LOW_S (SIG_HIGH_S)`, () => {
    const { tx, spent } = load('tx4');
    const res = verifyInput(tx, 0, spent, SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_LOW_S, { backend });
    assert.deepEqual(res, { ok: false, error: 'SIG_HIGH_S' });
  });

  test(`${tag} tx3: the SIGHASH_SINGLE input has no matching output (sighash is uint256 one) and still verifies`, () => {
    const { tx, spent } = load('tx3');
    // Input 1 signs with SIGHASH_SINGLE and has no output at its index: Core's SignatureHash
    // returns 1, and its scriptPubKey pushes the signature itself, which FindAndDelete removes.
    assert.equal(tx.outputs.length, 1);
    const sigs = signaturePushes(tx.inputs[1]!.scriptSig);
    assert.ok(sigs.length > 0);
    const single = sigs.some((p) => (tx.inputs[1]!.scriptSig[p.end - 1]! & 0x1f) === 3);
    assert.ok(single, 'input 1 carries a SIGHASH_SINGLE signature');
    assert.deepEqual(verifyInput(tx, 1, spent, SCRIPT_VERIFY_P2SH, { backend }), { ok: true });
  });
});
