// A growable little-endian writer for the wire formats, the mirror of ByteReader.

export function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  offset = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.offset + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.offset++] = v;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.offset, v, true);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    this.reserve(4);
    this.view.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }

  /** int64 LE from a number (exact within ±2^53). */
  i64(v: number): this {
    this.reserve(8);
    const hi = Math.floor(v / 0x1_0000_0000);
    const lo = v - hi * 0x1_0000_0000;
    this.view.setUint32(this.offset, lo, true);
    this.view.setInt32(this.offset + 4, hi | 0, true);
    this.offset += 8;
    return this;
  }

  u64(v: number): this {
    return this.i64(v);
  }

  compactSize(n: number): this {
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u16(n);
    if (n <= 0xffffffff) return this.u8(0xfe).u32(n);
    this.u8(0xff);
    this.u32(n % 0x1_0000_0000);
    return this.u32(Math.floor(n / 0x1_0000_0000));
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  varBytes(b: Uint8Array): this {
    return this.compactSize(b.length).bytes(b);
  }

  /** The written bytes (a copy sized to what was written). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.offset);
  }
}
