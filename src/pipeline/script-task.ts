// Input-script checks as work for worker threads. A block's transactions and the outputs they
// spend are copied once into a SharedArrayBuffer, with a table of chunks (runs of inputs) after
// them. Every thread gets the same small task message and claims chunks from a shared cursor
// until none is left: no thread idles behind a big task while another has work queued, and a
// block costs one message per thread whatever its size. The buffer's first word is an abort
// flag (the caller withdrew, or a thread died); its third holds the block-order position of the
// earliest failing input found so far: threads skip the inputs after it, but check every one
// before it, so the failure reported is the block's first, the one checking in order reports.
//
// Why claiming instead of one Piscina task per chunk: with tasks of up to 256 inputs, block
// 928927 on noble ended with one thread finishing a ~280 ms task alone (2 workers took 0.553× the
// time of 1); chunks that shrink toward the end of the block leave a tail of about one input.

import { ByteReader } from '../primitives/reader.js';
import { compactSizeLength } from '../primitives/writer.js';
import { decodeTransaction, type Transaction, type TxOut } from '../primitives/transaction.js';
import type { ScriptError } from '../script/errors.js';
import { PrecomputedTxData } from '../script/sighash.js';
import { countingBackend, nobleBackend, type SignatureBackend, type SignatureCounts } from '../script/signature.js';
import { verifyInput, type VerifyOptions } from '../script/verify.js';
import { SignatureCache } from '../script/sig-cache.js';
import { loadBackend, type BackendName } from '../script/backends.js';
import { blockSchnorrBatch } from '../script/batch-schnorr.js';
import { warmEcmult } from '../script/ecmult.js';

/** Header words (int32): the abort flag, the claim cursor, the earliest failure, then padding. */
const ABORT = 0;
const CURSOR = 1;
/** 1 + the block-order position (over the work's inputs) of the earliest failing input found (0: none). */
const FAIL_AT = 2;
/** Bytes before the record table. */
export const TASK_HEADER_BYTES = 16;
/**
 * Numbers per record: txIndex, txOffset, txLength, spentOffset, spentLength, firstInput, endInput,
 * and the block-order position of firstInput.
 */
export const ITEM_FIELDS = 8;

export interface ScriptTask {
  /** Header, records, chunk table, then each transaction followed by its spent outputs. */
  readonly sab: SharedArrayBuffer;
  readonly flags: number;
  /** Chunks to claim; chunk c covers records chunkStart[c] .. chunkStart[c+1]. */
  readonly chunks: number;
  /** Byte offset of the chunk table (int32 × (chunks + 1)); the records start at TASK_HEADER_BYTES. */
  readonly chunkTable: number;
  /** Changes with every block put in the buffer (it is reused): keys what a thread keeps decoded. */
  readonly generation: number;
  /** The pool's signature cache (read when connecting blocks, as Core does; never filled here). */
  readonly sigCache?: SharedArrayBuffer;
  /** Test hook: make this attempt fail as a crashed or throwing worker would. */
  readonly fault?: 'throw' | 'exit';
}

/** Every result says how many inputs the thread checked and how many signatures it verified (cache misses). */
export type ScriptTaskResult =
  | { ok: true; inputs: number; ecdsa: number; schnorr: number; aborted?: boolean }
  | { ok: false; inputs: number; ecdsa: number; schnorr: number; txIndex: number; inputIndex: number; error: ScriptError };

export interface TxScriptSlice {
  txIndex: number;
  tx: Transaction;
  spent: readonly TxOut[];
}

export interface PreparedBlock {
  sab: SharedArrayBuffer;
  inputs: number;
  chunks: number;
  chunkTable: number;
  /** Bytes of the buffer in use. */
  size: number;
}

export interface ChunkOptions {
  /** Threads that will claim chunks (sizes shrink toward the end so they finish together). */
  threads: number;
  /** Inputs per chunk at most. */
  maxChunk: number;
}

/** A chunk is this share of what is left per thread, so the last ones are a single input. */
const GUIDED_DIVISOR = 4;

/**
 * Chunk sizes for `inputs` inputs (guided self-scheduling): each chunk takes 1/(threads × 4) of
 * the inputs still unassigned, at most maxChunk, so early chunks are large and cheap to claim
 * and the last ones are single inputs that even out the threads' finishing times.
 */
