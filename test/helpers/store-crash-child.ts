// Child process of the store's crash test: opens the store in argv[2], continues the synthetic chain
// (seed argv[3], argv[4] blocks) from the stored tip, and keeps connecting and disconnecting blocks
// with durable commits until the parent SIGKILLs it. Every block whose height is a multiple of 4 is
// connected, disconnected and connected again, so kills also land inside revertBlock. With argv[5]
// (a byte count) the store runs with write-back of that size: blocks reach LMDB in flushes.

import { ChainStore } from '../../src/store/index.js';
import { syntheticChain } from './store-chain.js';
import { CRASH_CHAIN } from './store-crash-params.js';

const [dir, seedArg, countArg, writeBackArg] = process.argv.slice(2);
if (dir === undefined || seedArg === undefined || countArg === undefined) throw new Error('usage: store-crash-child DIR SEED COUNT');
const count = Number(countArg);
const chain = syntheticChain(Number(seedArg), count, CRASH_CHAIN.spends, CRASH_CHAIN.creates);
const store = ChainStore.open(dir, { network: 'regtest' });
if (writeBackArg !== undefined) await store.setWriteBack(Number(writeBackArg));

let height = store.getTip()?.height ?? -1;
process.send?.({ ready: true, height });
let commits = 0;
for (;;) {
  // Up to the last block, back down to the middle, up again: the state at each height never changes.
  for (let h = height + 1; h < count; h++) {
    await store.applyBlock(chain[h]!.apply);
    if (h % 4 === 0 && h > 0) {
      await store.revertBlock(chain[h]!.revert);
      await store.applyBlock(chain[h]!.apply);
    }
    commits++;
    if (commits % 8 === 0) process.send?.({ commits });
  }
  for (let h = count - 1; h > count / 2; h--) await store.revertBlock(chain[h]!.revert);
  height = Math.floor(count / 2);
}
