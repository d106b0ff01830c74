// Address spaces: Sv32 page tables in DRAM (RISC-V privileged spec §10.3) and the mapping
// database.
//
// Every user page mapping is a MapNode. A node made by FrameMap is a root: its `source` is the
// frame capability. A node made by mapping a page on (TaskMap or an IPC map item) is a child of
// the node it was mapped from, with rights at most the parent's. Removing a node removes its
// whole subtree, in every address space, so that unmap and capability revocation reach every
// derived mapping (L4's recursive unmap). UTCB pages are mapped by the kernel outside the
// database and cannot be replaced or unmapped by users.
//
// The kernel writes the PTEs itself with A and D already set (the hart sets them in hardware
// anyway) and the U bit always set; rights are Rights.Read/Write/Exec shifted into R/W/X.

import type { Dram } from '../machine/memory.ts';
import type { Hart } from '../machine/hart.ts';
import { PTE_A, PTE_D, PTE_U, PTE_V, PTE_R, PTE_W } from '../machine/sv32.ts';
import { Rights } from '../abi/caps.ts';
import type { Task } from './objects/task.ts';
import type { Cap } from './objects/cap.ts';

export class MapNode {
  parent: MapNode | null = null;
  firstChild: MapNode | null = null;
  nextSib: MapNode | null = null;
  prevSib: MapNode | null = null;
  constructor(
    readonly task: Task,
    readonly vpn: number,
    /** Physical address of the page. */
    readonly pa: number,
    readonly rights: number,
    /** The frame capability of a root node; null for derived nodes. */
    public source: Cap | null,
  ) {}
}

/** Pages of DRAM the kernel keeps for L2 page tables (and the boot task's objects). */
export class PagePool {
  private readonly free: number[] = [];
  constructor(private readonly dram: Dram, readonly base: number, readonly pages: number) {
    for (let i = pages - 1; i >= 0; i--) this.free.push(base + i * 4096);
  }
  get available(): number {
    return this.free.length;
  }
  /** A zeroed page's physical address, or -1 when the pool is empty. */
  alloc(): number {
    const pa = this.free.pop();
    if (pa === undefined) return -1;
    const off = pa - this.dram.base;
    this.dram.u8.fill(0, off, off + 4096);
    return pa;
  }
  release(pa: number): void {
    this.free.push(pa);
  }
  contains(pa: number): boolean {
    return pa >= this.base && pa < this.base + this.pages * 4096;
  }
}

/** Rights -> PTE bits. A mapping with Write but not Read is reduced to none of the two (W
 * without R is a reserved PTE encoding). */
export function pteRights(rights: number): number {
  let r = rights & (Rights.Read | Rights.Write | Rights.Exec);
  if ((r & Rights.Write) !== 0 && (r & Rights.Read) === 0) r &= ~Rights.Write;
  return r << 1;
}

export class Vm {
  /** The task whose page tables the hart uses now (a change to it flushes the TLB). */
  active: Task | null = null;
  /** Pages mapped and unmapped since boot (statistics). */
  mapped = 0;
  /** L2 tables currently charged to untyped memory (not from the pool). */
  l2Charged = 0;
  unmapped = 0;
  /** Called for each mapping removed (trace). */
  onUnmap: ((node: MapNode) => void) | null = null;

  constructor(readonly dram: Dram, readonly hart: Hart, readonly pool: PagePool) {}

  /** Write the leaf PTE for `vpn` in `task` (0 clears it). Returns false if an L2 table was
   * needed and the pool is empty. */
  setPte(task: Task, vpn: number, pte: number): boolean {
    const i1 = vpn >>> 10;
    let l2 = task.l2[i1];
    if (l2 === 0) {
      if (pte === 0) return true;
      l2 = this.allocL2(task);
      if (l2 < 0) return false;
      task.l2[i1] = l2;
      this.dram.writeU32(task.root + i1 * 4, (((l2 >>> 12) << 10) | PTE_V) >>> 0);
    }
    this.dram.writeU32(l2 + (vpn & 0x3ff) * 4, pte >>> 0);
    if (pte === 0 && task === this.active) this.hart.flushTlb();
    return true;
  }

