// The user-level network driver (docs/DRIVERS.md "Network"): two NICs on the machine's virtual
// switch, one driver each; frames round-trip between a ping client on one NIC and an echo
// service on the other, through the synchronous interface and through the rings at once, each
// frame delivered to the client that owns its destination MAC address and checked byte for byte;
// and a driver variant whose misdirected DMA the IOMMU refuses: its device needs a reset, the
// driver resets it and serves again, with two other NICs going on.

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

test('net: a driver that programs DMA outside its windows is stopped by the IOMMU and reported; memory untouched; the device needs a reset, the driver resets it, fails the buffers in flight and serves again; the other NICs go on', { timeout: 240_000 }, async () => {
  const sw = new VirtualSwitch();
  const nics = [1, 2, 3].map((i) => new VirtioNet({ mac: `52:54:00:00:00:0${i}`, network: sw }));
  const rig = new Rig({ nics });
  const a = macWords(0, 1), b1 = macWords(1, 1), b2 = macWords(1, 2), c = macWords(2, 1);
  // NIC 0: the misbehaving driver, its only client on the rings (direct receive: the device
  // writes received frames straight into buffers the driver names, so the misdirected one is a
  // device write outside the windows). The client's data frame has 1 MiB nobody maps just below
  // it, where the misdirected buffer points, filled with a pattern so that any write shows. The
  // ping client takes losses (NC_LOSSY): buffers failed by a reset are posted again, echoes that
  // never come are counted lost.
  const s0 = await buildNetSystem(rig, 0, [{ mode: P.NM_PING_RING, ops: 80, qd: 16, mac: a, peer: b1, len: 1500, seed: 44, guardBelow: true, lossy: true }], P.DRV_F_EVIL_DMA | P.DRV_F_VERBOSE);
  const s1 = await buildNetSystem(rig, 1, [{ mode: P.NM_ECHO_SYNC, mac: b1 }, { mode: P.NM_ECHO_RING, qd: 16, mac: b2 }]);
  const s2 = await buildNetSystem(rig, 2, [{ mode: P.NM_PING_RING, ops: 120, qd: 16, mac: c, peer: b2, len: 1500, seed: 55 }]);
  const spare = s0.guards[0];
  const off = spare.pa - rig.board.dram.base;
  rig.board.dram.u8.fill(0xa5, off, off + spare.bytes);
  const target = s0.dataPa[0] - 0x10_0000;
  assert.ok(target >= spare.pa && target + 4096 <= spare.pa + spare.bytes, 'the target lies in the unmapped frame');
  startNetSystems(rig, [s0, s1, s2]);
  rig.runUntilDone([...s0.clients, ...s2.clients], 1e9);
  assert.equal((rig.log.match(/net: \(evil variant\) programming receive DMA/g) ?? []).length, 1, 'misdirected once');
  const faults = rig.board.iommu.faults();
  assert.equal(faults.length, 1, 'the IOMMU recorded the refused access, and nothing after the reset');
  assert.equal(faults[0].device, 0, 'NIC 0 (IOMMU device 0) made it');
  assert.equal(Number(faults[0].addr), target);
  assert.ok(rig.board.dram.u8.subarray(off, off + spare.bytes).every((x) => x === 0xa5), 'the refused DMA touched no memory');
  // The refused write is a device error (virtio-net has no per-buffer status): the device needs
  // a reset; the driver logs it, resets the device, answers the receive buffers it held with an
  // I/O error, initialises it again and serves on.
  assert.equal((rig.log.match(/net: device needs reset \(DEVICE_NEEDS_RESET\): resetting the device/g) ?? []).length, 1, rig.log);
  assert.match(rig.log, /resetting the device \(reset 1, 1 in a row\), failing 16 receive buffer\(s\) in flight with an I\/O error/);
  assert.match(rig.log, /net: device re-initialised, serving again/);
  assert.equal(s0.driver.status, null, rig.log);
  // The ping client was told (its 16 posted buffers failed), posted them again, and frames
  // round-trip again: most of its 80 echoes came back intact, checked byte for byte.
  assert.equal(s0.clients[0].status, 0, rig.log);
  const m = /ping: (\d+) echoes intact, (\d+) receive buffer\(s\) and 0 transmit\(s\) failed with an I\/O error, (\d+) frame\(s\) lost/.exec(s0.clients[0].output);
  assert.ok(m !== null, rig.log);
  const [intact, failed, lost] = [Number(m[1]), Number(m[2]), Number(m[3])];
  assert.equal(failed, 16, 'its 16 posted buffers failed');
  assert.ok(lost >= 1, 'the frame whose write was refused never reached it');
  assert.ok(intact >= 80 - 16, `${intact} echoes intact`);
  assert.ok(nics[0].stats.rxFrames >= intact);
  // Nothing else noticed.
  assert.equal(s2.clients[0].status, 0, rig.log);
  assert.deepEqual(s1.clients.map((p) => p.status), [null, null], 'the echo services keep running');
  assert.equal(s1.driver.status, null);
  assert.equal(s2.driver.status, null);
  assert.ok(nics[2].stats.rxFrames >= 120); // plus frames the switch floods to every port
  assert.equal(nics[1].stats.rxDropped + nics[2].stats.rxDropped, 0);
});

