// A reusable little-endian buffer for signature-hash preimages. Sighashes are computed one at a
// time on a thread and hashed as soon as they are written, so one growing buffer serves them all:
// no writer, buffer or copy per signature (a fresh ByteWriter plus its finish() copy was ~1 µs of
// the ~15 µs of work around each libsecp256k1 verify on block 928927).

import { hash as oneShot } from 'node:crypto';
import { hash256 } from '../primitives/hash.js';
import { FROM_MAX, sha256FromInto, sha256Midstate, sha256ShortInto, type Sha256Midstate } from '../primitives/sha256-short.js';

/** The first round of a double hash (read before the next call on this thread). */
const firstRound = new Uint8Array(32);

export class Preimage {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private offset = 0;

  /** Start a new preimage of at most `capacity` bytes (grows the buffer if needed). */
  reset(capacity: number): this {
    if (capacity > this.buf.length) {
      this.buf = new Uint8Array(Math.max(capacity, 2 * this.buf.length));
      this.view = new DataView(this.buf.buffer);
    }
    this.offset = 0;
    return this;
  }

  u8(v: number): this {
    this.buf[this.offset++] = v;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    this.view.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }

  /** int64 LE from a number (exact within ±2^53). */
  i64(v: number): this {
    const hi = Math.floor(v / 0x1_0000_0000);
    this.view.setUint32(this.offset, v - hi * 0x1_0000_0000, true);
    this.view.setInt32(this.offset + 4, hi | 0, true);
    this.offset += 8;
    return this;
  }

  compactSize(n: number): this {
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) {
      this.u8(0xfd);
      this.view.setUint16(this.offset, n, true);
      this.offset += 2;
      return this;
    }
    return this.u8(0xfe).u32(n);
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  varBytes(b: Uint8Array): this {
    return this.compactSize(b.length).bytes(b);
  }

  /** SHA-256 of what was written. */
  sha256(): Uint8Array {
    return oneShot('sha256', this.buf.subarray(0, this.offset), 'buffer');
  }

  /** Double SHA-256 of what was written. */
  hash256(): Uint8Array {
    return hash256(this.buf.subarray(0, this.offset));
  }

  /** SHA-256's state after the first `bytes` written (whole blocks), continuing `from` if given. */
  midstate(bytes: number, from?: Sha256Midstate): Sha256Midstate {
    return sha256Midstate(this.buf.subarray(0, bytes), from);
  }

  /** A copy of the first `n` bytes written. */
  head(n: number): Uint8Array {
    return this.buf.slice(0, n);
  }

  /** Whether the first bytes written are `prefix`. */
  startsWith(prefix: Uint8Array): boolean {
    const b = this.buf;
    for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
    return this.offset >= prefix.length;
  }

  /** Whether what was written past byte `skip` is short enough for sha256From/hash256From. */
  fitsFrom(skip: number): boolean {
    return this.offset - skip <= FROM_MAX;
  }

  /** SHA-256 of the message `mid` began, then what was written from byte `skip` on (fitsFrom). */
  sha256From(mid: Sha256Midstate, skip: number): Uint8Array {
    return sha256FromInto(mid, this.buf, skip, this.offset, new Uint8Array(32));
  }

  /** Double SHA-256 of the message `mid` began, then what was written from byte `skip` on (fitsFrom). */
  hash256From(mid: Sha256Midstate, skip: number): Uint8Array {
    sha256FromInto(mid, this.buf, skip, this.offset, firstRound);
    return sha256ShortInto(firstRound, new Uint8Array(32));
  }

  /** What was written, as a view valid until the next reset (for a hasher's update). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }
}

/** Room for a compact-size prefix and `n` bytes. */
export function varBytesSize(n: number): number {
  return 9 + n;
}
