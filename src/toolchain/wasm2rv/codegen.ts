// Code generation for one wasm function: a single pass over the validated instructions that
// keeps an abstract operand stack (constants, lazy references to locals, registers, frame
// slots) instead of a memory stack, in the manner of a baseline compiler such as V8's Liftoff.
//
// Contract with the rest of wasm2rv:
//   - Locals are given homes before the pass (regalloc.ts): registers by use frequency, the rest
//     frame slots. `local.get` pushes a reference and costs nothing; an operator whose result is
//     immediately `local.set` writes straight into the local's register (the set is fused).
//   - Operand-stack values live in caller-saved temporaries while they are inside one block.
//     At every control-flow construct the values below it are moved to canonical locations (per
//     stack depth: a callee-saved register for depth 0/1 of i32/f32/f64, else a frame slot), so
//     that every path into a label agrees on where each value is (spec 4.4.8 "Control
//     Instructions": labels carry only their arity of values, the rest of the stack is intact).
//   - Before a call every temporary is spilled to its depth's frame slot.
//   - Comparisons followed by br_if/if become one conditional branch.
// Operator semantics are in ops-int.ts, ops-i64.ts, ops-float.ts and ops-mem.ts.

import * as E from '../rv32/encode.ts';
import { Asm, type Cond, type Label } from './asm.ts';
import { BLOCK_EMPTY, F32, F64, I32, I64, type FuncType, type Instr, type ValType, type WasmModule } from './module.ts';
import { FP_ARGS, FP_CALLEE, FP_CALLER, FP as FPREG, FT0, INT_ARGS, INT_CALLEE, INT_CALLER, RA, SP, T0, T1, TP, TP_VALUE, DATA_GLOBALS } from './regs.ts';
import { allocateLocals, type Home } from './regalloc.ts';
import { DATA_BASE } from '../../abi/layout.ts';
import type { TrapKind } from './traps.ts';

// Value kinds on the abstract operand stack.
export const K_CONST = 0; // a = low bits, b = high bits (i64, f64)
export const K_LOCAL = 1; // a = local index (its value at the time of the local.get)
export const K_TEMP = 2; // a = register (b = high register of an i64), owned by the temp pool
export const K_FIXED = 3; // a, b = registers not owned by the pool (canonical, results)
export const K_MEM = 4; // a = frame offset from fp

export interface Val {
  t: ValType;
  k: number;
  a: number;
  b: number;
}

interface Ctrl {
  /** 0 block, 1 loop, 2 if, 3 else, 4 function body. */
  kind: number;
  type: ValType | 0;
  height: number;
  label: Label;
  elseLabel: Label | null;
  entry: Val[];
  /** The construct began in unreachable code: everything in it is skipped. */
  dead: boolean;
  /** Some branch targets the end label (or, for `if` without else, the false edge does). */
  reached: boolean;
}

/** What a destination allocation gave: registers to write and what to push afterwards. */
export interface Dest {
  r: number;
  r2: number;
  push: Val | null;
  /** The local written directly (fused local.set/tee), or -1. */
  local: number;
}

/** Information about the module shared by all functions (from compile.ts). */
export interface ModuleInfo {
  m: WasmModule;
  /** Canonical signature id of each type index (structurally equal types share an id). */
  sigIds: number[];
  /** Import call numbers by function index (imports only; not the intrinsics). */
  importCalls: Map<number, number>;
  /** Imports that are `l4` system calls: the stub saves a1..a6 to RtData.SysRes. */
  sysImports: Set<number>;
  /** Imports that are `l4` intrinsics (inline code, function.ts). */
  intrinsics: Map<number, Intrinsic>;
  /** Byte offset of each global from DATA_BASE. */
  globalOffsets: number[];
  /** Address of the table (call_indirect) in read-only data. */
  tableAddr: number;
  tableSize: number;
  /** Address and length of each passive data segment; the dropped flag address. */
  passive: Map<number, { addr: number; len: number; flagAddr: number }>;
  /** f64/f32 constant pool: bits key -> address. */
  constPool: Map<string, number>;
  constPoolBase: number;
  constPoolBytes: number[];
  /** Minimum (initial) memory size in bytes: constant addresses below it need no check. */
  minMemBytes: number;
  /** Emit executed-operator counting (function.ts). */
  countOps: boolean;
}

const HEAVY_OPS = new Set([0x10, 0x11, 0x40, 0xfc08, 0xfc0a, 0xfc0b, 0x7f, 0x80, 0x81, 0x82,
  0xae, 0xaf, 0xb0, 0xb1, 0xb4, 0xb5, 0xb9, 0xba, 0xfc04, 0xfc05, 0xfc06, 0xfc07]);

/** The `l4` intrinsics: `res(i)` (a_i of the last system call), `peek(addr)`, `poke(addr, v)`,
 *  `time()` (the 64-bit time CSR). */
export type Intrinsic = 'res' | 'peek' | 'poke' | 'time';

/** True when the function makes no calls (no wasm call and no heavy runtime routine; an
 *  intrinsic is inline code, not a call). */
function isLeaf(code: Instr[], intrinsics: ReadonlyMap<number, Intrinsic>): boolean {
  for (const ins of code) if (HEAVY_OPS.has(ins.op) && !(ins.op === 0x10 && intrinsics.has(ins.a))) return false;
  return true;
}

export interface FnCode {
  asm: Asm;
  /** Bytes of prologue before the frame pointer is set (backtraces use ra there). */
  prologueBytes: number;
  hasFrame: boolean;
}

