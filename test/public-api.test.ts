// The package's entry point as an embedding program sees it: the names the README's uses need,
// types included (this file does not compile without them), and none of the pipeline's internals.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import * as vigil from '../src/index.js';
import {
  ScriptPool,
  validateBlockAsync,
  verifyTransaction,
  readSpentFile,
  decodeBlock,
  SignatureCache,
  type ScriptRunner,
  type TxScriptWork,
  type VerifyTxOptions,
  type VerifyTxResult,
  type ReadBlocksOptions,
  type ReadBlocksSummary,
  type SpentReadResult,
  type SpentFileFormat,
  type StoreErrorCode,
  type SignatureCacheStats,
} from '../src/index.js';
import { readVector } from './helpers/vectors.js';

test('internal pipeline helpers are not part of the entry point', () => {
  for (const name of ['runScriptTask', 'prepareBlock', 'scriptTask', 'chunkSizes', 'VERIFY_INPUTS_WORKER']) {
    assert.equal(name in vigil, false, name);
  }
});

test("one ScriptRunner type serves validateBlockAsync (with its signal) and ChainState; the README's types are exported", async () => {
  const raw = readVector('bcoin', 'mainnet', 'block300025.raw');
  const decoded = decodeBlock(raw);
  assert.ok(decoded.ok);
  const format: SpentFileFormat = 'bcoin-undo';
  const spent: SpentReadResult = readSpentFile(readVector('bcoin', 'mainnet', 'block300025-undo.raw'), format, decoded.block);
  assert.ok(spent.ok);
  const pool = await ScriptPool.create({ threads: 1, sigCache: null });
  try {
    const seen: number[] = [];
    const runScripts: ScriptRunner = (work: readonly TxScriptWork[], flags, signal) => {
      seen.push(work.length);
      return pool.verify(work, flags, signal);
    };
    const r = await validateBlockAsync(raw, spent.outputs, { network: 'main', runScripts });
    assert.equal(r.result.mode, 'valid');
    assert.equal(seen[0], 460, 'every transaction but the coinbase');
  } finally {
    await pool.close();
  }
  // verifyTransaction with its option and result types, filling a cache whose stats are typed.
  const cache = SignatureCache.create(1 << 20);
  const tx = decoded.block.txs[1]!;
  const opts: VerifyTxOptions = { sigCache: cache };
  const outcome: VerifyTxResult = verifyTransaction(tx, spent.outputs.slice(0, tx.inputs.length), vigil.SCRIPT_VERIFY_P2SH, opts);
  assert.equal(outcome.ok, true);
  const stats: SignatureCacheStats = cache.stats();
  assert.ok(stats.stores > 0);
  // Types alone: these compile only while the entry point exports them.
  const readOpts: Partial<ReadBlocksOptions> = {};
  const summary: Partial<ReadBlocksSummary> = {};
  const code: StoreErrorCode = 'closed';
  assert.deepEqual([readOpts, summary, code], [{}, {}, 'closed']);
});
