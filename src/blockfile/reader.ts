// Reading Bitcoin Core's blk*.dat files: records of network magic, uint32 LE length and block,
// with zero padding where Core preallocated, found by scanning for the magic as Core's
// LoadExternalBlockFile does, so padding, garbage and a cut-short tail give reported issues.

import { closeSync, fstatSync, openSync, readSync, statSync, readdirSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Block, decodeBlock, HEADER_SIZE } from '../primitives/block.js';
import { ByteReader } from '../primitives/reader.js';
import { MAX_BLOCK_SERIALIZED_SIZE } from '../consensus/consensus.js';
import { checkXorKey, readXorKey, xorInPlace } from './xor.js';

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
   * scan resumes at the record's end, as Core's LoadExternalBlockFile does.
   */
  check?: 'frame' | 'parse';
  /**
   * Yield views into the read buffers instead of copies. The buffers are reused: a view is
   * valid only until the next record is asked for (copy what is kept).
   */
  views?: boolean;
  /** Bytes read at a time (default 1 MiB); a record longer than that is read whole. */
  chunkSize?: number;
  /** Called for each issue as it is found. */
  onIssue?: (issue: BlockFileIssue) => void;
  /** End the whole read at the first issue. */
  stopOnIssue?: boolean;
}

/** A block record found by readBlockHeadersAsync: where it is, how long, and its 80-byte header. */
export interface BlockHeaderRecord {
  /** Path of the blk file the record is in. */
  readonly file: string;
  /** Where the block's first byte sits in the file, after its 8-byte record header. */
  readonly offset: number;
  /**
   * The block's length: as its record header gives it (the block itself is not read), unless what
   * follows the record was in the same window and was not a magic, when the block was read to
   * find where it ends, as a whole read does.
   */
  readonly length: number;
  /** The block header (a copy). */
  readonly header: Uint8Array;
}

/** What a read found, returned by the generators when they finish. */
export interface ReadBlocksSummary {
  files: number;
  records: number;
  /** Bytes of blocks yielded (without record headers); for a header read, the lengths the records claim. */
  blockBytes: number;
  /** Bytes read from the files. */
  bytesRead: number;
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
  // A key of another size would be applied wrongly (or throw a RangeError mid-read): misuse, said at once.
  if (xorKey !== undefined) checkXorKey(xorKey);
  const dir = statSync(path).isDirectory();
  const files = dir ? listBlockFiles(path) : [path];
  return { files, xorKey: xorKey ?? readXorKey(dir ? path : dirname(path)) };
}

function checkMagic(magic: Uint8Array): void {
  if (!(magic instanceof Uint8Array) || magic.length !== 4) throw new TypeError('magic must be 4 bytes');
}

/** What scanning a file finds, in file order: a record or an issue. */
export type BlockScanItem = { kind: 'record'; record: BlockRecord } | { kind: 'issue'; issue: BlockFileIssue };

/** What a scan in headers mode finds instead of a whole record. */
type ScanItem = BlockScanItem | { kind: 'header'; header: BlockHeaderRecord };

/** What a scan carries from one window of a file to the next (file offsets). */
interface ScanState {
  garbageStart: number;
  /** One past the last non-zero garbage byte. */
  garbageEnd: number;
  /**
   * After a record that runs past the end, the scan resumes inside it: what it meets there is
   * the same problem, already reported, so it is not reported again as garbage.
   */
  quietUntil: number;
  /**
   * Headers mode: the last record skipped by its length, until what follows it is seen. As in a
   * whole read, only a magic there (or the end of the file) vouches for the length; anything else
   * sends the scan back to read the record whole and go on where its block really ends.
   */
  unvouched?: { magicAt: number; size: number; end: number };
  /** Headers mode: the record to read whole in the next window, which starts at its magic. */
  rescan?: { magicAt: number; size: number };
  /**
   * The start of the garbage run whose bad-length magic was reported (-1: none). One is reported
   * a run, as the run itself is: a file of magics back to back, each one's length the next magic,
   * gave an issue every 4 bytes (~85 bytes of heap a byte of the file, all kept in the summary).
   */
  badLengthRun: number;
}

const newScanState = (): ScanState => ({ garbageStart: -1, garbageEnd: -1, quietUntil: -1, badLengthRun: -1 });

