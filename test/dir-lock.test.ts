// One writer per chain state directory: a second open is refused while the first holds the lock,
// from this process or another; a lock left by a dead process is taken over; sources and unban,
// which write only the sources database, run beside the writer.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainState } from '../src/chain/chain-state.js';
import { LOCK_FILE, SAME_PID_STALE_MS, acquireDirLock, takeOverStale } from '../src/store/dir-lock.js';
import { ChainStore, StoreError } from '../src/store/index.js';
import { tempDir } from './helpers/regtest-chain.js';
import { CLI } from './helpers/serve.js';

test('a chain state directory has one writer at a time', async () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
    try {
      await assert.rejects(ChainState.open(tmp.dir, { network: 'regtest' }), (err: unknown) => err instanceof StoreError && err.code === 'locked' && /this process/.test(err.message));
      const other = spawnSync(process.execPath, [CLI, 'tip', '--datadir', tmp.dir], { encoding: 'utf8' });
      assert.equal(other.status, 2, other.stderr);
      assert.match(other.stderr, new RegExp(`in use by process ${process.pid}`));
      const sources = spawnSync(process.execPath, [CLI, 'sources', '--datadir', tmp.dir], { encoding: 'utf8' });
      assert.equal(sources.status, 0, `sources runs beside the writer: ${sources.stderr}`);
    } finally {
      await chain.close();
    }
    assert.equal(existsSync(join(tmp.dir, LOCK_FILE)), false, 'close releases the lock');
    const again = await ChainState.open(tmp.dir, { network: 'regtest' });
    await again.close();
  } finally {
    tmp.remove();
  }
});

test('a lock left by a process that died is taken over', async () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(tmp.dir, LOCK_FILE), `${dead.stdout}\n`);
    const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
    await chain.close();
  } finally {
    tmp.remove();
  }
});

/** A pid no process has: that of a child that has exited. */
function deadPid(): string {
  return spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
}

