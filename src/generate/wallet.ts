// The generator's wallet: output types with their keys and scripts, made once from the seed,
// and how each type's input is signed (scriptSig and witness). Outputs reuse a small set of
// entries per type, so no key is derived while blocks are built.

import { concatBytes } from '../primitives/bytes.js';
import { hash160, sha256 } from '../primitives/hash.js';
import type { Transaction } from '../primitives/transaction.js';
import { OP } from '../script/opcodes.js';
import { pushData } from '../script/script.js';
import {
  PrecomputedTxData,
  SIGHASH_ALL,
  SIGHASH_ANYONECANPAY,
  SIGHASH_DEFAULT,
  SIGHASH_NONE,
  SIGHASH_SINGLE,
  signatureHashLegacy,
  signatureHashTaproot,
  signatureHashWitnessV0,
} from '../script/sighash.js';
import { TAPROOT_LEAF_TAPSCRIPT, tapBranchHash, tapLeafHash, tweakPublicKey, tweakSecretKey } from '../script/taproot.js';
import { Rng } from './prng.js';
import { drawSecret, ecdsaKey, schnorrKey, type EcdsaKey, type SchnorrKey, type Signer } from './signer.js';

/** The kinds of output the generator pays to and spends. */
export const SPEND_TYPES = [
  'p2pkh',
  'p2sh-multisig',
  'p2wpkh',
  'p2sh-p2wpkh',
  'p2wsh-multisig',
  'p2wsh-checksig',
  'p2tr-key',
  'p2tr-key-tree',
  'p2tr-script',
] as const;
export type SpendType = (typeof SPEND_TYPES)[number];

/**
 * Upper bounds used to keep blocks inside the consensus limits before a transaction is built:
 * weight units per input and sigop cost per input (BIP141 counting: legacy and P2SH sigops ×4,
 * witness sigops ×1; a 2-of-3 P2SH spend counts 3 for CHECKMULTISIG after OP_3).
 */
export const INPUT_WEIGHT_BOUND = 1300;
export const INPUT_SIGOP_BOUND = 12;
/** An output: at most 8 + 1 + 34 bytes, ×4; a P2PKH output costs 4 legacy sigops. */
export const OUTPUT_WEIGHT_BOUND = 4 * 43;
export const OUTPUT_SIGOP_BOUND = 4;

export interface WalletEntry {
  readonly type: SpendType;
  readonly scriptPubKey: Uint8Array;
  /** ECDSA keys, in script order. */
  readonly keys: readonly EcdsaKey[];
  /** P2SH redeem script, P2WSH witness script or the tapscript leaf. */
  readonly script?: Uint8Array;
  /** BIP143 scriptCode of a P2WPKH key (the P2PKH script of its hash). */
  readonly scriptCode?: Uint8Array;
  /** Key path: the key for the tweaked output key. Script path: the leaf's key. */
  readonly tapKey?: SchnorrKey;
  readonly leafHash?: Uint8Array;
  readonly controlBlock?: Uint8Array;
}

const p2pkhScript = (h: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(OP.OP_DUP, OP.OP_HASH160, 20), h, Uint8Array.of(OP.OP_EQUALVERIFY, OP.OP_CHECKSIG));
const p2shScript = (h: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(OP.OP_HASH160, 20), h, Uint8Array.of(OP.OP_EQUAL));
const p2wpkhScript = (h: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(OP.OP_0, 20), h);
const p2wshScript = (script: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(OP.OP_0, 32), sha256(script));
const p2trScript = (xonly: Uint8Array): Uint8Array => concatBytes(Uint8Array.of(OP.OP_1, 32), xonly);
const checksigScript = (pubkey: Uint8Array): Uint8Array => concatBytes(pushData(pubkey), Uint8Array.of(OP.OP_CHECKSIG));

function multisigScript(m: number, pubkeys: readonly Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(OP.OP_1 + m - 1), ...pubkeys.map(pushData), Uint8Array.of(OP.OP_1 + pubkeys.length - 1, OP.OP_CHECKMULTISIG));
}

function taprootKeyPath(internal: SchnorrKey, root: Uint8Array | undefined): { scriptPubKey: Uint8Array; tapKey: SchnorrKey; parity: number } {
  const tweaked = tweakPublicKey(internal.xonly, root);
  if (tweaked === undefined) throw new Error('generator: taproot tweak out of range'); // probability ~2^-128
  const tapKey = schnorrKey(tweakSecretKey(internal.secret, root));
  if (Buffer.compare(tapKey.xonly, tweaked.outputKey) !== 0) throw new Error('generator: tweaked secret does not match the output key');
  return { scriptPubKey: p2trScript(tweaked.outputKey), tapKey, parity: tweaked.parity };
}

