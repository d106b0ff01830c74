// Test and benchmark client of the network driver: an echo service (sends every frame back to
// its sender) and a ping client (sends `ops` frames of `len` bytes to a peer, `qd` in flight,
// and checks every echo), each through the synchronous interface or the rings. main() returns
// 0 on success, otherwise the number of failures.

import { sysCall, sysNbSend, sysRecv, res, peek, poke, msgInfo } from '../util';
import {
  START_VA, RINGS_VA, DATA_VA, NET_RX_RING_VA, CC_MAGIC, CFG_MAGIC_CLIENT, CC_EP, CC_NTFN, CC_MODE, CC_OPS,
  CC_QD, CC_SEED, CC_DATA_OFF, NC_PEER_LO, NC_PEER_HI, NC_LEN, NC_FAST, NM_ECHO_SYNC, NM_ECHO_RING, NM_PING_SYNC,
  NM_PING_RING, NM_SPOOF, NET_OP_TX, NET_OP_RX, NET_OP_INFO, NET_KICK, NET_S_EMPTY, NET_ETHERTYPE, BLK_S_OK,
  NREQ_ID, NREQ_OFFSET, NREQ_LEN, NRSP_ID, NRSP_STATUS, NRSP_LEN, RING_RSP_EVENT,
  NC_LOSSY, NC_LOSS_TICKS, BLK_S_IOERR,
} from '../../lib/io-proto';
import { ringEntry, ringInit, ringPushRequests, ringResponsesAvailable, ringFinalCheckResponses } from '../../lib/ring';

const START: i32 = <i32>START_VA;
const TXR: i32 = <i32>RINGS_VA;
const RXR: i32 = <i32>NET_RX_RING_VA;
const DATA: i32 = <i32>DATA_VA;
const SLOT = 2048; // bytes per frame buffer in the data frame
const ROOM = 1536;

function cfg(i: i32): i32 { return peek(START + 4 * i); }

let ep = 0;
let ntfn = 0;
let myLo = 0;
let myHi = 0;
let peerLo = 0;
let peerHi = 0;
let seed: u32 = 1;
let dataOff = 0;
let failures = 0;
let fast = false;
const built = new StaticArray<bool>(128);

function pattern(seq: u32, j: u32): i32 {
  let x = seed ^ (seq * 0x9e3779b1) ^ (j * 0x85ebca6b);
  x ^= x >> 15;
  x *= 0x2c1b3c6d;
  x ^= x >> 12;
  return <i32>x;
}

/** Frame `seq` of `len` bytes to the peer in buffer `buf` (an offset in the data frame). */
function build(buf: i32, seq: u32, len: i32): void {
  const f = DATA + buf;
  poke(f, peerLo);
  poke(f + 4, (peerHi & 0xffff) | (myLo << 16));
  poke(f + 8, (<i32>(<u32>myLo >> 16)) | (myHi << 16));
  poke(f + 12, ((NET_ETHERTYPE >> 8) & 0xff) | ((NET_ETHERTYPE & 0xff) << 8) | (<i32>(seq & 0xffff) << 16));
  poke(f + 16, <i32>seq);
  if (fast) {
    // Benchmark mode: the payload does not depend on seq; write it once per buffer.
    const b = (buf - dataOff) / SLOT;
    if (built[b]) return;
    built[b] = true;
    for (let w = 20; w < len; w += 4) poke(f + w, pattern(0, <u32>w));
    return;
  }
  for (let w = 20; w < len; w += 4) poke(f + w, pattern(seq, <u32>w));
}

/** Check an echoed frame: addressed to us, from the peer, payload intact. Returns its seq. */
function check(buf: i32, len: i32, want: i32): u32 {
  const f = DATA + buf;
  const seq = <u32>peek(f + 16);
  let ok = len == want && peek(f) == myLo && (peek(f + 4) & 0xffff) == (myHi & 0xffff);
  ok = ok && (<u32>peek(f + 4) >> 16) == (<u32>peerLo & 0xffff);
  if (fast) {
    ok = ok && peek(f + 20) == pattern(0, 20) && peek(f + ((len - 4) & ~3)) == pattern(0, <u32>((len - 4) & ~3));
  } else {
    for (let w = 20; ok && w + 4 <= len; w += 4) if (peek(f + w) != pattern(seq, <u32>w)) ok = false;
  }
  if (!ok) failures++;
  return seq;
}

