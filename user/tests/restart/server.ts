// A service that can be made to fail (the supervisor's restart tests, docs/USERLAND.md
// "Supervisor"). Restart policy on-failure; beats every BEAT_MS while idle.
//
// Protocol on its service endpoint (slot 16): label 1 echo(MR0 = x) -> MR0 = 0, MR1 = x + 1,
// MR2 = how many calls this life has served; label 2 fail(MR0 = how) never replies:
//   1  load through a wild pointer inside the linear-memory range but beyond the memory
//      (a page fault the memory manager refuses)
//   2  wasm `unreachable` (ebreak)
//   3  an endless loop (only the missed heartbeat reveals it)
//   4  load through a pointer beyond 2 GiB (the bounds check's ebreak)
//   5  a failed assertion (AssemblyScript's abort: RtCall.Abort)

import { recv, reply, setMr, getMr, msgInfo, msgLabel, Err } from "../../lib/l4";
import { heartbeat } from "../../lib/supervisor";

const EP = 16;
const BEAT_MS = 20;
const BEAT_TICKS = 50_000; // 5 ms of mtime: beat well within the period

let served = 0;
let spin = 0;
const sink = new StaticArray<i32>(1);

function fail(how: i32): void {
  if (how == 1) {
    spin += load<i32>(<usize>0x7000_0000);
  } else if (how == 2) {
    unreachable();
  } else if (how == 3) {
    for (;;) {
      spin++;
      sink[0] = spin; // a side effect on every turn: the loop stays
    }
  } else if (how == 4) {
    spin += load<i32>(<usize>0x9000_0010);
  } else if (how == 5) {
    assert(spin == -12345, "asked to fail");
  }
}

export function main(): i32 {
  heartbeat(BEAT_MS);
  for (;;) {
    const e = recv(EP, BEAT_TICKS);
    heartbeat(BEAT_MS);
    if (e != Err.Ok) continue;
    const label = msgLabel();
    if (label == 1) {
      served++;
      const x = getMr(0);
      setMr(0, Err.Ok);
      setMr(1, x + 1);
      setMr(2, served);
      reply(msgInfo(0, 3));
    } else if (label == 2) {
      fail(getMr(0));
      setMr(0, Err.InvalidArg);
      reply(msgInfo(0, 1));
    } else {
      setMr(0, Err.InvalidCall);
      reply(msgInfo(0, 1));
    }
  }
  return 0;
}
