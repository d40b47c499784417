// Stateless block validation: every consensus rule that can be checked from the block
// and the outputs it spends, with no chain behind it (Core's CheckBlock,
// ContextualCheckBlock and ConnectBlock against a caller-supplied coin list).

import { Block, decodeBlock } from '../primitives/block.js';
import { hashToHex, equalBytes } from '../primitives/bytes.js';
import { checkSpentOutputs } from '../primitives/transaction.js';
import type { SignatureBackend } from '../script/signature.js';
import { impliedHeight } from './bip34.js';
import { checkBlockBody, checkBlockCommitment, checkSerializedSize, contextualCheckBlock, contextualCheckBlockHeader } from './check-block.js';
import { connectBlockInputs, runScriptsSerial, type CoinSource, type SpentCoin, type TxScriptWork } from './connect-block.js';
import { LOCKTIME_VERIFY_SEQUENCE } from './consensus.js';
import { getParams, type ChainParams } from './params.js';
import { getBlockScriptFlags, type NetworkName } from './script-flags.js';
import { expectedScriptWork, sameScriptWork, spentOutputsByTx } from './block-scripts.js';
import { BlockTxids } from './block-txids.js';
import { internalError, invalid, type ValidationResult } from './validation.js';

export interface ValidateBlockOptions {
  network: NetworkName;
  /** The block's height; taken from the BIP34 coinbase when omitted. */
  height?: number;
  /** Check the header's proof of work (default true); off only for tests on altered blocks. */
  checkPow?: boolean;
  /** Current time for 'time-too-new' (seconds); defaults to the clock. */
  now?: number;
  backend?: SignatureBackend;
}

export interface BlockReport {
  result: ValidationResult;
  hash?: string;
  height?: number;
  txs: number;
  inputs: number;
  fees?: number;
  sigOpCost?: number;
  /** Rules that could not be checked without a chain or with sparse spent-output data. */
  skipped: string[];
}

/** Core's BIP34_IMPLIES_BIP30_LIMIT: above it BIP30 is checked again (see Core's ConnectBlock). */
export const BIP34_IMPLIES_BIP30_LIMIT = 1_983_702;

/** Whether Core's ConnectBlock runs the BIP30 overwrite check for this block. */
export function enforceBIP30(params: ChainParams, height: number, hash: Uint8Array, bip34AncestorHash: Uint8Array | undefined): boolean {
  if (params.bip30Exceptions.some((e) => e.height === height && equalBytes(e.hash, hash))) return false;
  const bip34Done = bip34AncestorHash !== undefined && params.bip34Hash !== undefined && equalBytes(bip34AncestorHash, params.bip34Hash);
  return !bip34Done || height >= BIP34_IMPLIES_BIP30_LIMIT;
}

/** validateBlock needs the block's height: none was given and the coinbase carries none (BIP34). Misuse, not a verdict. */
export class MissingHeightError extends TypeError {
  constructor() {
    super('the coinbase carries no BIP34 height (a block of version 1, or one below the BIP34 height): pass opts.height');
    this.name = 'MissingHeightError';
  }
}

/**
 * Validate a raw block against the outputs its inputs spend, given flat in block order
 * (non-coinbase transactions, inputs in order). Coins the block itself creates are taken
 * from the block: spending one before it exists, or twice, is bad-txns-inputs-missingorspent.
 * Bad data gives a result; a missing height or a spent list of the wrong length is misuse and throws.
 */
export function validateBlock(raw: Uint8Array, spentOutputs: readonly SpentCoin[], opts: ValidateBlockOptions): BlockReport {
  checkCallerInput(spentOutputs, opts);
  const decoded = decodeRaw(raw);
  return decoded instanceof Block ? validateChecked(decoded, spentOutputs, opts) : decoded;
}

/** The block in `raw`, or the report for bytes too long to be a block or that do not decode as one. */
function decodeRaw(raw: Uint8Array): Block | BlockReport {
  const size = checkSerializedSize(raw);
  if (size.mode !== 'valid') return { result: size, txs: 0, inputs: 0, skipped: [] };
  const decoded = decodeBlock(raw);
  return decoded.ok ? decoded.block : { result: invalid('block-decode-failed', decoded.message), txs: 0, inputs: 0, skipped: [] };
}

