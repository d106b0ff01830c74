// The virtio-net drivers in the booted system (manifests/network.json): `l4ts boot` puts a
// virtio-net NIC in each slot the manifest expects "net" in (slots 0 and 1, one switch); each
// driver is started from the manifest with its IRQ forwarder; the echo service on NIC 0 and two
// clients on NIC 1 find their driver through the name service and connect with frames from
// their quota; frames go from NIC 1 through the switch to the echo service and back, through the
// synchronous interface (ping) and the rings (ping-ring), and are checked byte for byte; a frame
// with another client's source address is refused, and so are a second connect and a connect
// with an endpoint in place of the notification; the root task hands out the manifest's
// distribution and the settled system holds nothing the manifest does not explain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedCapabilities, formatCaps } from '../../src/manifest/caps.ts';
import { loadManifest, buildImages, bootSystem, runUntilRootDone, liveCaps, boardNics, bootBoardKinds, netSlots, nicMac, PROJECT_ROOT } from '../../src/cli/boot.ts';

const MANIFEST = join(PROJECT_ROOT, 'manifests', 'network.json');

function l4ts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}

test('network: the echo service on NIC 0 sends back what the sync and the ring client on NIC 1 send it, byte for byte', async () => {
  const r = await l4ts(['boot', MANIFEST]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  assert.match(out, /\[echo\] connected to net0 as 02:00:00:00:01:01, echoing/, out);
  assert.match(out, /\[ping\] connected to net1 as 02:00:00:00:02:01/, out);
  assert.match(out, /\[ping-ring\] connected to net1 with rings as 02:00:00:00:02:02/, out);
  assert.match(out, /\[ping\] sync: 3 frames sent to 02:00:00:00:01:01, 3 came back intact; a frame from another's address: 3 \(refused\)/, out);
  assert.match(out, /\[ping\] second connect: 3 \(refused\)/, out);
  assert.match(out, /\[ping-ring\] connect with an endpoint as its notification: 3 \(refused\)/, out);
  assert.match(out, /\[ping\] ping test passed/, out);
  assert.match(out, /\[ping-ring\] ring: 4 frames sent to 02:00:00:00:01:01 \(4 taken\), 4 came back intact/, out);
  assert.match(out, /\[ping-ring\] ping-ring test passed/, out);
  // The echo service saw exactly the seven honest frames, each from its sender's own address.
  const echoed = [...out.matchAll(/\[echo\] echoed frame \d+ \((\d+) bytes\) to (\S+): 0/g)].map((m) => `${m[2]} ${m[1]}`).sort();
  assert.deepEqual(echoed, [
    '02:00:00:00:02:01 1514', '02:00:00:00:02:01 60', '02:00:00:00:02:01 800',
    '02:00:00:00:02:02 1000', '02:00:00:00:02:02 1514', '02:00:00:00:02:02 333', '02:00:00:00:02:02 60',
  ], out);
  assert.doesNotMatch(out, /^\[net[01](-irq)?\]|killed:|abort:|FAILED/m, out);
});

test('network: the root task hands out exactly the distribution the manifest implies', async () => {
  const kinds = bootBoardKinds(MANIFEST, 0);
  assert.deepEqual(kinds, ['net', 'net', null, null, null, null, null, null]);
  const m = loadManifest(MANIFEST, kinds);
  assert.deepEqual(netSlots(m), [0, 1]);
  const images = await buildImages(m);
  const { nics } = boardNics(netSlots(m));
  assert.deepEqual([...nics.keys()], [0, 1]);
  assert.equal(nicMac(1), '52:54:00:12:34:01');
  const sys = bootSystem(m, images, { virtio: [nics.get(0), nics.get(1)] });
  assert.ok(runUntilRootDone(sys, 50_000_000), `root task did not finish: ${sys.kernel.lastKill}`);
  const caps = liveCaps(sys);
  assert.equal(caps, formatCaps(expectedCapabilities(m)));
  // Clients connect with Grant; each client holds its notification; a forwarder holds only its
  // driver's interrupt notification and endpoint (besides what every component holds).
  for (const [c, b] of [['echo', 5], ['ping', 6], ['ping-ring', 7]] as const) {
    assert.match(caps, new RegExp(`^names cspace Endpoint\\(svc:net[01]\\) WG badge=${b}$`, 'm'));
    assert.match(caps, new RegExp(`^${c} cspace Notification\\(ring:${c}\\) RW$`, 'm'));
  }
  for (const d of ['net0', 'net1']) {
    const fwd = caps.split('\n').filter((l) => l.startsWith(`${d}-irq cspace `) && !/Task\(|Endpoint\(pager\)/.test(l));
    assert.deepEqual(fwd, [`${d}-irq cspace Endpoint(svc:${d}) W`, `${d}-irq cspace Notification(irq:${d}) R`]);
  }
});

test('network: --caps after the run explains every capability (the drivers hold what their clients passed on at connect)', async () => {
  const r = await l4ts(['boot', MANIFEST, '--caps']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /caps: (unexplained|missing)/, r.stderr);
  for (const l of [
    'net0 cspace Frame(quota:echo, 4 pages) RWX', 'net0 cspace Notification(ring:echo) RW',
    'net1 cspace Frame(quota:ping, 4 pages) RWX', 'net1 cspace Notification(ring:ping) RW',
    'net1 cspace Frame(quota:ping-ring, 6 pages) RWX', 'net1 cspace Notification(ring:ping-ring) RW',
    'ping cspace Endpoint(svc:net1) WG badge=6', 'ping-ring cspace Endpoint(svc:net1) WG badge=7', 'echo cspace Endpoint(svc:net0) WG badge=5',
  ]) assert.ok(r.stdout.split('\n').includes(l), `missing ${l}\n${r.stdout}`);
  // Nothing of one NIC's clients reaches the other NIC's driver.
  assert.doesNotMatch(r.stdout, /^net0 .*(ping|ping-ring)\b|^net1 .*echo\b/m, r.stdout);
});

test('network: a disk in a slot the manifest expects a NIC in is refused before boot', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-network-'));
  try {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, Buffer.alloc(1 << 16));
    const r = await l4ts(['boot', MANIFEST, '--disk', disk]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /network\.json:\d+:\d+: manifest: components\[8\]\.devices\[0\]\.expect: virtio slot 0 holds a blk device, not the net device "net0" expects/, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
