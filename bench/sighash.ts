// Signature-hash cost per input type on real inputs of mainnet block 866342: legacy P2PKH,
// BIP143 P2WPKH (fresh vs shared PrecomputedTxData) and BIP341 key path.

import { hash256 } from '../src/primitives/hash.js';
import { equalBytes } from '../src/primitives/bytes.js';
import type { Transaction, TxOut } from '../src/primitives/transaction.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_TAPROOT,
  SCRIPT_VERIFY_WITNESS,
  formatScriptFlags,
} from '../src/script/flags.js';
import { PrecomputedTxData, SIGHASH_DEFAULT, signatureHashLegacy, signatureHashTaproot, signatureHashWitnessV0 } from '../src/script/sighash.js';
import { ScriptCursor } from '../src/script/script.js';
import { nobleBackend, parseDerLax } from '../src/script/signature.js';
import { verifyInput } from '../src/script/verify.js';
import { check, consume, runTasks, type Suite, type SuiteOptions, type SuiteReport, type TaskSpec } from './report.js';
import { BLOCK_866342, loadBlock866342WithSpent, type TxWithSpent } from './vectors.js';

/** Core's GetBlockScriptFlags for mainnet 866342 (everything through taproot is active). */
const FLAGS =
  SCRIPT_VERIFY_P2SH |
  SCRIPT_VERIFY_DERSIG |
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY |
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY |
  SCRIPT_VERIFY_WITNESS |
  SCRIPT_VERIFY_NULLDUMMY |
  SCRIPT_VERIFY_TAPROOT;

const isP2PKH = (s: Uint8Array): boolean => s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac;
const isP2WPKH = (s: Uint8Array): boolean => s.length === 22 && s[0] === 0x00 && s[1] === 0x14;
const isP2TR = (s: Uint8Array): boolean => s.length === 34 && s[0] === 0x51 && s[1] === 0x20;

interface Pick {
  readonly t: TxWithSpent;
  readonly nIn: number;
}

function find(txs: readonly TxWithSpent[], want: (t: TxWithSpent, nIn: number) => boolean): Pick {
  for (const t of txs) {
    for (let nIn = 0; nIn < t.tx.inputs.length; nIn++) if (want(t, nIn)) return { t, nIn };
  }
  throw new Error('no input of the wanted type in the block');
}

function describe(p: Pick): string {
  const tx = p.t.tx;
  return `tx ${p.t.txIndex} input ${p.nIn}: ${tx.inputs.length} in/${tx.outputs.length} out, ${tx.totalSize()} B`;
}

function pushes(script: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const c = new ScriptCursor(script);
  while (c.next()) out.push(c.data());
  return out;
}

/** The input verifies under block 866342's flags: the sighash timed below is the one that counts. */
function checkVerifies(p: Pick): void {
  const r = verifyInput(p.t.tx, p.nIn, p.t.spent, FLAGS);
  check(r.ok, `${describe(p)} verifies (${r.ok ? 'ok' : r.error})`);
}

/** An ECDSA signature with its hash-type byte, checked against `sighash` and `pubkey` directly. */
function checkEcdsa(sigWithType: Uint8Array, pubkey: Uint8Array, sighash: Uint8Array, what: string): void {
  const rs = parseDerLax(sigWithType.subarray(0, sigWithType.length - 1));
  check(rs !== undefined && nobleBackend.verifyEcdsa(rs, sighash, pubkey), `${what}: the signature verifies against the timed sighash`);
}

interface Legacy {
  readonly p: Pick;
  readonly scriptCode: Uint8Array;
  readonly hashType: number;
}

function legacyCase(p: Pick): Legacy {
  const input = p.t.tx.inputs[p.nIn]!;
  const [sig, pubkey] = pushes(input.scriptSig);
  check(sig !== undefined && pubkey !== undefined, `${describe(p)}: scriptSig is <sig> <pubkey>`);
  const scriptCode = p.t.spent[p.nIn]!.scriptPubKey;
  const hashType = sig[sig.length - 1]!;
  checkVerifies(p);
  checkEcdsa(sig, pubkey, signatureHashLegacy(scriptCode, p.t.tx, p.nIn, hashType), describe(p));
  return { p, scriptCode, hashType };
}

interface Witness {
  readonly p: Pick;
  readonly tx: Transaction;
  readonly spent: readonly TxOut[];
  readonly hashType: number;
}

