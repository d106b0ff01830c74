// The capability distribution a manifest implies: every capability the root task must hand out
// at boot, one line per grant (holder, object, rights, badge), in the spirit of seL4's capDL.
// `l4ts boot --caps` prints the booted system's distribution in the same form, so that an
// end-to-end test can compare the two (docs/MANIFEST.md "Capabilities").
//
// The root task holds the original of every object it creates plus its boot capabilities;
// those are not listed. A component's badge is its position in the manifest plus 1, so that a
// server can tell its clients apart and 0 stays "unbadged".

import { ObjType, Rights } from '../abi/caps.ts';
import type { BuiltComponent, Manifest } from './types.ts';

export type ObjTypeName = keyof typeof ObjType;

/**
 * Where the holder keeps the capability: in its capability space, or held by the kernel for
 * its thread as the endpoint its page faults (`pager`) or other exceptions
 * (`exception-handler`) are sent to (ThreadConfigure copies them; they occupy no slot).
 */
export type CapPlace = 'cspace' | 'pager' | 'exception-handler';

export interface CapLine {
  /** The component holding the capability. */
  holder: string;
  place: CapPlace;
  /** The object's type, named as in src/abi/caps.ts ObjType. */
  type: ObjTypeName;
  /** Which object of that type (docs/MANIFEST.md "Object names"). */
  object: string;
  /** Size in pages, for Untyped and Frame; otherwise null. */
  pages: number | null;
  /** Rights bits (src/abi/caps.ts Rights). */
  rights: number;
  /** 0 = unbadged. */
  badge: number;
  /** Why the holder has it, for people; not part of the comparison. */
  why: string;
}

const R = Rights.Read;
const W = Rights.Write;
const X = Rights.Exec;
const G = Rights.Grant;

/** A client's rights on the endpoint of service `s`: W, and G when the service takes
 *  capabilities with its calls (`grant`, e.g. a block driver's run-time connect). */
export function serviceRights(m: Manifest, s: string): number {
  const svc = m.components.flatMap((c) => (c.role === 'root' ? [] : c.provides)).find((p) => p.name === s);
  return svc?.grant === true ? W | G : W;
}

/** The badge of the component at manifest position `index`. */
export function badgeOf(index: number): number {
  return index + 1;
}

/** Object names of the endpoints the system roles serve; service endpoints are `svc:<name>`. */
export const PAGER_ENDPOINT = 'pager';
export const NAMES_ENDPOINT = 'names';
export const FAULTS_ENDPOINT = 'faults';

/** Every capability the root task hands out for manifest `m`, in a fixed order: by holder in
 *  manifest order, then as the rules in docs/MANIFEST.md "Capabilities" list them. */
