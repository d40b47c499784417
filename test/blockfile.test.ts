// blk*.dat reading and writing: round trips through the writer with and without an xor.dat key,
// file rotation, numeric file order, Core's zero padding, resynchronisation on the magic after
// garbage, cut-short tails as reported issues, and btcd's 255 mainnet blocks in blk framing.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  BlockFileWriter,
  blockFileName,
  listBlockFiles,
  readAllBlocks,
  readBlocks,
  readBlockHeadersAsync,
  readBlocksAsync,
  readXorKey,
  scanBlockRecords,
  writeXorKey,
  xorInPlace,
  type ReadBlocksOptions,
  type BlockFileIssue,
  type BlockHeaderRecord,
  type BlockRecord,
  type ReadBlocksSummary,
} from '../src/blockfile/index.js';
import { readRecordAt } from '../src/blockfile/reader.js';
import { decodeBlock } from '../src/primitives/block.js';
import { concatBytes, equalBytes, hashToHex, toHex } from '../src/primitives/bytes.js';
import { vectorPath } from './helpers/vectors.js';

const MAIN_MAGIC = Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9);
const GENESIS_HASH = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
const KEY = Uint8Array.of(0x1f, 0x92, 0x3a, 0x07, 0xc4, 0x55, 0xe0, 0x6b);

/** The 255 mainnet blocks of btcd's blocks1-256.dat, read with the plain framing loop. */
const BTCD_BLOCKS: Uint8Array[] = (() => {
  const file = new Uint8Array(readFileSync(vectorPath('btcd', 'blocks1-256.dat')));
  const dv = new DataView(file.buffer);
  const out: Uint8Array[] = [];
  for (let off = 0; off < file.length; ) {
    const len = dv.getUint32(off + 4, true);
    out.push(file.slice(off + 8, off + 8 + len));
    off += 8 + len;
  }
  return out;
})();

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-blk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeAll(dir: string, blocks: readonly Uint8Array[], opts: { maxFileSize?: number; xorKey?: Uint8Array } = {}): BlockFileWriter {
  const w = new BlockFileWriter(dir, MAIN_MAGIC, opts);
  for (const b of blocks) w.append(b);
  w.close();
  return w;
}

function sameRecords(records: readonly BlockRecord[], blocks: readonly Uint8Array[]): void {
  assert.equal(records.length, blocks.length, 'record count');
  records.forEach((r, i) => assert.ok(equalBytes(r.raw, blocks[i]!), `record ${i} bytes`));
}

test('writer → reader round trip, rotating files, offsets as Core\'s FlatFilePos', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS;
  const positions: { file: string; offset: number }[] = [];
  const w = new BlockFileWriter(dir, MAIN_MAGIC, { maxFileSize: 16_000 });
  for (const b of blocks) positions.push(w.append(b));
  w.close();
  assert.ok(w.files.length > 2, `several files (${w.files.length})`);
  assert.deepEqual(listBlockFiles(dir), w.files);
  for (const f of w.files) assert.ok(statSync(f).size < 16_000, `${f} under the size limit`);

  const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(records, blocks);
  assert.deepEqual(summary.issues, []);
  assert.equal(summary.files, w.files.length);
  records.forEach((r, i) => {
    assert.equal(r.file, positions[i]!.file);
    assert.equal(r.offset, positions[i]!.offset);
  });
  // The position points at the block itself, 8 bytes past its magic.
  const first = readFileSync(positions[0]!.file);
  assert.equal(toHex(first.subarray(0, 4)), 'f9beb4d9');
  assert.equal(first.readUInt32LE(4), blocks[0]!.length);
  assert.equal(positions[0]!.offset, 8);
});

test('xor.dat: obfuscated files read back; every byte XORed with key[pos % 8]', (t) => {
  const plainDir = tempDir(t);
  const xorDir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 40);
  writeAll(plainDir, blocks, { maxFileSize: 5_000 });
  const w = writeAll(xorDir, blocks, { maxFileSize: 5_000, xorKey: KEY });
  assert.deepEqual(readFileSync(join(xorDir, 'xor.dat')), Buffer.from(KEY));
  assert.ok(equalBytes(readXorKey(xorDir)!, KEY));
  for (const f of w.files) {
    const plain = readFileSync(join(plainDir, f.slice(xorDir.length + 1)));
    const obf = readFileSync(f);
    assert.equal(obf.length, plain.length);
    for (let i = 0; i < plain.length; i++) if ((plain[i]! ^ KEY[i % 8]!) !== obf[i]) assert.fail(`${f} byte ${i}`);
  }
  // Directory, single file (key from the sibling xor.dat) and an explicit key all agree.
  sameRecords(readAllBlocks(xorDir, { magic: MAIN_MAGIC }).records, blocks);
  const single = readAllBlocks(w.files[0]!, { magic: MAIN_MAGIC }).records;
  assert.ok(single.length > 0);
  sameRecords(single, blocks.slice(0, single.length));
  // Without the key nothing frames: no record, the whole file reported as garbage.
  const wrong = readAllBlocks(w.files[0]!, { magic: MAIN_MAGIC, xorKey: new Uint8Array(8) });
  assert.equal(wrong.records.length, 0);
  assert.ok(wrong.summary.issues.length > 0);
});

test('xor.dat: an all-zero key means no obfuscation; a wrong-sized one is refused', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 5);
  const w = writeAll(dir, blocks, { xorKey: new Uint8Array(8) });
  assert.equal(readXorKey(dir), undefined);
  assert.equal(toHex(readFileSync(w.files[0]!).subarray(0, 4)), 'f9beb4d9');
  sameRecords(readAllBlocks(dir, { magic: MAIN_MAGIC }).records, blocks);
  writeFileSync(join(dir, 'xor.dat'), Uint8Array.of(1, 2, 3));
  assert.throws(() => readAllBlocks(dir, { magic: MAIN_MAGIC }), /8 bytes/);
  // One that cannot be read says which file: Node's EISDIR names none.
  rmSync(join(dir, 'xor.dat'));
  mkdirSync(join(dir, 'xor.dat'));
  assert.throws(() => readAllBlocks(dir, { magic: MAIN_MAGIC }), (err: Error) => err.message.startsWith(join(dir, 'xor.dat')) && /EISDIR/.test(err.message));
});

