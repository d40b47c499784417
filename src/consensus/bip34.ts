// BIP34: a block's height as its coinbase scriptSig's first push (a script number).

import type { Block } from '../primitives/block.js';
import { OP } from '../script/opcodes.js';
import { ScriptCursor } from '../script/script.js';

/** The height a BIP34 coinbase claims, or undefined when the first operation is not a number push. */
export function coinbaseHeight(block: Block): number | undefined {
  const coinbase = block.txs[0];
  if (coinbase === undefined || coinbase.inputs.length === 0) return undefined;
  const c = new ScriptCursor(coinbase.inputs[0]!.scriptSig);
  if (!c.next()) return undefined;
  if (c.op === OP.OP_0) return 0;
  if (c.op >= OP.OP_1 && c.op <= OP.OP_16) return c.op - (OP.OP_1 - 1);
  if (c.op > OP.OP_PUSHDATA4 || c.dataEnd - c.dataStart > 8) return undefined;
  const data = c.data();
  let v = 0;
  for (let i = data.length - 1; i >= 0; i--) v = v * 256 + (i === data.length - 1 ? data[i]! & 0x7f : data[i]!);
  return data.length > 0 && data[data.length - 1]! & 0x80 ? undefined : v;
}
