// Our own failures (a read or write the disk refuses, memory that runs out half-way) are internal
// errors: they never change the UTXO set, never mark a valid block invalid, and leave a store that
// connects the same blocks once the failure is gone. Faults are injected into one store call.

import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readlinkSync, statSync, truncateSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ChainState } from '../src/chain/chain-state.js';
import { importBlocks } from '../src/chain/importer.js';
import { generateChain } from '../src/generate/index.js';
import { readBlockHeadersAsync, readBlocksAsync } from '../src/blockfile/reader.js';
import { equalBytes, hashToHex, toHex } from '../src/primitives/bytes.js';
import { BLOCK_FAILED_CHILD, BLOCK_FAILED_VALID, BLOCK_HAVE_DATA, BLOCK_HAVE_UNDO, StoreError } from '../src/store/index.js';
import { FlatFileSeq } from '../src/store/flat-files.js';
import { PendingWrites } from '../src/store/write-back.js';
import type { GeneratedBlock } from '../src/generate/index.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';
import { rebuildBlock, withOutput } from './helpers/alter-block.js';
import { PARAMS } from '../src/consensus/params.js';

/** node:fs as CommonJS sees it: what syncBuiltinESMExports copies to the ES module's bindings. */
const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

function dir(t: TestContext, prefix: string): string {
  const tmp = tempDir(prefix);
  t.after(tmp.remove);
  return tmp.dir;
}

/** Tip height and UTXO digest of a fresh store that connected `blocks` without a fault. */
async function reference(t: TestContext, blocks: GeneratedBlock[]): Promise<{ height: number; digest: string }> {
  const chain = await ChainState.open(dir(t, 'ie-ref-'), { network: 'regtest' });
  for (const b of blocks) assert.equal((await chain.processBlock(b.raw)).result.mode, 'valid');
  const out = { height: chain.tip.height, digest: toHex(chain.utxoDigest()) };
  await chain.close();
  return out;
}

/** The open descriptors of this process whose path matches `re` (Linux and macOS list them). */
function openFiles(re: RegExp): number {
  const fdDir = existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
  let n = 0;
  for (const fd of readdirSync(fdDir)) {
    try {
      if (re.test(readlinkSync(join(fdDir, fd)))) n++;
    } catch {
      // closed while listed
    }
  }
  return n;
}

/**
 * A 112-block chain (blocks from 101 on spend coins; coinbases mature after 100), its clean
 * import's tip and digest, and a chain with write-back on that has connected the first `connected`.
 */
async function writeBackChain(t: TestContext, seed: string, connected: number): Promise<{ blocks: GeneratedBlock[]; want: { height: number; digest: string }; path: string; chain: ChainState }> {
  const blocks = branch(seed, 112, 4);
  const want = await reference(t, blocks);
  const path = dir(t, `${seed}-`);
  const chain = await ChainState.open(path, { network: 'regtest' });
  await chain.store.setWriteBack(64 << 20);
  for (const b of blocks.slice(0, connected)) await chain.processBlock(b.raw);
  return { blocks, want, path, chain };
}

test('write-back: a failed read while a block is connected leaves the coins as they were; the block connects when given again', async (t) => {
  const { blocks, want, path, chain } = await writeBackChain(t, 'ie-read', 111);
  const before = { tip: chain.tip.height, utxos: chain.store.utxoCount(), digest: toHex(chain.utxoDigest()) };

  // The last block's coinbase outputs ask LMDB whether they overwrite a coin (BIP30): that read fails once.
  const last = blocks[111]!;
  const coinbase = last.block.txs[0]!.txid();
  const store = chain.store as unknown as { storeHasCoin(txid: Uint8Array, vout: number): boolean };
  const real = store.storeHasCoin.bind(store);
  let fail = true;
  store.storeHasCoin = (txid, vout) => {
    if (fail && equalBytes(txid, coinbase)) {
      fail = false;
      throw new Error('EIO injected');
    }
    return real(txid, vout);
  };
  const r = await chain.processBlock(last.raw);
  assert.equal(r.result.mode, 'error');
  assert.equal(fail, false, 'the fault was hit');
  assert.deepEqual({ tip: chain.tip.height, utxos: chain.store.utxoCount(), digest: toHex(chain.utxoDigest()) }, before, 'nothing of the block was applied');

  // Given again, it connects (it was stored when its connection failed).
  const again = await chain.processBlock(last.raw);
  assert.equal(again.result.mode, 'valid');
  assert.equal(chain.tip.height, 112);
  await chain.close();
  const reopened = await ChainState.open(path, { network: 'regtest' });
  assert.deepEqual({ height: reopened.tip.height, digest: toHex(reopened.utxoDigest()) }, want);
  assert.equal(reopened.getNodeByHash(last.block.hash())!.status & (BLOCK_FAILED_VALID | BLOCK_FAILED_CHILD), 0, 'not marked failed');
  await reopened.close();
});

