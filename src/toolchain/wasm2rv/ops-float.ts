// f32/f64 operators and numeric conversions (WebAssembly 2.0, sections 4.3.3 "Floating-Point
// Operations" and 4.3.4 "Conversions") on the RISC-V F and D extensions.
//
// Exactness notes (what differs from a naive mapping):
//   - f32 arithmetic uses the .s instructions, so results are rounded to f32 once; every
//     arithmetic instruction is given rm = RNE explicitly (wasm has only round-to-nearest-even).
//   - NaN results: RISC-V produces the canonical NaN, which is one of the results the wasm spec
//     allows (4.3.3 "nans": canonical or arithmetic NaN, sign unspecified). abs/neg/copysign
//     (fsgnj*), loads, stores and reinterpretations are bit-exact, as the spec requires.
//   - min/max: RISC-V fmin/fmax return the non-NaN operand; wasm returns NaN, so a NaN check
//     comes first. -0 < +0 is honoured by fmin/fmax (unprivileged spec 11.6).
//   - ceil/floor/trunc/nearest: RV has no round-to-integral instruction; x + C - C with
//     C = copysign(2^52 or 2^23, x) and the rounding mode on the addition rounds to an integer
//     exactly; |x| >= C (already integral), infinities and NaN (quieted by fmin x,x) pass.
//   - trapping float->int checks the range with exact bounds, then fcvt with rtz. Saturating
//     conversions use fcvt's own saturation (unprivileged spec 11.7, table 11.4) and force NaN
//     to 0. i64 conversions are done with f64 arithmetic on the two 32-bit halves.

import * as E from '../rv32/encode.ts';
import { FnGen, K_CONST, F32, F64, I32, I64, T0, T1 } from './codegen.ts';
import { fuseBranch } from './ops-int.ts';
import { FP as FPREG } from './regs.ts';

const RNE = 0, RTZ = 1, RDN = 2, RUP = 3;
const FT0 = 0, FT1 = 1;

/** Load the f64 constant with the given bits into FP register r. */
function constD(g: FnGen, r: number, value: number): void {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, value, true);
  g.constF(r, F64, b.getInt32(0, true), b.getInt32(4, true));
}

function constS(g: FnGen, r: number, value: number): void {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, value, true);
  g.constF(r, F32, b.getInt32(0, true), 0);
}

export function genFloat(g: FnGen, op: number): boolean {
  const a = g.asm;
  if (op === 0x43 || op === 0x44) {
    g.push({ t: op === 0x43 ? F32 : F64, k: K_CONST, a: g.ins.a, b: op === 0x44 ? g.ins.b : 0 });
    return true;
  }
  if (op >= 0x5b && op <= 0x66) { // comparisons
    const d64 = op >= 0x61;
    const k = op - (d64 ? 0x61 : 0x5b);
    const y = g.pop();
    const x = g.pop();
    const rx = g.freg(x);
    const ry = g.freg(y);
    const feq = d64 ? E.feq_d : E.feq_s;
    const flt = d64 ? E.flt_d : E.flt_s;
    const fle = d64 ? E.fle_d : E.fle_s;
    switch (k) {
      case 0: case 1: a.emit(feq(T1, rx, ry)); break;
      case 2: a.emit(flt(T1, rx, ry)); break;
      case 3: a.emit(flt(T1, ry, rx)); break;
      case 4: a.emit(fle(T1, rx, ry)); break;
      case 5: a.emit(fle(T1, ry, rx)); break;
    }
    if (fuseBranch(g, () => [k === 1 ? 'eq' : 'ne', T1, 0], [x, y])) return true;
    g.free(x);
    g.free(y);
    const d = g.dest(I32);
    if (k === 1) a.emit(E.xori(d.r, T1, 1));
    else a.mv(d.r, T1);
    g.done(d);
    return true;
  }
  if ((op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f)) { unary(g, op); return true; }
  if ((op >= 0x92 && op <= 0x98) || (op >= 0xa0 && op <= 0xa6)) { binary(g, op); return true; }
  return conversion(g, op);
}

function unary(g: FnGen, op: number): void {
  const a = g.asm;
  const d64 = op >= 0x99;
  const k = op - (d64 ? 0x99 : 0x8b);
  const t = d64 ? F64 : F32;
  const v = g.pop();
  const r = g.freg(v);
  g.free(v);
  const d = g.dest(t, k !== 2 && k !== 3 && k !== 4 && k !== 5);
  switch (k) {
    case 0: a.emit((d64 ? E.fsgnjx_d : E.fsgnjx_s)(d.r, r, r)); break; // abs
    case 1: a.emit((d64 ? E.fsgnjn_d : E.fsgnjn_s)(d.r, r, r)); break; // neg
    case 6: a.emit((d64 ? E.fsqrt_d : E.fsqrt_s)(d.r, r, RNE)); break;
    default: roundIntegral(g, d64, r, d.r, [RUP, RDN, RTZ, RNE][k - 2]);
  }
  g.done(d);
}