/** Turn a received frame around in place: destination = its source, source = us. */
function turn(buf: i32): void {
  const f = DATA + buf;
  const w1 = peek(f + 4);
  const w2 = peek(f + 8);
  const srcLo = (<i32>(<u32>w1 >> 16)) | (w2 << 16);
  const srcHi = <i32>(<u32>w2 >> 16) & 0xffff;
  poke(f, srcLo);
  poke(f + 4, srcHi | (myLo << 16));
  poke(f + 8, (<i32>(<u32>myLo >> 16)) | (myHi << 16));
}

// ---- synchronous interface ----------------------------------------------------------------------

function syncTx(buf: i32, len: i32): void {
  let st = sysCall(ep, msgInfo(NET_OP_TX, 2), buf, len, 0, 0, 0) != 0 ? -1 : res(2);
  // NC_LOSSY: the device failed on the frame (and is being reset): send it again.
  for (let tries = 0; lossy && st == BLK_S_IOERR && tries < 8; tries++) {
    txErrors++;
    st = sysCall(ep, msgInfo(NET_OP_TX, 2), buf, len, 0, 0, 0) != 0 ? -1 : res(2);
  }
  if (st != BLK_S_OK) failures++;
}

/** Receive one frame into `buf` (waiting for it); returns its length. With NC_LOSSY, -1 when
 *  nothing came for NC_LOSS_TICKS. */
function syncRx(buf: i32): i32 {
  while (true) {
    if (sysCall(ep, msgInfo(NET_OP_RX, 2), buf, ROOM, 0, 0, 0) != 0) { failures++; return 0; }
    const st = res(2);
    if (st == BLK_S_OK) return res(3);
    if (st != NET_S_EMPTY) { failures++; return 0; }
    if (sysRecv(ntfn, 0, 0, 0, 0, 0, lossy ? NC_LOSS_TICKS : 0) == ERR_TIMEOUT) return -1;
  }
  return 0;
}

// ---- rings --------------------------------------------------------------------------------------

let txProd: u32 = 0;
let txCons: u32 = 0;
let rxProd: u32 = 0;
let rxCons: u32 = 0;

function ringTx(id: i32, buf: i32, len: i32): void {
  const e = ringEntry(TXR, txProd++);
  poke(e + NREQ_ID, id);
  poke(e + NREQ_OFFSET, buf);
  poke(e + NREQ_LEN, len);
}

function ringPostRx(id: i32, buf: i32): void {
  const e = ringEntry(RXR, rxProd++);
  poke(e + NREQ_ID, id);
  poke(e + NREQ_OFFSET, buf);
  poke(e + NREQ_LEN, ROOM);
}

function kick(): void {
  const a = ringPushRequests(TXR, txProd);
  const b = ringPushRequests(RXR, rxProd);
  if (a || b) sysNbSend(ep, msgInfo(NET_KICK, 0), 0, 0, 0, 0, 0);
}

/** Consume transmit responses (buffers free again). */
function reapTx(): void {
  while (ringResponsesAvailable(TXR, txCons) != 0) {
    if (peek(ringEntry(TXR, txCons) + NRSP_STATUS) != BLK_S_OK) failures++;
    txCons++;
  }
}

/** Wait until at least `after` receive responses are there: the event threshold (rsp_event =
 *  cons + after) asks the driver to signal only then, so a batch costs one wake-up. With
 *  NC_LOSSY, false when NC_LOSS_TICKS passed without a signal. */
