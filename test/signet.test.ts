// BIP325 (Core's signet.cpp): real signet blocks 1 and 2 carry solutions to the default challenge;
// altered solutions, missing commitments and trailing bytes fail; CheckBlock checks the solution
// after proof of work and before the merkle root, and only with proof of work.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { ChainState } from '../src/chain/chain-state.js';
import { checkBlockCommitment } from '../src/consensus/check-block.js';
import { checkProofOfWork } from '../src/consensus/pow.js';
import { PARAMS, type ChainParams } from '../src/consensus/params.js';
import { checkSignetBlockSolution, fetchAndClearCommitmentSection, SIGNET_HEADER, signetTxs } from '../src/consensus/signet.js';
import { Block, BlockHeader, decodeBlock } from '../src/primitives/block.js';
import { concatBytes, fromHex, hashToHex, toHex } from '../src/primitives/bytes.js';
import { Transaction } from '../src/primitives/transaction.js';
import { pushData } from '../src/script/script.js';
import { tempDir } from './helpers/regtest-chain.js';

const SIGNET = PARAMS.signet;
const CHALLENGE = SIGNET.signetChallenge!;

function load(name: string): { raw: Uint8Array; block: Block } {
  const raw = fromHex(readFileSync(new URL(`../../test/vectors/signet/${name}`, import.meta.url), 'utf8').trim());
  const d = decodeBlock(raw);
  assert.ok(d.ok);
  return { raw, block: d.block };
}

const b1 = load('block1.hex');
const b2 = load('block2.hex');

/** `block` with its coinbase's witness commitment output replaced by `script`. */
function withCommitment(block: Block, script: Uint8Array): Block {
  const cb = block.txs[0]!;
  const outputs = cb.outputs.map((o, i) => (i === cb.outputs.length - 1 ? { value: o.value, scriptPubKey: script } : o));
  return new Block(block.header, [new Transaction(cb.version, cb.inputs, outputs, cb.locktime), ...block.txs.slice(1)]);
}

/** The commitment output's script of block 1: OP_RETURN, the 36-byte witness commitment, then the signet push. */
const commitment = b1.block.txs[0]!.outputs.at(-1)!.scriptPubKey;
const witnessPart = commitment.subarray(0, 38);
const solution = fetchAndClearCommitmentSection(SIGNET_HEADER, commitment)!.solution;

test('real signet blocks 1 and 2: their solutions satisfy the default challenge, and a signet chain connects them', async (t) => {
  assert.equal(hashToHex(b1.block.hash()), '00000086d6b2636cb2a392d45edc4ec544a10024d30141c9adf4bfd9de533b53');
  assert.equal(hashToHex(b2.block.hash()), '00000032bb881de703dcc968e8258080c7ed4a2933e3a35888fa0b2f75f36029');
  for (const { block } of [b1, b2]) assert.equal(checkSignetBlockSolution(block, CHALLENGE, SIGNET.genesisHash), true);
  const genesis = decodeBlock(SIGNET.genesisBlock);
  assert.ok(genesis.ok);
  assert.equal(checkSignetBlockSolution(genesis.block, CHALLENGE, SIGNET.genesisHash), true, 'genesis needs no solution');
  // The solution: a scriptSig of OP_0 and one 71-byte signature (1-of-2 multisig), and no witness.
  assert.equal(solution.length, 75);
  assert.equal(toHex(solution.subarray(0, 3)), '490047');
  assert.equal(solution[74], 0);

  const tmp = tempDir('vigil-signet-');
  t.after(tmp.remove);
  const chain = await ChainState.open(tmp.dir, { network: 'signet' });
  for (const { raw } of [b1, b2]) assert.equal((await chain.processBlock(raw)).result.mode, 'valid');
  assert.equal(chain.tip.height, 2);
  await chain.close();
});

