// A supervised system without the root task (until `l4ts boot` runs the whole system): the
// test plays the root task from TypeScript, through the kernel's own invocation path, and
// builds what docs/USERLAND.md says the root task builds for these components: the
// supervisor with its start information (src/abi/bootplan.ts StartHdr, SupClient), the console
// driver with the UART page, IRQ 10 and its notification, hello, and the restart-test server
// and client (user/tests/restart). Images are loaded eagerly (initial linear memory large
// enough that nothing grows: there is no memory manager here, so memory.reset fails and the
// supervisor restarts with the address space kept, as it logs), and clients get their service
// endpoints in the slots the library would look them up into (there is no name service).
//
// The server's pager is the supervisor's endpoint too, so that its refused page fault reaches
// the supervisor (in the full system the memory manager refuses it and sends memFault).

import { bootSystem, rootInvoke, make, bootInfoPa, type TestSystem } from '../../src/kernel/test-support.ts';
import { parseElf32 } from '../../src/abi/elf.ts';
import { BootInfo, CompSlot, CSPACE_SLOTS, ObjType, Rights, RIGHTS_ALL } from '../../src/abi/caps.ts';
import { Method } from '../../src/abi/sys.ts';
import { PAGE_SIZE, STACK_TOP, UTCB_BASE } from '../../src/abi/layout.ts';
import { START_INFO_BASE, START_INFO_MAGIC, StartHdr, SupClient, PlanRestart, PlanRole, NAME_WORDS } from '../../src/abi/bootplan.ts';
import { UART_IRQ } from '../../src/machine/uart16550.ts';
import type { Thread } from '../../src/kernel/objects/thread.ts';
import { buildProgram } from '../userland/harness.ts';

/** Linear memory every image starts with (wasm pages): no memory.grow needed. */
export const INITIAL_WASM_PAGES = 4;

export interface Comp {
  name: string;
  badge: number;
  taskSlot: number;
  threadSlot: number;
  thread: Thread;
  entry: number;
}

export interface SupervisedSystem {
  sys: TestSystem;
  comps: Map<string, Comp>;
  /** Bytes the UART sent. */
  uart: () => string;
  /** The kernel debug output (the supervisor's log). */
  debug: () => string;
  typeAtUart: (s: string) => void;
  /** Run until `done()` or `budget` instructions. */
  runUntil: (done: () => boolean, budget?: number) => number;
}

export interface Spec {
  name: string;
  badge: number;
  file: string;
  prio: number;
  policy: number;
  maxRestarts?: number;
  backoff?: [number, number];
  /** [root slot, slot in the component, rights, badge] */
  caps: [number, number, number, number][];
  pagerIsSupervisor?: boolean;
}

export interface SystemOptions {
  /** Names of the standard components to build (default: all of them). */
  only?: string[];
  /** More components after them (their caps may only name slots the test knows). */
  extra?: Spec[];
}

