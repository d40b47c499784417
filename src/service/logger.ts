// Structured logs with levels: one line per event, as JSON (for collectors) or as text (for
// people). Fields are plain data; byte arrays print as hex and bigints as decimal strings.

import type { Writable } from 'node:stream';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether a message at `level` would be written (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Default: standard error, so standard output stays for results. */
  stream?: Pick<Writable, 'write'>;
  now?: () => Date;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function isLogFormat(s: string): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s);
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (value instanceof Error) return value.message;
  return value;
}

function textValue(value: unknown): string {
  const v = plain(value);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v, (_k, x: unknown) => plain(x));
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  // A level or format it does not know (a typo, 'verbose') would log everything, or as text.
  if (opts.level !== undefined && !isLogLevel(opts.level)) throw new RangeError(`createLogger: level must be one of ${LOG_LEVELS.join(', ')}`);
  if (opts.format !== undefined && !isLogFormat(opts.format)) throw new RangeError(`createLogger: format must be one of ${LOG_FORMATS.join(', ')}`);
  const min = LOG_LEVELS.indexOf(opts.level ?? 'info');
  const format = opts.format ?? 'text';
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => new Date());

  const make = (bound: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const all = fields === undefined ? bound : { ...bound, ...fields };
      let line: string;
      if (format === 'json') {
        line = JSON.stringify({ time: now().toISOString(), level, msg, ...all }, (_k, x: unknown) => plain(x));
      } else {
        line = `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
        for (const [k, v] of Object.entries(all)) if (v !== undefined) line += ` ${k}=${textValue(v)}`;
      }
      stream.write(line + '\n');
    };
    return {
      level: LOG_LEVELS[min] ?? 'info',
      debug: (m, f) => write('debug', m, f),
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      enabled: (level) => LOG_LEVELS.indexOf(level) >= min,
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

/** A logger that writes nothing (the library's default: an embedder opts in to logs). */
export const silentLogger: Logger = {
  level: 'error',
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  enabled: () => false,
  child: () => silentLogger,
};
