// Signature hashes: legacy (Core's SignatureHash with CTransactionSignatureSerializer),
// BIP143 (witness v0) and BIP341/342 (taproot), with per-transaction precomputed hashes.

import { ByteWriter } from '../primitives/writer.js';
import { equalBytes } from '../primitives/bytes.js';
import { hash256, sha256, taggedHasher } from '../primitives/hash.js';
import { sha256Midstate, type Sha256Midstate } from '../primitives/sha256-short.js';
import { Preimage, varBytesSize } from './preimage.js';
import { checkSpentOutputs, type Transaction, type TxOut } from '../primitives/transaction.js';
import { OP } from './opcodes.js';
import { ScriptCursor } from './script.js';

export const SIGHASH_DEFAULT = 0;
export const SIGHASH_ALL = 1;
export const SIGHASH_NONE = 2;
export const SIGHASH_SINGLE = 3;
export const SIGHASH_ANYONECANPAY = 0x80;
export const SIGHASH_OUTPUT_MASK = 3;
export const SIGHASH_INPUT_MASK = 0x80;

/** Legacy SIGHASH_SINGLE with no matching output signs the number one (Core's uint256::ONE). */
const UINT256_ONE = (() => {
  const one = new Uint8Array(32);
  one[0] = 1;
  return one;
})();

/**
 * Two buffers, so that a per-transaction hash computed on first use in the middle of a
 * signature's preimage never writes over it. Per-transaction hashes are one-shot hashes of one
 * buffer, not a Hash object fed per input: createHash's fixed cost was most of it for the
 * typical transaction of a few inputs.
 */
const txPreimage = new Preimage();
const sigPreimage = new Preimage();

/**
 * Hashes shared by every input of one transaction (Core's PrecomputedTransactionData).
 * BIP143 hashes are double SHA-256 of the same data whose single SHA-256 BIP341 uses;
 * the BIP341 ones also need every spent output, so they are computed only when given.
 * Each is computed on first use and then shared by all of the transaction's inputs.
 */
export class PrecomputedTxData {
  private _prevouts?: Uint8Array; // single SHA-256
  private _sequences?: Uint8Array;
  private _outputs?: Uint8Array;
  private _amounts?: Uint8Array;
  private _scripts?: Uint8Array;
  private _hashPrevouts?: Uint8Array; // double SHA-256 (BIP143)
  private _hashSequence?: Uint8Array;
  private _hashOutputs?: Uint8Array;
  /** SHA-256 midstates of preimage prefixes every input shares, with those prefixes (prefixMidstate). */
  private _mids?: Array<{ readonly prefix: Uint8Array; readonly state: Sha256Midstate } | undefined>;
  /** The last transaction and spent outputs other than the ones given that fits() found these hashes fit. */
  private fitTx?: Transaction;
  private fitSpent?: readonly TxOut[];

  constructor(
    readonly tx: Transaction,
    readonly spentOutputs?: readonly TxOut[],
  ) {
    if (spentOutputs !== undefined) {
      checkSpentOutputs(spentOutputs);
      if (spentOutputs.length !== tx.inputs.length) throw new RangeError(`spentOutputs has ${spentOutputs.length} entries for ${tx.inputs.length} inputs`);
    }
  }

  get prevoutsSha(): Uint8Array {
    if (this._prevouts === undefined) {
      const w = txPreimage.reset(36 * this.tx.inputs.length);
      for (const input of this.tx.inputs) w.bytes(input.prevout.hash).u32(input.prevout.index);
      this._prevouts = w.sha256();
    }
    return this._prevouts;
  }

  get sequencesSha(): Uint8Array {
    if (this._sequences === undefined) {
      const w = txPreimage.reset(4 * this.tx.inputs.length);
      for (const input of this.tx.inputs) w.u32(input.sequence);
      this._sequences = w.sha256();
    }
    return this._sequences;
  }

  get outputsSha(): Uint8Array {
    if (this._outputs === undefined) {
      let size = 0;
      for (const out of this.tx.outputs) size += 8 + varBytesSize(out.scriptPubKey.length);
      const w = txPreimage.reset(size);
      for (const out of this.tx.outputs) w.i64(out.value).varBytes(out.scriptPubKey);
      this._outputs = w.sha256();
    }
    return this._outputs;
  }

  get hashPrevouts(): Uint8Array {
    return (this._hashPrevouts ??= sha256(this.prevoutsSha));
  }

