// `vigil sources` and `vigil unban`: the block sources a store has scored, and lifting a ban.
// They open the store itself, never the chain, so they run beside a live `vigil serve`
// (LMDB allows several processes); the service reads ban records on every submission.

import { ChainStore } from '../store/index.js';
import { SourceBook, checkSourceName, type SourceView } from '../service/source-scores.js';
import { UsageError } from './io.js';
import { existingNetwork } from './chain-commands.js';

function openStore(datadir: string): ChainStore {
  return ChainStore.open(datadir, { network: existingNetwork(datadir) });
}

function line(s: SourceView): string {
  const state = s.banned ? `BANNED until ${new Date(s.bannedUntil).toISOString()} (${s.banReason ?? ''})` : 'ok';
  return `${s.source}  score ${s.score}  valid ${s.valid}  duplicate ${s.duplicate}  invalid ${s.invalid}  mutated ${s.mutated}  malformed ${s.malformed}  unconnected ${s.unconnected}  ${state}`;
}

export async function sourcesCommand(datadir: string, json: boolean): Promise<number> {
  const store = openStore(datadir);
  try {
    const all = new SourceBook(store).list();
    if (json) console.log(JSON.stringify({ sources: all }));
    else if (all.length === 0) console.log('no block sources yet');
    else for (const s of all) console.log(line(s));
    return 0;
  } finally {
    await store.close();
  }
}

/** Exit 0 when a ban was lifted, 1 when the source was not banned. */
export async function unbanCommand(datadir: string, source: string): Promise<number> {
  const bad = checkSourceName(source);
  if (bad !== undefined) throw new UsageError(bad);
  const store = openStore(datadir);
  try {
    const lifted = await new SourceBook(store).unban(source);
    console.log(lifted ? `unbanned ${source}` : `${source} is not banned`);
    return lifted ? 0 : 1;
  } finally {
    await store.close();
  }
}
