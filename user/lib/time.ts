// Time (docs/USERLAND.md "Time"): the board's virtual clock, read in U-mode from the `time` CSR
// (the l4.time intrinsic: no system call). The unit is the mtime tick, MTIME_HZ a second, the
// unit of every kernel timeout (recv/call timeouts). A board built with another timer
// frequency gives it in the start information (StartHdr.TimerHz); prefer that when present.

import { MTIME_HZ } from "./abi";
import { time } from "./syscalls";

/** mtime ticks per millisecond at MTIME_HZ. */
export const TICKS_PER_MS: i64 = <i64>MTIME_HZ / 1000;

/** mtime ticks since the board started (a consistent 64-bit value; never goes backwards). */
export function now(): i64 {
  return time();
}

/** Whole milliseconds since the board started, at MTIME_HZ. */
export function nowMs(): i64 {
  return time() / TICKS_PER_MS;
}
