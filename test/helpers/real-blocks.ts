// The real mainnet and testnet3 blocks in the vectors, with the facts SOURCES.md states for each
// (hash, height, counts, weight, spent-output file) and Core's GetBlockScriptFlags for them.

import { decodeBlock, type Block } from '../../src/primitives/block.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_TAPROOT,
  SCRIPT_VERIFY_WITNESS,
} from '../../src/script/flags.js';
import { readSpentFile, type SpentOutput } from '../../src/spent/index.js';
import { spentByTx } from './alter-block.js';
import { readVector } from './vectors.js';

export type Network = 'mainnet' | 'testnet3';
export type SpentFormat = 'bcoin-undo' | 'floresta-json' | 'btcd-utxostore';

export interface RealBlockVector {
  /** Path under test/vectors/, used as the test name. */
  readonly file: string;
  readonly network: Network;
  readonly height: number;
  /** Block hash in display order, where SOURCES.md (or the file name) gives it. */
  readonly hash?: string;
  /** Bytes of blk*.dat framing (magic + length) before the block. */
  readonly framing: number;
  readonly txs: number;
  /** Inputs of the non-coinbase transactions (= spent-output records). */
  readonly inputs: number;
  /** Transactions with witness data, where SOURCES.md gives the number. */
  readonly segwitTxs?: number;
  readonly weight?: number;
  /** Inputs carrying a witness, where SOURCES.md gives the number. */
  readonly witnessInputs?: number;
  /** The spent outputs of the block, where the vectors have them. */
  readonly spent?: { readonly file: string; readonly format: SpentFormat };
}

export const REAL_BLOCKS: readonly RealBlockVector[] = [
  {
    file: 'bcoin/mainnet/block300025.raw', network: 'mainnet', height: 300025, framing: 0,
    hash: '0000000000000000821c4e0acc40f88bedbce3b73ba2358b5ade58a9022cc78c',
    txs: 461, inputs: 1427, segwitTxs: 0, weight: 1136924,
    spent: { file: 'bcoin/mainnet/block300025-undo.raw', format: 'bcoin-undo' },
  },
  { file: 'bcoin/mainnet/block426884.raw', network: 'mainnet', height: 426884, framing: 0, txs: 409, inputs: 6031, segwitTxs: 0, weight: 3985776 },
  { file: 'bcoin/mainnet/block482683.raw', network: 'mainnet', height: 482683, framing: 0, txs: 12, inputs: 51, witnessInputs: 2, weight: 35715 },
  {
    file: 'bcoin/testnet3/block928816.raw', network: 'testnet3', height: 928816, framing: 0, txs: 889, inputs: 8692, segwitTxs: 830, weight: 3568200,
    spent: { file: 'bcoin/testnet3/block928816-undo.raw', format: 'bcoin-undo' },
  },
  {
    file: 'bcoin/testnet3/block928828.raw', network: 'testnet3', height: 928828, framing: 0, txs: 201, inputs: 1972, segwitTxs: 0, weight: 2481560,
    spent: { file: 'bcoin/testnet3/block928828-undo.raw', format: 'bcoin-undo' },
  },
  {
    file: 'bcoin/testnet3/block928831.raw', network: 'testnet3', height: 928831, framing: 0, txs: 915, inputs: 9984, segwitTxs: 910, weight: 3992382,
    spent: { file: 'bcoin/testnet3/block928831-undo.raw', format: 'bcoin-undo' },
  },
  {
    file: 'bcoin/testnet3/block928849.raw', network: 'testnet3', height: 928849, framing: 0, txs: 993, inputs: 8594, segwitTxs: 918, weight: 3682105,
    spent: { file: 'bcoin/testnet3/block928849-undo.raw', format: 'bcoin-undo' },
  },
  {
    file: 'bcoin/testnet3/block928927.raw', network: 'testnet3', height: 928927, framing: 0, txs: 914, inputs: 9983, segwitTxs: 910, weight: 3992391,
    spent: { file: 'bcoin/testnet3/block928927-undo.raw', format: 'bcoin-undo' },
  },
  {
    file: 'bcoin/testnet3/block1087400.raw', network: 'testnet3', height: 1087400, framing: 0, txs: 97, inputs: 205, segwitTxs: 3, weight: 193331,
    spent: { file: 'bcoin/testnet3/block1087400-undo.raw', format: 'bcoin-undo' },
  },
  {
    file: 'btcd/277647.dat', network: 'mainnet', height: 277647, framing: 8,
    hash: '0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8',
    txs: 213, inputs: 732, segwitTxs: 0, weight: 596656,
    spent: { file: 'btcd/277647.utxostore', format: 'btcd-utxostore' },
  },
  {
    file: 'btcd/block-00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab.blk', network: 'mainnet', height: 540107, framing: 0,
    hash: '00000000000000000021868c2cefc52a480d173c849412fe81c4e5ab806f94ab',
    txs: 230, inputs: 7032, segwitTxs: 104, weight: 3993333,
  },
  {
    file: 'btcd/block-0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2.blk', network: 'mainnet', height: 574200, framing: 0,
    hash: '0000000000000000001602407ac49862a7bca9d00f7f402db20b7be2f5de59d2',
    txs: 3315, inputs: 5054, segwitTxs: 1341, weight: 3993106,
  },
  {
    file: 'floresta/block_866342.raw', network: 'mainnet', height: 866342, framing: 0,
    hash: '000000000000000000014ce9ba7c6760053c3c82ce6ab43d60afb101d3c8f1f1',
    txs: 4864, inputs: 7972, segwitTxs: 4806, weight: 3993209,
    spent: { file: 'floresta/block_866342.spent_utxos.json', format: 'floresta-json' },
  },
  // SOURCES.md gives no hash or counts for Core's bench block; its BIP34 height is still checked.
  { file: 'bitcoin-core/block413567.raw', network: 'mainnet', height: 413567, framing: 0, txs: 1557, inputs: 4886 },
];

