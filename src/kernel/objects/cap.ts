// Capabilities and the capability derivation tree (CDT).
//
// A capability is a TypeScript object held in one slot of one task's flat capability space
// (an array of slots, slot 0 always empty). It is pre-decoded: it points straight at its kernel
// object, so an IPC looks up `task.cspace[slot]` and checks `type` and `rights`, nothing else.
// Every capability but the originals (made by boot or retype) has a parent; the tree is kept
// as intrusive first-child / sibling links so that no operation allocates.

import type { KObject } from './kobject.ts';
import type { Task } from './task.ts';
import type { MapNode } from '../vm.ts';

export class Cap {
  /** Where the capability lives (set by cspaceInsert, cleared by removal). */
  task: Task | null = null;
  slot = 0;
  parent: Cap | null = null;
  firstChild: Cap | null = null;
  nextSib: Cap | null = null;
  prevSib: Cap | null = null;
  /** Frame capabilities: the root mappings made with FrameMap (mapping database roots). */
  maps: MapNode[] | null = null;
  /** Frame capabilities: DMA windows opened on this frame (closed when the cap goes). */
  dma: { device: number; window: number }[] | null = null;

  constructor(
    readonly type: number,
    readonly obj: KObject,
    public rights: number,
    public badge: number,
  ) {}

  /** Link `this` (unlinked) as the last child of `parent`... first child, O(1). */
  linkUnder(parent: Cap | null): void {
    this.parent = parent;
    if (parent === null) return;
    const f = parent.firstChild;
    this.nextSib = f;
    this.prevSib = null;
    if (f !== null) f.prevSib = this;
    parent.firstChild = this;
  }

  /** Take `this` out of its parent's child list; its children are re-parented to its parent. */
  unlinkFromTree(): void {
    const p = this.parent;
    // Children move up one level, keeping their derivation from the grandparent.
    let c = this.firstChild;
    while (c !== null) {
      const next = c.nextSib;
      c.parent = null;
      c.nextSib = c.prevSib = null;
      c.linkUnder(p);
      c = next;
    }
    this.firstChild = null;
    if (this.prevSib !== null) this.prevSib.nextSib = this.nextSib;
    else if (p !== null) p.firstChild = this.nextSib;
    if (this.nextSib !== null) this.nextSib.prevSib = this.prevSib;
    this.parent = this.nextSib = this.prevSib = null;
  }

  /** Replace `this` by `other` (an unlinked capability) at the same place in the tree. */
  replaceInTree(other: Cap): void {
    other.parent = this.parent;
    other.prevSib = this.prevSib;
    other.nextSib = this.nextSib;
    other.firstChild = this.firstChild;
    if (this.prevSib !== null) this.prevSib.nextSib = other;
    else if (this.parent !== null) this.parent.firstChild = other;
    if (this.nextSib !== null) this.nextSib.prevSib = other;
    for (let c = this.firstChild; c !== null; c = c.nextSib) c.parent = other;
    this.parent = this.firstChild = this.nextSib = this.prevSib = null;
  }
}
