// The rules of a manifest that its schema cannot express, and the conversion of a
// schema-valid JSON value into a typed Manifest (types.ts).
//
// buildManifest is pure (no file system: the caller passes `isFile`), so it also runs in a
// browser. Checks run in a fixed order — each component on its own, then roles, devices and
// IRQs, DMA and memory, services, start order, capability-space room — and the first failure
// throws a ManifestError naming the field: docs/MANIFEST.md "Errors" lists every message.

import { CSPACE_SLOTS } from '../abi/caps.ts';
import { show, type Path, type SourcePos } from './error.ts';
import { type BoardSpec, UART_REGS, UART_IRQ_SOURCE, TESTDEV_REGS, virtioSlotBase, virtioSlotIrq } from './board.ts';
import { RuleFailer, checkListedOnce, checkComponentName } from './rules-common.ts';
import { checkGrants } from './rules-grants.ts';
import { expectedCapabilities } from './caps.ts';
import {
  MANIFEST_VERSION, type Manifest, type Component, type Role, type Image, type Device, type Sched,
  type RestartPolicy, type Service, type DmaWindow,
} from './types.ts';

export interface RuleOptions {
  /** Image paths are relative to this directory. */
  baseDir: string;
  board: BoardSpec;
  /** Does this file exist? null: do not check images (for a manifest whose images are built later). */
  isFile: ((file: string) => boolean) | null;
}

/** The JSON shapes the schema guarantees (fields it makes optional stay optional). */
interface RawComponent {
  name: string;
  description?: string;
  role?: Role;
  image: string;
  priority: number;
  sched: Sched;
  memoryPages: number;
  devices?: RawDevice[];
  irqs?: number[];
  provides?: { name: string; description?: string; clients?: string[]; grant?: boolean; ring?: boolean; blockDevices?: { client: string; firstSector?: number; sectors?: number; readOnly?: boolean }[]; netDevices?: { client: string; mac: string }[] }[];
  uses?: string[];
  startAfter?: string[];
  forwardsIrqsOf?: string;
  restart?: RestartPolicy;
}
type RawDevice = { kind: 'uart' } | { kind: 'testdev' } | { kind: 'virtio'; slot: number; expect?: 'blk' | 'net'; dma?: { base: number | string; pages: number }[] };
interface RawManifest {
  version: number;
  description?: string;
  components: RawComponent[];
}

/** Convert a value that passed the schema into a Manifest, enforcing every other rule. */
export function buildManifest(value: unknown, positions: Map<string, SourcePos>, opts: RuleOptions): Manifest {
  const raw = value as RawManifest;
  const f: RuleFailer = new RuleFailer(positions);
  const components = raw.components.map((rc, i) => buildComponent(rc, ['components', i], opts, f));

  checkNames(components, f);
  checkRoles(components, f);
  checkGrants(components, opts.board, f);
  checkOrder(components, f);

  const manifest: Manifest = { version: MANIFEST_VERSION, description: raw.description ?? null, components };
  checkCapabilitySpaces(manifest, f);
  return manifest;
}