function makeEntry(type: SpendType, rng: Rng, index: number): WalletEntry {
  const key = (compressed = true): EcdsaKey => ecdsaKey(drawSecret(rng), compressed);
  switch (type) {
    case 'p2pkh': {
      // Every fourth P2PKH entry has an uncompressed key, as early mainnet outputs do.
      const k = key(index % 4 !== 3);
      return { type, scriptPubKey: p2pkhScript(hash160(k.pubkey)), keys: [k] };
    }
    case 'p2sh-multisig': {
      const keys = [key(), key(), key()];
      const script = multisigScript(2, keys.map((k) => k.pubkey));
      return { type, scriptPubKey: p2shScript(hash160(script)), keys, script };
    }
    case 'p2wpkh': {
      const k = key();
      const h = hash160(k.pubkey);
      return { type, scriptPubKey: p2wpkhScript(h), keys: [k], scriptCode: p2pkhScript(h) };
    }
    case 'p2sh-p2wpkh': {
      const k = key();
      const h = hash160(k.pubkey);
      const script = p2wpkhScript(h);
      return { type, scriptPubKey: p2shScript(hash160(script)), keys: [k], script, scriptCode: p2pkhScript(h) };
    }
    case 'p2wsh-multisig': {
      const keys = [key(), key()];
      const script = multisigScript(1, keys.map((k) => k.pubkey));
      return { type, scriptPubKey: p2wshScript(script), keys, script };
    }
    case 'p2wsh-checksig': {
      const k = key();
      const script = checksigScript(k.pubkey);
      return { type, scriptPubKey: p2wshScript(script), keys: [k], script };
    }
    case 'p2tr-key': {
      const { scriptPubKey, tapKey } = taprootKeyPath(schnorrKey(drawSecret(rng)), undefined);
      return { type, scriptPubKey, keys: [], tapKey };
    }
    case 'p2tr-key-tree':
    case 'p2tr-script': {
      // A two-leaf tree, each leaf `<xonly> OP_CHECKSIG`; the script path spends the first leaf.
      const internal = schnorrKey(drawSecret(rng));
      const leafKeys = [schnorrKey(drawSecret(rng)), schnorrKey(drawSecret(rng))];
      const leaves = leafKeys.map((k) => checksigScript(k.xonly));
      const hashes = leaves.map((s) => tapLeafHash(TAPROOT_LEAF_TAPSCRIPT, s));
      const root = tapBranchHash(hashes[0]!, hashes[1]!);
      const path = taprootKeyPath(internal, root);
      if (type === 'p2tr-key-tree') return { type, scriptPubKey: path.scriptPubKey, keys: [], tapKey: path.tapKey };
      const controlBlock = concatBytes(Uint8Array.of(TAPROOT_LEAF_TAPSCRIPT | path.parity), internal.xonly, hashes[1]!);
      return { type, scriptPubKey: path.scriptPubKey, keys: [], script: leaves[0]!, tapKey: leafKeys[0]!, leafHash: hashes[0]!, controlBlock };
    }
  }
}

/** `perType` entries of every spend type, drawn from the seed's 'keys' stream. */
export class Wallet {
  readonly entries: ReadonlyMap<SpendType, readonly WalletEntry[]>;

  constructor(seed: Uint8Array, readonly perType = 16) {
    const rng = new Rng(seed, 'keys');
    const entries = new Map<SpendType, WalletEntry[]>();
    for (const type of SPEND_TYPES) {
      const list: WalletEntry[] = [];
      for (let i = 0; i < perType; i++) list.push(makeEntry(type, rng, i));
      entries.set(type, list);
    }
    this.entries = entries;
  }

  pick(rng: Rng, type?: SpendType): WalletEntry {
    const t = type ?? SPEND_TYPES[rng.below(SPEND_TYPES.length)]!;
    const list = this.entries.get(t)!;
    return list[rng.below(list.length)]!;
  }
}

