// Script as bytes: Core's GetScriptOp as an allocation-free cursor, push-only and
// witness-program tests, minimal-push rules, push serialization and FindAndDelete.

import { concatBytes } from '../primitives/bytes.js';
import { OP, decodeOpN } from './opcodes.js';

/**
 * Walks a script one operation at a time without allocating (Core's GetScriptOp).
 * After next() returns true: `op` is the opcode and, for pushes, `dataStart..dataEnd`
 * delimit the pushed bytes. On a malformed push next() returns false and `pc` is left
 * where Core's iterator would be (after the opcode and any length bytes it read).
 */
export class ScriptCursor {
  pc = 0;
  op = OP.OP_INVALIDOPCODE as number;
  dataStart = 0;
  dataEnd = 0;

  constructor(
    public script: Uint8Array,
    start = 0,
  ) {
    this.pc = start;
  }

  reset(script: Uint8Array, start = 0): this {
    this.script = script;
    this.pc = start;
    return this;
  }

  next(): boolean {
    const s = this.script;
    const end = s.length;
    this.op = OP.OP_INVALIDOPCODE;
    this.dataStart = this.dataEnd = this.pc;
    if (this.pc >= end) return false;
    const op = s[this.pc++]!;
    if (op <= OP.OP_PUSHDATA4) {
      let size: number;
      if (op < OP.OP_PUSHDATA1) {
        size = op;
      } else if (op === OP.OP_PUSHDATA1) {
        if (end - this.pc < 1) return false;
        size = s[this.pc++]!;
      } else if (op === OP.OP_PUSHDATA2) {
        if (end - this.pc < 2) return false;
        size = s[this.pc]! | (s[this.pc + 1]! << 8);
        this.pc += 2;
      } else {
        if (end - this.pc < 4) return false;
        size = (s[this.pc]! | (s[this.pc + 1]! << 8) | (s[this.pc + 2]! << 16) | (s[this.pc + 3]! << 24)) >>> 0;
        this.pc += 4;
      }
      if (end - this.pc < size) return false;
      this.dataStart = this.pc;
      this.pc += size;
      this.dataEnd = this.pc;
    }
    this.op = op;
    return true;
  }

  data(): Uint8Array {
    return this.script.subarray(this.dataStart, this.dataEnd);
  }
}

/** Core's CScript::IsPushOnly: every operation parses and is at most OP_16. */
export function isPushOnly(script: Uint8Array): boolean {
  const c = new ScriptCursor(script);
  while (c.pc < script.length) {
    if (!c.next()) return false;
    if (c.op > OP.OP_16) return false;
  }
  return true;
}

/** BIP16 pattern: OP_HASH160 <20 bytes> OP_EQUAL. */
export function isPayToScriptHash(script: Uint8Array): boolean {
  return script.length === 23 && script[0] === OP.OP_HASH160 && script[1] === 0x14 && script[22] === OP.OP_EQUAL;
}

export interface WitnessProgram {
  version: number;
  program: Uint8Array;
}

/** BIP141: a version push (OP_0..OP_16) followed by one direct push of 2..40 bytes, nothing else. */
export function getWitnessProgram(script: Uint8Array): WitnessProgram | undefined {
  const version = witnessVersion(script);
  return version < 0 ? undefined : { version, program: script.subarray(2) };
}

/**
 * The witness version of a BIP141 witness program (its program is the script's bytes after the
 * first two), or -1 for any other script: getWitnessProgram without the object and the view, for
 * counting sigops on every input of a block.
 */
export function witnessVersion(script: Uint8Array): number {
  if (script.length < 4 || script.length > 42) return -1;
  const v = script[0]!;
  if (v !== OP.OP_0 && (v < OP.OP_1 || v > OP.OP_16)) return -1;
  if (script[1]! + 2 !== script.length) return -1;
  return decodeOpN(v);
}

/** Core's CScript::IsPayToAnchor (witness v1, program 4e73). */
export function isPayToAnchor(version: number, program: Uint8Array): boolean {
  return version === 1 && program.length === 2 && program[0] === 0x4e && program[1] === 0x73;
}

/** Core's CheckMinimalPush: was this data pushed with the smallest possible opcode? */
export function checkMinimalPush(data: Uint8Array, op: number): boolean {
  const n = data.length;
  if (n === 0) return op === OP.OP_0;
  if (n === 1 && data[0]! >= 1 && data[0]! <= 16) return false;
  if (n === 1 && data[0] === 0x81) return false;
  if (n <= 75) return op === n;
  if (n <= 255) return op === OP.OP_PUSHDATA1;
  if (n <= 65535) return op === OP.OP_PUSHDATA2;
  return true;
}

/** `CScript() << data`: the canonical push of a byte string. */
export function pushData(data: Uint8Array): Uint8Array {
  const n = data.length;
  let header: number[];
  if (n < OP.OP_PUSHDATA1) header = [n];
  else if (n <= 0xff) header = [OP.OP_PUSHDATA1, n];
  else if (n <= 0xffff) header = [OP.OP_PUSHDATA2, n & 0xff, n >> 8];
  else header = [OP.OP_PUSHDATA4, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const out = new Uint8Array(header.length + n);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

/**
 * Core's FindAndDelete: remove every occurrence of `pattern` that starts on an
 * operation boundary. Returns the new script and the number of matches removed.
 */
export function findAndDelete(script: Uint8Array, pattern: Uint8Array): { script: Uint8Array; found: number } {
  if (pattern.length === 0) return { script, found: 0 };
  let found = 0;
  const parts: Uint8Array[] = [];
  const c = new ScriptCursor(script);
  const end = script.length;
  let keepFrom = 0; // pc2 in Core
  let more = true;
  while (more) {
    const pc = c.pc;
    if (pc > keepFrom) parts.push(script.subarray(keepFrom, pc));
    let p = pc;
    while (end - p >= pattern.length && matchAt(script, p, pattern)) {
      p += pattern.length;
      found++;
    }
    c.pc = p;
    keepFrom = p;
    more = c.next();
  }
  if (found === 0) return { script, found: 0 };
  parts.push(script.subarray(keepFrom, end));
  return { script: concatBytes(...parts), found };
}

function matchAt(s: Uint8Array, at: number, pattern: Uint8Array): boolean {
  for (let i = 0; i < pattern.length; i++) if (s[at + i] !== pattern[i]) return false;
  return true;
}
