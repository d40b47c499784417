// `vigil serve` end to end: a generated regtest chain posted from three sources, one of which
// sends damaged and consensus-invalid blocks; the tip, /metrics (parsed as Prometheus text,
// counters equal to what was sent), /health, /coins, /sources, the bad source banned (403),
// 429s under a burst, and SIGTERM → exit 0 → restart on the same tip and UTXO digest.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { hashToHex, toHex } from '../src/primitives/bytes.js';
import type { Block } from '../src/primitives/block.js';
import type { GeneratedBlock } from '../src/generate/index.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';
import { rebuildBlock, withOutput } from './helpers/alter-block.js';
import { CLI, parsePrometheus, sampleValue, startServe, type ServeProcess } from './helpers/serve.js';
import { runCli } from './helpers/cli.js';

const BLOCKS = 110;

async function post(url: string, source: string, body: Uint8Array | string, hex = false): Promise<{ status: number; json: Record<string, unknown>; retryAfter: string | null }> {
  const res = await fetch(`${url}/blocks`, {
    method: 'POST',
    headers: { 'x-vigil-source': source, 'content-type': hex ? 'text/plain' : 'application/octet-stream' },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
}

async function get(url: string, path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function cli(args: readonly string[]): { status: number; out: string } {
  try {
    return { status: 0, out: execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { status: e.status, out: e.stdout };
  }
}

/** Block `b` with its coinbase paying one satoshi too much, merkle root and proof of work redone. */
function overpaying(b: GeneratedBlock): Block {
  const cb = b.block.txs[0]!;
  return remine(rebuildBlock(b.block, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...b.block.txs.slice(1)]));
}

/** Block `b` with one byte of its last transaction flipped: the merkle root no longer matches. */
function damaged(b: GeneratedBlock): Uint8Array {
  const raw = b.raw.slice();
  raw[raw.length - 10]! ^= 0x01;
  return raw;
}

async function stop(p: ServeProcess): Promise<void> {
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, `vigil serve should exit 0 on SIGTERM; logs:\n${p.stderr()}`);
  assert.match(p.stderr(), /shutting down signal=SIGTERM/);
}

test('vigil serve: three sources, one corrupt; metrics, health, bans, bursts, restart', { timeout: 180_000 }, async () => {
  const chain = branch('serve-e2e', BLOCKS, 4);
  const tmp = tempDir('vigil-serve-');
  const common = ['--datadir', tmp.dir, '--network', 'regtest', '--port', '0', '--workers', '1', '--ban-violations', '3', '--log-format', 'text'];
  try {
    // ---- first run: the chain from two honest sources and one corrupt one ----
    const s1 = await startServe([...common, '--rate', '1000', '--burst', '1000']);
    const sent = { valid: 0, duplicate: 0, invalid: 0, mutated: 0, banned: 0, malformed: 0 };
    const perSource = new Map<string, number>();
    let mallory = 0;
    try {
      for (const [i, b] of chain.entries()) {
        // mallory goes first at heights 5..9: one damaged block, then overpaying coinbases until banned.
        if (b.height >= 5 && b.height <= 9) {
          if (b.height === 5) {
            const r = await post(s1.url, 'mallory', damaged(b));
            assert.equal(r.status, 422, JSON.stringify(r.json));
            assert.equal(r.json.reason, 'bad-txnmrklroot');
            assert.equal(r.json.mode, 'mutated');
            sent.mutated++;
          } else {
            const r = await post(s1.url, 'mallory', overpaying(b).toBytes());
            mallory++;
            if (mallory <= 3) {
              assert.equal(r.status, 422, JSON.stringify(r.json));
              assert.equal(r.json.valid, false);
              assert.equal(r.json.reason, 'bad-cb-amount');
              assert.equal(r.json.txIndex, 0);
              sent.invalid++;
            } else {
              assert.equal(r.status, 403, `banned after 3 consensus violations: ${JSON.stringify(r.json)}`);
              sent.banned++;
            }
          }
        }
        const source = i % 2 === 0 ? 'alpha' : 'beta';
        // One block goes as hex text, the rest as raw bytes.
        const r = b.height === 2 ? await post(s1.url, source, toHex(b.raw), true) : await post(s1.url, source, b.raw);
        assert.equal(r.status, 200, `height ${b.height}: ${JSON.stringify(r.json)}`);
        assert.deepEqual([r.json.valid, r.json.hash, r.json.height, r.json.duplicate, r.json.connected], [true, hashToHex(b.block.hash()), b.height, false, true]);
        sent.valid++;
        perSource.set(source, (perSource.get(source) ?? 0) + 1);
      }
      // A block sent again is a duplicate: answered, but no score for it.
      const again = await post(s1.url, 'beta', chain[0]!.raw);
      assert.deepEqual([again.status, again.json.duplicate], [200, true]);
      sent.duplicate++;
      // Not a block: 400, counted as malformed.
      const junk = await post(s1.url, 'alpha', new Uint8Array([1, 2, 3]));
      assert.equal(junk.status, 400);
      const notHex = await post(s1.url, 'alpha', 'zz', true);
      assert.equal(notHex.status, 400);
      sent.malformed += 2;
      // The mutated block did not poison its hash: the genuine block 5 was accepted above.

      const tipBlock = chain[BLOCKS - 1]!;
      const tip = await get(s1.url, '/tip');
      assert.equal(tip.status, 200);
      assert.equal(tip.json.hash, hashToHex(tipBlock.block.hash()));
      assert.equal(tip.json.height, BLOCKS);
      assert.match(String(tip.json.chainwork), /^[0-9a-f]{64}$/);

      const cbTxid = hashToHex(tipBlock.block.txs[0]!.txid());
      const coin = await get(s1.url, `/coins/${cbTxid}/0`);
      assert.equal(coin.status, 200);
      assert.deepEqual([coin.json.value, coin.json.height, coin.json.coinbase], [tipBlock.block.txs[0]!.outputs[0]!.value, BLOCKS, true]);
      assert.equal((await get(s1.url, `/coins/${cbTxid}/7`)).status, 404);
      assert.equal((await get(s1.url, '/coins/xyz/0')).status, 400);
      assert.equal((await get(s1.url, '/nowhere')).status, 404);

      const health = await get(s1.url, '/health');
      assert.equal(health.status, 200);
      const comps = health.json.components as Record<string, { status: string; height?: number }>;
      assert.deepEqual([comps.store!.status, comps.workers!.status, comps.queue!.status], ['healthy', 'healthy', 'healthy']);
      assert.equal(comps.tip!.height, BLOCKS);
      // Generated blocks carry old timestamps: the tip is old, so the service says degraded.
      assert.equal(comps.tip!.status, 'degraded');
      assert.equal(health.json.status, 'degraded');

      const sources = (await get(s1.url, '/sources')).json.sources as Array<{ source: string; score: number; banned: boolean; invalid: number; valid: number }>;
      const bySource = new Map(sources.map((s) => [s.source, s]));
      assert.equal(bySource.get('mallory')?.banned, true);
      assert.equal(bySource.get('mallory')?.invalid, 3);
      assert.equal(bySource.get('mallory')?.score, 50 - 2 - 3 * 15);
      for (const name of ['alpha', 'beta']) {
        assert.equal(bySource.get(name)?.banned, false);
        assert.equal(bySource.get(name)?.valid, perSource.get(name));
      }
      // One source alone: the same record as in the list; unknown and malformed names answered apart.
      for (const name of ['mallory', 'alpha']) {
        const one = await get(s1.url, `/sources/${encodeURIComponent(name)}`);
        assert.equal(one.status, 200);
        assert.deepEqual(one.json, bySource.get(name));
      }
      assert.equal((await get(s1.url, '/sources/nobody')).status, 404);
      assert.equal((await get(s1.url, '/sources/%E0%A4%A')).status, 400);
      assert.equal((await get(s1.url, '/sources/caf%C3%A9')).status, 400);

      const txs = chain.reduce((n, b) => n + b.block.txs.length, 0);
      const inputs = chain.reduce((n, b) => n + b.block.txs.slice(1).reduce((k, t) => k + t.inputs.length, 0), 0);
      assert.ok(inputs > 0, 'the chain spends coins');
      const res = await fetch(`${s1.url}/metrics`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const { samples, types } = parsePrometheus(await res.text());
      const v = (name: string, labels: Record<string, string> = {}): number => sampleValue(samples, name, labels);
      assert.equal(types.get('vigil_blocks_connected_total'), 'counter');
      assert.equal(types.get('vigil_stage_duration_seconds'), 'histogram');
      assert.equal(v('vigil_blocks_connected_total'), BLOCKS);
      assert.equal(v('vigil_blocks_rejected_total', { reason: 'bad-cb-amount' }), 3);
      assert.equal(v('vigil_blocks_rejected_total', { reason: 'bad-txnmrklroot' }), 1);
      assert.equal(v('vigil_blocks_rejected_total', { reason: 'block-decode-failed' }), 1);
      assert.equal(v('vigil_transactions_total'), txs);
      assert.equal(v('vigil_inputs_total'), inputs);
      const sigs = v('vigil_signatures_verified_total', { kind: 'ecdsa' }) + v('vigil_signatures_verified_total', { kind: 'schnorr' });
      assert.ok(sigs >= inputs * 0.5 && sigs <= inputs * 3, `signatures ${sigs} for ${inputs} inputs`);
      for (const [outcome, n] of Object.entries(sent)) assert.equal(v('vigil_ingest_submissions_total', { outcome }), n, `submissions ${outcome}`);
      // Every block that reached the chain was parsed once; only the connected ones ran scripts.
      const processed = sent.valid + sent.duplicate + sent.invalid + sent.mutated + 1; // + the undecodable body
      assert.equal(v('vigil_stage_duration_seconds_count', { stage: 'parse' }), processed);
      assert.equal(v('vigil_stage_duration_seconds_count', { stage: 'scripts' }), BLOCKS);
      assert.equal(v('vigil_reorgs_total'), 0);
      assert.equal(v('vigil_ingest_queue_depth'), 0);
      // Scores are exported for the sources that gave valid blocks; mallory sent junk only: counted.
      assert.equal(v('vigil_source_score', { source: 'alpha' }), bySource.get('alpha')?.score);
      assert.ok(!samples.some((x) => x.name === 'vigil_source_score' && x.labels.source === 'mallory'));
      assert.equal(v('vigil_sources', { state: 'banned' }), 1);
      assert.equal(v('vigil_sources', { state: 'active' }), sources.length - 1);
      assert.ok(v('process_resident_memory_bytes') > 0, 'default process metrics are exported');
      const utxos = v('vigil_utxo_count');
      assert.ok(utxos > BLOCKS);
      await stop(s1);

      const digest1 = JSON.parse(cli(['utxo-digest', '--datadir', tmp.dir]).out) as { digest: string; coins: number; hash: string; height: number };
      assert.deepEqual([digest1.coins, digest1.height, digest1.hash], [utxos, BLOCKS, hashToHex(tipBlock.block.hash())]);
      const listed = JSON.parse(cli(['sources', '--datadir', tmp.dir, '--json']).out) as { sources: Array<{ source: string; banned: boolean }> };
      assert.equal(listed.sources.find((s) => s.source === 'mallory')?.banned, true, 'the ban is stored');

      // ---- second run: same tip, the ban survives, bursts get 429, unban takes effect live ----
      const s2 = await startServe([...common, '--rate', '1', '--burst', '5']);
      try {
        assert.deepEqual(s2.tip, { hash: digest1.hash, height: BLOCKS });
        assert.equal((await post(s2.url, 'mallory', chain[0]!.raw)).status, 403, 'a ban survives a restart');

        const burst = await Promise.all(Array.from({ length: 12 }, () => post(s2.url, 'burst', chain[0]!.raw)));
        const ok = burst.filter((r) => r.status === 200).length;
        const limited = burst.filter((r) => r.status === 429);
        assert.ok(ok >= 5 && ok <= 6, `a burst of 5 is let through (got ${ok})`);
        assert.equal(ok + limited.length, 12);
        for (const r of limited) assert.ok(Number(r.retryAfter) >= 1, 'Retry-After on 429');

        assert.deepEqual(cli(['unban', 'mallory', '--datadir', tmp.dir]), { status: 0, out: 'unbanned mallory\n' });
        const back = await post(s2.url, 'mallory', chain[0]!.raw);
        assert.deepEqual([back.status, back.json.duplicate], [200, true], 'an unban by another process takes effect at once');
        assert.equal(cli(['unban', 'mallory', '--datadir', tmp.dir]).status, 1, 'not banned any more');
      } finally {
        await stop(s2);
      }
      const digest2 = JSON.parse(cli(['utxo-digest', '--datadir', tmp.dir]).out) as typeof digest1;
      assert.deepEqual(digest2, digest1, 'restart leaves tip and UTXO set as they were');
    } finally {
      if (s1.child.exitCode === null) s1.child.kill('SIGKILL');
    }
  } finally {
    tmp.remove();
  }
});

/** Whether this machine can listen on the IPv6 loopback address. */
function haveIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

/** One request over `agent`; a POST when `block` is given. */
function call(agent: Agent, url: URL, path: string, block?: { source: string; raw: Uint8Array }): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers = block === undefined ? {} : { 'x-vigil-source': block.source, 'content-type': 'application/octet-stream', 'content-length': block.raw.length };
    const req = request({ agent, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path, method: block === undefined ? 'GET' : 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(block?.raw);
  });
}

/** A raw connection that sends one GET; resolves with what came back before it closed or `ms` passed. */
function rawGet(host: string, port: number, ms: number): Promise<{ socket: Socket; reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, host, () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('error', () => {});
    const timer = setTimeout(() => resolve({ socket, reply, closed: false }), ms);
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ socket, reply, closed: true });
    });
  });
}

