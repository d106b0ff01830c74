// The virtio-blk driver in the booted system (manifests/storage.json): `l4ts boot` with --disk on
// a temporary image file starts the driver from the manifest; two clients find "blk" through the
// name service and connect with a frame from their quota, each to its own partition (the
// service's blockDevices): storage (read-write) writes a pattern, reads it back and flushes,
// reader (read-only) is refused its write and reads its own sectors, ring-client (the service is
// ring-capable: it holds a notification from the manifest, in a slot its start information names,
// not the first free one: it provides a service of its own) writes and reads through a ring; none
// reaches past its device; the host image changes only in the writers' sectors 0..7; a component without
// `uses: blk` is refused by the name service; the root task hands out the manifest's distribution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedCapabilities, formatCaps } from '../../src/manifest/caps.ts';
import { encodeBootPlan } from '../../src/manifest/bootplan.ts';
import { CompSlot } from '../../src/abi/caps.ts';
import { loadManifest, buildImages, bootSystem, runUntilRootDone, liveCaps, PROJECT_ROOT } from '../../src/cli/boot.ts';
import { VirtioBlk } from '../../src/machine/virtio/blk.ts';
import { MemoryBackend } from '../../src/machine/virtio/blk-backend.ts';

const MANIFEST = join(PROJECT_ROOT, 'manifests', 'storage.json');

function l4ts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}

/** user/storage/client.ts's pattern: word i of sectors 0..7 of a read-write device. */
function pattern(i: number): number {
  return (0x4c345453 ^ Math.imul(i, 0x9e3779b1)) >>> 0;
}

/** user/storage/ring.ts's pattern. */
function ringPattern(i: number): number {
  return (0x52494e47 ^ Math.imul(i, 0x9e3779b1)) >>> 0;
}

/** manifests/storage.json's blockDevices, in bytes of the disk. */
const STORAGE = { first: 1024 * 512, bytes: 512 * 512 };
const RING = { first: 1536 * 512, bytes: 512 * 512 };
const READER = { first: 256 * 512, bytes: 256 * 512 };