export async function buildSupervisedSystem(opts: SystemOptions = {}): Promise<SupervisedSystem> {
  const asc = ['--initialMemory', String(INITIAL_WASM_PAGES)];
  const sys = bootSystem(undefined, { dramSize: 64 << 20 });
  const k = sys.kernel;
  const info = (i: number): number => k.board.dram.readU32(bootInfoPa(k) + 4 * i);
  const uartIo = info(BootInfo.IoMemFirst); // the UART is the first I/O page
  const irq = info(BootInfo.IrqFirst) + UART_IRQ - 1;
  const faults = make(sys, ObjType.Endpoint);
  const conEp = make(sys, ObjType.Endpoint);
  const crashyEp = make(sys, ObjType.Endpoint);
  const ntfn = make(sys, ObjType.Notification);
  const ntfnBadged = sys.nextSlot++;
  rootInvoke(sys, 1, Method.CapMint, ntfn, ntfnBadged, RIGHTS_ALL, 1);
  rootInvoke(sys, irq, Method.IrqSetNotification, ntfnBadged);

  const R = Rights.Read, W = Rights.Write;
  const CONSOLE_SLOT = CSPACE_SLOTS - 2;
  const standard: Spec[] = [
    { name: 'console', badge: 5, file: 'user/console/main.ts', prio: 200, policy: PlanRestart.OnFailure, maxRestarts: 3, backoff: [10, 1000],
      caps: [[uartIo, 16, R | W, 0], [irq, 17, W, 0], [ntfn, 18, R, 0], [conEp, 19, R, 0]] },
    { name: 'hello', badge: 6, file: 'user/hello/main.ts', prio: 100, policy: PlanRestart.OnFailure, maxRestarts: 3, backoff: [10, 1000],
      caps: [[conEp, CONSOLE_SLOT, W, 6]] },
    { name: 'crashy', badge: 7, file: 'user/tests/restart/server.ts', prio: 150, policy: PlanRestart.OnFailure, maxRestarts: 10, backoff: [10, 40],
      caps: [[crashyEp, 16, R, 0]], pagerIsSupervisor: true },
    { name: 'client', badge: 8, file: 'user/tests/restart/client.ts', prio: 100, policy: PlanRestart.Never,
      caps: [[conEp, CONSOLE_SLOT, W, 8], [crashyEp, 200, W, 8]] },
    { name: 'chatter-a', badge: 9, file: 'user/tests/restart/chatter.ts', prio: 90, policy: PlanRestart.Never, caps: [[conEp, CONSOLE_SLOT, W, 9]] },
    { name: 'chatter-b', badge: 10, file: 'user/tests/restart/chatter.ts', prio: 90, policy: PlanRestart.Never, caps: [[conEp, CONSOLE_SLOT, W, 10]] },
    { name: 'quitter', badge: 11, file: 'user/tests/restart/quitter.ts', prio: 90, policy: PlanRestart.OnFailure, maxRestarts: 2, backoff: [1, 2],
      caps: [[conEp, CONSOLE_SLOT, W, 11]] },
    { name: 'repeater', badge: 12, file: 'user/tests/restart/repeater.ts', prio: 90, policy: PlanRestart.Always, backoff: [20, 20],
      caps: [[conEp, CONSOLE_SLOT, W, 12]] },
  ];
  const specs = [...standard.filter((s) => opts.only === undefined || opts.only.includes(s.name)), ...(opts.extra ?? [])];
  const elfs = new Map<string, Uint8Array>();
  for (const f of ['user/supervisor/main.ts', ...specs.map((s) => s.file)]) {
    if (!elfs.has(f)) elfs.set(f, await buildProgram(f, asc));
  }

  const spawn = (elf: Uint8Array, prio: number, pager: number, exc: number, a0: number) => {
    const taskSlot = make(sys, ObjType.Task);
    const threadSlot = make(sys, ObjType.Thread);
    const e = parseElf32(elf);
    for (const seg of e.segments) {
      const rights = (seg.flags.r ? R : 0) | (seg.flags.w ? W | R : 0) | (seg.flags.x ? Rights.Exec : 0);
      for (let va = (seg.vaddr & ~0xfff) >>> 0; va < seg.vaddr + Math.max(seg.memsz, 1); va += PAGE_SIZE) {
        const f = make(sys, ObjType.Frame);
        const pa = rootInvoke(sys, f, Method.FrameInfo)[0]! >>> 0;
        const lo = Math.max(seg.vaddr, va);
        const hi = Math.min(seg.vaddr + seg.data.length, va + PAGE_SIZE);
        if (hi > lo) k.board.dram.writeBytes(pa + (lo - va), seg.data.subarray(lo - seg.vaddr, hi - seg.vaddr));
        rootInvoke(sys, f, Method.FrameMap, taskSlot, va, rights);
      }
    }
    for (let i = 1; i <= 8; i++) {
      const f = make(sys, ObjType.Frame);
      rootInvoke(sys, f, Method.FrameMap, taskSlot, STACK_TOP - i * PAGE_SIZE, R | W);
    }
    rootInvoke(sys, threadSlot, Method.ThreadConfigure, taskSlot, UTCB_BASE, pager, exc);
    rootInvoke(sys, threadSlot, Method.ThreadSetRegs, e.entry, STACK_TOP, a0);
    rootInvoke(sys, threadSlot, Method.ThreadSetPriority, prio);
    rootInvoke(sys, taskSlot, Method.CapCopy, taskSlot, CompSlot.Task, R | W);
    return { taskSlot, threadSlot, thread: k.rootTask.cspace[threadSlot]!.obj as Thread, entry: e.entry };
  };
  const minted = (slot: number, rights: number, badge: number): number => {
    const s = sys.nextSlot++;
    rootInvoke(sys, 1, Method.CapMint, slot, s, rights, badge);
    return s;
  };

  const comps = new Map<string, Comp>();
  const sup = spawn(elfs.get('user/supervisor/main.ts')!, 245, 0, 0, START_INFO_BASE);
  comps.set('supervisor', { name: 'supervisor', badge: 3, ...sup });
  rootInvoke(sys, sup.taskSlot, Method.CapCopy, faults, 16, R);
  for (const s of specs) {
    const supervised = s.policy !== PlanRestart.Never;
    const exc = supervised ? minted(faults, W, s.badge) : 0;
    const pager = s.pagerIsSupervisor ? minted(faults, W, s.badge) : 0;
    const c = spawn(elfs.get(s.file)!, s.prio, pager, exc, 0);
    for (const [from, to, rights, badge] of s.caps) {
      if (badge !== 0) rootInvoke(sys, c.taskSlot, Method.CapMint, from, to, rights, badge);
      else rootInvoke(sys, c.taskSlot, Method.CapCopy, from, to, rights);
    }
    comps.set(s.name, { name: s.name, badge: s.badge, ...c });
  }

  // The supervisor's start information and its Thread/Task capabilities.
  const words: number[] = new Array(1024).fill(0);
  const supervised = specs.filter((s) => s.policy !== PlanRestart.Never);
  const TABLE = StartHdr.Words;
  words[StartHdr.Magic] = START_INFO_MAGIC;
  words[StartHdr.Role] = PlanRole.Supervisor;
  words[StartHdr.Badge] = 3;
  words[StartHdr.Endpoint] = 16;
  words[StartHdr.EntryCount] = supervised.length;
  words[StartHdr.EntryWords] = SupClient.Words;
  words[StartHdr.EntryTable] = TABLE;
  words[StartHdr.TimerHz] = k.board.clock.cpuHz / k.board.clock.cyclesPerTick;
  words[StartHdr.ComponentCount] = Math.max(12, ...specs.map((s) => s.badge));
  supervised.forEach((s, i) => {
    const c = comps.get(s.name)!;
    const base = TABLE + i * SupClient.Words;
    const threadSlot = 17 + 2 * i;
    rootInvoke(sys, sup.taskSlot, Method.CapCopy, c.threadSlot, threadSlot, R | W);
    rootInvoke(sys, sup.taskSlot, Method.CapCopy, c.taskSlot, threadSlot + 1, W);
    words[base + SupClient.Badge] = s.badge;
    words[base + SupClient.ThreadSlot] = threadSlot;
    words[base + SupClient.TaskSlot] = threadSlot + 1;
    words[base + SupClient.Policy] = s.policy;
    words[base + SupClient.MaxRestarts] = s.maxRestarts ?? 0;
    words[base + SupClient.BackoffInitialMs] = s.backoff?.[0] ?? 0;
    words[base + SupClient.BackoffMaxMs] = s.backoff?.[1] ?? 0;
    words[base + SupClient.EntryPc] = c.entry;
    words[base + SupClient.StackTop] = STACK_TOP;
    words[base + SupClient.StartArg] = 0;
    const nb = new TextEncoder().encode(s.name);
    words[base + SupClient.Name] = nb.length;
    for (let j = 0; j < nb.length && j < 4 * (NAME_WORDS - 1); j++) words[base + SupClient.Name + 1 + (j >> 2)] |= nb[j]! << ((j & 3) * 8);
  });
  const si = make(sys, ObjType.Frame);
  const siPa = rootInvoke(sys, si, Method.FrameInfo)[0]! >>> 0;
  for (let i = 0; i < words.length; i++) k.board.dram.writeU32(siPa + 4 * i, words[i]! >>> 0);
  rootInvoke(sys, si, Method.FrameMap, sup.taskSlot, START_INFO_BASE, R);

  // Start in the manifest's order: supervisor, console, then the rest.
  for (const n of ['supervisor', ...specs.map((s) => s.name)]) rootInvoke(sys, comps.get(n)!.threadSlot, Method.ThreadResume);

  let out = '';
  k.board.onUartOutput((b) => { out += String.fromCharCode(b); });
  return {
    sys,
    comps,
    uart: () => out,
    debug: () => k.debugOut,
    typeAtUart: (s) => k.board.uart.pushInput(new TextEncoder().encode(s)),
    runUntil: (done, budget = 200_000_000) => {
      const start = k.board.hart.instret;
      while (!done() && k.board.hart.instret - start < budget) {
        const r = k.board.run(500_000);
        if (r !== null && r.kind !== 'budget') break; // 'idle': nothing will ever wake the hart
      }
      return k.board.hart.instret - start;
    },
  };
}
