// Proof of work: Core's compact target format (arith_uint256 SetCompact/GetCompact) on bigint,
// CheckProofOfWork, chain work (GetBlockProof) and the difficulty rules of pow.cpp (incl. testnet, BIP94).

import type { ChainEntry, GetAncestor } from './chain-time.js';
import { difficultyAdjustmentInterval, type ChainParams } from './params.js';

export type { ChainEntry, GetAncestor } from './chain-time.js';

const MASK256 = (1n << 256n) - 1n;

export interface CompactTarget {
  /** The target, reduced mod 2^256 as arith_uint256's shift does. */
  target: bigint;
  /** The sign bit (0x00800000) is set and the mantissa is not zero. */
  negative: boolean;
  /** The value does not fit in 256 bits. */
  overflow: boolean;
}

function checkUint32(bits: number, what: string): void {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw new TypeError(`${what} must be a uint32, got ${bits}`);
}

/**
 * Core's arith_uint256::SetCompact: nBits is a base-256 float, one byte of size and a 23-bit
 * mantissa with a sign bit (0x00800000). Sizes up to 3 shift the mantissa right, dropping bytes.
 */
export function compactToTarget(bits: number): CompactTarget {
  checkUint32(bits, 'bits');
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK256;
  }
  // Both flags look at the mantissa after the shift above, as Core does.
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/**
 * Core's arith_uint256::GetCompact: the shortest compact form, rounding the mantissa down to its
 * three top bytes. A mantissa that would set the sign bit moves one byte up instead.
 */
export function targetToCompact(target: bigint, negative = false): number {
  if (target < 0n || target > MASK256) throw new RangeError('target must be in [0, 2^256)');
  let size = (bitLength(target) + 7) >> 3;
  let compact: number;
  if (size <= 3) compact = Number(target) << (8 * (3 - size));
  else compact = Number(target >> BigInt(8 * (size - 3)));
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  compact |= size << 24;
  if (negative && (compact & 0x007fffff) !== 0) compact |= 0x00800000;
  return compact >>> 0;
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Core's UintToArith256: a hash (internal byte order) as the little-endian 256-bit number PoW compares. */
export function uintToArith256(hash: Uint8Array): bigint {
  if (hash.length !== 32) throw new TypeError(`a 32-byte hash is required, got ${hash.length} bytes`);
  const v = new DataView(hash.buffer, hash.byteOffset, 32);
  return (
    (v.getBigUint64(24, true) << 192n) |
    (v.getBigUint64(16, true) << 128n) |
    (v.getBigUint64(8, true) << 64n) |
    v.getBigUint64(0, true)
  );
}

/** Core's DeriveTarget: the target nBits claims, or undefined if negative, zero, overflowing or above powLimit. */
export function deriveTarget(bits: number, powLimit: bigint): bigint | undefined {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || target === 0n || overflow || target > powLimit) return undefined;
  return target;
}

/** Core's CheckProofOfWork(Impl): the hash (internal byte order), read as a number, is at most the target. */
export function checkProofOfWork(hash: Uint8Array, bits: number, params: ChainParams): boolean {
  const target = deriveTarget(bits, params.powLimit);
  if (target === undefined) return false;
  return uintToArith256(hash) <= target;
}

/**
 * Core's GetBlockProof: the expected number of hashes for a block at this target, 2^256 / (target+1),
 * computed as Core does within 256 bits: ~target / (target+1) + 1. Zero for an invalid nBits.
 */
export function getBlockProof(bits: number): bigint {
  const { target, negative, overflow } = compactToTarget(bits);
  if (negative || overflow || target === 0n) return 0n;
  return (MASK256 ^ target) / (target + 1n) + 1n;
}

/**
 * Core's CalculateNextWorkRequired: scale a target by the period's actual timespan (clamped to a
 * factor of 4 either way), capped at powLimit. `lastBits` is the target being scaled: the
 * period's last block's bits, or under BIP94 its first block's (getNextWorkRequired picks;
 * Core looks it up inside). `lastTime` is the last block's time, `firstBlockTime` the first's.
 */
