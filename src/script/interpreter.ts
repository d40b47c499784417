// The script interpreter: Core's EvalScript, VerifyScript, VerifyWitnessProgram and
// ExecuteWitnessScript (script/interpreter.cpp), rule for rule, with Core's error names.
// Failures are thrown as ScriptFailure inside and returned as data by verifyScript.

import { hash256, ripemd160, sha1, sha256 } from '../primitives/hash.js';
import { equalBytes } from '../primitives/bytes.js';
import { ScriptFailure, SCRIPT_OK, type ScriptResult } from './errors.js';
import * as F from './flags.js';
import { OP, isOpSuccess } from './opcodes.js';
import { castToBool, scriptNumDecode, scriptNumEncode } from './script-num.js';
import {
  ScriptCursor,
  checkMinimalPush,
  findAndDelete,
  getWitnessProgram,
  isPayToAnchor,
  isPayToScriptHash,
  isPushOnly,
  pushData,
  witnessVersion,
} from './script.js';
import { SigVersion, checkPubKeyEncoding, checkSignatureEncoding, type SignatureBackend } from './signature.js';
import { pubKeyMemo } from './pubkey-memo.js';
import {
  ANNEX_TAG,
  TAPROOT_CONTROL_BASE_SIZE,
  TAPROOT_CONTROL_MAX_SIZE,
  TAPROOT_CONTROL_NODE_SIZE,
  TAPROOT_LEAF_MASK,
  TAPROOT_LEAF_TAPSCRIPT,
  tapLeafHash,
  verifyTaprootCommitment,
} from './taproot.js';
import { compactSizeLength } from '../primitives/writer.js';

export const MAX_SCRIPT_ELEMENT_SIZE = 520;
export const MAX_OPS_PER_SCRIPT = 201;
export const MAX_PUBKEYS_PER_MULTISIG = 20;
export const MAX_SCRIPT_SIZE = 10_000;
export const MAX_STACK_SIZE = 1000;
/** BIP342 validation weight: each executed signature check costs this much of the budget. */
export const VALIDATION_WEIGHT_PER_SIGOP_PASSED = 50;
export const VALIDATION_WEIGHT_OFFSET = 50;

/** Core's ScriptExecutionData: what a taproot spend carries into its signature checks. */
export interface ExecData {
  annexHash?: Uint8Array;
  tapleafHash?: Uint8Array;
  codeSeparatorPos: number;
  validationWeightLeft: number;
}

/** Core's BaseSignatureChecker, bound to one input of one transaction. */
export interface SignatureChecker {
  /**
   * ECDSA: false on a bad signature (the caller applies NULLFAIL). `scriptCode` may be a buffer
   * the interpreter reuses: read it during the call, copy it to keep it.
   */
  checkEcdsaSignature(sig: Uint8Array, pubkey: Uint8Array, scriptCode: Uint8Array, sigversion: SigVersion): boolean;
  /** BIP340: throws SCHNORR_SIG_SIZE / SCHNORR_SIG_HASHTYPE / SCHNORR_SIG on failure. */
  checkSchnorrSignature(sig: Uint8Array, pubkey: Uint8Array, sigversion: SigVersion, exec: ExecData): void;
  checkLockTime(lockTime: number): boolean;
  checkSequence(sequence: number): boolean;
  /** The signature backend, when there is one: taproot's commitment check runs on it too. */
  readonly backend?: SignatureBackend;
}

const FALSE = new Uint8Array(0);
const TRUE = Uint8Array.of(1);
const EMPTY_WITNESS: readonly Uint8Array[] = [];

function fail(error: ConstructorParameters<typeof ScriptFailure>[0]): never {
  throw new ScriptFailure(error);
}

function isDisabled(op: number): boolean {
  // CVE-2010-5137: splice, bitwise and some arithmetic opcodes are disabled outright.
  return (
    op === OP.OP_CAT ||
    op === OP.OP_SUBSTR ||
    op === OP.OP_LEFT ||
    op === OP.OP_RIGHT ||
    op === OP.OP_INVERT ||
    op === OP.OP_AND ||
    op === OP.OP_OR ||
    op === OP.OP_XOR ||
    op === OP.OP_2MUL ||
    op === OP.OP_2DIV ||
    op === OP.OP_MUL ||
    op === OP.OP_DIV ||
    op === OP.OP_MOD ||
    op === OP.OP_LSHIFT ||
    op === OP.OP_RSHIFT
  );
}

