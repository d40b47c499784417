// Look-ahead hashing for imports: while the main thread checks and connects one batch of blocks,
// a worker thread computes every hash the next batches need (block hash, txids, wtxids, both
// merkle roots: SHA-256 is the largest cost of a block whose scripts assumevalid skips). The
// blocks travel in a SharedArrayBuffer the main thread keeps, the hashes come back moved, not
// cloned. The worker only saves work: when it fails, blocks are hashed on the main thread.

import { Worker } from 'node:worker_threads';
import { computeBlockHashes, decodeBlock } from '../primitives/block.js';
import { BLOCK_HASHES_WORKER } from './workers.js';

/** A batch of blocks laid end to end: block i is bytes[ends[i-1] .. ends[i]). */
export interface HashBatch {
  readonly bytes: Uint8Array;
  readonly ends: readonly number[];
}

/** computeBlockHashes of each block in the batch, end to end; an empty entry for a block that does not parse. */
export interface HashBatchResult {
  readonly hashes: Uint8Array;
  readonly ends: Uint32Array;
}

/** The worker's side (workers/block-hashes.ts). */
export function hashBlockBatch(batch: HashBatch): HashBatchResult {
  const parts: Uint8Array[] = [];
  const ends = new Uint32Array(batch.ends.length);
  let start = 0;
  let total = 0;
  batch.ends.forEach((end, i) => {
    const decoded = decodeBlock(batch.bytes.subarray(start, end));
    if (decoded.ok) {
      const h = computeBlockHashes(decoded.block);
      parts.push(h);
      total += h.length;
    }
    ends[i] = total;
    start = end;
  });
  const hashes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    hashes.set(p, at);
    at += p.length;
  }
  return { hashes, ends };
}

/** A block of a batch and, once the worker answered, its hashes (undefined: hash it here). */
export interface HashedBlock {
  readonly raw: Uint8Array;
  readonly hashes: Uint8Array | undefined;
}

/** The main thread's side: one worker, batches answered in the order they were sent. */
export class BlockHasher {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: (r: HashBatchResult | undefined) => void }> = [];
  private failed = false;

  private constructor() {
    this.worker = new Worker(BLOCK_HASHES_WORKER);
    this.worker.unref();
    const fail = (): void => {
      this.failed = true;
      for (const w of this.waiting.splice(0)) w.resolve(undefined);
    };
    this.worker.on('message', (r: HashBatchResult) => this.waiting.shift()?.resolve(r));
    this.worker.on('error', fail);
    this.worker.on('exit', fail);
  }

  static start(): BlockHasher {
    return new BlockHasher();
  }

  /**
   * Copy `blocks` (views the caller may reuse) into one shared buffer and have the worker hash
   * them. Resolves to the blocks, as views into that buffer, each with its hashes or without
   * them if the worker failed. Never rejects.
   */
  hash(blocks: readonly Uint8Array[]): Promise<HashedBlock[]> {
    let total = 0;
    for (const b of blocks) total += b.length;
    const bytes = new Uint8Array(new SharedArrayBuffer(total));
    const ends: number[] = [];
    const views: Uint8Array[] = [];
    let at = 0;
    for (const b of blocks) {
      bytes.set(b, at);
      views.push(bytes.subarray(at, at + b.length));
      at += b.length;
      ends.push(at);
    }
    const unhashed = (): HashedBlock[] => views.map((raw) => ({ raw, hashes: undefined }));
    if (this.failed) return Promise.resolve(unhashed());
    return new Promise<HashBatchResult | undefined>((resolve) => {
      this.waiting.push({ resolve });
      this.worker.postMessage({ bytes, ends } satisfies HashBatch);
    }).then((r) => {
      if (r === undefined || r.ends.length !== views.length) return unhashed();
      return views.map((raw, i) => {
        const from = i === 0 ? 0 : r.ends[i - 1]!;
        const to = r.ends[i]!;
        return { raw, hashes: to > from ? r.hashes.subarray(from, to) : undefined };
      });
    });
  }

  async close(): Promise<void> {
    this.failed = true;
    await this.worker.terminate();
  }
}
