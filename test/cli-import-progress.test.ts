// `vigil import` as a user runs it, into a pipe: plain progress lines on stderr (no bar, no
// control characters), none with --quiet or --json; and the selftest's regtest sync on a small
// chain, with its figures set beside the targets.

import { describe, it, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateChain } from '../src/generate/index.js';
import { regtestSync, targetChecks } from '../src/cli/selftest-command.js';
import { TARGET_BLOCKS_PER_SEC, TARGET_PEAK_RSS_MB, TARGET_TX_PER_SEC } from '../src/targets.js';
import { countBlockRecords } from '../src/cli/import-progress.js';
import { createLogger } from '../src/service/logger.js';
import { CLI, DEAD_POOL_PRELOAD, preloadEnv, runCli, srcUrl, type CliRun } from './helpers/cli.js';
import { spawn } from 'node:child_process';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';
import { rebuildBlock, withOutput } from './helpers/alter-block.js';
import { BlockFileWriter } from '../src/blockfile/writer.js';
import { PARAMS } from '../src/consensus/params.js';
import { ChainState } from '../src/chain/chain-state.js';
import { toHex } from '../src/primitives/bytes.js';


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

// Ctrl-C on a long import: Core flushes its coins cache before it exits. With a write-back far
// bigger than the chain (--dbcache 1024) nothing reaches the store before the import's end, so a
// kill loses every block (tip 0 after SIGKILL here); a signal stops after the block in hand and
// commits them.
describe('vigil import: SIGTERM or SIGINT stops after the block in hand and commits what is held', () => {
  const tmp = tempDir('vigil-import-signal-');
  const blocks = join(tmp.dir, 'blocks');
  const datadir = join(tmp.dir, 'data');
  const total = 1500;
  before(() => void generateChain({ blocks: total, txsPerBlock: 5, seed: 'signal', outDir: blocks }));
  after(() => tmp.remove());

  /** `vigil import`, sent `signal` once its first progress line shows blocks still to come. */
  const interrupted = (signal: NodeJS.Signals): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const args = [CLI, 'import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0', '--dbcache', '1024'];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let sent = false;
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /import: (\d+)\/(\d+) blocks/.exec(stderr);
        if (!sent && m !== null && Number(m[1]) < Number(m[2])) {
          sent = true;
          child.kill(signal);
        }
      });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const tipHeight = async (): Promise<number> => {
    const r = await runCli(['tip', '--datadir', datadir]);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { height: number }).height;
  };
  const stoppedAt = (r: CliRun, status: number): number => {
    assert.equal(r.status, status, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /stopping after the block in hand and committing the blocks held in memory/);
    const m = /^tip [0-9a-f]{64} height (\d+): .* \(interrupted: running it again resumes\)$/m.exec(r.stdout);
    assert.ok(m !== null, r.stdout);
    return Number(m[1]);
  };

  it('SIGTERM: exit 143, the blocks connected so far committed; SIGINT on the next run: 130; a third run completes', async () => {
    const first = stoppedAt(await interrupted('SIGTERM'), 143);
    assert.ok(first > 0 && first < total, `stopped at ${first}`);
    assert.equal(await tipHeight(), first, 'what the write-back held is in the store');
    const second = stoppedAt(await interrupted('SIGINT'), 130);
    assert.ok(second > first && second < total, `stopped at ${second}, after ${first}`);
    assert.equal(await tipHeight(), second);
    const last = await runCli(['import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0', '--quiet']);
    assert.equal(last.status, 0, last.stderr);
    assert.match(last.stdout, new RegExp(`height ${total}: ${total - second} blocks accepted, ${second + 1} already known, 0 rejected in [\\d.]+ s\n`));
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

  it('files with no block of the network (another network\'s blocks) are no success: exit 2, with a hint, and no chain state made for that network', async () => {
    const blocks = join(tmp.dir, 'regtest-blocks');
    generateChain({ blocks: 3, txsPerBlock: 1, seed: 'other-network', outDir: blocks });
    const datadir = join(tmp.dir, 'm');
    const r = await runCli(['import', blocks, '--datadir', datadir, '--network', 'main', '--workers', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^vigil: no main block found in .*regtest-blocks: is it the right --network/);
    // What the hint asks for then works: a mainnet store made by the first run refused it ("created for main, not regtest").
    assert.equal(existsSync(datadir), false, 'no datadir made');
    const fixed = await runCli(['import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0']);
    assert.equal(fixed.status, 0, fixed.stderr);
    assert.match(fixed.stdout, /height 3: 3 blocks accepted/);
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

  it('blocks whose parent never came are said, not rejected: exit 0', async () => {
    const blocks = join(tmp.dir, 'gap');
    const chain = branch('gap', 5, 1);
    const w = new BlockFileWriter(blocks, PARAMS.regtest.messageStart);
    for (const [i, b] of chain.entries()) if (i !== 2) w.append(b.raw);
    w.close();
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'g'), '--network', 'regtest', '--workers', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tip [0-9a-f]{64} height 2: 2 blocks accepted, 0 already known, 0 rejected in /);
    assert.match(r.stdout, /^ {2}2 blocks not connected: their parent never came, or was rejected$/m);
  });

  it('a --dbcache past what a byte count holds is no limit (Core saturates -dbcache): the import runs, no internal error', async () => {
    const blocks = join(tmp.dir, 'dbcache');
    generateChain({ blocks: 3, txsPerBlock: 1, seed: 'dbcache', outDir: blocks });
    const datadir = join(tmp.dir, 'd');
    const r = await runCli(['import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0', '--dbcache', '9007199254740991']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^tip [0-9a-f]{64} height 3: 3 blocks accepted, 1 already known, 0 rejected in /);
    assert.doesNotMatch(r.stderr, /internal error/);
    // The largest value the option takes, from the environment too.
    const again = await runCli(['import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0'], { VIGIL_DBCACHE: '9007199254740991' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /height 3: 0 blocks accepted, 4 already known/);
  });

  it('a chain state that fails to close is our failure: exit 2, said on stderr', async () => {
    const blocks = join(tmp.dir, 'close');
    generateChain({ blocks: 2, txsPerBlock: 1, seed: 'close', outDir: blocks });
    const env = preloadEnv(tmp.dir, 'failing-close.mjs', `import { ChainState } from ${srcUrl('chain/chain-state.js')};\nconst close = ChainState.prototype.close;\nChainState.prototype.close = async function () { await close.call(this); throw new Error('disk gone'); };\n`);
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'c'), '--network', 'regtest', '--workers', '0'], env);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /height 2: 2 blocks accepted/);
    assert.match(r.stderr, /closing the chain state failed; the store keeps its last commit and running the import again resumes.*disk gone/);
  });

  it('an import stopped by our own failure: exit 2, the failure with its detail, no block rejected; run again, it resumes', async () => {
    const blocks = join(tmp.dir, 'stopped');
    generateChain({ blocks: 3, txsPerBlock: 1, seed: 'stopped', outDir: blocks });
    const args = ['import', blocks, '--datadir', join(tmp.dir, 's'), '--network', 'regtest', '--workers', '0'];
    // Every script check fails as on a pool whose threads have died.
    const dead = await runCli(args, preloadEnv(tmp.dir, 'dead-pool.mjs', DEAD_POOL_PRELOAD()));
    assert.equal(dead.status, 2, dead.stderr);
    assert.match(dead.stdout, /^tip [0-9a-f]{64} height 0: 0 blocks accepted, 1 already known, 0 rejected in /);
    assert.match(dead.stdout, /^ {2}error [0-9a-f]{64} \(height 1\): script-check-failed: worker thread exited$/m);
    assert.match(dead.stderr, /import stopped on an internal error; running it again resumes/);
    const again = await runCli([...args, '--json']);
    assert.equal(again.status, 0, again.stderr);
    const s = JSON.parse(again.stdout) as { accepted: number; known: number; rejected: number; failures: unknown[]; stoppedOnError: boolean; tip: { height: number } };
    assert.deepEqual([s.rejected, s.failures, s.stoppedOnError, s.tip.height], [0, [], false, 3]);
    assert.equal(s.accepted + s.known, 4, 'every record, the genesis block included');
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

describe('selftest: the targets', () => {
  it('a limit is met at the target exactly, a rate at its target exactly; just past either is not', () => {
    const figures = { blocks: TARGET_BLOCKS_PER_SEC * 10, txs: TARGET_TX_PER_SEC * 10, inputs: 0, seconds: 10, peakRssMB: TARGET_PEAK_RSS_MB };
    const met = (f: typeof figures): boolean[] => targetChecks(f).map((t) => t.met);
    assert.deepEqual(met(figures).filter((_, i) => i !== 2), [true, true, true], 'blocks/s, tx/s and memory at their targets');
    assert.equal(met({ ...figures, peakRssMB: TARGET_PEAK_RSS_MB + 0.5 })[3], false);
    assert.deepEqual(met({ ...figures, blocks: figures.blocks - 1, txs: figures.txs - 1 }).slice(0, 2), [false, false]);
  });
});

describe('vigil generate, tip and utxo-digest as a user runs them', () => {
  const tmp = tempDir('vigil-cli-chain-');
  after(() => tmp.remove());

  it('generate --json, import, then tip and utxo-digest read the same chain state', async () => {
    const blocks = join(tmp.dir, 'blocks');
    const gen = await runCli(['generate', '--blocks', '12', '--txs', '2', '--seed', 'tip', '--out', blocks, '--json']);
    assert.equal(gen.status, 0, gen.stderr);
    const made = JSON.parse(gen.stdout) as { height: number; tip: string; files: number; txs: number; inputs: number };
    assert.equal(made.height, 12);
    assert.match(made.tip, /^[0-9a-f]{64}$/);
    const datadir = join(tmp.dir, 'chain');
    const imp = await runCli(['import', blocks, '--datadir', datadir, '--network', 'regtest', '--workers', '0', '--json']);
    assert.equal(imp.status, 0, imp.stderr);
    const summary = JSON.parse(imp.stdout) as { accepted: number; rejected: number; tip: { hash: string; height: number } };
    assert.deepEqual([summary.accepted, summary.rejected, summary.tip], [12, 0, { hash: made.tip, height: 12 }]);

    const tip = await runCli(['tip', '--datadir', datadir]);
    assert.equal(tip.status, 0, tip.stderr);
    // Regtest's target gives each block a work of 2: 13 blocks with the genesis, as 64 hex digits.
    assert.deepEqual(JSON.parse(tip.stdout), { hash: made.tip, height: 12, chainwork: (26).toString(16).padStart(64, '0') });

    const digest = await runCli(['utxo-digest', '--datadir', datadir]);
    assert.equal(digest.status, 0, digest.stderr);
    const d = JSON.parse(digest.stdout) as { digest: string; coins: number; hash: string; height: number };
    const chain = await ChainState.open(datadir, { network: 'regtest' });
    try {
      assert.deepEqual(d, { digest: toHex(chain.utxoDigest()), coins: chain.store.utxoCount(), hash: made.tip, height: 12 });
      assert.ok(d.coins > 0);
    } finally {
      await chain.close();
    }
  });

  it('tip of a folder with no chain state, and generate for another network: usage errors, exit 2', async () => {
    const none = await runCli(['tip', '--datadir', join(tmp.dir, 'nothing-here')]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^vigil: no chain state at /);
    const main = await runCli(['generate', '--blocks', '1', '--network', 'main', '--out', join(tmp.dir, 'main-blocks')]);
    assert.equal(main.status, 2);
    assert.match(main.stderr, /^vigil: generate makes regtest chains only/);
    assert.equal(existsSync(join(tmp.dir, 'main-blocks')), false);
  });

  it('import of a path that does not exist: a usage error, exit 2, no datadir made', async () => {
    const r = await runCli(['import', join(tmp.dir, 'no-such-blocks'), '--datadir', join(tmp.dir, 'x'), '--network', 'regtest', '--workers', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^vigil: no such file or directory: /);
    assert.equal(existsSync(join(tmp.dir, 'x')), false);
  });
});

describe('vigil import --assumevalid', () => {
  // Past two weeks of regtest work (2,016 blocks) below the assumevalid block: 3 blocks skip their scripts.
  const BLOCKS = 2020;
  const tmp = tempDir('vigil-cli-assumevalid-');
  const blocks = join(tmp.dir, 'blocks');
  let tipHash = '';
  before(() => void (tipHash = generateChain({ blocks: BLOCKS, txsPerBlock: 0, seed: 'cli-assumevalid', outDir: blocks }).tipHash));
  after(() => tmp.remove());

  it('a block hash: the skipped blocks are said on stdout and logged (info) on stderr', async () => {
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'a'), '--network', 'regtest', '--workers', '0', `--assumevalid=${tipHash}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}assumevalid: scripts of 3 blocks were not checked$/m);
    assert.match(r.stderr, /assumevalid: skipping script checks from block [0-9a-f]{64} \(height 1\)/);
  });

  it('--quiet keeps info logs off stderr: nothing there, the result still on stdout', async () => {
    const r = await runCli(['import', blocks, '--datadir', join(tmp.dir, 'q'), '--network', 'regtest', '--workers', '0', '--quiet'], { VIGIL_ASSUMEVALID: tipHash });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}assumevalid: scripts of 3 blocks were not checked$/m);
    assert.equal(r.stderr, '');
  });
});

describe('countBlockRecords: the total the progress display expects', () => {
  const tmp = tempDir('vigil-count-records-');
  after(() => tmp.remove());
  const magic = PARAMS.regtest.messageStart;
  const framed = (raws: readonly Uint8Array[]): Buffer =>
    Buffer.concat(
      raws.flatMap((raw) => {
        const head = Buffer.alloc(8);
        head.set(magic);
        head.writeUInt32LE(raw.length, 4);
        return [head, Buffer.from(raw)];
      }),
    );
  const raws = branch('count-records', 4, 1).map((b) => b.raw);

  it("zeros after the records end the file (Core's preallocation): counted exactly", () => {
    const file = join(tmp.dir, 'padded.dat');
    writeFileSync(file, Buffer.concat([framed(raws.slice(0, 3)), Buffer.alloc(4096)]));
    assert.deepEqual(countBlockRecords(file, magic), { records: 3, estimated: false });
  });

  it('bytes that are not records are estimated from the average record size, and said to be', () => {
    const file = join(tmp.dir, 'garbage.dat');
    const records = framed(raws.slice(0, 2));
    // Junk about as long as two more records.
    writeFileSync(file, Buffer.concat([records, Buffer.alloc(records.length, 0x5a)]));
    assert.deepEqual(countBlockRecords(file, magic), { records: 4, estimated: true });
  });
});