test('xorInPlace: same as the byte-by-byte definition at any position and alignment; twice is identity', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.integer({ min: 0, max: 1 << 20 }),
      fc.integer({ min: 0, max: 7 }),
      (data, key, pos, shift) => {
        const backing = new Uint8Array(data.length + 8);
        const buf = backing.subarray(shift, shift + data.length);
        buf.set(data);
        xorInPlace(buf, key, pos);
        for (let i = 0; i < data.length; i++) if (buf[i] !== (data[i]! ^ key[(pos + i) % 8]!)) return false;
        xorInPlace(buf, key, pos);
        return equalBytes(buf, data);
      },
    ),
    { seed: 0x0b5c, numRuns: 300 },
  );
});

test('property: any payloads with any zero padding, with or without a key, read back exactly', (t) => {
  const dir = tempDir(t);
  fc.assert(
    fc.property(
      fc.array(fc.record({ block: fc.uint8Array({ minLength: 85, maxLength: 400 }), pad: fc.nat({ max: 40 }) }), { maxLength: 12 }),
      fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
      fc.integer({ min: 200, max: 3000 }),
      (items, xorKey, maxFileSize) => {
        const w = new BlockFileWriter(dir, MAIN_MAGIC, { maxFileSize, overwrite: true, ...(xorKey ? { xorKey } : {}) });
        for (const { block, pad } of items) {
          // Payloads that are no block (a transaction count of 2^32 - 1): the reader reads a block
          // to its end where no magic follows its record, as Core does.
          block.set([0xfe, 0xff, 0xff, 0xff, 0xff], 80);
          w.append(block);
          w.appendRaw(new Uint8Array(pad));
        }
        w.close();
        const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
        return summary.issues.length === 0 && records.length === items.length && records.every((r, i) => equalBytes(r.raw, items[i]!.block));
      },
    ),
    { seed: 0xb10c, numRuns: 150 },
  );
});

test('files are read in numeric order; blocks out of chain order are just records', (t) => {
  const dir = tempDir(t);
  // Blocks written in reverse: the reader returns file order, not chain order.
  const blocks = BTCD_BLOCKS.slice(0, 30).reverse();
  writeAll(dir, blocks, { maxFileSize: 600 });
  const files = listBlockFiles(dir);
  assert.ok(files.length >= 10, 'enough files that blk00010 follows blk00009');
  sameRecords(readAllBlocks(dir, { magic: MAIN_MAGIC }).records, blocks);
  // blk100000.dat sorts after blk99999.dat (Core's %05u widens past five digits).
  const extra = new BlockFileWriter(tempDir(t), MAIN_MAGIC);
  extra.close();
  for (const n of [99999, 100000, 7]) writeFileSync(join(extra.dir, blockFileName(n)), '');
  assert.deepEqual(listBlockFiles(extra.dir).map((f) => f.slice(extra.dir.length + 1)), ['blk00007.dat', 'blk99999.dat', 'blk100000.dat']);
});

test('zero padding between records and at the end (Core preallocates) is skipped silently', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 6);
  for (const key of [undefined, KEY]) {
    const w = new BlockFileWriter(dir, MAIN_MAGIC, { ...(key ? { xorKey: key } : {}), overwrite: true });
    w.appendRaw(new Uint8Array(13));
    for (const b of blocks) {
      w.append(b);
      w.appendRaw(new Uint8Array(1 + (b.length % 7)));
    }
    w.appendRaw(new Uint8Array(1 << 16));
    w.close();
    const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
    sameRecords(records, blocks);
    assert.deepEqual(summary.issues, [], `no issue (key ${key ? 'set' : 'none'})`);
  }
});

test('a truncated last record is reported, the records before it are kept', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 8);
  const w = writeAll(dir, blocks);
  const file = w.files[0]!;
  const full = statSync(file).size;
  const lastStart = full - 8 - blocks[7]!.length;
  for (const cut of [full - 1, lastStart + 8 + 10, lastStart + 8, lastStart + 6, lastStart + 3]) {
    truncateSync(file, cut);
    const issues: BlockFileIssue[] = [];
    const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC, onIssue: (i) => issues.push(i) });
    sameRecords(records, blocks.slice(0, 7));
    assert.equal(issues.length, 1, `one issue at cut ${cut}`);
    assert.deepEqual(summary.issues, issues);
    assert.equal(issues[0]!.code, 'truncated');
    assert.equal(issues[0]!.offset, lastStart);
    assert.match(issues[0]!.message, /offset/);
  }
});

test('garbage between records: one issue per run, then the scan resynchronises on the magic', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(10, 14);
  const w = new BlockFileWriter(dir, MAIN_MAGIC);
  w.append(blocks[0]!);
  const garbageAt = 8 + blocks[0]!.length;
  // Junk with zeros inside (one run), a lone first magic byte, and a magic with an absurd length.
  const junk = Uint8Array.of(0x13, 0x37, 0, 0, 0xf9, 0xbe, 0x42, 0xf9, 0xbe, 0xb4, 0xd9, 0xff, 0xff, 0xff, 0xff, 0x99);
  w.appendRaw(junk);
  w.append(blocks[1]!);
  w.append(blocks[2]!);
  w.appendRaw(Uint8Array.of(0xaa, 0xbb));
  w.appendRaw(new Uint8Array(5));
  w.append(blocks[3]!);
  w.close();

  const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(records, blocks);
  const codes = summary.issues.map((i) => `${i.code}@${i.offset}+${i.length}`);
  const junk2At = garbageAt + junk.length + 16 + blocks[1]!.length + blocks[2]!.length;
  assert.deepEqual(codes, [
    `bad-length@${garbageAt + 7}+${0xffffffff}`,
    `garbage@${garbageAt}+${junk.length}`,
    `garbage@${junk2At}+2`,
  ]);

  // stopOnIssue ends the read at the first one.
  const it = readBlocks(dir, { magic: MAIN_MAGIC, stopOnIssue: true });
  const got: BlockRecord[] = [];
  let r = it.next();
  for (; !r.done; r = it.next()) got.push(r.value);
  assert.equal(got.length, 1);
  assert.equal(r.value.stopped, true);
  assert.equal(r.value.issues.length, 1);
});

