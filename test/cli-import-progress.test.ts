// `vigil import` as a user runs it, into a pipe: plain progress lines on stderr (no bar, no
// control characters), none with --quiet or --json; and the selftest's regtest sync on a small
// chain, with its figures set beside the targets.

import { describe, it, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateChain } from '../src/generate/index.js';
import { regtestSync } from '../src/cli/selftest-command.js';
import { createLogger } from '../src/service/logger.js';
import { runCli } from './helpers/cli.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';
import { rebuildBlock, withOutput } from './helpers/alter-block.js';
import { BlockFileWriter } from '../src/blockfile/writer.js';
import { PARAMS } from '../src/consensus/params.js';


describe('vigil import: progress off a terminal', () => {
  const tmp = tempDir('vigil-import-progress-');
  const blocks = join(tmp.dir, 'blocks');
  let made: { txs: number; inputs: number } = { txs: 0, inputs: 0 };
  before(() => void (made = generateChain({ blocks: 120, txsPerBlock: 3, seed: 'progress', outDir: blocks }).stats));
  after(() => tmp.remove());

  it('plain progress lines on stderr, the result on stdout', async () => {
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'a'), '--network', 'regtest', '--workers', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tip [0-9a-f]{64} height 120: 120 blocks accepted, 1 already known, 0 rejected/);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length >= 1);
    for (const l of lines) assert.match(l, /^import: \d+\/121 blocks \(\d+\.\d%\), [\d.,]+ blocks\/s, [\d.,]+ tx\/s, [\d.,]+ inputs\/s, (ETA|in) /);
    assert.match(lines.at(-1)!, /^import: 121\/121 blocks \(100\.0%\), .* in \d+\.\d s, height 120, 1 known$/);
    assert.match(r.stdout, /\n {2}main thread by stage: parse \d+\.\d s, precheck \d+\.\d s, coins \d+\.\d s, scripts \d+\.\d s, commit \d+\.\d s; other \d+\.\d s \(reading files and headers, hashing ahead, reorganisations, rejected blocks, the last commit\)\n$/);
    assert.doesNotMatch(r.stderr, /[\r\x1b]/, 'no terminal control characters in a pipe');
  });

  it('--quiet: nothing on stderr', async () => {
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'b'), '--network', 'regtest', '--workers', '0', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /height 120/);
  });

  it('--json (from VIGIL_JSON): the summary alone, no progress', async () => {
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'c'), '--workers', '0'], { VIGIL_JSON: '1', VIGIL_NETWORK: 'regtest' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = JSON.parse(r.stdout) as { accepted: number; tip: { height: number }; elapsedMs: number; txs: number; inputs: number; stagesMs: Record<string, number> };
    assert.equal(out.tip.height, 120);
    assert.equal(out.accepted, 120);
    // The counts of the connected blocks, as the generator made them (coinbases counted as transactions, not as inputs).
    assert.equal(out.txs, made.txs);
    assert.equal(out.inputs, made.inputs);
    assert.ok(made.inputs > 0);
    // Time by stage: every stage a connected block with scripts goes through took some, and together no more than the import.
    assert.deepEqual(Object.keys(out.stagesMs), ['parse', 'precheck', 'coins', 'scripts', 'commit']);
    for (const [stage, ms] of Object.entries(out.stagesMs)) assert.ok(Number.isFinite(ms) && ms > 0, `${stage}: ${ms} ms`);
    const sum = Object.values(out.stagesMs).reduce((a, b) => a + b, 0);
    assert.ok(sum <= out.elapsedMs + 1, `stages ${sum} ms within the import's ${out.elapsedMs} ms`);
  });

  it('--log-level debug --log-format json: structured lines on stderr beside the progress', async () => {
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'a'), '--network', 'regtest', '--workers', '0', '--log-level', 'debug', '--log-format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const logs = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string; datadir?: string });
    assert.ok(logs.some((l) => l.level === 'debug' && l.msg === 'import starting' && l.datadir === join(tmp.dir, 'a')), r.stderr);
    assert.match(r.stdout, /0 blocks accepted, 121 already known/, 'the second run resumes: everything is known');
  });
});

