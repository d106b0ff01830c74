// The rules on what components are granted: devices that exist and are granted once, IRQs that
// are wired, granted once and belong to a device of the same component, DMA windows in DRAM
// that do not overlap, memory that fits, and services that are provided once, exist, are not
// the user's own, and allow the user. Part of buildManifest (rules.ts).

import { PAGE_SIZE } from '../abi/layout.ts';
import { show, didYouMean, formatPath, type Path } from './error.ts';
import { dramPages, deviceOfIrq, describeIrqs, hex, type BoardSpec } from './board.ts';
import { checkListedOnce, checkComponentName, showRange, type RuleFailer } from './rules-common.ts';
import type { BuiltComponent, Component, Device } from './types.ts';

export function checkGrants(cs: readonly Component[], board: BoardSpec, f: RuleFailer): void {
  const built: [BuiltComponent, number][] = [];
  cs.forEach((c, i) => {
    if (c.role !== 'root') built.push([c, i]);
  });
  checkDevices(built, board, f);
  checkIrqs(built, board, f);
  checkDma(built, board, f);
  checkMemory(cs, built, board, f);
  checkServices(cs, built, f);
}

type DeviceRef = { kind: 'uart' } | { kind: 'testdev' } | { kind: 'virtio'; slot: number };

function deviceKey(d: DeviceRef): string {
  return d.kind === 'virtio' ? `virtio${d.slot}` : d.kind;
}

function deviceName(d: DeviceRef): string {
  return d.kind === 'uart' ? 'the uart' : d.kind === 'testdev' ? 'the test device' : `virtio slot ${d.slot}`;
}

function checkDevices(built: readonly [BuiltComponent, number][], board: BoardSpec, f: RuleFailer): void {
  const holder = new Map<string, { name: string; at: Path }>();
  for (const [c, i] of built) {
    c.devices.forEach((d, j) => {
      const at: Path = ['components', i, 'devices', j];
      if (d.kind === 'virtio') checkSlot(d, board, c.name, at, f);
      const first = holder.get(deviceKey(d));
      if (first !== undefined) {
        const was = first.at;
        f.fail(at, first.name === c.name
          ? `${deviceName(d)} is granted twice to ${show(c.name)} (devices[${String(was[3])}] and devices[${j}])`
          : `${deviceName(d)} is granted to both ${show(first.name)} (components[${String(was[1])}].devices[${String(was[3])}]) and ${show(c.name)}`);
      }
      holder.set(deviceKey(d), { name: c.name, at });
    });
  }
}

function checkSlot(d: Extract<Device, { kind: 'virtio' }>, board: BoardSpec, who: string, at: Path, f: RuleFailer): void {
  if (d.slot >= board.virtioSlots) {
    f.fail(at, board.virtioSlots === 0
      ? `virtio slot ${d.slot} does not exist (the board has no virtio slots)`
      : `virtio slot ${d.slot} does not exist (slots 0..${board.virtioSlots - 1})`);
  }
  if (board.virtio === null) return; // contents unknown: any slot may hold anything
  const held = board.virtio[d.slot] ?? null;
  if (held === null) {
    const full = board.virtio.flatMap((k, s) => (k === null ? [] : [`${s} ${k}`]));
    f.fail(at, `virtio slot ${d.slot} is empty on this board (${full.length === 0 ? 'all slots are empty' : `slots with a device: ${full.join(', ')}`})`);
  }
  if (d.expect !== null && d.expect !== held) {
    f.fail([...at, 'expect'], `virtio slot ${d.slot} holds a ${held} device, not the ${d.expect} device ${show(who)} expects`);
  }
}

