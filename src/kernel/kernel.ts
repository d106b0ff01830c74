// The l4ts kernel: trap entry, context switch, scheduling, IPC, faults, interrupts and timers.
// (docs/KERNEL.md.) Object invocations are in invoke.ts, capability-space operations in
// cspace.ts, boot in boot.ts, address spaces in vm.ts.
//
// The kernel attaches to the hart as its trap handler (hart.ts): every trap from U-mode calls
// `trap` in TypeScript with hart.pc at the trapping instruction. While a thread runs, its
// registers live in hart.x/hart.pc; the kernel saves them into the Thread only when it switches
// away. Results for the running thread are written to hart.x, for any other thread to its
// saved `regs`.
//
// IPC fast path (fastCall, fastReplyRecv): an endpoint call to a waiting receiver, and a
// reply-and-receive that returns to a waiting caller, with a direct switch between the two and
// no queue or timer work: no allocation, no Map lookup, no closure, a slot index into a
// pre-decoded capability array. Anything unusual (capabilities or mappings in the message,
// timeouts, a thread to switch to whose scheduling context is throttled or out of budget, other
// ready threads that would preempt) takes the slow path, which implements the same semantics in
// full. Threads with scheduling contexts take it too: each thread runs on its own scheduling
// context (no donation), so the fast path does what the slow path's makeReady + reschedule do
// for such a switch: the time up to the switch is charged to the thread that leaves (switchTo ->
// account), the thread switched to runs on its own budget (armTimer programs its budget end).
// `KernelOptions.fastpath: false` forces the slow path (the determinism test compares both).

import type { Board } from '../machine/board.ts';
import type { Hart } from '../machine/hart.ts';
import * as C from '../machine/csr.ts';
import { IRQ_M_EXT, IRQ_M_TIMER } from '../machine/irq.ts';
import { CLINT_MTIMECMP } from '../machine/clint.ts';
import { PLIC_CONTEXT, PLIC_ENABLE, PLIC_PRIORITY } from '../machine/plic.ts';
import { Sys, REG_A0, REG_A1, REG_A2, REG_A3, REG_A4, REG_A5, REG_A6, REG_A7, REG_SP } from '../abi/sys.ts';
import { Err } from '../abi/errors.ts';
import { ObjType, Rights } from '../abi/caps.ts';
import {
  MSG_MAX, MSGINFO_CAPS_MASK, MSGINFO_CAPS_SHIFT, MSGINFO_GRANT, MSGINFO_LENGTH_MASK, MSGINFO_MAP,
  MSGINFO_LABEL_SHIFT, FaultLabel, ExcReply, FaultAccess, FPAGE_ORDER_SHIFT, FPAGE_ORDER_MASK,
  EXC_MSG_LENGTH,
} from '../abi/message.ts';
import { Utcb } from '../abi/utcb.ts';
import { USER_TOP } from '../abi/layout.ts';
import { PTE_U, PTE_V, PTE_W } from '../machine/sv32.ts';
import * as K from './cost.ts';
import { KernelTrace, TraceKind } from './trace.ts';
import { ReadyQueues } from './sched.ts';
import { Vm, PagePool, MapNode, pteRights } from './vm.ts';
import { Cap } from './objects/cap.ts';
import type { KObject } from './objects/kobject.ts';
import { Task } from './objects/task.ts';
import {
  Thread, TS_BLOCKED_NTFN, TS_BLOCKED_RECV, TS_BLOCKED_REPLY, TS_BLOCKED_SEND, TS_INACTIVE, TS_READY,
  TS_RUNNING, TS_THROTTLED, SEND_EXCEPTION, SEND_MSG, SEND_PAGE_FAULT,
} from './objects/thread.ts';
import { Endpoint, epDequeue, epEnqueueRecv, epEnqueueSend } from './objects/endpoint.ts';
import { Notification, ntfnDequeue, ntfnEnqueue } from './objects/notification.ts';
import type { SchedContext } from './objects/schedcontext.ts';
import type { IrqHandler } from './objects/irq.ts';
import { invoke } from './invoke.ts';
import { capDelete, capDropKernel } from './cspace.ts';
import { boot, type BootImage } from './boot.ts';

export type { BootImage } from './boot.ts';

/** Round-robin timeslice (cycles) of threads without a scheduling context: 5 ms at 100 MHz. */
export const TIMESLICE_CYCLES = 500_000;

const MSTATUS_FS_MASK = C.MSTATUS_FS | C.MSTATUS_SD;
const USER_TOP_VPN = USER_TOP >>> 12;

/**
 * What a semihost hook decided about a runtime call (an `ecall` whose a7 is not a system call)
 * of a thread that has no exception handler:
 *  - 'resume': served; the thread continues after the ecall with the registers the hook wrote;
 *  - 'stop': the thread is done (an exit): it is stopped and `onThreadStopped` reports 'exit';
 *  - 'unhandled': not a call the host knows; the kernel kills the thread as without a hook.
 */
export type SemihostAction = 'resume' | 'stop' | 'unhandled';

/**
 * The semihosting hook (docs/KERNEL.md "Semihosting"): called synchronously, inside the trap,
 * with the calling thread (the running one) and its live integer register file (`regs[17]` is
 * the call number, a0..a6 the arguments; write results into it). The hook may read and write
 * the thread's memory and FP registers through the kernel's debug API (`readUser`,
 * `writeUser`, `readF64`, `writeF64`). It must not call into the kernel otherwise.
 */
export type SemihostHook = (thread: Thread, regs: Int32Array) => SemihostAction;

/** Why a thread stopped (onThreadStopped). */
export interface ThreadStopEvent {
  readonly thread: Thread;
  /** 'exit': a semihost hook ended it; 'killed': a fault or exception nobody handled, or its
   *  exception handler replied Kill; 'destroyed': its thread object died. */
  readonly reason: 'exit' | 'killed' | 'destroyed';
  /** Human-readable reason ('page fault without a pager', ...). */
  readonly why: string;
  /** mcause and mtval of the fault (0 for an exit), and the pc of the faulting instruction
   *  (unsigned). */
  readonly cause: number;
  readonly tval: number;
  readonly pc: number;
}

export interface KernelOptions {
  /** Pages of DRAM reserved for kernel page tables (default: 1/32 of DRAM, at least 256). */
  poolPages?: number;
  /** Trace ring capacity (events). */
  traceCapacity?: number;
  /** Serve runtime calls of threads without an exception handler (semihosting). */
  semihost?: SemihostHook;
  /** Take the IPC fast path when it applies (default true); false forces the slow path. */
  fastpath?: boolean;
}

export class Kernel {
  readonly hart: Hart;
  readonly trace: KernelTrace;
  readonly vm: Vm;
  readonly ready = new ReadyQueues();
  /** The running thread, or null when idle. */
  current: Thread | null = null;
  /** The root task and thread made at boot. */
  readonly rootTask: Task;
  readonly rootThread: Thread;
  /** Bytes written with Sys.DebugPutc. */
  debugOut = '';
  /** Semihosting: serves runtime calls of threads without an exception handler, or null. */
  semihost: SemihostHook | null = null;
  /** IPC fast path on (KernelOptions.fastpath); false: every call takes the slow path. */
  fastpath = true;
  private readonly stopListeners: ((e: ThreadStopEvent) => void)[] = [];
  /** Receives every Sys.DebugPutc byte as it is written (a front end's console), or null. */
  debugSink: ((byte: number) => void) | null = null;
  /** Counters (statistics and tests). */
  readonly stats = { syscalls: 0, fastpath: 0, slowpath: 0, switches: 0, faults: 0, irqs: 0, timerIrqs: 0, kills: 0 };
  /** IRQ handler objects by PLIC source. */
  readonly irqs: (IrqHandler | null)[] = [];
  /** Threads in timed waits, sorted by expiry. */
  private timeoutHead: Thread | null = null;
  /** Scheduling contexts waiting for replenishment. */
  readonly throttled: SchedContext[] = [];
  /** Cycle of the last time accounting. */
  private lastAccount = 0;
  /** mtimecmp value last written (ticks), to avoid rewriting it. */
  private armedTick = -1;
  /** Did the running thread's budget or timeslice end enter the deadline last armed? If not,
   * and the thread a fast-path IPC switches to has no budget, re-arming would compute the same
   * deadline (the fast path changes no timeout, replenishment or ready queue), so it skips it. */
  private armedByCurrent = false;
  private fpOwner: Thread | null = null;
  private hartFrZero = true;
  private nextId = 1;
  /** Every task and thread alive (invariant checks, hostile tests). */
  readonly tasks = new Set<Task>();
  readonly threads = new Set<Thread>();
  readonly ram32: Int32Array;
  private readonly dramBase: number;

