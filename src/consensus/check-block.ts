// Block rules without coins (Core's validation.cpp): CheckBlockHeader, CheckBlock,
// ContextualCheckBlockHeader and ContextualCheckBlock, with Core's reject strings and
// Core's split between consensus-invalid and mutated blocks.

import { equalBytes } from '../primitives/bytes.js';
import { hash256Parts } from '../primitives/hash.js';
import { blockMerkleRoot, blockWitnessMerkleRoot, getWitnessCommitmentIndex, type Block, type BlockHeader } from '../primitives/block.js';
import { checkTransaction } from './tx-check.js';
import { getLegacySigOpCount } from './sigops.js';
import { isFinalTx } from './tx-verify.js';
import { MAX_BLOCK_SERIALIZED_SIZE, MAX_BLOCK_SIGOPS_COST, MAX_BLOCK_WEIGHT, WITNESS_SCALE_FACTOR } from './consensus.js';
import { VALID, invalid, mutated, type ValidationResult } from './validation.js';
import { checkProofOfWork } from './pow.js';
import { checkSignetBlockSolution } from './signet.js';
import type { ChainParams } from './params.js';
import { scriptNumEncode } from '../script/script-num.js';
import { OP } from '../script/opcodes.js';
import { hashToHex } from '../primitives/bytes.js';

/** Core's MAX_FUTURE_BLOCK_TIME: two hours. */
export const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;

/** Core's CheckBlockHeader: the header's proof of work meets its own claimed target. */
export function checkBlockHeader(header: BlockHeader, params: ChainParams, checkPow = true): ValidationResult {
  if (checkPow && !checkProofOfWork(header.hash(), header.bits, params)) return invalid('high-hash', 'proof of work failed');
  return VALID;
}

/** Core's CheckMerkleRoot: a mismatch or a CVE-2012-2459 duplicate is a mutated block. */
export function checkMerkleRoot(block: Block): ValidationResult {
  const { root, mutated: dup } = blockMerkleRoot(block);
  if (!equalBytes(root, block.header.merkleRoot)) return mutated('bad-txnmrklroot', 'hashMerkleRoot mismatch');
  if (dup) return mutated('bad-txns-duplicate', 'duplicate transaction');
  return VALID;
}

/** Core's CheckBlock: context-free checks of a whole block. */
export function checkBlock(block: Block, params: ChainParams, checkPow = true): ValidationResult {
  const head = checkBlockCommitment(block, params, checkPow);
  return head.mode !== 'valid' ? head : checkBlockBody(block);
}

/**
 * CheckBlock's first checks: the header's proof of work, on signet the block's BIP325 solution
 * (checked with proof of work only, as in Core), and the merkle root. Once they pass, the
 * transactions are the ones the header commits to (what validateBlockAsync waits for before it
 * starts their scripts).
 */
export function checkBlockCommitment(block: Block, params: ChainParams, checkPow = true): ValidationResult {
  const header = checkBlockHeader(block.header, params, checkPow);
  if (header.mode !== 'valid') return header;
  if (params.signetBlocks && checkPow && !checkSignetBlockSolution(block, params.signetChallenge!, params.genesisHash)) {
    return invalid('bad-signet-blksig', 'signet block signature validation failure');
  }
  return checkMerkleRoot(block);
}

/**
 * Raw bytes before they are decoded: a block longer than MAX_BLOCK_SERIALIZED_SIZE weighs more than
 * MAX_BLOCK_WEIGHT whatever it holds, so it cannot be valid. Core never deserializes such bytes
 * from the network (MAX_PROTOCOL_MESSAGE_LENGTH) or from blk files (LoadExternalBlockFile skips the
 * record); we answer with CheckBlock's size reject instead of decoding them, which costs ~30 bytes
 * of heap a byte (160 MB of 10-byte transactions ran the heap out).
 */
export function checkSerializedSize(raw: Uint8Array): ValidationResult {
  // Misuse (an ArrayBuffer, a hex string): thrown, never read as a verdict on the block.
  if (!(raw instanceof Uint8Array)) throw new TypeError(`expected the block as a Uint8Array (or Buffer), got ${Object.prototype.toString.call(raw)}`);
  if (raw.length <= MAX_BLOCK_SERIALIZED_SIZE) return VALID;
  return invalid('bad-blk-length', `size limits failed (${raw.length} bytes serialized, at most ${MAX_BLOCK_SERIALIZED_SIZE})`);
}

/** The rest of CheckBlock, in Core's order: sizes, the coinbase, each transaction, legacy sigops. */
export function checkBlockBody(block: Block): ValidationResult {
  // Size limits; witness data is judged later (ContextualCheckBlock), once the commitment is checked.
  if (block.txs.length === 0 || block.txs.length * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT || strippedSize(block) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) {
    return invalid('bad-blk-length', 'size limits failed');
  }
  if (!block.txs[0]!.isCoinbase()) return invalid('bad-cb-missing', 'first tx is not coinbase');
  for (let i = 1; i < block.txs.length; i++) {
    if (block.txs[i]!.isCoinbase()) return invalid('bad-cb-multiple', 'more than one coinbase', i);
  }
  for (let i = 0; i < block.txs.length; i++) {
    const tx = block.txs[i]!;
    const r = checkTransaction(tx);
    if (!r.ok) return invalid(r.reason, `Transaction check failed (tx hash ${hashToHex(tx.txid())})`, i);
  }
  let sigops = 0;
  for (const tx of block.txs) sigops += getLegacySigOpCount(tx);
  if (sigops * WITNESS_SCALE_FACTOR > MAX_BLOCK_SIGOPS_COST) return invalid('bad-blk-sigops', 'out-of-bounds SigOpCount');
  return VALID;
}

