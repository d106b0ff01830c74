// Checks a parsed JSON value against a Schema (schema.ts), stopping at the first problem with a
// message that names the field and why.
//
// Only the keywords in SUPPORTED_KEYWORDS are implemented, with their draft 2020-12 meaning,
// and `oneOf` only in its discriminated form: every branch fixes the same property with
// `const`, so the branch is chosen by that property and the messages can say "for kind
// "uart"" instead of listing why each branch failed. Within an object the order is: unknown
// properties (a typo explains a "missing" property better than the other way round), then
// missing required properties, then each property in the order the document has them.

import { ManifestError, formatPath, positionOf, show, didYouMean, type Path, type SourcePos } from './error.ts';
import type { JsonType, Schema } from './schema.ts';

export interface CheckContext {
  /** The document's root schema, for `$ref: "#/$defs/..."`. */
  root: Schema;
  positions: Map<string, SourcePos>;
}

/** Throw a ManifestError for the first way `value` breaks `schema`. */
export function checkSchema(value: unknown, schema: Schema, ctx: CheckContext, path: Path = []): void {
  check(value, schema, ctx, [...path], null);
}

/** Follow `$ref` (JSON pointer into the root); sibling keywords apply on top of the target. */
export function resolveRef(schema: Schema, root: Schema): Schema {
  let s = schema;
  for (let hops = 0; s.$ref !== undefined; hops++) {
    if (hops > 16) throw new Error(`schema: $ref loop at ${schema.$ref}`);
    const ref = s.$ref;
    if (!ref.startsWith('#/')) throw new Error(`schema: only local $ref is supported, got ${ref}`);
    let target: unknown = root;
    for (const part of ref.slice(2).split('/')) {
      target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (target === undefined) throw new Error(`schema: $ref ${ref} resolves to nothing`);
    const { $ref: _, ...siblings } = s;
    s = { ...(target as Schema), ...siblings };
  }
  return s;
}

/** The property every branch of a discriminated oneOf fixes with `const`. */
export function discriminator(branches: readonly Schema[]): string {
  const first = branches[0]?.properties ?? {};
  for (const key of Object.keys(first)) {
    if (branches.every((b) => b.properties?.[key]?.const !== undefined)) return key;
  }
  throw new Error('schema: a oneOf must be discriminated by a property that every branch fixes with const');
}

interface Branch {
  tag: string;
  value: string | number;
}

function fail(ctx: CheckContext, path: Path, why: string): never {
  throw new ManifestError(formatPath(path), why, positionOf(ctx.positions, path));
}

function check(value: unknown, schema0: Schema, ctx: CheckContext, path: (string | number)[], branch: Branch | null): void {
  const schema = resolveRef(schema0, ctx.root);

  if (schema.oneOf !== undefined) {
    const tag = discriminator(schema.oneOf);
    if (!isObject(value)) fail(ctx, path, `expected an object, got ${describe(value)}`);
    const choices = schema.oneOf.map((b) => b.properties![tag].const!);
    if (!Object.hasOwn(value, tag)) fail(ctx, path, `missing required property ${show(tag)} (one of ${choices.map(show).join(', ')})`);
    const v = value[tag];
    const i = choices.findIndex((c) => c === v);
    if (i < 0) {
      path.push(tag);
      fail(ctx, path, `${show(v)} is not one of ${choices.map(show).join(', ')}${typeof v === 'string' ? didYouMean(v, choices.map(String)) : ''}`);
    }
    check(value, schema.oneOf[i], ctx, path, { tag, value: choices[i] });
    // Keywords beside oneOf other than annotations are not used by the manifest schema.
    return;
  }

  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, t))) {
      fail(ctx, path, `expected ${types.map(article).join(' or ')}, got ${describe(value)}`);
    }
  }
  if (schema.const !== undefined && value !== schema.const) {
    fail(ctx, path, `must be ${show(schema.const)}, got ${show(value)}`);
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    const hint = typeof value === 'string' ? didYouMean(value, schema.enum.map(String)) : '';
    fail(ctx, path, `${show(value)} is not one of ${schema.enum.map(show).join(', ')}${hint}`);
  }

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      fail(ctx, path, `${show(value)} is shorter than ${schema.minLength} characters`);
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      fail(ctx, path, `${show(value)} is longer than ${schema.maxLength} characters`);
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      const meaning = schema['x-pattern-description'];
      fail(ctx, path, meaning !== undefined ? `${show(value)} is not ${meaning}` : `${show(value)} does not match the pattern ${schema.pattern}`);
    }
  }

  if (typeof value === 'number') {
    const { minimum: lo, maximum: hi } = schema;
    if ((lo !== undefined && value < lo) || (hi !== undefined && value > hi)) {
      if (lo !== undefined && hi !== undefined) fail(ctx, path, `${value} is out of range ${lo}..${hi}`);
      if (lo !== undefined) fail(ctx, path, `${value} is less than the minimum ${lo}`);
      fail(ctx, path, `${value} is more than the maximum ${hi}`);
    }
  }

  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      fail(ctx, path, value.length === 0 ? `must not be empty` : `has ${value.length} items, at least ${schema.minItems} needed`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      fail(ctx, path, `has ${value.length} items, at most ${schema.maxItems} allowed`);
    }
    if (schema.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        check(value[i], schema.items, ctx, path, null);
        path.pop();
      }
    }
  }

  if (isObject(value)) {
    const props = schema.properties ?? {};
    const known = Object.keys(props);
    if (schema.additionalProperties === false) {
      for (const key of Object.keys(value)) {
        if (Object.hasOwn(props, key)) continue;
        path.push(key);
        const where = branch === null ? '' : ` for ${branch.tag} ${show(branch.value)}`;
        const hint = didYouMean(key, known);
        fail(ctx, path, `unknown property${where}${hint !== '' ? hint : ` (allowed: ${known.join(', ')})`}`);
      }
    }
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(value, key)) {
        const where = branch === null ? '' : ` for ${branch.tag} ${show(branch.value)}`;
        fail(ctx, path, `missing required property ${show(key)}${where}`);
      }
    }
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(props, key)) continue;
      path.push(key);
      check(value[key], props[key], ctx, path, null);
      path.pop();
    }
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(v: unknown, t: JsonType): boolean {
  switch (t) {
    case 'object': return isObject(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
  }
}

function article(t: JsonType): string {
  return t === 'integer' || t === 'object' || t === 'array' ? `an ${t}` : t === 'null' ? 'null' : `a ${t}`;
}

/** How a value looks, for "got ...": `a string ("10")`, `1.5`, `true`, `an array`. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return `a string (${show(v)})`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `${v}`;
  if (v === null || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}
