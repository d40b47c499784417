// The import's pipeline: look-ahead hashing on a worker thread and the store's write-back. An
// import through a reorganisation and an invalid block ends digest-exact whichever of them is
// on; the worker's hashes are the main thread's, and a dead worker only costs speed. Blocks
// stored before their parents wait and are read again, from obfuscated files too.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainState } from '../src/chain/chain-state.js';
import { importBlocks, type ImportOptions } from '../src/chain/importer.js';
import { getParams, PARAMS } from '../src/consensus/params.js';
import { BlockHasher } from '../src/pipeline/block-hasher.js';
import { writeXorKey, xorInPlace } from '../src/blockfile/xor.js';
import { BLOCK_FAILED_CHILD, BLOCK_FAILED_VALID } from '../src/store/index.js';
import { ScriptPool } from '../src/pipeline/script-pool.js';
import { adoptBlockHashes, Block, BlockHeader, computeBlockHashes, computeMerkleRoot, decodeBlock } from '../src/primitives/block.js';
import { Transaction } from '../src/primitives/transaction.js';
import { concatBytes, hashToHex, toHex } from '../src/primitives/bytes.js';
import { bip34HeightPush } from '../src/generate/index.js';
import { corruptSignature, rebuildBlock, withInput } from './helpers/alter-block.js';
import { REAL_BLOCKS, realBlockBytes } from './helpers/real-blocks.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';

/** Blocks in blk-file framing (magic, length, bytes), as Core writes them. */
function blkFile(raws: readonly Uint8Array[]): Uint8Array {
  const magic = getParams('regtest').messageStart;
  const parts: Uint8Array[] = [];
  for (const raw of raws) {
    const head = new Uint8Array(8);
    head.set(magic);
    new DataView(head.buffer).setUint32(4, raw.length, true);
    parts.push(head, raw);
  }
  return Buffer.concat(parts);
}

test('import: look-ahead hashing and write-back end digest-exact with a plain import, through a reorganisation and an invalid block', async () => {
  // A: 130 blocks. B: the same first 125, then its own up to 134, of which 134 carries a corrupted signature.
  const a = branch('pipeline', 130, 3);
  const b = branch('pipeline', 134, 3, { height: 126, tag: 'branch-b' });
  const last = b[133]!;
  const spender = last.block.txs.findIndex((tx, i) => i > 0 && tx.inputs[0]!.witness.length === 2);
  assert.ok(spender > 0, 'block 134 has a segwit v0 spend');
  const bad = remine(
    rebuildBlock(
      last.block,
      last.block.txs.map((tx, i) => (i === spender ? withInput(tx, 0, { witness: [corruptSignature(tx.inputs[0]!.witness[0]!), tx.inputs[0]!.witness[1]!] }) : tx)),
    ),
  );
  const tmp = tempDir('vigil-pipeline-');
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    const file = join(tmp.dir, 'blk00000.dat');
    writeFileSync(file, blkFile([...a.map((x) => x.raw), ...b.slice(125, 133).map((x) => x.raw), bad.toBytes()]));

    const runs: Array<{ name: string; opts: ImportOptions }> = [
      { name: 'a commit per block, hashed here', opts: { cacheBytes: 0, lookAhead: false } },
      { name: 'defaults (write-back, look-ahead)', opts: {} },
      { name: 'write-back flushing every ~32 KiB, look-ahead', opts: { cacheBytes: 32 * 1024 } },
      { name: "look-ahead on a ScriptPool's threads", opts: { cacheBytes: 256 * 1024, lookAhead: pool.hashBlocks } },
    ];
    const results: Array<{ tip: string; height: number; digest: string; accepted: number; rejected: number; reasons: string[] }> = [];
    for (const [i, run] of runs.entries()) {
      const datadir = join(tmp.dir, `store-${i}`);
      let chain = await ChainState.open(datadir, { network: 'regtest' });
      const s = await importBlocks(chain, file, run.opts);
      assert.equal(s.stoppedOnError, false, run.name);
      assert.equal(chain.store.unflushedBlocks, 0, `${run.name}: everything is committed at the end`);
      await chain.close();
      // What counts is what the store holds once reopened.
      chain = await ChainState.open(datadir, { network: 'regtest' });
      results.push({
        tip: chain.tip.hex,
        height: chain.tip.height,
        digest: toHex(chain.utxoDigest()),
        accepted: s.accepted,
        rejected: s.rejected,
        reasons: s.failures.map((f) => f.reason),
      });
      await chain.close();
    }
    const [plain, ...others] = results;
    assert.equal(plain!.height, 133, 'on B, below its invalid block');
    assert.equal(plain!.tip, hashToHex(b[132]!.hash));
    assert.equal(plain!.rejected, 1);
    assert.match(plain!.reasons[0]!, /^block-script-verify-flag-failed/);
    for (const [i, r] of others.entries()) assert.deepEqual(r, plain, runs[i + 1]!.name);
  } finally {
    await pool.close();
    tmp.remove();
  }
});

