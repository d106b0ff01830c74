// The runtime routines linked into every program: entry points, memory.grow/fill/copy/init,
// i64 division and f32-from-i64 conversion. They use the normal wasm2rv calling convention
// (regs.ts: arguments a0.., results a0/a1/fa0, caller-saved registers clobbered) and touch no
// stack. Bounds-checking routines return a status in a0 (0 = done, 1 = out of bounds: nothing
// was written, WebAssembly 2.0 section 4.4.7 memory.fill/copy/init trap before any write);
// the call site turns a nonzero status into a trap at its own wasm offset.

import * as E from '../rv32/encode.ts';
import { Asm } from './asm.ts';
import { DATA_LINEARFRAMES, DATA_MEMMAX, DATA_MEMRESERVED, DATA_MEMSIZE, DATA_STARTARG, RA, T0, T1, T2, TP, TP_VALUE, FP } from './regs.ts';
import { SYS_EXIT, SYS_RETURN } from './sysno.ts';
import { BOOTINFO_MAGIC, BootInfo, BootSlot, CompSlot, Rights } from '../../abi/caps.ts';
import { msgInfo } from '../../abi/message.ts';
import { MemProto } from '../../abi/runtime.ts';
import { Method, Sys } from '../../abi/sys.ts';

const A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14, A5 = 15, A6 = 16, A7 = 17;
const T3 = 28, T4 = 29, T5 = 30;
const FA0 = 10, FT0 = 0, FT1 = 1;
const MEMSIZE = DATA_MEMSIZE - 0x800;
const MEMMAX = DATA_MEMMAX - 0x800;
const MEMRESERVED = DATA_MEMRESERVED - 0x800;
const STARTARG = DATA_STARTARG - 0x800;
const LINEARFRAMES = DATA_LINEARFRAMES - 0x800;

export interface Routine {
  name: string;
  asm: Asm;
}

function routine(name: string, body: (a: Asm) => void): Routine {
  const a = new Asm(new Set());
  body(a);
  return { name, asm: a };
}

const ret = (a: Asm): void => a.emit(E.jalr(0, RA, 0));

/**
 * Entry: set tp, clear fp, keep the start argument (a0) in RtData.StartArg; when it points at
 * a BootInfo page (the root task), RtData.MemReserved = BootInfo.LinearPages, the 4 KiB pages
 * of linear memory the kernel gave it frames for, and RtData.LinearFrameFirst =
 * BootInfo.LinearFrameFirst, the slot of page 0's frame (otherwise MemReserved keeps the
 * image's initial memory, in 4 KiB pages, and LinearFrameFirst 0). Then the start function,
 * then main; exit with main's result.
 */
export function entryRoutines(startFn: number | null, main: { index: number; returnsI32: boolean } | null): Routine[] {
  const prelude = (a: Asm): void => {
    a.li(TP, TP_VALUE);
    a.li(FP, 0);
    a.emit(E.sw(A0, TP, STARTARG));
    const done = a.label();
    a.branch('eq', A0, 0, done);
    a.emit(E.lw(T0, A0, BootInfo.Magic * 4));
    a.li(T1, BOOTINFO_MAGIC);
    a.branch('ne', T0, T1, done);
    a.emit(E.lw(T0, A0, BootInfo.LinearPages * 4));
    a.emit(E.sw(T0, TP, MEMRESERVED));
    a.emit(E.lw(T0, A0, BootInfo.LinearFrameFirst * 4));
    a.emit(E.sw(T0, TP, LINEARFRAMES));
    a.bind(done);
    if (startFn !== null) a.call(startFn);
  };
  return [
    routine('_start', (a) => {
      prelude(a);
      if (main !== null) {
        a.call(main.index);
        if (!main.returnsI32) a.li(A0, 0);
      } else {
        a.li(A0, 0);
      }
      a.li(A7, SYS_EXIT);
      a.emit(E.ecall());
      a.emit(E.ebreak());
    }),
    // For hosts that call exports themselves: initialize, then return to the host.
    routine('__wasm2rv_init', (a) => {
      prelude(a);
      a.li(A7, SYS_RETURN);
      a.emit(E.ecall());
      a.emit(E.ebreak());
    }),
    routine('__wasm2rv_return', (a) => {
      a.li(A7, SYS_RETURN);
      a.emit(E.ecall());
      a.emit(E.ebreak());
    }),
  ];
}

