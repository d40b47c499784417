// validateBlock's `height` and `now` are the caller's, not the block's: one that is no block height
// (negative, fractional, NaN, infinite) or no time is misuse, thrown at once as a wrong spent-output
// list is, never answered as a verdict on the block. Found by fuzzing the public entry points:
// height NaN or -1 judged a valid block 'mutated' (unexpected-witness), 1.5 'bad-cb-height', now NaN
// skipped time-too-new, and height Infinity looped in the coinbase height script until V8 aborted
// the whole process (no exception to catch).

import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { validateBlock, validateBlockAsync, type ValidateBlockOptions } from '../src/consensus/validate-block.js';
import { VALID } from '../src/consensus/validation.js';
import { toHex } from '../src/primitives/bytes.js';
import { branch } from './helpers/regtest-chain.js';

// Block 1 of a regtest chain: a coinbase alone, valid at height 1.
const block1 = branch('validate-block-options', 1, 0)[0]!;
const NOW = 2_000_000_000;

describe('validateBlock: height and now are checked as the caller’s input', () => {
  it('control: block 1 is valid at height 1 and with its height taken from the coinbase', () => {
    assert.deepEqual(validateBlock(block1.raw, [], { network: 'regtest', height: 1, now: NOW }).result, VALID);
    assert.deepEqual(validateBlock(block1.raw, [], { network: 'regtest', now: NOW }).result, VALID);
  });

  for (const height of [-1, NaN, 1.5, 2 ** 53, -Infinity]) {
    it(`height ${height} throws a RangeError, sync and async, before any verdict`, async () => {
      const opts: ValidateBlockOptions = { network: 'regtest', height, now: NOW };
      assert.throws(() => validateBlock(block1.raw, [], opts), RangeError);
      let ran = false;
      const runScripts = async (): Promise<typeof VALID> => {
        ran = true;
        return VALID;
      };
      await assert.rejects(validateBlockAsync(block1.raw, [], { ...opts, runScripts }), RangeError);
      assert.equal(ran, false);
    });
  }

  it('misuse is thrown before the bytes are read: garbage bytes with a NaN height throw, not block-decode-failed', async () => {
    const garbage = Uint8Array.of(1, 2, 3);
    assert.equal(validateBlock(garbage, [], { network: 'regtest', height: 1, now: NOW }).result.mode, 'invalid');
    assert.throws(() => validateBlock(garbage, [], { network: 'regtest', height: NaN, now: NOW }), RangeError);
    assert.throws(() => validateBlock(garbage, [{ value: 1.5, scriptPubKey: new Uint8Array(0) }], { network: 'regtest', height: 1, now: NOW }), TypeError);
    assert.throws(() => validateBlock(garbage, [], { network: 'nonet' as never, height: 1, now: NOW }), TypeError);
    await assert.rejects(validateBlockAsync(garbage, [], { network: 'regtest', height: NaN, now: NOW, runScripts: async () => VALID }), RangeError);
  });

  it('a non-number height (a string from a form or JSON) throws, not bad-cb-height', () => {
    assert.throws(() => validateBlock(block1.raw, [], { network: 'regtest', height: '1' as unknown as number, now: NOW }), RangeError);
  });

  for (const now of [NaN, Infinity]) {
    it(`now ${now} throws a RangeError (time-too-new is not silently skipped)`, () => {
      assert.throws(() => validateBlock(block1.raw, [], { network: 'regtest', height: 1, now }), RangeError);
    });
  }

  it('spent coins whose height, coinbase flag or time is of the wrong kind throw a TypeError, not a verdict', async () => {
    // Block 1 spends nothing, so the list is checked for its shape alone; in a block that spends the
    // coin, height NaN passed maturity (NaN comparisons are false) and coinbase 'yes' counted as true.
    const coin = { value: 1000, scriptPubKey: Uint8Array.of(0x51) };
    for (const bad of [{ height: NaN }, { height: -1 }, { height: 1.5 }, { coinbase: 'yes' }, { coinbase: 1 }, { time: NaN }, { time: 1.5 }]) {
      const spent = [{ ...coin, ...bad }] as unknown as Parameters<typeof validateBlock>[1];
      assert.throws(() => validateBlock(block1.raw, spent, { network: 'regtest', height: 1, now: NOW }), TypeError, JSON.stringify(bad));
      await assert.rejects(validateBlockAsync(block1.raw, spent, { network: 'regtest', height: 1, now: NOW, runScripts: async () => VALID }), TypeError);
    }
    // Given right, each field is accepted (the list's length is then what is wrong for this block).
    assert.throws(() => validateBlock(block1.raw, [{ ...coin, height: 0, coinbase: true, time: 0 }], { network: 'regtest', height: 1, now: NOW }), RangeError);
  });

  it('height Infinity throws in a child process instead of aborting it', () => {
    // Run apart: before the fix the height script grew an array until V8 aborted the process.
    const mod = new URL('../src/consensus/validate-block.js', import.meta.url).href;
    const code = [
      `const { validateBlock } = await import(${JSON.stringify(mod)});`,
      `const raw = Uint8Array.from(Buffer.from(${JSON.stringify(toHex(block1.raw))}, 'hex'));`,
      `try { validateBlock(raw, [], { network: 'regtest', height: Infinity, now: ${NOW} }); console.log('answered'); }`,
      `catch (err) { console.log(err.name); }`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.signal, null, `the process was killed (${r.signal}): ${r.stderr.slice(0, 200)}`);
    assert.equal(r.status, 0, r.stderr.slice(0, 200));
    assert.equal(r.stdout.trim(), 'RangeError');
  });
});
