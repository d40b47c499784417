// One test per block rule: a valid real block (mainnet 300025 with its bcoin undo data, pre-segwit;
// mainnet 866342 with Floresta's spent outputs, which carry coin heights and witnesses) altered just
// enough to break that rule, checked for Core's exact result kind and reject reason. The unaltered
// blocks pass as controls. Altered blocks keep their nonce, so they run with checkPow off unless
// the header is unchanged.

import { describe, it, before } from 'node:test';
import { strict as assert } from 'node:assert';
import { MissingHeightError, validateBlock, validateBlockAsync, type BlockReport } from '../src/consensus/validate-block.js';
import { getLegacySigOpCount } from '../src/consensus/sigops.js';
import { coinbaseHeight } from '../src/consensus/bip34.js';
import { blockWeight, contextualCheckBlockHeader, type HeaderContext } from '../src/consensus/check-block.js';
import { PARAMS, type ChainParams } from '../src/consensus/params.js';
import type { ValidationResult } from '../src/consensus/validation.js';
import { readVector } from './helpers/vectors.js';
import { ByteReader } from '../src/primitives/reader.js';
import { MAX_BLOCK_SERIALIZED_SIZE } from '../src/consensus/consensus.js';
import { Block, BlockHeader, blockMerkleRoot } from '../src/primitives/block.js';
import { concatBytes, equalBytes, hashToHex } from '../src/primitives/bytes.js';
import { MAX_MONEY } from '../src/primitives/amount.js';
import { Transaction } from '../src/primitives/transaction.js';
import { compactSizeLength } from '../src/primitives/writer.js';
import type { SpentOutput } from '../src/spent/index.js';
import {
  alterTx,
  corruptScriptSigSignature,
  corruptSignature,
  duplicateTail,
  findInBlockSpend,
  flattenSpent,
  rebuildBlock,
  withInput,
  withOutput,
} from './helpers/alter-block.js';
import { loadBlockFixture, type BlockFixture } from './helpers/real-blocks.js';


let A: BlockFixture; // mainnet 300025: pre-segwit, bcoin undo (no coin heights)
let F: BlockFixture; // mainnet 866342: segwit, Floresta JSON (coin heights, coinbase flags, BIP68 times)

before(() => {
  A = loadBlockFixture('bcoin/mainnet/block300025.raw');
  F = loadBlockFixture('floresta/block_866342.raw');
});

interface Expected {
  mode: 'valid' | 'invalid' | 'mutated' | 'error';
  reason?: string;
  txIndex?: number;
  inputIndex?: number;
}

/** Validate an altered block from its serialization, as a peer would send it. */
function check(
  f: BlockFixture,
  block: Block,
  spent: readonly SpentOutput[] = f.spent,
  opts: { checkPow?: boolean; height?: number } = {},
): BlockReport {
  return validateBlock(block.toBytes(), spent, {
    network: f.network,
    checkPow: opts.checkPow ?? false,
    ...(opts.height === undefined ? {} : { height: opts.height }),
  });
}

/** The result's kind, reason and position, exactly: a position the test does not expect must be absent. */
function assertResult(report: BlockReport, expected: Expected): void {
  const r = report.result;
  const got: Expected = { mode: r.mode };
  if (r.mode !== 'valid') got.reason = r.reason;
  if (r.mode === 'invalid' && r.txIndex !== undefined) got.txIndex = r.txIndex;
  if (r.mode === 'invalid' && r.inputIndex !== undefined) got.inputIndex = r.inputIndex;
  assert.deepEqual(got, expected, `debug: ${r.mode === 'valid' ? '' : (r.debug ?? '')}`);
}

function debugOf(report: BlockReport): string | undefined {
  return report.result.mode === 'valid' ? undefined : report.result.debug;
}

/** `txs` with transaction `i` replaced. */
function replaced(block: Block, i: number, tx: Transaction): Transaction[] {
  const txs = block.txs.slice();
  txs[i] = tx;
  return txs;
}

function sumOut(outputs: readonly { value: number }[]): number {
  return outputs.reduce((n, o) => n + o.value, 0);
}

/** BIP141 weight from the two serializations, independent of the engine's own count. */
function weightOf(block: Block): number {
  return block.toBytes(false).length * 3 + block.toBytes(true).length;
}

/** The first non-coinbase transaction with at least `n` inputs. */
function firstWithInputs(block: Block, n: number): number {
  const i = block.txs.findIndex((tx, k) => k > 0 && tx.inputs.length >= n);
  assert.ok(i > 0, `no transaction with ${n} inputs`);
  return i;
}

describe('controls', () => {
  it('300025 unaltered is valid (proof of work checked)', () => {
    const r = validateBlock(A.raw, A.spent, { network: 'main' });
    assertResult(r, { mode: 'valid' });
    assert.equal(r.height, 300025);
    // The height was read from the coinbase, so BIP34's check of it could not fail: said so.
    assert.ok(r.skipped.includes('bad-cb-height'));
    assert.ok(!validateBlock(A.raw, A.spent, { network: 'main', height: 300025 }).skipped.includes('bad-cb-height'));
  });

  it('866342 unaltered is valid (proof of work checked)', () => {
    const r = validateBlock(F.raw, F.spent, { network: 'main' });
    assertResult(r, { mode: 'valid' });
    assert.equal(r.height, 866342);
  });

  it('rebuildBlock with no change reproduces both blocks byte for byte', () => {
    for (const f of [A, F]) {
      const same = rebuildBlock(f.block, f.block.txs);
      assert.ok(equalBytes(same.toBytes(), f.raw), f.file);
      assert.ok(equalBytes(same.hash(), f.block.hash()), f.file);
    }
  });
});