/** Core's EvalScript. Mutates `stack`; throws ScriptFailure. */
export function evalScript(
  stack: Uint8Array[],
  script: Uint8Array,
  flags: number,
  checker: SignatureChecker,
  sigversion: SigVersion,
  exec: ExecData,
): void {
  const legacyOrV0 = sigversion === SigVersion.BASE || sigversion === SigVersion.WITNESS_V0;
  if (legacyOrV0 && script.length > MAX_SCRIPT_SIZE) fail('SCRIPT_SIZE');
  const requireMinimal = (flags & F.SCRIPT_VERIFY_MINIMALDATA) !== 0;
  const altstack: Uint8Array[] = [];
  // Core's ConditionStack: the branch nesting depth and where the first false branch sits.
  let condDepth = 0;
  let firstFalse = -1;
  let opCount = 0;
  let beginCodeHash = 0;
  exec.codeSeparatorPos = 0xffffffff;

  const c = new ScriptCursor(script);
  const end = script.length;
  const top = (i: number): Uint8Array => stack[stack.length + i]!;
  const need = (n: number): void => {
    if (stack.length < n) fail('INVALID_STACK_OPERATION');
  };
  const num = (i: number, maxSize = 4): number => scriptNumDecode(top(i), requireMinimal, maxSize);

  for (let opcodePos = 0; c.pc < end; opcodePos++) {
    const executing = firstFalse === -1;
    if (!c.next()) fail('BAD_OPCODE');
    const op = c.op;
    if (c.dataEnd - c.dataStart > MAX_SCRIPT_ELEMENT_SIZE) fail('PUSH_SIZE');
    // OP_RESERVED (0x50) does not count towards the opcode limit.
    if (legacyOrV0 && op > OP.OP_16 && ++opCount > MAX_OPS_PER_SCRIPT) fail('OP_COUNT');
    if (isDisabled(op)) fail('DISABLED_OPCODE');
    if (op === OP.OP_CODESEPARATOR && sigversion === SigVersion.BASE && (flags & F.SCRIPT_VERIFY_CONST_SCRIPTCODE) !== 0) {
      fail('OP_CODESEPARATOR');
    }

    if (executing && op <= OP.OP_PUSHDATA4) {
      const data = c.data();
      if (requireMinimal && !checkMinimalPush(data, op)) fail('MINIMALDATA');
      stack.push(data);
    } else if (executing || (op >= OP.OP_IF && op <= OP.OP_ENDIF)) {
      switch (op) {
        case OP.OP_1NEGATE:
        case OP.OP_1:
        case OP.OP_2:
        case OP.OP_3:
        case OP.OP_4:
        case OP.OP_5:
        case OP.OP_6:
        case OP.OP_7:
        case OP.OP_8:
        case OP.OP_9:
        case OP.OP_10:
        case OP.OP_11:
        case OP.OP_12:
        case OP.OP_13:
        case OP.OP_14:
        case OP.OP_15:
        case OP.OP_16:
          stack.push(scriptNumEncode(op - (OP.OP_1 - 1)));
          break;

        case OP.OP_NOP:
          break;

        case OP.OP_CHECKLOCKTIMEVERIFY: {
          if ((flags & F.SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY) === 0) break; // NOP2
          need(1);
          // 5-byte operands: lock times run past 2^31 (BIP65).
          const lockTime = num(-1, 5);
          if (lockTime < 0) fail('NEGATIVE_LOCKTIME');
          if (!checker.checkLockTime(lockTime)) fail('UNSATISFIED_LOCKTIME');
          break;
        }

        case OP.OP_CHECKSEQUENCEVERIFY: {
          if ((flags & F.SCRIPT_VERIFY_CHECKSEQUENCEVERIFY) === 0) break; // NOP3
          need(1);
          const sequence = num(-1, 5);
          if (sequence < 0) fail('NEGATIVE_LOCKTIME');
          // BIP112: with the disable flag set in the operand, CSV is a NOP (room for soft forks).
          if ((sequence & 0x80000000) !== 0) break;
          if (!checker.checkSequence(sequence)) fail('UNSATISFIED_LOCKTIME');
          break;
        }

        case OP.OP_NOP1:
        case OP.OP_NOP4:
        case OP.OP_NOP5:
        case OP.OP_NOP6:
        case OP.OP_NOP7:
        case OP.OP_NOP8:
        case OP.OP_NOP9:
        case OP.OP_NOP10:
          if ((flags & F.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS) !== 0) fail('DISCOURAGE_UPGRADABLE_NOPS');
          break;

        case OP.OP_IF:
        case OP.OP_NOTIF: {
          let value = false;
          if (executing) {
            need(1);
            const v = top(-1);
            if (sigversion === SigVersion.TAPSCRIPT) {
              // BIP342: the argument must be exactly empty or exactly 0x01 (consensus).
              if (v.length > 1 || (v.length === 1 && v[0] !== 1)) fail('TAPSCRIPT_MINIMALIF');
            }
            if (sigversion === SigVersion.WITNESS_V0 && (flags & F.SCRIPT_VERIFY_MINIMALIF) !== 0) {
              if (v.length > 1 || (v.length === 1 && v[0] !== 1)) fail('MINIMALIF');
            }
            value = castToBool(v);
            if (op === OP.OP_NOTIF) value = !value;
            stack.pop();
          }
          if (!value && firstFalse === -1) firstFalse = condDepth;
          condDepth++;
          break;
        }

        case OP.OP_ELSE:
          if (condDepth === 0) fail('UNBALANCED_CONDITIONAL');
          // Toggle the top: only matters when no outer branch is already false.
          if (firstFalse === -1) firstFalse = condDepth - 1;
          else if (firstFalse === condDepth - 1) firstFalse = -1;
          break;

        case OP.OP_ENDIF:
          if (condDepth === 0) fail('UNBALANCED_CONDITIONAL');
          condDepth--;
          if (firstFalse === condDepth) firstFalse = -1;
          break;

        case OP.OP_VERIFY:
          need(1);
          if (!castToBool(top(-1))) fail('VERIFY');
          stack.pop();
          break;

        case OP.OP_RETURN:
          fail('OP_RETURN');

        case OP.OP_TOALTSTACK:
          need(1);
          altstack.push(stack.pop()!);
          break;

        case OP.OP_FROMALTSTACK:
          if (altstack.length < 1) fail('INVALID_ALTSTACK_OPERATION');
          stack.push(altstack.pop()!);
          break;

        case OP.OP_2DROP:
          need(2);
          stack.length -= 2;
          break;

        case OP.OP_2DUP: {
          need(2);
          const a = top(-2);
          const b = top(-1);
          stack.push(a, b);
          break;
        }

        case OP.OP_3DUP: {
          need(3);
          const a = top(-3);
          const b = top(-2);
          const d = top(-1);
          stack.push(a, b, d);
          break;
        }

        case OP.OP_2OVER: {
          need(4);
          const a = top(-4);
          const b = top(-3);
          stack.push(a, b);
          break;
        }

        case OP.OP_2ROT: {
          need(6);
          const [a, b] = stack.splice(stack.length - 6, 2) as [Uint8Array, Uint8Array];
          stack.push(a, b);
          break;
        }

        case OP.OP_2SWAP: {
          need(4);
          const n = stack.length;
          swap(stack, n - 4, n - 2);
          swap(stack, n - 3, n - 1);
          break;
        }

        case OP.OP_IFDUP: {
          need(1);
          const v = top(-1);
          if (castToBool(v)) stack.push(v);
          break;
        }

        case OP.OP_DEPTH:
          stack.push(scriptNumEncode(stack.length));
          break;

        case OP.OP_DROP:
          need(1);
          stack.pop();
          break;

        case OP.OP_DUP:
          need(1);
          stack.push(top(-1));
          break;

        case OP.OP_NIP:
          need(2);
          stack.splice(stack.length - 2, 1);
          break;

        case OP.OP_OVER:
          need(2);
          stack.push(top(-2));
          break;

        case OP.OP_PICK:
        case OP.OP_ROLL: {
          need(2);
          const n = num(-1);
          stack.pop();
          if (n < 0 || n >= stack.length) fail('INVALID_STACK_OPERATION');
          const v = top(-n - 1);
          if (op === OP.OP_ROLL) stack.splice(stack.length - n - 1, 1);
          stack.push(v);
          break;
        }

        case OP.OP_ROT: {
          need(3);
          const n = stack.length;
          swap(stack, n - 3, n - 2);
          swap(stack, n - 2, n - 1);
          break;
        }

        case OP.OP_SWAP: {
          need(2);
          const n = stack.length;
          swap(stack, n - 2, n - 1);
          break;
        }

        case OP.OP_TUCK: {
          need(2);
          const v = top(-1);
          stack.splice(stack.length - 2, 0, v);
          break;
        }

        case OP.OP_SIZE:
          need(1);
          stack.push(scriptNumEncode(top(-1).length));
          break;

        case OP.OP_EQUAL:
        case OP.OP_EQUALVERIFY: {
          need(2);
          const equal = equalBytes(top(-2), top(-1));
          stack.length -= 2;
          stack.push(equal ? TRUE : FALSE);
          if (op === OP.OP_EQUALVERIFY) {
            if (!equal) fail('EQUALVERIFY');
            stack.pop();
          }
          break;
        }

        case OP.OP_1ADD:
        case OP.OP_1SUB:
        case OP.OP_NEGATE:
        case OP.OP_ABS:
        case OP.OP_NOT:
        case OP.OP_0NOTEQUAL: {
          need(1);
          let n = num(-1);
          switch (op) {
            case OP.OP_1ADD:
              n += 1;
              break;
            case OP.OP_1SUB:
              n -= 1;
              break;
            case OP.OP_NEGATE:
              n = -n;
              break;
            case OP.OP_ABS:
              if (n < 0) n = -n;
              break;
            case OP.OP_NOT:
              n = n === 0 ? 1 : 0;
              break;
            default:
              n = n !== 0 ? 1 : 0;
          }
          stack.pop();
          stack.push(scriptNumEncode(n));
          break;
        }

        case OP.OP_ADD:
        case OP.OP_SUB:
        case OP.OP_BOOLAND:
        case OP.OP_BOOLOR:
        case OP.OP_NUMEQUAL:
        case OP.OP_NUMEQUALVERIFY:
        case OP.OP_NUMNOTEQUAL:
        case OP.OP_LESSTHAN:
        case OP.OP_GREATERTHAN:
        case OP.OP_LESSTHANOREQUAL:
        case OP.OP_GREATERTHANOREQUAL:
        case OP.OP_MIN:
        case OP.OP_MAX: {
          need(2);
          const a = num(-2);
          const b = num(-1);
          let n: number;
          switch (op) {
            case OP.OP_ADD:
              n = a + b;
              break;
            case OP.OP_SUB:
              n = a - b;
              break;
            case OP.OP_BOOLAND:
              n = a !== 0 && b !== 0 ? 1 : 0;
              break;
            case OP.OP_BOOLOR:
              n = a !== 0 || b !== 0 ? 1 : 0;
              break;
            case OP.OP_NUMEQUAL:
            case OP.OP_NUMEQUALVERIFY:
              n = a === b ? 1 : 0;
              break;
            case OP.OP_NUMNOTEQUAL:
              n = a !== b ? 1 : 0;
              break;
            case OP.OP_LESSTHAN:
              n = a < b ? 1 : 0;
              break;
            case OP.OP_GREATERTHAN:
              n = a > b ? 1 : 0;
              break;
            case OP.OP_LESSTHANOREQUAL:
              n = a <= b ? 1 : 0;
              break;
            case OP.OP_GREATERTHANOREQUAL:
              n = a >= b ? 1 : 0;
              break;
            case OP.OP_MIN:
              n = a < b ? a : b;
              break;
            default:
              n = a > b ? a : b;
          }
          stack.length -= 2;
          stack.push(scriptNumEncode(n));
          if (op === OP.OP_NUMEQUALVERIFY) {
            if (!castToBool(top(-1))) fail('NUMEQUALVERIFY');
            stack.pop();
          }
          break;
        }

        case OP.OP_WITHIN: {
          need(3);
          const x = num(-3);
          const lo = num(-2);
          const hi = num(-1);
          stack.length -= 3;
          stack.push(lo <= x && x < hi ? TRUE : FALSE);
          break;
        }

        case OP.OP_RIPEMD160:
        case OP.OP_SHA1:
        case OP.OP_SHA256:
        case OP.OP_HASH160:
        case OP.OP_HASH256: {
          need(1);
          const v = stack.pop()!;
          const h =
            op === OP.OP_RIPEMD160
              ? ripemd160(v)
              : op === OP.OP_SHA1
                ? sha1(v)
                : op === OP.OP_SHA256
                  ? sha256(v)
                  : op === OP.OP_HASH160
                    ? pubKeyMemo.hash160(v)
                    : hash256(v);
          stack.push(h);
          break;
        }

        case OP.OP_CODESEPARATOR:
          // Signatures hash the script from after the last executed separator.
          beginCodeHash = c.pc;
          exec.codeSeparatorPos = opcodePos;
          break;

        case OP.OP_CHECKSIG:
        case OP.OP_CHECKSIGVERIFY: {
          need(2);
          const ok = evalChecksig(top(-2), top(-1), script.subarray(beginCodeHash), exec, flags, checker, sigversion);
          stack.length -= 2;
          stack.push(ok ? TRUE : FALSE);
          if (op === OP.OP_CHECKSIGVERIFY) {
            if (!ok) fail('CHECKSIGVERIFY');
            stack.pop();
          }
          break;
        }

        case OP.OP_CHECKSIGADD: {
          // BIP342: tapscript only.
          if (legacyOrV0) fail('BAD_OPCODE');
          need(3);
          const n = num(-2);
          const ok = evalChecksig(top(-3), top(-1), script.subarray(beginCodeHash), exec, flags, checker, sigversion);
          stack.length -= 3;
          stack.push(scriptNumEncode(n + (ok ? 1 : 0)));
          break;
        }

        case OP.OP_CHECKMULTISIG:
        case OP.OP_CHECKMULTISIGVERIFY: {
          if (sigversion === SigVersion.TAPSCRIPT) fail('TAPSCRIPT_CHECKMULTISIG');
          let i = 1;
          need(i);
          let keysCount = num(-i);
          if (keysCount < 0 || keysCount > MAX_PUBKEYS_PER_MULTISIG) fail('PUBKEY_COUNT');
          opCount += keysCount;
          if (opCount > MAX_OPS_PER_SCRIPT) fail('OP_COUNT');
          let ikey = ++i;
          // ikey2: the last non-signature item; used for NULLFAIL cleanup.
          let ikey2 = keysCount + 2;
          i += keysCount;
          need(i);
          let sigsCount = num(-i);
          if (sigsCount < 0 || sigsCount > keysCount) fail('SIG_COUNT');
          let isig = ++i;
          i += sigsCount;
          need(i);

          let scriptCode = script.subarray(beginCodeHash);
          for (let k = 0; k < sigsCount; k++) {
            if (sigversion === SigVersion.BASE) {
              const r = findAndDelete(scriptCode, pushData(top(-isig - k)));
              if (r.found > 0 && (flags & F.SCRIPT_VERIFY_CONST_SCRIPTCODE) !== 0) fail('SIG_FINDANDDELETE');
              scriptCode = r.script;
            }
          }

          let success = true;
          while (success && sigsCount > 0) {
            const sig = top(-isig);
            const pubkey = top(-ikey);
            // The order of these checks makes pubkey/signature evaluation order observable
            // under STRICTENC (see script_tests).
            checkSignatureEncoding(sig, flags);
            checkPubKeyEncoding(pubkey, flags, sigversion);
            if (checker.checkEcdsaSignature(sig, pubkey, scriptCode, sigversion)) {
              isig++;
              sigsCount--;
            }
            ikey++;
            keysCount--;
            // More signatures left than keys: too many have failed already.
            if (sigsCount > keysCount) success = false;
          }

          while (i-- > 1) {
            // On failure with NULLFAIL, every signature must be the empty vector.
            if (!success && (flags & F.SCRIPT_VERIFY_NULLFAIL) !== 0 && ikey2 === 0 && top(-1).length > 0) fail('NULLFAIL');
            if (ikey2 > 0) ikey2--;
            stack.pop();
          }
          // The extra item CHECKMULTISIG consumes (an off-by-one in the original code);
          // BIP147 NULLDUMMY requires it to be empty.
          need(1);
          if ((flags & F.SCRIPT_VERIFY_NULLDUMMY) !== 0 && top(-1).length > 0) fail('SIG_NULLDUMMY');
          stack.pop();
          stack.push(success ? TRUE : FALSE);
          if (op === OP.OP_CHECKMULTISIGVERIFY) {
            if (!success) fail('CHECKMULTISIGVERIFY');
            stack.pop();
          }
          break;
        }

        default:
          fail('BAD_OPCODE');
      }
    }

    if (stack.length + altstack.length > MAX_STACK_SIZE) fail('STACK_SIZE');
  }

  if (condDepth !== 0) fail('UNBALANCED_CONDITIONAL');
}

