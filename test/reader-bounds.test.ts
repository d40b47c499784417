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
