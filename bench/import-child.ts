// One import of the import suite (bench/import.ts), in a process of its own so its peak RSS is its
// own: `node dist/bench/import-child.js '<ImportJob JSON>'`. Opens a chain state on a ScriptPool
// (its default signature cache included: block validation reads it and never fills it),
// optionally learns extra headers first, imports a blocks directory with importBlocks, checks the
// result and prints one ImportOutcome JSON line on stdout.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { ChainState } from '../src/chain/chain-state.js';
import { importBlocks } from '../src/chain/importer.js';
import { BlockHeader } from '../src/primitives/block.js';
import { fromHex } from '../src/primitives/bytes.js';
import { ByteReader } from '../src/primitives/reader.js';
import { ScriptPool } from '../src/pipeline/script-pool.js';
import { peakRssMB } from '../src/metrics/peak-rss.js';


export interface ImportJob {
  readonly blocksDir: string;
  readonly storeDir: string;
  /** Display hex of the assumevalid block, or null for off. */
  readonly assumeValid: string | null;
  readonly noSync: boolean;
  readonly threads: number;
  readonly crypto: 'noble' | 'libsecp256k1';
  /** 80-byte headers to accept before the import, untimed (headers known ahead of the blocks). */
  readonly headersFile?: string;
  /** importBlocks' write-back limit (ImportOptions.cacheBytes); its default when omitted. */
  readonly cacheBytes?: number;
  /**
   * Before each 1,000-block memory sample, a full garbage collection of the main thread (the child
   * then runs with --expose-gc): the sample shows memory still held, not garbage V8 has yet to
   * collect. It changes the run's peak and timing, so it is a run of its own.
   */
  readonly collectBeforeSamples?: boolean;
  /** The tip height the import must reach. */
  readonly expectHeight: number;
  readonly expectTip: string;
}

export interface ImportOutcome {
  /** Wall time of importBlocks, ms. */
  readonly ms: number;
  /** importBlocks' headers-first pass: from the start to the first block processed, ms. */
  readonly headersMs: number;
  readonly accepted: number;
  readonly known: number;
  readonly rejected: number;
  readonly tipHeight: number;
  readonly scriptsSkipped: number;
  /** Per accepted block, in order: its height, processBlock's time, when it finished (ms from the start), whether its scripts were skipped. */
  readonly heights: number[];
  readonly blockMs: number[];
  readonly doneAt: number[];
  readonly skipped: boolean[];
  /** Peak resident set size of this process (peakRssMB()), MB, and the largest 50 ms sample. */
  readonly maxRssMB: number;
  readonly sampledPeakRssMB: number;
  readonly rssAtEndMB: number;
  readonly heapUsedAtEndMB: number;
  /** Largest 50 ms samples of the JS heap and of ArrayBuffer memory (block files read, LMDB buffers), MB. */
  readonly sampledPeakHeapMB: number;
  readonly sampledPeakArrayBuffersMB: number;
  /** Largest 50 ms samples of /proc/self/status RssAnon (process memory) and RssFile (mapped files: LMDB), MB. */
  readonly sampledPeakRssAnonMB: number;
  readonly sampledPeakRssFileMB: number;
  /** Size of the store after the import (data.mdb and the block and undo files beside it), MB. */
  readonly storeMB: number;
  /** What RSS is made of (MB) when every 1,000th accepted block is done: growth with the chain, start-up aside. */
  readonly memAt: MemoryAt[];
  /** Write-back flushes during the import (the last, at its end, included) and the most blocks one held. */
  readonly flushes: number;
  readonly mostBlocksPerFlush: number;
  /** Blocks processed when the first flush was seen (all of them when only the import's last one flushed). */
  readonly firstFlushAfter: number;
  /** CPU time of this process (all threads) during the import, ms. */
  readonly cpuMs: number;
  readonly poolStats: ScriptPool['stats'];
}

