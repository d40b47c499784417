// The worker pool on real threads: a real block verifies as on one thread, one bad signature
// among 1,427 inputs is named, and a worker that throws or dies is an internal error that the
// pool retries, never a verdict on the block.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBlock, type Block } from '../src/primitives/block.js';
import { Transaction, type TxOut } from '../src/primitives/transaction.js';
import { readBcoinUndo } from '../src/spent/index.js';
import { spentOutputsByTx } from '../src/consensus/block-scripts.js';
import { getBlockScriptFlags } from '../src/consensus/script-flags.js';
import { runScriptsSerial, type TxScriptWork } from '../src/consensus/connect-block.js';
import { MAX_SCRIPT_THREADS, ScriptPool } from '../src/pipeline/script-pool.js';
import { SignatureCache } from '../src/script/sig-cache.js';
import { BlockHasher } from '../src/pipeline/block-hasher.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyTransaction } from '../src/script/verify-tx.js';
import { chunkRecords, chunkSizes, prepareBlock, runScriptTask, scriptTask } from '../src/pipeline/script-task.js';
import { readVector } from './helpers/vectors.js';
import { corruptScriptSigSignature, withInput, withOutput } from './helpers/alter-block.js';
import { isKeyPathSpend, loadTaprootBlock } from './helpers/taproot-block.js';
import { nobleBackend } from '../src/script/signature.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hash160 } from '../src/primitives/hash.js';
import { PrecomputedTxData, signatureHashWitnessV0 } from '../src/script/sighash.js';

function load(): { block: Block; work: TxScriptWork[]; flags: number } {
  const decoded = decodeBlock(readVector('bcoin', 'mainnet', 'block300025.raw'));
  const spent = readBcoinUndo(readVector('bcoin', 'mainnet', 'block300025-undo.raw'));
  if (!decoded.ok || !spent.ok) throw new Error('vector does not parse');
  const byTx = spentOutputsByTx(decoded.block, spent.outputs);
  if (byTx === undefined) throw new Error('spent outputs do not match the block');
  const work = decoded.block.txs.slice(1).map((tx, i) => ({ txIndex: i + 1, tx, spent: byTx[i + 1] as TxOut[] }));
  return { block: decoded.block, work, flags: getBlockScriptFlags('main', 300025, decoded.block.hash()) };
}

test('pool: block 300025 on 2 threads is valid, as on one', async () => {
  const { work, flags } = load();
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    assert.deepEqual(await pool.verify(work, flags), { mode: 'valid' });
    assert.equal(pool.stats.inputs, 1427);
    assert.ok(pool.stats.tasks >= 16, `${pool.stats.tasks} tasks`);
  } finally {
    await pool.close();
  }
});

test('pool: one bad signature among 1,427 inputs is named by transaction and input', async () => {
  const { work, flags } = load();
  const target = 400;
  const w = work[target - 1]!;
  const bad = withInput(w.tx, 0, { scriptSig: corruptScriptSigSignature(w.tx.inputs[0]!.scriptSig) });
  const altered = work.map((x) => (x.txIndex === target ? { ...x, tx: bad } : x));
  const serial = runScriptsSerial(altered, flags);
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    const r = await pool.verify(altered, flags);
    assert.equal(r.mode, 'invalid');
    assert.deepEqual(r, serial);
    if (r.mode === 'invalid') {
      assert.equal(r.txIndex, target);
      assert.equal(r.inputIndex, 0);
      assert.match(r.reason, /^block-script-verify-flag-failed \(/);
    }
    // The abort flag stopped the other tasks early.
    assert.ok(pool.stats.inputs < 1427, `${pool.stats.inputs} inputs checked`);
  } finally {
    await pool.close();
  }
});

for (const fault of ['throw', 'exit'] as const) {
  test(`pool: a worker that ${fault === 'throw' ? 'throws' : 'dies'} mid-block is retried, not blamed on the block`, async () => {
    const { work, flags } = load();
    const pool = await ScriptPool.create({ threads: 2, faultInjection: fault });
    try {
      assert.deepEqual(await pool.verify(work.slice(0, 120), flags), { mode: 'valid' });
      assert.equal(pool.stats.retries, 1);
      assert.equal(pool.stats.internalErrors, 0);
    } finally {
      await pool.close();
    }
  });
}