/**
 * Scan one de-obfuscated file image for records. Zero bytes are padding; any other byte that does
 * not start a record is garbage, reported as one issue per run (a run ends at the next record or
 * at the end of the file; zeros inside it do not split it).
 */
export function* scanBlockRecords(bytes: Uint8Array, file: string, opts: Pick<ReadBlocksOptions, 'magic' | 'check' | 'views'>): Generator<BlockScanItem> {
  checkMagic(opts.magic);
  for (const item of scanWindow(bytes, 0, true, file, opts, newScanState(), undefined)) {
    if (item.kind !== 'header') yield item;
  }
}

/**
 * Scan the window of a file that starts at file offset `base`. Unless the window reaches the end of
 * the file (`atEnd`), the scan stops where a record might continue past the window and returns that
 * offset: the next window must start there, with `state` carried over. Returns -1 at the end.
 *
 * Headers mode (`fileSize` given): a record is yielded as its place and header once those 80 bytes
 * are in the window, and the scan goes on where the record ends, which may be past the window (the
 * offset returned is then that end: the bytes in between are never read). Whether a record fits in
 * its file is judged against `fileSize`, and a length is held to what follows it as in a whole
 * read (a record it does not vouch for is read whole: the offset returned is then its magic, before
 * the window), so the records and issues are those of a whole read.
 */
