// Write-back's coin table against a plain Map model: random sets, deletions and removals through
// growth and clear(), with prefix-sharing txids so probe runs and key order are exercised.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { CoinTable, ENTRY_TABLE_BYTES } from '../src/store/coin-table.js';

type Model = Map<string, { record: Uint8Array | undefined; fresh: boolean }>;

function keyOf(txid: Uint8Array, vout: number): string {
  const k = new Uint8Array(36);
  k.set(txid);
  new DataView(k.buffer).setUint32(32, vout, true);
  return Buffer.from(k).toString('hex');
}

function check(table: CoinTable, model: Model, txids: Uint8Array[]): void {
  assert.equal(table.size, model.size);
  for (const txid of txids) {
    for (let vout = 0; vout < 3; vout++) {
      const m = model.get(keyOf(txid, vout));
      const got = table.get(txid, vout);
      if (m === undefined) {
        assert.equal(got, undefined);
        assert.equal(table.state(txid, vout), 'absent');
      } else if (m.record === undefined) {
        assert.equal(got, null);
        assert.equal(table.state(txid, vout), 'spent');
      } else {
        assert.deepEqual(got, m.record);
        assert.equal(table.state(txid, vout), m.fresh ? 'fresh' : 'held');
      }
    }
  }
  const sorted = table.sorted();
  const want = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(
    sorted.map((o) => [Buffer.from(o.key).toString('hex'), o.value === undefined ? undefined : Buffer.from(o.value).toString('hex')]),
    want.map(([k, v]) => [k, v.record === undefined ? undefined : Buffer.from(v.record).toString('hex')]),
  );
}

test('CoinTable agrees with a Map through sets, spends, removals, growth and clear()', () => {
  const op = fc.record({
    kind: fc.constantFrom('set', 'set', 'spend', 'remove', 'clear'),
    tx: fc.nat(),
    vout: fc.integer({ min: 0, max: 2 }),
    record: fc.uint8Array({ maxLength: 40 }),
    fresh: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6000 }), fc.array(op, { maxLength: 400 }), (nTx, ops) => {
      // Txids sharing their first 8 bytes in pairs: equal hash inputs but for the salt's mixing.
      const txids = Array.from({ length: Math.min(nTx, 64) }, (_, i) => {
        const t = new Uint8Array(32).fill(i >> 1);
        t[31] = i;
        return t;
      });
      const table = new CoinTable();
      const model: Model = new Map();
      for (const o of ops) {
        const txid = txids[o.tx % txids.length]!;
        const k = keyOf(txid, o.vout);
        if (o.kind === 'clear') {
          table.clear();
          model.clear();
        } else if (o.kind === 'set') {
          const had = model.get(k);
          table.set(txid, o.vout, o.record, o.fresh);
          model.set(k, { record: o.record.slice(), fresh: had === undefined ? o.fresh : had.fresh });
        } else if (o.kind === 'spend') {
          const had = model.get(k);
          table.set(txid, o.vout, undefined, o.fresh);
          model.set(k, { record: undefined, fresh: had === undefined ? o.fresh : had.fresh });
        } else {
          table.remove(txid, o.vout);
          model.delete(k);
        }
      }
      check(table, model, txids);
    }),
    { numRuns: 150 },
  );
});

test('CoinTable holds 100,000 coins through its growth, removes half, and is reused after clear()', () => {
  const table = new CoinTable();
  const txid = new Uint8Array(32);
  const view = new DataView(txid.buffer);
  const rec = (i: number): Uint8Array => new Uint8Array([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 7, 7]);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 100_000; i++) {
      view.setUint32(0, i * 2654435761, true);
      view.setUint32(28, i, true);
      table.set(txid, i % 5, rec(i), true);
    }
    assert.equal(table.size, 100_000);
    for (let i = 0; i < 100_000; i += 2) {
      view.setUint32(0, i * 2654435761, true);
      view.setUint32(28, i, true);
      table.remove(txid, i % 5);
    }
    assert.equal(table.size, 50_000);
    for (let i = 0; i < 100_000; i++) {
      view.setUint32(0, i * 2654435761, true);
      view.setUint32(28, i, true);
      const got = table.get(txid, i % 5);
      if (i % 2 === 0) assert.equal(got, undefined, `coin ${i} was removed`);
      else assert.deepEqual(got, rec(i), `coin ${i}`);
    }
    const sorted = table.sorted();
    assert.equal(sorted.length, 50_000);
    for (let i = 1; i < sorted.length; i++) assert.ok(Buffer.compare(sorted[i - 1]!.key, sorted[i]!.key) < 0);
    table.clear();
    assert.equal(table.size, 0);
    assert.equal(table.bytes, 0);
  }
});

