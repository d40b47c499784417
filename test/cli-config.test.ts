// The option table: precedence (flag, then VIGIL_* variable, then config file, then default),
// bad values as usage errors that name where they came from, flags a command does not take,
// and the README's copy of the table, which must equal the table itself.

import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainState } from '../src/chain/chain-state.js';
import { OPTIONS, parseCommandLine, readConfigFile, renderOptionsMarkdown, resolveOptions } from '../src/cli/config.js';
import { UsageError } from '../src/cli/io.js';
import { tempDir } from './helpers/regtest-chain.js';
import { preloadEnv, srcUrl } from './helpers/cli.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

function withConfig<T>(doc: unknown, fn: (path: string) => T): T {
  const tmp = tempDir('vigil-config-');
  try {
    const path = join(tmp.dir, 'vigil.json');
    writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return fn(path);
  } finally {
    tmp.remove();
  }
}

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UsageError && message.test(err.message), `expected a usage error matching ${message}`);
}

describe('config: precedence flag > environment > file > default', () => {
  const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveOptions('import', parseCommandLine(['import', 'blocks', ...argv]), env);

  it('the default when nothing else is given', () => {
    const o = resolve([]);
    assert.equal(o.string('network'), 'main');
    assert.equal(o.source('network'), 'default');
    assert.equal(o.number('workers'), undefined, 'workers has no fixed default: one per core');
    assert.equal(o.bool('quiet'), false);
  });

  it('a config file beats the default', () =>
    withConfig({ network: 'regtest', workers: 1, quiet: true }, (path) => {
      const o = resolve(['--config', path]);
      assert.equal(o.string('network'), 'regtest');
      assert.equal(o.source('network'), 'file');
      assert.equal(o.number('workers'), 1);
      assert.equal(o.bool('quiet'), true);
    }));

  it('VIGIL_CONFIG names the file too', () =>
    withConfig({ network: 'signet' }, (path) => assert.equal(resolve([], { VIGIL_CONFIG: path }).string('network'), 'signet')));

  it('the environment beats the file', () =>
    withConfig({ network: 'regtest', workers: 1 }, (path) => {
      const o = resolve(['--config', path], { VIGIL_NETWORK: 'testnet4', VIGIL_WORKERS: '3' });
      assert.equal(o.string('network'), 'testnet4');
      assert.equal(o.source('network'), 'env');
      assert.equal(o.number('workers'), 3);
    }));

  it('the flag beats the environment and the file', () =>
    withConfig({ network: 'regtest', quiet: true }, (path) => {
      const o = resolve(['--config', path, '--network', 'signet', '--no-quiet'], { VIGIL_NETWORK: 'testnet4', VIGIL_QUIET: '1' });
      assert.equal(o.string('network'), 'signet');
      assert.equal(o.source('network'), 'flag');
      assert.equal(o.bool('quiet'), false, '--no-quiet undoes the environment');
    }));

  it('--name=value and --name value read the same', () => {
    assert.equal(resolve(['--workers=2']).number('workers'), 2);
    assert.equal(resolve(['--workers', '2']).number('workers'), 2);
  });

  it('a command-specific default: generate makes regtest, selftest 300 blocks of 25 txs', () => {
    assert.equal(resolveOptions('generate', parseCommandLine(['generate']), {}).string('network'), 'regtest');
    const s = resolveOptions('selftest', parseCommandLine(['selftest']), {});
    assert.equal(s.number('blocks'), 300);
    assert.equal(s.number('txs'), 25);
    assert.equal(resolveOptions('generate', parseCommandLine(['generate']), {}).number('txs'), 10);
  });

  it('the serve options have their stated defaults', () => {
    const o = resolveOptions('serve', parseCommandLine(['serve']), {});
    const got = Object.fromEntries(['port', 'queue-size', 'rate', 'burst', 'ban-score', 'ban-violations', 'ban-seconds'].map((n) => [n, o.number(n)]));
    assert.deepEqual(got, { port: 8338, 'queue-size': 64, rate: 20, burst: 40, 'ban-score': 10, 'ban-violations': 3, 'ban-seconds': 86400 });
    assert.equal(o.string('host'), '127.0.0.1');
  });

  it("another command's environment and file values are left alone", () =>
    withConfig({ port: 9000, spent: 'x' }, (path) => {
      const o = resolve(['--config', path], { VIGIL_PORT: 'not a number' });
      assert.equal(o.number('port'), undefined);
    }));
});

