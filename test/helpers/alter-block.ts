// Rebuild a decoded block with changes, for tests that break one consensus rule at a time:
// new Transaction/Block/BlockHeader objects (never byte patching), with the merkle root and
// the BIP141 witness commitment recomputed unless a test asks to keep the old ones.

import {
  Block,
  BlockHeader,
  blockMerkleRoot,
  blockWitnessMerkleRoot,
  getWitnessCommitmentIndex,
} from '../../src/primitives/block.js';
import { Transaction, type TxIn, type TxOut } from '../../src/primitives/transaction.js';
import { hash256Parts } from '../../src/primitives/hash.js';
import { hashToHex } from '../../src/primitives/bytes.js';
import type { SpentOutput } from '../../src/spent/index.js';
import { spentOutputsByTx } from '../../src/consensus/block-scripts.js';

/** BIP141: OP_RETURN, push 36, then the 4-byte commitment header 0xaa21a9ed. */
const COMMITMENT_PREFIX = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

/** A new transaction with some fields replaced; unchanged fields are shared with `tx`. */
export function alterTx(
  tx: Transaction,
  changes: { version?: number; inputs?: readonly TxIn[]; outputs?: readonly TxOut[]; locktime?: number },
): Transaction {
  return new Transaction(changes.version ?? tx.version, changes.inputs ?? tx.inputs, changes.outputs ?? tx.outputs, changes.locktime ?? tx.locktime);
}

/** `tx` with input `index` changed (prevout, scriptSig, sequence or witness). */
export function withInput(tx: Transaction, index: number, change: Partial<TxIn>): Transaction {
  const old = tx.inputs[index];
  if (old === undefined) throw new RangeError(`transaction has no input ${index}`);
  const inputs = tx.inputs.slice();
  inputs[index] = { ...old, ...change };
  return alterTx(tx, { inputs });
}

/** `tx` with output `index` changed (value or scriptPubKey). */
export function withOutput(tx: Transaction, index: number, change: Partial<TxOut>): Transaction {
  const old = tx.outputs[index];
  if (old === undefined) throw new RangeError(`transaction has no output ${index}`);
  const outputs = tx.outputs.slice();
  outputs[index] = { ...old, ...change };
  return alterTx(tx, { outputs });
}

export interface RebuildOptions {
  /** Keep the header's merkle root although the transactions changed (bad-txnmrklroot). */
  keepMerkleRoot?: boolean;
  /** Keep the coinbase's witness commitment although witnesses changed (bad-witness-merkle-match). */
  keepWitnessCommitment?: boolean;
  /** Header fields to replace; the rest (the nonce included) stay as they were. */
  header?: { version?: number; prevBlock?: Uint8Array; time?: number; bits?: number; nonce?: number };
}

/**
 * A block with `txs` under `original`'s header. When the coinbase has a witness commitment,
 * it is recomputed (hash256(witness root || reserved value)) before the merkle root is, since
 * the commitment lives in the coinbase. The nonce is kept, so the proof of work no longer holds
 * once the merkle root moves: validate such blocks with `checkPow: false`.
 */
export function rebuildBlock(original: Block, txs: readonly Transaction[], opts: RebuildOptions = {}): Block {
  let list = txs.slice();
  const unsealed = new Block(original.header, list);
  const pos = getWitnessCommitmentIndex(unsealed);
  if (pos !== -1 && opts.keepWitnessCommitment !== true) {
    const coinbase = list[0]!;
    const reserved = coinbase.inputs[0]?.witness[0];
    if (reserved === undefined) throw new Error('the coinbase commits to witnesses but has no reserved value');
    const commitment = hash256Parts([blockWitnessMerkleRoot(unsealed).root, reserved]);
    const old = coinbase.outputs[pos]!.scriptPubKey;
    const script = new Uint8Array(old.length);
    script.set(COMMITMENT_PREFIX, 0);
    script.set(commitment, COMMITMENT_PREFIX.length);
    script.set(old.subarray(COMMITMENT_PREFIX.length + 32), COMMITMENT_PREFIX.length + 32);
    list = [withOutput(coinbase, pos, { scriptPubKey: script }), ...list.slice(1)];
  }
  const h = original.header;
  const o = opts.header ?? {};
  const merkleRoot = opts.keepMerkleRoot === true ? h.merkleRoot : blockMerkleRoot(new Block(h, list)).root;
  const header = new BlockHeader(o.version ?? h.version, o.prevBlock ?? h.prevBlock, merkleRoot, o.time ?? h.time, o.bits ?? h.bits, o.nonce ?? h.nonce);
  return new Block(header, list);
}

