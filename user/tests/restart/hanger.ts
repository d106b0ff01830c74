// Declares a 20 ms heartbeat and hangs at once (an endless loop): the supervisor must declare
// the hang 2 x 20 ms after the beat, however often beater (tests/restart/restart.test.ts) beats.

import { heartbeat } from "../../lib/supervisor";

let spin = 0;
const sink = new StaticArray<i32>(1);

export function main(): i32 {
  heartbeat(20);
  for (;;) {
    spin++;
    sink[0] = spin; // a side effect on every turn: the loop stays
  }
  return 0;
}
