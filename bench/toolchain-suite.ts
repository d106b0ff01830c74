// `npm run bench -- toolchain`: wasm2rv's code quality and speed (bench/toolchain.ts): RV32
// instructions per executed wasm operator and wall time against V8. Last line: JSON.

import { benchToolchain } from './toolchain.ts';
import { round } from './stats.ts';

export async function main(_argv: string[]): Promise<void> {
  const rows = await benchToolchain(true);
  const mean = rows.reduce((s, r) => s + r.insnsPerOp, 0) / rows.length;
  console.log(JSON.stringify({
    suite: 'toolchain',
    insns_per_op_mean: round(mean, 3),
    benchmarks: Object.fromEntries(rows.map((r) => [r.name, { insns_per_op: round(r.insnsPerOp, 3), machine_ms: round(r.machineMs), v8_ms: round(r.v8Ms), slowdown: round(r.machineMs / r.v8Ms) }])),
  }));
}
