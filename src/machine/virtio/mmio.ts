// virtio-mmio transport, version 2 only (virtio 1.2 §4.2.2), one slot of the board.
//
// Slots sit at VIRTIO_MMIO_BASE + n·0x1000 (n = 0..7) with PLIC source 1+n, as on QEMU virt.
// An empty slot is still a register window: MagicValue, Version 2, DeviceID 0, VendorID, and 0
// (or "absent") everywhere else (§4.2.2: the driver MUST ignore a device with DeviceID 0).
// VendorID is 0x7374346c ("l4ts", little-endian).
//
// Control registers take 32-bit aligned accesses only (§4.2.2.2); narrower ones read 0 and are
// ignored. The device configuration space at +0x100 takes 8-, 16- and 32-bit accesses.
//
// Features: every device is offered VIRTIO_F_VERSION_1 (32), VIRTIO_F_EVENT_IDX (29) and
// VIRTIO_F_INDIRECT_DESC (28) on top of its own bits. Setting FEATURES_OK succeeds only if the
// driver accepted a subset of the offered bits that includes VERSION_1 (§3.1.1, §6.1); otherwise
// the bit does not stick and the driver sees it clear when it re-reads Status.
//
// Device errors (§2.1.1 "DEVICE_NEEDS_RESET"): a malformed ring or chain (VirtqueueError), a DMA
// access the IOMMU refused on a ring or a buffer the device cannot report through (DmaFault), or a
// bad queue setup sets DEVICE_NEEDS_RESET (0x40) and, once DRIVER_OK is set, raises a
// configuration change interrupt (§2.1.2). The device then does nothing until the driver writes
// Status = 0. None of these escape as host exceptions.
//
// Interrupts: InterruptStatus bit 0 = used buffer, bit 1 = configuration change; the PLIC line is
// high while InterruptStatus != 0 (§4.2.2, InterruptStatus/InterruptACK).

import type { MmioDevice } from '../bus.ts';
import type { ClockEvent, VirtualClock } from '../clock.ts';
import { DmaFault, type DmaPort } from '../dma.ts';
import type { Iommu } from '../iommu.ts';
import { irqLine, type IrqController, type IrqLine } from '../irq.ts';
import { Virtqueue, VirtqueueError, VIRTQ_MAX_SIZE } from './virtqueue.ts';

export const VIRTIO_MMIO_BASE = 0x1000_1000;
export const VIRTIO_MMIO_STRIDE = 0x1000;
export const VIRTIO_MMIO_SLOTS = 8;
export const VIRTIO_MMIO_IRQ_BASE = 1;

export const VIRTIO_MMIO_MAGIC = 0x7472_6976; // "virt"
export const VIRTIO_MMIO_VERSION = 2;
export const VIRTIO_VENDOR_L4TS = 0x7374_346c; // "l4ts"

/** Register offsets, virtio 1.2 §4.2.2 table "MMIO Device Register Layout". */
export const VIRTIO_MMIO = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  SHM_SEL: 0x0ac,
  SHM_LEN_LOW: 0x0b0,
  SHM_LEN_HIGH: 0x0b4,
  SHM_BASE_LOW: 0x0b8,
  SHM_BASE_HIGH: 0x0bc,
  QUEUE_RESET: 0x0c0,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** Device status bits (§2.1). */
export const VIRTIO_STATUS_ACKNOWLEDGE = 1;
export const VIRTIO_STATUS_DRIVER = 2;
export const VIRTIO_STATUS_DRIVER_OK = 4;
export const VIRTIO_STATUS_FEATURES_OK = 8;
export const VIRTIO_STATUS_DEVICE_NEEDS_RESET = 0x40;
export const VIRTIO_STATUS_FAILED = 0x80;

/** Reserved feature bits (§6). */
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

export const VIRTIO_INT_USED = 1;
export const VIRTIO_INT_CONFIG = 2;

const TRANSPORT_FEATURES = (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VIRTIO_F_EVENT_IDX)) |
  (1n << BigInt(VIRTIO_F_INDIRECT_DESC));

/** What the transport gives a device: its clock, its DMA port, its queues, and its signals. */
export interface VirtioHost {
  readonly clock: VirtualClock;
  readonly dma: DmaPort;
  /** Queue q once the driver set QueueReady, else null. */
  queue(q: number): Virtqueue | null;
  /** True when feature `bit` was negotiated. */
  hasFeature(bit: number): boolean;
  /** True when the device may use its queues: FEATURES_OK and DRIVER_OK set, no NEEDS_RESET. */
  live(): boolean;
  /** Buffers were pushed on queue q: interrupt unless the driver suppressed it (§2.7.7, §2.7.10). */
  usedBuffers(q: number): void;
  /** The device configuration changed: bump ConfigGeneration, configuration change interrupt. */
  configChanged(): void;
  /** Unrecoverable device error: DEVICE_NEEDS_RESET; the device stops until reset. */
  fail(reason: string): void;
  /** Run `fn` `delayCycles` from now if the device is still live then; cancelled by reset; a
   * DmaFault or VirtqueueError from `fn` becomes `fail`. */
  after(delayCycles: number, fn: () => void): void;
  /** Run `fn` now with the same error handling as `after`. */
  guard(fn: () => void): void;
}

