// Spent-output lists as undo files store them (flat, in block input order), split per
// transaction, as the block rules and the script checks take them.

import type { Block } from '../primitives/block.js';
import type { TxOut } from '../primitives/transaction.js';
import { equalBytes } from '../primitives/bytes.js';
import type { BlockTxids } from './block-txids.js';
import type { TxScriptWork } from './connect-block.js';

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

/**
 * The script work connectBlockInputs hands over when the block's coin checks pass: each spending
 * transaction with the outputs its inputs spend, coins of this block taken from the block (as it
 * does), the others from `byTx`. Undefined when an input spends a coin of this block that is not
 * made before it: the coin checks will fail, so there is nothing to start early.
 */
export function expectedScriptWork(block: Block, byTx: readonly (readonly TxOut[])[], blockTxids: BlockTxids): TxScriptWork[] | undefined {
  const work: TxScriptWork[] = [];
  for (let i = 1; i < block.txs.length; i++) {
    const tx = block.txs[i]!;
    const given = byTx[i]!;
    const spent: TxOut[] = new Array(tx.inputs.length);
    for (let j = 0; j < tx.inputs.length; j++) {
      const { hash, index } = tx.inputs[j]!.prevout;
      const maker = blockTxids.indexOf(hash);
      if (maker < 0) {
        spent[j] = given[j]!;
        continue;
      }
      const out = maker < i ? block.txs[maker]!.outputs[index] : undefined;
      if (out === undefined) return undefined;
      spent[j] = out;
    }
    work.push({ txIndex: i, tx, spent });
  }
  return work;
}

/** Whether two script work lists check the same transactions against the same spent outputs. */
export function sameScriptWork(a: readonly TxScriptWork[], b: readonly TxScriptWork[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!;
    const y = b[k]!;
    if (x.txIndex !== y.txIndex || x.tx !== y.tx || x.spent.length !== y.spent.length) return false;
    for (let j = 0; j < x.spent.length; j++) {
      const p = x.spent[j]!;
      const q = y.spent[j]!;
      if (p !== q && (p.value !== q.value || !equalBytes(p.scriptPubKey, q.scriptPubKey))) return false;
    }
  }
  return true;
}
