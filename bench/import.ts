// Synthetic import: generated regtest chains written as blk*.dat files and imported with importBlocks
// into a fresh ChainState on a 2-worker ScriptPool, each import in a child process of its own so its
// peak RSS is its own. A small profile (25 transactions a block, up to 10,000 blocks) and a
// mainnet-like one (≥ 2,000 inputs a block), with assumevalid off and on, noSync and one durable row.
// Runs as a suite of bench/run.ts, or alone: `node dist/bench/import.js`.
//
// The chains are generated once (outside any timing) and kept under $TMPDIR/vigil-bench-import/,
// keyed by the generator's settings and code, so a second run starts importing at once.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BlockFileWriter } from '../src/blockfile/index.js';
import { PARAMS } from '../src/consensus/params.js';
import { checkProofOfWork } from '../src/consensus/pow.js';
import { ChainGenerator, type GeneratedBlock } from '../src/generate/index.js';
import { hashToHex } from '../src/primitives/bytes.js';
import { hash256 } from '../src/primitives/hash.js';
import { loadBackend } from '../src/script/backends.js';
import { probeCores } from './cores.js';
import type { ImportJob, ImportOutcome, MemoryAt } from './import-child.js';
import { check, formatCount, machineInfo, median, printMachine, printReport, target, writeReport, type Row, type Suite, type SuiteOptions, type SuiteReport } from './report.js';
import { TARGET_BLOCKS_PER_SEC, TARGET_TX_PER_SEC } from './targets.js';

/** The import targets the design notes and the issue state. */
const TARGET_SYNC_1000_S = 300;
const TARGET_MEMORY_1000_MB = 500;
/** The lead's targets: the small profile with assumevalid on, and memory from 1,000 to 10,000 blocks. */
const TARGET_SMALL_ASSUMEVALID_BLOCKS_PER_SEC = 3000;
const TARGET_MEMORY_FLAT_MB = 300;
/** "Flat": peak RSS at 10,000 blocks at most this much above that at 1,000. */
const FLAT_GROWTH = 1.1;
/**
 * Write-back limit of the equal-fill memory pair: with the default (8 MiB) a 1,000-block small
 * import never fills its write-back (one flush, at the end) while a 10,000-block one runs full.
 */
const EQUAL_FILL_CACHE_BYTES = 2 * 1024 * 1024;
/** Runs of each 1,000/10,000-block flatness pair; the ratio is of the median peaks. */
const MEMORY_PAIRS = 3;

const THREADS = 2;
/** Core's assumevalid depth on regtest: two weeks of 10-minute blocks. */
const ASSUMEVALID_DEPTH = 2016;

/**
 * TAIL headers (no blocks) go on top of the 10,000 blocks: learnt before an import with
 * assumevalid = block 10,000, they put every block more than 2,016 blocks of work deep, so
 * the 1,000- and 10,000-block imports skip the scripts of all their blocks (the same work a
 * block, at two chain lengths: what "flat memory" compares).
 */
const SMALL = { seed: 'vigil-bench-import-small', txsPerBlock: 25, blocks: 10_000, lengths: [300, 1000, 10_000], tail: 2100 } as const;
/**
 * Blocks 1..100 hold only coinbases (maturity); from 101 on every block has ≥ 2,000 inputs (the
 * generator fans the first mature coinbase out inside block 101). HEAVY of them are timed: at ~2,200 inputs (each with a signature check or more) a block,
 * the default backend on 2 workers needs ~0.6 s each, so 20 rather than 2,000. TAIL headers (no blocks) go
 * on top, so that with assumevalid the heavy blocks are more than 2,016 blocks deep.
 */
const MAINNET = { seed: 'vigil-bench-import-mainnet', txsPerBlock: 1100, inputsPerTx: 2, prefix: 100, heavy: 20, tail: 2100, minInputs: 2000 } as const;

interface ChainMeta {
  readonly version: 1;
  readonly generateMs: number;
  /** Transactions (with the coinbase) and spending inputs of each height, [0] = genesis. */
  readonly smallTxs: number[];
  readonly smallInputs: number[];
  /** Tip hash (display hex) of each small chain length. */
  readonly smallTips: Record<string, string>;
  /** The last of the small chain's headers-only tail. */
  readonly smallTailTip: string;
  readonly mainTxs: number[];
  readonly mainInputs: number[];
  readonly mainPrefixTip: string;
  readonly mainHeavyTip: string;
  /** The last of the headers-only tail. */
  readonly mainTailTip: string;
}

const REGTEST_BITS = 0x207fffff;

function cacheKey(): string {
  const h = createHash('sha256').update(JSON.stringify({ SMALL, MAINNET, v: 1 }));
  // The generator's code: a changed generator makes other chains.
  const dir = new URL('../src/generate/', import.meta.url);
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js')).sort()) h.update(f).update(readFileSync(new URL(f, dir)));
  return h.digest('hex').slice(0, 16);
}

function blockCounts(b: GeneratedBlock): { txs: number; inputs: number } {
  let inputs = 0;
  for (let i = 1; i < b.block.txs.length; i++) inputs += b.block.txs[i]!.inputs.length;
  return { txs: b.block.txs.length, inputs };
}

