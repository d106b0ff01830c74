// user/lib: the generated files are up to date with src/abi; a program built on the library
// (user/tests/l4/l4lib.ts) runs with the host environment standing in for the kernel's IPC and
// object methods (hostCalls) and serving memory.grow as the memory manager; and another
// (user/tests/l4/kernel-root.ts) runs as the root task of the real kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateUserLib, SYSCALL_PARAMS, USER_LIB } from './gen.ts';
import { compileAssemblyScript } from '../wasm2rv/cli-build.ts';
import { wasm2rv } from '../wasm2rv/compile.ts';
import { HostEnv } from '../wasm2rv/host-env.ts';
import { Sys, Method } from '../../abi/sys.ts';
import { CompSlot, ObjType, Rights } from '../../abi/caps.ts';
import { Err } from '../../abi/errors.ts';
import { msgInfo } from '../../abi/message.ts';
import { UTCB_BASE } from '../../abi/layout.ts';
import { Utcb } from '../../abi/utcb.ts';
import { RtCall } from '../../abi/runtime.ts';
import { Board } from '../../machine/board.ts';
import { Kernel } from '../../kernel/kernel.ts';

test('user/lib/abi.ts and syscalls.ts are generated from src/abi (run src/toolchain/userlib/gen.ts)', () => {
  for (const [name, text] of generateUserLib()) {
    assert.equal(readFileSync(USER_LIB + name, 'utf8'), text, `user/lib/${name} is stale: run node --import tsx src/toolchain/userlib/gen.ts`);
  }
  assert.deepEqual(Object.keys(SYSCALL_PARAMS).sort(), Object.keys(Sys).sort());
  const abi = generateUserLib().get('abi.ts')!;
  for (const s of ['export namespace Sys {', 'export const UTCB_BASE: i32 = <i32>0xf0000000;', 'export namespace RtData {',
    'export namespace CompSlot {', 'export const BOOTINFO_MAGIC: i32 = 0x4c345453;', 'export namespace FaultLabel {', 'export namespace MemProto {']) {
    assert.ok(abi.includes(s), s);
  }
});

test('a program on user/lib: IPC, MRs, object methods, UTCB items, memory.grow, debug output', async () => {
  const wasm = await compileAssemblyScript(fileURLToPath(new URL('../../../user/tests/l4/l4lib.ts', import.meta.url)));
  const { elf } = wasm2rv(wasm);
  const log: string[] = [];
  const env = new HostEnv(elf, {
    hostCalls: new Map([
      [Sys.Call, (e: HostEnv) => {
        const x = e.board.hart.x;
        if (x[10] === CompSlot.Memory) return false; // memory.grow: the host's memory manager
        log.push(`call ${x[10]} ${x[11]} ${[...x.slice(12, 16)].join(',')} utcb ${e.readU32(UTCB_BASE + Utcb.Mr + 16)},${e.readU32(UTCB_BASE + Utcb.Mr + 20)}`);
        x[10] = Err.Ok;
        x[11] = msgInfo(0x456, 5);
        for (let i = 0; i < 4; i++) x[12 + i] = 200 + i;
        x[16] = 0x77;
        e.writeU32(UTCB_BASE + Utcb.Mr + 16, 204);
        return true;
      }],
      [Sys.Invoke, (e: HostEnv) => {
        const x = e.board.hart.x;
        log.push(`invoke ${x[10]} ${x[11]} ${x[12]}`);
        if (x[11] === Method.DebugName) {
          const bytes = [];
          for (let i = 0; i < x[12]; i++) bytes.push(e.readU8(UTCB_BASE + Utcb.Mr + i));
          log.push(`name ${String.fromCharCode(...bytes)}`);
          x[10] = Err.Ok;
        } else if (x[11] === Method.CapIdentify && x[10] === CompSlot.Task && x[12] === 20) {
          x[10] = Err.Ok;
          x[11] = ObjType.Endpoint;
          x[12] = Rights.Read | Rights.Write;
          x[13] = 0x99;
        } else {
          x[10] = Err.EmptySlot;
        }
        return true;
      }],
    ]),
  });
  const outcome = env.start();
  assert.deepEqual(outcome, { kind: 'exit', status: 0 }, env.output);
  assert.equal(env.output, 'l4lib: hello\nl4lib: reply kept\n0x1234abcd\nl4lib: ok\n');
  assert.deepEqual(log, [
    `call 17 ${msgInfo(0x123, 6)} 100,101,102,103 utcb 104,105`,
    `invoke ${CompSlot.Task} ${Method.CapIdentify} 20`,
    `invoke 5 ${Method.ThreadResume} 0`,
    `invoke 17 ${Method.DebugName} 8`,
    'name endpoint',
  ]);
  assert.ok(env.memoryCalls >= 1, 'memory.grow went to the memory manager');
});

test('a program on user/lib as the root task of the real kernel: BootInfo, MemReserved, object methods, the time CSR', async () => {
  const wasm = await compileAssemblyScript(fileURLToPath(new URL('../../../user/tests/l4/kernel-root.ts', import.meta.url)));
  const { elf } = wasm2rv(wasm);
  const board = new Board({ dramSize: 64 << 20 });
  let status: number | null = null;
  // 4 MiB of linear memory from address 0: memory.grow needs no memory manager below it.
  const kernel = new Kernel(board, { root: elf, linearPages: 1024 }, {
    semihost: (_t, regs) => {
      if (regs[17] !== RtCall.Exit) return 'unhandled';
      status = regs[10];
      return 'stop';
    },
  });
  const stops: string[] = [];
  kernel.onThreadStopped((e) => stops.push(`${e.reason}: ${e.why}`));
  for (let i = 0; i < 200 && status === null && stops.length === 0; i++) kernel.run(1_000_000);
  assert.equal(status, 0, `${kernel.debugOut}${stops.join('\n')}`);
  assert.equal(kernel.debugOut, 'root: hello\nroot: ok\n');
});

test('all of user/lib compiles (asc checks only what is reachable: l4.ts as the entry exports everything)', async () => {
  const wasm = await compileAssemblyScript(USER_LIB + 'l4.ts');
  const { module } = wasm2rv(wasm);
  const exports = new Set(module.exports.map((e) => e.name));
  const helpers = ['capCopy', 'capMint', 'capMove', 'capDelete', 'capRevoke', 'capIdentify', 'taskMap', 'taskUnmap',
    'untypedRetype', 'frameMap', 'frameUnmap', 'frameInfo', 'threadConfigure', 'threadSetRegs', 'threadSetPriority',
    'threadSetMcp', 'threadResume', 'threadSuspend', 'threadBindSc', 'threadReadRegs', 'scConfigure', 'scInfo',
    'irqSetNotification', 'irqAck', 'irqClear', 'dmaSetWindow', 'dmaClearWindow', 'debugName'];
  // One typed helper per Method.
  assert.equal(helpers.length, Object.keys(Method).length);
  for (const name of [...helpers, 'call', 'send', 'nbSend', 'recv', 'nbRecv', 'reply', 'replyRecv', 'yieldCpu', 'invoke',
    'msgInfo', 'setMr', 'getMr', 'msgLabel', 'msgLength', 'badge', 'utcbGet', 'utcbSet', 'setXferCaps', 'setMapItem',
    'setRecvSlot', 'setRecvWindow', 'fpage', 'debugPrint']) {
    assert.ok(exports.has(name), name);
  }
});
