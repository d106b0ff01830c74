// Instruction-level tests of the F and D extensions: decoding and illegal encodings, loads and
// stores, NaN boxing, canonical NaNs, every rounding mode on hand-computed cases, every flag,
// fmin/fmax, compares, fclass, the fcvt saturation table, and the vectors of riscv-tests
// isa/rv64uf and isa/rv64ud (RV32-applicable parts). Random differential tests against an exact
// BigInt reference are in fpu-exact.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFp, type FpuHost } from './fpu.ts';
import * as E from '../toolchain/rv32/encode.ts';

const NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;
const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4, DYN = 7;
const MODES = [RNE, RTZ, RDN, RUP, RMM];

class IllegalTrap extends Error {
  constructor(readonly inst: number) { super(`illegal instruction 0x${(inst >>> 0).toString(16)}`); }
}
class PageFault extends Error {
  constructor(readonly va: number) { super(`page fault at 0x${va.toString(16)}`); }
}

/** A hart stand-in: register files, fcsr fields and a word-addressed Map memory. Addresses at or
 * above `faultFrom` fault. */
class TestHost implements FpuHost {
  readonly fr = new Int32Array(64);
  readonly frD = new Float64Array(this.fr.buffer);
  readonly x = new Int32Array(32);
  fflags = 0;
  frm = RNE;
  enabled = true;
  dirty = 0;
  faultFrom = 0xffff_0000;
  readonly mem = new Map<number, number>();
  fpuEnabled(): boolean { return this.enabled; }
  markFpDirty(): void { this.dirty++; }
  private check(va: number): void {
    assert.equal(va, va >>> 0, 'addresses reach the host as unsigned 32-bit numbers');
    if (va >= this.faultFrom) throw new PageFault(va);
  }
  load32(va: number): number { this.check(va); return this.mem.get(va) ?? 0; }
  load64(va: number, out: Int32Array, i: number): void {
    this.check(va); this.check((va + 4) >>> 0);
    out[i] = this.mem.get(va) ?? 0;
    out[i + 1] = this.mem.get((va + 4) >>> 0) ?? 0;
  }
  store32(va: number, value: number): void { this.check(va); this.mem.set(va, value | 0); }
  store64(va: number, src: Int32Array, i: number): void {
    this.check(va); this.check((va + 4) >>> 0);
    this.mem.set(va, src[i]);
    this.mem.set((va + 4) >>> 0, src[i + 1]);
  }
  illegal(inst: number): never { throw new IllegalTrap(inst); }
}

// ---- bit helpers -------------------------------------------------------------------------

const dv = new DataView(new ArrayBuffer(8));
/** binary32 bits (unsigned) of v rounded to binary32. */
function s(v: number): number { dv.setFloat32(0, v, true); return dv.getUint32(0, true); }
/** binary64 bits of v. */
function d(v: number): bigint { dv.setFloat64(0, v, true); return dv.getBigUint64(0, true); }
function fromS(b: number): number { dv.setUint32(0, b, true); return dv.getFloat32(0, true); }
function fromD(b: bigint): number { dv.setBigUint64(0, b, true); return dv.getFloat64(0, true); }

function putS(h: TestHost, r: number, bits: number): void { h.fr[2 * r] = bits | 0; h.fr[2 * r + 1] = -1; }
function putD(h: TestHost, r: number, bits: bigint): void {
  h.fr[2 * r] = Number(bits & 0xffffffffn) | 0;
  h.fr[2 * r + 1] = Number(bits >> 32n) | 0;
}
function regD(h: TestHost, r: number): bigint {
  return (BigInt(h.fr[2 * r + 1] >>> 0) << 32n) | BigInt(h.fr[2 * r] >>> 0);
}
/** The binary32 result in r; asserts that it is NaN-boxed. */
function regS(h: TestHost, r: number): number {
  assert.equal(h.fr[2 * r + 1], -1, `f${r} is NaN-boxed`);
  return h.fr[2 * r] >>> 0;
}
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

const CANON_S = 0x7fc00000, CANON_D = 0x7ff8000000000000n;
const SNAN_S = 0x7f800001, SNAN_D = 0x7ff0000000000001n, QNAN_S = 0x7fc00001, QNAN_D = 0x7ff8000000000001n;
const MAX_S = 0x7f7fffff, MAX_D = 0x7fefffffffffffffn;
const INF_S = 0x7f800000, INF_D = 0x7ff0000000000000n;

// Operands go in f1, f2, f3; results in f10 or x10.
function runS(inst: number, ops: number[], frm = RNE): { r: number; fl: number; h: TestHost } {
  const h = new TestHost();
  h.frm = frm;
  ops.forEach((b, i) => putS(h, i + 1, b));
  execFp(h, inst);
  return { r: regS(h, 10), fl: h.fflags, h };
}
function runD(inst: number, ops: bigint[], frm = RNE): { r: bigint; fl: number; h: TestHost } {
  const h = new TestHost();
  h.frm = frm;
  ops.forEach((b, i) => putD(h, i + 1, b));
  execFp(h, inst);
  return { r: regD(h, 10), fl: h.fflags, h };
}
/** Run an instruction writing x10 from f-register operands (boxed binary32 or binary64 bits). */
function runX(inst: number, ops: (number | bigint)[], frm = RNE): { r: number; fl: number } {
  const h = new TestHost();
  h.frm = frm;
  ops.forEach((b, i) => (typeof b === 'bigint' ? putD(h, i + 1, b) : putS(h, i + 1, b)));
  execFp(h, inst);
  return { r: h.x[10], fl: h.fflags };
}

function expectIllegal(h: TestHost, inst: number): void {
  const before = Array.from(h.fr).concat(Array.from(h.x), [h.fflags, h.dirty]);
  assert.throws(() => execFp(h, inst), (e: unknown) => e instanceof IllegalTrap && e.inst === inst, hex(inst));
  assert.deepEqual(Array.from(h.fr).concat(Array.from(h.x), [h.fflags, h.dirty]), before, 'no state change');
}

// ---- decoding ----------------------------------------------------------------------------

describe('fpu decode', () => {
  it('every FP instruction is illegal when mstatus.FS is Off', () => {
    const h = new TestHost();
    h.enabled = false;
    for (const inst of [E.flw(1, 2, 0), E.fsd(1, 2, 0), E.fadd_d(1, 2, 3), E.fmadd_s(1, 2, 3, 4), E.fmv_x_w(1, 2), E.fsgnj_s(1, 1, 1)]) {
      expectIllegal(h, inst);
    }
  });

  it('reserved static rounding modes 5 and 6 are illegal, for rounding and exact operations alike', () => {
    const h = new TestHost();
    for (const rm of [5, 6]) {
      for (const inst of [E.fadd_s(1, 2, 3, rm), E.fsqrt_d(1, 2, rm), E.fmadd_d(1, 2, 3, 4, rm), E.fcvt_w_s(5, 1, rm),
        E.fcvt_d_s(1, 2, rm), E.fcvt_d_w(1, 2, rm), E.fcvt_s_d(1, 2, rm), E.fcvt_s_wu(1, 2, rm)]) expectIllegal(h, inst);
    }
  });

  it('DYN with frm 5, 6 or 7 is illegal; with a valid frm it uses frm', () => {
    const h = new TestHost();
    for (const frm of [5, 6, 7]) {
      h.frm = frm;
      expectIllegal(h, E.fadd_d(1, 2, 3, DYN));
      expectIllegal(h, E.fcvt_d_s(1, 2, DYN));
    }
    // 1 + 2^-53 is a tie: RNE keeps 1, RUP (from frm) goes up.
    const t = runD(E.fadd_d(10, 1, 2, DYN), [d(1), d(2 ** -53)], RUP);
    assert.equal(t.r, d(1 + 2 ** -52));
    // A static rm wins over frm.
    assert.equal(runD(E.fadd_d(10, 1, 2, RNE), [d(1), d(2 ** -53)], RUP).r, d(1));
  });

  it('instructions that do not round ignore frm even when it is reserved', () => {
    const h = new TestHost();
    h.frm = 7;
    putS(h, 1, s(1.5));
    execFp(h, E.fsgnjn_s(2, 1, 1));
    execFp(h, E.fmv_x_w(5, 2));
    assert.equal(h.x[5] >>> 0, s(-1.5));
    execFp(h, E.feq_s(6, 1, 1));
    assert.equal(h.x[6], 1);
  });

  it('rejects H/Q formats, RV64-only and unassigned encodings', () => {
    const h = new TestHost();
    const fmt = (inst: number, f: number): number => (inst & ~(3 << 25)) | (f << 25);
    for (const f of [2, 3]) {
      expectIllegal(h, fmt(E.fadd_s(1, 2, 3, RNE), f));
      expectIllegal(h, fmt(E.fmadd_s(1, 2, 3, 4, RNE), f));
      expectIllegal(h, fmt(E.fsgnj_s(1, 2, 3), f));
    }
    const rs2 = (inst: number, r: number): number => (inst & ~(31 << 20)) | (r << 20);
    const f3 = (inst: number, v: number): number => (inst & ~(7 << 12)) | (v << 12);
    expectIllegal(h, rs2(E.fsqrt_s(1, 2, RNE), 1));
    expectIllegal(h, rs2(E.fcvt_w_d(1, 2, RNE), 2)); // fcvt.l.d: RV64
    expectIllegal(h, rs2(E.fcvt_s_w(1, 2, RNE), 2)); // fcvt.s.l: RV64
    expectIllegal(h, rs2(E.fcvt_s_d(1, 2, RNE), 2)); // fcvt.s.h: Zfh
    expectIllegal(h, rs2(E.fcvt_d_s(1, 2, RNE), 1)); // fcvt.d.d
    expectIllegal(h, f3(E.fclass_d(1, 2), 0)); // fmv.x.d: RV64
    expectIllegal(h, (E.fmv_w_x(1, 2) & ~(0x7f << 25)) | (0x79 << 25)); // fmv.d.x: RV64
    expectIllegal(h, f3(E.fsgnj_d(1, 2, 3), 3));
    expectIllegal(h, f3(E.fmin_s(1, 2, 3), 2));
    expectIllegal(h, f3(E.feq_d(1, 2, 3), 3));
    expectIllegal(h, f3(E.fmv_x_w(1, 2), 2));
    expectIllegal(h, f3(E.flw(1, 2, 0), 1)); // flh: Zfh
    expectIllegal(h, f3(E.flw(1, 2, 0), 4)); // flq: Q
    expectIllegal(h, f3(E.fsw(1, 2, 0), 0));
    expectIllegal(h, (E.fadd_s(1, 2, 3) & ~(0x7f << 25)) | (0x7c << 25)); // unassigned funct7
  });

  it('never writes x0', () => {
    const h = new TestHost();
    putS(h, 1, s(1));
    putD(h, 2, d(-7));
    for (const inst of [E.feq_s(0, 1, 1), E.fcvt_w_d(0, 2, RNE), E.fmv_x_w(0, 1), E.fclass_s(0, 1), E.fclass_d(0, 2), E.fle_d(0, 2, 2)]) {
      execFp(h, inst);
      assert.equal(h.x[0], 0, hex(inst));
    }
  });
});

