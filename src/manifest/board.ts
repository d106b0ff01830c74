// What the manifest checks devices, IRQs and memory against: a description of the board.
//
// The defaults are the board of src/machine (docs/MACHINE.md): DRAM at 0x8000_0000 (128 MiB),
// the 16550 UART at 0x1000_0000 on IRQ 10, the test device at 0x0010_0000 (no IRQ), virtio-mmio
// slots n = 0..7 at 0x1000_1000 + n·0x1000 on IRQ 1+n, each slot also IOMMU device n. A front end that builds a different board (more
// DRAM, devices in some slots) describes it with `boardSpec`.

import { DRAM_BASE, DEFAULT_DRAM_SIZE } from '../machine/memory.ts';
import { UART_BASE, UART_IRQ } from '../machine/uart16550.ts';
import { TESTDEV_BASE } from '../machine/testdev.ts';
import { VIRTIO_MMIO_SLOTS, virtioSlotBase, virtioSlotIrq } from '../machine/virtio/mmio.ts';
import { PAGE_SIZE } from '../abi/layout.ts';

export type VirtioKind = 'blk' | 'net';

export interface BoardSpec {
  dramBase: number;
  /** DRAM size in bytes, a multiple of the page size. */
  dramSize: number;
  /** Pages at the bottom of DRAM that the manifest cannot hand out: the kernel's page-table
   *  pool, then the root task's image, stack and BootInfo and the boot modules
   *  (src/kernel/boot.ts). DMA windows must lie above. Default: reservedPagesFor(dramSize). */
  reservedPages: number;
  /** Number of virtio-mmio slots. */
  virtioSlots: number;
  /** What each slot holds (null = empty), or null when unknown: then any slot < virtioSlots
   *  is accepted and an `expect` in the manifest is not checked. */
  virtio: readonly (VirtioKind | null)[] | null;
}

/** What the boot image and modules may take after the kernel's pool: 4 MiB. */
export const BOOT_IMAGE_ALLOWANCE_PAGES = 1024;

/** The kernel's page-table pool (max(256, DRAM/32) pages, src/kernel/kernel.ts) plus
 *  BOOT_IMAGE_ALLOWANCE_PAGES: 2048 pages (8 MiB) on the default 128 MiB board. */
export function reservedPagesFor(dramSize: number): number {
  return Math.max(256, Math.floor(dramSize / PAGE_SIZE / 32)) + BOOT_IMAGE_ALLOWANCE_PAGES;
}

export const DEFAULT_BOARD: BoardSpec = Object.freeze({
  dramBase: DRAM_BASE,
  dramSize: DEFAULT_DRAM_SIZE,
  reservedPages: reservedPagesFor(DEFAULT_DRAM_SIZE),
  virtioSlots: VIRTIO_MMIO_SLOTS,
  virtio: null,
});

/** The default board with some fields replaced; reservedPages follows dramSize unless given. */
export function boardSpec(over: Partial<BoardSpec> = {}): BoardSpec {
  const dramSize = over.dramSize ?? DEFAULT_BOARD.dramSize;
  return { ...DEFAULT_BOARD, reservedPages: reservedPagesFor(dramSize), ...over };
}

export function dramPages(board: BoardSpec): number {
  return Math.floor(board.dramSize / PAGE_SIZE);
}

export const UART_REGS = UART_BASE;
export const UART_IRQ_SOURCE = UART_IRQ;
export const TESTDEV_REGS = TESTDEV_BASE;
export { virtioSlotBase, virtioSlotIrq };

/** The device wired to PLIC source `irq` on `board`, as a manifest device, or null. */
export function deviceOfIrq(board: BoardSpec, irq: number): { kind: 'uart' } | { kind: 'virtio'; slot: number } | null {
  if (irq === UART_IRQ) return { kind: 'uart' };
  for (let slot = 0; slot < board.virtioSlots; slot++) if (virtioSlotIrq(slot) === irq) return { kind: 'virtio', slot };
  return null;
}

/** "uart: 10, virtio slots 0..7: 1..8" — the IRQs of `board`, for messages. */
export function describeIrqs(board: BoardSpec): string {
  const n = board.virtioSlots;
  if (n === 0) return `uart: ${UART_IRQ}`;
  return `uart: ${UART_IRQ}, virtio slots 0..${n - 1}: ${virtioSlotIrq(0)}..${virtioSlotIrq(n - 1)}`;
}

/** `0x8000_0000` style, as docs/MACHINE.md writes addresses. */
export function hex(n: number): string {
  let h = n.toString(16).padStart(8, '0');
  let out = '';
  while (h.length > 4) {
    out = `_${h.slice(-4)}${out}`;
    h = h.slice(0, -4);
  }
  return `0x${h}${out}`;
}