function waitRx(after: u32): bool {
  while (ringResponsesAvailable(RXR, rxCons) < after) {
    reapTx();
    poke(RXR + RING_RSP_EVENT, <i32>(rxCons + after));
    if (ringResponsesAvailable(RXR, rxCons) < after && sysRecv(ntfn, 0, 0, 0, 0, 0, lossy ? NC_LOSS_TICKS : 0) == ERR_TIMEOUT) return false;
  }
  return true;
}

// NC_LOSSY: what the ping counted.
const ERR_TIMEOUT = 9;
let lossy = false;
let intact = 0;
let rxErrors = 0;
let txErrors = 0;
let lost = 0;

function lossReport(): void {
  console.log('ping: ' + intact.toString() + ' echoes intact, ' + rxErrors.toString() + ' receive buffer(s) and ' +
    txErrors.toString() + ' transmit(s) failed with an I/O error, ' + lost.toString() + ' frame(s) lost');
}

// ---- modes --------------------------------------------------------------------------------------

function echo(ring: bool, ops: i32, qd: i32): i32 {
  // Buffers 0..qd-1 receive; each echo goes out of the buffer it came in.
  if (!ring) {
    for (let i = 0; ops == 0 || i < ops; i++) {
      const len = syncRx(dataOff);
      if (len == 0) continue;
      turn(dataOff);
      syncTx(dataOff, len);
    }
    return failures;
  }
  for (let i = 0; i < qd; i++) ringPostRx(i, dataOff + i * SLOT);
  kick();
  for (let n = 0; ops == 0 || n < ops; ) {
    waitRx(1);
    while (ringResponsesAvailable(RXR, rxCons) != 0) {
      const e = ringEntry(RXR, rxCons++);
      const id = peek(e + NRSP_ID);
      const len = peek(e + NRSP_LEN);
      if (peek(e + NRSP_STATUS) != BLK_S_OK || id < 0 || id >= qd) { failures++; continue; }
      const buf = dataOff + id * SLOT;
      turn(buf);
      ringTx(id, buf, len);
      // The transmit completes before the driver looks at the receive ring again (it serves
      // TX first), so the buffer can be posted for receive at once.
      ringPostRx(id, buf);
      n++;
    }
    kick();
  }
  return failures;
}

function ping(ring: bool, ops: i32, qd: i32, len: i32): i32 {
  // Transmit buffers qd..2qd-1, receive buffers 0..qd-1.
  let sent = 0;
  let got = 0;
  if (!ring) {
    while (got < ops) {
      while (sent < ops && sent - got < qd) {
        const buf = dataOff + (qd + (sent % qd)) * SLOT;
        build(buf, <u32>sent, len);
        syncTx(buf, len);
        sent++;
      }
      const n = syncRx(dataOff);
      if (n < 0) {
        // NC_LOSSY: nothing for NC_LOSS_TICKS: what is still out was lost on the way.
        lost += sent - got;
        got = sent;
        continue;
      }
      const before = failures;
      check(dataOff, n, len);
      if (failures == before) intact++;
      got++;
    }
    if (lossy) lossReport();
    return failures;
  }
  for (let i = 0; i < qd; i++) ringPostRx(i, dataOff + i * SLOT);
  while (got < ops) {
    while (sent < ops && sent - got < qd) {
      const buf = dataOff + (qd + (sent % qd)) * SLOT;
      build(buf, <u32>sent, len);
      ringTx(sent, buf, len);
      sent++;
    }
    kick();
    // Wake up when half of what is in flight has come back (at least one).
    const half = <u32>((sent - got) >> 1);
    // NC_LOSSY: woken by every echo, so a timeout is NC_LOSS_TICKS of silence.
    const came = waitRx(half > 0 && !lossy ? half : 1);
    while (ringResponsesAvailable(RXR, rxCons) != 0) {
      const e = ringEntry(RXR, rxCons++);
      const id = peek(e + NRSP_ID);
      const st = peek(e + NRSP_STATUS);
      if (lossy && st == BLK_S_IOERR && id >= 0 && id < qd) {
        // The device was reset with this buffer posted: post it again. The buffer failed, not
        // necessarily a frame: an echo still out comes back, or times out as lost.
        rxErrors++;
        ringPostRx(id, dataOff + id * SLOT);
        continue;
      }
      if (st != BLK_S_OK || id < 0 || id >= qd) { failures++; got++; continue; }
      const before = failures;
      check(dataOff + id * SLOT, peek(e + NRSP_LEN), len);
      if (failures == before) intact++;
      ringPostRx(id, dataOff + id * SLOT);
      got++;
    }
    if (!came && sent > got) {
      // Nothing for NC_LOSS_TICKS: what is still out was lost on the way.
      lost += sent - got;
      got = sent;
    }
  }
  reapTx();
  if (lossy) lossReport();
  return failures;
}

