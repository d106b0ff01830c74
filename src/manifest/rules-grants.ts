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
  for (const [c, i] of built) c.provides.forEach((s, j) => checkNetDevices(cs, c, i, j, f));
  checkNetMacs(built, f);
  checkForwarders(cs, built, f);
}

/** A virtio device the component drives expecting `kind`, with a DMA window. */
function drives(c: BuiltComponent, kind: 'blk' | 'net'): boolean {
  return c.devices.some((d) => d.kind === 'virtio' && d.expect === kind && d.dma.length > 0);
}

const NET_DRIVER = 'a virtio-net driver (a component with a virtio device expecting "net" and a DMA window)';

/** A service's netDevices (docs/MANIFEST.md "Network devices"): only on the first service of a
 *  virtio-net driver, and required there when the service has clients; one per component that
 *  uses the service, for no other; the service ring-capable and grant (its clients connect by
 *  passing their frames and notification, on which they wait for received frames). */
function checkNetDevices(cs: readonly Component[], c: BuiltComponent, i: number, j: number, f: RuleFailer): void {
  const s = c.provides[j];
  const isNet = drives(c, 'net') && j === 0;
  const at: Path = ['components', i, 'provides', j, 'netDevices'];
  if (s.netDevices !== null && !isNet) f.fail(at, `only the first service of ${NET_DRIVER} has network devices`);
  if (!isNet) return;
  const users = cs.filter((o) => o.role !== 'root' && o.uses.includes(s.name)).map((o) => o.name);
  if (users.length === 0) return;
  const svcAt: Path = ['components', i, 'provides', j];
  if (s.netDevices === null) f.fail(svcAt, `the service of ${NET_DRIVER} needs "netDevices": the MAC address of each client (${users.map(show).join(', ')})`);
  if (!s.ring) f.fail(svcAt, `the service of ${NET_DRIVER} must be ring-capable ("ring": true): its clients wait on their notification for received frames, with either interface`);
  if (!s.grant) f.fail(svcAt, `the service of ${NET_DRIVER} must be "grant": true: its clients connect by passing their data frame and notification`);
  s.netDevices.forEach((d, k) => {
    const here: Path = [...at, k];
    checkComponentName(d.client, cs, [...here, 'client'], f);
    if (!users.includes(d.client)) f.fail([...here, 'client'], `${show(d.client)} does not use service ${show(s.name)}`);
    const first = s.netDevices!.findIndex((o) => o.client === d.client);
    if (first < k) f.fail([...here, 'client'], `${show(d.client)} has a MAC address already (netDevices[${first}])`);
  });
  for (const u of users) {
    if (!s.netDevices.some((d) => d.client === u)) f.fail(at, `${show(u)} uses service ${show(s.name)} but has no MAC address here`);
  }
}

/** Every client MAC address: unicast, not all zero, and unique over the manifest (every NIC is
 *  on the board's one switch, so two clients with one address would receive each other's frames). */
function checkNetMacs(built: readonly [BuiltComponent, number][], f: RuleFailer): void {
  const seen = new Map<string, { client: string; at: Path }>();
  for (const [c, i] of built) {
    c.provides.forEach((s, j) => {
      (s.netDevices ?? []).forEach((d, k) => {
        const at: Path = ['components', i, 'provides', j, 'netDevices', k, 'mac'];
        const first = parseInt(d.mac.slice(0, 2), 16);
        if ((first & 1) !== 0) f.fail(at, `${show(d.mac)} is a multicast address (the low bit of its first byte is set); a client's address must be unicast`);
        if (d.mac === '00:00:00:00:00:00') f.fail(at, `${show(d.mac)} is not an address`);
        const was = seen.get(d.mac);
        if (was !== undefined) f.fail(at, `${show(d.mac)} is already the address of ${show(was.client)} (${formatPath(was.at)}); addresses are unique on the switch`);
        seen.set(d.mac, { client: d.client, at });
      });
    });
  }
}

/** IRQ forwarders (forwardsIrqsOf): of a virtio-net driver that has an IRQ, one per driver, and
 *  holding nothing else; every virtio-net driver with a service has one. */
function checkForwarders(cs: readonly Component[], built: readonly [BuiltComponent, number][], f: RuleFailer): void {
  const forwarder = new Map<string, string>();
  for (const [c, i] of built) {
    const target = c.forwardsIrqsOf;
    if (target === null) continue;
    const at: Path = ['components', i, 'forwardsIrqsOf'];
    checkComponentName(target, cs, at, f);
    const d = cs.find((o) => o.name === target)!;
    if (d === c) f.fail(at, `${show(c.name)} cannot forward its own interrupts`);
    if (d.role === 'root' || !drives(d, 'net') || d.provides.length === 0 || d.irqs.length === 0) {
      f.fail(at, `${show(target)} is not a virtio-net driver with an IRQ and a service; only such a driver has an IRQ forwarder`);
    }
    const was = forwarder.get(target);
    if (was !== undefined) f.fail(at, `${show(target)} has an IRQ forwarder already: ${show(was)}`);
    forwarder.set(target, c.name);
    for (const field of ['devices', 'irqs', 'provides', 'uses'] as const) {
      if (c[field].length > 0) f.fail([...at.slice(0, 2), field], `${show(c.name)} is an IRQ forwarder (forwardsIrqsOf ${show(target)}) and holds nothing else`);
    }
  }
  for (const [c, i] of built) {
    if (drives(c, 'net') && c.provides.length > 0 && c.irqs.length > 0 && !forwarder.has(c.name)) {
      f.fail(['components', i], `the virtio-net driver ${show(c.name)} needs an IRQ forwarder: a component with "forwardsIrqsOf": ${show(c.name)} running its image (it waits on its endpoint; the forwarder waits for its interrupts)`);
    }
  }
}

/** A service's blockDevices (docs/MANIFEST.md "Virtual block devices"): only on the first
 *  service of a virtio-blk driver; one per component that uses the service, for no other; no
 *  overlap unless every device involved is read-only; within 32-bit sector numbers. Whether a
 *  device fits the disk is checked by the driver at start (the manifest does not know the disk). */
function checkBlockDevices(cs: readonly Component[], c: BuiltComponent, i: number, j: number, f: RuleFailer): void {
  const s = c.provides[j];
  const isBlk = drives(c, 'blk');
  if (s.ring && ((!isBlk && !drives(c, 'net')) || j !== 0)) {
    f.fail(['components', i, 'provides', j, 'ring'], `only the first service of a virtio-blk or virtio-net driver (a component with a virtio device expecting "blk" or "net" and a DMA window) is ring-capable`);
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