interface Prepared {
  readonly legacy: Legacy;
  readonly legacyBig: Legacy;
  readonly w: Witness & { readonly scriptCode: Uint8Array; readonly amount: number };
  readonly t: Witness;
}

/**
 * Picks and checks one input of each type. Only the chosen transactions leave this function,
 * so the rest of the decoded block is garbage before timing starts.
 */
function prepare(): Prepared {
  const { txs } = loadBlock866342WithSpent();

  // Legacy P2PKH: the first such input of the block, and one in the block's largest
  // non-witness transaction (legacy sighash re-serializes the whole transaction per input).
  const legacy = legacyCase(find(txs, (t, i) => isP2PKH(t.spent[i]!.scriptPubKey)));
  const largest = txs.filter((t) => !t.tx.hasWitness()).reduce((a, b) => (b.tx.totalSize() > a.tx.totalSize() ? b : a));
  const legacyBig = legacyCase(find([largest], (t, i) => isP2PKH(t.spent[i]!.scriptPubKey)));

  // P2WPKH: witness <sig> <pubkey>; BIP143 script code is the P2PKH script of the program.
  const wp = find(txs, (t, i) => isP2WPKH(t.spent[i]!.scriptPubKey) && t.tx.inputs[i]!.witness.length === 2);
  const wTx = wp.t.tx;
  const wSpent: readonly TxOut[] = wp.t.spent;
  const [wSig, wPub] = wTx.inputs[wp.nIn]!.witness as [Uint8Array, Uint8Array];
  const scriptCode = Uint8Array.of(0x76, 0xa9, 0x14, ...wSpent[wp.nIn]!.scriptPubKey.subarray(2), 0x88, 0xac);
  const amount = wSpent[wp.nIn]!.value;
  const wHashType = wSig[wSig.length - 1]!;
  checkVerifies(wp);
  const wHash = signatureHashWitnessV0(scriptCode, wTx, wp.nIn, wHashType, amount, new PrecomputedTxData(wTx, wSpent));
  checkEcdsa(wSig, wPub, wHash, describe(wp));
  const shared = new PrecomputedTxData(wTx, wSpent);
  signatureHashWitnessV0(scriptCode, wTx, wp.nIn, wHashType, amount, shared); // fills the cache
  check(
    equalBytes(wHash, signatureHashWitnessV0(scriptCode, wTx, wp.nIn, wHashType, amount, shared)),
    'BIP143: a fresh PrecomputedTxData and a shared, already used one give the same sighash',
  );

  // P2TR key path: a single witness item (no annex), 64 bytes (SIGHASH_DEFAULT) or 65.
  const tp = find(txs, (t, i) => isP2TR(t.spent[i]!.scriptPubKey) && t.tx.inputs[i]!.witness.length === 1);
  const tTx = tp.t.tx;
  const tSpent: readonly TxOut[] = tp.t.spent;
  const tSig = tTx.inputs[tp.nIn]!.witness[0]!;
  const tHashType = tSig.length === 65 ? tSig[64]! : SIGHASH_DEFAULT;
  checkVerifies(tp);
  const tHash = signatureHashTaproot(tTx, tp.nIn, tHashType, new PrecomputedTxData(tTx, tSpent), {});
  const tKey = tSpent[tp.nIn]!.scriptPubKey.subarray(2);
  check(tHash !== undefined && nobleBackend.verifySchnorr(tSig.subarray(0, 64), tHash, tKey), `${describe(tp)}: the signature verifies against the timed sighash`);

  return {
    legacy,
    legacyBig,
    w: { p: wp, tx: wTx, spent: wSpent, hashType: wHashType, scriptCode, amount },
    t: { p: tp, tx: tTx, spent: tSpent, hashType: tHashType },
  };
}

