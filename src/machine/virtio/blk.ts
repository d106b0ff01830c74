// virtio-blk (virtio 1.2 §5.2), DeviceID 2, one request queue (queue 0).
//
// Features offered: VIRTIO_BLK_F_SEG_MAX (seg_max = queue size − 2), VIRTIO_BLK_F_BLK_SIZE
// (blk_size 512), VIRTIO_BLK_F_FLUSH, and VIRTIO_BLK_F_RO when the backend is read-only.
// Configuration space (§5.2.4): le64 capacity (512-byte sectors; a trailing partial sector of the
// backend is not addressable) at 0, le32 size_max at 8 (0: not offered), le32 seg_max at 12,
// geometry at 16 (0: not offered), le32 blk_size at 20. Read-only.
//
// Requests (§5.2.6): a device-readable header {le32 type, le32 reserved, le64 sector}, then data,
// then a device-writable status byte — the last byte of the chain's writable part.
//   IN (0)      read data into the writable bytes before the status byte
//   OUT (1)     write the readable bytes after the header; IOERR on a read-only disk, nothing
//               written (§5.2.6.2); with FLUSH not negotiated the write is flushed before it
//               completes (writethrough, §5.2.6.2 "If VIRTIO_BLK_F_FLUSH was not offered ...")
//   FLUSH (4)   backend.flush()
//   GET_ID (8)  the 20-byte device id string, NUL-padded
//   other       VIRTIO_BLK_S_UNSUPP
// IN/OUT data must be a whole number of sectors within the capacity, else IOERR. A header
// shorter than 16 bytes, a backend that throws, or an IOMMU-refused data buffer give IOERR when
// the status byte can still be written; a chain with no writable byte, or a refused status byte,
// is a device error (DEVICE_NEEDS_RESET) — the driver could not be told otherwise.
//
// Timing model (deterministic, virtual time): requests are served one at a time in ring order.
// A request is taken from the ring when the device is idle (at the notify, or when the previous
// request completes); it completes `latencyCycles + ceil(dataBytes × cyclesPerByte)` cycles later,
// and all its data transfer, backend I/O, used-ring update and interrupt happen at that moment.
// dataBytes is every byte of the chain beyond the header and the status byte (the IN/OUT
// payload). Defaults: 5 000 cycles (50 µs at 100 MHz)
// per request and 0.25 cycles per byte (400 MB/s).

import { DmaFault } from '../dma.ts';
import type { BlockBackend } from './blk-backend.ts';
import type { VirtioDevice, VirtioHost } from './mmio.ts';
import { gatherInto, scatter, type DescriptorChain } from './virtqueue.ts';

export const VIRTIO_ID_BLOCK = 2;

export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;

export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;

export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

export const VIRTIO_BLK_SECTOR = 512;
export const VIRTIO_BLK_ID_BYTES = 20;
const HEADER_BYTES = 16;
/** Largest transfer served through the device's reusable scratch buffer; larger ones (rare:
 * the drivers here move 4 KiB) get a buffer of their own, so that one huge request does not
 * pin its size for the device's life. */
const SCRATCH_MAX = 64 << 10;

export interface BlkTiming {
  /** Fixed cost of every request, in cycles. */
  readonly latencyCycles: number;
  /** Transfer cost per data byte, in cycles (may be fractional; the total is rounded up). */
  readonly cyclesPerByte: number;
}

export const DEFAULT_BLK_TIMING: BlkTiming = { latencyCycles: 5000, cyclesPerByte: 0.25 };

export interface VirtioBlkOptions {
  timing?: BlkTiming;
  /** GET_ID string, at most 20 bytes of ASCII. Default "l4ts-blk". */
  id?: string;
  /** QueueNumMax (a power of 2). Default 128. */
  queueSize?: number;
}

