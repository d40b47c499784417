// The benchmark suites and the loop that runs them, shared by `node dist/bench/run.js` and
// `vigil bench`: print the machine, run each suite, print its table, write its reports.

import { batchSchnorrSuite } from './batch-schnorr.js';
import { parseSuite } from './parse.js';
import { printMachine, printReport, machineInfo, writeReport, setTaskListener, type Suite, type SuiteOptions, type TaskListener } from './report.js';
import { sighashSuite } from './sighash.js';
import { signaturesSuite } from './signatures.js';
import { storeSuite } from './store.js';
import { blocksSuite } from './blocks.js';
import { importSuite } from './import.js';
import { utxoSuite } from './utxo.js';
import { serviceSuite } from './service.js';

export const SUITES: readonly Suite[] = [signaturesSuite, batchSchnorrSuite, sighashSuite, parseSuite, storeSuite, utxoSuite, blocksSuite, importSuite, serviceSuite];

/** ~1 s per task keeps each tinybench suite under two minutes on a 2-core machine (blocks and import take longer: see their headers). */
export const DEFAULTS: SuiteOptions = { timeMs: 1000, warmupMs: 200 };

/** The suites named, in the order given; all of them when none is. Throws on an unknown name. */
export function selectSuites(names: readonly string[]): Suite[] {
  if (names.length === 0) return [...SUITES];
  return names.map((n) => {
    const s = SUITES.find((x) => x.name === n);
    if (s === undefined) throw new Error(`unknown suite "${n}" (suites: ${SUITES.map((x) => x.name).join(', ')})`);
    return s;
  });
}

export interface RunHooks {
  /** Before a suite starts (index from 0). */
  suiteStart?(suite: Suite, index: number, count: number): void;
  /** A tinybench task of the running suite finished. */
  task?: TaskListener;
  /** After a suite ran, before its table is printed. */
  suiteEnd?(suite: Suite, seconds: number): void;
}

/**
 * Run `suites` one after the other: print each report and write bench/results/<suite>.{json,md}.
 * `invocation`: the command that asked for these suites, as each report states it (writeReport).
 */
export async function runSuites(suites: readonly Suite[], opts: SuiteOptions, hooks: RunHooks = {}, invocation?: string): Promise<void> {
  const machine = machineInfo();
  printMachine(machine);
  const started = performance.now();
  setTaskListener(hooks.task);
  try {
    for (const [i, suite] of suites.entries()) {
      hooks.suiteStart?.(suite, i, suites.length);
      const t0 = performance.now();
      const report = await suite.run(opts);
      const seconds = (performance.now() - t0) / 1000;
      hooks.suiteEnd?.(suite, seconds);
      printReport(report);
      const file = writeReport(report, machine, invocation);
      console.log(`   wrote ${file} (${seconds.toFixed(1)} s)`);
    }
  } finally {
    setTaskListener(undefined);
  }
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
