// BIP341 wallet vectors (bitcoin-core/bip341_wallet_vectors.json, identical to bitcoin/bips
// bip-0341/wallet-test-vectors.json): script-tree commitments and a key-path-signed transaction.
//
// scriptPubKey cases: leaf hashes, merkle root, tweak, output key, scriptPubKey and control
// blocks, built from the tree with the engine's taproot functions. bip350Address is not
// checked: it is a pure encoding of the scriptPubKey, which is compared byte for byte, and
// the engine has no address code, so a bech32m dependency would only test itself.
// keyPathSpending: BIP341 precomputed hashes, per-input sighash, tweaked key and signature,
// then the signed inputs verify through verifyInput, under each signature backend.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { schnorr } from '@noble/curves/secp256k1.js';

import { forEachBackend } from './helpers/backends.js';
import { readVectorText } from './helpers/vectors.js';
import { concatBytes, fromHex, toHex } from '../src/primitives/bytes.js';
import { taggedHash } from '../src/primitives/hash.js';
import { Transaction, decodeTransaction, type TxIn, type TxOut } from '../src/primitives/transaction.js';
import { CONSENSUS_SCRIPT_FLAGS } from '../src/script/flags.js';
import { PrecomputedTxData, SIGHASH_DEFAULT, signatureHashTaproot } from '../src/script/sighash.js';
import { tapBranchHash, tapLeafHash, tapTweakHash, tweakPublicKey, tweakSecretKey } from '../src/script/taproot.js';
import { verifyInput } from '../src/script/verify.js';
import { verifyTransaction } from '../src/script/verify-tx.js';

interface JsonLeaf {
  id: number;
  script: string;
  leafVersion: number;
}
type JsonTree = JsonLeaf | [JsonTree, JsonTree];

interface ScriptPubKeyCase {
  given: { internalPubkey: string; scriptTree: JsonTree | null };
  intermediary: { leafHashes?: string[]; merkleRoot: string | null; tweak: string; tweakedPubkey: string };
  expected: { scriptPubKey: string; bip350Address: string; scriptPathControlBlocks?: string[] };
}

interface InputSpending {
  given: { txinIndex: number; internalPrivkey: string; merkleRoot: string | null; hashType: number };
  intermediary: {
    internalPubkey: string;
    tweak: string;
    tweakedPrivkey: string;
    sigMsg: string;
    precomputedUsed: string[];
    sigHash: string;
  };
  expected: { witness: string[] };
}

interface KeyPathSpending {
  given: { rawUnsignedTx: string; utxosSpent: { scriptPubKey: string; amountSats: number }[] };
  intermediary: {
    hashAmounts: string;
    hashOutputs: string;
    hashPrevouts: string;
    hashScriptPubkeys: string;
    hashSequences: string;
  };
  inputSpending: InputSpending[];
  auxiliary: { fullySignedTx: string };
}

interface WalletVectors {
  version: number;
  scriptPubKey: ScriptPubKeyCase[];
  keyPathSpending: KeyPathSpending[];
}

const vectors = JSON.parse(readVectorText('bitcoin-core', 'bip341_wallet_vectors.json')) as WalletVectors;

/** The consensus flags of a post-taproot block. */
const BLOCK_FLAGS = CONSENSUS_SCRIPT_FLAGS;

interface BuiltLeaf {
  id: number;
  leafVersion: number;
  leafHash: Uint8Array;
  /** Sibling hashes from the leaf up to the root: the control block's path. */
  path: Uint8Array[];
}

/** Walk the JSON tree: a leaf object, or a two-element array for a TapBranch. */
function buildTree(node: JsonTree): { hash: Uint8Array; leaves: BuiltLeaf[] } {
  if (Array.isArray(node)) {
    assert.equal(node.length, 2, 'a branch has two children');
    const left = buildTree(node[0]);
    const right = buildTree(node[1]);
    for (const leaf of left.leaves) leaf.path.push(right.hash);
    for (const leaf of right.leaves) leaf.path.push(left.hash);
    return { hash: tapBranchHash(left.hash, right.hash), leaves: [...left.leaves, ...right.leaves] };
  }
  const leafHash = tapLeafHash(node.leafVersion, fromHex(node.script));
  return { hash: leafHash, leaves: [{ id: node.id, leafVersion: node.leafVersion, leafHash, path: [] }] };
}

