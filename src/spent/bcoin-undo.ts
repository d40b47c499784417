// Reader for bcoin's test undo files (test/util/common.js parseUndo): a bare concatenation of
// serialized outputs, one per non-coinbase input in block order, with no header or trailer.

import { MAX_MONEY } from '../primitives/amount.js';
import { ByteReader, ParseError, toParseFailure } from '../primitives/reader.js';
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
      const at = r.offset;
      const value = r.i64();
      if (value < 0 || value > MAX_MONEY) throw new ParseError('bad-format', at, `output value ${value} is outside 0..MAX_MONEY`);
      const scriptPubKey = r.varBytes();
      outputs.push({ value, scriptPubKey });
    }
  } catch (err) {
    return toParseFailure(err);
  }
  return { ok: true, outputs };
}
