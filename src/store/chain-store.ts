// The persistent chain state on LMDB (lmdb-js): the UTXO set, the block index and the tip, in one
// environment whose block commits are single atomic write transactions; raw blocks and undo data
// in flat files beside it (flat-files.ts), whose positions those same transactions record.
//
// Named databases (keys and values are raw bytes; layouts in records.ts and flat-files.ts):
//   coins   outpoint (36) → coin record        index   block hash → 120-byte entry
//   blocks  block hash → position of the raw block in blocks/blk?????.dat (12 bytes)
//   undo    block hash → position of its undo record (spent coins in input order) in blocks/rev?????.dat
//   meta    name → value (tip, schema, network, where the flat files end, and what later features store)
//   sources block-source key → score record (bytes; reserved for source scoring)
//
// Reads are synchronous and go through getBinaryFast, which returns ONE shared buffer that the next
// read overwrites and whose native length is the whole 16 MiB scratch area (only its own `length`
// property is the value's length): every read takes `subarray(0, buf.length)` and decodes or copies
// before anything else touches LMDB.
//
// Writes are lmdb-js batches: this thread only appends encoded instructions to a shared buffer and
// lmdb-js's writer thread runs them, commits and fsyncs as ONE LMDB transaction, aborted whole if any
// operation fails. 5k deletes + 5k puts on 500k keys kept this thread busy 17 ms as a batch and 55 ms
// as a (child) transaction callback, whose puts run here (A/B in one process, same total latency).
// Checks that may refuse a write (the tip, the spent coins) run before the batch, against the last
// commit: writes are serialized through one queue, so nothing commits between check and batch.
//
// Map size: lmdb-js patches LMDB to grow the map when a transaction needs more pages (mdb_page_alloc
// doubles it, also in the middle of a transaction), so a large import cannot hit MDB_MAP_FULL
// (measured: 1.6 GB written from the default 128 KiB map). But it keeps every old mapping alive for
// readers, and the pages resident in each stay resident: after 8,000 small blocks 253 MB of a 118 MB
// file were. So on 64-bit the map starts at INITIAL_MAP_SIZE of address space (not of disk: without
// a write map the file grows with the data, not with the map) and is mapped once.

import { open, type Database, type RootDatabase } from 'lmdb';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Coin, CoinView } from '../consensus/coins.js';
import { getParams } from '../consensus/params.js';
import { NETWORK_NAMES, type NetworkName } from '../consensus/script-flags.js';
import { equalBytes, hashToHex } from '../primitives/bytes.js';
import { ByteSlab } from '../primitives/slab.js';
import {
  BLOCK_HAVE_DATA,
  BLOCK_HAVE_UNDO,
  SCHEMA_VERSION,
  checkIndexEntry,
  copyBytes,
  decodeCoin,
  decodeIndexEntry,
  decodeTip,
  decodeUndo,
  encodeIndexEntry,
  encodeTip,
  encodeUndo,
  type BlockIndexEntry,
  type TipRecord,
} from './records.js';
import { checkHash, checkVout, commitCause, encodeCreated, prepareCoinOps } from './coin-ops.js';
import { BLOCK_POS_RECORD, INDEX_RECORD, PendingWrites, UNDO_POS_RECORD, type TreeShape } from './write-back.js';
import { StoreError, wrapStoreError } from './store-error.js';
import { decodeFlatFilePos, encodeFlatFilePos, FlatFileSeq, type FlatFileCursor } from './flat-files.js';

export {
  BLOCK_FAILED_CHILD,
  BLOCK_FAILED_VALID,
  BLOCK_HAVE_DATA,
  BLOCK_HAVE_UNDO,
  BLOCK_VALID_SCRIPTS,
  SCHEMA_VERSION,
  type BlockIndexEntry,
  type TipRecord,
} from './records.js';
export { StoreError, type StoreErrorCode } from './store-error.js';

export interface ChainStoreOptions {
  network: NetworkName;
  /**
   * Skip the fsync of each commit. Durable (the default) means a resolved applyBlock survives a
   * power cut; each commit then waits for the disk (5k spends + 5k creates: ~140 ms p50 durable vs
   * ~100 ms noSync on the 2-core dev VM, bench/store.ts). With noSync a killed process still leaves the old tip or the new one (LMDB
   * writes the data pages before the meta page and the OS page cache keeps both), but an OS crash
   * or power cut can lose the last commits, or corrupt the file if the disk reorders writes. For
   * benchmarks and throwaway imports only.
   */
  noSync?: boolean;
}

export interface OutPoint {
  txid: Uint8Array;
  vout: number;
}

export interface OutPointCoin extends OutPoint {
  coin: Coin;
}

export interface ApplyBlockUpdate {
  /** The connected block's entry; BLOCK_HAVE_UNDO is set on it by the store. */
  entry: BlockIndexEntry;
  /**
   * The raw block, when it is not stored yet: stored in the same transaction (as putBlock would,
   * BLOCK_HAVE_DATA set), so a block that connects at once costs one commit.
   */
  block?: Uint8Array;
  /** Coins that existed before the block and that its inputs spend. Each must be in the store. */
  spent: OutPoint[];
  /** Outputs the block leaves unspent (outputs spent later in the same block are in neither list). */
  created: OutPointCoin[];
  /** The spent coins in input order (Core's CBlockUndo, flattened). */
  undo: Coin[];
  /** The new tip: the block itself. */
  tip: TipRecord;
}

export interface RevertBlockUpdate {
  /** The disconnected block's entry; BLOCK_HAVE_UNDO is cleared on it by the store. */
  entry: BlockIndexEntry;
  /**
   * The block's created coins, to delete. Outputs the block spent itself were never stored; listing
   * them is harmless (a missing coin here is skipped, unlike a missing spent coin in applyBlock).
   */
  removed: OutPoint[];
  /** The coins its inputs spent (from getUndo), to put back. */
  restored: OutPointCoin[];
  /** The new tip: the block's parent. */
  tip: TipRecord;
}

