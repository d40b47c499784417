// Block-source scoring (bcoin's VerifyError score, Core's peer discouragement, in small): each
// source that hands us blocks has a score in 0..100, starting at 50. New valid blocks raise it,
// consensus-invalid blocks lower it hard, damaged bytes a little, our own failures never. A
// source at or below the ban score, or with too many consensus violations, is banned for a
// while. Records live in the store's `sources` database, which is read on every check, so a
// ban or an unban by another process (`vigil unban`) takes effect at once and survives restarts.

import type { ValidationResult } from '../consensus/validation.js';
import type { ChainStore } from '../store/index.js';

export const INITIAL_SCORE = 50;
/** Milliseconds between commits of changed scores. */
export const FLUSH_MS = 100;
export const MAX_SCORE = 100;

/** How a submission ended, for scoring. */
export type SourceOutcome = 'valid' | 'duplicate' | 'invalid' | 'mutated' | 'malformed' | 'unconnected' | 'error';

export interface ScorePolicy {
  /** A source at or below this score is banned. */
  banScore: number;
  /** Consensus-invalid blocks that ban a source. */
  banViolations: number;
  banSeconds: number;
}

export const DEFAULT_SCORE_POLICY: ScorePolicy = { banScore: 10, banViolations: 3, banSeconds: 86_400 };

/** Score change per outcome. */
export const SCORE_DELTA: Readonly<Record<SourceOutcome, number>> = {
  valid: 1, // a new block that connected, or was stored on a side branch
  duplicate: 0, // resending known blocks earns nothing (or a source could farm its score)
  invalid: -15, // breaks a consensus rule: the sender validated nothing, or attacks us
  mutated: -2, // bytes that do not match their header: possibly damage on the way
  malformed: -2, // not a block at all: likewise
  unconnected: 0, // not connectable yet: its parent is unknown to us (out of order is no offence; the rate limit bounds its cost), or its time is ahead of our clock
  error: 0, // our own failure is never the source's fault
};

export interface SourceRecord {
  score: number;
  valid: number;
  duplicate: number;
  invalid: number;
  mutated: number;
  malformed: number;
  unconnected: number;
  /** Consensus violations since the last ban ended. */
  violations: number;
  /** Milliseconds since the epoch until which the source is banned; 0 when not banned. */
  bannedUntil: number;
  /** Why the source was last banned. */
  banReason?: string;
  firstSeen: number;
  lastSeen: number;
}

export interface SourceView extends SourceRecord {
  source: string;
  banned: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Source names are kept as given, within limits that keep them printable and the key small. */
export function checkSourceName(name: string): string | undefined {
  if (name.length === 0) return 'empty source name';
  if (name.length > 200) return 'source name longer than 200 characters';
  if (!/^[\x21-\x7e]+$/.test(name)) return 'source name must be printable ASCII without spaces';
  return undefined;
}

export function outcomeOf(result: ValidationResult, duplicate: boolean): SourceOutcome {
  switch (result.mode) {
    case 'valid':
      return duplicate ? 'duplicate' : 'valid';
    case 'mutated':
      return 'mutated';
    case 'error':
      return 'error';
    case 'invalid':
      if (result.reason === 'block-decode-failed') return 'malformed';
      if (result.reason === 'prev-blk-not-found') return 'unconnected';
      // Ahead of our clock, not invalid: the block may be fine later (Core: BLOCK_TIME_FUTURE,
      // which it never punishes), and our clock may be the one that is wrong.
      if (result.reason === 'time-too-new') return 'unconnected';
      return 'invalid';
  }
}

function fresh(now: number): SourceRecord {
  return { score: INITIAL_SCORE, valid: 0, duplicate: 0, invalid: 0, mutated: 0, malformed: 0, unconnected: 0, violations: 0, bannedUntil: 0, firstSeen: now, lastSeen: now };
}

function decode(bytes: Uint8Array): SourceRecord {
  return JSON.parse(dec.decode(bytes)) as SourceRecord;
}

export class SourceBook {
  /**
   * Records changed but not yet committed. Scores are advisory, so they are written in one
   * commit every FLUSH_MS rather than one durable commit per submission (a crash forgets at
   * most that much scoring); reads see them first, so no update is lost.
   */
  private readonly pending = new Map<string, SourceRecord>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** The last failed flush (its records stay pending and are tried again). */
  lastError: Error | undefined;

