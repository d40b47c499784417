// `vigil check-block` as a user runs it: the compiled CLI in a child process. Every real block
// with spent outputs is valid (exit 0, one JSON object); an altered block is invalid (exit 1,
// Core's reason); bad usage and unreadable or mismatched files exit 2 with a message on stderr.
// The real blocks are single-threaded and slow (~60 s in all), so two processes run at a time
// (VIGIL_TEST_THREADS overrides).

import { describe, it, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corruptScriptSigSignature, rebuildBlock, withInput, withOutput } from './helpers/alter-block.js';
import { DEAD_POOL_PRELOAD, preloadEnv, runCli, type CliRun } from './helpers/cli.js';
import { loadRealBlock, REAL_BLOCKS, type RealBlockVector } from './helpers/real-blocks.js';
import { readVector, vectorPath } from './helpers/vectors.js';
import { readSpentFile } from '../src/spent/index.js';
import { selftestCommand } from '../src/cli/selftest-command.js';
import type { ScriptPool } from '../src/pipeline/script-pool.js';
import { silentLogger } from '../src/service/logger.js';

/** dist/test/ → dist/src/cli/main.js */
/** Run the CLI without blocking the event loop, so tests in a concurrent suite overlap. */
const vigil = (...args: string[]): Promise<CliRun> => runCli(args);

interface CheckBlockJson {
  valid: boolean;
  mode: string;
  reason?: string;
  txIndex?: number;
  inputIndex?: number;
  hash?: string;
  height?: number;
  network: string;
  txs: number;
  inputs: number;
  skipped: string[];
  ms: number;
}

function parseJson(run: CliRun): CheckBlockJson {
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(lines[0]!) as CheckBlockJson;
}

const cliNetwork = (v: RealBlockVector): string => (v.network === 'mainnet' ? 'main' : 'testnet3');

function checkArgs(v: RealBlockVector): string[] {
  const spent = v.spent!;
  return ['check-block', vectorPath(...v.file.split('/')), '--spent', vectorPath(...spent.file.split('/')), '--spent-format', spent.format, '--network', cliNetwork(v)];
}

const WITH_SPENT = REAL_BLOCKS.filter((v) => v.spent !== undefined);
const A = REAL_BLOCKS.find((v) => v.file === 'bcoin/mainnet/block300025.raw')!;

/** CLI processes at a time for the real blocks: 2 unless VIGIL_TEST_THREADS says otherwise. */
const PROCESSES = Math.max(1, Number(process.env.VIGIL_TEST_THREADS ?? 2) || 1);

describe(`check-block: every real block with spent outputs is valid (${PROCESSES} processes at a time)`, { concurrency: PROCESSES }, () => {
  it('the nine blocks of `vigil selftest` are all here', () => {
    assert.equal(WITH_SPENT.length, 9);
  });

  for (const v of WITH_SPENT) {
    it(`${v.file} (${v.spent!.format})`, async (t) => {
      const run = await vigil(...checkArgs(v), '--json');
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(run.stderr, '');
      const out = parseJson(run);
      t.diagnostic(`${out.inputs} inputs in ${out.ms} ms; skipped ${out.skipped.join(', ')}`);
      assert.equal(out.valid, true);
      assert.equal(out.mode, 'valid');
      assert.equal(out.reason, undefined);
      assert.equal(out.network, cliNetwork(v));
      if (v.hash !== undefined) assert.equal(out.hash, v.hash);
      else assert.match(out.hash ?? '', /^[0-9a-f]{64}$/);
      assert.equal(out.height, v.height);
      assert.equal(out.txs, v.txs);
      // Like Core's ConnectBlock count ("Verify %u txins"), the coinbase's input is included.
      assert.equal(out.inputs, v.inputs + 1);
      assert.ok(typeof out.ms === 'number' && out.ms > 0);
    });
  }
});

