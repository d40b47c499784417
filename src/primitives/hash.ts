// Hash functions of the protocol. SHA-256 goes through node:crypto (hardware SHA; measured
// ~12x faster than @noble/hashes on large inputs, ~2x on 64 bytes), except for inputs of up to
// 119 bytes, which sha256-short.ts hashes faster than a call into node:crypto costs (merkle nodes,
// the second round of every double hash, public keys); so does RIPEMD-160 where
// the OpenSSL build has it (~2x faster on the 32 bytes of HASH160; checked once at load, with
// @noble/hashes as the fallback); SHA-1 comes from @noble/hashes. Tagged hashes (BIP340) keep a precomputed midstate per tag.
// One-shot crypto.hash() avoids a Hash object per call: txids of a full block took
// 20.4 ms with createHash() and 9.4 ms with it (block 866342, bench/parse).
// Every function returns a fresh Uint8Array, which may or may not be a Node Buffer (a subclass)
// depending on the path taken: compare contents (equalBytes), never rely on Buffer methods.

import { createHash, hash as oneShot, type Hash } from 'node:crypto';
import { ripemd160 as nobleRipemd160, sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { SHORT_MAX, sha256ShortInto } from './sha256-short.js';

export function sha256(data: Uint8Array): Uint8Array {
  return data.length <= SHORT_MAX ? sha256ShortInto(data, new Uint8Array(32)) : oneShot('sha256', data, 'buffer');
}

/** The first round of a double hash (read before the next call on this thread). */
const firstRound = new Uint8Array(32);

/** SHA-256 over several parts without concatenating them. */
export function sha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Double SHA-256: txids, block hashes, legacy and BIP143 sighashes. */
export function hash256(data: Uint8Array): Uint8Array {
  const first = data.length <= SHORT_MAX ? sha256ShortInto(data, firstRound) : oneShot('sha256', data, 'buffer');
  return sha256ShortInto(first, new Uint8Array(32));
}

export function hash256Parts(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  if (scratch.length < len) scratch = new Uint8Array(Math.max(len, 2 * scratch.length));
  let off = 0;
  for (const p of parts) {
    scratch.set(p, off);
    off += p.length;
  }
  return hash256(scratch.subarray(0, len));
}

/** Reused buffer for hashing several parts at once (single-threaded per isolate). */
let scratch = new Uint8Array(4096);

/** Whether node:crypto computes RIPEMD-160 here, and right (a known answer: RIPEMD-160 of "abc"). */
const nativeRipemd160 = ((): boolean => {
  try {
    return oneShot('ripemd160', 'abc', 'hex') === '8eb208f7e05d987a9b044a8e98c6b087f15a0bfc';
  } catch {
    return false;
  }
})();

export function ripemd160(data: Uint8Array): Uint8Array {
  return nativeRipemd160 ? oneShot('ripemd160', data, 'buffer') : nobleRipemd160(data);
}

export function sha1(data: Uint8Array): Uint8Array {
  return nobleSha1(data);
}

/** RIPEMD160(SHA256(x)): P2PKH and P2SH hashes. */
export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

const tagMidstates = new Map<string, Hash>();

/** A hasher already fed SHA256(tag) || SHA256(tag); callers update() and digest(). */
export function taggedHasher(tag: string): Hash {
  let mid = tagMidstates.get(tag);
  if (mid === undefined) {
    const t = createHash('sha256').update(tag, 'utf8').digest();
    mid = createHash('sha256').update(t).update(t);
    tagMidstates.set(tag, mid);
  }
  return mid.copy();
}

/** BIP340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || parts...). */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const h = taggedHasher(tag);
  for (const p of parts) h.update(p);
  return h.digest();
}