// ---- loads, stores, moves, boxing ---------------------------------------------------------

describe('fpu loads, stores and moves', () => {
  it('flw NaN-boxes; fsw stores the low word of any register; both keep NaN payloads', () => {
    const h = new TestHost();
    h.x[5] = 0x1000;
    h.mem.set(0x1000 - 4, 0x7f800001); // a signaling NaN, loaded untouched
    execFp(h, E.flw(3, 5, -4));
    assert.equal(h.fr[6], 0x7f800001);
    assert.equal(h.fr[7], -1);
    assert.equal(h.fflags, 0);
    putD(h, 4, 0x12345678_9abcdef0n); // not boxed: fsw still stores the low word
    execFp(h, E.fsw(4, 5, 8));
    assert.equal(h.mem.get(0x1008), 0x9abcdef0 | 0);
  });

  it('fld/fsd move 64 bits exactly, including NaN payloads and boxed singles', () => {
    const h = new TestHost();
    h.x[6] = 0x2000;
    h.mem.set(0x2000, 0x00000001);
    h.mem.set(0x2004, 0x7ff00000); // binary64 signaling NaN
    execFp(h, E.fld(7, 6, 0));
    assert.equal(regD(h, 7), 0x7ff0000000000001n);
    execFp(h, E.fsd(7, 6, 16));
    assert.equal(h.mem.get(0x2010), 1);
    assert.equal(h.mem.get(0x2014), 0x7ff00000);
    assert.equal(h.fflags, 0);
  });

  it('effective addresses wrap modulo 2^32 and arrive unsigned', () => {
    const h = new TestHost();
    h.faultFrom = 0xffff_ffff;
    h.x[1] = -8; // 0xfffffff8
    execFp(h, E.fsw(2, 1, 4));
    assert.ok(h.mem.has(0xfffffffc));
    h.x[1] = 0x10;
    h.mem.set(0xfffffff8, 0x3f800000);
    execFp(h, E.flw(3, 1, -0x18));
    assert.equal(regS(h, 3), 0x3f800000);
  });

  it('a faulting load leaves the register and fcsr untouched; a faulting store writes nothing', () => {
    const h = new TestHost();
    h.x[1] = 0xffff_0000 | 0;
    putD(h, 2, d(3.5));
    assert.throws(() => execFp(h, E.fld(2, 1, 0)), PageFault);
    assert.throws(() => execFp(h, E.flw(2, 1, 0)), PageFault);
    assert.equal(regD(h, 2), d(3.5));
    assert.equal(h.dirty, 0);
    assert.throws(() => execFp(h, E.fsd(2, 1, 0)), PageFault);
    assert.equal(h.mem.size, 0);
  });

  it('fmv.x.w takes the low word whatever the boxing; fmv.w.x boxes (riscv-tests move.S)', () => {
    const h = new TestHost();
    h.x[11] = 0xbf812345 | 0;
    execFp(h, E.fmv_w_x(0, 11));
    assert.equal(regS(h, 0), 0xbf812345);
    execFp(h, E.fmv_x_w(10, 0));
    assert.equal(h.x[10] >>> 0, 0xbf812345);
    putD(h, 1, 0x3ff02468a0000000n);
    execFp(h, E.fmv_x_w(12, 1));
    assert.equal(h.x[12] >>> 0, 0xa0000000);
    assert.equal(h.fflags, 0);
  });

  it('writes to f registers mark FS dirty; fsw and flag-free compares do not', () => {
    const h = new TestHost();
    putS(h, 1, s(2));
    execFp(h, E.fsw(1, 0, 0));
    execFp(h, E.feq_s(5, 1, 1));
    execFp(h, E.fmv_x_w(5, 1));
    assert.equal(h.dirty, 0);
    execFp(h, E.fsgnj_s(2, 1, 1));
    assert.equal(h.dirty, 1);
    putS(h, 3, CANON_S);
    execFp(h, E.flt_s(5, 1, 3)); // NV changes fflags: dirty
    assert.equal(h.dirty, 2);
    assert.equal(h.fflags, NV);
  });
});

describe('fpu NaN boxing and canonical NaNs', () => {
  const unboxed = (h: TestHost, r: number, lo: number): void => { h.fr[2 * r] = lo; h.fr[2 * r + 1] = 0x12345678; };

  it('an improperly boxed binary32 operand reads as the canonical NaN (quiet: no NV)', () => {
    const h = new TestHost();
    unboxed(h, 1, s(1));
    putS(h, 2, s(2));
    execFp(h, E.fadd_s(10, 1, 2, RNE));
    assert.equal(regS(h, 10), CANON_S);
    assert.equal(h.fflags, 0);
    execFp(h, E.fclass_s(11, 1));
    assert.equal(h.x[11], 1 << 9);
    execFp(h, E.feq_s(12, 1, 1));
    assert.equal(h.x[12], 0);
    execFp(h, E.fmin_s(13, 1, 2));
    assert.equal(regS(h, 13), s(2));
    execFp(h, E.fcvt_d_s(14, 1, RNE));
    assert.equal(regD(h, 14), CANON_D);
    execFp(h, E.fcvt_w_s(15, 1, RNE));
    assert.equal(h.x[15], 0x7fffffff);
    assert.equal(h.fflags, NV); // from fcvt.w.s only
  });

  it('sign injection reads unboxed operands as the canonical NaN too, and boxes its result', () => {
    const h = new TestHost();
    unboxed(h, 1, s(-3));
    putS(h, 2, s(-1));
    execFp(h, E.fsgnj_s(10, 1, 2));
    assert.equal(regS(h, 10), 0xffc00000);
    execFp(h, E.fsgnjx_s(10, 2, 1)); // rs2 reads as +canonical NaN: sign of rs1 kept
    assert.equal(regS(h, 10), s(-1));
  });

  it('a binary64 operation on a boxed single sees a NaN and returns the canonical NaN', () => {
    const t = runD(E.fmul_d(10, 1, 2, RNE), [0xffffffff3f800000n, d(2)]);
    assert.equal(t.r, CANON_D);
    assert.equal(t.fl, 0);
  });

  it('fsd/fld round-trip a boxed single (riscv-tests rv64ud recoding.S #20)', () => {
    const h = new TestHost();
    h.x[1] = 0x100;
    putS(h, 0, s(3));
    execFp(h, E.fadd_s(1, 0, 0, RNE));
    execFp(h, E.fadd_s(0, 0, 0, RNE));
    execFp(h, E.fsd(0, 1, 0));
    execFp(h, E.fld(0, 1, 0));
    execFp(h, E.feq_s(10, 0, 1));
    assert.equal(h.x[10], 1);
  });

  it('NaN results are canonical whatever the operand payloads; sNaN operands raise NV', () => {
    const cases: [number, number[], number][] = [
      [E.fadd_s(10, 1, 2, RNE), [0xffc12345, s(1)], 0],
      [E.fmul_s(10, 1, 2, RNE), [s(1), SNAN_S], NV],
      [E.fsub_s(10, 1, 2, RNE), [INF_S, INF_S], NV],
      [E.fmul_s(10, 1, 2, RNE), [INF_S, 0], NV],
      [E.fdiv_s(10, 1, 2, RNE), [0, 0x80000000], NV],
      [E.fdiv_s(10, 1, 2, RNE), [INF_S, 0xff800000], NV],
      [E.fsqrt_s(10, 1, RNE), [s(-1)], NV],
      [E.fsqrt_s(10, 1, RNE), [0xffc00000], 0],
      [E.fmadd_s(10, 1, 2, 3, RNE), [s(1), s(1), QNAN_S], 0],
      [E.fmadd_s(10, 1, 2, 3, RNE), [s(1), s(1), SNAN_S], NV],
      [E.fmadd_s(10, 1, 2, 3, RNE), [INF_S, 0, QNAN_S], NV], // ∞·0 + qNaN still invalid (F chapter)
      [E.fnmsub_s(10, 1, 2, 3, RNE), [INF_S, s(1), INF_S], NV], // −∞ + ∞
    ];
    for (const [inst, ops, fl] of cases) {
      const t = runS(inst, ops);
      assert.equal(t.r, CANON_S, hex(inst));
      assert.equal(t.fl, fl, hex(inst));
    }
    const dcases: [number, bigint[], number][] = [
      [E.fadd_d(10, 1, 2, RNE), [0xfff8000012345678n, d(1)], 0],
      [E.fsub_d(10, 1, 2, RNE), [INF_D, INF_D], NV],
      [E.fdiv_d(10, 1, 2, RNE), [d(1), SNAN_D], NV],
      [E.fsqrt_d(10, 1, RNE), [d(-1e-300)], NV],
      [E.fmsub_d(10, 1, 2, 3, RNE), [0n, INF_D, QNAN_D], NV],
      [E.fmadd_d(10, 1, 2, 3, RNE), [d(2), QNAN_D, d(1)], 0],
      [E.fmadd_d(10, 1, 2, 3, RNE), [INF_D, d(2), d(-Infinity)], NV],
    ];
    for (const [inst, ops, fl] of dcases) {
      const t = runD(inst, ops);
      assert.equal(t.r, CANON_D, hex(inst));
      assert.equal(t.fl, fl, hex(inst));
    }
  });

  it('fcvt.s.d and fcvt.d.s produce canonical NaNs; sNaN raises NV (riscv-tests rv64ud fcvt.S #12)', () => {
    const h = new TestHost();
    putD(h, 2, 0x7ffcffffffff8004n);
    execFp(h, E.fcvt_s_d(2, 2, RNE));
    execFp(h, E.fcvt_d_s(2, 2, RNE));
    assert.equal(regD(h, 2), CANON_D);
    assert.equal(h.fflags, 0);
    const u = runD(E.fcvt_d_s(10, 1, RNE), [0xffffffff7f800001n]);
    assert.equal(u.r, CANON_D);
    assert.equal(u.fl, NV);
    const v = runD(E.fcvt_s_d(10, 1, RNE), [SNAN_D]);
    assert.equal(Number(v.r & 0xffffffffn), CANON_S);
    assert.equal(v.fl, NV);
  });
});

