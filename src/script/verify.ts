// The entry point the block validator and the workers call: verify one input of a
// transaction against the outputs it spends. Invalid data gives a result, never a throw.

import { checkSpentOutput, type Transaction, type TxOut } from '../primitives/transaction.js';
import {
  LOCKTIME_THRESHOLD,
  SEQUENCE_FINAL,
  SEQUENCE_LOCKTIME_DISABLE_FLAG,
  SEQUENCE_LOCKTIME_MASK,
  SEQUENCE_LOCKTIME_TYPE_FLAG,
} from '../primitives/transaction.js';
import { ScriptFailure, type ScriptResult } from './errors.js';
import { verifyScript, type ExecData, type SignatureChecker } from './interpreter.js';
import { PrecomputedTxData, SIGHASH_DEFAULT, signatureHashLegacy, signatureHashTaproot, signatureHashWitnessV0 } from './sighash.js';
import { SigVersion, nobleBackend, normalizePubKey, parseDerLax, parseDerLaxCompact, type EcdsaRS, type SignatureBackend } from './signature.js';
import type { SignatureCache } from './sig-cache.js';
import type { SchnorrBatch } from './batch-schnorr.js';
import { pubKeyMemo } from './pubkey-memo.js';

export interface VerifyOptions {
  /** Hashes shared by the transaction's inputs; pass the same object for every input. */
  txdata?: PrecomputedTxData;
  /** Signature primitives; noble unless a faster backend is given. */
  backend?: SignatureBackend;
  /**
   * Consulted before each signature verification; successful ones are added (Core's
   * CachingTransactionSignatureChecker). Share it between threads with SignatureCache.fromShared.
   */
  sigCache?: SignatureCache;
  /** False: read the cache but add nothing (Core does not store during block validation). Default true. */
  sigCacheStore?: boolean;
  /**
   * Defer BIP340 checks: each is recorded here and treated as valid, and the input is only known
   * valid once `schnorrBatch.verify()` returns ok (it names the failing input otherwise).
   */
  schnorrBatch?: SchnorrBatch;
  /** Recorded with deferred checks so a failure across a block can name the transaction. */
  txIndex?: number;
}

/** The parts of VerifyOptions the signature checker uses beyond its backend. */
export type CheckerOptions = Pick<VerifyOptions, 'sigCache' | 'sigCacheStore' | 'schnorrBatch' | 'txIndex'>;

/** r || s of the signature being checked; verification is synchronous, so one per thread. */
const rsScratch = new Uint8Array(64);

/** Core's GenericTransactionSignatureChecker for one input. */
export class TransactionSignatureChecker implements SignatureChecker {
  constructor(
    readonly tx: Transaction,
    readonly nIn: number,
    readonly amount: number,
    readonly txdata: PrecomputedTxData,
    readonly backend: SignatureBackend = nobleBackend,
    readonly opts: CheckerOptions = {},
  ) {}

  checkEcdsaSignature(sigIn: Uint8Array, pubkeyIn: Uint8Array, scriptCode: Uint8Array, sigversion: SigVersion): boolean {
    const pubkey = normalizePubKey(pubkeyIn);
    if (pubkey === undefined || sigIn.length === 0) return false;
    // The hash type is one byte tacked on to the end of the signature.
    const hashType = sigIn[sigIn.length - 1]!;
    const der = sigIn.subarray(0, sigIn.length - 1);
    // r || s straight from the DER bytes when the backend takes them so (no bigints), else r, s.
    const useCompact = this.backend.verifyEcdsaCompact !== undefined;
    let rs: EcdsaRS | undefined;
    if (useCompact ? !parseDerLaxCompact(der, rsScratch) : (rs = parseDerLax(der)) === undefined) return false;
    const sighash =
      sigversion === SigVersion.WITNESS_V0
        ? signatureHashWitnessV0(scriptCode, this.tx, this.nIn, hashType, this.amount, this.txdata)
        : signatureHashLegacy(scriptCode, this.tx, this.nIn, hashType);
    const cache = this.opts.sigCache;
    if (cache === undefined || this.skipCache(cache)) return this.verifyEcdsa(rs, sighash, pubkey);
    // Keyed on the signature as encoded (less the hash type, which the sighash commits to).
    const entry = cache.keyEcdsa(sighash, pubkey, der);
    if (cache.has(entry)) return true;
    const ok = this.verifyEcdsa(rs, sighash, pubkey);
    if (ok && this.opts.sigCacheStore !== false) cache.add(entry);
    return ok;
  }

  checkSchnorrSignature(sigIn: Uint8Array, pubkey: Uint8Array, _sigversion: SigVersion, exec: ExecData): void {
    // Empty tapscript signatures never get here (EvalChecksigTapscript); anywhere else
    // every size but 64 and 65 is invalid.
    if (sigIn.length !== 64 && sigIn.length !== 65) throw new ScriptFailure('SCHNORR_SIG_SIZE');
    let hashType = SIGHASH_DEFAULT;
    let sig = sigIn;
    if (sigIn.length === 65) {
      hashType = sigIn[64]!;
      if (hashType === SIGHASH_DEFAULT) throw new ScriptFailure('SCHNORR_SIG_HASHTYPE');
      sig = sigIn.subarray(0, 64);
    }
    // Core asserts its spent outputs are there; missing, they are the caller's misuse, not a verdict.
    if (!this.txdata.hasSpentOutputs) throw new RangeError('a BIP341 signature needs a PrecomputedTxData made with the spent outputs');
    const sighash = signatureHashTaproot(this.tx, this.nIn, hashType, this.txdata, exec);
    if (sighash === undefined) throw new ScriptFailure('SCHNORR_SIG_HASHTYPE');
    const { sigCache, schnorrBatch: batch } = this.opts;
    const cache = sigCache !== undefined && !this.skipCache(sigCache) ? sigCache : undefined;
    const key = cache?.keySchnorr(sighash, pubkey, sig);
    if (key !== undefined && cache!.has(key)) return;
    const store = key !== undefined && this.opts.sigCacheStore !== false;
    if (batch !== undefined) {
      // Safe to defer: a bad BIP340 signature fails the script whatever comes after it.
      batch.add(sig, sighash, pubkey, this.nIn, this.opts.txIndex, store ? cache : undefined, store ? key : undefined);
      return;
    }
    if (!this.backend.verifySchnorr(sig, sighash, pubkey)) throw new ScriptFailure('SCHNORR_SIG');
    if (store) cache!.add(key);
  }

