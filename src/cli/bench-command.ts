// `vigil bench [suite ...]`: the benchmark suites of bench/ (the same code and reports as
// `node dist/bench/run.js`), with a line on stderr as each suite starts and a progress display
// of its timed tasks. The suites are loaded only here: an installed package ships neither them,
// nor the real blocks they time, nor their dev dependency tinybench, and no other command should
// pay for loading them.

import { UsageError } from './io.js';
import { Progress, type ProgressMode, type ProgressStream } from './progress.js';

export interface BenchCommandOptions {
  /** Suite names; none runs every suite. */
  suites: readonly string[];
  timeMs: number;
  warmupMs: number;
  mode: ProgressMode;
  stream: ProgressStream;
}

type SuitesModule = typeof import('../../bench/suites.js');

async function loadSuites(): Promise<SuitesModule> {
  try {
    return await import('../../bench/suites.js');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      throw new UsageError(`vigil bench runs from a checkout of the repository with its dev dependencies installed (npm install): the suites, their real blocks and tinybench are not part of an installed package (${(err as Error).message})`);
    }
    throw err;
  }
}

export async function benchCommand(opts: BenchCommandOptions): Promise<number> {
  const bench = await loadSuites();
  let suites;
  try {
    suites = bench.selectSuites(opts.suites);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let suiteName = '';
  let tasks: Progress | undefined;
  const endTasks = (): void => {
    tasks?.finish();
    tasks = undefined;
  };
  await bench.runSuites(suites, { timeMs: opts.timeMs, warmupMs: opts.warmupMs }, {
    suiteStart: (suite, i, n) => {
      suiteName = suite.name;
      if (opts.mode !== 'off') opts.stream.write(`bench: suite ${i + 1}/${n} ${suite.name}: ${suite.title}\n`);
    },
    // One display per group of tinybench tasks (some suites time several groups).
    task: (e) => {
      if (e.done === 0) {
        endTasks();
        // Every task is a line off a terminal: tasks take seconds each, a few per suite.
        tasks = new Progress({ label: `bench ${suiteName}: ${e.title}`, unit: 'tasks', total: e.total, showRates: false, mode: opts.mode, stream: opts.stream, lineMs: 0 });
        if (opts.mode === 'tty') tasks.update(0);
      } else if (e.done >= e.total) {
        tasks?.finish(e.done);
        tasks = undefined;
      } else {
        tasks?.update(e.done, [], { note: `done: ${e.task}` });
      }
    },
    suiteEnd: () => endTasks(),
  }, ['vigil bench', ...opts.suites].join(' '));
  return 0;
}
