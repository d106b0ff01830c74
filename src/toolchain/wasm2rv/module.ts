// The decoded form of a WebAssembly module, as produced by decode.ts and consumed by the
// validator (validate.ts) and the code generator (codegen.ts).
//
// Only what wasm2rv supports is representable: one memory, at most one funcref table, value
// types i32/i64/f32/f64 (WebAssembly spec 2.0, section 2.3 "Types"). Everything else is
// rejected by the decoder with a message that names the feature.

/** Value types by their binary encoding (spec 5.3.1). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64;

export function valTypeName(t: number): string {
  switch (t) {
    case I32: return 'i32';
    case I64: return 'i64';
    case F32: return 'f32';
    case F64: return 'f64';
    default: return `0x${t.toString(16)}`;
  }
}

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface Limits {
  readonly min: number;
  readonly max: number | null;
}

/** One decoded instruction. `off` is its byte offset in the module (for trap reports). */
export interface Instr {
  /** Opcode; for the 0xfc prefix, 0xfc00 | sub-opcode. */
  op: number;
  off: number;
  /** First immediate: index (local/global/func/type/label/data), memarg align, const low bits. */
  a: number;
  /** Second immediate: memarg offset, call_indirect table, const high bits (i64, f64). */
  b: number;
  /** Block type for block/loop/if: BLOCK_EMPTY, a value type, or never a type index. */
  bt: number;
  /** br_table targets; the last element is the default label. */
  targets: number[] | null;
}

/** Block type `[] -> []` (spec 5.4.1, the 0x40 byte). */
export const BLOCK_EMPTY = 0x40;

export type ImportDesc =
  | { kind: 'func'; typeIndex: number }
  | { kind: 'memory'; limits: Limits }
  | { kind: 'table'; limits: Limits }
  | { kind: 'global'; type: ValType; mutable: boolean };

export interface Import {
  readonly module: string;
  readonly name: string;
  readonly desc: ImportDesc;
}

/** A constant expression (spec 3.3.10): only what MVP allows in initializers. */
export type ConstExpr =
  | { kind: 'const'; type: ValType; lo: number; hi: number }
  | { kind: 'global.get'; index: number };

export interface Global {
  readonly type: ValType;
  readonly mutable: boolean;
  readonly init: ConstExpr;
}

export interface Export {
  readonly name: string;
  readonly kind: 'func' | 'table' | 'memory' | 'global';
  readonly index: number;
}

export interface ElemSegment {
  /** Active segments have an offset; passive/declarative ones are never applied. */
  readonly mode: 'active' | 'passive' | 'declarative';
  readonly offset: ConstExpr | null;
  /** Function indices; -1 is a null reference (ref.null func in an expression segment). */
  readonly funcs: number[];
}

export interface DataSegment {
  readonly mode: 'active' | 'passive';
  readonly offset: ConstExpr | null;
  readonly bytes: Uint8Array;
}

export interface FuncBody {
  /** Types of the declared locals (parameters excluded), expanded. */
  readonly locals: ValType[];
  readonly code: Instr[];
  /** Byte offset of the body in the module. */
  readonly off: number;
}

export interface WasmModule {
  readonly types: FuncType[];
  readonly imports: Import[];
  /** Type index of every function, imported ones first (spec 2.5.1 index spaces). */
  readonly funcTypes: number[];
  readonly numImportedFuncs: number;
  /** The single table (imported or defined), or null. */
  readonly table: Limits | null;
  readonly memory: Limits | null;
  readonly memoryImported: boolean;
  readonly globals: Global[];
  readonly numImportedGlobals: number;
  readonly exports: Export[];
  readonly start: number | null;
  readonly elems: ElemSegment[];
  readonly datas: DataSegment[];
  /** Bodies of the defined functions, in order (index i is function numImportedFuncs + i). */
  readonly bodies: FuncBody[];
  /** Function names from the name section (spec 7.4.1 "Name Section"), by function index. */
  readonly funcNames: Map<number, string>;
}

/** A printable name for function `index`: its name-section name or `func<index>`. */
export function funcName(m: WasmModule, index: number): string {
  return m.funcNames.get(index) ?? `func${index}`;
}