  /** The signature check itself: r, s as bigints, or (rs undefined) r || s in rsScratch. No closure a check. */
  private verifyEcdsa(rs: EcdsaRS | undefined, sighash: Uint8Array, pubkey: Uint8Array): boolean {
    // A key that signed before is verified in its uncompressed form (no square root to parse it).
    const key = pubKeyMemo.forVerify(pubkey, this.backend);
    return rs === undefined ? this.backend.verifyEcdsaCompact!(rsScratch, sighash, key) : this.backend.verifyEcdsa(rs, sighash, key);
  }

  /**
   * A read-only lookup in a cache nothing was ever stored in cannot hit: skip hashing its key
   * (a salted SHA-256, ~1.5 µs per check). An entry another thread adds meanwhile is at worst
   * a missed hit, never a wrong answer.
   */
  private skipCache(cache: SignatureCache): boolean {
    return this.opts.sigCacheStore === false && cache.isEmpty;
  }

  /** BIP65. */
  checkLockTime(lockTime: number): boolean {
    const txLockTime = this.tx.locktime;
    // Compare like with like: heights with heights, times with times.
    if (!((txLockTime < LOCKTIME_THRESHOLD && lockTime < LOCKTIME_THRESHOLD) || (txLockTime >= LOCKTIME_THRESHOLD && lockTime >= LOCKTIME_THRESHOLD))) {
      return false;
    }
    if (lockTime > txLockTime) return false;
    // A final input would let IsFinalTx() bypass the lock entirely.
    return this.tx.inputs[this.nIn]!.sequence !== SEQUENCE_FINAL;
  }

  /** BIP112. */
  checkSequence(sequence: number): boolean {
    const txSequence = this.tx.inputs[this.nIn]!.sequence;
    // BIP68 applies from version 2, the version read as unsigned.
    if (this.tx.version >>> 0 < 2) return false;
    if ((txSequence & SEQUENCE_LOCKTIME_DISABLE_FLAG) !== 0) return false;
    const mask = SEQUENCE_LOCKTIME_TYPE_FLAG | SEQUENCE_LOCKTIME_MASK;
    const txMasked = txSequence & mask;
    const masked = sequence & mask;
    if (!((txMasked < SEQUENCE_LOCKTIME_TYPE_FLAG && masked < SEQUENCE_LOCKTIME_TYPE_FLAG) || (txMasked >= SEQUENCE_LOCKTIME_TYPE_FLAG && masked >= SEQUENCE_LOCKTIME_TYPE_FLAG))) {
      return false;
    }
    return masked <= txMasked;
  }
}

/**
 * Verify input `inputIndex` of `tx`. `spentOutputs` holds the output each input spends,
 * in input order (all of them: BIP341 signatures commit to every spent amount and script).
 */
export function verifyInput(
  tx: Transaction,
  inputIndex: number,
  spentOutputs: readonly TxOut[],
  flags: number,
  opts: VerifyOptions = {},
): ScriptResult {
  if (!Number.isInteger(flags) || flags < 0) throw new TypeError(`verifyInput: flags must be a non-negative integer, got ${String(flags)}`);
  // Hashes of another transaction would sign another message: misuse, thrown (free when they are this one's).
  if (opts.txdata !== undefined && !opts.txdata.fits(tx, spentOutputs)) throw new RangeError('verifyInput: opts.txdata was made for another transaction or other spent outputs');
  // One spent output an input, each checked: BIP341 messages hash them all, BIP143 this input's amount.
  if (!Array.isArray(spentOutputs) || spentOutputs.length !== tx.inputs.length) {
    throw new RangeError(`verifyInput: ${tx.inputs.length} inputs but ${Array.isArray(spentOutputs) ? spentOutputs.length : 'no array of'} spent outputs`);
  }
  const input = tx.inputs[inputIndex];
  const spent = spentOutputs[inputIndex];
  if (input === undefined || spent === undefined) throw new RangeError(`verifyInput: input ${inputIndex} out of range (tx has ${tx.inputs.length} inputs)`);
  // The output this input spends is checked here; all of them when a PrecomputedTxData is made
  // from them (a txdata made without them cannot check a BIP341 signature: thrown there).
  checkSpentOutput(spent, inputIndex);
  const txdata = opts.txdata ?? new PrecomputedTxData(tx, spentOutputs);
  const checker = new TransactionSignatureChecker(tx, inputIndex, spent.value, txdata, opts.backend, opts);
  return verifyScript(input.scriptSig, spent.scriptPubKey, input.witness, flags, checker);
}
