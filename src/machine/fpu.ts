// The F and D extensions of the hart (RISC-V unprivileged spec, chapters "F" Standard Extension
// for Single-Precision Floating-Point and "D" Standard Extension for Double-Precision
// Floating-Point), RV32: every instruction of major opcode LOAD-FP, STORE-FP, MADD, MSUB, NMSUB,
// NMADD and OP-FP.
//
// Layout: this file decodes and moves bits (loads, stores, moves, sign injection, min/max,
// compares, NaN boxing); fpu-arith.ts holds the arithmetic kernels, fpu-convert.ts conversions
// and fclass, fpu-round.ts rounding modes, flags and the exact slow path.
//
// Conformance: all five rounding modes are honoured by every operation, and the flags are those
// of IEEE 754 with tininess detected after rounding. There is no known gap; docs/MACHINE-FPU.md
// states the method and its assumptions. Reserved rounding modes (static 5, 6; dynamic 5..7)
// raise illegal instruction, which the spec allows for reserved encodings.
//
// NaN boxing (D chapter, "NaN Boxing of Narrower Values"): a binary32 value in the 64-bit
// register has its high word all ones. Binary32 operands that are not boxed read as the
// canonical NaN; binary32 results are written boxed. Transfers (flw, fsw, fmv.x.w, fmv.w.x) move
// the low 32 bits untouched. Arithmetic NaN results are the canonical NaN (F chapter, "NaN
// Generation and Propagation"): 0x7fc00000 and 0x7ff80000_00000000.

import { addD, addS, divD, divS, fmaD, fmaS, mulD, mulS, sqrtD, sqrtS } from './fpu-arith.ts';
import { classD, classS, cvtToW, cvtToWU, intToS } from './fpu-convert.ts';
import { F32, I32, NV, acc, roundF32 } from './fpu-round.ts';

export interface FpuHost {
  /** FP register file, 32 × 64 bits: register i = low word fr[2*i], high word fr[2*i+1]. Single-precision values are NaN-boxed (high word = -1, i.e. 0xffffffff). */
  readonly fr: Int32Array;
  /** The same buffer viewed as Float64Array(32) (little-endian host). */
  readonly frD: Float64Array;
  /** Integer registers x0..x31; x[0] must never be written (the FPU must skip rd = 0). */
  readonly x: Int32Array;
  /** fcsr.fflags accrued exception bits: NV=0x10 DZ=0x08 OF=0x04 UF=0x02 NX=0x01. */
  fflags: number;
  /** fcsr.frm, the dynamic rounding mode (0 RNE,1 RTZ,2 RDN,3 RUP,4 RMM; 5..7 invalid). */
  frm: number;
  /** mstatus.FS != Off. When false every FP instruction is illegal. */
  fpuEnabled(): boolean;
  /** Set mstatus.FS = Dirty (call whenever an f register or fflags changes). */
  markFpDirty(): void;
  /** Translated 32-bit load; throws the hart's trap object on a fault (just let it propagate). */
  load32(va: number): number;
  /** Translated 64-bit load into out[i] (low word) and out[i+1] (high word); faults before writing anything. */
  load64(va: number, out: Int32Array, i: number): void;
  store32(va: number, value: number): void;
  /** Stores src[i] (low) and src[i+1] (high) at va; faults before writing anything. */
  store64(va: number, src: Int32Array, i: number): void;
  /** Raise an illegal-instruction trap for `inst` (throws). */
  illegal(inst: number): never;
}

const CANON_S = 0x7fc00000;
const CANON_D_HI = 0x7ff80000;

/**
 * Execute one F/D instruction (`inst` = the 32-bit word). On return the hart advances pc by 4.
 * Faults from the host's loads and stores, and illegal-instruction traps, propagate as thrown
 * by the host, before any register or fflags change. Effective addresses are passed to the
 * host as unsigned 32-bit numbers.
 */
