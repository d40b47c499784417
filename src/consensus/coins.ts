// Coins (unspent outputs with the facts consensus needs about them) and the view
// the block rules read them through; the LMDB store and in-memory views implement it.

import type { TxOut } from '../primitives/transaction.js';

/** Core's Coin: an output plus the height that created it and whether it was a coinbase. */
export interface Coin extends TxOut {
  readonly height: number;
  readonly coinbase: boolean;
}

/** Read access to a UTXO set. `txid` is in internal byte order. */
export interface CoinView {
  getCoin(txid: Uint8Array, vout: number): Coin | undefined;
}

/** The 36-byte outpoint key: txid (internal order) then vout as uint32 little-endian. */
export function outpointKey(txid: Uint8Array, vout: number): Uint8Array {
  const key = new Uint8Array(36);
  key.set(txid, 0);
  new DataView(key.buffer).setUint32(32, vout, true);
  return key;
}