  /**
   * A zeroed page for an L2 table of `task` (docs/KERNEL.md "Page-table accounting"): a task
   * made by retype pays with the untyped memory it was carved from (its creator's), like
   * seL4's page-table objects but implicit; the tasks made at boot use the kernel pool.
   * Returns -1 when that memory is exhausted.
   */
  private allocL2(task: Task): number {
    const u = task.untyped;
    if (u === null) return this.pool.alloc();
    if (!u.alive) return -1;
    const start = Math.ceil(u.watermark / 4096) * 4096;
    if (start + 4096 > u.pages * 4096) return -1;
    u.watermark = start + 4096;
    u.live++;
    const pa = u.pa + start;
    const off = pa - this.dram.base;
    this.dram.u8.fill(0, off, off + 4096);
    this.l2Charged++;
    return pa;
  }

  private freeL2(task: Task, pa: number): void {
    if (this.pool.contains(pa)) this.pool.release(pa);
    else if (task.untyped !== null) { task.untyped.live--; this.l2Charged--; }
  }

  /** L2 tables a mapping of `pages` pages at `vpn` in `task` would need to allocate. */
  l2Needed(task: Task, vpn: number, pages: number): number {
    let n = 0;
    for (let i1 = vpn >>> 10; i1 <= (vpn + pages - 1) >>> 10 && i1 < 1024; i1++) if (task.l2[i1] === 0) n++;
    return n;
  }

  /** Can `n` more L2 tables be allocated for `task`? */
  canAllocL2(task: Task, n: number): boolean {
    if (n === 0) return true;
    const u = task.untyped;
    if (u === null) return this.pool.available >= n;
    return u.alive && Math.ceil(u.watermark / 4096) * 4096 + n * 4096 <= u.pages * 4096;
  }

  /** The leaf PTE of `vpn` in `task`, or 0. */
  getPte(task: Task, vpn: number): number {
    const l2 = task.l2[vpn >>> 10];
    return l2 === 0 ? 0 : this.dram.readU32(l2 + (vpn & 0x3ff) * 4);
  }

  /** Map the page at `pa` at `vpn` in `task`, replacing (and recursively removing) whatever
   * user mapping was there. Returns the node, or null if out of page-table memory or rights are
   * empty. The caller has checked that `vpn` is a user page and not a UTCB. */
  mapPage(task: Task, vpn: number, pa: number, rights: number, parent: MapNode | null, source: Cap | null): MapNode | null {
    const pr = pteRights(rights);
    if (pr === 0) return null;
    const old = task.maps.get(vpn);
    if (old !== undefined) this.removeTree(old);
    const node = new MapNode(task, vpn, pa, pr >>> 1, source);
    if (!this.setPte(task, vpn, ((pa >>> 12) << 10) | pr | PTE_V | PTE_U | PTE_A | PTE_D)) return null;
    if (parent !== null) {
      node.parent = parent;
      node.nextSib = parent.firstChild;
      if (parent.firstChild !== null) parent.firstChild.prevSib = node;
      parent.firstChild = node;
    }
    task.maps.set(vpn, node);
    this.mapped++;
    return node;
  }

  /** Map a kernel-owned page (a UTCB) read-write at `vpn`. */
  mapKernelPage(task: Task, vpn: number, pa: number): boolean {
    const old = task.maps.get(vpn);
    if (old !== undefined) this.removeTree(old);
    if (!this.setPte(task, vpn, ((pa >>> 12) << 10) | PTE_R | PTE_W | PTE_V | PTE_U | PTE_A | PTE_D)) return false;
    task.utcbs.set(vpn, pa);
    return true;
  }