/** A virtio device type (blk, net, ...) behind the transport. */
export interface VirtioDevice {
  readonly deviceId: number;
  /** Device-type feature bits offered (the transport adds the reserved bits it implements). */
  readonly features: bigint;
  /** QueueNumMax of each queue; the length is the number of queues. */
  readonly queueMax: readonly number[];
  /** Called once, when the transport is built. */
  attach(host: VirtioHost): void;
  /** The device-specific configuration space, little-endian, as read at +0x100. */
  config(): Uint8Array;
  /** A driver write into the configuration space (optional: read-only config otherwise). */
  writeConfig?(offset: number, size: 1 | 2 | 4, value: number): void;
  /** The driver notified queue q; only called while live and the queue is ready. */
  notify(q: number): void;
  /** DRIVER_OK was just set (the device may start delivering, e.g. received frames). */
  driverOk?(): void;
  /** Device reset: forget all in-flight work. Scheduled `after` callbacks are already cancelled. */
  reset(): void;
}

interface QueueRegs {
  num: number;
  ready: boolean;
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
  vq: Virtqueue | null;
  /** A notify arrived before DRIVER_OK; delivered when DRIVER_OK is set. */
  notifyPending: boolean;
}

const TWO32 = 0x1_0000_0000;

export class VirtioMmio implements MmioDevice, VirtioHost {
  readonly name: string;
  /** The reason for the last DEVICE_NEEDS_RESET, for tests and diagnostics. */
  lastError: string | null = null;
  /** Called when the device enters DEVICE_NEEDS_RESET. */
  onError: ((reason: string) => void) | null = null;
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private negotiated = 0n;
  private queueSel = 0;
  private queues: QueueRegs[] = [];
  private interruptStatus = 0;
  private configGeneration = 0;
  private shmSel = 0;
  private events = new Set<ClockEvent>();
  private readonly offered: bigint;

  constructor(
    readonly slot: number,
    readonly device: VirtioDevice | null,
    readonly dma: DmaPort,
    private readonly irq: IrqLine,
    readonly clock: VirtualClock,
  ) {
    this.name = `virtio${slot}`;
    this.offered = device === null ? 0n : device.features | TRANSPORT_FEATURES;
    this.resetQueues();
    device?.attach(this);
  }

  // ---- VirtioHost ----

  queue(q: number): Virtqueue | null {
    return this.queues[q]?.vq ?? null;
  }

  hasFeature(bit: number): boolean {
    return (this.negotiated & (1n << BigInt(bit))) !== 0n;
  }

  live(): boolean {
    const need = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
    return (this.status & need) === need && (this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) === 0;
  }

