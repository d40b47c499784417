// Spent-output readers for the file formats the test vectors and the CLI accept, and one
// dispatch, readSpentFile, that turns any of them into outputs in block input order.

import type { Block } from '../primitives/block.js';
import { readBcoinUndo } from './bcoin-undo.js';
import { readBtcdUtxoStore, spentOutputsForBlock } from './btcd-utxostore.js';
import { readFlorestaJson } from './floresta-json.js';
import type { SpentReadResult } from './types.js';

export type { SpentOutput, SpentReadResult } from './types.js';
export { readBcoinUndo } from './bcoin-undo.js';
export { readFlorestaJson } from './floresta-json.js';
export {
  readBtcdUtxoStore,
  spentOutputsForBlock,
  readVarInt,
  decompressAmount,
  decompressScript,
  type UtxoStoreEntry,
  type UtxoStoreReadResult,
} from './btcd-utxostore.js';

export type SpentFileFormat = 'bcoin-undo' | 'floresta-json' | 'btcd-utxostore';

export const SPENT_FILE_FORMATS: readonly SpentFileFormat[] = Object.freeze(['bcoin-undo', 'floresta-json', 'btcd-utxostore']);

/**
 * Read a spent-outputs file in `format`. 'btcd-utxostore' is keyed by outpoint, so it needs the
 * block to put the coins in input order; calling it without one is misuse and throws.
 */
export function readSpentFile(bytes: Uint8Array, format: SpentFileFormat, block?: Block): SpentReadResult {
  switch (format) {
    case 'bcoin-undo':
      return readBcoinUndo(bytes);
    case 'floresta-json': {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        return { ok: false, code: 'bad-format', offset: 0, message: 'spent_utxos JSON is not valid UTF-8 at offset 0' };
      }
      return readFlorestaJson(text);
    }
    case 'btcd-utxostore': {
      if (block === undefined) throw new TypeError("readSpentFile: format 'btcd-utxostore' needs the block");
      const store = readBtcdUtxoStore(bytes);
      if (!store.ok) return store;
      return spentOutputsForBlock(block, store.entries);
    }
    default:
      throw new TypeError(`readSpentFile: unknown format ${String(format)}`);
  }
}
