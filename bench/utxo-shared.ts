// What the utxo suite (bench/utxo.ts) and its worker threads (bench/utxo-worker.ts) share: the
// messages between them and the look-up sequence, the same in every thread for a given seed.

export type UtxoMode = 'getCoin' | 'get' | 'map';

/** Look-ups per inner loop: the clock is read once per batch, not per look-up. */
export const LOOKUP_BATCH = 1024;
/** Distinct look-ups in a sequence (a power of two; the loop wraps around). */
export const PICKS = 1 << 17;

export interface UtxoWorkerData {
  readonly dir: string;
  /** `count` outpoints, 36 bytes each (txid, vout LE), as stored. */
  readonly keys: SharedArrayBuffer;
  /** The value of each coin, for the checks before timing. */
  readonly values: SharedArrayBuffer;
  readonly count: number;
  /** Int32 at 0: the run generation the threads start on. */
  readonly control: SharedArrayBuffer;
  readonly seed: number;
}

export type WorkerRequest =
  | { readonly kind: 'prepare'; readonly mode: UtxoMode }
  | { readonly kind: 'run'; readonly mode: UtxoMode; readonly ms: number; readonly generation: number }
  | { readonly kind: 'close' };

export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'armed' }
  | { readonly kind: 'done'; readonly count: number; readonly elapsedMs: number; readonly acc: number }
  | { readonly kind: 'error'; readonly message: string };

/** xorshift32: deterministic picks. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** PICKS random coins of the `count` in `keys`, as key views, txid views, vouts and (later) strings. */
export function lookupKeys(
  keys: Uint8Array,
  count: number,
  seed: number,
): { index: Uint32Array; keys: Uint8Array[]; txids: Uint8Array[]; vouts: Uint32Array; strings: string[] } {
  const r = rng(seed);
  const index = new Uint32Array(PICKS);
  const views: Uint8Array[] = new Array(PICKS);
  const txids: Uint8Array[] = new Array(PICKS);
  const vouts = new Uint32Array(PICKS);
  const dv = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
  for (let i = 0; i < PICKS; i++) {
    const n = Math.floor(r() * count);
    index[i] = n;
    views[i] = keys.subarray(36 * n, 36 * n + 36);
    txids[i] = keys.subarray(36 * n, 36 * n + 32);
    vouts[i] = dv.getUint32(36 * n + 32, true);
  }
  return { index, keys: views, txids, vouts, strings: new Array<string>(PICKS) };
}