function buildComponent(rc: RawComponent, at: Path, opts: RuleOptions, f: RuleFailer): Component {
  const role = rc.role ?? 'task';
  const image = buildImage(rc.image, [...at, 'image'], opts, f);
  if (rc.sched.budgetUs > rc.sched.periodUs) {
    f.fail([...at, 'sched', 'budgetUs'], `${rc.sched.budgetUs} is more than the period (${rc.sched.periodUs} us)`);
  }
  const restart: RestartPolicy = rc.restart ?? { policy: 'never' };
  if (restart.policy !== 'never' && restart.backoff.initialMs > restart.backoff.maxMs) {
    f.fail([...at, 'restart', 'backoff', 'initialMs'], `${restart.backoff.initialMs} is more than maxMs (${restart.backoff.maxMs})`);
  }
  const common = {
    name: rc.name,
    description: rc.description ?? null,
    image,
    priority: rc.priority,
    sched: { budgetUs: rc.sched.budgetUs, periodUs: rc.sched.periodUs },
    memoryPages: rc.memoryPages,
  };

  if (role === 'root') {
    for (const field of ['devices', 'irqs', 'provides', 'uses', 'startAfter', 'forwardsIrqsOf'] as const) {
      if ((rc[field]?.length ?? 0) > 0) {
        f.fail([...at, field], 'the root task takes no grants: it creates every capability and hands them out');
      }
    }
    if (restart.policy !== 'never') f.fail([...at, 'restart'], 'the root task cannot be restarted (nothing runs before it)');
    return { ...common, role };
  }

  const grants = {
    devices: (rc.devices ?? []).map((d, j) => buildDevice(d, [...at, 'devices', j], f)),
    irqs: rc.irqs ?? [],
    provides: (rc.provides ?? []).map((s): Service => ({
      name: s.name, description: s.description ?? null, clients: s.clients ?? 'any', grant: s.grant ?? false, ring: s.ring ?? false,
      blockDevices: s.blockDevices === undefined ? null : s.blockDevices.map((b) => ({
        client: b.client, firstSector: b.firstSector ?? 0, sectors: b.sectors ?? null, readOnly: b.readOnly ?? false,
      })),
      netDevices: s.netDevices === undefined ? null : s.netDevices.map((d) => ({ client: d.client, mac: d.mac.toLowerCase() })),
    })),
    uses: rc.uses ?? [],
    startAfter: rc.startAfter ?? [],
    forwardsIrqsOf: rc.forwardsIrqsOf ?? null,
  };
  if (role === 'memory-manager' || role === 'supervisor') {
    if (restart.policy !== 'never') {
      f.fail([...at, 'restart'], role === 'supervisor'
        ? 'the supervisor cannot be restarted (nothing supervises it)'
        : 'the memory manager cannot be restarted (the memory of every component would go with it)');
    }
    return { ...common, ...grants, role, restart }; // restart narrowed to NeverRestart
  }
  return { ...common, ...grants, role, restart };
}

function buildImage(path: string, at: Path, opts: RuleOptions, f: RuleFailer): Image {
  const file = joinPath(opts.baseDir, path);
  if (opts.isFile !== null && !opts.isFile(file)) f.fail(at, `${show(path)} does not exist (looked for ${file})`);
  return path.endsWith('.elf') ? { kind: 'elf', path, file } : { kind: 'assemblyscript', path, file };
}

function buildDevice(d: RawDevice, at: Path, f: RuleFailer): Device {
  if (d.kind === 'uart') return { kind: 'uart', regs: UART_REGS, irq: UART_IRQ_SOURCE };
  if (d.kind === 'testdev') return { kind: 'testdev', regs: TESTDEV_REGS };
  const dma = (d.dma ?? []).map((w, k): DmaWindow => ({
    base: parseAddress(w.base, [...at, 'dma', k, 'base'], f),
    pages: w.pages,
  }));
  return { kind: 'virtio', slot: d.slot, expect: d.expect ?? null, regs: virtioSlotBase(d.slot), irq: virtioSlotIrq(d.slot), dma };
}

/** A schema-valid address (an integer, or a "0x..." string with optional "_") as a number. */
function parseAddress(v: number | string, at: Path, f: RuleFailer): number {
  if (typeof v === 'number') return v;
  const digits = v.slice(2).replace(/_/g, '').replace(/^0+(?=.)/, '');
  if (digits.length > 8) f.fail(at, `${show(v)} does not fit in 32 bits`);
  return parseInt(digits, 16);
}

/** `base` + "/" + `rel`, with "." and ".." steps of `rel` resolved. */
export function joinPath(base: string, rel: string): string {
  const parts = base.replace(/\/+$/, '').split('/');
  for (const step of rel.split('/')) {
    if (step === '' || step === '.') continue;
    if (step === '..' && parts.length > 1 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(step);
  }
  return parts.join('/') || '/';
}

function checkNames(cs: readonly Component[], f: RuleFailer): void {
  const seen = new Map<string, number>();
  cs.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first !== undefined) f.fail(['components', i, 'name'], `${show(c.name)} is already the name of components[${first}]`);
    seen.set(c.name, i);
  });
}

