// The memory manager (user/memory) under the kernel, set up as the root task would
// (tests/userland/harness.ts bootMm): lazy paging of image, heap and stack; quota exhaustion;
// shared memory between two tasks; a refused fault reported to a supervisor, reset, restart;
// a refused fault nobody takes the report of, logged by the memory manager itself, once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { make, rootInvoke } from '../../src/kernel/test-support.ts';
import { ObjType, Rights, CompSlot } from '../../src/abi/caps.ts';
import { Method, ThreadState } from '../../src/abi/sys.ts';
import { STACK_TOP, DATA_BASE } from '../../src/abi/layout.ts';
import { RtData } from '../../src/abi/runtime.ts';
import { parseElf32 } from '../../src/abi/elf.ts';
import { bootMm, buildProgram, give, runUntil, startClients } from './harness.ts';
import type { Frame } from '../../src/kernel/objects/frame.ts';

const build = (n: string): Promise<Uint8Array> => buildProgram(`user/tests/memory/${n}.ts`);

test('memory: image, heap and stack are paged in lazily; a client that exhausts its quota gets -1 and NoMemory, and its neighbour is unaffected', async () => {
  const [mmElf, lazy, quota] = await Promise.all([buildProgram('user/memory/main.ts'), build('lazy'), build('quota')]);
  const m = bootMm(mmElf, [{ name: 'quota', elf: quota, quotaPages: 100 }, { name: 'lazy', elf: lazy, quotaPages: 256 }]);
  // Nothing of either client is mapped before it runs.
  for (const c of m.clients) assert.equal(c.task.maps.size, 0);
  startClients(m);
  runUntil(m.sys, () => m.sys.kernel.debugOut.split('done\n').length > 2, 100_000_000);
  const out = m.sys.kernel.debugOut;
  // Quota client: 100 pages = 2 of runtime data + 6 wasm pages of 16; a seventh is refused.
  assert.match(out, /grown=5 refused=-1\n/);
  assert.match(out, /direct=NoMemory\n/);
  assert.match(out, /touched=16 ok=yes\n/);
  assert.match(out, /quota=100 committed=98 used=\d+ memPages=6\n/);
  // Lazy client: its initialized data came from the image; heap and stack from its quota.
  assert.match(out, /data sum=15\n/);
  assert.match(out, /heap sum=2016\n/);
  const start = /start: err=0 quota=256 used=(\d+) memPages=1 faults=(\d+)/.exec(out)!;
  const heap = /heap: err=0 quota=256 used=(\d+) memPages=(\d+) faults=(\d+)/.exec(out)!;
  const stack = /stack: err=0 quota=256 used=(\d+) memPages=(\d+) faults=(\d+)/.exec(out)!;
  assert.ok(start && heap && stack, out);
  assert.ok(Number(heap[1]) >= Number(start[1]) + 64, `256 KiB of heap touched: ${out}`);
  assert.ok(Number(stack[1]) > Number(heap[1]), `deep recursion used stack pages: ${out}`);
  const lazyTask = m.clients[1]!.task;
  assert.ok(lazyTask.maps.has((STACK_TOP >>> 12) - 20), 'stack pages far below the top are mapped');
  assert.equal(m.clients[0]!.thread.state, 0, 'the quota client ran to its end');
  // The memory manager's own heap reserve: 32 one-page frames of its own quota in consecutive
  // slots (RtData.LinearFrameFirst + page), left unmapped: nothing past its current size is
  // mapped, so an out-of-bounds access of its own traps; its memory.grow maps them page by page.
  const RESERVE = 32;
  const mmInitial = parseElf32(mmElf).segments.find((s) => s.vaddr === 0)!.memsz >>> 12;
  const mmLinear = (): number => [...m.mm.task.maps.keys()].filter((vpn) => vpn < 0x20000).length; // below its windows (0x2000_0000)
  const mmSize = (m.sys.kernel.readUserU32(m.mm.task, DATA_BASE + RtData.MemSize) ?? 0) >>> 12;
  assert.equal(mmLinear(), mmSize, 'exactly its current linear memory is mapped');
  assert.equal(m.sys.kernel.readUserU32(m.mm.task, DATA_BASE + RtData.MemReserved), mmInitial + RESERVE, 'its memory.grow needs nobody up to there');
  const lff = (m.sys.kernel.readUserU32(m.mm.task, DATA_BASE + RtData.LinearFrameFirst) ?? 0) | 0;
  assert.notEqual(lff, 0);
  for (let p = mmSize; p < mmInitial + RESERVE; p++) {
    const c = m.mm.task.cspace[lff + p];
    assert.ok(c != null && c.obj.kind === 'frame' && (c.obj as Frame).pages === 1 && (c.rights & Rights.Write) !== 0, `frame of page ${p} in slot ${lff + p}`);
  }
  // What its runtime's memory.grow does for the next page: FrameMap on its own task.
  assert.equal(m.sys.kernel.invokeAs(m.mm.thread, lff + mmSize, Method.FrameMap, CompSlot.Task, mmSize * 4096, Rights.Read | Rights.Write).err, 0);
  assert.equal(mmLinear(), mmSize + 1);
});

