// Shared benchmark plumbing: run a list of tinybench tasks, turn the results into rows with
// ops/s, mean, p99 and samples, print them as a table and write bench/results/<suite>.json.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch, totalmem, release, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

/** How long tinybench measures each task, and how long it warms it up first. */
export interface SuiteOptions {
  readonly timeMs: number;
  readonly warmupMs: number;
}

/** One task to time. Check the result it produces before adding it (STYLE.md: check before timing). */
export interface TaskSpec {
  readonly name: string;
  readonly fn: () => unknown;
  /** What one call does, for the table: 'verify', 'sighash', 'tx', 'block'. */
  readonly unit: string;
  /** When one call handles several items (a block of 4864 txs), the count and the item's name. */
  readonly items?: { readonly count: number; readonly unit: string };
  /** Untimed work before each call (e.g. a fresh parse so a cached txid cannot flatter the number). */
  readonly beforeEach?: () => void;
  /** Untimed set-up and tear-down around the task's calls (run once per phase: warm-up, run). */
  readonly beforeAll?: () => void;
  readonly afterAll?: () => void;
  /** Name of another task of the same suite that this one is compared with (time ratios). */
  readonly ref?: string;
}

export interface Row {
  readonly name: string;
  readonly unit: string;
  readonly opsPerSec: number;
  /** Relative margin of error of the mean latency, percent. */
  readonly rmePct: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly samples: number;
  readonly items?: { readonly count: number; readonly unit: string; readonly perSec: number };
  /**
   * This task's time over its reference's: 2.0 means twice as long. `p50Ratio` (medians) is the one
   * printed: on a shared machine preemption inflates means far more than medians.
   */
  readonly vsRef?: { readonly ref: string; readonly meanRatio: number; readonly p50Ratio: number };
}

/** A figure set beside a target stated in DESIGN.md. */
export interface TargetLine {
  readonly label: string;
  readonly target: number;
  readonly measured: number;
  readonly unit: string;
  /** measured / target: above 1 meets the target. */
  readonly ratio: number;
  readonly note?: string;
}

export interface SuiteReport {
  readonly suite: string;
  readonly title: string;
  /** What was asserted before timing. */
  readonly checks: readonly string[];
  readonly rows: readonly Row[];
  readonly targets: readonly TargetLine[];
  readonly notes: readonly string[];
  readonly bench: {
    readonly timeMs: number;
    readonly warmupMs: number;
    readonly timestampProvider: string;
    readonly timerOverheadNs: number | undefined;
    /** 1-minute load average before and after the timed tasks: above the core count, other work shared the CPUs. */
    readonly loadAvg1m: { readonly before: number; readonly after: number };
  };
}

export interface Suite {
  readonly name: string;
  readonly title: string;
  run(opts: SuiteOptions): Promise<SuiteReport>;
}

/** Where a suite stores what its timed calls produced, so the JIT cannot drop a call as dead code. */
export let sink: unknown;
export function consume(x: unknown): void {
  sink = x;
}

/** Run the tasks one after the other and collect a row per task. */
export async function runTasks(
  title: string,
  specs: readonly TaskSpec[],
  opts: SuiteOptions,
): Promise<{ rows: Row[]; bench: SuiteReport['bench'] }> {
  const bench = new Bench({
    name: title,
    time: opts.timeMs,
    warmupTime: opts.warmupMs,
    // Nanosecond clock, and the clock's own call cost taken off each sample: the fastest
    // tasks here take about a microsecond, where ~50 ns of timer cost would show.
    timestampProvider: 'hrtimeNow',
    subtractTimerOverhead: true,
    throws: true,
    // At least this many calls even when `time` runs out first (tinybench's default is 64,
    // which for a 100 ms block task would be 6 s).
    iterations: 16,
  });
  for (const spec of specs) {
    const { beforeEach, beforeAll, afterAll } = spec;
    bench.add(spec.name, spec.fn, {
      async: false,
      ...(beforeEach !== undefined && { beforeEach: () => beforeEach() }),
      ...(beforeAll !== undefined && { beforeAll: () => beforeAll() }),
      ...(afterAll !== undefined && { afterAll: () => afterAll() }),
    });
  }
  const loadBefore = loadavg()[0] ?? 0;
  await bench.run();
  const loadAfter = loadavg()[0] ?? 0;

  const raw = new Map<string, Omit<Row, 'vsRef'>>();
  for (const spec of specs) {
    const task = bench.getTask(spec.name);
    const r = task?.result;
    if (r === undefined || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) {
      throw new Error(`${title}: task "${spec.name}" did not complete (${r?.state ?? 'missing'})`);
    }
    const opsPerSec = 1000 / r.latency.mean;
    raw.set(spec.name, {
      name: spec.name,
      unit: spec.unit,
      opsPerSec,
      rmePct: r.latency.rme,
      meanMs: r.latency.mean,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      samples: r.latency.samplesCount,
      ...(spec.items !== undefined && { items: { ...spec.items, perSec: opsPerSec * spec.items.count } }),
    });
  }
  const rows = specs.map((spec): Row => {
    const row = raw.get(spec.name)!;
    if (spec.ref === undefined) return row;
    const ref = raw.get(spec.ref);
    if (ref === undefined) throw new Error(`${title}: task "${spec.name}" names a missing reference "${spec.ref}"`);
    return { ...row, vsRef: { ref: spec.ref, meanRatio: row.meanMs / ref.meanMs, p50Ratio: row.p50Ms / ref.p50Ms } };
  });
  const overhead = bench.timerOverhead;
  return {
    rows,
    bench: {
      timeMs: opts.timeMs,
      warmupMs: opts.warmupMs,
      timestampProvider: bench.timestampProvider.name,
      timerOverheadNs: overhead === undefined ? undefined : overhead * 1e6,
      loadAvg1m: { before: loadBefore, after: loadAfter },
    },
  };
}

