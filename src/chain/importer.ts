// Import of Bitcoin Core's blk*.dat files into a chain state (Core's LoadExternalBlockFile):
// blocks stored out of order wait for their parent, known blocks are skipped (so an
// interrupted import resumes where it stopped), and progress is reported as it goes.

import { hash256 } from '../primitives/hash.js';
import { hashToHex } from '../primitives/bytes.js';
import { BLOCK_RECORD_HEADER_SIZE, readBlockHeadersAsync, readBlocksAsync, readRecordAt, resolveBlockFiles, type BlockFileIssue } from '../blockfile/reader.js';
import { BlockHeader, decodeBlock } from '../primitives/block.js';
import { ByteReader } from '../primitives/reader.js';
import type { ChainState, ProcessResult } from './chain-state.js';
import { BlockHasher, type HashedBatch, type HashRunner } from '../pipeline/block-hasher.js';
import { BLOCK_FAILED_CHILD, BLOCK_FAILED_VALID, BLOCK_HAVE_DATA } from '../store/index.js';

export interface ImportProgress {
  /** Records read from the files so far. */
  read: number;
  /** Blocks newly accepted (stored, and connected if on the best chain). */
  accepted: number;
  /** Blocks already known from an earlier run. */
  known: number;
  rejected: number;
  /** Blocks whose parent has not been read yet. */
  waiting: number;
  tipHeight: number;
  /** Milliseconds since the import started; in the summary, up to the end of its last commit. */
  elapsedMs: number;
}

export interface ImportSummary extends ImportProgress {
  tip: { hash: string; height: number };
  /**
   * Blocks that failed validation, with Core's reason: those rejected when read, and those stored
   * on a side branch earlier and found invalid once their branch had the most work (counted as
   * accepted when stored, as Core's AcceptBlock stores them).
   */
  failures: Array<{ hash: string; height?: number; mode: string; reason: string }>;
  /** Problems in the files themselves (padding aside). */
  fileIssues: BlockFileIssue[];
  /** True when an internal error (store, worker) stopped the import; running it again resumes. */
  stoppedOnError: boolean;
  /**
   * True when ImportOptions.signal stopped the import before the files' end: the blocks connected
   * until then are committed (what the write-back held too), and running it again resumes.
   */
  interrupted: boolean;
}

export interface ImportOptions {
  /** Called at most every `progressMs` (default 1000) and once at the end. */
  onProgress?: (p: ImportProgress) => void;
  progressMs?: number;
  /**
   * Most out-of-order blocks waiting for their parent at once (default 1,000,000). Each waits as
   * its place in its file (~150 bytes of memory) and is read again once its parent has been
   * processed.
   */
  maxWaitingBlocks?: number;
  /**
   * Core's dbcache: bytes of memory that UTXO and block-index changes held between store commits
   * may cost, LMDB's copies of the pages their commit rewrites included (default
   * DEFAULT_IMPORT_CACHE_BYTES); 0 commits every block. An import killed or crashed
   * resumes from the last commit.
   */
  cacheBytes?: number;
  /**
   * Hash the next blocks on another thread while this one connects blocks: true (the default)
   * starts a worker for it, a HashRunner uses threads that exist (ScriptPool.hashBlocks), false
   * hashes here.
   */
  lookAhead?: boolean | HashRunner;
  /**
   * Stop the import once the block in hand is processed (Core's shutdown: FlushStateToDisk
   * before it exits): what the write-back holds is committed, the summary says `interrupted`, and
   * running the import again resumes there. Checked between blocks, and between headers in the
   * headers-first pass.
   */
  signal?: AbortSignal;
}

/** Where a block record is: its file, its offset there (after the 8-byte record header), its length. */
interface RecordPlace {
  file: string;
  offset: number;
  length: number;
  /** The block's hash (display hex), once known. */
  hash?: string;
}

/** Look-ahead batches: up to this many bytes or blocks each, and this many in flight besides the one being connected. */
const LOOK_AHEAD_BATCH_BYTES = 1 << 20;
const LOOK_AHEAD_BATCH_BLOCKS = 256;
const LOOK_AHEAD_BATCHES = 2;

/**
 * The import's default write-back limit (ImportOptions.cacheBytes). On the 10,000-block small
 * chain with every script skipped (bench/import-child.js), 1, 2, 4 and 8 MiB all ran 3,500–4,200
 * blocks/s, at 181–189 MB peak RSS with 1–4 MiB and 186–201 MB with 8 MiB (measured while the
 * limit counted the held changes alone; that chain's store is small, so its flushes copy few pages).
 */
