// Batch BIP340 verification: cost per signature of verifySchnorrBatch at 64 and 256 signatures,
// against the engine's single verify (nobleBackend.verifySchnorr) measured in the same run (the
// reference), and against a batch done with noble's own lift_x and pippenger (what msm.ts and the
// OpenSSL lift_x replace).

import { createHash, randomBytes } from 'node:crypto';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { verifySchnorrBatch, type SchnorrItem } from '../src/script/batch-schnorr.js';
import { nobleBackend } from '../src/script/signature.js';
import { check, consume, runTasks, target, type Row, type Suite, type SuiteOptions, type SuiteReport, type TaskSpec } from './report.js';
import { TARGET_SIGS_PER_SEC } from './targets.js';

/** The brief's goal: a batch at least 1.8x cheaper per signature than one verify each. */
const TARGET_SPEEDUP = 1.8;
const SET_SIZE = 256;

function det(label: string, i: number): Uint8Array {
  return Uint8Array.from(createHash('sha256').update(`vigil bench ${label} ${i}`).digest());
}

function items(): SchnorrItem[] {
  return Array.from({ length: SET_SIZE }, (_, i) => {
    const sk = det('batch key', i);
    const msg = det('batch msg', i);
    return { sig64: schnorr.sign(msg, sk, new Uint8Array(32)), msg32: msg, pub32: schnorr.getPublicKey(sk) };
  });
}

const Point = secp256k1.Point;
const N = Point.Fn.ORDER;
const num = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).toString('hex'));

/** The same batch equation with noble's lift_x, tagged hash and pippenger only (the first design). */
function nobleBatch(batch: readonly SchnorrItem[]): boolean {
  const u = batch.length;
  const w = randomBytes(32 * u);
  const pts = [Point.BASE];
  const sc = [0n];
  let sSum = 0n;
  try {
    for (let i = 0; i < u; i++) {
      const { sig64, msg32, pub32 } = batch[i]!;
      const s = num(sig64.subarray(32));
      if (s >= N) return false;
      const P = schnorr.utils.lift_x(num(pub32));
      const R = schnorr.utils.lift_x(num(sig64.subarray(0, 32)));
      const e = num(schnorr.utils.taggedHash('BIP0340/challenge', sig64.subarray(0, 32), pub32, msg32)) % N;
      const a = i === 0 ? 1n : num(w.subarray(32 * i, 32 * i + 32)) % N || 1n;
      sSum = (sSum + a * s) % N;
      pts.push(R.negate(), P.negate());
      sc.push(a, (a * e) % N);
    }
  } catch {
    return false;
  }
  sc[0] = sSum;
  return pippenger(Point, pts, sc).is0();
}

function flipped(set: readonly SchnorrItem[], at: number): SchnorrItem[] {
  const out = set.slice();
  const sig = set[at]!.sig64.slice();
  sig[40]! ^= 1;
  out[at] = { ...set[at]!, sig64: sig };
  return out;
}

function checkCases(set: readonly SchnorrItem[]): string[] {
  for (const [i, it] of set.entries()) check(schnorr.verify(it.sig64, it.msg32, it.pub32) && nobleBackend.verifySchnorr(it.sig64, it.msg32, it.pub32), `signature ${i} verifies alone (noble's verify and the engine's)`);
  for (const size of [64, 256]) {
    for (let start = 0; start + size <= set.length; start += size) {
      const chunk = set.slice(start, start + size);
      check(verifySchnorrBatch(chunk), `batch of ${size} from ${start} verifies`);
      check(!verifySchnorrBatch(flipped(chunk, size >> 1)), `batch of ${size} from ${start} with one flipped bit fails`);
      check(nobleBatch(chunk), `noble-only batch of ${size} from ${start} verifies`);
      check(!nobleBatch(flipped(chunk, 3)), `noble-only batch of ${size} from ${start} with one flipped bit fails`);
    }
  }
  return [
    `${SET_SIZE} BIP340 signatures (deterministic keys and messages) each verify with noble alone`,
    'every batch timed below verifies, and fails with one bit of one signature flipped (both batch implementations)',
  ];
}

/**
 * Single verifies and batches timed back to back, round after round: `size` single verifies,
 * then one batch of the same `size` signatures. Each round gives a ratio from two timings taken
 * a few milliseconds apart, so load that comes and goes on a shared machine (which skews rows
 * timed seconds apart) mostly cancels; the median over rounds is reported.
 */
function pairedSpeedup(set: readonly SchnorrItem[], size: number, rounds: number): { median: number; min: number; max: number } {
  const ratios: number[] = [];
  let ok = true;
  for (let r = 0; r < rounds; r++) {
    const chunk = set.slice((r * size) % set.length, ((r * size) % set.length) + size);
    const t0 = performance.now();
    for (const c of chunk) ok &&= nobleBackend.verifySchnorr(c.sig64, c.msg32, c.pub32);
    const t1 = performance.now();
    ok &&= verifySchnorrBatch(chunk);
    const t2 = performance.now();
    ratios.push((t1 - t0) / (t2 - t1));
  }
  check(ok, 'every paired verification returned true');
  ratios.sort((a, b) => a - b);
  return { median: ratios[ratios.length >> 1]!, min: ratios[0]!, max: ratios[ratios.length - 1]! };
}

