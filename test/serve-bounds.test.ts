// The service in this process, on a real chain: what clients send cannot make it hold more than
// its byte budget (bodies still being read count too), a request target it cannot parse is the
// client's error, a store write that failed makes health say so until one succeeds, and a block
// found invalid only later is blamed on the source that sent it.

import { test, type TestContext } from 'node:test';
import { strict as assert } from 'node:assert';
import { connect, type Socket } from 'node:net';
import { request, type ClientRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ChainState } from '../src/chain/chain-state.js';
import { hashToHex } from '../src/primitives/bytes.js';
import { internalError } from '../src/consensus/validation.js';
import { VigilService, type ServiceOptions } from '../src/service/server.js';
import { createLogger } from '../src/service/logger.js';
import { INITIAL_SCORE, SCORE_DELTA } from '../src/service/source-scores.js';
import { rebuildBlock, withInput, withOutput } from './helpers/alter-block.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';

async function serve(
  t: TestContext,
  queueBytes: number | undefined,
  more: Omit<ServiceOptions, 'chain' | 'queueBytes'> = {},
): Promise<{ service: VigilService; chain: ChainState; base: string; port: number; host: string }> {
  const tmp = tempDir('vigil-bounds-');
  const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
  const service = new VigilService({ chain, queueBytes, logger: createLogger({ level: 'error' }), ...more });
  const address = await service.listen(0);
  t.after(async () => {
    await service.close();
    await chain.close();
    tmp.remove();
  });
  return { service, chain, base: `http://127.0.0.1:${address.port}`, port: address.port, host: address.address };
}

/** A POST that declares `length` bytes and sends only `sent` of them, left open. */
function partialUpload(port: number, length: number, sent: number, source?: string): { req: ClientRequest; status: Promise<number> } {
  const headers = { 'content-type': 'application/octet-stream', 'content-length': length, ...(source === undefined ? {} : { 'x-vigil-source': source }) };
  const req = request({ host: '127.0.0.1', port, path: '/blocks', method: 'POST', headers });
  const status = new Promise<number>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
  req.write(new Uint8Array(sent));
  return { req, status };
}

async function post(base: string, raw: Uint8Array, source?: string): Promise<{ status: number; body: { valid?: boolean | null; reason?: string; connected?: boolean; duplicate?: boolean } }> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...(source === undefined ? {} : { 'x-vigil-source': source }) };
  const res = await fetch(`${base}/blocks`, { method: 'POST', headers, body: raw });
  return { status: res.status, body: (await res.json()) as { valid?: boolean | null; reason?: string; connected?: boolean; duplicate?: boolean } };
}

test('bodies still being read count against the byte budget by the bytes they sent; the budget comes back when they end', async (t) => {
  const { base, port } = await serve(t, 8_000_000);
  const blocks = branch('bounds', 1, 0);
  // Uploads that declare 3 MB and trickle hold what they sent, not what they declared: they
  // cannot lock others out.
  const trickling = [partialUpload(port, 3_000_000, 10), partialUpload(port, 3_000_000, 10), partialUpload(port, 3_000_000, 10)];
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual((await post(base, blocks[0]!.raw)).status, 200);
  for (const s of trickling) s.req.destroy();
  // Two that sent 3 MB each and stall hold 6 MB of the 8 MB budget: a third sending 3 MB is cut.
  const stalled = [partialUpload(port, 3_500_000, 3_000_000), partialUpload(port, 3_500_000, 3_000_000)];
  await new Promise((resolve) => setTimeout(resolve, 300));
  const third = partialUpload(port, 3_500_000, 3_000_000);
  assert.equal(await third.status, 503, 'a third would pass the budget');
  third.req.destroy();
  for (const s of stalled) s.req.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const r = await post(base, blocks[0]!.raw);
  assert.deepEqual([r.status, r.body.valid], [200, true]);
});

test('one body is let in when nothing else holds any, even one larger than the budget (as the queue does)', async (t) => {
  const { base } = await serve(t, 100);
  const blocks = branch('bounds-small', 2, 0);
  assert.ok(blocks[0]!.raw.length > 100);
  for (const b of blocks) assert.deepEqual((await post(base, b.raw)).status, 200);
});

test('a request target that does not parse is 400, not an internal error', async (t) => {
  const { port } = await serve(t, 8_000_000);
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end('GET http://[/tip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8').on('data', (s: string) => (text += s));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 400 /);
  assert.match(reply, /malformed request target/);
});

