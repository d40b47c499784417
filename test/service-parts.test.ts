// The service's parts on their own: the token bucket, the bounded ingest queue, source
// scoring and bans on a real store, and the health verdicts.

import { describe, it } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { strict as assert } from 'node:assert';
import { RateLimiter } from '../src/service/rate-limit.js';
import { IngestQueue, QueueClosedError } from '../src/service/ingest-queue.js';
import { INITIAL_SCORE, SCORE_DELTA, SourceBook, checkSourceName, outcomeOf } from '../src/service/source-scores.js';
import { createLogger } from '../src/service/logger.js';
import { ChainStore } from '../src/store/index.js';
import { internalError, invalid, mutated, VALID } from '../src/consensus/validation.js';
import { checkHealth } from '../src/service/health.js';
import { MAX_SOURCE_SERIES, VigilMetrics } from '../src/metrics/metrics.js';
import type { ChainState } from '../src/chain/chain-state.js';
import type { ScriptPool } from '../src/pipeline/script-pool.js';
import { tempDir } from './helpers/regtest-chain.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

describe('RateLimiter (token bucket)', () => {
  it('lets a burst through, then one token per 1/rate seconds', () => {
    let now = 0;
    const rl = new RateLimiter({ rate: 2, burst: 3, clock: () => now });
    assert.deepEqual([rl.take('a'), rl.take('a'), rl.take('a')].map((r) => r.ok), [true, true, true]);
    const refused = rl.take('a');
    assert.deepEqual(refused, { ok: false, retryAfterSeconds: 1 });
    now += 499;
    assert.equal(rl.take('a').ok, false);
    now += 1; // 500 ms: one token at 2/s
    assert.equal(rl.take('a').ok, true);
    assert.equal(rl.take('b').ok, true, 'each source has its own bucket');
    now += 60_000;
    assert.deepEqual([rl.take('a'), rl.take('a'), rl.take('a'), rl.take('a')].map((r) => r.ok), [true, true, true, false], 'refill stops at the burst');
  });

  it('a wall clock stepped back takes no tokens: the bucket refills from where the clock went', () => {
    let now = 100_000;
    const rl = new RateLimiter({ rate: 1, burst: 2, clock: () => now });
    assert.equal(rl.take('a').ok, true);
    now -= 60_000; // the clock is set back a minute
    assert.equal(rl.take('a').ok, true, 'the token left is still there');
    assert.equal(rl.take('a').ok, false);
    now += 1_000;
    assert.equal(rl.take('a').ok, true, 'one second after the step, one token');
  });

  it('says how long to wait when the rate is below one a second', () => {
    const rl = new RateLimiter({ rate: 0.1, burst: 1, clock: () => 0 });
    assert.equal(rl.take('a').ok, true);
    assert.deepEqual(rl.take('a'), { ok: false, retryAfterSeconds: 10 });
  });

  it('keeps at most maxSources buckets, dropping the least recently used', () => {
    const rl = new RateLimiter({ rate: 1, burst: 1, maxSources: 2, clock: () => 0 });
    rl.take('a');
    rl.take('b');
    rl.take('a');
    rl.take('c'); // evicts b
    assert.equal(rl.size, 2);
    assert.equal(rl.take('a').ok, false, 'a was kept (used recently)');
    assert.equal(rl.take('b').ok, true, 'b was forgotten: a fresh bucket');
  });

  it('Retry-After is rounded up: waiting that long is enough, and a part-filled bucket waits only for the part missing', () => {
    let now = 0;
    const rl = new RateLimiter({ rate: 0.3, burst: 2, clock: () => now });
    assert.deepEqual([rl.take('a').ok, rl.take('a').ok], [true, true]);
    // An empty bucket at 0.3 a second: 3.33 s to the next token, said as 4.
    assert.deepEqual(rl.take('a'), { ok: false, retryAfterSeconds: 4 });
    now += 4000;
    assert.equal(rl.take('a').ok, true, 'after the wait it was told, the source gets in');
    // 0.2 token was left over; 2 s later 0.8 is there: 0.67 s more is said as 1, not a whole 4.
    now += 2000;
    assert.deepEqual(rl.take('a'), { ok: false, retryAfterSeconds: 1 });
    now += 1000;
    assert.equal(rl.take('a').ok, true);
  });

  it('keeps 10,000 buckets by default: a source is not forgotten because others came', () => {
    const rl = new RateLimiter({ rate: 1, burst: 1, clock: () => 0 });
    assert.equal(rl.take('a').ok, true);
    for (let i = 1; i < 9_999; i++) rl.take(`s${i}`);
    assert.equal(rl.take('a').ok, false, 'a is remembered among 9,999 sources');
    rl.take('b');
    assert.equal(rl.size, 10_000);
    rl.take('c');
    assert.equal(rl.size, 10_000, 'past 10,000 the least recently used bucket goes');
    assert.equal(rl.take('a').ok, false, 'a was used recently: kept');
    assert.equal(rl.take('s1').ok, true, 's1 was the least recently used: forgotten, a fresh bucket');
  });

  it('rate Infinity (no limit but the burst): takes in one millisecond never lock a source out, and a refusal says when to come back', () => {
    let now = 1_000;
    const rl = new RateLimiter({ rate: Infinity, burst: 2, clock: () => now });
    assert.equal(rl.take('a').ok, true);
    assert.equal(rl.take('a').ok, true, 'the burst, in the same millisecond');
    assert.deepEqual(rl.take('a'), { ok: false, retryAfterSeconds: 1 });
    now += 1;
    assert.equal(rl.take('a').ok, true, 'a millisecond later the bucket is full again');
    now += 60_000;
    assert.equal(rl.take('a').ok, true);
  });

  it('refuses a nonsense configuration', () => {
    assert.throws(() => new RateLimiter({ rate: 0, burst: 1 }), RangeError);
    assert.throws(() => new RateLimiter({ rate: 1, burst: 0 }), RangeError);
  });
});

