// A task: an address space (Sv32 page tables in DRAM plus the mapping-database nodes of its
// pages) and a flat capability space. The root page table is the task object's own page; L2
// tables come from the kernel page-table pool (vm.ts).

import { KObjectBase } from './kobject.ts';
import type { Cap } from './cap.ts';
import type { MapNode } from '../vm.ts';

export class Task extends KObjectBase {
  readonly kind = 'task' as const;
  readonly cspace: (Cap | null)[];
  /** Physical address of each L2 page table by VPN[1], or 0. */
  readonly l2 = new Float64Array(1024);
  /** Mapping-database node of each mapped user page, by virtual page number. */
  readonly maps = new Map<number, MapNode>();
  /** UTCB pages the kernel mapped (not in the mapping database): vpn -> physical address. */
  readonly utcbs = new Map<number, number>();
  readonly satp: number;
  readonly threads: import("./thread.ts").Thread[] = [];

  constructor(
    readonly id: number,
    /** Physical address of the root page table. */
    readonly root: number,
    slots: number,
  ) {
    super();
    this.cspace = new Array<Cap | null>(slots).fill(null);
    this.satp = (0x8000_0000 | (root >>> 12)) | 0;
  }
}
