// `vigil import`, `vigil generate`, `vigil tip` and `vigil utxo-digest`: the commands that
// work on a chain state directory or make block files.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listBlockFiles, readBlockHeadersAsync, resolveBlockFiles } from '../blockfile/reader.js';
import { getParams } from '../consensus/params.js';
import { XOR_KEY_FILE } from '../blockfile/xor.js';
import { toHex } from '../primitives/bytes.js';
import { ChainState, type ChainObserver, type ChainStage } from '../chain/chain-state.js';
import { generateChain } from '../generate/index.js';
import type { NetworkName } from '../consensus/script-flags.js';
import { ChainStore } from '../store/index.js';
import { UsageError } from './io.js';
import type { ScriptPool } from '../pipeline/script-pool.js';
import type { TxScriptWork } from '../consensus/connect-block.js';
import type { Logger } from '../service/logger.js';
import { ConnectCounter, importWithProgress } from './import-progress.js';
import { progressMode, type ProgressStream } from './progress.js';

export interface ImportCommandOptions {
  path: string;
  datadir: string;
  network: NetworkName;
  json: boolean;
  quiet: boolean;
  pool?: ScriptPool;
  assumeValid?: Uint8Array | null;
  /** Bytes of changes held between commits (ImportOptions.cacheBytes). */
  cacheBytes?: number;
  logger: Logger;
  /** Where progress goes (default stderr); tests hand in a fake terminal. */
  stream?: ProgressStream;
}

