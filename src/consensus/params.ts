// Chain parameters of the five networks, with Core's values (kernel/chainparams.cpp, consensus/params.h):
// network magic, genesis block, proof-of-work rules, buried deployment heights and historical exceptions.
//
// Values were read from Bitcoin Core's src/kernel/chainparams.cpp as vendored in
// sedited/rust-bitcoinkernel (libbitcoinkernel-sys/bitcoin/, commit 1029f8ed); the consensus values
// agree with Core 30. minimumChainWork and defaultAssumeValid change every release and are not
// consensus rules: they are Core 30.0's (mainnet block 912683), the release vigil follows.

import { COIN } from '../primitives/amount.js';
import { Block, BlockHeader, computeMerkleRoot } from '../primitives/block.js';
import { concatBytes, equalBytes, fromHex, hexToHash } from '../primitives/bytes.js';
import { hash256 } from '../primitives/hash.js';
import { Transaction } from '../primitives/transaction.js';
import { ByteWriter } from '../primitives/writer.js';
import { SCRIPT_VERIFY_NONE, SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_WITNESS } from '../script/flags.js';
import { OP } from '../script/opcodes.js';
import { scriptNumEncode } from '../script/script-num.js';
import { pushData } from '../script/script.js';
import type { NetworkName } from './script-flags.js';

/** Core's MAX_TIMEWARP (consensus/consensus.h): BIP94's limit on a retarget block going back in time. */
export const MAX_TIMEWARP = 600;

/**
 * One network's parameters. Block hashes are bytes in internal order (as hash256 returns them and
 * as `block.hash()` gives them; `hashToHex` shows the familiar display form). Where Core has an
 * all-zero hash (no such block), the field is undefined. `scriptFlagExceptions` is keyed by the
 * display hex, since a Map needs string keys.
 *
 * Taproot (BIP341/342) has no height here: like Core (since v24, GetBlockScriptFlags) we enforce
 * SCRIPT_VERIFY_TAPROOT from genesis on every network; the one mainnet block that would fail is
 * listed in `scriptFlagExceptions`. The Uint8Array fields are shared: never write into them.
 */
export interface ChainParams {
  readonly name: NetworkName;
  /** pchMessageStart: the P2P message start, also the record magic of blk*.dat files. */
  readonly messageStart: Uint8Array;
  /** The serialized genesis block (Core's CreateGenesisBlock). */
  readonly genesisBlock: Uint8Array;
  /** hashGenesisBlock (the value Core asserts). */
  readonly genesisHash: Uint8Array;
  /** powLimit: the easiest target a block may claim. */
  readonly powLimit: bigint;
  /** nPowTargetSpacing, seconds. */
  readonly powTargetSpacing: number;
  /** nPowTargetTimespan, seconds (two weeks; one day on regtest). */
  readonly powTargetTimespan: number;
  /** fPowAllowMinDifficultyBlocks: testnet's 20-minute minimum-difficulty rule. */
  readonly powAllowMinDifficultyBlocks: boolean;
  /** fPowNoRetargeting: regtest keeps its bits forever. */
  readonly powNoRetargeting: boolean;
  /** enforce_BIP94: timewarp fix and retargeting from the period's first block (testnet4). */
  readonly enforceBIP94: boolean;
  /** MAX_TIMEWARP, used only where enforceBIP94: a retarget block may be at most this much older than its parent. */
  readonly maxTimewarp: number;
  /** nSubsidyHalvingInterval. */
  readonly subsidyHalvingInterval: number;
  /** The block that spent a P2SH output before BIP16 applied (script flags NONE), if any. */
  readonly bip16Exception: Uint8Array | undefined;
  /** BIP34 (height in coinbase) applies from this height. */
  readonly bip34Height: number;
  /** The block at bip34Height (undefined where BIP34 is active from block 1: Core's zero hash). */
  readonly bip34Hash: Uint8Array | undefined;
  /** BIP65 OP_CHECKLOCKTIMEVERIFY. */
  readonly bip65Height: number;
  /** BIP66 strict DER signatures. */
  readonly bip66Height: number;
  /** BIP68 relative lock-time, BIP112 OP_CHECKSEQUENCEVERIFY, BIP113 median-time-past lock-time. */
  readonly csvHeight: number;
  /** BIP141/143/147 segwit (NULLDUMMY becomes consensus, witness commitments are checked). */
  readonly segwitHeight: number;
  /** script_flag_exceptions: blocks checked with these script flags instead of the usual ones (hash → flags). */
  readonly scriptFlagExceptions: ReadonlyMap<string, number>;
  /** Core's IsBIP30Repeat: the two mainnet blocks whose coinbase repeats an earlier one. */
  readonly bip30Exceptions: readonly { readonly height: number; readonly hash: Uint8Array }[];
  /** nMinimumChainWork: a chain with less work is not trusted for sync. */
  readonly minimumChainWork: bigint;
  /** defaultAssumeValid: scripts of this block and its ancestors may be skipped (undefined: none). */
  readonly defaultAssumeValid: Uint8Array | undefined;
  /** signet_blocks: blocks carry a BIP325 signet solution. */
  readonly signetBlocks: boolean;
  /** signet_challenge (BIP325), the default signet's; undefined elsewhere. */
  readonly signetChallenge: Uint8Array | undefined;
}