export interface MemoryAt {
  readonly blocks: number;
  readonly rssMB: number;
  /** The main thread's JS heap in use, and ArrayBuffer memory (block files read, LMDB buffers). */
  readonly heapMB: number;
  readonly arrayBuffersMB: number;
  /** Resident pages of the main thread's young and old generations (V8's physical space sizes). */
  readonly youngMB: number;
  readonly oldMB: number;
  /** Resident pages of the LMDB map (data.mdb in /proc/self/smaps); 0 where smaps cannot be read. */
  readonly storeMappedMB: number;
  /** RSS in anonymous memory (RssAnon: heaps, workers, LMDB's page copies) and in mapped files (RssFile: LMDB's map, node's binary); 0 off Linux. */
  readonly anonMB: number;
  readonly fileMB: number;
}

/** Resident kB of the mappings of files named `name` (/proc/self/smaps; 0 elsewhere). */
function mappedKB(name: string): number {
  let kb = 0;
  try {
    let inFile = false;
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(`/${name}`);
      else if (inFile && line.startsWith('Rss:')) kb += Number(/(\d+) kB/.exec(line)?.[1] ?? 0);
    }
  } catch {
    // not Linux
  }
  return kb;
}

function memoryAt(blocks: number): MemoryAt {
  const m = process.memoryUsage();
  const st = procStatus();
  const spaces = getHeapSpaceStatistics();
  const space = (name: string): number => (spaces.find((s) => s.space_name === name)?.physical_space_size ?? 0) / 2 ** 20;
  return {
    blocks,
    rssMB: m.rss / 2 ** 20,
    heapMB: m.heapUsed / 2 ** 20,
    arrayBuffersMB: m.arrayBuffers / 2 ** 20,
    youngMB: space('new_space'),
    oldMB: space('old_space'),
    storeMappedMB: mappedKB('data.mdb') / 1024,
    anonMB: (st.RssAnon ?? 0) / 1024,
    fileMB: (st.RssFile ?? 0) / 1024,
  };
}

/** The kB fields of /proc/self/status (Linux); empty elsewhere. */
function procStatus(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB$/.exec(line);
      if (m !== null) out[m[1]!] = Number(m[2]);
    }
  } catch {
    // not Linux: the RssAnon/RssFile figures stay 0
  }
  return out;
}

