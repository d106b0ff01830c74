// wasm2rv: a WebAssembly module -> an RV32IMAFD ELF32 executable for the l4ts user address
// space (src/abi/layout.ts). This file is the driver and linker: decode, validate, resolve
// imports, lay out the segments, generate every function, patch calls, and write the ELF.
//
// Image layout (docs/WASM2RV.md):
//   0x0000_0000  linear memory, initial size, with the active data segments    (rw)
//   CODE_BASE    _start, runtime routines, the functions                         (x only)
//   RODATA_BASE  the table ([address, signature id] per element), passive segments (r)
//   TRAPS_BASE   `.wasm2rv.traps`: trap-site table (traps.ts)                     (r)
//   FUNCS_BASE   `.wasm2rv.funcs`: per function [start, end, flags, index]        (r)
//   CONSTS_BASE  f32/f64 constants                                                (r)
//   DATA_BASE    runtime variables, globals, data-segment dropped flags          (rw)

import { writeElf32, type ElfSegmentInput, type ElfSymbol } from '../../abi/elf.ts';
import * as E from '../rv32/encode.ts';
import { CODE_BASE, DATA_BASE, LINEAR_MAX, PAGE_SIZE, RODATA_BASE } from '../../abi/layout.ts';
import type { ModuleInfo } from './codegen.ts';
import { decodeModule } from './decode.ts';
import { compileFunction } from './function.ts';
import { F32, F64, I32, I64, funcName, valTypeName, type FuncType, type ValType, type WasmModule } from './module.ts';
import { entryRoutines, helperRoutines } from './runtime.ts';
import { encodeTrapTable, type TrapEntry } from './traps.ts';
import { validateModule } from './validate.ts';
import { DATA_GLOBALS, DATA_MEMMAX, DATA_MEMRESERVED, DATA_MEMSIZE, T1 } from './regs.ts';
import { ENV_CALLS } from './sysno.ts';
import { Sys } from '../../abi/sys.ts';
import type { Intrinsic } from './codegen.ts';

/** The `l4` system-call imports: the lower-cased keys of Sys. */
export const L4_SYSCALLS: ReadonlyMap<string, number> = new Map(Object.entries(Sys).map(([k, v]) => [k.toLowerCase(), v]));

/** The `l4` intrinsics (inline code, no ecall) and their wasm types. */
const INTRINSICS: Readonly<Record<string, { params: ValType[]; results: ValType[]; text: string }>> = {
  res: { params: [I32], results: [I32], text: '(i32) -> i32' },
  peek: { params: [I32], results: [I32], text: '(i32) -> i32' },
  poke: { params: [I32, I32], results: [], text: '(i32, i32) -> void' },
  time: { params: [], results: [I64], text: '() -> i64' },
};

function sameSig(t: FuncType, params: ValType[], results: ValType[]): boolean {
  return t.params.length === params.length && t.params.every((p, i) => p === params[i]) &&
    t.results.length === results.length && t.results.every((r, i) => r === results[i]);
}

export const TRAPS_BASE = RODATA_BASE + 0x0200_0000;
export const FUNCS_BASE = RODATA_BASE + 0x0300_0000;
export const CONSTS_BASE = RODATA_BASE + 0x0400_0000;
export const FUNC_ENTRY_SIZE = 16;
/** Flag in a `.wasm2rv.funcs` entry: the function has a frame (fp chain). */
export const FUNC_HAS_FRAME = 1;

export class Wasm2rvError extends Error {}

export interface CompileOptions {
  /** Override of system-call numbers of `l4` imports, by name (default: src/abi/sys.ts Sys). */
  syscalls?: Readonly<Record<string, number>>;
  /** More host calls, by "module.name" (the fuzzer's logging imports). */
  hostCalls?: Readonly<Record<string, number>>;
  /** Count executed wasm operators into DATA_BASE + DATA_OPCOUNT (benchmarks only). */
  countOps?: boolean;
}

