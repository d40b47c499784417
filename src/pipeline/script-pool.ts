// The worker pool that verifies a block's input scripts on every core (Piscina). A block's
// checks go out as many small tasks over one SharedArrayBuffer; the first failure aborts the
// rest; a worker that throws or dies is an internal error for that attempt, never a verdict on
// the block: Piscina replaces the thread and the block is tried again.

import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { VALID, internalError, type ValidationResult } from '../consensus/validation.js';
import { runScriptsSerial, scriptFailure, type TxScriptWork } from '../consensus/connect-block.js';
import { countingBackend, type SignatureBackend } from '../script/signature.js';
import { SignatureCache } from '../script/sig-cache.js';
import { loadBackend, type BackendName } from '../script/backends.js';
import { prepareBlock, splitTasks, type ScriptTask, type ScriptTaskResult } from './script-task.js';
import { VERIFY_INPUTS_WORKER } from './workers.js';

export interface ScriptPoolOptions {
  /** Worker threads; 0 verifies on the calling thread. Default: one per core. */
  threads?: number;
  /** Inputs per task at most (default: a block's inputs over 8 tasks per thread, 8..256). */
  maxChunk?: number;
  /** Attempts per block when workers fail (default 2). */
  attempts?: number;
  /** Signature backend (default noble); the pool loads it in every thread. */
  crypto?: BackendName;
  /** Signature cache consulted by every thread (default: a new 32 MiB one; null: none). */
  sigCache?: SignatureCache | null;
  /** Test hook: inject a worker failure into the first attempt of each block. */
  faultInjection?: 'throw' | 'exit';
}

export interface ScriptPoolStats {
  blocks: number;
  inputs: number;
  tasks: number;
  /** Attempts that failed for our own reasons and were retried. */
  retries: number;
  internalErrors: number;
  /** Signatures verified (not answered by the cache), by kind. */
  ecdsa: number;
  schnorr: number;
}

export class ScriptPool {
  readonly threads: number;
  readonly stats: ScriptPoolStats = { blocks: 0, inputs: 0, tasks: 0, retries: 0, internalErrors: 0, ecdsa: 0, schnorr: 0 };
  private readonly pool: Piscina<ScriptTask, ScriptTaskResult> | undefined;
  readonly sigCache: SignatureCache | undefined;
  private isClosed = false;
  /** The backend this pool verifies with (its name says what loaded). */
  backend: SignatureBackend | undefined;

  private constructor(private readonly opts: ScriptPoolOptions) {
    this.threads = opts.threads ?? availableParallelism();
    this.sigCache = opts.sigCache === null ? undefined : (opts.sigCache ?? SignatureCache.create(32 * 1024 * 1024));
    if (this.threads > 0) {
      this.pool = new Piscina<ScriptTask, ScriptTaskResult>({
        filename: VERIFY_INPUTS_WORKER.href,
        minThreads: this.threads,
        maxThreads: this.threads,
        // Keep threads (and their precomputed tables) between blocks.
        idleTimeout: 60_000,
        concurrentTasksPerWorker: 1,
        workerData: { backend: opts.crypto ?? 'noble' },
      });
    }
  }

  /** Start the threads and wait until each has loaded its backend and warmed up. */
  static async create(opts: ScriptPoolOptions = {}): Promise<ScriptPool> {
    const p = new ScriptPool(opts);
    // Loaded here too: it fails early and clearly if an optional backend is missing.
    p.backend = countingBackend(await loadBackend(opts.crypto ?? 'noble'), p.stats);
    if (p.pool !== undefined) {
      const empty = new SharedArrayBuffer(8);
      await Promise.all(Array.from({ length: p.threads }, () => p.pool!.run({ sab: empty, flags: 0, items: [] })));
    }
    return p;
  }

  /** Verify every input of a block's script work; a ScriptRunner for ChainState. */
  async verify(work: readonly TxScriptWork[], flags: number): Promise<ValidationResult> {
    this.stats.blocks++;
    if (this.pool === undefined) return runScriptsSerial(work, flags, this.backend, this.sigCache);
    const attempts = this.opts.attempts ?? 2;
    let last: ValidationResult = VALID;
    for (let attempt = 0; attempt < attempts; attempt++) {
      last = await this.attempt(work, flags, attempt === 0 ? this.opts.faultInjection : undefined);
      if (last.mode !== 'error') return last;
      this.stats.retries++;
    }
    this.stats.retries--; // the last failed attempt is not retried
    this.stats.internalErrors++;
    return last;
  }

  private async attempt(work: readonly TxScriptWork[], flags: number, fault?: 'throw' | 'exit'): Promise<ValidationResult> {
    const prepared = prepareBlock(work);
    if (prepared.inputs === 0) return VALID;
    const perTask = Math.ceil(prepared.inputs / (this.threads * 8));
    const chunk = Math.max(8, Math.min(this.opts.maxChunk ?? 256, perTask));
    const sigCache = this.sigCache?.shared;
    const tasks = splitTasks(prepared, flags, chunk).map((t) => (sigCache === undefined ? t : { ...t, sigCache }));
    this.stats.tasks += tasks.length;
    // Cancellation goes through the buffer's abort flag only: aborting a running Piscina task
    // terminates its thread, while a queued task that sees the flag returns in microseconds.
    const abortFlag = new Int32Array(prepared.sab, 0, 1);
    let failure: Extract<ScriptTaskResult, { ok: false }> | undefined;
    let crash: unknown;
    let inputs = 0;
    await Promise.all(
      tasks.map((task, i) =>
        this.pool!.run(fault !== undefined && i === 0 ? { ...task, fault } : task).then(
          (r) => {
            inputs += r.inputs;
            this.stats.ecdsa += r.ecdsa;
            this.stats.schnorr += r.schnorr;
            if (!r.ok && failure === undefined) failure = r;
          },
          (err: unknown) => {
            crash ??= err;
            // Stop the others: this attempt is lost anyway.
            Atomics.store(abortFlag, 0, 1);
          },
        ),
      ),
    );
    this.stats.inputs += inputs;
    // A verdict found by a healthy thread stands even if another thread died meanwhile.
    if (failure !== undefined) {
      const w = work.find((x) => x.txIndex === failure!.txIndex)!;
      return scriptFailure(failure.txIndex, failure.inputIndex, failure.error, w.tx);
    }
    if (crash !== undefined) return internalError('script-worker-failed', (crash as Error).message ?? String(crash));
    return VALID;
  }

  /** Piscina's utilization: the share of the pool's capacity spent running tasks since it started. */
  get utilization(): number {
    return this.pool?.utilization ?? 0;
  }

  /** Threads alive now (Piscina replaces a dead one). */
  get liveThreads(): number {
    return this.pool?.threads.length ?? 0;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.pool?.destroy();
  }
}
