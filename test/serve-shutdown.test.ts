// Graceful shutdown of the service, in process: the block in flight is finished and answered,
// the ones still queued are answered 503 (never processed), and the store reopens on the tip
// the answers promised.

import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { ChainState } from '../src/chain/chain-state.js';
import { hashToHex } from '../src/primitives/bytes.js';
import { startService } from '../src/service/start.js';
import { DEFAULT_SCORE_POLICY, SourceBook } from '../src/service/source-scores.js';
import { branch, tempDir } from './helpers/regtest-chain.js';

async function post(url: string, raw: Uint8Array): Promise<{ status: number; body: { valid?: boolean; height?: number } }> {
  const res = await fetch(`${url}/blocks`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': 'one' }, body: raw });
  return { status: res.status, body: (await res.json()) as { valid?: boolean; height?: number } };
}

test('shutdown finishes the block in flight, answers the queued ones 503, and keeps the tip', { timeout: 120_000 }, async () => {
  const blocks = branch('serve-shutdown', 106, 6);
  const tmp = tempDir('vigil-serve-shutdown-');
  try {
    const s = await startService({ datadir: tmp.dir, network: 'regtest', port: 0, workers: 1, rate: 1e6, burst: 1e6 });
    const url = `http://127.0.0.1:${s.address.port}`;
    for (const b of blocks.slice(0, 104)) assert.equal((await post(url, b.raw)).status, 200);

    // Block 105 (with transactions to check) goes in flight; 106 waits behind it.
    const inFlight = post(url, blocks[104]!.raw);
    while (s.service.queue.depth < 1) await new Promise((r) => setTimeout(r, 1));
    const queued = post(url, blocks[105]!.raw);
    while (s.service.queue.depth < 2) await new Promise((r) => setTimeout(r, 1));
    const closing = s.close();

    const a = await inFlight;
    assert.deepEqual([a.status, a.body.valid, a.body.height], [200, true, 105], 'the block in flight is finished');
    const b = await queued;
    assert.equal(b.status, 503, 'the queued block is refused: it was never processed');
    await closing;
    await assert.rejects(fetch(`${url}/tip`), 'the port is closed');

    const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
    try {
      assert.equal(chain.tip.height, 105);
      assert.equal(chain.tip.hex, hashToHex(blocks[104]!.block.hash()));
      // The source's score counts every block it was answered for, the one in flight included.
      assert.equal(new SourceBook(chain.store).get('one').valid, 105);
    } finally {
      await chain.close();
    }
  } finally {
    tmp.remove();
  }
});

test('startService: its options reach the parts, it listens on loopback by default, and a start that fails releases what it opened', async () => {
  const one = tempDir('vigil-serve-start-');
  const two = tempDir('vigil-serve-start-');
  try {
    const s = await startService({ datadir: one.dir, network: 'regtest', port: 0, workers: 0, policy: { banViolations: 1 } });
    try {
      assert.equal(s.address.address, '127.0.0.1');
      assert.equal(s.pool.threads, 0, 'workers: 0 checks scripts on the main thread');
      assert.deepEqual(s.service.sources.policy, { ...DEFAULT_SCORE_POLICY, banViolations: 1 }, 'a partial policy is completed from the defaults');
      // The port is taken: the second start fails, and its store is closed again.
      await assert.rejects(startService({ datadir: two.dir, network: 'regtest', port: s.address.port, workers: 0 }), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
      const reopened = await ChainState.open(two.dir, { network: 'regtest' });
      await reopened.close();
    } finally {
      // Closing twice at once is one shutdown.
      await Promise.all([s.close(), s.close()]);
    }
  } finally {
    one.remove();
    two.remove();
  }
});

test('VigilService.listen: once only; a second call, or one after close(), is refused, one pending when close() comes is answered, and none leaves a server keeping the process alive', async () => {
  const tmp = tempDir('vigil-serve-listen-');
  try {
    // In a process of its own: a server nobody can close would keep it alive (here, the test's).
    const mod = new URL('../src/index.js', import.meta.url).href;
    const code = [
      `const { ChainState, VigilService } = await import(${JSON.stringify(mod)});`,
      `const chain = await ChainState.open(${JSON.stringify(tmp.dir)}, { network: 'regtest', noSync: true });`,
      'const outcome = (p) => p.then((a) => "listening", (e) => "refused: " + e.message);',
      'const taken = new VigilService({ chain });',
      'const first = await taken.listen(0);',
      // A taken port leaves nothing listening: the same service may try again.
      'const retry = new VigilService({ chain });',
      'const out = [await outcome(retry.listen(first.port)), await outcome(retry.listen(0))];',
      'out.push(await outcome(taken.listen(0)));',
      'await taken.close();',
      'await retry.close();',
      'out.push(await outcome(taken.listen(0)));',
      // Closed while its address is still being bound: listen() is answered, not left pending.
      'const early = new VigilService({ chain });',
      'const pending = early.listen(0);',
      'await early.close();',
      'out.push(await outcome(pending));',
      // Ports that are no TCP port, and a host that is no string, are refused before anything listens.
      'const picky = new VigilService({ chain });',
      'for (const bad of ["8080x", "/tmp/vigil.sock", 65536, -1, 1.5, NaN]) out.push(await outcome(picky.listen(bad)));',
      'out.push(await outcome(picky.listen(0, 127001)));',
      'out.push(await outcome(picky.listen(0)));',
      'await picky.close();',
      'await chain.close();',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, `the process did not exit by itself: ${r.stdout}${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as string[];
    assert.match(out[0]!, /^refused: .*EADDRINUSE/);
    assert.equal(out[1], 'listening', 'after a failed listen, the service may listen');
    assert.match(out[2]!, /^refused: .*already listening/);
    assert.match(out[3]!, /^refused: .*after close/);
    assert.match(out[4]!, /^refused: .*closed before it listened/);
    for (let i = 5; i <= 10; i++) assert.match(out[i]!, /^refused: .*port must be an integer in 0\.\.65535/, `bad port ${i - 5}`);
    assert.match(out[11]!, /^refused: .*host must be a string/);
    assert.equal(out[12], 'listening', 'refusals leave the service free to listen');
  } finally {
    tmp.remove();
  }
});
