// Core's GetBlockScriptFlags: the script verification flags a block is checked with,
// by network and height, including the exception blocks (heights and exceptions: params.ts).

import { hashToHex } from '../primitives/bytes.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_TAPROOT,
  SCRIPT_VERIFY_WITNESS,
} from '../script/flags.js';
import { PARAMS } from './params.js';

export type NetworkName = 'main' | 'testnet3' | 'testnet4' | 'signet' | 'regtest';

export const NETWORK_NAMES: readonly NetworkName[] = Object.freeze(['main', 'testnet3', 'testnet4', 'signet', 'regtest']);

/**
 * Core's GetBlockScriptFlags: P2SH, WITNESS and TAPROOT always (bar the exception blocks; Core has
 * enforced TAPROOT from genesis since taproot was buried, so there is no taproot height),
 * plus DERSIG, CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY and NULLDUMMY from their heights.
 * `blockHash` is in internal byte order.
 */
export function getBlockScriptFlags(network: NetworkName, height: number, blockHash?: Uint8Array): number {
  const d = PARAMS[network];
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
