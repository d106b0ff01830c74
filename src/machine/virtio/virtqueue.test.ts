import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRAM_BASE } from '../memory.ts';
import {
  VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1, VIRTIO_INT_CONFIG, VIRTIO_INT_USED,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
} from './mmio.ts';
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, vringNeedEvent,
} from './virtqueue.ts';
import { EchoDevice, testBoard } from './test-driver.ts';

const V1 = 1n << BigInt(VIRTIO_F_VERSION_1);
const EVENT_IDX = 1n << BigInt(VIRTIO_F_EVENT_IDX);
const INDIRECT = 1n << BigInt(VIRTIO_F_INDIRECT_DESC);

/** An echo device, negotiated with `features`, queue 0 of `size` ready, DRIVER_OK. */
function echo(features: bigint, size = 8) {
  const b = testBoard(new EchoDevice());
  const { ok } = b.drv.negotiate(V1 | features);
  assert.equal(ok, true);
  const q = b.drv.setupQueue(0, size);
  b.drv.driverOk();
  return { ...b, q };
}

function needsReset(status: number): boolean {
  return (status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) !== 0;
}

test('virtqueue: vring_need_event', () => {
  assert.equal(vringNeedEvent(0, 1, 0), true);
  assert.equal(vringNeedEvent(5, 3, 2), false);
  assert.equal(vringNeedEvent(5, 6, 3), true);
  assert.equal(vringNeedEvent(0xffff, 0, 0xfffe), true, 'wraps at 16 bits');
});

test('virtqueue: a chain of several readable and writable descriptors is gathered and scattered', () => {
  const { drv, dram, q } = echo(0n);
  const a = drv.alloc(3), b = drv.alloc(5), w1 = drv.alloc(2), w2 = drv.alloc(10);
  dram.writeBytes(a, Uint8Array.of(1, 2, 3));
  dram.writeBytes(b, Uint8Array.of(4, 5, 6, 7, 8));
  const head = q.add([{ addr: a, len: 3 }, { addr: b, len: 5 }, { addr: w1, len: 2, write: true }, { addr: w2, len: 10, write: true }]);
  q.notify();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 8 }]);
  assert.deepEqual([...dram.readBytes(w1, 2)], [1, 2]);
  assert.deepEqual([...dram.readBytes(w2, 10)], [3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
});

test('virtqueue: ring indices wrap past the queue size and 16-bit index space', () => {
  const { drv, dram, q } = echo(0n, 4);
  const src = drv.alloc(1), dst = drv.alloc(1);
  for (let i = 0; i < 70; i++) {
    dram.u8[src - DRAM_BASE] = i;
    q.add([{ addr: src, len: 1 }, { addr: dst, len: 1, write: true }]);
    q.notify();
    const used = q.takeUsed();
    assert.equal(used.length, 1);
    assert.equal(dram.u8[dst - DRAM_BASE], i);
  }
  assert.equal(q.usedIdx(), 70);
});

test('virtqueue: indirect descriptors, alone and after direct ones (§2.7.5.3.2)', () => {
  const { drv, dram, q, mmio } = echo(INDIRECT);
  const src = drv.alloc(4), dst = drv.alloc(4);
  dram.writeBytes(src, Uint8Array.of(0xa, 0xb, 0xc, 0xd));
  const head = q.add([{ addr: src, len: 4 }, { addr: dst, len: 4, write: true }], { indirect: true });
  q.notify();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 4 }]);
  assert.deepEqual([...dram.readBytes(dst, 4)], [0xa, 0xb, 0xc, 0xd]);
  // A direct readable descriptor followed by an indirect table holding the writable one.
  const src2 = drv.alloc(2), dst2 = drv.alloc(2);
  dram.writeBytes(src2, Uint8Array.of(0x55, 0x66));
  const table = drv.alloc(16);
  q.writeDesc(0, { addr: dst2, len: 2, flags: VIRTQ_DESC_F_WRITE, next: 0 }, table);
  q.writeDesc(5, { addr: src2, len: 2, flags: VIRTQ_DESC_F_NEXT, next: 6 });
  q.writeDesc(6, { addr: table, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
  q.publish(5);
  q.notify();
  assert.deepEqual(q.takeUsed(), [{ id: 5, len: 2 }]);
  assert.deepEqual([...dram.readBytes(dst2, 2)], [0x55, 0x66]);
  assert.equal(mmio.lastError, null);
});

test('virtqueue: EVENT_IDX — used_event suppresses interrupts until the ring passes it', () => {
  const { drv, q } = echo(EVENT_IDX);
  const buf = drv.alloc(2);
  const one = () => {
    q.add([{ addr: buf, len: 1 }, { addr: buf + 1, len: 1, write: true }]);
    q.notify();
  };
  q.setUsedEvent(2); // interrupt when the device writes used entry 2 (used.idx reaches 3)
  one();
  assert.equal(drv.interruptStatus(), VIRTIO_INT_USED, 'the first notification is always sent');
  drv.ack(VIRTIO_INT_USED);
  one(); // used.idx 2
  assert.equal(drv.interruptStatus(), 0, 'suppressed');
  one(); // used.idx 3: passes used_event 2
  assert.equal(drv.interruptStatus(), VIRTIO_INT_USED);
  drv.ack(VIRTIO_INT_USED);
  one(); // used.idx 4, used_event still 2
  assert.equal(drv.interruptStatus(), 0);
  q.setUsedEvent(4);
  one(); // used.idx 5
  assert.equal(drv.interruptStatus(), VIRTIO_INT_USED);
});