test('a stale lock is removed only while it still names the dead process, by one process at a time', () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    const dead = Number(deadPid());
    writeFileSync(path, `${dead}\n`);
    const release = acquireDirLock(tmp.dir);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, 'the stale lock is taken over, the pid in it at once');
    // A second process that read the dead pid before the takeover acts on it late: the new lock stays.
    takeOverStale(path, dead);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
    release();
    assert.equal(existsSync(path), false);
    assert.deepEqual(readdirSync(tmp.dir), [], 'no file of the lock is left behind');

    // While another process holds the takeover file, a stale lock is left to it.
    writeFileSync(path, `${dead}\n`);
    writeFileSync(`${path}.takeover`, '');
    takeOverStale(path, dead);
    assert.equal(readFileSync(path, 'utf8'), `${dead}\n`);
    // A takeover file its process left behind (older than 10 s) is cleared, and the next attempt goes on.
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${path}.takeover`, old, old);
    takeOverStale(path, dead);
    assert.equal(existsSync(`${path}.takeover`), false);
    takeOverStale(path, dead);
    assert.equal(existsSync(path), false);
  } finally {
    tmp.remove();
  }
});

test('processes starting at the same moment: exactly one takes the lock, stale or not', async () => {
  const lockUrl = new URL('../src/store/dir-lock.js', import.meta.url).href;
  // Each child spins until the agreed moment, tries once, and holds what it took for 1.5 s.
  const child = `
    const { acquireDirLock } = await import(${JSON.stringify(lockUrl)});
    const [dir, start] = [process.argv[1], Number(process.argv[2])];
    while (Date.now() < start) {}
    try { const release = acquireDirLock(dir); console.log('GOT'); setTimeout(release, 1500); }
    catch (err) { console.log(err.code); }`;
  const tmp = tempDir('vigil-lock-');
  try {
    for (const stale of [true, true, true, false, false]) {
      if (stale) writeFileSync(join(tmp.dir, LOCK_FILE), `${deadPid()}\n`);
      const start = Date.now() + 700;
      const outs = await Promise.all(
        Array.from({ length: 6 }, () =>
          new Promise<string>((resolve, reject) => {
            const p = spawn(process.execPath, ['--input-type=module', '-e', child, tmp.dir, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            p.stdout.on('data', (d: Buffer) => (out += d.toString()));
            p.on('error', reject);
            p.on('close', () => resolve(out.trim()));
          }),
        ),
      );
      assert.equal(outs.filter((o) => o === 'GOT').length, 1, `${stale ? 'stale lock' : 'no lock'}: ${outs.join(', ')}`);
      assert.ok(outs.every((o) => o === 'GOT' || o === 'locked'), outs.join(', '));
      assert.deepEqual(readdirSync(tmp.dir), [], 'released, and no file of the lock left behind');
    }
  } finally {
    tmp.remove();
  }
});

test('a lock that is gone when read is created again, never removed: another process may be linking its own there', () => {
  const tmp = tempDir('vigil-lock-');
  // node:fs as CommonJS sees it: what is set there reaches ES modules' imports with syncBuiltinESMExports.
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const read = fs.readFileSync;
  try {
    const path = join(tmp.dir, LOCK_FILE);
    // The other process (here: this one, as pid 1, always alive) links its lock in just after a read
    // found none: a stale-lock takeover that trusted that read would remove it.
    let armed = true;
    fs.readFileSync = function (this: unknown, ...args: Parameters<typeof read>) {
      try {
        return read.apply(this, args);
      } finally {
        if (armed && args[0] === path) {
          armed = false;
          writeFileSync(`${path}.other`, '1\n');
          fs.linkSync(`${path}.other`, path);
          fs.unlinkSync(`${path}.other`);
        }
      }
    } as typeof read;
    syncBuiltinESMExports();
    takeOverStale(path, undefined);
    assert.equal(read(path, 'utf8'), '1\n', "the other process's lock is left in place");
  } finally {
    fs.readFileSync = read;
    syncBuiltinESMExports();
    tmp.remove();
  }
});

test('a lock that names no process (0, a negative number, garbage, nothing) is stale and taken over', () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    for (const content of ['0\n', '-5\n', 'garbage\n', '\n', '']) {
      writeFileSync(path, content);
      const release = acquireDirLock(tmp.dir);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, `a lock holding ${JSON.stringify(content)}`);
      release();
      assert.deepEqual(readdirSync(tmp.dir), []);
    }
  } finally {
    tmp.remove();
  }
});

test('release removes only a lock that still names this process', () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    const release = acquireDirLock(tmp.dir);
    // Another process took the lock over meanwhile (it found ours stale): its lock stays.
    writeFileSync(path, '1\n');
    release();
    assert.equal(readFileSync(path, 'utf8'), '1\n');
  } finally {
    tmp.remove();
  }
});

test('a stale lock that another process keeps taking over is given up on after a bounded number of attempts', () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    const dead = deadPid();
    writeFileSync(path, `${dead}\n`);
    // A takeover file that is not stale: another process is at it, and this one never gets its turn.
    writeFileSync(`${path}.takeover`, '');
    assert.throws(
      () => acquireDirLock(tmp.dir),
      (err: unknown) => err instanceof StoreError && err.code === 'locked' && /cannot take the lock/.test(err.message),
    );
    assert.equal(readFileSync(path, 'utf8'), `${dead}\n`);
    assert.deepEqual(readdirSync(tmp.dir).sort(), [LOCK_FILE, `${LOCK_FILE}.takeover`]);
  } finally {
    tmp.remove();
  }
});

// Containers sharing a volume each run their service with the same pid (1, say): a lock naming
// this process's own id is a live holder in another namespace while it is marked alive, and one a
// killed run left (a restarted container) once it has gone unmarked for SAME_PID_STALE_MS.
test('a lock naming our own pid that this process does not hold: refused while marked alive, taken over once unmarked for long', async () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    writeFileSync(path, `${process.pid}\n`);
    await assert.rejects(ChainState.open(tmp.dir, { network: 'regtest' }), (err: unknown) => err instanceof StoreError && err.code === 'locked' && /this process/.test(err.message), 'fresh: maybe a live holder');
    const silent = new Date(Date.now() - SAME_PID_STALE_MS - 60_000);
    utimesSync(path, silent, silent);
    const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
    try {
      // Ours now: a second open in this process is still refused, however old the mark.
      utimesSync(path, silent, silent);
      await assert.rejects(ChainState.open(tmp.dir, { network: 'regtest' }), (err: unknown) => err instanceof StoreError && err.code === 'locked');
    } finally {
      await chain.close();
    }
    assert.equal(existsSync(path), false, 'close releases the lock');
  } finally {
    tmp.remove();
  }
});

test('two with the same pid taking over one left behind: the later takeover leaves the new lock alone', () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    writeFileSync(path, `${process.pid}\n`);
    const silent = new Date(Date.now() - SAME_PID_STALE_MS - 60_000);
    utimesSync(path, silent, silent);
    // One took it over and made its own (same content: same pid); the other acts on what it saw
    // before, the old lock: the new one, marked just now, stays.
    const release = acquireDirLock(tmp.dir);
    takeOverStale(path, process.pid);
    assert.equal(existsSync(path), true, 'the new lock stays');
    // Released by its maker only: a same-pid lock made by another in its place is not removed.
    unlinkSync(path);
    writeFileSync(path, `${process.pid}\n`);
    release();
    assert.equal(existsSync(path), true, 'another file, though it names the same pid');
  } finally {
    tmp.remove();
  }
});

test('a holder marks its lock alive while it holds it, and stops when it releases it', async () => {
  const tmp = tempDir('vigil-lock-');
  try {
    const path = join(tmp.dir, LOCK_FILE);
    const release = acquireDirLock(tmp.dir, 20);
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(path, old, old);
    const age = (): number => Date.now() - statSync(path).mtimeMs;
    for (let i = 0; i < 500 && age() > 60_000; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(age() < 60_000, 'marked again');
    release();
    release(); // once only
    assert.equal(existsSync(path), false);
    // A lock made since, naming the same pid, is not the released holder's to mark.
    writeFileSync(path, `${process.pid}\n`);
    utimesSync(path, old, old);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(age() > 3_000_000, 'not marked');
  } finally {
    tmp.remove();
  }
});

test('a reader opening the store while the writer commits a commit that grows data.mdb is not told the file was cut short', async () => {
  const tmp = tempDir('vigil-lock-');
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const fstat = fs.fstatSync;
  const storeUrl = new URL('../src/store/index.js', import.meta.url).href;
  // The writer (another process) commits 4 MiB: LMDB writes the pages, growing the file, then the meta page.
  const grow = `
    const { ChainStore } = await import(${JSON.stringify(storeUrl)});
    const store = ChainStore.open(process.argv[1], { network: 'regtest' });
    await store.putMeta('pad-' + process.argv[2], new Uint8Array(4 << 20).fill(7));
    await store.close();`;
  try {
    await (await ChainState.open(tmp.dir, { network: 'regtest' })).close();
    let round = 0;
    for (const open of [() => ChainStore.readNetwork(tmp.dir), () => ChainStore.open(tmp.dir, { network: 'regtest' }).close()]) {
      round++;
      let armed = true;
      // The writer's commit lands just after the reader took the file's size, before it reads the meta pages.
      fs.fstatSync = function (this: unknown, ...args: Parameters<typeof fstat>) {
        const st = fstat.apply(this, args);
        if (armed) {
          armed = false;
          const w = spawnSync(process.execPath, ['--input-type=module', '-e', grow, tmp.dir, String(round)], { encoding: 'utf8' });
          assert.equal(w.status, 0, w.stderr);
        }
        return st;
      } as typeof fstat;
      syncBuiltinESMExports();
      try {
        await open();
      } finally {
        fs.fstatSync = fstat;
        syncBuiltinESMExports();
      }
      assert.equal(armed, false);
    }
  } finally {
    tmp.remove();
  }
});
