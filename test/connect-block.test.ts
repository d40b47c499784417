// connectBlockInputs' coin update on a real block: plain data (a caller may copy, clone or serialize
// it), the coins the block leaves listed in block order, and not listed when the caller says so;
// then the limits ConnectBlock draws exactly (unspendable outputs, sigop cost, BIP68 locks).

import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { connectBlockInputs, getBlockSubsidy, isUnspendable, type CoinSource, type ConnectContext } from '../src/consensus/connect-block.js';
import { LOCKTIME_VERIFY_SEQUENCE } from '../src/consensus/consensus.js';
import { checkSequenceLocks, checkTxInputs, isFinalTx } from '../src/consensus/tx-verify.js';
import { Block } from '../src/primitives/block.js';
import { toHex } from '../src/primitives/bytes.js';
import { SEQUENCE_LOCKTIME_DISABLE_FLAG, SEQUENCE_LOCKTIME_TYPE_FLAG, Transaction, type TxOut } from '../src/primitives/transaction.js';
import { OP } from '../src/script/opcodes.js';
import { blockScriptFlags, loadBlockFixture } from './helpers/real-blocks.js';

const F = loadBlockFixture('bcoin/mainnet/block300025.raw');
const ctx: ConnectContext = {
  height: F.height,
  flags: blockScriptFlags('mainnet', F.height),
  lockTimeFlags: 0,
  prevMedianTimePast: Number.POSITIVE_INFINITY,
  enforceBIP30: false,
  subsidyHalvingInterval: 210_000,
};
const source: CoinSource = { fetch: (_txid, _vout, txIndex, inputIndex) => F.perTx[txIndex]![inputIndex] };

/** Every spendable output of the block that no later transaction of it spends, in block order. */
function expectedCreated(): string[] {
  const spentHere = new Set<string>();
  for (const tx of F.block.txs.slice(1)) for (const i of tx.inputs) spentHere.add(`${toHex(i.prevout.hash)}:${i.prevout.index}`);
  const out: string[] = [];
  for (const tx of F.block.txs) {
    tx.outputs.forEach((o, vout) => {
      const key = `${toHex(tx.txid())}:${vout}`;
      if (!isUnspendable(o.scriptPubKey) && !spentHere.has(key)) out.push(key);
    });
  }
  return out;
}

test('the coin update is plain data: copied, cloned or serialized, it keeps every list', () => {
  const r = connectBlockInputs(F.block, ctx, source);
  assert.equal(r.result.mode, 'valid');
  const u = r.update;
  assert.deepEqual(Object.keys(u), ['spent', 'undo', 'created']);
  assert.deepEqual(
    u.created.map((c) => `${toHex(c.txid)}:${c.vout}`),
    expectedCreated(),
  );
  assert.ok(u.created.every((c) => c.coin.height === F.height && c.coin.coinbase === (toHex(c.txid) === toHex(F.block.txs[0]!.txid()))));
  for (const copy of [{ ...u }, structuredClone(u), JSON.parse(JSON.stringify(u)) as typeof u]) {
    assert.equal(copy.created.length, u.created.length);
    assert.equal(copy.spent.length, u.spent.length);
    assert.equal(copy.undo.length, u.undo.length);
  }
});

test('listCreated: false leaves the created coins out and changes nothing else', () => {
  const all = connectBlockInputs(F.block, ctx, source);
  const none = connectBlockInputs(F.block, ctx, source, { listCreated: false });
  assert.deepEqual(none.result, all.result);
  assert.equal(none.update.created.length, 0);
  assert.deepEqual(none.update.spent, all.update.spent);
  assert.deepEqual(none.update.undo, all.update.undo);
  assert.equal(none.fees, all.fees);
  assert.equal(none.sigOpCost, all.sigOpCost);
});