export class FnGen {
  readonly asm: Asm;
  readonly type: FuncType;
  readonly localTypes: ValType[];
  readonly homes: Home[];
  readonly leaf: boolean;
  /** Declared locals that are read somewhere: zero-initialized by the prologue (spec 4.5.3.1). */
  readonly readLocals: Set<number>;
  stack: Val[] = [];
  ctrls: Ctrl[] = [];
  unreachable = false;
  ins!: Instr;
  pc = 0;
  /** Set by a fused operator: the next instruction was consumed. */
  skipNext = false;
  readonly code: Instr[];

  private freeI: number[];
  private freeF: number[];
  private readonly poolI: Set<number>;
  private readonly poolF: Set<number>;
  readonly canonI: number[];
  readonly canonF: number[];
  /** Callee-saved registers written by this function (saved by the prologue). */
  readonly usedCalleeI = new Set<number>();
  readonly usedCalleeF = new Set<number>();
  /** Bytes of frame slots below [fp-8]. */
  private slotBytes = 8;
  private readonly depthSlots = new Map<number, number>();
  private maxOutArgs = 0;
  readonly retLabel: Label;
  /** Locals whose current value is known to be a valid (non-negative) address base. */
  checked = new Set<number>();

  constructor(readonly mi: ModuleInfo, readonly fnIndex: number, longBranches: ReadonlySet<number>) {
    const m = mi.m;
    this.asm = new Asm(longBranches);
    this.type = m.types[m.funcTypes[fnIndex]];
    const body = m.bodies[fnIndex - m.numImportedFuncs];
    this.code = body.code;
    this.localTypes = [...this.type.params, ...body.locals];
    this.leaf = isLeaf(body.code, mi.intrinsics);
    const ra = allocateLocals(this.type, this.localTypes, body.code, this.leaf);
    this.homes = ra.homes;
    this.readLocals = ra.read;
    this.canonI = ra.canonI;
    this.canonF = ra.canonF;
    for (const r of ra.usedCalleeI) this.usedCalleeI.add(r);
    for (const r of ra.usedCalleeF) this.usedCalleeF.add(r);
    this.poolI = new Set(ra.poolI);
    this.poolF = new Set(ra.poolF);
    this.freeI = [...ra.poolI].reverse();
    this.freeF = [...ra.poolF].reverse();
    for (const h of this.homes) {
      if (h.r < 0) h.off = this.frameSlot();
    }
    this.retLabel = this.asm.label();
  }

  // --- frame ---------------------------------------------------------------------------------

  /** A new 8-byte frame slot; returns its offset from fp (negative). */
  frameSlot(): number {
    this.slotBytes += 8;
    return -this.slotBytes;
  }

  private scratch = 0;
  /** One frame slot for moving values between register files (reinterpretations). */
  scratchSlot(): number {
    if (this.scratch === 0) this.scratch = this.frameSlot();
    return this.scratch;
  }

  depthSlot(d: number): number {
    let off = this.depthSlots.get(d);
    if (off === undefined) {
      off = this.frameSlot();
      this.depthSlots.set(d, off);
    }
    return off;
  }

  // --- registers -----------------------------------------------------------------------------

  allocI(): number {
    if (this.freeI.length === 0) this.spillOne(false);
    return this.freeI.pop()!;
  }

  allocF(): number {
    if (this.freeF.length === 0) this.spillOne(true);
    return this.freeF.pop()!;
  }

  /** Remove a specific pool register from the free list (call results). */
  take(r: number, fp: boolean): void {
    const list = fp ? this.freeF : this.freeI;
    const i = list.indexOf(r);
    if (i < 0) throw new Error(`wasm2rv: internal: register ${r} is not free`);
    list.splice(i, 1);
  }

  release(r: number, fp: boolean): void {
    const list = fp ? this.freeF : this.freeI;
    if (!(fp ? this.poolF : this.poolI).has(r) || (!fp && r === 0)) return;
    if (list.includes(r)) throw new Error(`wasm2rv: internal: register ${r} released twice in function ${this.fnIndex} at offset 0x${this.ins.off.toString(16)}`);
    list.push(r);
  }

  free(v: Val): void {
    if (v.k !== K_TEMP) return;
    const fp = v.t === F32 || v.t === F64;
    this.release(v.a, fp);
    if (v.t === I64) this.release(v.b, false);
  }

  private spillOne(fp: boolean): void {
    for (let i = 0; i < this.stack.length; i++) {
      const v = this.stack[i];
      if (v.k === K_TEMP && (v.t === F32 || v.t === F64) === fp) {
        this.spillTo(v, this.depthSlot(i));
        return;
      }
    }
    throw new Error('wasm2rv: internal: out of registers');
  }

  private spillTo(v: Val, off: number): void {
    this.storeVal(v, off);
    this.free(v);
    v.k = K_MEM;
    v.a = off;
    v.b = 0;
  }

  // --- value access --------------------------------------------------------------------------

  isFloat(t: ValType | 0): boolean {
    return t === F32 || t === F64;
  }

  /** Store value `v` (any kind) to frame offset `off`. */
  storeVal(v: Val, off: number): void {
    const a = this.asm;
    if (v.t === I64) {
      const [lo, hi] = this.pair(v);
      a.mem(E.sw, lo, FPREG, off, T0);
      a.mem(E.sw, hi, FPREG, off + 4, T0);
    } else if (v.t === I32) {
      a.mem(E.sw, this.reg(v), FPREG, off, T0);
    } else {
      a.mem(v.t === F32 ? E.fsw : E.fsd, this.freg(v), FPREG, off, T0);
    }
  }

