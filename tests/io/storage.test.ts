// The virtio-blk driver in the booted system (manifests/storage.json): `l4ts boot` with --disk on
// a temporary image file starts the driver from the manifest; the storage client finds "blk"
// through the name service, connects with a frame from its quota, writes a pattern, reads it
// back and flushes; the host image file holds the pattern afterwards; a component without
// `uses: blk` is refused by the name service; the root task hands out the manifest's distribution.

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

const MANIFEST = join(PROJECT_ROOT, 'manifests', 'storage.json');

function l4ts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}

/** user/storage/main.ts's pattern: word i of sectors 0..7. */
function pattern(i: number): number {
  return (0x4c345453 ^ Math.imul(i, 0x9e3779b1)) >>> 0;
}

test('storage: the blk driver started from the manifest serves a client; the image file holds its pattern', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-storage-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 20, 0xee));
    const r = await l4ts(['boot', MANIFEST, '--disk', disk]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, /\[storage\] connected: 2048 sectors, read-write/, out);
    assert.match(out, /\[storage\] write 0, read 0, flush 0: pattern read back/, out);
    assert.match(out, /\[storage\] storage test passed/, out);
    assert.match(out, /\[intruder\] lookup of blk: -101 \(refused: not allowed\)/, out);
    assert.doesNotMatch(out, /\[blk\]|killed:|abort:/, out);
    const img = readFileSync(disk);
    for (let i = 0; i < 1024; i++) assert.equal(img.readUInt32LE(4 * i), pattern(i), `word ${i} of the image`);
    // The rest of the disk is untouched.
    for (let b = 4096; b < img.length; b++) if (img[b] !== 0xee) assert.fail(`byte ${b} of the image changed`);
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
  assert.match(caps, /^names cspace Endpoint\(svc:blk\) WG badge=7$/m);
  assert.match(caps, /^names cspace Endpoint\(svc:console\) W badge=7$/m);
});
