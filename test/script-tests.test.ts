// Bitcoin Core's script_tests.json: every case run through verifyInput, as Core's
// script_json_test does (script_tests.cpp), one node:test case per vector and signature backend.
//
// Row format: [[witness..., amount]?, scriptSig, scriptPubKey, flags, expected, comment?].
// Rows of a single string are comments. Core's DoTest adds P2SH and WITNESS whenever
// CLEANSTACK is set, and builds the crediting and spending transactions below.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';

import { forEachBackend } from './helpers/backends.js';
import { amountFromBtc, parseCoreAsm, pushData } from './helpers/core-asm.js';
import { readVectorText } from './helpers/vectors.js';
import { concatBytes, fromHex, toHex } from '../src/primitives/bytes.js';
import { taggedHash } from '../src/primitives/hash.js';
import { Transaction, type TxOut } from '../src/primitives/transaction.js';
import {
  parseScriptFlags,
  SCRIPT_VERIFY_CLEANSTACK,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_WITNESS,
} from '../src/script/flags.js';
import { verifyInput } from '../src/script/verify.js';

const EXPECTED_CASES = 1222;

/** Core's BuildCreditingTransaction: a coinbase-shaped tx paying `value` to scriptPubKey. */
function buildCreditingTransaction(scriptPubKey: Uint8Array, value: number): Transaction {
  return new Transaction(
    1,
    [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: Uint8Array.of(0x00, 0x00), sequence: 0xffffffff, witness: [] }],
    [{ value, scriptPubKey }],
    0,
  );
}

/** Core's BuildSpendingTransaction: spends output 0 of the crediting tx to an empty script. */
function buildSpendingTransaction(scriptSig: Uint8Array, witness: readonly Uint8Array[], credit: Transaction): Transaction {
  const out = credit.outputs[0]!;
  return new Transaction(
    1,
    [{ prevout: { hash: credit.txid(), index: 0 }, scriptSig, sequence: 0xffffffff, witness }],
    [{ value: out.value, scriptPubKey: new Uint8Array(0) }],
    0,
  );
}

// --- Core's taproot placeholders (#SCRIPT#, #CONTROLBLOCK#, #TAPROOTOUTPUT#) ---------------
// script_json_test builds a one-leaf tree (depth 0, leaf version 0xc0) over the script before
// #CONTROLBLOCK#, with internal key x(key0) where key0's secret is 1: the generator's x.

const TAPROOT_LEAF_TAPSCRIPT = 0xc0;
const SCRIPT_FLAG = '#SCRIPT#';

