import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, positionOf, closest, didYouMean, show, ManifestError } from './error.ts';

test('formatPath writes indices in brackets and quotes names that are not identifiers', () => {
  assert.equal(formatPath([]), '');
  assert.equal(formatPath(['components', 2, 'devices', 0, 'slot']), 'components[2].devices[0].slot');
  assert.equal(formatPath(['$schema']), '$schema');
  assert.equal(formatPath(['a', 'b c']), 'a["b c"]');
});

test('a ManifestError message is "manifest: <path>: <why>", or "manifest: <why>" for the whole file', () => {
  assert.equal(new ManifestError('components[1]', 'bad').message, 'manifest: components[1]: bad');
  assert.equal(new ManifestError('', 'bad').message, 'manifest: bad');
  assert.equal(new ManifestError('', 'bad').name, 'ManifestError');
});

test('positionOf falls back to the nearest enclosing value (for a defaulted field)', () => {
  const positions = new Map([['', { line: 1, column: 1 }], ['components[3]', { line: 40, column: 5 }]]);
  assert.deepEqual(positionOf(positions, ['components', 3, 'restart']), { line: 40, column: 5 });
  assert.deepEqual(positionOf(positions, ['version']), { line: 1, column: 1 });
  assert.equal(positionOf(new Map(), ['x']), null);
});

test('did-you-mean suggests close names only', () => {
  assert.equal(closest('prority', ['priority', 'image']), 'priority');
  assert.equal(closest('Priority', ['priority']), 'priority');
  assert.equal(closest('memroyPages', ['memoryPages']), 'memoryPages'); // a transposition
  assert.equal(closest('blk0', ['console', 'names']), null);
  assert.equal(closest('ab', ['xy']), null);
  assert.equal(didYouMean('helo', ['hello']), ' (did you mean "hello"?)');
  assert.equal(didYouMean('zzz', ['hello']), '');
});

test('show quotes strings and shortens long values', () => {
  assert.equal(show('a"b'), '"a\\"b"');
  assert.equal(show(3), '3');
  assert.equal(show('x'.repeat(100)).length, 60);
});
