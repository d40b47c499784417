// Worker-thread entry for real-block-inputs.test.ts: runs one named case per message and posts
// its CaseResult back (or the error text), so the blocks verify on several cores at once.

import { parentPort } from 'node:worker_threads';
import { loadRealBlockCase, runRealBlockCase } from './real-block-cases.js';

parentPort?.on('message', (name: string) => {
  try {
    parentPort!.postMessage({ ok: true, result: runRealBlockCase(loadRealBlockCase(name)) });
  } catch (err) {
    parentPort!.postMessage({ ok: false, name, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
