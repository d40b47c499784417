#!/usr/bin/env node
// The `vigil` command line: verify a block's input scripts against its spent outputs,
// or run the self-check over the real blocks bundled with the repository.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { decodeBlock, type Block } from '../primitives/block.js';
import { hashToHex } from '../primitives/bytes.js';
import { coinbaseHeight } from '../consensus/bip34.js';
import { checkBlockScripts, spentOutputsByTx } from '../consensus/block-scripts.js';
import { NETWORK_NAMES, getBlockScriptFlags, type NetworkName } from '../consensus/script-flags.js';
import { SPENT_FILE_FORMATS, readSpentFile, type SpentFileFormat } from '../spent/index.js';
import { formatScriptFlags } from '../script/flags.js';

const USAGE = `vigil — Bitcoin block validation for Node.js

Usage:
  vigil verify-scripts <block> --spent <file> --spent-format <fmt> [--network <net>] [--height <n>] [--json]
      Verify every input script of a block (raw or blk*.dat-framed) against the
      outputs it spends, with the block's consensus script flags.
      <fmt>: ${SPENT_FILE_FORMATS.join(' | ')}    <net>: ${NETWORK_NAMES.join(' | ')} (default main)
      --height defaults to the height in the coinbase (BIP34).
  vigil selftest [--json]
      Verify every real block bundled in the repository's test vectors.
  vigil --help | --version

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`;

class UsageError extends Error {}

const MAGICS = [0xd9b4bef9, 0x0709110b, 0x283f161c, 0x40cf030a, 0xdab5bffa];

/** Accept a raw block or one record of blk*.dat framing (network magic + LE length). */
function unframe(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 8) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (MAGICS.includes(dv.getUint32(0, true)) && dv.getUint32(4, true) === bytes.length - 8) return bytes.subarray(8);
  }
  return bytes;
}

interface ScriptReport {
  valid: boolean;
  reason?: string;
  txIndex?: number;
  inputIndex?: number;
  hash: string;
  height: number;
  network: NetworkName;
  flags: string;
  txs: number;
  inputs: number;
  ms: number;
}

function readFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function verifyScriptsOf(blockBytes: Uint8Array, spentBytes: Uint8Array, format: SpentFileFormat, network: NetworkName, height?: number): ScriptReport {
  const decoded = decodeBlock(unframe(blockBytes));
  if (!decoded.ok) throw new UsageError(`block does not parse: ${decoded.message}`);
  const block: Block = decoded.block;
  const spent = readSpentFile(spentBytes, format, block);
  if (!spent.ok) throw new UsageError(`spent outputs do not parse: ${spent.message}`);
  const byTx = spentOutputsByTx(block, spent.outputs);
  if (byTx === undefined) throw new UsageError(`the spent-output file has ${spent.outputs.length} records, which does not match the block's inputs`);
  const h = height ?? coinbaseHeight(block);
  if (h === undefined) throw new UsageError('the coinbase carries no BIP34 height: pass --height');
  const flags = getBlockScriptFlags(network, h, block.hash());
  const t0 = performance.now();
  const r = checkBlockScripts(block, byTx, flags);
  const ms = performance.now() - t0;
  const report: ScriptReport = {
    valid: r.ok,
    hash: hashToHex(block.hash()),
    height: h,
    network,
    flags: formatScriptFlags(flags),
    txs: block.txs.length,
    inputs: r.inputs,
    ms: Math.round(ms * 10) / 10,
  };
  if (!r.ok) {
    report.reason = `mandatory-script-verify-flag-failed (${r.error})`;
    report.txIndex = r.txIndex;
    report.inputIndex = r.inputIndex;
  }
  return report;
}

