// A valid two-transaction block whose merkle root is also the txid of a 64-byte "transaction":
// the two txids side by side, ground until they parse as one (Weaknesses in Bitcoin's Merkle Root
// Construction, 2019, section 3.1). The same header then fronts a different, invalid block.

import { Block } from '../../src/primitives/block.js';
import { concatBytes, equalBytes } from '../../src/primitives/bytes.js';
import { hash256 } from '../../src/primitives/hash.js';
import { Transaction, type TxIn, type TxOut } from '../../src/primitives/transaction.js';
import { pushData } from '../../src/script/script.js';
import { OP } from '../../src/script/opcodes.js';
import { PrecomputedTxData, SIGHASH_NONE, signatureHashWitnessV0 } from '../../src/script/sighash.js';
import { bip34HeightPush, seedBytes, Signer, Wallet, type GeneratedBlock, type GeneratedCoin } from '../../src/generate/index.js';
import { rebuildBlock } from './alter-block.js';
import { remine } from './regtest-chain.js';

export interface MerkleTwin {
  /** The valid block: a coinbase and one transaction, at `base`'s height on `base`'s parent. */
  block: Block;
  /** Its header over one 64-byte transaction, coinbase txid then the other txid: the same merkle root. */
  twin: Uint8Array;
}

const FEE = 1000;

/**
 * The 64 bytes parse as version, one input (byte 4 = 0x01, from the coinbase txid), a prevout, a
 * 13-byte scriptSig (byte 41 = 0x0d), a sequence, no outputs (byte 59 = 0x00) and a locktime; so the
 * coinbase is ground for one byte (its tag) and the spend for two (an OP_RETURN it signs around
 * with SIGHASH_NONE, so the signature survives the grinding): about 2^8 + 2^16 hashes.
 */
export function merkleTwin(base: GeneratedBlock, coin: GeneratedCoin, seed: string): MerkleTwin {
  if (coin.type !== 'p2wpkh') throw new Error('merkleTwin spends a P2WPKH coin');
  const entry = new Wallet(seedBytes(seed)).entries.get('p2wpkh')!.find((e) => equalBytes(e.scriptPubKey, coin.scriptPubKey));
  if (entry === undefined) throw new Error('the coin is not the seed’s wallet’s');

  const key = entry.keys[0]!;
  const outputs = (n: number): TxOut[] => {
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, n, true);
    return [
      { value: coin.value - FEE, scriptPubKey: coin.scriptPubKey },
      { value: 0, scriptPubKey: concatBytes(Uint8Array.of(OP.OP_RETURN), pushData(counter)) },
    ];
  };
  const input: TxIn = { prevout: { hash: coin.txid, index: coin.vout }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] };
  const unsigned = new Transaction(2, [input], outputs(0), 0);
  const sighash = signatureHashWitnessV0(entry.scriptCode!, unsigned, 0, SIGHASH_NONE, coin.value, new PrecomputedTxData(unsigned, [coin]));
  const witness = [new Signer(seedBytes(seed)).signEcdsa(sighash, key, SIGHASH_NONE), key.pubkey];

  // The counter is the last four bytes before the locktime in the serialization without witness.
  const stripped = unsigned.toBytes(false);
  const view = new DataView(stripped.buffer, stripped.byteOffset, stripped.length);
  let n = 0;
  for (; ; n++) {
    view.setUint32(stripped.length - 8, n, true);
    const id = hash256(stripped);
    if (id[41 - 32] === 0x0d && id[59 - 32] === 0x00) break;
  }
  const spend = new Transaction(2, [{ ...input, witness }], outputs(n), 0);

  const cb = base.block.txs[0]!;
  const commitment = cb.outputs[cb.outputs.length - 1]!; // recomputed by rebuildBlock
  for (let tag = 0; ; tag++) {
    const scriptSig = concatBytes(bip34HeightPush(base.height), pushData(Uint8Array.of(tag & 0xff, tag >>> 8)));
    const coinbase = new Transaction(2, [{ ...cb.inputs[0]!, scriptSig }], [{ value: cb.outputs[0]!.value, scriptPubKey: cb.outputs[0]!.scriptPubKey }, commitment], 0);
    const block = rebuildBlock(base.block, [coinbase, spend]);
    const cbid = block.txs[0]!.txid();
    if (cbid[4] !== 0x01) continue;
    const mined = remine(block);
    return { block: mined, twin: concatBytes(mined.header.toBytes(), Uint8Array.of(1), cbid, spend.txid()) };
  }
}
