// `l4ts run`: one compiled program as the root task of the real kernel, with the host serving
// its runtime calls (semihosting, docs/KERNEL.md). The program is the kernel's root task: it
// starts with a0 = BOOTINFO_BASE, every resource of the machine in its capability space, its
// ELF mapped, a 1 MiB stack, and a frame capability for every page of linear memory up to
// `linearBytes` (BootInfo.LinearPages, LinearFrameFirst). Its runtime calls (exit, abort,
// trace, seed, console.*) have no exception handler to go to, so the kernel's semihost hook
// sends them here (rt-host.ts serves them); its system calls (the `l4` imports) are real. A
// fault nobody handles (a wasm trap: ebreak at a trap site, or a guard-page fault) kills the
// thread, and the kernel's onThreadStopped event brings the registers here for the symbolized
// report.
//
// memory.grow needs nobody below BootInfo.LinearPages: the compiled runtime maps each new page
// with its frame capability (FrameMap) as the memory grows, so the pages past the current size
// stay unmapped and an access there traps exactly as in a wasm engine (src/cli/run-kernel.test.ts
// compares with V8). Beyond, it calls the memory manager on CompSlot.Memory, which the root task
// does not have: the call fails and memory.grow returns -1.

import { Board } from '../machine/board.ts';
import { parseElf32 } from '../abi/elf.ts';
import { DATA_BASE, PAGE_SIZE, STACK_SIZE } from '../abi/layout.ts';
import { RtData } from '../abi/runtime.ts';
import { Kernel, type SemihostAction } from '../kernel/kernel.ts';
import type { Thread } from '../kernel/objects/thread.ts';
import type { Task } from '../kernel/objects/task.ts';
import {
  ProgramSymbols, serveRuntimeCall, formatFault, outcomeStatus, hex,
  type Outcome, type ProgramCpu, type ProgramMemory,
} from '../toolchain/wasm2rv/rt-host.ts';

const CAUSE_USER_ECALL = 8;

export interface KernelRunOptions {
  /** Instruction budget (default 2e9). */
  maxInsns?: number;
  /** Program output: console.*, trace, abort, fault reports, DebugPutc and UART bytes. */
  stdout?: (text: string) => void;
  /** What env.seed returns (default 42: deterministic runs). */
  seed?: number;
  /** DRAM of the board (default 128 MiB). */
  dramSize?: number;
  /** Linear memory the program may grow to without a memory manager, in bytes (default 16 MiB;
   *  at least the image's): frame capabilities at boot, mapped by its memory.grow. */
  linearBytes?: number;
  /** Record the kernel's trace (Kernel.trace) with this ring capacity (events). */
  traceCapacity?: number;
}

export interface KernelRunResult {
  status: number;
  outcome: Outcome;
  output: string;
  instructions: number;
  kernel: Kernel;
}

export const DEFAULT_LINEAR_BYTES = 16 << 20;

/** Reads of a task's memory through the kernel's page-table walk. */
export function taskMemory(k: Kernel, task: Task): ProgramMemory {
  const u8 = k.board.dram.u8;
  const base = k.board.dram.base;
  const readU8 = (va: number): number => {
    const pa = k.userPa(task, va >>> 0, false);
    if (pa < 0) throw new RangeError(`unmapped ${hex(va)}`);
    return u8[pa - base];
  };
  return {
    readU8,
    readU32: (va) => (readU8(va) | (readU8(va + 1) << 8) | (readU8(va + 2) << 16) | (readU8(va + 3) << 24)) >>> 0,
  };
}

/** A thread's registers for the runtime-call server (rt-host.ts). */
export function threadCpu(k: Kernel, t: Thread, x: Int32Array): ProgramCpu {
  return { x, readF64: (i) => k.readF64(t, i), writeF64: (i, v) => k.writeF64(t, i, v) };
}

/** Run `elf` as the root task until it exits, traps, is killed, blocks for good, or the budget
 *  runs out. */