/** Core's Consensus::Params::DifficultyAdjustmentInterval: 2016 blocks (144 on regtest). */
export function difficultyAdjustmentInterval(params: ChainParams): number {
  return Math.trunc(params.powTargetTimespan / params.powTargetSpacing);
}

/** Core's IsBIP30Repeat (validation.cpp): one of the two blocks allowed to repeat a coinbase txid. */
export function isBIP30Repeat(params: ChainParams, height: number, blockHash: Uint8Array): boolean {
  return params.bip30Exceptions.some((e) => e.height === height && equalBytes(e.hash, blockHash));
}

/** "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks", the genesis coinbase text. */
const SATOSHI_TIMESTAMP = 'The Times 03/Jan/2009 Chancellor on brink of second bailout for banks';
const SATOSHI_PUBKEY =
  '04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f';

/** `<pubkey> OP_CHECKSIG`. */
function payToPubkey(pubkeyHex: string): Uint8Array {
  return concatBytes(pushData(fromHex(pubkeyHex)), Uint8Array.of(OP.OP_CHECKSIG));
}

/**
 * Core's CreateGenesisBlock: one coinbase paying `reward` to `outputScript`, whose scriptSig is
 * `486604799 CScriptNum(4) <timestamp>` (the first two pushed as script numbers: 04ffff001d 0104).
 */
function createGenesisBlock(timestamp: string, outputScript: Uint8Array, time: number, nonce: number, bits: number, version: number, reward: number): Uint8Array {
  const scriptSig = concatBytes(
    pushData(scriptNumEncode(486604799)),
    pushData(scriptNumEncode(4)),
    pushData(new TextEncoder().encode(timestamp)),
  );
  const coinbase = new Transaction(
    1,
    [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig, sequence: 0xffffffff, witness: [] }],
    [{ value: reward, scriptPubKey: outputScript }],
    0,
  );
  const merkleRoot = computeMerkleRoot([coinbase.txid()]).root;
  const header = new BlockHeader(version, new Uint8Array(32), merkleRoot, time, bits, nonce);
  return new Block(header, [coinbase]).toBytes();
}

/** Core's kernel::SIGNET_DEFAULT_CHALLENGE: 1-of-2 bare multisig of the default signet's signers. */
const SIGNET_DEFAULT_CHALLENGE = fromHex(
  '512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae',
);

/** Core's kernel::GetSignetMessageStart (BIP325): the first 4 bytes of hash256 of the serialized challenge. */
export function getSignetMessageStart(challenge: Uint8Array): Uint8Array {
  const w = new ByteWriter(challenge.length + 9);
  w.varBytes(challenge);
  return hash256(w.finish()).slice(0, 4);
}

const NO_BIP30_EXCEPTIONS: ChainParams['bip30Exceptions'] = Object.freeze([]);

const TWO_WEEKS = 14 * 24 * 60 * 60;
const TEN_MINUTES = 10 * 60;

/** 0x00000000ffff…ff: mainnet, testnet3 and testnet4 (compact 0x1d00ffff). */
const POW_LIMIT_MAIN = BigInt('0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff');