export function target(label: string, target: number, measured: number, unit: string, note?: string): TargetLine {
  return { label, target, measured, unit, ratio: measured / target, ...(note !== undefined && { note }) };
}

/** Throws with `what` when `cond` is false: a benchmark that measures a wrong answer is worse than none. */
export function check(cond: boolean, what: string): asserts cond {
  if (!cond) throw new Error(`benchmark check failed: ${what}`);
}

// ---- machine info ------------------------------------------------------------------------

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly arch: string;
  readonly osRelease: string;
  readonly totalMemGiB: number;
  readonly tinybench: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cpuCount: c.length,
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    arch: arch(),
    osRelease: release(),
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    tinybench: tinybenchVersion(),
  };
}

function tinybenchVersion(): string {
  try {
    const pkg = new URL('../package.json', import.meta.resolve('tinybench'));
    const v: unknown = JSON.parse(readFileSync(pkg, 'utf8')).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---- output ------------------------------------------------------------------------------

/** dist/bench/report.js → ../../bench/results/ is the repository's bench/results/. */
const RESULTS_DIR = new URL('../../bench/results/', import.meta.url);

export function writeReport(report: SuiteReport, machine: MachineInfo): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const url = new URL(`${report.suite}.json`, RESULTS_DIR);
  const { suite, title, ...rest } = report;
  const doc = { suite, title, date: new Date().toISOString(), machine, ...rest, figuresNote: FIGURES_NOTE };
  writeFileSync(url, JSON.stringify(doc, null, 2) + '\n');
  return fileURLToPath(url);
}

const FIGURES_NOTE =
  'opsPerSec = 1000 / meanMs (one op = one call of the task); meanMs/p50Ms/p99Ms are per-call latencies after ' +
  'subtracting the timer overhead; rmePct is the relative margin of error of the mean; vsRef.meanRatio = meanMs / reference meanMs, ' +
  'vsRef.p50Ratio = p50Ms / reference p50Ms.';

export function printMachine(m: MachineInfo): void {
  console.log(`machine: ${m.cpuModel} × ${m.cpuCount}, ${m.totalMemGiB} GiB, ${m.platform}/${m.arch} ${m.osRelease}`);
  console.log(`runtime: node ${m.node} (v8 ${m.v8}), tinybench ${m.tinybench}`);
  console.log('columns: ops/s = 1000 / mean; ± = margin of error of the mean; "p50 vs ref" = p50 / p50 of row #n (2.00× = twice as slow)');
  const load = loadavg()[0] ?? 0;
  if (load > m.cpuCount) console.log(`warning: load average ${load.toFixed(2)} on ${m.cpuCount} cores: other processes compete for the CPU, means and p99 will be inflated`);
}

export function printReport(report: SuiteReport): void {
  console.log(`\n== ${report.suite}: ${report.title}`);
  const b = report.bench;
  console.log(
    `   tinybench: ${b.timeMs} ms per task after ${b.warmupMs} ms warm-up, ${b.timestampProvider}` +
      (b.timerOverheadNs !== undefined ? `, timer overhead ${b.timerOverheadNs.toFixed(0)} ns subtracted per sample` : '') +
      `; load average ${b.loadAvg1m.before.toFixed(2)} → ${b.loadAvg1m.after.toFixed(2)}`,
  );
  for (const c of report.checks) console.log(`   checked: ${c}`);
  const header = ['#', 'task', 'ops/s', '±', 'mean', 'p50', 'p99', 'samples', 'throughput', 'p50 vs ref'];
  const index = new Map(report.rows.map((r, i) => [r.name, i + 1]));
  const body = report.rows.map((r, i) => [
    String(i + 1),
    r.name,
    formatCount(r.opsPerSec),
    `${r.rmePct.toFixed(1)}%`,
    formatMs(r.meanMs),
    formatMs(r.p50Ms),
    formatMs(r.p99Ms),
    String(r.samples),
    r.items !== undefined ? `${formatCount(r.items.perSec)} ${r.items.unit}/s` : `${formatCount(r.opsPerSec)} ${r.unit}/s`,
    r.vsRef !== undefined ? `${r.vsRef.p50Ratio.toFixed(2)}× #${index.get(r.vsRef.ref) ?? '?'}` : '',
  ]);
  printTable(header, body, [true, false, true, true, true, true, true, true, true, false]);
  for (const t of report.targets) {
    console.log(
      `   target: ${t.label}: measured ${formatCount(t.measured)} ${t.unit} vs target ${formatCount(t.target)} ${t.unit} → ${t.ratio.toFixed(2)}× target` +
        (t.note !== undefined ? ` (${t.note})` : ''),
    );
  }
  for (const n of report.notes) console.log(`   note: ${n}`);
}

function printTable(header: readonly string[], body: readonly (readonly string[])[], rightAlign: readonly boolean[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    '   ' + cells.map((c, i) => (rightAlign[i] === true ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(header));
  console.log('   ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) console.log(line(row));
}

/** 12,345 / 1,234.5 / 12.35: thousands separators, three significant digits below 1,000. */
export function formatCount(n: number): string {
  if (n >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

/** A latency in ms as ns, µs or ms with three significant digits. */
export function formatMs(ms: number): string {
  if (ms < 0.001) return `${(ms * 1e6).toPrecision(3)} ns`;
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`;
  return `${ms.toPrecision(3)} ms`;
}
