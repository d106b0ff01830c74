// A driver restart its clients do not notice (docs/DRIVERS.md "Driver restart";
// manifests/blk-restart.json): `l4ts boot` with --disk on a temporary image file starts the
// virtio-blk driver in its crash variant (user/drivers/blk/crashy.ts), supervised (on-failure).
// A synchronous client (sync-writer) and a ring client (ring-writer) write patterns to their
// own partitions and read them back; the driver's first incarnation crashes after taking ring
// requests while it holds a synchronous call. The supervisor restarts it; the restarted driver
// finds both connections in its capability space and takes again the ring requests after the
// last published response; the synchronous call, aborted by the kernel, is made again by the
// client library. Both clients verify every byte, and the host image is exactly what they
// wrote. Without the recovery at start (the driver ignoring the connections it finds) the
// synchronous client's requests are refused and the ring client waits forever: this test fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedCapabilities, formatCaps } from '../../src/manifest/caps.ts';
import { loadManifest, buildImages, bootSystem, runUntilRootDone, liveCaps, PROJECT_ROOT } from '../../src/cli/boot.ts';
import { VirtioBlk } from '../../src/machine/virtio/blk.ts';
import { MemoryBackend } from '../../src/machine/virtio/blk-backend.ts';

const MANIFEST = join(PROJECT_ROOT, 'manifests', 'blk-restart.json');

function l4ts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}

/** The clients' patterns: word i of 4 KiB block b (user/storage/restart-sync.ts, restart-ring.ts). */
function pattern(seed: number, b: number, i: number): number {
  return (seed ^ Math.imul(b * 1024 + i, 0x9e3779b1)) >>> 0;
}

/** manifests/blk-restart.json's blockDevices (first byte on the disk) and what each client writes. */
const SYNC = { first: 1024 * 512, blocks: 24, seed: 0x53594e43 };
const RING = { first: 1536 * 512, blocks: 48, seed: 0x52494e47 };

/** The image after the run: the initial fill, the clients' blocks. */
function expectedImage(size: number): Buffer {
  const img = Buffer.alloc(size, 0xee);
  for (const c of [SYNC, RING]) {
    for (let b = 0; b < c.blocks; b++) for (let i = 0; i < 1024; i++) img.writeUInt32LE(pattern(c.seed, b, i), c.first + b * 4096 + 4 * i);
  }
  return img;
}

test('blk restart: the driver crashes mid-run and is restarted; its synchronous and ring clients lose no request and no byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-blk-restart-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20, 0xee));
    const r = await l4ts(['boot', MANIFEST, '--disk', disk]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout + r.stderr;
    // The crash (the crash variant, first incarnation only), the supervisor's restart.
    assert.match(out, /\[blk\] blk: \(crash variant\) crashing after taking 3 request\(s\) of client 6\n/, out);
    assert.match(out, /\[supervisor\] blk: wasm trap \(ebreak\) at pc 0x[0-9a-f]+, tval 0x[0-9a-f]+ \(generation 1\)\n/, out);
    assert.match(out, /\[supervisor\] blk: restarted, generation 2, fresh address space\n/, out);
    assert.equal(out.match(/crashing/g)?.length, 1, out);
    assert.equal(out.match(/blk: restarted, generation/g)?.length, 1, out);
    // The restarted driver finds both connections; the ring's requests after the last published
    // response (the 3 the dead driver had taken among them) are taken again.
    assert.match(out, /\[blk\] blk: restarted: client 5 connected again \(synchronous\)\n/, out);
    const redo = /\[blk\] blk: restarted: client 6 connected again with its ring: (\d+) request\(s\) after the last published response \(\d+\) to do\n/.exec(out);
    assert.ok(redo !== null, out);
    assert.ok(Number(redo[1]) > 3, out);
    // The synchronous call the dead driver held came back aborted and was made again.
    assert.match(out, /\[sync-writer\] request \d of sector \d+ aborted \(the driver stopped\): retrying \(1\/3\)\n/, out);
    assert.match(out, /\[sync-writer\] 24 blocks written and read back, 24 read again, flush 0; 1 aborted call\(s\) made again\n/, out);
    assert.match(out, /\[sync-writer\] sync-writer test passed/, out);
    // Every ring request was answered exactly once (the client checks each batch's ids).
    assert.match(out, /\[ring-writer\] 6 rounds of 8 blocks written and read back through the ring, 6 read again; 144 requests, 144 responses\n/, out);
    assert.match(out, /\[ring-writer\] ring-writer test passed/, out);
    assert.doesNotMatch(out, /FAILED|unexpected response|disconnected|gave up/, out);
    // Byte for byte: the clients' blocks, and nothing else changed.
    const img = readFileSync(disk);
    const want = expectedImage(1 << 20);
    assert.equal(img.length, want.length);
    for (let b = 0; b < img.length; b++) if (img[b] !== want[b]) assert.fail(`byte ${b} of the image: ${img[b]}, expected ${want[b]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blk restart: --caps after the run: the restarted driver holds exactly its clients\' connections, everything explained, nothing missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-blk-restart-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20, 0xee));
    const r = await l4ts(['boot', MANIFEST, '--disk', disk, '--caps']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /blk: restarted, generation 2/, r.stderr);
    assert.doesNotMatch(r.stderr, /l4ts: caps: (unexplained|missing)/, r.stderr);
    const lines = r.stdout.split('\n');
    assert.ok(lines.includes('blk cspace Notification(ring:ring-writer) RW'), r.stdout);
    // The supervisor holds the driver's thread and task (it is supervised).
    assert.ok(lines.some((l) => /^supervisor cspace Thread\(blk\)/.test(l)), r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('blk restart: the root task hands out exactly the distribution the manifest implies', async () => {
  const m = loadManifest(MANIFEST, ['blk', null, null, null, null, null, null, null]);
  const images = await buildImages(m);
  const sys = bootSystem(m, images, { virtio: [new VirtioBlk(new MemoryBackend(1 << 20))] });
  assert.ok(runUntilRootDone(sys, 50_000_000), `root task did not finish: ${sys.kernel.lastKill}`);
  assert.equal(liveCaps(sys), formatCaps(expectedCapabilities(m)));
});
