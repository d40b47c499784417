// Block headers and blocks: the block hash, the merkle root with Core's CVE-2012-2459
// mutation flag, the BIP141 witness merkle root and the coinbase's witness commitment.

import { ByteReader, ParseError, toParseFailure, type ParseFailure } from './reader.js';
import { ByteWriter } from './writer.js';
import { hash256 } from './hash.js';
import { hash256Of64Into } from './sha256-short.js';
import { Transaction } from './transaction.js';

export const HEADER_SIZE = 80;

export class BlockHeader {
  private _hash: Uint8Array | undefined;

  constructor(
    readonly version: number,
    readonly prevBlock: Uint8Array,
    readonly merkleRoot: Uint8Array,
    readonly time: number,
    readonly bits: number,
    readonly nonce: number,
    private readonly raw?: Uint8Array,
  ) {}

  /** Block hash, internal byte order. */
  hash(): Uint8Array {
    if (this._hash === undefined) this._hash = hash256(this.toBytes());
    return this._hash;
  }

  /** Take a hash computed elsewhere from these same bytes (see adoptBlockHashes). */
  adoptHash(hash: Uint8Array): void {
    this._hash = hash;
  }

  toBytes(): Uint8Array {
    if (this.raw !== undefined) return this.raw;
    const w = new ByteWriter(HEADER_SIZE);
    this.write(w);
    return w.finish();
  }

  write(w: ByteWriter): void {
    w.i32(this.version).bytes(this.prevBlock).bytes(this.merkleRoot).u32(this.time).u32(this.bits).u32(this.nonce);
  }

  static read(r: ByteReader): BlockHeader {
    const start = r.offset;
    const version = r.i32();
    const prevBlock = r.bytesView(32);
    const merkleRoot = r.bytesView(32);
    const time = r.u32();
    const bits = r.u32();
    const nonce = r.u32();
    return new BlockHeader(version, prevBlock, merkleRoot, time, bits, nonce, r.bytes.subarray(start, r.offset));
  }
}

export class Block {
  /** Merkle roots, once computed or adopted (see blockMerkleRoot). */
  merkle: MerkleResult | undefined;
  witnessMerkle: MerkleResult | undefined;

  constructor(
    readonly header: BlockHeader,
    readonly txs: readonly Transaction[],
    private readonly raw?: Uint8Array,
  ) {}

  hash(): Uint8Array {
    return this.header.hash();
  }

  toBytes(withWitness = true): Uint8Array {
    if (withWitness && this.raw !== undefined) return this.raw;
    const w = new ByteWriter(1024);
    this.header.write(w);
    w.compactSize(this.txs.length);
    for (const tx of this.txs) tx.write(w, withWitness);
    return w.finish();
  }

  /** The encoding this block was parsed from, if any (a view, not a copy). */
  rawBytes(): Uint8Array | undefined {
    return this.raw;
  }

  static read(r: ByteReader): Block {
    const start = r.offset;
    const header = BlockHeader.read(r);
    const n = r.compactSize();
    // The smallest transaction is 60 bytes (no inputs is invalid but parseable: 10).
    if (n * 10 > r.remaining) throw new ParseError('truncated', r.offset, `${n} transactions cannot fit in ${r.remaining} bytes`);
    const txs: Transaction[] = new Array(n);
    for (let i = 0; i < n; i++) txs[i] = Transaction.read(r);
    return new Block(header, txs, r.bytes.subarray(start, r.offset));
  }
}

export type DecodeBlockResult = { ok: true; block: Block } | ParseFailure;
export type DecodeHeaderResult = { ok: true; header: BlockHeader } | ParseFailure;

/** Decode exactly one block; trailing bytes are a failure. Never throws on bad data. */
export function decodeBlock(bytes: Uint8Array): DecodeBlockResult {
  try {
    const r = new ByteReader(bytes);
    const block = Block.read(r);
    if (r.remaining !== 0) throw new ParseError('trailing-data', r.offset, 'data after the end of the block');
    return { ok: true, block };
  } catch (err) {
    return toParseFailure(err);
  }
}

export function decodeHeader(bytes: Uint8Array): DecodeHeaderResult {
  try {
    const r = new ByteReader(bytes);
    const header = BlockHeader.read(r);
    if (r.remaining !== 0) throw new ParseError('trailing-data', r.offset, 'data after the end of the header');
    return { ok: true, header };
  } catch (err) {
    return toParseFailure(err);
  }
}

export interface MerkleResult {
  root: Uint8Array;
  /** CVE-2012-2459: two identical adjacent hashes at some level make a second block with the same root. */
  mutated: boolean;
}