test('health is unhealthy after a store write failed, and healthy once a block commits again', async (t) => {
  const { base, chain } = await serve(t, 8_000_000);
  const blocks = branch('bounds-health', 2, 0);
  const health = async (): Promise<{ status: number; store: string }> => {
    const res = await fetch(`${base}/health`);
    const body = (await res.json()) as { components: { store: { status: string } } };
    return { status: res.status, store: body.components.store.status };
  };
  // The block fails to commit (as on a full disk) once; processBlock answers it as our own error.
  const processBlock = chain.processBlock.bind(chain);
  chain.processBlock = async () => {
    chain.processBlock = processBlock;
    return { result: internalError('store-write-failed', 'ENOSPC: no space left on device'), hash: '', duplicate: false, connected: false, tip: { hash: chain.tip.hex, height: chain.tip.height } };
  };
  assert.equal((await post(base, blocks[0]!.raw)).status, 500);
  assert.deepEqual(await health(), { status: 503, store: 'unhealthy' });
  assert.equal((await post(base, blocks[0]!.raw)).status, 200);
  assert.deepEqual(await health(), { status: 200, store: 'healthy' });
});

test('a submission that fails by a throw of ours is answered 500 and counted as an error in the submissions metric', async (t) => {
  const { base, chain } = await serve(t, 8_000_000);
  const blocks = branch('bounds-throw', 1, 0);
  const processBlock = chain.processBlock.bind(chain);
  chain.processBlock = async () => {
    chain.processBlock = processBlock;
    throw new TypeError('injected bug');
  };
  const errors = async (): Promise<number> => {
    const m = /^vigil_ingest_submissions_total\{outcome="error"\} (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text());
    return m === null ? 0 : Number(m[1]);
  };
  assert.equal(await errors(), 0);
  const r = await post(base, blocks[0]!.raw);
  assert.equal(r.status, 500);
  assert.equal(await errors(), 1);
  assert.equal((await post(base, blocks[0]!.raw)).status, 200, 'the same block, once the fault is gone');
  assert.equal(await errors(), 1);
});

test('health recovers when a stored block whose branch failed to commit is sent again and becomes the tip (a duplicate)', async (t) => {
  const { base, chain } = await serve(t, 8_000_000);
  const health = async (): Promise<number> => (await fetch(`${base}/health`)).status;
  const main = branch('bounds-dup', 3, 0);
  const fork = branch('bounds-dup', 4, 0, { height: 3, tag: 'fork' });
  for (const b of main) assert.equal((await post(base, b.raw)).status, 200);
  assert.equal((await post(base, fork[2]!.raw)).status, 200, "the fork's third block, stored beside the tip");
  // The fourth makes the fork heavier; its activation's first commit fails (a full disk).
  const apply = chain.store.applyBlock.bind(chain.store);
  let fail = true;
  chain.store.applyBlock = (u) => {
    if (!fail) return apply(u);
    fail = false;
    return Promise.reject(new Error('ENOSPC: no space left on device (injected)'));
  };
  assert.equal((await post(base, fork[3]!.raw)).status, 500);
  assert.equal(await health(), 503);
  // Sent again, it is known (a duplicate), and its branch now activates: the tip moves, a commit went through.
  const again = await post(base, fork[3]!.raw);
  assert.equal(again.status, 200);
  assert.equal(chain.tip.height, 4);
  assert.equal(chain.tip.hex, hashToHex(fork[3]!.hash));
  assert.equal(await health(), 200);
});

test('a side-branch block found invalid later costs its sender, not the sender of the block that made its branch win (Core)', async (t) => {
  const { service, chain, base } = await serve(t, 64_000_000);
  const a = branch('blame', 103, 0);
  const b = branch('blame', 104, 0, { height: 102, tag: 'b' });
  for (const g of a) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  // B's block 102 pays its coinbase one satoshi too much; B103 and B104 are re-mined on top of it.
  const cb = b[101]!.block.txs[0]!;
  let prev = remine(rebuildBlock(b[101]!.block, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...b[101]!.block.txs.slice(1)]));
  const forged = [prev];
  for (const g of b.slice(102)) {
    prev = remine(rebuildBlock(g.block, g.block.txs, { header: { prevBlock: prev.hash() } }));
    forged.push(prev);
  }
  // mallory's two blocks wait on a side branch with no more work than A's: stored, their
  // transactions unchecked, so neither valid nor invalid yet (Core's submitblock: inconclusive).
  for (const blk of forged.slice(0, 2)) {
    const r = await post(base, blk.toBytes(), 'mallory');
    assert.deepEqual([r.status, r.body.valid, r.body.reason, r.body.connected, r.body.duplicate], [200, null, 'inconclusive', false, false]);
  }
  // relay's block gives that branch the most work: B102 fails, and B104 is answered bad-prevblk.
  const r = await post(base, forged[2]!.toBytes(), 'relay');
  assert.deepEqual([r.status, r.body.reason], [422, 'bad-prevblk']);
  assert.equal(chain.tip.height, 103);
  const relay = service.sources.get('relay');
  assert.deepEqual([relay.score, relay.violations, relay.unconnected], [INITIAL_SCORE, 0, 1], 'relay is not blamed');
  const mallory = service.sources.get('mallory');
  assert.deepEqual([mallory.valid, mallory.invalid, mallory.violations, mallory.score], [2, 1, 1, INITIAL_SCORE + 2 + SCORE_DELTA.invalid], 'mallory is');
});

