// wasm2rv unit tests on small hand-assembled modules: every trap kind (checked against V8 and
// by kind), exact bounds at the end of memory, memory.grow, fault reports with symbolized
// backtraces, and the errors for unsupported or malformed input and unresolved imports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm2rv } from './compile.ts';
import { compareRuns, runInV8, runOnMachine } from './diff-harness.ts';
import { HostEnv } from './host-env.ts';

const I32 = 0x7f;

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
function build(types: [number[], number[]][], funcs: Fn[], opts: { pages?: number; maxPages?: number; table?: number[]; tableSize?: number; imports?: [string, string, number][] } = {}): Uint8Array {
  const imports = opts.imports ?? [];
  const b: number[] = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  b.push(...section(1, vec(types.map(([p, r]) => [0x60, ...vec(p.map((t) => [t])), ...vec(r.map((t) => [t]))]))));
  if (imports.length) b.push(...section(2, vec(imports.map(([m, n, t]) => [...str(m), ...str(n), 0, ...uleb(t)]))));
  b.push(...section(3, vec(funcs.map((f) => uleb(f.type)))));
  if (opts.table) b.push(...section(4, vec([[0x70, 0, ...uleb(opts.tableSize ?? opts.table.length)]])));
  const pages = opts.pages ?? 1;
  b.push(...section(5, vec([opts.maxPages !== undefined ? [1, ...uleb(pages), ...uleb(opts.maxPages)] : [0, ...uleb(pages)]])));
  b.push(...section(7, vec(funcs.map((f, i) => [...str(f.name), 0, ...uleb(imports.length + i)]))));
  if (opts.table) b.push(...section(9, vec([[0, 0x41, 0, 0x0b, ...vec(opts.table.map((f) => uleb(f)))]])));
  b.push(...section(10, vec(funcs.map((f) => {
    const body = [...vec((f.locals ?? []).map((t) => [1, t])), ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  }))));
  const names = vec(funcs.map((f, i) => [...uleb(imports.length + i), ...str(f.name)]));
  b.push(...section(0, [...str('name'), 1, ...uleb(names.length), ...names]));
  return new Uint8Array(b);
}

const c32 = (v: number): number[] => [0x41, ...leb(v)];

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

test('unresolved imports are build errors naming the import; l4 imports use the syscall table', () => {
  const mod = build(TYPES, [{ name: 'f', type: 0, body: [...c32(1), 0x10, 0] }], { imports: [['l4', 'yield', 1]] });
  assert.throws(() => wasm2rv(mod), /unresolved import 'l4\.yield'/);
  assert.doesNotThrow(() => wasm2rv(mod, { syscalls: { yield: 7 } }));
  const other = build(TYPES, [{ name: 'f', type: 2, body: [] }], { imports: [['wasi', 'fd_write', 1]] });
  assert.throws(() => wasm2rv(other), /unresolved import 'wasi\.fd_write'/);
});

test('malformed modules are rejected', () => {
  assert.throws(() => wasm2rv(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])), /malformed module: unsupported binary version/);
  const bad = build(TYPES, [{ name: 'f', type: 0, body: [...c32(1), 0x6a] }]);
  assert.throws(() => wasm2rv(bad), /invalid module: operand stack underflow/);
});