// ---- rounding modes ------------------------------------------------------------------------

/** Expected results indexed by mode [RNE, RTZ, RDN, RUP, RMM]. */
type ByMode<T> = [T, T, T, T, T];

function checkModesS(inst: (rm: number) => number, ops: number[], want: ByMode<number>, fl: ByMode<number> | number): void {
  for (const rm of MODES) {
    const t = runS(inst(rm), ops);
    assert.equal(hex(t.r), hex(want[rm]), `rm ${rm}`);
    assert.equal(t.fl, typeof fl === 'number' ? fl : fl[rm], `flags, rm ${rm}`);
  }
}
function checkModesD(inst: (rm: number) => number, ops: bigint[], want: ByMode<number>, fl: ByMode<number> | number): void {
  for (const rm of MODES) {
    const t = runD(inst(rm), ops);
    assert.equal(hex(t.r), hex(d(want[rm])), `rm ${rm}`);
    assert.equal(t.fl, typeof fl === 'number' ? fl : fl[rm], `flags, rm ${rm}`);
  }
}

describe('fpu rounding modes', () => {
  const u32 = 2 ** -23, u64 = 2 ** -52;

  it('fadd.s/fadd.d halfway cases: ties to even vs ties to max magnitude, both signs', () => {
    // 1 + 2^-24: tie between 1 (even) and 1 + 2^-23.
    checkModesS((rm) => E.fadd_s(10, 1, 2, rm), [s(1), s(2 ** -24)], [s(1), s(1), s(1), s(1 + u32), s(1 + u32)], NX);
    checkModesS((rm) => E.fadd_s(10, 1, 2, rm), [s(-1), s(-(2 ** -24))], [s(-1), s(-1), s(-1 - u32), s(-1), s(-1 - u32)], NX);
    // 1 + 3·2^-24: tie between 1 + 2^-23 (odd) and 1 + 2^-22 (even): RNE and RMM agree.
    checkModesS((rm) => E.fadd_s(10, 1, 2, rm), [s(1), s(3 * 2 ** -24)], [s(1 + 2 * u32), s(1 + u32), s(1 + u32), s(1 + 2 * u32), s(1 + 2 * u32)], NX);
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [d(1), d(2 ** -53)], [1, 1, 1, 1 + u64, 1 + u64], NX);
    checkModesD((rm) => E.fsub_d(10, 1, 2, rm), [d(-1), d(2 ** -53)], [-1, -1, -1 - u64, -1, -1 - u64], NX);
    // Just above and below the tie.
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [d(1), d(2 ** -53 + 2 ** -105)], [1 + u64, 1, 1, 1 + u64, 1 + u64], NX);
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [d(1), d(2 ** -53 - 2 ** -106)], [1, 1, 1, 1 + u64, 1], NX);
    // Rounding down across a binade: 1 − 2^-80 → 1 − 2^-53 for RTZ/RDN.
    checkModesD((rm) => E.fsub_d(10, 1, 2, rm), [d(1), d(2 ** -80)], [1, 1 - 2 ** -53, 1 - 2 ** -53, 1, 1], NX);
    checkModesS((rm) => E.fsub_s(10, 1, 2, rm), [s(1), s(2 ** -80)], [s(1), s(1 - 2 ** -24), s(1 - 2 ** -24), s(1), s(1)], NX);
  });

  it('exact zero sums are +0 except −0 in RDN; x + x keeps the sign of zero', () => {
    checkModesD((rm) => E.fsub_d(10, 1, 2, rm), [d(1.5), d(1.5)], [0, 0, -0, 0, 0], 0);
    checkModesS((rm) => E.fadd_s(10, 1, 2, rm), [s(-2), s(2)], [s(0), s(0), s(-0), s(0), s(0)], 0);
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [d(0), d(-0)], [0, 0, -0, 0, 0], 0);
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [d(-0), d(-0)], [-0, -0, -0, -0, -0], 0);
    checkModesS((rm) => E.fadd_s(10, 1, 2, rm), [s(0), s(0)], [s(0), s(0), s(0), s(0), s(0)], 0);
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(3), d(5), d(-15)], [0, 0, -0, 0, 0], 0);
    checkModesS((rm) => E.fnmsub_s(10, 1, 2, 3, rm), [s(3), s(5), s(15)], [s(0), s(0), s(-0), s(0), s(0)], 0);
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(-0), d(5), d(-0)], [-0, -0, -0, -0, -0], 0);
  });

  it('fmul halfway cases', () => {
    // (1 + 2^-52)(1 + 2^-1) = 1.5 + 2^-52 + 2^-53: tie, the upper neighbour is even.
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(1 + u64), d(1.5)],
      [1.5 + 2 * u64, 1.5 + u64, 1.5 + u64, 1.5 + 2 * u64, 1.5 + 2 * u64], NX);
    // (1 + 2^-51)(1 + 2^-1) = 1.5 + 2^-51 + 2^-52 + ... = 1.5 + 3·2^-52: exact.
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(1 + 2 * u64), d(1.5)], [1.5 + 3 * u64, 1.5 + 3 * u64, 1.5 + 3 * u64, 1.5 + 3 * u64, 1.5 + 3 * u64], 0);
    // (1 + 3·2^-52)·1.5 = 1.5 + 4.5·2^-52: the tie 1.5 + 4·2^-52 (even) / + 5·2^-52.
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(1 + 3 * u64), d(-1.5)],
      [-(1.5 + 4 * u64), -(1.5 + 4 * u64), -(1.5 + 5 * u64), -(1.5 + 4 * u64), -(1.5 + 5 * u64)], NX);
    // binary32: (1 + 2^-23)·1.5 = 1.5 + 1.5·2^-23: tie, upper even.
    checkModesS((rm) => E.fmul_s(10, 1, 2, rm), [s(1 + u32), s(1.5)],
      [s(1.5 + 2 * u32), s(1.5 + u32), s(1.5 + u32), s(1.5 + 2 * u32), s(1.5 + 2 * u32)], NX);
    checkModesS((rm) => E.fmul_s(10, 1, 2, rm), [s(1 + 3 * u32), s(1.5)],
      [s(1.5 + 4 * u32), s(1.5 + 4 * u32), s(1.5 + 4 * u32), s(1.5 + 5 * u32), s(1.5 + 5 * u32)], NX);
  });

  it('fdiv and fsqrt: 1/3, −1/3, √2', () => {
    const third = 0.3333333333333333; // 0x3fd5555555555555, below 1/3
    const thirdUp = fromD(0x3fd5555555555556n);
    checkModesD((rm) => E.fdiv_d(10, 1, 2, rm), [d(1), d(3)], [third, third, third, thirdUp, third], NX);
    checkModesD((rm) => E.fdiv_d(10, 1, 2, rm), [d(-1), d(3)], [-third, -third, -thirdUp, -third, -third], NX);
    // binary32 1/3 rounds up in RNE (0x3eaaaaab).
    checkModesS((rm) => E.fdiv_s(10, 1, 2, rm), [s(1), s(3)], [0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab], NX);
    const r2 = Math.SQRT2; // 0x3ff6a09e667f3bcd, above √2
    const r2dn = fromD(0x3ff6a09e667f3bccn);
    checkModesD((rm) => E.fsqrt_d(10, 1, rm), [d(2)], [r2, r2dn, r2dn, r2, r2], NX);
    // binary32 √2 = 0x3fb504f3 is below √2.
    checkModesS((rm) => E.fsqrt_s(10, 1, rm), [s(2)], [0x3fb504f3, 0x3fb504f3, 0x3fb504f3, 0x3fb504f4, 0x3fb504f3], NX);
    checkModesD((rm) => E.fsqrt_d(10, 1, rm), [d(0.25)], [0.5, 0.5, 0.5, 0.5, 0.5], 0);
    checkModesD((rm) => E.fsqrt_d(10, 1, rm), [d(-0)], [-0, -0, -0, -0, -0], 0);
    // A subnormal operand (scaled internally): √(2^-1074) = 2^-537 exactly.
    checkModesD((rm) => E.fsqrt_d(10, 1, rm), [1n], [2 ** -537, 2 ** -537, 2 ** -537, 2 ** -537, 2 ** -537], 0);
  });

  it('fused multiply-add rounds once', () => {
    // (1 + 2^-52)(1 − 2^-53) − 1 = 2^-53 − 2^-105, exact; unfused it would be 0 or 2^-52.
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(1 + u64), d(1 - 2 ** -53), d(-1)],
      [2 ** -53 - 2 ** -105, 2 ** -53 - 2 ** -105, 2 ** -53 - 2 ** -105, 2 ** -53 - 2 ** -105, 2 ** -53 - 2 ** -105], 0);
    // A far smaller addend still decides directed rounding.
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(1), d(1), d(2 ** -200)], [1, 1, 1, 1 + u64, 1], NX);
    checkModesD((rm) => E.fmsub_d(10, 1, 2, 3, rm), [d(1), d(1), d(2 ** -200)], [1, 1 - 2 ** -53, 1 - 2 ** -53, 1, 1], NX);
    // Tie: 1 + 2^-53 exactly, from a product.
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(2 ** -27), d(2 ** -26), d(1)], [1, 1, 1, 1 + u64, 1 + u64], NX);
    // The sign conventions of fnmadd/fnmsub: −(a·b) − c and −(a·b) + c.
    checkModesD((rm) => E.fnmadd_d(10, 1, 2, 3, rm), [d(2), d(3), d(1)], [-7, -7, -7, -7, -7], 0);
    checkModesD((rm) => E.fnmsub_d(10, 1, 2, 3, rm), [d(2), d(3), d(1)], [-5, -5, -5, -5, -5], 0);
    // binary32: 1·1 + 2^-30 and the tie 1 + 2^-24.
    checkModesS((rm) => E.fmadd_s(10, 1, 2, 3, rm), [s(1), s(1), s(2 ** -30)], [s(1), s(1), s(1), s(1 + u32), s(1)], NX);
    // 2^-13·2^-12 − 1 = −(1 − 2^-25): the tie between −(1 − 2^-24) (odd) and −1.
    checkModesS((rm) => E.fmadd_s(10, 1, 2, 3, rm), [s(2 ** -13), s(2 ** -12), s(-1)],
      [s(-1), s(-1 + 2 ** -24), s(-1), s(-1 + 2 ** -24), s(-1)], NX);
    checkModesS((rm) => E.fmadd_s(10, 1, 2, 3, rm), [s(2 ** -12), s(2 ** -12), s(1)], [s(1), s(1), s(1), s(1 + u32), s(1 + u32)], NX);
  });

  it('fcvt.w/fcvt.wu in every mode, halfway cases included', () => {
    const w = (x: number, want: ByMode<number>, fl: number): void => {
      for (const rm of MODES) {
        const t = runX(E.fcvt_w_d(10, 1, rm), [d(x)]);
        assert.equal(t.r, want[rm], `fcvt.w.d ${x} rm ${rm}`);
        assert.equal(t.fl, fl, `flags fcvt.w.d ${x} rm ${rm}`);
        if (Math.fround(x) === x) {
          const u = runX(E.fcvt_w_s(10, 1, rm), [s(x)]);
          assert.equal(u.r, want[rm], `fcvt.w.s ${x} rm ${rm}`);
          assert.equal(u.fl, fl);
        }
      }
    };
    w(2.5, [2, 2, 2, 3, 3], NX);
    w(-2.5, [-2, -2, -3, -2, -3], NX);
    w(3.5, [4, 3, 3, 4, 4], NX);
    w(-3.5, [-4, -3, -4, -3, -4], NX);
    w(2.25, [2, 2, 2, 3, 2], NX);
    w(-2.75, [-3, -2, -3, -2, -3], NX);
    w(0.5, [0, 0, 0, 1, 1], NX);
    w(-0.5, [0, 0, -1, 0, -1], NX);
    w(7, [7, 7, 7, 7, 7], 0);
    w(-0, [0, 0, 0, 0, 0], 0);
    const wu = (x: number, want: ByMode<number>, fl: ByMode<number>): void => {
      for (const rm of MODES) {
        const t = runX(E.fcvt_wu_d(10, 1, rm), [d(x)]);
        assert.equal(t.r >>> 0, want[rm] >>> 0, `fcvt.wu.d ${x} rm ${rm}`);
        assert.equal(t.fl, fl[rm], `flags fcvt.wu.d ${x} rm ${rm}`);
      }
    };
    // (−1, 0): 0 with NX when the value rounds to 0, invalid when it rounds to −1.
    wu(-0.5, [0, 0, 0, 0, 0], [NX, NX, NV, NX, NV]);
    wu(-0.75, [0, 0, 0, 0, 0], [NV, NX, NV, NX, NV]);
    wu(4294967295.5, [-1, -1, -1, -1, -1], [NV, NX, NX, NV, NV]);
    wu(2.5, [2, 2, 2, 3, 3], [NX, NX, NX, NX, NX]);
    // Upper edge of fcvt.w: 2^31 − 0.5 rounds to 2^31 (invalid) in RNE, RUP and RMM.
    for (const rm of MODES) {
      const t = runX(E.fcvt_w_d(10, 1, rm), [d(2147483647.5)]);
      assert.equal(t.r, 2147483647);
      assert.equal(t.fl, rm === RTZ || rm === RDN ? NX : NV);
      const u = runX(E.fcvt_w_d(10, 1, rm), [d(-2147483648.5)]);
      assert.equal(u.r, -2147483648);
      assert.equal(u.fl, rm === RTZ || rm === RUP ? NX : rm === RNE ? NX : NV);
    }
  });

  it('fcvt.s.d, fcvt.s.w and fcvt.s.wu in every mode', () => {
    // 1 + 2^-24 is a binary32 tie; 1 + 2^-24 + 2^-52 is just above it.
    const sd = (x: number, want: ByMode<number>, fl: number): void => {
      for (const rm of MODES) {
        const t = runD(E.fcvt_s_d(10, 1, rm), [d(x)]);
        assert.equal(t.r >> 32n, 0xffffffffn, 'boxed');
        assert.equal(hex(Number(t.r & 0xffffffffn)), hex(want[rm]), `fcvt.s.d ${x} rm ${rm}`);
        assert.equal(t.fl, fl, `flags fcvt.s.d ${x} rm ${rm}`);
      }
    };
    sd(1 + 2 ** -24, [s(1), s(1), s(1), s(1 + u32), s(1 + u32)], NX);
    sd(-(1 + 2 ** -24 + 2 ** -52), [s(-1 - u32), s(-1), s(-1 - u32), s(-1), s(-1 - u32)], NX);
    sd(1 + 3 * 2 ** -24, [s(1 + 2 * u32), s(1 + u32), s(1 + u32), s(1 + 2 * u32), s(1 + 2 * u32)], NX);
    sd(-1.5, [s(-1.5), s(-1.5), s(-1.5), s(-1.5), s(-1.5)], 0);
    sd(-Infinity, [0xff800000, 0xff800000, 0xff800000, 0xff800000, 0xff800000], 0);
    sd(-0, [0x80000000, 0x80000000, 0x80000000, 0x80000000, 0x80000000], 0);
    const sw = (v: number, unsigned: boolean, want: ByMode<number>, fl: number): void => {
      for (const rm of MODES) {
        const h = new TestHost();
        h.x[5] = v | 0;
        execFp(h, unsigned ? E.fcvt_s_wu(10, 5, rm) : E.fcvt_s_w(10, 5, rm));
        assert.equal(hex(regS(h, 10)), hex(want[rm]), `fcvt.s.w${unsigned ? 'u' : ''} ${v} rm ${rm}`);
        assert.equal(h.fflags, fl);
      }
    };
    sw(2 ** 24 + 1, false, [s(2 ** 24), s(2 ** 24), s(2 ** 24), s(2 ** 24 + 2), s(2 ** 24 + 2)], NX);
    sw(-(2 ** 24 + 3), false, [s(-(2 ** 24 + 4)), s(-(2 ** 24 + 2)), s(-(2 ** 24 + 4)), s(-(2 ** 24 + 2)), s(-(2 ** 24 + 4))], NX);
    sw(0x7fffffff, false, [s(2 ** 31), 0x4effffff, 0x4effffff, s(2 ** 31), s(2 ** 31)], NX);
    sw(-0x80000000, false, [s(-(2 ** 31)), s(-(2 ** 31)), s(-(2 ** 31)), s(-(2 ** 31)), s(-(2 ** 31))], 0);
    sw(0xffffffff, true, [s(2 ** 32), 0x4f7fffff, 0x4f7fffff, s(2 ** 32), s(2 ** 32)], NX);
    sw(0, false, [0, 0, 0, 0, 0], 0); // fcvt.s.w rd, x0 gives +0 in every mode
    // fcvt.d.w/wu are exact.
    const h = new TestHost();
    h.x[5] = -2;
    execFp(h, E.fcvt_d_wu(10, 5, RNE));
    execFp(h, E.fcvt_d_w(11, 5, RNE));
    assert.equal(h.frD[10], 4294967294);
    assert.equal(h.frD[11], -2);
    assert.equal(h.fflags, 0);
  });
});

