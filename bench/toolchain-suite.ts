// `npm run bench -- toolchain`: wasm2rv's code quality and speed (bench/toolchain.ts): RV32
// instructions per executed wasm operator and wall time against V8 (medians of --runs N runs,
// default 5, after a warm-up). Last line: JSON.

import { benchToolchain } from './toolchain.ts';
import { round } from './stats.ts';

export async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive integer');
  const rows = await benchToolchain(true, runs);
  const mean = rows.reduce((s, r) => s + r.insnsPerOp, 0) / rows.length;
  console.log(JSON.stringify({
    suite: 'toolchain',
    runs,
    insns_per_op_mean: round(mean, 3),
    benchmarks: Object.fromEntries(rows.map((r) => [r.name, { insns_per_op: round(r.insnsPerOp, 3), machine_ms: round(r.machineMs), v8_ms: round(r.v8Ms), slowdown: round(r.machineMs / r.v8Ms), machine_ms_runs: r.machineRuns.map((x) => round(x)), v8_ms_runs: r.v8Runs.map((x) => round(x)) }])),
  }));
}