for (const where of ['a worker of its own', "a ScriptPool's threads"] as const) {
  test(`look-ahead on ${where}: real blocks hash as on the main thread; bytes that do not parse get none`, async () => {
    const raws = REAL_BLOCKS.map(realBlockBytes);
    const pool = where === 'a worker of its own' ? undefined : await ScriptPool.create({ threads: 2 });
    const hasher = pool === undefined ? BlockHasher.start() : BlockHasher.using(pool.hashBlocks);
    try {
      const garbage = new Uint8Array([1, 2, 3]);
      const batch = await hasher.hash([...raws, garbage]);
      const hashed = batch.blocks;
      assert.equal(hashed.length, raws.length + 1);
      for (const [i, raw] of raws.entries()) {
        const block = decodeBlock(raw);
        assert.ok(block.ok);
        const mine = computeBlockHashes(block.block);
        assert.equal(toHex(hashed[i]!.raw), toHex(raw), `${REAL_BLOCKS[i]!.file}: the bytes come back unchanged`);
        assert.equal(toHex(hashed[i]!.hashes!), toHex(mine), REAL_BLOCKS[i]!.file);
        // Adopted, they give the block the same hashes without hashing again.
        const again = decodeBlock(raw);
        assert.ok(again.ok && adoptBlockHashes(again.block, hashed[i]!.hashes!));
        assert.equal(toHex(again.block.hash()), toHex(block.block.hash()));
        assert.equal(toHex(again.block.txs.at(-1)!.wtxid()), toHex(block.block.txs.at(-1)!.wtxid()));
        // Hashes of another block do not fit this one and are refused.
        const other = hashed[(i + 1) % raws.length]!.hashes!;
        if (other.length !== mine.length) {
          const fresh = decodeBlock(raw);
          assert.ok(fresh.ok);
          assert.equal(adoptBlockHashes(fresh.block, other), false);
          assert.equal(toHex(fresh.block.hash()), toHex(block.block.hash()));
        }
      }
      assert.equal(hashed[raws.length]!.hashes, undefined);
      // Released, the slot serves the next batch (the same size or smaller): no new buffer.
      batch.release();
      const made = hasher.slotsMade;
      const reversed = [...raws].reverse();
      const next = await hasher.hash(reversed);
      assert.equal(hasher.slotsMade, made, 'the released slot was reused');
      for (const [i, raw] of reversed.entries()) {
        const block = decodeBlock(raw);
        assert.ok(block.ok);
        assert.equal(toHex(next.blocks[i]!.raw), toHex(raw));
        assert.equal(toHex(next.blocks[i]!.hashes!), toHex(computeBlockHashes(block.block)));
      }
      next.release();
    } finally {
      await hasher.close();
      await pool?.close();
    }
  });
}

test('look-ahead: when its worker is gone, blocks come back unhashed and are hashed on the main thread', async () => {
  const hasher = BlockHasher.start();
  const raw = realBlockBytes(REAL_BLOCKS[0]!);
  assert.notEqual((await hasher.hash([raw])).blocks[0]!.hashes, undefined);
  // The worker stops while a batch is out: that batch comes back unhashed, and so does every later one.
  const out = hasher.hash(Array.from({ length: 40 }, () => raw));
  await hasher.close();
  for (const h of (await out).blocks) assert.equal(h.hashes, undefined);
  const after = (await hasher.hash([raw])).blocks;
  assert.equal(after[0]!.hashes, undefined);
  assert.equal(toHex(after[0]!.raw), toHex(raw));
});