// ---- exception flags ------------------------------------------------------------------------

describe('fpu exception flags', () => {
  it('OF: ±∞ or ±max-finite by mode, binary64', () => {
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [MAX_D, d(2)], [Infinity, fromD(MAX_D), fromD(MAX_D), Infinity, Infinity], OF | NX);
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [MAX_D, d(-2)], [-Infinity, -fromD(MAX_D), -Infinity, -fromD(MAX_D), -Infinity], OF | NX);
    const max = fromD(MAX_D), half = 2 ** 970; // half an ulp of max
    // max + ulp/2 is a tie: RNE rounds to even = 2^1024 → overflow.
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [MAX_D, d(half)], [Infinity, max, max, Infinity, Infinity], [OF | NX, NX, NX, OF | NX, OF | NX]);
    // max + ulp/4 rounds to max in RNE: inexact but no overflow, except in RUP.
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [MAX_D, d(half / 2)], [max, max, max, Infinity, max], [NX, NX, NX, OF | NX, NX]);
    checkModesD((rm) => E.fdiv_d(10, 1, 2, rm), [MAX_D, d(0.5)], [Infinity, max, max, Infinity, Infinity], OF | NX);
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [MAX_D, d(2), d(-max)], [max, max, max, max, max], 0);
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [MAX_D, d(1), d(half)], [Infinity, max, max, Infinity, Infinity], [OF | NX, NX, NX, OF | NX, OF | NX]);
  });

  it('OF: binary32, including fcvt.s.d', () => {
    const max = fromS(MAX_S);
    checkModesS((rm) => E.fmul_s(10, 1, 2, rm), [MAX_S, s(2)], [INF_S, MAX_S, MAX_S, INF_S, INF_S], OF | NX);
    checkModesS((rm) => E.fadd_s(10, 1, 2, rm), [0xff7fffff, s(-(2 ** 103))], [0xff800000, 0xff7fffff, 0xff800000, 0xff7fffff, 0xff800000], [OF | NX, NX, OF | NX, NX, OF | NX]);
    const sd = (x: number, want: ByMode<number>, fl: ByMode<number>): void => {
      for (const rm of MODES) {
        const t = runD(E.fcvt_s_d(10, 1, rm), [d(x)]);
        assert.equal(hex(Number(t.r & 0xffffffffn)), hex(want[rm]), `fcvt.s.d ${x} rm ${rm}`);
        assert.equal(t.fl, fl[rm], `flags fcvt.s.d ${x} rm ${rm}`);
      }
    };
    sd(1e300, [INF_S, MAX_S, MAX_S, INF_S, INF_S], [OF | NX, OF | NX, OF | NX, OF | NX, OF | NX]);
    sd(-(2 ** 128), [0xff800000, 0xff7fffff, 0xff800000, 0xff7fffff, 0xff800000], [OF | NX, OF | NX, OF | NX, OF | NX, OF | NX]);
    // Above max but below max + ulp/2: only RUP overflows (the others round to max).
    sd(max + 2 ** 102, [MAX_S, MAX_S, MAX_S, INF_S, MAX_S], [NX, NX, NX, OF | NX, NX]);
    sd(max + 2 ** 103, [INF_S, MAX_S, MAX_S, INF_S, INF_S], [OF | NX, NX, NX, OF | NX, OF | NX]);
  });

  it('UF: tininess after rounding, binary32', () => {
    // (1 − 2^-24)·2^-126 = 2^-126 − 2^-150: exactly representable with unbounded exponent, so
    // tiny; with the subnormal grid it is the tie between 2^-126 − 2^-149 and 2^-126.
    const edge = 0x007fffff, min = 0x00800000;
    checkModesS((rm) => E.fmul_s(10, 1, 2, rm), [s(1 - 2 ** -24), s(2 ** -126)], [min, edge, edge, min, min], UF | NX);
    const sd = (x: number, want: ByMode<number>, fl: ByMode<number>): void => {
      for (const rm of MODES) {
        const t = runD(E.fcvt_s_d(10, 1, rm), [d(x)]);
        assert.equal(hex(Number(t.r & 0xffffffffn)), hex(want[rm]), `fcvt.s.d ${x} rm ${rm}`);
        assert.equal(t.fl, fl[rm], `flags fcvt.s.d ${x} rm ${rm}`);
      }
    };
    // 2^-126 − 2^-151: the unbounded 24-bit rounding reaches 2^-126 in RNE, RUP, RMM: not tiny.
    sd(2 ** -126 - 2 ** -151, [min, edge, edge, min, min], [NX, UF | NX, UF | NX, NX, NX]);
    sd(2 ** -126 - 2 ** -152, [min, edge, edge, min, min], [NX, UF | NX, UF | NX, NX, NX]);
    // 2^-126 − 3·2^-152: below the unbounded midpoint 2^-126 − 2^-151, so tiny in RNE and RMM,
    // yet above the subnormal-grid midpoint 2^-126 − 2^-150, so the result is 2^-126.
    sd(2 ** -126 - 3 * 2 ** -152, [min, edge, edge, min, min], [UF | NX, UF | NX, UF | NX, NX, UF | NX]);
    sd(-(2 ** -126 - 3 * 2 ** -152), [min, edge, min, edge, min].map((b) => (b | 0x80000000) >>> 0) as ByMode<number>,
      [UF | NX, UF | NX, NX, UF | NX, UF | NX]);
    // Below the smallest subnormal: 0 or 2^-149.
    sd(2 ** -151, [0, 0, 0, 1, 0], [UF | NX, UF | NX, UF | NX, UF | NX, UF | NX]);
    sd(3 * 2 ** -151, [1, 0, 0, 1, 1], [UF | NX, UF | NX, UF | NX, UF | NX, UF | NX]);
    sd(2 ** -1074, [0, 0, 0, 1, 0], [UF | NX, UF | NX, UF | NX, UF | NX, UF | NX]); // binary64 subnormal
    // Exact subnormal results raise nothing.
    checkModesS((rm) => E.fmul_s(10, 1, 2, rm), [s(2 ** -140), s(2 ** -5)], [s(2 ** -145), s(2 ** -145), s(2 ** -145), s(2 ** -145), s(2 ** -145)], 0);
    checkModesS((rm) => E.fsub_s(10, 1, 2, rm), [0x00800001, 0x00800000], [1, 1, 1, 1, 1], 0);
    // Inexact subnormal quotient: (2^-149 · 3) / 2 → 1.5·2^-149.
    checkModesS((rm) => E.fdiv_s(10, 1, 2, rm), [3, s(2)], [2, 1, 1, 2, 2], UF | NX);
  });

  it('UF: tininess after rounding, binary64', () => {
    const min = 2 ** -1022, edge = 2 ** -1022 - 2 ** -1074;
    // (1 − 2^-53)·2^-1022: unbounded-exact, tiny; subnormal tie rounds to 2^-1022 in RNE.
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(1 - 2 ** -53), d(2 ** -1022)], [min, edge, edge, min, min], UF | NX);
    // (1 + 2^-52)·(2^-1022 − 2^-1074) = 2^-1022 − 2^-1126: the unbounded rounding is 2^-1022
    // except toward zero.
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(1 + 2 ** -52), d(edge)], [min, edge, edge, min, min], [NX, UF | NX, UF | NX, NX, NX]);
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(-(1 + 2 ** -52)), d(edge)], [-min, -edge, -min, -edge, -min], [NX, UF | NX, NX, UF | NX, NX]);
    // 2^-1022 − 3·2^-1077: tiny in RNE and RMM (below the unbounded midpoint) but rounds to 2^-1022.
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(-3 * 2 ** -540), d(2 ** -537), d(2 ** -1022)], [min, edge, edge, min, min],
      [UF | NX, UF | NX, UF | NX, NX, UF | NX]);
    // 2^-1073 / 3 = (2/3)·2^-1074: rounds to 0 or to the smallest subnormal.
    checkModesD((rm) => E.fdiv_d(10, 1, 2, rm), [d(2 ** -1000), d(3 * 2 ** 73)], [2 ** -1074, 0, 0, 2 ** -1074, 2 ** -1074], UF | NX);
    checkModesD((rm) => E.fdiv_d(10, 1, 2, rm), [d(-(2 ** -1000)), d(3 * 2 ** 74)], [-0, -0, -(2 ** -1074), -0, -0], UF | NX);
    checkModesD((rm) => E.fmadd_d(10, 1, 2, 3, rm), [d(2 ** -540), d(2 ** -540), d(2 ** -1074)],
      [2 ** -1074, 2 ** -1074, 2 ** -1074, 2 ** -1073, 2 ** -1074], UF | NX);
    // Exact subnormal results raise nothing; subnormal sums are always exact.
    checkModesD((rm) => E.fmul_d(10, 1, 2, rm), [d(2 ** -1000), d(2 ** -70)], [2 ** -1070, 2 ** -1070, 2 ** -1070, 2 ** -1070, 2 ** -1070], 0);
    checkModesD((rm) => E.fadd_d(10, 1, 2, rm), [d(3 * 2 ** -1074), d(-(2 ** -1022))], [3 * 2 ** -1074 - 2 ** -1022, 3 * 2 ** -1074 - 2 ** -1022, 3 * 2 ** -1074 - 2 ** -1022, 3 * 2 ** -1074 - 2 ** -1022, 3 * 2 ** -1074 - 2 ** -1022], 0);
  });

  it('DZ only for finite non-zero / 0', () => {
    let t = runD(E.fdiv_d(10, 1, 2, RNE), [d(1), d(0)]);
    assert.equal(t.r, INF_D);
    assert.equal(t.fl, DZ);
    t = runD(E.fdiv_d(10, 1, 2, RNE), [d(-1e-300), d(0)]);
    assert.equal(t.r, d(-Infinity));
    assert.equal(t.fl, DZ);
    t = runD(E.fdiv_d(10, 1, 2, RNE), [INF_D, d(-0)]);
    assert.equal(t.r, d(-Infinity));
    assert.equal(t.fl, 0);
    let u = runS(E.fdiv_s(10, 1, 2, RNE), [s(-2), 0x80000000]);
    assert.equal(u.r, INF_S);
    assert.equal(u.fl, DZ);
    u = runS(E.fdiv_s(10, 1, 2, RNE), [s(5), INF_S]);
    assert.equal(u.r, 0);
    assert.equal(u.fl, 0);
  });

  it('flags accumulate in fflags and are never cleared by the FPU', () => {
    const h = new TestHost();
    putD(h, 1, d(1));
    putD(h, 2, d(3));
    putD(h, 3, d(0));
    execFp(h, E.fdiv_d(4, 1, 2, RNE));
    execFp(h, E.fdiv_d(4, 1, 3, RNE));
    execFp(h, E.fadd_d(4, 1, 1, RNE));
    assert.equal(h.fflags, NX | DZ);
  });
});

