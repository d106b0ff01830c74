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

function lineOf(holder: string, place: LiveCap['place'], cap: Cap): LiveCap {
  const o = cap.obj;
  const object = objectName(cap);
  let pages: number | null = null;
  if (o.kind === 'untyped') pages = o.pages;
  else if (o.kind === 'frame' && !o.device && !object.startsWith('image:')) pages = o.pages;
  return { holder, place, type: TYPE_NAME[cap.type] ?? `Type${cap.type}`, object, pages, rights: cap.rights, badge: cap.badge };
}

/**
 * Every capability held by a named task (its capability space) or its threads (pager and
 * exception-handler endpoints), in the form of the expected distribution. Tasks without a debug
 * name (the root task) are left out. Several capabilities that print as one object are merged:
 * the frames of one image (`Frame(image:C)`) appear once, and the untypeds of one quota (same
 * name, rights, badge) once with their pages summed.
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