/** Headers only, on top of `prev`: valid regtest proof of work, ten minutes apart, a made-up merkle root. */
function tailHeaders(prev: Uint8Array, prevTime: number, count: number): { bytes: Uint8Array; tip: Uint8Array } {
  const out = new Uint8Array(80 * count);
  for (let i = 0; i < count; i++) {
    const h = out.subarray(80 * i, 80 * i + 80);
    const dv = new DataView(h.buffer, h.byteOffset, 80);
    dv.setInt32(0, 0x20000000, true);
    h.set(prev, 4);
    h.set(createHash('sha256').update(`vigil bench tail ${i}`).digest(), 36);
    dv.setUint32(68, prevTime + 600 * (i + 1), true);
    dv.setUint32(72, REGTEST_BITS, true);
    let nonce = 0;
    for (; ; nonce++) {
      dv.setUint32(76, nonce, true);
      if (checkProofOfWork(hash256(h), REGTEST_BITS, PARAMS.regtest)) break;
    }
    prev = hash256(h);
  }
  return { bytes: out, tip: prev };
}

/** Generate both profiles into `dir` (or find them there from an earlier run). */
function chains(dir: string): { meta: ChainMeta; cached: boolean } {
  const metaFile = join(dir, 'meta.json');
  if (existsSync(metaFile)) return { meta: JSON.parse(readFileSync(metaFile, 'utf8')) as ChainMeta, cached: true };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const params = PARAMS.regtest;

  // Small profile: one chain, written as prefixes of each length.
  const small = new ChainGenerator({ blocks: SMALL.blocks, txsPerBlock: SMALL.txsPerBlock, seed: SMALL.seed });
  const writers = SMALL.lengths.map((n) => ({ n, w: new BlockFileWriter(join(dir, `small-${n}`), params.messageStart) }));
  const smallTxs = [1];
  const smallInputs = [0];
  const smallTips: Record<string, string> = {};
  for (const { w } of writers) w.append(params.genesisBlock);
  const smallHeaders = new Uint8Array(80 * (SMALL.blocks + SMALL.tail));
  let smallLast: GeneratedBlock | undefined;
  for (let h = 1; h <= SMALL.blocks; h++) {
    const b = small.next();
    const c = blockCounts(b);
    smallTxs.push(c.txs);
    smallInputs.push(c.inputs);
    smallHeaders.set(b.raw.subarray(0, 80), 80 * (h - 1));
    for (const { n, w } of writers) {
      if (h <= n) w.append(b.raw);
      if (h === n) smallTips[n] = hashToHex(b.hash);
    }
    smallLast = b;
  }
  for (const { w } of writers) w.close();
  const smallTail = tailHeaders(smallLast!.hash, smallLast!.block.header.time, SMALL.tail);
  smallHeaders.set(smallTail.bytes, 80 * SMALL.blocks);
  writeFileSync(join(dir, 'small-headers.bin'), smallHeaders);

  // Mainnet-like: the prefix (set-up), the heavy blocks (timed), and every header with a tail.
  const main = new ChainGenerator({ blocks: MAINNET.prefix + MAINNET.heavy, txsPerBlock: MAINNET.txsPerBlock, inputsPerTx: MAINNET.inputsPerTx, seed: MAINNET.seed });
  const prefixW = new BlockFileWriter(join(dir, 'main-prefix'), params.messageStart);
  const heavyW = new BlockFileWriter(join(dir, 'main-heavy'), params.messageStart);
  prefixW.append(params.genesisBlock);
  const headers: Uint8Array[] = [];
  const mainTxs = [1];
  const mainInputs = [0];
  let last: GeneratedBlock | undefined;
  let prefixTip = '';
  for (let h = 1; h <= MAINNET.prefix + MAINNET.heavy; h++) {
    const b = main.next();
    const c = blockCounts(b);
    mainTxs.push(c.txs);
    mainInputs.push(c.inputs);
    headers.push(b.raw.subarray(0, 80));
    if (h <= MAINNET.prefix) {
      prefixW.append(b.raw);
      if (h === MAINNET.prefix) prefixTip = hashToHex(b.hash);
    } else {
      check(c.inputs >= MAINNET.minInputs, `mainnet-like block ${h} has ≥ ${MAINNET.minInputs} inputs (it has ${c.inputs})`);
      heavyW.append(b.raw);
    }
    last = b;
  }
  prefixW.close();
  heavyW.close();
  const tail = tailHeaders(last!.hash, last!.block.header.time, MAINNET.tail);
  const all = new Uint8Array(80 * headers.length + tail.bytes.length);
  headers.forEach((h, i) => all.set(h, 80 * i));
  all.set(tail.bytes, 80 * headers.length);
  writeFileSync(join(dir, 'main-headers.bin'), all);

  const meta: ChainMeta = {
    version: 1,
    generateMs: performance.now() - t0,
    smallTxs,
    smallInputs,
    smallTips,
    smallTailTip: hashToHex(smallTail.tip),
    mainTxs,
    mainInputs,
    mainPrefixTip: prefixTip,
    mainHeavyTip: hashToHex(last!.hash),
    mainTailTip: hashToHex(tail.tip),
  };
  writeFileSync(metaFile, JSON.stringify(meta));
  return { meta, cached: false };
}

const CHILD = fileURLToPath(new URL('./import-child.js', import.meta.url));