  private loadI(rd: number, off: number): void {
    this.asm.mem(E.lw, rd, FPREG, off, rd);
  }

  /** A register holding i32 value `v`. Constants and memory values are loaded into a temp. */
  reg(v: Val): number {
    switch (v.k) {
      case K_CONST: {
        if (v.a === 0) return 0;
        const r = this.allocI();
        this.asm.li(r, v.a);
        v.k = K_TEMP; v.a = r;
        return r;
      }
      case K_LOCAL: {
        const h = this.homes[v.a];
        if (h.r >= 0) return h.r;
        const r = this.allocI();
        this.loadI(r, h.off);
        v.k = K_TEMP; v.a = r;
        return r;
      }
      case K_MEM: {
        const r = this.allocI();
        this.loadI(r, v.a);
        v.k = K_TEMP; v.a = r;
        return r;
      }
      default:
        return v.a;
    }
  }

  /** Registers [lo, hi] holding i64 value `v`. */
  pair(v: Val): [number, number] {
    switch (v.k) {
      case K_CONST: {
        const lo = v.a === 0 ? 0 : this.allocI();
        if (lo) this.asm.li(lo, v.a);
        const hi = v.b === 0 ? 0 : this.allocI();
        if (hi) this.asm.li(hi, v.b);
        v.k = K_TEMP; v.a = lo; v.b = hi;
        return [lo, hi];
      }
      case K_LOCAL: {
        const h = this.homes[v.a];
        if (h.r >= 0) return [h.r, h.r2];
        return this.loadPair(v, h.off);
      }
      case K_MEM:
        return this.loadPair(v, v.a);
      default:
        return [v.a, v.b];
    }
  }

  private loadPair(v: Val, off: number): [number, number] {
    const lo = this.allocI();
    const hi = this.allocI();
    this.loadI(lo, off);
    this.loadI(hi, off + 4);
    v.k = K_TEMP; v.a = lo; v.b = hi;
    return [lo, hi];
  }

  /** An FP register holding f32/f64 value `v`. */
  freg(v: Val): number {
    const a = this.asm;
    switch (v.k) {
      case K_CONST: {
        const r = this.allocF();
        this.constF(r, v.t, v.a, v.b);
        v.k = K_TEMP; v.a = r; v.b = 0;
        return r;
      }
      case K_LOCAL: {
        const h = this.homes[v.a];
        if (h.r >= 0) return h.r;
        const r = this.allocF();
        a.mem(v.t === F32 ? E.flw : E.fld, r, FPREG, h.off, T0);
        v.k = K_TEMP; v.a = r;
        return r;
      }
      case K_MEM: {
        const r = this.allocF();
        a.mem(v.t === F32 ? E.flw : E.fld, r, FPREG, v.a, T0);
        v.k = K_TEMP; v.a = r;
        return r;
      }
      default:
        return v.a;
    }
  }

  /** Materialize a float constant into FP register `r` (spec 5.4.7: consts are raw bits). */
  constF(r: number, t: ValType, lo: number, hi: number): void {
    const a = this.asm;
    if (t === F32) {
      if (lo === 0) {
        a.emit(E.fmv_w_x(r, 0));
      } else {
        a.li(T0, lo);
        a.emit(E.fmv_w_x(r, T0));
      }
      return;
    }
    if (lo === 0 && hi === 0) {
      a.emit(E.fcvt_d_w(r, 0, 0));
      return;
    }
    const addr = this.constAddr(lo, hi);
    const low = (addr << 20) >> 20;
    a.emit(E.lui(T0, ((addr - low) >>> 12) & 0xfffff));
    a.emit(E.fld(r, T0, low));
  }

  private constAddr(lo: number, hi: number): number {
    const key = `${lo >>> 0}:${hi >>> 0}`;
    let addr = this.mi.constPool.get(key);
    if (addr === undefined) {
      addr = this.mi.constPoolBase + this.mi.constPoolBytes.length;
      for (const w of [lo, hi]) for (let i = 0; i < 4; i++) this.mi.constPoolBytes.push((w >>> (8 * i)) & 0xff);
      this.mi.constPool.set(key, addr);
    }
    return addr;
  }

  /** Move value `v` into register(s) `r` (and `r2` for i64). Does not free `v`. */
  moveToReg(v: Val, r: number, r2: number): void {
    const a = this.asm;
    if (v.t === I32) {
      if (v.k === K_CONST) a.li(r, v.a);
      else if (v.k === K_MEM) this.loadI(r, v.a);
      else if (v.k === K_LOCAL && this.homes[v.a].r < 0) this.loadI(r, this.homes[v.a].off);
      else a.mv(r, this.reg(v));
    } else if (v.t === I64) {
      if (v.k === K_CONST) { a.li(r, v.a); a.li(r2, v.b); }
      else if (v.k === K_MEM) { this.loadI(r, v.a); this.loadI(r2, v.a + 4); }
      else if (v.k === K_LOCAL && this.homes[v.a].r < 0) { const o = this.homes[v.a].off; this.loadI(r, o); this.loadI(r2, o + 4); }
      else {
        const [lo, hi] = this.pair(v);
        if (r === hi && r2 === lo) {
          a.mv(T0, lo); a.mv(r2, hi); a.mv(r, T0);
        } else if (r === hi) {
          a.mv(r2, hi); a.mv(r, lo);
        } else {
          a.mv(r, lo); a.mv(r2, hi);
        }
      }
    } else {
      if (v.k === K_CONST) this.constF(r, v.t, v.a, v.b);
      else if (v.k === K_MEM) a.mem(v.t === F32 ? E.flw : E.fld, r, FPREG, v.a, T0);
      else if (v.k === K_LOCAL && this.homes[v.a].r < 0) a.mem(v.t === F32 ? E.flw : E.fld, r, FPREG, this.homes[v.a].off, T0);
      else {
        const s = this.freg(v);
        if (s !== r) a.emit(E.fsgnj_d(r, s, s));
      }
    }
  }

