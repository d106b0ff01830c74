// Helpers for the kernel's tests and benchmark: assemble user programs at CODE_BASE, boot a
// kernel on a fresh board, and build further tasks and threads from the root's untyped memory
// through the kernel's own invocation path (Kernel.invokeAs); the set-up they share (callPair:
// an IPC client/server pair; bindSc: a scheduling context; resume) and the assembly pieces of
// their programs (SERVER_START, CLIENT_END, POOL_PAGER), defined once here.

import { assemble } from '../toolchain/asm/assemble.ts';
import { Board } from '../machine/board.ts';
import { CODE_BASE, PAGE_SIZE, STACK_TOP, UTCB_BASE } from '../abi/layout.ts';
import { BootSlot, BootInfo, ObjType, RIGHTS_ALL, Rights } from '../abi/caps.ts';
import { Method } from '../abi/sys.ts';
import { Err, errName } from '../abi/errors.ts';
import { Kernel, type KernelOptions } from './kernel.ts';
import type { Thread } from './objects/thread.ts';
import type { Task } from './objects/task.ts';
import type { Untyped } from './objects/untyped.ts';

/** Definitions every test program can use (syscall numbers, methods, UTCB offsets). */
export const ASM_PRELUDE = `
  .equ SYS_CALL, 0
  .equ SYS_SEND, 1
  .equ SYS_NBSEND, 2
  .equ SYS_RECV, 3
  .equ SYS_NBRECV, 4
  .equ SYS_REPLY, 5
  .equ SYS_REPLY_RECV, 6
  .equ SYS_YIELD, 7
  .equ SYS_INVOKE, 8
  .equ SYS_PUTC, 9
  .equ UTCB, 0xf0000000
`;

/** Assemble `source` (with the prelude) at `base`. */
export function asm(source: string, base = CODE_BASE): { elf: Uint8Array; symbols: Map<string, number> } {
  const r = assemble(ASM_PRELUDE + source, { base });
  return { elf: r.elf, symbols: r.symbols };
}

/** A root program that stops at once (its `wfi` is illegal in U-mode and it has no exception
 * handler): tests then drive the system from TypeScript with the root's capabilities. */
export const IDLE_ROOT = `
_start:
    wfi
`;

export interface TestSystem {
  board: Board;
  kernel: Kernel;
  root: Thread;
  /** Next free slot of the root capability space (for tests to allocate). */
  nextSlot: number;
  untypedSlot: number;
}

export function bootSystem(rootSource = IDLE_ROOT, opts: { dramSize?: number; kernel?: KernelOptions; modules?: { name: string; bytes: Uint8Array }[] } = {}): TestSystem {
  const board = new Board({ dramSize: opts.dramSize ?? 32 << 20 });
  const { elf } = asm(rootSource);
  const kernel = new Kernel(board, { root: elf, modules: opts.modules }, opts.kernel);
  const root = kernel.rootThread;
  const infoWord = (i: number): number => kernel.board.dram.readU32(bootInfoPa(kernel) + 4 * i);
  // The largest untyped.
  let untypedSlot = 0;
  let best = 0;
  for (let i = 0; i < infoWord(BootInfo.UntypedCount); i++) {
    const s = infoWord(BootInfo.UntypedFirst) + i;
    const u = kernel.rootTask.cspace[s]!.obj as Untyped;
    if (u.pages > best) { best = u.pages; untypedSlot = s; }
  }
  return { board, kernel, root, nextSlot: infoWord(BootInfo.FirstFreeSlot), untypedSlot };
}

/** Physical address of the root's BootInfo page. */
export function bootInfoPa(k: Kernel): number {
  const node = k.rootTask.maps.get(0xef000);
  if (node === undefined) throw new Error('no BootInfo mapping');
  return node.pa;
}