test('a record handed out by get() keeps its bytes when the coin is set again', () => {
  const table = new CoinTable();
  const txid = new Uint8Array(32).fill(9);
  table.set(txid, 0, new Uint8Array([1, 2, 3]), true);
  const first = table.get(txid, 0)!;
  table.set(txid, 0, new Uint8Array([4, 5, 6, 7]), false);
  assert.deepEqual(first, new Uint8Array([1, 2, 3]));
  assert.deepEqual(table.get(txid, 0), new Uint8Array([4, 5, 6, 7]));
  assert.equal(table.state(txid, 0), 'fresh');
});

test('CoinTable stays exact when hundreds of outpoints share one hash (long probe runs)', () => {
  // Txids equal in their first 8 bytes hash alike whatever the salt: three runs of 700 slots in a
  // table of 8,192, so deletion shifts entries along long runs (and past the table's end when a
  // run's home slot is high, which the salt makes a matter of chance here; the 100,000-coin test
  // above wraps for certain).
  const table = new CoinTable();
  const model = new Map<string, number>();
  const txids: Uint8Array[] = [];
  for (let p = 0; p < 3; p++) {
    for (let i = 0; i < 700; i++) {
      const t = new Uint8Array(32).fill(0x40 + p);
      new DataView(t.buffer).setUint32(28, i, true);
      txids.push(t);
    }
  }
  txids.forEach((t, i) => {
    table.set(t, 7, new Uint8Array([i & 0xff, i >> 8]), true);
    model.set(keyOf(t, 7), i);
  });
  // Remove in a scrambled order, checking every survivor after each tenth of the removals.
  const order = txids.map((_, i) => (i * 7919) % txids.length);
  order.forEach((i, n) => {
    table.remove(txids[i]!, 7);
    model.delete(keyOf(txids[i]!, 7));
    if (n % 210 === 0 || n === order.length - 1) {
      assert.equal(table.size, model.size);
      txids.forEach((t, j) => {
        const got = table.get(t, 7);
        if (model.has(keyOf(t, 7))) assert.deepEqual(got, new Uint8Array([j & 0xff, j >> 8]));
        else assert.equal(got, undefined);
      });
    }
  });
});

test('CoinTable keeps records exact across its 1 MiB chunks, one bigger than a chunk included, and after clear()', () => {
  const table = new CoinTable();
  const model = new Map<string, Uint8Array>();
  const txid = (i: number): Uint8Array => {
    const t = new Uint8Array(32);
    new DataView(t.buffer).setUint32(0, i * 2654435761);
    new DataView(t.buffer).setUint32(28, i);
    return t;
  };
  const record = (i: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (i + k) & 0xff);
  for (let round = 0; round < 2; round++) {
    // ~3 MiB of 10,000-byte records (a chunk holds 104 of them, the rest of it left unused), one
    // record of 1.5 MiB among them, then records moved by set() into later chunks.
    for (let i = 0; i < 300; i++) {
      const r = record(i + round, i === 150 ? 1.5 * 2 ** 20 : 10_000);
      table.set(txid(i), 0, r, true);
      model.set(keyOf(txid(i), 0), r);
    }
    for (let i = 0; i < 300; i += 3) {
      const r = record(i * 7 + round, 20);
      table.set(txid(i), 0, r, false);
      model.set(keyOf(txid(i), 0), r);
    }
    for (let i = 0; i < 300; i++) assert.deepEqual(table.get(txid(i), 0), model.get(keyOf(txid(i), 0)));
    const sorted = table.sorted();
    assert.equal(sorted.length, 300);
    for (const { key, value } of sorted) assert.deepEqual(value, model.get(Buffer.from(key).toString('hex')));
    table.clear();
    model.clear();
    assert.equal(table.get(txid(0), 0), undefined);
  }
});

