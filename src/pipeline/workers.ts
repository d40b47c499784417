// Where the compiled worker entry files live. Everything ships compiled to dist/, so the
// same relative URL resolves from tests, the CLI and an installed package alike.

/**
 * The most worker threads a ScriptPool takes. Core caps its script-check threads at 15; each of
 * ours holds a V8 heap and its backend's tables (tens of MB), so thousands asked by mistake would
 * exhaust memory before doing any work.
 */
export const MAX_SCRIPT_THREADS = 256;

/** Young-generation limit of our worker threads, MiB (see ScriptPool). */
export const WORKER_YOUNG_GENERATION_MB = 8;

/** dist/src/pipeline/ → dist/workers/verify-inputs.js */
export const VERIFY_INPUTS_WORKER = new URL('../../workers/verify-inputs.js', import.meta.url);

/** dist/src/pipeline/ → dist/workers/block-hashes.js */
export const BLOCK_HASHES_WORKER = new URL('../../workers/block-hashes.js', import.meta.url);