// ---- min/max, compares, classify, saturation --------------------------------------------------

describe('fpu fmin/fmax', () => {
  it('−0 < +0 in both operand orders, both formats', () => {
    assert.equal(runS(E.fmin_s(10, 1, 2), [0x80000000, 0]).r, 0x80000000);
    assert.equal(runS(E.fmin_s(10, 1, 2), [0, 0x80000000]).r, 0x80000000);
    assert.equal(runS(E.fmax_s(10, 1, 2), [0x80000000, 0]).r, 0);
    assert.equal(runS(E.fmax_s(10, 1, 2), [0, 0x80000000]).r, 0);
    assert.equal(runD(E.fmin_d(10, 1, 2), [d(-0), d(0)]).r, d(-0));
    assert.equal(runD(E.fmin_d(10, 1, 2), [d(0), d(-0)]).r, d(-0));
    assert.equal(runD(E.fmax_d(10, 1, 2), [d(-0), d(0)]).r, d(0));
    assert.equal(runD(E.fmax_d(10, 1, 2), [d(0), d(-0)]).r, d(0));
  });

  it('one NaN gives the other operand; two give the canonical NaN; sNaN raises NV', () => {
    let t = runS(E.fmin_s(10, 1, 2), [QNAN_S, s(-3)]);
    assert.deepEqual([t.r, t.fl], [s(-3), 0]);
    t = runS(E.fmax_s(10, 1, 2), [s(1), SNAN_S]);
    assert.deepEqual([t.r, t.fl], [s(1), NV]);
    t = runS(E.fmax_s(10, 1, 2), [0xffc00000, SNAN_S]);
    assert.deepEqual([t.r, t.fl], [CANON_S, NV]);
    t = runS(E.fmin_s(10, 1, 2), [QNAN_S, 0xffc00000]);
    assert.deepEqual([t.r, t.fl], [CANON_S, 0]);
    let u = runD(E.fmin_d(10, 1, 2), [SNAN_D, d(-Infinity)]);
    assert.deepEqual([u.r, u.fl], [d(-Infinity), NV]);
    u = runD(E.fmax_d(10, 1, 2), [QNAN_D, QNAN_D]);
    assert.deepEqual([u.r, u.fl], [CANON_D, 0]);
    u = runD(E.fmax_d(10, 1, 2), [d(2), QNAN_D]);
    assert.deepEqual([u.r, u.fl], [d(2), 0]);
  });

  it('copies the chosen operand (subnormals and infinities included)', () => {
    assert.equal(runD(E.fmin_d(10, 1, 2), [1n, 2n]).r, 1n);
    assert.equal(runD(E.fmax_d(10, 1, 2), [d(-Infinity), 0x8000000000000001n]).r, 0x8000000000000001n);
    assert.equal(runS(E.fmax_s(10, 1, 2), [INF_S, MAX_S]).r, INF_S);
  });
});