export function calculateNextWorkRequired(lastBits: number, lastTime: number, firstBlockTime: number, params: ChainParams): number {
  if (params.powNoRetargeting) return lastBits;
  const timespan = params.powTargetTimespan;
  let actual = lastTime - firstBlockTime;
  if (actual < Math.trunc(timespan / 4)) actual = Math.trunc(timespan / 4);
  if (actual > timespan * 4) actual = timespan * 4;
  // arith_uint256 arithmetic: the product wraps at 2^256 (unreachable with Core's powLimits, see
  // pow_tests' sanity_check_chainparams), the division truncates.
  let target = compactToTarget(lastBits).target;
  target = ((target * BigInt(actual)) & MASK256) / BigInt(timespan);
  if (target > params.powLimit) target = params.powLimit;
  return targetToCompact(target);
}

/**
 * Core's GetNextWorkRequired: the nBits a block with time `newBlockTime` on top of `prev` must have.
 * Between retargets the bits stay, except where min-difficulty blocks are allowed (testnet3,
 * testnet4, regtest): a block more than 2 × spacing (20 minutes) after its parent must use
 * powLimit, and otherwise takes the bits of the last block that was not a min-difficulty block
 * (stopping at a retarget block). Every 2016 blocks the target is recalculated from the
 * period's timespan; under BIP94 (testnet4) from the period's first block's bits, which cannot
 * be a min-difficulty block, so min-difficulty blocks never leak into the real difficulty.
 */
export function getNextWorkRequired(prev: ChainEntry, newBlockTime: number, params: ChainParams, getAncestor: GetAncestor): number {
  const powLimitBits = targetToCompact(params.powLimit);
  const interval = difficultyAdjustmentInterval(params);

  if ((prev.height + 1) % interval !== 0) {
    if (params.powAllowMinDifficultyBlocks) {
      if (newBlockTime > prev.time + params.powTargetSpacing * 2) return powLimitBits;
      let entry = prev;
      while (entry.height > 0 && entry.height % interval !== 0 && entry.bits === powLimitBits) {
        entry = getAncestor(entry.height - 1);
      }
      return entry.bits;
    }
    return prev.bits;
  }

  // Core returns pindexLast->nBits before looking at BIP94.
  if (params.powNoRetargeting) return prev.bits;
  const firstHeight = prev.height - (interval - 1);
  if (firstHeight < 0) throw new RangeError(`retarget after height ${prev.height} needs a period of ${interval} blocks`);
  const first = getAncestor(firstHeight);
  const baseBits = params.enforceBIP94 ? first.bits : prev.bits;
  return calculateNextWorkRequired(baseBits, prev.time, first.time, params);
}

/**
 * Core's PermittedDifficultyTransition: could `newBits` follow `oldBits` at `height` at all?
 * Within a period the bits must not change; at a retarget they may move by at most the factor
 * of 4 (after compact rounding). Always true where min-difficulty blocks are allowed.
 */
export function permittedDifficultyTransition(params: ChainParams, height: number, oldBits: number, newBits: number): boolean {
  if (params.powAllowMinDifficultyBlocks) return true;
  if (height % difficultyAdjustmentInterval(params) === 0) {
    const timespan = BigInt(params.powTargetTimespan);
    const observed = compactToTarget(newBits).target;
    const old = compactToTarget(oldBits).target;

    let largest = ((old * BigInt(params.powTargetTimespan * 4)) & MASK256) / timespan;
    if (largest > params.powLimit) largest = params.powLimit;
    const maximum = compactToTarget(targetToCompact(largest)).target;
    if (maximum < observed) return false;

    let smallest = ((old * BigInt(Math.trunc(params.powTargetTimespan / 4))) & MASK256) / timespan;
    if (smallest > params.powLimit) smallest = params.powLimit;
    const minimum = compactToTarget(targetToCompact(smallest)).target;
    if (minimum > observed) return false;
  } else if (oldBits !== newBits) {
    return false;
  }
  return true;
}
