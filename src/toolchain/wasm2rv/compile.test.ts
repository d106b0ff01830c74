// wasm2rv unit tests on small hand-assembled modules: every trap kind (checked against V8 and
// by kind), exact bounds at the end of memory, memory.grow, fault reports with symbolized
// backtraces, and the errors for unsupported or malformed input and unresolved imports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm2rv } from './compile.ts';
import { compareRuns, runInV8, runOnMachine } from './diff-harness.ts';
import { HostEnv } from './host-env.ts';
import { DATA_BASE } from '../../abi/layout.ts';
import { MemProto, RtData } from '../../abi/runtime.ts';
import { Method, Sys } from '../../abi/sys.ts';
import { Err } from '../../abi/errors.ts';
import { BOOTINFO_MAGIC, BootInfo, BootSlot, CompSlot, Rights } from '../../abi/caps.ts';
import { msgInfo } from '../../abi/message.ts';

const I32 = 0x7f;
const I64 = 0x7e;
const F64 = 0x7c;

function leb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}
const uleb = (n: number): number[] => { const o: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const str = (s: string): number[] => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

interface Fn { type: number; locals?: number[]; body: number[]; name: string }

/** A module with one memory (pages), an optional table, and functions all exported by name. */
function build(types: [number[], number[]][], funcs: Fn[], opts: { pages?: number; maxPages?: number; table?: number[]; tableSize?: number; imports?: [string, string, number][]; data?: [number, number[]][] } = {}): Uint8Array {
  const imports = opts.imports ?? [];
  const b: number[] = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  const put = (bytes: number[]): void => { for (const x of bytes) b.push(x); };
  put(section(1, vec(types.map(([p, r]) => [0x60, ...vec(p.map((t) => [t])), ...vec(r.map((t) => [t]))]))));
  if (imports.length) put(section(2, vec(imports.map(([m, n, t]) => [...str(m), ...str(n), 0, ...uleb(t)]))));
  put(section(3, vec(funcs.map((f) => uleb(f.type)))));
  if (opts.table) put(section(4, vec([[0x70, 0, ...uleb(opts.tableSize ?? opts.table.length)]])));
  const pages = opts.pages ?? 1;
  put(section(5, vec([opts.maxPages !== undefined ? [1, ...uleb(pages), ...uleb(opts.maxPages)] : [0, ...uleb(pages)]])));
  put(section(7, vec(funcs.map((f, i) => [...str(f.name), 0, ...uleb(imports.length + i)]))));
  if (opts.table) put(section(9, vec([[0, 0x41, 0, 0x0b, ...vec(opts.table.map((f) => uleb(f)))]])));
  put(section(10, vec(funcs.map((f) => {
    const body = [...vec((f.locals ?? []).map((t) => [1, t])), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  }))));
  if (opts.data) put(section(11, vec(opts.data.map(([off, bytes]) => [0, 0x41, ...leb(off), 0x0b, ...vec(bytes.map((x) => [x]))]))));
  const names = vec(funcs.map((f, i) => [...uleb(imports.length + i), ...str(f.name)]));
  put(section(0, [...str('name'), 1, ...uleb(names.length), ...names]));
  return new Uint8Array(b);
}

const c32 = (v: number): number[] => [0x41, ...leb(v)];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

// Types: 0 [] -> [i32], 1 [i32] -> [i32], 2 [] -> [], 3 [i32 i32] -> [i32]
const TYPES: [number[], number[]][] = [[[], [I32]], [[I32], [I32]], [[], []], [[I32, I32], [I32]]];

test('every trap kind, exact bounds and memory.grow agree with V8', async () => {
  const mod = build(TYPES, trapModuleFuncs(), { pages: 1, maxPages: 4, table: [16, 17], tableSize: 3 });
  const plan = { calls: trapModuleFuncs().filter((f) => f.type === 0).map((f) => ({ name: f.name, args: [] })) };
  const v8 = await runInV8(mod, plan);
  const rv = runOnMachine(mod, plan);
  assert.deepEqual(compareRuns(v8, rv), []);
  const kinds = Object.fromEntries(rv.calls.map((c) => [c.name, c.result.kind === 'trap' ? c.result.trap : c.result.kind === 'value' ? c.result.value : c.result.kind]));
  assert.deepEqual(kinds, {
    div0: 'int_div_zero', overflow: 'int_overflow', rem_ok: '0', conv: 'invalid_conversion',
    unreach: 'unreachable', last_ok: '0', edge_oob: 'oob_memory', offset_oob: 'oob_memory',
    store_oob: 'oob_memory', huge_oob: 'oob_memory', grow: '12', grow_fail: '-1', ind_ok: '6',
    ind_sig: 'indirect_call_mismatch', ind_null: 'indirect_call_mismatch', ind_oob: 'oob_table',
    deep: 'stack_overflow',
  });
});

function trapModuleFuncs(): Fn[] {
  const fs: Fn[] = [
    { name: 'div0', type: 0, body: [...c32(7), ...c32(0), 0x6d] },
    { name: 'overflow', type: 0, body: [...c32(-0x80000000), ...c32(-1), 0x6d] },
    { name: 'rem_ok', type: 0, body: [...c32(-0x80000000), ...c32(-1), 0x6f] },
    { name: 'conv', type: 0, body: [0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x41, 0xaa] },
    { name: 'unreach', type: 0, body: [0x00] },
    { name: 'last_ok', type: 0, body: [...c32(65536 - 4), 0x28, 2, 0] },
    { name: 'edge_oob', type: 0, body: [...c32(65536 - 3), 0x28, 0, 0] },
    { name: 'offset_oob', type: 0, body: [0x20, 0, 0x1a, ...c32(65536 - 8), 0x28, 2, ...uleb(8)] },
    // i32.store at 65530 succeeds; i64.store at 65533 traps without writing; reload 65530.
    { name: 'store_oob', type: 0, body: [...c32(65530), ...c32(0x11223344), 0x36, 0, 0, ...c32(65533), 0x42, 1, 0x37, 0, 0] },
    { name: 'huge_oob', type: 0, body: [...c32(-16), 0x28, 2, 0] },
    { name: 'grow', type: 0, body: [...c32(2), 0x40, 0, 0x1a, ...c32(3 * 65536 - 4), ...c32(9), 0x36, 2, 0, ...c32(3 * 65536 - 4), 0x28, 2, 0, 0x3f, 0, 0x6a] },
    { name: 'grow_fail', type: 0, body: [...c32(100), 0x40, 0] },
    { name: 'ind_ok', type: 0, body: [...c32(5), ...c32(0), 0x11, 1, 0] },
    { name: 'ind_sig', type: 0, body: [...c32(5), ...c32(1), 0x11, 1, 0] },
    { name: 'ind_null', type: 0, body: [...c32(5), ...c32(2), 0x11, 1, 0] },
    { name: 'ind_oob', type: 0, body: [...c32(5), ...c32(3), 0x11, 1, 0] },
    { name: 'inc', type: 1, body: [0x20, 0, ...c32(1), 0x6a] },
    { name: 'pair', type: 3, body: [0x20, 0, 0x20, 1, 0x6b] },
    { name: 'recurse', type: 1, body: [0x20, 0, ...c32(1), 0x6a, 0x10, 18, ...c32(1), 0x6a] },
    { name: 'deep', type: 0, body: [...c32(0), 0x10, 18] },
  ];
  // offset_oob reads local 0 of a type-0 function: give it no such local use.
  fs[7].body = [...c32(65536 - 8), 0x28, 2, ...uleb(8)];
  // store_oob: the i64.store traps; the earlier i32 store stays (memory compared with V8).
  fs[8].body = [...c32(65530), ...c32(0x11223344), 0x36, 0, 0, ...c32(65530), 0x28, 0, 0, ...c32(65533), 0x42, 1, 0x37, 0, 0];
  return fs;
}

test('a fault report names the trap, the function and the wasm offset, with a backtrace', () => {
  const funcs = trapModuleFuncs();
  const mod = build(TYPES, funcs, { pages: 1, maxPages: 4, table: [16, 17], tableSize: 3 });
  const { elf } = wasm2rv(mod);
  const env = new HostEnv(elf, {});
  assert.equal(env.init().kind, 'return');
  const r = env.invoke('deep', [], [I32], []);
  assert.equal(r.outcome.kind, 'trap');
  const rep = r.outcome.kind === 'trap' ? r.outcome.report : null;
  assert.equal(rep!.kind, 'stack_overflow');
  assert.equal(rep!.func, 'recurse');
  assert.ok(rep!.backtrace.length >= 10 && rep!.backtrace.every((f) => f.func === 'recurse' || f.func === 'deep'));
  const d = env.invoke('div0', [], [I32], []);
  const dr = d.outcome.kind === 'trap' ? d.outcome.report : null;
  assert.equal(dr!.kind, 'int_div_zero');
  assert.equal(dr!.func, 'div0');
  assert.ok(dr!.wasmOffset > 0);
  assert.equal(dr!.backtrace[0].func, 'div0');
  // Arguments and results by the calling convention.
  const p = env.invoke('pair', [I32, I32], [I32], [10, 3]);
  assert.equal(p.value, 7);
});

test('unsupported opcodes are rejected with the feature, function and offset', () => {
  const simd = build(TYPES, [{ name: 'v', type: 2, body: [0xfd, 0x0c, ...new Array(16).fill(0), 0x1a] }]);
  assert.throws(() => wasm2rv(simd), /wasm2rv: unsupported opcode 0xfd \(SIMD\) in function 0 'v' at offset 0x[0-9a-f]+/);
  const atomics = build(TYPES, [{ name: 'a', type: 2, body: [0xfe, 0x03, 0x00] }]);
  assert.throws(() => wasm2rv(atomics), /unsupported opcode 0xfe \(threads\) in function 0 'a'/);
});

test('unresolved imports are build errors naming the import; l4 imports are the system calls of src/abi', () => {
  const mod = build(TYPES, [{ name: 'f', type: 0, body: [...c32(1), 0x10, 0] }], { imports: [['l4', 'yield', 1]] });
  assert.doesNotThrow(() => wasm2rv(mod));
  const bogus = build(TYPES, [{ name: 'f', type: 0, body: [...c32(1), 0x10, 0] }], { imports: [['l4', 'bogus', 1]] });
  assert.throws(() => wasm2rv(bogus), /unresolved import 'l4\.bogus' \(function 0\): not a system call \(call, send, nbsend, recv, nbrecv, reply, replyrecv, yield, invoke, debugputc\)/);
  assert.doesNotThrow(() => wasm2rv(bogus, { syscalls: { bogus: 0x77 } }));
  const other = build(TYPES, [{ name: 'f', type: 2, body: [] }], { imports: [['wasi', 'fd_write', 1]] });
  assert.throws(() => wasm2rv(other), /unresolved import 'wasi\.fd_write'/);
  // Signatures: intrinsics exactly, system calls i32 only.
  const T: [number[], number[]][] = [[[I32, I32], [I32]], [[F64], [I32]], [[I32], []], [[], []]];
  const withImport = (name: string, type: number): Uint8Array => build(T, [{ name: 'f', type: 3, body: [] }], { imports: [['l4', name, type]] });
  assert.throws(() => wasm2rv(withImport('res', 0)), /import 'l4\.res' has type \(i32, i32\) -> i32, but the intrinsic is \(i32\) -> i32/);
  assert.throws(() => wasm2rv(withImport('peek', 2)), /import 'l4\.peek' has type \(i32\) -> void, but the intrinsic is \(i32\) -> i32/);
  assert.throws(() => wasm2rv(withImport('poke', 2)), /import 'l4\.poke' has type \(i32\) -> void, but the intrinsic is \(i32, i32\) -> void/);
  assert.throws(() => wasm2rv(withImport('call', 1)), /import 'l4\.call' has type \(f64\) -> i32: a system call takes at most 7 i32 parameters/);
  assert.doesNotThrow(() => wasm2rv(withImport('debugputc', 2)));
  assert.doesNotThrow(() => wasm2rv(withImport('yield', 3)));
});

// l4 imports: 0 invoke (7 x i32 -> i32), 1 res, 2 peek, 3 poke, 4 debugputc (i32 -> i32).
const L4_TYPES: [number[], number[]][] = [
  [[I32, I32, I32, I32, I32, I32, I32], [I32]], [[I32], [I32]], [[I32, I32], []], [[], [I32]],
];
const L4_IMPORTS: [string, string, number][] = [['l4', 'invoke', 0], ['l4', 'res', 1], ['l4', 'peek', 1], ['l4', 'poke', 2], ['l4', 'debugputc', 1]];

test('l4 system calls: a0..a6, a7 = number, ecall, a1..a6 kept for l4.res; intrinsics inline', () => {
  const funcs: Fn[] = [
    // sys() = invoke(1..7) + weighted() + debugputc('!')
    { name: 'sys', type: 3, body: [
      ...c32(1), ...c32(2), ...c32(3), ...c32(4), ...c32(5), ...c32(6), ...c32(7), 0x10, 0,
      0x10, 6, 0x6a, // + weighted()
      ...c32(0x21), 0x10, 4, 0x6a,
    ] },
    // weighted() = res(1) + 10 * res(2) + 100 * res(6) (constant indices)
    { name: 'weighted', type: 3, body: [
      ...c32(1), 0x10, 1, ...c32(2), 0x10, 1, ...c32(10), 0x6c, 0x6a, ...c32(6), 0x10, 1, ...c32(100), 0x6c, 0x6a,
    ] },
    // dyn(i) = res(i) with a run-time index
    { name: 'dyn', type: 1, body: [0x20, 0, 0x10, 1] },
    // mem(addr, v): poke(addr, v), then peek(addr) + 1
    { name: 'mem', type: 4, body: [0x20, 0, 0x20, 1, 0x10, 3, 0x20, 0, 0x10, 2, ...c32(1), 0x6a] },
    // pk(addr) = peek(addr)
    { name: 'pk', type: 1, body: [0x20, 0, 0x10, 2] },
  ];
  const mod = build([...L4_TYPES, [[I32, I32], [I32]]], funcs, { imports: L4_IMPORTS });
  const { elf } = wasm2rv(mod);
  const seen: number[][] = [];
  const env = new HostEnv(elf, { hostCalls: new Map([[Sys.Invoke, (e: HostEnv) => {
    const x = e.board.hart.x;
    seen.push([...x.slice(10, 18)]);
    x[10] = 0x40;
    for (let i = 1; i <= 6; i++) x[10 + i] = i * 3;
  }]]) });
  assert.equal(env.init().kind, 'return');
  const r = env.invoke('sys', [], [I32], []);
  assert.equal(r.outcome.kind, 'return');
  assert.deepEqual(seen, [[1, 2, 3, 4, 5, 6, 7, Sys.Invoke]]);
  assert.equal(env.output, '!');
  // 0x40 + (3 + 10*6 + 100*18) + 0 (debugputc returns Ok; its a1..a6 replace the saved ones)
  assert.equal(r.value, 0x40 + 3 + 60 + 1800);
  // A run-time index reads the same words; out of range gives 0.
  for (let i = 0; i <= 8; i++) {
    const v = env.invoke('dyn', [I32], [I32], [i]).value;
    assert.equal(v, i >= 1 && i <= 6 ? env.readU32(DATA_BASE + RtData.SysRes + 4 * (i - 1)) | 0 : 0, `res(${i})`);
  }
  for (const i of [-1, 0x7fffffff, -0x80000000, 7, 100]) assert.equal(env.invoke('dyn', [I32], [I32], [i]).value, 0, `res(${i})`);
  // peek/poke: linear memory and the runtime data, any address under the MMU.
  assert.equal(env.invoke('mem', [I32, I32], [I32], [0x100, 41]).value, 42);
  assert.equal(env.readU32(0x100), 41);
  assert.equal(env.invoke('mem', [I32, I32], [I32], [DATA_BASE + RtData.StartArg, 6]).value, 7);
  assert.equal(env.invoke('pk', [I32], [I32], [DATA_BASE + RtData.MemSize]).value, 65536);
  const bad = env.invoke('pk', [I32], [I32], [0x9000_0000 | 0]);
  assert.equal(bad.outcome.kind, 'trap');
  assert.equal(bad.outcome.kind === 'trap' && bad.outcome.report.kind, 'fault');
  const ro = env.invoke('mem', [I32, I32], [I32], [0xc000_0000 | 0, 1]); // code is execute-only
  assert.equal(ro.outcome.kind === 'trap' && ro.outcome.report.kind, 'fault');
});

test('res with constant indices and after a plain system call', () => {
  const funcs: Fn[] = [
    { name: 'r', type: 3, body: [...c32(0x21), 0x10, 4, 0x1a, ...c32(0), 0x10, 1, ...c32(7), 0x10, 1, 0x6a, ...c32(3), 0x10, 1, 0x6a] },
  ];
  const mod = build(L4_TYPES, funcs, { imports: L4_IMPORTS });
  const env = new HostEnv(wasm2rv(mod).elf, { hostCalls: new Map([[Sys.DebugPutc, (e: HostEnv) => {
    const x = e.board.hart.x;
    x[10] = 0;
    x[13] = 77; // a3
  }]]) });
  env.init();
  assert.equal(env.invoke('r', [], [I32], []).value, 77);
});

test('l4.time: the 64-bit time CSR, consistent across a carry out of the low word', () => {
  // now() = time(); late() = time() after a local.set (fused destination) and a little work
  const funcs: Fn[] = [
    { name: 'now', type: 1, body: [0x10, 0] },
    { name: 'late', type: 1, locals: [I64], body: [0x10, 0, 0x21, 0, 0x20, 0, 0x42, 1, 0x7c] },
  ];
  const mod = build([[[], [I64]], [[], [I64]]], funcs, { imports: [['l4', 'time', 0]] });
  const env = new HostEnv(wasm2rv(mod).elf, {});
  env.init();
  const clock = env.board.clock;
  const a = env.invoke('now', [], [I64], []).value as bigint;
  assert.ok(a >= 0n && a <= BigInt(clock.mtime()));
  // Start a few ticks before 2^32 at every cycle phase: whichever read the carry falls between,
  // the value is one moment of mtime (a torn read would be 2^32 off).
  const per = clock.cyclesPerTick;
  for (let c = 2 ** 32 * per - 8 * per; c < 2 ** 32 * per + per; c++) {
    clock.cycles = c;
    const before = BigInt(clock.mtime());
    const v = env.invoke(c % 2 === 0 ? 'now' : 'late', [], [I64], []).value as bigint;
    const after = BigInt(clock.mtime()) + 1n;
    assert.ok(v >= before && v <= after, `cycle ${c}: ${v} not in [${before}, ${after}]`);
  }
  // The signature is checked.
  const bad = build([[[], [I32]], [[], []]], [{ name: 'f', type: 1, body: [] }], { imports: [['l4', 'time', 0]] });
  assert.throws(() => wasm2rv(bad), /import 'l4\.time' has type \(\) -> i32, but the intrinsic is \(\) -> i64/);
});

test('memory.grow: bookkeeping within MemReserved, the Grow protocol beyond it', () => {
  // grow(n) = memory.grow(n); size() = memory.size
  const funcs: Fn[] = [
    { name: 'grow', type: 1, body: [0x20, 0, 0x40, 0] },
    { name: 'size', type: 3, body: [0x3f, 0] },
  ];
  const mod = build(L4_TYPES, funcs, { pages: 1, maxPages: 8 });
  const { elf } = wasm2rv(mod);
  const calls: number[][] = [];
  const env = new HostEnv(elf, {});
  env.init();
  assert.equal(env.readU32(DATA_BASE + RtData.MemReserved), 16); // 4 KiB pages
  assert.equal(env.readU32(DATA_BASE + RtData.MemMax), 8 * 65536);
  assert.equal(env.invoke('grow', [I32], [I32], [0]).value, 1);
  assert.equal(env.memoryCalls, 0);
  assert.equal(env.invoke('grow', [I32], [I32], [2]).value, 1);
  assert.equal(env.memoryCalls, 1);
  assert.equal(env.memPages, 3);
  assert.equal(env.invoke('grow', [I32], [I32], [6]).value, -1); // beyond the maximum: no IPC
  assert.equal(env.memoryCalls, 1);
  assert.equal(env.invoke('grow', [I32], [I32], [-1]).value, -1);
  assert.equal(env.invoke('size', [], [I32], []).value, 3);
  // A memory manager that refuses (reply MR0 = NoMemory), or a failing Call (a0 != 0).
  for (const [a0, mr0] of [[0, Err.NoMemory], [Err.EmptySlot, 0]]) {
    const e2 = new HostEnv(elf, { hostCalls: new Map([[Sys.Call, (e: HostEnv) => {
      const x = e.board.hart.x;
      calls.push([...x.slice(10, 18)]);
      x[10] = a0;
      x[12] = mr0;
    }]]) });
    e2.init();
    assert.equal(e2.invoke('grow', [I32], [I32], [2]).value, -1);
    assert.equal(e2.invoke('size', [], [I32], []).value, 1);
  }
  assert.deepEqual(calls[0], [CompSlot.Memory, msgInfo(MemProto.Grow, 3), 2, 1, 8, calls[0][5], 0, Sys.Call]);
  // With a BootInfo start argument, MemReserved = BootInfo.LinearPages (4 KiB pages): no IPC
  // for whole wasm pages below it.
  const bootInfo = (linearPages: number): [number, number[]][] => [[0x200, [...u32(BOOTINFO_MAGIC), ...new Array(4 * (BootInfo.LinearPages - 1)).fill(0), ...u32(linearPages)]]];
  const e3 = new HostEnv(wasm2rv(build(L4_TYPES, funcs, { pages: 1, maxPages: 8, data: bootInfo(80) })).elf, { startArg: 0x200 });
  e3.init();
  assert.equal(e3.readU32(DATA_BASE + RtData.StartArg), 0x200);
  assert.equal(e3.readU32(DATA_BASE + RtData.MemReserved), 80);
  assert.equal(e3.invoke('grow', [I32], [I32], [4]).value, 1);
  assert.equal(e3.memoryCalls, 0);
  assert.equal(e3.invoke('size', [], [I32], []).value, 5);
  const e5 = new HostEnv(wasm2rv(build(L4_TYPES, funcs, { pages: 1, maxPages: 8, data: bootInfo(79) })).elf, { startArg: 0x200 });
  e5.init();
  assert.equal(e5.invoke('grow', [I32], [I32], [3]).value, 1);
  assert.equal(e5.memoryCalls, 0);
  assert.equal(e5.invoke('grow', [I32], [I32], [1]).value, 4); // page 5 is not whole below 79
  assert.equal(e5.memoryCalls, 1);
  // A start argument that is not BootInfo leaves the initial size.
  const e4 = new HostEnv(wasm2rv(build(L4_TYPES, funcs, { pages: 1, maxPages: 8, data: bootInfo(80) })).elf, { startArg: 0x204 });
  e4.init();
  assert.equal(e4.readU32(DATA_BASE + RtData.MemReserved), 16);
  assert.equal(e4.readU32(DATA_BASE + RtData.LinearFrameFirst), 0);
  // With BootInfo.LinearFrameFirst (the kernel's root task), memory.grow below MemReserved maps
  // each new 4 KiB page p itself: Invoke(LinearFrameFirst + p, FrameMap, its task, p * 4096,
  // RW). A failing FrameMap unmaps what it mapped (FrameUnmap, last first) and returns -1.
  const withFrames = (failAt: number): { env: HostEnv; invokes: number[][] } => {
    const invokes: number[][] = [];
    const data: [number, number[]][] = [[0x200, [...bootInfo(80)[0][1], ...u32(500)]]];
    const env = new HostEnv(wasm2rv(build(L4_TYPES, funcs, { pages: 1, maxPages: 8, data })).elf, {
      startArg: 0x200,
      hostCalls: new Map([[Sys.Invoke, (e: HostEnv) => {
        const x = e.board.hart.x;
        invokes.push(x[11] === Method.FrameMap ? [x[10], x[11], x[12], x[13], x[14]] : [x[10], x[11]]);
        x[10] = invokes.length === failAt ? Err.NoMemory : Err.Ok;
      }]]),
    });
    env.init();
    return { env, invokes };
  };
  const ok = withFrames(0);
  assert.equal(ok.env.readU32(DATA_BASE + RtData.LinearFrameFirst), 500);
  assert.equal(ok.env.invoke('grow', [I32], [I32], [2]).value, 1);
  assert.equal(ok.env.memoryCalls, 0);
  assert.equal(ok.env.invoke('size', [], [I32], []).value, 3);
  assert.deepEqual(ok.invokes, Array.from({ length: 32 }, (_, i) => [500 + 16 + i, Method.FrameMap, BootSlot.Task, (16 + i) * 4096, Rights.Read | Rights.Write]));
  assert.equal(ok.env.invoke('grow', [I32], [I32], [3]).value, 3); // beyond MemReserved: the memory manager
  assert.equal(ok.env.memoryCalls, 1);
  assert.equal(ok.invokes.length, 32);
  const bad = withFrames(4);
  assert.equal(bad.env.invoke('grow', [I32], [I32], [1]).value, -1);
  assert.equal(bad.env.invoke('size', [], [I32], []).value, 1);
  assert.deepEqual(bad.invokes.slice(4), [[518, Method.FrameUnmap], [517, Method.FrameUnmap], [516, Method.FrameUnmap]]);
});

test('malformed modules are rejected', () => {
  assert.throws(() => wasm2rv(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])), /malformed module: unsupported binary version/);
  const bad = build(TYPES, [{ name: 'f', type: 0, body: [...c32(1), 0x6a] }]);
  assert.throws(() => wasm2rv(bad), /invalid module: operand stack underflow/);
});

