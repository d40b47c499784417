// The health check: one overall status from the parts an operator cares about. `unhealthy`
// when the engine cannot do its job (the store does not answer, the worker pool is gone, it
// is shutting down), `degraded` when it works but needs a look (lost worker threads, a full
// ingest queue, an old tip, source scores not saved), `healthy` otherwise.

import type { ChainState } from '../chain/chain-state.js';
import type { ScriptPool } from '../pipeline/script-pool.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ComponentHealth {
  status: HealthStatus;
  detail: string;
  [k: string]: unknown;
}

export interface HealthReport {
  status: HealthStatus;
  components: {
    store: ComponentHealth;
    workers: ComponentHealth;
    queue: ComponentHealth;
    tip: ComponentHealth;
  };
}

export interface HealthInputs {
  chain: ChainState;
  pool: ScriptPool | undefined;
  /** `bytes`: held by queued blocks and bodies being read; `maxBytes`: the budget they share. */
  queue: { depth: number; capacity: number; closed: boolean; bytes?: number; maxBytes?: number };
  /** Why the last store write failed, while no later one has succeeded. */
  storeWriteError?: string;
  /** Why the last write of source scores failed, while no later one has succeeded (they are retried). */
  scoreWriteError?: string;
  /** A tip older than this (seconds, by its header time) makes the engine `degraded`. */
  maxTipAgeSeconds: number;
  /** Seconds since the epoch. */
  now: number;
}

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

export function checkHealth(h: HealthInputs): HealthReport {
  let store: ComponentHealth;
  try {
    const tip = h.chain.store.getTip();
    store =
      tip === undefined
        ? { status: 'unhealthy', detail: 'the store has no tip' }
        : h.storeWriteError !== undefined
          ? { status: 'unhealthy', detail: `reads answer, but the last write failed: ${h.storeWriteError}`, utxos: h.chain.store.utxoCount() }
          : h.scoreWriteError !== undefined
            ? { status: 'degraded', detail: `reads answer, but the last write of source scores failed: ${h.scoreWriteError}`, utxos: h.chain.store.utxoCount() }
            : { status: 'healthy', detail: 'reads answer', utxos: h.chain.store.utxoCount() };
  } catch (err) {
    store = { status: 'unhealthy', detail: `the store does not answer: ${(err as Error).message}` };
  }

  let workers: ComponentHealth;
  const pool = h.pool;
  if (pool === undefined || pool.threads === 0) {
    workers = { status: pool?.closed === true ? 'unhealthy' : 'healthy', detail: 'scripts are checked on the main thread', threads: 0 };
  } else if (pool.closed) {
    workers = { status: 'unhealthy', detail: 'the worker pool is closed', threads: pool.threads, live: 0 };
  } else {
    const live = pool.liveThreads;
    const base = { threads: pool.threads, live, busyRatio: pool.utilization, retries: pool.stats.retries, internalErrors: pool.stats.internalErrors };
    workers =
      live === 0
        ? { status: 'unhealthy', detail: 'no worker thread is alive', ...base }
        : live < pool.threads
          ? { status: 'degraded', detail: `${live} of ${pool.threads} worker threads alive`, ...base }
          : { status: 'healthy', detail: `${live} worker threads`, ...base };
  }

  const q = h.queue;
  const sizes = { depth: q.depth, capacity: q.capacity, ...(q.bytes === undefined ? {} : { bytes: q.bytes, maxBytes: q.maxBytes }) };
  const queue: ComponentHealth = q.closed
    ? { status: 'unhealthy', detail: 'shutting down: not taking blocks', ...sizes }
    : q.depth >= q.capacity
      ? { status: 'degraded', detail: 'the ingest queue is full: submissions get 503', ...sizes }
      : q.bytes !== undefined && q.maxBytes !== undefined && q.bytes >= q.maxBytes
        ? { status: 'degraded', detail: 'the ingest byte budget is spent (queued blocks and bodies being read): submissions get 503', ...sizes }
        : { status: 'healthy', detail: 'taking blocks', ...sizes };

  const t = h.chain.tip;
  const age = h.now - t.time;
  const tip: ComponentHealth =
    age > h.maxTipAgeSeconds
      ? { status: 'degraded', detail: `the tip is ${age} s old (more than ${h.maxTipAgeSeconds} s): catching up, or no new blocks`, height: t.height, hash: t.hex, ageSeconds: age }
      : { status: 'healthy', detail: 'recent tip', height: t.height, hash: t.hex, ageSeconds: age };

  const components = { store, workers, queue, tip };
  let status: HealthStatus = 'healthy';
  for (const c of Object.values(components)) if (RANK[c.status] > RANK[status]) status = c.status;
  return { status, components };
}
