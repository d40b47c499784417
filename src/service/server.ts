// `vigil serve`: blocks come in over HTTP, wait in the bounded ingest queue, and go through the
// chain one at a time. Every answer says what happened: 200 valid, 422 invalid (Core's reason),
// 400 not a block, 403 banned source, 429 over its rate, 503 queue full or shutting down, 500
// our own failure. A 2xx or 422 answer is sent only after the block was processed and its
// source's score stored.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ChainState, ProcessResult } from '../chain/chain-state.js';
import { MAX_BLOCK_SERIALIZED_SIZE } from '../consensus/consensus.js';
import { hexToHash, toHex } from '../primitives/bytes.js';
import type { ScriptPool } from '../pipeline/script-pool.js';
import { VigilMetrics } from '../metrics/metrics.js';
import { BLOCK_VALID_SCRIPTS } from '../store/index.js';
import { checkHealth, type HealthReport } from './health.js';
import { IngestQueue, QueueClosedError } from './ingest-queue.js';
import { silentLogger, type Logger } from './logger.js';
import { RateLimiter } from './rate-limit.js';
import { checkSourceName, outcomeOf, SourceBook, type ScorePolicy, type SourceOutcome, type SourceView } from './source-scores.js';

export interface ServiceOptions {
  chain: ChainState;
  /** The pool the chain verifies scripts with (for health and metrics); undefined: main thread. */
  pool?: ScriptPool;
  /** Metrics to feed; the chain must have been opened with `metrics.chainObserver()` as its observer. */
  metrics?: VigilMetrics;
  logger?: Logger;
  /** Blocks waiting or in flight, at most (default 64). */
  queueSize?: number;
  /** Bytes of blocks waiting or in flight, at most (default 256 MiB): a positive integer, or Infinity for no byte bound. */
  queueBytes?: number;
  /**
   * Open HTTP connections at most (default 1,024; a client's idle keep-alive sockets count): one
   * more is closed as it comes, so idle or slow clients cannot use up the file descriptors the
   * store's files need.
   */
  maxConnections?: number;
  /** Submissions per second per source, on average (default 20), and the largest burst (default 40). */
  rate?: number;
  burst?: number;
  policy?: ScorePolicy;
  /** Health turns `degraded` when the tip is older than this (seconds; default one day). */
  maxTipAgeSeconds?: number;
  /** Milliseconds since the epoch (tests move time). */
  clock?: () => number;
}

interface Job {
  raw: Uint8Array;
  source: string;
}

