// Chain state on a real LMDB store: mainnet blocks 1-255 from genesis, reorganisations
// that end digest-exact, and rejections on a chain-backed store that change nothing.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { hashToHex, toHex } from '../src/primitives/bytes.js';
import { hash256 } from '../src/primitives/hash.js';
import { ChainState, type ChainStateOptions } from '../src/chain/chain-state.js';
import { nobleBackend } from '../src/script/signature.js';
import { importBlocks } from '../src/chain/importer.js';
import { BlockFileWriter } from '../src/blockfile/writer.js';
import { PARAMS } from '../src/consensus/params.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { GeneratedBlock } from '../src/generate/index.js';
import type { Block } from '../src/primitives/block.js';
import { vectorPath } from './helpers/vectors.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';
import { corruptSignature, rebuildBlock, withInput, withOutput } from './helpers/alter-block.js';

async function withChain<T>(network: 'main' | 'regtest', fn: (chain: ChainState) => Promise<T>): Promise<T> {
  const tmp = tempDir('vigil-chain-');
  const chain = await ChainState.open(tmp.dir, { network });
  try {
    return await fn(chain);
  } finally {
    await chain.close();
    tmp.remove();
  }
}

async function feed(chain: ChainState, blocks: readonly GeneratedBlock[]): Promise<void> {
  for (const b of blocks) {
    const r = await chain.processBlock(b.raw);
    assert.equal(r.result.mode, 'valid', `block ${b.height}: ${JSON.stringify(r.result)}`);
  }
}

/** `block` with its coinbase paying one satoshi too much (bad-cb-amount), re-mined. */
function overpaid(block: Block): Block {
  const cb = block.txs[0]!;
  return remine(rebuildBlock(block, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...block.txs.slice(1)]));
}

async function stateOf(blocks: readonly GeneratedBlock[]): Promise<{ tip: string; digest: string }> {
  return withChain('regtest', async (chain) => {
    await feed(chain, blocks);
    return { tip: chain.tip.hex, digest: toHex(chain.utxoDigest()) };
  });
}

test('btcd blocks1-256.dat imports on mainnet from genesis, and again as all known', async () => {
  await withChain('main', async (chain) => {
    const first = await importBlocks(chain, vectorPath('btcd', 'blocks1-256.dat'));
    assert.equal(first.accepted, 255);
    assert.equal(first.rejected, 0);
    assert.equal(chain.tip.height, 255);
    assert.equal(chain.tip.hex, '00000000d0a75c861fabf9ff7b92022f60e4afeed9331fe5aa073d8e4706fe3c');
    // Every index node keeps its own header: it hashes to the node's hash and names its parent.
    for (let h = 1; h <= 255; h++) {
      const node = chain.atHeight(h)!;
      assert.equal(toHex(hash256(node.headerBytes)), toHex(node.hash), `header bytes at height ${h}`);
      const header = node.header;
      assert.equal(toHex(header.prevBlock), toHex(node.prev!.hash), `prevBlock at height ${h}`);
      assert.equal(toHex(header.toBytes()), toHex(node.headerBytes));
      assert.deepEqual([header.time, header.bits], [node.time, node.bits]);
    }
    const digest = toHex(chain.utxoDigest());
    const again = await importBlocks(chain, vectorPath('btcd', 'blocks1-256.dat'));
    assert.equal(again.known, 255);
    assert.equal(again.accepted, 0);
    assert.equal(toHex(chain.utxoDigest()), digest);
  });
});

