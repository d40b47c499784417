// The command line's options as one declared table: each option's flag, environment variable,
// type, default and commands. Parsing, the precedence between sources, the help text and the
// README's table are all derived from it, so none of them can drift from the others.
// Precedence: command-line flag, then VIGIL_* environment variable, then the config file, then
// the default.

import { readFileSync } from 'node:fs';
import { NETWORK_NAMES } from '../consensus/script-flags.js';
import { SPENT_FILE_FORMATS } from '../spent/index.js';
import { BACKEND_NAMES } from '../script/backends.js';
import { LOG_FORMATS, LOG_LEVELS } from '../service/logger.js';
import { INITIAL_SCORE } from '../service/source-scores.js';
import { MAX_SCRIPT_THREADS } from '../pipeline/workers.js';
import { UsageError } from './io.js';

export const COMMAND_NAMES = ['check-block', 'import', 'generate', 'tip', 'utxo-digest', 'selftest', 'bench', 'serve', 'sources', 'unban'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export function isCommandName(s: string): s is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(s);
}

export type OptionType = 'string' | 'integer' | 'number' | 'boolean' | 'enum';
export type OptionValue = string | number | boolean;
/** Where a resolved value came from. */
export type OptionSource = 'flag' | 'env' | 'file' | 'default';

export interface OptionSpec {
  /** The flag without its dashes (kebab-case), and the key in a config file. */
  readonly name: string;
  readonly env: string;
  readonly type: OptionType;
  /** The allowed values of an enum. */
  readonly values?: readonly string[];
  /** Placeholder for the value in usage lines. */
  readonly arg?: string;
  readonly default?: OptionValue;
  /** Defaults that differ for one command (generate's network is regtest). */
  readonly commandDefaults?: Partial<Record<CommandName, OptionValue>>;
  /** How the default reads in help when it is not a fixed value ("one per core"). */
  readonly defaultText?: string;
  /** Bounds of a number, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** Extra check of a string value: the rule it breaks, or undefined when it is fine. */
  readonly check?: (value: string) => string | undefined;
  readonly commands: readonly CommandName[] | 'all';
  /** What the option does, as the README's table says it for every command. */
  readonly description: string;
  /** How one command's help says it instead, where the general text speaks of another command. */
  readonly commandDescriptions?: Partial<Record<CommandName, string>>;
}

const HASH_OR_ZERO = (v: string): string | undefined => (v === '0' || /^[0-9a-fA-F]{64}$/.test(v) ? undefined : 'must be a block hash (64 hex digits) or 0');

