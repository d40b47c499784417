// The progress display with a fake clock and stream: terminal redraws (throttled, cleared at
// the end) against plain lines (one per interval, a final one), nothing when off; rates over a
// recent window rather than since the start; the ETA; and the record count that gives imports
// their total.

import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PARAMS } from '../src/consensus/params.js';
import { generateChain } from '../src/generate/index.js';
import { Progress, RateWindow, eta, formatDuration, progressMode, renderPlainLine, renderTtyLine, type ProgressMode } from '../src/cli/progress.js';
import { countBlockRecords } from '../src/cli/import-progress.js';
import { targetChecks } from '../src/cli/selftest-command.js';
import { tempDir } from './helpers/regtest-chain.js';

function fake(mode: ProgressMode, isTTY = mode === 'tty') {
  let t = 0;
  const chunks: string[] = [];
  const stream = { isTTY, columns: 120, write: (s: string) => chunks.push(s) };
  const clock = { advance: (ms: number) => (t += ms) };
  const progress = new Progress({ label: 'import', unit: 'blocks', counters: ['tx', 'inputs'], total: 1000, mode, stream, now: () => t });
  return { progress, chunks, clock };
}

describe('progress: rates, ETA and durations', () => {
  it('the rate is over the recent window, not since the start', () => {
    const w = new RateWindow(10_000);
    // 100 blocks/s for 20 s, then 10 blocks/s for 10 s.
    let done = 0;
    for (let t = 0; t <= 20_000; t += 1000) w.push(t, [(done = t / 10)]);
    for (let t = 21_000; t <= 30_000; t += 1000) w.push(t, [(done += 10)]);
    const [rate] = w.rates()!;
    assert.ok(Math.abs(rate! - 10) < 0.5, `window rate ${rate}, the since-start rate would be ${done / 30}`);
  });

  it('no rate before two samples apart in time', () => {
    const w = new RateWindow(1000);
    assert.equal(w.rates(), undefined);
    w.push(5, [1]);
    assert.equal(w.rates(), undefined);
    w.push(505, [11]);
    assert.deepEqual(w.rates(), [20]);
  });

  it('close samples replace each other: the window stays small under thousands of updates', () => {
    const w = new RateWindow(10_000);
    for (let i = 0; i <= 100_000; i++) w.push(i / 10, [i]);
    assert.deepEqual(w.rates(), [10_000]);
    assert.ok((w as unknown as { samples: unknown[] }).samples.length <= 60);
  });

  it('ETA: what is left over the rate; unknown without a total or a rate', () => {
    assert.equal(eta(250, 1000, 50), 15);
    assert.equal(eta(1200, 1000, 50), 0);
    assert.equal(eta(250, undefined, 50), undefined);
    assert.equal(eta(250, 1000, 0), undefined);
    assert.equal(formatDuration(15), '0:15');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(undefined), '?');
  });

  it('the sync summary compares with the targets: rates must reach them, time and memory stay under', () => {
    const [blocks, txs, sync, memory] = targetChecks({ blocks: 200, txs: 5200, inputs: 10_000, seconds: 10, peakRssMB: 600 });
    assert.deepEqual([blocks!.measured, blocks!.met], [20, false]);
    assert.deepEqual([txs!.measured, txs!.met], [520, false]);
    assert.deepEqual([sync!.measured, sync!.met], [50, true], '1,000 blocks at 20 blocks/s: 50 s, under 300 s');
    assert.deepEqual([memory!.measured, memory!.met], [600, false]);
  });
});

