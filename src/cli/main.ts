#!/usr/bin/env node
// The `vigil` command line: parse the arguments against the option table, resolve each option
// (flag, environment, config file, default), dispatch to a command, and map failures to exit
// statuses (0 valid, 1 invalid, 2 usage or I/O error). Results go to stdout; logs and progress
// to stderr.

import { readFileSync } from 'node:fs';
import type { NetworkName } from '../consensus/script-flags.js';
import { checkBlockFile } from './check-block.js';
import { generateCommand, importCommand, tipCommand, utxoDigestCommand } from './chain-commands.js';
import { UsageError, parseSpentFormat } from './io.js';
import { ScriptPool } from '../pipeline/script-pool.js';
import type { BackendName } from '../script/backends.js';
import { hexToHash } from '../primitives/bytes.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../service/logger.js';
import { isCommandName, parseCommandLine, resolveOptions, type ParsedArgs, type ResolvedOptions } from './config.js';
import { commandHelp, generalHelp } from './help.js';
import { progressAwareStderr, progressMode } from './progress.js';
import { selftestCommand } from './selftest-command.js';
import { benchCommand } from './bench-command.js';
import { serveCommand } from './serve-command.js';
import { sourcesCommand, unbanCommand } from './sources-command.js';

/** Run `fn` with a script pool of `--workers` threads (default: one per core). */
async function withPool<T>(o: ResolvedOptions, fn: (pool: ScriptPool) => Promise<T>): Promise<T> {
  const threads = o.number('workers');
  const crypto = o.string('crypto') as BackendName | undefined;
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

/** --assumevalid=<block hash> or 0 (off); absent: the network's default. The table checked its form. */
function assumeValid(o: ResolvedOptions): Uint8Array | null | undefined {
  const value = o.string('assumevalid');
  if (value === undefined) return undefined;
  return value === '0' ? null : hexToHash(value);
}

/** One logger per run; --quiet keeps only warnings and errors. */
function makeLogger(o: ResolvedOptions): Logger {
  let level = (o.string('log-level') ?? 'info') as LogLevel;
  if (o.bool('quiet') && (level === 'debug' || level === 'info')) level = 'warn';
  return createLogger({ level, format: (o.string('log-format') ?? 'text') as LogFormat, stream: progressAwareStderr });
}

async function dispatch(parsed: ParsedArgs, o: ResolvedOptions, logger: Logger): Promise<number> {
  const [, ...rest] = parsed.positionals;
  const json = o.bool('json');
  const network = (): NetworkName => o.string('network') as NetworkName;
  const noMoreArgs = (n: number): void => {
    if (rest.length > n) throw new UsageError(`${o.command}: unexpected argument ${rest[n]!} (see vigil help ${o.command})`);
  };
  switch (o.command) {
    case 'selftest':
      noMoreArgs(0);
      return withPool(o, (pool) =>
        selftestCommand({
          json,
          quiet: o.bool('quiet'),
          blocks: o.requireNumber('blocks'),
          txs: o.requireNumber('txs'),
          seed: o.require('seed'),
          pool,
          crypto: o.require('crypto'),
          logger,
        }),
      );
    case 'check-block': {
      const [block] = rest;
      noMoreArgs(1);
      const spent = o.string('spent');
      if (block === undefined || spent === undefined) throw new UsageError('check-block needs <block> and --spent <file>');
      const height = o.number('height');
      const format = parseSpentFormat(o.string('spent-format'));
      const out = await withPool(o, (pool) =>
        checkBlockFile({ block, spent, format, network: network(), checkPow: !o.bool('no-pow-check'), pool, ...(height === undefined ? {} : { height }) }),
      );
      if (json) console.log(JSON.stringify(out));
      else {
        const where = out.txIndex === undefined ? '' : ` (tx ${out.txIndex}${out.inputIndex === undefined ? '' : ` input ${out.inputIndex}`})`;
        console.log(`${out.valid ? 'valid' : `${out.mode}: ${out.reason}${where}`} ${out.hash ?? ''} height ${out.height ?? '?'}: ${out.txs} txs, ${out.inputs} inputs in ${out.ms} ms`);
      }
      // Our own failure (mode error) is no verdict on the block: it exits as I/O errors do.
      return out.valid ? 0 : out.mode === 'error' ? 2 : 1;
    }
    case 'import': {
      const [path] = rest;
      noMoreArgs(1);
      if (path === undefined) throw new UsageError('import needs <blk file or blocks dir>');
      const datadir = o.require('datadir');
      const av = assumeValid(o);
      return withPool(o, (pool) =>
        importCommand({
          path,
          datadir,
          network: network(),
          json,
          quiet: o.bool('quiet'),
          pool,
          logger,
          // Core's -dbcache saturates (SaturatingLeftShift): a size past what a byte count holds is no limit, not an error.
          cacheBytes: Math.min(o.requireNumber('dbcache') * 1024 * 1024, Number.MAX_SAFE_INTEGER),
          ...(av === undefined ? {} : { assumeValid: av }),
        }),
      );
    }
    case 'generate':
      noMoreArgs(0);
      return generateCommand({
        network: network(),
        blocks: o.requireNumber('blocks'),
        txs: o.requireNumber('txs'),
        seed: o.require('seed'),
        out: o.require('out'),
        json,
      });
    case 'tip':
      noMoreArgs(0);
      return tipCommand(o.require('datadir'));
    case 'utxo-digest':
      noMoreArgs(0);
      return utxoDigestCommand(o.require('datadir'));
    case 'bench':
      return benchCommand({
        suites: rest,
        timeMs: o.requireNumber('time'),
        warmupMs: o.requireNumber('warmup'),
        mode: progressMode({ quiet: o.bool('quiet'), stream: process.stderr }),
        stream: process.stderr,
      });
    case 'serve': {
      noMoreArgs(0);
      const workers = o.number('workers');
      const av = assumeValid(o);
      return serveCommand({
        datadir: o.require('datadir'),
        network: network(),
        port: o.requireNumber('port'),
        host: o.require('host'),
        ...(workers === undefined ? {} : { workers }),
        crypto: o.require('crypto') as BackendName,
        ...(av === undefined ? {} : { assumeValid: av }),
        queueSize: o.requireNumber('queue-size'),
        rate: o.requireNumber('rate'),
        burst: o.requireNumber('burst'),
        maxConnections: o.requireNumber('max-connections'),
        banScore: o.requireNumber('ban-score'),
        banViolations: o.requireNumber('ban-violations'),
        banSeconds: o.requireNumber('ban-seconds'),
        logger,
      });
    }
    case 'sources':
      noMoreArgs(0);
      return sourcesCommand(o.require('datadir'), json);
    case 'unban': {
      const [source] = rest;
      noMoreArgs(1);
      if (source === undefined) throw new UsageError('unban needs <source>');
      return unbanCommand(o.require('datadir'), source);
    }
  }
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  const [command, ...rest] = parsed.positionals;
  if (parsed.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  // `vigil help <command>`, `vigil <command> --help`, `vigil --help`; bare `vigil` is a usage error.
  const topic = command === 'help' ? rest[0] : parsed.help ? command : undefined;
  if (command === undefined || command === 'help' || parsed.help) {
    if (topic !== undefined) {
      if (!isCommandName(topic)) throw new UsageError(`unknown command: ${topic}`);
      console.log(commandHelp(topic));
      return 0;
    }
    console.log(generalHelp());
    return command === undefined && !parsed.help ? 2 : 0;
  }
  if (!isCommandName(command)) throw new UsageError(`unknown command: ${command}`);
  const options = resolveOptions(command, parsed);
  return dispatch(parsed, options, makeLogger(options));
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`vigil: ${err.message}`);
  } else {
    // Our own failure, or an I/O error no command turned into a message of its own: exit 2, never
    // Node's 1 for an uncaught error, which here would read as "invalid". A system error (it has a
    // code: ENOSPC, EACCES) says enough in its message; anything else keeps its stack for a report.
    const system = err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
    console.error(`vigil: internal error: ${err instanceof Error ? (system ? err.message : (err.stack ?? err.message)) : String(err)}`);
  }
  process.exitCode = 2;
}
