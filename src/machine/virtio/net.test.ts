import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VIRTIO_F_VERSION_1, VIRTIO_MMIO as R, VIRTIO_STATUS_DEVICE_NEEDS_RESET } from './mmio.ts';
import { VirtioNet, VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_HDR_BYTES } from './net.ts';
import { VirtualSwitch, parseMac } from './switch.ts';
import { runEvents, testBoard, type TestQueue } from './test-driver.ts';
import { DRAM_BASE } from '../memory.ts';

const FEATURES = (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VIRTIO_NET_F_MAC)) | (1n << BigInt(VIRTIO_NET_F_STATUS));
const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const RX_BUF = 1526;

/** A board with one NIC on `sw`, driver set up, `rxBuffers` receive buffers posted. */
function nicBoard(sw: VirtualSwitch, mac: string, rxBuffers: number, opts: { backlog?: number; driverOk?: boolean } = {}) {
  const nic = new VirtioNet({ mac, network: sw, backlog: opts.backlog, queueSize: 16 });
  const b = testBoard(nic, 1);
  assert.equal(b.drv.negotiate(FEATURES).ok, true);
  const rx = b.drv.setupQueue(0, 16);
  const tx = b.drv.setupQueue(1, 16);
  const rxBufs: number[] = [];
  const post = (n: number, size = RX_BUF) => {
    for (let i = 0; i < n; i++) {
      const a = b.drv.alloc(size);
      rxBufs.push(a);
      rx.add([{ addr: a, len: size, write: true }]);
    }
    rx.notify();
  };
  if (opts.driverOk ?? true) b.drv.driverOk();
  post(rxBuffers);
  return { ...b, nic, rx, tx, rxBufs, post };
}