function spoof(): i32 {
  // A frame to the peer with somebody else's source address (the peer's own).
  const f = DATA + dataOff;
  build(dataOff, 0, 64);
  poke(f + 8, (<i32>(<u32>peerLo >> 16)) | (peerHi << 16));
  poke(f + 4, (peerHi & 0xffff) | (peerLo << 16));
  if (sysCall(ep, msgInfo(NET_OP_TX, 2), dataOff, 64, 0, 0, 0) != 0 || res(2) != 3) failures++;
  ringTx(1, dataOff, 64);
  // Outside the data frame, and too long.
  ringTx(2, 0x7fff_0000, 64);
  ringTx(3, dataOff, 9000);
  kick();
  let got = 0;
  while (got < 3) {
    if (ringResponsesAvailable(TXR, txCons) == 0) {
      if (!ringFinalCheckResponses(TXR, txCons, 1)) sysRecv(ntfn, 0, 0, 0, 0, 0, 0);
      continue;
    }
    if (peek(ringEntry(TXR, txCons) + NRSP_STATUS) != 3) failures++;
    txCons++;
    got++;
  }
  // Its own address works.
  build(dataOff, 0, 64);
  syncTx(dataOff, 64);
  // Finally garbage in both ring headers and an impossible producer index: the driver
  // disconnects the rings (and keeps serving everybody else).
  poke(RXR + 8, -1);
  poke(RXR + 12, 0x1234);
  poke(TXR, <i32>(txProd + 0x4000_0000));
  poke(RXR, <i32>(rxProd + 0x4000_0000));
  for (let i = 0; i < 20; i++) sysNbSend(ep, msgInfo(NET_KICK, 0), 0, 0, 0, 0, 0);
  // The synchronous interface still answers.
  if (sysCall(ep, msgInfo(NET_OP_INFO, 0), 0, 0, 0, 0, 0) != 0 || res(2) != BLK_S_OK) failures++;
  return failures;
}

export function main(): i32 {
  if (cfg(CC_MAGIC) != CFG_MAGIC_CLIENT) return 100;
  ep = cfg(CC_EP);
  ntfn = cfg(CC_NTFN);
  seed = <u32>cfg(CC_SEED);
  dataOff = cfg(CC_DATA_OFF);
  peerLo = cfg(NC_PEER_LO);
  peerHi = cfg(NC_PEER_HI);
  fast = cfg(NC_FAST) != 0;
  lossy = cfg(NC_LOSSY) != 0;
  if (sysCall(ep, msgInfo(NET_OP_INFO, 0), 0, 0, 0, 0, 0) != 0 || res(2) != BLK_S_OK) return 102;
  myLo = res(3);
  myHi = res(4);
  const mode = cfg(CC_MODE);
  const ops = cfg(CC_OPS);
  let qd = cfg(CC_QD);
  if (qd < 1) qd = 1;
  if (qd > 64) qd = 64;
  const ring = mode == NM_ECHO_RING || mode == NM_PING_RING || mode == NM_SPOOF;
  if (ring) { ringInit(TXR); ringInit(RXR); }
  if (mode == NM_ECHO_SYNC || mode == NM_ECHO_RING) return echo(ring, ops, qd);
  if (mode == NM_PING_SYNC || mode == NM_PING_RING) return ping(ring, ops, qd, cfg(NC_LEN));
  if (mode == NM_SPOOF) return spoof();
  return 101;
}
