// A tiny virtio driver for device tests: lays out split virtqueues in a Dram and programs the
// virtio-mmio registers exactly as a guest would (virtio 1.2 §3.1.1 initialization, §2.7.13
// supplying buffers, §4.2.3 MMIO-specific steps). Test-only: no device code imports it.

import type { MmioDevice } from '../bus.ts';
import { VirtualClock } from '../clock.ts';
import { Iommu } from '../iommu.ts';
import type { IrqController } from '../irq.ts';
import { DRAM_BASE, Dram } from '../memory.ts';
import {
  createVirtioSlot, type VirtioDevice, type VirtioHost, VIRTIO_F_VERSION_1, VIRTIO_MMIO as R, VIRTIO_STATUS_ACKNOWLEDGE, VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FEATURES_OK,
} from './mmio.ts';
import { gather, scatter, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from './virtqueue.ts';

export interface TestBuffer {
  addr: number;
  len: number;
  /** Device-writable. */
  write?: boolean;
}

export interface RawDescriptor {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

export class TestDriver {
  private heap: number;

  constructor(
    readonly mmio: MmioDevice,
    readonly dram: Dram,
    heapBase: number = DRAM_BASE + 0x1_0000,
  ) {
    this.heap = heapBase;
  }

  r(offset: number): number {
    return this.mmio.read(offset, 4);
  }

  w(offset: number, value: number): void {
    this.mmio.write(offset, 4, value >>> 0);
  }

  /** `len` bytes of zeroed DRAM aligned to `align`. */
  alloc(len: number, align = 16): number {
    this.heap = Math.ceil(this.heap / align) * align;
    const a = this.heap;
    this.heap += len;
    this.dram.u8.fill(0, a - DRAM_BASE, a - DRAM_BASE + len);
    return a;
  }

  status(): number {
    return this.r(R.STATUS);
  }

  offeredFeatures(): bigint {
    this.w(R.DEVICE_FEATURES_SEL, 0);
    const lo = BigInt(this.r(R.DEVICE_FEATURES));
    this.w(R.DEVICE_FEATURES_SEL, 1);
    const hi = BigInt(this.r(R.DEVICE_FEATURES));
    return (hi << 32n) | lo;
  }

  /** §3.1.1 steps 1–6: reset, ACKNOWLEDGE, DRIVER, accept offered ∩ `want` (plus exactly the
   * `force` bits), FEATURES_OK. Returns whether FEATURES_OK stuck, and what was written. */
  negotiate(want: bigint = 1n << BigInt(VIRTIO_F_VERSION_1), force = 0n): { ok: boolean; accepted: bigint } {
    this.w(R.STATUS, 0);
    this.w(R.STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    this.w(R.STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    const accepted = (this.offeredFeatures() & want) | force;
    this.w(R.DRIVER_FEATURES_SEL, 0);
    this.w(R.DRIVER_FEATURES, Number(accepted & 0xffff_ffffn));
    this.w(R.DRIVER_FEATURES_SEL, 1);
    this.w(R.DRIVER_FEATURES, Number((accepted >> 32n) & 0xffff_ffffn));
    this.w(R.STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return { ok: (this.status() & VIRTIO_STATUS_FEATURES_OK) !== 0, accepted };
  }

  /** §4.2.3.2: set up queue `index` with `size` entries in freshly allocated memory. */
  setupQueue(index: number, size: number): TestQueue {
    const desc = this.alloc(16 * size, 16);
    const avail = this.alloc(6 + 2 * size, 2);
    const used = this.alloc(6 + 8 * size, 4);
    this.w(R.QUEUE_SEL, index);
    this.w(R.QUEUE_NUM, size);
    this.w(R.QUEUE_DESC_LOW, desc);
    this.w(R.QUEUE_DESC_HIGH, 0);
    this.w(R.QUEUE_DRIVER_LOW, avail);
    this.w(R.QUEUE_DRIVER_HIGH, 0);
    this.w(R.QUEUE_DEVICE_LOW, used);
    this.w(R.QUEUE_DEVICE_HIGH, 0);
    this.w(R.QUEUE_READY, 1);
    return new TestQueue(this, index, size, desc, avail, used);
  }

  driverOk(): void {
    this.w(R.STATUS, this.status() | VIRTIO_STATUS_DRIVER_OK);
  }

  interruptStatus(): number {
    return this.r(R.INTERRUPT_STATUS);
  }

  ack(bits: number): void {
    this.w(R.INTERRUPT_ACK, bits);
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.mmio.read(R.CONFIG + offset, size);
  }
}

export class TestQueue {
  private nextDesc = 0;
  private availIdx = 0;
  private lastSeenUsed = 0;

  constructor(
    readonly driver: TestDriver,
    readonly index: number,
    readonly size: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
  ) {}

  private get dram(): Dram {
    return this.driver.dram;
  }

  writeDesc(i: number, d: RawDescriptor, table = this.desc): void {
    const a = table + 16 * i;
    this.dram.writeU32(a, d.addr % 0x1_0000_0000);
    this.dram.writeU32(a + 4, Math.floor(d.addr / 0x1_0000_0000));
    this.dram.writeU32(a + 8, d.len);
    this.dram.u8[a + 12 - DRAM_BASE] = d.flags;
    this.dram.u8[a + 13 - DRAM_BASE] = d.flags >> 8;
    this.dram.u8[a + 14 - DRAM_BASE] = d.next;
    this.dram.u8[a + 15 - DRAM_BASE] = d.next >> 8;
  }

  /** Chain `bufs` through the descriptor table (or through an indirect table, when asked) and
   * make it available. Returns the head index. */
  add(bufs: TestBuffer[], opts: { indirect?: boolean } = {}): number {
    if (opts.indirect) {
      const table = this.driver.alloc(16 * bufs.length, 16);
      bufs.forEach((b, i) => this.writeDesc(i, {
        addr: b.addr, len: b.len,
        flags: (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i < bufs.length - 1 ? VIRTQ_DESC_F_NEXT : 0),
        next: i + 1,
      }, table));
      const head = this.takeDesc();
      this.writeDesc(head, { addr: table, len: 16 * bufs.length, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      this.publish(head);
      return head;
    }
    const ids = bufs.map(() => this.takeDesc());
    bufs.forEach((b, i) => this.writeDesc(ids[i], {
      addr: b.addr, len: b.len,
      flags: (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i < bufs.length - 1 ? VIRTQ_DESC_F_NEXT : 0),
      next: i < bufs.length - 1 ? ids[i + 1] : 0,
    }));
    this.publish(ids[0]);
    return ids[0];
  }

  /** Put `head` in the available ring and advance avail.idx. */
  publish(head: number): void {
    const slot = this.avail + 4 + 2 * (this.availIdx % this.size);
    this.dram.u8[slot - DRAM_BASE] = head;
    this.dram.u8[slot + 1 - DRAM_BASE] = head >> 8;
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.setU16(this.avail + 2, this.availIdx);
  }

  /** QueueNotify (§4.2.3.3). */
  notify(): void {
    this.driver.w(R.QUEUE_NOTIFY, this.index);
  }

  usedIdx(): number {
    return this.getU16(this.used + 2);
  }

  usedElem(i: number): { id: number; len: number } {
    const a = this.used + 4 + 8 * (i % this.size);
    return { id: this.dram.readU32(a), len: this.dram.readU32(a + 4) };
  }

  /** Used elements added since the last call. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const idx = this.usedIdx();
    while (this.lastSeenUsed !== idx) {
      out.push(this.usedElem(this.lastSeenUsed));
      this.lastSeenUsed = (this.lastSeenUsed + 1) & 0xffff;
    }
    return out;
  }

  setAvailFlags(f: number): void {
    this.setU16(this.avail, f);
  }

  setUsedEvent(v: number): void {
    this.setU16(this.avail + 4 + 2 * this.size, v);
  }

  availEvent(): number {
    return this.getU16(this.used + 4 + 8 * this.size);
  }

  private takeDesc(): number {
    const i = this.nextDesc;
    this.nextDesc = (this.nextDesc + 1) % this.size;
    return i;
  }

  private setU16(pa: number, v: number): void {
    this.dram.u8[pa - DRAM_BASE] = v;
    this.dram.u8[pa + 1 - DRAM_BASE] = v >> 8;
  }

  private getU16(pa: number): number {
    return this.dram.u8[pa - DRAM_BASE] | (this.dram.u8[pa + 1 - DRAM_BASE] << 8);
  }
}

// ---- a minimal board and device for transport and ring tests ----

/** An IrqController that records each source's level. */
export class TestIrqs implements IrqController {
  readonly level = new Map<number, boolean>();
  setSourceLevel(source: number, level: boolean): void {
    this.level.set(source, level);
  }
  get(source: number): boolean {
    return this.level.get(source) ?? false;
  }
}

/** A device for ring tests (DeviceID 0x7e): on a notify of queue 0 it copies each chain's
 * readable bytes into its writable bytes (as many as fit) and uses it with that length. */
export class EchoDevice implements VirtioDevice {
  readonly deviceId = 0x7e;
  readonly features = 1n << 3n;
  readonly queueMax = [16, 8];
  host: VirtioHost | null = null;
  resets = 0;
  notifies: number[] = [];
  attach(host: VirtioHost): void {
    this.host = host;
  }
  config(): Uint8Array {
    return Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
  }
  notify(q: number): void {
    this.notifies.push(q);
    if (q !== 0) return;
    const host = this.host!;
    const vq = host.queue(0)!;
    for (let c = vq.pop(); c !== null; c = vq.pop()) {
      const n = Math.min(c.readableLength, c.writableLength);
      scatter(host.dma, c.writable, 0, gather(host.dma, c.readable, 0, n));
      vq.push(c.head, n);
    }
    host.usedBuffers(0);
  }
  reset(): void {
    this.resets++;
  }
}

/** DRAM, clock, IOMMU, IRQs and `device` in virtio slot `slot`, with a driver for it. */
export function testBoard(device: VirtioDevice | null, slot = 0, dramSize = 1 << 20) {
  const dram = new Dram(dramSize);
  const clock = new VirtualClock();
  const iommu = new Iommu(dram);
  const irqs = new TestIrqs();
  const { mmio, irq } = createVirtioSlot(slot, device, iommu, irqs, clock);
  const drv = new TestDriver(mmio, dram);
  return { dram, clock, iommu, irqs, irq, mmio, drv };
}

/** Run the clock's events until none is left or `maxCycles` pass (a device's completions). */
export function runEvents(clock: VirtualClock, maxCycles = 1e9): void {
  const limit = clock.cycles + maxCycles;
  while (clock.nextEventCycle() <= limit && clock.skipToNextEvent()) clock.runDue();
}