test('a source banned while its blocks wait: they are answered 403 unchecked (Core disconnects at once)', async (t) => {
  const tmp = tempDir('vigil-bounds-');
  const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
  const service = new VigilService({ chain, policy: { banScore: 0, banViolations: 2, banSeconds: 3600 }, logger: createLogger({ level: 'error' }) });
  const { port } = await service.listen(0);
  t.after(async () => {
    await service.close();
    await chain.close();
    tmp.remove();
  });
  const base = `http://127.0.0.1:${port}`;
  // Ten blocks at height 1, each paying its coinbase a different amount too much: all invalid.
  const [first] = branch('banned-queue', 1, 0);
  const cb = first!.block.txs[0]!;
  const bad = Array.from({ length: 10 }, (_, i) => remine(rebuildBlock(first!.block, [withOutput(cb, 0, { value: cb.outputs[0]!.value + i + 1 })])).toBytes());
  const answers = await Promise.all(bad.map((raw) => post(base, raw, 'mallory')));
  // They arrive in any order; the queue takes them one at a time.
  assert.deepEqual(
    answers.map((a) => a.status).sort(),
    [403, 403, 403, 403, 403, 403, 403, 403, 422, 422],
    'the two that banned her were checked; the rest were not',
  );
  const rec = service.sources.get('mallory');
  assert.deepEqual([rec.invalid, rec.violations], [2, 2]);
  assert.ok(rec.bannedUntil > 0);
  // A relay sending a block already known invalid is not punished for it (Core spares inbound peers
  // BLOCK_CACHED_INVALID); its maker was.
  const again = await post(base, bad[0]!, 'relay');
  assert.deepEqual([again.status, again.body.reason], [422, 'duplicate-invalid']);
  const relay = service.sources.get('relay');
  assert.deepEqual([relay.score, relay.violations, relay.duplicate], [INITIAL_SCORE, 0, 1]);
});

test('a hex body that decodes to more than a block may be is 413, as a raw one, and costs nothing', async (t) => {
  const { service, base } = await serve(t, 64_000_000);
  const hex = '00'.repeat(4_000_001);
  const res = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-vigil-source': 'big' }, body: hex });
  assert.equal(res.status, 413);
  const rec = service.sources.get('big');
  assert.deepEqual([rec.score, rec.violations, rec.malformed], [INITIAL_SCORE, 0, 0]);
});

test('connections past the cap are closed as they come; the ones open and later ones are served', async (t) => {
  const { base, port } = await serve(t, 8_000_000, { maxConnections: 2 });
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  // Two idle sockets hold the cap (the server has accepted both once one more is refused).
  const idle = [await open(), await open()];
  const third = await open();
  const closed = await new Promise<boolean>((resolve) => {
    third.once('close', () => resolve(true));
    third.once('data', () => resolve(false));
    third.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  });
  assert.equal(closed, true, 'the connection past the cap is closed without an answer');
  // An open one is still served.
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    idle[0]!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\r\n\r\n')) resolve(text);
    });
    idle[0]!.write('GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  });
  assert.match(answer, /^HTTP\/1\.1 200/);
  // Once the idle ones go, new connections are served again.
  for (const s of idle) s.destroy();
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    status = await fetch(`${base}/health`).then((r) => r.status, () => 0);
    if (status !== 200) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(status, 200);
});

// queueBytes: 0 or less answered every block 503, NaN dropped the byte budget unsaid.
test('maxConnections must be a positive integer; queueBytes a positive integer or Infinity (no byte bound)', async (t) => {
  const tmp = tempDir('vigil-bounds-');
  const chain = await ChainState.open(tmp.dir, { network: 'regtest' });
  t.after(async () => {
    await chain.close();
    tmp.remove();
  });
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new VigilService({ chain, maxConnections: bad }), RangeError);
  for (const bad of [0, -1, 0.5, Number.NaN]) assert.throws(() => new VigilService({ chain, queueBytes: bad }), RangeError, `queueBytes ${bad}`);
  for (const good of [1, 4_000_000, Number.POSITIVE_INFINITY]) assert.equal(new VigilService({ chain, queueBytes: good }).queue.opts.maxBytes, good);
});

/**
 * Write `text` on a new connection and collect what comes back until the server closes it or `ms`
 * pass. `halfClose`: end the client's side once written (its FIN), still reading.
 */
function exchange(port: number, text: string | Uint8Array, ms: number, halfClose = false): Promise<{ reply: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => (halfClose ? socket.end(text) : socket.write(text)));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply, closedByServer: false });
    }, ms);
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closedByServer: true });
    });
  });
}

test('a connection that pipelines more requests than it reads answers to is closed; others are served', async (t) => {
  const { base, port } = await serve(t, 8_000_000);
  // Node would answer each in order and hold the answers a client does not read: 1,800 pipelined
  // /sources of 4 MB each took a process past its heap limit.
  const { reply, closedByServer } = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(40), 3000);
  const answers = reply.split('HTTP/1.1 ').length - 1;
  assert.ok(closedByServer, 'the server closed the connection');
  assert.ok(answers <= 8, `at most 8 answers before it did (got ${answers})`);
  // A client that pipelines a few is still answered in full, on a connection kept open.
  const few = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3), 500);
  assert.equal(few.reply.split('HTTP/1.1 200').length - 1, 3);
  assert.equal(few.closedByServer, false);
  assert.equal((await fetch(`${base}/health`)).status, 200);
});

