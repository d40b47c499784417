// Signature backends by name: noble (pure TypeScript, always there) and libsecp256k1 (Bitcoin Core's own
// library) through the optional packages `secp256k1` (native: ECDSA, and BIP340 through it) and
// `tiny-secp256k1` (wasm).
//
// Both packages are optionalDependencies, loaded lazily: a machine without them still runs noble.
// Consensus semantics follow Core's CPubKey::Verify (pubkey.cpp) and XOnlyPubKey::VerifySchnorr:
// - ECDSA: r,s come from our lax DER parser (r,s < n); r = 0 or s = 0 never verifies; a high S is
//   normalised to n - s before verifying (secp256k1_ecdsa_signature_normalize), since
//   secp256k1_ecdsa_verify itself accepts only low S. Keys are 33 or 65 bytes as normalizePubKey
//   gives them (hybrid keys already turned into 04 keys).
// - BIP340 over a 32-byte message with a 32-byte x-only key: on the native binding's ECDSA
//   verification where it loads (schnorr-by-ecdsa.ts), else on tiny-secp256k1's.
// Bad data never throws: the native addon answers a status (a key or signature it cannot parse
// is `false`; statuses 1 and 2 of the key and tweak calls are its answers about the data), and
// everything tiny-secp256k1 would refuse (it throws TypeError on arguments it dislikes, sometimes
// from inside its wasm: see verifyWasmSafe) is checked before calling it. So any throw from either
// build is our own failure, an internal error that must not be read as an invalid signature.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { equalBytes, fromHex, writeBig256 } from '../primitives/bytes.js';
import { NativeRefusal, isDataRefusal, schnorrByEcdsa } from './schnorr-by-ecdsa.js';
import { CURVE_ORDER, isCompressedPubKey, isHighS, isZero256, negateS, nobleBackend, type EcdsaRS, type SignatureBackend } from './signature.js';

export type BackendName = 'noble' | 'libsecp256k1';
export const BACKEND_NAMES: readonly BackendName[] = Object.freeze(['noble', 'libsecp256k1'] as const);

/** A libsecp256k1 backend, and which build of the library each scheme runs on. */
export interface LibsecpBackend extends SignatureBackend {
  /** 'native': the `secp256k1` N-API binding; 'wasm': `tiny-secp256k1`. */
  readonly ecdsa: 'native' | 'wasm';
  /**
   * 'native': the `secp256k1` binding's ECDSA verification (schnorr-by-ecdsa.ts), its rare
   * leftover cases on tiny-secp256k1 (or noble without it); 'wasm': `tiny-secp256k1`; 'noble'
   * only when neither build can.
   */
  readonly schnorr: 'native' | 'wasm' | 'noble';
}

// --- the two packages, as much of them as we call --------------------------------------------