  get hashSequence(): Uint8Array {
    return (this._hashSequence ??= sha256(this.sequencesSha));
  }

  get hashOutputs(): Uint8Array {
    return (this._hashOutputs ??= sha256(this.outputsSha));
  }

  /** True when every spent output is known (BIP341 signatures need them). */
  get hasSpentOutputs(): boolean {
    return this.spentOutputs !== undefined;
  }

  get spentAmountsSha(): Uint8Array {
    if (this._amounts === undefined) {
      const spent = this.spentOutputsOrThrow();
      const w = txPreimage.reset(8 * spent.length);
      for (const out of spent) w.i64(out.value);
      this._amounts = w.sha256();
    }
    return this._amounts;
  }

  get spentScriptsSha(): Uint8Array {
    if (this._scripts === undefined) {
      const spent = this.spentOutputsOrThrow();
      let size = 0;
      for (const out of spent) size += varBytesSize(out.scriptPubKey.length);
      const w = txPreimage.reset(size);
      for (const out of spent) w.varBytes(out.scriptPubKey);
      this._scripts = w.sha256();
    }
    return this._scripts;
  }

  /**
   * The midstate of the first 64 bytes of `w`, a signature preimage of this transaction, taken
   * after `from` (a tag's prefix) when given. One is kept per `key`, a class of hash types whose
   * preimages share those bytes, with the bytes themselves: it is used only for a preimage that
   * begins with them, so a key that does not decide them, or a transaction of another version
   * sharing these hashes, costs a recomputation, never a wrong hash.
   */
  prefixMidstate(key: number, w: Preimage, from?: Sha256Midstate): Sha256Midstate {
    const mids = (this._mids ??= []);
    const kept = mids[key];
    if (kept !== undefined && w.startsWith(kept.prefix)) return kept.state;
    const state = w.midstate(64, from);
    mids[key] = { prefix: w.head(64), state };
    return state;
  }

  /**
   * Whether these hashes are those of `tx` spending `spentOutputs`: the same prevouts, sequences and
   * outputs (scriptSigs, witnesses, version and lock time may differ: no hash here covers them),
   * and, if BIP341 hashes were asked for, the same spent outputs. A transaction and list found to
   * fit are remembered, so a caller verifying input after input pays the comparison once.
   */
  fits(tx: Transaction, spentOutputs: readonly TxOut[]): boolean {
    const sameTx = tx === this.tx || tx === this.fitTx;
    const sameSpent = this.spentOutputs === undefined || spentOutputs === this.spentOutputs || spentOutputs === this.fitSpent;
    if (sameTx && sameSpent) return true;
    if (!sameTx && !sameCommitments(this.tx, tx)) return false;
    if (!sameSpent && !sameOutputs(this.spentOutputs!, spentOutputs)) return false;
    this.fitTx = tx;
    this.fitSpent = spentOutputs;
    return true;
  }

  private spentOutputsOrThrow(): readonly TxOut[] {
    if (this.spentOutputs === undefined) throw new Error('BIP341 hashes need the spent outputs');
    return this.spentOutputs;
  }
}

/** Legacy SignatureHash. `hashType` is the int32 serialized after the transaction. */
export function signatureHashLegacy(scriptCode: Uint8Array, tx: Transaction, nIn: number, hashType: number): Uint8Array {
  if (nIn >= tx.inputs.length) return UINT256_ONE; // Core asserts; an impossible caller state.
  const base = hashType & 0x1f;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  const hashSingle = base === SIGHASH_SINGLE;
  const hashNone = base === SIGHASH_NONE;
  if (hashSingle && nIn >= tx.outputs.length) return UINT256_ONE;

  const nInputs = anyoneCanPay ? 1 : tx.inputs.length;
  const nOutputs = hashNone ? 0 : hashSingle ? nIn + 1 : tx.outputs.length;
  let size = 4 + 9 + 9 + 4 + 4 + varBytesSize(scriptCode.length) + 41 * nInputs;
  for (let o = 0; o < nOutputs; o++) size += 8 + varBytesSize(tx.outputs[o]!.scriptPubKey.length);
  const w = sigPreimage.reset(size);
  w.i32(tx.version);
  w.compactSize(nInputs);
  for (let i = 0; i < nInputs; i++) {
    const inputIndex = anyoneCanPay ? nIn : i;
    const input = tx.inputs[inputIndex]!;
    w.bytes(input.prevout.hash).u32(input.prevout.index);
    if (inputIndex !== nIn) w.compactSize(0);
    else writeScriptCodeWithoutSeparators(w, scriptCode);
    w.u32(inputIndex !== nIn && (hashSingle || hashNone) ? 0 : input.sequence);
  }
  w.compactSize(nOutputs);
  for (let o = 0; o < nOutputs; o++) {
    if (hashSingle && o !== nIn) {
      w.i64(-1).compactSize(0); // CTxOut(): value -1, empty script
    } else {
      const out = tx.outputs[o]!;
      w.i64(out.value).varBytes(out.scriptPubKey);
    }
  }
  w.u32(tx.locktime);
  w.i32(hashType);
  return w.hash256();
}

