// Translation of one function: the instruction loop that dispatches each wasm operator to the
// code generator (codegen.ts and the ops-*.ts files), plus the long-branch retry loop (asm.ts).
//
// Unreachable code (after br, br_table, return, unreachable; spec 3.3.8 "stack-polymorphic")
// emits nothing: only the block structure is followed until the enclosing end/else.

import * as E from '../rv32/encode.ts';
import { FnGen, I32, K_CONST, K_LOCAL, type FnCode, type Intrinsic, type ModuleInfo } from './codegen.ts';
import { I64, funcName } from './module.ts';
import { opName } from './opcodes.ts';
import { genI32 } from './ops-int.ts';
import { genI64 } from './ops-i64.ts';
import { genFloat } from './ops-float.ts';
import { genMem } from './ops-mem.ts';
import { DATA_OPCOUNT, DATA_SYSRES, RA, T0, T1, T2, TP } from './regs.ts';

/** The unprivileged counter CSRs `time`/`timeh` (privileged spec 2.2; U-mode reads them when
 *  the kernel sets the TM bit of mcounteren and scounteren). */
const CSR_TIME = 0xc01;
const CSR_TIMEH = 0xc81;

/** Generate function `fnIndex` (a defined function). */
export function compileFunction(mi: ModuleInfo, fnIndex: number): FnCode {
  let long = new Set<number>();
  for (let attempt = 0; attempt < 20; attempt++) {
    const g = new FnGen(mi, fnIndex, long);
    generate(g);
    if (g.asm.tooFar.size === 0) return g.finish(g.asm.words);
    long = new Set([...long, ...g.asm.tooFar]);
  }
  throw new Error(`wasm2rv: internal: branch relaxation did not converge in function ${fnIndex}`);
}

/** Control instructions: they end a straight-line segment (for operator counting). */
const SEGMENT_END = new Set([0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x00]);
/** Structural markers that produce no work of their own: not counted as operators. */
const NOT_COUNTED = new Set([0x01, 0x02, 0x03, 0x05, 0x0b]);

/**
 * Operator counting (CompileOptions.countOps, for bench/toolchain.ts): at the start of every
 * straight-line segment, add the number of wasm operators the segment executes to a 32-bit
 * counter at DATA_BASE + DATA_OPCOUNT. Only the counting build has this code.
 */
function countSegment(g: FnGen, from: number): void {
  let n = 0;
  for (let i = from; i < g.code.length; i++) {
    const op = g.code[i].op;
    if (!NOT_COUNTED.has(op)) n++;
    if (SEGMENT_END.has(op)) break;
  }
  if (n === 0) return;
  const a = g.asm;
  a.emit(E.lw(T0, TP, DATA_OPCOUNT - 0x800));
  for (let left = n; left > 0; left -= 2047) a.emit(E.addi(T0, T0, Math.min(left, 2047)));
  a.emit(E.sw(T0, TP, DATA_OPCOUNT - 0x800));
}

function generate(g: FnGen): void {
  const code = g.code;
  g.pushCtrl(4, g.type.results.length ? g.type.results[0] : 0x40);
  let segmentStart = g.mi.countOps;
  for (g.pc = 0; g.pc < code.length; g.pc++) {
    const ins = code[g.pc];
    g.ins = ins;
    const op = ins.op;
    if (segmentStart && !g.unreachable) countSegment(g, g.pc);
    segmentStart = g.mi.countOps && SEGMENT_END.has(op);
    if (g.unreachable) {
      // Only structure matters in dead code.
      if (op === 0x02 || op === 0x03 || op === 0x04) g.pushCtrl(op === 0x02 ? 0 : op === 0x03 ? 1 : 2, ins.bt);
      else if (op === 0x05) g.elseArm();
      else if (op === 0x0b) g.end();
      continue;
    }
    if (!dispatch(g, op)) {
      throw new Error(`wasm2rv: internal: no code generator for ${opName(op)} in function ${g.fnIndex} '${funcName(g.mi.m, g.fnIndex)}' at offset 0x${ins.off.toString(16)}`);
    }
    if (g.skipNext) {
      g.skipNext = false;
      g.pc++;
      segmentStart = g.mi.countOps && SEGMENT_END.has(code[g.pc].op);
    }
  }
}