/** What we call of `secp256k1` (v5), as its JS API answers (nativeCalls): ecdsaVerify true/false. */
export interface NativeSecp256k1 {
  ecdsaVerify(sig64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  /** The key re-encoded (compressed or not); throws on a key it cannot parse. */
  publicKeyConvert?(pubkey: Uint8Array, compressed?: boolean): Uint8Array;
  /** seckey·G; throws unless 0 < seckey < n. */
  publicKeyCreate?(seckey: Uint8Array, compressed?: boolean): Uint8Array;
  /** The sum of the keys; throws on a key it cannot parse or a sum at infinity. */
  publicKeyCombine?(pubkeys: Uint8Array[], compressed?: boolean): Uint8Array;
  /** pubkey + tweak·G; throws on a key it cannot parse, a tweak not below n, or infinity. */
  publicKeyTweakAdd?(pubkey: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
}

/**
 * `tiny-secp256k1` (v2): throws TypeError on arguments it refuses (lengths, r or s >= n, bad key).
 * isPoint / isXOnlyPoint answer without throwing.
 */
export interface TinySecp256k1 {
  verify(h: Uint8Array, Q: Uint8Array, signature: Uint8Array, strict?: boolean): boolean;
  verifySchnorr(h: Uint8Array, Q: Uint8Array, signature: Uint8Array): boolean;
  isPoint(p: Uint8Array): boolean;
  isXOnlyPoint(p: Uint8Array): boolean;
  /** The point re-encoded; throws from inside the wasm on a key that is not a point (isPoint first). */
  pointCompress?(p: Uint8Array, compressed?: boolean): Uint8Array;
  /**
   * P + t·G as an x-only key and its y parity (null at infinity); checks only lengths and t < n
   * before entering the wasm, so P must be checked with isXOnlyPoint first.
   */
  xOnlyPointAddTweak?(p: Uint8Array, tweak: Uint8Array): { parity: 0 | 1; xOnlyPubkey: Uint8Array } | null;
}

function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

/**
 * The compiled addon of `secp256k1` (v5), as its `lib/index.js` calls it: each method writes into
 * the output it is given and answers a status, 0 for success (ecdsaVerify: 1 a signature it cannot
 * parse, 2 a key it cannot parse, 3 a signature that does not verify). It checks the lengths of
 * signatures, messages, tweaks and secret keys itself, and parses keys with their length.
 */
interface Secp256k1Addon {
  ecdsaVerify(sig64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): number;
  publicKeyConvert(output: Uint8Array, pubkey: Uint8Array): number;
  publicKeyCreate(output: Uint8Array, seckey: Uint8Array): number;
  publicKeyCombine(output: Uint8Array, pubkeys: Uint8Array[]): number;
  publicKeyTweakAdd(output: Uint8Array, pubkey: Uint8Array, tweak: Uint8Array): number;
}

const ADDON_METHODS = ['ecdsaVerify', 'publicKeyConvert', 'publicKeyCreate', 'publicKeyCombine', 'publicKeyTweakAdd'] as const;

/**
 * The native binding only, called without the package's JS wrapper. `secp256k1`'s own entry point
 * quietly falls back to the pure-JS `elliptic` library when the binary does not load; node-gyp-build
 * throws instead, which is what we want: never run consensus checks on a library that is neither
 * libsecp256k1 nor noble. The wrapper (`lib/index.js`) formats three error messages on every call
 * before it checks anything (template strings and an array join): ~0.5 µs and ~190 bytes of
 * garbage a verify here, on every input of every block.
 */
export function loadNative(): NativeSecp256k1 | string {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('secp256k1/package.json'));
    const build = require(require.resolve('node-gyp-build', { paths: [dir] })) as (dir: string) => { Secp256k1?: new () => Partial<Secp256k1Addon> };
    const Addon = build(dir).Secp256k1;
    if (typeof Addon !== 'function') return 'the secp256k1 binding has no Secp256k1 class';
    const addon = new Addon();
    for (const fn of ADDON_METHODS) if (typeof addon[fn] !== 'function') return `the secp256k1 binding has no ${fn}()`;
    return nativeCalls(addon as Secp256k1Addon);
  } catch (err) {
    return describeError(err);
  }
}

/** NativeSecp256k1 over the addon: the wrapper's answers, its throws for any status but success. */
function nativeCalls(addon: Secp256k1Addon): NativeSecp256k1 {
  const keyOut = (compressed: boolean | undefined): Uint8Array => new Uint8Array(compressed === false ? 65 : 33);
  const ok = (status: number, output: Uint8Array, what: string): Uint8Array => {
    if (status !== 0) throw new NativeRefusal(what, status);
    return output;
  };
  return {
    ecdsaVerify: (sig64, msg32, pubkey) => addon.ecdsaVerify(sig64, msg32, pubkey) === 0,
    publicKeyConvert: (pubkey, compressed) => {
      const out = keyOut(compressed);
      return ok(addon.publicKeyConvert(out, pubkey), out, 'publicKeyConvert');
    },
    publicKeyCreate: (seckey, compressed) => {
      const out = keyOut(compressed);
      return ok(addon.publicKeyCreate(out, seckey), out, 'publicKeyCreate');
    },
    publicKeyCombine: (pubkeys, compressed) => {
      // libsecp256k1 aborts the process on an empty list (ARG_CHECK); the wrapper threw.
      if (pubkeys.length === 0) throw new RangeError('secp256k1 publicKeyCombine needs at least one key');
      const out = keyOut(compressed);
      return ok(addon.publicKeyCombine(out, pubkeys), out, 'publicKeyCombine');
    },
    publicKeyTweakAdd: (pubkey, tweak, compressed) => {
      const out = keyOut(compressed);
      return ok(addon.publicKeyTweakAdd(out, pubkey, tweak), out, 'publicKeyTweakAdd');
    },
  };
}