describe('IngestQueue', () => {
  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    return { promise, open };
  }

  it('runs jobs one at a time in arrival order, and refuses beyond capacity', async () => {
    const order: number[] = [];
    const g = gate();
    let running = 0;
    const q = new IngestQueue<number, number>(
      async (n) => {
        running++;
        assert.equal(running, 1, 'one job at a time');
        await g.promise;
        order.push(n);
        running--;
        return n * 10;
      },
      () => 1,
      { capacity: 3, maxBytes: 100 },
    );
    const a = q.offer(1);
    const b = q.offer(2);
    const c = q.offer(3);
    assert.equal(q.offer(4), undefined, 'full at capacity (in flight counts)');
    assert.equal(q.depth, 3);
    g.open();
    assert.deepEqual(await Promise.all([a, b, c]), [10, 20, 30]);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(q.depth, 0);
    assert.equal(q.queuedBytes, 0);
  });

  it('is bounded in bytes, but always takes one job when empty', async () => {
    const g = gate();
    const q = new IngestQueue<number, number>(async (n) => (await g.promise, n), (n) => n, { capacity: 10, maxBytes: 100 });
    const big = q.offer(500);
    assert.notEqual(big, undefined, 'an empty queue takes even an oversized job');
    assert.equal(q.offer(1), undefined, 'over the byte bound');
    g.open();
    assert.equal(await big, 500);
    const sixty = q.offer(60);
    const forty = q.offer(40);
    assert.notEqual(sixty, undefined);
    assert.notEqual(forty, undefined);
    // Jobs offered after the queue ran dry are run too.
    assert.deepEqual(await Promise.all([sixty, forty]), [60, 40]);
    assert.equal(q.queuedBytes, 0);
  });

  it('a capacity of one is allowed (one block at a time, none waiting); less is refused', async () => {
    assert.throws(() => new IngestQueue<number, number>(async (n) => n, () => 1, { capacity: 0, maxBytes: 10 }), RangeError);
    const g = gate();
    const q = new IngestQueue<number, number>(async (n) => (await g.promise, n), () => 1, { capacity: 1, maxBytes: 10 });
    const one = q.offer(1);
    assert.notEqual(one, undefined);
    assert.equal(q.offer(2), undefined, 'the one in flight fills it');
    g.open();
    assert.equal(await one, 1);
    assert.equal(await q.offer(3), 3);
  });

  it('keeps running jobs in order past a thousand of them', async () => {
    const q = new IngestQueue<number, number>(async (n) => n, () => 1, { capacity: 4, maxBytes: 4 });
    for (let i = 0; i < 1100; i++) assert.equal(await q.offer(i), i);
    assert.deepEqual(await Promise.all([q.offer(1100), q.offer(1101), q.offer(1102)]), [1100, 1101, 1102]);
    assert.equal(q.depth, 0);
  });

  it('a failing job rejects its own promise only', async () => {
    const q = new IngestQueue<number, number>(async (n) => {
      if (n === 2) throw new Error('boom');
      return n;
    }, () => 1, { capacity: 5, maxBytes: 5 });
    const r = await Promise.allSettled([q.offer(1)!, q.offer(2)!, q.offer(3)!]);
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
  });

  it('close lets the job in flight finish and drops the rest with QueueClosedError', async () => {
    const g = gate();
    const done: number[] = [];
    const q = new IngestQueue<number, number>(async (n) => (await g.promise, done.push(n), n), () => 1, { capacity: 5, maxBytes: 5 });
    const first = q.offer(1)!;
    const second = q.offer(2)!;
    const closing = q.close();
    assert.equal(q.offer(3), undefined, 'closed: takes nothing');
    g.open();
    assert.equal(await closing, 1, 'one job dropped');
    assert.equal(await first, 1);
    await assert.rejects(second, QueueClosedError);
    assert.deepEqual(done, [1], 'the dropped job never ran');
    assert.equal(q.queuedBytes, 0, 'the dropped jobs hold no bytes');
  });

  it('close resolves only once the job in flight has finished', async () => {
    const g = gate();
    const q = new IngestQueue<number, number>(async (n) => (await g.promise, n), () => 1, { capacity: 5, maxBytes: 5 });
    const first = q.offer(1)!;
    let closed = false;
    const closing = q.close().then((n) => ((closed = true), n));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'the job in flight still runs');
    g.open();
    assert.equal(await closing, 0);
    assert.equal(await first, 1);
  });
});