test('write-back: a change that fails half-way breaks the store; reopened, it resumes from the last flush and ends as a clean run', async (t) => {
  const setUp = await writeBackChain(t, 'ie-half', 104);
  const { blocks, want, path } = setUp;
  let chain = setUp.chain;
  await chain.store.flush();
  for (const b of blocks.slice(104, 108)) await chain.processBlock(b.raw);

  // An allocation that fails after the block's spends went in: the third coin added throws.
  const add = PendingWrites.prototype.add;
  let calls = 0;
  PendingWrites.prototype.add = function (this: PendingWrites, ...args: Parameters<PendingWrites['add']>) {
    if (++calls === 3) throw new RangeError('Array buffer allocation failed');
    return add.apply(this, args);
  };
  let r;
  try {
    r = await chain.processBlock(blocks[108]!.raw);
  } finally {
    PendingWrites.prototype.add = add;
  }
  assert.equal(r.result.mode, 'error');
  assert.match((r.result.mode === 'error' && r.result.debug) || '', /failed half-way through write-back's memory/);
  // Every later call refuses, rather than read or write part of a block.
  assert.throws(
    () => chain.store.getTip(),
    (e: unknown) => e instanceof StoreError && e.code === 'broken',
  );
  assert.ok(calls >= 3 && blocks[108]!.block.txs.length > 1, 'the block spends coins before the failing add');
  assert.throws(
    () => chain.store.flush(),
    (e: unknown) => e instanceof StoreError && e.code === 'broken',
  );
  assert.notEqual((await chain.processBlock(blocks[109]!.raw)).result.mode, 'valid');
  await assert.rejects(chain.close(), (e: unknown) => e instanceof StoreError && e.code === 'broken');

  // Reopened: the tip of the last flush, then every block connects.
  chain = await ChainState.open(path, { network: 'regtest' });
  assert.equal(chain.tip.height, 104);
  for (const b of blocks) await chain.processBlock(b.raw);
  assert.deepEqual({ height: chain.tip.height, digest: toHex(chain.utxoDigest()) }, want);
  await chain.close();
});

test('a block stored when our own error kept it from connecting is connected when given again', async (t) => {
  const blocks = branch('ie-dup', 6, 2);
  const chain = await ChainState.open(dir(t, 'ie-dup-'), { network: 'regtest' });
  for (const b of blocks.slice(0, 5)) await chain.processBlock(b.raw);
  const apply = chain.store.applyBlock.bind(chain.store);
  let fail = true;
  chain.store.applyBlock = (u) => {
    if (!fail) return apply(u);
    fail = false;
    return Promise.reject(new Error('ENOSPC injected'));
  };
  const first = await chain.processBlock(blocks[5]!.raw);
  assert.equal(first.result.mode, 'error');
  assert.equal(first.tip.height, 5);
  // Stored (as Core's AcceptBlock stores it), not connected: its entry says it has its data, and no
  // more (no undo data, its scripts not known to pass).
  const hash = blocks[5]!.block.hash();
  assert.equal(chain.store.getIndex(hash)!.status, BLOCK_HAVE_DATA);
  assert.equal(chain.getNodeByHash(hash)!.status, BLOCK_HAVE_DATA);
  const second = await chain.processBlock(blocks[5]!.raw);
  assert.deepEqual({ mode: second.result.mode, duplicate: second.duplicate, tip: second.tip.height }, { mode: 'valid', duplicate: true, tip: 6 });
  // A block already on the active chain is only a duplicate.
  const third = await chain.processBlock(blocks[2]!.raw);
  assert.deepEqual({ mode: third.result.mode, duplicate: third.duplicate, tip: third.tip.height }, { mode: 'valid', duplicate: true, tip: 6 });
  await chain.close();
});

test('undo data that cannot be read during a reorganisation is an internal error, with memory and store on the same tip', async (t) => {
  const a = branch('ie-reorg', 12, 2);
  const b = branch('ie-reorg', 14, 2, { height: 11, tag: 'b' });
  const path = dir(t, 'ie-reorg-');
  const chain = await ChainState.open(path, { network: 'regtest' });
  for (const g of a) await chain.processBlock(g.raw);
  for (const g of b.slice(10, 12)) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  assert.equal(chain.tip.hex, hashToHex(a[11]!.block.hash()));
  // The last record of rev00000.dat (block 12's undo data, which the reorg reads first) loses its tail.
  const rev = join(path, 'blocks', 'rev00000.dat');
  truncateSync(rev, statSync(rev).size - 10);
  const r = await chain.processBlock(b[12]!.raw);
  assert.equal(r.result.mode, 'error');
  assert.equal(r.result.mode === 'error' && r.result.reason, 'undo-read-failed');
  assert.equal(chain.store.getTip()!.height, chain.tip.height);
  assert.ok(equalBytes(chain.store.getTip()!.hash, chain.tip.hash));
  await chain.close();
});

test('undo data with a coin more or fewer than the block spent is an internal error during a reorganisation, and changes nothing', async (t) => {
  // A: 112 blocks, the last ones spending coins. B: a sibling of A112, then B113, which makes B the best branch.
  const a = branch('ie-undo-len', 112, 4);
  const b = branch('ie-undo-len', 113, 4, { height: 112, tag: 'b' });
  for (const change of ['one more', 'one fewer', 'revert refused'] as const) {
    const chain = await ChainState.open(dir(t, 'ie-undo-len-'), { network: 'regtest' });
    for (const g of a) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
    assert.equal((await chain.processBlock(b[111]!.raw)).result.mode, 'valid');
    const before = { tip: chain.tip.hex, digest: toHex(chain.utxoDigest()) };
    const getUndo = chain.store.getUndo.bind(chain.store);
    chain.store.getUndo = (hash) => {
      const undo = getUndo(hash)!;
      assert.ok(undo.length > 0, 'A112 spends coins');
      return change === 'one more' ? [...undo, undo[0]!] : change === 'one fewer' ? undo.slice(1) : undo;
    };
    if (change === 'revert refused') chain.store.revertBlock = () => Promise.reject(new Error('ENOSPC injected'));
    const r = await chain.processBlock(b[112]!.raw);
    const reason = change === 'revert refused' ? 'store-write-failed' : 'undo-mismatch';
    assert.deepEqual([r.result.mode, r.result.mode === 'error' && r.result.reason], ['error', reason], change);
    assert.deepEqual({ tip: chain.tip.hex, digest: toHex(chain.utxoDigest()) }, before, `${change}: nothing was undone`);
    assert.ok(equalBytes(chain.store.getTip()!.hash, chain.tip.hash));
    // The tip keeps its undo data, in the store and in memory.
    assert.equal(chain.tip.status & BLOCK_HAVE_UNDO, BLOCK_HAVE_UNDO);
    assert.equal(chain.store.getIndex(chain.tip.hash)!.status & BLOCK_HAVE_UNDO, BLOCK_HAVE_UNDO);
    await chain.close();
  }
});

/** A's 12 blocks connected, B's 11 and 12 stored beside them: B's next block makes B the best branch. */
async function besideA12(t: TestContext, seed: string, bBlocks: number): Promise<{ a: GeneratedBlock[]; b: GeneratedBlock[]; chain: ChainState }> {
  const a = branch(seed, 12, 2);
  const b = branch(seed, bBlocks, 2, { height: 11, tag: 'b' });
  const chain = await ChainState.open(dir(t, `${seed}-`), { network: 'regtest' });
  for (const g of a) await chain.processBlock(g.raw);
  for (const g of b.slice(10, 12)) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  return { a, b, chain };
}

/** The store's block commits numbered in `which` (from 1, counted from now) fail as on a full disk. */
function failCommits(chain: ChainState, which: readonly number[]): void {
  const apply = chain.store.applyBlock.bind(chain.store);
  let calls = 0;
  chain.store.applyBlock = (u) => (which.includes(++calls) ? Promise.reject(new Error('ENOSPC injected')) : apply(u));
}

test('an activation an internal error stopped part-way is taken up again before the next block', async (t) => {
  const { a, b, chain } = await besideA12(t, 'ie-resume', 14);
  // B13 gives B the most work: A12 and A11 go, B11 and B12 connect, and B13's commit fails.
  failCommits(chain, [3]);
  const failed = await chain.processBlock(b[12]!.raw);
  assert.equal(failed.result.mode, 'error');
  assert.equal(chain.tip.hex, hashToHex(b[11]!.block.hash()), 'stopped on B12, no more work than A12');
  // The next block, one the chain already has, finds the activation taken up again first.
  const next = await chain.processBlock(a[4]!.raw);
  assert.deepEqual({ mode: next.result.mode, duplicate: next.duplicate }, { mode: 'valid', duplicate: true });
  assert.equal(chain.tip.hex, hashToHex(b[12]!.block.hash()), 'on B13');
  const fresh = await ChainState.open(dir(t, 'ie-resume-fresh-'), { network: 'regtest' });
  for (const g of b.slice(0, 13)) assert.equal((await fresh.processBlock(g.raw)).result.mode, 'valid');
  assert.equal(toHex(chain.utxoDigest()), toHex(fresh.utxoDigest()), 'with B13’s exact UTXO set');
  await Promise.all([chain.close(), fresh.close()]);
});

test('a better branch an internal error left waiting is connected when the chain is opened again', async (t) => {
  const { b, chain } = await besideA12(t, 'ie-reopen', 14);
  const path = chain.store.dir;
  failCommits(chain, [3]);
  assert.equal((await chain.processBlock(b[12]!.raw)).result.mode, 'error');
  assert.equal(chain.tip.hex, hashToHex(b[11]!.block.hash()), 'stopped on B12, B13 stored');
  await chain.close();
  const reopened = await ChainState.open(path, { network: 'regtest' });
  const fresh = await ChainState.open(dir(t, 'ie-reopen-fresh-'), { network: 'regtest' });
  for (const g of b.slice(0, 13)) assert.equal((await fresh.processBlock(g.raw)).result.mode, 'valid');
  assert.deepEqual({ tip: reopened.tip.hex, digest: toHex(reopened.utxoDigest()) }, { tip: hashToHex(b[12]!.block.hash()), digest: toHex(fresh.utxoDigest()) });
  await Promise.all([reopened.close(), fresh.close()]);
});

test('a block that extends the tip an internal error left does not end the activation short of the best branch', async (t) => {
  const { b, chain } = await besideA12(t, 'ie-resume2', 14);
  // C12: another child of B11 (B12 with its coinbase claiming one satoshi less: valid), A12's work.
  const b12 = b[11]!.block;
  const cb = b12.txs[0]!;
  const c12 = remine(rebuildBlock(b12, [withOutput(cb, 0, { value: cb.outputs[0]!.value - 1 }), ...b12.txs.slice(1)]));
  // B13 makes B the best branch; B12's commit fails, and again when the activation is taken up.
  failCommits(chain, [2, 3]);
  assert.equal((await chain.processBlock(b[12]!.raw)).result.mode, 'error');
  assert.equal(chain.tip.hex, hashToHex(b[10]!.block.hash()), 'stopped on B11');
  // C12 extends that tip; its activation goes on to the best branch, B13.
  const r = await chain.processBlock(c12.toBytes());
  assert.equal(r.result.mode, 'valid');
  assert.equal(chain.tip.hex, hashToHex(b[12]!.block.hash()), 'on B13, not left on C12');
  await chain.close();
});

test('a block found invalid when an activation is taken up again is reported with the next block', async (t) => {
  const { a, b, chain } = await besideA12(t, 'ie-resume3', 13);
  const g = b[12]!.block;
  const cb = g.txs[0]!;
  const bad13 = remine(rebuildBlock(g, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...g.txs.slice(1)]));
  // B12's commit fails before B13 (which overpays its coinbase) is reached: B13's answer is ours.
  failCommits(chain, [2]);
  assert.equal((await chain.processBlock(bad13.toBytes())).result.mode, 'error');
  const next = await chain.processBlock(a[4]!.raw);
  assert.deepEqual(
    next.invalidated?.map((x) => [x.hash, x.result.mode === 'invalid' && x.result.reason]),
    [[hashToHex(bad13.hash()), 'bad-cb-amount']],
  );
  await chain.close();
});