const META_SCHEMA = utf8('schema');
const META_NETWORK = utf8('network');
const META_TIP = utf8('tip');
/** Where blocks/blk?????.dat and rev?????.dat end: 4 × u32 LE (blk file, its end, rev file, its end). */
const META_FLAT_FILES = utf8('flatfiles');
const RESERVED_META = new Set(['schema', 'network', 'tip', 'flatfiles']);

/** Address space the map starts with on 64-bit (see the header). */
const INITIAL_MAP_SIZE = 2 ** 36;

/** Bytes fed to the UTXO digest per flush of the staging buffer. */
const DIGEST_CHUNK = 1 << 20;

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export class ChainStore implements CoinView {
  readonly dir: string;
  readonly network: NetworkName;
  private readonly root: RootDatabase;
  private readonly coins: Database<Uint8Array, Uint8Array>;
  private readonly index: Database<Uint8Array, Uint8Array>;
  private readonly blocks: Database<Uint8Array, Uint8Array>;
  private readonly undo: Database<Uint8Array, Uint8Array>;
  private readonly meta: Database<Uint8Array, Uint8Array>;
  private readonly sources: Database<Uint8Array, Uint8Array>;
  /** getCoin's key, reused: LMDB copies the key before the call returns. */
  private readonly coinKey = new Uint8Array(36);
  /** Where applyBlock encodes undo records: each is copied into the rev file's buffer at once. */
  private readonly undoScratch = new Uint8Array(64 * 1024);
  private readonly coinKeyView = new DataView(this.coinKey.buffer);
  /** Where getCoin copies scripts: a block's look-ups share a few 8 KiB buffers instead of one each. */
  private readonly scriptSlab = new ByteSlab();
  private closed = false;
  /** Set once close() has queued its flush: writes are refused from then on. */
  private closing = false;
  /** The close under way, which a second close() waits for. */
  private closeRun: Promise<void> | undefined;
  /** Set by changePending when a change failed half-way; see there. */
  private broken: StoreError | undefined;
  /** The last queued write (see write()); its failure is the caller's, not the next write's. */
  private tail: Promise<void> = Promise.resolve();
  private readonly noSync: boolean;
  /** Raw blocks and undo records; opened after the meta check, which says where they end. */
  private blockFiles!: FlatFileSeq;
  private undoFiles!: FlatFileSeq;
  /** Write-back state while setWriteBack is on (see write-back.ts); undefined: every write commits. */
  private pending: PendingWrites | undefined;
  /** Flush when the pending state, with LMDB's page copies to commit it, costs more than this many bytes. */
  private writeBackBytes = 0;
  /** The trees' sizes in pages as of the last flush (or setWriteBack): what a flush will touch. */
  private shape: TreeShape = { pageSize: 4096, coinLeaves: 0, coinBranches: 0, recordLeaves: 0, recordBranches: 0 };

  private constructor(dir: string, network: NetworkName, root: RootDatabase, noSync: boolean) {
    this.dir = dir;
    this.network = network;
    this.root = root;
    this.noSync = noSync;
    const dbOpts = { encoding: 'binary', keyEncoding: 'binary' } as const;
    this.coins = root.openDB<Uint8Array, Uint8Array>('coins', dbOpts);
    this.index = root.openDB<Uint8Array, Uint8Array>('index', dbOpts);
    this.blocks = root.openDB<Uint8Array, Uint8Array>('blocks', dbOpts);
    this.undo = root.openDB<Uint8Array, Uint8Array>('undo', dbOpts);
    this.meta = root.openDB<Uint8Array, Uint8Array>('meta', dbOpts);
    this.sources = root.openDB<Uint8Array, Uint8Array>('sources', dbOpts);
  }

  /**
   * Open the store in `dir`, creating it (schema version and network recorded) on first use. Throws
   * StoreError 'wrong-network' / 'wrong-schema' for a store made for another network or layout,
   * 'open' when LMDB cannot open the directory.
   */
  static open(dir: string, opts: ChainStoreOptions): ChainStore {
    if (!NETWORK_NAMES.includes(opts.network)) throw new TypeError(`unknown network "${String(opts.network)}"`);
    checkDataFile(dir);
    let root: RootDatabase;
    try {
      root = open({
        path: dir,
        noSubdir: false,
        maxDbs: 8,
        // Plain LMDB commits: the commit promise resolves once the data and meta page are fsynced.
        // lmdb-js's default on Linux (overlappingSync) resolves at commit and flushes later, which
        // would make a resolved applyBlock not yet durable.
        overlappingSync: false,
        noSync: opts.noSync === true,
        // Every write is an explicit batch (write()), so event-turn batching adds nothing, and it
        // costs a crash: it starts each turn's transaction with a write of its own whose promise
        // no caller holds, and a failed commit (a full disk) rejects that promise unhandled, which
        // ends the process (lmdb-js issue #368) where the batch's own rejection is answered.
        eventTurnBatching: false,
        // No writable map (useWritemap): LMDB would size the file to the whole map at once, and a
        // full disk would then kill the process with SIGBUS instead of failing the commit. Its
        // page copies are counted by write-back instead (flushPageBytes).
        ...(process.arch.endsWith('64') ? { mapSize: INITIAL_MAP_SIZE } : {}),
      });
    } catch (err) {
      throw wrapStoreError(`cannot open store at ${dir}`, err, 'open');
    }
    let store: ChainStore | undefined;
    try {
      store = new ChainStore(dir, opts.network, root, opts.noSync === true);
      store.checkOrInitMeta();
      store.openFlatFiles();
      return store;
    } catch (err) {
      void root.close().catch(() => {});
      if (err instanceof StoreError) throw err;
      throw wrapStoreError(`cannot open store at ${dir}`, err, 'open');
    }
  }

  /**
   * The network a store in `dir` was created for, read without creating anything; undefined when
   * `dir` holds no store. Lets a tool open an existing store without being told its network.
   */
  static readNetwork(dir: string): NetworkName | undefined {
    if (!existsSync(join(dir, 'data.mdb'))) return undefined;
    // Empty: LMDB created the file and the writer died before writing its meta pages (an import
    // killed at open), so nothing was ever stored, and the next writable open initialises it. A
    // read-only open cannot: it fails, and lmdb-js 3.5 then crashes the process (SIGSEGV).
    if (checkDataFile(dir) === 0) return undefined;
    let root: RootDatabase;
    try {
      root = open({ path: dir, noSubdir: false, maxDbs: 8, readOnly: true });
    } catch (err) {
      throw wrapStoreError(`cannot open store at ${dir}`, err, 'open');
    }
    try {
      // In read-only mode openDB gives undefined for a database that was never created.
      const meta = root.openDB<Uint8Array, Uint8Array>('meta', { encoding: 'binary', keyEncoding: 'binary' }) as Database<Uint8Array, Uint8Array> | undefined;
      const buf = meta?.getBinaryFast(META_NETWORK);
      if (buf === undefined) return undefined;
      const name = new TextDecoder().decode(buf.subarray(0, buf.length));
      if (!(NETWORK_NAMES as readonly string[]).includes(name)) throw new StoreError('corrupt', `store at ${dir} names an unknown network "${name}"`);
      return name as NetworkName;
    } catch (err) {
      throw wrapStoreError(`reading the network of the store at ${dir}`, err);
    } finally {
      void root.close().catch(() => {});
    }
  }

  private checkOrInitMeta(): void {
    const schema = this.readMeta(META_SCHEMA);
    if (schema === undefined) {
      const used = [this.coins, this.index, this.blocks, this.undo, this.meta].some((db) => entryCount(db) > 0);
      if (used) throw new StoreError('corrupt', `store at ${this.dir} holds data but no schema version`);
      this.root.transactionSync(() => {
        this.meta.put(META_SCHEMA, u32(SCHEMA_VERSION));
        this.meta.put(META_NETWORK, utf8(this.network));
      });
      return;
    }
    const version = schema.length === 4 ? new DataView(schema.buffer, schema.byteOffset, 4).getUint32(0, true) : -1;
    if (version !== SCHEMA_VERSION) {
      throw new StoreError('wrong-schema', `store at ${this.dir} has schema version ${version}, this build reads version ${SCHEMA_VERSION}`);
    }
    const networkBytes = this.readMeta(META_NETWORK);
    const network = networkBytes === undefined ? '(none)' : new TextDecoder().decode(networkBytes);
    if (network !== this.network) throw new StoreError('wrong-network', `store at ${this.dir} was created for ${network}, not ${this.network}`);
  }

  private openFlatFiles(): void {
    const rec = this.readMeta(META_FLAT_FILES);
    let blk: FlatFileCursor = { file: 0, end: 0 };
    let rev: FlatFileCursor = { file: 0, end: 0 };
    if (rec !== undefined) {
      if (rec.length !== 16) throw new StoreError('corrupt', `store at ${this.dir} has a corrupt flat file record`);
      const v = new DataView(rec.buffer, rec.byteOffset, 16);
      blk = { file: v.getUint32(0, true), end: v.getUint32(4, true) };
      rev = { file: v.getUint32(8, true), end: v.getUint32(12, true) };
    }
    const magic = getParams(this.network).messageStart;
    const dir = join(this.dir, 'blocks');
    this.blockFiles = new FlatFileSeq(dir, 'blk', magic, blk);
    this.undoFiles = new FlatFileSeq(dir, 'rev', magic, rev);
  }

  // appendNow: putBlock and applyBlock append their records to the flat files when called, not
  // when their write's turn comes. Writes commit in call order, so each commit's end-of-files
  // record covers everything appended before it; a write refused later (its checks run at its
  // turn) leaves its records unreferenced, as a crash would. The caller's block needs no copy.

  /** The flat files' ends as one meta record, written with the positions of what was appended. */
  private flatFilesRecord(): Uint8Array {
    const out = new Uint8Array(16);
    const v = new DataView(out.buffer);
    const blk = this.blockFiles.end;
    const rev = this.undoFiles.end;
    v.setUint32(0, blk.file, true);
    v.setUint32(4, blk.end, true);
    v.setUint32(8, rev.file, true);
    v.setUint32(12, rev.end, true);
    return out;
  }

  /**
   * After appending to the flat files: their bytes are written out (appends are gathered in memory)
   * and, when durable, reach the disk before the commit that points at them.
   */
  private async syncFlatFiles(): Promise<void> {
    this.blockFiles.writeOut();
    this.undoFiles.writeOut();
    if (this.noSync) return;
    await Promise.all([this.blockFiles.sync(), this.undoFiles.sync()]);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', `store at ${this.dir} is closed`);
    if (this.broken !== undefined) throw this.broken;
  }

  /**
   * Change write-back's memory: `change` reads nothing that can fail (every LMDB read comes
   * before it). Should it throw half-way all the same, what write-back holds may be part of a
   * block, so the store breaks (StoreError 'broken') rather than let a flush write it.
   */
  private changePending(what: string, change: () => void): void {
    try {
      change();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      this.broken = new StoreError(
        'broken',
        `${what} failed half-way through write-back's memory (${detail}): the store at ${this.dir} must be reopened, and resumes from its last flush`,
        { cause: err },
      );
      throw this.broken;
    }
  }

  /** A copy of the value under `key`, or undefined. */
  private readCopy(db: Database<Uint8Array, Uint8Array>, key: Uint8Array, what: string): Uint8Array | undefined {
    let buf: Buffer | undefined;
    try {
      buf = db.getBinaryFast(key);
    } catch (err) {
      throw wrapStoreError(what, err);
    }
    return buf === undefined ? undefined : copyBytes(buf, 0, buf.length);
  }

  private readMeta(key: Uint8Array): Uint8Array | undefined {
    return this.readCopy(this.meta, key, 'reading meta');
  }

  /**
   * Queue a write behind the store's previous ones. When its turn comes, `prepare` checks the
   * committed state (the tip, the spent coins) and may throw to refuse the write; the function it
   * returns then queues every put and delete in one synchronous lmdb-js batch, which the writer
   * thread runs as ONE LMDB transaction, aborted whole on any LMDB error. That function must not
   * throw (a throw half-way would still commit the half already queued): everything it writes is
   * encoded and validated before. `prepare` appends to the flat files, after its checks. The batch stays whole because nothing on this environment runs a
   * synchronous transaction (it would split the batch) after open().
   */
  private write(what: string, prepare: () => (() => void) | Promise<() => void>): Promise<void> {
    return this.enqueue(async () => {
      const writes = await prepare();
      await this.commit(what, writes);
    });
  }

  /** Run `step` when the writes queued before it are done (see write()). */
  private enqueue(step: () => Promise<void> | void): Promise<void> {
    this.assertOpen();
    // Queued behind close()'s flush, a write would land in write-back's memory after it, and be lost.
    if (this.closing) throw new StoreError('closed', `store at ${this.dir} is closing`);
    const run = this.tail.then(() => {
      this.assertOpen();
      return step();
    });
    this.tail = run.catch(() => {});
    return run;
  }

  /** One lmdb-js batch: ONE LMDB transaction (see write()). */
  private async commit(what: string, writes: () => void): Promise<void> {
    try {
      await this.root.batch(writes);
    } catch (err) {
      throw wrapStoreError(what, await commitCause(err));
    }
  }

  // ---- write-back ------------------------------------------------------------------------------------

  /**
   * Turn write-back on, holding changes in memory between flushes while they, with LMDB's copies
   * of the pages their flush will rewrite (write-back.ts: flushPageBytes), cost at most `maxBytes`
   * (a block that alone costs more is held whole, and flushed before the next one); or off
   * (`maxBytes` 0: what is pending is flushed first). In a big UTXO set nearly every coin
   * change lands on a page of its own, so the page copies, not the changes, set how many blocks a
   * flush can hold. While it is on, applyBlock, putBlock and
   * putIndex change memory and resolve at once; reads see those changes; one transaction writes
   * them all when the limit is reached, at flush() and at close(). A crash loses the blocks
   * connected since the last flush and leaves the tip of that flush (Core's dbcache: an import
   * then resumes from there). revertBlock flushes first. Source records and named meta values
   * are written through either way.
   */
  setWriteBack(maxBytes: number): Promise<void> {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`write-back limit ${maxBytes} is not a byte count`);
    return this.enqueue(async () => {
      if (maxBytes > 0) {
        const shape = this.treeShape();
        this.pending ??= new PendingWrites();
        this.writeBackBytes = maxBytes;
        this.shape = shape;
        return;
      }
      await this.flushPending();
      this.pending = undefined;
    });
  }

  /** Commit what write-back holds (nothing to do when it is off or empty). */
  flush(): Promise<void> {
    return this.enqueue(() => this.flushPending());
  }

  /** Blocks connected and not yet flushed. */
  get unflushedBlocks(): number {
    return this.pending?.blocksApplied ?? 0;
  }

  /** Inside a queued step: write the pending state in one transaction; on failure it stays pending. */
  private async flushPending(): Promise<void> {
    const p = this.pending;
    if (p === undefined || p.empty) return;
    const ops = p.coinOps();
    await this.syncFlatFiles();
    await this.commit(`flush of ${p.blocksApplied} blocks`, () => {
      this.writeCoinOps(ops);
      const dbs = [this.index, this.blocks, this.undo] as const;
      for (const r of p.recordOps()) dbs[r.kind].put(r.hash, r.value);
      if (p.tip !== undefined) this.meta.put(META_TIP, p.tip);
      if (p.flatFiles !== undefined) this.meta.put(META_FLAT_FILES, p.flatFiles);
    });
    p.reset();
    try {
      this.shape = this.treeShape();
    } catch {
      // The flush committed; the next one is judged by the trees' last known size.
    }
  }

  /** The coin and block-record trees' pages, from LMDB's statistics (a read of each tree's root record). */
  private treeShape(): TreeShape {
    let coins: TreeStats;
    const records: TreeStats[] = [];
    try {
      coins = this.coins.getStats() as TreeStats;
      for (const db of [this.index, this.blocks, this.undo]) records.push(db.getStats() as TreeStats);
    } catch (err) {
      throw wrapStoreError('reading store statistics', err);
    }
    const shape = {
      pageSize: coins.pageSize,
      coinLeaves: coins.treeLeafPageCount,
      coinBranches: coins.treeBranchPageCount,
      recordLeaves: records.reduce((n, r) => n + r.treeLeafPageCount, 0),
      recordBranches: records.reduce((n, r) => n + r.treeBranchPageCount, 0),
    };
    // A count that is not one would make every estimate NaN, and write-back would never flush.
    if (!Object.values(shape).every((v) => Number.isSafeInteger(v) && v >= 0) || shape.pageSize === 0) {
      throw new StoreError('corrupt', `LMDB's statistics are not page counts: ${JSON.stringify(shape)}`);
    }
    return shape;
  }

  // ---- coins -----------------------------------------------------------------------------------

  /** The coin at an outpoint; its script is the caller's to keep (a view of a shared 8 KiB buffer). */
  getCoin(txid: Uint8Array, vout: number): Coin | undefined {
    this.assertOpen();
    if (txid.length !== 32) throw new TypeError('txid must be 32 bytes');
    checkVout(vout);
    this.coinKey.set(txid);
    this.coinKeyView.setUint32(32, vout, true);
    const pending = this.pending?.coin(txid, vout);
    // Copied: write-back reuses its memory after each flush.
    if (pending !== undefined) return pending === null ? undefined : decodeCoin(pending, this.scriptSlab);
    let buf: Buffer | undefined;
    try {
      buf = this.coins.getBinaryFast(this.coinKey);
    } catch (err) {
      throw wrapStoreError('getCoin', err);
    }
    return buf === undefined ? undefined : decodeCoin(buf.subarray(0, buf.length), this.scriptSlab);
  }

  hasCoin(txid: Uint8Array, vout: number): boolean {
    this.assertOpen();
    if (txid.length !== 32) throw new TypeError('txid must be 32 bytes');
    checkVout(vout);
    const pending = this.pending?.coin(txid, vout);
    if (pending !== undefined) return pending !== null;
    return this.storeHasCoin(txid, vout);
  }

  /** Number of unspent outputs (LMDB keeps the count in the B-tree's stats: O(1)). */
  utxoCount(): number {
    this.assertOpen();
    return entryCount(this.coins) + (this.pending?.countDelta ?? 0);
  }

  /**
   * SHA-256 over key || u32le(record length) || record for every coin in key order. The records are
   * canonical, so two stores holding the same UTXO set give the same digest whatever their history.
   */
  utxoDigest(): Uint8Array {
    this.assertOpen();
    const h = createHash('sha256');
    const stage = new Uint8Array(DIGEST_CHUNK);
    const stageView = new DataView(stage.buffer);
    let pos = 0;
    try {
      for (const { key, record } of this.coinRecords()) {
        const need = 36 + 4 + record.length;
        if (pos + need > DIGEST_CHUNK) {
          h.update(stage.subarray(0, pos));
          pos = 0;
        }
        if (need > DIGEST_CHUNK) {
          h.update(key.subarray(0, 36));
          h.update(u32(record.length));
          h.update(record);
          continue;
        }
        stage.set(key.subarray(0, 36), pos);
        stageView.setUint32(pos + 36, record.length, true);
        stage.set(record, pos + 40);
        pos += need;
      }
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw wrapStoreError('utxoDigest', err);
    }
    h.update(stage.subarray(0, pos));
    return new Uint8Array(h.digest());
  }

  /** Every coin in key order: LMDB's, with write-back's pending changes merged in. */
  private *coinRecords(): Generator<{ key: Uint8Array; record: Uint8Array }> {
    const pending = this.pending?.coinOps() ?? [];
    let i = 0;
    for (const { key, value } of this.coins.getRange({ snapshot: true })) {
      for (; i < pending.length && Buffer.compare(pending[i]!.key, key) < 0; i++) {
        const v = pending[i]!.value;
        if (v !== undefined) yield { key: pending[i]!.key, record: v };
      }
      if (i < pending.length && Buffer.compare(pending[i]!.key, key) === 0) {
        const v = pending[i++]!.value;
        if (v !== undefined) yield { key, record: v };
        continue;
      }
      yield { key, record: value.subarray(0, value.length) };
    }
    for (; i < pending.length; i++) {
      const v = pending[i]!.value;
      if (v !== undefined) yield { key: pending[i]!.key, record: v };
    }
  }

  // ---- tip, index, blocks, undo -------------------------------------------------------------------

  getTip(): TipRecord | undefined {
    this.assertOpen();
    const rec = this.pending?.tip ?? this.readMeta(META_TIP);
    return rec === undefined ? undefined : decodeTip(rec);
  }

  getIndex(hash: Uint8Array): BlockIndexEntry | undefined {
    this.assertOpen();
    checkHash(hash, 'block hash');
    const pending = this.pending?.record(INDEX_RECORD, hash);
    if (pending !== undefined) return decodeIndexEntry(hash, pending);
    let buf: Buffer | undefined;
    try {
      buf = this.index.getBinaryFast(hash);
    } catch (err) {
      throw wrapStoreError('getIndex', err);
    }
    return buf === undefined ? undefined : decodeIndexEntry(hash, buf.subarray(0, buf.length));
  }

  putIndex(entry: BlockIndexEntry): Promise<void> {
    return this.putIndexes([entry], 'putIndex');
  }

  /** putIndex for many entries in one transaction (a failed block's descendants: one commit, not one each). */
  putIndexes(entries: readonly BlockIndexEntry[], what = 'putIndexes'): Promise<void> {
    const records = entries.map((e) => ({ key: copyBytes(e.hash), record: encodeIndexEntry(e) }));
    return this.enqueue(async () => {
      if (records.length === 0) return;
      const p = this.pending;
      if (p !== undefined) this.changePending(what, () => records.forEach((r) => p.setRecord(INDEX_RECORD, r.key, r.record)));
      else await this.commit(what, () => records.forEach((r) => void this.index.put(r.key, r.record)));
    });
  }

  /** Every block-index entry, in hash order then those write-back holds (chain management loads them all at start). */
  indexEntries(): Generator<BlockIndexEntry> {
    // Write-back's entries as they are now, decoded: its memory is reused after a flush.
    const held = this.pending?.recordOps(INDEX_RECORD).map((r) => decodeIndexEntry(r.hash, r.value)) ?? [];
    const heldHex = new Set(held.map((e) => hashToHex(e.hash)));
    const stored = this.storedIndexEntries();
    return (function* () {
      for (const entry of stored) if (heldHex.size === 0 || !heldHex.has(hashToHex(entry.hash))) yield entry;
      yield* held;
    })();
  }

  private *storedIndexEntries(): Generator<BlockIndexEntry> {
    this.assertOpen();
    let it: Iterator<{ key: Uint8Array; value: Uint8Array }>;
    try {
      it = this.index.getRange({ snapshot: true })[Symbol.iterator]();
    } catch (err) {
      throw wrapStoreError('reading the block index', err);
    }
    for (;;) {
      let next: IteratorResult<{ key: Uint8Array; value: Uint8Array }>;
      try {
        next = it.next();
      } catch (err) {
        throw wrapStoreError('reading the block index', err);
      }
      if (next.done === true) return;
      const { key, value } = next.value;
      if (key.length !== 32) throw new StoreError('corrupt', `corrupt block index key of ${key.length} bytes`);
      yield decodeIndexEntry(key, value.subarray(0, value.length));
    }
  }

  forEachIndex(cb: (entry: BlockIndexEntry) => void): void {
    for (const entry of this.indexEntries()) cb(entry);
  }

  /** A copy of the raw block. */
  getBlock(hash: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    checkHash(hash, 'block hash');
    const pos = this.pending?.record(BLOCK_POS_RECORD, hash) ?? this.readCopy(this.blocks, hash, 'getBlock');
    return pos === undefined ? undefined : this.blockFiles.read(decodeFlatFilePos(pos));
  }

  /** Store a raw block and its index entry (BLOCK_HAVE_DATA set) in one transaction. */
  putBlock(hash: Uint8Array, raw: Uint8Array, entry: BlockIndexEntry): Promise<void> {
    this.assertOpen();
    checkHash(hash, 'block hash');
    if (!equalBytes(hash, entry.hash)) throw new Error('putBlock: hash and entry.hash differ');
    const record = encodeIndexEntry({ ...entry, status: (entry.status | BLOCK_HAVE_DATA) >>> 0 });
    const key = copyBytes(hash);
    // Appended now, so the caller's bytes need no copy; see appendNow.
    const pos = encodeFlatFilePos(this.blockFiles.append(raw));
    const files = this.flatFilesRecord();
    return this.enqueue(async () => {
      const p = this.pending;
      if (p !== undefined) {
        this.changePending('putBlock', () => {
          p.setRecord(BLOCK_POS_RECORD, key, pos);
          p.setRecord(INDEX_RECORD, key, record);
          p.flatFiles = files;
        });
        return;
      }
      await this.syncFlatFiles();
      await this.commit('putBlock', () => {
        this.blocks.put(key, pos);
        this.index.put(key, record);
        this.meta.put(META_FLAT_FILES, files);
      });
    });
  }

  getUndo(hash: Uint8Array): Coin[] | undefined {
    this.assertOpen();
    checkHash(hash, 'block hash');
    const pos = this.pending?.record(UNDO_POS_RECORD, hash) ?? this.readCopy(this.undo, hash, 'getUndo');
    return pos === undefined ? undefined : decodeUndo(this.undoFiles.read(decodeFlatFilePos(pos)));
  }

  // ---- connecting and disconnecting ------------------------------------------------------------------

  /**
   * Connect a block in ONE write transaction: spent coins out, created coins in, the undo record, the
   * index entry (BLOCK_HAVE_UNDO set), the new tip, and the raw block when `u.block` is given. A crash at any instant leaves the old tip and
   * its coins or the new ones. Throws StoreError 'inconsistent' (and writes nothing) when the store's
   * tip is not the block's parent or a spent coin is missing. An outpoint listed twice is the caller's
   * bug: it throws at once without write-back; with write-back on the lists are trusted to be distinct
   * (connectBlockInputs makes them so), which saves a set a block on the import's hot path.
   */
  applyBlock(u: ApplyBlockUpdate): Promise<void> {
    this.assertOpen();
    const what = `applyBlock ${hashToHex(u.entry.hash)}`;
    checkIndexEntry(u.entry);
    if (!equalBytes(u.tip.hash, u.entry.hash) || u.tip.height !== u.entry.height) throw new Error(`${what}: the new tip must be the block itself`);
    // Encoded and checked now, so nothing can throw half-way through queuing the writes.
    const ops = this.pending === undefined ? prepareCoinOps(u.spent, u.created, what) : undefined;
    const created = ops === undefined ? encodeCreated(u.created, u.spent) : undefined;
    const undoRecord = encodeUndo(u.undo, this.undoScratch);
    const status = u.entry.status | BLOCK_HAVE_UNDO | (u.block === undefined ? 0 : BLOCK_HAVE_DATA);
    const indexRecord = encodeIndexEntry({ ...u.entry, status: status >>> 0 });
    const tipRecord = encodeTip(u.tip);
    const prevHash = copyBytes(u.entry.header, 4, 36);
    const key = copyBytes(u.entry.hash);
    const height = u.entry.height;
    // Appended now (see appendNow): the block needs no copy while the write waits its turn.
    const blockPos = u.block === undefined ? undefined : encodeFlatFilePos(this.blockFiles.append(u.block));
    const undoPos = encodeFlatFilePos(this.undoFiles.append(undoRecord));
    const files = this.flatFilesRecord();
    const incoming = { coins: u.spent.length + u.created.length, records: 3, putBytes: (created ?? []).reduce((n, r) => n + 36 + r.length, 0) };
    return this.enqueue(async () => {
      // Write-back full, or this block would take it past its limit: flush BEFORE the block, so a
      // failed flush leaves it unapplied. (A block over the limit alone is still held whole.)
      if (this.pending !== undefined && !(this.pending.flushCost(this.shape, incoming) < this.writeBackBytes)) await this.flushPending();
      const cur = this.getTip();
      if (cur !== undefined && (!equalBytes(cur.hash, prevHash) || cur.height + 1 !== height)) {
        throw new StoreError('inconsistent', `${what}: its parent is ${hashToHex(prevHash)} at ${height - 1}, the store's tip is ${hashToHex(cur.hash)} at ${cur.height}`);
      }
      // Every spent coin must be there (~2 µs a read): a missing one means the caller's view and the
      // store disagree, and writing its undo record would make revertBlock restore a coin that never was.
      for (const o of u.spent) {
        if (!this.hasCoin(o.txid, o.vout)) throw new StoreError('inconsistent', `${what}: spent coin ${hashToHex(o.txid)}:${o.vout} is not in the store`);
      }
      const p = this.pending;
      if (p !== undefined) {
        const records = created ?? encodeCreated(u.created, u.spent);
        // Read before the first change: a failed read leaves write-back holding no part of the block.
        const inStore = u.created.map((c) => c.coin.coinbase && this.storeHasCoin(c.txid, c.vout));
        this.changePending(what, () => {
          for (const o of u.spent) p.spend(o.txid, o.vout);
          u.created.forEach((c, i) => p.add(c.txid, c.vout, records[i]!, inStore[i]!));
          if (blockPos !== undefined) p.setRecord(BLOCK_POS_RECORD, key, blockPos);
          p.setRecord(UNDO_POS_RECORD, key, undoPos);
          p.setRecord(INDEX_RECORD, key, indexRecord);
          p.tip = tipRecord;
          p.flatFiles = files;
          p.blocksApplied++;
        });
        return;
      }
      const writes = ops ?? prepareCoinOps(u.spent, u.created, what);
      await this.syncFlatFiles();
      await this.commit(what, () => {
        this.writeCoinOps(writes);
        if (blockPos !== undefined) this.blocks.put(key, blockPos);
        this.undo.put(key, undoPos);
        this.index.put(key, indexRecord);
        this.meta.put(META_TIP, tipRecord);
        this.meta.put(META_FLAT_FILES, files);
      });
    });
  }

  /** Whether LMDB holds a coin, write-back's pending changes aside. */
  private storeHasCoin(txid: Uint8Array, vout: number): boolean {
    this.coinKey.set(txid);
    this.coinKeyView.setUint32(32, vout, true);
    try {
      return this.coins.getBinaryFast(this.coinKey) !== undefined;
    } catch (err) {
      throw wrapStoreError('hasCoin', err);
    }
  }

  /**
   * Disconnect the tip block in ONE write transaction: its created coins out, the coins it spent back,
   * its undo record deleted, its index entry updated (BLOCK_HAVE_UNDO cleared), the tip set to its
   * parent. Throws StoreError 'inconsistent' (and writes nothing) when the block is not the tip.
   */
  revertBlock(u: RevertBlockUpdate): Promise<void> {
    this.assertOpen();
    const what = `revertBlock ${hashToHex(u.entry.hash)}`;
    checkIndexEntry(u.entry);
    if (!equalBytes(u.tip.hash, u.entry.header.subarray(4, 36)) || u.tip.height + 1 !== u.entry.height) {
      throw new Error(`${what}: the new tip must be the block's parent`);
    }
    const ops = prepareCoinOps(u.removed, u.restored, what);
    const indexRecord = encodeIndexEntry({ ...u.entry, status: (u.entry.status & ~BLOCK_HAVE_UNDO) >>> 0 });
    const tipRecord = encodeTip(u.tip);
    const key = copyBytes(u.entry.hash);
    return this.write(what, async () => {
      // Disconnecting is rare (a reorganisation): write-back is flushed, then the block is undone directly.
      await this.flushPending();
      const cur = this.getTip();
      if (cur === undefined || !equalBytes(cur.hash, key)) {
        throw new StoreError('inconsistent', `${what}: the block is not the store's tip (${cur === undefined ? 'none' : hashToHex(cur.hash)})`);
      }
      return () => {
        this.writeCoinOps(ops);
        this.undo.remove(key);
        this.index.put(key, indexRecord);
        this.meta.put(META_TIP, tipRecord);
      };
    });
  }

  /** Queue the sorted coin writes (inside a batch: each call only appends an instruction). */
  private writeCoinOps(ops: ReadonlyArray<{ key: Uint8Array; value: Uint8Array | undefined }>): void {
    for (const op of ops) {
      if (op.value !== undefined) void this.coins.put(op.key, op.value);
      else void this.coins.remove(op.key);
    }
  }

  // ---- meta, sources, lifecycle ------------------------------------------------------------------------

  /** A small named value (a copy). */
  getMeta(name: string): Uint8Array | undefined {
    this.assertOpen();
    return this.readMeta(utf8(name));
  }

  /** Store a small named value; 'schema', 'network' and 'tip' belong to the store and are refused. */
  putMeta(name: string, value: Uint8Array): Promise<void> {
    if (RESERVED_META.has(name)) throw new Error(`putMeta: "${name}" is written by the store itself`);
    const key = utf8(name);
    if (key.length === 0 || key.length > 255) throw new RangeError('putMeta: name must be 1..255 bytes');
    const copy = copyBytes(value);
    return this.write(`putMeta ${name}`, () => () => {
      this.meta.put(key, copy);
    });
  }

  /** A block source's score record (a copy), reserved for source scoring. */
  getSourceRecord(key: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    if (key.length === 0 || key.length > 511) throw new RangeError('source key must be 1..511 bytes');
    return this.readCopy(this.sources, key, 'getSourceRecord');
  }

  putSourceRecord(key: Uint8Array, value: Uint8Array): Promise<void> {
    if (key.length === 0 || key.length > 511) throw new RangeError('source key must be 1..511 bytes');
    const k = copyBytes(key);
    const v = copyBytes(value);
    return this.write('putSourceRecord', () => () => {
      this.sources.put(k, v);
    });
  }

  /**
   * Rewrite source records in one transaction that reads each as committed when it runs: a record
   * another process wrote meanwhile (`vigil unban`) is what `next` gets, so it is built on, never
   * overwritten. `next` gets the index of a key and its record (undefined when none) and returns
   * the record to store, or undefined to have none. A throw from `next` writes nothing.
   */
  updateSourceRecords(keys: readonly Uint8Array[], next: (index: number, current: Uint8Array | undefined) => Uint8Array | undefined): Promise<void> {
    for (const key of keys) if (key.length === 0 || key.length > 511) throw new RangeError('source key must be 1..511 bytes');
    const ks = keys.map((k) => copyBytes(k));
    return this.enqueue(async () => {
      let thrown: { err: unknown } | undefined;
      try {
        // A child transaction: its reads see the write transaction (the LMDB write lock is held, so
        // no other process commits between read and write), and a throw aborts it whole.
        await this.root.childTransaction(() => {
          ks.forEach((k, i) => {
            const cur = this.sources.getBinary(k);
            let v: Uint8Array | undefined;
            try {
              v = next(i, cur === undefined ? undefined : copyBytes(cur, 0, cur.length));
            } catch (err) {
              thrown = { err };
              throw err;
            }
            if (v !== undefined) void this.sources.put(k, v);
            else if (cur !== undefined) void this.sources.remove(k);
          });
        });
      } catch (err) {
        if (thrown !== undefined) throw thrown.err;
        throw wrapStoreError('updateSourceRecords', await commitCause(err));
      }
    });
  }

  /** How many source records are stored. */
  sourceRecordCount(): number {
    this.assertOpen();
    return entryCount(this.sources);
  }

  /** Every source record (copies), in key order. */
  sourceRecords(): Array<{ key: Uint8Array; value: Uint8Array }> {
    this.assertOpen();
    const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    try {
      for (const { key, value } of this.sources.getRange({ snapshot: true })) {
        out.push({ key: copyBytes(key), value: copyBytes(value.subarray(0, value.length)) });
      }
    } catch (err) {
      throw wrapStoreError('reading source records', err);
    }
    return out;
  }

  removeSourceRecord(key: Uint8Array): Promise<void> {
    if (key.length === 0 || key.length > 511) throw new RangeError('source key must be 1..511 bytes');
    const k = copyBytes(key);
    return this.write('removeSourceRecord', () => () => {
      void this.sources.remove(k);
    });
  }

  /**
   * Wait for pending commits and close the environment; later calls of anything else throw
   * StoreError 'closed', and so does a write called while the close runs. A second close while one
   * runs waits for it; one after it does nothing.
   */
  close(): Promise<void> {
    if (this.closeRun === undefined) {
      this.closeRun = this.closeOnce().finally(() => {
        this.closeRun = undefined;
      });
    }
    return this.closeRun;
  }

  private async closeOnce(): Promise<void> {
    if (this.closed) return;
    // A broken store writes nothing more: what write-back held is given up, and said so.
    let flushError: unknown = this.broken;
    // The flush goes behind the writes already queued; none is taken after it.
    const flushing = this.pending !== undefined && this.broken === undefined ? this.flush() : undefined;
    this.closing = true;
    if (flushing !== undefined) await flushing.catch((err: unknown) => (flushError = err));
    // Every write called before close() runs (write-back on or off); none is taken from here on.
    await this.tail;
    this.closed = true;
    if (flushError !== undefined) {
      for (const files of [this.blockFiles, this.undoFiles]) {
        try {
          files.close();
        } catch {
          // the flush failure is the one to report
        }
      }
      await this.root.close().catch(() => {});
      throw flushError;
    }
    try {
      this.blockFiles.close();
      this.undoFiles.close();
      await this.root.close();
    } catch (err) {
      throw wrapStoreError(`closing store at ${this.dir}`, err);
    }
  }
}