test("check: 'parse' rejects a well-framed record that is not a block and resumes at its end", (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(20, 23);
  const w = new BlockFileWriter(dir, MAIN_MAGIC);
  w.append(blocks[0]!);
  const fakeAt = 8 + blocks[0]!.length;
  // A forged record: a right magic and length around 100 bytes of junk that hide the next record.
  const fake = new Uint8Array(100).fill(0x5a);
  w.append(fake);
  w.append(blocks[1]!);
  w.append(blocks[2]!);
  w.close();

  const framed = readAllBlocks(dir, { magic: MAIN_MAGIC });
  assert.equal(framed.records.length, 4, "'frame' yields the forged record as a record");
  const parsed = readAllBlocks(dir, { magic: MAIN_MAGIC, check: 'parse' });
  sameRecords(parsed.records, blocks);
  for (const r of parsed.records) assert.ok(r.block !== undefined && equalBytes(r.block.toBytes(), r.raw));
  assert.deepEqual(
    parsed.summary.issues.map((i) => `${i.code}@${i.offset}`),
    [`bad-block@${fakeAt}`],
  );
});

test("check: 'parse' resumes at the end of a record that does not decode, as Core: a block framed inside it is not read", (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(40, 43);
  const inner = new Uint8Array(8 + blocks[1]!.length);
  inner.set(MAIN_MAGIC);
  new DataView(inner.buffer).setUint32(4, blocks[1]!.length, true);
  inner.set(blocks[1]!, 8);
  // A forged record whose length covers 100 bytes of junk and then a whole framed block.
  const forged = new Uint8Array(8 + 100 + inner.length).fill(0x5a);
  forged.set(MAIN_MAGIC);
  new DataView(forged.buffer).setUint32(4, 100 + inner.length, true);
  forged.set(inner, 108);
  const w = new BlockFileWriter(dir, MAIN_MAGIC);
  w.append(blocks[0]!);
  w.appendRaw(forged);
  w.append(blocks[2]!);
  w.close();
  const parsed = readAllBlocks(dir, { magic: MAIN_MAGIC, check: 'parse' });
  sameRecords(parsed.records, [blocks[0]!, blocks[2]!]);
  assert.deepEqual(
    parsed.summary.issues.map((i) => `${i.code}@${i.offset}`),
    [`bad-block@${8 + blocks[0]!.length}`],
  );
});

test('a record whose length claims too much does not swallow the records after it: the block is read to its end, as Core', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(50, 56);
  const w = writeAll(dir, blocks);
  assert.ok(w);
  // Block 1's length, one bit flipped: it now covers the next records too.
  const file = join(dir, blockFileName(0));
  const bytes = new Uint8Array(readFileSync(file));
  const at = 8 + blocks[0]!.length + 4;
  const dv = new DataView(bytes.buffer);
  dv.setUint32(at, dv.getUint32(at, true) | 0x100, true);
  writeFileSync(file, bytes);
  for (const check of ['frame', 'parse'] as const) {
    const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC, check });
    sameRecords(records, blocks);
    assert.deepEqual(summary.issues, [], check);
  }
  // The last record's length grown into the zero padding Core preallocates after it: zeros do not
  // vouch for a length (nor do the zero words inside block data), the block is read to its end.
  const padded = new Uint8Array(bytes.length + 4096);
  padded.set(bytes);
  const lastAt = bytes.length - blocks.at(-1)!.length - 4;
  new DataView(padded.buffer).setUint32(lastAt, blocks.at(-1)!.length + 600, true);
  writeFileSync(file, padded);
  const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(records, blocks);
  assert.deepEqual(summary.issues, []);
});

test('the last record of a file, its length grown past the end: the whole block in it is still read, as Core', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(60, 63);
  writeAll(dir, blocks);
  const file = join(dir, blockFileName(0));
  const bytes = new Uint8Array(readFileSync(file));
  const at = 2 * 8 + blocks[0]!.length + blocks[1]!.length + 4;
  new DataView(bytes.buffer).setUint32(at, blocks[2]!.length + 5000, true);
  writeFileSync(file, bytes);
  for (const check of ['frame', 'parse'] as const) {
    const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC, check });
    sameRecords(records, blocks);
    assert.deepEqual(summary.issues, [], check);
  }
  // Cut inside the block: nothing whole to read, so the truncation is reported as before.
  truncateSync(file, bytes.length - 10);
  const cut = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(cut.records, blocks.slice(0, 2));
  assert.deepEqual(cut.summary.issues.map((i) => i.code), ['truncated']);
});

test('a record whose length runs past the end is reported once; a later real record is still found', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(30, 32);
  const w = new BlockFileWriter(dir, MAIN_MAGIC);
  w.appendRaw(Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0x00, 0x00, 0x20, 0x00)); // claims 2 MiB
  w.append(blocks[0]!);
  w.append(blocks[1]!);
  w.close();
  const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(records, blocks);
  assert.deepEqual(summary.issues.map((i) => i.code), ['truncated']);
});

test('readBlocksAsync yields the same records and summary as readBlocks', async (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 60);
  writeAll(dir, blocks, { maxFileSize: 6_000, xorKey: KEY });
  appendFileSync(listBlockFiles(dir)[1]!, Buffer.from(Uint8Array.of(0x77 ^ KEY[0]!)));
  const sync = readAllBlocks(dir, { magic: MAIN_MAGIC });
  const it = readBlocksAsync(dir, { magic: MAIN_MAGIC });
  const records: BlockRecord[] = [];
  let r = await it.next();
  for (; !r.done; r = await it.next()) records.push(r.value);
  sameRecords(records, blocks);
  assert.deepEqual(r.value, sync.summary);
  assert.equal(r.value.issues.length, 1);
});

