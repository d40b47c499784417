// Script errors with Bitcoin Core's names, as script_tests.json writes them
// (script/script_error.h without the SCRIPT_ERR_ prefix; SIG_NULLFAIL is written NULLFAIL).

export type ScriptError =
  | 'UNKNOWN_ERROR'
  | 'EVAL_FALSE'
  | 'OP_RETURN'
  | 'SCRIPT_SIZE'
  | 'PUSH_SIZE'
  | 'OP_COUNT'
  | 'STACK_SIZE'
  | 'SIG_COUNT'
  | 'PUBKEY_COUNT'
  | 'VERIFY'
  | 'EQUALVERIFY'
  | 'CHECKMULTISIGVERIFY'
  | 'CHECKSIGVERIFY'
  | 'NUMEQUALVERIFY'
  | 'BAD_OPCODE'
  | 'DISABLED_OPCODE'
  | 'INVALID_STACK_OPERATION'
  | 'INVALID_ALTSTACK_OPERATION'
  | 'UNBALANCED_CONDITIONAL'
  | 'NEGATIVE_LOCKTIME'
  | 'UNSATISFIED_LOCKTIME'
  | 'SIG_HASHTYPE'
  | 'SIG_DER'
  | 'MINIMALDATA'
  | 'SIG_PUSHONLY'
  | 'SIG_HIGH_S'
  | 'SIG_NULLDUMMY'
  | 'PUBKEYTYPE'
  | 'CLEANSTACK'
  | 'MINIMALIF'
  | 'NULLFAIL'
  | 'DISCOURAGE_UPGRADABLE_NOPS'
  | 'DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM'
  | 'DISCOURAGE_UPGRADABLE_TAPROOT_VERSION'
  | 'DISCOURAGE_OP_SUCCESS'
  | 'DISCOURAGE_UPGRADABLE_PUBKEYTYPE'
  | 'WITNESS_PROGRAM_WRONG_LENGTH'
  | 'WITNESS_PROGRAM_WITNESS_EMPTY'
  | 'WITNESS_PROGRAM_MISMATCH'
  | 'WITNESS_MALLEATED'
  | 'WITNESS_MALLEATED_P2SH'
  | 'WITNESS_UNEXPECTED'
  | 'WITNESS_PUBKEYTYPE'
  | 'SCHNORR_SIG_SIZE'
  | 'SCHNORR_SIG_HASHTYPE'
  | 'SCHNORR_SIG'
  | 'TAPROOT_WRONG_CONTROL_SIZE'
  | 'TAPSCRIPT_VALIDATION_WEIGHT'
  | 'TAPSCRIPT_CHECKMULTISIG'
  | 'TAPSCRIPT_MINIMALIF'
  | 'TAPSCRIPT_EMPTY_PUBKEY'
  | 'OP_CODESEPARATOR'
  | 'SIG_FINDANDDELETE'
  | 'SCRIPTNUM';

export type ScriptResult = { ok: true } | { ok: false; error: ScriptError };

export const SCRIPT_OK: ScriptResult = Object.freeze({ ok: true });

/** Internal control flow for the interpreter: thrown inside, caught at verifyScript's boundary. */
export class ScriptFailure extends Error {
  constructor(readonly error: ScriptError) {
    super(error);
    this.name = 'ScriptFailure';
  }
}
