// Spent outputs (the coins a block's inputs consume) as read from test and import files.
// Extra fields carry what a format knows beyond the TxOut: creation height, coinbase flag, BIP68 time.

import type { ParseFailure } from '../primitives/reader.js';
import type { TxOut } from '../primitives/transaction.js';

export interface SpentOutput extends TxOut {
  /** Height of the block that created the coin (Core's Coin::nHeight), when the format has it. */
  height?: number;
  /** Whether the coin is a coinbase output (Core's Coin::fCoinBase), when the format has it. */
  coinbase?: boolean;
  /** BIP68 time of the coin: median-time-past of the block before the creating block. */
  time?: number;
}

/** Spent outputs in input order, or a parse failure as plain data. */
export type SpentReadResult = { ok: true; outputs: SpentOutput[] } | ParseFailure;
