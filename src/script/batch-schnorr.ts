// Batch BIP340 verification (BIP340 "Batch Verification"): many signatures checked with one
// multi-scalar multiplication, and SchnorrBatch, the deferred mode the signature checker fills.
//
// Every non-empty Schnorr signature in a taproot or tapscript spend must be valid or the whole
// script fails (BIP341/BIP342: there is no "CHECKSIG returns false" for a bad BIP340 signature),
// so the checker may record the check, carry on as if it passed, and verify everything at the end:
// the verdict on the input is the same. ECDSA results steer script flow and cannot be deferred.

import { randomBytes } from 'node:crypto';
import type { ScriptError } from './errors.js';
import { BETA, splitScalar } from './ecmult.js';
import { G, N, P, liftX, red, type Affine } from './field.js';
import { msm } from './msm.js';
import { readBig256 } from '../primitives/bytes.js';
import { bytesToBig, challenge } from './noble-verify.js';
import { nobleBackend, type SignatureBackend } from './signature.js';
import type { SignatureCache } from './sig-cache.js';

/** One BIP340 check: a 64-byte signature, the message (a 32-byte sighash in Bitcoin) and an x-only key. */
export interface SchnorrItem {
  readonly sig64: Uint8Array;
  readonly msg32: Uint8Array;
  readonly pub32: Uint8Array;
}

// ---- the batch check ------------------------------------------------------------------------

/**
 * BIP340 batch verification: true when every signature is valid. With weights a_1 = 1 and
 * a_2..a_u random, it checks
 *   (Σ a_i·s_i)·G  =  Σ a_i·R_i + Σ (a_i·e_i)·P_i
 * with R_i = lift_x(r_i), P_i = lift_x(pk_i), e_i the challenge, as one multi-scalar
 * multiplication (msm.ts: Pippenger with batched affine additions) whose result must be the
 * point at infinity. The 256-bit scalars (of G and the P_i) go in as two halves of ~128 bits on
 * P and λ·P (secp256k1's endomorphism, ecmult.ts), which halves the windows of the bucket method.
 *
 * The weights are 128-bit numbers from a CSPRNG the signer cannot see, as Ed25519's batch
 * verification draws them (Bernstein et al.), where BIP340 draws them in [1, n-1]: if any
 * signature is invalid, the equation then holds with probability at most about 2^-128 (a forger
 * must guess the weight of an invalid signature), the security secp256k1 offers anyway, and the
 * weights' share of the work halves. A signature that does not parse (r ≥ p, s ≥ n, a key or
 * R not on the curve, wrong sizes) makes the batch false. An empty batch is true.
 *
 * One difference from noble's own schnorr.verify: it rejects s = 0, which BIP340, libsecp256k1
 * and this engine's single verify accept; the batch follows BIP340. Such a signature needs
 * k = -e·d mod n with e a hash of k·G, so no one can make one.
 */
export function verifySchnorrBatch(items: readonly SchnorrItem[]): boolean {
  const u = items.length;
  if (u === 0) return true;
  const weights = randomBytes(WEIGHT_BYTES * u);
  const points: Affine[] = [];
  const scalars: bigint[] = [];
  let sSum = 0n;
  for (let i = 0; i < u; i++) {
    const { sig64, msg32, pub32 } = items[i]!;
    if (sig64.length !== 64 || pub32.length !== 32) return false;
    const r32 = sig64.subarray(0, 32);
    const s = readBig256(sig64, 32);
    if (s >= N) return false;
    const pk = liftX(readBig256(pub32, 0), false);
    if (pk === undefined) return false;
    const R = liftX(readBig256(sig64, 0), false);
    if (R === undefined) return false;
    const e = challenge(r32, pub32, msg32);
    let a = 1n;
    if (i > 0) {
      a = bytesToBig(weights.subarray(WEIGHT_BYTES * i, WEIGHT_BYTES * (i + 1)));
      if (a === 0n) a = 1n; // probability 2^-128
    }
    sSum = (sSum + a * s) % N;
    // Move the right-hand side over: the sum with -R_i and -P_i must be the identity
    // (y ≠ 0 for every curve point: the group has odd prime order).
    points.push({ x: R.x, y: P - R.y });
    scalars.push(a);
    pushSplit(points, scalars, { x: pk.x, y: P - pk.y }, (a * e) % N);
  }
  pushSplit(points, scalars, G, sSum);
  return msm(points, scalars) === undefined;
}

/** Bytes of a random weight: 128 bits, as Ed25519's batch verification draws them. */
const WEIGHT_BYTES = 16;

/** k·q as k1·q + k2·λ(q) with halves of ~128 bits (ecmult.ts's split), each half's sign moved onto its point. */
function pushSplit(points: Affine[], scalars: bigint[], q: Affine, k: bigint): void {
  const [k1, k2] = splitScalar(k);
  if (k1 !== 0n) {
    points.push(k1 > 0n ? q : { x: q.x, y: P - q.y });
    scalars.push(k1 > 0n ? k1 : -k1);
  }
  if (k2 !== 0n) {
    const x = red(q.x * BETA);
    points.push({ x, y: k2 > 0n ? q.y : P - q.y });
    scalars.push(k2 > 0n ? k2 : -k2);
  }
}

// ---- the deferred mode ----------------------------------------------------------------------