test('property: read a window at a time (any chunk size, sync or async), damaged files give the same records and issues as one whole-file scan', async (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 6);
  // Pieces a damaged file is made of: records, padding, junk, lone or whole magics with good, bad or
  // overlong lengths, forged records; the file may also be cut anywhere.
  const piece = fc.oneof(
    fc.nat({ max: blocks.length - 1 }).map((i) => ({ record: blocks[i]! })),
    fc.nat({ max: 30 }).map((n) => ({ raw: new Uint8Array(n) })),
    fc.uint8Array({ minLength: 1, maxLength: 12 }).map((raw) => ({ raw })),
    fc.constantFrom(Uint8Array.of(0xf9), Uint8Array.of(0xf9, 0xbe, 0xb4), Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0x00, 0x10, 0x00, 0x00)).map((raw) => ({ raw })),
    fc.uint8Array({ minLength: 80, maxLength: 120 }).map((record) => ({ record })),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(piece, { maxLength: 10 }),
      fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
      fc.integer({ min: 1, max: 700 }),
      fc.nat({ max: 400 }),
      fc.constantFrom<'frame' | 'parse'>('frame', 'parse'),
      async (pieces, xorKey, chunkSize, cut, check) => {
        const w = new BlockFileWriter(dir, MAIN_MAGIC, { overwrite: true, ...(xorKey ? { xorKey } : {}) });
        for (const p of pieces) {
          if ('record' in p) w.append(p.record);
          else w.appendRaw(p.raw);
        }
        w.close();
        const file = w.files[0];
        if (file === undefined) return; // nothing was written
        const size = statSync(file).size;
        if (cut > 0 && cut < size) truncateSync(file, size - cut);
        const image = new Uint8Array(readFileSync(file));
        xorInPlace(image, xorKey, 0);
        const want = [...scanBlockRecords(image, file, { magic: MAIN_MAGIC, check })].map((item) =>
          item.kind === 'record' ? `record@${item.record.offset}:${toHex(item.record.raw)}` : `${item.issue.code}@${item.issue.offset}+${item.issue.length}`,
        );
        const seen = (records: readonly BlockRecord[], issues: readonly BlockFileIssue[]): string[] => {
          // Issues and records interleave in file order; compare each list on its own.
          return [...records.map((r) => `record@${r.offset}:${toHex(r.raw)}`), ...issues.map((i) => `${i.code}@${i.offset}+${i.length}`)];
        };
        const split = (items: string[]): string[] => [...items.filter((x) => x.startsWith('record')), ...items.filter((x) => !x.startsWith('record'))];
        const sync = readAllBlocks(file, { magic: MAIN_MAGIC, check, chunkSize });
        assert.deepEqual(seen(sync.records, sync.summary.issues), split(want));
        const records: BlockRecord[] = [];
        const it = readBlocksAsync(file, { magic: MAIN_MAGIC, check, chunkSize });
        let r = await it.next();
        for (; !r.done; r = await it.next()) records.push(r.value);
        assert.deepEqual(seen(records, r.value.issues), split(want));
        if (check === 'frame') {
          // The header read finds the same records (their places and headers) and the same issues.
          const { headers, summary } = await readHeaders(file, { magic: MAIN_MAGIC, chunkSize });
          const asHeaders = (items: string[]): string[] =>
            items.map((x) => {
              const m = /^record@(\d+):([0-9a-f]*)$/.exec(x);
              return m === null ? x : `header@${m[1]}+${m[2]!.length / 2}:${m[2]!.slice(0, 160)}`;
            });
          assert.deepEqual(
            [...headers.map((h) => `header@${h.offset}+${h.length}:${toHex(h.header)}`), ...summary.issues.map((i) => `${i.code}@${i.offset}+${i.length}`)],
            asHeaders(split(want)),
          );
          assert.equal(summary.records, r.value.records);
          assert.equal(summary.blockBytes, r.value.blockBytes);
        }
      },
    ),
    { seed: 0x5ca1, numRuns: 300 },
  );
});

async function readHeaders(path: string, opts: Parameters<typeof readBlockHeadersAsync>[1]): Promise<{ headers: BlockHeaderRecord[]; summary: ReadBlocksSummary }> {
  const headers: BlockHeaderRecord[] = [];
  const it = readBlockHeadersAsync(path, opts);
  let r = await it.next();
  for (; !r.done; r = await it.next()) headers.push(r.value);
  return { headers, summary: r.value };
}

test('readBlockHeadersAsync: onIssue and stopOnIssue as readBlocksAsync, through xor.dat', async (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 4);
  const w = new BlockFileWriter(dir, MAIN_MAGIC, { xorKey: KEY });
  w.append(blocks[0]!);
  w.appendRaw(Uint8Array.of(1, 2, 3)); // garbage
  w.append(blocks[1]!);
  w.appendRaw(Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0x10, 0x00, 0x00, 0x00)); // a length below 80
  w.append(blocks[2]!);
  w.append(blocks[3]!);
  w.close();
  const whole = async (o: { stopOnIssue?: boolean }): Promise<{ places: string[]; issues: string[]; seen: string[] }> => {
    const seen: string[] = [];
    const it = readBlocksAsync(dir, { magic: MAIN_MAGIC, chunkSize: 64, ...o, onIssue: (i) => seen.push(i.code) });
    const places: string[] = [];
    let r = await it.next();
    for (; !r.done; r = await it.next()) places.push(`${r.value.offset}+${r.value.raw.length}`);
    return { places, issues: r.value.issues.map((i) => `${i.code}@${i.offset}`), seen };
  };
  const headers = async (o: { stopOnIssue?: boolean }): Promise<{ places: string[]; issues: string[]; seen: string[] }> => {
    const seen: string[] = [];
    const { headers: hs, summary } = await readHeaders(dir, { magic: MAIN_MAGIC, chunkSize: 64, ...o, onIssue: (i) => seen.push(i.code) });
    return { places: hs.map((h) => `${h.offset}+${h.length}`), issues: summary.issues.map((i) => `${i.code}@${i.offset}`), seen };
  };
  const all = await whole({});
  assert.equal(all.places.length, 4);
  assert.deepEqual(all.seen, ['garbage', 'bad-length', 'garbage']);
  assert.deepEqual(await headers({}), all);
  const stopped = await whole({ stopOnIssue: true });
  assert.equal(stopped.places.length, 1);
  assert.deepEqual(await headers({ stopOnIssue: true }), stopped);
});