test('CoinTable counts what it holds: keys and records (old copies until clear()), 13 bytes an entry, 8 a live one; putBytes what a flush would put', () => {
  const table = new CoinTable();
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const c = new Uint8Array(32).fill(3);
  const live = ENTRY_TABLE_BYTES; // 13 + 8
  table.set(a, 0, new Uint8Array(10), true);
  assert.deepEqual([table.bytes, table.putBytes], [46 + live, 46]);
  // Set again: a new copy of key and record; the old one still counts, but is no longer put.
  table.set(a, 0, new Uint8Array(20), false);
  assert.deepEqual([table.bytes, table.putBytes], [46 + 56 + live, 56]);
  // Spent: a deletion puts nothing.
  table.set(a, 0, undefined, false);
  assert.deepEqual([table.bytes, table.putBytes], [46 + 56 + live, 0]);
  // A deletion of a coin the table did not hold: its key.
  table.set(b, 1, undefined, false);
  assert.deepEqual([table.bytes, table.putBytes], [46 + 56 + 36 + 2 * live, 0]);
  table.set(c, 2, new Uint8Array(4), true);
  assert.deepEqual([table.bytes, table.putBytes], [46 + 56 + 36 + 40 + 3 * live, 40]);
  // Removed: no longer live, its entry and bytes stay until clear().
  table.remove(c, 2);
  assert.deepEqual([table.bytes, table.putBytes, table.size], [46 + 56 + 36 + 40 + 3 * 13 + 2 * 8, 0, 2]);
  table.clear();
  assert.deepEqual([table.bytes, table.putBytes, table.size], [0, 0, 0]);
  table.set(c, 2, new Uint8Array(4), true);
  assert.deepEqual([table.bytes, table.putBytes], [40 + live, 40]);
});

test('CoinTable: removed coins stay gone through the rehashes of later growth; vouts that differ only in their top byte are two coins', () => {
  const table = new CoinTable();
  const txid = (i: number): Uint8Array => {
    const t = new Uint8Array(32);
    new DataView(t.buffer).setUint32(0, Math.imul(i, 2654435761) >>> 0);
    new DataView(t.buffer).setUint32(28, i);
    return t;
  };
  const rec = (i: number): Uint8Array => Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 1);
  // 3,000 coins (one rehash), a third removed, 3,000 more (another rehash with the removed ones in the entries).
  for (let i = 0; i < 3000; i++) table.set(txid(i), 0, rec(i), true);
  for (let i = 0; i < 3000; i += 3) table.remove(txid(i), 0);
  for (let i = 3000; i < 6000; i++) table.set(txid(i), 0, rec(i), true);
  assert.equal(table.size, 5000);
  for (let i = 0; i < 6000; i++) {
    if (i < 3000 && i % 3 === 0) {
      assert.equal(table.get(txid(i), 0), undefined, `coin ${i} was removed`);
      assert.equal(table.state(txid(i), 0), 'absent');
    } else {
      assert.deepEqual(table.get(txid(i), 0), rec(i), `coin ${i}`);
    }
  }
  assert.equal(table.sorted().length, 5000);
  // Set again after its removal: one entry, the new record.
  table.set(txid(3), 0, rec(7), false);
  assert.deepEqual([table.get(txid(3), 0), table.state(txid(3), 0), table.size], [rec(7), 'held', 5001]);

  const t = new Uint8Array(32).fill(0x77);
  const other = new CoinTable();
  other.set(t, 1, Uint8Array.of(1), true);
  other.set(t, 0x01000001, Uint8Array.of(2), true);
  other.set(t, 0xff000001, undefined, false);
  assert.equal(other.size, 3);
  assert.deepEqual([other.get(t, 1), other.get(t, 0x01000001), other.get(t, 0xff000001), other.get(t, 0x02000001)], [Uint8Array.of(1), Uint8Array.of(2), null, undefined]);
});
