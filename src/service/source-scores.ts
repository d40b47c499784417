// Block-source scoring (bcoin's VerifyError score, Core's peer discouragement, in small): each
// source that hands us blocks has a score in 0..100, starting at 50. New valid blocks raise it,
// consensus-invalid blocks lower it hard, damaged bytes a little, our own failures never. A
// source at or below the ban score, or with too many consensus violations, is banned for a
// while. Records live in the store's `sources` database, which is read on every check, so a
// ban or an unban by another process (`vigil unban`) takes effect at once and survives restarts.
// Their number is bounded (maxRecords): past it, the sources least worth remembering go.

import type { ValidationResult } from '../consensus/validation.js';
import { equalBytes } from '../primitives/bytes.js';
import { StoreError, type ChainStore } from '../store/index.js';

export const INITIAL_SCORE = 50;
/** Milliseconds between commits of changed scores. */
export const FLUSH_MS = 100;
/** Milliseconds before a failed commit is tried again, when no outcome comes meanwhile. */
export const RETRY_MS = 1000;
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
      // Known invalid already: resending it is no new offence (Core spares inbound peers
      // BLOCK_CACHED_INVALID), and the relay did not make it; its maker was punished once.
      if (duplicate && result.reason === 'duplicate-invalid') return 'duplicate';
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

function encode(r: SourceRecord): Uint8Array {
  return enc.encode(JSON.stringify(r));
}

/** Records kept by default: past it, the sources least worth remembering are forgotten. */
export const DEFAULT_MAX_SOURCE_RECORDS = 10_000;

/** One submission's outcome, not yet committed. */
interface Change {
  outcome: Exclude<SourceOutcome, 'error'>;
  at: number;
}

/**
 * A source's outcomes not yet committed. `base`, when set, is the record they apply to in place of
 * the committed one: a failed commit folds the outcomes it could not write into it (see flushPending).
 */
interface Pending {
  base?: SourceRecord;
  /** The committed record `base` was folded over: a ban it held that is lifted since (vigil unban) is lifted in `base` too. */
  over?: SourceRecord;
  changes: Change[];
}

/** Records in the order they are forgotten: those not banned, least recently seen first, then the bans that end soonest. */
function compareKeep(a: SourceRecord, b: SourceRecord, now: number): number {
  const rank = (r: SourceRecord): [number, number] => (r.bannedUntil > now ? [1, r.bannedUntil] : [0, r.lastSeen]);
  const [ka, ta] = rank(a);
  const [kb, tb] = rank(b);
  return ka - kb || ta - tb;
}

export class SourceBook {
  /**
   * Outcomes recorded but not yet committed. Scores are advisory, so they are written in one
   * commit every FLUSH_MS rather than one durable commit per submission (a crash forgets at
   * most that much scoring). They are kept as outcomes, not as records: the flush applies them
   * to each record as committed when it writes, so a change another process made meanwhile
   * (`vigil unban`) is built on, not overwritten (unless a commit failed: flushPending). Reads apply
   * them too, so no update is lost.
   */
  private readonly pending = new Map<string, Pending>();
  /** Outcomes the flush in progress is writing, and the records it writes once it has read them. */
  private readonly inFlight = new Map<string, Pending & { record?: SourceRecord }>();
  /** Each outcome list's last replay (replayed()). */
  private readonly replays = new WeakMap<Change[], { from: string; applied: number; record: SourceRecord }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** The last failed flush (its outcomes stay pending and are tried again). */
  lastError: Error | undefined;

  /**
   * `maxRecords` bounds the records kept: sources named by clients (or by addresses) are as many
   * as clients care to invent, and each would otherwise be kept for good.
   */
  constructor(
    private readonly store: ChainStore,
    readonly policy: ScorePolicy = DEFAULT_SCORE_POLICY,
    private readonly clock: () => number = Date.now,
    readonly maxRecords: number = DEFAULT_MAX_SOURCE_RECORDS,
  ) {
    if (!(Number.isSafeInteger(maxRecords) && maxRecords >= 1)) throw new RangeError('maxRecords must be a positive integer');
    // At or above the starting score, every new source would be banned at its first outcome.
    if (!(policy.banScore < INITIAL_SCORE)) throw new RangeError(`banScore must be below ${INITIAL_SCORE}, the score a new source starts at (got ${policy.banScore})`);
  }

  private stored(source: string): SourceRecord | undefined {
    const raw = this.store.getSourceRecord(enc.encode(source));
    return raw === undefined ? undefined : decode(raw);
  }