test('pool: a worker failure on every attempt is an internal error', async () => {
  const { work, flags } = load();
  const pool = await ScriptPool.create({ threads: 2, faultInjection: 'throw', attempts: 1 });
  try {
    const r = await pool.verify(work.slice(0, 50), flags);
    assert.equal(r.mode, 'error');
    if (r.mode === 'error') assert.equal(r.reason, 'script-worker-failed');
    assert.equal(pool.stats.internalErrors, 1);
  } finally {
    await pool.close();
  }
});

test('pool: a thread that dies when no replacement can start gives an internal error, not a hang, and the pool recovers', { timeout: 60_000 }, async () => {
  const { work, flags } = load();
  const failStarts = new Int32Array(new SharedArrayBuffer(4));
  const pool = await ScriptPool.create({ threads: 2, faultInjection: 'exit', failThreadStarts: failStarts });
  try {
    Atomics.store(failStarts, 0, 1);
    // The first attempt kills one thread, whose replacement fails to start (Piscina then replaces
    // no thread that dies); the retry runs on the thread left.
    assert.deepEqual(await pool.verify(work.slice(0, 60), flags), { mode: 'valid' });
    // This block's first attempt kills the last thread: its other task waits for a thread that
    // never comes, until the pool cancels it; the retry cannot start one either.
    const r = await pool.verify(work.slice(0, 60), flags);
    assert.equal(r.mode, 'error');
    if (r.mode === 'error') {
      assert.equal(r.reason, 'script-worker-failed');
      assert.match(r.debug ?? '', /injected thread start failure/);
    }
    Atomics.store(failStarts, 0, 0);
    assert.deepEqual(await pool.verify(work.slice(0, 60), flags), { mode: 'valid' });
  } finally {
    await pool.close();
  }
});

test('pool: the last thread dying during look-ahead hashing leaves no block waiting for a thread that never comes', { timeout: 60_000 }, async () => {
  const { work, flags } = load();
  const raw = readVector('bcoin', 'mainnet', 'block300025.raw');
  const failStarts = new Int32Array(new SharedArrayBuffer(4));
  const pool = await ScriptPool.create({ threads: 1, failThreadStarts: failStarts });
  const piscina = (pool as unknown as { pool: { threads: Array<{ terminate(): Promise<number> }> } }).pool;
  try {
    // A replacement fails to start once: from then on Piscina replaces no thread that dies.
    Atomics.store(failStarts, 0, 1);
    await piscina.threads[0]!.terminate();
    for (let i = 0; i < 100 && pool.liveThreads > 0; i++) await sleep(50);
    Atomics.store(failStarts, 0, 0);
    assert.deepEqual(await pool.verify(work.slice(0, 40), flags), { mode: 'valid' }, 'the next task starts a thread again');
    assert.equal(pool.liveThreads, 1);
    // Look-ahead hashing runs on that thread, a block's script tasks queue behind it, and it dies
    // mid-hash: the hash batch comes back unhashed (BlockHasher hashes it here instead), and the
    // block's attempt must end (an internal error, retried on a new thread), not wait.
    const hasher = BlockHasher.using(pool.hashBlocks);
    const hashed = hasher.hash(Array.from({ length: 60 }, () => raw));
    const verdict = pool.verify(work.slice(0, 40), flags);
    await sleep(30);
    await piscina.threads[0]!.terminate();
    assert.equal((await hashed).blocks[0]!.hashes, undefined, 'the batch was cut off with its thread');
    const outcome = await Promise.race([verdict, sleep(20_000).then(() => 'still waiting after 20 s')]);
    if (outcome === 'still waiting after 20 s') await hasher.hash([raw]); // starts a thread: the stranded tasks run, the test ends
    assert.deepEqual(outcome, { mode: 'valid' });
    await hasher.close();
  } finally {
    await pool.close();
  }
});

