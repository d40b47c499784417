// The regtest chain generator: deterministic blocks on the regtest genesis that pass every
// consensus rule Core applies there (proof of work at 0x207fffff, rising timestamps, BIP34
// heights, subsidy and fees, coinbase maturity, BIP141 witness commitments, weight and sigop
// limits), spending a mix of output types, including coins made earlier in the same block.

import { Block, BlockHeader, computeMerkleRoot } from '../primitives/block.js';
import { ByteReader } from '../primitives/reader.js';
import { concatBytes } from '../primitives/bytes.js';
import { hash256 } from '../primitives/hash.js';
import { Transaction, WITNESS_SCALE_FACTOR, type TxIn, type TxOut } from '../primitives/transaction.js';
import { ByteWriter, compactSizeLength } from '../primitives/writer.js';
import { COINBASE_MATURITY, MAX_BLOCK_SIGOPS_COST, MAX_BLOCK_WEIGHT } from '../consensus/consensus.js';
import { getBlockSubsidy } from '../consensus/connect-block.js';
import { PARAMS } from '../consensus/params.js';
import { checkProofOfWork } from '../consensus/pow.js';
import { CONSENSUS_SCRIPT_FLAGS } from '../script/flags.js';
import { OP } from '../script/opcodes.js';
import { scriptNumEncode } from '../script/script-num.js';
import { pushData } from '../script/script.js';
import { PrecomputedTxData } from '../script/sighash.js';
import { verifyInput } from '../script/verify.js';
import { Rng, seedBytes, type Seed } from './prng.js';
import { Signer, type NonceMode } from './signer.js';
import {
  INPUT_SIGOP_BOUND,
  INPUT_WEIGHT_BOUND,
  OUTPUT_SIGOP_BOUND,
  OUTPUT_WEIGHT_BOUND,
  SPEND_TYPES,
  Wallet,
  solveInput,
  type SpendType,
  type WalletEntry,
} from './wallet.js';

export interface GenerateOptions {
  /** Only regtest: its proof of work takes ~2 hashes a block. */
  network?: 'regtest';
  /** Blocks to make after genesis (heights 1..blocks). */
  blocks: number;
  /**
   * Non-coinbase transactions per block once coins are mature (from height 101; blocks
   * 1..100 hold only their coinbase). Fewer when a block would near the weight or sigop limit.
   */
  txsPerBlock?: number;
  /** Mean inputs per transaction (1 to 2k-1, uniformly). Default 2. */
  inputsPerTx?: number;
  /** Same seed, same chain, byte for byte. Default 0. */
  seed?: Seed;
  /** Outputs of each coinbase paid to the wallet (default 2). */
  coinbaseOutputs?: number;
  /** One transaction in `chainEvery` (on average) spends an output made earlier in its own block. Default 4. */
  chainEvery?: number;
  /** Signature nonces: a seeded precomputed pool (default, fast) or RFC 6979 via noble. */
  nonces?: NonceMode;
  /** Check every signed input with verifyInput under the consensus flags (slow: ~1.5 ms per signature). */
  verify?: boolean;
}

/** An output a generated input spends, with the facts consensus needs about it. */
export interface GeneratedCoin extends TxOut {
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly height: number;
  readonly coinbase: boolean;
  readonly type: SpendType;
}

export interface GeneratedBlock {
  readonly height: number;
  /** Block hash, internal byte order. */
  readonly hash: Uint8Array;
  /** The serialized block. */
  readonly raw: Uint8Array;
  readonly block: Block;
  /** The coins each transaction's inputs spend; entry 0 (the coinbase) is empty. */
  readonly spent: readonly (readonly GeneratedCoin[])[];
  readonly fees: number;
  readonly weight: number;
  readonly sigOpCost: number;
}

export interface GeneratorStats {
  blocks: number;
  txs: number;
  inputs: number;
  /** Inputs spent per output type. */
  byType: Record<SpendType, number>;
  /** Inputs that spend an output made earlier in the same block. */
  inBlockSpends: number;
  /** Inputs that spend a coinbase output. */
  coinbaseSpends: number;
  /** Inputs checked with verifyInput (the verify option). */
  verified: number;
}

