// assumevalid with Core's conditions: scripts are skipped only for ancestors of the assumevalid
// block on the best header chain that are more than two weeks of work deep, and the log says so.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../src/primitives/bytes.js';
import { ChainState, type BlockNode } from '../src/chain/chain-state.js';
import type { BlockIndexEntry } from '../src/store/index.js';
import { getBlockProof } from '../src/consensus/pow.js';
import { hash256 } from '../src/primitives/hash.js';
import { importBlocks } from '../src/chain/importer.js';
import { bip34HeightPush, generateChain } from '../src/generate/index.js';
import { concatBytes, hexToHash } from '../src/primitives/bytes.js';
import { remine, tempDir } from './helpers/regtest-chain.js';
import { PARAMS } from '../src/consensus/params.js';
import { Block, BlockHeader, computeMerkleRoot, decodeBlock } from '../src/primitives/block.js';
import { Transaction } from '../src/primitives/transaction.js';

const BLOCKS = 2100;

test('assumevalid: minimumChainWork must be a bigint ≥ 0, refused before the directory is touched', async () => {
  const tmp = tempDir('vigil-av-minwork-');
  try {
    for (const bad of [-1n, 5, '0x10', null]) {
      await assert.rejects(ChainState.open(join(tmp.dir, 'x'), { network: 'regtest', minimumChainWork: bad as unknown as bigint }), (e: Error) => e instanceof TypeError && /minimumChainWork/.test(e.message));
    }
    assert.equal(existsSync(join(tmp.dir, 'x')), false);
  } finally {
    tmp.remove();
  }
});

test('assumevalid: skips scripts exactly where Core would, and the UTXO set is the same', async () => {
  const tmp = tempDir('vigil-av-');
  try {
    const blocks = join(tmp.dir, 'blocks');
    const gen = generateChain({ blocks: BLOCKS, txsPerBlock: 1, seed: 'assumevalid', outDir: blocks });
    const run = async (name: string, assumeValid: Uint8Array | null, minimumChainWork?: bigint): Promise<{ skipped: number; digest: string; log: string[]; work: bigint }> => {
      const log: string[] = [];
      const chain = await ChainState.open(join(tmp.dir, name), { network: 'regtest', noSync: true, assumeValid, log: (m) => log.push(m), ...(minimumChainWork !== undefined && { minimumChainWork }) });
      try {
        const s = await importBlocks(chain, blocks);
        assert.equal(s.rejected, 0);
        assert.equal(chain.tip.height, BLOCKS);
        return { skipped: chain.scriptsSkipped, digest: toHex(chain.utxoDigest()), log, work: chain.tip.chainWork };
      } finally {
        await chain.close();
      }
    };
    const on = await run('on', hexToHash(gen.tipHash));
    const off = await run('off', null);
    const unknown = await run('unknown', new Uint8Array(32).fill(0x42));
    // Two weeks of regtest work is 2,016 blocks: heights 1..(BLOCKS - 2017) are deeper than that.
    assert.equal(on.skipped, BLOCKS - 2017);
    assert.equal(off.skipped, 0);
    assert.equal(unknown.skipped, 0);
    assert.equal(on.digest, off.digest);
    assert.equal(on.log.length, 2);
    assert.match(on.log[0]!, /skipping script checks from block .* \(height 1\): ancestor of assumevalid block/);
    assert.match(on.log[1]!, new RegExp(`checking scripts again .* \\(height ${BLOCKS - 2016}\\): the block is less than two weeks of work deep`));
    // Core's -minimumchainwork: a best header with exactly the minimum work allows skipping; one
    // unit of work short of it, every script is checked (regtest's own minimum is 0).
    const atMinimum = await run('at-minimum', hexToHash(gen.tipHash), on.work);
    assert.equal(atMinimum.skipped, BLOCKS - 2017);
    const short = await run('short', hexToHash(gen.tipHash), on.work + 1n);
    assert.equal(short.skipped, 0);
    assert.equal(short.digest, off.digest);
    assert.deepEqual(short.log, [], 'nothing skipped, so no change of mind to log');
  } finally {
    tmp.remove();
  }
});

/**
 * `count` regtest blocks on `parent` (at `height` - 1), each a coinbase paying nothing (the first
 * `firstPays`), ten minutes apart; `tag` tells branches apart. The first coinbase claims height
 * `firstClaims` (BIP34), its own height unless told.
 */
function coinbaseChain(parent: Block, height: number, count: number, tag: number, firstPays = 0, firstClaims = height): Block[] {
  const out: Block[] = [];
  let prev = parent;
  for (let h = height; h < height + count; h++) {
    const coinbase = new Transaction(
      1,
      [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: concatBytes(bip34HeightPush(h === height ? firstClaims : h), Uint8Array.of(0x01, tag)), sequence: 0xffffffff, witness: [] }],
      [{ value: h === height ? firstPays : 0, scriptPubKey: Uint8Array.of(0x51) }],
      0,
    );
    prev = remine(new Block(new BlockHeader(4, prev.hash(), computeMerkleRoot([coinbase.txid()]).root, prev.header.time + 600, 0x207fffff, 0), [coinbase]));
    out.push(prev);
  }
  return out;
}