function dispatch(g: FnGen, op: number): boolean {
  const ins = g.ins;
  switch (op) {
    case 0x00: g.trap('unreachable'); g.setUnreachable(); return true;
    case 0x01: return true;
    case 0x02: g.enter(0, ins.bt, null); return true;
    case 0x03: g.enter(1, ins.bt, null); return true;
    case 0x04: {
      // The condition register stays allocated until the branch is emitted: entering the
      // block may move values and must not reuse it.
      const c = g.pop();
      const cond = g.condOf(c);
      g.enter(2, ins.bt, cond);
      g.free(c);
      return true;
    }
    case 0x05: g.elseArm(); return true;
    case 0x0b: g.end(); return true;
    case 0x0c: g.br(ins.a); g.setUnreachable(); return true;
    case 0x0d: {
      const c = g.pop();
      const [cc, r1, r2] = g.condOf(c);
      g.brIf(ins.a, cc, r1, r2);
      g.free(c);
      return true;
    }
    case 0x0e: g.brTable(ins.targets!); return true;
    case 0x0f: g.br(g.ctrls.length - 1); g.setUnreachable(); return true;
    case 0x10: callDirect(g, ins.a); return true;
    case 0x11: callIndirect(g, ins.a); return true;
    case 0x1a: g.free(g.pop()); return true;
    case 0x1b: select(g); return true;
    case 0x20: g.push({ t: g.localTypes[ins.a], k: K_LOCAL, a: ins.a, b: 0 }); return true;
    case 0x21: case 0x22: {
      const v = g.pop();
      const idx = ins.a;
      g.materializeLocal(idx);
      const h = g.homes[idx];
      g.checked.delete(idx);
      if (!(v.k === K_LOCAL && v.a === idx)) {
        if (h.r >= 0) g.moveToReg(v, h.r, h.r2);
        else g.storeVal(v, h.off);
      }
      g.free(v);
      if (op === 0x22) g.push({ t: v.t, k: K_LOCAL, a: idx, b: 0 });
      return true;
    }
  }
  return genI32(g, op) || genI64(g, op) || genFloat(g, op) || genMem(g, op);
}

function callDirect(g: FnGen, f: number): void {
  const m = g.mi.m;
  const sig = m.types[m.funcTypes[f]];
  if (f < m.numImportedFuncs) {
    const intr = g.mi.intrinsics.get(f);
    if (intr !== undefined) { intrinsic(g, intr); return; }
    const num = g.mi.importCalls.get(f)!;
    const isSys = g.mi.sysImports.has(f);
    g.call(sig, () => {
      g.asm.li(17, num); // a7 = call number
      g.asm.emit(E.ecall());
      // An `l4` system call: keep a1..a6 for l4.res (RtData.SysRes).
      if (isSys) for (let i = 1; i <= 6; i++) g.asm.emit(E.sw(10 + i, TP, DATA_SYSRES - 0x800 + 4 * (i - 1)));
    });
    return;
  }
  g.call(sig, () => g.asm.call(f));
}

/**
 * The `l4` intrinsics, inline (docs/WASM2RV.md "l4 imports"):
 *   res(i)        a_i as the last system call returned it, i = 1..6 (RtData.SysRes); any other
 *                 i gives 0 (the index is bounded: the load never leaves the block)
 *   peek(addr)    lw from any user address (the MMU checks it like any load)
 *   poke(addr, v) sw to any user address
 *   time()        the 64-bit `time` CSR (mtime ticks): rdtimeh, rdtime, rdtimeh again until both
 *                 high halves agree (a carry out of the low word between the reads)
 * They are not trap sites: a fault there is an ordinary fault of the program, not a wasm trap.
 */
