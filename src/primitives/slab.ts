// Small byte strings cut from shared slabs. Every ArrayBuffer is a heap object plus a native
// allocation that only a GC frees, and V8 promotes the ones that live across a few young
// collections; a coin's script or record, copied into an ArrayBuffer of its own, was ~870,000 of
// them over a 10,000-block import. Cut from 8 KiB slabs they are views of ~one buffer a block.
// A view keeps its whole slab alive, as Node's own Buffer pool does for small Buffers.

export class ByteSlab {
  private slab = new Uint8Array(0);
  private used = 0;

  /** `slabBytes`: the size of each slab; a request over a quarter of it gets a buffer of its own. */
  constructor(private readonly slabBytes = 8192) {}

  /** A new zeroed `n`-byte view. */
  cut(n: number): Uint8Array {
    if (n > this.slabBytes >>> 2) return new Uint8Array(n);
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(this.slabBytes);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }

  /** A copy of `bytes` in a slab. */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.cut(bytes.length);
    out.set(bytes);
    return out;
  }
}
