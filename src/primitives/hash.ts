// Hash functions of the protocol. SHA-256 goes through node:crypto (hardware SHA; measured
// ~12x faster than @noble/hashes on large inputs, ~2x on 64 bytes); RIPEMD-160 and SHA-1
// come from @noble/hashes. Tagged hashes (BIP340) keep a precomputed midstate per tag.

import { createHash, type Hash } from 'node:crypto';
import { ripemd160 as nobleRipemd160, sha1 as nobleSha1 } from '@noble/hashes/legacy.js';

export function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/** SHA-256 over several parts without concatenating them. */
export function sha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Double SHA-256: txids, block hashes, legacy and BIP143 sighashes. */
export function hash256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

export function hash256Parts(parts: readonly Uint8Array[]): Uint8Array {
  return sha256(sha256Parts(parts));
}

export function ripemd160(data: Uint8Array): Uint8Array {
  return nobleRipemd160(data);
}

export function sha1(data: Uint8Array): Uint8Array {
  return nobleSha1(data);
}

/** RIPEMD160(SHA256(x)): P2PKH and P2SH hashes. */
export function hash160(data: Uint8Array): Uint8Array {
  return nobleRipemd160(sha256(data));
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