describe('fpu compares', () => {
  it('feq is quiet, flt/fle are signaling; NaN compares false', () => {
    const cases: [string, number, number, number, number][] = [
      ['feq', QNAN_S, 0, 0, 0], ['feq', QNAN_S, QNAN_S, 0, 0], ['feq', SNAN_S, 0, 0, NV],
      ['flt', QNAN_S, 0, 0, NV], ['flt', QNAN_S, QNAN_S, 0, NV], ['flt', SNAN_S, 0, 0, NV],
      ['fle', QNAN_S, 0, 0, NV], ['fle', QNAN_S, QNAN_S, 0, NV], ['fle', SNAN_S, 0, 0, NV],
      ['feq', 0x80000000, 0, 1, 0], ['flt', 0x80000000, 0, 0, 0], ['fle', 0, 0x80000000, 1, 0],
    ];
    const enc = { feq: [E.feq_s, E.feq_d], flt: [E.flt_s, E.flt_d], fle: [E.fle_s, E.fle_d] } as const;
    for (const [op, a, b, r, fl] of cases) {
      assert.deepEqual(Object.values(runX(enc[op as 'feq'][0](10, 1, 2), [a, b])), [r, fl], `${op}.s ${hex(a)} ${hex(b)}`);
      const wide = (x: number): bigint => (x === SNAN_S ? SNAN_D : x === QNAN_S ? QNAN_D : d(fromS(x)));
      assert.deepEqual(Object.values(runX(enc[op as 'feq'][1](10, 1, 2), [wide(a), wide(b)])), [r, fl], `${op}.d`);
    }
  });

  it('riscv-tests fcmp.S (.s and .d)', () => {
    const v: [string, number, number, number][] = [
      ['feq', 1, -1.36, -1.36], ['fle', 1, -1.36, -1.36], ['flt', 0, -1.36, -1.36],
      ['feq', 0, -1.37, -1.36], ['fle', 1, -1.37, -1.36], ['flt', 1, -1.37, -1.36],
    ];
    const enc = { feq: [E.feq_s, E.feq_d], flt: [E.flt_s, E.flt_d], fle: [E.fle_s, E.fle_d] } as const;
    for (const [op, r, a, b] of v) {
      assert.deepEqual(Object.values(runX(enc[op as 'feq'][0](10, 1, 2), [s(a), s(b)])), [r, 0]);
      assert.deepEqual(Object.values(runX(enc[op as 'feq'][1](10, 1, 2), [d(a), d(b)])), [r, 0]);
    }
  });

  it('riscv-tests recoding.S: −∞ from a product equals −∞; 0·1 equals 0', () => {
    const h = new TestHost();
    putS(h, 0, s(-Infinity));
    putS(h, 1, s(3));
    execFp(h, E.fmul_s(1, 1, 0, RNE));
    putD(h, 2, d(-Infinity));
    putD(h, 3, d(3));
    execFp(h, E.fmul_d(3, 3, 2, RNE));
    const r: number[] = [];
    for (const inst of [E.feq_s(10, 0, 1), E.fle_s(10, 0, 1), E.flt_s(10, 0, 1), E.feq_d(10, 2, 3), E.fle_d(10, 2, 3), E.flt_d(10, 2, 3)]) {
      execFp(h, inst);
      r.push(h.x[10]);
    }
    assert.deepEqual(r, [1, 1, 0, 1, 1, 0]);
    execFp(h, E.fcvt_d_w(4, 0, RNE));
    h.x[10] = 1;
    execFp(h, E.fcvt_d_w(5, 10, RNE));
    execFp(h, E.fmul_d(5, 5, 4, RNE));
    execFp(h, E.feq_d(10, 4, 5));
    assert.equal(h.x[10], 1);
    // rv64ud recoding.S #10: a binary64 far below binary32 range converts to a subnormal
    // without extra precision leaking into a later product.
    putS(h, 0, s(1221));
    putD(h, 1, d(2.3860049081905093e-40));
    execFp(h, E.fcvt_s_d(1, 1, RNE));
    execFp(h, E.fmul_s(0, 0, 1, RNE));
    execFp(h, E.fmv_x_w(10, 0));
    assert.equal(h.x[10] >>> 0, s(2.9133121e-37));
  });
});

describe('fpu fclass', () => {
  const sCases: [number, number][] = [
    [0xff800000, 0], [0xbf800000, 1], [0x807fffff, 2], [0x80000000, 3], [0x00000000, 4],
    [0x007fffff, 5], [0x3f800000, 6], [0x7f800000, 7], [0x7f800001, 8], [0x7fc00000, 9],
  ];
  const dCases: [bigint, number][] = [
    [0xfff0000000000000n, 0], [0xbff0000000000000n, 1], [0x800fffffffffffffn, 2], [0x8000000000000000n, 3],
    [0x0000000000000000n, 4], [0x000fffffffffffffn, 5], [0x3ff0000000000000n, 6], [0x7ff0000000000000n, 7],
    [0x7ff0000000000001n, 8], [0x7ff8000000000000n, 9],
  ];
  it('all ten classes, binary32 (riscv-tests fclass.S)', () => {
    for (const [bits, cls] of sCases) assert.deepEqual(Object.values(runX(E.fclass_s(10, 1), [bits])), [1 << cls, 0], hex(bits));
    assert.equal(runX(E.fclass_s(10, 1), [0xffbfffff]).r, 1 << 8); // negative signaling NaN
    assert.equal(runX(E.fclass_s(10, 1), [0xffffffff]).r, 1 << 9);
  });
  it('all ten classes, binary64 (riscv-tests fclass.S)', () => {
    for (const [bits, cls] of dCases) assert.deepEqual(Object.values(runX(E.fclass_d(10, 1), [bits])), [1 << cls, 0], hex(bits));
    assert.equal(runX(E.fclass_d(10, 1), [0xfff7ffffffffffffn]).r, 1 << 8);
    assert.equal(runX(E.fclass_d(10, 1), [0xffffffff3f800000n]).r, 1 << 9); // a boxed single is a quiet NaN
  });
});

