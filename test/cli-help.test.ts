// Help for every command, the three ways it is asked for: exit 0, a usage line, and each of the
// command's options with its environment variable, all drawn from the option table.

import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { COMMAND_NAMES, commandOptions, OPTIONS } from '../src/cli/config.js';
import { commandHelp } from '../src/cli/help.js';
import { runCli, type CliRun } from './helpers/cli.js';

const vigil = (...args: string[]): Promise<CliRun> => runCli(args);

describe('help', { concurrency: 4 }, () => {
  it('vigil --help lists every command, exit 0', async () => {
    const r = await vigil('--help');
    assert.equal(r.status, 0, r.stderr);
    for (const c of COMMAND_NAMES) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  });

  it('bare vigil prints the usage and exits 2', async () => {
    const r = await vigil();
    assert.equal(r.status, 2);
    assert.match(r.stdout, /Usage: vigil <command>/);
  });

  it('help for an unknown command is a usage error', async () => {
    const r = await vigil('help', 'frobnicate');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^vigil: unknown command: frobnicate/);
  });

  for (const command of COMMAND_NAMES) {
    it(`${command}: \`vigil help ${command}\` and \`vigil ${command} --help\` agree, exit 0, list every option`, async () => {
      const [a, b] = await Promise.all([vigil('help', command), vigil(command, '--help')]);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(a.stdout, b.stdout);
      assert.equal(a.stdout.trimEnd(), commandHelp(command));
      assert.match(a.stdout, new RegExp(`^Usage: vigil ${command}`));
      for (const o of commandOptions(command)) {
        assert.match(a.stdout, new RegExp(`^  --${o.name}\\b`, 'm'), `--${o.name}`);
        assert.ok(a.stdout.includes(`env ${o.env}`), o.env);
      }
      // And no option of another command.
      for (const o of OPTIONS.filter((x) => !commandOptions(command).includes(x))) {
        assert.doesNotMatch(a.stdout, new RegExp(`^  --${o.name}\\b`, 'm'), `--${o.name} is not an option of ${command}`);
      }
    });
  }

  it('defaults come from the table: import says one worker per core, serve port 8338, generate regtest', () => {
    assert.match(commandHelp('import'), /env VIGIL_WORKERS, default: one per core/);
    assert.match(commandHelp('serve'), /env VIGIL_PORT, default: 8338/);
    assert.match(commandHelp('generate'), /env VIGIL_NETWORK, default: regtest/);
    assert.match(commandHelp('check-block'), /env VIGIL_NETWORK, default: main/);
  });

  it("a command's help speaks of that command only: generate's --blocks says nothing of selftest", () => {
    assert.doesNotMatch(commandHelp('generate'), /selftest/);
    assert.match(commandHelp('generate'), /--blocks <n> +blocks of the regtest chain to make\n/);
    assert.match(commandHelp('selftest'), /blocks of the regtest chain to make \(0 skips the sync\)/);
    assert.doesNotMatch(commandHelp('import'), /generate/);
  });
});

describe('bench help', () => {
  it('names every benchmark suite', async () => {
    const { SUITES } = await import('../bench/suites.js');
    const text = commandHelp('bench');
    for (const s of SUITES) assert.ok(text.includes(s.name), `bench help lists ${s.name}`);
  });
});