/** The real blocks with spent outputs in the repository's vectors. */
const SELFTEST_BLOCKS: ReadonlyArray<{ block: string; spent: string; format: SpentFileFormat; network: NetworkName }> = [
  { block: 'bcoin/mainnet/block300025.raw', spent: 'bcoin/mainnet/block300025-undo.raw', format: 'bcoin-undo', network: 'main' },
  { block: 'btcd/277647.dat', spent: 'btcd/277647.utxostore', format: 'btcd-utxostore', network: 'main' },
  { block: 'floresta/block_866342.raw', spent: 'floresta/block_866342.spent_utxos.json', format: 'floresta-json', network: 'main' },
  { block: 'bcoin/testnet3/block928816.raw', spent: 'bcoin/testnet3/block928816-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928828.raw', spent: 'bcoin/testnet3/block928828-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928831.raw', spent: 'bcoin/testnet3/block928831-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928849.raw', spent: 'bcoin/testnet3/block928849-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block928927.raw', spent: 'bcoin/testnet3/block928927-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
  { block: 'bcoin/testnet3/block1087400.raw', spent: 'bcoin/testnet3/block1087400-undo.raw', format: 'bcoin-undo', network: 'testnet3' },
];

function selftest(json: boolean): number {
  const dir = fileURLToPath(new URL('../../../test/vectors/', import.meta.url));
  if (!existsSync(dir)) throw new UsageError('selftest needs the test vectors of a repository checkout (test/vectors/)');
  const reports: ScriptReport[] = [];
  for (const v of SELFTEST_BLOCKS) {
    const r = verifyScriptsOf(readFile(dir + v.block), readFile(dir + v.spent), v.format, v.network);
    reports.push(r);
    if (!json) {
      const rate = Math.round(r.inputs / (r.ms / 1000));
      console.log(
        `${r.valid ? 'valid  ' : 'INVALID'} ${v.network.padEnd(8)} ${String(r.height).padStart(7)}  ${String(r.inputs).padStart(5)} inputs  ${String(r.ms).padStart(8)} ms  ${String(rate).padStart(6)} inputs/s${r.reason ? '  ' + r.reason : ''}`,
      );
    }
  }
  const inputs = reports.reduce((a, r) => a + r.inputs, 0);
  const ms = reports.reduce((a, r) => a + r.ms, 0);
  const allValid = reports.every((r) => r.valid);
  if (json) console.log(JSON.stringify({ valid: allValid, blocks: reports, inputs, ms: Math.round(ms) }));
  else console.log(`\n${reports.length} blocks, ${inputs} inputs in ${(ms / 1000).toFixed(1)} s on one thread (${Math.round(inputs / (ms / 1000))} inputs/s): ${allValid ? 'all valid' : 'FAILURES'}`);
  return allValid ? 0 : 1;
}

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
      network: { type: 'string', default: 'main' },
      height: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  switch (command) {
    case 'selftest':
      return selftest(values.json === true);
    case 'verify-scripts': {
      const [blockPath] = rest;
      if (blockPath === undefined || values.spent === undefined) throw new UsageError('verify-scripts needs <block> and --spent <file>');
      const format = values['spent-format'] as SpentFileFormat | undefined;
      if (format === undefined || !SPENT_FILE_FORMATS.includes(format)) throw new UsageError(`--spent-format must be one of ${SPENT_FILE_FORMATS.join(', ')}`);
      const network = values.network as NetworkName;
      if (!NETWORK_NAMES.includes(network)) throw new UsageError(`--network must be one of ${NETWORK_NAMES.join(', ')}`);
      let height: number | undefined;
      if (values.height !== undefined) {
        height = Number(values.height);
        if (!Number.isSafeInteger(height) || height < 0) throw new UsageError('--height must be a non-negative integer');
      }
      const r = verifyScriptsOf(readFile(blockPath), readFile(values.spent), format, network, height);
      if (values.json) console.log(JSON.stringify(r));
      else console.log(`${r.valid ? 'valid' : `invalid: ${r.reason} at tx ${r.txIndex} input ${r.inputIndex}`} ${r.hash} height ${r.height}: ${r.inputs} inputs in ${r.ms} ms`);
      return r.valid ? 0 : 1;
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
