// The runtime ABI between a compiled program (wasm2rv code + user/lib) and the system around
// it (docs/ABI.md "Runtime calls"). Three mechanisms, in the L4 tradition:
//
// 1. Runtime calls: an `ecall` whose a7 is not a kernel system call (Sys.*) is not an error:
//    the kernel turns it into an exception message (FaultLabel.Exception, cause 8 = environment
//    call from U-mode) to the thread's exception handler, carrying a0..a7 (message.ts), exactly
//    as L4Linux receives its guests' system calls. The handler emulates the call and replies
//    ExcReply.Resume with the new pc (pc + 4) and the results for a0/a1. A thread without an
//    exception handler is stopped; a host front end may serve the call instead ("semihosting",
//    docs/KERNEL.md), which is how `l4ts run` gives a lone program its console.
// 2. memory.grow is an IPC call to the task's memory manager (slot CompSlot.Memory), label
//    MemProto.Grow: the pager decides, and enforces the quota.
// 3. The start argument: the first thread of a program starts with a0 = the address of its
//    start-information page (BootInfo for the root task), or 0.

/** Runtime call numbers (a7). Arguments a0..a6 by the wasm2rv convention; results a0 (a1). */
export const RtCall = {
  /** exit(a0 = status): main returned (or the start function, without main). */
  Exit: 0x5700,
  /** Host-initiated export calls only (the test harness): return to the host. */
  Return: 0x5701,
  /** AssemblyScript's imports (module "env"). */
  Abort: 0x5710, // (msg: usize, file: usize, line: u32, col: u32): never returns
  Trace: 0x5711, // (msg: usize, n: i32, a0..a4: f64 in fa0..fa4)
  Seed: 0x5712, // () -> f64 in fa0
  ConsoleLog: 0x5713, // (str: usize)
  ConsoleError: 0x5714,
  ConsoleInfo: 0x5715,
  ConsoleWarn: 0x5716,
  ConsoleDebug: 0x5717,
  /** heartbeat(a0 = period in ms, 0 = none): "I am alive, and will say so again within the
   *  period" (docs/USERLAND.md "Supervisor"). Handled by the supervisor; returns a0 = 0. */
  Heartbeat: 0x5718,
} as const;

/** The AssemblyScript imports and the runtime calls that implement them. */
export const ENV_IMPORTS: Readonly<Record<string, number>> = {
  'env.abort': RtCall.Abort,
  'env.trace': RtCall.Trace,
  'env.seed': RtCall.Seed,
  'env.console.log': RtCall.ConsoleLog,
  'env.console.error': RtCall.ConsoleError,
  'env.console.info': RtCall.ConsoleInfo,
  'env.console.warn': RtCall.ConsoleWarn,
  'env.console.debug': RtCall.ConsoleDebug,
  /** Not AssemblyScript's: the supervisor's heartbeat (user/lib/supervisor.ts). */
  'env.heartbeat': RtCall.Heartbeat,
};

/**
 * The memory-manager protocol used by the runtime itself (the rest of the memory manager's
 * protocol is user-level IDL). memory.grow(delta):
 *   call CompSlot.Memory, label Grow, MR0 = delta pages, MR1 = current pages, MR2 = maximum
 *   pages (the module's declared maximum, or 32768);
 *   reply MR0 = 0 (granted: the pages [current, current+delta) will be served by the pager on
 *   fault) or an Err code (Err.NoMemory: quota exhausted).
 * Without a memory manager (the call fails with a kernel error), a program may grow only within
 * RtData.MemReserved: for the root task BootInfo.LinearPages, whose frames it maps itself.
 */
export const MemProto = {
  Grow: 0xffffd,
} as const;

/** Runtime data words (DATA_BASE + offset) that user/lib and the kernel tests may rely on. */
export const RtData = {
  /** Current linear memory size in bytes. */
  MemSize: 0,
  /** Maximum linear memory size in bytes. */
  MemMax: 4,
  /** Executed-operator counter of a counting build (bench/toolchain.ts). */
  OpCount: 8,
  /** 4 KiB pages of linear memory the program may use without asking the memory manager:
   *  BootInfo.LinearPages when the start argument is a BootInfo page (the root task), else the
   *  module's initial memory. memory.grow below it needs nobody: it maps the new pages itself
   *  when LinearFrameFirst is set, else it only moves MemSize (the pages are mapped already). */
  MemReserved: 12,
  /** a1..a6 as the last `l4` system call returned them (6 words; `l4.res(i)` reads a_i). */
  SysRes: 16,
  /** The start argument (a0 at _start). */
  StartArg: 40,
  /** Slot of the frame capability of linear page 0, or 0: memory.grow below MemReserved maps
   *  each new 4 KiB page p with FrameMap(LinearFrameFirst + p) on its own task (BootSlot.Task)
   *  before moving MemSize, so that pages past the current size stay unmapped. _start copies
   *  BootInfo.LinearFrameFirst here for the root task. */
  LinearFrameFirst: 44,
  /** First wasm global (8 bytes each), then the data-segment dropped flags. */
  Globals: 64,
} as const;

/** Frequency of the `time` CSR (`l4.time()`, CLINT mtime) in ticks per second: the board's
 *  default (src/machine/clock.ts DEFAULT_TIMER_HZ; an abi test keeps them equal). Kernel
 *  timeouts are in the same ticks. A board built with another `timerHz` says so in the start
 *  information (StartHdr.TimerHz), which is then authoritative. */
export const MTIME_HZ = 10_000_000;
