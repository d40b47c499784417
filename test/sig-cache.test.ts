// The shared signature cache: salted keys, hits on re-verification of real transactions (ECDSA
// and BIP340, one by one and batched), a fixed size however much is added, and one cache seen and
// filled by a real worker thread through its SharedArrayBuffer.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { Worker } from 'node:worker_threads';
import { Transaction } from '../src/primitives/transaction.js';
import { SignatureCache } from '../src/script/sig-cache.js';
import { SchnorrBatch } from '../src/script/batch-schnorr.js';
import { verifyTransaction } from '../src/script/verify-tx.js';
import { isKeyPathSpend, loadTaprootBlock, type BlockTx } from './helpers/taproot-block.js';
import { churnKey, type SigCacheCommand, type SigCacheReply } from './helpers/sig-cache-worker.js';

const MiB = 1 << 20;

function key(i: number, salt = 0): Uint8Array {
  return churnKey(0x5ca1ab1e + salt, i);
}

/** Transactions of block 866342 whose every input is P2WPKH (ECDSA), and ones with key-path inputs. */
function sampleTxs(): { ecdsa: BlockTx[]; schnorr: BlockTx[] } {
  const { txs } = loadTaprootBlock();
  const p2wpkh = (spk: Uint8Array): boolean => spk.length === 22 && spk[0] === 0x00 && spk[1] === 0x14;
  return {
    ecdsa: txs.filter((t) => t.spent.every((o) => p2wpkh(o.scriptPubKey))).slice(0, 20),
    schnorr: txs.filter((t) => t.tx.inputs.every((inp, i) => isKeyPathSpend(inp, t.spent[i]!))).slice(0, 20),
  };
}

test('keys are salted per cache; a cache opened from the shared buffer has the same salt', () => {
  const a = SignatureCache.create(MiB);
  const b = SignatureCache.create(MiB);
  const sighash = new Uint8Array(32).fill(1);
  const pub = new Uint8Array(33).fill(2);
  const sig = new Uint8Array(71).fill(3);
  assert.notDeepEqual(a.keyEcdsa(sighash, pub, sig), b.keyEcdsa(sighash, pub, sig));
  assert.deepEqual(SignatureCache.fromShared(a.shared).keyEcdsa(sighash, pub, sig), a.keyEcdsa(sighash, pub, sig));
  // The kind and the key length are part of the key.
  assert.notDeepEqual(a.keySchnorr(sighash, pub.subarray(1), sig.subarray(0, 64)), a.keyEcdsa(sighash, pub.subarray(1), sig.subarray(0, 64)));
  assert.notDeepEqual(a.keyEcdsa(sighash, pub, sig.subarray(1)), a.keyEcdsa(sighash, new Uint8Array(34).fill(2), sig.subarray(2)));
  assert.equal(a.keyEcdsa(sighash, pub, sig).length, 32);
});

test('misuse throws: too small, not a cache buffer, a key of the wrong size', () => {
  assert.throws(() => SignatureCache.create(100), RangeError);
  assert.throws(() => SignatureCache.create(Number.NaN), RangeError);
  assert.throws(() => SignatureCache.fromShared(new SharedArrayBuffer(4096)), TypeError);
  assert.throws(() => SignatureCache.fromShared(new ArrayBuffer(4096) as unknown as SharedArrayBuffer), TypeError);
  // The smallest cache holds one probe window: 8 slots of 36 bytes after the 64-byte header.
  assert.throws(() => SignatureCache.create(64 + 8 * 36 - 1), RangeError);
  assert.equal(SignatureCache.create(64 + 8 * 36).slots, 8);
  // A buffer whose size disagrees with the slot count in its header is not a cache's.
  const small = SignatureCache.create(4096);
  const longer = new SharedArrayBuffer(small.shared.byteLength + 36);
  new Uint8Array(longer).set(new Uint8Array(small.shared));
  assert.throws(() => SignatureCache.fromShared(longer), TypeError);
  const c = SignatureCache.create(MiB);
  assert.throws(() => c.has(new Uint8Array(31)), TypeError);
  assert.throws(() => c.add(new Uint8Array(33)), TypeError);
});

