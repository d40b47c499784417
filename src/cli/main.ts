#!/usr/bin/env node
// The `vigil` command line: parse the arguments, dispatch to a command, map failures
// to exit statuses (0 valid, 1 invalid, 2 usage or I/O error).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NETWORK_NAMES } from '../consensus/script-flags.js';
import { SPENT_FILE_FORMATS } from '../spent/index.js';
import { checkBlockFile, selftest } from './check-block.js';
import { UsageError, parseHeight, parseNetwork, parseSpentFormat } from './io.js';

const USAGE = `vigil — Bitcoin block validation for Node.js

Usage:
  vigil check-block <block> --spent <file> --spent-format <fmt> [--network <net>] [--height <n>] [--no-pow-check] [--json]
      Validate a block (raw, or one blk*.dat record) against the outputs its inputs spend:
      every consensus rule that needs no chain, scripts included.
      <fmt>: ${SPENT_FILE_FORMATS.join(' | ')}    <net>: ${NETWORK_NAMES.join(' | ')} (default main)
      --height defaults to the height in the coinbase (BIP34).
  vigil selftest [--json]
      Validate every real block bundled in the repository's test vectors.
  vigil --help | --version

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`;

function run(argv: string[]): number {
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
      return selftest(values.json === true);
    case 'check-block': {
      const [block] = rest;
      if (block === undefined || values.spent === undefined) throw new UsageError('check-block needs <block> and --spent <file>');
      const height = parseHeight(values.height);
      const out = checkBlockFile({
        block,
        spent: values.spent,
        format: parseSpentFormat(values['spent-format']),
        network: parseNetwork(values.network),
        checkPow: values['no-pow-check'] !== true,
        ...(height === undefined ? {} : { height }),
      });
      if (values.json) console.log(JSON.stringify(out));
      else {
        const where = out.txIndex === undefined ? '' : ` (tx ${out.txIndex}${out.inputIndex === undefined ? '' : ` input ${out.inputIndex}`})`;
        console.log(`${out.valid ? 'valid' : `${out.mode}: ${out.reason}${where}`} ${out.hash ?? ''} height ${out.height ?? '?'}: ${out.txs} txs, ${out.inputs} inputs in ${out.ms} ms`);
      }
      return out.valid ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

try {
  process.exitCode = run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`vigil: ${(err as Error).message}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
