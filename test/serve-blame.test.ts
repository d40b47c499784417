// Who pays for what, at the edges: a block our own failure left unjudged and found invalid later
// costs the source that sent it (as a side-branch block found invalid later does), and a cost
// recorded while the service shuts down is saved with the rest.

import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { ChainState } from '../src/chain/chain-state.js';
import { hashToHex } from '../src/primitives/bytes.js';
import { VigilService } from '../src/service/server.js';
import { ChainStore, StoreError } from '../src/store/index.js';
import { createLogger } from '../src/service/logger.js';
import { INITIAL_SCORE, SCORE_DELTA, SourceBook } from '../src/service/source-scores.js';
import type { GeneratedBlock } from '../src/generate/index.js';
import { rebuildBlock, withOutput } from './helpers/alter-block.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';

async function serve(t: TestContext): Promise<{ service: VigilService; chain: ChainState; base: string; port: number; dir: string }> {
  const tmp = tempDir('vigil-blame-');
  const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
  const service = new VigilService({ chain, logger: createLogger({ level: 'error' }) });
  const { port } = await service.listen(0);
  t.after(async () => {
    await service.close();
    await chain.close().catch(() => {});
    tmp.remove();
  });
  return { service, chain, base: `http://127.0.0.1:${port}`, port, dir: tmp.dir };
}

async function post(base: string, raw: Uint8Array, source: string): Promise<{ status: number; body: { valid?: boolean; reason?: string; error?: string } }> {
  const res = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': source }, body: raw });
  return { status: res.status, body: (await res.json()) as { valid?: boolean; reason?: string; error?: string } };
}

/**
 * A's 12 blocks connected, B11 and B12 stored beside them, and B13 (which overpays its coinbase:
 * bad-cb-amount) ready to make B the best branch; B12's commit will fail (a full disk), so B13's
 * first answer is our own error, before B13 was judged.
 */
async function unjudged(chain: ChainState, seed: string, failing: readonly number[] = [2]): Promise<{ a: GeneratedBlock[]; bad13: Uint8Array; hash: string }> {
  const a = branch(seed, 12, 2);
  const b = branch(seed, 13, 2, { height: 11, tag: 'b' });
  for (const g of a) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  for (const g of b.slice(10, 12)) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  const g = b[12]!.block;
  const cb = g.txs[0]!;
  const block = remine(rebuildBlock(g, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...g.txs.slice(1)]));
  const apply = chain.store.applyBlock.bind(chain.store);
  let calls = 0;
  chain.store.applyBlock = (u) => (failing.includes(++calls) ? Promise.reject(new Error('ENOSPC injected')) : apply(u));
  return { a, bad13: block.toBytes(), hash: hashToHex(block.hash()) };
}

test('a block our failure left unjudged, found invalid when the activation is taken up with another source’s block, costs its sender', async (t) => {
  const { service, chain, base } = await serve(t);
  const { a, bad13 } = await unjudged(chain, 'blame-resume');
  const first = await post(base, bad13, 'mallory');
  assert.equal(first.status, 500, 'our failure');
  assert.deepEqual([service.sources.get('mallory').score, service.sources.get('mallory').invalid], [INITIAL_SCORE, 0], 'not blamed on mallory');
  // relay resends a block the chain has: the activation is taken up first, and B13 fails.
  const next = await post(base, a[4]!.raw, 'relay');
  assert.deepEqual([next.status, next.body.valid], [200, true]);
  const relay = service.sources.get('relay');
  assert.deepEqual([relay.score, relay.invalid], [INITIAL_SCORE, 0], 'relay is not blamed');
  const mallory = service.sources.get('mallory');
  assert.deepEqual([mallory.invalid, mallory.violations, mallory.score], [1, 1, INITIAL_SCORE + SCORE_DELTA.invalid], 'mallory, who sent B13, is');
});