function* scanWindow(
  bytes: Uint8Array,
  base: number,
  atEnd: boolean,
  file: string,
  opts: Pick<ReadBlocksOptions, 'magic' | 'check' | 'views'>,
  st: ScanState,
  fileSize: number | undefined,
): Generator<ScanItem, number> {
  const { magic } = opts;
  const parse = opts.check === 'parse';
  const m0 = magic[0]!;
  const m1 = magic[1]!;
  const m2 = magic[2]!;
  const m3 = magic[3]!;
  const len = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const flushGarbage = (): BlockScanItem | undefined => {
    if (st.garbageStart < 0) return undefined;
    const issue: BlockFileIssue = {
      code: 'garbage',
      file,
      offset: st.garbageStart,
      length: st.garbageEnd - st.garbageStart,
      message: `${st.garbageEnd - st.garbageStart} bytes that are not a block record at offset ${st.garbageStart}`,
    };
    st.garbageStart = st.garbageEnd = -1;
    return { kind: 'issue', issue };
  };
  const markGarbage = (from: number, to: number): void => {
    if (from < st.quietUntil) return;
    if (st.garbageStart < 0) st.garbageStart = from;
    st.garbageEnd = to;
  };

  const magicAt = (k: number): boolean => bytes[k] === m0 && bytes[k + 1] === m1 && bytes[k + 2] === m2 && bytes[k + 3] === m3;
  /**
   * Where the record whose block spans [start, end) by its length really ends: only the next magic
   * (or the window's end before the 4 bytes after it) vouches for the length; else the block is read
   * to find its end, or the length stands if no block decodes there.
   */
  const vouchedEnd = (start: number, end: number): number => (end + 4 <= len && !magicAt(end) ? (blockEndIn(bytes, start, end) ?? end) : end);
  const headerItem = (start: number, blockEnd: number): ScanItem => ({
    kind: 'header',
    header: { file, offset: base + start, length: blockEnd - start, header: bytes.slice(start, start + HEADER_SIZE) },
  });

  // i indexes the window; pos = base + i is the file offset that issues and records report.
  let i = 0;
  if (st.rescan !== undefined && st.rescan.magicAt === base) {
    // A record whose length nothing vouched for, read whole (its header was yielded before): on
    // where its block ends, or at its claimed end if no block decodes there.
    const end = BLOCK_RECORD_HEADER_SIZE + st.rescan.size;
    st.rescan = undefined;
    i = (end <= len ? blockEndIn(bytes, BLOCK_RECORD_HEADER_SIZE, end) : undefined) ?? end;
  }
  while (i < len) {
    const u = st.unvouched;
    if (u !== undefined && base + i === u.end) {
      if (i + 4 > len && !atEnd) return base + i;
      st.unvouched = undefined;
      if (i + 4 <= len && !magicAt(i)) {
        // Read the record again from its magic, whole.
        st.rescan = { magicAt: u.magicAt, size: u.size };
        return u.magicAt;
      }
    }
    const b = bytes[i]!;
    if (b === 0) {
      i++;
      continue;
    }
    const pos = base + i;
    if (b === m0 && i + 4 > len && !atEnd) return pos;
    if (b !== m0 || i + 4 > len || bytes[i + 1] !== m1 || bytes[i + 2] !== m2 || bytes[i + 3] !== m3) {
      if (b === m0 && i + 4 > len && bytes.subarray(i + 1).every((x, k) => x === magic[k + 1])) {
        // A magic cut short by the end of the file.
        const g = flushGarbage();
        if (g !== undefined) yield g;
        yield { kind: 'issue', issue: truncated(file, pos, 0, `record header cut short: ${len - i} of ${BLOCK_RECORD_HEADER_SIZE} bytes at offset ${pos}`) };
        return -1;
      }
      markGarbage(pos, pos + 1);
      i++;
      continue;
    }
    // A magic at pos.
    if (i + BLOCK_RECORD_HEADER_SIZE > len) {
      if (!atEnd) return pos;
      const g = flushGarbage();
      if (g !== undefined) yield g;
      if (pos >= st.quietUntil) {
        yield { kind: 'issue', issue: truncated(file, pos, 0, `record header cut short: ${len - i} of ${BLOCK_RECORD_HEADER_SIZE} bytes at offset ${pos}`) };
      }
      return -1;
    }
    const size = view.getUint32(i + 4, true);
    if (size < HEADER_SIZE || size > MAX_BLOCK_SERIALIZED_SIZE) {
      // Not a record: reported (the first of a garbage run), and its bytes join the run around them.
      if (pos >= st.quietUntil && (st.garbageStart < 0 || st.badLengthRun !== st.garbageStart)) {
        yield {
          kind: 'issue',
          issue: { code: 'bad-length', file, offset: pos, length: size, message: `record at offset ${pos} claims ${size} bytes, outside ${HEADER_SIZE}..${MAX_BLOCK_SERIALIZED_SIZE}` },
        };
      }
      markGarbage(pos, pos + 4);
      st.badLengthRun = st.garbageStart;
      i++;
      continue;
    }
    const start = i + BLOCK_RECORD_HEADER_SIZE;
    const end = start + size;
    // Headers mode: where the file ends. A window that reaches the end says so itself (the file
    // may have shrunk since its size was taken, as a whole read finds too).
    const headersEnd = fileSize === undefined ? undefined : atEnd ? base + len : fileSize;
    if (headersEnd !== undefined && base + end <= headersEnd) {
      // Headers mode, a record that fits in its file: its header, then on past its end.
      if (start + HEADER_SIZE > len) {
        // At the end of the file the window holds the whole record (size >= 80 puts the header inside).
        if (atEnd) throw new Error(`block file scan: record at offset ${pos} fits in ${basename(file)} but not in its last window`);
        return pos;
      }

      const g = flushGarbage();
      if (g !== undefined) yield g;
      // As in a whole read, only a magic after the record vouches for its length; else the block
      // is read to find its end. When the window does not show what follows, a later one decides
      // (state.unvouched), and the record's header is yielded with the length it claims.
      if (end + 4 > len && base + end < headersEnd) st.unvouched = { magicAt: pos, size, end: base + end };
      const next = vouchedEnd(start, end);
      yield headerItem(start, next);
      i = next;
      continue;
    }
    if (headersEnd !== undefined || end > len) {
      // Past the end of the file (headers mode knows without reading it), or of the window.
      const fileEnd = headersEnd ?? base + len;
      // Headers mode too reads to the end of the file here: a whole block there is a record.
      if (!atEnd) return pos;
      const g = flushGarbage();
      if (g !== undefined) yield g;
      // Core reads the block up to the record's limit: a whole block before the end of the file
      // is read, whatever its damaged length claimed (the records around it are found as usual).
      // Once one such record has failed, magics inside it that also claim past the end are not
      // decoded again: each try reads on to where its block fails, and a file of nested records
      // (crafted: ~1,000 per 133 KB) took time that grew with the square of its size (1.5 MB:
      // 6.8 s, 4 MB: 115 s). Core reads no further in the file: its skip to such a record's end
      // fails at the end of the file.
      const whole = pos >= st.quietUntil ? blockEndIn(bytes, start, len) : undefined;
      if (whole !== undefined && headersEnd !== undefined) {
        yield headerItem(start, whole);
        i = whole;
        continue;
      }
      if (whole !== undefined) {
        const raw = opts.views ? bytes.subarray(start, whole) : bytes.slice(start, whole);
        const r = parse ? decodeBlock(raw) : undefined;
        yield { kind: 'record', record: r?.ok === true ? { file, offset: pos + BLOCK_RECORD_HEADER_SIZE, raw, block: r.block } : { file, offset: pos + BLOCK_RECORD_HEADER_SIZE, raw } };
        i = whole;
        continue;
      }
      if (pos >= st.quietUntil) {
        yield { kind: 'issue', issue: truncated(file, pos, size, `record at offset ${pos} claims ${size} bytes, the file holds ${fileEnd - base - start} more`) };
      }
      // Core resumes one byte after the magic: the length itself may be what is damaged.
      st.quietUntil = Math.max(st.quietUntil, fileEnd);
      i++;
      continue;
    }
    // Core's LoadExternalBlockFile deserializes the block from the record's start under the
    // record's limit and, when it decodes, goes on where the block ended (nRewind =
    // blkdat.GetPos()): a length that claims too much does not swallow the records after it.
    // Only the next magic or the end of the file vouches for a length (every record Core wrote
    // but the last of a file, before its zero padding): zero words are common inside block data
    // (a locktime of 0, an amount's high bytes). Else the block is read to find its end; bytes
    // that are not a block are given whole, and the scan goes on at the record's end, as Core's.
    // The 4 bytes after the record decide: a window that ends before them is joined to the next.
    if (!atEnd && end + 4 > len) return pos;
    let blockEnd = vouchedEnd(start, end);
    const slice = bytes.subarray(start, blockEnd);
    // A copy, unless views were asked for, so a kept record does not pin the window's buffer.
    let raw = opts.views ? slice : slice.slice();
    let block: Block | undefined;
    if (parse) {
      let r = decodeBlock(raw);
      if (!r.ok && r.code === 'trailing-data') {
        // A length that covers bytes after its block: the block is what Core reads, and the
        // scan goes on where it ends (nRewind = blkdat.GetPos()), the bytes after it garbage.
        blockEnd = start + r.offset;
        raw = raw.subarray(0, r.offset);
        r = decodeBlock(raw);
      }
      if (!r.ok) {
        const g = flushGarbage();
        if (g !== undefined) yield g;
        if (pos >= st.quietUntil) {
          yield { kind: 'issue', issue: { code: 'bad-block', file, offset: pos, length: size, message: `record at offset ${pos} is not a block: ${r.message}` } };
        }
        // As Core's LoadExternalBlockFile: once a record's header is read, the scan goes on at the
        // record's end (nRewind = nBlockPos + nSize) whether or not the block deserializes. Going on
        // one byte after the magic decoded every magic inside the record again: quadratic in a
        // file of nested forged records (15.6 s for 4 MB).
        i = end;
        continue;
      }
      block = r.block;
    }
    const g = flushGarbage();
    if (g !== undefined) yield g;
    const offset = base + start;
    yield { kind: 'record', record: block === undefined ? { file, offset, raw } : { file, offset, raw, block } };
    i = blockEnd;
  }
  // Past the window only after a record skipped in headers mode.
  if (!atEnd) return base + Math.max(i, len);
  const g = flushGarbage();
  if (g !== undefined) yield g;
  return -1;
}