  /** The committed record `stored` with the outcomes not yet committed applied. */
  private withChanges(source: string, stored: SourceRecord | undefined): SourceRecord | undefined {
    const f = this.inFlight.get(source);
    const base = f === undefined ? stored : (f.record ?? this.replayed(this.baseOf(f, stored), f.changes));
    const p = this.pending.get(source);
    return p === undefined ? base : this.replayed(p.base === undefined ? base : this.baseOf(p, stored), p.changes);
  }

  /** What `p`'s outcomes apply to, `stored` being the record as committed now (see Pending). */
  private baseOf(p: Pending, stored: SourceRecord | undefined): SourceRecord | undefined {
    if (p.base === undefined) return stored;
    const lifted = p.over !== undefined && p.over.bannedUntil !== 0 && stored !== undefined && stored.bannedUntil === 0;
    return lifted && p.base.bannedUntil !== 0 ? this.afterBan(p.base) : p.base;
  }

  /**
   * replay() from where the list's last replay left off, when that began from the same record: a
   * list only grows, so a read applies the outcomes added since. Replaying every outcome on every
   * read cost time in their number squared while commits failed and outcomes piled up (1.3 ms a
   * read at 10,000 pending).
   */
  private replayed(base: SourceRecord | undefined, changes: Change[]): SourceRecord {
    if (changes.length === 0 && base !== undefined) return { ...base };
    const from = JSON.stringify(base ?? null);
    const last = this.replays.get(changes);
    let r: SourceRecord;
    if (last !== undefined && last.from === from) {
      r = last.record;
      for (let i = last.applied; i < changes.length; i++) r = this.apply(r, changes[i]!);
    } else {
      r = this.replay(base, changes);
    }
    this.replays.set(changes, { from, applied: changes.length, record: r });
    return { ...r };
  }

  private read(source: string): SourceRecord | undefined {
    return this.withChanges(source, this.stored(source));
  }

  /** What waits for a commit: sources, and outcomes not yet folded into a record (flushPending). */
  get waiting(): { sources: number; outcomes: number } {
    let outcomes = 0;
    for (const p of this.pending.values()) outcomes += p.changes.length;
    return { sources: this.pending.size, outcomes };
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
    if (outcome === 'error') return this.get(source);
    const change = { outcome, at: this.clock() };
    const p = this.pending.get(source);
    if (p === undefined) this.pending.set(source, { changes: [change] });
    else p.changes.push(change);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
    return this.get(source);
  }

  /** `base` (a fresh record when none) after `changes`, in order. */
  private replay(base: SourceRecord | undefined, changes: readonly Change[]): SourceRecord {
    let r = base ?? fresh(changes[0]?.at ?? this.clock());
    for (const c of changes) r = this.apply(r, c);
    return r;
  }

  /** One outcome's effect on a record: its count and score, and a ban when it tips one. */
  private apply(rec: SourceRecord, { outcome, at }: Change): SourceRecord {
    const r = { ...this.current(rec, at) };
    r[outcome]++;
    r.score = Math.max(0, Math.min(MAX_SCORE, r.score + SCORE_DELTA[outcome]));
    if (outcome === 'invalid') r.violations++;
    r.lastSeen = at;
    if (r.bannedUntil === 0) {
      const reason =
        r.violations >= this.policy.banViolations
          ? `${r.violations} consensus-invalid blocks`
          : r.score <= this.policy.banScore
            ? `score ${r.score} at or below ${this.policy.banScore}`
            : undefined;
      if (reason !== undefined) {
        r.bannedUntil = at + this.policy.banSeconds * 1000;
        r.banReason = reason;
      }
    }
    return r;
  }