function swap(stack: Uint8Array[], i: number, j: number): void {
  const t = stack[i]!;
  stack[i] = stack[j]!;
  stack[j] = t;
}

/** Core's EvalChecksig: dispatch on the signature version; returns the check's outcome. */
function evalChecksig(
  sig: Uint8Array,
  pubkey: Uint8Array,
  scriptCode: Uint8Array,
  exec: ExecData,
  flags: number,
  checker: SignatureChecker,
  sigversion: SigVersion,
): boolean {
  if (sigversion === SigVersion.TAPSCRIPT) return evalChecksigTapscript(sig, pubkey, exec, flags, checker);
  if (sigversion === SigVersion.BASE) {
    const r = findAndDelete(scriptCode, pushData(sig));
    if (r.found > 0 && (flags & F.SCRIPT_VERIFY_CONST_SCRIPTCODE) !== 0) fail('SIG_FINDANDDELETE');
    scriptCode = r.script;
  }
  checkSignatureEncoding(sig, flags);
  checkPubKeyEncoding(pubkey, flags, sigversion);
  const ok = checker.checkEcdsaSignature(sig, pubkey, scriptCode, sigversion);
  if (!ok && (flags & F.SCRIPT_VERIFY_NULLFAIL) !== 0 && sig.length > 0) fail('NULLFAIL');
  return ok;
}

