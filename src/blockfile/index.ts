// Bitcoin Core's block files (blk*.dat, xor.dat): a streaming reader and an appending writer.

export {
  BLOCK_RECORD_HEADER_SIZE,
  listBlockFiles,
  readAllBlocks,
  readBlocks,
  readBlockHeadersAsync,
  readBlocksAsync,
  resolveBlockFiles,
  scanBlockRecords,
  type BlockFileIssue,
  type BlockFileIssueCode,
  type BlockHeaderRecord,
  type BlockScanItem,
  type BlockRecord,
  type ReadBlocksOptions,
  type ReadBlocksSummary,
} from './reader.js';
export { BlockFileWriter, MAX_BLOCKFILE_SIZE, blockFileName, type BlockFileWriterOptions, type BlockPosition } from './writer.js';
export { XOR_KEY_FILE, XOR_KEY_SIZE, readXorKey, writeXorKey, xorInPlace } from './xor.js';