describe('config: the command line and the environment, read as documented', () => {
  const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveOptions('import', parseCommandLine(['import', 'blocks', ...argv]), env);

  it('booleans from text: 1/true/yes/on and 0/false/no/off, in any case', () => {
    for (const v of ['1', 'true', 'YES', 'On']) assert.equal(resolve([], { VIGIL_QUIET: v }).bool('quiet'), true, v);
    for (const v of ['0', 'false', 'No', 'OFF']) assert.equal(resolve([], { VIGIL_QUIET: v }).bool('quiet'), false, v);
    assert.equal(resolve(['--quiet=off']).bool('quiet'), false);
    assert.equal(resolve(['--json=TRUE']).bool('json'), true);
  });

  it('an empty environment variable is unset: the file or the default applies', () => {
    assert.equal(resolve([], { VIGIL_NETWORK: '', VIGIL_WORKERS: '' }).string('network'), 'main');
    assert.equal(resolve([], { VIGIL_NETWORK: '' }).source('network'), 'default');
    withConfig({ network: 'signet' }, (path) => assert.equal(resolve(['--config', path], { VIGIL_NETWORK: '' }).string('network'), 'signet'));
  });

  it('--config beats VIGIL_CONFIG', () =>
    withConfig({ network: 'signet' }, (flagFile) =>
      withConfig({ network: 'testnet4' }, (envFile) => assert.equal(resolve(['--config', flagFile], { VIGIL_CONFIG: envFile }).string('network'), 'signet')),
    ));

  it("a file value the flag or the environment overrides is not checked (as another command's is not)", () =>
    withConfig({ workers: 'many', network: 'moonnet' }, (path) => {
      const o = resolve(['--config', path, '--workers', '2'], { VIGIL_NETWORK: 'regtest' });
      assert.equal(o.number('workers'), 2);
      assert.equal(o.string('network'), 'regtest');
    }));

  it('-- ends the options: what follows is positional, even when it starts with dashes', () => {
    const p = parseCommandLine(['check-block', '--json', '--', '--odd-name.raw', '-']);
    assert.deepEqual(p.positionals, ['check-block', '--odd-name.raw', '-']);
    assert.equal(p.flags.get('json'), true);
  });

  it('- alone is a positional; -h is --help', () => {
    assert.deepEqual(parseCommandLine(['import', '-']).positionals, ['import', '-']);
    assert.equal(parseCommandLine(['import', '-h']).help, true);
    assert.equal(parseCommandLine(['import']).help, false);
  });

  it('numbers: workers 0 (main thread) and the pool limit are taken; a fraction or an empty value is not', () => {
    assert.equal(resolve(['--workers', '0']).number('workers'), 0);
    assert.equal(resolve(['--workers', '256']).number('workers'), 256);
    assert.equal(resolveOptions('serve', parseCommandLine(['serve', '--rate', '0.5']), {}).number('rate'), 0.5);
    usageError(() => resolve(['--workers', '1.5']), /^--workers must be an integer from 0 to 256 \(got "1\.5"\)$/);
    usageError(() => resolve(['--workers=']), /^--workers must be an integer from 0 to 256 \(got ""\)$/);
    usageError(() => resolve([], { VIGIL_DBCACHE: ' ' }), /^VIGIL_DBCACHE must be a non-negative integer \(got " "\)$/);
  });
});