test('pool: threads that cannot start fail create() with the reason; zero attempts and absurd thread counts are refused', async () => {
  const failStarts = new Int32Array(new SharedArrayBuffer(4)).fill(1);
  await assert.rejects(ScriptPool.create({ threads: 2, failThreadStarts: failStarts }), /worker threads did not start: injected thread start failure/);
  for (const attempts of [0, -1, Number.NaN, 1.5]) await assert.rejects(ScriptPool.create({ threads: 0, attempts }), RangeError);
  for (const threads of [-1, 1.5, Number.NaN, MAX_SCRIPT_THREADS + 1]) await assert.rejects(ScriptPool.create({ threads }), RangeError);
  // A NaN chunk size cut every block into no inputs, and the pool answered VALID having checked none.
  for (const maxChunk of [0, -1, Number.NaN, 1.5]) await assert.rejects(ScriptPool.create({ threads: 0, maxChunk }), RangeError);
  // A signature cache that is not one was accepted and quietly never used.
  for (const sigCache of [{}, { stats: () => ({}) }]) await assert.rejects(ScriptPool.create({ threads: 0, sigCache: sigCache as unknown as SignatureCache }), TypeError);
  assert.throws(() => chunkSizes(10, { threads: 2, maxChunk: Number.NaN }), RangeError);
  assert.throws(() => chunkSizes(10, { threads: Number.NaN, maxChunk: 4 }), RangeError);
  // An unknown backend is refused before any thread starts: they were left running, one port each.
  const ports = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
  const open = ports();
  await assert.rejects(ScriptPool.create({ threads: 2, crypto: 'openssl' as never }), /unknown signature backend "openssl"/);
  assert.equal(ports(), open);
});

test('pool: a closed pool refuses work and starts no thread again; verify works unbound', async () => {
  const { work, flags } = load();
  const pool = await ScriptPool.create({ threads: 1, sigCache: null });
  // `runScripts: pool.verify`, as a user may pass it.
  const verify = pool.verify;
  assert.equal((await verify(work.slice(0, 3), flags)).mode, 'valid');
  await pool.close();
  await assert.rejects(verify(work, flags), /ScriptPool is closed/);
  await assert.rejects(pool.hashBlocks({ slot: new SharedArrayBuffer(8), ends: [], hashesAt: 0 }), /ScriptPool is closed/);
  assert.equal(pool.liveThreads, 0);
  const serial = await ScriptPool.create({ threads: 0, sigCache: null });
  await serial.close();
  await assert.rejects(serial.verify(work, flags), /ScriptPool is closed/);
});

