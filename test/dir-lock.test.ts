// One writer per chain state directory: a second open is refused while the first holds the lock,
// from this process or another; a lock left by a dead process is taken over; sources and unban,
// which write only the sources database, run beside the writer.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainState } from '../src/chain/chain-state.js';
import { LOCK_FILE } from '../src/store/dir-lock.js';
import { StoreError } from '../src/store/index.js';
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