describe('vigil import: a blocks directory it cannot read', () => {
  const tmp = tempDir('vigil-import-badxor-');
  after(() => tmp.remove());

  it('an xor.dat that is not an 8-byte key: exit 2 and a message, no datadir made', async () => {
    const blocks = join(tmp.dir, 'blocks');
    generateChain({ blocks: 3, txsPerBlock: 1, seed: 'badxor', outDir: blocks });
    writeFileSync(join(blocks, 'xor.dat'), Uint8Array.of(1, 2, 3));
    const datadir = join(tmp.dir, 'data');
    const r = await runCli(['import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^vigil: .*xor\.dat: an obfuscation key is 8 bytes, this file has 3\n$/);
    assert.equal(existsSync(datadir), false);
  });
});

describe('vigil import: exit statuses on a second run and on files it cannot read', () => {
  const tmp = tempDir('vigil-import-status-');
  after(() => tmp.remove());

  it('a blk file it cannot read is our failure: exit 2, the file named, the rest imported', async () => {
    const blocks = join(tmp.dir, 'unreadable');
    generateChain({ blocks: 5, txsPerBlock: 1, seed: 'unreadable', outDir: blocks });
    symlinkSync(join(tmp.dir, 'nowhere'), join(blocks, 'blk00001.dat'));
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'u'), '--network', 'regtest', '--workers', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /height 5: 5 blocks accepted/);
    assert.match(r.stdout, /file issue read-error in .*blk00001\.dat/);
    assert.match(r.stderr, /some block files could not be read/);
  });

  it('files with no block of the network (another network\'s blocks) are no success: exit 2, with a hint', async () => {
    const blocks = join(tmp.dir, 'regtest-blocks');
    generateChain({ blocks: 3, txsPerBlock: 1, seed: 'other-network', outDir: blocks });
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'm'), '--network', 'main', '--workers', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /height 0: 0 blocks accepted/);
    assert.match(r.stderr, /no main block found in .*regtest-blocks: is it the right --network/);
    // A folder whose only file cannot be read says that, not that its blocks are of another network.
    const unread = join(tmp.dir, 'only-unreadable');
    mkdirSync(unread);
    symlinkSync(join(tmp.dir, 'nowhere'), join(unread, 'blk00000.dat'));
    const u = await runCli(['import', unread, '--datadir', join(tmp.dir, 'n'), '--network', 'regtest', '--workers', '0']);
    assert.equal(u.status, 2, u.stderr);
    assert.match(u.stderr, /some block files could not be read/);
    assert.doesNotMatch(u.stderr, /no regtest block found/);
  });

  it('run again, an import with an invalid block still says so (duplicate-invalid), exit 1 both times', async () => {
    const blocks = join(tmp.dir, 'invalid');
    const chain = branch('rerun', 6, 1);
    // The last block with its coinbase paying one satoshi too much (bad-cb-amount).
    const last = chain.at(-1)!.block;
    const cb = last.txs[0]!;
    const bad = remine(rebuildBlock(last, [withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 }), ...last.txs.slice(1)]));
    const w = new BlockFileWriter(blocks, PARAMS.regtest.messageStart);
    for (const b of chain.slice(0, -1)) w.append(b.raw);
    w.append(bad.toBytes());
    w.close();
    const args = ['import', blocks, '--datadir', join(tmp.dir, 'i'), '--network', 'regtest', '--workers', '0'];
    const first = await runCli(args);
    assert.equal(first.status, 1, first.stderr);
    assert.match(first.stdout, /1 rejected/);
    assert.match(first.stdout, /invalid [0-9a-f]{64} \(height 6\): bad-cb-amount/);
    const again = await runCli(args);
    assert.equal(again.status, 1, again.stderr);
    assert.match(again.stdout, /invalid [0-9a-f]{64} \(height 6\): duplicate-invalid/);
  });
});

describe('selftest: the regtest sync', () => {
  it('a small chain imports whole, measured past the coinbase-only blocks, beside the four targets', async () => {
    const r = await regtestSync({ blocks: 110, txs: 4, seed: 'selftest-test', logger: createLogger({ level: 'error' }), mode: 'off', stream: process.stderr });
    assert.equal(r.ok, true);
    assert.equal(r.height, 110);
    assert.equal(r.measuredFrom, 101);
    assert.equal(r.blocks, 10, 'heights 101–110');
    assert.ok(r.txs >= 10 * 4, `${r.txs} txs`);
    assert.ok(r.inputs >= 10 * 4);
    assert.ok(r.seconds > 0);
    assert.deepEqual(r.targets.map((t) => t.label), ['blocks/s', 'tx/s', 'sync of 1,000 blocks (projected)', 'peak memory']);
  });
});