/** rd = r rounded to an integral value with rounding mode rm (ceil/floor/trunc/nearest). */
function roundIntegral(g: FnGen, d64: boolean, r: number, rd: number, rm: number): void {
  const a = g.asm;
  if (d64) constD(g, FT1, 2 ** 52);
  else constS(g, FT1, 2 ** 23);
  const S = d64
    ? { sgnjx: E.fsgnjx_d, sgnj: E.fsgnj_d, lt: E.flt_d, add: E.fadd_d, sub: E.fsub_d, min: E.fmin_d }
    : { sgnjx: E.fsgnjx_s, sgnj: E.fsgnj_s, lt: E.flt_s, add: E.fadd_s, sub: E.fsub_s, min: E.fmin_s };
  a.emit(S.sgnjx(FT0, r, r));
  a.emit(S.lt(T0, FT0, FT1));
  a.skip('ne', T0, 0, 2);
  a.emit(S.min(rd, r, r));
  a.emit(E.jal(0, 4 * 5));
  a.emit(S.sgnj(FT1, FT1, r));
  a.emit(S.add(FT0, r, FT1, rm));
  a.emit(S.sub(FT0, FT0, FT1, RNE));
  a.emit(S.sgnj(rd, FT0, r));
}

function binary(g: FnGen, op: number): void {
  const a = g.asm;
  const d64 = op >= 0xa0;
  const k = op - (d64 ? 0xa0 : 0x92);
  const t = d64 ? F64 : F32;
  const y = g.pop();
  const x = g.pop();
  const rx = g.freg(x);
  const ry = g.freg(y);
  g.free(x);
  g.free(y);
  const d = g.dest(t, k !== 4 && k !== 5);
  const D = d64
    ? [E.fadd_d, E.fsub_d, E.fmul_d, E.fdiv_d]
    : [E.fadd_s, E.fsub_s, E.fmul_s, E.fdiv_s];
  if (k < 4) {
    a.emit(D[k](d.r, rx, ry, RNE));
  } else if (k === 6) {
    a.emit((d64 ? E.fsgnj_d : E.fsgnj_s)(d.r, rx, ry));
  } else {
    // min/max: NaN if either operand is NaN (spec 4.3.3 fmin/fmax).
    const feq = d64 ? E.feq_d : E.feq_s;
    a.emit(feq(T0, rx, rx));
    a.emit(feq(T1, ry, ry));
    a.emit(E.and(T0, T0, T1));
    a.skip('ne', T0, 0, 2);
    a.emit(D[0](d.r, rx, ry, RNE));
    a.emit(E.jal(0, 8));
    a.emit((k === 4 ? (d64 ? E.fmin_d : E.fmin_s) : (d64 ? E.fmax_d : E.fmax_s))(d.r, rx, ry));
  }
  g.done(d);
}

