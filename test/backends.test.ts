// The signature backends module: loading by name, what the libsecp256k1 backend says it loaded, and
// agreement with noble on the edges Core's CPubKey::Verify and BIP340 care about (high S, zero or
// out-of-range r/s, keys off the curve, a BIP340 r between n and p) and on random data. A missing
// optional package must give a clear Error, checked in a copy of the build with no such packages.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';

import { TEST_BACKENDS } from './helpers/backends.js';
import { fromHex } from '../src/primitives/bytes.js';
import { BACKEND_NAMES, getLoadedBackend, loadBackend, loadNative, loadWasm, makeLibsecpBackend, type LibsecpBackend } from '../src/script/backends.js';
import { validateBlock } from '../src/consensus/validate-block.js';
import type { ValidationResult } from '../src/consensus/validation.js';
import { loadBlockFixture } from './helpers/real-blocks.js';
import { CURVE_ORDER, nobleBackend, normalizePubKey, type EcdsaRS, type SignatureBackend } from '../src/script/signature.js';
import { checkTapTweakNoble } from '../src/script/taproot.js';
import { challenge } from '../src/script/noble-verify.js';
import { Transaction } from '../src/primitives/transaction.js';
import { signatureHashLegacy } from '../src/script/sighash.js';
import { verifyInput } from '../src/script/verify.js';

const N = CURVE_ORDER;
const P = secp256k1.Point.Fp.ORDER;

function big32(v: bigint): Uint8Array {
  return fromHex(v.toString(16).padStart(64, '0'));
}

/** The platforms `secp256k1` ships prebuilt binaries for (its prebuilds/ folder). */
const NATIVE_PREBUILT = new Set(['linux-x64', 'darwin-arm64', 'win32-x64']);

test('loadBackend: noble always, unknown names are misuse', async () => {
  assert.deepEqual([...BACKEND_NAMES], ['noble', 'libsecp256k1']);
  assert.equal(await loadBackend('noble'), nobleBackend);
  assert.equal(getLoadedBackend('noble'), nobleBackend);
  await assert.rejects(loadBackend('openssl' as never), TypeError);
  assert.throws(() => getLoadedBackend('openssl' as never), TypeError);
});

test('loadBackend(libsecp256k1): native ECDSA and Schnorr where secp256k1 has a prebuilt binary, else wasm', async () => {
  const b = (await loadBackend('libsecp256k1')) as LibsecpBackend;
  assert.equal(getLoadedBackend('libsecp256k1'), b, 'getLoadedBackend gives the loaded backend');
  assert.equal(await loadBackend('libsecp256k1'), b, 'loaded once');
  const platform = `${process.platform}-${process.arch}`;
  if (NATIVE_PREBUILT.has(platform)) assert.equal(b.ecdsa, 'native', `secp256k1 ships a ${platform} binary: it should load`);
  assert.equal(b.schnorr, b.ecdsa === 'native' ? 'native' : 'wasm', 'BIP340 on the native binding when it loads, else tiny-secp256k1');
  assert.equal(b.batchSchnorr, false, 'single libsecp256k1 checks are cheaper than noble batches');
  assert.equal(b.name, `libsecp256k1 (${b.ecdsa} ECDSA, ${b.schnorr} Schnorr)`);
  const wasm = (await loadBackend('libsecp256k1', { native: false })) as LibsecpBackend;
  assert.deepEqual([wasm.ecdsa, wasm.schnorr], ['wasm', 'wasm'], 'native: false leaves the binding alone');
});

