// Bitcoin Core's tx_valid.json and tx_invalid.json, checked the way transaction_tests.cpp
// checks them, one node:test case per vector and signature backend.
//
// Row format: [[[prevout txid, vout, scriptPubKey asm, amount?], ...], raw tx hex, flags].
// tx_valid: flags are the EXCLUDED ones. The tx must pass under (all flags − excluded), still
//   pass with any single further flag removed and with random further flags removed, and fail
//   whenever one excluded flag is put back (the exclusion list is minimal).
// tx_invalid: flags are the ones it fails under. It must fail under them, under them plus any
//   single flag and plus random flags, and pass whenever one of them is removed. BADTX means
//   CheckTransaction itself must reject the tx.
// Flag sets are normalised as Core's TrimFlags/FillFlags do: WITNESS needs P2SH, and
// CLEANSTACK needs WITNESS.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { forEachBackend } from './helpers/backends.js';
import { parseCoreAsm } from './helpers/core-asm.js';
import { readVectorText } from './helpers/vectors.js';
import { checkTransaction } from '../src/consensus/tx-check.js';
import { fromHex, hashToHex } from '../src/primitives/bytes.js';
import { decodeTransaction, type Transaction, type TxOut } from '../src/primitives/transaction.js';
import {
  ALL_SCRIPT_FLAGS,
  formatScriptFlags,
  parseScriptFlags,
  SCRIPT_FLAG_NAMES,
  SCRIPT_VERIFY_CLEANSTACK,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_WITNESS,
} from '../src/script/flags.js';
import { PrecomputedTxData } from '../src/script/sighash.js';
import type { SignatureBackend } from '../src/script/signature.js';
import { verifyInput } from '../src/script/verify.js';

/** Core's mapFlagNames: every named flag except NONE. */
const FLAG_LIST: readonly [string, number][] = Object.entries(SCRIPT_FLAG_NAMES).filter(([, bit]) => bit !== 0);
const FLAG_COUNT = FLAG_LIST.length;

/** `~flags` within the flags Core's test knows. */
function invert(flags: number): number {
  return ALL_SCRIPT_FLAGS & ~flags;
}

/** Core's TrimFlags: drop WITNESS without P2SH, then CLEANSTACK without WITNESS. */
function trimFlags(flags: number): number {
  if ((flags & SCRIPT_VERIFY_P2SH) === 0) flags &= ~SCRIPT_VERIFY_WITNESS;
  if ((flags & SCRIPT_VERIFY_WITNESS) === 0) flags &= ~SCRIPT_VERIFY_CLEANSTACK;
  return flags;
}

/** Core's FillFlags: CLEANSTACK brings WITNESS, WITNESS brings P2SH. */
function fillFlags(flags: number): number {
  if ((flags & SCRIPT_VERIFY_CLEANSTACK) !== 0) flags |= SCRIPT_VERIFY_WITNESS;
  if ((flags & SCRIPT_VERIFY_WITNESS) !== 0) flags |= SCRIPT_VERIFY_P2SH;
  return flags;
}

/** Core's ExcludeIndividualFlags: each distinct trimmed set that is `flags` less one flag. */
function excludeIndividualFlags(flags: number): number[] {
  const combos = new Set<number>();
  for (const [, bit] of FLAG_LIST) {
    const without = trimFlags(flags & ~bit);
    if (without !== flags) combos.add(without);
  }
  return [...combos].sort((a, b) => a - b);
}

/** Deterministic stand-in for Core's m_rng.randbits(n): xorshift32 seeded by the vector index. */
function makeRandBits(seed: number): () => number {
  let s = (seed * 0x9e3779b1 + 0x6d2b79f5) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    // Core draws randbits(mapFlagNames.size()) as a raw bit pattern; map it onto our flag bits.
    let out = 0;
    for (let i = 0; i < FLAG_COUNT; i++) if ((s >>> i) & 1) out |= FLAG_LIST[i]![1];
    return out;
  };
}

interface TxVector {
  index: number;
  name: string;
  tx: Transaction;
  spent: TxOut[];
  flagsText: string;
}

function prevoutKey(txidHex: string, vout: number): string {
  return `${txidHex.toLowerCase()}:${vout >>> 0}`;
}

/** Read a data file into vectors; comment rows (strings) before a vector become its name. */
function loadVectors(file: string): TxVector[] {
  const rows = JSON.parse(readVectorText('bitcoin-core', file)) as unknown[][];
  const out: TxVector[] = [];
  let comments: string[] = [];
  rows.forEach((row, index) => {
    if (!Array.isArray(row[0])) {
      comments.push(row.filter((x) => typeof x === 'string').join(' '));
      return;
    }
    assert.equal(row.length, 3, `bad test row #${index}`);
    const prevouts = new Map<string, TxOut>();
    for (const p of row[0] as unknown[][]) {
      assert.ok(p.length >= 3 && p.length <= 4, `bad prevout in row #${index}`);
      const [txid, vout, asm, amount] = p as [string, number, string, number | undefined];
      prevouts.set(prevoutKey(txid, vout), { value: amount ?? 0, scriptPubKey: parseCoreAsm(asm) });
    }
    const decoded = decodeTransaction(fromHex(row[1] as string));
    if (!decoded.ok) throw new Error(`row #${index}: tx does not decode: ${decoded.message}`);
    const tx = decoded.tx;
    const spent = tx.inputs.map((input, i) => {
      const coin = prevouts.get(prevoutKey(hashToHex(input.prevout.hash), input.prevout.index));
      if (coin === undefined) throw new Error(`row #${index}: no prevout given for input ${i}`);
      return coin;
    });
    const flagsText = row[2] as string;
    const about = comments.join(' / ');
    const shortAbout = about.length > 160 ? `${about.slice(0, 157)}...` : about;
    out.push({ index, name: `#${index} [${flagsText}] ${shortAbout}`, tx, spent, flagsText });
    comments = [];
  });
  return out;
}

