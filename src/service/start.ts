// Everything `vigil serve` runs, wired in one place for the CLI and for embedders: the script
// pool, the metrics (fed by the chain's observer), the chain state, and the HTTP service.

import type { AddressInfo } from 'node:net';
import { ChainState } from '../chain/chain-state.js';
import type { TxScriptWork } from '../consensus/connect-block.js';
import type { NetworkName } from '../consensus/script-flags.js';
import { VigilMetrics } from '../metrics/metrics.js';
import { ScriptPool } from '../pipeline/script-pool.js';
import type { BackendName } from '../script/backends.js';
import { silentLogger, type Logger } from './logger.js';
import { VigilService, type ServiceOptions } from './server.js';
import { DEFAULT_SCORE_POLICY, type ScorePolicy } from './source-scores.js';

export interface StartOptions extends Omit<ServiceOptions, 'chain' | 'pool' | 'metrics' | 'policy'> {
  datadir: string;
  network: NetworkName;
  port: number;
  host?: string;
  /** Script threads (default one per core; 0: the main thread). */
  workers?: number;
  crypto?: BackendName;
  assumeValid?: Uint8Array | null;
  policy?: Partial<ScorePolicy>;
  /** Skip fsync on commit (tests only). */
  noSync?: boolean;
}

export interface RunningService {
  service: VigilService;
  chain: ChainState;
  pool: ScriptPool;
  address: AddressInfo;
  /** Stop taking blocks, finish the one in flight, close the pool and the store. */
  close(): Promise<void>;
}

export async function startService(o: StartOptions): Promise<RunningService> {
  const logger: Logger = o.logger ?? silentLogger;
  const pool = await ScriptPool.create({ ...(o.workers === undefined ? {} : { threads: o.workers }), ...(o.crypto === undefined ? {} : { crypto: o.crypto }) });
  let chain: ChainState | undefined;
  try {
    const metrics = new VigilMetrics();
    chain = await ChainState.open(o.datadir, {
      network: o.network,
      runScripts: (w: readonly TxScriptWork[], f: number) => pool.verify(w, f),
      observer: metrics.chainObserver(),
      log: (m) => logger.info(m),
      ...(o.assumeValid === undefined ? {} : { assumeValid: o.assumeValid }),
      ...(o.noSync === undefined ? {} : { noSync: o.noSync }),
    });
    const service = new VigilService({ ...o, chain, pool, metrics, logger, policy: { ...DEFAULT_SCORE_POLICY, ...o.policy } });
    const address = await service.listen(o.port, o.host ?? '127.0.0.1');
    const opened = chain;
    let closing: Promise<void> | undefined;
    return {
      service,
      chain,
      pool,
      address,
      close: () =>
        (closing ??= (async () => {
          await service.close();
          await pool.close();
          await opened.close();
        })()),
    };
  } catch (err) {
    await chain?.close();
    await pool.close();
    throw err;
  }
}
