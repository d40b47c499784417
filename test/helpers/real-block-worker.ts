// Worker-thread entry for real-block-inputs.test.ts: runs one named case per message, under the
// signature backend the message names, and posts its CaseResult back (or the error text), so the
// blocks verify on several cores at once.

import { parentPort } from 'node:worker_threads';
import { loadRealBlockCase, runRealBlockCase } from './real-block-cases.js';
import { loadBackend, type BackendName } from '../../src/script/backends.js';

export interface RealBlockJob {
  name: string;
  backend: BackendName;
}

parentPort?.on('message', (job: RealBlockJob) => {
  loadBackend(job.backend)
    .then((backend) => parentPort!.postMessage({ ok: true, result: runRealBlockCase(loadRealBlockCase(job.name), backend) }))
    .catch((err: unknown) => {
      parentPort!.postMessage({ ok: false, name: job.name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    });
});
