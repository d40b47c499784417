// Progress of a long job on stderr: done/total with a bar and percentage when the total is
// known, rates (blocks/s, and any counters such as tx/s and inputs/s) over a recent window
// rather than since the start (so a slow start or a change of pace shows), and an ETA.
// On a terminal one line is redrawn at most ~10 times a second and cleared at the end; into a
// pipe or file a plain line is written every couple of seconds, so logs stay readable; with
// keepAliveMs either is drawn again while no update comes.

export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** 'tty': one redrawn line; 'lines': a plain line per interval; 'off': nothing. */
export type ProgressMode = 'tty' | 'lines' | 'off';

/** --quiet and --json show no progress; otherwise the stream decides. */
export function progressMode(opts: { quiet?: boolean; json?: boolean; stream: ProgressStream }): ProgressMode {
  if (opts.quiet === true || opts.json === true) return 'off';
  return opts.stream.isTTY === true ? 'tty' : 'lines';
}

/**
 * Rates over the last `windowMs`: samples of cumulative counts, the oldest dropped once a newer
 * one is itself at least a window old. Until a window has passed, the rate is since the first sample.
 */
export class RateWindow {
  private readonly samples: Array<{ t: number; values: readonly number[] }> = [];
  /** Samples closer together than this replace the newest one: at most ~50 per window are kept. */
  private readonly gapMs: number;

  constructor(private readonly windowMs: number) {
    this.gapMs = windowMs / 50;
  }

  push(t: number, values: readonly number[]): void {
    const n = this.samples.length;
    if (n >= 2 && t - this.samples[n - 2]!.t < this.gapMs) this.samples[n - 1] = { t, values: [...values] };
    else this.samples.push({ t, values: [...values] });
    // Keep one sample at or beyond the window's start so the rate always spans a full window.
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
  }

  /** Per-second rates of each value, or undefined before two samples some time apart. */
  rates(): number[] | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (first === undefined || last === undefined || last.t <= first.t) return undefined;
    const seconds = (last.t - first.t) / 1000;
    return last.values.map((v, i) => (v - (first.values[i] ?? 0)) / seconds);
  }
}

/** `m:ss` or `h:mm:ss`; '?' when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A rate for people: one decimal below 10, thousands separated above. */
export function formatRate(perSec: number): string {
  if (perSec < 10) return perSec.toFixed(1);
  return Math.round(perSec).toLocaleString('en-US');
}

/** Seconds left at `perSec`, or undefined when it cannot be told. */
export function eta(done: number, total: number | undefined, perSec: number | undefined): number | undefined {
  if (total === undefined || perSec === undefined || perSec <= 0) return undefined;
  return Math.max(0, total - done) / perSec;
}

export interface ProgressState {
  readonly label: string;
  readonly unit: string;
  readonly done: number;
  readonly total?: number;
  /** Rates to show, main unit first: [{ unit: 'blocks', perSec: 210 }, { unit: 'tx', perSec: 5200 }]. */
  readonly rates: ReadonlyArray<{ readonly unit: string; readonly perSec: number }>;
  readonly etaSeconds?: number;
  /** Elapsed seconds, shown instead of the ETA on a final line. */
  readonly elapsedSeconds?: number;
  readonly note?: string;
}

