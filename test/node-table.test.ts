// The block index's table of nodes by hash (src/chain/node-table.ts): records copied into shared
// chunks, lookups by hash (also at an offset, as a header's prevBlock field), growth, and hashes
// that share their first 8 bytes (the salted slot hash reads only those, so they all collide).

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { NodeTable, RECORD_BYTES } from '../src/chain/node-table.js';

interface Node {
  readonly chunk: Uint8Array;
  readonly off: number;
  readonly n: number;
}

function sha(s: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(s).digest());
}

// A table that lost its empty slots would make get() loop forever: a timeout turns that into a failure.
test('NodeTable: every node found by its hash after growth; absent hashes are not; records are copies', { timeout: 20_000 }, () => {
  const table = new NodeTable<Node>();
  const hashes: Uint8Array[] = [];
  for (let n = 0; n < 5_000; n++) {
    const hash = sha(`block ${n}`);
    const header = sha(`header ${n}`);
    const header80 = new Uint8Array(80);
    header80.set(header, 0);
    header80.set(hashes[n - 1] ?? new Uint8Array(32), 4); // prevBlock at offset 4
    assert.equal(table.get(hash), undefined);
    const { chunk, off } = table.record(header80, hash);
    table.add({ chunk, off, n });
    hashes.push(hash);
    header80.fill(0); // the table holds its own copy
    hash.fill(0);
    hashes[n] = sha(`block ${n}`);
  }
  assert.equal(table.size, 5_000);
  for (let n = 0; n < 5_000; n++) {
    const node = table.get(hashes[n]!);
    assert.equal(node?.n, n);
    assert.deepEqual(node!.chunk.subarray(node!.off, node!.off + 4), sha(`header ${n}`).subarray(0, 4));
    // The parent, found from the header's prevBlock field where it lies.
    if (n > 0) assert.equal(table.get(node!.chunk, node!.off + 4)?.n, n - 1);
    assert.ok(node!.off + RECORD_BYTES <= node!.chunk.length);
  }
  for (let n = 0; n < 200; n++) assert.equal(table.get(sha(`absent ${n}`)), undefined);
  assert.deepEqual(
    table.values().map((v) => v.n),
    Array.from({ length: 5_000 }, (_, n) => n),
  );
});

test('NodeTable: hashes that agree on their first 8 bytes share a slot hash and are told apart by the rest', { timeout: 20_000 }, () => {
  const table = new NodeTable<Node>();
  const prefix = sha('ground prefix').subarray(0, 8);
  const hashes: Uint8Array[] = [];
  for (let n = 0; n < 300; n++) {
    const hash = sha(`ground ${n}`);
    hash.set(prefix, 0);
    const { chunk, off } = table.record(new Uint8Array(80), hash);
    table.add({ chunk, off, n });
    hashes.push(hash);
  }
  for (let n = 0; n < 300; n++) assert.equal(table.get(hashes[n]!)?.n, n);
  const stranger = sha('ground stranger');
  stranger.set(prefix, 0);
  assert.equal(table.get(stranger), undefined);
});
