// Signature verification throughput: BIP340 Schnorr and ECDSA through vigil's noble backend, beside
// noble called directly (the same-run reference) and the 2,000 signatures/s target; then through the
// libsecp256k1 backend (native ECDSA and BIP340; the wasm build's too), each against nobleBackend.

import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { loadBackend, type LibsecpBackend } from '../src/script/backends.js';
import { CURVE_ORDER, nobleBackend, parseDerLax, type EcdsaRS, type SignatureBackend } from '../src/script/signature.js';
import { check, consume, runTasks, target, type Suite, type SuiteOptions, type SuiteReport, type TaskSpec } from './report.js';
import { TARGET_SIGS_PER_SEC } from './targets.js';

/** Distinct keys and messages, used in turn, so no call sees the same inputs as the one before. */
const SET_SIZE = 16;

const ECDSA_VERIFY_OPTS = { prehash: false, lowS: false } as const;

function det(label: string, i: number): Uint8Array {
  // A plain Uint8Array: Buffer's slice() is a view, which would let a tampered copy alter the original.
  return Uint8Array.from(createHash('sha256').update(`vigil bench ${label} ${i}`).digest());
}

interface SchnorrCase {
  readonly xonly: Uint8Array;
  readonly msg: Uint8Array;
  readonly sig: Uint8Array;
}

interface EcdsaCase {
  readonly pubkey: Uint8Array; // 33-byte compressed
  readonly msg: Uint8Array;
  readonly compact: Uint8Array; // r || s, for noble directly
  readonly rs: EcdsaRS; // as the interpreter hands it to the backend (from the lax DER parser)
}

function schnorrCases(): SchnorrCase[] {
  return Array.from({ length: SET_SIZE }, (_, i) => {
    const sk = det('schnorr key', i);
    const msg = det('schnorr msg', i);
    // Fixed aux randomness: the same signatures on every run.
    const sig = schnorr.sign(msg, sk, new Uint8Array(32));
    return { xonly: schnorr.getPublicKey(sk), msg, sig };
  });
}

function ecdsaCases(): EcdsaCase[] {
  return Array.from({ length: SET_SIZE }, (_, i) => {
    const sk = det('ecdsa key', i);
    const msg = det('ecdsa msg', i);
    const compact = secp256k1.sign(msg, sk, { prehash: false }); // RFC 6979: deterministic
    const der = secp256k1.Signature.fromBytes(compact, 'compact').toBytes('der');
    const rs = parseDerLax(der);
    if (rs === undefined) throw new Error('lax DER parser rejected a DER signature from noble');
    return { pubkey: secp256k1.getPublicKey(sk, true), msg, compact, rs };
  });
}

function flipBit(bytes: Uint8Array, byte: number): Uint8Array {
  const out = Uint8Array.from(bytes); // a copy, whatever the view type
  out[byte]! ^= 1;
  return out;
}

function checkCases(sc: readonly SchnorrCase[], ec: readonly EcdsaCase[], backends: readonly SignatureBackend[]): string[] {
  for (const [i, c] of sc.entries()) {
    check(schnorr.verify(c.sig, c.msg, c.xonly), `schnorr case ${i} verifies with noble directly`);
    for (const b of backends) {
      check(b.verifySchnorr(c.sig, c.msg, c.xonly), `${b.name}: schnorr case ${i} verifies`);
      check(!b.verifySchnorr(flipBit(c.sig, 40), c.msg, c.xonly), `${b.name}: schnorr case ${i} with a flipped s bit fails`);
      check(!b.verifySchnorr(c.sig, flipBit(c.msg, 0), c.xonly), `${b.name}: schnorr case ${i} on another message fails`);
    }
  }
  for (const [i, c] of ec.entries()) {
    check(c.pubkey.length === 33, `ecdsa case ${i} key is compressed`);
    check(secp256k1.verify(c.compact, c.msg, c.pubkey, ECDSA_VERIFY_OPTS), `ecdsa case ${i} verifies with noble directly`);
    for (const b of backends) {
      check(b.verifyEcdsa(c.rs, c.msg, c.pubkey), `${b.name}: ecdsa case ${i} verifies`);
      // Core normalises S before verifying: the high-S twin verifies too.
      check(b.verifyEcdsa({ r: c.rs.r, s: CURVE_ORDER - c.rs.s }, c.msg, c.pubkey), `${b.name}: ecdsa case ${i} with high S verifies`);
      check(!b.verifyEcdsa({ r: c.rs.r, s: c.rs.s ^ 1n }, c.msg, c.pubkey), `${b.name}: ecdsa case ${i} with a flipped s bit fails`);
      check(!b.verifyEcdsa(c.rs, flipBit(c.msg, 0), c.pubkey), `${b.name}: ecdsa case ${i} on another message fails`);
    }
  }
  return [
    `${SET_SIZE} BIP340 and ${SET_SIZE} ECDSA signatures (deterministic keys and messages) verify through noble directly and through ${backends.map((b) => b.name).join(', ')}`,
    'through each backend: the high-S twin of each ECDSA signature verifies; each one with a flipped signature bit, and each on a changed message, fails',
  ];
}

