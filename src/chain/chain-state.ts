// Chain management (Core's ChainstateManager, in small): accept blocks into the block
// index, connect the branch with the most work, reorganise through undo data, and keep
// every tip change to one store transaction so a crash leaves the old tip or the new one.

import { adoptBlockHashes, Block, decodeBlock } from '../primitives/block.js';
import { BlockHeader } from '../primitives/block.js';
import { ByteReader } from '../primitives/reader.js';
import { equalBytes, hashToHex, hexToHash } from '../primitives/bytes.js';
import type { SignatureBackend } from '../script/signature.js';
import { checkBlock, checkBlockHeader, checkSerializedSize, contextualCheckBlock, contextualCheckBlockHeader } from '../consensus/check-block.js';
import { getMedianTimePast, type ChainEntry } from '../consensus/chain-time.js';
import { connectBlockInputs, isUnspendable, runScriptsSerial, type SpentCoin } from '../consensus/connect-block.js';
import { LOCKTIME_VERIFY_SEQUENCE } from '../consensus/consensus.js';
import { getParams, type ChainParams } from '../consensus/params.js';
import { getBlockProof, getNextWorkRequired } from '../consensus/pow.js';
import { getBlockScriptFlags, type NetworkName } from '../consensus/script-flags.js';
import { enforceBIP30, type ScriptRunner } from '../consensus/validate-block.js';
import { internalError, invalid, VALID, type ValidationResult } from '../consensus/validation.js';
import { acquireDirLock } from '../store/dir-lock.js';
import { StoreError } from '../store/store-error.js';
import { NodeTable } from './node-table.js';
import {
  BLOCK_FAILED_CHILD,
  BLOCK_FAILED_VALID,
  BLOCK_HAVE_DATA,
  BLOCK_HAVE_UNDO,
  BLOCK_VALID_SCRIPTS,
  ChainStore,
  type BlockIndexEntry,
} from '../store/index.js';

const FAILED = BLOCK_FAILED_VALID | BLOCK_FAILED_CHILD;

/** The first internal error among an activation's results (a reject belongs to its own block). */
function firstError(results: Map<string, ValidationResult>): ValidationResult | undefined {
  for (const r of results.values()) if (r.mode === 'error') return r;
  return undefined;
}

/** A block index entry in memory (Core's CBlockIndex). */
export interface BlockNode extends ChainEntry {
  readonly hash: Uint8Array;
  readonly hex: string;
  /** The header, decoded anew on each read (the index keeps only its 80 bytes). */
  readonly header: BlockHeader;
  /** The header's 80 bytes (a view: copy before changing). */
  readonly headerBytes: Uint8Array;
  readonly chainWork: bigint;
  readonly prev: BlockNode | undefined;
  /** Core's pskip: an ancestor further down (GetSkipHeight), so GetAncestor takes O(log n) steps. */
  readonly skip: BlockNode | undefined;
  status: number;
  /** Median-time-past of this block (BIP113), computed on first use. */
  mtp?: number;
}

/** The stages a block goes through, as timed for an observer. */
export type ChainStage = 'parse' | 'precheck' | 'coins' | 'scripts' | 'commit';

/**
 * What the chain reports as it works (metrics, logs). Called synchronously on the hot path:
 * an observer must be cheap and must not throw.
 */
export interface ChainObserver {
  stage?(stage: ChainStage, seconds: number): void;
  connected?(block: { hash: string; height: number; txs: number; inputs: number; scriptsChecked: boolean }): void;
  disconnected?(block: { hash: string; height: number }): void;
  /** The active chain moved to another branch: `disconnected` blocks above height `fork` were undone. */
  reorg?(r: { fork: number; disconnected: number }): void;
}

/** Verifies a block's script work (validateBlockAsync's runner; ChainState passes no signal); the default runs on this thread. */
export type { ScriptRunner };

export interface ChainStateOptions {
  network: NetworkName;
  backend?: SignatureBackend;
  runScripts?: ScriptRunner;
  /** Skip fsync on commit (benchmarks only: a crash may lose or tear the last commits). */
  noSync?: boolean;
  /** The clock for 'time-too-new', in seconds. */
  now?: () => number;
  /**
   * assumevalid: scripts of this block's ancestors may be skipped under Core's conditions.
   * Undefined: the network's default; null: off (Core's -assumevalid=0).
   */
  assumeValid?: Uint8Array | null;
  /**
   * Core's -minimumchainwork: assumevalid skips scripts only while the best header has at least
   * this much work. Default: the network's (ChainParams.minimumChainWork; 0 on regtest).
   */
  minimumChainWork?: bigint;
  /** Where the chain says what it does (assumevalid decisions); default: nowhere. */
  log?: (message: string) => void;
  observer?: ChainObserver;
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

/** Core's InvertLowestOne: n with its lowest set bit cleared. */
const invertLowestOne = (n: number): number => n & (n - 1);

/** Core's GetSkipHeight: where a block's skip pointer lands, chosen so that GetAncestor is O(log n). */
function getSkipHeight(height: number): number {
  if (height < 2) return 0;
  return height & 1 ? invertLowestOne(invertLowestOne(height - 1)) + 1 : invertLowestOne(height);
}

/** Core's CBlockIndex::GetAncestor through the skip pointers. */
function skipAncestor(node: BlockNode, height: number): BlockNode | undefined {
  if (height > node.height || height < 0) return undefined;
  let walk: BlockNode | undefined = node;
  let heightWalk = node.height;
  while (walk !== undefined && heightWalk > height) {
    const heightSkip = getSkipHeight(heightWalk);
    const heightSkipPrev = getSkipHeight(heightWalk - 1);
    if (walk.skip !== undefined && (heightSkip === height || (heightSkip > height && !(heightSkipPrev < heightSkip - 2 && heightSkipPrev >= height)))) {
      walk = walk.skip;
      heightWalk = heightSkip;
    } else {
      walk = walk.prev;
      heightWalk--;
    }
  }
  return walk;
}

/** Core's assumevalid depth: blocks with less than two weeks of work on top are always checked. */
export const ASSUMEVALID_MIN_AGE = 60 * 60 * 24 * 7 * 2;

export interface ProcessResult {
  result: ValidationResult;
  hash: string;
  height?: number;
  /** True when the block was already known (stored or marked invalid). */
  duplicate: boolean;
  /**
   * True when the block is on the active chain after processing: connected, every check passed.
   * A block answered valid but false here is on a side branch with no more work than the tip (at
   * equal work the block received first stays): stored, its transactions not checked against its
   * branch's coins (Core's submitblock answers such a block `inconclusive`), or checked once and
   * then taken off the active chain by a reorganisation; it is judged again if its branch comes
   * to have the most work.
   */
  connected: boolean;
  /** The tip after processing. */
  tip: { hash: string; height: number };
  /**
   * Other blocks found invalid while this one's branch was connected (Core's InvalidChainFound):
   * an ancestor stored earlier, on a side branch, fails once its branch has the most work. Also
   * what the activation an internal error stopped found when it was taken up again before this
   * block: the block given itself among them (then answered duplicate-invalid, or by the check
   * its bytes fail), and with bytes that are no block at all.
   */
  invalidated?: Array<{ hash: string; height: number; result: ValidationResult }>;
}

/**
 * A node of the block index. Its header's 80 bytes sit just before its hash in one of the index's
 * slabs: no ArrayBuffer and no decoded header a node. Measured on 12,100 headers: ~990 bytes of
 * heap and buffers a node when each node held its own copies and a decoded header.
 */
class IndexNode implements BlockNode {
  mtp?: number;

