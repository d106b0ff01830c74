// `node --import tsx tests/isa/run-riscv-tests.ts <dir> [--max-insns N] [--filter S] [--cli]`:
// run every RISC-V ISA test program (riscv-tests, `rv32ui-p-add` and friends) in <dir> on the
// board, the way `l4ts run-bare` runs it, and print a pass/fail table and the summary line
// `N passed, M failed`. Exits 1 if any test failed, 2 on bad usage. docs/ISA-TESTS.md says how
// the programs are built; they are not part of the repository.
//
// By default each test runs in this process through the CLI's own loader (`loadBareElf`) and
// `Board.run`, a fresh board per test; `--cli` spawns `node bin/l4ts.js run-bare` instead.
//
// A riscv-tests program ends by writing HTIF `tohost`: 1 is a pass, (TESTNUM << 1) | 1 a failure
// of test case TESTNUM (the `test_<n>` label in the source). The p environment's trap vector ORs
// 1337 into TESTNUM when it meets a trap it cannot handle; the v environment's kernel reports 3
// for a failed assertion and 841 for a trap into M-mode.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Board } from '../../src/machine/board.ts';
import { loadBareElf } from '../../src/cli/run-bare.ts';
import { intOption, parseArgs, UsageError } from '../../src/cli/args.ts';

const DEFAULT_MAX_INSNS = 20_000_000;

/** How one test program ended. */
export type IsaOutcome =
  | { kind: 'pass' }
  | { kind: 'fail'; testnum: number } // tohost reported a failing test case (or a raw HTIF command)
  | { kind: 'budget' } // the instruction limit was reached
  | { kind: 'idle' } // waiting for an interrupt that nothing will raise
  | { kind: 'error'; message: string }; // unloadable ELF, or the emulator threw

export interface IsaResult {
  name: string;
  outcome: IsaOutcome;
  insns: number;
  ms: number;
}

/** Run one ELF image on a fresh board in this process, as `l4ts run-bare` does. */
export function runIsaTestInProcess(name: string, image: Uint8Array, maxInsns: number): IsaResult {
  const t0 = performance.now();
  const board = new Board();
  let outcome: IsaOutcome;
  try {
    const { tohost } = loadBareElf(board, image);
    if (tohost === null) throw new Error('no tohost symbol');
    const r = board.run(maxInsns);
    if (r === null || r.kind === 'budget') outcome = { kind: 'budget' };
    else if (r.kind === 'idle') outcome = { kind: 'idle' };
    else if (r.kind === 'reset') outcome = { kind: 'error', message: 'reset requested' };
    else outcome = r.code === 0 ? { kind: 'pass' } : { kind: 'fail', testnum: r.code };
  } catch (e) {
    outcome = { kind: 'error', message: (e as Error).message };
  }
  return { name, outcome, insns: board.hart.instret, ms: performance.now() - t0 };
}

/** Run one ELF file through `node bin/l4ts.js run-bare` and read its closing stderr line. */
export function runIsaTestWithCli(name: string, path: string, maxInsns: number): IsaResult {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const t0 = performance.now();
  const p = spawnSync(process.execPath, [join(root, 'bin/l4ts.js'), 'run-bare', '--max-insns', String(maxInsns), path], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - t0;
  const m = /l4ts: exit=(\d+) insns=(\d+)/.exec(p.stderr ?? '');
  if (m === null) return { name, outcome: { kind: 'error', message: (p.stderr ?? '').trim().split('\n').pop() ?? 'no output' }, insns: 0, ms };
  const code = Number(m[1]);
  const insns = Number(m[2]);
  let outcome: IsaOutcome;
  if (code === 0) outcome = { kind: 'pass' };
  else if (code === 124) outcome = { kind: 'budget' };
  else if (code === 125) outcome = { kind: 'idle' };
  else outcome = { kind: 'fail', testnum: code };
  return { name, outcome, insns, ms };
}

function describe(o: IsaOutcome): string {
  switch (o.kind) {
    case 'pass': return 'pass';
    case 'fail':
      // An odd tohost value is an exit; anything else is an HTIF device command (the v
      // environment's kernel prints its assertion messages that way), reported raw.
      return o.testnum > 0 && o.testnum < 0x10000 ? `FAIL test ${o.testnum}` : `FAIL tohost=0x${(o.testnum >>> 0).toString(16)}`;
    case 'budget': return 'FAIL instruction limit';
    case 'idle': return 'FAIL idle (wfi forever)';
    case 'error': return `FAIL ${o.message}`;
  }
}

/** Test programs in `dir`: ELF files (by magic), sorted by name. */
function listTests(dir: string, filter: string | null): string[] {
  return readdirSync(dir)
    .filter((f) => filter === null || f.includes(filter))
    .filter((f) => {
      const p = join(dir, f);
      if (!statSync(p).isFile()) return false;
      const head = readFileSync(p).subarray(0, 4);
      return head.length === 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
    })
    .sort();
}

export function main(argv: string[]): number {
  const args = parseArgs(argv, { 'max-insns': { value: true }, filter: { value: true }, cli: { value: false } });
  if (args.positionals.length !== 1) throw new UsageError('give exactly one directory of test ELF files');
  const dir = args.positionals[0];
  const maxInsns = intOption(args, 'max-insns', DEFAULT_MAX_INSNS);
  const filter = args.options.get('filter')?.[0] ?? null;
  const useCli = args.options.has('cli');
  const names = listTests(dir, filter);
  if (names.length === 0) throw new UsageError(`no ELF files in ${dir}`);

  const width = Math.max(...names.map((n) => n.length));
  const results: IsaResult[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const r = useCli ? runIsaTestWithCli(name, path, maxInsns) : runIsaTestInProcess(name, readFileSync(path), maxInsns);
    results.push(r);
    process.stdout.write(`${name.padEnd(width)}  ${describe(r.outcome).padEnd(24)} ${String(r.insns).padStart(9)} insns ${r.ms.toFixed(0).padStart(6)} ms\n`);
  }

  // Per suite and environment (the name up to the second '-': rv32ui-p, rv32mi-p, ...).
  const groups = new Map<string, { passed: number; failed: number }>();
  for (const r of results) {
    const key = r.name.split('-').slice(0, 2).join('-');
    const g = groups.get(key) ?? { passed: 0, failed: 0 };
    if (r.outcome.kind === 'pass') g.passed++;
    else g.failed++;
    groups.set(key, g);
  }
  process.stdout.write('\n');
  for (const [key, g] of [...groups].sort()) process.stdout.write(`${key.padEnd(10)} ${g.passed} passed, ${g.failed} failed\n`);
  const passed = results.filter((r) => r.outcome.kind === 'pass').length;
  const failed = results.length - passed;
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`run-riscv-tests: ${e.message}\nusage: run-riscv-tests <dir> [--max-insns N] [--filter S] [--cli]\n`);
    process.exitCode = 2;
  }
}
