// Spent-output lists as undo files store them (flat, in block input order), split per
// transaction, as the block rules and the script checks take them.

import type { Block } from '../primitives/block.js';
import type { TxOut } from '../primitives/transaction.js';

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
