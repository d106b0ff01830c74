// System-call numbers, kernel-object invocation methods and the register convention.
// The single definition shared by the kernel and user code (docs/ABI.md "System calls").
//
// Register convention (RISC-V calling registers; `ecall` from U-mode):
//   a7      system-call number (Sys.*)
//   a0      capability slot (cptr) the call names; on return: error code (Err.*)
//   a1      message-info word (IPC) or method (Sys.Invoke); on return: message info / result 0
//   a2..a5  message registers MR0..MR3 (IPC) or arguments (Sys.Invoke); same on return
//   a6      receive timeout in mtime ticks, 0 = forever (IPC); on return: the sender's badge
// Message registers MR4..MR63 live in the thread's UTCB (utcb.ts).

/** System-call numbers (in a7). */
export const Sys = {
  /** Send to an endpoint and wait for the reply through a one-shot reply right. On a kernel
   * object capability other than an endpoint this is an error (use Invoke). */
  Call: 0,
  /** Send (blocking until a receiver takes it). On a notification: signal. */
  Send: 1,
  /** Send only if a receiver is waiting; otherwise Err.WouldBlock. On a notification: signal. */
  NbSend: 2,
  /** Receive from an endpoint, or wait on a notification. */
  Recv: 3,
  /** Receive only if a sender is waiting (poll a notification). Otherwise Err.WouldBlock. */
  NbRecv: 4,
  /** Reply through the caller's one-shot reply right, do not wait. */
  Reply: 5,
  /** Reply (if a reply right is held), then receive on the endpoint in a0. */
  ReplyRecv: 6,
  /** Give up the rest of the timeslice. */
  Yield: 7,
  /** Invoke a method of a kernel object: a0 = capability slot, a1 = method (Method.*). */
  Invoke: 8,
  /** Debug console: a0 = one byte, appended to the kernel's debug output. */
  DebugPutc: 9,
} as const;
export type SysNumber = (typeof Sys)[keyof typeof Sys];
export const SYS_COUNT = 10;

/** Register numbers of the convention (x10 = a0 ...). */
export const REG_A0 = 10;
export const REG_A1 = 11;
export const REG_A2 = 12;
export const REG_A3 = 13;
export const REG_A4 = 14;
export const REG_A5 = 15;
export const REG_A6 = 16;
export const REG_A7 = 17;
export const REG_SP = 2;
/** Message registers carried in CPU registers (MR0..MR3 = a2..a5). */
export const MSG_REGS_IN_CPU = 4;

/**
 * Methods of Sys.Invoke (in a1), grouped by the object type of the capability in a0.
 * Arguments are a2..a6 in the order given; results come back in a1..a5. Every method checks
 * its arguments before it changes anything (seL4's decode/invoke split).
 */
export const Method = {
  // --- task (address space + capability space); needs Rights.Write on the task capability ---
  /** (srcSlot in caller, dstSlot in task, rightsMask): copy, rights reduced to the mask. */
  CapCopy: 0x10,
  /** (srcSlot, dstSlot, rightsMask, badge): copy with a badge (source must be unbadged). */
  CapMint: 0x11,
  /** (srcSlot in caller, dstSlot in task): move, keeps its place in the derivation tree. */
  CapMove: 0x12,
  /** (slot in task): delete the capability in the slot. */
  CapDelete: 0x13,
  /** (slot in task): delete every capability derived from the one in the slot. */
  CapRevoke: 0x14,
  /** (slot in task) -> a1 = object type (ObjType.*, 0 = empty), a2 = rights, a3 = badge. */
  CapIdentify: 0x15,
  /** (srcFpage in caller's space, dstVaddr in task, flags MapFlags.*): map or grant pages. */
  TaskMap: 0x18,
  /** (fpage in task, flags UnmapFlags.*): remove mappings derived from the pages. */
  TaskUnmap: 0x19,

  // --- untyped memory; needs Rights.Write ---
  /** (objType, sizeBits, count, dstSlot): carve `count` objects into caller slots dstSlot.. */
  UntypedRetype: 0x20,

  // --- frame (DRAM page(s) or device register page); mapping needs the rights it grants ---
  /** (taskSlot, vaddr, rights): map every page of the frame into the task at vaddr. */
  FrameMap: 0x28,
  /** (): remove the mappings made with this capability, and everything derived from them. */
  FrameUnmap: 0x29,
  /** () -> a1 = physical address, a2 = size in pages. */
  FrameInfo: 0x2a,

  // --- thread; needs Rights.Write ---
  /** (taskSlot, utcbVaddr, pagerSlot or 0, exceptionSlot or 0): bind to a task. */
  ThreadConfigure: 0x30,
  /** (pc, sp, a0): set the start registers. */
  ThreadSetRegs: 0x31,
  /** (priority): at most the caller's maximum controlled priority. */
  ThreadSetPriority: 0x32,
  /** (mcp): set the maximum controlled priority, at most the caller's own. */
  ThreadSetMcp: 0x33,
  ThreadResume: 0x34,
  ThreadSuspend: 0x35,
  /** (scSlot or 0): bind a scheduling context (0 unbinds). */
  ThreadBindSc: 0x36,
  /** () -> a1 = pc, a2 = sp, a3 = state (ThreadState.*). */
  ThreadReadRegs: 0x37,

  // --- scheduling context; needs Rights.Write ---
  /** (budgetTicks, periodTicks): mtime ticks; budget <= period, both > 0. */
  ScConfigure: 0x40,
  /** () -> a1 = remaining budget ticks, a2 = times the budget ran out. */
  ScInfo: 0x41,

  // --- IRQ handler ---
  /** (notificationSlot): deliver this source as a signal of the notification's badge. */
  IrqSetNotification: 0x48,
  /** (): acknowledge (PLIC complete); the source may interrupt again. */
  IrqAck: 0x49,
  /** (): unbind the notification and disable the source. */
  IrqClear: 0x4a,

  // --- DMA window (IOMMU) ---
  /** (window 0..7, frameSlot, flags DmaFlags.*): let the device reach the frame. */
  DmaSetWindow: 0x50,
  /** (window 0..7): close the window. */
  DmaClearWindow: 0x51,

  // --- any capability (debugging; the kernel keeps the name for traces and `l4ts boot --caps`) ---
  /** (length): name the object the capability points to; the name's bytes (at most 64) are
   *  in the caller's UTCB from Utcb.Mr, four to a word, first byte in the low bits. */
  DebugName: 0x60,
} as const;
export type MethodNumber = (typeof Method)[keyof typeof Method];

/** TaskMap flags. */
export const MapFlags = {
  /** Grant: move the mapping (the source loses it) instead of map (the source keeps it). */
  Grant: 1,
} as const;

/** TaskUnmap flags. */
export const UnmapFlags = {
  /** Also remove the task's own mappings of the pages, not only those derived from them. */
  Self: 1,
} as const;

/** DmaSetWindow flags: what the device may do to the frame. */
export const DmaFlags = {
  DeviceRead: 1,
  DeviceWrite: 2,
} as const;

/** ThreadReadRegs state values. */
export const ThreadState = {
  Inactive: 0,
  Running: 1,
  Ready: 2,
  BlockedSend: 3,
  BlockedRecv: 4,
  BlockedReply: 5,
  BlockedNotification: 6,
  Throttled: 7,
} as const;
