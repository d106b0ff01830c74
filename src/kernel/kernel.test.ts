// End-to-end kernel tests: user programs in RV32 assembly, run on the board under the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootSystem, make, spawn, grantCap, rootInvoke, resume, userWord, callPair, bindSc, SERVER_START, CLIENT_END, CLIENT_BADGE, POOL_PAGER,
  type TestSystem, type UserTask,
} from './test-support.ts';
import { checkInvariants } from './invariants.ts';
import { ObjType, Rights, RIGHTS_ALL, BootInfo } from '../abi/caps.ts';
import { Method } from '../abi/sys.ts';
import { Err } from '../abi/errors.ts';
import { fpage } from '../abi/message.ts';
import { TS_INACTIVE } from './objects/thread.ts';
import { bootInfoPa, asm } from './test-support.ts';
import { Kernel } from './kernel.ts';
import { Board } from '../machine/board.ts';
import type { Untyped } from './objects/untyped.ts';

const SERVER = `${SERVER_START}
loop:
  addi a2, a2, 1
  mv a3, a6          # echo the badge back
  li a1, 2
  li a6, 0
  li a0, 1
  li a7, SYS_REPLY_RECV
  ecall
  j loop
`;

const CLIENT = `
_start:
  li s0, 500
loop:
  li a7, SYS_CALL
  li a0, 1
  li a1, 1
  mv a2, s0
  ecall
  bnez a0, fail
  addi t0, s0, 1
  bne a2, t0, fail
  li t0, ${CLIENT_BADGE}
  bne a3, t0, fail
  addi s0, s0, -1
  bnez s0, loop
${CLIENT_END}`;