/** Where the block that starts at bytes[start] ends, if one decodes before `limit`. */
function blockEndIn(bytes: Uint8Array, start: number, limit: number): number | undefined {
  try {
    const r = new ByteReader(bytes.subarray(start, limit));
    Block.read(r);
    return start + r.offset;
  } catch {
    return undefined;
  }
}

function truncated(file: string, offset: number, length: number, message: string): BlockFileIssue {
  return { code: 'truncated', file, offset, length, message };
}

function newSummary(): ReadBlocksSummary {
  return { files: 0, records: 0, blockBytes: 0, bytesRead: 0, issues: [], stopped: false };
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

/** Bytes read from a file at a time (a record longer than this is read whole). */
const DEFAULT_CHUNK = 1 << 20;

/**
 * One file read window by window: what a window's scan found, the summary updated, and where the
 * next window starts. Windows keep the memory a file costs to about two chunks, whatever its size.
 */
class FileScan {
  private readonly state = newScanState();
  /** File offset of `tail[0]`: the unscanned end of the last window. */
  private base = 0;
  private tail: Uint8Array = new Uint8Array(0);
  /** How far the file has been read. */
  readPos = 0;
  done = false;
  /**
   * Buffers reused window after window, two of each kind: a window's records (views) and its
   * unscanned tail stay intact while the next window is read and joined to that tail. A fresh
   * buffer a window made ~2 MiB of garbage per MiB read, which held RSS up until a full GC.
   */
  private readonly readBufs: Uint8Array[] = [];
  private readonly joinBufs: Uint8Array[] = [];
  private windows = 0;

  constructor(
    readonly file: string,
    readonly size: number,
    private readonly opts: ReadBlocksOptions,
    private readonly xorKey: Uint8Array | undefined,
    private readonly chunk: number,
    /** Read records' headers only (readBlockHeadersAsync), skipping the blocks. */
    private readonly headersOnly = false,
  ) {}

  /** The buffer the next read goes into (`length` bytes of a reused one). */
  readBuffer(length: number): Uint8Array {
    return reuse(this.readBufs, this.windows & 1, length);
  }

  /** Where the next read starts and how many bytes it takes (at least what the record at hand needs). */
  nextRead(): { at: number; length: number } {
    let need = this.chunk;
    const rescan = this.state.rescan;
    // A record read again whole, with as much again after it: records nested in it, each starting
    // where the block before it ends and claiming to run just past the window, were otherwise each
    // read again whole from their magic (n such records of s bytes read n × s bytes). With the
    // window twice the record, the next one read again starts at least a record further on, or
    // claims twice as much (at most MAX_BLOCK_SERIALIZED_SIZE): bytes read stay a few times the file.
    if (rescan !== undefined) need = Math.max(need, 2 * (BLOCK_RECORD_HEADER_SIZE + rescan.size) + 4);
    const t = this.tail;
    if (t.length >= BLOCK_RECORD_HEADER_SIZE) {
      const size = new DataView(t.buffer, t.byteOffset, t.length).getUint32(4, true);
      // Headers mode reads a record whole only when it claims to run past the end of the file.
      if (size <= MAX_BLOCK_SERIALIZED_SIZE && (!this.headersOnly || this.base + BLOCK_RECORD_HEADER_SIZE + size > this.size)) need = Math.max(need, BLOCK_RECORD_HEADER_SIZE + size - t.length);
    }
    return { at: this.readPos, length: Math.min(need, this.size - this.readPos) };
  }

  /** Scan the bytes just read (at readPos); returns the window's records (or headers) and whether the read must stop. */
  take(bytes: Uint8Array, summary: ReadBlocksSummary): { records: BlockRecord[]; headers: BlockHeaderRecord[]; stop: boolean } {
    xorInPlace(bytes, this.xorKey, this.readPos);
    this.readPos += bytes.length;
    summary.bytesRead += bytes.length;
    let window: Uint8Array = bytes;
    if (this.tail.length > 0) {
      window = reuse(this.joinBufs, this.windows & 1, this.tail.length + bytes.length);
      window.set(this.tail);
      window.set(bytes, this.tail.length);
    }
    this.windows++;
    // A read that comes back empty: the file shrank since its size was taken.
    const atEnd = this.readPos >= this.size || bytes.length === 0;
    const records: BlockRecord[] = [];
    const headers: BlockHeaderRecord[] = [];
    const it = scanWindow(window, this.base, atEnd, this.file, this.opts, this.state, this.headersOnly ? this.size : undefined);
    for (;;) {
      const r = it.next();
      if (r.done === true) {
        if (r.value < 0) {
          this.done = true;
          this.tail = new Uint8Array(0);
        } else if (r.value < this.base) {
          // Headers mode doubts a record it skipped: read again from its magic (state.rescan).
          this.tail = new Uint8Array(0);
          this.base = r.value;
          this.readPos = r.value;
          this.done = false;
        } else {
          this.tail = window.subarray(r.value - this.base);
          this.base = r.value;
          if (r.value > this.readPos) {
            // Headers mode skipped a block that runs past the window: read on from its end.
            this.readPos = r.value;
            this.done = r.value >= this.size;
          }
        }
        return { records, headers, stop: false };
      }
      const item = r.value;
      if (item.kind === 'record') {
        summary.records++;
        summary.blockBytes += item.record.raw.length;
        records.push(item.record);
      } else if (item.kind === 'header') {
        summary.records++;
        summary.blockBytes += item.header.length;
        headers.push(item.header);
      } else if (report(item.issue, this.opts, summary)) {
        return { records, headers, stop: true };
      }
    }
  }
}

/**
 * The block records of a blocks directory (blk*.dat in numeric order, xor.dat applied) or of one
 * file, read a window at a time. Problems in the data are reported (onIssue, and the summary the
 * generator returns), never thrown; a missing path or a bad option throws.
 */
export function* readBlocks(path: string, opts: ReadBlocksOptions): Generator<BlockRecord, ReadBlocksSummary> {
  checkMagic(opts.magic);
  const { files, xorKey } = resolveBlockFiles(path, opts.xorKey);
  const summary = newSummary();
  const chunk = chunkSize(opts);
  for (const file of files) {
    let fd: number;
    let scan: FileScan;
    try {
      fd = openSync(file, 'r');
      scan = new FileScan(file, fstatSync(fd).size, opts, xorKey, chunk);
    } catch (err) {
      if (report(readError(file, err), opts, summary)) return summary;
      continue;
    }
    summary.files++;
    try {
      while (!scan.done) {
        const { at, length } = scan.nextRead();
        let bytes: Uint8Array;
        try {
          bytes = readFully(fd, at, length, scan.readBuffer(length));
        } catch (err) {
          if (report(readError(file, err), opts, summary)) return summary;
          break;
        }
        const { records, stop } = scan.take(bytes, summary);
        yield* records;
        if (stop) return summary;
      }
    } finally {
      closeSync(fd);
    }
  }
  return summary;
}

/**
 * readBlocks, reading a file's next window while the records of the current one are consumed.
 * Holds about two chunks of a file in memory (plus any record longer than that).
 */
export async function* readBlocksAsync(path: string, opts: ReadBlocksOptions): AsyncGenerator<BlockRecord, ReadBlocksSummary> {
  return yield* eachWindow(scanFilesAsync(path, opts, false), (w) => w.records);
}

/** What `pick` takes from each window of `scan`; a consumer that stops early (break, a throw) ends the scan too, which closes its file. */
async function* eachWindow<T>(
  scan: AsyncGenerator<{ records: BlockRecord[]; headers: BlockHeaderRecord[] }, ReadBlocksSummary>,
  pick: (w: { records: BlockRecord[]; headers: BlockHeaderRecord[] }) => T[],
): AsyncGenerator<T, ReadBlocksSummary> {
  try {
    for (;;) {
      const r = await scan.next();
      if (r.done === true) return r.value;
      yield* pick(r.value);
    }
  } finally {
    await scan.return(undefined as unknown as ReadBlocksSummary);
  }
}

/** Bytes a header read takes at a time by default: a few dozen small blocks, or one large block's start. */
const DEFAULT_HEADER_CHUNK = 16 * 1024;

/**
 * The place and header of every block record, as readBlocksAsync would find them (the same records
 * and issues, xor.dat applied), without reading the blocks: after a record's header the read goes
 * on where the record ends. The import's headers-first pass reads ~1% of mainnet-sized files this
 * way. `chunkSize` defaults to 16 KiB here. A file that shrinks while it is read may leave a
 * record's header found and its block cut off: the import's read of the blocks reports that.
 */
export async function* readBlockHeadersAsync(
  path: string,
  opts: Omit<ReadBlocksOptions, 'check' | 'views'>,
): AsyncGenerator<BlockHeaderRecord, ReadBlocksSummary> {
  // Frame checks only (the blocks are not read), whatever a caller without types passed.
  return yield* eachWindow(scanFilesAsync(path, { ...opts, check: 'frame', views: false, chunkSize: opts.chunkSize ?? DEFAULT_HEADER_CHUNK }, true), (w) => w.headers);
}

/** The files under `path` window by window (the next read in flight while a window is consumed). */
async function* scanFilesAsync(
  path: string,
  opts: ReadBlocksOptions,
  headersOnly: boolean,
): AsyncGenerator<{ records: BlockRecord[]; headers: BlockHeaderRecord[] }, ReadBlocksSummary> {
  checkMagic(opts.magic);
  const { files, xorKey } = resolveBlockFiles(path, opts.xorKey);
  const summary = newSummary();
  const chunk = chunkSize(opts);
  for (const file of files) {
    let fh: FileHandle;
    let scan: FileScan;
    try {
      fh = await openFile(file, 'r');
    } catch (err) {
      if (report(readError(file, err), opts, summary)) return summary;
      continue;
    }
    try {
      try {
        scan = new FileScan(file, (await fh.stat()).size, opts, xorKey, chunk, headersOnly);
      } catch (err) {
        if (report(readError(file, err), opts, summary)) return summary;
        continue;
      }
      summary.files++;
      const read = (r: { at: number; length: number }): Promise<Uint8Array | BlockFileIssue> => readFullyAsync(fh, r.at, r.length, scan.readBuffer(r.length)).catch((err: unknown) => readError(file, err));
      let next = read(scan.nextRead());
      while (!scan.done) {
        const got = await next;
        if (!(got instanceof Uint8Array)) {
          if (report(got, opts, summary)) return summary;
          break;
        }
        const { records, headers, stop } = scan.take(got, summary);
        // The next window is read while this one's records are consumed.
        if (!scan.done && !stop) next = read(scan.nextRead());
        yield { records, headers };
        if (stop) return summary;
      }
    } finally {
      await fh.close();
    }
  }
  return summary;
}

function chunkSize(opts: ReadBlocksOptions): number {
  const c = opts.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(c) || c < 1) throw new RangeError('chunkSize must be a positive integer');
  return c;
}

