// A small user-level test harness: boots the kernel with an idle root task, then plays the
// root task from TypeScript (through the kernel's own invocation path) to build tasks from
// AssemblyScript programs compiled by wasm2rv: eagerly loaded images, a memory manager with a
// start-information page (src/abi/bootplan.ts MemClient), clients it pages lazily from their
// image frames. Used by the IDL pair test and the memory-manager tests until `l4ts boot` runs
// the whole system.

import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bootSystem, rootInvoke, make, type TestSystem } from '../../src/kernel/test-support.ts';
import { compileAssemblyScript } from '../../src/toolchain/wasm2rv/cli-build.ts';
import { wasm2rv } from '../../src/toolchain/wasm2rv/compile.ts';
import { parseElf32 } from '../../src/abi/elf.ts';
import { ObjType, Rights, CompSlot } from '../../src/abi/caps.ts';
import { Method } from '../../src/abi/sys.ts';
import { PAGE_SIZE, STACK_TOP, UTCB_BASE } from '../../src/abi/layout.ts';
import { START_INFO_BASE, START_INFO_MAGIC, StartHdr, MemClient, MemClientFlags, PlanRole, NAME_WORDS } from '../../src/abi/bootplan.ts';
import type { Task } from '../../src/kernel/objects/task.ts';
import type { Thread } from '../../src/kernel/objects/thread.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CACHE = join(tmpdir(), 'l4ts-userland-cache');

/** Build an AssemblyScript program (path relative to the repository) into an ELF, cached by the
 *  contents of the program and of user/lib/gen and the toolchain sources it depends on. */
export async function buildProgram(rel: string, ascArgs: string[] = []): Promise<Uint8Array> {
  const file = join(ROOT, rel);
  const h = createHash('sha256');
  h.update(readFileSync(file));
  h.update(ascArgs.join(' '));
  for (const dep of depFiles()) h.update(readFileSync(dep));
  const key = h.digest('hex').slice(0, 24);
  mkdirSync(CACHE, { recursive: true });
  const p = join(CACHE, `${key}.elf`);
  if (existsSync(p)) return new Uint8Array(readFileSync(p));
  const wasm = await compileAssemblyScript(file, ascArgs);
  const { elf } = wasm2rv(wasm);
  writeFileSync(p, elf);
  return elf;
}

function depFiles(): string[] {
  const out: string[] = [];
  const add = (dir: string): void => {
    const d = join(ROOT, dir);
    if (!existsSync(d)) return;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) add(join(dir, n));
      else if (n.endsWith('.ts')) out.push(p);
    }
  };
  add('user/lib');
  add('user/memory');
  add('src/toolchain/wasm2rv');
  return out.sort();
}

export interface Spawned {
  taskSlot: number;
  threadSlot: number;
  task: Task;
  thread: Thread;
  entry: number;
}

export interface SpawnOptions {
  prio?: number;
  /** Root slot of the pager endpoint capability (kernel-held copy), 0 = none. */
  pager?: number;
  /** Load every PT_LOAD page now (else nothing is mapped: a pager pages it in). */
  eager?: boolean;
  stackPages?: number;
  /** Start argument (a0). */
  a0?: number;
  start?: boolean;
}

/** Create a task and thread running `elf`. */
export function spawnElf(sys: TestSystem, elf: Uint8Array, o: SpawnOptions = {}): Spawned {
  const k = sys.kernel;
  const taskSlot = make(sys, ObjType.Task);
  const threadSlot = make(sys, ObjType.Thread);
  const e = parseElf32(elf);
  if (o.eager ?? true) {
    for (const seg of e.segments) {
      const rights = (seg.flags.r ? Rights.Read : 0) | (seg.flags.w ? Rights.Write | Rights.Read : 0) | (seg.flags.x ? Rights.Exec : 0);
      for (let va = (seg.vaddr & ~0xfff) >>> 0; va < seg.vaddr + Math.max(seg.memsz, 1); va += PAGE_SIZE) {
        const f = make(sys, ObjType.Frame);
        const pa = rootInvoke(sys, f, Method.FrameInfo)[0]! >>> 0;
        const lo = Math.max(seg.vaddr, va);
        const hi = Math.min(seg.vaddr + seg.data.length, va + PAGE_SIZE);
        if (hi > lo) sys.board.dram.writeBytes(pa + (lo - va), seg.data.subarray(lo - seg.vaddr, hi - seg.vaddr));
        rootInvoke(sys, f, Method.FrameMap, taskSlot, va, rights);
      }
    }
    for (let i = 1; i <= (o.stackPages ?? 4); i++) {
      const f = make(sys, ObjType.Frame);
      rootInvoke(sys, f, Method.FrameMap, taskSlot, STACK_TOP - i * PAGE_SIZE, Rights.Read | Rights.Write);
    }
  }
  rootInvoke(sys, threadSlot, Method.ThreadConfigure, taskSlot, UTCB_BASE, o.pager ?? 0, 0);
  rootInvoke(sys, threadSlot, Method.ThreadSetRegs, e.entry, STACK_TOP, o.a0 ?? 0);
  rootInvoke(sys, threadSlot, Method.ThreadSetPriority, o.prio ?? 100);
  const task = k.rootTask.cspace[taskSlot]!.obj as Task;
  const thread = k.rootTask.cspace[threadSlot]!.obj as Thread;
  if (o.start ?? true) rootInvoke(sys, threadSlot, Method.ThreadResume);
  return { taskSlot, threadSlot, task, thread, entry: e.entry };
}

