// Memory and global instructions (WebAssembly 2.0, sections 4.4.7 "Memory Instructions" and
// 4.4.5 "Variable Instructions").
//
// Bounds (docs/WASM2RV.md, "Memory model"): linear memory is mapped at VA 0 up to its current
// size; everything from there to LINEAR_MAX + GUARD_SIZE is unmapped. An access is
// `base + offset` with base a u32 and offset a static u32. The compiled code traps unless
// base < LINEAR_MAX (2 GiB: the sign bit, one `bge base, zero` per access); then, for
// offset < GUARD_SIZE, base + offset + size <= LINEAR_MAX + GUARD_SIZE, so every out-of-bounds
// byte is unmapped and the access page-faults before it reads or writes anything (the hart
// translates every page of an access before performing it). Every access instruction is a trap
// site, so the fault is reported as an out-of-bounds access at the right wasm offset. A base
// once checked stays valid until its local is written (memory never shrinks), so repeated
// accesses through the same local pay the compare once per basic block.

import * as E from '../rv32/encode.ts';
import { GUARD_SIZE } from '../../abi/layout.ts';
import { FnGen, K_CONST, K_LOCAL, type Val, F32, F64, I32, I64, T0, T1 } from './codegen.ts';
import { DATA_MEMSIZE, TP } from './regs.ts';
import { I64 as I64T } from './module.ts';

/** [base register, 12-bit displacement] for an access of `size` bytes at `v + offset`. */
function address(g: FnGen, v: Val, offset: number, size: number): [number, number] {
  const a = g.asm;
  offset >>>= 0;
  const fits = (d: number): boolean => d >= -2048 && d + size <= 2047;
  if (v.k === K_CONST) {
    const ea = (v.a >>> 0) + offset;
    if (ea + size > 0x8000_0000) {
      g.trap('oob_memory');
      return [0, 0];
    }
    const lo = (ea << 20) >> 20;
    if (ea < 2048 - size) return [0, ea];
    a.emit(E.lui(T0, ((ea - lo) >>> 12) & 0xfffff));
    if (!fits(lo)) { a.emit(E.addi(T0, T0, lo)); return [T0, 0]; }
    return [T0, lo];
  }
  const r = g.reg(v);
  if (!(v.k === K_LOCAL && g.checked.has(v.a))) {
    g.trapUnless('ge', r, 0, 'oob_memory');
    if (v.k === K_LOCAL) g.checked.add(v.a);
  }
  if (fits(offset)) return [r, offset];
  if (offset < GUARD_SIZE) {
    const lo = (offset << 20) >> 20;
    a.emit(E.lui(T0, ((offset - lo) >>> 12) & 0xfffff));
    a.emit(E.add(T0, T0, r));
    if (!fits(lo)) { a.emit(E.addi(T0, T0, lo)); return [T0, 0]; }
    return [T0, lo];
  }
  // Large static offset: explicit add, carry and sign checks.
  a.li(T0, offset | 0);
  a.emit(E.add(T0, r, T0));
  g.trapUnless('geu', T0, r, 'oob_memory');
  g.trapUnless('ge', T0, 0, 'oob_memory');
  return [T0, 0];
}