test('storage: the blk driver started from the manifest serves each client its own partition; the image file changes only where the read-write clients wrote', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-storage-'));
  try {
    const disk = join(dir, 'disk.img');
    const before = Buffer.alloc(1 << 20, 0xee);
    before.fill(0x5a, READER.first, READER.first + READER.bytes);
    writeFileSync(disk, before);
    const r = await l4ts(['boot', MANIFEST, '--disk', disk]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, /\[storage\] connected: 512 sectors, read-write/, out);
    assert.match(out, /\[storage\] read of sector 512 \(past the device\): 3 \(refused\)/, out);
    assert.match(out, /\[storage\] write 0, read 0, flush 0: pattern read back/, out);
    assert.match(out, /\[storage\] storage test passed/, out);
    // The read-only client: its write refused, its reads see its own partition (0x5a), not the
    // disk's first sectors nor storage's.
    assert.match(out, /\[reader\] connected: 256 sectors, read-only/, out);
    assert.match(out, /\[reader\] read of sector 256 \(past the device\): 3 \(refused\)/, out);
    assert.match(out, /\[reader\] write 3 \(refused\), read 0: first word 0x5a5a5a5a/, out);
    assert.match(out, /\[reader\] reader test passed/, out);
    // The ring client: requests on its ring, woken through the notification the manifest gave it,
    // found through its start information's capability directory where the encoder put it.
    const sm = loadManifest(MANIFEST, ['blk', null, null, null, null, null, null, null]);
    const ntfn = encodeBootPlan(sm, sm.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 1, entry: 0 }))
      .slotOf('ring-client', 'Notification', 'ring:ring-client');
    assert.notEqual(ntfn, CompSlot.FirstFree);
    assert.match(out, new RegExp(`\\[ring-client\\] ring notification for blk in slot ${ntfn}\n`), out);
    assert.match(out, /\[ring-client\] connected with a ring: 512 sectors, read-write/, out);
    assert.match(out, /\[ring-client\] ring: write 0, write of sector 512 \(past the device\) 3 \(refused\), read 0: pattern read back/, out);
    assert.match(out, /\[ring-client\] ring-client test passed/, out);
    assert.match(out, /\[intruder\] lookup of blk: -101 \(refused: not allowed\)/, out);
    assert.doesNotMatch(out, /\[blk\]|killed:|abort:/, out);
    const img = readFileSync(disk);
    for (let i = 0; i < 1024; i++) assert.equal(img.readUInt32LE(RING.first + 4 * i), ringPattern(i), `word ${i} of ring-client's partition`);
    assert.equal(img.length, before.length);
    for (let i = 0; i < 1024; i++) assert.equal(img.readUInt32LE(STORAGE.first + 4 * i), pattern(i), `word ${i} of storage's partition`);
    // Byte for byte, everything but storage's and ring-client's sectors 0..7 is as before: the
    // reader's partition, the rest of the writers', and the disk outside all three.
    for (let b = 0; b < img.length; b++) {
      if (b >= STORAGE.first && b < STORAGE.first + 4096) continue;
      if (b >= RING.first && b < RING.first + 4096) continue;
      if (img[b] !== before[b]) assert.fail(`byte ${b} of the image changed`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('storage: --caps after the system settles: everything it holds is explained, nothing granted is missing (ring-client\'s own service and its notification, passed on to the driver)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-storage-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20, 0xee));
    const r = await l4ts(['boot', MANIFEST, '--disk', disk, '--caps']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /l4ts: caps: (unexplained|missing)/, r.stderr);
    for (const l of ['ring-client cspace Endpoint(svc:ring-status) R', 'ring-client cspace Notification(ring:ring-client) RW', 'blk cspace Notification(ring:ring-client) RW']) {
      assert.ok(r.stdout.split('\n').includes(l), `${l}\n${r.stdout}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('storage: a disk too small for the manifest\'s virtual block devices: the driver says so at start and serves nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-storage-'));
  try {
    const disk = join(dir, 'small.img');
    writeFileSync(disk, Buffer.alloc(512 * 512, 0xee)); // 512 sectors: storage's [1024, 1536) is beyond it
    const r = await l4ts(['boot', MANIFEST, '--disk', disk]);
    const out = r.stdout + r.stderr;
    assert.match(out, /\[blk\] blk: client 5: virtual block device \[1024, 1536\) is beyond the disk \(512 sectors\): the manifest does not fit this disk/, out);
    assert.doesNotMatch(out, /test passed/, out);
    assert.ok(readFileSync(disk).every((b) => b === 0xee), 'the image changed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('storage: the root task hands out exactly the distribution the manifest implies', async () => {
  const m = loadManifest(MANIFEST, ['blk', null, null, null, null, null, null, null]);
  const images = await buildImages(m);
  const sys = bootSystem(m, images, { virtio: [new VirtioBlk(new MemoryBackend(1 << 20))] });
  assert.ok(runUntilRootDone(sys, 50_000_000), `root task did not finish: ${sys.kernel.lastKill}`);
  const caps = liveCaps(sys);
  assert.equal(caps, formatCaps(expectedCapabilities(m)));
  // The client's endpoint of the service carries Grant (the service is declared `grant`): its
  // connect passes its data frame. Others' services stay W.
  for (const b of [5, 6, 7]) assert.match(caps, new RegExp(`^names cspace Endpoint\\(svc:blk\\) WG badge=${b}$`, 'm'));
  assert.match(caps, /^names cspace Endpoint\(svc:console\) W badge=5$/m);
  // The service is ring-capable: each client holds its notification, RW.
  for (const c of ['storage', 'reader', 'ring-client']) assert.match(caps, new RegExp(`^${c} cspace Notification\\(ring:${c}\\) RW$`, 'm'));
  // ring-client's own service comes before it.
  assert.match(caps, /^ring-client cspace Endpoint\(svc:ring-status\) R$/m);
});
