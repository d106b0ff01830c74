// The minimal host environment: runs one wasm2rv-compiled ELF as the only user task on the
// board, until the kernel replaces it. It
//   - builds Sv32 page tables in DRAM for the layout of src/abi/layout.ts (linear memory RW,
//     code X-only, read-only data R, data RW, the stack RW; nothing else is mapped, so the
//     region after linear memory and below the stack are guards);
//   - runs the program in U-mode with `hart.trapHandler` attached (privileged spec 10.3 Sv32,
//     3.1.6 privilege; the handler replaces trap vectoring, see src/machine/hart.ts);
//   - implements the runtime ecalls (src/abi/runtime.ts RtCall) and AssemblyScript's `env`
//     imports, and of the kernel's system calls only what a lone program needs: DebugPutc, and
//     a Call on CompSlot.Memory with label MemProto.Grow, answered as the memory manager would
//     (it maps the pages at once) - the memory.grow protocol of the compiled runtime; it maps
//     a UTCB page at UTCB_BASE, as the kernel does for a component's first thread. Every
//     other system call stops the run with a fault unless a test supplies it (`hostCalls`);
//   - turns every other trap into a fault report: the wasm trap kind from the trap-site table,
//     the function and wasm offset, and a backtrace along the frame-pointer chain.
// The boundary to the program is the ELF plus the ecall ABI of src/abi: nothing else.

import { Board } from '../../machine/board.ts';
import { DRAM_BASE } from '../../machine/memory.ts';
import * as C from '../../machine/csr.ts';
import { PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X } from '../../machine/sv32.ts';
import { parseElf32, type ElfImage } from '../../abi/elf.ts';
import { PAGE_SIZE, STACK_SIZE, STACK_TOP, LINEAR_MAX, GUARD_SIZE, CODE_BASE, UTCB_BASE } from '../../abi/layout.ts';
import { lookupTrap, TRAP_MESSAGES, type TrapKind } from './traps.ts';
import { ENV_CALLS, FUZZ_CALLS, SYS_EXIT, SYS_RETURN } from './sysno.ts';
import { Sys } from '../../abi/sys.ts';
import { CompSlot } from '../../abi/caps.ts';
import { Err } from '../../abi/errors.ts';
import { MemProto } from '../../abi/runtime.ts';
import { MSGINFO_LABEL_SHIFT, msgInfo } from '../../abi/message.ts';
import { FUNC_ENTRY_SIZE, FUNC_HAS_FRAME, FUNCS_BASE, TRAPS_BASE } from './compile.ts';
import { F32, F64, I64, type ValType } from './module.ts';

export interface HostEnvOptions {
  /** Instruction budget of one run or invoke (default 2e9). */
  maxInsns?: number;
  /** Where program output goes (console.log, trace, abort messages, fault reports). */
  stdout?: (text: string) => void;
  /** Value `env.seed` returns (default 42: deterministic runs). */
  seed?: number;
  dramSize?: number;
  /** a0 at `_start` / `__wasm2rv_init` (default 0, as for a component; the kernel gives the
   *  root task the BootInfo address). */
  startArg?: number;
  /** Extra host calls by number (the fuzzer's logging imports; tests may also stand in for
   *  the kernel's system calls, which are looked up here first). */
  hostCalls?: Map<number, (env: HostEnv) => void | boolean>;
}

export interface Frame {
  pc: number;
  func: string;
  funcIndex: number;
}

export interface FaultReport {
  kind: TrapKind | 'fault';
  message: string;
  pc: number;
  funcIndex: number;
  func: string;
  /** Offset of the trapping wasm instruction in the module, or -1. */
  wasmOffset: number;
  backtrace: Frame[];
}

export type Outcome =
  | { kind: 'exit'; status: number }
  | { kind: 'return' }
  | { kind: 'trap'; report: FaultReport }
  | { kind: 'abort'; message: string }
  | { kind: 'budget' };

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** Format a fault report: the trap, then one line per frame. */
export function formatFault(r: FaultReport): string {
  const lines = [`wasm trap: ${r.message} in ${r.func} (function ${r.funcIndex}${r.wasmOffset >= 0 ? `, wasm offset ${hex(r.wasmOffset)}` : ''}, pc ${hex(r.pc)})`];
  r.backtrace.forEach((f, i) => lines.push(`  #${i} ${hex(f.pc)} ${f.func}${f.funcIndex >= 0 ? ` (function ${f.funcIndex})` : ''}`));
  return lines.join('\n');
}