test('listSpent: false leaves the spent coins and undo data out and changes nothing else', () => {
  const all = connectBlockInputs(F.block, ctx, source);
  assert.ok(all.update.spent.length > 0 && all.update.undo.length === all.update.spent.length);
  const none = connectBlockInputs(F.block, ctx, source, { listSpent: false });
  assert.deepEqual(none.result, all.result);
  assert.deepEqual([none.update.spent.length, none.update.undo.length], [0, 0]);
  assert.deepEqual(none.update.created, all.update.created);
  assert.equal(none.fees, all.fees);
  assert.equal(none.sigOpCost, all.sigOpCost);
  assert.equal(none.inputs, all.inputs);
});

// Small synthetic blocks for the limits Core draws with > and >=: the transactions need no valid
// scripts here, since connectBlockInputs hands the scripts to a runner and checks everything else.

const P2WPKH = Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(0x11));
const COINBASE = new Transaction(
  1,
  [{ prevout: { hash: new Uint8Array(32), index: 0xffffffff }, scriptSig: Uint8Array.of(0x03, 0x39, 0x93, 0x04), sequence: 0xffffffff, witness: [] }],
  [{ value: 0, scriptPubKey: Uint8Array.of(OP.OP_1) }],
  0,
);

/** A transaction spending `prevouts`, with `outputs`. */
function spend(prevouts: readonly { hash: Uint8Array; index: number }[], outputs: TxOut[]): Transaction {
  return new Transaction(2, prevouts.map((prevout) => ({ prevout, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] })), outputs, 0);
}

/** Coins from before the block: output `vout` of txid 0x0101… is worth 10,000 sat and pays P2WPKH. */
const OLD_TXID = new Uint8Array(32).fill(1);
const oldCoins: CoinSource = { fetch: (txid) => (toHex(txid) === toHex(OLD_TXID) ? { value: 10_000, scriptPubKey: P2WPKH, height: 1000, coinbase: false } : undefined) };
const oldCoin = (vout: number): { hash: Uint8Array; index: number } => ({ hash: OLD_TXID, index: vout });

/** The reject reason and where it points, or 'valid'. */
function verdict(r: ReturnType<typeof connectBlockInputs>): string {
  const v = r.result;
  if (v.mode === 'valid') return 'valid';
  if (v.mode !== 'invalid') return `${v.mode} ${v.reason}`;
  return [v.reason, v.txIndex === undefined ? '' : ` tx ${v.txIndex}`, v.inputIndex === undefined ? '' : ` input ${v.inputIndex}`].join('');
}

test('an output of exactly MAX_SCRIPT_SIZE (10,000) bytes is a coin; one of 10,001 bytes is unspendable and never enters the UTXO set', () => {
  // Core's CScript::IsUnspendable: (size() > 0 && *begin() == OP_RETURN) || size() > MAX_SCRIPT_SIZE;
  // AddCoin skips such outputs, so spending one, even in the same block, is bad-txns-inputs-missingorspent.
  const script = (n: number): Uint8Array => new Uint8Array(n).fill(OP.OP_1);
  assert.deepEqual([isUnspendable(script(10_000)), isUnspendable(script(10_001)), isUnspendable(Uint8Array.of(OP.OP_RETURN))], [false, true, true]);
  const parent = spend([oldCoin(0)], [
    { value: 4000, scriptPubKey: script(10_000) },
    { value: 4000, scriptPubKey: script(10_001) },
  ]);
  const child = (vout: number): Transaction => spend([{ hash: parent.txid(), index: vout }], [{ value: 3000, scriptPubKey: P2WPKH }]);
  const header = F.block.header;
  const ok = connectBlockInputs(new Block(header, [COINBASE, parent, child(0)]), ctx, oldCoins);
  assert.equal(verdict(ok), 'valid');
  const alone = connectBlockInputs(new Block(header, [COINBASE, parent]), ctx, oldCoins);
  assert.deepEqual(
    alone.update.created.filter((c) => toHex(c.txid) === toHex(parent.txid())).map((c) => c.vout),
    [0],
    'only the 10,000-byte output is a coin',
  );
  assert.equal(verdict(connectBlockInputs(new Block(header, [COINBASE, parent, child(1)]), ctx, oldCoins)), 'bad-txns-inputs-missingorspent tx 2 input 0');
});

