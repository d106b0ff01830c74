import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRAM_BASE } from '../memory.ts';
import { VIRTIO_F_VERSION_1, VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_MMIO as R } from './mmio.ts';
import {
  VirtioBlk, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, type VirtioBlkOptions,
} from './blk.ts';
import { MemoryBackend, type BlockBackend } from './blk-backend.ts';
import { FileBackend } from './blk-file.ts';
import { runEvents, testBoard, type TestBuffer, type TestDriver, type TestQueue } from './test-driver.ts';
import type { Dram } from '../memory.ts';

const V1 = 1n << BigInt(VIRTIO_F_VERSION_1);
const FLUSH = 1n << BigInt(VIRTIO_BLK_F_FLUSH);
const TIMING = { latencyCycles: 1000, cyclesPerByte: 0.5 };

function blkBoard(backend: BlockBackend, features = V1 | FLUSH, opts: VirtioBlkOptions = { timing: TIMING }) {
  const blk = new VirtioBlk(backend, opts);
  const b = testBoard(blk, 0, 4 << 20);
  const { ok } = b.drv.negotiate(features);
  assert.equal(ok, true);
  const q = b.drv.setupQueue(0, 16);
  b.drv.driverOk();
  return { ...b, blk, q };
}

interface Req {
  head: number;
  data: number;
  status: number;
}

/** Lay out a request as Linux does (header, data, status: three descriptors) and make it available. */
function submit(
  drv: TestDriver, dram: Dram, q: TestQueue, type: number, sector: number,
  opts: { out?: Uint8Array; inLen?: number; statusAt?: number; dataAt?: number } = {},
): Req {
  const hdr = drv.alloc(16);
  dram.writeU32(hdr, type);
  dram.writeU32(hdr + 8, sector);
  const bufs: TestBuffer[] = [{ addr: hdr, len: 16 }];
  let data = 0;
  if (opts.out !== undefined) {
    data = opts.dataAt ?? drv.alloc(opts.out.length);
    dram.writeBytes(data, opts.out);
    bufs.push({ addr: data, len: opts.out.length });
  } else if (opts.inLen !== undefined) {
    data = opts.dataAt ?? drv.alloc(opts.inLen);
    bufs.push({ addr: data, len: opts.inLen, write: true });
  }
  const status = opts.statusAt ?? drv.alloc(1);
  dram.u8[status - DRAM_BASE] = 0xff;
  bufs.push({ addr: status, len: 1, write: true });
  return { head: q.add(bufs), data, status };
}

const statusOf = (dram: Dram, r: Req) => dram.u8[r.status - DRAM_BASE];
const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'l4ts-blk-'));
}

test('virtio-blk: DeviceID 2, features and configuration space', () => {
  const b = testBoard(new VirtioBlk(new MemoryBackend(64 * 512 + 100), { queueSize: 64 }));
  assert.equal(b.drv.r(R.DEVICE_ID), 2);
  const f = b.drv.offeredFeatures();
  for (const bit of [VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_F_VERSION_1]) {
    assert.ok(f & (1n << BigInt(bit)), `bit ${bit} offered`);
  }
  assert.equal(f & (1n << BigInt(VIRTIO_BLK_F_RO)), 0n);
  assert.equal(b.drv.readConfig(0, 4), 64, 'capacity in whole sectors');
  assert.equal(b.drv.readConfig(4, 4), 0);
  assert.equal(b.drv.readConfig(12, 4), 62, 'seg_max');
  assert.equal(b.drv.readConfig(20, 4), 512, 'blk_size');
  b.drv.w(R.QUEUE_SEL, 0);
  assert.equal(b.drv.r(R.QUEUE_NUM_MAX), 64);
});