export const sighashSuite: Suite = {
  name: 'sighash',
  title: 'signature hash per input type (real inputs of mainnet block 866342)',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const { legacy, legacyBig, w, t } = prepare();
    const wp = w.p;
    const tp = t.p;
    const wShared = new PrecomputedTxData(w.tx, w.spent);
    const tShared = new PrecomputedTxData(t.tx, t.spent);
    // The shared data the cached rows time, checked on its first call (which fills it) and on a
    // later one (what every timed call takes) against the sighash of fresh data, whose signature verified.
    const wFresh = signatureHashWitnessV0(w.scriptCode, w.tx, wp.nIn, w.hashType, w.amount, new PrecomputedTxData(w.tx, w.spent));
    const tFresh = signatureHashTaproot(t.tx, tp.nIn, t.hashType, new PrecomputedTxData(t.tx, t.spent), {});
    for (const call of ['first', 'second'] as const) {
      check(equalBytes(wFresh, signatureHashWitnessV0(w.scriptCode, w.tx, wp.nIn, w.hashType, w.amount, wShared)), `BIP143: the cached row's shared PrecomputedTxData gives the verified sighash on its ${call} call`);
      const th = signatureHashTaproot(t.tx, tp.nIn, t.hashType, tShared, {});
      check(tFresh !== undefined && th !== undefined && equalBytes(tFresh, th), `BIP341: the cached row's shared PrecomputedTxData gives the verified sighash on its ${call} call`);
    }

    const REF = 'reference: sha256d of 64 B (node:crypto)';
    const ref64 = new Uint8Array(64).fill(7);
    const W_CACHED = `P2WPKH BIP143, shared PrecomputedTxData (cached) [${describe(wp)}]`;
    const T_CACHED = `P2TR key path BIP341, shared PrecomputedTxData (cached) [${describe(tp)}]`;
    let sink = 0;
    const keep = (h: Uint8Array | undefined): void => {
      sink ^= h?.[0] ?? 0;
    };
    const specs: TaskSpec[] = [
      { name: REF, unit: 'hash', fn: () => keep(hash256(ref64)) },
      {
        name: `P2PKH legacy [${describe(legacy.p)}]`,
        unit: 'sighash',
        ref: REF,
        fn: () => keep(signatureHashLegacy(legacy.scriptCode, legacy.p.t.tx, legacy.p.nIn, legacy.hashType)),
      },
      {
        name: `P2PKH legacy, largest legacy tx [${describe(legacyBig.p)}]`,
        unit: 'sighash',
        ref: REF,
        fn: () => keep(signatureHashLegacy(legacyBig.scriptCode, legacyBig.p.t.tx, legacyBig.p.nIn, legacyBig.hashType)),
      },
      {
        name: `P2WPKH BIP143, fresh PrecomputedTxData per call (cold) [${describe(wp)}]`,
        unit: 'sighash',
        ref: W_CACHED,
        fn: () => keep(signatureHashWitnessV0(w.scriptCode, w.tx, wp.nIn, w.hashType, w.amount, new PrecomputedTxData(w.tx, w.spent))),
      },
      { name: W_CACHED, unit: 'sighash', ref: REF, fn: () => keep(signatureHashWitnessV0(w.scriptCode, w.tx, wp.nIn, w.hashType, w.amount, wShared)) },
      {
        name: `P2TR key path BIP341, fresh PrecomputedTxData per call (cold) [${describe(tp)}]`,
        unit: 'sighash',
        ref: T_CACHED,
        fn: () => keep(signatureHashTaproot(t.tx, tp.nIn, t.hashType, new PrecomputedTxData(t.tx, t.spent), {})),
      },
      { name: T_CACHED, unit: 'sighash', ref: REF, fn: () => keep(signatureHashTaproot(t.tx, tp.nIn, t.hashType, tShared, {})) },
    ];
    const { rows, bench } = await runTasks(this.title, specs, opts);
    consume(sink);

    const big = rows[2]!;
    const bigTx: Transaction = legacyBig.p.t.tx;
    return {
      suite: this.name,
      title: this.title,
      checks: [
        `each chosen input of ${BLOCK_866342.file} passes verifyInput with ${formatScriptFlags(FLAGS)}`,
        'each timed sighash, computed outside the timer, verifies the input\'s own signature with nobleBackend',
        'BIP143 and BIP341: the shared PrecomputedTxData the cached rows time gives the same sighash as fresh data on its first and a later call',
      ],
      rows,
      targets: [],
      notes: [
        'cold rows build a new PrecomputedTxData in every call, so the per-transaction hashes (prevouts, sequences, outputs; for BIP341 also amounts and scripts) are recomputed each time; vs ref compares them with the cached row',
        `legacy sighash is quadratic: all ${bigTx.inputs.length} inputs of the largest legacy tx take ≈ ${(big.meanMs * bigTx.inputs.length).toFixed(2)} ms of hashing (${bigTx.inputs.length} × ${(big.meanMs * 1e3).toFixed(1)} µs)`,
      ],
      bench,
    };
  },
};