test('bad-blk-sigops (ConnectBlock): a sigop cost of exactly MAX_BLOCK_SIGOPS_COST (80,000) is allowed, 80,001 is not', () => {
  // Core's ConnectBlock: nSigOpsCost > MAX_BLOCK_SIGOPS_COST. 19,999 legacy OP_CHECKSIGs (×4 = 79,996)
  // plus one witness sigop (×1) per P2WPKH input spent.
  const checksigs: TxOut = { value: 0, scriptPubKey: new Uint8Array(19_999).fill(OP.OP_CHECKSIG) };
  const withInputs = (n: number): ReturnType<typeof connectBlockInputs> => {
    const tx = spend(Array.from({ length: n }, (_, k) => oldCoin(k)), [checksigs, { value: 1000, scriptPubKey: P2WPKH }]);
    return connectBlockInputs(new Block(F.block.header, [COINBASE, tx]), ctx, oldCoins);
  };
  const at = withInputs(4);
  assert.equal(at.sigOpCost, 80_000);
  assert.equal(verdict(at), 'valid');
  const over = withInputs(5);
  assert.equal(verdict(over), 'bad-blk-sigops tx 1');
  assert.equal(over.result.mode === 'invalid' && over.result.debug, 'too many sigops');
});

test('BIP68 (Core EvaluateSequenceLocks): a lock is satisfied only once the height or median-time-past is past its last invalid one', () => {
  // CalculateSequenceLocks gives the last invalid height (coin height + n - 1) and time (coin time +
  // n × 512 - 1); EvaluateSequenceLocks fails when either is >= the block's height or its parent's MTP.
  const tx = (sequence: number, version = 2): Transaction =>
    new Transaction(version, [{ prevout: oldCoin(0), scriptSig: new Uint8Array(0), sequence, witness: [] }], [{ value: 1, scriptPubKey: P2WPKH }], 0);
  const coin = { height: 1000, time: 1_500_000_000 };
  const locked = (t: Transaction, height: number, mtp: number): boolean => !checkSequenceLocks(t, LOCKTIME_VERIFY_SEQUENCE, [coin], height, mtp).ok;
  // Three 512-second units: the last invalid time is coin.time + 1535.
  const byTime = tx(SEQUENCE_LOCKTIME_TYPE_FLAG | 3);
  assert.equal(locked(byTime, 2000, coin.time + 3 * 512 - 1), true);
  assert.equal(locked(byTime, 2000, coin.time + 3 * 512), false);
  // Five blocks: the last invalid height is 1004.
  const byHeight = tx(5);
  assert.equal(locked(byHeight, 1004, 2_000_000_000), true);
  assert.equal(locked(byHeight, 1005, 2_000_000_000), false);
  // The disable flag, a version below 2, or no LOCKTIME_VERIFY_SEQUENCE: no lock at all.
  assert.equal(locked(tx(SEQUENCE_LOCKTIME_DISABLE_FLAG | 5), 1001, coin.time), false);
  assert.equal(locked(tx(5, 1), 1001, coin.time), false);
  assert.equal(checkSequenceLocks(byHeight, 0, [coin], 1001, coin.time).ok, true);
});

