// Benchmark entry point: `node dist/bench/run.js [suite ...] [--time=ms] [--warmup=ms]`.
// Runs every suite, or the ones named, prints a table per suite and writes bench/results/<suite>.json
// and bench/results/<suite>.md. `vigil bench` runs the same suites with a progress display.

import { DEFAULTS, SUITES, runSuites, selectSuites } from './suites.js';
import type { Suite, SuiteOptions } from './report.js';

function usage(): string {
  return `usage: node dist/bench/run.js [${SUITES.map((s) => s.name).join('|')} ...] [--time=ms] [--warmup=ms]`;
}

function parseArgs(argv: readonly string[]): { suites: Suite[]; opts: SuiteOptions } {
  let { timeMs, warmupMs } = DEFAULTS;
  const names: string[] = [];
  for (const arg of argv) {
    const m = /^--(time|warmup)=(\d+)$/.exec(arg);
    if (m !== null) {
      if (m[1] === 'time') timeMs = Number(m[2]);
      else warmupMs = Number(m[2]);
    } else if (arg === '--help' || arg === '-h') {
      console.log(usage());
      process.exit(0);
    } else if (arg.startsWith('-')) {
      throw new Error(`unknown option ${arg}\n${usage()}`);
    } else {
      names.push(arg);
    }
  }
  if (timeMs <= 0) throw new Error('--time must be positive');
  return { suites: selectSuites(names), opts: { timeMs, warmupMs } };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
    return;
  }
  await runSuites(parsed.suites, parsed.opts, {}, ['node dist/bench/run.js', ...process.argv.slice(2)].join(' '));
}

await main();
