// A cursor over a Uint8Array for the wire formats: LE integers, Bitcoin's CompactSize
// (non-canonical encodings rejected, as Core's ReadCompactSize does) and byte slices.
// Reads past the end throw ParseError; decoders catch it at their boundary and return
// a typed failure naming the offset, so no malformed input escapes as an exception.

/** Core's MAX_SIZE: the largest CompactSize a length may take (32 MiB). */
export const MAX_SIZE = 0x02000000;

export type ParseCode =
  | 'truncated'
  | 'non-canonical-compactsize'
  | 'size-too-large'
  | 'superfluous-witness'
  | 'unknown-optional-data'
  | 'trailing-data'
  | 'bad-format';

export class ParseError extends Error {
  constructor(
    readonly code: ParseCode,
    readonly offset: number,
    message: string,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'ParseError';
  }
}

/** A parse failure as plain data (safe to postMessage). */
export interface ParseFailure {
  ok: false;
  code: ParseCode;
  offset: number;
  message: string;
}

export function toParseFailure(err: unknown): ParseFailure {
  if (err instanceof ParseError) return { ok: false, code: err.code, offset: err.offset, message: err.message };
  throw err;
}

export class ByteReader {
  offset: number;
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
  ) {
    // Misuse from plain JavaScript (a hex string, an ArrayBuffer): said plainly, not as DataView's complaint.
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`expected bytes as a Uint8Array (or Buffer), got ${Object.prototype.toString.call(bytes)}`);
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.bytes.length) {
      throw new ParseError('truncated', this.offset, `need ${n} bytes, have ${this.bytes.length - this.offset}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }

  /** uint64 LE as a number; exact below 2^53, approximate (and then always > MAX_MONEY) above. */
  u64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.offset, true);
    const hi = this.view.getUint32(this.offset + 4, true);
    this.offset += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** int64 LE as a number: exact within ±2^53; larger magnitudes only need to stay out of MoneyRange. */
  i64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.offset, true);
    const hi = this.view.getInt32(this.offset + 4, true);
    this.offset += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  /** A view into the source (no copy): callers that keep it past the source's life must copy. */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Core's ReadCompactSize with range check: the shortest encoding only, at most MAX_SIZE. */
  compactSize(rangeCheck = true): number {
    const start = this.offset;
    const first = this.u8();
    let n: number;
    if (first < 0xfd) {
      n = first;
    } else if (first === 0xfd) {
      n = this.u16();
      if (n < 0xfd) throw new ParseError('non-canonical-compactsize', start, 'non-canonical ReadCompactSize()');
    } else if (first === 0xfe) {
      n = this.u32();
      if (n < 0x10000) throw new ParseError('non-canonical-compactsize', start, 'non-canonical ReadCompactSize()');
    } else {
      n = this.u64();
      if (n < 0x1_0000_0000) throw new ParseError('non-canonical-compactsize', start, 'non-canonical ReadCompactSize()');
    }
    if (rangeCheck && n > MAX_SIZE) throw new ParseError('size-too-large', start, 'ReadCompactSize(): size too large');
    return n;
  }

  /** A length-prefixed view; every empty one is the same shared empty array (segwit scriptSigs: one view less an input). */
  varBytes(): Uint8Array {
    const n = this.compactSize();
    return n === 0 ? EMPTY : this.bytesView(n);
  }
}

const EMPTY = new Uint8Array(0);
