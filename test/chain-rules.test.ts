// Every block rule on a chain-backed store: block 112 of a generated regtest chain, altered just
// enough to break one rule and re-mined, must get Core's result kind and reject reason and leave the
// tip and the UTXO digest as they were; other bytes under the genuine header must not poison its hash.

import { after, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { ChainState, type ProcessResult } from '../src/chain/chain-state.js';
import { checkProofOfWork } from '../src/consensus/pow.js';
import { PARAMS } from '../src/consensus/params.js';
import { getLegacySigOpCount } from '../src/consensus/sigops.js';
import type { ValidationResult } from '../src/consensus/validation.js';
import { Block, BlockHeader, blockMerkleRoot, decodeBlock } from '../src/primitives/block.js';
import { equalBytes, hashToHex, toHex } from '../src/primitives/bytes.js';
import type { Transaction } from '../src/primitives/transaction.js';
import { compactSizeLength } from '../src/primitives/writer.js';
import { BLOCK_FAILED_CHILD, BLOCK_FAILED_VALID } from '../src/store/index.js';
import type { GeneratedBlock, GeneratedCoin } from '../src/generate/index.js';
import { merkleTwin, type MerkleTwin } from './helpers/chain-rules.js';
import { branch, remine, tempDir } from './helpers/regtest-chain.js';
import {
  alterTx,
  corruptScriptSigSignature,
  corruptSignature,
  duplicateTail,
  findInBlockSpend,
  rebuildBlock,
  withInput,
  withOutput,
  type RebuildOptions,
} from './helpers/alter-block.js';

// Blocks 1..100 hold only coinbases; from 101 on, twelve transactions of every output type, some
// spending coins made earlier in their own block. Block 113 is only for the bad-prevblk case.
const SEED = 'chain-rules';
const blocks = branch(SEED, 113, 12);
const HEIGHT = 112;
const next = blocks[HEIGHT - 1]!;
const txs = next.block.txs;
const EVAL_FALSE = 'block-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)';

// Median-time-past from the generated timestamps (Core's GetMedianTimePast: the median of the
// block and up to ten before it), independent of the engine's own count.
const genesis = PARAMS.regtest.genesisBlock;
const times = [new DataView(genesis.buffer, genesis.byteOffset, 80).getUint32(68, true), ...blocks.map((b) => b.block.header.time)];
function medianTimePast(height: number): number {
  const window = times.slice(Math.max(0, height - 10), height + 1).sort((a, b) => a - b);
  return window[Math.floor(window.length / 2)]!;
}
const prevMTP = medianTimePast(HEIGHT - 1);

interface Expected {
  mode: 'valid' | 'invalid' | 'mutated' | 'error';
  reason?: string;
  txIndex?: number;
  inputIndex?: number;
}

/** The result's kind, reason and position, exactly: a position the test does not expect must be absent. */
function assertResult(r: ValidationResult, expected: Expected, debug?: string | RegExp): void {
  const got: Expected = { mode: r.mode };
  if (r.mode !== 'valid') got.reason = r.reason;
  if (r.mode === 'invalid' && r.txIndex !== undefined) got.txIndex = r.txIndex;
  if (r.mode === 'invalid' && r.inputIndex !== undefined) got.inputIndex = r.inputIndex;
  const text = r.mode === 'valid' ? '' : (r.debug ?? '');
  assert.deepEqual(got, expected, `debug: ${text}`);
  if (typeof debug === 'string') assert.equal(text, debug);
  else if (debug !== undefined) assert.match(text, debug);
}

async function openChain(): Promise<{ chain: ChainState; close: () => Promise<void> }> {
  const tmp = tempDir('vigil-chain-rules-');
  // No fsync: these tests are about verdicts, not durability (crash.test.ts covers that), and the
  // eight feeds of 111 blocks would otherwise spend most of their time waiting on the disk.
  const chain = await ChainState.open(tmp.dir, { network: 'regtest', noSync: true });
  return {
    chain,
    close: async () => {
      await chain.close();
      tmp.remove();
    },
  };
}

async function feed(chain: ChainState, list: readonly GeneratedBlock[]): Promise<void> {
  for (const b of list) {
    const r = await chain.processBlock(b.raw);
    assert.equal(r.result.mode, 'valid', `block ${b.height}: ${JSON.stringify(r.result)}`);
  }
}

/** The coin input `j` of transaction `i` of block 112 spends (the generator's record). */
function coin(i: number, j: number): GeneratedCoin {
  return next.spent[i]![j]!;
}

/** The first non-coinbase transaction of block 112 matching `pred`. */
function findTx(what: string, pred: (tx: Transaction, i: number) => boolean): number {
  const i = txs.findIndex((tx, k) => k > 0 && pred(tx, k));
  assert.ok(i > 0, `block 112 has ${what}`);
  return i;
}

/** Whether another transaction of block 112 spends an output of transaction `i`. */
function hasChildren(i: number): boolean {
  const txid = txs[i]!.txid();
  return txs.some((tx) => tx.inputs.some((input) => equalBytes(input.prevout.hash, txid)));
}

/** Block 112's transactions with transaction `i` replaced. */
function replaced(i: number, tx: Transaction): Transaction[] {
  const out = txs.slice();
  out[i] = tx;
  return out;
}

/** Block 112 with `list` as its transactions (merkle root and witness commitment recomputed), re-mined. */
function altered(list: readonly Transaction[], opts: RebuildOptions = {}): Block {
  return remine(rebuildBlock(next.block, list, opts));
}

/** BIP141 weight from the two serializations, independent of the engine's own count. */
function weightOf(block: Block): number {
  return block.toBytes(false).length * 3 + block.toBytes(true).length;
}

function legacySigOps(list: readonly Transaction[]): number {
  return list.reduce((n, tx) => n + getLegacySigOpCount(tx), 0);
}

// A one-input P2WPKH spend of a coin from before block 112 whose outputs nothing in the block spends:
// a new txid breaks nothing else, and a new sequence, locktime or version breaks only its own
// signature (every sighash type commits to all three for the input it signs).
const single = findTx('a one-input P2WPKH spend of an older coin, with no child in the block', (tx, i) => tx.inputs.length === 1 && coin(i, 0).type === 'p2wpkh' && coin(i, 0).height < HEIGHT && !hasChildren(i));

describe('block 112 altered one rule at a time, on one chain-backed store at height 111', () => {
  let chain: ChainState;
  let close: () => Promise<void>;
  let tip: string;
  let digest: string;

  before(async () => {
    ({ chain, close } = await openChain());
    await feed(chain, blocks.slice(0, HEIGHT - 1));
    tip = chain.tip.hex;
    digest = toHex(chain.utxoDigest());
    assert.equal(chain.tip.height, HEIGHT - 1);
  });

  after(async () => {
    await close();
  });

  function assertUnchanged(r: ProcessResult, what: string): void {
    assert.deepEqual(r.tip, { hash: tip, height: HEIGHT - 1 }, `${what}: reported tip`);
    assert.equal(chain.tip.hex, tip, `${what}: tip unchanged`);
    assert.equal(toHex(chain.utxoDigest()), digest, `${what}: UTXO digest unchanged`);
  }

  /**
   * Submit `block`, expect `expected` with the tip and digest unchanged, then submit it again.
   * A block that fails ContextualCheckBlock or ConnectBlock is indexed and marked invalid, and
   * answered "duplicate-invalid" again (Core since v28, "duplicate" before: AcceptBlock marks it
   * BLOCK_FAILED_VALID). One that fails its header checks or CheckBlock, or whose parent is invalid
   * (`indexed` false), never reaches the index (Core's ProcessNewBlock and AcceptBlockHeader return
   * before it), so the same reason is found again. High-hash and mutated blocks are never
   * remembered: the same answer again.
   */
  async function rejects(block: Block, expected: Expected, debug?: string | RegExp, indexed = true): Promise<void> {
    const raw = block.toBytes();
    const r = await chain.processBlock(raw);
    assert.equal(r.hash, hashToHex(block.hash()));
    assert.equal(r.duplicate, false, 'a new block');
    assertResult(r.result, expected, debug);
    assertUnchanged(r, 'first submission');
    const again = await chain.processBlock(raw);
    if (expected.mode === 'invalid' && indexed) {
      assert.deepEqual([again.result.mode, again.result.mode === 'invalid' && again.result.reason, again.duplicate], ['invalid', 'duplicate-invalid', true], `resubmission: ${JSON.stringify(again.result)}`);
    } else {
      assertResult(again.result, expected);
      assert.equal(again.duplicate, false, 'never remembered');
    }
    assertUnchanged(again, 'resubmission');
  }

  /** rejects() for a block Core never indexes: one that fails its header checks or CheckBlock, or whose parent is invalid. */
  const rejectsUnindexed = (block: Block, expected: Expected, debug?: string | RegExp): Promise<void> => rejects(block, expected, debug, false);

  describe('CheckBlockHeader and ContextualCheckBlockHeader', () => {
    it('high-hash: block 112 with a nonce that misses the regtest target (not re-mined)', async () => {
      const h = next.block.header;
      let nonce = 0;
      while (checkProofOfWork(new BlockHeader(h.version, h.prevBlock, h.merkleRoot, h.time, h.bits, nonce).hash(), h.bits, PARAMS.regtest)) nonce++;
      const block = rebuildBlock(next.block, txs, { header: { nonce } });
      await rejectsUnindexed(block, { mode: 'invalid', reason: 'high-hash' });
    });

    it('bad-diffbits: bits 0x207ffffe (a harder target than regtest’s fixed 0x207fffff), met by the re-mined hash', async () => {
      await rejectsUnindexed(altered(txs, { header: { bits: 0x207ffffe } }), { mode: 'invalid', reason: 'bad-diffbits' });
    });

    it('time-too-old: a timestamp equal to the median-time-past of the last eleven blocks', async () => {
      await rejectsUnindexed(altered(txs, { header: { time: prevMTP } }), { mode: 'invalid', reason: 'time-too-old' });
    });

    it('bad-version(0x00000001) and bad-version(0x00000003): BIP34 and BIP65 apply from height 1 on regtest', async () => {
      await rejectsUnindexed(altered(txs, { header: { version: 1 } }), { mode: 'invalid', reason: 'bad-version(0x00000001)' });
      await rejectsUnindexed(altered(txs, { header: { version: 3 } }), { mode: 'invalid', reason: 'bad-version(0x00000003)' });
    });
  });

  describe('CheckBlock', () => {
    it('bad-cb-missing: the coinbase prevout index set to 0, so the first transaction is no coinbase', async () => {
      const cb = txs[0]!;
      const block = altered(replaced(0, withInput(cb, 0, { prevout: { hash: cb.inputs[0]!.prevout.hash, index: 0 } })));
      await rejectsUnindexed(block, { mode: 'invalid', reason: 'bad-cb-missing' });
    });

    it('bad-cb-multiple: a one-input transaction spending the null outpoint', async () => {
      const block = altered(replaced(single, withInput(txs[single]!, 0, { prevout: { hash: new Uint8Array(32), index: 0xffffffff } })));
      await rejectsUnindexed(block, { mode: 'invalid', reason: 'bad-cb-multiple', txIndex: single });
    });

    it('bad-txns-inputs-duplicate (CVE-2018-17144): a transaction spending its first outpoint twice', async () => {
      const i = findTx('a transaction with two inputs', (tx) => tx.inputs.length >= 2);
      const tx = txs[i]!;
      await rejectsUnindexed(altered(replaced(i, withInput(tx, 1, { prevout: tx.inputs[0]!.prevout }))), { mode: 'invalid', reason: 'bad-txns-inputs-duplicate', txIndex: i });
    });

    it('bad-blk-sigops: an output of OP_CHECKSIGs on the last transaction taking legacy sigops to 20,001', async () => {
      const last = txs.length - 1;
      const tx = txs[last]!;
      const pad = new Uint8Array(20_001 - legacySigOps(txs)).fill(0xac);
      const list = replaced(last, alterTx(tx, { outputs: [...tx.outputs, { value: 0, scriptPubKey: pad }] }));
      assert.equal(legacySigOps(list), 20_001);
      await rejectsUnindexed(altered(list), { mode: 'invalid', reason: 'bad-blk-sigops' }, 'out-of-bounds SigOpCount');
    });
  });

  describe('ContextualCheckBlock', () => {
    it('bad-txns-nonfinal: nLockTime 112 (the block’s height) with a non-final sequence; 111 is final', async () => {
      const tx = txs[single]!;
      assert.notEqual(tx.inputs[0]!.sequence, 0xffffffff);
      await rejects(altered(replaced(single, alterTx(tx, { locktime: HEIGHT }))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single }, 'non-final transaction');
      // One less is final; the new locktime then only breaks the input's signature.
      await rejects(altered(replaced(single, alterTx(tx, { locktime: HEIGHT - 1 }))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-nonfinal: a time lock equal to the parent’s median-time-past (BIP113); one second less is final', async () => {
      const tx = txs[single]!;
      await rejects(altered(replaced(single, alterTx(tx, { locktime: prevMTP }))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single });
      await rejects(altered(replaced(single, alterTx(tx, { locktime: prevMTP - 1 }))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-nonfinal: every sequence final makes nLockTime 112 final too', async () => {
      const tx = txs[single]!;
      const list = replaced(single, alterTx(withInput(tx, 0, { sequence: 0xffffffff }), { locktime: HEIGHT }));
      await rejects(altered(list), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-nonfinal: nLockTime 499,999,999 is a height; 500,000,000 (LOCKTIME_THRESHOLD) is a time, long past', async () => {
      // Core's IsFinalTx: nLockTime < LOCKTIME_THRESHOLD ? nBlockHeight : nBlockTime.
      const tx = txs[single]!;
      assert.ok(prevMTP > 500_000_000);
      await rejects(altered(replaced(single, alterTx(tx, { locktime: 499_999_999 }))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single }, 'non-final transaction');
      await rejects(altered(replaced(single, alterTx(tx, { locktime: 500_000_000 }))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-nonfinal: one final sequence among the inputs does not make nLockTime 112 final; all of them must be', async () => {
      const i = findTx('a transaction with two inputs', (tx) => tx.inputs.length >= 2);
      const tx = txs[i]!;
      const locked = alterTx(withInput(withInput(tx, 0, { sequence: 0xffffffff }), 1, { sequence: 0xfffffffe }), { locktime: HEIGHT });
      await rejects(altered(replaced(i, locked)), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: i }, 'non-final transaction');
    });

    it('bad-cb-height: a coinbase claiming height 113', async () => {
      const cb = txs[0]!;
      const sig = cb.inputs[0]!.scriptSig.slice();
      assert.deepEqual([...sig.subarray(0, 2)], [0x01, HEIGHT], 'push of 112');
      sig[1] = HEIGHT + 1;
      await rejects(altered(replaced(0, withInput(cb, 0, { scriptSig: sig }))), { mode: 'invalid', reason: 'bad-cb-height', txIndex: 0 });
    });

    it('unexpected-witness (mutated): the witness commitment output dropped from the coinbase', async () => {
      const cb = txs[0]!;
      const last = cb.outputs[cb.outputs.length - 1]!.scriptPubKey;
      assert.deepEqual([...last.subarray(0, 6)], [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed], 'the commitment is the last output');
      const block = altered(replaced(0, alterTx(cb, { outputs: cb.outputs.slice(0, -1) })));
      await rejects(block, { mode: 'mutated', reason: 'unexpected-witness' });
      assert.equal(chain.getNode(hashToHex(block.hash())), undefined, 'a mutated block is not indexed');
    });

    /** Block 112 with an extra witness item on the P2WPKH input making it weigh `target`. */
    function weighing(target: number): Block {
      const need = target - weightOf(next.block);
      let len = need - 1;
      while (len + compactSizeLength(len) > need) len--;
      assert.equal(len + compactSizeLength(len), need);
      const tx = txs[single]!;
      const block = altered(replaced(single, withInput(tx, 0, { witness: [...tx.inputs[0]!.witness, new Uint8Array(len)] })));
      assert.equal(weightOf(block), target);
      return block;
    }

    it('bad-blk-weight: a witness padded to a block weight of 4,000,001; at 4,000,000 only the script fails', async () => {
      await rejects(weighing(4_000_001), { mode: 'invalid', reason: 'bad-blk-weight' });
      // BIP141: a P2WPKH witness of three items is a program mismatch.
      await rejects(weighing(4_000_000), {
        mode: 'invalid',
        reason: 'block-script-verify-flag-failed (Witness program hash mismatch)',
        txIndex: single,
        inputIndex: 0,
      });
    });
  });

  describe('ConnectBlock', () => {
    it('bad-txns-BIP30: a copy of block 111’s last transaction, whose outputs are unspent, appended', async () => {
      // BIP30 stays on for all of regtest: its BIP34 hash is null, so no ancestor matches it.
      const old = blocks[HEIGHT - 2]!.block.txs;
      const copy = old[old.length - 1]!;
      assert.ok(copy.outputs.some((o) => o.scriptPubKey[0] !== 0x6a));
      await rejects(altered([...txs, copy]), { mode: 'invalid', reason: 'bad-txns-BIP30', txIndex: txs.length }, 'tried to overwrite transaction');
    });

    it('bad-txns-inputs-missingorspent: a coin that never existed', async () => {
      const block = altered(replaced(single, withInput(txs[single]!, 0, { prevout: { hash: new Uint8Array(32).fill(7), index: 3 } })));
      await rejects(block, { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-inputs-missingorspent: a coin block 111 spent', async () => {
      const prev = blocks[HEIGHT - 2]!;
      assert.ok(prev.spent[1]![0]!.height < HEIGHT - 1, 'a coin from before block 111');
      const prevout = prev.block.txs[1]!.inputs[0]!.prevout;
      const block = altered(replaced(single, withInput(txs[single]!, 0, { prevout })));
      await rejects(block, { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-inputs-missingorspent: a later transaction spending the older coin an earlier one spends (double spend in the block)', async () => {
      const first = findTx('a transaction spending an older coin first', (_, i) => coin(i, 0).height < HEIGHT);
      const thief = first + 1;
      const block = altered(replaced(thief, withInput(txs[thief]!, 0, { prevout: txs[first]!.inputs[0]!.prevout })));
      await rejects(block, { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: thief, inputIndex: 0 });
    });

    it('bad-txns-inputs-missingorspent: a child moved before its parent', async () => {
      const spend = findInBlockSpend(next.block);
      assert.ok(spend !== undefined, 'block 112 has an in-block spend');
      const { parent, child } = spend;
      // The child fails at its first input spending a transaction now after it.
      const later = txs.slice(parent, child).map((tx) => tx.txid());
      const input = txs[child]!.inputs.findIndex((i) => later.some((id) => equalBytes(id, i.prevout.hash)));
      const moved = [...txs.slice(0, parent), txs[child]!, ...txs.slice(parent, child), ...txs.slice(child + 1)];
      await rejects(altered(moved), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: parent, inputIndex: input });
    });

    it('bad-txns-inputs-missingorspent: a coin made in the block spent twice', async () => {
      const spend = findInBlockSpend(next.block);
      assert.ok(spend !== undefined && spend.child + 1 < txs.length);
      const prevout = txs[spend.child]!.inputs[spend.input]!.prevout;
      const thief = spend.child + 1;
      await rejects(altered(replaced(thief, withInput(txs[thief]!, 0, { prevout }))), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: thief, inputIndex: 0 });
    });

    it('bad-txns-inputs-missingorspent: output n of an earlier transaction in the block that has n outputs', async () => {
      const parent = txs[1]!;
      const prevout = { hash: parent.txid(), index: parent.outputs.length };
      await rejects(altered(replaced(2, withInput(txs[2]!, 0, { prevout }))), { mode: 'invalid', reason: 'bad-txns-inputs-missingorspent', txIndex: 2, inputIndex: 0 });
    });

    it('bad-txns-premature-spend-of-coinbase: block 13’s coinbase at depth 99 (block 112 itself spends one at depth 100)', async () => {
      assert.ok(next.spent.flat().some((c) => c.coinbase && c.height === HEIGHT - 100), 'the genuine block spends a coinbase exactly 100 deep');
      const prevout = { hash: blocks[12]!.block.txs[0]!.txid(), index: 0 };
      const block = altered(replaced(single, withInput(txs[single]!, 0, { prevout })));
      await rejects(
        block,
        { mode: 'invalid', reason: 'bad-txns-premature-spend-of-coinbase', txIndex: single, inputIndex: 0 },
        new RegExp(`^tried to spend coinbase at depth 99 in transaction ${hashToHex(block.txs[single]!.txid())}$`),
      );
    });

    it('bad-txns-in-belowout: a transaction paying out one satoshi more than its inputs', async () => {
      const tx = txs[single]!;
      const valueIn = next.spent[single]!.reduce((n, c) => n + c.value, 0);
      const valueOut = tx.outputs.reduce((n, o) => n + o.value, 0);
      const block = altered(replaced(single, withOutput(tx, 0, { value: tx.outputs[0]!.value + valueIn - valueOut + 1 })));
      await rejects(block, { mode: 'invalid', reason: 'bad-txns-in-belowout', txIndex: single }, new RegExp(`^value in \\(${valueIn}\\) < value out \\(${valueIn + 1}\\)`));
    });

    it('a transaction paying no fee at all is not bad-txns-in-belowout (its value in equals its value out)', async () => {
      // Core's CheckTxInputs: nValueIn < value_out. The coinbase gives up the fee the transaction no longer pays.
      const tx = txs[single]!;
      const cb = txs[0]!;
      const valueIn = next.spent[single]!.reduce((n, c) => n + c.value, 0);
      const fee = valueIn - tx.outputs.reduce((n, o) => n + o.value, 0);
      assert.ok(fee > 0);
      const list = replaced(single, withOutput(tx, 0, { value: tx.outputs[0]!.value + fee }));
      list[0] = withOutput(cb, 0, { value: cb.outputs[0]!.value - fee });
      // The new outputs break only the input's signature.
      await rejects(altered(list), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    let overpaid: Block | undefined;

    it('bad-cb-amount: a coinbase claiming one satoshi more than the subsidy plus fees', async () => {
      const cb = txs[0]!;
      const limit = 50e8 + next.fees;
      assert.equal(cb.outputs.reduce((n, o) => n + o.value, 0), limit, 'the genuine coinbase claims exactly the limit');
      overpaid = altered(replaced(0, withOutput(cb, 0, { value: cb.outputs[0]!.value + 1 })));
      await rejects(overpaid, { mode: 'invalid', reason: 'bad-cb-amount', txIndex: 0 }, `coinbase pays too much (actual=${limit + 1} vs limit=${limit})`);
    });

    it('bad-prevblk: block 113 re-mined on top of the overpaying block 112', async () => {
      assert.ok(overpaid !== undefined);
      const child = remine(rebuildBlock(blocks[HEIGHT]!.block, blocks[HEIGHT]!.block.txs, { header: { prevBlock: overpaid.hash() } }));
      // Core's AcceptBlockHeader answers before AddToBlockIndex: not indexed, the same answer again.
      await rejectsUnindexed(child, { mode: 'invalid', reason: 'bad-prevblk' });
      assert.equal(chain.getNode(hashToHex(child.hash())), undefined, 'not in the block index');
    });

    // BIP68: a version-2 input whose sequence has bit 31 clear is locked for (sequence & 0xffff)
    // blocks (bit 22 clear) or 512-second units (bit 22 set) after its coin's block. The altered
    // transaction's signature is wrong too; the lock must be found first (scripts run last).
    const sequenceLock = (tx: Transaction, units: number, version = 2): Transaction => alterTx(withInput(tx, 0, { sequence: units }), { version });

    it('bad-txns-nonfinal (BIP68): a height lock one block longer than the coin’s age; as long as its age, or in version 1, no lock', async () => {
      const tx = txs[single]!;
      const age = HEIGHT - coin(single, 0).height;
      await rejects(altered(replaced(single, sequenceLock(tx, age + 1))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single }, /^contains a non-BIP68-final transaction /);
      await rejects(altered(replaced(single, sequenceLock(tx, age))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
      await rejects(altered(replaced(single, sequenceLock(tx, age + 1, 1))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-nonfinal (BIP68): versions are read unsigned, so 0xffffffff and 0x80000000 enforce the lock as version 2 does', async () => {
      // Core's CalculateSequenceLocks: static_cast<uint32_t>(tx.version) >= 2 (version is serialized as int32).
      const tx = txs[single]!;
      const age = HEIGHT - coin(single, 0).height;
      for (const version of [-1, -0x80000000]) {
        await rejects(altered(replaced(single, sequenceLock(tx, age + 1, version))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single }, /^contains a non-BIP68-final transaction /);
      }
    });

    it('bad-txns-nonfinal (BIP68): only the low 16 bits of the sequence count; bits 16 to 21 are ignored', async () => {
      // Core: SEQUENCE_LOCKTIME_MASK = 0x0000ffff.
      const tx = txs[single]!;
      const age = HEIGHT - coin(single, 0).height;
      await rejects(altered(replaced(single, sequenceLock(tx, 0x003f0000 | (age + 1)))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single });
      await rejects(altered(replaced(single, sequenceLock(tx, 0x003f0000 | age))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-txns-nonfinal (BIP68): a time lock reaching the parent’s median-time-past; one unit less is not locked', async () => {
      const tx = txs[single]!;
      // The coin's time is the median-time-past of the block before the one that made it.
      const coinTime = medianTimePast(coin(single, 0).height - 1);
      const units = Math.ceil((prevMTP - coinTime + 1) / 512);
      assert.ok(units >= 1 && units <= 0xffff);
      await rejects(altered(replaced(single, sequenceLock(tx, (1 << 22) | units))), { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: single });
      await rejects(altered(replaced(single, sequenceLock(tx, (1 << 22) | (units - 1)))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('bad-blk-sigops (ConnectBlock): legacy sigops at exactly 20,000, passed by CheckBlock, then P2SH and witness sigops', async () => {
      const last = txs.length - 1;
      const tx = txs[last]!;
      const legacy = legacySigOps(txs);
      assert.ok(next.sigOpCost - 4 * legacy > 0, 'the block has P2SH or witness sigops');
      const pad = new Uint8Array(20_000 - legacy).fill(0xac);
      const list = replaced(last, alterTx(tx, { outputs: [...tx.outputs, { value: 0, scriptPubKey: pad }] }));
      assert.equal(legacySigOps(list), 20_000);
      // The cost reaches 80,000 from legacy sigops only once the last transaction is counted.
      await rejects(altered(list), { mode: 'invalid', reason: 'bad-blk-sigops', txIndex: last }, 'too many sigops');
    });

    it('block-script-verify-flag-failed: a corrupted P2WPKH witness signature (the txid unchanged)', async () => {
      const tx = txs[single]!;
      const witness = tx.inputs[0]!.witness.slice();
      witness[0] = corruptSignature(witness[0]!);
      await rejects(altered(replaced(single, withInput(tx, 0, { witness }))), { mode: 'invalid', reason: EVAL_FALSE, txIndex: single, inputIndex: 0 });
    });

    it('block-script-verify-flag-failed: a corrupted taproot key-path signature', async () => {
      const i = findTx('a taproot key-path spend', (tx, k) => tx.inputs.some((_, j) => coin(k, j).type === 'p2tr-key'));
      const j = txs[i]!.inputs.findIndex((_, k) => coin(i, k).type === 'p2tr-key');
      const tx = txs[i]!;
      const sig = tx.inputs[j]!.witness[0]!.slice();
      sig[0]! ^= 0x01;
      const block = altered(replaced(i, withInput(tx, j, { witness: [sig] })));
      await rejects(block, { mode: 'invalid', reason: 'block-script-verify-flag-failed (Invalid Schnorr signature)', txIndex: i, inputIndex: j });
    });

    it('block-script-verify-flag-failed: a corrupted P2PKH scriptSig signature, in a transaction nothing in the block spends', async () => {
      const i = findTx('a P2PKH spend without children in the block', (tx, k) => !hasChildren(k) && tx.inputs.some((_, j) => coin(k, j).type === 'p2pkh'));
      const tx = txs[i]!;
      const j = tx.inputs.findIndex((_, k) => coin(i, k).type === 'p2pkh');
      const block = altered(replaced(i, withInput(tx, j, { scriptSig: corruptScriptSigSignature(tx.inputs[j]!.scriptSig) })));
      await rejects(block, { mode: 'invalid', reason: EVAL_FALSE, txIndex: i, inputIndex: j });
    });
  });

  it('after all of that, the genuine blocks 112 and 113 connect, with the digest of a chain that never saw a bad block', async () => {
    const r = await chain.processBlock(next.raw);
    assertResult(r.result, { mode: 'valid' });
    assert.equal(r.duplicate, false);
    assert.deepEqual(r.tip, { hash: hashToHex(next.hash), height: HEIGHT });
    assert.notEqual(toHex(chain.utxoDigest()), digest);
    await feed(chain, [blocks[HEIGHT]!]);
    assert.equal(chain.tip.height, HEIGHT + 1);
    const clean = await openChain();
    try {
      await feed(clean.chain, blocks);
      assert.equal(toHex(chain.utxoDigest()), toHex(clean.chain.utxoDigest()));
      assert.equal(chain.tip.hex, clean.chain.tip.hex);
    } finally {
      await clean.close();
    }
  });
});

describe('the BIP34 and CSV heights themselves: regtest block 1 on a fresh chain', () => {
  // Regtest buries BIP34 and CSV at height 1: block 1 is the first block each applies to (Core's
  // DeploymentActiveAfter(pindexPrev) for a block at the buried height).
  const first = blocks[0]!;
  const cb = first.block.txs[0]!;
  let chain: ChainState;
  let close: () => Promise<void>;
  const genesisHex = hashToHex(PARAMS.regtest.genesisHash);

  before(async () => {
    ({ chain, close } = await openChain());
  });

  after(async () => {
    await close();
  });

  /** Block 1 with its coinbase replaced (merkle root and witness commitment redone), re-mined. */
  const withCoinbase = (coinbase: Transaction): Block => remine(rebuildBlock(first.block, [coinbase, ...first.block.txs.slice(1)]));

  it('bad-cb-height: block 1 whose coinbase starts with OP_2 instead of OP_1', async () => {
    const sig = cb.inputs[0]!.scriptSig.slice();
    assert.equal(sig[0], 0x51, 'CScript() << 1 is OP_1');
    sig[0] = 0x52;
    const r = await chain.processBlock(withCoinbase(withInput(cb, 0, { scriptSig: sig })).toBytes());
    assertResult(r.result, { mode: 'invalid', reason: 'bad-cb-height', txIndex: 0 }, 'block height mismatch in coinbase');
    assert.equal(chain.tip.hex, genesisHex);
  });

  it('bad-txns-nonfinal (BIP113): block 1 with its coinbase time-locked to genesis’s time, its parent’s median-time-past, though before its own time', async () => {
    const genesisTime = times[0]!;
    assert.equal(medianTimePast(0), genesisTime);
    assert.ok(first.block.header.time > genesisTime);
    const locked = (locktime: number): Block => withCoinbase(alterTx(withInput(cb, 0, { sequence: 0 }), { locktime }));
    const r = await chain.processBlock(locked(genesisTime).toBytes());
    assertResult(r.result, { mode: 'invalid', reason: 'bad-txns-nonfinal', txIndex: 0 }, 'non-final transaction');
    assert.equal(chain.tip.hex, genesisHex);
    // One second earlier the lock has passed: the block connects.
    const ok = await chain.processBlock(locked(genesisTime - 1).toBytes());
    assertResult(ok.result, { mode: 'valid' });
    assert.equal(chain.tip.height, 1);
  });
});

describe('mutated copies under the genuine header do not poison its hash (a fresh chain each)', () => {
  /**
   * `bytes` under `genuine`'s exact header: rejected (as `expected`, when given) with the tip and
   * digest unchanged and the hash not marked failed; then `genuine` itself connects.
   */
  async function mutatedThenGenuine(bytes: Uint8Array, genuine: Block, expected?: Expected): Promise<void> {
    assert.ok(equalBytes(bytes.subarray(0, 80), genuine.header.toBytes()), 'the header is the genuine block’s');
    const hash = hashToHex(genuine.hash());
    const { chain, close } = await openChain();
    try {
      await feed(chain, blocks.slice(0, HEIGHT - 1));
      const tip = chain.tip.hex;
      const digest = toHex(chain.utxoDigest());
      const r = await chain.processBlock(bytes);
      assert.equal(r.hash, hash);
      if (expected !== undefined) assertResult(r.result, expected);
      else assert.notEqual(r.result.mode, 'valid');
      assert.equal(chain.tip.hex, tip);
      assert.equal(toHex(chain.utxoDigest()), digest);
      const node = chain.getNode(hash);
      assert.equal((node?.status ?? 0) & (BLOCK_FAILED_VALID | BLOCK_FAILED_CHILD), 0, `the hash is not marked failed (${JSON.stringify(r.result)})`);
      const connected = await chain.processBlock(genuine.toBytes());
      assertResult(connected.result, { mode: 'valid' });
      assert.equal(connected.duplicate, false);
      assert.deepEqual(connected.tip, { hash, height: HEIGHT });
    } finally {
      await close();
    }
  }

  it('bad-txnmrklroot: one transaction paying one satoshi less under the genuine merkle root', async () => {
    const tx = txs[single]!;
    const block = rebuildBlock(next.block, replaced(single, withOutput(tx, 0, { value: tx.outputs[0]!.value - 1 })), { keepMerkleRoot: true });
    await mutatedThenGenuine(block.toBytes(), next.block, { mode: 'mutated', reason: 'bad-txnmrklroot' });
  });

  it('bad-txns-duplicate (CVE-2012-2459): the odd last transaction repeated, the same merkle root', async () => {
    const { items, copied } = duplicateTail(txs);
    assert.equal(copied, 1, '13 transactions: the first level is already odd');
    const block = new Block(next.block.header, items);
    assert.ok(equalBytes(blockMerkleRoot(block).root, next.block.header.merkleRoot));
    await mutatedThenGenuine(block.toBytes(), next.block, { mode: 'mutated', reason: 'bad-txns-duplicate' });
  });

  it('bad-witness-merkle-match: one witness byte changed, the commitment kept', async () => {
    const tx = txs[single]!;
    const witness = tx.inputs[0]!.witness.slice();
    witness[0] = corruptSignature(witness[0]!);
    const block = rebuildBlock(next.block, replaced(single, withInput(tx, 0, { witness })), { keepWitnessCommitment: true });
    await mutatedThenGenuine(block.toBytes(), next.block, { mode: 'mutated', reason: 'bad-witness-merkle-match' });
  });

  it('bad-witness-nonce-size: a 33-byte witness reserved value in the coinbase', async () => {
    const cb = txs[0]!;
    const block = rebuildBlock(next.block, replaced(0, withInput(cb, 0, { witness: [new Uint8Array(33)] })), { keepWitnessCommitment: true });
    await mutatedThenGenuine(block.toBytes(), next.block, { mode: 'mutated', reason: 'bad-witness-nonce-size' });
  });

  it('after the genuine block: a mutated copy is still mutated, not a duplicate (CheckBlock before the hash is looked up, as in Core)', async () => {
    const { items } = duplicateTail(txs);
    const copy = new Block(next.block.header, items).toBytes();
    const tx = txs[single]!;
    const other = rebuildBlock(next.block, replaced(single, withOutput(tx, 0, { value: tx.outputs[0]!.value - 1 })), { keepMerkleRoot: true }).toBytes();
    const { chain, close } = await openChain();
    try {
      await feed(chain, blocks.slice(0, HEIGHT));
      for (const [bytes, reason] of [[copy, 'bad-txns-duplicate'], [other, 'bad-txnmrklroot']] as const) {
        const r = await chain.processBlock(bytes);
        assertResult(r.result, { mode: 'mutated', reason });
        assert.equal(r.duplicate, false);
      }
      const again = await chain.processBlock(next.block.toBytes());
      assert.deepEqual([again.result.mode, again.duplicate], ['valid', true], 'the genuine bytes are the duplicate');
    } finally {
      await close();
    }
  });

  describe('a 64-byte transaction under a two-transaction block’s header (merkle tree ambiguity)', () => {
    let twin: MerkleTwin;
    before(() => {
      twin = merkleTwin(next, coin(single, 0), SEED);
    });

    it('control: the two-transaction block 112 (coinbase, a SIGHASH_NONE spend) is valid on its own', async () => {
      const decoded = decodeBlock(twin.twin);
      assert.ok(decoded.ok, 'the 64 bytes parse as one transaction');
      assert.equal(decoded.block.txs.length, 1);
      assert.ok(equalBytes(decoded.block.txs[0]!.txid(), twin.block.header.merkleRoot), 'whose txid is the merkle root');
      assert.ok(!decoded.block.txs[0]!.isCoinbase());
      const { chain, close } = await openChain();
      try {
        await feed(chain, blocks.slice(0, HEIGHT - 1));
        const r = await chain.processBlock(twin.block.toBytes());
        assertResult(r.result, { mode: 'valid' });
        assert.equal(chain.tip.height, HEIGHT);
      } finally {
        await close();
      }
    });

    // Core never marks the hash: IsBlockMutated calls a block without a coinbase but with a 64-byte
    // transaction mutated (net_processing drops it), submitblock refuses a block that does not start
    // with a coinbase, and ProcessNewBlock returns on CheckBlock's failure before AcceptBlock indexes it.
    it('the 64-byte twin first (no coinbase), then the genuine block still connects', async () => {
      await mutatedThenGenuine(twin.twin, twin.block);
    });
  });
});