/** Invoke as the root thread; throws with the error name unless it succeeds. */
export function rootInvoke(sys: TestSystem, slot: number, method: number, ...args: number[]): number[] {
  const { err, r } = sys.kernel.invokeAs(sys.root, slot, method, ...args);
  if (err !== Err.Ok) throw new Error(`root invoke method 0x${method.toString(16)} on slot ${slot}: ${errName(err)}`);
  return r;
}

/** Retype one object of `type` from the root's last untyped into a fresh root slot. */
export function make(sys: TestSystem, type: number, sizeBits = 0): number {
  const slot = sys.nextSlot++;
  rootInvoke(sys, sys.untypedSlot, Method.UntypedRetype, type, sizeBits, 1, slot);
  return slot;
}

export interface UserTask {
  taskSlot: number;
  threadSlot: number;
  task: Task;
  thread: Thread;
  symbols: Map<string, number>;
}

/**
 * A new task running `source` (assembled at CODE_BASE): its pages are fresh frames from the
 * root's untyped mapped into it, plus `stackPages` of stack; one thread with its UTCB at
 * UTCB_BASE, priority `prio`, the given pager and exception-handler slots (root slots, 0 =
 * none). The thread is left inactive unless `start`.
 */
export function spawn(sys: TestSystem, source: string, o: { prio?: number; pager?: number; exc?: number; start?: boolean; stackPages?: number } = {}): UserTask {
  const { elf, symbols } = asm(source);
  const k = sys.kernel;
  const taskSlot = make(sys, ObjType.Task);
  const threadSlot = make(sys, ObjType.Thread);
  const image = parseSegments(elf);
  for (const seg of image.segments) {
    for (let va = (seg.vaddr & ~0xfff) >>> 0; va < seg.vaddr + Math.max(seg.memsz, 1); va += PAGE_SIZE) {
      const f = make(sys, ObjType.Frame);
      const pa = rootInvoke(sys, f, Method.FrameInfo)[0] >>> 0;
      const lo = Math.max(seg.vaddr, va);
      const hi = Math.min(seg.vaddr + seg.data.length, va + PAGE_SIZE);
      if (hi > lo) sys.board.dram.writeBytes(pa + (lo - va), seg.data.subarray(lo - seg.vaddr, hi - seg.vaddr));
      rootInvoke(sys, f, Method.FrameMap, taskSlot, va, seg.rights);
    }
  }
  for (let i = 1; i <= (o.stackPages ?? 2); i++) {
    const f = make(sys, ObjType.Frame);
    rootInvoke(sys, f, Method.FrameMap, taskSlot, STACK_TOP - i * PAGE_SIZE, 3);
  }
  rootInvoke(sys, threadSlot, Method.ThreadConfigure, taskSlot, UTCB_BASE, o.pager ?? 0, o.exc ?? 0);
  const entry = symbols.get('_start') ?? image.entry;
  rootInvoke(sys, threadSlot, Method.ThreadSetRegs, entry, STACK_TOP, 0);
  rootInvoke(sys, threadSlot, Method.ThreadSetPriority, o.prio ?? 100);
  const task = k.rootTask.cspace[taskSlot]!.obj as Task;
  const thread = k.rootTask.cspace[threadSlot]!.obj as Thread;
  if (o.start ?? true) rootInvoke(sys, threadSlot, Method.ThreadResume);
  return { taskSlot, threadSlot, task, thread, symbols };
}

/** Give task `to` a copy (rights masked, optional badge) of root slot `slot` at `dstSlot`. */
export function grantCap(sys: TestSystem, to: UserTask, slot: number, dstSlot: number, rights = RIGHTS_ALL, badge = 0): void {
  if (badge !== 0) rootInvoke(sys, to.taskSlot, Method.CapMint, slot, dstSlot, rights, badge);
  else rootInvoke(sys, to.taskSlot, Method.CapCopy, slot, dstSlot, rights);
}

/** Resume the threads of `tasks`, in order. */
export function resume(sys: TestSystem, ...tasks: UserTask[]): void {
  for (const t of tasks) rootInvoke(sys, t.threadSlot, Method.ThreadResume);
}

