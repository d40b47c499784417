// Regtest chains in memory for chain-state tests: branches from one seed, and re-mining of
// altered blocks (regtest's target is met by about every second hash).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Block, BlockHeader } from '../../src/primitives/block.js';
import { checkProofOfWork } from '../../src/consensus/pow.js';
import { PARAMS } from '../../src/consensus/params.js';
import { ChainGenerator, type GeneratedBlock } from '../../src/generate/index.js';

/** `count` blocks of a seeded chain; from `forkHeight` on, coinbases carry `tag` (a branch). */
export function branch(seed: string, count: number, txsPerBlock: number, fork?: { height: number; tag: string }): GeneratedBlock[] {
  const gen = new ChainGenerator({ blocks: count, txsPerBlock, seed });
  const out: GeneratedBlock[] = [];
  for (let h = 1; h <= count; h++) {
    if (fork !== undefined && h === fork.height) gen.setCoinbaseTag(new TextEncoder().encode(fork.tag));
    out.push(gen.next());
  }
  return out;
}

/** Find a nonce that meets the header's own regtest target. */
export function remine(block: Block): Block {
  const h = block.header;
  for (let nonce = 0; ; nonce++) {
    const header = new BlockHeader(h.version, h.prevBlock, h.merkleRoot, h.time, h.bits, nonce);
    if (checkProofOfWork(header.hash(), header.bits, PARAMS.regtest)) return new Block(header, block.txs);
  }
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
