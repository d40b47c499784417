// ConnectBlock's coin-dependent rules (Core's validation.cpp): inputs exist and are
// unspent, BIP30, coinbase maturity, value ranges, fees and subsidy, BIP68 sequence locks
// and the sigop-cost limit. Script checks are returned as work for a runner (one thread
// here, the worker pool elsewhere), as Core hands them to its check queue.

import { moneyRange } from '../primitives/amount.js';
import { hashToHex } from '../primitives/bytes.js';
import { OutpointMap } from '../primitives/outpoint-map.js';
import type { Block } from '../primitives/block.js';
import type { Transaction, TxOut } from '../primitives/transaction.js';
import { MAX_SCRIPT_SIZE } from '../script/interpreter.js';
import { OP } from '../script/opcodes.js';
import { scriptErrorString, type ScriptError } from '../script/errors.js';
import { PrecomputedTxData } from '../script/sighash.js';
import { nobleBackend, type SignatureBackend } from '../script/signature.js';
import type { SignatureCache } from '../script/sig-cache.js';
import { verifyInput, type VerifyOptions } from '../script/verify.js';
import { blockSchnorrBatch } from '../script/batch-schnorr.js';
import type { Coin } from './coins.js';
import { MAX_BLOCK_SIGOPS_COST } from './consensus.js';
import { getTransactionSigOpCost } from './sigops.js';
import { checkSequenceLocks, checkTxInputs, sequenceLocksApply, type SequenceLockCoin } from './tx-verify.js';
import { VALID, invalid, type ValidationResult } from './validation.js';

/** A coin as the block rules use it; height/coinbase/time may be unknown in stateless checks. */
export interface SpentCoin extends TxOut {
  height?: number;
  coinbase?: boolean;
  /** BIP68 time: median-time-past of the block before the one that created the coin. */
  time?: number;
}

/** Where spent coins come from: the UTXO set, or a caller's spent-output list. */
export interface CoinSource {
  /** The coin input `inputIndex` of transaction `txIndex` spends, or undefined if missing/spent. */
  fetch(txid: Uint8Array, vout: number, txIndex: number, inputIndex: number): SpentCoin | undefined;
  /** For BIP30; undefined when the source cannot tell (stateless checks). */
  haveCoin?(txid: Uint8Array, vout: number): boolean;
}

export interface ConnectContext {
  height: number;
  /** Script verification flags (GetBlockScriptFlags). */
  flags: number;
  /** LOCKTIME_VERIFY_SEQUENCE once CSV is active. */
  lockTimeFlags: number;
  prevMedianTimePast: number;
  /** Median-time-past of the ancestor at max(height - 1, 0), for BIP68 time locks of chain coins. */
  medianTimePastAt?: (height: number) => number;
  /** Core's BIP30 check, with its exceptions already applied by the caller. */
  enforceBIP30: boolean;
  subsidyHalvingInterval: number;
}

export interface OutpointRef {
  txid: Uint8Array;
  vout: number;
}

/** The UTXO changes a valid block makes, and its undo data. */
export interface CoinUpdate {
  /** Coins from before this block that it spends, in input order. */
  spent: OutpointRef[];
  /** The spent coins themselves (undo data), same order. */
  undo: SpentCoin[];
  /** Coins this block creates that are still unspent at its end (none listed with listCreated: false). */
  created: Array<OutpointRef & { coin: Coin }>;
}

export interface ConnectOptions {
  /**
   * List the coins the block leaves (CoinUpdate.created; default true). A caller that commits
   * nothing (validateBlock) says false: two objects an output it would never read.
   */
  listCreated?: boolean;
  /**
   * List the coins from before the block that it spends (CoinUpdate.spent and .undo; default
   * true). validateBlock, which commits nothing, says false: an object and two array slots an
   * input, ~0.5 MB on block 928927's 9,983 inputs.
   */
  listSpent?: boolean;
}

/** One transaction's script checks. */
export interface TxScriptWork {
  txIndex: number;
  tx: Transaction;
  spent: TxOut[];
}

export interface ConnectResult {
  result: ValidationResult;
  update: CoinUpdate;
  scripts: TxScriptWork[];
  fees: number;
  sigOpCost: number;
  inputs: number;
  /** Checks that could not run for lack of data (stateless checks with sparse spent outputs). */
  skipped: string[];
}

