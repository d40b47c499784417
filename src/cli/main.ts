#!/usr/bin/env node
// The `vigil` command line: parse the arguments, dispatch to a command, map failures
// to exit statuses (0 valid, 1 invalid, 2 usage or I/O error).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NETWORK_NAMES } from '../consensus/script-flags.js';
import { SPENT_FILE_FORMATS } from '../spent/index.js';
import { checkBlockFile, selftest } from './check-block.js';
import { generateCommand, importCommand, tipCommand, utxoDigestCommand } from './chain-commands.js';
import { UsageError, parseHeight, parseNetwork, parseSpentFormat } from './io.js';
import { ScriptPool } from '../pipeline/script-pool.js';
import { BACKEND_NAMES, isBackendName } from '../script/backends.js';
import { hexToHash } from '../primitives/bytes.js';
import { createLogger, isLogFormat, isLogLevel } from '../service/logger.js';
import { serveCommand } from './serve-command.js';
import { sourcesCommand, unbanCommand } from './sources-command.js';

/** Run `fn` with a script pool of `--workers` threads (default: one per core). */
async function withPool<T>(workers: string | undefined, crypto: string | undefined, fn: (pool: ScriptPool) => Promise<T>): Promise<T> {
  const threads = workers === undefined ? undefined : count(workers, 'workers');
  if (crypto !== undefined && !isBackendName(crypto)) throw new UsageError(`--crypto must be one of ${BACKEND_NAMES.join(', ')}`);
  let pool: ScriptPool;
  try {
    pool = await ScriptPool.create({ ...(threads === undefined ? {} : { threads }), ...(crypto === undefined ? {} : { crypto }) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

const USAGE = `vigil — Bitcoin block validation for Node.js

Usage:
  vigil check-block <block> --spent <file> --spent-format <fmt> [--network <net>] [--height <n>] [--no-pow-check] [--workers <n>] [--json]
      Validate a block (raw, or one blk*.dat record) against the outputs its inputs spend:
      every consensus rule that needs no chain, scripts included.
      <fmt>: ${SPENT_FILE_FORMATS.join(' | ')}    <net>: ${NETWORK_NAMES.join(' | ')} (default main)
      --height defaults to the height in the coinbase (BIP34).
  vigil import <blk file or blocks dir> --datadir <dir> [--network <net>] [--workers <n>] [--assumevalid <hash>|0] [--json] [--quiet]
      Connect Bitcoin Core's blk*.dat files (out of order, xor.dat obfuscated) in chain order
      into the chain state in <dir>; an interrupted import resumes where it stopped.
  vigil generate --network regtest --blocks <n> --txs <t> --seed <s> --out <dir> [--json]
      Write a deterministic, signed regtest chain as blk*.dat files.
  vigil tip --datadir <dir>
  vigil utxo-digest --datadir <dir>
      The chain state's tip, or a digest of its whole UTXO set (equal sets, equal digests).
  vigil selftest [--json]
      Validate every real block bundled in the repository's test vectors.
  vigil --help | --version

--workers <n>: script-checking threads (default one per core; 0 checks on the main thread).
--crypto noble|libsecp256k1: signature backend for check-block, import and selftest (default noble).
Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`;

/** --assumevalid=<block hash> or 0 (off); absent: the network's default. */
function parseAssumeValid(value: string | undefined): Uint8Array | null | undefined {
  if (value === undefined) return undefined;
  if (value === '0') return null;
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new UsageError('--assumevalid must be a block hash (64 hex digits) or 0');
  return hexToHash(value);
}

function needDatadir(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--datadir <dir> is required');
  return value;
}

function count(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} <n> is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      json: { type: 'boolean' },
      spent: { type: 'string' },
      'spent-format': { type: 'string' },
      network: { type: 'string' },
      height: { type: 'string' },
      'no-pow-check': { type: 'boolean' },
      datadir: { type: 'string' },
      quiet: { type: 'boolean' },
      blocks: { type: 'string' },
      txs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      workers: { type: 'string' },
      assumevalid: { type: 'string' },
      crypto: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'queue-size': { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      'ban-score': { type: 'string' },
      'ban-violations': { type: 'string' },
      'ban-seconds': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case 'selftest':
      return withPool(values.workers, values.crypto, (pool) => selftest(values.json === true, pool));
    case 'check-block': {
      const [block] = rest;
      if (block === undefined || values.spent === undefined) throw new UsageError('check-block needs <block> and --spent <file>');
      const height = parseHeight(values.height);
      const format = parseSpentFormat(values['spent-format']);
      const network = parseNetwork(values.network);
      const spent = values.spent;
      const out = await withPool(values.workers, values.crypto, (pool) =>
        checkBlockFile({ block, spent, format, network, checkPow: values['no-pow-check'] !== true, pool, ...(height === undefined ? {} : { height }) }),
      );
      if (values.json) console.log(JSON.stringify(out));
      else {
        const where = out.txIndex === undefined ? '' : ` (tx ${out.txIndex}${out.inputIndex === undefined ? '' : ` input ${out.inputIndex}`})`;
        console.log(`${out.valid ? 'valid' : `${out.mode}: ${out.reason}${where}`} ${out.hash ?? ''} height ${out.height ?? '?'}: ${out.txs} txs, ${out.inputs} inputs in ${out.ms} ms`);
      }
      return out.valid ? 0 : 1;
    }
    case 'import': {
      const [path] = rest;
      if (path === undefined) throw new UsageError('import needs <blk file or blocks dir>');
      const datadir = needDatadir(values.datadir);
      const network = parseNetwork(values.network);
      const assumeValid = parseAssumeValid(values.assumevalid);
      return withPool(values.workers, values.crypto, (pool) => importCommand(path, datadir, network, values.json === true, values.quiet === true, pool, assumeValid));
    }
    case 'generate': {
      if (values.out === undefined) throw new UsageError('generate needs --out <dir>');
      return generateCommand({
        network: parseNetwork(values.network ?? 'regtest'),
        blocks: count(values.blocks, 'blocks'),
        txs: count(values.txs, 'txs', 10),
        seed: values.seed ?? '0',
        out: values.out,
        json: values.json === true,
      });
    }
    case 'serve': {
      const level = values['log-level'] ?? 'info';
      const format = values['log-format'] ?? 'text';
      if (!isLogLevel(level) || !isLogFormat(format)) throw new UsageError('bad --log-level or --log-format');
      const crypto = values.crypto;
      if (crypto !== undefined && !isBackendName(crypto)) throw new UsageError(`--crypto must be one of ${BACKEND_NAMES.join(', ')}`);
      const assumeValid = parseAssumeValid(values.assumevalid);
      return serveCommand({
        datadir: needDatadir(values.datadir),
        network: parseNetwork(values.network),
        port: count(values.port, 'port', 8338),
        host: values.host ?? '127.0.0.1',
        ...(values.workers === undefined ? {} : { workers: count(values.workers, 'workers') }),
        ...(crypto === undefined ? {} : { crypto }),
        ...(assumeValid === undefined ? {} : { assumeValid }),
        queueSize: count(values['queue-size'], 'queue-size', 64),
        rate: count(values.rate, 'rate', 20),
        burst: count(values.burst, 'burst', 40),
        banScore: count(values['ban-score'], 'ban-score', 10),
        banViolations: count(values['ban-violations'], 'ban-violations', 3),
        banSeconds: count(values['ban-seconds'], 'ban-seconds', 86400),
        logger: createLogger({ level, format }),
      });
    }
    case 'sources':
      return sourcesCommand(needDatadir(values.datadir), values.json === true);
    case 'unban': {
      const [source] = rest;
      if (source === undefined) throw new UsageError('unban needs <source>');
      return unbanCommand(needDatadir(values.datadir), source);
    }
    case 'tip':
      return tipCommand(needDatadir(values.datadir));
    case 'utxo-digest':
      return utxoDigestCommand(needDatadir(values.datadir));
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`vigil: ${(err as Error).message}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
