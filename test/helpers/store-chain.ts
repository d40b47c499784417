// A deterministic synthetic chain for the store tests: each block spends random coins of the set so
// far and creates new ones. The same seed always gives the same blocks, so a crashed child process
// and the test that checks it agree on what the UTXO set must be at every height.

import { createHash } from 'node:crypto';
import type { Coin } from '../../src/consensus/coins.js';
import { MAX_MONEY } from '../../src/primitives/amount.js';
import { BLOCK_HAVE_DATA, BLOCK_VALID_SCRIPTS, encodeCoin, type BlockIndexEntry } from '../../src/store/index.js';
import type { ApplyBlockUpdate, OutPointCoin, RevertBlockUpdate } from '../../src/store/index.js';

export interface SyntheticBlock {
  readonly apply: ApplyBlockUpdate;
  readonly revert: RevertBlockUpdate;
  /** Digest of the UTXO set after this block, computed in memory (independent of the store). */
  readonly digest: string;
  readonly coinCount: number;
}

/** mulberry32: small, fast, good enough to pick coins. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SHA-256 of the parts joined with '/', so ('1', '23') and ('12', '3') differ. */
function sha(...parts: (string | Uint8Array)[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('/');
  return new Uint8Array(h.digest());
}

export function outpointKeyHex(txid: Uint8Array, vout: number): string {
  const k = new Uint8Array(36);
  k.set(txid);
  new DataView(k.buffer).setUint32(32, vout, true);
  return Buffer.from(k).toString('hex');
}

/** The digest ChainStore.utxoDigest must give for `coins`, computed without LMDB. */
export function referenceDigest(coins: Iterable<OutPointCoin>): string {
  const rows: Array<{ key: Buffer; record: Uint8Array }> = [];
  for (const c of coins) rows.push({ key: Buffer.from(outpointKeyHex(c.txid, c.vout), 'hex'), record: encodeCoin(c.coin) });
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  const h = createHash('sha256');
  const len = new Uint8Array(4);
  for (const r of rows) {
    h.update(r.key);
    new DataView(len.buffer).setUint32(0, r.record.length, true);
    h.update(len);
    h.update(r.record);
  }
  return h.digest('hex');
}

function randomCoin(rand: () => number, height: number, coinbase: boolean): Coin {
  const r = rand();
  const value = r < 0.05 ? MAX_MONEY : r < 0.1 ? 0 : r < 0.4 ? Math.floor(rand() * 1000) * 100_000 : Math.floor(rand() * 2 ** 40);
  const len = rand() < 0.02 ? 10_000 : Math.floor(rand() * 40);
  const script = new Uint8Array(len);
  for (let i = 0; i < len; i++) script[i] = Math.floor(rand() * 256);
  return { value, scriptPubKey: script, height, coinbase };
}

/**
 * Blocks 0..count-1. Block 0 creates coins only (`genesisCreates`, by default `creates`); each later block spends up to `spends` coins
 * made by earlier blocks and creates `creates` new ones (the first as a coinbase output).
 */
export function syntheticChain(seed: number, count: number, spends: number, creates: number, genesisCreates = creates): SyntheticBlock[] {
  const rand = prng(seed);
  const utxo = new Map<string, OutPointCoin>();
  const keys: string[] = [];
  const blocks: SyntheticBlock[] = [];
  let prevHash: Uint8Array = new Uint8Array(32);
  let work = 0n;
  for (let height = 0; height < count; height++) {
    const header = new Uint8Array(80);
    header.set(sha('version', String(seed)).subarray(0, 4), 0);
    header.set(prevHash, 4);
    header.set(sha('merkle', String(seed), String(height)), 36);
    const hash = sha(sha(header));
    work += BigInt(1 + Math.floor(rand() * 1000)) << 64n;
    const entry: BlockIndexEntry = { hash, header, height, chainWork: work, status: BLOCK_HAVE_DATA | BLOCK_VALID_SCRIPTS };

    const spent: OutPointCoin[] = [];
    const n = height === 0 ? 0 : Math.min(spends, keys.length);
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rand() * keys.length);
      const k = keys[j]!;
      keys[j] = keys[keys.length - 1]!;
      keys.pop();
      spent.push(utxo.get(k)!);
      utxo.delete(k);
    }
    const created: OutPointCoin[] = [];
    for (let i = 0; i < (height === 0 ? genesisCreates : creates); i++) {
      const txid = sha('tx', String(seed), String(height), String(Math.floor(i / 3)));
      const c: OutPointCoin = { txid, vout: i % 3, coin: randomCoin(rand, height, i === 0) };
      created.push(c);
      const k = outpointKeyHex(c.txid, c.vout);
      utxo.set(k, c);
      keys.push(k);
    }
    const tip = { hash, height };
    const parent = { hash: prevHash, height: height - 1 };
    blocks.push({
      apply: {
        entry,
        spent: spent.map(({ txid, vout }) => ({ txid, vout })),
        created,
        undo: spent.map((s) => s.coin),
        tip,
      },
      revert: { entry, removed: created.map(({ txid, vout }) => ({ txid, vout })), restored: spent, tip: parent },
      digest: referenceDigest(utxo.values()),
      coinCount: utxo.size,
    });
    prevHash = hash;
  }
  return blocks;
}
