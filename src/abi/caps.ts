// Capability rights, object types and the root task's boot capability slots
// (docs/ABI.md "Capabilities").

/** Rights bits. Memory capabilities use Read/Write/Exec; endpoints use Read (receive),
 *  Write (send) and Grant (transfer capabilities); notifications Read (wait) and Write
 *  (signal); other objects need Write to be changed. */
export const Rights = {
  Read: 1,
  Write: 2,
  Exec: 4,
  Grant: 8,
} as const;
export const RIGHTS_ALL = 0xf;

/** Object types (CapIdentify, UntypedRetype). 0 is "empty slot". */
export const ObjType = {
  Untyped: 1,
  Task: 2,
  Thread: 3,
  Endpoint: 4,
  Notification: 5,
  Frame: 6,
  /** A device register page: a Frame that maps device memory, never retyped. */
  IoMem: 7,
  IrqHandler: 8,
  DmaWindow: 9,
  SchedContext: 10,
  /** The one-shot reply right (the implicit per-thread reply slot; see docs/KERNEL.md). */
  Reply: 11,
} as const;
export type ObjTypeNumber = (typeof ObjType)[keyof typeof ObjType];

/** Largest frame: 2^10 pages (4 MiB). Largest untyped: 2^15 pages (128 MiB). */
export const FRAME_MAX_SIZE_BITS = 10;
export const UNTYPED_MAX_SIZE_BITS = 15;

/** Slots of the root task's capability space at boot (BootInfo gives the ranges). */
export const BootSlot = {
  /** Slot 0 is never valid: a zero cptr means "none". */
  Null: 0,
  Task: 1,
  Thread: 2,
  /** The root thread's scheduling context. */
  SchedContext: 3,
  /** First of the dynamic ranges (frames of the root image, modules, untyped, devices). */
  FirstFree: 16,
} as const;

/** The fixed slots of every component's capability space (the root task starts components
 *  with these filled as its manifest says; the root task itself has Task/Thread/SchedContext). */
export const CompSlot = {
  Null: 0,
  Task: 1,
  Thread: 2,
  SchedContext: 3,
  /** Endpoint of the memory manager, badged per component (memory.grow, shared memory). */
  Memory: 4,
  /** Endpoint of the name service, badged per component. */
  Names: 5,
  /** Endpoint of the supervisor (heartbeats), badged per component. */
  Supervisor: 6,
  /** First slot free for the component's own use and for capabilities it receives. */
  FirstFree: 16,
} as const;

/** Capability-space size of the root task; other tasks get CSPACE_SLOTS. */
export const ROOT_CSPACE_SLOTS = 4096;
export const CSPACE_SLOTS = 256;

/** Highest priority; the root thread starts at it with mcp = PRIO_MAX. */
export const PRIO_MAX = 255;

/** BootInfo page (at BOOTINFO_BASE in the root task), word offsets. Each range is
 *  (first slot, count). */
export const BootInfo = {
  Magic: 0, // 0x4c345453 "L4TS"
  UntypedFirst: 1,
  UntypedCount: 2,
  ImageFrameFirst: 3,
  ImageFrameCount: 4,
  ModuleCount: 5,
  IrqFirst: 6, // IRQ handler for PLIC source s is at IrqFirst + s - 1
  IrqCount: 7,
  DmaFirst: 8, // DMA window capability of IOMMU device d at DmaFirst + d
  DmaCount: 9,
  IoMemFirst: 10,
  IoMemCount: 11,
  FirstFreeSlot: 12,
  /** Pages of linear memory the root task has from virtual address 0 (its ELF's memory plus
   *  BootImage.linearPages); memory.grow needs no memory manager below it. Only the ELF's
   *  pages are mapped at boot: the compiled runtime's memory.grow maps the others itself. */
  LinearPages: 13,
  /** Slot of the frame capability of linear page 0: page p (p < LinearPages, one 4 KiB frame
   *  each) is at LinearFrameFirst + p (the first LinearPages slots of the image-frame range). */
  LinearFrameFirst: 14,
  /** From word 16: per module 4 words: vaddr, size in bytes, first frame slot, frame count.
   *  Per untyped (after the modules): 2 words: physical base, size in pages. Per I/O page
   *  (after the untypeds): 1 word: physical address. */
  Tables: 16,
} as const;
export const BOOTINFO_MAGIC = 0x4c345453;
