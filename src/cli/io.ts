// Shared pieces of the command line: usage errors (exit 2), file reading and
// blk*.dat framing, and the spent-output file loading every block command needs.

import { readFileSync } from 'node:fs';
import { decodeBlock, type Block } from '../primitives/block.js';
import { PARAMS } from '../consensus/params.js';
import { checkSerializedSize } from '../consensus/check-block.js';
import { SPENT_FILE_FORMATS, readSpentFile, type SpentFileFormat, type SpentOutput } from '../spent/index.js';

/** A problem with the command line or its files: reported on stderr with exit status 2. */
export class UsageError extends Error {}

export function readFileBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Accept a raw block or one record of blk*.dat framing (network magic + LE length). */
export function unframe(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 8) {
    const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
    const magic = bytes.subarray(0, 4);
    const known = Object.values(PARAMS).some((p) => p.messageStart.every((b, i) => magic[i] === b));
    if (known && len === bytes.length - 8) return bytes.subarray(8);
  }
  return bytes;
}

export function parseSpentFormat(value: string | undefined): SpentFileFormat {
  const format = value as SpentFileFormat | undefined;
  if (format === undefined || !SPENT_FILE_FORMATS.includes(format)) {
    throw new UsageError(`--spent-format must be one of ${SPENT_FILE_FORMATS.join(', ')}`);
  }
  return format;
}

/**
 * Read the spent outputs for `blockBytes` from a file. A block that does not parse is left
 * to the validator (it is the block's fault); a spent file that does not parse or match is ours.
 */
export function loadSpentOutputs(blockBytes: Uint8Array, spentPath: string, format: SpentFileFormat): SpentOutput[] {
  // Bytes too long to be a block are refused before decoding (checkSerializedSize): not decoded here either.
  const decoded = checkSerializedSize(blockBytes).mode === 'valid' ? decodeBlock(blockBytes) : undefined;
  const block: Block | undefined = decoded?.ok === true ? decoded.block : undefined;
  if (format === 'btcd-utxostore' && block === undefined) return [];
  const spent = readSpentFile(readFileBytes(spentPath), format, block);
  if (!spent.ok) throw new UsageError(`${spentPath}: spent outputs do not parse: ${spent.message}`);
  if (block !== undefined) {
    const needed = block.txs.slice(1).reduce((n, tx) => n + tx.inputs.length, 0);
    if (spent.outputs.length !== needed) {
      throw new UsageError(`${spentPath} has ${spent.outputs.length} spent outputs, but the block's inputs need ${needed}`);
    }
  }
  return spent.outputs;
}
