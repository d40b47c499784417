// A batch of input-script checks as plain bytes, so it crosses a worker boundary
// without structured-cloning objects: raw transactions plus their spent outputs.

import { ByteReader } from '../primitives/reader.js';
import { ByteWriter } from '../primitives/writer.js';
import { decodeTransaction, type TxOut } from '../primitives/transaction.js';
import type { ScriptError } from '../script/errors.js';
import { PrecomputedTxData } from '../script/sighash.js';
import { verifyInput } from '../script/verify.js';

export interface ScriptJob {
  /** Serialized transactions (with witness). */
  readonly txs: readonly Uint8Array[];
  /** For each transaction, its spent outputs serialized back to back (value, script). */
  readonly spent: readonly Uint8Array[];
  /** Each transaction's index in its block, to name a failure. */
  readonly txIndexes: readonly number[];
  readonly flags: number;
}

export type ScriptJobResult =
  | { ok: true; inputs: number }
  | { ok: false; inputs: number; txIndex: number; inputIndex: number; error: ScriptError | 'internal'; message?: string };

export function encodeSpentOutputs(outputs: readonly TxOut[]): Uint8Array {
  const w = new ByteWriter(40 * outputs.length + 16);
  for (const out of outputs) w.i64(out.value).varBytes(out.scriptPubKey);
  return w.finish();
}

export function decodeSpentOutputs(bytes: Uint8Array): TxOut[] | undefined {
  const r = new ByteReader(bytes);
  const out: TxOut[] = [];
  try {
    while (r.remaining > 0) out.push({ value: r.i64(), scriptPubKey: r.varBytes() });
  } catch {
    return undefined;
  }
  return out;
}

/** Verify every input of every transaction in the job; stop at the first failure. */
export function runScriptJob(job: ScriptJob): ScriptJobResult {
  let inputs = 0;
  for (let k = 0; k < job.txs.length; k++) {
    const txIndex = job.txIndexes[k] ?? -1;
    const decoded = decodeTransaction(job.txs[k]!);
    const spent = decodeSpentOutputs(job.spent[k] ?? new Uint8Array(0));
    // The main thread built these bytes from objects it had parsed: a mismatch here is our bug.
    if (!decoded.ok || spent === undefined || spent.length !== decoded.tx.inputs.length) {
      return { ok: false, inputs, txIndex, inputIndex: -1, error: 'internal', message: 'malformed script job' };
    }
    const tx = decoded.tx;
    const txdata = new PrecomputedTxData(tx, spent);
    for (let i = 0; i < tx.inputs.length; i++) {
      const r = verifyInput(tx, i, spent, job.flags, { txdata });
      inputs++;
      if (!r.ok) return { ok: false, inputs, txIndex, inputIndex: i, error: r.error };
    }
  }
  return { ok: true, inputs };
}
