// The user-level block driver on the kernel (docs/DRIVERS.md): data integrity through both
// interfaces against the host image file, flush, read-only devices, the IOMMU stopping a driver
// that programs DMA outside its windows, the driver resetting its device after a device error
// (and giving up on one that keeps failing), and a client scribbling over its ring.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackend } from '../../src/machine/virtio/blk-file.ts';
import { MemoryBackend } from '../../src/machine/virtio/blk-backend.ts';
import * as P from '../../user/lib/io-proto.ts';
import { Rig, buildBlkSystem, startBlkSystem, blockPattern, integrityWrites } from './rig.ts';

const DISK_BYTES = 4 << 20; // 8192 sectors

function randomImage(seed: number): Uint8Array {
  const b = new Uint8Array(DISK_BYTES);
  let s = seed >>> 0;
  for (let i = 0; i < b.length; i += 4) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b[i] = s; b[i + 1] = s >>> 8; b[i + 2] = s >>> 16; b[i + 3] = s >>> 24;
  }
  return b;
}

/** Expected image: `orig` with each vbd's replayed writes applied. */
function expectedImage(orig: Uint8Array, runs: { base: number; seed: number; ops: number; qd: number; blocks: number }[]): Uint8Array {
  const want = orig.slice();
  for (const r of runs) {
    for (const [block, write] of integrityWrites(r.seed, r.ops, r.qd, r.blocks)) {
      want.set(blockPattern(r.seed, block, write), r.base * 512 + block * 4096);
    }
  }
  return want;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

test('blk: random writes then reads through both interfaces match the host image file byte for byte; flush reaches the file', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-blk-'));
  try {
    const path = join(dir, 'disk.img');
    const orig = randomImage(99);
    writeFileSync(path, orig);
    const disk = FileBackend.open(path);
    let flushes = 0;
    const flush = disk.flush.bind(disk);
    disk.flush = () => { flushes++; flush(); };
    const rig = new Rig({ disk });
    // vbd 1: sectors 1024.. (sync); vbd 2: sectors 4096.. (ring, queue depth 16; it connects at
    // run time, passing its data frame, notification and ring page to the driver).
    const runs = [
      { base: 1024, seed: 0x1234, ops: 120, qd: 1, blocks: 64 },
      { base: 4096, seed: 0xbeef, ops: 200, qd: 16, blocks: 128 },
    ];
    const s = await buildBlkSystem(rig, [
      { base: 1024, sectors: 2048, writable: true, tasks: [{ mode: P.CM_SYNC_INTEGRITY, ops: 120, seed: 0x1234, blocks: 64 }] },
      { base: 4096, sectors: 2048, writable: true, ring: true, connect: true, tasks: [{ mode: P.CM_RING_INTEGRITY, ops: 200, qd: 16, seed: 0xbeef, blocks: 128 }] },
    ], P.DRV_F_VERBOSE);
    startBlkSystem(s);
    rig.runUntilDone(s.clients.flat(), 5e8);
    assert.deepEqual(s.clients.flat().map((p) => p.status), [0, 0], rig.log);
    assert.match(rig.log, /blk: client 2 connected with a ring/, 'the ring client connected at run time, by capability transfer');
    assert.equal(s.driver.status, null, 'the driver keeps running');
    assert.ok(flushes >= 2, `flush reached the backend (${flushes})`);
    const got = new Uint8Array(readFileSync(path));
    const want = expectedImage(orig, runs);
    const d = firstDiff(got, want);
    assert.equal(d, -1, `host image differs at byte ${d} (sector ${Math.floor(d / 512)})`);
    assert.equal(rig.board.iommu.faultTotal, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blk: a driver that programs DMA outside its windows is stopped by the IOMMU and reported', { timeout: 120_000 }, async () => {
  const orig = randomImage(5);
  const disk = new MemoryBackend(orig.slice());
  const rig = new Rig({ disk });
  const s = await buildBlkSystem(rig, [
    { base: 0, sectors: 1024, writable: true, tasks: [{ mode: P.CM_SYNC_PROBE }] },
  ], P.DRV_F_EVIL_DMA);
  startBlkSystem(s);
  const target = s.dataPa[0] - 0x10_0000;
  const before = rig.board.dram.u8.slice(target - rig.board.dram.base, target - rig.board.dram.base + 4096);
  rig.runUntilDone(s.clients.flat(), 2e8);
  // The probe's first read was the one the driver misdirected: the device reported IOERR, so
  // the probe counts one failure ('read: status 1, expected 0'), and nothing else went wrong.
  assert.equal(s.clients[0][0].status, 1, rig.log);
  assert.match(rig.log, /read: status 1, expected 0/);
  assert.match(rig.log, /evil variant/);
  const faults = rig.board.iommu.faults();
  assert.ok(faults.length >= 1, 'the IOMMU recorded the refused access');
  assert.equal(faults[0].device, 0);
  assert.equal(Number(faults[0].addr), target);
  const after = rig.board.dram.u8.slice(target - rig.board.dram.base, target - rig.board.dram.base + 4096);
  assert.deepEqual(after, before, 'the refused DMA touched no memory');
  assert.equal(s.driver.status, null, 'the driver keeps running');
  // The device reported the refused buffer through the request's status: no device error.
  assert.doesNotMatch(rig.log, /resetting the device/);
});

test('blk: a client scribbling over its ring cannot crash the driver, stall others or reach their sectors; read-only devices refuse writes; a connect with the wrong capabilities is refused', { timeout: 240_000 }, async () => {
  const orig = randomImage(77);
  const bytes = orig.slice();
  const disk = new MemoryBackend(bytes);
  const rig = new Rig({ disk });
  const good = { base: 2048, seed: 0x51, ops: 160, qd: 8, blocks: 64 };
  const s = await buildBlkSystem(rig, [
    { base: 0, sectors: 1024, writable: true, ring: true, tasks: [{ mode: P.CM_RING_SCRIBBLE, seed: 3, blocks: 128 }] },
    { base: 2048, sectors: 1024, writable: true, ring: true, tasks: [{ mode: P.CM_RING_INTEGRITY, ops: 160, qd: 8, seed: 0x51, blocks: 64 }] },
    { base: 4096, sectors: 1024, writable: false, connect: true, tasks: [{ mode: P.CM_SYNC_PROBE }] },
  ]);
  startBlkSystem(s);
  rig.runUntilDone(s.clients.flat(), 5e8);
  assert.deepEqual(s.clients.flat().map((p) => p.status), [0, 0, 0], rig.log);
  assert.match(rig.log, /client 1: impossible request producer index; ring disconnected/);
  assert.equal(s.driver.status, null, 'the driver keeps running');
  // Outside the scribbler's own sectors [0, 1024), the disk holds exactly the good client's
  // writes; the read-only device [4096, 5120) is untouched.
  const want = expectedImage(orig, [good]);
  const d = firstDiff(bytes.subarray(1024 * 512), want.subarray(1024 * 512));
  assert.equal(d, -1, `disk differs at byte ${d + 1024 * 512}`);
  assert.equal(rig.board.iommu.faultTotal, 0);
});

/**
 * The evil variant with DRV_F_EVIL_RESET misdirects the first data request's buffer and its
 * status byte, so the device cannot report the refused buffer and fails (DEVICE_NEEDS_RESET).
 * A synchronous and a ring client, each on its own virtual device, retry requests that fail
 * with an I/O error (CC_RETRY); `victim` is the one whose first request the driver misdirects
 * (the one that does not connect at run time starts first).
 */
async function resetRun(victim: 'sync' | 'ring'): Promise<void> {
  const orig = randomImage(victim === 'sync' ? 31 : 32);
  const bytes = orig.slice();
  const disk = new MemoryBackend(bytes);
  const rig = new Rig({ disk });
  const syncRun = { base: 1024, seed: 0x5151, ops: 48, qd: 1, blocks: 64 };
  const ringRun = { base: 4096, seed: 0xa0a0, ops: 96, qd: 16, blocks: 128 };
  const syncVbd = { base: 1024, sectors: 1024, writable: true, connect: victim !== 'sync', tasks: [{ mode: P.CM_SYNC_INTEGRITY, ops: 48, seed: 0x5151, blocks: 64, retry: true }] };
  const ringVbd = { base: 4096, sectors: 2048, writable: true, ring: true, connect: victim !== 'ring', tasks: [{ mode: P.CM_RING_INTEGRITY, ops: 96, qd: 16, seed: 0xa0a0, blocks: 128, retry: true }] };
  const vbds = victim === 'sync' ? [syncVbd, ringVbd] : [ringVbd, syncVbd];
  const s = await buildBlkSystem(rig, vbds, P.DRV_F_EVIL_DMA | P.DRV_F_EVIL_RESET | P.DRV_F_VERBOSE);
  // The misdirected data buffer (1 MiB below the client's frame) and status byte (just past it).
  const target = s.dataPa[0] - 0x10_0000;
  const off = target - rig.board.dram.base;
  const before = rig.board.dram.u8.slice(off, off + 8192);
  startBlkSystem(s);
  rig.runUntilDone(s.clients.flat(), 5e8);
  assert.deepEqual(s.clients.flat().map((p) => p.status), [0, 0], rig.log);
  // The refused DMA is reported and touched nothing.
  assert.match(rig.log, /blk: \(evil variant\) programming DMA to/);
  assert.match(rig.log, /blk: \(evil variant\) status byte at/);
  const faults = rig.board.iommu.faults();
  assert.ok(faults.length >= 2, 'the IOMMU recorded the refused accesses');
  assert.ok(faults.every((f) => f.device === 0));
  assert.equal(Number(faults[0].addr), target, 'the data buffer');
  assert.equal(Number(faults[1].addr), target + 4096, 'the status byte');
  assert.deepEqual(rig.board.dram.u8.slice(off, off + 8192), before, 'the refused DMA touched no memory');
  // The device could not report it: it failed; the driver logged one reset and went on.
  assert.equal((rig.log.match(/blk: device needs reset \(DEVICE_NEEDS_RESET\): resetting the device/g) ?? []).length, 1, rig.log);
  assert.match(rig.log, /resetting the device \(reset 1, 1 in a row\), failing \d+ request\(s\) in flight with an I\/O error/);
  assert.match(rig.log, /blk: device re-initialised, serving again/);
  assert.equal(s.driver.status, null, 'the driver keeps running');
  // The request that hit the error completed with an I/O error; its client retried it.
  const [hit, other] = s.clients.map((c) => c[0]);
  assert.match(hit.output, victim === 'sync' ? /client: sync write of sector \d+: I\/O error, retrying/ : /client: ring write of sector \d+: I\/O error, retrying/);
  assert.match(hit.output, /client: \d+ request\(s\) failed with an I\/O error and were retried; 0 failure\(s\)/);
  assert.doesNotMatch(other.output, /I\/O error/, 'the other client had nothing in flight');
  // Both clients read back everything they wrote (they compare), and the disk holds exactly
  // their writes: nothing written successfully was lost, the retried writes landed once.
  const want = expectedImage(orig, [syncRun, ringRun]);
  const d = firstDiff(bytes, want);
  assert.equal(d, -1, `disk differs at byte ${d} (sector ${Math.floor(d / 512)})`);
}

test('blk: a device error (DEVICE_NEEDS_RESET) hitting a synchronous request: the driver resets the device, the caller gets IOERR and retries, both clients carry on, data verified against the disk', { timeout: 240_000 }, async () => {
  await resetRun('sync');
});

test('blk: a device error hitting a ring batch: every request in flight answered IOERR on the ring, retried, both clients carry on, data verified against the disk', { timeout: 240_000 }, async () => {
  await resetRun('ring');
});

test('blk: a device that fails again and again: the driver gives up after 3 resets in a row and stops, its caller answered', { timeout: 120_000 }, async () => {
  const disk = new MemoryBackend(randomImage(9));
  const rig = new Rig({ disk });
  const s = await buildBlkSystem(rig, [
    { base: 0, sectors: 1024, writable: true, tasks: [{ mode: P.CM_SYNC_INTEGRITY, ops: 8, seed: 3, blocks: 16, retry: true }] },
  ]);
  startBlkSystem(s);
  // From now on the device fails whatever it is given.
  const blk = rig.blk!;
  const host = (blk as unknown as { host: { fail(reason: string): void } }).host;
  blk.notify = () => host.fail('test: a device that fails whatever it is given');
  rig.runUntilDone([s.driver], 2e8);
  assert.equal(s.driver.status, 2, rig.log);
  assert.equal((rig.log.match(/resetting the device/g) ?? []).length, 4, rig.log);
  assert.match(rig.log, /resetting the device \(reset 4, 4 in a row\)/);
  assert.match(rig.log, /blk: device failed 4 times in a row without completing a request: giving up, no longer serving/);
  // Every attempt was answered with an I/O error, the last one by the stopping driver.
  assert.equal((s.clients[0][0].output.match(/I\/O error, retrying/g) ?? []).length, 4, rig.log);
  assert.equal(rig.board.iommu.faultTotal, 0);
});