const BLOCK_VERSION = 0x20000000; // BIP9 top bits, no deployment signalled
const REGTEST_BITS = 0x207fffff;
const WITNESS_RESERVED_VALUE = new Uint8Array(32);
const WITNESS_COMMITMENT_HEADER = Uint8Array.of(OP.OP_RETURN, 0x24, 0xaa, 0x21, 0xa9, 0xed);
/** Room kept for the coinbase when filling a block. */
const TX_WEIGHT_CAP = MAX_BLOCK_WEIGHT - 100_000;
const TX_SIGOP_CAP = MAX_BLOCK_SIGOPS_COST - 1_000;
/** Outputs of one transaction at most (a fan-out that funds the rest of its block). */
const MAX_OUTPUTS = 2500;
/** Outputs are kept at or above this many satoshis while the input value allows. */
const MIN_OUTPUT_VALUE = 1000;

/** Exact BIP141 sigop cost of spending each type (legacy and P2SH ×4, witness ×1; taproot 0). */
const INPUT_SIGOPS: Record<SpendType, number> = {
  p2pkh: 0,
  'p2sh-multisig': 12,
  p2wpkh: 1,
  'p2sh-p2wpkh': 1,
  'p2wsh-multisig': 2,
  'p2wsh-checksig': 1,
  'p2tr-key': 0,
  'p2tr-key-tree': 0,
  'p2tr-script': 0,
};

interface Coin extends GeneratedCoin {
  readonly entry: WalletEntry;
}

interface SourceSpans {
  raw: Uint8Array;
  bodyStart: number;
  bodyEnd: number;
}

/** Serialize once and hand the bytes to the Transaction, so its ids and sizes come from them. */
function finishTx(version: number, inputs: TxIn[], outputs: TxOut[], locktime: number): Transaction {
  const segwit = inputs.some((i) => i.witness.length > 0);
  let size = 4 + 2 + 9 + 9 + 4;
  for (const i of inputs) {
    size += 36 + 9 + i.scriptSig.length + 4 + 9;
    for (const item of i.witness) size += 9 + item.length;
  }
  for (const o of outputs) size += 8 + 9 + o.scriptPubKey.length;
  const w = new ByteWriter(size);
  w.i32(version);
  if (segwit) w.u8(0).u8(1);
  const bodyStart = w.offset;
  w.compactSize(inputs.length);
  for (const i of inputs) w.bytes(i.prevout.hash).u32(i.prevout.index).varBytes(i.scriptSig).u32(i.sequence);
  w.compactSize(outputs.length);
  for (const o of outputs) w.i64(o.value).varBytes(o.scriptPubKey);
  const bodyEnd = w.offset;
  if (segwit) {
    for (const i of inputs) {
      w.compactSize(i.witness.length);
      for (const item of i.witness) w.varBytes(item);
    }
  }
  w.u32(locktime);
  const spans: SourceSpans = { raw: w.finish(), bodyStart, bodyEnd };
  return new Transaction(version, inputs, outputs, locktime, spans);
}

/** `CScript() << height`: OP_1..OP_16 for small heights, else a minimal script number push (BIP34). */
export function bip34HeightPush(height: number): Uint8Array {
  if (height === 0) return Uint8Array.of(OP.OP_0);
  if (height <= 16) return Uint8Array.of(OP.OP_1 + height - 1);
  return pushData(scriptNumEncode(height));
}

function sumValues(coins: readonly Coin[]): number {
  let v = 0;
  for (const c of coins) v += c.value;
  return v;
}

export function emptyStats(): GeneratorStats {
  const byType = Object.fromEntries(SPEND_TYPES.map((t) => [t, 0])) as Record<SpendType, number>;
  return { blocks: 0, txs: 0, inputs: 0, byType, inBlockSpends: 0, coinbaseSpends: 0, verified: 0 };
}

/**
 * Builds the chain one block at a time. Memory holds the wallet's unspent coins (about two
 * blocks' worth of inputs) and the coinbases still maturing, never the chain itself.
 */
export class ChainGenerator {
  readonly stats: GeneratorStats = emptyStats();
  private readonly rng: Rng;
  private readonly wallet: Wallet;
  private readonly signer: Signer;
  private readonly txsPerBlock: number;
  private readonly inputsPerTx: number;
  private readonly coinbaseOutputs: number;
  private readonly chainEvery: number;
  private readonly verify: boolean;
  private readonly halvingInterval: number;
  /** Spendable coins (mature coinbases, outputs of earlier blocks). */
  private pool: Coin[] = [];
  /** Coinbase coins by the height that made them, until they mature. */
  private readonly maturing = new Map<number, Coin[]>();
  private prevHash: Uint8Array;
  private prevTime: number;
  private coinbaseTag: Uint8Array = COINBASE_TAG;
  height = 0;

