// Every real block in the vectors: decode, byte-exact re-encoding from fields, block hash,
// merkle root (CVE-2012-2459 flag clear), BIP141 witness commitment, BIP34 height, stable tx ids.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  adoptBlockHashes,
  Block,
  BlockHeader,
  blockMerkleRoot,
  blockWitnessMerkleRoot,
  computeBlockHashes,
  decodeBlock,
  decodeHeader,
  getWitnessCommitmentIndex,
  MINIMUM_WITNESS_COMMITMENT,
} from '../src/primitives/block.js';
import { decodeTransaction, Transaction, type TxIn, type TxOut } from '../src/primitives/transaction.js';
import { concatBytes, equalBytes, fromHex, hashToHex, toHex } from '../src/primitives/bytes.js';
import { hash256 } from '../src/primitives/hash.js';
import { compactSizeLength } from '../src/primitives/writer.js';
import { bip34Height, loadRealBlock, REAL_BLOCKS, realBlockBytes } from './helpers/real-blocks.js';
import { readVector } from './helpers/vectors.js';

const GENESIS_HASH = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
const BLK_MAGIC = 0xd9b4bef9; // f9beb4d9 read as uint32 LE

/** A transaction rebuilt from copies of its fields, so nothing can come from the parsed bytes. */
function rebuildTx(tx: Transaction): Transaction {
  const inputs: TxIn[] = tx.inputs.map((i) => ({
    prevout: { hash: i.prevout.hash.slice(), index: i.prevout.index },
    scriptSig: i.scriptSig.slice(),
    sequence: i.sequence,
    witness: i.witness.map((w) => w.slice()),
  }));
  const outputs: TxOut[] = tx.outputs.map((o) => ({ value: o.value, scriptPubKey: o.scriptPubKey.slice() }));
  return new Transaction(tx.version, inputs, outputs, tx.locktime);
}

function rebuildHeader(h: BlockHeader): BlockHeader {
  return new BlockHeader(h.version, h.prevBlock.slice(), h.merkleRoot.slice(), h.time, h.bits, h.nonce);
}

function rebuildBlock(b: Block): Block {
  return new Block(rebuildHeader(b.header), b.txs.map(rebuildTx));
}

/** Core's CScript() << nHeight as BIP34 requires at the start of the coinbase scriptSig. */
function bip34Prefix(height: number): Uint8Array {
  const num: number[] = [];
  for (let v = height; v > 0; v = Math.floor(v / 256)) num.push(v & 0xff);
  if ((num[num.length - 1]! & 0x80) !== 0) num.push(0);
  return Uint8Array.of(num.length, ...num);
}

/** Structural checks shared by every real block; returns the decoded block. */
function checkBlock(bytes: Uint8Array, label: string): Block {
  const r = decodeBlock(bytes);
  assert.ok(r.ok, `${label}: ${r.ok ? '' : `${r.code} at ${r.offset}`}`);
  const block = r.block;

  // Byte-exact: the cached encoding, and a true re-encoding from copies of the fields.
  assert.ok(equalBytes(block.toBytes(), bytes), 'cached encoding');
  const rebuilt = rebuildBlock(block);
  assert.equal(rebuilt.rawBytes(), undefined);
  assert.ok(equalBytes(rebuilt.toBytes(), bytes), 're-encoding from fields differs');
  assert.ok(equalBytes(rebuilt.header.toBytes(), bytes.subarray(0, 80)), 'header re-encoding');
  assert.ok(equalBytes(rebuilt.hash(), block.hash()), 'block hash from re-encoded header');
  assert.ok(equalBytes(block.hash(), hash256(bytes.subarray(0, 80))), 'block hash is hash256(header)');

  // Merkle root (Core's BlockMerkleRoot) recomputes to the header's, with no mutation.
  const merkle = blockMerkleRoot(block);
  assert.equal(toHex(merkle.root), toHex(block.header.merkleRoot), 'merkle root');
  assert.equal(merkle.mutated, false, 'merkle mutated');
  const rebuiltMerkle = blockMerkleRoot(rebuilt);
  assert.ok(equalBytes(rebuiltMerkle.root, merkle.root), 'merkle root of the rebuilt block');

  // Every transaction: byte-exact, ids stable between the parsed and the rebuilt form.
  let weight = (80 + compactSizeLength(block.txs.length)) * 4;
  for (let t = 0; t < block.txs.length; t++) {
    const tx = block.txs[t]!;
    const copy = rebuilt.txs[t]!;
    const raw = tx.rawBytes()!;
    assert.ok(equalBytes(copy.toBytes(), raw), `tx ${t} re-encoding`);
    assert.ok(equalBytes(tx.txid(), hash256(copy.toBytes(false))), `tx ${t} txid`);
    assert.ok(equalBytes(copy.txid(), tx.txid()), `tx ${t} txid of rebuilt`);
    assert.ok(equalBytes(tx.wtxid(), hash256(raw)), `tx ${t} wtxid`);
    assert.ok(equalBytes(copy.wtxid(), tx.wtxid()), `tx ${t} wtxid of rebuilt`);
    assert.equal(tx.weight(), copy.weight(), `tx ${t} weight`);
    const again = decodeTransaction(raw);
    assert.ok(again.ok && equalBytes(again.tx.txid(), tx.txid()), `tx ${t} decodes alone`);
    assert.equal(tx.isCoinbase(), t === 0, `tx ${t} coinbase`);
    weight += tx.weight();
  }
  assert.equal(weight, rebuilt.toBytes(false).length * 3 + bytes.length, 'block weight');

  // BIP141 witness commitment: hash256(witness merkle root || witness reserved value).
  if (block.txs.some((tx) => tx.hasWitness())) {
    const idx = getWitnessCommitmentIndex(block);
    assert.ok(idx >= 0, 'witness block without commitment');
    const coinbase = block.txs[0]!;
    const reserved = coinbase.inputs[0]!.witness;
    assert.equal(reserved.length, 1, 'coinbase witness is one item');
    assert.equal(reserved[0]!.length, 32, 'witness reserved value is 32 bytes');
    const witnessRoot = blockWitnessMerkleRoot(block);
    assert.equal(witnessRoot.mutated, false);
    const commitment = hash256(concatBytes(witnessRoot.root, reserved[0]!));
    assert.equal(toHex(coinbase.outputs[idx]!.scriptPubKey.subarray(6, 38)), toHex(commitment), 'witness commitment');
  }
  return block;
}