const MAIN: ChainParams = Object.freeze({
  name: 'main',
  messageStart: Uint8Array.of(0xf9, 0xbe, 0xb4, 0xd9),
  genesisBlock: createGenesisBlock(SATOSHI_TIMESTAMP, payToPubkey(SATOSHI_PUBKEY), 1231006505, 2083236893, 0x1d00ffff, 1, 50 * COIN),
  genesisHash: hexToHash('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'),
  powLimit: POW_LIMIT_MAIN,
  powTargetSpacing: TEN_MINUTES,
  powTargetTimespan: TWO_WEEKS,
  powAllowMinDifficultyBlocks: false,
  powNoRetargeting: false,
  enforceBIP94: false,
  maxTimewarp: MAX_TIMEWARP,
  subsidyHalvingInterval: 210000,
  bip16Exception: hexToHash('00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22'),
  bip34Height: 227931,
  bip34Hash: hexToHash('000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8'),
  bip65Height: 388381, // 000000000000000004c2b624ed5d7756c508d90fd0da2c7c679febfa6c4735f0
  bip66Height: 363725, // 00000000000000000379eaa19dce8c9b722d46ae6a57c2f1a988119488b50931
  csvHeight: 419328, // 000000000000000004a1b34462cb8aeebd5799177f7a29cf28f2d1961716b5b5
  segwitHeight: 481824, // 0000000000000000001c8018d9cb3b742ef25114f27563e3fc4a1902167f9893
  scriptFlagExceptions: new Map([
    // BIP16 exception: a block that spent a P2SH output in a way BIP16 forbids, before it was enforced.
    ['00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22', SCRIPT_VERIFY_NONE],
    // Taproot exception: a block with a taproot-invalid spend from before activation (height 709632).
    ['0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad', SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS],
  ]),
  bip30Exceptions: Object.freeze([
    // Their coinbases repeat those of blocks 91812 and 91722 (Core's IsBIP30Repeat).
    Object.freeze({ height: 91842, hash: hexToHash('00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec') }),
    Object.freeze({ height: 91880, hash: hexToHash('00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721') }),
  ]),
  minimumChainWork: BigInt('0x0000000000000000000000000000000000000000dee8e2a309ad8a9820433c68'),
  defaultAssumeValid: hexToHash('00000000000000000000611fd22f2df7c8fbd0688745c3a6c3bb5109cc2a12cb'), // 912683
  signetBlocks: false,
  signetChallenge: undefined,
});

const TESTNET3: ChainParams = Object.freeze({
  name: 'testnet3',
  messageStart: Uint8Array.of(0x0b, 0x11, 0x09, 0x07),
  genesisBlock: createGenesisBlock(SATOSHI_TIMESTAMP, payToPubkey(SATOSHI_PUBKEY), 1296688602, 414098458, 0x1d00ffff, 1, 50 * COIN),
  genesisHash: hexToHash('000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943'),
  powLimit: POW_LIMIT_MAIN,
  powTargetSpacing: TEN_MINUTES,
  powTargetTimespan: TWO_WEEKS,
  powAllowMinDifficultyBlocks: true,
  powNoRetargeting: false,
  enforceBIP94: false,
  maxTimewarp: MAX_TIMEWARP,
  subsidyHalvingInterval: 210000,
  bip16Exception: hexToHash('00000000dd30457c001f4095d208cc1296b0eed002427aa599874af7a432b105'),
  bip34Height: 21111,
  bip34Hash: hexToHash('0000000023b3a96d3484e5abb3755c413e7d41500f8e2a5c3f0dd01299cd8ef8'),
  bip65Height: 581885, // 00000000007f6655f22f98e72ed80d8b06dc761d5da09df0fa1dc4be4f861eb6
  bip66Height: 330776, // 000000002104c8c45e99a8853285a3b592602a3ccde2b832481da85e9e4ba182
  csvHeight: 770112, // 00000000025e930139bac5c6c31a403776da130831ab85be56578f3fa75369bb
  segwitHeight: 834624, // 00000000002b980fcd729daaa248fd9316a5200e9b367f4ff2c42453e84201ca
  scriptFlagExceptions: new Map([
    // BIP16 exception on testnet3.
    ['00000000dd30457c001f4095d208cc1296b0eed002427aa599874af7a432b105', SCRIPT_VERIFY_NONE],
  ]),
  bip30Exceptions: NO_BIP30_EXCEPTIONS,
  minimumChainWork: BigInt('0x0000000000000000000000000000000000000000000016dd270dd94fac1d7632'),
  defaultAssumeValid: hexToHash('0000000000000065c6c38258e201971a3fdfcc2ceee0dd6e85a6c022d45dee34'), // 4550000
  signetBlocks: false,
  signetChallenge: undefined,
});

