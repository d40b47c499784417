// The persistent chain store (LMDB): what the pipeline and chain management import.

export {
  ChainStore,
  type ApplyBlockUpdate,
  type ChainStoreOptions,
  type OutPoint,
  type OutPointCoin,
  type RevertBlockUpdate,
} from './chain-store.js';
export {
  BLOCK_FAILED_CHILD,
  BLOCK_FAILED_VALID,
  BLOCK_HAVE_DATA,
  BLOCK_HAVE_UNDO,
  BLOCK_VALID_SCRIPTS,
  SCHEMA_VERSION,
  compressAmount,
  decodeCoin,
  decodeUndo,
  encodeCoin,
  encodeUndo,
  type BlockIndexEntry,
  type TipRecord,
} from './records.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export { acquireDirLock, LOCK_FILE } from './dir-lock.js';
