// Proof of work: Core's compact-format cases (arith_uint256_tests bignum_SetCompact), pow_tests
// (get_next_work*, CheckProofOfWork_test_*), real headers, and the mainnet chain of blocks 1-255.

import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  calculateNextWorkRequired,
  checkProofOfWork,
  compactToTarget,
  getBlockProof,
  getNextWorkRequired,
  permittedDifficultyTransition,
  targetToCompact,
  uintToArith256,
  type ChainEntry,
} from '../src/consensus/pow.js';
import { getMedianTimePast } from '../src/consensus/chain-time.js';
import { PARAMS, type ChainParams } from '../src/consensus/params.js';
import { decodeBlock, type Block } from '../src/primitives/block.js';
import { equalBytes, hashToHex } from '../src/primitives/bytes.js';
import { loadRealBlock, REAL_BLOCKS } from './helpers/real-blocks.js';
import { readVector } from './helpers/vectors.js';

const MAIN = PARAMS.main;
const hex = (n: number): string => '0x' + n.toString(16).padStart(8, '0');

/** Core's ArithToUint256: a number as a hash in internal (little-endian) byte order. */
function arithToUint256(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('arith_uint256_tests bignum_SetCompact', () => {
  // [nBits, GetHex() after SetCompact, GetCompact(negative) result, fNegative, fOverflow]
  const rows: [number, string, number, boolean, boolean][] = [
    [0, '0', 0, false, false],
    [0x00123456, '0', 0, false, false],
    [0x01003456, '0', 0, false, false],
    [0x02000056, '0', 0, false, false],
    [0x03000000, '0', 0, false, false],
    [0x04000000, '0', 0, false, false],
    [0x00923456, '0', 0, false, false],
    [0x01803456, '0', 0, false, false],
    [0x02800056, '0', 0, false, false],
    [0x03800000, '0', 0, false, false],
    [0x04800000, '0', 0, false, false],
    [0x01123456, '12', 0x01120000, false, false],
    [0x01fedcba, '7e', 0x01fe0000, true, false],
    [0x02123456, '1234', 0x02123400, false, false],
    [0x03123456, '123456', 0x03123456, false, false],
    [0x04123456, '12345600', 0x04123456, false, false],
    [0x04923456, '12345600', 0x04923456, true, false],
    [0x05009234, '92340000', 0x05009234, false, false],
    [0x20123456, '1234560000000000000000000000000000000000000000000000000000000000', 0x20123456, false, false],
  ];
  for (const [bits, targetHex, compact, negative, overflow] of rows) {
    test(`SetCompact(${hex(bits)})`, () => {
      const r = compactToTarget(bits);
      assert.equal(r.target, BigInt('0x' + targetHex));
      assert.equal(r.negative, negative);
      assert.equal(r.overflow, overflow);
      // Core calls GetCompact(true) on the negative rows, GetCompact() on the others.
      assert.equal(hex(targetToCompact(r.target, negative)), hex(compact));
    });
  }

  test('SetCompact(0xff123456) overflows', () => {
    const r = compactToTarget(0xff123456);
    assert.equal(r.negative, false);
    assert.equal(r.overflow, true);
  });

  test('overflow at each of Core\'s three bounds: size > 34, a mantissa above 0xff with size > 33, above 0xffff with size > 32', () => {
    // Core's SetCompact: fOverflow = nWord != 0 && (nSize > 34 || (nWord > 0xff && nSize > 33) || (nWord > 0xffff && nSize > 32)).
    const rows: [number, boolean][] = [
      [0x22000001, false],
      [0x23000001, true],
      [0x220000ff, false],
      [0x22000100, true],
      [0x2100ffff, false],
      [0x21010000, true],
      [0x23000000, false],
    ];
    for (const [bits, overflow] of rows) assert.equal(compactToTarget(bits).overflow, overflow, hex(bits));
  });

  test('an overflowing nBits is no proof of work even where its target, reduced mod 2^256, is under powLimit (regtest)', () => {
    // 0x22000101 is 0x101 << 248 and 0x21010001 is 0x10001 << 240: both past 2^256, and what is left
    // of them (2^248, 2^240) is below regtest's powLimit of 2^255 - 1. Core's DeriveTarget refuses both.
    const REGTEST = PARAMS.regtest;
    for (const bits of [0x22000101, 0x21010001]) {
      const { target, overflow } = compactToTarget(bits);
      assert.ok(overflow, hex(bits));
      assert.ok(target > 0n && target <= REGTEST.powLimit, hex(bits));
      assert.ok(!checkProofOfWork(arithToUint256(1n), bits, REGTEST), hex(bits));
      assert.equal(getBlockProof(bits), 0n, hex(bits));
    }
  });

  test("GetCompact of 0x80: no compact with the 0x00800000 bit set", () => {
    assert.equal(hex(targetToCompact(0x80n)), hex(0x02008000));
  });

  test('misuse throws', () => {
    assert.throws(() => compactToTarget(-1), TypeError);
    assert.throws(() => compactToTarget(2 ** 32), TypeError);
    assert.throws(() => compactToTarget(1.5), TypeError);
    assert.throws(() => targetToCompact(-1n), RangeError);
    assert.throws(() => targetToCompact(1n << 256n), RangeError);
  });

  test('property: GetCompact gives a valid compact that rounds the target down and is stable', () => {
    const u256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
    // Small and large targets alike, not only the ~256-bit ones a uniform draw gives.
    const target = fc.oneof(u256, fc.tuple(u256, fc.integer({ min: 0, max: 255 })).map(([t, s]) => t >> BigInt(s)));
    fc.assert(
      fc.property(target, (t) => {
        const c = targetToCompact(t);
        const r = compactToTarget(c);
        assert.equal(r.negative, false);
        assert.equal(r.overflow, false);
        assert.ok(r.target <= t);
        // Only bytes below the top three are dropped.
        const size = c >>> 24;
        if (size > 3) assert.ok(t - r.target < 1n << BigInt(8 * (size - 3)));
        else assert.equal(r.target, t);
        assert.equal(targetToCompact(r.target), c);
      }),
      { seed: 0x0b1d, numRuns: 2000 },
    );
  });
});

describe('pow_tests', () => {
  // [name, nLastRetargetTime, pindexLast height, time, bits, expected nbits, a just-out-of-range nbits]
  const cases: [string, number, number, number, number, number, number | undefined][] = [
    ['get_next_work', 1261130161, 32255, 1262152739, 0x1d00ffff, 0x1d00d86a, undefined],
    ['get_next_work_pow_limit', 1231006505, 2015, 1233061996, 0x1d00ffff, 0x1d00ffff, undefined],
    ['get_next_work_lower_limit_actual', 1279008237, 68543, 1279297671, 0x1c05a3f4, 0x1c0168fd, 0x1c0168fd - 1],
    ['get_next_work_upper_limit_actual', 1263163443, 46367, 1269211443, 0x1c387f6f, 0x1d00e1fd, 0x1d00e1fd + 1],
  ];
  for (const [name, firstTime, height, time, bits, expected, invalidBits] of cases) {
    test(name, () => {
      assert.equal(hex(calculateNextWorkRequired(bits, time, firstTime, MAIN)), hex(expected));
      assert.ok(permittedDifficultyTransition(MAIN, height + 1, bits, expected));
      if (invalidBits !== undefined) assert.ok(!permittedDifficultyTransition(MAIN, height + 1, bits, invalidBits));
    });
  }

  test('the clamps bind one second past them: timespan/4 - 1 retargets as timespan/4, 4 × timespan + 1 as 4 × timespan', () => {
    // Core's CalculateNextWorkRequired: nActualTimespan < nPowTargetTimespan/4 and > nPowTargetTimespan*4
    // are clamped; unclamped, these two periods would round to 0x1c0168fc and 0x1c020000.
    const span = MAIN.powTargetTimespan;
    const first = 1_279_008_237;
    assert.equal(hex(calculateNextWorkRequired(0x1c05a3f4, first + span / 4 - 1, first, MAIN)), hex(0x1c0168fd));
    assert.equal(hex(calculateNextWorkRequired(0x1c05a3f4, first + span / 4, first, MAIN)), hex(0x1c0168fd));
    assert.equal(hex(calculateNextWorkRequired(0x1c05a3f4, first + span / 4 + 600, first, MAIN)), hex(0x1c0169b4));
    assert.equal(hex(calculateNextWorkRequired(0x1b7fffff, first + span * 4 + 1, first, MAIN)), hex(0x1c01ffff));
    assert.equal(hex(calculateNextWorkRequired(0x1b7fffff, first + span * 4, first, MAIN)), hex(0x1c01ffff));
  });

  const powLimitBits = targetToCompact(MAIN.powLimit);
  test('CheckProofOfWork_test_negative_target', () => {
    assert.ok(!checkProofOfWork(arithToUint256(1n), targetToCompact(MAIN.powLimit, true), MAIN));
  });
  test('CheckProofOfWork_test_overflow_target', () => {
    assert.ok(!checkProofOfWork(arithToUint256(1n), ~0x00800000 >>> 0, MAIN));
  });
  test('CheckProofOfWork_test_too_easy_target', () => {
    assert.ok(!checkProofOfWork(arithToUint256(1n), targetToCompact(MAIN.powLimit * 2n), MAIN));
  });
  test('CheckProofOfWork_test_biger_hash_than_target', () => {
    assert.ok(!checkProofOfWork(arithToUint256(MAIN.powLimit * 2n), powLimitBits, MAIN));
  });
  test('CheckProofOfWork_test_zero_target', () => {
    assert.ok(!checkProofOfWork(arithToUint256(0n), targetToCompact(0n), MAIN));
  });
  test('CheckProofOfWork: a hash equal to the target passes, one above fails', () => {
    const target = compactToTarget(powLimitBits).target;
    assert.ok(checkProofOfWork(arithToUint256(target), powLimitBits, MAIN));
    assert.ok(!checkProofOfWork(arithToUint256(target + 1n), powLimitBits, MAIN));
  });

  test('PermittedDifficultyTransition: at a retarget the largest target allowed is capped at powLimit', () => {
    // Core: largest_difficulty_target = min(old × 4, powLimit). From powLimit's own bits, a target
    // above powLimit is not permitted, though it is under four times the old one.
    assert.ok(permittedDifficultyTransition(MAIN, 2016, 0x1d00ffff, 0x1d00ffff));
    assert.ok(!permittedDifficultyTransition(MAIN, 2016, 0x1d00ffff, 0x1d01fffe));
    assert.ok(!permittedDifficultyTransition(MAIN, 2016, 0x1d00ffff, 0x1d010000));
  });

  test('CalculateNextWorkRequired keeps the bits where there is no retargeting (regtest)', () => {
    // Core's CalculateNextWorkRequired: if (params.fPowNoRetargeting) return pindexLast->nBits.
    assert.equal(hex(calculateNextWorkRequired(0x1d00ffff, 1_600_086_400 + 1, 1_600_000_000, PARAMS.regtest)), hex(0x1d00ffff));
    assert.equal(hex(calculateNextWorkRequired(0x1c05a3f4, 1_600_000_000 + 4 * 86_400 + 1, 1_600_000_000, PARAMS.regtest)), hex(0x1c05a3f4));
  });

  test('PermittedDifficultyTransition: bits may not change within a period', () => {
    assert.ok(permittedDifficultyTransition(MAIN, 2017, 0x1d00ffff, 0x1d00ffff));
    assert.ok(!permittedDifficultyTransition(MAIN, 2017, 0x1d00ffff, 0x1c05a3f4));
    assert.ok(permittedDifficultyTransition(PARAMS.testnet3, 2017, 0x1d00ffff, 0x1c05a3f4));
  });
});

describe('GetBlockProof', () => {
  test('genesis bits 0x1d00ffff: 0x100010001', () => {
    assert.equal(getBlockProof(0x1d00ffff), 0x100010001n);
  });
  test('regtest bits 0x207fffff: 2', () => {
    assert.equal(getBlockProof(0x207fffff), 2n);
  });
  test('equals 2^256 / (target + 1)', () => {
    for (const bits of [0x1d00ffff, 0x1c05a3f4, 0x17028c61, 0x1e0377ae, 0x03123456, 0x01010000]) {
      const { target } = compactToTarget(bits);
      assert.equal(getBlockProof(bits), (1n << 256n) / (target + 1n), hex(bits));
    }
  });
  test('invalid nBits: zero, negative or overflowing give 0', () => {
    assert.equal(getBlockProof(0), 0n);
    assert.equal(getBlockProof(0x04923456), 0n);
    assert.equal(getBlockProof(0xff123456), 0n);
  });
});

describe('CheckProofOfWork on real headers', () => {
  const byNetwork: Record<string, ChainParams> = { mainnet: PARAMS.main, testnet3: PARAMS.testnet3 };
  test('mainnet genesis', () => {
    const r = decodeBlock(MAIN.genesisBlock);
    assert.ok(r.ok);
    assert.ok(checkProofOfWork(r.block.hash(), r.block.header.bits, MAIN));
  });
  for (const v of REAL_BLOCKS) {
    test(v.file, () => {
      const block = loadRealBlock(v);
      const params = byNetwork[v.network]!;
      assert.ok(checkProofOfWork(block.hash(), block.header.bits, params));
      // A target just below the hash (rounded down by the compact form) must fail.
      const below = targetToCompact(uintToArith256(block.hash()) - 1n);
      assert.ok(!checkProofOfWork(block.hash(), below, params));
    });
  }
});

/** The records of a blk*.dat file: magic, uint32 LE length, block. */
function readBlkFile(bytes: Uint8Array, magic: Uint8Array): Block[] {
  const blocks: Block[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  while (off < bytes.length) {
    assert.ok(equalBytes(bytes.subarray(off, off + 4), magic), `magic at offset ${off}`);
    const len = view.getUint32(off + 4, true);
    const r = decodeBlock(bytes.subarray(off + 8, off + 8 + len));
    if (!r.ok) throw new Error(`block at offset ${off}: ${r.message}`);
    blocks.push(r.block);
    off += 8 + len;
  }
  return blocks;
}

describe('btcd blocks1-256.dat: mainnet blocks 1-255', () => {
  const genesis = decodeBlock(MAIN.genesisBlock);
  assert.ok(genesis.ok);
  const blocks = [genesis.block, ...readBlkFile(readVector('btcd', 'blocks1-256.dat'), MAIN.messageStart)];
  const chain: ChainEntry[] = blocks.map((b, height) => ({ height, time: b.header.time, bits: b.header.bits }));
  const getAncestor = (h: number): ChainEntry => chain[h]!;

  test('the file holds blocks 1 to 255', () => {
    assert.equal(blocks.length, 256);
  });
  for (let height = 1; height < blocks.length; height++) {
    const block = blocks[height]!;
    test(`height ${height} ${hashToHex(block.hash())}`, () => {
      const prev = chain[height - 1]!;
      assert.ok(equalBytes(block.header.prevBlock, blocks[height - 1]!.hash()), 'links to its parent');
      assert.ok(checkProofOfWork(block.hash(), block.header.bits, MAIN), 'high-hash');
      assert.equal(hex(block.header.bits), hex(getNextWorkRequired(prev, block.header.time, MAIN, getAncestor)), 'bad-diffbits');
      assert.ok(block.header.time > getMedianTimePast(prev, getAncestor), 'time-too-old');
    });
  }
  test('chain work of blocks 0-255 is 256 × 0x100010001', () => {
    let work = 0n;
    for (const b of blocks) work += getBlockProof(b.header.bits);
    assert.equal(work, 256n * 0x100010001n);
  });
});

/** A dense synthetic chain: `bitsAt(h)` for each height, blocks ten minutes apart from `start`. */
function syntheticChain(length: number, bitsAt: (h: number) => number, start = 1_600_000_000): ChainEntry[] {
  return Array.from({ length }, (_, height) => ({ height, time: start + height * 600, bits: bitsAt(height) }));
}

describe('GetNextWorkRequired: testnet, BIP94 and regtest rules', () => {
  const X = 0x1c05a3f4;
  const MIN = 0x1d00ffff;

  // Heights 2016 and 2017 at X, then 2018-2020 at minimum difficulty.
  const walk = syntheticChain(2021, (h) => (h >= 2018 ? MIN : X));
  const walkAt = (h: number): ChainEntry => walk[h]!;
  const tip = walk[2020]!;

  test('testnet3: more than 20 minutes after the parent, the block must be min-difficulty', () => {
    assert.equal(hex(getNextWorkRequired(tip, tip.time + 1201, PARAMS.testnet3, walkAt)), hex(MIN));
  });
  test('testnet3: within 20 minutes, the last non-min-difficulty bits apply', () => {
    assert.equal(hex(getNextWorkRequired(tip, tip.time + 1200, PARAMS.testnet3, walkAt)), hex(X));
  });
  test('testnet3: the walk back stops at a retarget block', () => {
    const chain = syntheticChain(2021, (h) => (h >= 2016 ? MIN : X));
    assert.equal(hex(getNextWorkRequired(chain[2020]!, chain[2020]!.time + 60, PARAMS.testnet3, (h) => chain[h]!)), hex(MIN));
  });
  test('testnet3: the walk back stops at genesis', () => {
    const chain = syntheticChain(10, () => MIN);
    assert.equal(hex(getNextWorkRequired(chain[9]!, chain[9]!.time + 60, PARAMS.testnet3, (h) => chain[h]!)), hex(MIN));
  });
  test('mainnet: no min-difficulty rule, the parent bits apply', () => {
    assert.equal(hex(getNextWorkRequired(tip, tip.time + 7200, MAIN, walkAt)), hex(MIN));
    const steady = syntheticChain(2021, () => X);
    assert.equal(hex(getNextWorkRequired(steady[2020]!, steady[2020]!.time + 7200, MAIN, (h) => steady[h]!)), hex(X));
  });

  // A period (2016-4031) that starts at X and ends with a min-difficulty block, taking exactly two weeks.
  const period = syntheticChain(4032, (h) => (h === 4031 ? MIN : X));
  const periodAt = (h: number): ChainEntry => period[h]!;
  const last: ChainEntry = { ...period[4031]!, time: period[2016]!.time + 1209600 };
  period[4031] = last;
  test('testnet4 (BIP94): the retarget scales the first block bits of the period', () => {
    assert.equal(hex(getNextWorkRequired(last, last.time + 600, PARAMS.testnet4, periodAt)), hex(X));
  });
  test('testnet3 (no BIP94): the retarget scales the last block bits of the period', () => {
    assert.equal(hex(getNextWorkRequired(last, last.time + 600, PARAMS.testnet3, periodAt)), hex(MIN));
  });
  test('mainnet retarget over exactly two weeks keeps the target', () => {
    const steady = syntheticChain(4032, () => X);
    const end: ChainEntry = { ...steady[4031]!, time: steady[2016]!.time + 1209600 };
    steady[4031] = end;
    assert.equal(hex(getNextWorkRequired(end, end.time + 600, MAIN, (h) => steady[h]!)), hex(X));
  });

  test('regtest: no retargeting at the 144-block boundary', () => {
    // Bits harder than regtest's powLimit, over a period a block short of a day: a retarget would move them.
    const chain = syntheticChain(144, () => 0x1d00ffff);
    const end = chain[143]!;
    assert.notEqual(hex(calculateNextWorkRequired(end.bits, end.time, chain[0]!.time, { ...PARAMS.regtest, powNoRetargeting: false })), hex(0x1d00ffff));
    assert.equal(hex(getNextWorkRequired(end, end.time + 1, PARAMS.regtest, (h) => chain[h]!)), hex(0x1d00ffff));
  });
});

describe('GetMedianTimePast', () => {
  test('genesis alone: its own time', () => {
    const g: ChainEntry = { height: 0, time: 1231006505, bits: 0x1d00ffff };
    assert.equal(getMedianTimePast(g, () => g), 1231006505);
  });
  test('two blocks: the later time (index count/2 of the sorted times)', () => {
    const chain: ChainEntry[] = [
      { height: 0, time: 100, bits: 0 },
      { height: 1, time: 50, bits: 0 },
    ];
    assert.equal(getMedianTimePast(chain[1]!, (h) => chain[h]!), 100);
  });
  test('the window is eleven blocks: a twelfth, older block far in the future does not move the median', () => {
    // Core's CBlockIndex::nMedianTimeSpan = 11. Heights 1..11 have times 1..11; genesis (height 0) has 1000.
    const chain = [1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((time, height) => ({ height, time, bits: 0 }));
    assert.equal(getMedianTimePast(chain[11]!, (h) => chain[h]!), 6);
    // With genesis inside the window (ten ancestors), it counts.
    assert.equal(getMedianTimePast(chain[10]!, (h) => chain[h]!), 6);
    assert.equal(getMedianTimePast({ ...chain[10]!, time: 2000 }, (h) => chain[h]!), 6);
  });
  test('only the last 11 blocks count', () => {
    // Times 0..19 shuffled deterministically; the last eleven are heights 9..19.
    const times = [19, 3, 17, 0, 12, 8, 1, 15, 6, 10, 2, 18, 5, 14, 7, 11, 4, 16, 9, 13];
    const chain = times.map((time, height) => ({ height, time, bits: 0 }));
    const window = times.slice(9).sort((a, b) => a - b);
    assert.equal(getMedianTimePast(chain[19]!, (h) => chain[h]!), window[5]);
  });
});
