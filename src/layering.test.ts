// The layering rule of docs/ARCHITECTURE.md, enforced: dependencies point one way, down the
// list abi → machine → kernel → toolchain → cli. A production file may import only from its
// own layer and the layers above it. Tests and test-support files may use lower layers (the
// kernel's tests assemble user programs with the toolchain, for example).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const src = new URL('.', import.meta.url).pathname;
const ORDER = ['abi', 'machine', 'kernel', 'manifest', 'toolchain', 'cli'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(path: string): string | null {
  const top = relative(src, path).split('/')[0];
  return ORDER.includes(top) ? top : null;
}

test('layering: no production file imports a lower layer', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of files(src)) {
    if (/\.test\.ts$|test-support\.ts$|test-driver\.ts$/.test(file)) continue;
    const mine = layerOf(file);
    if (mine === null) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = layerOf(resolve(dirname(file), m[1]));
      checked++;
      if (target !== null && ORDER.indexOf(target) > ORDER.indexOf(mine)) {
        violations.push(`${relative(src, file)} imports ${m[1]} (${mine} → ${target})`);
      }
    }
  }
  assert.ok(checked > 50, `the scan saw the imports (${checked})`);
  assert.deepEqual(violations, []);
});