export class HostEnv {
  readonly board: Board;
  readonly image: ElfImage;
  private nextPage: number;
  private readonly rootPa: number;
  /** Virtual page number -> DRAM offset of the page (for host reads of user memory). */
  private readonly pages = new Map<number, number>();
  memPages = 0;
  /** memory.grow requests that reached the memory manager (the host) through IPC. */
  memoryCalls = 0;
  private outcome: Outcome | null = null;
  private readonly traps: Uint8Array;
  private readonly funcs: DataView;
  private readonly symByAddr: Map<number, string>;
  private readonly out: (s: string) => void;
  output = '';

  constructor(elf: Uint8Array, readonly opts: HostEnvOptions = {}) {
    this.image = parseElf32(elf);
    this.board = new Board({ dramSize: opts.dramSize ?? 256 * 1024 * 1024 });
    this.out = opts.stdout ?? (() => {});
    this.nextPage = DRAM_BASE + 0x10_0000;
    this.rootPa = this.allocPage();
    for (const s of this.image.segments) {
      const flags = s.flags.x ? PTE_X : s.flags.w ? PTE_R | PTE_W : PTE_R;
      for (let off = 0; off < s.memsz; off += PAGE_SIZE) {
        const pa = this.map(s.vaddr + off, flags);
        const n = Math.min(PAGE_SIZE, s.data.length - off);
        if (n > 0) this.board.dram.writeBytes(pa, s.data.subarray(off, off + n));
      }
      if (s.vaddr === 0) this.memPages = s.memsz / 65536;
    }
    for (let va = STACK_TOP - STACK_SIZE; va < STACK_TOP; va += PAGE_SIZE) this.map(va, PTE_R | PTE_W);
    // The thread's UTCB, where the kernel would map it for the first thread of a component.
    this.map(UTCB_BASE, PTE_R | PTE_W);
    const seg = (base: number): Uint8Array => this.image.segments.find((s) => s.vaddr === base)?.data ?? new Uint8Array(0);
    this.traps = seg(TRAPS_BASE);
    const f = seg(FUNCS_BASE);
    this.funcs = new DataView(f.buffer, f.byteOffset, f.byteLength);
    this.symByAddr = new Map();
    for (const s of this.image.symbolList) if (s.kind === 'func' && !s.name.startsWith('__export_')) this.symByAddr.set(s.value >>> 0, s.name);
    const hart = this.board.hart;
    hart.trapHandler = (h, cause, tval) => this.onTrap(cause, tval);
    hart.mstatus |= C.MSTATUS_FS;
    hart.setSatp(0x8000_0000 | ((this.rootPa - 0) / PAGE_SIZE));
    hart.priv = C.PRIV_U;
    hart.flushTlb();
  }

  private allocPage(): number {
    const pa = this.nextPage;
    if (pa + PAGE_SIZE > DRAM_BASE + this.board.dram.size) throw new Error('host-env: out of physical memory');
    this.nextPage += PAGE_SIZE;
    return pa;
  }

  /** Map user page `va` with permissions `flags` to a fresh zeroed DRAM page; returns its PA. */
  private map(va: number, flags: number): number {
    const dram = this.board.dram;
    const l1 = this.rootPa + (va >>> 22) * 4;
    let pte = dram.readU32(l1);
    if ((pte & PTE_V) === 0) {
      const t = this.allocPage();
      pte = ((t / PAGE_SIZE) << 10) | PTE_V;
      dram.writeU32(l1, pte);
    }
    const l0 = (pte >>> 10) * PAGE_SIZE + ((va >>> 12) & 0x3ff) * 4;
    const pa = this.allocPage();
    dram.writeU32(l0, ((pa / PAGE_SIZE) << 10) | flags | PTE_U | PTE_A | PTE_D | PTE_V);
    this.pages.set(va >>> 12, pa - DRAM_BASE);
    return pa;
  }

  // --- user memory access from the host --------------------------------------------------------

  readU8(va: number): number {
    const off = this.pages.get(va >>> 12);
    if (off === undefined) throw new RangeError(`host-env: read of unmapped ${hex(va)}`);
    return this.board.dram.u8[off + (va & 0xfff)];
  }

  writeU32(va: number, v: number): void {
    const off = this.pages.get(va >>> 12);
    if (off === undefined) throw new RangeError(`host-env: write of unmapped ${hex(va)}`);
    const o = off + (va & 0xfff);
    const u8 = this.board.dram.u8;
    for (let i = 0; i < 4; i++) u8[o + i] = (v >>> (8 * i)) & 0xff;
  }