test('the native addon called directly: its statuses answer as the package\'s wrapper did', () => {
  const native = loadNative();
  if (typeof native === 'string') {
    // No binary for this platform: the loader says why (the backend then runs on the wasm build).
    assert.ok(!NATIVE_PREBUILT.has(`${process.platform}-${process.arch}`), `the secp256k1 binding should load here: ${native}`);
    assert.ok(native.length > 0);
    return;
  }
  const sk = new Uint8Array(32).fill(3);
  const msg = new Uint8Array(32).fill(5);
  const sig = secp256k1.sign(msg, sk, { prehash: false });
  const key33 = native.publicKeyCreate!(sk, true);
  const key65 = native.publicKeyCreate!(sk, false);
  assert.deepEqual([key33.length, key65.length], [33, 65]);
  assert.deepEqual(key33, secp256k1.getPublicKey(sk, true));
  assert.deepEqual(native.publicKeyConvert!(key33, false), key65);
  assert.deepEqual(native.publicKeyConvert!(key65, true), key33);
  // Status 0: valid; 3: does not verify; 1: r >= n (the signature does not parse); 2: the key does not parse.
  assert.equal(native.ecdsaVerify(sig, msg, key33), true);
  assert.equal(native.ecdsaVerify(sig, msg, key65), true);
  assert.equal(native.ecdsaVerify(sig, new Uint8Array(32).fill(6), key33), false);
  const rTooBig = Uint8Array.from(sig);
  rTooBig.set(big32(N), 0);
  assert.equal(native.ecdsaVerify(rTooBig, msg, key33), false);
  const offCurve = Uint8Array.from(key33);
  offCurve[0] = 5;
  assert.equal(native.ecdsaVerify(sig, msg, offCurve), false);
  assert.equal(native.ecdsaVerify(sig, msg, new Uint8Array(0)), false);
  // Shapes the addon checks itself are thrown, never answered: they would be our own bug.
  assert.throws(() => native.ecdsaVerify(sig.subarray(0, 63), msg, key33), RangeError);
  // Other calls throw on any status but success, as the wrapper did.
  const negated = Uint8Array.from(key33);
  negated[0] = key33[0] === 2 ? 3 : 2;
  assert.throws(() => native.publicKeyCombine!([key33, negated], true), /publicKeyCombine failed/, 'P + (-P) is infinity');
  assert.throws(() => native.publicKeyCombine!([], true), RangeError, 'an empty list is refused before libsecp256k1 (which would abort)');
  assert.throws(() => native.publicKeyCreate!(new Uint8Array(32), true), /publicKeyCreate failed/, 'a zero secret key');
  assert.throws(() => native.publicKeyConvert!(offCurve, true), /publicKeyConvert failed/);
  assert.throws(() => native.publicKeyTweakAdd!(key33, big32(N), true), /publicKeyTweakAdd failed/, 'a tweak not below n');
  assert.deepEqual(native.publicKeyTweakAdd!(key33, big32(1n), true), secp256k1.getPublicKey(new Uint8Array(32).fill(3).map((b, i) => (i === 31 ? 4 : b)), true));
});