test('a failed fdatasync is tried again before the commit it held back', async (t) => {
  const blocks = branch('ie-sync', 5, 2);
  const chain = await ChainState.open(dir(t, 'ie-sync-'), { network: 'regtest' });
  await chain.store.setWriteBack(64 << 20);
  for (const b of blocks) await chain.processBlock(b.raw);
  const fdatasync = fs.fdatasync;
  let calls = 0;
  let fail = true;
  fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    calls++;
    if (!fail) return fdatasync(fd, cb);
    fail = false;
    process.nextTick(cb, Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  }) as typeof fs.fdatasync;
  syncBuiltinESMExports();
  try {
    await assert.rejects(chain.store.flush(), (e: unknown) => e instanceof StoreError && /fdatasync/.test(e.message));
    assert.equal(chain.store.unflushedBlocks, 5);
    calls = 0;
    await chain.store.flush();
    assert.equal(chain.store.unflushedBlocks, 0);
    assert.equal(calls, 1, 'the file whose sync failed is synced again');
  } finally {
    fs.fdatasync = fdatasync;
    syncBuiltinESMExports();
  }
  await chain.close();
});

test('reading blk files: a consumer that stops early closes the file; an import stopped by an internal error leaves none open', async (t) => {
  const root = dir(t, 'ie-fds-');
  generateChain({ blocks: 40, txsPerBlock: 2, seed: 'ie-fds', outDir: join(root, 'src') });
  const srcFiles = /ie-fds-[^/]*\/src\/blk\d+\.dat$/;
  for (const read of [readBlocksAsync, readBlockHeadersAsync]) {
    for await (const rec of read(join(root, 'src'), { magic: PARAMS.regtest.messageStart })) {
      assert.ok(rec !== undefined);
      break;
    }
    assert.equal(openFiles(srcFiles), 0, `${read.name} closed its file`);
  }
  for (let run = 0; run < 2; run++) {
    const chain = await ChainState.open(join(root, `db${run}`), { network: 'regtest' });
    const apply = chain.store.applyBlock.bind(chain.store);
    let n = 0;
    chain.store.applyBlock = (u) => (++n === 10 ? Promise.reject(new Error('EIO injected')) : apply(u));
    const s = await importBlocks(chain, join(root, 'src'), { cacheBytes: 0, lookAhead: false });
    await chain.close();
    assert.equal(s.stoppedOnError, true);
    // Our own failure is no verdict on the block: listed, not counted as rejected.
    assert.equal(s.rejected, 0);
    assert.equal(s.failures.at(-1)?.mode, 'error');
    assert.equal(openFiles(srcFiles), 0, `import ${run} left no blk file open`);
  }
});