test('bad-txns-BIP30: an output of the block\'s coinbase that is already an unspent coin, checked output 0 included', () => {
  // Core's ConnectBlock: for every transaction, the coinbase first, and every output o,
  // view.HaveCoin(COutPoint(tx->GetHash(), o)) is bad-txns-BIP30 (the historic duplicates were coinbases).
  const parent = spend([oldCoin(0)], [{ value: 4000, scriptPubKey: P2WPKH }, { value: 4000, scriptPubKey: P2WPKH }]);
  const block = new Block(F.block.header, [COINBASE, parent]);
  const utxo = (txid: Uint8Array, vout: number): CoinSource => ({
    fetch: oldCoins.fetch,
    haveCoin: (t, v) => toHex(t) === toHex(txid) && v === vout,
  });
  const bip30 = { ...ctx, enforceBIP30: true };
  assert.equal(verdict(connectBlockInputs(block, bip30, utxo(COINBASE.txid(), 0))), 'bad-txns-BIP30 tx 0');
  assert.equal(verdict(connectBlockInputs(block, bip30, utxo(parent.txid(), 0))), 'bad-txns-BIP30 tx 1');
  assert.equal(verdict(connectBlockInputs(block, bip30, utxo(parent.txid(), 1))), 'bad-txns-BIP30 tx 1');
  // Not enforced (a BIP30 exception, or BIP34 buried), or no such coin: valid.
  assert.equal(verdict(connectBlockInputs(block, ctx, utxo(COINBASE.txid(), 0))), 'valid');
  assert.equal(verdict(connectBlockInputs(block, bip30, utxo(COINBASE.txid(), 1))), 'valid');
});

test('bad-cb-amount at a halving: the subsidy halves at the interval\'s multiple itself, not a block later', () => {
  // Core's GetBlockSubsidy(nHeight): 50 BTC >> (nHeight / nSubsidyHalvingInterval).
  const paying = (value: number): Block =>
    new Block(F.block.header, [new Transaction(1, COINBASE.inputs, [{ value, scriptPubKey: Uint8Array.of(OP.OP_1) }], 0)]);
  const at = (height: number, halvingInterval: number, value: number): string =>
    verdict(connectBlockInputs(paying(value), { ...ctx, height, subsidyHalvingInterval: halvingInterval }, oldCoins));
  assert.equal(at(209_999, 210_000, 50e8), 'valid');
  assert.equal(at(210_000, 210_000, 50e8), 'bad-cb-amount tx 0');
  assert.equal(at(210_000, 210_000, 25e8), 'valid');
  assert.equal(at(419_999, 210_000, 25e8), 'valid');
  assert.equal(at(420_000, 210_000, 25e8), 'bad-cb-amount tx 0');
  // Regtest halves every 150 blocks.
  assert.equal(at(149, 150, 50e8), 'valid');
  assert.equal(at(150, 150, 50e8), 'bad-cb-amount tx 0');
  assert.equal(at(150, 150, 25e8), 'valid');
  // From the tenth halving on, 50 BTC >> n is no longer a whole number of satoshis halved: it rounds down.
  assert.deepEqual([getBlockSubsidy(1350, 150), getBlockSubsidy(1500, 150), getBlockSubsidy(1650, 150)], [9_765_625, 4_882_812, 2_441_406]);
  assert.equal(getBlockSubsidy(2_100_000, 210_000), 4_882_812);
  assert.deepEqual([getBlockSubsidy(63 * 150, 150), getBlockSubsidy(64 * 150, 150)], [0, 0]);
  const r = connectBlockInputs(paying(4_882_813), { ...ctx, height: 1500, subsidyHalvingInterval: 150 }, oldCoins);
  assert.equal(verdict(r), 'bad-cb-amount tx 0');
  assert.equal(r.result.mode === 'invalid' && r.result.debug, 'coinbase pays too much (actual=4882813 vs limit=4882812)');
});