test('assumevalid: only ancestors of the assumevalid block that are on the best header chain; of two headers with equal work, the first seen is best', async () => {
  const tmp = tempDir('vigil-av-branches-');
  try {
    const genesis = decodeBlock(PARAMS.regtest.genesisBlock);
    assert.ok(genesis.ok);
    const y = coinbaseChain(genesis.block, 1, 2100, 0); // heights 1-2100
    // Forks after Y's height 20: heights 21-2200, X21's coinbase claiming 51 BTC (bad-cb-amount once connected).
    const x = coinbaseChain(y[19]!, 21, 2180, 1, 51e8);
    // Headers first, then Y's first 60 blocks with the assumevalid block at Y's height 50: every
    // one of them is more than two weeks of work below the best header.
    const run = async (name: string, headers: Block[], failX21 = false): Promise<number> => {
      const chain = await ChainState.open(join(tmp.dir, name), { network: 'regtest', noSync: true, assumeValid: y[49]!.hash() });
      try {
        for (const b of headers) assert.equal(chain.acceptHeader(b.header).mode, 'valid');
        for (const [i, b] of y.slice(0, 60).entries()) {
          if (failX21 && i === 20) {
            const r = await chain.processBlock(x[0]!.toBytes());
            assert.equal(r.result.mode === 'invalid' && r.result.reason, 'bad-cb-amount');
          }
          assert.equal((await chain.processBlock(b.toBytes())).result.mode, 'valid');
        }
        assert.equal(chain.tip.height, 60);
        return chain.scriptsSkipped;
      } finally {
        await chain.close();
      }
    };
    // Y's headers: heights 1-50, the ancestors of the assumevalid block, not the blocks above it.
    assert.equal(await run('y', y), 50);
    // X's headers too, with more work: only Y's blocks below the fork are on the best header chain.
    assert.equal(await run('x-more-work', [...y, ...x]), 20);
    // X's headers up to Y's height (equal work), after Y's: Y's tip stays the best header (Core's
    // m_best_header moves only to more work).
    assert.equal(await run('x-equal-work', [...y, ...x.slice(0, 2080)]), 50);
    // X's headers with more work, until X21 (on Y20, the tip then) fails: the best header is Y's
    // again, and Y's blocks up to the assumevalid block skip their scripts once more.
    assert.equal(await run('x-failed', [...y, ...x], true), 50);
  } finally {
    tmp.remove();
  }
});

test('assumevalid: a block known by its header that fails ContextualCheckBlock takes its branch off the best header chain (Core\'s InvalidChainFound recalculates m_best_header)', async () => {
  // Core: AcceptBlock -> ContextualCheckBlock fails -> InvalidBlockFound -> InvalidChainFound, which
  // calls RecalculateBestHeader when m_best_header descends from the invalid block. Here X21's
  // coinbase claims height 22 (bad-cb-height, a ContextualCheckBlock rule, not a ConnectBlock one).
  const tmp = tempDir('vigil-av-contextual-');
  try {
    const genesis = decodeBlock(PARAMS.regtest.genesisBlock);
    assert.ok(genesis.ok);
    const y = coinbaseChain(genesis.block, 1, 2100, 0); // heights 1-2100
    const x = coinbaseChain(y[19]!, 21, 2180, 2, 0, 22); // heights 21-2200, more work than Y
    const chain = await ChainState.open(join(tmp.dir, 'c'), { network: 'regtest', noSync: true, assumeValid: y[49]!.hash() });
    try {
      for (const b of [...y, ...x]) assert.equal(chain.acceptHeader(b.header).mode, 'valid');
      for (const b of y.slice(0, 20)) assert.equal((await chain.processBlock(b.toBytes())).result.mode, 'valid');
      const r = await chain.processBlock(x[0]!.toBytes());
      assert.equal(r.result.mode === 'invalid' && r.result.reason, 'bad-cb-height');
      for (const b of y.slice(20, 60)) assert.equal((await chain.processBlock(b.toBytes())).result.mode, 'valid');
      assert.equal(chain.tip.height, 60);
      // Y's tip (height 2100) is the best header once X21 is invalid: Y1-Y50 are ancestors of the
      // assumevalid block on it, more than two weeks of work deep.
      assert.equal(chain.scriptsSkipped, 50);
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});

test("assumevalid: two weeks of work are counted in the best header's proof per block (Core's GetBlockProofEquivalentTime), not the block's", async () => {
  // Regtest's bits never change, so the index is given headers directly (no proof of work is
  // checked on this path): a block at difficulty 1 below a best header at regtest's difficulty.
  const tmp = tempDir('vigil-av-proof-');
  try {
    const genesis = decodeBlock(PARAMS.regtest.genesisBlock);
    assert.ok(genesis.ok);
    const header = (prev: Uint8Array, bits: number): Uint8Array => new BlockHeader(4, prev, new Uint8Array(32).fill(bits & 0xff), genesis.block.header.time + 600, bits, 0).toBytes();
    const deep = header(genesis.block.hash(), 0x1d00ffff);
    const deepHash = hash256(deep);
    const deepWork = getBlockProof(genesis.block.header.bits) + getBlockProof(0x1d00ffff);
    const perBlock = getBlockProof(0x207fffff);
    for (const [blocks, skip] of [[2017, true], [2016, false]] as const) {
      const best = header(deepHash, 0x207fffff);
      const bestHash = hash256(best);
      const chain = await ChainState.open(join(tmp.dir, String(blocks)), { network: 'regtest', noSync: true, assumeValid: bestHash });
      try {
        const inner = chain as unknown as { addNode(e: BlockIndexEntry): BlockNode; assumedValid(n: BlockNode): { skip: boolean; why: string } };
        const node = inner.addNode({ hash: deepHash, header: deep, height: 1, chainWork: deepWork, status: 0 });
        // The best header is `blocks` regtest blocks of work above it (in one header: only the work counts).
        inner.addNode({ hash: bestHash, header: best, height: 2, chainWork: deepWork + BigInt(blocks) * perBlock, status: 0 });
        const r = inner.assumedValid(node);
        assert.equal(r.skip, skip, `${blocks} blocks of work above: ${r.why}`);
      } finally {
        await chain.close();
      }
    }
  } finally {
    tmp.remove();
  }
});
