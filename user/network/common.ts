// Shared by the network clients of manifests/network.json (echo.ts, ping.ts, ring.ts): finding
// a virtio-net driver's service, taking frames from the component's own quota, connecting
// (NET_OP_CONNECT, docs/DRIVERS.md "Started from a manifest (network driver)"), and building
// and checking Ethernet frames.
import { call, getMr, msgInfo, Err, CompSlot, Method, Rights, invoke, setXferCaps } from '../lib/l4';
import { MemoryClient, MemoryShareAllocResult } from '../lib/gen/memory';
import { print, findService } from '../lib/console';
import { NET_OP_CONNECT, NET_ETHERTYPE, BLK_S_OK, BLK_S_DENIED } from '../lib/io-proto';
import { ringInit } from '../lib/ring';
import { ringNotificationSlot } from '../lib/startinfo';

/** The echo service's MAC address (manifests/network.json netDevices of "net0"): the ping
 *  clients send to it. */
export const ECHO_MAC_LO: u32 = 0x00_00_00_02; // 02:00:00:00
export const ECHO_MAC_HI: u32 = 0x01_01; //         :01:01

export const NET_SLOT = 200;
export const FRAME = 201;
export const RING_FRAME = 202;
/** The notification the manifest gives a client of a ring-capable service (every virtio-net
 *  service is one): its slot, from the start information's capability directory, set by
 *  connectNet. */
export let NTFN = 0;
/** Where the data frame (4 pages) and the ring frame (2 pages: TX ring, RX ring) are mapped. */
export const REGION: u32 = 0x5000_0000;
export const TX_RING: i32 = 0x5100_0000;
export const RX_RING: i32 = 0x5100_1000;

/** The client's own MAC, as the driver told it at connect (bytes 0..3, 4..5, little endian). */
export let myLo: u32 = 0;
export let myHi: u32 = 0;

export function macString(lo: u32, hi: u32): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = i < 4 ? (lo >> (8 * i)) & 0xff : (hi >> (8 * (i - 4))) & 0xff;
    if (i > 0) s += ':';
    s += (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

/** Look `service` up, take a 4-page data frame (and with `ring` a 2-page ring frame) from the
 *  quota, map them (initialising the rings), and connect (with the rings: after a connect the
 *  driver must refuse). Returns the endpoint slot, or 0 after printing why not. */
export function connectNet(service: string, ring: bool): i32 {
  NTFN = ringNotificationSlot(service);
  if (NTFN == 0) { print('no notification for ' + service + ' in the start information'); return 0; }
  const ep = findService(service, NET_SLOT);
  if (ep <= 0) { print('lookup of ' + service + ' failed: ' + ep.toString()); return 0; }
  const mem = new MemoryClient(CompSlot.Memory);
  const r = new MemoryShareAllocResult();
  mem.recvSlot = FRAME;
  let e = mem.shareAlloc(4, r);
  if (e != 0 || r.frame == 0) { print('shareAlloc failed: ' + e.toString()); return 0; }
  e = invoke(FRAME, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  if (e != 0) { print('cannot map the data frame: ' + e.toString()); return 0; }
  if (ring) {
    mem.recvSlot = RING_FRAME;
    e = mem.shareAlloc(2, r);
    if (e != 0 || r.frame == 0) { print('shareAlloc of the rings failed: ' + e.toString()); return 0; }
    e = invoke(RING_FRAME, Method.FrameMap, CompSlot.Task, TX_RING, Rights.Read | Rights.Write);
    if (e != 0) { print('cannot map the rings: ' + e.toString()); return 0; }
    ringInit(TX_RING);
    ringInit(RX_RING);
    // First a connect with our endpoint in place of the notification (a signal to it would
    // block the driver): the driver must refuse it, and take the good one after.
    setXferCaps(FRAME, NET_SLOT, RING_FRAME);
    e = call(ep, msgInfo(NET_OP_CONNECT, 0, 3));
    const bad = e != Err.Ok ? 100 + e : getMr(0);
    print('connect with an endpoint as its notification: ' + bad.toString() + (bad == BLK_S_DENIED ? ' (refused)' : ' (NOT refused)'));
    if (bad != BLK_S_DENIED) return 0;
    setXferCaps(FRAME, NTFN, RING_FRAME);
  } else {
    setXferCaps(FRAME, NTFN);
  }
  e = call(ep, msgInfo(NET_OP_CONNECT, 0, ring ? 3 : 2));
  setXferCaps(0);
  if (e != Err.Ok || getMr(0) != BLK_S_OK) { print('connect refused: ' + e.toString() + '/' + getMr(0).toString()); return 0; }
  myLo = <u32>getMr(1);
  myHi = <u32>getMr(2) & 0xffff;
  return ep;
}

function pattern(seq: u32, i: u32): u8 {
  let x = (seq * 0x9e3779b1) ^ (i * 0x85ebca6b) ^ 0x4e455421;
  x ^= x >> 15;
  x *= 0x2c1b3c6d;
  x ^= x >> 13;
  return <u8>x;
}

function putMac(at: u32, lo: u32, hi: u32): void {
  for (let i: u32 = 0; i < 4; i++) store<u8>(at + i, <u8>(lo >> (8 * i)));
  store<u8>(at + 4, <u8>hi);
  store<u8>(at + 5, <u8>(hi >> 8));
}

function macIs(at: u32, lo: u32, hi: u32): bool {
  for (let i: u32 = 0; i < 4; i++) if (load<u8>(at + i) != <u8>(lo >> (8 * i))) return false;
  return load<u8>(at + 4) == <u8>hi && load<u8>(at + 5) == <u8>(hi >> 8);
}

/** Frame `seq` of `len` bytes at byte `off` of the data frame: to the echo service, from
 *  (srcLo, srcHi), our ethertype, then seq and a pattern. */
export function buildFrame(off: u32, seq: u32, len: u32, srcLo: u32, srcHi: u32): void {
  const f = REGION + off;
  putMac(f, ECHO_MAC_LO, ECHO_MAC_HI);
  putMac(f + 6, srcLo, srcHi);
  store<u8>(f + 12, <u8>(NET_ETHERTYPE >> 8));
  store<u8>(f + 13, <u8>NET_ETHERTYPE);
  store<u32>(f + 14, seq);
  for (let i: u32 = 18; i < len; i++) store<u8>(f + i, pattern(seq, i));
}

/** The echo of frame `seq` at `off`: `len` bytes, to us, from the echo service, payload intact. */
export function checkEcho(off: u32, seq: u32, len: u32, got: i32): bool {
  const f = REGION + off;
  if (<u32>got != len || !macIs(f, myLo, myHi) || !macIs(f + 6, ECHO_MAC_LO, ECHO_MAC_HI)) return false;
  if (load<u32>(f + 14) != seq) return false;
  for (let i: u32 = 18; i < len; i++) if (load<u8>(f + i) != pattern(seq, i)) return false;
  return true;
}

/** Turn a received frame around in place: destination = its source, source = us. Returns the
 *  sender's address (lo in the result's low word... as a string for the log). */
export function turnAround(off: u32): string {
  const f = REGION + off;
  let lo: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) lo |= (<u32>load<u8>(f + 6 + i)) << (8 * i);
  const hi: u32 = (<u32>load<u8>(f + 10)) | ((<u32>load<u8>(f + 11)) << 8);
  putMac(f, lo, hi);
  putMac(f + 6, myLo, myHi);
  return macString(lo, hi);
}
