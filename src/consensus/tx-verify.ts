// Transaction rules that need context (Core's consensus/tx_verify.cpp): finality,
// BIP68 sequence locks, and CheckTxInputs (coins exist, maturity, value ranges, fees).

import { moneyRange } from '../primitives/amount.js';
import {
  LOCKTIME_THRESHOLD,
  SEQUENCE_FINAL,
  SEQUENCE_LOCKTIME_DISABLE_FLAG,
  SEQUENCE_LOCKTIME_MASK,
  SEQUENCE_LOCKTIME_TYPE_FLAG,
  type Transaction,
} from '../primitives/transaction.js';
import { COINBASE_MATURITY, LOCKTIME_VERIFY_SEQUENCE } from './consensus.js';

/** BIP68: time-based relative locks count in units of 512 seconds. */
export const SEQUENCE_LOCKTIME_GRANULARITY = 9;

/** Core's IsFinalTx. */
export function isFinalTx(tx: Transaction, blockHeight: number, blockTime: number): boolean {
  if (tx.locktime === 0) return true;
  if (tx.locktime < (tx.locktime < LOCKTIME_THRESHOLD ? blockHeight : blockTime)) return true;
  // Still final when every input opted out with SEQUENCE_FINAL.
  return tx.inputs.every((input) => input.sequence === SEQUENCE_FINAL);
}

/** What BIP68 needs to know about each spent coin. */
export interface SequenceLockCoin {
  /** Height of the block that created the coin; undefined when the caller cannot know it. */
  height?: number;
  /**
   * Median-time-past of the block before the creating block (Core: the ancestor at
   * max(height - 1, 0)); undefined when the caller cannot know it.
   */
  time?: number;
}

/** `unknown`: no lock failed, but one could not be evaluated (a coin's height or time is not known). */
export type SequenceLockResult = { ok: true } | { ok: false; unknown: true } | { ok: false; unknown?: false };

/** BIP68 is enforced: from transaction version 2 (read as unsigned), once CSV is active. */
function bip68Enforced(tx: Transaction, flags: number): boolean {
  return tx.version >>> 0 >= 2 && (flags & LOCKTIME_VERIFY_SEQUENCE) !== 0;
}

/**
 * Whether checkSequenceLocks can fail `tx`: BIP68 is enforced and an input does not opt out
 * (RBF and final sequences set the disable flag). Otherwise it passes whatever the coins.
 */
export function sequenceLocksApply(tx: Transaction, flags: number): boolean {
  if (!bip68Enforced(tx, flags)) return false;
  for (const input of tx.inputs) if ((input.sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) === 0) return true;
  return false;
}

/**
 * Core's CalculateSequenceLocks + EvaluateSequenceLocks for a transaction in a block at
 * `height` whose parent has median-time-past `prevMedianTimePast`.
 */
export function checkSequenceLocks(
  tx: Transaction,
  flags: number,
  coins: readonly SequenceLockCoin[],
  height: number,
  prevMedianTimePast: number,
): SequenceLockResult {
  if (!bip68Enforced(tx, flags)) return { ok: true };
  // nLockTime semantics: the last invalid height/time, so -1 means "any".
  let minHeight = -1;
  let minTime = -1;
  let unknown = false;
  for (let i = 0; i < tx.inputs.length; i++) {
    const sequence = tx.inputs[i]!.sequence;
    if ((sequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) !== 0) continue;
    const coin = coins[i]!;
    const units = sequence & SEQUENCE_LOCKTIME_MASK;
    if ((sequence & SEQUENCE_LOCKTIME_TYPE_FLAG) !== 0) {
      if (coin.height === height) {
        // A coin of this very block: its time is the parent's median-time-past (Core's ancestor at
        // height - 1), so the last invalid time is prevMedianTimePast + units × 512 - 1, reached
        // exactly when units >= 1, whether that time is known or not.
        if (units > 0) return { ok: false };
        continue;
      }
      if (coin.time === undefined) unknown = true;
      else minTime = Math.max(minTime, coin.time + units * 2 ** SEQUENCE_LOCKTIME_GRANULARITY - 1);
    } else if (coin.height === undefined) {
      unknown = true;
    } else {
      minHeight = Math.max(minHeight, coin.height + units - 1);
    }
  }
  // The locks are maxima: one already reached on the inputs evaluated fails whatever the others give.
  if (minHeight >= height || minTime >= prevMedianTimePast) return { ok: false };
  return unknown ? { ok: false, unknown: true } : { ok: true };
}

/** A spent coin as CheckTxInputs sees it; height is unknown in some spent-output files. */
export interface InputCoin {
  value: number;
  coinbase?: boolean;
  height?: number;
}

export type TxInputsResult = { ok: true; fee: number } | { ok: false; reason: string; debug?: string; inputIndex?: number };

/**
 * Core's Consensus::CheckTxInputs, after the caller has found every coin (a missing one
 * is 'bad-txns-inputs-missingorspent' before this is called). A coin without a height
 * cannot be checked for maturity; the caller says so in its result.
 */
export function checkTxInputs(tx: Transaction, coins: readonly InputCoin[], spendHeight: number): TxInputsResult {
  let valueIn = 0;
  for (let i = 0; i < tx.inputs.length; i++) {
    const coin = coins[i]!;
    if (coin.coinbase === true && coin.height !== undefined && spendHeight - coin.height < COINBASE_MATURITY) {
      return {
        ok: false,
        reason: 'bad-txns-premature-spend-of-coinbase',
        debug: `tried to spend coinbase at depth ${spendHeight - coin.height}`,
        inputIndex: i,
      };
    }
    valueIn += coin.value;
    if (!moneyRange(coin.value) || !moneyRange(valueIn)) return { ok: false, reason: 'bad-txns-inputvalues-outofrange', inputIndex: i };
  }
  let valueOut = 0;
  for (const out of tx.outputs) valueOut += out.value; // each within MoneyRange (CheckTransaction)
  if (valueIn < valueOut) return { ok: false, reason: 'bad-txns-in-belowout', debug: `value in (${valueIn}) < value out (${valueOut})` };
  const fee = valueIn - valueOut;
  if (!moneyRange(fee)) return { ok: false, reason: 'bad-txns-fee-outofrange' };
  return { ok: true, fee };
}