  /** Move `v` to a location (registers or frame slot). Frees `v`'s temps. */
  moveTo(v: Val, loc: Val): void {
    if (loc.k === K_MEM) {
      if (v.k === K_MEM && v.a === loc.a) return;
      this.storeVal(v, loc.a);
    } else {
      this.moveToReg(v, loc.a, loc.b);
    }
    this.free(v);
  }

  sameLoc(v: Val, loc: Val): boolean {
    if (loc.k === K_MEM) return v.k === K_MEM && v.a === loc.a;
    if (v.k === K_LOCAL) {
      const h = this.homes[v.a];
      return h.r >= 0 && h.r === loc.a && (v.t !== I64 || h.r2 === loc.b);
    }
    return (v.k === K_FIXED || v.k === K_TEMP) && v.a === loc.a && (v.t !== I64 || v.b === loc.b);
  }

  /** The canonical location of a value of type `t` at stack depth `d`. */
  canon(t: ValType, d: number): Val {
    if (t === I32 && d < this.canonI.length) {
      const r = this.canonI[d];
      if (INT_CALLEE.includes(r)) this.usedCalleeI.add(r);
      return { t, k: K_FIXED, a: r, b: 0 };
    }
    if ((t === F32 || t === F64) && d < this.canonF.length) {
      const r = this.canonF[d];
      if (FP_CALLEE.includes(r)) this.usedCalleeF.add(r);
      return { t, k: K_FIXED, a: r, b: 0 };
    }
    return { t, k: K_MEM, a: this.depthSlot(d), b: 0 };
  }

  /** Move every stack value that could change (temps, local refs) to its canonical location. */
  canonicalize(): void {
    for (let i = 0; i < this.stack.length; i++) {
      const v = this.stack[i];
      if (v.k === K_CONST) continue;
      const c = this.canon(v.t, i);
      if (this.sameLoc(v, c)) { this.stack[i] = c; continue; }
      this.moveTo(v, c);
      this.stack[i] = c;
    }
  }

  // --- stack ---------------------------------------------------------------------------------

  push(v: Val): void {
    this.stack.push(v);
  }

  pop(): Val {
    const v = this.stack.pop();
    if (v === undefined) throw new Error('wasm2rv: internal: operand stack underflow');
    return v;
  }

  pushTemp(t: ValType, r: number, r2 = 0): void {
    this.stack.push({ t, k: K_TEMP, a: r, b: r2 });
  }

  /**
   * Registers for the result of the current operator. If the next instruction is local.set/tee
   * of a register-homed local of this type, the result goes straight there and that
   * instruction is consumed (`fusable` says the operator writes its destination last).
   */
  dest(t: ValType, fusable = true): Dest {
    const next = this.code[this.pc + 1];
    if (fusable && next !== undefined && (next.op === 0x21 || next.op === 0x22) && !this.unreachable) {
      const h = this.homes[next.a];
      // Not when the stack still refers to the local: copying those values out first could
      // take a register the operator's (already released) operands are still in.
      if (h.r >= 0 && this.localTypes[next.a] === t && !this.stack.some((v) => v.k === K_LOCAL && v.a === next.a)) {
        this.skipNext = true;
        this.checked.delete(next.a);
        return { r: h.r, r2: h.r2, push: next.op === 0x22 ? { t, k: K_LOCAL, a: next.a, b: 0 } : null, local: next.a };
      }
    }
    if (t === F32 || t === F64) {
      const r = this.allocF();
      return { r, r2: 0, push: { t, k: K_TEMP, a: r, b: 0 }, local: -1 };
    }
    const r = this.allocI();
    const r2 = t === I64 ? this.allocI() : 0;
    return { r, r2, push: { t, k: K_TEMP, a: r, b: r2 }, local: -1 };
  }

  done(d: Dest): void {
    if (d.local >= 0) this.checked.delete(d.local);
    if (d.push !== null) this.stack.push(d.push);
  }

  /** Replace stack references to local `idx` by copies (before the local is written). */
  materializeLocal(idx: number): void {
    for (let i = 0; i < this.stack.length; i++) {
      const v = this.stack[i];
      if (v.k !== K_LOCAL || v.a !== idx) continue;
      const h = this.homes[idx];
      if (v.t === I64) {
        const lo = this.allocI();
        const hi = this.allocI();
        this.moveToReg(v, lo, hi);
        this.stack[i] = { t: v.t, k: K_TEMP, a: lo, b: hi };
      } else if (this.isFloat(v.t)) {
        const r = this.allocF();
        this.moveToReg(v, r, 0);
        this.stack[i] = { t: v.t, k: K_TEMP, a: r, b: 0 };
      } else {
        const r = this.allocI();
        this.moveToReg(v, r, 0);
        this.stack[i] = { t: v.t, k: K_TEMP, a: r, b: 0 };
      }
      void h;
    }
  }