test('a GET with a body is 400 and the connection closes: its body is not read, however long', async (t) => {
  const { port } = await serve(t, 8_000_000);
  const { reply, closedByServer } = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nxxxx', 3000);
  assert.match(reply, /^HTTP\/1\.1 400 /);
  assert.match(reply, /a GET takes no body/);
  assert.match(reply, /connection: close/i);
  assert.ok(closedByServer, 'the server closed the connection instead of reading 1 TB');
});

test('a GET or PUT of /blocks with a body is 405 and the connection closes: its body is not read, however long', async (t) => {
  const { port } = await serve(t, 8_000_000);
  for (const method of ['GET', 'PUT']) {
    const { reply, closedByServer } = await exchange(port, `${method} /blocks HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nxxxx`, 3000);
    assert.match(reply, /^HTTP\/1\.1 405 /);
    assert.match(reply, /\r\nallow: POST\r\n/i);
    assert.match(reply, /connection: close/i);
    assert.ok(closedByServer, `the server closed the ${method} connection instead of reading 1 TB`);
  }
});

test('a client that half-closes after its request still gets the answer, then the connection closes', async (t) => {
  const { chain, port } = await serve(t, 8_000_000);
  const raw = branch('half-close', 1, 0)[0]!.raw;
  const head = `POST /blocks HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${raw.length}\r\n\r\n`;
  // The verdict is written after the block is checked, well after the client's FIN arrived.
  const post = await exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), raw]), 5000, true);
  assert.match(post.reply, /^HTTP\/1\.1 200 /);
  assert.match(post.reply, /"valid":true/);
  assert.ok(post.closedByServer, 'the server closed the connection once it had answered');
  assert.equal(chain.tip.height, 1);
  const get = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\n\r\n', 5000, true);
  assert.match(get.reply, /^HTTP\/1\.1 200 /);
  assert.ok(get.closedByServer);
});

test("one source's bodies being read hold at most a quarter of the byte budget; other sources still get in", async (t) => {
  const { base, port } = await serve(t, 8_000_000);
  const blocks = branch('share', 1, 0);
  const upload = (sent: number): { req: ClientRequest; status: Promise<number> } => {
    const u = partialUpload(port, 3_900_000, 0, 'greedy');
    u.req.write(new Uint8Array(sent));
    return u;
  };
  // The first body is always let in; with it holding 1.5 MB, a second one may bring the source
  // to 2 MB (a quarter of 8 MB) and no further: past that it is cut with 503.
  const first = upload(1_500_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const second = upload(1_000_000);
  assert.equal(await second.status, 503);
  // Another source is not held up by it.
  assert.equal((await post(base, blocks[0]!.raw, 'honest')).status, 200);
  first.req.destroy();
});

/** A log stream that keeps each JSON line, parsed. */
function jsonLines(): { lines: Array<Record<string, unknown>>; stream: { write: (s: string) => boolean } } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, stream: { write: (s: string) => (lines.push(JSON.parse(s) as Record<string, unknown>), true) } };
}

/** A connection to the service, once it is established. */
function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Poll `ready` (up to about 2 s) until it holds. */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Block `raw` (height 1 of its branch) with its coinbase paying one satoshi too much: bad-cb-amount. */
function overpaying(seed: string): Uint8Array {
  const [first] = branch(seed, 1, 0);
  const cb = first!.block.txs[0]!;
  return remine(rebuildBlock(first!.block, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 })])).toBytes();
}

test('a body trickled a byte per packet holds about the bytes it sent, as the budget counts them', async (t) => {
  const { service, base, port } = await serve(t, 8_000_000);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const held = (): number => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  // Node hands each read over as its own Buffer: one per byte here, each far larger than its byte.
  const senders = 20;
  const each = 5_000;
  const sockets = await Promise.all(Array.from({ length: senders }, () => openSocket(port)));
  for (const [i, s] of sockets.entries()) {
    s.setNoDelay(true);
    s.on('error', () => {});
    s.write(`POST /blocks HTTP/1.1\r\nHost: x\r\nX-Vigil-Source: trickle-${i}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`);
  }
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = held();
    const one = new Uint8Array(1);
    for (let k = 0; k < each; k++) {
      for (const s of sockets) s.write(one);
      await new Promise(setImmediate);
    }
    await until(() => service.health().components.queue.bytes === senders * each);
    assert.equal(service.health().components.queue.bytes, senders * each);
    const grown = held() - before;
    assert.ok(grown < 4_000_000, `${senders * each} bytes being read hold ${grown} bytes of memory`);
  } finally {
    for (const s of sockets) s.destroy();
  }
  // A block sent in small pieces arrives whole.
  const raw = branch('trickled', 1, 0)[0]!.raw;
  const head = `POST /blocks HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nConnection: close\r\nContent-Length: ${raw.length}\r\n\r\n`;
  const socket = await openSocket(port);
  let reply = '';
  socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.setNoDelay(true);
  socket.write(head);
  for (let at = 0; at < raw.length; at += 7) {
    socket.write(raw.subarray(at, at + 7));
    await new Promise(setImmediate);
  }
  await ended;
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.equal((await (await fetch(`${base}/tip`)).json() as { height: number }).height, 1);
});