/** Mostly SIGHASH_ALL; now and then the other types, where they commit to something valid. */
function ecdsaHashType(rng: Rng, nIn: number, nOut: number): number {
  const r = rng.below(32);
  if (r === 0) return SIGHASH_ALL | SIGHASH_ANYONECANPAY;
  if (r === 1 && nIn < nOut) return SIGHASH_SINGLE;
  if (r === 2) return SIGHASH_NONE;
  return SIGHASH_ALL;
}

function taprootHashType(rng: Rng, nIn: number, nOut: number): number {
  const r = rng.below(32);
  if (r < 2) return SIGHASH_ALL;
  if (r === 2) return SIGHASH_ALL | SIGHASH_ANYONECANPAY;
  if (r === 3 && nIn < nOut) return SIGHASH_SINGLE | SIGHASH_ANYONECANPAY;
  return SIGHASH_DEFAULT;
}

export interface InputSolution {
  scriptSig: Uint8Array;
  witness: Uint8Array[];
}

const EMPTY = new Uint8Array(0);

/**
 * Sign input `nIn` of `tx` (built with empty scriptSigs and witnesses: no sighash covers them)
 * spending `amount` locked to `entry`. `txdata` must carry every spent output (BIP341).
 */
export function solveInput(entry: WalletEntry, tx: Transaction, nIn: number, amount: number, txdata: PrecomputedTxData, signer: Signer, rng: Rng): InputSolution {
  const nOut = tx.outputs.length;
  switch (entry.type) {
    case 'p2pkh': {
      const k = entry.keys[0]!;
      const ht = ecdsaHashType(rng, nIn, nOut);
      const sig = signer.signEcdsa(signatureHashLegacy(entry.scriptPubKey, tx, nIn, ht), k, ht);
      return { scriptSig: concatBytes(pushData(sig), pushData(k.pubkey)), witness: [] };
    }
    case 'p2sh-multisig': {
      // Two of the three keys, in script order (CHECKMULTISIG matches signatures in order).
      const skip = rng.below(3);
      const ht = ecdsaHashType(rng, nIn, nOut);
      const hash = signatureHashLegacy(entry.script!, tx, nIn, ht);
      const sigs = entry.keys.filter((_, i) => i !== skip).map((k) => pushData(signer.signEcdsa(hash, k, ht)));
      // The leading OP_0 is CHECKMULTISIG's extra pop (BIP147: it must be empty).
      return { scriptSig: concatBytes(Uint8Array.of(OP.OP_0), ...sigs, pushData(entry.script!)), witness: [] };
    }
    case 'p2wpkh':
    case 'p2sh-p2wpkh': {
      const k = entry.keys[0]!;
      const ht = ecdsaHashType(rng, nIn, nOut);
      const sig = signer.signEcdsa(signatureHashWitnessV0(entry.scriptCode!, tx, nIn, ht, amount, txdata), k, ht);
      const scriptSig = entry.type === 'p2sh-p2wpkh' ? pushData(entry.script!) : EMPTY;
      return { scriptSig, witness: [sig, k.pubkey] };
    }
    case 'p2wsh-multisig': {
      const which = rng.below(2);
      const ht = ecdsaHashType(rng, nIn, nOut);
      const sig = signer.signEcdsa(signatureHashWitnessV0(entry.script!, tx, nIn, ht, amount, txdata), entry.keys[which]!, ht);
      return { scriptSig: EMPTY, witness: [EMPTY, sig, entry.script!] };
    }
    case 'p2wsh-checksig': {
      const ht = ecdsaHashType(rng, nIn, nOut);
      const sig = signer.signEcdsa(signatureHashWitnessV0(entry.script!, tx, nIn, ht, amount, txdata), entry.keys[0]!, ht);
      return { scriptSig: EMPTY, witness: [sig, entry.script!] };
    }
    case 'p2tr-key':
    case 'p2tr-key-tree': {
      const ht = taprootHashType(rng, nIn, nOut);
      const hash = signatureHashTaproot(tx, nIn, ht, txdata, {})!;
      return { scriptSig: EMPTY, witness: [signer.signSchnorr(hash, entry.tapKey!, ht)] };
    }
    case 'p2tr-script': {
      const ht = taprootHashType(rng, nIn, nOut);
      const hash = signatureHashTaproot(tx, nIn, ht, txdata, { tapleafHash: entry.leafHash!, codeSeparatorPos: 0xffffffff })!;
      return { scriptSig: EMPTY, witness: [signer.signSchnorr(hash, entry.tapKey!, ht), entry.script!, entry.controlBlock!] };
    }
  }
}
