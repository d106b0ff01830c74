// The board's IOMMU: confines each device's DMA to windows of DRAM.
//
// Not a real IOMMU design (no page tables, no address translation): a per-device table of
// physical windows {base, size, read, write}, checked on every DMA access (dma.ts). Two modes:
//   bypass  — reset state: any access that lies in DRAM is allowed, so bare-metal programs that
//             know nothing of the IOMMU work unchanged;
//   enforce — an access is allowed only when it lies wholly inside one window of its device that
//             grants the access; an empty table refuses everything.
// In both modes an access outside DRAM is refused. Every refusal is a fault: it is appended to a
// TS-side history (`faults()`, `onFault`) and to a register-visible queue the kernel pops.
//
// Register interface (window IOMMU_SIZE at IOMMU_BASE, 32-bit accesses only; narrower accesses
// read 0 and are ignored). docs/MACHINE-DEVICES.md has the same table.
//   +0x000 MODE           RW  0 = bypass, 1 = enforce (other values: bit 0 is taken)
//   +0x004 INFO           R   bits 7:0 = devices (8), bits 15:8 = windows per device (8)
//   +0x008 IRQ_ENABLE     RW  bit 0: raise the IOMMU's PLIC line while FAULT_COUNT != 0
//   +0x010 FAULT_COUNT    R   faults queued and not yet popped (0..FAULT_QUEUE_DEPTH)
//   +0x014 FAULT_DEV      R   oldest queued fault: device id      (0 when the queue is empty)
//   +0x018 FAULT_ADDR     R   oldest queued fault: address bits 31:0
//   +0x01c FAULT_ADDR_HI  R   oldest queued fault: address bits 63:32
//   +0x020 FAULT_LEN      R   oldest queued fault: length in bytes
//   +0x024 FAULT_ACCESS   R   oldest queued fault: 0 = read, 1 = write
//   +0x028 FAULT_POP      W   any write drops the oldest queued fault
//   +0x02c FAULT_LOST     R/W faults not queued because the queue was full; any write clears
//   +0x100 + d·0x80 + w·0x10 + 0x0  WIN_BASE   RW  window w of device d: physical base
//                                 + 0x4  WIN_SIZE   RW  size in bytes
//                                 + 0x8  WIN_FLAGS  RW  bit 0 = device may read memory,
//                                                       bit 1 = device may write memory
// A window is in force when FLAGS != 0, SIZE != 0 and [BASE, BASE+SIZE) lies in DRAM. FLAGS is
// WARL: a write that would put an invalid window in force stores 0, and a BASE/SIZE write that
// makes a window in force invalid clears its FLAGS. Program a window as FLAGS=0, BASE, SIZE,
// FLAGS, and read FLAGS back to confirm it took.

import type { MmioDevice } from './bus.ts';
import type { IrqLine } from './irq.ts';
import { DRAM_BASE, type Dram } from './memory.ts';
import { type DmaAccess, type DmaGuard, DmaPort } from './dma.ts';

export const IOMMU_BASE = 0x1010_0000;
export const IOMMU_SIZE = 0x1000;
export const IOMMU_DEVICES = 8;
export const IOMMU_WINDOWS = 8;
/** Faults the register queue holds before counting further ones in FAULT_LOST. */
export const IOMMU_FAULT_QUEUE_DEPTH = 16;
/** Faults the TS-side history keeps (the oldest are dropped beyond this). */
export const IOMMU_FAULT_HISTORY = 1024;

export const IOMMU_REG = {
  MODE: 0x000,
  INFO: 0x004,
  IRQ_ENABLE: 0x008,
  FAULT_COUNT: 0x010,
  FAULT_DEV: 0x014,
  FAULT_ADDR: 0x018,
  FAULT_ADDR_HI: 0x01c,
  FAULT_LEN: 0x020,
  FAULT_ACCESS: 0x024,
  FAULT_POP: 0x028,
  FAULT_LOST: 0x02c,
  WINDOWS: 0x100,
  DEVICE_STRIDE: 0x80,
  WINDOW_STRIDE: 0x10,
} as const;

export const IOMMU_WIN_READ = 1;
export const IOMMU_WIN_WRITE = 2;

export type IommuMode = 'bypass' | 'enforce';

export interface DmaWindow {
  readonly base: number;
  readonly size: number;
  readonly read: boolean;
  readonly write: boolean;
}