test('calls farther than the ±1 MiB of jal go through veneers (a program with over 2 MiB of code)', () => {
  // near(x) = x + 1; filler k: ~180 000 additions (~700 KiB of code each, never called);
  // far(x) = near(x) + (x / 3 as i64) + memory.grow(0) - both a function and runtime routines
  // more than 1 MiB behind it; main() = far(41) from the start of the code.
  const filler: number[] = [];
  for (let i = 0; i < 180_000; i++) filler.push(0x20, 0, ...c32(i & 0x3f), 0x6a, 0x21, 0);
  const funcs: Fn[] = [
    { name: 'main', type: 0, body: [...c32(41), 0x10, 5] },
    { name: 'near', type: 1, body: [0x20, 0, ...c32(1), 0x6a] },
    { name: 'fill1', type: 1, body: [...filler, 0x20, 0] },
    { name: 'fill2', type: 1, body: [...filler, 0x20, 0] },
    { name: 'fill3', type: 1, body: [...filler, 0x20, 0] },
    { name: 'far', type: 1, body: [0x20, 0, 0x10, 1, 0x20, 0, 0xac, 0x42, 3, 0x7f, 0xa7, 0x6a, ...c32(0), 0x40, 0, 0x6a] },
  ];
  const mod = build(TYPES, funcs, { pages: 1, maxPages: 2 });
  const res = wasm2rv(mod);
  assert.ok(res.codeBytes > 2 * 1024 * 1024, `code is ${res.codeBytes} bytes`);
  assert.ok(res.funcAddrs[5] - res.funcAddrs[0] > 1 << 20);
  const env = new HostEnv(res.elf, {});
  for (const v of ['__veneers_main', '__veneers_far']) assert.ok(env.image.symbols.has(v), v);
  assert.equal(env.init().kind, 'return');
  assert.equal(env.invoke('main', [], [I32], []).value, 42 + 13 + 1);
  assert.equal(env.invoke('far', [I32], [I32], [9]).value, 10 + 3 + 1);
});
