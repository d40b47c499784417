// Batch BIP340 verification: the BIP340 vectors as batches, the 2,223 taproot key-path spends of
// mainnet block 866342 in batches of 64 and 256, and one bad signature among many caught and
// named, through verifySchnorrBatch, SchnorrBatch and the signature checker's deferred mode.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex } from '../src/primitives/bytes.js';
import { ByteReader } from '../src/primitives/reader.js';
import { Transaction, decodeTransaction, type TxOut } from '../src/primitives/transaction.js';
import { parseScriptFlags } from '../src/script/flags.js';
import { PrecomputedTxData } from '../src/script/sighash.js';
import { verifyInput } from '../src/script/verify.js';
import { SchnorrBatch, verifySchnorrBatch, type SchnorrItem } from '../src/script/batch-schnorr.js';
import { verifyTransaction } from '../src/script/verify-tx.js';
import { collectSchnorrChecks, isKeyPathSpend, loadTaprootBlock } from './helpers/taproot-block.js';
import { readVectorText } from './helpers/vectors.js';

const SEED = 0xba7c_0340;

// ---- BIP340 vectors -----------------------------------------------------------------------

interface Row extends SchnorrItem {
  readonly index: number;
  readonly valid: boolean;
  readonly comment: string;
}

/** bip-0340 test-vectors.csv: index, secret key, public key, aux_rand, message, signature, result, comment. */
function bip340Rows(): Row[] {
  const lines = readVectorText('bips', 'bip-0340-test-vectors.csv').split(/\r?\n/).filter((l) => l.trim() !== '');
  lines.shift();
  return lines.map((line) => {
    const f = line.split(',');
    return {
      index: Number(f[0]),
      pub32: fromHex(f[2]!),
      msg32: fromHex(f[4]!),
      sig64: fromHex(f[5]!),
      valid: f[6] === 'TRUE',
      comment: f.slice(7).join(','),
    };
  });
}

const rows = bip340Rows();
const validRows = rows.filter((r) => r.valid);
const invalidRows = rows.filter((r) => !r.valid);

test('BIP340 vectors: 9 valid rows, 10 invalid', () => {
  assert.equal(validRows.length, 9);
  assert.equal(invalidRows.length, 10);
});

test('BIP340 vectors: all valid rows in one batch verify (messages of 0, 1, 17, 32 and 100 bytes)', () => {
  assert.equal(verifySchnorrBatch(validRows), true);
  for (const r of validRows) assert.equal(verifySchnorrBatch([r]), true, `#${r.index} alone`);
});

for (const bad of invalidRows) {
  test(`BIP340 vector #${bad.index} (${bad.comment}) poisons a batch of the valid rows`, () => {
    assert.equal(verifySchnorrBatch([bad]), false, 'alone');
    assert.equal(verifySchnorrBatch([...validRows, bad]), false, 'last');
    assert.equal(verifySchnorrBatch([bad, ...validRows]), false, 'first');
    const b = new SchnorrBatch();
    validRows.forEach((r, i) => b.add(r.sig64, r.msg32, r.pub32, i));
    b.add(bad.sig64, bad.msg32, bad.pub32, 100 + bad.index);
    validRows.forEach((r, i) => b.add(r.sig64, r.msg32, r.pub32, 200 + i));
    assert.deepEqual(b.verify(), { ok: false, error: 'SCHNORR_SIG', inputIndex: 100 + bad.index, txIndex: undefined, position: validRows.length });
  });
}

test('parse failures make the batch false: s = n, r = p, a key off the curve, wrong sizes', () => {
  const good = validRows.find((r) => r.msg32.length === 32)!;
  const n = bigTo32(secp256k1.Point.Fn.ORDER);
  const p = bigTo32(secp256k1.Point.Fp.ORDER);
  const sN = good.sig64.slice();
  sN.set(n, 32);
  const rP = good.sig64.slice();
  rP.set(p, 0);
  const offCurve = invalidRows.find((r) => /not on the curve/i.test(r.comment))!;
  const cases: Array<[string, SchnorrItem]> = [
    ['s = n', { ...good, sig64: sN }],
    ['r = p', { ...good, sig64: rP }],
    ['public key not on the curve', { ...good, pub32: offCurve.pub32 }],
    ['public key = p', { ...good, pub32: p }],
    ['63-byte signature', { ...good, sig64: good.sig64.subarray(0, 63) }],
    ['31-byte key', { ...good, pub32: good.pub32.subarray(1) }],
  ];
  for (const [what, item] of cases) assert.equal(verifySchnorrBatch([...validRows, item]), false, what);
  assert.equal(verifySchnorrBatch([]), true, 'an empty batch');
});

