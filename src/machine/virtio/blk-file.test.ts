import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackend } from './blk-file.ts';
import { MemoryBackend } from './blk-backend.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-blkfile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('blk-file: positioned reads and writes reach the file synchronously', (t) => {
  const path = join(tempDir(t), 'a.img');
  writeFileSync(path, new Uint8Array(4096));
  const f = FileBackend.open(path);
  t.after(() => f.close());
  assert.equal(f.size, 4096);
  assert.equal(f.readOnly, false);
  f.write(1000, Uint8Array.of(1, 2, 3));
  assert.deepEqual([...readFileSync(path).subarray(999, 1004)], [0, 1, 2, 3, 0]);
  const dst = new Uint8Array(5);
  f.read(999, dst);
  assert.deepEqual([...dst], [0, 1, 2, 3, 0]);
  f.flush();
  assert.throws(() => f.write(4094, new Uint8Array(4)), /past the end/);
  assert.throws(() => f.read(-1, dst), /past the end/);
});

test('blk-file: a missing file is an error naming the path', (t) => {
  const path = join(tempDir(t), 'missing.img');
  assert.throws(() => FileBackend.open(path), (e: Error) => e.message.includes(path) && /does not exist/.test(e.message));
  assert.throws(() => FileBackend.open(path, { readOnly: true }), /does not exist/);
});

test('blk-file: a read-only file opened for writing is an error naming the path; read-only opening works', (t) => {
  const path = join(tempDir(t), 'ro.img');
  writeFileSync(path, new Uint8Array(1024).fill(7));
  chmodSync(path, 0o444);
  assert.throws(() => FileBackend.open(path), (e: Error) => e.message.includes(path) && /read-only/.test(e.message));
  const f = FileBackend.open(path, { readOnly: true });
  t.after(() => f.close());
  assert.equal(f.readOnly, true);
  assert.throws(() => f.write(0, Uint8Array.of(1)), /open read-only/);
  const dst = new Uint8Array(2);
  f.read(0, dst);
  assert.deepEqual([...dst], [7, 7]);
});

test('blk-file: a directory is refused; a closed backend refuses access', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'd'));
  assert.throws(() => FileBackend.open(join(dir, 'd')), /not a regular file/);
  const path = join(dir, 'c.img');
  writeFileSync(path, new Uint8Array(512));
  const f = FileBackend.open(path);
  f.close();
  assert.throws(() => f.read(0, new Uint8Array(1)), /closed/);
});

test('blk-backend: the memory backend shares its bytes and checks ranges and read-only', () => {
  const data = new Uint8Array(1024);
  const m = new MemoryBackend(data);
  m.write(10, Uint8Array.of(5));
  assert.equal(data[10], 5);
  assert.throws(() => m.read(1020, new Uint8Array(8)), RangeError);
  const ro = new MemoryBackend(16, { readOnly: true });
  assert.throws(() => ro.write(0, Uint8Array.of(1)), /read-only/);
  m.flush();
  assert.equal(m.flushes, 1);
});