test('virtqueue: EVENT_IDX — the device publishes avail_event as the next index it will read', () => {
  const { drv, q } = echo(EVENT_IDX);
  assert.equal(q.availEvent(), 0);
  const buf = drv.alloc(2);
  for (let i = 0; i < 3; i++) q.add([{ addr: buf, len: 1 }, { addr: buf + 1, len: 1, write: true }]);
  q.notify();
  assert.equal(q.usedIdx(), 3);
  assert.equal(q.availEvent(), 3);
});

test('virtqueue: without EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT suppresses interrupts', () => {
  const { drv, q } = echo(0n);
  const buf = drv.alloc(2);
  q.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
  q.add([{ addr: buf, len: 1 }, { addr: buf + 1, len: 1, write: true }]);
  q.notify();
  assert.equal(q.usedIdx(), 1);
  assert.equal(drv.interruptStatus(), 0);
  q.setAvailFlags(0);
  q.add([{ addr: buf, len: 1 }, { addr: buf + 1, len: 1, write: true }]);
  q.notify();
  assert.equal(drv.interruptStatus(), VIRTIO_INT_USED);
});

/** Each malformed layout must end in DEVICE_NEEDS_RESET with a config interrupt, never a throw. */
const malformed: [string, bigint, (q: ReturnType<typeof echo>['q'], buf: number) => void, RegExp][] = [
  ['a descriptor loop', 0n, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 1, flags: VIRTQ_DESC_F_NEXT, next: 1 });
    q.writeDesc(1, { addr: buf, len: 1, flags: VIRTQ_DESC_F_NEXT, next: 0 });
    q.publish(0);
  }, /longer than 8 descriptors/],
  ['a head index out of range', 0n, (q) => q.publish(9), /head index 9/],
  ['a next index out of range', 0n, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 1, flags: VIRTQ_DESC_F_NEXT, next: 200 });
    q.publish(0);
  }, /next index 200/],
  ['a readable descriptor after a writable one', 0n, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 1, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, next: 1 });
    q.writeDesc(1, { addr: buf, len: 1, flags: 0, next: 0 });
    q.publish(0);
  }, /readable descriptor after a writable/],
  ['INDIRECT not negotiated', 0n, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    q.publish(0);
  }, /without VIRTIO_F_INDIRECT_DESC/],
  ['a nested indirect table', INDIRECT, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 }, buf);
    q.writeDesc(0, { addr: buf, len: 16, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    q.publish(0);
  }, /inside an indirect table/],
  ['an indirect table of 20 bytes', INDIRECT, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 20, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    q.publish(0);
  }, /multiple of 16/],
  ['INDIRECT together with NEXT', INDIRECT, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 16, flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, next: 1 });
    q.publish(0);
  }, /both INDIRECT and NEXT/],
  ['a loop inside an indirect table', INDIRECT, (q, buf) => {
    q.writeDesc(0, { addr: buf, len: 1, flags: VIRTQ_DESC_F_NEXT, next: 1 }, buf + 64);
    q.writeDesc(1, { addr: buf, len: 1, flags: VIRTQ_DESC_F_NEXT, next: 0 }, buf + 64);
    q.writeDesc(0, { addr: buf + 64, len: 32, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    q.publish(0);
  }, /longer than 2 descriptors/],
  ['an available index beyond the queue size', 0n, (q) => {
    for (let i = 0; i < 9; i++) q.publish(0);
  }, /beyond queue size/],
];

for (const [what, features, lay, message] of malformed) {
  test(`virtqueue: ${what} is a device error`, () => {
    const { drv, q, mmio, irqs } = echo(features);
    const buf = drv.alloc(256);
    lay(q, buf);
    assert.doesNotThrow(() => q.notify());
    assert.equal(needsReset(drv.status()), true);
    assert.match(mmio.lastError ?? '', message);
    assert.equal(drv.interruptStatus() & VIRTIO_INT_CONFIG, VIRTIO_INT_CONFIG);
    assert.equal(irqs.get(1), true);
    assert.equal(q.usedIdx(), 0, 'nothing used');
    // The device ignores notifies until reset.
    assert.doesNotThrow(() => q.notify());
  });
}

test('virtqueue: ring accesses go through the IOMMU — a refused ring is a device error and is logged', () => {
  const { drv, q, iommu, mmio } = echo(0n);
  const buf = drv.alloc(2);
  iommu.setMode('enforce'); // nothing granted to device 0
  q.add([{ addr: buf, len: 1 }, { addr: buf + 1, len: 1, write: true }]);
  q.notify();
  assert.equal(needsReset(drv.status()), true);
  assert.match(mmio.lastError ?? '', /device 0 read of 2 bytes/);
  assert.deepEqual(iommu.faults()[0], { device: 0, addr: q.avail + 2, len: 2, access: 'read' });
});
