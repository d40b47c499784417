// The xor.dat obfuscation key that Bitcoin Core 28+ keeps in its blocks directory: every byte of
// every blk*.dat file is XORed with key[filePosition % 8] (Core's util::Xor / Obfuscation).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isZero } from '../primitives/bytes.js';

export const XOR_KEY_FILE = 'xor.dat';
/** Core serializes the key as a fixed 8-byte array, with no length prefix: the file is exactly this size. */
export const XOR_KEY_SIZE = 8;

/**
 * The key in `dir`/xor.dat, or undefined when the file is missing or the key is all zeros (no
 * obfuscation, as Core's -blocksxor=0 writes). A file of another size is not a key Core wrote:
 * that throws, at open, before any block is read.
 */
export function readXorKey(dir: string): Uint8Array | undefined {
  const path = join(dir, XOR_KEY_FILE);
  if (!existsSync(path)) return undefined;
  let key: Uint8Array;
  try {
    key = new Uint8Array(readFileSync(path));
  } catch (err) {
    // Node's message for some failures (EISDIR: a directory of that name) names no file.
    throw new Error(`${path}: cannot read the obfuscation key: ${(err as Error).message}`, { cause: err });
  }
  if (key.length !== XOR_KEY_SIZE) {
    throw new Error(`${path}: an obfuscation key is ${XOR_KEY_SIZE} bytes, this file has ${key.length}`);
  }
  return isZero(key) ? undefined : key;
}

export function writeXorKey(dir: string, key: Uint8Array): void {
  checkXorKey(key);
  writeFileSync(join(dir, XOR_KEY_FILE), key);
}

/** Throws on a key of the wrong size (caller misuse). */
export function checkXorKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== XOR_KEY_SIZE) {
    throw new TypeError(`an xor key is ${XOR_KEY_SIZE} bytes`);
  }
}

/**
 * XOR `buf` in place with `key`, where buf[0] sits at `filePosition` in its file. The same call
 * obfuscates and de-obfuscates. A missing or all-zero key leaves the bytes as they are.
 */
export function xorInPlace(buf: Uint8Array, key: Uint8Array | undefined, filePosition: number): void {
  if (key === undefined || isZero(key)) return;
  const n = buf.length;
  let i = 0;
  // Byte by byte until the file position is 8-aligned, then two 32-bit words per step.
  for (; i < n && (filePosition + i) % XOR_KEY_SIZE !== 0; i++) buf[i]! ^= key[(filePosition + i) % XOR_KEY_SIZE]!;
  const aligned = (buf.byteOffset + i) % 4 === 0;
  if (aligned && n - i >= 8) {
    const words = new Uint32Array(buf.buffer, buf.byteOffset + i, (n - i) >>> 2);
    const k = new Uint32Array(new Uint8Array(key).buffer);
    const k0 = k[0]!;
    const k1 = k[1]!;
    let w = 0;
    for (; w + 1 < words.length; w += 2) {
      words[w]! ^= k0;
      words[w + 1]! ^= k1;
    }
    i += w * 4;
  }
  for (; i < n; i++) buf[i]! ^= key[(filePosition + i) % XOR_KEY_SIZE]!;
}