/** The file's bytes without blk framing. */
export function realBlockBytes(v: RealBlockVector): Uint8Array {
  return readVector(...v.file.split('/')).subarray(v.framing);
}

/** Decode a real block; a failure here is a broken vector or decoder, so it throws. */
export function loadRealBlock(v: RealBlockVector): Block {
  const r = decodeBlock(realBlockBytes(v));
  if (!r.ok) throw new Error(`${v.file}: ${r.code} ${r.message}`);
  return r.block;
}

/** Activation heights from Core's chainparams.cpp (table at the end of SOURCES.md). */
const ACTIVATION: Record<Network, { dersig: number; cltv: number; csv: number; segwit: number; bip34: number }> = {
  mainnet: { dersig: 363725, cltv: 388381, csv: 419328, segwit: 481824, bip34: 227931 },
  testnet3: { dersig: 330776, cltv: 581885, csv: 770112, segwit: 834624, bip34: 21111 },
};

const BIP16_EXCEPTION = '00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22';
const TAPROOT_EXCEPTION = '0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad';

export function bip34Height(network: Network): number {
  return ACTIVATION[network].bip34;
}

/** Core's GetBlockScriptFlags (validation.cpp) for a block at `height` on `network`. */
export function blockScriptFlags(network: Network, height: number, hash?: string): number {
  let flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT;
  if (network === 'mainnet' && hash === BIP16_EXCEPTION) flags = 0;
  if (network === 'mainnet' && hash === TAPROOT_EXCEPTION) flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS;
  const a = ACTIVATION[network];
  if (height >= a.dersig) flags |= SCRIPT_VERIFY_DERSIG;
  if (height >= a.cltv) flags |= SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY;
  if (height >= a.csv) flags |= SCRIPT_VERIFY_CHECKSEQUENCEVERIFY;
  if (height >= a.segwit) flags |= SCRIPT_VERIFY_NULLDUMMY;
  return flags;
}

/** A real block with the outputs its inputs spend, read from its spent-output vector. */
export interface BlockFixture {
  file: string;
  network: 'main' | 'testnet3';
  height: number;
  raw: Uint8Array;
  block: Block;
  spent: SpentOutput[];
  /** Spent outputs per transaction ([] for the coinbase). */
  perTx: SpentOutput[][];
}

export function loadBlockFixture(file: string): BlockFixture {
  const v = REAL_BLOCKS.find((b) => b.file === file);
  if (v === undefined || v.spent === undefined) throw new Error(`no real block with spent outputs: ${file}`);
  const block = loadRealBlock(v);
  const r = readSpentFile(readVector(...v.spent.file.split('/')), v.spent.format, block);
  if (!r.ok) throw new Error(`${v.spent.file}: ${r.code} ${r.message}`);
  const network = v.network === 'mainnet' ? 'main' : 'testnet3';
  return { file, network, height: v.height, raw: realBlockBytes(v), block, spent: r.outputs, perTx: spentByTx(block, r.outputs) };
}
