// i64 operators (WebAssembly 2.0, section 4.3.2) on RV32: every i64 is a register pair
// (low word, high word). Additions propagate the carry with sltu, multiplication uses mulhu
// for the high word (unprivileged spec 13.1), shifts take the count mod 64 and split on >= 32.
// Division and remainder call runtime routines (runtime.ts) after the wasm trap checks.

import * as E from '../rv32/encode.ts';
import { FnGen, K_CONST, type Val, I32, I64, T0, T1 } from './codegen.ts';
import { CMP, emitBits32, fuseBranch } from './ops-int.ts';

export function genI64(g: FnGen, op: number): boolean {
  const a = g.asm;
  switch (op) {
    case 0x42: g.push({ t: I64, k: K_CONST, a: g.ins.a, b: g.ins.b }); return true;
    case 0x50: { // eqz
      const v = g.pop();
      const [lo, hi] = g.pair(v);
      a.emit(E.or(T1, lo, hi));
      if (fuseBranch(g, () => ['eq', T1, 0], [v])) return true;
      g.free(v);
      const d = g.dest(I32);
      a.emit(E.sltiu(d.r, T1, 1));
      g.done(d);
      return true;
    }
    case 0xa7: { // i32.wrap_i64
      const v = g.pop();
      if (v.k === K_CONST) { g.push({ t: I32, k: K_CONST, a: v.a, b: 0 }); return true; }
      const [lo] = g.pair(v);
      g.free(v);
      const d = g.dest(I32);
      a.mv(d.r, lo);
      g.done(d);
      return true;
    }
    case 0xac: case 0xad: { // extend_i32_s / _u
      const v = g.pop();
      if (v.k === K_CONST) { g.push({ t: I64, k: K_CONST, a: v.a, b: op === 0xac ? v.a >> 31 : 0 }); return true; }
      const r = g.reg(v);
      g.free(v);
      const d = g.dest(I64, false);
      if (op === 0xac) a.emit(E.srai(d.r2, r, 31));
      else a.mv(d.r2, 0);
      a.mv(d.r, r);
      g.done(d);
      return true;
    }
    case 0xc2: case 0xc3: case 0xc4: { // extend8_s, extend16_s, extend32_s
      const v = g.pop();
      const [lo] = g.pair(v);
      g.free(v);
      const d = g.dest(I64, false);
      if (op === 0xc4) a.mv(d.r, lo);
      else {
        const sh = op === 0xc2 ? 24 : 16;
        a.emit(E.slli(d.r, lo, sh));
        a.emit(E.srai(d.r, d.r, sh));
      }
      a.emit(E.srai(d.r2, d.r, 31));
      g.done(d);
      return true;
    }
    case 0x79: case 0x7a: case 0x7b: bits(g, op); return true;
    case 0x7c: case 0x7d: case 0x7e: case 0x83: case 0x84: case 0x85: arith(g, op); return true;
    case 0x86: case 0x87: case 0x88: shift(g, op); return true;
    case 0x89: case 0x8a: rotate(g, op === 0x89); return true;
    case 0x7f: case 0x80: case 0x81: case 0x82: division(g, op); return true;
  }
  if (op >= 0x51 && op <= 0x5a) {
    compare(g, op - 0x51);
    return true;
  }
  return false;
}

function compare(g: FnGen, k: number): void {
  const a = g.asm;
  const y = g.pop();
  const x = g.pop();
  const [xl, xh] = g.pair(x);
  const [yl, yh] = g.pair(y);
  if (k <= 1) {
    a.emit(E.xor(T0, xl, yl));
    a.emit(E.xor(T1, xh, yh));
    a.emit(E.or(T1, T0, T1));
    if (fuseBranch(g, () => [k === 0 ? 'eq' : 'ne', T1, 0], [x, y])) return;
    g.free(x);
    g.free(y);
    const d = g.dest(I32);
    a.emit(k === 0 ? E.sltiu(d.r, T1, 1) : E.sltu(d.r, 0, T1));
    g.done(d);
    return;
  }
  // lt/gt/le/ge: CMP gives (cond, swap); the result is "less than" of the (maybe swapped)
  // operands, negated for ge conditions.
  const [cond, swap] = CMP[k];
  const [al, ah, bl, bh] = swap ? [yl, yh, xl, xh] : [xl, xh, yl, yh];
  const signed = cond === 'lt' || cond === 'ge';
  const negate = cond === 'ge' || cond === 'geu';
  // T1 = (a < b) as 64-bit: high words decide unless equal.
  a.emit((signed ? E.slt : E.sltu)(T1, ah, bh));
  a.skip('ne', ah, bh, 1);
  a.emit(E.sltu(T1, al, bl));
  if (negate) a.emit(E.xori(T1, T1, 1));
  if (fuseBranch(g, () => ['ne', T1, 0], [x, y])) return;
  g.free(x);
  g.free(y);
  const d = g.dest(I32);
  a.mv(d.r, T1);
  g.done(d);
}

