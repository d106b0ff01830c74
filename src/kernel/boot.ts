// Boot: build the root task from the boot image and hand it every resource (docs/KERNEL.md
// "Boot"). Physical memory after boot:
//
//   DRAM base                 kernel page-table pool (L2 tables; root task and thread pages)
//   pool end                  root image frames, stack, BootInfo page, module frames
//   after that                untyped memory, in size-aligned chunks of at most 4 MiB
//
// The root task gets: its task, thread and (unconfigured) scheduling-context capabilities in
// fixed slots; frame capabilities for its image pages and modules (first one 4 KiB frame per
// linear-memory page, mapped only for the ELF's initial memory: BootInfo.LinearFrameFirst); untyped capabilities for all
// remaining DRAM; an IRQ-handler capability for every PLIC source; a DMA-window capability for
// every IOMMU device; an I/O-memory capability for every device register page a driver may
// map (UART, virtio slots, test device). The PLIC, CLINT and IOMMU registers stay the kernel's.
// The root thread starts at the ELF entry with sp = STACK_TOP and a0 = BOOTINFO_BASE.

import { parseElf32 } from '../abi/elf.ts';
import { BootSlot, BootInfo, BOOTINFO_MAGIC, ObjType, Rights, ROOT_CSPACE_SLOTS, PRIO_MAX, RIGHTS_ALL } from '../abi/caps.ts';
import { BOOTINFO_BASE, MODULES_BASE, STACK_TOP, UTCB_BASE } from '../abi/layout.ts';
import { PLIC_SOURCES } from '../machine/plic.ts';
import { IOMMU_DEVICES, IOMMU_WINDOWS } from '../machine/iommu.ts';
import { UART_BASE } from '../machine/uart16550.ts';
import { TESTDEV_BASE } from '../machine/testdev.ts';
import { VIRTIO_MMIO_SLOTS, virtioSlotBase } from '../machine/virtio/mmio.ts';
import { Cap } from './objects/cap.ts';
import { Task } from './objects/task.ts';
import { Thread } from './objects/thread.ts';
import { Frame } from './objects/frame.ts';
import { Untyped } from './objects/untyped.ts';
import { SchedContext } from './objects/schedcontext.ts';
import { IrqHandler } from './objects/irq.ts';
import { DmaWindowObj } from './objects/dma.ts';
import type { Kernel } from './kernel.ts';

