// Script checks for a whole transaction, the mempool-style entry point: every input verified
// against the outputs it spends, the signature cache consulted and filled on the way.

import { checkSpentOutputs, type Transaction, type TxOut } from '../primitives/transaction.js';
import type { ScriptError } from './errors.js';
import { SchnorrBatch } from './batch-schnorr.js';
import { PrecomputedTxData } from './sighash.js';
import { verifyInput, type VerifyOptions } from './verify.js';

export interface VerifyTxOptions extends VerifyOptions {
  /**
   * Verify the transaction's BIP340 signatures as one batch after its scripts have run (ignored
   * when `schnorrBatch` is given: then the caller verifies that batch, e.g. once per block).
   */
  batchSchnorr?: boolean;
}

export type VerifyTxResult = { readonly ok: true } | { readonly ok: false; readonly inputIndex: number; readonly error: ScriptError };

const TX_OK: VerifyTxResult = Object.freeze({ ok: true });

/**
 * Verify the scripts of every input of `tx`; `spentOutputs[i]` is the output input i spends.
 * Returns the first failing input and Core's script error. With `batchSchnorr` a bad BIP340
 * signature is found after the other inputs have run, so when a transaction has a bad Schnorr
 * signature and another failure, the other failure is the one reported (either makes it invalid).
 */
export function verifyTransaction(tx: Transaction, spentOutputs: readonly TxOut[], flags: number, opts: VerifyTxOptions = {}): VerifyTxResult {
  checkSpentOutputs(spentOutputs);
  if (spentOutputs.length !== tx.inputs.length) {
    throw new RangeError(`verifyTransaction: ${tx.inputs.length} inputs but ${spentOutputs.length} spent outputs`);
  }
  const ownBatch = opts.schnorrBatch === undefined && opts.batchSchnorr === true ? new SchnorrBatch(opts.backend !== undefined ? { backend: opts.backend } : {}) : undefined;
  const inputOpts: VerifyOptions = {
    ...opts,
    txdata: opts.txdata ?? new PrecomputedTxData(tx, spentOutputs),
    ...(ownBatch !== undefined && { schnorrBatch: ownBatch }),
  };
  for (let i = 0; i < tx.inputs.length; i++) {
    const r = verifyInput(tx, i, spentOutputs, flags, inputOpts);
    if (!r.ok) {
      ownBatch?.clear();
      return { ok: false, inputIndex: i, error: r.error };
    }
  }
  if (ownBatch !== undefined) {
    const b = ownBatch.verify();
    if (!b.ok) return { ok: false, inputIndex: b.inputIndex, error: b.error };
  }
  return TX_OK;
}
