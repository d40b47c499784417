// One writer per chain state directory (Core's .lock): two processes appending to the same flat
// files or racing on the tip would corrupt the store. The lock is a file holding the writer's
// process id; one left by a process that died (a crash, SIGKILL) is taken over, since its
// owner no longer exists. Readers that write only the sources database (`vigil sources`,
// `vigil unban`) do not take it.

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError, wrapStoreError } from './store-error.js';

export const LOCK_FILE = 'vigil.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // gone meanwhile, or unreadable: treated as stale
  }
}

/** Take the directory's writer lock; returns its release. Throws StoreError 'locked' when a live process holds it. */
export function acquireDirLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw wrapStoreError(`creating ${dir}`, err, 'open');
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => {
        if (holderOf(path) === process.pid) {
          try {
            unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrapStoreError(`locking ${dir}`, err, 'open');
      const holder = holderOf(path);
      if (holder !== undefined && (holder === process.pid || alive(holder))) {
        const who = holder === process.pid ? 'this process' : `process ${holder}`;
        throw new StoreError('locked', `${dir} is in use by ${who} (if no vigil runs there, delete ${path})`);
      }
      if (attempt >= 3) throw new StoreError('locked', `cannot take the lock ${path}`);
      try {
        unlinkSync(path); // stale: its writer died
      } catch {
        // Another process took it over first; try again.
      }
    }
  }
}
