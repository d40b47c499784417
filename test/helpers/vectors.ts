// Paths into the repository's copy of the third-party test vectors (test/vectors/).
// Resolved from the compiled file's location (dist/test/helpers/), so tests never depend on the cwd.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/test/helpers/ → three levels up is the repository root. */
const VECTORS_DIR = new URL('../../../test/vectors/', import.meta.url);

/** Absolute filesystem path of a file under test/vectors/, e.g. vectorPath('bcoin', 'txs', 'tx1.raw'). */
export function vectorPath(...parts: string[]): string {
  return fileURLToPath(new URL(parts.map(encodeURIComponent).join('/'), VECTORS_DIR));
}

export function readVector(...parts: string[]): Uint8Array {
  const buf = readFileSync(vectorPath(...parts));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function readVectorText(...parts: string[]): string {
  return readFileSync(vectorPath(...parts), 'utf8');
}
