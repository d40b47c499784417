// Reading Bitcoin Core's blk*.dat files: records of network magic, uint32 LE length and block,
// with zero padding where Core preallocated, found by scanning for the magic as Core's
// LoadExternalBlockFile does, so padding, garbage and a cut-short tail give reported issues.

import { readFileSync, statSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeBlock, HEADER_SIZE, type Block } from '../primitives/block.js';
import { MAX_BLOCK_SERIALIZED_SIZE } from '../consensus/consensus.js';
import { readXorKey, xorInPlace } from './xor.js';

/** Magic (4) and length (4) before each block (Core's BLOCK_SERIALIZATION_HEADER_SIZE). */
export const BLOCK_RECORD_HEADER_SIZE = 8;

export interface BlockRecord {
  /** Path of the blk file the record is in. */
  readonly file: string;
  /** Where the block's first byte sits in the file, after its 8-byte header (Core's FlatFilePos.nPos). */
  readonly offset: number;
  /** The serialized block (a copy unless the `views` option is set). */
  readonly raw: Uint8Array;
  /** The decoded block, in `check: 'parse'` mode only. */
  readonly block?: Block;
}

export type BlockFileIssueCode =
  /** A record's header or block runs past the end of its file. */
  | 'truncated'
  /** Bytes that are neither zero padding nor part of a record (reported once per run). */
  | 'garbage'
  /** A magic followed by a length outside 80..MAX_BLOCK_SERIALIZED_SIZE. */
  | 'bad-length'
  /** `check: 'parse'`: the framed bytes do not decode as exactly one block. */
  | 'bad-block'
  /** The file could not be read. */
  | 'read-error';

/** A problem in the files, as plain data: the reader reports and goes on, it never throws for these. */
export interface BlockFileIssue {
  readonly code: BlockFileIssueCode;
  readonly file: string;
  /** File position of the record's magic, or of the first garbage byte. */
  readonly offset: number;
  /** Bytes concerned (garbage run length, or the length the record claimed). */
  readonly length: number;
  readonly message: string;
}

export interface ReadBlocksOptions {
  /** The network's 4 message-start bytes (ChainParams.messageStart). */
  magic: Uint8Array;
  /** Overrides the key read from xor.dat next to the files (an all-zero key means none). */
  xorKey?: Uint8Array;
  /**
   * 'frame' (default): a record is a magic and a length that fit inside the file.
   * 'parse': the framed bytes must also decode as one block (returned as `block`), else the
   * scan resumes one byte after the magic, as Core's LoadExternalBlockFile does.
   */
  check?: 'frame' | 'parse';
  /** Yield views into the file's buffer instead of copies (each pins its whole file in memory). */
  views?: boolean;
  /** Called for each issue as it is found. */
  onIssue?: (issue: BlockFileIssue) => void;
  /** End the whole read at the first issue. */
  stopOnIssue?: boolean;
}

/** What a read found, returned by the generators when they finish. */
export interface ReadBlocksSummary {
  files: number;
  records: number;
  /** Bytes of blocks yielded (without record headers). */
  blockBytes: number;
  issues: BlockFileIssue[];
  /** True when stopOnIssue ended the read early. */
  stopped: boolean;
}

const BLK_NAME = /^blk(\d+)\.dat$/;

/** The blk*.dat files of a blocks directory, in numeric order (blk00000.dat, blk00001.dat, …). */
export function listBlockFiles(dir: string): string[] {
  return readdirSync(dir)
    .map((name) => ({ name, m: BLK_NAME.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]) || a.name.localeCompare(b.name))
    .map((e) => join(dir, e.name));
}

/** The files a path names (a blocks directory, or one file) and the obfuscation key that applies to them. */
export function resolveBlockFiles(path: string, xorKey?: Uint8Array): { files: string[]; xorKey: Uint8Array | undefined } {
  const dir = statSync(path).isDirectory();
  const files = dir ? listBlockFiles(path) : [path];
  return { files, xorKey: xorKey ?? readXorKey(dir ? path : dirname(path)) };
}

function checkMagic(magic: Uint8Array): void {
  if (!(magic instanceof Uint8Array) || magic.length !== 4) throw new TypeError('magic must be 4 bytes');
}

/** What scanning a file finds, in file order: a record or an issue. */
export type BlockScanItem = { kind: 'record'; record: BlockRecord } | { kind: 'issue'; issue: BlockFileIssue };

