// BIP325: a signet block carries a solution to the network's challenge script in its coinbase's
// witness commitment (Core's signet.cpp). The solution is a scriptSig and a witness that spend a
// virtual transaction paying to the challenge, which commits to the block without the solution.

import { computeMerkleRoot, getWitnessCommitmentIndex, type Block } from '../primitives/block.js';
import { ByteReader } from '../primitives/reader.js';
import { ByteWriter } from '../primitives/writer.js';
import { Transaction, type TxOut } from '../primitives/transaction.js';
import { concatBytes, equalBytes } from '../primitives/bytes.js';
import { OP } from '../script/opcodes.js';
import { ScriptCursor, pushData } from '../script/script.js';
import { SCRIPT_VERIFY_DERSIG, SCRIPT_VERIFY_NULLDUMMY, SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS } from '../script/flags.js';
import type { SignatureBackend } from '../script/signature.js';
import { verifyTransaction } from '../script/verify-tx.js';

/** The 4 bytes that open the push holding the solution. */
export const SIGNET_HEADER = Uint8Array.of(0xec, 0xc7, 0xda, 0xa2);

/** Core's signet BLOCK_SCRIPT_VERIFY_FLAGS. */
const SIGNET_FLAGS = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_NULLDUMMY;

const NULL_TXID = new Uint8Array(32);

/**
 * Core's FetchAndClearCommitmentSection: the first push that starts with `header` and has more
 * after it gives that rest as the solution and keeps only the header. The script is rebuilt op by
 * op, each push in its canonical form, as far as it parses.
 */
export function fetchAndClearCommitmentSection(header: Uint8Array, script: Uint8Array): { script: Uint8Array; solution: Uint8Array } | undefined {
  const parts: Uint8Array[] = [];
  let solution: Uint8Array | undefined;
  const c = new ScriptCursor(script);
  while (c.next()) {
    let data = c.data();
    if (data.length > 0) {
      if (solution === undefined && data.length > header.length && equalBytes(data.subarray(0, header.length), header)) {
        solution = data.subarray(header.length);
        data = data.subarray(0, header.length);
      }
      parts.push(pushData(data));
    } else {
      parts.push(Uint8Array.of(c.op));
    }
  }
  return solution === undefined ? undefined : { script: concatBytes(...parts), solution };
}

/**
 * Core's SignetTxs::Create: the transaction paying to the challenge and the one spending it with
 * the block's solution; undefined where Core's is nullopt (no witness commitment, or a solution
 * that does not parse or has bytes left over).
 */
export function signetTxs(block: Block, challenge: Uint8Array): { toSpend: Transaction; toSign: Transaction } | undefined {
  const coinbase = block.txs[0];
  if (coinbase === undefined) return undefined;
  const cidx = getWitnessCommitmentIndex(block);
  if (cidx < 0) return undefined;
  let scriptSig: Uint8Array = new Uint8Array(0);
  let witness: Uint8Array[] = [];
  let outputs: readonly TxOut[] = coinbase.outputs;
  const found = fetchAndClearCommitmentSection(SIGNET_HEADER, coinbase.outputs[cidx]!.scriptPubKey);
  // No solution: allowed, so that OP_TRUE can be a trivial challenge.
  if (found !== undefined) {
    outputs = coinbase.outputs.map((o, i) => (i === cidx ? { value: o.value, scriptPubKey: found.script } : o));
    try {
      const r = new ByteReader(found.solution);
      scriptSig = r.varBytes();
      const n = r.compactSize();
      for (let i = 0; i < n; i++) witness.push(r.varBytes());
      if (r.offset !== found.solution.length) return undefined;
    } catch {
      return undefined;
    }
  }
  // The block's merkle root with the coinbase as it is without the solution.
  const modified = new Transaction(coinbase.version, coinbase.inputs, outputs, coinbase.locktime);
  const leaves = block.txs.map((tx, i) => (i === 0 ? modified.txid() : tx.txid()));
  const signetMerkle = computeMerkleRoot(leaves).root;
  const h = block.header;
  const blockData = new ByteWriter(72).i32(h.version).bytes(h.prevBlock).bytes(signetMerkle).u32(h.time).finish();
  const toSpend = new Transaction(
    0,
    [{ prevout: { hash: NULL_TXID, index: 0xffffffff }, scriptSig: concatBytes(Uint8Array.of(OP.OP_0), pushData(blockData)), sequence: 0, witness: [] }],
    [{ value: 0, scriptPubKey: challenge }],
    0,
  );
  const toSign = new Transaction(0, [{ prevout: { hash: toSpend.txid(), index: 0 }, scriptSig, sequence: 0, witness }], [{ value: 0, scriptPubKey: Uint8Array.of(OP.OP_RETURN) }], 0);
  return { toSpend, toSign };
}

/** Core's CheckSignetBlockSolution: the genesis block, or a solution that satisfies `challenge`. */
export function checkSignetBlockSolution(block: Block, challenge: Uint8Array, genesisHash: Uint8Array, backend?: SignatureBackend): boolean {
  if (equalBytes(block.hash(), genesisHash)) return true;
  const txs = signetTxs(block, challenge);
  if (txs === undefined) return false;
  return verifyTransaction(txs.toSign, [txs.toSpend.outputs[0]!], SIGNET_FLAGS, backend !== undefined ? { backend } : {}).ok;
}
