// Self-test of the Core test-asm parser (test/helpers/core-asm.ts) against Core's own
// script_parse cases (script_tests.cpp / core_io) and hand-checked encodings.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { CORE_ASM_OPCODES, amountFromBtc, parseCoreAsm, pushData, scriptNumBytes } from './helpers/core-asm.js';
import { OP } from '../src/script/opcodes.js';
import { toHex } from '../src/primitives/bytes.js';

const asmHex = (s: string): string => toHex(parseCoreAsm(s));

test("Core's ParseScript cases (IN_OUT table), one by one and joined", () => {
  const cases: [string, string][] = [
    ['', ''],
    ['0', '00'],
    ['1', '51'], ['2', '52'], ['3', '53'], ['4', '54'], ['5', '55'], ['6', '56'], ['7', '57'], ['8', '58'],
    ['9', '59'], ['10', '5a'], ['11', '5b'], ['12', '5c'], ['13', '5d'], ['14', '5e'], ['15', '5f'], ['16', '60'],
    ['17', '0111'],
    ['-9', '0189'],
    ['0x17', '17'],
    ["'17'", '023137'],
    ['ELSE', '67'],
    ['NOP10', 'b9'],
  ];
  let allIn = '';
  let allOut = '';
  for (const [asm, hex] of cases) {
    assert.equal(asmHex(asm), hex, asm);
    allIn += ` ${asm} `;
    allOut += hex;
  }
  assert.equal(asmHex(allIn), allOut);
});

test('numbers: minimal CScriptNum pushes, OP_1NEGATE, and the ±0xFFFFFFFF range', () => {
  assert.equal(asmHex('-1'), '4f');
  assert.equal(asmHex('-0'), '00');
  assert.equal(asmHex('127'), '017f');
  assert.equal(asmHex('128'), '028000');
  assert.equal(asmHex('-128'), '028080');
  assert.equal(asmHex('255'), '02ff00');
  assert.equal(asmHex('256'), '020001');
  assert.equal(asmHex('-2'), '0182');
  assert.equal(asmHex('2147483647'), '04ffffff7f');
  assert.equal(asmHex('-2147483648'), '050000008080');
  assert.equal(asmHex('4294967295'), '05ffffffff00');
  assert.equal(asmHex('-4294967295'), '05ffffffff80');
  assert.throws(() => parseCoreAsm('4294967296'), /decimal numeric value/);
  assert.throws(() => parseCoreAsm('11111111111'), /decimal numeric value/);
  assert.throws(() => parseCoreAsm('11111111111111111111'), /decimal numeric value/);
  assert.equal(toHex(scriptNumBytes(0)), '');
  assert.equal(toHex(scriptNumBytes(-255)), 'ff80');
});

test('raw hex, quoted strings and push sizes', () => {
  assert.equal(asmHex('0x4c 0x01 0x07'), '4c0107');
  assert.equal(asmHex('0xABcd'), 'abcd');
  assert.equal(asmHex("''"), '00');
  assert.equal(asmHex(`'${'a'.repeat(75)}'`), '4b' + '61'.repeat(75));
  assert.equal(asmHex(`'${'a'.repeat(76)}'`), '4c4c' + '61'.repeat(76));
  assert.equal(toHex(pushData(new Uint8Array(256))).slice(0, 6), '4d0001');
  assert.equal(toHex(pushData(new Uint8Array(0x10000))).slice(0, 10), '4e00000100');
  assert.throws(() => parseCoreAsm('0x'), /unknown opcode/);
  assert.throws(() => parseCoreAsm('0x123'), /unknown opcode/);
  assert.throws(() => parseCoreAsm('0xgg'), /unknown opcode/);
  assert.throws(() => parseCoreAsm("'"), /unknown opcode/);
});

test('opcode names with and without OP_, separated by spaces, tabs and newlines', () => {
  assert.equal(asmHex('DUP HASH160\t0x14 0x0000000000000000000000000000000000000000\nEQUALVERIFY  OP_CHECKSIG'),
    '76a914' + '00'.repeat(20) + '88ac');
  assert.equal(asmHex('RESERVED OP_RESERVED NOP1 CHECKLOCKTIMEVERIFY OP_CHECKSEQUENCEVERIFY NOP4'), '5050b0b1b2b3');
  assert.equal(asmHex('2DUP 0NOTEQUAL 1ADD'), '6e928b');
  assert.throws(() => parseCoreAsm('OP_CHECKSIGADD'), /unknown opcode/);
  assert.throws(() => parseCoreAsm('dup'), /unknown opcode/);
  assert.throws(() => parseCoreAsm('#TAPROOTOUTPUT#'), /unknown opcode/);
});

test("every name agrees with src/script/opcodes.ts", () => {
  const table = OP as Readonly<Record<string, number>>;
  assert.equal(CORE_ASM_OPCODES.size, 2 * (1 + (0xb9 - 0x61 + 1)));
  for (const [name, code] of CORE_ASM_OPCODES) {
    const full = name.startsWith('OP_') ? name : `OP_${name}`;
    assert.equal(table[full], code, full);
  }
});

test('amounts in BTC to satoshis', () => {
  assert.equal(amountFromBtc(0), 0);
  assert.equal(amountFromBtc(1e-8), 1);
  assert.equal(amountFromBtc(0.29), 29_000_000);
  assert.equal(amountFromBtc(21_000_000), 2_100_000_000_000_000);
  assert.throws(() => amountFromBtc(1e-9));
});