export function execFp(h: FpuHost, inst: number): void {
  if (!h.fpuEnabled()) h.illegal(inst);
  const rd = (inst >>> 7) & 31;
  const f3 = (inst >>> 12) & 7;
  const rs1 = (inst >>> 15) & 31;
  const fr = h.fr;
  acc.flags = 0;
  switch (inst & 0x7f) {
    case 0x07: { // LOAD-FP: flw, fld
      const va = (h.x[rs1] + (inst >> 20)) >>> 0;
      if (f3 === 3) h.load64(va, fr, rd << 1);
      else if (f3 === 2) {
        const w = h.load32(va);
        fr[rd << 1] = w;
        fr[(rd << 1) | 1] = -1;
      } else h.illegal(inst);
      h.markFpDirty();
      return;
    }
    case 0x27: { // STORE-FP: fsw, fsd
      const va = (h.x[rs1] + (((inst >> 25) << 5) | ((inst >>> 7) & 31))) >>> 0;
      const rs2 = (inst >>> 20) & 31;
      if (f3 === 3) h.store64(va, fr, rs2 << 1);
      else if (f3 === 2) h.store32(va, fr[rs2 << 1]); // low 32 bits, boxed or not
      else h.illegal(inst);
      return;
    }
    case 0x43: case 0x47: case 0x4b: case 0x4f:
      execFma(h, inst, rd, f3, rs1);
      break;
    case 0x53:
      execOpFp(h, inst, rd, f3, rs1);
      break;
    default:
      h.illegal(inst);
  }
  if (acc.flags !== 0) {
    h.fflags |= acc.flags;
    h.markFpDirty();
  }
}

/** The rounding mode for `inst`: its rm field, or frm for DYN (7). Reserved modes are illegal. */
function roundingMode(h: FpuHost, inst: number, f3: number): number {
  const rm = f3 === 7 ? h.frm : f3;
  if (rm > 4) h.illegal(inst);
  return rm;
}

/** Binary32 operand in register r: its value, or NaN if the register is not NaN-boxed. */
function readS(fr: Int32Array, r: number): number {
  if (fr[(r << 1) | 1] !== -1) return NaN;
  I32[0] = fr[r << 1];
  return F32[0];
}

/** The binary32 bit pattern of operand r (the canonical NaN if not NaN-boxed). */
function bitsS(fr: Int32Array, r: number): number {
  return fr[(r << 1) | 1] === -1 ? fr[r << 1] : CANON_S;
}

function isSNaNS(fr: Int32Array, r: number): boolean {
  const b = bitsS(fr, r);
  return (b & 0x7fc00000) === 0x7f800000 && (b & 0x3fffff) !== 0;
}

function isSNaND(fr: Int32Array, r: number): boolean {
  const hi = fr[(r << 1) | 1];
  return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | fr[r << 1]) !== 0;
}

/** Write binary32 value v (exactly representable) to register rd, NaN-boxed; NaN becomes canonical. */
function writeS(fr: Int32Array, rd: number, v: number): void {
  if (v !== v) fr[rd << 1] = CANON_S;
  else {
    F32[0] = v;
    fr[rd << 1] = I32[0];
  }
  fr[(rd << 1) | 1] = -1;
}

/** Write binary64 value v to register rd; NaN becomes canonical. */
function writeD(h: FpuHost, rd: number, v: number): void {
  if (v !== v) {
    h.fr[rd << 1] = 0;
    h.fr[(rd << 1) | 1] = CANON_D_HI;
  } else h.frD[rd] = v;
}

function writeX(h: FpuHost, rd: number, v: number): void {
  if (rd !== 0) h.x[rd] = v;
}

/** NV for a NaN result: an operand was a signaling NaN, or none was a NaN (invalid operation). */
function nanFlagS(fr: Int32Array, a: number, b: number, c: number, r1: number, r2: number, r3: number): void {
  if ((a === a && b === b && c === c) || isSNaNS(fr, r1) || isSNaNS(fr, r2) || isSNaNS(fr, r3)) acc.flags |= NV;
}

function nanFlagD(fr: Int32Array, a: number, b: number, c: number, r1: number, r2: number, r3: number): void {
  if ((a === a && b === b && c === c) || isSNaND(fr, r1) || isSNaND(fr, r2) || isSNaND(fr, r3)) acc.flags |= NV;
}

/** fmadd, fmsub, fnmsub, fnmadd (R4 format): rs1·rs2 ± rs3, product negated for the fnm forms. */
function execFma(h: FpuHost, inst: number, rd: number, f3: number, rs1: number): void {
  const fmt = (inst >>> 25) & 3;
  if (fmt > 1) h.illegal(inst);
  const rm = roundingMode(h, inst, f3);
  const rs2 = (inst >>> 20) & 31, rs3 = inst >>> 27;
  const op = inst & 0x7f;
  const negProd = op === 0x4b || op === 0x4f; // fnmsub, fnmadd
  const negAdd = op === 0x47 || op === 0x4f; // fmsub, fnmadd
  const fr = h.fr;
  if (fmt === 0) {
    let a = readS(fr, rs1), c = readS(fr, rs3);
    const b = readS(fr, rs2);
    if (negProd) a = -a;
    if (negAdd) c = -c;
    const r = fmaS(a, b, c, rm);
    if (r !== r) nanFlagS(fr, a, b, c, rs1, rs2, rs3);
    writeS(fr, rd, r);
  } else {
    let a = h.frD[rs1], c = h.frD[rs3];
    const b = h.frD[rs2];
    if (negProd) a = -a;
    if (negAdd) c = -c;
    const r = fmaD(a, b, c, rm);
    if (r !== r) nanFlagD(fr, a, b, c, rs1, rs2, rs3);
    writeD(h, rd, r);
  }
  h.markFpDirty();
}