/** Give `to` a copy of root slot `slot` at `dst` (minted when badge != 0). */
export function give(sys: TestSystem, to: Spawned, slot: number, dst: number, rights: number, badge = 0): void {
  if (badge !== 0) rootInvoke(sys, to.taskSlot, Method.CapMint, slot, dst, rights, badge);
  else rootInvoke(sys, to.taskSlot, Method.CapCopy, slot, dst, rights);
}

export function boot(opts: { dramSize?: number; modules?: { name: string; bytes: Uint8Array }[] } = {}): TestSystem {
  return bootSystem(undefined, { dramSize: opts.dramSize ?? 64 << 20, modules: opts.modules });
}

/** Run until `done()` or the instruction budget is spent; returns the instructions run. */
export function runUntil(sys: TestSystem, done: () => boolean, budget = 50_000_000, step = 200_000): number {
  const start = sys.board.hart.instret;
  while (!done() && sys.board.hart.instret - start < budget) {
    const r = sys.board.run(step);
    // Idle: every thread is blocked and no timer is due; nothing will change by itself.
    if (r !== null && r.kind !== 'budget') break;
  }
  return sys.board.hart.instret - start;
}

export interface MmClientSpec {
  name: string;
  elf: Uint8Array;
  quotaPages: number;
  /** The harness loads it eagerly (MemClientFlags.EagerLoaded) instead of the MM paging it. */
  eager?: boolean;
  prio?: number;
  /** Capabilities to give it: [root slot, its slot, rights, badge]. */
  caps?: [number, number, number, number][];
}

export interface MmSystem {
  sys: TestSystem;
  mm: Spawned;
  endpointSlot: number;
  clients: (Spawned & { badge: number; name: string })[];
}

/**
 * The memory manager with clients, as the root task would set them up (docs/USERLAND.md "Start
 * information"): the MM eagerly loaded, with Endpoint(pager) R at slot 16 and per client its
 * untyped quota, task (W) and image frames (RX, the ELF from byte 0) in consecutive slots; each
 * client with Endpoint(pager) W badged as its pager and at CompSlot.Memory. Badges are 2, 3, ...
 * (1 is the MM). `supervisorBadge` goes to StartHdr word 12.
 */