/**
 * Scan one de-obfuscated file image for records. Zero bytes are padding; any other byte that does
 * not start a record is garbage, reported as one issue per run (a run ends at the next record or
 * at the end of the file; zeros inside it do not split it).
 */
export function* scanBlockRecords(bytes: Uint8Array, file: string, opts: Pick<ReadBlocksOptions, 'magic' | 'check' | 'views'>): Generator<BlockScanItem> {
  const { magic } = opts;
  checkMagic(magic);
  const parse = opts.check === 'parse';
  const m0 = magic[0]!;
  const m1 = magic[1]!;
  const m2 = magic[2]!;
  const m3 = magic[3]!;
  const len = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let garbageStart = -1;
  let garbageEnd = -1; // one past the last non-zero garbage byte
  // After a record that runs past the end, the scan resumes inside it: what it meets there is
  // the same problem, already reported, so it is not reported again as garbage.
  let quietUntil = -1;

  const flushGarbage = (): BlockScanItem | undefined => {
    if (garbageStart < 0) return undefined;
    const issue: BlockFileIssue = {
      code: 'garbage',
      file,
      offset: garbageStart,
      length: garbageEnd - garbageStart,
      message: `${garbageEnd - garbageStart} bytes that are not a block record at offset ${garbageStart}`,
    };
    garbageStart = garbageEnd = -1;
    return { kind: 'issue', issue };
  };
  const markGarbage = (from: number, to: number): void => {
    if (from < quietUntil) return;
    if (garbageStart < 0) garbageStart = from;
    garbageEnd = to;
  };

  let pos = 0;
  while (pos < len) {
    const b = bytes[pos]!;
    if (b === 0) {
      pos++;
      continue;
    }
    if (b !== m0 || pos + 4 > len || bytes[pos + 1] !== m1 || bytes[pos + 2] !== m2 || bytes[pos + 3] !== m3) {
      if (b === m0 && pos + 4 > len && bytes.subarray(pos + 1).every((x, i) => x === magic[i + 1])) {
        // A magic cut short by the end of the file.
        const g = flushGarbage();
        if (g !== undefined) yield g;
        yield { kind: 'issue', issue: truncated(file, pos, 0, `record header cut short: ${len - pos} of ${BLOCK_RECORD_HEADER_SIZE} bytes at offset ${pos}`) };
        return;
      }
      markGarbage(pos, pos + 1);
      pos++;
      continue;
    }
    // A magic at pos.
    if (pos + BLOCK_RECORD_HEADER_SIZE > len) {
      const g = flushGarbage();
      if (g !== undefined) yield g;
      if (pos >= quietUntil) {
        yield { kind: 'issue', issue: truncated(file, pos, 0, `record header cut short: ${len - pos} of ${BLOCK_RECORD_HEADER_SIZE} bytes at offset ${pos}`) };
      }
      return;
    }
    const size = view.getUint32(pos + 4, true);
    if (size < HEADER_SIZE || size > MAX_BLOCK_SERIALIZED_SIZE) {
      // Not a record: reported, and its bytes join the garbage run around them.
      if (pos >= quietUntil) {
        yield {
          kind: 'issue',
          issue: { code: 'bad-length', file, offset: pos, length: size, message: `record at offset ${pos} claims ${size} bytes, outside ${HEADER_SIZE}..${MAX_BLOCK_SERIALIZED_SIZE}` },
        };
      }
      markGarbage(pos, pos + 4);
      pos++;
      continue;
    }
    const start = pos + BLOCK_RECORD_HEADER_SIZE;
    const end = start + size;
    if (end > len) {
      const g = flushGarbage();
      if (g !== undefined) yield g;
      if (pos >= quietUntil) {
        yield { kind: 'issue', issue: truncated(file, pos, size, `record at offset ${pos} claims ${size} bytes, the file holds ${len - start} more`) };
      }
      // Core resumes one byte after the magic: the length itself may be what is damaged.
      quietUntil = Math.max(quietUntil, len);
      pos++;
      continue;
    }
    const slice = bytes.subarray(start, end);
    // A copy, unless views were asked for, so a kept record does not pin the file's buffer.
    const raw = opts.views ? slice : slice.slice();
    let block: Block | undefined;
    if (parse) {
      const r = decodeBlock(raw);
      if (!r.ok) {
        const g = flushGarbage();
        if (g !== undefined) yield g;
        if (pos >= quietUntil) {
          yield { kind: 'issue', issue: { code: 'bad-block', file, offset: pos, length: size, message: `record at offset ${pos} is not a block: ${r.message}` } };
        }
        quietUntil = Math.max(quietUntil, end);
        pos++;
        continue;
      }
      block = r.block;
    }
    const g = flushGarbage();
    if (g !== undefined) yield g;
    yield { kind: 'record', record: block === undefined ? { file, offset: start, raw } : { file, offset: start, raw, block } };
    pos = end;
  }
  const g = flushGarbage();
  if (g !== undefined) yield g;
}