const CHAIN_COMMANDS = ['check-block', 'import', 'selftest', 'serve'] as const;

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'config', env: 'VIGIL_CONFIG', type: 'string', arg: '<file>', commands: 'all', description: 'JSON file of option values, keyed by option name' },
  { name: 'log-level', env: 'VIGIL_LOG_LEVEL', type: 'enum', values: LOG_LEVELS, default: 'info', commands: 'all', description: 'least severe log level written to stderr' },
  { name: 'log-format', env: 'VIGIL_LOG_FORMAT', type: 'enum', values: LOG_FORMATS, default: 'text', commands: 'all', description: 'log lines as text for people or JSON for collectors' },
  { name: 'json', env: 'VIGIL_JSON', type: 'boolean', default: false, commands: ['check-block', 'import', 'generate', 'selftest', 'sources'], description: 'print the result as one JSON object (no progress display)' },
  { name: 'quiet', env: 'VIGIL_QUIET', type: 'boolean', default: false, commands: ['import', 'selftest', 'bench'], description: 'no progress display and no info logs' },
  { name: 'spent', env: 'VIGIL_SPENT', type: 'string', arg: '<file>', defaultText: 'required', commands: ['check-block'], description: "file of the outputs the block's inputs spend" },
  { name: 'spent-format', env: 'VIGIL_SPENT_FORMAT', type: 'enum', values: SPENT_FILE_FORMATS, defaultText: 'required', commands: ['check-block'], description: 'format of the spent-output file' },
  { name: 'network', env: 'VIGIL_NETWORK', type: 'enum', values: NETWORK_NAMES, default: 'main', commandDefaults: { generate: 'regtest' }, commands: ['check-block', 'import', 'generate', 'serve'], description: 'chain parameters (generate: regtest only)', commandDescriptions: { generate: 'chain parameters: regtest only', 'check-block': 'chain parameters', import: 'chain parameters', serve: 'chain parameters' } },
  { name: 'height', env: 'VIGIL_HEIGHT', type: 'integer', min: 0, defaultText: 'from the coinbase (BIP34)', commands: ['check-block'], description: "the block's height" },
  { name: 'no-pow-check', env: 'VIGIL_NO_POW_CHECK', type: 'boolean', default: false, commands: ['check-block'], description: 'skip the proof-of-work comparison (tests on altered blocks)' },
  { name: 'datadir', env: 'VIGIL_DATADIR', type: 'string', arg: '<dir>', defaultText: 'required', commands: ['import', 'tip', 'utxo-digest', 'serve', 'sources', 'unban'], description: 'chain state directory' },
  { name: 'blocks', env: 'VIGIL_BLOCKS', type: 'integer', min: 0, defaultText: 'generate: required', commandDefaults: { selftest: 300 }, commands: ['generate', 'selftest'], description: 'blocks of the regtest chain to make (selftest: 0 skips the sync)', commandDescriptions: { generate: 'blocks of the regtest chain to make', selftest: 'blocks of the regtest chain to make (0 skips the sync)' } },
  { name: 'txs', env: 'VIGIL_TXS', type: 'integer', min: 0, default: 10, commandDefaults: { selftest: 25 }, commands: ['generate', 'selftest'], description: 'transactions per block once coins have matured' },
  { name: 'seed', env: 'VIGIL_SEED', type: 'string', default: '0', commandDefaults: { selftest: 'selftest' }, commands: ['generate', 'selftest'], description: 'seed of the generated keys and choices (same seed, same bytes)' },
  { name: 'out', env: 'VIGIL_OUT', type: 'string', arg: '<dir>', defaultText: 'required', commands: ['generate'], description: 'directory the blk*.dat files are written to' },
  { name: 'workers', env: 'VIGIL_WORKERS', type: 'integer', min: 0, max: MAX_SCRIPT_THREADS, defaultText: 'one per core', commands: CHAIN_COMMANDS, description: 'script-checking threads (0 checks on the main thread)' },
  { name: 'crypto', env: 'VIGIL_CRYPTO', type: 'enum', values: BACKEND_NAMES, default: 'noble', commands: CHAIN_COMMANDS, description: 'signature backend' },
  { name: 'assumevalid', env: 'VIGIL_ASSUMEVALID', type: 'string', arg: '<hash>|0', check: HASH_OR_ZERO, defaultText: "the network's", commands: ['import', 'serve'], description: 'skip scripts of ancestors of this block under Core\'s conditions; 0: check all' },
  { name: 'dbcache', env: 'VIGIL_DBCACHE', type: 'integer', min: 0, default: 8, arg: '<MiB>', commands: ['import'], description: 'memory for UTXO and index changes held between commits (LMDB\'s page copies to commit them included); 0: commit every block' },
  { name: 'port', env: 'VIGIL_PORT', type: 'integer', min: 0, max: 65535, default: 8338, commands: ['serve'], description: 'HTTP port' },
  { name: 'host', env: 'VIGIL_HOST', type: 'string', default: '127.0.0.1', commands: ['serve'], description: 'address the HTTP server listens on' },
  { name: 'queue-size', env: 'VIGIL_QUEUE_SIZE', type: 'integer', min: 1, default: 64, commands: ['serve'], description: 'blocks waiting for validation before submissions are refused' },
  { name: 'rate', env: 'VIGIL_RATE', type: 'number', min: 0.001, default: 20, commands: ['serve'], description: 'blocks per second accepted from one source' },
  { name: 'max-connections', env: 'VIGIL_MAX_CONNECTIONS', type: 'integer', min: 1, default: 1024, commands: ['serve'], description: 'open HTTP connections at most (idle keep-alive ones count); more are closed as they come' },
  { name: 'burst', env: 'VIGIL_BURST', type: 'integer', min: 1, default: 40, commands: ['serve'], description: "size of a source's token bucket" },
  { name: 'ban-score', env: 'VIGIL_BAN_SCORE', type: 'number', max: INITIAL_SCORE - 1, default: 10, commands: ['serve'], description: `score at or below which a source is banned (below the ${INITIAL_SCORE} a new source starts at)` },
  { name: 'ban-violations', env: 'VIGIL_BAN_VIOLATIONS', type: 'integer', min: 1, default: 3, commands: ['serve'], description: 'consensus-invalid blocks from a source before it is banned' },
  { name: 'ban-seconds', env: 'VIGIL_BAN_SECONDS', type: 'integer', min: 0, max: 3_153_600_000, default: 86400, commands: ['serve'], description: 'how long a ban lasts' },
  { name: 'time', env: 'VIGIL_BENCH_TIME', type: 'integer', min: 1, default: 1000, arg: '<ms>', commands: ['bench'], description: 'milliseconds each benchmark task is measured' },
  { name: 'warmup', env: 'VIGIL_BENCH_WARMUP', type: 'integer', min: 0, default: 200, arg: '<ms>', commands: ['bench'], description: 'milliseconds each benchmark task is warmed up first' },
];

