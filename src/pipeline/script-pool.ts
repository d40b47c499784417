// The worker pool that verifies a block's input scripts on every core (Piscina). A block's
// checks are copied into one SharedArrayBuffer (kept and reused while it is big enough) and
// every thread gets one task that claims chunks of inputs from it until none is left; the first
// failure aborts the rest; a worker that throws or dies is an internal error for that attempt,
// never a verdict on the block: Piscina replaces the thread and the block is tried again.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { VALID, internalError, type ValidationResult } from '../consensus/validation.js';
import { runScriptsSerial, scriptFailure, type TxScriptWork } from '../consensus/connect-block.js';
import { countingBackend, type SignatureBackend } from '../script/signature.js';
import { SignatureCache } from '../script/sig-cache.js';
import { BACKEND_NAMES, loadBackend, type BackendName } from '../script/backends.js';
import { abortTask, THREAD_START_FAILED, prepareBlock, scriptTask, type PreparedBlock, type ScriptTask, type ScriptTaskResult } from './script-task.js';
import { MAX_SCRIPT_THREADS, VERIFY_INPUTS_WORKER, WORKER_YOUNG_GENERATION_MB } from './workers.js';
import { hashBlockBatch, type HashBatchResult, type HashRunner } from './block-hasher.js';

export { MAX_SCRIPT_THREADS };

/** scriptWorkerExecArgv()'s answer, once settled (null until then). */
let workerExecArgv: string[] | undefined | null = null;

/**
 * Piscina loads a worker's file with require() first, and Node 20.19+ require()s an ES module
 * (require(esm)). A thread terminated while that loads (a pool closed while it replaces a thread)
 * aborts the whole process in Node 20: "FATAL ERROR: v8::Module::IsGraphAsync must be used on an
 * instantiated module" (seen once in the test suite; Piscina pools of this file destroyed 0–200 ms
 * after they started, 150 times a run, crashed 7 runs of 13, and none of 11 with the flag below).
 * Without require(esm), require() fails at once and Piscina loads the file with import(), which a
 * termination does not break. Setting a worker's execArgv replaces the flags it would inherit, and
 * a worker refuses V8 and process-wide ones (--max-old-space-size): the parent's flags are kept
 * but for those. Undefined (inherit, with require(esm)) where Node lacks the flag or the flags
 * cannot be settled.
 */
function scriptWorkerExecArgv(): string[] | undefined {
  if (workerExecArgv !== null) return workerExecArgv;
  workerExecArgv = undefined;
  const flag = '--no-experimental-require-module';
  if (!process.allowedNodeEnvironmentFlags.has(flag)) return undefined;
  let argv = [...process.execArgv, flag];
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // The flags are checked as the Worker is constructed; an empty script starts no module load.
      void new Worker('', { eval: true, execArgv: argv }).terminate();
      return (workerExecArgv = argv);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return undefined;
      const refused = /flags: (.*)$/.exec((err as Error).message)?.[1]?.split(', ') ?? [];
      argv = argv.filter((a) => !refused.includes(a));
    }
  }
  return undefined;
}

/**
 * Inputs per chunk at most. Claiming a chunk is one atomic add; 32 inputs are ~1.5 ms of
 * libsecp256k1 work or ~35 ms of noble, and chunks shrink to one input at the end anyway.
 */
const DEFAULT_MAX_CHUNK = 32;

/** What verify() answers once its caller has withdrawn the block (not a verdict on it). */
const ABORTED: ValidationResult = Object.freeze(internalError('script-check-aborted', 'the caller no longer needs this answer'));

export interface ScriptPoolOptions {
  /** Worker threads; 0 verifies on the calling thread. Default: one per core. */
  threads?: number;
  /** Inputs per claimed chunk at most (default 32); chunks shrink to one input toward a block's end. */
  maxChunk?: number;
  /** Attempts per block when workers fail (default 2). */
  attempts?: number;
  /** Signature backend (default noble); the pool loads it in every thread. */
  crypto?: BackendName;
  /** Signature cache consulted by every thread (default: a new 32 MiB one; null: none). */
  sigCache?: SignatureCache | null;
  /** Test hook: inject a worker failure into the first attempt of each block. */
  faultInjection?: 'throw' | 'exit';
  /**
   * Test hook: an Int32Array over a SharedArrayBuffer; while its first element is nonzero, threads
   * that start fail as one whose backend cannot load would.
   */
  failThreadStarts?: Int32Array;
}