function checkIrqs(built: readonly [BuiltComponent, number][], board: BoardSpec, f: RuleFailer): void {
  // All "granted twice" before any "not held": a second holder is the clearer explanation.
  const holder = new Map<number, { name: string; j: number }>();
  for (const [c, i] of built) {
    c.irqs.forEach((irq, j) => {
      const at: Path = ['components', i, 'irqs', j];
      if (deviceOfIrq(board, irq) === null) f.fail(at, `IRQ ${irq} is wired to no device on this board (${describeIrqs(board)})`);
      const first = holder.get(irq);
      if (first !== undefined) {
        f.fail(at, first.name === c.name
          ? `IRQ ${irq} is granted twice to ${show(c.name)} (irqs[${first.j}] and irqs[${j}])`
          : `IRQ ${irq} is granted to both ${show(first.name)} and ${show(c.name)}`);
      }
      holder.set(irq, { name: c.name, j });
    });
  }
  for (const [c, i] of built) {
    c.irqs.forEach((irq, j) => {
      const dev = deviceOfIrq(board, irq)!;
      if (!c.devices.some((d) => deviceKey(d) === deviceKey(dev))) {
        const add = dev.kind === 'uart' ? '{"kind": "uart"}' : `{"kind": "virtio", "slot": ${dev.slot}}`;
        f.fail(['components', i, 'irqs', j], `IRQ ${irq} belongs to ${deviceName(dev)}, which ${show(c.name)} is not granted (add ${add} to its devices)`);
      }
    });
  }
}

function checkDma(built: readonly [BuiltComponent, number][], board: BoardSpec, f: RuleFailer): void {
  const dramEnd = board.dramBase + dramPages(board) * PAGE_SIZE;
  const reservedEnd = board.dramBase + board.reservedPages * PAGE_SIZE;
  const seen: { base: number; end: number; at: Path }[] = [];
  for (const [c, i] of built) {
    c.devices.forEach((d, j) => {
      if (d.kind !== 'virtio') return;
      d.dma.forEach((w, k) => {
        const at: Path = ['components', i, 'devices', j, 'dma', k];
        const end = w.base + w.pages * PAGE_SIZE;
        // One window is one frame: a power of two of pages, aligned to its size (UntypedRetype).
        if ((w.pages & (w.pages - 1)) !== 0) {
          f.fail([...at, 'pages'], `${w.pages} is not a power of two (a DMA window is one frame: 1, 2, 4, ... pages)`);
        }
        if (w.base % (w.pages * PAGE_SIZE) !== 0) {
          f.fail([...at, 'base'], `${hex(w.base)} is not aligned to the window's size (${w.pages} pages: a multiple of 0x${(w.pages * PAGE_SIZE).toString(16)})`);
        }
        if (w.base < board.dramBase || end > dramEnd) {
          f.fail(at, `DMA window ${showRange(w.base, w.pages)} lies outside DRAM ${showRange(board.dramBase, dramPages(board))}`);
        }
        if (w.base < reservedEnd) {
          f.fail(at, `DMA window ${showRange(w.base, w.pages)} overlaps the reserved bottom of DRAM ${showRange(board.dramBase, board.reservedPages)} (kernel, boot image and modules)`);
        }
        for (const o of seen) {
          if (w.base < o.end && o.base < end) {
            f.fail(at, `DMA window ${showRange(w.base, w.pages)} overlaps ${formatPath(o.at)} ${showRange(o.base, (o.end - o.base) / PAGE_SIZE)}`);
          }
        }
        seen.push({ base: w.base, end, at });
      });
    });
  }
}

function checkMemory(cs: readonly Component[], built: readonly [BuiltComponent, number][], board: BoardSpec, f: RuleFailer): void {
  let quotas = 0;
  for (const c of cs) quotas += c.memoryPages;
  let dma = 0;
  for (const [c] of built) for (const d of c.devices) if (d.kind === 'virtio') for (const w of d.dma) dma += w.pages;
  const total = dramPages(board);
  const avail = total - board.reservedPages;
  if (quotas + dma > avail) {
    f.fail(['components'], `memory quotas (${quotas} pages) and DMA windows (${dma} pages) need ${quotas + dma} pages, ` +
      `but DRAM has ${avail} to give (${total} pages, ${board.reservedPages} of them reserved)`);
  }
}