const TESTNET4: ChainParams = Object.freeze({
  name: 'testnet4',
  messageStart: Uint8Array.of(0x1c, 0x16, 0x3f, 0x28),
  genesisBlock: createGenesisBlock(
    // 76 bytes, so pushed with OP_PUSHDATA1; the hash is mainnet block 840000.
    '03/May/2024 000000000000000000001ebd58c244970b3aa9d783bb001011fbe8ea8e98e00e',
    payToPubkey('00'.repeat(33)),
    1714777860,
    393743547,
    0x1d00ffff,
    1,
    50 * COIN,
  ),
  genesisHash: hexToHash('00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043'),
  powLimit: POW_LIMIT_MAIN,
  powTargetSpacing: TEN_MINUTES,
  powTargetTimespan: TWO_WEEKS,
  powAllowMinDifficultyBlocks: true,
  powNoRetargeting: false,
  enforceBIP94: true,
  maxTimewarp: MAX_TIMEWARP,
  subsidyHalvingInterval: 210000,
  bip16Exception: undefined,
  bip34Height: 1,
  bip34Hash: undefined,
  bip65Height: 1,
  bip66Height: 1,
  csvHeight: 1,
  segwitHeight: 1,
  scriptFlagExceptions: new Map(),
  bip30Exceptions: NO_BIP30_EXCEPTIONS,
  minimumChainWork: BigInt('0x00000000000000000000000000000000000000000000034a4690fe592dc49c7c'),
  defaultAssumeValid: hexToHash('000000000000000180a58e7fa3b0db84b5ea76377524894f53660d93ac839d9b'), // 91000
  signetBlocks: false,
  signetChallenge: undefined,
});

/** The default signet (no -signetchallenge): its magic is derived from the challenge. */
const SIGNET: ChainParams = Object.freeze({
  name: 'signet',
  messageStart: getSignetMessageStart(SIGNET_DEFAULT_CHALLENGE),
  genesisBlock: createGenesisBlock(SATOSHI_TIMESTAMP, payToPubkey(SATOSHI_PUBKEY), 1598918400, 52613770, 0x1e0377ae, 1, 50 * COIN),
  genesisHash: hexToHash('00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6'),
  powLimit: BigInt('0x00000377ae000000000000000000000000000000000000000000000000000000'),
  powTargetSpacing: TEN_MINUTES,
  powTargetTimespan: TWO_WEEKS,
  powAllowMinDifficultyBlocks: false,
  powNoRetargeting: false,
  enforceBIP94: false,
  maxTimewarp: MAX_TIMEWARP,
  subsidyHalvingInterval: 210000,
  bip16Exception: undefined,
  bip34Height: 1,
  bip34Hash: undefined,
  bip65Height: 1,
  bip66Height: 1,
  csvHeight: 1,
  segwitHeight: 1,
  scriptFlagExceptions: new Map(),
  bip30Exceptions: NO_BIP30_EXCEPTIONS,
  minimumChainWork: BigInt('0x0000000000000000000000000000000000000000000000000000067d328e681a'),
  defaultAssumeValid: hexToHash('000000128586e26813922680309f04e1de713c7542fee86ed908f56368aefe2e'), // 267665
  signetBlocks: true,
  signetChallenge: SIGNET_DEFAULT_CHALLENGE,
});

/** Regtest with Core's defaults (no -testactivationheight, no -test=bip94). */
const REGTEST: ChainParams = Object.freeze({
  name: 'regtest',
  messageStart: Uint8Array.of(0xfa, 0xbf, 0xb5, 0xda),
  genesisBlock: createGenesisBlock(SATOSHI_TIMESTAMP, payToPubkey(SATOSHI_PUBKEY), 1296688602, 2, 0x207fffff, 1, 50 * COIN),
  genesisHash: hexToHash('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206'),
  powLimit: BigInt('0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
  powTargetSpacing: TEN_MINUTES,
  // One day, as in Core: with no retargeting it only sets the interval (144 blocks).
  powTargetTimespan: 24 * 60 * 60,
  powAllowMinDifficultyBlocks: true,
  powNoRetargeting: true,
  enforceBIP94: false,
  maxTimewarp: MAX_TIMEWARP,
  subsidyHalvingInterval: 150,
  bip16Exception: undefined,
  bip34Height: 1,
  bip34Hash: undefined,
  bip65Height: 1,
  bip66Height: 1,
  csvHeight: 1,
  segwitHeight: 0,
  scriptFlagExceptions: new Map(),
  bip30Exceptions: NO_BIP30_EXCEPTIONS,
  minimumChainWork: 0n,
  defaultAssumeValid: undefined,
  signetBlocks: false,
  signetChallenge: undefined,
});

export const PARAMS: Readonly<Record<NetworkName, ChainParams>> = Object.freeze({
  main: MAIN,
  testnet3: TESTNET3,
  testnet4: TESTNET4,
  signet: SIGNET,
  regtest: REGTEST,
});

/** The parameters of a network by name; throws on a name that is not one of NETWORK_NAMES. */
export function getParams(name: NetworkName): ChainParams {
  if (!Object.hasOwn(PARAMS, name)) throw new TypeError(`unknown network ${JSON.stringify(name)}`);
  return PARAMS[name];
}
