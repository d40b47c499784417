// Parsing throughput: single transactions (a typical segwit one and a large legacy one from
// mainnet block 866342) and whole blocks (866342 and testnet3 928927), with and without txids.

import { ByteWriter } from '../src/primitives/writer.js';
import { hash256 } from '../src/primitives/hash.js';
import { equalBytes, hashToHex } from '../src/primitives/bytes.js';
import { blockMerkleRoot, decodeBlock, type Block } from '../src/primitives/block.js';
import { decodeTransaction, type Transaction } from '../src/primitives/transaction.js';
import { check, consume, runTasks, target, type Suite, type SuiteOptions, type SuiteReport, type TaskSpec } from './report.js';
import { BLOCK_866342, BLOCK_928927, readVector } from './vectors.js';
import { TARGET_BLOCKS_PER_SEC, TARGET_TX_PER_SEC as TARGET_TXS_PER_SEC } from './targets.js';

function decodeTxOrThrow(raw: Uint8Array): Transaction {
  const r = decodeTransaction(raw);
  if (!r.ok) throw new Error(`benchmark check failed: decodeTransaction: ${r.code} at ${r.offset}`);
  return r.tx;
}

function decodeBlockOrThrow(raw: Uint8Array): Block {
  const r = decodeBlock(raw);
  if (!r.ok) throw new Error(`benchmark check failed: decodeBlock: ${r.code} at ${r.offset}`);
  return r.block;
}

/** Serialize through the writer (Block.toBytes would hand back the parsed bytes unchanged). */
function reserialize(block: Block): Uint8Array {
  const w = new ByteWriter(2 * 1024 * 1024);
  block.header.write(w);
  w.compactSize(block.txs.length);
  for (const tx of block.txs) tx.write(w, true);
  return w.finish();
}

/** Core's GetBlockWeight: stripped size × 3 + total size, summed from the transactions. */
function blockWeight(block: Block, rawLength: number): number {
  const stripped = rawLength - block.txs.reduce((n, tx) => n + tx.totalSize() - tx.baseSize(), 0);
  return stripped * 3 + rawLength;
}

/** The header hash, read as a 256-bit number, is at most the target its nBits encodes. */
function meetsProofOfWork(block: Block): boolean {
  const bits = block.header.bits;
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  const targetValue = exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
  return BigInt(`0x${hashToHex(block.hash())}`) <= targetValue;
}

function checkBlock(file: string, bytes: Uint8Array, want: { hash?: string; txs: number; weight: number }): string {
  const block = decodeBlockOrThrow(bytes);
  const hash = hashToHex(block.hash());
  if (want.hash !== undefined) check(hash === want.hash, `${file}: block hash ${hash} is ${want.hash}`);
  check(block.txs.length === want.txs, `${file}: ${block.txs.length} transactions, SOURCES.md says ${want.txs}`);
  const merkle = blockMerkleRoot(block);
  check(equalBytes(merkle.root, block.header.merkleRoot) && !merkle.mutated, `${file}: the txids hash to the header's merkle root`);
  check(equalBytes(reserialize(block), bytes), `${file}: re-serializes to the same bytes`);
  check(blockWeight(block, bytes.length) === want.weight, `${file}: weight ${blockWeight(block, bytes.length)}, SOURCES.md says ${want.weight}`);
  check(meetsProofOfWork(block), `${file}: hash meets the nBits target`);
  return (
    `${file}: hash ${want.hash !== undefined ? 'is SOURCES.md\'s' : 'meets its nBits target'} (${hash.slice(0, 24)}…), ` +
    `${want.txs} txs, txids give the header's merkle root, weight ${want.weight}, re-serializes byte for byte`
  );
}

