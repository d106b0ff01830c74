// The capability distribution a manifest implies: every capability the root task must hand out
// at boot, one line per grant (holder, object, rights, badge), in the spirit of seL4's capDL.
// `l4ts boot --caps` prints the booted system's distribution in the same form, so that an
// end-to-end test can compare the two (docs/MANIFEST.md "Capabilities").
//
// The root task holds the original of every object it creates plus its boot capabilities;
// those are not listed. A component's badge is its position in the manifest plus 1, so that a
// server can tell its clients apart and 0 stays "unbadged".

import { ObjType, Rights } from '../abi/caps.ts';
import type { BuiltComponent, Component, Manifest } from './types.ts';

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

/** Whether service `s` is ring-capable: its clients get Notification(ring:C). */
export function ringService(m: Manifest, s: string): boolean {
  return m.components.flatMap((c) => (c.role === 'root' ? [] : c.provides)).find((p) => p.name === s)?.ring === true;
}

/** Object name prefix of a ring client's notification: `ring:<client>`. */
export const RING_PREFIX = 'ring:';

/** The badge of the component at manifest position `index`. */
export function badgeOf(index: number): number {
  return index + 1;
}

/** Object names of the endpoints the system roles serve; service endpoints are `svc:<name>`. */
export const PAGER_ENDPOINT = 'pager';
export const NAMES_ENDPOINT = 'names';
export const FAULTS_ENDPOINT = 'faults';

/** Whether the supervisor (if there is one) watches component `c`: every component but the root
 *  task, the memory manager and the supervisor itself. It restarts those whose restart policy is
 *  not `never` (their exception handler); of the others it stops, and reports, a page fault the
 *  memory manager refuses (docs/USERLAND.md "Supervisor"). */