/** `length` bytes of the reusable buffer `bufs[i]`, grown (to at least a chunk) when too small. */
function reuse(bufs: Uint8Array[], i: number, length: number): Uint8Array {
  let b = bufs[i];
  if (b === undefined || b.length < length) {
    // A power of two: a join is a window plus a tail of varying length, and a buffer of exactly
    // the last length would be outgrown again (and thrown away) nearly every window.
    b = new Uint8Array(2 ** Math.ceil(Math.log2(Math.max(length, 1))));
    bufs[i] = b;
  }
  return b.subarray(0, length);
}

function readFully(fd: number, at: number, length: number, buf: Uint8Array): Uint8Array {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, at + done);
    if (n === 0) return buf.subarray(0, done); // the file shrank: what is there is scanned
    done += n;
  }
  return buf;
}

async function readFullyAsync(fh: FileHandle, at: number, length: number, buf: Uint8Array): Promise<Uint8Array> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, at + done);
    if (bytesRead === 0) return buf.subarray(0, done);
    done += bytesRead;
  }
  return buf;
}

/**
 * The `length` bytes at `offset` in `file`, de-obfuscated with `xorKey`: a record's block read
 * again where an earlier scan found it (the import keeps blocks that wait for their parent as
 * such positions, as Core's mapBlocksUnknownParent does). Throws when the file no longer has them.
 */
export async function readRecordAt(file: string, offset: number, length: number, xorKey: Uint8Array | undefined): Promise<Uint8Array> {
  const fh = await openFile(file, 'r');
  try {
    const buf = await readFullyAsync(fh, offset, length, new Uint8Array(length));
    if (buf.length !== length) throw new Error(`${basename(file)} ends before the ${length}-byte block at ${offset}`);
    xorInPlace(buf, xorKey, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Read every record into memory: for tests and small directories only. */
export function readAllBlocks(path: string, opts: ReadBlocksOptions): { records: BlockRecord[]; summary: ReadBlocksSummary } {
  const records: BlockRecord[] = [];
  // Copies whatever was asked: every record is kept, and views would not outlast the next one.
  const it = readBlocks(path, { ...opts, views: false });
  for (;;) {
    const r = it.next();
    if (r.done) return { records, summary: r.value };
    records.push(r.value);
  }
}
