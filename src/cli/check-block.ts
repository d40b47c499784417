// `vigil check-block` and the first half of `vigil selftest`: stateless validation of blocks
// against the outputs they spend, one JSON object per block.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MissingHeightError, validateBlock, validateBlockAsync, type BlockReport } from '../consensus/validate-block.js';
import type { ScriptPool } from '../pipeline/script-pool.js';
import type { NetworkName } from '../consensus/script-flags.js';
import type { SpentFileFormat } from '../spent/index.js';
import { UsageError, loadSpentOutputs, readFileBytes, unframe } from './io.js';

export interface CheckBlockOutput {
  valid: boolean;
  mode: string;
  reason?: string;
  debug?: string;
  txIndex?: number;
  inputIndex?: number;
  hash?: string;
  height?: number;
  network: NetworkName;
  txs: number;
  inputs: number;
  skipped: string[];
  ms: number;
}

export interface CheckBlockArgs {
  block: string;
  spent: string;
  format: SpentFileFormat;
  network: NetworkName;
  height?: number;
  checkPow: boolean;
  /** Verify scripts on this pool; on the calling thread without one. */
  pool?: ScriptPool;
}

export async function checkBlockFile(args: CheckBlockArgs): Promise<CheckBlockOutput> {
  const raw = unframe(readFileBytes(args.block));
  const spent = loadSpentOutputs(raw, args.spent, args.format);
  const t0 = performance.now();
  let report: BlockReport;
  try {
    const opts = { network: args.network, checkPow: args.checkPow, ...(args.height === undefined ? {} : { height: args.height }) };
    const pool = args.pool;
    report = pool === undefined ? validateBlock(raw, spent, opts) : await validateBlockAsync(raw, spent, { ...opts, runScripts: (w, f, s) => pool.verify(w, f, s) });
  } catch (err) {
    if (err instanceof MissingHeightError) throw new UsageError(`${args.block}: the coinbase carries no BIP34 height (a block of version 1, or one below the network's BIP34 height): give the block's height with --height`);
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  const ms = Math.round((performance.now() - t0) * 10) / 10;
  const r = report.result;
  const out: CheckBlockOutput = { valid: r.mode === 'valid', mode: r.mode, network: args.network, txs: report.txs, inputs: report.inputs, skipped: report.skipped, ms };
  if (report.hash !== undefined) out.hash = report.hash;
  if (report.height !== undefined) out.height = report.height;
  if (r.mode !== 'valid') {
    out.reason = r.reason;
    if (r.debug !== undefined) out.debug = r.debug;
    if (r.mode === 'invalid') {
      if (r.txIndex !== undefined) out.txIndex = r.txIndex;
      if (r.inputIndex !== undefined) out.inputIndex = r.inputIndex;
    }
  }
  return out;
}

/** The real blocks with spent outputs in the repository's vectors. */
const SELFTEST_BLOCKS: ReadonlyArray<{ block: string; spent: string; format: SpentFileFormat; network: NetworkName }> = [
  { block: 'bcoin/mainnet/block300025.raw', spent: 'bcoin/mainnet/block300025-undo.raw', format: 'bcoin-undo', network: 'main' },
  { block: 'btcd/277647.dat', spent: 'btcd/277647.utxostore', format: 'btcd-utxostore', network: 'main' },
  { block: 'floresta/block_866342.raw', spent: 'floresta/block_866342.spent_utxos.json', format: 'floresta-json', network: 'main' },
  { block: 'bcoin/testnet3/block928816.raw', spent: 'bcoin/testnet3/block928816-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928828.raw', spent: 'bcoin/testnet3/block928828-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928831.raw', spent: 'bcoin/testnet3/block928831-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928849.raw', spent: 'bcoin/testnet3/block928849-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928927.raw', spent: 'bcoin/testnet3/block928927-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block1087400.raw', spent: 'bcoin/testnet3/block1087400-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
];

export interface BundledBlocksResult {
  valid: boolean;
  blocks: CheckBlockOutput[];
  inputs: number;
  ms: number;
}

/**
 * The repository's test/vectors/, where the bundled real blocks are; undefined in an installed
 * package, which ships no test data (~12 MB of blocks for these alone). A checkout missing some of
 * the files is not such a package: reading them fails, as any missing file does.
 */
export function bundledBlocksDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../../test/vectors/', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

/** Validate the bundled real blocks; a line per block and a total unless `json`. */
export async function checkBundledBlocks(json: boolean, pool?: ScriptPool): Promise<BundledBlocksResult> {
  const dir = bundledBlocksDir();
  if (dir === undefined) throw new UsageError('the bundled real blocks come with a checkout of the repository (test/vectors/), not with an installed package');
  const outputs: CheckBlockOutput[] = [];
  for (const v of SELFTEST_BLOCKS) {
    const r = await checkBlockFile({ block: dir + v.block, spent: dir + v.spent, format: v.format, network: v.network, checkPow: true, ...(pool === undefined ? {} : { pool }) });
    outputs.push(r);
    if (!json) {
      const rate = Math.round(r.inputs / (r.ms / 1000));
      const verdict = r.valid ? 'valid  ' : `${r.mode === 'error' ? 'ERROR' : 'INVALID'} ${r.reason}`;
      console.log(`${verdict} ${r.network.padEnd(8)} ${String(r.height).padStart(7)}  ${String(r.txs).padStart(5)} txs  ${String(r.inputs).padStart(5)} inputs  ${String(r.ms).padStart(8)} ms  ${String(rate).padStart(6)} inputs/s`);
    }
  }
  const inputs = outputs.reduce((a, r) => a + r.inputs, 0);
  const ms = outputs.reduce((a, r) => a + r.ms, 0);
  const allValid = outputs.every((r) => r.valid);
  if (!json) {
    console.log(`\n${outputs.length} blocks, ${inputs} inputs validated in ${(ms / 1000).toFixed(1)} s with ${pool === undefined || pool.threads === 0 ? 'no worker threads' : `${pool.threads} worker threads`} (${Math.round(inputs / (ms / 1000))} inputs/s): ${allValid ? 'all valid' : 'FAILURES'}`);
  }
  return { valid: allValid, blocks: outputs, inputs, ms: Math.round(ms) };
}