test('pool: threads load their file without require(esm), and start under flags a worker refuses (--max-old-space-size)', () => {
  // Node 20 aborts the process when a thread is terminated while require() loads an ES module;
  // the pool's threads run with require(esm) off, keeping the parent's flags a worker accepts.
  const script = [
    `const { ScriptPool } = await import(${JSON.stringify(new URL('../src/pipeline/script-pool.js', import.meta.url).href)});`,
    'const pool = await ScriptPool.create({ threads: 1, sigCache: null });',
    "console.log(JSON.stringify(pool['pool'].options.execArgv ?? null));",
    'await pool.close();',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-exec-argv-'));
  let out: string;
  try {
    writeFileSync(join(dir, 'probe.mjs'), script);
    out = execFileSync(process.execPath, ['--max-old-space-size=512', '--enable-source-maps', join(dir, 'probe.mjs')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const execArgv = JSON.parse(out) as string[] | null;
  if (!process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')) return assert.equal(execArgv, null);
  assert.deepEqual(execArgv, ['--enable-source-maps', '--no-experimental-require-module']);
});

test('tasks: a transaction larger than a chunk is split into input ranges', () => {
  const { work } = load();
  const big = work.reduce((a, b) => (b.tx.inputs.length > a.tx.inputs.length ? b : a));
  const prepared = prepareBlock([big], { threads: 2, maxChunk: 4 });
  const n = big.tx.inputs.length;
  assert.ok(n > 4, `${n} inputs`);
  const sizes = chunkSizes(n, { threads: 2, maxChunk: 4 });
  assert.equal(prepared.chunks, sizes.length);
  // Ranges in order, without a gap or an overlap, each chunk of its planned size.
  let next = 0;
  for (let c = 0; c < prepared.chunks; c++) {
    let inChunk = 0;
    for (const [txIndex, , , , , from, end] of chunkRecords(prepared, c)) {
      assert.equal(txIndex, big.txIndex);
      assert.equal(from, next);
      next = end!;
      inChunk += end! - from!;
    }
    assert.equal(inChunk, sizes[c]);
  }
  assert.equal(next, n);
});

test('tasks: chunks shrink to single inputs toward the end of a block', () => {
  const sizes = chunkSizes(10_000, { threads: 2, maxChunk: 32 });
  assert.equal(sizes.reduce((a, b) => a + b, 0), 10_000);
  assert.equal(sizes[0], 32);
  assert.deepEqual(sizes.slice(-8), [1, 1, 1, 1, 1, 1, 1, 1]);
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! <= sizes[i - 1]!, 'never growing');
  assert.deepEqual(chunkSizes(0, { threads: 2, maxChunk: 32 }), []);
});

test('tasks: two claimers sharing one buffer check every input once, and a reused buffer starts afresh', async () => {
  const { work, flags } = load();
  const some = work.slice(0, 80);
  const total = some.reduce((n, w) => n + w.tx.inputs.length, 0);
  const first = prepareBlock(some, { threads: 2, maxChunk: 8 });
  const task = scriptTask(first, flags, 1);
  // Claimed in turn on one thread: the first takes everything, the second finds nothing left.
  const a = runScriptTask(task);
  const b = runScriptTask(task);
  assert.deepEqual([a.ok, a.inputs, b.ok, b.inputs], [true, total, true, 0]);
  // The same buffer for a smaller block: header reset, nothing of the first block's decode reused.
  const again = prepareBlock(some.slice(40), { threads: 2, maxChunk: 8 }, first.sab);
  assert.equal(again.sab, first.sab);
  const c = runScriptTask(scriptTask(again, flags, 2));
  assert.deepEqual([c.ok, c.inputs], [true, some.slice(40).reduce((n, w) => n + w.tx.inputs.length, 0)]);
});

test('tasks: spent scripts of each compact-size length class (252, 253, 65,535, 65,536 bytes) reach the thread as they were', () => {
  const { flags } = load();
  for (const len of [252, 253, 0xffff, 0x10000]) {
    // OP_1 <push of len - 4 bytes> OP_DROP: true when run; over 10,000 bytes any script fails SCRIPT_SIZE.
    const scriptPubKey = new Uint8Array(len);
    if (len <= 10_000) {
      scriptPubKey.set([0x51, 0x4c, len - 4], 0);
      scriptPubKey[len - 1] = 0x75;
    }
    const spent: TxOut[] = [{ value: 5_000_000_000 + len, scriptPubKey }];
    const input = { prevout: { hash: new Uint8Array(32).fill(len & 0xff), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] };
    const tx = new Transaction(1, [input], [{ value: 1000, scriptPubKey: Uint8Array.of(0x51) }], 0);
    const direct = verifyTransaction(tx, spent, flags);
    const r = runScriptTask(scriptTask(prepareBlock([{ txIndex: 1, tx, spent }], { threads: 1, maxChunk: 8 }), flags, 100 + len));
    assert.equal(direct.ok, len <= 10_000, `${len}-byte script, checked here`);
    assert.deepEqual(r.ok ? [r.ok, r.inputs] : [r.ok, r.txIndex, r.inputIndex, r.error], direct.ok ? [true, 1] : [false, 1, 0, direct.error], `${len}-byte script, checked as a task`);
  }
});

test('tasks: a spent script over MAX_SIZE (32 MiB) fails SCRIPT_SIZE on a thread as on the calling thread, not as our own error', async () => {
  // The caller gives the spent outputs (validateBlock, check-block): nothing bounds their size.
  const scriptPubKey = new Uint8Array(0x02000000 + 1);
  const input = { prevout: { hash: new Uint8Array(32).fill(0x5a), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] };
  const tx = new Transaction(1, [input], [{ value: 1000, scriptPubKey: Uint8Array.of(0x51) }], 0);
  const work: TxScriptWork[] = [{ txIndex: 1, tx, spent: [{ value: 1, scriptPubKey }] }];
  const serial = runScriptsSerial(work, 0);
  assert.equal(serial.mode === 'invalid' && serial.debug?.endsWith('SCRIPT_SIZE'), true);
  const r = runScriptTask(scriptTask(prepareBlock(work, { threads: 1, maxChunk: 8 }), 0, 1));
  assert.deepEqual(r.ok ? undefined : [r.txIndex, r.inputIndex, r.error], [1, 0, 'SCRIPT_SIZE']);
  const pool = await ScriptPool.create({ threads: 1, sigCache: null });
  try {
    assert.deepEqual(await pool.verify(work, 0), serial);
  } finally {
    await pool.close();
  }
});

test('tasks: spent amounts of 2^32 satoshis and more reach the thread whole (a P2WPKH signature commits to its amount)', () => {
  const { flags } = loadTaprootBlock();
  const sk = new Uint8Array(32).fill(0x3c);
  const pub = secp256k1.getPublicKey(sk, true);
  const scriptPubKey = Uint8Array.of(0x00, 0x14, ...hash160(pub));
  const scriptCode = Uint8Array.of(0x76, 0xa9, 0x14, ...hash160(pub), 0x88, 0xac);
  for (const value of [2 ** 32 - 1, 2 ** 32, 5_000_000_000, 2_100_000_000_000_000]) {
    const input = { prevout: { hash: new Uint8Array(32).fill(9), index: 1 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] as Uint8Array[] };
    const outputs = [{ value: 1000, scriptPubKey: Uint8Array.of(0x51) }];
    const spent: TxOut[] = [{ value, scriptPubKey }];
    const unsigned = new Transaction(2, [input], outputs, 0);
    const sighash = signatureHashWitnessV0(scriptCode, unsigned, 0, 1, value, new PrecomputedTxData(unsigned, spent));
    const der = secp256k1.Signature.fromBytes(secp256k1.sign(sighash, sk, { prehash: false }), 'compact').toBytes('der');
    const tx = new Transaction(2, [{ ...input, witness: [Uint8Array.of(...der, 0x01), pub] }], outputs, 0);
    assert.deepEqual(verifyTransaction(tx, spent, flags), { ok: true }, `${value} sat, checked here`);
    assert.equal(verifyTransaction(tx, [{ value: value - 1, scriptPubKey }], flags).ok, false, `${value} sat: the amount is signed`);
    const r = runScriptTask(scriptTask(prepareBlock([{ txIndex: 1, tx, spent }], { threads: 1, maxChunk: 8 }), flags, 7));
    assert.deepEqual([r.ok, r.inputs], [true, 1], `${value} sat, checked as a task`);
  }
});

test('tasks: connecting a block reads the signature cache and adds nothing to it, as Core does', () => {
  const { work, flags } = load();
  const some = work.slice(0, 20);
  const cache = SignatureCache.create(1 << 20);
  // One transaction verified mempool-style first: its signatures are stored, and hit below.
  assert.deepEqual(verifyTransaction(some[0]!.tx, some[0]!.spent, flags, { sigCache: cache }), { ok: true });
  const stored = cache.stats().stores;
  assert.equal(stored, some[0]!.tx.inputs.length);
  const r = runScriptTask(scriptTask(prepareBlock(some, { threads: 1, maxChunk: 8 }), flags, 1, cache.shared));
  assert.equal(r.ok, true);
  assert.equal(cache.hits, stored, 'the stored signatures are hits');
  assert.equal(cache.stats().stores, stored, 'the block\'s own signatures are not added');
});

test('tasks: another transaction at the same place of a reused or another buffer is decoded again, not taken for the one before', () => {
  const { work, flags } = load();
  const one = work.find((w) => w.tx.inputs.length === 1 && w.tx.inputs[0]!.scriptSig.length > 0)!;
  // One satoshi less to output 0: the same size and layout, and a signature that no longer matches.
  const bad = { ...one, tx: withOutput(one.tx, 0, { value: one.tx.outputs[0]!.value - 1 }) };
  const opts = { threads: 1, maxChunk: 8 };
  const first = prepareBlock([one], opts);
  assert.equal(runScriptTask(scriptTask(first, flags, 1)).ok, true);
  // The same buffer, the next generation: same layout, so the same offset, but another transaction.
  const second = prepareBlock([bad], opts, first.sab);
  assert.equal(second.sab, first.sab);
  const r = runScriptTask(scriptTask(second, flags, 2));
  assert.ok(!r.ok && r.txIndex === one.txIndex && r.inputIndex === 0, 'the changed output is seen in the reused buffer');
  assert.equal(runScriptTask(scriptTask(prepareBlock([one], opts, first.sab), flags, 3)).ok, true);
  // A fresh buffer that happens to carry the same generation number.
  const other = runScriptTask(scriptTask(prepareBlock([bad], opts), flags, 3));
  assert.ok(!other.ok && other.txIndex === one.txIndex && other.inputIndex === 0, 'the changed output is seen in another buffer');
});

/** The work with input `input` of transaction `txIndex` given the scriptSig OP_RETURN: fails at once, no signature checked. */
function withReturn(work: readonly TxScriptWork[], at: ReadonlyArray<readonly [number, number]>): TxScriptWork[] {
  return work.map((w) => {
    let tx = w.tx;
    for (const [txIndex, input] of at) if (txIndex === w.txIndex) tx = withInput(tx, input, { scriptSig: Uint8Array.of(0x6a) });
    return tx === w.tx ? w : { ...w, tx };
  });
}

/** Chunk c's first input and last input, as (txIndex, input index). */
function chunkEnds(prepared: ReturnType<typeof prepareBlock>, c: number): { first: [number, number]; last: [number, number] } {
  const records = chunkRecords(prepared, c);
  const a = records[0]!;
  const z = records[records.length - 1]!;
  return { first: [a[0]!, a[5]!], last: [z[0]!, z[6]! - 1] };
}

test('tasks: a failure stops only the inputs after it: a claimer still on earlier chunks finds the first failure', () => {
  const { work, flags } = load();
  const some = work.slice(0, 80);
  const layout = prepareBlock(some, { threads: 2, maxChunk: 8 });
  const early = chunkEnds(layout, 2).last;
  const late = chunkEnds(layout, 5).first;
  const altered = withReturn(some, [early, late]);
  const prepared = prepareBlock(altered, { threads: 2, maxChunk: 8 });
  const task = scriptTask(prepared, flags, 1);
  const header = new Int32Array(prepared.sab, 0, 4);
  // Another thread claims chunk 5 first and fails on its first input...
  header[1] = 5;
  const b = runScriptTask(task);
  assert.deepEqual(b.ok ? undefined : [b.txIndex, b.inputIndex, b.error], [late[0], late[1], 'OP_RETURN']);
  // ...while this one still has chunks 0–4 to check: it goes on, up to the earlier failure.
  header[1] = 0;
  const a = runScriptTask(task);
  assert.deepEqual(a.ok ? undefined : [a.txIndex, a.inputIndex, a.error], [early[0], early[1], 'OP_RETURN']);
  // Nothing after the first failure is checked: a third claimer finds nothing to do before it.
  header[1] = 3;
  const c = runScriptTask(task);
  assert.deepEqual([c.ok, c.inputs], [true, 0]);
});

test('pool: with several failing inputs, 2 threads name the first one, as the calling thread does', async () => {
  const { work, flags } = load();
  const maxChunk = 64;
  const layout = prepareBlock(work, { threads: 2, maxChunk });
  // The last input of chunk 0 and the first of chunk 1: the thread on chunk 1 fails at once,
  // the one on chunk 0 only after checking the rest of its chunk.
  const early = chunkEnds(layout, 0).last;
  const late = chunkEnds(layout, 1).first;
  const altered = withReturn(work, [early, late, chunkEnds(layout, 3).first]);
  const serial = runScriptsSerial(altered, flags);
  assert.equal(serial.mode === 'invalid' && [serial.txIndex, serial.inputIndex].join(':'), early.join(':'));
  const pool = await ScriptPool.create({ threads: 2, maxChunk, sigCache: null });
  try {
    for (let run = 0; run < 5; run++) assert.deepEqual(await pool.verify(altered, flags), serial, `run ${run}`);
  } finally {
    await pool.close();
  }
});

test('pool: signatures verified mempool-style are cache hits when the block connects', async () => {
  const { work, flags } = load();
  const some = work.slice(0, 60);
  const pool = await ScriptPool.create({ threads: 2 });
  try {
    const cache = pool.sigCache!;
    let signatures = 0;
    for (const w of some) {
      assert.deepEqual(verifyTransaction(w.tx, w.spent, flags, { sigCache: cache }), { ok: true });
      signatures += w.tx.inputs.length;
    }
    const before = cache.hits;
    assert.deepEqual(await pool.verify(some, flags), { mode: 'valid' });
    // Every input of this range is P2PKH or bare multisig with one signature check that succeeds.
    assert.ok(cache.hits - before >= signatures, `${cache.hits - before} hits for ${signatures} signatures`);
  } finally {
    await pool.close();
  }
});

// ---- BIP340 checks in batches (noble) -----------------------------------------------------------

/** The first `n` transactions of block 866342 whose every input is a taproot key-path spend. */
function keyPathWork(n: number): TxScriptWork[] {
  const { txs } = loadTaprootBlock();
  const out: TxScriptWork[] = [];
  for (const t of txs) {
    if (out.length === n) break;
    if (t.tx.inputs.every((input, i) => isKeyPathSpend(input, t.spent[i]!))) out.push({ txIndex: t.txIndex, tx: t.tx, spent: t.spent as TxOut[] });
  }
  return out;
}

/** The work with input `input` of transaction `txIndex` given a new witness. */
function withWitness(work: readonly TxScriptWork[], txIndex: number, input: number, witness: Uint8Array[]): TxScriptWork[] {
  return work.map((w) => (w.txIndex === txIndex ? { ...w, tx: withInput(w.tx, input, { witness }) } : w));
}

test('noble batches BIP340 checks when connecting a block; a bad signature is named as single checks name it, before a later failure', async () => {
  const { flags } = loadTaprootBlock();
  const work = keyPathWork(80);
  const inputs = work.reduce((n, w) => n + w.tx.inputs.length, 0);
  assert.ok(inputs >= 80, `${inputs} key-path inputs`);
  const target = work[30]!;
  const sig = target.tx.inputs[0]!.witness[0]!.slice();
  sig[40]! ^= 0x10;
  const badSig = withWitness(work, target.txIndex, 0, [sig]);
  // A later transaction fails too, differently: a key-path spend with no witness at all.
  const later = work[40]!; // within the first batch of 64: settled by the failure, not by a full batch
  const twoFailures = withWitness(badSig, later.txIndex, 0, []);
  const schnorrFailure = { mode: 'invalid', txIndex: target.txIndex, inputIndex: 0, reason: 'block-script-verify-flag-failed (Invalid Schnorr signature)' };

  // On this thread: batched (noble) and one by one (a backend that does not batch) agree.
  const single = { ...nobleBackend, batchSchnorr: false };
  assert.deepEqual(runScriptsSerial(work, flags), { mode: 'valid' });
  for (const altered of [badSig, twoFailures]) {
    const batched = runScriptsSerial(altered, flags);
    assert.deepEqual(batched, runScriptsSerial(altered, flags, single));
    assert.equal(batched.mode === 'invalid' && batched.reason, schnorrFailure.reason);
    assert.equal(batched.mode === 'invalid' && batched.txIndex, target.txIndex);
  }

  // One worker claims every chunk in order: the same answers, and every signature counted once.
  const one = await ScriptPool.create({ threads: 1 });
  try {
    assert.deepEqual(await one.verify(work, flags), { mode: 'valid' });
    assert.equal(one.stats.schnorr, inputs, 'batched signatures are counted');
    for (const altered of [badSig, twoFailures]) {
      const r = await one.verify(altered, flags);
      assert.equal(r.mode === 'invalid' && `${r.txIndex}/${r.inputIndex} ${r.reason}`, `${target.txIndex}/0 ${schnorrFailure.reason}`);
    }
  } finally {
    await one.close();
  }
  // Two workers: the bad signature is found and named, whichever thread holds it.
  const two = await ScriptPool.create({ threads: 2 });
  try {
    assert.deepEqual(await two.verify(work, flags), { mode: 'valid' });
    const r = await two.verify(badSig, flags);
    assert.equal(r.mode === 'invalid' && `${r.txIndex}/${r.inputIndex} ${r.reason}`, `${target.txIndex}/0 ${schnorrFailure.reason}`);
  } finally {
    await two.close();
  }
});