/** `tiny-secp256k1`, or why it does not load. */
export async function loadWasm(): Promise<TinySecp256k1 | string> {
  // A specifier in a variable: tsc neither resolves nor type-checks it, so the project builds
  // without the optional package.
  const specifier = 'tiny-secp256k1';
  try {
    const mod = (await import(specifier)) as Partial<TinySecp256k1>;
    for (const fn of ['verify', 'verifySchnorr', 'isPoint', 'isXOnlyPoint'] as const) {
      if (typeof mod[fn] !== 'function') return `tiny-secp256k1 has no ${fn}()`;
    }
    return mod as TinySecp256k1;
  } catch (err) {
    return describeError(err);
  }
}

// --- ECDSA -----------------------------------------------------------------------------------

const N = CURVE_ORDER;
const HALF_N = N >> 1n;

/** r || s with s made low, into `out`; false if r or s is out of [1, n-1]. */
function writeCompactLowS(out: DataView, rs: EcdsaRS): boolean {
  const r = rs.r;
  let s = rs.s;
  if (r <= 0n || s <= 0n || r >= N || s >= N) return false;
  // Core's CPubKey::Verify: "libsecp256k1's ECDSA verification requires lower-S signatures,
  // which have not historically been enforced in Bitcoin, so normalize them first."
  if (s > HALF_N) s = N - s;
  writeBig256(out, 0, r);
  writeBig256(out, 32, s);
  return true;
}

/** parseDerLaxCompact's r || s into `out` with s made low; false if r or s is zero or not below n (never verifies). */
function copyCompactLowS(out: Uint8Array, rs64: Uint8Array): boolean {
  if (rs64.length !== 64 || isZero256(rs64, 0) || isZero256(rs64, 32) || !belowOrder(rs64, 0) || !belowOrder(rs64, 32)) return false;
  out.set(rs64);
  // As writeCompactLowS: secp256k1_ecdsa_verify accepts only low S.
  if (isHighS(out)) negateS(out);
  return true;
}

function isKeyShape(pubkey: Uint8Array): boolean {
  return pubkey.length === 33 || pubkey.length === 65;
}

// --- BIP340 ----------------------------------------------------------------------------------

const N_BYTES = fromHex(N.toString(16).padStart(64, '0'));

/** Whether the 32 big-endian bytes at bytes[at..at+32) are below the curve order. */
function belowOrder(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) {
    const a = bytes[at + i]!;
    const b = N_BYTES[i]!;
    if (a !== b) return a < b;
  }
  return false;
}

// --- tiny-secp256k1's wasm must never throw --------------------------------------------------

/**
 * tiny-secp256k1 reports a key it cannot parse by calling a JS import that throws from inside the
 * wasm. The throw skips the Rust function's epilogue, so the wasm shadow-stack pointer is never
 * restored: measured here, 3,371 such throws (verifySchnorr with a 32-byte key off the curve) and
 * the instance traps ("memory access out of bounds") on every later call, valid signatures
 * included. One block can hold thousands of failing checks, so the backend checks keys with
 * isPoint / isXOnlyPoint (which answer without throwing) before each verify, and treats a trap as
 * our own fault, never as an invalid signature.
 */
