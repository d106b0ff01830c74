// Binary decoder: WebAssembly module bytes -> WasmModule (module.ts).
//
// Implements WebAssembly 2.0 chapter 5 "Binary Format" for the features wasm2rv supports
// (see opcodes.ts). Structural errors throw `wasm2rv: malformed module: ...`; valid
// encodings of features wasm2rv does not implement throw `wasm2rv: unsupported ...`, naming the
// feature, the function and the byte offset. Type checking is validate.ts's job.

import {
  BLOCK_EMPTY, F32, F64, I32, I64,
  type ConstExpr, type DataSegment, type ElemSegment, type Export, type FuncBody, type FuncType,
  type Global, type Import, type Instr, type Limits, type ValType, type WasmModule,
} from './module.ts';
import { opInfo, unsupportedFeature } from './opcodes.ts';

export class WasmDecodeError extends Error {}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A cursor over the module bytes (spec 5.1 conventions, 5.2 values). */
class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
  }
  fail(msg: string, at = this.pos): never {
    throw new WasmDecodeError(`wasm2rv: malformed module: ${msg} at offset ${hex(at)}`);
  }
  eof(): boolean {
    return this.pos >= this.end;
  }
  byte(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.buf[this.pos++];
  }
  /** Unsigned LEB128, at most 32 bits (5.2.2). */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      if (shift === 28 && (b & 0x70) !== 0) this.fail('integer too large');
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) this.fail('integer representation too long');
    }
    return result >>> 0;
  }
  /** Signed LEB128, 32 bits. */
  s32(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    for (;;) {
      b = this.byte();
      if (shift === 28) {
        // Remaining bits must be a sign extension of bit 31.
        const rest = b & 0x70;
        if ((b & 0x80) !== 0 || (rest !== 0 && rest !== 0x70) || ((b & 0x08) !== 0) !== (rest === 0x70)) this.fail('integer too large');
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
      if (shift > 28) this.fail('integer representation too long');
    }
    if (shift < 32 && (b & 0x40) !== 0) result |= -1 << shift;
    return result | 0;
  }
  /** Signed LEB128, 64 bits, as [lo, hi] 32-bit halves. */
  s64(): [number, number] {
    let v = 0n;
    let shift = 0n;
    let b: number;
    let count = 0;
    do {
      b = this.byte();
      if (++count > 10) this.fail('integer representation too long');
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    if (count === 10 && (b & 0x7f) !== 0 && (b & 0x7f) !== 0x7f) this.fail('integer too large');
    if (shift < 64n && (b & 0x40) !== 0) v |= -1n << shift;
    v = BigInt.asUintN(64, v);
    return [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];
  }
  u32le(): number {
    if (this.pos + 4 > this.end) this.fail('unexpected end');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) this.fail('unexpected end');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  name(): string {
    const n = this.u32();
    const b = this.bytes(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return this.fail('malformed UTF-8 name');
    }
  }
  valType(): ValType {
    const at = this.pos;
    const t = this.byte();
    if (t === I32 || t === I64 || t === F32 || t === F64) return t;
    if (t === 0x7b) throw new WasmDecodeError(`wasm2rv: unsupported value type v128 (SIMD) at offset ${hex(at)}`);
    if (t === 0x70 || t === 0x6f) throw new WasmDecodeError(`wasm2rv: unsupported value type ${t === 0x70 ? 'funcref' : 'externref'} (reference types) at offset ${hex(at)}`);
    return this.fail(`invalid value type ${hex(t)}`, at);
  }
  limits(): Limits {
    const at = this.pos;
    const flag = this.byte();
    if (flag === 0) return { min: this.u32(), max: null };
    if (flag === 1) {
      const min = this.u32();
      return { min, max: this.u32() };
    }
    if (flag === 2 || flag === 3) throw new WasmDecodeError(`wasm2rv: unsupported shared memory (threads) at offset ${hex(at)}`);
    if (flag >= 4) throw new WasmDecodeError(`wasm2rv: unsupported memory64 limits at offset ${hex(at)}`);
    return this.fail(`invalid limits flag ${hex(flag)}`, at);
  }
}

/** Constant expression (spec 3.3.10 / 5.4.9): one const or global.get, then `end`. */
function constExpr(r: Reader): ConstExpr {
  const at = r.pos;
  const op = r.byte();
  let e: ConstExpr;
  switch (op) {
    case 0x41: e = { kind: 'const', type: I32, lo: r.s32(), hi: 0 }; break;
    case 0x42: { const [lo, hi] = r.s64(); e = { kind: 'const', type: I64, lo, hi }; break; }
    case 0x43: e = { kind: 'const', type: F32, lo: r.u32le(), hi: 0 }; break;
    case 0x44: { const lo = r.u32le(); e = { kind: 'const', type: F64, lo, hi: r.u32le() }; break; }
    case 0x23: e = { kind: 'global.get', index: r.u32() }; break;
    default:
      if (op === 0xd0 || op === 0xd2) throw new WasmDecodeError(`wasm2rv: unsupported constant expression opcode ${hex(op)} (reference types) at offset ${hex(at)}`);
      return r.fail(`invalid constant expression opcode ${hex(op)}`, at);
  }
  if (r.byte() !== 0x0b) r.fail('constant expression must end after one instruction (extended-const is unsupported)');
  return e;
}

function blockType(r: Reader, types: FuncType[]): number {
  const at = r.pos;
  const b = r.buf[r.pos];
  if (b === BLOCK_EMPTY) { r.pos++; return BLOCK_EMPTY; }
  if (b === I32 || b === I64 || b === F32 || b === F64) { r.pos++; return b; }
  const idx = r.s32();
  if (idx < 0) r.fail(`invalid block type`, at);
  const t = types[idx];
  if (t === undefined) r.fail(`block type index ${idx} out of range`, at);
  if (t.params.length === 0 && t.results.length === 0) return BLOCK_EMPTY;
  if (t.params.length === 0 && t.results.length === 1) return t.results[0];
  throw new WasmDecodeError(`wasm2rv: unsupported block type with parameters or several results (multi-value) at offset ${hex(at)}`);
}

/** Decode one function body's instructions (spec 5.4, 5.5.13). */
function decodeCode(r: Reader, types: FuncType[], fnIndex: number, fnName: string): Instr[] {
  const code: Instr[] = [];
  const where = (at: number): string => `in function ${fnIndex} '${fnName}' at offset ${hex(at)}`;
  while (!r.eof()) {
    const off = r.pos;
    let op = r.byte();
    if (op === 0xfc) op = 0xfc00 | r.u32();
    const info = opInfo(op);
    if (info === undefined) {
      const shown = op >= 0xfc00 ? `0xfc ${op & 0xff}` : hex(op);
      throw new WasmDecodeError(`wasm2rv: unsupported opcode ${shown} (${unsupportedFeature(op)}) ${where(off)}`);
    }
    const ins: Instr = { op, off, a: 0, b: 0, bt: BLOCK_EMPTY, targets: null };
    switch (info.imm) {
      case 'none': break;
      case 'block': ins.bt = blockType(r, types); break;
      case 'label': case 'func': case 'local': case 'global': case 'data': ins.a = r.u32(); break;
      case 'br_table': {
        const n = r.u32();
        if (n > r.end - r.pos) r.fail('br_table too long');
        const t: number[] = [];
        for (let i = 0; i <= n; i++) t.push(r.u32());
        ins.targets = t;
        break;
      }
      case 'call_indirect':
        ins.a = r.u32();
        ins.b = r.u32();
        if (ins.b !== 0) throw new WasmDecodeError(`wasm2rv: unsupported call_indirect on table ${ins.b} (reference types: one table only) ${where(off)}`);
        break;
      case 'memarg':
        ins.a = r.u32();
        if (ins.a & 0x40) throw new WasmDecodeError(`wasm2rv: unsupported memory index in memarg (multi-memory) ${where(off)}`);
        ins.b = r.u32();
        break;
      case 'memidx':
        if (r.byte() !== 0) throw new WasmDecodeError(`wasm2rv: unsupported memory index (multi-memory) ${where(off)}`);
        break;
      case 'mem_mem':
        if (r.byte() !== 0 || r.byte() !== 0) throw new WasmDecodeError(`wasm2rv: unsupported memory index (multi-memory) ${where(off)}`);
        break;
      case 'data_mem':
        ins.a = r.u32();
        if (r.byte() !== 0) throw new WasmDecodeError(`wasm2rv: unsupported memory index (multi-memory) ${where(off)}`);
        break;
      case 'i32': ins.a = r.s32(); break;
      case 'i64': { const [lo, hi] = r.s64(); ins.a = lo; ins.b = hi; break; }
      case 'f32': ins.a = r.u32le(); break;
      case 'f64': ins.a = r.u32le(); ins.b = r.u32le(); break;
    }
    code.push(ins);
  }
  return code;
}

const SECTION_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];