describe('check-block: altered blocks exit 1 with the reason', () => {
  let dir: string;
  let belowout: string;
  let otherNonce: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    const block = loadRealBlock(A);
    // Tx 1 pays out one satoshi more than it spends: bad-txns-in-belowout, inputs unchanged.
    const spent = readSpentFile(readVector(...A.spent!.file.split('/')), A.spent!.format, block);
    assert.ok(spent.ok);
    const tx = block.txs[1]!;
    const valueIn = spent.outputs.slice(0, tx.inputs.length).reduce((n, c) => n + c.value, 0);
    const valueOut = tx.outputs.reduce((n, o) => n + o.value, 0);
    const txs = block.txs.slice();
    txs[1] = withOutput(tx, 0, { value: tx.outputs[0]!.value + valueIn - valueOut + 1 });
    belowout = join(dir, 'block300025-belowout.raw');
    writeFileSync(belowout, rebuildBlock(block, txs).toBytes());
    otherNonce = join(dir, 'block300025-nonce.raw');
    writeFileSync(otherNonce, rebuildBlock(block, block.txs, { header: { nonce: (block.header.nonce + 1) >>> 0 } }).toBytes());
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const spentArgs = (): string[] => ['--spent', vectorPath(...A.spent!.file.split('/')), '--spent-format', 'bcoin-undo'];

  it('300025 paying out more than it spends, --no-pow-check --json: bad-txns-in-belowout at tx 1', async () => {
    const run = await vigil('check-block', belowout, ...spentArgs(), '--no-pow-check', '--json');
    assert.equal(run.status, 1, run.stderr);
    const out = parseJson(run);
    assert.equal(out.valid, false);
    assert.equal(out.mode, 'invalid');
    assert.equal(out.reason, 'bad-txns-in-belowout');
    assert.equal(out.txIndex, 1);
    assert.equal(out.height, 300025);
  });

  it('the same block without --json prints the reason and position', async () => {
    const run = await vigil('check-block', belowout, ...spentArgs(), '--no-pow-check');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /^invalid: bad-txns-in-belowout \(tx 1\) [0-9a-f]{64} height 300025: 461 txs/);
  });

  it('the same block with the proof of work checked fails first with high-hash', async () => {
    const run = await vigil('check-block', belowout, ...spentArgs(), '--json');
    assert.equal(run.status, 1, run.stderr);
    assert.equal(parseJson(run).reason, 'high-hash');
  });

  it('300025 with its nonce plus one: high-hash', async () => {
    const run = await vigil('check-block', otherNonce, ...spentArgs(), '--json');
    assert.equal(run.status, 1, run.stderr);
    const out = parseJson(run);
    assert.equal(out.mode, 'invalid');
    assert.equal(out.reason, 'high-hash');
  });

  it('a truncated btcd block with its utxostore: block-decode-failed (the block is judged, not the spent file)', async () => {
    const truncated = join(dir, '277647-truncated.dat');
    writeFileSync(truncated, readVector('btcd', '277647.dat').subarray(0, 1000));
    const run = await vigil('check-block', truncated, '--spent', vectorPath('btcd', '277647.utxostore'), '--spent-format', 'btcd-utxostore', '--json');
    assert.equal(run.status, 1, run.stderr);
    const out = parseJson(run);
    assert.equal(out.mode, 'invalid');
    assert.equal(out.reason, 'block-decode-failed');
  });

  it('a truncated block file: block-decode-failed, not a crash', async () => {
    const truncated = join(dir, 'truncated.raw');
    writeFileSync(truncated, readVector(...A.file.split('/')).subarray(0, 1000));
    const run = await vigil('check-block', truncated, ...spentArgs(), '--json');
    assert.equal(run.status, 1, run.stderr);
    const out = parseJson(run);
    assert.equal(out.mode, 'invalid');
    assert.equal(out.reason, 'block-decode-failed');
  });

  it('300025 itself without --json: one "valid" line, exit 0', async () => {
    const run = await vigil('check-block', vectorPath(...A.file.split('/')), ...spentArgs(), '--workers', '0');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^valid 0000000000000000821c4e0acc40f88bedbce3b73ba2358b5ade58a9022cc78c height 300025: 461 txs, 1428 inputs in \d+(\.\d)? ms\n$/);
  });

  it('a corrupted signature: the failing input is named, in text (tx N input M) and in JSON', async () => {
    const block = loadRealBlock(A);
    const i = block.txs.findIndex((tx, k) => k > 0 && tx.inputs.length >= 2);
    const tx = block.txs[i]!;
    const j = tx.inputs.length - 1;
    const txs = block.txs.slice();
    txs[i] = withInput(tx, j, { scriptSig: corruptScriptSigSignature(tx.inputs[j]!.scriptSig) });
    const file = join(dir, 'block300025-badsig.raw');
    writeFileSync(file, rebuildBlock(block, txs).toBytes());
    const text = await vigil('check-block', file, ...spentArgs(), '--no-pow-check', '--workers', '0');
    assert.equal(text.status, 1, text.stderr);
    assert.match(text.stdout, new RegExp(`^invalid: block-script-verify-flag-failed \\(.*\\) \\(tx ${i} input ${j}\\) [0-9a-f]{64} height 300025: 461 txs, 1428 inputs in `));
    const json = parseJson(await vigil('check-block', file, ...spentArgs(), '--no-pow-check', '--workers', '0', '--json'));
    assert.equal(json.mode, 'invalid');
    assert.equal(json.txIndex, i);
    assert.equal(json.inputIndex, j);
  });

  it('--height stands in for a coinbase without a BIP34 height: checked at that height (bad-cb-height), exit 1', async () => {
    const block = loadRealBlock(A);
    const cb = block.txs[0]!;
    const file = join(dir, 'block300025-no-height.raw');
    writeFileSync(file, rebuildBlock(block, [withInput(cb, 0, { scriptSig: Uint8Array.of(0x4f, ...cb.inputs[0]!.scriptSig.subarray(4)) }), ...block.txs.slice(1)]).toBytes());
    const run = await vigil('check-block', file, ...spentArgs(), '--no-pow-check', '--height', '300025', '--json');
    assert.equal(run.status, 1, run.stderr);
    const out = parseJson(run);
    assert.equal(out.reason, 'bad-cb-height');
    assert.equal(out.height, 300025);
  });
});

