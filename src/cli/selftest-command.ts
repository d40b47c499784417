// `vigil selftest` (what `npm start` runs): validate the real blocks bundled in the test vectors,
// then generate a deterministic regtest chain in a temporary directory, import it with scripts
// checked, and set the sync's rates beside the stated targets. The chain is removed at the end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COINBASE_MATURITY } from '../consensus/consensus.js';
import { generateChain } from '../generate/index.js';
import { peakRssMB } from '../metrics/peak-rss.js';
import type { ScriptPool } from '../pipeline/script-pool.js';
import type { Logger } from '../service/logger.js';
import { TARGET_BLOCKS_PER_SEC, TARGET_PEAK_RSS_MB, TARGET_SYNC_BLOCKS, TARGET_SYNC_SECONDS, TARGET_TX_PER_SEC } from '../targets.js';
import { bundledBlocksDir, checkBundledBlocks, type BundledBlocksResult } from './check-block.js';
import { openChain } from './chain-commands.js';
import { ConnectCounter, importWithProgress } from './import-progress.js';
import { UsageError } from './io.js';
import { progressMode, type ProgressMode, type ProgressStream } from './progress.js';

export interface TargetCheck {
  readonly label: string;
  readonly measured: number;
  readonly target: number;
  readonly unit: string;
  /** Limits (time, memory) are met at or under the target; rates at or above it. */
  readonly lowerIsBetter: boolean;
  readonly met: boolean;
}

export interface SyncFigures {
  /** Blocks, transactions (coinbases included) and inputs of the measured stretch. */
  readonly blocks: number;
  readonly txs: number;
  readonly inputs: number;
  readonly seconds: number;
  /** Peak resident memory of this process, MB. */
  readonly peakRssMB: number;
}

export interface RegtestSyncResult extends SyncFigures {
  readonly ok: boolean;
  readonly height: number;
  readonly accepted: number;
  readonly rejected: number;
  /** The import stopped on our own failure (no verdict on any block). */
  readonly stoppedOnError: boolean;
  /** The blocks the whole chain holds, and how long generating and importing all of it took. */
  readonly chainBlocks: number;
  readonly generateMs: number;
  readonly importMs: number;
  /** The rates are measured from this height on: the blocks before it hold only a coinbase. */
  readonly measuredFrom: number;
  readonly targets: readonly TargetCheck[];
}

function check(label: string, measured: number, target: number, unit: string, lowerIsBetter = false): TargetCheck {
  return { label, measured, target, unit, lowerIsBetter, met: lowerIsBetter ? measured <= target : measured >= target };
}

/** The sync's figures beside the targets: rates, the time 1,000 such blocks would take, memory. */
export function targetChecks(f: SyncFigures): TargetCheck[] {
  const blocksPerSec = f.seconds > 0 ? f.blocks / f.seconds : 0;
  const txPerSec = f.seconds > 0 ? f.txs / f.seconds : 0;
  return [
    check('blocks/s', blocksPerSec, TARGET_BLOCKS_PER_SEC, 'blocks/s'),
    check('tx/s', txPerSec, TARGET_TX_PER_SEC, 'tx/s'),
    check(`sync of ${TARGET_SYNC_BLOCKS.toLocaleString('en-US')} blocks (projected)`, blocksPerSec > 0 ? TARGET_SYNC_BLOCKS / blocksPerSec : Infinity, TARGET_SYNC_SECONDS, 's', true),
    check('peak memory', f.peakRssMB, TARGET_PEAK_RSS_MB, 'MB', true),
  ];
}

const fmt = (n: number): string => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')) : '∞');

/** The summary printed after the sync. */
export function renderSyncSummary(r: RegtestSyncResult, how: string): string {
  const lines = [
    `regtest sync: ${r.chainBlocks} generated blocks imported in ${(r.importMs / 1000).toFixed(1)} s (${how}); tip height ${r.height}, ${r.rejected} rejected`,
    `  measured over heights ${r.measuredFrom}–${r.height}: ${r.blocks} blocks, ${r.txs.toLocaleString('en-US')} txs, ${r.inputs.toLocaleString('en-US')} inputs in ${r.seconds.toFixed(1)} s, ${fmt(r.inputs / r.seconds)} inputs/s`,
  ];
  const width = Math.max(...r.targets.map((t) => t.label.length));
  for (const t of r.targets) {
    const target = `${t.lowerIsBetter ? '≤' : '≥'} ${fmt(t.target)} ${t.unit}`;
    lines.push(`  ${t.label.padEnd(width)}  ${`${fmt(t.measured)} ${t.unit}`.padStart(14)}   target ${target.padEnd(16)} ${t.met ? 'met' : 'not met'}`);
  }
  return lines.join('\n');
}

export interface RegtestSyncOptions {
  blocks: number;
  txs: number;
  seed: string;
  pool?: ScriptPool;
  logger: Logger;
  mode: ProgressMode;
  stream: ProgressStream;
}