/** Decode a module. Throws WasmDecodeError (malformed or unsupported). */
export function decodeModule(bytes: Uint8Array): WasmModule {
  const r = new Reader(bytes);
  if (r.u32le() !== 0x6d736100) r.fail('bad magic', 0);
  if (r.u32le() !== 1) r.fail('unsupported binary version', 4);

  const types: FuncType[] = [];
  const imports: Import[] = [];
  const funcTypes: number[] = [];
  let numImportedFuncs = 0;
  let table: Limits | null = null;
  let memory: Limits | null = null;
  let memoryImported = false;
  const globals: Global[] = [];
  let numImportedGlobals = 0;
  const exports: Export[] = [];
  let start: number | null = null;
  const elems: ElemSegment[] = [];
  const datas: DataSegment[] = [];
  const bodyRanges: { start: number; end: number }[] = [];
  const funcNames = new Map<number, string>();
  let definedFuncCount = 0;
  let dataCount: number | null = null;
  let lastOrder = -1;

  while (!r.eof()) {
    const id = r.byte();
    const size = r.u32();
    const start0 = r.pos;
    const end = start0 + size;
    if (end > bytes.length) r.fail('section extends past end of module');
    const s = new Reader(bytes, start0, end);
    if (id !== 0) {
      const order = SECTION_ORDER.indexOf(id);
      if (order < 0) r.fail(`unknown section id ${id}`, start0 - 1);
      if (order <= lastOrder) r.fail(`section ${id} out of order or duplicated`, start0 - 1);
      lastOrder = order;
    }
    switch (id) {
      case 0: { // custom (5.5.3); the name section (7.4) gives function names
        const nm = s.name();
        if (nm === 'name') {
          try { readNames(s, funcNames); } catch { /* a bad name section is ignored (7.4) */ }
        }
        s.pos = end;
        break;
      }
      case 1: { // type (5.5.4)
        for (let n = s.u32(); n > 0; n--) {
          const at = s.pos;
          const form = s.byte();
          if (form !== 0x60) {
            if (form === 0x5e || form === 0x5f || form === 0x4e || form === 0x50) throw new WasmDecodeError(`wasm2rv: unsupported type form ${hex(form)} (GC) at offset ${hex(at)}`);
            s.fail(`invalid function type form ${hex(form)}`, at);
          }
          const params: ValType[] = [];
          for (let k = s.u32(); k > 0; k--) params.push(s.valType());
          const results: ValType[] = [];
          for (let k = s.u32(); k > 0; k--) results.push(s.valType());
          if (results.length > 1) throw new WasmDecodeError(`wasm2rv: unsupported function type with ${results.length} results (multi-value) at offset ${hex(at)}`);
          types.push({ params, results });
        }
        break;
      }
      case 2: { // import (5.5.5)
        for (let n = s.u32(); n > 0; n--) {
          const module = s.name();
          const name = s.name();
          const at = s.pos;
          const kind = s.byte();
          if (kind === 0) {
            const ti = s.u32();
            if (ti >= types.length) s.fail(`import type index ${ti} out of range`, at);
            imports.push({ module, name, desc: { kind: 'func', typeIndex: ti } });
            funcTypes.push(ti);
            numImportedFuncs++;
          } else if (kind === 1) {
            const et = s.byte();
            if (et !== 0x70) throw new WasmDecodeError(`wasm2rv: unsupported table element type ${hex(et)} (reference types) at offset ${hex(at)}`);
            if (table !== null) throw new WasmDecodeError(`wasm2rv: unsupported second table (reference types) at offset ${hex(at)}`);
            table = s.limits();
            imports.push({ module, name, desc: { kind: 'table', limits: table } });
          } else if (kind === 2) {
            if (memory !== null) throw new WasmDecodeError(`wasm2rv: unsupported second memory (multi-memory) at offset ${hex(at)}`);
            memory = s.limits();
            memoryImported = true;
            imports.push({ module, name, desc: { kind: 'memory', limits: memory } });
          } else if (kind === 3) {
            const type = s.valType();
            const mut = s.byte();
            if (mut > 1) s.fail('invalid mutability');
            imports.push({ module, name, desc: { kind: 'global', type, mutable: mut === 1 } });
            globals.push({ type, mutable: mut === 1, init: { kind: 'const', type, lo: 0, hi: 0 } });
            numImportedGlobals++;
          } else if (kind === 4) {
            throw new WasmDecodeError(`wasm2rv: unsupported tag import (exception handling) at offset ${hex(at)}`);
          } else {
            s.fail(`invalid import kind ${kind}`, at);
          }
        }
        break;
      }
      case 3: // function (5.5.6)
        for (let n = s.u32(); n > 0; n--) {
          const at = s.pos;
          const ti = s.u32();
          if (ti >= types.length) s.fail(`function type index ${ti} out of range`, at);
          funcTypes.push(ti);
          definedFuncCount++;
        }
        break;
      case 4: // table (5.5.7)
        for (let n = s.u32(); n > 0; n--) {
          const at = s.pos;
          const et = s.byte();
          if (et !== 0x70) throw new WasmDecodeError(`wasm2rv: unsupported table element type ${hex(et)} (reference types) at offset ${hex(at)}`);
          if (table !== null) throw new WasmDecodeError(`wasm2rv: unsupported second table (reference types) at offset ${hex(at)}`);
          table = s.limits();
        }
        break;
      case 5: // memory (5.5.8)
        for (let n = s.u32(); n > 0; n--) {
          if (memory !== null) throw new WasmDecodeError(`wasm2rv: unsupported second memory (multi-memory) at offset ${hex(s.pos)}`);
          memory = s.limits();
          if (memory.min > 65536 || (memory.max !== null && memory.max > 65536)) s.fail('memory size must be at most 65536 pages');
        }
        break;
      case 6: // global (5.5.9)
        for (let n = s.u32(); n > 0; n--) {
          const type = s.valType();
          const mut = s.byte();
          if (mut > 1) s.fail('invalid mutability');
          globals.push({ type, mutable: mut === 1, init: constExpr(s) });
        }
        break;
      case 7: // export (5.5.10)
        for (let n = s.u32(); n > 0; n--) {
          const name = s.name();
          const at = s.pos;
          const k = s.byte();
          const kind = (['func', 'table', 'memory', 'global'] as const)[k];
          if (kind === undefined) s.fail(`invalid export kind ${k}`, at);
          exports.push({ name, kind, index: s.u32() });
        }
        break;
      case 8: // start (5.5.11)
        start = s.u32();
        break;
      case 9: // element (5.5.12)
        for (let n = s.u32(); n > 0; n--) elems.push(elemSegment(s));
        break;
      case 12: // data count (5.5.16)
        dataCount = s.u32();
        break;
      case 10: { // code (5.5.13)
        const n = s.u32();
        if (n !== definedFuncCount) s.fail(`code section has ${n} bodies for ${definedFuncCount} functions`);
        for (let i = 0; i < n; i++) {
          const sz = s.u32();
          bodyRanges.push({ start: s.pos, end: s.pos + sz });
          if (s.pos + sz > end) s.fail('function body extends past section');
          s.pos += sz;
        }
        break;
      }
      case 11: // data (5.5.14)
        for (let n = s.u32(); n > 0; n--) {
          const at = s.pos;
          const flag = s.u32();
          if (flag === 0) {
            const offset = constExpr(s);
            datas.push({ mode: 'active', offset, bytes: s.bytes(s.u32()) });
          } else if (flag === 1) {
            datas.push({ mode: 'passive', offset: null, bytes: s.bytes(s.u32()) });
          } else if (flag === 2) {
            if (s.u32() !== 0) throw new WasmDecodeError(`wasm2rv: unsupported data segment for memory other than 0 (multi-memory) at offset ${hex(at)}`);
            const offset = constExpr(s);
            datas.push({ mode: 'active', offset, bytes: s.bytes(s.u32()) });
          } else {
            s.fail(`invalid data segment flag ${flag}`, at);
          }
        }
        if (dataCount !== null && dataCount !== datas.length) s.fail('data count does not match data section');
        break;
    }
    if (id !== 0 && s.pos !== end) s.fail(`section ${id} size mismatch`);
    r.pos = end;
  }
  if (bodyRanges.length !== definedFuncCount) r.fail(`function section declares ${definedFuncCount} functions but code section has ${bodyRanges.length} bodies`);
  if (dataCount !== null && datas.length !== dataCount) r.fail('data count section does not match data section');

  const bodies: FuncBody[] = [];
  for (let i = 0; i < bodyRanges.length; i++) {
    const { start: bs, end: be } = bodyRanges[i];
    const br = new Reader(bytes, bs, be);
    const locals: ValType[] = [];
    let total = 0;
    for (let g = br.u32(); g > 0; g--) {
      const cnt = br.u32();
      total += cnt;
      if (total > 50000) br.fail('too many locals');
      const t = br.valType();
      for (let k = 0; k < cnt; k++) locals.push(t);
    }
    const idx = numImportedFuncs + i;
    const code = decodeCode(br, types, idx, funcNames.get(idx) ?? `func${idx}`);
    if (code.length === 0 || code[code.length - 1].op !== 0x0b) br.fail('function body must end with end');
    bodies.push({ locals, code, off: bs });
  }

  return {
    types, imports, funcTypes, numImportedFuncs, table, memory, memoryImported, globals,
    numImportedGlobals, exports, start, elems, datas, bodies, funcNames,
  };
}