export function bootMm(mmElf: Uint8Array, specs: MmClientSpec[], o: { mmPrio?: number; supervisorBadge?: number } = {}): MmSystem {
  const modules = specs.map((s) => ({ name: s.name, bytes: s.elf }));
  const sys = boot({ modules });
  const k = sys.kernel;
  const ep = make(sys, ObjType.Endpoint);
  const mm = spawnElf(sys, mmElf, { prio: o.mmPrio ?? 200, start: false, stackPages: 16, a0: START_INFO_BASE });
  give(sys, mm, ep, 16, Rights.Read);
  // Start information page.
  const si = make(sys, ObjType.Frame);
  const siPa = rootInvoke(sys, si, Method.FrameInfo)[0]! >>> 0;
  const words: number[] = new Array(1024).fill(0);
  const ENTRY = MemClient.Words;
  const TABLE = 16;
  words[StartHdr.Magic] = START_INFO_MAGIC;
  words[StartHdr.Role] = PlanRole.MemoryManager;
  words[StartHdr.Badge] = 1;
  words[StartHdr.Endpoint] = 16;
  words[StartHdr.EntryCount] = specs.length + 1;
  words[StartHdr.EntryWords] = ENTRY;
  words[StartHdr.EntryTable] = TABLE;
  words[StartHdr.ComponentCount] = specs.length + 1;
  words[StartHdr.SupervisorBadge] = o.supervisorBadge ?? 0;
  // Module frames from BootInfo: module i at Tables + 4 i: vaddr, size, first frame slot, count.
  const info = (i: number): number => k.board.dram.readU32(bootInfoPa(sys) + 4 * i);
  let slot = 17;
  const clients: MmSystem['clients'] = [];
  specs.forEach((s, i) => {
    const badge = i + 2;
    const pagerCopy = sys.nextSlot++;
    rootInvoke(sys, 1, Method.CapMint, ep, pagerCopy, Rights.Write, badge);
    const c = spawnElf(sys, s.elf, { prio: s.prio ?? 100, pager: pagerCopy, eager: s.eager ?? false, start: false, stackPages: 4 });
    const base = TABLE + i * ENTRY;
    // Quota: one untyped per set bit, largest first.
    const pieces: number[] = [];
    for (let b = 20; b >= 0; b--) if (s.quotaPages & (1 << b)) pieces.push(b);
    words[base + MemClient.Badge] = badge;
    words[base + MemClient.UntypedSlot] = slot;
    words[base + MemClient.UntypedCount] = pieces.length;
    words[base + MemClient.QuotaPages] = s.quotaPages;
    for (const b of pieces) {
      const u = make(sys, ObjType.Untyped, b);
      give(sys, mm, u, slot++, Rights.Write);
    }
    words[base + MemClient.TaskSlot] = slot;
    give(sys, mm, c.taskSlot, slot++, Rights.Write);
    const mInfo = 16 + 4 * i;
    const firstFrame = info(mInfo + 2);
    const frames = info(mInfo + 3);
    words[base + MemClient.ImageSlot] = slot;
    words[base + MemClient.ImageFrames] = frames;
    words[base + MemClient.ImageBytes] = info(mInfo + 1);
    for (let f = 0; f < frames; f++) give(sys, mm, firstFrame + f, slot++, Rights.Read | Rights.Exec);
    words[base + MemClient.Flags] = s.eager ? MemClientFlags.EagerLoaded : 0;
    words[base + MemClient.StackPages] = s.eager ? 4 : 0;
    const nb = new TextEncoder().encode(s.name);
    words[base + MemClient.Name] = nb.length;
    for (let j = 0; j < nb.length && j < 4 * (NAME_WORDS - 1); j++) words[base + MemClient.Name + 1 + (j >> 2)] |= nb[j]! << ((j & 3) * 8);
    // The client's own capabilities.
    give(sys, c, ep, CompSlot.Memory, Rights.Write, badge);
    give(sys, c, c.taskSlot, CompSlot.Task, Rights.Read | Rights.Write);
    for (const [from, to, rights, b] of s.caps ?? []) give(sys, c, from, to, rights, b);
    clients.push({ ...c, badge, name: s.name });
  });
  // Its own entry (flag Self): a quota of 64 pages, task CompSlot.Task, no image.
  {
    const base = TABLE + specs.length * ENTRY;
    words[base + MemClient.Badge] = 1;
    words[base + MemClient.UntypedSlot] = slot;
    words[base + MemClient.UntypedCount] = 1;
    words[base + MemClient.QuotaPages] = 64;
    give(sys, mm, make(sys, ObjType.Untyped, 6), slot++, Rights.Write);
    words[base + MemClient.TaskSlot] = CompSlot.Task;
    words[base + MemClient.Flags] = MemClientFlags.Self;
  }
  for (let i = 0; i < words.length; i++) k.board.dram.writeU32(siPa + 4 * i, words[i]! >>> 0);
  rootInvoke(sys, si, Method.FrameMap, mm.taskSlot, START_INFO_BASE, Rights.Read);
  give(sys, mm, mm.taskSlot, CompSlot.Task, Rights.Read | Rights.Write);
  rootInvoke(sys, mm.threadSlot, Method.ThreadResume);
  return { sys, mm, endpointSlot: ep, clients };
}

function bootInfoPa(sys: TestSystem): number {
  const node = sys.kernel.rootTask.maps.get(0xef000);
  if (node === undefined) throw new Error('no BootInfo mapping');
  return node.pa;
}

/** Start the clients' threads (after the MM has started). */
export function startClients(m: MmSystem): void {
  for (const c of m.clients) rootInvoke(m.sys, c.threadSlot, Method.ThreadResume);
}