export const batchSchnorrSuite: Suite = {
  name: 'batch-schnorr',
  title: 'batch BIP340 verification vs one verify per signature, one thread',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const set = items();
    const checks = checkCases(set);
    const b64 = [0, 1, 2, 3].map((k) => set.slice(64 * k, 64 * k + 64));

    let i = 0;
    let ok = true;
    // The reference is the engine's own single verify (what a block's BIP340 checks cost without
    // batching); noble's schnorr.verify, ~3x slower here, is timed beside it.
    const SINGLE = 'single: nobleBackend.verifySchnorr';
    const LIB_SINGLE = 'single: noble schnorr.verify (the library\'s own)';
    const B64 = 'batch of 64: verifySchnorrBatch';
    const B256 = 'batch of 256: verifySchnorrBatch';
    const N64 = 'batch of 64: noble lift_x + pippenger';
    const N256 = 'batch of 256: noble lift_x + pippenger';
    const specs: TaskSpec[] = [
      { name: SINGLE, unit: 'verify', fn: () => { const c = set[i++ & (SET_SIZE - 1)]!; ok &&= nobleBackend.verifySchnorr(c.sig64, c.msg32, c.pub32); } },
      { name: LIB_SINGLE, unit: 'verify', ref: SINGLE, fn: () => { const c = set[i++ & (SET_SIZE - 1)]!; ok &&= schnorr.verify(c.sig64, c.msg32, c.pub32); } },
      { name: B64, unit: 'batch', ref: SINGLE, items: { count: 64, unit: 'sig' }, fn: () => { ok &&= verifySchnorrBatch(b64[i++ & 3]!); } },
      { name: B256, unit: 'batch', ref: SINGLE, items: { count: 256, unit: 'sig' }, fn: () => { ok &&= verifySchnorrBatch(set); } },
      { name: N64, unit: 'batch', ref: SINGLE, items: { count: 64, unit: 'sig' }, fn: () => { ok &&= nobleBatch(b64[i++ & 3]!); } },
      { name: N256, unit: 'batch', ref: SINGLE, items: { count: 256, unit: 'sig' }, fn: () => { ok &&= nobleBatch(set); } },
    ];
    const { rows, bench } = await runTasks(this.title, specs, opts);
    check(ok, 'every timed verification returned true');
    consume(ok);
    // An odd number of paired rounds per size, at least 5 (13 and 5 at the default time; with the
    // faster single verify a round of 64 now takes ~35 ms and of 256 ~130 ms, so well under opts.timeMs).
    const paired64 = pairedSpeedup(set, 64, Math.max(5, Math.round(opts.timeMs / 80)) | 1);
    const paired256 = pairedSpeedup(set, 256, Math.max(5, Math.round(opts.timeMs / 300)) | 1);
    const fmtPaired = (p: { median: number; min: number; max: number }): string => `${p.median.toFixed(2)}x (rounds from ${p.min.toFixed(2)}x to ${p.max.toFixed(2)}x)`;

    const row = (name: string): Row => rows.find((r) => r.name === name)!;
    const single = row(SINGLE);
    /** Single-verify time over batch time per signature, from medians (as the table's ratios). */
    const speedup = (name: string): number => single.p50Ms / (row(name).p50Ms / row(name).items!.count);
    const speedupMean = (name: string): number => single.meanMs / (row(name).meanMs / row(name).items!.count);
    const fmt = (name: string): string => `${speedup(name).toFixed(2)}x (means: ${speedupMean(name).toFixed(2)}x)`;
    return {
      suite: this.name,
      title: this.title,
      checks,
      rows,
      targets: [
        target('batch of 64, per-signature speedup over single verify', TARGET_SPEEDUP, paired64.median, '×', 'paired rounds, median'),
        target('batch of 256, per-signature speedup over single verify', TARGET_SPEEDUP, paired256.median, '×', 'paired rounds, median'),
        target('BIP340 verify in batches of 256, one thread', TARGET_SIGS_PER_SEC, row(B256).items!.perSec, 'sig/s'),
      ],
      notes: [
        `per-signature speedup, paired rounds (single verifies then one batch of the same signatures, back to back): ` +
          `batch 64 ${fmtPaired(paired64)}, batch 256 ${fmtPaired(paired256)}`,
        `per-signature speedup from the table's rows (median, and mean): batch 64 ${fmt(B64)}, batch 256 ${fmt(B256)}; ` +
          `noble-only batch 64 ${fmt(N64)}, 256 ${fmt(N256)}`,
        'a batch call draws fresh random weights (node:crypto) each time, so no call repeats the previous one',
        '"p50 vs ref" compares a whole batch call with one single verify; divide by the batch size for per-signature cost',
      ],
      bench,
    };
  },
};
