// Chain parameters: genesis blocks against the well-known hashes, network magics, Core's
// pow_tests sanity_check_chainparams, activation heights (SOURCES.md), and the exception blocks.

import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  difficultyAdjustmentInterval,
  getParams,
  getSignetMessageStart,
  isBIP30Repeat,
  MAX_TIMEWARP,
  PARAMS,
} from '../src/consensus/params.js';
import { checkProofOfWork, compactToTarget } from '../src/consensus/pow.js';
import { getBlockScriptFlags, NETWORK_NAMES, type NetworkName } from '../src/consensus/script-flags.js';
import { BIP34_IMPLIES_BIP30_LIMIT, enforceBIP30 } from '../src/consensus/validate-block.js';
import { decodeBlock } from '../src/primitives/block.js';
import { equalBytes, hashToHex, hexToHash, toHex } from '../src/primitives/bytes.js';
import { hash256 } from '../src/primitives/hash.js';
import {
  SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY,
  SCRIPT_VERIFY_CHECKSEQUENCEVERIFY,
  SCRIPT_VERIFY_DERSIG,
  SCRIPT_VERIFY_NULLDUMMY,
  SCRIPT_VERIFY_P2SH,
  SCRIPT_VERIFY_TAPROOT,
  SCRIPT_VERIFY_WITNESS,
} from '../src/script/flags.js';
import { readVector } from './helpers/vectors.js';

/** The hashes, merkle roots and nBits Core asserts in chainparams.cpp, and each network's magic. */
const GENESIS: Record<NetworkName, { hash: string; merkleRoot: string; bits: number; magic: string }> = {
  main: {
    hash: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
    merkleRoot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    bits: 0x1d00ffff,
    magic: 'f9beb4d9',
  },
  testnet3: {
    hash: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
    merkleRoot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    bits: 0x1d00ffff,
    magic: '0b110907',
  },
  testnet4: {
    hash: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
    merkleRoot: '7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e',
    bits: 0x1d00ffff,
    magic: '1c163f28',
  },
  signet: {
    hash: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
    merkleRoot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    bits: 0x1e0377ae,
    magic: '0a03cf40',
  },
  regtest: {
    hash: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
    merkleRoot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    bits: 0x207fffff,
    magic: 'fabfb5da',
  },
};

describe('genesis blocks', () => {
  for (const name of NETWORK_NAMES) {
    const want = GENESIS[name];
    test(`${name} genesis ${want.hash}`, () => {
      const params = PARAMS[name];
      const r = decodeBlock(params.genesisBlock);
      assert.ok(r.ok);
      const { block } = r;
      assert.equal(hashToHex(hash256(params.genesisBlock.subarray(0, 80))), want.hash);
      assert.equal(hashToHex(block.hash()), want.hash);
      assert.equal(hashToHex(params.genesisHash), want.hash);
      assert.equal(hashToHex(block.header.merkleRoot), want.merkleRoot);
      assert.equal(block.header.bits, want.bits);
      assert.ok(block.header.prevBlock.every((b) => b === 0));
      assert.equal(block.txs.length, 1);
      assert.ok(block.txs[0]!.isCoinbase());
      assert.equal(block.txs[0]!.outputs[0]!.value, 50 * 100_000_000);
      assert.ok(checkProofOfWork(block.hash(), block.header.bits, params));
    });
  }

  test('the genesis coinbase scriptSig is Core\'s: 04ffff001d 0104 <"The Times 03/Jan/2009 ...">', () => {
    const r = decodeBlock(PARAMS.main.genesisBlock);
    assert.ok(r.ok);
    assert.equal(
      toHex(r.block.txs[0]!.inputs[0]!.scriptSig),
      '04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73',
    );
  });

  test('btcd blocks1-256.dat: block 1 builds on the mainnet genesis', () => {
    const file = readVector('btcd', 'blocks1-256.dat');
    const len = new DataView(file.buffer, file.byteOffset).getUint32(4, true);
    const r = decodeBlock(file.subarray(8, 8 + len));
    assert.ok(r.ok);
    assert.ok(equalBytes(r.block.header.prevBlock, PARAMS.main.genesisHash));
  });
});