function truncated(file: string, offset: number, length: number, message: string): BlockFileIssue {
  return { code: 'truncated', file, offset, length, message };
}

function newSummary(): ReadBlocksSummary {
  return { files: 0, records: 0, blockBytes: 0, issues: [], stopped: false };
}

/**
 * Feed one file image through the scanner, updating `summary`; returns false when the read must
 * stop (stopOnIssue).
 */
function* scanInto(bytes: Uint8Array, file: string, opts: ReadBlocksOptions, summary: ReadBlocksSummary): Generator<BlockRecord, boolean> {
  for (const item of scanBlockRecords(bytes, file, opts)) {
    if (item.kind === 'record') {
      summary.records++;
      summary.blockBytes += item.record.raw.length;
      yield item.record;
    } else if (report(item.issue, opts, summary)) {
      return false;
    }
  }
  return true;
}

/** Record an issue; true when the read must stop. */
function report(issue: BlockFileIssue, opts: ReadBlocksOptions, summary: ReadBlocksSummary): boolean {
  summary.issues.push(issue);
  opts.onIssue?.(issue);
  if (opts.stopOnIssue) summary.stopped = true;
  return opts.stopOnIssue === true;
}

function readError(file: string, err: unknown): BlockFileIssue {
  return { code: 'read-error', file, offset: 0, length: 0, message: `cannot read ${basename(file)}: ${(err as Error).message}` };
}

/**
 * The block records of a blocks directory (blk*.dat in numeric order, xor.dat applied) or of one
 * file, one file in memory at a time. Problems in the data are reported (onIssue, and the
 * summary the generator returns), never thrown; a missing path or a bad option throws.
 */
export function* readBlocks(path: string, opts: ReadBlocksOptions): Generator<BlockRecord, ReadBlocksSummary> {
  checkMagic(opts.magic);
  const { files, xorKey } = resolveBlockFiles(path, opts.xorKey);
  const summary = newSummary();
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      const buf = readFileSync(file);
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (report(readError(file, err), opts, summary)) return summary;
      continue;
    }
    summary.files++;
    xorInPlace(bytes, xorKey, 0);
    if (!(yield* scanInto(bytes, file, opts, summary))) return summary;
  }
  return summary;
}

/**
 * readBlocks, reading the next file while the records of the current one are consumed.
 * Holds at most two files in memory.
 */
export async function* readBlocksAsync(path: string, opts: ReadBlocksOptions): AsyncGenerator<BlockRecord, ReadBlocksSummary> {
  checkMagic(opts.magic);
  const { files, xorKey } = resolveBlockFiles(path, opts.xorKey);
  const summary = newSummary();
  const load = (file: string): Promise<Uint8Array | BlockFileIssue> =>
    readFile(file).then(
      (buf) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
      (err: unknown) => readError(file, err),
    );
  let next = files.length > 0 ? load(files[0]!) : undefined;
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const got = await next!;
    next = i + 1 < files.length ? load(files[i + 1]!) : undefined;
    if (!(got instanceof Uint8Array)) {
      if (report(got, opts, summary)) return summary;
      continue;
    }
    summary.files++;
    xorInPlace(got, xorKey, 0);
    if (!(yield* scanInto(got, file, opts, summary))) {
      await next; // settle the prefetch so no read is left dangling
      return summary;
    }
  }
  return summary;
}

/** Read every record into memory: for tests and small directories only. */
export function readAllBlocks(path: string, opts: ReadBlocksOptions): { records: BlockRecord[]; summary: ReadBlocksSummary } {
  const records: BlockRecord[] = [];
  const it = readBlocks(path, opts);
  for (;;) {
    const r = it.next();
    if (r.done) return { records, summary: r.value };
    records.push(r.value);
  }
}
