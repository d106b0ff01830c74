// i32 operators (WebAssembly 2.0, section 4.3.2 "Integer Operations") on RV32IM.
//
// RV32 shifts use the low 5 bits of the count, exactly wasm's `k mod 32` (4.3.2 ishl/ishr).
// RV32M division never traps: the wasm traps (divide by zero, INT_MIN / -1 for div_s) are
// explicit checks; rem_s(INT_MIN, -1) = 0 and RISC-V agrees (unprivileged spec 13.2, table 13.1).
// Comparisons directly followed by br_if or if become a single conditional branch.

import * as E from '../rv32/encode.ts';
import type { Cond } from './asm.ts';
import { FnGen, K_CONST, type Val, I32, T0, T1 } from './codegen.ts';

const imm12 = (v: number): boolean => v >= -2048 && v < 2048;

/** Branch condition of each i32/i64 comparison opcode offset (eq..ge_u), operands (a, b). */
export const CMP: [Cond, boolean][] = [
  ['eq', false], ['ne', false], ['lt', false], ['ltu', false], ['lt', true], ['ltu', true],
  ['ge', true], ['geu', true], ['ge', false], ['geu', false],
];

/** When the next instruction is br_if or if, emit it fused with condition (c, r1, r2). */
export function fuseBranch(g: FnGen, cond: () => [Cond, number, number], operands: Val[]): boolean {
  const next = g.code[g.pc + 1];
  if (next === undefined || (next.op !== 0x0d && next.op !== 0x04)) return false;
  g.skipNext = true;
  if (next.op === 0x0d) {
    const c = cond();
    g.brIf(next.a, c[0], c[1], c[2]);
    for (const v of operands) g.free(v);
  } else {
    // `if` moves the rest of the stack first; the operands are already popped and held.
    g.canonicalize();
    const c = cond();
    g.ins = next;
    g.enter(2, next.bt, c);
    for (const v of operands) g.free(v);
  }
  return true;
}

export function genI32(g: FnGen, op: number): boolean {
  const a = g.asm;
  if (op === 0x41) {
    g.push({ t: I32, k: K_CONST, a: g.ins.a, b: 0 });
    return true;
  }
  if (op === 0x45) { // i32.eqz
    const v = g.pop();
    if (fuseBranch(g, () => ['eq', g.reg(v), 0], [v])) return true;
    const r = g.reg(v);
    g.free(v);
    const d = g.dest(I32);
    a.emit(E.sltiu(d.r, r, 1));
    g.done(d);
    return true;
  }
  if (op >= 0x46 && op <= 0x4f) { // comparisons
    const y = g.pop();
    const x = g.pop();
    const [cond, swap] = CMP[op - 0x46];
    if (fuseBranch(g, () => (swap ? [cond, g.reg(y), g.reg(x)] : [cond, g.reg(x), g.reg(y)]), [x, y])) return true;
    compareToValue(g, op - 0x46, x, y);
    return true;
  }
  switch (op) {
    case 0x67: case 0x68: case 0x69: unaryBits(g, op); return true;
    case 0x6a: case 0x6b: case 0x6c: case 0x71: case 0x72: case 0x73: case 0x74: case 0x75: case 0x76:
      binary(g, op);
      return true;
    case 0x6d: case 0x6e: case 0x6f: case 0x70: division(g, op); return true;
    case 0x77: case 0x78: rotate(g, op === 0x77); return true;
    case 0xc0: case 0xc1: { // extend8_s / extend16_s (sign-extension proposal)
      const v = g.pop();
      const r = g.reg(v);
      g.free(v);
      const sh = op === 0xc0 ? 24 : 16;
      const d = g.dest(I32, false);
      a.emit(E.slli(T0, r, sh));
      a.emit(E.srai(d.r, T0, sh));
      g.done(d);
      return true;
    }
  }
  return false;
}