test('net: copying receive: a transmit the device fails on (DEVICE_NEEDS_RESET) is answered IOERR to its synchronous caller, the driver resets the device, the frame sent again and both clients\' frames round-trip again', { timeout: 240_000 }, async () => {
  const sw = new VirtualSwitch();
  const nics = [new VirtioNet({ mac: '52:54:00:00:00:01', network: sw }), new VirtioNet({ mac: '52:54:00:00:00:02', network: sw })];
  const rig = new Rig({ nics });
  const a1 = macWords(0, 1), a2 = macWords(0, 2), b1 = macWords(1, 1), b2 = macWords(1, 2);
  // Two clients on NIC 0, so the driver receives into its own buffers and copies; the evil
  // variant then misdirects the first transmitted frame (the synchronous client's, which starts
  // first). Both pings take losses (NC_LOSSY: a transmit answered IOERR is sent again).
  const s0 = await buildNetSystem(rig, 0, [
    { mode: P.NM_PING_SYNC, ops: 60, qd: 4, mac: a1, peer: b1, len: 1500, seed: 11, lossy: true },
    { mode: P.NM_PING_RING, ops: 120, qd: 16, mac: a2, peer: b2, len: 1500, seed: 22, lossy: true },
  ], P.DRV_F_EVIL_DMA | P.DRV_F_VERBOSE);
  const s1 = await buildNetSystem(rig, 1, [{ mode: P.NM_ECHO_SYNC, mac: b1 }, { mode: P.NM_ECHO_RING, qd: 16, mac: b2 }]);
  startNetSystems(rig, [s0, s1]);
  rig.runUntilDone(s0.clients, 1e9);
  assert.deepEqual(s0.clients.map((p) => p.status), [0, 0], rig.log);
  assert.match(rig.log, /net: \(evil variant\) programming transmit DMA/);
  const faults = rig.board.iommu.faults();
  assert.equal(faults.length, 1, 'one refused access');
  assert.equal(faults[0].device, 0);
  assert.equal(Number(faults[0].addr), s0.dataPa[0] - 0x10_0000);
  assert.equal((rig.log.match(/net: device needs reset \(DEVICE_NEEDS_RESET\): resetting the device \(reset 1, 1 in a row\)/g) ?? []).length, 1, rig.log);
  assert.match(rig.log, /net: device re-initialised, serving again/);
  assert.equal(s0.driver.status, null);
  const report = (p: { output: string }): number[] => {
    const m = /ping: (\d+) echoes intact, (\d+) receive buffer\(s\) and (\d+) transmit\(s\) failed with an I\/O error, (\d+) frame\(s\) lost/.exec(p.output);
    assert.ok(m !== null, rig.log);
    return m.slice(1).map(Number);
  };
  const [syncIntact, , syncTxErrors] = report(s0.clients[0]);
  const [ringIntact] = report(s0.clients[1]);
  assert.equal(syncTxErrors, 1, 'the synchronous caller got IOERR for the frame the device failed on, and sent it again');
  assert.ok(syncIntact >= 60 - 4, `${syncIntact} of 60 echoes intact`);
  assert.ok(ringIntact >= 120 - 16, `${ringIntact} of 120 echoes intact`);
});

test('net: a NIC that fails again and again: the driver gives up after 3 resets in a row and stops; the other NIC goes on', { timeout: 120_000 }, async () => {
  const sw = new VirtualSwitch();
  const nics = [1, 2, 3].map((i) => new VirtioNet({ mac: `52:54:00:00:00:0${i}`, network: sw }));
  const rig = new Rig({ nics });
  const a = macWords(0, 1), b = macWords(1, 1), c = macWords(2, 1);
  const s0 = await buildNetSystem(rig, 0, [{ mode: P.NM_PING_RING, ops: 20, qd: 4, mac: a, peer: b, len: 1500, seed: 1, lossy: true }]);
  const s1 = await buildNetSystem(rig, 1, [{ mode: P.NM_ECHO_RING, qd: 16, mac: b }]);
  const s2 = await buildNetSystem(rig, 2, [{ mode: P.NM_PING_RING, ops: 60, qd: 16, mac: c, peer: b, len: 1500, seed: 2 }]);
  startNetSystems(rig, [s0, s1, s2]);
  // From now on NIC 0 fails whatever it is given (every notify).
  const host = (nics[0] as unknown as { host: { fail(reason: string): void } }).host;
  nics[0].notify = () => host.fail('test: a device that fails whatever it is given');
  rig.runUntilDone([s0.driver, ...s2.clients], 1e9);
  assert.equal(s0.driver.status, 2, rig.log);
  assert.equal((rig.log.match(/net: device needs reset \(DEVICE_NEEDS_RESET\): resetting the device/g) ?? []).length, 4, rig.log);
  assert.match(rig.log, /resetting the device \(reset 4, 4 in a row\)/);
  assert.match(rig.log, /net: device failed 4 times in a row without using a buffer: giving up, no longer serving/);
  assert.equal(s2.clients[0].status, 0, rig.log);
  assert.equal(s2.driver.status, null);
  assert.equal(rig.board.iommu.faultTotal, 0);
});