test('import: blocks before their parents wait as places in their files, obfuscated or not, and end as an in-order import does', async (t) => {
  const blocks = branch('pipeline', 130, 3);
  const a = blocks.map((x) => x.raw);
  const tmp = tempDir('vigil-order-');
  t.after(() => tmp.remove());
  // In order, in one plain file: the reference.
  const inOrder = join(tmp.dir, 'in-order.dat');
  writeFileSync(inOrder, blkFile(a));
  // Out of order across two obfuscated files (Core 28+'s xor.dat): blocks 1-130 reversed, so
  // all but the first wait until block 1, the last record of the second file.
  const dir = join(tmp.dir, 'blocks');
  mkdirSync(dir);
  const key = new Uint8Array([0x5a, 0x17, 0x00, 0xff, 0x80, 0x01, 0x33, 0xc4]);
  writeXorKey(dir, key);
  const reversed = [...a].reverse();
  for (const [n, part] of [reversed.slice(0, 65), reversed.slice(65)].entries()) {
    const image = blkFile(part);
    xorInPlace(image, key, 0);
    writeFileSync(join(dir, `blk0000${n}.dat`), image);
  }
  const results = [];
  // The last run reads headers first (assumevalid): its parents are known by their headers, and
  // a block still waits for its parent's data.
  for (const [i, { path, opts, assumeValid }] of [
    { path: inOrder, opts: {} },
    { path: dir, opts: {} },
    { path: dir, opts: { lookAhead: false, cacheBytes: 0 } },
    { path: dir, opts: {}, assumeValid: blocks[129]!.hash },
  ].entries()) {
    const chain = await ChainState.open(join(tmp.dir, `store-${i}`), { network: 'regtest', ...(assumeValid === undefined ? {} : { assumeValid }) });
    let mostWaiting = 0;
    const s = await importBlocks(chain, path, { ...opts, progressMs: 0, onProgress: (p) => (mostWaiting = Math.max(mostWaiting, p.waiting)) });
    assert.equal(s.stoppedOnError, false);
    assert.deepEqual(s.failures, []);
    assert.equal(s.waiting, 0, 'every block that waited was taken up');
    results.push({ tip: chain.tip.hex, height: chain.tip.height, digest: toHex(chain.utxoDigest()), accepted: s.accepted });
    if (i > 0) assert.ok(mostWaiting >= 100, `${mostWaiting} blocks waited at most`);
    await chain.close();
  }
  assert.equal(results[0]!.height, 130);
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
  assert.deepEqual(results[3], results[0]);

  // A bound on how many may wait: 129 blocks wait at most (130 down to 2), which a bound of 129
  // allows and one of 128 does not.
  for (const [bound, stops] of [[129, false], [128, true]] as const) {
    const c = await ChainState.open(join(tmp.dir, `store-bound-${bound}`), { network: 'regtest' });
    const r = await importBlocks(c, dir, { maxWaitingBlocks: bound });
    assert.equal(r.stoppedOnError, stops, `at most ${bound} waiting`);
    assert.equal(c.tip.height, stops ? 0 : 130);
    await c.close();
  }
  // Reached, the import stops with an internal error, and resumes.
  const chain = await ChainState.open(join(tmp.dir, 'store-bounded'), { network: 'regtest' });
  const s = await importBlocks(chain, dir, { maxWaitingBlocks: 50 });
  assert.equal(s.stoppedOnError, true);
  assert.equal(s.failures.at(-1)?.reason, 'too many out-of-order blocks waiting for their parents');
  const again = await importBlocks(chain, inOrder);
  assert.equal(again.stoppedOnError, false);
  assert.equal(chain.tip.height, 130);
  await chain.close();
});