describe('network magic (pchMessageStart)', () => {
  for (const name of NETWORK_NAMES) {
    test(`${name} ${GENESIS[name].magic}`, () => {
      assert.equal(toHex(PARAMS[name].messageStart), GENESIS[name].magic);
    });
  }
  test('btcd blocks1-256.dat records start with the mainnet magic', () => {
    assert.ok(equalBytes(readVector('btcd', 'blocks1-256.dat').subarray(0, 4), PARAMS.main.messageStart));
  });
  test('signet magic is derived from the default challenge (BIP325)', () => {
    const challenge = PARAMS.signet.signetChallenge;
    assert.ok(challenge !== undefined && PARAMS.signet.signetBlocks);
    assert.equal(toHex(getSignetMessageStart(challenge)), '0a03cf40');
  });
});

describe('pow_tests sanity_check_chainparams', () => {
  const MAX = (1n << 256n) - 1n;
  for (const name of NETWORK_NAMES) {
    test(`ChainParams ${name} sanity`, () => {
      const params = PARAMS[name];
      assert.equal(params.name, name);
      // target timespan is an even multiple of spacing
      assert.equal(params.powTargetTimespan % params.powTargetSpacing, 0);
      // genesis nBits is positive, doesn't overflow and is lower than powLimit
      const r = decodeBlock(params.genesisBlock);
      assert.ok(r.ok);
      const pow = compactToTarget(r.block.header.bits);
      assert.ok(!pow.negative && pow.target !== 0n);
      assert.ok(!pow.overflow);
      assert.ok(params.powLimit >= pow.target);
      // max target * 4 * nPowTargetTimespan doesn't overflow (CalculateNextWorkRequired)
      if (!params.powNoRetargeting) assert.ok(params.powLimit < MAX / BigInt(params.powTargetTimespan * 4));
    });
  }
});

describe('consensus parameters', () => {
  test('difficulty adjustment interval: 2016 blocks, 144 on regtest', () => {
    for (const name of NETWORK_NAMES) assert.equal(difficultyAdjustmentInterval(PARAMS[name]), name === 'regtest' ? 144 : 2016, name);
  });
  test('pow flags: min-difficulty on testnets and regtest, BIP94 on testnet4, no retargeting on regtest', () => {
    const flags = (n: NetworkName) => [PARAMS[n].powAllowMinDifficultyBlocks, PARAMS[n].enforceBIP94, PARAMS[n].powNoRetargeting];
    assert.deepEqual(flags('main'), [false, false, false]);
    assert.deepEqual(flags('testnet3'), [true, false, false]);
    assert.deepEqual(flags('testnet4'), [true, true, false]);
    assert.deepEqual(flags('signet'), [false, false, false]);
    assert.deepEqual(flags('regtest'), [true, false, true]);
  });
  test('MAX_TIMEWARP is 600 seconds', () => {
    assert.equal(MAX_TIMEWARP, 600);
    for (const name of NETWORK_NAMES) assert.equal(PARAMS[name].maxTimewarp, 600);
  });
  test('subsidy halving interval: 210000, 150 on regtest', () => {
    for (const name of NETWORK_NAMES) assert.equal(PARAMS[name].subsidyHalvingInterval, name === 'regtest' ? 150 : 210000, name);
  });
  test('getParams returns PARAMS entries and refuses unknown names', () => {
    for (const name of NETWORK_NAMES) assert.equal(getParams(name), PARAMS[name]);
    assert.throws(() => getParams('testnet' as NetworkName), TypeError);
    assert.throws(() => getParams('toString' as NetworkName), TypeError);
  });
  test("the default assumevalid block and minimum chain work are Core 30's (kernel/chainparams.cpp of v30.0)", () => {
    // Core 30.0: mainnet block 912683, testnet3 4550000, testnet4 91000, signet 267665.
    const core30: Record<Exclude<NetworkName, 'regtest'>, [string, bigint]> = {
      main: ['00000000000000000000611fd22f2df7c8fbd0688745c3a6c3bb5109cc2a12cb', 0xdee8e2a309ad8a9820433c68n],
      testnet3: ['0000000000000065c6c38258e201971a3fdfcc2ceee0dd6e85a6c022d45dee34', 0x16dd270dd94fac1d7632n],
      testnet4: ['000000000000000180a58e7fa3b0db84b5ea76377524894f53660d93ac839d9b', 0x34a4690fe592dc49c7cn],
      signet: ['000000128586e26813922680309f04e1de713c7542fee86ed908f56368aefe2e', 0x67d328e681an],
    };
    for (const [name, [assumeValid, minimumChainWork]] of Object.entries(core30) as [NetworkName, [string, bigint]][]) {
      const p = PARAMS[name];
      assert.equal(p.defaultAssumeValid === undefined ? undefined : hashToHex(p.defaultAssumeValid), assumeValid, name);
      assert.equal(p.minimumChainWork, minimumChainWork, name);
    }
  });
  test('assumevalid and minimum chain work are set on the public networks only', () => {
    for (const name of NETWORK_NAMES) {
      const p = PARAMS[name];
      assert.equal(p.defaultAssumeValid === undefined, name === 'regtest', name);
      assert.equal(p.minimumChainWork === 0n, name === 'regtest', name);
    }
  });
});

