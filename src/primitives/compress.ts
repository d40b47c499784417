// Core's amount compression (compressor.cpp), shared by the coin store and the btcd
// utxostore reader: DecompressAmount undoes CompressAmount's x·10^e packing.

/** Core's DecompressAmount over a number (exact: every step stays below the input's size). */
export function decompressAmount(x: number): number {
  if (x === 0) return 0;
  x--;
  let e = x % 10;
  x = Math.floor(x / 10);
  let n: number;
  if (e < 9) {
    const d = (x % 9) + 1;
    x = Math.floor(x / 9);
    n = x * 10 + d;
  } else {
    n = x + 1;
  }
  while (e > 0) {
    n *= 10;
    e--;
  }
  return n;
}

