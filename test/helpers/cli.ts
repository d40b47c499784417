// Running the compiled `vigil` command in a child process without blocking the event loop,
// so tests of a concurrent suite overlap.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `vigil <args>` with `env` added to this process's environment. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * The environment that loads `source` (an ES module) into the CLI before its own code runs
 * (NODE_OPTIONS --import), written to `dir`/`name`. `srcUrl('pipeline/script-pool.js')` names
 * a compiled module for it to import, the same instance the CLI then uses.
 */
export function preloadEnv(dir: string, name: string, source: string): NodeJS.ProcessEnv {
  const file = join(dir, name);
  writeFileSync(file, source);
  return { NODE_OPTIONS: `--import=${pathToFileURL(file).href}` };
}

/** The file URL of a compiled module under src/, as a JSON string for a preload's import. */
export function srcUrl(path: string): string {
  return JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
}

/** A preload whose script pool fails every check, as a pool whose threads have died. */
export const DEAD_POOL_PRELOAD = (): string =>
  `import { ScriptPool } from ${srcUrl('pipeline/script-pool.js')};\nScriptPool.prototype.verify = async function () { throw new Error('worker thread exited'); };\n`;