function arith(g: FnGen, op: number): void {
  const a = g.asm;
  const y = g.pop();
  const x = g.pop();
  const [xl, xh] = g.pair(x);
  const [yl, yh] = g.pair(y);
  // Operands stay held while the destination is written (two instructions: a fresh
  // destination must not take the high register of an operand before it is read).
  const bitwise = op >= 0x83;
  const d = g.dest(I64, bitwise);
  switch (op) {
    case 0x7c: // add
      a.emit(E.add(d.r, xl, yl));
      a.emit(E.sltu(T0, d.r, yl));
      a.emit(E.add(d.r2, xh, yh));
      a.emit(E.add(d.r2, d.r2, T0));
      break;
    case 0x7d: // sub
      a.emit(E.sltu(T0, xl, yl));
      a.emit(E.sub(d.r, xl, yl));
      a.emit(E.sub(d.r2, xh, yh));
      a.emit(E.sub(d.r2, d.r2, T0));
      break;
    case 0x7e: // mul: low 64 bits of the product
      a.emit(E.mulhu(T0, xl, yl));
      a.emit(E.mul(T1, xl, yh));
      a.emit(E.add(T0, T0, T1));
      a.emit(E.mul(T1, xh, yl));
      a.emit(E.add(d.r2, T0, T1));
      a.emit(E.mul(d.r, xl, yl));
      break;
    case 0x83: a.emit(E.and(d.r, xl, yl)); a.emit(E.and(d.r2, xh, yh)); break;
    case 0x84: a.emit(E.or(d.r, xl, yl)); a.emit(E.or(d.r2, xh, yh)); break;
    case 0x85: a.emit(E.xor(d.r, xl, yl)); a.emit(E.xor(d.r2, xh, yh)); break;
  }
  g.free(x);
  g.free(y);
  g.done(d);
}

/** shl, shr_s, shr_u (spec 4.3.2 ishl/ishr_s/ishr_u, count mod 64). */
function shift(g: FnGen, op: number): void {
  const a = g.asm;
  const y = g.pop();
  const x = g.pop();
  const [xl, xh] = g.pair(x);
  if (y.k === K_CONST) {
    const n = y.a & 63;
    const d = g.dest(I64, false);
    if (n === 0) { a.mv(d.r, xl); a.mv(d.r2, xh); }
    else if (op === 0x86) {
      if (n >= 32) { a.emit(E.slli(d.r2, xl, n - 32)); a.mv(d.r, 0); }
      else {
        a.emit(E.slli(d.r2, xh, n)); a.emit(E.srli(T0, xl, 32 - n)); a.emit(E.or(d.r2, d.r2, T0));
        a.emit(E.slli(d.r, xl, n));
      }
    } else {
      const sr = op === 0x87 ? E.srai : E.srli;
      if (n >= 32) {
        a.emit(sr(d.r, xh, n - 32));
        if (op === 0x87) a.emit(E.srai(d.r2, xh, 31)); else a.mv(d.r2, 0);
      } else {
        a.emit(E.srli(d.r, xl, n)); a.emit(E.slli(T0, xh, 32 - n)); a.emit(E.or(d.r, d.r, T0));
        a.emit(sr(d.r2, xh, n));
      }
    }
    g.free(x);
    g.done(d);
    return;
  }
  const [yl] = g.pair(y);
  const d = g.dest(I64, false);
  a.emit(E.andi(T0, yl, 63));
  a.emit(E.addi(T1, T0, -32));
  // n >= 32 path (4 instructions + jump), then n < 32 path (5 instructions).
  a.skip('lt', T1, 0, 3);
  if (op === 0x86) {
    a.emit(E.sll(d.r2, xl, T1));
    a.mv(d.r, 0);
    a.emit(E.jal(0, 4 * 7));
    a.emit(E.sll(d.r2, xh, T0));
    a.emit(E.srli(T1, xl, 1));
    a.emit(E.xori(d.r, T0, 31));
    a.emit(E.srl(T1, T1, d.r));
    a.emit(E.or(d.r2, d.r2, T1));
    a.emit(E.sll(d.r, xl, T0));
  } else {
    const sr = op === 0x87 ? E.sra : E.srl;
    a.emit(sr(d.r, xh, T1));
    if (op === 0x87) a.emit(E.srai(d.r2, xh, 31)); else a.mv(d.r2, 0);
    a.emit(E.jal(0, 4 * 7));
    a.emit(E.srl(d.r, xl, T0));
    a.emit(E.slli(T1, xh, 1));
    a.emit(E.xori(d.r2, T0, 31));
    a.emit(E.sll(T1, T1, d.r2));
    a.emit(E.or(d.r, d.r, T1));
    a.emit(sr(d.r2, xh, T0));
  }
  g.free(x);
  g.free(y);
  g.done(d);
}