  constructor(
    /** The node's record in the index's chunks (node-table.ts): header, then hash. */
    readonly chunk: Uint8Array,
    readonly off: number,
    readonly height: number,
    readonly time: number,
    readonly bits: number,
    readonly chainWork: bigint,
    readonly prev: BlockNode | undefined,
    readonly skip: BlockNode | undefined,
    public status: number,
  ) {}

  get hash(): Uint8Array {
    return this.chunk.subarray(this.off + 80, this.off + 112);
  }

  get hex(): string {
    return hashToHex(this.hash);
  }

  get headerBytes(): Uint8Array {
    return this.chunk.subarray(this.off, this.off + 80);
  }

  get header(): BlockHeader {
    const header = BlockHeader.read(new ByteReader(this.headerBytes));
    header.adoptHash(this.hash);
    return header;
  }
}

export class ChainState {
  /** The block index: every node, by hash, with its header and hash (node-table.ts). */
  private readonly nodes = new NodeTable<IndexNode>();
  /** Blocks found invalid themselves (BLOCK_FAILED_VALID), not for an ancestor: Core's m_failed_blocks. */
  private readonly failedBlocks = new Set<BlockNode>();
  /** The active chain by height (Core's CChain). */
  private readonly active: BlockNode[] = [];
  private readonly runScripts: ScriptRunner;
  /** The known header with the most work that is not known to be invalid (Core's m_best_header). */
  private bestHeader: BlockNode | undefined;
  /**
   * An internal error (the store, a read) stopped the last activation part-way, possibly on a
   * branch with less work than the tip it left. Core stops the node there and activates the best
   * chain when it starts again; we do that before the next block. `from`: the tip that activation
   * started from (the first-received of its work): taken up again, a branch that fails where it has
   * only that tip's work goes back to it, as the activation would have without our failure.
   * `error`: what stopped it, for health.
   */
  private pending: { from: BlockNode; error: ValidationResult | undefined } | undefined;
  private readonly assumeValidHash: Uint8Array | undefined;
  private readonly minimumChainWork: bigint;
  /** Whether the last connected block skipped its scripts (to log only the changes). */
  private skippingScripts = false;
  /** Blocks whose scripts assumevalid skipped. */
  scriptsSkipped = 0;
  /** Releases the directory's writer lock (taken by open). */
  private releaseLock: () => void = () => {};

  private constructor(
    readonly store: ChainStore,
    readonly params: ChainParams,
    private readonly opts: ChainStateOptions,
  ) {
    const backend = opts.backend;
    this.runScripts = opts.runScripts ?? ((work, flags) => Promise.resolve(runScriptsSerial(work, flags, backend)));
    const av = opts.assumeValid === undefined ? params.defaultAssumeValid : (opts.assumeValid ?? undefined);
    this.assumeValidHash = av === undefined ? undefined : av.slice();
    this.minimumChainWork = opts.minimumChainWork ?? params.minimumChainWork;
  }