describe('SourceBook (scores and bans in the store)', () => {
  async function withStore(fn: (store: ChainStore, dir: string) => Promise<void>): Promise<void> {
    const tmp = tempDir('vigil-sources-');
    const store = ChainStore.open(tmp.dir, { network: 'regtest' });
    try {
      await fn(store, tmp.dir);
    } finally {
      await store.close();
      tmp.remove();
    }
  }

  /** After mallory's ban was lifted elsewhere: `book` sees it, and its flush keeps it lifted with the outcome that waited. */
  async function assertUnbanKept(book: SourceBook, store: ChainStore, counts: [invalid: number, duplicate: number, violations: number]): Promise<void> {
    // lmdb-js reads share one snapshot until its next timer turn: the unban is seen after it.
    await new Promise((resolve) => setTimeout(resolve, 1));
    assert.equal(book.banRemaining('mallory'), 0, 'seen here');
    await book.flush();
    const after = new SourceBook(store).get('mallory');
    assert.equal(after.bannedUntil, 0, 'the flush did not write the ban back');
    assert.deepEqual([after.invalid, after.duplicate, after.violations], counts, 'the outcome that waited is kept');
  }

  it('maps results to outcomes: our own errors are never the source’s', () => {
    assert.equal(outcomeOf(VALID, false), 'valid');
    assert.equal(outcomeOf(VALID, true), 'duplicate');
    assert.equal(outcomeOf(invalid('bad-cb-amount'), false), 'invalid');
    assert.equal(outcomeOf(invalid('prev-blk-not-found'), false), 'unconnected');
    // Known invalid already: its maker was punished once; Core spares inbound peers that relay it.
    assert.equal(outcomeOf(invalid('duplicate-invalid'), true), 'duplicate');
    // Ahead of our clock is not invalid (Core never punishes BLOCK_TIME_FUTURE): our clock may be wrong.
    assert.equal(outcomeOf(invalid('time-too-new', 'block timestamp too far in the future'), false), 'unconnected');
    assert.equal(outcomeOf(invalid('block-decode-failed'), false), 'malformed');
    assert.equal(outcomeOf(mutated('bad-txnmrklroot'), false), 'mutated');
    assert.equal(outcomeOf(internalError('store-write-failed'), false), 'error');
    assert.ok(SCORE_DELTA.invalid < SCORE_DELTA.mutated && SCORE_DELTA.mutated < 0 && SCORE_DELTA.valid > 0);
  });

  it('starts at 50, rises with valid blocks (at most 100), ignores our errors, bans after N violations', async () => {
    await withStore(async (store) => {
      let now = 1_000_000;
      const book = new SourceBook(store, { banScore: 10, banViolations: 2, banSeconds: 60 }, () => now);
      assert.equal(book.get('peer').score, INITIAL_SCORE);
      for (let i = 0; i < 60; i++) book.record('peer', 'valid');
      assert.equal(book.get('peer').score, 100);
      book.record('peer', 'error');
      assert.equal(book.get('peer').score, 100, 'internal errors never count');
      book.record('peer', 'invalid');
      assert.equal(book.banRemaining('peer'), 0);
      const r = book.record('peer', 'invalid');
      assert.equal(r.violations, 2);
      assert.equal(book.banRemaining('peer'), 60_000);
      assert.match(r.banReason ?? '', /2 consensus-invalid blocks/);
      now += 60_000;
      assert.equal(book.banRemaining('peer'), 0, 'the ban runs out');
      assert.equal(book.get('peer').violations, 0, 'a second chance');
    });
  });

  it('bans on a low score too, keeps bans across reopen, and unban lifts them', async () => {
    const tmp = tempDir('vigil-sources-');
    try {
      let store = ChainStore.open(tmp.dir, { network: 'regtest' });
      // A ban score at or above the starting score would ban every newcomer: refused.
      assert.throws(() => new SourceBook(store, { banScore: 50, banViolations: 100, banSeconds: 3600 }), RangeError);
      const book = new SourceBook(store, { banScore: 44, banViolations: 100, banSeconds: 3600 });
      for (let i = 0; i < 3; i++) book.record('noisy', 'mutated');
      assert.ok(book.banRemaining('noisy') > 0, 'score 44 bans');
      await book.flush();
      await store.close();

      store = ChainStore.open(tmp.dir, { network: 'regtest' });
      const again = new SourceBook(store);
      const listed = again.list();
      assert.deepEqual(listed.map((s) => [s.source, s.banned, s.mutated]), [['noisy', true, 3]]);
      assert.equal(await again.unban('noisy'), true);
      assert.equal(again.banRemaining('noisy'), 0);
      assert.equal(await again.unban('noisy'), false, 'not banned any more');
      assert.equal(await again.unban('stranger'), false, 'unknown');
      await store.close();
    } finally {
      tmp.remove();
    }
  });

  it('keeps every update when many land before a commit', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store, { banScore: 0, banViolations: 1e9, banSeconds: 1 });
      for (let i = 0; i < 500; i++) book.record(`s${i % 5}`, i % 2 === 0 ? 'valid' : 'duplicate');
      await book.flush();
      const fresh = new SourceBook(store).list();
      assert.equal(fresh.reduce((n, s) => n + s.valid + s.duplicate, 0), 500);
    });
  });

  it('builds on an unban by another process: outcomes still pending here do not bring the ban back', async () => {
    await withStore(async (store, dir) => {
      const book = new SourceBook(store, { banScore: 0, banViolations: 2, banSeconds: 3600 });
      book.record('mallory', 'invalid');
      book.record('mallory', 'invalid');
      await book.flush();
      assert.ok(book.banRemaining('mallory') > 0);
      // A block of hers still queued ends while the ban stands (its outcome not yet committed)...
      book.record('mallory', 'duplicate');
      // ...when the operator lifts the ban from another process.
      const out = execFileSync(process.execPath, [CLI, 'unban', 'mallory', '--datadir', dir], { encoding: 'utf8' });
      assert.equal(out, 'unbanned mallory\n');
      await assertUnbanKept(book, store, [2, 1, 0]);
    });
  });

  it('an unban by another writer is seen at once, while an outcome of the banned source still waits here', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 3600 });
      book.record('mallory', 'invalid');
      await book.flush();
      // A block of hers still queued ends while the ban stands; this book reads her record.
      assert.ok(book.record('mallory', 'duplicate').bannedUntil > 0);
      assert.equal(await new SourceBook(store).unban('mallory'), true, 'lifted by another writer');
      // lmdb-js reads share one snapshot until its next timer turn: the unban is seen after it.
      await new Promise((resolve) => setTimeout(resolve, 1));
      const now = book.get('mallory');
      assert.deepEqual([now.bannedUntil, now.invalid, now.duplicate], [0, 1, 1]);
    });
  });

  it('a record another writer changed after the prune scanned it is kept', async () => {
    await withStore(async (store) => {
      let now = 1_000_000;
      const book = new SourceBook(store, undefined, () => now, 2);
      for (const name of ['a', 'b', 'c']) {
        now += 1000;
        book.record(name, 'valid');
      }
      const commit = store.updateSourceRecords.bind(store);
      let calls = 0;
      store.updateSourceRecords = async (keys, next) => {
        // The flush commits first, then the prune commits its deletions: between its scan and that
        // commit, another writer records an outcome of 'a', the least recently seen.
        if (++calls === 2) {
          await commit([new TextEncoder().encode('a')], (_, current) => {
            const r = JSON.parse(new TextDecoder().decode(current)) as { valid: number };
            return new TextEncoder().encode(JSON.stringify({ ...r, valid: r.valid + 1 }));
          });
        }
        return commit(keys, next);
      };
      await book.flush();
      assert.equal(calls, 2, 'three records, more than two: pruned');
      // Down to one (a tenth under the bound): 'a' and 'b' were the victims, but 'a' changed since.
      assert.deepEqual(new SourceBook(store).list().map((x) => [x.source, x.valid]), [['a', 2], ['c', 1]]);
    });
  });

  it('keeps at most maxRecords sources: the least recently seen that are not banned go first', async () => {
    await withStore(async (store) => {
      let now = 1_000_000;
      const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 3600 }, () => now, 20);
      book.record('bad', 'invalid'); // banned, and seen before every other source
      const names = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      for (const name of names) {
        now += 1000;
        book.record(name, 'valid');
      }
      await book.flush();
      // 31 records, more than 20: down to 18 (a tenth under the bound, so the scan is rare).
      const kept = new SourceBook(store).list().map((s) => s.source);
      assert.deepEqual(kept, ['bad', ...names.slice(13)]);
      assert.ok(book.banRemaining('bad') > 0, 'the ban is kept');
      assert.equal(book.get('s00').valid, 0, 'a forgotten source starts again');
      assert.throws(() => new SourceBook(store, undefined, undefined, 0), RangeError);
    });
  });

  it('while commits fail, what waits stays one record a source and at most maxRecords sources', async () => {
    await withStore(async (store) => {
      let now = 1_000_000;
      const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 3600 }, () => now, 4);
      book.record('early', 'valid');
      await book.flush();
      const commit = store.updateSourceRecords.bind(store);
      let failing = true;
      store.updateSourceRecords = (keys, next) => (failing ? Promise.reject(new Error('MDB_MAP_FULL')) : commit(keys, next));
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 200; i++) {
          now += 10;
          book.record('early', i % 2 === 0 ? 'valid' : 'duplicate');
        }
        await book.flush();
        assert.match(book.lastError?.message ?? '', /MDB_MAP_FULL/);
        assert.deepEqual(book.waiting, { sources: 1, outcomes: 0 }, 'folded into one record');
        assert.deepEqual([book.get('early').valid, book.get('early').duplicate], [1 + 100 * (round + 1), 100 * (round + 1)]);
      }
      // Eight sources wait; four are kept: the ban, then the most recently seen.
      book.record('mallory', 'invalid');
      for (const name of ['s1', 's2', 's3', 's4', 's5', 's6']) {
        now += 1000;
        book.record(name, 'valid');
      }
      await book.flush();
      assert.equal(book.waiting.sources, 4);
      assert.ok(book.banRemaining('mallory') > 0);
      assert.deepEqual([book.get('early').valid, book.get('early').duplicate], [1, 0], 'the least recently seen loses what waited: its committed record is left');
      failing = false;
      book.record('s6', 'valid');
      await book.flush();
      assert.equal(book.lastError, undefined);
      assert.deepEqual(book.waiting, { sources: 0, outcomes: 0 });
      // Committed: the four that waited, beside 'early' as committed before the failures; five
      // records, more than four, so the prune after the commit keeps three.
      const kept = new SourceBook(store).list().map((s) => [s.source, s.valid, s.invalid]);
      assert.deepEqual(kept, [['mallory', 0, 1], ['s5', 1, 0], ['s6', 2, 0]]);
    });
  });

  it('an unban by another process while a failed commit waits is not written back', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 3600 });
      book.record('mallory', 'invalid');
      await book.flush();
      assert.ok(book.banRemaining('mallory') > 0);
      const commit = store.updateSourceRecords.bind(store);
      store.updateSourceRecords = () => Promise.reject(new Error('MDB_MAP_FULL'));
      book.record('mallory', 'duplicate'); // a block of hers still queued
      await book.flush();
      assert.deepEqual(book.waiting, { sources: 1, outcomes: 0 }, 'folded over the committed ban');
      store.updateSourceRecords = commit;
      assert.equal(await new SourceBook(store).unban('mallory'), true, 'lifted from elsewhere');
      await assertUnbanKept(book, store, [1, 1, 0]);
    });
  });

  it('scores stay within 0..100; bytes that are no block cost a little', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store, { banScore: 0, banViolations: 1e9, banSeconds: 60 });
      assert.equal(book.record('junk', 'malformed').score, INITIAL_SCORE + SCORE_DELTA.malformed);
      assert.ok(SCORE_DELTA.malformed < 0);
      for (let i = 0; i < 4; i++) book.record('bad', 'invalid');
      const r = book.get('bad');
      assert.deepEqual([r.score, r.invalid], [0, 4], 'the score stops at 0');
      assert.ok(r.bannedUntil > 0, 'and 0 is at or below the ban score');
    });
  });

  it('outcomes that end while a source is banned do not lengthen its ban', async () => {
    await withStore(async (store) => {
      let now = 1_000_000;
      const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 60 }, () => now);
      assert.equal(book.record('peer', 'invalid').bannedUntil, 1_060_000);
      now += 30_000;
      // A block of its that was already being checked ends invalid too.
      const r = book.record('peer', 'invalid');
      assert.deepEqual([r.bannedUntil, r.invalid], [1_060_000, 2]);
      assert.equal(book.banRemaining('peer'), 30_000);
      now += 40_000;
      assert.equal(book.banRemaining('peer'), 0, 'once over, no time is left, never less than none');
    });
  });

  it('our own errors leave no record of a source', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store);
      assert.equal(book.record('peer', 'error').score, INITIAL_SCORE);
      assert.equal(book.find('peer'), undefined);
      assert.deepEqual(book.list(), []);
      await book.flush();
      assert.deepEqual(new SourceBook(store).list(), []);
    });
  });

  it('commits outcomes by itself, without an explicit flush', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store);
      book.record('peer', 'valid');
      const other = new SourceBook(store);
      for (let i = 0; i < 200 && other.find('peer') === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(other.find('peer')?.valid, 1, 'another reader of the store sees it');
    });
  });

  it('a store holding exactly maxRecords sources forgets none of them', async () => {
    await withStore(async (store) => {
      const book = new SourceBook(store, undefined, undefined, 5);
      for (let i = 0; i < 5; i++) book.record(`s${i}`, 'valid');
      await book.flush();
      assert.equal(new SourceBook(store).list().length, 5);
    });
  });

  it('unban says no when the ban has already run out', async () => {
    await withStore(async (store) => {
      let now = 1_000_000;
      const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 60 }, () => now);
      book.record('peer', 'invalid');
      await book.flush();
      now += 60_000;
      assert.equal(await book.unban('peer'), false, 'not banned any more');
    });
  });

  it('checks source names', () => {
    assert.equal(checkSourceName('peer-1.example:8333'), undefined);
    assert.equal(checkSourceName('x'.repeat(200)), undefined, '200 characters are allowed');
    assert.match(checkSourceName('') ?? '', /empty/);
    assert.notEqual(checkSourceName('has space'), undefined);
    assert.notEqual(checkSourceName('x'.repeat(201)), undefined);
  });
});

