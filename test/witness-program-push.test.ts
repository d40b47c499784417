// A scriptPubKey that is a witness program (OP_n, then one direct push of 2–40 bytes) is not run
// through the interpreter when the stack is empty before it: verifyScript makes its two pushes
// itself. These cases pin what those pushes decide, the ones no Core vector reaches: a program
// whose bytes read as false, a scriptSig that runs but leaves nothing, and programs of versions
// and lengths a soft fork may still give meaning to.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { Transaction } from '../src/primitives/transaction.js';
import * as F from '../src/script/flags.js';
import { OP } from '../src/script/opcodes.js';
import { verifyInput } from '../src/script/verify.js';

const BLOCK = F.SCRIPT_VERIFY_P2SH | F.SCRIPT_VERIFY_WITNESS | F.SCRIPT_VERIFY_TAPROOT;

function program(version: number, bytes: Uint8Array): Uint8Array {
  return Uint8Array.of(version === 0 ? OP.OP_0 : OP.OP_1 + version - 1, bytes.length, ...bytes);
}

function spend(spk: Uint8Array, scriptSig: Uint8Array, witness: Uint8Array[], flags: number): ReturnType<typeof verifyInput> {
  const tx = new Transaction(2, [{ prevout: { hash: new Uint8Array(32).fill(1), index: 0 }, scriptSig, sequence: 0xffffffff, witness }], [{ value: 1000, scriptPubKey: Uint8Array.of(OP.OP_1) }], 0);
  return verifyInput(tx, 0, [{ value: 2000, scriptPubKey: spk }], flags);
}

const nonzero = (n: number): Uint8Array => new Uint8Array(n).fill(7);

test('a program whose bytes read as false fails as the interpreter would leave it: EVAL_FALSE, before the witness', () => {
  const zero20 = program(0, new Uint8Array(20));
  const negativeZero32 = program(1, Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 0x80 : 0)));
  for (const spk of [zero20, negativeZero32, program(5, new Uint8Array(2))]) {
    for (const flags of [BLOCK, F.SCRIPT_VERIFY_NONE, BLOCK | F.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM]) {
      assert.deepEqual(spend(spk, new Uint8Array(0), [nonzero(71), nonzero(33)], flags), { ok: false, error: 'EVAL_FALSE' });
    }
  }
});

test('a scriptSig that runs and leaves nothing still malleates a witness spend', () => {
  // OP_1 OP_DROP is no push: without SIGPUSHONLY it runs, and the stack is empty again.
  const scriptSig = Uint8Array.of(OP.OP_1, OP.OP_DROP);
  assert.deepEqual(spend(program(0, nonzero(20)), scriptSig, [nonzero(71), nonzero(33)], BLOCK), { ok: false, error: 'WITNESS_MALLEATED' });
  assert.deepEqual(spend(program(1, nonzero(32)), scriptSig, [nonzero(64)], BLOCK), { ok: false, error: 'WITNESS_MALLEATED' });
  // Without the witness rules the program is an ordinary script that leaves a true value.
  assert.deepEqual(spend(program(0, nonzero(20)), scriptSig, [], F.SCRIPT_VERIFY_P2SH), { ok: true });
});

test('versions and lengths with no meaning yet pass, unless policy discourages them; the cleanstack rule sees one item', () => {
  for (const [version, length] of [[2, 2], [16, 40], [1, 20]] as const) {
    const spk = program(version, nonzero(length));
    assert.deepEqual(spend(spk, new Uint8Array(0), [], BLOCK), { ok: true }, `v${version}, ${length} bytes`);
    assert.deepEqual(spend(spk, new Uint8Array(0), [], BLOCK | F.SCRIPT_VERIFY_CLEANSTACK), { ok: true }, `v${version}, ${length} bytes, CLEANSTACK`);
    assert.deepEqual(
      spend(spk, new Uint8Array(0), [], BLOCK | F.SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM),
      { ok: false, error: 'DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM' },
      `v${version}, ${length} bytes, discouraged`,
    );
  }
  // Version 0 with a length that is neither 20 nor 32 is no future soft fork: it fails.
  assert.deepEqual(spend(program(0, nonzero(40)), new Uint8Array(0), [], BLOCK), { ok: false, error: 'WITNESS_PROGRAM_WRONG_LENGTH' });
  // Without the witness rules, CLEANSTACK sees both pushes.
  assert.deepEqual(spend(program(2, nonzero(2)), new Uint8Array(0), [], F.SCRIPT_VERIFY_P2SH | F.SCRIPT_VERIFY_CLEANSTACK), { ok: false, error: 'CLEANSTACK' });
});
