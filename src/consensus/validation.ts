// Validation results as plain data (Core's BlockValidationState / TxValidationState),
// in three kinds that are never mixed: the block is invalid (its source's fault), its
// bytes do not match what its header commits to (mutated: the hash must not be marked
// invalid, another copy may be fine), or we failed ourselves (internal error).

export type ValidationResult =
  | { mode: 'valid' }
  | {
      mode: 'invalid';
      /** Core's reject reason, e.g. 'bad-txns-inputs-missingorspent'. */
      reason: string;
      /** Transaction and input the failure is about, when there is one. */
      txIndex?: number;
      inputIndex?: number;
      debug?: string;
    }
  | { mode: 'mutated'; reason: string; debug?: string }
  | { mode: 'error'; reason: string; debug?: string };

export type InvalidResult = Extract<ValidationResult, { mode: 'invalid' }>;

export const VALID: ValidationResult = Object.freeze({ mode: 'valid' });

export function invalid(reason: string, debug?: string, txIndex?: number, inputIndex?: number): InvalidResult {
  const r: InvalidResult = { mode: 'invalid', reason };
  if (debug !== undefined) r.debug = debug;
  if (txIndex !== undefined) r.txIndex = txIndex;
  if (inputIndex !== undefined) r.inputIndex = inputIndex;
  return r;
}

export function mutated(reason: string, debug?: string): ValidationResult {
  return debug === undefined ? { mode: 'mutated', reason } : { mode: 'mutated', reason, debug };
}

export function internalError(reason: string, debug?: string): ValidationResult {
  return debug === undefined ? { mode: 'error', reason } : { mode: 'error', reason, debug };
}
