// Look-ahead hashing for imports: while the main thread checks and connects one batch of blocks,
// a worker thread computes every hash the next batches need (block hash, txids, wtxids, both
// merkle roots: SHA-256 is the largest cost of a block whose scripts assumevalid skips).
//
// A batch travels in a slot: one SharedArrayBuffer holding the blocks and, after them, room for
// their hashes, which the worker writes in place. Slots are reused once the caller releases a
// batch: a fresh buffer per batch was freed only by the next full GC, and 20–35 of them (140 MB)
// were alive at a time. Everything that outlives a batch copies what it keeps (the store, the
// block index, blocks waiting for their parent), so nothing still views a released slot.
// The hashing runs on a worker of its own or on threads that exist already (a ScriptPool's,
// idle while assumevalid skips scripts: no extra isolate's memory). It only saves work: when
// it fails, blocks are hashed on the main thread.

import { Worker } from 'node:worker_threads';
import { computeBlockHashes, decodeBlock } from '../primitives/block.js';
import { BLOCK_HASHES_WORKER, WORKER_YOUNG_GENERATION_MB } from './workers.js';

/** A batch laid out in a slot: block i is bytes [ends[i-1], ends[i]); hashes go from `hashesAt`. */
export interface HashBatch {
  readonly slot: SharedArrayBuffer;
  readonly ends: readonly number[];
  readonly hashesAt: number;
}

/** Where each block's hashes ended up in the slot: block i's are [ends[i-1], ends[i]) from hashesAt; empty when it does not parse. */
export type HashBatchResult = Uint32Array<ArrayBuffer>;

/** Most hash bytes `bytes` bytes of `blocks` blocks can need: Block.read refuses more than one transaction per 10 bytes. */
function hashRoom(bytes: number, blocks: number): number {
  return 98 * blocks + 64 * Math.ceil(bytes / 10);
}

/** The worker's side (workers/block-hashes.ts): hash each block and write the results into the slot. */
export function hashBlockBatch(batch: HashBatch): HashBatchResult {
  const mem = new Uint8Array(batch.slot);
  const ends = new Uint32Array(batch.ends.length);
  let start = 0;
  let at = 0;
  batch.ends.forEach((end, i) => {
    const decoded = decodeBlock(mem.subarray(start, end));
    if (decoded.ok) {
      const h = computeBlockHashes(decoded.block);
      mem.set(h, batch.hashesAt + at);
      at += h.length;
    }
    ends[i] = at;
    start = end;
  });
  return ends;
}

/** A block of a batch and, once the worker answered, its hashes (undefined: hash it here). */
export interface HashedBlock {
  readonly raw: Uint8Array;
  readonly hashes: Uint8Array | undefined;
}

/** A batch handed back: its blocks, and release() once nothing reads them any more. */
export interface HashedBatch {
  readonly blocks: HashedBlock[];
  release(): void;
}

/** Runs hashBlockBatch on some thread; rejects when that thread failed. */
export type HashRunner = (batch: HashBatch) => Promise<HashBatchResult>;

/** A worker of its own that runs hashBlockBatch, batches answered in the order they were sent. */
function ownWorker(): { run: HashRunner; stop: () => Promise<void> } {
  const worker = new Worker(BLOCK_HASHES_WORKER, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  worker.unref();
  const waiting: Array<{ resolve: (r: HashBatchResult) => void; reject: (e: Error) => void }> = [];
  let failure: Error | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  worker.on('message', (r: HashBatchResult) => waiting.shift()?.resolve(r));
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the hashing worker exited')));
  return {
    run: (batch) =>
      new Promise<HashBatchResult>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        waiting.push({ resolve, reject });
        worker.postMessage(batch);
      }),
    stop: async () => {
      await worker.terminate();
    },
  };
}

/** The main thread's side: batches into reusable slots, hashed by a runner. */
export class BlockHasher {
  private readonly free: SharedArrayBuffer[] = [];
  private stopped = false;

  private constructor(
    private readonly run: HashRunner,
    private readonly stop: () => Promise<void>,
  ) {}

  /** Hash on a worker thread of its own. */
  static start(): BlockHasher {
    const w = ownWorker();
    return new BlockHasher(w.run, w.stop);
  }

  /** Hash on threads that exist already (a ScriptPool's: idle while assumevalid skips scripts). */
  static using(run: HashRunner): BlockHasher {
    return new BlockHasher(run, () => Promise.resolve());
  }

  /** A free slot of at least `size` bytes; new ones are a power of two, so batches of similar size share them. */
  private slot(size: number): SharedArrayBuffer {
    const i = this.free.findIndex((s) => s.byteLength >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    this.free.shift(); // too small for this batch: let it go rather than keep it forever
    this.slotsMade++;
    return new SharedArrayBuffer(2 ** Math.ceil(Math.log2(size)));
  }

  /** Slots allocated so far (a handful when batches are alike). */
  slotsMade = 0;

  /**
   * Copy `blocks` (views the caller may reuse) into a slot and have the worker hash them.
   * Resolves to the blocks, as views into the slot, each with its hashes or without them if
   * the worker failed; release() gives the slot back. Never rejects.
   */
  hash(blocks: readonly Uint8Array[]): Promise<HashedBatch> {
    let total = 0;
    for (const b of blocks) total += b.length;
    const slot = this.slot(total + hashRoom(total, blocks.length));
    const mem = new Uint8Array(slot);
    const ends: number[] = [];
    const views: Uint8Array[] = [];
    let at = 0;
    for (const b of blocks) {
      mem.set(b, at);
      views.push(mem.subarray(at, at + b.length));
      at += b.length;
      ends.push(at);
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.free.push(slot);
    };
    const unhashed = (): HashedBatch => ({ blocks: views.map((raw) => ({ raw, hashes: undefined })), release });
    if (this.stopped) return Promise.resolve(unhashed());
    return this.run({ slot, ends, hashesAt: total }).then((r) => {
      if (r.length !== views.length) return unhashed();
      const hashed = views.map((raw, i) => {
        const from = total + (i === 0 ? 0 : r[i - 1]!);
        const to = total + r[i]!;
        return { raw, hashes: to > from ? mem.subarray(from, to) : undefined };
      });
      return { blocks: hashed, release };
    }, unhashed);
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.stop();
  }
}