/** Run one import in a fresh process; its stderr passes through. */
function runChild(job: ImportJob): Promise<ImportOutcome & { processMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const args = [...(job.collectBeforeSamples === true ? ['--expose-gc'] : []), CHILD, JSON.stringify(job)];
    const child = execFile(process.execPath, args, { maxBuffer: 256 * 2 ** 20 }, (err, stdout) => {
      if (err !== null) {
        reject(new Error(`import child failed: ${err.message}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve({ ...(JSON.parse(line) as ImportOutcome), processMs: performance.now() - t0 });
    });
    child.stderr?.pipe(process.stderr);
  });
}

interface RangeFigures {
  blocks: number;
  wallMs: number;
  txs: number;
  inputs: number;
}

/**
 * A row for the accepted blocks of `o` with index in [from, to): ops/s = blocks ÷ wall time of the
 * range (the files' reading included); p50/p99 are processBlock's per-block times.
 */
function importRow(
  name: string,
  o: ImportOutcome,
  txs: readonly number[],
  inputs: readonly number[],
  from: number,
  to: number,
  detail: string,
  wholeRun: boolean,
): { row: Row; figures: RangeFigures } {
  check(to > from, `${name}: the range holds blocks`);
  const wallMs = wholeRun ? o.ms : o.doneAt[to - 1]! - (from === 0 ? o.headersMs : o.doneAt[from - 1]!);
  let t = 0;
  let inp = 0;
  for (let i = from; i < to; i++) {
    t += txs[o.heights[i]!]!;
    inp += inputs[o.heights[i]!]!;
  }
  const blocks = to - from;
  const lat = o.blockMs.slice(from, to);
  const sorted = [...lat].sort((a, b) => a - b);
  const mean = lat.reduce((a, b) => a + b, 0) / blocks;
  const sd = blocks > 1 ? Math.sqrt(lat.reduce((a, b) => a + (b - mean) ** 2, 0) / (blocks - 1)) : 0;
  const perSec = (n: number): number => (n * 1000) / wallMs;
  const row: Row = {
    name,
    unit: 'block',
    opsPerSec: perSec(blocks),
    rmePct: mean > 0 ? ((1.96 * sd) / Math.sqrt(blocks) / mean) * 100 : 0,
    meanMs: wallMs / blocks,
    p50Ms: median(lat),
    p99Ms: sorted[Math.min(blocks - 1, Math.ceil(blocks * 0.99) - 1)]!,
    samples: blocks,
    items: { count: t / blocks, unit: 'tx', perSec: perSec(t) },
    also: [{ unit: 'input', perSec: perSec(inp) }],
    detail,
  };
  return { row, figures: { blocks, wallMs, txs: t, inputs: inp } };
}

const mb = (x: number): string => `${x.toFixed(0)} MB`;

/** Bytes of the blk*.dat files in `dir`, MB. */
function dirMB(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0) / 2 ** 20;
}
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export const importSuite: Suite = {
  name: 'import',
  title: 'synthetic regtest import: importBlocks on a 2-worker ScriptPool, each run in its own process',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const cacheDir = join(tmpdir(), 'vigil-bench-import', cacheKey());
    const work = mkdtempSync(join(tmpdir(), 'vigil-bench-import-run-'));
    try {
      return await runImport(cacheDir, work, opts);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};

async function runImport(cacheDir: string, work: string, opts: SuiteOptions): Promise<SuiteReport> {
  const loadBefore = loadavg()[0] ?? 0;
  const { meta, cached } = chains(cacheDir);
  const coresBefore = await probeCores();
  const checks: string[] = [];
  const notes: string[] = [];
  const rows: Row[] = [];
  notes.push(
    cached
      ? `chains reused from the OS temp directory's vigil-bench-import/${cacheKey()} (generated earlier in ${secs(meta.generateMs)}; delete the folder to regenerate)`
      : `chains generated into the OS temp directory's vigil-bench-import/${cacheKey()} in ${secs(meta.generateMs)} (untimed; reused by later runs)`,
  );
  const job = (blocksDir: string, store: string, o: Partial<ImportJob> & Pick<ImportJob, 'expectHeight' | 'expectTip'>): ImportJob => ({
    blocksDir,
    storeDir: join(work, store),
    assumeValid: null,
    noSync: true,
    threads: THREADS,
    crypto: 'noble',
    ...o,
  });
  const processMs: string[] = [];
  const run = async (label: string, j: ImportJob, expectAccepted = j.expectHeight): Promise<ImportOutcome> => {
    const o = await runChild(j);
    check(o.accepted === expectAccepted, `${label}: ${expectAccepted} blocks accepted (got ${o.accepted})`);
    processMs.push(`${label} ${secs(o.processMs)}`);
    return o;
  };
  const smallDir = (n: number): string => join(cacheDir, `small-${n}`);

  // 1. Small profile, 1,000 blocks, assumevalid off, noSync: throughput, sync time, memory at 1,000.
  const r1000 = await run('small 1,000 av off', job(smallDir(1000), 's1000', { expectHeight: 1000, expectTip: meta.smallTips['1000']! }));
  const row1 = importRow(
    'small profile (25 tx/block), 1,000 blocks, assumevalid off, noSync',
    r1000,
    meta.smallTxs,
    meta.smallInputs,
    0,
    r1000.accepted,
    `peak RSS ${mb(r1000.maxRssMB)}; ${secs(r1000.ms)} in all; ${(r1000.cpuMs / r1000.ms).toFixed(2)} cores busy`,
    true,
  );
  rows.push(row1.row);

  // 1b. The same with libsecp256k1 in the workers, where it loads: how far a faster verifier moves it.
  let rowLib: ReturnType<typeof importRow> | undefined;
  try {
    await loadBackend('libsecp256k1');
    const rLib = await run('small 1,000 av off libsecp256k1', job(smallDir(1000), 's1000-lib', { crypto: 'libsecp256k1', expectHeight: 1000, expectTip: meta.smallTips['1000']! }));
    rowLib = importRow(
      'small profile, the same 1,000 blocks, assumevalid off, noSync, libsecp256k1 in the workers',
      rLib,
      meta.smallTxs,
      meta.smallInputs,
      0,
      rLib.accepted,
      `peak RSS ${mb(rLib.maxRssMB)}; ${secs(rLib.ms)} in all; ${(rLib.cpuMs / rLib.ms).toFixed(2)} cores busy`,
      true,
    );
    rows.push({ ...rowLib.row, vsRef: { ref: row1.row.name, meanRatio: rowLib.row.meanMs / row1.row.meanMs, p50Ratio: rowLib.row.p50Ms / row1.row.p50Ms } });
  } catch (err) {
    notes.push(`libsecp256k1 row left out: ${(err as Error).message}`);
  }

  // 2. Durable: the first 300 blocks of the same chain, fsync per commit.
  const r300 = await run('small 300 durable', job(smallDir(300), 's300', { noSync: false, expectHeight: 300, expectTip: meta.smallTips['300']! }));
  // Both from the first block handed to processBlock to the 300th block's end, neither run's last commit counted.
  const sameNoSync = importRow('', r1000, meta.smallTxs, meta.smallInputs, 0, 300, '', false).figures;
  const durable300 = importRow('', r300, meta.smallTxs, meta.smallInputs, 0, 300, '', false).figures;
  const row2 = importRow(
    'small profile, first 300 blocks, assumevalid off, durable (fsync per commit)',
    r300,
    meta.smallTxs,
    meta.smallInputs,
    0,
    r300.accepted,
    `to the 300th block's end: durable ${(durable300.wallMs / 300).toFixed(1)} ms/block, the same 300 blocks in the 1,000-block noble run (noSync) ${(sameNoSync.wallMs / 300).toFixed(1)} ms/block; the whole durable run with its last commit ${(r300.ms / 300).toFixed(1)} ms/block`,
    true,
  );
  rows.push(row2.row);

  // 3. Small profile, 10,000 blocks, assumevalid = the tip: memory at 10,000 and the skipped range.
  const r10k = await run('small 10,000 av on', job(smallDir(10_000), 's10000', { assumeValid: meta.smallTips['10000']!, expectHeight: 10_000, expectTip: meta.smallTips['10000']! }));
  const skippedCount = r10k.skipped.filter(Boolean).length;
  const lastSkipped = r10k.skipped.lastIndexOf(true);
  check(skippedCount === r10k.scriptsSkipped && skippedCount === lastSkipped + 1, 'assumevalid skipped a prefix of the chain and nothing after it');
  check(skippedCount === 10_000 - ASSUMEVALID_DEPTH - 1, `assumevalid skipped the ${10_000 - ASSUMEVALID_DEPTH - 1} blocks more than ${ASSUMEVALID_DEPTH} blocks below the tip (skipped ${skippedCount})`);
  const row3 = importRow(
    'small profile, 10,000 blocks, assumevalid = tip, noSync (whole import)',
    r10k,
    meta.smallTxs,
    meta.smallInputs,
    0,
    r10k.accepted,
    `scripts skipped for ${skippedCount.toLocaleString('en-US')} blocks; headers-first pass ${secs(r10k.headersMs)}; peak RSS ${mb(r10k.maxRssMB)}; ${secs(r10k.ms)} in all`,
    true,
  );
  const row3a = importRow(
    `  of which: the ${skippedCount.toLocaleString('en-US')} blocks whose scripts assumevalid skipped`,
    r10k,
    meta.smallTxs,
    meta.smallInputs,
    0,
    skippedCount,
    `heights 1–${skippedCount}; the headers-first pass before them (${secs(r10k.headersMs)}) not included`,
    false,
  );
  const row3b = importRow(
    `  of which: the last ${(r10k.accepted - skippedCount).toLocaleString('en-US')} blocks, scripts checked`,
    r10k,
    meta.smallTxs,
    meta.smallInputs,
    skippedCount,
    r10k.accepted,
    `heights ${skippedCount + 1}–10,000: the assumevalid-off cost late in a 10,000-block chain`,
    false,
  );
  rows.push(row3.row, row3a.row, row3b.row);
  // 3b. Every block skipped, at 1,000 and at 10,000 blocks: the same work a block, so speed and memory compare.
  const smallHeadersFile = join(cacheDir, 'small-headers.bin');
  const allSkipped = async (n: number, cacheBytes?: number, repeat = 1, collectBeforeSamples = false): Promise<ImportOutcome> => {
    const cache = cacheBytes === undefined ? '' : `, write-back ${cacheBytes / 2 ** 20} MiB`;
    const again = repeat > 1 ? ` #${repeat}` : '';
    const gc = collectBeforeSamples ? ', a full GC before each sample' : '';
    const o = await run(
      `small ${n.toLocaleString('en-US')} av on, all skipped${cache}${again}${gc}`,
      job(smallDir(n), `s${n}-skip${cacheBytes ?? ''}-${repeat}${collectBeforeSamples ? '-gc' : ''}`, {
        assumeValid: meta.smallTips['10000']!,
        headersFile: smallHeadersFile,
        expectHeight: n,
        expectTip: meta.smallTips[String(n)]!,
        ...(cacheBytes !== undefined && { cacheBytes }),
        ...(collectBeforeSamples && { collectBeforeSamples }),
      }),
    );
    check(o.scriptsSkipped === n, `small ${n}${cache}${again}, assumevalid = block 10,000 with ${SMALL.tail.toLocaleString('en-US')} headers above it known: every block's scripts skipped (skipped ${o.scriptsSkipped})`);
    return o;
  };
  // Each flatness pair runs MEMORY_PAIRS times, 1,000 and 10,000 blocks in turn: one process's peak
  // RSS at 1,000 blocks ranged 150–175 MB from run to run here, so the ratio takes the medians.
  const pairs = async (cacheBytes?: number): Promise<Array<[ImportOutcome, ImportOutcome]>> => {
    const out: Array<[ImportOutcome, ImportOutcome]> = [];
    for (let i = 1; i <= MEMORY_PAIRS; i++) out.push([await allSkipped(1000, cacheBytes, i), await allSkipped(10_000, cacheBytes, i)]);
    return out;
  };
  const skipPairs = await pairs();
  const [rSkip1k, rSkip10k] = skipPairs[0]!;
  // The same pairs with a write-back limit that fills before block 1,000 (~600 blocks here), so both runs
  // hold a full write-back and flush it alike: what is left is growth with the chain itself.
  const fillPairs = await pairs(EQUAL_FILL_CACHE_BYTES);
  const [rFill1k, rFill10k] = fillPairs[0]!;
  // The 10,000-block run once more, each 1,000-block sample taken after a full GC of the main
  // thread: memory the import still holds, apart from garbage V8 had not yet collected.
  const rLive = await allSkipped(10_000, undefined, 1, true);
  check(rLive.memAt.length === 10, `small 10,000 with a full GC before each sample: a sample after every 1,000 blocks (${rLive.memAt.length})`);
  const peaks = (ps: Array<[ImportOutcome, ImportOutcome]>, k: 0 | 1): number[] => ps.map((p) => p[k].maxRssMB);
  const listed = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
  check(rFill1k.flushes >= 2, `small 1,000, write-back ${EQUAL_FILL_CACHE_BYTES / 2 ** 20} MiB: the write-back filled and was flushed before the end (${rFill1k.flushes} flushes, at most ${rFill1k.mostBlocksPerFlush} blocks each)`);
  const skipRow = (n: number, o: ImportOutcome) =>
    importRow(
      `small profile, ${n.toLocaleString('en-US')} blocks, assumevalid on, every block's scripts skipped, noSync`,
      o,
      meta.smallTxs,
      meta.smallInputs,
      0,
      o.accepted,
      `assumevalid = block 10,000, its ${SMALL.tail.toLocaleString('en-US')} successors' headers learnt first; the whole importBlocks call: its headers-first pass (${secs(o.headersMs)}), the blocks and the last commit, ${secs(o.ms)}; peak RSS ${mb(o.maxRssMB)}`,
      true,
    );
  const row4a = skipRow(1000, rSkip1k);
  const row4b = skipRow(10_000, rSkip10k);
  rows.push(row4a.row, row4b.row);
  checks.push(
    `each import reaches the generated tip (hash and height) with every block accepted, none rejected, no script task retried; small chains of 300, 1,000 and 10,000 blocks are prefixes of one generated chain (${SMALL.txsPerBlock} tx a block from height 101, blocks 1–100 coinbase only)`,
    `assumevalid = block 10,000 with the ${SMALL.tail.toLocaleString('en-US')} headers above it learnt before the import: the 1,000- and 10,000-block imports skipped the scripts of every block`,
    `assumevalid = the 10,000-block tip skipped the scripts of exactly blocks 1–${skippedCount} (Core: only blocks more than ${ASSUMEVALID_DEPTH} blocks of work below the best header) and checked the rest`,
  );

  // 4–6. Mainnet-like: the prefix imported once (set-up) into a template store, then the heavy blocks.
  const headersFile = join(cacheDir, 'main-headers.bin');
  await run('mainnet-like prefix (set-up)', job(join(cacheDir, 'main-prefix'), 'main-template', { expectHeight: MAINNET.prefix, expectTip: meta.mainPrefixTip }));
  const heavyTo = MAINNET.prefix + MAINNET.heavy;
  cpSync(join(work, 'main-template'), join(work, 'main-off'), { recursive: true });
  cpSync(join(work, 'main-template'), join(work, 'main-on'), { recursive: true });
  const heavyDir = join(cacheDir, 'main-heavy');
  const rOff = await run('mainnet-like av off', job(heavyDir, 'main-off', { expectHeight: heavyTo, expectTip: meta.mainHeavyTip }), MAINNET.heavy);
  const rOn = await run('mainnet-like av on', job(heavyDir, 'main-on', { assumeValid: meta.mainTailTip, headersFile, expectHeight: heavyTo, expectTip: meta.mainHeavyTip }), MAINNET.heavy);
  check(rOff.scriptsSkipped === 0 && rOn.scriptsSkipped === MAINNET.heavy, 'assumevalid off checks every heavy block; on (with the tail headers known) skips every one');
  const heavyInputs = meta.mainInputs.slice(MAINNET.prefix + 1, heavyTo + 1);
  const rowOff = importRow(
    `mainnet-like (≥ ${MAINNET.minInputs.toLocaleString('en-US')} inputs/block), ${MAINNET.heavy} blocks, assumevalid off, noSync`,
    rOff,
    meta.mainTxs,
    meta.mainInputs,
    0,
    rOff.accepted,
    `${Math.min(...heavyInputs).toLocaleString('en-US')}–${Math.max(...heavyInputs).toLocaleString('en-US')} inputs a block; peak RSS ${mb(rOff.maxRssMB)}; ${(rOff.cpuMs / rOff.ms).toFixed(2)} cores busy`,
    true,
  );
  const rowOn = importRow(
    `mainnet-like, the same ${MAINNET.heavy} blocks, assumevalid on (scripts skipped), noSync`,
    rOn,
    meta.mainTxs,
    meta.mainInputs,
    0,
    rOn.accepted,
    `assumevalid block: the last of ${MAINNET.tail.toLocaleString('en-US')} headers learnt before the import, so every timed block is > ${ASSUMEVALID_DEPTH} deep; peak RSS ${mb(rOn.maxRssMB)}`,
    true,
  );
  rows.push(rowOff.row, { ...rowOn.row, vsRef: { ref: rowOff.row.name, meanRatio: rowOn.row.meanMs / rowOff.row.meanMs, p50Ratio: rowOn.row.p50Ms / rowOff.row.p50Ms } });
  checks.push(
    `mainnet-like: blocks ${MAINNET.prefix + 1}–${heavyTo} each have ≥ ${MAINNET.minInputs.toLocaleString('en-US')} spending inputs; blocks 1–${MAINNET.prefix} (coinbases only) are imported first, untimed, into a store copied for each timed run`,
  );

  // Memory: a fresh process per run, its own peak RSS (VmHWM: main thread, workers, LMDB's mapped pages).
  const mem1k = r1000.maxRssMB;
  const mem10k = r10k.maxRssMB;
  // The memory rows restate the 1,000- and 10,000-block noble runs (each a fresh process) with what their memory was made of.
  const memRow = (name: string, o: ImportOutcome, blocks: number, filesMB: number): Row => ({
    name,
    unit: 'block',
    opsPerSec: (blocks * 1000) / o.ms,
    rmePct: 0,
    meanMs: o.ms / blocks,
    p50Ms: median(o.blockMs),
    p99Ms: [...o.blockMs].sort((a, b) => a - b)[Math.ceil(o.blockMs.length * 0.99) - 1]!,
    samples: 1,
    detail:
      `peak RSS ${mb(o.maxRssMB)} (VmHWM); 50 ms samples peak at RSS ${mb(o.sampledPeakRssMB)} = anonymous ${mb(o.sampledPeakRssAnonMB)} + file-backed ${mb(o.sampledPeakRssFileMB)} (LMDB's map, node's binary); ` +
      `main-thread peaks: JS heap ${mb(o.sampledPeakHeapMB)}, ArrayBuffers ${mb(o.sampledPeakArrayBuffersMB)}; ` +
      `at the end RSS ${mb(o.rssAtEndMB)}, JS heap ${mb(o.heapUsedAtEndMB)}; store ${mb(o.storeMB)}; block files ${mb(filesMB)}` +
      (o.memAt.length > 1 ? `; RSS after each 1,000 blocks: ${o.memAt.map((m) => m.rssMB.toFixed(0)).join(', ')} MB` : ''),
  });
  rows.push(
    memRow('memory: small profile, 1,000 blocks, assumevalid on, all skipped', rSkip1k, 1000, dirMB(smallDir(1000))),
    memRow('memory: small profile, 10,000 blocks, assumevalid on, all skipped', rSkip10k, 10_000, dirMB(smallDir(10_000))),
    memRow('memory: small profile, 1,000 blocks, assumevalid off (the noble 1,000-block run)', r1000, 1000, dirMB(smallDir(1000))),
    memRow('memory: small profile, 10,000 blocks, assumevalid = tip (the 10,000-block run)', r10k, 10_000, dirMB(smallDir(10_000))),
  );
  // Held memory: the samples of the run with a full GC before each.
  const series = (f: (m: MemoryAt) => number): string => rLive.memAt.map((m) => f(m).toFixed(0)).join(', ');
  const at = (k: number, f: (m: MemoryAt) => number): string => f(rLive.memAt[k]!).toFixed(0);
  const at3 = (f: (m: MemoryAt) => number): string => `${at(0, f)}, ${at(1, f)} and ${at(9, f)} MB`;
  const liveGrowth =
    `after a full GC of the main thread at blocks 1,000, 2,000 and 10,000: anonymous RSS ${at3((m) => m.anonMB)}, with the main thread's young generation ${at3((m) => m.youngMB)} ` +
    `(V8 grows it with the survivors of its collections, not with the chain) and the write-back's first flush at block ${rLive.firstFlushAfter.toLocaleString('en-US')} (LMDB keeps the page copies a flush makes); ` +
    `the JS heap in use ${at3((m) => m.heapMB)}; LMDB's mapped data.mdb pages ${at3((m) => m.storeMappedMB)}`;
  rows.push({
    ...memRow('memory held: small profile, 10,000 blocks, assumevalid on, all skipped, a full GC of the main thread before each 1,000-block sample', rLive, 10_000, dirMB(smallDir(10_000))),
    detail:
      `${liveGrowth}; after each 1,000 blocks, MB: anonymous RSS ${series((m) => m.anonMB)}; file-backed RSS ${series((m) => m.fileMB)}; JS heap in use ${series((m) => m.heapMB)}; ` +
      `young generation ${series((m) => m.youngMB)}; old generation ${series((m) => m.oldMB)}; data.mdb pages ${series((m) => m.storeMappedMB)}; peak RSS ${mb(rLive.maxRssMB)} (the collections change it: not a flatness figure)`,
  });
  // What RSS is made of after the last block of a 1,000-block run and of a 10,000-block one.
  const madeOf = (a: ImportOutcome, b: ImportOutcome): string => {
    const x = a.memAt.at(-1);
    const y = b.memAt.at(-1);
    if (x === undefined || y === undefined) return 'no per-1,000-block memory figures';
    const rest = (m: MemoryAt): number => m.rssMB - m.youngMB - m.oldMB - m.storeMappedMB;
    const part = (what: string, f: (m: MemoryAt) => number): string => `${what} ${mb(f(x))} → ${mb(f(y))}`;
    return (
      `in the first pair, RSS after block ${x.blocks.toLocaleString('en-US')} → after block ${y.blocks.toLocaleString('en-US')}: ${mb(x.rssMB)} → ${mb(y.rssMB)}, of which ` +
      [
        part("the main thread's young generation", (m) => m.youngMB),
        part('its old generation', (m) => m.oldMB),
        part("LMDB's mapped data.mdb pages", (m) => m.storeMappedMB),
        part('the rest (workers, LMDB page copies, node)', rest),
      ].join(', ')
    );
  };
  const memSkip1k = rSkip1k.maxRssMB;
  const memSkip10k = rSkip10k.maxRssMB;

  const skipRate = row4b.row.opsPerSec;
  const coresAfter = await probeCores();
  const loadAfter = loadavg()[0] ?? 0;
  const targets = [
    target('block validation, small profile, assumevalid off, noble', TARGET_BLOCKS_PER_SEC, row1.row.opsPerSec, 'blocks/s'),
    target('transaction validation, small profile, assumevalid off, noble', TARGET_TX_PER_SEC, row1.row.items!.perSec, 'tx/s'),
    ...(rowLib !== undefined
      ? [
          target('block validation, small profile, assumevalid off, libsecp256k1', TARGET_BLOCKS_PER_SEC, rowLib.row.opsPerSec, 'blocks/s'),
          target('transaction validation, small profile, assumevalid off, libsecp256k1', TARGET_TX_PER_SEC, rowLib.row.items!.perSec, 'tx/s'),
        ]
      : []),
    target('block validation, mainnet-like, assumevalid off', TARGET_BLOCKS_PER_SEC, rowOff.row.opsPerSec, 'blocks/s'),
    target('transaction validation, mainnet-like, assumevalid off', TARGET_TX_PER_SEC, rowOff.row.items!.perSec, 'tx/s'),
    target(
      'sync of 1,000 blocks (small profile, noble, noSync)',
      TARGET_SYNC_1000_S,
      r1000.ms / 1000,
      's',
      `durable: ${(durable300.wallMs / 300).toFixed(1)} ms a block over the first 300 blocks against ${(sameNoSync.wallMs / 300).toFixed(1)} ms for the same blocks with noSync`,
      true,
    ),
    target(
      'small profile, assumevalid on: 10,000 blocks, every one skipped',
      TARGET_SMALL_ASSUMEVALID_BLOCKS_PER_SEC,
      skipRate,
      'blocks/s',
      `1,000 blocks: ${formatCount(row4a.row.opsPerSec)} blocks/s; assumevalid = the 10,000-block tip: its ${skippedCount.toLocaleString('en-US')} skipped blocks ${formatCount(row3a.row.opsPerSec)} blocks/s, the whole import with the ${(10_000 - skippedCount).toLocaleString('en-US')} checked blocks ${formatCount(row3.row.opsPerSec)} blocks/s`,
    ),
    target('memory, 1,000 blocks', TARGET_MEMORY_1000_MB, mem1k, 'MB', 'peak RSS of the whole process, assumevalid off (scripts checked)', true),
    target('memory, 1,000 blocks, tighter bound', TARGET_MEMORY_FLAT_MB, mem1k, 'MB', undefined, true),
    target('memory, 10,000 blocks, assumevalid on, all skipped', TARGET_MEMORY_FLAT_MB, memSkip10k, 'MB', undefined, true),
    target(`memory, 10,000 blocks, assumevalid = tip (${(ASSUMEVALID_DEPTH + 1).toLocaleString('en-US')} blocks checked at the end)`, TARGET_MEMORY_FLAT_MB, mem10k, 'MB', undefined, true),
    target(
      `memory flat from 1,000 to 10,000 blocks (assumevalid on, all skipped): ratio of the median peak RSS of ${MEMORY_PAIRS} runs each`,
      FLAT_GROWTH,
      median(peaks(skipPairs, 1)) / median(peaks(skipPairs, 0)),
      '×',
      `peaks ${listed(peaks(skipPairs, 0))} MB → ${listed(peaks(skipPairs, 1))} MB; the first pair's ${mb(memSkip1k)} → ${mb(memSkip10k)} is ${(memSkip10k / memSkip1k).toFixed(2)}×; within the first 10,000-block process, RSS after block 1,000 → its peak: ${mb(rSkip10k.memAt[0]?.rssMB ?? NaN)} → ${mb(memSkip10k)}; ${madeOf(rSkip1k, rSkip10k)}; in another 10,000-block run (row "memory held"), ${liveGrowth}; across different work (1,000 blocks with scripts checked → 10,000 with assumevalid = tip): ${mb(mem1k)} → ${mb(mem10k)}, ${(mem10k / mem1k).toFixed(2)}×`,
      true,
    ),
    target(
      `memory flat from 1,000 to 10,000 blocks at equal write-back fill (all skipped, write-back ${EQUAL_FILL_CACHE_BYTES / 2 ** 20} MiB in both): ratio of the median peak RSS of ${MEMORY_PAIRS} runs each`,
      FLAT_GROWTH,
      median(peaks(fillPairs, 1)) / median(peaks(fillPairs, 0)),
      '×',
      `peaks ${listed(peaks(fillPairs, 0))} MB → ${listed(peaks(fillPairs, 1))} MB; in the first pair: flushes ${rFill1k.flushes} and ${rFill10k.flushes}, at most ${rFill1k.mostBlocksPerFlush} and ${rFill10k.mostBlocksPerFlush} blocks each; with the default write-back the 1,000-block run flushes ${rSkip1k.flushes} time(s) (at most ${rSkip1k.mostBlocksPerFlush} blocks), the 10,000-block one ${rSkip10k.flushes} (at most ${rSkip10k.mostBlocksPerFlush}); anonymous RSS ${mb(rFill1k.sampledPeakRssAnonMB)} → ${mb(rFill10k.sampledPeakRssAnonMB)}, file-backed (LMDB's pages touched, node) ${mb(rFill1k.sampledPeakRssFileMB)} → ${mb(rFill10k.sampledPeakRssFileMB)}`,
      true,
    ),
    target(
      'memory, 10,000 blocks, anonymous RSS only (without mapped files: LMDB, node)',
      TARGET_MEMORY_FLAT_MB,
      r10k.sampledPeakRssAnonMB,
      'MB',
      `1,000 blocks: ${mb(r1000.sampledPeakRssAnonMB)}; peak ArrayBuffers ${mb(r1000.sampledPeakArrayBuffersMB)} → ${mb(r10k.sampledPeakArrayBuffersMB)} (importBlocks reads blk files a 1 MiB window at a time; the files: ${mb(dirMB(smallDir(1000)))} and ${mb(dirMB(smallDir(10_000)))} here)`,
      true,
    ),
  ];
  notes.push(
    'every run is a fresh `node dist/bench/import-child.js` process: a 2-worker ScriptPool (noble unless the row says libsecp256k1; its default signature cache, which block validation reads and never fills), ChainState.open on an empty store, importBlocks on the blk*.dat folder; ops/s and mean = blocks ÷ wall time of the whole importBlocks call (reading the files, the headers-first pass and the last commit included), except the "of which" rows: blocks ÷ the time from the end of the block before the range (or of the headers-first pass) to the end of its last block; p50/p99 = processBlock per block',
    `mainnet-like uses ${MAINNET.heavy} timed blocks, not 2,000: each carries ${Math.min(...heavyInputs).toLocaleString('en-US')}–${Math.max(...heavyInputs).toLocaleString('en-US')} spending inputs, each with at least one signature check, ${secs(rowOff.row.meanMs)} a block here with noble on 2 workers, so 2,000 of them would take ${((2000 * rowOff.row.meanMs) / 60_000).toFixed(0)} minutes`,
    `the small profile's assumevalid-off throughput is measured on 1,000 blocks, and again on the 2,017 checked blocks at the end of the 10,000-block run (row "the last … blocks, scripts checked"); a separate 2,000-block run without assumevalid would add ~${secs(2000 * row1.row.meanMs)} to the suite`,
    `peak RSS is the child's VmHWM (/proc/self/status): main thread, both script workers, and the LMDB pages it touched (file-backed, mapped); not getrusage's ru_maxrss, which on Linux starts from the RSS the parent had when it forked the child. Process times: ${processMs.join('; ')}`,
    `cores this process could get (2 spinning threads, 0.5 s): ${coresBefore.toFixed(2)} before the imports, ${coresAfter.toFixed(2)} after; "cores busy" in a row = the child's CPU time ÷ its wall time`,
  );
  return {
    suite: importSuite.name,
    title: importSuite.title,
    checks,
    rows,
    targets,
    notes,
    bench: { timeMs: opts.timeMs, warmupMs: opts.warmupMs, timestampProvider: 'performance.now (plain timed runs)', timerOverheadNs: undefined, loadAvg1m: { before: loadBefore, after: loadAfter } },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const machine = machineInfo();
  printMachine(machine);
  const report = await importSuite.run({ timeMs: 1000, warmupMs: 200 });
  printReport(report);
  console.log(`   wrote ${writeReport(report, machine)}`);
}