/** Core's GetBlockSubsidy: 50 BTC halving every interval, zero after 64 halvings. */
export function getBlockSubsidy(height: number, halvingInterval: number): number {
  const halvings = Math.floor(height / halvingInterval);
  if (halvings >= 64) return 0;
  return Math.floor(50e8 / 2 ** halvings);
}

/** Core's CScript::IsUnspendable: such outputs never enter the UTXO set. */
export function isUnspendable(script: Uint8Array): boolean {
  return (script.length > 0 && script[0] === OP.OP_RETURN) || script.length > MAX_SCRIPT_SIZE;
}

/** Every coin-dependent rule of ConnectBlock except the scripts themselves. */
export function connectBlockInputs(block: Block, ctx: ConnectContext, source: CoinSource, opts: ConnectOptions = {}): ConnectResult {
  const update: CoinUpdate = { spent: [], undo: [], created: [] };
  const scripts: TxScriptWork[] = [];
  const skipped = new Set<string>();
  let fees = 0;
  let sigOpCost = 0;
  let inputs = 0;
  const out = (result: ValidationResult): ConnectResult => ({ result, update, scripts, fees, sigOpCost, inputs, skipped: [...skipped] });
  const listSpent = opts.listSpent !== false;

  if (ctx.enforceBIP30) {
    if (source.haveCoin === undefined) skipped.add('bip30');
    else {
      for (let i = 0; i < block.txs.length; i++) {
        const tx = block.txs[i]!;
        for (let o = 0; o < tx.outputs.length; o++) {
          if (source.haveCoin(tx.txid(), o)) return out(invalid('bad-txns-BIP30', 'tried to overwrite transaction', i));
        }
      }
    }
  }

  // Coins made by this block and not yet spent, and earlier coins this block already spent.
  let nIn = 0;
  let nOut = 0;
  for (const tx of block.txs) {
    nIn += tx.inputs.length;
    nOut += tx.outputs.length;
  }
  // Value: the index of the transaction that made the output (the output itself is in the block).
  const made = new OutpointMap<number>(nOut);
  const spentBefore = new OutpointMap<true>(nIn);

  for (let i = 0; i < block.txs.length; i++) {
    const tx = block.txs[i]!;
    inputs += tx.inputs.length;
    let spent: SpentCoin[] = [];
    if (i > 0) {
      spent = new Array(tx.inputs.length);
      for (let j = 0; j < tx.inputs.length; j++) {
        const { hash, index } = tx.inputs[j]!.prevout;
        const own = made.take(hash, index);
        if (own !== undefined) {
          spent[j] = blockCoin(block, own, index, ctx.height);
          continue;
        }
        const coin = spentBefore.get(hash, index) === true ? undefined : source.fetch(hash, index, i, j);
        if (coin === undefined) {
          return out(invalid('bad-txns-inputs-missingorspent', `CheckTxInputs: inputs missing/spent in transaction ${hashToHex(tx.txid())}`, i, j));
        }
        spentBefore.set(hash, index, true);
        spent[j] = coin;
        if (listSpent) {
          update.spent.push({ txid: hash, vout: index });
          update.undo.push(coin);
        }
      }
      const r = checkTxInputs(tx, spent, ctx.height);
      if (!r.ok) return out(invalid(r.reason, `${r.debug ?? r.reason} in transaction ${hashToHex(tx.txid())}`, i, r.inputIndex));
      const heightUnknown = spent.some((c) => c.height === undefined);
      if (heightUnknown || spent.some((c) => c.coinbase === undefined)) skipped.add('coinbase-maturity');
      fees += r.fee;
      if (!moneyRange(fees)) return out(invalid('bad-txns-accumulated-fee-outofrange', 'accumulated fee in the block out of range', i));

      // The coins' heights and times only where BIP68 can fail the transaction: most inputs opt
      // out, and 928927's 9,983 inputs made an object each for nothing. A coin of unknown height
      // leaves the locks on it unchecked, not those of the other inputs (Core takes the maximum),
      // and is reported only where its input has a lock: one that opts out needs no height.
      if (sequenceLocksApply(tx, ctx.lockTimeFlags)) {
        const seq = checkSequenceLocks(tx, ctx.lockTimeFlags, sequenceLockCoins(spent, ctx), ctx.height, ctx.prevMedianTimePast);
        if (!seq.ok) {
          if (seq.unknown === true) skipped.add('sequence-locks');
          else return out(invalid('bad-txns-nonfinal', `contains a non-BIP68-final transaction ${hashToHex(tx.txid())}`, i));
        }
      }
    }
    sigOpCost += getTransactionSigOpCost(tx, spent, ctx.flags);
    if (sigOpCost > MAX_BLOCK_SIGOPS_COST) return out(invalid('bad-blk-sigops', 'too many sigops', i));
    if (i > 0) scripts.push({ txIndex: i, tx, spent });

    const txid = tx.txid();
    for (let o = 0; o < tx.outputs.length; o++) {
      if (!isUnspendable(tx.outputs[o]!.scriptPubKey)) made.set(txid, o, i);
    }
  }

  const reward = fees + getBlockSubsidy(ctx.height, ctx.subsidyHalvingInterval);
  let coinbaseOut = 0;
  for (const o of block.txs[0]!.outputs) coinbaseOut += o.value;
  if (coinbaseOut > reward) return out(invalid('bad-cb-amount', `coinbase pays too much (actual=${coinbaseOut} vs limit=${reward})`, 0));

  if (opts.listCreated !== false) {
    made.forEachEntry((txid, vout, txIndex) => update.created.push({ txid, vout, coin: blockCoin(block, txIndex, vout, ctx.height) }));
  }
  return out(VALID);
}