  readU32(va: number): number {
    return (this.readU8(va) | (this.readU8(va + 1) << 8) | (this.readU8(va + 2) << 16) | (this.readU8(va + 3) << 24)) >>> 0;
  }

  /** The whole linear memory (current size). */
  linearMemory(): Uint8Array {
    const out = new Uint8Array(this.memPages * 65536);
    const u8 = this.board.dram.u8;
    for (let p = 0; p < out.length / PAGE_SIZE; p++) {
      const off = this.pages.get(p)!;
      out.set(u8.subarray(off, off + PAGE_SIZE), p * PAGE_SIZE);
    }
    return out;
  }

  /** An AssemblyScript string (UTF-16, byte length at ptr-4), or '' for null. */
  readAsString(ptr: number): string {
    if (ptr === 0) return 'null';
    try {
      const len = this.readU32(ptr - 4);
      let s = '';
      for (let i = 0; i + 1 < len; i += 2) s += String.fromCharCode(this.readU8(ptr + i) | (this.readU8(ptr + i + 1) << 8));
      return s;
    } catch {
      return `<bad string ${hex(ptr)}>`;
    }
  }

  print(s: string): void {
    this.output += s;
    this.out(s);
  }

  // --- running ----------------------------------------------------------------------------------

  /** Run from `pc` until exit, return, trap or the budget is spent. */
  private runFrom(pc: number): Outcome {
    const hart = this.board.hart;
    hart.pc = pc >>> 0;
    hart.priv = C.PRIV_U;
    hart.halted = false;
    this.outcome = null;
    const budget = this.opts.maxInsns ?? 2e9;
    const end = hart.instret + budget;
    while (this.outcome === null) {
      const left = end - hart.instret;
      if (left <= 0) return { kind: 'budget' };
      hart.run(Math.min(left, 50_000_000));
    }
    return this.outcome;
  }

  /** Run `_start`: the start function, then `main`; the outcome carries main's i32. */
  start(): Outcome {
    this.resetRegs();
    return this.runFrom(this.image.entry);
  }

  /** Run the start function only (for hosts that then `invoke` exports). */
  init(): Outcome {
    this.resetRegs();
    return this.runFrom(this.symbol('__wasm2rv_init'));
  }

  symbol(name: string): number {
    const v = this.image.symbols.get(name);
    if (v === undefined) throw new Error(`host-env: no symbol ${name}`);
    return v;
  }

  private resetRegs(): void {
    const x = this.board.hart.x;
    x.fill(0);
    x[2] = STACK_TOP;
    x[10] = this.opts.startArg ?? 0;
  }

  /**
   * Call export `name` with `args` (i64 as bigint, floats as numbers, f32/f64 may also be
   * given as raw bits via {bits}) by the wasm2rv convention; returns the outcome and result.
   */
  invoke(name: string, params: readonly ValType[], results: readonly ValType[], args: readonly (number | bigint)[]): { outcome: Outcome; value?: number | bigint } {
    const hart = this.board.hart;
    const x = hart.x;
    x[8] = 0;
    x[1] = this.symbol('__wasm2rv_return');
    let ni = 10;
    let nf = 10;
    // Arguments that do not fit registers go to 8-byte slots at sp (regs.ts convention).
    const stackArgs: number[] = [];
    x[2] = STACK_TOP - 8 * 64;
    params.forEach((t, i) => {
      const v = args[i];
      const spill = t === F32 || t === F64 ? nf >= 18 : t === I64 ? ni >= 17 : ni >= 18;
      if (spill) {
        const b = new DataView(new ArrayBuffer(8));
        if (t === I64) b.setBigInt64(0, BigInt(v), true);
        else if (t === F32) b.setFloat32(0, Number(v), true);
        else if (t === F64) b.setFloat64(0, Number(v), true);
        else b.setInt32(0, Number(v), true);
        stackArgs.push(b.getInt32(0, true), b.getInt32(4, true));
        return;
      }
      if (t === I64) {
        const b = BigInt.asUintN(64, BigInt(v));
        x[ni++] = Number(b & 0xffffffffn) | 0;
        x[ni++] = Number(b >> 32n) | 0;
      } else if (t === F32) {
        const f = new Float32Array([Number(v)]);
        hart.fr[nf * 2] = new Int32Array(f.buffer)[0];
        hart.fr[nf * 2 + 1] = -1;
        nf++;
      } else if (t === F64) {
        hart.frD[nf++] = Number(v);
      } else {
        x[ni++] = Number(v) | 0;
      }
    });
    stackArgs.forEach((w, k) => this.writeU32(x[2] + 4 * k, w));
    const outcome = this.runFrom(this.symbol(`__export_${name}`));
    if (outcome.kind !== 'return' || results.length === 0) return { outcome };
    const t = results[0];
    let value: number | bigint;
    if (t === I64) value = BigInt.asIntN(64, (BigInt(x[11] >>> 0) << 32n) | BigInt(x[10] >>> 0));
    else if (t === F32) value = new Float32Array(new Int32Array([hart.fr[20]]).buffer)[0];
    else if (t === F64) value = hart.frD[10];
    else value = x[10];
    return { outcome, value };
  }