/** The block's spent outputs split per transaction ([] for the coinbase), so they can move with it. */
export function spentByTx(block: Block, flat: readonly SpentOutput[]): SpentOutput[][] {
  const perTx = spentOutputsByTx(block, flat);
  if (perTx === undefined) throw new RangeError(`${flat.length} spent outputs do not match the block's inputs`);
  return perTx;
}

/** Spent outputs per transaction back to the flat list validateBlock takes. */
export function flattenSpent(perTx: readonly (readonly SpentOutput[])[]): SpentOutput[] {
  return perTx.flat();
}

/**
 * CVE-2012-2459: the transactions of a block with its last full subtree at the first odd level
 * of the merkle tree appended again. ComputeMerkleRoot pads an odd level by repeating its last
 * hash, so the copy leaves the root unchanged: a different block under the same header.
 * Returns how many transactions were copied (`copied` at the end of `txs`).
 */
export function duplicateTail<T>(items: readonly T[]): { items: T[]; copied: number } {
  let width = 1;
  for (let count = items.length; count > 1; count = Math.ceil(count / 2), width *= 2) {
    // All lower levels were even, so the last node at this level covers `width` real leaves.
    if (count % 2 === 1) return { items: [...items, ...items.slice(items.length - width)], copied: width };
  }
  throw new RangeError(`a tree of ${items.length} leaves has no odd level to pad`);
}

/** The first in-block spend: transaction `child` input `input` spends an output of transaction `parent`. */
export function findInBlockSpend(block: Block): { parent: number; child: number; input: number } | undefined {
  const position = new Map(block.txs.map((tx, i) => [hashToHex(tx.txid()), i]));
  for (let child = 1; child < block.txs.length; child++) {
    const inputs = block.txs[child]!.inputs;
    for (let input = 0; input < inputs.length; input++) {
      const parent = position.get(hashToHex(inputs[input]!.prevout.hash));
      if (parent !== undefined) return { parent, child, input };
    }
  }
  return undefined;
}

/** Whether `data` looks like a DER signature with a sighash byte: 0x30, total length, then r. */
function isSignature(data: Uint8Array): boolean {
  return data.length >= 9 && data.length <= 73 && data[0] === 0x30 && data[1] === data.length - 3 && data[2] === 0x02;
}

/** A copy of a signature with the low bit of r's second byte flipped: still DER, no longer valid. */
export function corruptSignature(sig: Uint8Array): Uint8Array {
  if (!isSignature(sig)) throw new Error('not a DER signature with a sighash byte');
  const out = sig.slice();
  out[5]! ^= 0x01;
  return out;
}

/** A copy of a scriptSig with its first pushed DER signature corrupted (see corruptSignature). */
export function corruptScriptSigSignature(script: Uint8Array): Uint8Array {
  for (let i = 0; i < script.length; ) {
    const op = script[i++]!;
    let len = 0;
    if (op >= 1 && op <= 75) len = op;
    else if (op === 0x4c) len = script[i++] ?? 0;
    else if (op === 0x4d) (len = (script[i] ?? 0) | ((script[i + 1] ?? 0) << 8)), (i += 2);
    else continue;
    const data = script.subarray(i, i + len);
    if (isSignature(data)) {
      const out = script.slice();
      out.set(corruptSignature(data), i);
      return out;
    }
    i += len;
  }
  throw new Error('the scriptSig pushes no DER signature');
}
