// An import as the CLI runs it: the number of blocks to expect (for the bar and the ETA),
// counts of transactions and inputs as blocks connect (for tx/s and inputs/s), and the
// progress display fed from the importer's reports.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolveBlockFiles, BLOCK_RECORD_HEADER_SIZE } from '../blockfile/reader.js';
import { xorInPlace } from '../blockfile/xor.js';
import { MAX_BLOCK_SERIALIZED_SIZE } from '../consensus/consensus.js';
import { importBlocks, type ImportSummary } from '../chain/importer.js';
import type { ScriptPool } from '../pipeline/script-pool.js';
import type { ChainObserver, ChainStage, ChainState } from '../chain/chain-state.js';
import { Progress, type ProgressMode, type ProgressStream } from './progress.js';

export interface RecordCount {
  records: number;
  /** True when part of a file could not be walked record by record and was estimated from its size. */
  estimated: boolean;
}

/**
 * Count the block records under `path` by hopping from one record header (magic, length) to
 * the next: one 8-byte read per block, never the blocks themselves, so the total costs a small
 * fraction of the import. Zero bytes end a file (Core preallocates and pads); garbage, which the
 * importer itself rescans byte by byte, is estimated from the average record size instead.
 */
export function countBlockRecords(path: string, magic: Uint8Array): RecordCount {
  const { files, xorKey } = resolveBlockFiles(path);
  const head = new Uint8Array(BLOCK_RECORD_HEADER_SIZE);
  let records = 0;
  let recordBytes = 0;
  let estimated = false;
  for (const file of files) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      continue; // the importer reports unreadable files itself
    }
    try {
      const size = fstatSync(fd).size;
      let pos = 0;
      while (pos + BLOCK_RECORD_HEADER_SIZE <= size) {
        if (readSync(fd, head, 0, head.length, pos) < head.length) break;
        xorInPlace(head, xorKey, pos);
        if (head.every((b) => b === 0)) break;
        const len = new DataView(head.buffer).getUint32(4, true);
        const framed = magic.every((b, i) => head[i] === b) && len >= 80 && len <= MAX_BLOCK_SERIALIZED_SIZE && pos + 8 + len <= size;
        if (!framed) {
          if (records > 0) records += Math.round((size - pos) / (recordBytes / records));
          estimated = true;
          break;
        }
        records++;
        recordBytes += 8 + len;
        pos += 8 + len;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { records, estimated };
}

export interface ImportRun {
  summary: ImportSummary;
  /** Transactions and inputs of the blocks connected during the import. */
  txs: number;
  inputs: number;
  /** When the last coinbase-only block (height 100 of a generated chain) connected, and the counts then. */
  marks: Array<{ height: number; ms: number; blocks: number; txs: number; inputs: number }>;
  /** Milliseconds the chain spent in each stage of the blocks it processed (ConnectCounter.stagesMs). */
  stagesMs: Record<ChainStage, number>;
}

export interface ImportWithProgressOptions {
  mode: ProgressMode;
  stream: ProgressStream;
  label?: string;
  /** Heights at which to note the time and counts (the selftest measures past the coinbase-only blocks). */
  markHeights?: readonly number[];
  /** ImportOptions.cacheBytes. */
  cacheBytes?: number;
  /** Whose threads hash ahead (ImportOptions.lookAhead): the pool's when it has threads, else a worker of its own. */
  pool?: ScriptPool;
  /** ImportOptions.signal: stop after the block in hand, committing what is held. */
  signal?: AbortSignal;
}

/**
 * The observer that counts connected blocks' transactions and inputs, and sums the time the chain
 * spends in each stage; pass it to ChainState.open, then run `importWithProgress` with the same counter.
 */
export class ConnectCounter implements ChainObserver {
  blocks = 0;
  txs = 0;
  inputs = 0;
  readonly marks: ImportRun['marks'] = [];
  /**
   * Milliseconds in each stage, summed over every block processed (side branches included; a
   * rejected block's time up to the stage it failed in). The stages are the main thread's:
   * `scripts` is the wait for the script threads, or the checks themselves with --workers 0.
   */
  readonly stagesMs: Record<ChainStage, number> = { parse: 0, precheck: 0, coins: 0, scripts: 0, commit: 0 };
  private readonly started = performance.now();

  constructor(private readonly markHeights: readonly number[] = []) {}

  /** Milliseconds since the counter was made (the clock of `marks`). */
  elapsedMs(): number {
    return performance.now() - this.started;
  }

  stage(stage: ChainStage, seconds: number): void {
    this.stagesMs[stage] += seconds * 1000;
  }

  connected(block: { hash: string; height: number; txs: number; inputs: number }): void {
    this.blocks++;
    this.txs += block.txs;
    this.inputs += block.inputs;
    if (this.markHeights.includes(block.height)) {
      this.marks.push({ height: block.height, ms: performance.now() - this.started, blocks: this.blocks, txs: this.txs, inputs: this.inputs });
    }
  }
}

/** Import `path` into `chain` with a progress display fed by the importer and `counter`. */
export async function importWithProgress(chain: ChainState, path: string, counter: ConnectCounter, opts: ImportWithProgressOptions): Promise<ImportRun> {
  const total = opts.mode === 'off' ? undefined : countBlockRecords(path, chain.params.messageStart);
  const progress = new Progress({
    label: opts.label ?? 'import',
    unit: 'blocks',
    counters: ['tx', 'inputs'],
    mode: opts.mode,
    stream: opts.stream,
    // A line every 2 s into a pipe or file, a redraw every second on a terminal, during a block that takes longer too.
    keepAliveMs: opts.mode === 'tty' ? 1000 : 2000,
    ...(total === undefined || total.records === 0 ? {} : { total: total.records }),
  });
  try {
    const summary = await importBlocks(chain, path, {
      ...(opts.cacheBytes === undefined ? {} : { cacheBytes: opts.cacheBytes }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      lookAhead: opts.pool !== undefined && opts.pool.threads > 0 ? opts.pool.hashBlocks : true,
      // Frequent reports are cheap (a time check per block); the display throttles itself.
      progressMs: opts.mode === 'tty' ? 100 : 500,
      onProgress: (p) => {
        const waiting = p.waiting > 0 ? `, ${p.waiting} waiting` : '';
        const note = `height ${p.tipHeight}${p.known > 0 ? `, ${p.known} known` : ''}${p.rejected > 0 ? `, ${p.rejected} rejected` : ''}${waiting}`;
        progress.update(p.accepted + p.known + p.rejected, [counter.txs, counter.inputs], { note });
      },
    });
    return { summary, txs: counter.txs, inputs: counter.inputs, marks: counter.marks, stagesMs: { ...counter.stagesMs } };
  } finally {
    progress.finish();
  }
}
