// The chain as the difficulty and time rules see it: an entry per block (height, time, bits)
// and Core's CBlockIndex::GetMedianTimePast (BIP113's clock, and ContextualCheckBlockHeader's "time-too-old").

/** The fields of a block index entry that the PoW and time rules read (Core's CBlockIndex). */
export interface ChainEntry {
  readonly height: number;
  /** nTime, seconds since the epoch (uint32). */
  readonly time: number;
  /** nBits, the compact target (uint32). */
  readonly bits: number;
}

/**
 * The caller's chain, as Core's CBlockIndex::GetAncestor: the entry at `height` on the same
 * branch as the entry being asked about, for any height from 0 up to that entry's. Throwing
 * on a height it does not have is the right answer (the caller's own fault).
 */
export type GetAncestor = (height: number) => ChainEntry;

/** Core's CBlockIndex::nMedianTimeSpan: the median is over this many blocks. */
export const MEDIAN_TIME_SPAN = 11;

/**
 * Core's CBlockIndex::GetMedianTimePast: the median of the times of `prev` and its up to ten
 * ancestors (fewer near genesis). Sorted ascending, the element at index count/2 is taken,
 * as Core does. A block is valid only if its time is greater than this value for its parent
 * (ContextualCheckBlockHeader, "time-too-old").
 */
export function getMedianTimePast(prev: ChainEntry, getAncestor: GetAncestor): number {
  const times: number[] = [prev.time];
  const stop = Math.max(0, prev.height - (MEDIAN_TIME_SPAN - 1));
  for (let h = prev.height - 1; h >= stop; h--) times.push(getAncestor(h).time);
  // At most 11 numbers: a plain sort is the cheapest thing that is obviously right.
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}