export function optionSpec(name: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.name === name);
}

export function takes(spec: OptionSpec, command: CommandName): boolean {
  return spec.commands === 'all' || spec.commands.includes(command);
}

/** The options of one command, in table order. */
export function commandOptions(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => takes(o, command));
}

export function defaultFor(spec: OptionSpec, command: CommandName): OptionValue | undefined {
  return spec.commandDefaults?.[command] ?? spec.default;
}

/** The value placeholder shown after a flag in help. */
export function argText(spec: OptionSpec): string {
  if (spec.type === 'boolean') return '';
  if (spec.arg !== undefined) return spec.arg;
  if (spec.type === 'enum') return (spec.values ?? []).join('|');
  if (spec.type === 'integer' || spec.type === 'number') return '<n>';
  return `<${spec.name}>`;
}

function numberRule(spec: OptionSpec): string {
  const kind = spec.type === 'integer' ? 'integer' : 'number';
  const a = kind === 'integer' ? 'an' : 'a';
  if (spec.min !== undefined && spec.max !== undefined) return `${a} ${kind} from ${spec.min} to ${spec.max}`;
  if (spec.min === 0) return `a non-negative ${kind}`;
  if (spec.min !== undefined) return `${a} ${kind} of at least ${spec.min}`;
  if (spec.max !== undefined) return `${a} ${kind} of at most ${spec.max}`;
  return `${a} ${kind}`;
}

/** An integer as text: decimal digits, a minus sign at most. */
const INTEGER_TEXT = /^-?[0-9]+$/;
/** A number as text: decimal, with a fraction and an exponent where given. */
const NUMBER_TEXT = /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/**
 * Turn a value from the command line, the environment (both text) or a config file (JSON) into
 * the option's type; `where` names the source in the error (`--height`, `VIGIL_HEIGHT`,
 * `vigil.json: "height"`).
 */
