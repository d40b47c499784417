// Worker-thread side of sig-cache.test.ts: opens the cache from the SharedArrayBuffer it is sent
// and runs one command on it, posting back what it saw as plain data.

import { parentPort } from 'node:worker_threads';
import { SignatureCache } from '../../src/script/sig-cache.js';

export type SigCacheCommand =
  /** Look each key up; reply with the answers. */
  | { op: 'has'; sab: SharedArrayBuffer; keys: Uint8Array[] }
  /** Add each key; reply when done. */
  | { op: 'add'; sab: SharedArrayBuffer; keys: Uint8Array[] }
  /** Keep adding `count` fresh keys derived from `seed` (races the main thread's lookups). */
  | { op: 'churn'; sab: SharedArrayBuffer; seed: number; count: number };

export type SigCacheReply = { ok: true; found?: boolean[]; lookups: number; hits: number } | { ok: false; error: string };

/** 32 distinct bytes for (seed, i): the test and the worker derive the same keys. */
export function churnKey(seed: number, i: number): Uint8Array {
  const k = new Uint8Array(32);
  const dv = new DataView(k.buffer);
  for (let w = 0; w < 8; w++) dv.setUint32(4 * w, Math.imul(seed + 0x9e3779b9 * w, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35 + w), true);
  return k;
}

parentPort?.on('message', (cmd: SigCacheCommand) => {
  try {
    const cache = SignatureCache.fromShared(cmd.sab);
    let found: boolean[] | undefined;
    if (cmd.op === 'has') found = cmd.keys.map((k) => cache.has(k));
    else if (cmd.op === 'add') for (const k of cmd.keys) cache.add(k);
    else for (let i = 0; i < cmd.count; i++) cache.add(churnKey(cmd.seed, i));
    parentPort!.postMessage({ ok: true, ...(found !== undefined && { found }), lookups: cache.lookups, hits: cache.hits } satisfies SigCacheReply);
  } catch (err) {
    parentPort!.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies SigCacheReply);
  }
});
