// Raw blocks and undo data in flat files, as Core keeps them (blocks/blk?????.dat and
// blocks/rev?????.dat, Core's FlatFileSeq): records appended one after another, never rewritten,
// read back by position. LMDB keeps only where each record is (FlatFilePos) and where each file
// ends.
//
// Why not in LMDB: every page of LMDB's map that a read touches becomes resident, and the kernel
// maps the cached pages around it too (fault-around), so with blocks and undo data in the same
// file as the coins almost the whole file stayed resident: RSS grew with the chain (97 MB of a
// 118 MB data.mdb after 8,000 small blocks). Written with pwrite and read with pread, these files
// live in the page cache, which the kernel reclaims, not in the process.
//
// Crash safety: a record is written (and, when durable, fdatasync'ed) before the LMDB transaction
// that stores its position and the file's new end commits. A crash in between leaves bytes past the
// committed end, which nothing points to and the next append overwrites.

import { closeSync, constants, fdatasync, fsyncSync, mkdirSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreError, wrapStoreError } from './store-error.js';

/** Core's MAX_BLOCKFILE_SIZE: a new file is started rather than grow one past this. */
export const MAX_FLAT_FILE_SIZE = 128 * 1024 * 1024;

/** Magic (4) and length (4) before each record, as in Core's blk and rev files. */
const RECORD_HEADER = 8;

/**
 * Appends are gathered in memory up to this many bytes and written in one system call (two
 * writev calls a block were 5% of an import whose scripts assumevalid skips). The store writes
 * them out before every commit that points at them; reads of them write them out first.
 */
const WRITE_BUFFER = 1 << 20;

/**
 * Files of one sequence kept open at once (a mainnet store has thousands of 128 MiB files); the
 * least recently used, preferably one already synced, is closed for another. Data written and not
 * yet synced survives a close: fdatasync syncs a file's data whichever descriptor wrote it.
 */
const MAX_OPEN_FILES = 8;

/** Where a record's bytes sit: file number, offset of its first byte (after the header), length. */
export interface FlatFilePos {
  file: number;
  offset: number;
  length: number;
}

export const FLAT_FILE_POS_LENGTH = 12;

export function encodeFlatFilePos(pos: FlatFilePos): Uint8Array {
  const out = new Uint8Array(FLAT_FILE_POS_LENGTH);
  const v = new DataView(out.buffer);
  v.setUint32(0, pos.file, true);
  v.setUint32(4, pos.offset, true);
  v.setUint32(8, pos.length, true);
  return out;
}

export function decodeFlatFilePos(record: Uint8Array): FlatFilePos {
  if (record.length !== FLAT_FILE_POS_LENGTH) throw new StoreError('corrupt', `corrupt flat file position of ${record.length} bytes`);
  const v = new DataView(record.buffer, record.byteOffset, record.length);
  return { file: v.getUint32(0, true), offset: v.getUint32(4, true), length: v.getUint32(8, true) };
}

/** The end of the file being appended to (Core's CBlockFileInfo, reduced to its size). */
export interface FlatFileCursor {
  file: number;
  end: number;
}

/** One sequence of numbered files (blk or rev) in one directory. */
export class FlatFileSeq {
  private readonly fds = new Map<number, { fd: number; writable: boolean }>();
  /** Files written since the last sync. */
  private readonly unsynced = new Set<number>();
  /** The file whose fdatasync is in flight (sync() goes one file at a time, and the store's calls of it never overlap). */
  private syncing: number | undefined;
  /** A file was started since the last sync: its directory entry must be synced too. */
  private newFile = false;
  private dirCreated = false;
  /** Appends not written yet: `bufLen` bytes that belong at `bufStart` of file `bufFile`. */
  private buf: Uint8Array | undefined;
  private bufLen = 0;
  private bufFile = 0;
  private bufStart = 0;

  /**
   * `cursor` is the committed end (from LMDB); appends start there, whatever the file holds
   * past it.
   */
  constructor(
    private readonly dir: string,
    private readonly prefix: 'blk' | 'rev',
    private readonly magic: Uint8Array,
    private cursor: FlatFileCursor,
    private readonly maxFileSize = MAX_FLAT_FILE_SIZE,
  ) {}

  /** Where the next append goes. */
  get end(): FlatFileCursor {
    return { ...this.cursor };
  }

  private path(file: number): string {
    return join(this.dir, `${this.prefix}${String(file).padStart(5, '0')}.dat`);
  }

  private fd(file: number, write: boolean): number {
    const open = this.fds.get(file);
    if (open !== undefined && (open.writable || !write)) {
      // Least recently used first: that one is closed when too many are open.
      this.fds.delete(file);
      this.fds.set(file, open);
      return open.fd;
    }
    this.closeFile(file);
    if (this.fds.size >= MAX_OPEN_FILES) {
      // Never one an fdatasync is using; preferably one with nothing waiting for fdatasync, so
      // that sync's errors come from the descriptor that wrote. None free: one more stays open.
      let victim: number | undefined;
      for (const f of this.fds.keys()) {
        if (f === this.syncing) continue;
        victim ??= f;
        if (!this.unsynced.has(f)) {
          victim = f;
          break;
        }
      }
      if (victim !== undefined) this.closeFile(victim);
    }
    if (write && !this.dirCreated) {
      mkdirSync(this.dir, { recursive: true });
      this.dirCreated = true;
    }
    const fd = openSync(this.path(file), write ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY, 0o644);
    this.fds.set(file, { fd, writable: write });
    return fd;
  }