test('a block our failure left unjudged, found invalid when the activation is taken up with a body that does not decode, costs its sender', async (t) => {
  const { service, chain, base } = await serve(t);
  const { bad13 } = await unjudged(chain, 'blame-resume-garbage');
  assert.equal((await post(base, bad13, 'mallory')).status, 500, 'our failure');
  // relay sends bytes that are no block: processBlock takes the activation up first, and B13 fails.
  const next = await post(base, Uint8Array.of(1, 2, 3, 4, 5), 'relay');
  assert.equal(next.status, 400);
  assert.equal(chain.tip.height, 12, 'the activation was taken up (back on A12)');
  const mallory = service.sources.get('mallory');
  assert.deepEqual([mallory.invalid, mallory.violations], [1, 1], 'mallory, who sent B13, pays');
});

test('a block our failure left unjudged and resent by its sender, found invalid then, costs its sender once', async (t) => {
  const { service, chain, base } = await serve(t);
  const { bad13, hash } = await unjudged(chain, 'blame-resend');
  assert.equal((await post(base, bad13, 'mallory')).status, 500, 'our failure');
  // mallory sends it again: the activation taken up first finds it invalid.
  const again = await post(base, bad13, 'mallory');
  assert.deepEqual([again.status, again.body.reason], [422, 'duplicate-invalid']);
  assert.notEqual(chain.tip.hex, hash);
  const mallory = service.sources.get('mallory');
  assert.deepEqual([mallory.invalid, mallory.violations, mallory.score], [1, 1, INITIAL_SCORE + SCORE_DELTA.invalid], 'B13 costs mallory, once');
  // A third time it is known invalid: no new offence.
  assert.equal((await post(base, bad13, 'mallory')).status, 422);
  assert.deepEqual([service.sources.get('mallory').invalid, service.sources.get('mallory').score], [1, INITIAL_SCORE + SCORE_DELTA.invalid]);
});