/** Trap-free helper routines. */
export function helperRoutines(): Routine[] {
  return [
    // memory.grow(a0 = delta pages) -> a0 = old pages or -1 (docs/WASM2RV.md "memory.grow").
    // Within RtData.MemReserved (4 KiB pages, rounded down to whole wasm pages) it needs
    // nobody: with RtData.LinearFrameFirst set (the root task) it maps each new 4 KiB page p
    // itself, Invoke(LinearFrameFirst + p, FrameMap, BootSlot.Task, p * 4096, Read|Write), and
    // on a failure unmaps the pages it mapped and returns -1; without, the pages are mapped
    // already (bookkeeping only). Beyond: ask the memory manager (src/abi/runtime.ts MemProto):
    // Call on CompSlot.Memory, label Grow, MR0 = delta, MR1 = current pages, MR2 = maximum
    // pages; granted iff a0 == 0 and the reply's MR0 == 0. MemSize moves only on success.
    // Registers: the normal convention (a0-a7, t0-t6 clobbered); across its system calls it
    // keeps delta in t2 and the page loop in t3-t5 (the kernel preserves all but a0..a6).
    routine('__rt_memory_grow', (a) => {
      const fail = a.label();
      const grant = a.label();
      const ask = a.label();
      const loop = a.label();
      const undo = a.label();
      const undone = a.label();
      a.emit(E.addi(T2, A0, 0)); // t2 = delta
      a.emit(E.lw(T0, TP, MEMSIZE));
      a.emit(E.srli(A3, T0, 16)); // current pages
      a.emit(E.lw(T1, TP, MEMMAX));
      a.emit(E.srli(A4, T1, 16)); // maximum pages
      a.emit(E.add(T0, A3, T2)); // new pages
      a.branch('ltu', T0, A3, fail); // delta >= 2^32 - current
      a.branch('ltu', A4, T0, fail); // beyond the maximum
      a.emit(E.lw(T1, TP, MEMRESERVED)); // 4 KiB pages
      a.emit(E.srli(T1, T1, 4)); // whole wasm pages
      a.branch('ltu', T1, T0, ask);
      // Within the reserve: map [current * 16, new * 16) when we hold the frames.
      a.emit(E.lw(T3, TP, LINEARFRAMES));
      a.branch('eq', T3, 0, grant);
      a.emit(E.slli(T4, A3, 4)); // t4 = next 4 KiB page to map
      a.emit(E.slli(T5, T0, 4)); // t5 = end
      a.bind(loop);
      a.branch('geu', T4, T5, grant);
      a.emit(E.add(A0, T3, T4));
      a.li(A1, Method.FrameMap);
      a.li(A2, BootSlot.Task);
      a.emit(E.slli(A3, T4, 12));
      a.li(A4, Rights.Read | Rights.Write);
      a.li(A7, Sys.Invoke);
      a.emit(E.ecall());
      a.branch('ne', A0, 0, undo);
      a.emit(E.addi(T4, T4, 1));
      a.jump(loop);
      // A FrameMap failed: unmap what this call mapped (pages past MemSize stay unmapped).
      a.bind(undo);
      a.emit(E.lw(T5, TP, MEMSIZE));
      a.emit(E.srli(T5, T5, 12)); // first page this call mapped
      const undoLoop = a.label();
      a.bind(undoLoop);
      a.branch('geu', T5, T4, undone);
      a.emit(E.addi(T4, T4, -1));
      a.emit(E.add(A0, T3, T4));
      a.li(A1, Method.FrameUnmap);
      a.li(A7, Sys.Invoke);
      a.emit(E.ecall());
      a.jump(undoLoop);
      a.bind(undone);
      a.jump(fail);
      // Beyond the reserve: the memory manager.
      a.bind(ask);
      a.emit(E.addi(A2, T2, 0));
      a.li(A0, CompSlot.Memory);
      a.li(A1, msgInfo(MemProto.Grow, 3));
      a.li(A6, 0);
      a.li(A7, Sys.Call);
      a.emit(E.ecall());
      a.branch('ne', A0, 0, fail);
      a.branch('ne', A2, 0, fail);
      a.bind(grant);
      a.emit(E.lw(T0, TP, MEMSIZE));
      a.emit(E.srli(A0, T0, 16)); // old pages
      a.emit(E.slli(T1, T2, 16));
      a.emit(E.add(T0, T0, T1));
      a.emit(E.sw(T0, TP, MEMSIZE));
      ret(a);
      a.bind(fail);
      a.li(A0, -1);
      ret(a);
    }),
    routine('__rt_memory_fill', (a) => {
      const oob = a.label();
      const ok = a.label();
      boundsCheck(a, A0, A2, oob);
      a.emit(E.andi(A1, A1, 255));
      a.emit(E.slli(T1, A1, 8));
      a.emit(E.or(A1, A1, T1));
      a.emit(E.slli(T1, A1, 16));
      a.emit(E.or(A1, A1, T1));
      // Bytes until aligned, then words, then the tail.
      const align = a.label();
      const words = a.label();
      const tail = a.label();
      a.bind(align);
      a.branch('eq', A2, 0, ok);
      a.emit(E.andi(T1, A0, 3));
      a.branch('eq', T1, 0, words);
      a.emit(E.sb(A1, A0, 0));
      a.emit(E.addi(A0, A0, 1));
      a.emit(E.addi(A2, A2, -1));
      a.jump(align);
      a.bind(words);
      a.emit(E.addi(T1, 0, 4));
      a.branch('ltu', A2, T1, tail);
      a.emit(E.sw(A1, A0, 0));
      a.emit(E.addi(A0, A0, 4));
      a.emit(E.addi(A2, A2, -4));
      a.jump(words);
      a.bind(tail);
      a.branch('eq', A2, 0, ok);
      a.emit(E.sb(A1, A0, 0));
      a.emit(E.addi(A0, A0, 1));
      a.emit(E.addi(A2, A2, -1));
      a.jump(tail);
      status(a, ok, oob);
    }),
    routine('__rt_memory_copy', (a) => {
      const oob = a.label();
      const ok = a.label();
      boundsCheck(a, A0, A2, oob);
      boundsCheck(a, A1, A2, oob);
      copy(a, ok, true);
      status(a, ok, oob);
    }),
    routine('__rt_memory_init', (a) => {
      // a0 dst, a1 offset in segment, a2 n, a3 segment address, a4 length, a5 dropped flag.
      const oob = a.label();
      const ok = a.label();
      a.emit(E.lw(T0, A5, 0));
      a.skip('eq', T0, 0, 1);
      a.emit(E.addi(A4, 0, 0));
      a.emit(E.add(T0, A1, A2));
      a.branch('ltu', T0, A1, oob);
      a.branch('ltu', A4, T0, oob);
      boundsCheck(a, A0, A2, oob);
      a.emit(E.add(A1, A3, A1));
      copy(a, ok, false);
      status(a, ok, oob);
    }),
    ...['div_u', 'rem_u', 'div_s', 'rem_s'].map((k) => routine(`__rt_i64_${k}`, (a) => divide(a, k))),
    routine('__rt_f32_convert_i64_s', (a) => convertF32(a, true)),
    routine('__rt_f32_convert_i64_u', (a) => convertF32(a, false)),
  ];
}