describe('fpu fcvt to integer: the saturation table', () => {
  // F chapter, "Domains of float-to-integer conversions and behavior for invalid inputs".
  const table: [string, number, number, number, number][] = [
    // label, input, fcvt.w result, fcvt.wu result, flags (same for both unless noted below)
    ['+NaN', NaN, 0x7fffffff, -1, NV],
    ['+∞', Infinity, 0x7fffffff, -1, NV],
    ['−∞', -Infinity, -0x80000000, 0, NV],
    ['3e9', 3e9, 0x7fffffff, -1294967296, NV], // fcvt.wu.d 3e9 = 3000000000 is valid (flags 0)
    ['−3e9', -3e9, -0x80000000, 0, NV],
    ['2^32', 2 ** 32, 0x7fffffff, -1, NV],
    ['1e300', 1e300, 0x7fffffff, -1, NV],
  ];
  it('binary64 and binary32 sources', () => {
    for (const [label, x, w, wu, fl] of table) {
      const tw = runX(E.fcvt_w_d(10, 1, RTZ), [d(x)]);
      assert.deepEqual([tw.r, tw.fl], [w, fl], `fcvt.w.d ${label}`);
      const tu = runX(E.fcvt_wu_d(10, 1, RTZ), [d(x)]);
      assert.deepEqual([tu.r, tu.fl], [wu, label === '3e9' ? 0 : fl], `fcvt.wu.d ${label}`);
      const fx = Math.fround(x);
      const sw = runX(E.fcvt_w_s(10, 1, RTZ), [s(x)]);
      assert.deepEqual([sw.r, sw.fl], [w, fl], `fcvt.w.s ${label}`);
      const su = runX(E.fcvt_wu_s(10, 1, RTZ), [s(x)]);
      const validU = fx >= 0 && fx < 2 ** 32;
      assert.deepEqual([su.r, su.fl], [validU ? fx | 0 : wu, validU ? 0 : fl], `fcvt.wu.s ${label}`);
    }
  });
  it('negative NaNs saturate like positive ones (riscv-tests fcvt_w.S #42, #62)', () => {
    assert.deepEqual(Object.values(runX(E.fcvt_w_s(10, 1, RNE), [0xffffffff])), [0x7fffffff, NV]);
    assert.deepEqual(Object.values(runX(E.fcvt_wu_s(10, 1, RNE), [0xffffffff])), [-1, NV]);
    assert.deepEqual(Object.values(runX(E.fcvt_w_d(10, 1, RNE), [0xffffffffffffffffn])), [0x7fffffff, NV]);
    assert.deepEqual(Object.values(runX(E.fcvt_wu_d(10, 1, RNE), [0xffffffffffffffffn])), [-1, NV]);
  });
  it('the exact extremes are valid', () => {
    assert.deepEqual(Object.values(runX(E.fcvt_w_d(10, 1, RNE), [d(-2147483648)])), [-2147483648, 0]);
    assert.deepEqual(Object.values(runX(E.fcvt_w_d(10, 1, RNE), [d(2147483647)])), [2147483647, 0]);
    assert.deepEqual(Object.values(runX(E.fcvt_wu_d(10, 1, RNE), [d(4294967295)])), [-1, 0]);
    assert.deepEqual(Object.values(runX(E.fcvt_w_s(10, 1, RNE), [s(-(2 ** 31))])), [-2147483648, 0]);
    assert.deepEqual(Object.values(runX(E.fcvt_w_s(10, 1, RNE), [s(2 ** 31)])), [0x7fffffff, NV]);
    assert.deepEqual(Object.values(runX(E.fcvt_wu_s(10, 1, RNE), [0x4f7fffff])), [0xffffff00 | 0, 0]);
    assert.deepEqual(Object.values(runX(E.fcvt_w_d(10, 1, RTZ), [1n])), [0, NX]); // smallest subnormal
  });
});

// ---- riscv-tests vectors ---------------------------------------------------------------------