test('bad-txns-premature-spend-of-coinbase: the block\'s own coinbase output spent in the same block (depth 0)', () => {
  // A coin this block makes has the block's height, and a coinbase's is a coinbase coin (Core's AddCoins).
  const child = spend([{ hash: COINBASE.txid(), index: 0 }], [{ value: 0, scriptPubKey: P2WPKH }]);
  const r = connectBlockInputs(new Block(F.block.header, [COINBASE, child]), ctx, oldCoins);
  assert.equal(verdict(r), 'bad-txns-premature-spend-of-coinbase tx 1 input 0');
  assert.match(r.result.mode === 'invalid' ? (r.result.debug ?? '') : '', /^tried to spend coinbase at depth 0 /);
  // An output of an ordinary transaction of the block is spendable at once.
  const parent = spend([oldCoin(0)], [{ value: 4000, scriptPubKey: P2WPKH }]);
  const grandchild = spend([{ hash: parent.txid(), index: 0 }], [{ value: 3000, scriptPubKey: P2WPKH }]);
  assert.equal(verdict(connectBlockInputs(new Block(F.block.header, [COINBASE, parent, grandchild]), ctx, oldCoins)), 'valid');
});

test('IsFinalTx: nLockTime 0 is final whatever the height and time, even 0 (Core returns before comparing)', () => {
  const tx = new Transaction(2, [{ prevout: oldCoin(0), scriptSig: new Uint8Array(0), sequence: 0, witness: [] }], [{ value: 1, scriptPubKey: P2WPKH }], 0);
  assert.equal(isFinalTx(tx, 0, 0), true);
  assert.equal(isFinalTx(tx, 1, 0), true);
  // nLockTime 1 with a non-final sequence: not final at height 1, final at height 2.
  const locked = new Transaction(2, tx.inputs, tx.outputs, 1);
  assert.equal(isFinalTx(locked, 1, 0), false);
  assert.equal(isFinalTx(locked, 2, 0), true);
});

test('CheckTxInputs: bad-txns-fee-outofrange when the outputs were never range-checked (a negative output)', () => {
  // Core's CheckTxInputs: txfee_aux = nValueIn - value_out must be in MoneyRange. CheckTransaction
  // rejects such outputs first in a block; checkTxInputs on its own must not yield the fee.
  const tx = new Transaction(2, [{ prevout: oldCoin(0), scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] }], [{ value: -21e14, scriptPubKey: P2WPKH }], 0);
  const r = checkTxInputs(tx, [{ value: 10_000, coinbase: false, height: 1000 }], 2000);
  assert.deepEqual(r, { ok: false, reason: 'bad-txns-fee-outofrange' });
  const fine = new Transaction(2, tx.inputs, [{ value: 9_000, scriptPubKey: P2WPKH }], 0);
  assert.deepEqual(checkTxInputs(fine, [{ value: 10_000, coinbase: false, height: 1000 }], 2000), { ok: true, fee: 1000 });
});

// BIP68 with part of the data missing (validateBlock's stateless context: no parent median-time-past,
// spent-output lists that may lack coin heights). Core's CalculateSequenceLocks takes the maximum of
// every input's last invalid height and time, and EvaluateSequenceLocks fails when either is reached:
// a lock that already fails on the inputs that can be evaluated fails the transaction whatever the
// others say, and a coin made in the block itself has, by definition, the parent's median-time-past as
// its BIP68 time (block.GetAncestor(nCoinHeight - 1) is pprev).

/** The stateless context validateBlock hands connectBlockInputs, at a CSV height. */
const stateless: ConnectContext = { ...ctx, height: 1001, lockTimeFlags: LOCKTIME_VERIFY_SEQUENCE, prevMedianTimePast: Number.POSITIVE_INFINITY };

