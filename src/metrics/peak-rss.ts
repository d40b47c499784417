// The peak resident set size of this process, as the selftest and the import benchmark report it.

import { readFileSync } from 'node:fs';

/**
 * Peak resident set size of this process, MB: /proc/self/status VmHWM (every thread, and the mapped
 * LMDB pages touched) where Linux has one. Not getrusage's ru_maxrss: Linux carries the RSS the
 * parent had when it forked this process into it, across exec, so the children of a 247 MB bench
 * process all read 247 MB whatever they did.
 */
export function peakRssMB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) return Number(m[1]) / 1024;
  } catch {
    // Not Linux: getrusage's figure, with the caveat above.
  }
  return process.resourceUsage().maxRSS / 1024;
}
