// Differential tests: every module runs in V8 and, compiled by wasm2rv, on the machine; the
// outcomes (values, traps, aborts), the output and the final linear memory must agree
// (diff-harness.ts says exactly what is compared).
//
// Corpus: the AssemblyScript programs in user/tests/ and 300 translate-to-fuzz modules
// (fuzz.ts; committed in user/tests/fuzz-corpus/, regenerated deterministically).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { compileAssemblyScript } from './cli-build.ts';
import { compareRuns, runInV8, runOnMachine, type RunLog } from './diff-harness.ts';
import { corpusModule, fuzzBytes, fuzzModule } from './fuzz.ts';

const TESTS = fileURLToPath(new URL('../../../user/tests/', import.meta.url));
const FUZZ_SEEDS = 300;

async function both(wasm: Uint8Array): Promise<{ v8: RunLog; rv: RunLog }> {
  const plan = { calls: [{ name: 'main', args: [] }] };
  return { v8: await runInV8(wasm, plan), rv: runOnMachine(wasm, plan) };
}

const programs = readdirSync(TESTS).filter((f) => f.endsWith('.ts')).sort();

test('the AssemblyScript corpus exists', () => {
  for (const name of ['strings.ts', 'collections.ts', 'classes.ts', 'gc.ts', 'numeric.ts', 'abort.ts', 'trap.ts']) {
    assert.ok(programs.includes(name), `user/tests/${name}`);
  }
});

for (const file of programs) {
  test(`AssemblyScript ${file}: machine agrees with V8`, async () => {
    const wasm = await compileAssemblyScript(join(TESTS, file));
    const { v8, rv } = await both(wasm);
    assert.deepEqual(compareRuns(v8, rv), []);
    const r = rv.calls[0].result;
    if (file === 'abort.ts') assert.equal(r.kind, 'abort');
    else if (file === 'trap.ts' || file === 'grow-oob.ts') assert.deepEqual(r.kind === 'trap' && r.trap, 'oob_memory');
    else if (file === 'numeric.ts') assert.deepEqual(r.kind === 'trap' && r.trap, 'int_overflow');
    else assert.equal(r.kind, 'value');
    if (file !== 'abort.ts' && file !== 'trap.ts' && file !== 'grow-oob.ts') assert.ok(rv.output.length > 20, 'program printed its results');
  });
}

test('fuzz corpus is deterministic: regenerated seeds are byte-identical', () => {
  for (const seed of [1, 2]) assert.deepEqual(fuzzModule(seed), corpusModule(seed), `seed ${seed}`);
});

test(`${FUZZ_SEEDS} translate-to-fuzz modules: machine agrees with V8`, async () => {
  const failures: string[] = [];
  let traps = 0;
  for (let seed = 1; seed <= FUZZ_SEEDS; seed++) {
    const r = await fuzzBytes(seed, corpusModule(seed));
    if (!r.ok) failures.push(`seed ${seed}:\n  ${r.diffs.join('\n  ').slice(0, 2000)}`);
    traps += r.instructions > 0 ? 1 : 0;
  }
  assert.deepEqual(failures, []);
  assert.ok(traps > FUZZ_SEEDS / 2, 'most modules executed code on the machine');
});

test('corpus files are wasm', () => {
  const bytes = readFileSync(join(TESTS, 'fuzz-corpus', 'seed-1.wasm'));
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]);
});