test("a block whose parent is known only by its header waits for the parent's data, and a restart finds the store whole", async (t) => {
  const blocks = branch('pipeline', 40, 3);
  const tmp = tempDir('vigil-headers-first-');
  t.after(() => tmp.remove());
  const datadir = join(tmp.dir, 'store');
  let chain = await ChainState.open(datadir, { network: 'regtest', assumeValid: blocks[39]!.hash });
  for (const b of blocks) {
    const d = decodeBlock(b.raw);
    assert.ok(d.ok);
    assert.equal(chain.acceptHeader(d.block.header).mode, 'valid');
  }
  // Children first: each waits, and nothing about it is stored.
  for (const b of [...blocks].reverse().slice(0, 39)) {
    const r = await chain.processBlock(b.raw);
    assert.equal(r.result.mode, 'invalid');
    assert.equal(r.result.mode === 'invalid' && r.result.reason, 'prev-blk-not-found');
  }
  assert.equal(chain.tip.height, 0);
  await chain.close();
  // Stored above a parent that only a header in memory knew, they made the store unopenable.
  chain = await ChainState.open(datadir, { network: 'regtest' });
  assert.equal(chain.tip.height, 0);
  for (const b of blocks) assert.equal((await chain.processBlock(b.raw)).result.mode, 'valid');
  assert.equal(chain.tip.height, 40);
  await chain.close();
});

test('a block above a side branch that descends from a failed block is bad-prevblk, not left waiting, and not indexed (Core)', async (t) => {
  // A: heights 1-10, the active chain. B forks after height 8: B9 and B10 are stored beside it.
  const a = branch('failed-ancestor', 10, 1);
  const b = branch('failed-ancestor', 12, 1, { height: 9, tag: 'side' }).slice(8);
  const tmp = tempDir('vigil-failed-ancestor-');
  t.after(() => tmp.remove());
  const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
  for (const x of a) assert.equal((await chain.processBlock(x.raw)).result.mode, 'valid');
  for (const x of b.slice(0, 2)) assert.equal((await chain.processBlock(x.raw)).result.mode, 'valid');
  assert.equal(chain.tip.height, 10);
  // As when an activation through B9 failed: it marks the blocks on the path it tried, and B10,
  // stored beside that path, keeps its status.
  const b9 = chain.getNodeByHash(b[0]!.hash)!;
  b9.status |= BLOCK_FAILED_VALID;
  const r = await chain.processBlock(b[2]!.raw);
  assert.equal(r.result.mode, 'invalid');
  assert.equal(r.result.mode === 'invalid' && r.result.reason, 'bad-prevblk');
  // Core's AcceptBlockHeader: the blocks between it and the failed one are marked, it is not indexed.
  assert.ok((chain.getNodeByHash(b[1]!.hash)!.status & BLOCK_FAILED_CHILD) !== 0, 'B10 is marked as a failed block\'s descendant');
  assert.equal(chain.getNodeByHash(b[2]!.hash), undefined, 'B11 is not indexed');
  const again = await chain.processBlock(b[2]!.raw);
  assert.deepEqual([again.result.mode === 'invalid' && again.result.reason, again.duplicate], ['bad-prevblk', false], 'the same answer again');
  // B12's parent was never indexed: unknown, as in Core.
  const r12 = await chain.processBlock(b[3]!.raw);
  assert.equal(r12.result.mode === 'invalid' && r12.result.reason, 'prev-blk-not-found');
  assert.equal(chain.tip.height, 10);
  await chain.close();
});

/** A regtest block at `height` on `prev` whose coinbase pays `pay` (at most the subsidy, 50 BTC halved every 150 blocks): mined, nothing else in it. */
function coinbaseOnly(prev: Uint8Array, height: number, time: number, pay: number): Block {
  const coinbase = new Transaction(
    1,
    [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: concatBytes(bip34HeightPush(height), Uint8Array.of(0x00)), sequence: 0xffffffff, witness: [] }],
    [{ value: pay, scriptPubKey: Uint8Array.of(0x51) }],
    0,
  );
  return remine(new Block(new BlockHeader(4, prev, computeMerkleRoot([coinbase.txid()]).root, time, 0x207fffff, 0), [coinbase]));
}