export function validateDecodedBlock(block: Block, spentOutputs: readonly SpentCoin[], opts: ValidateBlockOptions): BlockReport {
  checkCallerInput(spentOutputs, opts);
  return validateChecked(block, spentOutputs, opts);
}

/** validateDecodedBlock once the caller's input is known to be of the right shape. */
function validateChecked(block: Block, spentOutputs: readonly SpentCoin[], opts: ValidateBlockOptions): BlockReport {
  const head = checkBeforeCoins(block, spentOutputs, opts);
  if (head.checked === undefined) return head.report;
  const pre = checkCoins(block, head.checked);
  if (pre.scripts === undefined) return pre.report;
  let result: ValidationResult;
  try {
    result = runScriptsSerial(pre.scripts.work, pre.scripts.flags, opts.backend);
  } catch (err) {
    result = scriptCheckFailed(err);
  }
  return { ...pre.report, result };
}

/** A throw while checking scripts (a backend's failure, a runner's): our own error, as ChainState reports it, never the block's. */
function scriptCheckFailed(err: unknown): ValidationResult {
  return internalError('script-check-failed', err instanceof Error ? err.message : String(err));
}

/**
 * Verifies a block's scripts (the worker pool). A signal, when given, fires when the caller no
 * longer needs the answer (the block failed another check meanwhile): the runner may stop early
 * and answer anything.
 */
export type ScriptRunner = (work: readonly TxScriptWork[], flags: number, signal?: AbortSignal) => Promise<ValidationResult>;

/**
 * validateBlock with the script checks handed to `runScripts` (the worker pool). As in Core's
 * ConnectBlock, whose script-check queue runs while the main thread goes on checking inputs, the
 * scripts start as soon as the block is known to match its header (its merkle root), and the rest
 * of the block checks and the coin checks run on this thread meanwhile. A failure of any other
 * rule still wins over a script failure, and the scripts are stopped.
 */
export async function validateBlockAsync(
  raw: Uint8Array,
  spentOutputs: readonly SpentCoin[],
  opts: ValidateBlockOptions & { runScripts: ScriptRunner },
): Promise<BlockReport> {
  checkCallerInput(spentOutputs, opts);
  const block = decodeRaw(raw);
  if (!(block instanceof Block)) return block;
  const stop = new AbortController();
  let early: { work: TxScriptWork[]; flags: number; running: Promise<ValidationResult> } | undefined;
  const withdraw = async (): Promise<void> => {
    stop.abort();
    await early?.running.catch(() => undefined);
  };
  const head = checkBeforeCoins(block, spentOutputs, opts, (start) => {
    // What connectBlockInputs will hand over if the coin checks pass (verified below).
    const work = expectedScriptWork(block, start.byTx, start.blockTxids);
    if (work === undefined) return;
    early = { work, flags: start.flags, running: startScripts(opts, work, start.flags, stop.signal) };
    // Settled either way below; never an unhandled rejection while the other checks run.
    early.running.catch(() => undefined);
  });
  if (head.checked === undefined) {
    await withdraw();
    return head.report;
  }
  const pre = checkCoins(block, head.checked);
  if (pre.scripts === undefined) {
    await withdraw();
    return pre.report;
  }
  if (early !== undefined && early.flags === pre.scripts.flags && sameScriptWork(early.work, pre.scripts.work)) {
    return { ...pre.report, result: await early.running.catch(scriptCheckFailed) };
  }
  // Not what the coin checks settled on (cannot happen once they pass; checked, not assumed).
  await withdraw();
  return { ...pre.report, result: await startScripts(opts, pre.scripts.work, pre.scripts.flags).catch(scriptCheckFailed) };
}

/**
 * The runner's promise, started now (the early start must not wait for this thread's checks). A
 * runner that throws at once failed as one that rejects did: our own failure, answered as an
 * internal error, never thrown past the verdict of a block another check fails.
 */