export function parseValue(spec: OptionSpec, raw: unknown, where: string, fromText = typeof raw === 'string'): OptionValue {
  switch (spec.type) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (fromText && typeof raw === 'string' && TRUE.includes(raw.toLowerCase())) return true;
      if (fromText && typeof raw === 'string' && FALSE.includes(raw.toLowerCase())) return false;
      throw new UsageError(`${where} must be true or false${fromText ? ` (got "${raw}")` : ''}`);
    }
    case 'integer':
    case 'number': {
      // Text in plain decimal only: Number() also reads hex, octal, binary, exponents and padding
      // ('0x10' is 16, ' 1e1 ' is 10), so a typo or a foreign notation became another value unsaid.
      const form = spec.type === 'integer' ? INTEGER_TEXT : NUMBER_TEXT;
      const n = typeof raw === 'number' ? raw : fromText && typeof raw === 'string' && form.test(raw) ? Number(raw) : NaN;
      const whole = spec.type === 'integer' ? Number.isSafeInteger(n) : Number.isFinite(n);
      if (!whole || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`${where} must be ${numberRule(spec)}${fromText ? ` (got "${raw}")` : ''}`);
      }
      return n;
    }
    case 'enum': {
      const values = spec.values ?? [];
      if (typeof raw !== 'string' || !values.includes(raw)) throw new UsageError(`${where} must be one of ${values.join(', ')}${fromText ? ` (got "${raw}")` : ''}`);
      return raw;
    }
    case 'string': {
      if (typeof raw !== 'string') throw new UsageError(`${where} must be a string`);
      const problem = spec.check?.(raw);
      if (problem !== undefined) throw new UsageError(`${where} ${problem}`);
      return raw;
    }
  }
}

/** What the command line holds before it is checked against a command. */
export interface ParsedArgs {
  positionals: string[];
  /** Flag values as typed (booleans as true/false), keyed by option name. */
  flags: Map<string, string | boolean>;
  help: boolean;
  version: boolean;
}

