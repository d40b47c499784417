// Worker entry for input-script checks: no logic here, it hands the job to src/pipeline.
import { runScriptJob, type ScriptJob, type ScriptJobResult } from '../src/pipeline/script-job.js';

export default function verifyInputs(job: ScriptJob): ScriptJobResult {
  return runScriptJob(job);
}