/** An Ethernet frame dst ← src with `n` payload bytes valued from `seed`. */
function frame(dst: string, src: string, n = 46, seed = 0): Uint8Array {
  const f = new Uint8Array(14 + n);
  f.set(parseMac(dst), 0);
  f.set(parseMac(src), 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  for (let i = 0; i < n; i++) f[14 + i] = (seed + i) & 0xff;
  return f;
}

/** Transmit `f` as a guest would: a 12-byte zero header descriptor then the frame. */
function send(board: ReturnType<typeof nicBoard>, f: Uint8Array, tx: TestQueue = board.tx): void {
  const hdr = board.drv.alloc(VIRTIO_NET_HDR_BYTES);
  const data = board.drv.alloc(f.length);
  board.dram.writeBytes(data, f);
  tx.add([{ addr: hdr, len: VIRTIO_NET_HDR_BYTES }, { addr: data, len: f.length }]);
  tx.notify();
}

/** Received frames (header checked and stripped), in used-ring order. */
function received(board: ReturnType<typeof nicBoard>): Uint8Array[] {
  return board.rx.takeUsed().map((u) => {
    const buf = board.dram.readBytes(board.rxBufs[u.id], u.len);
    assert.deepEqual([...buf.subarray(0, 12)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 'virtio_net_hdr with num_buffers 1');
    return buf.subarray(VIRTIO_NET_HDR_BYTES);
  });
}

test('virtio-net: DeviceID 1, MAC and STATUS features, config holds the MAC and link up', () => {
  const sw = new VirtualSwitch();
  const b = testBoard(new VirtioNet({ mac: '52:54:00:12:34:56', network: sw }), 1);
  assert.equal(b.drv.r(R.DEVICE_ID), 1);
  const f = b.drv.offeredFeatures();
  assert.ok(f & (1n << 5n));
  assert.ok(f & (1n << 16n));
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => b.drv.readConfig(i, 1)), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
  assert.equal(b.drv.readConfig(6, 2), 1);
  assert.throws(() => new VirtioNet({ mac: Uint8Array.of(1, 2, 3) }), /6 bytes/);
});

test('virtio-net: two NICs on one switch exchange frames both ways; the switch learns', () => {
  const sw = new VirtualSwitch({ latencyCycles: 500, cyclesPerByte: 1 });
  const tapped: Uint8Array[] = [];
  sw.attachTap((f) => tapped.push(f));
  const a = nicBoard(sw, A, 4);
  const b = nicBoard(sw, B, 4);

  const f1 = frame(B, A, 50, 1);
  send(a, f1);
  assert.equal(a.tx.takeUsed().length, 1, 'transmit completes during the notify');
  assert.equal(a.nic.stats.txFrames, 1);
  assert.equal(tapped.length, 1, 'B unknown yet: flooded, the tap sees it');
  assert.equal(b.clock.nextEventCycle(), b.clock.cycles + 500 + 64, 'delivered on the receiver clock');
  runEvents(b.clock);
  assert.deepEqual(received(b), [f1]);
  assert.equal(b.nic.stats.rxFrames, 1);

  const f2 = frame(A, B, 100, 2);
  send(b, f2);
  runEvents(a.clock);
  assert.deepEqual(received(a), [f2]);
  assert.equal(tapped.length, 1, 'A was learned: forwarded to A only');
  assert.equal(sw.stats.forwarded, 1);
  assert.equal(sw.macTable().get(A), 1);

  // Several frames keep their order and the rx used lengths are header + frame.
  const burst = [frame(B, A, 46, 10), frame(B, A, 1500, 11), frame(BCAST, A, 46, 12)];
  for (const f of burst) send(a, f);
  runEvents(b.clock);
  assert.deepEqual(received(b), burst);
  assert.equal(a.irqs.get(2), true, 'slot 1 interrupts on PLIC source 2');
});

test('virtio-net: NICs on different boards only touch their own clocks', () => {
  const sw = new VirtualSwitch();
  const a = nicBoard(sw, A, 2);
  const b = nicBoard(sw, B, 2);
  a.clock.cycles = 1_000_000;
  send(a, frame(B, A));
  assert.equal(a.clock.nextEventCycle(), Infinity);
  assert.ok(b.clock.nextEventCycle() < 10_000);
  runEvents(b.clock);
  assert.equal(received(b).length, 1);
});

test('virtio-net: no free receive buffer — frames wait in a bounded backlog, then are dropped and counted', () => {
  const sw = new VirtualSwitch();
  const a = nicBoard(sw, A, 0);
  const b = nicBoard(sw, B, 0, { backlog: 3 });
  const frames = [0, 1, 2, 3, 4].map((i) => frame(B, A, 46, i * 16));
  for (const f of frames) send(a, f);
  runEvents(b.clock);
  assert.equal(b.nic.backlogLength, 3);
  assert.equal(b.nic.stats.rxDropped, 2);
  assert.equal(b.rx.usedIdx(), 0);
  b.post(2);
  assert.deepEqual(received(b), frames.slice(0, 2), 'oldest first');
  assert.equal(b.nic.backlogLength, 1);
  send(a, frame(B, A, 46, 0xee)); // must queue behind the backlog, not overtake it
  runEvents(b.clock);
  b.post(4);
  const rest = received(b);
  assert.deepEqual(rest, [frames[2], frame(B, A, 46, 0xee)]);
  assert.equal(b.nic.stats.rxFrames, 4);
});

test('virtio-net: a receive buffer too small for the frame is returned empty and counted', () => {
  const sw = new VirtualSwitch();
  const a = nicBoard(sw, A, 0);
  const b = nicBoard(sw, B, 0);
  b.post(1, 40);
  b.post(1);
  send(a, frame(B, A, 60));
  send(a, frame(B, A, 20));
  runEvents(b.clock);
  const used = b.rx.takeUsed();
  assert.deepEqual(used.map((u) => u.len), [0, VIRTIO_NET_HDR_BYTES + 34]);
  assert.equal(b.nic.stats.rxTooBig, 1);
});

test('virtio-net: runt and oversized transmit frames are not sent but their buffers are returned', () => {
  const sw = new VirtualSwitch();
  const tapped: Uint8Array[] = [];
  sw.attachTap((f) => tapped.push(f));
  const a = nicBoard(sw, A, 0);
  send(a, new Uint8Array(10));
  send(a, frame(BCAST, A, 1600));
  assert.equal(a.tx.takeUsed().length, 2);
  assert.equal(a.nic.stats.txErrors, 2);
  assert.equal(tapped.length, 0);
});

test('virtio-net: frames before DRIVER_OK are dropped; a tap can inject frames', () => {
  const sw = new VirtualSwitch();
  const tap = sw.attachTap(() => {});
  const b = nicBoard(sw, B, 2, { driverOk: false });
  tap.send(frame(B, A));
  runEvents(b.clock);
  assert.equal(b.nic.stats.rxDropped, 1);
  b.drv.driverOk();
  const f = frame(B, A, 46, 5);
  tap.send(f);
  runEvents(b.clock);
  assert.deepEqual(received(b), [f]);
});

test('virtio-net: a receive buffer outside the IOMMU window is a device error, memory untouched', () => {
  const sw = new VirtualSwitch();
  const tap = sw.attachTap(() => {});
  const b = nicBoard(sw, B, 1);
  b.iommu.setMode('enforce');
  const rings = DRAM_BASE + 0x1_0000; // the test driver's heap: rings first, then the buffer
  b.iommu.setWindow(1, 0, { base: rings, size: b.rxBufs[0] - rings, read: true, write: true });
  tap.send(frame(B, A));
  runEvents(b.clock);
  assert.ok(b.drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.match(b.mmio.lastError ?? '', /device 1 write/);
  assert.deepEqual([...b.dram.readBytes(b.rxBufs[0], 16)], new Array(16).fill(0));
  assert.equal(b.iommu.faults().length, 1);
});
