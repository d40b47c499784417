// Prometheus metrics for the engine (prom-client). Counters and histograms are updated by
// the chain's observer; gauges and pool/cache totals are read when Prometheus scrapes, so
// the hot path pays only for a few additions and histogram bucket searches per block.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChainObserver, ChainStage } from '../chain/chain-state.js';
import type { ValidationResult } from '../consensus/validation.js';

/** What the gauges read at scrape time; every reader is optional. */
export interface MetricSources {
  utxoCount?: () => number;
  queueDepth?: () => number;
  workerBusyRatio?: () => number;
  /** Cumulative signature verifications by kind (from the script pool). */
  signatures?: () => { ecdsa: number; schnorr: number };
  /** Cumulative signature-cache hits. */
  sigCacheHits?: () => number;
  sourceScores?: () => Iterable<{ source: string; score: number; valid: number; banned: boolean }>;
}

/** Seconds, from 50 µs (a tiny block's parse) to 30 s (a huge block's scripts on one core). */
const STAGE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** At most this many vigil_source_score series (the lowest scores). */
export const MAX_SOURCE_SERIES = 100;

/** Raise a counter to a cumulative total read elsewhere (counters only go up). */
function follow(counter: Counter<string>, labels: Record<string, string> | undefined, total: number, last: { v: number }): void {
  if (total > last.v) {
    if (labels === undefined) counter.inc(total - last.v);
    else counter.inc(labels, total - last.v);
  }
  last.v = total;
}

export class VigilMetrics {
  readonly registry = new Registry();
  readonly blocksConnected: Counter;
  readonly blocksRejected: Counter<'reason'>;
  readonly transactions: Counter;
  readonly inputs: Counter;
  readonly signatures: Counter<'kind'>;
  readonly sigCacheHits: Counter;
  readonly stageDuration: Histogram<'stage'>;
  readonly queueDepth: Gauge;
  readonly workerBusy: Gauge;
  readonly utxoCount: Gauge;
  readonly reorgs: Counter;
  readonly blocksDisconnected: Counter;
  readonly sourceScore: Gauge<'source'>;
  readonly submissions: Counter<'outcome'>;
  readonly internalErrors: Counter<'reason'>;
  private readonly stages: Record<ChainStage, ReturnType<Histogram<'stage'>['labels']>>;
  private sources: MetricSources;

