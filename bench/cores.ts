// How many cores this process can get right now: `threads` threads spin for `ms` and the process's
// CPU time is divided by the wall time. On a shared 2-core machine another busy process leaves 1.0,
// and a parallel speed-up measured meanwhile says nothing about the code: the suites print this
// beside their parallel figures.

import { Worker } from 'node:worker_threads';

const SPIN = `
const { parentPort, workerData } = require('node:worker_threads');
const end = Date.now() + workerData;
let x = 0;
while (Date.now() < end) for (let i = 0; i < 10000; i++) x += Math.sqrt(i + x);
parentPort.postMessage(x);
`;

export async function probeCores(threads = 2, ms = 500): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(SPIN, { eval: true, workerData: ms });
          w.once('message', () => void w.terminate().then(() => resolve()));
          w.once('error', reject);
        }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
}