test('flat files: at most 8 files of a sequence are open at once, and every record reads back', async (t) => {
  const path = dir(t, 'ie-flat-');
  const seq = new FlatFileSeq(path, 'blk', Uint8Array.of(1, 2, 3, 4), { file: 0, end: 0 }, 200);
  const records = Array.from({ length: 60 }, (_, i) => new Uint8Array(150).fill(i));
  const positions = records.map((r) => seq.append(r));
  await seq.sync();
  assert.equal(new Set(positions.map((p) => p.file)).size, 60, 'one file a record');
  const files = /ie-flat-[^/]*\/blk\d+\.dat$/;
  assert.ok(openFiles(files) <= 8, `${openFiles(files)} open after writing`);
  for (let i = 59; i >= 0; i--) assert.equal(toHex(seq.read(positions[i]!)), toHex(records[i]!));
  assert.ok(openFiles(files) <= 8, `${openFiles(files)} open after reading`);
  seq.close();
  assert.equal(openFiles(files), 0);
});

test('a commit the disk refuses is an internal error, not the end of the process; the block connects once it can', { skip: process.platform === 'win32' ? 'needs a POSIX shell for ulimit' : false }, async (t) => {
  // A child process whose files may not grow past 64 KiB (ulimit -f; SIGXFSZ ignored, so write()
  // fails with EFBIG as it would on a full disk): LMDB's commit fails under the first block. lmdb-js
  // used to reject a promise of its own that no caller held, and the process died of it.
  const store = dir(t, 'ie-fsize-');
  const script = `
    const { ChainState } = await import(${JSON.stringify(new URL('../src/chain/chain-state.js', import.meta.url).href)});
    const { branch } = await import(${JSON.stringify(new URL('./helpers/regtest-chain.js', import.meta.url).href)});
    const chain = await ChainState.open(${JSON.stringify(store)}, { network: 'regtest' });
    let failed;
    for (const b of branch('fsize', 30, 4)) {
      const r = await chain.processBlock(b.raw);
      if (r.result.mode !== 'valid') { failed = { height: b.height, result: r.result }; break; }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    console.log(JSON.stringify({ failed, tip: chain.tip.height }));
    await chain.close().catch(() => {});
  `;
  const child = spawnSync('bash', ['-c', 'trap "" XFSZ; ulimit -f 64; exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { failed?: { height: number; result: { mode: string; reason: string } }; tip: number };
  assert.ok(out.failed !== undefined, 'a block failed to commit under the file size limit');
  assert.deepEqual([out.failed.result.mode, out.failed.result.reason], ['error', 'store-write-failed']);
  assert.equal(out.tip, out.failed.height - 1);
  // Without the limit the same store takes the block.
  const chain = await ChainState.open(store, { network: 'regtest' });
  try {
    const blocks = branch('fsize', out.failed.height, 4);
    for (const b of blocks.slice(out.tip)) assert.equal((await chain.processBlock(b.raw)).result.mode, 'valid');
    assert.equal(chain.tip.height, out.failed.height);
  } finally {
    await chain.close();
  }
});

test('an internal error during a reorganisation whose branch then fails does not change which equal-work tip wins: the one received first, as without the error', async (t) => {
  // A12 first; B11 and B12 beside it (B12: A12's work); B13 overpays its coinbase. Without a fault
  // the chain goes to B13, finds it invalid and goes back to A12 (received first at that work).
  // A revert refused at each step of that round trip must end there too once taken up again.
  const a = branch('ie-tie', 12, 2);
  const b = branch('ie-tie', 13, 2, { height: 11, tag: 'b' });
  const g = b[12]!.block;
  const cb = g.txs[0]!;
  const bad13 = remine(rebuildBlock(g, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...g.txs.slice(1)]));
  const tipA = hashToHex(a[11]!.block.hash());
  for (const failAt of [0, 1, 2, 3, 4]) {
    const chain = await ChainState.open(dir(t, 'ie-tie-'), { network: 'regtest' });
    for (const x of a) await chain.processBlock(x.raw);
    const digestA = toHex(chain.utxoDigest());
    for (const x of b.slice(10, 12)) assert.equal((await chain.processBlock(x.raw)).result.mode, 'valid');
    const revert = chain.store.revertBlock.bind(chain.store);
    let calls = 0;
    chain.store.revertBlock = (u) => (++calls === failAt ? Promise.reject(new Error('EIO injected')) : revert(u));
    await chain.processBlock(bad13.toBytes());
    // The next block takes the stopped activation up again first.
    const next = await chain.processBlock(a[3]!.raw);
    assert.equal(next.result.mode, 'valid');
    assert.deepEqual({ tip: chain.tip.hex, digest: toHex(chain.utxoDigest()) }, { tip: tipA, digest: digestA }, `revert ${failAt} refused: back on A12`);
    assert.ok(equalBytes(chain.store.getTip()!.hash, chain.tip.hash));
    await chain.close();
  }
});

test('two failed commits in a row, then an equal-work branch arriving, do not change which tip wins: the block received first, as without the errors', async (t) => {
  // A12 the tip; C11 C12 and B11 B12 beside it; B13 makes B the best, C13 (received after it) ties.
  // Without a fault the chain goes to B13 and stays there when C13 comes (first-seen, Core's
  // nSequenceId). B12's commit refused twice (the activation and its taking up before C13) must
  // end on B13 too once the disk works again.
  const a = branch('ie-tie2', 12, 0);
  const b = branch('ie-tie2', 13, 0, { height: 11, tag: 'b' });
  const c = branch('ie-tie2', 13, 0, { height: 11, tag: 'c' });
  const ref = await ChainState.open(dir(t, 'ie-tie2-ref-'), { network: 'regtest' });
  for (const x of [...a, ...c.slice(10, 12), ...b.slice(10, 13), c[12]!]) await ref.processBlock(x.raw);
  const want = { tip: ref.tip.hex, digest: toHex(ref.utxoDigest()) };
  assert.equal(want.tip, hashToHex(b[12]!.block.hash()), 'without a fault: B13, received first');
  await ref.close();
  const chain = await ChainState.open(dir(t, 'ie-tie2-'), { network: 'regtest' });
  for (const x of [...a, ...c.slice(10, 12), ...b.slice(10, 12)]) assert.equal((await chain.processBlock(x.raw)).result.mode, 'valid');
  const apply = chain.store.applyBlock.bind(chain.store);
  let calls = 0;
  chain.store.applyBlock = (u) => (++calls === 2 || calls === 3 ? Promise.reject(new Error('ENOSPC injected')) : apply(u));
  assert.equal((await chain.processBlock(b[12]!.raw)).result.mode, 'error');
  await chain.processBlock(c[12]!.raw);
  // The disk works again: the next block takes up whatever is still pending.
  await chain.processBlock(a[3]!.raw);
  assert.deepEqual({ tip: chain.tip.hex, digest: toHex(chain.utxoDigest()) }, want, 'B13, received first, as without the errors');
  await chain.close();
});

test('a block given while a stopped activation is still pending, on a branch with less work than the best, is stored unjudged, as without the error', async (t) => {
  // A12 the tip, B11 B12 beside it; B13 makes B the best. B12's commit refused twice leaves the
  // tip on B11 when X12 comes: a child of B11 that overpays its coinbase, with less work than B13.
  // Without the fault the tip is B13 and X12 is stored on a side branch, its transactions not
  // checked (Core checks a block only once its branch has the most work).
  const a = branch('ie-pend-known', 12, 0);
  const b = branch('ie-pend-known', 13, 0, { height: 11, tag: 'b' });
  const x = branch('ie-pend-known', 12, 0, { height: 11, tag: 'b' })[11]!.block;
  const cb = x.txs[0]!;
  const bad12 = remine(rebuildBlock(x, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...x.txs.slice(1)]));
  const ref = await ChainState.open(dir(t, 'ie-pend-known-ref-'), { network: 'regtest' });
  for (const g of [...a, ...b.slice(10)]) await ref.processBlock(g.raw);
  const want = await ref.processBlock(bad12.toBytes());
  assert.deepEqual([want.result.mode, want.connected], ['valid', false], 'without a fault: stored, not judged');
  await ref.close();
  const chain = await ChainState.open(dir(t, 'ie-pend-known-'), { network: 'regtest' });
  for (const g of [...a, ...b.slice(10, 12)]) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  const apply = chain.store.applyBlock.bind(chain.store);
  let calls = 0;
  chain.store.applyBlock = (u) => (++calls === 2 || calls === 3 ? Promise.reject(new Error('ENOSPC injected')) : apply(u));
  assert.equal((await chain.processBlock(b[12]!.raw)).result.mode, 'error');
  const got = await chain.processBlock(bad12.toBytes());
  assert.deepEqual([got.result.mode, got.connected], ['valid', false], 'stored, not judged: its branch has less work than B13');
  assert.equal(chain.tip.hex, hashToHex(b[12]!.block.hash()));
  await chain.close();
});