  /** Raw bits of the f32/f64 result register (NaN payload comparisons). */
  resultBits(t: ValType): bigint {
    const hart = this.board.hart;
    if (t === F32) return BigInt(hart.fr[20] >>> 0);
    return (BigInt(hart.fr[21] >>> 0) << 32n) | BigInt(hart.fr[20] >>> 0);
  }

  // --- traps ------------------------------------------------------------------------------------

  private stop(o: Outcome): void {
    this.outcome = o;
    this.board.hart.halted = true;
  }

  private onTrap(cause: number, tval: number): void {
    const hart = this.board.hart;
    if (cause === C.CAUSE_USER_ECALL) {
      hart.pc = (hart.pc + 4) >>> 0;
      this.ecall(hart.x[17]);
      return;
    }
    this.stop({ kind: 'trap', report: this.faultReport(cause, tval) });
  }

  private ecall(num: number): void {
    const hart = this.board.hart;
    const x = hart.x;
    if (num < 16) {
      const h = this.opts.hostCalls?.get(num);
      // A stand-in for a system call may decline (return false): the host handles it then.
      if (h !== undefined && h(this) !== false) return;
    }
    switch (num) {
      case SYS_EXIT: this.stop({ kind: 'exit', status: x[10] }); return;
      case SYS_RETURN: this.stop({ kind: 'return' }); return;
      case Sys.Call: {
        // The memory manager's side of memory.grow (src/abi/runtime.ts MemProto).
        if (x[10] !== CompSlot.Memory || (x[11] >>> MSGINFO_LABEL_SHIFT) !== MemProto.Grow) break;
        const delta = x[12] >>> 0;
        const cur = x[13] >>> 0;
        const max = x[14] >>> 0;
        const free = this.board.dram.size - (this.nextPage - DRAM_BASE) - 0x10_0000;
        let err: number = Err.Ok;
        if (cur + delta > max || delta * 65536 > free) err = Err.NoMemory;
        else {
          for (let va = cur * 65536; va < (cur + delta) * 65536; va += PAGE_SIZE) if (!this.pages.has(va >>> 12)) this.map(va, PTE_R | PTE_W);
          this.memPages = cur + delta;
        }
        this.memoryCalls++;
        x[10] = Err.Ok;
        x[11] = msgInfo(0, 1);
        x[12] = err;
        return;
      }
      case Sys.DebugPutc:
        this.print(String.fromCharCode(x[10] & 0xff));
        x[10] = Err.Ok;
        return;
      case ENV_CALLS['env.abort']: {
        const msg = `abort: ${this.readAsString(x[10])} at ${this.readAsString(x[11])}:${x[12]}:${x[13]}`;
        this.print(`${msg}\n`);
        this.stop({ kind: 'abort', message: msg });
        return;
      }
      case ENV_CALLS['env.trace']: {
        const n = x[11];
        const vals = [];
        for (let i = 0; i < n && i < 5; i++) vals.push(String(hart.frD[10 + i]));
        this.print(`trace: ${this.readAsString(x[10])}${vals.length ? ' ' + vals.join(', ') : ''}\n`);
        return;
      }
      case ENV_CALLS['env.seed']: hart.frD[10] = this.opts.seed ?? 42; return;
      case ENV_CALLS['env.console.log']: case ENV_CALLS['env.console.error']: case ENV_CALLS['env.console.info']:
      case ENV_CALLS['env.console.warn']: case ENV_CALLS['env.console.debug']:
        this.print(`${this.readAsString(x[10])}\n`);
        return;
    }
    const h = this.opts.hostCalls?.get(num);
    if (h !== undefined) { h(this); return; }
    if (num === FUZZ_CALLS['fuzzing-support.log-i32']) { this.print(`log-i32 ${x[10]}\n`); return; }
    const sys = Object.entries(Sys).find(([, v]) => v === num);
    const message = sys !== undefined ? `system call ${sys[0]} (${num}) is not available in the host environment (it needs the kernel)` : `unknown system call ${hex(num)}`;
    this.stop({ kind: 'trap', report: { ...this.faultReport(C.CAUSE_USER_ECALL, 0), kind: 'fault', message } });
  }

