// The txids of one block as a set: "is this prevout a coin of this block?" is asked once per
// input (twice before the scripts start), so it must cost no string and no object a question. A
// hex string per txid and per input (the Set<string> this replaced) was ~4 ms of block 928927's
// ~54 ms of checks before its scripts; a Map keyed by 48 bits of the txid boxed every key it was
// asked (~0.3 MB a block). The outpoint map's salted table, with vout 0, does neither.

import type { Block } from '../primitives/block.js';
import { OutpointMap } from '../primitives/outpoint-map.js';

export class BlockTxids {
  private readonly index: OutpointMap<number>;

  constructor(block: Block) {
    const txs = block.txs;
    this.index = new OutpointMap<number>(txs.length);
    for (let i = 0; i < txs.length; i++) {
      const txid = txs[i]!.txid();
      // Keep the first transaction with this txid (a block may repeat one: BIP30 then decides).
      if (this.index.get(txid, 0) === undefined) this.index.set(txid, 0, i);
    }
  }

  /** The index of the first transaction of the block with this txid, or -1. */
  indexOf(txid: Uint8Array): number {
    return this.index.get(txid, 0) ?? -1;
  }
}
