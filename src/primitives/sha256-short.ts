// SHA-256 (FIPS 180-4) of short inputs, in TypeScript. node:crypto hashes with the CPU's SHA
// instructions (~0.04 µs a 64-byte block here) but costs ~0.7–1 µs a call whatever the length;
// one compression here costs ~0.3 µs. So an input of one or two blocks (up to 119 bytes: a merkle
// node's 64, the 32 of a double hash's second round, a 33-byte key) hashes faster here, and a
// longer one faster there (hash.ts picks). Checked against node:crypto at every length 0–300.

/** Longest input hashed here: two blocks with their padding. */
export const SHORT_MAX = 119;

// prettier-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// prettier-ignore
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** Message schedule, state and the padded tail: one set per thread (hashing is synchronous). */
const W = new Int32Array(64);
const S = new Int32Array(8);
const TAIL = new Uint8Array(128);

/** W[16..64) from W[0..16). */
function expand(): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
}

/** The 64 rounds of the schedule `w` into S. */
function rounds(w: Int32Array): void {
  let a = S[0]!;
  let b1 = S[1]!;
  let c = S[2]!;
  let d = S[3]!;
  let e = S[4]!;
  let f = S[5]!;
  let g = S[6]!;
  let h = S[7]!;
  for (let i = 0; i < 64; i++) {
    const sigma1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + sigma1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const sigma0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (sigma0 + ((a & b1) ^ (a & c) ^ (b1 & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b1;
    b1 = a;
    a = (t1 + t2) | 0;
  }
  S[0] = (S[0]! + a) | 0;
  S[1] = (S[1]! + b1) | 0;
  S[2] = (S[2]! + c) | 0;
  S[3] = (S[3]! + d) | 0;
  S[4] = (S[4]! + e) | 0;
  S[5] = (S[5]! + f) | 0;
  S[6] = (S[6]! + g) | 0;
  S[7] = (S[7]! + h) | 0;
}

/** One compression of the 64 bytes at b[o..o+64) into S. */
function compress(b: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++, o += 4) W[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  expand();
  rounds(W);
}

/** S as 32 big-endian bytes at out[p..p+32). */
function store(out: Uint8Array, p: number): void {
  for (let i = 0; i < 8; i++) {
    const v = S[i]!;
    out[p + 4 * i] = v >>> 24;
    out[p + 4 * i + 1] = (v >>> 16) & 0xff;
    out[p + 4 * i + 2] = (v >>> 8) & 0xff;
    out[p + 4 * i + 3] = v & 0xff;
  }
}

/**
 * The schedule of the block that pads a 64-byte message (0x80, zeros, the length 512): the same
 * for every such message, so it is expanded once (Core's SHA256D64 does the same).
 */
const PAD64_W = ((): Int32Array => {
  W.fill(0);
  W[0] = 0x80000000 | 0;
  W[15] = 512;
  expand();
  return W.slice();
})();

/**
 * Double SHA-256 of the 64 bytes at b[o..o+64), written to out[p..p+32): a merkle node. `out` may
 * be `b` (even over the input: the input is read before anything is written).
 */
export function hash256Of64Into(b: Uint8Array, o: number, out: Uint8Array, p: number): void {
  S.set(IV);
  compress(b, o);
  rounds(PAD64_W);
  // The second round hashes the 32-byte digest: its words, 0x80, zeros and the length 256.
  for (let i = 0; i < 8; i++) W[i] = S[i]!;
  W[8] = 0x80000000 | 0;
  W.fill(0, 9, 15);
  W[15] = 256;
  expand();
  S.set(IV);
  rounds(W);
  store(out, p);
}

/**
 * SHA-256's state after the first whole blocks of a message: a signature hash's preimage starts
 * with 64 bytes that every input of its transaction shares (BIP143: the version, hashPrevouts and
 * most of hashSequence; BIP341: the tag's two hashes, then the version, lock time, sha_prevouts
 * and part of sha_amounts), so those blocks are compressed once a transaction, not once an input.
 */
export interface Sha256Midstate {
  readonly words: Int32Array;
  /** Bytes of the message the state has taken: a multiple of 64. */
  readonly bytes: number;
}

/** The state after `data` (a whole number of 64-byte blocks) from `from` (default: the IV). */
export function sha256Midstate(data: Uint8Array, from?: Sha256Midstate): Sha256Midstate {
  if (data.length % 64 !== 0) throw new RangeError(`a midstate takes whole 64-byte blocks, got ${data.length} bytes`);
  S.set(from?.words ?? IV);
  for (let o = 0; o < data.length; o += 64) compress(data, o);
  return { words: S.slice(), bytes: (from?.bytes ?? 0) + data.length };
}

/**
 * Longest rest of a message sha256FromInto hashes: three blocks with the padding. Past that,
 * one call into node:crypto (~1 µs, then ~0.04 µs a block) costs less than ~0.3 µs a block here.
 */
export const FROM_MAX = 183;

/**
 * SHA-256 of the message that `mid` began, followed by data[from..to) (at most FROM_MAX bytes),
 * written to out[0..32); returns `out`. `out` may be `data` only outside [from, to).
 */
export function sha256FromInto(mid: Sha256Midstate, data: Uint8Array, from: number, to: number, out: Uint8Array): Uint8Array {
  const n = to - from;
  if (n < 0 || n > FROM_MAX || to > data.length) throw new RangeError(`sha256FromInto takes 0..${FROM_MAX} bytes within the data, got [${from}, ${to}) of ${data.length}`);
  S.set(mid.words);
  const whole = from + (n & ~63);
  for (let o = from; o < whole; o += 64) compress(data, o);
  const r = to - whole;
  const end = r < 56 ? 64 : 128;
  for (let i = 0; i < r; i++) TAIL[i] = data[whole + i]!;
  TAIL.fill(0, r, end);
  TAIL[r] = 0x80;
  // The length in bits, big-endian in the last 8 bytes (below 2^32 for any preimage).
  const bits = (mid.bytes + n) * 8;
  TAIL[end - 4] = bits >>> 24;
  TAIL[end - 3] = (bits >>> 16) & 0xff;
  TAIL[end - 2] = (bits >>> 8) & 0xff;
  TAIL[end - 1] = bits & 0xff;
  compress(TAIL, 0);
  if (end === 128) compress(TAIL, 64);
  store(out, 0);
  return out;
}

/** SHA-256 of `data` (at most SHORT_MAX bytes) written to out[0..32); returns `out`. */
export function sha256ShortInto(data: Uint8Array, out: Uint8Array): Uint8Array {
  const n = data.length;
  if (n > SHORT_MAX) throw new RangeError(`sha256ShortInto takes at most ${SHORT_MAX} bytes, got ${n}`);
  S.set(IV);
  // Message, the 0x80 bit, zeros, and the bit length (big-endian; below 2^32 here) in 1 or 2 blocks.
  const end = n < 56 ? 64 : 128;
  TAIL.fill(0, n, end);
  TAIL.set(data);
  TAIL[n] = 0x80;
  const bits = n * 8;
  TAIL[end - 2] = bits >>> 8;
  TAIL[end - 1] = bits & 0xff;
  compress(TAIL, 0);
  if (end === 128) compress(TAIL, 64);
  store(out, 0);
  return out;
}