  /** Open (or create, starting from genesis) the chain state in `dir`. */
  static async open(dir: string, opts: ChainStateOptions): Promise<ChainState> {
    // Options first: a bad one must not leave a directory and a lock behind.
    if (typeof opts !== 'object' || opts === null) throw new TypeError('ChainState.open(dir, opts): opts must be an object with the network');
    const params = getParams(opts.network);
    if (opts.minimumChainWork !== undefined && (typeof opts.minimumChainWork !== 'bigint' || opts.minimumChainWork < 0n)) {
      throw new TypeError('ChainState.open: minimumChainWork must be a bigint ≥ 0');
    }
    // A hex string (as Core's -assumevalid takes it) or a hash of the wrong length would name no
    // block: assumevalid off, unsaid.
    const av = opts.assumeValid;
    if (av !== undefined && av !== null && !(av instanceof Uint8Array && av.length === 32)) {
      throw new TypeError('ChainState.open: assumeValid must be a 32-byte hash (a Uint8Array in internal byte order: hexToHash of the displayed hash), null for off, or left out');
    }
    // Called while a block is connected: a value that is no function would throw there, mid-way.
    for (const name of ['runScripts', 'now', 'log'] as const) {
      if (opts[name] !== undefined && typeof opts[name] !== 'function') throw new TypeError(`ChainState.open: ${name} must be a function when given`);
    }
    if (opts.observer !== undefined && (typeof opts.observer !== 'object' || opts.observer === null)) throw new TypeError('ChainState.open: observer must be an object when given');
    if (opts.noSync !== undefined && typeof opts.noSync !== 'boolean') throw new TypeError('ChainState.open: noSync must be a boolean when given');
    const backend = opts.backend as Partial<SignatureBackend> | undefined;
    if (backend !== undefined && (typeof backend !== 'object' || backend === null || typeof backend.verifyEcdsa !== 'function' || typeof backend.verifySchnorr !== 'function')) {
      throw new TypeError('ChainState.open: backend must be a SignatureBackend (nobleBackend, or what loadBackend gives) when given');
    }
    const release = acquireDirLock(dir);
    let store: ChainStore | undefined;
    try {
      store = ChainStore.open(dir, opts.noSync === undefined ? { network: opts.network } : { network: opts.network, noSync: opts.noSync });
      const chain = new ChainState(store, params, opts);
      chain.releaseLock = release;
      await chain.load();
      return chain;
    } catch (err) {
      await store?.close().catch(() => {});
      release();
      throw err;
    }
  }

  private async load(): Promise<void> {
    const entries: BlockIndexEntry[] = [];
    this.store.forEachIndex((e) => entries.push(e));
    if (entries.length === 0) {
      const genesis = decodeBlock(this.params.genesisBlock);
      if (!genesis.ok) throw new Error('genesis block does not parse');
      const hash = genesis.block.hash();
      const entry: BlockIndexEntry = {
        hash,
        header: genesis.block.header.toBytes(),
        height: 0,
        chainWork: getBlockProof(genesis.block.header.bits),
        status: BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS,
      };
      // Genesis is the first tip; its coinbase is never spendable, so no coins change.
      await this.store.applyBlock({ entry, block: this.params.genesisBlock, spent: [], created: [], undo: [], tip: { hash, height: 0 } });
      entries.push(entry);
    }
    entries.sort((a, b) => a.height - b.height);
    for (const e of entries) this.addNode(e);
    const tip = this.store.getTip();
    if (tip === undefined) throw new Error('store has an index but no tip');
    let node: BlockNode | undefined = this.nodes.get(tip.hash);
    if (node === undefined) throw new Error('the stored tip is not in the block index');
    this.active.length = node.height + 1;
    for (; node !== undefined; node = node.prev) this.active[node.height] = node;
    // addNode took the most work among headers not marked failed; one whose branch holds a failed
    // block (marked, while it was not) is no best header either.
    this.recomputeBestHeader();
    // A crash between storing a block and connecting it leaves a better branch waiting.
    await this.activateBestChain(this.findBestCandidate());
  }

  private addNode(e: BlockIndexEntry): BlockNode {
    // Callers look first, but one (markFailed) awaits in between: never index a hash twice.
    const existing = this.nodes.get(e.hash);
    if (existing !== undefined) return existing;
    // Copies, header then hash, into the index's chunks: the entry's header is often a view into
    // the whole block and its hash one into a batch's results, which the index would otherwise
    // keep alive for as long as the node lives (every block, for the whole run).
    const { chunk, off } = this.nodes.record(e.header, e.hash);
    const view = new DataView(chunk.buffer, chunk.byteOffset + off, 80);
    const prev = e.height === 0 ? undefined : this.nodes.get(chunk, off + 4);
    const node = new IndexNode(
      chunk,
      off,
      e.height,
      view.getUint32(68, true),
      view.getUint32(72, true),
      e.chainWork,
      prev,
      prev === undefined ? undefined : skipAncestor(prev, getSkipHeight(e.height)),
      e.status,
    );
    this.nodes.add(node);
    if ((node.status & BLOCK_FAILED_VALID) !== 0) this.failedBlocks.add(node);
    if ((node.status & FAILED) === 0 && (this.bestHeader === undefined || node.chainWork > this.bestHeader.chainWork)) this.bestHeader = node;
    return node;
  }

  get tip(): BlockNode {
    return this.active[this.active.length - 1]!;
  }

  getNode(hashHex: string): BlockNode | undefined {
    return /^[0-9a-fA-F]{64}$/.test(hashHex) ? this.nodes.get(hexToHash(hashHex)) : undefined;
  }

  /** The node of the block whose (internal byte order) hash is `hash`. */
  getNodeByHash(hash: Uint8Array): BlockNode | undefined {
    return hash.length === 32 ? this.nodes.get(hash) : undefined;
  }

  /** The active chain's block at `height`. */
  atHeight(height: number): BlockNode | undefined {
    return this.active[height];
  }

  /** Core's GetAncestor: the block at `height` on `node`'s branch. */
  ancestor(node: BlockNode, height: number): BlockNode | undefined {
    if (height < 0 || height > node.height) return undefined;
    // On the active chain the answer is an array read; off it, the skip pointers.
    if (this.active[node.height] === node) return this.active[height];
    return skipAncestor(node, height);
  }

  private mtp(node: BlockNode): number {
    if (node.mtp === undefined) node.mtp = getMedianTimePast(node, (h) => this.ancestor(node, h)!);
    return node.mtp;
  }

  private tipInfo(): { hash: string; height: number } {
    return { hash: this.tip.hex, height: this.tip.height };
  }

