// Input-script checks as tasks for worker threads. A block's transactions and the outputs
// they spend are copied once into a SharedArrayBuffer; each task names slices of it (whole
// transactions or input ranges of a large one), so nothing is structured-cloned but a few
// numbers. The buffer's first word is an abort flag: the first failure stops the rest.

import { ByteReader } from '../primitives/reader.js';
import { ByteWriter } from '../primitives/writer.js';
import { decodeTransaction, type Transaction, type TxOut } from '../primitives/transaction.js';
import type { ScriptError } from '../script/errors.js';
import { PrecomputedTxData } from '../script/sighash.js';
import { countingBackend, nobleBackend, type SignatureBackend, type SignatureCounts } from '../script/signature.js';
import { verifyInput } from '../script/verify.js';
import { SignatureCache } from '../script/sig-cache.js';
import { loadBackend, type BackendName } from '../script/backends.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';

/** Bytes before the first transaction: the abort flag (int32) and padding. */
export const TASK_HEADER_BYTES = 8;
/** Numbers per item in ScriptTask.items. */
export const ITEM_FIELDS = 7;

export interface ScriptTask {
  /** Abort flag, then each transaction followed by its spent outputs. */
  readonly sab: SharedArrayBuffer;
  readonly flags: number;
  /** Per item: txIndex, txOffset, txLength, spentOffset, spentLength, firstInput, endInput. */
  readonly items: readonly number[];
  /** The pool's signature cache (read when connecting blocks, as Core does; never filled here). */
  readonly sigCache?: SharedArrayBuffer;
  /** Test hook: make this attempt fail as a crashed or throwing worker would. */
  readonly fault?: 'throw' | 'exit';
}

/** Every result says how many inputs the task checked and how many signatures it verified (cache misses). */
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
  /** Where each slice's transaction and spent outputs sit in the buffer. */
  layout: Array<{ txIndex: number; txOffset: number; txLength: number; spentOffset: number; spentLength: number; inputs: number }>;
  inputs: number;
}

/** Copy the transactions and their spent outputs into one SharedArrayBuffer. */
export function prepareBlock(work: readonly TxScriptSlice[]): PreparedBlock {
  const encoded = work.map((w) => {
    const tx = w.tx.rawBytes() ?? w.tx.toBytes();
    const spent = new ByteWriter(40 * w.spent.length + 16);
    for (const out of w.spent) spent.i64(out.value).varBytes(out.scriptPubKey);
    return { tx, spent: spent.finish() };
  });
  let size = TASK_HEADER_BYTES;
  for (const e of encoded) size += e.tx.length + e.spent.length;
  const sab = new SharedArrayBuffer(size);
  const view = new Uint8Array(sab);
  const layout: PreparedBlock['layout'] = [];
  let off = TASK_HEADER_BYTES;
  let inputs = 0;
  work.forEach((w, k) => {
    const e = encoded[k]!;
    view.set(e.tx, off);
    view.set(e.spent, off + e.tx.length);
    layout.push({ txIndex: w.txIndex, txOffset: off, txLength: e.tx.length, spentOffset: off + e.tx.length, spentLength: e.spent.length, inputs: w.tx.inputs.length });
    inputs += w.tx.inputs.length;
    off += e.tx.length + e.spent.length;
  });
  return { sab, layout, inputs };
}

/**
 * Cut a prepared block into tasks of about `chunk` inputs. A transaction with more inputs
 * than that is split into input ranges, so no thread idles behind one huge transaction.
 */
export function splitTasks(prepared: PreparedBlock, flags: number, chunk: number): ScriptTask[] {
  const tasks: ScriptTask[] = [];
  let items: number[] = [];
  let inTask = 0;
  for (const l of prepared.layout) {
    let from = 0;
    while (from < l.inputs) {
      const take = Math.min(l.inputs - from, chunk - inTask);
      items.push(l.txIndex, l.txOffset, l.txLength, l.spentOffset, l.spentLength, from, from + take);
      from += take;
      inTask += take;
      if (inTask >= chunk) {
        tasks.push({ sab: prepared.sab, flags, items });
        items = [];
        inTask = 0;
      }
    }
  }
  if (items.length > 0) tasks.push({ sab: prepared.sab, flags, items });
  return tasks;
}

