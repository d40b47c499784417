// Worker entry for look-ahead hashing: no logic here, it hands each batch to src/pipeline.
import { parentPort } from 'node:worker_threads';
import { hashBlockBatch, type HashBatch } from '../src/pipeline/block-hasher.js';

parentPort?.on('message', (batch: HashBatch) => {
  const ends = hashBlockBatch(batch);
  parentPort?.postMessage(ends, [ends.buffer]);
});
