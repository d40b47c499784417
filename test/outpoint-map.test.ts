// connectBlockInputs' outpoint map against a plain Map model: random sets, gets and takes through
// growth and compaction, with txids that share their first 8 bytes (the bytes the hash reads), so
// whole probe runs collide and removals have entries to shift.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { OutpointMap, outpointHash } from '../src/primitives/outpoint-map.js';

function txidsSharingPrefixes(n: number): Uint8Array[] {
  // Groups of 4 with the same first 8 bytes: same vout, same hash.
  return Array.from({ length: n }, (_, i) => {
    const t = new Uint8Array(32);
    new DataView(t.buffer).setUint32(0, i >> 2);
    new DataView(t.buffer).setUint32(28, i);
    return t;
  });
}

function valuesOf<T>(map: OutpointMap<T>): T[] {
  const out: T[] = [];
  map.forEachEntry((_txid, _vout, value) => out.push(value));
  return out;
}

function check(map: OutpointMap<number>, model: Map<string, number>, txids: Uint8Array[]): void {
  assert.equal(map.size, model.size);
  for (let t = 0; t < txids.length; t++) {
    for (let vout = 0; vout < 3; vout++) assert.equal(map.get(txids[t]!, vout), model.get(`${t}:${vout}`));
  }
  // Entries in insertion order of the live keys: a Map's own order, since set() on a live key
  // keeps its place in both.
  assert.deepEqual(valuesOf(map), [...model.values()]);
}

test('OutpointMap agrees with a Map through sets, takes, growth and compaction', () => {
  const op = fc.record({ kind: fc.constantFrom('set', 'set', 'take'), tx: fc.nat(), vout: fc.integer({ min: 0, max: 2 }), value: fc.integer() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.array(op, { maxLength: 600 }), (nTx, ops) => {
      const txids = txidsSharingPrefixes(nTx);
      const map = new OutpointMap<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        const t = o.tx % txids.length;
        const k = `${t}:${o.vout}`;
        // A copy of the key: lookups must compare bytes, not references.
        const txid = txids[t]!.slice();
        if (o.kind === 'set') {
          map.set(o.value % 2 === 0 ? txid : txids[t]!, o.vout, o.value);
          model.set(k, o.value);
        } else {
          assert.equal(map.take(txid, o.vout), model.get(k));
          model.delete(k);
        }
      }
      check(map, model, txids);
    }),
    { numRuns: 200 },
  );
});

test('OutpointMap: 50,000 outpoints on 4 hashes a run, taken in scrambled order, then reused', () => {
  const txids = txidsSharingPrefixes(12_500);
  const map = new OutpointMap<number>();
  const model = new Map<string, number>();
  for (let t = 0; t < txids.length; t++) {
    for (let vout = 0; vout < 4; vout++) {
      map.set(txids[t]!, vout, t * 4 + vout);
      model.set(`${t}:${vout}`, t * 4 + vout);
    }
  }
  assert.equal(map.size, 50_000);
  // Take three in four, by a stride that scatters them over the table.
  for (let i = 0, k = 0; i < 50_000; i++, k = (k + 7919) % 50_000) {
    if (k % 4 === 3) continue;
    const t = k >> 2;
    const vout = k & 3;
    assert.equal(map.take(txids[t]!, vout), k);
    model.delete(`${t}:${vout}`);
  }
  check(map, model, txids.slice(0, 500));
  assert.deepEqual(valuesOf(map), [...model.values()]);
  // Compaction drops the taken entries as new ones come in; everything stays findable.
  // (25,000 more overflow the 65,536 entries that 50,000 grew the table to.)
  for (let t = 0; t < txids.length; t++) {
    for (const vout of [9, 10]) {
      map.set(txids[t]!, vout, -t - vout);
      model.set(`${t}:${vout}`, -t - vout);
    }
  }
  assert.equal(map.size, model.size);
  for (let t = 0; t < txids.length; t++) assert.equal(map.get(txids[t]!, 10), -t - 10);
  for (let t = 0; t < txids.length; t += 97) assert.equal(map.get(txids[t]!, 3), t * 4 + 3);
  assert.deepEqual(valuesOf(map), [...model.values()]);
});

test('OutpointMap: taking the entry in the last slot leaves an entry at its home in slot 0 where it is', () => {
  // A new map has 16 slots. The hash is salted per process, so the keys are found by their hash:
  // one whose home is the last slot and one whose home is the first.
  const withHome = (home: number): Uint8Array => {
    for (let n = 0; ; n++) {
      const t = new Uint8Array(32);
      new DataView(t.buffer).setUint32(0, n);
      if ((outpointHash(t, 0) & 15) === home) return t;
    }
  };
  const last = withHome(15);
  const first = withHome(0);
  const map = new OutpointMap<string>();
  map.set(last, 0, 'last');
  map.set(first, 0, 'first');
  assert.equal(map.take(last, 0), 'last');
  assert.equal(map.get(first, 0), 'first');
  assert.equal(map.get(last, 0), undefined);
  assert.equal(map.size, 1);
  // The slot freed at the end of the table is usable again.
  map.set(last, 0, 'again');
  assert.equal(map.get(last, 0), 'again');
  assert.equal(map.get(first, 0), 'first');
});
