// Bitcoin Core's test-vector script syntax (ParseScript in core_io.cpp, formerly core_read.cpp),
// used by script_tests.json and the prevout scripts of tx_valid/tx_invalid.json.
//
// Words are separated by space, tab or newline and read in this order (the first match wins):
//   - a decimal number (optionally with a leading '-') in -0xFFFFFFFF..0xFFFFFFFF: pushed the way
//     CScript::operator<<(int64_t) does it: 0 → OP_0, -1 → OP_1NEGATE, 1..16 → OP_1..OP_16,
//     anything else → a push of its minimal CScriptNum encoding;
//   - `0x` followed by an even, non-zero number of hex digits: raw bytes inserted as they are;
//   - `'text'` (no whitespace inside): a push of the text's bytes;
//   - an opcode name: exactly the names Core's map holds, GetOpName()'s name for OP_RESERVED and
//     for every opcode from OP_NOP through OP_NOP10, with and without the `OP_` prefix. So
//     `OP_1`, `TRUE`, `NOP2` and `OP_CHECKSIGADD` are *not* names here (Core rejects them too).
// Anything else throws: this parses test data only, never block data.

import { concatBytes, fromHex } from '../../src/primitives/bytes.js';
import { scriptNumEncode as scriptNumBytes } from '../../src/script/script-num.js';
import { pushData } from '../../src/script/script.js';

/** GetOpName() for OP_NOP (0x61) .. OP_NOP10 (0xb9), without the OP_ prefix, in opcode order. */
const NAMES_FROM_NOP = [
  'NOP', 'VER', 'IF', 'NOTIF', 'VERIF', 'VERNOTIF', 'ELSE', 'ENDIF', 'VERIFY', 'RETURN', // 0x61..0x6a
  'TOALTSTACK', 'FROMALTSTACK', '2DROP', '2DUP', '3DUP', '2OVER', '2ROT', '2SWAP', 'IFDUP', 'DEPTH', // 0x6b..0x74
  'DROP', 'DUP', 'NIP', 'OVER', 'PICK', 'ROLL', 'ROT', 'SWAP', 'TUCK', // 0x75..0x7d
  'CAT', 'SUBSTR', 'LEFT', 'RIGHT', 'SIZE', // 0x7e..0x82
  'INVERT', 'AND', 'OR', 'XOR', 'EQUAL', 'EQUALVERIFY', 'RESERVED1', 'RESERVED2', // 0x83..0x8a
  '1ADD', '1SUB', '2MUL', '2DIV', 'NEGATE', 'ABS', 'NOT', '0NOTEQUAL', // 0x8b..0x92
  'ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'LSHIFT', 'RSHIFT', // 0x93..0x99
  'BOOLAND', 'BOOLOR', 'NUMEQUAL', 'NUMEQUALVERIFY', 'NUMNOTEQUAL', // 0x9a..0x9e
  'LESSTHAN', 'GREATERTHAN', 'LESSTHANOREQUAL', 'GREATERTHANOREQUAL', 'MIN', 'MAX', 'WITHIN', // 0x9f..0xa5
  'RIPEMD160', 'SHA1', 'SHA256', 'HASH160', 'HASH256', 'CODESEPARATOR', // 0xa6..0xab
  'CHECKSIG', 'CHECKSIGVERIFY', 'CHECKMULTISIG', 'CHECKMULTISIGVERIFY', // 0xac..0xaf
  'NOP1', 'CHECKLOCKTIMEVERIFY', 'CHECKSEQUENCEVERIFY', // 0xb0..0xb2
  'NOP4', 'NOP5', 'NOP6', 'NOP7', 'NOP8', 'NOP9', 'NOP10', // 0xb3..0xb9
] as const;

const OP_0 = 0x00;
const OP_1NEGATE = 0x4f;
const OP_RESERVED = 0x50;
const OP_1 = 0x51;
const OP_NOP = 0x61;

/** Core's mapOpNames: every name with and without `OP_`. */
export const CORE_ASM_OPCODES: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  const add = (name: string, op: number): void => {
    map.set(`OP_${name}`, op);
    map.set(name, op);
  };
  add('RESERVED', OP_RESERVED);
  NAMES_FROM_NOP.forEach((name, i) => add(name, OP_NOP + i));
  return map;
})();

const MAX_DECIMAL = 0xffffffffn;

/** Core's script-number and push encodings, shared with the engine. */
export { scriptNumBytes, pushData };

/** CScript::operator<<(int64_t): small integers as OP_N, the rest as a CScriptNum push. */
export function pushInt(n: number): Uint8Array {
  if (n === -1 || (n >= 1 && n <= 16)) return Uint8Array.of(n === -1 ? OP_1NEGATE : OP_1 + n - 1);
  if (n === 0) return Uint8Array.of(OP_0);
  return pushData(scriptNumBytes(n));
}

const DECIMAL = /^-?[0-9]+$/;
const HEX_BODY = /^[0-9a-fA-F]+$/;

/** Parse Core test asm into script bytes; throws on anything Core's ParseScript would refuse. */
export function parseCoreAsm(asm: string): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const w of asm.split(/[ \t\n]/)) {
    if (w === '') continue;
    if (DECIMAL.test(w)) {
      // Core: ToIntegral<int64_t>, then a range check; BigInt keeps both exact.
      const big = BigInt(w);
      if (big > MAX_DECIMAL || big < -MAX_DECIMAL) {
        throw new Error(`script parse error: decimal numeric value only allowed in the range -0xFFFFFFFF...0xFFFFFFFF: ${w}`);
      }
      parts.push(pushInt(Number(big))); // "-0" is 0n, hence OP_0
    } else if (w.startsWith('0x') && w.length > 2 && w.length % 2 === 0 && HEX_BODY.test(w.slice(2))) {
      parts.push(fromHex(w.slice(2)));
    } else if (w.length >= 2 && w.startsWith("'") && w.endsWith("'")) {
      parts.push(pushData(new TextEncoder().encode(w.slice(1, -1))));
    } else {
      const op = CORE_ASM_OPCODES.get(w);
      if (op === undefined) throw new Error(`script parse error: unknown opcode: ${w}`);
      parts.push(Uint8Array.of(op));
    }
  }
  return concatBytes(...parts);
}

/** A witness stack written as hex strings (empty string = empty item). */
export function parseWitnessHex(items: readonly string[]): Uint8Array[] {
  return items.map((h) => fromHex(h));
}

/**
 * Core's AmountFromValue for test data: a JSON number of BTC with at most 8 decimals, to
 * satoshis. Multiplying by 1e8 can land a hair off the integer (0.29 * 1e8 is
 * 28999999.999999996), so round, and refuse values that carry more precision than that.
 */
export function amountFromBtc(btc: number): number {
  if (typeof btc !== 'number' || !Number.isFinite(btc)) throw new TypeError(`bad amount: ${String(btc)}`);
  const sats = Math.round(btc * 1e8);
  if (Math.abs(sats - btc * 1e8) > 1e-3 || !Number.isSafeInteger(sats)) throw new RangeError(`amount has more than 8 decimals: ${btc}`);
  return sats;
}