  /**
   * Core's AcceptBlockHeader: check a header in its context and add it to the index without
   * its block (headers first: assumevalid needs to know the best header chain).
   */
  acceptHeader(header: BlockHeader): ValidationResult {
    // Misuse, as processBlock refuses it: the index of a closed chain is no one's to grow.
    if (this.closing) throw new StoreError('closed', `acceptHeader after close(): the chain state at ${this.store.dir} is closed`);
    const known = this.nodes.get(header.hash());
    if (known !== undefined) return (known.status & FAILED) !== 0 ? invalid('duplicate-invalid', 'header is marked invalid') : VALID;
    // Core's order: CheckBlockHeader, then the parent, then its validity.
    const pow = checkBlockHeader(header, this.params);
    if (pow.mode !== 'valid') return pow;
    const parent = this.nodes.get(header.prevBlock);
    if (parent === undefined) return invalid('prev-blk-not-found', 'previous header is not known');
    if (this.failedAncestor(parent) !== undefined) return invalid('bad-prevblk', 'previous block is invalid');
    const r = contextualCheckBlockHeader(header, this.headerContext(parent, header), this.params);
    if (r.mode !== 'valid') return r;
    this.addNode({ hash: header.hash(), header: header.toBytes(), height: parent.height + 1, chainWork: parent.chainWork + getBlockProof(header.bits), status: 0 });
    return VALID;
  }

  private headerContext(parent: BlockNode, header: BlockHeader) {
    const now: unknown = (this.opts.now ?? (() => Math.floor(Date.now() / 1000)))();
    // The caller's clock, misuse when it gives no time: NaN, a string or undefined passed every
    // comparison, so time-too-new was skipped and a block from the future connected.
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new RangeError(`ChainState: the clock (opts.now) must give a finite number of seconds, got ${String(now)}`);
    return {
      height: parent.height + 1,
      prevMedianTimePast: this.mtp(parent),
      prevTime: parent.time,
      expectedBits: getNextWorkRequired(parent, header.time, this.params, (h) => this.ancestor(parent, h)!),
      now,
    };
  }

  /**
   * The internal error (say store-write-failed) that stopped an activation part-way, while it is
   * not yet taken up successfully; undefined when none is pending. A taken-up activation that
   * fails again is not in the answer of the block that took it up: the service's health reads it here.
   */
  get pendingActivationError(): ValidationResult | undefined {
    return this.pending?.error;
  }

  /** Whether assumevalid is configured (the importer then reads headers first). */
  get assumeValidEnabled(): boolean {
    return this.assumeValidHash !== undefined;
  }

  /**
   * Core's ConnectBlock assumevalid test: skip scripts when the block is an ancestor of the
   * assumevalid block and of the best header, the best header has the minimum chain work,
   * and the best header is more than two weeks of work past the block.
   */
  private assumedValid(node: BlockNode): { skip: boolean; why: string } {
    const av = this.assumeValidHash === undefined ? undefined : this.nodes.get(this.assumeValidHash);
    if (av === undefined) return { skip: false, why: this.assumeValidHash === undefined ? 'assumevalid is off' : 'the assumevalid block is not known' };
    if (this.ancestor(av, node.height) !== node) return { skip: false, why: 'the block is not an ancestor of the assumevalid block' };
    const best = this.bestHeader;
    if (best === undefined || this.ancestor(best, node.height) !== node) return { skip: false, why: 'the block is not on the best header chain' };
    if (best.chainWork < this.minimumChainWork) return { skip: false, why: 'the best header lacks the minimum chain work' };
    // Core's GetBlockProofEquivalentTime(best, block, best).
    const seconds = ((best.chainWork - node.chainWork) * BigInt(this.params.powTargetSpacing)) / getBlockProof(best.bits);
    if (seconds <= BigInt(ASSUMEVALID_MIN_AGE)) return { skip: false, why: 'the block is less than two weeks of work deep' };
    return { skip: true, why: `ancestor of assumevalid block ${av.hex} on the best header chain, ${seconds / 86400n} days of work deep` };
  }

  /**
   * Accept a block and, if its branch now has the most work, connect it. `hashes`: what
   * computeBlockHashes gave for these bytes on another thread (the import's look-ahead).
   * 'prev-blk-not-found' means the parent is not known, or (after acceptHeader) known only by
   * its header: either way the block can be given again once its parent has been.
   *
   * Calls may overlap: each waits for the one before it (Core holds cs_main through
   * ProcessNewBlock). Run side by side, two could move the tip at once, and the store's check of
   * its tip refused one of them as an internal error.
   */
  processBlock(raw: Uint8Array, hashes?: Uint8Array): Promise<ProcessResult> {
    // Misuse, refused as the store refuses it: answered, it would read as a verdict on the block
    // (its parent unknown to a reopened chain, a coin not readable from the closed store).
    if (this.closing) return Promise.reject(new StoreError('closed', `processBlock after close(): the chain state at ${this.store.dir} is closed`));
    const run = this.processing.then(() => this.processOne(raw, hashes));
    this.processing = run.catch(() => undefined);
    return run;
  }

  /** The last processBlock call, settled (it never rejects). */
  private processing: Promise<unknown> = Promise.resolve();
  /** Set by close(): blocks given before it are still processed, later ones refused. */
  private closing = false;