export const DEFAULT_IMPORT_CACHE_BYTES = 8 * 1024 * 1024;

/** Read every record's header and add the valid ones to the index, parents before children. */
async function acceptHeaders(chain: ChainState, path: string, signal: AbortSignal | undefined): Promise<void> {
  const waiting = new Map<string, BlockHeader[]>();
  const accept = (first: BlockHeader): void => {
    const queue = [first];
    while (queue.length > 0) {
      const header = queue.pop()!;
      const r = chain.acceptHeader(header);
      if (r.mode !== 'valid') {
        if (r.reason === 'prev-blk-not-found') {
          const prev = hashToHex(header.prevBlock);
          const list = waiting.get(prev) ?? [];
          list.push(header);
          waiting.set(prev, list);
        }
        continue;
      }
      const hex = hashToHex(header.hash());
      const children = waiting.get(hex);
      if (children !== undefined) {
        waiting.delete(hex);
        queue.push(...children);
      }
    }
  };
  // Headers only: the blocks themselves are read once, by the import that follows.
  for await (const rec of readBlockHeadersAsync(path, { magic: chain.params.messageStart })) {
    if (signal?.aborted === true) return;
    accept(BlockHeader.read(new ByteReader(rec.header)));
  }
}

/** Import every block record under `path` (a blocks directory or one blk file). */
export async function importBlocks(chain: ChainState, path: string, opts: ImportOptions = {}): Promise<ImportSummary> {
  checkImportOptions(opts);
  const started = performance.now();
  const cacheBytes = opts.cacheBytes ?? DEFAULT_IMPORT_CACHE_BYTES;
  if (cacheBytes === 0) return importAll(chain, path, opts);
  await chain.store.setWriteBack(cacheBytes);
  let summary: ImportSummary;
  try {
    summary = await importAll(chain, path, opts);
  } catch (err) {
    await chain.store.setWriteBack(0).catch(() => {}); // the import's own error is the one to report
    throw err;
  }
  // Flush what is held; on failure the store keeps its last commit and the import resumes from it.
  try {
    await chain.store.setWriteBack(0);
  } catch (err) {
    summary.failures.push({ hash: summary.tip.hash, height: summary.tip.height, mode: 'error', reason: `store-write-failed: ${(err as Error).message}` });
    summary.stoppedOnError = true;
  }
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

/** Options of the wrong kind, refused before anything is read: some would throw only mid-import. */
function checkImportOptions(opts: ImportOptions): void {
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new TypeError('importBlocks: onProgress must be a function when given');
  const la = opts.lookAhead;
  if (la !== undefined && typeof la !== 'boolean' && typeof la !== 'function') throw new TypeError('importBlocks: lookAhead must be a boolean or a HashRunner (ScriptPool.hashBlocks) when given');
  if (opts.progressMs !== undefined && !(typeof opts.progressMs === 'number' && opts.progressMs >= 0)) throw new RangeError('importBlocks: progressMs must be a number ≥ 0 when given');
  const w = opts.maxWaitingBlocks;
  if (w !== undefined && !((Number.isSafeInteger(w) && w >= 0) || w === Infinity)) throw new RangeError('importBlocks: maxWaitingBlocks must be an integer ≥ 0 (or Infinity: no limit) when given');
  const c = opts.cacheBytes;
  if (c !== undefined && !(Number.isSafeInteger(c) && c >= 0)) throw new RangeError('importBlocks: cacheBytes must be an integer ≥ 0 when given');
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new TypeError('importBlocks: signal must be an AbortSignal when given');
}

async function importAll(chain: ChainState, path: string, opts: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const fileIssues: BlockFileIssue[] = [];
  const failures: ImportSummary['failures'] = [];
  // Parent hash → where the blocks that build on it are (Core's mapBlocksUnknownParent): blocks
  // in Core's files are often out of order by up to its 1,024-block download window, which as
  // bytes would be a gigabyte or more.
  const waiting = new Map<string, RecordPlace[]>();
  let waitingCount = 0;
  const maxWaiting = opts.maxWaitingBlocks ?? 1_000_000;
  const { xorKey } = resolveBlockFiles(path);
  const p: ImportProgress = { read: 0, accepted: 0, known: 0, rejected: 0, waiting: 0, tipHeight: chain.tip.height, elapsedMs: 0 };
  let lastReport = 0;
  const progressMs = opts.progressMs ?? 1000;
  const report = (force = false): void => {
    const now = performance.now();
    if (!force && now - lastReport < progressMs) return;
    lastReport = now;
    p.waiting = waitingCount;
    p.tipHeight = chain.tip.height;
    p.elapsedMs = Math.round(now - started);
    opts.onProgress?.({ ...p });
  };
  // Blocks whose records are read and hashed ahead, checked on this thread (no pool), connect
  // through promises alone: the event loop would not poll again, so a signal's handler (the CLI
  // stops on SIGINT) or a timer would wait for the import's end. Every 50 ms it polls once.
  let polled = performance.now();
  const poll = async (): Promise<void> => {
    if (performance.now() - polled < 50) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    polled = performance.now();
  };
  let interrupted = false;
  /** Whether the import was asked to stop; it then ends as interrupted. */
  const halted = (): boolean => (interrupted ||= opts.signal?.aborted === true);
  const summary = (stoppedOnError: boolean): ImportSummary => {
    report(true);
    return { ...p, tip: { hash: chain.tip.hex, height: chain.tip.height }, failures, fileIssues, stoppedOnError, interrupted };
  };
  /** The summary of an import that stopped early: on our own failure, or asked to. */
  const early = (): ImportSummary => summary(!interrupted);

  /** Process one block and then every waiting block it unblocks; false on an internal error. */
  const process = async (raw: Uint8Array, hashes: Uint8Array | undefined, place: RecordPlace): Promise<boolean> => {
    const queue: Array<RecordPlace & { raw?: Uint8Array }> = [{ ...place, raw }];
    while (queue.length > 0) {
      // Asked to stop: the blocks still queued here (children of this one, waiting) are read
      // again from the files by the import that resumes.
      if (halted()) return false;
      const item = queue.shift()!;
      let next = item.raw;
      if (next === undefined) {
        try {
          next = await readRecordAt(item.file, item.offset, item.length, xorKey);
          // The file changed under the import if these bytes are not the block that waited.
          if (item.hash !== undefined && hashToHex(hash256(next.subarray(0, 80))) !== item.hash) throw new Error(`${item.file} at ${item.offset} no longer holds block ${item.hash}`);
        } catch (err) {
          failures.push({ hash: item.hash ?? '', mode: 'error', reason: `block-read-failed: ${(err as Error).message}` });
          return false;
        }
      }
      const r: ProcessResult = await chain.processBlock(next, next === raw ? hashes : undefined);
      if (r.result.mode === 'valid') {
        if (r.duplicate) p.known++;
        else p.accepted++;
      } else if (r.result.reason === 'prev-blk-not-found') {
        if (waitingCount >= maxWaiting) {
          failures.push({ hash: r.hash, mode: 'error', reason: 'too many out-of-order blocks waiting for their parents' });
          return false;
        }
        const parent = hashToHex(next.subarray(4, 36));
        const list = waiting.get(parent) ?? [];
        list.push({ file: item.file, offset: item.offset, length: next.length, hash: r.hash });
        waiting.set(parent, list);
        waitingCount++;
        continue;
      } else if (r.hash === '') {
        // A damaged length that covers bytes after its block: Core's LoadExternalBlockFile reads
        // the block under the record's limit and goes on where it ends, so the block is imported.
        const d = decodeBlock(next);
        if (!d.ok && d.code === 'trailing-data') {
          queue.unshift({ ...item, length: d.offset, raw: next.subarray(0, d.offset) });
          continue;
        }
        // Bytes that do not decode as a block: damage in the file, not a block to judge (Core's
        // LoadExternalBlockFile logs "unexpected data at file offset" and goes on), said with its place.
        const at = item.offset - BLOCK_RECORD_HEADER_SIZE;
        fileIssues.push({ code: 'bad-block', file: item.file, offset: at, length: next.length, message: `record at offset ${at} is not a block: ${r.result.reason}${r.result.debug ? ` (${r.result.debug})` : ''}` });
        continue;
      } else {
        // Our own failure (mode 'error') is no verdict on the block: listed in failures, not counted as rejected.
        if (r.result.mode !== 'error') p.rejected++;
        // Our own failure says what failed (the full disk, the read): its detail is all there is to act on.
        const reason = r.result.mode === 'error' && r.result.debug !== undefined ? `${r.result.reason}: ${r.result.debug}` : r.result.reason;
        const f: ImportSummary['failures'][number] = { hash: r.hash, mode: r.result.mode, reason };
        if (r.height !== undefined) f.height = r.height;
        failures.push(f);
        if (r.result.mode === 'error') return false;
      }
      // A block stored earlier on a side branch, found invalid once this one gave it the most work.
      for (const x of r.invalidated ?? []) {
        if (x.result.mode === 'invalid') failures.push({ hash: x.hash, height: x.height, mode: x.result.mode, reason: x.result.reason });
      }
      const children = waiting.get(r.hash);
      if (children !== undefined) {
        waiting.delete(r.hash);
        waitingCount -= children.length;
        queue.push(...children);
      }
      report();
    }
    return true;
  };

  const look = opts.lookAhead ?? true;
  const hasher = look === false ? undefined : look === true ? BlockHasher.start() : BlockHasher.using(look);
  // Headers first when assumevalid is on: whether a block's scripts may be skipped depends
  // on the best header chain, which a block-by-block import would only learn at its end.
  if (chain.assumeValidEnabled) {
    try {
      await acceptHeaders(chain, path, opts.signal);
    } catch (err) {
      await hasher?.close();
      throw err;
    }
  }

  /** One block read from the files: known already (resume fast, from its header hash alone) or processed. */
  const handle = async (raw: Uint8Array, hashes: Uint8Array | undefined, place: RecordPlace): Promise<boolean> => {
    await poll();
    if (halted()) return false;
    const known = chain.getNodeByHash(hashes?.subarray(0, 32) ?? hash256(raw.subarray(0, 80)));
    // Skipped only when stored and not known invalid (Core's LoadExternalBlockFile: BLOCK_HAVE_DATA);
    // one known invalid goes to processBlock, which answers duplicate-invalid as Core's AcceptBlockHeader does.
    const skip = known !== undefined && (known.status & BLOCK_HAVE_DATA) !== 0 && (known.status & (BLOCK_FAILED_VALID | BLOCK_FAILED_CHILD)) === 0;
    if (skip && !waiting.has(known.hex)) {
      p.known++;
      report();
      return true;
    }
    return process(raw, hashes, place);
  };

  // Look-ahead: records are read in batches that a worker hashes while the batches before them
  // are checked and connected here, at most LOOK_AHEAD_BATCHES ahead. (Its worker was started
  // before the headers pass, so it is ready by the first batch.)
  const inFlight: Array<{ hashed: Promise<HashedBatch>; places: RecordPlace[] }> = [];
  // A record is a view the reader reuses at the next one: it is copied into the batch being
  // gathered (a buffer reused batch after batch: hash() copies the batch into its slot at once).
  let staging = new Uint8Array(LOOK_AHEAD_BATCH_BYTES);
  let batch: Uint8Array[] = [];
  let places: RecordPlace[] = [];
  let batchBytes = 0;
  const send = (): void => {
    if (batch.length === 0) return;
    inFlight.push({ hashed: hasher!.hash(batch), places });
    batch = [];
    places = [];
    batchBytes = 0;
  };
  const stage = (raw: Uint8Array, place: RecordPlace): void => {
    if (batchBytes + raw.length > staging.length) send();
    if (raw.length > staging.length) staging = new Uint8Array(raw.length);
    const view = staging.subarray(batchBytes, batchBytes + raw.length);
    view.set(raw);
    batch.push(view);
    places.push(place);
    batchBytes += raw.length;
  };
  const connectNext = async (): Promise<boolean> => {
    const next = inFlight.shift()!;
    const batch = await next.hashed;
    try {
      for (const [i, b] of batch.blocks.entries()) if (!(await handle(b.raw, b.hashes, next.places[i]!))) return false;
      return true;
    } finally {
      // Nothing keeps a view of the batch: the store and the index copy what they keep, and waiting blocks are read again.
      batch.release();
    }
  };
  try {
    // Views, not copies: a record is processed, or copied into a look-ahead batch, before the next is asked for.
    const records = readBlocksAsync(path, { magic: chain.params.messageStart, views: true, onIssue: (i) => fileIssues.push(i) });
    for await (const rec of records) {
      if (halted()) return early();
      p.read++;
      if (hasher === undefined) {
        if (!(await handle(rec.raw, undefined, { file: rec.file, offset: rec.offset, length: rec.raw.length }))) return early();
        continue;
      }
      stage(rec.raw, { file: rec.file, offset: rec.offset, length: rec.raw.length }); // sends the batch first when this record would overflow it
      if (batchBytes >= LOOK_AHEAD_BATCH_BYTES || batch.length >= LOOK_AHEAD_BATCH_BLOCKS) send();
      while (inFlight.length > LOOK_AHEAD_BATCHES) if (!(await connectNext())) return early();
    }
    send();
    while (inFlight.length > 0) if (!(await connectNext())) return early();
    return summary(false);
  } finally {
    await hasher?.close();
  }
}