/** Branch to `oob` unless [p, p+n) lies within the current memory (u32 arithmetic, carry). */
function boundsCheck(a: Asm, p: number, n: number, oob: ReturnType<Asm['label']>): void {
  a.emit(E.add(T0, p, n));
  a.branch('ltu', T0, p, oob);
  a.emit(E.lw(T1, TP, MEMSIZE));
  a.branch('ltu', T1, T0, oob);
}

function status(a: Asm, ok: ReturnType<Asm['label']>, oob: ReturnType<Asm['label']>): void {
  a.bind(ok);
  a.emit(E.addi(A0, 0, 0));
  ret(a);
  a.bind(oob);
  a.emit(E.addi(A0, 0, 1));
  ret(a);
}

/** Copy a2 bytes from a1 to a0; with `overlap`, backwards when the source is below. */
function copy(a: Asm, ok: ReturnType<Asm['label']>, overlap: boolean): void {
  const fwd = a.label();
  const fwdWords = a.label();
  const fwdBytes = a.label();
  a.branch('eq', A2, 0, ok);
  if (overlap) {
    const back = a.label();
    a.branch('ltu', A1, A0, back);
    a.jump(fwd);
    // Backwards, bytes (dst > src: copy from the end).
    a.bind(back);
    a.emit(E.add(A0, A0, A2));
    a.emit(E.add(A1, A1, A2));
    const loop = a.label();
    a.bind(loop);
    a.emit(E.addi(A0, A0, -1));
    a.emit(E.addi(A1, A1, -1));
    a.emit(E.lbu(T0, A1, 0));
    a.emit(E.sb(T0, A0, 0));
    a.emit(E.addi(A2, A2, -1));
    a.branch('ne', A2, 0, loop);
    a.jump(ok);
  }
  a.bind(fwd);
  // Words when both pointers are word aligned.
  a.emit(E.or(T0, A0, A1));
  a.emit(E.andi(T0, T0, 3));
  a.branch('ne', T0, 0, fwdBytes);
  a.bind(fwdWords);
  a.emit(E.addi(T1, 0, 4));
  a.branch('ltu', A2, T1, fwdBytes);
  a.emit(E.lw(T0, A1, 0));
  a.emit(E.sw(T0, A0, 0));
  a.emit(E.addi(A0, A0, 4));
  a.emit(E.addi(A1, A1, 4));
  a.emit(E.addi(A2, A2, -4));
  a.jump(fwdWords);
  a.bind(fwdBytes);
  a.branch('eq', A2, 0, ok);
  a.emit(E.lbu(T0, A1, 0));
  a.emit(E.sb(T0, A0, 0));
  a.emit(E.addi(A0, A0, 1));
  a.emit(E.addi(A1, A1, 1));
  a.emit(E.addi(A2, A2, -1));
  a.jump(fwdBytes);
}

