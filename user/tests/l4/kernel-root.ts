// user/lib under the real kernel, as the root task (src/toolchain/userlib/userlib.test.ts):
// the start argument is BootInfo, memory.grow stays within BootInfo.LinearPages (no memory
// manager exists), system calls are real. main() returns 0, or the number of the first check
// that failed; the debug console shows how far it got.

import {
  BOOTINFO_BASE, BOOTINFO_MAGIC, BootInfo, BootSlot, DATA_BASE, Err, ObjType, RtData, Rights,
  capIdentify, debugPrint, nbRecv, peek, res, frameInfo, threadReadRegs, ThreadState, now,
} from "../../lib/l4";

export function main(): i32 {
  debugPrint("root: hello\n");
  if (peek(DATA_BASE + RtData.StartArg) != BOOTINFO_BASE) return 1;
  if (peek(BOOTINFO_BASE + 4 * BootInfo.Magic) != BOOTINFO_MAGIC) return 2;
  const linear = peek(BOOTINFO_BASE + 4 * BootInfo.LinearPages);
  if (peek(DATA_BASE + RtData.MemReserved) != linear) return 3;

  if (capIdentify(BootSlot.Task, BootSlot.Task) != Err.Ok) return 4;
  if (res(1) != ObjType.Task || (res(2) & Rights.Write) == 0) return 5;
  if (capIdentify(BootSlot.Task, 4000) != Err.Ok || res(1) != 0) return 6;
  if (threadReadRegs(BootSlot.Thread) != Err.Ok || res(3) != ThreadState.Running) return 7;
  const frame = peek(BOOTINFO_BASE + 4 * BootInfo.ImageFrameFirst);
  if (frameInfo(frame) != Err.Ok || res(2) < 1) return 8;
  if (nbRecv(4000) != Err.EmptySlot) return 9;

  // The time CSR is readable in U-mode (the kernel sets mcounteren/scounteren) and moves.
  const t0 = now();
  // 512 KiB more linear memory: within LinearPages, so no memory manager is asked.
  const a = new Array<i32>(128 * 1024);
  a[a.length - 1] = 5;
  if (a[a.length - 1] != 5) return 10;
  if (<u32>peek(DATA_BASE + RtData.MemSize) <= 512 * 1024) return 11;
  if (t0 <= 0 || now() <= t0) return 12;
  debugPrint("root: ok\n");
  return 0;
}