describe('activation heights (SOURCES.md table, from Core chainparams.cpp)', () => {
  // [network, BIP34, DERSIG (BIP66), CHECKLOCKTIMEVERIFY (BIP65), CHECKSEQUENCEVERIFY (CSV), NULLDUMMY (segwit)]
  const rows: [NetworkName, number, number, number, number, number][] = [
    ['main', 227931, 363725, 388381, 419328, 481824],
    ['testnet3', 21111, 330776, 581885, 770112, 834624],
  ];
  for (const [name, bip34, bip66, bip65, csv, segwit] of rows) {
    test(name, () => {
      const p = PARAMS[name];
      assert.deepEqual([p.bip34Height, p.bip66Height, p.bip65Height, p.csvHeight, p.segwitHeight], [bip34, bip66, bip65, csv, segwit]);
    });
  }
  for (const [name, , bip66, bip65, csv, segwit] of rows) {
    test(`${name}: GetBlockScriptFlags adds each flag at its activation height itself, not a block later`, () => {
      // Core: DeploymentActiveAt(block_index, ...) for DERSIG, CLTV, CSV, and SEGWIT (NULLDUMMY).
      const cases: [number, number, string][] = [
        [SCRIPT_VERIFY_DERSIG, bip66, 'DERSIG'],
        [SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY, bip65, 'CHECKLOCKTIMEVERIFY'],
        [SCRIPT_VERIFY_CHECKSEQUENCEVERIFY, csv, 'CHECKSEQUENCEVERIFY'],
        [SCRIPT_VERIFY_NULLDUMMY, segwit, 'NULLDUMMY'],
      ];
      for (const [flag, height, what] of cases) {
        assert.equal(getBlockScriptFlags(name, height - 1) & flag, 0, `${what} at ${height - 1}`);
        assert.equal(getBlockScriptFlags(name, height) & flag, flag, `${what} at ${height}`);
      }
    });
  }
  test('testnet4 and signet: everything from block 1; regtest: segwit from genesis', () => {
    for (const name of ['testnet4', 'signet', 'regtest'] as const) {
      const p = PARAMS[name];
      assert.deepEqual([p.bip34Height, p.bip66Height, p.bip65Height, p.csvHeight], [1, 1, 1, 1], name);
      assert.equal(p.segwitHeight, name === 'regtest' ? 0 : 1, name);
      assert.equal(p.bip34Hash, undefined, name);
    }
  });
  test('BIP34 hashes', () => {
    assert.equal(hashToHex(PARAMS.main.bip34Hash!), '000000000000024b89b42a942fe0d9fea3bb44ab7bd1b19115dd6a759c0808b8');
    assert.equal(hashToHex(PARAMS.testnet3.bip34Hash!), '0000000023b3a96d3484e5abb3755c413e7d41500f8e2a5c3f0dd01299cd8ef8');
  });
});