export function genMem(g: FnGen, op: number): boolean {
  const a = g.asm;
  const ins = g.ins;
  if (op >= 0x28 && op <= 0x35) {
    const v = g.pop();
    const off = ins.b;
    const site = (): void => a.accessSite(ins.off);
    switch (op) {
      case 0x28: case 0x2c: case 0x2d: case 0x2e: case 0x2f: {
        const d = g.dest(I32);
        const [b, o] = address(g, v, off, op === 0x28 ? 4 : op <= 0x2d ? 1 : 2);
        const ld = { 0x28: E.lw, 0x2c: E.lb, 0x2d: E.lbu, 0x2e: E.lh, 0x2f: E.lhu }[op]!;
        site();
        a.emit(ld(d.r, b, o));
        g.free(v);
        g.done(d);
        return true;
      }
      case 0x2a: case 0x2b: {
        const d = g.dest(op === 0x2a ? F32 : F64);
        const [b, o] = address(g, v, off, op === 0x2a ? 4 : 8);
        site();
        a.emit((op === 0x2a ? E.flw : E.fld)(d.r, b, o));
        g.free(v);
        g.done(d);
        return true;
      }
      default: { // i64 loads
        const d = g.dest(I64, false);
        const size = op === 0x29 ? 8 : op <= 0x31 ? 1 : op <= 0x33 ? 2 : 4;
        const [b, o] = address(g, v, off, size);
        if (op === 0x29) {
          // Load the high word first into r2: b is never d.r/d.r2 (allocated before release).
          site();
          a.emit(E.lw(d.r2, b, o + 4));
          site();
          a.emit(E.lw(d.r, b, o));
        } else {
          const ld = { 0x30: E.lb, 0x31: E.lbu, 0x32: E.lh, 0x33: E.lhu, 0x34: E.lw, 0x35: E.lw }[op]!;
          site();
          a.emit(ld(d.r, b, o));
          if (op === 0x30 || op === 0x32 || op === 0x34) a.emit(E.srai(d.r2, d.r, 31));
          else a.emit(E.addi(d.r2, 0, 0));
        }
        g.free(v);
        g.done(d);
        return true;
      }
    }
  }
  if (op >= 0x36 && op <= 0x3e) {
    const val = g.pop();
    const v = g.pop();
    const off = ins.b;
    const site = (): void => a.accessSite(ins.off);
    if (val.t === I64) {
      const [lo, hi] = g.pair(val);
      const size = op === 0x37 ? 8 : op === 0x3c ? 1 : op === 0x3d ? 2 : 4;
      const [b, o] = address(g, v, off, size);
      if (op === 0x37) {
        // High word first: if any byte is out of bounds the highest are, and nothing is written.
        site();
        a.emit(E.sw(hi, b, o + 4));
        site();
        a.emit(E.sw(lo, b, o));
      } else {
        site();
        a.emit((op === 0x3c ? E.sb : op === 0x3d ? E.sh : E.sw)(lo, b, o));
      }
    } else if (val.t === I32) {
      const r = g.reg(val);
      const [b, o] = address(g, v, off, op === 0x36 ? 4 : op === 0x3a ? 1 : 2);
      site();
      a.emit((op === 0x36 ? E.sw : op === 0x3a ? E.sb : E.sh)(r, b, o));
    } else {
      const r = g.freg(val);
      const [b, o] = address(g, v, off, op === 0x38 ? 4 : 8);
      site();
      a.emit((op === 0x38 ? E.fsw : E.fsd)(r, b, o));
    }
    g.free(val);
    g.free(v);
    return true;
  }
  switch (op) {
    case 0x3f: { // memory.size: pages = bytes >> 16
      const d = g.dest(I32);
      a.emit(E.lw(T0, TP, DATA_MEMSIZE - 0x800));
      a.emit(E.srli(d.r, T0, 16));
      g.done(d);
      return true;
    }
    case 0x40: // memory.grow: a runtime routine asks the system for pages
      g.call({ params: [I32], results: [I32] }, () => a.call('__rt_memory_grow'));
      return true;
    case 0xfc0a: case 0xfc0b: { // memory.copy / memory.fill: routine returns 0 or 1 (out of bounds)
      g.call({ params: [I32, I32, I32], results: [I32] }, () => a.call(op === 0xfc0a ? '__rt_memory_copy' : '__rt_memory_fill'));
      statusCheck(g);
      return true;
    }
    case 0xfc08: { // memory.init: the segment bytes live in read-only data
      const seg = g.mi.passive.get(ins.a)!;
      const k = (x: number): Val => ({ t: I32, k: K_CONST, a: x, b: 0 });
      g.call({ params: [I32, I32, I32], results: [I32] }, () => a.call('__rt_memory_init'), [k(seg.addr), k(seg.len), k(seg.flagAddr)]);
      statusCheck(g);
      return true;
    }
    case 0xfc09: { // data.drop
      const seg = g.mi.passive.get(ins.a)!;
      a.li(T0, seg.flagAddr);
      a.emit(E.addi(T1, 0, 1));
      a.emit(E.sw(T1, T0, 0));
      return true;
    }
    case 0x23: globalGet(g); return true;
    case 0x24: globalSet(g); return true;
  }
  return false;
}

function statusCheck(g: FnGen): void {
  const st = g.pop();
  const r = g.reg(st);
  g.trapUnless('eq', r, 0, 'oob_memory');
  g.free(st);
}

function globalGet(g: FnGen): void {
  const a = g.asm;
  const idx = g.ins.a;
  const gl = g.mi.m.globals[idx];
  if (!gl.mutable && gl.init.kind === 'const') {
    g.push({ t: gl.type, k: K_CONST, a: gl.init.lo, b: gl.init.hi });
    return;
  }
  const d = g.dest(gl.type, gl.type !== I64T);
  const [base, off] = g.globalAddr(idx);
  if (gl.type === I32) a.emit(E.lw(d.r, base, off));
  else if (gl.type === I64) { a.emit(E.lw(d.r, base, off)); a.emit(E.lw(d.r2, base, off + 4)); }
  else a.emit((gl.type === F32 ? E.flw : E.fld)(d.r, base, off));
  g.done(d);
}

function globalSet(g: FnGen): void {
  const a = g.asm;
  const idx = g.ins.a;
  const t = g.mi.m.globals[idx].type;
  const v = g.pop();
  if (t === I64) {
    const [lo, hi] = g.pair(v);
    const [base, off] = g.globalAddr(idx);
    a.emit(E.sw(lo, base, off));
    a.emit(E.sw(hi, base, off + 4));
  } else if (t === I32) {
    const r = g.reg(v);
    const [base, off] = g.globalAddr(idx);
    a.emit(E.sw(r, base, off));
  } else {
    const r = g.freg(v);
    const [base, off] = g.globalAddr(idx);
    a.emit((t === F32 ? E.fsw : E.fsd)(r, base, off));
  }
  g.free(v);
}
