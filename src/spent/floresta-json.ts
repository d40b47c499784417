// Reader for Floresta's spent_utxos JSON: one object per non-coinbase input in block order,
// carrying the output, its coinbase flag, creation height and BIP68 creation time.

import { MAX_MONEY } from '../primitives/amount.js';
import { ParseError, toParseFailure } from '../primitives/reader.js';
import type { SpentOutput, SpentReadResult } from './types.js';

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * The index of the first top-level element of `text` (JSON that parsed) holding a number not
 * written as a non-negative integer, or -1. JSON.parse reads 1e2 as 100 and 2099999997690000.1
 * as 2099999997690000, so the integer checks on its values would pass both; Floresta writes
 * every number as an unsigned integer.
 */
function firstNonIntegerElement(text: string): number {
  let depth = 0;
  let element = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string (it parsed, so it ends): skip it, escapes included.
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x2c) {
      if (depth === 1) element++;
    } else if (c === 0x2d) return element; // a sign
    else if (isDigit(c)) {
      while (isDigit(text.charCodeAt(i + 1))) i++;
      const next = text.charCodeAt(i + 1);
      if (next === 0x2e || next === 0x65 || next === 0x45) return element; // a fraction or an exponent
    }
  }
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parse `[{"txout":{"value":n,"script_pubkey":"hex"},"is_coinbase":b,"creation_height":n,
 * "creation_time":n}, ...]`. Failures use code 'bad-format'; for a JSON syntax error the
 * offset is the character position reported by the parser (0 when it gives none); for an
 * element of the wrong shape the offset is that element's index in the array.
 */
export function readFlorestaJson(text: string): SpentReadResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
    const pos = m !== null ? Number(m[1]) : 0;
    return { ok: false, code: 'bad-format', offset: pos, message: `invalid JSON at offset ${pos}` };
  }
  if (!Array.isArray(doc)) {
    return { ok: false, code: 'bad-format', offset: 0, message: 'spent_utxos JSON must be an array at offset 0' };
  }
  const outputs: SpentOutput[] = new Array(doc.length);
  const notInteger = firstNonIntegerElement(text);
  try {
    for (let i = 0; i < doc.length; i++) {
      if (i === notInteger) throw bad(i, 'a number not written as a non-negative integer');
      outputs[i] = readElement(doc[i], i);
    }
  } catch (err) {
    return toParseFailure(err);
  }
  return { ok: true, outputs };
}

function readElement(el: unknown, i: number): SpentOutput {
  if (!isRecord(el) || !isRecord(el.txout)) throw bad(i, 'missing txout object');
  const { value, script_pubkey: script } = el.txout;
  // Amounts are JSON numbers: exact as long as they are safe integers (MAX_MONEY is).
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_MONEY) throw bad(i, 'txout.value is not an integer in 0..MAX_MONEY');
  if (typeof script !== 'string' || !HEX_RE.test(script)) throw bad(i, 'txout.script_pubkey is not hex');
  const coinbase = el.is_coinbase;
  if (typeof coinbase !== 'boolean') throw bad(i, 'is_coinbase is not a boolean');
  const height = el.creation_height;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0) throw bad(i, 'creation_height is not a non-negative integer');
  const time = el.creation_time;
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) throw bad(i, 'creation_time is not a non-negative integer');
  const buf = Buffer.from(script, 'hex');
  const scriptPubKey = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return { value, scriptPubKey, height, coinbase, time };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function bad(index: number, what: string): ParseError {
  return new ParseError('bad-format', index, `spent_utxos: ${what} in the element`);
}