/**
 * Core's EvalChecksigTapscript. The order is consensus: upgradable key types come
 * first, an empty key fails, and a non-empty signature must be valid.
 */
function evalChecksigTapscript(sig: Uint8Array, pubkey: Uint8Array, exec: ExecData, flags: number, checker: SignatureChecker): boolean {
  const success = sig.length > 0;
  if (success) {
    exec.validationWeightLeft -= VALIDATION_WEIGHT_PER_SIGOP_PASSED;
    if (exec.validationWeightLeft < 0) fail('TAPSCRIPT_VALIDATION_WEIGHT');
  }
  if (pubkey.length === 0) fail('TAPSCRIPT_EMPTY_PUBKEY');
  if (pubkey.length === 32) {
    if (success) checker.checkSchnorrSignature(sig, pubkey, SigVersion.TAPSCRIPT, exec);
  } else if ((flags & F.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE) !== 0) {
    fail('DISCOURAGE_UPGRADABLE_PUBKEYTYPE');
  }
  return success;
}

function newExecData(): ExecData {
  return { codeSeparatorPos: 0xffffffff, validationWeightLeft: 0 };
}

/** Core's ExecuteWitnessScript: witness scripts run on the witness stack and must leave exactly true. */
function executeWitnessScript(
  stack: Uint8Array[],
  script: Uint8Array,
  flags: number,
  sigversion: SigVersion,
  checker: SignatureChecker,
  exec: ExecData,
): void {
  if (sigversion === SigVersion.TAPSCRIPT) {
    // BIP342: an OP_SUCCESSx anywhere decides the spend before anything else, even size limits.
    const c = new ScriptCursor(script);
    while (c.pc < script.length) {
      if (!c.next()) fail('BAD_OPCODE');
      if (isOpSuccess(c.op)) {
        if ((flags & F.SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS) !== 0) fail('DISCOURAGE_OP_SUCCESS');
        return;
      }
    }
    if (stack.length > MAX_STACK_SIZE) fail('STACK_SIZE');
  }
  for (const item of stack) if (item.length > MAX_SCRIPT_ELEMENT_SIZE) fail('PUSH_SIZE');
  evalScript(stack, script, flags, checker, sigversion, exec);
  if (stack.length !== 1) fail('CLEANSTACK');
  if (!castToBool(stack[0]!)) fail('EVAL_FALSE');
}

