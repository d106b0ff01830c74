// The user-level network driver (docs/DRIVERS.md "Network"): two NICs on the machine's virtual
// switch, one driver each; frames round-trip between a ping client on one NIC and an echo
// service on the other, through the synchronous interface and through the rings at once, each
// frame delivered to the client that owns its destination MAC address and checked byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioNet } from '../../src/machine/virtio/net.ts';
import { VirtualSwitch } from '../../src/machine/virtio/switch.ts';
import * as P from '../../user/lib/io-proto.ts';
import { Rig, buildNetSystem, startNetSystems, macWords } from './rig.ts';

test('net: 1500-byte frames round-trip between two NICs through sync IPC and rings, demultiplexed by MAC address; spoofed source addresses refused, a corrupted ring disconnected', { timeout: 240_000 }, async () => {
  const sw = new VirtualSwitch();
  const nics = [new VirtioNet({ mac: '52:54:00:00:00:01', network: sw }), new VirtioNet({ mac: '52:54:00:00:00:02', network: sw })];
  const rig = new Rig({ nics });
  const a1 = macWords(0, 1), a2 = macWords(0, 2), b1 = macWords(1, 1), b2 = macWords(1, 2);
  const s0 = await buildNetSystem(rig, 0, [
    { mode: P.NM_PING_SYNC, ops: 60, qd: 4, mac: a1, peer: b1, len: 1500, seed: 11 },
    { mode: P.NM_PING_RING, ops: 120, qd: 16, mac: a2, peer: b2, len: 1500, seed: 22 },
    { mode: P.NM_SPOOF, mac: macWords(0, 3), peer: b1 },
  ]);
  const s1 = await buildNetSystem(rig, 1, [
    { mode: P.NM_ECHO_SYNC, mac: b1 },
    { mode: P.NM_ECHO_RING, qd: 16, mac: b2 },
  ]);
  startNetSystems(rig, [s0, s1]);
  rig.runUntilDone(s0.clients, 1e9);
  // The spoofing client's frames with another source address, from outside its data frame or
  // too long were all refused; only its one honest frame went out.
  assert.deepEqual(s0.clients.map((p) => p.status), [0, 0, 0], rig.log);
  // ... and then corrupted its ring indices: its rings were disconnected, nobody else noticed.
  assert.match(rig.log, /net: client 3: impossible request producer index; ring disconnected/);
  assert.deepEqual(s1.clients.map((p) => p.status), [null, null], 'the echo services keep running');
  assert.equal(s0.driver.status, null);
  assert.equal(s1.driver.status, null);
  assert.equal(nics[0].stats.txFrames, 181);
  assert.equal(nics[1].stats.rxFrames, 181);
  assert.equal(nics[0].stats.rxFrames, 181);
  assert.equal(nics[0].stats.rxDropped + nics[1].stats.rxDropped, 0);
  assert.equal(rig.board.iommu.faultTotal, 0);
});

test('net: a NIC whose only client uses the rings receives straight into the client\'s posted buffers (no copy); frames still checked byte for byte', { timeout: 240_000 }, async () => {
  const sw = new VirtualSwitch();
  const nics = [new VirtioNet({ mac: '52:54:00:00:00:01', network: sw }), new VirtioNet({ mac: '52:54:00:00:00:02', network: sw })];
  const rig = new Rig({ nics });
  const a = macWords(0, 1), b = macWords(1, 1);
  const s0 = await buildNetSystem(rig, 0, [{ mode: P.NM_PING_RING, ops: 300, qd: 64, mac: a, peer: b, len: 1500, seed: 33 }], P.DRV_F_VERBOSE);
  const s1 = await buildNetSystem(rig, 1, [{ mode: P.NM_ECHO_RING, qd: 64, mac: b }], P.DRV_F_VERBOSE);
  startNetSystems(rig, [s0, s1]);
  rig.runUntilDone(s0.clients, 1e9);
  assert.equal(s0.clients[0].status, 0, rig.log);
  assert.equal((rig.log.match(/direct receive/g) ?? []).length, 2);
  assert.equal(nics[0].stats.rxFrames, 300);
  assert.equal(nics[0].stats.rxDropped + nics[1].stats.rxDropped, 0);
  assert.equal(rig.board.iommu.faultTotal, 0);
});