test('a failed block marks the headers indexed above it (Core\'s SetBlockFailureFlags): they are duplicate-invalid, their children bad-prevblk; proof of work is checked before the parent', async (t) => {
  const tmp = tempDir('vigil-failed-headers-');
  t.after(() => tmp.remove());
  const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
  const genesis = decodeBlock(PARAMS.regtest.genesisBlock);
  assert.ok(genesis.ok);
  const t0 = genesis.block.header.time;
  const a = coinbaseOnly(genesis.block.hash(), 1, t0 + 600, 51e8); // overpays: bad-cb-amount when connected
  const b = coinbaseOnly(a.hash(), 2, t0 + 1200, 50e8);
  const c = coinbaseOnly(b.hash(), 3, t0 + 1800, 50e8);
  assert.equal(chain.acceptHeader(a.header).mode, 'valid');
  assert.equal(chain.acceptHeader(b.header).mode, 'valid');
  const ra = await chain.processBlock(a.toBytes());
  assert.equal(ra.result.mode === 'invalid' && ra.result.reason, 'bad-cb-amount');
  // B, known only by its header, is marked with A's failure at once: header or block, it is a
  // known invalid one; its child is refused for its parent.
  const hb = chain.acceptHeader(b.header);
  assert.equal(hb.mode === 'invalid' && hb.reason, 'duplicate-invalid');
  const rb = await chain.processBlock(b.toBytes());
  assert.equal(rb.result.mode === 'invalid' && rb.result.reason, 'duplicate-invalid');
  const hc = chain.acceptHeader(c.header);
  assert.equal(hc.mode === 'invalid' && hc.reason, 'bad-prevblk');
  const rc = await chain.processBlock(c.toBytes());
  assert.equal(rc.result.mode === 'invalid' && rc.result.reason, 'bad-prevblk');
  assert.equal(chain.tip.height, 0);
  // The mark is stored: a reopened chain answers the same.
  await chain.close();
  const reopened = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
  t.after(() => reopened.close());
  const hb2 = reopened.acceptHeader(b.header);
  assert.equal(hb2.mode === 'invalid' && hb2.reason, 'duplicate-invalid');
  // A header that fails its own proof of work says so, whatever its parent.
  const unmined = new BlockHeader(4, new Uint8Array(32).fill(7), new Uint8Array(32), t0 + 600, 0x1d00ffff, 0);
  const r = reopened.acceptHeader(unmined);
  assert.equal(r.mode === 'invalid' && r.reason, 'high-hash');
});

test('a failed block marks every header indexed above it, not only its children: each is duplicate-invalid', async (t) => {
  const tmp = tempDir('vigil-failed-deep-');
  t.after(() => tmp.remove());
  const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
  t.after(() => chain.close());
  const genesis = decodeBlock(PARAMS.regtest.genesisBlock);
  assert.ok(genesis.ok);
  const t0 = genesis.block.header.time;
  const a = coinbaseOnly(genesis.block.hash(), 1, t0 + 600, 51e8); // overpays: bad-cb-amount when connected
  const above = [a];
  for (let h = 2; h <= 4; h++) above.push(coinbaseOnly(above.at(-1)!.hash(), h, t0 + 600 * h, 50e8));
  for (const b of above) assert.equal(chain.acceptHeader(b.header).mode, 'valid');
  const ra = await chain.processBlock(a.toBytes());
  assert.equal(ra.result.mode === 'invalid' && ra.result.reason, 'bad-cb-amount');
  for (const b of above.slice(1)) {
    const h = chain.acceptHeader(b.header);
    assert.equal(h.mode === 'invalid' && h.reason, 'duplicate-invalid', `header at ${chain.getNodeByHash(b.hash())?.height}`);
    assert.ok((chain.getNodeByHash(b.hash())!.status & BLOCK_FAILED_CHILD) !== 0);
  }
});

/** Regtest blocks `from`..`to` on `parent`, coinbases paying `pay` (a tag: 0 or 1 satoshi). */
function coinbaseRun(parent: Block, from: number, to: number, pay: number): Block[] {
  const out: Block[] = [];
  for (let h = from, prev = parent; h <= to; h++) {
    prev = coinbaseOnly(prev.hash(), h, prev.header.time + 600, pay);
    out.push(prev);
  }
  return out;
}

