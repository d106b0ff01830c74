// `l4ts build <file.ts> -o <out.elf>`: AssemblyScript -> wasm (asc -O3, incremental GC) ->
// wasm2rv -> RV32 ELF. `l4ts run <elf>`: boot the kernel with the program as its root task
// (run-kernel.ts; runtime calls served by the host through the kernel's semihost hook) and
// exit with the i32 its `main()` returns.
//
// `run`'s last line on stderr is `l4ts: exit=<full i32> insns=<n> seconds=<s> mips=<m>`.

import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildAssemblyScript } from '../toolchain/wasm2rv/cli-build.ts';
import { runOnKernel } from './run-kernel.ts';
import { TRACE_CAPACITY, writeKernelTrace } from './trace-file.ts';
import { intOption, parseArgs, UsageError } from './args.ts';

export async function buildCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { o: { value: true } });
  const out = args.options.get('o')?.[0];
  if (args.positionals.length !== 1 || out === undefined) throw new UsageError('build needs <file.ts> -o <out.elf>');
  try {
    await buildAssemblyScript(args.positionals[0], out);
    return 0;
  } catch (e) {
    process.stderr.write(`l4ts: build ${args.positionals[0]}: ${(e as Error).message}\n`);
    return 1;
  }
}

export function runCommand(argv: string[]): number {
  const args = parseArgs(argv, { 'max-insns': { value: true }, trace: { value: true } });
  const tracePath = args.options.get('trace')?.[0];
  if (args.positionals.length !== 1) throw new UsageError('run needs exactly one ELF file');
  const path = args.positionals[0];
  let elf: Uint8Array;
  try {
    elf = readFileSync(path);
  } catch (e) {
    process.stderr.write(`l4ts: cannot read ${path}: ${(e as Error).message}\n`);
    process.stderr.write('l4ts: exit=2 insns=0 seconds=0.000 mips=0.0\n');
    return 2;
  }
  const t0 = performance.now();
  let status: number;
  let insns = 0;
  try {
    const r = runOnKernel(elf, {
      maxInsns: intOption(args, 'max-insns', 2_000_000_000),
      stdout: (s) => process.stdout.write(s),
      traceCapacity: tracePath !== undefined ? TRACE_CAPACITY : undefined,
    });
    status = r.status;
    insns = r.instructions;
    if (tracePath !== undefined) {
      const n = writeKernelTrace(r.kernel, tracePath);
      process.stderr.write(`l4ts: trace: ${n} events -> ${tracePath}\n`);
    }
  } catch (e) {
    process.stderr.write(`l4ts: ${path}: ${(e as Error).message}\n`);
    status = 2;
  }
  const seconds = (performance.now() - t0) / 1000;
  const mips = seconds > 0 ? insns / seconds / 1e6 : 0;
  process.stderr.write(`l4ts: exit=${status | 0} insns=${insns} seconds=${seconds.toFixed(3)} mips=${mips.toFixed(1)}\n`);
  return status === 0 ? 0 : (status & 0xff) === 0 ? 1 : status & 0xff;
}

/** `npm run build:user`: build every AssemblyScript program under user/ (each `main.ts` of a
 * component directory, and the test programs) into build/user/<name>.elf. */
export async function buildUserCommand(_argv: string[]): Promise<number> {
  const root = new URL('../../user/', import.meta.url).pathname;
  const outDir = new URL('../../build/user/', import.meta.url).pathname;
  mkdirSync(outDir, { recursive: true });
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'fuzz-corpus' && name !== 'lib' && name !== 'node_modules') walk(p);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        sources.push(p);
      }
    }
  };
  walk(root);
  let failed = 0;
  for (const src of sources.sort()) {
    const rel = src.slice(root.length).replace(/\.ts$/, '').replace(/\//g, '-');
    const out = join(outDir, `${rel}.elf`);
    try {
      await buildAssemblyScript(src, out);
      process.stdout.write(`built ${basename(out)}\n`);
    } catch (e) {
      failed++;
      process.stderr.write(`l4ts: build ${src}: ${(e as Error).message}\n`);
    }
  }
  process.stdout.write(`${sources.length - failed} built, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