/**
 * CTransactionSignatureSerializer::SerializeScriptCode: the script with every
 * OP_CODESEPARATOR removed, but the length prefix counts from the raw size, and a
 * parse failure stops the copy where Core's iterator stopped.
 */
function writeScriptCodeWithoutSeparators(w: Preimage, script: Uint8Array): void {
  const c = new ScriptCursor(script);
  let separators = 0;
  while (c.next()) if (c.op === OP.OP_CODESEPARATOR) separators++;
  w.compactSize(script.length - separators);
  if (separators === 0) {
    w.bytes(script);
    return;
  }
  c.reset(script);
  let begin = 0;
  while (c.next()) {
    if (c.op === OP.OP_CODESEPARATOR) {
      w.bytes(script.subarray(begin, c.pc - 1));
      begin = c.pc;
    }
  }
  if (begin !== script.length) w.bytes(script.subarray(begin, c.pc));
}

/** BIP143 signature hash for witness v0 scripts. */
export function signatureHashWitnessV0(
  scriptCode: Uint8Array,
  tx: Transaction,
  nIn: number,
  hashType: number,
  amount: number,
  cache: PrecomputedTxData,
): Uint8Array {
  const base = hashType & 0x1f;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  const zero: Uint8Array = ZERO32;
  const hashPrevouts = anyoneCanPay ? zero : cache.hashPrevouts;
  const hashSequence = anyoneCanPay || base === SIGHASH_SINGLE || base === SIGHASH_NONE ? zero : cache.hashSequence;
  let hashOutputs: Uint8Array = zero;
  if (base !== SIGHASH_SINGLE && base !== SIGHASH_NONE) {
    hashOutputs = cache.hashOutputs;
  } else if (base === SIGHASH_SINGLE && nIn < tx.outputs.length) {
    const out = tx.outputs[nIn]!;
    hashOutputs = hash256(new ByteWriter(9 + out.scriptPubKey.length).i64(out.value).varBytes(out.scriptPubKey).finish());
  }
  const input = tx.inputs[nIn]!;
  // Every per-transaction hash is fetched above, before the preimage is begun.
  const w = sigPreimage.reset(156 + varBytesSize(scriptCode.length));
  w.i32(tx.version).bytes(hashPrevouts).bytes(hashSequence);
  w.bytes(input.prevout.hash).u32(input.prevout.index);
  w.varBytes(scriptCode);
  w.i64(amount).u32(input.sequence);
  w.bytes(hashOutputs).u32(tx.locktime).i32(hashType);
  if (!w.fitsFrom(64)) return w.hash256();
  // The first 64 bytes (version, hashPrevouts, 28 bytes of hashSequence) are decided by which of
  // the two hashes this type zeroes: keys 0 (neither), 1 (hashSequence), 3 (both).
  const key = (hashPrevouts === zero ? 2 : 0) + (hashSequence === zero ? 1 : 0);
  return w.hash256From(cache.prefixMidstate(key, w), 64);
}

const ZERO32 = new Uint8Array(32);

function sameOutputs(a: readonly TxOut[], b: readonly TxOut[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.value !== b[i]!.value || !equalBytes(a[i]!.scriptPubKey, b[i]!.scriptPubKey)) return false;
  return true;
}

