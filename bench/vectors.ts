// The real blocks the benchmarks time, read from the repository's test/vectors/ (never from
// ../shared), with the facts test/vectors/SOURCES.md states for them.

import { readFileSync } from 'node:fs';
import { decodeBlock, type Block } from '../src/primitives/block.js';
import type { Transaction } from '../src/primitives/transaction.js';
import { readFlorestaJson, type SpentOutput } from '../src/spent/index.js';

/** dist/bench/vectors.js → ../../test/vectors/ is the repository's test/vectors/. */
const VECTORS_DIR = new URL('../../test/vectors/', import.meta.url);

export function readVector(path: string): Uint8Array {
  const buf = readFileSync(new URL(path, VECTORS_DIR));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function readVectorText(path: string): string {
  return readFileSync(new URL(path, VECTORS_DIR), 'utf8');
}

/** Mainnet block 866342 (2024-10) from Floresta, with its spent outputs (SOURCES.md). */
export const BLOCK_866342 = {
  file: 'floresta/block_866342.raw',
  spentFile: 'floresta/block_866342.spent_utxos.json',
  hash: '000000000000000000014ce9ba7c6760053c3c82ce6ab43d60afb101d3c8f1f1',
  txs: 4864,
  inputs: 7972,
  weight: 3993209,
} as const;

/** Testnet3 block 928927 from bcoin; SOURCES.md gives counts and weight but no hash. */
export const BLOCK_928927 = {
  file: 'bcoin/testnet3/block928927.raw',
  txs: 914,
  weight: 3992391,
} as const;

export function loadBlock(file: string): { bytes: Uint8Array; block: Block } {
  const bytes = readVector(file);
  const r = decodeBlock(bytes);
  if (!r.ok) throw new Error(`${file}: ${r.code} at ${r.offset}: ${r.message}`);
  return { bytes, block: r.block };
}

/** One non-coinbase transaction of a block with the outputs its inputs spend, in input order. */
export interface TxWithSpent {
  readonly txIndex: number;
  readonly tx: Transaction;
  readonly spent: readonly SpentOutput[];
}

/** Block 866342 decoded, with each non-coinbase transaction paired with its spent outputs. */
export function loadBlock866342WithSpent(): { bytes: Uint8Array; block: Block; txs: TxWithSpent[] } {
  const { bytes, block } = loadBlock(BLOCK_866342.file);
  const r = readFlorestaJson(readVectorText(BLOCK_866342.spentFile));
  if (!r.ok) throw new Error(`${BLOCK_866342.spentFile}: ${r.code} at ${r.offset}: ${r.message}`);
  // Floresta's file has one record per non-coinbase input, in block order.
  const txs: TxWithSpent[] = [];
  let next = 0;
  block.txs.forEach((tx, txIndex) => {
    if (txIndex === 0) return;
    txs.push({ txIndex, tx, spent: r.outputs.slice(next, next + tx.inputs.length) });
    next += tx.inputs.length;
  });
  if (next !== r.outputs.length) throw new Error(`${BLOCK_866342.spentFile}: ${r.outputs.length} records for ${next} inputs`);
  return { bytes, block, txs };
}