function startScripts(opts: { runScripts: ScriptRunner }, work: readonly TxScriptWork[], flags: number, signal?: AbortSignal): Promise<ValidationResult> {
  try {
    return Promise.resolve(opts.runScripts(work, flags, signal));
  } catch (err) {
    return Promise.reject(err);
  }
}

interface Checked {
  params: ChainParams;
  height: number;
  flags: number;
  byTx: SpentCoin[][];
  blockTxids: BlockTxids;
  skipped: Set<string>;
  report: BlockReport;
}

/** What starting a block's scripts takes, known once its merkle root is checked. */
interface ScriptStart {
  flags: number;
  byTx: SpentCoin[][];
  blockTxids: BlockTxids;
}

/**
 * Every check that needs no coin: the block's structure, header, contextual rules, in Core's
 * order. `onCommitted` is called once the merkle root is checked (the transactions are then the
 * ones the header commits to) if the height and the spent outputs are known: scripts started
 * there run while the rest of these checks and the coin checks go on, as Core's script-check
 * queue runs while ConnectBlock goes on checking inputs. The workers start after 40–46 ms of this
 * thread's work on mainnet 866342 instead of 66–68, 14–21 ms on 928927 instead of 20–24 (bench/blocks).
 */
function checkBeforeCoins(
  block: Block,
  spentOutputs: readonly SpentCoin[],
  opts: ValidateBlockOptions,
  onCommitted?: (start: ScriptStart) => void,
): { report: BlockReport; checked?: Checked } {
  const params = getParams(opts.network);
  const hash = hashToHex(block.hash());
  const report: BlockReport = { result: { mode: 'valid' }, hash, txs: block.txs.length, inputs: 0, skipped: [] };
  const done = (result: ValidationResult): { report: BlockReport } => ({ report: { ...report, result } });

  const committed = checkBlockCommitment(block, params, opts.checkPow ?? true);
  if (committed.mode !== 'valid') return done(committed);
  // Computed here for the scripts; a block the checks below fail is still answered by them.
  const height = opts.height ?? impliedHeight(block, params.bip34Height);
  const byTx = spentOutputsByTx(block, spentOutputs);
  const flags = height === undefined ? undefined : getBlockScriptFlags(opts.network, height, block.hash());
  const blockTxids = new BlockTxids(block);
  if (onCommitted !== undefined && flags !== undefined && byTx !== undefined) onCommitted({ flags, byTx, blockTxids });

  const body = checkBlockBody(block);
  if (body.mode !== 'valid') return done(body);

  if (height === undefined || flags === undefined) throw new MissingHeightError();
  report.height = height;

  if (byTx === undefined) {
    const needed = block.txs.slice(1).reduce((n, tx) => n + tx.inputs.length, 0);
    throw new RangeError(`${spentOutputs.length} spent outputs given for ${needed} inputs`);
  }

  // No chain: the parent's times are unknown, so the time rules that need them are skipped,
  // and lock times are compared against the block's own time (Core uses the parent's MTP).
  const skipped = new Set<string>(['time-too-old', 'bad-diffbits']);
  // A height read from the coinbase (BIP34) cannot be checked against the coinbase itself.
  if (opts.height === undefined) skipped.add('bad-cb-height');
  // BIP94 (testnet4) compares a retarget block's time with its parent's, unknown here.
  if (params.enforceBIP94 && height % (params.powTargetTimespan / params.powTargetSpacing) === 0) skipped.add('time-timewarp-attack');
  const headerCtx = { height, prevMedianTimePast: -1, prevTime: block.header.time, now: opts.now ?? Math.floor(Date.now() / 1000) };
  const header = contextualCheckBlockHeader(block.header, headerCtx, params);
  if (header.mode !== 'valid') return done(header);
  if (height >= params.csvHeight) {
    skipped.add('locktime-median-time-past');
    skipped.add('sequence-locks-time');
  }
  const contextual = contextualCheckBlock(block, { ...headerCtx, prevMedianTimePast: block.header.time }, params);
  if (contextual.mode !== 'valid') return done(contextual);
  return { report, checked: { params, height, flags, byTx, blockTxids, skipped, report } };
}