function strippedSize(block: Block): number {
  let size = 80 + compactSizeLen(block.txs.length);
  for (const tx of block.txs) size += tx.baseSize();
  return size;
}

function compactSizeLen(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

export function blockWeight(block: Block): number {
  const total = block.rawBytes()?.length ?? block.toBytes().length;
  return strippedSize(block) * (WITNESS_SCALE_FACTOR - 1) + total;
}

/** What the header's context tells: its height, its parent's times, the difficulty it must have. */
export interface HeaderContext {
  height: number;
  /** Median-time-past of the parent. */
  prevMedianTimePast: number;
  /** The parent's own timestamp (BIP94). */
  prevTime: number;
  /** GetNextWorkRequired for this block; undefined when there is no chain to compute it from. */
  expectedBits?: number;
  /** The current time, for time-too-new; undefined to skip that check. */
  now?: number;
}

/** Core's ContextualCheckBlockHeader. */
export function contextualCheckBlockHeader(header: BlockHeader, ctx: HeaderContext, params: ChainParams): ValidationResult {
  if (ctx.expectedBits !== undefined && header.bits !== ctx.expectedBits) return invalid('bad-diffbits', 'incorrect proof of work');
  if (header.time <= ctx.prevMedianTimePast) return invalid('time-too-old', "block's timestamp is too early");
  const interval = params.powTargetTimespan / params.powTargetSpacing;
  if (params.enforceBIP94 && ctx.height % interval === 0 && header.time < ctx.prevTime - params.maxTimewarp) {
    return invalid('time-timewarp-attack', "block's timestamp is too early on diff adjustment block");
  }
  if (ctx.now !== undefined && header.time > ctx.now + MAX_FUTURE_BLOCK_TIME) return invalid('time-too-new', 'block timestamp too far in the future');
  const v = header.version;
  if ((v < 2 && ctx.height >= params.bip34Height) || (v < 3 && ctx.height >= params.bip66Height) || (v < 4 && ctx.height >= params.bip65Height)) {
    const hex = (v >>> 0).toString(16).padStart(8, '0');
    return invalid(`bad-version(0x${hex})`, `rejected nVersion=0x${hex} block`);
  }
  return VALID;
}

/** `CScript() << nHeight`: OP_0, OP_1..OP_16, or a minimal number push. */
function heightScript(height: number): Uint8Array {
  if (height === 0) return Uint8Array.of(OP.OP_0);
  if (height >= 1 && height <= 16) return Uint8Array.of(OP.OP_1 + height - 1);
  const n = scriptNumEncode(height);
  const out = new Uint8Array(n.length + 1);
  out[0] = n.length;
  out.set(n, 1);
  return out;
}

/**
 * Core's CheckWitnessMalleation: with segwit active, a commitment (if any) must match
 * the witness root and the coinbase's reserved value; without one, no witness at all.
 */
export function checkWitnessMalleation(block: Block, expectWitnessCommitment: boolean): ValidationResult {
  if (expectWitnessCommitment) {
    const pos = getWitnessCommitmentIndex(block);
    if (pos !== -1) {
      const stack = block.txs[0]!.inputs[0]!.witness;
      if (stack.length !== 1 || stack[0]!.length !== 32) return mutated('bad-witness-nonce-size', 'invalid witness reserved value size');
      const root = blockWitnessMerkleRoot(block).root;
      const commitment = hash256Parts([root, stack[0]!]);
      const script = block.txs[0]!.outputs[pos]!.scriptPubKey;
      if (!equalBytes(commitment, script.subarray(6, 38))) return mutated('bad-witness-merkle-match', 'witness merkle commitment mismatch');
      return VALID;
    }
  }
  // Blocks that do not commit to witness data may carry none.
  for (let i = 0; i < block.txs.length; i++) {
    if (block.txs[i]!.hasWitness()) return mutated('unexpected-witness', 'unexpected witness data found');
  }
  return VALID;
}

/** Core's ContextualCheckBlock. */
export function contextualCheckBlock(block: Block, ctx: HeaderContext, params: ChainParams): ValidationResult {
  const height = ctx.height;
  // BIP113: lock times compare against the parent's median-time-past once CSV is active.
  const lockTimeCutoff = height >= params.csvHeight ? ctx.prevMedianTimePast : block.header.time;
  for (let i = 0; i < block.txs.length; i++) {
    if (!isFinalTx(block.txs[i]!, height, lockTimeCutoff)) return invalid('bad-txns-nonfinal', 'non-final transaction', i);
  }
  if (height >= params.bip34Height) {
    const expect = heightScript(height);
    const sig = block.txs[0]!.inputs[0]!.scriptSig;
    if (sig.length < expect.length || !equalBytes(sig.subarray(0, expect.length), expect)) {
      return invalid('bad-cb-height', 'block height mismatch in coinbase', 0);
    }
  }
  const witness = checkWitnessMalleation(block, height >= params.segwitHeight);
  if (witness.mode !== 'valid') return witness;
  // Only now: before the commitment is checked, weight could be padded in the coinbase witness.
  if (blockWeight(block) > MAX_BLOCK_WEIGHT) return invalid('bad-blk-weight', 'weight limit failed');
  return VALID;
}