test('bip341_wallet_vectors.json: 7 scriptPubKey cases, 1 keyPathSpending with 7 signed inputs', () => {
  assert.equal(vectors.version, 1);
  assert.equal(vectors.scriptPubKey.length, 7);
  assert.equal(vectors.keyPathSpending.length, 1);
  assert.equal(vectors.keyPathSpending[0]!.inputSpending.length, 7);
});

vectors.scriptPubKey.forEach((c, i) => {
  const leafCount = c.intermediary.leafHashes?.length ?? 0;
  test(`scriptPubKey #${i} internalPubkey=${c.given.internalPubkey.slice(0, 16)}… (${leafCount} leaves)`, () => {
    const internalKey = fromHex(c.given.internalPubkey);
    let merkleRoot: Uint8Array | undefined;
    let leaves: BuiltLeaf[] = [];
    if (c.given.scriptTree !== null) {
      const tree = buildTree(c.given.scriptTree);
      merkleRoot = tree.hash;
      leaves = [...tree.leaves].sort((a, b) => a.id - b.id);
      assert.deepEqual(
        leaves.map((l) => toHex(l.leafHash)),
        c.intermediary.leafHashes,
        'leafHashes',
      );
    } else {
      assert.equal(c.intermediary.leafHashes, undefined);
    }
    assert.equal(merkleRoot === undefined ? null : toHex(merkleRoot), c.intermediary.merkleRoot, 'merkleRoot');
    assert.equal(toHex(tapTweakHash(internalKey, merkleRoot)), c.intermediary.tweak, 'tweak');

    const tweaked = tweakPublicKey(internalKey, merkleRoot);
    assert.ok(tweaked !== undefined, 'tweakPublicKey');
    assert.equal(toHex(tweaked.outputKey), c.intermediary.tweakedPubkey, 'tweakedPubkey');
    assert.equal('5120' + toHex(tweaked.outputKey), c.expected.scriptPubKey, 'scriptPubKey');

    const controlBlocks = leaves.map((leaf) =>
      toHex(concatBytes(Uint8Array.of(leaf.leafVersion | tweaked.parity), internalKey, ...leaf.path)),
    );
    assert.deepEqual(controlBlocks, c.expected.scriptPathControlBlocks ?? [], 'scriptPathControlBlocks');
  });
});

const kps = vectors.keyPathSpending[0]!;

function decodeOrFail(hex: string): Transaction {
  const decoded = decodeTransaction(fromHex(hex));
  if (!decoded.ok) assert.fail(`tx does not decode: ${decoded.code} at ${decoded.offset}: ${decoded.message}`);
  return decoded.tx;
}

const unsignedTx = decodeOrFail(kps.given.rawUnsignedTx);
const spentOutputs: TxOut[] = kps.given.utxosSpent.map((u) => ({ value: u.amountSats, scriptPubKey: fromHex(u.scriptPubKey) }));
const txdata = new PrecomputedTxData(unsignedTx, spentOutputs);

test('keyPathSpending: unsigned tx and BIP341 precomputed hashes', () => {
  assert.equal(toHex(unsignedTx.toBytes()), kps.given.rawUnsignedTx, 'serialization round trip');
  assert.equal(unsignedTx.inputs.length, spentOutputs.length);
  assert.equal(toHex(txdata.prevoutsSha), kps.intermediary.hashPrevouts, 'hashPrevouts');
  assert.equal(toHex(txdata.spentAmountsSha), kps.intermediary.hashAmounts, 'hashAmounts');
  assert.equal(toHex(txdata.spentScriptsSha), kps.intermediary.hashScriptPubkeys, 'hashScriptPubkeys');
  assert.equal(toHex(txdata.sequencesSha), kps.intermediary.hashSequences, 'hashSequences');
  assert.equal(toHex(txdata.outputsSha), kps.intermediary.hashOutputs, 'hashOutputs');
});

