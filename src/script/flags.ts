// Script verification flags, with Bitcoin Core's names and bit values (script/interpreter.h).

export const SCRIPT_VERIFY_NONE = 0;
export const SCRIPT_VERIFY_P2SH = 1 << 0;
export const SCRIPT_VERIFY_STRICTENC = 1 << 1;
export const SCRIPT_VERIFY_DERSIG = 1 << 2;
export const SCRIPT_VERIFY_LOW_S = 1 << 3;
export const SCRIPT_VERIFY_NULLDUMMY = 1 << 4;
export const SCRIPT_VERIFY_SIGPUSHONLY = 1 << 5;
export const SCRIPT_VERIFY_MINIMALDATA = 1 << 6;
export const SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS = 1 << 7;
export const SCRIPT_VERIFY_CLEANSTACK = 1 << 8;
export const SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY = 1 << 9;
export const SCRIPT_VERIFY_CHECKSEQUENCEVERIFY = 1 << 10;
export const SCRIPT_VERIFY_WITNESS = 1 << 11;
export const SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 1 << 12;
export const SCRIPT_VERIFY_MINIMALIF = 1 << 13;
export const SCRIPT_VERIFY_NULLFAIL = 1 << 14;
export const SCRIPT_VERIFY_WITNESS_PUBKEYTYPE = 1 << 15;
export const SCRIPT_VERIFY_CONST_SCRIPTCODE = 1 << 16;
export const SCRIPT_VERIFY_TAPROOT = 1 << 17;
export const SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 1 << 18;
export const SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS = 1 << 19;
export const SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 1 << 20;

/** Flag names as written in Core's test vectors, mapped to their bits. */
export const SCRIPT_FLAG_NAMES: Readonly<Record<string, number>> = Object.freeze({
  NONE: SCRIPT_VERIFY_NONE,
  P2SH: SCRIPT_VERIFY_P2SH,
  STRICTENC: SCRIPT_VERIFY_STRICTENC,
  DERSIG: SCRIPT_VERIFY_DERSIG,
  LOW_S: SCRIPT_VERIFY_LOW_S,
  NULLDUMMY: SCRIPT_VERIFY_NULLDUMMY,
  SIGPUSHONLY: SCRIPT_VERIFY_SIGPUSHONLY,
  MINIMALDATA: SCRIPT_VERIFY_MINIMALDATA,
  DISCOURAGE_UPGRADABLE_NOPS: SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_NOPS,
  CLEANSTACK: SCRIPT_VERIFY_CLEANSTACK,
  CHECKLOCKTIMEVERIFY: SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  CHECKSEQUENCEVERIFY: SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  WITNESS: SCRIPT_VERIFY_WITNESS,
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM,
  MINIMALIF: SCRIPT_VERIFY_MINIMALIF,
  NULLFAIL: SCRIPT_VERIFY_NULLFAIL,
  WITNESS_PUBKEYTYPE: SCRIPT_VERIFY_WITNESS_PUBKEYTYPE,
  CONST_SCRIPTCODE: SCRIPT_VERIFY_CONST_SCRIPTCODE,
  TAPROOT: SCRIPT_VERIFY_TAPROOT,
  DISCOURAGE_UPGRADABLE_TAPROOT_VERSION: SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_TAPROOT_VERSION,
  DISCOURAGE_OP_SUCCESS: SCRIPT_VERIFY_DISCOURAGE_OP_SUCCESS,
  DISCOURAGE_UPGRADABLE_PUBKEYTYPE: SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_PUBKEYTYPE,
});

/** Every flag above, OR-ed: the "all flags" that tx_valid.json subtracts its exclusions from. */
export const ALL_SCRIPT_FLAGS = Object.values(SCRIPT_FLAG_NAMES).reduce((a, b) => a | b, 0);

/** Flags that consensus (Core's GetBlockScriptFlags) can set; the rest are policy. */
export const CONSENSUS_SCRIPT_FLAGS =
  SCRIPT_VERIFY_P2SH |
  SCRIPT_VERIFY_DERSIG |
  SCRIPT_VERIFY_NULLDUMMY |
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY |
  SCRIPT_VERIFY_WITNESS |
  SCRIPT_VERIFY_TAPROOT;

/** Parse "P2SH,STRICTENC" (empty or NONE = 0). Throws on an unknown name: test data or caller misuse. */
export function parseScriptFlags(names: string): number {
  let flags = 0;
  for (const raw of names.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const bit = SCRIPT_FLAG_NAMES[name];
    if (bit === undefined) throw new TypeError(`unknown script verify flag: ${name}`);
    flags |= bit;
  }
  return flags;
}

export function formatScriptFlags(flags: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(SCRIPT_FLAG_NAMES)) if (bit !== 0 && (flags & bit) !== 0) names.push(name);
  return names.join(',');
}