export interface DmaFaultRecord {
  readonly device: number;
  readonly addr: number;
  readonly len: number;
  readonly access: DmaAccess;
}

/** Raw register contents of one window slot. */
interface WindowRegs {
  base: number;
  size: number;
  flags: number;
}

const TWO32 = 0x1_0000_0000;

export class Iommu implements MmioDevice, DmaGuard {
  readonly name = 'iommu';
  /** Called for every fault, after it has been recorded. */
  onFault: ((fault: DmaFaultRecord) => void) | null = null;
  private modeValue: IommuMode = 'bypass';
  private readonly table: WindowRegs[][];
  private history: DmaFaultRecord[] = [];
  private queue: DmaFaultRecord[] = [];
  private lost = 0;
  private irqEnable = false;
  private total = 0;

  /** `irq` is optional: a board that wires the IOMMU to a PLIC source gets a fault interrupt. */
  constructor(
    private readonly dram: Dram,
    private readonly irq: IrqLine | null = null,
  ) {
    this.table = [];
    for (let d = 0; d < IOMMU_DEVICES; d++) {
      const row: WindowRegs[] = [];
      for (let w = 0; w < IOMMU_WINDOWS; w++) row.push({ base: 0, size: 0, flags: 0 });
      this.table.push(row);
    }
  }

  /** Back to the reset state: bypass, every window cleared, fault queue and history emptied. */
  reset(): void {
    this.modeValue = 'bypass';
    for (const row of this.table) for (const w of row) { w.base = 0; w.size = 0; w.flags = 0; }
    this.history = [];
    this.queue = [];
    this.lost = 0;
    this.total = 0;
    this.irqEnable = false;
    this.updateIrq();
  }

  get mode(): IommuMode {
    return this.modeValue;
  }

  setMode(mode: IommuMode): void {
    this.modeValue = mode;
  }

  /** The DMA port of device `device` (0..IOMMU_DEVICES-1). */
  port(device: number): DmaPort {
    this.checkDevice('port', device);
    return new DmaPort(this.dram, device, this);
  }

  /** Set (or clear, with null) window `slot` of `device`. Throws if the window is not in DRAM. */
  setWindow(device: number, slot: number, window: DmaWindow | null): void {
    this.checkDevice('setWindow', device);
    if (!Number.isInteger(slot) || slot < 0 || slot >= IOMMU_WINDOWS) {
      throw new RangeError(`iommu setWindow: window slot ${slot} is not in 0..${IOMMU_WINDOWS - 1}`);
    }
    const regs = this.table[device][slot];
    if (window === null) {
      regs.base = 0; regs.size = 0; regs.flags = 0;
      return;
    }
    if (!this.inDram(window.base, window.size) || window.size === 0) {
      throw new RangeError(
        `iommu setWindow: window 0x${window.base.toString(16)}+0x${window.size.toString(16)} of device ${device} is not inside DRAM`,
      );
    }
    regs.base = window.base;
    regs.size = window.size;
    regs.flags = (window.read ? IOMMU_WIN_READ : 0) | (window.write ? IOMMU_WIN_WRITE : 0);
  }

  /** Window `slot` of `device` if in force, else null. */
  window(device: number, slot: number): DmaWindow | null {
    const r = this.table[device]?.[slot];
    if (r === undefined || !this.inForce(r)) return null;
    return { base: r.base, size: r.size, read: (r.flags & IOMMU_WIN_READ) !== 0, write: (r.flags & IOMMU_WIN_WRITE) !== 0 };
  }

  /** Would `device` be allowed this access? Pure: records nothing. */
  check(device: number, pa: number, len: number, write: boolean): boolean {
    if (!this.inDram(pa, len)) return false;
    if (this.modeValue === 'bypass') return true;
    const row = this.table[device];
    if (row === undefined) return false;
    const need = write ? IOMMU_WIN_WRITE : IOMMU_WIN_READ;
    for (const r of row) {
      if ((r.flags & need) === 0 || !this.inForce(r)) continue;
      if (pa >= r.base && pa + len <= r.base + r.size) return true;
    }
    return false;
  }

  /** DmaGuard: check, and record the fault when refused. */
  admit(device: number, pa: number, len: number, access: DmaAccess): boolean {
    if (this.check(device, pa, len, access === 'write')) return true;
    this.recordFault({ device, addr: pa, len, access });
    return false;
  }

