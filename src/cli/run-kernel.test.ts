// `l4ts run` (runOnKernel) keeps wasm's memory semantics exactly: the root task's linear
// reserve (BootInfo.LinearPages) is frames, not mappings, and the compiled memory.grow maps
// each page as the memory grows, so an access past the current size traps where V8 and the
// minimal host environment (host-env.ts) trap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript } from '../toolchain/wasm2rv/cli-build.ts';
import { wasm2rv } from '../toolchain/wasm2rv/compile.ts';
import { runElf } from '../toolchain/wasm2rv/host-env.ts';
import type { Outcome } from '../toolchain/wasm2rv/rt-host.ts';
import { DATA_BASE } from '../abi/layout.ts';
import { RtData } from '../abi/runtime.ts';
import { runOnKernel, type KernelRunResult } from './run-kernel.ts';

/** Node's WebAssembly API (tsconfig's lib, ES2022 without DOM, does not declare it). */
interface WasmMemory { buffer: ArrayBuffer }
const WA = (globalThis as unknown as { WebAssembly: {
  compile(bytes: Uint8Array): Promise<unknown>;
  instantiate(module: unknown, imports: object): Promise<{ exports: Record<string, unknown> }>;
  Memory: new (...args: never[]) => WasmMemory;
  RuntimeError: new (...args: never[]) => Error;
} }).WebAssembly;

const program = (name: string): string => fileURLToPath(new URL(`../../user/tests/${name}.ts`, import.meta.url));

/** main() in V8: its result, or the trap message and the wasm offset of the trapping
 *  instruction (V8's stack frames give module byte offsets). */
async function runInV8(wasm: Uint8Array): Promise<{ value?: number; trap?: string; offset?: number; output: string }> {
  const mod = await WA.compile(wasm);
  let output = '';
  let memory: WasmMemory | null = null;
  const str = (p: number): string => {
    const u8 = new Uint8Array(memory!.buffer);
    const len = new DataView(memory!.buffer).getUint32(p - 4, true);
    let s = '';
    for (let i = 0; i + 1 < len; i += 2) s += String.fromCharCode(u8[p + i] | (u8[p + i + 1] << 8));
    return s;
  };
  const env: Record<string, unknown> = {
    abort: () => { throw new Error('abort'); },
    'console.log': (p: number) => { output += `${str(p)}\n`; },
    seed: () => 42,
  };
  const inst = await WA.instantiate(mod, { env });
  memory = Object.values(inst.exports).find((v) => v instanceof WA.Memory) as WasmMemory;
  try {
    return { value: (inst.exports.main as () => number)(), output };
  } catch (e) {
    assert.ok(e instanceof WA.RuntimeError, String(e));
    const m = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(e.stack ?? '');
    assert.ok(m, e.stack);
    return { trap: e.message, offset: parseInt(m[1], 16), output };
  }
}

function trapOf(o: Outcome): { kind: string; offset: number; func: string } {
  assert.equal(o.kind, 'trap');
  const r = (o as Extract<Outcome, { kind: 'trap' }>).report;
  return { kind: r.kind, offset: r.wasmOffset, func: r.func };
}

/** The root task's mapped linear pages are exactly its current memory. */
function assertMappedToSize(k: KernelRunResult): void {
  const task = k.kernel.rootTask;
  const size = k.kernel.readUserU32(task, DATA_BASE + RtData.MemSize)!;
  const pages = size / 4096;
  assert.ok(pages > 0);
  assert.ok(task.maps.has(pages - 1), 'the last page of the memory is mapped');
  assert.ok(!task.maps.has(pages), 'the page past the memory is not');
  let n = 0;
  for (const vpn of task.maps.keys()) if (vpn < 0x80000) n++;
  assert.equal(n, pages);
}

// The kernel's start argument is BootInfo: _start takes 8 more instructions to read it
// (host-env starts with a0 = 0).
const BOOTINFO_PRELUDE = 8;

test('run: an out-of-bounds load traps as in V8 and host-env (trap.ts: memory of 0 pages, load at 0)', async () => {
  const wasm = await compileAssemblyScript(program('trap'));
  const { elf } = wasm2rv(wasm);
  const v8 = await runInV8(wasm);
  assert.match(v8.trap!, /out of bounds/);
  const host = runElf(elf);
  const k = runOnKernel(elf);
  assert.deepEqual(trapOf(host.outcome), { kind: 'oob_memory', offset: v8.offset, func: trapOf(host.outcome).func });
  assert.deepEqual(trapOf(k.outcome), trapOf(host.outcome));
  assert.equal(k.status, 129);
  assert.equal(k.instructions, host.instructions + BOOTINFO_PRELUDE);
});

test('run: after memory.grow, a load ending past the new end traps as in V8 and host-env; the pages past it stay unmapped', async () => {
  const wasm = await compileAssemblyScript(program('grow-oob'));
  const { elf } = wasm2rv(wasm);
  const v8 = await runInV8(wasm);
  assert.match(v8.trap!, /out of bounds/);
  assert.equal(v8.output, 'grown\n');
  const host = runElf(elf);
  const k = runOnKernel(elf);
  assert.deepEqual(trapOf(host.outcome), { kind: 'oob_memory', offset: v8.offset, func: trapOf(host.outcome).func });
  assert.deepEqual(trapOf(k.outcome), trapOf(host.outcome));
  assert.match(k.output, /^grown\nwasm trap: out of bounds memory access in \S*main \(function \d+, wasm offset 0x[0-9a-f]+/);
  assert.equal(k.status, 129);
  assertMappedToSize(k);
});

test('run: memory.grow to several MiB maps every page; beyond BootInfo.LinearPages it fails (no memory manager)', async () => {
  const wasm = await compileAssemblyScript(program('grow-big'));
  const { elf } = wasm2rv(wasm);
  const v8 = await runInV8(wasm);
  assert.equal(v8.value, 0);
  const host = runElf(elf);
  assert.equal(host.status, 0, host.output);
  const k = runOnKernel(elf);
  assert.equal(k.status, 0, k.output);
  assert.equal(k.output, v8.output);
  assert.equal(k.output, host.output);
  assertMappedToSize(k);
  assert.ok(k.kernel.readUserU32(k.kernel.rootTask, DATA_BASE + RtData.MemSize)! >= 6 << 20);
  // 2 MiB of reserve: the grow to 6 MiB is refused (-1: main returns 1), nothing is mapped.
  const small = runOnKernel(elf, { linearBytes: 2 << 20 });
  assert.equal(small.status, 1, small.output);
  assertMappedToSize(small);
});