test('BIP68: a height lock that fails is bad-txns-nonfinal though another input has a time lock whose coin time is unknown', () => {
  // Input 1: a 5-block lock on a coin of height 1000, last invalid height 1004 >= 1001. Core fails the
  // transaction on it whatever input 0's time lock gives (the locks are maxima).
  const input = (vout: number, sequence: number): Transaction['inputs'][number] => ({ prevout: oldCoin(vout), scriptSig: new Uint8Array(0), sequence, witness: [] });
  const heightOnly = new Transaction(2, [input(1, 5)], [{ value: 1000, scriptPubKey: P2WPKH }], 0);
  assert.equal(verdict(connectBlockInputs(new Block(F.block.header, [COINBASE, heightOnly]), stateless, oldCoins)), 'bad-txns-nonfinal tx 1');
  const both = new Transaction(2, [input(0, SEQUENCE_LOCKTIME_TYPE_FLAG | 1), input(1, 5)], [{ value: 1000, scriptPubKey: P2WPKH }], 0);
  assert.equal(verdict(connectBlockInputs(new Block(F.block.header, [COINBASE, both]), stateless, oldCoins)), 'bad-txns-nonfinal tx 1');
});

test('BIP68: an in-block coin\'s height lock is checked though another input, which opts out, spends a coin of unknown height', () => {
  // bcoin undo data carries no coin heights. Input 0 sets the disable flag (0xffffffff), so Core never
  // reads its coin's height; input 1 spends the block's own tx 1 (height 1001) with a one-block lock,
  // last invalid height 1001 + 1 - 1 = 1001 >= 1001: not final.
  const noHeights: CoinSource = { fetch: (txid) => (toHex(txid) === toHex(OLD_TXID) ? { value: 10_000, scriptPubKey: P2WPKH } : undefined) };
  const parent = spend([oldCoin(0)], [{ value: 4000, scriptPubKey: P2WPKH }]);
  const child = (sequence: number): Transaction =>
    new Transaction(
      2,
      [
        { prevout: oldCoin(1), scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] },
        { prevout: { hash: parent.txid(), index: 0 }, scriptSig: new Uint8Array(0), sequence, witness: [] },
      ],
      [{ value: 1000, scriptPubKey: P2WPKH }],
      0,
    );
  const run = (sequence: number): ReturnType<typeof connectBlockInputs> => connectBlockInputs(new Block(F.block.header, [COINBASE, parent, child(sequence)]), stateless, noHeights);
  assert.equal(verdict(run(1)), 'bad-txns-nonfinal tx 2');
  // A zero-block lock is satisfied at once (last invalid height 1000).
  assert.equal(verdict(run(0)), 'valid');
});

test('BIP68: a time lock of one unit or more on a coin made in the same block is never satisfied, one of zero units always is', () => {
  // Core: nCoinTime = GetAncestor(nHeight - 1)->GetMedianTimePast(), the parent's MTP, so the last
  // invalid time is prevMTP + n × 512 - 1, which is >= prevMTP exactly when n >= 1, whatever prevMTP is.
  const parent = spend([oldCoin(0)], [{ value: 4000, scriptPubKey: P2WPKH }]);
  const child = (sequence: number): Transaction =>
    new Transaction(2, [{ prevout: { hash: parent.txid(), index: 0 }, scriptSig: new Uint8Array(0), sequence, witness: [] }], [{ value: 1000, scriptPubKey: P2WPKH }], 0);
  const run = (c: ConnectContext, sequence: number): string => verdict(connectBlockInputs(new Block(F.block.header, [COINBASE, parent, child(sequence)]), c, oldCoins));
  // With the chain (its median-time-past known), as ChainState runs it:
  const chained: ConnectContext = { ...stateless, prevMedianTimePast: 1_600_000_000, medianTimePastAt: () => 1_600_000_000 };
  assert.equal(run(chained, SEQUENCE_LOCKTIME_TYPE_FLAG | 1), 'bad-txns-nonfinal tx 2');
  assert.equal(run(chained, SEQUENCE_LOCKTIME_TYPE_FLAG | 0), 'valid');
  // Without it (validateBlock): the same answers, since they do not depend on that time.
  assert.equal(run(stateless, SEQUENCE_LOCKTIME_TYPE_FLAG | 1), 'bad-txns-nonfinal tx 2');
  assert.equal(run(stateless, SEQUENCE_LOCKTIME_TYPE_FLAG | 0), 'valid');
});