function checkTx(what: string, raw: Uint8Array, inBlock: Transaction): string {
  const tx = decodeTxOrThrow(raw);
  check(equalBytes(tx.toBytes(true), raw), `${what}: re-serializes to the same bytes`);
  // The txid from the cached spans must equal the hash of a fresh witness-less serialization.
  check(equalBytes(tx.txid(), hash256(tx.toBytes(false))), `${what}: txid equals sha256d of the witness-stripped encoding`);
  check(equalBytes(tx.txid(), inBlock.txid()), `${what}: txid matches the same tx parsed inside the block`);
  return `${what}: re-serializes byte for byte; txid ${hashToHex(tx.txid()).slice(0, 16)}… matches the stripped encoding and the block's copy`;
}

function shape(tx: Transaction): string {
  return `${tx.totalSize()} B, ${tx.inputs.length} in/${tx.outputs.length} out`;
}

interface TxPick {
  readonly label: string;
  /** A standalone copy: decodeTransaction must see exactly one transaction's bytes. */
  readonly raw: Uint8Array;
}

/**
 * The typical segwit tx (the median-sized witness transaction of block 866342) and the large
 * legacy tx (its largest non-witness one), checked. Only byte copies leave this function, so
 * no decoded block stays alive while the suite times (a live block slows every later parse).
 */
function pickTxs(blockBytes: Uint8Array, checks: string[]): { typical: TxPick; legacy: TxPick } {
  const block = decodeBlockOrThrow(blockBytes);
  const segwit = block.txs.filter((tx) => tx.hasWitness() && !tx.isCoinbase()).sort((a, b) => a.totalSize() - b.totalSize());
  const typical = segwit[segwit.length >> 1]!;
  const legacy = block.txs.filter((tx) => !tx.hasWitness() && !tx.isCoinbase()).reduce((a, b) => (b.totalSize() > a.totalSize() ? b : a));
  const typicalRaw = typical.rawBytes()!.slice();
  const legacyRaw = legacy.rawBytes()!.slice();
  checks.push(checkTx(`typical segwit tx (median size of ${segwit.length})`, typicalRaw, typical));
  checks.push(checkTx('largest legacy tx', legacyRaw, legacy));
  return {
    typical: { label: `typical segwit tx [${shape(typical)}]`, raw: typicalRaw },
    legacy: { label: `large legacy tx [${shape(legacy)}]`, raw: legacyRaw },
  };
}