export interface CompileResult {
  elf: Uint8Array;
  /** Code bytes per function index (defined functions only), for statistics. */
  codeBytes: number;
  /** Address of each function (imports: -1). */
  funcAddrs: number[];
  module: WasmModule;
}

const u8 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** Compile wasm bytes to an ELF image. Throws Wasm2rvError / WasmDecodeError / WasmValidationError. */
export function wasm2rv(bytes: Uint8Array, opts: CompileOptions = {}): CompileResult {
  const m = decodeModule(bytes);
  validateModule(m);
  const fail = (msg: string): never => { throw new Wasm2rvError(`wasm2rv: ${msg}`); };

  // Imports: functions only. `l4.*`: the kernel's system calls by the lower-cased key of Sys
  // (src/abi/sys.ts) and the intrinsics res/peek/poke/time; `env.*`: the runtime calls (src/abi/runtime.ts).
  const importCalls = new Map<number, number>();
  const sysImports = new Set<number>();
  const intrinsics = new Map<number, Intrinsic>();
  let fi = 0;
  for (const imp of m.imports) {
    const full = `${imp.module}.${imp.name}`;
    if (imp.desc.kind !== 'func') fail(`unresolved import '${full}' (${imp.desc.kind} imports are not supported: the module must define its own ${imp.desc.kind})`);
    const sig = m.types[m.funcTypes[fi]];
    const sigText = `(${sig.params.map(valTypeName).join(', ')}) -> ${sig.results.length ? valTypeName(sig.results[0]) : 'void'}`;
    if (imp.module === 'l4') {
      const intr = INTRINSICS[imp.name];
      if (intr !== undefined) {
        if (!sameSig(sig, intr.params, intr.results)) fail(`import '${full}' has type ${sigText}, but the intrinsic is ${intr.text}`);
        intrinsics.set(fi, imp.name as Intrinsic);
        fi++;
        continue;
      }
      const num = opts.syscalls?.[imp.name] ?? L4_SYSCALLS.get(imp.name);
      if (num === undefined) fail(`unresolved import '${full}' (function ${fi}): not a system call (${[...L4_SYSCALLS.keys()].join(', ')}) nor an intrinsic (res, peek, poke, time)`);
      if (sig.params.length > 7 || sig.params.some((p) => p !== I32) || sig.results.length > 1 || (sig.results.length === 1 && sig.results[0] !== I32)) {
        fail(`import '${full}' has type ${sigText}: a system call takes at most 7 i32 parameters and returns i32 or nothing`);
      }
      importCalls.set(fi, num!);
      sysImports.add(fi);
      fi++;
      continue;
    }
    const num = opts.hostCalls?.[full] ?? ENV_CALLS[full];
    if (num === undefined) fail(`unresolved import '${full}' (function ${fi})`);
    let ints = 0;
    for (const p of sig.params) ints += p === I64 ? 2 : p === I32 ? 1 : 0;
    if (ints > 7 || sig.params.filter((p) => p === F32 || p === F64).length > 8) fail(`import '${full}' has too many parameters for a system call (at most 7 integer words and 8 floats)`);
    importCalls.set(fi, num!);
    fi++;
  }

  // Signature ids: structurally equal types share one (spec 4.4.8 call_indirect compares types).
  const sigKeys = new Map<string, number>();
  const sigIds = m.types.map((t) => {
    const key = `${t.params.map(valTypeName).join(',')}>${t.results.map(valTypeName).join(',')}`;
    let id = sigKeys.get(key);
    if (id === undefined) { id = sigKeys.size; sigKeys.set(key, id); }
    return id;
  });

  // Memory.
  const memMin = m.memory?.min ?? 0;
  const maxPages = LINEAR_MAX / 65536;
  if (memMin > maxPages) fail(`memory minimum of ${memMin} pages exceeds the ${maxPages}-page limit of the address space`);
  const memMax = Math.min(m.memory?.max ?? maxPages, maxPages);
  const memBytes = memMin * 65536;
  const constOffset = (e: { kind: string; lo?: number } | null, what: string): number => {
    if (e === null || e.kind !== 'const') return fail(`${what}: offsets from imported globals are not supported`);
    return e.lo! >>> 0;
  };

  // Read-only data: the table, then passive data segments.
  const tableSize = m.table?.min ?? 0;
  const tableEntries: number[] = new Array(tableSize).fill(-1); // function index or -1
  for (const [i, seg] of m.elems.entries()) {
    if (seg.mode !== 'active') continue;
    const off = constOffset(seg.offset, `element segment ${i}`);
    if (off + seg.funcs.length > tableSize) fail(`element segment ${i} does not fit the table (instantiation would trap)`);
    seg.funcs.forEach((f, k) => { tableEntries[off + k] = f; });
  }
  const rodata: number[] = [];
  const tableAddr = RODATA_BASE;
  for (let i = 0; i < tableSize; i++) rodata.push(...u8(0), ...u8(-1));
  const passive = new Map<number, { addr: number; len: number; flagAddr: number }>();
  const globalOffsets: number[] = [];
  let dataOff = DATA_GLOBALS;
  for (let i = 0; i < m.globals.length; i++) { globalOffsets.push(dataOff); dataOff += 8; }
  const flagInit: [number, number][] = [];
  m.datas.forEach((seg, i) => {
    const flagAddr = DATA_BASE + dataOff;
    dataOff += 4;
    if (seg.mode === 'passive') {
      const addr = RODATA_BASE + rodata.length;
      for (const x of seg.bytes) rodata.push(x);
      while (rodata.length % 4) rodata.push(0);
      passive.set(i, { addr, len: seg.bytes.length, flagAddr });
      flagInit.push([flagAddr - DATA_BASE, 0]);
    } else {
      // Active segments count as dropped after instantiation (spec 4.5.4 step 14).
      passive.set(i, { addr: 0, len: 0, flagAddr });
      flagInit.push([flagAddr - DATA_BASE, 1]);
    }
  });

  const mi: ModuleInfo = {
    m, sigIds, importCalls, sysImports, intrinsics, globalOffsets, tableAddr, tableSize, passive,
    constPool: new Map(), constPoolBase: CONSTS_BASE, constPoolBytes: [], minMemBytes: memBytes,
    countOps: opts.countOps ?? false,
  };

  // Code: entry and runtime routines, then the functions.
  const mainExp = m.exports.find((e) => e.kind === 'func' && e.name === 'main');
  let main: { index: number; returnsI32: boolean } | null = null;
  if (mainExp !== undefined) {
    const t = m.types[m.funcTypes[mainExp.index]];
    if (t.params.length === 0 && (t.results.length === 0 || t.results[0] === I32)) main = { index: mainExp.index, returnsI32: t.results.length === 1 };
  }
  interface Piece { name: string; fn: number; words: number[]; calls: { at: number; target: number | string; link: number }[]; traps: { at: number; kind: TrapEntry['kind']; wasmOff: number }[]; hasFrame: boolean; prologueBytes: number }
  const pieces: Piece[] = [];
  for (const r of [...entryRoutines(m.start, main), ...helperRoutines()]) {
    pieces.push({ name: r.name, fn: -1, words: r.asm.words, calls: r.asm.calls, traps: r.asm.traps, hasFrame: false, prologueBytes: 0 });
  }
  for (let i = 0; i < m.bodies.length; i++) {
    const idx = m.numImportedFuncs + i;
    const fc = compileFunction(mi, idx);
    pieces.push({ name: funcName(m, idx), fn: idx, words: fc.asm.words, calls: fc.asm.calls, traps: fc.asm.traps, hasFrame: fc.hasFrame, prologueBytes: fc.prologueBytes });
  }
  // Layout. A call is one `jal` (±1 MiB). A call whose target is farther goes through a veneer
  // (`auipc t1, hi; jalr zero, lo(t1)`: any distance, ra untouched) in an island placed right
  // after the calling piece; islands shift what follows, so the layout repeats until no call
  // needs a new veneer (the set only grows, so this terminates).
  const addrOfFn = new Array<number>(m.funcTypes.length).fill(-1);
  const addrOfName = new Map<string, number>();
  const starts: number[] = [];
  const islands: (number | string)[][] = pieces.map(() => []);
  const islandAt: number[] = [];
  const targetOf = (t: number | string): number => {
    const a = typeof t === 'number' ? addrOfFn[t] : addrOfName.get(t);
    if (a === undefined || a < 0) return fail(`internal: call to unknown ${String(t)}`);
    return a;
  };
  const inJal = (off: number): boolean => off >= -(1 << 20) && off < 1 << 20;
  let pc = CODE_BASE;
  for (let round = 0; ; round++) {
    pc = CODE_BASE;
    starts.length = 0;
    islandAt.length = 0;
    pieces.forEach((p, k) => {
      starts.push(pc);
      if (p.fn >= 0) addrOfFn[p.fn] = pc;
      else addrOfName.set(p.name, pc);
      pc += p.words.length * 4;
      islandAt.push(pc);
      pc += islands[k].length * 8;
    });
    let changed = false;
    pieces.forEach((p, k) => {
      for (const c of p.calls) {
        if (inJal(targetOf(c.target) - (starts[k] + c.at)) || islands[k].includes(c.target)) continue;
        islands[k].push(c.target);
        changed = true;
      }
    });
    if (!changed) break;
    if (round > pieces.length + 2) fail('internal: veneer layout did not converge');
  }
  const code = new Int32Array((pc - CODE_BASE) / 4);
  const traps: TrapEntry[] = [];
  const funcTable: number[] = [];
  const symbols: ElfSymbol[] = [];
  pieces.forEach((p, k) => {
    const base = starts[k];
    code.set(p.words, (base - CODE_BASE) / 4);
    islands[k].forEach((t, i) => {
      const at = islandAt[k] + 8 * i;
      const off = targetOf(t) - at;
      const lo = (off << 20) >> 20;
      code[(at - CODE_BASE) / 4] = E.auipc(T1, ((off - lo) >>> 12) & 0xfffff);
      code[(at - CODE_BASE) / 4 + 1] = E.jalr(0, T1, lo);
    });
    if (islands[k].length > 0) symbols.push({ name: `__veneers_${p.name}`, value: islandAt[k], size: islands[k].length * 8, kind: 'func', global: false });
    for (const c of p.calls) {
      let off = targetOf(c.target) - (base + c.at);
      if (!inJal(off)) {
        off = islandAt[k] + 8 * islands[k].indexOf(c.target) - (base + c.at);
        if (!inJal(off)) fail(`program too large: ${p.name} is larger than 1 MiB, its calls cannot reach their veneers`);
      }
      code[(base + c.at - CODE_BASE) / 4] = E.jal(c.link, off);
    }
    for (const t of p.traps) traps.push({ pc: base + t.at, kind: t.kind, wasmOff: t.wasmOff });
    const end = base + p.words.length * 4;
    funcTable.push(...u8(base), ...u8(end), ...u8((p.hasFrame ? FUNC_HAS_FRAME : 0) | (p.prologueBytes << 8)), ...u8(p.fn));
    symbols.push({ name: p.name, value: base, size: end - base, kind: 'func', global: true });
  });
  // Table entries now that addresses are known.
  const ro = new DataView(new Uint8Array(rodata).buffer);
  tableEntries.forEach((f, i) => {
    if (f < 0) return;
    ro.setUint32(i * 8, addrOfFn[f] >= 0 ? addrOfFn[f] : importStub(f), true);
    ro.setInt32(i * 8 + 4, sigIds[m.funcTypes[f]], true);
  });
  function importStub(f: number): number {
    return fail(`table element refers to imported function ${f} ('${funcName(m, f)}'): not supported`);
  }

  // Data: runtime variables, globals, dropped flags.
  const data = new DataView(new ArrayBuffer(Math.max(dataOff, DATA_GLOBALS)));
  data.setUint32(DATA_MEMSIZE, memBytes, true);
  data.setUint32(DATA_MEMMAX, memMax * 65536, true);
  // In 4 KiB pages, as BootInfo.LinearPages, which _start puts here when it is given BootInfo.
  data.setUint32(DATA_MEMRESERVED, memMin * (65536 / PAGE_SIZE), true);
  m.globals.forEach((gl, i) => {
    if (gl.init.kind !== 'const') fail(`global ${i}: initializers from imported globals are not supported`);
    const init = gl.init as { lo: number; hi: number };
    data.setInt32(globalOffsets[i], init.lo, true);
    if (gl.type === I64 || gl.type === F64) data.setInt32(globalOffsets[i] + 4, init.hi, true);
  });
  for (const [off, v] of flagInit) data.setUint32(off, v, true);

  // Linear memory image.
  let memEnd = 0;
  const activeData: { off: number; bytes: Uint8Array }[] = [];
  m.datas.forEach((seg, i) => {
    if (seg.mode !== 'active') return;
    const off = constOffset(seg.offset, `data segment ${i}`);
    if (off + seg.bytes.length > memBytes) fail(`data segment ${i} does not fit the initial memory (instantiation would trap)`);
    activeData.push({ off, bytes: seg.bytes });
    memEnd = Math.max(memEnd, off + seg.bytes.length);
  });
  const mem = new Uint8Array(memEnd);
  for (const s of activeData) mem.set(s.bytes, s.off);

  const trapBytes = encodeTrapTable(traps);
  const segments: ElfSegmentInput[] = [];
  if (memBytes > 0) segments.push({ vaddr: 0, data: mem, memsz: memBytes, flags: 'rw', name: '.wasm.memory' });
  segments.push({ vaddr: CODE_BASE, data: new Uint8Array(code.buffer), flags: 'rx', name: '.text' });
  if (rodata.length > 0) segments.push({ vaddr: RODATA_BASE, data: new Uint8Array(ro.buffer), flags: 'r', name: '.rodata' });
  if (trapBytes.length > 0) segments.push({ vaddr: TRAPS_BASE, data: trapBytes, flags: 'r', name: '.wasm2rv.traps' });
  segments.push({ vaddr: FUNCS_BASE, data: new Uint8Array(funcTable), flags: 'r', name: '.wasm2rv.funcs' });
  if (mi.constPoolBytes.length > 0) segments.push({ vaddr: CONSTS_BASE, data: new Uint8Array(mi.constPoolBytes), flags: 'r', name: '.rodata.consts' });
  segments.push({ vaddr: DATA_BASE, data: new Uint8Array(data.buffer), flags: 'rw', name: '.data' });

  symbols.push(
    { name: '__wasm2rv_traps', value: TRAPS_BASE, size: trapBytes.length, kind: 'object', global: true },
    { name: '__wasm2rv_funcs', value: FUNCS_BASE, size: funcTable.length, kind: 'object', global: true },
    { name: '__wasm2rv_table', value: tableAddr, size: tableSize * 8, kind: 'object', global: true },
  );
  for (const e of m.exports) {
    if (e.kind === 'func' && addrOfFn[e.index] >= 0) symbols.push({ name: `__export_${e.name}`, value: addrOfFn[e.index], kind: 'func', global: true });
  }
  const elf = writeElf32({ entry: addrOfName.get('_start')!, segments, symbols });
  return { elf, codeBytes: code.length * 4, funcAddrs: addrOfFn, module: m };
}