/**
 * The height and the clock are the caller's, not the block's: a height that is no block height
 * (negative, fractional, NaN, past 2^53) or a time that is not finite is misuse. Unchecked, NaN or
 * -1 judged a valid block 'mutated', NaN skipped time-too-new, and Infinity looped building the
 * coinbase height script until V8 aborted the process.
 */
function checkCallerNumbers(opts: ValidateBlockOptions): void {
  const { height, now } = opts;
  if (height !== undefined && !isBlockHeight(height)) {
    throw new RangeError(`validateBlock: height must be a non-negative integer, got ${String(height)}`);
  }
  if (now !== undefined && !Number.isFinite(now)) throw new RangeError(`validateBlock: now must be a finite number of seconds, got ${String(now)}`);
}

/** A number that can be a block height: a non-negative safe integer. */
function isBlockHeight(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

/**
 * Caller data of the wrong shape is misuse: thrown before the block is read, never answered as a
 * verdict on it (the network's name included: getParams throws for one it does not know).
 */
function checkCallerInput(spentOutputs: readonly SpentCoin[], opts: ValidateBlockOptions): void {
  checkSpentOutputs(spentOutputs);
  checkSpentCoinFields(spentOutputs);
  checkCallerNumbers(opts);
  getParams(opts.network);
}

/**
 * The coin fields a spent-output list may carry, where given: a height that is no block height or a
 * coinbase flag that is not a boolean would quietly pass or skip the maturity and BIP68 checks.
 */
function checkSpentCoinFields(spentOutputs: readonly SpentCoin[]): void {
  for (let i = 0; i < spentOutputs.length; i++) {
    const { height, coinbase, time } = spentOutputs[i]!;
    if (height !== undefined && !isBlockHeight(height)) throw new TypeError(`spentOutputs[${i}].height must be a non-negative integer when given, got ${String(height)}`);
    if (coinbase !== undefined && typeof coinbase !== 'boolean') throw new TypeError(`spentOutputs[${i}].coinbase must be a boolean when given, got ${String(coinbase)}`);
    if (time !== undefined && !Number.isSafeInteger(time)) throw new TypeError(`spentOutputs[${i}].time must be an integer (seconds) when given, got ${String(time)}`);
  }
}

/** The coin checks (connectBlockInputs against the given spent outputs); `scripts` is set when the scripts are all that is left. */
function checkCoins(block: Block, c: Checked): { report: BlockReport; scripts?: { work: TxScriptWork[]; flags: number } } {
  const { params, height, flags, byTx, blockTxids, skipped, report } = c;
  const source: CoinSource = {
    fetch(txid, _vout, txIndex, inputIndex) {
      // A coin of this block is either already made (and served from the block) or not yet.
      if (blockTxids.indexOf(txid) >= 0) return undefined;
      return byTx[txIndex]![inputIndex];
    },
  };
  const connect = connectBlockInputs(
    block,
    {
      height,
      flags,
      lockTimeFlags: height >= params.csvHeight ? LOCKTIME_VERIFY_SEQUENCE : 0,
      // Unknown without the chain: time-based sequence locks are reported as skipped.
      prevMedianTimePast: Number.POSITIVE_INFINITY,
      enforceBIP30: enforceBIP30(params, height, block.hash(), undefined),
      subsidyHalvingInterval: params.subsidyHalvingInterval,
    },
    source,
    // Nothing is committed here: neither the coins the block spends nor those it leaves are listed.
    { listCreated: false, listSpent: false },
  );
  for (const s of connect.skipped) skipped.add(s);
  const out: BlockReport = { ...report, inputs: connect.inputs, fees: connect.fees, sigOpCost: connect.sigOpCost, skipped: [...skipped] };
  if (connect.result.mode !== 'valid') return { report: { ...out, result: connect.result } };
  return { report: out, scripts: { work: connect.scripts, flags } };
}