  private async processOne(raw: Uint8Array, hashes?: Uint8Array): Promise<ProcessResult> {
    // What it finds (a stored block found invalid) is reported with this block's result.
    const resumed = this.pending !== undefined ? await this.activateBestChain(this.findBestCandidate()) : undefined;
    const observer = this.opts.observer;
    let t = performance.now();
    // What the resumed activation found, with what this block's own activation found (`results`),
    // less the block `own` answered for itself: every answer carries it, bytes that are no block too.
    const withInvalidated = (r: ProcessResult, results?: Map<string, ValidationResult>, own?: string): ProcessResult => {
      const all = resumed === undefined ? results : new Map([...resumed, ...(results ?? [])]);
      const invalidated = all === undefined ? [] : this.invalidatedBesides(own, all);
      if (invalidated.length > 0) r.invalidated = invalidated;
      return r;
    };
    const unread = (result: ValidationResult): ProcessResult => withInvalidated({ result, hash: '', duplicate: false, connected: false, tip: this.tipInfo() });
    const size = checkSerializedSize(raw);
    if (size.mode !== 'valid') return unread(size);
    const decoded = decodeBlock(raw);
    observer?.stage?.('parse', seconds(t));
    if (!decoded.ok) return unread(invalid('block-decode-failed', decoded.message));
    const block = decoded.block;
    if (hashes !== undefined) adoptBlockHashes(block, hashes);
    const hex = hashToHex(block.hash());
    const done = (result: ValidationResult, duplicate = false, height?: number, results?: Map<string, ValidationResult>): ProcessResult => {
      const connected = result.mode === 'valid' && height !== undefined && this.active[height]?.hex === hex;
      const r: ProcessResult = { result, hash: hex, duplicate, connected, tip: this.tipInfo() };
      if (height !== undefined) r.height = height;
      // This block itself, found invalid by the activation taken up first (our own failure had
      // stopped one before it was judged), is reported too: its answer now is duplicate-invalid,
      // and whoever sent it first is the one to blame.
      const foundOnResume = resumed?.has(hex) === true && results?.has(hex) !== true;
      return withInvalidated(r, results, foundOnResume ? undefined : hex);
    };

    t = performance.now();
    const checked = checkBlock(block, this.params);
    // Not remembered, as in Core (ProcessNewBlock returns before AcceptBlock indexes the block):
    // CheckBlock cannot always tell a bad block from bad bytes under a good header (a
    // 64-byte transaction can pose as the merkle root's pair of txids). It runs before the hash
    // is looked up, as there: bytes that do not match a known block's header are no duplicate.
    if (checked.mode !== 'valid') return done(checked);

    const known = this.nodes.get(block.hash());
    if (known !== undefined) {
      if ((known.status & FAILED) !== 0) return done(invalid('duplicate-invalid', 'block is marked invalid'), true, known.height);
      if ((known.status & BLOCK_HAVE_DATA) !== 0) {
        // Core's ProcessNewBlock activates the best chain for a block it has already: one stored
        // when our own error kept it from connecting (a full disk) is tried again now.
        if (known.chainWork <= this.tip.chainWork) return done(VALID, true, known.height);
        const results = await this.activateBestChain(this.findBestCandidate());
        return done(results.get(known.hex) ?? firstError(results) ?? VALID, true, known.height, results);
      }
    }

    const parent = this.nodes.get(block.header.prevBlock);
    if (parent === undefined) return done(invalid('prev-blk-not-found', 'previous block is not known'));
    const failedAt = this.failedAncestor(parent);
    const branch = failedAt !== undefined ? 'failed' : this.branchState(parent);
    if (branch === 'failed') {
      // Core's AcceptBlockHeader: a parent that is, or descends from, a block known invalid. The
      // block is not indexed (the same answer comes again); the blocks between it and the invalid
      // one are marked as descending from it.
      for (let n: BlockNode | undefined = parent; n !== undefined && n !== failedAt && (n.status & FAILED) === 0; n = n.prev) {
        n.status |= BLOCK_FAILED_CHILD;
        await this.putStatus(n);
      }
      return done(invalid('bad-prevblk', 'previous block is invalid'), false, parent.height + 1);
    }
    // A parent known only by its header (the import reads headers first) may have its data later:
    // this block waits for it, as one with an unknown parent does (the import keeps it as a place
    // in its file). Stored now, it would sit above a parent that no store record knows, and a
    // restart could not place it. Checked before the contextual checks: they run when it comes back.
    if (branch === 'missing') return done(invalid('prev-blk-not-found', "previous block's data is not known yet"), false, parent.height + 1);

    const height = parent.height + 1;
    const ctx = this.headerContext(parent, block.header);
    const header = contextualCheckBlockHeader(block.header, ctx, this.params);
    // Not remembered, as in Core: AcceptBlockHeader returns before AddToBlockIndex, so the same
    // block is checked again (and answered the same), and a child of it has an unknown parent.
    if (header.mode !== 'valid') return done(header, false, height);
    const contextual = contextualCheckBlock(block, ctx, this.params);
    if (contextual.mode !== 'valid') {
      if (contextual.mode === 'invalid') await this.markFailed(block, parent);
      return done(contextual, false, height);
    }
    observer?.stage?.('precheck', seconds(t));

    const entry: BlockIndexEntry = {
      hash: block.hash(),
      header: block.header.toBytes(),
      height,
      chainWork: parent.chainWork + getBlockProof(block.header.bits),
      status: BLOCK_HAVE_DATA,
    };
    // While an activation our failure stopped is still pending (taken up before this block, it
    // failed again), the tip may sit part-way down a branch: a block on it is stored first, as one
    // beside the tip, and connected only if its branch is the best.
    if (parent === this.tip && this.pending === undefined) {
      // The block extends the tip (the common case): stored by the same transaction that
      // connects it, one commit instead of two. Until then its entry is a header's (no data).
      const node = this.nodes.get(entry.hash) ?? this.addNode({ ...entry, status: 0 });
      const results = await this.activateBestChain(node, block, raw);
      return done(results.get(hex) ?? VALID, false, height, results);
    }

    t = performance.now();
    let node: BlockNode;
    try {
      await this.store.putBlock(entry.hash, raw, entry);
      node = this.nodes.get(entry.hash) ?? this.addNode(entry);
      node.status |= BLOCK_HAVE_DATA;
    } catch (err) {
      return done(internalError('store-write-failed', (err as Error).message), false, height);
    }
    observer?.stage?.('commit', seconds(t));

    if (node.chainWork <= this.tip.chainWork) return done(VALID, false, height);
    const results = await this.activateBestChain(node, block);
    // An internal error while connecting the branch this block completes is reported with it.
    return done(results.get(hex) ?? firstError(results) ?? VALID, false, height, results);
  }

