// The IPC fast path with scheduling contexts must not change what a program computes or who
// runs when: the same workloads run with the fast path on and forced off (KernelOptions.fastpath)
// and must end with the same registers and memory and the same order of switches and messages.
// The fast path costs fewer virtual cycles than the slow path (docs/KERNEL.md "Cost model"), so
// budgets last slightly longer with it; the workloads keep budget ends well inside long compute
// phases, where a few hundred cycles cannot move them past an IPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootSystem, spawn, grantCap, resume, callPair, bindSc, SERVER_START, CLIENT_END, type TestSystem, type UserTask,
} from './test-support.ts';
import { checkInvariants } from './invariants.ts';
import { TraceKind } from './trace.ts';
import { TS_BLOCKED_RECV } from './objects/thread.ts';
import type { SchedContext } from './objects/schedcontext.ts';

const ITER = 12;

/** Server: receives a 6-word message, computes for `work` loop iterations, folds the message
 * into a checksum in memory, replies with 6 words (MR4/MR5 through the UTCB). */
const server = (work: number): string => `${SERVER_START}
loop:
  li t1, ${work}
1:
  addi t1, t1, -1
  bnez t1, 1b
  la t0, sum
  lw t2, 0(t0)
  add t2, t2, a2
  xor t2, t2, a6
  li t3, UTCB
  lw t4, 16(t3)
  add t2, t2, t4
  lw t4, 20(t3)
  xor t2, t2, t4
  sw t2, 0(t0)
  sw t2, 16(t3)
  addi t4, a2, 7
  sw t4, 20(t3)
  addi a2, a2, 1
  mv a3, a6
  mv a4, t2
  li a1, 6
  li a6, 0
  li a0, 1
  li a7, SYS_REPLY_RECV
  ecall
  j loop
.data
sum: .word 0
`;

/** Client: ITER times compute for `work` iterations, call with 6 words, log the reply. */
const client = (work: number): string => `
_start:
  li s0, ${ITER}
  la s2, log
loop:
  li t1, ${work}
1:
  addi t1, t1, -1
  bnez t1, 1b
  li t3, UTCB
  sw s0, 16(t3)
  slli t4, s0, 3
  sw t4, 20(t3)
  li a7, SYS_CALL
  li a0, 1
  li a1, 6
  mv a2, s0
  ecall
  bnez a0, fail
  addi t0, s0, 1
  bne a2, t0, fail
  li t3, UTCB
  lw t4, 16(t3)
  sw t4, 0(s2)
  lw t4, 20(t3)
  sw t4, 4(s2)
  sw a3, 8(s2)
  sw a4, 12(s2)
  addi s2, s2, 16
  addi s0, s0, -1
  bnez s0, loop
${CLIENT_END}.data
log: .space ${16 * ITER}
`;

/** A same-priority batch thread: `work` iterations, then it blocks for good. While it is ready,
 * the slow path must run it before the server (round robin), and the fast path must step back. */
const batch = (work: number): string => `
_start:
  li t1, ${work}
1:
  addi t1, t1, -1
  bnez t1, 1b
  li a7, SYS_RECV
  li a0, 2
  ecall
`;

interface Scenario {
  serverWork: number;
  clientWork: number;
  /** [budget, period] in timer ticks, or null for no scheduling context. */
  serverSc: [number, number] | null;
  clientSc: [number, number] | null;
  batchWork?: number;
  /** Change state after setup, before the run (for states that are hard to reach by timing). */
  tweak?: (sys: TestSystem, s: UserTask, c: UserTask) => void;
}

interface Outcome {
  regs: number[][];
  pcs: number[];
  mem: number[][];
  order: string[];
  stats: TestSystem['kernel']['stats'];
  exhaustions: number[];
  out: string;
}

function runScenario(sc: Scenario, fastpath: boolean): Outcome {
  const sys = bootSystem(undefined, { kernel: { fastpath, traceCapacity: 1 << 16 } });
  sys.board.run(1000); // the root stops
  const { done, server: s, client: c } = callPair(sys, server(sc.serverWork), client(sc.clientWork));
  const scs: SchedContext[] = [];
  for (const [t, p] of [[s, sc.serverSc], [c, sc.clientSc]] as const) {
    if (p !== null) scs.push(sys.kernel.rootTask.cspace[bindSc(sys, t, p[0], p[1])]!.obj as SchedContext);
  }
  const threads = [s, c];
  resume(sys, s);
  sys.board.run(10_000); // the server waits
  assert.equal(s.thread.state, TS_BLOCKED_RECV);
  if (sc.batchWork !== undefined) {
    const b = spawn(sys, batch(sc.batchWork), { start: false });
    grantCap(sys, b, done, 2);
    threads.push(b);
  }
  sc.tweak?.(sys, s, c);
  sys.kernel.trace.enabled = true;
  resume(sys, ...threads.slice(1));
  const r = sys.board.run(50_000_000);
  assert.deepEqual(r, { kind: 'idle' }, `fastpath=${fastpath}`);
  assert.deepEqual(checkInvariants(sys.kernel), []);
  const names = new Map(threads.map((t, i) => [t.thread.id, 'SCB'[i]]));
  const nm = (id: number): string => names.get(id) ?? (id < 0 ? 'idle' : `t${id}`);
  const order: string[] = [];
  for (const e of sys.kernel.trace.events()) {
    if (e.kind === TraceKind.Switch) order.push(`switch ${nm(e.thread)}>${nm(e.a)}`);
    else if (e.kind === TraceKind.Ipc) order.push(`ipc ${nm(e.thread)}>${nm(e.a)} ${e.b >>> 0}`);
    else if (e.kind === TraceKind.Kill) order.push(`kill ${nm(e.thread)}`);
  }
  const mem = threads.map((t) => {
    const words: number[] = [];
    for (const [vpn, node] of [...t.task.maps].sort((a, b) => a[0] - b[0])) {
      for (let i = 0; i < 1024; i++) words.push(sys.board.dram.readU32(node.pa + 4 * i) ^ vpn);
    }
    return words;
  });
  return {
    regs: threads.map((t) => [...sys.kernel.regsOf(t.thread)]),
    pcs: threads.map((t) => sys.kernel.pcOf(t.thread)),
    mem,
    order,
    stats: { ...sys.kernel.stats },
    exhaustions: scs.map((x) => x.exhaustions),
    out: sys.kernel.debugOut,
  };
}

