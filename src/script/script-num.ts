// CScriptNum: the script's little-endian sign-magnitude integers (script/script.h).
// Operands are at most 4 bytes (5 for CLTV/CSV), so results fit a JS number exactly
// (|x| < 2^40 even after one arithmetic step).

import { ScriptFailure } from './errors.js';

export const DEFAULT_MAX_NUM_SIZE = 4;

/** Decode a stack element as a number, enforcing size and (optionally) minimal encoding. */
export function scriptNumDecode(bytes: Uint8Array, requireMinimal: boolean, maxSize = DEFAULT_MAX_NUM_SIZE): number {
  const n = bytes.length;
  if (n > maxSize) throw new ScriptFailure('SCRIPTNUM');
  if (n === 0) return 0;
  if (requireMinimal) {
    // The most significant byte must carry more than the sign bit, unless the byte
    // before it would otherwise be read as the sign.
    if ((bytes[n - 1]! & 0x7f) === 0 && (n <= 1 || (bytes[n - 2]! & 0x80) === 0)) {
      throw new ScriptFailure('SCRIPTNUM');
    }
  }
  let result = 0;
  for (let i = 0; i < n - 1; i++) result += bytes[i]! * 2 ** (8 * i);
  const last = bytes[n - 1]!;
  result += (last & 0x7f) * 2 ** (8 * (n - 1));
  return last & 0x80 ? -result : result;
}

/** Encode a number minimally (CScriptNum::serialize). */
export function scriptNumEncode(value: number): Uint8Array {
  if (value === 0) return EMPTY;
  // Infinity would loop here until the process ran out of memory; NaN or a fraction has no encoding.
  if (!Number.isSafeInteger(value)) throw new RangeError(`scriptNumEncode: ${value} is not a safe integer`);
  const neg = value < 0;
  let abs = Math.abs(value);
  const out: number[] = [];
  while (abs > 0) {
    out.push(abs % 256);
    abs = Math.floor(abs / 256);
  }
  const last = out[out.length - 1]!;
  if (last & 0x80) out.push(neg ? 0x80 : 0);
  else if (neg) out[out.length - 1] = last | 0x80;
  return Uint8Array.from(out);
}

const EMPTY = new Uint8Array(0);

/** CastToBool: any non-zero byte, except a lone sign bit in the last byte (negative zero). */
export function castToBool(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) {
      if (i === bytes.length - 1 && bytes[i] === 0x80) return false;
      return true;
    }
  }
  return false;
}
