// Transactions: legacy and BIP144 segwit serialization, with txid and wtxid computed once.
// A transaction parsed from bytes keeps views into those bytes, so its ids are hashed from
// the original encoding without re-serializing.

import { ByteReader, ParseError, toParseFailure, type ParseFailure } from './reader.js';
import { ByteWriter } from './writer.js';
import { hash256, hash256Parts } from './hash.js';

export interface OutPoint {
  /** txid in internal byte order (as serialized). */
  readonly hash: Uint8Array;
  readonly index: number;
}

export interface TxIn {
  readonly prevout: OutPoint;
  readonly scriptSig: Uint8Array;
  readonly sequence: number;
  /** Witness stack items; empty when the input has no witness. */
  readonly witness: readonly Uint8Array[];
}

export interface TxOut {
  /** Satoshis; exact below 2^53 (every valid amount is). */
  readonly value: number;
  readonly scriptPubKey: Uint8Array;
}

/**
 * Misuse, thrown: a spent output that is not { value: integer satoshis (number), scriptPubKey:
 * Uint8Array }; the message names it `${name}[${index}]` (made only then: this runs once an input).
 * Amounts and scripts of spent outputs are hashed into signature messages (BIP143, BIP341), so a
 * string or fractional amount would otherwise come back as a script verdict.
 */
export function checkSpentOutput(o: TxOut | null | undefined, index: number, name = 'spentOutputs'): void {
  if (typeof o !== 'object' || o === null || !Number.isSafeInteger(o.value) || !(o.scriptPubKey instanceof Uint8Array)) {
    throw new TypeError(`${name}[${index}] must be { value: integer satoshis (number), scriptPubKey: Uint8Array }`);
  }
}

/** checkSpentOutput for each of `spent`, which must be an array. */
export function checkSpentOutputs(spent: readonly TxOut[], name = 'spentOutputs'): void {
  if (!Array.isArray(spent)) throw new TypeError(`${name} must be an array of { value, scriptPubKey }`);
  for (let i = 0; i < spent.length; i++) checkSpentOutput(spent[i], i, name);
}

export const SEQUENCE_FINAL = 0xffffffff;
/** BIP68: bit 31 disables the relative lock-time meaning of nSequence. */
export const SEQUENCE_LOCKTIME_DISABLE_FLAG = 0x80000000;
export const SEQUENCE_LOCKTIME_TYPE_FLAG = 0x00400000;
export const SEQUENCE_LOCKTIME_MASK = 0x0000ffff;
export const LOCKTIME_THRESHOLD = 500_000_000;
export const WITNESS_SCALE_FACTOR = 4;

/** Byte ranges of a parsed encoding, used to hash the txid without the witness. */
interface SourceSpans {
  readonly raw: Uint8Array;
  /** end of version (4) — body starts after the marker/flag when segwit. */
  readonly bodyStart: number;
  /** end of outputs (start of witnesses, or of locktime when none). */
  readonly bodyEnd: number;
}

export class Transaction {
  private _txid: Uint8Array | undefined;
  private _wtxid: Uint8Array | undefined;
  private _spans: SourceSpans | undefined;
  private _hasWitness: boolean | undefined;

  constructor(
    readonly version: number,
    readonly inputs: readonly TxIn[],
    readonly outputs: readonly TxOut[],
    readonly locktime: number,
    spans?: SourceSpans,
  ) {
    this._spans = spans;
  }

  hasWitness(): boolean {
    if (this._hasWitness === undefined) {
      this._hasWitness = this.inputs.some((i) => i.witness.length > 0);
    }
    return this._hasWitness;
  }

  isCoinbase(): boolean {
    const first = this.inputs[0];
    return this.inputs.length === 1 && first !== undefined && first.prevout.index === 0xffffffff && isNullHash(first.prevout.hash);
  }

  /** txid, internal byte order. */
  txid(): Uint8Array {
    if (this._txid === undefined) {
      const s = this._spans;
      if (s === undefined) {
        this._txid = hash256(this.toBytes(false));
      } else if (!this.hasWitness()) {
        this._txid = hash256(s.raw);
      } else {
        const end = s.raw.length;
        this._txid = hash256Parts([s.raw.subarray(0, 4), s.raw.subarray(s.bodyStart, s.bodyEnd), s.raw.subarray(end - 4, end)]);
      }
    }
    return this._txid;
  }

  /** wtxid (BIP141), internal byte order; equals txid when there is no witness. */
  wtxid(): Uint8Array {
    if (this._wtxid === undefined) {
      if (!this.hasWitness()) this._wtxid = this.txid();
      else this._wtxid = hash256(this._spans !== undefined ? this._spans.raw : this.toBytes(true));
    }
    return this._wtxid;
  }

  /** Take the txid and wtxid computed elsewhere from this transaction's bytes (see adoptBlockHashes). */
  adoptHashes(txid: Uint8Array, wtxid: Uint8Array): void {
    this._txid = txid;
    this._wtxid = wtxid;
  }

  /** The encoding this transaction was parsed from, if any (a view, not a copy). */
  rawBytes(): Uint8Array | undefined {
    return this._spans?.raw;
  }

  /** Serialized size without witness data. */
  baseSize(): number {
    const s = this._spans;
    if (s !== undefined) return this.hasWitness() ? 4 + (s.bodyEnd - s.bodyStart) + 4 : s.raw.length;
    return this.toBytes(false).length;
  }

