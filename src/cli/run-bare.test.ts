// End-to-end tests of `l4ts run-bare` through the real command (a child process), with programs
// assembled by the project's assembler: the exit protocol, the last stderr line, bad input, and
// the bare-metal virtio-blk program whose writes must reach the host image file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../toolchain/asm/assemble.ts';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/l4ts.js');
const dir = mkdtempSync(join(tmpdir(), 'l4ts-run-bare-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function build(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, assemble(source).elf);
  return path;
}

function runBare(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'run-bare', ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LAST_LINE = /^l4ts: exit=(-?\d+) insns=(\d+) seconds=\d+\.\d+ mips=\d+(\.\d+)?$/;

function lastLine(stderr: string): RegExpExecArray {
  const lines = stderr.trimEnd().split('\n');
  const m = LAST_LINE.exec(lines[lines.length - 1]);
  assert.ok(m, `last stderr line has the documented form: ${JSON.stringify(lines[lines.length - 1])}`);
  return m;
}

test('run-bare: test-device PASS exits 0 and prints UART output', () => {
  const elf = build('pass.elf', `
    .text
    .globl _start
_start:
    li t0, 0x10000000
    li t1, 'o'
    sb t1, 0(t0)
    li t1, 'k'
    sb t1, 0(t0)
    li t1, 10
    sb t1, 0(t0)
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b
`);
  const r = runBare([elf]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'ok\n');
  const m = lastLine(r.stderr);
  assert.equal(m[1], '0');
  assert.equal(Number(m[2]), 11); // lui, 3 × (li, sb), lui, lui+addi (0x5555), sw: all retire
});

test('run-bare: test-device FAIL reports the code', () => {
  const elf = build('fail.elf', `
    .globl _start
_start:
    li t0, 0x100000
    li t1, (42 << 16) | 0x3333
    sw t1, 0(t0)
1:  j 1b
`);
  const r = runBare([elf]);
  assert.equal(r.status, 42);
  assert.equal(lastLine(r.stderr)[1], '42');
});

test('run-bare: HTIF tohost exit, pass and fail', () => {
  const src = (v: number) => `
    .globl _start
_start:
    la t0, tohost
    li t1, ${v}
    sw t1, 0(t0)
1:  j 1b
    .data
    .balign 64
    .globl tohost
tohost: .word 0, 0
`;
  const pass = runBare([build('tohost-pass.elf', src(1))]);
  assert.equal(pass.status, 0);
  assert.equal(lastLine(pass.stderr)[1], '0');
  const fail = runBare([build('tohost-fail.elf', src((7 << 1) | 1))]);
  assert.equal(fail.status, 7);
  assert.equal(lastLine(fail.stderr)[1], '7');
});

test('run-bare: UART input reaches the program', () => {
  // Echo bytes until 'q', polling LSR.DR; then PASS.
  const elf = build('echo.elf', `
    .globl _start
_start:
    li t0, 0x10000000
1:  lbu t1, 5(t0)
    andi t1, t1, 1
    beqz t1, 1b
    lbu t2, 0(t0)
    li t3, 'q'
    beq t2, t3, 2f
    sb t2, 0(t0)
    j 1b
2:  li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
3:  j 3b
`);
  const r = runBare([elf], 'hello q');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'hello ');
});

test('run-bare: --max-insns stops a program that never exits', () => {
  const elf = build('loop.elf', `
    .globl _start
_start:
1:  j 1b
`);
  const r = runBare([elf, '--max-insns', '100000']);
  assert.notEqual(r.status, 0);
  const m = lastLine(r.stderr);
  assert.equal(m[2], '100000');
});

test('run-bare: malformed and missing ELF files get clear errors', () => {
  const bad = join(dir, 'bad.elf');
  writeFileSync(bad, 'this is not an ELF file');
  const r = runBare([bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad magic/);
  lastLine(r.stderr);
  const missing = runBare([join(dir, 'nope.elf')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read/);
});

test('run-bare: bare-metal virtio-blk program; writes reach the host image; IOMMU refuses DMA', () => {
  const elf = build('virtio-blk.elf', readFileSync(join(root, 'user/bare/virtio-blk.S'), 'utf8'));
  const disk = join(dir, 'disk.img');
  writeFileSync(disk, new Uint8Array(64 * 1024));
  const r = runBare([elf, '--disk', disk]);
  assert.equal(r.status, 0, r.stderr);
  const image = readFileSync(disk);
  for (let i = 0; i < 512; i++) assert.equal(image[1024 + i], (i * 7 + 3) & 0xff, `sector 2 byte ${i}`);
  assert.equal(image[1024 + 512], 0, 'nothing written past the sector');
});

test('run-bare: a read-only disk image fails the write with IOERR; a missing one is a clear error', () => {
  const elf = build('virtio-blk-ro.elf', readFileSync(join(root, 'user/bare/virtio-blk.S'), 'utf8'));
  const disk = join(dir, 'ro.img');
  writeFileSync(disk, new Uint8Array(64 * 1024));
  chmodSync(disk, 0o444);
  const r = runBare([elf, '--disk', disk]);
  // The image opens read-write by default, so a read-only file is refused before boot.
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /read-only/);
  const missing = runBare([elf, '--disk', join(dir, 'missing.img')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /does not exist/);
});