export function chunkSizes(inputs: number, opts: ChunkOptions): number[] {
  if (!Number.isInteger(opts.maxChunk) || opts.maxChunk < 1) throw new RangeError(`maxChunk must be a positive integer, got ${opts.maxChunk}`);
  if (!Number.isInteger(opts.threads) || opts.threads < 0) throw new RangeError(`threads must be a non-negative integer, got ${opts.threads}`);
  const sizes: number[] = [];
  const per = Math.max(1, opts.threads) * GUIDED_DIVISOR;
  for (let left = inputs; left > 0; ) {
    const n = Math.max(1, Math.min(opts.maxChunk, Math.ceil(left / per)));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

function spentSize(spent: readonly TxOut[]): number {
  let n = 0;
  for (const out of spent) n += 8 + compactSizeLength(out.scriptPubKey.length) + out.scriptPubKey.length;
  return n;
}

/** Bytes prepareBlock needs for `work` cut into chunks as `opts` says (an upper bound). */
export function preparedSize(work: readonly TxScriptSlice[], opts: ChunkOptions): number {
  let inputs = 0;
  let data = 0;
  for (const w of work) {
    inputs += w.tx.inputs.length;
    data += (w.tx.rawBytes() ?? w.tx.toBytes()).length + spentSize(w.spent);
  }
  const chunks = chunkSizes(inputs, opts).length;
  // A chunk can split a transaction once, so records ≤ transactions + chunks.
  const records = work.length + chunks;
  return TASK_HEADER_BYTES + 4 * (records * ITEM_FIELDS + chunks + 1) + data;
}

/**
 * Copy the transactions and their spent outputs into `into` (a fresh buffer when omitted or too
 * small), with the records and chunk table that runScriptTask claims from; header zeroed.
 */
export function prepareBlock(work: readonly TxScriptSlice[], opts: ChunkOptions, into?: SharedArrayBuffer): PreparedBlock {
  const size = preparedSize(work, opts);
  const sab = into !== undefined && into.byteLength >= size ? into : new SharedArrayBuffer(size);
  let inputs = 0;
  for (const w of work) inputs += w.tx.inputs.length;
  const sizes = chunkSizes(inputs, opts);
  const records = new Int32Array(sab, TASK_HEADER_BYTES, (work.length + sizes.length) * ITEM_FIELDS);
  const chunkTable = TASK_HEADER_BYTES + 4 * records.length;
  const starts = new Int32Array(sab, chunkTable, sizes.length + 1);
  const bytes = new Uint8Array(sab);
  const dv = new DataView(sab);
  let off = chunkTable + 4 * starts.length;
  let r = 0;
  let chunk = 0;
  let inChunk = 0;
  let position = 0;
  starts[0] = 0;
  for (const w of work) {
    const tx = w.tx.rawBytes() ?? w.tx.toBytes();
    bytes.set(tx, off);
    const txOffset = off;
    off += tx.length;
    const spentOffset = off;
    for (const out of w.spent) {
      const hi = Math.floor(out.value / 0x1_0000_0000);
      dv.setUint32(off, out.value - hi * 0x1_0000_0000, true);
      dv.setInt32(off + 4, hi | 0, true);
      off = writeCompactSize(dv, off + 8, out.scriptPubKey.length);
      bytes.set(out.scriptPubKey, off);
      off += out.scriptPubKey.length;
    }
    const n = w.tx.inputs.length;
    for (let from = 0; from < n; ) {
      const take = Math.min(n - from, sizes[chunk]! - inChunk);
      const k = r * ITEM_FIELDS;
      records[k] = w.txIndex;
      records[k + 1] = txOffset;
      records[k + 2] = tx.length;
      records[k + 3] = spentOffset;
      records[k + 4] = off - spentOffset;
      records[k + 5] = from;
      records[k + 6] = from + take;
      records[k + 7] = position;
      position += take;
      r++;
      from += take;
      inChunk += take;
      if (inChunk === sizes[chunk]) {
        starts[++chunk] = r;
        inChunk = 0;
      }
    }
  }
  new Int32Array(sab, 0, TASK_HEADER_BYTES / 4).fill(0);
  return { sab, inputs, chunks: sizes.length, chunkTable, size: off };
}

function writeCompactSize(dv: DataView, off: number, n: number): number {
  if (n < 0xfd) {
    dv.setUint8(off, n);
    return off + 1;
  }
  if (n <= 0xffff) {
    dv.setUint8(off, 0xfd);
    dv.setUint16(off + 1, n, true);
    return off + 3;
  }
  dv.setUint8(off, 0xfe);
  dv.setUint32(off + 1, n, true);
  return off + 5;
}

/** The message every thread gets for one prepared block. */
export function scriptTask(prepared: PreparedBlock, flags: number, generation: number, sigCache?: SharedArrayBuffer): ScriptTask {
  const task = { sab: prepared.sab, flags, chunks: prepared.chunks, chunkTable: prepared.chunkTable, generation };
  return sigCache === undefined ? task : { ...task, sigCache };
}

/** The records of chunk `c`, each as ITEM_FIELDS numbers (tests and diagnostics). */
export function chunkRecords(prepared: PreparedBlock, c: number): number[][] {
  const starts = new Int32Array(prepared.sab, prepared.chunkTable, prepared.chunks + 1);
  const records = new Int32Array(prepared.sab, TASK_HEADER_BYTES, starts[prepared.chunks]! * ITEM_FIELDS);
  const out: number[][] = [];
  for (let r = starts[c]!; r < starts[c + 1]!; r++) out.push(Array.from(records.subarray(r * ITEM_FIELDS, (r + 1) * ITEM_FIELDS)));
  return out;
}

/** Ask a thread to stop claiming (a crash elsewhere lost the attempt anyway). */
export function abortTask(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab, 0, TASK_HEADER_BYTES / 4), ABORT, 1);
}