const ZERO_AUX = new Uint8Array(32);

for (const inp of kps.inputSpending) {
  const g = inp.given;
  test(`keyPathSpending input ${g.txinIndex} hashType=0x${g.hashType.toString(16)}`, () => {
    const sk = fromHex(g.internalPrivkey);
    const merkleRoot = g.merkleRoot === null ? undefined : fromHex(g.merkleRoot);
    const internalKey = schnorr.getPublicKey(sk);
    assert.equal(toHex(internalKey), inp.intermediary.internalPubkey, 'internalPubkey');
    assert.equal(toHex(tapTweakHash(internalKey, merkleRoot)), inp.intermediary.tweak, 'tweak');

    const sigHash = signatureHashTaproot(unsignedTx, g.txinIndex, g.hashType, txdata, {});
    assert.ok(sigHash !== undefined, 'signatureHashTaproot');
    assert.equal(toHex(sigHash), inp.intermediary.sigHash, 'sigHash');
    // The vector's sigMsg is the preimage of the sigHash it gives.
    assert.equal(toHex(taggedHash('TapSighash', fromHex(inp.intermediary.sigMsg))), inp.intermediary.sigHash, 'sigMsg');

    const tweakedSk = tweakSecretKey(sk, merkleRoot);
    assert.equal(toHex(tweakedSk), inp.intermediary.tweakedPrivkey, 'tweakedPrivkey');
    const outputKey = spentOutputs[g.txinIndex]!.scriptPubKey.subarray(2);
    assert.equal(toHex(schnorr.getPublicKey(tweakedSk)), toHex(outputKey), 'tweaked key signs for the spent output');

    // The vectors were signed with an all-zero aux_rand.
    const sig = schnorr.sign(sigHash, tweakedSk, ZERO_AUX);
    const witnessSig = g.hashType === SIGHASH_DEFAULT ? sig : concatBytes(sig, Uint8Array.of(g.hashType));
    assert.deepEqual([toHex(witnessSig)], inp.expected.witness, 'witness');
  });
}