test('blocks are taken in file order, through the look-ahead and the waiting list: of two with equal work, the first in the file is the tip (Core)', async (t) => {
  const tmp = tempDir('vigil-file-order-');
  t.after(() => tmp.remove());
  const genesis = decodeBlock(PARAMS.regtest.genesisBlock);
  assert.ok(genesis.ok);
  const a = coinbaseRun(genesis.block, 1, 701, 0);
  // Two blocks waiting for the same parent: x5 before a5 in the file, both before their parent a4.
  const x5 = coinbaseRun(a[3]!, 5, 5, 1)[0]!;
  writeFileSync(join(tmp.dir, 'waiting.dat'), blkFile([a[0]!, a[1]!, a[2]!, x5, a[4]!, a[3]!].map((b) => b.toBytes())));
  // 701 records, three look-ahead batches: x700 (a700's sibling) in the first, with a1-a255; a699
  // and a700 in the third. x700 waits for a699, and is taken before a700 is read.
  const x700 = coinbaseRun(a[698]!, 700, 700, 1)[0]!;
  writeFileSync(join(tmp.dir, 'batches.dat'), blkFile([...a.slice(0, 255), x700, ...a.slice(255, 700)].map((b) => b.toBytes())));
  for (const [i, { file, tip, height }] of [
    { file: 'waiting.dat', tip: x5, height: 5 },
    { file: 'batches.dat', tip: x700, height: 700 },
  ].entries()) {
    for (const lookAhead of [true, false]) {
      const chain = await ChainState.open(join(tmp.dir, `store-${i}-${lookAhead}`), { network: 'regtest' });
      try {
        const s = await importBlocks(chain, join(tmp.dir, file), { lookAhead });
        assert.deepEqual([s.stoppedOnError, s.failures, s.waiting], [false, [], 0]);
        assert.deepEqual({ tip: chain.tip.hex, height: chain.tip.height }, { tip: hashToHex(tip.hash()), height }, `${file}, look-ahead ${lookAhead}`);
        // The import's write-back ends with it: a block given afterwards is committed at once.
        assert.equal((await chain.processBlock(coinbaseRun(tip, height + 1, height + 1, 0)[0]!.toBytes())).result.mode, 'valid');
        assert.equal(chain.store.unflushedBlocks, 0);
      } finally {
        await chain.close();
      }
    }
  }
});

test("a record whose damaged length covers bytes after its block imports the block, as Core's LoadExternalBlockFile reads it, waiting for its parent or not", async (t) => {
  const tmp = tempDir('vigil-junk-length-');
  t.after(() => tmp.remove());
  const blocks = branch('junk-length', 104, 0);
  const a = blocks.map((x) => x.raw);
  const plain = blkFile(a);
  const magic = getParams('regtest').messageStart;
  /** A record whose length claims `junk.length` bytes more than its block, the junk after the block. */
  const padded = (raw: Uint8Array, junk: Uint8Array): Uint8Array => {
    const head = new Uint8Array(8);
    head.set(magic);
    new DataView(head.buffer).setUint32(4, raw.length + junk.length, true);
    return concatBytes(head, raw, junk);
  };
  // Block 103 before its parent (it waits, and is read again by its place), both with junk; 104 plain.
  const damaged = concatBytes(
    blkFile(a.slice(0, 101)),
    padded(a[102]!, Uint8Array.of(0xaa, 0xbb)),
    padded(a[101]!, Uint8Array.of(0x00, 0x01, 0x02)),
    blkFile([a[103]!]),
  );
  writeFileSync(join(tmp.dir, 'plain.dat'), plain);
  writeFileSync(join(tmp.dir, 'damaged.dat'), damaged);
  const ref = await ChainState.open(join(tmp.dir, 'store-ref'), { network: 'regtest' });
  assert.deepEqual((await importBlocks(ref, join(tmp.dir, 'plain.dat'))).failures, []);
  const want = { tip: ref.tip.hex, height: ref.tip.height, digest: toHex(ref.utxoDigest()) };
  await ref.close();
  assert.equal(want.height, 104);
  for (const lookAhead of [true, false]) {
    const chain = await ChainState.open(join(tmp.dir, `store-${lookAhead}`), { network: 'regtest' });
    try {
      const s = await importBlocks(chain, join(tmp.dir, 'damaged.dat'), { lookAhead });
      assert.deepEqual([s.stoppedOnError, s.failures, s.fileIssues, s.accepted, s.rejected], [false, [], [], 104, 0], `look-ahead ${lookAhead}`);
      assert.deepEqual({ tip: chain.tip.hex, height: chain.tip.height, digest: toHex(chain.utxoDigest()) }, want);
      // The stored block is the block alone, not the junk its record's length covered.
      for (const i of [101, 102]) {
        const stored = chain.store.getBlock(blocks[i]!.hash);
        assert.equal(stored === undefined ? undefined : toHex(stored), toHex(a[i]!), `block ${i + 1}`);
      }
    } finally {
      await chain.close();
    }
  }
});