test('by default a source may send a burst of 40, then 20 a second; the queue holds 64 blocks and 256 MiB', async (t) => {
  let now = 1_700_000_000_000;
  const { service, base, host } = await serve(t, undefined, { clock: () => now });
  assert.equal(host, '127.0.0.1', 'it listens on loopback unless told otherwise');
  const raw = branch('defaults', 1, 0)[0]!.raw;
  const burst: number[] = [];
  for (let i = 0; i < 41; i++) burst.push((await post(base, raw, 'eager')).status);
  assert.deepEqual(burst.slice(0, 40).filter((s) => s !== 200), [], 'the first 40 are taken (one new, then duplicates)');
  assert.equal(burst[40], 429);
  now += 1000;
  const next: number[] = [];
  for (let i = 0; i < 21; i++) next.push((await post(base, raw, 'eager')).status);
  assert.deepEqual([next.filter((s) => s === 200).length, next[20]], [20, 429], 'a second later, 20 more');
  const q = service.health().components.queue;
  assert.deepEqual([q.capacity, q.maxBytes], [64, 256 * 1024 * 1024]);
});

test('a client that pipelines 8 requests gets all 8 answers, on a connection kept open', async (t) => {
  const { port } = await serve(t, 8_000_000);
  const r = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(8), 500);
  assert.equal(r.reply.split('HTTP/1.1 200').length - 1, 8);
  assert.equal(r.closedByServer, false);
});

test('connections refused at the cap are logged at most once a minute, with how many there were', async (t) => {
  let now = 1_000_000;
  const log = jsonLines();
  const { port } = await serve(t, 8_000_000, { maxConnections: 1, clock: () => now, logger: createLogger({ level: 'warn', format: 'json', stream: log.stream }) });
  const idle = await openSocket(port);
  const refuse = async (): Promise<void> => {
    const s = await openSocket(port);
    s.on('error', () => {});
    await new Promise((resolve) => s.once('close', resolve));
  };
  for (let i = 0; i < 3; i++) await refuse();
  now += 60_000;
  await refuse();
  idle.destroy();
  const warned = log.lines.filter((l) => l.msg === 'connections refused: the connection cap is reached');
  assert.deepEqual(warned.map((l) => [l.refused, l.maxConnections]), [[1, 1], [3, 1]]);
});

test('/blocks takes only POST, every other path it answers only GET or HEAD: 405 with Allow', async (t) => {
  const { base } = await serve(t, 8_000_000);
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const r = await fetch(`${base}/blocks`, { method });
    assert.deepEqual([r.status, r.headers.get('allow')], [405, 'POST'], method);
  }
  for (const path of ['/tip', '/health', '/sources']) {
    const r = await fetch(base + path, { method: 'POST', body: 'x' });
    assert.deepEqual([r.status, r.headers.get('allow')], [405, 'GET, HEAD'], path);
  }
  for (const path of ['/sources/a-source', '/coins/00/0']) {
    const r = await fetch(base + path, { method: 'DELETE' });
    assert.deepEqual([r.status, r.headers.get('allow')], [405, 'GET, HEAD'], path);
  }
  const head = await fetch(`${base}/tip`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('a path nothing answers is 404 whatever the method, and a body sent to it is not read', async (t) => {
  const { base, port } = await serve(t, 8_000_000);
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']) {
    for (const path of ['/', '/block', '/blocks/x', '/tip/', '/sources/a/b', '/coins/00']) {
      const r = await fetch(base + path, { method, ...(method === 'POST' || method === 'PUT' ? { body: 'x' } : {}) });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
  }
  // A declared 4 GB body: answered at once, the connection closed, nothing read.
  const { reply, closedByServer } = await exchange(port, 'POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000000\r\n\r\nxx', 3000);
  assert.match(reply, /^HTTP\/1\.1 404 /);
  assert.ok(closedByServer, 'the server closed the connection');
});

test('a GET that declares an empty body is served; one with a chunked body is 400', async (t) => {
  const { port } = await serve(t, 8_000_000);
  const empty = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 3000);
  assert.match(empty.reply, /^HTTP\/1\.1 200 /);
  const chunked = await exchange(port, 'GET /tip HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 3000);
  assert.match(chunked.reply, /^HTTP\/1\.1 400 /);
  assert.match(chunked.reply, /a GET takes no body/);
});

test('/coins: vout up to 4294967295, the txid answered in lower case whatever case it was asked in', async (t) => {
  const { base } = await serve(t, 8_000_000);
  const [b] = branch('coins', 1, 0);
  assert.equal((await post(base, b!.raw)).status, 200);
  const txid = hashToHex(b!.block.txs[0]!.txid());
  const upper = await fetch(`${base}/coins/${txid.toUpperCase()}/0`);
  assert.equal(upper.status, 200);
  assert.equal(((await upper.json()) as { txid: string }).txid, txid);
  assert.equal((await fetch(`${base}/coins/${txid}/4294967295`)).status, 404, 'the largest vout is a fair question');
  for (const vout of ['4294967296', '-1', '1.5', '99999999999']) assert.equal((await fetch(`${base}/coins/${txid}/${vout}`)).status, 400, vout);
});

test("a block without X-Vigil-Source is scored to the client's address; a bad X-Vigil-Source is 400", async (t) => {
  const { service, base } = await serve(t, 8_000_000);
  const [b] = branch('address-source', 1, 0);
  assert.equal((await post(base, b!.raw)).status, 200);
  assert.equal(service.sources.find('127.0.0.1')?.valid, 1);
  for (const name of ['two words', 'x'.repeat(201)]) {
    const res = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': name }, body: b!.raw });
    assert.equal(res.status, 400, name);
    assert.match(((await res.json()) as { error: string }).error, /^X-Vigil-Source: /);
  }
});

test('a hex body is known by a text/plain content type with parameters or in any case, and may be twice a block in size', async (t) => {
  const { base } = await serve(t, 64_000_000);
  const [b] = branch('hex-types', 1, 0);
  const res = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'Text/Plain; charset=utf-8', 'x-vigil-source': 'hex' }, body: Buffer.from(b!.raw).toString('hex') });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { valid: boolean }).valid, true);
  // 5 MB of hex, 2.5 MB of bytes: not too large, only not a block.
  const big = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-vigil-source': 'hex' }, body: '00'.repeat(2_500_000) });
  assert.equal(big.status, 400);
  assert.equal(((await big.json()) as { error: string }).error, 'the body is not a block');
});

