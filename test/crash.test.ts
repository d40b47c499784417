// Crash safety: `vigil import` killed with SIGKILL at random moments, restarted each time,
// ends with the same tip and UTXO digest as an import that was never interrupted. Runs
// alternate between a commit per block (--dbcache 0) and the default write-back, whose
// killed runs resume from the last flush.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { toHex } from '../src/primitives/bytes.js';
import { ChainState } from '../src/chain/chain-state.js';
import { importBlocks } from '../src/chain/importer.js';
import { generateChain } from '../src/generate/index.js';
import { tempDir } from './helpers/regtest-chain.js';
import { runCli } from './helpers/cli.js';
import { ChainStore } from '../src/store/index.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const KILLS = 24;

function runImport(blocks: string, datadir: string, killAfterMs?: number, extra: string[] = []): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'import', blocks, '--datadir', datadir, '--network', 'regtest', '--quiet', ...extra], { stdio: 'ignore' });
    let timer: NodeJS.Timeout | undefined;
    if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

async function state(datadir: string): Promise<{ tip: string; height: number; digest: string }> {
  const chain = await ChainState.open(datadir, { network: 'regtest' });
  try {
    return { tip: chain.tip.hex, height: chain.tip.height, digest: toHex(chain.utxoDigest()) };
  } finally {
    await chain.close();
  }
}

test(`import killed with SIGKILL ${KILLS} times ends where an uninterrupted import does`, async () => {
  const tmp = tempDir('vigil-crash-');
  try {
    const blocks = join(tmp.dir, 'blocks');
    generateChain({ blocks: 170, txsPerBlock: 6, seed: 'crash', outDir: blocks });

    const ref = join(tmp.dir, 'ref');
    const chain = await ChainState.open(ref, { network: 'regtest' });
    const t0 = performance.now();
    await importBlocks(chain, blocks);
    const importMs = performance.now() - t0;
    await chain.close();
    const expected = await state(ref);
    assert.equal(expected.height, 170);

    // Kill moments spread over start-up and the import itself (seeded, so reruns repeat them).
    const datadir = join(tmp.dir, 'crashed');
    let seed = 0x5eed;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % 10_000) / 10_000;
    let kills = 0;
    let lastHeight = 0;
    for (let i = 0; i < KILLS * 4 && kills < KILLS; i++) {
      const r = await runImport(blocks, datadir, 150 + Math.floor(rand() * (importMs + 400)), i % 2 === 0 ? ['--dbcache', '0'] : []);
      if (r.killed) kills++;
      else assert.equal(r.code, 0, 'an import that was not killed succeeds');
      // After every kill the store opens on a whole tip: never below what was reached before.
      const s = await state(datadir);
      assert.ok(s.height >= lastHeight, `tip went back from ${lastHeight} to ${s.height}`);
      lastHeight = s.height;
      if (s.height === 170 && kills < KILLS) {
        // Finished between kills: start over, so the next kills land mid-import again.
        rmSync(datadir, { recursive: true, force: true });
        lastHeight = 0;
      }
    }
    assert.ok(kills >= 20, `only ${kills} imports were killed`);
    const final = await runImport(blocks, datadir);
    assert.equal(final.code, 0);
    const got = await state(datadir);
    assert.deepEqual(got, expected);
  } finally {
    tmp.remove();
  }
});

// LMDB creates data.mdb (O_CREAT) and only then writes its two meta pages: an import killed in
// between (reproduced with `strace -f -e inject=pwrite64:signal=SIGKILL:when=1 vigil import …`)
// leaves an empty data.mdb. The commands that read an existing store's network opened it
// read-only, which LMDB cannot initialise, and lmdb-js crashed the process (SIGSEGV) instead
// of throwing: `vigil tip` and `vigil utxo-digest` must say there is no chain state yet, and
// the import must resume.
test('a store killed before LMDB wrote its meta pages (empty data.mdb): tip answers, import resumes', async () => {
  const tmp = tempDir('vigil-crash-empty-');
  try {
    const blocks = join(tmp.dir, 'blocks');
    generateChain({ blocks: 5, txsPerBlock: 0, seed: 'crash-empty', outDir: blocks });
    const datadir = join(tmp.dir, 'killed');
    mkdirSync(datadir);
    writeFileSync(join(datadir, 'data.mdb'), new Uint8Array(0));
    for (const cmd of ['tip', 'utxo-digest']) {
      const r = await runCli([cmd, '--datadir', datadir]);
      assert.equal(r.status, 2, `${cmd}: exit ${r.status} (stderr: ${r.stderr})`);
      assert.match(r.stderr, /no chain state/);
    }
    assert.equal((await runImport(blocks, datadir)).code, 0);
    assert.equal((await state(datadir)).height, 5);
    const tip = await runCli(['tip', '--datadir', datadir]);
    assert.equal(tip.status, 0);
    assert.equal(JSON.parse(tip.stdout).height, 5);
  } finally {
    tmp.remove();
  }
});

