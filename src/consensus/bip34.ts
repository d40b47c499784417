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

/**
 * The height to judge a block at when the caller gives none: its coinbase's BIP34 push, where that
 * can only be its height. From the network's BIP34 height on, a block of version 2 or more must
 * start its coinbase with its height (bad-cb-height), and one of version 1 is bad-version. Before
 * it the first push is whatever the miner put there: mainnet block 1 pushes its nBits, which reads
 * as height 486,604,799, and would be judged by that height's rules. So a version-1 block, or a
 * push below the BIP34 height, gives undefined: the caller must say the height.
 */
export function impliedHeight(block: Block, bip34Height: number): number | undefined {
  if (block.header.version < 2) return undefined;
  const h = coinbaseHeight(block);
  return h !== undefined && h >= bip34Height ? h : undefined;
}
