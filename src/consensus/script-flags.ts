// Core's GetBlockScriptFlags: the script verification flags a block is checked with,
// by network and height, including the two mainnet exception blocks.

import { hashToHex } from '../primitives/bytes.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_NONE,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_TAPROOT,
  SCRIPT_VERIFY_WITNESS,
} from '../script/flags.js';

export type NetworkName = 'main' | 'testnet3' | 'testnet4' | 'signet' | 'regtest';

export const NETWORK_NAMES: readonly NetworkName[] = Object.freeze(['main', 'testnet3', 'testnet4', 'signet', 'regtest']);

/** Activation heights of the height-gated script rules (Core's chainparams.cpp). */
export interface ScriptDeployments {
  /** BIP66 strict DER. */
  readonly bip66Height: number;
  /** BIP65 OP_CHECKLOCKTIMEVERIFY. */
  readonly bip65Height: number;
  /** BIP112 OP_CHECKSEQUENCEVERIFY (with BIP68/113, the CSV deployment). */
  readonly csvHeight: number;
  /** BIP141/147 segwit: NULLDUMMY becomes consensus. */
  readonly segwitHeight: number;
  /** Blocks checked with other flags than their height implies (hash → flags). */
  readonly scriptFlagExceptions: ReadonlyMap<string, number>;
}

export const SCRIPT_DEPLOYMENTS: Readonly<Record<NetworkName, ScriptDeployments>> = Object.freeze({
  main: {
    bip66Height: 363725,
    bip65Height: 388381,
    csvHeight: 419328,
    segwitHeight: 481824,
    scriptFlagExceptions: new Map([
      // BIP16 exception: a block that spent a P2SH output before BIP16 was enforced.
      ['00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22', SCRIPT_VERIFY_NONE],
      // Taproot exception: a block with a pre-activation taproot-invalid spend.
      ['0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad', SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS],
    ]),
  },
  testnet3: {
    bip66Height: 330776,
    bip65Height: 581885,
    csvHeight: 770112,
    segwitHeight: 834624,
    scriptFlagExceptions: new Map([
      // BIP16 exception on testnet3.
      ['00000000dd30457c001f4095d208cc1296b0eed002427aa599874af7a432b105', SCRIPT_VERIFY_NONE],
    ]),
  },
  testnet4: { bip66Height: 1, bip65Height: 1, csvHeight: 1, segwitHeight: 1, scriptFlagExceptions: new Map() },
  signet: { bip66Height: 1, bip65Height: 1, csvHeight: 1, segwitHeight: 1, scriptFlagExceptions: new Map() },
  regtest: { bip66Height: 1, bip65Height: 1, csvHeight: 1, segwitHeight: 0, scriptFlagExceptions: new Map() },
});

/**
 * Core's GetBlockScriptFlags: P2SH, WITNESS and TAPROOT always (bar the exception blocks),
 * plus DERSIG, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY and NULLDUMMY from their heights.
 * `blockHash` is in internal byte order.
 */
export function getBlockScriptFlags(network: NetworkName, height: number, blockHash?: Uint8Array): number {
  const d = SCRIPT_DEPLOYMENTS[network];
  let flags = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT;
  if (blockHash !== undefined) {
    const exception = d.scriptFlagExceptions.get(hashToHex(blockHash));
    if (exception !== undefined) flags = exception;
  }
  if (height >= d.bip66Height) flags |= SCRIPT_VERIFY_DERSIG;
  if (height >= d.bip65Height) flags |= SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY;
  if (height >= d.csvHeight) flags |= SCRIPT_VERIFY_CHECKSEQUENCEVERIFY;
  if (height >= d.segwitHeight) flags |= SCRIPT_VERIFY_NULLDUMMY;
  return flags;
}