test('virtio-blk: write, read back, flush and GET_ID against a temp file; writes reach the file', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'disk.img');
  const initial = pattern(8 * 512, 3);
  writeFileSync(path, initial);
  const file = FileBackend.open(path);
  t.after(() => file.close());
  const { drv, dram, q, clock, blk } = blkBoard(file, V1 | FLUSH, { timing: TIMING, id: 'disk-0' });

  const out = pattern(1024, 99);
  const w = submit(drv, dram, q, VIRTIO_BLK_T_OUT, 2, { out });
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, w), VIRTIO_BLK_S_OK);
  assert.deepEqual(q.takeUsed(), [{ id: w.head, len: 1 }]);
  const onDisk = readFileSync(path);
  assert.deepEqual(onDisk.subarray(1024, 2048), Buffer.from(out));
  assert.deepEqual(onDisk.subarray(0, 1024), Buffer.from(initial.subarray(0, 1024)), 'sectors 0-1 untouched');

  const r = submit(drv, dram, q, VIRTIO_BLK_T_IN, 1, { inLen: 1536 });
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, r), VIRTIO_BLK_S_OK);
  assert.deepEqual(q.takeUsed(), [{ id: r.head, len: 1537 }]);
  const back = dram.readBytes(r.data, 1536);
  assert.deepEqual(back.subarray(0, 512), initial.subarray(512, 1024));
  assert.deepEqual(back.subarray(512), out);

  const f = submit(drv, dram, q, VIRTIO_BLK_T_FLUSH, 0);
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, f), VIRTIO_BLK_S_OK);

  const id = submit(drv, dram, q, VIRTIO_BLK_T_GET_ID, 0, { inLen: 20 });
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, id), VIRTIO_BLK_S_OK);
  assert.deepEqual(q.takeUsed().at(-1), { id: id.head, len: 21 });
  const idBytes = dram.readBytes(id.data, 20);
  assert.equal(new TextDecoder().decode(idBytes.subarray(0, 6)), 'disk-0');
  assert.deepEqual([...idBytes.subarray(6)], new Array(14).fill(0), 'NUL-padded');
  assert.equal(blk.stats.requests, 4);
});

test('virtio-blk: completion time is latency + bytes × cyclesPerByte, requests served in order', () => {
  const { drv, dram, q, clock } = blkBoard(new MemoryBackend(64 * 512));
  const start = clock.cycles;
  const a = submit(drv, dram, q, VIRTIO_BLK_T_IN, 0, { inLen: 2048 }); // 1000 + 1024 cycles
  const b = submit(drv, dram, q, VIRTIO_BLK_T_OUT, 4, { out: pattern(512, 1) }); // 1000 + 256
  const c = submit(drv, dram, q, VIRTIO_BLK_T_FLUSH, 0); // 1000
  q.notify();
  const done: [number, number][] = [];
  while (clock.skipToNextEvent()) {
    clock.runDue();
    for (const u of q.takeUsed()) done.push([u.id, clock.cycles - start]);
  }
  assert.deepEqual(done, [[a.head, 2024], [b.head, 2024 + 1256], [c.head, 2024 + 1256 + 1000]]);
  assert.equal(statusOf(dram, a), VIRTIO_BLK_S_OK);
});

test('virtio-blk: nothing completes before its time, and the interrupt comes with the completion', () => {
  const { drv, dram, q, clock, irqs } = blkBoard(new MemoryBackend(8 * 512));
  submit(drv, dram, q, VIRTIO_BLK_T_IN, 0, { inLen: 512 });
  q.notify();
  assert.equal(q.usedIdx(), 0);
  clock.cycles += 1255;
  clock.runDue();
  assert.equal(q.usedIdx(), 0);
  assert.equal(irqs.get(1), false);
  clock.cycles += 1;
  clock.runDue();
  assert.equal(q.usedIdx(), 1);
  assert.equal(irqs.get(1), true);
});

test('virtio-blk: without VIRTIO_BLK_F_FLUSH negotiated every write is flushed (writethrough)', () => {
  const mem = new MemoryBackend(8 * 512);
  const { drv, dram, q, clock } = blkBoard(mem, V1);
  submit(drv, dram, q, VIRTIO_BLK_T_OUT, 0, { out: pattern(512, 5) });
  q.notify();
  runEvents(clock);
  assert.equal(mem.flushes, 1);
  const m2 = new MemoryBackend(8 * 512);
  const b2 = blkBoard(m2, V1 | FLUSH);
  submit(b2.drv, b2.dram, b2.q, VIRTIO_BLK_T_OUT, 0, { out: pattern(512, 5) });
  b2.q.notify();
  runEvents(b2.clock);
  assert.equal(m2.flushes, 0, 'writeback: only FLUSH requests flush');
});

test('virtio-blk: unknown type → UNSUPP; out of range or partial sectors → IOERR', () => {
  const mem = new MemoryBackend(8 * 512);
  const { drv, dram, q, clock, blk } = blkBoard(mem);
  const u = submit(drv, dram, q, 99, 0);
  const far = submit(drv, dram, q, VIRTIO_BLK_T_IN, 8, { inLen: 512 });
  const across = submit(drv, dram, q, VIRTIO_BLK_T_OUT, 7, { out: pattern(1024, 0) });
  const partial = submit(drv, dram, q, VIRTIO_BLK_T_IN, 0, { inLen: 100 });
  const huge = submit(drv, dram, q, VIRTIO_BLK_T_IN, 0xffff_ffff, { inLen: 512 });
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, u), VIRTIO_BLK_S_UNSUPP);
  for (const r of [far, across, partial, huge]) assert.equal(statusOf(dram, r), VIRTIO_BLK_S_IOERR);
  assert.deepEqual(q.takeUsed().map((x) => x.len), [1, 1, 1, 1, 1]);
  assert.deepEqual([...mem.data.subarray(7 * 512, 7 * 512 + 4)], [0, 0, 0, 0]);
  assert.equal(blk.stats.ioErrors, 4);
  assert.equal(blk.stats.unsupported, 1);
});

