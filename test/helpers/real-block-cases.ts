// Real blocks with their spent outputs, verified input by input under the block's consensus flags,
// then again with one signature byte flipped. Shared by the test file and its worker threads.

import { decodeBlock, type Block } from '../../src/primitives/block.js';
import { Transaction, type TxIn, type TxOut } from '../../src/primitives/transaction.js';
import { hashToHex, toHex } from '../../src/primitives/bytes.js';
import { readSpentFile, type SpentOutput } from '../../src/spent/index.js';
import { verifyInput } from '../../src/script/verify.js';
import { PrecomputedTxData } from '../../src/script/sighash.js';
import { formatScriptFlags } from '../../src/script/flags.js';
import { nobleBackend, type SignatureBackend } from '../../src/script/signature.js';
import { blockScriptFlags, loadRealBlock, REAL_BLOCKS, type Network } from './real-blocks.js';
import { readVector } from './vectors.js';

export interface Case {
  name: string;
  network: Network;
  /** Height of each block (blocks1-256 holds many). */
  blocks: Array<{ block: Block; height: number }>;
  /** Spent outputs of every non-coinbase input of the blocks, in order. */
  spent: SpentOutput[];
}

const EARLY_MAINNET = 'btcd/blocks1-256.dat';

/** Names of the cases, most inputs first (so a pool finishes the long ones early). */
export function realBlockCaseNames(): string[] {
  const withSpent = REAL_BLOCKS.filter((v) => v.spent !== undefined).sort((a, b) => b.inputs - a.inputs);
  return [...withSpent.map((v) => v.file), EARLY_MAINNET];
}

export function loadRealBlockCase(name: string): Case {
  if (name === EARLY_MAINNET) return earlyMainnetCase();
  const v = REAL_BLOCKS.find((b) => b.file === name && b.spent !== undefined);
  if (v === undefined || v.spent === undefined) throw new Error(`no real block with spent outputs named ${name}`);
  const block = loadRealBlock(v);
  const r = readSpentFile(readVector(...v.spent.file.split('/')), v.spent.format, block);
  if (!r.ok) throw new Error(`${v.spent.file}: ${r.code} at ${r.offset}`);
  return { name: v.file, network: v.network, blocks: [{ block, height: v.height }], spent: r.outputs };
}

/** btcd/blocks1-256.dat: mainnet blocks 1..255, whose few spends consume coinbases in the same file. */
function earlyMainnetCase(): Case {
  const file = readVector('btcd', 'blocks1-256.dat');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const blocks: Array<{ block: Block; height: number }> = [];
  const coins = new Map<string, TxOut>();
  const spent: SpentOutput[] = [];
  for (let off = 0, height = 1; off < file.length; height++) {
    const len = dv.getUint32(off + 4, true);
    const r = decodeBlock(file.subarray(off + 8, off + 8 + len));
    if (!r.ok) throw new Error(`blocks1-256.dat block ${height}: ${r.code}`);
    off += 8 + len;
    blocks.push({ block: r.block, height });
    for (const [t, tx] of r.block.txs.entries()) {
      if (t > 0) {
        for (const input of tx.inputs) {
          const coin = coins.get(`${toHex(input.prevout.hash)}:${input.prevout.index}`);
          if (coin === undefined) throw new Error(`blocks1-256.dat block ${height}: missing coin`);
          spent.push(coin);
        }
      }
      tx.outputs.forEach((o, i) => coins.set(`${toHex(tx.txid())}:${i}`, o));
    }
  }
  return { name: EARLY_MAINNET, network: 'mainnet', blocks, spent };
}

/** Data pushes of a script (opcodes 1..75 and OP_PUSHDATA1/2/4), with their offsets; stops at a bad push. */
function pushes(script: Uint8Array): Array<{ at: number; len: number }> {
  const out: Array<{ at: number; len: number }> = [];
  let i = 0;
  while (i < script.length) {
    const op = script[i++]!;
    let len = 0;
    if (op >= 1 && op <= 75) len = op;
    else if (op === 0x4c) len = script[i++] ?? 0;
    else if (op === 0x4d) (len = (script[i] ?? 0) | ((script[i + 1] ?? 0) << 8)), (i += 2);
    else if (op === 0x4e) (len = ((script[i] ?? 0) | ((script[i + 1] ?? 0) << 8) | ((script[i + 2] ?? 0) << 16)) + (script[i + 3] ?? 0) * 0x1000000), (i += 4);
    else continue;
    if (i + len > script.length) break;
    if (len > 0) out.push({ at: i, len });
    i += len;
  }
  return out;
}

/**
 * Index of a byte in the middle of r of a DER signature followed by a hash type (BIP66 shape:
 * 30 len 02 rlen r 02 slen s type), or -1. Flipping its low bit keeps the encoding strict DER.
 */
function derRByte(sig: Uint8Array): number {
  if (sig.length < 9 || sig.length > 73 || sig[0] !== 0x30 || sig[1] !== sig.length - 3 || sig[2] !== 0x02) return -1;
  const rlen = sig[3]!;
  if (rlen < 2 || 5 + rlen >= sig.length || sig[4 + rlen] !== 0x02) return -1;
  const slen = sig[5 + rlen]!;
  if (6 + rlen + slen !== sig.length - 1) return -1;
  return 4 + (rlen >> 1);
}

