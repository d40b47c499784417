// The peak memory the selftest and the import benchmark report is the process's own, not the
// RSS its parent had when it started it.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { peakRssMB } from '../src/metrics/peak-rss.js';

const MODULE = fileURLToPath(new URL('../src/metrics/peak-rss.js', import.meta.url));

test('peakRssMB: a child started by a large process reports its own peak', { skip: process.platform !== 'linux' && 'VmHWM is Linux’s' }, (t) => {
  const ballast = new Uint8Array(256 * 2 ** 20).fill(1); // resident in this process
  const script = `import(${JSON.stringify(MODULE)}).then((m) => console.log(JSON.stringify([m.peakRssMB(), process.resourceUsage().maxRSS / 1024])))`;
  const [own, rusage] = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as [number, number];
  assert.ok(ballast[ballast.length - 1] === 1);
  assert.ok(own > 10 && own < 200, `the child's own peak: ${own} MB`);
  // What the figure was before (on Linux, getrusage's peak starts from this process's RSS).
  t.diagnostic(`the child's peak: ${own.toFixed(0)} MB; its getrusage ru_maxrss: ${rusage.toFixed(0)} MB`);
  assert.ok(peakRssMB() > 256, 'this process holds its ballast');
});

test('peakRssMB: the peak (VmHWM) in MiB, not the RSS now', { skip: process.platform !== 'linux' && 'VmHWM is Linux’s' }, () => {
  // A child that holds 256 MiB, lets it go and collects it: its RSS falls back, its peak does not.
  const script = `
    const { readFileSync } = await import('node:fs');
    const { peakRssMB } = await import(${JSON.stringify(MODULE)});
    const hwm = () => Number(/^VmHWM:\\s+(\\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    let ballast = Buffer.alloc(256 * 2 ** 20, 1);
    ballast = undefined;
    globalThis.gc();
    globalThis.gc();
    const before = hwm();
    const peak = peakRssMB();
    const after = hwm();
    console.log(JSON.stringify({ before, peak, after, rss: process.memoryUsage().rss / 2 ** 20 }));`;
  const r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' })) as { before: number; peak: number; after: number; rss: number };
  assert.ok(r.peak >= r.before / 1024 && r.peak <= r.after / 1024, `${r.peak} MiB is VmHWM (${r.before}–${r.after} kB) in MiB`);
  assert.ok(r.peak > 256, `the peak held the ballast: ${r.peak} MiB`);
  assert.ok(r.rss < r.peak - 128, `the RSS now (${r.rss.toFixed(0)} MiB) is well below the peak (${r.peak.toFixed(0)} MiB)`);
});