function decodeSpent(bytes: Uint8Array): TxOut[] {
  const r = new ByteReader(bytes);
  const out: TxOut[] = [];
  // No MAX_SIZE check on the length: prepareBlock wrote it from a spent output the calling thread
  // takes whatever its size (a script over 10,000 bytes fails SCRIPT_SIZE there, and must here).
  while (r.remaining > 0) out.push({ value: r.i64(), scriptPubKey: r.bytesView(r.compactSize(false)) });
  return out;
}

const sigCounts: SignatureCounts = { ecdsa: 0, schnorr: 0 };
let workerBackend: SignatureBackend = countingBackend(nobleBackend, sigCounts);
let cache: { sab: SharedArrayBuffer; cache: SignatureCache } | undefined;

/**
 * The transaction this thread decoded last, with what its inputs share: consecutive chunks are
 * often inputs of one large transaction, which is then decoded once per thread, not per chunk.
 */
let current: { sab: SharedArrayBuffer; generation: number; txOffset: number; tx: Transaction; spent: TxOut[]; txdata: PrecomputedTxData } | undefined;

/** What a worker thread is started with (Piscina's workerData). */
export interface ScriptWorkerData {
  backend?: BackendName;
  /** Test hook (ScriptPoolOptions.failThreadStarts): while its first element is nonzero, starting fails. */
  failStarts?: Int32Array;
}

/** Set this thread up: load its signature backend and warm it. */
export async function configureScriptWorker(data: ScriptWorkerData | undefined): Promise<void> {
  try {
    if (data?.failStarts !== undefined && Atomics.load(data.failStarts, 0) !== 0) throw new Error('injected thread start failure');
    workerBackend = countingBackend(await loadBackend(data?.backend ?? 'noble'), sigCounts);
    warmUp();
  } catch (err) {
    // Piscina rejects the task it gave this thread with this error: the pool tells it from a
    // thread that failed while checking inputs by this prefix (the class does not cross threads).
    throw new Error(THREAD_START_FAILED + (err instanceof Error ? err.message : String(err)), { cause: err });
  }
}

/** How the error of a script thread that did not start begins. */
export const THREAD_START_FAILED = 'script thread did not start: ';

function cacheFor(sab: SharedArrayBuffer | undefined): SignatureCache | undefined {
  if (sab === undefined) return undefined;
  if (cache === undefined || cache.sab !== sab) cache = { sab, cache: SignatureCache.fromShared(sab) };
  return cache.cache;
}

function txAt(task: ScriptTask, view: Uint8Array, records: Int32Array, k: number): NonNullable<typeof current> {
  const txOffset = records[k + 1]!;
  if (current !== undefined && current.txOffset === txOffset && current.generation === task.generation && current.sab === task.sab) return current;
  const decoded = decodeTransaction(view.subarray(txOffset, txOffset + records[k + 2]!));
  // The main thread wrote these bytes from transactions it had parsed: failing here is a bug.
  if (!decoded.ok) throw new Error(`script task: transaction ${records[k]!} does not decode: ${decoded.message}`);
  const spentOffset = records[k + 3]!;
  const spent = decodeSpent(view.subarray(spentOffset, spentOffset + records[k + 4]!));
  current = { sab: task.sab, generation: task.generation, txOffset, tx: decoded.tx, spent, txdata: new PrecomputedTxData(decoded.tx, spent) };
  return current;
}

/**
 * Run one thread's share of a block: claim chunks and verify their inputs until none is left, an
 * abort, or an input after the earliest failure found so far. BIP340 checks may be batched (see
 * runScriptsSerial for why the answer is the one single checks give): a batch is verified when
 * full, when an input fails, before stopping, and at the end. A failure lowers FAIL_AT and stops
 * only the inputs after it: chunks are claimed in block order, so every input before the block's
 * first failure is checked by some thread, and the pool reports the earliest of the failures its
 * threads return, whichever thread finished first.
 */