/**
 * Split the arguments into positionals and flags: `--name value`, `--name=value`, `--flag`,
 * `--no-flag` (a boolean set to false, so a flag can undo an environment or file value) and
 * `--` (everything after it is positional). Unknown options are usage errors.
 */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Map(), help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (arg === '--version') {
      out.version = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    let spec = optionSpec(name);
    let negated = false;
    if (spec === undefined && name.startsWith('no-')) {
      const base = optionSpec(name.slice(3));
      if (base?.type === 'boolean') {
        spec = base;
        negated = true;
      }
    }
    if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (negated && inline !== undefined) throw new UsageError(`--${name} takes no value`);
      out.flags.set(spec.name, negated ? false : (inline ?? true));
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value (${argText(spec)})`);
      out.flags.set(spec.name, value);
    }
  }
  return out;
}

/** The resolved options of one command run. */
export class ResolvedOptions {
  constructor(
    readonly command: CommandName,
    private readonly values: ReadonlyMap<string, { value: OptionValue; source: OptionSource }>,
  ) {}

  source(name: string): OptionSource | undefined {
    return this.values.get(name)?.source;
  }

  string(name: string): string | undefined {
    const v = this.values.get(name)?.value;
    return v === undefined ? undefined : String(v);
  }

  number(name: string): number | undefined {
    const v = this.values.get(name)?.value;
    return typeof v === 'number' ? v : undefined;
  }

  bool(name: string): boolean {
    return this.values.get(name)?.value === true;
  }

  /** A value the command cannot do without: a usage error naming every way to give it. */
  require(name: string, why = `${this.command} needs --${name}`): string {
    const v = this.string(name);
    if (v !== undefined) return v;
    const spec = optionSpec(name);
    throw new UsageError(`${why}${spec === undefined ? '' : ` ${argText(spec)} (or ${spec.env})`}`);
  }

  requireNumber(name: string): number {
    const v = this.number(name);
    if (v !== undefined) return v;
    const spec = optionSpec(name);
    throw new UsageError(`${this.command} needs --${name} ${spec === undefined ? '' : `${argText(spec)} (or ${spec.env})`}`.trimEnd());
  }
}

/**
 * Read a config file: a JSON object whose keys are option names. An unknown key is an error (a typo
 * would otherwise go unnoticed); a value is checked only when a command that takes the option asks
 * for it (resolveOptions), as the environment's are.
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`config file ${path} must hold a JSON object`);
  const raw = new Map<string, unknown>();
  for (const [key, value] of Object.entries(doc)) {
    const spec = optionSpec(key);
    if (spec === undefined) throw new UsageError(`config file ${path}: unknown option "${key}"`);
    if (spec.name === 'config') throw new UsageError(`config file ${path}: "config" cannot name another config file`);
    raw.set(key, value);
  }
  return {
    // JSON's own types: a number in quotes is a string, and a mistake.
    value: (spec) => (raw.has(spec.name) ? parseValue(spec, raw.get(spec.name), `config file ${path}: "${spec.name}"`, false) : undefined),
  };
}

/** A config file read by readConfigFile. */
export interface ConfigFile {
  /** The option's value, checked against its spec (a UsageError naming the file and key), or undefined when the file does not set it. */
  value(spec: OptionSpec): OptionValue | undefined;
}

const NO_CONFIG_FILE: ConfigFile = { value: () => undefined };

/**
 * Resolve every option `command` takes: flag, then environment, then config file, then default.
 * A flag the command does not take is a usage error; environment and file values for other
 * commands' options are left alone (one config file can serve every command).
 */
export function resolveOptions(command: CommandName, parsed: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  for (const name of parsed.flags.keys()) {
    const spec = optionSpec(name)!;
    if (!takes(spec, command)) throw new UsageError(`${command} does not take --${name} (see vigil help ${command})`);
  }
  const envValue = (spec: OptionSpec): string | undefined => {
    const v = env[spec.env];
    return v === undefined || v === '' ? undefined : v;
  };
  const configSpec = optionSpec('config')!;
  const configFlag = parsed.flags.get('config');
  const configPath = typeof configFlag === 'string' ? configFlag : envValue(configSpec);
  const file = configPath === undefined ? NO_CONFIG_FILE : readConfigFile(configPath);

  const values = new Map<string, { value: OptionValue; source: OptionSource }>();
  for (const spec of commandOptions(command)) {
    const flag = parsed.flags.get(spec.name);
    const fromEnv = envValue(spec);
    const fromFile = flag === undefined && fromEnv === undefined ? file.value(spec) : undefined;
    const fallback = defaultFor(spec, command);
    if (flag !== undefined) values.set(spec.name, { value: typeof flag === 'boolean' ? flag : parseValue(spec, flag, `--${spec.name}`), source: 'flag' });
    else if (fromEnv !== undefined) values.set(spec.name, { value: parseValue(spec, fromEnv, spec.env), source: 'env' });
    else if (fromFile !== undefined) values.set(spec.name, { value: fromFile, source: 'file' });
    else if (fallback !== undefined) values.set(spec.name, { value: fallback, source: 'default' });
  }
  return new ResolvedOptions(command, values);
}

/** The default as help and the README show it. */
export function defaultText(spec: OptionSpec, command?: CommandName): string {
  const own = command === undefined ? undefined : spec.commandDefaults?.[command];
  if (own !== undefined) return String(own);
  const parts: string[] = [];
  if (spec.default !== undefined) parts.push(spec.type === 'boolean' ? String(spec.default) : String(spec.default));
  else if (spec.defaultText !== undefined && command === undefined) parts.push(spec.defaultText);
  else if (spec.defaultText !== undefined) parts.push(spec.defaultText.replace(/^[a-z-]+: /, ''));
  if (command === undefined) for (const [cmd, v] of Object.entries(spec.commandDefaults ?? {})) parts.push(`${cmd}: ${String(v)}`);
  return parts.join('; ');
}

function typeText(spec: OptionSpec): string {
  if (spec.type === 'enum') return (spec.values ?? []).join(' \\| ');
  return spec.type;
}

/** The options table for the README (markdown); a test keeps the README's copy equal to it. */
export function renderOptionsMarkdown(): string {
  const rows = OPTIONS.map((o) => {
    const cmds = o.commands === 'all' ? 'all' : o.commands.join(', ');
    return `| \`--${o.name}\` | \`${o.env}\` | ${typeText(o)} | ${defaultText(o) || '–'} | ${cmds} | ${o.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| option | environment | type | default | commands | description |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n';
}