  unmapKernelPage(task: Task, vpn: number): void {
    if (!task.utcbs.delete(vpn)) return;
    this.setPte(task, vpn, 0);
  }

  /** Remove every mapping derived from `node` (not `node` itself). */
  removeChildren(node: MapNode): void {
    let c = node.firstChild;
    while (c !== null) {
      const next = c.nextSib;
      this.removeTree(c);
      c = next;
    }
  }

  /** Remove `node` and every mapping derived from it. */
  removeTree(node: MapNode): void {
    this.removeChildren(node);
    const p = node.parent;
    if (node.prevSib !== null) node.prevSib.nextSib = node.nextSib;
    else if (p !== null) p.firstChild = node.nextSib;
    if (node.nextSib !== null) node.nextSib.prevSib = node.prevSib;
    node.parent = node.nextSib = node.prevSib = null;
    if (node.task.maps.get(node.vpn) === node) {
      node.task.maps.delete(node.vpn);
      this.setPte(node.task, node.vpn, 0);
    }
    if (node.source !== null && node.source.maps !== null) {
      const list = node.source.maps;
      const i = list.indexOf(node);
      if (i >= 0) list.splice(i, 1);
    }
    node.source = null;
    this.unmapped++;
    if (this.onUnmap !== null) this.onUnmap(node);
  }

  /** Grant: move `node` to (`dst`, `dstVpn`) with rights reduced; its children stay derived
   * from it. The source loses the page. Returns the new node or null (no memory). */
  grantPage(node: MapNode, dst: Task, dstVpn: number, rights: number): MapNode | null {
    const pr = pteRights(rights & node.rights);
    if (pr === 0) return null;
    const old = dst.maps.get(dstVpn);
    if (old !== undefined && old !== node) this.removeTree(old);
    const moved = new MapNode(dst, dstVpn, node.pa, pr >>> 1, node.source);
    if (!this.setPte(dst, dstVpn, ((node.pa >>> 12) << 10) | pr | PTE_V | PTE_U | PTE_A | PTE_D)) return null;
    // Take node's place in the tree.
    moved.parent = node.parent;
    moved.prevSib = node.prevSib;
    moved.nextSib = node.nextSib;
    moved.firstChild = node.firstChild;
    if (node.prevSib !== null) node.prevSib.nextSib = moved;
    else if (node.parent !== null) node.parent.firstChild = moved;
    if (node.nextSib !== null) node.nextSib.prevSib = moved;
    for (let c = node.firstChild; c !== null; c = c.nextSib) c.parent = moved;
    if (node.source !== null && node.source.maps !== null) {
      const list = node.source.maps;
      list[list.indexOf(node)] = moved;
    }
    node.parent = node.firstChild = node.nextSib = node.prevSib = null;
    node.source = null;
    if (node.task.maps.get(node.vpn) === node) {
      node.task.maps.delete(node.vpn);
      this.setPte(node.task, node.vpn, 0);
    }
    dst.maps.set(dstVpn, moved);
    this.mapped++;
    return moved;
  }

  /** Is `a` equal to `b` or an ancestor of it? */
  static isAncestorOrSelf(a: MapNode, b: MapNode): boolean {
    for (let n: MapNode | null = b; n !== null; n = n.parent) if (n === a) return true;
    return false;
  }

  /** Tear down a task's address space: every mapping (and all derived from them), every UTCB
   * mapping, every L2 table back to the pool. */
  destroySpace(task: Task): void {
    for (const node of [...task.maps.values()]) if (node.task.maps.get(node.vpn) === node) this.removeTree(node);
    for (const vpn of [...task.utcbs.keys()]) this.unmapKernelPage(task, vpn);
    for (let i = 0; i < 1024; i++) {
      const l2 = task.l2[i];
      if (l2 !== 0) {
        this.freeL2(task, l2);
        task.l2[i] = 0;
        this.dram.writeU32(task.root + i * 4, 0);
      }
    }
    if (task === this.active) this.hart.flushTlb();
  }
}