forEachBackend(({ tag, backend }) => {
  test(`${tag} keyPathSpending: expected witnesses verify with the block flags`, () => {
    const inputs: TxIn[] = unsignedTx.inputs.map((input) => ({ ...input }));
    for (const inp of kps.inputSpending) {
      const i = inp.given.txinIndex;
      inputs[i] = { ...inputs[i]!, witness: inp.expected.witness.map(fromHex) };
    }
    const tx = new Transaction(unsignedTx.version, inputs, unsignedTx.outputs, unsignedTx.locktime);
    const shared = new PrecomputedTxData(tx, spentOutputs);
    for (const inp of kps.inputSpending) {
      const i = inp.given.txinIndex;
      assert.deepEqual(verifyInput(tx, i, spentOutputs, BLOCK_FLAGS, { txdata: shared, backend }), { ok: true }, `input ${i}`);
      // One flipped bit in the signature must break it.
      const bad = inp.expected.witness.map(fromHex);
      bad[0]![7]! ^= 0x01;
      const badInputs = [...inputs];
      badInputs[i] = { ...inputs[i]!, witness: bad };
      const badTx = new Transaction(tx.version, badInputs, tx.outputs, tx.locktime);
      assert.deepEqual(verifyInput(badTx, i, spentOutputs, BLOCK_FLAGS, { backend }), { ok: false, error: 'SCHNORR_SIG' }, `input ${i} flipped`);
    }
    // Misuse that used to verify nothing and answer ok: flags left out, and hashes made for another
    // transaction (here: one output lower by a satoshi, which breaks every signature).
    const i = kps.inputSpending[0]!.given.txinIndex;
    assert.throws(() => verifyInput(tx, i, spentOutputs, undefined as unknown as number, { txdata: shared, backend }), TypeError);
    assert.throws(() => verifyInput(tx, i, spentOutputs, String(BLOCK_FLAGS) as unknown as number, { backend }), TypeError);
    const outputs = tx.outputs.map((o, k) => (k === 0 ? { ...o, value: o.value - 1 } : o));
    const changed = new Transaction(tx.version, tx.inputs, outputs, tx.locktime);
    assert.deepEqual(verifyInput(changed, i, spentOutputs, BLOCK_FLAGS, { backend }), { ok: false, error: 'SCHNORR_SIG' });
    assert.throws(() => verifyInput(changed, i, spentOutputs, BLOCK_FLAGS, { txdata: shared, backend }), /txdata was made for another transaction/);
    // Or for one with another sequence number on an input (sha_sequences and BIP143's hashSequence cover them all).
    const resequenced = new Transaction(tx.version, inputs.map((x, k) => (k === 0 ? { ...x, sequence: (x.sequence - 1) >>> 0 } : x)), tx.outputs, tx.locktime);
    assert.throws(() => verifyInput(resequenced, i, spentOutputs, BLOCK_FLAGS, { txdata: shared, backend }), /txdata was made for another transaction/);
    // Hashes made with other spent outputs (one amount a satoshi lower) are refused too.
    const otherSpent = spentOutputs.map((o, k) => (k === 0 ? { ...o, value: o.value - 1 } : o));
    assert.throws(() => verifyInput(tx, i, otherSpent, BLOCK_FLAGS, { txdata: shared, backend }), /other spent outputs/);
    // The same transaction in another object (a copy, or one with other witnesses), with the same
    // spent outputs in another array, may share them.
    const copy = new Transaction(tx.version, inputs.map((x) => ({ ...x })), tx.outputs, tx.locktime);
    assert.deepEqual(verifyInput(copy, i, spentOutputs.map((o) => ({ ...o })), BLOCK_FLAGS, { txdata: shared, backend }), { ok: true });
  });

  test(`${tag} keyPathSpending: a key-path signature of any size but 64 or 65 bytes fails SCHNORR_SIG_SIZE; 65 bytes with hash type 0x00 fail SCHNORR_SIG_HASHTYPE`, () => {
    const inp = kps.inputSpending[0]!;
    const i = inp.given.txinIndex;
    const sig64 = fromHex(inp.expected.witness[0]!).subarray(0, 64);
    const cases: Array<[string, Uint8Array, string]> = [
      ['63 bytes', sig64.subarray(0, 63), 'SCHNORR_SIG_SIZE'],
      ['66 bytes', Uint8Array.of(...sig64, 0x01, 0x01), 'SCHNORR_SIG_SIZE'],
      ['67 bytes', Uint8Array.of(...sig64, 0x01, 0x01, 0x01), 'SCHNORR_SIG_SIZE'],
      ['65 bytes ending in 0x00 (SIGHASH_DEFAULT is only ever implicit)', Uint8Array.of(...sig64, 0x00), 'SCHNORR_SIG_HASHTYPE'],
    ];
    for (const [what, sig, error] of cases) {
      const inputs: TxIn[] = unsignedTx.inputs.map((input) => ({ ...input }));
      inputs[i] = { ...inputs[i]!, witness: [sig] };
      const tx = new Transaction(unsignedTx.version, inputs, unsignedTx.outputs, unsignedTx.locktime);
      assert.deepEqual(verifyInput(tx, i, spentOutputs, BLOCK_FLAGS, { backend }), { ok: false, error }, what);
    }
  });

  test(`${tag} keyPathSpending: spent outputs of the wrong count or shape are thrown, never a verdict`, () => {
    const inputs: TxIn[] = unsignedTx.inputs.map((input) => ({ ...input }));
    for (const inp of kps.inputSpending) inputs[inp.given.txinIndex] = { ...inputs[inp.given.txinIndex]!, witness: inp.expected.witness.map(fromHex) };
    const tx = new Transaction(unsignedTx.version, inputs, unsignedTx.outputs, unsignedTx.locktime);
    const i = kps.inputSpending[0]!.given.txinIndex;
    // One too few or one too many: each used to come back as a script error or as ok.
    for (const spent of [spentOutputs.slice(1), [...spentOutputs, spentOutputs[0]!]]) {
      assert.throws(() => verifyInput(tx, i, spent, BLOCK_FLAGS, { backend }), /inputs but \d+ spent outputs/);
      assert.throws(() => verifyTransaction(tx, spent, BLOCK_FLAGS, { backend }), RangeError);
    }
    assert.throws(() => verifyInput(tx, i, undefined as unknown as TxOut[], BLOCK_FLAGS, { backend }), RangeError);
    // Amounts that are not integer satoshis, and scripts that are not bytes, in this input's own
    // entry or in another one (BIP341 hashes every amount and script): a string amount verified.
    const shapes: Array<[string, (o: TxOut) => unknown]> = [
      ['a string amount', (o) => ({ ...o, value: String(o.value) })],
      ['no amount', (o) => ({ scriptPubKey: o.scriptPubKey })],
      ['NaN', (o) => ({ ...o, value: NaN })],
      ['a fractional amount', (o) => ({ ...o, value: o.value + 0.5 })],
      ['a bigint amount', (o) => ({ ...o, value: BigInt(o.value) })],
      ['a hex script', (o) => ({ ...o, scriptPubKey: toHex(o.scriptPubKey) })],
      ['null', () => null],
    ];
    for (const [what, bad] of shapes) {
      for (const k of [i, (i + 1) % spentOutputs.length]) {
        const spent = spentOutputs.map((o, j) => (j === k ? bad(o) : o)) as TxOut[];
        const name = new RegExp(`spentOutputs\\[${k}\\] must be \\{ value: integer satoshis`);
        assert.throws(() => verifyInput(tx, i, spent, BLOCK_FLAGS, { backend }), name, `verifyInput, ${what} at ${k}`);
        assert.throws(() => verifyTransaction(tx, spent, BLOCK_FLAGS, { backend }), name, `verifyTransaction, ${what} at ${k}`);
        assert.throws(() => new PrecomputedTxData(tx, spent), name, `PrecomputedTxData, ${what} at ${k}`);
      }
    }
    // Hashes made without the spent outputs cannot check a BIP341 signature: the caller's mistake.
    assert.throws(() => verifyInput(tx, i, spentOutputs, BLOCK_FLAGS, { txdata: new PrecomputedTxData(tx), backend }), /BIP341 signature needs a PrecomputedTxData made with the spent outputs/);
    // The same input with what it should be given verifies.
    assert.deepEqual(verifyInput(tx, i, spentOutputs, BLOCK_FLAGS, { txdata: new PrecomputedTxData(tx, spentOutputs), backend }), { ok: true });
  });

  test(`${tag} keyPathSpending: auxiliary fullySignedTx carries those witnesses and every input verifies`, () => {
    const signed = decodeOrFail(kps.auxiliary.fullySignedTx);
    assert.equal(toHex(signed.toBytes()), kps.auxiliary.fullySignedTx, 'serialization round trip');
    // The same transaction, signed: only scriptSigs and witnesses differ.
    const strip = (t: Transaction): Transaction =>
      new Transaction(t.version, t.inputs.map((input) => ({ ...input, scriptSig: new Uint8Array(0), witness: [] })), t.outputs, t.locktime);
    assert.equal(toHex(strip(signed).toBytes()), toHex(strip(unsignedTx).toBytes()), 'same tx apart from scriptSigs and witnesses');
    for (const inp of kps.inputSpending) {
      const i = inp.given.txinIndex;
      assert.deepEqual(signed.inputs[i]!.witness.map(toHex), inp.expected.witness, `witness of input ${i}`);
    }
    const shared = new PrecomputedTxData(signed, spentOutputs);
    for (let i = 0; i < signed.inputs.length; i++) {
      assert.deepEqual(verifyInput(signed, i, spentOutputs, BLOCK_FLAGS, { txdata: shared, backend }), { ok: true }, `input ${i}`);
    }
  });
});
