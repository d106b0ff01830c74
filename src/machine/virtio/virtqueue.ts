// Split virtqueues, device side (virtio 1.2 §2.7).
//
// Layout in guest memory (all little-endian, every access through the device's DmaPort so the
// IOMMU confines the rings as well as the buffers):
//   Descriptor Table (Descriptor Area), 16·size bytes, align 16 (§2.7.5):
//     le64 addr, le32 len, le16 flags (NEXT 1, WRITE 2, INDIRECT 4), le16 next
//   Available Ring (Driver Area), 6 + 2·size bytes, align 2 (§2.7.6):
//     le16 flags (NO_INTERRUPT 1), le16 idx, le16 ring[size], le16 used_event
//   Used Ring (Device Area), 6 + 8·size bytes, align 4 (§2.7.8):
//     le16 flags, le16 idx, {le32 id, le32 len} ring[size], le16 avail_event
//
// Contract: `pop` returns the next available descriptor chain, split into device-readable and
// device-writable segments, or null when the ring is empty. A malformed ring or chain throws
// `VirtqueueError`, and a refused ring access throws `DmaFault`; the transport (mmio.ts) turns
// both into DEVICE_NEEDS_RESET, never into a host exception. Malformed means: a head or `next`
// index out of range, a chain longer than the queue size (which is how loops are caught, §2.7.5.3
// "A driver MUST NOT create a descriptor chain longer than the Queue Size"), an indirect table
// whose length is not a non-zero multiple of 16 or that is nested, INDIRECT with NEXT, INDIRECT
// without VIRTIO_F_INDIRECT_DESC, a readable descriptor after a writable one (§2.7.4.2), more
// than 2^32 bytes in total, or an available index that moved by more than the queue size.
//
// Notification suppression both ways (§2.7.7, §2.7.10): with VIRTIO_F_EVENT_IDX the device reads
// used_event to decide on interrupts (vring_need_event) and writes avail_event = the next avail
// index it will consume, after each pop and whenever it finds the ring empty, so that the driver
// notifies exactly when new buffers arrive past what the device has seen. Without EVENT_IDX the
// device honours VIRTQ_AVAIL_F_NO_INTERRUPT and always wants notifications (used flags stay 0).

import type { DmaPort } from '../dma.ts';

export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_MAX_SIZE = 32768;

/** A ring or chain the driver laid out wrongly: a device error, not a host error. */
export class VirtqueueError extends Error {}

/** A guest-physical buffer. */
export interface Segment {
  readonly addr: number;
  readonly len: number;
}

export interface DescriptorChain {
  /** Head descriptor index: the id written to the used ring. */
  readonly head: number;
  readonly readable: readonly Segment[];
  readonly writable: readonly Segment[];
  readonly readableLength: number;
  readonly writableLength: number;
}

export interface VirtqueueLayout {
  readonly size: number;
  readonly desc: number;
  readonly driver: number;
  readonly device: number;
}

