import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson, JSON_MAX_DEPTH } from './json.ts';
import { ManifestError } from './error.ts';

function refuses(text: string, message: string): void {
  assert.throws(() => parseJson(text), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    assert.equal(e.message, message);
    return true;
  });
}

test('parses every kind of value exactly as JSON.parse does', () => {
  const text = '\ufeff{"a": [1, -2.5, 3e2, 0, -0.125E-1], "b": {"c": true, "d": false, "e": null},\n' +
    ' "s": "x\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00", "empty": {}, "none": [], "u": "é"}';
  assert.deepEqual(parseJson(text).value, JSON.parse(text.slice(1)));
});

test('records where each value is: line and column of its property name or element', () => {
  const { positions } = parseJson('{\n  "components": [\n    {"name": "x"},\n    {"name": "y"}\n  ]\n}');
  assert.deepEqual(positions.get(''), { line: 1, column: 1 });
  assert.deepEqual(positions.get('components'), { line: 2, column: 3 });
  assert.deepEqual(positions.get('components[1]'), { line: 4, column: 5 });
  assert.deepEqual(positions.get('components[1].name'), { line: 4, column: 6 });
});

test('a property named __proto__ stays an ordinary property', () => {
  const v = parseJson('{"__proto__": {"x": 1}}').value as Record<string, unknown>;
  assert.ok(Object.hasOwn(v, '__proto__'));
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});

test('empty file', () => {
  refuses('  \n ', 'manifest: JSON syntax error at line 2, column 2: the file is empty (expected a JSON object)');
});

test('trailing comma in an object and in an array', () => {
  refuses('{"a": 1,\n}', 'manifest: JSON syntax error at line 2, column 1: trailing comma before "}" (JSON allows none)');
  refuses('[1, 2, ]', 'manifest: JSON syntax error at line 1, column 8: trailing comma before "]" (JSON allows none)');
});

test('comments', () => {
  refuses('{\n  // the root task\n}', 'manifest: JSON syntax error at line 2, column 3: comments are not allowed in JSON (use a "description" property instead)');
  refuses('{"a": /* x */ 1}', 'manifest: JSON syntax error at line 1, column 7: comments are not allowed in JSON (use a "description" property instead)');
});

test('single-quoted strings and property names', () => {
  refuses("{\"a\": 'x'}", 'manifest: JSON syntax error at line 1, column 7: strings must be in double quotes, not single quotes');
  refuses("{'a': 1}", 'manifest: JSON syntax error at line 1, column 2: property names must be in double quotes, not single quotes');
});

test('unquoted property name', () => {
  refuses('{name: 1}', 'manifest: JSON syntax error at line 1, column 2: expected a property name in double quotes, got "n"');
});

test('missing comma between properties and between elements', () => {
  refuses('{"a": 1\n "b": 2}', 'manifest: JSON syntax error at line 2, column 2: expected "," or "}" after the value of "a", got a string');
  refuses('[1 2]', 'manifest: JSON syntax error at line 1, column 4: expected "," or "]" after an array element, got "2"');
});

test('missing colon', () => {
  refuses('{"a" 1}', 'manifest: JSON syntax error at line 1, column 6: expected ":" after the property name "a", got "1"');
});

test('unterminated string, at the end of the file or of the line', () => {
  refuses('{"a": "abc', 'manifest: JSON syntax error at line 1, column 7: unterminated string');
  refuses('{"a": "abc\n"}', 'manifest: JSON syntax error at line 1, column 7: unterminated string (a string cannot continue on the next line)');
});

test('control character in a string', () => {
  refuses('{"a": "x\ty"}', 'manifest: JSON syntax error at line 1, column 9: control character U+0009 in a string must be written as an escape');
});

test('invalid escapes', () => {
  refuses('{"a": "\\x41"}', 'manifest: JSON syntax error at line 1, column 8: invalid escape \\x in a string (valid: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
  refuses('{"a": "\\u12g4"}', 'manifest: JSON syntax error at line 1, column 8: invalid escape \\u12g4: \\u takes four hexadecimal digits');
});

test('hexadecimal numbers get a hint to write a string', () => {
  refuses('{"base": 0x87000000}', 'manifest: JSON syntax error at line 1, column 10: hexadecimal numbers are not JSON; write the value as a string, e.g. "0x1000_0000"');
});

test('malformed numbers', () => {
  refuses('[007]', 'manifest: JSON syntax error at line 1, column 2: numbers cannot have leading zeros');
  refuses('[1.]', 'manifest: JSON syntax error at line 1, column 2: invalid number "1."');
  refuses('[-]', 'manifest: JSON syntax error at line 1, column 2: invalid number "-"');
  refuses('[+1]', 'manifest: JSON syntax error at line 1, column 2: unexpected "+" (expected a value: an object, array, string, number, true, false or null)');
});

test('unknown words', () => {
  refuses('{"a": True}', 'manifest: JSON syntax error at line 1, column 7: unknown word "True" (a value is an object, array, string, number, true, false or null)');
  refuses('[NaN]', 'manifest: JSON syntax error at line 1, column 2: unknown word "NaN" (a value is an object, array, string, number, true, false or null)');
});

test('end of file inside an object names the unclosed bracket', () => {
  refuses('{\n  "a": [1,\n  2', 'manifest: JSON syntax error at line 3, column 4: unexpected end of file: the "[" at line 2, column 8 is never closed');
  refuses('{"a": 1', 'manifest: JSON syntax error at line 1, column 8: unexpected end of file: the "{" at line 1, column 1 is never closed');
  refuses('{"a":', 'manifest: JSON syntax error at line 1, column 6: unexpected end of file (expected a value)');
});

test('content after the value', () => {
  refuses('{}\n{}', 'manifest: JSON syntax error at line 2, column 1: unexpected "{" after the end of the JSON value');
});

test('a property named twice in one object', () => {
  assert.throws(() => parseJson('{"components": [{\n "priority": 1,\n "priority": 2}]}'), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    assert.equal(e.message, 'manifest: components[0]: property "priority" appears twice (lines 2 and 3)');
    assert.equal(e.path, 'components[0]');
    assert.deepEqual(e.pos, { line: 3, column: 2 });
    return true;
  });
});

test('nesting deeper than the limit', () => {
  const deep = '['.repeat(JSON_MAX_DEPTH + 2) + ']'.repeat(JSON_MAX_DEPTH + 2);
  refuses(deep, `manifest: JSON syntax error at line 1, column ${JSON_MAX_DEPTH + 2}: nested more than ${JSON_MAX_DEPTH} levels deep`);
  const ok = '['.repeat(JSON_MAX_DEPTH) + ']'.repeat(JSON_MAX_DEPTH);
  assert.doesNotThrow(() => parseJson(ok));
});