/** Word at user virtual address `va` of `u`'s task (through its mapping of that page). */
export function userWord(sys: TestSystem, u: UserTask, va: number): number {
  const node = u.task.maps.get(va >>> 12);
  if (node === undefined) throw new Error(`nothing mapped at 0x${va.toString(16)}`);
  return sys.board.dram.readU32(node.pa + (va & 0xfff));
}

/** The badge of the client's endpoint capability in a callPair. */
export const CLIENT_BADGE = 0x77;

export interface CallPair {
  /** Root slots of the two endpoints. */
  ep: number;
  done: number;
  server: UserTask;
  client: UserTask;
}

/**
 * The client/server pair of the IPC tests and the kernel benchmark, neither thread started: an
 * endpoint `ep` that `server` receives on at its slot 1 (all rights) and `client` calls at its
 * slot 1 (Write, badged CLIENT_BADGE), and an endpoint `done` at the client's slot 2 that nobody
 * sends on (CLIENT_END waits there for good).
 */
export function callPair(sys: TestSystem, serverSource: string, clientSource: string): CallPair {
  const ep = make(sys, ObjType.Endpoint);
  const done = make(sys, ObjType.Endpoint);
  const server = spawn(sys, serverSource, { start: false });
  const client = spawn(sys, clientSource, { start: false });
  grantCap(sys, server, ep, 1);
  grantCap(sys, client, ep, 1, Rights.Write, CLIENT_BADGE);
  grantCap(sys, client, done, 2);
  return { ep, done, server, client };
}

/** Bind `t`'s thread to a new scheduling context of `budget` per `period` (timer ticks);
 *  returns its root slot. */
export function bindSc(sys: TestSystem, t: UserTask, budget: number, period: number): number {
  const slot = make(sys, ObjType.SchedContext);
  rootInvoke(sys, slot, Method.ScConfigure, budget, period);
  rootInvoke(sys, t.threadSlot, Method.ThreadBindSc, slot);
  return slot;
}

/** Assembly: a server's start, its first receive on slot 1 (no timeout); `loop:` follows. */
export const SERVER_START = `
_start:
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
`;

/** Assembly: a client's end: 'K' on the debug console, then a receive on slot 2 (callPair's
 *  `done`, which nobody sends on) for good; its checks branch to `fail`: 'F', then `ebreak`
 *  (without an exception handler the kernel stops the thread). */
export const CLIENT_END = `
  li a7, SYS_PUTC
  li a0, 0x4b
  ecall
  li a7, SYS_RECV
  li a0, 2
  ecall
fail:
  li a7, SYS_PUTC
  li a0, 0x46
  ecall
  ebreak
`;

/** Assembly: a user-level pager that answers every fault it receives on slot 1 with a map item
 *  of the next page of its pool at 0x1000_0000 (the test maps the pool into it), read-write, at
 *  the fault address. */
export const POOL_PAGER = `
_start:
  li s3, 0x10000000       # its pool of pages
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
loop:
  li t0, UTCB
  ori t1, s3, 3           # fpage: one page, read+write
  sw t1, 0x10c(t0)
  sw a2, 0x110(t0)        # send base: the fault address
  li t2, 0x1000
  add s3, s3, t2
  li a1, 0x200            # map item, no registers
  li a0, 1
  li a6, 0
  li a7, SYS_REPLY_RECV
  ecall
  j loop
`;

import { parseElf32 } from '../abi/elf.ts';

function parseSegments(elf: Uint8Array): { entry: number; segments: { vaddr: number; data: Uint8Array; memsz: number; rights: number }[] } {
  const e = parseElf32(elf);
  return {
    entry: e.entry,
    segments: e.segments.map((s) => ({
      vaddr: s.vaddr, data: s.data, memsz: s.memsz,
      rights: (s.flags.r ? 1 : 0) | (s.flags.w ? 3 : 0) | (s.flags.x ? 4 : 0),
    })),
  };
}

export { BootSlot };
