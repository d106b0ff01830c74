// manifests/default.json: the default system of issue 5.
//
// Its images (user/<name>/main.ts) are the AssemblyScript sources of issue 5, which do not
// exist yet, so these tests check everything except that the images exist (checkImages:
// false); the image paths themselves are pinned below.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseManifest } from './validate.ts';
import { startOrder } from './rules.ts';
import { expectedCapabilities, formatCapLine } from './caps.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEXT = readFileSync(new URL('../../manifests/default.json', import.meta.url), 'utf8');
const m = parseManifest(TEXT, { baseDir: ROOT, checkImages: false });

test('the default manifest is valid (images not checked: they are built in issue 5)', () => {
  assert.equal(m.components.length, 6);
});

test('it has the components of issue 5, each image at user/<name>/main.ts', () => {
  assert.deepEqual(m.components.map((c) => [c.name, c.role]), [
    ['root', 'root'], ['memory', 'memory-manager'], ['supervisor', 'supervisor'], ['names', 'name-service'],
    ['console', 'task'], ['hello', 'task'],
  ]);
  for (const c of m.components) assert.deepEqual(c.image, { kind: 'assemblyscript', path: `user/${c.name}/main.ts`, file: `${ROOT.replace(/\/$/, '')}/user/${c.name}/main.ts` });
});

test('the console driver holds only the UART register page and IRQ 10, and nobody else holds a device', () => {
  const lines = expectedCapabilities(m);
  const devices = lines.filter((l) => ['IoMem', 'IrqHandler', 'DmaWindow'].includes(l.type) || (l.type === 'Frame' && !l.object.startsWith('image:')));
  assert.deepEqual(devices.map(formatCapLine), ['console cspace IoMem(0x10000000) RW', 'console cspace IrqHandler(10) W']);
});

test('hello prints through the console service: it may look it up, and only console receives on it', () => {
  const lines = expectedCapabilities(m).map(formatCapLine);
  assert.ok(lines.includes('hello cspace Endpoint(names) W badge=6'));
  assert.ok(lines.includes('names cspace Endpoint(svc:console) W badge=6'));
  assert.deepEqual(lines.filter((l) => l.includes('Endpoint(svc:console) R')), ['console cspace Endpoint(svc:console) R']);
});

test('the console driver and hello are supervised (on-failure): the supervisor sees hello exit; it may stop the name service (policy never) on a refused page fault', () => {
  const lines = expectedCapabilities(m).map(formatCapLine);
  assert.deepEqual(lines.filter((l) => l.startsWith('supervisor cspace Thread(')), ['supervisor cspace Thread(names) W', 'supervisor cspace Thread(console) RW', 'supervisor cspace Thread(hello) RW']);
  assert.ok(!lines.some((l) => l.startsWith('names exception-handler')));
  assert.ok(lines.includes('console exception-handler Endpoint(faults) W badge=5'));
  assert.ok(lines.includes('hello exception-handler Endpoint(faults) W badge=6'));
  assert.ok(lines.includes('memory cspace Endpoint(faults) W badge=2'));
});

test('start order: infrastructure first, hello after console', () => {
  assert.deepEqual(startOrder(m), ['memory', 'supervisor', 'names', 'console', 'hello']);
});

test('the default manifest refers to the schema for editors', () => {
  assert.equal(JSON.parse(TEXT).$schema, './schema.json');
});

const DOC = readFileSync(new URL('../../docs/MANIFEST.md', import.meta.url), 'utf8');

/** The first fenced block after `heading` in docs/MANIFEST.md. */
function docBlock(heading: string): string {
  const at = DOC.indexOf(heading);
  assert.ok(at >= 0, `docs/MANIFEST.md has no ${heading}`);
  const m = /```\w*\n([\s\S]*?)```/.exec(DOC.slice(at));
  assert.ok(m !== null);
  return m[1];
}

test('docs/MANIFEST.md shows the default manifest as it is (descriptions aside)', () => {
  const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'description' ? undefined : x)));
  assert.deepEqual(strip(JSON.parse(docBlock('## The default system'))), strip(JSON.parse(TEXT)));
});

test('docs/MANIFEST.md shows the default capability distribution as expectedCapabilities computes it', () => {
  assert.equal(docBlock('### The default distribution'), expectedCapabilities(m).map(formatCapLine).join('\n') + '\n');
});