  /** Write one record at the cursor (a new file when it would pass the size limit) and move the cursor past it. */
  append(data: Uint8Array): FlatFilePos {
    const size = RECORD_HEADER + data.length;
    if (this.cursor.end > 0 && this.cursor.end + size > this.maxFileSize) {
      this.cursor = { file: this.cursor.file + 1, end: 0 };
    }
    const { file, end } = this.cursor;
    if (end === 0) this.newFile = true;
    if (this.bufLen > 0 && (file !== this.bufFile || this.bufLen + size > WRITE_BUFFER)) this.writeOut();
    if (size > WRITE_BUFFER) {
      const head = new Uint8Array(RECORD_HEADER);
      head.set(this.magic);
      new DataView(head.buffer).setUint32(4, data.length, true);
      try {
        writeRecord(this.fd(file, true), head, data, end);
      } catch (err) {
        throw wrapStoreError(`writing ${this.path(file)}`, err);
      }
    } else {
      this.buf ??= new Uint8Array(WRITE_BUFFER);
      if (this.bufLen === 0) {
        this.bufFile = file;
        this.bufStart = end;
      }
      const at = this.bufLen;
      this.buf.set(this.magic, at);
      new DataView(this.buf.buffer).setUint32(at + 4, data.length, true);
      this.buf.set(data, at + RECORD_HEADER);
      this.bufLen += size;
    }
    this.unsynced.add(file);
    this.cursor = { file, end: end + size };
    return { file, offset: end + RECORD_HEADER, length: data.length };
  }

  /** Write the gathered appends to their file (before a commit records where they are). */
  writeOut(): void {
    if (this.bufLen === 0 || this.buf === undefined) return;
    const fd = this.fd(this.bufFile, true);
    try {
      for (let done = 0; done < this.bufLen; ) done += writeSync(fd, this.buf, done, this.bufLen - done, this.bufStart + done);
    } catch (err) {
      throw wrapStoreError(`writing ${this.path(this.bufFile)}`, err);
    }
    this.bufLen = 0;
  }

  /** Write out the gathered appends, then fdatasync every file written since the last sync (off this thread). */
  async sync(): Promise<void> {
    this.writeOut();
    const files = [...this.unsynced];
    this.unsynced.clear();
    try {
      // One file at a time (almost always one: the file being appended to), so that no more
      // than MAX_OPEN_FILES are open.
      for (const file of files) {
        const fd = this.fd(file, true);
        // Kept open until its fdatasync is done: appends meanwhile may open other files.
        this.syncing = file;
        await new Promise<void>((resolve, reject) => {
          fdatasync(fd, (err) => {
            this.syncing = undefined;
            if (err === null) resolve();
            else reject(wrapStoreError(`syncing ${this.path(file)}`, err));
          });
        });
      }
    } catch (err) {
      // Not known to be on disk: the next sync (before a retried commit) syncs them again.
      for (const file of files) this.unsynced.add(file);
      throw err;
    }
    // A new file is durable only once the directory entry naming it is.
    if (this.newFile) {
      this.newFile = false;
      syncDir(this.dir);
      syncDir(dirname(this.dir));
    }
  }

  /** The record at `pos` (in a buffer of its own), checked against its header. */
  read(pos: FlatFilePos): Uint8Array {
    if (this.bufLen > 0 && pos.file === this.bufFile && pos.offset + pos.length > this.bufStart) this.writeOut();
    const head = new Uint8Array(RECORD_HEADER);
    // Memory of its own that is not zeroed first: the read fills all of it or nothing is returned.
    // Zeroing cost a third of a 1.6 MB block's read (bench/store). A plain Uint8Array view, so
    // that slice() copies as it does on any other block.
    const unzeroed = Buffer.allocUnsafeSlow(pos.length);
    const data = new Uint8Array(unzeroed.buffer, unzeroed.byteOffset, pos.length);
    let ok: boolean;
    try {
      const fd = this.fd(pos.file, false);
      ok = readSync(fd, head, 0, RECORD_HEADER, pos.offset - RECORD_HEADER) === RECORD_HEADER && readAll(fd, data, pos.offset);
    } catch (err) {
      throw wrapStoreError(`reading ${this.path(pos.file)}`, err);
    }
    if (!ok || !this.magic.every((b, i) => head[i] === b) || new DataView(head.buffer).getUint32(4, true) !== pos.length) {
      throw new StoreError('corrupt', `no ${pos.length}-byte record at offset ${pos.offset} of ${this.path(pos.file)}`);
    }
    return data;
  }

  private closeFile(file: number): void {
    const open = this.fds.get(file);
    if (open === undefined) return;
    this.fds.delete(file);
    closeSync(open.fd);
  }

  /** Close the files; appends still gathered are written first (an error is thrown after closing). */
  close(): void {
    let error: unknown;
    try {
      this.writeOut();
    } catch (err) {
      error = err;
    }
    for (const file of [...this.fds.keys()]) this.closeFile(file);
    if (error !== undefined) throw error;
  }
}

/** Header and data at `position`, in one system call unless the kernel takes less. */
function writeRecord(fd: number, head: Uint8Array, data: Uint8Array, position: number): void {
  const n = writevSync(fd, [head, data], position);
  if (n === head.length + data.length) return;
  const all = new Uint8Array(head.length + data.length);
  all.set(head);
  all.set(data, head.length);
  for (let done = n; done < all.length; ) done += writeSync(fd, all, done, all.length - done, position + done);
}

/** Fill `data` from `position`; false when the file ends first. */
function readAll(fd: number, data: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < data.length) {
    const n = readSync(fd, data, done, data.length - done, position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY);
  } catch {
    return; // not every platform opens directories
  }
  try {
    fsyncSync(fd);
  } catch {
    // as above
  } finally {
    closeSync(fd);
  }
}
