// Bounds the spent-output and blk readers missed, found by fuzzing them: a coin code Core would
// refuse, an obfuscation key of the wrong size, and work that grew with the square of a file's size.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBtcdUtxoStore } from '../src/spent/index.js';
import { readAllBlocks, readBlockHeadersAsync, scanBlockRecords } from '../src/blockfile/index.js';

const MAIN_MAGIC = Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9);

test("btcd utxostore: a coin code past 2^32 - 1 is refused, as Core's Coin::Unserialize reads it into a uint32", () => {
  // Core's WriteVarInt of 2^32 (height 2^31, not coinbase): a height no uint32 code can hold.
  const varInt = (n: number): number[] => {
    const out: number[] = [];
    for (let len = 0; ; len++) {
      out.unshift((n % 128) | (len > 0 ? 0x80 : 0));
      if (n <= 0x7f) return out;
      n = Math.floor(n / 128) - 1;
    }
  };
  const store = (code: number): Uint8Array => {
    const entry = [...varInt(code), ...varInt(9), 0, ...new Array<number>(20).fill(0xcd)];
    const rec = new Uint8Array(40 + entry.length);
    new DataView(rec.buffer).setUint32(36, entry.length, true);
    rec.set(entry, 40);
    return rec;
  };
  const max = readBtcdUtxoStore(store(0xffff_ffff));
  assert.ok(max.ok);
  assert.equal(max.entries[0]!.output.height, 0x7fff_ffff);
  assert.equal(max.entries[0]!.output.coinbase, true);
  for (const code of [2 ** 32, 2 ** 41 + 6, 2 ** 53 - 1]) {
    const r = readBtcdUtxoStore(store(code));
    assert.ok(!r.ok, `code ${code} read as height ${r.ok ? r.entries[0]!.output.height : ''}`);
    assert.equal(r.code, 'size-too-large');
    assert.equal(r.offset, 40);
  }
});

/**
 * `size` bytes of 133-byte periods, each a magic with a length past the end of the file whose bytes
 * parse (from every magic) as a block whose one transaction has 18,000 inputs: the other periods.
 */
function nestedPastEofRecords(size: number): Uint8Array {
  const inputs = 18_000;
  const region = new Uint8Array(96);
  region.set(MAIN_MAGIC, 0);
  new DataView(region.buffer).setUint32(4, 4_000_000, true); // past the end of the file
  region.fill(0x22, 8, 88); // the block header
  region[88] = 1; // one transaction
  region.set([1, 0, 0, 0], 89); // its version
  region.set([0xfd, inputs & 0xff, inputs >> 8], 93); // its input count
  // One input: prevout (starting 0xff, so what follows the inputs is no output count), a 92-byte
  // scriptSig (the region's first 92 bytes), a sequence (its last 4).
  const period = new Uint8Array(133);
  period.fill(0x11, 0, 36);
  period[0] = 0xff;
  period[36] = 92;
  period.set(region, 37);
  const n = Math.floor(size / period.length);
  const out = new Uint8Array(n * period.length);
  for (let k = 0; k < n; k++) out.set(period, k * period.length);
  return out;
}

test('blk file: magics nested in records that run past the end of the file are scanned in linear time', async (t) => {
  const bytes = nestedPastEofRecords(2_000_000);
  // A bound on the work, not a speed figure: a linear scan of 2 MB takes milliseconds, the
  // quadratic one took ~15 s here.
  const budgetMs = 5_000;
  const t0 = performance.now();
  const items = [...scanBlockRecords(bytes, 'nested.dat', { magic: MAIN_MAGIC })];
  const scanMs = performance.now() - t0;
  assert.ok(items.every((x) => x.kind === 'issue'), 'no block decodes here');
  assert.ok(scanMs < budgetMs, `scanBlockRecords took ${Math.round(scanMs)} ms for ${bytes.length} bytes`);

  const dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'blk00000.dat'), bytes);
  const t1 = performance.now();
  const { records } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  const readMs = performance.now() - t1;
  assert.equal(records.length, 0);
  assert.ok(readMs < budgetMs, `readAllBlocks took ${Math.round(readMs)} ms`);
  const t2 = performance.now();
  for await (const h of readBlockHeadersAsync(dir, { magic: MAIN_MAGIC })) assert.fail(`a header at ${h.offset}`);
  const headersMs = performance.now() - t2;
  assert.ok(headersMs < budgetMs, `readBlockHeadersAsync took ${Math.round(headersMs)} ms`);
});

