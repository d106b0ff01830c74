import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../clock.ts';
import { VirtualSwitch, macToString, parseMac } from './switch.ts';

/** An Ethernet frame dst ← src with a 2-byte payload. */
function frame(dst: string, src: string, payload = 0): Uint8Array {
  const f = new Uint8Array(16);
  f.set(parseMac(dst), 0);
  f.set(parseMac(src), 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f[14] = payload;
  return f;
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const BCAST = 'ff:ff:ff:ff:ff:ff';

function taps(sw: VirtualSwitch, n: number) {
  const got: Uint8Array[][] = [];
  const ports = [];
  for (let i = 0; i < n; i++) {
    const list: Uint8Array[] = [];
    got.push(list);
    ports.push(sw.attachTap((f) => list.push(f)));
  }
  return { got, ports };
}

test('switch: MAC parsing and printing', () => {
  assert.equal(macToString(parseMac('52-54-00-AB-cd-01')), '52:54:00:ab:cd:01');
  assert.throws(() => parseMac('52:54:00'), /not a MAC address/);
});

test('switch: unknown unicast and broadcast flood; learned unicast goes to one port', () => {
  const sw = new VirtualSwitch();
  const { got, ports } = taps(sw, 3);
  ports[0].send(frame(B, A, 1)); // B unknown: flood
  assert.deepEqual(got.map((g) => g.length), [0, 1, 1]);
  ports[1].send(frame(A, B, 2)); // A learned on port 0
  assert.deepEqual(got.map((g) => g.length), [1, 1, 1]);
  assert.equal(got[0][0][14], 2);
  ports[2].send(frame(BCAST, C, 3));
  assert.deepEqual(got.map((g) => g.length), [2, 2, 1]);
  ports[2].send(frame(B, C, 4)); // B learned on port 1
  assert.deepEqual(got.map((g) => g.length), [2, 3, 1]);
  assert.deepEqual(Object.fromEntries(sw.macTable()), { [A]: ports[0].id, [B]: ports[1].id, [C]: ports[2].id });
  assert.deepEqual(sw.stats, { frames: 4, flooded: 2, forwarded: 2, filtered: 0, runts: 0 });
});

test('switch: a frame to the ingress port is filtered; runts are dropped; a MAC that moves is relearned', () => {
  const sw = new VirtualSwitch();
  const { got, ports } = taps(sw, 2);
  ports[0].send(frame(BCAST, A));
  ports[0].send(frame(BCAST, B));
  ports[0].send(frame(A, B));
  assert.equal(sw.stats.filtered, 1);
  assert.equal(got[1].length, 2);
  ports[1].send(new Uint8Array(10));
  assert.equal(sw.stats.runts, 1);
  ports[1].send(frame(BCAST, A)); // A moved to port 1
  assert.equal(sw.macTable().get(A), ports[1].id);
});

test('switch: a detached port receives nothing and its addresses are forgotten', () => {
  const sw = new VirtualSwitch();
  const { got, ports } = taps(sw, 3);
  ports[1].send(frame(BCAST, B));
  ports[1].detach();
  assert.equal(sw.macTable().has(B), false);
  ports[0].send(frame(B, A));
  assert.deepEqual(got.map((g) => g.length), [1, 0, 2], 'B unknown again: flooded to the remaining ports');
  ports[1].send(frame(BCAST, B));
  assert.equal(got[0].length, 1, 'a detached port sends nothing');
});

test('switch: NIC deliveries are clock events on the receiver clock, each with its own copy', () => {
  const sw = new VirtualSwitch({ latencyCycles: 100, cyclesPerByte: 2 });
  const clockB = new VirtualClock();
  clockB.cycles = 5000;
  const got: Uint8Array[] = [];
  sw.connect({ receiveFrame: (f) => got.push(f) }, clockB);
  const { ports } = taps(sw, 1);
  const f = frame(BCAST, A);
  ports[0].send(f);
  f[14] = 99;
  assert.equal(got.length, 0);
  assert.equal(clockB.nextEventCycle(), 5000 + 100 + 2 * 16);
  clockB.skipToNextEvent();
  clockB.runDue();
  assert.equal(got.length, 1);
  assert.equal(got[0][14], 0, 'the receiver got a copy');
});

test('switch: a burst to one NIC is paced by the link and keeps its order, whatever the lengths', () => {
  const sw = new VirtualSwitch({ latencyCycles: 100, cyclesPerByte: 2 });
  const clock = new VirtualClock();
  const got: [number, number][] = [];
  sw.connect({ receiveFrame: (f) => got.push([f.length, clock.cycles]) }, clock);
  const { ports } = taps(sw, 1);
  const long = new Uint8Array(1000);
  long.set(frame(BCAST, A).subarray(0, 14));
  ports[0].send(long); // on the link for cycles 0..2000
  ports[0].send(frame(BCAST, A)); // then 2000..2032
  while (clock.skipToNextEvent()) clock.runDue();
  assert.deepEqual(got, [[1000, 2100], [16, 2132]]);
  // Once the link is idle again, a frame starts at once.
  ports[0].send(frame(BCAST, A));
  clock.skipToNextEvent();
  clock.runDue();
  assert.deepEqual(got[2], [16, 2132 + 32 + 100]);
});
