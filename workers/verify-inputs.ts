// Worker entry for input-script checks: no logic here, it hands each task to src/pipeline.
import { workerData } from 'node:worker_threads';
import { configureScriptWorker, runScriptTask, type ScriptTask, type ScriptTaskResult, type ScriptWorkerData } from '../src/pipeline/script-task.js';
import { hashBlockBatch, type HashBatch, type HashBatchResult } from '../src/pipeline/block-hasher.js';

await configureScriptWorker(workerData as ScriptWorkerData | undefined);

export default function verifyInputs(task: ScriptTask): ScriptTaskResult {
  return runScriptTask(task);
}

/** Look-ahead hashing for imports, on the same threads (Piscina's `name: 'hashBlocks'`). */
export function hashBlocks(batch: HashBatch): HashBatchResult {
  return hashBlockBatch(batch);
}