  totalSize(): number {
    return this._spans !== undefined ? this._spans.raw.length : this.toBytes(true).length;
  }

  /** BIP141 weight: base size × 3 + total size. */
  weight(): number {
    return this.baseSize() * (WITNESS_SCALE_FACTOR - 1) + this.totalSize();
  }

  toBytes(withWitness = true): Uint8Array {
    const w = new ByteWriter(256);
    this.write(w, withWitness);
    return w.finish();
  }

  write(w: ByteWriter, withWitness = true): void {
    const segwit = withWitness && this.hasWitness();
    w.i32(this.version);
    if (segwit) w.u8(0).u8(1);
    w.compactSize(this.inputs.length);
    for (const input of this.inputs) {
      w.bytes(input.prevout.hash).u32(input.prevout.index).varBytes(input.scriptSig).u32(input.sequence);
    }
    w.compactSize(this.outputs.length);
    for (const out of this.outputs) w.i64(out.value).varBytes(out.scriptPubKey);
    if (segwit) {
      for (const input of this.inputs) {
        w.compactSize(input.witness.length);
        for (const item of input.witness) w.varBytes(item);
      }
    }
    w.u32(this.locktime);
  }

  /** Parse one transaction at the reader's offset (throws ParseError; see decodeTransaction). */
  static read(r: ByteReader, allowWitness = true): Transaction {
    const start = r.offset;
    const version = r.i32();
    let bodyStart = r.offset;
    let flags = 0;
    let inputs = readInputs(r);
    let outputs: TxOut[];
    if (inputs.length === 0 && allowWitness) {
      // BIP144: an empty input vector is the marker; the next byte carries the flags.
      flags = r.u8();
      if (flags !== 0) {
        bodyStart = r.offset;
        inputs = readInputs(r);
        outputs = readOutputs(r);
      } else {
        outputs = [];
      }
    } else {
      outputs = readOutputs(r);
    }
    const bodyEnd = r.offset;
    if ((flags & 1) !== 0 && allowWitness) {
      flags ^= 1;
      let anyWitness = false;
      for (let i = 0; i < inputs.length; i++) {
        const n = r.compactSize();
        // Every item takes at least its 1-byte length: as for inputs and outputs, a count the bytes
        // left cannot hold is refused before allocating (5 bytes asked for 2^25 slots, 268 MB).
        if (n > r.remaining) throw new ParseError('truncated', r.offset, `${n} witness items cannot fit in ${r.remaining} bytes`);
        const items: Uint8Array[] = new Array(n);
        for (let j = 0; j < n; j++) items[j] = r.varBytes();
        if (n > 0) anyWitness = true;
        // Set on the input readInputs made (same shape): no second object an input.
        (inputs[i] as { witness: readonly Uint8Array[] }).witness = items;
      }
      if (!anyWitness) throw new ParseError('superfluous-witness', bodyEnd, 'Superfluous witness record');
    }
    if (flags !== 0) throw new ParseError('unknown-optional-data', bodyStart - 1, 'Unknown transaction optional data');
    const locktime = r.u32();
    const raw = r.bytes.subarray(start, r.offset);
    return new Transaction(version, inputs, outputs, locktime, { raw, bodyStart: bodyStart - start, bodyEnd: bodyEnd - start });
  }
}

const NO_WITNESS: readonly Uint8Array[] = Object.freeze([]);

function readInputs(r: ByteReader): TxIn[] {
  const n = r.compactSize();
  // Every input takes at least 41 bytes: refuse counts the remaining bytes cannot hold
  // before allocating (a 5-byte length could otherwise ask for millions of slots).
  if (n * 41 > r.remaining) throw new ParseError('truncated', r.offset, `${n} inputs cannot fit in ${r.remaining} bytes`);
  const inputs: TxIn[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const hash = r.bytesView(32);
    const index = r.u32();
    const scriptSig = r.varBytes();
    const sequence = r.u32();
    inputs[i] = { prevout: { hash, index }, scriptSig, sequence, witness: NO_WITNESS };
  }
  return inputs;
}

function readOutputs(r: ByteReader): TxOut[] {
  const n = r.compactSize();
  if (n * 9 > r.remaining) throw new ParseError('truncated', r.offset, `${n} outputs cannot fit in ${r.remaining} bytes`);
  const outputs: TxOut[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const value = r.i64();
    const scriptPubKey = r.varBytes();
    outputs[i] = { value, scriptPubKey };
  }
  return outputs;
}

export function isNullHash(h: Uint8Array): boolean {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false;
  return true;
}

export type DecodeTxResult = { ok: true; tx: Transaction } | ParseFailure;

/** Decode exactly one transaction from bytes; trailing bytes are a failure. Never throws on bad data. */
export function decodeTransaction(bytes: Uint8Array, allowWitness = true): DecodeTxResult {
  try {
    const r = new ByteReader(bytes);
    const tx = Transaction.read(r, allowWitness);
    if (r.remaining !== 0) throw new ParseError('trailing-data', r.offset, 'data after the end of the transaction');
    return { ok: true, tx };
  } catch (err) {
    return toParseFailure(err);
  }
}

/** Serialize a single output (as hashed by BIP341 and stored in spent-output files). */
export function serializeTxOut(out: TxOut): Uint8Array {
  return new ByteWriter(out.scriptPubKey.length + 9).i64(out.value).varBytes(out.scriptPubKey).finish();
}