test('a POST that declares more than a block may be is 413 before its body is sent', async (t) => {
  const { port } = await serve(t, 64_000_000);
  const r = await exchange(port, 'POST /blocks HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 4000001\r\n\r\n', 3000);
  assert.match(r.reply, /^HTTP\/1\.1 413 /);
  assert.ok(r.closedByServer);
});

test('queued blocks and bodies being read share one budget: a body that would pass it beside a queued block is cut with 503', async (t) => {
  const { service, chain, base, port } = await serve(t, 1_000);
  const [b] = branch('shared-budget', 1, 0);
  assert.ok(b!.raw.length < 500);
  const processBlock = chain.processBlock.bind(chain);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  chain.processBlock = async (raw) => {
    await held;
    return processBlock(raw);
  };
  const first = post(base, b!.raw, 'a');
  try {
    await until(() => service.queue.queuedBytes > 0);
    assert.equal(service.queue.queuedBytes, b!.raw.length);
    // It has sent 1,000 of the 2,000 bytes it declares: answered at once, not when the rest comes.
    const head = 'POST /blocks HTTP/1.1\r\nHost: x\r\nX-Vigil-Source: b\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000\r\n\r\n';
    const trickle = await exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), new Uint8Array(1_000)]), 3000);
    assert.match(trickle.reply, /^HTTP\/1\.1 503 /);
  } finally {
    release();
  }
  assert.equal((await first).status, 200);
});

test('with the budget held by a body being read, health says so and a new POST is 503 before it sends its body', async (t) => {
  const { service, port } = await serve(t, 100);
  const hog = partialUpload(port, 1_000, 200, 'hog');
  await until(() => service.health().components.queue.bytes === 200);
  const q = service.health().components.queue;
  assert.deepEqual([q.status, q.bytes], ['degraded', 200]);
  assert.match(q.detail, /byte budget is spent/);
  const r = await exchange(port, 'POST /blocks HTTP/1.1\r\nHost: x\r\nX-Vigil-Source: other\r\nContent-Type: application/octet-stream\r\nContent-Length: 50\r\n\r\n', 3000);
  assert.match(r.reply, /^HTTP\/1\.1 503 /);
  assert.match(r.reply, /\r\nretry-after: 1\r\n/i);
  hog.req.destroy();
});

test('bodies that are no block cost their source: not hex, or empty', async (t) => {
  const { service, base } = await serve(t, 8_000_000);
  const notHex = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-vigil-source': 'sloppy' }, body: 'zz' });
  assert.deepEqual([notHex.status, await notHex.json()], [400, { error: 'the body is not hex' }]);
  const empty = await post(base, new Uint8Array(0), 'sloppy');
  assert.deepEqual([empty.status, empty.body], [400, { error: 'empty body' }]);
  const rec = service.sources.get('sloppy');
  assert.deepEqual([rec.malformed, rec.score], [2, INITIAL_SCORE + 2 * SCORE_DELTA.malformed]);
});