test('virtio-blk: a read-only file offers VIRTIO_BLK_F_RO and refuses writes with IOERR', (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ro.img');
  const initial = pattern(4 * 512, 11);
  writeFileSync(path, initial);
  chmodSync(path, 0o444);
  const file = FileBackend.open(path, { readOnly: true });
  t.after(() => file.close());
  assert.equal(file.readOnly, true);
  const ro = 1n << BigInt(VIRTIO_BLK_F_RO);
  const { drv, dram, q, clock } = blkBoard(file, V1 | FLUSH | ro);
  assert.ok(drv.offeredFeatures() & ro);
  const w = submit(drv, dram, q, VIRTIO_BLK_T_OUT, 1, { out: pattern(512, 200) });
  const r = submit(drv, dram, q, VIRTIO_BLK_T_IN, 1, { inLen: 512 });
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, w), VIRTIO_BLK_S_IOERR);
  assert.equal(statusOf(dram, r), VIRTIO_BLK_S_OK);
  assert.deepEqual(dram.readBytes(r.data, 512), initial.subarray(512, 1024));
  assert.deepEqual(new Uint8Array(readFileSync(path)), initial, 'the file is unchanged');
});

test('virtio-blk: a header and a payload split over several descriptors are gathered and scattered', () => {
  // The usual layout (one descriptor each) is served in place; any other is staged. Both must
  // move the same bytes.
  const mem = new MemoryBackend(8 * 512);
  const { drv, dram, q, clock } = blkBoard(mem);
  const hdr = drv.alloc(16);
  dram.writeU32(hdr, VIRTIO_BLK_T_OUT);
  dram.writeU32(hdr + 8, 2);
  const a = drv.alloc(512);
  const b = drv.alloc(512);
  const data = pattern(1024, 31);
  dram.writeBytes(a, data.subarray(0, 512));
  dram.writeBytes(b, data.subarray(512));
  const st = drv.alloc(1);
  q.add([{ addr: hdr, len: 8 }, { addr: hdr + 8, len: 8 }, { addr: a, len: 512 }, { addr: b, len: 512 }, { addr: st, len: 1, write: true }]);
  q.notify();
  runEvents(clock);
  assert.equal(dram.u8[st - DRAM_BASE], VIRTIO_BLK_S_OK);
  assert.deepEqual([...mem.data.subarray(1024, 2048)], [...data]);
  // Read it back into three pieces (100 + 412 + 512 bytes), the status byte in a fourth.
  const h2 = drv.alloc(16);
  dram.writeU32(h2, VIRTIO_BLK_T_IN);
  dram.writeU32(h2 + 8, 2);
  const p1 = drv.alloc(100), p2 = drv.alloc(412), p3 = drv.alloc(512), st2 = drv.alloc(1);
  const head = q.add([{ addr: h2, len: 16 }, { addr: p1, len: 100, write: true }, { addr: p2, len: 412, write: true }, { addr: p3, len: 512, write: true }, { addr: st2, len: 1, write: true }]);
  q.notify();
  runEvents(clock);
  assert.equal(dram.u8[st2 - DRAM_BASE], VIRTIO_BLK_S_OK);
  assert.deepEqual([...dram.readBytes(p1, 100), ...dram.readBytes(p2, 412), ...dram.readBytes(p3, 512)], [...data]);
  assert.deepEqual(q.takeUsed().at(-1), { id: head, len: 1025 });
});

