// Validator: type-checks a decoded module (WebAssembly 2.0 chapter 3 "Validation"), using the
// operand-stack / control-stack algorithm of the spec's Appendix A.3.
//
// Besides accepting or rejecting, it annotates the instructions whose operand type the code
// generator needs but the encoding does not carry: `drop` and `select` get the type of their
// value operand in `Instr.bt` (0 when the code is unreachable and the type is unknown).

import { BLOCK_EMPTY, I32, funcName, valTypeName, type Instr, type ValType, type WasmModule } from './module.ts';
import { opInfo, opName } from './opcodes.ts';

export class WasmValidationError extends Error {}

const UNKNOWN = 0;
type StackType = ValType | typeof UNKNOWN;

interface Ctrl {
  opcode: number;
  /** Label types: results for block/if, nothing for loop (MVP: no block params). */
  labelTypes: ValType[];
  endTypes: ValType[];
  height: number;
  unreachable: boolean;
}

/** Natural alignment log2 of every memory instruction (spec 3.3.7: align must not exceed it). */
function naturalAlign(op: number): number {
  switch (op) {
    case 0x29: case 0x2b: case 0x37: case 0x39: return 3;
    case 0x28: case 0x2a: case 0x34: case 0x35: case 0x36: case 0x38: case 0x3e: return 2;
    case 0x2e: case 0x2f: case 0x32: case 0x33: case 0x3b: case 0x3d: return 1;
    default: return 0;
  }
}

export function validateModule(m: WasmModule): void {
  const nfuncs = m.funcTypes.length;
  const fail = (msg: string): never => { throw new WasmValidationError(`wasm2rv: invalid module: ${msg}`); };
  for (const e of m.exports) {
    const limit = e.kind === 'func' ? nfuncs : e.kind === 'global' ? m.globals.length : e.kind === 'memory' ? (m.memory ? 1 : 0) : (m.table ? 1 : 0);
    if (e.index >= limit) fail(`export '${e.name}' refers to missing ${e.kind} ${e.index}`);
  }
  const names = new Set<string>();
  for (const e of m.exports) {
    if (names.has(e.name)) fail(`duplicate export name '${e.name}'`);
    names.add(e.name);
  }
  if (m.start !== null) {
    if (m.start >= nfuncs) fail(`start function ${m.start} does not exist`);
    const t = m.types[m.funcTypes[m.start]];
    if (t.params.length || t.results.length) fail('start function must have type [] -> []');
  }
  m.globals.forEach((g, i) => {
    if (i < m.numImportedGlobals) return;
    const init = g.init;
    if (init.kind === 'const' && init.type !== g.type) fail(`global ${i} initializer has type ${valTypeName(init.type)}, expected ${valTypeName(g.type)}`);
    if (init.kind === 'global.get') {
      if (init.index >= m.numImportedGlobals) fail(`global ${i} initializer may only read an imported global`);
      if (m.globals[init.index].type !== g.type || m.globals[init.index].mutable) fail(`global ${i} initializer reads global of wrong type or a mutable one`);
    }
  });
  const checkOffset = (e: { kind: string; type?: ValType; index?: number } | null, what: string): void => {
    if (e === null) return;
    if (e.kind === 'const' && e.type !== I32) fail(`${what} offset must be i32`);
    if (e.kind === 'global.get' && (e.index! >= m.numImportedGlobals || m.globals[e.index!].type !== I32)) fail(`${what} offset global invalid`);
  };
  m.elems.forEach((s, i) => {
    if (s.mode === 'active' && m.table === null) fail(`element segment ${i} needs a table`);
    checkOffset(s.offset, `element segment ${i}`);
    for (const f of s.funcs) if (f >= nfuncs) fail(`element segment ${i} refers to missing function ${f}`);
  });
  m.datas.forEach((s, i) => {
    if (s.mode === 'active' && m.memory === null) fail(`data segment ${i} needs a memory`);
    checkOffset(s.offset, `data segment ${i}`);
  });
  if (m.memory && m.memory.max !== null && m.memory.max < m.memory.min) fail('memory maximum below minimum');
  if (m.table && m.table.max !== null && m.table.max < m.table.min) fail('table maximum below minimum');
  m.bodies.forEach((b, i) => validateFunction(m, m.numImportedFuncs + i));
}