  /** Commit every pending outcome (the service calls this before it closes the store). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // One flush at a time, each after the one before.
    const run = (this.flushing ?? Promise.resolve()).then(() => this.flushPending());
    this.flushing = run;
    return run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
  }

  /**
   * Never rejects: a failure is kept in lastError, and the outcomes it could not write are folded
   * into one record a source, built on the record as committed (pending's `base`): while commits
   * keep failing (a full disk), what waits stays one record a source, not a list that grows with
   * every submission, and at most maxRecords sources (the least worth keeping dropped, as prune()
   * does). Of the changes another process commits meanwhile, such a record keeps a lifted ban
   * (vigil unban: Pending's `over`); others are written over.
   */
  private async flushPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [source, p] of batch) this.inFlight.set(source, { ...p });
    try {
      // One LMDB transaction, reading each record as committed (see pending).
      await this.store.updateSourceRecords(
        batch.map(([source]) => enc.encode(source)),
        (i, current) => {
          const [source, p] = batch[i]!;
          const record = this.replay(this.baseOf(p, current === undefined ? undefined : decode(current)), p.changes);
          this.inFlight.get(source)!.record = record;
          return encode(record);
        },
      );
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      this.fold(batch);
      // Tried again by itself (the next outcome would too, but none may come): what waits is
      // only in memory. Only LMDB's own failures (a full disk) may pass; a closed or broken store
      // takes no more writes, and a record that does not decode fails every try alike.
      if (err instanceof StoreError && err.code === 'io') this.timer ??= setTimeout(() => void this.flush(), RETRY_MS).unref();
      return;
    } finally {
      for (const [source] of batch) this.inFlight.delete(source);
    }
    try {
      if (this.store.sourceRecordCount() > this.maxRecords) await this.prune();
    } catch (err) {
      this.lastError = err as Error;
    }
  }

  /** A failed flush's outcomes, folded into pending before any recorded meanwhile (flushPending). */
  private fold(batch: ReadonlyArray<[string, Pending]>): void {
    for (const [source, p] of batch) {
      let committed: SourceRecord | undefined;
      try {
        committed = this.stored(source);
      } catch {
        if (p.base === undefined) {
          // The store does not answer reads either: these outcomes wait as a list for the next try.
          this.pending.set(source, { changes: [...p.changes, ...(this.pending.get(source)?.changes ?? [])] });
          continue;
        }
        committed = p.over;
      }
      // Outcomes recorded during the flush were taken from this record's inFlight state, which
      // replays the same outcomes on the same base: they go on top of the folded record.
      const base = this.replay(this.baseOf(p, committed), p.changes);
      this.pending.set(source, { base, ...(committed === undefined ? {} : { over: committed }), changes: this.pending.get(source)?.changes ?? [] });
    }
    if (this.pending.size <= this.maxRecords) return;
    const now = this.clock();
    const ranked = [...this.pending].map(([source, p]) => ({ source, r: this.replay(p.base, p.changes) }));
    ranked.sort((a, b) => compareKeep(a.r, b.r, now));
    for (const { source } of ranked.slice(0, ranked.length - this.maxRecords)) this.pending.delete(source);
  }

  /**
   * Forget records until a tenth fewer than maxRecords are left (so the scan is rare): first the
   * sources not banned, least recently seen first, then the bans that end soonest. A forgotten
   * source starts again from a fresh record. A record changed since the scan is kept.
   */
  private async prune(): Promise<void> {
    const now = this.clock();
    const keep = Math.max(1, Math.floor(this.maxRecords * 0.9));
    const all = this.store.sourceRecords().map(({ key, value }) => ({ key, value, r: decode(value) }));
    if (all.length <= keep) return;
    all.sort((a, b) => compareKeep(a.r, b.r, now));
    const victims = all.slice(0, all.length - keep);
    await this.store.updateSourceRecords(
      victims.map((v) => v.key),
      (i, current) => (current !== undefined && equalBytes(current, victims[i]!.value) ? undefined : current),
    );
  }

  /** Lift a ban; false when the source is unknown or not banned. This process's pending outcomes are committed first. */
  async unban(source: string): Promise<boolean> {
    await this.flush();
    let lifted = false;
    await this.store.updateSourceRecords([enc.encode(source)], (_, current) => {
      if (current === undefined) return undefined;
      const r = decode(current);
      if (r.bannedUntil === 0 || r.bannedUntil <= this.clock()) return current;
      lifted = true;
      return encode(this.afterBan(r));
    });
    return lifted;
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
    const stored = new Map<string, SourceRecord | undefined>();
    for (const { key, value } of this.store.sourceRecords()) stored.set(dec.decode(key), decode(value));
    for (const source of [...this.inFlight.keys(), ...this.pending.keys()]) if (!stored.has(source)) stored.set(source, undefined);
    return [...stored].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([source, rec]) => this.view(source, this.withChanges(source, rec)!, now));
  }

  /** One source as list() shows it (its pending changes included), or undefined when it is not known. */
  find(source: string): SourceView | undefined {
    const r = this.read(source);
    return r === undefined ? undefined : this.view(source, r, this.clock());
  }

  private view(source: string, rec: SourceRecord, now: number): SourceView {
    const r = this.current(rec, now);
    return { source, ...r, banned: r.bannedUntil > now };
  }
}
