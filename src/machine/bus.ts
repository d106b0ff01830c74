// The physical address space of the board: DRAM plus memory-mapped devices.
//
// Contract: devices see only (offset, size, value) within their own window; they never see
// the hart, the MMU or the kernel. Sizes are 1, 2 or 4 bytes; values are zero-extended on
// read and truncated to `size` bytes on write. A 64-bit access from the hart (FLD/FSD) is split
// into two 32-bit accesses, low word first.

/** A device register window on the physical bus. */
export interface MmioDevice {
  readonly name: string;
  /** Read `size` bytes at `offset` within the window; returns the zero-extended value. */
  read(offset: number, size: 1 | 2 | 4): number;
  /** Write the low `size` bytes of `value` at `offset` within the window. */
  write(offset: number, size: 1 | 2 | 4, value: number): void;
}

interface Mapping {
  base: number;
  size: number;
  device: MmioDevice;
}

/** Thrown for an access to physical memory that nothing decodes (becomes an access fault). */
export class BusError extends Error {
  constructor(readonly addr: number, readonly write: boolean) {
    super(`bus: no device at 0x${(addr >>> 0).toString(16).padStart(8, '0')} (${write ? 'write' : 'read'})`);
  }
}

/** Device windows, looked up by physical address. DRAM is not on this list: the hart and DMA
 * reach it directly through `Dram`, which is the fast path. */
export class MmioBus {
  private readonly maps: Mapping[] = [];
  private last: Mapping | null = null;

  /** Attach `device` at physical [base, base+size). Overlapping windows are a board bug. */
  attach(base: number, size: number, device: MmioDevice): void {
    base >>>= 0;
    for (const m of this.maps) {
      if (base < m.base + m.size && m.base < base + size) {
        throw new Error(`bus: ${device.name} at 0x${base.toString(16)} overlaps ${m.device.name}`);
      }
    }
    this.maps.push({ base, size, device });
  }

  /** The mapping holding `pa`, or null. */
  find(pa: number): Mapping | null {
    pa >>>= 0;
    const l = this.last;
    if (l !== null && pa - l.base >= 0 && pa - l.base < l.size) return l;
    for (const m of this.maps) {
      if (pa >= m.base && pa - m.base < m.size) {
        this.last = m;
        return m;
      }
    }
    return null;
  }

  read(pa: number, size: 1 | 2 | 4): number {
    const m = this.find(pa);
    if (m === null) throw new BusError(pa, false);
    return m.device.read((pa >>> 0) - m.base, size);
  }

  write(pa: number, size: 1 | 2 | 4, value: number): void {
    const m = this.find(pa);
    if (m === null) throw new BusError(pa, true);
    m.device.write((pa >>> 0) - m.base, size, value);
  }

  /** The attached windows, for the board's device tree and for the kernel's boot info. */
  windows(): ReadonlyArray<Readonly<Mapping>> {
    return this.maps;
  }
}