/**
 * Writes a bad-length record (reported from the first window), then a 200-byte record at 8, to
 * `file`; the issue handler returned cuts the file to `cut` bytes when the bad length is reported.
 */
function shrinkingFile(file: string, cut: number): (i: BlockFileIssue) => void {
  const image = new Uint8Array(8 + 8 + 200).fill(0x11, 16);
  image.set(MAIN_MAGIC, 0);
  image.set(MAIN_MAGIC, 8);
  new DataView(image.buffer).setUint32(12, 200, true);
  writeFileSync(file, image);
  return (i) => {
    if (i.code === 'bad-length') truncateSync(file, cut);
  };
}

test('readBlockHeadersAsync: a file that shrinks while it is read ends the read, it never throws', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'blk00000.dat');
  for (const cut of [40, 120]) {
    const onIssue = shrinkingFile(file, cut);
    const { headers, summary } = await readHeaders(file, { magic: MAIN_MAGIC, chunkSize: 16, onIssue });
    if (cut === 40) {
      // The record's header is gone: reported cut short, as a whole read of the shrunk file does.
      assert.deepEqual(headers, []);
      assert.deepEqual(
        summary.issues.map((i) => `${i.code}@${i.offset}`),
        ['bad-length@0', 'garbage@0', 'truncated@8'],
      );
    } else {
      // The header was read before the cut; the block behind it is the blocks' read to find missing.
      assert.deepEqual(headers.map((h) => `${h.offset}+${h.length}`), ['16+200']);
    }
  }
});

test('readBlockHeadersAsync reads the headers of large blocks, not the blocks, across files and xor.dat', async (t) => {
  const dir = tempDir(t);
  // 24 "blocks" of 200,000 bytes: a real header, then filler the header read must never need.
  const blocks = BTCD_BLOCKS.slice(0, 24).map((b, i) => {
    const big = new Uint8Array(200_000).fill(0x5a ^ i);
    big.set(b.subarray(0, 80));
    return big;
  });
  const w = writeAll(dir, blocks, { maxFileSize: 2_000_000, xorKey: KEY });
  assert.ok(w.files.length >= 3, 'several files');
  const total = w.files.reduce((n, f) => n + statSync(f).size, 0);
  const { headers, summary } = await readHeaders(dir, { magic: MAIN_MAGIC });
  assert.equal(headers.length, blocks.length);
  headers.forEach((h, i) => {
    assert.deepEqual(h.header, blocks[i]!.subarray(0, 80), `header ${i}`);
    assert.equal(h.length, 200_000);
  });
  // The places are those of the whole read.
  const whole = readAllBlocks(dir, { magic: MAIN_MAGIC });
  assert.deepEqual(
    headers.map((h) => `${h.file}@${h.offset}`),
    whole.records.map((r) => `${r.file}@${r.offset}`),
  );
  assert.equal(summary.blockBytes, whole.summary.blockBytes);
  assert.equal(whole.summary.bytesRead, total);
  // One 16 KiB window a record at most: under a tenth of the files.
  assert.ok(summary.bytesRead <= blocks.length * 16 * 1024, `${summary.bytesRead} bytes read of ${total}`);
  assert.ok(summary.bytesRead < total / 10);
  assert.deepEqual(summary.issues, []);
});

test('readBlockHeadersAsync finds the records a whole read finds when a length claims too much, whether what follows is in the window, past it, or past the end of the file', async (t) => {
  const blocks = BTCD_BLOCKS.slice(70, 76);
  const damage = (dir: string, grow: (size: number, index: number) => number | undefined, padding = 0): void => {
    const file = join(dir, blockFileName(0));
    const bytes = new Uint8Array(readFileSync(file).length + padding);
    bytes.set(readFileSync(file));
    const dv = new DataView(bytes.buffer);
    let at = 0;
    blocks.forEach((b, k) => {
      const to = grow(b.length, k);
      if (to !== undefined) dv.setUint32(at + 4, to, true);
      at += 8 + b.length;
    });
    writeFileSync(file, bytes);
  };
  const cases: Array<[string, (size: number, index: number) => number | undefined, number]> = [
    // Into the next record's magic: a scan that trusts it misses that record.
    ['3 bytes too many', (size, k) => (k === 1 ? size + 3 : undefined), 0],
    // Over the next records (a flipped bit).
    ['a bit flipped', (size, k) => (k === 2 ? size | 0x100 : undefined), 0],
    // Two damaged records, and the last grown into the zero padding after it.
    ['three damaged', (size, k) => (k === 0 || k === 3 ? size + 40 : k === 5 ? size + 600 : undefined), 4096],
    // The last record's length past the end of the file: the whole block before it is still a record.
    ['the last past the end', (size, k) => (k === 5 ? size + 1000 : undefined), 0],
    ['one past the end of a padded file', (size, k) => (k === 4 ? size + 40 : k === 5 ? size + 9000 : undefined), 300],
  ];
  for (const [name, grow, padding] of cases) {
    const dir = tempDir(t);
    writeAll(dir, blocks);
    damage(dir, grow, padding);
    const whole = readAllBlocks(dir, { magic: MAIN_MAGIC });
    sameRecords(whole.records, blocks);
    assert.deepEqual(whole.summary.issues, [], name);
    // One window for the file, and windows far smaller than a block (every record skipped past).
    for (const chunkSize of [undefined, 64, 300]) {
      const { headers, summary } = await readHeaders(dir, { magic: MAIN_MAGIC, chunkSize });
      const what = `${name}, ${chunkSize ?? 'default'} chunk`;
      assert.deepEqual(
        headers.map((h) => `${h.offset}:${toHex(h.header)}`),
        whole.records.map((r) => `${r.offset}:${toHex(r.raw.subarray(0, 80))}`),
        what,
      );
      assert.deepEqual(summary.issues, [], what);
    }
  }
});