  // --- traps ---------------------------------------------------------------------------------

  trap(kind: TrapKind): void {
    this.asm.trap(kind, this.ins.off);
  }

  trapUnless(cond: Cond, rs1: number, rs2: number, kind: TrapKind): void {
    this.asm.trapUnless(cond, rs1, rs2, kind, this.ins.off);
  }

  // --- globals -------------------------------------------------------------------------------

  /** [base register, offset] addressing global `i` (tp-relative when in reach). */
  globalAddr(i: number): [number, number] {
    const off = this.mi.globalOffsets[i] - 0x800;
    if (off >= -2048 && off < 2044) return [TP, off];
    this.asm.li(T1, DATA_BASE + this.mi.globalOffsets[i]);
    return [T1, 0];
  }

  // --- calls ---------------------------------------------------------------------------------

  /**
   * Call with signature `sig`: pops the arguments, spills live temporaries, places the
   * arguments per the convention in regs.ts, runs `emitCall` (which must leave only the
   * result registers defined), then pushes the result.
   */
  call(sig: FuncType, emitCall: () => void, extraInt: Val[] = []): void {
    const n = sig.params.length;
    const args = this.stack.splice(this.stack.length - n, n);
    args.push(...extraInt);
    const types: ValType[] = [...sig.params, ...extraInt.map((v) => v.t)];
    // Spill what the call would clobber.
    for (let i = 0; i < this.stack.length; i++) {
      const v = this.stack[i];
      if (v.k === K_TEMP) this.spillTo(v, this.depthSlot(i));
      else if (v.k === K_LOCAL && this.homes[v.a].r >= 0 && !this.calleeSavedHome(v.a)) this.spillTo(v, this.depthSlot(i));
    }
    // Argument locations.
    let ni = 0;
    let nf = 0;
    let ns = 0;
    const regMoves: { dst: number; src: number; fp: boolean }[] = [];
    const late: { v: Val; r: number; r2: number }[] = [];
    for (let i = 0; i < args.length; i++) {
      const v = args[i];
      const t = types[i];
      if (t === F32 || t === F64) {
        if (nf < 8) {
          const r = FP_ARGS[nf++];
          if (v.k === K_TEMP || v.k === K_FIXED || (v.k === K_LOCAL && this.homes[v.a].r >= 0)) regMoves.push({ dst: r, src: this.freg(v), fp: true });
          else late.push({ v, r, r2: 0 });
          continue;
        }
      } else if (t === I64 ? ni < 7 : ni < 8) {
        const r = INT_ARGS[ni++];
        const r2 = t === I64 ? INT_ARGS[ni++] : 0;
        if (v.k === K_TEMP || v.k === K_FIXED || (v.k === K_LOCAL && this.homes[v.a].r >= 0)) {
          if (t === I64) {
            const [lo, hi] = this.pair(v);
            regMoves.push({ dst: r, src: lo, fp: false }, { dst: r2, src: hi, fp: false });
          } else {
            regMoves.push({ dst: r, src: this.reg(v), fp: false });
          }
        } else {
          late.push({ v, r, r2 });
        }
        continue;
      }
      // Stack argument: 8-byte slot at sp + 8*ns.
      const off = 8 * ns++;
      if (t === I64) {
        const [lo, hi] = this.pair(v);
        this.asm.mem(E.sw, lo, SP, off, T0);
        this.asm.mem(E.sw, hi, SP, off + 4, T0);
      } else if (t === I32) {
        this.asm.mem(E.sw, this.reg(v), SP, off, T0);
      } else {
        this.asm.mem(t === F32 ? E.fsw : E.fsd, this.freg(v), SP, off, T0);
      }
    }
    this.maxOutArgs = Math.max(this.maxOutArgs, ns);
    this.parallelMove(regMoves.filter((mv) => !mv.fp), false);
    this.parallelMove(regMoves.filter((mv) => mv.fp), true);
    for (const l of late) this.moveToReg(l.v, l.r, l.r2);
    for (const v of args) this.free(v);
    emitCall();
    this.checked.clear();
    if (sig.results.length === 1) {
      const t = sig.results[0];
      if (t === F32 || t === F64) {
        this.take(FP_ARGS[0], true);
        this.pushTemp(t, FP_ARGS[0]);
      } else {
        this.take(INT_ARGS[0], false);
        if (t === I64) this.take(INT_ARGS[1], false);
        this.pushTemp(t, INT_ARGS[0], t === I64 ? INT_ARGS[1] : 0);
      }
    }
  }

  private calleeSavedHome(idx: number): boolean {
    const h = this.homes[idx];
    const set = this.isFloat(this.localTypes[idx]) ? FP_CALLEE : INT_CALLEE;
    return set.includes(h.r);
  }