test('reorganisation: a heavier fork B from 10 blocks below A, then a heavier A′, digest-exact', async () => {
  // A: 140 blocks. B: the same first 130, then 11 of its own (141 > 140). A′: A plus 2 (142 > 141).
  const aPrime = branch('reorg', 142, 4);
  const a = aPrime.slice(0, 140);
  const b = branch('reorg', 141, 4, { height: 131, tag: 'branch-b' });
  assert.equal(toHex(a[129]!.hash), toHex(b[129]!.hash), 'branches share block 130');
  assert.notEqual(toHex(a[130]!.hash), toHex(b[130]!.hash), 'and part at 131');

  const bAlone = await stateOf(b);
  const aPrimeAlone = await stateOf(aPrime);
  await withChain('regtest', async (chain) => {
    await feed(chain, a);
    assert.equal(chain.tip.height, 140);
    await feed(chain, b.slice(130));
    assert.equal(chain.tip.hex, bAlone.tip, 'the tip is B’s');
    assert.equal(toHex(chain.utxoDigest()), bAlone.digest, 'digest equals a fresh import of B alone');
    await feed(chain, aPrime.slice(140));
    assert.equal(chain.tip.hex, aPrimeAlone.tip, 'back on A′');
    assert.equal(toHex(chain.utxoDigest()), aPrimeAlone.digest, 'digest equals a fresh import of A′ alone');
  });
});

test('processBlock says whether the block is on the active chain: a side-branch block is stored unjudged until its branch has the most work', async () => {
  const a = branch('connected', 103, 2);
  const b = branch('connected', 104, 2, { height: 102, tag: 'branch-b' });
  assert.equal(toHex(a[100]!.hash), toHex(b[100]!.hash), 'branches share block 101');
  await withChain('regtest', async (chain) => {
    for (const blk of a) assert.equal((await chain.processBlock(blk.raw)).connected, true, `A${blk.height} extends the tip`);
    const at = async (raw: Uint8Array): Promise<[string, boolean, boolean]> => {
      const r = await chain.processBlock(raw);
      return [r.result.mode, r.duplicate, r.connected];
    };
    // B102 and B103: less work than A, then as much (the first received stays): stored, not connected.
    assert.deepEqual(await at(b[101]!.raw), ['valid', false, false]);
    assert.deepEqual(await at(b[102]!.raw), ['valid', false, false]);
    assert.equal(chain.tip.hex, hashToHex(a[102]!.hash));
    // B104 gives B the most work: it connects, and A103 is now the side branch.
    assert.deepEqual(await at(b[103]!.raw), ['valid', false, true]);
    assert.deepEqual(await at(a[102]!.raw), ['valid', true, false]);
    assert.deepEqual(await at(b[102]!.raw), ['valid', true, true]);
    // Rejected blocks and bytes that are no block are never connected.
    assert.deepEqual(await at(overpaid(branch('connected', 105, 2, { height: 102, tag: 'branch-b' })[104]!.block).toBytes()), ['invalid', false, false]);
    assert.deepEqual(await at(Uint8Array.of(1, 2, 3)), ['invalid', false, false]);
  });
});

test('a heavier branch with an invalid block is tried, rejected, and the old branch restored', async () => {
  const a = branch('reorg-bad', 125, 3);
  const b = branch('reorg-bad', 127, 3, { height: 121, tag: 'branch-b' });
  // B's block 122 pays its coinbase one satoshi too much; B's later blocks are re-mined on top of it.
  let prev = overpaid(b[121]!.block);
  const forged = [prev];
  for (const g of b.slice(122)) {
    prev = remine(rebuildBlock(g.block, g.block.txs, { header: { prevBlock: prev.hash() } }));
    forged.push(prev);
  }
  const badHex = toHex(forged[0]!.hash().slice().reverse());
  await withChain('regtest', async (chain) => {
    await feed(chain, a);
    const tipA = chain.tip.hex;
    const digestA = toHex(chain.utxoDigest());
    assert.equal((await chain.processBlock(b[120]!.raw)).result.mode, 'valid');
    const results = [];
    for (const blk of forged) results.push(await chain.processBlock(blk.toBytes()));
    // With block 126 B has more work: the reorganisation reaches block 122, which fails; 127 then
    // has a parent known invalid.
    assert.deepEqual(
      results.map((r) => r.result.mode === 'invalid' && r.result.reason),
      [false, false, false, false, 'bad-prevblk', 'bad-prevblk'],
    );
    const b126 = results[4]!;
    assert.deepEqual(b126.result, { mode: 'invalid', reason: 'bad-prevblk', debug: `ancestor ${badHex} is invalid: bad-cb-amount` });
    // The block that failed is named with its own reason, not only through its descendant's.
    assert.deepEqual(
      b126.invalidated?.map((x) => [x.hash, x.height, x.result.mode === 'invalid' && x.result.reason]),
      [[badHex, 122, 'bad-cb-amount']],
    );
    assert.equal(chain.tip.hex, tipA, 'back on A');
    assert.equal(toHex(chain.utxoDigest()), digestA, 'with A’s exact UTXO set');
    assert.equal(chain.getNode(badHex)?.status !== undefined, true);
  });
  // The same blocks from a blk file: the import's failures name the invalid block too.
  const tmp = tempDir('vigil-chain-files-');
  try {
    const w = new BlockFileWriter(join(tmp.dir, 'blocks'), PARAMS.regtest.messageStart);
    for (const g of [...a, b[120]!]) w.append(g.raw);
    for (const blk of forged) w.append(blk.toBytes());
    w.close();
    await withChain('regtest', async (chain) => {
      const summary = await importBlocks(chain, join(tmp.dir, 'blocks'));
      assert.deepEqual(summary.failures.find((f) => f.reason === 'bad-cb-amount'), { hash: badHex, height: 122, mode: 'invalid', reason: 'bad-cb-amount' });
      assert.equal(summary.tip.height, 125);
      // Imported again: the invalid block is stored and known, but known invalid, so it is answered
      // again (duplicate-invalid), not skipped as a known block.
      const again = await importBlocks(chain, join(tmp.dir, 'blocks'));
      assert.deepEqual(again.failures.find((f) => f.hash === badHex), { hash: badHex, height: 122, mode: 'invalid', reason: 'duplicate-invalid' });
      assert.equal(again.accepted, 0);
      assert.equal(again.tip.height, 125);
    });
  } finally {
    tmp.remove();
  }
});