export function runOnKernel(elf: Uint8Array, opts: KernelRunOptions = {}): KernelRunResult {
  const image = parseElf32(elf);
  const symbols = new ProgramSymbols(image);
  const board = new Board({ dramSize: opts.dramSize ?? 128 * 1024 * 1024 });
  const imagePages = Math.ceil(symbols.linearBytes / PAGE_SIZE);
  // Never more than the module's declared maximum: memory can never legally grow past it.
  const data = image.segments.find((sg) => sg.vaddr === DATA_BASE)?.data;
  const memMax = data !== undefined && data.length >= RtData.MemMax + 4
    ? new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(RtData.MemMax, true) : 0;
  let linearBytes = opts.linearBytes ?? DEFAULT_LINEAR_BYTES;
  if (memMax > 0 && memMax < linearBytes) linearBytes = memMax;
  const linearPages = Math.max(imagePages, Math.ceil(linearBytes / PAGE_SIZE));
  const kernel = new Kernel(board, {
    root: elf,
    stackPages: STACK_SIZE / PAGE_SIZE,
    linearPages: linearPages - imagePages,
  }, { traceCapacity: opts.traceCapacity });
  if (opts.traceCapacity !== undefined) kernel.trace.enabled = true;
  let output = '';
  const print = (s: string): void => {
    output += s;
    opts.stdout?.(s);
  };
  const seed = opts.seed ?? 42;
  const rootTask = kernel.rootTask;
  const mem = taskMemory(kernel, rootTask);
  const end = (o: Outcome): void => {
    outcome = o;
    board.hart.halted = true; // the program is over, whatever its other threads do
  };
  let outcome = null as Outcome | null;

  // Every thread of the program's address space is served; exit or abort from any of them
  // ends the program, as a fault that kills any of them does.
  kernel.semihost = (t: Thread, x: Int32Array): SemihostAction => {
    if (t.task !== rootTask) return 'unhandled';
    const r = serveRuntimeCall(x[17], threadCpu(kernel, t, x), mem, { print, seed });
    if (r === null) return 'unhandled';
    switch (r.kind) {
      case 'continue': return 'resume';
      case 'exit': end({ kind: 'exit', status: r.status }); return 'stop';
      case 'abort': end({ kind: 'abort', message: r.message }); return 'stop';
      default: end({ kind: 'exit', status: 0 }); return 'stop'; // return: nothing to return to
    }
  };
  kernel.onThreadStopped((e) => {
    if (e.thread.task !== rootTask || e.reason !== 'killed' || outcome !== null) return;
    const x = kernel.regsOf(e.thread);
    const report = symbols.faultReport(e.cause, e.tval, e.pc, x, mem);
    if (report.kind === 'fault') {
      report.message = e.cause === CAUSE_USER_ECALL
        ? `unknown system call ${hex(x[17])}`
        : `${e.why}: trap cause ${e.cause} (tval ${hex(e.tval)})`;
    }
    end({ kind: 'trap', report });
  });
  kernel.debugSink = (b) => print(String.fromCharCode(b));
  board.onUartOutput((b) => print(String.fromCharCode(b)));

  const r = board.run(opts.maxInsns ?? 2e9);
  let final: Outcome;
  if (outcome !== null) {
    final = outcome;
  } else if (r !== null && r.kind === 'budget') {
    final = { kind: 'budget' };
    print('l4ts: instruction budget exhausted\n');
  } else {
    // Idle with the program neither exited nor killed: it waits for something that will not come.
    final = { kind: 'exit', status: 125 };
    print(`l4ts: the program is blocked and nothing can wake it (${r?.kind ?? 'stopped'})\n`);
  }
  if (final.kind === 'trap') print(`${formatFault(final.report)}\n`);
  return { status: outcomeStatus(final), outcome: final, output, instructions: board.hart.instret, kernel };
}
