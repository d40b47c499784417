// vigil as a program that depends on it sees it: the files package.json ships, under
// node_modules/vigil, beside its dependencies. `import 'vigil'` resolves, the worker threads start
// from there, a real block validates on them, and the `vigil` command runs.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vectorPath } from './helpers/vectors.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

test('installed under node_modules: import, worker threads and the command line work from the shipped files alone', (t) => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
    files: string[];
    dependencies: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const app = mkdtempSync(join(tmpdir(), 'vigil-installed-'));
  t.after(() => rmSync(app, { recursive: true, force: true }));
  const installed = join(app, 'node_modules', 'vigil');
  mkdirSync(installed, { recursive: true });
  cpSync(join(REPO, 'package.json'), join(installed, 'package.json'));
  for (const f of pkg.files) cpSync(join(REPO, f), join(installed, f), { recursive: true });
  // The dependencies as npm would place them beside it (links to this checkout's copies).
  for (const name of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]) {
    const from = join(REPO, 'node_modules', name);
    if (!existsSync(from)) continue; // an optional one that did not install here
    mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
    symlinkSync(from, join(app, 'node_modules', name), 'dir');
  }
  writeFileSync(join(app, 'package.json'), '{"type":"module"}');
  const raw = vectorPath('bcoin', 'mainnet', 'block300025.raw');
  const undo = vectorPath('bcoin', 'mainnet', 'block300025-undo.raw');
  writeFileSync(
    join(app, 'probe.mjs'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { ScriptPool, decodeBlock, readSpentFile, validateBlockAsync } from 'vigil';",
      `const raw = new Uint8Array(readFileSync(${JSON.stringify(raw)}));`,
      'const block = decodeBlock(raw);',
      `const spent = readSpentFile(new Uint8Array(readFileSync(${JSON.stringify(undo)})), 'bcoin-undo', block.block);`,
      "const pool = await ScriptPool.create({ threads: 2, sigCache: null });",
      "const report = await validateBlockAsync(raw, spent.outputs, { network: 'main', runScripts: (w, f, s) => pool.verify(w, f, s) });",
      'console.log(JSON.stringify({ mode: report.result.mode, inputs: report.inputs, tasks: pool.stats.tasks }));',
      'await pool.close();',
    ].join('\n'),
  );
  const out = JSON.parse(execFileSync(process.execPath, [join(app, 'probe.mjs')], { cwd: app, encoding: 'utf8' })) as { mode: string; inputs: number; tasks: number };
  assert.deepEqual(out.mode, 'valid');
  assert.equal(out.inputs, 1428, "300025's 1,427 spending inputs and its coinbase's");
  assert.ok(out.tasks >= 2, `the worker threads ran the scripts (${out.tasks} tasks)`);

  const cli = execFileSync(
    process.execPath,
    [join(installed, 'dist', 'src', 'cli', 'main.js'), 'check-block', raw, '--spent', undo, '--spent-format', 'bcoin-undo', '--workers', '1', '--json'],
    { cwd: app, encoding: 'utf8' },
  );
  assert.equal((JSON.parse(cli) as { valid: boolean }).valid, true);

  // The licence ships, and every source map points at a source that ships with it.
  assert.ok(existsSync(join(installed, 'LICENSE')), 'LICENSE is in the package');
  const maps = readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 50, `${maps.length} source maps`);
  for (const m of maps) {
    const map = JSON.parse(readFileSync(join(installed, 'dist', m), 'utf8')) as { sources: string[] };
    for (const src of map.sources) assert.ok(existsSync(join(installed, 'dist', dirname(m), src)), `${m} → ${src} is shipped`);
  }

  // Without the repository's test data, selftest runs the regtest sync alone and says so...
  const selftest = spawnSync(process.execPath, [join(installed, 'dist', 'src', 'cli', 'main.js'), 'selftest', '--blocks', '110', '--txs', '3', '--workers', '1', '--quiet'], { cwd: app, encoding: 'utf8' });
  assert.equal(selftest.status, 0, selftest.stdout + selftest.stderr);
  assert.match(selftest.stdout, /bundled real blocks come with a checkout of the repository .*skipped here/);
  assert.match(selftest.stdout, /regtest sync: 110 generated blocks imported/);
  const json = spawnSync(process.execPath, [join(installed, 'dist', 'src', 'cli', 'main.js'), 'selftest', '--blocks', '110', '--txs', '3', '--workers', '1', '--json'], { cwd: app, encoding: 'utf8' });
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual((({ valid, blocks, bundledSkipped }) => ({ valid, blocks, bundledSkipped }))(JSON.parse(json.stdout) as { valid: boolean; blocks: unknown[]; bundledSkipped?: boolean }), { valid: true, blocks: [], bundledSkipped: true });
  // ...and bench, whose suites and blocks are not shipped, says where it runs: a usage error, exit 2.
  const bench = spawnSync(process.execPath, [join(installed, 'dist', 'src', 'cli', 'main.js'), 'bench', 'sighash'], { cwd: app, encoding: 'utf8' });
  assert.equal(bench.status, 2, bench.stderr);
  assert.match(bench.stderr, /vigil bench runs from a checkout of the repository/);
});