  /** The blocks of `results` found invalid themselves (not for an ancestor), other than `hex` (when given). */
  private invalidatedBesides(hex: string | undefined, results: Map<string, ValidationResult>): NonNullable<ProcessResult['invalidated']> {
    const out: NonNullable<ProcessResult['invalidated']> = [];
    for (const [h, result] of results) {
      if (h === hex || result.mode !== 'invalid') continue;
      const node = this.getNode(h);
      if (node !== undefined && (node.status & BLOCK_FAILED_VALID) !== 0) out.push({ hash: h, height: node.height, result });
    }
    return out;
  }

  /**
   * `parent` itself when it is marked failed, else the block found invalid (Core's m_failed_blocks)
   * that it descends from, if any: a header-only block between them carries no mark (Core's
   * AcceptBlockHeader). The active chain descends from none.
   */
  private failedAncestor(parent: BlockNode): BlockNode | undefined {
    if ((parent.status & FAILED) !== 0) return parent;
    if (this.active[parent.height] === parent) return undefined;
    for (const f of this.failedBlocks) if (f.height <= parent.height && this.ancestor(parent, f.height) === f) return f;
    return undefined;
  }

  /**
   * The blocks from `node` back to the active chain: 'whole' when each has its data, 'failed' when
   * one is known invalid (activation marks only the path it tried, so a side branch's blocks can
   * descend from a failed one unmarked), 'missing' when one, nearer, is known only by its header.
   */
  private branchState(node: BlockNode): 'whole' | 'failed' | 'missing' {
    for (let n: BlockNode | undefined = node; n !== undefined && this.active[n.height] !== n; n = n.prev) {
      if ((n.status & FAILED) !== 0) return 'failed';
      // A failed block further back is found once this data comes and the block is given again.
      if ((n.status & BLOCK_HAVE_DATA) === 0) return 'missing';
    }
    return 'whole';
  }

  /**
   * Store the data of a block whose connection was tried before it was stored and did not
   * commit (it failed, or the store refused it): Core's AcceptBlock has written it by then.
   */
  private async storeBlockData(node: BlockNode, raw: Uint8Array): Promise<ValidationResult> {
    const t = performance.now();
    try {
      await this.store.putBlock(node.hash, raw, { hash: node.hash, header: node.headerBytes, height: node.height, chainWork: node.chainWork, status: node.status });
    } catch (err) {
      return internalError('store-write-failed', (err as Error).message);
    }
    node.status |= BLOCK_HAVE_DATA;
    this.opts.observer?.stage?.('commit', seconds(t));
    return VALID;
  }

  /**
   * Core's SetBlockFailureFlags (InvalidChainFound): every indexed block above `failed`, whether
   * its data came or only its header, is marked BLOCK_FAILED_CHILD at once, so it is answered
   * duplicate-invalid when it comes again, header or block.
   */
  private async markDescendantsFailed(failed: BlockNode): Promise<void> {
    const marked: BlockNode[] = [];
    for (const n of this.nodes.values()) {
      if (n.height <= failed.height || (n.status & FAILED) !== 0 || this.ancestor(n, failed.height) !== failed) continue;
      n.status |= BLOCK_FAILED_CHILD;
      marked.push(n);
    }
    // One transaction for them all: a commit each took 9.7 s for 20,000 headers without write-back.
    try {
      await this.store.putIndexes(marked.map((n) => ({ hash: n.hash, header: n.headerBytes, height: n.height, chainWork: n.chainWork, status: n.status })));
    } catch {
      // As putStatus: the marks are a cache of a verdict that can be computed again.
    }
  }

  /** Index `block` (on `parent`) as found invalid itself: BLOCK_FAILED_VALID. */
  private async markFailed(block: Block, parent: BlockNode): Promise<void> {
    const existing = this.nodes.get(block.hash());
    if (existing !== undefined) {
      existing.status |= BLOCK_FAILED_VALID;
      this.failedBlocks.add(existing);
      await this.putStatus(existing);
      await this.markDescendantsFailed(existing);
      // Core's InvalidChainFound: a best header on the failed branch gives way (RecalculateBestHeader).
      const best = this.bestHeader;
      if (best !== undefined && this.ancestor(best, existing.height) === existing) this.recomputeBestHeader();
      return;
    }
    const entry: BlockIndexEntry = {
      hash: block.hash(),
      header: block.header.toBytes(),
      height: parent.height + 1,
      chainWork: parent.chainWork + getBlockProof(block.header.bits),
      status: BLOCK_FAILED_VALID,
    };
    try {
      await this.store.putIndex(entry);
    } catch {
      // Remembering an invalid block is an optimisation; losing it is harmless.
    }
    this.addNode(entry);
  }

  private async putStatus(node: BlockNode): Promise<void> {
    try {
      await this.store.putIndex({ hash: node.hash, header: node.headerBytes, height: node.height, chainWork: node.chainWork, status: node.status });
    } catch {
      // As above: the status is a cache of a verdict that can be computed again.
    }
  }

  /** The stored, not-failed block with the most work whose whole branch is stored (O(index)). */
  private findBestCandidate(): BlockNode {
    let best = this.tip;
    for (const node of this.nodes.values()) {
      if (node.chainWork <= best.chainWork || (node.status & FAILED) !== 0 || (node.status & BLOCK_HAVE_DATA) === 0) continue;
      let ok = true;
      for (let n: BlockNode | undefined = node; n !== undefined && this.active[n.height] !== n; n = n.prev) {
        if ((n.status & FAILED) !== 0 || (n.status & BLOCK_HAVE_DATA) === 0) {
          ok = false;
          break;
        }
      }
      if (ok) best = node;
    }
    return best;
  }