/** OP-FP: everything else. funct7 = operation << 2 | fmt (S = 0, D = 1). */
function execOpFp(h: FpuHost, inst: number, rd: number, f3: number, rs1: number): void {
  const rs2 = (inst >>> 20) & 31;
  const fr = h.fr;
  const frD = h.frD;
  switch (inst >>> 25) {
    // fadd, fsub, fmul, fdiv
    case 0x00: case 0x04: case 0x08: case 0x0c: {
      const rm = roundingMode(h, inst, f3);
      const a = readS(fr, rs1), b = readS(fr, rs2);
      const f7 = inst >>> 25;
      const r = f7 === 0x00 ? addS(a, b, rm) : f7 === 0x04 ? addS(a, -b, rm) : f7 === 0x08 ? mulS(a, b, rm) : divS(a, b, rm);
      if (r !== r) nanFlagS(fr, a, b, 0, rs1, rs2, rs2);
      writeS(fr, rd, r);
      break;
    }
    case 0x01: case 0x05: case 0x09: case 0x0d: {
      const rm = roundingMode(h, inst, f3);
      const a = frD[rs1], b = frD[rs2];
      const f7 = inst >>> 25;
      const r = f7 === 0x01 ? addD(a, b, rm) : f7 === 0x05 ? addD(a, -b, rm) : f7 === 0x09 ? mulD(a, b, rm) : divD(a, b, rm);
      if (r !== r) nanFlagD(fr, a, b, 0, rs1, rs2, rs2);
      writeD(h, rd, r);
      break;
    }
    case 0x2c: case 0x2d: { // fsqrt
      if (rs2 !== 0) h.illegal(inst);
      const rm = roundingMode(h, inst, f3);
      if (inst >>> 25 === 0x2c) {
        const a = readS(fr, rs1);
        const r = sqrtS(a, rm);
        if (r !== r) nanFlagS(fr, a, 0, 0, rs1, rs1, rs1);
        writeS(fr, rd, r);
      } else {
        const a = frD[rs1];
        const r = sqrtD(a, rm);
        if (r !== r) nanFlagD(fr, a, 0, 0, rs1, rs1, rs1);
        writeD(h, rd, r);
      }
      break;
    }
    case 0x10: { // fsgnj.s, fsgnjn.s, fsgnjx.s: bit operations on the (unboxed → canonical) operands
      if (f3 > 2) h.illegal(inst);
      const a = bitsS(fr, rs1), b = bitsS(fr, rs2);
      const sign = f3 === 0 ? b : f3 === 1 ? ~b : a ^ b;
      fr[rd << 1] = (a & 0x7fffffff) | (sign & 0x80000000);
      fr[(rd << 1) | 1] = -1;
      break;
    }
    case 0x11: { // fsgnj.d, fsgnjn.d, fsgnjx.d
      if (f3 > 2) h.illegal(inst);
      const lo = fr[rs1 << 1], a = fr[(rs1 << 1) | 1], b = fr[(rs2 << 1) | 1];
      const sign = f3 === 0 ? b : f3 === 1 ? ~b : a ^ b;
      fr[rd << 1] = lo;
      fr[(rd << 1) | 1] = (a & 0x7fffffff) | (sign & 0x80000000);
      break;
    }
    case 0x14: case 0x15: // fmin, fmax
      if (f3 > 1) h.illegal(inst);
      minMax(h, inst >>> 25 === 0x15, f3 === 1, rd, rs1, rs2);
      break;
    case 0x20: { // fcvt.s.d
      if (rs2 !== 1) h.illegal(inst);
      const rm = roundingMode(h, inst, f3);
      const d = frD[rs1];
      if (d !== d) {
        if (isSNaND(fr, rs1)) acc.flags |= NV;
        writeS(fr, rd, NaN);
      } else writeS(fr, rd, d === 0 || d - d !== 0 ? d : roundF32(d, 0, rm));
      break;
    }
    case 0x21: { // fcvt.d.s: exact, but rm is still decoded (F chapter, rounding modes)
      if (rs2 !== 0) h.illegal(inst);
      roundingMode(h, inst, f3);
      const s = readS(fr, rs1);
      if (s !== s && isSNaNS(fr, rs1)) acc.flags |= NV;
      writeD(h, rd, s);
      break;
    }
    case 0x50: case 0x51: { // fle (0), flt (1), feq (2)
      if (f3 > 2) h.illegal(inst);
      const dbl = inst >>> 25 === 0x51;
      const a = dbl ? frD[rs1] : readS(fr, rs1);
      const b = dbl ? frD[rs2] : readS(fr, rs2);
      let r = 0;
      if (a !== a || b !== b) {
        // flt and fle are signaling comparisons; feq raises NV only for a signaling NaN.
        if (f3 !== 2 || (dbl ? isSNaND(fr, rs1) || isSNaND(fr, rs2) : isSNaNS(fr, rs1) || isSNaNS(fr, rs2))) acc.flags |= NV;
      } else r = f3 === 2 ? +(a === b) : f3 === 1 ? +(a < b) : +(a <= b);
      writeX(h, rd, r);
      return;
    }
    case 0x60: case 0x61: { // fcvt.w.fmt (rs2 = 0), fcvt.wu.fmt (rs2 = 1)
      if (rs2 > 1) h.illegal(inst);
      const rm = roundingMode(h, inst, f3);
      const v = inst >>> 25 === 0x61 ? frD[rs1] : readS(fr, rs1);
      writeX(h, rd, rs2 === 0 ? cvtToW(v, rm) : cvtToWU(v, rm));
      return;
    }
    case 0x68: case 0x69: { // fcvt.fmt.w (rs2 = 0), fcvt.fmt.wu (rs2 = 1)
      if (rs2 > 1) h.illegal(inst);
      const rm = roundingMode(h, inst, f3);
      const v = rs2 === 0 ? h.x[rs1] : h.x[rs1] >>> 0;
      if (inst >>> 25 === 0x68) writeS(fr, rd, intToS(v, rm));
      else frD[rd] = v; // exact
      break;
    }
    case 0x70: // fmv.x.w (f3 = 0), fclass.s (f3 = 1)
      if (rs2 !== 0 || f3 > 1) h.illegal(inst);
      writeX(h, rd, f3 === 0 ? fr[rs1 << 1] : classS(bitsS(fr, rs1)));
      return;
    case 0x71: // fclass.d (fmv.x.d is RV64 only)
      if (rs2 !== 0 || f3 !== 1) h.illegal(inst);
      writeX(h, rd, classD(fr[(rs1 << 1) | 1], fr[rs1 << 1]));
      return;
    case 0x78: // fmv.w.x
      if (rs2 !== 0 || f3 !== 0) h.illegal(inst);
      fr[rd << 1] = h.x[rs1];
      fr[(rd << 1) | 1] = -1;
      break;
    default:
      h.illegal(inst);
  }
  h.markFpDirty();
}

