// Script-assets cases (btcd/taproot-ref-script-assets.json: 2,760 cases that Bitcoin Core's
// feature_taproot.py --dumptests generates), checked the way Core's script_assets_tests.cpp does.
//
// Each case names a spending tx, the outputs it spends, one input `index` and a `success`
// and/or `failure` scriptSig + witness to put into that input. Core's rule, over the 64
// consensus flag sets (the 128 combinations of P2SH, DERSIG, NULLDUMMY, CLTV, CSV, WITNESS,
// TAPROOT less those with WITNESS but not P2SH or TAPROOT but not WITNESS):
// - success verifies under every set that is a subset of the case's flags (every set if `final`);
// - failure fails under every set that is a superset of the case's flags.
// The same signatures recur under every flag set, so a memo in front of the signature backend
// keeps the file fast; each (case, success|failure) tx shares one PrecomputedTxData. Every case
// runs under each signature backend (noble, libsecp256k1), each behind a memo of its own.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { forEachBackend } from './helpers/backends.js';
import { readVectorText } from './helpers/vectors.js';
import { fromHex, toHex } from '../src/primitives/bytes.js';
import { ByteReader } from '../src/primitives/reader.js';
import { Transaction, decodeTransaction, type TxIn, type TxOut } from '../src/primitives/transaction.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_TAPROOT,
  SCRIPT_VERIFY_WITNESS,
  formatScriptFlags,
  parseScriptFlags,
} from '../src/script/flags.js';
import { PrecomputedTxData } from '../src/script/sighash.js';
import type { EcdsaRS, SignatureBackend } from '../src/script/signature.js';
import { verifyInput } from '../src/script/verify.js';

interface Spend {
  scriptSig: string;
  witness: string[];
}

interface AssetCase {
  tx: string;
  prevouts: string[];
  index: number;
  flags: string;
  final?: boolean;
  comment?: string;
  success?: Spend;
  failure?: Spend;
}

/** Core's AllConsensusFlags(). */
const ALL_CONSENSUS_FLAGS: readonly number[] = (() => {
  const out: number[] = [];
  for (let i = 0; i < 128; i++) {
    let flags = 0;
    if (i & 1) flags |= SCRIPT_VERIFY_P2SH;
    if (i & 2) flags |= SCRIPT_VERIFY_DERSIG;
    if (i & 4) flags |= SCRIPT_VERIFY_NULLDUMMY;
    if (i & 8) flags |= SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY;
    if (i & 16) flags |= SCRIPT_VERIFY_CHECKSEQUENCEVERIFY;
    if (i & 32) flags |= SCRIPT_VERIFY_WITNESS;
    if (i & 64) flags |= SCRIPT_VERIFY_TAPROOT;
    if (flags & SCRIPT_VERIFY_WITNESS && !(flags & SCRIPT_VERIFY_P2SH)) continue;
    if (flags & SCRIPT_VERIFY_TAPROOT && !(flags & SCRIPT_VERIFY_WITNESS)) continue;
    out.push(flags);
  }
  return out;
})();

/**
 * Verification results are pure functions of their inputs, so caching them is exact; Core's
 * test also runs through a signature cache (CachingTransactionSignatureChecker).
 */
class MemoBackend implements SignatureBackend {
  readonly name: string;
  private readonly ecdsa = new Map<string, boolean>();
  private readonly schnorr = new Map<string, boolean>();
  calls = 0;
  misses = 0;

  constructor(private readonly inner: SignatureBackend) {
    this.name = `memo(${inner.name})`;
  }

  verifyEcdsa(rs: EcdsaRS, msg32: Uint8Array, pubkey: Uint8Array): boolean {
    this.calls++;
    const key = `${rs.r.toString(16)}:${rs.s.toString(16)}:${toHex(msg32)}:${toHex(pubkey)}`;
    let ok = this.ecdsa.get(key);
    if (ok === undefined) {
      this.misses++;
      ok = this.inner.verifyEcdsa(rs, msg32, pubkey);
      this.ecdsa.set(key, ok);
    }
    return ok;
  }

