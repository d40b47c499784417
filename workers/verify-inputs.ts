// Worker entry for input-script checks: no logic here, it hands each task to src/pipeline.
import { runScriptTask, warmUp, type ScriptTask, type ScriptTaskResult } from '../src/pipeline/script-task.js';

warmUp();

export default function verifyInputs(task: ScriptTask): ScriptTaskResult {
  return runScriptTask(task);
}