  constructor(readonly board: Board, image: BootImage, opts: KernelOptions = {}) {
    const hart = board.hart;
    this.hart = hart;
    this.ram32 = board.dram.i32;
    this.dramBase = board.dram.base;
    this.trace = new KernelTrace(opts.traceCapacity ?? 65536, board.clock.cpuHz);
    this.semihost = opts.semihost ?? null;
    this.fastpath = opts.fastpath ?? true;
    const poolPages = opts.poolPages ?? Math.max(256, (board.dram.size / 4096 / 32) | 0);
    const pool = new PagePool(board.dram, board.dram.base, poolPages);
    this.vm = new Vm(board.dram, hart, pool);
    this.vm.onUnmap = (n) => {
      if (this.trace.enabled) this.trace.record(TraceKind.Unmap, this.board.clock.cycles, n.task.id, n.vpn << 12, n.pa);
    };
    // Hart setup: the kernel runs in TypeScript; users in U-mode with FS initial, counters
    // readable (cycle, time, instret), machine timer and external interrupts enabled.
    hart.trapHandler = (h, cause, tval) => this.trap(h, cause, tval);
    hart.mcounteren = 7;
    hart.scounteren = 7;
    hart.mie = (1 << IRQ_M_TIMER) | (1 << IRQ_M_EXT);
    hart.priv = C.PRIV_U;
    hart.mstatus = (hart.mstatus & ~MSTATUS_FS_MASK) | (1 << C.MSTATUS_FS_SHIFT);
    board.iommu.setMode('enforce');
    this.setTimerTicks(Infinity);
    const r = boot(this, image);
    this.rootTask = r.task;
    this.rootThread = r.thread;
    this.lastAccount = board.clock.cycles;
    this.reschedule();
  }

  newId(): number {
    return this.nextId++;
  }

  /** Listen for threads that stop for good: exits (semihosting), kills, destruction. The
   * listener runs synchronously, while the thread's registers and memory are still readable
   * (`regsOf`, `pcOf`, `readUser`). */
  onThreadStopped(listener: (e: ThreadStopEvent) => void): void {
    this.stopListeners.push(listener);
  }

  private emitStopped(t: Thread, reason: ThreadStopEvent['reason'], why: string, cause: number, tval: number): void {
    if (this.stopListeners.length === 0) return;
    const e: ThreadStopEvent = { thread: t, reason, why, cause, tval: tval >>> 0, pc: this.pcOf(t) >>> 0 };
    for (const l of this.stopListeners) l(e);
  }

  // ------------------------------------------------------------------------------------------
  // Debug API (front ends, semihosting, tests): never changes mappings or scheduling state
  // ------------------------------------------------------------------------------------------

  /** The pc of `t`: the hart's if it is running (the trapping instruction inside a trap). */
  pcOf(t: Thread): number {
    return t === this.current ? this.hart.pc : t.pc;
  }

  /** Floating-point register f`i` of `t` as a double (its bit pattern, NaN-boxed or not). */
  readF64(t: Thread, i: number): number {
    if (t === this.current) return this.hart.frD[i];
    return new Float64Array(t.fr.buffer, t.fr.byteOffset, 32)[i];
  }

  /** Set f`i` of `t` to the double `v` (marks its FP state dirty so that it is kept). */
  writeF64(t: Thread, i: number, v: number): void {
    if (t === this.current) {
      this.hart.frD[i] = v;
      this.hart.mstatus = this.hart.mstatus | C.MSTATUS_FS;
      return;
    }
    new Float64Array(t.fr.buffer, t.fr.byteOffset, 32)[i] = v;
    t.fs = 2;
    if (this.fpOwner === t) this.fpOwner = null; // reload on its next switch
  }

  /** Physical address of user virtual address `va` in `task` if a user page is mapped there in
   * DRAM (with write permission when `write`), else -1. Walks the task's page tables; never
   * creates a mapping or a table. */
  userPa(task: Task, va: number, write: boolean): number {
    const vpn = va >>> 12;
    if (vpn >= USER_TOP_VPN) return -1;
    const l2 = task.l2[vpn >>> 10];
    if (l2 === 0) return -1;
    const pte = this.board.dram.readU32(l2 + (vpn & 0x3ff) * 4);
    if ((pte & (PTE_V | PTE_U)) !== (PTE_V | PTE_U) || (pte & 0xe) === 0) return -1;
    if (write && (pte & PTE_W) === 0) return -1;
    const pa = (pte >>> 10) * 4096;
    if (pa < this.dramBase || pa + 4096 > this.dramBase + this.board.dram.size) return -1; // device page
    return pa + (va & 0xfff);
  }

  /** Copy `len` bytes of `task`'s memory from `va`; null if any byte is not mapped. */
  readUser(task: Task, va: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    const u8 = this.board.dram.u8;
    let done = 0;
    while (done < len) {
      const a = (va + done) >>> 0;
      const pa = this.userPa(task, a, false);
      if (pa < 0) return null;
      const n = Math.min(len - done, 4096 - (a & 0xfff));
      out.set(u8.subarray(pa - this.dramBase, pa - this.dramBase + n), done);
      done += n;
    }
    return out;
  }