test('memory: a shared region from one quota is visible in two tasks; a refused fault reaches the supervisor, which resets and restarts the client', async () => {
  const [mmElf, bad, sup, a, b] = await Promise.all([buildProgram('user/memory/main.ts'), build('bad'), build('sup'), build('share-a'), build('share-b')]);
  const m = bootMm(mmElf, [
    { name: 'bad', elf: bad, quotaPages: 64 },
    { name: 'sup', elf: sup, quotaPages: 64, prio: 150 },
    { name: 'a', elf: a, quotaPages: 64 },
    { name: 'b', elf: b, quotaPages: 64 },
  ], { supervisorBadge: 3 });
  const sys = m.sys;
  const [badC, supC, aC, bC] = m.clients as [typeof m.clients[0], typeof m.clients[0], typeof m.clients[0], typeof m.clients[0]];
  const supEp = make(sys, ObjType.Endpoint);
  give(sys, m.mm, supEp, CompSlot.Supervisor, Rights.Write, 1);
  give(sys, supC, supEp, 16, Rights.Read);
  give(sys, supC, badC.threadSlot, 18, Rights.Read | Rights.Write);
  const ab = make(sys, ObjType.Endpoint);
  give(sys, aC, ab, 17, Rights.Write | Rights.Grant);
  give(sys, bC, ab, 17, Rights.Read);
  startClients(m);
  runUntil(sys, () => sys.kernel.debugOut.includes('after reset') && sys.kernel.debugOut.includes('done\n'), 100_000_000);
  let out = sys.kernel.debugOut;
  assert.match(out, /A: shareAlloc=0 slot=20 phys=yes\n/);
  assert.match(out, /A: bad size=6\n/); // InvalidArg: not a power of two
  assert.match(out, /B: recv=0 mr0=42 caps=1\n/);
  assert.match(out, /B: sees A=yes\n/);
  assert.match(out, /A: sees B=yes\n/);
  assert.match(out, /A: shared=4 used=\d+\n/);
  // The refused fault: reported, the thread stopped, its pages given back.
  assert.match(out, /memFault client=2 addr=0x10000000 access=0 reason=0\n/);
  assert.match(out, /before reset: used=\d+ badFaults=1\n/);
  assert.match(out, /reset=0\n/);
  assert.match(out, /after reset: used=0 memPages=1\n/);
  assert.equal(badC.task.maps.size, 0, 'reset unmapped everything the client had');
  assert.equal(badC.thread.state, ThreadState.Inactive);
  assert.doesNotMatch(out, /bad: after/);
  // Restart it as the supervisor would: its image is paged in afresh and it faults again.
  rootInvoke(sys, badC.threadSlot, Method.ThreadSetRegs, badC.entry, STACK_TOP, 0);
  rootInvoke(sys, badC.threadSlot, Method.ThreadResume);
  runUntil(sys, () => sys.kernel.debugOut.split('reset=0').length > 2, 20_000_000);
  out = sys.kernel.debugOut;
  assert.equal(out.split('bad: before\n').length, 3, out);
  assert.match(out, /before reset: used=\d+ badFaults=2\n/);
});

