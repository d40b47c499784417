// Bitcoin Core's sighash.json: 500 legacy SignatureHash cases (sighash_tests.cpp,
// sighash_from_data), one node:test case per row.
//
// Row format: [raw tx hex, scriptCode hex, input index, hashType (signed int32), expected
// hash]. The expected hash is a uint256 in display order: the sha256d digest reversed.
// Core also requires each tx to pass CheckTransaction; we add a serialization round trip.

import { test } from 'node:test';
import { strict as assert } from 'node:assert';

import { readVectorText } from './helpers/vectors.js';
import { checkTransaction } from '../src/consensus/tx-check.js';
import { fromHex, hashToHex, toHex } from '../src/primitives/bytes.js';
import { decodeTransaction } from '../src/primitives/transaction.js';
import { signatureHashLegacy } from '../src/script/sighash.js';

const rows = JSON.parse(readVectorText('bitcoin-core', 'sighash.json')) as unknown[][];
const cases = rows
  .map((row, index) => ({ row, index }))
  .filter(({ row }) => row.length !== 1); // the header row

test('sighash.json holds 500 cases', () => {
  assert.equal(cases.length, 500);
});

for (const { row, index } of cases) {
  const [rawTx, scriptHex, nIn, hashType, expected] = row as [string, string, number, number, string];
  test(`#${index} in=${nIn} hashType=${hashType} (0x${(hashType >>> 0).toString(16)}) ${expected}`, () => {
    const raw = fromHex(rawTx);
    const decoded = decodeTransaction(raw);
    if (!decoded.ok) assert.fail(`tx does not decode: ${decoded.code} at ${decoded.offset}: ${decoded.message}`);
    const tx = decoded.tx;
    assert.equal(toHex(tx.toBytes()), rawTx, 'serialization round trip');
    const check = checkTransaction(tx);
    assert.ok(check.ok, `CheckTransaction failed: ${check.ok ? '' : check.reason}`);
    const digest = signatureHashLegacy(fromHex(scriptHex), tx, nIn, hashType);
    assert.equal(hashToHex(digest), expected);
  });
}