describe('exception blocks', () => {
  const BIP16_EXCEPTION = '00000000000002dc756eebf4f49723ed8d30cc28a5f108eb94b1ba88ac4f9c22';
  const TAPROOT_EXCEPTION = '0000000000000000000f14c35b2d841e986ab5441de8c585d5ffe55ea1e395ad';
  const TESTNET3_BIP16_EXCEPTION = '00000000dd30457c001f4095d208cc1296b0eed002427aa599874af7a432b105';
  const ALWAYS = SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | SCRIPT_VERIFY_TAPROOT;

  test(`mainnet BIP16 exception ${BIP16_EXCEPTION}: no script flags`, () => {
    assert.equal(hashToHex(PARAMS.main.bip16Exception!), BIP16_EXCEPTION);
    assert.equal(getBlockScriptFlags('main', 170000, hexToHash(BIP16_EXCEPTION)), 0);
  });
  test(`mainnet taproot exception ${TAPROOT_EXCEPTION}: P2SH and WITNESS without TAPROOT`, () => {
    const heightFlags = SCRIPT_VERIFY_DERSIG | SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY | SCRIPT_VERIFY_CHECKSEQUENCEVERIFY | SCRIPT_VERIFY_NULLDUMMY;
    assert.equal(getBlockScriptFlags('main', 700000, hexToHash(TAPROOT_EXCEPTION)), SCRIPT_VERIFY_P2SH | SCRIPT_VERIFY_WITNESS | heightFlags);
    assert.equal(getBlockScriptFlags('main', 700000), ALWAYS | heightFlags);
  });
  test(`testnet3 BIP16 exception ${TESTNET3_BIP16_EXCEPTION}: no script flags`, () => {
    assert.equal(hashToHex(PARAMS.testnet3.bip16Exception!), TESTNET3_BIP16_EXCEPTION);
    assert.equal(getBlockScriptFlags('testnet3', 1000, hexToHash(TESTNET3_BIP16_EXCEPTION)), 0);
    // Not an exception on another network.
    assert.equal(getBlockScriptFlags('main', 1000, hexToHash(TESTNET3_BIP16_EXCEPTION)), ALWAYS);
  });
  test('only mainnet has script flag exceptions besides testnet3', () => {
    assert.equal(PARAMS.main.scriptFlagExceptions.size, 2);
    assert.equal(PARAMS.testnet3.scriptFlagExceptions.size, 1);
    for (const name of ['testnet4', 'signet', 'regtest'] as const) assert.equal(PARAMS[name].scriptFlagExceptions.size, 0);
  });

  // Core's IsBIP30Repeat.
  const bip30: [number, string][] = [
    [91842, '00000000000a4d0a398161ffc163c503763b1f4360639393e0e4c8e300e0caec'],
    [91880, '00000000000743f190a18c5577a3c2d2a1f610ae9601ac046a38084ccb7cd721'],
  ];
  for (const [height, hash] of bip30) {
    test(`BIP30 repeat at ${height} ${hash}`, () => {
      assert.ok(isBIP30Repeat(PARAMS.main, height, hexToHash(hash)));
      assert.ok(!isBIP30Repeat(PARAMS.main, height + 1, hexToHash(hash)));
      assert.ok(!isBIP30Repeat(PARAMS.testnet3, height, hexToHash(hash)));
    });
  }
  test("BIP30 is enforced (Core's ConnectBlock) except at the two repeats, and on the known chain from the BIP34 block until 1,983,702", () => {
    const main = PARAMS.main;
    const other = hexToHash('00000000000000000000000000000000000000000000000000000000000000ff');
    // The repeats, and only with their own hash.
    for (const [height, hash] of bip30) {
      assert.equal(enforceBIP30(main, height, hexToHash(hash), undefined), false, `${height}`);
      assert.equal(enforceBIP30(main, height, other, undefined), true, `${height} with another hash`);
    }
    // Descending from the known BIP34 block (pindex->pprev->GetAncestor(BIP34Height)): skipped
    // below BIP34_IMPLIES_BIP30_LIMIT, enforced again from that height on.
    assert.equal(BIP34_IMPLIES_BIP30_LIMIT, 1_983_702);
    assert.equal(enforceBIP30(main, 500_000, other, main.bip34Hash), false);
    assert.equal(enforceBIP30(main, 1_983_701, other, main.bip34Hash), false);
    assert.equal(enforceBIP30(main, 1_983_702, other, main.bip34Hash), true);
    // On another branch at the BIP34 height, or below it (no such ancestor): enforced.
    assert.equal(enforceBIP30(main, 500_000, other, other), true);
    assert.equal(enforceBIP30(main, 200_000, other, undefined), true);
    // Networks whose BIP34 hash is null (BIP34 from block 1) never skip it.
    assert.equal(enforceBIP30(PARAMS.regtest, 500, other, other), true);
  });
  test('BIP30 exceptions: two on mainnet, none elsewhere', () => {
    assert.equal(PARAMS.main.bip30Exceptions.length, 2);
    for (const name of ['testnet3', 'testnet4', 'signet', 'regtest'] as const) assert.equal(PARAMS[name].bip30Exceptions.length, 0);
  });
});