/** A block the chain processed, with what it says of its source (recorded already). */
interface Processed {
  result: ProcessResult;
  outcome: SourceOutcome;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** ServiceOptions.maxConnections' default. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** The read-only paths with no parameter (beside /sources/:source and /coins/:txid/:vout). */
const READ_PATHS = new Set(['/tip', '/health', '/metrics', '/sources']);

/** Refused connections are logged at most this often (ms): a flood must not flood the log too. */
const REFUSED_LOG_MS = 60_000;

/** The hex body of a block, at most: two digits a byte plus a little whitespace. */
const MAX_HEX_BODY = MAX_BLOCK_SERIALIZED_SIZE * 2 + 2;
/** Side-branch blocks whose sender is remembered (blockSources). */
const MAX_BLOCK_SOURCES = 10_000;
/**
 * A client that sends requests without reading the answers has them held for it: Node answers
 * pipelined requests in order, holding each answer until those before it are taken. A connection
 * with more than this many answers not yet handed to it, or with more than MAX_UNREAD_BYTES of
 * answers it has not read, is closed at its next request (no HTTP client pipelines this deep).
 */
const MAX_PIPELINED = 8;
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;
/** How often Node checks requestTimeout and headersTimeout (ms; its default, 30 s, let a 60 s upload run 90 s). */
const TIMEOUT_CHECK_MS = 5_000;
/** Bodies one source is sending may hold at most 1/SOURCE_SHARE of the byte budget (beside one body). */
const SOURCE_SHARE = 4;

/** Bytes of the buffers a body being read is copied into (readBody). */
const BODY_SLAB = 16 * 1024;

class BodyTooLarge extends Error {}
class OverBudget extends Error {}

/**
 * `take(n)`: count n more bytes held; false when that would pass the ingest budget (the read stops).
 * `goOn()` is called once a declared length has passed its check, before the body is read.
 */
function readBody(req: IncomingMessage, limit: number, take: (n: number) => boolean = () => true, goOn: () => void = () => {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    goOn();
    // Chunks are copied into slabs of BODY_SLAB bytes: Node hands over each read as its own Buffer,
    // and a body trickled a byte per packet held a Buffer object (about 150 bytes of heap) for
    // every byte the budget counted.
    let parts: Buffer[] = [];
    let slab: Buffer | undefined;
    let used = 0;
    let size = 0;
    // The request lives until it is answered, after the block was processed: once settled, no
    // listener may keep the chunks, or this promise (and so the body) reachable from it.
    const settle = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.on('error', ignore);
      parts = [];
      slab = undefined;
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        settle();
        reject(new BodyTooLarge());
        return;
      }
      if (!take(chunk.length)) {
        settle();
        reject(new OverBudget());
        return;
      }
      for (let at = 0; at < chunk.length; ) {
        slab ??= Buffer.allocUnsafe(BODY_SLAB);
        const n = chunk.copy(slab, used, at);
        at += n;
        used += n;
        if (used === BODY_SLAB) {
          parts.push(slab);
          slab = undefined;
          used = 0;
        }
      }
    };
    const onEnd = (): void => {
      // The last slab's part, copied: a small block kept in the queue holds its own bytes only.
      if (used > 0) parts.push(Buffer.from(slab!.subarray(0, used)));
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      settle();
      resolve(body);
    };
    const onError = (err: Error): void => {
      settle();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

const ignore = (): void => {};

/** The block's bytes from a body read whole (hex or raw); a string: why it is not one. */
function blockBytes(body: Buffer, hex: boolean): Uint8Array | string {
  if (!hex) return body;
  const text = body.toString('latin1').trim();
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return 'the body is not hex';
  return Buffer.from(text, 'hex');
}

export class VigilService {
  readonly metrics: VigilMetrics;
  readonly sources: SourceBook;
  readonly limiter: RateLimiter;
  readonly queue: IngestQueue<Job, Processed | 'banned'>;
  private readonly log: Logger;
  private readonly chain: ChainState;
  private readonly clock: () => number;
  private server: Server | undefined;
  private closing: Promise<void> | undefined;
  /** Bytes of bodies being read, as received so far. */
  private readingBytes = 0;
  /** The last store write that failed, until one succeeds again (for health). */
  private storeWriteError: string | undefined;
  /**
   * Who sent each block stored beside the active chain lately (Core's mapBlockSource), oldest
   * first: such a block may be found invalid only when a later block gives its branch the most
   * work, and then its sender is the one to blame.
   */
  private readonly blockSources = new Map<string, string>();
  /** Connections refused at the cap since the last warning about them, and when that was. */
  private refused = { count: 0, loggedAt: -Infinity };
  /** The source list sourceList() read last, when, and the /sources answer made of it (sourcesBody). */
  private listed: { at: number; list: SourceView[]; body?: Buffer } | undefined;
  /** The /metrics text being rendered: requests that come meanwhile share it. */
  private rendering: Promise<Buffer> | undefined;
  /** Answers each connection has asked for and not yet been handed (MAX_PIPELINED). */
  private readonly unanswered = new WeakMap<Socket, number>();
  /** Requests Node handed over by 'checkContinue' (HTTP/1.1, an Expect it matched): they await `100 Continue`. */
  private readonly awaitingContinue = new WeakSet<IncomingMessage>();
  /** Bytes of the bodies each source is sending now (held against SOURCE_SHARE); gone when none. */
  private readonly readingBySource = new Map<string, number>();

  constructor(private readonly opts: ServiceOptions) {
    const cap = opts.maxConnections;
    if (cap !== undefined && !(Number.isSafeInteger(cap) && cap >= 1)) throw new RangeError(`maxConnections must be a positive integer, got ${String(cap)}`);
    // Unchecked, 0 or less answered every submission 503 (the budget always spent, even with
    // nothing held), and NaN passed every comparison: no byte bound at all.
    const bytes = opts.queueBytes;
    if (bytes !== undefined && !((Number.isSafeInteger(bytes) && bytes >= 1) || bytes === Number.POSITIVE_INFINITY)) {
      throw new RangeError(`queueBytes must be a positive integer (or Infinity: no byte bound), got ${String(bytes)}`);
    }
    this.chain = opts.chain;
    this.clock = opts.clock ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.sources = new SourceBook(opts.chain.store, opts.policy, this.clock);
    this.limiter = new RateLimiter({ rate: opts.rate ?? 20, burst: opts.burst ?? 40, clock: this.clock });
    this.queue = new IngestQueue<Job, Processed | 'banned'>((job) => this.processJob(job), (job) => job.raw.length, {
      capacity: opts.queueSize ?? 64,
      maxBytes: opts.queueBytes ?? 256 * 1024 * 1024,
    });
    const pool = opts.pool;
    this.metrics = opts.metrics ?? new VigilMetrics();
    this.metrics.bind({
      utxoCount: () => this.chain.store.utxoCount(),
      queueDepth: () => this.queue.depth,
      sourceScores: () => this.sourceList(),
      ...(pool === undefined
        ? {}
        : {
            workerBusyRatio: () => pool.utilization,
            signatures: () => pool.stats,
            sigCacheHits: () => pool.sigCache?.hits ?? 0,
          }),
    });
  }

  /**
   * Listen on `port` (0: any free port); resolves with the bound address. Once only: a second
   * server, or one started after close(), would never be closed and would keep the process alive.
   */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.closing !== undefined) return Promise.reject(new Error('VigilService.listen after close(): the service is closed'));
    if (this.server !== undefined) return Promise.reject(new Error('VigilService.listen: the service is already listening'));
    // Node would take a string that is no number as the path of a Unix socket, and a host that is
    // no string as no host at all (every interface).
    if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`VigilService.listen: port must be an integer in 0..65535, got ${String(port)}`));
    if (typeof host !== 'string') return Promise.reject(new TypeError('VigilService.listen: host must be a string'));
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const socket = req.socket;
      const waiting = (this.unanswered.get(socket) ?? 0) + 1;
      if (waiting > MAX_PIPELINED || socket.writableLength > MAX_UNREAD_BYTES) {
        this.log.debug('connection closed: it does not read its answers', { waiting, unreadBytes: socket.writableLength });
        socket.destroy();
        return;
      }
      this.unanswered.set(socket, waiting);
      res.once('close', () => this.unanswered.set(socket, (this.unanswered.get(socket) ?? 1) - 1));
      this.handle(req, res).catch((err: unknown) => {
        // A client that hung up (or was cut at shutdown) mid-body is no failure of ours.
        if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') this.log.debug('client went away', { method: req.method, url: req.url });
        else this.log.error('request failed', { method: req.method, url: req.url, error: err as Error });
        if (!res.headersSent) this.send(res, { status: 500, body: { error: 'internal-error' } });
        else res.destroy();
      });
    };
    const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_MS }, onRequest);
    // `Expect: 100-continue`: Node would send `100 Continue` at once. Handled here, a submission is
    // told to go on only once the shutdown, ban, rate and budget checks have let it (submit), so a
    // refused client never sends its body; any other request gets its final answer directly.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      this.awaitingContinue.add(req);
      onRequest(req, res);
    });
    // A client that half-closes once it has sent its request (shuts down its write side, as
    // `nc -N` does) still gets its answer, then the connection closes. By default Node ends the
    // socket at the client's FIN and aborts the request, so a block's verdict, answered later, was
    // never sent. Node has no option for it: this is the property its own server tests set.
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Slow or silent clients must not hold a block's worth of memory for long.
    server.requestTimeout = 60_000;
    server.headersTimeout = 20_000;
    // Nor many sockets: past the cap Node closes each new connection as it comes ('drop').
    const cap = this.opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.maxConnections = cap;
    server.on('drop', () => {
      this.refused.count++;
      const now = this.clock();
      if (now - this.refused.loggedAt < REFUSED_LOG_MS) return;
      this.log.warn('connections refused: the connection cap is reached', { refused: this.refused.count, maxConnections: cap });
      this.refused = { count: 0, loggedAt: now };
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => {
        server.off('error', failed);
        server.off('close', closedFirst);
        // Nothing listens (a taken port): another listen() may try again.
        if (this.server === server) this.server = undefined;
        reject(err);
      };
      // close() while the address was still being bound: nothing will listen, and no 'listening' comes.
      const closedFirst = (): void => failed(new Error('VigilService.listen: the service was closed before it listened'));
      server.once('error', failed);
      server.once('close', closedFirst);
      try {
        server.listen(port, host, () => {
          server.off('error', failed);
          server.off('close', closedFirst);
          resolve(server.address() as AddressInfo);
        });
      } catch (err) {
        // A port out of range, thrown rather than emitted.
        failed(err as Error);
      }
    });
  }

  // ---- routing -------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://vigil').pathname;
    } catch {
      return this.send(res, { status: 400, body: { error: 'malformed request target' } }, req);
    }
    const method = req.method ?? 'GET';
    if (path === '/blocks') {
      if (method !== 'POST') return this.send(res, { status: 405, body: { error: 'use POST' }, headers: { allow: 'POST' } }, req);
      let a: Answer;
      try {
        a = await this.submit(req, () => {
          // Only where Node held the 100 back: never to an HTTP/1.0 client (RFC 9110 §10.1.1).
          if (this.awaitingContinue.has(req)) res.writeContinue();
        });
      } catch (err) {
        // Our own failure, answered 500 by the request's handler: counted, as every answer to a
        // submission is (a client that went away gets no answer).
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') this.metrics.submissions.inc({ outcome: 'error' });
        throw err;
      }
      return this.send(res, a, req);
    }
    const one = /^\/sources\/([^/]+)$/.exec(path);
    const coin = /^\/coins\/([^/]+)\/([^/]+)$/.exec(path);
    // A path nothing answers is 404 whatever the method; 405 says the path exists.
    if (!READ_PATHS.has(path) && one === null && coin === null) return this.send(res, { status: 404, body: { error: 'not found' } }, req);
    if (method !== 'GET' && method !== 'HEAD') return this.send(res, { status: 405, body: { error: 'use GET' }, headers: { allow: 'GET, HEAD' } }, req);
    // Node would read and drop a GET's body, however long, without limit: refused, the connection closed.
    const declared = req.headers['content-length'];
    if ((declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined) {
      return this.send(res, { status: 400, body: { error: `a ${method} takes no body` } }, req);
    }
    if (path === '/tip') return this.send(res, { status: 200, body: this.tip() });
    if (path === '/health') {
      const h = this.health();
      return this.send(res, { status: h.status === 'unhealthy' ? 503 : 200, body: h });
    }
    if (path === '/metrics') {
      const text = await this.metricsBody();
      res.writeHead(200, { 'content-type': this.metrics.contentType, 'content-length': text.length });
      res.end(text);
      return;
    }
    if (path === '/sources') return this.send(res, { status: 200, body: this.sourcesBody() });
    if (one !== null) return this.send(res, this.source(one[1]!));
    return this.send(res, this.coin(coin![1]!, coin![2]!));
  }

  /** Answer `a` as JSON; a Buffer body is sent as it is (JSON made once for many answers). */
  private send(res: ServerResponse, a: Answer, unread?: IncomingMessage): void {
    const body = Buffer.isBuffer(a.body) ? a.body : JSON.stringify(a.body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...a.headers };
    // An answer sent before the body was read ends the connection: the rest of the body is not wanted.
    if (unread !== undefined && !unread.complete) {
      headers.connection = 'close';
      unread.resume();
    }
    if (this.closing !== undefined) headers.connection = 'close';
    res.writeHead(a.status, headers);
    res.end(body);
  }

  /**
   * Every source, read at most once a second: the list reads and decodes up to maxRecords
   * records on the main thread (~100 ms at 10,000), and /sources and /metrics are anyone's to call.
   */
  private sourceList(): SourceView[] {
    const now = Date.now();
    if (this.listed === undefined || now - this.listed.at >= 1000) this.listed = { at: now, list: this.sources.list() };
    return this.listed.list;
  }

  /** The /sources answer (up to 4 MB of JSON at 10,000 sources): made once a list, every answer meanwhile sends this one Buffer. */
  private sourcesBody(): Buffer {
    const list = this.sourceList();
    return (this.listed!.body ??= Buffer.from(JSON.stringify({ sources: list })));
  }

  /** The metrics text; requests that come while it is rendered share that rendering. */
  private metricsBody(): Promise<Buffer> {
    this.rendering ??= this.metrics.text().then(
      (text) => {
        this.rendering = undefined;
        return Buffer.from(text);
      },
      (err: unknown) => {
        this.rendering = undefined;
        throw err;
      },
    );
    return this.rendering;
  }

  tip(): { hash: string; height: number; chainwork: string } {
    const t = this.chain.tip;
    return { hash: t.hex, height: t.height, chainwork: t.chainWork.toString(16).padStart(64, '0') };
  }

  health(): HealthReport {
    return checkHealth({
      chain: this.chain,
      pool: this.opts.pool,
      queue: {
        depth: this.queue.depth,
        capacity: this.queue.opts.capacity,
        closed: this.queue.isClosed,
        bytes: this.readingBytes + this.queue.queuedBytes,
        maxBytes: this.queue.opts.maxBytes,
      },
      ...(this.storeWriteError === undefined ? {} : { storeWriteError: this.storeWriteError }),
      ...(this.sources.lastError === undefined ? {} : { scoreWriteError: this.sources.lastError.message }),
      maxTipAgeSeconds: this.opts.maxTipAgeSeconds ?? 86_400,
      now: Math.floor(this.clock() / 1000),
    });
  }

  private coin(txidHex: string, voutText: string): Answer {
    if (!/^[0-9a-fA-F]{64}$/.test(txidHex)) return { status: 400, body: { error: 'txid must be 64 hex digits' } };
    const vout = Number(voutText);
    if (!/^\d{1,10}$/.test(voutText) || vout > 0xffffffff) return { status: 400, body: { error: 'vout must be an integer in 0..4294967295' } };
    const c = this.chain.store.getCoin(hexToHash(txidHex), vout);
    if (c === undefined) return { status: 404, body: { error: 'no such unspent output' } };
    return {
      status: 200,
      body: { txid: txidHex.toLowerCase(), vout, value: c.value, scriptPubKey: toHex(c.scriptPubKey), height: c.height, coinbase: c.coinbase },
    };
  }

  /** One source's record, named as X-Vigil-Source names it (percent-encoded in the path). */
  private source(encoded: string): Answer {
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      return { status: 400, body: { error: 'malformed source name' } };
    }
    const bad = checkSourceName(name);
    if (bad !== undefined) return { status: 400, body: { error: bad } };
    const view = this.sources.find(name);
    return view === undefined ? { status: 404, body: { error: 'unknown source' } } : { status: 200, body: view };
  }

  // ---- ingest --------------------------------------------------------------------------------------

  private sourceOf(req: IncomingMessage): string | Answer {
    const header = req.headers['x-vigil-source'];
    const name = typeof header === 'string' ? header.trim() : (req.socket.remoteAddress ?? 'unknown');
    const bad = checkSourceName(name);
    return bad === undefined ? name : { status: 400, body: { error: `X-Vigil-Source: ${bad}` } };
  }

  private refuse(outcome: SourceOutcome | 'rate_limited' | 'banned' | 'queue_full' | 'too_large' | 'shutting_down', a: Answer): Answer {
    this.metrics.submissions.inc({ outcome });
    return a;
  }

  /** A POST /blocks: checks, body, queue, answer. `goOn` is called once the body is wanted (100 Continue). */
  private async submit(req: IncomingMessage, goOn: () => void): Promise<Answer> {
    if (this.closing !== undefined) return this.refuse('shutting_down', { status: 503, body: { error: 'shutting down' }, headers: { 'retry-after': '5' } });
    const source = this.sourceOf(req);
    if (typeof source !== 'string') return this.refuse('malformed', source);
    if (this.sources.get(source).bannedUntil !== 0) return this.banned(source);
    const take = this.limiter.take(source);
    if (!take.ok) {
      return this.refuse('rate_limited', {
        status: 429,
        body: { error: 'over the rate limit', source, retryAfterSeconds: take.retryAfterSeconds },
        headers: { 'retry-after': String(take.retryAfterSeconds) },
      });
    }
    const hex = (req.headers['content-type'] ?? '').toLowerCase().startsWith('text/plain');
    const limit = hex ? MAX_HEX_BODY : MAX_BLOCK_SERIALIZED_SIZE;
    // Bodies being read count against the same byte budget as the queue, by the bytes they have
    // actually sent: a client that declares a large body (or none) and trickles it holds only
    // what it sent, so slow uploads cannot lock others out. A body that would pass the budget is
    // cut with 503. As the queue does, one body is always let in when nothing else holds any.
    // One source's bodies being read may hold a quarter of the budget (or one body, when it reads
    // no other): trickling uploads from one source cannot keep the rest out.
    if (this.readingBytes + this.queue.queuedBytes >= this.queue.opts.maxBytes) return this.queueFull();
    const share = this.queue.opts.maxBytes / SOURCE_SHARE;
    let counted = 0;
    const hold = (n: number): boolean => {
      const others = this.readingBytes - counted + this.queue.queuedBytes;
      if (others > 0 && others + counted + n > this.queue.opts.maxBytes) return false;
      const mine = this.readingBySource.get(source) ?? 0;
      if (mine - counted > 0 && mine + n > share) return false;
      counted += n;
      this.readingBytes += n;
      this.readingBySource.set(source, mine + n);
      return true;
    };
    let raw: Uint8Array | string;
    try {
      raw = blockBytes(await readBody(req, limit, hold, goOn), hex);
    } catch (err) {
      if (err instanceof BodyTooLarge) return this.tooLarge();
      if (err instanceof OverBudget) return this.queueFull();
      throw err;
    } finally {
      this.readingBytes -= counted;
      const left = (this.readingBySource.get(source) ?? 0) - counted;
      if (left > 0) this.readingBySource.set(source, left);
      else this.readingBySource.delete(source);
    }
    // A hex body may decode to more than a block can be: the same 413 as a raw one, unscored.
    if (typeof raw !== 'string' && raw.length > MAX_BLOCK_SERIALIZED_SIZE) return this.tooLarge();
    if (typeof raw === 'string') {
      this.sources.record(source, 'malformed');
      return this.refuse('malformed', { status: 400, body: { error: raw } });
    }
    if (raw.length === 0) {
      this.sources.record(source, 'malformed');
      return this.refuse('malformed', { status: 400, body: { error: 'empty body' } });
    }
    const pending = this.queue.offer({ raw, source });
    if (pending === undefined) {
      if (this.queue.isClosed) return this.refuse('shutting_down', { status: 503, body: { error: 'shutting down' }, headers: { 'retry-after': '5' } });
      return this.queueFull();
    }
    let r: Processed | 'banned';
    try {
      r = await pending;
    } catch (err) {
      if (err instanceof QueueClosedError) return this.refuse('shutting_down', { status: 503, body: { error: 'shutting down before this block was processed' }, headers: { 'retry-after': '5' } });
      throw err;
    }
    if (r === 'banned') return this.banned(source);
    return this.answer(source, r.result, r.outcome);
  }

  private queueFull(): Answer {
    return this.refuse('queue_full', { status: 503, body: { error: 'the ingest queue is full', depth: this.queue.depth }, headers: { 'retry-after': '1' } });
  }

  private tooLarge(): Answer {
    return this.refuse('too_large', { status: 413, body: { error: `a block is at most ${MAX_BLOCK_SERIALIZED_SIZE} bytes` } });
  }

  private banned(source: string): Answer {
    const rec = this.sources.get(source);
    const retryAfterSeconds = Math.ceil((rec.bannedUntil - this.clock()) / 1000);
    return this.refuse('banned', { status: 403, body: { error: 'source is banned', source, reason: rec.banReason, retryAfterSeconds } });
  }

  /** Runs in queue order, one block at a time. */
  private async processJob(job: Job): Promise<Processed | 'banned'> {
    // A source banned while its blocks waited gets no more of our time (Core disconnects at once).
    // Its outcomes are recorded here, in queue order, so a ban takes effect from its next block on.
    if (this.sources.get(job.source).bannedUntil !== 0) return 'banned';
    const tipBefore = this.chain.tip.hex;
    const r = await this.chain.processBlock(job.raw);
    this.metrics.blockResult(r.result);
    // Still pending after this block: the activation taken up before it (processBlock takes one up
    // first) failed again, or this block's own did (then it is r.result). The first is our own
    // failure too, though no answer carries it.
    const stopped = this.chain.pendingActivationError;
    if (stopped !== undefined && r.result.mode !== 'error') this.metrics.blockResult(stopped);
    if (r.result.mode === 'error' && r.result.reason === 'store-write-failed') this.storeWriteError = r.result.debug ?? r.result.reason;
    // The activation taken up before this block (our earlier failure) committed part of its
    // branch, then failed to write again: that failure, not in this block's answer, is the last.
    else if (stopped?.mode === 'error' && stopped.reason === 'store-write-failed') this.storeWriteError = stopped.debug ?? stopped.reason;
    // A commit went through: a new block was stored, or the tip moved (a known block's branch
    // activated again after a failed commit, answered as a duplicate).
    else if ((r.result.mode === 'valid' && !r.duplicate) || r.tip.hash !== tipBefore) this.storeWriteError = undefined;
    // A block that became the tip was found valid; one stored beside the active chain may not be.
    // So may one our own failure kept from being judged (it is stored, and judged when the
    // activation is taken up again): its first sender is the one to blame then (Core's
    // mapBlockSource keeps the first sender too).
    const unjudged = r.result.mode === 'error' && r.hash !== '' && !this.blockSources.has(r.hash);
    if (unjudged || (r.result.mode === 'valid' && !r.duplicate && r.tip.hash !== r.hash)) {
      this.blockSources.set(r.hash, job.source);
      if (this.blockSources.size > MAX_BLOCK_SOURCES) this.blockSources.delete(this.blockSources.keys().next().value!);
    }
    // As Core's BlockChecked: a block found invalid while connecting this one's branch costs the
    // source that sent it, not the sender of this block.
    // A known block judged only now (an activation our own failure stopped, taken up again by this
    // resend and found invalid at the block itself) is blamed as one found on resume: its first
    // sender pays, and the resend of a known block is no offence.
    const ownJudged = r.duplicate && r.result.mode === 'invalid' && r.result.reason !== 'duplicate-invalid' && r.hash !== '' && r.result.reason !== 'bad-prevblk';
    for (const x of r.invalidated ?? []) this.metrics.blockResult(x.result);
    for (const x of [...(r.invalidated ?? []), ...(ownJudged ? [{ hash: r.hash, height: r.height ?? -1, result: r.result }] : [])]) {
      const sender = this.blockSources.get(x.hash);
      if (sender === undefined || x.result.mode !== 'invalid') continue;
      this.blockSources.delete(x.hash);
      const rec = this.sources.record(sender, 'invalid');
      this.log.warn('block found invalid once its branch had the most work', { source: sender, hash: x.hash, height: x.height, reason: x.result.reason, score: rec.score });
    }
    // This block's own branch held the block found invalid (bad-prevblk, with the ancestor in
    // r.invalidated): Core does not punish the peer whose block made the branch worth trying.
    const blamedElsewhere = r.result.mode === 'invalid' && r.result.reason === 'bad-prevblk' && (r.invalidated?.length ?? 0) > 0;
    const outcome = blamedElsewhere ? 'unconnected' : ownJudged ? 'duplicate' : outcomeOf(r.result, r.duplicate);
    const rec = this.sources.record(job.source, outcome);
    if (rec.bannedUntil > this.clock() && outcome !== 'valid' && outcome !== 'duplicate') {
      this.log.warn('source banned', { source: job.source, score: rec.score, violations: rec.violations, reason: rec.banReason, until: new Date(rec.bannedUntil).toISOString() });
    }
    return { result: r, outcome };
  }

  private answer(source: string, r: ProcessResult, outcome: SourceOutcome): Answer {
    this.metrics.submissions.inc({ outcome });
    const res = r.result;
    const at = { hash: r.hash, ...(r.height === undefined ? {} : { height: r.height }) };
    switch (res.mode) {
      case 'valid':
        this.log.debug('block accepted', { source, ...at, duplicate: r.duplicate, connected: r.connected, tip: r.tip.height });
        // Stored on a side branch, its transactions unchecked: neither valid nor invalid yet (Core's
        // submitblock answers `inconclusive`). One checked when it was connected, and taken off the
        // active chain by a reorganisation since, is valid (Core: `duplicate`, BLOCK_VALID_SCRIPTS).
        if (!r.connected && ((this.chain.getNode(r.hash)?.status ?? 0) & BLOCK_VALID_SCRIPTS) === 0) {
          return { status: 200, body: { valid: null, reason: 'inconclusive', ...at, duplicate: r.duplicate, connected: false, tip: r.tip } };
        }
        return { status: 200, body: { valid: true, ...at, duplicate: r.duplicate, connected: r.connected, tip: r.tip } };
      case 'error':
        this.log.error('internal error on a block', { source, ...at, reason: res.reason, debug: res.debug });
        return { status: 500, body: { valid: null, error: res.reason, ...at } };
      default: {
        const body: Record<string, unknown> = { valid: false, reason: res.reason, mode: res.mode, ...at };
        if (res.debug !== undefined) body.debug = res.debug;
        if (res.mode === 'invalid' && res.txIndex !== undefined) body.txIndex = res.txIndex;
        if (res.mode === 'invalid' && res.inputIndex !== undefined) body.inputIndex = res.inputIndex;
        if (outcome === 'malformed') return { status: 400, body: { error: 'the body is not a block', ...body } };
        this.log.info('block rejected', { source, ...at, reason: res.reason, mode: res.mode });
        return { status: 422, body };
      }
    }
  }

  // ---- shutdown ------------------------------------------------------------------------------------

  /**
   * Stop taking blocks, let the block in flight finish (the ones still queued are answered
   * 503: never processed), answer what is pending, and close the listening socket. The
   * caller closes the chain and the pool afterwards.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      const closed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
      server?.closeIdleConnections();
      const dropped = await this.queue.close();
      if (dropped > 0) this.log.info('shutdown: queued blocks not processed', { dropped });
      await this.sources.flush();
      // Every answer is written and says `connection: close`; give slow readers a moment, then cut.
      server?.closeIdleConnections();
      const force = setTimeout(() => server?.closeAllConnections(), 2000).unref();
      await closed;
      clearTimeout(force);
      // A body that ended meanwhile (one that is no block, answered 400) recorded its outcome after
      // the flush above: written now, before the caller closes the store, or it is lost.
      await this.sources.flush();
      if (this.sources.lastError !== undefined) this.log.error('source scores not saved', { error: this.sources.lastError });
    })();
    return this.closing;
  }
}