test('a banned source is answered 403 with the reason and the time left, before its body is read; the ban is logged', async (t) => {
  let now = 1_700_000_000_000;
  const log = jsonLines();
  const { base, port } = await serve(t, 8_000_000, {
    clock: () => now,
    policy: { banScore: 0, banViolations: 1, banSeconds: 600 },
    logger: createLogger({ level: 'warn', format: 'json', stream: log.stream }),
  });
  const bad = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': 'mallory' }, body: overpaying('banned-answer') });
  const verdict = (await bad.json()) as { reason: string; debug?: string; txIndex?: number };
  assert.equal(bad.status, 422);
  assert.deepEqual([verdict.reason, verdict.txIndex], ['bad-cb-amount', 0]);
  assert.match(verdict.debug ?? '', /^coinbase pays too much/, "Core's debug text comes with the reason");
  assert.deepEqual(
    log.lines.filter((l) => l.msg === 'source banned').map((l) => [l.source, l.reason]),
    [['mallory', '1 consensus-invalid blocks']],
  );
  now += 100_000;
  const again = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': 'mallory' }, body: new Uint8Array(10) });
  assert.equal(again.status, 403);
  assert.deepEqual(await again.json(), { error: 'source is banned', source: 'mallory', reason: '1 consensus-invalid blocks', retryAfterSeconds: 500 });
  // Its body is not waited for.
  const head = 'POST /blocks HTTP/1.1\r\nHost: x\r\nX-Vigil-Source: mallory\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n';
  const upload = await exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), new Uint8Array(10)]), 3000);
  assert.match(upload.reply, /^HTTP\/1\.1 403 /);
});

test('our own failure on a request is 500 and logged as an error', async (t) => {
  const log = jsonLines();
  const { chain, base } = await serve(t, 8_000_000, { logger: createLogger({ level: 'error', format: 'json', stream: log.stream }) });
  chain.processBlock = () => Promise.reject(new Error('boom'));
  const r = await post(base, branch('boom', 1, 0)[0]!.raw);
  assert.equal(r.status, 500);
  assert.deepEqual(
    log.lines.filter((l) => l.msg === 'request failed').map((l) => [l.level, l.url, l.error]),
    [['error', '/blocks', 'boom']],
  );
});

test('health: the tip is old past maxTipAgeSeconds (default a day), by the service clock', async (t) => {
  let now = 0;
  const { service, chain } = await serve(t, 8_000_000, { clock: () => now });
  const tipTime = chain.tip.time;
  now = (tipTime + 86_400) * 1000;
  assert.deepEqual([service.health().status, service.health().components.tip.status], ['healthy', 'healthy']);
  now += 1000;
  assert.equal(service.health().components.tip.status, 'degraded');
  const strict = new VigilService({ chain, maxTipAgeSeconds: 60, clock: () => now });
  now = (tipTime + 60) * 1000;
  assert.equal(strict.health().components.tip.status, 'healthy');
  now += 1000;
  assert.equal(strict.health().components.tip.status, 'degraded');
});

test('/sources is at most a second behind', async (t) => {
  const { base } = await serve(t, 8_000_000);
  const list = async (): Promise<string[]> => ((await (await fetch(`${base}/sources`)).json()) as { sources: Array<{ source: string }> }).sources.map((s) => s.source);
  assert.deepEqual(await list(), []);
  assert.equal((await post(base, branch('sources-fresh', 1, 0)[0]!.raw, 'newcomer')).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.deepEqual(await list(), ['newcomer']);
});

test('a block whose upload ends after shutdown began is answered 503 shutting down, and the connection closes', async (t) => {
  const { service, port } = await serve(t, 8_000_000);
  const raw = branch('late-upload', 1, 0)[0]!.raw;
  const head = `POST /blocks HTTP/1.1\r\nHost: x\r\nX-Vigil-Source: late\r\nContent-Type: application/octet-stream\r\nContent-Length: ${raw.length}\r\n\r\n`;
  const socket = await openSocket(port);
  let reply = '';
  socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.write(Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(0, 10)]));
  await until(() => service.health().components.queue.bytes === 10);
  const closing = service.close();
  socket.write(raw.subarray(10));
  await ended;
  await closing;
  assert.match(reply, /^HTTP\/1\.1 503 /);
  assert.match(reply, /\r\nretry-after: 5\r\n/i);
  assert.match(reply, /\r\nconnection: close\r\n/i);
  assert.match(reply, /"error":"shutting down"/);
});

test('shutdown does not wait for ever on a client that stops sending its body', async (t) => {
  const { service, port } = await serve(t, 8_000_000);
  const upload = partialUpload(port, 100_000, 10, 'stalled');
  try {
    await until(() => service.health().components.queue.bytes === 10);
    // Slow readers get a moment, then are cut; a bound far above that moment stands for "for ever".
    let guard: NodeJS.Timeout | undefined;
    const closed = await Promise.race([service.close().then(() => true), new Promise<boolean>((resolve) => (guard = setTimeout(() => resolve(false), 15_000)))]);
    clearTimeout(guard);
    assert.equal(closed, true, 'shutdown finished');
    assert.equal(await upload.status, 0, 'the stalled upload was cut, unanswered');
  } finally {
    upload.req.destroy();
  }
});