test('ECDSA: re-verifying real P2WPKH transactions hits the cache once per signature', () => {
  const { ecdsa } = sampleTxs();
  assert.ok(ecdsa.length >= 10);
  const { flags } = loadTaprootBlock();
  const inputs = ecdsa.reduce((n, t) => n + t.tx.inputs.length, 0);
  const cache = SignatureCache.create(4 * MiB);
  for (const { tx, spent, txdata } of ecdsa) assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache }), { ok: true });
  assert.deepEqual(cache.stats(), { slots: cache.slots, bytes: cache.shared.byteLength, lookups: inputs, hits: 0, misses: inputs, stores: inputs });
  for (const { tx, spent, txdata } of ecdsa) assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache }), { ok: true });
  assert.equal(cache.lookups, 2 * inputs);
  assert.equal(cache.hits, inputs);
  assert.equal(cache.stats().stores, inputs, 'nothing stored twice');
});

test('BIP340: re-verification hits, whether the first pass verified one by one or in a batch', () => {
  const { schnorr } = sampleTxs();
  assert.ok(schnorr.length >= 10);
  const { flags } = loadTaprootBlock();
  const inputs = schnorr.reduce((n, t) => n + t.tx.inputs.length, 0);
  for (const batchSchnorr of [false, true]) {
    const cache = SignatureCache.create(4 * MiB);
    for (const { tx, spent, txdata } of schnorr) assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, batchSchnorr }), { ok: true });
    assert.equal(cache.hits, 0);
    assert.equal(cache.stats().stores, inputs, `batchSchnorr=${batchSchnorr}: every signature stored once verified`);
    // The second pass defers nothing: every check is a hit.
    const batch = new SchnorrBatch();
    for (const { tx, spent, txdata } of schnorr) assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, schnorrBatch: batch }), { ok: true });
    assert.equal(batch.size, 0);
    assert.equal(cache.hits, inputs);
    assert.equal(cache.lookups, 2 * inputs);
  }
});

test('only successes are cached; sigCacheStore: false reads without storing', () => {
  const { ecdsa, schnorr } = sampleTxs();
  const { flags } = loadTaprootBlock();
  const cache = SignatureCache.create(MiB);
  for (const { tx, spent, txdata } of [ecdsa[0]!, schnorr[0]!]) {
    const input = tx.inputs[0]!;
    const sig = input.witness[0]!.slice();
    sig[10]! ^= 0x01;
    const bad = new Transaction(tx.version, [{ ...input, witness: [sig, ...input.witness.slice(1)] }, ...tx.inputs.slice(1)], tx.outputs, tx.locktime);
    for (const batchSchnorr of [false, true]) {
      const r = verifyTransaction(bad, spent, flags, { txdata, sigCache: cache, batchSchnorr });
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.inputIndex === 0);
    }
  }
  assert.equal(cache.stats().stores, 0);
  const { tx, spent, txdata } = ecdsa[1]!;
  assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, sigCacheStore: false }), { ok: true });
  assert.equal(cache.stats().stores, 0);
  assert.equal(cache.hits, 0);
});

test('a read-only check against a cache nothing was stored in skips the lookup; once one entry is stored it looks again', () => {
  const { ecdsa, schnorr } = sampleTxs();
  const { flags } = loadTaprootBlock();
  const cache = SignatureCache.create(MiB);
  assert.equal(cache.isEmpty, true);
  for (const { tx, spent, txdata } of [ecdsa[0]!, schnorr[0]!]) {
    assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, sigCacheStore: false }), { ok: true });
  }
  assert.equal(cache.lookups, 0, 'no key hashed for a cache that cannot hit');
  // A storing pass (mempool-style) still looks up and fills an empty cache.
  const { tx, spent, txdata } = ecdsa[0]!;
  assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache }), { ok: true });
  assert.equal(cache.isEmpty, false);
  assert.equal(cache.lookups, tx.inputs.length);
  assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, sigCacheStore: false }), { ok: true });
  assert.equal(cache.hits, tx.inputs.length, 'read-only checks hit once the cache holds their entries');
});

