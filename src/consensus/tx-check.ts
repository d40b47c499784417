// Context-free transaction checks: Bitcoin Core's CheckTransaction (consensus/tx_check.cpp),
// with Core's reject reasons. Needs no chain state, so it runs before any coin lookup.

import { MAX_MONEY, moneyRange } from '../primitives/amount.js';
import { compareBytes, equalBytes } from '../primitives/bytes.js';
import { isNullHash, WITNESS_SCALE_FACTOR, type OutPoint, type Transaction } from '../primitives/transaction.js';
import { MAX_BLOCK_WEIGHT } from './consensus.js';

export type CheckTxResult = { ok: true } | { ok: false; reason: string };

const OK: CheckTxResult = Object.freeze({ ok: true });

function invalid(reason: string): CheckTxResult {
  return { ok: false, reason };
}

function sameOutPoint(a: OutPoint, b: OutPoint): boolean {
  return a.index === b.index && equalBytes(a.hash, b.hash);
}

/** COutPoint::IsNull(): hash all zero and index 0xffffffff (a coinbase's input). */
function isNullOutPoint(p: OutPoint): boolean {
  return p.index === 0xffffffff && isNullHash(p.hash);
}

/** COutPoint's operator<: hash bytes as stored (memcmp), then index. */
function compareOutPoints(a: OutPoint, b: OutPoint): number {
  return compareBytes(a.hash, b.hash) || a.index - b.index;
}

/** Up to this many inputs, duplicates are looked for pair by pair rather than in a sorted copy. */
const PAIRWISE_MAX = 16;

export function checkTransaction(tx: Transaction): CheckTxResult {
  const vin = tx.inputs;
  const vout = tx.outputs;
  if (vin.length === 0) return invalid('bad-txns-vin-empty');
  if (vout.length === 0) return invalid('bad-txns-vout-empty');
  // Size limit without the witness: the witness has not been checked for malleability yet.
  if (tx.baseSize() * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) return invalid('bad-txns-oversize');

  // Negative or overflowing output values (CVE-2010-5139). Every value here is at most
  // MAX_MONEY before it is added, so the running sum stays exact in a double.
  let valueOut = 0;
  for (const out of vout) {
    if (out.value < 0) return invalid('bad-txns-vout-negative');
    if (out.value > MAX_MONEY) return invalid('bad-txns-vout-toolarge');
    valueOut += out.value;
    if (!moneyRange(valueOut)) return invalid('bad-txns-txouttotal-toolarge');
  }

  // Duplicate inputs (CVE-2018-17144): spending one coin twice in a transaction would inflate
  // the supply, since the coins view checks each input's existence separately.
  if (vin.length === 1) {
    if (tx.isCoinbase()) {
      const len = vin[0]!.scriptSig.length;
      if (len < 2 || len > 100) return invalid('bad-cb-length');
    }
  } else if (vin.length === 2) {
    // Core special-cases two inputs to avoid sorting tiny vectors.
    const a = vin[0]!.prevout;
    const b = vin[1]!.prevout;
    if (sameOutPoint(a, b)) return invalid('bad-txns-inputs-duplicate');
    if (isNullOutPoint(a) || isNullOutPoint(b)) return invalid('bad-txns-prevout-null');
  } else if (vin.length <= PAIRWISE_MAX) {
    // Few inputs: every pair, with no sorted copy to allocate (most transactions of a block).
    for (let i = 1; i < vin.length; i++) {
      const a = vin[i]!.prevout;
      for (let j = 0; j < i; j++) if (sameOutPoint(a, vin[j]!.prevout)) return invalid('bad-txns-inputs-duplicate');
    }
    for (const input of vin) if (isNullOutPoint(input.prevout)) return invalid('bad-txns-prevout-null');
  } else {
    const sorted = vin.map((i) => i.prevout).sort(compareOutPoints);
    for (let i = 1; i < sorted.length; i++) {
      if (compareOutPoints(sorted[i - 1]!, sorted[i]!) === 0) return invalid('bad-txns-inputs-duplicate');
    }
    // A null prevout has the all-zero hash, so it sorts first: stop at the first non-zero hash.
    for (const p of sorted) {
      if (!isNullHash(p.hash)) break;
      if (isNullOutPoint(p)) return invalid('bad-txns-prevout-null');
    }
  }
  return OK;
}
