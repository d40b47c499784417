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