for (const v of REAL_BLOCKS) {
  test(v.file, () => {
    const bytes = realBlockBytes(v);
    if (v.framing === 8) {
      const whole = readVector(...v.file.split('/'));
      const dv = new DataView(whole.buffer, whole.byteOffset, 8);
      assert.equal(dv.getUint32(0, true), BLK_MAGIC, 'blk magic');
      assert.equal(dv.getUint32(4, true), bytes.length, 'blk length');
    }
    const block = checkBlock(bytes, v.file);
    assert.ok(equalBytes(block.hash(), loadRealBlock(v).hash()));
    if (v.hash !== undefined) assert.equal(hashToHex(block.hash()), v.hash, 'block hash');
    const named = /block-([0-9a-f]{64})\.blk$/.exec(v.file);
    if (named !== null) assert.equal(hashToHex(block.hash()), named[1], 'file name is the block hash');

    assert.equal(block.txs.length, v.txs, 'tx count');
    let inputs = 0;
    let witnessInputs = 0;
    for (const tx of block.txs.slice(1)) {
      inputs += tx.inputs.length;
      for (const i of tx.inputs) if (i.witness.length > 0) witnessInputs++;
    }
    assert.equal(inputs, v.inputs, 'non-coinbase input count');
    if (v.witnessInputs !== undefined) assert.equal(witnessInputs, v.witnessInputs, 'witness inputs');
    if (v.segwitTxs !== undefined) assert.equal(block.txs.filter((tx) => tx.hasWitness()).length, v.segwitTxs, 'segwit tx count');
    if (v.weight !== undefined) {
      assert.equal(block.toBytes(false).length * 3 + bytes.length, v.weight, 'weight');
    }
    // BIP34: the coinbase scriptSig starts with the height (all these blocks are past activation).
    assert.ok(v.height >= bip34Height(v.network));
    const cbSig = block.txs[0]!.inputs[0]!.scriptSig;
    const prefix = bip34Prefix(v.height);
    assert.equal(toHex(cbSig.subarray(0, prefix.length)), toHex(prefix), 'BIP34 height in the coinbase');
  });
}

test('btcd/blocks1-256.dat', () => {
  const file = readVector('btcd', 'blocks1-256.dat');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let off = 0;
  let prev = GENESIS_HASH;
  let height = 0;
  const spendHeights: number[] = [];
  while (off < file.length) {
    assert.equal(dv.getUint32(off, true), BLK_MAGIC, `magic at ${off}`);
    const len = dv.getUint32(off + 4, true);
    const bytes = file.subarray(off + 8, off + 8 + len);
    assert.equal(bytes.length, len, `frame at ${off} runs past EOF`);
    height++;
    const block = checkBlock(bytes, `block ${height}`);
    assert.equal(hashToHex(block.header.prevBlock), prev, `block ${height} links to its parent`);
    prev = hashToHex(block.hash());
    if (block.txs.length > 1) spendHeights.push(height);
    off += 8 + len;
  }
  assert.equal(off, file.length);
  assert.equal(height, 255, 'mainnet blocks 1..255');
  assert.deepEqual(spendHeights, [170, 181, 182, 183, 187, 221, 248], 'blocks with non-coinbase spends');
});