test('misuse throws: bad magic, bad key, existing files without overwrite', (t) => {
  const dir = tempDir(t);
  assert.throws(() => new BlockFileWriter(dir, Uint8Array.of(1, 2, 3)), TypeError);
  assert.throws(() => new BlockFileWriter(dir, MAIN_MAGIC, { xorKey: new Uint8Array(4) }), TypeError);
  writeAll(dir, BTCD_BLOCKS.slice(0, 1));
  assert.throws(() => new BlockFileWriter(dir, MAIN_MAGIC), /overwrite/);
  new BlockFileWriter(dir, MAIN_MAGIC, { overwrite: true }).close();
  assert.deepEqual(listBlockFiles(dir), []);
  assert.throws(() => readAllBlocks(dir, { magic: new Uint8Array(2) }), TypeError);
  assert.throws(() => readAllBlocks(join(dir, 'missing'), { magic: MAIN_MAGIC }));
});

test('btcd/blocks1-256.dat reads as 255 records whose blocks parse and link from genesis', () => {
  const issues: BlockFileIssue[] = [];
  const { records, summary } = readAllBlocks(vectorPath('btcd', 'blocks1-256.dat'), { magic: MAIN_MAGIC, onIssue: (i) => issues.push(i) });
  assert.equal(records.length, 255);
  assert.deepEqual(issues, []);
  assert.equal(summary.records, 255);
  let prev = GENESIS_HASH;
  let offset = 0;
  for (const r of records) {
    assert.equal(r.offset, offset + 8);
    offset = r.offset + r.raw.length;
    const d = decodeBlock(r.raw);
    assert.ok(d.ok, `block at ${r.offset}`);
    assert.equal(hashToHex(d.block.header.prevBlock), prev);
    prev = hashToHex(d.block.hash());
  }
  assert.equal(offset, statSync(vectorPath('btcd', 'blocks1-256.dat')).size);
  // The parse mode agrees and hands out decoded blocks.
  const parsed = readAllBlocks(vectorPath('btcd', 'blocks1-256.dat'), { magic: MAIN_MAGIC, check: 'parse', views: true });
  assert.equal(parsed.records.length, 255);
  assert.equal(hashToHex(parsed.records[254]!.block!.hash()), prev);
});

/** A record as Core frames it: magic, uint32 LE length (here any claimed length), block. */
function frame(block: Uint8Array, claimed = block.length): Uint8Array {
  const head = new Uint8Array(8);
  head.set(MAIN_MAGIC);
  new DataView(head.buffer).setUint32(4, claimed, true);
  return concatBytes(head, block);
}

function issueList(summary: ReadBlocksSummary): string[] {
  return summary.issues.map((i) => `${i.code}@${i.offset}+${i.length}`);
}

test('xor.dat: any non-zero key applies, even one of 0 and 1 bytes; a key of another size is never written', (t) => {
  const dir = tempDir(t);
  const key = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1);
  const blocks = BTCD_BLOCKS.slice(0, 3);
  const w = writeAll(dir, blocks, { xorKey: key });
  assert.ok(equalBytes(readXorKey(dir)!, key));
  const bytes = readFileSync(w.files[0]!);
  assert.equal(toHex(bytes.subarray(0, 4)), 'f9beb4d9');
  assert.equal(bytes[7], (blocks[0]!.length >>> 24) ^ 1, 'the length\'s high byte is obfuscated');
  sameRecords(readAllBlocks(dir, { magic: MAIN_MAGIC }).records, blocks);
  assert.throws(() => writeXorKey(dir, new Uint8Array(7)), TypeError);
  assert.ok(equalBytes(readXorKey(dir)!, key), 'the key on disk is unchanged');
});

test("writer: a new file when the next record would reach maxFileSize (Core's FindNextBlockPos), never an empty one", (t) => {
  const block = BTCD_BLOCKS[0]!;
  const rec = 8 + block.length;
  const filesFor = (maxFileSize: number, count: number, emptyRawFirst = false): number[] => {
    const dir = tempDir(t);
    const w = new BlockFileWriter(dir, MAIN_MAGIC, { maxFileSize });
    if (emptyRawFirst) w.appendRaw(new Uint8Array(0));
    for (let i = 0; i < count; i++) w.append(block);
    w.close();
    sameRecords(readAllBlocks(dir, { magic: MAIN_MAGIC }).records, Array.from({ length: count }, () => block));
    return w.files.map((f) => statSync(f).size);
  };
  // Two records would reach the limit exactly: the second starts a new file.
  assert.deepEqual(filesFor(2 * rec, 3), [rec, rec, rec]);
  assert.deepEqual(filesFor(2 * rec + 1, 3), [2 * rec, rec]);
  // A record larger than the limit goes in a file of its own, even one just opened empty.
  assert.deepEqual(filesFor(rec - 1, 2), [rec, rec]);
  assert.deepEqual(filesFor(rec - 1, 2, true), [rec, rec]);
});