function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8);
  return Uint8Array.of(0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

function bigToBytes32(n: bigint): Uint8Array {
  return fromHex(n.toString(16).padStart(64, '0'));
}

interface TaprootTree {
  controlBlock: Uint8Array;
  outputKey: Uint8Array;
}

function oneLeafTree(script: Uint8Array): TaprootTree {
  const Point = secp256k1.Point;
  const internal = Point.BASE; // secret key 1; its y is even, so it is lift_x(x) as BIP340 wants
  const internalX = bigToBytes32(internal.toAffine().x);
  const leafHash = taggedHash('TapLeaf', Uint8Array.of(TAPROOT_LEAF_TAPSCRIPT), compactSize(script.length), script);
  const tweak = BigInt('0x' + toHex(taggedHash('TapTweak', internalX, leafHash)));
  assert.ok(tweak < Point.Fn.ORDER);
  const q = internal.add(Point.BASE.multiply(tweak)).toAffine();
  const parity = Number(q.y & 1n);
  return {
    controlBlock: concatBytes(Uint8Array.of(TAPROOT_LEAF_TAPSCRIPT | parity), internalX),
    outputKey: bigToBytes32(q.x),
  };
}

// Cross-check the generator against noble's BIP340 helpers once (cheap, and it pins `internal`).
assert.equal(toHex(schnorr.getPublicKey(bigToBytes32(1n))), toHex(bigToBytes32(secp256k1.Point.BASE.toAffine().x)));

// --- parsing a row ---------------------------------------------------------------------------

interface ScriptCase {
  index: number;
  witness: Uint8Array[];
  amount: number;
  scriptSig: Uint8Array;
  scriptPubKey: Uint8Array;
  flags: number;
  expected: string;
  name: string;
}

function parseRow(row: unknown[], index: number): ScriptCase {
  let pos = 0;
  const witness: Uint8Array[] = [];
  let amount = 0;
  let tree: TaprootTree | undefined;
  if (Array.isArray(row[0])) {
    const wit = row[0] as unknown[];
    for (let i = 0; i < wit.length - 1; i++) {
      const element = wit[i] as string;
      if (element.startsWith(SCRIPT_FLAG)) {
        witness.push(parseCoreAsm(element.slice(SCRIPT_FLAG.length)));
      } else if (element === '#CONTROLBLOCK#') {
        const leaf = witness[witness.length - 1];
        if (leaf === undefined) throw new Error('#CONTROLBLOCK# with no script before it');
        tree = oneLeafTree(leaf);
        witness.push(tree.controlBlock);
      } else {
        witness.push(fromHex(element));
      }
    }
    amount = amountFromBtc(wit[wit.length - 1] as number);
    pos++;
  }
  const sigAsm = row[pos++] as string;
  const pubAsm = row[pos++] as string;
  const flagsText = row[pos++] as string;
  const expected = row[pos++] as string;
  const comment = typeof row[pos] === 'string' ? (row[pos] as string) : '';

  let scriptPubKey: Uint8Array;
  if (pubAsm === '0x51 0x20 #TAPROOTOUTPUT#') {
    if (tree === undefined) throw new Error('#TAPROOTOUTPUT# without a #CONTROLBLOCK#');
    scriptPubKey = concatBytes(Uint8Array.of(0x51), pushData(tree.outputKey));
  } else {
    scriptPubKey = parseCoreAsm(pubAsm);
  }
  let flags = parseScriptFlags(flagsText);
  if ((flags & SCRIPT_VERIFY_CLEANSTACK) !== 0) flags |= SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS;

  const label = comment !== '' ? comment : `${sigAsm} | ${pubAsm}`;
  const shortLabel = label.length > 120 ? `${label.slice(0, 117)}...` : label;
  return {
    index,
    witness,
    amount,
    scriptSig: parseCoreAsm(sigAsm),
    scriptPubKey,
    flags,
    expected,
    name: `#${index} ${expected} [${flagsText}] ${shortLabel}`,
  };
}

// --- the cases -------------------------------------------------------------------------------

const rows = JSON.parse(readVectorText('bitcoin-core', 'script_tests.json')) as unknown[][];
const cases: ScriptCase[] = [];
rows.forEach((row, index) => {
  if (row.length === 1) return; // a comment
  cases.push(parseRow(row, index));
});

test(`script_tests.json holds ${EXPECTED_CASES} cases`, () => {
  assert.equal(cases.length, EXPECTED_CASES);
});

// Every case under every signature backend: `[noble] #12 ...`, `[libsecp256k1] #12 ...`.
forEachBackend(({ tag, backend }) => {
  for (const c of cases) {
    test(`${tag} ${c.name}`, () => {
      const credit = buildCreditingTransaction(c.scriptPubKey, c.amount);
      const spend = buildSpendingTransaction(c.scriptSig, c.witness, credit);
      const spent: TxOut[] = [{ value: c.amount, scriptPubKey: c.scriptPubKey }];
      const result = verifyInput(spend, 0, spent, c.flags, { backend });
      const actual = result.ok ? 'OK' : result.error;
      assert.equal(actual, c.expected, `vector #${c.index}: expected ${c.expected}, got ${actual}`);
    });
  }
});