function verifyWasmSafe(call: () => boolean): boolean {
  try {
    return call() === true;
  } catch (err) {
    // tiny-secp256k1's argument errors are TypeErrors, but we check lengths, r, s and keys first, so
    // none can occur: a TypeError here is a bug (ours, or one thrown from inside the wasm, which
    // leaks its stack), and a trap (WebAssembly.RuntimeError) means the instance is broken. Either
    // way answering false would call a valid signature invalid: throw, so the caller reports its
    // own error, not the block's.
    throw new Error(`tiny-secp256k1 failed: ${describeError(err)}`, { cause: err });
  }
}

// --- the backend -----------------------------------------------------------------------------

/** The libsecp256k1 backend over these builds (loadBackend's; tests build it over builds that fail on purpose). */
export function makeLibsecpBackend(native: NativeSecp256k1 | undefined, wasm: TinySecp256k1 | undefined): LibsecpBackend {
  // One scratch signature: both packages read it synchronously (the wasm one copies it in).
  const sig = new Uint8Array(64);
  const sigView = new DataView(sig.buffer);

  let verifyEcdsa: (rs: EcdsaRS, msg32: Uint8Array, pubkey: Uint8Array) => boolean;
  let verifyEcdsaCompact: (rs64: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array) => boolean;
  if (native !== undefined) {
    // False for a key libsecp256k1's ec_pubkey_parse refuses too; a throw would be our own bug
    // (the shapes are checked here), so it is not turned into an invalid signature.
    const call = (msg32: Uint8Array, pubkey: Uint8Array): boolean => native.ecdsaVerify(sig, msg32, pubkey);
    verifyEcdsa = (rs, msg32, pubkey) => msg32.length === 32 && isKeyShape(pubkey) && writeCompactLowS(sigView, rs) && call(msg32, pubkey);
    verifyEcdsaCompact = (rs64, msg32, pubkey) => msg32.length === 32 && isKeyShape(pubkey) && copyCompactLowS(sig, rs64) && call(msg32, pubkey);
  } else if (wasm !== undefined) {
    // Never let the wasm throw (see verifyWasmSafe): a key it cannot parse is refused here.
    const call = (msg32: Uint8Array, pubkey: Uint8Array): boolean => verifyWasmSafe(() => wasm.isPoint(pubkey) && wasm.verify(msg32, pubkey, sig, false));
    verifyEcdsa = (rs, msg32, pubkey) => msg32.length === 32 && isKeyShape(pubkey) && writeCompactLowS(sigView, rs) && call(msg32, pubkey);
    verifyEcdsaCompact = (rs64, msg32, pubkey) => msg32.length === 32 && isKeyShape(pubkey) && copyCompactLowS(sig, rs64) && call(msg32, pubkey);
  } else {
    throw new Error('makeLibsecpBackend needs at least one build of libsecp256k1');
  }

  let exactSchnorr: (sig64: Uint8Array, msg32: Uint8Array, xonly32: Uint8Array) => boolean;
  if (wasm !== undefined) {
    exactSchnorr = (sig64, msg32, xonly32) => {
      if (sig64.length !== 64 || msg32.length !== 32 || xonly32.length !== 32) return false;
      // BIP340's r is a field element: any r < p may verify. tiny-secp256k1 refuses r >= n as an
      // argument error; libsecp256k1 (so Core) would check such a signature. Finding a valid one
      // takes ~2^128 work, but consensus must not depend on that: noble checks these exactly.
      if (!belowOrder(sig64, 0)) return nobleBackend.verifySchnorr(sig64, msg32, xonly32);
      if (!belowOrder(sig64, 32)) return false; // s >= n: BIP340 fails it
      // A key that is not an x coordinate on the curve is refused here, never inside the wasm.
      return verifyWasmSafe(() => wasm.isXOnlyPoint(xonly32) && wasm.verifySchnorr(msg32, xonly32, sig64));
    };
  } else {
    exactSchnorr = nobleBackend.verifySchnorr;
  }
  // The native binding has no BIP340, but its ECDSA verification can check one (schnorr-by-ecdsa.ts):
  // ~67–71 µs a signature here against ~220 µs through tiny-secp256k1's wasm.
  const { publicKeyCreate, publicKeyCombine } = native ?? {};
  const byEcdsa =
    native !== undefined && publicKeyCreate !== undefined && publicKeyCombine !== undefined
      ? schnorrByEcdsa({ ecdsaVerify: native.ecdsaVerify.bind(native), publicKeyCreate: publicKeyCreate.bind(native), publicKeyCombine: publicKeyCombine.bind(native) }, exactSchnorr)
      : undefined;
  const verifySchnorr = byEcdsa?.verify ?? exactSchnorr;

  // Core's CheckTapTweak: Q = P + t·G on libsecp256k1, then its x and parity compared. Native:
  // ~33 µs here; wasm ~150 µs; the default backend's arithmetic ~240 µs. A tweak not below n fails, as in Core.
  const tweakAdd = wasm?.xOnlyPointAddTweak?.bind(wasm);
  const nativeTweakAdd = native?.publicKeyTweakAdd?.bind(native);
  const tapTweakShape = (internalKey: Uint8Array, tweak: Uint8Array, outputKey: Uint8Array): boolean =>
    internalKey.length === 32 && tweak.length === 32 && outputKey.length === 32 && belowOrder(tweak, 0);
  let checkTapTweak: ((internalKey: Uint8Array, tweak: Uint8Array, outputKey: Uint8Array, parity: number) => boolean) | undefined;
  if (nativeTweakAdd !== undefined) {
    const key33 = new Uint8Array(33);
    checkTapTweak = (internalKey, tweak, outputKey, parity) => {
      if (!tapTweakShape(internalKey, tweak, outputKey)) return false;
      key33[0] = 2; // lift_x: the even-y point
      key33.set(internalKey, 1);
      let q: Uint8Array;
      try {
        q = nativeTweakAdd(key33, tweak, true);
      } catch (err) {
        // The internal key is no x coordinate, or Q is infinity: libsecp256k1's answer. Anything else
        // thrown is our own failure, never a commitment mismatch.
        if (isDataRefusal(err)) return false;
        throw err;
      }
      return q[0] === 2 + parity && equalBytes(q.subarray(1), outputKey);
    };
  } else if (wasm !== undefined && tweakAdd !== undefined) {
    // The wasm must not throw (verifyWasmSafe): an internal key off the curve is answered here.
    // (tiny-secp256k1's own tweak_add_check would parse the output key too, so a key off the curve
    // would need a second ~20 µs check.)
    checkTapTweak = (internalKey, tweak, outputKey, parity) =>
      tapTweakShape(internalKey, tweak, outputKey) &&
      verifyWasmSafe(() => {
        if (!wasm.isXOnlyPoint(internalKey)) return false;
        const q = tweakAdd(internalKey, tweak);
        return q !== null && q.parity === parity && equalBytes(q.xOnlyPubkey, outputKey);
      });
  }

  // A compressed key's uncompressed form, by the library that verifies with it (PubKeyMemo).
  const nativeConvert = native?.publicKeyConvert?.bind(native);
  const wasmConvert = wasm?.pointCompress?.bind(wasm);
  let decompressPubKey: ((key33: Uint8Array) => Uint8Array | undefined) | undefined;
  if (native !== undefined) {
    if (nativeConvert !== undefined) {
      decompressPubKey = (key33) => {
        if (!isCompressedPubKey(key33)) return undefined;
        try {
          return nativeConvert(key33, false);
        } catch {
          return undefined; // not a point
        }
      };
    }
  } else if (wasm !== undefined && wasmConvert !== undefined) {
    decompressPubKey = (key33) => (isCompressedPubKey(key33) && verifyWasmSafe(() => wasm.isPoint(key33)) ? wasmConvert(key33, false) : undefined);
  }

  const ecdsa = native !== undefined ? 'native' : 'wasm';
  const schnorr = byEcdsa !== undefined ? 'native' : wasm !== undefined ? 'wasm' : 'noble';
  return Object.freeze({
    name: `libsecp256k1 (${ecdsa} ECDSA, ${schnorr} Schnorr)`,
    ecdsa,
    schnorr,
    verifyEcdsa,
    verifyEcdsaCompact,
    verifySchnorr,
    ...(checkTapTweak !== undefined && { checkTapTweak }),
    ...(decompressPubKey !== undefined && { decompressPubKey }),
    // Only noble's Schnorr is cheaper batched.
    batchSchnorr: schnorr === 'noble',
  });
}