  usedBuffers(q: number): void {
    const vq = this.queue(q);
    if (vq !== null && vq.shouldInterrupt()) this.raise(VIRTIO_INT_USED);
  }

  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if ((this.status & VIRTIO_STATUS_DRIVER_OK) !== 0) this.raise(VIRTIO_INT_CONFIG);
  }

  fail(reason: string): void {
    if ((this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) !== 0) return;
    this.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    this.lastError = reason;
    // §2.1.2: with DRIVER_OK set, DEVICE_NEEDS_RESET comes with a configuration change notification.
    if ((this.status & VIRTIO_STATUS_DRIVER_OK) !== 0) this.raise(VIRTIO_INT_CONFIG);
    this.onError?.(reason);
  }

  after(delayCycles: number, fn: () => void): void {
    const ev = this.clock.after(delayCycles, () => {
      this.events.delete(ev);
      if (this.live()) this.guard(fn);
    });
    this.events.add(ev);
  }

  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof DmaFault || e instanceof VirtqueueError) this.fail(`${this.name}: ${e.message}`);
      else throw e;
    }
  }

  // ---- MmioDevice ----

  read(offset: number, size: 1 | 2 | 4): number {
    const R = VIRTIO_MMIO;
    if (offset >= R.CONFIG) return this.readConfig(offset - R.CONFIG, size);
    if (size !== 4 || (offset & 3) !== 0) return 0;
    switch (offset) {
      case R.MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
      case R.VERSION: return VIRTIO_MMIO_VERSION;
      case R.DEVICE_ID: return this.device?.deviceId ?? 0;
      case R.VENDOR_ID: return VIRTIO_VENDOR_L4TS;
      case R.SHM_LEN_LOW: case R.SHM_LEN_HIGH: case R.SHM_BASE_LOW: case R.SHM_BASE_HIGH:
        return 0xffff_ffff; // no shared memory regions: every SHMSel reads as absent (§4.2.2)
    }
    if (this.device === null) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case R.DEVICE_FEATURES:
        return this.deviceFeaturesSel < 2 ? Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn) : 0;
      case R.DEVICE_FEATURES_SEL: return this.deviceFeaturesSel;
      case R.DRIVER_FEATURES:
        return this.driverFeaturesSel < 2 ? Number((this.driverFeatures >> BigInt(32 * this.driverFeaturesSel)) & 0xffff_ffffn) : 0;
      case R.DRIVER_FEATURES_SEL: return this.driverFeaturesSel;
      case R.QUEUE_SEL: return this.queueSel;
      case R.QUEUE_NUM_MAX: return q === undefined ? 0 : this.device.queueMax[this.queueSel];
      case R.QUEUE_NUM: return q?.num ?? 0;
      case R.QUEUE_READY: return q?.ready ? 1 : 0;
      case R.INTERRUPT_STATUS: return this.interruptStatus;
      case R.STATUS: return this.status;
      case R.QUEUE_DESC_LOW: return q?.desc[0] ?? 0;
      case R.QUEUE_DESC_HIGH: return q?.desc[1] ?? 0;
      case R.QUEUE_DRIVER_LOW: return q?.driver[0] ?? 0;
      case R.QUEUE_DRIVER_HIGH: return q?.driver[1] ?? 0;
      case R.QUEUE_DEVICE_LOW: return q?.device[0] ?? 0;
      case R.QUEUE_DEVICE_HIGH: return q?.device[1] ?? 0;
      case R.SHM_SEL: return this.shmSel;
      case R.CONFIG_GENERATION: return this.configGeneration;
      default: return 0; // QueueReset (VIRTIO_F_RING_RESET not offered) and reserved offsets
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const R = VIRTIO_MMIO;
    if (this.device === null) return;
    if (offset >= R.CONFIG) {
      this.device.writeConfig?.(offset - R.CONFIG, size, value);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    const q = this.queues[this.queueSel];
    // §4.2.2.2: while QueueReady is set, the queue's size and addresses must not change.
    const setup = q !== undefined && !q.ready;
    switch (offset) {
      case R.DEVICE_FEATURES_SEL: this.deviceFeaturesSel = value; return;
      case R.DRIVER_FEATURES_SEL: this.driverFeaturesSel = value; return;
      case R.DRIVER_FEATURES: {
        // §3.1.1: no new feature bits after FEATURES_OK; words beyond 1 hold no defined bits, but
        // are recorded so that FEATURES_OK refuses a driver that sets them.
        if ((this.status & VIRTIO_STATUS_FEATURES_OK) !== 0 || this.driverFeaturesSel > 3) return;
        const shift = BigInt(32 * this.driverFeaturesSel);
        this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
        return;
      }
      case R.QUEUE_SEL: this.queueSel = value; return;
      case R.QUEUE_NUM: if (setup) q.num = value; return;
      case R.QUEUE_READY: this.setQueueReady(value & 1); return;
      case R.QUEUE_NOTIFY: this.queueNotify(value); return;
      case R.INTERRUPT_ACK:
        this.interruptStatus &= ~value;
        this.updateIrq();
        return;
      case R.STATUS: this.setStatus(value & 0xff); return;
      case R.QUEUE_DESC_LOW: if (setup) q.desc[0] = value; return;
      case R.QUEUE_DESC_HIGH: if (setup) q.desc[1] = value; return;
      case R.QUEUE_DRIVER_LOW: if (setup) q.driver[0] = value; return;
      case R.QUEUE_DRIVER_HIGH: if (setup) q.driver[1] = value; return;
      case R.QUEUE_DEVICE_LOW: if (setup) q.device[0] = value; return;
      case R.QUEUE_DEVICE_HIGH: if (setup) q.device[1] = value; return;
      case R.SHM_SEL: this.shmSel = value; return;
      default: return;
    }
  }

  /** Device reset (§2.4): Status 0 written, or the board resets. */
  reset(): void {
    for (const ev of this.events) this.clock.cancel(ev);
    this.events.clear();
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.negotiated = 0n;
    this.queueSel = 0;
    this.shmSel = 0;
    this.resetQueues();
    this.interruptStatus = 0;
    this.updateIrq();
    this.device?.reset();
  }

  // ---- internals ----

  private resetQueues(): void {
    const n = this.device?.queueMax.length ?? 0;
    this.queues = [];
    for (let i = 0; i < n; i++) {
      this.queues.push({ num: 0, ready: false, desc: [0, 0], driver: [0, 0], device: [0, 0], vq: null, notifyPending: false });
    }
  }

  private setStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    // DEVICE_NEEDS_RESET belongs to the device: the driver can neither set nor clear it.
    let next = (value & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    if ((next & VIRTIO_STATUS_FEATURES_OK) !== 0 && (old & VIRTIO_STATUS_FEATURES_OK) === 0) {
      if (this.featuresAcceptable()) this.negotiated = this.driverFeatures;
      else next &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    this.status = next;
    if ((next & VIRTIO_STATUS_DRIVER_OK) !== 0 && (old & VIRTIO_STATUS_DRIVER_OK) === 0 && this.live()) {
      const device = this.device!;
      this.guard(() => device.driverOk?.());
      this.queues.forEach((q, i) => {
        if (q.notifyPending && q.vq !== null && this.live()) {
          q.notifyPending = false;
          this.guard(() => device.notify(i));
        }
      });
    }
  }

  private featuresAcceptable(): boolean {
    const f = this.driverFeatures;
    return (f & ~this.offered) === 0n && (f & (1n << BigInt(VIRTIO_F_VERSION_1))) !== 0n;
  }

  private setQueueReady(ready: number): void {
    const q = this.queues[this.queueSel];
    if (q === undefined) return;
    if (ready === 0) {
      q.ready = false;
      q.vq = null;
      q.notifyPending = false;
      return;
    }
    if (q.ready) return;
    const max = this.device!.queueMax[this.queueSel];
    const desc = q.desc[0] + q.desc[1] * TWO32;
    const driver = q.driver[0] + q.driver[1] * TWO32;
    const device = q.device[0] + q.device[1] * TWO32;
    let problem: string | null = null;
    if (q.num === 0 || q.num > max || q.num > VIRTQ_MAX_SIZE || (q.num & (q.num - 1)) !== 0) {
      problem = `queue ${this.queueSel} size ${q.num} is not a power of 2 in 1..${max} (§2.7)`;
    } else if (desc % 16 !== 0 || driver % 2 !== 0 || device % 4 !== 0) {
      problem = `queue ${this.queueSel} areas are misaligned (descriptors 16, driver 2, device 4; §2.7)`;
    }
    if (problem !== null) {
      this.fail(`${this.name}: ${problem}`);
      return;
    }
    q.vq = new Virtqueue(
      this.dma,
      { size: q.num, desc, driver, device },
      this.hasFeature(VIRTIO_F_EVENT_IDX),
      this.hasFeature(VIRTIO_F_INDIRECT_DESC),
    );
    q.ready = true;
  }

  private queueNotify(index: number): void {
    const q = this.queues[index];
    if (q === undefined || q.vq === null) return;
    if ((this.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) !== 0) return;
    if (!this.live()) {
      // §3.1.1: buffers may be made available before DRIVER_OK, but the device only uses them after.
      q.notifyPending = true;
      return;
    }
    const device = this.device!;
    this.guard(() => device.notify(index));
  }

  private readConfig(offset: number, size: 1 | 2 | 4): number {
    if (this.device === null) return 0;
    const cfg = this.device.config();
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | (cfg[offset + i] ?? 0);
    return v >>> 0;
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set(this.interruptStatus !== 0);
  }
}