/** data.mdb plus the flat files of blocks and undo data under blocks/. */
function storeBytes(dir: string): number {
  const flat = join(dir, 'blocks');
  const files = existsSync(flat) ? readdirSync(flat).map((f) => statSync(join(flat, f)).size) : [];
  return statSync(join(dir, 'data.mdb')).size + files.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as ImportJob;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (job.collectBeforeSamples === true && gc === undefined) throw new Error('collectBeforeSamples needs node --expose-gc');
  const pool = await ScriptPool.create({ threads: job.threads, crypto: job.crypto });
  const chain = await ChainState.open(job.storeDir, {
    network: 'regtest',
    noSync: job.noSync,
    assumeValid: job.assumeValid === null ? null : fromHex(job.assumeValid).reverse(),
    runScripts: (w, f) => pool.verify(w, f),
  });
  if (job.headersFile !== undefined) {
    const bytes = readFileSync(job.headersFile);
    for (let off = 0; off + 80 <= bytes.length; off += 80) {
      const r = chain.acceptHeader(BlockHeader.read(new ByteReader(new Uint8Array(bytes.buffer, bytes.byteOffset + off, 80))));
      if (r.mode !== 'valid') throw new Error(`header at ${off / 80} refused: ${JSON.stringify(r)}`);
    }
  }

  const heights: number[] = [];
  const memAt: ImportOutcome['memAt'] = [];
  const blockMs: number[] = [];
  const doneAt: number[] = [];
  const skipped: boolean[] = [];
  let started = 0;
  let flushes = 0;
  let mostBlocksPerFlush = 0;
  let unflushed = 0;
  // A flush empties the write-back: its count of unflushed blocks drops.
  let firstFlushAfter = -1;
  // `block`: how many blocks had been processed when the flush was seen.
  const countFlushes = (block: number): void => {
    const now = chain.store.unflushedBlocks;
    if (now < unflushed && flushes++ === 0) firstFlushAfter = block;
    unflushed = now;
    mostBlocksPerFlush = Math.max(mostBlocksPerFlush, now);
  };
  let firstBlockAt = -1;
  const processBlock = chain.processBlock.bind(chain);
  chain.processBlock = async (raw, hashes) => {
    const t = performance.now();
    if (firstBlockAt < 0) firstBlockAt = t - started;
    const before = chain.scriptsSkipped;
    const r = await processBlock(raw, hashes);
    const end = performance.now();
    countFlushes(heights.length + 1);
    if (r.result.mode === 'valid' && !r.duplicate) {
      if ((heights.length + 1) % 1000 === 0) {
        if (job.collectBeforeSamples === true) gc!();
        memAt.push(memoryAt(heights.length + 1));
      }
      heights.push(r.height ?? -1);
      blockMs.push(end - t);
      doneAt.push(end - started);
      skipped.push(chain.scriptsSkipped > before);
    }
    return r;
  };

  let sampledPeak = process.memoryUsage.rss();
  let peakHeap = 0;
  let peakArrayBuffers = 0;
  let peakAnon = 0;
  let peakFile = 0;
  const sample = (): void => {
    const st = procStatus();
    peakAnon = Math.max(peakAnon, st.RssAnon ?? 0);
    peakFile = Math.max(peakFile, st.RssFile ?? 0);
    const m = process.memoryUsage();
    sampledPeak = Math.max(sampledPeak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
  };
  const sampler = setInterval(sample, 50);
  const cpu0 = process.cpuUsage();
  started = performance.now();
  // As `vigil import` runs it: look-ahead hashing on the pool's threads.
  const summary = await importBlocks(chain, job.blocksDir, {
    lookAhead: pool.threads > 0 ? pool.hashBlocks : true,
    ...(job.cacheBytes !== undefined && { cacheBytes: job.cacheBytes }),
  });
  const ms = performance.now() - started;
  countFlushes(heights.length); // importBlocks flushes at its end
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  sample();

  const fail = (what: string): never => {
    throw new Error(`import check failed: ${what} (${JSON.stringify({ ...summary, failures: summary.failures.slice(0, 3) })})`);
  };
  if (summary.stoppedOnError || summary.rejected !== 0 || summary.failures.length !== 0) fail('every block is accepted');
  if (summary.tip.height !== job.expectHeight || summary.tip.hash !== job.expectTip) fail(`the tip is ${job.expectTip} at height ${job.expectHeight}`);
  if (pool.stats.retries !== 0 || pool.stats.internalErrors !== 0) fail('no script task failed or was retried');

  const out: ImportOutcome = {
    ms,
    headersMs: firstBlockAt < 0 ? 0 : firstBlockAt,
    accepted: summary.accepted,
    known: summary.known,
    rejected: summary.rejected,
    tipHeight: summary.tip.height,
    scriptsSkipped: chain.scriptsSkipped,
    heights,
    blockMs,
    doneAt,
    skipped,
    maxRssMB: peakRssMB(),
    sampledPeakRssMB: sampledPeak / 2 ** 20,
    rssAtEndMB: process.memoryUsage.rss() / 2 ** 20,
    heapUsedAtEndMB: process.memoryUsage().heapUsed / 2 ** 20,
    sampledPeakHeapMB: peakHeap / 2 ** 20,
    sampledPeakArrayBuffersMB: peakArrayBuffers / 2 ** 20,
    sampledPeakRssAnonMB: peakAnon / 1024,
    sampledPeakRssFileMB: peakFile / 1024,
    storeMB: storeBytes(job.storeDir) / 2 ** 20,
    memAt,
    flushes,
    mostBlocksPerFlush,
    firstFlushAfter,
    cpuMs: (cpu.user + cpu.system) / 1000,
    poolStats: { ...pool.stats },
  };
  await chain.close();
  await pool.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}

await main();