// A data.mdb cut short (a copy or a disk that lost its tail) opened as it was: inside its meta
// pages lmdb-js crashed the process (SIGSEGV); past them LMDB opened it and the first read of a
// page beyond the file's end killed the process (SIGBUS).
for (const cut of ['inside its meta pages', 'past its meta pages'] as const) {
  test(`a data.mdb cut short ${cut} is refused as damaged by the commands that read a store and by a writable open, not a crash`, async () => {
    const tmp = tempDir('vigil-crash-short-');
    try {
      const datadir = join(tmp.dir, 'short');
      const chain = await ChainState.open(datadir, { network: 'regtest', noSync: true });
      await chain.close();
      const file = join(datadir, 'data.mdb');
      // Inside: the first 4,096 bytes alone, at most the first of the two meta pages whatever the
      // page size. Past: all but the last 4,096-byte page of a fresh store (13 pages of 4,096).
      const size = statSync(file).size;
      assert.ok(size >= 4 * 4096, `a fresh store is ${size} bytes`);
      truncateSync(file, cut === 'inside its meta pages' ? 4096 : size - 4096);
      const said = cut === 'inside its meta pages' ? /inside its two \d+-byte meta pages/ : /but its last commit uses pages up to byte \d+: the file was cut short/;
      for (const cmd of ['tip', 'utxo-digest']) {
        const r = await runCli([cmd, '--datadir', datadir]);
        // null: killed by a signal (SIGSEGV or SIGBUS before this check).
        assert.equal(r.status, 2, `${cmd}: exit ${r.status} (stderr: ${r.stderr})`);
        assert.match(r.stderr, said);
      }
      // The writable open import and serve use (ChainStore.open) refuses it too, in a process of its
      // own: unrefused, LMDB crashes it.
      const mod = new URL('../src/store/index.js', import.meta.url).href;
      const code = [
        `const { ChainStore } = await import(${JSON.stringify(mod)});`,
        `try { const s = ChainStore.open(${JSON.stringify(datadir)}, { network: 'regtest' }); await s.close(); console.log('opened'); }`,
        `catch (err) { console.log(err.name + ':' + err.code); }`,
      ].join('\n');
      const w = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(w.status, 0, `killed by ${String(w.signal)}: ${w.stderr.slice(0, 200)}`);
      assert.equal(w.stdout.trim(), 'StoreError:open');
    } finally {
      tmp.remove();
    }
  });
}

// The reverse: LMDB's mm_last_pg is no bound on the file. Pages a transaction allocated and freed
// again are listed in the freeDB and never written, so a whole data.mdb may end before it (LMDB's
// own comment on mm_last_pg): such a store must open.
test('a store whose last commit freed the pages at the end of data.mdb opens, and reads what it holds', async () => {
  const tmp = tempDir('vigil-crash-freed-tail-');
  try {
    const dir = join(tmp.dir, 'store');
    let store = ChainStore.open(dir, { network: 'regtest', noSync: true });
    // One transaction puts 5,000 records, the next puts 5,000 others and removes all 10,000: pages
    // that transaction allocated and freed again are never written.
    const name = (p: string, i: number): Uint8Array => new TextEncoder().encode(p + String(i).padStart(6, '0'));
    const a = Array.from({ length: 5000 }, (_, i) => name('k', i));
    const b = Array.from({ length: 5000 }, (_, i) => name('m', i));
    await store.updateSourceRecords(a, () => new Uint8Array(100).fill(1));
    await store.updateSourceRecords([...b, ...b, ...a], (i) => (i < 5000 ? new Uint8Array(100).fill(1) : undefined));
    await store.putSourceRecord(new Uint8Array([2]), new Uint8Array([42]));
    await store.close();
    const f = readFileSync(join(dir, 'data.mdb'));
    const dv = new DataView(f.buffer, f.byteOffset);
    const ps = dv.getUint32(24 + 24, true);
    const metas = [0, ps].map((b) => ({ last: dv.getBigUint64(b + 24 + 120, true), txn: dv.getBigUint64(b + 24 + 128, true) }));
    const cur = metas[0]!.txn > metas[1]!.txn ? metas[0]! : metas[1]!;
    assert.ok(BigInt(statSync(join(dir, 'data.mdb')).size) < (cur.last + 1n) * BigInt(ps), 'the set-up leaves mm_last_pg past the file end');
    store = ChainStore.open(dir, { network: 'regtest', noSync: true });
    try {
      assert.deepEqual([...store.getSourceRecord(new Uint8Array([2]))!], [42]);
      assert.equal(store.sourceRecordCount(), 1);
    } finally {
      await store.close();
    }
  } finally {
    tmp.remove();
  }
});