function neg64(a: Asm, lo: number, hi: number): void {
  a.emit(E.sltu(T0, 0, lo));
  a.emit(E.sub(lo, 0, lo));
  a.emit(E.sub(hi, 0, hi));
  a.emit(E.sub(hi, hi, T0));
}

/**
 * 64-bit division by restoring shift-subtract (64 steps): (a0,a1) / (a2,a3) -> quotient in
 * (a0,a1), remainder in (a4,a5). The divisor is nonzero (checked at the call site), and for
 * the signed forms INT64_MIN / -1 was rejected there too.
 */
function divide(a: Asm, kind: string): void {
  const signed = kind.endsWith('_s');
  if (signed) {
    // a7 bit 31: sign of the result (quotient: xor of signs; remainder: sign of the dividend).
    if (kind === 'div_s') a.emit(E.xor(A7, A1, A3));
    else a.emit(E.addi(A7, A1, 0));
    a.skip('ge', A1, 0, 4);
    neg64(a, A0, A1);
    a.skip('ge', A3, 0, 4);
    neg64(a, A2, A3);
  }
  a.emit(E.addi(A4, 0, 0));
  a.emit(E.addi(A5, 0, 0));
  a.emit(E.addi(A6, 0, 64));
  const loop = a.label();
  const next = a.label();
  const sub = a.label();
  a.bind(loop);
  a.emit(E.srli(T1, A5, 31)); // bit shifted out of the remainder
  a.emit(E.slli(A5, A5, 1));
  a.emit(E.srli(T0, A4, 31));
  a.emit(E.or(A5, A5, T0));
  a.emit(E.slli(A4, A4, 1));
  a.emit(E.srli(T0, A1, 31));
  a.emit(E.or(A4, A4, T0));
  a.emit(E.slli(A1, A1, 1));
  a.emit(E.srli(T0, A0, 31));
  a.emit(E.or(A1, A1, T0));
  a.emit(E.slli(A0, A0, 1));
  a.branch('ne', T1, 0, sub);
  a.branch('ltu', A5, A3, next);
  a.branch('ne', A5, A3, sub);
  a.branch('ltu', A4, A2, next);
  a.bind(sub);
  a.emit(E.sltu(T0, A4, A2));
  a.emit(E.sub(A4, A4, A2));
  a.emit(E.sub(A5, A5, A3));
  a.emit(E.sub(A5, A5, T0));
  a.emit(E.ori(A0, A0, 1));
  a.bind(next);
  a.emit(E.addi(A6, A6, -1));
  a.branch('ne', A6, 0, loop);
  if (kind.startsWith('rem')) {
    a.emit(E.addi(A0, A4, 0));
    a.emit(E.addi(A1, A5, 0));
  }
  if (signed) {
    a.skip('ge', A7, 0, 4);
    neg64(a, A0, A1);
  }
  ret(a);
}

/**
 * f32.convert_i64_s/u (spec 4.3.4): |v| is made exactly representable in f64 by rounding to
 * odd at bit 11 when it needs more than 53 bits (the f32 rounding point is then far above
 * bit 11, so the final single rounding to f32 is correct), converted exactly, then rounded to f32.
 */
function convertF32(a: Asm, signed: boolean): void {
  if (signed) {
    a.emit(E.addi(A7, A1, 0));
    a.skip('ge', A1, 0, 4);
    neg64(a, A0, A1);
  }
  a.emit(E.lui(T0, 0x200)); // 2^21: high word of 2^53
  a.skip('ltu', A1, T0, 6);
  a.emit(E.andi(T1, A0, 0x7ff));
  a.emit(E.andi(A0, A0, -2048));
  a.skip('eq', T1, 0, 3);
  a.emit(E.addi(T1, 0, 1));
  a.emit(E.slli(T1, T1, 11));
  a.emit(E.or(A0, A0, T1));
  // ft1 = 2^32 = 65536.0 * 65536.0
  a.emit(E.lui(T0, 0x10));
  a.emit(E.fcvt_d_wu(FT1, T0, 0));
  a.emit(E.fmul_d(FT1, FT1, FT1, 0));
  a.emit(E.fcvt_d_wu(FT0, A1, 0));
  a.emit(E.fmul_d(FT0, FT0, FT1, 0));
  a.emit(E.fcvt_d_wu(FT1, A0, 0));
  a.emit(E.fadd_d(FT0, FT0, FT1, 0));
  a.emit(E.fcvt_s_d(FA0, FT0, 0));
  if (signed) {
    a.skip('ge', A7, 0, 1);
    a.emit(E.fsgnjn_s(FA0, FA0, FA0));
  }
  ret(a);
}
