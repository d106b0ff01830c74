// End-to-end tests of `l4ts run` through the real command (a child process): the program is
// the kernel's root task, its runtime calls are served by the host through the kernel's
// semihost hook, traps and kernel kills give a symbolized report, and --trace writes the
// kernel's events.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '../toolchain/asm/assemble.ts';
import { buildAssemblyScript } from '../toolchain/wasm2rv/cli-build.ts';
import { CODE_BASE } from '../abi/layout.ts';
import { BootInfo } from '../abi/caps.ts';
import { Method, Sys } from '../abi/sys.ts';
import { ObjType } from '../abi/caps.ts';
import { RtCall } from '../abi/runtime.ts';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/l4ts.js');
const dir = mkdtempSync(join(tmpdir(), 'l4ts-run-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, 'run', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LAST_LINE = /^l4ts: exit=(-?\d+) insns=(\d+) seconds=\d+\.\d+ mips=\d+(\.\d+)?$/;

function lastLine(stderr: string): RegExpExecArray {
  const lines = stderr.trimEnd().split('\n');
  const m = LAST_LINE.exec(lines[lines.length - 1]);
  assert.ok(m, `last stderr line has the documented form: ${JSON.stringify(lines[lines.length - 1])}`);
  return m;
}

function asmElf(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, assemble(source, { base: CODE_BASE }).elf);
  return path;
}

async function asElf(name: string): Promise<string> {
  const out = join(dir, `${name}.elf`);
  await buildAssemblyScript(join(root, 'user/tests', `${name}.ts`), out);
  return out;
}

test('run: an AssemblyScript program prints through the semihost and exits with main\'s i32', async () => {
  const r = run([await asElf('strings')]);
  assert.match(r.stdout, /^ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWX\n/);
  assert.match(r.stdout, /HELLO, WORLD mixed\n/);
  const m = lastLine(r.stderr);
  assert.equal(r.status, Number(m[1]) & 0xff);
  assert.ok(Number(m[2]) > 10_000);
});

test('run: abort and a wasm trap end the program with a report and a non-zero status', async () => {
  const a = run([await asElf('abort')]);
  assert.equal(a.status, 134);
  assert.match(a.stdout, /abort: sum is not seven at user\/tests\/abort\.ts:6:3/);
  assert.equal(lastLine(a.stderr)[1], '134');
  const t = run([await asElf('trap')]);
  assert.equal(t.status, 129);
  assert.match(t.stdout, /wasm trap: out of bounds memory access in \S*main \(function \d+, wasm offset 0x[0-9a-f]+, pc 0x[0-9a-f]+\)\n  #0 0x[0-9a-f]+ \S*main/);
  assert.match(t.stdout, /_start/);
});

test('run: a thread the kernel kills and an unknown runtime call are reported', () => {
  const ill = run([asmElf('illegal.elf', `
_start:
  nop
  .word 0
`)]);
  assert.equal(ill.status, 129);
  assert.match(ill.stdout, /exception without a handler: trap cause 2 .*pc 0xc0000004/);
  const unk = run([asmElf('unknown.elf', `
_start:
  li a7, 0x4321
  ecall
`)]);
  assert.equal(unk.status, 129);
  assert.match(unk.stdout, /unknown system call 0x4321/);
  // A second thread of the program faults while the first spins: the run ends with its report.
  const second = run([asmElf('second.elf', `
_start:
  mv s0, a0
  lw s1, ${4 * BootInfo.UntypedFirst}(s0)
  lw s2, ${4 * BootInfo.FirstFreeSlot}(s0)
  li a7, ${Sys.Invoke}
  mv a0, s1
  li a1, ${Method.UntypedRetype}
  li a2, ${ObjType.Thread}
  li a3, 0
  li a4, 1
  mv a5, s2
  ecall
  li a7, ${Sys.Invoke}
  mv a0, s2
  li a1, ${Method.ThreadConfigure}
  li a2, 1
  li a3, 0xf0001000
  li a4, 0
  li a5, 0
  ecall
  li a7, ${Sys.Invoke}
  mv a0, s2
  li a1, ${Method.ThreadSetRegs}
  la a2, helper
  li a3, 0xdff80000
  li a4, 0
  ecall
  li a7, ${Sys.Invoke}
  mv a0, s2
  li a1, ${Method.ThreadSetPriority}
  li a2, 255
  ecall
  li a7, ${Sys.Invoke}
  mv a0, s2
  li a1, ${Method.ThreadResume}
  ecall
1: j 1b
helper:
  ebreak
`)]);
  assert.equal(second.status, 129, second.stdout + second.stderr);
  assert.match(second.stdout, /exception without a handler: trap cause 3/);
  const budget = run(['--max-insns', '1000', asmElf('spin.elf', '_start: j _start\n')]);
  assert.equal(budget.status, 124);
  assert.equal(lastLine(budget.stderr)[2], '1000');
});

test('run --trace: a root task that makes a server thread and calls it; the trace has IPC, fault and switch events', () => {
  // The root task retypes an endpoint and a thread from its first untyped, starts the thread
  // in its own address space as an echo server, calls it ten times, then exits with 42.
  const elf = asmElf('ipc.elf', `
_start:
  mv s0, a0                        # BootInfo
  lw s1, ${4 * BootInfo.UntypedFirst}(s0)
  lw s2, ${4 * BootInfo.FirstFreeSlot}(s0)
  li a7, ${Sys.Invoke}
  mv a0, s1
  li a1, ${Method.UntypedRetype}
  li a2, ${ObjType.Endpoint}
  li a3, 0
  li a4, 1
  mv a5, s2
  ecall
  bnez a0, fail
  li a7, ${Sys.Invoke}
  mv a0, s1
  li a1, ${Method.UntypedRetype}
  li a2, ${ObjType.Thread}
  li a3, 0
  li a4, 1
  addi a5, s2, 1
  ecall
  bnez a0, fail
  li a7, ${Sys.Invoke}
  addi a0, s2, 1
  li a1, ${Method.ThreadConfigure}
  li a2, 1                         # its own task
  li a3, 0xf0001000                # the server's UTCB
  li a4, 0
  li a5, 0
  ecall
  bnez a0, fail
  li a7, ${Sys.Invoke}
  addi a0, s2, 1
  li a1, ${Method.ThreadSetRegs}
  la a2, server
  li a3, 0xdff80000                # half-way down the root's stack
  mv a4, s2
  ecall
  bnez a0, fail
  li a7, ${Sys.Invoke}
  addi a0, s2, 1
  li a1, ${Method.ThreadResume}
  ecall
  bnez a0, fail
  li s3, 10
1:
  li a7, ${Sys.Call}
  mv a0, s2
  li a1, 1
  mv a2, s3
  li a6, 0
  ecall
  bnez a0, fail
  addi t0, s3, 1
  bne a2, t0, fail
  addi s3, s3, -1
  bnez s3, 1b
  li a0, 42
  li a7, ${RtCall.Exit}
  ecall
fail:
  li a0, 1
  li a7, ${RtCall.Exit}
  ecall
server:
  mv s0, a0
  li a7, ${Sys.Recv}
  mv a0, s0
  li a6, 0
  ecall
2:
  addi a2, a2, 1
  li a1, 1
  li a6, 0
  mv a0, s0
  li a7, ${Sys.ReplyRecv}
  ecall
  j 2b
`);
  const tracePath = join(dir, 'trace.json');
  const r = run(['--trace', tracePath, elf]);
  assert.equal(r.status, 42, r.stdout + r.stderr);
  assert.equal(lastLine(r.stderr)[1], '42');
  const json = JSON.parse(readFileSync(tracePath, 'utf8')) as { traceEvents: { name: string; ph: string; ts: number }[] };
  const names = new Set(json.traceEvents.map((e) => e.name));
  for (const n of ['ipc', 'fault', 'switch', 'syscall']) assert.ok(names.has(n), `trace has ${n} events: ${[...names].join(', ')}`);
  const ipcs = json.traceEvents.filter((e) => e.name === 'ipc').length;
  assert.ok(ipcs >= 20, `${ipcs} ipc events`);
  const unordered = json.traceEvents.filter((e, i, a) => i > 0 && e.ts < a[i - 1].ts).length;
  assert.equal(unordered, 0, 'events in time order');
});
