// Signature-operation counting (Core's GetSigOpCount, GetLegacySigOpCount,
// GetP2SHSigOpCount, CountWitnessSigOps, GetTransactionSigOpCost).

import type { Transaction, TxOut } from '../primitives/transaction.js';
import { SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS } from '../script/flags.js';
import { MAX_PUBKEYS_PER_MULTISIG } from '../script/interpreter.js';
import { OP, decodeOpN } from '../script/opcodes.js';
import { ScriptCursor, isPayToScriptHash, witnessVersion } from '../script/script.js';
import { WITNESS_SCALE_FACTOR } from './consensus.js';

/**
 * One cursor for every count and lastPush (none runs inside another): a block has a script to count
 * for every input and output. It holds on to the last script read, a view, until the next count.
 */
const cursor = new ScriptCursor(new Uint8Array(0));

/** CScript::GetSigOpCount(fAccurate): multisig counts its key number only when accurate. */
export function getSigOpCount(script: Uint8Array, accurate: boolean): number {
  let n = 0;
  let last: number = OP.OP_INVALIDOPCODE;
  const c = cursor.reset(script);
  while (c.pc < script.length) {
    if (!c.next()) break;
    const op = c.op;
    if (op === OP.OP_CHECKSIG || op === OP.OP_CHECKSIGVERIFY) n++;
    else if (op === OP.OP_CHECKMULTISIG || op === OP.OP_CHECKMULTISIGVERIFY) {
      n += accurate && last >= OP.OP_1 && last <= OP.OP_16 ? decodeOpN(last) : MAX_PUBKEYS_PER_MULTISIG;
    }
    last = op;
  }
  return n;
}

const NO_PUSH = new Uint8Array(0);

/** The last item a push-only scriptSig leaves (empty after OP_N); undefined if not push-only. */
function lastPush(scriptSig: Uint8Array): Uint8Array | undefined {
  const c = cursor.reset(scriptSig);
  let data: Uint8Array = NO_PUSH;
  while (c.pc < scriptSig.length) {
    if (!c.next()) return undefined;
    if (c.op > OP.OP_16) return undefined;
    data = c.data();
  }
  return data;
}

/** Core's GetLegacySigOpCount: every scriptSig and scriptPubKey, counted inaccurately. */
export function getLegacySigOpCount(tx: Transaction): number {
  let n = 0;
  for (const input of tx.inputs) n += getSigOpCount(input.scriptSig, false);
  for (const out of tx.outputs) n += getSigOpCount(out.scriptPubKey, false);
  return n;
}

/** Core's GetP2SHSigOpCount: redeem scripts of P2SH spends, counted accurately. */
export function getP2SHSigOpCount(tx: Transaction, spent: readonly TxOut[]): number {
  if (tx.isCoinbase()) return 0;
  let n = 0;
  const inputs = tx.inputs;
  for (let i = 0; i < inputs.length; i++) {
    if (!isPayToScriptHash(spent[i]!.scriptPubKey)) continue;
    const redeem = lastPush(inputs[i]!.scriptSig);
    if (redeem !== undefined) n += getSigOpCount(redeem, true);
  }
  return n;
}

/** Core's WitnessSigOps, for a witness program of `programLength` bytes (the program itself is not read). */
function witnessSigOps(version: number, programLength: number, witness: readonly Uint8Array[]): number {
  if (version === 0) {
    if (programLength === 20) return 1;
    if (programLength === 32 && witness.length > 0) return getSigOpCount(witness[witness.length - 1]!, true);
  }
  return 0; // taproot and future versions are budgeted per script instead (BIP342)
}

/** Core's CountWitnessSigOps for one input. */
export function countWitnessSigOps(scriptSig: Uint8Array, scriptPubKey: Uint8Array, witness: readonly Uint8Array[], flags: number): number {
  if ((flags & SCRIPT_VERIFY_WITNESS) === 0) return 0;
  const version = witnessVersion(scriptPubKey);
  if (version >= 0) return witnessSigOps(version, scriptPubKey.length - 2, witness);
  if (isPayToScriptHash(scriptPubKey)) {
    const redeem = lastPush(scriptSig);
    if (redeem !== undefined) {
      const inner = witnessVersion(redeem);
      if (inner >= 0) return witnessSigOps(inner, redeem.length - 2, witness);
    }
  }
  return 0;
}

/** Core's GetTransactionSigOpCost: legacy ×4, P2SH ×4 and witness ×1. */
export function getTransactionSigOpCost(tx: Transaction, spent: readonly TxOut[], flags: number): number {
  let cost = getLegacySigOpCount(tx) * WITNESS_SCALE_FACTOR;
  if (tx.isCoinbase()) return cost;
  if ((flags & SCRIPT_VERIFY_P2SH) !== 0) cost += getP2SHSigOpCount(tx, spent) * WITNESS_SCALE_FACTOR;
  const inputs = tx.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    cost += countWitnessSigOps(input.scriptSig, spent[i]!.scriptPubKey, input.witness, flags);
  }
  return cost;
}