function witnessSerializedSize(witness: readonly Uint8Array[]): number {
  let n = compactSizeLength(witness.length);
  for (const item of witness) n += compactSizeLength(item.length) + item.length;
  return n;
}

/** Core's VerifyWitnessProgram. */
function verifyWitnessProgram(
  witness: readonly Uint8Array[],
  version: number,
  program: Uint8Array,
  flags: number,
  checker: SignatureChecker,
  isP2sh: boolean,
): void {
  const exec = newExecData();
  if (version === 0) {
    if (program.length === 32) {
      // BIP141 P2WSH: the last witness item is the script, committed by SHA256.
      if (witness.length === 0) fail('WITNESS_PROGRAM_WITNESS_EMPTY');
      const script = witness[witness.length - 1]!;
      if (!equalBytes(sha256(script), program)) fail('WITNESS_PROGRAM_MISMATCH');
      executeWitnessScript(witness.slice(0, -1), script, flags, SigVersion.WITNESS_V0, checker, exec);
      return;
    }
    if (program.length === 20) {
      // BIP141 P2WPKH: exactly a signature and a key, checked as P2PKH.
      if (witness.length !== 2) fail('WITNESS_PROGRAM_MISMATCH');
      // The scriptCode the signature hash commits to, written into one buffer per thread: it is
      // read only by the signature hash, synchronously, and the key path of P2WPKH never edits it.
      const script = P2WPKH_SCRIPT_CODE;
      script.set(program, 3);
      // ExecuteWitnessScript on that script, step by step, without the interpreter loop: the
      // items' size limit; DUP HASH160 <program> EQUALVERIFY; CHECKSIG; one item left, true.
      // No other check of EvalScript can fail on these five operations and at most four items.
      const sig = witness[0]!;
      const pubkey = witness[1]!;
      if (sig.length > MAX_SCRIPT_ELEMENT_SIZE || pubkey.length > MAX_SCRIPT_ELEMENT_SIZE) fail('PUSH_SIZE');
      if (!pubKeyMemo.hash160Is(pubkey, program)) fail('EQUALVERIFY');
      if (!evalChecksig(sig, pubkey, script, exec, flags, checker, SigVersion.WITNESS_V0)) fail('EVAL_FALSE');
      return;
    }
    fail('WITNESS_PROGRAM_WRONG_LENGTH');
  }
  if (version === 1 && program.length === 32 && !isP2sh) {
    // BIP341 taproot.
    if ((flags & F.SCRIPT_VERIFY_TAPROOT) === 0) return;
    if (witness.length === 0) fail('WITNESS_PROGRAM_WITNESS_EMPTY');
    let stackEnd = witness.length;
    const last = witness[stackEnd - 1]!;
    if (stackEnd >= 2 && last.length > 0 && last[0] === ANNEX_TAG) {
      exec.annexHash = sha256(pushVarBytes(last));
      stackEnd--;
    }
    if (stackEnd === 1) {
      // Key path.
      checker.checkSchnorrSignature(witness[0]!, program, SigVersion.TAPROOT, exec);
      return;
    }
    // Script path: [stack..., script, control].
    const control = witness[stackEnd - 1]!;
    const script = witness[stackEnd - 2]!;
    if (
      control.length < TAPROOT_CONTROL_BASE_SIZE ||
      control.length > TAPROOT_CONTROL_MAX_SIZE ||
      (control.length - TAPROOT_CONTROL_BASE_SIZE) % TAPROOT_CONTROL_NODE_SIZE !== 0
    ) {
      fail('TAPROOT_WRONG_CONTROL_SIZE');
    }
    const leafVersion = control[0]! & TAPROOT_LEAF_MASK;
    const leafHash = tapLeafHash(leafVersion, script);
    if (!verifyTaprootCommitment(control, program, leafHash, checker.backend)) fail('WITNESS_PROGRAM_MISMATCH');
    exec.tapleafHash = leafHash;
    if (leafVersion === TAPROOT_LEAF_TAPSCRIPT) {
      exec.validationWeightLeft = witnessSerializedSize(witness) + VALIDATION_WEIGHT_OFFSET;
      executeWitnessScript(witness.slice(0, stackEnd - 2), script, flags, SigVersion.TAPSCRIPT, checker, exec);
      return;
    }
    if ((flags & F.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) !== 0) fail('DISCOURAGE_UPGRADABLE_TAPROOT_VERSION');
    return;
  }
  if (!isP2sh && isPayToAnchor(version, program)) return;
  if ((flags & F.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) !== 0) fail('DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM');
  // Other versions and sizes succeed: room for future soft forks.
}