test('boot: the root runs, BootInfo describes its resources', () => {
  const sys = bootSystem(`
_start:
  lw t0, 0(a0)
  li t1, 0x4c345453
  bne t0, t1, bad
  li a7, SYS_PUTC
  li a0, 0x52
  ecall
bad:
  wfi
`);
  sys.board.run(10_000);
  assert.equal(sys.kernel.debugOut, 'R');
  const w = (i: number) => sys.board.dram.readU32(bootInfoPa(sys.kernel) + 4 * i);
  assert.ok(w(BootInfo.UntypedCount) > 0);
  assert.equal(w(BootInfo.IrqCount), 63);
  assert.equal(w(BootInfo.DmaCount), 8);
  assert.equal(sys.board.iommu.mode, 'enforce');
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('IPC: call and reply-receive between two address spaces, badge delivered, fast path used', () => {
  const sys = bootSystem();
  const { server, client } = callPair(sys, SERVER, CLIENT);
  resume(sys, server, client);
  const r = sys.board.run(1_000_000);
  assert.deepEqual(r, { kind: 'idle' });
  assert.ok(sys.kernel.debugOut.endsWith('K'), sys.kernel.debugOut);
  assert.ok(sys.kernel.stats.fastpath >= 999, `fast path ${sys.kernel.stats.fastpath}`);
  assert.notEqual(server.task.satp, client.task.satp);
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('IPC: long messages through the UTCB, non-blocking send fails without a receiver, timeouts expire', () => {
  const sys = bootSystem();
  const ep = make(sys, ObjType.Endpoint);
  const rx = spawn(sys, `
_start:
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
  li t0, UTCB
  lw t1, 40(t0)         # MR10
  li t2, 1010
  bne t1, t2, bad
  li t2, 12
  andi t3, a1, 0x7f
  bne t3, t2, bad
  li a7, SYS_PUTC
  li a0, 0x4d
  ecall
  li a7, SYS_RECV       # times out after 1000 ticks
  li a0, 1
  li a6, 1000
  ecall
  li t0, 9
  bne a0, t0, bad
  li a7, SYS_PUTC
  li a0, 0x54
  ecall
bad:
  wfi
`, { prio: 100, start: false });
  const tx = spawn(sys, `
_start:
  li a7, SYS_NBSEND     # nobody is receiving yet
  li a0, 1
  li a1, 0
  ecall
  li t0, 8
  bne a0, t0, bad
  li t0, UTCB
  li t1, 1010
  sw t1, 40(t0)
  li a7, SYS_SEND
  li a0, 1
  li a1, 12
  li a6, 0
  ecall
  bnez a0, bad
  li a7, SYS_PUTC
  li a0, 0x53
  ecall
bad:
  wfi
`, { prio: 120, start: false });
  grantCap(sys, rx, ep, 1);
  grantCap(sys, tx, ep, 1);
  rootInvoke(sys, tx.threadSlot, Method.ThreadResume);
  rootInvoke(sys, rx.threadSlot, Method.ThreadResume);
  sys.board.run(2_000_000);
  assert.equal(sys.kernel.debugOut, 'SMT');
});

test('protection: no capability, no rights, no access', () => {
  const sys = bootSystem();
  const ep = make(sys, ObjType.Endpoint);
  const victim = spawn(sys, `_start: j _start\n.data\nsecret: .word 0x5ec7e7`, { start: false });
  const h = spawn(sys, `
_start:
  la s1, results
  li a7, SYS_CALL        # slot 5: empty
  li a0, 5
  ecall
  sw a0, 0(s1)
  li a7, SYS_CALL        # slot 1: endpoint without Write
  li a0, 1
  li a1, 0
  ecall
  sw a0, 4(s1)
  li a7, SYS_INVOKE      # map through a task capability it does not have (slot 7)
  li a0, 7
  li a1, 0x18
  ecall
  sw a0, 8(s1)
  li a7, SYS_INVOKE      # revoke through its own task capability without Write (slot 2)
  li a0, 2
  li a1, 0x14
  li a2, 1
  ecall
  sw a0, 12(s1)
  li a7, SYS_INVOKE      # retype with an endpoint capability
  li a0, 1
  li a1, 0x20
  ecall
  sw a0, 16(s1)
  li a7, SYS_INVOKE      # a method the task object does not have
  li a0, 3
  li a1, 0x77
  ecall
  sw a0, 20(s1)
  li a7, SYS_INVOKE      # slot far out of range
  li a0, 100000
  ecall
  sw a0, 24(s1)
  li t0, 0x10000000      # the UART: no mapping (I/O memory only through its capability)
  sw zero, 0(t0)
  li a7, SYS_PUTC
  li a0, 0x21
  ecall
1: j 1b
.data
results: .space 64
`, { start: false });
  grantCap(sys, h, ep, 1, Rights.Read);
  grantCap(sys, h, h.taskSlot, 2, Rights.Read);
  grantCap(sys, h, h.taskSlot, 3);
  rootInvoke(sys, h.threadSlot, Method.ThreadResume);
  sys.board.run(100_000);
  const res = [0, 4, 8, 12, 16, 20, 24].map((o) => userWord(sys, h, h.symbols.get('results')! + o));
  assert.deepEqual(res, [Err.EmptySlot, Err.NoRights, Err.EmptySlot, Err.NoRights, Err.WrongType, Err.InvalidCall, Err.InvalidSlot]);
  // The store to the UART page faulted and, with no pager, the thread was stopped.
  assert.equal(h.thread.state, TS_INACTIVE);
  assert.equal(sys.kernel.debugOut, '');
  assert.match(sys.kernel.lastKill, /page fault without a pager \(cause 15, addr 0x10000000\)/);
  // The victim's data page is not in the hostile task's space at any address.
  const secretPa = victim.task.maps.get(victim.symbols.get('secret')! >>> 12)!.pa;
  for (const n of h.task.maps.values()) assert.notEqual(n.pa, secretPa);
  // Device pages, DMA windows, IRQs: only through their capabilities (the hostile task's
  // invocations on the root's slot numbers name nothing in its own space).
  const io = sys.kernel.board.dram.readU32(bootInfoPa(sys.kernel) + 4 * BootInfo.IoMemFirst);
  const dma = sys.kernel.board.dram.readU32(bootInfoPa(sys.kernel) + 4 * BootInfo.DmaFirst);
  const irq = sys.kernel.board.dram.readU32(bootInfoPa(sys.kernel) + 4 * BootInfo.IrqFirst);
  const f = make(sys, ObjType.Frame);
  for (const [slot, method, args] of [[io, Method.FrameMap, [2, 0x3000_0000, 3]], [dma, Method.DmaSetWindow, [0, f, 3]], [irq, Method.IrqSetNotification, [1]]] as const) {
    const err = sys.kernel.invokeAs(h.thread, slot, method, ...args).err;
    assert.ok(err === Err.InvalidSlot || err === Err.EmptySlot, `method 0x${method.toString(16)}: ${err}`);
  }
  assert.equal(sys.board.iommu.window(0, 0), null);
  // The root, with the capabilities, can do each of these.
  const n = make(sys, ObjType.Notification);
  rootInvoke(sys, io, Method.FrameMap, h.taskSlot, 0x3000_0000, 3);
  rootInvoke(sys, dma, Method.DmaSetWindow, 0, f, 3);
  rootInvoke(sys, irq, Method.IrqSetNotification, n);
  assert.ok(sys.board.iommu.window(0, 0) !== null);
  // A frame capability without Write cannot open a device-write window.
  const ro = sys.nextSlot++;
  rootInvoke(sys, 1, Method.CapCopy, f, ro, Rights.Read);
  assert.equal(sys.kernel.invokeAs(sys.root, dma, Method.DmaSetWindow, 1, ro, 2).err, Err.NoRights);
  // Deleting the frame capability closes its DMA window.
  rootInvoke(sys, 1, Method.CapDelete, f);
  assert.equal(sys.board.iommu.window(0, 0), null);
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('capabilities: copy, mint, move, delete and recursive revoke', () => {
  const sys = bootSystem();
  const ep = make(sys, ObjType.Endpoint);
  const a = sys.nextSlot++, b = sys.nextSlot++, c = sys.nextSlot++, d = sys.nextSlot++;
  rootInvoke(sys, 1, Method.CapCopy, ep, a, Rights.Read | Rights.Write);
  rootInvoke(sys, 1, Method.CapMint, a, b, Rights.Write, 42);
  assert.equal(sys.kernel.invokeAs(sys.root, 1, Method.CapMint, b, c, Rights.Write, 7).err, Err.IllegalState); // already badged
  rootInvoke(sys, 1, Method.CapCopy, b, c, RIGHTS_ALL);
  assert.deepEqual(rootInvoke(sys, 1, Method.CapIdentify, c).slice(0, 3), [ObjType.Endpoint, Rights.Write, 42]); // rights never grow
  rootInvoke(sys, 1, Method.CapMove, c, d);
  assert.deepEqual(rootInvoke(sys, 1, Method.CapIdentify, c)[0], 0);
  assert.equal(sys.kernel.invokeAs(sys.root, 1, Method.CapCopy, a, d, RIGHTS_ALL).err, Err.SlotOccupied);
  rootInvoke(sys, 1, Method.CapRevoke, ep); // a, b, d are all derived from ep
  for (const s of [a, b, d]) assert.equal(rootInvoke(sys, 1, Method.CapIdentify, s)[0], 0);
  assert.equal(rootInvoke(sys, 1, Method.CapIdentify, ep)[0], ObjType.Endpoint);
  rootInvoke(sys, 1, Method.CapDelete, ep);
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('untyped: retype, revoke returns the memory, frames come zeroed', () => {
  const sys = bootSystem();
  const u = make(sys, ObjType.Untyped, 2); // 4 pages
  const s = sys.nextSlot;
  sys.nextSlot += 8;
  rootInvoke(sys, u, Method.UntypedRetype, ObjType.Frame, 1, 2, s);
  assert.equal(sys.kernel.invokeAs(sys.root, u, Method.UntypedRetype, ObjType.Frame, 0, 1, s + 2).err, Err.NoMemory);
  const pa = rootInvoke(sys, s, Method.FrameInfo)[0] >>> 0;
  sys.board.dram.writeU32(pa, 0xdeadbeef);
  rootInvoke(sys, 1, Method.CapRevoke, u);
  rootInvoke(sys, u, Method.UntypedRetype, ObjType.Frame, 0, 1, s + 2);
  assert.equal(rootInvoke(sys, s + 2, Method.FrameInfo)[0] >>> 0, pa);
  assert.equal(sys.board.dram.readU32(pa), 0);
});

test('memory: A maps to B, B maps on to C; A unmaps; B and C fault on their next access', () => {
  const sys = bootSystem();
  const touch = `
_start:
  li t0, 0x40000000
  lw t1, 0(t0)
  li a7, SYS_PUTC
  li a0, 0x21
  ecall
1: j 1b
`;
  const A = spawn(sys, `_start: j _start`, { start: false });
  const B = spawn(sys, touch, { start: false });
  const C = spawn(sys, touch, { start: false });
  const f = make(sys, ObjType.Frame);
  rootInvoke(sys, f, Method.FrameMap, A.taskSlot, 0x4000_0000, 3);
  grantCap(sys, A, B.taskSlot, 3);
  grantCap(sys, B, C.taskSlot, 3);
  assert.equal(sys.kernel.invokeAs(A.thread, 3, Method.TaskMap, fpage(0x4000_0000, 0, 3), 0x4000_0000, 0).err, Err.Ok);
  assert.equal(sys.kernel.invokeAs(B.thread, 3, Method.TaskMap, fpage(0x4000_0000, 0, 1), 0x4000_0000, 0).err, Err.Ok);
  // C got it read-only (rights only shrink); all three see the same page.
  const pa = A.task.maps.get(0x40000)!.pa;
  assert.equal(B.task.maps.get(0x40000)!.pa, pa);
  assert.equal(C.task.maps.get(0x40000)!.pa, pa);
  assert.equal(C.task.maps.get(0x40000)!.rights, Rights.Read);
  assert.deepEqual(checkInvariants(sys.kernel), []);
  // A unmaps the page from everyone it gave it to (its own mapping stays).
  grantCap(sys, A, A.taskSlot, 4);
  assert.equal(sys.kernel.invokeAs(A.thread, 4, Method.TaskUnmap, fpage(0x4000_0000, 0, 7), 0).err, Err.Ok);
  assert.ok(A.task.maps.has(0x40000));
  assert.ok(!B.task.maps.has(0x40000) && !C.task.maps.has(0x40000));
  rootInvoke(sys, B.threadSlot, Method.ThreadResume);
  rootInvoke(sys, C.threadSlot, Method.ThreadResume);
  sys.board.run(100_000);
  assert.equal(sys.kernel.debugOut, '');
  assert.equal(B.thread.state, TS_INACTIVE);
  assert.equal(C.thread.state, TS_INACTIVE);
  assert.equal(B.thread.faultCause, 13);
  assert.equal(C.thread.faultAddr, 0x4000_0000);
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('memory: deleting a frame capability removes every mapping derived from it; grant moves', () => {
  const sys = bootSystem();
  const A = spawn(sys, `_start: j _start`, { start: false });
  const B = spawn(sys, `_start: j _start`, { start: false });
  const f = make(sys, ObjType.Frame, 1); // 2 pages
  rootInvoke(sys, f, Method.FrameMap, A.taskSlot, 0x4000_0000, 3);
  grantCap(sys, A, B.taskSlot, 3);
  // Grant page 1 to B: A loses it, B has it.
  assert.equal(sys.kernel.invokeAs(A.thread, 3, Method.TaskMap, fpage(0x4000_1000, 0, 3), 0x5000_0000, 1).err, Err.Ok);
  assert.ok(!A.task.maps.has(0x40001) && B.task.maps.has(0x50000));
  assert.equal(sys.kernel.invokeAs(A.thread, 3, Method.TaskMap, fpage(0x4000_0000, 0, 3), 0x5000_1000, 0).err, Err.Ok);
  assert.deepEqual(checkInvariants(sys.kernel), []);
  rootInvoke(sys, 1, Method.CapDelete, f);
  assert.equal(A.task.maps.size + B.task.maps.size, 2 * 3); // only the code and stack pages are left
  assert.ok(!B.task.maps.has(0x50000) && !B.task.maps.has(0x50001));
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('page faults: a user-level pager serves another task', () => {
  const sys = bootSystem();
  const pep = make(sys, ObjType.Endpoint);
  const done = make(sys, ObjType.Endpoint);
  const pager = spawn(sys, POOL_PAGER, { prio: 150, start: false });
  const client = spawn(sys, `
_start:
  li s0, 0x20000000
  li s1, 3
  li s2, 0
1:
  sw s1, 0(s0)
  lw t0, 0(s0)
  add s2, s2, t0
  li t1, 0x1000
  add s0, s0, t1
  addi s1, s1, -1
  bnez s1, 1b
  li t0, 6
  bne s2, t0, bad
  li a7, SYS_PUTC
  li a0, 0x50
  ecall
  li a7, SYS_RECV
  li a0, 2
  ecall
bad:
  ebreak
`, { prio: 100, pager: pep, start: false });
  for (let i = 0; i < 3; i++) rootInvoke(sys, make(sys, ObjType.Frame), Method.FrameMap, pager.taskSlot, 0x1000_0000 + i * 4096, 3);
  grantCap(sys, pager, pep, 1);
  grantCap(sys, client, done, 2);
  resume(sys, pager, client);
  sys.board.run(200_000);
  assert.equal(sys.kernel.debugOut, 'P');
  assert.equal(sys.kernel.stats.faults, 1 + 3); // the root's stop, then three page faults
  for (let i = 0; i < 3; i++) {
    const n = client.task.maps.get(0x20000 + i)!;
    assert.equal(n.parent, pager.task.maps.get(0x10000 + i));
  }
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('exceptions: the handler receives the fault and resumes the thread past it', () => {
  const sys = bootSystem();
  const eep = make(sys, ObjType.Endpoint);
  const handler = spawn(sys, `
_start:
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
  li t0, 3                # breakpoint
  bne a2, t0, bad
  addi a2, a3, 4          # resume after the ebreak
  li a1, 0                # ExcReply.Resume
  li a7, SYS_REPLY
  ecall
  li a7, SYS_PUTC
  li a0, 0x48
  ecall
bad:
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
`, { prio: 150, start: false });
  const victim = spawn(sys, `
_start:
  ebreak
  li a7, SYS_PUTC
  li a0, 0x56
  ecall
  .word 0                 # illegal instruction: the handler kills on anything but ebreak
`, { prio: 100, exc: eep, start: false });
  grantCap(sys, handler, eep, 1);
  rootInvoke(sys, handler.threadSlot, Method.ThreadResume);
  rootInvoke(sys, victim.threadSlot, Method.ThreadResume);
  sys.board.run(100_000);
  assert.equal(sys.kernel.debugOut, 'HV');
  assert.equal(victim.thread.faultCause, 2);
});

test('notifications and IRQs: a device interrupt signals the bound notification; ack re-enables it', () => {
  const sys = bootSystem();
  const n = make(sys, ObjType.Notification);
  const badged = sys.nextSlot++;
  rootInvoke(sys, 1, Method.CapMint, n, badged, RIGHTS_ALL, 0x10);
  const irqFirst = sys.board.dram.readU32(bootInfoPa(sys.kernel) + 4 * BootInfo.IrqFirst);
  const src = 5;
  const drv = spawn(sys, `
_start:
  li s0, 2
1:
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
  li t0, 0x10
  bne a6, t0, bad
  li a7, SYS_PUTC
  li a0, 0x49
  ecall
  li a7, SYS_INVOKE       # acknowledge
  li a0, 2
  li a1, 0x49
  ecall
  addi s0, s0, -1
  bnez s0, 1b
bad:
  li a7, SYS_RECV
  li a0, 3
  ecall
`, { start: false });
  grantCap(sys, drv, n, 1, Rights.Read);
  grantCap(sys, drv, irqFirst + src - 1, 2);
  rootInvoke(sys, irqFirst + src - 1, Method.IrqSetNotification, badged);
  rootInvoke(sys, drv.threadSlot, Method.ThreadResume);
  sys.board.run(10_000);
  assert.equal(sys.kernel.debugOut, '');
  // A level-triggered device: it drops its line soon after raising it (before the driver acks).
  const pulse = (): void => {
    sys.board.plic.setSourceLevel(src, true);
    sys.board.clock.after(20, () => sys.board.plic.setSourceLevel(src, false));
  };
  pulse();
  sys.board.run(10_000);
  assert.equal(sys.kernel.debugOut, 'I');
  pulse();
  sys.board.run(10_000);
  assert.equal(sys.kernel.debugOut, 'II');
  assert.equal(sys.kernel.stats.irqs, 2);
});

test('scheduling: a budgeted real-time thread is held to its budget between a higher and a lower spinner', () => {
  const sys = bootSystem();
  const spin = `
_start:
  la t0, count
1:
  lw t1, 0(t0)
  addi t1, t1, 1
  sw t1, 0(t0)
  j 1b
.data
count: .word 0
`;
  const low = spawn(sys, spin, { prio: 50, start: false });
  const rt = spawn(sys, spin, { prio: 150, start: false });
  const high = spawn(sys, spin, { prio: 200, start: false });
  const scRt = bindSc(sys, rt, 1_000, 10_000); // 10 % (ticks at 10 MHz)
  bindSc(sys, high, 2_000, 10_000); // 20 %
  resume(sys, low, rt, high);
  sys.board.run(20_000_000); // 200 ms of virtual time
  const c = [low, rt, high].map((t) => userWord(sys, t, t.symbols.get('count')!));
  const total = c[0] + c[1] + c[2];
  const share = c.map((v) => v / total);
  assert.ok(share[1] > 0.08 && share[1] < 0.12, `rt share ${share[1]}`);
  assert.ok(share[2] > 0.17 && share[2] < 0.23, `high share ${share[2]}`);
  assert.ok(share[0] > 0.6, `low share ${share[0]}`);
  assert.ok(rootInvoke(sys, scRt, Method.ScInfo)[1] >= 15);
});

test('trace: events go to a bounded ring and out as Chrome trace JSON', () => {
  const sys = bootSystem(undefined, { kernel: { traceCapacity: 64 } });
  sys.kernel.trace.enabled = true;
  const { server, client } = callPair(sys, SERVER, CLIENT);
  resume(sys, server, client);
  sys.board.run(1_000_000);
  const evs = sys.kernel.trace.events();
  assert.equal(evs.length, 64);
  assert.ok(sys.kernel.trace.dropped > 0);
  const json = JSON.parse(sys.kernel.trace.toChromeJson());
  assert.equal(json.traceEvents.length, 64);
  assert.ok(json.traceEvents.some((e: { name: string }) => e.name === 'ipc'));
  assert.ok(json.traceEvents.some((e: { name: string }) => e.name === 'switch'));
});

// ---------------------------------------------------------------------------------------------
// Hostile tasks
// ---------------------------------------------------------------------------------------------

/** Random system calls with random arguments, forever (xorshift32 seeded from a0). */
const HOSTILE = `
_start:
  mv s0, a0
loop:
  jal ra, rnd
  li t1, 13
  remu a7, t0, t1        # 0..9: every system call; 10..12: a random (runtime) call number
  li t1, 10
  bltu a7, t1, 3f
  jal ra, rnd
  mv a7, t0
3:
  jal ra, rarg
  mv s4, t0
  jal ra, rnd
  andi s5, t0, 0x47
  addi s5, s5, 0x10      # a method number near the real ones
  jal ra, rarg
  mv s6, t0
  jal ra, rarg
  mv s7, t0
  jal ra, rarg
  mv s8, t0
  jal ra, rarg
  mv s9, t0
  jal ra, rnd
  andi s10, t0, 0x3ff    # short timeouts (0 = forever, rarely)
  jal ra, rnd            # scribble on the UTCB's transfer words
  andi t1, t0, 0x7c
  li t2, UTCB + 0x100
  add t1, t1, t2
  jal ra, rarg
  sw t0, 0(t1)
  mv a0, s4
  mv a1, s5
  li t1, 6
  bgeu a7, t1, 1f
  mv a1, s6              # IPC: a random message-info word
1:
  mv a2, s6
  mv a3, s7
  mv a4, s8
  mv a5, s9
  mv a6, s10
  ecall
  j loop
rnd:                      # t0 = next xorshift32 value
  slli t0, s0, 13
  xor s0, s0, t0
  srli t0, s0, 17
  xor s0, s0, t0
  slli t0, s0, 5
  xor s0, s0, t0
  mv t0, s0
  ret
rarg:                     # t0 = a small number (7 times in 8) or a random word
  mv t6, ra
  jal ra, rnd
  mv ra, t6
  srli t2, t0, 29
  beqz t2, 2f
  andi t0, t0, 31
2:
  ret
`;

test('hostile: thousands of random system calls never crash the kernel; invariants hold after every batch', () => {
  const sys = bootSystem(undefined, { dramSize: 64 << 20 });
  const k = sys.kernel;
  const shared = make(sys, ObjType.Endpoint);
  const ntfn = make(sys, ObjType.Notification);
  // The hostile threads' exception handler: resumes after the faulting instruction with
  // a0 = the caller's a0 + 1 (MR4 + 1, from its UTCB) and a1 = 0, counting what it served.
  const excEp = make(sys, ObjType.Endpoint);
  const handler = spawn(sys, `
_start:
  la s1, served
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
loop:
  addi s2, a3, 4         # resume after the faulting instruction (MR1 = its pc)
  li a3, 0
  srli t0, a1, 12
  li t1, 0xffffe
  bne t0, t1, reply
  andi t0, a1, 0x7f
  li t1, 12
  bne t0, t1, reply
  lw t0, 0(s1)
  addi t0, t0, 1
  sw t0, 0(s1)
  li t0, UTCB
  lw a3, 16(t0)          # MR4 = the caller's a0
  addi a3, a3, 1
reply:
  mv a2, s2
  li a4, 0
  li a1, 3               # ExcReply.Resume, length 3: pc, a0, a1
  li a0, 1
  li a6, 0
  li a7, SYS_REPLY_RECV
  ecall
  j loop
.data
served: .word 0
`, { prio: 150, start: false });
  grantCap(sys, handler, excEp, 1);
  rootInvoke(sys, handler.threadSlot, Method.ThreadResume);
  let syscalls = 0;
  for (let batch = 0; batch < 12; batch++) {
    const tasks: UserTask[] = [];
    for (let j = 0; j < 3; j++) {
      const t = spawn(sys, HOSTILE, { prio: 100 + j, start: false, exc: excEp });
      // Each gets: 1 shared endpoint, 2 notification, 3 its task, 4 its thread, 5 a frame,
      // 6 a small untyped, 7 the previous hostile task, 8 an SC.
      grantCap(sys, t, shared, 1);
      grantCap(sys, t, ntfn, 2);
      grantCap(sys, t, t.taskSlot, 3);
      grantCap(sys, t, t.threadSlot, 4);
      grantCap(sys, t, make(sys, ObjType.Frame), 5);
      grantCap(sys, t, make(sys, ObjType.Untyped, 3), 6);
      if (tasks.length > 0) grantCap(sys, t, tasks[tasks.length - 1].taskSlot, 7);
      grantCap(sys, t, make(sys, ObjType.SchedContext), 8);
      rootInvoke(sys, t.threadSlot, Method.ThreadSetRegs, t.symbols.get('_start')!, 0xe000_0000, 0x9e3779b9 ^ (batch * 7919 + j * 104729));
      rootInvoke(sys, t.threadSlot, Method.ThreadResume);
      tasks.push(t);
    }
    const before = k.stats.syscalls;
    for (let round = 0; round < 6; round++) {
      sys.board.run(150_000);
      const bad = checkInvariants(k);
      assert.deepEqual(bad, [], `batch ${batch} round ${round}`);
      // Wake whoever blocked for good, so that the batch keeps calling.
      for (const t of tasks) {
        if (!t.thread.alive || t.thread.task === null) continue;
        if (t.thread.state !== 1 && t.thread.state !== 2 && t.thread.state !== 7) {
          k.invokeAs(sys.root, t.threadSlot, Method.ThreadSuspend);
          k.invokeAs(sys.root, t.threadSlot, Method.ThreadResume);
        }
      }
    }
    syscalls += k.stats.syscalls - before;
    for (const t of tasks) {
      rootInvoke(sys, 1, Method.CapRevoke, t.taskSlot);
      rootInvoke(sys, 1, Method.CapDelete, t.taskSlot);
      rootInvoke(sys, 1, Method.CapDelete, t.threadSlot);
    }
    assert.deepEqual(checkInvariants(k), [], `after batch ${batch} teardown`);
  }
  assert.ok(syscalls > 5000, `only ${syscalls} system calls`);
  // Unknown call numbers went to the exception handler as runtime calls, not to kills.
  const served = userWord(sys, handler, handler.symbols.get('served')!);
  assert.ok(served > 500, `only ${served} runtime calls served`);
  assert.equal(handler.thread.state === TS_INACTIVE, false);
});

// ---------------------------------------------------------------------------------------------
// Runtime calls, semihosting, the debug API
// ---------------------------------------------------------------------------------------------

test('runtime calls: an unknown ecall reaches the exception handler with a0..a7; the reply sets pc, a0 and a1', () => {
  const sys = bootSystem();
  const eep = make(sys, ObjType.Endpoint);
  const handler = spawn(sys, `
_start:
  la s1, seen
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
  sw a1, 0(s1)            # message info
  sw a2, 4(s1)            # MR0 cause
  sw a3, 8(s1)            # MR1 pc
  sw a4, 12(s1)           # MR2 tval
  sw a5, 16(s1)           # MR3 sp
  li t0, UTCB
  li t1, 0
1:
  slli t2, t1, 2
  add t3, t0, t2
  lw t4, 16(t3)           # MR4..MR11
  add t5, s1, t2
  sw t4, 20(t5)
  addi t1, t1, 1
  li t2, 8
  bne t1, t2, 1b
  addi a2, a3, 4          # resume after the ecall
  lw a3, 16(t0)
  addi a3, a3, 1          # a0 = caller's a0 + 1
  li a4, 77               # a1 = 77
  li a1, 3                # Resume, length 3
  li a0, 1
  li a6, 0
  li a7, SYS_REPLY_RECV
  ecall                   # the second exception (illegal instruction) arrives here
  sw a2, 52(s1)           # its cause
  li t0, UTCB
  lw t1, 36(t0)           # MR9 = a5
  sw t1, 56(s1)
  li a1, 0x1000           # label ExcReply.Kill
  li a7, SYS_REPLY
  ecall
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
.data
seen: .space 64
`, { prio: 150, start: false });
  const victim = spawn(sys, `
_start:
  li a0, 1234
  li a1, 5
  li a2, 12
  li a3, 13
  li a4, 14
  li a5, 15
  li a6, 16
  li a7, 0x5713
call:
  ecall
  li t0, 1235
  bne a0, t0, bad
  li t0, 77
  bne a1, t0, bad
  li a7, SYS_PUTC
  li a0, 0x52
  ecall
  li a5, 0x55
  .word 0                 # illegal instruction: the handler sees a5 and kills
bad:
  li a7, SYS_PUTC
  li a0, 0x58
  ecall
1: j 1b
`, { prio: 100, exc: eep, start: false });
  grantCap(sys, handler, eep, 1);
  const stops: { reason: string; cause: number; pc: number }[] = [];
  sys.kernel.onThreadStopped((e) => { if (e.thread === victim.thread) stops.push({ reason: e.reason, cause: e.cause, pc: e.pc }); });
  rootInvoke(sys, handler.threadSlot, Method.ThreadResume);
  rootInvoke(sys, victim.threadSlot, Method.ThreadResume);
  sys.board.run(100_000);
  assert.equal(sys.kernel.debugOut, 'R');
  const seen = (i: number) => userWord(sys, handler, handler.symbols.get('seen')! + 4 * i);
  const call = victim.symbols.get('call')!;
  assert.equal(seen(0), (0xffffe << 12 | 12) >>> 0); // label Exception, length EXC_MSG_LENGTH
  assert.deepEqual([seen(1), seen(2), seen(3), seen(4)], [8, call, 0, 0xe000_0000]);
  assert.deepEqual([5, 6, 7, 8, 9, 10, 11, 12].map(seen), [1234, 5, 12, 13, 14, 15, 16, 0x5713]);
  assert.equal(seen(13), 2);
  assert.equal(seen(14), 0x55);
  assert.equal(victim.thread.state, TS_INACTIVE);
  assert.equal(stops.length, 1);
  assert.equal(stops[0].reason, 'killed');
  assert.equal(stops[0].cause, 2);
  assert.deepEqual(checkInvariants(sys.kernel), []);
});

test('semihosting: a thread without a handler is served by the hook through the debug API; unknown calls kill', () => {
  const calls: number[] = [];
  let k!: import('./kernel.ts').Kernel;
  const sys = bootSystem(`
_start:
  la a0, msg
  li a1, 5
  li a7, 0x5713
  ecall
  li t0, 5
  bne a0, t0, bad
  la t1, msg
  lbu t2, 0(t1)
  li t0, 0x48
  bne t2, t0, bad
  li a7, 0x5712
  ecall
  fcvt.w.d a0, fa0, rtz
  li t0, 2
  bne a0, t0, bad
  li a0, 7
  li a7, 0x5700
  ecall
bad:
  li a7, SYS_PUTC
  li a0, 0x58
  ecall
  wfi
.data
msg: .ascii "hello"
`, {
    kernel: {
      semihost: (t, x) => {
        calls.push(x[17]);
        const task = t.task!;
        if (x[17] === 0x5713) {
          const b = k.readUser(task, x[10], x[11]);
          assert.equal(new TextDecoder().decode(b!), 'hello');
          assert.ok(k.writeUser(task, x[10], new TextEncoder().encode('HELLO')));
          assert.equal(k.writeUser(task, 0xc000_0000, new Uint8Array(4)), false); // code is not writable
          assert.equal(k.readUser(task, 0x4000_0000, 4), null); // nothing mapped there
          x[10] = b!.length;
          return 'resume';
        }
        if (x[17] === 0x5712) { k.writeF64(t, 10, 2.5); return 'resume'; }
        if (x[17] === 0x5700) return 'stop';
        return 'unhandled';
      },
    },
  });
  k = sys.kernel;
  const stops: string[] = [];
  k.onThreadStopped((e) => stops.push(`${e.reason} ${e.cause}`));
  assert.deepEqual(sys.board.run(100_000), { kind: 'idle' });
  assert.deepEqual(calls, [0x5713, 0x5712, 0x5700]);
  assert.equal(k.debugOut, '');
  assert.deepEqual(stops, ['exit 0']);
  assert.equal(k.rootThread.state, TS_INACTIVE);
  assert.equal(k.stats.kills, 0);

  // Without a hook (or when the hook does not know the call) the thread is killed, at the ecall.
  for (const hook of [undefined, () => 'unhandled' as const]) {
    const s2 = bootSystem(`
_start:
  nop
here:
  li a7, 0x4321
  ecall
  li a7, SYS_PUTC
  li a0, 0x58
  ecall
`, { kernel: { semihost: hook } });
    const ev: { reason: string; cause: number; pc: number; why: string }[] = [];
    s2.kernel.onThreadStopped((e) => ev.push({ reason: e.reason, cause: e.cause, pc: e.pc, why: e.why }));
    s2.board.run(10_000);
    assert.equal(s2.kernel.debugOut, '');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].reason, 'killed');
    assert.equal(ev[0].cause, 8);
    assert.equal(ev[0].pc, 0xc000_0004 + 8); // nop, then li (lui+addi), then the ecall
    assert.match(ev[0].why, /runtime call 0x4321 without an exception handler/);
  }
});

test('boot: linearPages gives the root a frame capability per linear page (BootInfo.LinearFrameFirst + page), mapped only for the ELF\'s memory; the root maps the others itself', () => {
  const board = new Board({ dramSize: 64 << 20 });
  const { elf } = asm(`
  .text
_start:
  mv s0, a0
  lw s1, ${4 * BootInfo.LinearPages}(s0)
  lw s2, ${4 * BootInfo.LinearFrameFirst}(s0)
  addi s1, s1, -1          # the last linear page
  li a7, SYS_INVOKE
  add a0, s2, s1
  li a1, ${Method.FrameMap}
  li a2, 1                 # its own task
  slli a3, s1, 12
  li a4, ${Rights.Read | Rights.Write}
  ecall
  bnez a0, bad
  addi t2, s1, 1
  slli t2, t2, 12
  addi t2, t2, -4          # its last word: zeroed
  lw t3, 0(t2)
  bnez t3, bad
  sw s1, 0(t2)
  lw t3, 0(t2)
  bne t3, s1, bad
  li a7, SYS_PUTC
  li a0, 0x4c
  ecall
  li t4, 4096
  sub t2, t2, t4
  sw s1, 0(t2)             # the page before it is not mapped: a fault nobody handles
bad:
  wfi
`);
  const k = new Kernel(board, { root: elf, linearPages: 3000 });
  const info = (w: number): number => board.dram.readU32(bootInfoPa(k) + 4 * w);
  assert.equal(info(BootInfo.LinearPages), 3000);
  assert.equal(info(BootInfo.LinearFrameFirst), info(BootInfo.ImageFrameFirst));
  for (const p of [0, 1, 2999]) {
    const cap = k.rootTask.cspace[info(BootInfo.LinearFrameFirst) + p]!;
    assert.equal(cap.type, ObjType.Frame);
    assert.equal((cap.obj as { pages: number }).pages, 1);
  }
  assert.ok(k.rootTask.cspace.length >= 4096 + 3000);
  for (const vpn of [0, 1, 2047, 2999, 3000]) assert.ok(!k.rootTask.maps.has(vpn), `page ${vpn} is not mapped at boot`);
  const stops: string[] = [];
  k.onThreadStopped((e) => stops.push(`${e.reason} ${e.cause} ${e.tval.toString(16)}`));
  board.run(10_000);
  assert.equal(k.debugOut, 'L');
  assert.equal(k.rootTask.maps.get(2999)!.rights, Rights.Read | Rights.Write);
  assert.deepEqual(stops, [`killed 15 ${(2998 * 4096 + 4092).toString(16)}`]);
  assert.deepEqual(checkInvariants(k), []);
});

test('page tables: L2 tables are charged to the creator\'s untyped; a task mapping sparsely cannot drain the kernel pool', () => {
  const sys = bootSystem(undefined, { dramSize: 64 << 20 });
  const k = sys.kernel;
  // The hostile task is carved from a 32-page untyped: everything it costs comes from there.
  const small = make(sys, ObjType.Untyped, 5);
  const saved = sys.untypedSlot;
  sys.untypedSlot = small;
  const h = spawn(sys, `
_start:
  li s0, 0                # successful maps
  li s1, 0x00400000       # one page in every 4 MiB region: a new L2 table each
  li s2, 200              # up to 0x32400000: below its own pages
1:
  li a7, SYS_INVOKE
  li a0, 2                # its own task
  li a1, 0x18             # TaskMap
  li a2, 0x40000003       # fpage: its page at 0x40000000, order 0, RW
  mv a3, s1
  li a4, 0
  ecall
  bnez a0, 2f
  addi s0, s0, 1
2:
  li t0, 0x00400000
  add s1, s1, t0
  addi s2, s2, -1
  bnez s2, 1b
  la t0, count
  sw s0, 0(t0)
  li a7, SYS_RECV
  li a0, 3
  ecall
.data
count: .word 0
`, { start: false });
  sys.untypedSlot = saved;
  const f = make(sys, ObjType.Frame);
  rootInvoke(sys, f, Method.FrameMap, h.taskSlot, 0x4000_0000, 3);
  grantCap(sys, h, h.taskSlot, 2);
  const poolBefore = k.vm.pool.available;
  rootInvoke(sys, h.threadSlot, Method.ThreadResume);
  sys.board.run(2_000_000);
  const count = userWord(sys, h, h.symbols.get("count")!);
  assert.ok(count > 5 && count < 32, `mapped ${count} pages in fresh 4 MiB regions`);
  assert.equal(k.vm.pool.available, poolBefore, 'the kernel pool is untouched');
  // Everyone else still works: an IPC pair in fresh tasks.
  const { server, client } = callPair(sys, SERVER, CLIENT);
  resume(sys, server, client);
  sys.board.run(1_000_000);
  assert.ok(k.debugOut.endsWith('K'), k.debugOut);
  // Destroying the hostile task returns its tables to its untyped, which can then be reset.
  const charged = k.vm.l2Charged;
  rootInvoke(sys, 1, Method.CapRevoke, small);
  assert.ok(k.vm.l2Charged < charged);
  assert.equal((k.rootTask.cspace[small]!.obj as Untyped).live, 0);
  assert.deepEqual(checkInvariants(k), []);
});

/** A task carved (with its code and stack pages) from a fresh 64-page untyped, which is then
 * filled with frames until exactly `room` pages are left: room for `room` more L2 tables. */
function tightTask(sys: TestSystem, source: string, room: number): { u: UserTask; untyped: Untyped } {
  const small = make(sys, ObjType.Untyped, 6);
  const saved = sys.untypedSlot;
  sys.untypedSlot = small;
  const u = spawn(sys, source, { start: false });
  const untyped = sys.kernel.rootTask.cspace[small]!.obj as Untyped;
  while (untyped.pages - Math.ceil(untyped.watermark / 4096) > room) make(sys, ObjType.Frame);
  sys.untypedSlot = saved;
  assert.ok(sys.kernel.vm.canAllocL2(u.task, room) && !sys.kernel.vm.canAllocL2(u.task, room + 1));
  return { u, untyped };
}

test('page tables: a TaskMap that needs more L2 tables than the target\'s untyped holds fails with NoMemory and maps nothing', () => {
  const sys = bootSystem();
  const k = sys.kernel;
  const { u: t, untyped } = tightTask(sys, `_start: j _start`, 2);
  // One page already mapped in region 0 (takes one of the two tables): it must survive.
  const keep = make(sys, ObjType.Frame);
  rootInvoke(sys, keep, Method.FrameMap, t.taskSlot, 0x003f_e000, 3);
  const keepPa = t.task.maps.get(0x3fe)!.pa;
  // The root's source: an 8 MiB fpage at 0x5000_0000 with pages that land, at 0x003f_e000, in
  // region 0 (over the kept page), region 1 and region 2: two new tables, room for one.
  for (const off of [0, 0x1000, 0x2000, 0x40_2000]) rootInvoke(sys, make(sys, ObjType.Frame), Method.FrameMap, 1, 0x5000_0000 + off, 3);
  const mark = untyped.watermark;
  const mapsBefore = t.task.maps.size;
  const r = k.invokeAs(sys.root, t.taskSlot, Method.TaskMap, fpage(0x5000_0000, 11, 3), 0x003f_e000, 0);
  assert.equal(r.err, Err.NoMemory);
  assert.equal(t.task.maps.size, mapsBefore, 'nothing mapped');
  assert.equal(t.task.maps.get(0x3fe)!.pa, keepPa, 'the page that was there is kept');
  assert.equal(untyped.watermark, mark, 'no table allocated');
  assert.equal(t.task.l2[1], 0);
  assert.equal(t.task.l2[2], 0);
  // Only regions 1 and 2 (pages 0x400..0x402 and 0x802), both new, room for one.
  assert.equal(k.invokeAs(sys.root, t.taskSlot, Method.TaskMap, fpage(0x5000_0000, 11, 3), 0x0040_0000, 0).err, Err.NoMemory);
  assert.equal(t.task.maps.size, mapsBefore);
  // What fits still maps: a range needing the one table left.
  const ok = k.invokeAs(sys.root, t.taskSlot, Method.TaskMap, fpage(0x5000_0000, 1, 3), 0x0040_0000, 0);
  assert.equal(ok.err, Err.Ok);
  assert.equal(ok.r[0], 2);
  assert.ok(t.task.maps.has(0x400) && t.task.maps.has(0x401));
  assert.deepEqual(checkInvariants(k), []);
});

test('page tables: an IPC map item the receiver\'s untyped cannot hold the L2 tables for is refused whole (RecvMapBase 0, no map bit)', () => {
  const sys = bootSystem();
  const k = sys.kernel;
  const ep = make(sys, ObjType.Endpoint);
  const { u: recv, untyped } = tightTask(sys, `
_start:
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
  la t0, info
  sw a1, 0(t0)
  li t0, UTCB
  lw t1, 0x12c(t0)
  la t0, base
  sw t1, 0(t0)
  li a7, SYS_RECV
  li a0, 1
  ecall
.data
info: .word 0xdead
base: .word 0xdead
`, 1);
  const sender = spawn(sys, `
_start:
  li t0, UTCB
  li t1, 0x400000b3      # fpage 0x4000_0000, order 11 (8 MiB), RW
  sw t1, 0x10c(t0)
  sw zero, 0x110(t0)
  li a7, SYS_SEND
  li a0, 1
  li a1, 0x201           # map item, one register
  li a2, 42
  ecall
  li a7, SYS_RECV
  li a0, 2
  ecall
`, { start: false, prio: 90 });
  // The sender has pages in both 4 MiB halves of its item: two new tables in the receiver.
  for (const off of [0, 0x40_0000]) rootInvoke(sys, make(sys, ObjType.Frame), Method.FrameMap, sender.taskSlot, 0x4000_0000 + off, 3);
  grantCap(sys, recv, ep, 1);
  grantCap(sys, sender, ep, 1);
  grantCap(sys, sender, make(sys, ObjType.Endpoint), 2);
  // Receive window: 8 MiB at 0x0080_0000 (regions 2 and 3, no tables yet).
  sys.board.dram.writeU32(recv.thread.utcbPa + 0x124, fpage(0x0080_0000, 11, 7) >>> 0);
  const mark = untyped.watermark;
  const mapsBefore = recv.task.maps.size;
  rootInvoke(sys, recv.threadSlot, Method.ThreadResume);
  rootInvoke(sys, sender.threadSlot, Method.ThreadResume);
  sys.board.run(200_000);
  const info = userWord(sys, recv, recv.symbols.get('info')!);
  assert.equal(info & 0x7f, 1, 'the message itself is delivered');
  assert.equal(info & 0x200, 0, 'no map bit');
  assert.equal(userWord(sys, recv, recv.symbols.get('base')!), 0, 'RecvMapBase 0');
  assert.equal(recv.task.maps.size, mapsBefore, 'nothing mapped');
  assert.equal(untyped.watermark, mark, 'no table allocated');
  assert.ok(sender.task.maps.has(0x40000) && sender.task.maps.has(0x40400), 'the sender keeps its pages');
  assert.deepEqual(checkInvariants(k), []);
});

test('FP context: two threads with different f registers and rounding modes, preempted by round robin, keep their values', () => {
  const sys = bootSystem();
  const prog = (n: number, rm: number) => `
_start:
  li t0, ${n}
  fcvt.d.w f1, t0
  fcvt.d.w f9, t0
  fcvt.d.w f31, t0
  fcvt.d.w f2, zero
  li t0, ${rm}
  fsrm t0
  li s0, 300000
1:
  fadd.d f2, f2, f1
  addi s0, s0, -1
  bnez s0, 1b
  li t0, ${n * 300000}
  fcvt.d.w f3, t0
  feq.d t1, f2, f3
  beqz t1, bad
  feq.d t1, f9, f1
  beqz t1, bad
  feq.d t1, f31, f1
  beqz t1, bad
  frrm t1
  li t0, ${rm}
  bne t1, t0, bad
  li a7, SYS_PUTC
  li a0, ${0x40 + n}
  ecall
  wfi
bad:
  li a7, SYS_PUTC
  li a0, 0x58
  ecall
  wfi
`;
  const a = spawn(sys, prog(3, 1), { prio: 100, start: false });
  const b = spawn(sys, prog(5, 2), { prio: 100, start: false });
  const order: number[] = [];
  const timer0 = sys.kernel.stats.timerIrqs;
  rootInvoke(sys, a.threadSlot, Method.ThreadResume);
  rootInvoke(sys, b.threadSlot, Method.ThreadResume);
  for (let i = 0; i < 40 && sys.kernel.debugOut.length < 2; i++) {
    sys.board.run(100_000);
    if (sys.kernel.current !== null) order.push(sys.kernel.current.id);
  }
  assert.deepEqual([...sys.kernel.debugOut].sort().join(''), 'CE');
  assert.ok(sys.kernel.stats.timerIrqs - timer0 >= 3, 'preempted several times');
  const switchesBetween = order.filter((id, i) => i > 0 && id !== order[i - 1]).length;
  assert.ok(switchesBetween >= 2, `interleaved: ${order.join(',')}`);
});
