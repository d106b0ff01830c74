// The boot plan encoder (docs/USERLAND.md "Boot plan"): a validated manifest plus the sizes and
// entry points of the component images -> the binary plan the root task interprets (layouts in
// src/abi/bootplan.ts). The plan is derived from `expectedCapabilities`, one grant per line, so
// that caps.ts stays the single spec of the distribution; the slot of each grant follows
// docs/USERLAND.md "Component capability spaces".

import {
  BOOTPLAN_MAGIC, BOOTPLAN_VERSION, NAME_MAX_BYTES, NAME_WORDS, PLAN_NONE, PlanComp, PlanCompFlags, PlanGrant,
  PlanHdr, PlanIrqBind, PlanObj, PlanObjKind, PlanPlace, PlanRestart, PlanRole, START_INFO_BASE, START_INFO_MAGIC,
  StartHdr, MemClient, MemClientFlags, NamesAllow, NamesService, SupClient, StartCap, StartCapKind,
} from '../abi/bootplan.ts';
import { CompSlot, CSPACE_SLOTS, Rights } from '../abi/caps.ts';
import { STACK_TOP } from '../abi/layout.ts';
import { DEFAULT_TIMER_HZ } from '../machine/clock.ts';
import { expectedCapabilities, supervisedBy, badgeOf, ringService, RING_PREFIX, type CapLine } from './caps.ts';
import { startOrder } from './rules.ts';
import {
  CFG_MAGIC, CFG_MAGIC_BLK, CFG_ENDPOINT, CFG_IRQ, CFG_IRQ_NTFN, CFG_DMA, CFG_PRIV_FRAME, CFG_NCLIENTS, CFG_MMIO,
  CFG_CLIENTS, CLIENT_WORDS, CL_FLAGS, CL_BASE, CL_SECTORS, CLF_PRESENT, CLF_WRITE, MAX_CLIENTS, PRIV_PAGES,
  BLK_WHOLE_DISK, CFG_FLAGS, NCL_MAC_LO, NCL_MAC_HI, NET_PRIV_PAGES, NET_F_FORWARDER,
} from '../../user/lib/io-proto.ts';
import type { Component, Manifest } from './types.ts';

/** What the encoder needs to know of a component's image (its boot module). */
export interface PlanImage {
  /** BootInfo module index (module 0 is the plan itself). */
  module: number;
  /** ELF file size in bytes. */
  size: number;
  /** ELF entry point. */
  entry: number;
}

export interface BootPlanOptions {
  /** Components whose image the root task loads itself: the memory manager always (nothing
   *  pages it); 'all' loads every image eagerly (the fallback without a memory manager that
   *  pages images in). Default 'memory-manager'. */
  eager?: 'all' | 'memory-manager';
  /** Stack pages the root maps for an eagerly loaded component (default 16; memory manager 64). */
  stackPages?: number;
  memoryManagerStackPages?: number;
  timerHz?: number;
}

export class BootPlanError extends Error {}

interface Obj {
  kind: number;
  p: [number, number, number];
  name: string;
  /** Capability slots it occupies. */
  slots: number;
}

interface Grant {
  holder: number;
  place: number;
  obj: number;
  rights: number;
  badge: number;
  slot: number;
}

const ROLE: Record<Component['role'], number> = {
  'root': PlanRole.Root, 'memory-manager': PlanRole.MemoryManager, 'name-service': PlanRole.NameService,
  'supervisor': PlanRole.Supervisor, 'task': PlanRole.Task,
};

/** The size bits (log2 pages) of the untypeds a quota of `pages` is split into, largest first:
 *  pieces of at most 2^10 pages (the largest boot untyped, 4 MiB), then one per set bit. */
export function untypedPieces(pages: number): number[] {
  const out: number[] = [];
  let rest = pages;
  while (rest >= 1024) { out.push(10); rest -= 1024; }
  for (let b = 9; b >= 0; b--) if ((rest >>> b) & 1) out.push(b);
  return out;
}

