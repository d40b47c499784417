// The bounded ingest queue: blocks wait here for the chain, one at a time and in arrival
// order. It is bounded in entries and in bytes; when full, `offer` says so at once and the
// caller answers 503 instead of holding the block. Closing stops intake, lets the block in
// flight finish, and hands back the ones never started (they were not processed).

export class QueueClosedError extends Error {
  constructor() {
    super('the ingest queue is closed');
    this.name = 'QueueClosedError';
  }
}

export interface IngestQueueOptions {
  /** Entries waiting or in flight, at most. */
  capacity: number;
  /** Bytes waiting or in flight, at most (one entry is always let in when the queue is empty). */
  maxBytes: number;
}

interface Entry<J, R> {
  job: J;
  bytes: number;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class IngestQueue<J, R> {
  private readonly waiting: Array<Entry<J, R>> = [];
  private head = 0;
  private running: Promise<void> | undefined;
  private inFlight = 0;
  private bytes = 0;
  private closed = false;

  constructor(
    private readonly run: (job: J) => Promise<R>,
    private readonly size: (job: J) => number,
    readonly opts: IngestQueueOptions,
  ) {
    if (!(opts.capacity >= 1)) throw new RangeError('queue capacity must be at least 1');
  }

  /** Entries waiting or in flight. */
  get depth(): number {
    return this.waiting.length - this.head + this.inFlight;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queue a job; undefined when the queue is full (or closed). The promise settles with the job's result. */
  offer(job: J): Promise<R> | undefined {
    if (this.closed) return undefined;
    const bytes = this.size(job);
    if (this.depth >= this.opts.capacity) return undefined;
    if (this.depth > 0 && this.bytes + bytes > this.opts.maxBytes) return undefined;
    this.bytes += bytes;
    const p = new Promise<R>((resolve, reject) => this.waiting.push({ job, bytes, resolve, reject }));
    this.running ??= this.drain();
    return p;
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.head < this.waiting.length) {
      const e = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as unknown as Entry<J, R>; // let the bytes go
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight = 1;
      try {
        e.resolve(await this.run(e.job));
      } catch (err) {
        e.reject(err);
      } finally {
        this.inFlight = 0;
        this.bytes -= e.bytes;
      }
    }
    this.running = undefined;
  }

  /**
   * Stop taking jobs, wait for the one in flight, and reject the ones not started with
   * QueueClosedError (they were never processed). Returns how many were dropped.
   */
  async close(): Promise<number> {
    this.closed = true;
    await this.running;
    const dropped = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    for (const e of dropped) {
      this.bytes -= e.bytes;
      e.reject(new QueueClosedError());
    }
    return dropped.length;
  }
}
