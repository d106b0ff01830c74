// The WebAssembly opcodes wasm2rv accepts, with their immediates and (for the plain
// numeric/memory instructions) their operand and result types.
//
// Spec: WebAssembly 2.0, section 5.4 "Instructions" (binary encoding) and 3.3 (validation).
// Supported features: MVP, mutable-global, sign-extension ops (0xc0-0xc4), non-trapping
// float-to-int (0xfc 0-7), bulk memory (0xfc 8-11: memory.init, data.drop, memory.copy,
// memory.fill). Anything else is named by `unsupportedFeature` so the error can say why.

import { F32, F64, I32, I64, type ValType } from './module.ts';

export type ImmKind =
  | 'none' | 'block' | 'label' | 'br_table' | 'func' | 'call_indirect' | 'local' | 'global'
  | 'memarg' | 'memidx' | 'i32' | 'i64' | 'f32' | 'f64' | 'data' | 'data_mem' | 'mem_mem';

export interface OpInfo {
  readonly name: string;
  readonly imm: ImmKind;
  /** For fixed-signature instructions: operand types popped and result pushed. */
  readonly sig: { readonly ins: readonly ValType[]; readonly out: ValType | null } | null;
}

const table = new Map<number, OpInfo>();

function def(op: number, name: string, imm: ImmKind, sig: string | null = null): void {
  let s: OpInfo['sig'] = null;
  if (sig !== null) {
    const [ins, out] = sig.split('>');
    const t = (x: string): ValType => ({ i32: I32, i64: I64, f32: F32, f64: F64 } as const)[x as 'i32']!;
    s = { ins: ins.trim() === '' ? [] : ins.trim().split(' ').map(t), out: out.trim() === '' ? null : t(out.trim()) };
  }
  table.set(op, { name, imm, sig: s });
}

// Control instructions (5.4.1).
def(0x00, 'unreachable', 'none');
def(0x01, 'nop', 'none');
def(0x02, 'block', 'block');
def(0x03, 'loop', 'block');
def(0x04, 'if', 'block');
def(0x05, 'else', 'none');
def(0x0b, 'end', 'none');
def(0x0c, 'br', 'label');
def(0x0d, 'br_if', 'label');
def(0x0e, 'br_table', 'br_table');
def(0x0f, 'return', 'none');
def(0x10, 'call', 'func');
def(0x11, 'call_indirect', 'call_indirect');
// Parametric (5.4.3).
def(0x1a, 'drop', 'none');
def(0x1b, 'select', 'none');
// Variable (5.4.4).
def(0x20, 'local.get', 'local');
def(0x21, 'local.set', 'local');
def(0x22, 'local.tee', 'local');
def(0x23, 'global.get', 'global');
def(0x24, 'global.set', 'global');
// Memory (5.4.6).
def(0x28, 'i32.load', 'memarg', 'i32>i32');
def(0x29, 'i64.load', 'memarg', 'i32>i64');
def(0x2a, 'f32.load', 'memarg', 'i32>f32');
def(0x2b, 'f64.load', 'memarg', 'i32>f64');
def(0x2c, 'i32.load8_s', 'memarg', 'i32>i32');
def(0x2d, 'i32.load8_u', 'memarg', 'i32>i32');
def(0x2e, 'i32.load16_s', 'memarg', 'i32>i32');
def(0x2f, 'i32.load16_u', 'memarg', 'i32>i32');
def(0x30, 'i64.load8_s', 'memarg', 'i32>i64');
def(0x31, 'i64.load8_u', 'memarg', 'i32>i64');
def(0x32, 'i64.load16_s', 'memarg', 'i32>i64');
def(0x33, 'i64.load16_u', 'memarg', 'i32>i64');
def(0x34, 'i64.load32_s', 'memarg', 'i32>i64');
def(0x35, 'i64.load32_u', 'memarg', 'i32>i64');
def(0x36, 'i32.store', 'memarg', 'i32 i32>');
def(0x37, 'i64.store', 'memarg', 'i32 i64>');
def(0x38, 'f32.store', 'memarg', 'i32 f32>');
def(0x39, 'f64.store', 'memarg', 'i32 f64>');
def(0x3a, 'i32.store8', 'memarg', 'i32 i32>');
def(0x3b, 'i32.store16', 'memarg', 'i32 i32>');
def(0x3c, 'i64.store8', 'memarg', 'i32 i64>');
def(0x3d, 'i64.store16', 'memarg', 'i32 i64>');
def(0x3e, 'i64.store32', 'memarg', 'i32 i64>');
def(0x3f, 'memory.size', 'memidx', '>i32');
def(0x40, 'memory.grow', 'memidx', 'i32>i32');
// Numeric (5.4.7).
def(0x41, 'i32.const', 'i32', '>i32');
def(0x42, 'i64.const', 'i64', '>i64');
def(0x43, 'f32.const', 'f32', '>f32');
def(0x44, 'f64.const', 'f64', '>f64');

const cmpI32 = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
def(0x45, 'i32.eqz', 'none', 'i32>i32');
cmpI32.forEach((n, i) => def(0x46 + i, `i32.${n}`, 'none', 'i32 i32>i32'));
def(0x50, 'i64.eqz', 'none', 'i64>i32');
cmpI32.forEach((n, i) => def(0x51 + i, `i64.${n}`, 'none', 'i64 i64>i32'));
const cmpF = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
cmpF.forEach((n, i) => def(0x5b + i, `f32.${n}`, 'none', 'f32 f32>i32'));
cmpF.forEach((n, i) => def(0x61 + i, `f64.${n}`, 'none', 'f64 f64>i32'));