test('writer misuse: a size limit that cannot hold a record header, the magic changed afterwards, writing after close', (t) => {
  const dir = tempDir(t);
  for (const maxFileSize of [8, 100.5, Number.NaN]) {
    assert.throws(() => new BlockFileWriter(dir, MAIN_MAGIC, { maxFileSize, overwrite: true }), RangeError, String(maxFileSize));
  }
  new BlockFileWriter(dir, MAIN_MAGIC, { maxFileSize: 9, overwrite: true }).close();
  // The writer keeps its own copy of the magic.
  const magic = MAIN_MAGIC.slice();
  const w = new BlockFileWriter(dir, magic, { overwrite: true });
  magic.fill(0);
  w.append(BTCD_BLOCKS[0]!);
  w.close();
  assert.equal(toHex(readFileSync(w.files[0]!).subarray(0, 4)), 'f9beb4d9');
  assert.throws(() => w.append(BTCD_BLOCKS[1]!), /closed/);
  assert.throws(() => w.appendRaw(new Uint8Array(4)), /closed/);
  assert.equal(statSync(w.files[0]!).size, 8 + BTCD_BLOCKS[0]!.length);
  assert.deepEqual(listBlockFiles(dir), w.files);
});

test('listBlockFiles takes blkNNNNN.dat only, not names that merely start or end like one', (t) => {
  const dir = tempDir(t);
  for (const name of ['blk00000.dat', 'blk00001.dat.tmp', 'blk00002.datx', 'xblk00003.dat', 'blk.dat', 'rev00000.dat', 'blk00004.DAT']) writeFileSync(join(dir, name), '');
  assert.deepEqual(listBlockFiles(dir), [join(dir, 'blk00000.dat')]);
});

test('record lengths 80 (a bare header) to MAX_BLOCK_SERIALIZED_SIZE (4,000,000) frame; 79 and 4,000,001 are bad-length', (t) => {
  for (const [size, framed] of [[80, true], [79, false], [4_000_000, true], [4_000_001, false]] as const) {
    const dir = tempDir(t);
    writeFileSync(join(dir, blockFileName(0)), frame(new Uint8Array(size).fill(0x11)));
    const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
    if (framed) {
      assert.equal(records.length, 1, `${size}`);
      assert.equal(records[0]!.raw.length, size);
      assert.deepEqual(summary.issues, []);
    } else {
      assert.equal(records.length, 0, `${size}`);
      assert.equal(summary.issues[0]!.code, 'bad-length');
      assert.equal(summary.issues[0]!.length, size);
    }
  }
});

test('a record cut right after its 8-byte header is reported with the length it claims; one cut inside the header, with none', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 2);
  const w = writeAll(dir, blocks);
  const secondAt = 8 + blocks[0]!.length;
  truncateSync(w.files[0]!, secondAt + 8);
  let r = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(r.records, blocks.slice(0, 1));
  assert.deepEqual(issueList(r.summary), [`truncated@${secondAt}+${blocks[1]!.length}`]);
  truncateSync(w.files[0]!, secondAt + 7);
  r = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(r.records, blocks.slice(0, 1));
  assert.deepEqual(issueList(r.summary), [`truncated@${secondAt}+0`]);
});

test('only a whole magic right after a record vouches for its length: a near miss, or 4 other bytes at the end, send the scan to read the block', (t) => {
  const dir = tempDir(t);
  const file = join(dir, blockFileName(0));
  const [a, b] = [BTCD_BLOCKS[0]!, BTCD_BLOCKS[1]!];
  // Two bytes too many, reaching a magic whose last byte is wrong, then a real record.
  writeFileSync(file, concatBytes(frame(a, a.length + 2), Uint8Array.of(0xaa, 0xbb, 0xf9, 0xbe, 0xb4, 0x77), frame(b)));
  let r = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(r.records, [a, b]);
  assert.equal(r.records[1]!.offset, 8 + a.length + 6 + 8);
  assert.deepEqual(issueList(r.summary), [`garbage@${8 + a.length}+6`]);
  // Two bytes too many, and exactly four bytes after the claimed end, at the end of the file.
  writeFileSync(file, concatBytes(frame(a, a.length + 2), Uint8Array.of(0xaa, 0xbb, 1, 2, 3, 4)));
  r = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(r.records, [a]);
  assert.deepEqual(issueList(r.summary), [`garbage@${8 + a.length}+6`]);
  // The file ends with a first magic byte and a byte that is not the second: garbage, not a cut header.
  writeFileSync(file, concatBytes(frame(a), Uint8Array.of(0xf9, 0x13)));
  r = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(r.records, [a]);
  assert.deepEqual(issueList(r.summary), [`garbage@${8 + a.length}+2`]);
});

test('a magic with a length outside 80..4,000,000 is garbage as a whole, zero bytes in the magic included', (t) => {
  const dir = tempDir(t);
  // A custom signet's magic is the start of a hash: it may hold zero bytes.
  const magic = Uint8Array.of(0x5e, 0x00, 0x00, 0x00);
  writeFileSync(join(dir, blockFileName(0)), concatBytes(magic, new Uint8Array(4), new Uint8Array(8)));
  const { records, summary } = readAllBlocks(dir, { magic });
  assert.deepEqual(records, []);
  assert.deepEqual(issueList(summary), ['bad-length@0+0', 'garbage@0+4']);
});

test('a header cut short inside a record already reported as running past the end is not reported again', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(30, 32);
  const claims2MiB = Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 0x00, 0x00, 0x20, 0x00);
  writeFileSync(join(dir, blockFileName(0)), concatBytes(claims2MiB, frame(blocks[0]!), frame(blocks[1]!), Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9, 1, 2)));
  const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  sameRecords(records, blocks);
  assert.deepEqual(issueList(summary), [`truncated@0+${0x200000}`]);
});

test('readAllBlocks keeps every record intact even when views are asked for; chunkSize must be positive', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 20);
  writeAll(dir, blocks, { xorKey: KEY });
  sameRecords(readAllBlocks(dir, { magic: MAIN_MAGIC, views: true, chunkSize: 256 }).records, blocks);
  for (const chunkSize of [0, -1, 1.5]) assert.throws(() => readAllBlocks(dir, { magic: MAIN_MAGIC, chunkSize }), RangeError, String(chunkSize));
});