export function expectedCapabilities(m: Manifest): CapLine[] {
  const out: CapLine[] = [];
  const built: { c: BuiltComponent; badge: number }[] = [];
  m.components.forEach((c, i) => {
    if (c.role !== 'root') built.push({ c, badge: badgeOf(i) });
  });

  for (const { c, badge } of built) {
    const add = (place: CapPlace, type: ObjTypeName, object: string, rights: number, b: number, why: string, pages: number | null = null): void => {
      out.push({ holder: c.name, place, type, object, pages, rights, badge: b, why });
    };

    add('cspace', 'Task', c.name, R | W, 0, 'its own task: maps what it is given, manages and identifies its capabilities');
    if (c.role !== 'memory-manager') {
      add('pager', 'Endpoint', PAGER_ENDPOINT, W, badge, 'its page faults go to the memory manager');
      add('cspace', 'Endpoint', PAGER_ENDPOINT, W, badge, 'memory.grow and shared memory: calls the memory manager (CompSlot.Memory)');
    }
    if (c.restart.policy !== 'never') add('exception-handler', 'Endpoint', FAULTS_ENDPOINT, W, badge, `restart ${c.restart.policy}: its faults go to the supervisor`);

    for (const d of c.devices) {
      if (d.kind !== 'virtio') {
        add('cspace', 'IoMem', hexId(d.regs), R | W, 0, `the ${d.kind} registers`);
      } else {
        add('cspace', 'IoMem', hexId(d.regs), R | W, 0, `virtio slot ${d.slot} registers`);
        if (d.dma.length > 0) add('cspace', 'DmaWindow', String(d.slot), W, 0, `opens the IOMMU windows of virtio slot ${d.slot}`);
        for (const w of d.dma) add('cspace', 'Frame', hexId(w.base), R | W, 0, `DMA memory of virtio slot ${d.slot}`, w.pages);
      }
    }
    c.irqs.forEach((irq, k) => add('cspace', 'IrqHandler', String(irq), W, 0, `IRQ ${irq}: signals bit ${k} of its notification`));
    if (c.irqs.length > 0) add('cspace', 'Notification', `irq:${c.name}`, R, 0, 'waits for its interrupts');
    for (const s of c.provides) add('cspace', 'Endpoint', `svc:${s.name}`, R, 0, `receives the calls of service ${s.name}`);
    if (c.uses.length > 0) add('cspace', 'Endpoint', NAMES_ENDPOINT, W, badge, `looks up ${c.uses.join(', ')} (replies carry capabilities without Grant)`);

    if (c.role === 'memory-manager') {
      add('cspace', 'Endpoint', PAGER_ENDPOINT, R, 0, 'receives the page faults of every other component');
      for (const { c: o } of built) {
        add('cspace', 'Untyped', o.name, W, 0, `the memory quota of ${o.name}`, o.memoryPages);
        if (o === c) continue;
        add('cspace', 'Task', o.name, W, 0, `maps the pages of ${o.name}`);
        add('cspace', 'Frame', `image:${o.name}`, R | X, 0, `the image of ${o.name}, paged in on faults`);
      }
      if (m.components.some((o) => o.role === 'supervisor')) {
        add('cspace', 'Endpoint', FAULTS_ENDPOINT, W, badge, 'reports the page faults it refuses to the supervisor (supervisor.memFault; at CompSlot.Supervisor)');
      }
    }
    if (c.role === 'name-service') {
      add('cspace', 'Endpoint', NAMES_ENDPOINT, R, 0, 'receives the lookups of every component that uses a service');
      for (const { c: o, badge: ob } of built) {
        for (const s of o.uses) add('cspace', 'Endpoint', `svc:${s}`, serviceRights(m, s), ob, `handed to ${o.name} when it looks up ${s}`);
      }
    }
    if (c.role === 'supervisor') {
      add('cspace', 'Endpoint', FAULTS_ENDPOINT, R, 0, 'receives the faults of the components it restarts');
      for (const { c: o } of built) {
        if (o.restart.policy === 'never') continue;
        add('cspace', 'Thread', o.name, R | W, 0, `stops, inspects and restarts ${o.name}`);
        add('cspace', 'Task', o.name, W, 0, `clears ${o.name} before a restart`);
      }
    }
  }
  return out;
}

/** "RW", "WG", "RX", or "-" for no rights: R, W, X, G in that order. */
export function rightsString(rights: number): string {
  const s = ((rights & R) !== 0 ? 'R' : '') + ((rights & W) !== 0 ? 'W' : '') + ((rights & X) !== 0 ? 'X' : '') + ((rights & G) !== 0 ? 'G' : '');
  return s === '' ? '-' : s;
}

/**
 * One line of `--caps` output:
 *   console cspace IoMem(0x10000000) RW
 *   hello pager Endpoint(pager) W badge=6
 *   memory cspace Untyped(hello, 64 pages) W
 * Fields are separated by one space; `why` is not part of it.
 */
export function formatCapLine(l: CapLine): string {
  const obj = l.pages === null ? `${l.type}(${l.object})` : `${l.type}(${l.object}, ${l.pages} pages)`;
  const badge = l.badge === 0 ? '' : ` badge=${l.badge}`;
  return `${l.holder} ${l.place} ${obj} ${rightsString(l.rights)}${badge}`;
}

/** The whole distribution, one line each, sorted (so that two distributions compare as text). */
export function formatCaps(lines: readonly CapLine[]): string {
  return lines.map(formatCapLine).sort().join('\n') + '\n';
}

/** `0x10000000`: physical addresses in object names, 8 lower-case digits, no separators. */
function hexId(pa: number): string {
  return `0x${(pa >>> 0).toString(16).padStart(8, '0')}`;
}
