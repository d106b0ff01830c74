// The build and run commands behind `l4ts build` / `l4ts run` for AssemblyScript programs:
// AssemblyScript (asc, -O3, incremental GC runtime) -> wasm -> wasm2rv -> ELF, and running one
// ELF as the only user task in the minimal host environment (host-env.ts).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wasm2rv, type CompileOptions } from './compile.ts';
import { runElf as runInHostEnv, type HostEnvOptions, type RunResult } from './host-env.ts';

export interface BuildOptions extends CompileOptions {
  /** Also write the intermediate wasm here. */
  wasmOut?: string;
  /** Extra asc command-line options. */
  ascArgs?: string[];
}

export interface BuildResult {
  wasm: Uint8Array;
  elf: Uint8Array;
}

/** Compile AssemblyScript source `file` to wasm bytes with asc's programmatic API. */
export async function compileAssemblyScript(file: string, ascArgs: string[] = []): Promise<Uint8Array> {
  const asc = await import('assemblyscript/asc');
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-asc-'));
  try {
    const out = join(dir, 'out.wasm');
    let stderr = '';
    const { error } = await asc.main([
      file, '-O3', '--runtime', 'incremental', '--debug', '-o', out, ...ascArgs,
    ], {
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => { stderr += String(s); return true; } } as never,
    });
    if (error) throw new Error(`asc: ${error.message}\n${stderr}`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Build `file` (AssemblyScript) into the ELF `out`: asc -O3 with the incremental runtime, then
 * wasm2rv. `--debug` keeps the name section, so the ELF has function symbols for backtraces.
 */
export async function buildAssemblyScript(file: string, out: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const wasm = await compileAssemblyScript(file, opts.ascArgs);
  if (opts.wasmOut !== undefined) writeFileSync(opts.wasmOut, wasm);
  const { elf } = wasm2rv(wasm, opts);
  writeFileSync(out, elf);
  return { wasm, elf };
}

/**
 * Run a compiled program as the only user task on a fresh board: start function, then
 * `main()`, whose i32 is the exit status (129 for a wasm trap, whose report is printed; 134
 * for an abort; 124 when the instruction budget runs out).
 */
export function runElf(elf: Uint8Array, opts: HostEnvOptions = {}): RunResult {
  return runInHostEnv(elf, { stdout: (s) => process.stdout.write(s), ...opts });
}