test('readBlocks: a file that shrinks while it is read is scanned as it now is, never with stale bytes', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'blk00000.dat');
  for (const cut of [40, 120]) {
    const onIssue = shrinkingFile(file, cut);
    const { records, summary } = readAllBlocks(file, { magic: MAIN_MAGIC, chunkSize: 16, onIssue });
    assert.deepEqual(records, [], `cut ${cut}`);
    assert.deepEqual(
      summary.issues.map((i) => `${i.code}@${i.offset}`),
      ['bad-length@0', 'garbage@0', 'truncated@8'],
      `cut ${cut}`,
    );
  }
});

test("a record whose length runs past the end around a whole block: in 'parse' mode too, the record is where its block is", (t) => {
  const dir = tempDir(t);
  const [a, b] = [BTCD_BLOCKS[60]!, BTCD_BLOCKS[61]!];
  writeFileSync(join(dir, blockFileName(0)), concatBytes(frame(a), frame(b, b.length + 5000)));
  for (const check of ['frame', 'parse'] as const) {
    const { records, summary } = readAllBlocks(dir, { magic: MAIN_MAGIC, check });
    sameRecords(records, [a, b]);
    assert.deepEqual(records.map((r) => r.offset), [8, 8 + a.length + 8], check);
    if (check === 'parse') assert.ok(records.every((r) => r.block !== undefined && equalBytes(r.block.toBytes(), r.raw)));
    assert.deepEqual(summary.issues, [], check);
  }
});

test('lengths that claim too much: a read a window at a time finds what a whole read finds, wherever the windows end', (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(80, 84);
  // Block 0 claims 2 more bytes (into 'aabb' junk), block 1 claims 3 more (into the next magic),
  // block 3 claims 6 more (past its end, into 12 junk bytes at the end of the file).
  const file = join(dir, blockFileName(0));
  writeFileSync(
    file,
    concatBytes(frame(blocks[0]!, blocks[0]!.length + 2), Uint8Array.of(0xaa, 0xbb), frame(blocks[1]!, blocks[1]!.length + 3), frame(blocks[2]!), frame(blocks[3]!, blocks[3]!.length + 6), new Uint8Array(12).fill(0x5a)),
  );
  const seen = (opts: Partial<ReadBlocksOptions>): string[] => {
    const { records, summary } = readAllBlocks(file, { magic: MAIN_MAGIC, ...opts });
    return [...records.map((r) => `${r.offset}+${r.raw.length}`), ...issueList(summary)];
  };
  const whole = seen({});
  const at1 = 8 + blocks[0]!.length + 2;
  // Blocks 1 to 3 are read to their ends (block 0's length is vouched for by the magic after the junk).
  assert.deepEqual(whole.slice(1, 4), [at1 + 8, at1 + 16 + blocks[1]!.length, at1 + 24 + blocks[1]!.length + blocks[2]!.length].map((o, i) => `${o}+${blocks[i + 1]!.length}`));
  const end3 = at1 + 24 + blocks[1]!.length + blocks[2]!.length + blocks[3]!.length;
  assert.deepEqual(whole.slice(4), [`garbage@${end3}+12`]);
  for (let chunkSize = 1; chunkSize <= 400; chunkSize++) assert.deepEqual(seen({ chunkSize }), whole, `chunkSize ${chunkSize}`);
});

test('readRecordAt: the block at a position a scan reported, de-obfuscated at that position; a file that ends before it throws', async (t) => {
  const dir = tempDir(t);
  const blocks = BTCD_BLOCKS.slice(0, 5);
  writeAll(dir, blocks, { xorKey: KEY });
  const { records } = readAllBlocks(dir, { magic: MAIN_MAGIC });
  for (const r of records) {
    assert.ok(equalBytes(await readRecordAt(r.file, r.offset, r.raw.length, KEY), r.raw), `block at ${r.offset}`);
  }
  const last = records.at(-1)!;
  await assert.rejects(readRecordAt(last.file, last.offset, last.raw.length + 1, KEY), /ends before/);
});

// Core's LoadExternalBlockFile deserializes the block from the start of the record under the
// record's limit and goes on where the block ends: bytes between the block's end and the end the
// length claims are never part of the block. 'parse' mode reads the block as Core does and reports
// the bytes after it as garbage; 'frame' mode decodes nothing, so it gives what the length frames
// when a magic (or the end of the file within 4 bytes) vouches for it. The importer takes the
// block from such a record (import-pipeline.test.ts).
test('a length that covers junk after its block, up to the next magic or the end of the file: parse mode gives the block, as Core; frame mode what the length frames', (t) => {
  const dir = tempDir(t);
  const file = join(dir, blockFileName(0));
  const [a, b] = [BTCD_BLOCKS[0]!, BTCD_BLOCKS[1]!];
  const junk = Uint8Array.of(0xaa, 0xbb);
  for (const [bytes, junkAt] of [
    [concatBytes(frame(a, a.length + 2), junk, frame(b)), 8 + a.length],
    [concatBytes(frame(b), frame(a, a.length + 2), junk), 8 + b.length + 8 + a.length],
  ] as const) {
    writeFileSync(file, bytes);
    const parsed = readAllBlocks(dir, { magic: MAIN_MAGIC, check: 'parse' });
    assert.deepEqual(parsed.records.map((r) => toHex(r.raw)).sort(), [toHex(a), toHex(b)].sort());
    assert.deepEqual(
      parsed.summary.issues.map((i) => [i.code, i.length]),
      [['garbage', 2]],
    );
    assert.equal(parsed.summary.issues[0]!.offset, junkAt, 'the junk is where the block ends');
    const framed = readAllBlocks(dir, { magic: MAIN_MAGIC, check: 'frame' });
    assert.deepEqual(framed.records.map((r) => toHex(r.raw)).sort(), [toHex(concatBytes(a, junk)), toHex(b)].sort());
    assert.deepEqual(framed.summary.issues, []);
  }
});
