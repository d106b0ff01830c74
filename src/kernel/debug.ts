// Debug names of kernel objects and the live capability distribution (docs/USERLAND.md "Kernel
// debug names"). A task names objects with Method.DebugName (like seL4_DebugNameThread); the
// kernel keeps the name beside the object and uses it only for output: `l4ts boot --caps`
// (capDistribution) and traces. Nothing in the kernel's behaviour depends on a name.

import { Err } from '../abi/errors.ts';
import { ObjType } from '../abi/caps.ts';
import { Utcb } from '../abi/utcb.ts';
import { REG_A2 } from '../abi/sys.ts';
import type { Cap } from './objects/cap.ts';
import type { KObject } from './objects/kobject.ts';
import type { Thread } from './objects/thread.ts';
import type { Kernel } from './kernel.ts';

export const DEBUG_NAME_MAX = 64;

const names = new WeakMap<KObject, string>();

/** The debug name of `obj`, or null. */
export function debugNameOf(obj: KObject): string | null {
  return names.get(obj) ?? null;
}

export function setDebugName(obj: KObject, name: string): void {
  names.set(obj, name);
}

/** Method.DebugName on `cap` for thread `t`: a2 = length, the bytes in t's UTCB from Utcb.Mr. */
export function invokeDebugName(k: Kernel, t: Thread, cap: Cap, x: Int32Array): number {
  const n = x[REG_A2];
  if (n < 0 || n > DEBUG_NAME_MAX) return Err.InvalidArg;
  let s = '';
  for (let i = 0; i < n; i++) {
    const w = k.utcbWord(t, Utcb.Mr + (i & ~3));
    s += String.fromCharCode((w >>> (8 * (i & 3))) & 0xff);
  }
  names.set(cap.obj, s);
  return Err.Ok;
}

/** One capability of the live distribution (the shape of src/manifest/caps.ts CapLine). */
export interface LiveCap {
  holder: string;
  place: 'cspace' | 'pager' | 'exception-handler';
  /** ObjType key ('Endpoint', 'Frame', ...). */
  type: string;
  object: string;
  pages: number | null;
  rights: number;
  badge: number;
  /** Frames retyped from a named untyped (a component's memory quota, `quota:<name>`): where
   *  they came from, read from the derivation tree. Such frames are listed one per capability
   *  (src/manifest/caps.ts aggregateCaps merges them per holder and quota). */
  quota?: QuotaOrigin;
}

/** Where a frame of a quota came from (src/manifest/caps.ts "memory" rules). */
export interface QuotaOrigin {
  /** The debug name of the untyped the frame was retyped from (the root task names the pieces
   *  of a component's quota after the component). */
  untyped: string;
  /** The holders of the capabilities on the derivation path, from the untyped's capability
   *  down to this one, consecutive repeats dropped (an unnamed task is `?`): `[memory]` for
   *  the memory manager's own, `[memory, hello]` for a copy it gave hello. */
  chain: string[];
  /** The frame's physical address (tells frames apart) . */
  pa: number;
}

const TYPE_NAME: Record<number, string> = Object.fromEntries(Object.entries(ObjType).map(([k, v]) => [v, k]));

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** The name of the object a capability points to, as docs/MANIFEST.md "Object names" writes it
 *  (a debug name, else what the kernel knows: a device page's address, an IRQ's source, a DMA
 *  window's device, a frame's address). */
function objectName(cap: Cap): string {
  const n = names.get(cap.obj);
  if (n !== undefined) return n;
  const o = cap.obj;
  switch (o.kind) {
    case 'frame': return hex8(o.pa);
    case 'irq': return String(o.source);
    case 'dma': return String(o.device);
    case 'untyped': return hex8(o.pa);
    default: return `#${'id' in o ? (o as { id: number }).id : '?'}`;
  }
}

/** The quota origin of a frame capability: the nearest Untyped capability above it in the
 *  derivation tree must be one on the very untyped the frame was carved from (`obj.untyped`),
 *  and that untyped must have a debug name; else null (boot-image, device and DMA frames). */
function quotaOrigin(cap: Cap): QuotaOrigin | null {
  const o = cap.obj;
  if (o.kind !== 'frame' || o.device || o.untyped === null) return null;
  const path: Cap[] = [];
  let p: Cap | null = cap;
  for (; p !== null; p = p.parent) {
    path.push(p);
    if (p.type === ObjType.Untyped) break;
  }
  if (p === null || p.obj !== o.untyped) return null;
  const untyped = names.get(p.obj);
  if (untyped === undefined) return null;
  const chain: string[] = [];
  for (let i = path.length - 1; i >= 0; i--) {
    const t = path[i].task;
    const h = (t !== null ? names.get(t) : undefined) ?? '?';
    if (chain[chain.length - 1] !== h) chain.push(h);
  }
  return { untyped, chain, pa: o.pa };
}

function lineOf(holder: string, place: LiveCap['place'], cap: Cap): LiveCap {
  const o = cap.obj;
  let object = objectName(cap);
  let pages: number | null = null;
  if (o.kind === 'untyped') pages = o.pages;
  else if (o.kind === 'frame' && !o.device && !object.startsWith('image:')) pages = o.pages;
  const line: LiveCap = { holder, place, type: TYPE_NAME[cap.type] ?? `Type${cap.type}`, object, pages, rights: cap.rights, badge: cap.badge };
  const q = place === 'cspace' && names.get(o) === undefined ? quotaOrigin(cap) : null;
  if (q !== null) {
    object = `quota:${q.untyped}`;
    line.object = object;
    line.quota = q;
  }
  return line;
}

/**
 * Every capability held by a named task (its capability space) or its threads (pager and
 * exception-handler endpoints), in the form of the expected distribution. Tasks without a debug
 * name (the root task) are left out. Several capabilities that print as one object are merged:
 * the frames of one image (`Frame(image:C)`) appear once, and the untypeds of one quota (same
 * name, rights, badge) once with their pages summed. Frames retyped from a named untyped are
 * listed one by one as `Frame(quota:<name>, <pages> pages)` with their origin (`quota`), for
 * the check of src/manifest/caps.ts (checkCapabilities), which merges them.
 */
export function capDistribution(k: Kernel, skip: (holder: string) => boolean = () => false): LiveCap[] {
  const out: LiveCap[] = [];
  const merged = new Map<string, LiveCap>();
  for (const task of k.tasks) {
    const holder = names.get(task);
    if (holder === undefined || skip(holder)) continue;
    for (const cap of task.cspace) {
      if (cap === null) continue;
      const l = lineOf(holder, 'cspace', cap);
      if (l.type === 'Untyped' || (l.type === 'Frame' && l.object.startsWith('image:'))) {
        const key = `${holder} ${l.type} ${l.object} ${l.rights} ${l.badge}`;
        const m = merged.get(key);
        if (m !== undefined) {
          if (m.pages !== null && l.pages !== null) m.pages += l.pages;
          continue;
        }
        merged.set(key, l);
      }
      out.push(l);
    }
    for (const t of task.threads) {
      if (t.pager !== null) out.push(lineOf(holder, 'pager', t.pager));
      if (t.excHandler !== null) out.push(lineOf(holder, 'exception-handler', t.excHandler));
    }
  }
  return out;
}
