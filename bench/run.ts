// Benchmark entry point: `node dist/bench/run.js [suite ...] [--time=ms] [--warmup=ms]`.
// Runs every suite, or the ones named, prints a table per suite and writes bench/results/<suite>.json
// and bench/results/<suite>.md.

import { batchSchnorrSuite } from './batch-schnorr.js';
import { parseSuite } from './parse.js';
import { printMachine, printReport, machineInfo, writeReport, type Suite, type SuiteOptions } from './report.js';
import { sighashSuite } from './sighash.js';
import { signaturesSuite } from './signatures.js';
import { storeSuite } from './store.js';
import { blocksSuite } from './blocks.js';
import { importSuite } from './import.js';
import { utxoSuite } from './utxo.js';

const SUITES: readonly Suite[] = [signaturesSuite, batchSchnorrSuite, sighashSuite, parseSuite, storeSuite, utxoSuite, blocksSuite, importSuite];

/** ~1 s per task keeps each tinybench suite under two minutes on a 2-core machine (blocks and import take longer: see their headers). */
const DEFAULTS: SuiteOptions = { timeMs: 1000, warmupMs: 200 };

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
  const suites = names.length === 0 ? [...SUITES] : names.map((n) => {
    const s = SUITES.find((x) => x.name === n);
    if (s === undefined) throw new Error(`unknown suite "${n}"\n${usage()}`);
    return s;
  });
  return { suites, opts: { timeMs, warmupMs } };
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
  const machine = machineInfo();
  printMachine(machine);
  const started = performance.now();
  for (const suite of parsed.suites) {
    const t0 = performance.now();
    const report = await suite.run(parsed.opts);
    printReport(report);
    const file = writeReport(report, machine);
    console.log(`   wrote ${file} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
