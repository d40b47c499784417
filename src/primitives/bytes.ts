// Byte helpers shared by every layer: hex, comparison, concatenation.
// Kept tiny and allocation-aware; hot paths use subarray() over the source buffer.

const HEX = '0123456789abcdef';
const HEX_BYTE: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i]!]!;
  return out;
}

/** Hex to bytes; throws on malformed hex (caller misuse or test data, never block data). */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new TypeError(`hex string has odd length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const b = parseInt(hex.substr(i * 2, 2), 16);
    if (Number.isNaN(b) || !/^[0-9a-fA-F]{2}$/.test(hex.substr(i * 2, 2))) {
      throw new TypeError(`invalid hex at position ${i * 2}`);
    }
    out[i] = b;
  }
  return out;
}

/** Display order of a 256-bit hash (txid, block hash): the byte-reversed digest as hex. */
export function hashToHex(hash: Uint8Array): string {
  let out = '';
  for (let i = hash.length - 1; i >= 0; i--) out += HEX_BYTE[hash[i]!]!;
  return out;
}

export function hexToHash(hex: string): Uint8Array {
  return reverseBytes(fromHex(hex));
}

export function reverseBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[bytes.length - 1 - i]!;
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** The 32 big-endian bytes at bytes[at..at+32) as an unsigned integer. */
export function readBig256(bytes: Uint8Array, at: number): bigint {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, 32);
  return (dv.getBigUint64(0) << 192n) | (dv.getBigUint64(8) << 128n) | (dv.getBigUint64(16) << 64n) | dv.getBigUint64(24);
}

/** `v` (below 2^256) as 32 big-endian bytes at `offset` of `dv`. */
export function writeBig256(dv: DataView, offset: number, v: bigint): void {
  dv.setBigUint64(offset, v >> 192n);
  dv.setBigUint64(offset + 8, BigInt.asUintN(64, v >> 128n));
  dv.setBigUint64(offset + 16, BigInt.asUintN(64, v >> 64n));
  dv.setBigUint64(offset + 24, BigInt.asUintN(64, v));
}