test('bounded: adding 20x its capacity keeps the size fixed, recent keys found, no false hits', () => {
  const cache = SignatureCache.create(64 * 1024);
  const bytes = cache.shared.byteLength;
  assert.ok(bytes <= 64 * 1024);
  assert.equal(cache.slots, Math.floor((64 * 1024 - 64) / 36));
  const total = 20 * cache.slots;
  for (let i = 0; i < total; i++) cache.add(key(i));
  assert.equal(cache.shared.byteLength, bytes, 'same buffer, same size');
  let found = 0;
  for (let i = 0; i < total; i++) if (cache.has(key(i))) found++;
  assert.ok(found <= cache.slots, `${found} found in ${cache.slots} slots`);
  assert.ok(found >= 0.95 * cache.slots, `the table stays nearly full: ${found} of ${cache.slots}`);
  let recent = 0;
  for (let i = total - 100; i < total; i++) if (cache.has(key(i))) recent++;
  assert.ok(recent >= 90, `${recent} of the last 100 added are still there`);
  let falseHits = 0;
  for (let i = 0; i < 20000; i++) if (cache.has(key(i, 1))) falseHits++;
  assert.equal(falseHits, 0);
  // Still usable: a new key goes in and is found.
  const k = key(-1, 2);
  cache.add(k);
  assert.equal(cache.has(k), true);
});

test('the key commits to every part of the check: one bit changed in the sighash, the key or the signature is another entry', () => {
  const c = SignatureCache.create(MiB);
  const sighash = new Uint8Array(32).fill(1);
  const pub = Uint8Array.of(0x02, ...new Uint8Array(32).fill(2));
  const der = new Uint8Array(71).fill(3);
  const sig64 = new Uint8Array(64).fill(4);
  const flip = (b: Uint8Array, i: number): Uint8Array => {
    const out = b.slice();
    out[i]! ^= 0x01;
    return out;
  };
  const ecdsa = c.keyEcdsa(sighash, pub, der);
  const schnorr = c.keySchnorr(sighash, pub.subarray(1), sig64);
  c.add(ecdsa);
  c.add(schnorr);
  for (const i of [0, 17, 31]) {
    assert.equal(c.has(c.keyEcdsa(flip(sighash, i), pub, der)), false, `ECDSA: sighash byte ${i} changed`);
    assert.equal(c.has(c.keySchnorr(flip(sighash, i), pub.subarray(1), sig64)), false, `BIP340: sighash byte ${i} changed`);
    assert.equal(c.has(c.keyEcdsa(sighash, flip(pub, i + 1), der)), false, `ECDSA: key byte ${i + 1} changed`);
    assert.equal(c.has(c.keySchnorr(sighash, flip(pub.subarray(1), i), sig64)), false, `BIP340: key byte ${i} changed`);
    assert.equal(c.has(c.keyEcdsa(sighash, pub, flip(der, i))), false, `ECDSA: signature byte ${i} changed`);
    assert.equal(c.has(c.keySchnorr(sighash, pub.subarray(1), flip(sig64, 32 + i))), false, `BIP340: signature byte ${32 + i} changed`);
  }
  assert.equal(c.has(ecdsa), true);
  assert.equal(c.has(schnorr), true);
});

test('a cached signature proves nothing about another message or another signature: tampered copies of cached transactions still fail', () => {
  const { ecdsa, schnorr } = sampleTxs();
  const { flags } = loadTaprootBlock();
  for (const batchSchnorr of [false, true]) {
    const cache = SignatureCache.create(MiB);
    for (const { tx, spent, txdata } of [ecdsa[0]!, schnorr[0]!]) {
      assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, batchSchnorr }), { ok: true });
      // Same witness, output 0 a satoshi lower: every sighash changes.
      const out0 = tx.outputs[0]!;
      const moved = new Transaction(tx.version, tx.inputs, [{ ...out0, value: out0.value - 1 }, ...tx.outputs.slice(1)], tx.locktime);
      const r1 = verifyTransaction(moved, spent, flags, { sigCache: cache, batchSchnorr });
      assert.equal(r1.ok, false, `batchSchnorr=${batchSchnorr}: an output changed under a cached signature`);
      // Same message, the signature's last byte before the hash type (or of r || s) changed.
      const input = tx.inputs[0]!;
      const sig = input.witness[0]!.slice();
      sig[sig.length === 65 || sig.length === 64 ? 63 : sig.length - 2]! ^= 0x01;
      const bad = new Transaction(tx.version, [{ ...input, witness: [sig, ...input.witness.slice(1)] }, ...tx.inputs.slice(1)], tx.outputs, tx.locktime);
      const r2 = verifyTransaction(bad, spent, flags, { txdata, sigCache: cache, batchSchnorr });
      assert.ok(!r2.ok && r2.inputIndex === 0, `batchSchnorr=${batchSchnorr}: a changed signature for a cached message`);
    }
  }
});

