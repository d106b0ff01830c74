// Beats often and never blocks: heartbeat(10) whenever 0.5 ms of virtual time (now()) has passed,
// forever. With hanger at its priority (round-robin, 5 ms slices) the supervisor gets a message
// every 0.5 ms or so while hanger is silent: the supervisor's deadlines must come from the
// clock, not from receive timeouts that never expire (tests/restart/restart.test.ts).

import { heartbeat } from "../../lib/supervisor";
import { now, TICKS_PER_MS } from "../../lib/time";

const sink = new StaticArray<i64>(1);

export function main(): i32 {
  let last: i64 = 0;
  for (;;) {
    const t = now();
    if (t - last >= TICKS_PER_MS / 2) {
      heartbeat(10);
      last = t;
    }
    sink[0] = t;
  }
  return 0;
}