test('virtio-blk: an IN buffer outside the IOMMU window → IOERR, fault logged, refused memory untouched', () => {
  const mem = new MemoryBackend(8 * 512);
  mem.data.fill(0xab);
  const { drv, dram, q, clock, iommu, mmio } = blkBoard(mem);
  const ring = { base: q.desc, size: q.used + 6 + 8 * 16 - q.desc };
  const hdrAndStatus = drv.alloc(0x1000, 0x1000);
  const outside = drv.alloc(512, 0x1000);
  iommu.setMode('enforce');
  iommu.setWindow(0, 0, { ...ring, read: true, write: true });
  iommu.setWindow(0, 1, { base: hdrAndStatus, size: 0x1000, read: true, write: true });
  // Header and status live inside window 1; the data buffer does not.
  dram.writeU32(hdrAndStatus, VIRTIO_BLK_T_IN);
  dram.writeU32(hdrAndStatus + 8, 0);
  dram.u8[hdrAndStatus + 16 - DRAM_BASE] = 0xff;
  const head = q.add([
    { addr: hdrAndStatus, len: 16 },
    { addr: outside, len: 512, write: true },
    { addr: hdrAndStatus + 16, len: 1, write: true },
  ]);
  q.notify();
  runEvents(clock);
  assert.equal(dram.u8[hdrAndStatus + 16 - DRAM_BASE], VIRTIO_BLK_S_IOERR);
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 1 }]);
  assert.deepEqual([...dram.readBytes(outside, 512)], new Array(512).fill(0), 'refused memory untouched');
  assert.deepEqual(iommu.faults(), [{ device: 0, addr: outside, len: 512, access: 'write' }]);
  assert.equal(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0, 'the device carries on');
  assert.equal(mmio.lastError, null);

  // An OUT whose data may not be read leaves the disk untouched.
  const src = drv.alloc(512, 0x1000);
  dram.writeBytes(src, pattern(512, 77));
  dram.writeU32(hdrAndStatus + 32, VIRTIO_BLK_T_OUT);
  dram.writeU32(hdrAndStatus + 40, 1);
  q.add([{ addr: hdrAndStatus + 32, len: 16 }, { addr: src, len: 512 }, { addr: hdrAndStatus + 48, len: 1, write: true }]);
  q.notify();
  runEvents(clock);
  assert.equal(dram.u8[hdrAndStatus + 48 - DRAM_BASE], VIRTIO_BLK_S_IOERR);
  assert.deepEqual([...mem.data.subarray(512, 516)], [0xab, 0xab, 0xab, 0xab]);
  assert.equal(iommu.faults().length, 2);
  assert.equal(iommu.faults()[1].access, 'read');
});

test('virtio-blk: a status byte the IOMMU refuses → DEVICE_NEEDS_RESET', () => {
  const { drv, dram, q, clock, iommu, mmio, irqs } = blkBoard(new MemoryBackend(8 * 512));
  iommu.setMode('enforce');
  iommu.setWindow(0, 0, { base: DRAM_BASE, size: 0x1_0000 + 0x1000, read: true, write: true });
  const status = DRAM_BASE + 0x3_0000; // outside the window
  submit(drv, dram, q, VIRTIO_BLK_T_FLUSH, 0, { statusAt: status });
  q.notify();
  runEvents(clock);
  assert.ok(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.match(mmio.lastError ?? '', /write of 1 bytes/);
  assert.equal(dram.u8[status - DRAM_BASE], 0xff, 'untouched');
  assert.equal(q.usedIdx(), 0);
  assert.equal(irqs.get(1), true, 'configuration change interrupt');
});

test('virtio-blk: a request without a writable status byte → DEVICE_NEEDS_RESET', () => {
  const { drv, dram, q, clock, mmio } = blkBoard(new MemoryBackend(8 * 512));
  const hdr = drv.alloc(16);
  dram.writeU32(hdr, VIRTIO_BLK_T_FLUSH);
  q.add([{ addr: hdr, len: 16 }]);
  q.notify();
  runEvents(clock);
  assert.ok(drv.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.match(mmio.lastError ?? '', /status byte/);
});

test('virtio-blk: a reset while a request is in flight cancels its completion', () => {
  const mem = new MemoryBackend(8 * 512);
  const { drv, dram, q, clock } = blkBoard(mem);
  const w = submit(drv, dram, q, VIRTIO_BLK_T_OUT, 0, { out: pattern(512, 9) });
  q.notify();
  assert.equal(clock.nextEventCycle() > clock.cycles, true);
  drv.w(R.STATUS, 0);
  assert.equal(clock.nextEventCycle(), Infinity);
  runEvents(clock);
  assert.equal(statusOf(dram, w), 0xff);
  assert.equal(mem.data[0], 0, 'the write never happened');
});

test('virtio-blk: a backend that throws gives IOERR', () => {
  const failing: BlockBackend = {
    size: 8 * 512, readOnly: false,
    read() { throw new Error('EIO'); },
    write() { throw new Error('EIO'); },
    flush() { throw new Error('EIO'); },
  };
  const { drv, dram, q, clock, blk } = blkBoard(failing);
  const r = submit(drv, dram, q, VIRTIO_BLK_T_IN, 0, { inLen: 512 });
  const f = submit(drv, dram, q, VIRTIO_BLK_T_FLUSH, 0);
  q.notify();
  runEvents(clock);
  assert.equal(statusOf(dram, r), VIRTIO_BLK_S_IOERR);
  assert.equal(statusOf(dram, f), VIRTIO_BLK_S_IOERR);
  assert.match(blk.lastIoError ?? '', /EIO/);
});