function checkServices(cs: readonly Component[], built: readonly [BuiltComponent, number][], f: RuleFailer): void {
  const provider = new Map<string, { c: BuiltComponent; i: number; j: number }>();
  for (const [c, i] of built) {
    c.provides.forEach((s, j) => {
      const first = provider.get(s.name);
      if (first !== undefined) {
        f.fail(['components', i, 'provides', j, 'name'], `service ${show(s.name)} is already provided by ${show(first.c.name)} (components[${first.i}].provides[${first.j}])`);
      }
      provider.set(s.name, { c, i, j });
      if (s.clients !== 'any') {
        const at: Path = ['components', i, 'provides', j, 'clients'];
        checkListedOnce(s.clients, at, f);
        s.clients.forEach((n, k) => checkComponentName(n, cs, [...at, k], f));
      }
    });
  }
  for (const [c, i] of built) {
    checkListedOnce(c.uses, ['components', i, 'uses'], f);
    c.uses.forEach((name, j) => {
      const at: Path = ['components', i, 'uses', j];
      const p = provider.get(name);
      if (p === undefined) f.fail(at, `service ${show(name)} is provided by no component${didYouMean(name, provider.keys())}`);
      if (p.c === c) f.fail(at, `${show(c.name)} uses its own service ${show(name)}`);
      const svc = p.c.provides[p.j];
      if (svc.clients !== 'any' && !svc.clients.includes(c.name)) {
        f.fail(at, `${show(c.name)} may not use service ${show(name)}: its clients are ${svc.clients.map(show).join(', ')}`);
      }
    });
  }
  for (const [c, i] of built) c.provides.forEach((s, j) => checkBlockDevices(cs, c, i, j, f));
}

/** A service's blockDevices (docs/MANIFEST.md "Virtual block devices"): only on the first
 *  service of a virtio-blk driver; one per component that uses the service, for no other; no
 *  overlap unless every device involved is read-only; within 32-bit sector numbers. Whether a
 *  device fits the disk is checked by the driver at start (the manifest does not know the disk). */
function checkBlockDevices(cs: readonly Component[], c: BuiltComponent, i: number, j: number, f: RuleFailer): void {
  const s = c.provides[j];
  const isBlk = c.devices.some((d) => d.kind === 'virtio' && d.expect === 'blk' && d.dma.length > 0);
  if (s.ring && (!isBlk || j !== 0)) {
    f.fail(['components', i, 'provides', j, 'ring'], `only the first service of a virtio-blk driver (a component with a virtio device expecting "blk" and a DMA window) is ring-capable`);
  }
  if (s.blockDevices === null) return;
  const at: Path = ['components', i, 'provides', j, 'blockDevices'];
  if (!isBlk || j !== 0) {
    f.fail(at, `only the first service of a virtio-blk driver (a component with a virtio device expecting "blk" and a DMA window) has virtual block devices`);
  }
  const users = cs.filter((o) => o.role !== 'root' && o.uses.includes(s.name)).map((o) => o.name);
  const end = (b: { firstSector: number; sectors: number | null }): number => b.sectors === null ? Infinity : b.firstSector + b.sectors;
  s.blockDevices.forEach((b, k) => {
    const here: Path = [...at, k];
    checkComponentName(b.client, cs, [...here, 'client'], f);
    if (!users.includes(b.client)) f.fail([...here, 'client'], `${show(b.client)} does not use service ${show(s.name)}`);
    const first = s.blockDevices!.findIndex((o) => o.client === b.client);
    if (first < k) f.fail([...here, 'client'], `${show(b.client)} has a virtual block device already (blockDevices[${first}])`);
    if (b.sectors !== null && end(b) > 0xffff_ffff) f.fail([...here, 'sectors'], `the device ends at sector ${end(b)}, past the driver's 32-bit sector numbers`);
    s.blockDevices!.forEach((o, m) => {
      if (m >= k || (b.readOnly && o.readOnly)) return;
      if (b.firstSector < end(o) && o.firstSector < end(b)) {
        const show1 = (x: typeof b): string => `${show(x.client)} [${x.firstSector}, ${x.sectors === null ? 'end of disk' : end(x)})`;
        f.fail(here, `${show1(b)} overlaps ${show1(o)} (blockDevices[${m}]); virtual block devices may overlap only if all of them are read-only`);
      }
    });
  });
  for (const u of users) {
    if (!s.blockDevices.some((b) => b.client === u)) f.fail(at, `${show(u)} uses service ${show(s.name)} but has no virtual block device here`);
  }
}