export interface LoadBackendOptions {
  /**
   * false: leave the native binding alone, so ECDSA runs on the wasm build too (to test or time
   * that path). Default true: native when it loads.
   */
  native?: boolean;
}

/** Loaded backends, and loads under way, by variant: 'native' (the default) or 'wasm'. */
const libsecp = new Map<'native' | 'wasm', LibsecpBackend>();
const libsecpLoading = new Map<'native' | 'wasm', Promise<LibsecpBackend>>();

async function loadLibsecp(variant: 'native' | 'wasm'): Promise<LibsecpBackend> {
  const native = variant === 'native' ? loadNative() : 'not tried (native: false)';
  const wasm = await loadWasm();
  if (typeof native === 'string' && typeof wasm === 'string') {
    throw new Error(
      'the libsecp256k1 signature backend is unavailable: neither of its optional packages loads ' +
        `(secp256k1, native: ${native}; tiny-secp256k1, wasm: ${wasm}). ` +
        "Install them (npm install secp256k1 tiny-secp256k1, or an npm install that keeps optional dependencies) or use the 'noble' backend.",
    );
  }
  const backend = makeLibsecpBackend(typeof native === 'string' ? undefined : native, typeof wasm === 'string' ? undefined : wasm);
  libsecp.set(variant, backend);
  return backend;
}

