// A scheduling context: a CPU budget per period, enforced sporadic-server style (one pending
// replenishment): when a thread has used `budget` cycles, it is throttled until `period` after
// the moment it started consuming that budget, and then gets the full budget again.

import { KObjectBase } from './kobject.ts';
import type { Thread } from './thread.ts';

export class SchedContext extends KObjectBase {
  readonly kind = 'sc' as const;
  /** Cycles per period; 0 = unconfigured (the thread is scheduled without a budget). */
  budget = 0;
  period = 0;
  remaining = 0;
  /** Cycle at which the current budget window began (set when consumption starts). */
  windowStart = -1;
  /** Cycle of the pending replenishment while throttled, else -1. */
  replenishAt = -1;
  /** Times the budget ran out. */
  exhaustions = 0;
  thread: Thread | null = null;
}
