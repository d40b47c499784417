// assumevalid with Core's conditions: scripts are skipped only for ancestors of the assumevalid
// block on the best header chain that are more than two weeks of work deep, and the log says so.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../src/primitives/bytes.js';
import { ChainState } from '../src/chain/chain-state.js';
import { importBlocks } from '../src/chain/importer.js';
import { generateChain } from '../src/generate/index.js';
import { hexToHash } from '../src/primitives/bytes.js';
import { tempDir } from './helpers/regtest-chain.js';

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