/**
 * Core's ComputeMerkleRoot: pairwise hash256, duplicating an odd last entry, flagging mutation.
 * As in Core, each level is written over the front of the one below, in one buffer, and each
 * node is a 64-byte double hash with its padding block's schedule precomputed (SHA256D64).
 */
export function computeMerkleRoot(leaves: readonly Uint8Array[]): MerkleResult {
  if (leaves.length === 0) return { root: new Uint8Array(32), mutated: false };
  // Room for the leaves and for an odd level's duplicated last entry.
  const buf = new Uint8Array(32 * (leaves.length + 1));
  leaves.forEach((leaf, i) => buf.set(leaf, 32 * i));
  let n = leaves.length;
  let mutated = false;
  while (n > 1) {
    for (let i = 0; i + 1 < n; i += 2) {
      if (equal32(buf, 32 * i, 32 * i + 32)) mutated = true;
    }
    if (n & 1) {
      buf.copyWithin(32 * n, 32 * (n - 1), 32 * n);
      n++;
    }
    n >>= 1;
    for (let i = 0; i < n; i++) hash256Of64Into(buf, 64 * i, buf, 32 * i);
  }
  return { root: buf.slice(0, 32), mutated };
}

function equal32(b: Uint8Array, x: number, y: number): boolean {
  for (let i = 0; i < 32; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}

/** Core's BlockMerkleRoot. */
export function blockMerkleRoot(block: Block): MerkleResult {
  block.merkle ??= computeMerkleRoot(block.txs.map((tx) => tx.txid()));
  return block.merkle;
}

/** Core's BlockWitnessMerkleRoot: the coinbase's wtxid counts as zero. */
export function blockWitnessMerkleRoot(block: Block): MerkleResult {
  block.witnessMerkle ??= computeMerkleRoot(block.txs.map((tx, i) => (i === 0 ? new Uint8Array(32) : tx.wtxid())));
  return block.witnessMerkle;
}

/**
 * Every hash a block's checks need, in one buffer, so another thread can compute them ahead of
 * time: the block hash, the merkle root and its mutation flag, the witness merkle root and its
 * flag, then each transaction's txid and wtxid (32 + 33 + 33 + 64 × transactions bytes).
 */
export function computeBlockHashes(block: Block): Uint8Array {
  const n = block.txs.length;
  const out = new Uint8Array(98 + 64 * n);
  out.set(block.hash(), 0);
  const merkle = blockMerkleRoot(block);
  out.set(merkle.root, 32);
  out[64] = merkle.mutated ? 1 : 0;
  const witness = blockWitnessMerkleRoot(block);
  out.set(witness.root, 65);
  out[97] = witness.mutated ? 1 : 0;
  for (let i = 0; i < n; i++) {
    const tx = block.txs[i]!;
    out.set(tx.txid(), 98 + 64 * i);
    out.set(tx.wtxid(), 98 + 64 * i + 32);
  }
  return out;
}

/**
 * Give a block decoded from the same bytes the hashes computeBlockHashes found for them, so
 * nothing is hashed again here. False (and nothing adopted) when the buffer does not fit the block.
 */
export function adoptBlockHashes(block: Block, hashes: Uint8Array): boolean {
  const n = block.txs.length;
  if (hashes.length !== 98 + 64 * n) return false;
  block.header.adoptHash(hashes.subarray(0, 32));
  block.merkle = { root: hashes.subarray(32, 64), mutated: hashes[64] === 1 };
  block.witnessMerkle = { root: hashes.subarray(65, 97), mutated: hashes[97] === 1 };
  for (let i = 0; i < n; i++) {
    const at = 98 + 64 * i;
    block.txs[i]!.adoptHashes(hashes.subarray(at, at + 32), hashes.subarray(at + 32, at + 64));
  }
  return true;
}

export const MINIMUM_WITNESS_COMMITMENT = 38;
const COMMITMENT_HEADER = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/** Core's GetWitnessCommitmentIndex: the last coinbase output starting 6a24aa21a9ed, or -1. */
export function getWitnessCommitmentIndex(block: Block): number {
  const coinbase = block.txs[0];
  if (coinbase === undefined) return -1;
  let found = -1;
  coinbase.outputs.forEach((out, i) => {
    const s = out.scriptPubKey;
    if (s.length >= MINIMUM_WITNESS_COMMITMENT && COMMITMENT_HEADER.every((b, j) => s[j] === b)) found = i;
  });
  return found;
}