/** The libsecp256k1 backend, and its wasm build alone, where they load. */
async function libsecpBackends(): Promise<{ main?: LibsecpBackend; wasm?: LibsecpBackend; error?: string }> {
  try {
    const main = (await loadBackend('libsecp256k1')) as LibsecpBackend;
    const wasm = (await loadBackend('libsecp256k1', { native: false }).catch(() => undefined)) as LibsecpBackend | undefined;
    return { main, ...(wasm !== undefined && main.ecdsa === 'native' && { wasm }) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export const signaturesSuite: Suite = {
  name: 'signatures',
  title: 'signature verification, one thread',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const sc = schnorrCases();
    const ec = ecdsaCases();
    const lib = await libsecpBackends();
    const backends = [nobleBackend, ...(lib.main !== undefined ? [lib.main] : []), ...(lib.wasm !== undefined ? [lib.wasm] : [])];
    const checks = checkCases(sc, ec, backends);

    let i = 0;
    let ok = true;
    const nextS = (): SchnorrCase => sc[i++ & (SET_SIZE - 1)]!;
    const nextE = (): EcdsaCase => ec[i++ & (SET_SIZE - 1)]!;
    const SCHNORR = 'schnorr verify: nobleBackend.verifySchnorr';
    const SCHNORR_REF = 'schnorr verify: noble schnorr.verify directly';
    const ECDSA = 'ecdsa verify: nobleBackend.verifyEcdsa (r,s; 33-byte key)';
    const ECDSA_REF = 'ecdsa verify: noble secp256k1.verify directly';
    const specs: TaskSpec[] = [
      { name: SCHNORR_REF, unit: 'verify', fn: () => { const c = nextS(); ok &&= schnorr.verify(c.sig, c.msg, c.xonly); } },
      { name: SCHNORR, unit: 'verify', ref: SCHNORR_REF, fn: () => { const c = nextS(); ok &&= nobleBackend.verifySchnorr(c.sig, c.msg, c.xonly); } },
      { name: ECDSA_REF, unit: 'verify', fn: () => { const c = nextE(); ok &&= secp256k1.verify(c.compact, c.msg, c.pubkey, ECDSA_VERIFY_OPTS); } },
      { name: ECDSA, unit: 'verify', ref: ECDSA_REF, fn: () => { const c = nextE(); ok &&= nobleBackend.verifyEcdsa(c.rs, c.msg, c.pubkey); } },
    ];
    // libsecp256k1, each row against nobleBackend's (same run, same inputs).
    const build = { native: 'native (secp256k1)', wasm: 'wasm (tiny-secp256k1)', noble: 'noble' } as const;
    const LIB_SCHNORR = lib.main !== undefined ? `schnorr verify: libsecp256k1 backend, ${build[lib.main.schnorr]}` : undefined;
    const LIB_ECDSA = lib.main !== undefined ? `ecdsa verify: libsecp256k1 backend, ${build[lib.main.ecdsa]}` : undefined;
    const WASM_SCHNORR = lib.wasm !== undefined ? `schnorr verify: libsecp256k1 backend, ${build.wasm}` : undefined;
    const WASM_ECDSA = lib.wasm !== undefined ? `ecdsa verify: libsecp256k1 backend, ${build.wasm}` : undefined;
    if (lib.main !== undefined) {
      const b = lib.main;
      specs.push({ name: LIB_SCHNORR!, unit: 'verify', ref: SCHNORR, fn: () => { const c = nextS(); ok &&= b.verifySchnorr(c.sig, c.msg, c.xonly); } });
      specs.push({ name: LIB_ECDSA!, unit: 'verify', ref: ECDSA, fn: () => { const c = nextE(); ok &&= b.verifyEcdsa(c.rs, c.msg, c.pubkey); } });
    }
    if (lib.wasm !== undefined) {
      const b = lib.wasm;
      specs.push({ name: WASM_SCHNORR!, unit: 'verify', ref: SCHNORR, fn: () => { const c = nextS(); ok &&= b.verifySchnorr(c.sig, c.msg, c.xonly); } });
      specs.push({ name: WASM_ECDSA!, unit: 'verify', ref: ECDSA, fn: () => { const c = nextE(); ok &&= b.verifyEcdsa(c.rs, c.msg, c.pubkey); } });
    }
    const { rows, bench } = await runTasks(this.title, specs, opts);
    check(ok, 'every timed verification returned true');
    consume(ok);

    const perSec = (name: string): number => rows.find((r) => r.name === name)!.opsPerSec;
    const cores = cpus().length;
    return {
      suite: this.name,
      title: this.title,
      checks,
      rows,
      targets: [
        target('BIP340 verify, one thread', TARGET_SIGS_PER_SEC, perSec(SCHNORR), 'sig/s'),
        target('ECDSA verify, one thread', TARGET_SIGS_PER_SEC, perSec(ECDSA), 'sig/s'),
        ...(LIB_SCHNORR !== undefined && LIB_ECDSA !== undefined
          ? [
              target(`BIP340 verify, one thread, ${lib.main!.name}`, TARGET_SIGS_PER_SEC, perSec(LIB_SCHNORR), 'sig/s'),
              target(`ECDSA verify, one thread, ${lib.main!.name}`, TARGET_SIGS_PER_SEC, perSec(LIB_ECDSA), 'sig/s'),
            ]
          : []),
      ],
      notes: [
        `${cores} cores if scaling were perfect: ${Math.round(perSec(SCHNORR) * cores).toLocaleString('en-US')} BIP340 verifies/s, the one-thread figure × ${cores}, not measured (the blocks suite measures what 2 threads reach)`,
        'one op = one signature verified; the inputs cycle through the set so each call has a new key and message',
        'vs ref compares vigil\'s default backend (its own verification on bigints, noble-verify.ts / ecmult.ts: it does not call noble\'s verify) with @noble/curves\' verify on the same inputs: a ratio between two implementations, not a wrapper\'s overhead',
        lib.main !== undefined
          ? 'the libsecp256k1 rows are compared with the nobleBackend rows (time ratio: 0.25 = four times as fast); the ECDSA wrapper builds r||s with S made low, as Core does'
          : `libsecp256k1 rows left out: ${lib.error ?? 'not loaded'}`,
      ],
      bench,
    };
  },
};
