// Deterministic regtest chains for tests and benchmarks: in memory (generateBlocks) or as
// blk*.dat files (generateChain).

export {
  ChainGenerator,
  bip34HeightPush,
  generateBlocks,
  type GenerateOptions,
  type GeneratedBlock,
  type GeneratedCoin,
  type GeneratorStats,
} from './blocks.js';
export { generateChain, type GenerateChainOptions, type GenerateChainResult } from './chain.js';
export { Rng, seedBytes, type Seed } from './prng.js';
export { Signer, encodeDerSignature, type NonceMode } from './signer.js';
export { SPEND_TYPES, Wallet, type SpendType, type WalletEntry } from './wallet.js';