  verifySchnorr(sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array): boolean {
    this.calls++;
    const key = `${toHex(sig64)}:${toHex(msg32)}:${toHex(xonly32)}`;
    let ok = this.schnorr.get(key);
    if (ok === undefined) {
      this.misses++;
      ok = this.inner.verifySchnorr(sig64, msg32, xonly32);
      this.schnorr.set(key, ok);
    }
    return ok;
  }
}

function parsePrevout(hex: string): TxOut {
  const r = new ByteReader(fromHex(hex));
  const value = r.i64();
  const scriptPubKey = r.varBytes();
  assert.equal(r.remaining, 0, `trailing bytes in prevout ${hex}`);
  return { value, scriptPubKey };
}

/** The case's tx with `spend` in input `index`. */
function withSpend(base: Transaction, index: number, spend: Spend): Transaction {
  const inputs: TxIn[] = [...base.inputs];
  const input = inputs[index];
  assert.ok(input !== undefined, `input ${index} out of range`);
  inputs[index] = { ...input, scriptSig: fromHex(spend.scriptSig), witness: spend.witness.map(fromHex) };
  return new Transaction(base.version, inputs, base.outputs, base.locktime);
}

const cases = JSON.parse(readVectorText('btcd', 'taproot-ref-script-assets.json')) as AssetCase[];

test('taproot-ref-script-assets.json holds 2760 cases (2483 success+failure, 277 success only, 708 final)', () => {
  assert.equal(cases.length, 2760);
  assert.equal(cases.filter((c) => c.success !== undefined && c.failure !== undefined).length, 2483);
  assert.equal(cases.filter((c) => c.success !== undefined && c.failure === undefined).length, 277);
  assert.equal(cases.filter((c) => c.final === true).length, 708);
  assert.equal(cases.filter((c) => (parseScriptFlags(c.flags) & SCRIPT_VERIFY_TAPROOT) !== 0).length, 2612);
  assert.equal(ALL_CONSENSUS_FLAGS.length, 64);
});

// Every case under every signature backend, each behind its own memo: `[noble] #12 ...`.
forEachBackend(({ tag, backend: inner }) => {
  const backend = new MemoBackend(inner);

  cases.forEach((c, i) => {
    test(`${tag} #${i} ${c.comment ?? ''}`, () => {
      const decoded = decodeTransaction(fromHex(c.tx));
      if (!decoded.ok) assert.fail(`tx does not decode: ${decoded.code} at ${decoded.offset}: ${decoded.message}`);
      const base = decoded.tx;
      const prevouts = c.prevouts.map(parsePrevout);
      assert.equal(prevouts.length, base.inputs.length, 'one prevout per input');
      const testFlags = parseScriptFlags(c.flags);
      const fin = c.final === true;
      const problems: string[] = [];

      if (c.success !== undefined) {
        const tx = withSpend(base, c.index, c.success);
        const txdata = new PrecomputedTxData(tx, prevouts);
        for (const flags of ALL_CONSENSUS_FLAGS) {
          if (!fin && (flags & testFlags) !== flags) continue;
          const res = verifyInput(tx, c.index, prevouts, flags, { txdata, backend });
          if (!res.ok) problems.push(`success fails with [${formatScriptFlags(flags)}]: ${res.error}`);
        }
      }

      if (c.failure !== undefined) {
        const tx = withSpend(base, c.index, c.failure);
        const txdata = new PrecomputedTxData(tx, prevouts);
        for (const flags of ALL_CONSENSUS_FLAGS) {
          if ((flags & testFlags) !== testFlags) continue;
          const res = verifyInput(tx, c.index, prevouts, flags, { txdata, backend });
          if (res.ok) problems.push(`failure passes with [${formatScriptFlags(flags)}]`);
        }
      }

      assert.deepEqual(problems, []);
    });
  });

  test(`${tag} signature memo was used`, () => {
    // Not a vector: shows the memo did its job (most checks repeat across flag sets).
    assert.ok(backend.calls > 0 && backend.misses < backend.calls, `${backend.misses} misses in ${backend.calls} calls`);
  });
});