export function supervisedBy(c: Component): c is BuiltComponent {
  return c.role !== 'root' && c.role !== 'memory-manager' && c.role !== 'supervisor';
}

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
    const rings = c.uses.filter((s) => ringService(m, s));
    if (rings.length > 0) add('cspace', 'Notification', `${RING_PREFIX}${c.name}`, R | W, 0, `ring responses of ${rings.join(', ')}: waits on it, passes it to the driver when it connects`);
    if (c.forwardsIrqsOf !== null) {
      const d = m.components.find((o) => o.name === c.forwardsIrqsOf);
      if (d !== undefined && d.role !== 'root' && d.provides.length > 0) {
        add('cspace', 'Notification', `irq:${d.name}`, R, 0, `waits for the interrupts of ${d.name} (its IRQ forwarder)`);
        add('cspace', 'Endpoint', `svc:${d.provides[0].name}`, W, 0, `passes each interrupt of ${d.name} to its endpoint (label NET_IRQ, unbadged)`);
      }
    }

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
      add('cspace', 'Endpoint', FAULTS_ENDPOINT, R, 0, 'receives the faults of the components it restarts, and the page faults the memory manager refuses');
      for (const { c: o } of built) {
        if (!supervisedBy(o)) continue;
        if (o.restart.policy === 'never') {
          add('cspace', 'Thread', o.name, W, 0, `stops ${o.name} when the memory manager refuses its page fault (policy never: no restart)`);
          continue;
        }
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

// ------------------------------------------------------------------------------------------------
// The settled system: capabilities the manifest permits to arise at run time
// ------------------------------------------------------------------------------------------------

/** A capability of the live distribution as the kernel reports it (src/kernel/debug.ts
 *  capDistribution, LiveCap): a CapLine without `why`, and for a frame retyped from a quota its
 *  origin in the derivation tree. */
export interface ObservedCap {
  holder: string;
  place: CapPlace;
  type: string;
  object: string;
  pages: number | null;
  rights: number;
  badge: number;
  quota?: {
    /** Whose quota: the name of the untyped the frame was retyped from. */
    untyped: string;
    /** Holders from the untyped's capability down to this one, consecutive repeats dropped. */
    chain: readonly string[];
    /** The frame's physical address. */
    pa: number;
  };
}

export const QUOTA_PREFIX = 'quota:';

/** Why a frame of a quota may not be where it is, or null when the manifest permits it
 *  (docs/MANIFEST.md "After the system settles"): it was retyped by the memory manager from the
 *  Untyped(C) the manifest grants it (the derivation path starts at the memory manager), and it
 *  is held by the memory manager, by C (a copy the memory manager gave it: shareAlloc), or by a
 *  component D to which C itself passed its copy on; rights at most RWX, unbadged, in a cspace. */
export function quotaFrameViolation(m: Manifest, o: ObservedCap): string | null {
  const q = o.quota;
  if (q === undefined) return 'not a quota frame';
  const mm = m.components.find((c) => c.role === 'memory-manager')?.name;
  const owner = m.components.find((c) => c.name === q.untyped && c.role !== 'root');
  if (owner === undefined) return `no component ${q.untyped} with a quota`;
  if (mm === undefined || q.chain[0] !== mm) return `not retyped by the memory manager from Untyped(${q.untyped}) (path ${q.chain.join(' > ')})`;
  const rest = q.chain.slice(1);
  const ok = rest.length === 0 || (rest.length === 1 && rest[0] === owner.name) || (rest.length === 2 && rest[0] === owner.name && rest[1] !== mm && rest[1] !== owner.name);
  if (!ok) return `path ${q.chain.join(' > ')}: only the memory manager, ${owner.name}, and whom ${owner.name} passes it to may hold it`;
  if (q.chain[q.chain.length - 1] !== o.holder) return `path ${q.chain.join(' > ')} does not end at ${o.holder}`;
  if (o.place !== 'cspace' || o.badge !== 0 || (o.rights & ~(R | W | X)) !== 0) return 'rights beyond RWX, a badge, or not in a cspace';
  return null;
}

/** Every observed capability as a line: quota frames merged into one line per holder, quota,
 *  rights and badge (`Frame(quota:C, <n> pages)`, n their pages summed); the rest as is. */
export function aggregateCaps(observed: readonly ObservedCap[]): CapLine[] {
  const out: CapLine[] = [];
  const merged = new Map<string, CapLine>();
  for (const o of observed) {
    const l: CapLine = { holder: o.holder, place: o.place, type: o.type as ObjTypeName, object: o.object, pages: o.pages, rights: o.rights, badge: o.badge, why: '' };
    if (o.quota !== undefined) {
      const key = `${l.holder} ${l.place} ${l.object} ${l.rights} ${l.badge}`;
      const m = merged.get(key);
      if (m !== undefined) {
        m.pages = (m.pages ?? 0) + (l.pages ?? 0);
        continue;
      }
      merged.set(key, l);
    }
    out.push(l);
  }
  return out;
}

/**
 * The distribution a settled system may have, given what was `observed`: the boot-time grants
 * (expectedCapabilities) plus what the manifest permits to arise at run time —
 *  - lookups: `C cspace Endpoint(svc:S) W badge=b(C)` for each S in C's `uses` that C has looked
 *    up (what the name service hands out: a copy of its own for C, C's badge, the same rights);
 *  - rings: `D cspace Notification(ring:C) <rights ⊆ RW>` for the provider D of a ring-capable
 *    service that C uses, once C has connected (passed its notification on);
 *  - memory: `H cspace Frame(quota:C, <n> pages) <rights>` per holder H of frames the memory
 *    manager retyped from C's quota under quotaFrameViolation's rule, n their pages summed;
 *    each line's n and the distinct pages carved from the quota must be ≤ C's memoryPages.
 * A capability not covered is left out, so that comparing with aggregateCaps(observed) shows it.
 */
export function settledCapabilities(m: Manifest, observed: readonly ObservedCap[]): CapLine[] {
  const out = expectedCapabilities(m);
  const names = m.components.find((c) => c.role === 'name-service')?.name;
  m.components.forEach((c, i) => {
    if (c.role === 'root') return;
    for (const s of c.uses) {
      const object = `svc:${s}`;
      if (!observed.some((o) => o.holder === c.name && o.place === 'cspace' && o.type === 'Endpoint' && o.object === object)) continue;
      // A copy of the name service's capability for this client: its rights and badge.
      const given = out.find((l) => l.holder === names && l.type === 'Endpoint' && l.object === object && l.badge === badgeOf(i));
      if (given !== undefined) out.push({ ...given, holder: c.name, why: `looked up ${s} at the name service` });
    }
  });
  // Ring notifications: the provider of a ring-capable service S may hold the copy of
  // Notification(ring:C) that a client C of S passed on when it connected (at most C's rights).
  for (const d of m.components) {
    if (d.role === 'root') continue;
    for (const s of d.provides) {
      if (!s.ring) continue;
      for (const c of m.components) {
        if (c.role === 'root' || !c.uses.includes(s.name)) continue;
        const object = `${RING_PREFIX}${c.name}`;
        const o = observed.find((x) => x.holder === d.name && x.place === 'cspace' && x.type === 'Notification' && x.object === object);
        if (o === undefined || o.badge !== 0 || (o.rights & ~(R | W)) !== 0) continue;
        out.push({ holder: d.name, place: 'cspace', type: 'Notification', object, pages: null, rights: o.rights, badge: 0, why: `passed on by ${c.name} when it connected to ${s.name}` });
      }
    }
  }
  const permitted = observed.filter((o) => o.quota !== undefined && quotaFrameViolation(m, o) === null);
  const carved = new Map<string, Map<number, number>>(); // quota -> frame pa -> pages
  for (const o of permitted) {
    const f = carved.get(o.quota!.untyped) ?? new Map<number, number>();
    f.set(o.quota!.pa, o.pages ?? 0);
    carved.set(o.quota!.untyped, f);
  }
  for (const l of aggregateCaps(permitted)) {
    const owner = m.components.find((c) => `${QUOTA_PREFIX}${c.name}` === l.object)!;
    const total = [...carved.get(owner.name)!.values()].reduce((a, b) => a + b, 0);
    if ((l.pages ?? 0) > owner.memoryPages || total > owner.memoryPages) continue;
    out.push({ ...l, why: l.holder === owner.name ? `frames of its own quota` : `frames of ${owner.name}'s quota` });
  }
  return out;
}

export interface CapCheck {
  /** What `l4ts boot --caps` prints: the observed distribution, quota frames merged. */
  lines: CapLine[];
  /** settledCapabilities(m, observed). */
  expected: CapLine[];
  /** Printed lines the manifest does not explain (formatCapLine form, sorted). */
  unexplained: string[];
  /** Lines the manifest requires that the system does not have (formatCapLine form, sorted). */
  missing: string[];
}

/** Compare the observed distribution with what the manifest grants and permits. */
export function checkCapabilities(m: Manifest, observed: readonly ObservedCap[]): CapCheck {
  const lines = aggregateCaps(observed);
  const expected = settledCapabilities(m, observed);
  const count = (ls: readonly CapLine[]): Map<string, number> => {
    const n = new Map<string, number>();
    for (const l of ls) n.set(formatCapLine(l), (n.get(formatCapLine(l)) ?? 0) + 1);
    return n;
  };
  const have = count(lines);
  const want = count(expected);
  const diff = (a: Map<string, number>, b: Map<string, number>): string[] => {
    const out: string[] = [];
    for (const [s, n] of a) for (let k = b.get(s) ?? 0; k < n; k++) out.push(s);
    return out.sort();
  };
  return { lines, expected, unexplained: diff(have, want), missing: diff(want, have) };
}