test('loadBackend(libsecp256k1) without its optional packages: a clear Error; noble still loads', () => {
  // A copy of dist/src beside a node_modules holding only @noble: the packages cannot be found.
  const root = mkdtempSync(join(tmpdir(), 'vigil-nolibsecp-'));
  try {
    const distSrc = fileURLToPath(new URL('../src', import.meta.url));
    const realModules = fileURLToPath(new URL('../../node_modules', import.meta.url));
    cpSync(distSrc, join(root, 'src'), { recursive: true });
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(join(realModules, '@noble'), join(root, 'node_modules', '@noble'), 'dir');
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    const script = [
      "import { loadBackend } from './src/script/backends.js';",
      "const noble = await loadBackend('noble');",
      "try { await loadBackend('libsecp256k1'); console.log(JSON.stringify({ loaded: true })); }",
      'catch (e) { console.log(JSON.stringify({ loaded: false, noble: noble.name, message: e.message })); }',
    ].join('\n');
    writeFileSync(join(root, 'probe.mjs'), script);
    const out = JSON.parse(execFileSync(process.execPath, [join(root, 'probe.mjs')], { cwd: root, encoding: 'utf8' })) as {
      loaded: boolean;
      noble?: string;
      message?: string;
    };
    assert.equal(out.loaded, false);
    assert.equal(out.noble, 'noble');
    assert.match(out.message!, /libsecp256k1 signature backend is unavailable/);
    assert.match(out.message!, /secp256k1, native: .*tiny-secp256k1, wasm: /);
    assert.match(out.message!, /npm install secp256k1 tiny-secp256k1/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// --- agreement with noble ----------------------------------------------------------------------

// Every non-noble backend the suites run: libsecp256k1 as it loads, and its wasm build alone (the
// path taken where the native binding does not load).
const others: Array<{ tag: string; backend: SignatureBackend }> = TEST_BACKENDS.filter((b) => b.id !== 'noble');

function sk(seed: number): Uint8Array {
  return big32((BigInt(seed) * 0x9e3779b97f4a7c15n + 12345n) % (N - 1n) + 1n);
}

/** A signature that verifies, as r,s: low S as signed; `high` gives n - s (valid for Core too). */
function ecdsaCase(seed: number, high: boolean): { rs: EcdsaRS; msg: Uint8Array; key: Uint8Array; keyU: Uint8Array } {
  const key = sk(seed);
  const msg = big32(BigInt(seed) * 7919n + 1n);
  const sig = secp256k1.Signature.fromBytes(secp256k1.sign(msg, key, { prehash: false }), 'compact');
  return {
    rs: { r: sig.r, s: high ? N - sig.s : sig.s },
    msg,
    key: secp256k1.getPublicKey(key, true),
    keyU: secp256k1.getPublicKey(key, false),
  };
}

test('a hybrid key (06/07) in a script counts only when its prefix states y\'s parity: with the other prefix CHECKSIG fails, as Core\'s key parser refuses it', () => {
  const key = sk(21);
  const keyU = secp256k1.getPublicKey(key, false);
  const hybrid = Uint8Array.from(keyU);
  hybrid[0] = 0x06 | (keyU[64]! & 1);
  const lying = Uint8Array.of(hybrid[0]! ^ 1, ...hybrid.subarray(1));
  for (const [pub, valid] of [
    [hybrid, true],
    [lying, false],
  ] as const) {
    // <key> OP_CHECKSIG spent with a good signature, no STRICTENC (hybrid keys are consensus-valid).
    const spk = Uint8Array.of(65, ...pub, 0xac);
    const input = { prevout: { hash: new Uint8Array(32).fill(7), index: 0 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] };
    const outputs = [{ value: 1000, scriptPubKey: Uint8Array.of(0x51) }];
    const sighash = signatureHashLegacy(spk, new Transaction(1, [input], outputs, 0), 0, 1);
    const der = secp256k1.Signature.fromBytes(secp256k1.sign(sighash, key, { prehash: false }), 'compact').toBytes('der');
    const tx = new Transaction(1, [{ ...input, scriptSig: Uint8Array.of(der.length + 1, ...der, 0x01) }], outputs, 0);
    for (const { tag, backend } of TEST_BACKENDS) {
      const r = verifyInput(tx, 0, [{ value: 2000, scriptPubKey: spk }], 0, { backend });
      assert.deepEqual(r, valid ? { ok: true } : { ok: false, error: 'EVAL_FALSE' }, `${tag}: prefix ${pub[0]!.toString(16).padStart(2, '0')}`);
    }
  }
  assert.deepEqual(normalizePubKey(hybrid), keyU, 'right parity: the same point as an 04 key');
  assert.equal(normalizePubKey(lying), undefined, 'wrong parity: no key');
});

for (const { tag, backend } of others) {
  test(`${tag} ECDSA edges agree with noble and with Core`, () => {
    for (let seed = 1; seed <= 8; seed++) {
      for (const high of [false, true]) {
        const c = ecdsaCase(seed, high);
        assert.equal(c.rs.s > N / 2n, high);
        for (const key of [c.key, c.keyU]) {
          assert.equal(backend.verifyEcdsa(c.rs, c.msg, key), true, `seed ${seed} ${high ? 'high' : 'low'} S, ${key.length}-byte key`);
          assert.equal(nobleBackend.verifyEcdsa(c.rs, c.msg, key), true);
        }
        // Hybrid keys reach the backend as normalizePubKey makes them.
        const hybrid = Uint8Array.from(c.keyU);
        hybrid[0] = 0x06 | (c.keyU[64]! & 1);
        assert.equal(backend.verifyEcdsa(c.rs, c.msg, normalizePubKey(hybrid)!), true, 'hybrid key, normalised');
        const bad: Array<[string, EcdsaRS, Uint8Array, Uint8Array]> = [
          ['r = 0', { r: 0n, s: c.rs.s }, c.msg, c.key],
          ['s = 0', { r: c.rs.r, s: 0n }, c.msg, c.key],
          ['r = n', { r: N, s: c.rs.s }, c.msg, c.key],
          ['s = n', { r: c.rs.r, s: N }, c.msg, c.key],
          ['r + 1', { r: c.rs.r + 1n, s: c.rs.s }, c.msg, c.key],
          ['other message', c.rs, big32(12345n + BigInt(seed)), c.key],
          ['other key', c.rs, c.msg, ecdsaCase(seed + 100, false).key],
          ['key off the curve', c.rs, c.msg, Uint8Array.of(...c.keyU.subarray(0, 64), c.keyU[64]! ^ 1)],
          ['key x = p', c.rs, c.msg, Uint8Array.of(0x02, ...big32(P))],
          ['31-byte message', c.rs, c.msg.subarray(1), c.key],
          ['32-byte key', c.rs, c.msg, c.key.subarray(1)],
          // A hybrid key whose parity byte lies (libsecp256k1 parses 06/07 keys itself, as Core
          // does, so a raw one with the right parity would verify; normalizePubKey hands over 04).
          ['hybrid key, wrong parity', c.rs, c.msg, Uint8Array.of(hybrid[0]! ^ 1, ...hybrid.subarray(1))],
        ];
        for (const [what, rs, msg, key] of bad) {
          assert.equal(backend.verifyEcdsa(rs, msg, key), false, `seed ${seed}: ${what}`);
          // Sizes outside the interface (msg32; a 33/65-byte key) are only ours to refuse: noble
          // reads a 31-byte digest as a number, for one.
          const inInterface = msg.length === 32 && (key.length === 33 || key.length === 65);
          if (inInterface) assert.equal(nobleBackend.verifyEcdsa(rs, msg, key), false, `noble, seed ${seed}: ${what}`);
        }
      }
    }
  });

  test(`${tag} and noble where one multiple vanishes or the sum is infinity (u1 = 0; u1·G + u2·Q = O; s·G − e·P = O)`, () => {
    const key = sk(5);
    const d = BigInt('0x' + Buffer.from(key).toString('hex'));
    const pub = secp256k1.getPublicKey(key, true);
    // A zero digest makes u1 = h·s⁻¹ zero: R = u2·Q alone, and the signature is valid.
    const zero = new Uint8Array(32);
    const sig = secp256k1.Signature.fromBytes(secp256k1.sign(zero, key, { prehash: false }), 'compact');
    const rs = { r: sig.r, s: sig.s };
    assert.equal(nobleBackend.verifyEcdsa(rs, zero, pub), true, 'noble, zero digest');
    assert.equal(backend.verifyEcdsa(rs, zero, pub), true, 'zero digest');
    // h = −r·d mod n makes u1 + u2·d = (h + r·d)·s⁻¹ = 0: R is the point at infinity, never valid.
    const h = big32((((-rs.r * d) % N) + N) % N);
    const G = secp256k1.Point.BASE;
    const Fn = secp256k1.Point.Fn;
    const sInv = Fn.inv(rs.s);
    assert.ok(G.multiply(Fn.create(BigInt('0x' + Buffer.from(h).toString('hex')) * sInv)).add(secp256k1.Point.fromBytes(pub).multiply(Fn.create(rs.r * sInv))).is0(), 'the construction gives R = O');
    assert.equal(nobleBackend.verifyEcdsa(rs, h, pub), false, 'noble, R = O');
    assert.equal(backend.verifyEcdsa(rs, h, pub), false, 'R = O');
    // BIP340 with s = e·d (d giving the even-y key): R = s·G − e·P = O, never valid.
    const x = schnorr.getPublicKey(key);
    const even = secp256k1.getPublicKey(key, true)[0] === 2 ? d : N - d;
    const msg = big32(7n);
    const r32 = big32(1n);
    const e = challenge(r32, x, msg);
    const bad = Uint8Array.of(...r32, ...big32((e * even) % N));
    assert.equal(nobleBackend.verifySchnorr(bad, msg, x), false, 'noble, BIP340 R = O');
    assert.equal(backend.verifySchnorr(bad, msg, x), false, 'BIP340 R = O');
    // s = 0: s·G vanishes and R = −e·P, whose x is not this r.
    const s0 = Uint8Array.of(...r32, ...new Uint8Array(32));
    assert.equal(nobleBackend.verifySchnorr(s0, msg, x), false, 'noble, s = 0');
    assert.equal(backend.verifySchnorr(s0, msg, x), false, 's = 0');
  });

  test(`${tag} BIP340 edges agree with noble (r >= n, s >= n, keys off the curve)`, () => {
    const key = sk(3);
    const x = schnorr.getPublicKey(key);
    const msg = big32(99n);
    const sig = schnorr.sign(msg, key, new Uint8Array(32));
    const s = sig.subarray(32);
    const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
      ['valid', sig, msg, x],
      ['r = n (a field element tiny-secp256k1 refuses as an argument)', Uint8Array.of(...big32(N), ...s), msg, x],
      ['r = n + 1', Uint8Array.of(...big32(N + 1n), ...s), msg, x],
      ['r = p - 1', Uint8Array.of(...big32(P - 1n), ...s), msg, x],
      ['r = p', Uint8Array.of(...big32(P), ...s), msg, x],
      ['s = n', Uint8Array.of(...sig.subarray(0, 32), ...big32(N)), msg, x],
      ['s = n - 1', Uint8Array.of(...sig.subarray(0, 32), ...big32(N - 1n)), msg, x],
      ['key x = p', sig, msg, big32(P)],
      ['key x not on the curve', sig, msg, big32(5n)],
      ['63-byte signature', sig.subarray(1), msg, x],
      ['31-byte message', sig, msg.subarray(1), x],
      ['33-byte key', sig, msg, Uint8Array.of(2, ...x)],
    ];
    for (const [what, sg, m, k] of cases) {
      assert.equal(backend.verifySchnorr(sg, m, k), nobleBackend.verifySchnorr(sg, m, k), what);
      assert.equal(backend.verifySchnorr(sg, m, k), what === 'valid', what);
    }
  });

  test(`${tag} agrees with noble on random signatures, tampered or not (fast-check)`, () => {
    const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });
    const tamper = fc.record({ which: fc.integer({ min: 0, max: 3 }), byte: fc.nat(31), bit: fc.nat(7) });
    fc.assert(
      fc.property(seed, fc.boolean(), fc.boolean(), fc.option(tamper), (n, high, compressed, t) => {
        const c = ecdsaCase(n, high);
        let { r, s } = c.rs;
        const msg = Uint8Array.from(c.msg);
        const key = Uint8Array.from(compressed ? c.key : c.keyU);
        if (t !== null) {
          const flip = 1n << BigInt(t.byte * 8 + t.bit);
          if (t.which === 0) r ^= flip;
          else if (t.which === 1) s ^= flip;
          else if (t.which === 2) msg[t.byte]! ^= 1 << t.bit;
          else key[1 + t.byte]! ^= 1 << t.bit;
        }
        const rs = { r, s };
        if (r >= N || s >= N) return; // the lax DER parser never hands these over
        const want = nobleBackend.verifyEcdsa(rs, msg, key);
        assert.equal(backend.verifyEcdsa(rs, msg, key), want);
        if (t === null) assert.equal(want, true);
      }),
      { numRuns: 150, seed: 340 },
    );
    fc.assert(
      fc.property(seed, fc.option(fc.record({ at: fc.nat(127), bit: fc.nat(7) })), (n, t) => {
        const key = sk(n);
        const msg = big32(BigInt(n) * 31n);
        const parts = Uint8Array.of(...schnorr.sign(msg, key, new Uint8Array(32)), ...msg, ...schnorr.getPublicKey(key));
        if (t !== null) parts[t.at]! ^= 1 << t.bit;
        const [sg, m, k] = [parts.subarray(0, 64), parts.subarray(64, 96), parts.subarray(96)];
        const want = nobleBackend.verifySchnorr(sg, m, k);
        assert.equal(backend.verifySchnorr(sg, m, k), want);
        if (t === null) assert.equal(want, true);
      }),
      { numRuns: 150, seed: 341 },
    );
  });

  test(`${tag} 10,000 keys off the curve, then valid signatures still verify (tiny-secp256k1 must not throw inside its wasm)`, () => {
    // Unchecked, tiny-secp256k1 leaks wasm stack on each such key and traps after ~3,400 of them.
    const key = sk(5);
    const msg = big32(5n);
    const sig = schnorr.sign(msg, key, new Uint8Array(32));
    const ec = ecdsaCase(5, true);
    const offX = big32(5n); // x = 5: x^3 + 7 is not a square mod p
    const offKey = Uint8Array.of(0x02, ...offX);
    for (let i = 0; i < 10_000; i++) {
      assert.equal(backend.verifySchnorr(sig, msg, offX), false);
      assert.equal(backend.verifyEcdsa(ec.rs, ec.msg, offKey), false);
    }
    assert.equal(backend.verifySchnorr(sig, msg, schnorr.getPublicKey(key)), true);
    assert.equal(backend.verifyEcdsa(ec.rs, ec.msg, ec.key), true);
  });

  test(`${tag} CheckTapTweak agrees with noble's: valid tweaks, wrong parity or key, keys off the curve, tweaks not below n`, () => {
    const check = backend.checkTapTweak;
    assert.ok(check !== undefined, 'libsecp256k1 checks tap tweaks itself');
    const offX = big32(5n); // x = 5: x^3 + 7 is not a square mod p
    for (let seed = 1; seed <= 24; seed++) {
      const internal = schnorr.getPublicKey(sk(seed));
      const tweak = seed === 1 ? new Uint8Array(32) : big32((BigInt(seed) * 0x1234567890abcdefn) % N);
      const t = BigInt('0x' + Buffer.from(tweak).toString('hex'));
      const lifted = secp256k1.Point.fromBytes(Uint8Array.of(0x02, ...internal));
      const q = (t === 0n ? lifted : lifted.add(secp256k1.Point.BASE.multiply(t))).toAffine();
      const out = big32(q.x);
      const parity = Number(q.y & 1n);
      const flipped = out.slice();
      flipped[31]! ^= 1;
      const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array, number, boolean]> = [
        ['valid', internal, tweak, out, parity, true],
        ['wrong parity', internal, tweak, out, 1 - parity, false],
        ['another output key', internal, tweak, flipped, parity, false],
        ['internal key off the curve', offX, tweak, out, parity, false],
        ['output key off the curve', internal, tweak, offX, parity, false],
        ['tweak = n', internal, big32(N), out, parity, false],
        ['tweak above n', internal, big32(N + BigInt(seed)), out, parity, false],
        ['parity 2', internal, tweak, out, 2, false],
        ['short key', internal.subarray(1), tweak, out, parity, false],
      ];
      for (const [what, p, t, o, y, want] of cases) {
        assert.equal(check(p, t, o, y), want, `${what} (seed ${seed})`);
        if (what !== 'parity 2' && what !== 'short key') assert.equal(checkTapTweakNoble(p, t, o, y), want, `noble: ${what} (seed ${seed})`);
      }
    }
    // Thousands of keys off the curve, then a valid check: nothing leaks inside the wasm.
    const internal = schnorr.getPublicKey(sk(3));
    const tweak = big32(77n);
    const q = secp256k1.Point.fromBytes(Uint8Array.of(0x02, ...internal)).add(secp256k1.Point.BASE.multiply(77n)).toAffine();
    for (let i = 0; i < 5000; i++) assert.equal(check(offX, tweak, big32(q.x), 0), false);
    assert.equal(check(internal, tweak, big32(q.x), Number(q.y & 1n)), true);
  });

  test(`${tag} random junk never throws`, () => {
    const junk = fc.uint8Array({ maxLength: 70 });
    const scalar = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
    const b: SignatureBackend = backend;
    fc.assert(
      fc.property(scalar, scalar, junk, junk, junk, (r, s, m, k, sg) => {
        assert.equal(typeof b.verifyEcdsa({ r, s }, m, k), 'boolean');
        assert.equal(typeof b.verifySchnorr(sg, m, k), 'boolean');
      }),
      { numRuns: 300, seed: 342 },
    );
  });
}

