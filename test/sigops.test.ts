// Signature-operation cost per input kind, after Core's sigopcount_tests.cpp (GetTxSigOpCost):
// legacy ×4, P2SH redeem scripts ×4, witness v0 ×1, nothing for taproot and other versions.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { countWitnessSigOps, getSigOpCount, getTransactionSigOpCost } from '../src/consensus/sigops.js';
import { SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS } from '../src/script/flags.js';
import { pushData } from '../src/script/script.js';
import { OP } from '../src/script/opcodes.js';
import { Transaction, type TxOut } from '../src/primitives/transaction.js';

const FLAGS = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS;
const key = (b: number): Uint8Array => new Uint8Array(33).fill(b);
/** 2-of-3 multisig: 3 sigops counted accurately, 20 inaccurately. */
const MULTISIG = Uint8Array.of(OP.OP_2, 33, ...key(2), 33, ...key(3), 33, ...key(4), OP.OP_3, OP.OP_CHECKMULTISIG);
const program = (version: number, bytes: number): Uint8Array => Uint8Array.of(version === 0 ? OP.OP_0 : OP.OP_1 + version - 1, bytes, ...new Uint8Array(bytes).fill(7));
const p2sh = Uint8Array.of(OP.OP_HASH160, 20, ...new Uint8Array(20).fill(9), OP.OP_EQUAL);

function cost(scriptPubKey: Uint8Array, scriptSig: Uint8Array, witness: Uint8Array[], flags = FLAGS): number {
  const spent: TxOut[] = [{ value: 1, scriptPubKey }];
  const tx = new Transaction(2, [{ prevout: { hash: new Uint8Array(32).fill(1), index: 0 }, scriptSig, sequence: 0, witness }], [{ value: 1, scriptPubKey: Uint8Array.of(OP.OP_1) }], 0);
  return getTransactionSigOpCost(tx, spent, flags);
}

test('witness v0: a 20-byte program is one sigop, a 32-byte one counts its witness script accurately', () => {
  assert.equal(cost(program(0, 20), new Uint8Array(0), [new Uint8Array(71), key(2)]), 1);
  assert.equal(cost(program(0, 32), new Uint8Array(0), [new Uint8Array(0), new Uint8Array(71), MULTISIG]), 3);
  // An empty witness has no script to count.
  assert.equal(cost(program(0, 32), new Uint8Array(0), []), 0);
  // Other lengths are witness programs of version 0 that count nothing.
  assert.equal(cost(program(0, 21), new Uint8Array(0), [MULTISIG]), 0);
  // Without the witness flag, nothing.
  assert.equal(cost(program(0, 20), new Uint8Array(0), [new Uint8Array(71), key(2)], SCRIPT_VERIFY_P2SH), 0);
});

test('taproot and later versions count nothing per input (BIP342 budgets them per script)', () => {
  assert.equal(cost(program(1, 32), new Uint8Array(0), [new Uint8Array(64)]), 0);
  assert.equal(cost(program(16, 32), new Uint8Array(0), [MULTISIG]), 0);
  assert.equal(cost(program(1, 2), new Uint8Array(0), [MULTISIG]), 0);
});

test('a script that only looks like a program (wrong push length, too short, too long) counts as legacy', () => {
  const wrongPush = Uint8Array.of(OP.OP_0, 19, ...new Uint8Array(20));
  assert.equal(cost(wrongPush, new Uint8Array(0), [MULTISIG]), 0);
  assert.equal(countWitnessSigOps(new Uint8Array(0), Uint8Array.of(OP.OP_0, 1, 5), [MULTISIG], FLAGS), 0);
  assert.equal(countWitnessSigOps(new Uint8Array(0), Uint8Array.of(OP.OP_0, 41, ...new Uint8Array(41)), [MULTISIG], FLAGS), 0);
  // 40 bytes is the longest program.
  assert.equal(countWitnessSigOps(new Uint8Array(0), program(0, 40), [MULTISIG], FLAGS), 0);
});

test('P2SH-wrapped witness programs count as the program, and the redeem script is legacy-free', () => {
  assert.equal(cost(p2sh, pushData(program(0, 20)), [new Uint8Array(71), key(2)]), 1);
  assert.equal(cost(p2sh, pushData(program(0, 32)), [new Uint8Array(0), MULTISIG]), 3);
  // A scriptSig that is not push-only hides the redeem script: no P2SH and no witness sigops.
  assert.equal(cost(p2sh, Uint8Array.of(OP.OP_NOP, ...pushData(program(0, 20))), [new Uint8Array(71), key(2)]), 0);
  // A P2SH multisig redeem script: its 3 sigops ×4; the witness is not looked at.
  assert.equal(cost(p2sh, Uint8Array.of(OP.OP_0, ...pushData(new Uint8Array(71)), ...pushData(MULTISIG)), [MULTISIG]), 12);
  // Without P2SH, the redeem script is not counted at all.
  assert.equal(cost(p2sh, Uint8Array.of(OP.OP_0, ...pushData(MULTISIG)), [], SCRIPT_VERIFY_WITNESS), 0);
});

test('legacy sigops of the scriptSig and the outputs count ×4, inaccurately, beside the witness ones', () => {
  // A scriptSig with an OP_CHECKMULTISIG (20 inaccurately) on a P2WPKH spend: 80 + 1.
  assert.equal(cost(program(0, 20), Uint8Array.of(OP.OP_CHECKMULTISIG), [new Uint8Array(71), key(2)]), 81);
});

test('an accurate count reads the key count from OP_1 to OP_16 before CHECKMULTISIG; anything else counts 20', () => {
  // Core's CScript::GetSigOpCount: fAccurate && lastOpcode >= OP_1 && lastOpcode <= OP_16 ? DecodeOP_N : MAX_PUBKEYS_PER_MULTISIG.
  const bare = (n: number): Uint8Array => Uint8Array.of(n, OP.OP_CHECKMULTISIG);
  assert.equal(getSigOpCount(bare(OP.OP_16), true), 16);
  assert.equal(getSigOpCount(bare(OP.OP_1), true), 1);
  assert.equal(getSigOpCount(Uint8Array.of(OP.OP_15, OP.OP_CHECKMULTISIGVERIFY), true), 15);
  assert.equal(getSigOpCount(bare(OP.OP_0), true), 20);
  assert.equal(getSigOpCount(bare(OP.OP_16), false), 20);
  // In a P2WSH witness script (×1) and a P2SH redeem script (×4), both counted accurately.
  assert.equal(cost(program(0, 32), new Uint8Array(0), [bare(OP.OP_16)]), 16);
  assert.equal(cost(p2sh, pushData(bare(OP.OP_16)), []), 64);
});