export interface BlkStats {
  requests: number;
  ioErrors: number;
  unsupported: number;
}

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueMax: readonly number[];
  readonly timing: BlkTiming;
  readonly stats: BlkStats = { requests: 0, ioErrors: 0, unsupported: 0 };
  /** The last backend or request error turned into IOERR, for diagnostics. */
  lastIoError: string | null = null;
  private host: VirtioHost | null = null;
  private busy = false;
  private readonly idBytes = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private readonly capacity: number;
  /** Request header, read anew for every request. */
  private readonly hdr = new Uint8Array(HEADER_BYTES);
  /** Data staging between guest memory and the backend (no allocation per request). */
  private scratch = new Uint8Array(4096);
  /** Bytes the last execute() wrote before the status byte. */
  private written = 0;

  constructor(
    readonly backend: BlockBackend,
    opts: VirtioBlkOptions = {},
  ) {
    const qs = opts.queueSize ?? 128;
    if (!Number.isInteger(qs) || qs < 4 || qs > 32768 || (qs & (qs - 1)) !== 0) {
      throw new RangeError(`virtio-blk: queue size ${qs} must be a power of 2 in 4..32768`);
    }
    this.queueMax = [qs];
    this.timing = opts.timing ?? DEFAULT_BLK_TIMING;
    const id = new TextEncoder().encode(opts.id ?? 'l4ts-blk');
    if (id.length > VIRTIO_BLK_ID_BYTES) throw new RangeError(`virtio-blk: id "${opts.id}" is longer than 20 bytes`);
    this.idBytes.set(id);
    this.capacity = Math.floor(backend.size / VIRTIO_BLK_SECTOR);
    let f = (1n << BigInt(VIRTIO_BLK_F_SEG_MAX)) | (1n << BigInt(VIRTIO_BLK_F_BLK_SIZE)) | (1n << BigInt(VIRTIO_BLK_F_FLUSH));
    if (backend.readOnly) f |= 1n << BigInt(VIRTIO_BLK_F_RO);
    this.features = f;
  }

  attach(host: VirtioHost): void {
    this.host = host;
  }

  config(): Uint8Array {
    const c = new Uint8Array(24);
    const v = new DataView(c.buffer);
    v.setUint32(0, this.capacity % 0x1_0000_0000, true);
    v.setUint32(4, Math.floor(this.capacity / 0x1_0000_0000), true);
    v.setUint32(12, this.queueMax[0] - 2, true);
    v.setUint32(20, VIRTIO_BLK_SECTOR, true);
    return c;
  }

  notify(q: number): void {
    if (q === 0) this.kick();
  }

  reset(): void {
    this.busy = false;
  }

  /** If idle, take the next request from the ring and schedule its completion. */
  private kick(): void {
    const host = this.host;
    if (host === null || this.busy || !host.live()) return;
    const vq = host.queue(0);
    if (vq === null) return;
    const chain = vq.pop();
    if (chain === null) return;
    this.busy = true;
    host.after(this.duration(chain), () => {
      this.busy = false;
      // A queue the driver disabled (or re-created) meanwhile no longer owns this chain (§4.2.2).
      if (host.queue(0) === vq) this.complete(chain);
      this.kick();
    });
  }

  /** Service time of a request: its payload is every chain byte beyond the 16-byte header and
   * the status byte (the IN or OUT data; 20 bytes for GET_ID). Needs no DMA. */
  private duration(chain: DescriptorChain): number {
    const bytes = Math.max(0, chain.readableLength - HEADER_BYTES) + Math.max(0, chain.writableLength - 1);
    return this.timing.latencyCycles + Math.ceil(bytes * this.timing.cyclesPerByte);
  }

  /** Execute the request, write its status byte, return it to the driver. */
  private complete(chain: DescriptorChain): void {
    const host = this.host!;
    const vq = host.queue(0)!;
    if (chain.writableLength === 0) {
      host.fail('virtio-blk: request without a writable status byte');
      return;
    }
    // The status byte is the last byte of the last non-empty writable descriptor.
    let statusAddr = -1;
    for (let i = chain.writable.length - 1; i >= 0; i--) {
      const s = chain.writable[i];
      if (s.len > 0) { statusAddr = s.addr + s.len - 1; break; }
    }
    this.stats.requests++;
    let status: number;
    let written = 0;
    try {
      this.written = 0;
      status = this.execute(chain);
      written = this.written;
    } catch (e) {
      if (!(e instanceof DmaFault)) throw e;
      this.lastIoError = e.message;
      status = VIRTIO_BLK_S_IOERR;
      written = 0;
    }
    if (status === VIRTIO_BLK_S_IOERR) this.stats.ioErrors++;
    if (status === VIRTIO_BLK_S_UNSUPP) this.stats.unsupported++;
    host.dma.writeU8(statusAddr, status); // a refused status byte: DmaFault → DEVICE_NEEDS_RESET
    vq.push(chain.head, written + 1);
    host.usedBuffers(0);
  }

  /** The status; sets `written` (bytes written before the status byte). DmaFault on a data
   * buffer propagates. */
  private execute(chain: DescriptorChain): number {
    const dma = this.host!.dma;
    if (chain.readableLength < HEADER_BYTES) return this.ioerr('request header shorter than 16 bytes');
    // The header: decoded in place when its first descriptor holds all of it (one guard check).
    let h: Uint8Array = this.hdr;
    let o = 0;
    if (chain.readable[0].len >= HEADER_BYTES) {
      o = dma.span(chain.readable[0].addr, HEADER_BYTES, 'read');
      h = dma.bytes;
    } else {
      gatherInto(dma, chain.readable, 0, h);
    }
    const type = (h[o] | (h[o + 1] << 8) | (h[o + 2] << 16) | (h[o + 3] << 24)) >>> 0;
    const sector = ((h[o + 8] | (h[o + 9] << 8) | (h[o + 10] << 16) | (h[o + 11] << 24)) >>> 0) +
      ((h[o + 12] | (h[o + 13] << 8) | (h[o + 14] << 16) | (h[o + 15] << 24)) >>> 0) * 0x1_0000_0000;
    const dataIn = chain.writableLength - 1; // bytes before the status byte
    switch (type) {
      case VIRTIO_BLK_T_IN: {
        const range = this.checkRange(sector, dataIn);
        if (range !== null) return this.ioerr(range);
        // The payload in one descriptor (the usual layout): the backend fills guest memory in
        // place, once the IOMMU has admitted the whole buffer. Otherwise staged and scattered.
        const direct = dataIn > 0 && chain.writable[0].len === dataIn;
        let buf: Uint8Array;
        if (direct) {
          const d = dma.span(chain.writable[0].addr, dataIn, 'write');
          buf = dma.bytes.subarray(d, d + dataIn);
        } else {
          buf = this.staging(dataIn);
        }
        try {
          this.backend.read(sector * VIRTIO_BLK_SECTOR, buf);
        } catch (e) {
          return this.ioerr(`backend: ${(e as Error).message}`);
        }
        if (!direct) scatter(dma, chain.writable, 0, buf);
        this.written = dataIn;
        return VIRTIO_BLK_S_OK;
      }
      case VIRTIO_BLK_T_OUT: {
        const len = chain.readableLength - HEADER_BYTES;
        if (this.backend.readOnly) return this.ioerr('write to a read-only disk');
        const range = this.checkRange(sector, len);
        if (range !== null) return this.ioerr(range);
        // As for IN: a payload in one descriptor after the header goes to the backend in place.
        const seg = chain.readable.length === 2 && chain.readable[0].len === HEADER_BYTES ? chain.readable[1] : null;
        let data: Uint8Array;
        if (seg !== null && seg.len === len && len > 0) {
          const d = dma.span(seg.addr, len, 'read');
          data = dma.bytes.subarray(d, d + len);
        } else {
          data = this.staging(len);
          gatherInto(dma, chain.readable, HEADER_BYTES, data);
        }
        const writethrough = !this.host!.hasFeature(VIRTIO_BLK_F_FLUSH);
        try {
          this.backend.write(sector * VIRTIO_BLK_SECTOR, data);
          if (writethrough) this.backend.flush();
        } catch (e) {
          return this.ioerr(`backend: ${(e as Error).message}`);
        }
        return VIRTIO_BLK_S_OK;
      }
      case VIRTIO_BLK_T_FLUSH: {
        try {
          this.backend.flush();
        } catch (e) {
          return this.ioerr(`backend: ${(e as Error).message}`);
        }
        return VIRTIO_BLK_S_OK;
      }
      case VIRTIO_BLK_T_GET_ID: {
        const n = Math.min(VIRTIO_BLK_ID_BYTES, dataIn);
        scatter(dma, chain.writable, 0, this.idBytes.subarray(0, n));
        this.written = n;
        return VIRTIO_BLK_S_OK;
      }
      default:
        return VIRTIO_BLK_S_UNSUPP;
    }
  }

  /** A buffer of exactly `len` bytes for one transfer: a view of the scratch buffer (grown on
   * demand up to SCRATCH_MAX), or a fresh buffer beyond that. The backend contract (it moves
   * the bytes during the call and keeps no reference) makes the reuse safe. */
  private staging(len: number): Uint8Array {
    if (len > SCRATCH_MAX) return new Uint8Array(len);
    if (len > this.scratch.length) this.scratch = new Uint8Array(SCRATCH_MAX);
    return this.scratch.subarray(0, len);
  }

  /** Why [sector, sector + len bytes) is not a valid transfer, or null. */
  private checkRange(sector: number, len: number): string | null {
    if (len % VIRTIO_BLK_SECTOR !== 0) return `data length ${len} is not a multiple of 512`;
    if (sector > this.capacity || sector * VIRTIO_BLK_SECTOR + len > this.capacity * VIRTIO_BLK_SECTOR) {
      return `sectors ${sector}+${len / VIRTIO_BLK_SECTOR} are beyond capacity ${this.capacity}`;
    }
    return null;
  }

  private ioerr(reason: string): number {
    this.lastIoError = `virtio-blk: ${reason}`;
    this.written = 0;
    return VIRTIO_BLK_S_IOERR;
  }
}
