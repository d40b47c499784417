// Every input of every real block that comes with its spent outputs verifies under the block's
// consensus flags (Core's GetBlockScriptFlags); then one flipped signature byte makes it fail.
// The blocks run in worker threads, one per core (VIGIL_TEST_THREADS overrides; 0 = in this thread),
// under each signature backend: noble's cases first (the long ones), then libsecp256k1's as it
// loads (the workers load backends by name). Its wasm build alone runs every vector suite instead.

import { describe, it, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { forEachBackend } from './helpers/backends.js';
import { loadRealBlockCase, realBlockCaseNames, runRealBlockCase, type CaseResult } from './helpers/real-block-cases.js';
import type { RealBlockJob } from './helpers/real-block-worker.js';
import { blockScriptFlags, REAL_BLOCKS } from './helpers/real-blocks.js';
import { getBlockScriptFlags } from '../src/consensus/script-flags.js';
import type { BackendName } from '../src/script/backends.js';
import { hexToHash } from '../src/primitives/bytes.js';

type WorkerReply = { ok: true; result: CaseResult } | { ok: false; name: string; error: string };

const names = realBlockCaseNames();
const requested = process.env.VIGIL_TEST_THREADS;
const threads = Math.min(names.length, requested !== undefined ? Number(requested) : availableParallelism());

/**
 * Runs cases on up to `threads` worker threads, started on demand; an idle worker is ended as
 * soon as nothing is queued, so the test process can exit.
 */
class CasePool {
  private readonly queue: Array<{ job: RealBlockJob; resolve: (r: CaseResult) => void; reject: (e: Error) => void }> = [];
  private workers = 0;
  private readonly workerUrl = new URL('./helpers/real-block-worker.js', import.meta.url);

  constructor(private readonly size: number) {}

  run(name: string, backend: BackendName): Promise<CaseResult> {
    const p = new Promise<CaseResult>((resolve, reject) => this.queue.push({ job: { name, backend }, resolve, reject }));
    if (this.workers < this.size) this.spawn();
    return p;
  }

  private spawn(): void {
    this.workers++;
    const worker = new Worker(this.workerUrl);
    let current: (typeof this.queue)[number] | undefined;
    const next = (): void => {
      current = this.queue.shift();
      if (current !== undefined) {
        worker.postMessage(current.job);
      } else {
        this.workers--;
        void worker.terminate();
      }
    };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.ok) current?.resolve(reply.result);
      else current?.reject(new Error(reply.error));
      next();
    });
    // A worker that dies takes only its own case with it.
    worker.on('error', (err) => {
      current?.reject(err);
      current = undefined;
      this.workers--;
      if (this.queue.length > 0) this.spawn();
    });
    next();
  }
}

const pool = threads > 0 ? new CasePool(threads) : undefined;

// The suite's subtests run concurrently, each handing its block to the pool.
describe('real blocks: every input verifies, a flipped signature fails', { concurrency: true }, () => {
  forEachBackend(({ tag, id, backend }) => {
    for (const name of names) {
      it(`${tag} ${name}`, async (t) => {
        const r = pool !== undefined ? await pool.run(name, id) : runRealBlockCase(loadRealBlockCase(name), backend);
        t.diagnostic(`${r.backend}: ${r.inputs} inputs, ${r.signed} re-verified with a flipped signature, ${(r.ms / 1000).toFixed(1)} s`);
        t.diagnostic(`flipped signatures fail with ${JSON.stringify(r.flippedErrors)}`);
        for (const u of r.unsigned) t.diagnostic(`no signature to flip: ${u}`);
        assert.equal(r.backend, backend.name, 'the worker verified with the backend the case names');
        assert.equal(r.spentMismatch, 0, 'every spent output belongs to exactly one input');
        assert.deepEqual(r.failures, [], `${r.failureCount} inputs fail to verify`);
        assert.deepEqual(r.survivors, [], `${r.survivorCount} flipped signatures still verify`);
        assert.ok(r.signed > 0);
      });
    }
  }, { wasmBuild: false });
});

test("getBlockScriptFlags agrees with SOURCES.md's table (real blocks and activation boundaries)", () => {
  const heights = new Set<number>(REAL_BLOCKS.map((v) => v.height));
  for (const h of [363725, 388381, 419328, 481824, 330776, 581885, 770112, 834624]) for (const d of [-1, 0]) heights.add(h + d);
  for (const network of ['mainnet', 'testnet3'] as const) {
    for (const h of heights) {
      assert.equal(getBlockScriptFlags(network === 'mainnet' ? 'main' : 'testnet3', h), blockScriptFlags(network, h), `${network} ${h}`);
    }
  }
  for (const hash of ['00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22', '0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad']) {
    for (const h of [170000, 692261]) {
      assert.equal(getBlockScriptFlags('main', h, hexToHash(hash)), blockScriptFlags('mainnet', h, hash), `exception ${hash}`);
    }
  }
});