/** A boot module: a program (ELF) or data the root task will start or use. */
export interface BootModule {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** What the kernel boots: the root task's ELF32 executable and modules it maps for the root. */
export interface BootImage {
  readonly root: Uint8Array;
  readonly modules?: readonly BootModule[];
  /** Pages of stack mapped below STACK_TOP for the root thread (default 16). */
  readonly stackPages?: number;
  /** Extra zeroed pages of linear memory right after the ELF's linear-memory segment (or from
   *  0 without one): frame capabilities, not mapped (the program's memory.grow maps them).
   *  BootInfo.LinearPages counts them with the ELF's pages, BootInfo.LinearFrameFirst is the
   *  slot of page 0's frame. Default 0. */
  readonly linearPages?: number;
}

export class BootError extends Error {
  constructor(message: string) {
    super(`kernel boot: ${message}`);
  }
}

const CHUNK_PAGES = 1024; // 4 MiB untyped chunks

export function boot(k: Kernel, image: BootImage): { task: Task; thread: Thread } {
  const dram = k.board.dram;
  const pool = k.vm.pool;
  const elf = parseElf32(image.root);
  // Linear memory: the pages the ELF's segments cover contiguously from 0 (its initial
  // memory), then BootImage.linearPages more.
  const segRights = (seg: (typeof elf.segments)[number]): number =>
    (seg.flags.r ? Rights.Read : 0) | (seg.flags.w ? Rights.Write | Rights.Read : 0) | (seg.flags.x ? Rights.Exec : 0);
  const segmentRightsAt = (vpn: number): number => {
    for (const seg of elf.segments) {
      if (vpn >= seg.vaddr >>> 12 && vpn <= (seg.vaddr + Math.max(seg.memsz, 1) - 1) >>> 12) return segRights(seg);
    }
    return -1;
  };
  let initialPages = 0;
  while (segmentRightsAt(initialPages) >= 0) initialPages++;
  const extraPages = image.linearPages ?? 0;
  if (extraPages < 0 || !Number.isInteger(extraPages)) throw new BootError(`bad linearPages ${extraPages}`);
  const linearEnd = initialPages + extraPages;
  let next = pool.base + pool.pages * 4096; // bump allocator for boot frames
  const end = dram.base + dram.size;
  const allocPage = (): number => {
    if (next + 4096 > end) throw new BootError('out of memory for the boot image');
    const pa = next;
    next += 4096;
    return pa;
  };

  const rootPt = pool.alloc();
  const utcb = pool.alloc();
  if (rootPt < 0 || utcb < 0) throw new BootError('page-table pool too small');
  // One slot per linear page on top of ROOT_CSPACE_SLOTS: the root keeps as many for the rest.
  const task = new Task(k.newId(), rootPt, ROOT_CSPACE_SLOTS + linearEnd);
  const thread = new Thread(k.newId(), utcb);
  k.tasks.add(task);
  k.threads.add(thread);
  let slot = BootSlot.FirstFree;
  const put = (c: Cap, at = slot++): void => {
    if (at >= task.cspace.length) throw new BootError('root capability space full');
    k.cspaceInsert(task, at, c);
  };
  put(new Cap(ObjType.Task, task, RIGHTS_ALL, 0), BootSlot.Task);
  put(new Cap(ObjType.Thread, thread, RIGHTS_ALL, 0), BootSlot.Thread);
  put(new Cap(ObjType.SchedContext, new SchedContext(), RIGHTS_ALL, 0), BootSlot.SchedContext);

  // The root thread.
  thread.task = task;
  thread.utcbVa = UTCB_BASE;
  thread.prio = PRIO_MAX;
  thread.mcp = PRIO_MAX;
  thread.configured = true;
  task.threads.push(thread);
  if (!k.vm.mapKernelPage(task, UTCB_BASE >>> 12, utcb)) throw new BootError('page-table pool too small');

  /** Map a fresh frame at `vpn` in the root with `rights`, with a frame capability. */
  const imageFrames: number[] = [];
  const frameAt = new Map<number, number>(); // vpn -> pa
  const mapNew = (vpn: number, rights: number): number => {
    const have = frameAt.get(vpn);
    if (have !== undefined) return have;
    const pa = allocPage();
    const cap = new Cap(ObjType.Frame, new Frame(pa, 1, false), RIGHTS_ALL & ~Rights.Grant, 0);
    put(cap);
    imageFrames.push(cap.slot);
    const node = k.vm.mapPage(task, vpn, pa, rights, null, cap);
    if (node === null) throw new BootError('page-table pool too small');
    cap.maps = [node];
    frameAt.set(vpn, pa);
    return pa;
  };

  const imageFirst = slot;
  // A 4 KiB frame capability for every linear page [0, linearEnd), in consecutive slots at the
  // start of the image-frame range (BootInfo.LinearFrameFirst + page). The initial memory's
  // pages are mapped (and loaded below); the others are zeroed frames left unmapped: the
  // compiled runtime's memory.grow maps them as the memory grows (FrameMap), so that an access
  // past the current size still faults (docs/WASM2RV.md "Memory model").
  for (let vpn = 0; vpn < linearEnd; vpn++) {
    if (vpn < initialPages) {
      mapNew(vpn, segmentRightsAt(vpn));
      continue;
    }
    if (segmentRightsAt(vpn) >= 0) throw new BootError('linear memory overlaps the image');
    const pa = allocPage();
    dram.u8.fill(0, pa - dram.base, pa - dram.base + 4096);
    const cap = new Cap(ObjType.Frame, new Frame(pa, 1, false), RIGHTS_ALL & ~Rights.Grant, 0);
    put(cap);
    cap.maps = [];
    imageFrames.push(cap.slot);
  }
  for (const seg of elf.segments) {
    const first = seg.vaddr >>> 12;
    const last = (seg.vaddr + Math.max(seg.memsz, 1) - 1) >>> 12;
    for (let vpn = first; vpn <= last; vpn++) mapNew(vpn, segRights(seg));
    for (let i = 0; i < seg.data.length; i++) {
      const va = seg.vaddr + i;
      dram.u8[frameAt.get(va >>> 12)! - dram.base + (va & 0xfff)] = seg.data[i];
    }
  }
  const stackPages = image.stackPages ?? 16;
  for (let i = 1; i <= stackPages; i++) mapNew((STACK_TOP >>> 12) - i, Rights.Read | Rights.Write);
  const bootInfoPa = mapNew(BOOTINFO_BASE >>> 12, Rights.Read);
  const imageCount = slot - imageFirst;

  // Modules: copied into frames, mapped read-only one after the other from MODULES_BASE.
  const info: number[] = [];
  const modTable: number[] = [];
  let modVa = MODULES_BASE;
  for (const m of image.modules ?? []) {
    const pages = Math.max(1, Math.ceil(m.bytes.length / 4096));
    const firstSlot = slot;
    for (let p = 0; p < pages; p++) {
      const pa = mapNew((modVa >>> 12) + p, Rights.Read);
      const chunk = m.bytes.subarray(p * 4096, Math.min(m.bytes.length, (p + 1) * 4096));
      dram.u8.set(chunk, pa - dram.base);
    }
    modTable.push(modVa, m.bytes.length, firstSlot, pages);
    modVa += pages * 4096;
  }

  // Untyped: the rest of DRAM, in naturally aligned chunks.
  const untypedFirst = slot;
  const untypedTable: number[] = [];
  let pa = next;
  while (pa < end) {
    let pages = Math.min(CHUNK_PAGES, (end - pa) / 4096);
    // Largest power of two that fits and keeps the chunk aligned to its size.
    let size = 1;
    while (size * 2 <= pages && ((pa - dram.base) / 4096) % (size * 2) === 0) size *= 2;
    pages = size;
    put(new Cap(ObjType.Untyped, new Untyped(pa, pages), Rights.Read | Rights.Write, 0));
    untypedTable.push(pa, pages);
    pa += pages * 4096;
  }
  const untypedCount = slot - untypedFirst;

  // Interrupts, DMA windows, device register pages.
  const irqFirst = slot;
  for (let s = 1; s < PLIC_SOURCES; s++) {
    const h = new IrqHandler(s);
    k.irqs[s] = h;
    put(new Cap(ObjType.IrqHandler, h, RIGHTS_ALL, 0));
  }
  const dmaFirst = slot;
  for (let d = 0; d < IOMMU_DEVICES; d++) {
    const obj = new DmaWindowObj(d, IOMMU_WINDOWS);
    k.dmaObjs[d] = obj;
    put(new Cap(ObjType.DmaWindow, obj, RIGHTS_ALL, 0));
  }
  const ioFirst = slot;
  const ioPages = [UART_BASE, TESTDEV_BASE];
  for (let v = 0; v < VIRTIO_MMIO_SLOTS; v++) ioPages.push(virtioSlotBase(v));
  for (const io of ioPages) put(new Cap(ObjType.IoMem, new Frame(io & ~0xfff, 1, true), Rights.Read | Rights.Write, 0));

  info[BootInfo.Magic] = BOOTINFO_MAGIC;
  info[BootInfo.UntypedFirst] = untypedFirst;
  info[BootInfo.UntypedCount] = untypedCount;
  info[BootInfo.ImageFrameFirst] = imageFirst;
  info[BootInfo.ImageFrameCount] = imageCount;
  info[BootInfo.ModuleCount] = (image.modules ?? []).length;
  info[BootInfo.IrqFirst] = irqFirst;
  info[BootInfo.IrqCount] = PLIC_SOURCES - 1;
  info[BootInfo.DmaFirst] = dmaFirst;
  info[BootInfo.DmaCount] = IOMMU_DEVICES;
  info[BootInfo.IoMemFirst] = ioFirst;
  info[BootInfo.IoMemCount] = ioPages.length;
  info[BootInfo.FirstFreeSlot] = slot;
  for (let i = BootInfo.LinearPages; i < BootInfo.Tables; i++) info[i] = 0;
  info[BootInfo.LinearPages] = linearEnd;
  info[BootInfo.LinearFrameFirst] = imageFirst;
  info.push(...modTable, ...untypedTable, ...ioPages.map((p) => p & ~0xfff));
  if (info.length * 4 > 4096) throw new BootError('BootInfo does not fit in one page');
  for (let i = 0; i < info.length; i++) dram.writeU32(bootInfoPa + 4 * i, info[i] >>> 0);

  thread.pc = elf.entry;
  thread.regs[2] = STACK_TOP;
  thread.regs[10] = BOOTINFO_BASE;
  thread.sliceLeft = 0;
  k.makeReady(thread);
  return { task, thread };
}
