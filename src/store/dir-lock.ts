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
//
// A process id says nothing across pid namespaces: containers sharing a volume each run their
// service as pid 1, say. So a holder also marks its lock alive (its mtime) every HEARTBEAT_MS, and
// a lock naming this process's own id that this thread does not hold is taken for one a process
// with the same id left (a container restarted after a kill) only once it has gone unmarked for
// SAME_PID_STALE_MS; until then it may be a live one in another namespace, and is refused. Locks
// of the same id are told apart by their file (device, inode, birth time) as well as their
// content: a holder marks and releases only the file it made, while it still names this process.

import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { StoreError, wrapStoreError } from './store-error.js';

export const LOCK_FILE = 'vigil.lock';

/** A takeover file older than this was left by a process that died while holding it. */
const TAKEOVER_STALE_MS = 10_000;
/** Attempts before giving up while other processes keep taking over or releasing the lock. */
const ATTEMPTS = 50;
/** How often a holder marks its lock alive. */
const HEARTBEAT_MS = 15_000;
/**
 * How long a lock naming this process's own id, not held by this thread, must have gone unmarked
 * to be taken over: eight heartbeats, so a holder whose event loop is busy for a while (a block
 * checked on the main thread takes seconds) is not taken for a dead one.
 */
export const SAME_PID_STALE_MS = 120_000;

/**
 * The directories whose lock this thread holds, by real path, shared by every copy of this module
 * the thread loads: a lock naming this process's id is ours only if it is here.
 */
const held: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('vigil.heldDirLocks')] ??= new Set<string>()) as Set<string>;

/** Whether the lock names this process's id but has gone unmarked for SAME_PID_STALE_MS (stat after the read). */
function ownIdLeftBehind(path: string): boolean {
  if (holderOf(path) !== process.pid) return false;
  try {
    return Date.now() - statSync(path).mtimeMs > SAME_PID_STALE_MS;
  } catch {
    return false;
  }
}

/**
 * The file at `path` as device, inode and birth time, or undefined when there is none: a file
 * system hands a freed inode number to the next file it makes (ext4 gave it back 5 times of 5), so
 * the inode alone could take a later lock for this one. (Birth time is 0 where the file system does
 * not keep it.)
 */
function fileId(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.birthtimeNs}`;
  } catch {
    return undefined;
  }
}

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
    // A lock naming our own id may be a new one another process with the same id (another
    // container) made since the caller looked: removed only if it is still unmarked for long.
    if (holderOf(path) === stale && (stale !== process.pid || ownIdLeftBehind(path))) removeQuietly(path);
  } finally {
    closeSync(fd);
    removeQuietly(takeover);
  }
}

/**
 * Take the directory's writer lock; returns its release. Throws StoreError 'locked' when a live
 * process holds it. `heartbeatMs`: how often the lock is marked alive (tests shorten it).
 */
export function acquireDirLock(dir: string, heartbeatMs = HEARTBEAT_MS): () => void {
  const path = join(dir, LOCK_FILE);
  // Named for this attempt alone: processes with the same id (containers) must not write each other's.
  const mine = `${path}.${process.pid}.${threadId}.${randomBytes(6).toString('hex')}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(mine, `${process.pid}\n`);
  } catch (err) {
    throw wrapStoreError(`locking ${dir}`, err, 'open');
  }
  let written: string | undefined = mine;
  let key: string;
  try {
    key = realpathSync(dir);
  } catch {
    key = dir;
  }
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
        const id = fileId(path);
        const ours = (): boolean => id !== undefined && fileId(path) === id && holderOf(path) === process.pid;
        held.add(key);
        const beat = setInterval(() => {
          try {
            if (!ours()) return;
            const now = new Date();
            utimesSync(path, now, now);
          } catch {
            // A missed mark: the next one comes in heartbeatMs, long before SAME_PID_STALE_MS.
          }
        }, heartbeatMs);
        beat.unref();
        // Once only: called again after this process took the directory's lock anew, it would
        // remove that one.
        let released = false;
        return () => {
          if (released) return;
          released = true;
          clearInterval(beat);
          held.delete(key);
          if (ours()) removeQuietly(path);
        };
      }
      const holder = holderOf(path);
      // Our own id in a lock this thread does not hold, unmarked for long: left by an earlier
      // process that had the same id (a restarted container), so stale.
      const leftBehind = holder === process.pid && !held.has(key) && ownIdLeftBehind(path);
      if (typeof holder === 'number' && !leftBehind && (holder === process.pid || alive(holder))) {
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
