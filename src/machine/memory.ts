// Main memory (DRAM) of the board, at 0x8000_0000 on the QEMU `virt` map.
//
// One ArrayBuffer with several typed views over it, so that aligned accesses are a single
// typed-array index. The views assume a little-endian host (x86-64 and AArch64 hosts are); the
// constructor refuses to run on a big-endian host rather than silently byte-swap wrongly.

export const DRAM_BASE = 0x8000_0000;
export const DEFAULT_DRAM_SIZE = 128 * 1024 * 1024;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class Dram {
  readonly base = DRAM_BASE;
  readonly size: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;

  constructor(size: number = DEFAULT_DRAM_SIZE) {
    if (!littleEndian) throw new Error('dram: l4ts needs a little-endian host');
    if (size <= 0 || size % 4096 !== 0 || size > 0x7000_0000) {
      throw new Error(`dram: size ${size} must be a positive multiple of 4096 below 1.75 GiB`);
    }
    this.size = size;
    this.buffer = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
  }

  /** Offset of physical address `pa` in DRAM, or -1 when `pa` is not DRAM. */
  offsetOf(pa: number): number {
    const off = (pa >>> 0) - DRAM_BASE;
    return off >= 0 && off < this.size ? off : -1;
  }

  /** True when [pa, pa+len) lies wholly in DRAM. */
  contains(pa: number, len: number): boolean {
    const off = (pa >>> 0) - DRAM_BASE;
    return off >= 0 && len >= 0 && off + len <= this.size;
  }

  /** Copy `data` to physical address `pa` (loaders, DMA). Throws if outside DRAM. */
  writeBytes(pa: number, data: Uint8Array): void {
    if (!this.contains(pa, data.length)) throw new RangeError(`dram: write of ${data.length} bytes at 0x${(pa >>> 0).toString(16)} is outside DRAM`);
    this.u8.set(data, (pa >>> 0) - DRAM_BASE);
  }

  /** A copy of `len` bytes at physical address `pa`. Throws if outside DRAM. */
  readBytes(pa: number, len: number): Uint8Array {
    if (!this.contains(pa, len)) throw new RangeError(`dram: read of ${len} bytes at 0x${(pa >>> 0).toString(16)} is outside DRAM`);
    const off = (pa >>> 0) - DRAM_BASE;
    return this.u8.slice(off, off + len);
  }

  readU32(pa: number): number {
    const off = (pa >>> 0) - DRAM_BASE;
    return (this.u8[off] | (this.u8[off + 1] << 8) | (this.u8[off + 2] << 16) | (this.u8[off + 3] << 24)) >>> 0;
  }

  writeU32(pa: number, v: number): void {
    const off = (pa >>> 0) - DRAM_BASE;
    this.u8[off] = v;
    this.u8[off + 1] = v >>> 8;
    this.u8[off + 2] = v >>> 16;
    this.u8[off + 3] = v >>> 24;
  }
}
