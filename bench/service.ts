// The service's own costs: what the metric updates add to each block (tinybench, against the
// cheapest block path there is: scripts skipped, as under assumevalid), and blocks posted over
// loopback HTTP to `vigil serve`'s service against the same blocks handed to the chain directly.
// Runs as a suite of bench/run.ts, or alone: `node dist/bench/service.js [--time=ms]`.

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChainState } from '../src/chain/chain-state.js';
import { VALID } from '../src/consensus/validation.js';
import { ChainGenerator, type GeneratedBlock } from '../src/generate/index.js';
import { VigilMetrics } from '../src/metrics/metrics.js';
import { ScriptPool } from '../src/pipeline/script-pool.js';
import { startService } from '../src/service/start.js';
import { check, consume, machineInfo, median, printMachine, printReport, rowFromSamples, runTasks, target, writeReport, type Row, type Suite, type SuiteOptions, type SuiteReport } from './report.js';
import { TARGET_BLOCKS_PER_SEC } from './targets.js';

/** Blocks 1–100 hold only coinbases; from 101 on, 25 transactions each (the import suite's small profile). */
const BLOCKS = 300;
const TXS = 25;
const ROUNDS = 5;

/** Feed every block to a fresh chain (noSync, scripts skipped); ms per block. */
async function feedDirect(blocks: readonly GeneratedBlock[], metrics: VigilMetrics | undefined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-service-'));
  const chain = await ChainState.open(dir, {
    network: 'regtest',
    noSync: true,
    runScripts: () => Promise.resolve(VALID),
    ...(metrics === undefined ? {} : { observer: metrics.chainObserver() }),
  });
  try {
    const t = performance.now();
    for (const b of blocks) {
      const r = await chain.processBlock(b.raw);
      if (metrics !== undefined) metrics.blockResult(r.result);
      check(r.result.mode === 'valid' && !r.duplicate, `block ${b.height} connects`);
    }
    const ms = (performance.now() - t) / blocks.length;
    check(chain.tip.height === blocks.length, 'the chain reaches the generated tip');
    return ms;
  } finally {
    await chain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Post every block, in order, to a fresh service over loopback HTTP; ms per block. */
async function feedHttp(blocks: readonly GeneratedBlock[], workers: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-service-'));
  const s = await startService({ datadir: dir, network: 'regtest', port: 0, workers, noSync: true, rate: 1e9, burst: 1e9 });
  const url = `http://127.0.0.1:${s.address.port}/blocks`;
  try {
    const t = performance.now();
    for (const b of blocks) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': 'bench' }, body: b.raw });
      const body = (await res.json()) as { valid?: boolean; height?: number };
      check(res.status === 200 && body.valid === true && body.height === b.height, `block ${b.height} accepted over HTTP`);
    }
    return (performance.now() - t) / blocks.length;
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same 2-thread pool path without HTTP, for the HTTP row's reference. */
async function feedPool(blocks: readonly GeneratedBlock[], workers: number): Promise<number> {
  const pool = await ScriptPool.create({ threads: workers });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-service-'));
  const chain = await ChainState.open(dir, { network: 'regtest', noSync: true, runScripts: (w, f) => pool.verify(w, f) });
  try {
    const t = performance.now();
    for (const b of blocks) check((await chain.processBlock(b.raw)).result.mode === 'valid', `block ${b.height} connects`);
    return (performance.now() - t) / blocks.length;
  } finally {
    await chain.close();
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const serviceSuite: Suite = {
  name: 'service',
  title: 'the service: metric updates per block, and blocks over loopback HTTP',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const loadBefore = loadavg()[0] ?? 0;
    const gen = new ChainGenerator({ blocks: BLOCKS, txsPerBlock: TXS, seed: 'bench-service' });
    const blocks = Array.from({ length: BLOCKS }, () => gen.next());
    // Transactions a block on average, coinbases included: blocks 1–100 hold only theirs.
    const meanTxs = blocks.reduce((n, b) => n + b.block.txs.length, 0) / BLOCKS;
    const checks = [
      `each run connects all ${BLOCKS} generated blocks (1–100 coinbase only, then ${TXS} transactions a block: ${meanTxs.toFixed(2)} a block on average, coinbases included) from a fresh store and reaches the generated tip; every HTTP answer is 200 with the block's height`,
    ];

    // 1. The metric updates one connected block makes, timed alone.
    const metrics = new VigilMetrics({}, { defaultMetrics: false });
    const observer = metrics.chainObserver();
    const info = { hash: 'x', height: 1, txs: TXS, inputs: 2 * TXS, scriptsChecked: true };
    const perBlock = (): void => {
      observer.stage!('parse', 0.0001);
      observer.stage!('precheck', 0.0002);
      observer.stage!('commit', 0.0003);
      observer.stage!('coins', 0.0004);
      observer.stage!('scripts', 0.005);
      observer.stage!('commit', 0.0006);
      observer.connected!(info);
      metrics.blockResult(VALID);
      metrics.submissions.inc({ outcome: 'valid' });
    };
    perBlock();
    const before = (await metrics.registry.getSingleMetricAsString('vigil_blocks_connected_total')).trim().split('\n').pop();
    check(before === 'vigil_blocks_connected_total 1', 'one block counted once');
    const { rows: micro, bench } = await runTasks('metric updates', [{ name: "one block's metric updates (6 histogram observations, 4 counters)", unit: 'block', fn: () => consume(perBlock()) }], opts);

    // 2. Whole blocks with and without the observer, alternating, scripts skipped.
    const plain: number[] = [];
    const observed: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      plain.push(await feedDirect(blocks, undefined));
      const m = new VigilMetrics({}, { defaultMetrics: false });
      observed.push(await feedDirect(blocks, m));
      const connected = (await m.registry.getSingleMetricAsString('vigil_blocks_connected_total')).trim().split('\n').pop();
      check(connected === `vigil_blocks_connected_total ${BLOCKS}`, 'the observer counted every block');
    }
    const rows: Row[] = [...micro];
    rows.push(rowFromSamples(`${BLOCKS} blocks, scripts skipped, noSync, no metrics (per block)`, 'block', plain, { items: { count: meanTxs, unit: 'tx' } }));
    rows.push({
      ...rowFromSamples(`the same with the metrics observer (per block)`, 'block', observed, { items: { count: meanTxs, unit: 'tx' } }),
      vsRef: { ref: rows[1]!.name, meanRatio: observed.reduce((a, b) => a + b) / plain.reduce((a, b) => a + b), p50Ratio: median(observed) / median(plain) },
    });

    // 3. Over HTTP against the same pool path without it.
    const direct: number[] = [];
    const http: number[] = [];
    for (let r = 0; r < 3; r++) {
      direct.push(await feedPool(blocks, 2));
      http.push(await feedHttp(blocks, 2));
    }
    rows.push(rowFromSamples(`${BLOCKS} blocks through ChainState on a 2-worker pool, noble, noSync (per block)`, 'block', direct));
    const httpRow = rowFromSamples(`the same posted one by one to the service over loopback HTTP (per block)`, 'block', http);
    rows.push({ ...httpRow, vsRef: { ref: rows[3]!.name, meanRatio: httpRow.meanMs / rows[3]!.meanMs, p50Ratio: median(http) / median(direct) } });

    const metricUs = micro[0]!.meanMs * 1000;
    const overheadPct = (metricUs / 1000 / median(plain)) * 100;
    const targets = [
      target('ingest over HTTP, generated small-profile chain, noble, 2 workers', TARGET_BLOCKS_PER_SEC, 1000 / median(http), 'blocks/s', `the block-validation target, with HTTP and scoring on top; the median of ${http.length} runs (the row's ops/s is their mean)`),
    ];
    const notes = [
      `metric updates cost ${metricUs.toFixed(2)} µs a block: ${overheadPct.toFixed(2)}% of the cheapest block path measured here (median ${median(plain).toFixed(3)} ms a block with scripts skipped)`,
      `whole-block ratio with the observer on: ${(median(observed) / median(plain)).toFixed(3)}× (medians of ${ROUNDS} alternating runs; run-to-run noise on a shared machine is of the same order)`,
      `over HTTP a block took ${(median(http) / median(direct)).toFixed(3)}× the time of handing it to the chain directly (medians ${median(http).toFixed(1)} and ${median(direct).toFixed(1)} ms; request, JSON answer, queue and score update on top)`,
    ];
    return {
      suite: 'service',
      title: serviceSuite.title,
      checks,
      rows,
      targets,
      notes,
      bench: { ...bench, loadAvg1m: { before: loadBefore, after: loadavg()[0] ?? 0 } },
    };
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const m = /^--time=(\d+)$/.exec(process.argv[2] ?? '');
  const machine = machineInfo();
  printMachine(machine);
  const report = await serviceSuite.run({ timeMs: m === null ? 1000 : Number(m[1]), warmupMs: 200 });
  printReport(report);
  console.log(`wrote ${writeReport(report, machine)}`);
}