/** Words of a name field. */
export function nameWords(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > NAME_MAX_BYTES) throw new BootPlanError(`boot plan: name "${name}" is longer than ${NAME_MAX_BYTES} bytes`);
  const w = new Array<number>(NAME_WORDS).fill(0);
  w[0] = bytes.length;
  bytes.forEach((b, i) => { w[1 + (i >> 2)] |= b << (8 * (i & 3)); });
  return w.map((x) => x >>> 0);
}

export interface EncodedPlan {
  bytes: Uint8Array;
  /** For tests and tools: the decoded structure. */
  objects: readonly Obj[];
  grants: readonly Grant[];
  /** Slot of a capability in a holder's space, by `holder type(object) badge`. */
  slotOf: (holder: string, type: string, object: string, badge?: number) => number;
}

/**
 * The capability directory of component `ci` (src/abi/bootplan.ts StartCap, docs/USERLAND.md
 * "Start information"): one entry per capability it looks up by what it is for, with the slot the
 * encoder gave it (`slotOf`): per ring-capable service it uses, its Notification(ring:C).
 */
export function capDirectory(m: Manifest, ci: number, slotOf: EncodedPlan['slotOf']): number[][] {
  const c = m.components[ci];
  if (c.role === 'root') return [];
  const line = (type: string, object: string): CapLine => {
    const l = expectedCapabilities(m).find((x) => x.holder === c.name && x.place === 'cspace' && x.type === type && x.object === object);
    if (l === undefined) throw new BootPlanError(`boot plan: ${c.name} holds no ${type}(${object})`);
    return l;
  };
  const out: number[][] = [];
  const entry = (kind: number, l: CapLine, name: string): void => {
    const e = new Array<number>(StartCap.Words).fill(0);
    e[StartCap.Kind] = kind;
    e[StartCap.Slot] = slotOf(c.name, l.type, l.object, l.badge);
    e[StartCap.Slots] = 1;
    e[StartCap.Rights] = l.rights;
    e.splice(StartCap.Name, NAME_WORDS, ...nameWords(name));
    out.push(e);
  };
  for (const s of c.uses) {
    if (ringService(m, s)) entry(StartCapKind.RingNotification, line('Notification', `${RING_PREFIX}${c.name}`), s);
  }
  return out;
}

