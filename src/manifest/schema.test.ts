import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MANIFEST_SCHEMA, SUPPORTED_KEYWORDS, schemaJsonText, type Schema } from './schema.ts';
import { resolveRef, discriminator } from './schema-check.ts';

const SCHEMA_FILE = fileURLToPath(new URL('../../manifests/schema.json', import.meta.url));

/** Every schema node in the tree, with a JSON-pointer-like location. */
function* nodes(s: Schema, at = '#'): Generator<[Schema, string]> {
  yield [s, at];
  for (const [k, v] of Object.entries(s.$defs ?? {})) yield* nodes(v, `${at}/$defs/${k}`);
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* nodes(v, `${at}/properties/${k}`);
  if (s.items !== undefined) yield* nodes(s.items, `${at}/items`);
  for (const [i, v] of (s.oneOf ?? []).entries()) yield* nodes(v, `${at}/oneOf/${i}`);
}

test('manifests/schema.json is what gen-schema.ts writes from schema.ts', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaJsonText(),
    'stale: run `node --import tsx src/manifest/gen-schema.ts`');
});

test('the schema declares draft 2020-12', () => {
  assert.equal(MANIFEST_SCHEMA.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

test('every property, definition and branch has a description', () => {
  // Array items are described by their array (and a $ref item by its definition).
  const missing = [...nodes(MANIFEST_SCHEMA)]
    .filter(([s, at]) => !at.endsWith('/items') && (typeof s.description !== 'string' || s.description.trim() === ''))
    .map(([, at]) => at);
  assert.deepEqual(missing, []);
});

test('the schema uses only keywords the validator implements', () => {
  for (const [s, at] of nodes(MANIFEST_SCHEMA)) {
    for (const k of Object.keys(s)) assert.ok(SUPPORTED_KEYWORDS.has(k), `${at}: unsupported keyword ${k}`);
  }
});

test('every $ref resolves and every oneOf is discriminated by a const property', () => {
  for (const [s, at] of nodes(MANIFEST_SCHEMA)) {
    if (s.$ref !== undefined) assert.doesNotThrow(() => resolveRef(s, MANIFEST_SCHEMA), at);
    if (s.oneOf !== undefined) {
      const tag = discriminator(s.oneOf);
      const values = s.oneOf.map((b) => b.properties![tag].const);
      assert.equal(new Set(values).size, values.length, `${at}: two branches with the same ${tag}`);
      for (const b of s.oneOf) assert.ok(b.required?.includes(tag), `${at}: ${tag} must be required in every branch`);
    }
  }
});

test('every pattern compiles, and objects refuse unknown properties', () => {
  for (const [s, at] of nodes(MANIFEST_SCHEMA)) {
    if (s.pattern !== undefined) {
      assert.doesNotThrow(() => new RegExp(s.pattern!, 'u'), at);
      assert.ok(s['x-pattern-description'] !== undefined, `${at}: a pattern needs an x-pattern-description for its message`);
    }
    if (s.type === 'object') assert.equal(s.additionalProperties, false, `${at}: typos would pass unnoticed`);
    for (const r of s.required ?? []) assert.ok(s.properties?.[r] !== undefined, `${at}: required ${r} is not a property`);
  }
});

test('discriminator() refuses a oneOf that is not discriminated', () => {
  assert.throws(() => discriminator([{ properties: { a: { const: 1 } } }, { properties: { b: { const: 2 } } }]), /discriminated/);
});
