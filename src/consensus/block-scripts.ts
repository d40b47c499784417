// The script-check step of ConnectBlock on one thread: every input of every
// non-coinbase transaction against the outputs it spends, with the block's flags.

import type { Block } from '../primitives/block.js';
import type { TxOut } from '../primitives/transaction.js';
import type { ScriptError } from '../script/errors.js';
import { PrecomputedTxData } from '../script/sighash.js';
import type { SignatureBackend } from '../script/signature.js';
import { verifyInput } from '../script/verify.js';

export type BlockScriptsResult =
  | { ok: true; inputs: number }
  | { ok: false; inputs: number; txIndex: number; inputIndex: number; error: ScriptError };

/**
 * Split a flat list of spent outputs (non-coinbase transactions in block order, inputs
 * in order, as undo files store them) into one array per transaction. Index 0, the
 * coinbase, gets an empty array. Returns undefined when the count does not match.
 */
export function spentOutputsByTx<T extends TxOut>(block: Block, flat: readonly T[]): T[][] | undefined {
  const out: T[][] = [[]];
  let k = 0;
  for (let t = 1; t < block.txs.length; t++) {
    const n = block.txs[t]!.inputs.length;
    if (k + n > flat.length) return undefined;
    out.push(flat.slice(k, k + n));
    k += n;
  }
  return k === flat.length ? out : undefined;
}

/** Verify every input script of the block; stops at the first failure and names it. */
export function checkBlockScripts(
  block: Block,
  spentByTx: readonly (readonly TxOut[])[],
  flags: number,
  backend?: SignatureBackend,
): BlockScriptsResult {
  let inputs = 0;
  for (let t = 1; t < block.txs.length; t++) {
    const tx = block.txs[t]!;
    const spent = spentByTx[t];
    if (spent === undefined || spent.length !== tx.inputs.length) {
      throw new RangeError(`spent outputs for transaction ${t} do not match its ${tx.inputs.length} inputs`);
    }
    const txdata = new PrecomputedTxData(tx, spent);
    for (let i = 0; i < tx.inputs.length; i++) {
      const r = verifyInput(tx, i, spent, flags, backend === undefined ? { txdata } : { txdata, backend });
      inputs++;
      if (!r.ok) return { ok: false, inputs, txIndex: t, inputIndex: i, error: r.error };
    }
  }
  return { ok: true, inputs };
}