  /**
   * Change the tag every later coinbase carries. Two generators with the same seed that
   * part ways here make two branches from a common ancestor (for reorganisation tests).
   */
  setCoinbaseTag(tag: Uint8Array): void {
    if (tag.length < 1 || tag.length > 64) throw new RangeError('a coinbase tag is 1 to 64 bytes');
    this.coinbaseTag = tag;
  }

  constructor(opts: GenerateOptions) {
    const network = opts.network ?? 'regtest';
    if (network !== 'regtest') throw new TypeError(`the generator makes regtest chains only, not ${String(network)}`);
    const nonNegative = (v: number | undefined, dflt: number, name: string): number => {
      const x = v ?? dflt;
      if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${name} must be a non-negative integer, got ${x}`);
      return x;
    };
    nonNegative(opts.blocks, 0, 'blocks');
    this.txsPerBlock = nonNegative(opts.txsPerBlock, 10, 'txsPerBlock');
    this.inputsPerTx = Math.max(1, nonNegative(opts.inputsPerTx, 2, 'inputsPerTx'));
    this.coinbaseOutputs = Math.max(1, nonNegative(opts.coinbaseOutputs, 2, 'coinbaseOutputs'));
    this.chainEvery = Math.max(1, nonNegative(opts.chainEvery, 4, 'chainEvery'));
    this.verify = opts.verify === true;
    const seed = seedBytes(opts.seed ?? 0);
    this.rng = new Rng(seed, 'chain');
    this.wallet = new Wallet(seed);
    this.signer = new Signer(seed, opts.nonces ?? 'pool');
    const params = PARAMS.regtest;
    this.halvingInterval = params.subsidyHalvingInterval;
    const header = params.genesisBlock.subarray(0, 80);
    this.prevHash = hash256(header);
    this.prevTime = new DataView(header.buffer, header.byteOffset, 80).getUint32(68, true);
  }

  /** Make the block at the next height. */
  next(): GeneratedBlock {
    const height = ++this.height;
    const matured = this.maturing.get(height - COINBASE_MATURITY);
    if (matured !== undefined) {
      for (const c of matured) this.pool.push(c);
      this.maturing.delete(height - COINBASE_MATURITY);
    }

    const txs: Transaction[] = [];
    const spent: Coin[][] = [];
    let fees = 0;
    let weight = 0;
    let sigops = 0;
    const fresh: Coin[] = [];
    for (let t = 0; t < this.txsPerBlock; t++) {
      const built = this.buildTx(height, t, fresh, TX_WEIGHT_CAP - weight, TX_SIGOP_CAP - sigops);
      if (built === undefined) break;
      txs.push(built.tx);
      spent.push(built.spent);
      fees += built.fee;
      weight += built.tx.weight();
      sigops += built.sigops;
    }
    // What this block made and did not spend is spendable from the next block.
    for (const c of fresh) this.pool.push(c);

    const coinbase = this.buildCoinbase(height, fees, txs);
    const all = [coinbase.tx, ...txs];
    weight += coinbase.tx.weight();
    sigops += coinbase.sigops;
    // BIP141 block weight: the header and transaction count are base bytes too.
    weight += WITNESS_SCALE_FACTOR * (80 + compactSizeLength(all.length));
    const merkleRoot = computeMerkleRoot(all.map((tx) => tx.txid())).root;
    // Strictly rising times stay above the median of the last 11; the mean step is ten minutes.
    const time = this.prevTime + 1 + this.rng.below(1199);
    const headerBytes = this.mine(merkleRoot, time);

    const w = new ByteWriter(80 + 9 + all.reduce((n, tx) => n + tx.rawBytes()!.length, 0));
    w.bytes(headerBytes).compactSize(all.length);
    for (const tx of all) w.bytes(tx.rawBytes()!);
    const raw = w.finish();
    const header = BlockHeader.read(new ByteReader(raw));
    const block = new Block(header, all, raw);
    const hash = header.hash();
    this.prevHash = hash;
    this.prevTime = time;

    this.stats.blocks++;
    this.stats.txs += all.length;
    return { height, hash, raw, block, spent: [[], ...spent], fees, weight, sigOpCost: sigops };
  }

  private takeFrom(list: Coin[]): Coin {
    const i = this.rng.below(list.length);
    const c = list[i]!;
    list[i] = list[list.length - 1]!;
    list.pop();
    return c;
  }

  private buildTx(
    height: number,
    t: number,
    fresh: Coin[],
    weightLeft: number,
    sigopsLeft: number,
  ): { tx: Transaction; spent: Coin[]; fee: number; sigops: number } | undefined {
    const rng = this.rng;
    const k = this.inputsPerTx;
    const T = this.txsPerBlock;
    const nIn = 1 + rng.below(2 * k - 1);
    const coins: Coin[] = [];
    // A chain inside the block: this transaction spends one made before it.
    if (fresh.length > 0 && (this.pool.length === 0 || rng.below(this.chainEvery) === 0)) coins.push(this.takeFrom(fresh));
    while (coins.length < nIn && this.pool.length > 0) coins.push(this.takeFrom(this.pool));
    while (coins.length < nIn && fresh.length > 0) coins.push(this.takeFrom(fresh));
    if (coins.length === 0) return undefined;

    // Outputs: enough to keep the block's remaining transactions and the next block in coins
    // (a fan-out when the wallet runs short), otherwise no more than the inputs, on average.
    const remaining = T - t - 1;
    const supply = this.pool.length + fresh.length;
    const demand = (remaining + T) * k;
    let nOut = supply < demand ? Math.ceil((demand - supply) / (remaining + 1)) + coins.length : 1 + rng.below(k);
    nOut = Math.min(nOut, MAX_OUTPUTS);
    const inValue = sumValues(coins);
    const feeRate = 1 + rng.below(20);
    const vsizeEstimate = (n: number): number => 11 + 110 * coins.length + 43 * n;
    nOut = Math.max(1, Math.min(nOut, Math.floor(inValue / (MIN_OUTPUT_VALUE + 43 * feeRate))));
    const opReturn = rng.below(32) === 0;

    // Stay inside the block's weight and sigop budget (bounds; the exact figures follow).
    const inSigopBound = coins.length * INPUT_SIGOP_BOUND;
    const maxOutByWeight = Math.floor((weightLeft - 200 - coins.length * INPUT_WEIGHT_BOUND) / OUTPUT_WEIGHT_BOUND) - 1;
    const maxOutBySigops = Math.floor((sigopsLeft - inSigopBound) / OUTPUT_SIGOP_BOUND);
    nOut = Math.min(nOut, maxOutByWeight, maxOutBySigops);
    if (nOut < 1) {
      // The block is full: the coins go back for the next one.
      for (const c of coins) (c.height === height ? fresh : this.pool).push(c);
      return undefined;
    }

    const fee = Math.min(feeRate * vsizeEstimate(nOut + (opReturn ? 1 : 0)), Math.floor(inValue / 2));
    const share = Math.floor((inValue - fee) / nOut);
    const entries: WalletEntry[] = [];
    const outputs: TxOut[] = [];
    for (let o = 0; o < nOut; o++) {
      const entry = this.wallet.pick(rng);
      entries.push(entry);
      outputs.push({ value: o === 0 ? inValue - fee - share * (nOut - 1) : share, scriptPubKey: entry.scriptPubKey });
    }
    if (opReturn) outputs.splice(rng.below(outputs.length + 1), 0, { value: 0, scriptPubKey: concatBytes(Uint8Array.of(OP.OP_RETURN), pushData(new TextEncoder().encode(`vigil ${height}.${t}`))) });

    const version = rng.below(4) === 0 ? 1 : 2;
    // Both sequences have bit 31 set: no BIP68 relative lock applies.
    const sequences = coins.map(() => (rng.below(2) === 0 ? 0xffffffff : 0xfffffffd));
    const unsignedInputs: TxIn[] = coins.map((c, i) => ({ prevout: { hash: c.txid, index: c.vout }, scriptSig: EMPTY, sequence: sequences[i]!, witness: NO_WITNESS }));
    const unsigned = new Transaction(version, unsignedInputs, outputs, 0);
    const txdata = new PrecomputedTxData(unsigned, coins);
    const inputs: TxIn[] = coins.map((c, i) => {
      const sol = solveInput(c.entry, unsigned, i, c.value, txdata, this.signer, rng);
      return { prevout: unsignedInputs[i]!.prevout, scriptSig: sol.scriptSig, sequence: sequences[i]!, witness: sol.witness };
    });
    const tx = finishTx(version, inputs, outputs, 0);

    if (this.verify) {
      const vdata = new PrecomputedTxData(tx, coins);
      for (let i = 0; i < inputs.length; i++) {
        const r = verifyInput(tx, i, coins, CONSENSUS_SCRIPT_FLAGS, { txdata: vdata });
        if (!r.ok) throw new Error(`generator bug: height ${height} tx ${t} input ${i} (${coins[i]!.type}) fails: ${r.error}`);
        this.stats.verified++;
      }
    }

    let sigops = 0;
    const txid = tx.txid();
    for (const c of coins) {
      sigops += INPUT_SIGOPS[c.type];
      this.stats.byType[c.type]++;
      if (c.height === height) this.stats.inBlockSpends++;
      if (c.coinbase) this.stats.coinbaseSpends++;
    }
    this.stats.inputs += coins.length;
    let e = 0;
    outputs.forEach((out, vout) => {
      if (out.scriptPubKey[0] === OP.OP_RETURN) return;
      const entry = entries[e++]!;
      if (entry.type === 'p2pkh') sigops += 4;
      fresh.push({ txid, vout, value: out.value, scriptPubKey: out.scriptPubKey, height, coinbase: false, type: entry.type, entry });
    });
    return { tx, spent: coins, fee, sigops };
  }

  private buildCoinbase(height: number, fees: number, txs: readonly Transaction[]): { tx: Transaction; sigops: number } {
    const rng = this.rng;
    const value = getBlockSubsidy(height, this.halvingInterval) + fees;
    const n = Math.max(1, Math.min(this.coinbaseOutputs, Math.floor(value / MIN_OUTPUT_VALUE)));
    const share = Math.floor(value / n);
    const entries: WalletEntry[] = [];
    const outputs: TxOut[] = [];
    for (let o = 0; o < n; o++) {
      const entry = this.wallet.pick(rng);
      entries.push(entry);
      outputs.push({ value: o === 0 ? value - share * (n - 1) : share, scriptPubKey: entry.scriptPubKey });
    }
    const segwit = txs.some((tx) => tx.hasWitness());
    if (segwit) {
      // BIP141: commit to the witness merkle root (the coinbase's wtxid counts as zero) and the
      // reserved value, which the coinbase's one witness item carries.
      const leaves = [new Uint8Array(32), ...txs.map((tx) => tx.wtxid())];
      const root = computeMerkleRoot(leaves).root;
      const commitment = hash256(concatBytes(root, WITNESS_RESERVED_VALUE));
      outputs.push({ value: 0, scriptPubKey: concatBytes(WITNESS_COMMITMENT_HEADER, commitment) });
    }
    // BIP34 height first; the tag keeps the scriptSig within 2..100 bytes at heights 1..16.
    const scriptSig = concatBytes(bip34HeightPush(height), pushData(this.coinbaseTag));
    const input: TxIn = {
      prevout: { hash: new Uint8Array(32), index: 0xffffffff },
      scriptSig,
      sequence: 0xffffffff,
      witness: segwit ? [WITNESS_RESERVED_VALUE] : NO_WITNESS,
    };
    const tx = finishTx(2, [input], outputs, 0);
    const txid = tx.txid();
    const coins: Coin[] = [];
    let sigops = 0;
    entries.forEach((entry, vout) => {
      if (entry.type === 'p2pkh') sigops += 4;
      coins.push({ txid, vout, value: outputs[vout]!.value, scriptPubKey: entry.scriptPubKey, height, coinbase: true, type: entry.type, entry });
    });
    this.maturing.set(height, coins);
    return { tx, sigops };
  }

  /** Iterate the nonce until the header hash meets 0x207fffff (about two tries). */
  private mine(merkleRoot: Uint8Array, time: number): Uint8Array {
    const h = new ByteWriter(80).i32(BLOCK_VERSION).bytes(this.prevHash).bytes(merkleRoot).u32(time).u32(REGTEST_BITS).u32(0).finish();
    const view = new DataView(h.buffer, h.byteOffset, 80);
    for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
      view.setUint32(76, nonce, true);
      if (checkProofOfWork(hash256(h), REGTEST_BITS, PARAMS.regtest)) return h;
    }
    throw new Error('generator: no nonce meets the regtest target'); // probability 2^-(2^32)
  }
}

const EMPTY = new Uint8Array(0);
const NO_WITNESS: readonly Uint8Array[] = Object.freeze([]);
const COINBASE_TAG = new TextEncoder().encode('vigil');

/** The blocks of a generated regtest chain, heights 1..opts.blocks, made one at a time. */
export function* generateBlocks(opts: GenerateOptions): Generator<GeneratedBlock, GeneratorStats> {
  const gen = new ChainGenerator(opts);
  for (let i = 0; i < opts.blocks; i++) yield gen.next();
  return gen.stats;
}