describe('logger', () => {
  it('writes JSON lines with levels, and filters below its level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format: 'json', stream: { write: (s: string) => (lines.push(s), true) }, now: () => new Date(0) });
    log.debug('hidden');
    log.child({ component: 'serve' }).warn('source banned', { source: 'x', bytes: new Uint8Array([1, 255]), work: 5n });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!), { time: '1970-01-01T00:00:00.000Z', level: 'warn', msg: 'source banned', component: 'serve', source: 'x', bytes: '01ff', work: '5' });
    assert.equal(log.enabled('debug'), false);
  });

  it('writes key=value text for people', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'text', stream: { write: (s: string) => (lines.push(s), true) }, now: () => new Date(0) });
    log.info('listening', { url: 'http://127.0.0.1:1', note: 'two words' });
    assert.equal(lines[0], '1970-01-01T00:00:00.000Z INFO  listening url=http://127.0.0.1:1 note="two words"\n');
  });

  it('refuses a level or format it does not know, which would log everything or as text', () => {
    const sink = { write: () => true };
    assert.throws(() => createLogger({ level: 'verbose' as never, stream: sink }), RangeError);
    assert.throws(() => createLogger({ format: 'xml' as never, stream: sink }), RangeError);
    assert.equal(createLogger({ level: 'debug', format: 'json', stream: sink }).level, 'debug');
  });

  it('by default writes text at info and above', () => {
    const lines: string[] = [];
    const log = createLogger({ stream: { write: (s: string) => (lines.push(s), true) }, now: () => new Date(0) });
    assert.equal(log.level, 'info');
    assert.deepEqual([log.enabled('debug'), log.enabled('info'), log.enabled('error')], [false, true, true]);
    log.debug('hidden');
    log.info('shown', { n: 1 });
    assert.deepEqual(lines, ['1970-01-01T00:00:00.000Z INFO  shown n=1\n']);
    const quiet = createLogger({ level: 'warn', stream: { write: () => true } });
    assert.equal(quiet.level, 'warn');
    assert.deepEqual([quiet.enabled('info'), quiet.enabled('warn')], [false, true]);
  });

  it("a child's fields add to its parent's, through generations; a line's own fields win", () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', stream: { write: (s: string) => (lines.push(s), true) }, now: () => new Date(0) });
    log.child({ component: 'serve', peer: 'a' }).child({ request: 7 }).info('answered', { peer: 'b' });
    assert.deepEqual(JSON.parse(lines[0]!), { time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'answered', component: 'serve', peer: 'b', request: 7 });
  });

  it('text values: quoted when they hold "=", left out when undefined; errors by their message, byte views by their own bytes', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'text', stream: { write: (s: string) => (lines.push(s), true) }, now: () => new Date(0) });
    const view = new Uint8Array([0xaa, 0x01, 0x02, 0xbb]).subarray(1, 3);
    log.error('failed', { expr: 'a=b', gone: undefined, error: new Error('boom'), bytes: view });
    assert.equal(lines[0], '1970-01-01T00:00:00.000Z ERROR failed expr="a=b" error=boom bytes=0102\n');
    const json: string[] = [];
    createLogger({ format: 'json', stream: { write: (s: string) => (json.push(s), true) }, now: () => new Date(0) }).error('failed', { error: new Error('boom'), bytes: view });
    assert.deepEqual(JSON.parse(json[0]!), { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'failed', error: 'boom', bytes: '0102' });
  });

  it('writes to standard error by default, never standard output (which carries results)', () => {
    const url = new URL('../src/service/logger.js', import.meta.url).href;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(url)}; createLogger().warn('careful');`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /WARN  careful\n$/);
  });
});

describe('checkHealth', () => {
  const tip = { time: 1_000, height: 7, hex: 'ab' };
  const chain = (store: { getTip(): unknown; utxoCount(): number }) => ({ store, tip }) as unknown as ChainState;
  const okStore = { getTip: () => ({}), utxoCount: () => 3 };
  const pool = (over: Partial<{ threads: number; liveThreads: number; closed: boolean }>) =>
    ({ threads: 2, liveThreads: 2, closed: false, utilization: 0.5, stats: { retries: 0, internalErrors: 0 }, ...over }) as unknown as ScriptPool;
  const base = { queue: { depth: 0, capacity: 4, closed: false }, maxTipAgeSeconds: 100, now: 1_050 };

  it('healthy when every part is', () => {
    const h = checkHealth({ ...base, chain: chain(okStore), pool: pool({}) });
    assert.equal(h.status, 'healthy');
    assert.deepEqual(Object.keys(h.components), ['store', 'workers', 'queue', 'tip']);
  });

  it('degraded: a lost worker thread, a full queue, an old tip', () => {
    assert.equal(checkHealth({ ...base, chain: chain(okStore), pool: pool({ liveThreads: 1 }) }).components.workers.status, 'degraded');
    const full = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), queue: { depth: 4, capacity: 4, closed: false } });
    assert.deepEqual([full.status, full.components.queue.status], ['degraded', 'degraded']);
    const spent = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), queue: { depth: 1, capacity: 4, closed: false, bytes: 8_000_000, maxBytes: 8_000_000 } });
    assert.deepEqual([spent.status, spent.components.queue.status], ['degraded', 'degraded']);
    assert.match(spent.components.queue.detail, /byte budget is spent/);
    const old = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), now: 1_101 });
    assert.deepEqual([old.status, old.components.tip.status], ['degraded', 'degraded']);
    const unsaved = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), scoreWriteError: 'ENOSPC: no space left on device' });
    assert.deepEqual([unsaved.status, unsaved.components.store.status], ['degraded', 'degraded']);
    assert.match(unsaved.components.store.detail, /last write of source scores failed.*ENOSPC/);
    // A failed block write says more: the store cannot take blocks.
    const both = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), storeWriteError: 'EIO', scoreWriteError: 'EIO' });
    assert.equal(both.components.store.status, 'unhealthy');
  });

  it('unhealthy: the store does not answer, the pool is closed, shutting down', () => {
    const broken = { getTip: () => { throw new Error('MDB_PANIC'); }, utxoCount: () => 0 };
    const h = checkHealth({ ...base, chain: chain(broken), pool: pool({}) });
    assert.equal(h.status, 'unhealthy');
    assert.match(h.components.store.detail, /MDB_PANIC/);
    assert.equal(checkHealth({ ...base, chain: chain(okStore), pool: pool({ closed: true }) }).status, 'unhealthy');
    assert.equal(checkHealth({ ...base, chain: chain(okStore), pool: pool({}), queue: { depth: 0, capacity: 4, closed: true } }).status, 'unhealthy');
  });

  it('unhealthy: a store with no tip, a pool whose every thread is gone, a closed pool that checked on the main thread', () => {
    const empty = checkHealth({ ...base, chain: chain({ getTip: () => undefined, utxoCount: () => 0 }), pool: pool({}) });
    assert.deepEqual([empty.status, empty.components.store.status], ['unhealthy', 'unhealthy']);
    const dead = checkHealth({ ...base, chain: chain(okStore), pool: pool({ liveThreads: 0 }) });
    assert.deepEqual([dead.status, dead.components.workers.status], ['unhealthy', 'unhealthy']);
    const mainThread = checkHealth({ ...base, chain: chain(okStore), pool: pool({ threads: 0 }) });
    assert.deepEqual([mainThread.status, mainThread.components.workers.status], ['healthy', 'healthy']);
    const closed = checkHealth({ ...base, chain: chain(okStore), pool: pool({ threads: 0, closed: true }) });
    assert.deepEqual([closed.status, closed.components.workers.status], ['unhealthy', 'unhealthy']);
  });

  it('a tip exactly maxTipAgeSeconds old is still recent; one second more is old', () => {
    const at = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), now: 1_100 });
    assert.deepEqual([at.status, at.components.tip.status, at.components.tip.ageSeconds], ['healthy', 'healthy', 100]);
    const past = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), now: 1_101 });
    assert.deepEqual([past.components.tip.status, past.components.tip.ageSeconds], ['degraded', 101]);
  });

  it('unhealthy: reads answer but the last write failed', () => {
    const h = checkHealth({ ...base, chain: chain(okStore), pool: pool({}), storeWriteError: 'ENOSPC: no space left on device' });
    assert.equal(h.status, 'unhealthy');
    assert.match(h.components.store.detail, /last write failed: ENOSPC/);
  });
});

describe('VigilMetrics: labels a client chooses stay bounded', () => {
  it('source scores: only sources that gave a valid block, the lowest MAX_SOURCE_SERIES; reject reasons without their detail', async () => {
    const scores = Array.from({ length: 3 * MAX_SOURCE_SERIES }, (_, i) => ({ source: `peer-${i}`, score: (i * 37) % 101, valid: 1, banned: i % 7 === 0 }));
    // Names that only ever sent junk (any client can invent thousands): counted, never a label.
    const junk = Array.from({ length: 500 }, (_, i) => ({ source: `junk-${i}`, score: 0, valid: 0, banned: true }));
    const m = new VigilMetrics({ sourceScores: () => [...junk, ...scores] }, { defaultMetrics: false });
    for (const v of [1, 2, 0x20000000]) m.blockResult(invalid(`bad-version(0x${v.toString(16).padStart(8, '0')})`, 'rejected nVersion block'));
    // Core's script reject has a space before its detail: the label has neither.
    m.blockResult(invalid('block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)', 'input 0'));
    const text = await m.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('vigil_source_score{'));
    assert.equal(series.length, MAX_SOURCE_SERIES);
    const highest = Math.max(...series.map((l) => Number(l.split(' ').at(-1))));
    const lowest = scores.map((s) => s.score).sort((a, b) => a - b);
    assert.equal(highest, lowest[MAX_SOURCE_SERIES - 1]);
    assert.doesNotMatch(text, /junk-/);
    const banned = scores.filter((x) => x.banned).length;
    assert.match(text, new RegExp(`^vigil_sources\\{state="banned"\\} ${junk.length + banned}$`, 'm'));
    assert.match(text, new RegExp(`^vigil_sources\\{state="active"\\} ${scores.length - banned}$`, 'm'));
    assert.match(text, /^vigil_blocks_rejected_total\{reason="bad-version"\} 3$/m);
    assert.match(text, /^vigil_blocks_rejected_total\{reason="block-script-verify-flag-failed"\} 1$/m);
    assert.doesNotMatch(text, /bad-version\(/);
  });
});

describe('VigilMetrics: names, labels and values', () => {
  const value = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('the chain observer feeds the block, transaction, input, reorganisation and stage series', async () => {
    const m = new VigilMetrics({}, { defaultMetrics: false });
    const o = m.chainObserver();
    o.connected!({ hash: 'a', height: 1, txs: 3, inputs: 5, scriptsChecked: true });
    o.connected!({ hash: 'b', height: 2, txs: 2, inputs: 7, scriptsChecked: false });
    o.disconnected!({ hash: 'b', height: 2 });
    o.reorg!({ fork: 1, disconnected: 1 });
    for (const stage of ['parse', 'precheck', 'coins', 'scripts', 'commit'] as const) o.stage!(stage, 0.002);
    o.stage!('coins', 40);
    const text = await m.text();
    assert.equal(value(text, 'vigil_blocks_connected_total'), 2);
    assert.equal(value(text, 'vigil_transactions_total'), 5);
    assert.equal(value(text, 'vigil_inputs_total'), 12);
    assert.equal(value(text, 'vigil_blocks_disconnected_total'), 1);
    assert.equal(value(text, 'vigil_reorgs_total'), 1);
    for (const stage of ['parse', 'precheck', 'scripts', 'commit']) {
      assert.equal(value(text, `vigil_stage_duration_seconds_count{stage="${stage}"}`), 1, stage);
      assert.equal(value(text, `vigil_stage_duration_seconds_bucket{le="0.0025",stage="${stage}"}`), 1, stage);
      assert.equal(value(text, `vigil_stage_duration_seconds_bucket{le="0.001",stage="${stage}"}`), 0, stage);
    }
    assert.equal(value(text, 'vigil_stage_duration_seconds_count{stage="coins"}'), 2);
    // 30 s is the last bucket: 40 s lands in +Inf only.
    assert.equal(value(text, 'vigil_stage_duration_seconds_bucket{le="30",stage="coins"}'), 1);
    assert.equal(value(text, 'vigil_stage_duration_seconds_bucket{le="+Inf",stage="coins"}'), 2);
  });

  it('verdicts: invalid and mutated blocks by reason, our own failures apart and never as rejections', async () => {
    const m = new VigilMetrics({}, { defaultMetrics: false });
    m.blockResult(invalid('bad-txnmrklroot', 'hashMerkleRoot mismatch'));
    m.blockResult(mutated('bad-txns-duplicate', 'duplicate transaction'));
    m.blockResult(internalError('store-write-failed', 'ENOSPC'));
    m.blockResult(VALID);
    const text = await m.text();
    assert.equal(value(text, 'vigil_blocks_rejected_total{reason="bad-txnmrklroot"}'), 1);
    assert.equal(value(text, 'vigil_blocks_rejected_total{reason="bad-txns-duplicate"}'), 1);
    assert.equal(value(text, 'vigil_internal_errors_total{reason="store-write-failed"}'), 1);
    assert.doesNotMatch(text, /^vigil_blocks_rejected_total\{reason="store-write-failed"\}/m);
    assert.equal(text.split('\n').filter((l) => l.startsWith('vigil_blocks_rejected_total{')).length, 2);
  });

  it('cumulative totals read at scrape time are followed, never counted twice; gauges read their sources', async () => {
    let sigs = { ecdsa: 10, schnorr: 4 };
    let hits = 7;
    const m = new VigilMetrics({ signatures: () => sigs, sigCacheHits: () => hits, utxoCount: () => 123, queueDepth: () => 2 }, { defaultMetrics: false });
    let text = await m.text();
    assert.equal(value(text, 'vigil_signatures_verified_total{kind="ecdsa"}'), 10);
    assert.equal(value(text, 'vigil_signatures_verified_total{kind="schnorr"}'), 4);
    assert.equal(value(text, 'vigil_sigcache_hits_total'), 7);
    assert.equal(value(text, 'vigil_utxo_count'), 123);
    assert.equal(value(text, 'vigil_ingest_queue_depth'), 2);
    text = await m.text();
    assert.equal(value(text, 'vigil_signatures_verified_total{kind="ecdsa"}'), 10, 'a second scrape adds nothing');
    assert.equal(value(text, 'vigil_sigcache_hits_total'), 7);
    sigs = { ecdsa: 15, schnorr: 4 };
    hits = 9;
    m.bind({ workerBusyRatio: () => 0.25 });
    text = await m.text();
    assert.equal(value(text, 'vigil_signatures_verified_total{kind="ecdsa"}'), 15);
    assert.equal(value(text, 'vigil_signatures_verified_total{kind="schnorr"}'), 4);
    assert.equal(value(text, 'vigil_sigcache_hits_total'), 9);
    assert.equal(value(text, 'vigil_worker_busy_ratio'), 0.25);
    assert.equal(value(text, 'vigil_utxo_count'), 123, 'bind keeps the sources it does not replace');
  });

  it('a source that drops out of the scores drops its series; the process metrics come only when asked for', async () => {
    let scores = [
      { source: 'a', score: 40, valid: 1, banned: false },
      { source: 'b', score: 60, valid: 2, banned: false },
    ];
    const m = new VigilMetrics({ sourceScores: () => scores }, { defaultMetrics: false });
    let text = await m.text();
    assert.equal(value(text, 'vigil_source_score{source="a"}'), 40);
    assert.equal(value(text, 'vigil_source_score{source="b"}'), 60);
    scores = [{ source: 'b', score: 55, valid: 2, banned: false }];
    text = await m.text();
    assert.equal(value(text, 'vigil_source_score{source="a"}'), undefined);
    assert.equal(value(text, 'vigil_source_score{source="b"}'), 55);
    assert.doesNotMatch(text, /^process_/m);
    assert.match(await new VigilMetrics().text(), /^process_resident_memory_bytes /m);
  });
});