test('two invalid signatures whose errors cancel out fail the batch wherever they stand (each is weighted by its own random factor)', () => {
  // s_i + δ and s_j − δ: with equal weights on i and j, Σ a·s is unchanged and the equation holds.
  const n = secp256k1.Point.Fn.ORDER;
  const shiftS = (item: SchnorrItem, delta: bigint): SchnorrItem => {
    const s = BigInt('0x' + Buffer.from(item.sig64.subarray(32)).toString('hex'));
    const sig64 = item.sig64.slice();
    sig64.set(bigTo32((((s + delta) % n) + n) % n), 32);
    return { ...item, sig64 };
  };
  const base: SchnorrItem[] = validRows.slice(0, 4);
  for (let i = 0; i < base.length; i++) {
    for (let j = i + 1; j < base.length; j++) {
      const items = base.slice();
      items[i] = shiftS(base[i]!, 1n);
      items[j] = shiftS(base[j]!, -1n);
      assert.equal(verifySchnorrBatch(items), false, `s + 1 at position ${i}, s - 1 at position ${j}`);
    }
  }
  assert.equal(verifySchnorrBatch(base), true);
});

// ---- mainnet block 866342 ------------------------------------------------------------------

test('block 866342: its 2,223 taproot key-path spends verify in batches of 64 and of 256', () => {
  const { keyPath, keyPathInputs, all } = collectSchnorrChecks();
  assert.equal(keyPathInputs, 2223);
  assert.equal(keyPath.length, 2223);
  assert.ok(all.length > keyPath.length, 'script-path checks recorded too');
  for (const size of [64, 256]) {
    let batches = 0;
    for (let i = 0; i < keyPath.length; i += size) {
      const chunk = keyPath.slice(i, i + size);
      assert.equal(verifySchnorrBatch(chunk), true, `batch of ${size} from ${i}`);
      batches++;
    }
    assert.equal(batches, Math.ceil(2223 / size));
  }
});

test('block 866342: every BIP340 check its taproot inputs make, deferred into one SchnorrBatch, verifies', () => {
  const { all } = collectSchnorrChecks();
  const b = new SchnorrBatch();
  for (const c of all) b.add(c.sig64, c.msg32, c.pub32, c.inputIndex, c.txIndex);
  assert.deepEqual(b.verify(), { ok: true, verified: all.length });
  assert.equal(b.size, 0, 'verify() empties the batch');
});

test('block 866342: one flipped bit among 256 real signatures fails the batch and SchnorrBatch names it', () => {
  const { keyPath } = collectSchnorrChecks();
  const chunk = keyPath.slice(512, 768);
  // A bit of s, of r, of the message and of the key, at spread-out positions.
  const flips: Array<[number, 'sig64' | 'msg32' | 'pub32', number]> = [
    [0, 'sig64', 40],
    [255, 'sig64', 3],
    [137, 'msg32', 17],
    [64, 'pub32', 31],
  ];
  for (const [at, field, byte] of flips) {
    const items = chunk.map((c) => ({ sig64: c.sig64, msg32: c.msg32, pub32: c.pub32 }));
    const bad = items[at]![field].slice();
    bad[byte]! ^= 0x10;
    items[at] = { ...items[at]!, [field]: bad };
    assert.equal(verifySchnorrBatch(items), false, `${field}[${byte}] of item ${at}`);
    const b = new SchnorrBatch();
    items.forEach((it, i) => b.add(it.sig64, it.msg32, it.pub32, chunk[i]!.inputIndex, chunk[i]!.txIndex));
    const r = b.verify();
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.position, at);
    assert.equal(r.inputIndex, chunk[at]!.inputIndex);
    assert.equal(r.txIndex, chunk[at]!.txIndex);
  }
});