test('altered solutions fail: a changed signature, bytes left over, no solution, no witness commitment', () => {
  const rebuild = (sol: Uint8Array): Block => withCommitment(b1.block, concatBytes(witnessPart, pushData(concatBytes(SIGNET_HEADER, sol))));
  // Unchanged, rebuilt the same way: still valid (the push is already canonical).
  assert.equal(checkSignetBlockSolution(rebuild(solution), CHALLENGE, SIGNET.genesisHash), true);
  const badSig = solution.slice();
  badSig[10]! ^= 1; // inside the signature's r
  assert.equal(checkSignetBlockSolution(rebuild(badSig), CHALLENGE, SIGNET.genesisHash), false);
  assert.equal(signetTxs(rebuild(concatBytes(solution, Uint8Array.of(0))), CHALLENGE), undefined, 'a byte after the witness');
  assert.equal(signetTxs(rebuild(solution.subarray(0, 40)), CHALLENGE), undefined, 'cut off inside the scriptSig');
  // Without a solution the challenge runs on an empty scriptSig: the multisig fails, OP_TRUE passes.
  const bare = withCommitment(b1.block, witnessPart);
  assert.equal(checkSignetBlockSolution(bare, CHALLENGE, SIGNET.genesisHash), false);
  assert.equal(checkSignetBlockSolution(bare, Uint8Array.of(0x51), SIGNET.genesisHash), true);
  // The header alone, with nothing after it, is not a solution either (Core: the push needs more).
  assert.equal(checkSignetBlockSolution(withCommitment(b1.block, concatBytes(witnessPart, pushData(SIGNET_HEADER))), Uint8Array.of(0x51), SIGNET.genesisHash), true);
  assert.equal(checkSignetBlockSolution(withCommitment(b1.block, concatBytes(witnessPart, pushData(SIGNET_HEADER))), CHALLENGE, SIGNET.genesisHash), false);
  // No witness commitment: refused whatever the challenge.
  const cb = b1.block.txs[0]!;
  const noCommitment = new Block(b1.block.header, [new Transaction(cb.version, cb.inputs, cb.outputs.slice(0, 1), cb.locktime)]);
  assert.equal(checkSignetBlockSolution(noCommitment, Uint8Array.of(0x51), SIGNET.genesisHash), false);
  // The solution is bound to the header: block 2's solution does not sign block 1.
  const sol2 = fetchAndClearCommitmentSection(SIGNET_HEADER, b2.block.txs[0]!.outputs.at(-1)!.scriptPubKey)!.solution;
  assert.equal(checkSignetBlockSolution(rebuild(sol2), CHALLENGE, SIGNET.genesisHash), false);
});

test('fetchAndClearCommitmentSection rebuilds the script as Core does: canonical pushes, the first match only, up to a malformed op', () => {
  const data = Uint8Array.of(...SIGNET_HEADER, 0xaa, 0xbb);
  // OP_PUSHDATA1 for 6 bytes is re-encoded as a direct push; OP_1 and OP_0 stay opcodes.
  const script = Uint8Array.of(0x6a, 0x4c, 6, ...data, 0x51, 0x00, 0x06, ...data);
  const r = fetchAndClearCommitmentSection(SIGNET_HEADER, script)!;
  assert.equal(toHex(r.solution), 'aabb');
  assert.equal(toHex(r.script), toHex(Uint8Array.of(0x6a, 4, ...SIGNET_HEADER, 0x51, 0x00, 0x06, ...data)));
  // A push of the header alone does not count; no match leaves nothing to clear.
  assert.equal(fetchAndClearCommitmentSection(SIGNET_HEADER, Uint8Array.of(0x6a, 4, ...SIGNET_HEADER)), undefined);
  // A push that runs past the end stops the rebuild there.
  const cut = fetchAndClearCommitmentSection(SIGNET_HEADER, Uint8Array.of(0x06, ...data, 0x4c, 9, 1, 2))!;
  assert.equal(toHex(cut.script), toHex(Uint8Array.of(4, ...SIGNET_HEADER)));
});