  /**
   * Core's ActivateBestChain: move the tip to `target` (disconnecting back to the fork,
   * then connecting forward); when a block on the way fails, mark it and its descendants
   * and move to the best branch that is left. Returns each attempted block's result.
   */
  private async activateBestChain(target: BlockNode, known?: Block, knownRaw?: Uint8Array): Promise<Map<string, ValidationResult>> {
    const results = new Map<string, ValidationResult>();
    // Core keeps the tip it starts from among its candidates (PruneBlockIndexCandidates drops only
    // those worse than the tip), and at equal work the block received first wins: that tip, the
    // best candidate before this call. So when a branch fails where it has only that tip's work,
    // Core goes back to it rather than stay on the part of the branch that connected.
    // Taking up an activation an internal error stopped: `target` (say, a block just given that
    // extends the tip it stopped on) need not be the best branch, so this one ends only there.
    const resuming = this.pending !== undefined;
    // The tip it stopped on may be part-way down a reorganisation: the one it started from is the
    // first-received at its work.
    const startTip = this.pending?.from ?? this.tip;
    // The branch with the most work; at the start tip's work, the start tip (received first).
    const best = (): BlockNode => {
      const b = this.findBestCandidate();
      return b.chainWork === startTip.chainWork && (startTip.status & FAILED) === 0 ? startTip : b;
    };
    // Taken up: to the best branch, whatever block was given (stored already: only a block that
    // extends a tip no activation is pending on comes with its bytes still to store).
    if (resuming && knownRaw === undefined) target = best();
    const stop = (): Map<string, ValidationResult> => {
      this.pending = { from: startTip, error: firstError(results) };
      return results;
    };
    while (target !== this.tip) {
      const fork = this.findFork(target);
      let undone = 0;
      while (this.tip !== fork) {
        const r = await this.disconnectTip();
        if (r.mode !== 'valid') {
          results.set(this.tip.hex, r);
          return stop();
        }
        undone++;
      }
      if (undone > 0) this.opts.observer?.reorg?.({ fork: fork.height, disconnected: undone });
      const path: BlockNode[] = [];
      for (let n: BlockNode | undefined = target; n !== undefined && n !== fork; n = n.prev) path.push(n);
      path.reverse();
      let failed = false;
      for (const node of path) {
        const isKnown = known !== undefined && equalBytes(known.hash(), node.hash);
        const block = isKnown ? known : this.readBlock(node);
        // A block not stored yet goes to the store with its connection.
        const raw = isKnown && (node.status & BLOCK_HAVE_DATA) === 0 ? knownRaw : undefined;
        let r = block instanceof Block ? await this.connectTip(node, block, raw) : block;
        if (raw !== undefined && r.mode !== 'valid') {
          const stored = await this.storeBlockData(node, raw);
          if (stored.mode !== 'valid' && r.mode !== 'error') r = stored;
        }
        results.set(node.hex, r);
        if (r.mode === 'error') return stop();
        if (r.mode !== 'valid') {
          node.status |= BLOCK_FAILED_VALID;
          this.failedBlocks.add(node);
          await this.putStatus(node);
          for (const d of path.slice(path.indexOf(node) + 1)) results.set(d.hex, invalid('bad-prevblk', `ancestor ${node.hex} is invalid: ${r.reason}`));
          await this.markDescendantsFailed(node);
          failed = true;
          break;
        }
      }
      if (!failed) {
        if (!resuming) break;
        const next = best();
        if (next === this.tip) break;
        target = next;
        continue;
      }
      this.recomputeBestHeader();
      target = best();
    }
    this.pending = undefined;
    return results;
  }

  /**
   * The header with the most work that is not failed and descends from no failed block. Linear in
   * the index: whether a branch descends from a failed block is found once for all its headers (a
   * walk from each header back to the active chain took 0.45 s for 16,000 headers past the tip and
   * grew with their square: half an hour for a headers-first import of mainnet's).
   */
  private recomputeBestHeader(): void {
    const failedBranch = new Map<BlockNode, boolean>();
    const descendsFromFailed = (start: BlockNode): boolean => {
      const path: BlockNode[] = [];
      let verdict = false;
      for (let n: BlockNode | undefined = start; n !== undefined && this.active[n.height] !== n; n = n.prev) {
        const known = failedBranch.get(n);
        if (known !== undefined) {
          verdict = known;
          break;
        }
        path.push(n);
        if ((n.status & FAILED) !== 0) {
          verdict = true;
          break;
        }
      }
      for (const n of path) failedBranch.set(n, verdict);
      return verdict;
    };
    let best: BlockNode | undefined;
    for (const n of this.nodes.values()) {
      if ((best === undefined || n.chainWork > best.chainWork) && !descendsFromFailed(n)) best = n;
    }
    this.bestHeader = best;
  }

  private findFork(target: BlockNode): BlockNode {
    let n: BlockNode | undefined = target;
    while (n !== undefined && this.active[n.height] !== n) n = n.prev;
    if (n === undefined) throw new Error(`block ${target.hex} does not descend from genesis`);
    return n;
  }

  /** The stored block of `node`, or the internal error that kept it from being read. */
  private readBlock(node: BlockNode): Block | ValidationResult {
    let raw: Uint8Array | undefined;
    try {
      raw = this.store.getBlock(node.hash);
    } catch (err) {
      return internalError('block-read-failed', (err as Error).message);
    }
    if (raw === undefined) return internalError('block-missing', `block ${node.hex} is not in the store`);
    const decoded = decodeBlock(raw);
    return decoded.ok ? decoded.block : internalError('block-read-failed', `stored block ${node.hex} does not decode: ${decoded.message}`);
  }

