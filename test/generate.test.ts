// The regtest chain generator: same seed → same bytes, every input it signs verifies, the spend
// types are all there, and each block passes the rules Core applies on regtest, checked here
// with the engine's own functions and with independent recomputation (UTXO set, MTP, PoW target).

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBlocks, generateChain, SPEND_TYPES, type GeneratedBlock, type GeneratorStats, type SpendType } from '../src/generate/index.js';
import { readAllBlocks } from '../src/blockfile/index.js';
import { blockMerkleRoot, blockWitnessMerkleRoot, getWitnessCommitmentIndex } from '../src/primitives/block.js';
import { concatBytes, equalBytes, hashToHex, toHex } from '../src/primitives/bytes.js';
import { hash256, sha256 } from '../src/primitives/hash.js';
import type { Transaction, TxIn, TxOut } from '../src/primitives/transaction.js';
import { PrecomputedTxData } from '../src/script/sighash.js';
import { verifyInput } from '../src/script/verify.js';
import { CONSENSUS_SCRIPT_FLAGS } from '../src/script/flags.js';
import { PARAMS } from '../src/consensus/params.js';
import { checkProofOfWork } from '../src/consensus/pow.js';
import { coinbaseHeight } from '../src/consensus/bip34.js';
import { getBlockSubsidy } from '../src/consensus/connect-block.js';
import { blockWeight, checkBlock } from '../src/consensus/check-block.js';
import { getTransactionSigOpCost } from '../src/consensus/sigops.js';
import { getBlockScriptFlags } from '../src/consensus/script-flags.js';
import { validateBlock } from '../src/consensus/validate-block.js';

const REGTEST = PARAMS.regtest;
const GENESIS_HASH = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';
/** 0x207fffff: mantissa 0x7fffff, size 0x20 bytes. */
const TARGET = 0x7fffffn << BigInt(8 * (0x20 - 3));

/** Core's `CScript() << nHeight`: OP_1..OP_16 up to 16, else a minimal little-endian number push. */
function bip34Prefix(height: number): Uint8Array {
  if (height <= 16) return Uint8Array.of(0x50 + height);
  const num: number[] = [];
  for (let v = height; v > 0; v = Math.floor(v / 256)) num.push(v & 0xff);
  if ((num[num.length - 1]! & 0x80) !== 0) num.push(0);
  return Uint8Array.of(num.length, ...num);
}