/** True when an interrupt is needed (§2.7.10, the vring_need_event formula). */
export function vringNeedEvent(event: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

export class Virtqueue {
  readonly size: number;
  private lastAvail = 0;
  private usedIdx = 0;
  private signalledUsed = 0;
  private signalledValid = false;

  constructor(
    private readonly dma: DmaPort,
    readonly layout: VirtqueueLayout,
    private readonly eventIdx: boolean,
    private readonly indirect: boolean,
  ) {
    this.size = layout.size;
  }

  /** Index (free-running, 16-bit) of the next used ring entry. */
  get usedIndex(): number {
    return this.usedIdx;
  }

  /** Chains the driver made available and the device has not popped. */
  available(): number {
    const idx = this.dma.readU16(this.layout.driver + 2);
    const n = (idx - this.lastAvail) & 0xffff;
    if (n > this.size) {
      throw new VirtqueueError(`virtqueue: available index moved from ${this.lastAvail} to ${idx}, beyond queue size ${this.size}`);
    }
    return n;
  }

  /** The next available chain, or null when the ring is empty (see file comment for errors). */
  pop(): DescriptorChain | null {
    if (this.available() === 0) {
      this.publishAvailEvent();
      return null;
    }
    const head = this.dma.readU16(this.layout.driver + 4 + 2 * (this.lastAvail % this.size));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    this.publishAvailEvent();
    return this.walk(head);
  }

  /** Return chain `head` to the driver with `len` bytes written into its writable part. */
  push(head: number, len: number): void {
    const dev = this.layout.device;
    const slot = dev + 4 + 8 * (this.usedIdx % this.size);
    this.dma.writeU32(slot, head);
    this.dma.writeU32(slot + 4, len);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // The element is written before the index that publishes it (§2.7.8.2); a single-threaded
    // device model needs no barrier, but the order is kept as the spec states it.
    this.dma.writeU16(dev + 2, this.usedIdx);
  }

  /** After one or more pushes: should the device send a used buffer notification now? */
  shouldInterrupt(): boolean {
    if (!this.eventIdx) {
      return (this.dma.readU16(this.layout.driver) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    }
    const valid = this.signalledValid;
    const old = this.signalledUsed;
    this.signalledValid = true;
    this.signalledUsed = this.usedIdx;
    if (!valid) return true;
    const usedEvent = this.dma.readU16(this.layout.driver + 4 + 2 * this.size);
    return vringNeedEvent(usedEvent, this.usedIdx, old);
  }

  private publishAvailEvent(): void {
    if (this.eventIdx) this.dma.writeU16(this.layout.device + 4 + 8 * this.size, this.lastAvail);
  }

  /** Follow the chain starting at `head`, through at most one indirect table. */
  private walk(head: number): DescriptorChain {
    if (head >= this.size) throw new VirtqueueError(`virtqueue: head index ${head} out of range (size ${this.size})`);
    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let readableLength = 0;
    let writableLength = 0;
    let table = this.layout.desc;
    let tableSize = this.size;
    let inIndirect = false;
    let idx = head;
    let count = 0;
    for (;;) {
      if (++count > tableSize) {
        throw new VirtqueueError(`virtqueue: chain at head ${head} is longer than ${tableSize} descriptors (a loop?)`);
      }
      // One descriptor (§2.7.5: le64 addr, le32 len, le16 flags, le16 next), admitted whole.
      const o = this.dma.span(table + 16 * idx, 16, 'read');
      const m = this.dma.bytes;
      const addr = ((m[o] | (m[o + 1] << 8) | (m[o + 2] << 16) | (m[o + 3] << 24)) >>> 0) +
        ((m[o + 4] | (m[o + 5] << 8) | (m[o + 6] << 16) | (m[o + 7] << 24)) >>> 0) * 0x1_0000_0000;
      const len = (m[o + 8] | (m[o + 9] << 8) | (m[o + 10] << 16) | (m[o + 11] << 24)) >>> 0;
      const flags = m[o + 12] | (m[o + 13] << 8);
      const next = m[o + 14] | (m[o + 15] << 8);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (!this.indirect) throw new VirtqueueError('virtqueue: INDIRECT descriptor without VIRTIO_F_INDIRECT_DESC');
        if (inIndirect) throw new VirtqueueError('virtqueue: INDIRECT descriptor inside an indirect table');
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) throw new VirtqueueError('virtqueue: descriptor has both INDIRECT and NEXT');
        if (len === 0 || len % 16 !== 0) throw new VirtqueueError(`virtqueue: indirect table length ${len} is not a non-zero multiple of 16`);
        // The WRITE flag of the descriptor that refers to the table is ignored (§2.7.5.3.2).
        table = addr;
        tableSize = len / 16;
        inIndirect = true;
        idx = 0;
        count = 0;
        continue;
      }
      if ((flags & VIRTQ_DESC_F_WRITE) !== 0) {
        writable.push({ addr, len });
        writableLength += len;
      } else {
        if (writable.length > 0) throw new VirtqueueError(`virtqueue: readable descriptor after a writable one in chain ${head}`);
        readable.push({ addr, len });
        readableLength += len;
      }
      if (readableLength + writableLength > 0xffff_ffff) {
        throw new VirtqueueError(`virtqueue: chain ${head} is longer than 2^32 bytes`);
      }
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) break;
      if (next >= tableSize) throw new VirtqueueError(`virtqueue: next index ${next} out of range (table of ${tableSize})`);
      idx = next;
    }
    return { head, readable, writable, readableLength, writableLength };
  }
}

/** Copy `len` bytes starting `offset` bytes into the segments (a chain's readable part). Throws
 * DmaFault on a refused segment and RangeError if the segments hold fewer bytes. */
export function gather(dma: DmaPort, segments: readonly Segment[], offset: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  gatherInto(dma, segments, offset, out);
  return out;
}

/** `gather` into a buffer the caller owns (a device's reusable scratch buffer): fills all of
 * `out`. Throws as `gather` does; on a throw `out` holds what was copied before the failure. */
export function gatherInto(dma: DmaPort, segments: readonly Segment[], offset: number, out: Uint8Array): void {
  const len = out.length;
  let done = 0;
  let skip = offset;
  for (const s of segments) {
    if (done === len) break;
    if (skip >= s.len) { skip -= s.len; continue; }
    const n = Math.min(s.len - skip, len - done);
    dma.readInto(s.addr + skip, out.subarray(done, done + n));
    done += n;
    skip = 0;
  }
  if (done !== len) throw new RangeError(`virtqueue gather: segments hold ${done} of ${len} bytes`);
}

/** Copy `data` into the segments (a chain's writable part) starting `offset` bytes in. Segments
 * before a refused one have been written; the refused one and those after it are untouched. */
export function scatter(dma: DmaPort, segments: readonly Segment[], offset: number, data: Uint8Array): void {
  let done = 0;
  let skip = offset;
  for (const s of segments) {
    if (done === data.length) break;
    if (skip >= s.len) { skip -= s.len; continue; }
    const n = Math.min(s.len - skip, data.length - done);
    dma.write(s.addr + skip, data.subarray(done, done + n));
    done += n;
    skip = 0;
  }
  if (done !== data.length) throw new RangeError(`virtqueue scatter: segments hold ${done} of ${data.length} bytes`);
}
