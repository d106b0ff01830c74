// Kernel-object methods (Sys.Invoke; docs/ABI.md "System calls" Methods). Each returns the
// error code (Err.Ok = 0); methods with results leave them for res(1..5), read at once (before
// any other system call): capIdentify -> res(1) type, res(2) rights, res(3) badge; frameInfo ->
// res(1) physical address, res(2) pages; threadReadRegs -> res(1) pc, res(2) sp, res(3) state;
// scInfo -> res(1) remaining budget, res(2) overruns.

import { sysInvoke } from "./syscalls";
import { Method, Utcb } from "./abi";
import { utcbSet } from "./ipc";

/** Invoke `method` on the object in `cptr` with arguments a2..a6. */
export function invoke(cptr: i32, method: i32, a2: i32 = 0, a3: i32 = 0, a4: i32 = 0, a5: i32 = 0, a6: i32 = 0): i32 {
  return sysInvoke(cptr, method, a2, a3, a4, a5, a6);
}

// --- task: capability space and address space ---
export function capCopy(task: i32, src: i32, dst: i32, rightsMask: i32): i32 {
  return invoke(task, Method.CapCopy, src, dst, rightsMask);
}
export function capMint(task: i32, src: i32, dst: i32, rightsMask: i32, badge: i32): i32 {
  return invoke(task, Method.CapMint, src, dst, rightsMask, badge);
}
export function capMove(task: i32, src: i32, dst: i32): i32 {
  return invoke(task, Method.CapMove, src, dst);
}
export function capDelete(task: i32, slot: i32): i32 {
  return invoke(task, Method.CapDelete, slot);
}
export function capRevoke(task: i32, slot: i32): i32 {
  return invoke(task, Method.CapRevoke, slot);
}
/** -> res(1) object type (ObjType.*, 0 = empty), res(2) rights, res(3) badge. */
export function capIdentify(task: i32, slot: i32): i32 {
  return invoke(task, Method.CapIdentify, slot);
}
export function taskMap(task: i32, srcFpage: i32, dstVaddr: i32, flags: i32 = 0): i32 {
  return invoke(task, Method.TaskMap, srcFpage, dstVaddr, flags);
}
export function taskUnmap(task: i32, fpage: i32, flags: i32 = 0): i32 {
  return invoke(task, Method.TaskUnmap, fpage, flags);
}

// --- untyped memory ---
export function untypedRetype(untyped: i32, objType: i32, sizeBits: i32, count: i32, dstSlot: i32): i32 {
  return invoke(untyped, Method.UntypedRetype, objType, sizeBits, count, dstSlot);
}

// --- frames and device pages ---
export function frameMap(frame: i32, task: i32, vaddr: i32, rights: i32): i32 {
  return invoke(frame, Method.FrameMap, task, vaddr, rights);
}
export function frameUnmap(frame: i32): i32 {
  return invoke(frame, Method.FrameUnmap);
}
/** -> res(1) physical address, res(2) size in pages. */
export function frameInfo(frame: i32): i32 {
  return invoke(frame, Method.FrameInfo);
}

// --- threads ---
export function threadConfigure(thread: i32, task: i32, utcbVaddr: i32, pager: i32 = 0, excHandler: i32 = 0): i32 {
  return invoke(thread, Method.ThreadConfigure, task, utcbVaddr, pager, excHandler);
}
export function threadSetRegs(thread: i32, pc: i32, sp: i32, a0: i32 = 0): i32 {
  return invoke(thread, Method.ThreadSetRegs, pc, sp, a0);
}
export function threadSetPriority(thread: i32, priority: i32): i32 {
  return invoke(thread, Method.ThreadSetPriority, priority);
}
export function threadSetMcp(thread: i32, mcp: i32): i32 {
  return invoke(thread, Method.ThreadSetMcp, mcp);
}
export function threadResume(thread: i32): i32 {
  return invoke(thread, Method.ThreadResume);
}
export function threadSuspend(thread: i32): i32 {
  return invoke(thread, Method.ThreadSuspend);
}
/** Bind a scheduling context (0 unbinds). */
export function threadBindSc(thread: i32, sc: i32): i32 {
  return invoke(thread, Method.ThreadBindSc, sc);
}
/** -> res(1) pc, res(2) sp, res(3) state (ThreadState.*). */
export function threadReadRegs(thread: i32): i32 {
  return invoke(thread, Method.ThreadReadRegs);
}

// --- scheduling contexts ---
export function scConfigure(sc: i32, budgetTicks: i32, periodTicks: i32): i32 {
  return invoke(sc, Method.ScConfigure, budgetTicks, periodTicks);
}
/** -> res(1) remaining budget ticks, res(2) times the budget ran out. */
export function scInfo(sc: i32): i32 {
  return invoke(sc, Method.ScInfo);
}

// --- interrupts ---
export function irqSetNotification(irq: i32, notification: i32): i32 {
  return invoke(irq, Method.IrqSetNotification, notification);
}
export function irqAck(irq: i32): i32 {
  return invoke(irq, Method.IrqAck);
}
export function irqClear(irq: i32): i32 {
  return invoke(irq, Method.IrqClear);
}

// --- DMA windows ---
export function dmaSetWindow(dma: i32, window: i32, frame: i32, flags: i32): i32 {
  return invoke(dma, Method.DmaSetWindow, window, frame, flags);
}
export function dmaClearWindow(dma: i32, window: i32): i32 {
  return invoke(dma, Method.DmaClearWindow, window);
}

// --- any capability (debugging) ---
/** Name the object `cptr` points to (at most 64 bytes; characters above 0xff become '?'):
 *  the bytes go to the UTCB from Utcb.Mr, four to a word, first byte lowest. */
export function debugName(cptr: i32, name: string): i32 {
  const n = min(name.length, 64);
  for (let w = 0; w < (n + 3) >> 2; w++) {
    let word = 0;
    for (let b = 0; b < 4; b++) {
      const i = w * 4 + b;
      if (i >= n) break;
      let c = name.charCodeAt(i);
      if (c > 0xff) c = 0x3f;
      word |= c << (8 * b);
    }
    utcbSet(Utcb.Mr + 4 * w, word);
  }
  return invoke(cptr, Method.DebugName, n);
}