/** A Schnorr check the signature checker recorded instead of doing. */
export interface DeferredSchnorr extends SchnorrItem {
  readonly inputIndex: number;
  /** The transaction's index in its block, when the caller gave one (VerifyOptions.txIndex). */
  readonly txIndex: number | undefined;
  /** Where to record the signature once it is known valid (VerifyOptions.sigCache). */
  readonly cache: SignatureCache | undefined;
  readonly cacheKey: Uint8Array | undefined;
}

export type SchnorrBatchResult =
  | { readonly ok: true; readonly verified: number }
  | {
      readonly ok: false;
      readonly error: ScriptError;
      readonly inputIndex: number;
      readonly txIndex: number | undefined;
      /** Position of the failing check among those recorded. */
      readonly position: number;
    };

export interface SchnorrBatchOptions {
  /** The most signatures in one multi-scalar multiplication (default 256). */
  readonly maxBatch?: number;
  /** What judges the checks one by one when a batch fails (default noble). */
  readonly backend?: SignatureBackend;
}

/**
 * Batch size when connecting a block: each worker settles its last batch after the block's chunks
 * run out, so a smaller batch leaves a shorter tail (block 866342 on 2 workers with batches of 256,
 * on noble's arithmetic: 0.561x the 1-worker time). 64 costs a little more a signature than 256
 * (2.06x and 2.26x faster than single verification, bench/batch-schnorr, paired rounds).
 */
export const BLOCK_SCHNORR_BATCH = 64;

/**
 * The batch a block's script checks record their BIP340 checks in, on `backend`: one when its
 * Schnorr is cheaper batched (SignatureBackend.batchSchnorr), else none (single checks).
 */
export function blockSchnorrBatch(backend: SignatureBackend): SchnorrBatch | undefined {
  return backend.batchSchnorr === true ? new SchnorrBatch({ backend, maxBatch: BLOCK_SCHNORR_BATCH }) : undefined;
}

/**
 * Schnorr checks deferred by the signature checker (VerifyOptions.schnorrBatch), verified
 * together by verify(). Until verify() returns ok, the inputs that recorded checks here are not
 * known to be valid. One batch may collect the checks of many inputs and transactions.
 */
export class SchnorrBatch {
  readonly maxBatch: number;
  readonly backend: SignatureBackend;
  private items: DeferredSchnorr[] = [];

  constructor(opts: SchnorrBatchOptions = {}) {
    const maxBatch = opts.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`SchnorrBatch: maxBatch must be a positive integer, got ${maxBatch}`);
    this.maxBatch = maxBatch;
    this.backend = opts.backend ?? nobleBackend;
  }

  /** Checks recorded and not yet verified. */
  get size(): number {
    return this.items.length;
  }

  /** The recorded checks, in order. */
  get pending(): readonly DeferredSchnorr[] {
    return this.items;
  }

  /**
   * Record a check. The bytes are copied: they may be views into a buffer the caller reuses
   * (a worker's shared transaction buffer) before verify() runs.
   */
  add(
    sig64: Uint8Array,
    msg32: Uint8Array,
    pub32: Uint8Array,
    inputIndex: number,
    txIndex?: number,
    cache?: SignatureCache,
    cacheKey?: Uint8Array,
  ): void {
    this.items.push({ sig64: sig64.slice(), msg32: msg32.slice(), pub32: pub32.slice(), inputIndex, txIndex, cache, cacheKey });
  }

  /**
   * For a loop that records checks input by input (connecting a block): verify what is held when
   * the batch is full, or when `now` (an input failed, or the loop ended), so a failure is found
   * where single checks would find it. The failing check, or undefined.
   */
  settle(now: boolean): { txIndex: number | undefined; inputIndex: number; error: ScriptError } | undefined {
    if (this.items.length === 0 || (!now && this.items.length < this.maxBatch)) return undefined;
    const r = this.verify();
    return r.ok ? undefined : r;
  }

  /** Forget the recorded checks without verifying them. */
  clear(): void {
    this.items = [];
  }

  /**
   * Verify every recorded check, in batches of at most maxBatch, and clear the batch. When a
   * batch fails, its checks are verified one by one and the first failing one is named (with
   * its input index), so the caller can report it as Core would: SCHNORR_SIG on that input.
   * Valid signatures go into the cache they were recorded with, if any.
   */
  verify(): SchnorrBatchResult {
    const items = this.items;
    this.items = [];
    for (let start = 0; start < items.length; start += this.maxBatch) {
      const chunk = items.slice(start, start + this.maxBatch);
      const verifiedTogether = verifySchnorrBatch(chunk);
      if (!verifiedTogether) {
        for (let j = 0; j < chunk.length; j++) {
          const it = chunk[j]!;
          if (!this.backend.verifySchnorr(it.sig64, it.msg32, it.pub32)) {
            return { ok: false, error: 'SCHNORR_SIG', inputIndex: it.inputIndex, txIndex: it.txIndex, position: start + j };
          }
        }
        // Every one verified alone: the backend is the reference, so the batch stands.
      }
      for (const it of chunk) if (it.cache !== undefined && it.cacheKey !== undefined) it.cache.add(it.cacheKey);
      // Checked one by one above, the backend counted them itself.
      if (this.backend.counts !== undefined && verifiedTogether) this.backend.counts.schnorr += chunk.length;
    }
    return { ok: true, verified: items.length };
  }
}