/**
 * fmin/fmax (F chapter: IEEE 754-2019 minimumNumber/maximumNumber): −0 < +0; one NaN operand
 * gives the other operand; two NaNs give the canonical NaN; a signaling NaN raises NV even when
 * the result is not NaN. The result is a copy of the chosen operand's bits.
 */
function minMax(h: FpuHost, dbl: boolean, max: boolean, rd: number, rs1: number, rs2: number): void {
  const fr = h.fr;
  const a = dbl ? h.frD[rs1] : readS(fr, rs1);
  const b = dbl ? h.frD[rs2] : readS(fr, rs2);
  if (dbl ? isSNaND(fr, rs1) || isSNaND(fr, rs2) : isSNaNS(fr, rs1) || isSNaNS(fr, rs2)) acc.flags |= NV;
  let src: number;
  if (a !== a) {
    if (b !== b) {
      if (dbl) writeD(h, rd, NaN);
      else writeS(fr, rd, NaN);
      return;
    }
    src = rs2;
  } else if (b !== b) src = rs1;
  else if (a === b) {
    // Equal values differ only for ±0: take the operand whose sign bit is set (min) or clear (max).
    const aNeg = fr[dbl ? (rs1 << 1) | 1 : rs1 << 1] < 0;
    src = aNeg !== max ? rs1 : rs2;
  } else src = (a < b) !== max ? rs1 : rs2;
  const lo = fr[src << 1];
  fr[rd << 1] = lo;
  fr[(rd << 1) | 1] = dbl ? fr[(src << 1) | 1] : -1;
}
