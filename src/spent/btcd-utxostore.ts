// Reader for btcd's test utxostore files (blockchain/common_test.go loadUtxoView): outpoint-keyed
// coins in Bitcoin Core's compressed coin encoding (VARINT, CompressAmount, ScriptCompression).

import { decompressAmount } from '../primitives/compress.js';
import { MAX_MONEY } from '../primitives/amount.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ByteReader, ParseError, toParseFailure, type ParseFailure } from '../primitives/reader.js';
import type { Block } from '../primitives/block.js';
import { toHex } from '../primitives/bytes.js';
import type { SpentOutput, SpentReadResult } from './types.js';

export interface UtxoStoreEntry {
  /** txid of the outpoint, internal byte order (as serialized in an outpoint). */
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly output: SpentOutput;
}

export type UtxoStoreReadResult = { ok: true; entries: UtxoStoreEntry[] } | ParseFailure;

/** Core's MAX_SCRIPT_SIZE: ScriptCompression replaces longer scripts with a bare OP_RETURN. */
const MAX_SCRIPT_SIZE = 10_000;
/** Core's ScriptCompression::nSpecialScripts: sizes 0..5 are the compressed templates. */
const N_SPECIAL_SCRIPTS = 6;
const OP_RETURN = 0x6a;

/**
 * Read `txid(32) | vout u32 LE | length u32 LE | entry` records up to EOF. The entry is
 * `VARINT(height*2 + coinbase) VARINT(CompressAmount(value)) CompressedScript` and must fill
 * its length exactly. Script views are copies only where decompression builds them.
 */
export function readBtcdUtxoStore(bytes: Uint8Array): UtxoStoreReadResult {
  const entries: UtxoStoreEntry[] = [];
  try {
    const r = new ByteReader(bytes);
    while (r.remaining > 0) {
      const txid = r.bytesView(32);
      const vout = r.u32();
      const len = r.u32();
      const start = r.offset;
      if (len > r.remaining) throw new ParseError('truncated', start, `entry of ${len} bytes, have ${r.remaining}`);
      // Read the entry through a reader that ends where the entry ends (offsets stay absolute).
      const er = new ByteReader(bytes.subarray(0, start + len), start);
      const output = readCompressedCoin(er);
      if (er.remaining !== 0) throw new ParseError('trailing-data', er.offset, `${er.remaining} bytes left in the entry`);
      r.offset = start + len;
      entries.push({ txid, vout, output });
    }
  } catch (err) {
    return toParseFailure(err);
  }
  return { ok: true, entries };
}

/** Core's Coin serialization: VARINT(nHeight*2 + fCoinBase), then TxOutCompression. */
function readCompressedCoin(r: ByteReader): SpentOutput {
  const codeAt = r.offset;
  const code = readVarInt(r);
  // Core reads the code into a uint32_t (Coin::Unserialize): ReadVarInt refuses more, so a
  // height is at most 2^31 - 1.
  if (code > 0xffff_ffff) throw new ParseError('size-too-large', codeAt, 'ReadVarInt(): size too large');
  const at = r.offset;
  const value = decompressAmount(readVarInt(r));
  if (!(value <= MAX_MONEY)) throw new ParseError('bad-format', at, `output value ${value} is more than MAX_MONEY`);
  const scriptPubKey = readCompressedScript(r);
  return { value, scriptPubKey, height: Math.floor(code / 2), coinbase: code % 2 === 1 };
}

/**
 * Core's ReadVarInt (serialize.h, VarIntMode::DEFAULT): MSB base-128 where every continuation
 * adds one, so each value has exactly one encoding. Refuses values past 2^53 as Core refuses
 * values past its integer type ("ReadVarInt(): size too large").
 */
export function readVarInt(r: ByteReader): number {
  const start = r.offset;
  let n = 0;
  for (;;) {
    const b = r.u8();
    if (n > (Number.MAX_SAFE_INTEGER - 0x7f) / 128) throw new ParseError('size-too-large', start, 'ReadVarInt(): size too large');
    n = n * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) return n;
    if (n === Number.MAX_SAFE_INTEGER) throw new ParseError('size-too-large', start, 'ReadVarInt(): size too large');
    n++;
  }
}


/** Core's ScriptCompression::Unser with DecompressScript for the six special templates. */
function readCompressedScript(r: ByteReader): Uint8Array {
  const start = r.offset;
  const nSize = readVarInt(r);
  if (nSize < N_SPECIAL_SCRIPTS) {
    const payload = r.bytesView(nSize < 2 ? 20 : 32);
    const script = decompressScript(nSize, payload);
    if (script === undefined) throw new ParseError('bad-format', start, `compressed script type ${nSize}: x is not on secp256k1`);
    return script;
  }
  const size = nSize - N_SPECIAL_SCRIPTS;
  if (size > MAX_SCRIPT_SIZE) {
    // Core: "Overly long script, replace with a short invalid one".
    r.bytesView(size);
    return Uint8Array.of(OP_RETURN);
  }
  return r.bytesView(size);
}

/** Core's DecompressScript; undefined where the x coordinate of type 4/5 is not on the curve. */
export function decompressScript(nSize: number, payload: Uint8Array): Uint8Array | undefined {
  switch (nSize) {
    case 0x00: // P2PKH: OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
      return Uint8Array.of(0x76, 0xa9, 0x14, ...payload, 0x88, 0xac);
    case 0x01: // P2SH: OP_HASH160 <20> OP_EQUAL
      return Uint8Array.of(0xa9, 0x14, ...payload, 0x87);
    case 0x02:
    case 0x03: // P2PK, compressed key
      return Uint8Array.of(0x21, nSize, ...payload, 0xac);
    case 0x04:
    case 0x05: {
      // P2PK, uncompressed key: Core's CPubKey::Decompress on (nSize - 2 || x).
      const compressed = Uint8Array.of(nSize - 2, ...payload);
      let full: Uint8Array;
      try {
        full = secp256k1.Point.fromBytes(compressed).toBytes(false);
      } catch {
        return undefined;
      }
      const out = new Uint8Array(67);
      out[0] = 0x41;
      out.set(full, 1);
      out[66] = 0xac;
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * Order the store's coins as a block spends them: non-coinbase transactions in block order,
 * inputs in input order (the order of bcoin undo records and of Core's CBlockUndo flattened).
 * A missing outpoint is a 'bad-format' failure whose offset is the flat spent-input index.
 */
export function spentOutputsForBlock(block: Block, entries: readonly UtxoStoreEntry[]): SpentReadResult {
  const byOutpoint = new Map<string, SpentOutput>();
  for (const e of entries) byOutpoint.set(outpointKey(e.txid, e.vout), e.output);
  const outputs: SpentOutput[] = [];
  for (let t = 1; t < block.txs.length; t++) {
    const tx = block.txs[t]!;
    for (let i = 0; i < tx.inputs.length; i++) {
      const prevout = tx.inputs[i]!.prevout;
      const out = byOutpoint.get(outpointKey(prevout.hash, prevout.index));
      if (out === undefined) {
        const offset = outputs.length;
        return { ok: false, code: 'bad-format', offset, message: `no coin for tx ${t} input ${i} at offset ${offset}` };
      }
      outputs.push(out);
    }
  }
  return { ok: true, outputs };
}

function outpointKey(txid: Uint8Array, vout: number): string {
  return `${toHex(txid)}:${vout}`;
}

export { decompressAmount };
