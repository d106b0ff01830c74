// Capability-space operations: copy, mint, move, delete, revoke (docs/KERNEL.md
// "Capabilities"). Each checks everything first and changes state only when it will succeed.

import { Err } from '../abi/errors.ts';
import { ObjType } from '../abi/caps.ts';
import * as K from './cost.ts';
import { Cap } from './objects/cap.ts';
import type { Task } from './objects/task.ts';
import type { Kernel } from './kernel.ts';

/** Is `slot` a usable slot number of `task`? */
function validSlot(task: Task, slot: number): boolean {
  return slot > 0 && slot < task.cspace.length;
}

/** Copy the capability in `srcSlot` of `src` into the empty `dstSlot` of `dst`, as a child in
 * the derivation tree, with rights reduced to `rights` and, when `badge` is not null, a badge
 * (only on an unbadged endpoint or notification capability). */
export function capDerive(k: Kernel, src: Task, srcSlot: number, dst: Task, dstSlot: number, rights: number, badge: number | null): number {
  if (!validSlot(src, srcSlot) || !validSlot(dst, dstSlot)) return Err.InvalidSlot;
  const s = src.cspace[srcSlot];
  if (s === null) return Err.EmptySlot;
  if (dst.cspace[dstSlot] !== null) return Err.SlotOccupied;
  if (badge !== null) {
    if (s.type !== ObjType.Endpoint && s.type !== ObjType.Notification) return Err.WrongType;
    if (s.badge !== 0) return Err.IllegalState;
  }
  const c = new Cap(s.type, s.obj, s.rights & rights, badge ?? s.badge);
  c.linkUnder(s);
  k.cspaceInsert(dst, dstSlot, c);
  k.board.clock.cycles += K.COST_CAP_OP;
  return Err.Ok;
}

/** Move the capability in `srcSlot` of `src` to the empty `dstSlot` of `dst`. Its place in the
 * derivation tree (and its mappings, DMA windows) go with it. */
export function capMove(k: Kernel, src: Task, srcSlot: number, dst: Task, dstSlot: number): number {
  if (!validSlot(src, srcSlot) || !validSlot(dst, dstSlot)) return Err.InvalidSlot;
  const c = src.cspace[srcSlot];
  if (c === null) return Err.EmptySlot;
  if (src === dst && srcSlot === dstSlot) return Err.Ok;
  if (dst.cspace[dstSlot] !== null) return Err.SlotOccupied;
  src.cspace[srcSlot] = null;
  dst.cspace[dstSlot] = c;
  c.task = dst;
  c.slot = dstSlot;
  k.board.clock.cycles += K.COST_CAP_OP;
  return Err.Ok;
}

/** Delete `cap` from its slot: its children move up to its parent, its mappings and DMA
 * windows go, and the object dies with its last capability. */
export function capDelete(k: Kernel, cap: Cap): void {
  if (cap.task !== null) {
    if (cap.task.cspace[cap.slot] === cap) cap.task.cspace[cap.slot] = null;
    cap.task = null;
  }
  cap.unlinkFromTree();
  releaseCapResources(k, cap);
  k.board.clock.cycles += K.COST_CAP_OP;
  cap.obj.refs--;
  if (cap.obj.refs <= 0) k.destroyObject(cap.obj);
}

/** Drop a capability the kernel holds on a thread's or IRQ's behalf (never in a slot). */
export function capDropKernel(k: Kernel, cap: Cap): void {
  cap.obj.refs--;
  if (cap.obj.refs <= 0) k.destroyObject(cap.obj);
}

/** A kernel-held copy of `cap` (a thread's pager or exception handler, an IRQ's notification). */
export function capKernelCopy(cap: Cap): Cap {
  const c = new Cap(cap.type, cap.obj, cap.rights, cap.badge);
  cap.obj.refs++;
  return c;
}

function releaseCapResources(k: Kernel, cap: Cap): void {
  if (cap.maps !== null) {
    while (cap.maps.length > 0) k.vm.removeTree(cap.maps[cap.maps.length - 1]);
    cap.maps = null;
  }
  if (cap.dma !== null) {
    for (const d of [...cap.dma]) {
      const obj = k.dmaObjs[d.device];
      if (obj !== undefined) k.dmaClose(d.device, d.window, obj);
    }
    cap.dma = null;
  }
}

/** Delete every capability derived from `cap` (not `cap` itself). Untyped memory whose objects
 * are all gone is then free for retyping again. */
export function capRevoke(k: Kernel, cap: Cap): void {
  while (cap.firstChild !== null) {
    // Delete the deepest descendant first so that nothing is re-parented needlessly.
    let c: Cap = cap.firstChild;
    while (c.firstChild !== null) c = c.firstChild;
    capDelete(k, c);
  }
  if (cap.type === ObjType.Untyped) {
    const u = cap.obj as import('./objects/untyped.ts').Untyped;
    if (u.live === 0) u.watermark = 0;
  }
}