/** rotl / rotr: swap the halves for counts >= 32, then a funnel shift by count mod 32. */
function rotate(g: FnGen, left: boolean): void {
  const a = g.asm;
  const y = g.pop();
  const x = g.pop();
  const [xl, xh] = g.pair(x);
  const [yl] = g.pair(y);
  const d = g.dest(I64, false);
  const lo = g.allocI();
  const hi = g.allocI();
  // Normalise to a left rotation by n in 0..63.
  if (left) a.emit(E.andi(T0, yl, 63));
  else { a.emit(E.sub(T0, 0, yl)); a.emit(E.andi(T0, T0, 63)); }
  a.mv(lo, xl);
  a.mv(hi, xh);
  a.emit(E.addi(T1, T0, -32));
  a.skip('lt', T1, 0, 4);
  a.mv(lo, xh);
  a.mv(hi, xl);
  a.emit(E.addi(T0, T1, 0));
  a.emit(E.addi(0, 0, 0));
  // hi' = (hi << n) | (lo >> 1 >> (31 - n)); lo' = (lo << n) | (hi >> 1 >> (31 - n))
  a.emit(E.xori(T1, T0, 31));
  a.emit(E.sll(d.r2, hi, T0));
  a.emit(E.srli(d.r, lo, 1));
  a.emit(E.srl(d.r, d.r, T1));
  a.emit(E.or(d.r2, d.r2, d.r));
  a.emit(E.sll(d.r, lo, T0));
  a.emit(E.srli(hi, hi, 1));
  a.emit(E.srl(hi, hi, T1));
  a.emit(E.or(d.r, d.r, hi));
  g.release(lo, false);
  g.release(hi, false);
  g.free(x);
  g.free(y);
  g.done(d);
}

function bits(g: FnGen, op: number): void {
  const a = g.asm;
  const v = g.pop();
  const [lo, hi] = g.pair(v);
  const d = g.dest(I64, false);
  const tmp = g.allocI();
  if (op === 0x7b) { // popcnt(lo) + popcnt(hi)
    a.mv(T0, lo);
    emitBits32(g, 'popcnt', tmp);
    a.mv(T0, hi);
    emitBits32(g, 'popcnt', d.r);
    a.emit(E.add(d.r, d.r, tmp));
  } else {
    // clz: high word unless it is zero; ctz: low word unless it is zero.
    const first = op === 0x79 ? hi : lo;
    const second = op === 0x79 ? lo : hi;
    const kind = op === 0x79 ? 'clz' : 'ctz';
    a.mv(T0, first);
    emitBits32(g, kind, d.r);
    a.emit(E.addi(T1, 0, 32));
    const skipLen = countBits(kind) + 2;
    a.skip('ne', d.r, T1, skipLen);
    a.mv(T0, second);
    emitBits32(g, kind, tmp);
    a.emit(E.add(d.r, d.r, tmp));
  }
  a.mv(d.r2, 0);
  g.release(tmp, false);
  g.free(v);
  g.done(d);
}

/** Length in instructions of emitBits32 for clz/ctz (kept in sync with ops-int.ts). */
function countBits(_kind: 'clz' | 'ctz'): number {
  return 3 + 5 * 4;
}

/** div_s/div_u/rem_s/rem_u: trap checks here, the division in a runtime routine. */
function division(g: FnGen, op: number): void {
  const a = g.asm;
  const s = g.stack;
  const y = s[s.length - 1];
  const x = s[s.length - 2];
  const [xl, xh] = g.pair(x);
  const [yl, yh] = g.pair(y);
  a.emit(E.or(T0, yl, yh));
  g.trapUnless('ne', T0, 0, 'int_div_zero');
  if (op === 0x7f) {
    // INT64_MIN / -1 overflows.
    a.emit(E.and(T0, yl, yh));
    a.emit(E.addi(T0, T0, 1));
    a.skip('ne', T0, 0, 4);
    a.skip('ne', xl, 0, 3);
    a.emit(E.lui(T1, 0x80000));
    g.trapUnless('ne', xh, T1, 'int_overflow');
  }
  const name = ['__rt_i64_div_s', '__rt_i64_div_u', '__rt_i64_rem_s', '__rt_i64_rem_u'][op - 0x7f];
  g.call({ params: [I64, I64], results: [I64] }, () => a.call(name));
}

export type { Val };
