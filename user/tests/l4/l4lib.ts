// user/lib end to end: IPC with MRs in registers and in the UTCB, the last message's label,
// length, badge and MRs surviving later system calls, kernel-object methods with results via
// res(), UTCB transfer items, memory.grow through the memory manager, the debug console.
// Run by src/toolchain/userlib/userlib.test.ts, whose host stands in for the kernel and a server
// on endpoint slot 17. main() returns 0, or the number of the first check that failed.

import {
  CompSlot, DATA_BASE, Err, ObjType, RtData, Rights, UTCB_BASE, Utcb,
  badge, call, capIdentify, debugPrint, debugPrintHex, getMr, msgInfo, msgLabel, msgLength, peek,
  res, setMr, now, nowMs, TICKS_PER_MS, debugName, setRecvSlot, setXferCaps, threadResume, utcbGet, fpage, infoLabel,
} from "../../lib/l4";

const EP: i32 = 17;

export function main(): i32 {
  debugPrint("l4lib: hello\n");
  const t0 = now();
  for (let i = 0; i < 6; i++) setMr(i, 100 + i);
  let err = call(EP, msgInfo(0x123, 6));
  if (err != Err.Ok) return 1;
  if (msgLabel() != 0x456) return 2;
  if (msgLength() != 5) return 3;
  if (getMr(0) != 200 || getMr(3) != 203 || getMr(4) != 204) return 4;
  if (badge() != 0x77) return 5;
  debugPrint("l4lib: reply kept\n");
  if (getMr(1) != 201 || badge() != 0x77) return 6;

  err = capIdentify(CompSlot.Task, 20);
  if (err != Err.Ok) return 7;
  if (res(1) != ObjType.Endpoint || res(2) != (Rights.Read | Rights.Write) || res(3) != 0x99) return 8;
  if (threadResume(5) != Err.EmptySlot) return 9;
  if (debugName(EP, "endpoint") != Err.Ok) return 17;

  setXferCaps(21, 22);
  setRecvSlot(30);
  if (utcbGet(Utcb.XferCap1) != 22 || utcbGet(Utcb.RecvSlot) != 30) return 10;
  if (peek(UTCB_BASE + Utcb.XferCap0) != 21) return 11;

  // 400 KB: memory.grow beyond the initial pages, through the memory manager.
  const before = peek(DATA_BASE + RtData.MemSize);
  const a = new Array<i32>(100000);
  a[99999] = 7;
  if (a[99999] != 7) return 12;
  if (<u32>peek(DATA_BASE + RtData.MemSize) < <u32>before + 400000) return 13;
  // The clock moves with the work done (100000 stores and more: well over one tick).
  const t1 = now();
  if (t0 < 0 || t1 <= t0 || TICKS_PER_MS != 10000 || nowMs() < t1 / TICKS_PER_MS) return 18;

  if (<u32>UTCB_BASE != 0xf0000000) return 14;
  if (infoLabel(msgInfo(0xfffff, 0)) != 0xfffff) return 15;
  if (fpage(0x12345678, 3, Rights.Read) != 0x12345031) return 16;
  debugPrintHex(0x1234abcd);
  debugPrint("\nl4lib: ok\n");
  return 0;
}