export interface ScriptPoolStats {
  blocks: number;
  inputs: number;
  /** Chunks of inputs the blocks were cut into (each claimed by one thread). */
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
  /** The block buffer, reused by the next block while no attempt holds it and it is big enough. */
  private buffer: SharedArrayBuffer | undefined;
  private bufferBusy = false;
  private generation = 0;
  /** One per task submitted: cancels those still queued when no thread is left to run them. */
  private readonly inFlight = new Set<AbortController>();
  /** The last failure Piscina reported outside any task (a thread that could not start). */
  private threadError: unknown;
  /** The backend this pool verifies with (its name says what loaded). */
  backend: SignatureBackend | undefined;

  private constructor(private readonly opts: ScriptPoolOptions) {
    const attempts = opts.attempts ?? 2;
    // Zero attempts would answer VALID having checked nothing.
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`ScriptPool: attempts must be a positive integer, got ${attempts}`);
    // Nor may a chunk size cut the block into no inputs (NaN did: VALID, nothing checked).
    const maxChunk = opts.maxChunk ?? DEFAULT_MAX_CHUNK;
    if (!Number.isInteger(maxChunk) || maxChunk < 1) throw new RangeError(`ScriptPool: maxChunk must be a positive integer, got ${maxChunk}`);
    // A runner, so `runScripts: pool.verify` works as well as an arrow around it.
    this.verify = this.verify.bind(this);
    this.threads = opts.threads ?? Math.min(availableParallelism(), MAX_SCRIPT_THREADS);
    if (!Number.isInteger(this.threads) || this.threads < 0 || this.threads > MAX_SCRIPT_THREADS) {
      throw new RangeError(`ScriptPool: threads must be an integer in 0..${MAX_SCRIPT_THREADS}, got ${this.threads}`);
    }
    // Anything else (a plain object, a cache of another copy of this package) would be ignored unsaid.
    if (opts.sigCache != null && !(opts.sigCache instanceof SignatureCache)) throw new TypeError('ScriptPool: sigCache must be a SignatureCache (SignatureCache.create), null for none, or left out');
    this.sigCache = opts.sigCache === null ? undefined : (opts.sigCache ?? SignatureCache.create(32 * 1024 * 1024));
    // Before any thread starts: each would fail to load an unknown backend.
    if (opts.crypto !== undefined && !BACKEND_NAMES.includes(opts.crypto)) {
      throw new TypeError(`ScriptPool: unknown signature backend ${JSON.stringify(opts.crypto)} (expected one of ${BACKEND_NAMES.join(', ')})`);
    }
    if (this.threads > 0) {
      const execArgv = scriptWorkerExecArgv();
      this.pool = new Piscina<ScriptTask, ScriptTaskResult>({
        filename: VERIFY_INPUTS_WORKER.href,
        minThreads: this.threads,
        maxThreads: this.threads,
        // Keep threads (and their precomputed tables) between blocks.
        idleTimeout: 60_000,
        concurrentTasksPerWorker: 1,
        // A young generation of at most 8 MiB a thread: V8 grows it to 32 MiB for threads that
        // allocate fast (noble's bigints, look-ahead hashing), and the 10,000-block import's peak
        // RSS was 345–353 MB with that, 290–299 MB with this; verification ran 26.2 against
        // 26.8 blocks/s, within the noise (bench/import-child.js on the 10,000-block chain).
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        ...(execArgv === undefined ? {} : { execArgv }),
        workerData: { backend: opts.crypto ?? 'noble', ...(opts.failThreadStarts === undefined ? {} : { failStarts: opts.failThreadStarts }) },
      });
      // A thread that fails outside a task (a replacement whose backend does not load) is emitted
      // as 'error' on the pool; unheard, it would end the process. It is our own failure: the tasks
      // it strands fail as internal errors (cancelStranded).
      this.pool.on('error', (err: unknown) => {
        this.threadError = err;
        this.cancelStranded();
      });
    }
  }

  /** Start the threads and wait until each has loaded its backend and warmed up. */
  static async create(opts: ScriptPoolOptions = {}): Promise<ScriptPool> {
    const p = new ScriptPool(opts);
    // Loaded here too: it fails early and clearly if an optional backend is missing. The threads
    // started meanwhile are stopped, not left to the process.
    try {
      p.backend = countingBackend(await loadBackend(opts.crypto ?? 'noble'), p.stats);
    } catch (err) {
      await p.close();
      throw err;
    }
    if (p.pool !== undefined) {
      const empty = scriptTask(prepareBlock([], { threads: 1, maxChunk: 1 }), 0, -1);
      try {
        await Promise.all(Array.from({ length: p.threads }, () => p.submit<ScriptTaskResult>(empty)));
      } catch (err) {
        await p.close();
        throw new Error(`ScriptPool: the worker threads did not start: ${describe(p.threadError ?? err)}`);
      }
    }
    return p;
  }

  /**
   * Run a task on the pool. Once a thread has failed to start, Piscina stops replacing threads that
   * die, so tasks queued when the last one is gone would wait forever, and the block with them:
   * each task can be cancelled (cancelStranded).
   */
  private submit<R>(task: unknown, name?: string): Promise<R> {
    // Piscina would start new threads after destroy(), and nothing could stop them again.
    if (this.isClosed) return Promise.reject(closedError());
    const cancel = new AbortController();
    this.inFlight.add(cancel);
    const pool = this.pool as unknown as Piscina<unknown, R>;
    return pool
      .run(task, name === undefined ? { signal: cancel.signal } : { name, signal: cancel.signal })
      .finally(() => this.inFlight.delete(cancel))
      .catch((err: unknown) => {
        // Whatever the task (a look-ahead hash as much as a script check), its thread may have
        // been the last: the tasks queued behind it must not wait for a thread that never comes.
        this.cancelStranded();
        throw err;
      });
  }

  /**
   * With no thread left, no task is running: every one submitted waits in Piscina's queue for a
   * thread that may never come. Cancel them, so their attempt ends as an internal error and is
   * retried (the next task makes Piscina start threads again).
   */
  private cancelStranded(): void {
    if (this.pool !== undefined && this.pool.threads.length === 0) for (const c of this.inFlight) c.abort();
  }

  /**
   * Run look-ahead hashing (hashBlockBatch) on one of the pool's threads: a HashRunner for
   * importBlocks. With no threads it runs here, which gains nothing: pass it only when threads > 0.
   */
  readonly hashBlocks: HashRunner = (batch) => {
    if (this.pool === undefined) return Promise.resolve(hashBlockBatch(batch));
    return this.submit<HashBatchResult>(batch, 'hashBlocks');
  };

  /**
   * Verify every input of a block's script work; a ScriptRunner for ChainState and
   * validateBlockAsync. When `signal` fires the threads stop within one input and the answer
   * (then an 'error' result, never retried) is not about the block.
   */
  async verify(work: readonly TxScriptWork[], flags: number, signal?: AbortSignal): Promise<ValidationResult> {
    // Misuse, thrown: validateBlockAsync and ChainState answer it as an internal error.
    if (this.isClosed) throw closedError();
    this.stats.blocks++;
    if (this.pool === undefined) {
      // Let a caller that started this early (validateBlockAsync) finish its own checks first:
      // then a block they fail costs no script work on this thread.
      await null;
      if (signal?.aborted === true) return ABORTED;
      return runScriptsSerial(work, flags, this.backend, this.sigCache);
    }
    const attempts = this.opts.attempts ?? 2;
    const withdrawn = (): boolean => signal?.aborted === true;
    let last: ValidationResult = VALID;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (withdrawn()) return ABORTED;
      last = await this.attempt(work, flags, attempt === 0 ? this.opts.faultInjection : undefined, signal);
      if (withdrawn()) return ABORTED;
      if (last.mode !== 'error') return last;
      this.stats.retries++;
    }
    this.stats.retries--; // the last failed attempt is not retried
    this.stats.internalErrors++;
    return last;
  }

  private async attempt(work: readonly TxScriptWork[], flags: number, fault: 'throw' | 'exit' | undefined, signal: AbortSignal | undefined): Promise<ValidationResult> {
    // Another verify() may still hold the pool's buffer (calls can overlap): then this block gets its own.
    const reuse = this.bufferBusy ? undefined : this.buffer;
    const prepared = prepareBlock(work, { threads: this.threads, maxChunk: this.opts.maxChunk ?? DEFAULT_MAX_CHUNK }, reuse);
    if (prepared.inputs === 0) return VALID;
    // Grow-only: a bigger buffer made for this block replaces the kept one.
    const holds = !this.bufferBusy;
    if (holds) {
      this.buffer = prepared.sab;
      this.bufferBusy = true;
    }
    const stop = (): void => abortTask(prepared.sab);
    signal?.addEventListener('abort', stop, { once: true });
    try {
      return await this.run(prepared, scriptTask(prepared, flags, this.generation++, this.sigCache?.shared), work, fault);
    } finally {
      signal?.removeEventListener('abort', stop);
      // Every task has settled (run awaits them all): no thread reads the buffer any more.
      if (holds) this.bufferBusy = false;
    }
  }

  private async run(prepared: PreparedBlock, task: ScriptTask, work: readonly TxScriptWork[], fault?: 'throw' | 'exit'): Promise<ValidationResult> {
    const { sab, chunks } = prepared;
    this.stats.tasks += chunks;
    // Cancellation goes through the buffer's abort flag only: aborting a running Piscina task
    // terminates its thread, while a thread that sees the flag returns within one input.
    let failure: Extract<ScriptTaskResult, { ok: false }> | undefined;
    let crash: unknown;
    let inputs = 0;
    let aborted = false;
    let onlyStartFailures = true;
    await Promise.all(
      Array.from({ length: Math.min(this.threads, chunks) }, (_, i) =>
        this.submit<ScriptTaskResult>(fault !== undefined && i === 0 ? { ...task, fault } : task).then(
          (r) => {
            inputs += r.inputs;
            if (r.ok && r.aborted === true) aborted = true;
            this.stats.ecdsa += r.ecdsa;
            this.stats.schnorr += r.schnorr;
            // The block's first failure, as checking in order finds it: threads that stop at
            // a failure check every input before it, and may return a later one first.
            if (!r.ok && (failure === undefined || r.txIndex < failure.txIndex || (r.txIndex === failure.txIndex && r.inputIndex < failure.inputIndex))) failure = r;
          },
          (err: unknown) => {
            crash ??= err;
            if (!isThreadStartFailure(err)) {
              onlyStartFailures = false;
              // Stop the others: this attempt is lost anyway.
              abortTask(sab);
            }
          },
        ),
      ),
    );
    this.stats.inputs += inputs;
    const lost = (): ValidationResult => {
      const why = crash instanceof Error && crash.name === 'AbortError' && this.threadError !== undefined ? `no thread could start: ${describe(this.threadError)}` : describe(crash);
      return internalError('script-worker-failed', why);
    };
    // A thread that died while checking may have held the block's first failure: the attempt is
    // lost, whatever the others found (a thread that failed to start claimed nothing).
    if (crash !== undefined && !onlyStartFailures) return lost();
    if (failure !== undefined) {
      const w = work.find((x) => x.txIndex === failure!.txIndex)!;
      return scriptFailure(failure.txIndex, failure.inputIndex, failure.error, w.tx);
    }
    // Threads claim chunks until none is left, so a task that never ran (its thread failed to
    // start: Piscina rejects the task it gave a thread that dies starting, say while a dead
    // thread is being replaced) left no input behind: when the tasks that returned, none of them
    // stopped early, checked every input, the block's answer is whole. (An input a task counts is
    // checked and its deferred BIP340 batch settled, unless the task stopped early.)
    if (crash !== undefined && (aborted || inputs !== prepared.inputs)) return lost();
    // VALID only for a block whose every input was checked: a fault in the chunking must fail
    // closed. Stopped early with no failure and no crash means withdrawn by the caller (verify()
    // answers that itself); answered as such here too, so nothing that stops the threads can
    // ever read as VALID.
    if (aborted) return ABORTED;
    if (inputs !== prepared.inputs) return internalError('script-worker-failed', `${inputs} of ${prepared.inputs} inputs checked`);
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

function closedError(): Error {
  return new Error('ScriptPool is closed');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.replace(THREAD_START_FAILED, '') : String(err);
}

function isThreadStartFailure(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith(THREAD_START_FAILED);
}
