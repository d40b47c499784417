// Consensus-wide limits with Bitcoin Core's names and values (consensus/consensus.h).
// WITNESS_SCALE_FACTOR lives with the transaction weight code in primitives/ and is re-exported.

import { WITNESS_SCALE_FACTOR } from '../primitives/transaction.js';

export { WITNESS_SCALE_FACTOR };

/** The largest serialized block, in bytes (only for buffer size limits). */
export const MAX_BLOCK_SERIALIZED_SIZE = 4_000_000;
/** The largest block weight (BIP141). */
export const MAX_BLOCK_WEIGHT = 4_000_000;
/** The most signature-check operations a block may cost (BIP141 sigop cost). */
export const MAX_BLOCK_SIGOPS_COST = 80_000;
/** Coinbase outputs can be spent only after this many further blocks. */
export const COINBASE_MATURITY = 100;

/** 60 bytes is the least a valid serialized transaction can take. */
export const MIN_TRANSACTION_WEIGHT = WITNESS_SCALE_FACTOR * 60;
/** 10 bytes is the least any serialized transaction can take. */
export const MIN_SERIALIZABLE_TRANSACTION_WEIGHT = WITNESS_SCALE_FACTOR * 10;

/** Lock-time flags (Core's LOCKTIME_VERIFY_SEQUENCE): enforce BIP68 relative lock-times. */
export const LOCKTIME_VERIFY_SEQUENCE = 1 << 0;