function intrinsic(g: FnGen, kind: Intrinsic): void {
  const a = g.asm;
  switch (kind) {
    case 'res': {
      const v = g.pop();
      if (v.k === K_CONST) {
        const d = g.dest(I32);
        const i = v.a | 0;
        if (i >= 1 && i <= 6) a.emit(E.lw(d.r, TP, DATA_SYSRES - 0x800 + 4 * (i - 1)));
        else a.li(d.r, 0);
        g.done(d);
        return;
      }
      // Registers first (allocation may spill through t0), then t0/t1 hold the index and mask.
      const d = g.dest(I32);
      const r = g.reg(v);
      a.emit(E.addi(T0, r, -1));
      a.emit(E.sltiu(T1, T0, 6)); // 1 when 1 <= i <= 6
      a.emit(E.sub(T1, 0, T1)); // all ones when valid
      a.emit(E.and(T0, T0, T1)); // index, or 0
      a.emit(E.slli(T0, T0, 2));
      a.emit(E.add(T0, T0, TP));
      a.emit(E.lw(d.r, T0, DATA_SYSRES - 0x800));
      a.emit(E.and(d.r, d.r, T1));
      g.free(v);
      g.done(d);
      return;
    }
    case 'peek': {
      const v = g.pop();
      const d = g.dest(I32);
      const r = g.reg(v);
      a.emit(E.lw(d.r, r, 0));
      g.free(v);
      g.done(d);
      return;
    }
    case 'poke': {
      const val = g.pop();
      const addr = g.pop();
      const rv = g.reg(val);
      const ra = g.reg(addr);
      a.emit(E.sw(rv, ra, 0));
      g.free(val);
      g.free(addr);
      return;
    }
    case 'time': {
      const d = g.dest(I64);
      const again = a.label();
      a.bind(again);
      a.emit(E.csrrs(d.r2, CSR_TIMEH, 0));
      a.emit(E.csrrs(d.r, CSR_TIME, 0));
      a.emit(E.csrrs(T0, CSR_TIMEH, 0));
      a.branch('ne', d.r2, T0, again);
      g.done(d);
      return;
    }
  }
}

/**
 * call_indirect (spec 4.4.8): bounds check against the table size, signature check against
 * the canonical signature id (null entries hold id -1), then jalr through t2, which nothing in
 * the argument set-up touches. Table entries are [code address, signature id] pairs in
 * read-only data.
 */
function callIndirect(g: FnGen, typeIndex: number): void {
  const a = g.asm;
  const sig = g.mi.m.types[typeIndex];
  const idx = g.pop();
  const r = g.reg(idx);
  a.li(T0, g.mi.tableSize);
  g.trapUnless('ltu', r, T0, 'oob_table');
  a.emit(E.slli(T0, r, 3));
  a.li(T1, g.mi.tableAddr);
  a.emit(E.add(T0, T0, T1));
  a.emit(E.lw(T1, T0, 4));
  a.li(T2, g.mi.sigIds[typeIndex]);
  g.trapUnless('eq', T1, T2, 'indirect_call_mismatch');
  a.emit(E.lw(T2, T0, 0));
  g.free(idx);
  g.call(sig, () => a.emit(E.jalr(RA, T2, 0)));
}

/** select (spec 4.4.4): result = cond ? v1 : v2. */
function select(g: FnGen): void {
  const a = g.asm;
  const c = g.pop();
  const v2 = g.pop();
  const v1 = g.pop();
  const [cc, r1, r2] = g.condOf(c);
  const d = g.dest(v1.t, false);
  const skip = a.label();
  g.moveToReg(v1, d.r, d.r2);
  a.branch(cc, r1, r2, skip);
  g.moveToReg(v2, d.r, d.r2);
  a.bind(skip);
  g.free(c);
  g.free(v1);
  g.free(v2);
  g.done(d);
}
