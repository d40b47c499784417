// The one error the store throws for its own failures (LMDB I/O, disk full, a corrupt record, a store
// made for another network): the caller maps it to an internal error, never to a block reject.

/**
 * - `open`: the environment could not be opened (missing permissions, not an LMDB file, …).
 * - `wrong-network` / `wrong-schema`: the directory holds a store for another network or layout.
 * - `io`: LMDB failed on a read or a commit (ENOSPC, EIO, MDB_CORRUPTED, …); `cause` holds its error.
 * - `corrupt`: a record did not decode; the file is damaged or was written by something else.
 * - `inconsistent`: a write would break the store's invariants (a spent coin missing, a block
 *   applied on the wrong tip); the transaction was rolled back and nothing changed.
 * - `broken`: a change to write-back's memory failed half-way (an allocation, a caller's bug); what
 *   it held since the last flush is given up, and every later call throws this until the store is
 *   reopened, which resumes from that flush, as after a crash.
 * - `closed`: the store was used after close().
 * - `locked`: another live process writes this directory.
 */
export type StoreErrorCode = 'open' | 'wrong-network' | 'wrong-schema' | 'io' | 'corrupt' | 'inconsistent' | 'broken' | 'closed' | 'locked';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Wrap whatever LMDB threw (an Error with its MDB_ or errno text) as a StoreError of `code`. */
export function wrapStoreError(what: string, err: unknown, code: StoreErrorCode = 'io'): StoreError {
  if (err instanceof StoreError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StoreError(code, `${what}: ${detail}`, { cause: err });
}
