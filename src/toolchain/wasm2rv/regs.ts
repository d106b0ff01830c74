// Register conventions of code compiled by wasm2rv (RV32 integer and FP register numbers,
// RISC-V psABI names; unprivileged spec chapter 25 "RISC-V Assembly Programmer's Handbook").
//
//   x0 zero   x1 ra (link)   x2 sp   x3 gp (unused, reserved)   x4 tp = DATA_BASE + 0x800
//   x8 s0 = frame pointer (frame chain for backtraces, docs/WASM2RV.md)
//   t0 t1 t2  scratch of single code sequences (never hold a value across wasm operators);
//             t2 is also the link register of the "light" runtime routines
//   t3-t6 a0-a7   caller-saved: operand-stack temporaries, arguments, results
//   s1-s11        callee-saved: locals and the operand-stack values that live across blocks
// FP: ft0 ft1 scratch; ft2-ft11, fa0-fa7 caller-saved; fs0-fs11 callee-saved.
//
// Calls between wasm functions: i32 arguments in a0..a7, an i64 in two consecutive registers
// (low word first), f32/f64 in fa0..fa7; what does not fit goes to 8-byte stack slots at the
// caller's 0(sp), 8(sp), ... Results: a0, a0:a1 (i64) or fa0.

import { DATA_BASE } from '../../abi/layout.ts';
import { RtData } from '../../abi/runtime.ts';

export const ZERO = 0, RA = 1, SP = 2, GP = 3, TP = 4, T0 = 5, T1 = 6, T2 = 7, FP = 8;
export const A0 = 10;
export const FT0 = 0, FT1 = 1, FA0 = 10;

/** Caller-saved integer registers usable for values: t3-t6, a0-a7. */
export const INT_CALLER = [28, 29, 30, 31, 10, 11, 12, 13, 14, 15, 16, 17];
/** Callee-saved integer registers s1-s11. */
export const INT_CALLEE = [9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
/** Caller-saved FP registers: ft2-ft7, ft8-ft11, fa0-fa7. */
export const FP_CALLER = [2, 3, 4, 5, 6, 7, 28, 29, 30, 31, 10, 11, 12, 13, 14, 15, 16, 17];
/** Callee-saved FP registers fs0-fs11. */
export const FP_CALLEE = [8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];

export const INT_ARGS = [10, 11, 12, 13, 14, 15, 16, 17];
export const FP_ARGS = [10, 11, 12, 13, 14, 15, 16, 17];

/** tp holds this value, so that tp-relative offsets -2048..2047 cover DATA_BASE..+4 KiB. */
export const TP_VALUE = DATA_BASE + 0x800;

// Runtime variables at the start of the data segment (offsets from DATA_BASE): the layout is
// ABI (src/abi/runtime.ts RtData), user/lib and the kernel tests read these words.
/** Current linear-memory size in bytes (u32). */
export const DATA_MEMSIZE = RtData.MemSize;
/** Maximum linear-memory size in bytes (u32; 2 GiB = 32768 pages at most). */
export const DATA_MEMMAX = RtData.MemMax;
/** Executed-operator counter of a counting build (bench/toolchain.ts), u32. */
export const DATA_OPCOUNT = RtData.OpCount;
/** 4 KiB pages from address 0 that memory.grow may use without asking the memory manager
 *  (BootInfo.LinearPages for the root task, else the initial memory), u32. */
export const DATA_MEMRESERVED = RtData.MemReserved;
/** Slot of linear page 0's frame capability (memory.grow maps pages below MemReserved with
 *  it), or 0 (they are mapped already). */
export const DATA_LINEARFRAMES = RtData.LinearFrameFirst;
/** a1..a6 as the last `l4` system call returned them (6 words). */
export const DATA_SYSRES = RtData.SysRes;
/** a0 at _start. */
export const DATA_STARTARG = RtData.StartArg;
/** First wasm global; each global has an 8-byte slot. Then the data-segment dropped flags. */
export const DATA_GLOBALS = RtData.Globals;