  /** Perform simultaneous register moves (dst <- src), breaking cycles with a scratch. */
  parallelMove(moves: { dst: number; src: number; fp: boolean }[], fp: boolean): void {
    const a = this.asm;
    const mv = (d: number, s: number): void => {
      if (d === s) return;
      if (fp) a.emit(E.fsgnj_d(d, s, s));
      else a.mv(d, s);
    };
    let pending = moves.filter((m) => m.dst !== m.src);
    while (pending.length > 0) {
      const ready = pending.findIndex((m) => !pending.some((o) => o !== m && o.src === m.dst));
      if (ready >= 0) {
        const m = pending[ready];
        mv(m.dst, m.src);
        pending.splice(ready, 1);
        continue;
      }
      // A cycle: park the first source in scratch and redirect its readers.
      const s = pending[0].src;
      const scratch = fp ? FT0 : T0;
      mv(scratch, s);
      pending = pending.map((m) => (m.src === s ? { ...m, src: scratch } : m));
    }
  }

  // --- control flow --------------------------------------------------------------------------

  /** Where branches to `c` leave its result value. */
  resultLoc(c: Ctrl): Val | null {
    if (c.type === 0 || c.kind === 1) return null;
    if (c.kind === 4) {
      const t = c.type;
      if (t === F32 || t === F64) return { t, k: K_FIXED, a: FP_ARGS[0], b: 0 };
      return { t, k: K_FIXED, a: INT_ARGS[0], b: t === I64 ? INT_ARGS[1] : 0 };
    }
    return this.canon(c.type, c.height);
  }

  private target(c: Ctrl): Label {
    if (c.kind === 4) return this.retLabel;
    return c.label;
  }

  /** Unconditional branch to the label of control entry `depth` (spec 4.4.8 br). */
  br(depth: number): void {
    const c = this.ctrls[this.ctrls.length - 1 - depth];
    const loc = this.resultLoc(c);
    if (loc !== null) this.moveTo(this.pop(), loc);
    if (c.kind !== 1) c.reached = true;
    this.asm.jump(this.target(c));
  }

  /** Branch to control entry `depth` when `rs1 cond rs2` (br_if, after any fused compare). */
  brIf(depth: number, cond: Cond, rs1: number, rs2: number): void {
    const c = this.ctrls[this.ctrls.length - 1 - depth];
    const loc = this.resultLoc(c);
    if (c.kind !== 1) c.reached = true;
    const top = this.stack[this.stack.length - 1];
    if (loc === null || this.sameLoc(top, loc)) {
      this.asm.branch(cond, rs1, rs2, this.target(c));
      return;
    }
    const skip = this.asm.label();
    this.asm.branch(invert(cond), rs1, rs2, skip);
    this.moveToReg2(top, loc);
    this.asm.jump(this.target(c));
    this.asm.bind(skip);
  }

  /** Copy `v` to `loc` without changing `v`'s own location. */
  private moveToReg2(v: Val, loc: Val): void {
    if (loc.k === K_MEM) {
      if (v.t === I64) {
        if (v.k === K_TEMP || v.k === K_FIXED || (v.k === K_LOCAL && this.homes[v.a].r >= 0)) {
          const [lo, hi] = this.pairNoConvert(v);
          this.asm.mem(E.sw, lo, FPREG, loc.a, T0);
          this.asm.mem(E.sw, hi, FPREG, loc.a + 4, T0);
        } else {
          // Constant or frame value: copy word by word through t1.
          const src = v.k === K_CONST ? -1 : v.k === K_MEM ? v.a : this.homes[v.a].off;
          for (const w of [0, 4]) {
            if (src < 0) this.asm.li(T1, w === 0 ? v.a : v.b);
            else this.asm.mem(E.lw, T1, FPREG, src + w, T1);
            this.asm.mem(E.sw, T1, FPREG, loc.a + w, T0);
          }
        }
      } else if (v.t === I32) {
        this.asm.mem(E.sw, this.regNoConvert(v), FPREG, loc.a, T0);
      } else {
        this.moveToReg(v, FT0, 0);
        this.asm.mem(v.t === F32 ? E.fsw : E.fsd, FT0, FPREG, loc.a, T0);
      }
    } else {
      this.moveToReg(v, loc.a, loc.b);
    }
  }

  /** Int register with `v`'s value, using scratch t1 for constants/memory (v unchanged). */
  private regNoConvert(v: Val): number {
    if (v.k === K_TEMP || v.k === K_FIXED) return v.a;
    if (v.k === K_LOCAL && this.homes[v.a].r >= 0) return this.homes[v.a].r;
    this.moveToReg(v, T1, 0);
    return T1;
  }

  private pairNoConvert(v: Val): [number, number] {
    if (v.k === K_TEMP || v.k === K_FIXED) return [v.a, v.b];
    if (v.k === K_LOCAL && this.homes[v.a].r >= 0) return [this.homes[v.a].r, this.homes[v.a].r2];
    throw new Error('wasm2rv: internal: pairNoConvert on memory value');
  }

  /** The condition for a value used as a branch condition: `v != 0`. */
  condOf(v: Val): [Cond, number, number] {
    const r = this.reg(v);
    return ['ne', r, 0];
  }

  pushCtrl(kind: number, bt: number): Ctrl {
    const c: Ctrl = {
      kind, type: bt === BLOCK_EMPTY ? 0 : (bt as ValType), height: this.stack.length,
      label: this.asm.label(), elseLabel: null, entry: [], dead: this.unreachable, reached: false,
    };
    this.ctrls.push(c);
    return c;
  }

  /** Enter block/loop/if (cond already evaluated for if). */
  enter(kind: number, bt: number, cond: [Cond, number, number] | null): void {
    if (this.unreachable) {
      this.pushCtrl(kind, bt);
      return;
    }
    this.canonicalize();
    const c = this.pushCtrl(kind, bt);
    c.entry = this.stack.map((v) => ({ ...v }));
    if (kind === 1) {
      this.asm.bind(c.label);
      this.checked.clear();
    }
    if (kind === 2) {
      c.elseLabel = this.asm.label();
      const [cc, r1, r2] = cond!;
      this.asm.branch(invert(cc), r1, r2, c.elseLabel);
    }
  }

