// Mainnet block 866342 (Floresta's vector) with its spent outputs, cut into transactions, and the
// BIP340 checks its taproot inputs make, collected through the signature checker's deferred mode.

import type { Block } from '../../src/primitives/block.js';
import type { Transaction, TxIn, TxOut } from '../../src/primitives/transaction.js';
import { hashToHex } from '../../src/primitives/bytes.js';
import { readFlorestaJson } from '../../src/spent/index.js';
import { SchnorrBatch, type DeferredSchnorr } from '../../src/script/batch-schnorr.js';
import { PrecomputedTxData } from '../../src/script/sighash.js';
import { verifyInput } from '../../src/script/verify.js';
import { blockScriptFlags, loadRealBlock, REAL_BLOCKS } from './real-blocks.js';
import { readVectorText } from './vectors.js';

export interface BlockTx {
  readonly txIndex: number;
  readonly tx: Transaction;
  readonly spent: readonly TxOut[];
  readonly txdata: PrecomputedTxData;
}

export interface TaprootBlock {
  readonly block: Block;
  readonly flags: number;
  /** The non-coinbase transactions with the outputs their inputs spend. */
  readonly txs: readonly BlockTx[];
}

const FILE = 'floresta/block_866342.raw';

let loaded: TaprootBlock | undefined;

export function loadTaprootBlock(): TaprootBlock {
  if (loaded !== undefined) return loaded;
  const v = REAL_BLOCKS.find((b) => b.file === FILE);
  if (v === undefined) throw new Error(`${FILE} is not in REAL_BLOCKS`);
  const block = loadRealBlock(v);
  const r = readFlorestaJson(readVectorText('floresta', 'block_866342.spent_utxos.json'));
  if (!r.ok) throw new Error(`block_866342.spent_utxos.json: ${r.code} at ${r.offset}`);
  const txs: BlockTx[] = [];
  let k = 0;
  for (let t = 1; t < block.txs.length; t++) {
    const tx = block.txs[t]!;
    const spent = r.outputs.slice(k, k + tx.inputs.length);
    k += tx.inputs.length;
    if (spent.length !== tx.inputs.length) throw new Error(`${FILE}: spent outputs run out at tx ${t}`);
    txs.push({ txIndex: t, tx, spent, txdata: new PrecomputedTxData(tx, spent) });
  }
  if (k !== r.outputs.length) throw new Error(`${FILE}: ${r.outputs.length - k} spent outputs left over`);
  loaded = { block, flags: blockScriptFlags(v.network, v.height, hashToHex(block.hash())), txs };
  return loaded;
}

/** Spends a BIP341 output: witness v1 with a 32-byte program (the only spends that make BIP340 checks). */
export function isTaprootSpend(spent: TxOut): boolean {
  const spk = spent.scriptPubKey;
  return spk.length === 34 && spk[0] === 0x51 && spk[1] === 0x20;
}

/** BIP341 key-path spend: a v1 32-byte program and, after dropping an annex, one witness item. */
export function isKeyPathSpend(input: TxIn, spent: TxOut): boolean {
  if (!isTaprootSpend(spent)) return false;
  const w = input.witness;
  const n = w.length >= 2 && w[w.length - 1]![0] === 0x50 ? w.length - 1 : w.length;
  return n === 1;
}

export interface CollectedChecks {
  /** Every BIP340 check of the block, in block order, as the checker recorded it. */
  readonly all: readonly DeferredSchnorr[];
  /** Those made by key-path spends. */
  readonly keyPath: readonly DeferredSchnorr[];
  /** Inputs that are key-path spends (each makes one check). */
  readonly keyPathInputs: number;
}

let collected: CollectedChecks | undefined;

/**
 * Run every taproot input of the block with a SchnorrBatch and return what it recorded (their
 * scripts must pass). Other inputs make no BIP340 checks and are skipped.
 */
export function collectSchnorrChecks(): CollectedChecks {
  if (collected !== undefined) return collected;
  const { txs, flags } = loadTaprootBlock();
  const batch = new SchnorrBatch();
  const keyPath: DeferredSchnorr[] = [];
  let keyPathInputs = 0;
  for (const { txIndex, tx, spent, txdata } of txs) {
    for (let i = 0; i < tx.inputs.length; i++) {
      if (!isTaprootSpend(spent[i]!)) continue;
      const isKey = isKeyPathSpend(tx.inputs[i]!, spent[i]!);
      const before = batch.size;
      const r = verifyInput(tx, i, spent, flags, { txdata, schnorrBatch: batch, txIndex });
      if (!r.ok) throw new Error(`${FILE} tx ${txIndex} input ${i}: ${r.error}`);
      if (isKey) {
        keyPathInputs++;
        if (batch.size !== before + 1) throw new Error(`key-path input tx ${txIndex}/${i} recorded ${batch.size - before} checks`);
        keyPath.push(batch.pending[before]!);
      }
    }
  }
  collected = { all: batch.pending.slice(), keyPath, keyPathInputs };
  return collected;
}