test('a block stored twice before its parent: connected once, the copies counted as known, with or without look-ahead', async () => {
  const [b1, b2, b3] = branch('duplicates', 3, 1);
  const tmp = tempDir('vigil-duplicates-');
  try {
    const file = join(tmp.dir, 'blk00000.dat');
    // b2 twice before its parent (both wait, and are read again), b3 twice after it (the copy is known at once).
    writeFileSync(file, blkFile([b2!.raw, b2!.raw, b1!.raw, b3!.raw, b3!.raw]));
    for (const lookAhead of [false, true]) {
      const chain = await ChainState.open(join(tmp.dir, `store-${lookAhead}`), { network: 'regtest' });
      try {
        const s = await importBlocks(chain, file, { lookAhead });
        assert.deepEqual(
          { read: s.read, accepted: s.accepted, known: s.known, rejected: s.rejected, waiting: s.waiting, failures: s.failures, stoppedOnError: s.stoppedOnError },
          { read: 5, accepted: 3, known: 2, rejected: 0, waiting: 0, failures: [], stoppedOnError: false },
          `lookAhead ${lookAhead}`,
        );
        assert.deepEqual(s.tip, { hash: hashToHex(b3!.hash), height: 3 });
      } finally {
        await chain.close();
      }
    }
  } finally {
    tmp.remove();
  }
});