test('property: a random batch of real signatures with one flipped bit fails and the right one is named', () => {
  const { keyPath } = collectSchnorrChecks();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: keyPath.length - 64 }),
      fc.integer({ min: 2, max: 64 }),
      fc.nat(),
      fc.integer({ min: 0, max: 8 * 128 - 1 }),
      (start, size, pick, bit) => {
        const chunk = keyPath.slice(start, start + size);
        const at = pick % size;
        // One bit of the 128 bytes sig || msg || pub.
        const item = chunk[at]!;
        const all = new Uint8Array(128);
        all.set(item.sig64, 0);
        all.set(item.msg32, 64);
        all.set(item.pub32, 96);
        all[bit >> 3]! ^= 1 << (bit & 7);
        const b = new SchnorrBatch({ maxBatch: 64 });
        chunk.forEach((c, i) =>
          i === at ? b.add(all.subarray(0, 64), all.subarray(64, 96), all.subarray(96, 128), 1000 + i) : b.add(c.sig64, c.msg32, c.pub32, 1000 + i),
        );
        const r = b.verify();
        return !r.ok && r.inputIndex === 1000 + at && r.position === at;
      },
    ),
    { seed: SEED, numRuns: 12 },
  );
});

test('property: fresh keys and messages, a valid batch verifies, one flipped bit is named', () => {
  const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => {
    try {
      schnorr.getPublicKey(k);
      return true;
    } catch {
      return false;
    }
  });
  fc.assert(
    fc.property(fc.array(fc.tuple(key, fc.uint8Array({ minLength: 32, maxLength: 32 })), { minLength: 1, maxLength: 10 }), fc.nat(), fc.integer({ min: 0, max: 511 }), (pairs, pick, bit) => {
      const items: SchnorrItem[] = pairs.map(([sk, msg]) => ({ sig64: schnorr.sign(msg, sk, new Uint8Array(32)), msg32: msg, pub32: schnorr.getPublicKey(sk) }));
      if (!verifySchnorrBatch(items)) return false;
      const at = pick % items.length;
      const sig = items[at]!.sig64.slice();
      sig[bit >> 3]! ^= 1 << (bit & 7);
      const b = new SchnorrBatch();
      items.forEach((it, i) => b.add(i === at ? sig : it.sig64, it.msg32, it.pub32, i));
      const r = b.verify();
      return !r.ok && r.inputIndex === at;
    }),
    { seed: SEED, numRuns: 25 },
  );
});

test('SchnorrBatch: chunks of maxBatch, the failure in a later chunk is named by its position', () => {
  const { keyPath } = collectSchnorrChecks();
  const b = new SchnorrBatch({ maxBatch: 50 });
  const items = keyPath.slice(0, 130);
  items.forEach((c, i) => {
    const sig = i === 117 ? c.sig64.map((x, j) => (j === 50 ? x ^ 1 : x)) : c.sig64;
    b.add(sig, c.msg32, c.pub32, i, 7);
  });
  assert.equal(b.size, 130);
  assert.deepEqual(b.verify(), { ok: false, error: 'SCHNORR_SIG', inputIndex: 117, txIndex: 7, position: 117 });
  assert.deepEqual(b.verify(), { ok: true, verified: 0 }, 'emptied');
  assert.throws(() => new SchnorrBatch({ maxBatch: 0 }), RangeError);
});

test('SchnorrBatch copies what it records (the caller may reuse its buffers)', () => {
  const { keyPath } = collectSchnorrChecks();
  const c = keyPath[0]!;
  const sig = c.sig64.slice();
  const b = new SchnorrBatch();
  b.add(sig, c.msg32, c.pub32, 0);
  sig.fill(0);
  assert.deepEqual(b.verify(), { ok: true, verified: 1 });
});

// ---- the deferred mode through the checker -------------------------------------------------