export async function importCommand(opts: ImportCommandOptions): Promise<number> {
  const { path, datadir, network, json, logger } = opts;
  if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
  // The blk files and their xor.dat key are the user's: one that cannot be read (an xor.dat that
  // is not an 8-byte key) is said before the datadir is opened, not thrown from the import.
  try {
    resolveBlockFiles(path);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // Files in which no block of the network is found (another network's, or obfuscated with a key
  // their xor.dat does not hold) are said before the datadir is opened too: a chain state made there
  // for the wrong --network would refuse the corrected command. The look stops at the first record.
  let unreadable = false;
  let found = false;
  for await (const _ of readBlockHeadersAsync(path, { magic: getParams(network).messageStart, onIssue: (i) => (unreadable ||= i.code === 'read-error') })) {
    found = true;
    break;
  }
  if (!found && !unreadable) throw new UsageError(noBlockFound(network, path));
  const stream = opts.stream ?? process.stderr;
  const counter = new ConnectCounter();
  logger.debug('import starting', { path, datadir, network, workers: opts.pool?.threads });
  const chain = await openChain(datadir, network, opts.pool, opts.assumeValid, (m) => logger.info(m), counter);
  // SIGINT or SIGTERM stops the import after the block in hand and commits what the write-back
  // holds (up to --dbcache of work that a kill would lose: the store keeps its last commit, and
  // the next run does those blocks again); a second signal exits at once, the store consistent
  // at its last commit either way.
  const stop = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals): void => {
    if (signalled !== undefined) process.exit(s === 'SIGINT' ? 130 : 143);
    signalled = s;
    logger.warn(`${s}: stopping after the block in hand and committing the blocks held in memory; a second signal exits at once`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let status = 2;
  try {
    const { summary, txs, inputs, stagesMs } = await importWithProgress(chain, path, counter, {
      mode: progressMode({ quiet: opts.quiet, json, stream }),
      stream,
      signal: stop.signal,
      ...(opts.cacheBytes === undefined ? {} : { cacheBytes: opts.cacheBytes }),
      ...(opts.pool === undefined ? {} : { pool: opts.pool }),
    });
    const stages = Object.entries(stagesMs) as Array<[ChainStage, number]>;
    if (json) console.log(JSON.stringify({ ...summary, txs, inputs, stagesMs: Object.fromEntries(stages.map(([k, ms]) => [k, Math.round(ms * 10) / 10])) }));
    else {
      console.log(`tip ${summary.tip.hash} height ${summary.tip.height}: ${summary.accepted} blocks accepted, ${summary.known} already known, ${summary.rejected} rejected in ${(summary.elapsedMs / 1000).toFixed(1)} s${summary.interrupted ? ' (interrupted: running it again resumes)' : ''}`);
      if (summary.read > 0) {
        const other = summary.elapsedMs - stages.reduce((sum, [, ms]) => sum + ms, 0);
        const s = (ms: number): string => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
        console.log(`  main thread by stage: ${stages.map(([k, ms]) => `${k} ${s(ms)}`).join(', ')}; other ${s(other)} (reading files and headers, hashing ahead, reorganisations, rejected blocks, the last commit)`);
      }
      if (chain.scriptsSkipped > 0) console.log(`  assumevalid: scripts of ${chain.scriptsSkipped} blocks were not checked`);
      if (summary.waiting > 0) console.log(`  ${summary.waiting} blocks not connected: their parent never came, or was rejected`);
      for (const f of summary.failures) console.log(`  ${f.mode} ${f.hash}${f.height === undefined ? '' : ` (height ${f.height})`}: ${f.reason}`);
      for (const i of summary.fileIssues) console.log(`  file issue ${i.code} in ${i.file} at ${i.offset}: ${i.message}`);
    }
    const unreadable = summary.fileIssues.filter((i) => i.code === 'read-error');
    if (summary.stoppedOnError) {
      logger.error('import stopped on an internal error; running it again resumes', { tip: summary.tip.height });
      status = 2;
    } else if (summary.interrupted) {
      // Stopped when asked, the blocks connected so far committed: the shell's status for a signal.
      status = signalled === 'SIGTERM' ? 143 : 130;
    } else if (unreadable.length > 0) {
      // Our own failure to read the input, not a verdict on any block: the blocks in it were not imported.
      logger.error('some block files could not be read; the blocks in them were not imported', { files: unreadable.length });
      status = 2;
    } else if (summary.read === 0) {
      // Nothing of this network's framing in the files: the wrong --network, the wrong folder, or
      // files obfuscated with a key the folder's xor.dat does not hold. Not a success.
      logger.error(noBlockFound(network, path), { fileIssues: summary.fileIssues.length });
      status = 2;
    } else status = summary.rejected > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await chain.close();
    } catch (err) {
      // A store that failed during the import fails its last flush again here: said once, as an internal error.
      logger.error('closing the chain state failed; the store keeps its last commit and running the import again resumes', { error: (err as Error).message });
      status = 2;
    }
  }
  return status;
}

function noBlockFound(network: NetworkName, path: string): string {
  return `no ${network} block found in ${path}: is it the right --network, and a blocks folder of that network (with its xor.dat)?`;
}

export async function openChain(
  datadir: string,
  network: NetworkName,
  pool?: ScriptPool,
  assumeValid?: Uint8Array | null,
  log?: (m: string) => void,
  observer?: ChainObserver,
): Promise<ChainState> {
  try {
    return await ChainState.open(datadir, {
      network,
      ...(pool === undefined ? {} : { runScripts: (w: readonly TxScriptWork[], f: number) => pool.verify(w, f) }),
      ...(assumeValid === undefined ? {} : { assumeValid }),
      ...(log === undefined ? {} : { log }),
      ...(observer === undefined ? {} : { observer }),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The network of the chain state in `datadir`; a usage error when there is none. */
export function existingNetwork(datadir: string): NetworkName {
  const network = existsSync(datadir) ? ChainStore.readNetwork(datadir) : undefined;
  if (network === undefined) throw new UsageError(`no chain state at ${datadir}`);
  return network;
}

/** Open an existing store read-only in spirit: its network comes from the store itself. */
async function openExisting(datadir: string): Promise<ChainState> {
  return openChain(datadir, existingNetwork(datadir));
}

export async function tipCommand(datadir: string): Promise<number> {
  const chain = await openExisting(datadir);
  try {
    const tip = chain.tip;
    console.log(JSON.stringify({ hash: tip.hex, height: tip.height, chainwork: tip.chainWork.toString(16).padStart(64, '0') }));
    return 0;
  } finally {
    await chain.close();
  }
}

export async function utxoDigestCommand(datadir: string): Promise<number> {
  const chain = await openExisting(datadir);
  try {
    const tip = chain.tip;
    console.log(JSON.stringify({ digest: toHex(chain.utxoDigest()), coins: chain.store.utxoCount(), hash: tip.hex, height: tip.height }));
    return 0;
  } finally {
    await chain.close();
  }
}

export function generateCommand(opts: { network: NetworkName; blocks: number; txs: number; seed: string; out: string; json: boolean }): number {
  if (opts.network !== 'regtest') throw new UsageError('generate makes regtest chains only (--network regtest)');
  // The writer refuses to replace block files; said here as the usage error it is.
  if (existsSync(opts.out)) {
    if (!statSync(opts.out).isDirectory()) throw new UsageError(`--out ${opts.out} is not a folder`);
    if (listBlockFiles(opts.out).length > 0 || existsSync(join(opts.out, XOR_KEY_FILE))) {
      throw new UsageError(`--out ${opts.out} already holds block files: give an empty or new folder`);
    }
  }
  const r = generateChain({ blocks: opts.blocks, txsPerBlock: opts.txs, seed: opts.seed, outDir: opts.out });
  const out = { height: r.height, tip: r.tipHash, files: r.files, bytes: r.bytes, txs: r.stats.txs, inputs: r.stats.inputs, ms: Math.round(r.elapsedMs) };
  if (opts.json) console.log(JSON.stringify(out));
  else console.log(`generated ${r.height} blocks (${r.stats.txs} txs, ${r.stats.inputs} inputs) to ${opts.out} in ${(r.elapsedMs / 1000).toFixed(1)} s; tip ${r.tipHash}`);
  return 0;
}
