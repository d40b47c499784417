// vigil's public API: the wire formats, the script engine and the consensus pieces built so far.

export * from './primitives/bytes.js';
export { COIN, MAX_MONEY, moneyRange } from './primitives/amount.js';
export { ByteReader, ParseError, MAX_SIZE, type ParseCode, type ParseFailure } from './primitives/reader.js';
export { ByteWriter, compactSizeLength } from './primitives/writer.js';
export { sha256, hash256, hash160, ripemd160, taggedHash } from './primitives/hash.js';
export {
  Transaction,
  decodeTransaction,
  serializeTxOut,
  type DecodeTxResult,
  type OutPoint,
  type TxIn,
  type TxOut,
} from './primitives/transaction.js';
export {
  Block,
  BlockHeader,
  decodeBlock,
  decodeHeader,
  computeMerkleRoot,
  blockMerkleRoot,
  blockWitnessMerkleRoot,
  getWitnessCommitmentIndex,
  type DecodeBlockResult,
  type MerkleResult,
} from './primitives/block.js';

export * from './script/flags.js';
export type { ScriptError, ScriptResult } from './script/errors.js';
export { OP, getOpName } from './script/opcodes.js';
export {
  PrecomputedTxData,
  signatureHashLegacy,
  signatureHashWitnessV0,
  signatureHashTaproot,
  SIGHASH_ALL,
  SIGHASH_NONE,
  SIGHASH_SINGLE,
  SIGHASH_ANYONECANPAY,
  SIGHASH_DEFAULT,
} from './script/sighash.js';
export { nobleBackend, type SignatureBackend } from './script/signature.js';
export { loadBackend, BACKEND_NAMES, type BackendName, type LoadBackendOptions } from './script/backends.js';
export { SignatureCache, type SignatureCacheStats } from './script/sig-cache.js';
export { SchnorrBatch, verifySchnorrBatch, type SchnorrBatchOptions, type SchnorrBatchResult } from './script/batch-schnorr.js';
export { verifyTransaction, type VerifyTxOptions, type VerifyTxResult } from './script/verify-tx.js';
export { tapLeafHash, tapBranchHash, tapTweakHash, tweakPublicKey } from './script/taproot.js';
export { verifyInput, TransactionSignatureChecker, type VerifyOptions } from './script/verify.js';
export { verifyScript } from './script/interpreter.js';

export { checkTransaction } from './consensus/tx-check.js';
export { getBlockScriptFlags, NETWORK_NAMES, type NetworkName } from './consensus/script-flags.js';
export { spentOutputsByTx } from './consensus/block-scripts.js';
export { coinbaseHeight } from './consensus/bip34.js';

export { getParams, PARAMS, type ChainParams } from './consensus/params.js';
export { checkProofOfWork, getBlockProof, getNextWorkRequired, compactToTarget, targetToCompact } from './consensus/pow.js';
export { checkBlock, checkBlockHeader, contextualCheckBlock, contextualCheckBlockHeader, blockWeight } from './consensus/check-block.js';
export { connectBlockInputs, getBlockSubsidy, runScriptsSerial, type CoinSource, type SpentCoin, type CoinUpdate, type ConnectOptions, type TxScriptWork } from './consensus/connect-block.js';
export { validateBlock, validateBlockAsync, validateDecodedBlock, MissingHeightError, type ValidateBlockOptions, type BlockReport, type ScriptRunner } from './consensus/validate-block.js';
export type { ValidationResult } from './consensus/validation.js';
export type { Coin, CoinView } from './consensus/coins.js';

export { ChainStore, StoreError, type BlockIndexEntry, type StoreErrorCode } from './store/index.js';
export { ChainState, type ChainStateOptions, type ProcessResult, type BlockNode, type ChainObserver, type ChainStage } from './chain/chain-state.js';
export { importBlocks, DEFAULT_IMPORT_CACHE_BYTES, type ImportOptions, type ImportProgress, type ImportSummary } from './chain/importer.js';
export { readBlocks, readBlocksAsync, readBlockHeadersAsync, BlockFileWriter, readXorKey, type BlockRecord, type BlockHeaderRecord, type BlockFileIssue, type ReadBlocksOptions, type ReadBlocksSummary } from './blockfile/index.js';
export { generateChain, generateBlocks, ChainGenerator, type GenerateOptions, type GeneratedBlock, type GeneratedCoin, type GenerateChainOptions, type GenerateChainResult } from './generate/index.js';

export { readSpentFile, readBcoinUndo, readFlorestaJson, readBtcdUtxoStore, SPENT_FILE_FORMATS, type SpentOutput, type SpentReadResult, type SpentFileFormat, type UtxoStoreReadResult } from './spent/index.js';
export { MAX_SCRIPT_THREADS, ScriptPool, type ScriptPoolOptions, type ScriptPoolStats } from './pipeline/script-pool.js';
export { BlockHasher, type HashRunner } from './pipeline/block-hasher.js';

export { VigilMetrics, type MetricSources } from './metrics/metrics.js';
export { VigilService, type ServiceOptions } from './service/server.js';
export { startService, type StartOptions, type RunningService } from './service/start.js';
export { SourceBook, SCORE_DELTA, DEFAULT_SCORE_POLICY, type ScorePolicy, type SourceRecord, type SourceOutcome } from './service/source-scores.js';
export { RateLimiter, type RateLimitOptions } from './service/rate-limit.js';
export { IngestQueue, QueueClosedError } from './service/ingest-queue.js';
export { checkHealth, type HealthReport, type HealthStatus, type HealthInputs } from './service/health.js';
export { createLogger, silentLogger, type Logger, type LogLevel, type LogFormat, type LoggerOptions } from './service/logger.js';