test('deferred mode: a tampered key-path signature is named by verifyTransaction, as without batching', () => {
  const { txs, flags } = loadTaprootBlock();
  // A transaction with at least three key-path inputs; tamper with the last of them.
  const found = txs.find(({ tx, spent }) => tx.inputs.filter((inp, i) => isKeyPathSpend(inp, spent[i]!)).length >= 3);
  assert.ok(found !== undefined);
  const { tx, spent, txdata } = found;
  const keyInputs = tx.inputs.map((inp, i) => (isKeyPathSpend(inp, spent[i]!) ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, batchSchnorr: true }), { ok: true });

  const target = keyInputs[keyInputs.length - 1]!;
  const inputs = tx.inputs.slice();
  const input = inputs[target]!;
  const sig = input.witness[0]!.slice();
  sig[45]! ^= 0x04; // a bit of s
  inputs[target] = { ...input, witness: [sig, ...input.witness.slice(1)] };
  const bad = new Transaction(tx.version, inputs, tx.outputs, tx.locktime);
  const expected = { ok: false, inputIndex: target, error: 'SCHNORR_SIG' };
  assert.deepEqual(verifyTransaction(bad, spent, flags, { txdata }), expected, 'verified one by one');
  assert.deepEqual(verifyTransaction(bad, spent, flags, { txdata, batchSchnorr: true }), expected, 'batched');

  // A caller-owned batch collects across transactions and names transaction and input.
  const batch = new SchnorrBatch();
  assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, schnorrBatch: batch, txIndex: 1 }), { ok: true });
  assert.deepEqual(verifyTransaction(bad, spent, flags, { txdata, schnorrBatch: batch, txIndex: 2 }), { ok: true }, 'deferred: not yet known');
  const r = batch.verify();
  assert.ok(!r.ok);
  assert.equal(r.txIndex, 2);
  assert.equal(r.inputIndex, target);
  // batchSchnorr is ignored when the caller brings its batch: the checks still go to that batch.
  const given = new SchnorrBatch();
  assert.deepEqual(verifyTransaction(bad, spent, flags, { txdata, schnorrBatch: given, batchSchnorr: true, txIndex: 3 }), { ok: true }, 'deferred to the given batch');
  assert.equal(given.size, keyInputs.length);
  const g = given.verify();
  assert.ok(!g.ok && g.txIndex === 3 && g.inputIndex === target);
});

// ---- deferral is exact: Core's taproot script assets -------------------------------------

interface AssetSpend {
  scriptSig: string;
  witness: string[];
}

interface AssetCase {
  tx: string;
  prevouts: string[];
  index: number;
  flags: string;
  success?: AssetSpend;
  failure?: AssetSpend;
}

test('script assets (btcd/taproot-ref-script-assets.json) under each case\'s flags with BIP340 checks deferred: successes verify, failures fail', () => {
  const cases = JSON.parse(readVectorText('btcd', 'taproot-ref-script-assets.json')) as AssetCase[];
  assert.equal(cases.length, 2760);
  const spendTx = (base: Transaction, index: number, spend: AssetSpend): Transaction => {
    const inputs = base.inputs.slice();
    inputs[index] = { ...inputs[index]!, scriptSig: fromHex(spend.scriptSig), witness: spend.witness.map(fromHex) };
    return new Transaction(base.version, inputs, base.outputs, base.locktime);
  };
  const prevout = (hex: string): TxOut => {
    const r = new ByteReader(fromHex(hex));
    return { value: r.i64(), scriptPubKey: r.varBytes() };
  };
  // Every success's checks go into one batch (all must hold); a failure gets a batch of its own.
  const successes = new SchnorrBatch();
  const problems: string[] = [];
  let failuresCaughtByBatch = 0;
  cases.forEach((c, i) => {
    const d = decodeTransaction(fromHex(c.tx));
    assert.ok(d.ok);
    const prevouts = c.prevouts.map(prevout);
    const flags = parseScriptFlags(c.flags);
    if (c.success !== undefined) {
      const tx = spendTx(d.tx, c.index, c.success);
      const r = verifyInput(tx, c.index, prevouts, flags, { txdata: new PrecomputedTxData(tx, prevouts), schnorrBatch: successes, txIndex: i });
      if (!r.ok) problems.push(`#${i} success fails: ${r.error}`);
    }
    if (c.failure !== undefined) {
      const tx = spendTx(d.tx, c.index, c.failure);
      const own = new SchnorrBatch();
      const r = verifyInput(tx, c.index, prevouts, flags, { txdata: new PrecomputedTxData(tx, prevouts), schnorrBatch: own });
      if (r.ok) {
        if (own.verify().ok) problems.push(`#${i} failure passes`);
        else failuresCaughtByBatch++;
      }
    }
  });
  const r = successes.verify();
  if (!r.ok) problems.push(`#${r.txIndex} success: deferred signature fails`);
  assert.deepEqual(problems, []);
  // Failures whose only fault is a bad BIP340 signature are left to the batch to find.
  assert.equal(failuresCaughtByBatch, 70, 'failures found by the batch');
});

function bigTo32(v: bigint): Uint8Array {
  return fromHex(v.toString(16).padStart(64, '0'));
}