test('a reorganisation that fails where its branch has only the old tip\'s work goes back to the old tip, as Core', async () => {
  // B forks at 121; its block 126 overpays its coinbase. With B126, B has more work than A, so the
  // reorganisation connects B121..B125, and B126 fails. B125 then has exactly A125's work: Core keeps
  // A125 among its candidates, and at equal work the block received first (lower nSequenceId) wins.
  const a = branch('reorg-equal', 125, 3);
  const b = branch('reorg-equal', 126, 3, { height: 121, tag: 'branch-b' });
  const forged = overpaid(b[125]!.block);
  await withChain('regtest', async (chain) => {
    await feed(chain, a);
    const tipA = chain.tip.hex;
    const digestA = toHex(chain.utxoDigest());
    await feed(chain, b.slice(120, 125));
    assert.equal(chain.tip.hex, tipA, 'equal work: the tip received first stays');
    const r = await chain.processBlock(forged.toBytes());
    assert.equal(r.result.mode === 'invalid' && r.result.reason, 'bad-cb-amount');
    assert.equal(chain.tip.hex, tipA, 'back on A125, not left on B125');
    assert.equal(toHex(chain.utxoDigest()), digestA, 'with A’s exact UTXO set');
    assert.deepEqual(r.tip, { hash: tipA, height: 125 });
  });
});

test('at equal work the tip received first stays, also when the chain is opened again, whichever branch came first', async () => {
  // Core 30 gives every block loaded from disk the same sequence id, so a tie at start-up falls to
  // memory order (CBlockIndexWorkComparator) and either tip can come back; later Core loads the
  // active chain with SEQ_ID_BEST_CHAIN_FROM_DISK, ahead of the rest, and keeps the tip it had. vigil
  // keeps it, one of Core 30's outcomes and the only one of later releases.
  const a = branch('equal-work', 6, 0);
  const b = branch('equal-work', 6, 0, { height: 5, tag: 'branch-b' });
  assert.notEqual(hashToHex(a[4]!.hash), hashToHex(b[4]!.hash), 'the branches part at 5');
  for (const [first, second] of [[a, b], [b, a]] as const) {
    const tmp = tempDir('vigil-chain-tie-');
    try {
      let chain = await ChainState.open(tmp.dir, { network: 'regtest' });
      try {
        await feed(chain, first);
        await feed(chain, second.slice(4));
        assert.equal(chain.tip.hex, hashToHex(first[5]!.hash), 'the first branch keeps the tip');
      } finally {
        await chain.close();
      }
      chain = await ChainState.open(tmp.dir, { network: 'regtest' });
      try {
        assert.equal(chain.tip.hex, hashToHex(first[5]!.hash), 'and keeps it when the chain is opened again');
        assert.equal(chain.getNode(hashToHex(second[5]!.hash))?.height, 6, 'the other branch is stored');
      } finally {
        await chain.close();
      }
    } finally {
      tmp.remove();
    }
  }
});

