import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDevice, type ExitRequest } from './testdev.ts';

function setup() {
  const dev = new TestDevice();
  const exits: ExitRequest[] = [];
  dev.onExit = (c) => exits.push(c);
  return { dev, exits };
}

test('testdev: 0x5555 is pass (exit 0)', () => {
  const { dev, exits } = setup();
  dev.write(0, 4, 0x5555);
  assert.deepEqual(exits, [0]);
});

test('testdev: 0x3333 | code << 16 is fail with that code', () => {
  const { dev, exits } = setup();
  dev.write(0, 4, 0x3333 | (42 << 16));
  dev.write(0, 4, (0x3333 | (0xffff << 16)) >>> 0);
  assert.deepEqual(exits, [42, 0xffff]);
});

test('testdev: 0x7777 is reset; 16-bit writes are accepted', () => {
  const { dev, exits } = setup();
  dev.write(0, 4, 0x7777);
  dev.write(0, 2, 0x5555);
  assert.deepEqual(exits, ['reset', 0]);
});

test('testdev: other values, offsets and byte writes do nothing; reads are 0', () => {
  const { dev, exits } = setup();
  dev.write(0, 4, 0x1234);
  dev.write(4, 4, 0x5555);
  dev.write(0, 1, 0x55);
  assert.deepEqual(exits, []);
  assert.equal(dev.read(0, 4), 0);
});