describe('config: numbers from text are written in decimal', () => {
  const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveOptions('check-block', parseCommandLine(['check-block', 'b', ...argv]), env);

  it('hex, octal, binary, an exponent or padding is refused, not read as another number (--height 0x10 checked the block at height 16)', () => {
    for (const text of ['0x10', '0o20', '0b10000', '1.6e1', '16e0', ' 16', '16 ', '+16', '1_6', 'Infinity']) {
      usageError(() => resolve(['--height', text]), /^--height must be a non-negative integer/);
      usageError(() => resolve([], { VIGIL_HEIGHT: text }), /^VIGIL_HEIGHT must be a non-negative integer/);
    }
    for (const text of ['0x1', '1e0']) usageError(() => resolve(['--workers', text]), /^--workers must be an integer from 0 to 256/);
    const serve = (argv: string[]) => resolveOptions('serve', parseCommandLine(['serve', ...argv]), {});
    for (const text of ['0x14', ' 20', 'Infinity']) usageError(() => serve(['--rate', text]), /^--rate must be a number of at least 0\.001/);
    // Plain decimals are taken, a number's fraction and exponent included.
    assert.equal(resolve(['--height', '16']).number('height'), 16);
    assert.equal(resolve(['--height', '0016']).number('height'), 16);
    assert.equal(serve(['--rate', '2.5']).number('rate'), 2.5);
    assert.equal(serve(['--rate', '.5']).number('rate'), 0.5);
    assert.equal(serve(['--rate', '1e3']).number('rate'), 1000);
    assert.equal(serve(['--ban-score', '-5']).number('ban-score'), -5);
  });
});

