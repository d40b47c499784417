// generateChain: a generated regtest chain written to blk*.dat files, genesis first, as a
// Bitcoin Core node's blocks directory would hold it. Blocks stream from the generator to the
// writer; nothing but the wallet's coins stays in memory.

import { BlockFileWriter } from '../blockfile/writer.js';
import { PARAMS } from '../consensus/params.js';
import { hashToHex } from '../primitives/bytes.js';
import { hash256 } from '../primitives/hash.js';
import { ChainGenerator, type GeneratedBlock, type GenerateOptions, type GeneratorStats } from './blocks.js';

export interface GenerateChainOptions extends GenerateOptions {
  /** Blocks directory to write blk00000.dat, … into (created if missing). */
  outDir: string;
  /** Write the genesis block first, as Core does (default true). */
  includeGenesis?: boolean;
  /** Per-file size limit (default Core's 128 MiB). */
  maxFileSize?: number;
  /** Obfuscate the files with this 8-byte key and write it to xor.dat. */
  xorKey?: Uint8Array;
  /** Replace blk files already in outDir (default false: their presence throws). */
  overwrite?: boolean;
  /** Called after each block is written. */
  onBlock?: (block: GeneratedBlock) => void;
}

export interface GenerateChainResult {
  /** Height of the last block. */
  height: number;
  /** Its hash, display hex. */
  tipHash: string;
  files: string[];
  /** Bytes of blocks written (without the 8-byte record headers). */
  bytes: number;
  stats: GeneratorStats;
  elapsedMs: number;
}

export function generateChain(opts: GenerateChainOptions): GenerateChainResult {
  const started = performance.now();
  const params = PARAMS.regtest;
  const gen = new ChainGenerator(opts);
  const writer = new BlockFileWriter(opts.outDir, params.messageStart, {
    ...(opts.maxFileSize !== undefined ? { maxFileSize: opts.maxFileSize } : {}),
    ...(opts.xorKey !== undefined ? { xorKey: opts.xorKey } : {}),
    overwrite: opts.overwrite === true,
  });
  let bytes = 0;
  let tipHash = hashToHex(hash256(params.genesisBlock.subarray(0, 80)));
  try {
    if (opts.includeGenesis !== false) {
      writer.append(params.genesisBlock);
      bytes += params.genesisBlock.length;
    }
    for (let i = 0; i < opts.blocks; i++) {
      const b = gen.next();
      writer.append(b.raw);
      bytes += b.raw.length;
      tipHash = hashToHex(b.hash);
      opts.onBlock?.(b);
    }
  } finally {
    writer.close();
  }
  return { height: gen.height, tipHash, files: [...writer.files], bytes, stats: gen.stats, elapsedMs: performance.now() - started };
}