describe('riscv-tests rv64uf/rv64ud vectors (RV32 parts)', () => {
  type Op2 = [string, number, number, number, number]; // name, flags, result, a, b
  const op2S: Op2[] = [
    // fadd.S
    ['fadd', 0, 3.5, 2.5, 1.0], ['fadd', 1, -1234, -1235.1, 1.1], ['fadd', 1, 3.14159265, 3.14159265, 0.00000001],
    ['fsub', 0, 1.5, 2.5, 1.0], ['fsub', 1, -1234, -1235.1, -1.1], ['fsub', 1, 3.14159265, 3.14159265, 0.00000001],
    ['fmul', 0, 2.5, 2.5, 1.0], ['fmul', 1, 1358.61, -1235.1, -1.1], ['fmul', 1, 3.14159265e-8, 3.14159265, 0.00000001],
    // fdiv.S
    ['fdiv', 1, 1.1557273520668288, 3.14159265, 2.71828182], ['fdiv', 1, -0.9991093838555584, -1234, 1235.1],
    ['fdiv', 0, 3.14159265, 3.14159265, 1.0],
    // fmin.S
    ['fmin', 0, 1.0, 2.5, 1.0], ['fmin', 0, -1235.1, -1235.1, 1.1], ['fmin', 0, -1235.1, 1.1, -1235.1],
    ['fmin', 0, -1235.1, NaN, -1235.1], ['fmin', 0, 0.00000001, 3.14159265, 0.00000001], ['fmin', 0, -2.0, -1.0, -2.0],
    ['fmax', 0, 2.5, 2.5, 1.0], ['fmax', 0, 1.1, -1235.1, 1.1], ['fmax', 0, 1.1, 1.1, -1235.1],
    ['fmax', 0, -1235.1, NaN, -1235.1], ['fmax', 0, 3.14159265, 3.14159265, 0.00000001], ['fmax', 0, -1.0, -1.0, -2.0],
    ['fmin', 0, -0.0, -0.0, 0.0], ['fmin', 0, -0.0, 0.0, -0.0], ['fmax', 0, 0.0, -0.0, 0.0], ['fmax', 0, 0.0, 0.0, -0.0],
  ];
  const op2D: Op2[] = [
    ['fadd', 0, 3.5, 2.5, 1.0], ['fadd', 1, -1234, -1235.1, 1.1], ['fadd', 1, 3.14159266, 3.14159265, 0.00000001],
    ['fsub', 0, 1.5, 2.5, 1.0], ['fsub', 1, -1234, -1235.1, -1.1], ['fsub', 1, 3.1415926400000001, 3.14159265, 0.00000001],
    ['fmul', 0, 2.5, 2.5, 1.0], ['fmul', 1, 1358.61, -1235.1, -1.1], ['fmul', 1, 3.14159265e-8, 3.14159265, 0.00000001],
    ['fdiv', 1, 1.1557273520668288, 3.14159265, 2.71828182], ['fdiv', 1, -0.9991093838555584, -1234, 1235.1],
    ['fdiv', 0, 3.14159265, 3.14159265, 1.0],
    ['fmin', 0, 1.0, 2.5, 1.0], ['fmin', 0, -1235.1, -1235.1, 1.1], ['fmin', 0, -1235.1, 1.1, -1235.1],
    ['fmin', 0, -1235.1, NaN, -1235.1], ['fmin', 0, 0.00000001, 3.14159265, 0.00000001], ['fmin', 0, -2.0, -1.0, -2.0],
    ['fmax', 0, 2.5, 2.5, 1.0], ['fmax', 0, 1.1, -1235.1, 1.1], ['fmax', 0, 1.1, 1.1, -1235.1],
    ['fmax', 0, -1235.1, NaN, -1235.1], ['fmax', 0, 3.14159265, 3.14159265, 0.00000001], ['fmax', 0, -1.0, -1.0, -2.0],
    ['fmin', 0, -0.0, -0.0, 0.0], ['fmin', 0, -0.0, 0.0, -0.0], ['fmax', 0, 0.0, -0.0, 0.0], ['fmax', 0, 0.0, 0.0, -0.0],
  ];
  const encS: Record<string, (rd: number, a: number, b: number) => number> = {
    fadd: (r, a, b) => E.fadd_s(r, a, b), fsub: (r, a, b) => E.fsub_s(r, a, b), fmul: (r, a, b) => E.fmul_s(r, a, b),
    fdiv: (r, a, b) => E.fdiv_s(r, a, b), fmin: E.fmin_s, fmax: E.fmax_s,
  };
  const encD: Record<string, (rd: number, a: number, b: number) => number> = {
    fadd: (r, a, b) => E.fadd_d(r, a, b), fsub: (r, a, b) => E.fsub_d(r, a, b), fmul: (r, a, b) => E.fmul_d(r, a, b),
    fdiv: (r, a, b) => E.fdiv_d(r, a, b), fmin: E.fmin_d, fmax: E.fmax_d,
  };

  it('fadd/fsub/fmul/fdiv/fmin/fmax .s', () => {
    for (const [op, fl, r, a, b] of op2S) {
      const t = runS(encS[op](10, 1, 2), [s(a), s(b)]); // rm = DYN, frm = RNE, as the tests run
      assert.deepEqual([hex(t.r), t.fl], [hex(s(r)), fl], `${op}.s ${a} ${b}`);
    }
    // Inf − Inf is the canonical NaN; FMAX(sNaN, x) = x with NV; FMAX(qNaN, qNaN) canonical.
    assert.deepEqual(Object.values(runS(E.fsub_s(10, 1, 2), [INF_S, INF_S])).slice(0, 2), [CANON_S, NV]);
    assert.deepEqual(Object.values(runS(E.fmax_s(10, 1, 2), [SNAN_S, s(1)])).slice(0, 2), [s(1), NV]);
    assert.deepEqual(Object.values(runS(E.fmax_s(10, 1, 2), [s(NaN), s(NaN)])).slice(0, 2), [CANON_S, 0]);
  });

  it('fadd/fsub/fmul/fdiv/fmin/fmax .d', () => {
    for (const [op, fl, r, a, b] of op2D) {
      const t = runD(encD[op](10, 1, 2), [d(a), d(b)]);
      assert.deepEqual([hex(t.r), t.fl], [hex(d(r)), fl], `${op}.d ${a} ${b}`);
    }
    assert.deepEqual(Object.values(runD(E.fsub_d(10, 1, 2), [INF_D, INF_D])).slice(0, 2), [CANON_D, NV]);
    assert.deepEqual(Object.values(runD(E.fmax_d(10, 1, 2), [SNAN_D, d(1)])).slice(0, 2), [d(1), NV]);
  });

  it('fsqrt .s/.d (fdiv.S)', () => {
    const v: [number, number, number][] = [[1, 1.7724538498928541, 3.14159265], [0, 100, 10000], [1, 13.076696, 171.0]];
    for (const [fl, r, a] of v) assert.deepEqual(Object.values(runS(E.fsqrt_s(10, 1), [s(a)])).slice(0, 2), [s(r), fl]);
    const vd: [number, number, number][] = [[1, 1.7724538498928541, 3.14159265], [0, 100, 10000], [1, 13.076696830622021, 171.0],
      [1, 0.00040099251863345283320230749702, 1.60795e-7]];
    for (const [fl, r, a] of vd) assert.deepEqual(Object.values(runD(E.fsqrt_d(10, 1), [d(a)])).slice(0, 2), [d(r), fl]);
    assert.deepEqual(Object.values(runS(E.fsqrt_s(10, 1), [s(-1)])).slice(0, 2), [CANON_S, NV]);
    assert.deepEqual(Object.values(runD(E.fsqrt_d(10, 1), [d(-1)])).slice(0, 2), [CANON_D, NV]);
  });

  it('fmadd/fnmadd/fmsub/fnmsub .s/.d (fmadd.S)', () => {
    type Op3 = [string, number, number, number, number, number, number]; // name, flS, rS, rD, a, b, c
    const v: Op3[] = [
      ['fmadd', 0, 3.5, 3.5, 1.0, 2.5, 1.0], ['fmadd', 1, 1236.2, 1236.1999999999999, -1.0, -1235.1, 1.1], ['fmadd', 0, -12.0, -12.0, 2.0, -5.0, -2.0],
      ['fnmadd', 0, -3.5, -3.5, 1.0, 2.5, 1.0], ['fnmadd', 1, -1236.2, -1236.1999999999999, -1.0, -1235.1, 1.1], ['fnmadd', 0, 12.0, 12.0, 2.0, -5.0, -2.0],
      ['fmsub', 0, 1.5, 1.5, 1.0, 2.5, 1.0], ['fmsub', 1, 1234, 1234, -1.0, -1235.1, 1.1], ['fmsub', 0, -8.0, -8.0, 2.0, -5.0, -2.0],
      ['fnmsub', 0, -1.5, -1.5, 1.0, 2.5, 1.0], ['fnmsub', 1, -1234, -1234, -1.0, -1235.1, 1.1], ['fnmsub', 0, 8.0, 8.0, 2.0, -5.0, -2.0],
    ];
    const enc = {
      fmadd: [E.fmadd_s, E.fmadd_d], fnmadd: [E.fnmadd_s, E.fnmadd_d], fmsub: [E.fmsub_s, E.fmsub_d], fnmsub: [E.fnmsub_s, E.fnmsub_d],
    } as const;
    for (const [op, fl, rS, rD, a, b, c] of v) {
      const [es, ed] = enc[op as 'fmadd'];
      assert.deepEqual(Object.values(runS(es(10, 1, 2, 3), [s(a), s(b), s(c)])).slice(0, 2), [s(rS), fl], `${op}.s`);
      assert.deepEqual(Object.values(runD(ed(10, 1, 2, 3), [d(a), d(b), d(c)])).slice(0, 2), [d(rD), fl], `${op}.d`);
    }
  });

  it('fcvt_w.S (.s and .d, rtz)', () => {
    // name, flags, result, input
    const v: [string, number, number, number][] = [
      ['w', 0x01, -1, -1.1], ['w', 0x00, -1, -1.0], ['w', 0x01, 0, -0.9], ['w', 0x01, 0, 0.9], ['w', 0x00, 1, 1.0],
      ['w', 0x01, 1, 1.1], ['w', 0x10, -(2 ** 31), -3e9], ['w', 0x10, 2 ** 31 - 1, 3e9],
      ['wu', 0x10, 0, -3.0], ['wu', 0x10, 0, -1.0], ['wu', 0x01, 0, -0.9], ['wu', 0x01, 0, 0.9], ['wu', 0x00, 1, 1.0],
      ['wu', 0x01, 1, 1.1], ['wu', 0x10, 0, -3e9], ['wu', 0x00, 3000000000, 3e9],
    ];
    for (const [k, fl, r, x] of v) {
      const [es, ed] = k === 'w' ? [E.fcvt_w_s, E.fcvt_w_d] : [E.fcvt_wu_s, E.fcvt_wu_d];
      assert.deepEqual(Object.values(runX(es(10, 1, RTZ), [s(x)])), [r | 0, fl], `fcvt.${k}.s ${x}`);
      assert.deepEqual(Object.values(runX(ed(10, 1, RTZ), [d(x)])), [r | 0, fl], `fcvt.${k}.d ${x}`);
    }
    // NaN and infinity inputs: tdat = −NaN, NaN, −∞, +∞.
    const tdat = [0xffffffff, 0x7fffffff, 0xff800000, 0x7f800000];
    const tdatD = [0xffffffffffffffffn, 0x7fffffffffffffffn, 0xfff0000000000000n, 0x7ff0000000000000n];
    const wantW = [0x7fffffff, 0x7fffffff, -(2 ** 31), 0x7fffffff], wantWU = [-1, -1, 0, -1];
    for (let i = 0; i < 4; i++) {
      assert.equal(runX(E.fcvt_w_s(10, 1), [tdat[i]]).r, wantW[i]);
      assert.equal(runX(E.fcvt_wu_s(10, 1), [tdat[i]]).r, wantWU[i]);
      assert.equal(runX(E.fcvt_w_d(10, 1), [tdatD[i]]).r, wantW[i]);
      assert.equal(runX(E.fcvt_wu_d(10, 1), [tdatD[i]]).r, wantWU[i]);
    }
  });

  it('fcvt.S (.s and .d)', () => {
    const h = new TestHost();
    h.x[5] = 2;
    h.x[6] = -2;
    execFp(h, E.fcvt_s_w(10, 5));
    execFp(h, E.fcvt_s_w(11, 6));
    execFp(h, E.fcvt_s_wu(12, 5));
    execFp(h, E.fcvt_s_wu(13, 6));
    assert.deepEqual([10, 11, 12, 13].map((r) => regS(h, r)), [s(2), s(-2), s(2), s(4.2949673e9)]);
    execFp(h, E.fcvt_d_w(14, 5));
    execFp(h, E.fcvt_d_w(15, 6));
    execFp(h, E.fcvt_d_wu(16, 5));
    execFp(h, E.fcvt_d_wu(17, 6));
    assert.deepEqual([14, 15, 16, 17].map((r) => h.frD[r]), [2, -2, 2, 4294967294]);
    putD(h, 1, d(-1.5));
    execFp(h, E.fcvt_s_d(2, 1));
    assert.equal(regS(h, 2), s(-1.5));
    execFp(h, E.fcvt_d_s(3, 2));
    assert.equal(h.frD[3], -1.5);
  });

  it('move.S and fsgnj.S (.s and .d)', () => {
    const t = (inst: (rd: number, a: number, b: number) => number, a: number, b: number): number => {
      const h = new TestHost();
      h.x[11] = a | 0;
      h.x[12] = b | 0;
      execFp(h, E.fmv_w_x(0, 11));
      execFp(h, E.fmv_w_x(2, 12));
      execFp(h, inst(1, 0, 2));
      execFp(h, E.fmv_x_w(10, 1));
      return h.x[10] >>> 0;
    };
    assert.equal(t(E.fsgnj_s, 0xbf812345, 0xbf812345), 0xbf812345);
    assert.equal(t(E.fsgnjx_s, 0xcba98765, 0xcba98765), 0x4ba98765);
    assert.equal(t(E.fsgnjn_s, 0xdeadbeef, 0xdeadbeef), 0x5eadbeef);
    // fsgnj.S: sign from rs2, all other bits from rs1.
    const sg: [typeof E.fsgnj_s, number, number, number][] = [
      [E.fsgnj_s, -6.3, -4.0, -6.3], [E.fsgnj_s, 6.3, 4.0, 6.3], [E.fsgnj_s, -6.3, 4.0, 6.3], [E.fsgnj_s, 6.3, -4.0, -6.3],
      [E.fsgnjn_s, -6.3, -4.0, 6.3], [E.fsgnjn_s, 6.3, 4.0, -6.3], [E.fsgnjn_s, -6.3, 4.0, -6.3], [E.fsgnjn_s, 6.3, -4.0, 6.3],
      [E.fsgnjx_s, -6.3, -4.0, 6.3], [E.fsgnjx_s, 6.3, 4.0, 6.3], [E.fsgnjx_s, -6.3, 4.0, -6.3], [E.fsgnjx_s, 6.3, -4.0, -6.3],
    ];
    for (const [inst, a, b, r] of sg) assert.equal(t(inst, s(a), s(b)), s(r));
    const sgD: [typeof E.fsgnj_d, number, number, number][] = [
      [E.fsgnj_d, -6.3, -4.0, -6.3], [E.fsgnj_d, -6.3, 4.0, 6.3], [E.fsgnjn_d, 6.3, 4.0, -6.3],
      [E.fsgnjn_d, -6.3, 4.0, -6.3], [E.fsgnjx_d, -6.3, -4.0, 6.3], [E.fsgnjx_d, 6.3, -4.0, -6.3],
    ];
    for (const [inst, a, b, r] of sgD) {
      const x = runD(inst(10, 1, 2), [d(a), d(b)]);
      assert.deepEqual([x.r, x.fl], [d(r), 0]);
    }
    // move.S #10: fsgnj.d takes the sign of rs2 = −1 (all ones) and keeps rs1's payload bits.
    assert.equal(runD(E.fsgnj_d(10, 1, 2), [0x3ff02468a0001000n, 0xffffffffffffffffn]).r, 0xbff02468a0001000n);
    // Sign injection never canonicalizes NaNs nor raises flags.
    const n = runD(E.fsgnjn_d(10, 1, 1), [SNAN_D]);
    assert.deepEqual([n.r, n.fl], [SNAN_D | (1n << 63n), 0]);
    const m = runS(E.fsgnjx_s(10, 1, 2), [0x7f812345, 0x80000000]);
    assert.deepEqual([m.r, m.fl], [0xff812345, 0]);
  });
});