test('a body that is no block, answered while the service shuts down, has its cost saved with the rest', async (t) => {
  const { service, chain, port, dir } = await serve(t);
  const socket = await new Promise<ReturnType<typeof connect>>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let reply = '';
  socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.write('POST /blocks HTTP/1.1\r\nHost: x\r\nX-Vigil-Source: sloppy\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nz');
  for (let i = 0; i < 200 && service.health().components.queue.bytes !== 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const closing = service.close();
  // The scores pending at shutdown are written; this body ends after that.
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.write('z');
  await ended;
  await closing;
  await chain.close();
  assert.match(reply, /^HTTP\/1\.1 400 /);
  const reopened = await ChainState.open(dir, { network: 'regtest' });
  try {
    const rec = new SourceBook(reopened.store).get('sloppy');
    assert.deepEqual([rec.malformed, rec.score], [1, INITIAL_SCORE + SCORE_DELTA.malformed], 'the cost answered 400 survives the restart');
  } finally {
    await reopened.close();
  }
});

test('score changes whose commit failed are committed by themselves once the store takes writes again', async (t) => {
  const tmp = tempDir('vigil-blame-retry-');
  const store = ChainStore.open(tmp.dir, { network: 'regtest' });
  t.after(async () => {
    await store.close();
    tmp.remove();
  });
  const book = new SourceBook(store, { banScore: 0, banViolations: 1, banSeconds: 3600 });
  const commit = store.updateSourceRecords.bind(store);
  let failing = true;
  store.updateSourceRecords = (keys, next) => (failing ? Promise.reject(new StoreError('io', 'updateSourceRecords: MDB_MAP_FULL (injected)')) : commit(keys, next));
  book.record('mallory', 'invalid');
  assert.ok(book.banRemaining('mallory') > 0, 'banned here at once');
  // The commit every FLUSH_MS fails; then the disk has room again, and no block comes.
  for (let i = 0; i < 100 && book.lastError === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.match(book.lastError?.message ?? '', /MDB_MAP_FULL/);
  failing = false;
  const other = new SourceBook(store);
  for (let i = 0; i < 300 && other.banRemaining('mallory') === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(other.banRemaining('mallory') > 0, 'the ban reached the store (a restart, or `vigil sources`, sees it) without waiting for another submission');
  assert.deepEqual(book.waiting, { sources: 0, outcomes: 0 });
});

test('health says the store is degraded while source scores cannot be saved, and healthy once they are', async (t) => {
  const { service, chain, base } = await serve(t);
  const commit = chain.store.updateSourceRecords.bind(chain.store);
  let failing = true;
  chain.store.updateSourceRecords = (keys, next) => (failing ? Promise.reject(new StoreError('io', 'updateSourceRecords: MDB_MAP_FULL (injected)')) : commit(keys, next));
  const store = async (): Promise<{ status: string; detail: string }> =>
    ((await (await fetch(`${base}/health`)).json()) as { components: { store: { status: string; detail: string } } }).components.store;
  assert.equal((await store()).status, 'healthy');
  assert.equal((await post(base, Uint8Array.of(1, 2, 3), 'sloppy')).status, 400, 'a cost to save');
  for (let i = 0; i < 100 && service.sources.lastError === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const failed = await store();
  assert.equal(failed.status, 'degraded');
  assert.match(failed.detail, /last write of source scores failed.*MDB_MAP_FULL/);
  failing = false;
  for (let i = 0; i < 300 && service.sources.lastError !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal((await store()).status, 'healthy', 'the retry saved them');
});

test('a block our failure left unjudged, resent by another source while the disk is still full, costs its first sender, not the resender', async (t) => {
  const { service, chain, base } = await serve(t);
  // B12's commit fails twice (a disk still full when the next block comes), then works.
  const { bad13, hash } = await unjudged(chain, 'blame-resent-unjudged', [2, 3]);
  assert.equal((await post(base, bad13, 'mallory')).status, 500, 'our failure');
  // relay sends the same block again: the taken-up activation fails once more, then the block's
  // own activation finds it invalid.
  const again = await post(base, bad13, 'relay');
  assert.equal(again.status, 422);
  assert.notEqual(chain.tip.hex, hash);
  const relay = service.sources.get('relay');
  assert.deepEqual([relay.score, relay.invalid, relay.violations], [INITIAL_SCORE, 0, 0], 'relay resent a known block: no offence (README: a known block 0)');
  const mallory = service.sources.get('mallory');
  assert.deepEqual([mallory.invalid, mallory.violations, mallory.score], [1, 1, INITIAL_SCORE + SCORE_DELTA.invalid], 'mallory, its first sender, pays');
});

test('health stays unhealthy when the activation taken up commits one block and then fails to write again', async (t) => {
  const { chain, base } = await serve(t);
  const seed = 'blame-health-again';
  const a = branch(seed, 12, 0);
  const b = branch(seed, 13, 0, { height: 11, tag: 'b' });
  for (const g of a) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  for (const g of b.slice(10, 12)) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  const health = async (): Promise<number> => (await fetch(`${base}/health`)).status;
  // B13 makes branch B the best: B11 commits, B12 does not (a full disk).
  const apply = chain.store.applyBlock.bind(chain.store);
  let calls = 0;
  chain.store.applyBlock = (u) => (++calls === 2 || calls === 4 ? Promise.reject(new Error('ENOSPC injected')) : apply(u));
  assert.equal((await post(base, b[12]!.raw, 'peer')).status, 500);
  assert.equal(await health(), 503);
  const before = chain.tip.height;
  // The next submission takes the activation up: B12 commits, B13's commit fails again.
  assert.equal((await post(base, Uint8Array.of(1, 2, 3), 'other')).status, 400);
  assert.equal(chain.tip.height, before + 1, 'one block committed');
  assert.notEqual(chain.tip.hex, hashToHex(b[12]!.hash), 'the last write failed');
  assert.equal(await health(), 503, 'the last write failed: unhealthy until a block commits again');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /^vigil_internal_errors_total\{reason="store-write-failed"\} 2$/m, 'both failed commits are our own failures, counted');
  // Once a commit goes through, healthy again.
  assert.equal((await post(base, Uint8Array.of(1, 2, 3), 'other')).status, 400);
  assert.equal(chain.tip.hex, hashToHex(b[12]!.hash));
  assert.equal(await health(), 200);
});