/** Whether two transactions have the same prevouts, sequences and outputs: what PrecomputedTxData hashes. */
function sameCommitments(a: Transaction, b: Transaction): boolean {
  if (a.inputs.length !== b.inputs.length) return false;
  for (let i = 0; i < a.inputs.length; i++) {
    const x = a.inputs[i]!;
    const y = b.inputs[i]!;
    if (x.sequence !== y.sequence || x.prevout.index !== y.prevout.index || !equalBytes(x.prevout.hash, y.prevout.hash)) return false;
  }
  return sameOutputs(a.outputs, b.outputs);
}

/** What the taproot sighash needs from the script execution (Core's ScriptExecutionData). */
export interface TaprootExecData {
  /** SHA256 of the compact-size-prefixed annex, when one is present. */
  annexHash?: Uint8Array;
  /** BIP342: the leaf hash, for tapscript signatures only. */
  tapleafHash?: Uint8Array;
  /** BIP342: opcode position of the last executed OP_CODESEPARATOR, 0xffffffff if none. */
  codeSeparatorPos?: number;
}

/**
 * BIP341 SignatureHashSchnorr. Returns undefined for an undefined hash type or a
 * SIGHASH_SINGLE without a matching output (Core: SCHNORR_SIG_HASHTYPE).
 */
export function signatureHashTaproot(
  tx: Transaction,
  nIn: number,
  hashType: number,
  cache: PrecomputedTxData,
  exec: TaprootExecData,
): Uint8Array | undefined {
  if (!(hashType <= 0x03 || (hashType >= 0x81 && hashType <= 0x83))) return undefined;
  const outputType = hashType === SIGHASH_DEFAULT ? SIGHASH_ALL : hashType & SIGHASH_OUTPUT_MASK;
  const inputType = hashType & SIGHASH_INPUT_MASK;
  if (outputType === SIGHASH_SINGLE && nIn >= tx.outputs.length) return undefined;
  const spent = cache.spentOutputs;
  if (spent === undefined) return undefined;
  const tapscript = exec.tapleafHash !== undefined;

  const w = sigPreimage.reset(320 + varBytesSize(spent[nIn]?.scriptPubKey.length ?? 0));
  w.u8(0); // epoch
  w.u8(hashType);
  w.i32(tx.version).u32(tx.locktime);
  if (inputType !== SIGHASH_ANYONECANPAY) {
    w.bytes(cache.prevoutsSha).bytes(cache.spentAmountsSha).bytes(cache.spentScriptsSha).bytes(cache.sequencesSha);
  }
  if (outputType === SIGHASH_ALL) w.bytes(cache.outputsSha);
  const spendType = (tapscript ? 2 : 0) + (exec.annexHash !== undefined ? 1 : 0);
  w.u8(spendType);
  if (inputType === SIGHASH_ANYONECANPAY) {
    const input = tx.inputs[nIn]!;
    const prev = spent[nIn]!;
    w.bytes(input.prevout.hash).u32(input.prevout.index);
    w.i64(prev.value).varBytes(prev.scriptPubKey);
    w.u32(input.sequence);
  } else {
    w.u32(nIn);
  }
  if (exec.annexHash !== undefined) w.bytes(exec.annexHash);
  if (outputType === SIGHASH_SINGLE) {
    const out = tx.outputs[nIn]!;
    w.bytes(sha256(new ByteWriter(9 + out.scriptPubKey.length).i64(out.value).varBytes(out.scriptPubKey).finish()));
  }
  if (tapscript) {
    w.bytes(exec.tapleafHash!).u8(0).u32(exec.codeSeparatorPos ?? 0xffffffff);
  }
  // Without ANYONECANPAY the first 64 bytes (epoch, hash type, version, lock time, sha_prevouts,
  // 22 bytes of sha_amounts) are the same for every input signing with this hash type: keys 4–7.
  if (inputType !== SIGHASH_ANYONECANPAY && w.fitsFrom(64)) return w.sha256From(cache.prefixMidstate(4 + hashType, w, tapSighashMid()), 64);
  return taggedHasher('TapSighash').update(w.written()).digest();
}

let tapSighash: Sha256Midstate | undefined;

/** SHA-256's state after BIP340's tag prefix for "TapSighash": SHA256(tag) twice. */
function tapSighashMid(): Sha256Midstate {
  if (tapSighash === undefined) {
    const t = sha256(new TextEncoder().encode('TapSighash'));
    const prefix = new Uint8Array(64);
    prefix.set(t, 0);
    prefix.set(t, 32);
    tapSighash = sha256Midstate(prefix);
  }
  return tapSighash;
}