describe('config: bad values are usage errors naming their source', () => {
  const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveOptions('import', parseCommandLine(['import', 'blocks', ...argv]), env);

  it('a bad flag value names the flag', () => usageError(() => resolve(['--workers', 'many']), /^--workers must be an integer from 0 to 256 \(got "many"\)/));
  it('more worker threads than a pool takes is a usage error', () => usageError(() => resolve(['--workers', '100000']), /^--workers must be an integer from 0 to 256 \(got "100000"\)/));
  it('a bad enum flag lists the values', () => usageError(() => resolve(['--network', 'moonnet']), /^--network must be one of main, testnet3/));
  it('a bad environment value names the variable', () => usageError(() => resolve([], { VIGIL_WORKERS: '-1' }), /^VIGIL_WORKERS must be an integer from 0 to 256/));
  it('a bad environment boolean names the variable', () => usageError(() => resolve([], { VIGIL_QUIET: 'maybe' }), /^VIGIL_QUIET must be true or false/));
  it('a bad assumevalid names its source', () => usageError(() => resolve([], { VIGIL_ASSUMEVALID: 'abc' }), /^VIGIL_ASSUMEVALID must be a block hash/));
  it('an unknown key in the file names the key and the file', () =>
    withConfig({ netwrok: 'main' }, (path) => usageError(() => readConfigFile(path), new RegExp(`^config file ${path}: unknown option "netwrok"`))));
  it('a wrong type in the file names the key', () =>
    withConfig({ workers: '2' }, (path) => usageError(() => resolve(['--config', path]), new RegExp(`^config file ${path}: "workers" must be an integer from 0 to 256$`))));
  it('a bad enum value in the file names the key', () =>
    withConfig({ 'log-level': 'loud' }, (path) => usageError(() => resolve(['--config', path]), /: "log-level" must be one of debug, info, warn, error$/)));
  it("a bad value for another command's option in the file is left alone, as in the environment", () =>
    withConfig({ network: 'mainnet', port: 99999, workers: '2', datadir: '/d' }, (path) => {
      const o = resolveOptions('tip', parseCommandLine(['tip', '--config', path]), {});
      assert.equal(o.string('datadir'), '/d');
      // The same file read by a command that takes them is refused.
      usageError(() => resolve(['--config', path]), /: "network" must be one of main, testnet3/);
    }));
  it('a file that is not a JSON object', () => withConfig('[1]', (path) => usageError(() => readConfigFile(path), /must hold a JSON object/)));
  it('a file that is not JSON', () => withConfig('{ network: main', (path) => usageError(() => readConfigFile(path), /is not JSON/)));
  it('a missing file', () => usageError(() => resolve(['--config', '/nonexistent/vigil.json']), /cannot read config file/));
  it('an unknown flag', () => usageError(() => parseCommandLine(['import', '--fast']), /^unknown option --fast$/));
  it('a short option other than -h', () => usageError(() => parseCommandLine(['import', '-q']), /^unknown option -q$/));
  it('--no- before an option that is not a boolean', () => usageError(() => parseCommandLine(['import', '--no-network']), /^unknown option --no-network$/));
  it('--no-<flag> with a value', () => usageError(() => parseCommandLine(['import', '--no-quiet=1']), /^--no-quiet takes no value$/));
  it('a config file naming another config file', () => withConfig({ config: 'other.json' }, (path) => usageError(() => readConfigFile(path), /"config" cannot name another config file/)));
  it('a flag the command does not take', () => usageError(() => resolve(['--port', '1']), /^import does not take --port/));
  it('a flag without its value', () => usageError(() => parseCommandLine(['import', '--datadir']), /^--datadir needs a value/));
  it('a ban score a new source would start at or below (every source banned at its first block)', () => {
    usageError(() => resolveOptions('serve', parseCommandLine(['serve', '--ban-score', '50']), {}), /^--ban-score must be a number of at most 49 \(got "50"\)$/);
    assert.equal(resolveOptions('serve', parseCommandLine(['serve', '--ban-score', '49']), {}).number('ban-score'), 49);
  });
  it('a ban longer than a date can hold', () =>
    usageError(() => resolveOptions('serve', parseCommandLine(['serve', '--ban-seconds', '9007199254740991']), {}), /^--ban-seconds must be an integer from 0 to 3153600000/));

  it('the CLI exits 2 and says which variable, or which file key, is wrong', () => {
    const bad = spawnSync(process.execPath, [CLI, 'tip', '--datadir', '/nonexistent'], { env: { ...process.env, VIGIL_LOG_LEVEL: 'loud' }, encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /^vigil: VIGIL_LOG_LEVEL must be one of debug, info, warn, error \(got "loud"\)/);
    withConfig({ 'log-levle': 'info' }, (path) => {
      const r = spawnSync(process.execPath, [CLI, 'tip', '--config', path, '--datadir', '/nonexistent'], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /unknown option "log-levle"/);
    });
  });
});

describe('config: the table itself', () => {
  it('every option has a kebab-case name and a VIGIL_ variable derived from it or prefixed', () => {
    for (const o of OPTIONS) {
      assert.match(o.name, /^[a-z]+(-[a-z]+)*$/);
      assert.match(o.env, /^VIGIL_[A-Z_]+$/);
      assert.equal(new Set(OPTIONS.map((x) => x.env)).size, OPTIONS.length, 'variables are unique');
    }
  });

  it('the README holds exactly the generated options table', () => {
    const readme = readFileSync(README, 'utf8');
    const begin = readme.indexOf('<!-- options:begin -->');
    const end = readme.indexOf('<!-- options:end -->');
    assert.ok(begin >= 0 && end > begin, 'README.md marks the table with <!-- options:begin --> and <!-- options:end -->');
    const section = readme.slice(begin + '<!-- options:begin -->'.length, end).trim() + '\n';
    assert.equal(section, renderOptionsMarkdown(), `README.md's table is stale; it should read:\n${renderOptionsMarkdown()}`);
  });
});

describe('exit status 2 for what is not a verdict', () => {
  it('generate into a folder that holds block files, or onto a file: a usage error, nothing written', () => {
    const tmp = tempDir('vigil-gen-');
    try {
      const full = join(tmp.dir, 'full');
      mkdirSync(full);
      writeFileSync(join(full, 'blk00000.dat'), 'kept');
      const r = spawnSync(process.execPath, [CLI, 'generate', '--blocks', '1', '--out', full], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^vigil: --out .* already holds block files: give an empty or new folder\n$/);
      assert.equal(readFileSync(join(full, 'blk00000.dat'), 'utf8'), 'kept');
      const file = join(tmp.dir, 'a-file');
      writeFileSync(file, '');
      const onFile = spawnSync(process.execPath, [CLI, 'generate', '--blocks', '1', '--out', file], { encoding: 'utf8' });
      assert.equal(onFile.status, 2, onFile.stderr);
      assert.match(onFile.stderr, /is not a folder/);
    } finally {
      tmp.remove();
    }
  });

  it('an error no command turned into a message (here: a folder under a file) exits 2, never 1 ("invalid")', () => {
    const tmp = tempDir('vigil-gen-');
    try {
      const file = join(tmp.dir, 'a-file');
      writeFileSync(file, '');
      const r = spawnSync(process.execPath, [CLI, 'generate', '--blocks', '1', '--out', join(file, 'sub')], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^vigil: internal error: ENOTDIR/);
    } finally {
      tmp.remove();
    }
  });

  it('an internal error that is not a system error keeps its stack for a report, exit 2', async () => {
    const tmp = tempDir('vigil-internal-');
    try {
      const datadir = join(tmp.dir, 'chain');
      await (await ChainState.open(datadir, { network: 'regtest' })).close();
      // The digest fails as a bug of ours would.
      const env = preloadEnv(tmp.dir, 'broken-digest.mjs', `import { ChainState } from ${srcUrl('chain/chain-state.js')};\nChainState.prototype.utxoDigest = function () { throw new Error('digest exploded'); };\n`);
      const r = spawnSync(process.execPath, [CLI, 'utxo-digest', '--datadir', datadir], { env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^vigil: internal error: Error: digest exploded\n\s+at /);
    } finally {
      tmp.remove();
    }
  });

  it('an argument a command does not take is a usage error naming it', () => {
    const r = spawnSync(process.execPath, [CLI, 'tip', '--datadir', '/nonexistent', 'extra'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^vigil: tip: unexpected argument extra \(see vigil help tip\)\n$/);
    const two = spawnSync(process.execPath, [CLI, 'import', 'a', 'b', '--datadir', '/nonexistent'], { encoding: 'utf8' });
    assert.equal(two.status, 2, two.stderr);
    assert.match(two.stderr, /^vigil: import: unexpected argument b /);
  });

  it('--version prints the package version, exit 0', () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });
});

describe('--workers and --crypto reach the script pool', () => {
  // Loaded before the CLI (NODE_OPTIONS --import): the pool refuses to start and says what it was asked for.
  const withRefusingPool = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> => {
    const tmp = tempDir('vigil-pool-');
    try {
      const preload = preloadEnv(tmp.dir, 'refusing-pool.mjs', `import { ScriptPool } from ${srcUrl('pipeline/script-pool.js')};\nScriptPool.create = async (opts) => { throw new Error('pool refused ' + JSON.stringify(opts)); };\n`);
      return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env, ...preload }, encoding: 'utf8' });
    } finally {
      tmp.remove();
    }
  };
  const checkBlock = ['check-block', 'block.raw', '--spent', 'undo.raw', '--spent-format', 'bcoin-undo'];

  it('a pool that cannot start is a usage error (exit 2, its message, no stack), with the threads and backend asked for', () => {
    const r = withRefusingPool([...checkBlock, '--workers', '3', '--crypto', 'libsecp256k1']);
    assert.equal(r.status, 2, String(r.stderr));
    assert.equal(r.stderr, 'vigil: pool refused {"threads":3,"crypto":"libsecp256k1"}\n');
  });

  it('--workers 0 asks for no threads; unset, the pool picks its own, and the backend is noble', () => {
    assert.equal(withRefusingPool([...checkBlock, '--workers', '0']).stderr, 'vigil: pool refused {"threads":0,"crypto":"noble"}\n');
    assert.equal(withRefusingPool(checkBlock).stderr, 'vigil: pool refused {"crypto":"noble"}\n');
    assert.equal(withRefusingPool(['import', 'blocks', '--datadir', 'chain'], { VIGIL_WORKERS: '2', VIGIL_CRYPTO: 'libsecp256k1' }).stderr, 'vigil: pool refused {"threads":2,"crypto":"libsecp256k1"}\n');
  });
});