  /** Fault history, oldest first (at most IOMMU_FAULT_HISTORY entries). */
  faults(): readonly DmaFaultRecord[] {
    return this.history;
  }

  /** Faults recorded since reset, including those dropped from the history. */
  get faultTotal(): number {
    return this.total;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    const R = IOMMU_REG;
    if (offset >= R.WINDOWS) {
      const r = this.windowRegs(offset);
      if (r === null) return 0;
      switch (offset & 0xf) {
        case 0x0: return r.base >>> 0;
        case 0x4: return r.size >>> 0;
        case 0x8: return r.flags;
        default: return 0;
      }
    }
    const head = this.queue.length > 0 ? this.queue[0] : null;
    switch (offset) {
      case R.MODE: return this.modeValue === 'enforce' ? 1 : 0;
      case R.INFO: return IOMMU_DEVICES | (IOMMU_WINDOWS << 8);
      case R.IRQ_ENABLE: return this.irqEnable ? 1 : 0;
      case R.FAULT_COUNT: return this.queue.length;
      case R.FAULT_DEV: return head?.device ?? 0;
      case R.FAULT_ADDR: return head === null ? 0 : head.addr % TWO32 >>> 0;
      case R.FAULT_ADDR_HI: return head === null ? 0 : Math.floor(head.addr / TWO32) >>> 0;
      case R.FAULT_LEN: return head === null ? 0 : head.len >>> 0;
      case R.FAULT_ACCESS: return head?.access === 'write' ? 1 : 0;
      case R.FAULT_LOST: return this.lost >>> 0;
      default: return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    const R = IOMMU_REG;
    if (offset >= R.WINDOWS) {
      const r = this.windowRegs(offset);
      if (r === null) return;
      switch (offset & 0xf) {
        case 0x0: r.base = value; break;
        case 0x4: r.size = value; break;
        case 0x8: r.flags = value & (IOMMU_WIN_READ | IOMMU_WIN_WRITE); break;
        default: return;
      }
      // WARL: a window that would be in force but does not lie in DRAM is switched off.
      if (r.flags !== 0 && !this.inForce(r)) r.flags = 0;
      return;
    }
    switch (offset) {
      case R.MODE: this.modeValue = (value & 1) !== 0 ? 'enforce' : 'bypass'; break;
      case R.IRQ_ENABLE: this.irqEnable = (value & 1) !== 0; this.updateIrq(); break;
      case R.FAULT_POP: this.queue.shift(); this.updateIrq(); break;
      case R.FAULT_LOST: this.lost = 0; break;
      default: break;
    }
  }

  private recordFault(f: DmaFaultRecord): void {
    this.total++;
    this.history.push(f);
    if (this.history.length > IOMMU_FAULT_HISTORY) this.history.shift();
    if (this.queue.length < IOMMU_FAULT_QUEUE_DEPTH) this.queue.push(f);
    else this.lost++;
    this.updateIrq();
    this.onFault?.(f);
  }

  private updateIrq(): void {
    this.irq?.set(this.irqEnable && this.queue.length > 0);
  }

  /** The window registers addressed by `offset` (>= WINDOWS), or null past the table. */
  private windowRegs(offset: number): WindowRegs | null {
    const rel = offset - IOMMU_REG.WINDOWS;
    const d = Math.floor(rel / IOMMU_REG.DEVICE_STRIDE);
    const w = Math.floor((rel % IOMMU_REG.DEVICE_STRIDE) / IOMMU_REG.WINDOW_STRIDE);
    return this.table[d]?.[w] ?? null;
  }

  private inForce(r: WindowRegs): boolean {
    return r.flags !== 0 && r.size !== 0 && this.inDram(r.base, r.size);
  }

  /** [pa, pa+len) lies wholly in DRAM (exact for any non-negative integer pa). */
  private inDram(pa: number, len: number): boolean {
    return (
      Number.isInteger(pa) && Number.isInteger(len) && pa >= DRAM_BASE && len >= 0 &&
      pa + len <= DRAM_BASE + this.dram.size
    );
  }

  private checkDevice(op: string, device: number): void {
    if (!Number.isInteger(device) || device < 0 || device >= IOMMU_DEVICES) {
      throw new RangeError(`iommu ${op}: device ${device} is not in 0..${IOMMU_DEVICES - 1}`);
    }
  }
}