type SigSite = { where: 'scriptSig'; byte: number } | { where: 'witness'; item: number; byte: number };

/** Where to flip a byte of one signature of this input (an ECDSA r byte, or a BIP340 R byte). */
function findSignature(input: TxIn, spent: TxOut): SigSite | undefined {
  const spk = spent.scriptPubKey;
  const w = input.witness;
  if (spk.length === 34 && spk[0] === 0x51 && spk[1] === 0x20 && w.length > 0) {
    // BIP341: drop an annex; one item left is a key-path signature, else items before the
    // script and control block may be BIP342 signatures.
    const n = w.length >= 2 && w[w.length - 1]![0] === 0x50 ? w.length - 1 : w.length;
    const candidates = n === 1 ? [0] : Array.from({ length: Math.max(0, n - 2) }, (_, k) => k);
    for (const k of candidates) if (w[k]!.length === 64 || w[k]!.length === 65) return { where: 'witness', item: k, byte: 16 };
    return undefined;
  }
  for (let k = 0; k < w.length; k++) {
    const b = derRByte(w[k]!);
    if (b >= 0) return { where: 'witness', item: k, byte: b };
  }
  for (const p of pushes(input.scriptSig)) {
    const b = derRByte(input.scriptSig.subarray(p.at, p.at + p.len));
    if (b >= 0) return { where: 'scriptSig', byte: p.at + b };
  }
  return undefined;
}

/** A copy of `tx` whose input `n` has one signature byte flipped. */
function withFlippedSignature(tx: Transaction, n: number, site: SigSite): Transaction {
  const inputs = tx.inputs.slice();
  const input = inputs[n]!;
  if (site.where === 'scriptSig') {
    const scriptSig = input.scriptSig.slice();
    scriptSig[site.byte]! ^= 0x01;
    inputs[n] = { ...input, scriptSig };
  } else {
    const witness = input.witness.slice();
    const item = witness[site.item]!.slice();
    item[site.byte]! ^= 0x01;
    witness[site.item] = item;
    inputs[n] = { ...input, witness };
  }
  return new Transaction(tx.version, inputs, tx.outputs, tx.locktime);
}

/** What one case found, as plain data (it crosses a worker boundary). */
export interface CaseResult {
  name: string;
  /** The signature backend's own name (it says what loaded). */
  backend: string;
  inputs: number;
  /** Inputs that carry a signature, each verified again with one signature byte flipped. */
  signed: number;
  /** Inputs that fail to verify (at most 20 listed), and their total. */
  failures: string[];
  failureCount: number;
  /** Flipped-signature copies that still verify (at most 20 listed), and their total. */
  survivors: string[];
  survivorCount: number;
  /** How the flipped-signature copies failed: ScriptError name → count. */
  flippedErrors: Record<string, number>;
  /** Inputs with no signature found to flip (at most 20 listed). */
  unsigned: string[];
  /** Spent outputs left over or missing (should be 0). */
  spentMismatch: number;
  ms: number;
}

export function runRealBlockCase(c: Case, backend: SignatureBackend = nobleBackend): CaseResult {
  const started = performance.now();
  const failures: string[] = [];
  const survivors: string[] = [];
  const unsigned: string[] = [];
  const flippedErrors: Record<string, number> = {};
  let k = 0;
  let inputs = 0;
  let signed = 0;
  for (const { block, height } of c.blocks) {
    const flags = blockScriptFlags(c.network, height, hashToHex(block.hash()));
    for (let t = 1; t < block.txs.length; t++) {
      const tx = block.txs[t]!;
      const spent = c.spent.slice(k, k + tx.inputs.length);
      k += tx.inputs.length;
      if (spent.length !== tx.inputs.length) {
        failures.push(`spent outputs run out at height ${height} tx ${t}`);
        break;
      }
      // One PrecomputedTxData per transaction. Its hashes cover prevouts, sequences, amounts,
      // scripts and outputs only, never scriptSigs or witnesses, so the mutated copies share it.
      const txdata = new PrecomputedTxData(tx, spent);
      for (let i = 0; i < tx.inputs.length; i++) {
        inputs++;
        const r = verifyInput(tx, i, spent, flags, { txdata, backend });
        if (!r.ok) failures.push(`height ${height} tx ${t} (${hashToHex(tx.txid())}) input ${i}: ${r.error} [${formatScriptFlags(flags)}]`);
        const site = findSignature(tx.inputs[i]!, spent[i]!);
        if (site === undefined) {
          if (unsigned.length < 20) unsigned.push(`height ${height} tx ${hashToHex(tx.txid())} input ${i} spends ${toHex(spent[i]!.scriptPubKey)}`);
          continue;
        }
        signed++;
        const bad = verifyInput(withFlippedSignature(tx, i, site), i, spent, flags, { txdata, backend });
        if (bad.ok) survivors.push(`height ${height} tx ${t} input ${i}: flipped ${JSON.stringify(site)} still verifies`);
        else flippedErrors[bad.error] = (flippedErrors[bad.error] ?? 0) + 1;
      }
    }
  }
  return {
    name: c.name,
    backend: backend.name,
    inputs,
    signed,
    failures: failures.slice(0, 20),
    failureCount: failures.length,
    survivors: survivors.slice(0, 20),
    survivorCount: survivors.length,
    flippedErrors,
    unsigned,
    spentMismatch: c.spent.length - k,
    ms: performance.now() - started,
  };
}