/** DUP HASH160 <20 bytes> EQUALVERIFY CHECKSIG, the program's bytes filled in per input. */
const P2WPKH_SCRIPT_CODE = Uint8Array.of(OP.OP_DUP, OP.OP_HASH160, 0x14, ...new Array<number>(20).fill(0), OP.OP_EQUALVERIFY, OP.OP_CHECKSIG);

function pushVarBytes(item: Uint8Array): Uint8Array {
  const prefix = compactSizeLength(item.length);
  const out = new Uint8Array(prefix + item.length);
  let n = item.length;
  if (prefix === 1) out[0] = n;
  else if (prefix === 3) {
    out[0] = 0xfd;
    out[1] = n & 0xff;
    out[2] = n >> 8;
  } else {
    out[0] = 0xfe;
    for (let i = 1; i <= 4; i++) {
      out[i] = n & 0xff;
      n = Math.floor(n / 256);
    }
  }
  out.set(item, prefix);
  return out;
}

/** Core's VerifyScript: scriptSig, then scriptPubKey, then P2SH and witness programs. */
export function verifyScript(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  witness: readonly Uint8Array[] | undefined,
  flags: number,
  checker: SignatureChecker,
): ScriptResult {
  try {
    verifyScriptOrThrow(scriptSig, scriptPubKey, witness ?? EMPTY_WITNESS, flags, checker);
    return SCRIPT_OK;
  } catch (err) {
    if (err instanceof ScriptFailure) return { ok: false, error: err.error };
    throw err;
  }
}