test('CheckBlock: proof of work first, then the signet solution (only when proof of work is checked), then the merkle root', () => {
  // Block 1's transactions under a header a second later, mined to regtest's target, judged by
  // signet rules with regtest's proof-of-work limit. The solution signs the version, parent, merkle
  // root and time (not the bits or nonce, so blocks can be signed before they are mined): with the
  // time changed it no longer holds.
  const easy: ChainParams = { ...SIGNET, powLimit: PARAMS.regtest.powLimit };
  const h = b1.block.header;
  let header: BlockHeader | undefined;
  for (let nonce = 0; header === undefined; nonce++) {
    const x = new BlockHeader(h.version, h.prevBlock, h.merkleRoot, h.time + 1, 0x207fffff, nonce);
    if (checkProofOfWork(x.hash(), x.bits, easy)) header = x;
  }
  const remined = new Block(header, b1.block.txs);
  const r = checkBlockCommitment(remined, easy);
  assert.equal(r.mode === 'invalid' && r.reason, 'bad-signet-blksig');
  assert.equal(checkBlockCommitment(remined, easy, false).mode, 'valid', 'without proof of work, no signet check (Core: fCheckPOW)');
  // Its merkle root is right, so with a valid solution (OP_TRUE challenge) it passes.
  assert.equal(checkBlockCommitment(remined, { ...easy, signetChallenge: Uint8Array.of(0x51) }).mode, 'valid');
  // Only the bits and nonce changed: the solution still holds.
  let same: BlockHeader | undefined;
  for (let nonce = 0; same === undefined; nonce++) {
    const x = new BlockHeader(h.version, h.prevBlock, h.merkleRoot, h.time, 0x207fffff, nonce);
    if (checkProofOfWork(x.hash(), x.bits, easy)) same = x;
  }
  assert.equal(checkBlockCommitment(new Block(same, b1.block.txs), easy).mode, 'valid');
  // Under signet's own limit the re-mined header fails its proof of work first.
  const hi = checkBlockCommitment(remined, SIGNET);
  assert.equal(hi.mode === 'invalid' && hi.reason, 'high-hash');
  // The real block passes all three.
  assert.equal(checkBlockCommitment(b1.block, SIGNET).mode, 'valid');
});

test('the solution is checked with Core\'s signet flags: NULLDUMMY (a non-empty multisig dummy fails) and DERSIG (a non-strict DER signature fails)', () => {
  // Core's signet.cpp: BLOCK_SCRIPT_VERIFY_FLAGS = P2SH | WITNESS | DERSIG | NULLDUMMY. Block 1's solution is
  // a scriptSig `OP_0 <71-byte signature>` (1-of-2 multisig) and an empty witness; neither the dummy nor
  // the signature's encoding is covered by what the signature signs.
  const rebuild = (sol: Uint8Array): Block => withCommitment(b1.block, concatBytes(witnessPart, pushData(concatBytes(SIGNET_HEADER, sol))));
  const [len, dummy, push] = [solution[0]!, solution[1]!, solution[2]!];
  assert.deepEqual([len, dummy, push], [0x49, 0x00, 0x47]);
  const sig = solution.subarray(3, 3 + 71);
  assert.deepEqual([sig[0], sig[1], sig[2], sig[3]], [0x30, 0x44, 0x02, 0x20], 'a 32-byte R with its top bit clear');
  // OP_1 as the dummy: the same signature, NULLDUMMY fails it.
  const nonNullDummy = solution.slice();
  nonNullDummy[1] = 0x51;
  assert.equal(checkSignetBlockSolution(rebuild(nonNullDummy), CHALLENGE, SIGNET.genesisHash), false);
  // R padded with a needless zero byte: the same (r, s) to a lax DER parser, not strict DER (BIP66).
  const padded = Uint8Array.of(0x30, 0x45, 0x02, 0x21, 0x00, ...sig.subarray(4));
  const scriptSig = Uint8Array.of(0x00, padded.length, ...padded);
  const laxSolution = Uint8Array.of(scriptSig.length, ...scriptSig, 0x00);
  assert.equal(checkSignetBlockSolution(rebuild(laxSolution), CHALLENGE, SIGNET.genesisHash), false);
  // The unchanged solution, rebuilt the same way, holds.
  assert.equal(checkSignetBlockSolution(rebuild(solution), CHALLENGE, SIGNET.genesisHash), true);
});