test('a key is found only when all of its 32 bytes match: a stored key with any one byte changed is not a hit', () => {
  const cache = SignatureCache.create(MiB);
  const stored = key(7, 20);
  cache.add(stored);
  for (let i = 0; i < 32; i++) {
    const near = stored.slice();
    near[i]! ^= 0x80;
    assert.equal(cache.has(near), false, `byte ${i} differs`);
  }
  assert.equal(cache.has(stored), true);
});

test('adding a key that is already cached stores nothing', () => {
  const cache = SignatureCache.create(MiB);
  const k = key(3, 21);
  cache.add(k);
  cache.add(k);
  assert.equal(cache.stats().stores, 1);
});

test('sigCacheStore: false never stores, for BIP340 too, also once the cache holds entries', () => {
  const { ecdsa, schnorr } = sampleTxs();
  const { flags } = loadTaprootBlock();
  const cache = SignatureCache.create(MiB);
  const first = ecdsa[0]!;
  assert.deepEqual(verifyTransaction(first.tx, first.spent, flags, { txdata: first.txdata, sigCache: cache }), { ok: true });
  const stored = cache.stats().stores;
  assert.ok(stored > 0);
  for (const batchSchnorr of [false, true]) {
    for (const { tx, spent, txdata } of [ecdsa[1]!, schnorr[0]!, schnorr[1]!]) {
      assert.deepEqual(verifyTransaction(tx, spent, flags, { txdata, sigCache: cache, sigCacheStore: false, batchSchnorr }), { ok: true });
    }
  }
  assert.equal(cache.stats().stores, stored, 'read-only checks added nothing');
});

// ---- a real worker thread -----------------------------------------------------------------

function startWorker(): { send: (cmd: SigCacheCommand) => Promise<SigCacheReply>; stop: () => Promise<number> } {
  const worker = new Worker(new URL('./helpers/sig-cache-worker.js', import.meta.url));
  return {
    send: (cmd) =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(cmd);
      }),
    stop: () => worker.terminate(),
  };
}

test('a worker thread sees entries added on the main thread, and the main thread sees its entries and counts', async () => {
  const cache = SignatureCache.create(MiB);
  const mine = Array.from({ length: 200 }, (_, i) => key(i, 10));
  const never = Array.from({ length: 200 }, (_, i) => key(i, 11));
  for (const k of mine) cache.add(k);
  const w = startWorker();
  try {
    const seen = await w.send({ op: 'has', sab: cache.shared, keys: [...mine, ...never] });
    assert.ok(seen.ok, seen.ok ? '' : seen.error);
    assert.deepEqual(seen.found, [...mine.map(() => true), ...never.map(() => false)]);
    // Counters live in the shared buffer: the worker's lookups are the main thread's too.
    assert.equal(cache.lookups, 400);
    assert.equal(cache.hits, 200);
    assert.equal(seen.lookups, 400);

    const theirs = Array.from({ length: 200 }, (_, i) => key(i, 12));
    const added = await w.send({ op: 'add', sab: cache.shared, keys: theirs });
    assert.ok(added.ok);
    for (const k of theirs) assert.equal(cache.has(k), true);
    assert.equal(cache.stats().stores, 400);
  } finally {
    await w.stop();
  }
});

test('a worker adding 100,000 keys while the main thread looks up others: no false hits, its keys found', async () => {
  const cache = SignatureCache.create(8 * MiB); // room for all of them
  const w = startWorker();
  try {
    const done = w.send({ op: 'churn', sab: cache.shared, seed: 77, count: 100_000 });
    let finished = false;
    void done.then(() => (finished = true));
    let lookups = 0;
    let falseHits = 0;
    while (!finished) {
      for (let i = 0; i < 2000; i++, lookups++) if (cache.has(key(lookups, 13))) falseHits++;
      await new Promise((r) => setImmediate(r));
    }
    const reply = await done;
    assert.ok(reply.ok, reply.ok ? '' : reply.error);
    assert.equal(falseHits, 0, `${lookups} lookups during the writes`);
    let found = 0;
    for (let i = 0; i < 100_000; i++) if (cache.has(churnKey(77, i))) found++;
    assert.ok(found >= 99_000, `${found} of the worker's 100,000 keys found`);
  } finally {
    await w.stop();
  }
});