export const parseSuite: Suite = {
  name: 'parse',
  title: 'transaction and block parsing, txid',
  async run(opts: SuiteOptions): Promise<SuiteReport> {
    const bytes1 = readVector(BLOCK_866342.file);
    const bytes2 = readVector(BLOCK_928927.file);
    const checks = [checkBlock(BLOCK_866342.file, bytes1, BLOCK_866342), checkBlock(BLOCK_928927.file, bytes2, BLOCK_928927)];
    const { typical, legacy } = pickTxs(bytes1, checks);

    let sink = 0;
    const keep = (h: Uint8Array): void => {
      sink ^= h[0]!;
    };
    const allTxids = (block: Block): void => {
      for (const tx of block.txs) keep(tx.txid());
    };
    let freshTx: Transaction | undefined;
    let freshBlock: Block | undefined;
    let retained: Block[] = [];

    const specs: TaskSpec[] = [];
    const txRows = ({ label, raw }: TxPick): void => {
      const ref = `reference: sha256d over the ${label}'s ${raw.length} B`;
      specs.push(
        { name: ref, unit: 'hash', fn: () => keep(hash256(raw)) },
        { name: `decodeTransaction, ${label}`, unit: 'tx', ref, fn: () => keep(decodeTxOrThrow(raw).inputs[0]!.prevout.hash) },
        { name: `decodeTransaction + txid(), ${label}`, unit: 'tx', ref, fn: () => keep(decodeTxOrThrow(raw).txid()) },
        {
          name: `txid() only, ${label}, on a freshly parsed object (parse untimed)`,
          unit: 'tx',
          ref,
          beforeEach: () => {
            freshTx = decodeTxOrThrow(raw);
          },
          fn: () => keep(freshTx!.txid()),
          afterAll: () => {
            freshTx = undefined;
          },
        },
      );
    };
    txRows(typical);
    txRows(legacy);

    const blockRows = (label: string, raw: Uint8Array, txs: number, extra: boolean): { both: string; plain: string } => {
      const ref = `reference: sha256d over block ${label}'s ${raw.length} B`;
      const items = { count: txs, unit: 'tx' };
      const plain = `decodeBlock, block ${label}`;
      const both = `decodeBlock + every txid(), block ${label}`;
      specs.push(
        { name: ref, unit: 'hash', fn: () => keep(hash256(raw)) },
        { name: plain, unit: 'block', items, ref, fn: () => keep(decodeBlockOrThrow(raw).header.merkleRoot) },
        { name: both, unit: 'block', items, ref, fn: () => allTxids(decodeBlockOrThrow(raw)) },
      );
      if (extra) {
        specs.push(
          {
            name: `every txid() only, block ${label}, freshly parsed (parse untimed)`,
            unit: 'block',
            items,
            ref,
            beforeEach: () => {
              freshBlock = decodeBlockOrThrow(raw);
            },
            fn: () => allTxids(freshBlock!),
            afterAll: () => {
              freshBlock = undefined;
            },
          },
          {
            // The pipeline parses block N+1 while block N (and its coins) are alive: measure the
            // same parse with two parsed blocks (866342 and 928927, txids computed) kept alive.
            name: `decodeBlock, block ${label}, while 2 other parsed blocks stay alive`,
            unit: 'block',
            items,
            ref: plain,
            beforeAll: () => {
              retained = [decodeBlockOrThrow(bytes1), decodeBlockOrThrow(bytes2)];
              retained.forEach(allTxids);
            },
            fn: () => keep(decodeBlockOrThrow(raw).header.merkleRoot),
            afterAll: () => {
              retained = [];
            },
          },
        );
      }
      return { both, plain };
    };
    const main = blockRows(`866342 (mainnet, ${BLOCK_866342.txs} tx)`, bytes1, BLOCK_866342.txs, true);
    blockRows(`928927 (testnet3, ${BLOCK_928927.txs} tx)`, bytes2, BLOCK_928927.txs, false);

    const { rows, bench } = await runTasks(this.title, specs, opts);
    consume(sink);

    const mainRow = rows.find((r) => r.name === main.both)!;
    const heapRow = rows.find((r) => r.vsRef?.ref === main.plain)!;
    const caveat = 'parsing only: validation also checks, hashes and verifies, so this bounds what is left for the rest';
    return {
      suite: this.name,
      title: this.title,
      checks,
      rows,
      targets: [
        target('block 866342 parse + txids vs block validation target', TARGET_BLOCKS_PER_SEC, mainRow.opsPerSec, 'blocks/s', caveat),
        target('block 866342 parse + txids vs tx validation target', TARGET_TXS_PER_SEC, mainRow.items!.perSec, 'tx/s', caveat),
      ],
      notes: [
        `parse + txids of block 866342 take ${mainRow.meanMs.toFixed(2)} ms mean (${mainRow.p50Ms.toFixed(2)} ms p50), ` +
          `${((mainRow.meanMs / (1000 / TARGET_BLOCKS_PER_SEC)) * 100).toFixed(0)}% of the 5 ms per block budget`,
        'txid() is cached per Transaction object: rows that include it either parse in the timed call or parse untimed before each call, so no call sees a cached txid',
        `with two other parsed blocks (and their txids) alive, decodeBlock takes ${heapRow.vsRef!.p50Ratio.toFixed(2)}× as long (p50; ${heapRow.vsRef!.meanRatio.toFixed(2)}× mean); ` +
          'a parsed block is tens of thousands of small objects, so the heap the parser runs beside can change its cost',
        "typical segwit tx: the median-sized of block 866342's witness transactions; large legacy tx: the largest non-witness transaction of the same block",
      ],
      bench,
    };
  },
};