test('a block whose script fails is answered 422 with the transaction and the input that failed', async (t) => {
  const { chain, base } = await serve(t, 64_000_000);
  const blocks = branch('input-index', 102, 1);
  for (const g of blocks.slice(0, 101)) assert.equal((await chain.processBlock(g.raw)).result.mode, 'valid');
  // Block 102 spends with one taproot key-path signature: one bit of it flipped.
  const last = blocks[101]!.block;
  const tx = last.txs[1]!;
  const sig = tx.inputs[0]!.witness[0]!.slice();
  sig[0]! ^= 0x01;
  const raw = remine(rebuildBlock(last, [last.txs[0]!, withInput(tx, 0, { witness: [sig] })])).toBytes();
  const res = await fetch(`${base}/blocks`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-vigil-source': 'signer' }, body: raw });
  const body = (await res.json()) as { valid: boolean; reason: string; txIndex?: number; inputIndex?: number; height?: number };
  assert.equal(res.status, 422);
  assert.deepEqual([body.valid, body.reason, body.txIndex, body.inputIndex], [false, 'block-script-verify-flag-failed (Invalid Schnorr signature)', 1, 0]);
});

test('a side-branch block is inconclusive until judged; one checked and then taken off the active chain by a reorganisation is valid (Core: duplicate)', async (t) => {
  const { base } = await serve(t, undefined, { rate: 1000, burst: 1000 });
  const a = branch('reorged-out', 103, 1);
  const b = branch('reorged-out', 104, 1, { height: 102, tag: 'branch-b' });
  for (const g of a) assert.equal((await post(base, g.raw)).body.connected, true, `A${g.height}`);
  const side = await post(base, b[101]!.raw);
  assert.deepEqual([side.status, side.body.valid, side.body.reason, side.body.connected], [200, null, 'inconclusive', false]);
  await post(base, b[102]!.raw);
  const won = await post(base, b[103]!.raw);
  assert.deepEqual([won.body.valid, won.body.connected], [true, true], 'B104 gives B the most work');
  // A103 was connected and checked, then disconnected: valid, a duplicate, not on the active chain.
  const again = await post(base, a[102]!.raw);
  assert.deepEqual([again.status, again.body.valid, again.body.duplicate, again.body.connected, again.body.reason], [200, true, true, false, undefined]);
});

/**
 * A POST /blocks with `Expect: 100-continue`, its body held back until the server says
 * `100 Continue` (then sent); what came back once the server answered and closed, or after `ms`.
 */
function expectContinue(port: number, raw: Uint8Array, headers: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    let sent = false;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /blocks HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${raw.length}\r\nExpect: 100-continue\r\nConnection: close\r\n${headers}\r\n`);
    });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (!sent && /^HTTP\/1\.1 100 /.test(reply)) {
        sent = true;
        socket.write(raw);
      }
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}

test('Expect: 100-continue: a submission is told to go on only once the rate, size and budget checks let it; a refused one gets its final answer and never sends its body', async (t) => {
  const { port, service } = await serve(t, 8_000_000, { rate: 1, burst: 1 });
  const blocks = branch('bounds-continue', 2, 0);
  const ok = await expectContinue(port, blocks[0]!.raw, 'X-Vigil-Source: alice\r\n', 5000);
  assert.match(ok, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, 'accepted: 100, then the verdict');
  const limited = await expectContinue(port, blocks[1]!.raw, 'X-Vigil-Source: alice\r\n', 5000);
  assert.match(limited, /^HTTP\/1\.1 429 /, 'over its rate: 429 at once, no 100');
  const tooLarge = await expectContinue(port, new Uint8Array(4_000_001), 'X-Vigil-Source: bob\r\n', 5000);
  assert.match(tooLarge, /^HTTP\/1\.1 413 /, 'a declared length past a block: 413 at once, no 100');
  // HTTP/1.0 has no 100: the client sends its body at once and gets only the answer.
  const head10 = `POST /blocks HTTP/1.0\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${blocks[0]!.raw.length}\r\nExpect: 100-continue\r\nX-Vigil-Source: dave\r\n\r\n`;
  const { reply: old } = await exchange(port, Buffer.concat([Buffer.from(head10, 'latin1'), blocks[0]!.raw]), 5000);
  assert.match(old, /^HTTP\/1\.1 200 /, 'HTTP/1.0: the answer, no 100 before it');
  // An Expect with more in it, which Node matches too: still told to go on.
  const listed = await expectContinue(port, blocks[0]!.raw, 'X-Vigil-Source: erin\r\nExpect: 100-continue, x\r\n', 5000);
  assert.match(listed, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, 'told to go on, not left waiting');
  const closing = service.close();
  const late = await expectContinue(port, blocks[1]!.raw, 'X-Vigil-Source: carol\r\n', 2000);
  assert.doesNotMatch(late, /100 Continue/, 'shutting down: no 100');
  await closing;
});