test('blk reads: an xorKey option of another size than 8 bytes is misuse and throws at once, not a wrong read', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // One bare-header record: found with no key, or with an all-zero 8-byte one.
  const record = new Uint8Array(8 + 80);
  record.set(MAIN_MAGIC, 0);
  new DataView(record.buffer).setUint32(4, 80, true);
  record.fill(0x22, 8);
  writeFileSync(join(dir, 'blk00000.dat'), record);
  assert.equal(readAllBlocks(dir, { magic: MAIN_MAGIC, xorKey: new Uint8Array(8) }).records.length, 1);
  // Before: 0 bytes read as no key, 4 bytes XORed half the words and found nothing, 3 threw a RangeError.
  for (const size of [0, 3, 4, 16]) {
    assert.throws(() => readAllBlocks(dir, { magic: MAIN_MAGIC, xorKey: new Uint8Array(size).fill(1) }), TypeError, `${size}-byte key`);
  }
});

/**
 * `n` records of 89 bytes back to back, each a magic, a length of `size` (it fits in the file) and
 * a bare 81-byte block (a header, no transactions), then `size` bytes of filler: every length
 * claims too much, and what follows each claimed end is no magic.
 */
function nestedOverlongRecords(n: number, size: number): Uint8Array {
  const out = new Uint8Array(n * 89 + size + 100).fill(0x11);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < n; k++) {
    const p = k * 89;
    out.set(MAIN_MAGIC, p);
    dv.setUint32(p + 4, size, true);
    out.fill(0x22, p + 8, p + 88);
    out[p + 88] = 0; // no transactions
  }
  return out;
}

test('blk headers read: records nested in lengths that claim too much are not each read again whole (bytes read stay linear)', async (t) => {
  // Each record's length runs ~1 MB past its block, so the headers read skips it, finds no magic
  // there, and reads it again whole from its magic (rescan); the next record starts 89 bytes on,
  // past that window's end by as much. Before: every record was read again whole, 200 × 1 MB
  // for a 1 MB file (~200 times the file; a 4 MB file of such records read ~180 GB).
  const n = 200;
  const bytes = nestedOverlongRecords(n, 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'blk00000.dat'), bytes);
  const whole = readAllBlocks(dir, { magic: MAIN_MAGIC });
  assert.equal(whole.records.length, n);
  const it = readBlockHeadersAsync(dir, { magic: MAIN_MAGIC });
  const headers: number[] = [];
  let r = await it.next();
  for (; r.done !== true; r = await it.next()) headers.push(r.value.offset);
  assert.deepEqual(headers, whole.records.map((x) => x.offset), 'the records a whole read finds');
  assert.deepEqual(r.value.issues, whole.summary.issues);
  assert.ok(r.value.bytesRead <= 8 * bytes.length, `read ${r.value.bytesRead} bytes of a ${bytes.length}-byte file`);
});

test('blk file: magics with lengths out of range in one run of garbage are reported once, as the run is (not one issue per 4 bytes)', async (t) => {
  // 250,000 magics back to back: each one's length is the next magic (0xd9b4bef9, out of range).
  // Before: an issue (~340 bytes of heap, kept in the summary and the import's fileIssues) for
  // every 4 bytes, ~85 times the file: a 128 MiB blk file (Core's largest) ran the heap out.
  const bytes = new Uint8Array(1_000_000);
  for (let i = 0; i < bytes.length; i += 4) bytes.set(MAIN_MAGIC, i);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'blk00000.dat'), bytes);
  let seen = 0;
  const whole = readAllBlocks(dir, { magic: MAIN_MAGIC, onIssue: () => seen++ });
  const codes = whole.summary.issues.map((i) => `${i.code}@${i.offset}`);
  assert.deepEqual(codes, ['bad-length@0', `garbage@0`, `truncated@${bytes.length - 4}`]);
  assert.equal(seen, 3);
  assert.equal(whole.summary.issues[1]!.length, bytes.length - 4);
  // The headers read finds the same.
  const it = readBlockHeadersAsync(dir, { magic: MAIN_MAGIC });
  let r = await it.next();
  for (; r.done !== true; r = await it.next()) assert.fail(`a header at ${r.value.offset}`);
  assert.deepEqual(r.value.issues.map((i) => `${i.code}@${i.offset}`), codes);
  // A record ends the run: the next run's first bad length is reported again.
  const record = new Uint8Array(8 + 80);
  record.set(MAIN_MAGIC, 0);
  new DataView(record.buffer).setUint32(4, 80, true);
  record.fill(0x22, 8);
  const two = new Uint8Array(3 * 16 + record.length + 4);
  for (const at of [0, 8, 16 + record.length, 24 + record.length]) {
    two.set(MAIN_MAGIC, at);
    new DataView(two.buffer).setUint32(at + 4, 0xffffffff, true);
  }
  two.set(record, 16);
  two.set(MAIN_MAGIC, two.length - 4);
  const items = [...scanBlockRecords(two, 'two.dat', { magic: MAIN_MAGIC })].map((x) => (x.kind === 'record' ? `record@${x.record.offset}` : `${x.issue.code}@${x.issue.offset}`));
  assert.deepEqual(items, ['bad-length@0', 'garbage@0', 'record@24', `bad-length@${16 + record.length}`, `garbage@${16 + record.length}`, `truncated@${two.length - 4}`]);
});