function conversion(g: FnGen, op: number): boolean {
  const a = g.asm;
  switch (op) {
    case 0xb6: case 0xbb: { // demote / promote
      const v = g.pop();
      const r = g.freg(v);
      g.free(v);
      const d = g.dest(op === 0xb6 ? F32 : F64);
      a.emit(op === 0xb6 ? E.fcvt_s_d(d.r, r, RNE) : E.fcvt_d_s(d.r, r, RNE));
      g.done(d);
      return true;
    }
    case 0xb2: case 0xb3: case 0xb7: case 0xb8: { // convert_i32_s/u
      const v = g.pop();
      const r = g.reg(v);
      g.free(v);
      const d = g.dest(op <= 0xb3 ? F32 : F64);
      const f = { 0xb2: E.fcvt_s_w, 0xb3: E.fcvt_s_wu, 0xb7: E.fcvt_d_w, 0xb8: E.fcvt_d_wu }[op]!;
      a.emit(f(d.r, r, RNE));
      g.done(d);
      return true;
    }
    case 0xb9: case 0xba: { // f64.convert_i64_s/u: hi * 2^32 + lo, one rounding
      const v = g.pop();
      const [lo, hi] = g.pair(v);
      g.free(v);
      const d = g.dest(F64, false);
      constD(g, FT1, 2 ** 32);
      a.emit((op === 0xb9 ? E.fcvt_d_w : E.fcvt_d_wu)(FT0, hi, RNE));
      a.emit(E.fmul_d(FT0, FT0, FT1, RNE));
      a.emit(E.fcvt_d_wu(FT1, lo, RNE));
      a.emit(E.fadd_d(d.r, FT0, FT1, RNE));
      g.done(d);
      return true;
    }
    case 0xb4: case 0xb5: // f32.convert_i64_s/u: runtime routine (round-to-odd, then to f32)
      g.call({ params: [I64], results: [F32] }, () => a.call(op === 0xb4 ? '__rt_f32_convert_i64_s' : '__rt_f32_convert_i64_u'));
      return true;
    case 0xa8: case 0xa9: case 0xaa: case 0xab: truncI32(g, op); return true;
    case 0xfc00: case 0xfc01: case 0xfc02: case 0xfc03: truncSatI32(g, op); return true;
    case 0xae: case 0xaf: case 0xb0: case 0xb1: truncI64(g, op, false); return true;
    case 0xfc04: case 0xfc05: case 0xfc06: case 0xfc07: truncI64(g, op, true); return true;
    case 0xbc: case 0xbe: { // i32.reinterpret_f32 / f32.reinterpret_i32: fmv (bit-exact)
      const v = g.pop();
      if (v.k === K_CONST) { g.push({ t: op === 0xbc ? I32 : F32, k: K_CONST, a: v.a, b: 0 }); return true; }
      if (op === 0xbc) {
        const r = g.freg(v);
        g.free(v);
        const d = g.dest(I32);
        a.emit(E.fmv_x_w(d.r, r));
        g.done(d);
      } else {
        const r = g.reg(v);
        g.free(v);
        const d = g.dest(F32);
        a.emit(E.fmv_w_x(d.r, r));
        g.done(d);
      }
      return true;
    }
    case 0xbd: case 0xbf: { // i64 <-> f64 reinterpret through a frame slot (RV32D has no fmv.x.d)
      const v = g.pop();
      if (v.k === K_CONST) { g.push({ t: op === 0xbd ? I64 : F64, k: K_CONST, a: v.a, b: v.b }); return true; }
      const slot = g.scratchSlot();
      if (op === 0xbd) {
        const r = g.freg(v);
        g.free(v);
        a.mem(E.fsd, r, FPREG, slot, T0);
        const d = g.dest(I64, false);
        a.mem(E.lw, d.r, FPREG, slot, T0);
        a.mem(E.lw, d.r2, FPREG, slot + 4, T0);
        g.done(d);
      } else {
        const [lo, hi] = g.pair(v);
        a.mem(E.sw, lo, FPREG, slot, T0);
        a.mem(E.sw, hi, FPREG, slot + 4, T0);
        g.free(v);
        const d = g.dest(F64);
        a.mem(E.fld, d.r, FPREG, slot, T0);
        g.done(d);
      }
      return true;
    }
  }
  return false;
}

/** Exclusive bounds (lo, hi) of the values whose truncation fits the integer type. */
function truncBounds(unsigned: boolean, bits: 32 | 64): [number, number] {
  if (bits === 32) return unsigned ? [-1, 2 ** 32] : [-(2 ** 31) - 1, 2 ** 31];
  return unsigned ? [-1, 2 ** 64] : [-(2 ** 63), 2 ** 63];
}

/** Trap (invalid conversion) unless lo < x < hi, x in f64 register r (NaN fails). For i64
 *  signed, the low bound is inclusive (-2^63 is representable, -2^63-1 is not as f64). */
function rangeCheck(g: FnGen, r: number, unsigned: boolean, bits: 32 | 64): void {
  const a = g.asm;
  const [lo, hi] = truncBounds(unsigned, bits);
  // constD uses t0 for the address: the first result goes to t1.
  constD(g, FT1, lo);
  a.emit((bits === 64 && !unsigned ? E.fle_d : E.flt_d)(T1, FT1, r));
  constD(g, FT1, hi);
  a.emit(E.flt_d(T0, r, FT1));
  a.emit(E.and(T0, T0, T1));
  g.trapUnless('ne', T0, 0, 'invalid_conversion');
}

/** A float operand as f64 in a register (f32 is promoted exactly into ft0; FT0 is then
 *  busy until the caller's conversion is emitted). */
function asF64(g: FnGen, r: number, f32: boolean): number {
  if (!f32) return r;
  g.asm.emit(E.fcvt_d_s(FT0, r, RNE));
  return FT0;
}