  /** Decode a trap at hart.pc into a report (traps.ts for the kinds). */
  faultReport(cause: number, tval: number): FaultReport {
    const hart = this.board.hart;
    const pc = hart.pc >>> 0;
    const site = lookupTrap(this.traps, pc);
    let kind: TrapKind | 'fault' = 'fault';
    let message: string;
    const isPageFault = cause === C.CAUSE_LOAD_PAGE_FAULT || cause === C.CAUSE_STORE_PAGE_FAULT;
    const stackBottom = STACK_TOP - STACK_SIZE;
    if (isPageFault && (tval >>> 0) < stackBottom && (tval >>> 0) >= stackBottom - 0x1000_0000) {
      kind = 'stack_overflow';
    } else if (site !== null && (cause === C.CAUSE_BREAKPOINT || (isPageFault && site.kind === 'oob_memory' && (tval >>> 0) < LINEAR_MAX + GUARD_SIZE))) {
      kind = site.kind;
    }
    if (kind !== 'fault') message = TRAP_MESSAGES[kind];
    else message = `unexpected trap cause ${cause} (tval ${hex(tval)})`;
    const fn = this.funcAt(pc);
    return {
      kind, message, pc, funcIndex: fn.index, func: fn.name, wasmOffset: site?.wasmOff ?? -1,
      backtrace: this.backtrace(pc),
    };
  }

  private funcAt(pc: number): { index: number; name: string; start: number; hasFrame: boolean; prologue: number } {
    const dv = this.funcs;
    for (let i = 0; i + FUNC_ENTRY_SIZE <= dv.byteLength; i += FUNC_ENTRY_SIZE) {
      const start = dv.getUint32(i, true);
      const end = dv.getUint32(i + 4, true);
      if (pc >= start && pc < end) {
        const flags = dv.getUint32(i + 8, true);
        return { index: dv.getInt32(i + 12, true), name: this.symByAddr.get(start) ?? hex(start), start, hasFrame: (flags & FUNC_HAS_FRAME) !== 0, prologue: flags >>> 8 };
      }
    }
    return { index: -1, name: '?', start: 0, hasFrame: false, prologue: 0 };
  }

  /**
   * Walk the frames (docs/WASM2RV.md "Backtraces"): a function with a frame keeps its return
   * address at fp-4 and the caller's fp at fp-8; a frameless leaf (or one still in its
   * prologue) has its return address in ra and leaves fp alone.
   */
  backtrace(pc: number): Frame[] {
    const hart = this.board.hart;
    const frames: Frame[] = [];
    let fp = hart.x[8] >>> 0;
    let ra = hart.x[1] >>> 0;
    let first = true;
    for (let depth = 0; depth < 64; depth++) {
      const fn = this.funcAt(pc);
      frames.push({ pc, func: fn.name, funcIndex: fn.index });
      if (fn.index < 0 && !first) break;
      let next: number;
      if (fn.hasFrame && !(first && pc < fn.start + fn.prologue)) {
        if (fp === 0) break;
        try {
          next = this.readU32(fp - 4);
          fp = this.readU32(fp - 8);
        } catch {
          break;
        }
      } else if (first) {
        next = ra;
      } else {
        break;
      }
      first = false;
      if (next < CODE_BASE || next === 0) break;
      pc = (next - 4) >>> 0;
    }
    return frames;
  }

  get instret(): number {
    return this.board.hart.instret;
  }
}

export interface RunResult {
  status: number;
  outcome: Outcome;
  output: string;
  instructions: number;
}

/**
 * Run a compiled program as the only user task: start function, then `main`; the i32 main
 * returns is the exit status. A trap prints its report and gives status 128 + 1; an abort 134;
 * running out of budget 124.
 */
export function runElf(elf: Uint8Array, opts: HostEnvOptions = {}): RunResult {
  const env = new HostEnv(elf, opts);
  const outcome = env.start();
  let status: number;
  switch (outcome.kind) {
    case 'exit': status = outcome.status; break;
    case 'trap': env.print(`${formatFault(outcome.report)}\n`); status = 129; break;
    case 'abort': status = 134; break;
    case 'budget': env.print('host-env: instruction budget exhausted\n'); status = 124; break;
    default: status = 0;
  }
  return { status, outcome, output: env.output, instructions: env.instret };
}
