// A token bucket per block source: `rate` submissions a second on average, bursts of up to
// `burst`. Buckets are kept for at most `maxSources` sources (the least recently used one
// goes first; a full bucket forgets nothing by going), so many sources cannot grow memory.

export interface RateLimitOptions {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the largest burst. */
  burst: number;
  maxSources?: number;
  /** Milliseconds. */
  clock?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxSources: number;
  private readonly clock: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.rate > 0) || !(opts.burst >= 1)) throw new RangeError('rate must be > 0 and burst >= 1');
    this.maxSources = opts.maxSources ?? 10_000;
    this.clock = opts.clock ?? Date.now;
  }

  /** Take one token for `source`, or say how long until one is there. */
  take(source: string): TakeResult {
    const now = this.clock();
    const { rate, burst } = this.opts;
    let b = this.buckets.get(source);
    if (b === undefined) {
      b = { tokens: burst, at: now };
      if (this.buckets.size >= this.maxSources) this.evictOne();
    } else {
      this.buckets.delete(source); // re-inserted below: Map order is recency order
      // A wall clock stepped back (NTP) adds nothing, and takes nothing either. No time, no
      // tokens: with rate Infinity, 0 ms × Infinity is NaN, which left the bucket NaN for good.
      const elapsed = now - b.at;
      if (elapsed > 0) b.tokens = Math.min(burst, b.tokens + (elapsed / 1000) * rate);
      b.at = now;
    }
    this.buckets.set(source, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate)) };
  }

  private evictOne(): void {
    const oldest = this.buckets.keys().next();
    if (oldest.done !== true) this.buckets.delete(oldest.value);
  }

  get size(): number {
    return this.buckets.size;
  }
}