/** Validate one defined function (spec 3.4.1 / Appendix A.3). */
export function validateFunction(m: WasmModule, fnIndex: number): void {
  const type = m.types[m.funcTypes[fnIndex]];
  const body = m.bodies[fnIndex - m.numImportedFuncs];
  const locals: ValType[] = [...type.params, ...body.locals];
  const vals: StackType[] = [];
  const ctrls: Ctrl[] = [];
  let cur: Instr = body.code[0];

  const fail = (msg: string): never => {
    throw new WasmValidationError(`wasm2rv: invalid module: ${msg} (${opName(cur.op)}) in function ${fnIndex} '${funcName(m, fnIndex)}' at offset 0x${cur.off.toString(16)}`);
  };
  const push = (t: StackType): void => { vals.push(t); };
  const pop = (): StackType => {
    const c = ctrls[ctrls.length - 1];
    if (vals.length === c.height) {
      if (c.unreachable) return UNKNOWN;
      fail('operand stack underflow');
    }
    return vals.pop()!;
  };
  const popExpect = (t: StackType): StackType => {
    const a = pop();
    if (a !== t && a !== UNKNOWN && t !== UNKNOWN) fail(`type mismatch: expected ${valTypeName(t)}, got ${valTypeName(a)}`);
    return a === UNKNOWN ? t : a;
  };
  const pushCtrl = (opcode: number, results: ValType[]): void => {
    ctrls.push({ opcode, labelTypes: opcode === 0x03 ? [] : results, endTypes: results, height: vals.length, unreachable: false });
  };
  const popCtrl = (): Ctrl => {
    if (ctrls.length === 0) fail('control stack underflow');
    const c = ctrls[ctrls.length - 1];
    for (let i = c.endTypes.length - 1; i >= 0; i--) popExpect(c.endTypes[i]);
    if (vals.length !== c.height) fail('values remain on the stack at end of block');
    ctrls.pop();
    return c;
  };
  const unreachable = (): void => {
    const c = ctrls[ctrls.length - 1];
    vals.length = c.height;
    c.unreachable = true;
  };
  const label = (n: number): ValType[] => {
    if (n >= ctrls.length) fail(`branch depth ${n} out of range`);
    return ctrls[ctrls.length - 1 - n].labelTypes;
  };
  const btypes = (bt: number): ValType[] => (bt === BLOCK_EMPTY ? [] : [bt as ValType]);

  pushCtrl(0x02, [...type.results]);
  const needMemory = (): void => { if (m.memory === null) fail('no memory'); };

  for (let pc = 0; pc < body.code.length; pc++) {
    cur = body.code[pc];
    const ins = cur;
    if (ctrls.length === 0) fail('instructions after the end of the function');
    const info = opInfo(ins.op)!;
    if (info.sig !== null) {
      if (info.imm === 'memarg') {
        needMemory();
        if (ins.a > naturalAlign(ins.op)) fail('alignment must not be larger than natural');
      }
      if (ins.op === 0x3f || ins.op === 0x40 || ins.op === 0xfc0a || ins.op === 0xfc0b) needMemory();
      if (ins.op === 0xfc08) {
        needMemory();
        if (ins.a >= m.datas.length) fail(`data segment ${ins.a} does not exist`);
      }
      for (let i = info.sig.ins.length - 1; i >= 0; i--) popExpect(info.sig.ins[i]);
      if (info.sig.out !== null) push(info.sig.out);
      continue;
    }
    switch (ins.op) {
      case 0x00: unreachable(); break;
      case 0x01: break;
      case 0x02: case 0x03: pushCtrl(ins.op, btypes(ins.bt)); break;
      case 0x04: popExpect(I32); pushCtrl(0x04, btypes(ins.bt)); break;
      case 0x05: {
        const c = popCtrl();
        if (c.opcode !== 0x04) fail('else without if');
        pushCtrl(0x05, c.endTypes);
        break;
      }
      case 0x0b: {
        const c = popCtrl();
        if (c.opcode === 0x04 && c.endTypes.length !== 0) fail('if with a result needs an else');
        for (const t of c.endTypes) push(t);
        break;
      }
      case 0x0c: {
        const ts = label(ins.a);
        for (let i = ts.length - 1; i >= 0; i--) popExpect(ts[i]);
        unreachable();
        break;
      }
      case 0x0d: {
        popExpect(I32);
        const ts = label(ins.a);
        for (let i = ts.length - 1; i >= 0; i--) popExpect(ts[i]);
        for (const t of ts) push(t);
        break;
      }
      case 0x0e: {
        popExpect(I32);
        const targets = ins.targets!;
        const def = label(targets[targets.length - 1]);
        for (const t of targets) {
          const ts = label(t);
          if (ts.length !== def.length || ts.some((x, i) => x !== def[i])) fail('br_table targets have different types');
        }
        for (let i = def.length - 1; i >= 0; i--) popExpect(def[i]);
        unreachable();
        break;
      }
      case 0x0f: {
        for (let i = type.results.length - 1; i >= 0; i--) popExpect(type.results[i]);
        unreachable();
        break;
      }
      case 0x10: {
        if (ins.a >= m.funcTypes.length) fail(`call to missing function ${ins.a}`);
        const t = m.types[m.funcTypes[ins.a]];
        for (let i = t.params.length - 1; i >= 0; i--) popExpect(t.params[i]);
        for (const r of t.results) push(r);
        break;
      }
      case 0x11: {
        if (m.table === null) fail('call_indirect without a table');
        if (ins.a >= m.types.length) fail(`call_indirect type ${ins.a} does not exist`);
        popExpect(I32);
        const t = m.types[ins.a];
        for (let i = t.params.length - 1; i >= 0; i--) popExpect(t.params[i]);
        for (const r of t.results) push(r);
        break;
      }
      case 0x1a: ins.bt = pop(); break;
      case 0x1b: {
        popExpect(I32);
        const t1 = pop();
        const t2 = pop();
        if (t1 !== UNKNOWN && t2 !== UNKNOWN && t1 !== t2) fail('select operands differ in type');
        const t = t1 === UNKNOWN ? t2 : t1;
        ins.bt = t;
        push(t);
        break;
      }
      case 0x20: {
        if (ins.a >= locals.length) fail(`local ${ins.a} does not exist`);
        push(locals[ins.a]);
        break;
      }
      case 0x21: case 0x22: {
        if (ins.a >= locals.length) fail(`local ${ins.a} does not exist`);
        popExpect(locals[ins.a]);
        if (ins.op === 0x22) push(locals[ins.a]);
        break;
      }
      case 0x23: {
        if (ins.a >= m.globals.length) fail(`global ${ins.a} does not exist`);
        push(m.globals[ins.a].type);
        break;
      }
      case 0x24: {
        if (ins.a >= m.globals.length) fail(`global ${ins.a} does not exist`);
        if (!m.globals[ins.a].mutable) fail(`global ${ins.a} is immutable`);
        popExpect(m.globals[ins.a].type);
        break;
      }
      case 0xfc09:
        if (ins.a >= m.datas.length) fail(`data segment ${ins.a} does not exist`);
        break;
      default:
        fail('instruction not handled by the validator');
    }
  }
  if (ctrls.length !== 0) fail('function body does not end its blocks');
}