/** Output `vout` of the block's transaction `txIndex` as a coin of this block. */
function blockCoin(block: Block, txIndex: number, vout: number, height: number): Coin {
  const output = block.txs[txIndex]!.outputs[vout]!;
  return { value: output.value, scriptPubKey: output.scriptPubKey, height, coinbase: txIndex === 0 };
}

/** Heights and BIP68 times of the spent coins, each undefined where it is not known. */
function sequenceLockCoins(spent: readonly SpentCoin[], ctx: ConnectContext): SequenceLockCoin[] {
  const coins: SequenceLockCoin[] = new Array(spent.length);
  for (let j = 0; j < spent.length; j++) {
    const c = spent[j]!;
    const height = c.height;
    let time = c.time;
    if (time === undefined && height !== undefined && ctx.medianTimePastAt !== undefined) time = ctx.medianTimePastAt(Math.max(height - 1, 0));
    const coin: SequenceLockCoin = {};
    if (height !== undefined) coin.height = height;
    if (time !== undefined) coin.time = time;
    coins[j] = coin;
  }
  return coins;
}

/** The reject reason Core gives a block whose script check failed. */
export function scriptFailure(txIndex: number, inputIndex: number, error: ScriptError, tx: Transaction): ValidationResult {
  return invalid(
    `block-script-verify-flag-failed (${scriptErrorString(error)})`,
    `input ${inputIndex} of transaction ${hashToHex(tx.txid())}: ${error}`,
    txIndex,
    inputIndex,
  );
}

/**
 * Run the script checks on this thread; the first failure decides. With noble's Schnorr, BIP340
 * checks are verified in batches (SignatureBackend.batchSchnorr). The answer is the one checking
 * them one by one gives: when an input fails, the checks recorded before its failure are settled
 * first, and a bad one among them (the earliest) is the failure, as it would have been,
 * SCHNORR_SIG and all.
 */
export function runScriptsSerial(work: readonly TxScriptWork[], flags: number, backend?: SignatureBackend, sigCache?: SignatureCache): ValidationResult {
  const batch = blockSchnorrBatch(backend ?? nobleBackend);
  // Connecting a block reads the signature cache but does not fill it (as Core does).
  const opts: VerifyOptions = {
    ...(backend === undefined ? {} : { backend }),
    ...(sigCache === undefined ? {} : { sigCache, sigCacheStore: false }),
    ...(batch === undefined ? {} : { schnorrBatch: batch }),
  };
  const settle = (now: boolean): ValidationResult | undefined => {
    const bad = batch?.settle(now);
    if (bad === undefined) return undefined;
    const w = work.find((x) => x.txIndex === bad.txIndex)!;
    return scriptFailure(w.txIndex, bad.inputIndex, bad.error, w.tx);
  };
  for (const w of work) {
    opts.txdata = new PrecomputedTxData(w.tx, w.spent);
    opts.txIndex = w.txIndex;
    for (let j = 0; j < w.tx.inputs.length; j++) {
      const r = verifyInput(w.tx, j, w.spent, flags, opts);
      if (!r.ok) return settle(true) ?? scriptFailure(w.txIndex, j, r.error, w.tx);
      const bad = settle(false);
      if (bad !== undefined) return bad;
    }
  }
  return settle(true) ?? VALID;
}
