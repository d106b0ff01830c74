// Talking to the supervisor (docs/USERLAND.md "Supervisor"). A component with a restart policy
// has the supervisor as its exception handler; the heartbeat is a runtime call (an `ecall`
// with a7 = RtCall.Heartbeat) that reaches it that way, so it needs no capability.
//
//   heartbeat(periodMs)   "alive; the next beat comes within periodMs". The first beat
//                         declares the heartbeat; from then on, no beat for 2 x periodMs of
//                         virtual time counts as a hang and the supervisor restarts the
//                         component. heartbeat(0) withdraws it. Each life declares its own.
//
// Without a supervisor (no exception handler) the call stops the thread, so only components
// with a restart policy may beat.

@external("env", "heartbeat")
declare function rtHeartbeat(periodMs: i32): i32;

export function heartbeat(periodMs: i32): i32 {
  return rtHeartbeat(periodMs);
}
