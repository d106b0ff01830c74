// Toolchain benchmark: AssemblyScript programs in user/tests/bench/ compiled by asc (-O3) and
// wasm2rv, run on the machine and natively in V8. Reports per benchmark:
//   - RV32 instructions executed per wasm operator executed. Operators are counted by a
//     counting build of the same module (CompileOptions.countOps: each straight-line segment
//     adds its operator count to a counter; block/loop/end/else/nop are not operators); the
//     instructions come from the normal build (hart.instret). Target: <= 2.5 on average.
//   - wall time on the machine and in V8 (instantiation included): medians of `runs` runs after
//     one warm-up run each.
// Usage: node --import tsx bench/toolchain.ts, or npm run bench -- toolchain [--runs N]

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { compileAssemblyScript } from '../src/toolchain/wasm2rv/cli-build.ts';
import { wasm2rv } from '../src/toolchain/wasm2rv/compile.ts';
import { HostEnv } from '../src/toolchain/wasm2rv/host-env.ts';
import { runInV8 } from '../src/toolchain/wasm2rv/diff-harness.ts';
import { DATA_BASE } from '../src/abi/layout.ts';
import { DATA_OPCOUNT } from '../src/toolchain/wasm2rv/regs.ts';
import { median } from './stats.ts';

const DIR = fileURLToPath(new URL('../user/tests/bench/', import.meta.url));

export interface ToolchainBenchResult {
  name: string;
  wasmOps: number;
  rvInsns: number;
  insnsPerOp: number;
  /** Medians. */
  machineMs: number;
  v8Ms: number;
  machineRuns: number[];
  v8Runs: number[];
  result: number;
}

function runMain(elf: Uint8Array): { env: HostEnv; status: number; ms: number } {
  const env = new HostEnv(elf, { dramSize: 64 * 1024 * 1024, maxInsns: 4e9 });
  const t0 = performance.now();
  const o = env.start();
  const ms = performance.now() - t0;
  if (o.kind !== 'exit') throw new Error(`benchmark did not exit: ${JSON.stringify(o)}`);
  return { env, status: o.status, ms };
}

/** Build and run every benchmark; returns one row each (and prints a table when `print`). */
export async function benchToolchain(print = true, runs = 1): Promise<ToolchainBenchResult[]> {
  const rows: ToolchainBenchResult[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts')).sort()) {
    const wasm = await compileAssemblyScript(join(DIR, file));
    const elf = wasm2rv(wasm).elf;
    const counting = runMain(wasm2rv(wasm, { countOps: true }).elf);
    const ops = counting.env.readU32(DATA_BASE + DATA_OPCOUNT);
    let plain = runMain(elf); // warm-up
    const machineRuns: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain = runMain(elf);
      machineRuns.push(plain.ms);
    }
    const plan = { calls: [{ name: 'main', args: [] }] };
    let v8 = await runInV8(wasm, plan); // warm-up
    const v8Runs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      v8 = await runInV8(wasm, plan);
      v8Runs.push(performance.now() - t0);
    }
    const v8Ms = median(v8Runs);
    const v8Value = v8.calls[0].result.kind === 'value' ? Number(v8.calls[0].result.value) : NaN;
    if (v8Value !== plain.status || counting.status !== plain.status) throw new Error(`${file}: results differ (V8 ${v8Value}, machine ${plain.status}, counting ${counting.status})`);
    rows.push({
      name: file.replace(/\.ts$/, ''), wasmOps: ops, rvInsns: plain.env.instret,
      insnsPerOp: plain.env.instret / ops, machineMs: median(machineRuns), v8Ms, machineRuns, v8Runs, result: plain.status,
    });
  }
  if (print) {
    console.log(`medians of ${runs} run(s) after a warm-up run`);
    console.log('benchmark   wasm ops     RV32 insns   insns/op  machine ms    V8 ms  slowdown');
    for (const r of rows) {
      console.log(`${r.name.padEnd(10)} ${String(r.wasmOps).padStart(10)} ${String(r.rvInsns).padStart(13)} ${r.insnsPerOp.toFixed(2).padStart(9)} ${r.machineMs.toFixed(0).padStart(10)} ${r.v8Ms.toFixed(1).padStart(8)} ${(r.machineMs / r.v8Ms).toFixed(1).padStart(8)}`);
    }
    const mean = rows.reduce((s, r) => s + r.insnsPerOp, 0) / rows.length;
    const total = rows.reduce((s, r) => s + r.rvInsns, 0) / rows.reduce((s, r) => s + r.wasmOps, 0);
    console.log(`mean insns/op ${mean.toFixed(2)} (weighted ${total.toFixed(2)}); target <= 2.5`);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchToolchain();