describe('progress: rendering', () => {
  const state = { label: 'import', unit: 'blocks', done: 250, total: 1000, rates: [{ unit: 'blocks', perSec: 50 }, { unit: 'tx', perSec: 1250.4 }], etaSeconds: 15, note: 'height 249' };

  it('terminal: bar, percentage, counts, rates, ETA', () => {
    const line = renderTtyLine(state, 200);
    assert.match(line, /^import  \[#+\.+\]  25\.0%  250\/1000 blocks  50 blocks\/s 1,250 tx\/s  ETA 0:15  height 249$/);
    const bar = /\[(#+)(\.+)\]/.exec(line)!;
    assert.deepEqual([bar[1]!.length, bar[1]!.length + bar[2]!.length], [8, 30], 'a quarter of a 30-column bar is filled');
    assert.ok(renderTtyLine(state, 60).length <= 59, 'cut to the terminal width');
  });

  it('plain: no bar and no control characters', () => {
    assert.equal(renderPlainLine(state), 'import: 250/1000 blocks (25.0%), 50 blocks/s, 1,250 tx/s, ETA 0:15, height 249');
    assert.equal(renderPlainLine({ ...state, total: undefined, rates: [] }), 'import: 250 blocks, ETA 0:15, height 249');
  });

  it('mode: quiet and json turn it off; otherwise a terminal redraws and anything else gets lines', () => {
    const tty = { isTTY: true, write: () => true };
    const pipe = { write: () => true };
    assert.equal(progressMode({ stream: tty }), 'tty');
    assert.equal(progressMode({ stream: pipe }), 'lines');
    assert.equal(progressMode({ quiet: true, stream: tty }), 'off');
    assert.equal(progressMode({ json: true, stream: tty }), 'off');
  });

  it('tty: redraws one line at most every 100 ms and clears it at the end', () => {
    const { progress, chunks, clock } = fake('tty');
    for (let i = 1; i <= 100; i++) {
      clock.advance(10);
      progress.update(i, [i * 25, i * 50]);
    }
    assert.equal(chunks.length, 10, '1 s of updates every 10 ms: 10 redraws');
    for (const c of chunks) assert.match(c, /^\r.*\x1b\[K$/);
    assert.ok(chunks.every((c) => !c.includes('\n')), 'never a new line');
    // Drawn at 10, 110, ..., 910 ms: the last one shows 91 blocks, 909 left at 100 blocks/s.
    assert.match(chunks.at(-1)!, /  9\.1%  91\/1000 blocks {2}100 blocks\/s 2,500 tx\/s 5,000 inputs\/s {2}ETA 0:09/);
    progress.finish();
    assert.equal(chunks.at(-1), '\r\x1b[K');
  });

  it('lines: a plain line every 2 s, and a final one with averages and the time taken', () => {
    const { progress, chunks, clock } = fake('lines');
    for (let i = 1; i <= 50; i++) {
      clock.advance(100);
      progress.update(i * 10);
    }
    assert.equal(chunks.length, 2, '5 s: lines at 2 s and 4 s');
    assert.equal(chunks[0], 'import: 200/1000 blocks (20.0%), 100 blocks/s, 0.0 tx/s, 0.0 inputs/s, ETA 0:08\n');
    progress.finish();
    assert.equal(chunks.length, 3);
    assert.equal(chunks[2], 'import: 500/1000 blocks (50.0%), 100 blocks/s, 0.0 tx/s, 0.0 inputs/s, in 5.0 s\n');
    assert.ok(chunks.every((c) => !/[\r\x1b]/.test(c)));
  });

  it('lines with keepAliveMs: a line when none came for that long, updates or not (a slow block); nothing after finish', async () => {
    let t = 0;
    const chunks: string[] = [];
    const progress = new Progress({ label: 'import', unit: 'blocks', total: 1000, mode: 'lines', stream: { write: (c: string) => chunks.push(c) }, now: () => t, keepAliveMs: 40 });
    progress.update(100);
    t = 20;
    await sleep(80);
    assert.equal(chunks.length, 0, '20 ms of the clock: no line yet');
    t = 45;
    for (let waited = 0; chunks.length === 0 && waited < 5000; waited += 10) await sleep(10);
    assert.equal(chunks.length, 1, 'a line once 40 ms passed without one');
    assert.match(chunks[0]!, /^import: 100\/1000 blocks \(10\.0%\), [\d,]+ blocks\/s, ETA /);
    await sleep(80);
    assert.equal(chunks.length, 1, 'the clock stood still: no second line');
    progress.finish();
    t = 1000;
    await sleep(80);
    assert.equal(chunks.length, 2, 'the final line, then none');
    assert.match(chunks[1]!, /, in 0\.0 s\n$/, 'the final line, at 45 ms of the clock');
  });

  it('tty with keepAliveMs: the line is drawn again when none was drawn for that long; cleared at finish', async () => {
    let t = 0;
    const chunks: string[] = [];
    const progress = new Progress({ label: 'import', unit: 'blocks', total: 1000, mode: 'tty', stream: { isTTY: true, columns: 120, write: (c: string) => chunks.push(c) }, now: () => t, keepAliveMs: 40 });
    progress.update(100);
    assert.equal(chunks.length, 1, 'the first update draws');
    t = 45;
    for (let waited = 0; chunks.length === 1 && waited < 5000; waited += 10) await sleep(10);
    assert.equal(chunks.length, 2, 'drawn again once 40 ms passed without a draw');
    assert.match(chunks[1]!, /^\r.*100\/1000 blocks.*\x1b\[K$/);
    await sleep(80);
    assert.equal(chunks.length, 2, 'the clock stood still: no third draw');
    progress.finish();
    t = 1000;
    await sleep(80);
    assert.deepEqual(chunks.slice(2), ['\r\x1b[K'], 'cleared, then nothing');
  });

  it('off: nothing at all', () => {
    const { progress, chunks, clock } = fake('off');
    for (let i = 1; i <= 50; i++) {
      clock.advance(1000);
      progress.update(i);
    }
    progress.finish();
    assert.deepEqual(chunks, []);
  });

  it('a known total below what was done grows to it', () => {
    const { progress, clock } = fake('lines');
    clock.advance(1000);
    progress.update(1500);
    assert.equal(progress.state(false).total, 1500);
  });
});

describe('progress: the total of an import', () => {
  it('counts the records of a generated chain without reading the blocks, split files and obfuscation included', () => {
    const tmp = tempDir('vigil-count-');
    try {
      const plain = join(tmp.dir, 'plain');
      generateChain({ blocks: 40, txsPerBlock: 2, seed: 'count', outDir: plain });
      assert.deepEqual(countBlockRecords(plain, PARAMS.regtest.messageStart), { records: 41, estimated: false });
      const xored = join(tmp.dir, 'xored');
      generateChain({ blocks: 40, txsPerBlock: 2, seed: 'count', outDir: xored, maxFileSize: 20_000, xorKey: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) });
      assert.deepEqual(countBlockRecords(xored, PARAMS.regtest.messageStart), { records: 41, estimated: false });
      assert.equal(countBlockRecords(plain, PARAMS.main.messageStart).records, 0, "another network's magic matches nothing");
    } finally {
      tmp.remove();
    }
  });
});