test('memory: cost of a page fault served with a fresh page (user-mode instructions, MM and client)', async (t) => {
  const [mmElf, touch] = await Promise.all([buildProgram('user/memory/main.ts'), build('touch')]);
  const m = bootMm(mmElf, [{ name: 'touch', elf: touch, quotaPages: 256 }]);
  startClients(m);
  const sys = m.sys;
  runUntil(sys, () => sys.kernel.debugOut.includes('go\n'), 20_000_000, 500);
  const i0 = sys.board.hart.instret;
  const c0 = sys.board.clock.cycles;
  const f0 = sys.kernel.stats.faults;
  runUntil(sys, () => sys.kernel.debugOut.includes('end\n'), 20_000_000, 500);
  const faults = sys.kernel.stats.faults - f0;
  assert.ok(faults >= 128, `${faults} faults`);
  const insns = (sys.board.hart.instret - i0) / faults;
  const cycles = (sys.board.clock.cycles - c0) / faults;
  t.diagnostic(`page fault with a fresh page: ${faults} faults, ${insns.toFixed(0)} user instructions and ${cycles.toFixed(0)} cycles each (kernel cost model included)`);
  assert.ok(insns < 3000, `${insns} instructions per fault`);
});

test('memory: a refused fault is never silent: without a supervisor the memory manager logs it at once, once; a report the supervisor never takes, after a second, once', async () => {
  const [mmElf, bad] = await Promise.all([buildProgram('user/memory/main.ts'), build('bad')]);
  for (const withSup of [false, true]) {
    const m = bootMm(mmElf, [{ name: 'bad', elf: bad, quotaPages: 64 }], { supervisorBadge: withSup ? 3 : 0 });
    const sys = m.sys;
    // An endpoint at CompSlot.Supervisor that nobody receives on: every memFault NbSend fails.
    if (withSup) give(sys, m.mm, make(sys, ObjType.Endpoint), CompSlot.Supervisor, Rights.Write, 1);
    startClients(m);
    runUntil(sys, () => sys.kernel.debugOut.includes('bad: before'), 20_000_000, 1_000); // small steps: idle time passes fast
    const t0 = sys.board.clock.nanos();
    runUntil(sys, () => sys.kernel.debugOut.includes('refused:'), 400_000_000);
    const out = sys.kernel.debugOut;
    const why = withSup ? 'the supervisor has not taken the report within a second' : 'no supervisor to stop it';
    assert.match(out, new RegExp(`bad: read page fault at 0x10000000 \\(pc 0x[0-9a-f]+\\) refused: not in its memory; ${why}: it stays blocked\\n`), out);
    const waited = sys.board.clock.nanos() - t0;
    if (withSup) assert.ok(waited >= 1e9 && waited < 1.1e9, `with a supervisor: logged after ${waited / 1e6} ms`);
    else assert.ok(waited < 1e6, `without a supervisor: logged after ${waited / 1e6} ms`);
    // Once: then the memory manager stops retrying and the system idles with the client blocked.
    runUntil(sys, () => false, 20_000_000);
    assert.equal(sys.kernel.debugOut.split('refused:').length, 2, sys.kernel.debugOut);
    assert.doesNotMatch(sys.kernel.debugOut, /bad: after/);
    assert.equal(m.clients[0]!.thread.state, ThreadState.BlockedReply);
  }
});