describe('check-block: our own failure (mode error) is exit 2, not a verdict on the block', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    // Every script check fails as on a pool whose threads have died.
    env = preloadEnv(dir, 'dead-pool.mjs', DEAD_POOL_PRELOAD());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...extra: string[]): Promise<CliRun> =>
    runCli(['check-block', vectorPath(...A.file.split('/')), '--spent', vectorPath(...A.spent!.file.split('/')), '--spent-format', 'bcoin-undo', '--workers', '0', ...extra], env);

  it('text: "error: <reason>" on stdout, exit 2', async () => {
    const r = await run();
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /^error: script-check-failed 0000000000000000821c4e0acc40f88bedbce3b73ba2358b5ade58a9022cc78c height 300025: 461 txs, 1428 inputs in /);
  });

  it('--json: mode error with the failure in debug, no position, exit 2', async () => {
    const r = await run('--json');
    assert.equal(r.status, 2, r.stderr);
    const out = parseJson(r) as CheckBlockJson & { debug?: string };
    assert.equal(out.valid, false);
    assert.equal(out.mode, 'error');
    assert.equal(out.reason, 'script-check-failed');
    assert.equal(out.debug, 'worker thread exited');
    assert.equal(out.txIndex, undefined);
    assert.equal(out.inputIndex, undefined);
  });
});

