import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRAM_BASE } from '../memory.ts';
import {
  VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1, VIRTIO_INT_CONFIG, VIRTIO_INT_USED,
  VIRTIO_MMIO as R, VIRTIO_MMIO_MAGIC, VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK, VIRTIO_VENDOR_L4TS, createVirtioSlot, virtioSlotBase,
} from './mmio.ts';
import { EchoDevice, testBoard } from './test-driver.ts';

const V1 = 1n << BigInt(VIRTIO_F_VERSION_1);
const ALL = (1n << 64n) - 1n;

test('virtio-mmio: an empty slot is a window reading magic, version 2, DeviceID 0', () => {
  const { drv, irq } = testBoard(null, 5);
  assert.equal(irq, 6, 'slot n uses PLIC source 1+n');
  assert.equal(drv.r(R.MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
  assert.equal(drv.r(R.VERSION), 2);
  assert.equal(drv.r(R.DEVICE_ID), 0);
  assert.equal(drv.r(R.VENDOR_ID), VIRTIO_VENDOR_L4TS);
  assert.equal(drv.r(R.DEVICE_FEATURES), 0);
  assert.equal(drv.r(R.QUEUE_NUM_MAX), 0);
  drv.w(R.STATUS, 7);
  assert.equal(drv.status(), 0, 'writes are ignored');
  assert.equal(virtioSlotBase(5), 0x1000_6000);
});

test('virtio-mmio: identity, offered features (VERSION_1, EVENT_IDX, INDIRECT_DESC + device bits), absent SHM', () => {
  const { drv } = testBoard(new EchoDevice());
  assert.equal(drv.r(R.DEVICE_ID), 0x7e);
  const f = drv.offeredFeatures();
  assert.equal(f, V1 | (1n << BigInt(VIRTIO_F_EVENT_IDX)) | (1n << BigInt(VIRTIO_F_INDIRECT_DESC)) | (1n << 3n));
  drv.w(R.DEVICE_FEATURES_SEL, 2);
  assert.equal(drv.r(R.DEVICE_FEATURES), 0);
  drv.w(R.SHM_SEL, 0);
  assert.equal(drv.r(R.SHM_LEN_LOW), 0xffff_ffff);
  assert.equal(drv.r(R.SHM_LEN_HIGH), 0xffff_ffff);
  assert.equal(drv.r(R.SHM_BASE_LOW), 0xffff_ffff);
  assert.equal(drv.r(R.QUEUE_RESET), 0);
  assert.equal(drv.r(R.CONFIG_GENERATION), 0);
  drv.w(R.QUEUE_SEL, 0);
  assert.equal(drv.r(R.QUEUE_NUM_MAX), 16);
  drv.w(R.QUEUE_SEL, 1);
  assert.equal(drv.r(R.QUEUE_NUM_MAX), 8);
  drv.w(R.QUEUE_SEL, 2);
  assert.equal(drv.r(R.QUEUE_NUM_MAX), 0, 'no such queue');
});

test('virtio-mmio: FEATURES_OK sticks only for a subset of the offer that includes VERSION_1', () => {
  const { drv } = testBoard(new EchoDevice());
  assert.equal(drv.negotiate(ALL).ok, true);
  assert.equal(drv.negotiate(0n).ok, false, 'VERSION_1 not accepted');
  assert.equal(drv.negotiate(V1, 1n << 5n).ok, false, 'bit 5 was not offered');
  // A bit in feature word 2 (nothing is offered there).
  drv.w(R.STATUS, 0);
  drv.w(R.STATUS, 3);
  drv.w(R.DRIVER_FEATURES_SEL, 1);
  drv.w(R.DRIVER_FEATURES, 1);
  drv.w(R.DRIVER_FEATURES_SEL, 2);
  drv.w(R.DRIVER_FEATURES, 1);
  drv.w(R.STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
  assert.equal(drv.status() & VIRTIO_STATUS_FEATURES_OK, 0, 'a bit in feature word 2');
  const { ok } = drv.negotiate(V1);
  assert.equal(ok, true);
  // After FEATURES_OK the driver cannot add features.
  drv.w(R.DRIVER_FEATURES_SEL, 0);
  drv.w(R.DRIVER_FEATURES, 1 << 3);
  assert.equal(drv.r(R.DRIVER_FEATURES), 0);
});

test('virtio-mmio: byte-wide config reads; narrow control accesses read 0; reset on Status 0', () => {
  const dev = new EchoDevice();
  const { drv, mmio } = testBoard(dev);
  assert.equal(drv.readConfig(0, 1), 0x11);
  assert.equal(drv.readConfig(2, 2), 0x4433);
  assert.equal(drv.readConfig(4, 4), 0x88776655);
  assert.equal(drv.readConfig(100, 4), 0);
  assert.equal(mmio.read(R.MAGIC_VALUE, 1), 0);
  drv.negotiate(V1);
  drv.setupQueue(0, 8);
  drv.driverOk();
  assert.notEqual(drv.status(), 0);
  const before = dev.resets;
  drv.w(R.STATUS, 0);
  assert.equal(drv.status(), 0);
  assert.equal(dev.resets, before + 1);
  drv.w(R.QUEUE_SEL, 0);
  assert.equal(drv.r(R.QUEUE_READY), 0, 'reset clears QueueReady');
});

test('virtio-mmio: used-buffer interrupt drives the IRQ line until acknowledged', () => {
  const { drv, dram, irqs } = testBoard(new EchoDevice(), 2);
  drv.negotiate(V1);
  const q = drv.setupQueue(0, 8);
  drv.driverOk();
  const src = drv.alloc(4);
  const dst = drv.alloc(4);
  dram.writeBytes(src, Uint8Array.of(9, 8, 7, 6));
  q.add([{ addr: src, len: 4 }, { addr: dst, len: 4, write: true }]);
  q.notify();
  assert.deepEqual(q.takeUsed(), [{ id: 0, len: 4 }]);
  assert.deepEqual([...dram.readBytes(dst, 4)], [9, 8, 7, 6]);
  assert.equal(drv.interruptStatus(), VIRTIO_INT_USED);
  assert.equal(irqs.get(3), true);
  drv.ack(VIRTIO_INT_USED);
  assert.equal(drv.interruptStatus(), 0);
  assert.equal(irqs.get(3), false);
});

test('virtio-mmio: a notify before DRIVER_OK is held until DRIVER_OK (§3.1.1)', () => {
  const dev = new EchoDevice();
  const { drv, dram } = testBoard(dev);
  drv.negotiate(V1);
  const q = drv.setupQueue(0, 4);
  const b = drv.alloc(8);
  q.add([{ addr: b, len: 4 }, { addr: b + 4, len: 4, write: true }]);
  q.notify();
  assert.deepEqual(dev.notifies, []);
  assert.equal(q.usedIdx(), 0);
  drv.driverOk();
  assert.deepEqual(dev.notifies, [0]);
  assert.equal(q.usedIdx(), 1);
  void dram;
});

test('virtio-mmio: bad queue setups set DEVICE_NEEDS_RESET, and Status 0 recovers', () => {
  const { drv, mmio } = testBoard(new EchoDevice());
  drv.negotiate(V1);
  drv.w(R.QUEUE_SEL, 0);
  drv.w(R.QUEUE_NUM, 12); // not a power of 2
  drv.w(R.QUEUE_DESC_LOW, DRAM_BASE);
  drv.w(R.QUEUE_DRIVER_LOW, DRAM_BASE + 0x1000);
  drv.w(R.QUEUE_DEVICE_LOW, DRAM_BASE + 0x2000);
  drv.w(R.QUEUE_READY, 1);
  assert.equal(drv.r(R.QUEUE_READY), 0);
  assert.ok(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.match(mmio.lastError ?? '', /power of 2/);
  drv.w(R.STATUS, drv.status() & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.ok(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 'the driver cannot clear it');
  drv.negotiate(V1); // starts with a reset
  assert.equal(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
  drv.w(R.QUEUE_SEL, 0);
  drv.w(R.QUEUE_NUM, 8);
  drv.w(R.QUEUE_DESC_LOW, DRAM_BASE + 8); // misaligned
  drv.w(R.QUEUE_DRIVER_LOW, DRAM_BASE + 0x1000);
  drv.w(R.QUEUE_DEVICE_LOW, DRAM_BASE + 0x2000);
  drv.w(R.QUEUE_READY, 1);
  assert.match(mmio.lastError ?? '', /misaligned/);
  drv.negotiate(V1);
  drv.w(R.QUEUE_SEL, 0);
  drv.w(R.QUEUE_NUM, 32); // above QueueNumMax 16
  drv.w(R.QUEUE_READY, 1);
  assert.ok(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
});

test('virtio-mmio: a device error after DRIVER_OK raises the configuration-change interrupt', () => {
  const { drv, mmio, irqs } = testBoard(new EchoDevice(), 1);
  drv.negotiate(V1);
  drv.setupQueue(0, 8);
  drv.driverOk();
  let reported = '';
  mmio.onError = (r) => { reported = r; };
  mmio.fail('test: broken');
  assert.equal(drv.status() & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK),
    VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK);
  assert.equal(drv.interruptStatus(), VIRTIO_INT_CONFIG);
  assert.equal(irqs.get(2), true);
  assert.equal(reported, 'test: broken');
  assert.equal(mmio.live(), false);
});

test('virtio-mmio: configChanged bumps ConfigGeneration', () => {
  const { drv, mmio } = testBoard(new EchoDevice());
  drv.negotiate(V1);
  drv.driverOk();
  mmio.configChanged();
  assert.equal(drv.r(R.CONFIG_GENERATION), 1);
  assert.equal(drv.interruptStatus(), VIRTIO_INT_CONFIG);
});

test('virtio-mmio: createVirtioSlot refuses a slot beyond 7', () => {
  const { iommu, clock, irqs } = testBoard(null);
  assert.throws(() => createVirtioSlot(8, null, iommu, irqs, clock), /slot 8/);
});