test('vigil serve: its flags reach the service; a taken port or a locked directory is a usage error; SIGINT stops it; sources and unban print', { timeout: 120_000 }, async () => {
  const ipv6 = await haveIpv6();
  const host = ipv6 ? '::1' : '127.0.0.1';
  const tmp = tempDir('vigil-serve-flags-');
  const other = tempDir('vigil-serve-flags-');
  const s = await startServe(['--datadir', tmp.dir, '--network', 'regtest', '--host', host, '--port', '0', '--workers', '0', '--queue-size', '3', '--max-connections', '2', '--ban-violations', '1', '--ban-seconds', '60', '--log-format', 'text']);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // An IPv6 address is bracketed in the URL.
    const url = new URL(s.url);
    assert.equal(url.hostname, ipv6 ? '[::1]' : '127.0.0.1');
    assert.deepEqual(cli(['sources', '--datadir', tmp.dir]), { status: 0, out: 'no block sources yet\n' });

    const health = await call(agent, url, '/health');
    const parts = health.json.components as Record<string, { threads?: number; capacity?: number }>;
    assert.equal(parts.workers!.threads, 0, '--workers 0');
    assert.equal(parts.queue!.capacity, 3, '--queue-size 3');

    // --max-connections 2: the agent's connection and one more are served, a third is closed unanswered.
    const second = await rawGet(host, Number(url.port), 3000);
    assert.match(second.reply, /^HTTP\/1\.1 200 /);
    const third = await rawGet(host, Number(url.port), 3000);
    assert.deepEqual([third.closed, third.reply], [true, '']);
    second.socket.destroy();

    // --ban-violations 1 --ban-seconds 60: one invalid block bans for a minute.
    const bad = await call(agent, url, '/blocks', { source: 'mallory', raw: overpaying(branch('serve-flags', 1, 0)[0]!).toBytes() });
    assert.equal(bad.status, 422);
    const rec = (await call(agent, url, '/sources/mallory')).json as { banned: boolean; bannedUntil: number; lastSeen: number };
    assert.deepEqual([rec.banned, rec.bannedUntil - rec.lastSeen], [true, 60_000]);

    const taken = await runCli(['serve', '--datadir', other.dir, '--network', 'regtest', '--host', host, '--port', url.port, '--workers', '0']);
    assert.deepEqual([taken.status, taken.stderr], [2, `vigil: cannot listen on ${host}:${url.port}: EADDRINUSE\n`]);
    const locked = await runCli(['serve', '--datadir', tmp.dir, '--network', 'regtest', '--host', host, '--port', '0', '--workers', '0']);
    assert.equal(locked.status, 2);
    assert.match(locked.stderr, /^vigil: .*in use by process/);
    assert.doesNotMatch(locked.stderr, /internal error/);
  } finally {
    agent.destroy();
    s.child.kill('SIGINT');
  }
  try {
    assert.equal(await s.exited, 0, s.stderr());
    assert.match(s.stderr(), /shutting down signal=SIGINT/);
    assert.match(s.stderr(), /stopped tip=0 /);
    const listed = cli(['sources', '--datadir', tmp.dir]);
    assert.equal(listed.status, 0);
    assert.match(listed.out, /^mallory {2}score 35 {2}valid 0 {2}duplicate 0 {2}invalid 1 {2}mutated 0 {2}malformed 0 {2}unconnected 0 {2}BANNED until \d{4}-\d\d-\d\dT[\d:.]+Z \(1 consensus-invalid blocks\)\n$/);
    const badName = await runCli(['unban', 'two words', '--datadir', tmp.dir]);
    assert.deepEqual([badName.status, badName.stderr], [2, 'vigil: source name must be printable ASCII without spaces\n']);
  } finally {
    tmp.remove();
    other.remove();
  }
});
