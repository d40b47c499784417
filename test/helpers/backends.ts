// The signature backends every vector suite runs under: noble, then libsecp256k1. When libsecp256k1
// does not load (its optional packages missing), each suite registers one FAILING test that says so,
// never a silent skip. VIGIL_TEST_BACKENDS=noble (or libsecp256k1) picks backends on purpose.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { BACKEND_NAMES, isBackendName, loadBackend, type BackendName, type LibsecpBackend } from '../../src/script/backends.js';
import type { SignatureBackend } from '../../src/script/signature.js';

export interface TestBackend {
  /** The tag in test names: `[noble]`, `[libsecp256k1]`, `[libsecp256k1 wasm]`. */
  readonly tag: string;
  readonly id: BackendName;
  readonly backend: SignatureBackend;
  /** Set on libsecp256k1's wasm build alone (loadBackend(id, { native: false })). */
  readonly wasmBuild?: true;
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
    loaded.push({ tag: `[${id}]`, id, backend });
    if (id !== 'libsecp256k1') continue;
    // Also its wasm build alone: what runs where the native binary does not load, and the exact
    // check behind the native BIP340 path (schnorr-by-ecdsa.ts). Needs tiny-secp256k1.
    const wasm = (await loadBackend(id, { native: false })) as LibsecpBackend;
    if (wasm.schnorr !== 'wasm') throw new Error(`only part of it loaded (${backend.name}): tiny-secp256k1 is missing`);
    loaded.push({ tag: `[${id} wasm]`, id, backend: wasm, wasmBuild: true });
  } catch (err) {
    unavailable.push({ id, error: err instanceof Error ? err.message : String(err) });
  }
}

/** The backends that loaded, noble first. */
export const TEST_BACKENDS: readonly TestBackend[] = loaded;

/**
 * Calls `register` once per loaded backend (it registers that backend's cases), and registers a
 * failing test for each requested backend that did not load fully. `wasmBuild: false` leaves out
 * libsecp256k1's wasm build alone, for suites that can only name a backend by its BackendName.
 */
export function forEachBackend(register: (b: TestBackend) => void, opts: { wasmBuild?: boolean } = {}): void {
  for (const b of TEST_BACKENDS) if (opts.wasmBuild !== false || b.wasmBuild !== true) register(b);
  for (const u of unavailable) {
    test(`[${u.id}] BACKEND UNAVAILABLE: this file's cases did not run under it`, () => {
      assert.fail(`${u.id}: ${u.error}`);
    });
  }
}
