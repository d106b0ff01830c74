// The host's view of a wasm2rv-compiled program, shared by every environment that runs one:
// the minimal host environment of the differential tests (host-env.ts) and the kernel's
// semihosting front end (`l4ts run`, src/cli/run-kernel.ts). It knows the compiled program's
// conventions and nothing about who runs it:
//   - the AssemblyScript runtime calls (src/abi/runtime.ts RtCall) and how to serve them:
//     exit, return, abort, trace, seed, console.* (strings are AssemblyScript UTF-16 objects),
//     heartbeat (a no-op without a supervisor);
//   - symbolization: the function of a pc (the function table at FUNCS_BASE and the ELF's
//     symbols), the wasm trap kind of a trap site (TRAPS_BASE), a backtrace along the
//     frame-pointer chain, and the fault report built from them.
// Memory and registers come in through two small interfaces, so that the same code reads a
// task's memory through host-env's own page map or through the kernel's page-table walk.

import type { ElfImage } from '../../abi/elf.ts';
import { STACK_SIZE, STACK_TOP, LINEAR_MAX, GUARD_SIZE, CODE_BASE } from '../../abi/layout.ts';
import { RtCall } from '../../abi/runtime.ts';
import { lookupTrap, TRAP_MESSAGES, type TrapKind } from './traps.ts';
import { FUNC_ENTRY_SIZE, FUNC_HAS_FRAME, FUNCS_BASE, TRAPS_BASE } from './compile.ts';

// mcause values (privileged spec table 3.6) the reports distinguish.
const CAUSE_BREAKPOINT = 3;
const CAUSE_LOAD_PAGE_FAULT = 13;
const CAUSE_STORE_PAGE_FAULT = 15;

/** A program's memory as the host may read it; reads of unmapped addresses throw RangeError. */
export interface ProgramMemory {
  readU8(va: number): number;
  readU32(va: number): number;
}

/** A program thread's registers as a runtime call sees them. */
export interface ProgramCpu {
  /** The integer registers (live: writes are the call's results). */
  readonly x: Int32Array;
  readF64(i: number): number;
  writeF64(i: number, v: number): void;
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

export const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** Format a fault report: the trap, then one line per frame. */
export function formatFault(r: FaultReport): string {
  const lines = [`wasm trap: ${r.message} in ${r.func} (function ${r.funcIndex}${r.wasmOffset >= 0 ? `, wasm offset ${hex(r.wasmOffset)}` : ''}, pc ${hex(r.pc)})`];
  r.backtrace.forEach((f, i) => lines.push(`  #${i} ${hex(f.pc)} ${f.func}${f.funcIndex >= 0 ? ` (function ${f.funcIndex})` : ''}`));
  return lines.join('\n');
}

/** An AssemblyScript string (UTF-16, byte length at ptr-4); 'null' for 0. */
export function readAsString(mem: ProgramMemory, ptr: number): string {
  if (ptr === 0) return 'null';
  try {
    const len = mem.readU32(ptr - 4);
    let s = '';
    for (let i = 0; i + 1 < len; i += 2) s += String.fromCharCode(mem.readU8(ptr + i) | (mem.readU8(ptr + i + 1) << 8));
    return s;
  } catch {
    return `<bad string ${hex(ptr)}>`;
  }
}

/** What serving a runtime call did: the program continues, or its run ends. */
export type RtCallResult =
  | { kind: 'continue' }
  | { kind: 'exit'; status: number }
  | { kind: 'return' }
  | { kind: 'abort'; message: string };

export interface RtHost {
  /** Program output (console.*, trace, abort messages). */
  print(text: string): void;
  /** What env.seed returns. */
  seed: number;
}

const CONTINUE: RtCallResult = { kind: 'continue' };

/**
 * Serve runtime call `num` (a7) of a compiled program: exit, return, and AssemblyScript's
 * `env` imports. Returns null for a number that is not one of them.
 */
export function serveRuntimeCall(num: number, cpu: ProgramCpu, mem: ProgramMemory, host: RtHost): RtCallResult | null {
  const x = cpu.x;
  switch (num) {
    case RtCall.Exit: return { kind: 'exit', status: x[10] };
    case RtCall.Return: return { kind: 'return' };
    case RtCall.Abort: {
      const message = `abort: ${readAsString(mem, x[10])} at ${readAsString(mem, x[11])}:${x[12]}:${x[13]}`;
      host.print(`${message}\n`);
      return { kind: 'abort', message };
    }
    case RtCall.Trace: {
      const n = x[11];
      const vals: string[] = [];
      for (let i = 0; i < n && i < 5; i++) vals.push(String(cpu.readF64(10 + i)));
      host.print(`trace: ${readAsString(mem, x[10])}${vals.length ? ' ' + vals.join(', ') : ''}\n`);
      return CONTINUE;
    }
    case RtCall.Seed:
      cpu.writeF64(10, host.seed);
      return CONTINUE;
    case RtCall.Heartbeat: // liveness for a supervisor; with nobody watching, nothing to do
      x[10] = 0;
      return CONTINUE;
    case RtCall.ConsoleLog: case RtCall.ConsoleError: case RtCall.ConsoleInfo:
    case RtCall.ConsoleWarn: case RtCall.ConsoleDebug:
      host.print(`${readAsString(mem, x[10])}\n`);
      return CONTINUE;
    default:
      return null;
  }
}

/** The symbols of a compiled program: functions, trap sites, fault reports, backtraces. */
export class ProgramSymbols {
  private readonly traps: Uint8Array;
  private readonly funcs: DataView;
  private readonly symByAddr = new Map<number, string>();

