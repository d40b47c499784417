// Help text: a usage line and a summary per command, with the options each one takes drawn
// from the option table (flags, environment variables, defaults), so help cannot drift from
// what the parser accepts.

import { COMMAND_NAMES, argText, commandOptions, defaultText, type CommandName } from './config.js';

interface CommandHelp {
  /** A few words for the list of commands. */
  readonly brief: string;
  /** What follows `vigil <command>` besides options: positionals. */
  readonly args: string;
  readonly summary: string;
  /** Longer notes printed after the summary. */
  readonly notes?: readonly string[];
  readonly example: string;
}

export const COMMAND_HELP: Readonly<Record<CommandName, CommandHelp>> = {
  'check-block': {
    brief: 'validate one block against the outputs it spends',
    args: '<block>',
    summary: 'Validate a block (raw, or one blk*.dat record) against the outputs its inputs spend: every consensus rule that needs no chain, scripts included.',
    notes: ['Prints the verdict with Core\'s reject reason. Exit status: 0 valid, 1 invalid, 2 usage error, I/O error or our own failure (no verdict on the block).'],
    example: 'vigil check-block block.raw --spent block-undo.raw --spent-format bcoin-undo --json',
  },
  import: {
    brief: 'import blk*.dat files into a chain state',
    args: '<blk file or blocks dir>',
    summary: "Connect Bitcoin Core's blk*.dat files (out of order, xor.dat obfuscated) in chain order into the chain state in --datadir; an interrupted import resumes where it stopped.",
    notes: ['Progress on stderr: a redrawn line on a terminal, a plain line every 2 s otherwise. Exit status: 0 all accepted, 1 some rejected, 2 usage or internal error.'],
    example: 'vigil import ~/.bitcoin/regtest/blocks --datadir ./vigil-regtest --network regtest',
  },
  generate: {
    brief: 'write a deterministic regtest chain as blk*.dat files',
    args: '',
    summary: 'Write a deterministic, signed regtest chain as blk*.dat files (test data: its keys come from the seed).',
    example: 'vigil generate --blocks 400 --txs 20 --seed 7 --out ./regtest-blocks',
  },
  tip: {
    brief: 'print the chain state\'s tip',
    args: '',
    summary: "Print the chain state's tip (hash, height, chain work) as JSON.",
    example: 'vigil tip --datadir ./vigil-regtest',
  },
  'utxo-digest': {
    brief: 'print a digest of the UTXO set',
    args: '',
    summary: 'Print a SHA-256 digest of the whole UTXO set as JSON: equal sets, equal digests.',
    example: 'vigil utxo-digest --datadir ./vigil-regtest',
  },
  selftest: {
    brief: 'validate the bundled real blocks and time a regtest sync',
    args: '',
    summary: 'Validate the real blocks bundled in the test vectors, then generate a regtest chain, import it and compare the sync against the performance targets.',
    notes: ['The real blocks come from a repository checkout (test/vectors/); without one, only the regtest sync runs. The generated chain lives in a temporary directory removed at the end. Exit status: 0 all valid and accepted, 1 a block invalid, 2 usage error or our own failure (listed as ERROR, no verdict).'],
    example: 'vigil selftest --blocks 300 --txs 25',
  },
  bench: {
    brief: 'run the benchmark suites',
    args: '[suite ...]',
    summary: 'Run the benchmark suites (all, or the ones named), print their tables and write bench/results/<suite>.json and .md.',
    notes: ['Suites: signatures, batch-schnorr, sighash, parse, store, utxo, blocks, import, service. Needs a checkout with the dev dependencies installed.'],
    example: 'vigil bench sighash parse --time 500',
  },
  serve: {
    brief: 'run the HTTP block-validation service',
    args: '',
    summary: 'Run the HTTP service: blocks submitted by sources are validated and connected to the chain state in --datadir.',
    example: 'vigil serve --datadir /var/lib/vigil --port 8338',
  },
  sources: {
    brief: 'list block sources with their scores and bans',
    args: '',
    summary: 'List the block sources the service has seen, with their scores and bans.',
    example: 'vigil sources --datadir /var/lib/vigil --json',
  },
  unban: {
    brief: 'lift a block source\'s ban',
    args: '<source>',
    summary: 'Lift the ban of one block source.',
    example: 'vigil unban 203.0.113.7 --datadir /var/lib/vigil',
  },
};

/** One command's help: usage, what it does, its options with their variables and defaults. */
export function commandHelp(command: CommandName): string {
  const h = COMMAND_HELP[command];
  const lines = [`Usage: vigil ${command}${h.args === '' ? '' : ` ${h.args}`} [options]`, '', h.summary];
  for (const n of h.notes ?? []) lines.push(n);
  lines.push('', 'Options:');
  const opts = commandOptions(command);
  const flags = opts.map((o) => `--${o.name}${argText(o) === '' ? '' : ` ${argText(o)}`}`);
  const width = Math.min(32, Math.max(...flags.map((f) => f.length)) + 2);
  opts.forEach((o, i) => {
    const flag = flags[i]!;
    const pad = flag.length + 2 > width ? `\n  ${' '.repeat(width)}` : ' '.repeat(width - flag.length);
    const def = defaultText(o, command);
    lines.push(`  ${flag}${pad}${o.commandDescriptions?.[command] ?? o.description}`);
    const after = def === '' ? '' : def === 'required' ? ', required' : `, default: ${def}`;
    lines.push(`  ${' '.repeat(width)}env ${o.env}${after}`);
  });
  lines.push(`  ${'--help'.padEnd(width)}this help`, '', `Example: ${h.example}`);
  return lines.join('\n');
}

/** `vigil --help`: every command with its summary. */
export function generalHelp(): string {
  const width = Math.max(...COMMAND_NAMES.map((c) => c.length)) + 2;
  return [
    'vigil — Bitcoin block validation for Node.js',
    '',
    'Usage: vigil <command> [options]',
    '',
    'Commands:',
    ...COMMAND_NAMES.map((c) => `  ${c.padEnd(width)}${COMMAND_HELP[c].brief}`),
    '',
    "`vigil help <command>` or `vigil <command> --help` lists a command's options.",
    'Options come from the command line, then VIGIL_* environment variables, then a JSON config',
    'file (--config <file> or VIGIL_CONFIG), then defaults.',
    'Results go to stdout; logs and progress to stderr.',
    'Exit status: 0 valid, 1 invalid, 2 usage error, I/O error or our own failure (no verdict on a block).',
    '`vigil --version` prints the version.',
  ].join('\n');
}