  constructor(
    private readonly store: ChainStore,
    readonly policy: ScorePolicy = DEFAULT_SCORE_POLICY,
    private readonly clock: () => number = Date.now,
  ) {}

  private read(source: string): SourceRecord | undefined {
    const p = this.pending.get(source);
    if (p !== undefined) return { ...p };
    const raw = this.store.getSourceRecord(enc.encode(source));
    return raw === undefined ? undefined : decode(raw);
  }

  /** The source's record (a fresh one if it never sent anything). A ban that ran out reads as lifted. */
  get(source: string): SourceRecord {
    const now = this.clock();
    const r = this.read(source) ?? fresh(now);
    return this.current(r, now);
  }

  /** Milliseconds left on the source's ban, or 0. */
  banRemaining(source: string): number {
    const r = this.read(source);
    if (r === undefined || r.bannedUntil === 0) return 0;
    return Math.max(0, r.bannedUntil - this.clock());
  }

  /** Record a submission's outcome; returns the updated record (banned when this one tipped it). */
  record(source: string, outcome: SourceOutcome): SourceRecord {
    const now = this.clock();
    const r = this.get(source);
    if (outcome === 'error') return r;
    r[outcome]++;
    r.score = Math.max(0, Math.min(MAX_SCORE, r.score + SCORE_DELTA[outcome]));
    if (outcome === 'invalid') r.violations++;
    r.lastSeen = now;
    if (r.bannedUntil === 0) {
      const reason =
        r.violations >= this.policy.banViolations
          ? `${r.violations} consensus-invalid blocks`
          : r.score <= this.policy.banScore
            ? `score ${r.score} at or below ${this.policy.banScore}`
            : undefined;
      if (reason !== undefined) {
        r.bannedUntil = now + this.policy.banSeconds * 1000;
        r.banReason = reason;
      }
    }
    this.pending.set(source, { ...r });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
    return r;
  }

  /** Commit every pending record (the service calls this before it closes the store). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    // Puts issued together go into one LMDB transaction.
    this.flushing = Promise.resolve()
      .then(() => Promise.all(batch.map(([source, r]) => this.store.putSourceRecord(enc.encode(source), enc.encode(JSON.stringify(r))))))
      .then(
      () => {
        for (const [source, r] of batch) if (this.pending.get(source) === r) this.pending.delete(source);
        this.lastError = undefined;
      },
      (err: unknown) => {
        // Kept pending; tried again with the next change or the next flush (a closed store stays failed).
        this.lastError = err as Error;
      },
    );
    await this.flushing;
    this.flushing = undefined;
  }

  /** Lift a ban; false when the source is unknown or not banned. */
  async unban(source: string): Promise<boolean> {
    const r = this.read(source);
    if (r === undefined || r.bannedUntil === 0 || r.bannedUntil <= this.clock()) return false;
    this.pending.delete(source);
    await this.store.putSourceRecord(enc.encode(source), enc.encode(JSON.stringify(this.afterBan(r))));
    return true;
  }

  /** The record as it stands at `now`: a ban that ran out is lifted. */
  private current(r: SourceRecord, now: number): SourceRecord {
    return r.bannedUntil !== 0 && r.bannedUntil <= now ? this.afterBan(r) : r;
  }

  /** A ban ends with a second chance: the starting score and no violations, the counts kept. */
  private afterBan(r: SourceRecord): SourceRecord {
    return { ...r, score: Math.max(r.score, INITIAL_SCORE), violations: 0, bannedUntil: 0 };
  }

  /** Every known source (the pending changes included), in name order. */
  list(): SourceView[] {
    const now = this.clock();
    const all = new Map<string, SourceRecord>();
    for (const { key, value } of this.store.sourceRecords()) all.set(dec.decode(key), decode(value));
    for (const [source, r] of this.pending) all.set(source, { ...r });
    return [...all]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([source, rec]) => {
        const r = this.current(rec, now);
        return { source, ...r, banned: r.bannedUntil > now };
      });
  }
}