function decodeSpent(bytes: Uint8Array): TxOut[] {
  const r = new ByteReader(bytes);
  const out: TxOut[] = [];
  while (r.remaining > 0) out.push({ value: r.i64(), scriptPubKey: r.varBytes() });
  return out;
}

const sigCounts: SignatureCounts = { ecdsa: 0, schnorr: 0 };
let workerBackend: SignatureBackend = countingBackend(nobleBackend, sigCounts);
let cache: { sab: SharedArrayBuffer; cache: SignatureCache } | undefined;

/** What a worker thread is started with (Piscina's workerData). */
export interface ScriptWorkerData {
  backend?: BackendName;
}

/** Set this thread up: load its signature backend and warm it. */
export async function configureScriptWorker(data: ScriptWorkerData | undefined): Promise<void> {
  workerBackend = countingBackend(await loadBackend(data?.backend ?? 'noble'), sigCounts);
  warmUp();
}

function cacheFor(sab: SharedArrayBuffer | undefined): SignatureCache | undefined {
  if (sab === undefined) return undefined;
  if (cache === undefined || cache.sab !== sab) cache = { sab, cache: SignatureCache.fromShared(sab) };
  return cache.cache;
}

/** Run one task: verify its inputs until done, a failure, or another task's abort. */
export function runScriptTask(task: ScriptTask): ScriptTaskResult {
  if (task.fault === 'throw') throw new Error('injected worker failure');
  if (task.fault === 'exit') process.exit(70);
  const view = new Uint8Array(task.sab);
  const abort = new Int32Array(task.sab, 0, 1);
  let inputs = 0;
  const ecdsa0 = sigCounts.ecdsa;
  const schnorr0 = sigCounts.schnorr;
  const sigs = (): { ecdsa: number; schnorr: number } => ({ ecdsa: sigCounts.ecdsa - ecdsa0, schnorr: sigCounts.schnorr - schnorr0 });
  const items = task.items;
  const sigCache = cacheFor(task.sigCache);
  const opts = sigCache === undefined ? { backend: workerBackend } : { backend: workerBackend, sigCache, sigCacheStore: false };
  for (let k = 0; k < items.length; k += ITEM_FIELDS) {
    const txIndex = items[k]!;
    const txOffset = items[k + 1]!;
    const decoded = decodeTransaction(view.subarray(txOffset, txOffset + items[k + 2]!));
    // The main thread wrote these bytes from transactions it had parsed: failing here is a bug.
    if (!decoded.ok) throw new Error(`script task: transaction ${txIndex} does not decode: ${decoded.message}`);
    const spentOffset = items[k + 3]!;
    const spent = decodeSpent(view.subarray(spentOffset, spentOffset + items[k + 4]!));
    const tx = decoded.tx;
    const txdata = new PrecomputedTxData(tx, spent);
    for (let i = items[k + 5]!, end = items[k + 6]!; i < end; i++) {
      if (Atomics.load(abort, 0) !== 0) return { ok: true, inputs, ...sigs(), aborted: true };
      const r = verifyInput(tx, i, spent, task.flags, { ...opts, txdata });
      inputs++;
      if (!r.ok) {
        Atomics.store(abort, 0, 1);
        return { ok: false, inputs, ...sigs(), txIndex, inputIndex: i, error: r.error };
      }
    }
  }
  return { ok: true, inputs, ...sigs() };
}

/** Precompute noble's tables in this thread, so the first block does not pay for them. */
export function warmUp(): void {
  const sk = new Uint8Array(32).fill(7);
  const msg = new Uint8Array(32).fill(9);
  schnorr.verify(schnorr.sign(msg, sk, new Uint8Array(32)), msg, schnorr.getPublicKey(sk));
  secp256k1.verify(secp256k1.sign(msg, sk, { prehash: false }), msg, secp256k1.getPublicKey(sk), { prehash: false });
}