/** Core's CheckTxScripts: verify inputs in order, stopping at the first failure. */
function checkTxScripts(
  v: TxVector,
  txdata: PrecomputedTxData,
  flags: number,
  backend: SignatureBackend,
): { ok: true } | { ok: false; input: number; error: string } {
  for (let i = 0; i < v.tx.inputs.length; i++) {
    const r = verifyInput(v.tx, i, v.spent, flags, { txdata, backend });
    if (!r.ok) return { ok: false, input: i, error: r.error };
  }
  return { ok: true };
}

function describe(flags: number): string {
  return formatScriptFlags(flags) || 'NONE';
}

function expectValid(v: TxVector, txdata: PrecomputedTxData, backend: SignatureBackend, flags: number, why: string): void {
  const r = checkTxScripts(v, txdata, flags, backend);
  if (!r.ok) assert.fail(`${why}: expected valid under ${describe(flags)}, input ${r.input} failed with ${r.error}`);
}

function expectInvalid(v: TxVector, txdata: PrecomputedTxData, backend: SignatureBackend, flags: number, why: string): void {
  const r = checkTxScripts(v, txdata, flags, backend);
  if (r.ok) assert.fail(`${why}: expected invalid under ${describe(flags)}, but every input passed`);
}

const valid = loadVectors('tx_valid.json');
const invalid = loadVectors('tx_invalid.json');

test('tx_valid.json holds 121 vectors and tx_invalid.json 93', () => {
  assert.equal(valid.length, 121);
  assert.equal(invalid.length, 93);
});

// Every vector under every signature backend: `[noble] tx_valid #…`, `[libsecp256k1] tx_valid #…`.
forEachBackend(({ tag, backend }) => {
  for (const v of valid) {
    test(`${tag} tx_valid ${v.name}`, () => {
      const check = checkTransaction(v.tx);
      assert.ok(check.ok, `CheckTransaction failed: ${check.ok ? '' : check.reason}`);
      const txdata = new PrecomputedTxData(v.tx, v.spent);
      const excluded = parseScriptFlags(v.flagsText);
      assert.equal(invert(excluded), fillFlags(invert(excluded)), 'bad test flags: the enabled set is not a valid combination');

      expectValid(v, txdata, backend, invert(excluded), 'all flags minus the excluded ones');

      // Removing flags must never invalidate a valid transaction.
      const randBits = makeRandBits(v.index);
      for (const [name, bit] of FLAG_LIST) {
        expectValid(v, txdata, backend, trimFlags(invert(excluded | bit)), `with ${name} also unset`);
        expectValid(v, txdata, backend, trimFlags(invert(excluded | randBits())), 'with random flags also unset');
      }

      // The exclusion list is minimal: putting back any one excluded flag makes it fail.
      for (const fewer of excludeIndividualFlags(excluded)) {
        expectInvalid(v, txdata, backend, invert(fewer), `with excluded flag(s) ${describe(excluded & ~fewer)} put back`);
      }
    });
  }

  for (const v of invalid) {
    test(`${tag} tx_invalid ${v.name}`, () => {
      const check = checkTransaction(v.tx);
      if (!check.ok) {
        assert.equal(v.flagsText, 'BADTX', `CheckTransaction rejected it (${check.reason}) but the vector is not BADTX`);
        return;
      }
      assert.notEqual(v.flagsText, 'BADTX', 'BADTX vector passed CheckTransaction');
      const txdata = new PrecomputedTxData(v.tx, v.spent);
      const flags = parseScriptFlags(v.flagsText);
      assert.equal(flags, fillFlags(flags), 'bad test flags: not a valid combination');

      expectInvalid(v, txdata, backend, flags, 'the listed flags');

      // Adding flags must never validate an invalid transaction.
      const randBits = makeRandBits(v.index);
      for (const [name, bit] of FLAG_LIST) {
        expectInvalid(v, txdata, backend, fillFlags(flags | bit), `with ${name} also set`);
        expectInvalid(v, txdata, backend, fillFlags(flags | randBits()), 'with random flags also set');
      }

      // The flag list is minimal: removing any one of them makes it pass.
      for (const fewer of excludeIndividualFlags(flags)) {
        expectValid(v, txdata, backend, fewer, `with ${describe(flags & ~fewer)} removed`);
      }
    });
  }
});