export function encodeBootPlan(m: Manifest, images: readonly (PlanImage | null)[], opts: BootPlanOptions = {}): EncodedPlan {
  const timerHz = opts.timerHz ?? DEFAULT_TIMER_HZ;
  const comps = m.components;
  const indexOf = new Map(comps.map((c, i) => [c.name, i]));
  const objects: Obj[] = [];
  const objIndex = new Map<string, number>();
  const obj = (key: string, make: () => Obj): number => {
    let i = objIndex.get(key);
    if (i === undefined) {
      i = objects.length;
      objects.push(make());
      objIndex.set(key, i);
    }
    return i;
  };
  const simple = (kind: number, name: string, p0 = 0): Obj => ({ kind, p: [p0, 0, 0], name, slots: 1 });
  const imageOf = (ci: number): PlanImage => {
    const im = images[ci];
    if (im === undefined || im === null) throw new BootPlanError(`boot plan: no image for component "${comps[ci].name}"`);
    return im;
  };

  // Every built component's task, thread and scheduling context, in manifest order.
  comps.forEach((c, i) => {
    if (c.role === 'root') return;
    obj(`Task(${c.name})`, () => simple(PlanObjKind.Task, c.name, i));
    obj(`Thread(${c.name})`, () => simple(PlanObjKind.Thread, c.name, i));
    obj(`SchedContext(${c.name})`, () => simple(PlanObjKind.SchedContext, c.name, i));
  });

  const objectOf = (l: CapLine): number => {
    const key = `${l.type}(${l.object})`;
    switch (l.type) {
      case 'Task': case 'Thread': {
        const i = objIndex.get(key);
        if (i === undefined) throw new BootPlanError(`boot plan: ${key} is not a component`);
        return i;
      }
      case 'Endpoint': return obj(key, () => simple(PlanObjKind.Endpoint, l.object));
      case 'Notification': return obj(key, () => simple(PlanObjKind.Notification, l.object));
      case 'Untyped': return obj(key, () => {
        const pieces = untypedPieces(l.pages!).length;
        return { kind: PlanObjKind.Untyped, p: [l.pages!, pieces, 0], name: l.object, slots: pieces };
      });
      case 'Frame': {
        if (l.object.startsWith('image:')) {
          const ci = indexOf.get(l.object.slice(6))!;
          const im = imageOf(ci);
          const frames = Math.max(1, Math.ceil(im.size / 4096));
          return obj(key, () => ({ kind: PlanObjKind.ImageFrames, p: [im.module, frames, im.size], name: l.object, slots: frames }));
        }
        return obj(key, () => ({ kind: PlanObjKind.DmaFrame, p: [Number(l.object) >>> 0, l.pages!, 0], name: l.object, slots: 1 }));
      }
      case 'IoMem': return obj(key, () => simple(PlanObjKind.IoMem, l.object, Number(l.object) >>> 0));
      case 'IrqHandler': return obj(key, () => simple(PlanObjKind.IrqHandler, l.object, Number(l.object)));
      case 'DmaWindow': return obj(key, () => simple(PlanObjKind.DmaWindow, l.object, Number(l.object)));
      default: throw new BootPlanError(`boot plan: cannot place ${key}`);
    }
  };

  // Grants, one per line of the expected distribution, with their slots.
  const grants: Grant[] = [];
  const nextSlot = new Map<string, number>();
  const slots = new Map<string, number>();
  for (const l of expectedCapabilities(m)) {
    const holder = indexOf.get(l.holder)!;
    const o = objectOf(l);
    let slot = 0;
    let place: number = PlanPlace.Cspace;
    if (l.place === 'pager') place = PlanPlace.Pager;
    else if (l.place === 'exception-handler') place = PlanPlace.ExceptionHandler;
    else if (l.type === 'Task' && l.object === l.holder) slot = CompSlot.Task;
    else if (l.type === 'Endpoint' && l.object === 'pager' && l.rights === Rights.Write) slot = CompSlot.Memory;
    else if (l.type === 'Endpoint' && l.object === 'names' && l.rights === Rights.Write) slot = CompSlot.Names;
    else if (l.type === 'Endpoint' && l.object === 'faults' && l.rights === Rights.Write) slot = CompSlot.Supervisor;
    else {
      slot = nextSlot.get(l.holder) ?? CompSlot.FirstFree;
      nextSlot.set(l.holder, slot + objects[o].slots);
      if (slot + objects[o].slots > CSPACE_SLOTS) {
        throw new BootPlanError(`boot plan: "${l.holder}" needs more than the ${CSPACE_SLOTS - 1} slots of its capability space`);
      }
    }
    if (place === PlanPlace.Cspace) slots.set(`${l.holder} ${l.type}(${l.object}) ${l.badge}`, slot);
    grants.push({ holder, place, obj: o, rights: l.rights, badge: l.badge, slot });
  }
  const slotOf = (holder: string, type: string, object: string, badge = 0): number => {
    const s = slots.get(`${holder} ${type}(${object}) ${badge}`);
    if (s === undefined) throw new BootPlanError(`boot plan: ${holder} holds no ${type}(${object}) badge ${badge}`);
    return s;
  };

  // IRQ bindings.
  const binds: [number, number, number][] = [];
  comps.forEach((c) => {
    if (c.role === 'root') return;
    c.irqs.forEach((irq, k) => {
      binds.push([objIndex.get(`IrqHandler(${irq})`)!, objIndex.get(`Notification(irq:${c.name})`)!, (1 << k) >>> 0]);
    });
  });

  // Capability directories (StartCap): a component with an entry gets start information.
  const dirs = comps.map((_, i) => capDirectory(m, i, slotOf));

  // Start-information pages of the system components.
  const eagerAll = (opts.eager ?? 'memory-manager') === 'all';
  const stackPages = opts.stackPages ?? 16;
  const mmStackPages = opts.memoryManagerStackPages ?? 64;
  const isEager = (c: Component): boolean => c.role === 'memory-manager' || (c.role !== 'root' && eagerAll);
  const stackOf = (c: Component): number => c.role === 'memory-manager' ? mmStackPages : isEager(c) ? stackPages : 0;
  const blkDevice = (c: Component) => c.role === 'task' && c.provides.length > 0
    ? c.devices.find((d) => d.kind === 'virtio' && d.expect === 'blk' && d.dma.length > 0) : undefined;
  const netDevice = (c: Component) => c.role === 'task' && c.provides.length > 0
    ? c.devices.find((d) => d.kind === 'virtio' && d.expect === 'net' && d.dma.length > 0) : undefined;
  const isForwarder = (c: Component): boolean => c.role === 'task' && c.forwardsIrqsOf !== null;
  const hasStartInfo = (c: Component): boolean => c.role === 'memory-manager' || c.role === 'name-service' || c.role === 'supervisor' ||
    blkDevice(c) !== undefined || netDevice(c) !== undefined || isForwarder(c) || dirs[comps.indexOf(c)].length > 0;
  const blobs: number[][] = [];
  const startObj = new Map<number, number>();
  const header = (c: Component, i: number, endpoint: number): number[] => {
    const h = new Array<number>(StartHdr.Words).fill(0);
    h[StartHdr.Magic] = START_INFO_MAGIC;
    h[StartHdr.Role] = ROLE[c.role];
    h[StartHdr.Badge] = badgeOf(i);
    h[StartHdr.Endpoint] = endpoint;
    h[StartHdr.TimerHz] = timerHz;
    h[StartHdr.ComponentCount] = comps.length;
    const sup = comps.findIndex((o) => o.role === 'supervisor');
    h[StartHdr.SupervisorBadge] = sup < 0 ? 0 : badgeOf(sup);
    return h;
  };
  const table = (page: number[], which: 1 | 2 | 'caps', entries: number[][], words: number): void => {
    const [cnt, sz, off] = which === 1 ? [StartHdr.EntryCount, StartHdr.EntryWords, StartHdr.EntryTable]
      : which === 2 ? [StartHdr.Entry2Count, StartHdr.Entry2Words, StartHdr.Entry2Table] : [StartHdr.CapCount, StartHdr.CapWords, StartHdr.CapTable];
    page[cnt] = entries.length;
    page[sz] = words;
    page[off] = page.length;
    for (const e of entries) {
      if (e.length !== words) throw new Error('boot plan: start-info entry of the wrong size');
      page.push(...e);
    }
  };
  /** What the start information of a virtio driver begins with (user/lib/io-proto.ts CFG_*):
   *  the slots of its service endpoint (`svc`, its first service), IRQ, IRQ notification, DMA
   *  window, private frame (its first DMA window, at least `privPages` pages) and register page;
   *  the client table is left to the caller. */
  const driverPage = (name: string, what: string, d: { slot: number; irq: number; regs: number; dma: readonly { base: number; pages: number }[] },
    privPages: number, svc: string, irqs: readonly number[]): number[] => {
    const hex = (pa: number): string => `0x${(pa >>> 0).toString(16).padStart(8, '0')}`;
    const w = d.dma[0];
    if (w.pages < privPages) throw new BootPlanError(`boot plan: "${name}": the ${what} driver's first DMA window needs at least ${privPages} pages`);
    if (!irqs.includes(d.irq)) throw new BootPlanError(`boot plan: "${name}": the ${what} driver needs IRQ ${d.irq} of virtio slot ${d.slot}`);
    const page = new Array<number>(CFG_CLIENTS + MAX_CLIENTS * CLIENT_WORDS).fill(0);
    page[CFG_MAGIC] = CFG_MAGIC_BLK;
    page[CFG_ENDPOINT] = slotOf(name, 'Endpoint', `svc:${svc}`);
    page[CFG_IRQ] = slotOf(name, 'IrqHandler', String(d.irq));
    page[CFG_IRQ_NTFN] = slotOf(name, 'Notification', `irq:${name}`);
    page[CFG_DMA] = slotOf(name, 'DmaWindow', String(d.slot));
    page[CFG_PRIV_FRAME] = slotOf(name, 'Frame', hex(w.base));
    page[CFG_MMIO] = slotOf(name, 'IoMem', hex(d.regs));
    return page;
  };
  /** The virtio-blk driver's start information (user/lib/io-proto.ts CFG_*, docs/DRIVERS.md
   *  "Started from a manifest"): the slots of its register page, IRQ, IRQ notification, DMA
   *  window and private frame (its first DMA window), its service endpoint (the first service it
   *  provides); one virtual block device per component that uses the service, numbered by that
   *  component's badge (its entry in the service's blockDevices, else the whole disk read-write),
   *  connecting at run time (no data frame). */
  const blkDriverPage = (c: Component): number[] => {
    const d = blkDevice(c);
    if (c.role === 'root' || d === undefined || d.kind !== 'virtio') throw new BootPlanError('unreachable');
    const svc = c.provides[0].name;
    const page = driverPage(c.name, 'blk', d, PRIV_PAGES, svc, c.irqs);
    let n = 0;
    comps.forEach((o, oi) => {
      if (o.role === 'root' || !o.uses.includes(svc)) return;
      const k = badgeOf(oi);
      if (k > MAX_CLIENTS) throw new BootPlanError(`boot plan: "${o.name}" uses ${svc} with badge ${k}, but the blk driver numbers its clients 1..${MAX_CLIENTS} by badge (move it up the manifest)`);
      const at = CFG_CLIENTS + (k - 1) * CLIENT_WORDS;
      const v = c.provides[0].blockDevices?.find((b) => b.client === o.name);
      if (c.provides[0].blockDevices !== null && v === undefined) throw new BootPlanError(`boot plan: "${o.name}" uses ${svc} without a virtual block device`);
      page[at + CL_FLAGS] = CLF_PRESENT | (v?.readOnly === true ? 0 : CLF_WRITE);
      page[at + CL_BASE] = v?.firstSector ?? 0;
      page[at + CL_SECTORS] = v?.sectors ?? BLK_WHOLE_DISK;
      n = Math.max(n, k);
    });
    page[CFG_NCLIENTS] = n;
    return page;
  };
  /** The virtio-net driver's start information (CFG_*, docs/DRIVERS.md "Started from a
   *  manifest"): its slots as for the blk driver (the private frame: its first DMA window, at
   *  least NET_PRIV_PAGES pages); one client entry per component that uses its first service,
   *  numbered by badge, with the client's MAC address from the service's netDevices (NCL_MAC_LO:
   *  bytes 0..3, NCL_MAC_HI: bytes 4..5, little endian), connecting at run time (no data frame). */
  const netDriverPage = (c: Component): number[] => {
    const d = netDevice(c);
    if (c.role === 'root' || d === undefined || d.kind !== 'virtio') throw new BootPlanError('unreachable');
    const svc = c.provides[0];
    const page = driverPage(c.name, 'net', d, NET_PRIV_PAGES, svc.name, c.irqs);
    let n = 0;
    comps.forEach((o, oi) => {
      if (o.role === 'root' || !o.uses.includes(svc.name)) return;
      const k = badgeOf(oi);
      if (k > MAX_CLIENTS) throw new BootPlanError(`boot plan: "${o.name}" uses ${svc.name} with badge ${k}, but the net driver numbers its clients 1..${MAX_CLIENTS} by badge (move it up the manifest)`);
      const nd = svc.netDevices?.find((x) => x.client === o.name);
      if (nd === undefined) throw new BootPlanError(`boot plan: "${o.name}" uses ${svc.name} without a MAC address`);
      const b = nd.mac.split(':').map((x) => parseInt(x, 16));
      const at = CFG_CLIENTS + (k - 1) * CLIENT_WORDS;
      page[at + CL_FLAGS] = CLF_PRESENT;
      page[at + NCL_MAC_LO] = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
      page[at + NCL_MAC_HI] = b[4] | (b[5] << 8);
      n = Math.max(n, k);
    });
    page[CFG_NCLIENTS] = n;
    return page;
  };
  /** The IRQ forwarder of a net driver (forwardsIrqsOf): CFG_FLAGS = NET_F_FORWARDER, the
   *  driver's endpoint and interrupt notification as held by the forwarder. */
  const forwarderPage = (c: Component): number[] => {
    if (c.role !== 'task' || c.forwardsIrqsOf === null) throw new BootPlanError('unreachable');
    const d = comps.find((o) => o.name === c.forwardsIrqsOf);
    if (d === undefined || d.role === 'root' || d.provides.length === 0) throw new BootPlanError(`boot plan: "${c.name}" forwards the interrupts of "${c.forwardsIrqsOf}", which is no driver with a service`);
    const page = new Array<number>(CFG_CLIENTS).fill(0);
    page[CFG_MAGIC] = CFG_MAGIC_BLK;
    page[CFG_FLAGS] = NET_F_FORWARDER;
    page[CFG_ENDPOINT] = slotOf(c.name, 'Endpoint', `svc:${d.provides[0].name}`);
    page[CFG_IRQ_NTFN] = slotOf(c.name, 'Notification', `irq:${d.name}`);
    return page;
  };
  comps.forEach((c, i) => {
    if (!hasStartInfo(c)) return;
    let page: number[];
    if (c.role === 'memory-manager') {
      page = header(c, i, slotOf(c.name, 'Endpoint', 'pager'));
      const entries: number[][] = [];
      comps.forEach((o, oi) => {
        if (o.role === 'root') return;
        const self = o === c;
        const e = new Array<number>(MemClient.Words).fill(0);
        e[MemClient.Badge] = badgeOf(oi);
        e[MemClient.UntypedSlot] = slotOf(c.name, 'Untyped', o.name);
        e[MemClient.UntypedCount] = untypedPieces(o.memoryPages).length;
        e[MemClient.QuotaPages] = o.memoryPages;
        e[MemClient.TaskSlot] = self ? CompSlot.Task : slotOf(c.name, 'Task', o.name);
        if (!self) {
          const im = imageOf(oi);
          e[MemClient.ImageSlot] = slotOf(c.name, 'Frame', `image:${o.name}`);
          e[MemClient.ImageFrames] = Math.max(1, Math.ceil(im.size / 4096));
          e[MemClient.ImageBytes] = im.size;
        }
        e[MemClient.Flags] = (isEager(o) ? MemClientFlags.EagerLoaded : 0) | (self ? MemClientFlags.Self : 0);
        e[MemClient.StackPages] = stackOf(o);
        e.splice(MemClient.Name, NAME_WORDS, ...nameWords(o.name));
        entries.push(e);
      });
      table(page, 1, entries, MemClient.Words);
    } else if (c.role === 'name-service') {
      page = header(c, i, slotOf(c.name, 'Endpoint', 'names'));
      const services: { name: string; provider: number }[] = [];
      comps.forEach((o, oi) => {
        if (o.role !== 'root') for (const s of o.provides) services.push({ name: s.name, provider: badgeOf(oi) });
      });
      const allow: number[][] = [];
      comps.forEach((o, oi) => {
        if (o.role === 'root') return;
        for (const s of o.uses) {
          allow.push([badgeOf(oi), slotOf(c.name, 'Endpoint', `svc:${s}`, badgeOf(oi)), services.findIndex((x) => x.name === s)]);
        }
      });
      table(page, 1, allow, NamesAllow.Words);
      table(page, 2, services.map((s) => [s.provider, ...nameWords(s.name)]), NamesService.Words);
    } else if (isForwarder(c)) {
      page = forwarderPage(c);
    } else if (netDevice(c) !== undefined) {
      page = netDriverPage(c);
    } else if (blkDevice(c) !== undefined) {
      page = blkDriverPage(c);
    } else if (c.role === 'task') {
      page = header(c, i, 0); // no endpoint, no tables: only the capability directory
    } else {
      page = header(c, i, slotOf(c.name, 'Endpoint', 'faults'));
      const entries: number[][] = [];
      comps.forEach((o, oi) => {
        if (!supervisedBy(o)) return;
        const e = new Array<number>(SupClient.Words).fill(0);
        e[SupClient.Badge] = badgeOf(oi);
        e[SupClient.ThreadSlot] = slotOf(c.name, 'Thread', o.name);
        e.splice(SupClient.Name, NAME_WORDS, ...nameWords(o.name));
        entries.push(e);
        if (o.restart.policy === 'never') return; // stopped (not restarted) after a refused page fault
        e[SupClient.TaskSlot] = slotOf(c.name, 'Task', o.name);
        e[SupClient.Policy] = o.restart.policy === 'always' ? PlanRestart.Always : PlanRestart.OnFailure;
        e[SupClient.MaxRestarts] = o.restart.policy === 'on-failure' ? o.restart.maxRestarts : 0;
        e[SupClient.BackoffInitialMs] = o.restart.backoff.initialMs;
        e[SupClient.BackoffMaxMs] = o.restart.backoff.maxMs;
        e[SupClient.EntryPc] = imageOf(oi).entry;
        e[SupClient.StackTop] = STACK_TOP;
        e[SupClient.StartArg] = hasStartInfo(o) ? START_INFO_BASE : 0;
      });
      table(page, 1, entries, SupClient.Words);
    }
    if (page[StartHdr.Magic] === START_INFO_MAGIC) table(page, 'caps', dirs[i], StartCap.Words);
    else if (dirs[i].length > 0) throw new BootPlanError(`boot plan: "${c.name}": its start information is a driver's own layout, without a capability directory, so it cannot use a ring-capable service`);
    if (page.length > 1024) throw new BootPlanError(`boot plan: the start information of "${c.name}" does not fit in one page`);
    startObj.set(i, objects.length);
    objects.push({ kind: PlanObjKind.StartInfo, p: [0, page.length, i], name: `start:${c.name}`, slots: 1 });
    blobs.push(page);
  });

  // Layout: header, components, objects, grants, IRQ bindings, start order, blobs.
  const order = startOrder(m).map((n) => indexOf.get(n)!);
  const words: number[] = new Array<number>(PlanHdr.Words).fill(0);
  const at = (): number => words.length;
  const hdr = (k: number, v: number): void => { words[k] = v >>> 0; };
  hdr(PlanHdr.Magic, BOOTPLAN_MAGIC);
  hdr(PlanHdr.Version, BOOTPLAN_VERSION);
  hdr(PlanHdr.RootIndex, comps.findIndex((c) => c.role === 'root'));
  hdr(PlanHdr.TimerHz, timerHz);

  hdr(PlanHdr.ComponentCount, comps.length);
  hdr(PlanHdr.ComponentTable, at());
  const ticks = (us: number): number => Math.max(1, Math.round(us * timerHz / 1e6));
  comps.forEach((c, i) => {
    const r = new Array<number>(PlanComp.Words).fill(0);
    const built = c.role !== 'root';
    r[PlanComp.Flags] = isEager(c) ? PlanCompFlags.EagerLoad : 0;
    r[PlanComp.Role] = ROLE[c.role];
    r[PlanComp.Badge] = badgeOf(i);
    r[PlanComp.Priority] = c.priority;
    r[PlanComp.BudgetTicks] = ticks(c.sched.budgetUs);
    r[PlanComp.PeriodTicks] = ticks(c.sched.periodUs);
    r[PlanComp.MemoryPages] = c.memoryPages;
    r[PlanComp.Module] = built ? imageOf(i).module : PLAN_NONE;
    r[PlanComp.TaskObj] = built ? objIndex.get(`Task(${c.name})`)! : PLAN_NONE;
    r[PlanComp.ThreadObj] = built ? objIndex.get(`Thread(${c.name})`)! : PLAN_NONE;
    r[PlanComp.SchedObj] = built ? objIndex.get(`SchedContext(${c.name})`)! : PLAN_NONE;
    r[PlanComp.StartInfoObj] = startObj.get(i) ?? PLAN_NONE;
    r[PlanComp.StackPages] = stackOf(c);
    if (c.role !== 'root') {
      const rs = c.restart;
      r[PlanComp.Restart] = rs.policy === 'never' ? PlanRestart.Never : rs.policy === 'always' ? PlanRestart.Always : PlanRestart.OnFailure;
      r[PlanComp.MaxRestarts] = rs.policy === 'on-failure' ? rs.maxRestarts : 0;
      r[PlanComp.BackoffInitialMs] = rs.policy === 'never' ? 0 : rs.backoff.initialMs;
      r[PlanComp.BackoffMaxMs] = rs.policy === 'never' ? 0 : rs.backoff.maxMs;
    }
    r.splice(PlanComp.Name, NAME_WORDS, ...nameWords(c.name));
    words.push(...r.map((x) => x >>> 0));
  });

  hdr(PlanHdr.ObjectCount, objects.length);
  hdr(PlanHdr.ObjectTable, at());
  const objAt = at();
  for (const o of objects) {
    const r = new Array<number>(PlanObj.Words).fill(0);
    r[PlanObj.Kind] = o.kind;
    r[PlanObj.P0] = o.p[0];
    r[PlanObj.P1] = o.p[1];
    r[PlanObj.P2] = o.p[2];
    r.splice(PlanObj.Name, NAME_WORDS, ...nameWords(o.name));
    words.push(...r.map((x) => x >>> 0));
  }

  hdr(PlanHdr.GrantCount, grants.length);
  hdr(PlanHdr.GrantTable, at());
  for (const g of grants) {
    const r = new Array<number>(PlanGrant.Words).fill(0);
    r[PlanGrant.Holder] = g.holder;
    r[PlanGrant.Place] = g.place;
    r[PlanGrant.Obj] = g.obj;
    r[PlanGrant.Rights] = g.rights;
    r[PlanGrant.Badge] = g.badge;
    r[PlanGrant.Slot] = g.slot;
    words.push(...r.map((x) => x >>> 0));
  }

  hdr(PlanHdr.IrqBindCount, binds.length);
  hdr(PlanHdr.IrqBindTable, at());
  for (const b of binds) {
    const r = new Array<number>(PlanIrqBind.Words).fill(0);
    r[PlanIrqBind.Irq] = b[0];
    r[PlanIrqBind.Notification] = b[1];
    r[PlanIrqBind.Badge] = b[2];
    words.push(...r);
  }

  hdr(PlanHdr.StartOrderCount, order.length);
  hdr(PlanHdr.StartOrderTable, at());
  words.push(...order);

  let si = 0;
  objects.forEach((o, k) => {
    if (o.kind !== PlanObjKind.StartInfo) return;
    o.p[0] = at();
    words[objAt + k * PlanObj.Words + PlanObj.P0] = at();
    words.push(...blobs[si++].map((x) => x >>> 0));
  });

  hdr(PlanHdr.SizeBytes, words.length * 4);
  const bytes = new Uint8Array(words.length * 4);
  const dv = new DataView(bytes.buffer);
  words.forEach((w, k) => dv.setUint32(k * 4, w >>> 0, true));
  return { bytes, objects, grants, slotOf };
}