const SEGWIT_BLOCK = REAL_BLOCKS.find((b) => b.file.endsWith('block482683.raw'))!;

/** A coinbase paying nothing to each of `scripts`. */
function coinbaseWith(scripts: readonly Uint8Array[]): Transaction {
  const input: TxIn = { prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: Uint8Array.of(1, 1), sequence: 0xffffffff, witness: [] };
  return new Transaction(1, [input], scripts.map((scriptPubKey) => ({ value: 0, scriptPubKey })), 0);
}

test("getWitnessCommitmentIndex is Core's GetWitnessCommitmentIndex: the last output of 38+ bytes starting 6a24aa21a9ed", () => {
  const header = loadRealBlock(SEGWIT_BLOCK).header;
  const commitment = (len: number, sixth = 0xed): Uint8Array => {
    const s = new Uint8Array(len).fill(0x11);
    s.set([0x6a, 0x24, 0xaa, 0x21, 0xa9, sixth]);
    return s;
  };
  const index = (...scripts: Uint8Array[]): number => getWitnessCommitmentIndex(new Block(header, [coinbaseWith(scripts)]));
  assert.equal(MINIMUM_WITNESS_COMMITMENT, 38);
  assert.equal(index(commitment(38)), 0);
  assert.equal(index(Uint8Array.of(0x51), commitment(39)), 1, 'a longer script counts');
  assert.equal(index(commitment(37)), -1, 'one byte short');
  assert.equal(index(commitment(38, 0xee)), -1, 'the header differs in its sixth byte');
  assert.equal(index(commitment(38), Uint8Array.of(0x51), commitment(38), Uint8Array.of(0x51)), 2, 'the last of several');
  assert.equal(getWitnessCommitmentIndex(new Block(header, [])), -1, 'no coinbase');
});

test('decodeHeader: exactly 80 bytes', () => {
  const bytes = realBlockBytes(SEGWIT_BLOCK);
  const r = decodeHeader(bytes.subarray(0, 80));
  assert.ok(r.ok);
  assert.ok(equalBytes(r.header.hash(), hash256(bytes.subarray(0, 80))));
  const long = decodeHeader(bytes.subarray(0, 81));
  assert.ok(!long.ok);
  assert.equal(long.code, 'trailing-data');
  assert.equal(long.offset, 80);
  const short = decodeHeader(bytes.subarray(0, 79));
  assert.ok(!short.ok);
  assert.equal(short.code, 'truncated');
});

test('the smallest transactions (10 bytes: no inputs, flag 0) parse in a block; a count the bytes cannot hold is refused at once', () => {
  const header = realBlockBytes(SEGWIT_BLOCK).subarray(0, 80);
  const tiny = fromHex('01000000' + '00' + '00' + '00000000');
  const two = concatBytes(header, Uint8Array.of(2), tiny, tiny);
  const r = decodeBlock(two);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.block.txs.length, 2);
  assert.ok(equalBytes(r.block.toBytes(false), two));
  const s = decodeBlock(concatBytes(header, Uint8Array.of(2), tiny, tiny.subarray(0, 9)));
  assert.ok(!s.ok);
  assert.equal(s.code, 'truncated');
  assert.equal(s.offset, 81);
  assert.match(s.message, /^2 transactions cannot fit in 19 bytes/);
});

test('computeBlockHashes carries both mutation flags; adoptBlockHashes gives them back and refuses a buffer of another size', () => {
  const block = loadRealBlock(SEGWIT_BLOCK);
  const tx = block.txs.slice(1).find((t) => t.hasWitness())!;
  // Leaves cb, tx, tx, tx: the second pair is a duplicate in both trees (CVE-2012-2459).
  const make = (): Block => new Block(block.header, [block.txs[0]!, tx, tx, tx]);
  const hashes = computeBlockHashes(make());
  assert.equal(hashes[64], 1, 'merkle root mutated');
  assert.equal(hashes[97], 1, 'witness merkle root mutated');
  const fresh = make();
  assert.equal(adoptBlockHashes(fresh, hashes), true);
  assert.equal(blockMerkleRoot(fresh).mutated, true);
  assert.equal(blockWitnessMerkleRoot(fresh).mutated, true);
  const plain = computeBlockHashes(block);
  assert.equal(plain[64], 0);
  assert.equal(plain[97], 0);
  const again = loadRealBlock(SEGWIT_BLOCK);
  assert.equal(adoptBlockHashes(again, plain.subarray(0, plain.length - 64)), false);
  assert.equal(again.merkle, undefined, 'nothing adopted');
  assert.equal(adoptBlockHashes(again, plain), true);
  assert.equal(blockMerkleRoot(again).mutated, false);
  assert.equal(blockWitnessMerkleRoot(again).mutated, false);
  assert.ok(equalBytes(again.hash(), block.hash()));
});