  /** `else` (spec 4.4.8 if): finish the then-arm, start the else-arm. */
  elseArm(): void {
    const c = this.ctrls[this.ctrls.length - 1];
    if (c.dead) return;
    if (!this.unreachable) {
      const loc = this.resultLoc(c);
      if (loc !== null) this.moveTo(this.pop(), loc);
      c.reached = true;
      this.asm.jump(c.label);
    }
    this.resetStack(c);
    this.asm.bind(c.elseLabel!);
    c.elseLabel = null;
    c.kind = 3;
    this.unreachable = false;
    this.checked.clear();
  }

  private resetStack(c: Ctrl): void {
    for (let i = c.height; i < this.stack.length; i++) this.free(this.stack[i]);
    this.stack.length = c.height;
    // Values below the block are canonical or constant; restore their descriptors.
    for (let i = 0; i < c.height; i++) this.stack[i] = { ...c.entry[i] };
  }

  /** `end` of a block, loop, if or the function. */
  end(): void {
    const c = this.ctrls.pop()!;
    if (c.dead) return;
    if (c.kind === 4) {
      if (!this.unreachable) {
        const loc = this.resultLoc(c);
        if (loc !== null) this.moveTo(this.pop(), loc);
      }
      this.asm.bind(this.retLabel);
      this.unreachable = false;
      return;
    }
    if (c.kind === 1) {
      // Nothing branches to the end of a loop: fall through with the value where it is.
      return;
    }
    const loc = this.resultLoc(c);
    if (!this.unreachable && loc !== null) {
      const v = this.pop();
      if (!this.sameLoc(v, loc)) this.moveTo(v, loc);
    }
    const reachable = !this.unreachable || c.reached || c.elseLabel !== null;
    if (this.unreachable) this.resetStack(c);
    else this.stack.length = c.height;
    if (c.elseLabel !== null) this.asm.bind(c.elseLabel);
    this.asm.bind(c.label);
    if (c.reached || c.elseLabel !== null) this.checked.clear();
    this.unreachable = !reachable;
    if (reachable && loc !== null) this.stack.push(loc);
  }

  /** Everything after br/return/unreachable up to the enclosing end/else is dead. */
  setUnreachable(): void {
    const c = this.ctrls[this.ctrls.length - 1];
    for (let i = c.height; i < this.stack.length; i++) this.free(this.stack[i]);
    this.stack.length = c.height;
    this.unreachable = true;
  }

  /** br_table (spec 4.4.8): bounds-checked jump through a table of `jal`s. */
  brTable(targets: number[]): void {
    const a = this.asm;
    const idx = this.pop();
    const r = this.reg(idx);
    const n = targets.length - 1;
    const hasValue = this.ctrls[this.ctrls.length - 1 - targets[n]].type !== 0 && this.ctrls[this.ctrls.length - 1 - targets[n]].kind !== 1;
    // Per distinct target: a stub that moves the value (if any) and jumps.
    const stubs = new Map<number, Label>();
    const labelFor = (depth: number): Label => {
      const c = this.ctrls[this.ctrls.length - 1 - depth];
      if (c.kind !== 1) c.reached = true;
      if (!hasValue) return this.target(c);
      let l = stubs.get(depth);
      if (l === undefined) { l = a.label(); stubs.set(depth, l); }
      return l;
    };
    const dflt = labelFor(targets[n]);
    if (n > 0) {
      a.li(T0, n);
      a.branch('geu', r, T0, dflt);
      a.emit(E.auipc(T0, 0));
      a.emit(E.slli(T1, r, 2));
      a.emit(E.add(T0, T0, T1));
      a.emit(E.jalr(0, T0, 16));
      for (let i = 0; i < n; i++) a.jump(labelFor(targets[i]));
    } else {
      a.jump(dflt);
    }
    this.free(idx);
    if (hasValue) {
      const top = this.stack[this.stack.length - 1];
      for (const [depth, l] of stubs) {
        a.bind(l);
        const c = this.ctrls[this.ctrls.length - 1 - depth];
        const loc = this.resultLoc(c)!;
        if (!this.sameLoc(top, loc)) this.moveToReg2(top, loc);
        a.jump(this.target(c));
      }
    }
    this.setUnreachable();
  }

  // --- prologue / epilogue -------------------------------------------------------------------

