// One writer per chain state directory (Core's .lock): two processes appending to the same flat
// files or racing on the tip would corrupt the store. The lock is a file holding the writer's
// process id; one left by a process that died (a crash, SIGKILL) is taken over, since its
// owner no longer exists. Readers that write only the sources database (`vigil sources`,
// `vigil unban`) do not take it.
//
// Two races are closed. The lock file appears with its process id already in it: it is a hard
// link to a file written first, so no process ever reads an empty lock and takes it for stale.
// And a stale lock is removed by one process at a time, holding a second file made with O_EXCL,
// which removes it only while it still names the dead process: two processes that both saw the
// dead one cannot each remove it, the second removing the first's new lock (seen with six
// processes starting at the same millisecond: two holders in 10 of 40 trials).

import { closeSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError, wrapStoreError } from './store-error.js';

export const LOCK_FILE = 'vigil.lock';

/** A takeover file older than this was left by a process that died while holding it. */
const TAKEOVER_STALE_MS = 10_000;
/** Attempts before giving up while other processes keep taking over or releasing the lock. */
const ATTEMPTS = 50;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid the lock names; undefined when unreadable or not a pid (stale); null when there is no lock. */
function holderOf(path: string): number | undefined | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    // Gone meanwhile: nothing to remove (another process may be about to link its lock there).
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** Errors of link() on a file system without hard links: the lock is then made in place. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Create the lock naming this process; false when one exists. */
function create(path: string, written: string | undefined): boolean {
  try {
    if (written !== undefined) {
      linkSync(written, path);
    } else {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Remove the lock at `path` if it still names `stale` (a dead process, or none readable), as the
 * one process doing so: without the takeover file, do nothing (another process is at it; the
 * caller tries again). Exported for the tests.
 *
 * A takeover file is left behind only by a process that died in the few calls below; one older
 * than TAKEOVER_STALE_MS is removed by name, so a process that checks its age just as another
 * replaces it can remove the new one. That needs a death inside this function and then three
 * processes starting within microseconds of each other; without an atomic compare-and-swap on
 * files (or flock, which Node does not offer) it is left so.
 */
export function takeOverStale(path: string, stale: number | undefined): void {
  const takeover = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(takeover, 'wx');
  } catch {
    try {
      if (Date.now() - statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(takeover);
    } catch {
      // Gone meanwhile: the next attempt takes it.
    }
    return;
  }
  try {
    if (holderOf(path) === stale) removeQuietly(path);
  } finally {
    closeSync(fd);
    removeQuietly(takeover);
  }
}

/** Take the directory's writer lock; returns its release. Throws StoreError 'locked' when a live process holds it. */
export function acquireDirLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const mine = `${path}.${process.pid}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(mine, `${process.pid}\n`);
  } catch (err) {
    throw wrapStoreError(`locking ${dir}`, err, 'open');
  }
  let written: string | undefined = mine;
  try {
    for (let attempt = 0; ; attempt++) {
      let created: boolean;
      try {
        created = create(path, written);
      } catch (err) {
        if (written !== undefined && NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) {
          written = undefined;
          continue;
        }
        throw wrapStoreError(`locking ${dir}`, err, 'open');
      }
      if (created) {
        // Once only: called again after this process took the directory's lock anew, it would
        // remove that one.
        let released = false;
        return () => {
          if (released) return;
          released = true;
          if (holderOf(path) === process.pid) removeQuietly(path);
        };
      }
      const holder = holderOf(path);
      if (typeof holder === 'number' && (holder === process.pid || alive(holder))) {
        const who = holder === process.pid ? 'this process' : `process ${holder}`;
        throw new StoreError('locked', `${dir} is in use by ${who} (if no vigil runs there, delete ${path})`);
      }
      if (attempt >= ATTEMPTS) throw new StoreError('locked', `cannot take the lock ${path}`);
      // Gone meanwhile (null): released or removed, so create it again; else it is stale.
      if (holder !== null) takeOverStale(path, holder);
    }
  } finally {
    removeQuietly(mine);
  }
}