  constructor(sources: MetricSources = {}, opts: { defaultMetrics?: boolean } = {}) {
    this.sources = sources;
    const self = this;
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.blocksConnected = new Counter({ name: 'vigil_blocks_connected_total', help: 'Blocks connected to the active chain', registers });
    this.blocksRejected = new Counter({
      name: 'vigil_blocks_rejected_total',
      help: "Blocks answered invalid or mutated, by Bitcoin Core's reject reason (bodies that are not blocks, block-decode-failed, and blocks not connectable yet, prev-blk-not-found or time-too-new, included)",
      labelNames: ['reason'],
      registers,
    });
    this.transactions = new Counter({ name: 'vigil_transactions_total', help: 'Transactions in connected blocks', registers });
    this.inputs = new Counter({ name: 'vigil_inputs_total', help: 'Transaction inputs (coinbase excluded) in connected blocks', registers });
    const sigLast = { ecdsa: { v: 0 }, schnorr: { v: 0 } };
    const signatures = new Counter({
      name: 'vigil_signatures_verified_total',
      help: 'Signature verifications run by the script checks (cache hits excluded), by kind',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const s = self.sources.signatures?.();
        if (s === undefined) return;
        follow(signatures, { kind: 'ecdsa' }, s.ecdsa, sigLast.ecdsa);
        follow(signatures, { kind: 'schnorr' }, s.schnorr, sigLast.schnorr);
      },
    });
    this.signatures = signatures;
    const hitLast = { v: 0 };
    const sigCacheHits = new Counter({
      name: 'vigil_sigcache_hits_total',
      help: 'Signature checks answered by the signature cache',
      registers,
      collect() {
        const h = self.sources.sigCacheHits?.();
        if (h !== undefined) follow(sigCacheHits, undefined, h, hitLast);
      },
    });
    this.sigCacheHits = sigCacheHits;
    this.stageDuration = new Histogram({
      name: 'vigil_stage_duration_seconds',
      help: 'Time a block spends in each stage: parse, precheck, coins (fetch and input checks), scripts, commit',
      labelNames: ['stage'] as const,
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.stages = {
      parse: this.stageDuration.labels('parse'),
      precheck: this.stageDuration.labels('precheck'),
      coins: this.stageDuration.labels('coins'),
      scripts: this.stageDuration.labels('scripts'),
      commit: this.stageDuration.labels('commit'),
    };
    /** A gauge set from `read` whenever Prometheus scrapes (left alone when nothing is bound). */
    const scraped = (name: string, help: string, read: () => number | undefined): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = read();
          if (v !== undefined) this.set(v);
        },
      });
    this.queueDepth = scraped('vigil_ingest_queue_depth', 'Blocks waiting in the ingest queue or being processed', () => self.sources.queueDepth?.());
    this.workerBusy = scraped(
      'vigil_worker_busy_ratio',
      "Share of the script pool's thread capacity spent running tasks (Piscina's utilization)",
      () => self.sources.workerBusyRatio?.(),
    );
    this.utxoCount = scraped('vigil_utxo_count', 'Unspent transaction outputs in the UTXO set', () => self.sources.utxoCount?.());
    this.reorgs = new Counter({ name: 'vigil_reorgs_total', help: 'Reorganisations: the active chain moved to another branch', registers });
    this.blocksDisconnected = new Counter({ name: 'vigil_blocks_disconnected_total', help: 'Blocks disconnected by reorganisations', registers });
    const sourceScore = new Gauge({
      name: 'vigil_source_score',
      help: 'Score of each block source that gave a new valid block (0-100; a new source starts at 50): the lowest 100',
      labelNames: ['source'] as const,
      registers,
      collect() {
        const all = self.sources.sourceScores?.();
        if (all === undefined) return;
        sourceScore.reset();
        // Source names come from clients. A name is exported once it gave a new valid block (which
        // costs its proof of work), not for junk: label values then appear no faster than blocks
        // do. Of those, the lowest scores, a bounded number of series. vigil_sources counts all.
        const proven = [...all].filter((s) => s.valid > 0);
        const lowest = proven.sort((a, b) => a.score - b.score).slice(0, MAX_SOURCE_SERIES);
        for (const s of lowest) sourceScore.set({ source: s.source }, s.score);
      },
    });
    const sourceCount = new Gauge({
      name: 'vigil_sources',
      help: 'Block sources with a record, by state: banned, or not',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const all = self.sources.sourceScores?.();
        if (all === undefined) return;
        let banned = 0;
        let active = 0;
        for (const s of all) {
          if (s.banned) banned++;
          else active++;
        }
        sourceCount.set({ state: 'banned' }, banned);
        sourceCount.set({ state: 'active' }, active);
      },
    });
    this.sourceScore = sourceScore;
    this.submissions = new Counter({
      name: 'vigil_ingest_submissions_total',
      help: 'Block submissions by how they were answered: valid, duplicate, invalid, mutated, malformed, unconnected, rate_limited, banned, queue_full, too_large, shutting_down, error',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.internalErrors = new Counter({
      name: 'vigil_internal_errors_total',
      help: "The engine's own failures (store, workers), never blamed on a block's source",
      labelNames: ['reason'] as const,
      registers,
    });
  }

  /** Add or replace what the gauges read (a service binds its queue and pool once they exist). */
  bind(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The chain observer that feeds these metrics. */
  chainObserver(): ChainObserver {
    return {
      stage: (stage, seconds) => this.stages[stage].observe(seconds),
      connected: (b) => {
        this.blocksConnected.inc();
        this.transactions.inc(b.txs);
        this.inputs.inc(b.inputs);
      },
      disconnected: () => this.blocksDisconnected.inc(),
      reorg: () => this.reorgs.inc(),
    };
  }

  /** Count a block's verdict (valid blocks are counted when connected). */
  blockResult(result: ValidationResult): void {
    // The label is the reason without a parenthesised detail: 'bad-version(0x%08x)' carries a
    // sender-chosen value, and a label per value would let senders grow the series without bound.
    if (result.mode === 'invalid' || result.mode === 'mutated') this.blocksRejected.inc({ reason: result.reason.replace(/\s*\(.*\)$/, '') });
    else if (result.mode === 'error') this.internalErrors.inc({ reason: result.reason });
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
