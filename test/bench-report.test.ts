// The benchmark reports say which command wrote them: a suite run alone, or beside the others.

import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { machineInfo, markdownReport, type SuiteReport } from '../bench/report.js';

const report: SuiteReport = {
  suite: 'parse',
  title: 'parsing',
  checks: [],
  rows: [],
  targets: [],
  notes: [],
  bench: { timeMs: 1000, warmupMs: 200, timestampProvider: 'hrtimeNow', timerOverheadNs: undefined, loadAvg1m: { before: 0.5, after: 0.6 } },
};

describe('bench report', () => {
  it('names the command that ran the suite, or the suite alone when none is given', () => {
    const date = '2026-01-01T00:00:00.000Z';
    assert.match(markdownReport(report, machineInfo(), date, 'node dist/bench/run.js'), /^Written by `node dist\/bench\/run\.js` on 2026-01-01T00:00:00\.000Z\.$/m);
    assert.match(markdownReport(report, machineInfo(), date, 'vigil bench parse blocks'), /^Written by `vigil bench parse blocks` on /m);
    assert.match(markdownReport(report, machineInfo(), date), /^Written by `node dist\/bench\/run\.js parse` on /m);
  });
});
