// virtio-mmio set-up shared by the user-level drivers (user/drivers/blk, user/drivers/net;
// docs/DRIVERS.md "Device errors and reset"): the register offsets (virtio 1.2 §4.2.2), the
// device status bits (§2.1), the device reset (§2.4), the driver initialisation up to
// FEATURES_OK (§3.1.1 steps 1-6), the programming of one split virtqueue (§4.2.3.2) and
// DRIVER_OK (§3.1.1 step 8). The drivers call the same functions at start and when they
// re-initialise a device after an error. Registers are reached through the device's register
// page, mapped by the driver at `mmio` (a virtual address outside linear memory).

import { peek, poke } from './syscalls';

// ---- registers (§4.2.2, version 2) ------------------------------------------------------------
export const R_MAGIC = 0x000, R_VERSION = 0x004, R_DEVICE_ID = 0x008, R_DEV_FEATURES = 0x010, R_DEV_FEATURES_SEL = 0x014;
export const R_DRV_FEATURES = 0x020, R_DRV_FEATURES_SEL = 0x024, R_QUEUE_SEL = 0x030, R_QUEUE_NUM_MAX = 0x034;
export const R_QUEUE_NUM = 0x038, R_QUEUE_READY = 0x044, R_QUEUE_NOTIFY = 0x050, R_ISR = 0x060, R_ISR_ACK = 0x064;
export const R_STATUS = 0x070, R_QUEUE_DESC = 0x080, R_QUEUE_DRIVER = 0x090, R_QUEUE_DEVICE = 0x0a0, R_CONFIG = 0x100;
export const VIRTIO_MAGIC = 0x74726976; // "virt"

// ---- device status bits (§2.1) ----------------------------------------------------------------
export const S_ACKNOWLEDGE = 1;
export const S_DRIVER = 2;
export const S_DRIVER_OK = 4;
export const S_FEATURES_OK = 8;
export const S_NEEDS_RESET = 0x40;
export const S_FAILED = 0x80;

/** InterruptStatus bits: used buffer notification, configuration change (§4.2.2). */
export const ISR_USED = 1;
export const ISR_CONFIG = 2;

/** VIRTIO_F_VERSION_1 is bit 32: bit 0 of feature word 1 (§6). */
const F1_VERSION_1 = 1;

export function vioReg(mmio: i32, off: i32): i32 { return peek(mmio + off); }
export function vioSetReg(mmio: i32, off: i32, v: i32): void { poke(mmio + off, v); }

/** True if `mmio` holds a version-2 virtio-mmio device with device ID `id` (§4.2.3.1.1). */
export function virtioProbe(mmio: i32, id: i32): bool {
  return peek(mmio + R_MAGIC) == VIRTIO_MAGIC && peek(mmio + R_VERSION) == 2 && peek(mmio + R_DEVICE_ID) == id;
}

/** Device reset (§2.4, §4.2.3.1): write 0 to Status, then wait until Status reads 0 ("the driver
 *  MUST wait for a read of device status to return 0 before reinitializing the device"). The
 *  device stops using the queues and the driver's buffers. False if it never reads 0. */
export function virtioReset(mmio: i32): bool {
  poke(mmio + R_STATUS, 0);
  for (let i = 0; i < 1000; i++) if (peek(mmio + R_STATUS) == 0) return true;
  return false;
}

/** The device reported an error it cannot recover from (§2.1.2 DEVICE_NEEDS_RESET). */
export function virtioNeedsReset(mmio: i32): bool {
  return (peek(mmio + R_STATUS) & S_NEEDS_RESET) != 0;
}

/** Read and acknowledge the interrupt status; returns it (ISR_* bits). */
export function virtioAckInterrupt(mmio: i32): i32 {
  const isr = peek(mmio + R_ISR);
  poke(mmio + R_ISR_ACK, isr);
  return isr;
}

let offered = 0;

/** Feature word 0 the device offered at the last virtioNegotiate. */
export function virtioOffered(): i32 { return offered; }

/**
 * §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, read the device's features, accept VERSION_1 and
 * `want & offered` of feature word 0 (bits `required` must be offered), FEATURES_OK, and re-read
 * Status to see it stuck. Returns '' on success, else why not (the driver then sets FAILED and
 * stops). The offered word stays in virtioOffered().
 */
export function virtioNegotiate(mmio: i32, want: i32, required: i32): string {
  if (!virtioReset(mmio)) return 'device does not complete its reset';
  poke(mmio + R_STATUS, S_ACKNOWLEDGE);
  poke(mmio + R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
  poke(mmio + R_DEV_FEATURES_SEL, 1);
  if ((peek(mmio + R_DEV_FEATURES) & F1_VERSION_1) == 0) return 'device without VIRTIO_F_VERSION_1';
  poke(mmio + R_DEV_FEATURES_SEL, 0);
  offered = peek(mmio + R_DEV_FEATURES);
  if ((offered & required) != required) return 'device lacks required features 0x' + (<u32>(required & ~offered)).toString(16);
  poke(mmio + R_DRV_FEATURES_SEL, 1);
  poke(mmio + R_DRV_FEATURES, F1_VERSION_1);
  poke(mmio + R_DRV_FEATURES_SEL, 0);
  poke(mmio + R_DRV_FEATURES, offered & want);
  poke(mmio + R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  if ((peek(mmio + R_STATUS) & S_FEATURES_OK) == 0) return 'FEATURES_OK refused';
  return '';
}

/**
 * §4.2.3.2 virtqueue configuration: select queue `q`, check QueueNumMax, set the size and the
 * physical addresses of the descriptor table, driver (available) and device (used) areas (below
 * 4 GiB), then QueueReady. The driver must have zeroed the available and used rings' indices
 * (after a reset the device starts again from index 0). False if the queue is too small.
 */
export function virtioSetupQueue(mmio: i32, q: i32, size: i32, descPa: i32, driverPa: i32, devicePa: i32): bool {
  poke(mmio + R_QUEUE_SEL, q);
  if (peek(mmio + R_QUEUE_NUM_MAX) < size) return false;
  poke(mmio + R_QUEUE_NUM, size);
  poke(mmio + R_QUEUE_DESC, descPa);
  poke(mmio + R_QUEUE_DESC + 4, 0);
  poke(mmio + R_QUEUE_DRIVER, driverPa);
  poke(mmio + R_QUEUE_DRIVER + 4, 0);
  poke(mmio + R_QUEUE_DEVICE, devicePa);
  poke(mmio + R_QUEUE_DEVICE + 4, 0);
  poke(mmio + R_QUEUE_READY, 1);
  return true;
}

/** §3.1.1 step 8: the device is live. */
export function virtioDriverOk(mmio: i32): void {
  poke(mmio + R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/** §3.1.1 step 7's failure, or a driver giving up on its device: set FAILED (§2.1). */
export function virtioFailed(mmio: i32): void {
  poke(mmio + R_STATUS, peek(mmio + R_STATUS) | S_FAILED);
}

/** Zero `bytes` (a multiple of 4) at `va`: a ring area before the device uses it again. */
export function virtioZero(va: i32, bytes: i32): void {
  for (let i = 0; i < bytes; i += 4) poke(va + i, 0);
}

/**
 * Consecutive resets: a device that fails again before it completed anything since the last
 * (re-)initialisation counts one more in a row; one that did some work starts the count again.
 * Returns the new count; the driver gives up when it passes its limit.
 */
export function virtioResetsInARow(previous: i32, completedSinceInit: bool): i32 {
  return completedSinceInit ? 1 : previous + 1;
}