/**
 * Refuse a data.mdb that does not start with an LMDB meta page (magic 0xBEEFC0DE, data version 2),
 * or that is shorter than the pages its committed tree uses. lmdb-js 3.5 crashes the process
 * (SIGSEGV in its failed-open cleanup) instead of throwing MDB_INVALID, so a stray or truncated
 * file must be caught before LMDB sees it, and a file cut short past its meta pages (a copy or a
 * disk that lost its tail) opens, then kills the process with SIGBUS at the first read of a page
 * the map holds beyond the file's end. The page header before the magic is 16 or 24 bytes
 * depending on the build, hence the search. Gives the file's size (0: empty, for LMDB to
 * initialise), or undefined when there is no file.
 */
function checkDataFile(dir: string): number | undefined {
  const path = join(dir, 'data.mdb');
  if (!existsSync(path)) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw wrapStoreError(`cannot open store at ${dir}`, err, 'open');
  }
  try {
    const io = <T>(f: () => T): T => {
      try {
        return f();
      } catch (err) {
        throw wrapStoreError(`cannot open store at ${dir}`, err, 'open');
      }
    };
    const read = (at: number): DataView => {
      const buf = new Uint8Array(META_READ);
      return new DataView(buf.buffer, 0, io(() => readSync(fd, buf, 0, META_READ, at)));
    };
    const fileSize = (): number => io(() => fstatSync(fd).size);
    // The meta pages first, the size after them: a writer in another process (the service, while
    // `vigil sources` or `vigil tip` opens the store) writes a commit's pages, growing the file,
    // before its meta page, so a size taken after the meta pages covers them; one taken before
    // may miss a commit that landed in between, and the file would read as cut short.
    const head = read(0);
    if (head.byteLength === 0) return 0; // an empty file: LMDB initialises it
    const off = metaOffset(head);
    if (off === undefined) throw new StoreError('open', `cannot open store at ${dir}: ${path} is not an LMDB data file`);
    // 24 bytes past the magic and version (the map's address and size, 64-bit builds), the
    // free-page database's md_pad, where LMDB keeps the page size. Both meta pages are written in
    // one call, but a kill can land between two of its pages; LMDB's opens, writable too, then
    // crash the process as above. A page size that is not one (another layout) checks nothing.
    const pageSize = off + 28 <= head.byteLength ? head.getUint32(off + 24, true) : 0;
    if (!(pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0)) return fileSize();
    // LMDB opens on the meta page with the larger transaction id (mm_txnid: 128 bytes past the
    // magic). Its mm_last_pg (120) is no bound on the file: pages a transaction allocated and freed
    // again are listed in the freeDB and never written, so a whole file may end before it (LMDB's
    // own comment on mm_last_pg). The roots of the free and main trees (md_root, 40 bytes into each
    // MDB_db record at 24 and 72) are pages the commit wrote: a file that ends before one was cut.
    const second = read(pageSize);
    const size = fileSize();
    if (size < 2 * pageSize) {
      throw new StoreError('open', `cannot open store at ${dir}: ${path} ends at byte ${size}, inside its two ${pageSize}-byte meta pages`);
    }
    const metas = [head, second].filter((m) => metaOffset(m) === off && off + 136 <= m.byteLength);
    if (metas.length === 0) return size;
    const current = metas.reduce((a, b) => (b.getBigUint64(off + 128, true) > a.getBigUint64(off + 128, true) ? b : a));
    const roots = [current.getBigUint64(off + 64, true), current.getBigUint64(off + 112, true)].filter((p) => p !== 0xffffffffffffffffn);
    if (roots.length === 0) return size;
    const needed = (roots.reduce((a, b) => (b > a ? b : a)) + 1n) * BigInt(pageSize);
    if (BigInt(size) < needed) {
      throw new StoreError(
        'open',
        `cannot open store at ${dir}: ${path} ends at byte ${size}, but its last commit uses pages up to byte ${needed}: the file was cut short`,
      );
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Bytes read from the start of each meta page: page header, magic and MDB_meta to mm_txnid. */
const META_READ = 192;

/** Where the meta page's magic (0xBEEFC0DE, then data version 2) starts, if the page has one. */
function metaOffset(page: DataView): number | undefined {
  for (let off = 8; off + 8 <= Math.min(page.byteLength, 64); off += 8) {
    if (page.getUint32(off, true) === 0xbeefc0de && page.getUint32(off + 4, true) === 2) return off;
  }
  return undefined;
}

/** The fields of lmdb-js's getStats() (mdb_stat) that the write-back's estimate reads. */
interface TreeStats {
  pageSize: number;
  treeLeafPageCount: number;
  treeBranchPageCount: number;
}

function entryCount(db: Database<Uint8Array, Uint8Array>): number {
  try {
    return (db.getStats() as { entryCount: number }).entryCount;
  } catch (err) {
    throw wrapStoreError('reading store statistics', err);
  }
}