function compareToValue(g: FnGen, k: number, x: Val, y: Val): void {
  const a = g.asm;
  // Immediate forms for a constant right operand.
  if (y.k === K_CONST && imm12(y.a) && (k === 2 || k === 3)) {
    const r = g.reg(x);
    g.free(x);
    const d = g.dest(I32);
    a.emit(k === 2 ? E.slti(d.r, r, y.a) : E.sltiu(d.r, r, y.a));
    g.done(d);
    return;
  }
  if (y.k === K_CONST && imm12(y.a) && (k === 0 || k === 1)) {
    const r = g.reg(x);
    g.free(x);
    const d = g.dest(I32);
    if (y.a !== 0) { a.emit(E.xori(T0, r, y.a)); }
    const s = y.a !== 0 ? T0 : r;
    a.emit(k === 0 ? E.sltiu(d.r, s, 1) : E.sltu(d.r, 0, s));
    g.done(d);
    return;
  }
  const rx = g.reg(x);
  const ry = g.reg(y);
  g.free(x);
  g.free(y);
  const d = g.dest(I32);
  switch (k) {
    case 0: a.emit(E.xor(T0, rx, ry)); a.emit(E.sltiu(d.r, T0, 1)); break;
    case 1: a.emit(E.xor(T0, rx, ry)); a.emit(E.sltu(d.r, 0, T0)); break;
    case 2: a.emit(E.slt(d.r, rx, ry)); break;
    case 3: a.emit(E.sltu(d.r, rx, ry)); break;
    case 4: a.emit(E.slt(d.r, ry, rx)); break;
    case 5: a.emit(E.sltu(d.r, ry, rx)); break;
    case 6: a.emit(E.slt(T0, ry, rx)); a.emit(E.xori(d.r, T0, 1)); break;
    case 7: a.emit(E.sltu(T0, ry, rx)); a.emit(E.xori(d.r, T0, 1)); break;
    case 8: a.emit(E.slt(T0, rx, ry)); a.emit(E.xori(d.r, T0, 1)); break;
    case 9: a.emit(E.sltu(T0, rx, ry)); a.emit(E.xori(d.r, T0, 1)); break;
  }
  g.done(d);
}

function binary(g: FnGen, op: number): void {
  const a = g.asm;
  let y = g.pop();
  let x = g.pop();
  const commutative = op === 0x6a || op === 0x6c || op === 0x71 || op === 0x72 || op === 0x73;
  if (commutative && x.k === K_CONST && y.k !== K_CONST) [x, y] = [y, x];
  if (y.k === K_CONST) {
    const c = y.a;
    let imm: ((rd: number, rs: number, i: number) => number) | null = null;
    let iv = c;
    switch (op) {
      case 0x6a: if (imm12(c)) imm = E.addi; break;
      case 0x6b: if (imm12(-c)) { imm = E.addi; iv = -c; } break;
      case 0x71: if (imm12(c)) imm = E.andi; break;
      case 0x72: if (imm12(c)) imm = E.ori; break;
      case 0x73: if (imm12(c)) imm = E.xori; break;
      case 0x74: imm = E.slli; iv = c & 31; break;
      case 0x75: imm = E.srai; iv = c & 31; break;
      case 0x76: imm = E.srli; iv = c & 31; break;
    }
    if (imm !== null) {
      const r = g.reg(x);
      g.free(x);
      const d = g.dest(I32);
      a.emit(imm(d.r, r, iv));
      g.done(d);
      return;
    }
  }
  const rx = g.reg(x);
  const ry = g.reg(y);
  g.free(x);
  g.free(y);
  const d = g.dest(I32);
  const f = ({ 0x6a: E.add, 0x6b: E.sub, 0x6c: E.mul, 0x71: E.and, 0x72: E.or, 0x73: E.xor, 0x74: E.sll, 0x75: E.sra, 0x76: E.srl } as Record<number, (rd: number, a: number, b: number) => number>)[op];
  a.emit(f(d.r, rx, ry));
  g.done(d);
}