function truncI32(g: FnGen, op: number): void {
  const a = g.asm;
  const f32 = op <= 0xa9;
  const unsigned = op === 0xa9 || op === 0xab;
  const v = g.pop();
  const r = g.freg(v);
  const x = asF64(g, r, f32);
  rangeCheck(g, x, unsigned, 32);
  g.free(v);
  const d = g.dest(I32);
  a.emit((unsigned ? E.fcvt_wu_d : E.fcvt_w_d)(d.r, x, RTZ));
  g.done(d);
}

function truncSatI32(g: FnGen, op: number): void {
  const a = g.asm;
  const f32 = op <= 0xfc01;
  const unsigned = op === 0xfc01 || op === 0xfc03;
  const v = g.pop();
  const r = g.freg(v);
  g.free(v);
  const d = g.dest(I32, false);
  const f = f32 ? (unsigned ? E.fcvt_wu_s : E.fcvt_w_s) : (unsigned ? E.fcvt_wu_d : E.fcvt_w_d);
  a.emit((f32 ? E.feq_s : E.feq_d)(T0, r, r));
  a.emit(f(d.r, r, RTZ));
  a.emit(E.sub(T0, 0, T0));
  a.emit(E.and(d.r, d.r, T0));
  g.done(d);
}

/**
 * i64.trunc_f32/f64_s/u and the saturating forms. The value is split with f64 arithmetic:
 * hi = trunc(|x| / 2^32), lo = |x| - hi * 2^32 (both exact), then negated for x < 0.
 * Saturating: NaN -> 0, below range -> min, above -> max (spec 4.3.4 trunc_sat).
 */
function truncI64(g: FnGen, op: number, sat: boolean): void {
  const a = g.asm;
  const k = sat ? op - 0xfc04 : op - 0xae;
  const f32 = k <= 1;
  const unsigned = (k & 1) === 1;
  const v = g.pop();
  const r = g.freg(v);
  const fx = g.allocF();
  a.emit(f32 ? E.fcvt_d_s(fx, r, RNE) : E.fsgnj_d(fx, r, r));
  g.free(v);
  const d = g.dest(I64, false);
  const done = a.label();
  if (!sat) {
    rangeCheck(g, fx, unsigned, 64);
  } else {
    // NaN -> 0, below the range -> minimum, above -> maximum.
    a.emit(E.feq_d(T0, fx, fx));
    a.mv(d.r, 0);
    a.mv(d.r2, 0);
    a.branch('eq', T0, 0, done);
    const [lo, hi] = truncBounds(unsigned, 64);
    constD(g, FT1, lo);
    a.emit((unsigned ? E.fle_d : E.flt_d)(T0, fx, FT1));
    if (!unsigned) a.emit(E.lui(d.r2, 0x80000));
    a.branch('ne', T0, 0, done);
    constD(g, FT1, hi);
    a.emit(E.fle_d(T0, FT1, fx));
    a.emit(E.addi(d.r, 0, -1));
    if (unsigned) a.emit(E.addi(d.r2, 0, -1));
    else { a.emit(E.lui(d.r2, 0x80000)); a.emit(E.addi(d.r2, d.r2, -1)); }
    a.branch('ne', T0, 0, done);
  }
  // T1 = (x < 0); then |x| = hi * 2^32 + lo with hi = trunc(|x| * 2^-32) (exact scalings).
  a.emit(E.fcvt_d_w(FT1, 0, RNE));
  a.emit(E.flt_d(T1, fx, FT1));
  a.emit(E.fsgnjx_d(fx, fx, fx));
  constD(g, FT1, 2 ** -32);
  a.emit(E.fmul_d(FT0, fx, FT1, RNE));
  a.emit(E.fcvt_wu_d(d.r2, FT0, RTZ));
  a.emit(E.fcvt_d_wu(FT0, d.r2, RNE));
  constD(g, FT1, 2 ** 32);
  a.emit(E.fmul_d(FT0, FT0, FT1, RNE));
  a.emit(E.fsub_d(FT0, fx, FT0, RNE));
  a.emit(E.fcvt_wu_d(d.r, FT0, RTZ));
  if (!unsigned) {
    a.skip('eq', T1, 0, 4);
    a.emit(E.sltu(T0, 0, d.r));
    a.emit(E.sub(d.r, 0, d.r));
    a.emit(E.sub(d.r2, 0, d.r2));
    a.emit(E.sub(d.r2, d.r2, T0));
  }
  a.bind(done);
  g.release(fx, true);
  g.done(d);
}
