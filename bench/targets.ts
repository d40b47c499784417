// The targets stated in the design notes, in one place for every suite that reports against them.

export const TARGET_BLOCKS_PER_SEC = 200;
export const TARGET_TX_PER_SEC = 5000;
export const TARGET_SIGS_PER_SEC = 2000;
export const TARGET_LOOKUPS_PER_SEC = 50_000;
export const TARGET_BLOCK_WRITES_PER_SEC = 500;
export const TARGET_BLOCK_READS_PER_SEC = 10_000;
