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
import { PAGE_SIZE, STACK_SIZE, STACK_TOP, UTCB_BASE } from '../../abi/layout.ts';
import { FUZZ_CALLS } from './sysno.ts';
import { Sys } from '../../abi/sys.ts';
import { CompSlot } from '../../abi/caps.ts';
import { Err } from '../../abi/errors.ts';
import { MemProto } from '../../abi/runtime.ts';
import { MSGINFO_LABEL_SHIFT, msgInfo } from '../../abi/message.ts';
import {
  ProgramSymbols, formatFault, readAsString, serveRuntimeCall, outcomeStatus, hex,
  type Frame, type FaultReport, type Outcome,
} from './rt-host.ts';
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

// The program-facing logic (runtime calls, strings, fault reports, backtraces) is rt-host.ts,
// shared with the kernel's semihosting front end (src/cli/run-kernel.ts).
export { formatFault };
export type { Frame, FaultReport, Outcome };

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
  readonly symbols: ProgramSymbols;
  private readonly cpu = {
    x: new Int32Array(0),
    readF64: (i: number): number => this.board.hart.frD[i],
    writeF64: (i: number, v: number): void => { this.board.hart.frD[i] = v; },
  };
  private readonly rtHost = { print: (t: string): void => this.print(t), seed: 0 };
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
    this.symbols = new ProgramSymbols(this.image);
    this.cpu.x = this.board.hart.x;
    this.rtHost.seed = opts.seed ?? 42;
    const hart = this.board.hart;
    hart.trapHandler = (h, cause, tval) => this.onTrap(cause, tval);
    hart.mstatus |= C.MSTATUS_FS;
    // U-mode may read cycle/time/instret (l4.time), as under the kernel.
    hart.mcounteren = 7;
    hart.scounteren = 7;
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

  /** An AssemblyScript string (UTF-16, byte length at ptr-4), or 'null' for 0. */
  readAsString(ptr: number): string {
    return readAsString(this, ptr);
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
    }
    const r = serveRuntimeCall(num, this.cpu, this, this.rtHost);
    if (r !== null) {
      if (r.kind !== 'continue') this.stop(r);
      return;
    }
    const h = this.opts.hostCalls?.get(num);
    if (h !== undefined) { h(this); return; }
    if (num === FUZZ_CALLS['fuzzing-support.log-i32']) { this.print(`log-i32 ${x[10]}\n`); return; }
    const sys = Object.entries(Sys).find(([, v]) => v === num);
    const message = sys !== undefined ? `system call ${sys[0]} (${num}) is not available in the host environment (it needs the kernel)` : `unknown system call ${hex(num)}`;
    this.stop({ kind: 'trap', report: { ...this.faultReport(C.CAUSE_USER_ECALL, 0), kind: 'fault', message } });
  }

  /** Decode a trap at hart.pc into a report (rt-host.ts). */
  faultReport(cause: number, tval: number): FaultReport {
    const hart = this.board.hart;
    return this.symbols.faultReport(cause, tval, hart.pc, hart.x, this);
  }

  /** The frames from `pc` along the frame-pointer chain (rt-host.ts). */
  backtrace(pc: number): Frame[] {
    return this.symbols.backtrace(pc, this.board.hart.x, this);
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
  if (outcome.kind === 'trap') env.print(`${formatFault(outcome.report)}\n`);
  if (outcome.kind === 'budget') env.print('host-env: instruction budget exhausted\n');
  return { status: outcomeStatus(outcome), outcome, output: env.output, instructions: env.instret };
}
