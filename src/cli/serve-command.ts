// `vigil serve`: run the HTTP ingest service until SIGINT or SIGTERM. The first signal shuts
// down gracefully (stop taking blocks, finish the one in flight, close the pool and the
// store, exit 0); a second one forces the exit.

import type { NetworkName } from '../consensus/script-flags.js';
import type { BackendName } from '../script/backends.js';
import type { Logger } from '../service/logger.js';
import { startService } from '../service/start.js';
import { UsageError } from './io.js';

export interface ServeCommandOptions {
  datadir: string;
  network: NetworkName;
  port: number;
  host: string;
  workers?: number;
  crypto?: BackendName;
  assumeValid?: Uint8Array | null;
  queueSize: number;
  rate: number;
  burst: number;
  maxConnections: number;
  banScore: number;
  banViolations: number;
  banSeconds: number;
  logger: Logger;
}

export async function serveCommand(o: ServeCommandOptions): Promise<number> {
  const log = o.logger;
  // Listen for signals before starting, so one that comes during start-up is not fatal.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  let running;
  try {
    running = await startService({
      datadir: o.datadir,
      network: o.network,
      port: o.port,
      host: o.host,
      ...(o.workers === undefined ? {} : { workers: o.workers }),
      ...(o.crypto === undefined ? {} : { crypto: o.crypto }),
      ...(o.assumeValid === undefined ? {} : { assumeValid: o.assumeValid }),
      queueSize: o.queueSize,
      rate: o.rate,
      burst: o.burst,
      maxConnections: o.maxConnections,
      policy: { banScore: o.banScore, banViolations: o.banViolations, banSeconds: o.banSeconds },
      logger: log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') throw new UsageError(`cannot listen on ${o.host}:${o.port}: ${e.code}`);
    if (e.name === 'StoreError') throw new UsageError(e.message);
    throw err;
  }
  const { address, chain, pool } = running;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info('listening', { url, network: o.network, datadir: o.datadir, tip: chain.tip.height, workers: pool.threads, crypto: pool.backend?.name });
  // One line on stdout for whoever started us (port 0 picks a free port).
  console.log(JSON.stringify({ listening: url, tip: { hash: chain.tip.hex, height: chain.tip.height } }));

  const signal = await signalled;
  log.info('shutting down', { signal });
  const force = (s: NodeJS.Signals): void => {
    log.warn('second signal: exiting now', { signal: s });
    process.exit(s === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await running.close();
  log.info('stopped', { tip: chain.tip.height, hash: chain.tip.hex });
  return 0;
}