// Core's verification never fails but on the data: an exception (bad_alloc) stops the node, it is no
// verdict. A throw inside a backend must likewise surface as our own failure, never as a signature or
// a taproot commitment that does not check out (which would mark a valid block invalid, for good).
test('a throw inside a backend is our own failure, never an invalid signature or commitment', async () => {
  const native = loadNative();
  const wasm = await loadWasm();
  assert.ok(typeof native !== 'string' && typeof wasm !== 'string', 'both builds of libsecp256k1 load here');
  const oom = (): never => {
    throw new RangeError('Array buffer allocation failed');
  };
  const bug = (): never => {
    throw new TypeError("Cannot read properties of null (reading 'x')");
  };
  const F = loadBlockFixture('floresta/block_866342.raw');
  const run = (backend: SignatureBackend): ValidationResult => validateBlock(F.raw, F.spent, { network: 'main', backend }).result;
  const ourFailure = (backend: SignatureBackend, what: string): void => {
    const r = run(backend);
    assert.equal(r.mode, 'error', `${what}: ${JSON.stringify(r)}`);
    assert.equal(r.reason, 'script-check-failed', what);
  };
  // The block checks out on each build as it is (866342: ECDSA, taproot key and script paths; noble
  // takes seconds on it: its direct calls below are checked with and without the fault).
  assert.equal(run(makeLibsecpBackend(native, wasm)).mode, 'valid');
  // The wasm build's BIP340 and tweak checks, beside native ECDSA (fast) for the block's other inputs.
  const { publicKeyCombine: _combine, ...nativeNoCombine } = native;
  const { publicKeyTweakAdd: _tweakAdd, ...nativeNoTweakAdd } = native;

  ourFailure(makeLibsecpBackend({ ...native, ecdsaVerify: oom }, wasm), 'native ecdsaVerify');
  ourFailure(makeLibsecpBackend({ ...native, publicKeyTweakAdd: oom }, wasm), 'native publicKeyTweakAdd (CheckTapTweak)');
  ourFailure(makeLibsecpBackend({ ...native, publicKeyCombine: oom }, wasm), 'native publicKeyCombine (BIP340 through ECDSA)');
  assert.equal(makeLibsecpBackend(nativeNoCombine, wasm).schnorr, 'wasm');
  ourFailure(makeLibsecpBackend(nativeNoCombine, { ...wasm, verifySchnorr: bug }), 'wasm verifySchnorr, a TypeError');
  ourFailure(makeLibsecpBackend(nativeNoTweakAdd, { ...wasm, xOnlyPointAddTweak: bug }), 'wasm xOnlyPointAddTweak, a TypeError');
  ourFailure(makeLibsecpBackend(undefined, { ...wasm, verify: oom }), 'wasm verify');

  // noble: its own verify() answers false for anything thrown inside it; ours only for its refusals.
  // Its objects are frozen: the fault is BigInt() failing, for the length of one call.
  const sk = new Uint8Array(32).fill(7);
  const msg = new Uint8Array(32).fill(9);
  const schnorrSig = schnorr.sign(msg, sk, new Uint8Array(32));
  const ecdsaSig = secp256k1.sign(msg, sk, { prehash: false });
  const xonly = schnorr.getPublicKey(sk);
  const tweak = new Uint8Array(32).fill(1);
  const tweaked = schnorr.utils.lift_x(BigInt('0x' + Buffer.from(xonly).toString('hex'))).add(secp256k1.Point.BASE.multiply(BigInt('0x' + '01'.repeat(32)))).toAffine();
  const calls: Array<[string, () => boolean]> = [
    ['verifySchnorr', () => nobleBackend.verifySchnorr(schnorrSig, msg, xonly)],
    ['verifyEcdsaCompact', () => nobleBackend.verifyEcdsaCompact!(ecdsaSig, msg, secp256k1.getPublicKey(sk))],
    ['checkTapTweakNoble', () => checkTapTweakNoble(xonly, tweak, big32(tweaked.x), Number(tweaked.y & 1n))],
  ];
  const realBigInt = globalThis.BigInt;
  for (const [what, call] of calls) {
    assert.equal(call(), true, what);
    globalThis.BigInt = bug as unknown as BigIntConstructor;
    try {
      assert.throws(call, TypeError, what);
    } finally {
      globalThis.BigInt = realBigInt;
    }
    assert.equal(call(), true, what);
  }

  // Only the data's decoding may refuse: node:crypto's own failures (OpenSSL's are plain Errors, as
  // noble's refusals are) in the BIP340 challenge are ours.
  const hashProto = Object.getPrototypeOf(createHash('sha256')) as { copy: () => unknown };
  const copy = hashProto.copy;
  hashProto.copy = () => {
    throw new Error('Digest copy error');
  };
  try {
    assert.throws(() => nobleBackend.verifySchnorr(schnorrSig, msg, xonly), /Digest copy error/);
  } finally {
    hashProto.copy = copy;
  }
  assert.equal(nobleBackend.verifySchnorr(schnorrSig, msg, xonly), true);

  // Refusals of the data are still answers: a key off the curve, an x with no square root.
  const offCurve = Uint8Array.of(0x02, ...new Uint8Array(31), 5);
  for (const b of [nobleBackend, makeLibsecpBackend(native, wasm), makeLibsecpBackend(undefined, wasm)]) {
    assert.equal(b.verifyEcdsa({ r: 1n, s: 1n }, new Uint8Array(32), offCurve), false, b.name);
    assert.equal(b.verifySchnorr(new Uint8Array(64).fill(1), new Uint8Array(32), offCurve.subarray(1)), false, b.name);
    assert.equal(b.checkTapTweak?.(offCurve.subarray(1), new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), 0) ?? false, false, b.name);
  }
});
