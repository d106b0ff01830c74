// Writing the kernel's trace (src/kernel/trace.ts) to a file for chrome://tracing or Perfetto:
// shared by the commands that boot the kernel (`l4ts run --trace FILE`, later `l4ts boot`).

import { writeFileSync } from 'node:fs';
import type { Kernel } from '../kernel/kernel.ts';

/** Ring capacity used when a command is asked for a trace: the last million events. */
export const TRACE_CAPACITY = 1 << 20;

/** Write `kernel`'s recorded events as Chrome trace-event JSON to `path`; returns how many
 *  events were written (older ones beyond the ring's capacity are counted as dropped in the
 *  file's otherData). */
export function writeKernelTrace(kernel: Kernel, path: string): number {
  writeFileSync(path, kernel.trace.toChromeJson());
  return kernel.trace.events().length;
}