/** Physical base of virtio-mmio slot `slot`. */
export function virtioSlotBase(slot: number): number {
  return VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_STRIDE;
}

/** PLIC source of virtio-mmio slot `slot`. */
export function virtioSlotIrq(slot: number): number {
  return VIRTIO_MMIO_IRQ_BASE + slot;
}

/** Everything the board needs to put a device (or nothing) in slot `slot`: the transport, wired to
 * the slot's IOMMU port (device id = slot) and PLIC source 1+slot, and where to attach it. */
export function createVirtioSlot(
  slot: number,
  device: VirtioDevice | null,
  iommu: Iommu,
  plic: IrqController,
  clock: VirtualClock,
): { base: number; size: number; irq: number; mmio: VirtioMmio } {
  if (!Number.isInteger(slot) || slot < 0 || slot >= VIRTIO_MMIO_SLOTS) {
    throw new RangeError(`virtio createVirtioSlot: slot ${slot} is not in 0..${VIRTIO_MMIO_SLOTS - 1}`);
  }
  const irq = virtioSlotIrq(slot);
  const mmio = new VirtioMmio(slot, device, iommu.port(slot), irqLine(plic, irq), clock);
  return { base: virtioSlotBase(slot), size: VIRTIO_MMIO_STRIDE, irq, mmio };
}
