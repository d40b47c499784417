// Load on `vigil serve` over loopback: 10,000 block submissions in flight at once (shuffled, so
// many arrive before their parent) against an ingest queue of 8. The server must answer every
// one, keep its peak RSS under a stated bound, and have processed exactly the blocks it
// answered 2xx or 422: the parse-stage count equals those answers, and the new blocks it
// answered 200 are exactly the blocks of its active chain.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { hashToHex } from '../src/primitives/bytes.js';
import { Rng, seedBytes } from '../src/generate/index.js';
import { branch, tempDir } from './helpers/regtest-chain.js';
import { parsePrometheus, sampleValue, startServe } from './helpers/serve.js';

const BLOCKS = 300;
const SUBMISSIONS = 10_000;
const QUEUE = 8;
/** The bound this test states for the server's peak resident memory (node, one worker thread, LMDB). */
const MAX_RSS_MB = 400;

interface Reply {
  status: number;
  body: { valid?: boolean; duplicate?: boolean; hash?: string; reason?: string };
}

function postBlock(agent: Agent, url: URL, source: string, raw: Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: '/blocks', method: 'POST', headers: { 'x-vigil-source': source, 'content-type': 'application/octet-stream', 'content-length': raw.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Reply['body'] }));
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined; // not Linux: the bound is checked through /metrics below instead
  }
}

test(`vigil serve under load: ${SUBMISSIONS} submissions in flight, queue of ${QUEUE}`, { timeout: 240_000 }, async (t) => {
  const chain = branch('serve-load', BLOCKS, 3);
  const rng = new Rng(seedBytes('serve-load'), 'order');
  const tmp = tempDir('vigil-serve-load-');
  const s = await startServe(['--datadir', tmp.dir, '--network', 'regtest', '--port', '0', '--workers', '1', '--queue-size', String(QUEUE), '--rate', '1000000', '--burst', '1000000', '--log-level', 'warn']);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  try {
    const url = new URL(s.url);
    // Each submission is one of the first 24 blocks, at random: many arrive before their parent,
    // many again after it was connected (duplicates), and the chain grows as the queue lets it.
    const picks = Array.from({ length: SUBMISSIONS }, () => rng.below(24));
    const replies = await Promise.all(picks.map((k, i) => postBlock(agent, url, `load-${i % 16}`, chain[k]!.raw)));

    const by = (status: number): Reply[] => replies.filter((r) => r.status === status);
    const ok = by(200);
    const rejected = by(422);
    const full = by(503);
    assert.equal(ok.length + rejected.length + full.length, SUBMISSIONS, `only 200, 422 and 503: ${JSON.stringify([...new Set(replies.map((r) => r.status))])}`);
    assert.ok(full.length > 0, 'the small queue overflowed');
    assert.ok(ok.length > 0, 'blocks got through');
    for (const r of rejected) assert.equal(r.body.reason, 'prev-blk-not-found');

    const metrics = parsePrometheus(await (await fetch(`${s.url}/metrics`)).text()).samples;
    const v = (name: string, labels: Record<string, string> = {}): number => sampleValue(metrics, name, labels);
    // Processed exactly once each: every 2xx or 422 answer, and nothing else.
    assert.equal(v('vigil_stage_duration_seconds_count', { stage: 'parse' }), ok.length + rejected.length);
    assert.equal(v('vigil_ingest_submissions_total', { outcome: 'queue_full' }), full.length);
    assert.equal(v('vigil_ingest_submissions_total', { outcome: 'unconnected' }), rejected.length);
    const fresh = ok.filter((r) => r.body.duplicate === false);
    assert.equal(v('vigil_ingest_submissions_total', { outcome: 'valid' }), fresh.length);
    assert.equal(v('vigil_ingest_submissions_total', { outcome: 'duplicate' }), ok.length - fresh.length);
    assert.equal(v('vigil_blocks_connected_total'), fresh.length);

    // Every processed submission was scored once: concurrent answers lose no update.
    const sources = ((await (await fetch(`${s.url}/sources`)).json()) as { sources: Array<{ valid: number; duplicate: number; unconnected: number; banned: boolean }> }).sources;
    assert.equal(sources.reduce((n, x) => n + x.valid + x.duplicate + x.unconnected, 0), ok.length + rejected.length);
    assert.ok(sources.every((x) => !x.banned), 'blocks out of order are no offence');
    const tip = (await (await fetch(`${s.url}/tip`)).json()) as { hash: string; height: number };
    assert.equal(tip.height, fresh.length, 'each new block answered 200 is connected');
    const answered = new Set(fresh.map((r) => r.body.hash));
    assert.equal(answered.size, fresh.length);
    for (let h = 1; h <= tip.height; h++) assert.ok(answered.has(hashToHex(chain[h - 1]!.block.hash())), `block ${h} was answered`);

    const peak = peakRssMb(s.child.pid!);
    const rssNow = v('process_resident_memory_bytes') / 2 ** 20;
    t.diagnostic(`200: ${ok.length} (${fresh.length} new), 422: ${rejected.length}, 503: ${full.length}; tip ${tip.height}; peak RSS ${peak?.toFixed(0) ?? '?'} MB, now ${rssNow.toFixed(0)} MB`);
    assert.ok((peak ?? rssNow) < MAX_RSS_MB, `peak RSS ${(peak ?? rssNow).toFixed(0)} MB within ${MAX_RSS_MB} MB`);

    // The rest of the chain, in order, ends on the generated tip.
    for (const b of chain.slice(tip.height)) assert.equal((await postBlock(agent, url, 'tail', b.raw)).status, 200);
    const end = (await (await fetch(`${s.url}/tip`)).json()) as { hash: string; height: number };
    assert.deepEqual(end, { ...end, hash: hashToHex(chain[BLOCKS - 1]!.block.hash()), height: BLOCKS });
  } finally {
    agent.destroy();
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    tmp.remove();
  }
});
