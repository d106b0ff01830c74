// DMA ports: the only way a device touches DRAM.
//
// Every device that does DMA owns one `DmaPort` (virtio slot n = device id n). Each access asks
// a `DmaGuard` (the IOMMU, iommu.ts) whether the device may touch [pa, pa+len) for reading or
// writing; a refused access touches nothing, is recorded by the guard, and surfaces as a
// `DmaFault` that the device code catches and turns into a device-visible error (virtio:
// VIRTIO_BLK_S_IOERR or DEVICE_NEEDS_RESET). A DmaFault must never escape a device into the hart.
//
// Addresses are plain numbers: a 64-bit physical address from a descriptor (lo + hi·2^32) is
// exact below 2^53 and anything at or above 2^32 is outside DRAM anyway, so the guard refuses it.

import { DRAM_BASE, type Dram } from './memory.ts';

export type DmaAccess = 'read' | 'write';

/** A refused DMA access. Thrown by DmaPort, caught by the device that made the access. */
export class DmaFault extends Error {
  constructor(
    readonly device: number,
    readonly addr: number,
    readonly len: number,
    readonly access: DmaAccess,
  ) {
    super(`dma: device ${device} ${access} of ${len} bytes at 0x${addr.toString(16)} refused`);
  }
}

/** Decides whether a device may access physical memory; records every refusal. */
export interface DmaGuard {
  /** True when `device` may perform `access` on all of [pa, pa+len), which then lies in DRAM.
   * On false, the guard has already logged the fault. */
  admit(device: number, pa: number, len: number, access: DmaAccess): boolean;
}

/** One device's window onto DRAM, checked access by access. Multi-byte values are little-endian. */
export class DmaPort {
  constructor(
    private readonly dram: Dram,
    readonly device: number,
    private readonly guard: DmaGuard,
  ) {}

  /** DRAM offset of pa after the guard admitted the access; throws DmaFault otherwise. */
  private offset(pa: number, len: number, access: DmaAccess): number {
    if (!this.guard.admit(this.device, pa, len, access)) throw new DmaFault(this.device, pa, len, access);
    return pa - DRAM_BASE;
  }

  /** Admit [pa, pa+len) for `access` once and return its offset in `bytes` (DRAM), for a device
   *  that then moves or decodes the whole range itself (a descriptor, a payload the backend
   *  fills in place): one guard check instead of one per field. Throws DmaFault if refused. */
  span(pa: number, len: number, access: DmaAccess): number {
    return this.offset(pa, len, access);
  }

  /** DRAM as bytes: index it only with an offset `span` returned, within the admitted length. */
  get bytes(): Uint8Array {
    return this.dram.u8;
  }

  /** A copy of `len` bytes at `pa`. */
  read(pa: number, len: number): Uint8Array {
    const off = this.offset(pa, len, 'read');
    return this.dram.u8.slice(off, off + len);
  }

  /** Fill `dst` from memory at `pa`. */
  readInto(pa: number, dst: Uint8Array): void {
    const off = this.offset(pa, dst.length, 'read');
    dst.set(this.dram.u8.subarray(off, off + dst.length));
  }

  /** Copy `src` to memory at `pa`. */
  write(pa: number, src: Uint8Array): void {
    const off = this.offset(pa, src.length, 'write');
    this.dram.u8.set(src, off);
  }

  readU8(pa: number): number {
    return this.dram.u8[this.offset(pa, 1, 'read')];
  }

  readU16(pa: number): number {
    const off = this.offset(pa, 2, 'read');
    const m = this.dram.u8;
    return m[off] | (m[off + 1] << 8);
  }

  readU32(pa: number): number {
    const off = this.offset(pa, 4, 'read');
    const m = this.dram.u8;
    return (m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24)) >>> 0;
  }

  /** A 64-bit value as a number (exact below 2^53; larger values are only ever refused addresses). */
  readU64(pa: number): number {
    const off = this.offset(pa, 8, 'read');
    const m = this.dram.u8;
    const lo = (m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24)) >>> 0;
    const hi = (m[off + 4] | (m[off + 5] << 8) | (m[off + 6] << 16) | (m[off + 7] << 24)) >>> 0;
    return hi * 0x1_0000_0000 + lo;
  }

  writeU8(pa: number, v: number): void {
    this.dram.u8[this.offset(pa, 1, 'write')] = v;
  }

  writeU16(pa: number, v: number): void {
    const off = this.offset(pa, 2, 'write');
    const m = this.dram.u8;
    m[off] = v;
    m[off + 1] = v >>> 8;
  }

  writeU32(pa: number, v: number): void {
    const off = this.offset(pa, 4, 'write');
    const m = this.dram.u8;
    m[off] = v;
    m[off + 1] = v >>> 8;
    m[off + 2] = v >>> 16;
    m[off + 3] = v >>> 24;
  }
}