  constructor(readonly image: ElfImage) {
    const seg = (base: number): Uint8Array => image.segments.find((s) => s.vaddr === base)?.data ?? new Uint8Array(0);
    this.traps = seg(TRAPS_BASE);
    const f = seg(FUNCS_BASE);
    this.funcs = new DataView(f.buffer, f.byteOffset, f.byteLength);
    for (const s of image.symbolList) if (s.kind === 'func' && !s.name.startsWith('__export_')) this.symByAddr.set(s.value >>> 0, s.name);
  }

  /** Pages of linear memory (at virtual address 0) the image itself maps. */
  get linearBytes(): number {
    return this.image.segments.find((s) => s.vaddr === 0)?.memsz ?? 0;
  }

  /**
   * The report for a trap with `cause`/`tval` at `pc`, with registers `x` (fp = x8, ra = x1
   * for the backtrace) and the program's memory.
   */
  faultReport(cause: number, tval: number, pc: number, x: Int32Array, mem: ProgramMemory): FaultReport {
    pc >>>= 0;
    const site = lookupTrap(this.traps, pc);
    let kind: TrapKind | 'fault' = 'fault';
    let message: string;
    const isPageFault = cause === CAUSE_LOAD_PAGE_FAULT || cause === CAUSE_STORE_PAGE_FAULT;
    const stackBottom = STACK_TOP - STACK_SIZE;
    if (isPageFault && (tval >>> 0) < stackBottom && (tval >>> 0) >= stackBottom - 0x1000_0000) {
      kind = 'stack_overflow';
    } else if (site !== null && (cause === CAUSE_BREAKPOINT || (isPageFault && site.kind === 'oob_memory' && (tval >>> 0) < LINEAR_MAX + GUARD_SIZE))) {
      kind = site.kind;
    }
    if (kind !== 'fault') message = TRAP_MESSAGES[kind];
    else message = `unexpected trap cause ${cause} (tval ${hex(tval)})`;
    const fn = this.funcAt(pc);
    return {
      kind, message, pc, funcIndex: fn.index, func: fn.name, wasmOffset: site?.wasmOff ?? -1,
      backtrace: this.backtrace(pc, x, mem),
    };
  }

  funcAt(pc: number): { index: number; name: string; start: number; hasFrame: boolean; prologue: number } {
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
  backtrace(pc: number, x: Int32Array, mem: ProgramMemory): Frame[] {
    const frames: Frame[] = [];
    let fp = x[8] >>> 0;
    const ra = x[1] >>> 0;
    let first = true;
    for (let depth = 0; depth < 64; depth++) {
      const fn = this.funcAt(pc);
      frames.push({ pc, func: fn.name, funcIndex: fn.index });
      if (fn.index < 0 && !first) break;
      let next: number;
      if (fn.hasFrame && !(first && pc < fn.start + fn.prologue)) {
        if (fp === 0) break;
        try {
          next = mem.readU32(fp - 4);
          fp = mem.readU32(fp - 8);
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
}

/** The exit status of a run's outcome (what `l4ts run` exits with): main's i32; 129 for a
 *  trap, 134 for an abort, 124 when the instruction budget ran out. */
export function outcomeStatus(o: Outcome): number {
  switch (o.kind) {
    case 'exit': return o.status;
    case 'trap': return 129;
    case 'abort': return 134;
    case 'budget': return 124;
    default: return 0;
  }
}
