// The user-level block driver on the kernel (docs/DRIVERS.md): data integrity through both
// interfaces against the host image file, flush, read-only devices, the IOMMU stopping a driver
// that programs DMA outside its windows, and a client scribbling over its ring.

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
