// Differential fuzzing of wasm2rv against V8 with modules from binaryen's translate-to-fuzz
// (`wasm-opt -ttf`), restricted to the features wasm2rv supports, and --denan so that NaN bit
// patterns (nondeterministic in wasm, 4.3.3) never reach memory or the logs.
//
// Seeds are deterministic: seed n gives the same random input bytes, hence the same module.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareRuns, defaultPlan, runInV8, runOnMachine } from './diff-harness.ts';
import { decodeModule } from './decode.ts';

const WASM_OPT = fileURLToPath(new URL('../../../node_modules/.bin/wasm-opt', import.meta.url));

export const FUZZ_FEATURES = [
  '--mvp-features', '--enable-sign-ext', '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int', '--enable-bulk-memory',
];

/** Deterministic input bytes for a seed (xorshift32). Sizes vary from 1 to 9 KiB. */
export function fuzzInput(seed: number): Uint8Array {
  let s = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  const n = 1024 + (next() % 8192);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** The fuzz module for `seed` (runs wasm-opt in a temporary directory). */
export function fuzzModule(seed: number, dir?: string): Uint8Array {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'wasm2rv-fuzz-'));
  try {
    const input = join(d, `in-${seed}.dat`);
    const output = join(d, `out-${seed}.wasm`);
    writeFileSync(input, fuzzInput(seed));
    execFileSync(WASM_OPT, ['-ttf', input, '-o', output, ...FUZZ_FEATURES, '--denan'], { stdio: 'pipe' });
    return readFileSync(output);
  } finally {
    if (dir === undefined) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * The committed corpus: the module of each seed as wasm-opt produced it, so that the normal
 * test run needs no wasm-opt process per module (each takes ~0.8 s to start). The test
 * regenerates a few seeds and checks they are byte-identical (determinism), and `corpusModule`
 * generates and stores any seed that is missing.
 */
export const CORPUS_DIR = fileURLToPath(new URL('../../../user/tests/fuzz-corpus/', import.meta.url));

export function corpusModule(seed: number): Uint8Array {
  const file = join(CORPUS_DIR, `seed-${seed}.wasm`);
  if (existsSync(file)) return readFileSync(file);
  const bytes = fuzzModule(seed);
  mkdirSync(CORPUS_DIR, { recursive: true });
  writeFileSync(file, bytes);
  return bytes;
}

export interface FuzzResult {
  seed: number;
  ok: boolean;
  diffs: string[];
  instructions: number;
}

/** Run one module through both engines. */
export async function fuzzBytes(seed: number, bytes: Uint8Array): Promise<FuzzResult> {
  const plan = { ...defaultPlan(decodeModule(bytes)), maxInsns: 100_000_000, dramSize: 64 * 1024 * 1024 };
  const v8 = await runInV8(bytes, plan);
  let diffs: string[];
  let instructions = 0;
  try {
    const rv = runOnMachine(bytes, plan);
    instructions = rv.instructions ?? 0;
    diffs = compareRuns(v8, rv);
  } catch (e) {
    diffs = [`machine side threw: ${e instanceof Error ? e.message : String(e)}`];
  }
  return { seed, ok: diffs.length === 0, diffs, instructions };
}

/** Generate seed's module and run it through both engines. */
export async function fuzzOne(seed: number, dir?: string): Promise<FuzzResult> {
  return fuzzBytes(seed, fuzzModule(seed, dir));
}

/** Fuzz seeds 1..seeds; prints failures; returns the failing seeds. */
export async function fuzzWasm2rv(seeds: number, first = 1, log: (s: string) => void = (s) => console.log(s)): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'wasm2rv-fuzz-'));
  const failed: number[] = [];
  try {
    for (let seed = first; seed < first + seeds; seed++) {
      const r = await fuzzOne(seed, dir);
      if (!r.ok) {
        failed.push(seed);
        log(`wasm2rv fuzz: seed ${seed} differs:\n  ${r.diffs.join('\n  ')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  log(`wasm2rv fuzz: ${seeds - failed.length} passed, ${failed.length} failed`);
  return failed;
}
