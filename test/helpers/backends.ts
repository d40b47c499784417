// The signature backends every vector suite runs under: noble, then libsecp256k1. When libsecp256k1
// does not load (its optional packages missing), each suite registers one FAILING test that says so,
// never a silent skip. VIGIL_TEST_BACKENDS=noble (or libsecp256k1) picks backends on purpose.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { BACKEND_NAMES, isBackendName, loadBackend, type BackendName, type LibsecpBackend } from '../../src/script/backends.js';
import type { SignatureBackend } from '../../src/script/signature.js';

export interface TestBackend {
  /** The tag in test names: `[noble]`, `[libsecp256k1]`. */
  readonly tag: string;
  readonly id: BackendName;
  readonly backend: SignatureBackend;
}

function requestedBackends(): BackendName[] {
  const env = process.env.VIGIL_TEST_BACKENDS;
  if (env === undefined || env.trim() === '') return [...BACKEND_NAMES];
  const names = env.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) if (!isBackendName(n)) throw new Error(`VIGIL_TEST_BACKENDS: unknown backend ${JSON.stringify(n)} (expected ${BACKEND_NAMES.join(', ')})`);
  return names as BackendName[];
}

const loaded: TestBackend[] = [];
const unavailable: Array<{ id: BackendName; error: string }> = [];
for (const id of requestedBackends()) {
  try {
    const backend = await loadBackend(id);
    if (id === 'libsecp256k1' && (backend as LibsecpBackend).schnorr !== 'wasm') {
      // The native binding alone: Schnorr would be noble's, so these cases would not test libsecp256k1's.
      unavailable.push({ id, error: `only part of it loaded (${backend.name}): tiny-secp256k1 is missing` });
    }
    loaded.push({ tag: `[${id}]`, id, backend });
  } catch (err) {
    unavailable.push({ id, error: err instanceof Error ? err.message : String(err) });
  }
}

/** The backends that loaded, noble first. */
export const TEST_BACKENDS: readonly TestBackend[] = loaded;

/**
 * Calls `register` once per loaded backend (it registers that backend's cases), and registers a
 * failing test for each requested backend that did not load fully.
 */
export function forEachBackend(register: (b: TestBackend) => void): void {
  for (const b of TEST_BACKENDS) register(b);
  for (const u of unavailable) {
    test(`[${u.id}] BACKEND UNAVAILABLE: this file's cases did not run under it`, () => {
      assert.fail(`${u.id}: ${u.error}`);
    });
  }
}