test('a framed record that is not a block is a file issue at its record, not a rejected block; the import goes on', async () => {
  const [b1, b2] = branch('junk-record', 2, 1);
  const tmp = tempDir('vigil-junk-record-');
  try {
    const file = join(tmp.dir, 'blk00000.dat');
    writeFileSync(file, blkFile([b1!.raw, new Uint8Array(100).fill(0x5a), b2!.raw]));
    const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
    try {
      const s = await importBlocks(chain, file, { lookAhead: false });
      assert.deepEqual([s.read, s.accepted, s.rejected, s.failures, s.tip.height], [3, 2, 0, [], 2]);
      assert.equal(s.fileIssues.length, 1);
      const issue = s.fileIssues[0]!;
      // The offset of the record's header (its magic), as the reader's own issues say it.
      assert.deepEqual([issue.code, issue.file, issue.offset, issue.length], ['bad-block', file, 8 + b1!.raw.length, 100]);
      assert.match(issue.message, new RegExp(`^record at offset ${8 + b1!.raw.length} is not a block: `));
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});

test('a waiting block whose file changed before it is read again: our own failure, never another block imported in its place', async () => {
  const [b1, b2] = branch('changed-file', 2, 1);
  // b2 with another nonce: the same length at the same place, another hash.
  const other = rebuildBlock(b2!.block, b2!.block.txs, { header: { nonce: (b2!.block.header.nonce + 1) >>> 0 } }).toBytes();
  assert.equal(other.length, b2!.raw.length);
  const tmp = tempDir('vigil-changed-file-');
  try {
    const file = join(tmp.dir, 'blk00000.dat');
    writeFileSync(file, blkFile([b2!.raw, b1!.raw]));
    const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
    try {
      let rewritten = false;
      // The first report comes once b1 is connected, before b2 (waiting on it) is read again.
      const onProgress = (): void => {
        if (rewritten) return;
        rewritten = true;
        writeFileSync(file, blkFile([other, b1!.raw]));
      };
      const s = await importBlocks(chain, file, { lookAhead: false, progressMs: 0, onProgress });
      assert.ok(rewritten);
      assert.equal(s.stoppedOnError, true);
      assert.deepEqual([s.accepted, s.rejected, s.tip.height], [1, 0, 1]);
      assert.equal(s.failures.length, 1);
      assert.deepEqual([s.failures[0]!.hash, s.failures[0]!.mode], [hashToHex(b2!.hash), 'error']);
      assert.match(s.failures[0]!.reason, new RegExp(`^block-read-failed: .*blk00000\\.dat at 8 no longer holds block ${hashToHex(b2!.hash)}$`));
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});

test("the import's last flush failing is our own failure: said with the tip, the import stopped (it resumes from the last commit)", async () => {
  const blocks = branch('last-flush', 3, 1);
  const tmp = tempDir('vigil-last-flush-');
  try {
    const file = join(tmp.dir, 'blk00000.dat');
    writeFileSync(file, blkFile(blocks.map((b) => b.raw)));
    const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
    const store = chain.store;
    const setWriteBack = store.setWriteBack.bind(store);
    let failed = false;
    store.setWriteBack = async (bytes: number): Promise<void> => {
      if (bytes === 0 && !failed) {
        failed = true;
        throw new Error('ENOSPC: no space left on device');
      }
      return setWriteBack(bytes);
    };
    try {
      const s = await importBlocks(chain, file, { lookAhead: false });
      assert.ok(failed);
      assert.equal(s.stoppedOnError, true);
      assert.equal(s.accepted, 3);
      assert.deepEqual(s.failures, [{ hash: hashToHex(blocks[2]!.hash), height: 3, mode: 'error', reason: 'store-write-failed: ENOSPC: no space left on device' }]);
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});

test('importBlocks refuses options of the wrong kind before it reads anything or changes the store', async (t) => {
  const tmp = tempDir('vigil-import-opts-');
  const chain = await ChainState.open(join(tmp.dir, 'store'), { network: 'regtest' });
  t.after(async () => {
    await chain.close();
    tmp.remove();
  });
  const blocks = join(tmp.dir, 'blocks');
  mkdirSync(blocks);
  writeFileSync(join(blocks, 'blk00000.dat'), blkFile(branch('import-opts', 3, 1).map((b) => b.raw)));
  const bad: Array<[string, unknown]> = [
    ['onProgress', 'yes'],
    ['lookAhead', 'yes'],
    ['progressMs', -1],
    ['maxWaitingBlocks', 1.5],
    ['cacheBytes', 2 ** 60],
    ['cacheBytes', -1],
  ];
  for (const [name, value] of bad) {
    await assert.rejects(importBlocks(chain, blocks, { [name]: value } as ImportOptions), (e: unknown) => e instanceof TypeError || e instanceof RangeError, `${name}: ${String(value)}`);
    assert.equal(chain.tip.height, 0, `${name}: nothing imported`);
  }
  const s = await importBlocks(chain, blocks, { lookAhead: false, onProgress: () => {} });
  assert.equal(s.tip.height, 3);
});

test('signal: an import asked to stop ends after the block in hand, commits what the write-back held, says interrupted, and a second import resumes', async () => {
  const blocks = branch('stop', 30, 1);
  const tmp = tempDir('vigil-import-stop-');
  try {
    const file = join(tmp.dir, 'blk00000.dat');
    writeFileSync(file, blkFile(blocks.map((b) => b.raw)));
    await assert.rejects(importBlocks({} as ChainState, file, { signal: 'stop' as unknown as AbortSignal }), TypeError);
    for (const lookAhead of [false, true]) {
      const dir = join(tmp.dir, `store-${lookAhead}`);
      let chain = await ChainState.open(dir, { network: 'regtest' });
      const stop = new AbortController();
      let s;
      try {
        // A write-back far bigger than the chain: nothing is committed before the import ends.
        s = await importBlocks(chain, file, { lookAhead, cacheBytes: 1 << 30, progressMs: 0, onProgress: (p) => p.accepted === 12 && stop.abort(), signal: stop.signal });
      } finally {
        await chain.close();
      }
      assert.equal(s.interrupted, true, `lookAhead ${lookAhead}`);
      assert.equal(s.stoppedOnError, false);
      assert.equal(s.accepted, 12, 'no block after the one in hand');
      assert.deepEqual(s.tip, { hash: hashToHex(blocks[11]!.hash), height: 12 });
      chain = await ChainState.open(dir, { network: 'regtest' });
      try {
        assert.equal(chain.tip.height, 12, 'committed: a reopened store finds the tip');
        const again = await importBlocks(chain, file, { lookAhead });
        assert.deepEqual([again.interrupted, again.accepted, again.known, again.tip.height], [false, 18, 12, 30]);
      } finally {
        await chain.close();
      }
    }
    // Asked before it starts: nothing read, nothing connected, no error.
    const chain = await ChainState.open(join(tmp.dir, 'store-early'), { network: 'regtest' });
    try {
      const s = await importBlocks(chain, file, { signal: AbortSignal.abort() });
      assert.deepEqual([s.interrupted, s.stoppedOnError, s.read, s.accepted, s.tip.height], [true, false, 0, 0, 0]);
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});