/**
 * The signature backend of that name. 'libsecp256k1' loads its packages on first use (native
 * ECDSA when the `secp256k1` binary loads, else wasm; Schnorr through `tiny-secp256k1`) and
 * rejects with a clear Error when neither package loads. Its `name` says what loaded.
 */
export async function loadBackend(name: BackendName, opts: LoadBackendOptions = {}): Promise<SignatureBackend> {
  if (name === 'noble') return nobleBackend;
  if (name !== 'libsecp256k1') throw new TypeError(`unknown signature backend ${JSON.stringify(name)} (expected one of ${BACKEND_NAMES.join(', ')})`);
  const variant = opts.native === false ? 'wasm' : 'native';
  const done = libsecp.get(variant);
  if (done !== undefined) return done;
  let loading = libsecpLoading.get(variant);
  if (loading === undefined) {
    loading = loadLibsecp(variant);
    libsecpLoading.set(variant, loading);
    // A failed load may be retried later (say, after the packages are installed).
    loading.catch(() => libsecpLoading.delete(variant));
  }
  return loading;
}

/** The backend if it is loaded already (noble always is); undefined before loadBackend(name) resolves. */
export function getLoadedBackend(name: BackendName): SignatureBackend | undefined {
  if (name === 'noble') return nobleBackend;
  if (name === 'libsecp256k1') return libsecp.get('native');
  throw new TypeError(`unknown signature backend ${JSON.stringify(name)} (expected one of ${BACKEND_NAMES.join(', ')})`);
}

/** Whether `name` is one of BACKEND_NAMES (for option parsing). */
export function isBackendName(name: unknown): name is BackendName {
  return name === 'noble' || name === 'libsecp256k1';
}