/** Generate a chain into a temporary directory, import it with scripts checked, measure, clean up. */
export async function regtestSync(opts: RegtestSyncOptions): Promise<RegtestSyncResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-selftest-'));
  try {
    const blocksDir = join(tmp, 'blocks');
    const gen = generateChain({ blocks: opts.blocks, txsPerBlock: opts.txs, seed: opts.seed, outDir: blocksDir });
    opts.logger.debug('regtest chain generated', { blocks: gen.height, txs: gen.stats.txs, inputs: gen.stats.inputs, ms: Math.round(gen.elapsedMs) });
    // Rates from the first block with transactions: the coinbase-only blocks would flatter them.
    const from = opts.blocks > COINBASE_MATURITY ? COINBASE_MATURITY : 0;
    const counter = new ConnectCounter(from > 0 ? [from] : []);
    // Scripts are always checked here: assumevalid has no regtest default, and off says so.
    const chain = await openChain(join(tmp, 'chain'), 'regtest', opts.pool, null, (m) => opts.logger.info(m), counter);
    let run;
    const t0 = performance.now();
    try {
      run = await importWithProgress(chain, blocksDir, counter, { mode: opts.mode, stream: opts.stream, label: 'regtest import', ...(opts.pool === undefined ? {} : { pool: opts.pool }) });
    } finally {
      await chain.close();
    }
    const importMs = performance.now() - t0;
    const mark = counter.marks[0] ?? { height: 0, ms: 0, blocks: 0, txs: 0, inputs: 0 };
    const figures: SyncFigures = {
      blocks: counter.blocks - mark.blocks,
      txs: counter.txs - mark.txs,
      inputs: counter.inputs - mark.inputs,
      seconds: (counter.elapsedMs() - mark.ms) / 1000,
      peakRssMB: peakRssMB(),
    };
    const s = run.summary;
    return {
      ...figures,
      ok: s.rejected === 0 && !s.stoppedOnError && s.tip.height === opts.blocks,
      height: s.tip.height,
      accepted: s.accepted,
      rejected: s.rejected,
      stoppedOnError: s.stoppedOnError,
      chainBlocks: gen.height,
      generateMs: gen.elapsedMs,
      importMs,
      measuredFrom: mark.height + 1,
      targets: targetChecks(figures),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface SelftestOptions {
  json: boolean;
  quiet: boolean;
  /** Blocks of the regtest chain; 0 validates the bundled blocks only. */
  blocks: number;
  txs: number;
  seed: string;
  pool?: ScriptPool;
  /** For the summary: which signature backend the pool uses. */
  crypto: string;
  logger: Logger;
  stream?: ProgressStream;
}

export async function selftestCommand(opts: SelftestOptions): Promise<number> {
  // An installed package has no test data: its selftest is the regtest sync alone, and says so.
  const haveBlocks = bundledBlocksDir() !== undefined;
  if (!haveBlocks && opts.blocks === 0) throw new UsageError('--blocks 0 leaves only the bundled real blocks, and they come with a checkout of the repository (test/vectors/), not with an installed package');
  if (!haveBlocks && !opts.json) console.log('the bundled real blocks come with a checkout of the repository (test/vectors/): skipped here');
  const bundled: BundledBlocksResult = haveBlocks ? await checkBundledBlocks(opts.json, opts.pool) : { valid: true, blocks: [], inputs: 0, ms: 0 };
  let sync: RegtestSyncResult | undefined;
  if (opts.blocks > 0) {
    const stream = opts.stream ?? process.stderr;
    if (!opts.json) console.log(`\ngenerating a regtest chain of ${opts.blocks} blocks (${opts.txs} txs each once coins mature) and importing it:`);
    sync = await regtestSync({ blocks: opts.blocks, txs: opts.txs, seed: opts.seed, logger: opts.logger, mode: progressMode({ quiet: opts.quiet, json: opts.json, stream }), stream, ...(opts.pool === undefined ? {} : { pool: opts.pool }) });
    const threads = opts.pool === undefined || opts.pool.threads === 0 ? 'no worker threads' : `${opts.pool.threads} worker threads`;
    if (!opts.json) {
      console.log(renderSyncSummary(sync, `scripts checked, ${threads}, ${opts.crypto}`));
      // The default backend's ~0.35 ms a signature sets these rates; libsecp256k1's native build checks one in ~40–65 µs, its wasm build in ~210–220 µs (bench/results/signatures.md).
      if (opts.crypto === 'noble' && sync.targets.some((t) => !t.met && t.unit !== 'MB')) console.log("  (noble's signature checks bound these rates: --crypto libsecp256k1 checks a signature ~6–8x faster natively, ~1.6x in its wasm build)");
    }
  }
  const ok = bundled.valid && (sync === undefined || sync.ok);
  if (opts.json) console.log(JSON.stringify({ ...bundled, valid: ok, ...(haveBlocks ? {} : { bundledSkipped: true }), ...(sync === undefined ? {} : { sync }) }));
  // Our own failure (a script worker, the store) is no verdict: exit 2, as check-block does.
  const internal = bundled.blocks.some((b) => b.mode === 'error') || sync?.stoppedOnError === true;
  return ok ? 0 : internal ? 2 : 1;
}
