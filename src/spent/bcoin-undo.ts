// Reader for bcoin's test undo files (test/util/common.js parseUndo): a bare concatenation of
// serialized outputs, one per non-coinbase input in block order, with no header or trailer.

import { ByteReader, toParseFailure } from '../primitives/reader.js';
import type { SpentOutput, SpentReadResult } from './types.js';

/**
 * Read every record up to EOF: int64 LE value, CompactSize script length, script (bcoin's
 * Output.fromReader). Scripts are views into `bytes`. Never throws on bad data.
 */
export function readBcoinUndo(bytes: Uint8Array): SpentReadResult {
  const r = new ByteReader(bytes);
  const outputs: SpentOutput[] = [];
  try {
    while (r.remaining > 0) {
      const value = r.i64();
      const scriptPubKey = r.varBytes();
      outputs.push({ value, scriptPubKey });
    }
  } catch (err) {
    return toParseFailure(err);
  }
  return { ok: true, outputs };
}