['clz', 'ctz', 'popcnt'].forEach((n, i) => def(0x67 + i, `i32.${n}`, 'none', 'i32>i32'));
const binI = ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];
binI.forEach((n, i) => def(0x6a + i, `i32.${n}`, 'none', 'i32 i32>i32'));
['clz', 'ctz', 'popcnt'].forEach((n, i) => def(0x79 + i, `i64.${n}`, 'none', 'i64>i64'));
binI.forEach((n, i) => def(0x7c + i, `i64.${n}`, 'none', 'i64 i64>i64'));
const unF = ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt'];
const binF = ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'];
unF.forEach((n, i) => def(0x8b + i, `f32.${n}`, 'none', 'f32>f32'));
binF.forEach((n, i) => def(0x92 + i, `f32.${n}`, 'none', 'f32 f32>f32'));
unF.forEach((n, i) => def(0x99 + i, `f64.${n}`, 'none', 'f64>f64'));
binF.forEach((n, i) => def(0xa0 + i, `f64.${n}`, 'none', 'f64 f64>f64'));

def(0xa7, 'i32.wrap_i64', 'none', 'i64>i32');
def(0xa8, 'i32.trunc_f32_s', 'none', 'f32>i32');
def(0xa9, 'i32.trunc_f32_u', 'none', 'f32>i32');
def(0xaa, 'i32.trunc_f64_s', 'none', 'f64>i32');
def(0xab, 'i32.trunc_f64_u', 'none', 'f64>i32');
def(0xac, 'i64.extend_i32_s', 'none', 'i32>i64');
def(0xad, 'i64.extend_i32_u', 'none', 'i32>i64');
def(0xae, 'i64.trunc_f32_s', 'none', 'f32>i64');
def(0xaf, 'i64.trunc_f32_u', 'none', 'f32>i64');
def(0xb0, 'i64.trunc_f64_s', 'none', 'f64>i64');
def(0xb1, 'i64.trunc_f64_u', 'none', 'f64>i64');
def(0xb2, 'f32.convert_i32_s', 'none', 'i32>f32');
def(0xb3, 'f32.convert_i32_u', 'none', 'i32>f32');
def(0xb4, 'f32.convert_i64_s', 'none', 'i64>f32');
def(0xb5, 'f32.convert_i64_u', 'none', 'i64>f32');
def(0xb6, 'f32.demote_f64', 'none', 'f64>f32');
def(0xb7, 'f64.convert_i32_s', 'none', 'i32>f64');
def(0xb8, 'f64.convert_i32_u', 'none', 'i32>f64');
def(0xb9, 'f64.convert_i64_s', 'none', 'i64>f64');
def(0xba, 'f64.convert_i64_u', 'none', 'i64>f64');
def(0xbb, 'f64.promote_f32', 'none', 'f32>f64');
def(0xbc, 'i32.reinterpret_f32', 'none', 'f32>i32');
def(0xbd, 'i64.reinterpret_f64', 'none', 'f64>i64');
def(0xbe, 'f32.reinterpret_i32', 'none', 'i32>f32');
def(0xbf, 'f64.reinterpret_i64', 'none', 'i64>f64');
// Sign-extension operators proposal (now spec 2.0, 5.4.7).
def(0xc0, 'i32.extend8_s', 'none', 'i32>i32');
def(0xc1, 'i32.extend16_s', 'none', 'i32>i32');
def(0xc2, 'i64.extend8_s', 'none', 'i64>i64');
def(0xc3, 'i64.extend16_s', 'none', 'i64>i64');
def(0xc4, 'i64.extend32_s', 'none', 'i64>i64');
// 0xfc prefix: non-trapping float-to-int (0-7) and bulk memory (8-11).
def(0xfc00, 'i32.trunc_sat_f32_s', 'none', 'f32>i32');
def(0xfc01, 'i32.trunc_sat_f32_u', 'none', 'f32>i32');
def(0xfc02, 'i32.trunc_sat_f64_s', 'none', 'f64>i32');
def(0xfc03, 'i32.trunc_sat_f64_u', 'none', 'f64>i32');
def(0xfc04, 'i64.trunc_sat_f32_s', 'none', 'f32>i64');
def(0xfc05, 'i64.trunc_sat_f32_u', 'none', 'f32>i64');
def(0xfc06, 'i64.trunc_sat_f64_s', 'none', 'f64>i64');
def(0xfc07, 'i64.trunc_sat_f64_u', 'none', 'f64>i64');
def(0xfc08, 'memory.init', 'data_mem', 'i32 i32 i32>');
def(0xfc09, 'data.drop', 'data');
def(0xfc0a, 'memory.copy', 'mem_mem', 'i32 i32 i32>');
def(0xfc0b, 'memory.fill', 'memidx', 'i32 i32 i32>');

export function opInfo(op: number): OpInfo | undefined {
  return table.get(op);
}

export function opName(op: number): string {
  return table.get(op)?.name ?? `0x${op.toString(16)}`;
}

/** The feature an unsupported opcode belongs to, for error messages. */
export function unsupportedFeature(op: number): string {
  if (op === 0xfd) return 'SIMD';
  if (op === 0xfe) return 'threads';
  if (op >= 0xfc0c && op <= 0xfc11) return 'reference types / table bulk ops';
  if (op === 0xfc0c || op === 0xfc0d || op === 0xfc0e) return 'table bulk ops';
  if (op >= 0x06 && op <= 0x0a || op === 0x18 || op === 0x19) return 'exception handling';
  if (op === 0x12 || op === 0x13) return 'tail calls';
  if (op === 0x1c) return 'typed select (reference types)';
  if (op === 0x25 || op === 0x26) return 'reference types (table.get/set)';
  if (op >= 0xd0 && op <= 0xd6) return 'reference types / GC';
  if (op === 0xfb) return 'GC';
  return 'unknown opcode';
}