const ROLE_PURPOSE: Record<Exclude<Role, 'task'>, string> = {
  root: 'the first task, which builds the others',
  'memory-manager': 'it pages the other components',
  'name-service': 'it hands out the service endpoints',
  supervisor: 'it restarts the components that fail',
};

function checkRoles(cs: readonly Component[], f: RuleFailer): void {
  const holder = new Map<Role, number>();
  cs.forEach((c, i) => {
    if (c.role === 'task') return;
    const first = holder.get(c.role);
    if (first !== undefined) {
      f.fail(['components', i, 'role'], `there can be only one ${show(c.role)}, and "${cs[first].name}" (components[${first}]) is one already`);
    }
    holder.set(c.role, i);
  });
  for (const role of ['root', 'memory-manager'] as const) {
    if (!holder.has(role)) f.fail(['components'], `no component has role ${show(role)} (${ROLE_PURPOSE[role]}); exactly one is needed`);
  }
  cs.forEach((c, i) => {
    if (c.role === 'root') return;
    if (c.restart.policy !== 'never' && !holder.has('supervisor')) {
      f.fail(['components', i, 'restart'], `policy ${show(c.restart.policy)} needs a supervisor, and no component has role "supervisor"`);
    }
    if (c.uses.length > 0 && !holder.has('name-service')) {
      f.fail(['components', i, 'uses'], 'using a service needs a name service, and no component has role "name-service"');
    }
  });
}

/** Start order: every `startAfter` names a component, and the dependencies have no cycle. */
function checkOrder(cs: readonly Component[], f: RuleFailer): void {
  cs.forEach((c, i) => {
    if (c.role === 'root') return;
    checkListedOnce(c.startAfter, ['components', i, 'startAfter'], f);
    c.startAfter.forEach((n, j) => checkComponentName(n, cs, ['components', i, 'startAfter', j], f));
  });
  // Depth-first search in manifest order; a grey node reached again closes a cycle.
  const index = new Map(cs.map((c, i) => [c.name, i]));
  const state = new Array<0 | 1 | 2>(cs.length).fill(0); // white, grey (on the stack), black
  const stack: number[] = [];
  const visit = (i: number): void => {
    state[i] = 1;
    stack.push(i);
    const c = cs[i];
    for (const n of c.role === 'root' ? [] : c.startAfter) {
      const j = index.get(n)!;
      if (state[j] === 1) {
        const cycle = stack.slice(stack.indexOf(j)).map((k) => cs[k].name);
        const steps = cycle.map((name, k) => `${show(name)} ${k === 0 ? 'starts after' : 'after'} ${show(cycle[(k + 1) % cycle.length])}`);
        f.fail(['components', i, 'startAfter'], `start order has a cycle: ${steps.join(', ')}`);
      }
      if (state[j] === 0) visit(j);
    }
    stack.pop();
    state[i] = 2;
  };
  for (let i = 0; i < cs.length; i++) if (state[i] === 0) visit(i);
}

/**
 * The order in which the root task starts the components (the root task itself excluded):
 * each after everything in its `startAfter`, otherwise in manifest order.
 */
export function startOrder(m: Manifest): string[] {
  const built = m.components.filter((c) => c.role !== 'root');
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < built.length) {
    const next = built.find((c) => !done.has(c.name) && c.startAfter.every((n) => done.has(n) || !built.some((b) => b.name === n)));
    if (next === undefined) throw new Error('startOrder: the manifest has a start-order cycle (it was not validated)');
    done.add(next.name);
    order.push(next.name);
  }
  return order;
}

/** Each component's boot capabilities must fit in its capability space (slot 0 is null). */
function checkCapabilitySpaces(m: Manifest, f: RuleFailer): void {
  const lines = expectedCapabilities(m);
  m.components.forEach((c, i) => {
    const n = lines.filter((l) => l.holder === c.name && l.place === 'cspace').length;
    if (n > CSPACE_SLOTS - 1) {
      f.fail(['components', i], `${show(c.name)} would hold ${n} capabilities at boot, more than the ${CSPACE_SLOTS - 1} its capability space has room for`);
    }
  });
}