function verifyScriptOrThrow(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  witness: readonly Uint8Array[],
  flags: number,
  checker: SignatureChecker,
): void {
  let hadWitness = false;
  if ((flags & F.SCRIPT_VERIFY_SIGPUSHONLY) !== 0 && !isPushOnly(scriptSig)) fail('SIG_PUSHONLY');

  // scriptSig and scriptPubKey run one after the other on one stack, never
  // concatenated (CVE-2010-5141).
  let stack: Uint8Array[] = [];
  // An empty script changes nothing (every input spending a witness program has one).
  if (scriptSig.length > 0) evalScript(stack, scriptSig, flags, checker, SigVersion.BASE, newExecData());
  const p2sh = (flags & F.SCRIPT_VERIFY_P2SH) !== 0 && isPayToScriptHash(scriptPubKey);
  const stackCopy = p2sh ? stack.slice() : undefined;
  const version = witnessVersion(scriptPubKey);
  // The witness program (a view), if the scriptPubKey is one.
  const program = version >= 0 ? scriptPubKey.subarray(2) : undefined;
  if (program !== undefined && stack.length === 0) {
    // OP_n and one direct push of 2–40 bytes on an empty stack: two pushes that no rule of
    // EvalScript can fail (each is minimal, far within every limit), made here as it would make
    // them, without running the interpreter (every P2WPKH, P2WSH and P2TR spend comes this way).
    stack.push(version === 0 ? FALSE : Uint8Array.of(version), program);
  } else {
    evalScript(stack, scriptPubKey, flags, checker, SigVersion.BASE, newExecData());
  }
  if (stack.length === 0 || !castToBool(stack[stack.length - 1]!)) fail('EVAL_FALSE');

  if ((flags & F.SCRIPT_VERIFY_WITNESS) !== 0 && program !== undefined) {
    hadWitness = true;
    // The scriptSig must be exactly empty, or the witness becomes malleable.
    if (scriptSig.length !== 0) fail('WITNESS_MALLEATED');
    verifyWitnessProgram(witness, version, program, flags, checker, false);
    stack.length = 1; // witness programs skip the final cleanstack check
  }

  if (p2sh) {
    // BIP16: the scriptSig must be push-only; its last push is the redeem script.
    if (!isPushOnly(scriptSig)) fail('SIG_PUSHONLY');
    stack = stackCopy!;
    const redeemScript = stack.pop()!; // not empty: HASH160 <h> EQUAL succeeded on it
    evalScript(stack, redeemScript, flags, checker, SigVersion.BASE, newExecData());
    if (stack.length === 0 || !castToBool(stack[stack.length - 1]!)) fail('EVAL_FALSE');

    if ((flags & F.SCRIPT_VERIFY_WITNESS) !== 0) {
      const wp = getWitnessProgram(redeemScript);
      if (wp !== undefined) {
        hadWitness = true;
        // The scriptSig must be exactly one push of the redeem script.
        if (!equalBytes(scriptSig, pushData(redeemScript))) fail('WITNESS_MALLEATED_P2SH');
        verifyWitnessProgram(witness, wp.version, wp.program, flags, checker, true);
        stack.length = 1;
      }
    }
  }

  // After P2SH and witness evaluation, which legitimately leave other items behind.
  if ((flags & F.SCRIPT_VERIFY_CLEANSTACK) !== 0 && stack.length !== 1) fail('CLEANSTACK');

  if ((flags & F.SCRIPT_VERIFY_WITNESS) !== 0 && !hadWitness && witness.length > 0) fail('WITNESS_UNEXPECTED');
}