function collect(opts: Parameters<typeof generateBlocks>[0]): { blocks: GeneratedBlock[]; stats: GeneratorStats } {
  const it = generateBlocks(opts);
  const blocks: GeneratedBlock[] = [];
  for (;;) {
    const r = it.next();
    if (r.done) return { blocks, stats: r.value };
    blocks.push(r.value);
  }
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-gen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The reference chain of the brief: 150 blocks, 10 transactions a block. */
const CHAIN = collect({ network: 'regtest', blocks: 150, txsPerBlock: 10, seed: 'vigil-test' });

/** How an input spends, told from the chain alone (no generator labels). */
function classify(spent: TxOut, input: TxIn): string {
  const s = spent.scriptPubKey;
  const w = input.witness;
  const hex = toHex(s);
  if (s.length === 25 && hex.startsWith('76a914') && hex.endsWith('88ac')) return 'p2pkh';
  if (s.length === 23 && hex.startsWith('a914') && hex.endsWith('87')) {
    if (input.scriptSig.length === 23 && toHex(input.scriptSig).startsWith('160014') && w.length === 2) return 'p2sh-p2wpkh';
    if (w.length === 0 && toHex(input.scriptSig).endsWith('53ae') && input.scriptSig[0] === 0) return 'p2sh-multisig';
  }
  if (s.length === 22 && hex.startsWith('0014') && w.length === 2) return 'p2wpkh';
  if (s.length === 34 && hex.startsWith('0020')) {
    const script = w[w.length - 1]!;
    if (!equalBytes(s.subarray(2), sha256(script))) return 'witness script does not match the program';
    if (script[script.length - 1] === 0xae && w.length === 3 && w[0]!.length === 0) return 'p2wsh-multisig';
    if (script[script.length - 1] === 0xac && w.length === 2) return 'p2wsh-checksig';
  }
  if (s.length === 34 && hex.startsWith('5120')) {
    if (w.length === 1) return 'p2tr-key';
    // A tapscript leaf `<32-byte key> OP_CHECKSIG` and a control block with one path node.
    if (w.length === 3 && w[1]!.length === 34 && w[1]![0] === 0x20 && w[1]![33] === 0xac && w[2]!.length === 65 && (w[2]![0]! & 0xfe) === 0xc0) return 'p2tr-script';
  }
  return `unknown ${hex}`;
}

test('same seed → byte-identical blk files; another seed → different ones', (t) => {
  const opts = { network: 'regtest' as const, blocks: 110, txsPerBlock: 4 };
  const a = generateChain({ ...opts, seed: 42, outDir: tempDir(t) });
  const b = generateChain({ ...opts, seed: 42, outDir: tempDir(t) });
  const c = generateChain({ ...opts, seed: 43, outDir: tempDir(t) });
  assert.equal(a.files.length, 1);
  const bytes = (files: string[]) => Buffer.concat(files.map((f) => readFileSync(f)));
  assert.ok(bytes(a.files).equals(bytes(b.files)), 'same seed, same bytes');
  assert.equal(a.tipHash, b.tipHash);
  assert.ok(!bytes(a.files).equals(bytes(c.files)), 'another seed, other bytes');
  assert.notEqual(a.tipHash, c.tipHash);
  // The in-memory generator makes the same blocks the files hold.
  const mem = collect({ ...opts, seed: 42 });
  assert.equal(hashToHex(mem.blocks[mem.blocks.length - 1]!.hash), a.tipHash);
  assert.deepEqual(mem.stats, a.stats);
});

test('generateChain writes genesis and every block as regtest blk records (with and without xor.dat)', (t) => {
  for (const xorKey of [undefined, Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2)]) {
    const dir = tempDir(t);
    const seen: GeneratedBlock[] = [];
    const res = generateChain({ blocks: 105, txsPerBlock: 3, seed: 5, outDir: dir, maxFileSize: 20_000, onBlock: (b) => seen.push(b), ...(xorKey ? { xorKey } : {}) });
    assert.ok(res.files.length > 1, 'files rotate');
    const first = readFileSync(res.files[0]!);
    assert.equal(toHex(first.subarray(0, 4)) === 'fabfb5da', xorKey === undefined, 'regtest magic in the clear only without a key');
    const { records, summary } = readAllBlocks(dir, { magic: REGTEST.messageStart, check: 'parse' });
    assert.deepEqual(summary.issues, []);
    assert.equal(records.length, 106);
    assert.ok(equalBytes(records[0]!.raw, REGTEST.genesisBlock), 'genesis first');
    assert.equal(hashToHex(records[0]!.block!.hash()), GENESIS_HASH);
    records.slice(1).forEach((r, i) => assert.ok(equalBytes(r.raw, seen[i]!.raw), `block ${i + 1}`));
    assert.equal(res.height, 105);
    assert.equal(res.bytes, records.reduce((n, r) => n + r.raw.length, 0));
  }
});

test('every input the generator signs verifies under the consensus flags, against a replayed UTXO set', () => {
  const utxo = new Map<string, { out: TxOut; height: number; coinbase: boolean }>();
  const key = (txid: Uint8Array, vout: number) => `${toHex(txid)}:${vout}`;
  let inputs = 0;
  for (const g of CHAIN.blocks) {
    g.block.txs.forEach((tx: Transaction, ti: number) => {
      if (ti > 0) {
        const spent = g.spent[ti]!;
        assert.equal(spent.length, tx.inputs.length);
        tx.inputs.forEach((input, i) => {
          // The coin exists, is unspent, matches what the generator says, and is mature.
          const k = key(input.prevout.hash, input.prevout.index);
          const coin = utxo.get(k);
          assert.ok(coin !== undefined, `height ${g.height} tx ${ti} input ${i} spends a missing coin`);
          assert.equal(coin.out.value, spent[i]!.value);
          assert.ok(equalBytes(coin.out.scriptPubKey, spent[i]!.scriptPubKey));
          assert.equal(coin.height, spent[i]!.height);
          assert.equal(coin.coinbase, spent[i]!.coinbase);
          if (coin.coinbase) assert.ok(g.height - coin.height >= 100, 'coinbase maturity');
          utxo.delete(k);
        });
        const txdata = new PrecomputedTxData(tx, spent);
        for (let i = 0; i < tx.inputs.length; i++) {
          const r = verifyInput(tx, i, spent, CONSENSUS_SCRIPT_FLAGS, { txdata });
          assert.ok(r.ok, `height ${g.height} tx ${ti} input ${i} (${spent[i]!.type}): ${r.ok ? '' : r.error}`);
          inputs++;
        }
      }
      tx.outputs.forEach((out, vout) => {
        if (out.scriptPubKey[0] !== 0x6a) utxo.set(key(tx.txid(), vout), { out, height: g.height, coinbase: ti === 0 });
      });
    });
  }
  assert.equal(inputs, CHAIN.stats.inputs);
  assert.ok(inputs > 500, `${inputs} inputs`);
});