function compare(sc: Scenario): { fast: Outcome; slow: Outcome } {
  const fast = runScenario(sc, true);
  const slow = runScenario(sc, false);
  assert.equal(fast.out, 'K');
  assert.equal(slow.out, 'K');
  assert.equal(slow.stats.fastpath, 0);
  assert.deepEqual(fast.order, slow.order, 'switch/IPC order');
  assert.deepEqual(fast.regs, slow.regs, 'registers');
  assert.deepEqual(fast.pcs, slow.pcs, 'pcs');
  assert.ok(fast.mem.every((m, i) => m.length === slow.mem[i].length && m.every((w, j) => w === slow.mem[i][j])), 'memory');
  assert.deepEqual(fast.exhaustions, slow.exhaustions, 'budget exhaustions');
  assert.equal(fast.stats.switches, slow.stats.switches);
  assert.equal(fast.stats.timerIrqs, slow.stats.timerIrqs, "timer interrupts");
  return { fast, slow };
}

test('fast path with scheduling contexts: both SC-bound with budget to spare, every call and reply is fast, same results as the slow path', () => {
  const { fast } = compare({ serverWork: 50, clientWork: 50, serverSc: [10_000, 10_000], clientSc: [10_000, 10_000] });
  assert.ok(fast.stats.fastpath >= 2 * ITER - 1, `fast path ${fast.stats.fastpath}`);
  assert.deepEqual(fast.exhaustions, [0, 0]);
});

test('fast path with scheduling contexts: the server runs out of budget mid-request (throttled, replenished, answers), same order as the slow path', () => {
  // 20 k iterations ≈ 40 k cycles per request; 9,600 ticks = 96 k cycles = 2.4 requests of
  // budget per 200 k-cycle period: exhaustion 40 % and 80 % into a request, far from its ends.
  const { fast } = compare({ serverWork: 20_000, clientWork: 20, serverSc: [9_600, 20_000], clientSc: [10_000, 10_000] });
  assert.ok(fast.exhaustions[0] >= 4, `server exhaustions ${fast.exhaustions[0]}`);
  assert.ok(fast.stats.fastpath >= ITER, `fast path ${fast.stats.fastpath}`);
  assert.ok(fast.order.includes('switch idle>S'), 'the server resumed after its replenishment'); // going idle records no switch
});

test('fast path with scheduling contexts: the client runs out of budget between calls, same order as the slow path', () => {
  const { fast } = compare({ serverWork: 20, clientWork: 20_000, serverSc: [10_000, 10_000], clientSc: [9_600, 40_000] });
  assert.ok(fast.exhaustions[1] >= 4, `client exhaustions ${fast.exhaustions[1]}`);
  assert.ok(fast.stats.fastpath >= ITER, `fast path ${fast.stats.fastpath}`);
  // A server without a scheduling context (priority and timeslice only) that computes past the
  // end of its budgeted caller's budget: the fast path must re-arm the timer for it.
  const mixed = compare({ serverWork: 20_000, clientWork: 20_000, serverSc: null, clientSc: [9_600, 40_000] }).fast;
  assert.ok(mixed.exhaustions[0] >= 4, `client exhaustions ${mixed.exhaustions[0]}`);
  assert.ok(mixed.stats.fastpath >= ITER, `fast path ${mixed.stats.fastpath}`);
});

test('fast path with scheduling contexts: a receiver with no budget left, or a ready thread of the same priority, sends the call down the slow path', () => {
  // The server blocked in Recv with its budget used up (it spent the last of it in the kernel):
  // the first call must take the slow path, which runs it until the timer throttles it.
  const { fast } = compare({
    serverWork: 200, clientWork: 200, serverSc: [5_000, 100_000], clientSc: [10_000, 10_000], batchWork: 30_000,
    tweak: (sys, s) => {
      const sc = s.thread.sc!;
      sc.windowStart = sys.board.clock.cycles;
      sc.remaining = -5;
    },
  });
  assert.ok(fast.exhaustions[0] >= 1, `server exhaustions ${fast.exhaustions[0]}`);
  assert.ok(fast.stats.fastpath >= ITER, `fast path ${fast.stats.fastpath}`);
  assert.ok(fast.stats.fastpath < 2 * ITER, `fast path ${fast.stats.fastpath}`);
});

test('fast path with scheduling contexts: a receiver whose scheduling context waits for replenishment is not run early', () => {
  // A throttled scheduling context bound to a thread blocked in Recv (ThreadBindSc accepts one):
  // the slow path throttles the server when the call wakes it (makeReady); so must the fast path.
  const { fast } = compare({
    serverWork: 200, clientWork: 200, serverSc: [5_000, 100_000], clientSc: [10_000, 10_000],
    tweak: (sys, s) => {
      const sc = s.thread.sc!;
      sc.replenishAt = sys.board.clock.cycles + 300_000;
      sys.kernel.throttled.push(sc);
    },
  });
  assert.ok(fast.order.indexOf('switch idle>S') > 0, 'the server ran only after its replenishment');
  assert.ok(fast.stats.fastpath >= 2 * ITER - 2, `fast path ${fast.stats.fastpath}`);
});