/** div_s, div_u, rem_s, rem_u with the traps of spec 4.3.2 (idiv_s, irem_u...). */
function division(g: FnGen, op: number): void {
  const a = g.asm;
  const y = g.pop();
  const x = g.pop();
  // Constant divisors: checks decided now.
  const kv = y.k === K_CONST ? y.a : null;
  const rx = g.reg(x);
  const ry = g.reg(y);
  if (kv === null || kv === 0) {
    if (kv === 0) g.trap('int_div_zero');
    else g.trapUnless('ne', ry, 0, 'int_div_zero');
  }
  if (op === 0x6d && (kv === null || kv === -1)) {
    // INT_MIN / -1 overflows (idiv_s is undefined there: trap).
    a.emit(E.addi(T0, ry, 1));
    a.skip('ne', T0, 0, 3);
    a.emit(E.lui(T1, 0x80000));
    g.trapUnless('ne', rx, T1, 'int_overflow');
  }
  g.free(x);
  g.free(y);
  const d = g.dest(I32);
  const f = [E.div, E.divu, E.rem, E.remu][op - 0x6d];
  a.emit(f(d.r, rx, ry));
  g.done(d);
}

function rotate(g: FnGen, left: boolean): void {
  const a = g.asm;
  const y = g.pop();
  const x = g.pop();
  const rx = g.reg(x);
  if (y.k === K_CONST) {
    const k = y.a & 31;
    g.free(x);
    const d = g.dest(I32, false);
    if (k === 0) { a.mv(d.r, rx); g.done(d); return; }
    const l = left ? k : 32 - k;
    a.emit(E.slli(T0, rx, l));
    a.emit(E.srli(T1, rx, 32 - l));
    a.emit(E.or(d.r, T0, T1));
    g.done(d);
    return;
  }
  const ry = g.reg(y);
  g.free(x);
  g.free(y);
  const d = g.dest(I32, false);
  a.emit((left ? E.sll : E.srl)(T0, rx, ry));
  a.emit(E.sub(T1, 0, ry));
  a.emit((left ? E.srl : E.sll)(T1, rx, T1));
  a.emit(E.or(d.r, T0, T1));
  g.done(d);
}

/** clz, ctz, popcnt: RV32IM has no bit-count instructions (no Zbb); short inline sequences. */
function unaryBits(g: FnGen, op: number): void {
  const v = g.pop();
  const r = g.reg(v);
  g.free(v);
  const d = g.dest(I32, false);
  g.asm.mv(T0, r);
  emitBits32(g, op === 0x67 ? 'clz' : op === 0x68 ? 'ctz' : 'popcnt', d.r);
  g.done(d);
}

/** rd = clz/ctz/popcnt(t0); clobbers t0, t1. rd must not be t0/t1. */
export function emitBits32(g: FnGen, kind: 'clz' | 'ctz' | 'popcnt', rd: number): void {
  const a = g.asm;
  if (kind === 'popcnt') {
    // SWAR population count (Hacker's Delight 5-1).
    a.emit(E.srli(T1, T0, 1));
    a.li(rd, 0x55555555);
    a.emit(E.and(T1, T1, rd));
    a.emit(E.sub(T0, T0, T1));
    a.li(rd, 0x33333333);
    a.emit(E.srli(T1, T0, 2));
    a.emit(E.and(T1, T1, rd));
    a.emit(E.and(T0, T0, rd));
    a.emit(E.add(T0, T0, T1));
    a.emit(E.srli(T1, T0, 4));
    a.emit(E.add(T0, T0, T1));
    a.li(rd, 0x0f0f0f0f);
    a.emit(E.and(T0, T0, rd));
    a.li(rd, 0x01010101);
    a.emit(E.mul(T0, T0, rd));
    a.emit(E.srli(rd, T0, 24));
    return;
  }
  // Binary search over 16, 8, 4, 2, 1 bits; zero gives 32.
  a.emit(E.addi(rd, 0, 32));
  const steps = [16, 8, 4, 2, 1];
  a.skip('eq', T0, 0, 1 + steps.length * 4);
  a.emit(E.addi(rd, 0, 0));
  for (const s of steps) {
    if (kind === 'clz') {
      a.emit(E.srli(T1, T0, 32 - s));
      a.skip('ne', T1, 0, 2);
      a.emit(E.addi(rd, rd, s));
      a.emit(E.slli(T0, T0, s));
    } else {
      a.emit(E.slli(T1, T0, 32 - s));
      a.skip('ne', T1, 0, 2);
      a.emit(E.addi(rd, rd, s));
      a.emit(E.srli(T0, T0, s));
    }
  }
}