  /** Frame layout, known once the body is generated. */
  finish(bodyWords: number[]): FnCode {
    const savedI = [...this.usedCalleeI].sort((x, y) => x - y);
    const savedF = [...this.usedCalleeF].sort((x, y) => x - y);
    const hasFrame = !this.leaf || this.slotBytes > 8 || savedI.length > 0 || savedF.length > 0;
    const pro = new Asm(new Set());
    const epi = new Asm(new Set());
    let prologueBytes = 0;
    if (hasFrame) {
      let off = -this.slotBytes;
      const saveOffI = savedI.map(() => (off -= 4));
      off &= ~7;
      const saveOffF = savedF.map(() => (off -= 8));
      const frame = ((-off + 8 * this.maxOutArgs) + 15) & ~15;
      // Prologue: allocate, save ra and the caller's fp, set fp = the caller's sp.
      pro.addImm(SP, SP, -frame, T0);
      pro.mem(E.sw, RA, SP, frame - 4, T0);
      pro.mem(E.sw, FPREG, SP, frame - 8, T0);
      pro.addImm(FPREG, SP, frame, T0);
      prologueBytes = pro.pos;
      savedI.forEach((r, i) => pro.mem(E.sw, r, FPREG, saveOffI[i], T0));
      savedF.forEach((r, i) => pro.mem(E.fsd, r, FPREG, saveOffF[i], T0));
      savedI.forEach((r, i) => epi.mem(E.lw, r, FPREG, saveOffI[i], T0));
      savedF.forEach((r, i) => epi.mem(E.fld, r, FPREG, saveOffF[i], T0));
      epi.emit(E.lw(RA, FPREG, -4));
      epi.emit(E.addi(SP, FPREG, 0));
      epi.emit(E.lw(FPREG, FPREG, -8));
    }
    epi.emit(E.jalr(0, RA, 0));
    this.paramMoves(pro);
    const words = [...pro.words, ...bodyWords, ...epi.words];
    // Shift body records by the prologue length.
    const shift = pro.pos;
    for (const c of this.asm.calls) c.at += shift;
    for (const t of this.asm.traps) t.at += shift;
    const out = new Asm(new Set());
    // Element by element: a spread of a large function's words would overflow the JS stack.
    for (const w of words) out.words.push(w);
    for (const c of this.asm.calls) out.calls.push(c);
    for (const t of this.asm.traps) out.traps.push(t);
    return { asm: out, prologueBytes, hasFrame };
  }

  /** Move incoming parameters to their homes (after the frame is set up). */
  private paramMoves(pro: Asm): void {
    let ni = 0;
    let nf = 0;
    let ns = 0;
    const movesI: { dst: number; src: number; fp: boolean }[] = [];
    const movesF: { dst: number; src: number; fp: boolean }[] = [];
    const saved = this.asm;
    (this as { asm: Asm }).asm = pro;
    const loads: (() => void)[] = [];
    this.type.params.forEach((t, i) => {
      const h = this.homes[i];
      if (t === F32 || t === F64) {
        if (nf < 8) {
          const src = FP_ARGS[nf++];
          if (h.r >= 0) movesF.push({ dst: h.r, src, fp: true });
          else pro.mem(t === F32 ? E.fsw : E.fsd, src, FPREG, h.off, T0);
          return;
        }
      } else if (t === I64 ? ni < 7 : ni < 8) {
        const src = INT_ARGS[ni++];
        const src2 = t === I64 ? INT_ARGS[ni++] : 0;
        if (h.r >= 0) {
          movesI.push({ dst: h.r, src, fp: false });
          if (t === I64) movesI.push({ dst: h.r2, src: src2, fp: false });
        } else {
          pro.mem(E.sw, src, FPREG, h.off, T0);
          if (t === I64) pro.mem(E.sw, src2, FPREG, h.off + 4, T0);
        }
        return;
      }
      const off = 8 * ns++;
      loads.push(() => {
        if (t === I64) {
          if (h.r >= 0) { pro.emit(E.lw(h.r, FPREG, off)); pro.emit(E.lw(h.r2, FPREG, off + 4)); }
          else { pro.emit(E.lw(T1, FPREG, off)); pro.mem(E.sw, T1, FPREG, h.off, T0); pro.emit(E.lw(T1, FPREG, off + 4)); pro.mem(E.sw, T1, FPREG, h.off + 4, T0); }
        } else if (t === I32) {
          if (h.r >= 0) pro.emit(E.lw(h.r, FPREG, off));
          else { pro.emit(E.lw(T1, FPREG, off)); pro.mem(E.sw, T1, FPREG, h.off, T0); }
        } else {
          const ld = t === F32 ? E.flw : E.fld;
          const st = t === F32 ? E.fsw : E.fsd;
          if (h.r >= 0) pro.emit(ld(h.r, FPREG, off));
          else { pro.emit(ld(FT0, FPREG, off)); pro.mem(st, FT0, FPREG, h.off, T0); }
        }
      });
    });
    this.parallelMove(movesI, false);
    this.parallelMove(movesF, true);
    for (const l of loads) l();
    // Zero-initialize the declared locals (spec 4.4.10: locals start at zero).
    for (let i = this.type.params.length; i < this.localTypes.length; i++) {
      const h = this.homes[i];
      const t = this.localTypes[i];
      if (!this.readLocals.has(i)) continue;
      if (h.r >= 0) {
        if (t === F32) pro.emit(E.fmv_w_x(h.r, 0));
        else if (t === F64) pro.emit(E.fcvt_d_w(h.r, 0, 0));
        else { pro.mv(h.r, 0); if (t === I64) pro.mv(h.r2, 0); }
      } else {
        pro.mem(E.sw, 0, FPREG, h.off, T0);
        if (t !== I32 && t !== F32) pro.mem(E.sw, 0, FPREG, h.off + 4, T0);
      }
    }
    (this as { asm: Asm }).asm = saved;
  }

}

export function invert(c: Cond): Cond {
  return ({ eq: 'ne', ne: 'eq', lt: 'ge', ge: 'lt', ltu: 'geu', geu: 'ltu' } as const)[c];
}

export { F32, F64, I32, I64, T0, T1, FPREG, INT_CALLER, FP_CALLER, DATA_GLOBALS };