describe('CheckBlockHeader and CheckBlock', () => {
  it('high-hash: 300025 with its nonce plus one, proof of work checked', () => {
    const altered = rebuildBlock(A.block, A.block.txs, { header: { nonce: (A.block.header.nonce + 1) >>> 0 } });
    assertResult(check(A, altered, A.spent, { checkPow: true }), { mode: 'invalid', reason: 'high-hash' });
  });

  it('bad-txnmrklroot (mutated): 300025 with tx 1 paying one satoshi less under the old merkle root', () => {
    const tx = A.block.txs[1]!;
    const altered = rebuildBlock(A.block, replaced(A.block, 1, withOutput(tx, 0, { value: tx.outputs[0]!.value - 1 })), { keepMerkleRoot: true });
    assert.ok(equalBytes(altered.hash(), A.block.hash()), 'the header, and so the proof of work, is the original');
    assertResult(check(A, altered, A.spent, { checkPow: true }), { mode: 'mutated', reason: 'bad-txnmrklroot' });
  });

  it('bad-txns-duplicate (mutated, CVE-2012-2459): 300025 with its odd last transaction repeated, same root', () => {
    const { items: txs, copied } = duplicateTail(A.block.txs);
    assert.equal(copied, 1, '461 transactions: the first level is already odd');
    const last = A.perTx[A.perTx.length - 1]!;
    const altered = new Block(A.block.header, txs);
    assert.ok(equalBytes(blockMerkleRoot(altered).root, A.block.header.merkleRoot), 'the root is unchanged');
    assertResult(check(A, altered, [...A.spent, ...last], { checkPow: true }), { mode: 'mutated', reason: 'bad-txns-duplicate' });
  });

  it('bad-txns-duplicate (mutated, CVE-2012-2459): 866342 (4864 transactions) with its last 256-leaf subtree repeated', () => {
    const { items: txs, copied } = duplicateTail(F.block.txs);
    assert.equal(copied, 256, '4864 = 19 × 256: the first odd level is the ninth');
    const { items: perTx } = duplicateTail(F.perTx);
    const altered = new Block(F.block.header, txs);
    assert.ok(equalBytes(blockMerkleRoot(altered).root, F.block.header.merkleRoot), 'the root is unchanged');
    assertResult(check(F, altered, flattenSpent(perTx), { checkPow: true }), { mode: 'mutated', reason: 'bad-txns-duplicate' });
  });

  it('bad-txns-duplicate (mutated): 300025 cut to [coinbase, tx 1, coinbase, tx 1], whose two halves meet as the last pair of the tree', () => {
    // Core's ComputeMerkleRoot compares the pairs of every level, the top one (two hashes) included;
    // CheckMerkleRoot answers before CheckBlock would see the second coinbase (bad-cb-multiple).
    const [cb, t1] = [A.block.txs[0]!, A.block.txs[1]!];
    const altered = rebuildBlock(A.block, [cb, t1, cb, t1]);
    assert.ok(!equalBytes(cb.txid(), t1.txid()));
    assertResult(check(A, altered), { mode: 'mutated', reason: 'bad-txns-duplicate' });
  });

  it('bad-blk-length: 300025 padded to 1,000,001 bytes without witness data; at exactly 1,000,000 (weight 4,000,000) it is valid', () => {
    // Core's CheckBlock: GetSerializeSize(TX_NO_WITNESS(block)) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT.
    const cb = A.block.txs[0]!;
    /** 300025 with an OP_RETURN output of `len` bytes (a 5-byte length prefix) appended to its coinbase. */
    const padded = (len: number): Block => {
      const script = new Uint8Array(len);
      script[0] = 0x6a;
      return rebuildBlock(A.block, replaced(A.block, 0, alterTx(cb, { outputs: [...cb.outputs, { value: 0, scriptPubKey: script }] })));
    };
    const overhead = padded(0x10000).toBytes(false).length - 0x10000;
    const exact = padded(1_000_000 - overhead);
    assert.equal(exact.toBytes(false).length, 1_000_000);
    assert.equal(weightOf(exact), 4_000_000);
    assertResult(check(A, exact), { mode: 'valid' });
    const over = padded(1_000_001 - overhead);
    assert.equal(over.toBytes(false).length, 1_000_001);
    const r = check(A, over);
    assertResult(r, { mode: 'invalid', reason: 'bad-blk-length' });
    assert.equal(debugOf(r), 'size limits failed');
  });

  it('bad-cb-missing: 300025 with the coinbase prevout index set to 0 (no longer the null outpoint)', () => {
    const cb = A.block.txs[0]!;
    const input = cb.inputs[0]!;
    const altered = rebuildBlock(A.block, replaced(A.block, 0, withInput(cb, 0, { prevout: { hash: input.prevout.hash, index: 0 } })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-cb-missing' });
  });

  it('bad-cb-multiple: 300025 with tx 1 (one input) spending the null outpoint', () => {
    const tx = A.block.txs[1]!;
    assert.equal(tx.inputs.length, 1);
    const altered = rebuildBlock(A.block, replaced(A.block, 1, withInput(tx, 0, { prevout: { hash: new Uint8Array(32), index: 0xffffffff } })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-cb-multiple', txIndex: 1 });
  });

  it('bad-blk-length: a block with no transactions at all, under the merkle root of nothing (zero)', () => {
    // Core's CheckBlock: block.vtx.empty() fails the size limits, before the coinbase is looked at.
    const h = A.block.header;
    const header = new BlockHeader(h.version, h.prevBlock, new Uint8Array(32), h.time, h.bits, h.nonce);
    const empty = new Block(header, []);
    assert.ok(equalBytes(blockMerkleRoot(empty).root, new Uint8Array(32)));
    const r = validateBlock(empty.toBytes(), [], { network: 'main', height: 300025, checkPow: false });
    assertResult(r, { mode: 'invalid', reason: 'bad-blk-length' });
    assert.equal(debugOf(r), 'size limits failed');
  });

  it('bad-cb-length in a block: 300025 whose coinbase scriptSig is padded to 101 bytes; at 100 it is valid', () => {
    // Core's CheckBlock runs CheckTransaction on every transaction, the coinbase included.
    const cb = A.block.txs[0]!;
    const sig = cb.inputs[0]!.scriptSig;
    assert.ok(sig.length < 100);
    const padded = (len: number): Block => {
      const scriptSig = new Uint8Array(len);
      scriptSig.set(sig);
      return rebuildBlock(A.block, replaced(A.block, 0, withInput(cb, 0, { scriptSig })));
    };
    assertResult(check(A, padded(100)), { mode: 'valid' });
    assertResult(check(A, padded(101)), { mode: 'invalid', reason: 'bad-cb-length', txIndex: 0 });
  });

  it('bad-txns-inputs-duplicate (CVE-2018-17144): 300025 with a transaction spending its first outpoint twice', () => {
    const i = firstWithInputs(A.block, 2);
    const tx = A.block.txs[i]!;
    const altered = rebuildBlock(A.block, replaced(A.block, i, withInput(tx, 1, { prevout: tx.inputs[0]!.prevout })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-inputs-duplicate', txIndex: i });
  });

  it('bad-txns-vout-negative: 300025 with tx 1 output 0 worth -1 satoshi', () => {
    const altered = rebuildBlock(A.block, replaced(A.block, 1, withOutput(A.block.txs[1]!, 0, { value: -1 })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-vout-negative', txIndex: 1 });
  });

  it('bad-txns-vout-toolarge: 300025 with tx 1 output 0 worth MAX_MONEY + 1', () => {
    const altered = rebuildBlock(A.block, replaced(A.block, 1, withOutput(A.block.txs[1]!, 0, { value: MAX_MONEY + 1 })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-vout-toolarge', txIndex: 1 });
  });

  it('bad-blk-sigops (CheckBlock): 300025 with a coinbase output of OP_CHECKSIGs taking legacy sigops to 20,001', () => {
    const legacy = A.block.txs.reduce((n, tx) => n + getLegacySigOpCount(tx), 0);
    const cb = A.block.txs[0]!;
    const pad = new Uint8Array(20_001 - legacy).fill(0xac);
    const altered = rebuildBlock(A.block, replaced(A.block, 0, alterTx(cb, { outputs: [...cb.outputs, { value: 0, scriptPubKey: pad }] })));
    const r = check(A, altered);
    assertResult(r, { mode: 'invalid', reason: 'bad-blk-sigops' });
    assert.equal(debugOf(r), 'out-of-bounds SigOpCount');
  });

  it('bad-blk-sigops (ConnectBlock): 866342 with a P2WSH witnessScript of 4,001 OP_CHECKMULTISIGs (20 sigops each)', () => {
    // Witness sigops are invisible to CheckBlock's legacy count; ConnectBlock adds them per input
    // (GetTransactionSigOpCost), and 4,001 × 20 alone exceeds MAX_BLOCK_SIGOPS_COST = 80,000.
    const i = F.perTx.findIndex((coins) => coins.some((c) => c.scriptPubKey.length === 34 && c.scriptPubKey[0] === 0 && c.scriptPubKey[1] === 32));
    const j = F.perTx[i]!.findIndex((c) => c.scriptPubKey.length === 34 && c.scriptPubKey[0] === 0 && c.scriptPubKey[1] === 32);
    assert.ok(i > 0 && j >= 0, 'a P2WSH input');
    const tx = F.block.txs[i]!;
    const witness = tx.inputs[j]!.witness.slice();
    witness[witness.length - 1] = new Uint8Array(4001).fill(0xae);
    const altered = rebuildBlock(F.block, replaced(F.block, i, withInput(tx, j, { witness })));
    assert.ok(weightOf(altered) <= 4_000_000);
    const r = check(F, altered);
    assertResult(r, { mode: 'invalid', reason: 'bad-blk-sigops', txIndex: i });
    assert.equal(debugOf(r), 'too many sigops');
  });
});

describe('ContextualCheckBlock', () => {
  it('bad-cb-height: 300025 whose coinbase claims height 300026, validated at 300025', () => {
    const cb = A.block.txs[0]!;
    const sig = cb.inputs[0]!.scriptSig.slice();
    assert.deepEqual([...sig.subarray(0, 4)], [0x03, 0xf9, 0x93, 0x04], 'push of 300025 (0x0493f9)');
    sig[1] = 0xfa;
    const altered = rebuildBlock(A.block, replaced(A.block, 0, withInput(cb, 0, { scriptSig: sig })));
    assertResult(check(A, altered, A.spent, { height: 300025 }), { mode: 'invalid', reason: 'bad-cb-height', txIndex: 0 });
  });

  it('bad-witness-merkle-match (mutated): 866342 with one witness byte of tx 2 changed, commitment kept', () => {
    const tx = F.block.txs[2]!;
    const witness = tx.inputs[0]!.witness.slice();
    const pubkey = witness[1]!.slice();
    pubkey[pubkey.length - 1]! ^= 0x01;
    witness[1] = pubkey;
    const altered = rebuildBlock(F.block, replaced(F.block, 2, withInput(tx, 0, { witness })), { keepWitnessCommitment: true });
    assert.ok(equalBytes(altered.hash(), F.block.hash()), 'the txid, and so the header, is unchanged');
    assertResult(check(F, altered, F.spent, { checkPow: true }), { mode: 'mutated', reason: 'bad-witness-merkle-match' });
  });

  it('bad-witness-nonce-size (mutated): 866342 with a 33-byte witness reserved value in the coinbase', () => {
    const cb = F.block.txs[0]!;
    const altered = rebuildBlock(F.block, replaced(F.block, 0, withInput(cb, 0, { witness: [new Uint8Array(33)] })), { keepWitnessCommitment: true });
    assert.ok(equalBytes(altered.hash(), F.block.hash()));
    assertResult(check(F, altered, F.spent, { checkPow: true }), { mode: 'mutated', reason: 'bad-witness-nonce-size' });
  });

  it('bad-witness-nonce-size (mutated): 866342 whose coinbase witness has a second item beside the 32-byte reserved value, or none', () => {
    // Core's CheckWitnessMalleation: witness_stack.size() != 1 || witness_stack[0].size() != 32.
    const cb = F.block.txs[0]!;
    const reserved = cb.inputs[0]!.witness[0]!;
    assert.deepEqual([cb.inputs[0]!.witness.length, reserved.length], [1, 32]);
    for (const witness of [[reserved, Uint8Array.of(1)], [reserved, reserved], []]) {
      const altered = rebuildBlock(F.block, replaced(F.block, 0, withInput(cb, 0, { witness })), { keepWitnessCommitment: true });
      assert.ok(equalBytes(altered.hash(), F.block.hash()), 'the coinbase witness is outside the txid');
      assertResult(check(F, altered, F.spent, { checkPow: true }), { mode: 'mutated', reason: 'bad-witness-nonce-size' });
    }
  });

  it('the witness commitment is the last output that has its form: 866342 with a bogus one before the real one is valid, after it bad-witness-merkle-match', () => {
    // Core's GetWitnessCommitmentIndex keeps the last matching output ("In case there are multiple,
    // the last one is used", ContextualCheckBlock).
    const cb = F.block.txs[0]!;
    const prefix = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);
    const last = cb.outputs.length - 1;
    assert.ok(equalBytes(cb.outputs[last]!.scriptPubKey.subarray(0, 6), prefix), 'the commitment is the last output');
    const bogus = { value: 0, scriptPubKey: concatBytes(prefix, new Uint8Array(32).fill(0x55)) };
    const withOutputs = (outputs: typeof cb.outputs): Block =>
      rebuildBlock(F.block, replaced(F.block, 0, alterTx(cb, { outputs })), { keepWitnessCommitment: true });
    assertResult(check(F, withOutputs([...cb.outputs.slice(0, last), bogus, cb.outputs[last]!])), { mode: 'valid' });
    assertResult(check(F, withOutputs([...cb.outputs, bogus])), { mode: 'mutated', reason: 'bad-witness-merkle-match' });
  });

  it('unexpected-witness (mutated): 300025 (before segwit) with a witness on tx 1 input 0', () => {
    const tx = A.block.txs[1]!;
    const altered = rebuildBlock(A.block, replaced(A.block, 1, withInput(tx, 0, { witness: [Uint8Array.of(1)] })));
    assert.ok(equalBytes(altered.hash(), A.block.hash()), 'a witness leaves the txid, and so the header, unchanged');
    assertResult(check(A, altered, A.spent, { checkPow: true }), { mode: 'mutated', reason: 'unexpected-witness' });
  });

  it('unexpected-witness (mutated): 300025 (before segwit) with a witness on its coinbase only, with or without a matching commitment', () => {
    // Core's CheckWitnessMalleation: before segwit no commitment is looked at, and any witness, the
    // coinbase's included, is unexpected.
    const cb = A.block.txs[0]!;
    const reserved = new Uint8Array(32);
    const bare = rebuildBlock(A.block, replaced(A.block, 0, withInput(cb, 0, { witness: [reserved] })));
    assert.ok(equalBytes(bare.hash(), A.block.hash()), 'the coinbase witness is outside the txid');
    assertResult(check(A, bare, A.spent, { checkPow: true }), { mode: 'mutated', reason: 'unexpected-witness' });
    // The same with a commitment output that matches (rebuildBlock recomputes it): still unexpected.
    const commitment = { value: 0, scriptPubKey: concatBytes(Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed), new Uint8Array(32)) };
    const committed = rebuildBlock(A.block, replaced(A.block, 0, alterTx(cb, { inputs: [{ ...cb.inputs[0]!, witness: [reserved] }], outputs: [...cb.outputs, commitment] })));
    assert.notDeepEqual([...committed.txs[0]!.outputs.at(-1)!.scriptPubKey.subarray(6)], [...new Uint8Array(32)], 'the commitment was computed');
    assertResult(check(A, committed), { mode: 'mutated', reason: 'unexpected-witness' });
  });

  it('bad-witness-nonce-size (mutated): 866342 with a 31-byte witness reserved value, commitment kept', () => {
    const cb = F.block.txs[0]!;
    const reserved = cb.inputs[0]!.witness[0]!;
    const altered = rebuildBlock(F.block, replaced(F.block, 0, withInput(cb, 0, { witness: [reserved.subarray(0, 31)] })), { keepWitnessCommitment: true });
    assertResult(check(F, altered, F.spent, { checkPow: true }), { mode: 'mutated', reason: 'bad-witness-nonce-size' });
  });

  it('blockWeight, the weight rule\'s input, counts the transaction count as a CompactSize: 3 bytes from 253 on, 5 from 65,536 on', () => {
    // BIP141 weight = stripped size × 3 + total size, the count included in both.
    const tiny = new Transaction(1, [], [], 0); // 10 bytes: the smallest transaction that parses
    for (const n of [252, 253, 254, 65_535, 65_536]) {
      const block = new Block(A.block.header, new Array<Transaction>(n).fill(tiny));
      assert.equal(block.rawBytes(), undefined);
      assert.equal(blockWeight(block), weightOf(block), `${n} transactions`);
    }
    for (const n of [252, 253]) {
      const block = new Block(A.block.header, A.block.txs.slice(0, n));
      assert.equal(blockWeight(block), weightOf(block), `300025's first ${n} transactions`);
    }
  });

  it('unexpected-witness (mutated): 866342 with the witness commitment output dropped from the coinbase', () => {
    const cb = F.block.txs[0]!;
    assert.equal(cb.outputs.length, 2);
    const altered = rebuildBlock(F.block, replaced(F.block, 0, alterTx(cb, { outputs: cb.outputs.slice(0, 1) })));
    assertResult(check(F, altered), { mode: 'mutated', reason: 'unexpected-witness' });
  });

  /** 866342 with an extra witness item on tx 2 input 0 (P2WPKH) making the block weigh `target`. */
  function weighing(target: number): Block {
    const need = target - weightOf(F.block);
    let len = need - 1;
    while (len + compactSizeLength(len) > need) len--;
    assert.equal(len + compactSizeLength(len), need);
    const tx = F.block.txs[2]!;
    const input = tx.inputs[0]!;
    const block = rebuildBlock(F.block, replaced(F.block, 2, withInput(tx, 0, { witness: [...input.witness, new Uint8Array(len)] })));
    assert.equal(weightOf(block), target);
    return block;
  }

  it('bad-blk-weight: 866342 with a witness padded to a weight of 4,000,001, commitment recomputed', () => {
    assertResult(check(F, weighing(4_000_001)), { mode: 'invalid', reason: 'bad-blk-weight' });
  });

  it('bad-blk-weight boundary: at exactly 4,000,000 the weight rule passes and the padded P2WPKH input fails its script', () => {
    assertResult(check(F, weighing(4_000_000)), {
      mode: 'invalid',
      reason: 'block-script-verify-flag-failed (Witness program hash mismatch)',
      txIndex: 2,
      inputIndex: 0,
    });
  });
});

describe('ContextualCheckBlockHeader at its boundaries (300025\'s header, with its context given)', () => {
  /** 300025's header with another version or time (the proof of work is not checked here). */
  function header(changes: { version?: number; time?: number } = {}): BlockHeader {
    const h = A.block.header;
    return new BlockHeader(changes.version ?? h.version, h.prevBlock, h.merkleRoot, changes.time ?? h.time, h.bits, h.nonce);
  }
  function verdict(h: BlockHeader, ctx: Partial<HeaderContext> & { height: number }, params: ChainParams = PARAMS.main): string {
    const r: ValidationResult = contextualCheckBlockHeader(h, { prevMedianTimePast: h.time - 1, prevTime: h.time - 1, ...ctx }, params);
    return r.mode === 'valid' ? 'valid' : `${r.reason}: ${r.debug ?? ''}`;
  }

  it('bad-version: BIP34, BIP66 and BIP65 each reject the old version from their own mainnet height on, not a block later', () => {
    // Core: (nVersion < 2 && HEIGHTINCB active) || (nVersion < 3 && DERSIG active) || (nVersion < 4 && CLTV active),
    // each active for a block at its buried height or above (DeploymentActiveAfter the parent).
    for (const [version, height] of [[1, 227_931], [2, 363_725], [3, 388_381]] as const) {
      assert.equal(verdict(header({ version }), { height: height - 1 }), 'valid', `version ${version} at ${height - 1}`);
      assert.equal(verdict(header({ version }), { height }), `bad-version(0x0000000${version}): rejected nVersion=0x0000000${version} block`, `version ${version} at ${height}`);
    }
  });

  it('bad-version of a negative nVersion is printed as Core\'s %08x prints it: the 32 bits unsigned', () => {
    assert.equal(verdict(header({ version: -1 }), { height: 300_025 }), 'bad-version(0xffffffff): rejected nVersion=0xffffffff block');
    assert.equal(verdict(header({ version: -0x80000000 }), { height: 300_025 }), 'bad-version(0x80000000): rejected nVersion=0x80000000 block');
  });

  it('time-too-new: two hours (MAX_FUTURE_BLOCK_TIME) ahead of the clock is allowed, one second more is not', () => {
    const h = header();
    assert.equal(verdict(h, { height: 300_025, now: h.time - 7200 }), 'valid');
    assert.equal(verdict(h, { height: 300_025, now: h.time - 7201 }), 'time-too-new: block timestamp too far in the future');
  });

  it('time-timewarp-attack (BIP94, testnet4): a retarget block may be at most MAX_TIMEWARP (600 s) older than its parent', () => {
    // Core: enforce_BIP94 && nHeight % DifficultyAdjustmentInterval() == 0 && time < prev time - MAX_TIMEWARP.
    const h = header({ version: 0x20000000 });
    const t = h.time;
    assert.equal(verdict(h, { height: 4032, prevTime: t + 600 }, PARAMS.testnet4), 'valid');
    assert.equal(verdict(h, { height: 4032, prevTime: t + 601 }, PARAMS.testnet4), "time-timewarp-attack: block's timestamp is too early on diff adjustment block");
    // Only at a retarget height, and only where BIP94 is enforced.
    assert.equal(verdict(h, { height: 4033, prevTime: t + 601 }, PARAMS.testnet4), 'valid');
    assert.equal(verdict(h, { height: 4031, prevTime: t + 601 }, PARAMS.testnet4), 'valid');
    assert.equal(verdict(h, { height: 4032, prevTime: t + 601 }, PARAMS.testnet3), 'valid');
  });
});

describe('ConnectBlock', () => {
  it('bad-cb-amount: 300025 whose coinbase claims one satoshi more than subsidy plus fees', () => {
    const fees = A.spent.reduce((n, c) => n + c.value, 0) - A.block.txs.slice(1).reduce((n, tx) => n + sumOut(tx.outputs), 0);
    const limit = 25e8 + fees; // 300025 is in the second halving era
    const cb = A.block.txs[0]!;
    const extra = limit - sumOut(cb.outputs) + 1;
    const altered = rebuildBlock(A.block, replaced(A.block, 0, withOutput(cb, 0, { value: cb.outputs[0]!.value + extra })));
    const r = check(A, altered);
    assertResult(r, { mode: 'invalid', reason: 'bad-cb-amount', txIndex: 0 });
    assert.match(debugOf(r) ?? '', new RegExp(`actual=${limit + 1} vs limit=${limit}`));
  });

  it('bad-txns-in-belowout: 300025 with tx 1 paying out one satoshi more than its inputs', () => {
    const tx = A.block.txs[1]!;
    const valueIn = A.perTx[1]!.reduce((n, c) => n + c.value, 0);
    const extra = valueIn - sumOut(tx.outputs) + 1;
    const altered = rebuildBlock(A.block, replaced(A.block, 1, withOutput(tx, 0, { value: tx.outputs[0]!.value + extra })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-in-belowout', txIndex: 1 });
  });

  it('bad-txns-inputs-missingorspent: 300025 with tx 2 spending the coin tx 1 spends (double spend in the block)', () => {
    const first = A.block.txs[1]!.inputs[0]!.prevout;
    assert.equal(findInBlock(A.block, first.hash), -1, 'a coin from before the block');
    const altered = rebuildBlock(A.block, replaced(A.block, 2, withInput(A.block.txs[2]!, 0, { prevout: first })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: 2, inputIndex: 0 });
  });

  it('bad-txns-inputs-missingorspent: 300025 with a child moved before its parent (spent data moved with it)', () => {
    const spend = findInBlockSpend(A.block);
    assert.ok(spend !== undefined);
    const { parent, child } = spend;
    // The child fails at its first input spending a transaction now after it.
    const later = new Set(A.block.txs.slice(parent, child).map((tx) => tx.txid()));
    const input = A.block.txs[child]!.inputs.findIndex((i) => [...later].some((id) => equalBytes(id, i.prevout.hash)));
    const move = <T>(xs: readonly T[]): T[] => [...xs.slice(0, parent), xs[child]!, ...xs.slice(parent, child), ...xs.slice(child + 1)];
    const altered = rebuildBlock(A.block, move(A.block.txs));
    assertResult(check(A, altered, flattenSpent(move(A.perTx))), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: parent, inputIndex: input });
  });

  it('bad-txns-inputs-missingorspent: 300025 with tx 2 spending output index n of tx 1, which has n outputs', () => {
    const parent = A.block.txs[1]!;
    const prevout = { hash: parent.txid(), index: parent.outputs.length };
    const altered = rebuildBlock(A.block, replaced(A.block, 2, withInput(A.block.txs[2]!, 0, { prevout })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: 2, inputIndex: 0 });
  });

  it('bad-txns-inputs-missingorspent: 300025 with a coin made in the block spent twice', () => {
    const spend = findInBlockSpend(A.block);
    assert.ok(spend !== undefined);
    const { child, input } = spend;
    const prevout = A.block.txs[child]!.inputs[input]!.prevout;
    const thief = child + 1;
    const altered = rebuildBlock(A.block, replaced(A.block, thief, withInput(A.block.txs[thief]!, 0, { prevout })));
    assertResult(check(A, altered), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: thief, inputIndex: 0 });
  });

  it('bad-txns-inputvalues-outofrange: 300025, spent data altered: inputs worth more than MAX_MONEY together, or one worth -1', () => {
    // Core's CheckTxInputs: !MoneyRange(coin.out.nValue) || !MoneyRange(nValueIn), input by input.
    const i = firstWithInputs(A.block, 2);
    assert.ok(A.perTx[i]![0]!.value >= 1, 'the first input alone stays in range with -1 after it');
    const altered = (values: [number | undefined, number]): SpentOutput[] => {
      const perTx = A.perTx.map((coins) => coins.slice());
      const coins = perTx[i]!;
      if (values[0] !== undefined) coins[0] = { ...coins[0]!, value: values[0] };
      coins[1] = { ...coins[1]!, value: values[1] };
      return flattenSpent(perTx);
    };
    // Each coin in range, their sum one satoshi past it.
    assertResult(check(A, A.block, altered([MAX_MONEY, 1])), { mode: 'invalid', reason: 'bad-txns-inputvalues-outofrange', txIndex: i, inputIndex: 1 });
    // The sum in range, the coin not.
    assertResult(check(A, A.block, altered([undefined, -1])), { mode: 'invalid', reason: 'bad-txns-inputvalues-outofrange', txIndex: i, inputIndex: 1 });
  });

  it('bad-txns-accumulated-fee-outofrange: 300025, spent data altered: two one-input transactions each paying a fee near MAX_MONEY', () => {
    // Each fee is within MoneyRange (CheckTxInputs passes), their sum is not (Core's ConnectBlock).
    // Legacy signatures do not commit to the amounts: without the check the block would be valid.
    const [i, j] = A.block.txs.map((tx, k) => (k > 0 && tx.inputs.length === 1 ? k : -1)).filter((k) => k > 0);
    assert.ok(i !== undefined && j !== undefined, 'two one-input transactions');
    const perTx = A.perTx.map((coins) => coins.slice());
    for (const k of [i, j]) perTx[k]![0] = { ...perTx[k]![0]!, value: MAX_MONEY };
    const r = check(A, A.block, flattenSpent(perTx));
    assertResult(r, { mode: 'invalid', reason: 'bad-txns-accumulated-fee-outofrange', txIndex: j });
    assert.equal(debugOf(r), 'accumulated fee in the block out of range');
  });

  it('bad-txns-premature-spend-of-coinbase: 866342, spent data altered: tx 1 input 0 marked a coinbase 50 blocks old', () => {
    const spent = F.spent.slice();
    spent[0] = { ...spent[0]!, coinbase: true, height: F.height - 50 };
    const r = validateBlock(F.raw, spent, { network: 'main' });
    assertResult(r, { mode: 'invalid', reason: 'bad-txns-premature-spend-of-coinbase', txIndex: 1, inputIndex: 0 });
    assert.equal(debugOf(r), `tried to spend coinbase at depth 50 in transaction ${hashToHex(F.block.txs[1]!.txid())}`);
  });

  it('block-script-verify-flag-failed: 300025 with a corrupted signature on the last input of the first two-input transaction', () => {
    const i = firstWithInputs(A.block, 2);
    const tx = A.block.txs[i]!;
    const j = tx.inputs.length - 1;
    const altered = rebuildBlock(A.block, replaced(A.block, i, withInput(tx, j, { scriptSig: corruptScriptSigSignature(tx.inputs[j]!.scriptSig) })));
    const r = check(A, altered);
    assert.ok(r.result.mode === 'invalid' && r.result.reason.startsWith('block-script-verify-flag-failed ('));
    assertResult(r, {
      mode: 'invalid',
      reason: 'block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)',
      txIndex: i,
      inputIndex: j,
    });
  });

  it('block-script-verify-flag-failed: 866342 with a corrupted P2WPKH witness signature on tx 2', () => {
    // NULLFAIL is policy, not a block flag (GetBlockScriptFlags): the failed CHECKSIG leaves false.
    const tx = F.block.txs[2]!;
    const witness = tx.inputs[0]!.witness.slice();
    witness[0] = corruptSignature(witness[0]!);
    const altered = rebuildBlock(F.block, replaced(F.block, 2, withInput(tx, 0, { witness })));
    assertResult(check(F, altered), {
      mode: 'invalid',
      reason: 'block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)',
      txIndex: 2,
      inputIndex: 0,
    });
  });
});

describe('stateless checks on small synthetic blocks at the buried heights (proof of work not checked)', () => {
  // A coinbase and one version-2 transaction spending an OP_TRUE coin of height 0 (its script passes),
  // in a block of its own with the merkle root computed.
  const T = 1_700_000_000;
  const OP_TRUE = Uint8Array.of(0x51);
  const coin: SpentOutput = { value: 100_000, scriptPubKey: OP_TRUE, height: 0, coinbase: false };

  function block(heightPush: Uint8Array, spend: { sequence: number; locktime: number }): Block {
    const coinbase = new Transaction(
      1,
      [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: concatBytes(heightPush, Uint8Array.of(0x00)), sequence: 0xffffffff, witness: [] }],
      [{ value: 50e8, scriptPubKey: OP_TRUE }],
      0,
    );
    const tx = new Transaction(
      2,
      [{ prevout: { hash: new Uint8Array(32).fill(0x11), index: 0 }, scriptSig: new Uint8Array(0), sequence: spend.sequence, witness: [] }],
      [{ value: 90_000, scriptPubKey: OP_TRUE }],
      spend.locktime,
    );
    const txs = [coinbase, tx];
    const root = blockMerkleRoot(new Block(A.block.header, txs)).root;
    return new Block(new BlockHeader(0x20000000, new Uint8Array(32), root, T, 0x207fffff, 0), txs);
  }
  const validate = (network: 'regtest' | 'testnet4', height: number, b: Block): BlockReport =>
    validateBlock(b.toBytes(), [coin], { network, height, checkPow: false, now: T });
  const FINAL = { sequence: 0xffffffff, locktime: 0 };

  it('control: regtest block 1 is valid; BIP30, which needs the UTXO set, is reported skipped', () => {
    const r = validate('regtest', 1, block(Uint8Array.of(0x51), FINAL));
    assertResult(r, { mode: 'valid' });
    // Regtest has no BIP34 hash, so Core's ConnectBlock checks BIP30 there: without coins it cannot be.
    assert.ok(r.skipped.includes('bip30'), r.skipped.join(', '));
  });

  it('bad-txns-nonfinal (BIP68) at regtest block 1, the CSV height itself: a two-block lock on a coin of height 0', () => {
    // The last invalid height is 0 + 2 - 1 = 1, so block 1 is too early; a one-block lock has passed.
    const r = validate('regtest', 1, block(Uint8Array.of(0x51), { sequence: 2, locktime: 0 }));
    assertResult(r, { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: 1 });
    assert.match(debugOf(r) ?? '', /^contains a non-BIP68-final transaction /);
    assertResult(validate('regtest', 1, block(Uint8Array.of(0x51), { sequence: 1, locktime: 0 })), { mode: 'valid' });
  });

  it('testnet4 at a retarget height (2016): BIP94\'s timewarp rule needs the parent\'s time, so it is skipped, not failed', () => {
    const at = validate('testnet4', 2016, block(Uint8Array.of(0x02, 0xe0, 0x07), FINAL));
    assertResult(at, { mode: 'valid' });
    assert.ok(at.skipped.includes('time-timewarp-attack'));
    const after = validate('testnet4', 2017, block(Uint8Array.of(0x02, 0xe1, 0x07), FINAL));
    assertResult(after, { mode: 'valid' });
    assert.ok(!after.skipped.includes('time-timewarp-attack'));
  });
});

describe('BIP68 without the chain (validateBlock): locks decided by what is known are not skipped', () => {
  // Core's CalculateSequenceLocks takes the maximum over the inputs, and a coin made in the block has
  // the parent's median-time-past as its BIP68 time: neither needs the chain to fail these blocks.
  const T = 1_700_000_000;
  const OP_TRUE = Uint8Array.of(0x51);
  const input = (hash: Uint8Array, index: number, sequence: number): Transaction['inputs'][number] => ({ prevout: { hash, index }, scriptSig: new Uint8Array(0), sequence, witness: [] });
  /** Regtest block 10: a coinbase, tx 1 spending an OP_TRUE coin, tx 2 spending tx 1's output and `extra`. */
  function block(sequence: number, extra?: { sequence: number }): { raw: Uint8Array } {
    // Its scriptSig starts with OP_10, the BIP34 height.
    const coinbase = new Transaction(1, [{ ...input(new Uint8Array(32), 0xffffffff, 0xffffffff), scriptSig: Uint8Array.of(0x5a, 0x00) }], [{ value: 50e8, scriptPubKey: OP_TRUE }], 0);
    const tx1 = new Transaction(2, [input(new Uint8Array(32).fill(0x11), 0, 0xffffffff)], [{ value: 90_000, scriptPubKey: OP_TRUE }], 0);
    const ins = [input(tx1.txid(), 0, sequence)];
    if (extra !== undefined) ins.unshift(input(new Uint8Array(32).fill(0x22), 0, extra.sequence));
    const tx2 = new Transaction(2, ins, [{ value: 80_000, scriptPubKey: OP_TRUE }], 0);
    const txs = [coinbase, tx1, tx2];
    const root = blockMerkleRoot(new Block(A.block.header, txs)).root;
    return { raw: new Block(new BlockHeader(0x20000000, new Uint8Array(32), root, T, 0x207fffff, 0), txs).toBytes() };
  }
  // One spent output per input, in-block spends included (their entries are not read).
  const validate = (b: { raw: Uint8Array }, spent: SpentOutput[]): BlockReport => validateBlock(b.raw, spent, { network: 'regtest', height: 10, checkPow: false, now: T });

  it('a one-unit time lock on a coin of the same block is bad-txns-nonfinal; a zero-unit one is valid', () => {
    const coin: SpentOutput = { value: 100_000, scriptPubKey: OP_TRUE, height: 0, coinbase: false };
    assertResult(validate(block(0x00400000 | 1), [coin, coin]), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: 2 });
    assertResult(validate(block(0x00400000), [coin, coin]), { mode: 'valid' });
  });

  it('spent outputs without coin heights (bcoin undo): a failing height lock on a coin of the block, beside an input that opts out', () => {
    const noHeight: SpentOutput = { value: 100_000, scriptPubKey: OP_TRUE };
    // tx 2: input 0 (0xffffffff, its coin of unknown height) opts out; input 1 waits one block on tx 1's output.
    assertResult(validate(block(1, { sequence: 0xffffffff }), [noHeight, noHeight, noHeight]), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: 2 });
    const decided = validate(block(0, { sequence: 0xffffffff }), [noHeight, noHeight, noHeight]);
    assertResult(decided, { mode: 'valid' });
    // Every lock was decided: the coins of unknown height belong to inputs that opt out.
    assert.ok(!decided.skipped.includes('sequence-locks'), decided.skipped.join(', '));
    assert.ok(decided.skipped.includes('coinbase-maturity'));
    // A five-block lock on a coin of unknown height cannot be: valid, with the rule listed as skipped.
    const undecided = validate(block(0, { sequence: 5 }), [noHeight, noHeight, noHeight]);
    assertResult(undecided, { mode: 'valid' });
    assert.ok(undecided.skipped.includes('sequence-locks'), undecided.skipped.join(', '));
  });
});

describe('bad input', () => {
  const decodeFailed = (r: BlockReport): void => {
    assertResult(r, { mode: 'invalid', reason: 'block-decode-failed' });
    assert.equal(r.txs, 0);
  };

  it('a truncated block is block-decode-failed', () => {
    decodeFailed(validateBlock(A.raw.subarray(0, A.raw.length - 1), A.spent, { network: 'main' }));
    decodeFailed(validateBlock(A.raw.subarray(0, 80), A.spent, { network: 'main' }));
  });

  it('no bytes at all is block-decode-failed', () => {
    decodeFailed(validateBlock(new Uint8Array(0), [], { network: 'main' }));
  });

  it('random bytes are block-decode-failed', () => {
    // xorshift32, fixed seed: the same 1,000 bytes every run.
    let s = 0x9e3779b9;
    const bytes = new Uint8Array(1000).map(() => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return s & 0xff;
    });
    decodeFailed(validateBlock(bytes, [], { network: 'main' }));
  });

  it('a transaction count as an oversized CompactSize is block-decode-failed', () => {
    const header = A.raw.subarray(0, 80);
    for (const count of [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xfe, 0xff, 0xff, 0xff, 0xff], [0xfe, 0x01, 0x00, 0x00, 0x02]]) {
      const bytes = new Uint8Array([...header, ...count, ...A.raw.subarray(81)]);
      decodeFailed(validateBlock(bytes, A.spent, { network: 'main' }));
    }
  });

  it('bytes longer than MAX_BLOCK_SERIALIZED_SIZE are bad-blk-length, answered before decoding', async () => {
    const padded = (size: number): Uint8Array => {
      const bytes = new Uint8Array(size);
      bytes.set(A.raw);
      return bytes;
    };
    // At the limit the bytes are decoded (and the padding is data after the block); past it, not.
    decodeFailed(validateBlock(padded(MAX_BLOCK_SERIALIZED_SIZE), A.spent, { network: 'main' }));
    const over = padded(MAX_BLOCK_SERIALIZED_SIZE + 1);
    const runScripts = (): never => assert.fail('no script work for bytes that are not decoded');
    for (const r of [validateBlock(over, A.spent, { network: 'main' }), await validateBlockAsync(over, A.spent, { network: 'main', runScripts })]) {
      assertResult(r, { mode: 'invalid', reason: 'bad-blk-length' });
      assert.equal(r.txs, 0);
      assert.match(r.result.mode === 'invalid' ? (r.result.debug ?? '') : '', /4000001 bytes serialized/);
    }
  });

  it('no height given and none in the coinbase is misuse: MissingHeightError', () => {
    // Block 300025 with its coinbase's BIP34 push replaced by OP_1NEGATE (merkle root redone).
    const cb = A.block.txs[0]!;
    const script = Uint8Array.of(0x4f, ...cb.inputs[0]!.scriptSig.subarray(4));
    const raw = rebuildBlock(A.block, [withInput(cb, 0, { scriptSig: script }), ...A.block.txs.slice(1)]).toBytes();
    assert.throws(() => validateBlock(raw, A.spent, { network: 'main', checkPow: false }), MissingHeightError);
    // Given the height, the same block is judged: BIP34 finds the coinbase wrong.
    assertResult(validateBlock(raw, A.spent, { network: 'main', height: 300025, checkPow: false }), { mode: 'invalid', reason: 'bad-cb-height', txIndex: 0 });
  });

  it('a block from before BIP34 takes no height from its coinbase: MissingHeightError, judged once the height is given', () => {
    // Mainnet block 1 (btcd's blocks1-256.dat, first record): a version-1 coinbase pushes nBits
    // first, which reads as height 486,604,799; judged there, the block would be bad-version.
    const file = readVector('btcd', 'blocks1-256.dat');
    const block1 = file.subarray(8, 8 + new DataView(file.buffer, file.byteOffset + 4, 4).getUint32(0, true));
    assert.equal(coinbaseHeight(Block.read(new ByteReader(block1))), 486_604_799);
    assert.throws(() => validateBlock(block1, [], { network: 'main' }), MissingHeightError);
    assertResult(validateBlock(block1, [], { network: 'main', height: 1 }), { mode: 'valid' });
    // Block 300025 as version 1: no height is taken from the coinbase either.
    const v1 = rebuildBlock(A.block, A.block.txs, { header: { version: 1 } }).toBytes();
    assert.throws(() => validateBlock(v1, A.spent, { network: 'main', checkPow: false }), MissingHeightError);
    assertResult(validateBlock(v1, A.spent, { network: 'main', height: 300025, checkPow: false }), { mode: 'invalid', reason: 'bad-version(0x00000001)' });
    // A version-2 coinbase pushing a height below mainnet's BIP34 height (227,931) proves nothing:
    // a block there was free to push anything first.
    const cb = A.block.txs[0]!;
    const below = Uint8Array.of(0x03, 0x5a, 0x7a, 0x03, ...cb.inputs[0]!.scriptSig.subarray(4)); // 227,930
    const early = rebuildBlock(A.block, [withInput(cb, 0, { scriptSig: below }), ...A.block.txs.slice(1)]).toBytes();
    assert.equal(coinbaseHeight(Block.read(new ByteReader(early))), 227_930);
    assert.throws(() => validateBlock(early, A.spent, { network: 'main', checkPow: false }), MissingHeightError);
    // At the BIP34 height itself the push is the block's height, as ever.
    const at = Uint8Array.of(0x03, 0x5b, 0x7a, 0x03, ...cb.inputs[0]!.scriptSig.subarray(4)); // 227,931
    const first = rebuildBlock(A.block, [withInput(cb, 0, { scriptSig: at }), ...A.block.txs.slice(1)]).toBytes();
    assert.equal(validateBlock(first, A.spent, { network: 'main', checkPow: false }).height, 227_931);
  });

  it('coinbaseHeight reads the first push as a script number: OP_0 is 0, a negative number is no height', () => {
    const cb = A.block.txs[0]!;
    const rest = cb.inputs[0]!.scriptSig.subarray(4);
    const first = (push: number[]): number | undefined =>
      coinbaseHeight(new Block(A.block.header, [withInput(cb, 0, { scriptSig: Uint8Array.of(...push, ...rest) }), ...A.block.txs.slice(1)]));
    assert.equal(first([0x03, 0xf9, 0x93, 0x04]), 300_025);
    assert.equal(first([0x00]), 0);
    assert.equal(first([0x51]), 1);
    assert.equal(first([0x60]), 16);
    // The sign bit of the last byte: -300,025 and -1 are no heights, and 0x80 0x00 is +128.
    assert.equal(first([0x03, 0xf9, 0x93, 0x84]), undefined);
    assert.equal(first([0x01, 0x81]), undefined);
    assert.equal(first([0x02, 0x80, 0x00]), 128);
  });

  it('a spent list of the wrong length is misuse: RangeError', () => {
    assert.throws(() => validateBlock(A.raw, A.spent.slice(1), { network: 'main' }), RangeError);
    assert.throws(() => validateBlock(A.raw, [...A.spent, A.spent[0]!], { network: 'main' }), RangeError);
  });

  it('bytes or spent outputs of the wrong type are misuse, thrown on every path, never a verdict on the block', async () => {
    const runScripts = (): Promise<never> => Promise.reject(new Error('not reached'));
    // An ArrayBuffer, a DataView, a hex string longer than a block may be: each read as bytes of no length before.
    const buf = A.raw.buffer.slice(A.raw.byteOffset, A.raw.byteOffset + A.raw.length);
    for (const raw of [buf, new DataView(buf), 'ab'.repeat(MAX_BLOCK_SERIALIZED_SIZE)] as unknown as Uint8Array[]) {
      assert.throws(() => validateBlock(raw, A.spent, { network: 'main' }), TypeError);
      await assert.rejects(validateBlockAsync(raw, A.spent, { network: 'main', runScripts }), TypeError);
    }
    // Amounts as strings (JSON), scripts as hex, holes: the block was answered invalid, or an error, by path.
    const first = A.spent[0]!;
    const shapes = [
      [{ ...first, value: String(first.value) }, ...A.spent.slice(1)],
      [{ ...first, scriptPubKey: hashToHex(first.scriptPubKey) }, ...A.spent.slice(1)],
      [null, ...A.spent.slice(1)],
    ] as unknown as SpentOutput[][];
    for (const spent of shapes) {
      assert.throws(() => validateBlock(A.raw, spent, { network: 'main' }), /spentOutputs\[0\] must be/);
      await assert.rejects(validateBlockAsync(A.raw, spent, { network: 'main', runScripts }), /spentOutputs\[0\] must be/);
    }
  });
});

function findInBlock(block: Block, txid: Uint8Array): number {
  return block.txs.findIndex((tx) => equalBytes(tx.txid(), txid));
}