export function runScriptTask(task: ScriptTask): ScriptTaskResult {
  if (task.fault === 'throw') throw new Error('injected worker failure');
  if (task.fault === 'exit') process.exit(70);
  const view = new Uint8Array(task.sab);
  const header = new Int32Array(task.sab, 0, TASK_HEADER_BYTES / 4);
  const starts = new Int32Array(task.sab, task.chunkTable, task.chunks + 1);
  const records = new Int32Array(task.sab, TASK_HEADER_BYTES, starts[task.chunks]! * ITEM_FIELDS);
  let inputs = 0;
  const ecdsa0 = sigCounts.ecdsa;
  const schnorr0 = sigCounts.schnorr;
  const sigs = (): { ecdsa: number; schnorr: number } => ({ ecdsa: sigCounts.ecdsa - ecdsa0, schnorr: sigCounts.schnorr - schnorr0 });
  const sigCache = cacheFor(task.sigCache);
  // Its single checks (when a batch fails) and its batches are counted into sigCounts too.
  const batch = blockSchnorrBatch(workerBackend);
  // One options object per task, its txdata swapped per transaction: no allocation per input.
  const opts: VerifyOptions = sigCache === undefined ? { backend: workerBackend } : { backend: workerBackend, sigCache, sigCacheStore: false };
  if (batch !== undefined) opts.schnorrBatch = batch;
  // The records this thread checked inputs of: a deferred BIP340 failure names its transaction
  // and input, and its position is found among them.
  const mine: number[] = [];
  const failed = (position: number, txIndex: number, inputIndex: number, error: ScriptError): ScriptTaskResult => {
    for (let cur = Atomics.load(header, FAIL_AT); cur === 0 || cur > position + 1; cur = Atomics.load(header, FAIL_AT)) {
      if (Atomics.compareExchange(header, FAIL_AT, cur, position + 1) === cur) break;
    }
    return { ok: false, inputs, ...sigs(), txIndex, inputIndex, error };
  };
  const settle = (now: boolean): ScriptTaskResult | undefined => {
    const bad = batch?.settle(now);
    if (bad === undefined) return undefined;
    const k = mine.find((k) => records[k] === bad.txIndex && records[k + 5]! <= bad.inputIndex && bad.inputIndex < records[k + 6]!);
    // The batch holds only inputs of records this thread checked: not finding it is a bug.
    if (k === undefined) throw new Error(`script task: a deferred check names input ${bad.inputIndex} of transaction ${bad.txIndex}, which this thread did not check`);
    return failed(records[k + 7]! + bad.inputIndex - records[k + 5]!, bad.txIndex!, bad.inputIndex, bad.error);
  };
  for (let c = Atomics.add(header, CURSOR, 1); c < task.chunks; c = Atomics.add(header, CURSOR, 1)) {
    for (let r = starts[c]!, end = starts[c + 1]!; r < end; r++) {
      const k = r * ITEM_FIELDS;
      const { tx, spent, txdata } = txAt(task, view, records, k);
      opts.txdata = txdata;
      opts.txIndex = records[k]!;
      mine.push(k);
      for (let i = records[k + 5]!, last = records[k + 6]!, position = records[k + 7]!; i < last; i++, position++) {
        if (Atomics.load(header, ABORT) !== 0) {
          batch?.clear();
          return { ok: true, inputs, ...sigs(), aborted: true };
        }
        // An earlier input failed: this one and the rest cannot change the answer, but the
        // deferred checks before it can (one of them may be the block's first failure).
        const failAt = Atomics.load(header, FAIL_AT);
        if (failAt !== 0 && position >= failAt - 1) return settle(true) ?? { ok: true, inputs, ...sigs(), aborted: true };
        const v = verifyInput(tx, i, spent, task.flags, opts);
        inputs++;
        if (!v.ok) return settle(true) ?? failed(position, records[k]!, i, v.error);
        const bad = settle(false);
        if (bad !== undefined) return bad;
      }
    }
  }
  return settle(true) ?? { ok: true, inputs, ...sigs() };
}

/**
 * Make the default backend's table of G in this thread (ecmult.ts, ~15–25 ms, ~1 MB), so the
 * first block does not pay for it. Made whatever the backend: libsecp256k1's may fall back to
 * the default's arithmetic (an exact BIP340 check, a key tweak without the native binding).
 */
export function warmUp(): void {
  warmEcmult();
}