/** Element segment (5.5.12): the eight encodings, restricted to funcref. */
function elemSegment(s: Reader): ElemSegment {
  const at = s.pos;
  const flag = s.u32();
  const funcIdxs = (): number[] => {
    const out: number[] = [];
    for (let n = s.u32(); n > 0; n--) out.push(s.u32());
    return out;
  };
  const exprs = (): number[] => {
    const out: number[] = [];
    for (let n = s.u32(); n > 0; n--) {
      const eat = s.pos;
      const op = s.byte();
      if (op === 0xd2) out.push(s.u32());
      else if (op === 0xd0) { if (s.byte() !== 0x70) s.fail('invalid ref.null type', eat); out.push(-1); }
      else s.fail(`invalid element expression opcode ${hex(op)}`, eat);
      if (s.byte() !== 0x0b) s.fail('element expression must end', eat);
    }
    return out;
  };
  const elemKind = (): void => { if (s.byte() !== 0) s.fail('invalid element kind', at); };
  const refType = (): void => {
    const t = s.byte();
    if (t !== 0x70) throw new WasmDecodeError(`wasm2rv: unsupported element type ${hex(t)} (reference types) at offset ${hex(at)}`);
  };
  const tableIdx = (): void => {
    if (s.u32() !== 0) throw new WasmDecodeError(`wasm2rv: unsupported element segment for table other than 0 (reference types) at offset ${hex(at)}`);
  };
  switch (flag) {
    case 0: { const offset = constExpr(s); return { mode: 'active', offset, funcs: funcIdxs() }; }
    case 1: elemKind(); return { mode: 'passive', offset: null, funcs: funcIdxs() };
    case 2: { tableIdx(); const offset = constExpr(s); elemKind(); return { mode: 'active', offset, funcs: funcIdxs() }; }
    case 3: elemKind(); return { mode: 'declarative', offset: null, funcs: funcIdxs() };
    case 4: { const offset = constExpr(s); return { mode: 'active', offset, funcs: exprs() }; }
    case 5: refType(); return { mode: 'passive', offset: null, funcs: exprs() };
    case 6: { tableIdx(); const offset = constExpr(s); refType(); return { mode: 'active', offset, funcs: exprs() }; }
    case 7: refType(); return { mode: 'declarative', offset: null, funcs: exprs() };
    default: return s.fail(`invalid element segment flag ${flag}`, at);
  }
}

/** The function-names subsection (id 1) of the name section (spec 7.4.1). */
function readNames(s: Reader, out: Map<number, string>): void {
  while (!s.eof()) {
    const id = s.byte();
    const size = s.u32();
    const end = s.pos + size;
    if (id === 1) {
      for (let n = s.u32(); n > 0; n--) {
        const idx = s.u32();
        out.set(idx, s.name());
      }
    }
    s.pos = end;
  }
}
