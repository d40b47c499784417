// Writing blk*.dat files as Bitcoin Core does: each block as magic, uint32 LE length and the
// block, appended to blk00000.dat, blk00001.dat, … with a new file when the next record would
// reach the size limit, obfuscated with the xor.dat key when one is given.

import { closeSync, existsSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isZero } from '../primitives/bytes.js';
import { BLOCK_RECORD_HEADER_SIZE, listBlockFiles } from './reader.js';
import { checkXorKey, writeXorKey, xorInPlace, XOR_KEY_FILE } from './xor.js';

/** Core's MAX_BLOCKFILE_SIZE: 128 MiB. */
export const MAX_BLOCKFILE_SIZE = 0x8000000;

export interface BlockFileWriterOptions {
  /** A new file is started when a record would bring the current one to this size (Core: 128 MiB). */
  maxFileSize?: number;
  /** Obfuscation key written to xor.dat and applied to every byte (8 bytes; all zeros: none). */
  xorKey?: Uint8Array;
  /** Delete blk*.dat and xor.dat already in the directory; without it their presence throws. */
  overwrite?: boolean;
}

export interface BlockPosition {
  /** Path of the blk file. */
  readonly file: string;
  /** File position of the block itself, after its 8-byte header (Core's FlatFilePos.nPos). */
  readonly offset: number;
}

/** Core's blk file name: blk + five-digit number + .dat. */
export function blockFileName(n: number): string {
  return `blk${String(n).padStart(5, '0')}.dat`;
}

export class BlockFileWriter {
  private readonly magic: Uint8Array;
  private readonly maxFileSize: number;
  private readonly xorKey: Uint8Array | undefined;
  private fd: number | undefined;
  private fileNumber = -1;
  private fileSize = 0;
  private readonly written: string[] = [];
  private scratch = new Uint8Array(1 << 16);
  private closed = false;

  constructor(
    readonly dir: string,
    magic: Uint8Array,
    opts: BlockFileWriterOptions = {},
  ) {
    if (!(magic instanceof Uint8Array) || magic.length !== 4) throw new TypeError('magic must be 4 bytes');
    this.magic = magic.slice();
    this.maxFileSize = opts.maxFileSize ?? MAX_BLOCKFILE_SIZE;
    if (!Number.isInteger(this.maxFileSize) || this.maxFileSize <= BLOCK_RECORD_HEADER_SIZE) {
      throw new RangeError(`maxFileSize must be an integer above ${BLOCK_RECORD_HEADER_SIZE}`);
    }
    if (opts.xorKey !== undefined) checkXorKey(opts.xorKey);
    mkdirSync(dir, { recursive: true });
    const existing = listBlockFiles(dir);
    const hasKey = existsSync(join(dir, XOR_KEY_FILE));
    if (existing.length > 0 || hasKey) {
      if (!opts.overwrite) throw new Error(`${dir} already holds block files; pass overwrite: true to replace them`);
      for (const f of existing) unlinkSync(f);
      if (hasKey) unlinkSync(join(dir, XOR_KEY_FILE));
    }
    if (opts.xorKey !== undefined) {
      writeXorKey(dir, opts.xorKey);
      this.xorKey = isZero(opts.xorKey) ? undefined : opts.xorKey.slice();
    }
  }

  /** Paths of the files written so far, in order. */
  get files(): readonly string[] {
    return this.written;
  }

  /** Append one serialized block; returns where it landed. */
  append(block: Uint8Array): BlockPosition {
    if (this.closed) throw new Error('BlockFileWriter is closed');
    const recordSize = BLOCK_RECORD_HEADER_SIZE + block.length;
    // Core's FindNextBlockPos: move on when nSize + nAddSize >= max (never leave a file empty).
    if (this.fd === undefined || (this.fileSize > 0 && this.fileSize + recordSize >= this.maxFileSize)) this.nextFile();
    if (this.scratch.length < recordSize) this.scratch = new Uint8Array(Math.max(recordSize, 2 * this.scratch.length));
    const rec = this.scratch.subarray(0, recordSize);
    rec.set(this.magic, 0);
    new DataView(rec.buffer, rec.byteOffset, 8).setUint32(4, block.length, true);
    rec.set(block, BLOCK_RECORD_HEADER_SIZE);
    xorInPlace(rec, this.xorKey, this.fileSize);
    let done = 0;
    while (done < recordSize) done += writeSync(this.fd!, rec, done, recordSize - done, this.fileSize + done);
    const pos: BlockPosition = { file: this.written[this.written.length - 1]!, offset: this.fileSize + BLOCK_RECORD_HEADER_SIZE };
    this.fileSize += recordSize;
    return pos;
  }

  /** Write raw bytes at the end of the current file (obfuscated like the rest): for tests that need padding or damage. */
  appendRaw(bytes: Uint8Array): void {
    if (this.closed) throw new Error('BlockFileWriter is closed');
    if (this.fd === undefined) this.nextFile();
    const copy = bytes.slice();
    xorInPlace(copy, this.xorKey, this.fileSize);
    let done = 0;
    while (done < copy.length) done += writeSync(this.fd!, copy, done, copy.length - done, this.fileSize + done);
    this.fileSize += copy.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private nextFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fileNumber++;
    const path = join(this.dir, blockFileName(this.fileNumber));
    this.fd = openSync(path, 'w');
    this.fileSize = 0;
    this.written.push(path);
  }
}

