// BIP341 taproot commitments: leaf and branch hashes, the key tweak, control blocks,
// and the commitment check the script-path spend performs.

import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { taggedHash, taggedHasher } from '../primitives/hash.js';
import { compareBytes } from '../primitives/bytes.js';
import { ByteWriter } from '../primitives/writer.js';
import { mulAddG } from './ecmult.js';
import { N, liftX } from './field.js';
import { bytesToBig } from './noble-verify.js';
import type { SignatureBackend } from './signature.js';

export const TAPROOT_LEAF_MASK = 0xfe;
export const TAPROOT_LEAF_TAPSCRIPT = 0xc0;
export const TAPROOT_CONTROL_BASE_SIZE = 33;
export const TAPROOT_CONTROL_NODE_SIZE = 32;
export const TAPROOT_CONTROL_MAX_NODE_COUNT = 128;
export const TAPROOT_CONTROL_MAX_SIZE = TAPROOT_CONTROL_BASE_SIZE + TAPROOT_CONTROL_NODE_SIZE * TAPROOT_CONTROL_MAX_NODE_COUNT;
export const ANNEX_TAG = 0x50;

const Point = secp256k1.Point;

/** TapLeaf hash: tagged("TapLeaf", leafVersion || compactSize(script) || script). */
export function tapLeafHash(leafVersion: number, script: Uint8Array): Uint8Array {
  const prefix = new ByteWriter(6).u8(leafVersion).compactSize(script.length).finish();
  return taggedHasher('TapLeaf').update(prefix).update(script).digest();
}

/** TapBranch hash of two children, in lexicographic order. */
export function tapBranchHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) < 0 ? taggedHash('TapBranch', a, b) : taggedHash('TapBranch', b, a);
}

/** TapTweak hash of the internal key and, if any, the script tree's merkle root. */
export function tapTweakHash(internalKey: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  return merkleRoot === undefined ? taggedHash('TapTweak', internalKey) : taggedHash('TapTweak', internalKey, merkleRoot);
}

/** Core's ComputeTaprootMerkleRoot: fold the control block's path onto the leaf hash. */
export function computeTaprootMerkleRoot(control: Uint8Array, leafHash: Uint8Array): Uint8Array {
  let k = leafHash;
  for (let off = TAPROOT_CONTROL_BASE_SIZE; off < control.length; off += TAPROOT_CONTROL_NODE_SIZE) {
    k = tapBranchHash(k, control.subarray(off, off + TAPROOT_CONTROL_NODE_SIZE));
  }
  return k;
}

/**
 * Q = P + H_TapTweak(P || root)·G. Returns the x-only output key and its y parity,
 * or undefined when P is not a valid x coordinate or the tweak is out of range.
 */
export function tweakPublicKey(internalKey: Uint8Array, merkleRoot?: Uint8Array): { outputKey: Uint8Array; parity: 0 | 1 } | undefined {
  return tweakBy(internalKey, tapTweakHash(internalKey, merkleRoot));
}

function tweakBy(internalKey: Uint8Array, tweak: Uint8Array): { outputKey: Uint8Array; parity: 0 | 1 } | undefined {
  const p = liftX(bytesToBig(internalKey), false);
  if (p === undefined) return undefined;
  const t = bytesToBig(tweak);
  if (t >= N) return undefined;
  // Public data: ecmult's variable-time multiplication (t·G, then P added: no table of P).
  const q = mulAddG(t, p, 0n);
  q.addAffine(p.x, p.y);
  const aff = q.toAffine();
  if (aff === undefined) return undefined;
  const outputKey = new Uint8Array(32);
  let x = aff.x;
  for (let i = 31; i >= 0; i--) {
    outputKey[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return { outputKey, parity: (aff.y & 1n) === 1n ? 1 : 0 };
}

/** The secret key that signs for the tweaked output key (BIP341 key-path signing). */
export function tweakSecretKey(secretKey: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  const d0 = bytesToBig(secretKey);
  const pub = Point.BASE.multiply(d0).toAffine();
  const d = (pub.y & 1n) === 1n ? N - d0 : d0;
  const internalKey = schnorr.getPublicKey(secretKey);
  const t = bytesToBig(tapTweakHash(internalKey, merkleRoot));
  const out = new Uint8Array(32);
  let v = (d + t) % N;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Core's VerifyTaprootCommitment: the control block's key and path tweak to the program. The
 * check itself is the backend's when it has one (libsecp256k1's tweak_add_check, as Core), else
 * noble's arithmetic here.
 */
export function verifyTaprootCommitment(control: Uint8Array, program: Uint8Array, leafHash: Uint8Array, backend?: SignatureBackend): boolean {
  const internalKey = control.subarray(1, TAPROOT_CONTROL_BASE_SIZE);
  const root = computeTaprootMerkleRoot(control, leafHash);
  const tweak = tapTweakHash(internalKey, root);
  if (backend?.checkTapTweak !== undefined) return backend.checkTapTweak(internalKey, tweak, program, control[0]! & 1);
  return checkTapTweakNoble(internalKey, tweak, program, control[0]! & 1);
}

/** CheckTapTweak on the default backend's arithmetic: P + t·G computed, its x and parity compared. */
export function checkTapTweakNoble(internalKey: Uint8Array, tweak: Uint8Array, outputKey: Uint8Array, parity: number): boolean {
  const tweaked = tweakBy(internalKey, tweak);
  if (tweaked === undefined) return false;
  if (tweaked.parity !== parity) return false;
  return compareBytes(tweaked.outputKey, outputKey) === 0;
}
