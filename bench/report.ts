// Shared benchmark plumbing: run a list of tinybench tasks, turn the results into rows with
// ops/s, mean, p99 and samples, print them as a table and write bench/results/<suite>.json
// (machine-readable, git-ignored) and bench/results/<suite>.md (the same tables, committed).

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
  /** More throughputs of the same calls (a block task: tx/s, inputs/s, signatures/s). */
  readonly also?: readonly { readonly perSec: number; readonly unit: string }[];
  /** Free text for the table's last column (peak RSS, blocks skipped, what a sample covers). */
  readonly detail?: string;
}

/** A figure set beside a target stated in DESIGN.md. */
export interface TargetLine {
  readonly label: string;
  readonly target: number;
  readonly measured: number;
  readonly unit: string;
  /** measured / target: above 1 meets the target (at or below 1 when lowerIsBetter). */
  readonly ratio: number;
  /** For limits (memory, time): the measured figure must stay at or under the target. */
  readonly lowerIsBetter?: boolean;
  readonly met: boolean;
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

/** Told when each tinybench task of a suite has finished (the CLI's progress display). */
export type TaskListener = (e: { readonly title: string; readonly task: string; readonly done: number; readonly total: number }) => void;
let taskListener: TaskListener | undefined;

/** Set (or with undefined, remove) the listener `runTasks` tells about finished tasks. */
export function setTaskListener(listener: TaskListener | undefined): void {
  taskListener = listener;
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
  const listener = taskListener;
  if (listener !== undefined) {
    let done = 0;
    listener({ title, task: '', done, total: specs.length });
    bench.addEventListener('cycle', (e) => listener({ title, task: e.task?.name ?? '', done: ++done, total: specs.length }));
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

export function target(label: string, target: number, measured: number, unit: string, note?: string, lowerIsBetter = false): TargetLine {
  const ratio = measured / target;
  return {
    label,
    target,
    measured,
    unit,
    ratio,
    ...(lowerIsBetter && { lowerIsBetter }),
    met: lowerIsBetter ? ratio <= 1 : ratio >= 1,
    ...(note !== undefined && { note }),
  };
}

/** The median of `xs` (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/**
 * A row from plain timed samples (ms per call), for work tinybench cannot repeat often enough
 * (a whole import, a 10-second block): ops/s = 1000 / mean, percentiles from the samples.
 */
export function rowFromSamples(
  name: string,
  unit: string,
  samplesMs: readonly number[],
  extra: {
    /** What one call handles (a block: its transactions), as in TaskSpec.items. */
    readonly items?: { readonly count: number; readonly unit: string };
    /** More counts per call, printed as rates beside `items` (inputs, signatures). */
    readonly also?: readonly { readonly count: number; readonly unit: string }[];
    readonly detail?: string;
  } = {},
): Row {
  if (samplesMs.length === 0) throw new Error(`rowFromSamples: "${name}" has no samples`);
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = samplesMs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(samplesMs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const opsPerSec = 1000 / mean;
  const { items, also, detail } = extra;
  return {
    name,
    unit,
    opsPerSec,
    rmePct: n > 1 ? ((1.96 * sd) / Math.sqrt(n) / mean) * 100 : 0,
    meanMs: mean,
    p50Ms: median(sorted),
    p99Ms: sorted[Math.min(n - 1, Math.max(0, Math.ceil(n * 0.99) - 1))]!,
    samples: n,
    ...(items !== undefined && { items: { count: items.count, unit: items.unit, perSec: opsPerSec * items.count } }),
    ...(also !== undefined && { also: also.map((x) => ({ unit: x.unit, perSec: opsPerSec * x.count })) }),
    ...(detail !== undefined && { detail }),
  };
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

/** The command a suite's report names when none is given: the suite run alone. */
const aloneInvocation = (suite: string): string => `node dist/bench/run.js ${suite}`;

/**
 * Write bench/results/<suite>.json and bench/results/<suite>.md; returns the .json path.
 * `invocation` is the command that ran it (with the other suites it ran beside, if any).
 */
export function writeReport(report: SuiteReport, machine: MachineInfo, invocation = aloneInvocation(report.suite)): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const url = new URL(`${report.suite}.json`, RESULTS_DIR);
  const { suite, title, ...rest } = report;
  const date = new Date().toISOString();
  const doc = { suite, title, date, invocation, machine, ...rest, figuresNote: FIGURES_NOTE };
  writeFileSync(url, JSON.stringify(doc, null, 2) + '\n');
  writeFileSync(new URL(`${report.suite}.md`, RESULTS_DIR), markdownReport(report, machine, date, invocation));
  return fileURLToPath(url);
}

/** The suite's report as markdown: how it was run, what was checked, the table, the targets. */
export function markdownReport(report: SuiteReport, m: MachineInfo, date: string, invocation = aloneInvocation(report.suite)): string {
  const esc = (t: string): string => t.replace(/\|/g, '\\|');
  const b = report.bench;
  const out: string[] = [];
  out.push(`# ${report.suite}: ${esc(report.title)}`, '');
  out.push(`Written by \`${invocation}\` on ${date}.`, '');
  out.push(`- machine: ${m.cpuModel} × ${m.cpuCount}, ${m.totalMemGiB} GiB, ${m.platform}/${m.arch} ${m.osRelease}`);
  out.push(`- runtime: node ${m.node} (v8 ${m.v8}), tinybench ${m.tinybench}`);
  out.push(
    `- tinybench: ${b.timeMs} ms per task after ${b.warmupMs} ms warm-up, ${b.timestampProvider}` +
      (b.timerOverheadNs !== undefined ? `, timer overhead ${b.timerOverheadNs.toFixed(0)} ns subtracted per sample` : '') +
      `; 1-minute load average ${b.loadAvg1m.before.toFixed(2)} → ${b.loadAvg1m.after.toFixed(2)}` +
      (Math.max(b.loadAvg1m.before, b.loadAvg1m.after) > m.cpuCount ? ` (above the ${m.cpuCount} cores: other processes shared the CPUs)` : ''),
  );
  out.push('');
  if (report.checks.length > 0) {
    out.push('## Checked before timing', '');
    for (const c of report.checks) out.push(`- ${esc(c)}`);
    out.push('');
  }
  out.push('## Results', '');
  out.push('| # | task | ops/s | ± | mean | p50 | p99 | samples | throughput | p50 vs ref | detail |');
  out.push('|--:|---|--:|--:|--:|--:|--:|--:|---|---|---|');
  const index = new Map(report.rows.map((r, i) => [r.name, i + 1]));
  report.rows.forEach((r, i) => {
    out.push(
      `| ${i + 1} | ${esc(r.name)} | ${formatCount(r.opsPerSec)} | ${r.rmePct.toFixed(1)}% | ${formatMs(r.meanMs)} | ${formatMs(r.p50Ms)} | ${formatMs(r.p99Ms)} | ${r.samples} | ` +
        `${esc(throughput(r))} | ${r.vsRef !== undefined ? `${r.vsRef.p50Ratio.toFixed(2)}× #${index.get(r.vsRef.ref) ?? '?'}` : ''} | ${esc(r.detail ?? '')} |`,
    );
  });
  out.push('');
  if (report.targets.length > 0) {
    out.push('## Targets', '');
    out.push('| target | measured | stated | measured ÷ stated | met | note |');
    out.push('|---|--:|--:|--:|:-:|---|');
    for (const t of report.targets) {
      out.push(
        `| ${esc(t.label)} | ${withUnit(t.measured, t.unit)} | ${t.lowerIsBetter === true ? '≤ ' : '≥ '}${withUnit(t.target, t.unit)} | ` +
          `${t.ratio.toFixed(2)}× | ${t.met ? 'yes' : '**no**'} | ${esc(t.note ?? '')} |`,
      );
    }
    out.push('');
  }
  if (report.notes.length > 0) {
    out.push('## Notes', '');
    for (const n of report.notes) out.push(`- ${esc(n)}`);
    out.push('');
  }
  out.push(`Columns: ${FIGURES_NOTE}`, '');
  return out.join('\n');
}

/** '12,345 blocks/s', '249 MB'; a ratio as '1.095×' (three decimals, so 1.095 does not print as a met 1.10). */
function withUnit(value: number, unit: string): string {
  return unit === '×' ? `${value.toFixed(3)}×` : `${formatCount(value)} ${unit}`;
}

function throughput(r: Row): string {
  const main = r.items !== undefined ? `${formatCount(r.items.perSec)} ${r.items.unit}/s` : `${formatCount(r.opsPerSec)} ${r.unit}/s`;
  return [main, ...(r.also ?? []).map((a) => `${formatCount(a.perSec)} ${a.unit}/s`)].join(' · ');
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
  const header = ['#', 'task', 'ops/s', '±', 'mean', 'p50', 'p99', 'samples', 'throughput', 'p50 vs ref', 'detail'];
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
    throughput(r),
    r.vsRef !== undefined ? `${r.vsRef.p50Ratio.toFixed(2)}× #${index.get(r.vsRef.ref) ?? '?'}` : '',
    r.detail ?? '',
  ]);
  printTable(header, body, [true, false, true, true, true, true, true, true, true, false, false]);
  for (const t of report.targets) {
    console.log(
      `   target: ${t.label}: measured ${withUnit(t.measured, t.unit)} vs target ${t.lowerIsBetter === true ? '≤ ' : ''}${withUnit(t.target, t.unit)} → ${t.ratio.toFixed(2)}× target, ${t.met ? 'met' : 'NOT met'}` +
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

/** A latency in ms as ns, µs, ms or s with three significant digits. */
export function formatMs(ms: number): string {
  if (ms < 0.001) return `${(ms * 1e6).toPrecision(3)} ns`;
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`;
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  return `${ms.toPrecision(3)} ms`;
}