test('the spend-type mix is present in a 150-block chain with T=10', () => {
  const byShape = new Map<string, number>();
  let inBlock = 0;
  let coinbaseSpends = 0;
  const coinbaseTxids = new Map<string, number>();
  for (const g of CHAIN.blocks) {
    coinbaseTxids.set(toHex(g.block.txs[0]!.txid()), g.height);
    const earlier = new Map<string, number>();
    g.block.txs.forEach((tx, ti) => {
      if (ti > 0) {
        tx.inputs.forEach((input, i) => {
          const spent = g.spent[ti]![i]!;
          const shape = classify(spent, input);
          const label: SpendType = spent.type;
          assert.equal(shape, label === 'p2tr-key-tree' ? 'p2tr-key' : label, `height ${g.height} tx ${ti} input ${i}`);
          byShape.set(label, (byShape.get(label) ?? 0) + 1);
          const parent = earlier.get(toHex(input.prevout.hash));
          if (parent !== undefined) {
            assert.ok(parent < ti, 'a parent comes before its child');
            inBlock++;
          }
          const cbHeight = coinbaseTxids.get(toHex(input.prevout.hash));
          if (cbHeight !== undefined) {
            assert.ok(g.height - cbHeight >= 100);
            coinbaseSpends++;
          }
        });
      }
      earlier.set(toHex(tx.txid()), ti);
    });
  }
  for (const type of SPEND_TYPES) assert.ok((byShape.get(type) ?? 0) >= 10, `${type}: ${byShape.get(type) ?? 0} spends`);
  assert.ok(inBlock >= 20, `${inBlock} in-block chain spends`);
  assert.ok(coinbaseSpends >= 5, `${coinbaseSpends} coinbase spends`);
  assert.equal(inBlock, CHAIN.stats.inBlockSpends);
  assert.equal(coinbaseSpends, CHAIN.stats.coinbaseSpends);
  // Non-default sighash types appear too.
  let other = 0;
  for (const g of CHAIN.blocks) {
    for (const tx of g.block.txs.slice(1)) {
      for (const input of tx.inputs) {
        const sig = input.witness.length > 0 ? input.witness[input.witness[0]!.length === 0 ? 1 : 0]! : undefined;
        if (sig !== undefined && sig.length !== 64 && sig[sig.length - 1] !== 0x01) other++;
      }
    }
  }
  assert.ok(other > 0, 'some signatures use sighash types other than ALL/DEFAULT');
});

test('coinbases: BIP34 height, subsidy halving every 150 plus exact fees, witness commitment when needed', () => {
  for (const g of CHAIN.blocks) {
    const { block, height } = g;
    const cb = block.txs[0]!;
    assert.ok(cb.isCoinbase());
    assert.equal(coinbaseHeight(block), height);
    const sig = cb.inputs[0]!.scriptSig;
    assert.ok(sig.length >= 2 && sig.length <= 100, 'bad-cb-length');
    assert.deepEqual([...sig.subarray(0, bip34Prefix(height).length)], [...bip34Prefix(height)], 'CScript() << height');

    let fees = 0;
    block.txs.slice(1).forEach((tx, i) => {
      const inValue = g.spent[i + 1]!.reduce((n, c) => n + c.value, 0);
      const outValue = tx.outputs.reduce((n, o) => n + o.value, 0);
      assert.ok(inValue >= outValue);
      fees += inValue - outValue;
    });
    assert.equal(fees, g.fees);
    const claimed = cb.outputs.reduce((n, o) => n + o.value, 0);
    assert.equal(claimed, getBlockSubsidy(height, 150) + fees);
    if (height === 149) assert.equal(claimed - fees, 50e8);
    if (height === 150) assert.equal(claimed - fees, 25e8);

    const commitIndex = getWitnessCommitmentIndex(block);
    const anyWitness = block.txs.slice(1).some((tx) => tx.hasWitness());
    if (!anyWitness) {
      assert.equal(commitIndex, -1);
      assert.equal(cb.hasWitness(), false);
      continue;
    }
    assert.ok(commitIndex >= 0, `height ${height}: commitment`);
    assert.deepEqual(cb.inputs[0]!.witness.map(toHex), ['00'.repeat(32)]);
    const root = blockWitnessMerkleRoot(block);
    const commitment = hash256(concatBytes(root.root, cb.inputs[0]!.witness[0]!));
    assert.equal(toHex(cb.outputs[commitIndex]!.scriptPubKey), '6a24aa21a9ed' + toHex(commitment));
  }
  assert.ok(CHAIN.blocks.some((g) => getWitnessCommitmentIndex(g.block) >= 0));
});