  /**
   * Core's ConnectTip: ConnectBlock on the UTXO set, then one store transaction, which also
   * stores the block when `raw` is given.
   */
  private async connectTip(node: BlockNode, block: Block, raw?: Uint8Array): Promise<ValidationResult> {
    const params = this.params;
    const height = node.height;
    const flags = getBlockScriptFlags(params.name, height, node.hash);
    const store = this.store;
    const observer = this.opts.observer;
    let t = performance.now();
    let connect;
    try {
      connect = connectBlockInputs(
        block,
        {
          height,
          flags,
          lockTimeFlags: height >= params.csvHeight ? LOCKTIME_VERIFY_SEQUENCE : 0,
          prevMedianTimePast: this.mtp(node.prev!),
          medianTimePastAt: (h) => this.mtp(this.active[h]!),
          // Core: pindex->pprev->GetAncestor(BIP34Height), none for the BIP34 block itself (so
          // BIP30 is checked there too).
          enforceBIP30: enforceBIP30(params, height, node.hash, this.ancestor(node.prev!, params.bip34Height)?.hash),
          subsidyHalvingInterval: params.subsidyHalvingInterval,
        },
        {
          fetch: (txid, vout): SpentCoin | undefined => store.getCoin(txid, vout),
          haveCoin: (txid, vout) => store.hasCoin(txid, vout),
        },
      );
    } catch (err) {
      return internalError('coin-read-failed', (err as Error).message);
    }
    observer?.stage?.('coins', seconds(t));
    if (connect.result.mode !== 'valid') return connect.result;
    const assumed = this.assumedValid(node);
    if (assumed.skip !== this.skippingScripts && this.opts.log !== undefined) {
      this.opts.log(
        assumed.skip
          ? `assumevalid: skipping script checks from block ${node.hex} (height ${height}): ${assumed.why}`
          : `assumevalid: checking scripts again from block ${node.hex} (height ${height}): ${assumed.why}`,
      );
    }
    this.skippingScripts = assumed.skip;
    if (assumed.skip) {
      this.scriptsSkipped++;
    } else {
      let scripts: ValidationResult;
      t = performance.now();
      try {
        scripts = await this.runScripts(connect.scripts, flags);
      } catch (err) {
        return internalError('script-check-failed', (err as Error).message);
      }
      observer?.stage?.('scripts', seconds(t));
      if (scripts.mode !== 'valid') return scripts;
    }
    t = performance.now();

    const before = node.status;
    node.status |= BLOCK_VALID_SCRIPTS | BLOCK_HAVE_UNDO | (raw === undefined ? 0 : BLOCK_HAVE_DATA);
    try {
      await store.applyBlock({
        entry: { hash: node.hash, header: node.headerBytes, height, chainWork: node.chainWork, status: node.status },
        ...(raw === undefined ? {} : { block: raw }),
        spent: connect.update.spent,
        created: connect.update.created,
        undo: connect.update.undo.map((c) => ({ value: c.value, scriptPubKey: c.scriptPubKey, height: c.height ?? 0, coinbase: c.coinbase ?? false })),
        tip: { hash: node.hash, height },
      });
    } catch (err) {
      node.status = before;
      return internalError('store-write-failed', (err as Error).message);
    }
    this.active.push(node);
    if (observer !== undefined) {
      observer.stage?.('commit', seconds(t));
      let inputs = 0;
      for (let i = 1; i < block.txs.length; i++) inputs += block.txs[i]!.inputs.length;
      observer.connected?.({ hash: node.hex, height, txs: block.txs.length, inputs, scriptsChecked: !assumed.skip });
    }
    return VALID;
  }

  /** Core's DisconnectTip: undo the tip's coin changes with its undo data. */
  private async disconnectTip(): Promise<ValidationResult> {
    const node = this.tip;
    const prev = node.prev;
    if (prev === undefined) return internalError('disconnect-genesis', 'cannot disconnect the genesis block');
    const block = this.readBlock(node);
    if (!(block instanceof Block)) return block;
    let undo: ReturnType<ChainStore['getUndo']>;
    try {
      undo = this.store.getUndo(node.hash);
    } catch (err) {
      return internalError('undo-read-failed', (err as Error).message);
    }
    if (undo === undefined) return internalError('undo-missing', `no undo data for ${node.hex}`);
    const removed: Array<{ txid: Uint8Array; vout: number }> = [];
    const restored: Array<{ txid: Uint8Array; vout: number; coin: (typeof undo)[number] }> = [];
    const ownTxids = new Set<string>();
    let k = 0;
    for (const tx of block.txs) {
      if (!tx.isCoinbase()) {
        for (const input of tx.inputs) {
          // Coins made earlier in this block were never in the set before it.
          if (ownTxids.has(hashToHex(input.prevout.hash))) continue;
          const coin = undo[k++];
          if (coin === undefined) return internalError('undo-mismatch', `undo data of ${node.hex} is shorter than its inputs`);
          restored.push({ txid: input.prevout.hash, vout: input.prevout.index, coin });
        }
      }
      const txid = tx.txid();
      ownTxids.add(hashToHex(txid));
      tx.outputs.forEach((out, o) => {
        if (!isUnspendable(out.scriptPubKey)) removed.push({ txid, vout: o });
      });
    }
    if (k !== undo.length) return internalError('undo-mismatch', `undo data of ${node.hex} is longer than its inputs`);
    node.status &= ~BLOCK_HAVE_UNDO;
    try {
      await this.store.revertBlock({
        entry: { hash: node.hash, header: node.headerBytes, height: node.height, chainWork: node.chainWork, status: node.status },
        removed,
        restored,
        tip: { hash: prev.hash, height: prev.height },
      });
    } catch (err) {
      node.status |= BLOCK_HAVE_UNDO;
      return internalError('store-write-failed', (err as Error).message);
    }
    this.active.pop();
    this.opts.observer?.disconnected?.({ hash: node.hex, height: node.height });
    return VALID;
  }

  utxoDigest(): Uint8Array {
    return this.store.utxoDigest();
  }

  /** Close the store, once the blocks given so far are processed. */
  async close(): Promise<void> {
    this.closing = true;
    await this.processing;
    try {
      await this.store.close();
    } finally {
      this.releaseLock();
      this.releaseLock = () => {};
    }
  }
}
