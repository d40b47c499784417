// Signature-operation cost per input kind, after Core's sigopcount_tests.cpp (GetTxSigOpCost):
// legacy ×4, P2SH redeem scripts ×4, witness v0 ×1, nothing for taproot and other versions.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { countWitnessSigOps, getP2SHSigOpCount, getSigOpCount, getTransactionSigOpCost } from '../src/consensus/sigops.js';
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

test('OP_CHECKSIGVERIFY counts one sigop like OP_CHECKSIG, accurately or not', () => {
  // Core's CScript::GetSigOpCount: opcode == OP_CHECKSIG || opcode == OP_CHECKSIGVERIFY.
  const script = Uint8Array.of(OP.OP_CHECKSIGVERIFY, OP.OP_CHECKSIG, OP.OP_CHECKSIGVERIFY);
  assert.equal(getSigOpCount(script, false), 3);
  assert.equal(getSigOpCount(script, true), 3);
  // In a P2WSH witness script (×1) and a P2SH redeem script (×4).
  assert.equal(cost(program(0, 32), new Uint8Array(0), [script]), 3);
  assert.equal(cost(p2sh, pushData(script), []), 12);
});

test('a script that stops parsing keeps the sigops counted before the bad push (Core breaks out of the loop)', () => {
  // OP_CHECKSIG, then OP_PUSHDATA1 with no length byte: GetOp fails, the count so far stands.
  assert.equal(getSigOpCount(Uint8Array.of(OP.OP_CHECKSIG, OP.OP_CHECKSIG, OP.OP_PUSHDATA1), false), 2);
  // A push that runs past the end, after a multisig counted accurately.
  assert.equal(getSigOpCount(Uint8Array.of(OP.OP_2, OP.OP_CHECKMULTISIG, 5, 1, 2), true), 2);
  // In a P2WSH witness script, counted at ×1.
  assert.equal(cost(program(0, 32), new Uint8Array(0), [Uint8Array.of(OP.OP_CHECKSIG, OP.OP_PUSHDATA2, 1)]), 1);
});

test('P2SH: OP_1 to OP_16 may come before the redeem script (push-only); a scriptSig that does not parse counts nothing', () => {
  // Core's GetSigOpCount(scriptSig): every op must parse and be <= OP_16, and the last push is the redeem script.
  assert.equal(cost(p2sh, Uint8Array.of(OP.OP_16, ...pushData(MULTISIG)), []), 12);
  assert.equal(cost(p2sh, Uint8Array.of(OP.OP_1, ...pushData(program(0, 20))), [new Uint8Array(71), key(2)]), 1);
  // The redeem script pushed, then OP_PUSHDATA1 with no length byte: GetOp fails, 0 sigops,
  // and the scriptSig is not push-only (IsPushOnly), so no witness sigops either.
  assert.equal(cost(p2sh, Uint8Array.of(...pushData(MULTISIG), OP.OP_PUSHDATA1), []), 0);
  assert.equal(cost(p2sh, Uint8Array.of(...pushData(program(0, 20)), OP.OP_PUSHDATA1), [new Uint8Array(71), key(2)]), 0);
});

test('witness v0 programs of other lengths than 20 and 32 bytes count nothing, shorter ones included', () => {
  // Core's WitnessSigOps: only WITNESS_V0_KEYHASH_SIZE (20) and WITNESS_V0_SCRIPTHASH_SIZE (32).
  for (const bytes of [2, 16, 19, 21, 31, 33]) {
    assert.equal(cost(program(0, bytes), new Uint8Array(0), [MULTISIG]), 0, `${bytes}-byte program`);
    assert.equal(cost(p2sh, pushData(program(0, bytes)), [MULTISIG]), 0, `${bytes}-byte program in P2SH`);
  }
});

test('only P2SH spends have their last scriptSig push counted as a redeem script', () => {
  // Core's GetP2SHSigOpCount: prevout.scriptPubKey.IsPayToScriptHash() first. A push is data to the
  // legacy count, so a non-P2SH spend pushing a multisig script costs nothing.
  assert.equal(cost(Uint8Array.of(OP.OP_1), pushData(MULTISIG), []), 0);
  assert.equal(cost(program(0, 20), pushData(MULTISIG), [new Uint8Array(71), key(2)]), 1);
  assert.equal(cost(p2sh, pushData(MULTISIG), []), 12);
  // A coinbase spends nothing: no P2SH sigops.
  const coinbase = new Transaction(1, [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: pushData(MULTISIG), sequence: 0, witness: [] }], [{ value: 1, scriptPubKey: Uint8Array.of(OP.OP_1) }], 0);
  assert.equal(getP2SHSigOpCount(coinbase, []), 0);
});

test('witness v1 programs count nothing, whatever the witness holds and whatever the program length', () => {
  // Core's WitnessSigOps counts version 0 only: a taproot script-path witness script is budgeted (BIP342).
  assert.equal(cost(program(1, 32), new Uint8Array(0), [MULTISIG, new Uint8Array(33)]), 0);
  assert.equal(cost(program(1, 32), new Uint8Array(0), [MULTISIG]), 0);
  assert.equal(cost(program(1, 20), new Uint8Array(0), [new Uint8Array(71), key(2)]), 0);
  assert.equal(cost(p2sh, pushData(program(1, 32)), [MULTISIG]), 0);
});
