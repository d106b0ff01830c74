// The kernel's debug console (Sys.DebugPutc): one byte per system call. Programs in the full
// system print through the console service instead; this is for early boot and tests.

import { sysDebugPutc } from "./syscalls";

/** Print `s` (characters above 0xff as '?'). */
export function debugPrint(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    sysDebugPutc(c > 0xff ? 0x3f : c);
  }
}

/** Print a signed decimal number. */
export function debugPrintInt(n: i32): void {
  debugPrint(n.toString());
}

/** Print a word as 0x followed by 8 hex digits. */
export function debugPrintHex(n: i32): void {
  sysDebugPutc(0x30);
  sysDebugPutc(0x78);
  for (let shift = 28; shift >= 0; shift -= 4) {
    const d = (n >>> shift) & 0xf;
    sysDebugPutc(d < 10 ? 0x30 + d : 0x61 + d - 10);
  }
}
