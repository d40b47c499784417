// The performance targets stated in the design notes, in one place: the benchmarks report
// against them and `vigil selftest` sets its regtest sync beside them. Kept in src/ (not bench/)
// so the CLI can read them without importing benchmark code and its dev dependencies.

export const TARGET_BLOCKS_PER_SEC = 200;
export const TARGET_TX_PER_SEC = 5000;
export const TARGET_SIGS_PER_SEC = 2000;
export const TARGET_LOOKUPS_PER_SEC = 50_000;
export const TARGET_BLOCK_WRITES_PER_SEC = 500;
export const TARGET_BLOCK_READS_PER_SEC = 10_000;
/** A sync of this many blocks ... */
export const TARGET_SYNC_BLOCKS = 1000;
/** ... within this many seconds. */
export const TARGET_SYNC_SECONDS = 300;
/** Peak resident memory of an import, in MB. */
export const TARGET_PEAK_RSS_MB = 500;