test('rejections on a chain-backed store leave tip and UTXO digest unchanged', async () => {
  const blocks = branch('rules', 112, 12);
  await withChain('regtest', async (chain) => {
    await feed(chain, blocks.slice(0, 111));
    const next = blocks[111]!;
    const tip = chain.tip.hex;
    const digest = toHex(chain.utxoDigest());
    const txs = next.block.txs;
    // A (P2SH-)P2WPKH spend: corrupting its witness signature keeps the txid, so children still find it.
    const isDer = (w: Uint8Array | undefined): boolean => w !== undefined && w.length >= 9 && w[0] === 0x30 && w[1] === w.length - 3;
    const spender = txs.findIndex((tx, i) => i > 0 && tx.inputs[0]!.witness.length === 2 && isDer(tx.inputs[0]!.witness[0]));
    assert.ok(spender > 0, 'the block has a P2WPKH spend');
    const coinbase = txs[0]!;
    const cases: Array<{ name: string; block: ReturnType<typeof rebuildBlock>; reason: string | RegExp; mine?: boolean }> = [
      { name: 'time-too-old', block: rebuildBlock(next.block, txs, { header: { time: blocks[100]!.block.header.time } }), reason: 'time-too-old' },
      { name: 'bad-diffbits', block: rebuildBlock(next.block, txs, { header: { bits: 0x207ffffe } }), reason: 'bad-diffbits' },
      {
        name: 'bad-cb-amount',
        block: rebuildBlock(next.block, [withOutput(coinbase, 0, { value: coinbase.outputs[0]!.value + 1 }), ...txs.slice(1)]),
        reason: 'bad-cb-amount',
      },
      {
        name: 'bad-txns-inputs-missingorspent (missing coin)',
        block: rebuildBlock(next.block, txs.map((tx, i) => (i === spender ? withInput(tx, 0, { prevout: { hash: new Uint8Array(32).fill(7), index: 3 } }) : tx))),
        reason: 'bad-txns-inputs-missingorspent',
      },
      {
        name: 'bad-txns-premature-spend-of-coinbase',
        block: rebuildBlock(next.block, txs.map((tx, i) => (i === spender ? withInput(tx, 0, { prevout: { hash: blocks[60]!.block.txs[0]!.txid(), index: 0 } }) : tx))),
        reason: 'bad-txns-premature-spend-of-coinbase',
      },
      {
        name: 'corrupted signature',
        block: rebuildBlock(next.block, txs.map((tx, i) => (i === spender ? withInput(tx, 0, { witness: [corruptSignature(tx.inputs[0]!.witness[0]!), tx.inputs[0]!.witness[1]!] }) : tx))),
        reason: /^block-script-verify-flag-failed \(/,
      },
      { name: 'high-hash', block: rebuildBlock(next.block, txs, { header: { nonce: next.block.header.nonce + 1 } }), reason: 'high-hash', mine: false },
    ];
    for (const c of cases) {
      let block = c.mine === false ? c.block : remine(c.block);
      if (c.mine === false && block.header.hash()[31]! < 0x7f) {
        // Find a nonce that fails regtest's target (about every second one does).
        for (let n = block.header.nonce + 1; ; n++) {
          block = rebuildBlock(block, block.txs, { header: { nonce: n } });
          if (remine(block).header.nonce !== n) break;
        }
      }
      const r = await chain.processBlock(block.toBytes());
      assert.equal(r.result.mode, 'invalid', `${c.name}: ${JSON.stringify(r.result)}`);
      if (r.result.mode === 'invalid') {
        if (typeof c.reason === 'string') assert.equal(r.result.reason, c.reason, c.name);
        else assert.match(r.result.reason, c.reason, c.name);
      }
      assert.equal(chain.tip.hex, tip, `${c.name}: tip unchanged`);
      assert.equal(toHex(chain.utxoDigest()), digest, `${c.name}: digest unchanged`);
    }
    // The honest block still connects.
    assert.equal((await chain.processBlock(next.raw)).result.mode, 'valid');
    assert.equal(chain.tip.height, 112);
  });
});

test('bad input to a chain: random bytes, a truncated block, an oversized one, an unknown parent change nothing', async () => {
  const blocks = branch('bad-input', 5, 0);
  await withChain('regtest', async (chain) => {
    await feed(chain, blocks.slice(0, 3));
    const digest = toHex(chain.utxoDigest());
    const tip = chain.tip.hex;
    let seed = 1;
    const random = Uint8Array.from({ length: 500 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff);
    // The next block's bytes padded past MAX_BLOCK_SERIALIZED_SIZE: refused undecoded, its hash not marked failed.
    const oversized = new Uint8Array(4_000_001);
    oversized.set(blocks[3]!.raw);
    for (const raw of [random, blocks[3]!.raw.subarray(0, 100), new Uint8Array(0), oversized, blocks[4]!.raw]) {
      const r = await chain.processBlock(raw);
      assert.equal(r.result.mode, 'invalid');
      if (raw === oversized) assert.equal(r.result.mode === 'invalid' && r.result.reason, 'bad-blk-length');
      assert.equal(chain.tip.hex, tip);
      assert.equal(toHex(chain.utxoDigest()), digest);
    }
    // The parent arrives, then the orphan connects.
    await feed(chain, blocks.slice(3));
    assert.equal(chain.tip.height, 5);
  });
});

test('overlapping processBlock calls run one after another, as Core under cs_main: no internal errors', async () => {
  const a = branch('overlap', 12, 2);
  const b = branch('overlap', 12, 2, { height: 10, tag: 'b' });
  const serial = await stateOf(a.slice(0, 11));
  await withChain('regtest', async (chain) => {
    await feed(chain, a.slice(0, 9));
    // The same block twice at once, then a sibling branch and the next block at once, then an
    // invalid side block beside a valid one: each answered as if given alone, in call order.
    const twice = await Promise.all([chain.processBlock(a[9]!.raw), chain.processBlock(a[9]!.raw)]);
    assert.deepEqual(twice.map((r) => [r.result.mode, r.duplicate]), [['valid', false], ['valid', true]]);
    const side = await Promise.all([chain.processBlock(b[9]!.raw), chain.processBlock(a[10]!.raw), chain.processBlock(overpaid(b[10]!.block).toBytes())]);
    assert.deepEqual(side.map((r) => r.result.mode), ['valid', 'valid', 'valid'], 'b10 stored, a11 connected, the bad b11 stored beside a tip of equal work');
    assert.equal(chain.tip.hex, serial.tip);
    assert.equal(toHex(chain.utxoDigest()), serial.digest);
    // close() waits for calls still running; one given after it is refused as misuse, not
    // answered with what a closed store would make of it.
    const last = chain.processBlock(a[11]!.raw);
    const closing = chain.close();
    await assert.rejects(chain.processBlock(a[11]!.raw), (err: Error & { code?: string }) => err.name === 'StoreError' && err.code === 'closed');
    await closing;
    assert.equal((await last).result.mode, 'valid');
    await assert.rejects(chain.processBlock(a[0]!.raw), (err: Error & { code?: string }) => err.name === 'StoreError' && err.code === 'closed');
    // Headers too: answered, the header of a block on a known branch would join a closed chain's index.
    assert.throws(() => chain.acceptHeader(b[11]!.block.header), (err: Error & { code?: string }) => err.name === 'StoreError' && err.code === 'closed');
  });
});

test('ChainState.open checks its options before it takes the directory', async () => {
  const tmp = tempDir('vigil-chain-opts-');
  try {
    const dir = join(tmp.dir, 'never-made');
    await assert.rejects(ChainState.open(dir, { network: 'nope' as 'main' }), /unknown network "nope"/);
    await assert.rejects(ChainState.open(dir, undefined as unknown as { network: 'main' }), TypeError);
    assert.equal(existsSync(dir), false);
  } finally {
    tmp.remove();
  }
});

test('ChainState.open refuses options of the wrong type at once: none is ignored unsaid or thrown later, mid-block', async () => {
  const tmp = tempDir('vigil-chain-opt-types-');
  try {
    const dir = join(tmp.dir, 'never-made');
    const bad: Array<[string, Record<string, unknown>]> = [
      // Core's -assumevalid takes hex: as a string it named no block, and assumevalid was off, unsaid.
      ['assumeValid', { assumeValid: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206' }],
      ['assumeValid', { assumeValid: new Uint8Array(20) }],
      // validateBlock takes `now` in seconds; the chain takes a clock.
      ['now', { now: 1_700_000_000 }],
      ['log', { log: 'stderr' }],
      ['runScripts', { runScripts: {} }],
      ['observer', { observer: 'metrics' }],
      ['noSync', { noSync: 'yes' }],
      // ScriptPool takes a backend by name; the chain takes the backend itself.
      ['backend', { backend: 'libsecp256k1' }],
    ];
    for (const [name, extra] of bad) {
      await assert.rejects(
        ChainState.open(dir, { network: 'regtest', ...extra } as unknown as ChainStateOptions),
        (e: Error) => e instanceof TypeError && e.message.includes(name),
        `${name}: ${String(Object.values(extra)[0])}`,
      );
    }
    assert.equal(existsSync(dir), false, 'refused before the directory is made');
    // The right types are taken.
    const chain = await ChainState.open(dir, { network: 'regtest', assumeValid: new Uint8Array(32), now: () => 0, log: () => {}, observer: {}, noSync: true, backend: nobleBackend, runScripts: () => Promise.resolve({ mode: 'valid' }) });
    await chain.close();
  } finally {
    tmp.remove();
  }
});

test("a clock (ChainStateOptions.now) that gives no finite number is misuse, thrown: it never skips time-too-new and connects a block from the future", async () => {
  const tmp = tempDir('vigil-chain-clock-');
  try {
    const [b1] = branch('clock', 1, 0);
    // Block 1, stamped in 2096 and re-mined.
    const future = remine(rebuildBlock(b1!.block, b1!.block.txs, { header: { time: 4_000_000_000 } }));
    for (const now of [() => Number.NaN, () => undefined, () => '1700000000', () => Number.POSITIVE_INFINITY]) {
      const dir = join(tmp.dir, `c${Math.random().toString(36).slice(2)}`);
      const chain = await ChainState.open(dir, { network: 'regtest', now: now as unknown as () => number });
      try {
        await assert.rejects(chain.processBlock(future.toBytes()), RangeError, `now ${String(now)}`);
        assert.throws(() => chain.acceptHeader(future.header), RangeError);
        assert.equal(chain.tip.height, 0, 'nothing connected');
        assert.equal(chain.getNodeByHash(future.hash()), undefined, 'nothing indexed');
      } finally {
        await chain.close();
      }
    }
    // Control: a real clock answers time-too-new.
    const chain = await ChainState.open(join(tmp.dir, 'control'), { network: 'regtest', now: () => 1_700_000_000 });
    try {
      const r = await chain.processBlock(future.toBytes());
      assert.equal(r.result.mode === 'invalid' ? r.result.reason : r.result.mode, 'time-too-new');
      assert.equal(chain.tip.height, 0);
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});

/** `blocks` re-mined one on top of the other from `first`. */
function restack(first: Block, blocks: readonly GeneratedBlock[]): Block[] {
  let prev = first;
  const out = [first];
  for (const g of blocks) {
    prev = remine(rebuildBlock(g.block, g.block.txs, { header: { prevBlock: prev.hash() } }));
    out.push(prev);
  }
  return out;
}

for (const writeBack of [0, 8 << 20]) test(`a failed reorganisation, then a sibling of its bad block on the same prefix wins: digest-exact (write-back ${writeBack})`, async () => {
  const a = branch('failed-reorg', 125, 3);
  const b = branch('failed-reorg', 127, 3, { height: 121, tag: 'branch-b' });
  // B124 overpays; B125 and B126 re-mined on top of it.
  const forged = restack(overpaid(b[123]!.block), b.slice(124, 126));
  const bAlone = await stateOf(b.slice(0, 126));
  const tmp = tempDir('vigil-chain-');
  const dir = tmp.dir;
  try {
    const chain = await ChainState.open(dir, { network: 'regtest' });
    await chain.store.setWriteBack(writeBack);
    await feed(chain, a);
    const tipA = chain.tip.hex;
    const digestA = toHex(chain.utxoDigest());
    await feed(chain, b.slice(120, 123));
    const rs = [];
    for (const blk of forged) rs.push(await chain.processBlock(blk.toBytes()));
    assert.deepEqual(
      rs.map((r) => (r.result.mode === 'valid' ? 'valid' : r.result.reason)),
      ['valid', 'valid', 'bad-prevblk'],
    );
    assert.equal(chain.tip.hex, tipA, 'back on A');
    assert.equal(toHex(chain.utxoDigest()), digestA);
    // The failed branch's blocks are answered as known invalid; a new child of them as bad-prevblk.
    const again = await chain.processBlock(forged[1]!.toBytes());
    assert.deepEqual([again.result.mode === 'invalid' && again.result.reason, again.duplicate], ['duplicate-invalid', true]);
    const child = remine(rebuildBlock(b[126]!.block, b[126]!.block.txs, { header: { prevBlock: forged[2]!.hash() } }));
    const rc = await chain.processBlock(child.toBytes());
    assert.equal(rc.result.mode === 'invalid' && rc.result.reason, 'bad-prevblk');
    // The genuine B124..B126 on the prefix B121..B123 connected and disconnected before.
    await feed(chain, b.slice(123, 125));
    assert.equal(chain.tip.hex, tipA, 'B125 only ties A125');
    await feed(chain, b.slice(125, 126));
    assert.equal(chain.tip.hex, bAlone.tip, 'on the genuine B126');
    assert.equal(toHex(chain.utxoDigest()), bAlone.digest, 'digest equals a clean connect of B126');
    await chain.close();
    const reopened = await ChainState.open(dir, { network: 'regtest' });
    try {
      assert.equal(reopened.tip.hex, bAlone.tip);
      assert.equal(toHex(reopened.utxoDigest()), bAlone.digest);
      const bad = await reopened.processBlock(forged[0]!.toBytes());
      assert.equal(bad.result.mode === 'invalid' && bad.result.reason, 'duplicate-invalid', 'the failure mark survives reopening');
    } finally {
      await reopened.close();
    }
  } finally {
    tmp.remove();
  }
});

test('after a failed reorganisation the tip goes back to the first-received of equal-work candidates, not a later one', async () => {
  // A125 first; C (forked at 122) reaches 125 later (a tie, stored only); B (forked at 121) gets
  // more work with B126, whose ancestor B124 fails. Core: A125 (lowest nSequenceId) wins again.
  const a = branch('failed-reorg-tie', 125, 2);
  const c = branch('failed-reorg-tie', 125, 2, { height: 122, tag: 'branch-c' });
  const b = branch('failed-reorg-tie', 126, 2, { height: 121, tag: 'branch-b' });
  const forged = restack(overpaid(b[123]!.block), b.slice(124, 126));
  await withChain('regtest', async (chain) => {
    await feed(chain, a);
    const tipA = chain.tip.hex;
    const digestA = toHex(chain.utxoDigest());
    await feed(chain, c.slice(121));
    assert.equal(chain.tip.hex, tipA);
    await feed(chain, b.slice(120, 123));
    for (const blk of forged.slice(0, 2)) assert.equal((await chain.processBlock(blk.toBytes())).result.mode, 'valid');
    const r = await chain.processBlock(forged[2]!.toBytes());
    assert.equal(r.result.mode === 'invalid' && r.result.reason, 'bad-prevblk');
    assert.deepEqual(r.invalidated?.map((x) => [x.hash, x.result.mode === 'invalid' && x.result.reason]), [[hashToHex(forged[0]!.hash()), 'bad-cb-amount']]);
    assert.equal(chain.tip.hex, tipA, 'A125, received first');
    assert.equal(toHex(chain.utxoDigest()), digestA);
  });
});