  /** Little-endian word at `va` of `task`, or null if unmapped. */
  readUserU32(task: Task, va: number): number | null {
    const b = this.readUser(task, va, 4);
    return b === null ? null : (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  /** Write `data` to `task`'s memory at `va` as the task could (writable pages only). Checks
   * every page first: returns false and writes nothing if any is not writable. */
  writeUser(task: Task, va: number, data: Uint8Array): boolean {
    for (let p = (va >>> 12); p <= ((va + Math.max(data.length, 1) - 1) >>> 12); p++) {
      if (this.userPa(task, Math.max(p * 4096, va) >>> 0, true) < 0) return false;
    }
    const u8 = this.board.dram.u8;
    let done = 0;
    while (done < data.length) {
      const a = (va + done) >>> 0;
      const pa = this.userPa(task, a, true);
      const n = Math.min(data.length - done, 4096 - (a & 0xfff));
      u8.set(data.subarray(done, done + n), pa - this.dramBase);
      done += n;
    }
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Trap entry
  // ------------------------------------------------------------------------------------------

  /** The hart's trap handler. `hart.pc` is the trapping instruction (or, for an interrupt, the
   * next instruction to run). */
  trap(hart: Hart, cause: number, tval: number): void {
    this.board.clock.cycles += K.COST_TRAP;
    if (cause === C.CAUSE_USER_ECALL) {
      this.stats.syscalls++;
      hart.pc = (hart.pc + 4) | 0;
      const n = hart.x[REG_A7];
      if (n === Sys.Call) {
        if (this.fastpath && this.fastCall()) return;
      } else if (n === Sys.ReplyRecv) {
        if (this.fastpath && this.fastReplyRecv()) return;
      }
      this.stats.slowpath++;
      this.syscall(n);
      return;
    }
    if ((cause & C.CAUSE_INTERRUPT) !== 0) {
      this.interrupt(cause & 0x1f);
      return;
    }
    this.exception(cause, tval);
  }

  // ------------------------------------------------------------------------------------------
  // IPC fast path
  // ------------------------------------------------------------------------------------------

  /**
   * May the fast path switch directly to `t` (woken by this IPC)? The slow path would make it
   * ready (makeReady: throttled instead if its scheduling context waits for replenishment) and
   * run it (reschedule -> armTimer: its budget end, or at once a timer interrupt that throttles
   * it when nothing is left). The fast path takes only the first case with budget left, where
   * the slow path's result is a plain switch plus arming the timer; everything else falls back.
   * (The caller checks that no ready thread would be picked before `t`.)
   */
  private fastRunnable(t: Thread): boolean {
    const sc = t.sc;
    return sc === null || sc.budget === 0 || (sc.replenishAt < 0 && sc.remaining > 0);
  }

  /** Call to an endpoint with a receiver waiting: hand over and switch directly. */
  private fastCall(): boolean {
    const s = this.current!;
    const x = this.hart.x;
    const cs = s.task!.cspace;
    const slot = x[REG_A0];
    if (slot <= 0 || slot >= cs.length) return false;
    const cap = cs[slot];
    if (cap === null || cap.type !== ObjType.Endpoint || (cap.rights & Rights.Write) === 0) return false;
    const info = x[REG_A1];
    if ((info & (MSGINFO_MAP | (MSGINFO_CAPS_MASK << MSGINFO_CAPS_SHIFT))) !== 0) return false;
    const ep = cap.obj as Endpoint;
    const r = ep.recvHead;
    if (r === null || r.timeoutAt >= 0 || r.replyTo !== null || !this.fastRunnable(r)) return false;
    if (this.ready.count !== 0 && this.ready.highest() >= r.prio) return false;
    // Commit: dequeue the receiver, hand it the reply right, copy the message.
    const nx = r.qNext;
    ep.recvHead = nx;
    if (nx !== null) nx.qPrev = null;
    else ep.recvTail = null;
    r.qNext = null;
    r.blockedEp = null;
    s.state = TS_BLOCKED_REPLY;
    s.replyFrom = r;
    s.sendKind = SEND_MSG;
    s.sendBadge = cap.badge; // the same kernel state as sysSend leaves
    s.sendRights = cap.rights;
    s.sendIsCall = true;
    x[REG_A0] = 0;
    r.replyTo = s;
    let len = info & MSGINFO_LENGTH_MASK;
    if (len > MSG_MAX) len = MSG_MAX;
    const rr = r.regs;
    rr[REG_A0] = 0;
    rr[REG_A1] = (info & ~MSGINFO_LENGTH_MASK & ~MSGINFO_GRANT) | len;
    rr[REG_A2] = x[REG_A2];
    rr[REG_A3] = x[REG_A3];
    rr[REG_A4] = x[REG_A4];
    rr[REG_A5] = x[REG_A5];
    rr[REG_A6] = cap.badge;
    if (len > 4) this.copyMrs(s, r, len);
    this.stats.fastpath++;
    this.board.clock.cycles += K.COST_IPC_FAST + len * K.COST_MR_WORD;
    if (this.trace.enabled) this.trace.record(TraceKind.Ipc, this.board.clock.cycles, s.id, r.id, info);
    this.switchTo(r); // charges the time so far to s (its own scheduling context)
    if (this.armedByCurrent || (r.sc !== null && r.sc.budget > 0)) this.armTimer(); // as reschedule would
    return true;
  }

  /** Reply to a caller waiting for it and wait on an endpoint with no sender queued. */
  private fastReplyRecv(): boolean {
    const r = this.current!;
    const s = r.replyTo;
    if (s === null || s.replyFrom !== r || s.state !== TS_BLOCKED_REPLY || s.sendKind !== SEND_MSG) return false;
    const x = this.hart.x;
    const cs = r.task!.cspace;
    const slot = x[REG_A0];
    if (slot <= 0 || slot >= cs.length) return false;
    const cap = cs[slot];
    if (cap === null || cap.type !== ObjType.Endpoint || (cap.rights & Rights.Read) === 0) return false;
    const info = x[REG_A1];
    if ((info & (MSGINFO_MAP | (MSGINFO_CAPS_MASK << MSGINFO_CAPS_SHIFT))) !== 0 || x[REG_A6] !== 0) return false;
    const ep = cap.obj as Endpoint;
    if (ep.sendHead !== null || !this.fastRunnable(s)) return false;
    if (this.ready.count !== 0 && this.ready.highest() >= s.prio) return false;
    r.replyTo = null;
    s.replyFrom = null;
    r.sendKind = SEND_MSG; // the same kernel state as doReply leaves
    r.sendBadge = 0;
    r.sendRights = Rights.Grant;
    let len = info & MSGINFO_LENGTH_MASK;
    if (len > MSG_MAX) len = MSG_MAX;
    const sr = s.regs;
    sr[REG_A0] = 0;
    sr[REG_A1] = (info & ~MSGINFO_LENGTH_MASK & ~MSGINFO_GRANT) | len;
    sr[REG_A2] = x[REG_A2];
    sr[REG_A3] = x[REG_A3];
    sr[REG_A4] = x[REG_A4];
    sr[REG_A5] = x[REG_A5];
    sr[REG_A6] = 0;
    if (len > 4) this.copyMrs(r, s, len);
    // The server waits on the endpoint.
    r.state = TS_BLOCKED_RECV;
    r.blockedEp = ep;
    epEnqueueRecv(ep, r);
    this.stats.fastpath++;
    this.board.clock.cycles += K.COST_IPC_FAST + len * K.COST_MR_WORD;
    if (this.trace.enabled) this.trace.record(TraceKind.Ipc, this.board.clock.cycles, r.id, s.id, info);
    this.switchTo(s); // charges the time so far to r (its own scheduling context)
    if (this.armedByCurrent || (s.sc !== null && s.sc.budget > 0)) this.armTimer(); // as reschedule would
    return true;
  }

  /** Copy MR4..MR(len-1) from `src`'s UTCB to `dst`'s. */
  private copyMrs(src: Thread, dst: Thread, len: number): void {
    const a = (src.utcbPa - this.dramBase + Utcb.Mr) >> 2;
    const b = (dst.utcbPa - this.dramBase + Utcb.Mr) >> 2;
    this.ram32.copyWithin(b + 4, a + 4, a + len);
  }

  utcbWord(t: Thread, off: number): number {
    return this.ram32[(t.utcbPa - this.dramBase + off) >> 2];
  }

  setUtcbWord(t: Thread, off: number, v: number): void {
    this.ram32[(t.utcbPa - this.dramBase + off) >> 2] = v;
  }

  // ------------------------------------------------------------------------------------------
  // Context switch and scheduling
  // ------------------------------------------------------------------------------------------

  /** The register file of `t`: the hart's if it is running, else its saved copy. */
  regsOf(t: Thread): Int32Array {
    return t === this.current ? this.hart.x : t.regs;
  }

  /** Charge the time since the last accounting to the running thread. */
  private account(): void {
    const now = this.board.clock.cycles;
    const dt = now - this.lastAccount;
    this.lastAccount = now;
    const cur = this.current;
    if (cur === null) return;
    cur.sliceLeft -= dt;
    const sc = cur.sc;
    if (sc !== null && sc.budget > 0) {
      if (sc.windowStart < 0) sc.windowStart = now - dt;
      sc.remaining -= dt;
    }
  }

  /** Switch the hart from the current thread (if any) to `next`, which becomes RUNNING. */
  switchTo(next: Thread): void {
    const hart = this.hart;
    const prev = this.current;
    this.account();
    if (prev === next) {
      next.state = TS_RUNNING;
      hart.waiting = false;
      return;
    }
    let prevTask: Task | null = null;
    if (prev !== null) {
      prev.regs.set(hart.x);
      prev.pc = hart.pc;
      if ((hart.mstatus & C.MSTATUS_FS) === C.MSTATUS_FS) { // dirty: save FP state
        prev.fr.set(hart.fr);
        prev.fcsr = hart.fflags | (hart.frm << 5);
        prev.fs = 2;
        this.hartFrZero = false;
      }
      prevTask = prev.task;
    }
    hart.x.set(next.regs);
    hart.pc = next.pc;
    if (next !== this.fpOwner) {
      if (next.fs >= 2) {
        hart.fr.set(next.fr);
        hart.fflags = next.fcsr & 0x1f;
        hart.frm = (next.fcsr >>> 5) & 7;
        this.hartFrZero = false;
      } else if (!this.hartFrZero) {
        hart.fr.fill(0);
        hart.fflags = hart.frm = 0;
        this.hartFrZero = true;
      }
      this.fpOwner = next;
    }
    hart.mstatus = (hart.mstatus & ~MSTATUS_FS_MASK) | ((next.fs === 1 ? 1 : 2) << C.MSTATUS_FS_SHIFT);
    const task = next.task!;
    if (task !== prevTask) {
      hart.setSatp(task.satp);
      this.vm.active = task;
      this.board.clock.cycles += K.COST_ASID_SWITCH;
    }
    hart.priv = C.PRIV_U;
    hart.waiting = false;
    this.current = next;
    next.state = TS_RUNNING;
    this.stats.switches++;
    if (this.trace.enabled) this.trace.record(TraceKind.Switch, this.board.clock.cycles, prev === null ? -1 : prev.id, next.id, 0);
  }

  /** Go idle: save the current thread (it is no longer running) and wait for an interrupt. */
  private idle(): void {
    const prev = this.current;
    this.account();
    if (prev !== null) {
      prev.regs.set(this.hart.x);
      prev.pc = this.hart.pc;
      if ((this.hart.mstatus & C.MSTATUS_FS) === C.MSTATUS_FS) {
        prev.fr.set(this.hart.fr);
        prev.fcsr = this.hart.fflags | (this.hart.frm << 5);
        prev.fs = 2;
        this.hartFrZero = false;
        this.hart.mstatus = (this.hart.mstatus & ~MSTATUS_FS_MASK) | (2 << C.MSTATUS_FS_SHIFT);
      }
    }
    this.current = null;
    this.hart.waiting = true;
  }

  /** Make `t` ready to run (it must not be running or queued). A thread whose scheduling
   * context is out of budget is throttled instead. */
  makeReady(t: Thread): void {
    const sc = t.sc;
    if (sc !== null && sc.budget > 0 && sc.replenishAt >= 0) {
      t.state = TS_THROTTLED;
      return;
    }
    t.state = TS_READY;
    this.ready.enqueue(t);
  }

  /**
   * Decide who runs after a kernel operation: keep the current thread unless it stopped
   * running or a higher-priority thread is ready; then arm the timer for the next deadline.
   */
  reschedule(): void {
    this.board.clock.cycles += K.COST_SCHEDULE;
    const cur = this.current;
    // Budget and timeslice expiry of the running thread.
    if (cur !== null && cur.state === TS_RUNNING) {
      this.account();
      const sc = cur.sc;
      if (sc !== null && sc.budget > 0 && sc.remaining <= 0) {
        this.throttle(sc, cur);
      } else if (cur.sliceLeft <= 0) {
        cur.sliceLeft = TIMESLICE_CYCLES;
        if (this.ready.hasAt(cur.prio)) {
          cur.state = TS_READY;
          this.ready.enqueue(cur);
        }
      }
    }
    const top = this.ready.highest();
    if (cur !== null && cur.state === TS_RUNNING) {
      if (top > cur.prio) {
        cur.state = TS_READY;
        this.ready.enqueueFront(cur);
        this.switchTo(this.ready.pop(top));
      } else {
        this.switchTo(cur); // accounting only
      }
    } else if (top >= 0) {
      this.switchTo(this.ready.pop(top));
    } else {
      this.idle();
    }
    this.armTimer();
  }

  private throttle(sc: SchedContext, t: Thread): void {
    sc.exhaustions++;
    const now = this.board.clock.cycles;
    const start = sc.windowStart < 0 ? now : sc.windowStart;
    sc.replenishAt = Math.max(start + sc.period, now + 1);
    if (this.throttled.indexOf(sc) < 0) this.throttled.push(sc);
    if (t.state === TS_RUNNING || t.state === TS_READY) {
      if (t.state === TS_READY) this.ready.remove(t);
      t.state = TS_THROTTLED;
    }
  }

  /** Refill every scheduling context whose replenishment time has come. */
  private replenish(): void {
    const now = this.board.clock.cycles;
    for (let i = this.throttled.length - 1; i >= 0; i--) {
      const sc = this.throttled[i];
      if (sc.replenishAt > now) continue;
      this.throttled.splice(i, 1);
      sc.replenishAt = -1;
      sc.remaining = sc.budget;
      sc.windowStart = -1;
      const t = sc.thread;
      if (t !== null && t.state === TS_THROTTLED) this.makeReady(t);
    }
  }

  /** Program mtimecmp for the earliest of: a timeout, a replenishment, the running thread's
   * budget end, the end of its timeslice when another thread of its priority is ready. */
  private armTimer(): void {
    const now = this.board.clock.cycles;
    let at = Infinity;
    if (this.timeoutHead !== null) at = this.timeoutHead.timeoutAt;
    for (const sc of this.throttled) if (sc.replenishAt < at) at = sc.replenishAt;
    const cur = this.current;
    let byCurrent = false;
    if (cur !== null) {
      const sc = cur.sc;
      if (sc !== null && sc.budget > 0) {
        if (sc.windowStart >= 0 && now >= sc.windowStart + sc.period) {
          sc.remaining = sc.budget; // a new window: the old one has passed while it was blocked
          sc.windowStart = -1;
        }
        at = Math.min(at, now + Math.max(sc.remaining, 1));
        byCurrent = true;
      }
      if (this.ready.hasAt(cur.prio)) {
        at = Math.min(at, now + Math.max(cur.sliceLeft, 1));
        byCurrent = true;
      }
    }
    this.armedByCurrent = byCurrent;
    const cpt = this.board.clock.cyclesPerTick;
    this.setTimerTicks(at === Infinity ? Infinity : Math.ceil(at / cpt));
  }

  private setTimerTicks(tick: number): void {
    const prev = this.armedTick;
    if (tick === prev) return;
    this.armedTick = tick;
    const clint = this.board.clint;
    if (tick === Infinity) {
      clint.write(CLINT_MTIMECMP + 4, 4, -1);
      clint.write(CLINT_MTIMECMP, 4, -1);
    } else if (prev >= 0 && prev !== Infinity && Math.floor(prev / 0x1_0000_0000) === Math.floor(tick / 0x1_0000_0000)) {
      // Same high word as the value armed now: one write sets the whole comparator (no
      // intermediate value). The IPC fast path re-arms the budget end on every switch.
      clint.write(CLINT_MTIMECMP, 4, tick >>> 0);
    } else {
      clint.write(CLINT_MTIMECMP + 4, 4, -1); // no spurious match while the halves change
      clint.write(CLINT_MTIMECMP, 4, tick >>> 0);
      clint.write(CLINT_MTIMECMP + 4, 4, Math.floor(tick / 0x1_0000_0000));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Interrupts
  // ------------------------------------------------------------------------------------------

  private interrupt(code: number): void {
    if (code === IRQ_M_TIMER) {
      this.stats.timerIrqs++;
      if (this.trace.enabled) this.trace.record(TraceKind.Timer, this.board.clock.cycles, this.current?.id ?? -1, 0, 0);
      this.armedTick = -1; // force a rewrite: MTIP is level-triggered
      this.expireTimeouts();
      this.replenish();
      this.reschedule();
      return;
    }
    if (code === IRQ_M_EXT) {
      const plic = this.board.plic;
      for (;;) {
        const src = plic.read(PLIC_CONTEXT + 4, 4);
        if (src === 0) break;
        this.stats.irqs++;
        this.board.clock.cycles += K.COST_IRQ;
        if (this.trace.enabled) this.trace.record(TraceKind.Irq, this.board.clock.cycles, this.current?.id ?? -1, src, 0);
        const h = this.irqs[src] ?? null;
        if (h === null || h.notification === null) {
          plic.write(PLIC_CONTEXT + 4, 4, src); // nobody to deliver to: complete at once
          this.plicEnable(src, false);
          continue;
        }
        h.pending = true;
        this.signal(h.notification, h.badge);
      }
      this.reschedule();
      return;
    }
    this.reschedule(); // spurious
  }

  plicEnable(src: number, on: boolean): void {
    const plic = this.board.plic;
    const off = PLIC_ENABLE + (src >>> 5) * 4;
    const w = plic.read(off, 4);
    plic.write(off, 4, on ? w | (1 << (src & 31)) : w & ~(1 << (src & 31)));
    if (on) plic.write(PLIC_PRIORITY + src * 4, 4, 1);
  }

  plicComplete(src: number): void {
    this.board.plic.write(PLIC_CONTEXT + 4, 4, src);
  }

  // ------------------------------------------------------------------------------------------
  // Timeouts
  // ------------------------------------------------------------------------------------------

  private addTimeout(t: Thread, ticks: number): void {
    t.timeoutAt = this.board.clock.cycles + ticks * this.board.clock.cyclesPerTick;
    let p: Thread | null = null;
    let q = this.timeoutHead;
    while (q !== null && q.timeoutAt <= t.timeoutAt) {
      p = q;
      q = q.tNext;
    }
    t.tNext = q;
    if (p === null) this.timeoutHead = t;
    else p.tNext = t;
  }

  cancelTimeout(t: Thread): void {
    if (t.timeoutAt < 0) return;
    t.timeoutAt = -1;
    let p: Thread | null = null;
    for (let q = this.timeoutHead; q !== null; p = q, q = q.tNext) {
      if (q === t) {
        if (p === null) this.timeoutHead = q.tNext;
        else p.tNext = q.tNext;
        break;
      }
    }
    t.tNext = null;
  }

  private expireTimeouts(): void {
    const now = this.board.clock.cycles;
    while (this.timeoutHead !== null && this.timeoutHead.timeoutAt <= now) {
      const t = this.timeoutHead;
      this.cancelTimeout(t);
      this.unblock(t, Err.Timeout);
    }
  }

  /** Take `t` out of whatever it is blocked on (endpoint or notification queue, timeout) and
   * make it ready with a0 = `err`. */
  unblock(t: Thread, err: number): void {
    this.cancelTimeout(t);
    if (t.state === TS_BLOCKED_SEND || t.state === TS_BLOCKED_RECV) {
      if (t.blockedEp !== null) epDequeue(t.blockedEp, t);
      t.blockedEp = null;
    } else if (t.state === TS_BLOCKED_NTFN) {
      if (t.blockedNtfn !== null) ntfnDequeue(t.blockedNtfn, t);
      t.blockedNtfn = null;
    } else if (t.state === TS_BLOCKED_REPLY) {
      if (t.replyFrom !== null && t.replyFrom.replyTo === t) t.replyFrom.replyTo = null;
      t.replyFrom = null;
    } else {
      return;
    }
    if (t.sendKind !== SEND_MSG) {
      t.sendKind = SEND_MSG; // a fault whose handler went away: retry the instruction
    } else {
      t.regs[REG_A0] = err;
    }
    this.makeReady(t);
  }

  // ------------------------------------------------------------------------------------------
  // System calls (slow path)
  // ------------------------------------------------------------------------------------------

  /** Look up slot `slot` of `t`'s capability space; null when out of range or empty. */
  lookup(t: Thread, slot: number): Cap | null {
    const cs = t.task!.cspace;
    if (slot <= 0 || slot >= cs.length) return null;
    return cs[slot];
  }

  /** Error for a failed lookup of `slot`. */
  lookupErr(t: Thread, slot: number): number {
    const cs = t.task!.cspace;
    return slot <= 0 || slot >= cs.length ? Err.InvalidSlot : Err.EmptySlot;
  }

  private syscall(n: number): void {
    const t = this.current!;
    const x = this.hart.x;
    this.board.clock.cycles += K.COST_IPC_SLOW;
    if (this.trace.enabled) this.trace.record(TraceKind.Syscall, this.board.clock.cycles, t.id, n, x[REG_A0]);
    switch (n) {
      case Sys.Call: this.sysSend(t, true, true); break;
      case Sys.Send: this.sysSend(t, false, true); break;
      case Sys.NbSend: this.sysSend(t, false, false); break;
      case Sys.Recv: this.sysRecv(t, x[REG_A0], true, x[REG_A6]); break;
      case Sys.NbRecv: this.sysRecv(t, x[REG_A0], false, 0); break;
      case Sys.Reply: {
        const err = this.doReply(t);
        x[REG_A0] = err;
        break;
      }
      case Sys.ReplyRecv: {
        this.doReply(t);
        this.sysRecv(t, x[REG_A0], true, x[REG_A6]);
        break;
      }
      case Sys.Yield:
        x[REG_A0] = 0;
        t.sliceLeft = 0;
        break;
      case Sys.Invoke:
        x[REG_A0] = invoke(this, t, x);
        break;
      case Sys.DebugPutc:
        if (this.debugOut.length < 1 << 20) this.debugOut += String.fromCharCode(x[REG_A0] & 0xff);
        if (this.debugSink !== null) this.debugSink(x[REG_A0] & 0xff);
        x[REG_A0] = 0;
        break;
      default:
        this.runtimeCall(t);
        return;
    }
    this.reschedule();
  }

  /**
   * An ecall whose a7 is not a system call: a runtime call (src/abi/runtime.ts). It goes to the
   * thread's exception handler as an exception (cause 8, tval 0, pc = the ecall). A thread
   * without one is served by the semihost hook if there is one, else killed.
   */
  private runtimeCall(t: Thread): void {
    const hart = this.hart;
    hart.pc = (hart.pc - 4) | 0; // the ecall itself (the handler resumes at pc + 4)
    const h = t.excHandler;
    if ((h === null || !h.obj.alive) && this.semihost !== null) {
      if (this.trace.enabled) this.trace.record(TraceKind.Fault, this.board.clock.cycles, t.id, C.CAUSE_USER_ECALL, hart.x[REG_A7]);
      const act = this.semihost(t, hart.x);
      if (act === 'resume') {
        hart.pc = (hart.pc + 4) | 0;
        this.reschedule();
        return;
      }
      if (act === 'stop') {
        if (this.trace.enabled) this.trace.record(TraceKind.Kill, this.board.clock.cycles, t.id, C.CAUSE_USER_ECALL, 0);
        this.suspend(t);
        this.emitStopped(t, 'exit', 'exit', 0, 0);
        this.reschedule();
        return;
      }
    }
    this.exception(C.CAUSE_USER_ECALL, 0);
  }

  /** Send, NbSend, Call from the running thread `s`. */
  private sysSend(s: Thread, isCall: boolean, blocking: boolean): void {
    const x = this.hart.x;
    const slot = x[REG_A0];
    const cap = this.lookup(s, slot);
    if (cap === null) { x[REG_A0] = this.lookupErr(s, slot); return; }
    if (cap.type === ObjType.Notification && !isCall) {
      if ((cap.rights & Rights.Write) === 0) { x[REG_A0] = Err.NoRights; return; }
      x[REG_A0] = 0;
      this.signal(cap.obj as Notification, cap.badge);
      return;
    }
    if (cap.type !== ObjType.Endpoint) { x[REG_A0] = Err.WrongType; return; }
    if ((cap.rights & Rights.Write) === 0) { x[REG_A0] = Err.NoRights; return; }
    const ep = cap.obj as Endpoint;
    s.sendKind = SEND_MSG;
    s.sendBadge = cap.badge;
    s.sendRights = cap.rights;
    s.sendIsCall = isCall;
    const r = ep.recvHead;
    if (r !== null) {
      epDequeue(ep, r);
      r.blockedEp = null;
      this.cancelTimeout(r);
      x[REG_A0] = 0;
      this.deliver(s, x, r, r.regs);
      if (isCall) this.awaitReply(s, r);
      this.makeReady(r);
      return;
    }
    if (!blocking) { x[REG_A0] = Err.WouldBlock; return; }
    s.state = TS_BLOCKED_SEND;
    s.blockedEp = ep;
    epEnqueueSend(ep, s);
    const timeout = x[REG_A6];
    if (timeout > 0) this.addTimeout(s, timeout);
  }

  /** `s` (already given its message to `r`) now waits for `r`'s reply. */
  private awaitReply(s: Thread, r: Thread): void {
    if (r.replyTo !== null) this.discardReply(r);
    r.replyTo = s;
    s.replyFrom = r;
    s.state = TS_BLOCKED_REPLY;
  }

  /** `r` drops the reply right it holds: its caller is told Aborted (a faulting caller retries). */
  discardReply(r: Thread): void {
    const c = r.replyTo;
    r.replyTo = null;
    if (c !== null && c.state === TS_BLOCKED_REPLY && c.replyFrom === r) {
      c.replyFrom = null;
      this.unblock(c, Err.Aborted);
    }
  }

  /** Recv / NbRecv / the receive half of ReplyRecv, by the running thread `r`. */
  private sysRecv(r: Thread, slot: number, blocking: boolean, timeout: number): void {
    const x = this.hart.x;
    const cap = this.lookup(r, slot);
    if (cap === null) { x[REG_A0] = this.lookupErr(r, slot); return; }
    if ((cap.rights & Rights.Read) === 0) { x[REG_A0] = cap.type === ObjType.Endpoint || cap.type === ObjType.Notification ? Err.NoRights : Err.WrongType; return; }
    if (cap.type === ObjType.Notification) {
      const n = cap.obj as Notification;
      if (n.word !== 0) {
        x[REG_A0] = 0;
        x[REG_A6] = n.word;
        n.word = 0;
        return;
      }
      if (!blocking) { x[REG_A0] = Err.WouldBlock; x[REG_A6] = 0; return; }
      r.state = TS_BLOCKED_NTFN;
      r.blockedNtfn = n;
      ntfnEnqueue(n, r);
      if (timeout > 0) this.addTimeout(r, timeout);
      return;
    }
    if (cap.type !== ObjType.Endpoint) { x[REG_A0] = Err.WrongType; return; }
    const ep = cap.obj as Endpoint;
    const s = ep.sendHead;
    if (s !== null) {
      epDequeue(ep, s);
      s.blockedEp = null;
      this.cancelTimeout(s);
      x[REG_A0] = 0;
      this.deliver(s, s.regs, r, x);
      if (s.sendIsCall) {
        this.awaitReply(s, r);
      } else {
        s.regs[REG_A0] = 0;
        this.makeReady(s);
      }
      return;
    }
    if (!blocking) { x[REG_A0] = Err.WouldBlock; return; }
    r.state = TS_BLOCKED_RECV;
    r.blockedEp = ep;
    epEnqueueRecv(ep, r);
    if (timeout > 0) this.addTimeout(r, timeout);
  }

  /**
   * Deliver `s`'s pending message (its own, or the fault message the kernel built for it) to
   * `r`: registers, UTCB words, capabilities (if the endpoint capability had Grant) and a map
   * item (into `r`'s receive window). Sets r's a0..a6.
   */
  private deliver(s: Thread, sx: Int32Array, r: Thread, rx: Int32Array): void {
    if (this.trace.enabled) {
      const info = s.sendKind === SEND_MSG ? sx[REG_A1]
        : ((s.sendKind === SEND_PAGE_FAULT ? FaultLabel.PageFault : FaultLabel.Exception) << MSGINFO_LABEL_SHIFT);
      this.trace.record(TraceKind.Ipc, this.board.clock.cycles, s.id, r.id, info);
    }
    rx[REG_A0] = 0;
    rx[REG_A6] = s.sendBadge;
    if (s.sendKind === SEND_PAGE_FAULT) {
      rx[REG_A1] = (FaultLabel.PageFault << MSGINFO_LABEL_SHIFT) | 3;
      rx[REG_A2] = s.faultAddr;
      rx[REG_A3] = s.pc;
      rx[REG_A4] = s.faultAccess;
      rx[REG_A5] = 0;
      this.board.clock.cycles += K.COST_FAULT;
      return;
    }
    if (s.sendKind === SEND_EXCEPTION) {
      rx[REG_A1] = (FaultLabel.Exception << MSGINFO_LABEL_SHIFT) | EXC_MSG_LENGTH;
      rx[REG_A2] = s.faultCause;
      rx[REG_A3] = s.pc;
      rx[REG_A4] = s.faultAddr;
      rx[REG_A5] = sx[REG_SP];
      // MR4..MR11 = a0..a7, through the receiver's UTCB like any long message.
      const mr = (r.utcbPa - this.dramBase + Utcb.Mr) >> 2;
      for (let i = 0; i < 8; i++) this.ram32[mr + 4 + i] = sx[REG_A0 + i];
      this.board.clock.cycles += K.COST_FAULT + (EXC_MSG_LENGTH - 4) * K.COST_MR_WORD;
      return;
    }
    const info = sx[REG_A1];
    let len = info & MSGINFO_LENGTH_MASK;
    if (len > MSG_MAX) len = MSG_MAX;
    rx[REG_A2] = sx[REG_A2];
    rx[REG_A3] = sx[REG_A3];
    rx[REG_A4] = sx[REG_A4];
    rx[REG_A5] = sx[REG_A5];
    if (len > 4) this.copyMrs(s, r, len);
    this.board.clock.cycles += len * K.COST_MR_WORD;
    let out = (info & ~(MSGINFO_LENGTH_MASK | MSGINFO_MAP | MSGINFO_GRANT | (MSGINFO_CAPS_MASK << MSGINFO_CAPS_SHIFT))) | len;
    const ncaps = (info >>> MSGINFO_CAPS_SHIFT) & MSGINFO_CAPS_MASK;
    if (ncaps !== 0) {
      const got = (s.sendRights & Rights.Grant) !== 0 ? this.transferCaps(s, r, ncaps) : 0;
      out |= got << MSGINFO_CAPS_SHIFT;
    }
    if ((info & MSGINFO_MAP) !== 0) {
      const window = this.utcbWord(r, Utcb.RecvWindow);
      const base = window === 0 ? -1 : this.transferMap(s, r, window, (info & MSGINFO_GRANT) !== 0);
      this.setUtcbWord(r, Utcb.RecvMapBase, base < 0 ? 0 : base);
      if (base >= 0) out |= MSGINFO_MAP;
    }
    rx[REG_A1] = out;
  }

  /** Copy up to `n` capabilities named in `s`'s UTCB into `r`'s receive slots. Returns how many
   * arrived; a missing source or an occupied destination stops the transfer there. */
  private transferCaps(s: Thread, r: Thread, n: number): number {
    const first = this.utcbWord(r, Utcb.RecvSlot);
    const rcs = r.task!.cspace;
    let got = 0;
    for (let i = 0; i < n; i++) {
      const src = this.lookup(s, this.utcbWord(s, Utcb.XferCap0 + 4 * i));
      const dst = first + i;
      if (src === null || first <= 0 || dst >= rcs.length || rcs[dst] !== null) break;
      const c = new Cap(src.type, src.obj, src.rights, src.badge);
      c.linkUnder(src);
      this.cspaceInsert(r.task!, dst, c);
      this.board.clock.cycles += K.COST_CAP_XFER;
      got++;
    }
    this.setUtcbWord(r, Utcb.RecvCapCount, got);
    return got;
  }

  /** Map (or grant) the pages of `s`'s map item into `r`'s receive window. Returns the virtual
   * address where the item landed in `r`, or -1. */
  private transferMap(s: Thread, r: Thread, window: number, grant: boolean): number {
    const fp = this.utcbWord(s, Utcb.MapFpage);
    const sndBase = this.utcbWord(s, Utcb.MapSendBase);
    return this.mapItem(s.task!, fp, r.task!, window, sndBase, grant);
  }

  /**
   * L4 map item semantics: the source fpage `fp` (in `src`), the receive window `window` (an
   * fpage in `dst`) and the send base choose the destination: when the window is larger, the
   * source lands at window base + (sndBase mod window size); when it is smaller, only the part
   * of the source selected by sndBase (window-sized) is mapped. Rights are the source's rights
   * bits intersected with the existing mappings'. Returns the destination base or -1 (refused:
   * nothing mapped).
   */
  mapItem(src: Task, fp: number, dst: Task, window: number, sndBase: number, grant: boolean): number {
    const so = (fp >>> FPAGE_ORDER_SHIFT) & FPAGE_ORDER_MASK;
    const wo = (window >>> FPAGE_ORDER_SHIFT) & FPAGE_ORDER_MASK;
    if (so > 20 || wo > 20) return -1;
    let srcVpn = (fp >>> 12) & ~((1 << so) - 1);
    let dstVpn = (window >>> 12) & ~((1 << wo) - 1);
    let order: number;
    if (so <= wo) {
      order = so;
      dstVpn += (sndBase >>> 12) & ((1 << wo) - 1) & ~((1 << so) - 1);
    } else {
      order = wo;
      srcVpn += (sndBase >>> 12) & ((1 << so) - 1) & ~((1 << wo) - 1);
    }
    // Refused (-1) when a range leaves user space or, all or nothing, when the receiver's
    // page-table memory cannot hold every L2 table the item needs: nothing is mapped then.
    const n = this.mapPages(src, srcVpn, dst, dstVpn, 1 << order, fp & 7, grant);
    return n < 0 ? -1 : (dstVpn << 12) | 0;
  }

  /**
   * Map (grant) `count` pages from `src` at srcVpn to `dst` at dstVpn with at most `rights`.
   * Pages with nothing mapped in the source are skipped; a destination page that is a UTCB, or
   * that is the source page itself or one of its ancestors, is skipped, as is a page whose
   * rights come to nothing. All or nothing for page-table memory: every L2 table the pages to
   * be mapped need is checked for first (docs/KERNEL.md "Page-table accounting"), and when
   * they cannot all be allocated nothing is changed. Returns pages mapped, -1 when a range
   * leaves user space, -2 when the L2 tables cannot be allocated.
   */
  mapPages(src: Task, srcVpn: number, dst: Task, dstVpn: number, count: number, rights: number, grant: boolean): number {
    if (srcVpn < 0 || dstVpn < 0 || srcVpn + count > USER_TOP_VPN || dstVpn + count > USER_TOP_VPN) return -1;
    // The source pages, taken before anything changes (a page is still mapped when its turn
    // comes unless an earlier page of this same call replaced it).
    const work: [number, MapNode][] = [];
    if (count > src.maps.size) {
      for (const [vpn, node] of src.maps) if (vpn >= srcVpn && vpn < srcVpn + count) work.push([vpn - srcVpn, node]);
    } else {
      for (let i = 0; i < count; i++) {
        const node = src.maps.get(srcVpn + i);
        if (node !== undefined) work.push([i, node]);
      }
    }
    const skip = (i: number, node: MapNode): boolean => {
      const dv = dstVpn + i;
      if (dst.utcbs.has(dv)) return true;
      if (pteRights(rights & node.rights) === 0) return true;
      const old = dst.maps.get(dv);
      return old !== undefined && Vm.isAncestorOrSelf(old, node);
    };
    // New L2 tables: one per 4 MiB region of dst that a page lands in and that has none yet.
    const regions = new Set<number>();
    for (const [i, node] of work) {
      const r = (dstVpn + i) >>> 10;
      if (dst.l2[r] === 0 && !regions.has(r) && !skip(i, node)) regions.add(r);
    }
    if (!this.vm.canAllocL2(dst, regions.size)) return -2;
    let done = 0;
    for (const [i, node] of work) {
      if (node.task !== src || src.maps.get(node.vpn) !== node || skip(i, node)) continue;
      const dv = dstVpn + i;
      this.board.clock.cycles += K.COST_MAP_PAGE;
      const m = grant ? this.vm.grantPage(node, dst, dv, rights) : this.vm.mapPage(dst, dv, node.pa, rights & node.rights, node, null);
      if (m !== null) {
        done++;
        if (this.trace.enabled) this.trace.record(TraceKind.Map, this.board.clock.cycles, dst.id, dv << 12, node.pa);
      }
    }
    return done;
  }

  /** Reply through `r`'s reply right. Returns the error for Sys.Reply. */
  private doReply(r: Thread): number {
    const s = r.replyTo;
    if (s === null) return Err.NoReply;
    r.replyTo = null;
    if (s.state !== TS_BLOCKED_REPLY || s.replyFrom !== r) return Err.NoReply;
    s.replyFrom = null;
    const x = this.hart.x;
    const info = x[REG_A1];
    if (s.sendKind === SEND_PAGE_FAULT) {
      s.sendKind = SEND_MSG;
      if ((info & MSGINFO_MAP) !== 0) {
        // The faulting thread's receive window is its whole address space.
        this.mapItem(r.task!, this.utcbWord(r, Utcb.MapFpage), s.task!, 20 << FPAGE_ORDER_SHIFT, this.utcbWord(r, Utcb.MapSendBase), (info & MSGINFO_GRANT) !== 0);
      }
      this.makeReady(s); // retries the faulting instruction
      return 0;
    }
    if (s.sendKind === SEND_EXCEPTION) {
      s.sendKind = SEND_MSG;
      if ((info >>> MSGINFO_LABEL_SHIFT) === ExcReply.Kill) {
        this.kill(s, 'exception handler');
        return 0;
      }
      s.pc = x[REG_A2];
      const len = info & MSGINFO_LENGTH_MASK;
      if (len >= 2) s.regs[REG_A0] = x[REG_A3];
      if (len >= 3) s.regs[REG_A1] = x[REG_A4];
      this.makeReady(s);
      return 0;
    }
    // Replies may carry capabilities and mappings back: the caller asked for the answer.
    r.sendKind = SEND_MSG;
    r.sendBadge = 0;
    r.sendRights = Rights.Grant;
    this.deliver(r, x, s, s.regs);
    this.makeReady(s);
    return 0;
  }

  /** Signal `n` with `badge`: wake one waiter with the word, or accumulate it. */
  signal(n: Notification, badge: number): void {
    const w = n.waitHead;
    const word = n.word | badge | (badge === 0 ? 1 : 0);
    if (w !== null) {
      ntfnDequeue(n, w);
      w.blockedNtfn = null;
      this.cancelTimeout(w);
      n.word = 0;
      w.regs[REG_A0] = 0;
      w.regs[REG_A6] = word;
      this.makeReady(w);
    } else {
      n.word = word;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Faults
  // ------------------------------------------------------------------------------------------

  private exception(cause: number, tval: number): void {
    const t = this.current;
    if (t === null) return; // cannot happen: the hart runs no code while idle
    this.stats.faults++;
    this.board.clock.cycles += K.COST_FAULT;
    if (this.trace.enabled) this.trace.record(TraceKind.Fault, this.board.clock.cycles, t.id, cause, tval);
    const isPf = cause === C.CAUSE_FETCH_PAGE_FAULT || cause === C.CAUSE_LOAD_PAGE_FAULT || cause === C.CAUSE_STORE_PAGE_FAULT;
    const handler = isPf ? t.pager : t.excHandler;
    t.faultCause = cause;
    t.faultAddr = tval;
    t.faultAccess = cause === C.CAUSE_STORE_PAGE_FAULT ? FaultAccess.Write : cause === C.CAUSE_FETCH_PAGE_FAULT ? FaultAccess.Exec : FaultAccess.Read;
    if (handler === null || !handler.obj.alive) {
      this.kill(t, isPf ? 'page fault without a pager' : cause === C.CAUSE_USER_ECALL
        ? `runtime call 0x${(this.hart.x[REG_A7] >>> 0).toString(16)} without an exception handler` : 'exception without a handler');
      this.reschedule();
      return;
    }
    t.sendKind = isPf ? SEND_PAGE_FAULT : SEND_EXCEPTION;
    t.sendBadge = handler.badge;
    t.sendRights = 0;
    t.sendIsCall = true;
    const ep = handler.obj as Endpoint;
    const r = ep.recvHead;
    if (r !== null) {
      epDequeue(ep, r);
      r.blockedEp = null;
      this.cancelTimeout(r);
      t.pc = this.hart.pc;
      this.deliver(t, this.hart.x, r, r.regs);
      this.awaitReply(t, r);
      this.makeReady(r);
    } else {
      t.state = TS_BLOCKED_SEND;
      t.blockedEp = ep;
      epEnqueueSend(ep, t);
    }
    this.reschedule();
  }

  /** Stop `t` for good (until resumed): out of every queue, its reply relations aborted. */
  suspend(t: Thread): void {
    if (t.state === TS_INACTIVE) return;
    if (t.state === TS_READY) this.ready.remove(t);
    else if (t.state !== TS_RUNNING && t.state !== TS_THROTTLED) {
      this.unblock(t, Err.Aborted);
      if (t.state === TS_READY) this.ready.remove(t); // unblock made it ready
    }
    this.cancelTimeout(t);
    if (t.replyTo !== null) this.discardReply(t);
    t.sendKind = SEND_MSG;
    t.state = TS_INACTIVE;
  }

  kill(t: Thread, why: string): void {
    this.stats.kills++;
    if (this.trace.enabled) this.trace.record(TraceKind.Kill, this.board.clock.cycles, t.id, t.faultCause, t.faultAddr);
    this.lastKill = `thread ${t.id}: ${why} (cause ${t.faultCause}, addr 0x${(t.faultAddr >>> 0).toString(16)})`;
    this.suspend(t);
    this.emitStopped(t, 'killed', why, t.faultCause, t.faultAddr);
  }
  lastKill = '';

  // ------------------------------------------------------------------------------------------
  // Capability spaces and objects (used by cspace.ts, invoke.ts, boot.ts)
  // ------------------------------------------------------------------------------------------

  /** Put `cap` (not in any slot) into an empty slot. */
  cspaceInsert(task: Task, slot: number, cap: Cap): void {
    task.cspace[slot] = cap;
    cap.task = task;
    cap.slot = slot;
    cap.obj.refs++;
  }

  /** Destroy an object whose last capability has gone. */
  destroyObject(obj: KObject): void {
    if (!obj.alive) return;
    obj.alive = false;
    switch (obj.kind) {
      case 'thread': {
        this.suspend(obj);
        if (obj.task !== null) this.emitStopped(obj, 'destroyed', 'thread destroyed', 0, 0);
        if (obj.sc !== null) { obj.sc.thread = null; obj.sc = null; }
        if (obj.pager !== null) { const c = obj.pager; obj.pager = null; capDropKernel(this, c); }
        if (obj.excHandler !== null) { const c = obj.excHandler; obj.excHandler = null; capDropKernel(this, c); }
        const task = obj.task;
        if (task !== null) {
          this.vm.unmapKernelPage(task, obj.utcbVa >>> 12);
          const i = task.threads.indexOf(obj);
          if (i >= 0) task.threads.splice(i, 1);
          obj.task = null;
        }
        if (this.fpOwner === obj) this.fpOwner = null;
        this.threads.delete(obj);
        break;
      }
      case 'task': {
        for (const t of [...obj.threads]) {
          this.suspend(t);
          this.vm.unmapKernelPage(obj, t.utcbVa >>> 12);
          t.task = null;
          t.configured = false;
        }
        obj.threads.length = 0;
        this.vm.destroySpace(obj);
        for (let i = 1; i < obj.cspace.length; i++) {
          const c = obj.cspace[i];
          if (c !== null) capDelete(this, c);
        }
        if (this.vm.active === obj) this.vm.active = null;
        this.tasks.delete(obj);
        break;
      }
      case 'endpoint': {
        while (obj.sendHead !== null) this.unblock(obj.sendHead, Err.Aborted);
        while (obj.recvHead !== null) this.unblock(obj.recvHead, Err.Aborted);
        break;
      }
      case 'notification': {
        while (obj.waitHead !== null) this.unblock(obj.waitHead, Err.Aborted);
        break;
      }
      case 'sc': {
        const i = this.throttled.indexOf(obj);
        if (i >= 0) this.throttled.splice(i, 1);
        const t = obj.thread;
        if (t !== null) {
          t.sc = null;
          obj.thread = null;
          if (t.state === TS_THROTTLED) this.makeReady(t);
        }
        break;
      }
      case 'irq': {
        if (obj.notification !== null) this.irqUnbind(obj);
        this.plicEnable(obj.source, false);
        this.irqs[obj.source] = null;
        break;
      }
      case 'dma': {
        for (let w = 0; w < obj.windows.length; w++) this.dmaClose(obj.device, w, obj);
        break;
      }
      default:
        break;
    }
    if (obj.untyped !== null) obj.untyped.live--;
  }

  /** Kernel-held capability to the bound notification of an IRQ handler. */
  readonly irqNtfnCaps = new Map<IrqHandler, Cap>();

  irqUnbind(h: IrqHandler): void {
    const c = this.irqNtfnCaps.get(h);
    this.irqNtfnCaps.delete(h);
    h.notification = null;
    h.badge = 0;
    if (h.pending) { h.pending = false; this.plicComplete(h.source); }
    if (c !== undefined) capDropKernel(this, c);
  }

  dmaClose(device: number, w: number, d: { windows: (Cap | null)[] }): void {
    const cap = d.windows[w];
    if (cap === null) return;
    d.windows[w] = null;
    this.board.iommu.setWindow(device, w, null);
    if (cap.dma !== null) {
      const i = cap.dma.findIndex((e) => e.device === device && e.window === w);
      if (i >= 0) cap.dma.splice(i, 1);
    }
  }

  /** The DMA-window objects (by device), for closing windows when a frame capability goes. */
  readonly dmaObjs: { windows: (Cap | null)[] }[] = [];

  /**
   * Perform Sys.Invoke for thread `t` from TypeScript (boot helpers, tests, benchmarks): the
   * same decode and checks as the system call, with the arguments in a scratch register file.
   * Returns the error and the result registers a1..a5. Ends with a scheduling decision, as the
   * system call does.
   */
  invokeAs(t: Thread, slot: number, method: number, ...args: number[]): { err: number; r: number[] } {
    const x = new Int32Array(32);
    x[REG_A0] = slot;
    x[REG_A1] = method;
    for (let i = 0; i < args.length && i < 5; i++) x[REG_A2 + i] = args[i];
    const err = invoke(this, t, x);
    this.reschedule();
    return { err, r: [x[REG_A1], x[REG_A2], x[REG_A3], x[REG_A4], x[REG_A5]] };
  }

  /** Run the board for at most `maxInsns` instructions (convenience for tests and the CLI). */
  run(maxInsns: number): ReturnType<Board['run']> {
    return this.board.run(maxInsns);
  }
}