describe('check-block: bad usage exits 2 with a message on stderr', () => {
  const block = (): string => vectorPath(...A.file.split('/'));
  const undo = (): string => vectorPath(...A.spent!.file.split('/'));

  async function usage(args: string[], message: RegExp): Promise<void> {
    const run = await vigil(...args);
    assert.equal(run.status, 2, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^vigil: /);
    assert.match(run.stderr, message);
  }

  it('missing --spent', () => usage(['check-block', block(), '--spent-format', 'bcoin-undo'], /--spent/));

  it('missing <block>', () => usage(['check-block', '--spent', undo(), '--spent-format', 'bcoin-undo'], /<block>/));

  it('unknown --spent-format', () => usage(['check-block', block(), '--spent', undo(), '--spent-format', 'utxo-dump'], /--spent-format must be one of/));

  it('missing --spent-format', () => usage(['check-block', block(), '--spent', undo()], /--spent-format must be one of/));

  it('unknown --network', () => usage(['check-block', block(), '--spent', undo(), '--spent-format', 'bcoin-undo', '--network', 'moonnet'], /--network must be one of/));

  it('a block file that does not exist', () => {
    const missing = join(tmpdir(), 'vigil-no-such-block.raw');
    return usage(['check-block', missing, '--spent', undo(), '--spent-format', 'bcoin-undo'], /cannot read .*vigil-no-such-block\.raw/);
  });

  it('a spent file that does not exist', () => usage(['check-block', block(), '--spent', join(tmpdir(), 'vigil-no-such-undo.raw'), '--spent-format', 'bcoin-undo'], /cannot read/));

  it("a spent file for another block (1087400's undo data for 300025)", () =>
    usage(['check-block', block(), '--spent', vectorPath('bcoin', 'testnet3', 'block1087400-undo.raw'), '--spent-format', 'bcoin-undo'], /spent outputs, but the block's inputs need 1427/));

  it('a spent file in another format than the one named', () =>
    usage(['check-block', block(), '--spent', vectorPath('floresta', 'block_866342.spent_utxos.json'), '--spent-format', 'bcoin-undo'], /spent outputs/));

  it('a bad --height', async () => {
    await usage(['check-block', block(), '--spent', undo(), '--spent-format', 'bcoin-undo', '--height', 'abc'], /--height must be a non-negative integer/);
    await usage(['check-block', block(), '--spent', undo(), '--spent-format', 'bcoin-undo', '--height=-1'], /--height must be a non-negative integer/);
  });

  it('a block whose coinbase carries no BIP34 height, without --height', async (t) => {
    // Block 300025 with its coinbase's height push replaced by OP_1NEGATE (merkle root redone).
    const block = loadRealBlock(A);
    const cb = block.txs[0]!;
    const altered = rebuildBlock(block, [withInput(cb, 0, { scriptSig: Uint8Array.of(0x4f, ...cb.inputs[0]!.scriptSig.subarray(4)) }), ...block.txs.slice(1)]);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'no-height.raw');
    writeFileSync(file, altered.toBytes());
    await usage(['check-block', file, '--spent', undo(), '--spent-format', 'bcoin-undo', '--no-pow-check'], /no-height\.raw: the coinbase carries no BIP34 height \(a block of version 1, or one below the network's BIP34 height\): give the block's height with --height/);
  });

  it('an unknown option', () => usage(['check-block', block(), '--spent', undo(), '--spent-format', 'bcoin-undo', '--fast'], /--fast/));

  it('an unknown command', () => usage(['check-blocks', block()], /unknown command: check-blocks/));
});

describe('selftest: our own failure is exit 2, not a verdict', () => {
  // A pool whose threads have all died: every block's script check is our own failure.
  const deadPool = { threads: 2, verify: async (): Promise<never> => Promise.reject(new Error('worker thread exited')) } as unknown as ScriptPool;
  const quietly = async <T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> => {
    const log = console.log;
    const lines: string[] = [];
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      return { value: await fn(), lines };
    } finally {
      console.log = log;
    }
  };

  it('the bundled blocks: ERROR lines and exit 2', async () => {
    const { value, lines } = await quietly(() => selftestCommand({ json: false, quiet: true, blocks: 0, txs: 0, seed: 's', pool: deadPool, crypto: 'noble', logger: silentLogger }));
    assert.equal(value, 2);
    const verdicts = lines.filter((l) => /^(valid|INVALID|ERROR)/.test(l));
    assert.equal(verdicts.length, 9);
    assert.ok(verdicts.every((l) => l.startsWith('ERROR script-check-failed')), verdicts.join('\n'));
  });

  it('one bundled block failing is enough: not valid, exit 2', async () => {
    let calls = 0;
    const pool = { threads: 0, verify: async () => (++calls === 1 ? Promise.reject(new Error('worker thread exited')) : { mode: 'valid' }) } as unknown as ScriptPool;
    const { value, lines } = await quietly(() => selftestCommand({ json: true, quiet: true, blocks: 0, txs: 0, seed: 's', pool, crypto: 'noble', logger: silentLogger }));
    const out = JSON.parse(lines.at(-1)!) as { valid: boolean; blocks: Array<{ valid: boolean; mode: string }> };
    assert.deepEqual(out.blocks.map((b) => b.mode), ['error', ...Array(8).fill('valid')]);
    assert.equal(out.valid, false);
    assert.equal(value, 2);
  });

  it('the regtest sync stopped on our error: exit 2', async () => {
    // Answers valid for the nine bundled blocks (a stand-in: they are not checked here), then dies.
    let calls = 0;
    const pool = { threads: 0, verify: async () => (++calls <= 9 ? { mode: 'valid' } : Promise.reject(new Error('worker thread exited'))) } as unknown as ScriptPool;
    const { value, lines } = await quietly(() => selftestCommand({ json: true, quiet: true, blocks: 102, txs: 1, seed: 's', pool, crypto: 'noble', logger: silentLogger }));
    const out = JSON.parse(lines.at(-1)!) as { valid: boolean; blocks: Array<{ valid: boolean }>; sync: { stoppedOnError: boolean; rejected: number } };
    assert.ok(out.blocks.every((b) => b.valid), 'the bundled blocks passed');
    assert.equal(out.sync.stoppedOnError, true);
    assert.equal(out.sync.rejected, 0, 'no block blamed');
    assert.equal(value, 2);
  });
});