/** The terminal line: label, bar and percentage, counts, rates, ETA; cut to `width` columns. */
export function renderTtyLine(s: ProgressState, width = 100): string {
  const parts: string[] = [s.label];
  if (s.total !== undefined && s.total > 0) {
    const frac = Math.min(1, s.done / s.total);
    const barWidth = Math.max(10, Math.min(30, width - 90));
    const filled = Math.round(frac * barWidth);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%`);
    parts.push(`${s.done}/${s.total} ${s.unit}`);
  } else {
    parts.push(`${s.done} ${s.unit}`);
  }
  if (s.rates.length > 0) parts.push(s.rates.map((r) => `${formatRate(r.perSec)} ${r.unit}/s`).join(' '));
  parts.push(s.elapsedSeconds === undefined ? `ETA ${formatDuration(s.etaSeconds)}` : `in ${formatDuration(s.elapsedSeconds)}`);
  if (s.note !== undefined) parts.push(s.note);
  const line = parts.join('  ');
  return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
}

/** The plain line for pipes and files: no bar, no control characters. */
export function renderPlainLine(s: ProgressState): string {
  let count = s.total !== undefined && s.total > 0 ? `${s.done}/${s.total} ${s.unit} (${((Math.min(1, s.done / s.total)) * 100).toFixed(1)}%)` : `${s.done} ${s.unit}`;
  for (const r of s.rates) count += `, ${formatRate(r.perSec)} ${r.unit}/s`;
  const time = s.elapsedSeconds === undefined ? `ETA ${formatDuration(s.etaSeconds)}` : `in ${(s.elapsedSeconds).toFixed(1)} s`;
  return `${s.label}: ${count}, ${time}${s.note === undefined ? '' : `, ${s.note}`}`;
}

export interface ProgressOptions {
  readonly label: string;
  /** What `done` counts: 'blocks', 'tasks'. */
  readonly unit: string;
  readonly total?: number;
  /** Extra cumulative counters shown as rates after the main one ('tx', 'inputs'). */
  readonly counters?: readonly string[];
  /** Show rates at all (not for a handful of unequal benchmark tasks). Default true. */
  readonly showRates?: boolean;
  readonly mode: ProgressMode;
  readonly stream: ProgressStream;
  /** Milliseconds clock. */
  readonly now?: () => number;
  /** Least time between terminal redraws (default 100 ms) and between plain lines (default 2 s). */
  readonly redrawMs?: number;
  readonly lineMs?: number;
  /** The window rates and the ETA are computed over (default 10 s). */
  readonly windowMs?: number;
  /**
   * Also draw (a plain line, or the terminal's line again) when this long passes without a draw,
   * updates or not: a slow block still shows the job alive, its rates falling. Off when absent;
   * the timer keeps no process alive and stops at finish().
   */
  readonly keepAliveMs?: number;
}

/** The terminal line currently drawn, so other writers to stderr (logs) can clear it first. */
let drawn: Progress | undefined;

/** A stderr for loggers: clears a drawn progress line before each write (it is redrawn on the next update). */
export const progressAwareStderr = {
  write(chunk: string): boolean {
    drawn?.clear();
    return process.stderr.write(chunk);
  },
};

export class Progress {
  private readonly now: () => number;
  private readonly window: RateWindow;
  private readonly started: number;
  private last = -Infinity;
  private done = 0;
  private counts: number[];
  private total: number | undefined;
  private note: string | undefined;
  private visible = false;
  private finished = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.window = new RateWindow(opts.windowMs ?? 10_000);
    this.started = this.now();
    this.total = opts.total;
    this.counts = (opts.counters ?? []).map(() => 0);
    this.window.push(this.started, [0, ...this.counts]);
    // A plain line only after a full interval: a job shorter than that shows just its final line.
    if (opts.mode === 'lines') this.last = this.started;
    const keepAlive = opts.keepAliveMs ?? 0;
    if (opts.mode !== 'off' && keepAlive > 0) {
      this.timer = setInterval(() => this.keepAlive(keepAlive), Math.max(10, keepAlive / 4));
      this.timer.unref();
    }
  }

  private keepAlive(ms: number): void {
    const t = this.now();
    if (!this.finished && t - this.last >= ms) this.sample(t, ms);
  }

  /** Add the current figures to the rate window at `t`, and draw if `interval` has passed since the last draw. */
  private sample(t: number, interval: number): void {
    this.window.push(t, [this.done, ...this.counts]);
    if (this.opts.mode === 'off' || t - this.last < interval) return;
    this.last = t;
    this.draw(this.state(false));
  }

  /** New cumulative figures; draws when the interval has passed. */
  update(done: number, counts: readonly number[] = [], extra: { total?: number; note?: string } = {}): void {
    if (this.finished) return;
    this.done = done;
    this.counts = this.counts.map((c, i) => counts[i] ?? c);
    if (extra.total !== undefined) this.total = extra.total;
    if (extra.note !== undefined) this.note = extra.note;
    this.sample(this.now(), this.opts.mode === 'tty' ? (this.opts.redrawMs ?? 100) : (this.opts.lineMs ?? 2000));
  }

  /** The figures as they would be drawn now; `final` gives averages since the start and the elapsed time. */
  state(final: boolean): ProgressState {
    const t = this.now();
    const units = [this.opts.unit, ...(this.opts.counters ?? [])];
    const elapsed = (t - this.started) / 1000;
    const values = [this.done, ...this.counts];
    const perSec = final ? (elapsed > 0 ? values.map((v) => v / elapsed) : undefined) : this.window.rates();
    const rates = this.opts.showRates === false || perSec === undefined ? [] : units.map((unit, i) => ({ unit, perSec: perSec[i] ?? 0 }));
    const total = this.total === undefined ? undefined : Math.max(this.total, this.done);
    return {
      label: this.opts.label,
      unit: this.opts.unit,
      done: this.done,
      ...(total === undefined ? {} : { total }),
      rates,
      ...(final ? { elapsedSeconds: elapsed } : { etaSeconds: eta(this.done, total, this.window.rates()?.[0]) }),
      ...(this.note === undefined ? {} : { note: this.note }),
    };
  }

  /** Erase the terminal line (before other output); the next update draws it again. */
  clear(): void {
    if (!this.visible) return;
    this.opts.stream.write('\r\x1b[K');
    this.visible = false;
    if (drawn === this) drawn = undefined;
  }

  /** End (at `done`, if given): clear the terminal line, or write a last plain line with averages and the time taken. */
  finish(done?: number): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    if (done !== undefined) this.done = done;
    if (this.opts.mode === 'tty') this.clear();
    else if (this.opts.mode === 'lines') this.opts.stream.write(renderPlainLine(this.state(true)) + '\n');
  }

  private draw(s: ProgressState): void {
    if (this.opts.mode === 'tty') {
      // A terminal of unknown or implausible width (0 under some wrappers) gets 100 columns.
      const columns = this.opts.stream.columns;
      this.opts.stream.write(`\r${renderTtyLine(s, columns !== undefined && columns >= 40 ? columns : 100)}\x1b[K`);
      this.visible = true;
      drawn = this;
    } else {
      this.opts.stream.write(renderPlainLine(s) + '\n');
    }
  }
}