test('headers: proof of work under 0x207fffff, merkle roots, parent links, times above median-time-past', () => {
  let prev = GENESIS_HASH;
  const times = [REGTEST.genesisBlock.subarray(68, 72).reduce((v, b, i) => v + b * 256 ** i, 0)];
  for (const g of CHAIN.blocks) {
    const h = g.block.header;
    assert.equal(h.bits, 0x207fffff);
    assert.ok(BigInt('0x' + hashToHex(g.hash)) <= TARGET, `height ${g.height}: hash above target`);
    assert.ok(checkProofOfWork(g.hash, h.bits, REGTEST));
    assert.ok(equalBytes(hash256(g.raw.subarray(0, 80)), g.hash));
    assert.equal(hashToHex(h.prevBlock), prev);
    prev = hashToHex(g.hash);
    const merkle = blockMerkleRoot(g.block);
    assert.ok(equalBytes(merkle.root, h.merkleRoot));
    assert.equal(merkle.mutated, false);
    const last11 = times.slice(-11).sort((a, b) => a - b);
    assert.ok(h.time > last11[last11.length >> 1]!, 'time above median-time-past');
    assert.ok(h.time > times[times.length - 1]!, 'times rise');
    times.push(h.time);
    assert.ok(h.version >= 4);
  }
});

test('weight and sigops: the generator\'s figures match the consensus functions and stay far under the limits', () => {
  for (const g of CHAIN.blocks) {
    assert.equal(blockWeight(g.block), g.weight);
    const flags = getBlockScriptFlags('regtest', g.height);
    const sigops = g.block.txs.reduce((n, tx, i) => n + getTransactionSigOpCost(tx, g.spent[i]!, flags), 0);
    assert.equal(sigops, g.sigOpCost);
  }
  // A block asked for far more than fits: capped inside both limits, and still a valid block.
  const big = collect({ blocks: 101, txsPerBlock: 1200, inputsPerTx: 8, seed: 3 });
  const last = big.blocks[100]!;
  assert.ok(last.weight <= 4_000_000 && last.sigOpCost <= 80_000, `weight ${last.weight}, sigops ${last.sigOpCost}`);
  assert.ok(last.weight > 2_500_000 || last.sigOpCost > 60_000, 'the block was filled to a limit');
  assert.ok(last.block.txs.length < 1201, 'fewer transactions than asked');
  assert.equal(checkBlock(last.block, REGTEST).mode, 'valid');
});

test("every block passes the engine's stateless block validation (validateBlock)", () => {
  for (const g of CHAIN.blocks) {
    const flat = g.spent.slice(1).flat();
    const report = validateBlock(g.raw, flat, { network: 'regtest', height: g.height });
    assert.equal(report.result.mode, 'valid', `height ${g.height}: ${JSON.stringify(report.result)}`);
  }
});

test("nonces: 'rfc6979' signatures verify too, and differ from the pool's", () => {
  const opts = { blocks: 102, txsPerBlock: 3, seed: 11 };
  const rfc = collect({ ...opts, nonces: 'rfc6979', verify: true });
  const pool = collect({ ...opts, verify: true });
  assert.equal(rfc.stats.verified, rfc.stats.inputs);
  assert.ok(rfc.stats.inputs > 0);
  assert.notEqual(hashToHex(rfc.blocks[101]!.hash), hashToHex(pool.blocks[101]!.hash));
  assert.deepEqual(rfc.stats.byType, pool.stats.byType, 'the same chain shape, other signatures');
});

test('misuse throws: other networks, negative counts', () => {
  assert.throws(() => collect({ network: 'main' as never, blocks: 1 }), TypeError);
  assert.throws(() => collect({ blocks: 1, txsPerBlock: -1 }), RangeError);
  assert.throws(() => collect({ blocks: 1, seed: 1.5 }), TypeError);
});
